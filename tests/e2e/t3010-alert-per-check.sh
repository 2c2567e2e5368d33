#!/usr/bin/env bash
# One alert per health check, from `health` run by cron: each check that is not OK is
# raised on its own (key health:<check>), repeated and resolved on its own. With health
# already at WARNING (no offsite tier), a later freshness problem is still sent; a
# check dropping from CRITICAL to WARNING is sent; a check that clears is resolved
# (PagerDuty resolve with its own dedup_key) while the others keep firing.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/alert_lib.sh"

rcv_start
rcv_channels
syms=BTCUSDT,ETHUSDT
health_at() { ck_rc --symbols $syms health --now "$1" >"$T/h.out" 2>"$T/h.err"; }
# slack/pd KEY [ACTION]: deliveries of alert KEY on Slack / PagerDuty so far
slack() { count "x['path'].startswith('/services/') and 'alert \`$1\`' in t and '${2:-}' in t"; }
pd() { count "x['path'] == '/v2/enqueue' and t.endswith('/$1') and ' ${2:-trigger} ' in t"; }

fakex_start --data "$DATA" --now "$T_2026_03_19_18"
ck -q --symbols $syms --history-days 10 sync
ck -q --symbols $syms backup >/dev/null
assert_eq "$(got)" 0 "a good sync and backup send nothing"

# health at WARNING (no offsite tier configured): health:backups is raised, once.
health_at "$T_2026_03_19_18"
assert_eq "$RC" 1 "health exit code (WARNING) is unchanged by alerting"
assert_eq "$(slack health:backups '[WARNING]')" 1 "Slack: health:backups"
assert_eq "$(pd health:backups)" 1 "PagerDuty: health:backups"
assert_eq "$(got)" 2 "nothing else"
health_at "$T_2026_03_19_18"
assert_eq "$(got)" 2 "the same state again sends nothing"

# 6 h later the candles are stale (WARNING) and no run succeeded lately: two more
# alerts, although the overall status stays WARNING.
health_at "$((T_2026_03_19_18 + 6 * 3600000))"
assert_eq "$RC" 1 "still WARNING overall"
assert_eq "$(slack health:freshness '[WARNING]')" 1 "Slack: freshness raised while health was already WARNING"
assert_eq "$(pd health:freshness)" 1 "PagerDuty: freshness"
assert_eq "$(slack health:last_run '[WARNING]')" 1 "Slack: last_run"
assert_eq "$(slack health:backups)" 1 "backups not sent again (within [alert] repeat)"
assert_eq "$(got)" 6

# 10 h: both go CRITICAL: sent at once, as updates of the same alerts.
health_at "$((T_2026_03_19_18 + 10 * 3600000))"
assert_eq "$RC" 2
assert_eq "$(slack health:freshness '[CRITICAL]')" 1 "freshness escalated"
assert_eq "$(slack health:last_run '[CRITICAL]')" 1 "last_run escalated"
assert_eq "$(got)" 10

# Back to 6 h: CRITICAL -> WARNING is news too.
health_at "$((T_2026_03_19_18 + 6 * 3600000))"
assert_eq "$(slack health:freshness 'was critical')" 1 "freshness drop to WARNING sent"
assert_eq "$(slack health:last_run 'was critical')" 1 "last_run drop to WARNING sent"
assert_eq "$(got)" 14

# Fresh again: freshness and last_run resolve, each on every channel, PagerDuty with
# the dedup_key of its own incident; backups keeps firing, unresolved.
health_at "$T_2026_03_19_18"
assert_eq "$(slack health:freshness '[RESOLVED]')" 1 "freshness resolved on Slack"
assert_eq "$(pd health:freshness resolve)" 1 "freshness resolved on PagerDuty"
assert_eq "$(slack health:last_run '[RESOLVED]')" 1 "last_run resolved"
assert_eq "$(pd health:last_run resolve)" 1
assert_eq "$(pd health:backups resolve)" 0 "backups not resolved"
assert_eq "$(got)" 18
assert_eq "$(sql "select key||' '||state from alerts order by key" | tr '\n' ',')" \
	"health:backups firing,health:freshness resolved,health:last_run resolved,"
health_at "$T_2026_03_19_18"
assert_eq "$(got)" 18 "nothing more"
echo ok
