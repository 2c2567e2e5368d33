#!/usr/bin/env bash
# 2,000 slow connections (a slowloris from one address: partial request headers, one
# byte now and then) do not make /healthz unreachable for another client: the daemon
# caps connections per address and in total, and closes idle ones.
. "$(dirname "$0")/lib.sh"

fakex_start --data "$DATA" --now 1773273600000
CANDLEKEEP_MAIN_HISTORY_DAYS=5 CANDLEKEEP_SCHEDULE_AUDIT= \
	"$CK" --db "$DB" --base-url "$FAKEX_URL" --symbols BTCUSDT daemon \
	--listen 127.0.0.1:0 --port-file "$T/http.port" --clock-url "$FAKEX_URL" \
	>"$T/daemon.out" 2>"$T/daemon.log" &
_pids+=($!)
wait_for 30 "the daemon's port file" test -s "$T/http.port"
[ -s "$T/http.port" ] || { cat "$T/daemon.log"; fail "daemon did not listen"; }
port=$(cat "$T/http.port")
curl -s -o /dev/null -m 10 "http://127.0.0.1:$port/healthz" || fail "/healthz before the attack"

/usr/bin/python3 - "$port" "$T" <<'PY'
import resource, socket, sys, time, subprocess, json
port, tdir = int(sys.argv[1]), sys.argv[2]
soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
resource.setrlimit(resource.RLIMIT_NOFILE, (min(hard, 8192), hard))
socks, refused = [], 0
for i in range(2000):
    s = socket.socket()
    s.setblocking(True)
    s.settimeout(2)
    try:
        s.bind(("127.0.0.2", 0))          # the attacker's address
        s.connect(("127.0.0.1", port))
        s.send(b"GET /metrics HTTP/1.1\r\nHost: x\r\n")
        socks.append(s)
    except OSError:
        refused += 1
        s.close()
# keep them trickling for a while, then ask /healthz from another address
for s in socks[:]:
    try:
        s.send(b"X")
    except OSError:
        socks.remove(s)
t0 = time.monotonic()
r = subprocess.run(["curl", "-s", "-o", tdir + "/healthz", "-w", "%{http_code}", "-m", "20",
                    "http://127.0.0.1:%d/healthz" % port], capture_output=True, text=True)
dt = time.monotonic() - t0
alive = 0
for s in socks:
    try:
        s.send(b"Y")
        alive += 1
    except OSError:
        pass
print("# slow connections opened %d (refused %d, still open %d); /healthz answered %s in %.3f s"
      % (len(socks), refused, alive, r.stdout, dt))
open(tdir + "/code", "w").write(r.stdout)
for s in socks:
    s.close()
PY
code=$(cat "$T/code")
case "$code" in 200 | 503) ;; *) fail "/healthz during 2,000 slow connections: code '$code'" ;; esac
jq -e .status "$T/healthz" >/dev/null || fail "/healthz body is not JSON"
kill -0 "${_pids[0]}" || fail "the daemon died"
echo "ok"
