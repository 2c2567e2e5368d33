#!/usr/bin/env bash
# backup onto a full disk: each backup directory in turn on a small tmpfs. A full hot
# disk fails the backup (exit 1) with the file and "No space left on device", alerts at
# once (Slack, at the test's receiver), leaves no temp file, records the attempt as
# failed (backup --list, candlekeep_backup_verified 0) and leaves the database as it
# was. A full warm disk fails the warm tier alone: the hot backup is made and verified,
# the warm temp file is removed, the warm tier alerts. Once space is freed, the next backup is
# whole and both alerts resolve. A recover whose restore does not fit on the database's
# disk stops at once, saying the disk is full (not "no backup verifies"), without
# trying the other backups or a rebuild from the exchange; the damaged file waits in
# quarantine, the backups are untouched (the offsite download is stopped the same way),
# and once space is freed the recover resumes
# and ends healthy. An export (to a file or standard output) and the metrics textfile
# on a full disk give one clear error and keep the file already there. Needs root to mount tmpfs (skipped otherwise: a file
# size limit would hit the database as well as the backups).
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/alert_lib.sh"

if [ "$(id -u)" != 0 ] || ! command -v mount >/dev/null; then
	note "SKIP: needs root to mount a small tmpfs"
	echo ok
	exit 0
fi
rcv_start
export CANDLEKEEP_ALERT_SLACK_WEBHOOK="http://127.0.0.1:$HP/services/T0TEST/B0TEST/slacksecret42"
slack() { count "x['path'].startswith('/services/') and 'alert \`$1\`' in t and '$2' in t"; }
fakex_start --data "$DATA" --now "$T_2026_03_19_18"
SYMS=BTCUSDT,ETHUSDT,SOLUSDT,XRPUSDT
ck -q --symbols $SYMS --history-days 700 sync >/dev/null 2>&1 || fail "sync"
size=$(stat -c %s "$DB")
[ "$size" -gt 1000000 ] || fail "the database is too small for this test: $size bytes"
before=$(sql 'select count(*), sum(close) from candles')
HOT="$T/backups/hot"
WARM="$T/backups/warm"
mkdir -p "$HOT" "$WARM"
# Half the database fits: the copy fails part-way, not at its first write.
small=$(( size / 2 / 1024 ))k
mounted=
trap '[ -z "$mounted" ] || umount "$mounted" 2>/dev/null; cleanup' EXIT
full_disk() {
	mount -t tmpfs -o "size=$small,mode=0750" tmpfs "$1" || { note "SKIP: tmpfs mount refused"; echo ok; exit 0; }
	mounted=$1
}
free_disk() { umount "$mounted"; mounted=; }
temps() { find "$HOT" "$WARM" -name '.*' -type f | wc -l | tr -d ' '; }

# --- the hot disk is full ---
full_disk "$HOT"
ck_rc --symbols $SYMS backup --now 2026-03-10T02:00:00Z >"$T/out" 2>"$T/err"
assert_eq "$RC" 1 "backup onto a full hot disk"
assert_file_match "$T/err" "^candlekeep backup: hot backup: copy to $HOT/\.candles-20260310T020000\.000Z\.db\.tmp: write: No space left on device"
assert_file_match "$T/out" "^hot +FAILED +copy to .*No space left on device"
assert_file_match "$T/out" "^warm +skipped"
assert_eq "$(temps)" 0 "temp files left by the failed backup"
assert_eq "$(find "$HOT" "$WARM" -type f | wc -l | tr -d ' ')" 0 "files left by the failed backup"
assert_eq "$(sql "select tier || ':' || status || ':' || (detail like '%No space left on device%') from backups")" \
	"hot:failed:1" "catalogue row of the failed attempt"
ck --symbols $SYMS backup --list >"$T/list" 2>&1 || { cat "$T/list"; fail "backup --list"; }
assert_file_match "$T/list" "^hot +failed .*$HOT/candles-20260310T020000\.000Z\.db"
assert_file_match "$T/list" "^0 backups \(and 1 failed attempt without a file\)$"
ck metrics >"$T/metrics" 2>&1 || { cat "$T/metrics"; fail "metrics"; }
assert_file_match "$T/metrics" '^candlekeep_backup_verified\{tier="hot"\} 0$'
assert_eq "$(sql "select state from alerts where key = 'backup_failed:hot'")" firing "hot alert"
assert_match "$(sql "select summary from alerts where key = 'backup_failed:hot'")" "No space left on device"
assert_eq "$(slack backup_failed:hot 'No space left on device')" 1 "Slack messages for the full hot disk"
assert_eq "$(sql 'PRAGMA integrity_check')" ok
assert_eq "$(sql 'select count(*), sum(close) from candles')" "$before" "candles after the failed backup"
free_disk
note "hot disk full: $(grep "^candlekeep backup" "$T/err")"

