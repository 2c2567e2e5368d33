#!/usr/bin/env bash
# The run lock and the cluster leader's lock on PostgreSQL live on connections of their
# own (issue 18). When the server ends such a connection (pg_terminate_backend), the
# holder notices at its next safe point and says so: a sync takes its run lock again and
# completes; a sync whose lock another run took meanwhile (one that runs alone, as
# recover) stops with that reason instead of writing beside it; a daemon whose leader's
# lock was lost and taken by another does not run the cluster-wide jobs.
. "$(dirname "$0")/lib.sh"
. "$CK_TOP/tests/e2e/pg_lib.sh"

now=$T_2026_03_19_18
syms=BTCUSDT,ETHUSDT,TONUSDT,CFGUSDT
pg_start
fakex_start --data "$DATA" --now "$now"
RUN_KEY="classid = 1 and objid = 49456906"    # 4344424202, the run lock
LEADER_KEY="classid = 1 and objid = 49456907" # 4344424203, the leader's lock
# The pid of the session holding advisory lock $2 in database $1 ('' if none).
holder() {
	pq "$1" "select l.pid from pg_locks l join pg_database d on d.oid = l.database where d.datname = '$1' and l.locktype = 'advisory' and l.granted and $2 limit 1" 2>/dev/null || true
}
# A sync of 4 symbols at 0.2 s a page, one page at a time (about 5 s).
slow_sync() {
	DB="$(pg_url "$1" w1)" ck --symbols $syms --history-days 30 --page-limit 20 --concurrency 1 sync
}

# 1. The run lock's session ends mid-run: the sync takes the lock again and completes.
pg_createdb one >/dev/null
fakex_ctl "faults?latency_ms=200" >/dev/null
slow_sync one >"$T/one.out" 2>"$T/one.err" &
sp=$!
_pids+=("$sp")
WAIT_SHOW="$T/one.err" wait_for 60 "the sync's first candles" \
	'[ "$(pq one "select count(*) from candles" 2>/dev/null || echo 0)" -ge 1 ]'
p1=$(holder one "$RUN_KEY")
[ -n "$p1" ] || { cat "$T/one.err"; fail "no session holds the run lock mid-run"; }
assert_eq "$(pq one "select pg_terminate_backend($p1)")" t "terminating the run lock's session"
WAIT_SHOW="$T/one.err" wait_for 60 "the run lock to be held again" \
	'p=$(holder one "$RUN_KEY"); [ -n "$p" ] && [ "$p" != "$p1" ] || ! kill -0 $sp 2>/dev/null'
RC=0; wait "$sp" || RC=$?
[ "$RC" = 0 ] || { cat "$T/one.out" "$T/one.err"; fail "the sync whose run lock's session ended exited $RC"; }
assert_file_match "$T/one.err" "sync: the connection holding the run lock of .* was lost \(.*\); taking the lock again"
assert_file_match "$T/one.err" "sync: the run lock of .* is held again"
assert_file_match "$T/one.out" "sync ok: 4 symbols"

# 2. Ended while another run waits to hold the lock alone: that run gets it, and the
# sync stops at its next safe point, naming why (nothing is written after that point).
pg_createdb two >/dev/null
slow_sync two >"$T/two.out" 2>"$T/two.err" &
sp=$!
_pids+=("$sp")
WAIT_SHOW="$T/two.err" wait_for 60 "the sync's first candles" \
	'[ "$(pq two "select count(*) from candles" 2>/dev/null || echo 0)" -ge 1 ]'
p1=$(holder two "$RUN_KEY")
[ -n "$p1" ] || { cat "$T/two.err"; fail "no session holds the run lock mid-run"; }
# The exclusive holder (as recover): waits behind the sync's shared lock, then holds it.
"${PSQL[@]}" -d two -c "select pg_advisory_lock(4344424202); select pg_sleep(60)" >/dev/null 2>&1 &
excl=$!
_pids+=("$excl")
wait_for 30 "the exclusive request to wait" \
	'[ "$(pq two "select count(*) from pg_locks where locktype = '"'"'advisory'"'"' and not granted and $RUN_KEY")" = 1 ]'
assert_eq "$(pq two "select pg_terminate_backend($p1)")" t "terminating the run lock's session"
RC=0; wait "$sp" || RC=$?
assert_eq "$RC" 1 "the sync whose run lock another run took"
assert_file_match "$T/two.err" "another run \(one that runs alone, such as recover\) holds it now; this run stops"
run=$(pq two "select max(id) from runs")
assert_eq "$(pq two "select exit_code from runs where id = $run")" 1 "exit code recorded"
assert_match "$(pq two "select error from runs where id = $run")" "holds it now" "the run's error"
# The exclusive holder has it; what the sync wrote is what it says it wrote.
[ -n "$(holder two "$RUN_KEY")" ] || fail "the exclusive request did not get the run lock"
n=$(pq two "select count(*) from candles")
assert_eq "$(pq two "select coalesce(sum(candles_written), 0) from run_symbols where run_id = $run")" "$n" \
	"candles the stopped run says it wrote vs stored"
