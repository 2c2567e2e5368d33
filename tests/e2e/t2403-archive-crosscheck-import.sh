#!/usr/bin/env bash
# The archive is not the authority: a file whose first candle disagrees with REST (an
# archive file the exchange later amends) is cross-checked on its first and last candles,
# REST's values win and are stored as a counted revision. `import` takes the archive's
# zip files (with their .CHECKSUM beside them) and their CSVs, with the same checks. A
# later backfill notices an amended file (a changed .CHECKSUM) and reads it again.
. "$(dirname "$0")/lib.sh"
export CANDLEKEEP_ARCHIVE_ENABLED=true

now=$T_2026_03_19_18
fakex_start --data "$DATA" --now "$now"
fakex_ctl 'faults?archive_revise=BTCUSDT-4h-2025-02' >/dev/null
ck --archive-url "$FAKEX_URL" --symbols BTCUSDT backfill --since 2025-01-01 >"$T/out" 2>"$T/err" ||
	{ cat "$T/err"; fail "backfill"; }
feb=1738368000000 # 2025-02-01 00:00
rest_close=$(awk -F, -v t=$feb '$1 == t { print $5 }' "$DATA/BTCUSDT-4h.csv")
assert_eq "$(sql "select close from candles where symbol='BTCUSDT' and open_time=$feb")" "$rest_close" \
	"REST's close wins over the archive's"
assert_eq "$(sql "select count(*) from revisions where symbol='BTCUSDT' and open_time=$feb")" 1 "a counted revision"
assert_file_match "$T/out" "backfill ok: .* 1 revised"
assert_file_match "$T/err" "1 stored candles differed from the exchange and were revised"

# The exchange amends the file (now it agrees with REST): the next backfill sees the
# changed .CHECKSUM, reads the file again and catalogues the new checksum; the values
# already equal REST's, so nothing more is revised.
old=$(sql "select sha256 from archive_files where name='BTCUSDT-4h-2025-02.zip'")
fakex_ctl 'faults?reset=1' >/dev/null
new=$(curl -fsS "$FAKEX_URL/data/futures/um/monthly/klines/BTCUSDT/4h/BTCUSDT-4h-2025-02.zip.CHECKSUM" | cut -c1-64)
[ "$old" != "$new" ] || fail "the amended file has the same checksum"
ck --archive-url "$FAKEX_URL" --symbols BTCUSDT backfill --since 2025-01-01 >"$T/out2" 2>"$T/err2" ||
	{ cat "$T/err2"; fail "backfill after the amendment"; }
assert_file_match "$T/err2" "the archive amended a file read before \(its .CHECKSUM changed from $old\): reading it again.* file=BTCUSDT-4h-2025-02"
assert_eq "$(grep -c 'amended a file read before' "$T/err2")" 1 "amended files"
assert_eq "$(sql "select sha256 from archive_files where name='BTCUSDT-4h-2025-02.zip'")" "$new" "catalogued checksum"
assert_eq "$(sql "select count(*) from revisions where symbol='BTCUSDT'")" 1 "revisions after the amendment"

# import: zips as downloaded, with and without their .CHECKSUM, and a CSV from one.
A="$FAKEX_URL/data/futures/um/monthly/klines"
mkdir -p "$T/in"
fakex_ctl 'faults?reset=1' >/dev/null
for f in ETHUSDT-4h-2025-01 ETHUSDT-4h-2025-02 ETHUSDT-4h-2025-03; do
	curl -fsS -o "$T/in/$f.zip" "$A/ETHUSDT/4h/$f.zip"
	curl -fsS -o "$T/in/$f.zip.CHECKSUM" "$A/ETHUSDT/4h/$f.zip.CHECKSUM"
done
rm "$T/in/ETHUSDT-4h-2025-02.zip.CHECKSUM"
python3 -c 'import sys, zipfile; z = zipfile.ZipFile(sys.argv[1]); sys.stdout.write(z.read(z.namelist()[0]).decode())' \
	"$T/in/ETHUSDT-4h-2025-03.zip" >"$T/in/ETHUSDT-4h-2025-03.csv"
rm "$T/in/ETHUSDT-4h-2025-03.zip"
DB="$T/i.db" ck import "$T/in/ETHUSDT-4h-2025-01.zip" "$T/in/ETHUSDT-4h-2025-02.zip" "$T/in/ETHUSDT-4h-2025-03.csv" \
	>"$T/iout" 2>&1 || { cat "$T/iout"; fail "import of archive files"; }
assert_file_match "$T/iout" "ETHUSDT-4h-2025-01.zip: ETHUSDT 4h: 186 written, 0 unchanged, 0 revised, 0 still forming \(skipped\), checksum ok"
assert_file_match "$T/iout" "ETHUSDT-4h-2025-02.zip: ETHUSDT 4h: 168 written"
assert_file_match "$T/iout" "ETHUSDT-4h-2025-03.csv: ETHUSDT 4h: 186 written"
assert_eq "$(DB="$T/i.db" sql "select count(*) from candles where symbol='ETHUSDT'")" 540 "imported candles"

# A damaged zip, a wrong checksum, a file with a missing row: refused whole, named.
fakex_ctl 'faults?archive_damage=ETHUSDT-4h-2025-04&archive_badsum=ETHUSDT-4h-2025-05&archive_droprow=ETHUSDT-4h-2025-06' >/dev/null
for f in ETHUSDT-4h-2025-04 ETHUSDT-4h-2025-05 ETHUSDT-4h-2025-06; do
	curl -fsS -o "$T/in/$f.zip" "$A/ETHUSDT/4h/$f.zip"
	curl -fsS -o "$T/in/$f.zip.CHECKSUM" "$A/ETHUSDT/4h/$f.zip.CHECKSUM"
	RC=0
	DB="$T/i.db" ck import "$T/in/$f.zip" >"$T/bad-$f" 2>&1 || RC=$?
	assert_eq "$RC" 1 "import of $f"
done
assert_file_match "$T/bad-ETHUSDT-4h-2025-04" "ETHUSDT-4h-2025-04.zip: zip: .*nothing of it was stored"
assert_file_match "$T/bad-ETHUSDT-4h-2025-05" "ETHUSDT-4h-2025-05.zip: checksum: SHA-256 [0-9a-f]{64}, .*CHECKSUM says"
assert_file_match "$T/bad-ETHUSDT-4h-2025-06" "ETHUSDT-4h-2025-06.zip: rows: 179 rows, the period has 180"
assert_eq "$(DB="$T/i.db" sql "select count(*) from candles where symbol='ETHUSDT'")" 540 "nothing stored from refused files"
echo ok
