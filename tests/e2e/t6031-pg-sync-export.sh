#!/usr/bin/env bash
# The PostgreSQL backend (--db postgresql://...) on a real PostgreSQL 15: a sync from
# fakex stores what the same sync stores into SQLite, byte for byte through export;
# gaps, health and metrics read it (and the store unit tests pass on it); a rerun adds no row twice; the run lock is an
# advisory lock (exit 75 while held); a connection the server drops in the middle of
# a sync is made again and the run carries on, and the next run completes. Passwords
# never show.
. "$(dirname "$0")/lib.sh"
. "$CK_TOP/tests/e2e/pg_lib.sh"

now=$T_2026_03_19_18
syms=BTCUSDT,ETHUSDT,CFGUSDT,TONUSDT
pg_start
fakex_start --data "$DATA" --now "$now"
# The store's unit tests of the interface on this server (skipped without it).
UU=$(pg_createdb unit)
CK_TEST_PG_URL="$UU" "$CK_BUILD/tests/test_store_ops" >"$T/unit.out" 2>&1 ||
	{ cat "$T/unit.out"; fail "test_store_ops on PostgreSQL"; }
if grep -q SKIPPED "$T/unit.out"; then cat "$T/unit.out"; fail "test_store_ops skipped PostgreSQL cases"; fi
# twice: on a database that already holds the fixture
CK_TEST_PG_URL="$UU" "$CK_BUILD/tests/test_store_ops" >"$T/unit.out" 2>&1 ||
	{ cat "$T/unit.out"; fail "test_store_ops on PostgreSQL, second run"; }
U=$(pg_createdb ck1)
pgsql() { "${PSQL[@]}" -d ck1 -c "$1"; }
ckp() { DB="$U" ck "$@"; }

# The schema: the same tables and view names as SQLite.
ckp -q --symbols $syms --history-days 30 sync >"$T/out" 2>"$T/err" ||
	{ cat "$T/out" "$T/err"; fail "sync into PostgreSQL exited non-zero"; }
assert_file_match "$T/out" "sync ok: 4 symbols \(4 ok, 0 failed, 0 skipped\)"
for t in candles holes symbols state runs run_symbols events alerts alert_outbox backups \
	archive_files revisions ohlcv_h4; do
	assert_eq "$(pgsql "select to_regclass('$t') is not null")" t "relation $t"
done
ck -q --symbols $syms --history-days 30 sync >"$T/out.sq" 2>&1 || { cat "$T/out.sq"; fail "sqlite sync"; }

# Export: byte for byte what SQLite holds, for each symbol.
for s in BTCUSDT ETHUSDT CFGUSDT TONUSDT; do
	ck export --symbol "$s" >"$T/sq.csv" 2>/dev/null
	ckp export --symbol "$s" >"$T/pg.csv" 2>"$T/err" || { cat "$T/err"; fail "export $s from PostgreSQL"; }
	[ -s "$T/sq.csv" ] || fail "$s: SQLite export empty"
	cmp -s "$T/sq.csv" "$T/pg.csv" || { diff "$T/sq.csv" "$T/pg.csv" | head; fail "$s: PostgreSQL export differs from SQLite's"; }
done
assert_eq "$(pgsql "select count(*) from candles")" "$(sql "select count(*) from candles")" "candle count"
assert_eq "$(pgsql "select count(distinct symbol) from ohlcv_h4")" 4 "ohlcv_h4 view"
assert_eq "$(pgsql "select max(timestamp) from ohlcv_h4")" "$(( now - now % H4 - H4 ))"

# gaps, metrics, health read it like SQLite (the lines that do not name the database).
ck gaps >"$T/gaps.sq" 2>&1 || true
ckp gaps >"$T/gaps.pg" 2>&1 || true
cmp -s "$T/gaps.sq" "$T/gaps.pg" || { diff "$T/gaps.sq" "$T/gaps.pg"; fail "gaps differ"; }
# gaps --verify: PostgreSQL keeps no coverage ledger; it says so and the command works.
RC=0; ckp gaps --verify >"$T/verify.pg" 2>&1 || RC=$?
[ "$RC" = 0 ] || [ "$RC" = 1 ] || { cat "$T/verify.pg"; fail "gaps --verify on PostgreSQL exited $RC"; }
assert_file_match "$T/verify.pg" "coverage ledger of 4h: none on this database \(postgresql\): gaps are read from the candles themselves, nothing to verify"
ckp metrics >"$T/metrics.pg" 2>"$T/err" || { cat "$T/err"; fail "metrics on PostgreSQL"; }
ck metrics >"$T/metrics.sq" 2>/dev/null
# The per-series lines agree with SQLite's, one line per symbol.
grep '^candlekeep_candles_stored{' "$T/metrics.sq" >"$T/series.sq"
grep '^candlekeep_candles_stored{' "$T/metrics.pg" >"$T/series.pg"
assert_eq "$(wc -l <"$T/series.pg")" 4 "candles_stored series"
cmp -s "$T/series.sq" "$T/series.pg" || { diff "$T/series.sq" "$T/series.pg"; fail "metrics series differ"; }
assert_file_match "$T/metrics.pg" '^candlekeep_sync_runs_total\{command="sync",status="ok"\} 1$'
ck_rc -q --symbols $syms health >"$T/health.sq"; sq_rc=$RC
DB="$U" ck_rc -q --symbols $syms health >"$T/health.pg"; pg_rc=$RC
assert_eq "$pg_rc" "$sq_rc" "health exit code on PostgreSQL vs SQLite"
grep -E '^(coverage|gaps|backups) ' "$T/health.sq" >"$T/hl.sq"
grep -E '^(coverage|gaps|backups) ' "$T/health.pg" >"$T/hl.pg"
assert_eq "$(wc -l <"$T/hl.pg")" 3 "health checks on PostgreSQL"
cmp -s "$T/hl.sq" "$T/hl.pg" || { diff "$T/hl.sq" "$T/hl.pg"; fail "health checks differ"; }

