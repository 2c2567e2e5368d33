#!/usr/bin/env bash
# Nothing permanent from one empty answer. A gap the exchange answers empty once (a short
# page, a lagging exchange) stays missing and is fetched again; it becomes a confirmed
# exchange hole only when answered empty again on a run an hour or more later by both
# clocks, a day or more after it closed; the ledger says how (runs, observation times);
# `gaps --recheck` re-verifies it and gets the candles back once the exchange has them.
# A symbol's start comes from the first candle the exchange returns for startTime=0,
# never from an empty page: after an empty answer before the oldest stored candle,
# backfill --since still fetches that history once the exchange serves it.
. "$(dirname "$0")/lib.sh"

now=$T_2026_03_19_18
fakex_start --data "$DATA" --now "$now"
export CANDLEKEEP_FAULT_NOW=$now      # the local clock, moved with the exchange's below
export CANDLEKEEP_SYNC_VERIFY_DAYS=0  # no rolling re-verification in this test
ck -q --symbols BTCUSDT --history-days 20 sync >/dev/null 2>&1 || fail "first sync"

# Move both clocks by $1 ms.
advance() {
	fakex_ctl "clock?advance=$1" >/dev/null
	now=$((now + $1))
	export CANDLEKEEP_FAULT_NOW=$now
}

# 1. Three candles ten days back are lost; the exchange answers their range empty.
a=$(( now - now % H4 - 10 * DAY ))
sql "delete from candles where symbol='BTCUSDT' and open_time between $a and $((a + 2 * H4))"
fakex_ctl "faults?empty_from=$a&empty_to=$a" >/dev/null
ck -q --symbols BTCUSDT sync >/dev/null 2>&1 || fail "sync with the empty answer"
ck_rc gaps >"$T/gaps"
assert_eq "$RC" 1 "gaps exit after one empty answer"
assert_file_match "$T/gaps" "^3 candles missing, 0 in confirmed exchange holes"
assert_eq "$(sql "select runs || ' ' || confirmed_at from holes where first_open=$a")" "1 0" "ledger after one run"
ck health --full --now "$now" >"$T/health" 2>&1 || true
assert_file_match "$T/health" "^gaps +CRITICAL 3 candles missing in 1 symbols"
ck metrics >"$T/metrics"
assert_file_match "$T/metrics" '^candlekeep_candles_missing\{symbol="BTCUSDT",interval="4h",market="um"\} 3$'
assert_file_match "$T/metrics" '^candlekeep_candles_exchange_holes\{symbol="BTCUSDT",interval="4h",market="um"\} 0$'

# 2. Again at once, and half an hour later: still missing, fetched again each time.
n0=$(fakex_requests "startTime=$a")
ck -q --symbols BTCUSDT sync >/dev/null 2>&1
advance $((30 * 60000))
ck -q --symbols BTCUSDT sync >/dev/null 2>&1
assert_eq "$(( $(fakex_requests "startTime=$a") - n0 ))" 2 "re-fetches of the suspected range"
ck_rc gaps >"$T/gaps"
assert_eq "$RC" 1 "gaps exit within the hour"

# 3. Only the exchange's clock moved an hour: not enough.
fakex_ctl "clock?advance=$((30 * 60000))" >/dev/null
ck -q --symbols BTCUSDT sync >/dev/null 2>&1
ck_rc gaps >"$T/gaps"
assert_eq "$RC" 1 "gaps exit with only the exchange's clock an hour on"

# 4. Both clocks an hour past the first empty answer: confirmed, with its evidence.
now=$((now + 30 * 60000)); export CANDLEKEEP_FAULT_NOW=$now
ck -q --symbols BTCUSDT sync >/dev/null 2>&1
ck_rc gaps >"$T/gaps"
assert_eq "$RC" 0 "gaps exit once confirmed"
assert_file_match "$T/gaps" "^BTCUSDT .* 3 candles +exchange hole \(confirmed: empty on 5 runs, 2026-03-19 18:00 and 2026-03-19 19:00 UTC"
assert_file_match "$T/gaps" "^0 candles missing, 3 in confirmed exchange holes"
ck metrics >"$T/metrics"
assert_file_match "$T/metrics" '^candlekeep_candles_exchange_holes\{symbol="BTCUSDT",interval="4h",market="um"\} 3$'
ck gaps --json | grep -q '"kind":"exchange_hole","first_seen":1773943200000,"second_seen":1773946800000,"runs":5' ||
	fail "gaps --json lacks the hole's evidence"
n0=$(fakex_requests "startTime=$a")
ck -q --symbols BTCUSDT sync >/dev/null 2>&1
assert_eq "$(fakex_requests "startTime=$a")" "$n0" "a confirmed hole is not fetched again"

# 5. The exchange serves the candles again: gaps --recheck finds them.
fakex_ctl "faults?empty_to=0" >/dev/null
ck_rc -q --symbols BTCUSDT gaps --recheck >"$T/gaps" 2>&1
assert_eq "$RC" 0 "gaps --recheck exit"
assert_file_match "$T/gaps" "^0 candles missing, 0 in confirmed exchange holes"
assert_eq "$(sql "select count(*) from candles where symbol='BTCUSDT' and open_time between $a and $((a + 2 * H4))")" 3
assert_eq "$(sql "select count(*) from holes")" 0 "ledger rows left for a filled range"

# 6. The listing start: one empty page before the oldest stored candle proves nothing.
ck -q --symbols ETHUSDT --history-days 10 sync >/dev/null 2>&1 || fail "ETHUSDT sync"
eth_first=$(head -1 "$DATA/ETHUSDT-4h.csv" | cut -d, -f1)
assert_eq "$(sql "select first_open from symbols where symbol='ETHUSDT'")" "$eth_first" "start from the first candle"
since=$(( now - now % H4 - 20 * DAY ))
oldest=$(sql "select min(open_time) from candles where symbol='ETHUSDT'")
fakex_ctl "faults?empty_from=$since&empty_to=$since" >/dev/null
ck -q --symbols ETHUSDT backfill --since "$since" >/dev/null 2>&1 || fail "backfill with the empty answer"
assert_eq "$(sql "select min(open_time) from candles where symbol='ETHUSDT'")" "$oldest" "nothing older stored yet"
assert_eq "$(sql "select first_open from symbols where symbol='ETHUSDT'")" "$eth_first" "start after an empty page"
fakex_ctl "faults?empty_to=0" >/dev/null
ck -q --symbols ETHUSDT backfill --since "$since" >/dev/null 2>&1 || fail "backfill"
assert_eq "$(sql "select min(open_time) from candles where symbol='ETHUSDT'")" "$since" "older history fetched"
echo ok
