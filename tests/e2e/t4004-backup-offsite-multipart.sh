#!/usr/bin/env bash
# Offsite tier of a backup larger than one part (5 MiB compressed): compressed in a
# stream into an S3 multipart upload (no temp file of the compressed copy), against the
# SigV4-checking test server (tests/e2e/t4-s3server.js), which checks the completed part
# list (ascending numbers, each part's ETag, parts of at least 5 MiB). A part refused
# once (503) is retried; a part refused every time aborts the upload: no object and no
# upload left, the local tiers kept, the alert raised, exit 1. Recover with hot and warm
# gone downloads the multipart object.
. "$(dirname "$0")/lib.sh"
command -v node >/dev/null || fail "node is required (scripts/deps.sh test)"
S3JS="$CK_TOP/tests/e2e/t4-s3server.js"

s3_start() { # NAME ARGS...: a test server; its URL in S3URL
	local name=$1
	shift
	node "$S3JS" --port-file "$T/$name.port" --log "$T/$name.log" \
		--uploads-file "$T/$name.uploads" "$@" &
	_pids+=($!)
	wait_for 30 "the S3 test server's port file" test -s "$T/$name.port"
	S3URL="http://127.0.0.1:$(cat "$T/$name.port")"
}
export CANDLEKEEP_BACKUP_S3_BUCKET=ck-offsite CANDLEKEEP_BACKUP_S3_PREFIX=prod/
export CANDLEKEEP_BACKUP_S3_ACCESS_KEY=AKIDCANDLEKEEPTEST
printf 'candlekeep-test-secret\n' >"$T/s3.secret"
chmod 600 "$T/s3.secret"
export CANDLEKEEP_BACKUP_S3_SECRET_KEY="@$T/s3.secret"

SYMS=BTCUSDT
fakex_start --data "$DATA" --now "$T_2026_03_19_18"
ck -q --symbols $SYMS --history-days 2 sync >/dev/null 2>&1 || fail "sync"
# Incompressible candles: 12000 rows of 1,000 random bytes (hex) make ~12 MiB of zstd (two 8 MiB parts).
sqlite3 "$DB" >/dev/null <<'SQL'
WITH RECURSIVE n(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM n WHERE i < 11999)
INSERT INTO candles SELECT 'um', 'RNDUSDT', '4h', 1500000000000 + i * 14400000, '1', '1', '1',
	'1', '1', 1500000000000 + i * 14400000 + 14399999, '1', 1, '1', hex(randomblob(1000)) FROM n;
SQL
want=$(sql 'select count(*) from candles')

# A part refused once: retried; the object is whole, its checksum metadata kept.
s3_start ok --fail-puts 1
export CANDLEKEEP_BACKUP_S3_ENDPOINT=$S3URL
ck_rc --symbols $SYMS backup --now 2026-03-19T18:10:00Z >"$T/out" 2>"$T/err"
[ "$RC" = 0 ] || { cat "$T/out" "$T/err"; fail "backup exit $RC"; }
key=prod/candles-20260319T181000.000Z.db.zst
assert_file_match "$T/out" "^offsite +ok +s3://ck-offsite/$key .*\(2 attempts\)"
assert_file_match "$T/err" "part upload failed: .*HTTP 503 SlowDown.*retrying"
assert_file_match "$T/ok.log" "^POST /ck-offsite/$key\?uploads= ok"
assert_file_match "$T/ok.log" "^PUT /ck-offsite/$key\?partNumber=2&uploadId=ck-upload-1 ok"
assert_file_match "$T/ok.log" "^COMPLETE $key parts=2 "
! grep -q "^PUT /ck-offsite/$key ok" "$T/ok.log" || fail "a single PUT instead of parts"
assert_eq "$(grep -c 'SignatureDoesNotMatch\|XAmzContentSHA256Mismatch' "$T/ok.log" || true)" 0 \
	"every request signed right, every part's hash right"