kill "$excl" 2>/dev/null || true
wait "$excl" 2>/dev/null || true
pq two "select pg_terminate_backend(pid) from pg_stat_activity where query like '%pg_sleep(60)%' and pid <> pg_backend_pid()" >/dev/null
fakex_ctl "faults?latency_ms=0" >/dev/null
# The next run completes.
DB="$(pg_url two w2)" ck -q --symbols $syms --history-days 30 sync >"$T/two.after" 2>&1 ||
	{ cat "$T/two.after"; fail "the run after the stopped one"; }
assert_eq "$(pq two "select count(*) from candles")" "$(pq one "select count(*) from candles")" "candles after the next run"
# 3. The leader's session ends and another takes the leader's lock: the daemon logs the
# loss and runs no cluster-wide job (health) while the other holds it; it leads again
# once the lock is free. Its clock follows fakex's (the test hook --clock-url).
pg_createdb three >/dev/null
rm -f "$T/http.port"
CANDLEKEEP_MAIN_HISTORY_DAYS=5 CANDLEKEEP_SCHEDULE_AUDIT= CANDLEKEEP_SCHEDULE_BACKUP= \
CANDLEKEEP_SCHEDULE_INTEGRITY_CHECK= \
CANDLEKEEP_HTTP_RETRY_NET_BASE_MS=50 CANDLEKEEP_HTTP_RETRY_5XX_BASE_MS=50 \
	"$CK" --db "$(pg_url three d1)" --base-url "$FAKEX_URL" --symbols "$syms" daemon \
	--listen 127.0.0.1:0 --port-file "$T/http.port" --clock-url "$FAKEX_URL" \
	>"$T/d1.out" 2>"$T/d1.log" &
dp=$!
_pids+=("$dp")
health() { pq three "select count(*) from events where kind = 'health'" 2>/dev/null || echo 0; }
idle_at() { # the daemon has looked at clock $1 and runs no job
	WAIT_SHOW="$T/d1.log" wait_for 60 "the daemon to see clock $1 and be idle" \
		'[ -s "$T/http.port" ] && [ "$(curl -fsS -m 5 "http://127.0.0.1:$(cat "$T/http.port")/api/status" | jq -r ".now >= '"$1"' and .running == null")" = true ]'
}
WAIT_SHOW="$T/d1.log" wait_for 60 "the daemon's start-up health check" '[ "$(health)" -ge 1 ]'
idle_at "$now"
assert_file_match "$T/d1.log" "this daemon leads the cluster-wide jobs"
p1=$(holder three "$LEADER_KEY")
[ -n "$p1" ] || fail "no session holds the leader's lock"
# Another holder waits for the leader's lock, and gets it when the session ends.
"${PSQL[@]}" -d three -c "select pg_advisory_lock(4344424203); select pg_sleep(60)" >/dev/null 2>&1 &
other=$!
_pids+=("$other")
wait_for 30 "the other leader to wait" \
	'[ "$(pq three "select count(*) from pg_locks where locktype = '"'"'advisory'"'"' and not granted and $LEADER_KEY")" = 1 ]'
assert_eq "$(pq three "select pg_terminate_backend($p1)")" t "terminating the leader's session"
wait_for 30 "the other to hold the leader's lock" '[ -n "$(holder three "$LEADER_KEY")" ]'
t=$((now + 6 * 3600000))
fakex_ctl "clock?set=$t" >/dev/null
WAIT_SHOW="$T/d1.log" wait_for 60 "the daemon to skip the health check" \
	'grep -q "job=health status=skipped" "$T/d1.log"'
idle_at "$t"
assert_eq "$(health)" 1 "health checks while another holds the leader's lock"
assert_file_match "$T/d1.log" "lock: the connection holding the cluster leader's lock of .* was lost \(.*\); taking the lock again if it is free"
assert_file_match "$T/d1.log" "another daemon leads the cluster-wide jobs; this one syncs only"
# The other lets go: the daemon leads again at the next time.
kill "$other" 2>/dev/null || true
wait "$other" 2>/dev/null || true
pq three "select pg_terminate_backend(pid) from pg_stat_activity where query like '%pg_sleep(60)%' and pid <> pg_backend_pid()" >/dev/null
wait_for 30 "the leader's lock to be free" '[ -z "$(holder three "$LEADER_KEY")" ]'
t=$((t + 6 * 3600000))
fakex_ctl "clock?set=$t" >/dev/null
WAIT_SHOW="$T/d1.log" wait_for 60 "the daemon's health check as leader again" '[ "$(health)" -ge 2 ]'
idle_at "$t"
assert_eq "$(health)" 2 "health checks once the daemon leads again"
assert_eq "$(grep -c "this daemon leads the cluster-wide jobs" "$T/d1.log")" 2 "times the daemon took the lead"
kill -TERM "$dp"
wait "$dp" 2>/dev/null || true
echo ok
