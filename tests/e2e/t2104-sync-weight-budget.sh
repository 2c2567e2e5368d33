#!/usr/bin/env bash
# The weight budget: candlekeep takes the limit from exchangeInfo's rateLimits and the
# used weight from X-MBX-USED-WEIGHT-1M, and slows down before the server would say
# 429 (no 429 in fakex's request log; every minute's used weight stays under the limit).
# Told a larger limit than the server's, it gets a 429 and honours its Retry-After: no
# request until it has passed (so never a 418 ban).
. "$(dirname "$0")/lib.sh"

now=$T_2026_03_19_18
syms=BTCUSDT,ETHUSDT,SOLUSDT,XRPUSDT
LIMIT=40

# Keep the interesting part of each run inside one wall-clock minute when we can.
avoid_minute_end() {
	local ms=$(( $(date +%s%3N) % 60000 ))
	if [ "$ms" -gt 55000 ]; then sleep "$(( (60000 - ms) / 1000 + 1 ))"; fi
}
# "t weight status" per /fapi request.
fapi_log() { grep '"path":"/fapi/' "$T/requests.jsonl" | sed -E 's/^\{"t":([0-9]+),.*"status":([0-9]+),"weight":([0-9]+),.*/\1 \3 \2/'; }

fakex_start --data "$DATA" --now "$now" --weight-limit $LIMIT
avoid_minute_end
# Another client (pretend) already used 20 of the 40 this minute.
fakex_ctl 'weight?used=20' >/dev/null
ck_rc --symbols $syms --history-days 30 --page-limit 20 --timeout 2 sync >"$T/out" 2>"$T/err"
fapi_log >"$T/fapi"
note "exit $RC; $(wc -l <"$T/fapi") requests; max used $(sort -k2n "$T/fapi" | tail -1)"
assert_eq "$(awk '$3 == 429 || $3 == 418' "$T/fapi" | wc -l | tr -d ' ')" 0 "429/418 answers"
# Per minute, the server's used weight never passed 90% of the limit (the reserve).
over=$(awk -v lim=$((LIMIT * 90 / 100)) '{ m = int($1 / 60000); if ($2 > lim) print }' "$T/fapi" | head -1)
[ -z "$over" ] || fail "used weight over the budget: $over"
minutes=$(awk '{ print int($1 / 60000) }' "$T/fapi" | sort -u | wc -l | tr -d ' ')
if [ "$minutes" = 1 ]; then
	# 36 pages of weight 1 do not fit in 16: the run stopped at the budget and its deadline ended it.
	assert_eq "$RC" 124 "run held back by the weight budget"
	assert_eq "$(sql "select status from runs order by id desc limit 1")" timeout
	[ "$(sql "select weight_used_max from runs order by id desc limit 1")" -ge 21 ] ||
		fail "the used weight the exchange reported was not recorded"
fi
# Everything stored is the recorded data.
for s in ${syms//,/ }; do
	ck export --symbol "$s" 2>/dev/null | cut -d, -f1-9 | sort >"$T/got"
	cut -d, -f1-9 "$DATA/$s-4h.csv" | sort >"$T/all"
	[ -z "$(comm -23 "$T/got" "$T/all" | head -1)" ] || fail "$s: stored rows not in the data"
done

# Told 100000/min, candlekeep runs into the server's limit: 429 with Retry-After to the
# end of the minute. Nothing is sent before it passes, so the server never bans (418).
# (The budget is never above the limit exchangeInfo reports, so the server also reports
# 100000 there while enforcing 40: a lying exchange.)
rm -f "$DB" "$DB-wal" "$DB-shm"
: >"$T/requests.jsonl"
avoid_minute_end
fakex_ctl 'weight?used=20&advertise=100000' >/dev/null
ck_rc --symbols $syms --history-days 30 --page-limit 20 --weight-limit 100000 --concurrency 1 --timeout 2 sync >"$T/out2" 2>"$T/err2"
fapi_log >"$T/fapi"
first429=$(awk '$3 == 429 { print $1; exit }' "$T/fapi")
[ -n "$first429" ] || fail "the server never said 429 (limit not reached?)"
assert_eq "$(awk '$3 == 418' "$T/fapi" | wc -l | tr -d ' ')" 0 "418 ban after a 429"
retry_end=$(( (first429 / 60000 + 1) * 60000 ))
early=$(awk -v a="$first429" -v b="$retry_end" '$1 > a && $1 < b - 1000' "$T/fapi" | wc -l | tr -d ' ')
assert_eq "$early" 0 "requests sent before the 429's Retry-After passed"
[ "$(sql "select http_429 from runs order by id desc limit 1")" -ge 1 ] || fail "429 not counted"
echo ok
