#!/usr/bin/env bash
# The house style is enforced: every tracked C file is what clang-format makes of it
# with .clang-format (run `make format` to fix). A scratch copy with one misformatted
# line proves the check can fail.
. "$(dirname "$0")/lib.sh"

command -v clang-format >/dev/null || fail "clang-format is missing (make deps-test installs it)"
cd "$CK_TOP"
files=$(git ls-files '*.c' '*.h')
[ "$(echo "$files" | wc -l)" -ge 50 ] || fail "too few C files found: $(echo "$files" | wc -l)"
bad=""
for f in $files; do
	clang-format --dry-run -Werror "$f" >/dev/null 2>&1 || bad="$bad $f"
done
[ -z "$bad" ] || fail "not in the house style (run make format):$bad"

# The check itself: a file with a misplaced brace and bad indentation is caught.
cp .clang-format "$T/.clang-format"
printf 'int f(void) {\n  return 0;\n}\n' >"$T/bad.c"
if clang-format --dry-run -Werror "$T/bad.c" >/dev/null 2>&1; then
	fail "clang-format accepted a misformatted file"
fi
clang-format -i "$T/bad.c"
clang-format --dry-run -Werror "$T/bad.c" >/dev/null 2>&1 || fail "formatted file still differs"
note "$(echo "$files" | wc -l) C files in the house style"