# --- the warm disk is full: the hot backup is made, the warm tier fails alone ---
full_disk "$WARM"
ck_rc --symbols $SYMS backup --now 2026-03-10T03:00:00Z >"$T/out" 2>"$T/err"
assert_eq "$RC" 1 "backup onto a full warm disk"
hot="$HOT/candles-20260310T030000.000Z.db"
assert_file_match "$T/out" "^hot +ok +$hot"
assert_file_match "$T/out" "^warm +FAILED +copy to $WARM/\.candles-20260310T030000\.000Z\.db\..*: write: No space left on device"
assert_file_match "$T/err" "^candlekeep backup: warm backup: .*No space left on device"
(cd "$HOT" && sha256sum -c --quiet "$(basename "$hot").sha256") || fail "hot sidecar does not verify"
assert_eq "$(sqlite3 "$hot" 'pragma integrity_check')" ok
assert_eq "$(sqlite3 "$hot" 'select count(*), sum(close) from candles')" "$before" "hot backup's candles"
assert_eq "$(temps)" 0 "temp files left by the failed warm copy"
assert_eq "$(find "$WARM" -type f | wc -l | tr -d ' ')" 0 "files on the full warm disk"
assert_eq "$(sql "select tier || ':' || status from backups where created = 1773111600000 order by tier")" \
	"hot:verified
warm:failed" "catalogue"
ck metrics >"$T/metrics" 2>&1 || { cat "$T/metrics"; fail "metrics"; }
assert_file_match "$T/metrics" '^candlekeep_backup_verified\{tier="hot"\} 1$'
assert_file_match "$T/metrics" '^candlekeep_backup_verified\{tier="warm"\} 0$'
ck --symbols $SYMS backup --list >"$T/list" 2>&1 || { cat "$T/list"; fail "backup --list"; }
assert_file_match "$T/list" "^warm +failed .*$WARM/candles-20260310T030000\.000Z\.db  # copy to .*No space left on device"
assert_file_match "$T/list" "^hot +verified .*$hot"
assert_eq "$(sql "select state from alerts where key = 'backup_failed:hot'")" resolved "hot alert after a good hot backup"
assert_eq "$(sql "select state from alerts where key = 'backup_failed:warm'")" firing "warm alert"
assert_eq "$(slack backup_failed:warm 'No space left on device')" 1 "Slack messages for the full warm disk"
assert_eq "$(sql 'PRAGMA integrity_check')" ok
free_disk
note "warm disk full: $(grep '^warm' "$T/out")"

# --- space freed: the next backup is whole, every alert resolved ---
ck_rc --symbols $SYMS backup --now 2026-03-10T04:00:00Z >"$T/out" 2>&1
[ "$RC" = 0 ] || { cat "$T/out"; fail "backup after space was freed: exit $RC"; }
cmp -s "$HOT/candles-20260310T040000.000Z.db" "$WARM/candles-20260310T040000.000Z.db" || fail "warm copy differs"
assert_eq "$(sql "select count(*) from alerts where key like 'backup_failed:%' and state = 'firing'")" 0 "alerts firing"
ck --symbols $SYMS backup --list >"$T/list" 2>&1 || { cat "$T/list"; fail "backup --list"; }
if grep failed "$T/list"; then fail "backup --list still shows failed attempts older than a good backup"; fi
assert_eq "$(sql 'select count(*), sum(close) from candles')" "$before" "candles at the end"

# --- an export and the metrics textfile onto a full disk: one clear error, no temp
# file, the file already there kept ---
full_disk "$WARM"
echo "an earlier export" >"$WARM/btc.csv"
echo "# an earlier exposition" >"$WARM/candlekeep.prom"
dd if=/dev/zero of="$WARM/filler" bs=4k 2>/dev/null || true
ck_rc export --symbol BTCUSDT -o "$WARM/btc.csv" >"$T/out" 2>"$T/err"
assert_eq "$RC" 1 "export -o onto a full disk"
assert_eq "$(grep -c 'No space left on device' "$T/err")" 1 "error lines"
assert_file_match "$T/err" "^candlekeep export: write to $WARM/btc\.csv: No space left on device"
assert_eq "$(cat "$WARM/btc.csv")" "an earlier export" "the earlier export"
ck_rc export --symbol BTCUSDT >"$WARM/stdout.csv" 2>"$T/err"
assert_eq "$RC" 1 "export to a standard output on a full disk"
assert_eq "$(grep -c 'No space left on device' "$T/err")" 1 "error lines (said once)"
rm -f "$WARM/stdout.csv"
ck_rc metrics --textfile "$WARM" >"$T/out" 2>"$T/err"
assert_eq "$RC" 1 "metrics --textfile onto a full disk"
assert_file_match "$T/err" "^candlekeep metrics: write $WARM/candlekeep\.prom: No space left on device \(free disk space and retry\)"
assert_eq "$(cat "$WARM/candlekeep.prom")" "# an earlier exposition" "the earlier exposition"
assert_eq "$(find "$WARM" -name '.*' -type f | wc -l | tr -d ' ')" 0 "temp files left"
free_disk

