#!/usr/bin/env bash
# candlekeep health: each of the eight checks reaches OK, WARNING and CRITICAL in a
# situation built for it; exit codes follow the monitoring-plugins convention (also for
# a missing database and bad usage); --json says the same; health never writes.
. "$(dirname "$0")/lib.sh"

now=$T_2026_03_19_18
fakex_start --data "$DATA" --now "$now"
export CANDLEKEEP_MAIN_SYMBOLS=BTCUSDT,ETHUSDT
export CANDLEKEEP_MAIN_HISTORY_DAYS=10
export CANDLEKEEP_HEALTH_DISK_WARN_PCT=0 CANDLEKEEP_HEALTH_DISK_CRIT_PCT=0
export CANDLEKEEP_BACKUP_S3_BUCKET=audit-bucket
ck -q sync >"$T/sync.out" 2>&1 || { cat "$T/sync.out"; fail "first sync failed"; }

HOUR=3600000
N=$(sql "select count(*) from candles")
[ "$N" -gt 100 ] || fail "only $N candles synced"
# Verified backups of every tier, an hour old on the exchange clock health judges by.
backup_rows() { # DB created_ms
	local t
	for t in hot warm offsite; do
		sqlite3 "$1" "insert or replace into backups (tier, location, created, size, sha256,
			candles, status, verified_at) values ('$t', '$T/$t-$2.db', $2, 1, 'x', 1,
			'verified', $2)"
	done
}
backup_rows "$DB" $((now - HOUR))

# health_on DB [args...]: runs health on DB; output in $T/h.out, exit code in $RC.
health_on() {
	local db=$1
	shift
	RC=0
	"$CK" --db "$db" health "$@" >"$T/h.out" 2>"$T/h.err" || RC=$?
}
# line CHECK: that check's line of the last text report.
line() { grep -E "^$1 " "$T/h.out" || { cat "$T/h.out" "$T/h.err" >&2; fail "no $1 line"; }; }
expect() { # CHECK STATUS [pattern]
	local l
	l=$(line "$1")
	assert_match "$l" "^$1 +$2 " "$1 status"
	[ -z "${3:-}" ] || assert_match "$l" "$3" "$1 message"
}
# fresh copy of the healthy database
copy() { sqlite3 "$DB" "pragma wal_checkpoint(truncate)" >/dev/null; cp "$DB" "$1"; rm -f "$1-wal" "$1-shm"; }

# ---- all OK (and health does not write) ----
sum_before=$(sha256sum "$DB" | cut -d' ' -f1)
ev_before=$(sql "select count(*) from events")
health_on "$DB" --now "$now"
[ "$RC" = 0 ] || { cat "$T/h.out"; fail "healthy database: exit $RC, expected 0"; }
assert_match "$(head -1 "$T/h.out")" "^CANDLEKEEP OK - 2/2 symbols fresh.* \| fresh=2;;;0;2 .*candles=$N"
for c in freshness coverage integrity gaps data_loss backups last_run disk; do expect $c OK; done
assert_eq "$(wc -l <"$T/h.out" | tr -d ' ')" 9 "summary + 8 check lines"
expect freshness OK "2/2 symbols fresh; oldest [A-Z]+ closed 2h00m ago"
expect data_loss OK "$N candles, at least the $N recorded"
assert_eq "$(sha256sum "$DB" | cut -d' ' -f1)" "$sum_before" "health changed the database file"
assert_eq "$(sql "select count(*) from events")" "$ev_before" "health recorded something"
# --json: the same report
health_on "$DB" --now "$now" --json
assert_eq "$RC" 0 "--json exit"
assert_eq "$(jq -r .status "$T/h.out")" OK
assert_eq "$(jq -r '.checks | length' "$T/h.out")" 8
assert_eq "$(jq -r '[.checks[].name] | join(",")' "$T/h.out")" \
	"freshness,coverage,integrity,gaps,data_loss,backups,last_run,disk"
assert_match "$(jq -r .summary "$T/h.out")" "^CANDLEKEEP OK - 2/2 symbols fresh"

# ---- 1. freshness: the exchange clock moves on, no sync ----
# The age counts from the newest candle's close (16:00); the default schedule's derived
# thresholds are 5h05m (warning) and 9h05m (critical).
health_on "$DB" --now $((now + 3 * HOUR))   # now 21:00: 5h00m, not over 5h05m
assert_eq "$RC" 0 "5h old: exit"
expect freshness OK "2/2 symbols fresh; oldest [A-Z]+ closed 5h00m ago .*\(warn 5h05m, crit 9h05m\)"
health_on "$DB" --now $((now + 4 * HOUR))   # now 22:00: 6h > 5h05m
assert_eq "$RC" 1 "stale 6h: exit"
expect freshness WARNING "2/2 symbols stale \(newest candle closed more than 5h05m ago: 2, more than 9h05m: 0\): [A-Z]+ 6h00m"
assert_match "$(head -1 "$T/h.out")" "^CANDLEKEEP WARNING - 0/2 symbols fresh"
health_on "$DB" --now $((now + 8 * HOUR))   # now 02:00: 10h > 9h05m
assert_eq "$RC" 2 "stale 10h: exit"
expect freshness CRITICAL "more than 9h05m: 2"

