#!/usr/bin/env bash
# The status page as a browser shows it (headless Chromium: the DOM after rendering and
# a screenshot): the firing alerts in "Active alerts" with each channel's delivery
# state, and per symbol a coverage strip (inline SVG, no script) whose rects are the
# stored ranges, the missing range that was deleted (exactly its first and last open
# time), a confirmed exchange hole, and nothing but stored ranges for a clean symbol.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/alert_lib.sh"

command -v chromium >/dev/null 2>&1 || { note "chromium not installed: skipped"; echo ok; exit 0; }

SYMS=BTCUSDT,ETHUSDT,BNBUSDT
NOW=$T_2026_03_19_18
GAP_FROM=1773446400000   # 2026-03-14 00:00 UTC
GAP_TO=1773518400000     # 2026-03-14 20:00 UTC (6 candles of 4h)
HOLE_FROM=1773705600000  # 2026-03-17 00:00 UTC
HOLE_TO=1773720000000    # 2026-03-17 04:00 UTC (2 candles)

rcv_start
rcv_channels
fakex_start --data "$DATA" --now "$NOW"
ck -q --symbols $SYMS --history-days 10 sync
sql "delete from candles where symbol='BTCUSDT' and open_time between $GAP_FROM and $GAP_TO"
sql "delete from candles where symbol='ETHUSDT' and open_time between $HOLE_FROM and $HOLE_TO"
sql "insert into holes (symbol, interval, first_open, last_open, confirmed_at)
     values ('ETHUSDT', '4h', $HOLE_FROM, $HOLE_TO, $NOW)"

# Ten hours later health finds the candles critically stale: health:freshness fires and
# is delivered to both channels of the receiver.
ck_rc --symbols $SYMS health --now $((NOW + 10 * 3600000)) >"$T/h.out" 2>"$T/h.err"
assert_eq "$RC" 2 "health exit (CRITICAL)"
wait_received 1 "t.endswith('/health:freshness') and ' trigger ' in t" "PagerDuty trigger of health:freshness"
assert_eq "$(sql "select severity || ' ' || state from alerts where key='health:freshness'")" \
	"critical firing" "the alert row"

# The daemon, with no schedule that would change the data (and no channel of its own).
env -u CANDLEKEEP_ALERT_SLACK_WEBHOOK -u CANDLEKEEP_ALERT_PAGERDUTY_ROUTING_KEY \
	CANDLEKEEP_SCHEDULE_SYNC= CANDLEKEEP_SCHEDULE_BACKUP= CANDLEKEEP_SCHEDULE_AUDIT= \
	CANDLEKEEP_SCHEDULE_HEALTH= CANDLEKEEP_SCHEDULE_INTEGRITY_CHECK= \
	"$CK" --db "$DB" --base-url "$FAKEX_URL" --symbols "$SYMS" daemon \
	--listen 127.0.0.1:0 --port-file "$T/http.port" --clock-url "$FAKEX_URL" \
	>"$T/daemon.out" 2>"$T/daemon.log" &
_pids+=($!)
WAIT_SHOW="$T/daemon.log" wait_for 30 "the daemon's port file" test -s "$T/http.port"
U="http://127.0.0.1:$(cat "$T/http.port")"
curl -fsS -o "$T/page.html" "$U/"
[ "$(stat -c %s "$T/page.html")" -lt 200000 ] || fail "page of 3 symbols is $(stat -c %s "$T/page.html") bytes"
if grep -Eqi '<script|<link|src=|@import|url\(' "$T/page.html"; then
	fail "the page is not self-contained"
fi

chrome() {
	timeout 60 chromium --headless=new --no-sandbox --disable-gpu --disable-quic --no-first-run \
		--disable-background-networking --disable-component-update --disable-sync \
		--user-data-dir="$T/chrome" "$@" 2>>"$T/chrome.log"
}
chrome --dump-dom "$U/" >"$T/dom.html" || true
[ -s "$T/dom.html" ] || { tail "$T/chrome.log"; fail "chromium dumped no DOM"; }
chrome --screenshot="$T/page.png" --window-size=1400,2000 "$U/" >/dev/null || true
[ -s "$T/page.png" ] || { tail "$T/chrome.log"; fail "no screenshot"; }
[ "$(head -c 8 "$T/page.png" | od -An -tx1 | tr -d ' \n')" = 89504e470d0a1a0a ] ||
	fail "the screenshot is not a PNG"
