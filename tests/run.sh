#!/usr/bin/env bash
# tests/run.sh BUILD_DIR... — runs every cmocka binary and every e2e scenario against
# each build directory, JOBS at a time (default: the number of CPUs), prints one line per
# test as it ends, the logs of the failed ones, and ends with "N passed, N failed".
# Environment: TESTS=pattern runs only matching names; V=1 shows each test's output;
# JOBS=1 runs them one after another; CK_KEEP=DIR keeps each failed scenario's temp
# dir (logs, databases) under DIR.
set -u
top=$(cd "$(dirname "$0")/.." && pwd)
jobs=${JOBS:-$(nproc 2>/dev/null || echo 2)}
logdir=$(mktemp -d "${TMPDIR:-/tmp}/ck-tests.XXXXXX")
trap 'rm -rf "$logdir"' EXIT

# The list: e2e scenarios first (the long ones), builds interleaved so both progress.
tasks=()
for t in "$top"/tests/e2e/t[0-9]*.sh; do
	for b in "$@"; do tasks+=("$b|$t"); done
done
for b in "$@"; do
	for t in "$top/$b"/tests/test_*; do tasks+=("$b|$t"); done
done

run_one() { # build test: runs it, writes its result line to $logdir/*.res
	local b=$1 t=$2 name bdir log start st
	name=$(basename "$t")
	bdir=$(cd "$top/$b" && pwd)
	log="$logdir/$(basename "$b")-$name.log"
	start=$(date +%s)
	if CK_BUILD="$bdir" CK_TOP="$top" timeout 900 sh -c '
		case "$1" in *.sh) exec bash "$1" ;; *) exec "$1" ;; esac' _ "$t" </dev/null >"$log" 2>&1; then
		st=ok
	else
		st=FAIL
	fi
	printf '%-4s %-14s %-48s %3ss\n' "$st" "$(basename "$b")" "$name" $(( $(date +%s) - start )) |
		tee "$log.res"
	[ -n "${V:-}" ] && sed 's/^/    | /' "$log" | tail -60
	return 0
}

running=0
for task in "${tasks[@]}"; do
	b=${task%%|*} t=${task#*|}
	[ -e "$t" ] || continue
	name=$(basename "$t")
	case "$name" in *.o|*.d) continue ;; esac
	[ -n "${TESTS:-}" ] && case "$name" in *$TESTS*) ;; *) continue ;; esac
	if [ "$running" -ge "$jobs" ]; then wait -n; running=$((running - 1)); fi
	run_one "$b" "$t" &
	running=$((running + 1))
done
wait

pass=0 fail=0 failed=""
for r in "$logdir"/*.res; do
	[ -e "$r" ] || continue
	read -r st b name _ <"$r"
	if [ "$st" = ok ]; then pass=$((pass + 1)); else
		fail=$((fail + 1)); failed="$failed $b:$name"
		echo "---- $b $name"
		sed 's/^/    | /' "${r%.res}" | tail -60
	fi
done
[ -n "$failed" ] && echo "failed:$failed"
echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ] && [ "$pass" -gt 0 ]
