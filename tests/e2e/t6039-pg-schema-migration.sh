#!/usr/bin/env bash
# PostgreSQL: a database of ck_schema 1 (tests/fixtures/pg-schema1.sql: the first schema's
# DDL with rows of one interval, 1h) is migrated by the first writing open to the newest
# schema with nothing lost: every row and value kept, in market 'um', its runs and symbol
# outcomes in the interval the database held. Then one sync of two intervals records a
# run per interval, and health judges each interval by its own runs (a failed 4h run
# followed by an ok 1h run shows on last_run/4h only).
. "$(dirname "$0")/lib.sh"
. "$CK_TOP/tests/e2e/pg_lib.sh"

pg_start
U=$(pg_createdb old)
"${PSQL[@]}" -d old -f "$CK_TOP/tests/fixtures/pg-schema1.sql" >/dev/null || fail "load the schema-1 fixture"
pgsql() { "${PSQL[@]}" -d old -c "$1"; }
assert_eq "$(pgsql 'select version from ck_schema')" 1 "fixture schema"
# Every row of schema 1, column by column (the columns schema 1 has).
contents() {
	pgsql "select 'c', symbol, interval, open_time, open, high, low, close, volume, close_time,
		quote_volume, trades, taker_buy_base, taker_buy_quote from candles order by 2, 3, 4" &&
	pgsql "select 'h', symbol, interval, first_open, last_open, confirmed_at, first_seen,
		first_seen_exchange, second_seen, runs from holes order by 2, 3, 4" &&
	pgsql "select 's', symbol, interval, history_start, first_open from symbols order by 2, 3" &&
	pgsql "select 'r', id, command, started, ended, status, exit_code, pid, candles_written,
		requests, retries, http_5xx, net_errors, symbols_ok, symbols_failed, weight_used_max,
		error, server_time from runs order by 2" &&
	pgsql "select 'u', run_id, symbol, status, candles_written, newest_open, error
		from run_symbols order by 2, 3" &&
	pgsql "select 'a', name, sha256, rows, read_at from archive_files order by 2" &&
	pgsql "select 'v', symbol, interval, open_time, old, new from revisions order by 2, 4" &&
	pgsql "select 'e', kind, subject, value, detail from events order by 2" &&
	pgsql "select 'o', symbol, timestamp, open, close from ohlcv_h4 order by 2, 3"
}
contents >"$T/before" || fail "read the fixture"
[ "$(grep -c '^c|' "$T/before")" = 3 ] || { cat "$T/before"; fail "fixture: expected 3 candles"; }

# A read-only open (health) does not migrate: it says what to do, and changes nothing.
DB="$U" ck_rc --symbols BTCUSDT --interval 1h health >"$T/ro.out" 2>&1
[ "$RC" != 0 ] || { cat "$T/ro.out"; fail "health on a schema-1 database exited 0"; }
assert_file_match "$T/ro.out" "the database has schema version 1 and this candlekeep reads 3; run one writing command first"
assert_eq "$(pgsql 'select version from ck_schema')" 1 "schema after a read-only open"
# The first writing open (ban, which only reads the ban state) migrates.
DB="$U" ck_rc ban >"$T/v.out" 2>&1
[ "$(pgsql 'select version from ck_schema')" = 3 ] || { cat "$T/v.out"; fail "schema after the migration (ban exit $RC)"; }
DB="$U" ck_rc --symbols BTCUSDT,ETHUSDT --interval 1h gaps >"$T/g.out" 2>&1
assert_file_match "$T/g.out" "in confirmed exchange holes"
contents >"$T/after" || fail "read the migrated database"
cmp -s "$T/before" "$T/after" || { diff "$T/before" "$T/after" | head; fail "rows or values changed"; }
for t in candles holes symbols archive_files revisions runs run_symbols; do
	assert_eq "$(pgsql "select count(*) from $t where market <> 'um'")" 0 "$t rows outside um"
done
assert_eq "$(pgsql "select string_agg(distinct interval, ',') from runs")" 1h "runs' interval (the one the database held)"
assert_eq "$(pgsql "select string_agg(distinct interval, ',') from run_symbols")" 1h "run_symbols' interval"
assert_eq "$(pgsql "select string_agg(key || '=' || value, ',' order by key) from state where key like 'verify%'")" \
	"verify_at:um:1h=1773943200000,verify_cursor:um:1h=1771344000000" "verify state keys"
# health reads the migrated runs as those of um/1h: the newest failed
DB="$U" ck_rc --symbols BTCUSDT,ETHUSDT --interval 1h health --now 1773943200000 >"$T/h0" 2>&1
assert_file_match "$T/h0" '^last_run +(WARNING|CRITICAL) .*exchange unreachable'
# a second open migrates nothing again
DB="$U" ck_rc --symbols BTCUSDT,ETHUSDT --interval 1h gaps >/dev/null 2>&1
assert_eq "$(pgsql 'select count(*) from ck_schema')" 1 "one schema row"

# One sync of two intervals into PostgreSQL: a run record per interval.
now=1767225600000 # 2026-01-01 00:00 UTC
fakex_start --synthetic 2 --now "$now"
export CANDLEKEEP_FAULT_NOW=$now
syms=SYN000USDT,SYN001USDT
N=$(pg_createdb multi)
pgm() { "${PSQL[@]}" -d multi -c "$1"; }
DB="$N" ck -q --symbols $syms --history-days 5 --interval 4h,1h sync >"$T/s1" 2>&1 || { cat "$T/s1"; fail "sync of 4h,1h"; }
assert_eq "$(pgm "select string_agg(market || ':' || interval, ',' order by id) from runs")" "um:4h,um:1h" "runs"
assert_eq "$(pgm "select count(*) from run_symbols s join runs r on r.id = s.run_id
	where s.market = r.market and s.interval = r.interval")" 4 "run_symbols' market and interval"
assert_eq "$(pgm "select string_agg(interval || ':' || n, ',' order by interval) from
	(select interval, count(*) n from candles group by interval) x")" "1h:240,4h:60" "candles per interval"
# the 4h run fails (no exchange), then a 1h run succeeds
url=$FAKEX_URL
fakex_stop
RC=0
CANDLEKEEP_HTTP_RETRY_NET_BASE_MS=1 "$CK" --db "$N" --base-url "$url" --symbols $syms --interval 4h sync \
	>"$T/s2" 2>&1 || RC=$?
[ "$RC" != 0 ] || { cat "$T/s2"; fail "the 4h sync without an exchange exited 0"; }
fakex_start --synthetic 2 --now "$now"
DB="$N" ck -q --symbols $syms --interval 1h sync >"$T/s3" 2>&1 || { cat "$T/s3"; fail "1h sync"; }
DB="$N" ck_rc --symbols $syms --interval 4h,1h health --now "$now" >"$T/h" 2>&1
assert_file_match "$T/h" '^last_run/4h +WARNING +the newest run failed'
assert_file_match "$T/h" '^last_run/1h +OK'
echo "ok"
