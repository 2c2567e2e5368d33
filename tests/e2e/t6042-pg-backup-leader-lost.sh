#!/usr/bin/env bash
# A daemon that loses the cluster leader's lock during a backup (issue 18): the lock's
# session is terminated on the server and another session takes the lock while the
# leader's backup is in its first phase (pg_dump, held back by a wrapper). Between the
# phases the backup asks whether this daemon still leads: it stops before the warm
# copy, logging why, the job ends "stopped"; the verified hot copy stays recorded,
# nothing is written to the warm tier, and the daemon lives on (it syncs only).
. "$(dirname "$0")/lib.sh"
. "$CK_TOP/tests/e2e/pg_lib.sh"

START=1773273600000 # 2026-03-12 00:00 UTC
pg_start
fakex_start --data "$DATA" --now "$START"
U=$(pg_createdb ck)
pq() { "${PSQL[@]}" -d ck -c "$1"; }
# pg_dump waits (at most 60 s) for the test's go-ahead before it dumps.
mkdir -p "$T/bin" "$T/bk/hot" "$T/bk/warm"
cat >"$T/bin/pg_dump" <<SH
#!/bin/sh
: >"$T/dump.started"
i=0
while [ ! -e "$T/dump.go" ] && [ \$i -lt 600 ]; do sleep 0.1; i=\$((i + 1)); done
exec /usr/bin/pg_dump "\$@"
SH
chmod +x "$T/bin/pg_dump"
ln -s /usr/bin/pg_restore "$T/bin/pg_restore"

CANDLEKEEP_MAIN_HISTORY_DAYS=2 CANDLEKEEP_SCHEDULE_AUDIT= CANDLEKEEP_SCHEDULE_INTEGRITY_CHECK= \
CANDLEKEEP_BACKUP_HOT_DIR="$T/bk/hot" CANDLEKEEP_BACKUP_WARM_DIR="$T/bk/warm" \
CANDLEKEEP_BACKUP_PG_BIN_DIR="$T/bin" \
	"$CK" --db "$U?application_name=d1" --base-url "$FAKEX_URL" --symbols BTCUSDT,ETHUSDT daemon \
	--listen 127.0.0.1:0 --port-file "$T/http.port" --clock-url "$FAKEX_URL" \
	>"$T/d.out" 2>"$T/d.log" &
DPID=$!
_pids+=("$DPID")
WAIT_SHOW="$T/d.log" wait_for 60 "the daemon's start-up backup to run pg_dump" '[ -e "$T/dump.started" ]'
assert_file_match "$T/d.log" "this daemon leads the cluster-wide jobs"

# The leader's lock (advisory key 4344424203: class 1, object 49456907) changes hands:
# its session terminated, the lock taken by another session, held until the test ends.
lock="locktype = 'advisory' and classid = 1 and objid = 49456907 and objsubid = 1 and granted"
PGAPPNAME=thief "${PSQL[@]}" -d ck >"$T/thief.out" 2>&1 <<SQL &
SELECT pg_terminate_backend(pid) FROM pg_locks WHERE $lock;
SELECT pg_advisory_lock(4344424203);
SELECT pg_sleep(120);
SQL
_pids+=($!)
wait_for 30 "another session to hold the leader's lock" \
	'[ "$(pq "select a.application_name from pg_locks l join pg_stat_activity a using (pid) where $lock")" = thief ]'
: >"$T/dump.go"
WAIT_SHOW="$T/d.log" wait_for 60 "the backup job to end" 'grep -q "job=backup status=" "$T/d.log"'
assert_file_match "$T/d.log" "job=backup status=stopped"
assert_file_match "$T/d.log" "stopped before the warm copy: this daemon no longer leads the cluster-wide jobs \\(its leader.s lock"
assert_file_match "$T/d.log" "another daemon leads the cluster-wide jobs; this one syncs only"
# The hot copy was made and verified before the lock was found lost; nothing after it.
assert_eq "$(pq "select tier || ' ' || status from backups order by id")" "hot verified" "backups recorded"
ls "$T/bk/hot/"*.pgdump >/dev/null 2>&1 || fail "no hot backup file"
assert_eq "$(ls -A "$T/bk/warm")" "" "files in the warm tier"
kill -0 "$DPID" 2>/dev/null || { cat "$T/d.log"; fail "the daemon exited"; }
kill -TERM "$DPID"
wait "$DPID" || true
echo ok
