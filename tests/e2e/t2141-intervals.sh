#!/usr/bin/env bash
# Several intervals in one database ([main] intervals, --interval LIST): one sync stores
# each interval's closed candles (as many as the window holds), a second sync fetches
# nothing new, health judges each interval, gaps goes over each, export needs one; a ban
# seen by one interval's run is honoured by the next (no request sent); bad names fail
# with exit 2 naming the input and the valid names; one interval behaves as before.
. "$(dirname "$0")/lib.sh"

now=1767225600000 # 2026-01-01 00:00 UTC
HOUR=3600000
fakex_start --synthetic 2 --now "$now"
export CANDLEKEEP_FAULT_NOW=$now
syms=SYN000USDT,SYN001USDT

# 1. --interval 4h,1h,1d: each interval's closed candles of the 10 days before now.
ck -q --symbols $syms --history-days 10 --interval 4h,1h,1d sync >"$T/s1" 2>"$T/s1.err" ||
	{ cat "$T/s1" "$T/s1.err"; fail "first sync"; }
assert_eq "$(grep -c '^sync ' "$T/s1")" 3 "one summary line per interval"
assert_eq "$(sed -n 1p "$T/s1" | cut -d: -f1)" "sync 4h ok" "first interval first"
assert_eq "$(sed -n 2p "$T/s1" | cut -d: -f1)" "sync 1h ok" "then 1h"
assert_eq "$(sed -n 3p "$T/s1" | cut -d: -f1)" "sync 1d ok" "then 1d"
assert_eq "$(sql "select group_concat(interval || ':' || n, ',') from (select interval, count(*) n from candles group by interval order by interval)")" \
	"1d:20,1h:480,4h:120" "candles per interval (2 symbols x 10 days)"
# every candle stored is closed, and each interval's newest is the last closed one
assert_eq "$(sql "select count(*) from candles where close_time >= $now")" 0 "unclosed candles stored"
assert_eq "$(sql "select max(open_time) from candles where interval='1h'")" $((now - HOUR)) "newest 1h"
assert_eq "$(sql "select max(open_time) from candles where interval='4h'")" $((now - 4 * HOUR)) "newest 4h"
assert_eq "$(sql "select max(open_time) from candles where interval='1d'")" $((now - 24 * HOUR)) "newest 1d"
# each interval asked for its own candles, and its runs are recorded apart
for iv in 4h 1h 1d; do
	[ "$(fakex_requests "interval=$iv&")" -ge 2 ] || fail "no klines requests for $iv"
done
assert_eq "$(sql "select count(*) from runs where command='sync'")" 3 "one run record per interval"
# the log names the interval of each run's start and end
assert_eq "$(ck --symbols $syms --history-days 10 --interval 4h,1h,1d sync 2>&1 >/dev/null |
	grep -Ec 'sync: (start|end) .*interval=(4h|1h|1d)')" 6 "start and end log lines per interval"

# 2. A second sync fetches nothing new.
before=$(fakex_requests /klines)
ck -q --symbols $syms --history-days 10 --interval 4h,1h,1d sync >"$T/s2" 2>&1 || { cat "$T/s2"; fail "second sync"; }
assert_eq "$(grep -c ' 0 candles written' "$T/s2")" 3 "second sync writes nothing"
assert_eq "$(sql "select count(*) from candles")" 620 "candles after the second sync"

# 3. The same list from the configuration file; the old single key still works.
printf '[main]\nintervals = 4h, 1h,1d\nsymbols = %s\n' "$syms" >"$T/multi.ini"
printf '[main]\ninterval = 1h\nsymbols = %s\n' "$syms" >"$T/one.ini"
ck -q -c "$T/multi.ini" sync >"$T/s3" 2>&1 || { cat "$T/s3"; fail "sync from [main] intervals"; }
assert_eq "$(grep -c '^sync [41][hd] ok: ' "$T/s3")" 3 "[main] intervals: three runs"
ck -q -c "$T/multi.ini" --interval 1d sync >"$T/s4" 2>&1 || { cat "$T/s4"; fail "--interval over the file"; }
assert_file_match "$T/s4" '^sync ok: 2 symbols \(2 ok, 0 failed, 0 skipped\), 0 candles written'
assert_eq "$(grep -c '^sync' "$T/s4")" 1 "--interval replaces the file's list"
ck -q -c "$T/one.ini" sync >"$T/s5" 2>&1 || { cat "$T/s5"; fail "[main] interval = 1h"; }
assert_file_match "$T/s5" '^sync ok: 2 symbols'

