#!/usr/bin/env bash
# The daemon's HTTP side: /metrics, /healthz (200/503 with JSON), /api/status and the
# status page (rendered by headless Chromium into a screenshot when it is installed);
# 200 concurrent requests on loopback all answered while the scheduler still runs the
# sync due meanwhile at its time; malformed and unexpected requests get 4xx and the
# daemon keeps serving.
. "$(dirname "$0")/lib.sh"

SYMS=BTCUSDT,ETHUSDT
START=1773273600000          # 2026-03-12 00:00 UTC
MIN=60000
fakex_start --data "$DATA" --now "$START"
CANDLEKEEP_MAIN_HISTORY_DAYS=5 CANDLEKEEP_SCHEDULE_AUDIT= \
	"$CK" --db "$DB" --base-url "$FAKEX_URL" --symbols "$SYMS" daemon \
	--listen 127.0.0.1:0 --port-file "$T/http.port" --clock-url "$FAKEX_URL" \
	>"$T/daemon.out" 2>"$T/daemon.log" &
DPID=$!
_pids+=("$DPID")
WAIT_SHOW="$T/daemon.log" wait_for 30 "the daemon's port file" test -s "$T/http.port"
U="http://127.0.0.1:$(cat "$T/http.port")"
wait_for 30 "the daemon's first health job" \
	'[ "$(curl -fsS "$U/api/status" | jq -r '"'"'.jobs[2].runs'"'"')" -ge 1 ] 2>/dev/null'

# --- the endpoints ----------------------------------------------------------------------
code=$(curl -s -o "$T/metrics" -w '%{http_code} %{content_type}' "$U/metrics")
assert_match "$code" "^200 text/plain; version=0.0.4" "/metrics"
assert_file_match "$T/metrics" '^candlekeep_'
assert_file_match "$T/metrics" '^# TYPE '
code=$(curl -s -o "$T/healthz" -w '%{http_code}' "$U/healthz")
st=$(jq -r .status "$T/healthz")
case "$st" in
OK | WARNING) assert_eq "$code" 200 "/healthz code for $st" ;;
*) assert_eq "$code" 503 "/healthz code for $st" ;;
esac
code=$(curl -s -o "$T/page.html" -w '%{http_code} %{content_type}' "$U/")
assert_match "$code" "^200 text/html" "status page"
for want in BTCUSDT ETHUSDT 'Schedule \(UTC\)' '5 0,4,8,12,16,20 \* \* \*' 'Last runs' 'Backups' \
	'2026-03-12T00:05:00Z' 'Symbols: 2 of 2 fresh'; do
	assert_file_match "$T/page.html" "$want" "status page content"
done
assert_eq "$(curl -s -o /dev/null -w '%{http_code}' -I "$U/")" 200 "HEAD /"

# --- malformed and unexpected requests ----------------------------------------------------
assert_eq "$(curl -s -o /dev/null -w '%{http_code}' "$U/nope")" 404 "unknown path"
assert_eq "$(curl -s -o /dev/null -w '%{http_code}' "$U/../../etc/passwd")" 404 "dot-dot path"
assert_eq "$(curl -s -o /dev/null -w '%{http_code}' -X POST -d x=1 "$U/metrics")" 405 "POST"
assert_eq "$(curl -s -o /dev/null -w '%{http_code}' -X DELETE "$U/")" 405 "DELETE"
assert_match "$(curl -s -o /dev/null -w '%{http_code}' -H "X-Big: $(head -c 100000 /dev/zero | tr '\0' a)" "$U/")" "^(4[0-9][0-9]|000)$" "huge header"
python3 - "$(cat "$T/http.port")" >"$T/raw" <<'EOF'
import socket, sys
port = int(sys.argv[1])
cases = [
    b"GARBAGE\r\n\r\n",
    b"GET / HTTP/1.1\r\n\r\n",                                  # HTTP/1.1 without Host
    b"GET / HTTP/9.9\r\nHost: x\r\n\r\n",
    b"GET /metrics HTTP/1.1\r\nHost: x\r\nContent-Length: abc\r\n\r\n",
    b"GET / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n",
    b"\x00\x01\x02\xff\xfe\r\n\r\n",
    b"GET /" + b"a" * 70000 + b" HTTP/1.1\r\nHost: x\r\n\r\n",
    b"GET / HTTP/1.1\r\nHost: x\r\nBroken header line\r\n\r\n",
]
for c in cases:
    s = socket.create_connection(("127.0.0.1", port), timeout=5)
    try:
        try:
            s.sendall(c)
            s.shutdown(socket.SHUT_WR)
        except OSError:
            pass  # the server may answer and close before the whole request is sent
        data = b""
        while True:
            try:
                b = s.recv(65536)
            except (OSError, socket.timeout):
                break
            if not b:
                break
            data += b
        line = data.split(b"\r\n", 1)[0].decode("latin-1")
        print(line if line else "(closed)")
    finally:
        s.close()
