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
# Environment: BENCH_QUICK=1 shrinks the workload; PG_BIN (default
# /usr/lib/postgresql/15/bin).
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

echo
echo "scale-out on PostgreSQL: $NSYM symbols x $DAYS days of 4h candles into an empty database,"
echo "one fakex per worker (2400 weight/min each), ${LAT} ms latency per request"
printf '  %-8s %9s %9s %12s %9s %9s\n' workers time candles candles/s ratio klines
base=
for n in 1 2 3; do
	db=w$n
	psqlc postgres "CREATE DATABASE $db" >/dev/null
	url="postgresql://ck@127.0.0.1:$PORT/$db"
	# the schema first, so that the timed runs measure the sync alone
	"$CK" --db "$url" -q --symbols SYN000USDT --history-days 1 gaps >/dev/null 2>&1 || true
	for k in 1 2 3; do : >"$W/req.$k"; done
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
	c=$(psqlc "$db" "select count(*) from candles")
	kl=$(cat "$W"/req.1 "$W"/req.2 "$W"/req.3 | grep -c '/fapi/v1/klines' || true)
	t=$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.2f", b - a }')
	rate=$(awk -v c="$c" -v t="$t" 'BEGIN { printf "%.0f", c / t }')
	[ -n "$base" ] || base=$rate
	printf '  %-8s %8ss %9d %12d %8.2fx %9d\n' "$n" "$t" "$c" "$rate" \
		"$(awk -v r="$rate" -v b="$base" 'BEGIN { print r / b }')" "$kl"
done
