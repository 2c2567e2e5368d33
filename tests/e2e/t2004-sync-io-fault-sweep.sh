#!/usr/bin/env bash
# N-th I/O fault sweep (SQLite's way): the N-th write/sync of the database fails (and
# every later one, like a disk gone bad), or the process is killed with SIGKILL at the
# N-th write, for every N until a run gets through. After each, the database passes
# PRAGMA integrity_check and the next clean sync completes it to exactly the content of
# a run that never failed. Uses the fault VFS compiled into test builds (src/fault.c).
. "$(dirname "$0")/lib.sh"

t0=$((T_2026_03_01 + 3600000))
fakex_start --data "$DATA" --now "$t0"
syms=BTCUSDT,ETHUSDT,ADAUSDT
run() { ck -q --symbols $syms --history-days 5 sync >"$T/out" 2>&1; }

# The starting state, and the reference: the same two runs without faults.
run || fail "initial sync"
cp "$DB" "$T/start.db"
fakex_ctl "clock?advance=$((2 * DAY))" >/dev/null
run || fail "reference sync"
content() { sqlite3 "$DB" 'SELECT * FROM candles ORDER BY symbol, interval, open_time' | md5sum; }
want=$(content)

for mode in IO KILL; do
	n=1
	while :; do
		rm -f "$DB" "$DB-wal" "$DB-shm"
		cp "$T/start.db" "$DB"
		rc=0
		env "CANDLEKEEP_FAULT_$mode=$n" "$CK" --db "$DB" --base-url "$FAKEX_URL" -q \
			--symbols $syms --history-days 5 sync >"$T/out" 2>&1 || rc=$?
		ok=$(sqlite3 "$DB" 'PRAGMA integrity_check')
		[ "$ok" = ok ] || fail "$mode fault at I/O $n: integrity_check says $ok"
		if [ "$mode" = KILL ] && [ $rc -ne 0 ] && [ $rc -ne 137 ]; then
			cat "$T/out"; fail "KILL at $n: exit $rc"
		fi
		if [ "$mode" = IO ] && [ $rc -ne 0 ]; then
			grep -Eq "error|candlekeep" "$T/out" || fail "IO fault at $n: no error message"
		fi
		run || { cat "$T/out"; fail "clean sync after $mode fault at I/O $n"; }
		[ "$(content)" = "$want" ] || fail "after $mode fault at I/O $n the data differs"
		[ $rc -eq 0 ] && break
		n=$((n + 1))
		[ $n -le 400 ] || fail "$mode: still failing after 400 faults"
	done
	note "$mode: swept $n I/O points"
done
echo ok
