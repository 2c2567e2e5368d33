#!/bin/sh
# scripts/check-paths.sh [DIR] — fails when a file tracked by git in DIR (default: this
# repository) names a path outside the repository: the data folder that sat beside a
# developer's checkout, a path that climbs above the repository's top, or an absolute
# path of a developer's machine. A user's clone has nothing beside it, so such a path
# works for its author and breaks for everyone else. Run by .ci/run before the tests.
set -eu
dir=${1:-$(cd "$(dirname "$0")/.." && pwd)}
cd "$dir"
git rev-parse --is-inside-work-tree >/dev/null 2>&1 ||
	{ echo "check-paths: $dir is not a git checkout" >&2; exit 2; }
# 1. the sibling data folder of a developer's checkout;
# 2. a variable naming the repository's top, followed by /.. (climbs out of it);
# 3. absolute paths of a developer's or CI machine (home and work directories).
pat='(\.\./shared([/"'"'"' ]|$))'
pat="$pat"'|((CK_TOP|TOP|top|ROOT|root|srcdir|abs_top_srcdir)\}?"?/\.\.(/|"|$))'
pat="$pat"'|((^|[^A-Za-z0-9_.~$-])/(work|root|home|old_root|farm)/)'
if hits=$(git grep -nIE "$pat" -- . 2>/dev/null); then
	echo "$hits" | sed 's/^/  /' >&2
	echo "check-paths: $(echo "$hits" | wc -l | tr -d ' ') line(s) above name a path outside the repository;" \
		"keep what they need inside it (testdata/ for recorded data) and name it relative to the top" >&2
	exit 1
fi
echo "check-paths: $(git ls-files | wc -l | tr -d ' ') tracked files name no path outside the repository"
