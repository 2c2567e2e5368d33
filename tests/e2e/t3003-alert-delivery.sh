#!/usr/bin/env bash
# Built-in alert delivery to local receivers (tests/tools/alert_receiver.py): a partial
# sync sends a Slack JSON message, a PagerDuty Events v2 trigger and an e-mail; the same
# condition is not sent again until [alert] repeat has passed; a second problem (the
# exchange down: critical) is its own alert, sent at once, the first not sent again; an
# ok sync sends one resolve per alert (PagerDuty resolve with the same dedup_key).
. "$(dirname "$0")/lib.sh"

rcv_start() {
	python3 "$CK_TOP/tests/tools/alert_receiver.py" --port-file "$T/rcv.port" --log "$T/rcv.jsonl" "$@" \
		>"$T/rcv.out" 2>&1 &
	_pids+=($!)
	WAIT_SHOW="$T/rcv.out" wait_for 30 "the receiver's port file" test -s "$T/rcv.port"
	read -r HP SP <"$T/rcv.port"
}
# Payloads received so far (lines of the receiver log).
got() { wc -l <"$T/rcv.jsonl" | tr -d ' '; }
# check LINE_FROM PYTHON_EXPR...: each expression must hold for the entries after line
# LINE_FROM; `e` is the list of entries (dicts), `slack`, `pd`, `mail` per channel.
check() {
	python3 - "$T/rcv.jsonl" "$@" <<'PY' || fail "payload check failed"
import json, sys
lines = open(sys.argv[1]).read().splitlines()[int(sys.argv[2]):]
e = [json.loads(l) for l in lines]
slack = [json.loads(x["body"]) for x in e if x["kind"] == "http" and x["path"].startswith("/services/")]
pd = [json.loads(x["body"]) for x in e if x["kind"] == "http" and x["path"] == "/v2/enqueue"]
mail = [x for x in e if x["kind"] == "smtp"]
for cond in sys.argv[3:]:
    if not eval(cond):
        print("does not hold:", cond)
        print(json.dumps(e, indent=1)[:3000])
        sys.exit(1)
PY
}

rcv_start
export CANDLEKEEP_ALERT_SLACK_WEBHOOK="http://127.0.0.1:$HP/services/T0TEST/B0TEST/slacksecret42"
export CANDLEKEEP_ALERT_PAGERDUTY_ROUTING_KEY="R0UTINGKEY0123456789abcdefSECRET"
export CANDLEKEEP_ALERT_PAGERDUTY_URL="http://127.0.0.1:$HP/v2/enqueue"
export CANDLEKEEP_ALERT_SMTP_URL="smtp://127.0.0.1:$SP"
export CANDLEKEEP_ALERT_SMTP_FROM="candlekeep@test.invalid"
export CANDLEKEEP_ALERT_SMTP_TO="ops@test.invalid, oncall@test.invalid"
export CANDLEKEEP_ALERT_TIMEOUT_MS=5000
# The receiver's SMTP side offers no STARTTLS: plain SMTP must be allowed explicitly.
export CANDLEKEEP_ALERT_SMTP_TLS=none
syms=BTCUSDT,ETHUSDT
sync() { ck_rc -q --symbols $syms --history-days 10 sync >"$T/out" 2>"$T/err"; }

fakex_start --data "$DATA" --now "$T_2026_03_19_18"
sync
assert_eq "$RC" 0 "first sync"
assert_eq "$(got)" 0 "an ok sync with nothing firing sends nothing"

# A partial run: one payload per channel.
fakex_ctl 'faults?invalid_symbol=ETHUSDT' >/dev/null
fakex_ctl "clock?advance=$H4" >/dev/null
sync
assert_eq "$RC" 1 "partial sync exit code is unchanged by alerting"
assert_eq "$(got)" 3 "payloads after the partial sync"
check 0 'len(slack) == 1 and len(pd) == 1 and len(mail) == 1' \
	'all(x["content_type"] == "application/json" for x in e if x["kind"] == "http")' \
	'"[WARNING]" in slack[0]["text"] and "sync partial (invalid): 1 symbol: ETHUSDT" in slack[0]["text"]' \
	'"ETHUSDT: invalid data" in slack[0]["text"] and "sync_failed:invalid" in slack[0]["text"]' \
	'pd[0]["routing_key"] == "R0UTINGKEY0123456789abcdefSECRET" and pd[0]["event_action"] == "trigger"' \
	'pd[0]["dedup_key"].startswith("candlekeep/") and pd[0]["dedup_key"].endswith("/sync_failed:invalid")' \
	'pd[0]["payload"]["severity"] == "warning" and pd[0]["payload"]["source"] and "sync partial" in pd[0]["payload"]["summary"]' \
	'"ETHUSDT" in pd[0]["payload"]["custom_details"]["detail"]' \
	'mail[0]["from"] == "<candlekeep@test.invalid>" and mail[0]["to"] == ["<ops@test.invalid>", "<oncall@test.invalid>"]' \
	'"Subject: [candlekeep WARNING] " in mail[0]["data"] and "sync partial (invalid): 1 symbol: ETHUSDT" in mail[0]["data"]' \
	'"X-Candlekeep-Alert: sync_failed:invalid" in mail[0]["data"] and "ETHUSDT: invalid data" in mail[0]["data"]'
