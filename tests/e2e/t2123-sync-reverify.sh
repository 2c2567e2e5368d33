#!/usr/bin/env bash
# Values that passed validation but are wrong are looked at again: every sync re-fetches
# the last [sync] verify_recent (2) closed candles, and a rolling slice of the last
# verify_days (30) so that all of them are re-verified once per verify_every (7 days),
# a few pages a run. Each difference is stored (the candle replaced, the old and new
# values kept in the revisions table), counted in the run and the metrics, and logged.
. "$(dirname "$0")/lib.sh"

now=$T_2026_03_19_18
fakex_start --data "$DATA" --now "$now"
export CANDLEKEEP_FAULT_NOW=$now
ck -q --symbols BTCUSDT,ETHUSDT --history-days 40 sync >/dev/null 2>&1 || fail "first sync"
ck export --symbol BTCUSDT >"$T/before" 2>/dev/null
last=$(( now - now % H4 - H4 ))   # the newest closed candle

# 1. The second newest closed candle altered: the next plain sync restores it.
recent=$((last - H4))
sql "update candles set close='1.00', low='0.50' where symbol='BTCUSDT' and open_time=$recent"
ck_rc --symbols BTCUSDT,ETHUSDT sync >"$T/out" 2>"$T/err"
assert_eq "$RC" 0 "sync exit"
assert_eq "$(sql 'select candles_revised from runs order by id desc limit 1')" 1 "runs.candles_revised"
assert_file_match "$T/out" "1 revised"
assert_file_match "$T/err" "1 stored candles differed from the exchange and were revised"
assert_eq "$(sql "select count(*) from revisions where symbol='BTCUSDT' and open_time=$recent")" 1
assert_file_match <(sql "select old from revisions where open_time=$recent") "^$recent,.*,1.00,"
ck export --symbol BTCUSDT >"$T/after" 2>/dev/null
cmp -s "$T/before" "$T/after" || fail "the recent candle was not restored"
ck metrics >"$T/metrics"
assert_file_match "$T/metrics" '^candlekeep_candles_revised_total\{command="sync"\} 1$'

# 2. A candle 20 days old altered: restored within one verify_every (7 daily runs),
# each run re-fetching only its slice (at most 2 pages per symbol besides the tail).
old=$((last - 20 * DAY))
sql "update candles set volume='0.001' where symbol='BTCUSDT' and open_time=$old"
restored=
for d in 1 2 3 4 5 6 7; do
	fakex_ctl "clock?advance=$DAY" >/dev/null
	export CANDLEKEEP_FAULT_NOW=$((now + d * DAY))
	n0=$(fakex_requests '/fapi/v1/klines')
	ck -q --symbols BTCUSDT,ETHUSDT sync >/dev/null 2>&1 || fail "daily sync $d"
	n=$(( $(fakex_requests '/fapi/v1/klines') - n0 ))
	[ "$n" -le 6 ] || fail "day $d: $n klines requests for 2 symbols"
	v=$(sql "select volume from candles where symbol='BTCUSDT' and open_time=$old")
	[ "$v" != "0.001" ] && { restored=$d; break; }
done
[ -n "$restored" ] || fail "the 20-day-old candle was not re-verified within 7 days"
want=$(grep "^$old," "$DATA/BTCUSDT-4h.csv" | cut -d, -f6)
assert_eq "$(sql "select volume from candles where symbol='BTCUSDT' and open_time=$old")" "$want"
assert_eq "$(sql "select count(*) from revisions where open_time=$old")" 1
note "restored on day $restored"
echo ok
