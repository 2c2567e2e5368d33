#!/usr/bin/env bash
# 1M (calendar months) side by side with 4h from fakex --synthetic: one sync stores every
# closed month, equal to fakex's own answer (open and close times, prices); the current
# month is not stored until it has closed (one ms before the 1st: still open; after it:
# stored); a month deleted by hand is found by gaps (and gaps --verify agrees with the
# ledger) and repaired by the next sync; a second sync writes nothing; health judges the
# month's freshness by thresholds derived from a month's length.
. "$(dirname "$0")/lib.sh"

start=1735689600000 # 2025-01-01 00:00 UTC: fakex's first candle
jun=1748736000000   # 2025-06-01
feb=1769904000000   # 2026-02-01
mar=1772323200000   # 2026-03-01
apr=1775001600000   # 2026-04-01
now=1773576000000   # 2026-03-15 12:00 UTC
H4=14400000
fakex_start --synthetic 1 --synthetic-start "$start" --now "$now"
export CANDLEKEEP_FAULT_NOW=$now
sym=SYN000USDT
run() { ck -q --symbols $sym --history-days 500 --interval 1M,4h "$@"; }

# fakex's 1M candles of SYN000USDT from 2025-01, as "open_time,open,high,low,close,close_time"
fakex_months() {
	curl -fsS -m 5 "$FAKEX_URL/fapi/v1/klines?symbol=$sym&interval=1M&startTime=$start&limit=100" |
		jq -r --argjson now "$1" '.[] | select(.[6] < $now) | [.[0], .[1], .[2], .[3], .[4], .[6]] | map(tostring) | join(",")'
}
stored_months() {
	sql "select open_time || ',' || open || ',' || high || ',' || low || ',' || close || ',' || close_time
	     from candles where interval = '1M' order by open_time"
}

# 1. One sync: 14 closed months (2025-01 .. 2026-02), each from the 1st 00:00 UTC to one
#    ms before the next month; March 2026 is open and not stored. 4h beside it as before.
run sync >"$T/s1" 2>&1 || { cat "$T/s1"; fail "first sync"; }
assert_eq "$(grep -c '^sync 1M ok: ' "$T/s1")" 1 "a 1M run"
assert_eq "$(grep -c '^sync 4h ok: ' "$T/s1")" 1 "a 4h run"
assert_eq "$(sql "select count(*) from candles where interval = '1M'")" 14 "closed months stored"
assert_eq "$(sql "select min(open_time) || ',' || max(open_time) from candles where interval = '1M'")" \
	"$start,$feb" "first and last month"
assert_eq "$(sql "select close_time from candles where interval = '1M' and open_time = $feb")" \
	$((mar - 1)) "February closes one ms before March"
assert_eq "$(sql "select count(*) from candles where interval = '1M' and open_time = $mar")" 0 \
	"the current month is not stored"
fakex_months "$now" >"$T/want"
assert_eq "$(wc -l <"$T/want" | tr -d ' ')" 14 "fakex's closed months"
stored_months >"$T/got"
diff "$T/want" "$T/got" >&2 || fail "stored months differ from fakex's answer"
# 4h: every closed candle since fakex's first, the newest the one closing at now
assert_eq "$(sql "select count(*) from candles where interval = '4h'")" $(((now - start) / H4)) "4h candles"
assert_eq "$(sql "select max(open_time) from candles where interval = '4h'")" $((now - H4)) "newest 4h"

# 2. A second sync writes nothing in either interval.
run sync >"$T/s2" 2>&1 || { cat "$T/s2"; fail "second sync"; }
assert_eq "$(grep -c ' 0 candles written' "$T/s2")" 2 "second sync writes nothing"

# 3. health: the newest closed month (closed 14.5 days ago) is fresh for 1M.
ck_rc --symbols $sym --interval 1M,4h health --now "$now" >"$T/h" 2>&1
assert_file_match "$T/h" "^freshness/1M +OK +1/1 symbols fresh"
assert_file_match "$T/h" "^gaps/1M +OK"

# 4. A month deleted by hand: gaps lists it missing (1 candle), --verify agrees with the
#    ledger; the next sync fetches it again, equal to fakex's.
sql "delete from candles where interval = '1M' and open_time = $jun"
ck_rc --symbols $sym --interval 1M gaps >"$T/g1"
assert_eq "$RC" 1 "gaps with a month deleted"
assert_file_match "$T/g1" "^SYN000USDT +2025-06-01 00:00 .* +1 candles +MISSING"
ck_rc --symbols $sym --interval 1M gaps --verify >"$T/g2"
assert_file_match "$T/g2" "^coverage ledger of 1M: 0 rows disagreed"
run sync >"$T/s3" 2>&1 || { cat "$T/s3"; fail "repairing sync"; }
stored_months >"$T/got"
diff "$T/want" "$T/got" >&2 || fail "the repaired month differs from fakex's answer"
ck_rc --symbols $sym --interval 1M,4h gaps >"$T/g3"
assert_eq "$RC" 0 "gaps after the repair"

# 5. One ms before April, March is still open: not stored. Once April has begun it is.
last=$((apr - 1))
fakex_ctl "clock?set=$last" >/dev/null
CANDLEKEEP_FAULT_NOW=$last run sync >"$T/s4" 2>&1 || { cat "$T/s4"; fail "sync before April"; }
assert_eq "$(sql "select count(*) from candles where interval = '1M' and open_time = $mar")" 0 \
	"March stored before it closed"
after=$((apr + 300000))
fakex_ctl "clock?set=$after" >/dev/null
CANDLEKEEP_FAULT_NOW=$after run sync >"$T/s5" 2>&1 || { cat "$T/s5"; fail "sync after April began"; }
assert_eq "$(sql "select count(*) from candles where interval = '1M'")" 15 "March stored once closed"
fakex_months "$after" >"$T/want"
stored_months >"$T/got"
diff "$T/want" "$T/got" >&2 || fail "months after March closed differ from fakex's answer"
assert_eq "$(sql "select close_time from candles where interval = '1M' and open_time = $mar")" \
	$((apr - 1)) "March closes one ms before April"
CANDLEKEEP_FAULT_NOW=$after run sync >"$T/s6" 2>&1 || { cat "$T/s6"; fail "sync again"; }
assert_eq "$(grep -c ' 0 candles written' "$T/s6")" 2 "a sync after that writes nothing"
echo "ok"
