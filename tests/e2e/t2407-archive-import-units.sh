#!/usr/bin/env bash
# import of the archive's files as published, the cases t2403 leaves out: a daily zip
# (a header row) in microseconds with its .CHECKSUM, its CSV, a month in microseconds;
# each stored in milliseconds, the same rows as the exchange's REST data. A zip whose
# .CHECKSUM beside it is another file's is refused whole, and so is a CSV of mixed units.
. "$(dirname "$0")/lib.sh"

now=$T_2026_03_19_18
fakex_start --data "$DATA" --now "$now"
fakex_ctl 'faults?archive_micros=1' >/dev/null
A="$FAKEX_URL/data/futures/um"
mkdir -p "$T/in"
get() { # KIND NAME
	curl -fsS -o "$T/in/$2.zip" "$A/$1/klines/ETHUSDT/4h/$2.zip" || fail "download $2"
	curl -fsS -o "$T/in/$2.zip.CHECKSUM" "$A/$1/klines/ETHUSDT/4h/$2.zip.CHECKSUM" || fail "download $2.CHECKSUM"
}
get daily ETHUSDT-4h-2025-03-02
get daily ETHUSDT-4h-2025-03-03
get monthly ETHUSDT-4h-2025-01
unzip_to() { python3 -c 'import sys, zipfile; z = zipfile.ZipFile(sys.argv[1]); sys.stdout.write(z.read(z.namelist()[0]).decode())' "$1"; }
unzip_to "$T/in/ETHUSDT-4h-2025-03-03.zip" >"$T/in/ETHUSDT-4h-2025-03-03.csv"
head -1 "$T/in/ETHUSDT-4h-2025-03-03.csv" | grep -q '^open_time,' || fail "the daily file has no header row"
sed -n 2p "$T/in/ETHUSDT-4h-2025-03-03.csv" | grep -Eq '^[0-9]{16},' || fail "the daily file is not in microseconds"
rm "$T/in/ETHUSDT-4h-2025-03-03.zip"*
ck import "$T/in/ETHUSDT-4h-2025-03-02.zip" "$T/in/ETHUSDT-4h-2025-03-03.csv" "$T/in/ETHUSDT-4h-2025-01.zip" \
	>"$T/out" 2>&1 || { cat "$T/out"; fail "import of microsecond archive files"; }
assert_file_match "$T/out" "ETHUSDT-4h-2025-03-02.zip: ETHUSDT 4h: 6 written, 0 unchanged, 0 revised, 0 still forming \(skipped\), checksum ok"
assert_file_match "$T/out" "ETHUSDT-4h-2025-03-03.csv: ETHUSDT 4h: 6 written"
assert_file_match "$T/out" "ETHUSDT-4h-2025-01.zip: ETHUSDT 4h: 186 written, .*checksum ok"
# Stored in ms, byte for byte the exchange's rows.
ck export --symbol ETHUSDT --output "$T/eth.csv" >/dev/null 2>&1 || fail "export"
grep -v '^open_time' "$T/eth.csv" | cut -d, -f1-9 >"$T/got"
jan=1735689600000 feb=1738368000000 d2=1740873600000 d4=1741046400000
awk -F, -v a=$jan -v b=$feb -v c=$d2 -v d=$d4 '($1 >= a && $1 < b) || ($1 >= c && $1 < d)' \
	"$DATA/ETHUSDT-4h.csv" | cut -d, -f1-9 >"$T/want"
cmp -s "$T/want" "$T/got" || { diff "$T/want" "$T/got" | head; fail "imported rows differ from the exchange's"; }

# Another file's .CHECKSUM beside a zip: refused, nothing stored.
get daily ETHUSDT-4h-2025-03-05
get daily ETHUSDT-4h-2025-03-06
cp "$T/in/ETHUSDT-4h-2025-03-06.zip.CHECKSUM" "$T/in/ETHUSDT-4h-2025-03-05.zip.CHECKSUM"
ck_rc import "$T/in/ETHUSDT-4h-2025-03-05.zip" >"$T/bad1" 2>&1
assert_eq "$RC" 1 "import with another file's .CHECKSUM"
assert_file_match "$T/bad1" "ETHUSDT-4h-2025-03-05.zip: checksum: SHA-256 [0-9a-f]{64}, .*CHECKSUM says [0-9a-f]{64}.*nothing of it was stored"
# A CSV whose units change halfway: refused whole.
unzip_to "$T/in/ETHUSDT-4h-2025-03-06.zip" >"$T/in/ETHUSDT-4h-2025-03-06.csv"
awk -F, 'BEGIN { OFS = "," } NR == 5 { $1 = substr($1, 1, 13); $7 = substr($7, 1, 13) } { print }' \
	"$T/in/ETHUSDT-4h-2025-03-06.csv" >"$T/mixed" && mv "$T/mixed" "$T/in/ETHUSDT-4h-2025-03-06.csv"
ck_rc import "$T/in/ETHUSDT-4h-2025-03-06.csv" >"$T/bad2" 2>&1
assert_eq "$RC" 1 "import of a CSV of mixed units"
assert_file_match "$T/bad2" "ETHUSDT-4h-2025-03-06.csv: timestamps: line 5 mixes microseconds and milliseconds"
n=$(sql "select count(*) from candles where symbol='ETHUSDT'")
assert_eq "$n" 198 "candles after the refused files (186 + 6 + 6)"
echo ok
