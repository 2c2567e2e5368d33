#!/usr/bin/env bash
# A connection the PostgreSQL server drops inside a transaction (issue 18): a COIN-M
# sync at fakex latency, its store session terminated (pg_terminate_backend) each time
# it is seen inside a multi-statement transaction (a group of pages, a batch's plan).
# The store connects again (and says so); the run ends ok or with the symbols it could
# not finish failed and the lost connection named; nothing is stored outside the
# transaction that was undone: the run's written counts are what is stored, every
# stored candle is a fault-free run's, of the run's market (the session's market is
# set again on the new connection). A group of pages lost with its transaction fails
# only the group's symbols (named in the output and in run_symbols): the run goes on
# with the other symbols on the new connection, and they end ok and complete. The
# next run completes every candle.
. "$(dirname "$0")/lib.sh"
. "$CK_TOP/tests/e2e/pg_lib.sh"

# 12 symbols: two drops fail at most two groups of four symbols, so some end ok
pg_cm_scenario 12 --history-days 60 --page-limit 100
assert_eq "$(pq clean "select count(distinct market) || ' ' || min(market) from candles")" "1 cm" "the fault-free run's market"

drop_run() {
	local db=$1 conc=$2 lat=$3 sp kills run bad
	# The worker's store session (named w1, as its run lock's session, which never holds a
	# transaction open) terminated whenever it is inside a transaction that began before
	# the statement it runs (or between statements), at most twice, until the run ends.
	pg_createdb "$db" >/dev/null
	fakex_ctl "faults?latency_ms=$lat" >/dev/null
	cks "$db" w1 --concurrency "$conc" sync >"$T/$db.out" 2>"$T/$db.err" &
	sp=$!
	_pids+=("$sp")
	WAIT_SHOW="$T/$db.err" wait_for 60 "the sync to store its first candles" \
		'[ "$(pq "$db" "select count(*) from candles" 2>/dev/null || echo 0)" -ge 1 ]'
	"${PSQL[@]}" -d postgres -v db="$db" >"$T/killer.out" 2>&1 <<-'EOF'
	SET ck.db = :'db';
	DO $$
	DECLARE
		n int := 0; last int := 0; seen boolean := false; p int;
		t0 timestamptz := clock_timestamp();
	BEGIN
		WHILE n < 2 AND clock_timestamp() < t0 + interval '40 s' LOOP
			PERFORM pg_stat_clear_snapshot();
			SELECT pid INTO p FROM pg_stat_activity
			 WHERE datname = current_setting('ck.db') AND application_name = 'w1' AND pid <> last
			   AND (state = 'idle in transaction' OR (state = 'active' AND xact_start < query_start))
			 LIMIT 1;
			IF p IS NOT NULL AND pg_terminate_backend(p) THEN
				n := n + 1; last := p;
			END IF;
			IF EXISTS (SELECT 1 FROM pg_stat_activity WHERE datname = current_setting('ck.db') AND application_name = 'w1') THEN
				seen := true;
			ELSIF seen THEN
				EXIT; -- the run ended
			END IF;
			PERFORM pg_sleep(0.002);
		END LOOP;
		RAISE NOTICE 'terminated %', n;
	END $$;
	EOF
	RC=0; wait "$sp" || RC=$?
	fakex_ctl "faults?latency_ms=0" >/dev/null
	kills=$(sed -nE 's/.*terminated ([0-9]+).*/\1/p' "$T/killer.out")
	cat "$T/$db.out" "$T/$db.err" >"$T/$db.all"
	note "terminated $kills time(s) inside a transaction; exit $RC: $(grep -m1 'sync ' "$T/$db.out" || true)"
	[ "${kills:-0}" -ge 1 ] || { cat "$T/killer.out" "$T/$db.all"; fail "the run's session was never seen inside a transaction"; }
	[ "$RC" = 0 ] || [ "$RC" = 1 ] || { cat "$T/$db.all"; fail "a sync whose connection was dropped exited $RC"; }
	assert_file_match "$T/$db.all" "connection to .* was lost and is made again"
	run=$(pq "$db" "select max(id) from runs where command = 'sync'")
	assert_eq "$(pq "$db" "select exit_code from runs where id = $run")" "$RC" "exit code recorded"
	assert_eq "$(pq "$db" "select count(*) from runs where status = 'running'")" 0 "a run left running"
	if [ "$RC" = 1 ]; then
		# Each failed symbol says why: the lost connection.
		bad=$(pq "$db" "select symbol || ': ' || coalesce(error, '') from run_symbols where run_id = $run and status = 'failed' and coalesce(error, '') not like '%connection to the PostgreSQL server was lost%'")
		[ -z "$bad" ] || { cat "$T/$db.all"; fail "failed symbols not naming the lost connection: $bad"; }
	fi
	# The failed symbols: the same in the output and in run_symbols; the drops (at most
	# two, each losing one transaction of at most $conc symbols' pages) did not stop
	# the run: the other symbols ended ok, each with every candle the fault-free run has.
	failed_out=$(awk '$2 == "failed" { print $1 }' "$T/$db.out" | sort | tr '\n' ' ')
	failed_db=$(pq "$db" "select symbol from run_symbols where run_id = $run and status = 'failed' order by symbol" | tr '\n' ' ')
	assert_eq "$failed_out" "$failed_db" "failed symbols in the output vs run_symbols"
	nfailed=$(echo $failed_db | wc -w)
	[ "$nfailed" -le $((kills * conc)) ] ||
		{ cat "$T/$db.all"; fail "$nfailed symbols failed after $kills dropped transaction(s) of at most $conc symbols: the run stopped"; }
	assert_eq "$(pq "$db" "select count(*) from run_symbols where run_id = $run and status = 'ok'")" $((N - nfailed)) "symbols ended ok"
	for s in $(pq "$db" "select symbol from run_symbols where run_id = $run and status = 'ok'"); do
		assert_eq "$(pq "$db" "select count(*) from candles where symbol = '$s'")" \
			"$(pq clean "select count(*) from candles where symbol = '$s'")" "$s ended ok: its candles"
	done
	# Nothing outside what the run says it stored, and nothing another run did not store.
	pq "$db" "$PG_ROWS" >"$T/$db.rows"
	[ -z "$(comm -23 "$T/$db.rows" "$T/clean.rows" | head -3)" ] ||
		{ comm -23 "$T/$db.rows" "$T/clean.rows" | head -3; fail "stored rows the fault-free run did not store"; }
	# The run's reading of what it stored (its market's newest candle) after the drop.
	for s in $(pq "$db" "select symbol from run_symbols where run_id = $run and status = 'ok'"); do
		assert_eq "$(pq "$db" "select coalesce(newest_open, 0) from run_symbols where run_id = $run and symbol = '$s'")" \
			"$(pq clean "select max(open_time) from candles where symbol = '$s'")" "$s: the newest candle the run read"
	done
	for t in candles symbols holes revisions; do
		assert_eq "$(pq "$db" "select count(*) from $t where market <> 'cm'")" 0 "$t rows stored under another market"
	done
	assert_eq "$(pq "$db" "select coalesce(sum(candles_written), 0) from run_symbols where run_id = $run")" \
		"$(pq "$db" "select count(*) from candles")" "candles the run says it wrote vs stored"

	# The next run completes every candle, as the fault-free run stored them.
	cks "$db" w2 -q sync >"$T/$db.after.out" 2>&1 || { cat "$T/$db.after.out"; fail "the run after the dropped connection"; }
	assert_file_match "$T/$db.after.out" "sync ok: $N symbols"
	pq "$db" "$PG_ROWS" >"$T/$db.after.rows"
	cmp -s "$T/clean.rows" "$T/$db.after.rows" || { diff "$T/clean.rows" "$T/$db.after.rows" | head -5; fail "after the next run the candles differ from the fault-free run's"; }
}
# Pages stored four at a time (one transaction, the group commit), then one at a time
# (each page its own transaction; the run goes on with the other symbols on the new
# connection, in its market).
drop_run grouped 4 250
drop_run single 1 100
echo ok
