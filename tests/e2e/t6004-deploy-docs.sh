#!/usr/bin/env bash
# Deployment files and docs stay true: the systemd units pass `systemd-analyze verify`
# (skipped when it is not installed); `make install` with PREFIX and DESTDIR installs
# the binary, man page, units (ExecStart pointed at PREFIX), rules, examples and docs,
# and `make uninstall` removes them; the man page's key section is exactly
# `candlekeep config --man` and it names every command; every alert rule has a section
# in docs/operations.md and every runbook_url anchor exists; the crontab example calls
# real commands; the pt-BR runbook has the same common-issues table.
. "$(dirname "$0")/lib.sh"
cd "$CK_TOP"

# --- systemd units ----------------------------------------------------------------------
mkdir -p "$T/units"
for u in deploy/systemd/*.service deploy/systemd/*.timer; do
	sed "s#/usr/local/bin/candlekeep#$CK#" "$u" >"$T/units/${u##*/}"
done
for u in candlekeep.service candlekeep-sync.service candlekeep-sync.timer \
	candlekeep-backup.service candlekeep-backup.timer; do
	[ -f "$T/units/$u" ] || fail "deploy/systemd/$u missing"
done
grep -q '^Persistent=true' deploy/systemd/candlekeep-sync.timer || fail "sync timer not persistent"
grep -q '^Persistent=true' deploy/systemd/candlekeep-backup.timer || fail "backup timer not persistent"
for k in NoNewPrivileges=yes ProtectSystem=strict ReadWritePaths= DynamicUser=yes; do
	grep -q "^$k" deploy/systemd/candlekeep.service || fail "candlekeep.service lacks $k"
