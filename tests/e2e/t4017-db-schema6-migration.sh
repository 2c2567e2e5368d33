#!/usr/bin/env bash
# Schema 6 (the market and interval of every run record and symbol outcome) from a
# database made before it (tests/fixtures/schema4.sql, which goes through schema 5 first).
# A migration that a full disk stops leaves the file as the last completed step made it
# (schema 4, or schema 5 when only schema 6 failed), intact and readable by the read-only
# commands; the one that completes keeps every run row and value, in market 'um' and the
# one interval the file holds (4h).
. "$(dirname "$0")/lib.sh"

sqlite3 "$T/v4.db" <"$CK_TOP/tests/fixtures/schema4.sql"
assert_eq "$(sqlite3 "$T/v4.db" 'pragma user_version')" 4 "fixture schema"
runs_of() {
	sqlite3 -batch -noheader "$1" "
	select 'r', id, command, started, ended, status, exit_code, pid, candles_written,
	       candles_revised, requests, retries, http_429, http_418, http_5xx, net_errors,
	       symbols_ok, symbols_failed, symbols_skipped, weight_used_max, error, server_time
	       from runs order by id;
	select 's', run_id, symbol, status, candles_written, candles_revised, newest_open, error
	       from run_symbols order by run_id, symbol;"
}
runs_of "$T/v4.db" >"$T/before"
assert_eq "$(grep -c '^r|' "$T/before")" 5 "fixture runs"
dump4=$(sqlite3 "$T/v4.db" .dump | sha256sum)

# Today's code before schema 6 knows no run's interval.
assert_eq "$(sqlite3 "$T/v4.db" "select count(*) from pragma_table_info('runs') where name = 'interval'")" 0 \
	"fixture runs.interval"

# A full disk at the N-th write, for each N until the migration completes.
dump5= at5=0
for n in $(seq 1 500); do
	cp "$T/v4.db" "$T/f.db"
	RC=0
	CANDLEKEEP_FAULT_IO=$n CANDLEKEEP_FAULT_FULL=1 "$CK" --db "$T/f.db" gaps --verify \
		>"$T/f.out" 2>"$T/f.err" || RC=$?
	v=$(sqlite3 "$T/f.db" 'pragma user_version')
	[ "$v" = 6 ] && break
	[ "$RC" != 0 ] || fail "write $n failed, the file is at schema $v, yet exit 0"
	assert_eq "$(sqlite3 "$T/f.db" 'pragma integrity_check')" ok "integrity after write $n failed"
	if [ "$v" = 4 ]; then
		assert_eq "$(sqlite3 "$T/f.db" .dump | sha256sum)" "$dump4" "file after a full disk at write $n"
		continue
	fi
	assert_eq "$v" 5 "schema after a full disk at write $n"
	grep -Eq "disk|full|schema 6" "$T/f.err" || { cat "$T/f.err"; fail "write $n: no cause named"; }
	# every stop within schema 6 leaves the same schema-5 file
	d=$(sqlite3 "$T/f.db" .dump | sha256sum)
	[ -n "$dump5" ] || { dump5=$d; cp "$T/f.db" "$T/v5.db"; }
	assert_eq "$d" "$dump5" "schema-5 file after a full disk at write $n"
	assert_eq "$(sqlite3 "$T/f.db" "select count(*) from pragma_table_info('runs') where name = 'interval'")" 0 \
		"runs.interval after a failed schema 6"
	at5=$((at5 + 1))
done
[ "$(sqlite3 "$T/f.db" 'pragma user_version')" = 6 ] || fail "the migration never completed"
[ "$at5" -ge 1 ] || fail "no full disk stopped schema 6 itself"
note "$at5 schema-6 migrations stopped by a full disk, each left schema 5 intact"

# Read-only commands read a schema-5 (and a schema-4) file's runs as those of um/4h.
for f in v5 v4; do
	"$CK" --db "$T/$f.db" --symbols ETHUSDT health --now 1583193600000 >"$T/h.$f" 2>&1 || true
	assert_file_match "$T/h.$f" '^last_run +[A-Z]+ ' "$f: last_run"
	if grep -q 'cannot read the runs\|no sync has ever run' "$T/h.$f"; then
		cat "$T/h.$f"
		fail "$f: health did not read the runs"
	fi
	assert_eq "$(sqlite3 "$T/$f.db" 'pragma user_version')" "${f#v}" "a read-only open migrated $f"
done

# The migration that completes keeps every run and outcome, in um/4h.
cp "$T/v4.db" "$DB"
ck_rc gaps --verify >"$T/v.out" 2>&1
assert_eq "$RC" 0 "gaps --verify after the migration"
assert_eq "$(sql 'pragma user_version')" 6 "schema version"
assert_eq "$(sql 'pragma integrity_check')" ok "integrity"
runs_of "$DB" >"$T/after"
cmp -s "$T/before" "$T/after" || { diff "$T/before" "$T/after" | head; fail "run rows or values changed"; }
for t in runs run_symbols; do
	assert_eq "$(sql "select group_concat(distinct market || ':' || interval) from $t")" "um:4h" "$t market and interval"
done
# and a run after it records its own
ck_rc --symbols ETHUSDT --base-url http://127.0.0.1:1 --interval 1h sync >/dev/null 2>&1
assert_eq "$(sql "select market || ':' || interval from runs order by id desc limit 1")" "um:1h" "a new run's interval"
echo "ok"
