#!/usr/bin/env bash
# --lookback N re-fetches the last N closed candles and overwrites only values that
# differ, counting revisions: a stored candle altered by hand is restored and counted
# (runs.candles_revised = 1); unchanged candles are not counted; without --lookback and
# with re-verification off ([sync] verify_recent 0, verify_days 0) the altered candle
# (not a gap) is left alone.
. "$(dirname "$0")/lib.sh"

now=$T_2026_03_19_18
fakex_start --data "$DATA" --now "$now"
ck -q --symbols BTCUSDT,ETHUSDT --history-days 10 sync >/dev/null 2>&1 || fail "first sync"
ck export --symbol BTCUSDT >"$T/before" 2>/dev/null
target=$(( now - now % H4 - 2 * H4 ))   # the second newest closed candle
assert_eq "$(sql "update candles set close='1.00', high='99999999.00' where symbol='BTCUSDT' and open_time=$target;
	select changes()")" 1 "the candle altered by hand (stored, and changed)"
CANDLEKEEP_SYNC_VERIFY_RECENT=0 CANDLEKEEP_SYNC_VERIFY_DAYS=0 \
	ck -q --symbols BTCUSDT,ETHUSDT sync >"$T/out" 2>&1 || fail "sync without lookback"
assert_eq "$(sql "select close from candles where symbol='BTCUSDT' and open_time=$target")" "1.00" "plain sync rewrote a stored candle"
ck_rc --symbols BTCUSDT,ETHUSDT --lookback 3 sync >"$T/out" 2>"$T/err"
assert_eq "$RC" 0 "lookback run"
assert_eq "$(sql 'select candles_revised from runs order by id desc limit 1')" 1 "runs.candles_revised"
assert_eq "$(sql 'select candles_written from runs order by id desc limit 1')" 0 "runs.candles_written"
assert_eq "$(sql "select candles_revised from run_symbols where run_id=(select max(id) from runs) and symbol='BTCUSDT'")" 1
assert_eq "$(sql "select candles_revised from run_symbols where run_id=(select max(id) from runs) and symbol='ETHUSDT'")" 0
assert_file_match "$T/out" "1 revised"
ck export --symbol BTCUSDT >"$T/after" 2>/dev/null
cmp -s "$T/before" "$T/after" || fail "the candle was not restored"
# It asked for exactly the last 3 closed candles of each symbol.
assert_eq "$(grep -c 'klines.*limit=3"' "$T/requests.jsonl")" 2 "pages of 3 candles"
# Again: nothing differs, nothing revised.
ck -q --symbols BTCUSDT,ETHUSDT --lookback 3 sync >/dev/null 2>&1
assert_eq "$(sql 'select candles_revised from runs order by id desc limit 1')" 0 "revisions without a difference"
echo ok
