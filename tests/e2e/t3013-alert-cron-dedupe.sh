#!/usr/bin/env bash
# Cron runs and the daemon share one outbox: an alert the daemon already delivered is
# not sent again by a cron `health` judging the same state, and one that cron health
# delivered is not sent again by the daemon's health job; a problem either of them
# finds is delivered by whichever finds it first.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/alert_lib.sh"

rcv_start
rcv_channels
syms=BTCUSDT,ETHUSDT
slack() { count "x['path'].startswith('/services/') and 'alert \`$1\`' in t and '${2:-}' in t"; }
pd() { count "x['path'] == '/v2/enqueue' and t.endswith('/$1') and ' ${2:-trigger} ' in t"; }
health_jobs() { grep -c 'job end.*job=health' "$T/daemon.log" || true; }
wait_health_job() {   # wait_health_job N: until the daemon ended its N-th health job
	local n=$1
	WAIT_SHOW="$T/daemon.log" wait_for 60 "the daemon's health job $n to end" '[ "$(health_jobs)" -ge "$n" ]'
}

fakex_start --data "$DATA" --now "$T_2026_03_19_18"
ck -q --symbols $syms --history-days 10 sync
ck -q --symbols $syms backup >/dev/null

# The daemon on the exchange's (fixed) clock, running only its health job, every hour.
CANDLEKEEP_SCHEDULE_SYNC= CANDLEKEEP_SCHEDULE_BACKUP= CANDLEKEEP_SCHEDULE_AUDIT= \
	CANDLEKEEP_SCHEDULE_HEALTH="0 * * * *" "$CK" --db "$DB" --base-url "$FAKEX_URL" \
	--symbols $syms daemon --listen 127.0.0.1:0 --clock-url "$FAKEX_URL" \
	>"$T/daemon.out" 2>"$T/daemon.log" &
DPID=$!
_pids+=("$DPID")

# 1. The daemon's first health job (a catch-up at start) raises health:backups (no
#    offsite tier) and delivers it.
wait_health_job 1
wait_received 1 "x['path'].startswith('/services/') and 'health:backups' in t" "the daemon's delivery"
assert_eq "$(pd health:backups)" 1 "PagerDuty got it from the daemon"
n=$(got)
# cron health on the same state: nothing new.
ck_rc --symbols $syms health --now "$T_2026_03_19_18" >/dev/null 2>&1
assert_eq "$RC" 1 "cron health: WARNING"
assert_eq "$(got)" "$n" "cron health does not send what the daemon delivered"

# 2. cron health 6 h later finds stale candles first and delivers freshness (and
#    last_run); the daemon's health job at that time sends nothing again.
t6=$((T_2026_03_19_18 + 6 * 3600000))
ck_rc --symbols $syms health --now "$t6" >/dev/null 2>&1
assert_eq "$(slack health:freshness)" 1 "cron health delivered freshness"
assert_eq "$(pd health:freshness)" 1
n=$(got)
jobs=$(health_jobs)
fakex_ctl "clock?set=$((t6 + 60000))" >/dev/null
wait_health_job $((jobs + 1))
assert_file_match "$T/daemon.log" "job end: CANDLEKEEP WARNING - 0/2 symbols fresh"
assert_eq "$(got)" "$n" "the daemon does not send what cron health delivered"
assert_eq "$(slack health:backups)" 1 "nor health:backups again"

# 3. Fresh again, seen by the daemon first (its job at 20:01, after the clock was set
#    back): it resolves freshness and last_run; cron health then sends nothing.
jobs=$(health_jobs)
fakex_ctl "clock?set=$((T_2026_03_19_18 + 3600000))" >/dev/null
wait_log_n() { WAIT_SHOW="$T/daemon.log" wait_for 60 "'$1' in the daemon's log" grep -qs -- "$1" "$T/daemon.log"; }
wait_log_n "the clock went back"
t2=$((T_2026_03_19_18 + 2 * 3600000 + 60000))
fakex_ctl "clock?set=$t2" >/dev/null
wait_health_job $((jobs + 1))
wait_received 1 "x['path'] == '/v2/enqueue' and t.endswith('/health:last_run') and ' resolve ' in t" "the daemon's resolves"
assert_eq "$(slack health:freshness '[RESOLVED]')" 1 "the daemon resolved freshness"
assert_eq "$(pd health:freshness resolve)" 1
n=$(got)
ck_rc --symbols $syms health --now "$t2" >/dev/null 2>&1
assert_eq "$RC" 1 "cron health: WARNING (backups)"
assert_eq "$(got)" "$n" "cron health does not resolve again"
kill -TERM "$DPID"
wait "$DPID" || fail "daemon exit code after SIGTERM"
echo ok
