#!/usr/bin/env bash
# --timeout: with a slow exchange a short deadline ends the run with exit 124, status
# timeout in runs, the pages committed before it kept (exact), and the next run goes on
# from there.
. "$(dirname "$0")/lib.sh"

now=$T_2026_03_19_18
syms=BTCUSDT,ETHUSDT
fakex_start --data "$DATA" --now "$now" --latency-ms 150
ck_rc --symbols $syms --history-days 120 --page-limit 20 --concurrency 1 --timeout 2s sync >"$T/out" 2>"$T/err"
assert_eq "$RC" 124 "exit code past the deadline"
# The whole run is 72 pages of 150 ms (11 s); stopped at its 2 s deadline it sent far
# fewer (counted, not timed, so a loaded machine cannot fail this).
nk=$(fakex_requests '"path":"/fapi/v1/klines"')
[ "$nk" -lt 60 ] || fail "$nk kline requests: the run went on past its 2 s deadline"
assert_eq "$(sql 'select status from runs order by id desc limit 1')" timeout
assert_eq "$(sql 'select exit_code from runs order by id desc limit 1')" 124
assert_match "$(sql 'select error from runs order by id desc limit 1')" "deadline"
assert_file_match "$T/out" "sync timeout"
n=$(sql 'select count(*) from candles')
[ "$n" -gt 0 ] || fail "nothing committed before the deadline"
[ "$n" -lt 1400 ] || fail "everything was fetched; the deadline was not reached"
assert_eq "$(sql 'select sum(candles_written) from run_symbols where run_id=(select max(id) from runs)')" "$n" \
	"written counts of the timed-out run"
for s in ${syms//,/ }; do
	ck export --symbol "$s" 2>/dev/null | cut -d, -f1-9 | sort >"$T/got"
	cut -d, -f1-9 "$DATA/$s-4h.csv" | sort >"$T/all"
	[ -z "$(comm -23 "$T/got" "$T/all" | head -1)" ] || fail "$s: stored rows not in the data"
done
# The next run (fast exchange) completes from there.
fakex_ctl 'faults?latency_ms=0' >/dev/null
ck_rc -q --symbols $syms --history-days 120 sync >"$T/out2" 2>&1
assert_eq "$RC" 0 "run after the timeout"
for s in ${syms//,/ }; do
	expected_rows "$DATA/$s-4h.csv" "$now" $((now - 120 * DAY)) >"$T/want"
	ck export --symbol "$s" 2>/dev/null | cut -d, -f1-9 | cmp -s "$T/want" - || fail "$s incomplete after the next run"
done
echo ok
