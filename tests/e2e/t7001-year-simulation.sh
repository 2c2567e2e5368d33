#!/usr/bin/env bash
# A simulated year under the daemon (its clock follows fakex's through --clock-url):
# the clock moves on 1-3 days at a time; a fault matrix (5xx, 429, truncated bodies,
# malformed JSON, hangs) is on for every other month; the daemon is killed with -9 every
# few simulated days (during a sync when one runs) and restarted; a 3-day outage each
# month (daemon down, the exchange moves on); a page of the database is damaged once a
# month and `recover` repairs it from the daemon's own backups (twice a week here); the clock jumps back a
# day once and forward two days once. At the end: every closed candle of the year is
# stored exactly as recorded (0 missing, 0 wrong, 0 partial), no exchange hole is
# confirmed (the recorded futures data has none), integrity_check is ok.
. "$(dirname "$0")/lib.sh"

SYMS=BTCUSDT,ENAUSDT,TONUSDT
START=1742342400000          # 2025-03-19 00:00 UTC
END=$(( START + 365 * DAY )) # 2026-03-19 00:00 UTC, before the recorded files end
HIST=5
RANDOM=7001
fakex_start --data "$DATA" --now "$START"

DPID=
daemon_start() {
	rm -f "$T/http.port"
	CANDLEKEEP_MAIN_HISTORY_DAYS=$HIST CANDLEKEEP_SCHEDULE_AUDIT= \
	CANDLEKEEP_SCHEDULE_BACKUP="0 2 * * 1,4" CANDLEKEEP_SCHEDULE_HEALTH="0 0 * * *" \
	CANDLEKEEP_HTTP_RETRY_NET_BASE_MS=20 CANDLEKEEP_HTTP_RETRY_5XX_BASE_MS=20 \
	CANDLEKEEP_HTTP_RETRY_429_JITTER_S=0 CANDLEKEEP_HTTP_REQUEST_TIMEOUT_MS=2000 \
		"$CK" --db "$DB" --base-url "$FAKEX_URL" --symbols "$SYMS" daemon \
		--listen 127.0.0.1:0 --port-file "$T/http.port" --clock-url "$FAKEX_URL" \
		>>"$T/daemon.out" 2>>"$T/daemon.log" &
	DPID=$!
	_pids+=("$DPID")
	wait_for 60 "the daemon's port file" '[ -s "$T/http.port" ] ||
		{ kill -0 "$DPID" 2>/dev/null || { tail -20 "$T/daemon.log" >&2; fail "daemon exited"; }; false; }'
	HP=$(cat "$T/http.port")
}
daemon_stop() { # SIGTERM, bounded wait; exit code in $DRC
	kill -TERM "$DPID"
	wait_for 60 "the daemon to exit after SIGTERM" '! kill -0 "$DPID" 2>/dev/null'
	DRC=0; wait "$DPID" || DRC=$?
}
daemon_kill9() { kill -9 "$DPID" 2>/dev/null || true; wait "$DPID" 2>/dev/null || true; }
api() { curl -fsS -m 5 "http://127.0.0.1:$HP/api/status"; }
wait_seen() { # the scheduler has seen clock $1 and is idle
	local at=$1
	WAIT_SHOW="$T/daemon.log" wait_for 120 "the daemon to see clock $at and be idle" \
		'[ "$(api 2>/dev/null | jq -r ".now >= $at and .running == null")" = true ]'
}
iso() { date -u -d "@$(( $1 / 1000 ))" +%Y-%m-%dT%H:%MZ; }
setclock() { fakex_ctl "clock?set=$1" >/dev/null; NOW=$1; }

