# tests/e2e/lib.sh — sourced by every scenario tests/e2e/tNNNN-<area>-<what>.sh.
# Gives each test a private temp dir ($T), a fake exchange on an ephemeral loopback
# port, and small assertion helpers. Everything started here is stopped on exit.
# Environment (set by tests/run.sh): CK_BUILD (build dir, absolute), CK_TOP (repo root).
set -euo pipefail
: "${CK_BUILD:?run through tests/run.sh or set CK_BUILD}"
: "${CK_TOP:?run through tests/run.sh or set CK_TOP}"
CK="$CK_BUILD/candlekeep"
FAKEX="$CK_BUILD/fakex"
DATA="$CK_TOP/build/testdata/binance" # testdata/binance, decompressed by make
T=$(mktemp -d "${TMPDIR:-/tmp}/ck-e2e.XXXXXX")
DB="$T/candles.db"
FAKEX_PID=
FAKEX_URL=
_pids=()

cleanup() {
	local p
	for p in "${_pids[@]}" $FAKEX_PID; do
		kill -TERM "$p" 2>/dev/null || true
	done
	for p in "${_pids[@]}" $FAKEX_PID; do
		wait "$p" 2>/dev/null || true
	done
	rm -rf "$T"
}
trap cleanup EXIT
# A command that stops the test through set -e says which one it was.
trap 'echo "FAIL: line $LINENO: exit $?: $BASH_COMMAND" >&2' ERR

fail() { echo "FAIL: $*" >&2; exit 1; }
note() { echo "# $*"; }

# fakex_start [fakex flags...]: starts fakex, waits (bounded) for its port.
fakex_start() {
	rm -f "$T/fakex.port"
	"$FAKEX" --port 0 --port-file "$T/fakex.port" --request-log "$T/requests.jsonl" "$@" \
		>"$T/fakex.out" 2>&1 &
	FAKEX_PID=$!
	local i
	for i in $(seq 1 100); do
		[ -s "$T/fakex.port" ] && break
		kill -0 "$FAKEX_PID" 2>/dev/null || { cat "$T/fakex.out" >&2; fail "fakex exited"; }
		sleep 0.05
	done
	[ -s "$T/fakex.port" ] || fail "fakex did not start in 5 s"
	FAKEX_URL="http://127.0.0.1:$(cat "$T/fakex.port")"
}

fakex_stop() {
	[ -n "$FAKEX_PID" ] || return 0
	kill -TERM "$FAKEX_PID" 2>/dev/null || true
	wait "$FAKEX_PID" 2>/dev/null || true
	FAKEX_PID=
}

# fakex_ctl 'clock?advance=14400000': a control request; prints the JSON answer.
fakex_ctl() { curl -fsS -m 5 -X POST "$FAKEX_URL/_ctl/$1"; }

# Requests fakex received whose path matches $1 (a grep -E pattern on the JSON line).
fakex_requests() { grep -E "$1" "$T/requests.jsonl" 2>/dev/null | wc -l | tr -d ' '; }

# The public archive (issue 17) only where a test asks for it (CANDLEKEEP_ARCHIVE_ENABLED=true
# and --archive-url "$FAKEX_URL"): the scenarios written before it count REST requests.
export CANDLEKEEP_ARCHIVE_ENABLED=${CANDLEKEEP_ARCHIVE_ENABLED:-false}

# ck ARGS...: candlekeep against this test's database and fakex, quick retries.
ck() {
	CANDLEKEEP_HTTP_RETRY_NET_BASE_MS=${CANDLEKEEP_HTTP_RETRY_NET_BASE_MS:-50} \
	CANDLEKEEP_HTTP_RETRY_5XX_BASE_MS=${CANDLEKEEP_HTTP_RETRY_5XX_BASE_MS:-50} \
	CANDLEKEEP_HTTP_RETRY_429_JITTER_S=${CANDLEKEEP_HTTP_RETRY_429_JITTER_S:-0} \
	"$CK" --db "$DB" ${FAKEX_URL:+--base-url "$FAKEX_URL"} "$@"
}

# ck_rc ARGS...: like ck, but never fails the test; the exit code is in $RC.
ck_rc() { RC=0; ck "$@" || RC=$?; }

sql() { sqlite3 -batch -noheader "$DB" "$@"; }

assert_eq() { [ "$1" = "$2" ] || fail "${3:-values differ}: expected '$2', got '$1'"; }
assert_match() { printf '%s' "$1" | grep -Eq -- "$2" || fail "${3:-no match}: '$2' not in: $1"; }
assert_file_match() { grep -Eq -- "$2" "$1" || { sed 's/^/  | /' "$1" >&2; fail "${3:-no match}: '$2' not in $1"; }; }

# Times of the recorded data: the futures files end with a candle opened 2026-03-19 16:00
# or 20:00 UTC that was still forming when recorded.
H4=14400000
DAY=86400000
T_2026_03_19_18=1773943200000   # 2026-03-19 18:00 UTC
T_2026_03_01=1772323200000      # 2026-03-01 00:00 UTC