# --- recover onto a full disk: the database on a small tmpfs, its backups elsewhere ---
D="$T/d"
mkdir -p "$D"
mount -t tmpfs -o size=$(( size * 3 / 1024 ))k,mode=0750 tmpfs "$D" || fail "tmpfs mount"
mounted=$D
cp "$DB" "$D/c.db"
DB="$D/c.db"
export CANDLEKEEP_BACKUP_HOT_DIR="$HOT" CANDLEKEEP_BACKUP_WARM_DIR="$WARM"
# An offsite tier too (the SigV4-checking S3 test server): its download is the last
# candidate of a restore.
node "$CK_TOP/tests/e2e/t4-s3server.js" --port-file "$T/s3.port" --log "$T/s3.log" &
_pids+=($!)
wait_for 30 "the S3 test server's port file" test -s "$T/s3.port"
export CANDLEKEEP_BACKUP_S3_ENDPOINT="http://127.0.0.1:$(cat "$T/s3.port")"
export CANDLEKEEP_BACKUP_S3_BUCKET=ck-offsite CANDLEKEEP_BACKUP_S3_ACCESS_KEY=AKIDCANDLEKEEPTEST
printf 'candlekeep-test-secret\n' >"$T/s3.secret"
chmod 600 "$T/s3.secret"
export CANDLEKEEP_BACKUP_S3_SECRET_KEY="@$T/s3.secret"
ck -q --symbols $SYMS backup --now 2026-03-10T05:00:00Z >"$T/out" 2>&1 || { cat "$T/out"; fail "backup of the database on tmpfs"; }
backup="$HOT/c-20260310T050000.000Z.db"
[ -s "$backup" ] || fail "no backup $backup"
# What is left free holds the check's shared memory, not a copy of the database.
free_k=$(df -k --output=avail "$D" | tail -1 | tr -d ' ')
dd if=/dev/zero of="$D/filler" bs=1k count=$(( free_k - size / 2048 )) 2>/dev/null
dd if=/dev/urandom of="$DB" bs=4096 seek=100 count=1 conv=notrunc 2>/dev/null
klines=$(fakex_requests klines)
ck_rc --symbols $SYMS --history-days 700 recover >"$T/out" 2>"$T/err"
assert_eq "$RC" 1 "recover onto a full disk"
assert_file_match "$T/out" "^recover: check .*DAMAGED"
assert_file_match "$T/err" "^candlekeep recover: .*copy to $D/\.c\.db\.recover-build\..*: write: No space left on device: the disk is full \(the hot backup needs at least [0-9.]+ MiB there; the backups are untouched\): free space and run again"
if grep -E "no backup verifies|rebuilding from the exchange|skipped" "$T/out" "$T/err"; then
	fail "a full disk is not a backup that does not verify"
fi
assert_eq "$(fakex_requests klines)" "$klines" "klines fetched by a recover that could not restore"
[ ! -e "$DB" ] || fail "the damaged database is still in place"
assert_eq "$(ls "$D/quarantine" | grep -c '^c\.db\.[0-9TZ.]*$')" 1 "the damaged file in quarantine"
(cd "$HOT" && sha256sum -c --quiet "$(basename "$backup").sha256") || fail "the backup changed"
note "recover onto a full disk: $(grep '^candlekeep recover' "$T/err" | cut -c1-200)"
# With only the offsite copy left, its download (or decompression) fills the disk:
# the same stop, not "download failed" and a rebuild.
mv "$T/backups" "$T/backups.aside"
dd if=/dev/zero of="$D/filler2" bs=1k 2>/dev/null || true # not even the download fits
ck_rc --symbols $SYMS --history-days 700 recover >"$T/out" 2>"$T/err"
assert_eq "$RC" 1 "recover from offsite onto a full disk"
assert_file_match "$T/out" "^recover: resume "
assert_file_match "$T/err" "No space left on device: the disk is full \(the offsite backup needs at least [0-9.]+ MiB there; the backups are untouched\): free space and run again"
if grep -E "no backup verifies|rebuilding from the exchange|skipped" "$T/out" "$T/err"; then
	fail "a full disk is not an offsite backup that does not verify"
fi
assert_eq "$(fakex_requests klines)" "$klines" "klines fetched by a recover that could not restore"
note "offsite onto a full disk: $(grep "^candlekeep recover" "$T/err" | sed "s/.*restore: //" | cut -c1-200)"
mv "$T/backups.aside" "$T/backups"
rm -f "$D/filler" "$D/filler2"
ck_rc --symbols $SYMS --history-days 700 recover >"$T/out" 2>&1
[ "$RC" = 0 ] || { cat "$T/out"; fail "recover after space was freed: exit $RC"; }
assert_file_match "$T/out" "^recover: resume "
assert_file_match "$T/out" "^recover: restore .*restored hot backup $backup"
assert_eq "$(sql 'PRAGMA integrity_check')" ok
assert_eq "$(sql 'select count(*), sum(close) from candles')" "$before" "candles after the recover"
echo ok
