#!/usr/bin/env bash
# audit with several intervals ([main] intervals, --interval LIST): every symbol is
# measured in every configured interval, each by its own runs and candles (entries named
# SYMBOL/INTERVAL); a candle missing in one interval is counted in that one only. With
# one interval the entries keep their plain names.
. "$(dirname "$0")/lib.sh"

now=1767225600000 # 2026-01-01 00:00 UTC
HOUR=3600000
fakex_start --synthetic 2 --now "$now"
export CANDLEKEEP_FAULT_NOW=$now
syms=SYN000USDT,SYN001USDT
ck -q --symbols $syms --history-days 5 --interval 4h,1h sync >"$T/s" 2>&1 || { cat "$T/s"; fail "sync"; }
sql "delete from candles where interval='1h' and symbol='SYN001USDT' and open_time=$((now - 5 * HOUR))"

ck_rc --symbols $syms --interval 4h,1h audit --no-drill --days 2 --now "$((now + HOUR))" --json >"$T/a.json" 2>"$T/a.err"
jq -e . "$T/a.json" >/dev/null || { cat "$T/a.json" "$T/a.err"; fail "audit --json"; }
names=$(jq -r '[.symbols[].symbol] | join(",")' "$T/a.json")
assert_eq "$names" "SYN000USDT/4h,SYN001USDT/4h,SYN000USDT/1h,SYN001USDT/1h" "audit entries"
assert_eq "$(jq -r '[.symbols[] | "\(.symbol)=\(.missing)"] | join(",")' "$T/a.json")" \
	"SYN000USDT/4h=0,SYN001USDT/4h=0,SYN000USDT/1h=0,SYN001USDT/1h=1" "missing per interval"
# one interval: plain names
ck_rc --symbols $syms --interval 1h audit --no-drill --days 2 --now "$((now + HOUR))" --json >"$T/b.json" 2>/dev/null
assert_eq "$(jq -r '[.symbols[].symbol] | join(",")' "$T/b.json")" "SYN000USDT,SYN001USDT" "one interval"
echo "ok"
