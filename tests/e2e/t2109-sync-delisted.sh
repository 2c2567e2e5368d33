#!/usr/bin/env bash
# Delisting: a symbol the exchange lists as SETTLING is reported as skipped by name and
# sent no klines request; one exchangeInfo no longer lists at all is asked once (one
# answer may be partial) and skipped on its klines answer (-1121); the others sync;
# exit 0. Listed again, it syncs again.
. "$(dirname "$0")/lib.sh"

now=$T_2026_03_19_18
syms=BTCUSDT,ETHUSDT,SOLUSDT,XRPUSDT
fakex_start --data "$DATA" --now "$now"
ck -q --symbols $syms --history-days 5 sync >/dev/null 2>&1 || fail "first sync"
fakex_ctl 'clock?advance=28800000' >/dev/null
fakex_ctl 'symbol?symbol=ETHUSDT&status=SETTLING' >/dev/null
fakex_ctl 'symbol?symbol=SOLUSDT&remove=1' >/dev/null
: >"$T/requests.jsonl"
ck_rc --symbols $syms --history-days 5 sync >"$T/out" 2>"$T/err"
assert_eq "$RC" 0 "exit code with delisted symbols"
assert_file_match "$T/out" "^ETHUSDT +skipped +.*SETTLING"
assert_file_match "$T/out" "^SOLUSDT +skipped +not listed on the exchange .*-1121"
assert_file_match "$T/out" "sync ok: 4 symbols \(2 ok, 0 failed, 2 skipped\)"
run=$(sql 'select max(id) from runs')
assert_eq "$(sql "select group_concat(symbol||':'||status, ' ') from (select * from run_symbols where run_id=$run order by symbol)")" \
	"BTCUSDT:ok ETHUSDT:skipped SOLUSDT:skipped XRPUSDT:ok"
assert_eq "$(fakex_requests 'symbol=ETHUSDT')" 0 "klines asked for ETHUSDT (SETTLING)"
assert_eq "$(fakex_requests 'symbol=SOLUSDT')" 1 "klines asked for SOLUSDT (not in exchangeInfo): once"
[ "$(sql "select max(open_time) from candles where symbol='BTCUSDT'")" -gt \
	"$(sql "select max(open_time) from candles where symbol='ETHUSDT'")" ] || fail "BTCUSDT did not advance"
# symbols = all leaves them out silently (only TRADING perpetuals).
# Relisted: it catches up.
fakex_ctl 'symbol?symbol=ETHUSDT&status=TRADING' >/dev/null
fakex_ctl 'symbol?symbol=SOLUSDT&remove=0' >/dev/null
ck_rc -q --symbols $syms sync >"$T/out" 2>&1
assert_eq "$RC" 0
assert_file_match "$T/out" "\(4 ok, 0 failed, 0 skipped\)"
for s in ${syms//,/ }; do
	assert_eq "$(sql "select max(open_time) from candles where symbol='$s'")" \
		"$(expected_rows "$DATA/$s-4h.csv" $((now + 2 * H4)) 0 1 | tail -1)" "$s newest after relisting"
done
echo ok
