#!/usr/bin/env bash
# Run records know their market and interval (schema 6): each sync run of several
# intervals records its own, and its symbol outcomes the same. health's last_run judges
# each (market, interval) by that interval's newest runs: a failed 4h run followed by an
# ok 1h run still shows the 4h failure; another market's health sees none of them.
. "$(dirname "$0")/lib.sh"

now=1767225600000 # 2026-01-01 00:00 UTC
fakex_start --synthetic 2 --now "$now"
export CANDLEKEEP_FAULT_NOW=$now
syms=SYN000USDT,SYN001USDT

# 1. One sync of two intervals: two run records, each naming its market and interval.
ck -q --symbols $syms --history-days 5 --interval 4h,1h sync >"$T/s1" 2>&1 || { cat "$T/s1"; fail "first sync"; }
assert_eq "$(sql "select group_concat(market || ':' || interval, ',') from (select * from runs order by id)")" \
	"um:4h,um:1h" "runs' market and interval"
assert_eq "$(sql "select count(*) from run_symbols s join runs r on r.id = s.run_id
	where s.market = r.market and s.interval = r.interval")" 4 "run_symbols' market and interval"
assert_eq "$(sql 'pragma user_version')" 6 "schema version"

# 2. A 4h run fails (the exchange is gone), then a 1h run succeeds.
url=$FAKEX_URL
fakex_stop
RC=0
CANDLEKEEP_HTTP_RETRY_NET_BASE_MS=1 "$CK" --db "$DB" --base-url "$url" --symbols $syms \
	--interval 4h sync >"$T/s2" 2>&1 || RC=$?
[ "$RC" != 0 ] || { cat "$T/s2"; fail "the 4h sync without an exchange exited 0"; }
fakex_start --synthetic 2 --now "$now"
ck -q --symbols $syms --interval 1h sync >"$T/s3" 2>&1 || { cat "$T/s3"; fail "1h sync"; }
assert_eq "$(sql "select interval || ':' || status from runs order by id desc limit 2")" \
	"$(printf '1h:ok\n4h:failed')" "the newest runs"

# 3. health of 4h: its newest run failed, whatever 1h did since.
ck_rc --symbols $syms --interval 4h health --now "$now" >"$T/h4" 2>&1
assert_file_match "$T/h4" '^last_run +WARNING +the newest run failed'
# health of 1h: its own runs went well.
ck_rc --symbols $syms --interval 1h health --now "$now" >"$T/h1" 2>&1
assert_file_match "$T/h1" '^last_run +OK'
# both intervals: one last_run per interval.
ck_rc --symbols $syms --interval 4h,1h health --now "$now" >"$T/hb" 2>&1
assert_file_match "$T/hb" '^last_run/4h +WARNING +the newest run failed'
assert_file_match "$T/hb" '^last_run/1h +OK'
# another market has run nothing.
ck_rc --market cm --symbols BTCUSD_PERP --interval 4h health --now "$now" >"$T/hc" 2>&1
assert_file_match "$T/hc" '^last_run +CRITICAL +no sync has ever run'
echo "ok"
