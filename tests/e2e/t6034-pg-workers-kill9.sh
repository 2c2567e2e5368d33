#!/usr/bin/env bash
# Scale-out on PostgreSQL (issue 18): three `sync` workers at once on one database and
# one fakex split the symbols by work claims (advisory locks on the server); one of
# them is killed with SIGKILL while it holds claims, the server frees them with its
# session, and a follow-up run fetches what it left. Then every closed candle is stored
# exactly once (the same rows as one worker's sync into another database), no symbol
# was fetched by two of the concurrent workers, and the kline requests of the three
# workers and the follow-up are within 1.5x of one worker's (fakex's request log).
# On SQLite the run lock still keeps a second sync out (exit 75).
. "$(dirname "$0")/lib.sh"
. "$CK_TOP/tests/e2e/pg_lib.sh"

now=$T_2026_03_19_18
N=48
syms=$(synthetic_symbols $N USDT)
pg_start
fakex_start --synthetic $N --now "$now"
U0=$(pg_createdb one)
U1=$(pg_createdb three)
klines() { fakex_requests '"/fapi/v1/klines'; }
# A worker: a sync of every symbol, its session named (application_name) for
# pg_stat_activity. Re-verification of stored candles is off, so that a run requests
# only what is not stored yet and the counts below measure the split alone. Pages of 20
# candles: each symbol takes 9 requests one after another, so a worker holds its claims
# through several round trips (the kill below lands mid-run however loaded the machine).
worker() {
	local url=$1 name=$2
	DB="$url?application_name=$name" CANDLEKEEP_SYNC_VERIFY_RECENT=0 CANDLEKEEP_SYNC_VERIFY_DAYS=0 \
		ck -q --symbols "$syms" --history-days 30 --page-limit 20 sync
}

# One worker alone: the reference rows and request count.
worker "$U0" solo >"$T/solo.out" 2>&1 || { cat "$T/solo.out"; fail "one worker's sync"; }
assert_file_match "$T/solo.out" "sync ok: $N symbols \($N ok, 0 failed, 0 skipped\)"
one=$(klines)
note "one worker: $one kline requests"
[ "$one" -ge "$N" ] || fail "one worker sent $one kline requests for $N symbols"

# Three workers at once, slowed (0.5 s a request: a symbol takes 4.5 s) so that each
# holds claims while the others start, however loaded the machine.
fakex_ctl "faults?latency_ms=500" >/dev/null
: >"$T/requests.jsonl"
pids=()
for w in 1 2 3; do
	worker "$U1" "w$w" >"$T/w$w.out" 2>&1 &
	pids+=($!)
	_pids+=($!)
done
# Claims a worker's sessions hold (exclusive advisory locks; its run lock is shared).
held() { pq three "select count(*) from pg_locks l join pg_stat_activity a using (pid) where l.locktype = 'advisory' and l.mode = 'ExclusiveLock' and l.granted and a.application_name = '$1'" 2>/dev/null || echo 0; }
WAIT_SHOW="$T/w2.out" wait_for 60 "worker 2 to hold claims" '[ "$(held w2)" -ge 1 ]'
# mid-run: the workers have had about two of each symbol's nine pages answered
wait_for 60 "the workers' first kline requests" '[ "$(klines)" -ge $((one / 5)) ]'
[ "$(held w2)" -ge 1 ] || { cat "$T/w2.out"; pq three "select l.objid, l.mode, l.granted, a.application_name, a.state from pg_locks l join pg_stat_activity a using (pid) where l.locktype = 'advisory'"; fail "worker 2 finished before it could be killed mid-run"; }
kill -KILL "${pids[1]}"
RC=0; wait "${pids[1]}" || RC=$?
assert_eq "$RC" 137 "worker 2 killed by SIGKILL"
# Its session ends with it: the server frees its claims.
wait_for 60 "the killed worker's claims to be freed" '[ "$(held w2)" = 0 ]'
for i in 0 2; do
	RC=0; wait "${pids[$i]}" || RC=$?
	[ "$RC" = 0 ] || { cat "$T/w$((i + 1)).out"; fail "worker $((i + 1)) exited $RC"; }
done
note "w1: $(grep -m1 'sync ok' "$T/w1.out")"
note "w3: $(grep -m1 'sync ok' "$T/w3.out")"
# Both survivors did part of the work, and no symbol is in both runs' records.
for w in 1 3; do
	n=$(sed -nE 's/.*sync ok: ([0-9]+) symbols.*/\1/p' "$T/w$w.out")
	[ -n "$n" ] && [ "$n" -ge 1 ] && [ "$n" -lt $N ] || { cat "$T/w$w.out"; fail "worker $w did $n of $N symbols"; }
done
assert_eq "$(pq three "select count(*) from (select symbol from run_symbols group by symbol having count(*) > 1) d")" 0 \
	"symbols recorded by two concurrent workers"

# The follow-up run takes what the killed worker left; then every candle once.
fakex_ctl "faults?latency_ms=0" >/dev/null
worker "$U1" after >"$T/after.out" 2>&1 || { cat "$T/after.out"; fail "the follow-up run"; }
three=$(klines)
note "three workers + follow-up: $three kline requests (one worker: $one)"
[ $((three * 2)) -le $((one * 3)) ] || fail "$three kline requests, more than 1.5x one worker's $one"
q="select symbol, count(*), count(distinct open_time), min(open_time), max(open_time) from candles group by symbol order by symbol"
pq one "$q" >"$T/one.rows"
pq three "$q" >"$T/three.rows"
assert_eq "$(wc -l <"$T/one.rows")" $N "symbols stored by one worker"
cmp -s "$T/one.rows" "$T/three.rows" || { diff "$T/one.rows" "$T/three.rows" | head; fail "the workers' candles differ from one worker's"; }
assert_eq "$(pq three "select count(*) from candles")" "$(pq one "select count(*) from candles")" "candles"
# A candle closes before the exchange's time: none after it.
assert_eq "$(pq three "select count(*) from candles where close_time >= $now")" 0 "open candles stored"

# After a run no claim is left behind (released at its end).
assert_eq "$(pq three "select count(*) from pg_locks where locktype = 'advisory' and database = (select oid from pg_database where datname = 'three')")" 0 "claims left"

# SQLite keeps its single writer: a second sync while the lock is held exits 75.
fakex_ctl "faults?latency_ms=1000" >/dev/null
ck -q --symbols SYN000USDT,SYN001USDT --history-days 30 sync >"$T/sq1.out" 2>&1 &
sq=$!
_pids+=("$sq")
wait_for 30 "the SQLite sync to take its lock" '[ -s "$DB.lock" ]'
ck_rc -q --symbols SYN000USDT --history-days 30 sync 2>"$T/sq2.err"
assert_eq "$RC" 75 "a second sync on SQLite"
wait "$sq" || { cat "$T/sq1.out"; fail "the first SQLite sync"; }
echo "ok"
