#!/bin/sh
# bench/sync.sh BUILD_DIR — sync figures against fakex's synthetic market:
#  1. steady state: 60 symbols (SYN000USDT..SYN059USDT), two new 4h candles each, 50 ms
#     latency per request; default concurrency vs --concurrency 1 (the older design's
#     sequential loop; median of 3 runs each, same starting database every time); the ratio.
#  2. backfill of 2 years of 60 symbols into an empty database: candles/s against the
#     sustained ceiling the weight limit allows, and peak RSS.
#  3. the weight budget binding: fakex allows 300 weight a minute; a backfill of 30
#     symbols x 1 year needs more than a minute of it: the peak weight used in a minute
#     against the limit (target <= 95%), the 429s (target 0), and candles/s against the
#     ceiling that limit allows (skipped with BENCH_QUICK; up to a minute of waiting).
set -eu
# Nothing here reaches the internet: the public archive is off (bench/archive.sh
# measures it against fakex).
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
DAY=86400000
NOW=1767225600000     # 2026-01-01 00:00 UTC
NSYM=60; REPS=3; YEARS=2
[ -n "${BENCH_QUICK:-}" ] && { NSYM=6; REPS=1; YEARS=1; }
SYMS=$(i=0; while [ $i -lt $NSYM ]; do printf 'SYN%03dUSDT,' $i; i=$((i + 1)); done | sed 's/,$//')

fakex() {
	rm -f "$W/port"
	"$FAKEX" --synthetic "$NSYM" --now "$NOW" --port 0 --port-file "$W/port" "$@" >"$W/fakex.log" 2>&1 &
	FXPID=$!
	i=0
	while [ ! -s "$W/port" ] && [ $i -lt 200 ]; do sleep 0.05; i=$((i + 1)); done
	[ -s "$W/port" ] || { cat "$W/fakex.log" >&2; echo "bench: fakex did not start" >&2; exit 1; }
	URL="http://127.0.0.1:$(cat "$W/port")"
}
ctl() { curl -fsS -m 5 -X POST "$URL/_ctl/$1" >/dev/null; }
ck() { "$CK" --db "$1" --base-url "$URL" -q --symbols "$SYMS" "$@"; }
median() { sort -n | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }
secs() { sed -n 's/.*elapsed_s=\([0-9.]*\).*/\1/p' "$1"; }

# ---- 1. steady state ----
fakex
"$CK" --db "$W/base.db" --base-url "$URL" -q --symbols "$SYMS" --history-days 30 sync >/dev/null 2>&1 || { echo "bench: the first sync failed" >&2; exit 1; }
ctl "clock?advance=$((2 * H4))"
ctl "faults?latency_ms=50"
for mode in default one; do
	: >"$W/times.$mode"
	r=0
	while [ $r -lt $REPS ]; do
		rm -f "$W/s.db" "$W/s.db-wal" "$W/s.db-shm"
		sqlite3 "$W/base.db" ".backup '$W/s.db'"
		if [ $mode = one ]; then extra="--concurrency 1"; else extra=""; fi
		# shellcheck disable=SC2086
		"$RUNRSS" "$CK" --db "$W/s.db" --base-url "$URL" -q --symbols "$SYMS" $extra sync \
			>"$W/out.$mode" 2>"$W/rss.$mode" || { cat "$W/out.$mode" "$W/rss.$mode" >&2; exit 1; }
		grep -q "sync ok: $NSYM symbols ($NSYM ok" "$W/out.$mode" ||
			{ cat "$W/out.$mode" >&2; echo "bench: steady-state sync did not complete" >&2; exit 1; }
		secs "$W/rss.$mode" >>"$W/times.$mode"
		r=$((r + 1))
	done
done
td=$(median <"$W/times.default"); t1=$(median <"$W/times.one")
req=$(sed -n 's/.* \([0-9]*\) requests.*/\1/p' "$W/out.default")
wr=$(sed -n 's/.* \([0-9]*\) candles written.*/\1/p' "$W/out.default")
echo
echo "steady-state sync: $NSYM symbols, $wr new candles, $req requests, 50 ms latency per request (median of $REPS)"
printf '  default concurrency (64)  %8.2f s\n' "$td"
printf '  --concurrency 1           %8.2f s\n' "$t1"
awk -v a="$t1" -v b="$td" 'BEGIN { printf "  speed-up                  %8.1fx\n", a / b }'
kill "$FXPID"; wait "$FXPID" 2>/dev/null || true; FXPID=

