#!/usr/bin/env bash
# Backfill never asks for time before a symbol's first candle: 20 symbols listed on
# 2023-01-01 backfilled --since 2017-01-01 send at most the pages their history needs plus
# one request per symbol (the listing start: exchangeInfo's onboardDate or a 1-weight
# probe), and no page window starts before the listing.
. "$(dirname "$0")/lib.sh"

NOW=1767225600000    # 2026-01-01 00:00 UTC
LISTED=1672531200000 # 2023-01-01 00:00 UTC
H4=14400000
NSYM=20
syms=$(i=0; while [ $i -lt $NSYM ]; do printf 'SYN%03dUSDT,' $i; i=$((i + 1)); done | sed 's/,$//')

fakex_start --synthetic $NSYM --synthetic-start $LISTED --now $NOW
ck_rc --symbols "$syms" --timeout 120 backfill --since 2017-01-01 --no-progress >"$T/out" 2>"$T/err"
assert_eq "$RC" 0 "backfill"
assert_file_match "$T/out" "backfill ok: $NSYM symbols \\($NSYM ok"
# Every symbol holds its whole history, listing to the last closed candle.
want=$(( (NOW - LISTED) / H4 ))
assert_eq "$(sql "select count(*) from candles")" $((want * NSYM)) "candles stored"
assert_eq "$(sql "select count(distinct min_open) from (select min(open_time) min_open from candles group by symbol)")" 1
assert_eq "$(sql "select min(open_time) from candles")" "$LISTED" "first candle"
# Pages needed at the page size the run chose (from its log line).
page=$(sed -n 's/.*page_size=\([0-9]*\).*/\1/p' "$T/err" | head -1)
[ -n "$page" ] || { cat "$T/err"; fail "no page_size in the log"; }
pages=$(( NSYM * ((want + page - 1) / page) ))
klines=$(fakex_requests '"path":"/fapi/v1/klines"')
note "page size $page: $klines kline requests, $pages pages needed, $NSYM symbols"
[ "$klines" -le $((pages + NSYM)) ] || fail "$klines kline requests > $pages pages + $NSYM symbols"
# No page window before the listing (a startTime=0&limit=1 probe asks for one candle).
early=$(grep '"path":"/fapi/v1/klines"' "$T/requests.jsonl" | grep -v 'startTime=0&limit=1' |
	sed -n 's/.*startTime=\([0-9]*\).*/\1/p' | awk -v l=$LISTED '$1 < l' | wc -l | tr -d ' ')
assert_eq "$early" 0 "page requests for time before the listing"
echo ok
