#!/usr/bin/env bash
# One writer at a time: every connection that writes or checkpoints the database holds
# "<db>.write.lock" (flock) meanwhile, whichever command it is; a writer waits (bounded
# by the busy timeout) while another holds it. 100 backups taken under continuous
# writes (syncs, imports, the backups' own catalogue rows) all verify.
. "$(dirname "$0")/lib.sh"

fakex_start --data "$DATA" --now "$T_2026_03_19_18"
ck -q --symbols BTCUSDT --history-days 30 sync >/dev/null 2>&1 || fail "sync"
[ -e "$DB.write.lock" ] || fail "no $DB.write.lock after a sync"

# --- a writer waits while another process holds the writer lock ---
( exec 9>>"$DB.write.lock"; flock 9; exec sleep 60 ) &
holder=$!
wait_for 30 "the test's holder to take the writer lock" '! flock -n "$DB.write.lock" true 2>/dev/null'
head -5 "$DATA/ETHUSDT-4h.csv" >"$T/ETHUSDT-4h.csv"
ck import "$T/ETHUSDT-4h.csv" >"$T/import.out" 2>&1 &
imp=$!
# While the lock is held, the import is blocked and has written nothing.
for i in $(seq 1 10); do
	kill -0 "$imp" 2>/dev/null || break
	sleep 0.1
done
kill -0 "$imp" 2>/dev/null || { cat "$T/import.out"; fail "import finished while another process held the writer lock"; }
assert_eq "$(sqlite3 "file:$DB?mode=ro" "select count(*) from candles where symbol='ETHUSDT'")" 0 "rows written under another writer's lock"
kill "$holder"; wait "$holder" 2>/dev/null || true
wait "$imp" || { cat "$T/import.out"; fail "import after the lock was released"; }
assert_eq "$(sql "select count(*) from candles where symbol='ETHUSDT'")" 5 "import after the release"

# --- 100 backups under continuous writes ---
syms=(ETHUSDT SOLUSDT XRPUSDT BNBUSDT DOGEUSDT ADAUSDT LINKUSDT AVAXUSDT LTCUSDT TONUSDT)
(
	i=0
	while [ ! -e "$T/stop" ]; do
		s=${syms[$((i % ${#syms[@]}))]}
		# a sync writing many pages, then a re-import (revisions compared, rows rewritten)
		"$CK" --db "$DB" --base-url "$FAKEX_URL" -q --symbols "$s" --history-days $((60 + i)) --page-limit 200 sync >/dev/null 2>&1 || true
		i=$((i + 1))
	done
) &
writer=$!
for n in $(seq 1 100); do
	ck -q backup --now "$((1773100800000 + n * 1000))" >"$T/b.out" 2>&1 ||
		{ cat "$T/b.out"; touch "$T/stop"; fail "backup $n under writes failed"; }
done
touch "$T/stop"
wait "$writer" || true
hot="$T/backups/hot"
n=0
for f in "$hot"/candles-20260310T*.db; do
	n=$((n + 1))
	(cd "$hot" && sha256sum -c --quiet "$(basename "$f").sha256") || fail "sidecar of $f"
	assert_eq "$(sqlite3 "file:$f?mode=ro" 'pragma integrity_check')" ok "integrity of $f"
done
assert_eq "$n" 100 "hot backups"
assert_eq "$(sql "select count(*) from backups where tier='hot' and status='verified' and location like '%20260310T%'")" 100 "verified hot backups recorded"
assert_eq "$(sql 'pragma integrity_check')" ok "the database after it all"
[ "$(sql "select count(distinct symbol) from candles")" -ge 3 ] || fail "the writer wrote nothing meanwhile"
echo "ok"