# ---- 2. backfill ----
fakex
since=$((NOW - YEARS * 365 * DAY))
"$RUNRSS" "$CK" --db "$W/b.db" --base-url "$URL" -q --symbols "$SYMS" backfill --since "$since" --no-progress \
	>"$W/bout" 2>"$W/brss" || { cat "$W/bout" "$W/brss" >&2; exit 1; }
bt=$(secs "$W/brss")
rss=$(sed -n 's/.*maxrss_kb=\([0-9]*\).*/\1/p' "$W/brss")
n=$(sqlite3 "$W/b.db" 'select count(*) from candles')
breq=$(sed -n 's/.* \([0-9]*\) requests.*/\1/p' "$W/bout")
size=$(du -k "$W/b.db" | cut -f1)
echo
echo "backfill: $NSYM symbols x $YEARS years of 4h candles from fakex (no added latency)"
printf '  candles                   %8d\n' "$n"
printf '  requests                  %8d\n' "$breq"
printf '  time                      %8.2f s\n' "$bt"
awk -v n="$n" -v t="$bt" 'BEGIN { printf "  rate                      %8.0f candles/s\n", n / t }'
# The sustained rate the weight limit allows: fakex reports 2400/min in exchangeInfo,
# candlekeep keeps a 10% reserve and asks 1500 candles at weight 10 per request.
awk 'BEGIN { printf "  weight ceiling            %8.0f candles/s sustained (2400/min, 10%% reserve, 1500/page at weight 10)\n", 2400 * 0.9 / 10 * 1500 / 60 }'
printf '  peak RSS                  %8.1f MB\n' "$(echo "$rss" | awk '{ print $1 / 1024 }')"
printf '  database                  %8.1f MB\n' "$(echo "$size" | awk '{ print $1 / 1024 }')"

# ---- 3. the weight budget binding ----
[ -n "${BENCH_QUICK:-}" ] && exit 0
kill "$FXPID"; wait "$FXPID" 2>/dev/null || true; FXPID=
WL=300; WSYM=30
WSYMS=$(i=0; while [ $i -lt $WSYM ]; do printf 'SYN%03dUSDT,' $i; i=$((i + 1)); done | sed 's/,$//')
fakex --weight-limit "$WL"
"$RUNRSS" "$CK" --db "$W/w.db" --base-url "$URL" -q --symbols "$WSYMS" backfill --since "$((NOW - 365 * DAY))" \
	--no-progress >"$W/wout" 2>"$W/wrss" || { cat "$W/wout" "$W/wrss" >&2; exit 1; }
wt=$(secs "$W/wrss")
wn=$(sqlite3 "$W/w.db" 'select count(*) from candles')
wpeak=$(sqlite3 "$W/w.db" "select weight_used_max from runs where command = 'backfill' order by id desc limit 1")
w429=$(sqlite3 "$W/w.db" "select http_429 + http_418 from runs where command = 'backfill' order by id desc limit 1")
wreq=$(sed -n 's/.* \([0-9]*\) requests.*/\1/p' "$W/wout")
echo
echo "weight budget: backfill of $WSYM symbols x 1 year of 4h candles, fakex allowing $WL weight a minute"
printf '  candles                   %8d in %.2f s (%d requests)\n' "$wn" "$wt" "$wreq"
awk -v p="$wpeak" -v l="$WL" 'BEGIN { printf "  peak weight in a minute   %8d of %d (%.0f%%; target <= 95%%)\n", p, l, 100 * p / l }'
printf '  HTTP 429/418 answers      %8d         (target 0)\n' "$w429"
# The ceiling: the weight limit less candlekeep's 10% reserve, at 499 candles a request
# of weight 2 (the page size chosen when the plan does not fit a minute's budget).
awk -v n="$wn" -v t="$wt" -v l="$WL" 'BEGIN { c = l * 0.9 / 2 * 499 / 60;
	printf "  rate                      %8.0f candles/s against a sustained ceiling of %.0f (%.2f of it;\n", n / t, c, n / t / c
	printf "                            a run this short is mostly the first minute'"'"'s budget spent at once)\n" }'
