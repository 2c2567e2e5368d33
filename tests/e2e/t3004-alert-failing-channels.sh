#!/usr/bin/env bash
# Failing alert channels never fail or hold up a sync: a receiver answering 500, a port
# that refuses connections, an SMTP server rejecting the message and a receiver that
# never answers all leave the sync's exit code and run record as they would be without
# alerting; each failure is logged and counted (events alert_failed, metrics), and a
# hung receiver is bounded by [alert] timeout_ms. The webhook URL, the routing key and
# the SMTP password never appear in any output, log file or database row.
. "$(dirname "$0")/lib.sh"

python3 "$CK_TOP/tests/tools/alert_receiver.py" --port-file "$T/rcv.port" --log "$T/rcv.jsonl" \
	--http-status 500 --smtp-reply 554 >"$T/rcv.out" 2>&1 &
_pids+=($!)
WAIT_SHOW="$T/rcv.out" wait_for 30 "the receiver's port file" test -s "$T/rcv.port"
read -r HP SP <"$T/rcv.port"
# A port nobody listens on: bound, then closed again.
refused=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()')

hook_secret=Xh00kT0KENsecret77
rkey=R0UTINGKEYfailingSECRET0987654321
smtp_pw=SMTPpassw0rdSECRET
export CANDLEKEEP_ALERT_SLACK_WEBHOOK="http://127.0.0.1:$HP/services/T0/B0/$hook_secret"
export CANDLEKEEP_ALERT_PAGERDUTY_ROUTING_KEY="$rkey"
export CANDLEKEEP_ALERT_PAGERDUTY_URL="http://127.0.0.1:$refused/v2/enqueue"
export CANDLEKEEP_ALERT_SMTP_URL="smtp://127.0.0.1:$SP"
export CANDLEKEEP_ALERT_SMTP_TO="ops@test.invalid"
export CANDLEKEEP_ALERT_SMTP_USER="alerts"
export CANDLEKEEP_ALERT_SMTP_PASSWORD="$smtp_pw"
export CANDLEKEEP_ALERT_TIMEOUT_MS=2000
# plain SMTP allowed explicitly (the receiver offers no STARTTLS); failed deliveries are
# due again after 1 ms, so the next run retries them
export CANDLEKEEP_ALERT_SMTP_TLS=none
export CANDLEKEEP_ALERT_RETRY_MS=1
syms=BTCUSDT,ETHUSDT
mkdir "$T/logs"
n=0
# Every invocation's stdout and stderr is kept for the secrets check at the end.
# (candlekeep against this test's database and fakex, like lib.sh's ck, under an outer
# 60 s timeout.)
run() {
	n=$((n + 1))
	RC=0
	CANDLEKEEP_HTTP_RETRY_NET_BASE_MS=50 CANDLEKEEP_HTTP_RETRY_5XX_BASE_MS=50 \
		timeout 60 "$CK" --db "$DB" --base-url "$FAKEX_URL" "$@" >"$T/o.$n" 2>"$T/e.$n" || RC=$?
}

fakex_start --data "$DATA" --now "$T_2026_03_19_18"
run -v --symbols $syms --history-days 10 --log-dir "$T/logs" sync
assert_eq "$RC" 0 "first sync"
fakex_ctl 'faults?invalid_symbol=ETHUSDT' >/dev/null
fakex_ctl "clock?advance=$H4" >/dev/null

# 1. All three channels fail: the sync still ends partial with exit 1, as without alerts.
run -v --symbols $syms --history-days 10 --log-dir "$T/logs" sync
assert_eq "$RC" 1 "partial sync with failing channels"
assert_file_match "$T/o.$n" "sync partial: 2 symbols \(1 ok, 1 failed"
assert_eq "$(sql "select status from runs order by id desc limit 1")" partial
for ch in slack pagerduty email; do
	assert_file_match "$T/e.$n" "alert delivery failed.*channel=$ch"
done
assert_file_match "$T/e.$n" 'channel=slack .*error="HTTP 500 \(attempt 3\)"'
assert_file_match "$T/e.$n" "channel=pagerduty .*Couldn't connect"
assert_eq "$(grep -c '"path": "/services/' "$T/rcv.jsonl")" 3 "Slack attempts (retried on 500)"
assert_eq "$(sql "select subject from events where kind='alert_failed' order by subject" | tr '\n' ' ')" "email pagerduty slack " "alert_failed events"
assert_eq "$(sql "select state||' '||sends||' '||failures||' '||last_sent from alerts where key='sync_failed:invalid'")" "firing 0 3 0"
run --symbols $syms metrics
assert_eq "$RC" 0 "metrics"
cp "$T/o.$n" "$T/m.prom"
for ch in slack pagerduty email; do
	assert_file_match "$T/m.prom" "^candlekeep_alert_failures_total\\{channel=\"$ch\"\\} 1$"
done

# 2. Nothing was delivered, so the next failing run tries again (the outbox retries once
#    [alert] retry_ms has passed).
#    This time the receiver hangs: [alert] timeout_ms bounds each channel, so the run
#    ends long before the outer 60 s timeout with its normal exit code (not 124).
curl -fsS -m 5 -X POST "http://127.0.0.1:$HP/_ctl?hang=1" >/dev/null
export CANDLEKEEP_ALERT_PAGERDUTY_URL="http://127.0.0.1:$HP/v2/enqueue"
export CANDLEKEEP_ALERT_TIMEOUT_MS=1000
run --log-format json --symbols $syms --history-days 10 --log-dir "$T/logs" sync
assert_eq "$RC" 1 "sync with a hung receiver (124 would mean the outer timeout hit)"
assert_file_match "$T/e.$n" '"channel":"slack".*"error":"Timeout was reached'
assert_file_match "$T/e.$n" '"channel":"pagerduty".*"error":"Timeout was reached'
assert_eq "$(sql "select count(*) from events where kind='alert_failed'")" 6
assert_eq "$(sql "select failures from alerts where key='sync_failed:invalid'")" 6
curl -fsS -m 5 -X POST "http://127.0.0.1:$HP/_ctl?hang=0" >/dev/null

# 3. Secrets appear nowhere: outputs, run logs, the printed configuration, the database.
run config
assert_eq "$RC" 0 "config"
sql .dump >"$T/dump.sql"
for s in "$hook_secret" "$rkey" "$smtp_pw" "services/T0/B0"; do
	if grep -rlF -- "$s" "$T"/o.* "$T"/e.* "$T/logs" "$T/dump.sql" >"$T/leak" 2>/dev/null; then
		fail "secret '$s' leaked into: $(cat "$T/leak")"
	fi
done
[ -n "$(ls "$T/logs")" ] || fail "expected run log files in --log-dir"
# (The receiver did get them: the secrets went where they belong.)
grep -qF "$hook_secret" "$T/rcv.jsonl" || fail "the receiver never saw the webhook path"
echo ok
