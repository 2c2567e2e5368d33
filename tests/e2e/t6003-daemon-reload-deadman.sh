#!/usr/bin/env bash
# The daemon's configuration and dead-man's switch: SIGHUP reloads the configuration
# file (a new sync schedule takes effect, command-line flags are kept); an invalid new
# configuration is reported and the running one kept; a schedule that does not parse
# stops the start with exit 2, a port in use with exit 1. The dead-man's-switch URL
# gets /start then the base URL around a good sync, /start then /fail around a failed
# one, and never appears in the log.
. "$(dirname "$0")/lib.sh"

START=1773273600000          # 2026-03-12 00:00 UTC
MIN=60000
fakex_start --data "$DATA" --now "$START"

# --- a dead-man's-switch receiver (healthchecks.io style) -------------------------------
python3 - "$T/hc.port" "$T/hc.log" >"$T/hc.out" 2>&1 <<'EOF' &
import http.server, os, sys
port_file, log = sys.argv[1], sys.argv[2]
class H(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        with open(log, "a") as f:
            f.write(self.path + "\n")
        self.send_response(200)
        self.end_headers()
        self.wfile.write(b"OK")
    def log_message(self, *a):
        pass
s = http.server.HTTPServer(("127.0.0.1", 0), H)
with open(port_file + ".tmp", "w") as f:
    f.write(str(s.server_address[1]))
os.rename(port_file + ".tmp", port_file)
s.serve_forever()
EOF
_pids+=($!)
wait_for 30 "the dead man's receiver's port file" test -s "$T/hc.port"
SECRET=f3a1c2d4-5e6f-4a7b-8c9d-0e1f2a3b4c5d
HC="http://127.0.0.1:$(cat "$T/hc.port")/ping/$SECRET"

cat >"$T/ck.ini" <<EOF
[main]
history_days = 5
[schedule]
sync = 5 0,4,8,12,16,20 * * *
backup =
health =
audit =
deadman_url = $HC
EOF
chmod 600 "$T/ck.ini"   # it holds a secret

# --- bad starts ---------------------------------------------------------------------------
CANDLEKEEP_SCHEDULE_SYNC= "$CK" -c "$T/ck.ini" --db "$T/other.db" daemon --listen 127.0.0.1:0 \
	--port-file "$T/p1" >/dev/null 2>"$T/bad1" &
BGOOD=$!
_pids+=("$BGOOD")
WAIT_SHOW="$T/bad1" wait_for 30 "the first daemon's port file" test -s "$T/p1"
PORT_USED=$(cat "$T/p1")
RC=0
CANDLEKEEP_SCHEDULE_DEADMAN_URL= ck -c "$T/ck.ini" daemon --listen "127.0.0.1:$PORT_USED" \
	--clock-url "$FAKEX_URL" >/dev/null 2>"$T/bad2" || RC=$?
assert_eq "$RC" 1 "exit code with the port in use"
assert_file_match "$T/bad2" "HTTP server on 127.0.0.1:$PORT_USED: cannot listen"
kill -TERM "$BGOOD"; wait "$BGOOD" || true
RC=0
CANDLEKEEP_SCHEDULE_SYNC="61 * * * *" ck -c "$T/ck.ini" daemon --listen 127.0.0.1:0 \
	>/dev/null 2>"$T/bad3" || RC=$?
assert_eq "$RC" 2 "exit code with a bad schedule"
assert_file_match "$T/bad3" "cron schedule '61 \\* \\* \\* \\*': minute field '61': value out of range 0-59"
RC=0
ck -c "$T/ck.ini" daemon --bogus >/dev/null 2>"$T/bad4" || RC=$?
assert_eq "$RC" 2 "exit code with an unknown flag"
: >"$T/hc.log"

# --- start: catch-up sync with pings --------------------------------------------------------
CANDLEKEEP_HTTP_RETRY_NET_BASE_MS=50 CANDLEKEEP_HTTP_RETRY_5XX_BASE_MS=50 \
	"$CK" -c "$T/ck.ini" --db "$DB" --base-url "$FAKEX_URL" --symbols BTCUSDT,ETHUSDT daemon \
	--listen 127.0.0.1:0 --port-file "$T/http.port" --clock-url "$FAKEX_URL" \
	>"$T/daemon.out" 2>"$T/daemon.log" &
DPID=$!
_pids+=("$DPID")
WAIT_SHOW="$T/daemon.log" wait_for 30 "the daemon's port file" test -s "$T/http.port"
U="http://127.0.0.1:$(cat "$T/http.port")"
api() { curl -fsS -m 5 "$U/api/status"; }
wait_log() {
	WAIT_SHOW="$2 $T/daemon.log" wait_for 60 "'$1' in $2" grep -qs -- "$1" "$2"
}
wait_log "^/ping/$SECRET\$" "$T/hc.log"
assert_eq "$(cat "$T/hc.log")" "/ping/$SECRET/start
/ping/$SECRET" "pings around a good sync"

# --- a failing sync pings /fail ---------------------------------------------------------------
: >"$T/hc.log"
fakex_ctl "faults?invalid_symbol=BTCUSDT" >/dev/null   # klines only: the clock keeps answering
fakex_ctl "clock?set=$(( START + 4 * 60 * MIN + 5 * MIN ))" >/dev/null   # a new candle closed
wait_log "/fail" "$T/hc.log"
assert_eq "$(cat "$T/hc.log")" "/ping/$SECRET/start
/ping/$SECRET/fail" "pings around a failed sync"
fakex_ctl "faults?reset=1" >/dev/null
if grep -q "$SECRET" "$T/daemon.log" "$T/daemon.out"; then fail "the dead-man's-switch URL was logged"; fi
assert_file_match "$T/daemon.log" "dead-man's-switch ping failure sent"

# --- SIGHUP: a new schedule takes effect, --symbols (a flag) is kept -------------------------
sed -i 's/^sync = .*/sync = 30 *\/2 * * */' "$T/ck.ini"
kill -HUP "$DPID"
wait_log "configuration reloaded" "$T/daemon.log"
j=$(api)
assert_eq "$(jq -r '.jobs[0].schedule' <<<"$j")" "30 */2 * * *" "schedule after reload"
assert_eq "$(jq -r '.jobs[0].next' <<<"$j")" "$(( START + 4 * 60 * MIN + 30 * MIN ))" "next sync after reload"
fakex_ctl "clock?set=$(( START + 4 * 60 * MIN + 30 * MIN ))" >/dev/null
wait_for 60 "a second successful sync" \
	'[ "$(sql "select count(*) from runs where command='"'sync'"' and status='"'ok'"'")" -ge 2 ]'
assert_file_match "$T/daemon.log" "job start job=sync due=2026-03-12T04:30:00Z"
assert_eq "$(sql "select count(distinct symbol) from run_symbols where run_id=(select max(id) from runs)")" 2 \
	"the reloaded configuration kept --symbols"

# --- SIGHUP with an invalid file: reported, the running configuration kept -------------------
sed -i 's/^sync = .*/sync = 99 * * * */' "$T/ck.ini"
kill -HUP "$DPID"
wait_log "reload failed, the running configuration is kept" "$T/daemon.log"
assert_file_match "$T/daemon.log" "minute field '99'"
assert_eq "$(api | jq -r '.jobs[0].schedule')" "30 */2 * * *" "schedule after a bad reload"
printf 'history_days = x\n' >>"$T/ck.ini"
kill -HUP "$DPID"
wait_for 60 "the second 'reload failed'" '[ "$(grep -c "reload failed" "$T/daemon.log")" -ge 2 ]'
assert_eq "$(grep -c 'reload failed' "$T/daemon.log")" 2 "second bad reload reported"
kill -0 "$DPID" || fail "daemon died on a bad reload"

kill -TERM "$DPID"
RC=0; wait "$DPID" || RC=$?
assert_eq "$RC" 0 "exit code after SIGTERM"
echo ok
