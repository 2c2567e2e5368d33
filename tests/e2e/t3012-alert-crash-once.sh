#!/usr/bin/env bash
# Nothing is lost across a crash: a process killed (SIGKILL) after an alert was raised
# (committed to the outbox) and before it was sent leaves it owed; the next process -
# a cron run or the daemon after its restart - sends it, once.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/alert_lib.sh"

rcv_start
rcv_channels
syms=BTCUSDT,ETHUSDT
slack() { count "x['path'].startswith('/services/') and 'alert \`$1\`' in t and '${2:-}' in t"; }
pd() { count "x['path'] == '/v2/enqueue' and t.endswith('/$1') and ' ${2:-trigger} ' in t"; }

fakex_start --data "$DATA" --now "$T_2026_03_19_18"
ck -q --symbols $syms --history-days 10 sync
ck -q --symbols $syms backup >/dev/null

# 1. cron health killed between raise and send.
RC=0
CANDLEKEEP_FAULT_POINT=alert_queued ck --symbols $syms health --now "$T_2026_03_19_18" \
	>"$T/h1.out" 2>&1 || RC=$?
assert_eq "$RC" 137 "health killed by SIGKILL at the fault point"
assert_eq "$(got)" 0 "nothing sent before the kill"
assert_eq "$(sql "select key||' '||state from alerts where key like 'health:%' and state='firing'")" \
	"health:backups firing" "the raise was committed"
assert_eq "$(sql "select group_concat(channel||':'||state, ' ') from alert_outbox where key='health:backups'")" \
	"pagerduty:pending slack:pending"
# The next cron run (any command) sends it, once.
ck_rc --symbols $syms health --now "$T_2026_03_19_18" >/dev/null 2>&1
assert_eq "$(slack health:backups)" 1 "sent after the crash, on Slack"
assert_eq "$(pd health:backups)" 1 "and on PagerDuty"
ck_rc --symbols $syms health --now "$T_2026_03_19_18" >/dev/null 2>&1
ck_rc --symbols $syms backup >/dev/null 2>&1
assert_eq "$(got)" 2 "once"

# 2. sync killed between raise and send; the daemon, started afterwards, sends it on its
#    own (nothing scheduled), once; then it is killed -9 itself and restarted: no repeat.
fakex_ctl 'faults?p5xx=1' >/dev/null
RC=0
CANDLEKEEP_FAULT_POINT=alert_queued ck -q --symbols $syms sync >"$T/s.out" 2>&1 || RC=$?
assert_eq "$RC" 137 "sync killed by SIGKILL at the fault point"
assert_eq "$(slack sync_failed:http)" 0 "nothing sent before the kill"
daemon_start() {
	CANDLEKEEP_SCHEDULE_SYNC= CANDLEKEEP_SCHEDULE_BACKUP= CANDLEKEEP_SCHEDULE_HEALTH= \
		CANDLEKEEP_SCHEDULE_AUDIT= "$CK" --db "$DB" --symbols $syms daemon \
		--listen 127.0.0.1:0 >>"$T/daemon.out" 2>>"$T/daemon.log" &
	DPID=$!
	_pids+=("$DPID")
}
daemon_start
wait_received 1 "x['path'].startswith('/services/') and 'alert \`sync_failed:http\`' in t" "the daemon's delivery"
wait_received 1 "x['path'] == '/v2/enqueue' and t.endswith('/sync_failed:http')" "the daemon's PagerDuty delivery"
wait_for 30 "both outbox rows of sync_failed:http sent" \
	'[ "$(sql "select count(*) from alert_outbox where key='"'sync_failed:http'"' and state='"'sent'"'")" = 2 ]'
kill -KILL "$DPID"
wait "$DPID" 2>/dev/null || true
daemon_start
# The restarted daemon's first look at the outbox is done once it logs its start.
wait_for 30 "the restarted daemon's start in its log" '[ "$(grep -c '"'"'"start"\|: start'"'"' "$T/daemon.log")" -ge 2 ]'
kill -TERM "$DPID"
wait "$DPID" || fail "daemon exit code after SIGTERM"
ck_rc -q --symbols $syms sync >/dev/null 2>&1
assert_eq "$RC" 1 "still failing"
assert_eq "$(slack sync_failed:http)" 1 "Slack got sync_failed once"
assert_eq "$(pd sync_failed:http)" 1 "PagerDuty got sync_failed once"
echo ok
