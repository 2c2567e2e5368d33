#!/usr/bin/env bash
# Ten days of trading played with the fakex clock, syncing once a day and once every 4h,
# with 3 days of downtime in the middle: no candle missing, none duplicated, none partial.
# The same play with the older design's behaviour (the last 4 candles once a day, no gap
# repair) loses candles, and the count is asserted so the difference stays visible.
. "$(dirname "$0")/lib.sh"

syms=BTCUSDT,SOLUSDT
t0=$((T_2026_03_01 + 4 * DAY + 3600000))   # 2026-03-05 01:00 UTC, the old cron time
fakex_start --data "$DATA" --now "$t0"

# Expected rows of a symbol: closed before $1 and opened at or after $2.
expect() { expected_rows "$DATA/$3-4h.csv" "$1" "$2"; }
check_complete() { # db now from label
	local s
	for s in BTCUSDT SOLUSDT; do
		expect "$2" "$3" "$s" >"$T/want"
		DB=$1 ck export --symbol "$s" 2>/dev/null | cut -d, -f1-9 >"$T/got"
		cmp -s "$T/want" "$T/got" || { diff "$T/want" "$T/got" | head -5; fail "$4: $s differs from the exchange"; }
	done
}
play() { # db step_ms downtime_from downtime_to extra-flags...
	local db=$1 step=$2 down_from=$3 down_to=$4 now=$t0
	shift 4
	fakex_ctl "clock?set=$t0" >/dev/null
	DB=$db ck -q --symbols $syms --history-days 3 "$@" sync >/dev/null 2>"$T/err" || { cat "$T/err"; fail "first sync"; }
	while [ "$now" -lt $((t0 + 10 * DAY)) ]; do
		now=$((now + step))
		fakex_ctl "clock?set=$now" >/dev/null
		if [ "$now" -gt "$down_from" ] && [ "$now" -le "$down_to" ]; then continue; fi
		DB=$db ck -q --symbols $syms --history-days 3 "$@" sync >/dev/null 2>"$T/err" || { cat "$T/err"; fail "sync at $now"; }
	done
	PLAY_END=$now
}
down_from=$((t0 + 3 * DAY)) down_to=$((t0 + 6 * DAY))
from=$(( (t0 - 3 * DAY + H4 - 1) / H4 * H4 ))

play "$T/daily.db" "$DAY" "$down_from" "$down_to"
check_complete "$T/daily.db" "$PLAY_END" "$from" "daily sync"
assert_eq "$(sqlite3 "$T/daily.db" 'select count(*) from (select symbol, open_time from candles group by 1, 2 having count(*) > 1)')" 0 "duplicates"

play "$T/4h.db" "$H4" "$down_from" "$down_to"
check_complete "$T/4h.db" "$PLAY_END" "$from" "4-hourly sync"

# The older design: 7 daily runs (3 days down) of the last 4 closed candles each, out of
# 60 candles that closed in the 10 days: 28 stored, 32 lost per symbol, forever.
play "$T/old.db" "$DAY" "$down_from" "$down_to" --lookback 4 --no-gap-repair
total=$(expect "$PLAY_END" "$from" BTCUSDT | wc -l)
have=$(sqlite3 "$T/old.db" "select count(*) from candles where symbol='BTCUSDT'")
lost=$((total - have))
note "older design lost $lost of $total candles per symbol; candlekeep lost 0"
assert_eq "$lost" 32 "candles the older design loses"
# candlekeep repairs the old design's holes on its first run with gap repair on.
DB="$T/old.db" ck -q --symbols $syms --history-days 3 sync >/dev/null 2>&1
check_complete "$T/old.db" "$PLAY_END" "$from" "repair of the older design's database"
echo ok
