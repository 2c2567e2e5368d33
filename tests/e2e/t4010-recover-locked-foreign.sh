#!/usr/bin/env bash
# recover: damage only on proof. A healthy database that another process holds locked
# is waited for (bounded) and reported with exit 75, never moved; a damaged one that
# another process still has open is not proof either (exit 75, nothing moved) until it
# is let go. Another application's SQLite file, or a file that is no database and
# shows no trace of candlekeep's schema, is refused (exit 2) and left byte for byte.
. "$(dirname "$0")/lib.sh"

SYMS=BTCUSDT,ETHUSDT
fakex_start --data "$DATA" --now "$T_2026_03_19_18"
ck -q --symbols $SYMS --history-days 30 sync >/dev/null 2>&1 || fail "sync"
n=$(sql "select count(*) from candles")
[ "$n" -gt 100 ] || fail "too few candles: $n"
sum=$(sha256sum "$DB" | cut -c1-64)

# hold FILE MODE: a python sqlite3 client keeps FILE open (MODE exclusive: locked
# against every other connection; MODE open: an idle open connection) until killed.
hold() {
	rm -f "$T/held"
	/usr/bin/python3 -c 'import sqlite3, sys, time
c = sqlite3.connect(sys.argv[1], isolation_level=None, timeout=0)
if sys.argv[3] == "exclusive":
    c.execute("PRAGMA locking_mode=EXCLUSIVE")
    c.execute("BEGIN EXCLUSIVE")
c.execute("SELECT count(*) FROM sqlite_master").fetchone()
open(sys.argv[2], "w").write("held")
time.sleep(600)' "$1" "$T/held" "$2" &
	holder=$!
	_pids+=($holder)
	wait_for 30 "the lock holder to start" test -s "$T/held"
}

# 1. Healthy but locked by another process: waited for, then exit 75, nothing moved.
hold "$DB" exclusive
ck_rc --symbols $SYMS recover >"$T/locked.out" 2>&1
assert_eq "$RC" 75 "recover of a locked healthy database"
assert_file_match "$T/locked.out" "BUSY"
assert_file_match "$T/locked.out" "another process holds the database"
[ -f "$DB" ] || fail "the locked database was moved"
[ ! -e "$T/quarantine" ] || fail "a locked database was quarantined: $(ls "$T/quarantine")"
[ ! -e "$DB.recover" ] || fail "a recover marker was left behind"
kill -9 $holder; wait $holder 2>/dev/null || true
assert_eq "$(sha256sum "$DB" | cut -c1-64)" "$sum" "locked database changed"
ck_rc --symbols $SYMS recover >"$T/free.out" 2>&1
assert_eq "$RC" 0 "recover once the lock is gone"
assert_file_match "$T/free.out" "recover ok: database healthy, nothing touched"
assert_eq "$(sql "select count(*) from candles")" "$n" "candles after"
note "locked healthy database: exit 75, untouched; healthy once let go"

# 2. Damaged, but another process has it open: not proof (bounded wait, exit 75).
cp "$DB" "$T/good.db"
leaf=$(sqlite3 "$DB" "select pageno from dbstat where name='candles' and pagetype='leaf' order by pageno limit 1 offset 3")
psize=$(sqlite3 "$DB" 'pragma page_size')
dd if=/dev/urandom of="$DB" bs="$psize" seek=$((leaf - 1)) count=1 conv=notrunc 2>/dev/null
hold "$DB" open
ck_rc --symbols $SYMS recover --wait 1 >"$T/open.out" 2>&1
assert_eq "$RC" 75 "recover of a damaged database another process has open"
assert_file_match "$T/open.out" "not proof"
[ -f "$DB" ] && [ ! -e "$T/quarantine" ] || fail "moved without proof"
kill -9 $holder; wait $holder 2>/dev/null || true
ck_rc --symbols $SYMS recover --wait 1 >"$T/damaged.out" 2>&1
assert_eq "$RC" 0 "recover once the damaged file is let go"
assert_file_match "$T/damaged.out" "^recover: check .*DAMAGED"
assert_eq "$(ls "$T/quarantine" | grep -c '^candles.db\.[0-9T.]*Z$')" 1 "quarantined once"
note "damaged but open elsewhere: exit 75, untouched; quarantined with the file to itself"

# 3. Another application's SQLite files (with and without an application_id) and a
# file that is no database: refused, exit 2, byte for byte unchanged, nothing moved.
sqlite3 "$T/places.db" "create table moz_places(id integer primary key, url text);
	insert into moz_places(url) values ('https://example.org/');"
sqlite3 "$T/fossil.db" "pragma application_id=252006673; create table blob(rid integer primary key, content blob);
	insert into blob(content) values (x'00112233');"
sqlite3 "$T/shop.db" "create table candles(id integer primary key, scent text, price real);
	insert into candles(scent, price) values ('vanilla', 9.5);" # a candle shop's
printf 'name,value\nalpha,1\n' >"$T/notes.csv"
for f in places.db fossil.db shop.db notes.csv; do
	before=$(sha256sum "$T/$f" | cut -c1-64)
	RC=0
	"$CK" --db "$T/$f" --base-url "$FAKEX_URL" --symbols $SYMS recover >"$T/$f.out" 2>&1 || RC=$?
	assert_eq "$RC" 2 "recover of $f"
	assert_file_match "$T/$f.out" "refused.*$T/$f|$T/$f.*refused"
	assert_file_match "$T/$f.out" "not a candlekeep database|no candlekeep schema"
	assert_eq "$(sha256sum "$T/$f" | cut -c1-64)" "$before" "$f changed"
	assert_eq "$(ls "$T/quarantine" | grep -c "^$f\.")" 0 "$f quarantined"
	[ ! -e "$T/$f.recover" ] || fail "$f: a recover marker was left behind"
done
note "other applications' files: refused with exit 2, untouched"
echo ok
