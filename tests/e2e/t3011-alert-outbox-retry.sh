#!/usr/bin/env bash
# The alert outbox: each (alert, channel) has its own state. A channel that failed is
# retried with back-off ([alert] retry_ms, doubling), not before, until it succeeds -
# by the next cron run once the back-off passed, or by the daemon on its own - while
# the channel that took it is not sent it again. A failed PagerDuty resolve is retried
# although Slack took its resolve (the incident does not stay open). A channel whose
# trigger never got through receives no RESOLVED when the alert clears.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/alert_lib.sh"

rcv_start
rcv_channels
export CANDLEKEEP_ALERT_RETRY_MS=60000
syms=BTCUSDT,ETHUSDT
K=sync_failed:invalid   # the alert the helpers below look at
sync() { ck_rc -q --symbols $syms --history-days 10 sync >"$T/out" 2>"$T/err"; }
slack() { count "x['path'].startswith('/services/') and 'alert \`$K\`' in t and '$1' in t"; }
pd() { count "x['path'] == '/v2/enqueue' and t.endswith('/$K') and ' $1 ' in t"; }
# (delivered without the fingerprint of the symbols: the severity the channel took)
row() { sql "select substr(delivered, 1, instr(delivered || ' ', ' ') - 1)||' '||state||' '||attempts from alert_outbox where key='$K' and channel='$1'"; }
# PagerDuty's retry time (next_at) lies retry_ms x $1 after a moment of the run between
# $2 and $3 (ms, taken before and after it): no wall-clock slack that a loaded machine
# could exceed.
due_after() {
	local at
	at=$(sql "select next_at from alert_outbox where channel='pagerduty'")
	[ "$at" -ge $(($2 + 60000 * $1)) ] && [ "$at" -le $(($3 + 60000 * $1)) ] ||
		fail "PagerDuty's retry is due at $at; expected [alert] retry_ms (60 s) x $1 after the run ($2..$3)"
}
# As if the back-off of every failed delivery had passed.
backoff_passed() { sql "update alert_outbox set next_at = 0"; }

fakex_start --data "$DATA" --now "$T_2026_03_19_18"
sync
assert_eq "$RC" 0 "first sync"

# 1. PagerDuty answers 500: Slack gets the trigger, PagerDuty 3 attempts, then it waits.
rcv_ctl pd_status=500
fakex_ctl 'faults?invalid_symbol=ETHUSDT' >/dev/null
fakex_ctl "clock?advance=$H4" >/dev/null
t0=$(date +%s%3N)
sync
t1=$(date +%s%3N)
assert_eq "$RC" 1 "partial sync"
assert_eq "$(slack '[WARNING]')" 1 "Slack trigger"
assert_eq "$(pd trigger)" 3 "PagerDuty attempts of one delivery"
assert_eq "$(row slack)" "warning sent 0"
assert_eq "$(row pagerduty)" " retrying 1"
due_after 1 "$t0" "$t1"

# 2. The next run within the back-off does not hammer the failing channel.
sync
assert_eq "$(pd trigger)" 3 "no retry before the back-off passed"

# 3. Once it passed, the next cron run retries; still failing: the back-off doubles.
backoff_passed
t0=$(date +%s%3N)
sync
t1=$(date +%s%3N)
assert_eq "$(pd trigger)" 6 "retried after the back-off"
assert_eq "$(row pagerduty)" " retrying 2"
due_after 2 "$t0" "$t1"

# 4. The daemon retries on its own (no new raise: nothing is scheduled), with its own
#    back-off, until the receiver takes it; Slack is not sent it again.
backoff_passed
CANDLEKEEP_ALERT_RETRY_MS=200 CANDLEKEEP_ALERT_RETRY_MAX_MS=400 CANDLEKEEP_SCHEDULE_SYNC= \
	CANDLEKEEP_SCHEDULE_BACKUP= CANDLEKEEP_SCHEDULE_HEALTH= CANDLEKEEP_SCHEDULE_AUDIT= \
	"$CK" --db "$DB" --symbols $syms daemon --listen 127.0.0.1:0 >"$T/daemon.out" 2>"$T/daemon.log" &
DPID=$!
_pids+=("$DPID")
wait_received 12 "x['path'] == '/v2/enqueue'" "the daemon's retries"
rcv_ctl pd_status=0
wait_for 60 "the daemon to deliver the trigger (PagerDuty outbox row 'warning sent 0')" \
	'[ "$(row pagerduty)" = "warning sent 0" ]'
kill -TERM "$DPID"
wait "$DPID" || fail "daemon exit code after SIGTERM"
assert_eq "$(slack '[WARNING]')" 1 "Slack not sent the trigger again"
assert_file_match "$T/daemon.log" "alert delivered key=sync_failed:invalid channel=pagerduty action=trigger"

# 5. Recovery while PagerDuty fails again: Slack takes its resolve, PagerDuty's resolve
#    stays owed and goes out at the next run after the back-off.
rcv_ctl pd_status=503
fakex_ctl 'faults?reset=1' >/dev/null
sync
assert_eq "$RC" 0 "recovered sync"
assert_eq "$(slack '[RESOLVED]')" 1 "Slack resolve"
assert_eq "$(sql "select state from alerts where key='sync_failed:invalid'")" resolved
assert_eq "$(row pagerduty)" "warning retrying 1" "PagerDuty still owed its resolve"
rcv_ctl pd_status=0
backoff_passed
sync
assert_eq "$(pd resolve)" 4 "PagerDuty resolve delivered on the retry (3 failed attempts before)"
assert_eq "$(row pagerduty)" " sent 0"
assert_eq "$(slack '[RESOLVED]')" 1 "Slack's resolve not sent twice"

# 6. A new failure whose PagerDuty trigger never gets through, then recovery: Slack
#    gets trigger and resolve, PagerDuty no resolve for an alert it never got.
rcv_ctl pd_status=500
fakex_ctl 'faults?p5xx=1' >/dev/null   # (the recorded candles end here: fail the exchange)
K=sync_failed:http
sync
assert_eq "$RC" 1 "failed sync"
assert_eq "$(slack '[CRITICAL]')" 1 "second Slack trigger"
before=$(pd resolve)
rcv_ctl pd_status=0
fakex_ctl 'faults?reset=1' >/dev/null
backoff_passed
sync
assert_eq "$RC" 0
assert_eq "$(slack '[RESOLVED]')" 1 "Slack resolve of the second alert"
assert_eq "$(pd resolve)" "$before" "no PagerDuty resolve for a trigger it never received"
assert_eq "$(row pagerduty)" " cancelled 0"
echo ok
