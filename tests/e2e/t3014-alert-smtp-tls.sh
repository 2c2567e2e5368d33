#!/usr/bin/env bash
# Alert e-mail requires TLS by default ([alert] smtp_tls = required): a server that
# offers no STARTTLS gets neither the login nor the message, and the error names the
# server and the setting; a STARTTLS server whose certificate is not trusted is refused
# with a hint at [alert] smtp_ca_file; with smtp_ca_file naming its CA the mail goes
# over TLS (login included). smtp_tls = none allows plain SMTP, explicitly.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/alert_lib.sh"

rcv_start   # plain SMTP on $SP: advertises AUTH PLAIN, no STARTTLS
export CANDLEKEEP_ALERT_SMTP_FROM="candlekeep@test.invalid"
export CANDLEKEEP_ALERT_SMTP_TO="ops@test.invalid"
export CANDLEKEEP_ALERT_SMTP_USER="alerts"
export CANDLEKEEP_ALERT_SMTP_PASSWORD="SMTPpassw0rdSECRET"
export CANDLEKEEP_ALERT_TIMEOUT_MS=5000
export CANDLEKEEP_ALERT_RETRY_MS=1   # a failed delivery is due again at the next run
syms=BTCUSDT,ETHUSDT
fakex_start --data "$DATA" --now "$T_2026_03_19_18"
ck -q --symbols $syms --history-days 10 sync
# health: no backups yet, so health:backups is raised (by e-mail only).
health() { ck_rc -q --symbols $syms health --now "$T_2026_03_19_18" >"$T/h.out" 2>"$T/h.err"; }

# 1. Plain server, TLS required (the default): refused before AUTH, nothing sent.
export CANDLEKEEP_ALERT_SMTP_URL="smtp://127.0.0.1:$SP"
health
assert_eq "$RC" 2 "health exit code (CRITICAL) is unchanged by alerting"
assert_file_match "$T/h.err" "127\.0\.0\.1:$SP offers no STARTTLS"
assert_file_match "$T/h.err" "smtp_tls = none"
assert_eq "$(count "x['kind'] == 'smtp_auth'")" 0 "no login sent in clear"
assert_eq "$(count "x['kind'] == 'smtp'")" 0 "no message sent in clear"
assert_eq "$(sql "select state from alert_outbox where key='health:backups' and channel='email'")" retrying
if grep -qF SMTPpassw0rdSECRET "$T/h.err" "$T/h.out"; then fail "the SMTP password was printed"; fi

# 2. A STARTTLS server with a throwaway self-signed certificate for 127.0.0.1.
openssl req -x509 -newkey rsa:2048 -nodes -keyout "$T/key.pem" -out "$T/cert.pem" -days 1 \
	-subj "/CN=127.0.0.1" -addext "subjectAltName=IP:127.0.0.1" >/dev/null 2>&1 ||
	fail "openssl could not make a test certificate"
/usr/bin/python3 "$CK_TOP/tests/tools/smtp_tls_server.py" --port-file "$T/tls.port" \
	--log "$T/tls.jsonl" --cert "$T/cert.pem" --key "$T/key.pem" >"$T/tls.out" 2>&1 &
_pids+=($!)
WAIT_SHOW="$T/tls.out" wait_for 30 "the TLS SMTP server's port file" test -s "$T/tls.port"
TP=$(cat "$T/tls.port")
export CANDLEKEEP_ALERT_SMTP_URL="smtp://127.0.0.1:$TP"
# Not trusted (not in the system's CA store): refused, with the setting to use.
health
assert_file_match "$T/h.err" "127\.0\.0\.1:$TP: its TLS certificate is not trusted"
assert_file_match "$T/h.err" "smtp_ca_file"
assert_eq "$(wc -l <"$T/tls.jsonl" | tr -d ' ')" 0 "nothing delivered to an untrusted server"
# Trusted through [alert] smtp_ca_file: delivered over STARTTLS, login included.
export CANDLEKEEP_ALERT_SMTP_CA_FILE="$T/cert.pem"
health
[ ! -s "$T/h.err" ] || { cat "$T/h.err" >&2; fail "health reported an alert error"; }
python3 - "$T/tls.jsonl" <<'PY' || fail "the TLS server's log"
import json, sys
e = [json.loads(l) for l in open(sys.argv[1])]
assert len(e) == 1, e
m = e[0]
assert m["tls"] is True and m["auth"] == "alerts", m
assert m["to"] == ["ops@test.invalid"], m
assert "X-Candlekeep-Alert: health:backups" in m["data"], m["data"]
assert "Subject: [candlekeep CRITICAL]" in m["data"], m["data"]
PY
health
assert_eq "$(wc -l <"$T/tls.jsonl" | tr -d ' ')" 1 "sent once"

# 3. smtp_tls = none: plain SMTP to the plain server, by explicit choice (another
#    database, so the alert is new there).
export CANDLEKEEP_ALERT_SMTP_URL="smtp://127.0.0.1:$SP" CANDLEKEEP_ALERT_SMTP_TLS=none
unset CANDLEKEEP_ALERT_SMTP_CA_FILE
DB="$T/plain.db"
ck -q --symbols $syms --history-days 10 sync
health
[ ! -s "$T/h.err" ] || { cat "$T/h.err" >&2; fail "health reported an alert error"; }
assert_eq "$(count "x['kind'] == 'smtp' and 'health:backups' in x['data']")" 1 "delivered in clear when allowed"
# A bad value is a configuration error that names the key.
RC=0
CANDLEKEEP_ALERT_SMTP_TLS=maybe ck config >/dev/null 2>"$T/cfg.err" || RC=$?
assert_eq "$RC" 2 "config with smtp_tls = maybe"
assert_file_match "$T/cfg.err" "smtp_tls"
echo ok
