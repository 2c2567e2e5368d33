#!/usr/bin/env bash
# recover: corruption drills on a copy (random bytes over a page, truncated file, deleted
# -wal mid-transaction, zeroed header): each detected, quarantined, restored, re-synced;
# the final database equals one that was never damaged, value for value. The newest
# backup corrupt → the next good one; no good backup → rebuilt from the exchange; a
# healthy database is left untouched.
. "$(dirname "$0")/lib.sh"

SYMS=BTCUSDT,ETHUSDT,CFGUSDT
T1=$((T_2026_03_19_18 - 2 * DAY))
fakex_start --data "$DATA" --now "$T1"
ck -q --symbols $SYMS --history-days 30 sync >/dev/null 2>&1 || fail "sync at T1"
ck -q --symbols $SYMS backup --now "$T1" >/dev/null 2>&1 || fail "backup"
cp "$DB" "$T/base.db"
fakex_ctl "clock?advance=$((2 * DAY))" >/dev/null

# The never-damaged reference: the same database synced on to T2.
cp "$T/base.db" "$T/ref.db"
"$CK" --db "$T/ref.db" --base-url "$FAKEX_URL" -q --symbols $SYMS --history-days 30 sync >/dev/null 2>&1 ||
	fail "reference sync"
dump() { sqlite3 -batch "$1" "select * from candles order by symbol, interval, open_time"; }
dump "$T/ref.db" >"$T/ref.txt"
[ "$(wc -l <"$T/ref.txt")" -gt "$(sqlite3 "$T/base.db" 'select count(*) from candles')" ] ||
	fail "the reference must have candles the backup lacks"

# Healthy → exit 0, nothing touched.
cp "$T/base.db" "$DB"
sum=$(sha256sum "$DB" | cut -c1-64)
ck_rc --symbols $SYMS recover >"$T/out" 2>&1
assert_eq "$RC" 0 "recover of a healthy db"
assert_file_match "$T/out" "recover ok: database healthy, nothing touched"
assert_eq "$(sha256sum "$DB" | cut -c1-64)" "$sum" "healthy database changed"
[ ! -d "$T/quarantine" ] || fail "healthy database quarantined"

drill() { # drill NAME: $DB is damaged; recover must restore and re-sync it
	local name=$1
	ck_rc --symbols $SYMS --history-days 30 recover >"$T/$name.out" 2>&1
	[ "$RC" = 0 ] || { cat "$T/$name.out"; fail "$name: recover exit $RC"; }
	assert_file_match "$T/$name.out" "^recover: check .*DAMAGED"
	assert_file_match "$T/$name.out" "^recover: quarantine .*moved $T/quarantine/candles.db\."
	assert_file_match "$T/$name.out" "^recover: restore .*restored hot backup"
	assert_file_match "$T/$name.out" "^recover: resync .*3 ok, 0 failed"
	assert_file_match "$T/$name.out" "^recover: verify .*healthy"
	dump "$DB" >"$T/$name.txt"
	cmp -s "$T/ref.txt" "$T/$name.txt" || { diff "$T/ref.txt" "$T/$name.txt" | head; fail "$name: candles differ from the never-damaged database"; }
	assert_eq "$(sql "select count(*) from events where kind='corruption_detected'")" 1 "$name: corruption event"
	assert_eq "$(sql "select count(*) from events where kind='recover'")" 1 "$name: recover event"
	assert_eq "$(sql "select status from runs where command='recover'")" ok "$name: run record"
	note "$name: detected, restored, re-synced, equal to the never-damaged database"
	rm -f "$DB" "$DB-wal" "$DB-shm"
}

# 1. random bytes over a page
cp "$T/base.db" "$DB"
pages=$(sqlite3 "$DB" 'pragma page_count')
dd if=/dev/urandom of="$DB" bs=4096 seek=$((pages / 2)) count=1 conv=notrunc 2>/dev/null
drill page
# 2. truncated file
cp "$T/base.db" "$DB"
truncate -s $(( $(stat -c %s "$DB") / 2 )) "$DB"
drill truncated
# 3. zeroed header
cp "$T/base.db" "$DB"
dd if=/dev/zero of="$DB" bs=100 count=1 conv=notrunc 2>/dev/null
drill header
# 4. deleted -wal mid-transaction: a reader pins the snapshot (no checkpoint), a sync
# commits new candles into the WAL, the holder is killed mid-transaction, the WAL goes.
cp "$T/base.db" "$DB"
python3 -c 'import sqlite3, sys, time
c = sqlite3.connect(sys.argv[1], isolation_level=None)
c.execute("BEGIN")
c.execute("SELECT count(*) FROM candles").fetchone()
open(sys.argv[2], "w").write("pinned")
time.sleep(600)' "$DB" "$T/pinned" &
holder=$!
_pids+=($holder)
wait_for 30 "the WAL holder to start" test -s "$T/pinned"
ck -q --symbols $SYMS --history-days 30 sync >/dev/null 2>&1 || fail "sync into the WAL"
[ -s "$DB-wal" ] || fail "no WAL to delete"
kill -9 $holder; wait $holder 2>/dev/null || true
rm -f "$DB-wal"
drill wal

# The newest backup corrupt (hot and warm) → the next good one is used.
cp "$T/base.db" "$DB"
ck -q --symbols $SYMS backup --now "$((T1 + 60000))" >/dev/null 2>&1 || fail "second backup"
newest=candles-$(date -u -d "@$(( (T1 + 60000) / 1000 ))" +%Y%m%dT%H%M%S).000Z.db
for tier in hot warm; do
	printf 'garbage' | dd of="$T/backups/$tier/$newest" bs=1 seek=5000 conv=notrunc 2>/dev/null
done
cp "$T/base.db" "$DB"
dd if=/dev/zero of="$DB" bs=100 count=1 conv=notrunc 2>/dev/null
drill newest-corrupt
assert_file_match "$T/newest-corrupt.out" "skipped hot backup .*$newest: checksum mismatch"
assert_file_match "$T/newest-corrupt.out" "skipped warm backup .*$newest: checksum mismatch"

# No usable backup → rebuilt from the exchange (and said so).
rm -rf "$T/backups"
cp "$T/base.db" "$DB"
dd if=/dev/zero of="$DB" bs=100 count=1 conv=notrunc 2>/dev/null
ck_rc --symbols $SYMS --history-days 30 recover >"$T/rebuild.out" 2>&1
[ "$RC" = 0 ] || { cat "$T/rebuild.out"; fail "rebuild: recover exit $RC"; }
assert_file_match "$T/rebuild.out" "^recover: restore .*no usable backup.*rebuilding from the exchange"
assert_file_match "$T/rebuild.out" "^recover: rebuild .*3 ok, 0 failed"
assert_file_match "$T/rebuild.out" "recover ok: rebuilt from the exchange"
"$CK" --db "$T/fresh.db" --base-url "$FAKEX_URL" -q --symbols $SYMS --history-days 30 sync >/dev/null 2>&1
dump "$T/fresh.db" >"$T/fresh.txt"
dump "$DB" >"$T/rebuilt.txt"
cmp -s "$T/fresh.txt" "$T/rebuilt.txt" || fail "rebuilt database differs from a fresh sync"
assert_eq "$(ls "$T/quarantine" | grep -c '^candles.db\.[0-9T.]*Z$')" 6 "every damaged file kept in quarantine"
echo ok
