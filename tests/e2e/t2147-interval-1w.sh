#!/usr/bin/env bash
# 1w candles open on Mondays 00:00 UTC (Binance's weeks; fakex serves them so). A sync
# on Monday 01:00 stores the week that closed an hour ago, a history that starts on a
# Sunday starts with the next day's week, and a second sync writes nothing. Before, the
# planner aligned weeks to the Thursday epoch: the closed week was fetched only from
# Thursday on (three days late) and the first week of the history was dropped.
. "$(dirname "$0")/lib.sh"

now=1766970000000 # Monday 2025-12-29 01:00 UTC
WEEK=$((7 * DAY))
fakex_start --synthetic 2 --now "$now"
export CANDLEKEEP_FAULT_NOW=$now
syms=SYN000USDT,SYN001USDT
# 57 days back is Sunday 2025-11-02 01:00: the history's first week opens Monday 11-03
ck_rc --symbols $syms --interval 1w --history-days 57 sync >"$T/out" 2>"$T/err"
[ "$RC" = 0 ] || { cat "$T/out" "$T/err"; fail "1w sync"; }
first=1762128000000 # Monday 2025-11-03
last=1766361600000  # Monday 2025-12-22, closed 2025-12-28 23:59:59.999
for s in SYN000USDT SYN001USDT; do
	assert_eq "$(sql "select count(*) || ' ' || min(open_time) || ' ' || max(open_time) from candles where symbol = '$s' and interval = '1w'")" \
		"8 $first $last" "$s weeks stored (count, first, last)"
	# every stored week opens on a Monday and lasts a week
	assert_eq "$(sql "select count(*) from candles where symbol = '$s' and interval = '1w' and (strftime('%w', open_time / 1000, 'unixepoch') <> '1' or close_time <> open_time + $WEEK - 1)")" 0 "$s: weeks not opening on Monday"
	# what fakex answers for the same weeks
	curl -fsS "$FAKEX_URL/fapi/v1/klines?symbol=$s&interval=1w&startTime=$first&endTime=$last&limit=100" |
		jq -r '.[] | "\(.[0])|\(.[1])|\(.[2])|\(.[3])|\(.[4])|\(.[5])|\(.[6])"' >"$T/fx.$s"
	sql "select open_time, open, high, low, close, volume, close_time from candles where symbol = '$s' and interval = '1w' order by open_time" >"$T/db.$s"
	cmp -s "$T/fx.$s" "$T/db.$s" || { diff "$T/fx.$s" "$T/db.$s" | head -5; fail "$s: stored weeks differ from the exchange's"; }
done
ck_rc --symbols $syms --interval 1w gaps >"$T/gaps" 2>&1
assert_eq "$RC" 0 "gaps of 1w: $(cat "$T/gaps")"
ck_rc --symbols $syms --interval 1w --history-days 57 sync >"$T/out2" 2>"$T/err2"
assert_file_match "$T/out2" "sync ok: 2 symbols .* 0 candles written"
echo ok
