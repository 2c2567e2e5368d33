#!/usr/bin/env bash
# An exchangeInfo that lists no symbol trading (issue 16: trust nothing to one empty
# answer), with an explicit symbol list: not every configured symbol delisted at once,
# but a broken answer. The run says so and syncs the configured symbols as without
# exchangeInfo: every candle stored, exit 0; a symbol that does not exist is still found
# out, by its own klines answer (-1121: skipped), and a list of only such symbols still
# fails the run. Before the fix every symbol was skipped ("not listed on the exchange")
# and the run failed with nothing fetched. A symbol one answer leaves out is fetched
# all the same (before, it was skipped for the run).
# With symbols = all, a trading symbol one answer leaves out (a partial list) stays
# trading and is fetched; the next answer that leaves it out too makes it gone (kept,
# not fetched); listed again, it is fetched again. Before, one partial answer made it
# gone at once.
. "$(dirname "$0")/lib.sh"

now=$T_2026_03_19_18
fakex_start --data "$DATA" --now "$now"
from=$((now - 5 * 86400000))

# 1. Two listed symbols, exchangeInfo empty once: both synced, every candle.
fakex_ctl "faults?exinfo_empty=1" >/dev/null
ck_rc --symbols BTCUSDT,ETHUSDT --history-days 5 sync >"$T/out" 2>"$T/err"
assert_eq "$RC" 0 "sync with an empty exchangeInfo: $(cat "$T/out" "$T/err")"
assert_file_match "$T/out" "^sync ok: 2 symbols \(2 ok, 0 failed, 0 skipped\)"
assert_file_match "$T/err" "exchangeInfo lists no symbol trading \(0 listed\); not trusted: syncing the 2 configured symbols without it"
assert_eq "$(fakex_requests '"path":"/fapi/v1/exchangeInfo"')" 1 "exchangeInfo requests (the empty one)"
for s in BTCUSDT ETHUSDT; do
	assert_eq "$(sql "select count(*) from candles where symbol = '$s'")" \
		"$(expected_rows "$DATA/$s-4h.csv" "$now" "$from" | wc -l)" "$s candles after an empty exchangeInfo"
done

# 2. An unknown symbol beside a listed one: found out by its klines answer (skipped),
#    the listed one synced.
fakex_ctl "faults?exinfo_empty=1" >/dev/null
ck_rc --symbols NOPEUSDT,SOLUSDT --history-days 5 sync >"$T/out" 2>"$T/err"
assert_eq "$RC" 0 "an unknown symbol with an empty exchangeInfo: $(cat "$T/out" "$T/err")"
assert_file_match "$T/out" "^NOPEUSDT +skipped +not listed on the exchange .*-1121"
assert_file_match "$T/out" "^sync ok: 2 symbols \(1 ok, 0 failed, 1 skipped\)"
assert_eq "$(sql "select count(*) from candles where symbol = 'SOLUSDT'")" \
	"$(expected_rows "$DATA/SOLUSDT-4h.csv" "$now" "$from" | wc -l)" "SOLUSDT candles"

# 3. Only unknown symbols: still a failed run, as with a trusted exchangeInfo.
fakex_ctl "faults?exinfo_empty=1" >/dev/null
ck_rc --symbols NOPEUSDT,FOOUSDT sync >"$T/out" 2>"$T/err"
assert_eq "$RC" 1 "only unknown symbols with an empty exchangeInfo: $(cat "$T/out" "$T/err")"
assert_file_match "$T/err" "none of the 2 configured symbols is listed on the exchange"

# 4. A symbol list, SOLUSDT left out of exchangeInfo (a partial answer): fetched all
#    the same, its candles stored.
DB="$T/partial.db"
fakex_ctl 'symbol?symbol=SOLUSDT&omit=1' >/dev/null
ck_rc --symbols BTCUSDT,SOLUSDT --history-days 5 sync >"$T/out" 2>"$T/err"
fakex_ctl 'symbol?symbol=SOLUSDT&omit=0' >/dev/null
assert_eq "$RC" 0 "a symbol left out of exchangeInfo: $(cat "$T/out" "$T/err")"
assert_file_match "$T/out" "^sync ok: 2 symbols \(2 ok, 0 failed, 0 skipped\)"
assert_eq "$(sql "select count(*) from candles where symbol = 'SOLUSDT'")" \
	"$(expected_rows "$DATA/SOLUSDT-4h.csv" "$now" "$from" | wc -l)" "SOLUSDT candles with a partial exchangeInfo"

# 5. symbols = all, SOLUSDT left out of exchangeInfo twice, then listed again.
DB="$T/all.db"
fakex_ctl "faults?reset=1" >/dev/null
syncall() { ck_rc --symbols all --history-days 1 sync >"$T/out$1" 2>"$T/err$1"; [ "$RC" = 0 ] || { cat "$T/out$1" "$T/err$1"; fail "symbols = all sync $1"; }; }
sol_status() { sql "select status from run_symbols where run_id = (select max(id) from runs) and symbol = 'SOLUSDT'"; }
sol_klines() { fakex_requests '"path":"/fapi/v1/klines".*symbol=SOLUSDT[&"]'; }
syncall 1
assert_eq "$(sol_status)" ok "SOLUSDT in the first run"
sol=$(sql "select count(*) from candles where symbol = 'SOLUSDT'")
fakex_ctl 'symbol?symbol=SOLUSDT&omit=1' >/dev/null # a partial answer: klines still serve it
: >"$T/requests.jsonl"
syncall 2
assert_file_match "$T/err2" "SOLUSDT: left out of exchangeInfo; still fetched"
assert_eq "$(sol_status)" ok "SOLUSDT in the run after one answer left it out"
[ "$(sol_klines)" -ge 1 ] || fail "SOLUSDT not fetched after one answer left it out"
: >"$T/requests.jsonl"
syncall 3
assert_file_match "$T/err3" "SOLUSDT: no longer trading \(GONE\)"
assert_eq "$(sol_klines)" 0 "klines asked for SOLUSDT after two answers left it out"
assert_eq "$(sql "select count(*) from candles where symbol = 'SOLUSDT'")" "$sol" "SOLUSDT's candles kept"
fakex_ctl 'symbol?symbol=SOLUSDT&omit=0' >/dev/null
syncall 4
assert_file_match "$T/err4" "SOLUSDT: trading again"
assert_eq "$(sol_status)" ok "SOLUSDT listed again"
echo ok
