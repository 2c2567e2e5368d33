#!/usr/bin/env bash
# backfill on spot through the public archive: spot's files of periods since 2025-01-01
# carry microsecond timestamps (those of 2024 milliseconds), and the backfill takes both
# kinds from the archive (monthly and daily files, nothing rejected) and stores open
# times in milliseconds: the stored candles are, value for value, what spot's REST API
# (/api/v3/klines) serves.
. "$(dirname "$0")/lib.sh"
export CANDLEKEEP_ARCHIVE_ENABLED=true

now=1741608000000   # 2025-03-10 12:00 UTC
since=1730419200000 # 2024-11-01
fakex_start --synthetic 1 --synthetic-start "$since" --now "$now"
ck --market spot --archive-url "$FAKEX_URL" --symbols SYN000USDT backfill --since 2024-11-01 \
	>"$T/out" 2>"$T/err" || { cat "$T/err"; fail "spot backfill"; }
grep -q "archive file rejected" "$T/err" && { cat "$T/err"; fail "an archive file was rejected"; }
assert_file_match "$T/err" "13 files stored \(774 candles\), 0 rejected, 0 not published"
# Spot's paths, and only spot's: 4 months, 9 days (03-01..03-09; the 10th is not published).
assert_eq "$(fakex_requests '"/data/spot/monthly/klines/SYN000USDT/4h/SYN000USDT-4h-20(24-1[12]|25-0[12])\.zip"')" 4 \
	"spot monthly zips"
assert_eq "$(fakex_requests '"/data/spot/daily/klines/SYN000USDT/4h/SYN000USDT-4h-2025-03-0[1-9]\.zip"')" 9 \
	"spot daily zips"
assert_eq "$(fakex_requests '"/data/futures/')" 0 "futures archive requests of a spot backfill"
assert_eq "$(sql "select count(*) from archive_files")" 13 "files catalogued"
assert_eq "$(sql "select count(*) from archive_files where name like 'SYN000USDT-4h-2025-%'")" 11 \
	"microsecond files catalogued"

# The oracle: spot's REST answer, closed candles since 2024-11-01 (one page of 1000).
curl -fsS -m 10 "$FAKEX_URL/api/v3/klines?symbol=SYN000USDT&interval=4h&startTime=$since&limit=1000" |
	python3 -c '
import json, sys
now = int(sys.argv[1])
for k in json.load(sys.stdin):
    if k[6] < now:
        print(",".join(str(v) for v in k[:11]) + ",0")' "$now" >"$T/want"
assert_eq "$(wc -l <"$T/want" | tr -d ' ')" 777 "REST candles (129 days x 6, and 3 of the 10th)"
ck --market spot export --symbol SYN000USDT >"$T/got" 2>/dev/null || fail "export"
cmp -s "$T/want" "$T/got" || { diff "$T/want" "$T/got" | head -5; fail "stored spot candles differ from REST's"; }
assert_eq "$(sql "select min(open_time) || ',' || max(open_time) from candles")" "$since,$((now - 4 * 3600000))" \
	"first and last open_time (ms)"
assert_eq "$(sql "select count(*) from candles where open_time > 9999999999999 or close_time > 9999999999999")" 0 \
	"times stored in us"
A="$FAKEX_URL/data/spot"
# What fakex served: 2024's files in ms, 2025's in us (the header row of a daily file skipped).
first() { curl -fsS -o "$T/f.zip" "$A/$1" || fail "download $1"
	python3 -c 'import sys, zipfile; z = zipfile.ZipFile(sys.argv[1]); sys.stdout.write(z.read(z.namelist()[0]).decode())' "$T/f.zip" |
		grep -v '^open_time' | head -1 | cut -d, -f1; }
[[ "$(first monthly/klines/SYN000USDT/4h/SYN000USDT-4h-2024-12.zip)" =~ ^[0-9]{13}$ ]] || fail "2024's spot file not in ms"
[[ "$(first monthly/klines/SYN000USDT/4h/SYN000USDT-4h-2025-01.zip)" =~ ^[0-9]{16}$ ]] || fail "2025's spot monthly file not in us"
[[ "$(first daily/klines/SYN000USDT/4h/SYN000USDT-4h-2025-03-02.zip)" =~ ^[0-9]{16}$ ]] || fail "2025's spot daily file not in us"

echo ok
