# tests/e2e/alert_lib.sh — sourced by the alert scenarios after lib.sh: the local
# receiver (tests/tools/alert_receiver.py: Slack and PagerDuty over HTTP, a plain SMTP
# server) and checks on what it received.

# rcv_start [receiver flags...]: starts the receiver; sets HP (HTTP port), SP (SMTP).
rcv_start() {
	python3 "$CK_TOP/tests/tools/alert_receiver.py" --port-file "$T/rcv.port" --log "$T/rcv.jsonl" \
		"$@" >"$T/rcv.out" 2>&1 &
	_pids+=($!)
	WAIT_SHOW="$T/rcv.out" wait_for 30 "the receiver's port file" test -s "$T/rcv.port"
	read -r HP SP <"$T/rcv.port"
}

# rcv_ctl 'http_status=500': changes the receiver's answers.
rcv_ctl() { curl -fsS -m 5 -X POST "http://127.0.0.1:$HP/_ctl?$1" >/dev/null; }

# Slack and PagerDuty at the receiver (the secrets are test values).
rcv_channels() {
	export CANDLEKEEP_ALERT_SLACK_WEBHOOK="http://127.0.0.1:$HP/services/T0TEST/B0TEST/slacksecret42"
	export CANDLEKEEP_ALERT_PAGERDUTY_ROUTING_KEY="R0UTINGKEY0123456789abcdefSECRET"
	export CANDLEKEEP_ALERT_PAGERDUTY_URL="http://127.0.0.1:$HP/v2/enqueue"
	export CANDLEKEEP_ALERT_TIMEOUT_MS=3000
}

# got: payloads received so far (lines of the receiver log).
got() { wc -l <"$T/rcv.jsonl" | tr -d ' '; }

# count PYTHON_EXPR: how many received entries satisfy the expression (x = the entry,
# b = its JSON body or {}, t = Slack's text or PagerDuty's summary/action or "").
count() {
	python3 - "$T/rcv.jsonl" "$1" <<'PY'
import json, sys
n = 0
for l in open(sys.argv[1]).read().splitlines():
    x = json.loads(l)
    try:
        b = json.loads(x.get("body") or "{}")
    except ValueError:
        b = {}
    t = b.get("text") or (b.get("payload") or {}).get("summary") or ""
    t += " " + b.get("event_action", "") + " " + b.get("dedup_key", "")
    if eval(sys.argv[2]):
        n += 1
print(n)
PY
}

# wait_received N PYTHON_EXPR WHAT: bounded wait (30 s) until count EXPR reaches N.
wait_received() {
	local n=$1 expr=$2
	WAIT_SHOW="$T/rcv.jsonl" wait_for 60 "${3:-receiver}: $n of [$expr]" '[ "$(count "$expr")" -ge "$n" ]'
}
