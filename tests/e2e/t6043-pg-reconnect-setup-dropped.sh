#!/usr/bin/env bash
# A lost PostgreSQL connection whose new session the server drops too, before the
# session's settings (its market) are made (issue 18; found by CI on t6037, where a
# second pg_terminate_backend hit the reconnect: the statement after it failed, and
# the symbol ended "ok" with no newest candle read). The store makes the session
# again until its settings are made (test hook CANDLEKEEP_FAULT_DAMAGE=pg-reconnect:
# the session ends itself once after its first commit, and the first new session of
# each reconnect ends itself before its settings), never uses one
# without them (it would read and write the default market), and the run goes on:
# every symbol ok, with the newest candle it read back; every candle stored under the
# run's market, as a fault-free run stores them.
. "$(dirname "$0")/lib.sh"
. "$CK_TOP/tests/e2e/pg_lib.sh"

pg_cm_scenario 4 --history-days 60 --page-limit 100 --concurrency 1

# The store's session is lost once while idle (after its first commit); the statement
# after it finds the connection lost, and the reconnect's first new session is dropped.
pg_createdb drop >/dev/null
RC=0
CANDLEKEEP_FAULT_DAMAGE=pg-reconnect cks drop w1 sync >"$T/drop.out" 2>"$T/drop.err" || RC=$?
[ "$RC" = 0 ] || { cat "$T/drop.out" "$T/drop.err"; fail "the sync exited $RC after its connection was lost"; }
assert_file_match "$T/drop.out" "sync ok: $N symbols \\($N ok"
assert_file_match "$T/drop.err" "connection to .* was lost and is made again"
pg_cm_symbols_ok drop
for t in candles symbols holes revisions; do
	assert_eq "$(pq drop "select count(*) from $t where market <> 'cm'")" 0 "$t rows stored under another market"
done
pq drop "$PG_ROWS" >"$T/drop.rows"
cmp -s "$T/clean.rows" "$T/drop.rows" || { diff "$T/clean.rows" "$T/drop.rows" | head -5; fail "the candles differ from the fault-free run's"; }
echo ok