done
if command -v systemd-analyze >/dev/null 2>&1; then
	(cd "$T/units" && systemd-analyze verify --man=no ./*.service ./*.timer) >"$T/verify" 2>&1 ||
		{ cat "$T/verify"; fail "systemd-analyze verify"; }
	[ -s "$T/verify" ] && { cat "$T/verify"; fail "systemd-analyze verify warned"; }
else
	note "systemd-analyze not installed: unit verification skipped"
fi

# --- make install / uninstall -------------------------------------------------------------
R="$T/root"
make -s -j2 -o "$CK" B="$CK_BUILD" RELEASE_B="$T/release" PREFIX=/opt/ck DESTDIR="$R" install >"$T/install.log" 2>&1 ||
	{ cat "$T/install.log"; fail "make install"; }
for f in bin/candlekeep share/man/man1/candlekeep.1 lib/systemd/system/candlekeep.service \
	lib/systemd/system/candlekeep-sync.timer lib/systemd/system/candlekeep-backup.timer \
	share/candlekeep/prometheus/candlekeep-rules.yml share/doc/candlekeep/candlekeep.example.ini \
	share/doc/candlekeep/operations.md share/doc/candlekeep/runbook.pt-BR.md \
	share/doc/candlekeep/crontab.example; do
	[ -f "$R/opt/ck/$f" ] || fail "make install did not install $f"
done
[ -x "$R/opt/ck/bin/candlekeep" ] || fail "installed binary not executable"
assert_file_match "$R/opt/ck/lib/systemd/system/candlekeep.service" "^ExecStart=/opt/ck/bin/candlekeep "
"$R/opt/ck/bin/candlekeep" --help >/dev/null || fail "installed binary does not run"
make -s PREFIX=/opt/ck DESTDIR="$R" uninstall >>"$T/install.log" 2>&1 || fail "make uninstall"
left=$(find "$R" -type f | wc -l)
assert_eq "$left" 0 "files left after make uninstall: $(find "$R" -type f | head -3)"

# --- man page -------------------------------------------------------------------------------
sed -n '/^\.\\" BEGIN CONFIG/,/^\.\\" END CONFIG/p' docs/candlekeep.1 | sed '1d;$d' >"$T/man-keys"
"$CK" config --man >"$T/cfg-man"
cmp -s "$T/man-keys" "$T/cfg-man" ||
	{ diff "$T/cfg-man" "$T/man-keys" | head; fail "docs/candlekeep.1 keys drifted from candlekeep config --man (regenerate that section)"; }
"$CK" --help | awk '/^commands:/ { on = 1; next } on && /^  [a-z]/ { print $1 }' >"$T/cmds"
[ "$(wc -l <"$T/cmds")" -ge 12 ] || fail "could not read the command list"
while read -r c; do
	grep -q "^\.SS $c\b" docs/candlekeep.1 || fail "man page has no section for command $c"
done <"$T/cmds"
for code in 0 1 2 3 75 124; do
	grep -q "^\.B $code\$" docs/candlekeep.1 || fail "man page lacks exit code $code"
done
for f in listen port-file no-catch-up clock-url; do
	grep -q "\\\\-\\\\-${f//-/\\\\-}" docs/candlekeep.1 || fail "man page lacks daemon flag --$f"
done
if command -v groff >/dev/null 2>&1; then
	groff -man -Tutf8 -ww docs/candlekeep.1 >/dev/null 2>"$T/groff" || fail "groff failed"
	[ -s "$T/groff" ] && { cat "$T/groff"; fail "groff warnings in the man page"; }
fi

# --- operations.md: a section per alert, every runbook anchor -----------------------------
grep -o 'alert: [A-Za-z]*' deploy/prometheus/candlekeep-rules.yml | cut -d' ' -f2 | sort -u >"$T/alerts"
[ -s "$T/alerts" ] || fail "no alerts found in the rules"
while read -r a; do
	grep -q "^### $a\$" docs/operations.md || fail "docs/operations.md has no section for alert $a"
done <"$T/alerts"
grep -o 'operations.md#[a-z0-9-]*' deploy/prometheus/candlekeep-rules.yml | cut -d'#' -f2 | sort -u |
while read -r anchor; do
	grep -q "<a id=\"$anchor\"></a>" docs/operations.md ||
		grep -qi "^#\+ $anchor\$" docs/operations.md || fail "runbook anchor #$anchor missing"
done
# every in-page link points at an existing anchor (explicit id or a heading)
grep -o '](#[a-z0-9-]*)' docs/operations.md | tr -d '()]#' | sort -u | while read -r anchor; do
	grep -q "<a id=\"$anchor\"></a>" docs/operations.md ||
		grep -Eqi "^#+ $(sed 's/-/[ -]/g' <<<"$anchor")\$" docs/operations.md ||
		fail "operations.md links to #$anchor, which does not exist"
done

# --- runbooks ---------------------------------------------------------------------------------
en=$(grep -c '^| ' docs/runbook.md)
pt=$(grep -c '^| ' docs/runbook.pt-BR.md)
assert_eq "$pt" "$en" "rows of the common-issues table (pt-BR vs en)"
for issue in "API timeouts" 429 "database locked" "disk full" "network down"; do
	grep -qi "^| $issue\|^| HTTP $issue" docs/runbook.md || fail "runbook lacks the issue '$issue'"
done
# every candlekeep command the docs mention exists
{ grep -ho '`candlekeep [a-z][a-z]*' docs/runbook.md docs/runbook.pt-BR.md docs/operations.md
  grep -o '$CK [a-z][a-z]*' deploy/crontab.example; } |
	awk '{print $NF}' | sort -u | while read -r c; do
	case "$c" in "" | runbook | operations | candlekeep) continue ;; esac
	grep -qx "$c" "$T/cmds" || [ "$c" = "-q" ] || fail "docs mention 'candlekeep $c', not a command"
done

# --- crontab example: 0 1 sync and 0 2 backup, calling candlekeep directly ----------------
assert_file_match deploy/crontab.example '^0 1 \* \* \* +\$CK sync$'
assert_file_match deploy/crontab.example '^0 2 \* \* \* +\$CK backup$'
assert_file_match deploy/crontab.example '^CK=candlekeep '
echo ok