# 4. health: freshness per interval, judged by each interval's thresholds.
ck_rc --symbols $syms --interval 4h,1h,1d health --now "$now" >"$T/h" 2>&1
for iv in 4h 1h 1d; do
	assert_file_match "$T/h" "^freshness/$iv +OK +2/2 symbols fresh"
	assert_file_match "$T/h" "^coverage/$iv +OK"
	assert_file_match "$T/h" "^gaps/$iv +OK"
done
assert_file_match "$T/h" '^CANDLEKEEP [A-Z]+ - 6/6 symbols fresh'
# one interval: the report as before (no per-interval names)
ck_rc --symbols $syms health --now "$now" >"$T/h1" 2>&1
assert_file_match "$T/h1" '^freshness OK +2/2 symbols fresh'
assert_file_match "$T/h1" '^CANDLEKEEP [A-Z]+ - 2/2 symbols fresh'

# 5. metrics: per-symbol series of every interval.
ck --symbols $syms --interval 4h,1h,1d metrics >"$T/m" 2>/dev/null || true
assert_file_match "$T/m" '^candlekeep_candles_stored\{symbol="SYN000USDT",interval="1h",market="um"\} 240$'
assert_file_match "$T/m" '^candlekeep_candles_missing\{symbol="SYN000USDT",interval="1d",market="um"\} 0$'
assert_file_match "$T/m" '^candlekeep_symbol_configured\{symbol="SYN001USDT",interval="1d",market="um"\} 1$'

# 6. gaps goes over each interval; a hole in one is found in it only.
sql "delete from candles where interval='1h' and symbol='SYN000USDT' and open_time=$((now - 5 * HOUR))"
sql "select 1" >/dev/null
ck_rc --symbols $syms --interval 4h,1h,1d gaps --verify >"$T/g" 2>&1
assert_file_match "$T/g" '^4h: 0 candles missing'
assert_file_match "$T/g" '^1h: 1 candles missing'
assert_file_match "$T/g" '^1d: 0 candles missing'
[ "$RC" != 0 ] || fail "gaps with a missing 1h candle: exit 0"
ck_rc --symbols $syms --interval 4h gaps >"$T/g4"
assert_eq "$RC" 0 "gaps of 4h alone"
assert_file_match "$T/g4" '^0 candles missing, 0 in confirmed exchange holes$'
# the next sync repairs it
ck -q --symbols $syms --interval 4h,1h,1d sync >/dev/null 2>&1 || fail "repairing sync"
assert_eq "$(sql "select count(*) from candles where interval='1h'")" 480 "1h repaired"

# 7. export needs one interval.
ck_rc --symbols $syms --interval 4h,1h export --symbol SYN000USDT >"$T/e" 2>"$T/e.err"
assert_eq "$RC" 2 "export with two intervals: exit"
assert_file_match "$T/e.err" 'export: 2 intervals configured \(4h,1h\).*--interval 4h'
assert_eq "$(ck --interval 1d export --symbol SYN000USDT 2>/dev/null | wc -l | tr -d ' ')" 10 "export of 1d"

# 8. Bad names: exit 2, the input and the valid names named (1M is one: t2143).
ck_rc --symbols $syms --interval 4h,7h sync >"$T/b1" 2>&1
assert_eq "$RC" 2 "unknown interval: exit"
assert_file_match "$T/b1" "--interval: \[main\] interval = 4h,7h: unknown interval '7h' \(use 1m 3m 5m 15m 30m 1h 2h 4h 6h 8h 12h 1d 3d 1w 1M\)"
printf '[main]\nintervals = 4h,4h\n' >"$T/bad.ini"
ck_rc -c "$T/bad.ini" sync >"$T/b3" 2>&1
assert_eq "$RC" 2 "interval listed twice: exit"
assert_file_match "$T/b3" "bad.ini:2: \[main\] intervals = 4h,4h: 4h is listed twice"

