#!/usr/bin/env bash
# recover is crash-safe: killed (SIGKILL) after the quarantine, after the replacement
# was built, or after it was installed, the next recover takes the recovery up again
# and ends with the same database as an uninterrupted one. Meanwhile no command makes
# a new, empty database where the damaged one was: sync and backfill refuse and say to
# run candlekeep recover; with the marker gone but a quarantined copy left, too.
. "$(dirname "$0")/lib.sh"

SYMS=BTCUSDT,ETHUSDT
T1=$((T_2026_03_19_18 - 2 * DAY))
fakex_start --data "$DATA" --now "$T1"
ck -q --symbols $SYMS --history-days 30 sync >/dev/null 2>&1 || fail "sync at T1"
ck -q --symbols $SYMS backup --now "$T1" >/dev/null 2>&1 || fail "backup"
fakex_ctl "clock?advance=$DAY" >/dev/null
ck -q --symbols $SYMS --history-days 30 sync >/dev/null 2>&1 || fail "sync at T1 + 1 day"
cp "$DB" "$T/good.db"
dump() { sqlite3 -batch "$1" "select * from candles order by symbol, interval, open_time"; }
dump "$DB" >"$T/good.txt"
psize=$(sqlite3 "$DB" 'pragma page_size')
leaf=$(sqlite3 "$DB" "select pageno from dbstat where name='candles' and pagetype='leaf' order by pageno limit 1 offset 4")
damage() {
	rm -f "$DB" "$DB-wal" "$DB-shm"
	cp "$T/good.db" "$DB"
	dd if=/dev/urandom of="$DB" bs="$psize" seek=$((leaf - 1)) count=1 conv=notrunc 2>/dev/null
}

for point in recover-quarantined recover-built recover-installed; do
	damage
	RC=0
	CANDLEKEEP_FAULT_POINT=$point ck --symbols $SYMS --history-days 30 recover >"$T/$point.out" 2>&1 || RC=$?
	assert_eq "$RC" 137 "$point: recover killed"
	[ -e "$DB.recover" ] || fail "$point: no recover marker after the kill"
	if [ "$point" != recover-installed ]; then
		[ ! -e "$DB" ] || fail "$point: a database exists before the restore finished"
		ck_rc --symbols $SYMS --history-days 30 sync >"$T/$point.sync" 2>&1
		[ "$RC" != 0 ] || fail "$point: sync went on after an interrupted recover"
		assert_file_match "$T/$point.sync" "interrupted.*run candlekeep recover"
		ck_rc --symbols $SYMS backfill --since 2026-03-01 >"$T/$point.backfill" 2>&1
		[ "$RC" != 0 ] || fail "$point: backfill went on after an interrupted recover"
		assert_file_match "$T/$point.backfill" "run candlekeep recover"
		[ ! -e "$DB" ] || fail "$point: a command created a new database: $(sql 'select count(*) from candles') candles"
	fi
	ck_rc --symbols $SYMS --history-days 30 recover >"$T/$point.resume" 2>&1
	[ "$RC" = 0 ] || { cat "$T/$point.resume"; fail "$point: resumed recover exit $RC"; }
	assert_file_match "$T/$point.resume" "^recover: resume .*interrupted recover"
	if grep -q "nothing touched" "$T/$point.resume"; then fail "$point: called healthy"; fi
	[ ! -e "$DB.recover" ] || fail "$point: marker left after the resumed recover"
	dump "$DB" >"$T/$point.txt"
	cmp -s "$T/good.txt" "$T/$point.txt" || { diff "$T/good.txt" "$T/$point.txt" | head; fail "$point: candles differ from the undamaged database"; }
	note "$point: killed, refused by sync and backfill, resumed to the full database"
done
assert_eq "$(ls "$T/quarantine" | grep -c '^candles.db\.[0-9T.]*Z$')" 3 "one quarantined file per damage"

# The marker lost too (say, removed by hand), the database gone: the quarantined copy
# still stops a new empty database; recover restores.
rm -f "$DB" "$DB-wal" "$DB-shm"
ck_rc --symbols $SYMS --history-days 30 sync >"$T/q.sync" 2>&1
[ "$RC" != 0 ] || fail "sync made a new database beside a quarantined copy"
assert_file_match "$T/q.sync" "quarantine.*run candlekeep recover"
[ ! -e "$DB" ] || fail "a new database was created"
ck_rc --symbols $SYMS --history-days 30 recover >"$T/q.recover" 2>&1
[ "$RC" = 0 ] || { cat "$T/q.recover"; fail "recover of a missing database: exit $RC"; }
assert_file_match "$T/q.recover" "restored hot backup"
dump "$DB" >"$T/q.txt"
cmp -s "$T/good.txt" "$T/q.txt" || fail "the restored database differs"
echo ok
