#!/usr/bin/env bash
# A fresh database synced at exchange time T holds exactly the closed candles the
# recorded data has up to T, value for value, and never the forming candle.
. "$(dirname "$0")/lib.sh"

now=$T_2026_03_19_18
fakex_start --data "$DATA" --now "$now"
ck -q --symbols BTCUSDT,ETHUSDT,CFGUSDT,TONUSDT --history-days 30 sync >"$T/out" 2>"$T/err" ||
	{ cat "$T/out" "$T/err"; fail "sync exited non-zero"; }
assert_file_match "$T/out" "sync ok: 4 symbols \(4 ok, 0 failed, 0 skipped\)"

for s in BTCUSDT ETHUSDT CFGUSDT TONUSDT; do
	# Expected: CSV rows whose candle closed before now and opened within 30 days.
	expected_rows "$DATA/$s-4h.csv" "$now" $((now - 30 * DAY)) >"$T/want"
	ck export --symbol "$s" 2>/dev/null | cut -d, -f1-9 >"$T/got"
	[ -s "$T/want" ] || fail "$s: no expected rows"
	cmp -s "$T/want" "$T/got" || { diff "$T/want" "$T/got" | head; fail "$s: stored candles differ from the recorded data"; }
	# The candle containing now (forming) is not stored.
	forming=$(( now - now % H4 ))
	assert_eq "$(sql "select count(*) from candles where symbol='$s' and open_time >= $forming")" 0 "$s forming candle stored"
done
# Every stored candle of CFGUSDT (listed 2026-03-16 12:00) is there: 21 rows minus the
# forming one and the one closing after 18:00.
assert_eq "$(sql "select count(*) from candles where symbol='CFGUSDT'")" "$(expected_rows "$DATA/CFGUSDT-4h.csv" "$now" | wc -l)"

# A second sync at the same time writes nothing and asks only for what it needs.
ck -q --symbols BTCUSDT,ETHUSDT,CFGUSDT,TONUSDT --history-days 30 sync >"$T/out2" 2>&1
assert_file_match "$T/out2" "0 candles written"
# The run records exist.
assert_eq "$(sql "select count(*) from runs where command='sync' and status='ok'")" 2
assert_eq "$(sql "select count(*) from run_symbols where status='ok'")" 8
# The older design's queries through the ohlcv_h4 view.
assert_eq "$(sql "select count(distinct symbol) from ohlcv_h4")" 4
assert_eq "$(sql "select max(timestamp) from ohlcv_h4")" "$(( now - now % H4 - H4 ))"
echo "ok"
