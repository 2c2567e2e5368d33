#!/usr/bin/env bash
# gaps --verify notices an archive file the exchange amended after it was stored (its
# .CHECKSUM changed), reads it again with every check, stores the values that differ as
# counted revisions, catalogues the new checksum and exits 3; an unchanged catalogue
# costs one .CHECKSUM request a file and no zip. With the archive off it asks nothing.
. "$(dirname "$0")/lib.sh"
export CANDLEKEEP_ARCHIVE_ENABLED=true

now=$T_2026_03_19_18
fakex_start --data "$DATA" --now "$now"
ck --archive-url "$FAKEX_URL" --symbols BTCUSDT backfill --since 2025-01-01 >"$T/out" 2>"$T/err" ||
	{ cat "$T/err"; fail "backfill"; }
files=$(sql "select count(*) from archive_files")
[ "$files" -gt 0 ] || fail "nothing catalogued"
assert_eq "$(sql "select count(*) from revisions")" 0 "revisions after the backfill"

# Nothing amended: one .CHECKSUM request per catalogued file, no zip, exit 0.
zips=$(fakex_requests '"/data/.*\.zip"')
sums=$(fakex_requests '"/data/.*\.zip\.CHECKSUM"')
ck_rc --archive-url "$FAKEX_URL" gaps --verify >"$T/v1" 2>"$T/v1err"
assert_eq "$RC" 0 "gaps --verify exit with nothing amended"
assert_file_match "$T/v1" "^public archive of 4h: 0 amended files read again, 0 stored candles revised"
assert_eq "$(( $(fakex_requests '"/data/.*\.zip\.CHECKSUM"') - sums ))" "$files" ".CHECKSUM requests"
assert_eq "$(fakex_requests '"/data/.*\.zip"')" "$zips" "zip requests with nothing amended"

# The exchange amends February (its first candle's close): gaps --verify reads it again.
old=$(sql "select sha256 from archive_files where name='BTCUSDT-4h-2025-02.zip'")
fakex_ctl 'faults?archive_revise=BTCUSDT-4h-2025-02' >/dev/null
new=$(curl -fsS "$FAKEX_URL/data/futures/um/monthly/klines/BTCUSDT/4h/BTCUSDT-4h-2025-02.zip.CHECKSUM" | cut -c1-64)
[ "$old" != "$new" ] || fail "the amended file has the same checksum"
feb=1738368000000 # 2025-02-01 00:00
open_price=$(awk -F, -v t=$feb '$1 == t { print $2 }' "$DATA/BTCUSDT-4h.csv")
ck_rc --archive-url "$FAKEX_URL" gaps --verify >"$T/v2" 2>"$T/v2err"
assert_eq "$RC" 3 "gaps --verify exit after an amended file revised a candle"
assert_file_match "$T/v2" "^public archive of 4h: 1 amended files read again, 1 stored candles revised"
assert_file_match "$T/v2err" "the archive amended a file read before \(its .CHECKSUM changed from $old\): reading it again.* file=BTCUSDT-4h-2025-02"
assert_eq "$(sql "select sha256 from archive_files where name='BTCUSDT-4h-2025-02.zip'")" "$new" "catalogued checksum"
assert_eq "$(sql "select count(*) from revisions where symbol='BTCUSDT' and open_time=$feb")" 1 "a counted revision"
assert_eq "$(sql "select close from candles where symbol='BTCUSDT' and open_time=$feb")" "$open_price" \
	"the amended file's value stored"
assert_eq "$(( $(fakex_requests '"/data/futures/um/monthly/klines/BTCUSDT/4h/BTCUSDT-4h-2025-02\.zip"') ))" 2 \
	"February's zip read twice (backfill, amendment)"

# Read again, nothing changed since: exit 0, no more revisions.
ck_rc --archive-url "$FAKEX_URL" gaps --verify >"$T/v3" 2>"$T/v3err"
assert_eq "$RC" 0 "gaps --verify exit once the amendment is stored"
assert_file_match "$T/v3" "^public archive of 4h: 0 amended files read again"
assert_eq "$(sql "select count(*) from revisions")" 1 "revisions after the third verify"

# The archive off: gaps --verify asks the archive nothing.
before=$(fakex_requests '"/data/')
CANDLEKEEP_ARCHIVE_ENABLED=false ck_rc --archive-url "$FAKEX_URL" gaps --verify >"$T/v4" 2>&1
assert_eq "$RC" 0 "gaps --verify exit, archive off"
assert_eq "$(fakex_requests '"/data/')" "$before" "archive requests with the archive off"
if grep -q "public archive" "$T/v4"; then fail "archive line with the archive off"; fi
echo ok