# A rerun at the same time writes nothing; no key is stored twice.
ckp -q --symbols $syms --history-days 30 sync >"$T/out2" 2>&1 || { cat "$T/out2"; fail "rerun"; }
assert_file_match "$T/out2" "0 candles written"
assert_eq "$(pgsql "select count(*) - count(distinct (symbol, interval, open_time)) from candles")" 0 "duplicate candles"
assert_eq "$(pgsql "select count(*) from runs where command='sync' and status='ok'")" 2
assert_eq "$(pgsql "select count(*) from run_symbols where status='ok'")" 8

# The run lock: an advisory lock on the server; a second sync exits 75 while it is held.
"${PSQL[@]}" -d ck1 -c "select pg_advisory_lock(4344424202); select pg_sleep(30)" >/dev/null 2>&1 &
holder=$!
_pids+=("$holder")
wait_for 30 "the test's session to take the advisory lock" \
	'[ "$(pgsql "select count(*) from pg_locks where locktype = '"'"'advisory'"'"' and granted")" = 1 ]'
DB="$U" ck_rc -q --symbols $syms sync 2>"$T/lock.err"
assert_eq "$RC" 75 "sync while the advisory lock is held"
assert_file_match "$T/lock.err" "another run holds the lock"
kill "$holder" 2>/dev/null || true
wait "$holder" 2>/dev/null || true
pgsql "select pg_terminate_backend(pid) from pg_stat_activity where query like '%pg_sleep(30)%' and pid <> pg_backend_pid()" >/dev/null

# A password in the URL never shows, in an error or in output.
PWURL="postgresql://ck:s3cret-pw@127.0.0.1:$PG_PORT/nosuchdb"
for c in sync gaps metrics "export --symbol BTCUSDT"; do
	RC=0; "$CK" --db "$PWURL" $c >"$T/out" 2>"$T/err" || RC=$?
	[ "$RC" != 0 ] || fail "$c against a missing database succeeded"
	if grep -q s3cret "$T/out" "$T/err"; then fail "$c shows the URL's password"; fi
done

# A dropped connection mid-run: a sync into a fresh database at fakex latency, its
# session terminated by the server; the store reconnects (and says so), and after the
# next run every candle is stored once.
U2=$(pg_createdb ck2)
fakex_ctl "faults?latency_ms=1000" >/dev/null # each answer a second late: the sync outlives the wait below
DB="$U2" ck -q --symbols $syms --history-days 30 sync >"$T/drop.out" 2>"$T/drop.err" &
sp=$!
_pids+=("$sp")
wait_for 60 "the sync to store its first candles" \
	'[ "$("${PSQL[@]}" -d ck2 -c "select count(*) from runs" 2>/dev/null || echo 0)" -ge 1 ]'
"${PSQL[@]}" -d ck2 -c "select pg_terminate_backend(pid) from pg_stat_activity where datname = 'ck2' and pid <> pg_backend_pid()" >/dev/null
RC=0; wait "$sp" || RC=$?
cat "$T/drop.out" "$T/drop.err" >"$T/drop.all"
note "dropped (exit $RC): $(grep -m1 -E "lost|terminat" "$T/drop.all" | cut -c1-300)"
# The store connects again and carries on (exit 0); a page whose transaction the drop
# undid fails its symbol (exit 1), which the next run completes.
[ "$RC" = 0 ] || [ "$RC" = 1 ] || { cat "$T/drop.all"; fail "a sync whose connection was dropped exited $RC"; }
assert_file_match "$T/drop.all" "connection to .* was lost and is made again"
fakex_ctl "faults?latency_ms=0" >/dev/null
DB="$U2" ck -q --symbols $syms --history-days 30 sync >"$T/after.out" 2>&1 || { cat "$T/after.out"; fail "the run after the dropped connection"; }
assert_file_match "$T/after.out" "sync ok: 4 symbols"
assert_eq "$("${PSQL[@]}" -d ck2 -c "select count(*) - count(distinct (symbol, interval, open_time)) from candles")" 0 "duplicates after the drop"
assert_eq "$("${PSQL[@]}" -d ck2 -c "select count(*) from candles")" "$(sql "select count(*) from candles")" "candles after the drop"
for s in BTCUSDT TONUSDT; do
	ck export --symbol "$s" >"$T/sq.csv" 2>/dev/null
	DB="$U2" ck export --symbol "$s" >"$T/pg.csv" 2>/dev/null
	cmp -s "$T/sq.csv" "$T/pg.csv" || fail "$s after the drop: export differs from SQLite's"
done
assert_eq "$("${PSQL[@]}" -d ck2 -c "select count(*) from runs where status = 'running'")" 0 "a run left running"
echo "t6031 ok"