EOF
while read -r line; do
	case "$line" in
	"(closed)" | "HTTP/1."[01]" 4"*) ;;
	"HTTP/1.1 505"*) ;;   # HTTP/9.9: 505 is the defined answer
	*) fail "a malformed request got '$line'" ;;
	esac
done <"$T/raw"
grep -q "HTTP/1.[01] 4" "$T/raw" || fail "no 4xx among the malformed requests: $(cat "$T/raw")"
kill -0 "$DPID" || fail "daemon died on malformed requests"
assert_eq "$(curl -s -o /dev/null -w '%{http_code}' "$U/metrics")" 200 "serving after malformed requests"

# --- 200 concurrent requests while a sync falls due -------------------------------------
before=$(sql "select count(*) from runs where command='sync' and status='ok'")
due=$(( START + 5 * MIN ))
: >"$T/urls"
for i in $(seq 1 100); do
	printf 'url = "%s/"\noutput = "/dev/null"\n' "$U" >>"$T/urls"
	printf 'url = "%s/metrics"\noutput = "/dev/null"\n' "$U" >>"$T/urls"
done
curl -sS --parallel --parallel-immediate --parallel-max 200 -m 60 -w '%{http_code}\n' -K "$T/urls" \
	>"$T/codes" 2>"$T/curl.err" &
CURLPID=$!
fakex_ctl "clock?set=$due" >/dev/null
wait "$CURLPID" || true
[ "$(grep -c '^200$' "$T/codes")" = 200 ] || { head -5 "$T/curl.err"; tail -5 "$T/daemon.log"; }
assert_eq "$(grep -c '^200$' "$T/codes")" 200 "answers 200 of 200 concurrent requests ($(sort "$T/codes" | uniq -c | tr '\n' ' '))"
wait_for 60 "the due sync to end ok" \
	'[ "$(sql "select count(*) from runs where command='"'sync'"' and status='"'ok'"'")" -gt "$before" ]'
assert_file_match "$T/daemon.log" "job start job=sync due=2026-03-12T00:05:00Z catch_up=0"
[ "$(curl -fsS "$U/api/status" | jq .http_requests)" -ge 200 ] || fail "requests not counted"
kill -0 "$DPID" || fail "daemon died under load"

# --- the screenshot (headless Chromium, when installed) -------------------------------
if command -v chromium >/dev/null 2>&1; then
	timeout 60 chromium --headless --no-sandbox --disable-gpu --disable-quic --no-first-run \
		--disable-background-networking --disable-component-update --disable-sync \
		--user-data-dir="$T/chrome" --screenshot="$T/status.png" --window-size=1200,900 \
		"$U/" >"$T/chrome.log" 2>&1 || true
	[ -s "$T/status.png" ] || { tail "$T/chrome.log"; fail "no screenshot"; }
	[ "$(head -c 8 "$T/status.png" | od -An -tx1 | tr -d ' \n')" = 89504e470d0a1a0a ] ||
		fail "the screenshot is not a PNG"
	[ "$(stat -c %s "$T/status.png")" -gt 20000 ] || fail "the screenshot looks empty"
	[ -n "${CK_KEEP_SCREENSHOT:-}" ] && cp "$T/status.png" "$CK_KEEP_SCREENSHOT"
else
	note "chromium not installed: screenshot skipped"
fi

# --- a sync due while another process holds the run lock is skipped and counted;
# --- /healthz says 503 once the data is critically stale ---------------------------------
flock "$DB.lock" sleep 60 &
HOLDER=$!
_pids+=("$HOLDER")
wait_for 30 "the test's holder to take the run lock" '! flock -n "$DB.lock" true'
fakex_ctl "clock?set=$(( due + 2 * DAY ))" >/dev/null
wait_for 60 "/healthz to answer 503 when stale" \
	'[ "$(curl -s -o "$T/hz" -w "%{http_code}" "$U/healthz")" = 503 ]'
assert_eq "$(jq -r .status "$T/hz")" CRITICAL
wait_for 30 "'sync skipped' in the daemon's log" grep -q "sync skipped" "$T/daemon.log"
assert_file_match "$T/daemon.log" "sync skipped: due 2026-03-12T04:05:00Z"
assert_eq "$(sql "select count(*) from events where kind='sync_skipped'")" 1 "sync_skipped event"
assert_match "$(curl -fsS "$U/api/status" | jq -c '[.sync_skipped, .jobs[0].skipped]')" '^\[1,1\]$'
kill "$HOLDER"
kill -0 "$DPID" || fail "daemon died"
echo ok
