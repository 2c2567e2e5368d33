#!/usr/bin/env bash
# A backfill from the archive killed (kill -9) while one file's transfer hangs keeps the
# files it had verified (stored at least every second, with their catalogue rows); the
# next backfill downloads only what is missing, not the stored months again.
. "$(dirname "$0")/lib.sh"
export CANDLEKEEP_ARCHIVE_ENABLED=true

now=$T_2026_03_19_18
fakex_start --data "$DATA" --now "$now"
fakex_ctl 'faults?archive_hang=BTCUSDT-4h-2025-06&hang_ms=60000' >/dev/null
# exec: $! must be candlekeep itself, not a subshell around it.
(exec "$CK" --db "$DB" --base-url "$FAKEX_URL" --archive-url "$FAKEX_URL" --symbols BTCUSDT \
	backfill --since 2025-01-01 --no-progress >"$T/out1" 2>"$T/err1") &
pid=$!
_pids+=("$pid")
# 14 months + 18 days, one of them held: wait (bounded) until the other 31 are stored.
for i in $(seq 1 300); do
	n=$(sql "select count(*) from archive_files" 2>/dev/null || echo 0)
	[ "$n" = 31 ] && break
	kill -0 "$pid" 2>/dev/null || { cat "$T/err1"; fail "backfill ended before the kill"; }
	sleep 0.1
done
assert_eq "$n" 31 "files stored while one hangs"
kill -9 "$pid"
wait "$pid" 2>/dev/null || true
assert_eq "$(sqlite3 "$DB" 'pragma integrity_check')" ok "integrity after kill -9"
fakex_ctl 'faults?reset=1' >/dev/null
before=$(fakex_requests '"/data/.*\.zip"')
ck --archive-url "$FAKEX_URL" --symbols BTCUSDT backfill --since 2025-01-01 --no-progress >"$T/out2" 2>"$T/err2" ||
	{ cat "$T/err2"; fail "the resumed backfill"; }
assert_eq "$(( $(fakex_requests '"/data/.*\.zip"') - before ))" 1 "zips downloaded by the resumed backfill"
assert_eq "$(fakex_requests '"/data/futures/um/monthly/klines/BTCUSDT/4h/BTCUSDT-4h-2025-06\.zip"')" 2 \
	"the held month asked again (once held, once now)"
first=1735689600000
assert_eq "$(sql "select count(*) from candles where symbol='BTCUSDT'")" \
	"$(awk -F, -v now="$now" -v f=$first '$1 >= f && $7 < now' "$DATA/BTCUSDT-4h.csv" | wc -l | tr -d ' ')" "BTCUSDT candles"
assert_eq "$(sql "select count(*) from archive_files")" 32 "catalogue after the resume"
echo ok
