#!/usr/bin/env bash
# The daemon over three simulated days (its clock follows fakex's through the test
# hook --clock-url): it syncs at every scheduled time of the default cron
# `5 0,4,8,12,16,20 * * *` and never a minute early; a restart without an outage does
# not re-sync; after a one-day outage it catches up at once and the data is complete;
# SIGTERM in the middle of a slow sync stops it with exit 0 within 10 s, the database
# passes integrity_check and the next sync completes.
. "$(dirname "$0")/lib.sh"

SYMS=BTCUSDT,ETHUSDT,TONUSDT
START=1773273600000          # 2026-03-12 00:00 UTC
MIN=60000
fakex_start --data "$DATA" --now "$START"

DPID=
daemon_start() {
	rm -f "$T/http.port"
	CANDLEKEEP_MAIN_HISTORY_DAYS=5 CANDLEKEEP_SCHEDULE_AUDIT= \
	CANDLEKEEP_HTTP_RETRY_NET_BASE_MS=50 CANDLEKEEP_HTTP_RETRY_5XX_BASE_MS=50 \
		"$CK" --db "$DB" --base-url "$FAKEX_URL" --symbols "$SYMS" daemon \
		--listen 127.0.0.1:0 --port-file "$T/http.port" --clock-url "$FAKEX_URL" \
		>>"$T/daemon.out" 2>>"$T/daemon.log" &
	DPID=$!
	_pids+=("$DPID")
	wait_for 30 "the daemon's port file" '[ -s "$T/http.port" ] ||
		{ kill -0 "$DPID" 2>/dev/null || { cat "$T/daemon.log" >&2; fail "daemon exited"; }; false; }'
	HP=$(cat "$T/http.port")
}
# daemon_stop: SIGTERM, then a bounded wait (10 s) for exit; the exit code is in $DRC.
daemon_stop() {
	kill -TERM "$DPID"
	wait_for 30 "the daemon to exit after SIGTERM" '! kill -0 "$DPID" 2>/dev/null'
	DRC=0
	wait "$DPID" || DRC=$?
}
api() { curl -fsS -m 5 "http://127.0.0.1:$HP/api/status"; }
# Waits until the scheduler has looked at the clock at or after $1 and is idle.
wait_seen() {
	local at=$1
	wait_for 60 "the daemon to see clock $at and be idle" \
		'[ "$(api | jq -r ".now >= $at and .running == null")" = true ]'
}
ok_syncs() { sql "select count(*) from runs where command='sync' and status='ok'"; }
wait_syncs() {
	local n=$1
	WAIT_SHOW="$T/daemon.log" wait_for 60 "$n successful syncs" '[ "$(ok_syncs)" -ge "$n" ]'
}
iso() { date -u -d "@$(( $1 / 1000 ))" +%Y-%m-%dT%H:%M:%SZ; }
# Every symbol holds exactly the recorded closed candles from the history start to $1.
check_complete() {
	local now=$1 from=$(( START - 5 * DAY )) s
	for s in ${SYMS//,/ }; do
		expected_rows "$DATA/$s-4h.csv" "$now" "$from" 7 >"$T/want"
		sql "select open_time||','||open||','||high||','||low||','||close||','||volume||','||close_time from candles where symbol='$s' order by open_time" >"$T/got"
		cmp -s "$T/want" "$T/got" || { diff "$T/want" "$T/got" | head; fail "$s incomplete at $(iso "$now")"; }
	done
}

# --- start on an empty database: a job that never ran runs at once -------------------
daemon_start
wait_syncs 1
assert_file_match "$T/daemon.log" "catch-up: sync runs now"
wait_seen "$START"
check_complete "$START"

# --- three days of scheduled times ----------------------------------------------------
n=1
for day in 0 1 2; do
	for h in 0 4 8 12 16 20; do
		due=$(( START + day * DAY + h * 3600000 + 5 * MIN ))
		# a minute before: the scheduler sees the time, plans exactly `due`, runs nothing
		fakex_ctl "clock?set=$(( due - MIN ))" >/dev/null
		wait_seen $(( due - MIN ))
		assert_eq "$(ok_syncs)" "$n" "sync ran early before $(iso "$due")"
		assert_eq "$(api | jq '.jobs[0].next')" "$due" "next sync time"
		# at the time: it runs, for that due time
		fakex_ctl "clock?set=$due" >/dev/null
		n=$(( n + 1 ))
		wait_syncs "$n"
		assert_file_match "$T/daemon.log" "job start job=sync due=$(iso "$due") catch_up=0"
	done
done
now=$(( START + 2 * DAY + 20 * 3600000 + 5 * MIN ))
wait_seen "$now"
check_complete "$now"
assert_eq "$(ok_syncs)" 19 "1 catch-up + 18 scheduled syncs"
assert_eq "$(sql "select count(*) from events where kind='sync_skipped'")" 0 "no sync skipped"
# the other jobs ran at their times too: a backup each day at 02:00, health every 6 h
assert_eq "$(grep -c 'job start job=backup due=.*T02:00:00Z' "$T/daemon.log")" 3 "daily backups"
assert_eq "$(grep -c 'job start job=health due=.*T\(00\|06\|12\|18\):00:00Z' "$T/daemon.log")" 12 "health at start and every 6 h"

# --- a restart without an outage does not sync again ----------------------------------
daemon_stop
assert_eq "$DRC" 0 "daemon exit code after SIGTERM"
: >"$T/daemon.log"
daemon_start
wait_seen "$now"
assert_eq "$(ok_syncs)" 19 "a restart re-synced without a missed time"
if grep -q "catch-up: sync" "$T/daemon.log"; then fail "catch-up after a restart without outage"; fi

# --- a one-day outage: catch-up at start, data complete -----------------------------
daemon_stop
assert_eq "$DRC" 0
now=$(( now + DAY + 3 * 3600000 ))     # 2026-03-15 23:05
fakex_ctl "clock?set=$now" >/dev/null
: >"$T/daemon.log"
daemon_start
wait_syncs 20
assert_file_match "$T/daemon.log" "catch-up: sync runs now"
wait_seen "$now"
check_complete "$now"

# --- SIGTERM in the middle of a slow sync ---------------------------------------------
fakex_ctl "faults?latency_ms=1500" >/dev/null
due=$(( now - now % (4 * 3600000) + 4 * 3600000 + 5 * MIN ))
before=$(fakex_requests '"path":"/fapi/v1/klines"')
fakex_ctl "clock?set=$due" >/dev/null
wait_for 30 "the due sync's first klines request" '[ "$(fakex_requests '"'"'"path":"/fapi/v1/klines"'"'"')" -gt "$before" ]'
[ "$(api | jq -r .running)" = sync ] || fail "no sync running at $(iso "$due")"
daemon_stop
assert_eq "$DRC" 0 "exit code after SIGTERM mid-sync"
assert_file_match "$T/daemon.log" "stopping: signal received"
assert_eq "$(sql 'pragma integrity_check')" ok "integrity after SIGTERM"
assert_eq "$(sql "select count(*) from runs where status='running'")" 0 "a run left running"
fakex_ctl "faults?reset=1" >/dev/null
ck -q --symbols "$SYMS" sync >"$T/after" 2>&1 || { cat "$T/after"; fail "the sync after the stop failed"; }
check_complete "$due"
echo ok
