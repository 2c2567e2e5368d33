#!/usr/bin/env bash
# A symbol whose pages carry an invalid candle (high < low) fails with a message naming
# the candle and the rule; nothing from those pages is stored; the page is not retried
# (one request per page in the request log); the other symbols sync; exit 1.
. "$(dirname "$0")/lib.sh"

now=$T_2026_03_19_18
fakex_start --data "$DATA" --now "$now" --invalid-symbol ETHUSDT
ck_rc --symbols BTCUSDT,ETHUSDT,SOLUSDT --history-days 20 --page-limit 40 sync >"$T/out" 2>"$T/err"
assert_eq "$RC" 1 "exit code"
# The message names the symbol, the candle (its open time) and the rule.
assert_file_match "$T/out" "^ETHUSDT +failed +invalid data, page not stored \(not retried\): ETHUSDT 4h candle 20[0-9-]+ [0-9:]+ UTC \([0-9]+\): high .* below max\(open, close\)"
assert_file_match "$T/out" "sync partial: 3 symbols \(2 ok, 1 failed, 0 skipped\)"
assert_eq "$(sql "select count(*) from candles where symbol='ETHUSDT'")" 0 "ETHUSDT candles stored"
run=$(sql "select max(id) from runs")
assert_eq "$(sql "select status from run_symbols where run_id=$run and symbol='ETHUSDT'")" failed
assert_match "$(sql "select error from run_symbols where run_id=$run and symbol='ETHUSDT'")" "high .* below"
assert_eq "$(sql "select status from runs where id=$run")" partial
# Not retried: every ETHUSDT page was asked for exactly once.
n=$(grep -c 'klines","query":"symbol=ETHUSDT' "$T/requests.jsonl")
[ "$n" -ge 1 ] || fail "no ETHUSDT request"
assert_eq "$(grep -o 'symbol=ETHUSDT[^"]*' "$T/requests.jsonl" | sort | uniq -d | wc -l | tr -d ' ')" 0 "an ETHUSDT page was requested twice"
# The others are exact.
for s in BTCUSDT SOLUSDT; do
	expected_rows "$DATA/$s-4h.csv" "$now" $((now - 20 * DAY)) >"$T/want"
	ck export --symbol "$s" 2>/dev/null | cut -d, -f1-9 >"$T/got"
	cmp -s "$T/want" "$T/got" || fail "$s differs from the recorded data"
done
# A valid page stored earlier is kept when a later fetch is invalid: sync ETHUSDT clean,
# then serve it invalid and lookback over the stored range: nothing changes.
fakex_ctl 'faults?invalid_symbol=-' >/dev/null
ck -q --symbols ETHUSDT --history-days 20 sync >/dev/null 2>&1 || fail "clean ETHUSDT sync failed"
before=$(ck export --symbol ETHUSDT 2>/dev/null | md5sum)
fakex_ctl 'faults?invalid_symbol=ETHUSDT' >/dev/null
ck_rc --symbols ETHUSDT --history-days 20 --lookback 30 sync >"$T/out3" 2>&1
assert_eq "$RC" 1 "lookback over an invalid page"
assert_eq "$(ck export --symbol ETHUSDT 2>/dev/null | md5sum)" "$before" "stored ETHUSDT changed by an invalid page"
echo ok
