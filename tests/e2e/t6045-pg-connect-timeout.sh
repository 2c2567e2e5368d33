#!/usr/bin/env bash
# A PostgreSQL server that accepts the connection and never answers (a hung server, a
# proxy in front of a dead one): candlekeep gives up after its connect timeout (10 s,
# unless the URL sets connect_timeout) with libpq's reason, instead of waiting for ever.
# Before, health and sync hung (this test's outer timeout of 60 s killed them).
. "$(dirname "$0")/lib.sh"

/usr/bin/python3 - "$T/mute.port" <<'PY' &
import socket, sys, time
s = socket.socket()
s.bind(("127.0.0.1", 0))
s.listen(16)  # connections complete in the backlog; nothing is ever read or answered
open(sys.argv[1] + ".tmp", "w").write(str(s.getsockname()[1]))
import os; os.rename(sys.argv[1] + ".tmp", sys.argv[1])
time.sleep(300)
PY
_pids+=($!)
wait_for 10 "the mute server's port" '[ -s "$T/mute.port" ]'
url="postgresql://ck@127.0.0.1:$(cat "$T/mute.port")/ck"

RC=0
timeout 60 "$CK" --db "$url" health >"$T/health.out" 2>&1 || RC=$?
[ "$RC" != 124 ] || fail "health still waiting after 60 s on a server that never answers"
[ "$RC" != 0 ] || fail "health exited 0 without a database"
assert_file_match "$T/health.out" "timeout expired"

RC=0
timeout 60 "$CK" --db "$url" --base-url http://127.0.0.1:9 --symbols BTCUSDT sync >"$T/sync.out" 2>&1 || RC=$?
[ "$RC" != 124 ] || fail "sync still waiting after 60 s on a server that never answers"
[ "$RC" != 0 ] || fail "sync exited 0 without a database"
assert_file_match "$T/sync.out" "timeout expired"
echo ok
