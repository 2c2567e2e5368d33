#!/usr/bin/env bash
# The repository stands alone: no tracked file names a path outside it (the guard that
# .ci/run runs), the guard catches each kind of such path, and the recorded data the
# tests and the demo use comes from the repository's own testdata/.
. "$(dirname "$0")/lib.sh"

sh "$CK_TOP/scripts/check-paths.sh" "$CK_TOP" >"$T/own.out" 2>&1 ||
	{ cat "$T/own.out" >&2; fail "a tracked file names a path outside the repository"; }

# The guard itself, on a scratch repository: clean passes, each planted path fails.
R="$T/repo"
mkdir -p "$R/scripts" "$R/tests"
cp "$CK_TOP/scripts/check-paths.sh" "$R/scripts/"
printf 'DATA="$CK_TOP/testdata/binance"\nURL=http://x/../../etc/passwd\n' >"$R/tests/ok.sh"
git -C "$R" init -q
git -C "$R" add -A
sh "$R/scripts/check-paths.sh" "$R" >"$T/clean.out" 2>&1 || { cat "$T/clean.out" >&2; fail "clean repo rejected"; }
n=0
# (the planted lines are assembled here so that this file does not itself name them)
up=.. sh_=shared
for bad in "DATA=\"\$CK_TOP/$up/$sh_/data/binance\"" "d = \"$up/$sh_/data\"" \
	"x=\"\$top/$up/other/file\"" "cp /ro""ot/notes.txt ." "open(\"/wo""rk/main/x\")" "f=/ho""me/me/data.csv"; do
	n=$((n + 1))
	printf '%s\n' "$bad" >"$R/tests/bad$n.sh"
	git -C "$R" add -A
	RC=0; sh "$R/scripts/check-paths.sh" "$R" >"$T/bad.out" 2>&1 || RC=$?
	assert_eq "$RC" 1 "guard on: $bad"
	assert_file_match "$T/bad.out" "bad$n.sh:1:" "guard names the file for: $bad"
	rm "$R/tests/bad$n.sh"
	git -C "$R" add -A
done

# The data the suite uses is the repository's: every compressed file is decompressed
# under build/testdata, byte for byte (zstd's own checksum), and SOURCES.md is beside it.
assert_eq "${DATA#"$CK_TOP"/}" build/testdata/binance "DATA comes from the repository"
test -f "$CK_TOP/testdata/binance/SOURCES.md" || fail "testdata/binance/SOURCES.md missing"
nz=0
for z in "$CK_TOP"/testdata/binance/*.zst "$CK_TOP"/testdata/binance/spot/*.zst; do
	rel=${z#"$CK_TOP"/testdata/binance/}
	zstd -dqc "$z" | cmp -s - "$DATA/${rel%.zst}" || fail "$DATA/${rel%.zst} differs from $z (run make testdata)"
	nz=$((nz + 1))
done
assert_eq "$nz" 54 "recorded files: 43 futures + 10 spot + exchangeInfo"
note "guard: 6 planted paths caught; $nz recorded files decompressed intact"
