#!/usr/bin/env bash
# Backups, restores and exports killed with -9 leave temp files; `backup --list` counts
# them, the next backup (restore, export) removes them, and a temp file a live process
# still holds is never touched. A kill -9 loop leaves no growth.
. "$(dirname "$0")/lib.sh"

fakex_start --data "$DATA" --now "$T_2026_03_19_18"
ck -q --symbols BTCUSDT,ETHUSDT,SOLUSDT,XRPUSDT,BNBUSDT --history-days 700 sync >/dev/null 2>&1 || fail "sync"
hot="$T/backups/hot" warm="$T/backups/warm"
temps() { find "$T" -maxdepth 3 -name '.*' -type f | grep -v '/\.\.\?$' | sort; }
hidden_bytes() { find "$T/backups" "$T" -maxdepth 2 -name '.*' -type f -printf '%s\n' 2>/dev/null | awk '{s+=$1} END {print s+0}'; }

# --- kill -9 loop: backups killed at different points ---
killed=0
for i in $(seq 1 12); do
	"$CK" --db "$DB" -q backup --now "$((1773100800000 + i * 1000))" >/dev/null 2>&1 &
	p=$!
	sleep "0.0$((i % 10))"
	kill -9 "$p" 2>/dev/null && killed=$((killed + 1))
	wait "$p" 2>/dev/null || true
done
note "killed $killed backups; temp files now: $(temps | wc -l), $(hidden_bytes) bytes"
mkdir -p "$hot" "$warm"
# Orphans of a killed restore and export, as they would be left (nobody holds them).
head -c 100000 /dev/urandom >"$T/.restore.Ab12Cd"
head -c 100000 /dev/urandom >"$T/.candles.db.Zx9Yw8"
head -c 1000 /dev/urandom >"$T/out.csv.tmp.Qw3Er4"
# and of a hot backup killed inside SQLite's copy (its journal) and of a warm copy.
head -c 100000 /dev/urandom >"$hot/.candles-20260102T000000.000Z.db.tmp"
head -c 1000 /dev/urandom >"$hot/.candles-20260102T000000.000Z.db.tmp-journal"
mkdir -p "$warm"; head -c 100000 /dev/urandom >"$warm/.candles-20260102T000000.000Z.db.a1B2c3"
# A temp file a live writer holds: never counted, never removed.
head -c 5000 /dev/urandom >"$hot/.candles-20260101T000000.000Z.db.tmp"
( exec 9<"$hot/.candles-20260101T000000.000Z.db.tmp"; flock 9; exec sleep 60 ) &
holder=$!
wait_for 30 "the live writer to lock its temp file" '! flock -n "$hot/.candles-20260101T000000.000Z.db.tmp" true 2>/dev/null'

temps >"$T/temps.before"
n_before=$(grep -v 20260101T000000 "$T/temps.before" | grep -v out.csv.tmp | wc -l)
[ "$n_before" -ge 2 ] || fail "expected leftover temp files, found $n_before: $(temps)"
ck_rc backup --list >"$T/list.out" 2>&1
assert_eq "$RC" 0 "backup --list"; cat "$T/temps.before"
assert_file_match "$T/list.out" "^# temp files: $n_before \(.*\) left by interrupted backups or restores"

# The next backup removes the backup dirs' leftovers; the held one stays.
ck_rc backup --now 2026-03-10T02:00:00Z >"$T/b.out" 2>"$T/b.err"
assert_eq "$RC" 0 "backup after the kills: $(cat "$T/b.out" "$T/b.err")"
assert_file_match "$T/b.err" "removed [0-9]+ temp files .* left by interrupted backups"
[ -e "$hot/.candles-20260101T000000.000Z.db.tmp" ] || fail "a temp file a live process holds was removed"
assert_eq "$(find "$hot" "$warm" -name '.*' -type f | grep -v 20260101T000000 | wc -l)" 0 "backup temps left: $(temps)"
# A restore removes the restore leftovers beside the database.
ck_rc recover >"$T/r.out" 2>&1
[ ! -e "$T/.restore.Ab12Cd" ] && [ ! -e "$T/.candles.db.Zx9Yw8" ] || {
	# recover restores only a damaged database; the drill restores elsewhere. A
	# backup --list still counts them, and a restore into the database's dir removes them.
	rm -f "$DB" "$DB-wal" "$DB-shm"
	ck_rc recover >"$T/r.out" 2>&1
}
[ ! -e "$T/.restore.Ab12Cd" ] || fail "restore leftover not removed: $(cat "$T/r.out")"
[ ! -e "$T/.candles.db.Zx9Yw8" ] || fail "restore copy leftover not removed"
# An export to the same file removes its own leftover.
ck export --symbol BTCUSDT --output "$T/out.csv" 2>"$T/e.err"
[ ! -e "$T/out.csv.tmp.Qw3Er4" ] || fail "export leftover not removed"
kill "$holder" 2>/dev/null; wait "$holder" 2>/dev/null || true
ck_rc backup --list >"$T/list.out" 2>&1
assert_file_match "$T/list.out" "^# temp files: 1 "

# --- no growth: two more kill loops, each followed by a backup ---
for round in 1 2; do
	for i in $(seq 1 8); do
		"$CK" --db "$DB" -q backup --now "$((1773200000000 + round * 100000 + i * 1000))" >/dev/null 2>&1 &
		p=$!
		sleep "0.0$((i * 3 % 10))"
		kill -9 "$p" 2>/dev/null || true
		wait "$p" 2>/dev/null || true
	done
	ck -q backup --now "$((1773300000000 + round * 1000))" >/dev/null 2>&1 || fail "backup after round $round"
	assert_eq "$(find "$hot" "$warm" -name '.*' -type f | wc -l)" 0 "temps after round $round: $(temps)"
done
echo "ok"
