#!/usr/bin/env bash
# health on PostgreSQL tells a run in progress from one that was killed: while a sync
# holds the run lock (a session advisory lock, possibly on another host) its "running"
# record is not "never ended (killed or crashed)"; once the process is killed (kill -9:
# the server drops its lock with its session) it is. Before, health had no lock to
# probe on a server and said "never ended" during every sync.
. "$(dirname "$0")/lib.sh"
. "$CK_TOP/tests/e2e/pg_lib.sh"

now=1767225600000 # 2026-01-01 00:00 UTC
syms=$(synthetic_symbols 4 USDT)
export CANDLEKEEP_FAULT_NOW=$now
pg_start
fakex_start --synthetic 4 --now "$now"
pg_createdb ck >/dev/null
export DB; DB=$(pg_url ck w1)
ck -q --symbols SYN000USDT,SYN001USDT --history-days 5 sync >"$T/first" 2>&1 || { cat "$T/first"; fail "first sync"; }
health() { ck_rc --symbols "$syms" health --now "$now" >"$T/$1" 2>&1; }

# A slow sync (two more symbols, 0.3 s a page, one at a time, 2 candles a page) in
# progress.
fakex_ctl "faults?latency_ms=300" >/dev/null
ck --symbols "$syms" --history-days 5 --page-limit 2 --concurrency 1 sync >"$T/slow.out" 2>&1 &
sp=$!
_pids+=("$sp")
WAIT_SHOW="$T/slow.out" wait_for 30 "the slow sync's run record" \
	'[ "$(pq ck "select count(*) from runs where status = '"'running'"'")" = 1 ]'
health during
assert_file_match "$T/during" "^last_run +OK"
grep -q "never ended" "$T/during" && { cat "$T/during"; fail "health during a run in progress says it never ended"; }

# Killed: its session ends, the server drops the lock; the record stays 'running'.
pkill -KILL -P "$sp" 2>/dev/null || true # candlekeep, when the shell did not exec it
kill -KILL "$sp" 2>/dev/null || true
wait "$sp" 2>/dev/null || true
grep -q "^sync ok" "$T/slow.out" && fail "the slow sync ended before it was killed"
WAIT_SHOW="$T/slow.out" wait_for 30 "the killed run's lock to be dropped" \
	'[ "$(pq ck "select count(*) from pg_locks where locktype = '"'advisory'"' and classid = 1 and objid = 49456906")" = 0 ]'
health after
assert_file_match "$T/after" "^last_run +WARNING .*never ended \\(killed or crashed\\)"
fakex_ctl "faults?latency_ms=0" >/dev/null
echo ok
