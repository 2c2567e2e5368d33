#!/usr/bin/env bash
# A file's .CHECKSUM and its zip are fetched at once over the same multi handle, not one
# after the other: with one month's .CHECKSUM held unanswered, its zip has been asked
# and received all the same; nothing of that month is stored or catalogued while its
# .CHECKSUM is missing (the digest is compared before any row is stored), and the files
# around it are.
. "$(dirname "$0")/lib.sh"
export CANDLEKEEP_ARCHIVE_ENABLED=true

now=$T_2026_03_19_18
fakex_start --data "$DATA" --now "$now"
fakex_ctl 'faults?archive_hangsum=BTCUSDT-4h-2025-06&hang_ms=60000' >/dev/null
# exec: $! must be candlekeep itself, not a subshell around it.
(exec "$CK" --db "$DB" --base-url "$FAKEX_URL" --archive-url "$FAKEX_URL" --symbols BTCUSDT \
	backfill --since 2025-01-01 --no-progress >"$T/out1" 2>"$T/err1") &
pid=$!
_pids+=("$pid")
# 14 months + 18 days, one held: wait (bounded) until the other 31 are stored.
for i in $(seq 1 300); do
	n=$(sql "select count(*) from archive_files" 2>/dev/null || echo 0)
	[ "$n" = 31 ] && break
	kill -0 "$pid" 2>/dev/null || { cat "$T/err1"; fail "backfill ended before the kill"; }
	sleep 0.1
done
assert_eq "$n" 31 "files stored while one .CHECKSUM hangs"
june='"/data/futures/um/monthly/klines/BTCUSDT/4h/BTCUSDT-4h-2025-06\.zip"'
assert_eq "$(fakex_requests '"/data/futures/um/monthly/klines/BTCUSDT/4h/BTCUSDT-4h-2025-06\.zip\.CHECKSUM"')" 1 \
	"the held .CHECKSUM asked"
# Bounded wait for fakex's log line of the zip (it is written as the reply ends).
wait_for 10 "the held month's zip asked beside its .CHECKSUM" grep -Eq "$june" "$T/requests.jsonl"
assert_eq "$(fakex_requests "$june")" 1 "the held month's zip requests"
assert_eq "$(sql "select count(*) from archive_files where name = 'BTCUSDT-4h-2025-06.zip'")" 0 \
	"the month without its .CHECKSUM catalogued"
june1=1748736000000 july1=1751328000000
assert_eq "$(sql "select count(*) from candles where open_time >= $june1 and open_time < $july1")" 0 \
	"candles of the month without its .CHECKSUM"
kill -9 "$pid"
wait "$pid" 2>/dev/null || true
echo ok
