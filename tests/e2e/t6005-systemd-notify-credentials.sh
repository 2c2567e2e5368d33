#!/usr/bin/env bash
# The daemon under systemd: the units pass `systemd-analyze verify` (ExecStart pointed at
# the built binary) and declare Type=notify, WatchdogSec= and the secrets through
# LoadCredential= / EnvironmentFile=; the daemon sends READY=1, WATCHDOG=1 from its
# scheduler loop and STOPPING=1 to $NOTIFY_SOCKET, and a scheduler hung in a job
# (test hook CANDLEKEEP_FAULT_HANG) stops the WATCHDOG=1 pings so that systemd would
# restart it; secrets are read from $CREDENTIALS_DIRECTORY.
. "$(dirname "$0")/lib.sh"
command -v systemd-analyze >/dev/null || fail "systemd-analyze not installed (scripts/deps.sh test)"
cd "$CK_TOP"

# --- the units --------------------------------------------------------------------------
mkdir -p "$T/units"
for u in deploy/systemd/*.service deploy/systemd/*.timer; do
	sed "s#/usr/local/bin/candlekeep#$CK#" "$u" >"$T/units/${u##*/}"
done
(cd "$T/units" && systemd-analyze verify --man=no ./*.service ./*.timer) >"$T/verify" 2>&1 ||
	{ cat "$T/verify"; fail "systemd-analyze verify"; }
[ -s "$T/verify" ] && { cat "$T/verify"; fail "systemd-analyze verify warned"; }
for k in Type=notify NotifyAccess=main 'WatchdogSec=[0-9]' 'LoadCredential=candlekeep:/etc/candlekeep/credentials$' \
	'EnvironmentFile=-/etc/candlekeep/candlekeep.env$'; do
	grep -Eq "^$k" deploy/systemd/candlekeep.service || fail "candlekeep.service lacks $k"
done
for u in candlekeep-sync.service candlekeep-backup.service; do
	grep -q '^LoadCredential=candlekeep:' "deploy/systemd/$u" || fail "$u lacks LoadCredential="
done

# --- READY, WATCHDOG from the loop, STOPPING; a hung scheduler stops the pings ------------
python3 - "$CK" "$T" <<'PY' || fail "sd_notify protocol"
import os, socket, subprocess, sys, time
ck, tmp = sys.argv[1], sys.argv[2]

def run(name, hang):
    path = os.path.join(tmp, name + ".sock")
    s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    s.bind(path)
    s.settimeout(0.1)
    env = dict(os.environ, NOTIFY_SOCKET=path, WATCHDOG_USEC="400000",
               CANDLEKEEP_SCHEDULE_SYNC="", CANDLEKEEP_SCHEDULE_BACKUP="",
               CANDLEKEEP_SCHEDULE_AUDIT="", CANDLEKEEP_SCHEDULE_INTEGRITY_CHECK="",
               CANDLEKEEP_SCHEDULE_HEALTH="0 */6 * * *")
    env.pop("WATCHDOG_PID", None)
    if hang:
        env["CANDLEKEEP_FAULT_HANG"] = "health"
    log = open(os.path.join(tmp, name + ".log"), "w")
    p = subprocess.Popen([ck, "--db", os.path.join(tmp, name + ".db"), "--symbols", "BTCUSDT",
                          "daemon", "--listen", ""], env=env, stdout=log, stderr=log)
    msgs = []
    def drain(until):
        while time.monotonic() < until:
            try:
                msgs.append(s.recv(4096).decode())
            except socket.timeout:
                pass
    return p, s, msgs, drain

def stop(p, drain, msgs):
    p.terminate()
    deadline = time.monotonic() + 15
    while p.poll() is None and time.monotonic() < deadline:
        drain(time.monotonic() + 0.1)
    drain(time.monotonic() + 0.2)
    assert p.poll() == 0, "daemon exit %r" % p.poll()
    assert any(m.startswith("STOPPING=1") for m in msgs), "no STOPPING=1: %r" % msgs[-5:]

# A healthy scheduler: READY=1, then WATCHDOG=1 again and again (bounded wait).
p, s, msgs, drain = run("healthy", False)
deadline = time.monotonic() + 20
while time.monotonic() < deadline:
    drain(time.monotonic() + 0.2)
    if any(m.startswith("READY=1") for m in msgs):
        after = msgs[[i for i, m in enumerate(msgs) if m.startswith("READY=1")][0]:]
        if sum(m == "WATCHDOG=1" for m in after) >= 5:
            break
else:
    p.kill()
    sys.exit("healthy: READY=1 and 5 WATCHDOG=1 not seen in 20 s: %r" % msgs[:10])
stop(p, drain, msgs)

# A scheduler stuck in the health job: READY=1 was sent, then the pings stop.
p, s, msgs, drain = run("hung", True)
logpath = os.path.join(tmp, "hung.log")
deadline = time.monotonic() + 20
while time.monotonic() < deadline:
    drain(time.monotonic() + 0.1)
    if "job start job=health" in open(logpath).read():
        break
else:
    p.kill()
    sys.exit("hung: the health job did not start")
assert any(m.startswith("READY=1") for m in msgs), "hung: no READY=1: %r" % msgs
drain(time.monotonic() + 0.2)      # anything sent before the hang has arrived by now
n = len(msgs)
drain(time.monotonic() + 2.0)      # five watchdog intervals
late = [m for m in msgs[n:] if m == "WATCHDOG=1"]
assert not late, "a hung scheduler still sent %d WATCHDOG=1" % len(late)
stop(p, drain, msgs)
PY

# --- secrets from $CREDENTIALS_DIRECTORY ---------------------------------------------------
mkdir -m 0700 "$T/creds"
printf 'http://127.0.0.1:9/hook-secret-path\n' >"$T/creds/alert_slack_webhook"
printf 'routing-key-from-credential\n' >"$T/creds/candlekeep_alert_pagerduty_routing_key"
chmod 0400 "$T/creds"/*
CREDENTIALS_DIRECTORY="$T/creds" "$CK" --db "$DB" config >"$T/config.out" 2>&1 || { cat "$T/config.out"; fail "config with credentials"; }
grep -A1 '^# from: credential alert_slack_webhook$' "$T/config.out" | grep -q '^slack_webhook = \*\*\*\*\*\*\*\*$' ||
	{ cat "$T/config.out"; fail "slack_webhook not from its credential"; }
grep -A1 '^# from: credential alert_pagerduty_routing_key$' "$T/config.out" | grep -q '^pagerduty_routing_key = \*' ||
	fail "pagerduty_routing_key not from candlekeep_alert_pagerduty_routing_key"
grep -q 'hook-secret-path\|routing-key-from-credential' "$T/config.out" && fail "a secret was printed"
# the environment still wins over a credential
CREDENTIALS_DIRECTORY="$T/creds" CANDLEKEEP_ALERT_SLACK_WEBHOOK=https://example.invalid/x "$CK" --db "$DB" config |
	grep -B1 '^slack_webhook' | grep -q '^# from: env CANDLEKEEP_ALERT_SLACK_WEBHOOK$' || fail "env over credential"
# a credential is validated like any value, and named
printf 'not a url\n' >"$T/bad"
mkdir -m 0700 "$T/creds2" && mv "$T/bad" "$T/creds2/alert_slack_webhook" && chmod 0400 "$T/creds2/alert_slack_webhook"
RC=0; CREDENTIALS_DIRECTORY="$T/creds2" "$CK" --db "$DB" config >/dev/null 2>"$T/bad.err" || RC=$?
assert_eq "$RC" 2 "bad credential"
assert_file_match "$T/bad.err" 'credential alert_slack_webhook: \[alert\] slack_webhook = \*+: must be a URL'
echo ok
