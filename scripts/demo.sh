#!/bin/sh
# make demo: the whole pipeline offline. Starts the fake exchange with the recorded real
# Binance candles on a free loopback port, syncs, plays a day forward, repairs a gap,
# and shows what was stored. Everything lives in build/demo; nothing leaves 127.0.0.1.
set -eu
top=$(cd "$(dirname "$0")/.." && pwd)
B="$top/build"
D="$B/demo"
DATA="$top/build/testdata/binance"
[ -d "$DATA" ] || { echo "demo: the recorded data is not at $DATA (make testdata decompresses it from testdata/binance)" >&2; exit 1; }
rm -rf "$D"
mkdir -p "$D"
NOW=1773856800000 # 2026-03-18 18:00 UTC; the recorded files end a day later
# candlekeep decides what is closed by the exchange's clock and its own; the fake exchange
# replays March 2026, so this host's clock is set to the replay's through a hook of the
# build/ binaries (CANDLEKEEP_FAULT_NOW; absent from `make install`'s), else every sync
# would rightly warn that the two clocks are months apart.
export CANDLEKEEP_FAULT_NOW=$NOW

"$B/fakex" --data "$DATA" --now "$NOW" --port 0 --port-file "$D/fakex.port" \
	--request-log "$D/requests.jsonl" >"$D/fakex.log" 2>&1 &
FAKEX=$!
trap 'kill $FAKEX 2>/dev/null; wait $FAKEX 2>/dev/null || true' EXIT INT TERM
i=0
while [ ! -s "$D/fakex.port" ] && [ $i -lt 100 ]; do sleep 0.05; i=$((i + 1)); done
[ -s "$D/fakex.port" ] || { cat "$D/fakex.log" >&2; echo "demo: fakex did not start" >&2; exit 1; }
URL="http://127.0.0.1:$(cat "$D/fakex.port")"
SYMS=$(cd "$DATA" && ls *-4h.csv | sed 's/-4h.csv//' | paste -sd, -)
CK="$B/candlekeep --db $D/candles.db --base-url $URL --archive-url $URL --symbols $SYMS"
step() { printf '\n\033[1m== %s\033[0m\n' "$*"; }

step "fake exchange with the recorded Binance futures candles at $URL (clock: 2026-03-18 18:00 UTC)"
step "candlekeep sync: 43 symbols, 90 days of 4h candles, only closed ones"
$CK -q sync
step "what is stored (the older design's ohlcv_h4 view still answers)"
sqlite3 -header -column "$D/candles.db" "SELECT symbol, COUNT(*) AS candles,
  datetime(MIN(timestamp)/1000,'unixepoch') AS first, datetime(MAX(timestamp)/1000,'unixepoch') AS newest
  FROM ohlcv_h4 GROUP BY symbol ORDER BY symbol LIMIT 8;"
echo "... ($(sqlite3 "$D/candles.db" 'SELECT COUNT(*) FROM candles') candles in all)"

step "a day passes on the exchange (6 candles close per symbol): the next sync fetches exactly those"
curl -fsS -X POST "$URL/_ctl/clock?advance=86400000" >/dev/null
export CANDLEKEEP_FAULT_NOW=$((NOW + 86400000))
$CK -q sync

step "a crash lost some candles: 5 BTCUSDT and 3 ETHUSDT rows deleted"
sqlite3 "$D/candles.db" "DELETE FROM candles WHERE symbol='BTCUSDT' AND open_time BETWEEN 1772323200000 AND 1772323200000+4*14400000;
  DELETE FROM candles WHERE symbol='ETHUSDT' AND open_time BETWEEN 1771027200000 AND 1771027200000+2*14400000;"
$CK gaps --missing-only || true
step "the next sync finds the gaps with one query and repairs them"
$CK -q sync
$CK gaps --missing-only

step "the exchange's newest candle is still forming: it is not stored"
sqlite3 "$D/candles.db" "SELECT 'newest stored BTCUSDT candle opened ' || datetime(MAX(open_time)/1000,'unixepoch') || ' UTC, closed ' || datetime((MAX(close_time)+1)/1000,'unixepoch') FROM candles WHERE symbol='BTCUSDT'"

step "one export line, in Binance's archive column order"
$CK export --symbol BTCUSDT --since 2026-03-19 2>/dev/null | head -2

step "run records (health, metrics and audit derive from these)"
sqlite3 -header -column "$D/candles.db" "SELECT id, command, status, candles_written AS written, requests, retries, symbols_ok AS ok, symbols_failed AS failed FROM runs"

step "candlekeep backup: online backup to the hot tier, verified, copied to warm (offsite not configured)"
$CK backup || true
step "candlekeep health, judged at the fake exchange's time (--now): monitoring-plugins exit codes"
$CK health --now 2026-03-19T18:10:00Z || true
step "candlekeep metrics (a few of the Prometheus series)"
$CK metrics | grep -E '^candlekeep_(sync_last_success_timestamp_seconds|sync_runs_total|candles_stored\{symbol="BTCUSDT"|candles_missing\{symbol="BTCUSDT"|backup_verified)' | head -12 || true
step "done: the database is $D/candles.db; the fake exchange's request log is $D/requests.jsonl"
