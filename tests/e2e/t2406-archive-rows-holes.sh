#!/usr/bin/env bash
# An archive file's row count is checked against its period less the holes the
# exchange answered empty there: the spot files' real 2018-02-08 hole (7 candles of
# BTCUSDT, confirmed by two syncs) makes February 2018's monthly file 7 rows short, and
# it is right (stored, catalogued, no daily file asked); the same file with one more row
# missing outside the hole is rejected, named, and its period fetched another way;
# after backfill --since (holes marked for re-verification) the file is still right.
. "$(dirname "$0")/lib.sh"

now=1583020800000 # 2020-03-01 00:00 UTC
fakex_start --data "$DATA/spot" --now "$now"
export CANDLEKEEP_FAULT_NOW=$now
export CANDLEKEEP_SYNC_VERIFY_DAYS=0
since=1514764800000 # 2018-01-01
feb=1517443200000   # 2018-02-01
mar=1519862400000   # 2018-03-01
# REST alone, then a day later: the holes confirmed.
ck -q --symbols BTCUSDT backfill --since 2018-01-01 --timeout 0 >"$T/out0" 2>&1 ||
	{ cat "$T/out0"; fail "REST backfill"; }
fakex_ctl "clock?advance=$DAY" >/dev/null
now=$((now + DAY))
export CANDLEKEEP_FAULT_NOW=$now
ck -q --symbols BTCUSDT sync >"$T/out1" 2>&1 || { cat "$T/out1"; fail "confirming sync"; }
hole="first_open = 1518062400000 and last_open = 1518148800000" # 2018-02-08 04:00 .. 02-09 04:00
assert_eq "$(sql "select count(*) from holes where symbol='BTCUSDT' and $hole and confirmed_at > 0")" 1 \
	"the confirmed February hole"
expected_rows "$DATA/spot/BTCUSDT-4h.csv" "$now" "$since" 0 >"$T/want"
same_as_exchange() {
	ck export --symbol BTCUSDT >"$T/got" 2>/dev/null || fail "export"
	cmp -s "$T/want" "$T/got" || { diff "$T/want" "$T/got" | head; fail "$1: stored BTCUSDT differs"; }
}
same_as_exchange "REST"
drop_feb() { sql "delete from candles where symbol='BTCUSDT' and open_time >= $feb and open_time < $mar"; }

# February lost: a sync fills it from the monthly file, 161 rows for 168 candles less 7.
drop_feb
export CANDLEKEEP_ARCHIVE_ENABLED=true
ck --archive-url "$FAKEX_URL" --symbols BTCUSDT sync >"$T/out2" 2>"$T/err2" || { cat "$T/err2"; fail "sync 2"; }
if grep -q "archive file rejected" "$T/err2"; then
	cat "$T/err2"
	fail "a file rejected for the exchange's own hole"
fi
assert_eq "$(sql "select rows from archive_files where name='BTCUSDT-4h-2018-02.zip'")" 161 "catalogued rows"
assert_eq "$(fakex_requests '"/data/spot|"/data/futures/um/daily/klines/BTCUSDT/4h/BTCUSDT-4h-2018-02')" 0 \
	"daily files of February asked"
same_as_exchange "archive"
assert_eq "$(sql "select count(*) from holes where symbol='BTCUSDT' and $hole and confirmed_at > 0")" 1 \
	"the hole still confirmed"

# The file with a row missing outside the hole (the exchange's archive damaged): rejected.
drop_feb
sql "delete from archive_files"
fakex_ctl 'faults?archive_droprow=BTCUSDT-4h-2018-02' >/dev/null
ck --archive-url "$FAKEX_URL" --symbols BTCUSDT sync >"$T/out3" 2>"$T/err3" || { cat "$T/err3"; fail "sync 3"; }
assert_file_match "$T/err3" "archive file rejected, nothing of it stored: rows: 160 rows outside the exchange's holes, the period has 161 there \(168 candles, 7 in holes\).* file=BTCUSDT-4h-2018-02"
assert_eq "$(sql "select count(*) from archive_files where name='BTCUSDT-4h-2018-02.zip'")" 0 "rejected month catalogued"
same_as_exchange "after a rejected file"

# backfill --since marks the holes for re-verification: the file is right all the same.
drop_feb
sql "delete from archive_files"
fakex_ctl 'faults?reset=1' >/dev/null
ck --archive-url "$FAKEX_URL" --symbols BTCUSDT backfill --since 2018-01-01 --timeout 0 >"$T/out4" 2>"$T/err4" ||
	{ cat "$T/err4"; fail "backfill 4"; }
if grep -q "archive file rejected" "$T/err4"; then
	cat "$T/err4"
	fail "a file rejected for a hole marked for re-verification"
fi
assert_eq "$(sql "select rows from archive_files where name='BTCUSDT-4h-2018-02.zip'")" 161 "catalogued rows after backfill"
same_as_exchange "backfill"
echo ok
