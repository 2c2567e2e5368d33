#!/usr/bin/env bash
# A COMMIT whose answer the lost connection took (issue 18): the server committed, the
# client saw the connection close. The store asks the server on a new connection how
# the transaction ended (txid_status) and keeps a committed one as committed: the run
# does not report as failed what it stored. Test hook CANDLEKEEP_FAULT_DAMAGE=
# pg-commit-reply: the session ends right after every COMMIT the server committed,
# before its answer is read (planning, every group of pages, every single page).
# Asserts: exit 0, every symbol ok, the candles equal a fault-free run's, the counts
# the run recorded equal what is stored, the log says the commit was kept. Before,
# every such commit failed its symbols (exit 1).
. "$(dirname "$0")/lib.sh"
. "$CK_TOP/tests/e2e/pg_lib.sh"

pg_cm_scenario 4 --history-days 30 --page-limit 100

for conc in 4 1; do # pages stored in groups (one transaction a turn), then one by one
	db=lost$conc
	pg_createdb $db >/dev/null
	RC=0
	CANDLEKEEP_FAULT_DAMAGE=pg-commit-reply cks $db ck --concurrency $conc sync >"$T/$db.out" 2>"$T/$db.err" || RC=$?
	[ "$RC" = 0 ] || { cat "$T/$db.out" "$T/$db.err"; fail "concurrency $conc: the sync exited $RC"; }
	assert_file_match "$T/$db.out" "sync ok: $N symbols \\($N ok"
	assert_file_match "$T/$db.err" "the connection was lost before the commit's answer; the server says transaction [0-9]+ committed: it is kept"
	pq $db "$PG_ROWS" >"$T/$db.rows"
	cmp -s "$T/clean.rows" "$T/$db.rows" || { diff "$T/clean.rows" "$T/$db.rows" | head -5; fail "concurrency $conc: the candles differ from the fault-free run's"; }
	run=$(pq $db "select max(id) from runs where command = 'sync'")
	assert_eq "$(pq $db "select sum(candles_written) from run_symbols where run_id = $run")" \
		"$(pq $db "select count(*) from candles")" "concurrency $conc: candles the run says it wrote vs stored"
	assert_eq "$(pq $db "select count(*) from run_symbols where run_id = $run and status = 'ok'")" $N "concurrency $conc: symbols ok"
done
echo ok