# delivered: the severity and the fingerprint of the symbols the channel was told
fp=$(sql "select substr(delivered, 9) from alert_outbox where key='sync_failed:invalid' limit 1")
[ "${#fp}" = 8 ] || fail "fingerprint of the members in delivered: '$fp'"
dedup=$(python3 -c 'import json,sys; print([json.loads(json.loads(l)["body"])["dedup_key"] for l in open(sys.argv[1]) if "/v2/" in l][0])' "$T/rcv.jsonl")
# sends counts channel deliveries (one per channel); each channel has its outbox row.
assert_eq "$(sql "select state||' '||severity||' '||sends||' '||failures from alerts where key='sync_failed:invalid'")" "firing warning 3 0"
assert_eq "$(sql "select group_concat(channel||':'||delivered||':'||state, ' ') from (select * from alert_outbox where key='sync_failed:invalid' order by channel)")" \
	"email:warning $fp:sent pagerduty:warning $fp:sent slack:warning $fp:sent"

# The same condition again, within [alert] repeat (default 4h): nothing is sent.
sync
assert_eq "$RC" 1 "second partial sync"
assert_eq "$(got)" 3 "a repeat within [alert] repeat is suppressed"

# Once [alert] repeat has passed since each channel's last delivery (moved back 5h in
# the outbox rows, as a later cron run would see it), it is sent again as still firing.
sql "update alert_outbox set last_sent = last_sent - 5*3600*1000 where key='sync_failed:invalid'"
sync
assert_eq "$(got)" 6 "repeat after [alert] repeat"
check 3 'len(slack) == 1 and "still firing since" in slack[0]["text"]' \
	"pd[0][\"dedup_key\"] == \"$dedup\" and pd[0][\"event_action\"] == \"trigger\"" \
	'"status:   still firing" in mail[0]["data"]'

# A second problem (the exchange fails for every symbol: critical) is its own alert,
# sent at once; the first is not sent again (its symbol was not judged this run).
fakex_ctl 'faults?p5xx=1' >/dev/null
sync
assert_eq "$RC" 1 "failed sync"
assert_eq "$(sql "select status from runs order by id desc limit 1")" failed
assert_eq "$(got)" 9 "the second problem, once per channel"
dedup2=${dedup%:invalid}:http
check 6 '"[CRITICAL]" in slack[0]["text"] and "sync failed (http)" in slack[0]["text"]' \
	"pd[0][\"dedup_key\"] == \"$dedup2\" and pd[0][\"payload\"][\"severity\"] == \"critical\"" \
	'"Subject: [candlekeep CRITICAL] " in mail[0]["data"]'
assert_eq "$(sql "select state||' '||severity from alerts where key='sync_failed:invalid'")" "firing warning"

# Recovery: one resolve per alert and channel, PagerDuty's with each dedup_key.
fakex_ctl 'faults?reset=1' >/dev/null
sync
assert_eq "$RC" 0 "recovered sync"
assert_eq "$(got)" 15 "resolve"
check 9 'len(slack) == 2 and all("[RESOLVED]" in x["text"] for x in slack)' \
	'any("sync ok again" in x["text"] for x in slack)' \
	"sorted(x[\"dedup_key\"] for x in pd) == sorted([\"$dedup\", \"$dedup2\"]) and all(x[\"event_action\"] == \"resolve\" for x in pd)" \
	'len(mail) == 2 and all("Subject: [candlekeep RESOLVED] " in x["data"] and "status:   resolved" in x["data"] for x in mail)'
assert_eq "$(sql "select group_concat(state, ' ') from alerts where key like 'sync_failed%'")" "resolved resolved"
sync
assert_eq "$(got)" 15 "nothing more once resolved"

# Deliveries are events, and metrics count them.
ck --symbols $syms metrics >"$T/m.prom"
assert_file_match "$T/m.prom" '^candlekeep_alerts_sent_total\{channel="slack"\} 5$'
assert_file_match "$T/m.prom" '^candlekeep_alerts_sent_total\{channel="pagerduty"\} 5$'
assert_file_match "$T/m.prom" '^candlekeep_alerts_sent_total\{channel="email"\} 5$'
assert_file_match "$T/m.prom" '^candlekeep_alert_failures_total\{channel="slack"\} 0$'
echo ok