[ "$(stat -c %s "$T/page.png")" -gt 30000 ] || fail "the screenshot looks empty"
[ -n "${CK_KEEP_SCREENSHOT:-}" ] && cp "$T/page.png" "$CK_KEEP_SCREENSHOT"

# What the browser built: one line per active alert and per coverage rect.
python3 - "$T/dom.html" >"$T/facts" <<'PY'
import sys
from html.parser import HTMLParser

class P(HTMLParser):
    def __init__(self):
        super().__init__()
        self.alert = None      # key of the alert row being read
        self.channels = []
        self.svg = None        # symbol of the strip being read
        self.channel = None
        self.text = ""
    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "tr" and a.get("class") == "alert":
            self.alert = a["data-key"]
        elif tag == "span" and self.alert and "data-channel" in a:
            self.channel = a["data-channel"]
            self.text = ""
        elif tag == "svg" and "cov" in (a.get("class") or ""):
            self.svg = a["data-symbol"]
        elif tag == "rect" and self.svg:
            print("rect", self.svg, a.get("class"), a.get("data-from"), a.get("data-to"),
                  a.get("data-count"))
        elif tag == "p" and a.get("id") == "no-alerts":
            print("no-alerts")
    def handle_data(self, d):
        if self.channel:
            self.text += d
    def handle_endtag(self, tag):
        if tag == "span" and self.channel:
            print("channel", self.alert, self.text.strip())
            self.channel = None
        elif tag == "tr" and self.alert:
            print("alert", self.alert)
            self.alert = None
        elif tag == "svg":
            self.svg = None

P().feed(open(sys.argv[1]).read())
PY
grep -q '^alert health:freshness$' "$T/facts" || { cat "$T/facts"; fail "health:freshness not in Active alerts"; }
grep -q '^no-alerts' "$T/facts" && fail "'No active alerts' shown while alerts fire"
assert_file_match "$T/facts" '^channel health:freshness slack: sent' "Slack delivery state"
assert_file_match "$T/facts" '^channel health:freshness pagerduty: sent' "PagerDuty delivery state"
assert_file_match "$T/dom.html" 'Active alerts: [1-9]' "alert count in the heading"

# BTCUSDT: the deleted range is one missing rect, exactly; stored on both sides.
assert_eq "$(grep -c '^rect BTCUSDT missing ' "$T/facts")" 1 "missing rects of BTCUSDT"
assert_file_match "$T/facts" "^rect BTCUSDT missing $GAP_FROM $GAP_TO 6\$" "the gap's rect"
assert_eq "$(grep -c '^rect BTCUSDT stored ' "$T/facts")" 2 "stored rects of BTCUSDT (before and after the gap)"
grep -q '^rect BTCUSDT hole' "$T/facts" && fail "BTCUSDT has no exchange hole"
# ETHUSDT: the confirmed hole is a hole rect, not missing.
assert_file_match "$T/facts" "^rect ETHUSDT hole $HOLE_FROM $HOLE_TO 2\$" "the hole's rect"
grep -q '^rect ETHUSDT missing' "$T/facts" && fail "ETHUSDT's hole drawn as missing"
# BNBUSDT: clean, one stored rect over its whole span.
assert_eq "$(grep '^rect BNBUSDT ' "$T/facts" | cut -d' ' -f3 | sort -u)" stored "BNBUSDT rect classes"
assert_eq "$(grep -c '^rect BNBUSDT stored ' "$T/facts")" 1 "one stored rect for BNBUSDT"
n=$(sql "select count(*) from candles where symbol='BNBUSDT'")
assert_match "$(grep '^rect BNBUSDT stored ' "$T/facts")" " $n\$" "BNBUSDT's stored count"
# Tooltips name the range and the count.
assert_file_match "$T/dom.html" "<title>missing 2026-03-14T00:00:00Z .. 2026-03-14T20:00:00Z: 6 candles</title>" "gap tooltip"
assert_file_match "$T/dom.html" "<title>exchange hole 2026-03-17T00:00:00Z .. 2026-03-17T04:00:00Z: 2 candles</title>" "hole tooltip"

# Resolved, the alert leaves the section.
sql "update alerts set state='resolved'"
wait_for 30 "the page without the resolved alert" \
	'curl -fsS -o "$T/page2.html" "$U/" && grep -q '"'"'id="no-alerts"'"'"' "$T/page2.html"'
assert_file_match "$T/page2.html" 'No active alerts' "no active alerts once resolved"
echo ok
