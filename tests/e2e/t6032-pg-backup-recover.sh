#!/usr/bin/env bash
# backup and recover of a PostgreSQL database (--db postgresql://...) on a real
# PostgreSQL 15: pg_dump -Fc into the hot and warm tiers with SHA-256 sidecars,
# verified by pg_restore --list and a restore into a scratch database (dropped after)
# whose row counts match; recorded in the catalogue and listed. recover refuses a
# database that holds data without --replace, restores into it with --replace or into
# an empty --target, rows identical; a damaged hot file is skipped for the warm copy;
# a dump that does not restore fails verification (kept aside, alert raised). The
# URL's password reaches the tools only through their environment.
. "$(dirname "$0")/lib.sh"
. "$CK_TOP/tests/e2e/pg_lib.sh"
. "$CK_TOP/tests/e2e/alert_lib.sh"

syms=BTCUSDT,ETHUSDT,CFGUSDT
pg_start
fakex_start --data "$DATA" --now "$T_2026_03_19_18"
U=$(pg_createdb ck1)
pgsql() { "${PSQL[@]}" -d "${2:-ck1}" -c "$1"; }
ckp() { DB="$U" ck "$@"; }
# Every row of every table, in key order: what "identical" means below.
rows() {
	local t
	for t in candles holes symbols state runs run_symbols events alerts alert_outbox \
		archive_files revisions ck_schema; do
		echo "== $t"
		pgsql "select * from $t as x order by x::text" "${1:-ck1}"
	done
}

# Without backup directories: a server database has none beside it.
DB="$U" ck_rc -q backup 2>"$T/err"
assert_eq "$RC" 1 "backup without hot_dir: $(cat "$T/err")"
assert_file_match "$T/err" "set \[backup\] hot_dir and warm_dir"
export CANDLEKEEP_BACKUP_HOT_DIR="$T/bk/hot" CANDLEKEEP_BACKUP_WARM_DIR="$T/bk/warm"

ckp -q --symbols $syms --history-days 30 sync >/dev/null 2>"$T/err" || { cat "$T/err"; fail "sync"; }
n=$(pgsql "select count(*) from candles")
[ "$n" -gt 100 ] || fail "sync stored only $n candles"

# The backup: both tiers, sidecars, an archive pg_restore reads, the catalogue.
name=ck1-20260310T020000.000Z.pgdump
DB="$U" ck_rc --symbols $syms backup --now 2026-03-10T02:00:00Z >"$T/out" 2>"$T/err"
assert_eq "$RC" 0 "backup exit code: $(cat "$T/out" "$T/err")"
assert_file_match "$T/out" "^hot +ok +$T/bk/hot/$name"
assert_file_match "$T/out" "^warm +ok +$T/bk/warm/$name"
assert_file_match "$T/out" "^backup ok: $n candles"
(cd "$T/bk/hot" && sha256sum -c --quiet "$name.sha256") || fail "hot sidecar does not verify"
(cd "$T/bk/warm" && sha256sum -c --quiet "$name.sha256") || fail "warm sidecar does not verify"
cmp -s "$T/bk/hot/$name" "$T/bk/warm/$name" || fail "warm copy differs"
assert_eq "$(head -c 5 "$T/bk/hot/$name")" PGDMP "a pg_dump custom-format archive"
pg_restore --list "$T/bk/hot/$name" | grep -q "TABLE DATA public candles" || fail "no candles in the archive"
assert_eq "$(pgsql "select count(*) from backups where status = 'verified'")" 2 "catalogue rows"
assert_eq "$(pgsql "select candles from backups where tier = 'hot'")" "$n" "catalogued candle count"
assert_match "$(pgsql "select detail from backups where tier = 'hot'")" "scratch database, row counts of [0-9]+ tables match"
assert_eq "$(pgsql "select count(*) from pg_database where datname like 'ck_verify%'")" 0 "scratch databases left"
ckp backup --now 2026-03-10T03:00:00Z --list >"$T/list" 2>"$T/err" || { cat "$T/err"; fail "backup --list"; }
assert_file_match "$T/list" "^hot +verified .* $n .*$T/bk/hot/$name"
assert_file_match "$T/list" "^warm +verified .*$T/bk/warm/$name"
rows >"$T/before"

