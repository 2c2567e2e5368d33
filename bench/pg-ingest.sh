#!/bin/sh
# bench/pg-ingest.sh BUILD_DIR — `candlekeep import` of 1,000,000 candles (the CSV of
# bench/import.sh: one 12-column Binance-format file of 1m candles) into PostgreSQL and,
# in the same run, into SQLite: candles/s of each and their ratio; then a second import
# of the same file into PostgreSQL (every row unchanged: read and compared, nothing
# written). The server is a private PostgreSQL (PG_BIN, default /usr/lib/postgresql/15/
# bin) in a temp dir on a loopback port, with fsync off as in the tests. As root the
# server runs as the user nobody. Not a test: nothing here fails on a number.
set -eu
export CANDLEKEEP_ARCHIVE_ENABLED=false
B=$(cd "$1" && pwd)
CK="$B/candlekeep"
PG_BIN=${PG_BIN:-/usr/lib/postgresql/15/bin}
if [ ! -x "$PG_BIN/initdb" ] || ! command -v psql >/dev/null 2>&1; then
	echo
	echo "pg-ingest: skipped (no PostgreSQL 15 server in $PG_BIN: scripts/deps.sh test installs it)"
	exit 0
fi
W=$(mktemp -d "${TMPDIR:-/tmp}/ck-pgbench.XXXXXX")
AS=
if [ "$(id -u)" -eq 0 ]; then AS="runuser -u nobody --"; chmod 711 "$W"; fi
mkdir -p "$W/pg" "$W/sock"
[ -n "$AS" ] && chown nobody "$W/pg" "$W/sock"
stop() { $AS "$PG_BIN/pg_ctl" -D "$W/pg" -m immediate -w stop >/dev/null 2>&1 || true; rm -rf "$W"; }
trap stop EXIT INT TERM
N=1000000
[ -n "${BENCH_QUICK:-}" ] && N=50000
CSV="$W/BENCHUSDT-1m.csv"
awk -v n=$N 'BEGIN {
	srand(42); t = 1577836800000; p = 7200.00
	for (i = 0; i < n; i++) {
		o = p; c = o * (1 + (rand() - 0.5) / 100); if (c < 1) c = 1
		h = (o > c ? o : c) * (1 + rand() / 500); l = (o < c ? o : c) * (1 - rand() / 500)
		v = rand() * 100; q = v * (o + c) / 2; tb = v * rand()
		printf "%.0f,%.2f,%.2f,%.2f,%.2f,%.8f,%.0f,%.8f,%d,%.8f,%.8f,0\n", t, o, h, l, c, v, t + 59999, q, int(rand() * 5000), tb, tb * (o + c) / 2
		t += 60000; p = c
	}
}' >"$CSV"

$AS "$PG_BIN/initdb" -D "$W/pg" -A trust -U ck -E UTF8 --locale=C.UTF-8 >"$W/initdb.log" 2>&1 ||
	{ cat "$W/initdb.log" >&2; exit 1; }
PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
$AS "$PG_BIN/pg_ctl" -D "$W/pg" -l "$W/sock/server.log" -w -t 60 \
	-o "-k $W/sock -p $PORT -c listen_addresses=127.0.0.1 -c fsync=off" start >/dev/null 2>&1 ||
	{ cat "$W/sock/server.log" >&2; exit 1; }
URL="postgresql://ck@127.0.0.1:$PORT/postgres"

secs() { date +%s.%N; }
t0=$(secs)
"$CK" --db "$W/ck.db" -q import "$CSV" >"$W/sq" 2>&1 || { cat "$W/sq" >&2; exit 1; }
t1=$(secs)
"$CK" --db "$URL" -q import "$CSV" >"$W/pg.out" 2>&1 || { cat "$W/pg.out" >&2; exit 1; }
t2=$(secs)
"$CK" --db "$URL" -q import "$CSV" >"$W/pg2" 2>&1 || { cat "$W/pg2" >&2; exit 1; }
t3=$(secs)
grep -q "import: $N candles written" "$W/sq" || { cat "$W/sq" >&2; exit 1; }
grep -q "import: $N candles written" "$W/pg.out" || { cat "$W/pg.out" >&2; exit 1; }
grep -q "import: 0 candles written, $N unchanged" "$W/pg2" || { cat "$W/pg2" >&2; exit 1; }
rows=$(psql -X -q -A -t -h 127.0.0.1 -p "$PORT" -U ck -d postgres -c "select count(*) from candles")
[ "$rows" = "$N" ] || { echo "bench: PostgreSQL holds $rows candles, want $N" >&2; exit 1; }

echo
echo "PostgreSQL ingest: $N candles (candlekeep import, $(nproc) CPUs, server on loopback, fsync off)"
awk -v n=$N -v a="$t0" -v b="$t1" -v c="$t2" -v d="$t3" 'BEGIN {
	sq = b - a; pg = c - b; pg2 = d - c
	printf "  SQLite import             %8.2f s  %9.0f candles/s\n", sq, n / sq
	printf "  PostgreSQL import         %8.2f s  %9.0f candles/s\n", pg, n / pg
	printf "  PostgreSQL / SQLite       %8.2f of SQLite'"'"'s rate\n", sq / pg
	printf "  target 200000 candles/s:  %.2f of the target\n", n / pg / 200000
	printf "  PostgreSQL re-import      %8.2f s  %9.0f candles/s (all unchanged)\n", pg2, n / pg2
}'
