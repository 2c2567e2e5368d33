#!/usr/bin/env bash
# recover salvages: every candle still readable in the damaged file is copied into the
# restored database (key range by key range, past the unreadable page), so candles
# written after the newest backup survive even when the exchange cannot be reached.
# When the end state holds fewer candles than the damaged file did, recover says how
# many, exits 1 and keeps the quarantined file; with no backup, nothing readable and no
# exchange it exits 1 too. Quarantined files outlive backup retention.
. "$(dirname "$0")/lib.sh"

SYMS=BTCUSDT,ETHUSDT,CFGUSDT
T1=$((T_2026_03_19_18 - 4 * DAY))
fakex_start --data "$DATA" --now "$T1"
ck -q --symbols $SYMS --history-days 30 sync >/dev/null 2>&1 || fail "sync at T1"
ck -q --symbols $SYMS backup --now "$T1" >/dev/null 2>&1 || fail "backup"
backup=$(ls "$T"/backups/hot/candles-*.db | head -1)
fakex_ctl "clock?advance=$((3 * DAY))" >/dev/null
ck -q --symbols $SYMS --history-days 30 sync >/dev/null 2>&1 || fail "sync at T1 + 3 days"
n=$(sql "select count(*) from candles")
nb=$(sqlite3 "$backup" "select count(*) from candles")
[ "$n" -gt "$nb" ] || fail "the database must hold candles the backup lacks ($n vs $nb)"
dump() { sqlite3 -batch "$1" "select * from candles order by symbol, interval, open_time"; }
dump "$DB" >"$T/good.txt"
cp "$DB" "$T/good.db"
psize=$(sqlite3 "$DB" 'pragma page_size')
leaves() { sqlite3 "$1" "select pageno from dbstat where name='candles' and pagetype='leaf' order by pageno"; }
page() { dd if="$1" bs="$psize" skip=$(($2 - 1)) count=1 2>/dev/null | sha256sum | cut -c1-64; }
smash() { dd if=/dev/urandom of="$DB" bs="$psize" seek=$(($1 - 1)) count=1 conv=notrunc 2>/dev/null; }
fakex_stop # the exchange is unreachable from here on

# 1. A page that the backup holds too is smashed: backup + salvage give back every
# candle, the ones newer than the backup included, although the re-sync cannot run.
old_leaf=
for p in $(leaves "$DB"); do
	[ "$(page "$DB" "$p")" = "$(page "$backup" "$p")" ] && { old_leaf=$p; break; }
done
[ -n "$old_leaf" ] || fail "no leaf page shared with the backup"
smash "$old_leaf"
ck_rc --symbols $SYMS --history-days 30 recover >"$T/old.out" 2>&1
[ "$RC" = 0 ] || { cat "$T/old.out"; fail "recover exit $RC"; }
assert_eq "$(sql "select count(*) from candles")" "$n" "candles after backup + salvage"
assert_file_match "$T/old.out" "^recover: restore .*restored hot backup"
assert_file_match "$T/old.out" "^recover: salvage .*candles read from the damaged file.* 1 unreadable ranges"
assert_file_match "$T/old.out" "INCOMPLETE"
dump "$DB" >"$T/old.txt"
cmp -s "$T/good.txt" "$T/old.txt" || { diff "$T/good.txt" "$T/old.txt" | head; fail "candles differ from the undamaged database"; }
note "backup + salvage: all $n candles back ($nb from the backup), exchange unreachable"

# 2. No backup, a page of candles smashed, no exchange: the rest is salvaged, the loss
# is counted and reported, exit 1, the damaged file stays in quarantine.
mv "$T/backups" "$T/backups.away"
rm -f "$DB" "$DB-wal" "$DB-shm"
cp "$T/good.db" "$DB"
set -- $(leaves "$DB")
shift $(($# / 2))
smash "$1"
ck_rc --symbols $SYMS --history-days 30 recover >"$T/loss.out" 2>&1

assert_eq "$RC" 1 "recover that ends with fewer candles than the damaged file held"
after=$(sql "select count(*) from candles")
[ "$after" -lt "$n" ] && [ "$after" -ge $((n - 60)) ] ||
	fail "salvage without backup: $after candles of $n (one page holds far fewer than 60)"
assert_file_match "$T/loss.out" "holds $after candles, $((n - after)) fewer than the damaged file held \($n\)"
assert_file_match "$T/loss.out" "stays in $T/quarantine"
q=$(ls "$T/quarantine" | grep '^candles.db\.[0-9T.]*Z$' | tail -1)
[ -n "$q" ] && [ -s "$T/quarantine/$q" ] || fail "damaged file not kept"
[ ! -e "$DB.recover" ] || fail "marker left after a finished recover"
note "no backup, no exchange: $after of $n salvaged, the loss of $((n - after)) reported, exit 1"

# 3. No backup, nothing readable (the header zeroed), no exchange: exit 1, not "ok".
rm -f "$DB" "$DB-wal" "$DB-shm"
cp "$T/good.db" "$DB"
dd if=/dev/zero of="$DB" bs=100 count=1 conv=notrunc 2>/dev/null
ck_rc --symbols $SYMS --history-days 30 recover >"$T/nothing.out" 2>&1
assert_eq "$RC" 1 "recover that could restore nothing"
assert_file_match "$T/nothing.out" "nothing could be restored"
if grep -q "recover ok" "$T/nothing.out"; then fail "said ok"; fi
note "nothing restorable and no exchange: exit 1"

# 4. Backup retention never touches the quarantine.
mv "$T/backups.away" "$T/backups"
rm -f "$DB" "$DB-wal" "$DB-shm"
cp "$T/good.db" "$DB"
qsnap() { (cd "$T/quarantine" && ls -lA --time-style=+%s . && find . -type f -exec sha256sum {} + | sort); }
qsnap >"$T/q.before"
qn=$(ls "$T/quarantine" | wc -l)
fakex_start --data "$DATA" --now "$((T1 + 400 * DAY))"
ck -q --symbols $SYMS backup --now "$((T1 + 400 * DAY))" >/dev/null 2>&1 || fail "backup with retention"
assert_eq "$(ls "$T/quarantine" | wc -l)" "$qn" "quarantine after retention"
qsnap | cmp -s - "$T/q.before" || fail "retention changed the quarantine"
echo ok
