#!/bin/sh
# bench/archive.sh BUILD_DIR — backfill from the public archive beside the REST backfill,
# same fakex (synthetic market, loopback), same run: candles/s of each and the ratio.
#  1. 60 symbols x 2 years of 4h;  2. 5 symbols x 1 year of 1m.
# REST runs with fakex's weight limit raised (--weight-limit) so that both measure
# transfer and storage, not the exchange's weight budget (which makes REST slower still);
# then both again with fakex enforcing the real exchange's limit (USD-M futures: 2400
# weight a minute per IP, a klines page of 1500 candles weighs 10; the run's budget reset
# before each), printed on a line of their own beside the unlimited figures. That REST
# figure is what a backfill from the real exchange can reach; the 1m run waits for the
# weight minutes (5 symbols x 1 year of 1m: the REST run took 243 s in one run).
# BENCH_LIMITED=0 leaves the limited runs out.
# The archive run includes its REST tail and cross-check samples, and is measured after
# a warm-up run (fakex builds each file once). REST pays fakex's candle generation on
# every page (synthetic candles are computed per request), which the real exchange does not.
# Beside the wall time: candlekeep's CPU time (user + system, from BUILD_DIR/bench/runrss,
# which bench/run.sh builds) and fakex's, since on a shared machine the wall time moves
# with the load; and the store's ceiling: SQLite's raw insert rate of one symbol's rows
# of the 1m run (BUILD_DIR/bench/rawinsert: same schema and journal settings, one
# prepared INSERT, 50000-row transactions), which no path that stores candles exceeds;
# beside it, what 10x the 4h REST rate would be, as a multiple of that ceiling.
# Not a test: nothing here fails on a number. BENCH_QUICK=1: 6 symbols x 6 months of 4h,
# 1 symbol x 1 month of 1m; BENCH_N4/BENCH_DAYS4/BENCH_N1/BENCH_DAYS1 set the sizes.
set -eu
B=$1
CK="$B/candlekeep"
FAKEX="$B/fakex"
RUNRSS="$B/bench/runrss"
RAWINSERT="$B/bench/rawinsert"
[ -x "$RUNRSS" ] && [ -x "$RAWINSERT" ] || { echo "bench: run bench/run.sh (it builds $B/bench)" >&2; exit 1; }
TCK=$(getconf CLK_TCK)
W=$(mktemp -d "${TMPDIR:-/tmp}/ck-bench-archive.XXXXXX")
FXPID=
cleanup() { [ -n "$FXPID" ] && kill "$FXPID" 2>/dev/null; wait 2>/dev/null; rm -rf "$W"; }
trap cleanup EXIT INT TERM

NOW=1767225600000   # 2026-01-01 00:00 UTC
START=1704067200000 # 2024-01-01: the synthetic market starts here
N4=60; DAYS4=730; N1=5; DAYS1=365
LIMIT=2400 # the exchange's request weight per minute (USD-M futures)
[ -n "${BENCH_QUICK:-}" ] && { N4=6; DAYS4=182; N1=1; DAYS1=31; }
N4=${BENCH_N4:-$N4}; DAYS4=${BENCH_DAYS4:-$DAYS4}; N1=${BENCH_N1:-$N1}; DAYS1=${BENCH_DAYS1:-$DAYS1}
syms() { i=0; while [ "$i" -lt "$1" ]; do printf 'SYN%03dUSDT,' "$i"; i=$((i + 1)); done | sed 's/,$//'; }

"$FAKEX" --synthetic "$(( N4 > N1 ? N4 : N1 ))" --synthetic-start "$START" --now "$NOW" --weight-limit 100000000 \
	--port 0 --port-file "$W/port" >"$W/fakex.log" 2>&1 &
FXPID=$!
i=0
while [ ! -s "$W/port" ] && [ $i -lt 200 ]; do sleep 0.05; i=$((i + 1)); done
[ -s "$W/port" ] || { cat "$W/fakex.log" >&2; echo "bench: fakex did not start" >&2; exit 1; }
URL="http://127.0.0.1:$(cat "$W/port")"
since() { date -u -d "@$(( (NOW / 1000) - $1 * 86400 ))" +%Y-%m-%d; }

# ctl_weight N: fakex enforces N weight a minute from now on, this minute's use reset.
ctl_weight() { curl -fsS -m 5 -X POST "$URL/_ctl/weight?used=0&limit=$1" >/dev/null; }

# fakex's CPU seconds so far (user + system, Linux /proc).
fakex_cpu() { awk -v t="$TCK" '{ printf "%.2f", ($14 + $15) / t }' "/proc/$FXPID/stat"; }

