#!/usr/bin/env bash
# Flags, --help and the man page agree. (1) docs/candlekeep.1 is what scripts/gen-man.sh
# makes of it with this binary (its synopsis and options come from the command tables,
# its key section from the key table). (2) The parser is probed from outside, flag by
# flag, so this holds whatever code parses: every flag a command accepts is in its
# --help (or the global flags of candlekeep --help) and in its section of the man page
# (or GLOBAL OPTIONS), and every flag a --help lists is accepted. (3) Each exit code a
# --help names is in the man page.
. "$(dirname "$0")/lib.sh"

MAN="$CK_TOP/docs/candlekeep.1"
man_has() { grep -qF -- "$(printf '%s' "$2" | sed 's/-/\\-/g')" "$1"; }

# --- (1) the checked-in man page is the generated one -------------------------------------
"$CK_TOP/scripts/gen-man.sh" "$CK" "$MAN" >"$T/gen.1" 2>"$T/gen.err" ||
	{ cat "$T/gen.err" >&2; fail "scripts/gen-man.sh failed"; }
cmp -s "$T/gen.1" "$MAN" ||
	{ diff "$MAN" "$T/gen.1" | head -20 >&2; fail "docs/candlekeep.1 is not the generated page (run make man)"; }

# --- (2) accepted flags vs --help and the man page -----------------------------------------
cmds=$("$CK" --help 2>&1 | awk '/^commands:/ { on = 1; next } on && /^  [a-z]/ { print $1 } on && /^$/ { on = 0 }')
[ "$(echo "$cmds" | wc -w)" -ge 13 ] || fail "commands from --help: $cmds"
"$CK" --help >"$T/global.help" 2>&1
sed -n '/^global flags/,/^$/p' "$T/global.help" >"$T/global.flags"
sed -n '/^\.SH GLOBAL OPTIONS/,/^\.SH /p' "$MAN" >"$T/man.global"
for c in $cmds; do
	"$CK" "$c" --help >"$T/$c.help" 2>&1 || fail "$c --help: exit $?"
	grep -qE "usage: candlekeep( \[-c FILE\])? $c" "$T/$c.help" || fail "$c --help: $(head -3 "$T/$c.help")"
	# the command's man section: from its .SS heading to the next .SS or .SH
	awk -v c="$c" '/^\.SS / { on = ($2 == c) } /^\.SH / { on = 0 } on' "$MAN" >"$T/$c.man"
	[ -s "$T/$c.man" ] || fail "man page has no section for $c"
done

# A command's candidate names: every --word in its --help and its man section, and every
# first string of a table row ({"name", ... or {.name = "name", ...) in its source file
# (main.c for help). Global flags are probed once, before a command, below.
cands() {
	{
		cat "$T/$1.help" "$T/$1.man" | sed 's/\\-/-/g'
		src="$CK_TOP/src/cmd_$1.c"
		[ -e "$src" ] || src="$CK_TOP/src/main.c"
		grep -ohE '\{ *(\.name *= *)?"[a-z][a-z0-9-]+",' "$src" |
			grep -oE '"[a-z][a-z0-9-]+"' | tr -d '"' | sed 's/^/--/'
	} | grep -oE -- '--[a-z][a-z0-9-]+' | sort -u
}
[ "$(cands sync | wc -w)" -ge 7 ] || fail "too few candidate flags for sync: $(cands sync)"

# A database for the commands that open one before they read their flags.
export CANDLEKEEP_MAIN_DB="$DB" CANDLEKEEP_MAIN_BASE_URL=http://127.0.0.1:9
"$CK" ban >/dev/null 2>&1 || true
[ -s "$DB" ] || fail "could not create the probe database"

# refused TEXT FLAG: TEXT is a parser's refusal of FLAG (getopt's messages or ours)
refused() {
	local f=$2
	grep -qE -- "(unknown( global)? flag( or missing value)? '?$f([=' ]|\$)|unrecognized option '$f[=']|option '$f' doesn't allow|flag $f takes no value)" <<<"$1"
}
# probe CMD FLAG: accepted, refused or unclear (stopped before the sentinel for another
# reason). FLAG=1 first (a value-taking flag then never swallows the sentinel), bare FLAG
# only if the parser said it takes no value. With CMD -, FLAG goes before `ban`.
probe() {
	local c=$1 f=$2 out
	run() { if [ "$c" = - ]; then "$CK" "$1" ban --zz-probe; else "$CK" "$c" "$1" --zz-probe; fi; }
	out=$(run "$f=1" </dev/null 2>&1) || true
	if refused "$out" "$f"; then
		out=$(run "$f" </dev/null 2>&1) || true
		if refused "$out" "$f"; then echo refused; else echo accepted; fi
	elif grep -q -- 'zz-probe' <<<"$out"; then
		echo accepted
	else
		echo unclear
	fi
}

problems=
nacc=0
ncand=0
for c in $cmds; do
	for f in $(cands "$c"); do
		ncand=$((ncand + 1))
		r=$(probe "$c" "$f")
		listed=0
		grep -qE -- "(^|[ [,])$f([] ,]|\$)" "$T/$c.help" && listed=1
		if [ "$r" = accepted ]; then
			nacc=$((nacc + 1))
			if [ $listed = 0 ] && ! grep -qE -- "(^|[ [,])$f([] ,]|\$)" "$T/global.flags"; then
				problems="$problems
  $c accepts $f; not in candlekeep $c --help nor in the global flags of candlekeep --help"
			fi
			man_has "$T/$c.man" "$f" || man_has "$T/man.global" "$f" ||
				problems="$problems
  $c accepts $f; not in the man page's section $c nor GLOBAL OPTIONS"
		elif [ $listed = 1 ] && [ "$f" != --help ]; then
			problems="$problems
  candlekeep $c --help lists $f; the parser: $r"
		fi
	done
done
# The global flags of candlekeep --help, before a command.
for f in $(grep -oE -- '--[a-z][a-z0-9-]+' "$T/global.flags" | sort -u); do
	r=$(probe - "$f")
	[ "$r" = accepted ] || problems="$problems
  candlekeep --help lists $f; the parser before a command: $r"
done
[ -z "$problems" ] || fail "flags, --help and the man page disagree:$problems"

# --- (3) exit codes named in a --help are in the man page ---------------------------------
missing=
for c in $cmds; do
	for n in $(grep -oE '\bexit:? [0-9]+([^0-9]+[0-9]+)*' "$T/$c.help" | grep -oE '[0-9]+' | sort -u); do
		grep -qE "^\.B $n\$" "$MAN" || missing="$missing $c:exit-$n"
	done
done
[ -z "$missing" ] || fail "in --help but not in docs/candlekeep.1:$missing"
note "$(echo "$cmds" | wc -w) commands, $ncand (command, name) pairs probed, $nacc accepted (command, flag) pairs: all documented"
echo ok
