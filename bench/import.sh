#!/bin/sh
# bench/import.sh BUILD_DIR — `candlekeep import` of 1,000,000 candles (one 12-column
# Binance-format CSV of 1m candles, realistic decimal strings) beside SQLite's raw insert
# rate of the same rows into the same schema, measured in the same run (bench/rawinsert:
# one prepared INSERT, same journal mode and synchronous setting, the same 5000-row
# transactions as import, no validation, no upsert comparison). Also: a second import of
# the same file (every row unchanged).
set -eu
# Nothing here reaches the internet: the public archive is off (bench/archive.sh
# measures it against fakex).
export CANDLEKEEP_ARCHIVE_ENABLED=false
B=$1
CK="$B/candlekeep"
RUNRSS="$B/bench/runrss"
W=$(mktemp -d "${TMPDIR:-/tmp}/ck-bench.XXXXXX")
trap 'rm -rf "$W"' EXIT INT TERM
N=1000000
[ -n "${BENCH_QUICK:-}" ] && N=50000
CSV="$W/BENCHUSDT-1m.csv"

# Rows: a seeded random walk; high >= max(open, close), low <= min(open, close) > 0.
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
mb=$(du -m "$CSV" | cut -f1)

"$B/bench/rawinsert" "$W/raw.db" "$CSV" BENCHUSDT 1m 5000 >"$W/raw" || exit 1
raw_rate=$(sed -n 's/.*rows_per_s=\([0-9]*\).*/\1/p' "$W/raw")
raw_s=$(sed -n 's/.*seconds=\([0-9.]*\).*/\1/p' "$W/raw")

"$RUNRSS" "$CK" --db "$W/ck.db" -q import "$CSV" >"$W/imp" 2>"$W/imp.rss" || { cat "$W/imp" "$W/imp.rss" >&2; exit 1; }
grep -q "import: $N candles written" "$W/imp" || { cat "$W/imp" >&2; echo "bench: import did not write every row" >&2; exit 1; }
imp_s=$(sed -n 's/.*elapsed_s=\([0-9.]*\).*/\1/p' "$W/imp.rss")
imp_rss=$(sed -n 's/.*maxrss_kb=\([0-9]*\).*/\1/p' "$W/imp.rss")
"$RUNRSS" "$CK" --db "$W/ck.db" -q import "$CSV" >"$W/imp2" 2>"$W/imp2.rss" || exit 1
grep -q "import: 0 candles written, $N unchanged" "$W/imp2" || { cat "$W/imp2" >&2; exit 1; }
imp2_s=$(sed -n 's/.*elapsed_s=\([0-9.]*\).*/\1/p' "$W/imp2.rss")
# The export reproduces the file.
"$CK" --db "$W/ck.db" export --symbol BENCHUSDT --interval 1m --output "$W/exp.csv" 2>/dev/null ||
	"$CK" --db "$W/ck.db" --interval 1m export --symbol BENCHUSDT --output "$W/exp.csv" 2>/dev/null || true
same=no; cmp -s "$CSV" "$W/exp.csv" && same=yes

echo
echo "CSV import: $N candles (${mb} MB, 12 columns)"
printf '  candlekeep import         %8.2f s  %9.0f candles/s  (peak RSS %.1f MB)\n' "$imp_s" \
	"$(awk -v n=$N -v t="$imp_s" 'BEGIN { print n / t }')" "$(awk -v k="$imp_rss" 'BEGIN { print k / 1024 }')"
printf '  SQLite raw INSERT         %8.2f s  %9.0f rows/s\n' "$raw_s" "$raw_rate"
awk -v a="$imp_s" -v b="$raw_s" 'BEGIN { printf "  import / raw              %8.2f (import takes %.0f%% of raw insert speed)\n", a / b, 100 * b / a }'
# issue 16's target: import >= 80% of the raw insert speed measured in the same run.
awk -v a="$imp_s" -v b="$raw_s" 'BEGIN { printf "  target import >= 80%% of raw: %.0f%% (%.2f of the target)\n", 100 * b / a, (b / a) / 0.8 }'
printf '  re-import (all unchanged) %8.2f s  %9.0f candles/s\n' "$imp2_s" "$(awk -v n=$N -v t="$imp2_s" 'BEGIN { print n / t }')"
echo "  export reproduces the file byte for byte: $same"
