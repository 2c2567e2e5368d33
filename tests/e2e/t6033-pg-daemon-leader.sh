#!/usr/bin/env bash
# Two daemons on one PostgreSQL database (issue 18): both sync (the symbols split by
# work claims), only the leader runs the cluster-wide jobs (here health, every 6 h):
# one health record per scheduled time, not two. When the leader is killed with
# SIGKILL, the server frees its leader's lock and the other daemon takes it at the
# next cluster-wide job. Clocks follow fakex's (the test hook --clock-url).
. "$(dirname "$0")/lib.sh"
. "$CK_TOP/tests/e2e/pg_lib.sh"

SYMS=BTCUSDT,ETHUSDT,TONUSDT,CFGUSDT
START=1773273600000 # 2026-03-12 00:00 UTC
pg_start
fakex_start --data "$DATA" --now "$START"
U=$(pg_createdb ck)
pq() { "${PSQL[@]}" -d ck -c "$1"; }

declare -A DP HP
daemon_start() {
	local n=$1
	rm -f "$T/http$n.port"
	CANDLEKEEP_MAIN_HISTORY_DAYS=5 CANDLEKEEP_SCHEDULE_AUDIT= CANDLEKEEP_SCHEDULE_BACKUP= \
	CANDLEKEEP_SCHEDULE_INTEGRITY_CHECK= \
	CANDLEKEEP_HTTP_RETRY_NET_BASE_MS=50 CANDLEKEEP_HTTP_RETRY_5XX_BASE_MS=50 \
		"$CK" --db "$U?application_name=d$n" --base-url "$FAKEX_URL" --symbols "$SYMS" daemon \
		--listen 127.0.0.1:0 --port-file "$T/http$n.port" --clock-url "$FAKEX_URL" \
		>>"$T/d$n.out" 2>>"$T/d$n.log" &
	DP[$n]=$!
	_pids+=("${DP[$n]}")
	wait_for 30 "daemon $n's port file" '[ -s "$T/http'"$n"'.port" ] ||
		{ kill -0 "${DP['"$n"']}" 2>/dev/null || { cat "$T/d'"$n"'.log" >&2; fail "daemon '"$n"' exited"; }; false; }'
	HP[$n]=$(cat "$T/http$n.port")
}
api() { curl -fsS -m 5 "http://127.0.0.1:${HP[$1]}/api/status"; }
# Waits until daemon $1 has looked at the clock at or after $2 and is idle.
wait_seen() {
	WAIT_SHOW="$T/d$1.log" wait_for 60 "daemon $1 to see clock $2 and be idle" \
		'[ "$(api '"$1"' | jq -r ".now >= '"$2"' and .running == null")" = true ]'
}
health() { pq "select count(*) from events where kind = 'health'"; }

daemon_start 1
WAIT_SHOW="$T/d1.log" wait_for 60 "daemon 1's start-up health check" '[ "$(health)" -ge 1 ]'
wait_seen 1 "$START"
daemon_start 2
wait_seen 2 "$START"
# Daemon 1 ran the start-up jobs (it leads); daemon 2 finds them done in the database.
assert_eq "$(health)" 1 "health records after both daemons started"
assert_file_match "$T/d1.log" "this daemon leads the cluster-wide jobs"
ok_syncs() { pq "select count(*) from runs where command = 'sync' and status = 'ok'"; }
assert_eq "$(ok_syncs)" 1 "start-up syncs"

# 06:00: both sync (the 04:05 time passed), only daemon 1 checks health.
t=$((START + 6 * 3600000))
fakex_ctl "clock?set=$t" >/dev/null
# (each daemon runs its due jobs in order, sync then health: wait for both ends)
WAIT_SHOW="$T/d1.log $T/d2.log" wait_for 60 "a sync by each daemon" '[ "$(ok_syncs)" -ge 3 ]'
WAIT_SHOW="$T/d1.log" wait_for 60 "daemon 1's health check" '[ "$(health)" -ge 2 ]'
WAIT_SHOW="$T/d2.log" wait_for 60 "daemon 2 to skip the health check" \
	'grep -q "job=health status=skipped" "$T/d2.log"'
wait_seen 1 "$t"
wait_seen 2 "$t"
assert_eq "$(health)" 2 "health records after 6 h"
assert_eq "$(ok_syncs)" 3 "syncs after 6 h: one by each daemon"
assert_file_match "$T/d2.log" "another daemon leads the cluster-wide jobs; this one syncs only"
assert_eq "$(grep -c 'job=health status=skipped' "$T/d2.log")" 1 "health skipped by daemon 2"

# The leader dies: its lock goes with its session; daemon 2 leads at the next time.
kill -KILL "${DP[1]}"
wait "${DP[1]}" 2>/dev/null || true
wait_for 60 "daemon 1's session to end" \
	'[ "$(pq "select count(*) from pg_stat_activity where application_name = '"'d1'"'")" = 0 ]'
t=$((t + 6 * 3600000))
fakex_ctl "clock?set=$t" >/dev/null
WAIT_SHOW="$T/d2.log" wait_for 60 "daemon 2's health check" '[ "$(health)" -ge 3 ]'
wait_seen 2 "$t"
assert_eq "$(health)" 3 "health records after the leader died"
assert_file_match "$T/d2.log" "this daemon leads the cluster-wide jobs"
echo "ok"
