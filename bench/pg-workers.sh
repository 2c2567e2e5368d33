#!/bin/sh
# bench/pg-workers.sh BUILD_DIR — scale-out on PostgreSQL (docs/scale-out.md): 1, 2 and
# 3 `sync` workers at once on one database, each against a fakex of its own (its own
# IP, so its own weight budget of 2400 per minute), 50 ms latency per request. Each
# configuration syncs NSYM synthetic symbols x DAYS days of 4h candles into a fresh
# database; the workers split the symbols by work claims. Prints the wall time, the
# candles stored, candles/s and the ratio to one worker, and the kline requests (the
# sum over the workers' fakexes: none fetched twice means about the same count).
# Starts a private PostgreSQL 15 in a temporary directory (initdb + pg_ctl; as the user
# nobody when run as root); without a PostgreSQL 15 server it says so and exits 0.
# Each configuration starts with every fakex's weight used this minute reset to 0, so that
# an earlier configuration's requests do not make a later one wait. Beside the rate: how
# busy the machine's CPUs were during the run (all processes: the workers, the fakexes and
# PostgreSQL share them), which tells a CPU-bound run from one that waits on the network.
# Then what the stored history costs a steady-state sync on PostgreSQL (bench/ledger.sh
# measures it on SQLite, where the coverage ledger makes planning O(symbols)): the same
# NSYM symbols, one new 4h candle each, 50 ms latency, from a database of 3 days against
# one of BIG_DAYS days (median of 3 runs each, alternating; each run one candle later).
# PostgreSQL keeps no coverage ledger, so planning scans each symbol's candles for gaps
# and the run's end counts the interval's candles: the ratio grows with the history.
# Environment: BENCH_QUICK=1 shrinks the workload; BENCH_NSYM and BENCH_DAYS set it;
# PG_BIN (default /usr/lib/postgresql/15/bin).
set -eu
export CANDLEKEEP_ARCHIVE_ENABLED=false
B=$1
CK="$B/candlekeep"
FAKEX="$B/fakex"
PG_BIN=${PG_BIN:-/usr/lib/postgresql/15/bin}
if [ ! -x "$PG_BIN/initdb" ] || ! command -v psql >/dev/null 2>&1; then
	echo
	echo "pg-workers: skipped (no PostgreSQL 15 server in $PG_BIN: scripts/deps.sh test installs it)"
	exit 0
fi
W=$(mktemp -d "${TMPDIR:-/tmp}/ck-bench-pg.XXXXXX")
FXPIDS=
AS=
[ "$(id -u)" -eq 0 ] && AS="runuser -u nobody --"
cleanup() {
	for p in $FXPIDS; do kill "$p" 2>/dev/null || true; done
	[ -f "$W/pg/postmaster.pid" ] && $AS "$PG_BIN/pg_ctl" -D "$W/pg" -m immediate -w stop >/dev/null 2>&1
	wait 2>/dev/null
	rm -rf "$W"
}
trap cleanup EXIT INT TERM

NOW=1767225600000 # 2026-01-01 00:00 UTC
NSYM=48; DAYS=365; LAT=50
[ -n "${BENCH_QUICK:-}" ] && { NSYM=12; DAYS=60; }
NSYM=${BENCH_NSYM:-$NSYM}; DAYS=${BENCH_DAYS:-$DAYS}
BIG_DAYS=1334
[ -n "${BENCH_QUICK:-}" ] && BIG_DAYS=365
SYMS=$(i=0; while [ $i -lt $NSYM ]; do printf 'SYN%03dUSDT,' $i; i=$((i + 1)); done | sed 's/,$//')

# ---- the server ----
mkdir -p "$W/pg" "$W/sock"
if [ -n "$AS" ]; then chmod 711 "$W"; chown nobody "$W/pg" "$W/sock"; fi
$AS "$PG_BIN/initdb" -D "$W/pg" -A trust -U ck -E UTF8 --locale=C.UTF-8 >"$W/initdb.log" 2>&1 ||
	{ cat "$W/initdb.log" >&2; exit 1; }
PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
$AS "$PG_BIN/pg_ctl" -D "$W/pg" -l "$W/sock/server.log" -w -t 60 \
	-o "-k $W/sock -p $PORT -c listen_addresses=127.0.0.1" start >/dev/null 2>&1 ||
	{ cat "$W/sock/server.log" >&2; exit 1; }
psqlc() { psql -X -q -A -t -v ON_ERROR_STOP=1 -h 127.0.0.1 -p "$PORT" -U ck -d "$1" -c "$2"; }

# fakex N: the N-th fake exchange (its own weight budget); its URL in $W/url.N
fakex() {
	rm -f "$W/port.$1"
	"$FAKEX" --synthetic "$NSYM" --now "$NOW" --latency-ms "$LAT" --port 0 --port-file "$W/port.$1" \
		--request-log "$W/req.$1" >"$W/fakex.$1.log" 2>&1 &
	FXPIDS="$FXPIDS $!"
	i=0
	while [ ! -s "$W/port.$1" ] && [ $i -lt 200 ]; do sleep 0.05; i=$((i + 1)); done
	[ -s "$W/port.$1" ] || { cat "$W/fakex.$1.log" >&2; echo "bench: fakex did not start" >&2; exit 1; }
	echo "http://127.0.0.1:$(cat "$W/port.$1")" >"$W/url.$1"
}
for n in 1 2 3; do fakex $n; done
now_s() { date +%s.%N; }
# cpu_ticks: busy and total jiffies of all CPUs so far (Linux /proc/stat)
cpu_ticks() { awk '/^cpu / { t = 0; for (i = 2; i <= NF; i++) t += $i; print t - $5 - $6, t }' /proc/stat; }