assert_eq "$(cat "$T/ok.uploads")" 0 "uploads left open"
assert_eq "$(sql "select status from backups where tier='offsite'")" verified
zsize=$(sql "select size from backups where tier='offsite'")
bytes=$(sed -n "s|^COMPLETE $key parts=[0-9]* bytes=||p" "$T/ok.log")
assert_eq "$zsize" "$bytes" "recorded size = the object's"
[ "$zsize" -gt $((5 * 1048576)) ] || fail "the object ($zsize bytes) is not larger than one part"
[ "$(sql "select length(sha256) from backups where tier='offsite'")" = 64 ] ||
	fail "no SHA-256 of the uploaded bytes recorded"
# No compressed copy was written beside the hot backup.
[ -z "$(find "$T/backups" -name '*.zst*')" ] || fail "a compressed temp file was written"

# A part refused every time: aborted, nothing left in the bucket, local tiers kept, the
# alert raised (an alert channel is needed for alerts to be kept: SMTP to a closed port).
s3_start bad --fail-part 2
CANDLEKEEP_ALERT_SMTP_URL=smtp://127.0.0.1:1 CANDLEKEEP_ALERT_SMTP_TO=ops@example.com \
	CANDLEKEEP_BACKUP_S3_ENDPOINT=$S3URL ck_rc --symbols $SYMS backup \
	--now 2026-03-19T18:20:00Z >"$T/out2" 2>"$T/err2"
assert_eq "$RC" 1 "backup with a part refused every time"
assert_file_match "$T/out2" "^hot +ok"
assert_file_match "$T/out2" "^warm +ok"
assert_file_match "$T/out2" "^offsite +FAILED +after [0-9]+ attempts, local backups kept: .*HTTP 500 InternalError: injected failure of part 2"
key2=prod/candles-20260319T182000.000Z.db.zst
assert_file_match "$T/bad.log" "^DELETE /ck-offsite/$key2\?uploadId=ck-upload-1 ok"
assert_eq "$(cat "$T/bad.uploads")" 0 "uploads left open after the abort"
! grep -q '^COMPLETE' "$T/bad.log" || fail "a failed upload was completed"
CANDLEKEEP_BACKUP_S3_ENDPOINT=$S3URL ck -q --symbols $SYMS backup --list >"$T/list2" 2>&1
# No object is left: the one offsite line is the failed attempt itself (no size), with
# its error, from the catalogue.
assert_eq "$(grep -c "^offsite" "$T/list2")" 1 "offsite lines in backup --list"
assert_file_match "$T/list2" "^4 backups \(and 1 failed attempt without a file\)$"
assert_file_match "$T/list2" "^offsite +failed +[0-9dhm]+ +0 B +[0-9]+ +2026-03-19T18:20:00Z s3://ck-offsite/$key2  # after [0-9]+ attempts"
[ -e "$T/backups/hot/candles-20260319T182000.000Z.db" ] || fail "local backup removed"
assert_eq "$(sql "select status from backups where tier='offsite' and location like '%182000%'")" failed
assert_eq "$(sql "select state from alerts where key = 'backup_failed:offsite'")" firing "alert"

# Everything local lost: recover downloads the multipart object, verifies it, restores.
rm -rf "$T/backups" "$DB" "$DB-wal" "$DB-shm"
ck_rc --symbols $SYMS recover >"$T/rec" 2>&1
[ "$RC" = 0 ] || { cat "$T/rec"; fail "recover exit $RC"; }
assert_file_match "$T/rec" "^recover: restore .*restored offsite backup s3://ck-offsite/$key"
assert_eq "$(sql 'pragma integrity_check')" ok
[ "$(sql "select count(*) from candles where symbol = 'RNDUSDT'")" = 12000 ] || fail "rows lost"
[ "$(sql 'select count(*) from candles')" -ge "$want" ] || fail "fewer candles than backed up"
echo ok
