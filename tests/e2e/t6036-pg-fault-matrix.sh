#!/usr/bin/env bash
# The SQLite sync fault matrix (t2101, t2103, t2108, t2122) on PostgreSQL (issue 18): a
# sync into a fresh PostgreSQL database under each fault class of fakex in turn (5xx,
# 429 with Retry-After, 418 bans, hung requests, truncated and malformed bodies, a slow
# exchange past the run's deadline, a Retry-After beyond any wait). Each run ends ok
# (exit 0) or names exactly the symbols it could not finish (exit 1; 124 past its
# deadline), in its output and in run_symbols; its runs record says so with the faults
# counted; every stored candle equals a fault-free run's (into another database), the
# run's written counts equal what is stored (no page half written), and a clean run
# afterwards stores every closed candle exactly as the fault-free run did.
# The same faults on the run's first round trip (/fapi/v1/time and exchangeInfo, every
# request of the path faulty): a run whose /time never answers fails every symbol
# (exit 1) and stores nothing; exchangeInfo is not needed for a list of symbols, so its
# faults cost only retries (exit 0, every candle); a ban past the deadline ends the run.
. "$(dirname "$0")/lib.sh"
. "$CK_TOP/tests/e2e/pg_lib.sh"

now=$T_2026_03_19_18
syms=BTCUSDT,ETHUSDT,TONUSDT,CFGUSDT
export CANDLEKEEP_HTTP_REQUEST_TIMEOUT_MS=500 # a hung request costs 0.5 s, not 30
pg_start
fakex_start --data "$DATA" --now "$now" --seed 23 --hang-ms 600000
# Pages of 30 candles: each symbol takes 6 requests, so a fault class drawn at 0.25+ hits
# some of the run's 24 kline requests (a miss is at most 0.75^24, and each class is checked).
cks() { local db=$1; shift; DB="$(pg_createdb_url "$db")" ck --symbols $syms --history-days 30 --page-limit 30 "$@"; }
pg_createdb_url() { echo "postgresql://ck@127.0.0.1:$PG_PORT/$1"; }
rows="select symbol, interval, open_time, open, high, low, close, volume, close_time,"
rows+=" quote_volume, trades, taker_buy_base, taker_buy_quote from candles order by 1, 2, 3"
summary="select symbol, count(*), min(open_time), max(open_time) from candles group by symbol order by symbol"

# The reference: a fault-free run.
pg_createdb clean >/dev/null
cks clean -q sync >"$T/clean.out" 2>&1 || { cat "$T/clean.out"; fail "the fault-free sync"; }
assert_file_match "$T/clean.out" "sync ok: 4 symbols \(4 ok, 0 failed, 0 skipped\)"
pq clean "$rows" >"$T/clean.rows"
pq clean "$summary" >"$T/clean.sum"
assert_eq "$(wc -l <"$T/clean.sum")" 4 "symbols in the fault-free run"
assert_eq "$(pq clean "select count(*) from candles where close_time >= $now")" 0 "open candles stored"

