#!/usr/bin/env bash
# The status page of one market's daemon over a database that holds three (um, cm and
# spot side by side): it names its market, its symbols and coverage are that market's
# alone, and a run of another market in the runs table says which market it was (a
# failed spot run on the COIN-M page must not read as the COIN-M sync failing).
. "$(dirname "$0")/lib.sh"

now=1767225600000 # 2026-01-01 00:00 UTC
fakex_start --synthetic 2 --now "$now"
export CANDLEKEEP_FAULT_NOW=$now
ck -q --symbols SYN000USDT,SYN001USDT --history-days 5 sync >"$T/um" 2>&1 || { cat "$T/um"; fail "um sync"; }
ck -q --market cm --symbols SYN000USD_PERP,SYN001USD_PERP --history-days 5 sync >"$T/cm" 2>&1 ||
	{ cat "$T/cm"; fail "cm sync"; }
# a spot run that fails: every spot request answered 503
fakex_ctl "faults?p5xx=1" >/dev/null
RC=0
CANDLEKEEP_HTTP_RETRY_5XX_MAX=0 ck -q --market spot --symbols SYN000USDT --history-days 5 sync \
	>"$T/spot" 2>&1 || RC=$?
[ "$RC" != 0 ] || { cat "$T/spot"; fail "the spot sync should have failed"; }
fakex_ctl "faults?p5xx=0" >/dev/null
assert_eq "$(sql "select group_concat(market || ':' || status, ',') from (select market, status from runs order by id)")" \
	"um:ok,cm:ok,spot:failed" "runs stored"

daemon_serve --market cm --symbols SYN000USD_PERP,SYN001USD_PERP
curl -fsS -m 10 "$U/" >"$T/page.html" || fail "GET /"

python3 - "$T/page.html" >"$T/facts" <<'PY'
import re, sys
page = open(sys.argv[1]).read()
sub = page.split('<div class="sub">', 1)[1].split("</div>", 1)[0]
print("sub", "cm" in re.split(r"\s*&middot;\s*", sub))
sym = page.split("<h2>Symbols", 1)[1].split("</table>", 1)[0]
cov = page.split("<h2>Coverage", 1)[1].split("</table>", 1)[0]
for name, sec in (("symbols", sym), ("coverage", cov)):
    print(name, " ".join(sorted(set(re.findall(r"SYN\d+USD\w*", sec)))))
runs = page.split("<h2>Last runs</h2>", 1)[1].split("</table>", 1)[0]
for row in re.findall(r"<tr><td class=\"n\">\d+</td><td>([^<]*)</td>.*?<td class=\"[^\"]*\">(\w+)</td>", runs):
    print("run", row[0], row[1])
PY
cat "$T/facts" >"$T/facts.shown"
assert_file_match "$T/facts" "^sub True$" "the page names its market"
assert_file_match "$T/facts" "^symbols SYN000USD_PERP SYN001USD_PERP$" "symbols table: cm's only"
assert_file_match "$T/facts" "^coverage SYN000USD_PERP SYN001USD_PERP$" "coverage: cm's only"
# newest first: spot's failed run, cm's own (unlabelled), um's
assert_eq "$(grep '^run' "$T/facts" | tr '\n' '|')" "run sync (spot) failed|run sync ok|run sync (um) ok|" "runs table"
echo "ok"