NOW=$START
daemon_start
wait_seen "$START"
kills=0 outages=0 drills=0 jumps=0 steps=0
day=0 month=-1
while [ $(( NOW + 3 * DAY )) -lt "$END" ]; do
	steps=$((steps + 1))
	[ $((steps % 10)) = 0 ] && note "step $steps at $(iso "$NOW"): $kills kills, $outages outages, $drills drills"
	m=$(( (NOW - START) / (30 * DAY) ))
	if [ "$m" != "$month" ]; then
		month=$m
		# the fault matrix for every other month
		if [ $((m % 2)) = 1 ]; then
			fakex_ctl 'faults?p5xx=0.08&p429=0.04&ptrunc=0.03&pmalformed=0.03&phang=0.01&hang_ms=2500&retry_after=1' >/dev/null
		else
			fakex_ctl 'faults?reset=1' >/dev/null
		fi
		# a 3-day outage: the daemon is down while the exchange moves on
		daemon_stop
		setclock $(( NOW + 3 * DAY ))
		daemon_start
		outages=$((outages + 1))
		wait_seen "$NOW"
		# a damaged page, repaired by recover from the daemon's backups and the exchange
		if [ "$m" -ge 1 ]; then
			daemon_stop
			pages=$(sqlite3 "$DB" 'pragma page_count')
			dd if=/dev/urandom of="$DB" bs=4096 seek=$(( pages / 2 + RANDOM % (pages / 3 + 1) )) count=1 \
				conv=notrunc 2>/dev/null
			fakex_ctl 'faults?reset=1' >/dev/null
			RC=0
			CANDLEKEEP_MAIN_HISTORY_DAYS=$HIST "$CK" --db "$DB" --base-url "$FAKEX_URL" --symbols "$SYMS" \
				recover >"$T/recover.$m" 2>&1 || RC=$?
			[ "$RC" = 0 ] || { cat "$T/recover.$m" >&2; fail "recover at $(iso "$NOW") exited $RC"; }
			assert_eq "$(sql 'pragma integrity_check')" ok "integrity after recover at $(iso "$NOW")"
			drills=$((drills + 1))
			[ $((m % 2)) = 1 ] &&
				fakex_ctl 'faults?p5xx=0.08&p429=0.04&ptrunc=0.03&pmalformed=0.03&phang=0.01&hang_ms=2500&retry_after=1' >/dev/null
			daemon_start
			wait_seen "$NOW"
		fi
	fi
	# the clock moves on 1-3 days and some hours
	setclock $(( NOW + (1 + RANDOM % 3) * DAY + (RANDOM % 6) * 3600000 ))
	# one jump back by a day and one forward by two, in the middle of the year
	if [ "$steps" = 60 ] || [ "$steps" = 90 ]; then
		wait_seen "$NOW"
		if [ "$steps" = 60 ]; then setclock $(( NOW - DAY )); else setclock $(( NOW + 2 * DAY )); fi
		jumps=$((jumps + 1))
	fi
	# every few steps: kill -9 at a random moment of the catch-up (sync, backup or health)
	if [ $((RANDOM % 4)) = 0 ]; then
		sleep "0.$(printf '%03d' $((RANDOM % 400)))"
		daemon_kill9
		kills=$((kills + 1))
		assert_eq "$(sql 'pragma integrity_check')" ok "integrity after kill -9 at $(iso "$NOW")"
		daemon_start
	fi
	wait_seen "$NOW"
done
note "$steps steps, $outages outages, $kills kill -9, $drills corruption drills, $jumps clock jumps"

# The end: no faults, the clock at the year's end, one last scheduled sync.
fakex_ctl 'faults?reset=1' >/dev/null
setclock "$END"
wait_seen "$END"
daemon_stop
assert_eq "$DRC" 0 "daemon exit at the end"
# catch anything the last scheduled time left (a symbol failed by the last faults)
ck -q --symbols "$SYMS" --history-days $HIST sync >/dev/null 2>&1 || true

from=$(( START - HIST * DAY ))
wrong=0 missing=0
for s in ${SYMS//,/ }; do
	expected_rows "$DATA/$s-4h.csv" "$END" "$from" >"$T/want.$s"
	sql "select open_time||','||open||','||high||','||low||','||close||','||volume||','||close_time||','||quote_volume||','||trades
		from candles where symbol='$s' and open_time >= $from order by open_time" >"$T/got.$s"
	missing=$(( missing + $(comm -23 "$T/want.$s" "$T/got.$s" | wc -l) ))
	wrong=$(( wrong + $(comm -13 "$T/want.$s" "$T/got.$s" | wc -l) ))
	cmp -s "$T/want.$s" "$T/got.$s" || { diff "$T/want.$s" "$T/got.$s" | head -5 >&2; }
done
assert_eq "$missing" 0 "candles missing after the year"
assert_eq "$wrong" 0 "candles wrong or not closed after the year"
assert_eq "$(sql 'pragma integrity_check')" ok "integrity at the end"
ck_rc --symbols "$SYMS" gaps >"$T/gaps" 2>&1
assert_eq "$RC" 0 "gaps after the year"
assert_eq "$(sql "select count(*) from holes" 2>/dev/null || echo 0)" 0 "exchange holes confirmed where the data has none"
note "year complete: $(sql 'select count(*) from candles') candles, 0 missing, 0 wrong"
