#!/usr/bin/env bash
# backfill from the public archive (issue 17): complete months from monthly files, the
# days since from daily files, only the rest (today's closed candles) from REST; every
# file in the catalogue with its checksum; a plain sync with nothing older than a day
# missing asks the archive nothing; a second backfill reaching further back does not
# download the months already stored (resuming).
. "$(dirname "$0")/lib.sh"
export CANDLEKEEP_ARCHIVE_ENABLED=true

now=$T_2026_03_19_18
fakex_start --data "$DATA" --now "$now"
arch() { ck --archive-url "$FAKEX_URL" "$@"; }
n_data() { awk -F, -v now="$now" '$7 < now' "$DATA/$1-4h.csv" | wc -l | tr -d ' '; }

# First from 2025-01-01 only.
arch --symbols BTCUSDT,TONUSDT backfill --since 2025-01-01 >"$T/out1" 2>"$T/err1" ||
	{ cat "$T/err1"; fail "backfill since 2025-01-01"; }
m1=$(fakex_requests '"/data/futures/um/monthly/klines/BTCUSDT/4h/BTCUSDT-4h-(2025-[0-9]+|2026-0[12])\.zip"')
assert_eq "$m1" 14 "monthly zips of BTCUSDT 2025-01..2026-02"
d1=$(fakex_requests '"/data/futures/um/daily/klines/BTCUSDT/4h/BTCUSDT-4h-2026-03-[0-9]+\.zip"')
assert_eq "$d1" 18 "daily zips of BTCUSDT 2026-03-01..18 (the 19th is today)"
assert_eq "$(fakex_requests '"/data/.*\.zip\.CHECKSUM"')" "$(fakex_requests '"/data/.*\.zip"')" \
	"one .CHECKSUM per zip"
# REST: today's closed candles, the listing probes, and per symbol the cross-check of the
# 32 files: their first and last candles (33 ranges: the last of one file and the first
# of the next in one) and 2 random ones, samples within 99 candles of each other joined
# in one request (the 18 daily files' boundaries in 2 or 3): 16 requests a symbol here.
k=$(fakex_requests '"/fapi/v1/klines"')
probes=$(fakex_requests '"/fapi/v1/klines".*startTime=0&')
assert_eq "$((k - probes))" 34 "cross-check requests and the tail (2 x (16 + 1))"
# Every file's first and last candle is inside a request of its symbol.
grep '"/fapi/v1/klines"' "$T/requests.jsonl" | grep -v 'startTime=0&' |
	sed -n 's/.*symbol=\([A-Z]*\)&interval=4h&startTime=\([0-9]*\)&endTime=\([0-9]*\).*/\1 \2 \3/p' >"$T/ranges"
for s in BTCUSDT TONUSDT; do
	for p in 2025-01 2025-02 2025-03 2025-04 2025-05 2025-06 2025-07 2025-08 2025-09 2025-10 \
		2025-11 2025-12 2026-01 2026-02 2026-03-01 2026-03-09 2026-03-18; do
		case $p in ????-??) a=$(date -u -d "$p-01" +%s) b=$(date -u -d "$p-01 +1 month" +%s) ;;
		*) a=$(date -u -d "$p" +%s) b=$(date -u -d "$p +1 day" +%s) ;; esac
		for t in $((a * 1000)) $((b * 1000 - 14400000)); do
			awk -v s=$s -v t=$t '$1 == s && $2 <= t && t <= $3 { f = 1 } END { exit !f }' "$T/ranges" ||
				fail "$s: no cross-check request holds the candle at $t (file $p)"
		done
	done
done
first_2025=1735689600000
for s in BTCUSDT TONUSDT; do
	want=$(awk -F, -v now="$now" -v f=$first_2025 '$1 >= f && $7 < now' "$DATA/$s-4h.csv" | wc -l | tr -d ' ')
	assert_eq "$(sql "select count(*) from candles where symbol='$s'")" "$want" "$s candles"
done
# The stored candles equal the REST values byte for byte (export = the recorded CSV).
assert_eq "$(sql "select count(*) from archive_files")" 64 "catalogue rows (2 x (14 + 18))"
assert_eq "$(sql "select count(*) from archive_files where length(sha256) = 64")" 64 "checksums kept"
assert_file_match "$T/err1" "archive: 64 files stored \([0-9]+ candles\), 0 rejected"

# A plain sync four hours later: nothing older than a day is missing, no archive request.
before=$(fakex_requests '"/data/')
fakex_ctl "clock?advance=$H4" >/dev/null
arch --symbols BTCUSDT,TONUSDT sync >"$T/out2" 2>"$T/err2" || { cat "$T/err2"; fail "sync"; }
assert_eq "$(fakex_requests '"/data/')" "$before" "archive requests of a plain sync"

# Further back: the months already stored are not downloaded again.
arch --symbols BTCUSDT,TONUSDT backfill --since 2024-01-01 >"$T/out3" 2>"$T/err3" ||
	{ cat "$T/err3"; fail "backfill since 2024-01-01"; }
assert_eq "$(fakex_requests '"/data/futures/um/monthly/klines/BTCUSDT/4h/BTCUSDT-4h-(2025-[0-9]+|2026-0[12])\.zip"')" \
	"$m1" "2025 months downloaded again"
assert_eq "$(fakex_requests '"/data/futures/um/monthly/klines/BTCUSDT/4h/BTCUSDT-4h-2024-0[2-9]\.zip"')" 8 \
	"2024 months of BTCUSDT (from its first candle in 2024-02)"
now=$((now + H4))
for s in BTCUSDT TONUSDT; do
	assert_eq "$(sql "select count(*) from candles where symbol='$s'")" "$(n_data $s)" "$s candles after the second backfill"
done
ck gaps >"$T/gaps" 2>&1 || { cat "$T/gaps"; fail "gaps after the archive backfill"; }
# What export writes is what the exchange's REST API serves (the archive changed nothing).
ck export --symbol BTCUSDT --output "$T/btc.csv" >/dev/null 2>&1 || fail "export"
cut -d, -f1-9 "$T/btc.csv" | grep -v '^open_time' >"$T/btc9.csv"
awk -F, -v now="$now" '$7 < now' "$DATA/BTCUSDT-4h.csv" | cmp -s - "$T/btc9.csv" ||
	fail "exported BTCUSDT differs from the recorded REST data"
echo ok
