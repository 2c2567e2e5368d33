#!/usr/bin/env bash
# Served the spot files with their real 2018-2020 exchange holes: backfill sees them
# empty once (suspected, still missing); a sync a day later sees them empty again and
# confirms them; a third sync sends no request for them, and gaps lists them as
# exchange holes with their evidence, not as missing data.
. "$(dirname "$0")/lib.sh"

now=1583020800000   # 2020-03-01 00:00 UTC
fakex_start --data "$DATA/spot" --now "$now"
export CANDLEKEEP_FAULT_NOW=$now   # the local clock agrees with the exchange's
export CANDLEKEEP_SYNC_VERIFY_DAYS=0 # no rolling re-verification: request counts below
ck_rc --symbols BTCUSDT,ETHUSDT backfill --since 2017-06-01 --timeout 0 >"$T/out" 2>"$T/err"
[ "$RC" = 0 ] || { cat "$T/out" "$T/err"; fail "backfill exit $RC"; }

# Every candle of the files up to now is stored, byte for byte (12 columns).
for s in BTCUSDT ETHUSDT; do
	expected_rows "$DATA/spot/$s-4h.csv" "$now" 0 0 >"$T/want"
	ck export --symbol "$s" >"$T/got" 2>/dev/null
	cmp -s "$T/want" "$T/got" || { diff "$T/want" "$T/got" | head; fail "$s differs"; }
done

# One empty answer proves nothing: the 16 ranges are suspected, still missing.
ck_rc gaps >"$T/gaps"
assert_eq "$RC" 1 "gaps exit after one observation"
assert_file_match "$T/gaps" "^32 candles missing, 0 in confirmed exchange holes"
assert_eq "$(sql 'select count(*) from holes where confirmed_at = 0 and runs = 1')" 16

# A day later (both clocks), empty again: confirmed.
fakex_ctl "clock?advance=$DAY" >/dev/null
export CANDLEKEEP_FAULT_NOW=$((now + DAY))
ck -q --symbols BTCUSDT,ETHUSDT sync >"$T/out1" 2>&1 || { cat "$T/out1"; fail "second sync"; }
now=$((now + DAY))

# The holes: 8 per symbol before 2020-03-01, 16 candles (7+2+1+1+1+2+1+1).
ck_rc gaps >"$T/gaps"
assert_eq "$RC" 0 "gaps exit (nothing missing)"
assert_file_match "$T/gaps" "^BTCUSDT +2018-02-08 04:00 .. 2018-02-09 04:00 UTC +7 candles +exchange hole"
assert_eq "$(grep -c 'exchange hole (confirmed:' "$T/gaps")" 16
assert_file_match "$T/gaps" "^0 candles missing, 32 in confirmed exchange holes"
assert_eq "$(sql 'select count(*) from holes where confirmed_at > 0 and runs = 2')" 16
assert_file_match "$T/gaps" "empty on 2 runs, 2020-03-01 00:00 and 2020-03-02 00:00 UTC"

# Nothing before the listing is asked again, and the holes are not re-fetched.
n0=$(fakex_requests '"path":"/fapi/v1/klines"')
fakex_ctl "clock?advance=$DAY" >/dev/null
export CANDLEKEEP_FAULT_NOW=$((now + DAY))
ck -q --symbols BTCUSDT,ETHUSDT sync >"$T/out2" 2>&1 || { cat "$T/out2"; fail "third sync"; }
assert_file_match "$T/out2" "12 candles written"
assert_eq "$(( $(fakex_requests '"path":"/fapi/v1/klines"') - n0 ))" 2 "klines requests of the third sync"
grep '"path":"/fapi/v1/klines"' "$T/requests.jsonl" | tail -2 | grep -q "startTime=$now" ||
	fail "the third sync should ask only for the new day (and the re-verified last 2)"
echo ok
