#!/usr/bin/env bash
# The older design's own SQL keeps answering correctly on candlekeep's database through
# the ohlcv_h4 view (timestamp = open time in ms, REAL prices): MAX(timestamp),
# COUNT(DISTINCT symbol), the per-symbol counts and the 30-day distinct-day count, each
# checked against the recorded exchange data the sync fetched.
. "$(dirname "$0")/lib.sh"

now=$T_2026_03_19_18
syms="BTCUSDT ETHUSDT SOLUSDT CFGUSDT TONUSDT"   # CFGUSDT listed 2026-03-16 12:00
days=40
fakex_start --data "$DATA" --now "$now"
ck -q --symbols "$(echo $syms | tr ' ' ,)" --history-days $days sync >"$T/out" 2>&1 ||
	{ cat "$T/out"; fail "sync failed"; }

# What the exchange had: closed candles (close_time < now) opened since the history start.
from=$(( (now - days * DAY + H4 - 1) / H4 * H4 ))
for s in $syms; do
	expected_rows "$DATA/$s-4h.csv" "$now" "$from" 5 | awk -F, -v s="$s" '{ print s","$1","$5 }'
done >"$T/want.csv"

# SELECT MAX(timestamp) FROM ohlcv_h4 — the newest stored open time
want_max=$(cut -d, -f2 "$T/want.csv" | sort -n | tail -1)
assert_eq "$(sql "SELECT MAX(timestamp) FROM ohlcv_h4")" "$want_max" "MAX(timestamp)"
assert_eq "$want_max" $(( now - now % H4 - H4 )) "newest closed candle at 18:00 opened 12:00"

# SELECT COUNT(DISTINCT symbol) FROM ohlcv_h4
assert_eq "$(sql "SELECT COUNT(DISTINCT symbol) FROM ohlcv_h4")" 5 "COUNT(DISTINCT symbol)"

# per-symbol counts
cut -d, -f1 "$T/want.csv" | sort | uniq -c | awk '{print $2"|"$1}' >"$T/want.counts"
sql "SELECT symbol, COUNT(*) FROM ohlcv_h4 GROUP BY symbol ORDER BY symbol" >"$T/got.counts"
cmp -s "$T/want.counts" "$T/got.counts" ||
	{ diff "$T/want.counts" "$T/got.counts"; fail "per-symbol counts differ"; }
assert_eq "$(grep -c '^CFGUSDT,' "$T/want.csv")" "$(sql "SELECT COUNT(*) FROM ohlcv_h4 WHERE symbol = 'CFGUSDT'")"

# The 30-day distinct-day count (days on which any candle opened), as the old health
# script asked it: date() of the second-resolution timestamp, 30 days back from now.
since=$(( now - 30 * DAY ))
want_days=$(awk -F, -v since="$since" '$2 >= since { print int($2 / 86400000) }' "$T/want.csv" | sort -u | wc -l | tr -d ' ')
got_days=$(sql "SELECT COUNT(DISTINCT date(timestamp / 1000, 'unixepoch')) FROM ohlcv_h4 WHERE timestamp >= $since")
assert_eq "$got_days" "$want_days" "30-day distinct-day count"
assert_eq "$got_days" 31 "30 days back from 18:00 touch 31 calendar days"
# and per symbol: the newcomer has only its 4 days (16th..19th)
assert_eq "$(sql "SELECT COUNT(DISTINCT date(timestamp / 1000, 'unixepoch')) FROM ohlcv_h4 WHERE symbol = 'CFGUSDT' AND timestamp >= $since")" 4

# Values are numbers (REAL) equal to the exchange's decimal strings.
assert_eq "$(sql "SELECT DISTINCT typeof(open) || typeof(close) || typeof(volume) FROM ohlcv_h4")" realrealreal
line=$(grep "^BTCUSDT,$want_max," "$T/want.csv")
assert_eq "$(sql "SELECT close = ${line##*,} FROM ohlcv_h4 WHERE symbol = 'BTCUSDT' AND timestamp = $want_max")" 1 "close value"
# The view is read-only data: every row of the view is a 4h candle of the table.
assert_eq "$(sql "SELECT COUNT(*) FROM ohlcv_h4")" "$(sql "SELECT COUNT(*) FROM candles WHERE interval = '4h'")"
assert_eq "$(sql "SELECT COUNT(*) FROM ohlcv_h4")" "$(wc -l <"$T/want.csv" | tr -d ' ')"
echo ok
