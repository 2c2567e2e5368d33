#!/usr/bin/env bash
# An exchange that answers HTTP 418 to every request (issue 18): sync's first round trip
# (/fapi/v1/time, exchangeInfo) waits out the ban it announces once, and when the
# request after it is banned again the run fails with the ban's reason (exit 1, as a
# ban past the deadline does), without --timeout: it does not wait ban after ban until
# the run's default deadline (30 min) or forever. The ban's end is kept in the database
# (candlekeep ban shows it). A Retry-After that lies (huge) is capped to [sync] max_ban,
# past the deadline: no wait, no request more. Request counts, no timed assertion.
. "$(dirname "$0")/lib.sh"

now=$T_2026_03_19_18
fakex_start --data "$DATA" --now "$now"

# 1. Every answer a 418 with Retry-After 1 (a one-second ban, again and again).
fakex_ctl 'faults?p418=1&ban_seconds=1&retry_after_force=1' >/dev/null
RC=0
timeout 120 env CANDLEKEEP_HTTP_RETRY_NET_BASE_MS=50 "$CK" --db "$DB" --base-url "$FAKEX_URL" \
	--symbols BTCUSDT,ETHUSDT sync >"$T/out" 2>"$T/err" || RC=$?
[ "$RC" != 124 ] || { cat "$T/out" "$T/err"; fail "sync still waited ban after ban (killed after 120 s)"; }
assert_eq "$RC" 1 "exit code of a run the exchange bans on every answer"
assert_file_match "$T/err" "HTTP 418 again after its ban was waited out"
assert_file_match "$T/err" "banned until [0-9-]+ [0-9:]+ UTC"
assert_file_match "$T/err" "candlekeep ban"
assert_file_match "$T/out" "BTCUSDT +failed .*418"
# /time and exchangeInfo at once, both 418; /time again after the ban: 418 again, the end.
assert_eq "$(fakex_requests '"path":"/fapi/v1/time"')" 2 "/fapi/v1/time requests"
assert_eq "$(fakex_requests '"path":"/fapi/v1/exchangeInfo"')" 1 "exchangeInfo requests"
assert_eq "$(fakex_requests '"path":"/fapi/v1/klines')" 0 "klines requests"
[ -n "$(sql "select value from state where key='ban_until'")" ] || fail "the ban's end is not kept"
n418=$(sql "select http_418 from runs order by id desc limit 1")
[ "$n418" -ge 2 ] || fail "$n418 418s counted in the run (2 /time answers at least)"

# 2. A Retry-After that lies (ten thousand years): capped to [sync] max_ban (3 days), past
# the run's default deadline: the run fails at once, no request after the first two.
ck ban --clear >/dev/null
: >"$T/requests.jsonl"
fakex_ctl 'faults?retry_after_force=315360000000' >/dev/null
RC=0
timeout 120 env CANDLEKEEP_HTTP_RETRY_NET_BASE_MS=50 "$CK" --db "$DB" --base-url "$FAKEX_URL" \
	--symbols BTCUSDT,ETHUSDT sync >"$T/out2" 2>"$T/err2" || RC=$?
assert_eq "$RC" 1 "exit code of a run banned past its deadline"
assert_file_match "$T/err2" "more than \\[sync\\] max_ban"
assert_eq "$(fakex_requests '"path":"/fapi/')" 2 "requests of a run banned past its deadline"
stored=$(sql "select value from state where key='ban_until'")
[ "$stored" -le $(($(date +%s%3N) + 3 * DAY + 60000)) ] || fail "ban end $stored not capped to max_ban"
ck_rc ban >"$T/ban2"
assert_eq "$RC" 1 "candlekeep ban during a ban"
assert_file_match "$T/ban2" "banned until .* UTC"
echo ok
