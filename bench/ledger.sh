#!/bin/sh
# bench/ledger.sh BUILD_DIR — what the stored history costs a sync (the coverage
# ledger's target: <= 1.3x). The same steady-state sync as bench/sync.sh (fakex's
# synthetic market, 60 symbols SYN000USDT..SYN059USDT, two new 4h candles each, 50 ms
# latency per request, default concurrency; median of 3 runs, each from a copy of the
# same starting database) from a database holding ~1.2k candles (3 days) and from one
# holding ~480k (1334 days); prints both times, their requests and the ratio. The
# rolling re-verification of older history is off ([sync] verify_days 0): it would
# send the big database's run requests the small one's cannot have (its history is
# shorter than the window), and the question here is what planning costs.
set -eu
# REST only (the public archive is another bench), and no weight wait while the
# starting databases fill.
export CANDLEKEEP_ARCHIVE_ENABLED=false
B=$1
CK="$B/candlekeep"
FAKEX="$B/fakex"
RUNRSS="$B/bench/runrss"
W=$(mktemp -d "${TMPDIR:-/tmp}/ck-bench.XXXXXX")
FXPID=
cleanup() { [ -n "$FXPID" ] && kill "$FXPID" 2>/dev/null; wait 2>/dev/null; rm -rf "$W"; }
trap cleanup EXIT INT TERM

H4=14400000
NOW=1767225600000 # 2026-01-01 00:00 UTC
NSYM=60; REPS=3; SMALL_DAYS=3; BIG_DAYS=1334
[ -n "${BENCH_QUICK:-}" ] && { NSYM=6; REPS=1; BIG_DAYS=365; }
SYMS=$(i=0; while [ $i -lt $NSYM ]; do printf 'SYN%03dUSDT,' $i; i=$((i + 1)); done | sed 's/,$//')

rm -f "$W/port"
"$FAKEX" --synthetic "$NSYM" --now "$NOW" --weight-limit 100000000 --port 0 --port-file "$W/port" >"$W/fakex.log" 2>&1 &
FXPID=$!
i=0
while [ ! -s "$W/port" ] && [ $i -lt 200 ]; do sleep 0.05; i=$((i + 1)); done
[ -s "$W/port" ] || { cat "$W/fakex.log" >&2; echo "bench: fakex did not start" >&2; exit 1; }
URL="http://127.0.0.1:$(cat "$W/port")"
ctl() { curl -fsS -m 5 -X POST "$URL/_ctl/$1" >/dev/null; }
median() { sort -n | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }
secs() { sed -n 's/.*elapsed_s=\([0-9.]*\).*/\1/p' "$1"; }

# The two starting databases, at the exchange's present.
for size in small big; do
	if [ $size = small ]; then days=$SMALL_DAYS; else days=$BIG_DAYS; fi
	"$CK" --db "$W/$size.db" --base-url "$URL" -q --symbols "$SYMS" --history-days "$days" \
		sync >"$W/init.$size" 2>&1 || { cat "$W/init.$size" >&2; exit 1; }
done
ctl "clock?advance=$((2 * H4))"
ctl "faults?latency_ms=50"
export CANDLEKEEP_SYNC_VERIFY_DAYS=0
for size in small big; do
	: >"$W/times.$size"
	r=0
	while [ $r -lt $REPS ]; do
		rm -f "$W/s.db" "$W/s.db-wal" "$W/s.db-shm"
		sqlite3 "$W/$size.db" ".backup '$W/s.db'"
		"$RUNRSS" "$CK" --db "$W/s.db" --base-url "$URL" -q --symbols "$SYMS" sync \
			>"$W/out.$size" 2>"$W/rss.$size" || { cat "$W/out.$size" "$W/rss.$size" >&2; exit 1; }
		grep -q "sync ok: $NSYM symbols ($NSYM ok" "$W/out.$size" ||
			{ cat "$W/out.$size" >&2; echo "bench: steady-state sync did not complete" >&2; exit 1; }
		secs "$W/rss.$size" >>"$W/times.$size"
		r=$((r + 1))
	done
done
ns=$(sqlite3 "$W/small.db" 'select count(*) from candles')
nb=$(sqlite3 "$W/big.db" 'select count(*) from candles')
ts=$(median <"$W/times.small"); tb=$(median <"$W/times.big")
wr=$(sed -n 's/.* \([0-9]*\) candles written.*/\1/p' "$W/out.big")
rs=$(sed -n 's/.* \([0-9]*\) requests.*/\1/p' "$W/out.small")
rb=$(sed -n 's/.* \([0-9]*\) requests.*/\1/p' "$W/out.big")
echo
echo "steady-state sync against the stored history: $NSYM symbols, $wr new candles, 50 ms latency per request (median of $REPS)"
printf '  %8d candles stored      %8.2f s  (%d requests)\n' "$ns" "$ts" "$rs"
printf '  %8d candles stored      %8.2f s  (%d requests)\n' "$nb" "$tb" "$rb"
awk -v a="$tb" -v b="$ts" 'BEGIN { printf "  ratio (target <= 1.3x)     %8.2fx\n", a / b }'
