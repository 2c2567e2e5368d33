#!/usr/bin/env bash
# Schema 5 (the market in every key) from a database made by the build before it
# (tests/fixtures/schema4.sql: synced against fakex, with archive files, a confirmed
# exchange hole and the verify schedule's state). A migration that fails midway (the
# disk fills at the N-th write, for every N until it succeeds; a kill in the middle)
# leaves the file of schema 4 exactly as it was and readable; the one that completes
# loses nothing: every row and value is kept, in market 'um'.
. "$(dirname "$0")/lib.sh"

FIX="$CK_TOP/tests/fixtures/schema4.sql"
sqlite3 "$T/v4.db" <"$FIX"
assert_eq "$(sqlite3 "$T/v4.db" 'pragma user_version')" 4 "fixture schema"
# What schema 4 holds, column by column, in key order (market-free: the same query
# answers on both schemas).
contents() {
	sqlite3 -batch -noheader "$1" "
	select 'c', symbol, interval, open_time, open, high, low, close, volume, close_time,
	       quote_volume, trades, taker_buy_base, taker_buy_quote from candles order by 2, 3, 4;
	select 'h', symbol, interval, first_open, last_open, confirmed_at, first_seen,
	       first_seen_exchange, second_seen, runs from holes order by 2, 3, 4;
	select 's', symbol, interval, history_start, first_open from symbols order by 2, 3;
	select 'l', symbol, interval, first_open, last_open, kind, candles from coverage
	       order by 2, 3, 4, 6;
	select 'a', name, sha256, rows, read_at from archive_files order by 2;
	select 'r', id, command, started, status, candles_written from runs order by 2;
	select 'v', symbol, timestamp, open, close from ohlcv_h4 order by 2, 3;"
}
contents "$T/v4.db" >"$T/before"
dump4=$(sqlite3 "$T/v4.db" .dump | sha256sum)
[ "$(grep -c '^c|' "$T/before")" = 131 ] || fail "fixture: expected 131 candles"

# A full disk at the N-th write of the migration, for each N until one succeeds.
failed=0
for n in $(seq 1 400); do
	cp "$T/v4.db" "$T/f.db"
	RC=0
	CANDLEKEEP_FAULT_IO=$n CANDLEKEEP_FAULT_FULL=1 "$CK" --db "$T/f.db" gaps --verify \
		>"$T/f.out" 2>"$T/f.err" || RC=$?
	# schema 5 committed (schema 6 after it is t4017's)
	if [ "$(sqlite3 "$T/f.db" 'pragma user_version')" -ge 5 ]; then
		break
	fi
	[ "$RC" != 0 ] || fail "write $n failed, the file is still schema 4, yet exit 0"
	grep -Eq "disk|full|market column" "$T/f.err" || { cat "$T/f.err"; fail "write $n: no cause named"; }
	assert_eq "$(sqlite3 "$T/f.db" .dump | sha256sum)" "$dump4" "file after a full disk at write $n"
	assert_eq "$(sqlite3 "$T/f.db" 'pragma integrity_check')" ok "integrity after write $n failed"
	failed=$((failed + 1))
done
[ "$failed" -ge 3 ] || fail "only $failed failing writes: the sweep did not reach the migration"
note "$failed migrations stopped by a full disk, each left schema 4 intact"
# The file an interrupted migration left is still readable (read-only opens do not
# migrate): gaps answers from it.
cp "$T/v4.db" "$T/f.db"
CANDLEKEEP_FAULT_IO=5 CANDLEKEEP_FAULT_FULL=1 "$CK" --db "$T/f.db" gaps --verify >/dev/null 2>&1 || true
"$CK" --db "$T/f.db" gaps >"$T/ro.out" 2>&1 || { cat "$T/ro.out"; fail "gaps on the schema-4 file"; }
assert_file_match "$T/ro.out" "^0 candles missing, 1 in confirmed exchange holes"
assert_eq "$(sqlite3 "$T/f.db" 'pragma user_version')" 4 "a read-only open migrated"

# A kill in the middle of the migration's transaction.
for n in 3 10 20; do
	cp "$T/v4.db" "$T/k.db"
	(CANDLEKEEP_FAULT_KILL=$n exec "$CK" --db "$T/k.db" gaps --verify >/dev/null 2>&1) 2>/dev/null || true
	v=$(sqlite3 "$T/k.db" 'pragma user_version')
	if [ "$v" = 4 ]; then
		assert_eq "$(sqlite3 "$T/k.db" .dump | sha256sum)" "$dump4" "file after a kill at write $n"
	else
		assert_match "$v" '^[56]$' "schema after a kill at write $n"
	fi
	assert_eq "$(sqlite3 "$T/k.db" 'pragma integrity_check')" ok "integrity after a kill at write $n"
done

# The migration that completes: nothing lost.
cp "$T/v4.db" "$DB"
ck_rc gaps --verify >"$T/v.out" 2>&1
assert_eq "$RC" 0 "gaps --verify after the migration"
assert_file_match "$T/v.out" "^coverage ledger of 4h: 0 rows disagreed"
assert_eq "$(sql 'pragma user_version')" 6 "schema version (5, then 6: t4017)"
assert_eq "$(sql 'pragma integrity_check')" ok "integrity"
contents "$DB" >"$T/after"
cmp -s "$T/before" "$T/after" || { diff "$T/before" "$T/after" | head; fail "rows or values changed"; }
for t in candles holes symbols coverage archive_files revisions; do
	assert_eq "$(sql "select count(*) from $t where market <> 'um'")" 0 "$t rows outside um"
	assert_eq "$(sql "select count(*) from pragma_table_info('$t') where name = 'market'")" 1 "$t.market"
done
assert_eq "$(sql "select group_concat(name, ',') from pragma_index_info((select name from
	pragma_index_list('candles') where origin = 'pk'))")" "market,symbol,interval,open_time" "candles key"
assert_eq "$(sql "select group_concat(key || '=' || value, ',') from state where key like 'verify%' order by key")" \
	"verify_at:um:4h=1773943200000,verify_cursor:um:4h=1771344000000" "verify state keys"
# export reads the migrated candles (um, the default market) as they were.
for s in BTCUSDT CFGUSDT ETHUSDT; do
	ck export --symbol "$s" >"$T/$s.csv" 2>/dev/null
	assert_eq "$(wc -l <"$T/$s.csv" | tr -d ' ')" "$(grep -c "^c|$s|" "$T/before")" "$s exported rows"
done
echo "ok"
