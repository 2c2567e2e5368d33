#!/usr/bin/env bash
# Integrity is measured, not inferred: the daemon's health job records its quick_check
# and the integrity_check job ([schedule] integrity_check) its full check, and the
# metrics read those records. On a database with one damaged page `candlekeep metrics`
# still exits 0 and says candlekeep_database_integrity_ok 0 (with the part it could not
# read in candlekeep_metrics_collect_ok), and the daemon's /metrics answers 200.
. "$(dirname "$0")/lib.sh"

fakex_start --data "$DATA" --now "$T_2026_03_19_18"
ck -q --symbols BTCUSDT,ETHUSDT --history-days 5 sync >/dev/null 2>&1 || fail "sync failed"

# daemon_start NAME: the daemon with only the health and integrity jobs (both run at
# once: they never ran), HTTP on an ephemeral port; waits until both ran.
daemon_start() {
	rm -f "$T/http.port"
	CANDLEKEEP_SCHEDULE_SYNC= CANDLEKEEP_SCHEDULE_BACKUP= CANDLEKEEP_SCHEDULE_AUDIT= \
	CANDLEKEEP_SCHEDULE_HEALTH='0 */6 * * *' CANDLEKEEP_SCHEDULE_INTEGRITY_CHECK='30 3 * * 0' \
		"$CK" --db "$DB" --symbols BTCUSDT,ETHUSDT daemon --listen 127.0.0.1:0 \
		--port-file "$T/http.port" >"$T/$1.out" 2>"$T/$1.log" &
	DPID=$!
	_pids+=("$DPID")
	WAIT_SHOW="$T/$1.log" wait_for 30 "the daemon's port file" test -s "$T/http.port"
	U="http://127.0.0.1:$(cat "$T/http.port")"
	WAIT_SHOW="$T/$1.log" wait_for 30 "the daemon's first health and integrity_check runs" \
		'[ "$(curl -fsS "$U/api/status" | jq '"'"'[.jobs[] | select(.name == "health" or .name == "integrity_check") | .runs] | min'"'"')" -ge 1 ] 2>/dev/null'
}
daemon_stop() { kill -TERM "$DPID"; wait "$DPID" || fail "daemon exit $?"; }
metric() { grep -E "^$2 " "$1" | awk '{print $2}'; }

# --- a healthy database: both checks measured and recorded ---------------------------
daemon_start healthy
curl -fsS -o "$T/m1.prom" "$U/metrics" || fail "/metrics"
daemon_stop
assert_eq "$(metric "$T/m1.prom" 'candlekeep_database_integrity_ok\{check="quick"\}')" 1 "quick check recorded ok"
assert_eq "$(metric "$T/m1.prom" 'candlekeep_database_integrity_ok\{check="full"\}')" 1 "full check recorded ok"
assert_eq "$(sql "SELECT count(*) FROM events WHERE kind = 'integrity_check' AND subject = 'full' AND value = 1")" 1 "full check event"
assert_eq "$(sql "SELECT count(*) FROM events WHERE kind = 'integrity_check' AND subject = 'quick' AND value = 1")" 1 "quick check event"
assert_file_match "$T/m1.prom" '^candlekeep_build_info\{version="[0-9][^"]*",sqlite="3\.[0-9.]+"\} 1$'
for p in open runs candles gaps events alerts backups state; do
	assert_eq "$(metric "$T/m1.prom" "candlekeep_metrics_collect_ok\\{part=\"$p\"\\}")" 1 "part $p read"
done

# --- one damaged page: the candles table's root --------------------------------------
# (the jobs' records are removed first, so that the next daemon catches up at once)
sql "DELETE FROM events WHERE kind IN ('health', 'integrity_check')"
sql "PRAGMA wal_checkpoint(TRUNCATE)" >/dev/null
root=$(sql "SELECT rootpage FROM sqlite_master WHERE name = 'candles'")
psize=$(sql "PRAGMA page_size")
head -c "$psize" /dev/zero | tr '\0' '\377' |
	dd of="$DB" bs="$psize" seek=$((root - 1)) conv=notrunc status=none
sqlite3 "$DB" "PRAGMA quick_check" >/dev/null 2>&1 && [ "$(sqlite3 "$DB" "PRAGMA quick_check" 2>/dev/null)" = ok ] &&
	fail "the test did not damage the database"

ck_rc --symbols BTCUSDT,ETHUSDT metrics >"$T/m2.prom" 2>"$T/m2.err"
assert_eq "$RC" 0 "metrics on a damaged database"
assert_eq "$(metric "$T/m2.prom" 'candlekeep_database_integrity_ok\{check="quick"\}')" 0 "integrity_ok on a damaged database"
assert_eq "$(metric "$T/m2.prom" 'candlekeep_metrics_collect_ok\{part="candles"\}')" 0 "candles part unreadable"
assert_eq "$(metric "$T/m2.prom" 'candlekeep_metrics_collect_ok\{part="runs"\}')" 1 "runs part still read"
assert_file_match "$T/m2.prom" '^candlekeep_sync_runs_total\{command="sync",status="ok"\} 1$'
assert_file_match "$T/m2.err" 'reading candles: .*malformed'
# the textfile flavour too: written, exit 0
mkdir "$T/tf"
ck_rc --symbols BTCUSDT,ETHUSDT metrics --textfile "$T/tf" 2>/dev/null
assert_eq "$RC" 0 "metrics --textfile on a damaged database"
assert_file_match "$T/tf/candlekeep.prom" '^candlekeep_database_integrity_ok\{check="quick"\} 0$'

daemon_start damaged
code=$(curl -s -o "$T/m3.prom" -w '%{http_code}' "$U/metrics")
assert_eq "$code" 200 "/metrics on a damaged database"
assert_eq "$(metric "$T/m3.prom" 'candlekeep_database_integrity_ok\{check="quick"\}')" 0 "/metrics integrity_ok quick"
assert_eq "$(metric "$T/m3.prom" 'candlekeep_database_integrity_ok\{check="full"\}')" 0 "/metrics integrity_ok full (the job's record)"
assert_match "$(metric "$T/m3.prom" 'candlekeep_database_corruption_detections_total')" '^[1-9]' "corruption counted"
assert_eq "$(curl -fsS "$U/api/status" | jq -r '.jobs[] | select(.name == "integrity_check") | .last_status')" failed "integrity job outcome"
assert_file_match "$T/damaged.log" 'is damaged: .*candlekeep recover'
daemon_stop
echo ok
