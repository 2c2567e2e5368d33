#!/bin/sh
# bench/backfill.sh BUILD_DIR — the loopback REST backfill at scale (issue 16): 600
# synthetic symbols x 6 months of 4h candles from fakex (no added latency, its weight
# limit raised so the budget does not pace it), archive disabled: candles/s end to end
# (parse, validate, store) and the peak RSS, each beside its target. Not a test: nothing
# here fails on a number. BENCH_QUICK=1: 60 symbols; BENCH_NSYM / BENCH_DAYS set the sizes.
set -eu
B=$1
CK="$B/candlekeep"
FAKEX="$B/fakex"
RUNRSS="$B/bench/runrss"
W=$(mktemp -d "${TMPDIR:-/tmp}/ck-bench-backfill.XXXXXX")
FXPID=
cleanup() { [ -n "$FXPID" ] && kill "$FXPID" 2>/dev/null; wait 2>/dev/null; rm -rf "$W"; }
trap cleanup EXIT INT TERM

NOW=1767225600000 # 2026-01-01 00:00 UTC
NSYM=600; DAYS=184
[ -n "${BENCH_QUICK:-}" ] && NSYM=60
NSYM=${BENCH_NSYM:-$NSYM}; DAYS=${BENCH_DAYS:-$DAYS}
SYMS=$(i=0; while [ "$i" -lt "$NSYM" ]; do printf 'SYN%03dUSDT,' "$i"; i=$((i + 1)); done | sed 's/,$//')

"$FAKEX" --synthetic "$NSYM" --synthetic-start 1704067200000 --now "$NOW" --weight-limit 100000000 \
	--port 0 --port-file "$W/port" >"$W/fakex.log" 2>&1 &
FXPID=$!
i=0
while [ ! -s "$W/port" ] && [ $i -lt 200 ]; do sleep 0.05; i=$((i + 1)); done
[ -s "$W/port" ] || { cat "$W/fakex.log" >&2; echo "bench: fakex did not start" >&2; exit 1; }
URL="http://127.0.0.1:$(cat "$W/port")"
since=$(date -u -d "@$(( NOW / 1000 - DAYS * 86400 ))" +%Y-%m-%d)

CANDLEKEEP_ARCHIVE_ENABLED=false "$RUNRSS" "$CK" -q --db "$W/b.db" --base-url "$URL" --symbols "$SYMS" \
	backfill --since "$since" --no-progress >"$W/out" 2>"$W/rss" || { cat "$W/out" "$W/rss" >&2; exit 1; }
t=$(sed -n 's/.*elapsed_s=\([0-9.]*\).*/\1/p' "$W/rss")
rss=$(sed -n 's/.*maxrss_kb=\([0-9]*\).*/\1/p' "$W/rss")
n=$(sqlite3 "$W/b.db" 'select count(*) from candles')
req=$(sed -n 's/.* \([0-9]*\) requests.*/\1/p' "$W/out")
echo
echo "loopback backfill: $NSYM symbols x $DAYS days of 4h candles (REST only, $req requests)"
printf '  candles                   %8d in %.2f s\n' "$n" "$t"
awk -v n="$n" -v t="$t" 'BEGIN { printf "  rate                      %8.0f candles/s  (target >= 200000: %.2f of it)\n", n / t, n / t / 200000 }'
awk -v k="$rss" 'BEGIN { printf "  peak RSS                  %8.1f MB         (target <= 64 MB: %.2f of it)\n", k / 1024, k / 1024 / 64 }'
