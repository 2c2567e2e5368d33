#!/bin/sh
# tests/run.sh BUILD_DIR... — runs every cmocka binary and every e2e scenario against
# each build directory, prints one line per test and ends with "N passed, N failed".
# Environment: TESTS=pattern runs only matching names; V=1 shows each test's output.
set -u
top=$(cd "$(dirname "$0")/.." && pwd)
pass=0 fail=0 failed=""
logdir=$(mktemp -d "${TMPDIR:-/tmp}/ck-tests.XXXXXX")
for b in "$@"; do
	bdir=$(cd "$top/$b" && pwd)
	for t in "$bdir"/tests/test_* "$top"/tests/e2e/t[0-9]*.sh; do
		[ -e "$t" ] || continue
		name=$(basename "$t")
		case "$name" in *.o|*.d) continue ;; esac
		[ -n "${TESTS:-}" ] && case "$name" in *$TESTS*) ;; *) continue ;; esac
		log="$logdir/$(basename "$b")-$name.log"
		start=$(date +%s)
		if CK_BUILD="$bdir" CK_TOP="$top" timeout 600 sh -c '
			case "$1" in *.sh) exec bash "$1" ;; *) exec "$1" ;; esac' _ "$t" >"$log" 2>&1; then
			pass=$((pass + 1)); st=ok
		else
			fail=$((fail + 1)); st=FAIL; failed="$failed $b:$name"
		fi
		printf '%-4s %-14s %-48s %3ss\n' "$st" "$(basename "$b")" "$name" $(( $(date +%s) - start ))
		if [ "$st" = FAIL ] || [ -n "${V:-}" ]; then sed 's/^/    | /' "$log" | tail -60; fi
	done
done
rm -rf "$logdir"
[ -n "$failed" ] && echo "failed:$failed"
echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