# recover refuses a database that holds data, and touches nothing.
pgsql "delete from candles where symbol = 'BTCUSDT'" >/dev/null
left=$(pgsql "select count(*) from candles")
DB="$U" ck_rc recover >"$T/out" 2>"$T/err"
assert_eq "$RC" 2 "recover into a database with data: $(cat "$T/out" "$T/err")"
assert_file_match "$T/err" "holds data.*--replace"
assert_eq "$(pgsql "select count(*) from candles")" "$left" "refused recover changed the database"

# --replace: every row as it was at the backup.
DB="$U" ck_rc recover --replace >"$T/out" 2>"$T/err"
assert_eq "$RC" 0 "recover --replace: $(cat "$T/out" "$T/err")"
assert_file_match "$T/out" "recover ok: restored from backup; $n candles"
rows >"$T/after"
cmp -s "$T/before" "$T/after" || { diff "$T/before" "$T/after" | head; fail "rows differ after recover --replace"; }
ckp -q --symbols $syms gaps >/dev/null 2>&1 || true
DB="$U" ck_rc -q --symbols $syms sync >"$T/out" 2>&1
assert_eq "$RC" 0 "sync after recover: $(cat "$T/out")"

# Into an empty --target, with a damaged hot file: skipped for the warm copy.
printf 'XXXXXXXX' | dd of="$T/bk/hot/$name" bs=1 seek=4000 conv=notrunc 2>/dev/null
U2=$(pg_createdb ck2)
DB="$U" ck_rc recover --target "$U2" >"$T/out" 2>"$T/err"
assert_eq "$RC" 0 "recover --target: $(cat "$T/out" "$T/err")"
assert_file_match "$T/out" "skip .*hot .*checksum mismatch"
assert_file_match "$T/out" "restore .*warm backup"
rows ck2 >"$T/after2"
cmp -s "$T/before" "$T/after2" || { diff "$T/before" "$T/after2" | head; fail "rows differ in the --target database"; }

# A dump that does not restore fails verification: kept aside, catalogued, alerted.
# pg_bin_dir holds the real tools behind a wrapper whose pg_dump truncates its archive
# (the table of contents still reads: only the restore into the scratch database tells).
mkdir -p "$T/bin"
cat >"$T/bin/pg_dump" <<'SH'
#!/bin/sh
printf '%s\n' "$@" >"$(dirname "$0")/args"
env | grep '^PGPASSWORD=' >"$(dirname "$0")/env" || true
/usr/bin/pg_dump "$@" || exit $?
for a in "$@"; do case $a in --file=*) f=${a#--file=} ;; esac; done
size=$(stat -c %s "$f")
truncate -s $((size * 6 / 10)) "$f"
SH
ln -s /usr/bin/pg_restore "$T/bin/pg_restore"
chmod +x "$T/bin/pg_dump"
UPW="postgresql://ck:s3cret-pw@127.0.0.1:$PG_PORT/ck1"
rcv_start
rcv_channels
DB="$UPW" CANDLEKEEP_BACKUP_PG_BIN_DIR="$T/bin" ck_rc backup --now 2026-03-11T02:00:00Z >"$T/out" 2>"$T/err"
assert_eq "$RC" 1 "backup of a damaged dump: $(cat "$T/out" "$T/err")"
assert_file_match "$T/out" "^hot +FAILED .*failed verification: restore into a scratch database failed"
[ -f "$T/bk/hot/ck1-20260311T020000.000Z.pgdump.failed" ] || fail "damaged dump not kept aside"
[ ! -e "$T/bk/hot/ck1-20260311T020000.000Z.pgdump" ] || fail "damaged dump under a backup's name"
[ ! -e "$T/bk/warm/ck1-20260311T020000.000Z.pgdump" ] || fail "damaged dump copied to warm"
assert_eq "$(pgsql "select status from backups where location like '%20260311%' and tier = 'hot'")" failed
assert_eq "$(pgsql "select state from alerts where key = 'backup_failed:hot'")" firing "alert"
assert_eq "$(count "'backup failed' in t")" 2 "the alert delivered to Slack and PagerDuty"
assert_eq "$(pgsql "select count(*) from pg_database where datname like 'ck_verify%'")" 0 "scratch databases left"
# The password: in the tool's environment only; never on its command line or in output.
grep -q s3cret "$T/bin/args" && fail "the password is on pg_dump's command line"
assert_eq "$(cat "$T/bin/env")" "PGPASSWORD=s3cret-pw" "pg_dump's environment"
grep -q s3cret "$T/out" "$T/err" && fail "the password shows in backup's output"
assert_eq "$(pgsql "select count(*) from backups where location like '%s3cret%' or detail like '%s3cret%'")" 0
echo "t6032 ok"
