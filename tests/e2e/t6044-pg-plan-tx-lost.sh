#!/usr/bin/env bash
# A PostgreSQL connection lost inside sync's planning transaction (issue 18): the
# server undoes the transaction, the store makes a new connection, and the batch is
# planned once more on it (what the first attempt planned in memory undone); the run
# goes on. Test hook CANDLEKEEP_FAULT_DAMAGE=pg-span-in-tx: the store's session ends
# itself (pg_terminate_backend) at the first span read inside a transaction, which is
# the planning one, once. Asserts: exit 0, every symbol ok with the newest candle it
# read back, the candles equal a fault-free run's, stderr names the lost connection
# and the second planning. A second loss (pg-span-in-tx-2) fails the run, and its
# summary counts every symbol failed, as its table and run_symbols say.
. "$(dirname "$0")/lib.sh"
. "$CK_TOP/tests/e2e/pg_lib.sh"

pg_cm_scenario 4 --history-days 30 --page-limit 500

# 1. A fresh database: the first planning transaction loses its connection once.
pg_createdb drop >/dev/null
RC=0
CANDLEKEEP_FAULT_DAMAGE=pg-span-in-tx cks drop ck sync >"$T/drop.out" 2>"$T/drop.err" || RC=$?
[ "$RC" = 0 ] || { cat "$T/drop.out" "$T/drop.err"; fail "the sync exited $RC after its planning transaction lost the connection"; }
assert_file_match "$T/drop.out" "sync ok: $N symbols \\($N ok"
assert_file_match "$T/drop.err" "connection to .* was lost and is made again \\(the transaction in progress is undone\\)"
assert_file_match "$T/drop.err" "planning the $N symbols of this batch again on the new connection"
pg_cm_symbols_ok drop
pq drop "$PG_ROWS" >"$T/drop.rows"
cmp -s "$T/clean.rows" "$T/drop.rows" || { diff "$T/clean.rows" "$T/drop.rows" | head -5; fail "the candles differ from the fault-free run's"; }
# The re-planned state is the fault-free run's (history start, first candle).
st="select symbol, interval, history_start, first_open from symbols order by 1, 2"
assert_eq "$(pq drop "$st")" "$(pq clean "$st")" "the symbols' planned state"

# 2. Planning a database that holds candles (nothing new: every symbol finishes in the
# planning step): the loss there is re-planned too, and nothing is fetched twice.
RC=0
CANDLEKEEP_FAULT_DAMAGE=pg-span-in-tx cks drop ck sync >"$T/again.out" 2>"$T/again.err" || RC=$?
[ "$RC" = 0 ] || { cat "$T/again.out" "$T/again.err"; fail "the second sync exited $RC"; }
assert_file_match "$T/again.out" "sync ok: $N symbols \\($N ok"
assert_file_match "$T/again.err" "planning the $N symbols of this batch again on the new connection"
pq drop "$PG_ROWS" >"$T/again.rows"
cmp -s "$T/clean.rows" "$T/again.rows" || { diff "$T/clean.rows" "$T/again.rows" | head -5; fail "the candles differ after the second sync"; }

# 3. The planning transaction loses its connection twice: the run fails; every symbol
# is failed in the table, in the summary's counts and in run_symbols, naming the cause.
pg_createdb twice >/dev/null
RC=0
CANDLEKEEP_FAULT_DAMAGE=pg-span-in-tx-2 cks twice ck sync >"$T/twice.out" 2>"$T/twice.err" || RC=$?
assert_eq "$RC" 1 "a sync whose planning lost the connection twice: $(cat "$T/twice.out")"
assert_file_match "$T/twice.out" "^sync failed: $N symbols \(0 ok, $N failed, 0 skipped\)"
assert_eq "$(grep -c '^SYN.* failed ' "$T/twice.out")" "$N" "failed symbols in the table"
run=$(pq twice "select max(id) from runs where command = 'sync'")
assert_eq "$(pq twice "select count(*) from run_symbols where run_id = $run and status = 'failed' and error like '%connection to the PostgreSQL server was lost%'")" "$N" "run_symbols failed, naming the lost connection"
assert_eq "$(pq twice "select symbols_failed from runs where id = $run")" "$N" "the run record's failed count"

# 4. The same with a symbol the exchange states SETTLING (skipped by planning before
# the first span read): it stays skipped, with its reason, not failed with the others.
pg_createdb settling >/dev/null
fakex_ctl "symbol?symbol=SYN000USD_PERP&status=SETTLING" >/dev/null
RC=0
CANDLEKEEP_FAULT_DAMAGE=pg-span-in-tx-2 cks settling ck sync >"$T/settling.out" 2>"$T/settling.err" || RC=$?
assert_eq "$RC" 1 "a sync whose planning lost the connection twice: $(cat "$T/settling.out")"
assert_file_match "$T/settling.out" "^sync failed: $N symbols \(0 ok, $((N - 1)) failed, 1 skipped\)"
run=$(pq settling "select max(id) from runs where command = 'sync'")
assert_eq "$(pq settling "select status || ': ' || error from run_symbols where run_id = $run and symbol = 'SYN000USD_PERP'")" \
	"skipped: status SETTLING on the exchange (delisted or suspended)" "the SETTLING symbol's outcome"
assert_eq "$(pq settling "select symbols_failed || ' ' || symbols_skipped from runs where id = $run")" "$((N - 1)) 1" "the run record's counts"
echo ok
