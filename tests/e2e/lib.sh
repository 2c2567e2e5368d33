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
# Run from the temp dir: a command that falls back to a default path (candles.db in
# the working directory) writes there, never into the repository.
cd "$T"
DB="$T/candles.db"
FAKEX_PID=
FAKEX_URL=
_pids=()

# cleanup [STATUS]: STATUS is the test's exit status (default $?, for a trap that
# calls it first).
cleanup() {
	local rc=${1:-$?} p
	for p in "${_pids[@]}" $FAKEX_PID; do
		kill -TERM "$p" 2>/dev/null || true
	done
	for p in "${_pids[@]}" $FAKEX_PID; do
		wait "$p" 2>/dev/null || true
	done
	# CK_KEEP=DIR keeps a failed test's temp dir (its logs, databases) as DIR/<test>.<pid>
	if [ "$rc" != 0 ] && [ -n "${CK_KEEP:-}" ]; then
		mkdir -p "$CK_KEEP" && cp -a "$T" "$CK_KEEP/$(basename "$0" .sh).$$" 2>/dev/null || true
	fi
	rm -rf "$T"
}
trap cleanup EXIT
# A command that stops the test through set -e says which one it was.
trap 'echo "FAIL: line $LINENO: exit $?: $BASH_COMMAND" >&2' ERR

fail() { echo "FAIL: $*" >&2; exit 1; }
note() { echo "# $*"; }

# wait_for TIMEOUT_S DESCRIPTION COMMAND [ARGS...]: runs COMMAND every 0.05 s until it
# succeeds; a single argument is evaluated as a shell condition (single-quote it: it
# may use $(...), [ ], &&, the test's functions and variables, but not the caller's
# $1..$9, which are wait_for's own inside it). After TIMEOUT_S seconds (whole
# seconds, by the wall clock, with one last try) the test fails naming DESCRIPTION
# and shows the last lines of the files in $WAIT_SHOW (say WAIT_SHOW="$T/daemon.log"
# wait_for ...). A COMMAND that calls fail (the awaited process died) ends it at once.
# Bounds are generous (30 s and up): on a loaded machine (2 CPUs shared by several
# suites) starting a Python helper alone has taken over 6 s.
wait_for() {
	local _wf_timeout=$1 _wf_what=$2 _wf_end _wf_f
	shift 2
	_wf_end=$(( SECONDS + _wf_timeout ))
	while :; do
		if [ $# -eq 1 ]; then eval "$1" && return 0; else "$@" && return 0; fi
		[ "$SECONDS" -le "$_wf_end" ] || break
		sleep 0.05
	done
	for _wf_f in ${WAIT_SHOW:-}; do
		echo "# last lines of $_wf_f:" >&2
		tail -n 20 "$_wf_f" 2>/dev/null | sed 's/^/  | /' >&2 || true
	done
	fail "timed out after ${_wf_timeout} s waiting for $_wf_what"
}

# expected_rows FILE NOW [FROM [COLUMNS]]: the oracle of what a sync must store — the
# rows of a recorded data file (CSV, Binance's column order) whose candle closed before
# NOW (close_time, column 7, < NOW ms) and opened at or after FROM (ms, default 0), cut
# to their first COLUMNS columns (default 9: open_time .. trades; 0 = all 12).
expected_rows() {
	local file=$1 now=$2 from=${3:-0} cols=${4:-9}
	[ -s "$file" ] || fail "expected_rows: no data file $file (make testdata)"
	if [ "$cols" = 0 ]; then
		awk -F, -v now="$now" -v from="$from" '$7 < now && $1 >= from' "$file"
	else
		awk -F, -v now="$now" -v from="$from" '$7 < now && $1 >= from' "$file" | cut -d, -f1-"$cols"
	fi
}

# fakex_start [fakex flags...]: starts fakex, waits (bounded) for its port.
fakex_start() {
	rm -f "$T/fakex.port"
	"$FAKEX" --port 0 --port-file "$T/fakex.port" --request-log "$T/requests.jsonl" "$@" \
		>"$T/fakex.out" 2>&1 &
	FAKEX_PID=$!
	wait_for 30 "fakex's port file" _fakex_up
	FAKEX_URL="http://127.0.0.1:$(cat "$T/fakex.port")"
}
_fakex_up() {
	[ -s "$T/fakex.port" ] && return 0
	kill -0 "$FAKEX_PID" 2>/dev/null || { cat "$T/fakex.out" >&2; fail "fakex exited"; }
	return 1
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

# daemon_serve GLOBAL_FLAGS...: a daemon on the test's database and fakex (its audit job
# off, its clock fakex's) serving HTTP on an ephemeral port; sets DPID and U (its base URL).
daemon_serve() {
	CANDLEKEEP_SCHEDULE_AUDIT= "$CK" --db "$DB" --base-url "$FAKEX_URL" "$@" \
		daemon --listen 127.0.0.1:0 --port-file "$T/http.port" --clock-url "$FAKEX_URL" \
		>"$T/daemon.out" 2>"$T/daemon.log" &
	DPID=$!
	_pids+=("$DPID")
	WAIT_SHOW="$T/daemon.log" wait_for 30 "the daemon's port file" test -s "$T/http.port"
	U="http://127.0.0.1:$(cat "$T/http.port")"
}

# synthetic_symbols N SUFFIX: fakex --synthetic's first N symbols, comma-separated
# (SYN000SUFFIX,SYN001SUFFIX,...; SUFFIX USDT on um, USD_PERP on cm).
synthetic_symbols() {
	local i out=
	for i in $(seq 0 $(($1 - 1))); do out+=$(printf 'SYN%03d%s,' "$i" "$2"); done
	echo "${out%,}"
}

assert_eq() { [ "$1" = "$2" ] || fail "${3:-values differ}: expected '$2', got '$1'"; }
assert_match() { printf '%s' "$1" | grep -Eq -- "$2" || fail "${3:-no match}: '$2' not in: $1"; }
assert_file_match() { grep -Eq -- "$2" "$1" || { sed 's/^/  | /' "$1" >&2; fail "${3:-no match}: '$2' not in $1"; }; }

# Times of the recorded data: the futures files end with a candle opened 2026-03-19 16:00
# or 20:00 UTC that was still forming when recorded.
H4=14400000
DAY=86400000
T_2026_03_19_18=1773943200000   # 2026-03-19 18:00 UTC
T_2026_03_01=1772323200000      # 2026-03-01 00:00 UTC
