#!/usr/bin/env bash
# The database carries candlekeep's application_id: set at creation, and on the first
# open of an older candlekeep file that lacks it. Another application's SQLite file
# given as --db is refused by name and left byte for byte (no tables, no WAL, no
# user_version). A database of the older design (a table ohlcv_h4(symbol, timestamp,
# open, high, low, close, volume) written by a Python script) is migrated on the first
# sync: a copy of the original first, its rows into candles (timestamps in ms, s or
# ISO-8601 text), the table replaced by the view, which then follows every new candle.
. "$(dirname "$0")/lib.sh"

APPID=1129006146 # 0x434b4442 ("CKDB")
fakex_start --data "$DATA" --now "$T_2026_03_19_18"

# 1. A new database gets the id; an older candlekeep file without it gets it too.
ck -q --symbols BTCUSDT --history-days 20 sync >/dev/null 2>&1 || fail "sync"
assert_eq "$(sql 'pragma application_id')" "$APPID" "application_id of a new database"
cp "$DB" "$T/ref.db"
sql 'pragma application_id=0'
ck -q --symbols BTCUSDT --history-days 20 sync >/dev/null 2>&1 || fail "sync of a file without id"
assert_eq "$(sql 'pragma application_id')" "$APPID" "application_id set on an existing database"
note "application_id set at creation and on an existing candlekeep database"

# 2. Other applications' files are refused, untouched.
sqlite3 "$T/places.db" "create table moz_places(id integer primary key, url text);
	insert into moz_places(url) values ('https://example.org/');"
sqlite3 "$T/fossil.db" "pragma application_id=252006673; create table blob(rid integer primary key, content blob);"
sqlite3 "$T/shop.db" "create table candles(id integer primary key, scent text, price real);
	insert into candles(scent, price) values ('vanilla', 9.5);" # a candle shop's
for f in places.db fossil.db shop.db; do
	before=$(sha256sum "$T/$f" | cut -c1-64)
	for cmd in sync "backfill --since 2026-03-01" gaps; do
		RC=0
		"$CK" --db "$T/$f" --base-url "$FAKEX_URL" --symbols BTCUSDT $cmd >"$T/$f.out" 2>&1 || RC=$?
		[ "$RC" != 0 ] || fail "$cmd on $f succeeded"
		assert_file_match "$T/$f.out" "$T/$f: not a candlekeep database"
	done
	assert_eq "$(sha256sum "$T/$f" | cut -c1-64)" "$before" "$f changed"
	assert_eq "$(sqlite3 "$T/$f" 'pragma journal_mode')" delete "$f journal mode"
	assert_eq "$(sqlite3 "$T/$f" 'pragma user_version')" 0 "$f user_version"
	assert_eq "$(sqlite3 "$T/$f" "select count(*) from sqlite_master where name in ('runs', 'ohlcv_h4')")" 0 "$f got tables"
	[ ! -e "$T/$f-wal" ] || fail "$f got a WAL"
done
note "other applications' files refused by name, untouched"

# 3. The older design: its rows (the first 12 candles, prices as REAL) in a table.
legacy() { # legacy FILE UNIT: ohlcv_h4 with timestamps in ms, s, or ISO-8601 text
	local ts="open_time"
	case $2 in
	s) ts="open_time / 1000" ;;
	iso) ts="strftime('%Y-%m-%d %H:%M:%S', open_time / 1000, 'unixepoch')" ;;
	esac
	sqlite3 "$1" "create table ohlcv_h4 (symbol text not null, timestamp integer not null,
		open real, high real, low real, close real, volume real, primary key (symbol, timestamp));
		attach '$T/ref.db' as ref;
		insert into ohlcv_h4 select symbol, $ts, cast(open as real), cast(high as real),
			cast(low as real), cast(close as real), cast(volume as real)
			from ref.candles where symbol = 'BTCUSDT' order by open_time limit 12;"
}
first=$(sqlite3 "$T/ref.db" "select min(open_time) from candles")
for unit in ms s iso; do
	L="$T/legacy-$unit.db"
	legacy "$L" $unit
	sqlite3 "$L" .dump >"$T/$unit.orig.sql"
	"$CK" --db "$L" --base-url "$FAKEX_URL" -q --symbols BTCUSDT --history-days 20 sync >"$T/$unit.out" 2>&1 ||
		{ cat "$T/$unit.out"; fail "$unit: sync of the older design's database"; }
	[ -f "$L.older-design.bak" ] || fail "$unit: no copy of the original"
	sqlite3 "$L.older-design.bak" .dump | cmp -s - "$T/$unit.orig.sql" || fail "$unit: the copy is not the original"
	assert_eq "$(sqlite3 "$L" "select type from sqlite_master where name='ohlcv_h4'")" view "$unit: ohlcv_h4"
	assert_eq "$(sqlite3 "$L" 'pragma application_id')" "$APPID" "$unit: application_id"
	# the imported rows: ms open times, decimal text, close_time open + 4h - 1
	assert_eq "$(sqlite3 "$L" "select count(*) from candles where open_time between $first and $((first + 11 * H4))
		and interval = '4h' and close_time = open_time + $H4 - 1 and typeof(open) = 'text'
		and open not like '%e%'")" 12 "$unit: imported rows"
	assert_eq "$(sqlite3 "$L" "attach '$T/ref.db' as ref; select count(*) from candles c join ref.candles r
		using (symbol, interval, open_time) where cast(c.open as real) = cast(r.open as real)
		and cast(c.high as real) = cast(r.high as real) and cast(c.low as real) = cast(r.low as real)
		and cast(c.close as real) = cast(r.close as real) and cast(c.volume as real) = cast(r.volume as real)")" \
		"$(sqlite3 "$T/ref.db" 'select count(*) from candles')" "$unit: values equal the exchange's"
	# the view follows the new candles
	assert_eq "$(sqlite3 "$L" 'select count(*) from ohlcv_h4')" "$(sqlite3 "$T/ref.db" 'select count(*) from candles')" \
		"$unit: the view holds every candle"
	note "older design ($unit): copied, migrated, the view follows the sync"
done
echo ok