echo
echo "scale-out on PostgreSQL: $NSYM symbols x $DAYS days of 4h candles into an empty database,"
echo "one fakex per worker (2400 weight/min each), ${LAT} ms latency per request"
printf '  %-8s %9s %9s %12s %9s %9s %9s\n' workers time candles candles/s ratio klines "CPU busy"
base=
for n in 1 2 3; do
	db=w$n
	psqlc postgres "CREATE DATABASE $db" >/dev/null
	url="postgresql://ck@127.0.0.1:$PORT/$db"
	# the schema first, so that the timed runs measure the sync alone
	"$CK" --db "$url" -q --symbols SYN000USDT --history-days 1 gaps >/dev/null 2>&1 || true
	for k in 1 2 3; do
		: >"$W/req.$k"
		curl -fsS -m 5 -X POST "$(cat "$W/url.$k")/_ctl/weight?used=0" >/dev/null
	done
	c0=$(cpu_ticks)
	t0=$(now_s)
	k=1
	pids=
	while [ $k -le $n ]; do
		"$CK" --db "$url" --base-url "$(cat "$W/url.$k")" -q --symbols "$SYMS" \
			--history-days "$DAYS" sync >"$W/out.$n.$k" 2>&1 &
		pids="$pids $!"
		k=$((k + 1))
	done
	for p in $pids; do wait "$p" || { cat "$W"/out.$n.* >&2; echo "bench: a worker failed" >&2; exit 1; }; done
	t1=$(now_s)
	c1=$(cpu_ticks)
	c=$(psqlc "$db" "select count(*) from candles")
	kl=$(cat "$W"/req.1 "$W"/req.2 "$W"/req.3 | grep -c '/fapi/v1/klines' || true)
	t=$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.2f", b - a }')
	rate=$(awk -v c="$c" -v t="$t" 'BEGIN { printf "%.0f", c / t }')
	[ -n "$base" ] || base=$rate
	busy=$(echo "$c0 $c1" | awk '{ if ($4 > $2) printf "%.0f%%", 100 * ($3 - $1) / ($4 - $2); else print "-" }')
	# The one-worker run's CPU time (every process on the machine: the worker, its
	# fakex, PostgreSQL) spread over all the CPUs is the least time any number of
	# workers sharing them needs for the same work: 1 / (how busy they were).
	[ "$n" = 1 ] && ceiling=$(echo "$c0 $c1" | awk '{
		if ($4 > $2 && $3 > $1) printf "%.2f", ($4 - $2) / ($3 - $1); else print "-" }')
	printf '  %-8s %8ss %9d %12d %8.2fx %9d %9s\n' "$n" "$t" "$c" "$rate" \
		"$(awk -v r="$rate" -v b="$base" 'BEGIN { print r / b }')" "$kl" "$busy"
done
echo "  CPU ceiling on these $(nproc) CPUs: ${ceiling}x one worker's rate (the 1-worker run's CPU time,"
echo "  all processes, spread over every CPU: no number of workers sharing them can beat it)"

# ---- the stored history's cost on PostgreSQL ----
url1=$(cat "$W/url.1")
curl -fsS -m 5 -X POST "$url1/_ctl/weight?used=0&limit=100000000" >/dev/null
for size in small big; do
	if [ $size = small ]; then days=3; else days=$BIG_DAYS; fi
	psqlc postgres "CREATE DATABASE $size" >/dev/null
	"$CK" --db "postgresql://ck@127.0.0.1:$PORT/$size" --base-url "$url1" -q --symbols "$SYMS" \
		--history-days "$days" sync >"$W/init.$size" 2>&1 || { cat "$W/init.$size" >&2; exit 1; }
	: >"$W/times.$size"
done
export CANDLEKEEP_SYNC_VERIFY_DAYS=0 # as bench/ledger.sh: planning's cost, not re-verification
r=0
while [ $r -lt 3 ]; do
	curl -fsS -m 5 -X POST "$url1/_ctl/clock?advance=14400000" >/dev/null
	for size in small big; do
		t0=$(now_s)
		"$CK" --db "postgresql://ck@127.0.0.1:$PORT/$size" --base-url "$url1" -q --symbols "$SYMS" \
			sync >"$W/steady.$size" 2>&1 || { cat "$W/steady.$size" >&2; exit 1; }
		t1=$(now_s)
		grep -q "sync ok: $NSYM symbols ($NSYM ok" "$W/steady.$size" ||
			{ cat "$W/steady.$size" >&2; echo "bench: steady-state sync did not complete" >&2; exit 1; }
		awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.3f\n", b - a }' >>"$W/times.$size"
	done
	r=$((r + 1))
done
median() { sort -n | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }
ns=$(psqlc small "select count(*) from candles"); nb=$(psqlc big "select count(*) from candles")
ts=$(median <"$W/times.small"); tb=$(median <"$W/times.big")
echo
echo "steady-state sync against the stored history on PostgreSQL (no coverage ledger): $NSYM symbols,"
echo "one new 4h candle each, ${LAT} ms latency per request (median of 3)"
printf '  %8d candles stored      %8.2f s\n' "$ns" "$ts"
printf '  %8d candles stored      %8.2f s\n' "$nb" "$tb"
awk -v a="$tb" -v b="$ts" 'BEGIN { printf "  ratio (SQLite with its ledger: bench/ledger.sh, target <= 1.3x)  %.2fx\n", a / b }'
