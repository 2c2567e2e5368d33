#!/usr/bin/env bash
# Under 10% 5xx, 10% 429, 5% hangs, 5% truncated bodies and 5% malformed JSON (seeded,
# so it repeats) a sync ends complete (exit 0, every symbol exactly the recorded data)
# or names exactly the symbols it could not finish (exit 1, listed in the output and in
# run_symbols); every stored row equals the recorded data (nothing from a bad response
# is stored). A clean sync afterwards completes the rest. CK_FAULT_SEEDS="7 23 ..." runs
# more seeds (the suite runs one to stay fast).
. "$(dirname "$0")/lib.sh"

now=$T_2026_03_19_18
syms="BTCUSDT ETHUSDT CFGUSDT TONUSDT SOLUSDT XRPUSDT"
export CANDLEKEEP_HTTP_REQUEST_TIMEOUT_MS=1000   # a hung request costs 1 s, not 30

# Expected rows of a symbol: closed at now, opened within the history window.
want() {
	expected_rows "$DATA/$1-4h.csv" "$now" $((now - 200 * DAY))
}
# Every stored row of $1 is a row of the recorded data, byte for byte.
check_subset() {
	ck export --symbol "$1" 2>/dev/null | cut -d, -f1-9 | sort >"$T/got.$1"
	cut -d, -f1-9 "$DATA/$1-4h.csv" | sort >"$T/all.$1"
	local bad
	bad=$(comm -23 "$T/got.$1" "$T/all.$1" | head -3)
	[ -z "$bad" ] || fail "$1: stored rows not in the recorded data: $bad"
}
check_exact() {
	want "$1" >"$T/want.$1"
	ck export --symbol "$1" 2>/dev/null | cut -d, -f1-9 >"$T/exact.$1"
	cmp -s "$T/want.$1" "$T/exact.$1" || { diff "$T/want.$1" "$T/exact.$1" | head -5; fail "$1: not complete"; }
}

for seed in ${CK_FAULT_SEEDS:-23}; do
	rm -f "$DB" "$DB"-wal "$DB"-shm "$T/requests.jsonl"
	fakex_start --data "$DATA" --now "$now" --seed "$seed" --p5xx 0.10 --p429 0.10 \
		--retry-after 1 --phang 0.05 --hang-ms 600000 --ptrunc 0.05 --pmalformed 0.05
	ck_rc --symbols "${syms// /,}" --history-days 200 --page-limit 100 sync >"$T/out" 2>"$T/err"
	note "seed $seed: exit $RC: $(tail -1 "$T/out")"
	# The faults really happened.
	for f in p5xx p429 hang ptrunc pmalformed; do
		[ "$(fakex_requests "\"fault\":\"$f\"")" -gt 0 ] || fail "seed $seed: no $f fault injected"
	done
	case $RC in 0|1) ;; *) cat "$T/out" "$T/err"; fail "seed $seed: exit $RC" ;; esac
	failed_out=$(awk '$2 == "failed" { print $1 }' "$T/out" | sort | tr '\n' ' ')
	run=$(sql "select max(id) from runs")
	failed_db=$(sql "select symbol from run_symbols where run_id=$run and status='failed' order by symbol" | tr '\n' ' ')
	assert_eq "$failed_out" "$failed_db" "seed $seed: failed symbols in the output vs run_symbols"
	if [ "$RC" = 0 ]; then
		assert_eq "$failed_db" "" "seed $seed: exit 0 with failed symbols"
		assert_eq "$(sql "select status from runs where id=$run")" ok
	else
		[ -n "$failed_db" ] || fail "seed $seed: exit 1 without naming a failed symbol"
		assert_eq "$(sql "select status from runs where id=$run")" partial
	fi
	assert_eq "$(sql "select count(*) from run_symbols where run_id=$run")" 6 "seed $seed: run_symbols rows"
	for s in $syms; do
		check_subset "$s"
		case " $failed_db " in
		*" $s "*) ;;
		*) check_exact "$s" ;;
		esac
	done
	# The retries are counted.
	[ "$(sql "select retries from runs where id=$run")" -gt 0 ] || fail "seed $seed: no retries counted"
	# Without faults the next run completes every symbol, value for value.
	fakex_ctl 'faults?reset=1' >/dev/null
	ck -q --symbols "${syms// /,}" --history-days 200 --page-limit 100 sync >"$T/out2" 2>&1 ||
		{ cat "$T/out2"; fail "seed $seed: clean sync failed"; }
	for s in $syms; do check_exact "$s"; done
	fakex_stop
done
echo ok