# check NAME FAULT_QUERY WANT_RC COUNTER [SYNC FLAGS...]: a fresh database NAME, fakex's
# faults set to FAULT_QUERY, one sync (exit WANT_RC, or 0 or 1 when WANT_RC is "0|1");
# the run's record counts COUNTER (a runs column) above 0; then the checks above.
check() {
	local name=$1 faults=$2 want=$3 counter=$4 run failed_out failed_db st
	shift 4
	pg_createdb "$name" >/dev/null
	fakex_ctl "faults?reset=1&$faults" >/dev/null
	fakex_ctl 'ban?seconds=0' >/dev/null
	: >"$T/requests.jsonl"
	RC=0
	cks "$name" "$@" sync >"$T/$name.out" 2>"$T/$name.err" || RC=$?
	note "$name: exit $RC: $(tail -1 "$T/$name.out")"
	case "|$want|" in *"|$RC|"*) ;; *) cat "$T/$name.out" "$T/$name.err"; fail "$name: exit $RC, expected $want" ;; esac
	fakex_ctl 'faults?reset=1&latency_ms=0' >/dev/null
	run=$(pq "$name" "select max(id) from runs where command = 'sync'")
	[ -n "$run" ] || fail "$name: no run recorded"
	# The failed symbols: the same in the output and in run_symbols; the status follows.
	failed_out=$(awk '$2 == "failed" { print $1 }' "$T/$name.out" | sort | tr '\n' ' ')
	failed_db=$(pq "$name" "select symbol from run_symbols where run_id = $run and status = 'failed' order by symbol" | tr '\n' ' ')
	assert_eq "$failed_out" "$failed_db" "$name: failed symbols in the output vs run_symbols"
	assert_eq "$(pq "$name" "select exit_code from runs where id = $run")" "$RC" "$name: exit code recorded"
	st=$(pq "$name" "select status from runs where id = $run")
	case $RC in
	0) assert_eq "$failed_db" "" "$name: exit 0 with failed symbols"; assert_eq "$st" ok "$name: run status" ;;
	1)
		[ -n "$failed_db" ] || fail "$name: exit 1 without naming a failed symbol"
		# partial when some symbol ended ok, failed when none did
		if [ "$(echo $failed_db | wc -w)" = 4 ]; then assert_eq "$st" failed "$name: run status"; else assert_eq "$st" partial "$name: run status"; fi
		;;
	124) assert_eq "$st" timeout "$name: run status" ;;
	esac
	assert_eq "$(pq "$name" "select count(*) from runs where status = 'running'")" 0 "$name: a run left running"
	[ "$(pq "$name" "select $counter from runs where id = $run")" -gt 0 ] ||
		fail "$name: the run's record counts no $counter"
	# Nothing stored that the fault-free run did not store, value for value; the run's
	# written counts are what is stored (every page whole or not at all).
	pq "$name" "$rows" >"$T/$name.rows"
	[ -z "$(comm -23 "$T/$name.rows" "$T/clean.rows" | head -3)" ] ||
		{ comm -23 "$T/$name.rows" "$T/clean.rows" | head -3; fail "$name: stored rows the fault-free run did not store"; }
	assert_eq "$(pq "$name" "select coalesce(sum(candles_written), 0) from run_symbols where run_id = $run")" \
		"$(pq "$name" "select count(*) from candles")" "$name: candles written by the run vs stored"
	# The symbols that ended ok are complete.
	for s in ${syms//,/ }; do
		case " $failed_db " in *" $s "*) continue ;; esac
		[ "$RC" = 124 ] && continue
		assert_eq "$(grep -c "^$s|" "$T/$name.rows" || true)" "$(grep -c "^$s|" "$T/clean.rows")" "$name: $s ended ok but incomplete"
	done
	# Without faults the next run completes every symbol, as the fault-free run did.
	cks "$name" -q sync >"$T/$name.after" 2>&1 || { cat "$T/$name.after"; fail "$name: the clean run after the faults"; }
	assert_file_match "$T/$name.after" "sync ok: 4 symbols"
	pq "$name" "$rows" >"$T/$name.rows2"
	cmp -s "$T/clean.rows" "$T/$name.rows2" ||
		{ diff "$T/clean.rows" "$T/$name.rows2" | head -5; fail "$name: after a clean run, the candles differ from the fault-free run's"; }
	pq "$name" "$summary" >"$T/$name.sum"
	cmp -s "$T/clean.sum" "$T/$name.sum" || fail "$name: per-symbol counts differ from the fault-free run's"
}
# The fault class really happened: fakex's log of the faulty run has it.
fired() { [ "$(fakex_requests "\"fault\":\"$1\"")" -gt 0 ] || fail "no $1 fault injected"; }

check p5xx "p5xx=0.3&path=klines" "0|1" http_5xx
fired p5xx
check p429 "p429=0.3&retry_after=1&path=klines" "0|1" http_429
fired p429
check p418 "p418=0.25&ban_seconds=1&path=klines" "0|1" http_418
fired p418
check hang "phang=0.25&path=klines" "0|1" net_errors
fired hang
check trunc "ptrunc=0.3&path=klines" "0|1" net_errors
fired ptrunc
check malformed "pmalformed=0.3&path=klines" "0|1" net_errors
fired pmalformed
# A slow exchange and a run deadline it cannot meet: exit 124, what was committed kept.
check slow "latency_ms=200" 124 requests --concurrency 1 --timeout 2s
assert_match "$(pq slow "select error from runs order by id limit 1")" "deadline" "the timed-out run's error"
n=$(pq slow "select sum(candles_written) from run_symbols where run_id = (select min(id) from runs)")
[ "$n" -gt 0 ] && [ "$n" -lt "$(wc -l <"$T/clean.rows")" ] || fail "slow: $n candles committed before the deadline"
# A Retry-After longer than any wait: the run fails at once, naming why.
check waitlong "p429=1&path=klines&retry_after_force=1000000000" 1 http_429 --timeout 20s
cat "$T/waitlong.out" "$T/waitlong.err" >"$T/waitlong.all"
assert_file_match "$T/waitlong.all" "asked to wait 1000000000 s \(Retry-After\)"
fakex_ctl "faults?reset=1&retry_after_force=" >/dev/null
# Faults on the first round trip: /fapi/v1/time (no run without the exchange's clock)
# and exchangeInfo (only the listing and weight limits: the run goes on without it).
for path in time exchangeInfo; do
	want=1 db=time # (database names are lower case)
	[ $path = exchangeInfo ] && want=0 db=info
	check "t5xx_$db" "p5xx=1&path=$path" $want http_5xx
	fired p5xx
	check "t429_$db" "p429=1&retry_after=1&path=$path" $want http_429
	fired p429
	check "thang_$db" "phang=1&path=$path" $want net_errors
	fired hang
	check "ttrunc_$db" "ptrunc=1&path=$path" $want net_errors
	fired ptrunc
	check "tmalformed_$db" "pmalformed=1&path=$path" $want requests
	fired pmalformed
	# A ban on the first round trip that never lifts: the run waits until its deadline.
	check "t418_$db" "p418=1&ban_seconds=1&path=$path" "1|124" http_418 --timeout 3s
	fired p418
	assert_eq "$(pq "t418_$db" "select coalesce(sum(candles_written), 0) from run_symbols where run_id = (select min(id) from runs)")" 0 "t418_$db: candles stored while banned"
done
echo ok
