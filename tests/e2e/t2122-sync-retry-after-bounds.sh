#!/usr/bin/env bash
# Waits the exchange asks for are bounded and overflow-free. A 418 whose Retry-After is
# 10^12 s (or 9*10^18, near INT64_MAX) is honoured for [sync] max_ban only (3 days by
# default): the stored ban ends within it, no request is sent while it lasts, and
# `candlekeep ban`, health and metrics show it and `ban --clear` lifts it. A 429 asking for a wait longer
# than [http] retry_429_max_wait or the time left fails the run at once with exit 1,
# whichever endpoint answered it (time, exchangeInfo, klines), even with --timeout 0.
. "$(dirname "$0")/lib.sh"

now=$T_2026_03_19_18
fakex_start --data "$DATA" --now "$now"
max_ban=$((3 * DAY))

# 1. 418 with Retry-After 10^12 s: capped at 3 days.
fakex_ctl 'ban?seconds=5' >/dev/null
fakex_ctl 'faults?retry_after_force=1000000000000' >/dev/null
t0=$(date +%s%3N)
ck_rc -q --symbols BTCUSDT --timeout 10s sync >"$T/out" 2>&1
assert_eq "$RC" 1 "sync exit with a capped ban past its deadline"
until=$(sql "select value from state where key='ban_until'")
[ -n "$until" ] || fail "no ban stored"
[ "$until" -le $((t0 + max_ban + 60000)) ] || fail "ban stored until $until, more than 3 days after $t0"
[ "$until" -ge $((t0 + max_ban - 60000)) ] || fail "ban stored until $until, less than 3 days"
assert_file_match "$T/out" "max_ban"

# A later run sends nothing while it lasts; ban shows it; ban --clear lifts it.
n0=$(fakex_requests '"path":"/fapi/')
ck_rc -q --symbols BTCUSDT --timeout 10s sync >"$T/out" 2>&1
assert_eq "$RC" 1 "sync during the stored ban"
assert_eq "$(fakex_requests '"path":"/fapi/')" "$n0" "requests sent during the stored ban"
ck_rc ban >"$T/ban"
assert_eq "$RC" 1 "ban exit while banned"
assert_file_match "$T/ban" "banned until .* UTC"
ck_rc health >"$T/health"
assert_file_match "$T/health" "last_run.*the exchange banned this IP \(HTTP 418\) until"
ck metrics >"$T/metrics"
assert_file_match "$T/metrics" "^candlekeep_exchange_ban_until_timestamp_seconds $((until / 1000))"
ck_rc ban --clear >"$T/ban"
assert_eq "$RC" 0 "ban --clear exit"
ck_rc ban >"$T/ban"
assert_eq "$RC" 0 "ban exit after --clear"
assert_file_match "$T/ban" "no ban"

# 2. Retry-After near INT64_MAX: no overflow, the ban is not ignored (the run fails at
# once instead of hammering the exchange).
fakex_ctl 'ban?seconds=5' >/dev/null
fakex_ctl 'faults?retry_after_force=9000000000000000000' >/dev/null
n0=$(fakex_requests '"path":"/fapi/')
ck_rc -q --symbols BTCUSDT,ETHUSDT --timeout 5s sync >"$T/out" 2>&1
assert_eq "$RC" 1 "sync exit with a 9e18 s ban"
n=$(( $(fakex_requests '"path":"/fapi/') - n0 ))
[ "$n" -le 2 ] || fail "$n requests sent against a ban"
until=$(sql "select value from state where key='ban_until'")
t1=$(date +%s%3N)
[ "$until" -gt "$t1" ] && [ "$until" -le $((t1 + max_ban + 60000)) ] || fail "ban stored until $until"
ck ban --clear >/dev/null
fakex_ctl 'ban?seconds=0' >/dev/null

# 3. 429 with a huge Retry-After, no deadline: each endpoint fails the run at once, exit 1.
for path in time exchangeInfo klines; do
	fakex_ctl "faults?reset=1&p429=1&path=$path&retry_after_force=1000000000" >/dev/null
	RC=0
	timeout 30 "$CK" --db "$DB" --base-url "$FAKEX_URL" -q --symbols BTCUSDT --timeout 0 \
		sync >"$T/out" 2>&1 || RC=$?
	assert_eq "$RC" 1 "sync exit after a 429 with Retry-After 10^9 s on $path"
	assert_file_match "$T/out" "asked to wait 1000000000 s \(Retry-After\)"
done
# The same with a wait under retry_429_max_wait but past the run's deadline.
fakex_ctl "faults?reset=1&p429=1&path=klines&retry_after_force=120" >/dev/null
ck_rc -q --symbols BTCUSDT --timeout 20s sync >"$T/out" 2>&1
assert_eq "$RC" 1 "sync exit after a 429 longer than the time left"
assert_file_match "$T/out" "more than the run's time left"
fakex_ctl "faults?reset=1&retry_after_force=" >/dev/null
ck -q --symbols BTCUSDT sync >/dev/null
echo ok
