#!/usr/bin/env bash
# backfill progress: plain progress lines when stderr is not a terminal; a progress bar
# (carriage returns, symbols done, candles, rate, ETA) on a terminal (script(1)); the
# history reaches back to --since (or the symbol's first candle). Resuming after kill -9
# is covered by t2105.
. "$(dirname "$0")/lib.sh"

now=$T_2026_03_19_18
fakex_start --data "$DATA" --now "$now" --latency-ms 20
syms=BTCUSDT,TONUSDT,CFGUSDT
CANDLEKEEP_MAIN_HISTORY_DAYS=5 ck_rc --symbols $syms --page-limit 100 --concurrency 2 backfill --since 2024-01-01 \
	>"$T/out" 2>"$T/err"
assert_eq "$RC" 0 "backfill"
grep -v ' sync: \| backfill: start\| backfill: end' "$T/err" | grep '^backfill: ' >"$T/lines" || true
[ -s "$T/lines" ] || { cat "$T/err"; fail "no plain progress lines"; }
assert_file_match "$T/lines" "^backfill: 3/3 symbols, [0-9]+/[0-9]+ pages, [0-9]+ candles, [0-9]+ candles/s"
if grep -q $'\r' "$T/err"; then fail "carriage returns in non-terminal output"; fi
assert_file_match "$T/out" "backfill ok: 3 symbols"
# Back to the data's first candle (before 2024-01-01 there is nothing).
for s in BTCUSDT TONUSDT CFGUSDT; do
	first=$(head -1 "$DATA/$s-4h.csv" | cut -d, -f1)
	assert_eq "$(sql "select min(open_time) from candles where symbol='$s'")" "$first" "$s oldest candle"
	assert_eq "$(sql "select count(*) from candles where symbol='$s'")" "$(expected_rows "$DATA/$s-4h.csv" "$now" | wc -l | tr -d ' ')" "$s count"
done
ck gaps >"$T/gaps" 2>&1 || { cat "$T/gaps"; fail "gaps after backfill"; }

# On a terminal: a bar redrawn with carriage returns.
if command -v script >/dev/null; then
	rm -f "$DB" "$DB-wal" "$DB-shm"
	cmd=$(printf '%q ' env CANDLEKEEP_MAIN_HISTORY_DAYS=5 "$CK" --db "$DB" --base-url "$FAKEX_URL" -q \
		--symbols $syms --page-limit 100 --concurrency 1 backfill --since 2025-06-01)
	script -qec "$cmd" /dev/null >"$T/tty" 2>&1 </dev/null || fail "backfill on a terminal"
	grep -q $'\r\\[[#.]\\{30\\}\\] [0-9]/3 symbols' "$T/tty" || { cat -v "$T/tty" | head; fail "no progress bar on a terminal"; }
	grep -q 'candles .*/s .*ETA' "$T/tty" || fail "bar without candles, rate and ETA"
	grep -q '3/3 symbols' "$T/tty" || fail "the bar did not reach 3/3"
else
	note "SKIP terminal progress bar: script(1) not installed"
fi
echo ok
