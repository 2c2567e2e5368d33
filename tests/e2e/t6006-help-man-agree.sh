#!/usr/bin/env bash
# The man page lists every flag that `candlekeep --help` and each `candlekeep COMMAND
# --help` show, and each exit code a command's --help names appears in the man page's
# section of that command or its EXIT STATUS. (One generated source for both is the
# code-structure issue's; until then this keeps the two copies in step.)
. "$(dirname "$0")/lib.sh"

MAN="$CK_TOP/docs/candlekeep.1"
man_has() { grep -qF -- "$(printf '%s' "$1" | sed 's/-/\\-/g')" "$MAN"; }
cmds=$("$CK" --help 2>&1 | awk '/^commands:/ { on = 1; next } on && /^  [a-z]/ { print $1 } on && /^$/ { on = 0 }')
[ "$(echo "$cmds" | wc -w)" -ge 13 ] || fail "commands from --help: $cmds"
missing=
for f in $("$CK" --help 2>&1 | grep -oE -- '--[a-z][a-z0-9-]*' | sort -u); do
	man_has "$f" || missing="$missing global:$f"
done
nflags=0
for c in $cmds; do
	"$CK" "$c" --help >"$T/$c.help" 2>&1 || true
	grep -qE "usage: candlekeep( \[-c FILE\])? $c" "$T/$c.help" || fail "$c --help: $(head -3 "$T/$c.help")"
	man_has ".SS $c" || missing="$missing section:$c"
	for f in $(grep -oE -- '--[a-z][a-z0-9-]*' "$T/$c.help" | sort -u); do
		nflags=$((nflags + 1))
		man_has "$f" || missing="$missing $c:$f"
	done
	# "exit N" / "exit: 0 ..., 1 ..." in the help: each code is in the man page as .B N
	for n in $(grep -oE '\bexit:? [0-9]+([^0-9]+[0-9]+)*' "$T/$c.help" | grep -oE '[0-9]+' | sort -u); do
		grep -qE "^\.B $n\$" "$MAN" || missing="$missing $c:exit-$n"
	done
done
[ -z "$missing" ] || fail "in --help but not in docs/candlekeep.1:$missing"
note "$(echo "$cmds" | wc -w) commands, $nflags command flags: all in the man page"
