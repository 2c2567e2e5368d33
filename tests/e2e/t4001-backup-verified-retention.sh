#!/usr/bin/env bash
# backup: hot (online backup API) + warm copy, both verified with SHA-256 sidecars and
# recorded; consistent while a sync writes; retention with a fake clock keeps the right
# files; --list shows every backup; offsite not configured is said, not failed.
. "$(dirname "$0")/lib.sh"

fakex_start --data "$DATA" --now "$T_2026_03_19_18"
SYMS=BTCUSDT,ETHUSDT,CFGUSDT
ck -q --symbols $SYMS --history-days 30 sync >/dev/null 2>&1 || fail "sync"

ck_rc --symbols $SYMS backup --now 2026-03-10T02:00:00Z >"$T/out" 2>"$T/err"
assert_eq "$RC" 0 "backup exit code"
assert_file_match "$T/out" "^hot +ok +$T/backups/hot/candles-20260310T020000.000Z.db"
assert_file_match "$T/out" "^warm +ok +$T/backups/warm/candles-20260310T020000.000Z.db"
assert_file_match "$T/out" "^offsite +not configured"
hot="$T/backups/hot/candles-20260310T020000.000Z.db"
(cd "$T/backups/hot" && sha256sum -c --quiet "$(basename "$hot").sha256") || fail "hot sidecar does not verify"
(cd "$T/backups/warm" && sha256sum -c --quiet "$(basename "$hot").sha256") || fail "warm sidecar does not verify"
cmp -s "$hot" "$T/backups/warm/$(basename "$hot")" || fail "warm copy differs"
assert_eq "$(sqlite3 "$hot" 'pragma integrity_check')" ok
assert_eq "$(sqlite3 "$hot" 'select count(*) from candles')" "$(sql 'select count(*) from candles')" "backup candle count"
assert_eq "$(sql "select count(*) from backups where status='verified'")" 2 "backup rows"
[ ! -e "$hot-wal" ] || fail "a backup must be one self-contained file"

# Consistent while a sync writes continuously: a long backfill of many symbols runs in the
# background; every backup taken meanwhile verifies (integrity + count of its snapshot).
ck -q --symbols BNBUSDT,SOLUSDT,XRPUSDT,DOGEUSDT,ADAUSDT,LINKUSDT,AVAXUSDT,LTCUSDT \
	--history-days 700 sync >"$T/bg.out" 2>&1 &
bg=$!
n=0
while kill -0 $bg 2>/dev/null || [ $n -lt 2 ]; do
	n=$((n + 1))
	ck -q --symbols $SYMS backup --now "$((1773100800000 + n * 1000))" >"$T/b$n.out" 2>&1 ||
		{ cat "$T/b$n.out"; fail "backup $n during a sync failed"; }
	[ $n -lt 40 ] || break
done
wait $bg || { cat "$T/bg.out"; fail "background sync failed"; }
for f in "$T"/backups/hot/candles-20260310T0*.db; do
	assert_eq "$(sqlite3 "$f" 'pragma integrity_check')" ok "integrity of $f"
done
note "$n backups taken during a sync, all verified"

# Retention with a fake clock: one backup a day for 6 days, then hot_days=2, warm_days=3.
rm -rf "$T/backups"
for d in 01 02 03 04 05 06; do
	ck -q --symbols $SYMS backup --now "2026-03-${d}T02:00:00Z" >/dev/null 2>&1 || fail "backup day $d"
done
CANDLEKEEP_BACKUP_HOT_DAYS=2 CANDLEKEEP_BACKUP_WARM_DAYS=3 ck --symbols $SYMS backup \
	--now 2026-03-07T02:00:00Z >"$T/out" 2>&1 || { cat "$T/out"; fail "retention backup"; }
assert_eq "$(ls "$T/backups/hot" | grep -c '\.db$')" 3 "hot keeps 2 days + the new one"
assert_eq "$(ls "$T/backups/warm" | grep -c '\.db$')" 4 "warm keeps 3 days + the new one"
[ -e "$T/backups/hot/candles-20260305T020000.000Z.db" ] || fail "hot: 2-day-old backup removed"
[ ! -e "$T/backups/hot/candles-20260304T020000.000Z.db" ] || fail "hot: 3-day-old backup kept"
[ ! -e "$T/backups/hot/candles-20260304T020000.000Z.db.sha256" ] || fail "sidecar of a removed backup kept"
assert_eq "$(sql "select count(*) from backups where tier='hot' and status='deleted'")" 4

# A backup that failed verification is kept aside, listed as failed, never restored;
# --list shows every backup of every tier with age, size and status.
mv "$T/backups/hot/candles-20260307T020000.000Z.db" "$T/backups/hot/candles-20260307T020000.000Z.db.failed"
rm "$T/backups/hot/candles-20260307T020000.000Z.db.sha256"
ck --symbols $SYMS backup --list --now 2026-04-07T02:00:00Z >"$T/list" 2>&1
assert_file_match "$T/list" "^hot +failed +31d00h .*candles-20260307T020000.000Z.db.failed"
assert_file_match "$T/list" "^hot +verified +32d00h +[0-9.]+ MiB +[0-9]+ .*candles-20260306T020000.000Z.db"
assert_file_match "$T/list" "^warm +verified +31d00h"
assert_file_match "$T/list" "^7 backups"
# A month later with hot_days=1: everything old goes, the new verified one stays.
CANDLEKEEP_BACKUP_HOT_DAYS=1 ck -q --symbols $SYMS backup --now 2026-04-07T02:00:00Z >/dev/null 2>&1 ||
	fail "backup a month later"
assert_eq "$(ls "$T/backups/hot")" "candles-20260407T020000.000Z.db
candles-20260407T020000.000Z.db.sha256" "hot after retention"
echo ok
