#!/bin/sh
# bench/run.sh [BUILD_DIR] — `make bench`: builds the bench helpers (bench/*.c, with the
# project's warning flags) into BUILD_DIR/bench, then runs bench/sync.sh, bench/ledger.sh,
# bench/import.sh, bench/archive.sh, bench/backfill.sh, bench/pg-ingest.sh,
# bench/pg-workers.sh and bench/backup.sh and prints their figures, each beside its
# target. Not a test: nothing here fails on a number.
# Environment: BENCH_QUICK=1 shrinks every workload (a smoke run of the scripts).
set -eu
top=$(cd "$(dirname "$0")/.." && pwd)
B=$(cd "$top/${1:-build}" && pwd)
CC=${CC:-cc}
mkdir -p "$B/bench"
for src in "$top"/bench/*.c; do
	name=$(basename "$src" .c)
	# shellcheck disable=SC2046
	$CC -std=c17 -D_GNU_SOURCE -Wall -Wextra -Werror -Wshadow -Wstrict-prototypes -Wformat=2 \
		-O2 -g -iquote "$top/src" $(pkg-config --cflags sqlite3) -o "$B/bench/$name" "$src" \
		$(pkg-config --libs sqlite3)
done
[ -x "$B/candlekeep" ] && [ -x "$B/fakex" ] || { echo "bench: build first (make)" >&2; exit 1; }
echo "candlekeep bench — $(date -u '+%Y-%m-%d %H:%M UTC'), $(nproc) CPUs, $(uname -sr)"
sh "$top/bench/sync.sh" "$B"
sh "$top/bench/ledger.sh" "$B"
sh "$top/bench/import.sh" "$B"
sh "$top/bench/archive.sh" "$B"
sh "$top/bench/backfill.sh" "$B"
# PostgreSQL: import of 1M candles, then 1, 2 and 3 workers on one server and the stored
# history's cost (each skipped without a PostgreSQL 15 server)
sh "$top/bench/pg-ingest.sh" "$B"
sh "$top/bench/pg-workers.sh" "$B"
# Backup of a database beside cp, and the full recover time (RTO); BENCH_MB sizes it:
# 256 MiB by default so make bench stays short (the ratios hold at any size), 1024 for
# the figures the targets are stated in.
if [ -n "${BENCH_QUICK:-}" ]; then BENCH_MB=${BENCH_MB:-64}; fi
BENCH_MB=${BENCH_MB:-256}
export BENCH_MB
bash "$top/bench/backup.sh" "$B"
