#!/usr/bin/env bash
# kill -9 at a random moment (seeded, so it repeats) during sync and backfill, 50 times,
# with random slices of stored candles deleted between kills so that every run has
# gaps to repair: after each kill the database passes PRAGMA integrity_check and no
# lock is left behind; then a run completes it to exactly the content of an
# uninterrupted run (full exports and gaps compared).
. "$(dirname "$0")/lib.sh"

now=$T_2026_03_19_18
syms=BTCUSDT,ETHUSDT,TONUSDT
since=2025-12-01
ITER=${CK_KILL_ITER:-50}

fakex_start --data "$DATA" --now "$now" --latency-ms 3
export CANDLEKEEP_MAIN_HISTORY_DAYS=30
args=(--symbols $syms --page-limit 20 --concurrency 4)

# The reference: one uninterrupted backfill and sync into another database.
REF="$T/ref.db"
t0=$(date +%s%3N)
DB="$REF" ck -q "${args[@]}" backfill --since $since --no-progress >/dev/null 2>&1 || fail "reference backfill"
# Kill delays are drawn from the length of an uninterrupted run of this build (a sanitizer
# build is slower), so the kills land throughout the run.
span=$(( $(date +%s%3N) - t0 ))
[ "$span" -ge 40 ] || span=40
[ "$span" -le 300 ] || span=300
DB="$REF" ck -q "${args[@]}" sync >/dev/null 2>&1 || fail "reference sync"
[ "$(sqlite3 "$REF" 'select count(*) from candles')" -gt 1000 ] || fail "reference too small"

RANDOM=2105
killed=0 midway=0
for i in $(seq 1 "$ITER"); do
	# Remove a random slice so the next run has something to write.
	if [ -s "$DB" ]; then
		# (a run killed before it created the schema leaves no candles table: fine)
		sql 2>/dev/null "delete from candles where (open_time / $H4) % $(( (RANDOM % 5) + 2 )) = $(( RANDOM % 2 ))" || true
	fi
	c0=$(sql 'select count(*) from candles' 2>/dev/null || echo 0)
	if [ $((i % 2)) = 0 ]; then cmd=(sync); else cmd=(backfill --since $since --no-progress); fi
	# exec: $! must be candlekeep itself, not a subshell around it.
	(exec env CANDLEKEEP_HTTP_RETRY_NET_BASE_MS=50 "$CK" --db "$DB" --base-url "$FAKEX_URL" -q \
		"${args[@]}" "${cmd[@]}" >/dev/null 2>&1) &
	pid=$!
	# Two kills in three land after the run's first stored page (polled, bounded), so that
	# a loaded machine that starts runs slowly still kills them mid-way; the third lands
	# anywhere in the run, start-up included.
	if [ $((i % 3)) != 0 ]; then
		for _ in $(seq 1 400); do
			[ "$(sql 'select count(*) from candles' 2>/dev/null || echo 0)" -gt "${c0:-0}" ] && break
			kill -0 "$pid" 2>/dev/null || break
			sleep 0.025
		done
		delay=$(( (RANDOM * 32768 + RANDOM) % (span / 2) ))
	else
		delay=$(( (RANDOM * 32768 + RANDOM) % span ))
	fi
	sleep "$(printf '%d.%03d' $((delay / 1000)) $((delay % 1000)))"
	if kill -9 "$pid" 2>/dev/null; then killed=$((killed + 1)); fi
	wait "$pid" 2>/dev/null || true
	ok=$(sqlite3 "$DB" 'PRAGMA integrity_check' 2>&1)
	assert_eq "$ok" ok "integrity_check after kill $i (${cmd[0]}, ${delay} ms)"
	# Killed between its first and its last page: wrote something, did not end.
	if [ "$(sql 'select count(*) from candles' 2>/dev/null || echo 0)" -gt "${c0:-0}" ] &&
		[ "$(sql 'select ended is null from runs order by id desc limit 1')" = 1 ]; then
		midway=$((midway + 1))
	fi
done
note "kill delays 0..$span ms; $killed of $ITER runs were killed while running, $midway after writing some pages"
[ "$midway" -ge $((ITER / 5)) ] || fail "only $midway runs were killed mid-way; the kills test nothing"
# Killed runs stay recorded as never ended; the lock died with them.
[ "$(sql "select count(*) from runs where ended is null or ended = 0")" -ge 1 ] || fail "no unfinished run record"

# The next runs complete it to the same content.
ck -q "${args[@]}" backfill --since $since --no-progress >"$T/out" 2>&1 || { cat "$T/out"; fail "backfill after the kills"; }
ck -q "${args[@]}" sync >"$T/out" 2>&1 || { cat "$T/out"; fail "sync after the kills"; }
for s in ${syms//,/ }; do
	DB="$REF" ck export --symbol "$s" >"$T/ref.$s" 2>/dev/null
	ck export --symbol "$s" >"$T/got.$s" 2>/dev/null
	cmp -s "$T/ref.$s" "$T/got.$s" || { diff "$T/ref.$s" "$T/got.$s" | head -5; fail "$s differs from the uninterrupted run"; }
done
DB="$REF" ck gaps >"$T/ref.gaps" 2>&1 || true
ck gaps >"$T/got.gaps" 2>&1 || true
cmp -s "$T/ref.gaps" "$T/got.gaps" || { diff "$T/ref.gaps" "$T/got.gaps"; fail "gaps differ"; }
assert_eq "$(sql 'select count(*) from candles')" "$(sqlite3 "$REF" 'select count(*) from candles')"
echo ok
