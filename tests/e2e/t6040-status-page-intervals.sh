#!/usr/bin/env bash
# The daemon's status page with several intervals ([main] intervals, --interval LIST):
# a symbols table and a coverage section per interval, each from that interval's candles
# and gaps, and each run named with its interval.
. "$(dirname "$0")/lib.sh"

now=1767225600000 # 2026-01-01 00:00 UTC
HOUR=3600000
fakex_start --synthetic 2 --now "$now"
syms=SYN000USDT,SYN001USDT
ck -q --symbols $syms --history-days 5 --interval 4h,1h sync >"$T/s" 2>&1 || { cat "$T/s"; fail "sync"; }
sql "delete from candles where interval='1h' and symbol='SYN001USDT' and open_time=$((now - 5 * HOUR))"
daemon_serve --symbols $syms --interval 4h,1h
curl -fsS -m 10 "$U/" >"$T/page.html" || fail "GET /"
for iv in 4h 1h; do
	assert_file_match "$T/page.html" "<h2>Symbols, $iv: [0-9]+ of 2 fresh</h2>" "symbols table of $iv"
	assert_file_match "$T/page.html" "<h2>Coverage, $iv</h2>" "coverage section of $iv"
	assert_file_match "$T/page.html" "<table id=\"coverage-$iv\">" "coverage table of $iv"
	assert_file_match "$T/page.html" "<td>sync $iv</td>" "a run of $iv"
done
# the missing 1h candle shows in the 1h section only
python3 - "$T/page.html" >"$T/missing" <<'PY'
import re, sys
page = open(sys.argv[1]).read()
for iv in ("4h", "1h"):
    sec = page.split('<table id="coverage-%s">' % iv, 1)[1].split("</table>", 1)[0]
    print(iv, len(re.findall(r'<rect[^>]*class="[^"]*missing', sec)))
PY
assert_eq "$(tr '\n' ' ' <"$T/missing")" "4h 0 1h 1 " "missing ranges per interval"
echo "ok"
