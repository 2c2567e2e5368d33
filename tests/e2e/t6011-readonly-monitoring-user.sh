#!/usr/bin/env bash
# A monitoring user who can read the database but not write its directory (root-owned,
# 0755) runs the read-only commands: health, gaps, export, metrics and audit --no-drill
# open the database read-only and answer, instead of "attempt to write a readonly
# database" (a CRITICAL from a healthy database).
. "$(dirname "$0")/lib.sh"

[ "$(id -u)" = 0 ] || { note "skipped: needs root to switch to an unprivileged user"; echo ok; exit 0; }
as_nobody() { setpriv --reuid=65534 --regid=65534 --clear-groups "$@"; }
chmod 755 "$T"
as_nobody "$CK" --help >/dev/null 2>&1 || { note "skipped: user 65534 cannot run $CK"; echo ok; exit 0; }

now=$T_2026_03_19_18
fakex_start --data "$DATA" --now "$now"
mkdir -m 755 "$T/db"
DB="$T/db/candles.db"
ck -q --symbols BTCUSDT,ETHUSDT --history-days 10 sync >/dev/null
chmod 644 "$DB"
# The last connection closed: no -shm, no -wal. SQLite cannot create the -shm here.
[ ! -e "$DB-shm" ] && [ ! -e "$DB-wal" ] || fail "WAL side files left after sync"
as_nobody sh -c "touch '$T/db/probe'" 2>/dev/null && fail "user 65534 can write $T/db"

ls "$T/db" >"$T/files.before"
ro() { RC=0; as_nobody "$CK" --db "$DB" --symbols BTCUSDT,ETHUSDT "$@" >"$T/out" 2>"$T/err" || RC=$?; }
ro health --now "2026-03-19 18:00"
# CRITICAL only for the backups this test did not make; every database check answers.
assert_eq "$RC" 2 "health as user 65534: $(cat "$T/out" "$T/err")"
assert_file_match "$T/out" "^integrity OK"
assert_file_match "$T/out" "^freshness OK"
assert_file_match "$T/out" "^backups +CRITICAL"
ro gaps
assert_eq "$RC" 0 "gaps as user 65534: $(cat "$T/err")"
assert_file_match "$T/out" "0 candles missing"
ro export --symbol BTCUSDT
assert_eq "$RC" 0 "export as user 65534: $(cat "$T/err")"
assert_eq "$(wc -l <"$T/out" | tr -d ' ')" "$(sql "select count(*) from candles where symbol='BTCUSDT'")" "exported rows"
ro metrics
assert_eq "$RC" 0 "metrics as user 65534: $(cat "$T/err")"
assert_file_match "$T/out" '^candlekeep_sync_last_run_status\{command="sync",status="ok",interval="4h",market="um"\} 1'
ro audit --no-drill --days 2 --now "2026-03-19 18:00"
[ "$RC" = 0 ] || [ "$RC" = 1 ] || fail "audit --no-drill as user 65534: exit $RC: $(cat "$T/err")"
assert_file_match "$T/out" "^SLA audit"
grep -q readonly "$T/err" && fail "a read-only command tried to write: $(cat "$T/err")"
# Nothing was created beside the database by the reads.
ls "$T/db" >"$T/files.after"
cmp -s "$T/files.before" "$T/files.after" || fail "files created by readers: $(diff "$T/files.before" "$T/files.after")"

# With a writer at work (the -shm exists and is readable), readers share its WAL index
# and see its newest commit, not the older main file.
sqlite3 "$DB" "PRAGMA journal_mode=WAL" >/dev/null
# The writer: sqlite3 keeps the database open until its input (a sleep) ends.
( printf 'BEGIN; DELETE FROM candles WHERE symbol=%s; COMMIT;\n' "'ETHUSDT'"
  echo "$BASHPID" >"$T/writer.pid"; exec sleep 30 ) | sqlite3 "$DB" >/dev/null 2>&1 &
writer=$!
wait_for 30 "the writer's -shm and its delete of ETHUSDT" \
	'[ -e "$DB-shm" ] && [ "$(sqlite3 "$DB" "select count(*) from candles where symbol='"'ETHUSDT'"'")" = 0 ]'
chmod 644 "$DB-shm" "$DB-wal"
ro export --symbol ETHUSDT
assert_eq "$RC" 0 "export beside a writer: $(cat "$T/err")"
assert_eq "$(wc -l <"$T/out" | tr -d ' ')" 0 "rows the writer deleted are not seen"
kill "$(cat "$T/writer.pid")"
wait "$writer" 2>/dev/null || true
echo "ok"
