#!/usr/bin/env bash
# One alert per failure class of a sync, not per run and not per symbol: three symbols
# failing the same way are one alert (one Slack message, one PagerDuty incident); a
# fourth failing the same way is an update of it, not a new incident; one recovering
# changes its detail and sends nothing; the exchange failing as a whole is a second,
# different problem (one more page) that neither resolves nor re-pages the first; each
# resolves once per channel when it is over.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/alert_lib.sh"

rcv_start
rcv_channels
syms=BTCUSDT,ETHUSDT,SOLUSDT,BNBUSDT,XRPUSDT
sync() { ck_rc -q --symbols $syms --history-days 10 sync >"$T/out" 2>"$T/err"; }
next() { fakex_ctl "clock?advance=$H4" >/dev/null; sync; }
invalid() { local s; for s in "$@"; do fakex_ctl "faults?invalid_symbol=$s" >/dev/null; done; }
# slack KEY WORD / pd KEY ACTION: deliveries of alert KEY per channel.
slack() { count "x['path'].startswith('/services/') and 'alert \`$1\`' in t and '$2' in t"; }
pd() { count "x['path'] == '/v2/enqueue' and t.endswith('/$1') and ' $2 ' in t"; }
state() { sql "select group_concat(key||'='||state||'/'||severity, ' ') from (select * from alerts order by key)"; }
detail() { sql "select detail from alerts where key='$1'" | head -2 | tr '\n' '|'; }

# Early enough that every step below has new recorded candles to fetch.
fakex_start --data "$DATA" --now $((T_2026_03_19_18 - 12 * H4))
sync
assert_eq "$RC" 0 "first sync"
assert_eq "$(got)" 0 "nothing firing, nothing sent"

# 1. Three symbols fail the same way: one alert, one delivery per channel.
invalid ETHUSDT SOLUSDT BNBUSDT
next
assert_eq "$RC" 1 "partial sync"
assert_eq "$(got)" 2 "one Slack message and one PagerDuty event for three symbols"
assert_eq "$(slack sync_failed:invalid '[WARNING]')" 1 "Slack trigger"
assert_eq "$(slack sync_failed:invalid 'affected: BNBUSDT ETHUSDT SOLUSDT')" 1 "Slack names the symbols"
assert_eq "$(pd sync_failed:invalid trigger)" 1 "PagerDuty trigger"
assert_eq "$(state)" "sync_failed:invalid=firing/warning"

# 2. The same symbols failing again: nothing new.
next
assert_eq "$(got)" 2 "the same problem is not sent again"

# 3. A fourth symbol, same reason: an update of the same incident.
invalid XRPUSDT
next
assert_eq "$(got)" 4 "one update per channel"
assert_eq "$(slack sync_failed:invalid 'updated: more affected')" 1 "Slack update"
assert_eq "$(slack sync_failed:invalid 'affected: BNBUSDT ETHUSDT SOLUSDT XRPUSDT')" 1 "the update names all four"
assert_eq "$(pd sync_failed:invalid trigger)" 2 "PagerDuty: a trigger on the same dedup_key (the open incident)"
assert_eq "$(count "x['path'] == '/v2/enqueue' and 'sync_failed' in t and not t.endswith('/sync_failed:invalid')")" 0 \
	"no other PagerDuty incident"

# 4. One recovers while the others still fail: the detail changes, nothing is sent.
fakex_ctl 'faults?invalid_symbol=-' >/dev/null
invalid SOLUSDT BNBUSDT XRPUSDT
next
assert_eq "$RC" 1 "still partial"
assert_eq "$(got)" 4 "a recovery within the alert sends nothing"
assert_eq "$(detail sync_failed:invalid)" "affected: BNBUSDT SOLUSDT XRPUSDT|recovered: ETHUSDT|"

# 5. A second, different problem: the exchange fails for every symbol. One new page;
#    the first alert is neither resolved nor sent again (its symbols were not judged).
fakex_ctl 'faults?p5xx=1' >/dev/null
next
assert_eq "$RC" 1 "failed sync"
assert_eq "$(got)" 6 "one more delivery per channel"
assert_eq "$(slack sync_failed:http '[CRITICAL]')" 1 "Slack: the exchange problem"
assert_eq "$(pd sync_failed:http trigger)" 1 "PagerDuty: a second incident"
assert_eq "$(state)" "sync_failed:http=firing/critical sync_failed:invalid=firing/warning"

# 6. The exchange is back, the three still invalid: the exchange alert resolves, once.
fakex_ctl 'faults?p5xx=0' >/dev/null
next
assert_eq "$RC" 1 "partial again"
assert_eq "$(got)" 8 "one resolve per channel"
assert_eq "$(slack sync_failed:http '[RESOLVED]')" 1 "Slack resolve of the exchange problem"
assert_eq "$(pd sync_failed:http resolve)" 1 "PagerDuty resolve of the exchange problem"
assert_eq "$(state)" "sync_failed:http=resolved/critical sync_failed:invalid=firing/warning"

# 7. All fixed: the first alert resolves, once per channel; then nothing more.
fakex_ctl 'faults?invalid_symbol=-' >/dev/null
next
assert_eq "$RC" 0 "ok sync"
assert_eq "$(got)" 10 "one resolve per channel"
assert_eq "$(slack sync_failed:invalid '[RESOLVED]')" 1 "Slack resolve"
assert_eq "$(pd sync_failed:invalid resolve)" 1 "PagerDuty resolve"
assert_eq "$(state)" "sync_failed:http=resolved/critical sync_failed:invalid=resolved/warning"
next
assert_eq "$(got)" 10 "nothing more once resolved"
echo ok
