#!/usr/bin/env bash
# Offsite tier against a real S3-compatible server on 127.0.0.1 that checks SigV4
# signatures (tests/e2e/t4-s3server.js): upload (zstd, checksum metadata) after an
# injected failure and a retry; wrong credentials → refused, retried, the local tiers
# kept, exit 1; recover with hot and warm gone downloads the offsite copy.
. "$(dirname "$0")/lib.sh"
command -v node >/dev/null || fail "node is required (scripts/deps.sh test)"
S3JS="$CK_TOP/tests/e2e/t4-s3server.js"
node "$S3JS" --self-test >/dev/null || fail "the test server's SigV4 check fails AWS's example"

node "$S3JS" --port-file "$T/s3.port" --fail-puts 1 --log "$T/s3.log" &
_pids+=($!)
wait_for 30 "the S3 test server's port file" test -s "$T/s3.port"
export CANDLEKEEP_BACKUP_S3_ENDPOINT="http://127.0.0.1:$(cat "$T/s3.port")"
export CANDLEKEEP_BACKUP_S3_BUCKET=ck-offsite CANDLEKEEP_BACKUP_S3_PREFIX=prod/
export CANDLEKEEP_BACKUP_S3_ACCESS_KEY=AKIDCANDLEKEEPTEST
printf 'candlekeep-test-secret\n' >"$T/s3.secret"
chmod 600 "$T/s3.secret"
export CANDLEKEEP_BACKUP_S3_SECRET_KEY="@$T/s3.secret"

SYMS=BTCUSDT,ETHUSDT
fakex_start --data "$DATA" --now "$T_2026_03_19_18"
ck -q --symbols $SYMS --history-days 30 sync >/dev/null 2>&1 || fail "sync"

ck_rc --symbols $SYMS backup --now 2026-03-19T18:10:00Z >"$T/out" 2>"$T/err"
[ "$RC" = 0 ] || { cat "$T/out" "$T/err"; fail "backup exit $RC"; }
key=prod/candles-20260319T181000.000Z.db.zst
assert_file_match "$T/out" "^offsite +ok +s3://ck-offsite/$key .*\(2 attempts\)"
assert_file_match "$T/err" "upload failed: .*HTTP 503 SlowDown.*retrying"
assert_file_match "$T/s3.log" "^PUT /ck-offsite/prod/candles-20260319T181000.000Z.db.zst ok"
assert_eq "$(grep -c 'SignatureDoesNotMatch' "$T/s3.log" || true)" 0 "every request signed right"
assert_eq "$(sql "select status from backups where tier='offsite'")" verified
! grep -q candlekeep-test-secret "$T/out" "$T/err" || fail "secret printed"

# Wrong secret: the server refuses the signature; retried, alerted, exit 1, local kept.
printf 'not-the-secret\n' >"$T/bad.secret"
chmod 600 "$T/bad.secret"
CANDLEKEEP_BACKUP_S3_SECRET_KEY="@$T/bad.secret" ck_rc --symbols $SYMS backup \
	--now 2026-03-19T18:20:00Z >"$T/out2" 2>"$T/err2"
assert_eq "$RC" 1 "backup with a refused upload"
assert_file_match "$T/out2" "^hot +ok"
assert_file_match "$T/out2" "^warm +ok"
assert_file_match "$T/out2" "^offsite +FAILED +after 4 attempts, local backups kept: .*403 SignatureDoesNotMatch"
assert_file_match "$T/s3.log" "^PUT /ck-offsite/prod/candles-20260319T182000.000Z.db.zst SignatureDoesNotMatch"
[ -e "$T/backups/hot/candles-20260319T182000.000Z.db" ] || fail "local backup removed after a failed upload"
assert_eq "$(sql "select status from backups where tier='offsite' and location like '%182000%'")" failed

# Everything local lost: recover downloads the offsite copy, verifies it, restores.
ck -q --symbols $SYMS backup --list >"$T/list" 2>&1
assert_file_match "$T/list" "^offsite +verified .*s3://ck-offsite/$key"
rm -rf "$T/backups" "$DB" "$DB-wal" "$DB-shm"
ck_rc --symbols $SYMS recover >"$T/rec" 2>&1
[ "$RC" = 0 ] || { cat "$T/rec"; fail "recover exit $RC"; }
assert_file_match "$T/rec" "^recover: restore .*restored offsite backup s3://ck-offsite/$key"
assert_file_match "$T/s3.log" "^GET /ck-offsite/prod/candles-20260319T181000.000Z.db.zst ok"
assert_eq "$(sql 'pragma integrity_check')" ok
assert_eq "$(sql 'select count(*) from candles')" "$(sqlite3 "$T/backups/../candles.db" 'select count(*) from candles')"
echo ok