# run NAME ENABLED INTERVAL SYMBOLS DAYS: prints candles, seconds, candles/s, candlekeep's
# CPU seconds, fakex's CPU seconds.
run() {
	db="$W/$1.db"
	rm -f "$db" "$db-wal" "$db-shm"
	f0=$(fakex_cpu)
	CANDLEKEEP_ARCHIVE_ENABLED=$2 "$RUNRSS" "$CK" -q --db "$db" --base-url "$URL" --archive-url "$URL" \
		--interval "$3" --symbols "$4" backfill --since "$(since "$5")" >"$W/$1.out" 2>"$W/$1.err" ||
		{ cat "$W/$1.out" "$W/$1.err" >&2; echo "bench: $1 failed" >&2; exit 1; }
	f1=$(fakex_cpu)
	n=$(sqlite3 "$db" "select count(*) from candles")
	s=$(sed -n 's/.*elapsed_s=\([0-9.]*\).*/\1/p' "$W/$1.err" | tail -1)
	c=$(sed -n 's/.*cpu_s=\([0-9.]*\).*/\1/p' "$W/$1.err" | tail -1)
	echo "$n $s $c $f0 $f1" | awk '{ printf "%d %.2f %.0f %.2f %.2f\n", $1, $2, $1 / $2, $3, $5 - $4 }'
}

report() { # WHAT ARCHIVE_LINE REST_LINE
	set -- "$1" $2 $3
	echo "$1: archive $2 candles in $3 s = $4 candles/s; REST $7 candles in $8 s = $9 candles/s;" \
		"archive/REST $(echo "$4 $9" | awk '{ printf "%.1f", $1 / $2 }')x"
	echo "  CPU: candlekeep $5 s archive, ${10} s REST ($(echo "$2 $5 $7 ${10}" |
		awk '{ printf "%.0f vs %.0f candles per CPU second", $1 / $2, $3 / $4 }')); fakex $6 s archive, ${11} s REST"
	# issue 17's goal: >= 10x REST and >= 200k candles/s.
	echo "$4 $9" | awk '{ printf "  target archive/REST >= 10x: %.1fx (%.2f of the target); archive >= 200000 candles/s: %d (%.2f of the target)\n", $1 / $2, $1 / $2 / 10, $1, $1 / 200000 }'
}
# The same pair under the exchange's real weight limit: WHAT ARCHIVE_LINE REST_LINE.
report_limited() {
	set -- "$1" $2 $3
	echo "  at the exchange's weight limit ($LIMIT/min, fakex enforcing it): archive $2 candles in $3 s" \
		"= $4 candles/s; REST $7 candles in $8 s = $9 candles/s; archive/REST" \
		"$(echo "$4 $9" | awk '{ printf "%.1f", $1 / $2 }')x"
}
# limited NAME ENABLED INTERVAL SYMBOLS DAYS: run under the real limit, then unlimited again.
limited() {
	ctl_weight "$LIMIT"
	run "$@"
	ctl_weight 100000000
}
# A first archive run builds fakex's files (kept from then on, as the real archive's
# static files are); the measured runs start from an empty database each.
run warm4 true 4h "$(syms "$N4")" "$DAYS4" >/dev/null
run warm1 true 1m "$(syms "$N1")" "$DAYS1" >/dev/null
a=$(run a4 true 4h "$(syms "$N4")" "$DAYS4")
r=$(run r4 false 4h "$(syms "$N4")" "$DAYS4")
report "archive 4h, $N4 symbols x $DAYS4 days" "$a" "$r"
rest4=$(echo "$r" | awk '{ print $3 }')
if [ "${BENCH_LIMITED:-1}" != 0 ]; then
	a=$(limited a4w true 4h "$(syms "$N4")" "$DAYS4")
	r=$(limited r4w false 4h "$(syms "$N4")" "$DAYS4")
	report_limited "4h" "$a" "$r"
fi
a=$(run a1 true 1m "$(syms "$N1")" "$DAYS1")
r=$(run r1 false 1m "$(syms "$N1")" "$DAYS1")
report "archive 1m, $N1 symbols x $DAYS1 days" "$a" "$r"
if [ "${BENCH_LIMITED:-1}" != 0 ]; then
	a=$(limited a1w true 1m "$(syms "$N1")" "$DAYS1")
	r=$(limited r1w false 1m "$(syms "$N1")" "$DAYS1")
	report_limited "1m" "$a" "$r"
fi
# The store's ceiling: SQLite's raw insert of the first symbol's 1m rows.
sqlite3 -csv "$W/a1.db" "select open_time, open, high, low, close, volume, close_time, quote_volume,
	trades, taker_buy_base, taker_buy_quote, 0 from candles where symbol = 'SYN000USDT'
	order by open_time" >"$W/raw.csv"
rm -f "$W/raw.db"
"$RAWINSERT" "$W/raw.db" "$W/raw.csv" SYN000USDT 1m 50000 >"$W/raw" || exit 1
ceil=$(sed -n 's/.*rows_per_s=\([0-9]*\).*/\1/p' "$W/raw")
echo "  store ceiling: SQLite's raw insert of the same 1m rows (one symbol): $ceil rows/s"
# 10x a REST backfill that already stores at a good part of that ceiling is beyond any
# path that stores candles: what the 4h goal would take, beside the ceiling.
echo "$rest4 $ceil" | awk '$2 > 0 { printf "  4h: REST stored %d candles/s (%.2f of that ceiling); 10x REST would be %d candles/s, %.1fx the ceiling\n", $1, $1 / $2, 10 * $1, 10 * $1 / $2 }'

