#!/usr/bin/env bash
# The live weight budget is the exchange's own (exchangeInfo rateLimits REQUEST_WEIGHT
# per MINUTE), not an assumed 2400: a backfill of many symbols against a server that
# enforces 60/min gets no 429 and its used weight stays within 95% of the limit. A limit
# the exchange reports above the configured one does not raise the budget; an absurdly
# low one is bounded (with a warning) instead of stalling the run.
. "$(dirname "$0")/lib.sh"

NOW=1767225600000 # 2026-01-01 00:00 UTC
NSYM=12
LIMIT=60
syms=$(i=0; while [ $i -lt $NSYM ]; do printf 'SYN%03dUSDT,' $i; i=$((i + 1)); done | sed 's/,$//')
avoid_minute_end() {
	local ms=$(( $(date +%s%3N) % 60000 ))
	if [ "$ms" -gt 50000 ]; then sleep "$(( (60000 - ms) / 1000 + 1 ))"; fi
}
# "t weight status" per /fapi request.
fapi_log() { grep '"path":"/fapi/' "$T/requests.jsonl" | sed -E 's/^\{"t":([0-9]+),.*"status":([0-9]+),"weight":([0-9]+),.*/\1 \3 \2/'; }
check_budget() { # $1: what
	fapi_log >"$T/fapi"
	note "$1: exit $RC; $(wc -l <"$T/fapi") requests; max used $(sort -k2n "$T/fapi" | tail -1)"
	assert_eq "$(awk '$3 == 429 || $3 == 418' "$T/fapi" | wc -l | tr -d ' ')" 0 "$1: 429/418 answers"
	over=$(awk -v lim=$((LIMIT * 95 / 100)) '$2 > lim' "$T/fapi" | head -1)
	[ -z "$over" ] || fail "$1: used weight over 95% of the limit $LIMIT: $over"
	# The budget bound the run: more weight was needed than one minute allows.
	[ "$(wc -l <"$T/fapi")" -ge $((LIMIT * 80 / 100)) ] || fail "$1: too few requests to reach the budget"
}

fakex_start --synthetic $NSYM --now $NOW --weight-limit $LIMIT
# 1. weight_limit 2400 configured: the exchange's 60 is the real limit and wins (a
#    budget from the configured 2400 would get 429s).
avoid_minute_end
ck_rc --symbols "$syms" --page-limit 20 --concurrency 4 --timeout 3 --weight-limit 2400 \
	backfill --since 2025-11-01 \
	--no-progress >"$T/out" 2>"$T/err"
check_budget "exchange limit"
[ "$RC" = 0 ] || [ "$RC" = 124 ] || { cat "$T/err"; fail "backfill exit $RC"; }

# 2. The exchange claims 10^9 a minute: the configured 60 stays the ceiling.
rm -f "$DB" "$DB-wal" "$DB-shm"
: >"$T/requests.jsonl"
fakex_ctl 'weight?used=0&advertise=1000000000' >/dev/null
avoid_minute_end
ck_rc --symbols "$syms" --page-limit 20 --concurrency 4 --timeout 3 --weight-limit $LIMIT \
	backfill --since 2025-11-01 --no-progress >"$T/out" 2>"$T/err"
check_budget "a lie above the configured limit"

# 3. The exchange claims 1 a minute (while allowing 2400): bounded and warned, and
#    the run completes.
rm -f "$DB" "$DB-wal" "$DB-shm"
: >"$T/requests.jsonl"
fakex_ctl 'weight?used=0&limit=2400&advertise=1' >/dev/null
ck_rc --symbols SYN000USDT,SYN001USDT --history-days 3 --timeout 60 sync >"$T/out" 2>"$T/err"
assert_eq "$RC" 0 "sync with an absurdly low reported limit"
assert_file_match "$T/err" "request weight limit of 1 per minute, implausibly low"
assert_file_match "$T/out" "sync ok: 2 symbols"
echo ok
