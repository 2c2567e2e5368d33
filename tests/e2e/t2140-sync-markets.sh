#!/usr/bin/env bash
# USD-M, COIN-M and spot in one database: each market synced through its own path
# prefix (--base-url gives the host only), stored side by side under its own key, and
# each exported and gap-checked exactly: what fakex serves on that market's klines
# endpoint, value for value, never another market's candles of the same name; health
# judges one market's gaps and runs, not another's.
. "$(dirname "$0")/lib.sh"

now=1767225600000 # 2026-01-01 00:00 UTC
fakex_start --synthetic 2 --now "$now"
export CANDLEKEEP_FAULT_NOW=$now
from=$((now - 10 * DAY))

ck -q --symbols SYN000USDT,SYN001USDT --history-days 10 sync >"$T/um" 2>&1 || { cat "$T/um"; fail "um sync"; }
ck -q --market cm --symbols SYN000USD_PERP,SYN001USD_PERP --history-days 10 sync >"$T/cm" 2>&1 ||
	{ cat "$T/cm"; fail "cm sync"; }
CANDLEKEEP_MAIN_MARKET=spot ck -q --symbols SYN000USDT,SYN001USDT --history-days 10 sync >"$T/spot" 2>&1 ||
	{ cat "$T/spot"; fail "spot sync (market from the environment)"; }

# Each market asked its own prefix, and only it.
for p in /fapi/v1 /dapi/v1 /api/v3; do
	assert_eq "$(fakex_requests "\"path\":\"$p/time\"")" 1 "$p/time requests"
	assert_eq "$(fakex_requests "\"path\":\"$p/exchangeInfo\"")" 1 "$p/exchangeInfo requests"
	[ "$(fakex_requests "\"path\":\"$p/klines\"")" -ge 2 ] || fail "$p: no klines requests"
done
# spot pages never ask for more than its limit of 1000
assert_eq "$(grep '"/api/v3/klines"' "$T/requests.jsonl" | grep -Ec 'limit=(1[0-9]{3}|[2-9][0-9]{3})')" 0 "spot limit over 1000"

assert_eq "$(sql "select group_concat(market || ':' || n, ',') from (select market, count(*) n from candles group by market order by market)")" \
	"cm:120,spot:120,um:120" "candles per market"
assert_eq "$(sql "select count(distinct market) from coverage")" 3 "ledger rows per market"

# The oracle: fakex's own answer on each market's endpoint, as CSV (the 12 columns of
# an export, the ignored 12th as 0), the closed candles opened since $from.
oracle() { # PREFIX SYMBOL
	curl -fsS -m 10 "$FAKEX_URL$1/klines?symbol=$2&interval=4h&startTime=$from&limit=1000" |
		python3 -c '
import json, sys
now = int(sys.argv[1])
for k in json.load(sys.stdin):
    if k[6] < now:
        print(",".join(str(v) for v in k[:11]) + ",0")' "$now"
}
check() { # MARKET PREFIX SYMBOL
	oracle "$2" "$3" >"$T/want"
	ck --market "$1" export --symbol "$3" >"$T/got" 2>/dev/null
	[ "$(wc -l <"$T/want")" = 60 ] || fail "$1 $3: oracle has $(wc -l <"$T/want") rows"
	cmp -s "$T/want" "$T/got" || { diff "$T/want" "$T/got" | head -5; fail "$1 $3: export differs from the exchange"; }
	ck_rc --market "$1" --symbols "$3" gaps >"$T/gaps"
	assert_eq "$RC" 0 "$1 $3 gaps exit"
	assert_file_match "$T/gaps" "^0 candles missing, 0 in confirmed exchange holes"
}
for s in SYN000USDT SYN001USDT; do
	check um /fapi/v1 "$s"
	check spot /api/v3 "$s"
	# same name, another market: other candles
	cmp -s <(ck export --symbol "$s" 2>/dev/null) <(ck --market spot export --symbol "$s" 2>/dev/null) &&
		fail "$s: spot export equals um's"
done
for s in SYN000USD_PERP SYN001USD_PERP; do
	check cm /dapi/v1 "$s"
done
# A market with no candles of a symbol exports none of the others'.
assert_eq "$(ck --market cm export --symbol SYN000USDT 2>/dev/null | wc -l | tr -d ' ')" 0 "cm export of a um symbol"

# A second sync of each market writes nothing.
ck -q --market cm --symbols SYN000USD_PERP,SYN001USD_PERP --history-days 10 sync >"$T/cm2" 2>&1
assert_file_match "$T/cm2" " 0 candles written"
# metrics: the per-symbol series carry their market
ck metrics >"$T/metrics" 2>/dev/null || true
assert_file_match "$T/metrics" '^candlekeep_candles_stored\{symbol="SYN000USD_PERP",interval="4h",market="cm"\} 60$'
assert_file_match "$T/metrics" '^candlekeep_candles_stored\{symbol="SYN000USDT",interval="4h",market="spot"\} 60$'
assert_file_match "$T/metrics" '^candlekeep_candles_stored\{symbol="SYN000USDT",interval="4h",market="um"\} 60$'
# health judges the market it is given only: a candle missing in spot's SYN000USDT (a
# name um has too) and a failed cm run show on that market's health, not on um's
sql "delete from candles where market = 'spot' and symbol = 'SYN000USDT' and open_time = $((now - 3 * 14400000))"
ck_rc -q --market cm --symbols NOPEUSD_PERP sync >"$T/cmfail" 2>&1
assert_eq "$RC" 1 "cm sync of an unknown symbol"
ck_rc --symbols SYN000USDT,SYN001USDT health --now "$now" >"$T/h.um" 2>&1
assert_file_match "$T/h.um" "^gaps +OK"
assert_file_match "$T/h.um" "^last_run +OK"
ck_rc --market spot --symbols SYN000USDT,SYN001USDT health --now "$now" >"$T/h.spot" 2>&1
assert_file_match "$T/h.spot" "^gaps +(WARNING|CRITICAL) .*SYN000USDT"
assert_file_match "$T/h.spot" "^last_run +OK"
ck_rc --market cm --symbols SYN000USD_PERP,SYN001USD_PERP health --now "$now" >"$T/h.cm" 2>&1
assert_file_match "$T/h.cm" "^gaps +OK"
assert_file_match "$T/h.cm" "^last_run +(WARNING|CRITICAL)"
# ohlcv_h4 answers for um/4h only
assert_eq "$(sql "select count(*) from ohlcv_h4")" 120 "ohlcv_h4 rows (um only)"
# a market candlekeep does not know
ck_rc --market coin sync >"$T/bad" 2>&1
assert_eq "$RC" 2 "unknown market exit"
assert_file_match "$T/bad" "market"
echo "ok"
