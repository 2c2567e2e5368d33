#!/usr/bin/env bash
# audit with several intervals ([main] intervals, --interval LIST): every symbol is
# measured in every configured interval, each by its own runs and candles (entries named
# SYMBOL/INTERVAL); a candle missing in one interval is counted in that one only. With
# one interval the entries keep their plain names. Availability: a scheduled sync is met
# only when every configured interval synced in it (a 4h run does not stand for 1h), and
# runs of an interval or market not audited do not count.
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

# Availability with a database whose only sync was 4h (and a 1d one of another market).
DB="$T/four.db"
ck -q --symbols $syms --history-days 5 --interval 4h sync >"$T/s2" 2>&1 || { cat "$T/s2"; fail "4h sync"; }
ck_rc -q --market spot --symbols ETHBTC --history-days 5 --interval 1d sync >"$T/s3" 2>&1 # fails: not listed
assert_eq "$(sql "select count(*) from runs where market = 'spot' and interval = '1d'")" 1 "the spot 1d run's record"
met() { jq -r '"\(.sync.scheduled_met)/\(.sync.scheduled)"' "$1"; }
ck_rc --symbols $syms --interval 4h audit --no-drill --days 1 --now "$((now + HOUR))" --json >"$T/c.json" 2>"$T/c.err"
assert_eq "$(met "$T/c.json")" "1/6" "4h audited, a 4h run in the last slot ($(cat "$T/c.err"))"
ck_rc --symbols $syms --interval 4h,1h audit --no-drill --days 1 --now "$((now + HOUR))" --json >"$T/d.json" 2>"$T/d.err"
assert_eq "$(met "$T/d.json")" "0/6" "4h,1h audited, no 1h run: no slot met ($(cat "$T/d.err"))"
assert_eq "$(jq -r .sync.runs "$T/d.json")" 1 "runs counted: the 4h one, not the spot 1d one"
ck_rc --symbols $syms --interval 1d audit --no-drill --days 1 --now "$((now + HOUR))" --json >"$T/e.json" 2>/dev/null
assert_eq "$(jq -r .sync.runs "$T/e.json")" 0 "um 1d audited: the spot 1d run does not count"
echo "ok"
