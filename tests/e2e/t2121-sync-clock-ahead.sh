#!/usr/bin/env bash
# A candle is closed only when both clocks agree: close_time < min(exchange time, local
# time + [sync] max_clock_skew). An exchange whose /time runs 4 h ahead of its own candles
# and of this host does not get the forming candle stored as closed; the skew is kept
# (candlekeep_clock_skew_seconds, a warning in the log and in the run's clock_skew
# event), and once the candle has really closed it is stored with its final values.
. "$(dirname "$0")/lib.sh"

now=$T_2026_03_19_18            # 18:00: the candle opened 16:00 is forming
forming=$(( now - now % H4 ))
fakex_start --data "$DATA" --now "$now"
export CANDLEKEEP_FAULT_NOW=$now  # this host's clock is right
fakex_ctl "faults?time_offset_ms=$((4 * 3600000))" >/dev/null

ck_rc --symbols BTCUSDT --history-days 5 sync >"$T/out" 2>"$T/err"
assert_eq "$RC" 0 "sync exit"
newest=$(sql "select max(open_time) from candles where symbol='BTCUSDT'")
assert_eq "$newest" "$((forming - H4))" "newest stored candle (the forming one must not be stored)"
assert_file_match "$T/err" "exchange's clock is 14400.0 s ahead of the local clock"
assert_eq "$(sql "select value from events where kind='clock_skew' order by id desc limit 1")" "14400.0"
assert_file_match <(sql "select detail from events where kind='clock_skew' order by id desc limit 1") \
	"clock skew \+14400.0 s exceeds \[sync\] max_clock_skew 60 s"
ck metrics >"$T/metrics"
assert_file_match "$T/metrics" "^candlekeep_clock_skew_seconds 14400$"
# ... and the run record says so, though the run is ok.
assert_eq "$(sql "select status from runs order by id desc limit 1")" ok "run status with a large skew"
assert_file_match <(sql "select error from runs order by id desc limit 1") \
	"^warning: the exchange's clock is \+14400.0 s from the local clock"

# The exchange's clock right again, 4 h later: the candle is stored, final, as recorded.
fakex_ctl "faults?time_offset_ms=0" >/dev/null
fakex_ctl "clock?advance=$H4" >/dev/null
export CANDLEKEEP_FAULT_NOW=$((now + H4))
ck -q --symbols BTCUSDT sync >/dev/null 2>&1 || fail "second sync"
ck export --symbol BTCUSDT | grep "^$forming," >"$T/got" || fail "candle $forming not stored"
grep "^$forming," "$DATA/BTCUSDT-4h.csv" | cut -d, -f1-9 >"$T/want"
cut -d, -f1-9 "$T/got" >"$T/got9"
cmp -s "$T/want" "$T/got9" || { cat "$T/want" "$T/got9"; fail "candle $forming differs from the recorded one"; }
ck metrics >"$T/metrics"
assert_file_match "$T/metrics" "^candlekeep_clock_skew_seconds 0$"
assert_eq "$(sql "select coalesce(error, '') from runs order by id desc limit 1")" "" "no warning with the clocks agreeing"

# The local clock ahead of the exchange (the exchange lags): the exchange's time rules.
export CANDLEKEEP_FAULT_NOW=$((now + 3 * H4))
ck -q --symbols BTCUSDT sync >/dev/null 2>&1 || fail "third sync"
assert_eq "$(sql "select max(open_time) from candles where symbol='BTCUSDT'")" "$forming" "newest with a lagging exchange"
echo ok
