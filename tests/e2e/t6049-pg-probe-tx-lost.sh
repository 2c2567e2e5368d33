#!/usr/bin/env bash
# A PostgreSQL connection lost inside the transaction that writes what sync's
# first-candle probes learnt, before planning (issue 18): the server undoes it, the
# store makes a new connection, and the probed first candles (kept in memory) are written
# once more on it; the run goes on. Test hook CANDLEKEEP_FAULT_DAMAGE=pg-symbol-put-in-tx:
# the store's session ends itself (pg_terminate_backend) at the first symbol state write
# inside a transaction, which on a fresh database is the probes' one, once. Asserts:
# exit 0, every symbol ok with the newest candle the fault-free run read, the candles and
# the symbols' first candles equal a fault-free run's, stderr names the lost connection
# and the second write. A second loss (pg-symbol-put-in-tx-2) fails the run with the
# cause named, and leaves no symbol state and no candle half-written.
. "$(dirname "$0")/lib.sh"
. "$CK_TOP/tests/e2e/pg_lib.sh"

pg_cm_scenario 4 --history-days 30 --page-limit 500
st="select symbol, interval, history_start, first_open from symbols order by 1, 2"
[ -n "$(pq clean "select first_open from symbols where first_open > 0 limit 1")" ] ||
	fail "fixture: the fault-free run learnt no first candle (no probe to fault)"

# 1. The probes' transaction loses its connection once: written again, the run goes on.
pg_createdb drop >/dev/null
RC=0
CANDLEKEEP_FAULT_DAMAGE=pg-symbol-put-in-tx cks drop ck sync >"$T/drop.out" 2>"$T/drop.err" || RC=$?
[ "$RC" = 0 ] || { cat "$T/drop.out" "$T/drop.err"; fail "the sync exited $RC after its probes' transaction lost the connection"; }
assert_file_match "$T/drop.out" "sync ok: $N symbols \\($N ok"
assert_file_match "$T/drop.err" "connection to .* was lost and is made again \\(the transaction in progress is undone\\)"
assert_file_match "$T/drop.err" "writing the first candles of $N probed symbols again on the new connection"
pg_cm_symbols_ok drop
pq drop "$PG_ROWS" >"$T/drop.rows"
cmp -s "$T/clean.rows" "$T/drop.rows" || { diff "$T/clean.rows" "$T/drop.rows" | head -5; fail "the candles differ from the fault-free run's"; }
assert_eq "$(pq drop "$st")" "$(pq clean "$st")" "the symbols' probed state"

# 2. Lost twice: the run fails naming the cause; nothing of it is half-written.
pg_createdb twice >/dev/null
RC=0
CANDLEKEEP_FAULT_DAMAGE=pg-symbol-put-in-tx-2 cks twice ck sync >"$T/twice.out" 2>"$T/twice.err" || RC=$?
[ "$RC" != 0 ] || { cat "$T/twice.out"; fail "a sync whose probes' transaction lost the connection twice exited 0"; }
grep -q "connection to the PostgreSQL server was lost" "$T/twice.out" "$T/twice.err" ||
	{ cat "$T/twice.out" "$T/twice.err"; fail "the cause is not named"; }
grep -q "writing the probed first candles failed again after a new connection" "$T/twice.out" "$T/twice.err" ||
	{ cat "$T/twice.out" "$T/twice.err"; fail "the second loss is not told from the first"; }
assert_eq "$(pq twice "select count(*) from symbols where first_open > 0")" 0 "symbol states written by the failed run"
assert_eq "$(pq twice "select count(*) from candles")" 0 "candles written by the failed run"
# ... and the next run, fault-free, completes as the clean one did.
cks twice ck -q sync >"$T/after.out" 2>&1 || { cat "$T/after.out"; fail "the sync after the failed one"; }
pq twice "$PG_ROWS" >"$T/after.rows"
cmp -s "$T/clean.rows" "$T/after.rows" || { diff "$T/clean.rows" "$T/after.rows" | head -5; fail "the candles differ after the follow-up run"; }
echo ok
