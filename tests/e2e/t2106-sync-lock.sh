#!/usr/bin/env bash
# Two concurrent runs: the second exits 75 at once with a message naming the holder's
# pid and sends no request; after kill -9 of the holder the next run proceeds (the
# flock died with it, the lock file left behind does not block).
. "$(dirname "$0")/lib.sh"

now=$T_2026_03_19_18
fakex_start --data "$DATA" --now "$now" --latency-ms 300
args=(--symbols BTCUSDT,ETHUSDT --history-days 30 --page-limit 20 --concurrency 1)

(exec env CANDLEKEEP_HTTP_RETRY_NET_BASE_MS=50 "$CK" --db "$DB" --base-url "$FAKEX_URL" -q "${args[@]}" sync >"$T/out1" 2>&1) &
holder=$!
# Bounded wait until the holder has started fetching (so it holds the lock).
wait_for 30 "the first run's first klines request" '[ "$(fakex_requests /fapi/v1/klines)" -ge 1 ]'
# Pointed at a second fakex: the run that does not get the lock must send it nothing.
main_url=$FAKEX_URL
"$FAKEX" --port 0 --port-file "$T/fx2.port" --request-log "$T/requests2.jsonl" --data "$DATA" --now "$now" >/dev/null 2>&1 &
_pids+=($!)
wait_for 30 "the second fakex's port file" test -s "$T/fx2.port"
FAKEX_URL="http://127.0.0.1:$(cat "$T/fx2.port")"
ck_rc "${args[@]}" sync >"$T/out2" 2>"$T/err2"
assert_eq "$RC" 75 "second run's exit code"
# It gave up at once: the holder (minutes of 300 ms pages) has not finished (no clock
# is compared: a loaded machine must not fail this).
kill -0 "$holder" 2>/dev/null || fail "the holder ended before the second run gave up: it waited for the lock"
assert_file_match "$T/err2" "pid $holder"
assert_eq "$(wc -l <"$T/err2" | tr -d ' ')" 1 "one line on stderr"
assert_eq "$(grep -c fapi "$T/requests2.jsonl" 2>/dev/null || true)" 0 "requests sent by the run that did not get the lock"
FAKEX_URL=$main_url
# backfill and import take the same lock.
ck_rc --symbols BTCUSDT backfill --since 2026-03-01 --no-progress >/dev/null 2>"$T/err3"
assert_eq "$RC" 75 "backfill during a sync"
assert_file_match "$T/err3" "pid $holder"

kill -9 "$holder"
wait "$holder" 2>/dev/null || true
fakex_ctl 'faults?latency_ms=0' >/dev/null
[ -e "$DB.lock" ] && note "lock file left behind by the killed holder (must not block)"
ck_rc "${args[@]}" --history-days 30 sync >"$T/out4" 2>&1
assert_eq "$RC" 0 "run after kill -9 of the holder"
assert_file_match "$T/out4" "sync ok: 2 symbols"
assert_eq "$(sqlite3 "$DB" 'PRAGMA integrity_check')" ok
echo ok