# backfill runs each interval too: two more days of 4h and 1d, nothing of 1h
ck -q --symbols $syms --interval 4h,1d backfill --since $((now - 12 * 24 * HOUR)) --no-progress >"$T/bf" 2>&1 ||
	{ cat "$T/bf"; fail "backfill of two intervals"; }
assert_file_match "$T/bf" '^backfill 4h ok: 2 symbols \(2 ok, 0 failed, 0 skipped\), 24 candles written'
assert_file_match "$T/bf" '^backfill 1d ok: 2 symbols \(2 ok, 0 failed, 0 skipped\), 4 candles written'
assert_eq "$(sql "select group_concat(interval || ':' || n, ',') from (select interval, count(*) n from candles group by interval order by interval)")" \
	"1d:24,1h:480,4h:144" "candles per interval after the backfill"

# The daemon's sync job (its catch-up sync at start) runs each interval too.
CANDLEKEEP_MAIN_HISTORY_DAYS=2 CANDLEKEEP_SCHEDULE_BACKUP= CANDLEKEEP_SCHEDULE_HEALTH= CANDLEKEEP_SCHEDULE_AUDIT= \
	CANDLEKEEP_SCHEDULE_INTEGRITY_CHECK= "$CK" --db "$T/daemon.db" --base-url "$FAKEX_URL" \
	--symbols $syms --interval 4h,1h daemon --listen 127.0.0.1:0 \
	--port-file "$T/d.port" --clock-url "$FAKEX_URL" >"$T/d.out" 2>"$T/d.log" &
DPID=$!
_pids+=("$DPID")
WAIT_SHOW="$T/d.log" wait_for 60 "the daemon's 1h sync" grep -qs 'sync: end status=ok .*interval=1h' "$T/d.log"
kill -TERM "$DPID"
wait "$DPID" || true
assert_file_match "$T/d.log" 'sync: end status=ok .*interval=4h'
assert_eq "$(sqlite3 -batch -noheader "$T/daemon.db" "select group_concat(interval || ':' || n, ',') from (select interval, count(*) n from candles group by interval order by interval)")" \
	"1h:96,4h:24" "the daemon's candles per interval (2 symbols x 2 days)"

# 9. A ban seen in one interval's run is honoured by the next: a 418 ban longer than the
# run's deadline fails the 4h run; the 1h run after it sends no request at all.
export CANDLEKEEP_FAULT_NOW=$((now + 4 * HOUR))
fakex_ctl 'ban?seconds=120' >/dev/null
before=$(wc -l <"$T/requests.jsonl")
ck_rc --symbols $syms --interval 4h,1h --timeout 5s sync >"$T/ban" 2>"$T/ban.err"
assert_eq "$RC" 1 "sync during a ban: exit"
assert_file_match "$T/ban" '^sync 4h failed: '
assert_file_match "$T/ban" '^sync 1h failed: .* 0 requests,'
tail -n +$((before + 1)) "$T/requests.jsonl" >"$T/ban.req"
[ "$(grep -c '"status":418' "$T/ban.req")" -ge 1 ] || fail "no 418 served"
assert_eq "$(grep -c 'interval=1h' "$T/ban.req")" 0 "1h requests during the ban"
assert_eq "$(sql "select count(*) from state where key='ban_until'")" 1 "ban kept in the database"

# 10. A run that ends by the run's deadline (exit 124) leaves the intervals after it
# unrun, and says so (a fresh database: the ban above is stored in the other).
fakex_ctl 'ban?seconds=0' >/dev/null
fakex_ctl 'faults?latency_ms=1500' >/dev/null
DB="$T/deadline.db" ck_rc --symbols $syms --interval 4h,1h --timeout 2s sync >"$T/dl" 2>"$T/dl.err"
fakex_ctl 'faults?latency_ms=0' >/dev/null
assert_eq "$RC" 124 "sync past its deadline: exit"
assert_file_match "$T/dl.err" "candlekeep sync 1h: not run \(the run's deadline passed\)"
! grep -q '^sync 1h' "$T/dl" || fail "the 1h run ran after the deadline"
echo "ok"