# ---- 2. coverage ----
CANDLEKEEP_MAIN_SYMBOLS=BTCUSDT,ETHUSDT,XRPUSDT health_on "$DB" --now "$now"
expect coverage WARNING "1/3 configured symbols missing: XRPUSDT \(not synced yet\)"
assert_eq "$RC" 1 "coverage warning exit"
C="$T/cov.db"
fakex_ctl 'faults?invalid_symbol=ETHUSDT' >/dev/null
RC=0; "$CK" --db "$C" --base-url "$FAKEX_URL" -q sync >/dev/null 2>&1 || RC=$?
fakex_ctl 'faults?reset=1' >/dev/null
assert_eq "$RC" 1 "sync with an invalid symbol"
health_on "$C" --now "$now"
expect coverage CRITICAL "ETHUSDT \(sync failed\)"

# ---- 3. integrity ----
I="$T/int.db"
copy "$I"
sqlite3 "$I" "insert into events (at, kind, subject, value, detail) values
	($(date +%s)000, 'corruption_detected', '$I', 1, 'page 3: btreeInitPage() returns error code 11')"
health_on "$I" --now "$now"
expect integrity WARNING "quick_check ok; but corruption_detected at .*page 3"
copy "$I"
psize=$(sqlite3 "$I" "pragma page_size")
root=$(sqlite3 "$I" "select rootpage from sqlite_master where name='candles'")
# the candles b-tree's root page gets a page type that does not exist
printf '\x55\x55\x55\x55\x55\x55\x55\x55' | dd of="$I" bs=1 seek=$(( (root - 1) * psize )) conv=notrunc status=none
health_on "$I" --now "$now"
assert_eq "$RC" 2 "corrupted page: exit"
expect integrity CRITICAL "quick_check of .* found: .*(run candlekeep recover)"

# ---- 4. gaps and 5. data-loss guard ----
G="$T/gap.db"
copy "$G"
mid=$(sqlite3 "$G" "select open_time from candles where symbol='BTCUSDT' order by open_time limit 1 offset 20")
sqlite3 "$G" "delete from candles where symbol='BTCUSDT' and open_time = $mid"
health_on "$G" --now "$now"
expect gaps WARNING "1 candles missing in 1 symbols .*BTCUSDT 1 missing from"
expect data_loss CRITICAL "$((N - 1)) candles, 1 fewer than the $N recorded"
assert_eq "$RC" 2 "rows deleted: exit"
# a restore from a backup since the last sync: the loss is known, the next sync refills
sqlite3 "$G" "insert into events (at, kind, subject, value, detail) values
	($(date +%s)000 + 1000, 'recover', '$G', 3, 'restored')"
health_on "$G" --now "$now"
expect data_loss WARNING "restored from a backup since"
sqlite3 "$G" "delete from candles where symbol='ETHUSDT' and open_time between $mid and $((mid + 3 * 4 * HOUR))"
health_on "$G" --now "$now"
expect gaps CRITICAL "5 candles missing in 2 symbols"

# ---- 6. backups ----
B="$T/bk.db"
copy "$B"
sqlite3 "$B" "delete from backups"
backup_rows "$B" $((now - 30 * HOUR))
health_on "$B" --now "$now"
expect backups WARNING "hot 1d6h old \(over 26h\)"
sqlite3 "$B" "delete from backups"
backup_rows "$B" $((now - 60 * HOUR))
health_on "$B" --now "$now"
expect backups CRITICAL
CANDLEKEEP_BACKUP_S3_BUCKET= health_on "$DB" --now "$now"
expect backups WARNING "offsite not configured"
sqlite3 "$B" "delete from backups"
health_on "$B" --now "$now"
expect backups CRITICAL "hot: no verified backup"

# ---- 7. last run ----
L="$T/run.db"
copy "$L"
fakex_ctl 'faults?p5xx=1' >/dev/null
RC=0; CANDLEKEEP_HTTP_RETRY_5XX_MAX=0 "$CK" --db "$L" --base-url "$FAKEX_URL" -q sync >/dev/null 2>&1 || RC=$?
fakex_ctl 'faults?reset=1' >/dev/null
assert_eq "$RC" 1 "sync against a failing exchange"
health_on "$L" --now "$now"
expect last_run WARNING "the newest run failed"
# a run holding the lock for 2 h (the sync timeout is 30 min): stuck
printf '%d %d sync\n' $$ $(( $(date +%s) - 7200 )) >"$L.lock"
# the holder is this subshell turned into sleep (exec keeps the locked descriptor)
# (-w, not -n: the probe below takes the lock for an instant and must not make it give up)
( exec 9<"$L.lock"; flock -w 20 9 || exit 1; exec sleep 60 ) &
holder=$!
_pids+=("$holder")
wait_for 60 "the lock holder to take $L.lock" '! flock -n "$L.lock" true 2>/dev/null'
health_on "$L" --now "$now"
expect last_run CRITICAL "run stuck: pid $$ has held the lock .* for 2h00m"
kill "$holder" 2>/dev/null || true

# ---- 8. disk: the real free space against thresholds that make it count ----
CANDLEKEEP_HEALTH_DISK_WARN_PCT=100 health_on "$DB" --now "$now"
expect disk WARNING "db .* free"
assert_eq "$RC" 1 "disk warning exit"
CANDLEKEEP_HEALTH_DISK_WARN_PCT=100 CANDLEKEEP_HEALTH_DISK_CRIT_PCT=100 health_on "$DB" --now "$now"
expect disk CRITICAL

# ---- no database, bad usage ----
health_on "$T/none.db"
assert_eq "$RC" 2 "missing database: exit"
assert_match "$(head -1 "$T/h.out")" "^CANDLEKEEP CRITICAL - open .*none.db"
[ ! -e "$T/none.db" ] || fail "health created the database"
health_on "$DB" --bogus
assert_eq "$RC" 3 "unknown flag: exit"
health_on "$DB" --now yesterday
assert_eq "$RC" 3 "bad --now: exit"
echo ok
