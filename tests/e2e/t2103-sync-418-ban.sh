#!/usr/bin/env bash
# HTTP 418: no /fapi request is sent between the client receiving the 418 and the end of
# its Retry-After (fakex's request log proves it), then the run goes on and completes.
# A ban that ends after the run's --timeout fails the remaining symbols at once with
# that reason; its end is kept in the database, so the next run sends nothing while it
# lasts, and a run after it ends proceeds.
. "$(dirname "$0")/lib.sh"

now=$T_2026_03_19_18
syms=BTCUSDT,ETHUSDT,SOLUSDT,XRPUSDT
LAT=40

# /fapi requests (t, status) in the request log, as "t status" lines.
fapi_log() { grep '"path":"/fapi/' "$T/requests.jsonl" | sed -E 's/^\{"t":([0-9]+),.*"status":([0-9]+),.*/\1 \2/'; }

# Waits (bounded) until fakex has logged at least $1 klines requests.
wait_klines() {
	local n=$1
	wait_for 30 "$n klines requests" '[ "$(fakex_requests /fapi/v1/klines)" -ge "$n" ]'
}

# 1. A 2 s ban in the middle of a run that has time to wait for it.
fakex_start --data "$DATA" --now "$now" --latency-ms $LAT
ck --symbols $syms --history-days 60 --page-limit 20 --concurrency 2 sync >"$T/out" 2>"$T/err" &
ckpid=$!
wait_klines 3
fakex_ctl 'ban?seconds=2' >"$T/ban.json"
ban_until=$(sed -E 's/.*"ban_until":([0-9]+).*/\1/' "$T/ban.json")
RC=0; wait $ckpid || RC=$?
[ "$RC" = 0 ] || { cat "$T/out" "$T/err"; fail "run with a 2 s ban: exit $RC"; }
fapi_log >"$T/fapi"
first418=$(awk '$2 == 418 { print $1; exit }' "$T/fapi")
[ -n "$first418" ] || fail "no 418 was served"
# The client learns of the 418 when it arrives (latency) plus scheduling slack; from then
# until the ban ends fakex must see no /fapi request.
from=$((first418 + LAT + 150))
bad=$(awk -v a="$from" -v b="$ban_until" '$1 > a && $1 < b' "$T/fapi" | wc -l | tr -d ' ')
assert_eq "$bad" 0 "requests sent during the ban (418 at $first418, ban until $ban_until)"
n418=$(awk '$2 == 418' "$T/fapi" | wc -l | tr -d ' ')
[ "$n418" -le 3 ] || fail "$n418 requests answered 418 (only those in flight may be)"
after=$(awk -v b="$ban_until" '$1 >= b' "$T/fapi" | wc -l | tr -d ' ')
[ "$after" -gt 0 ] || fail "no request after the ban ended"
assert_file_match "$T/out" "sync ok: 4 symbols \(4 ok"
assert_eq "$(sql "select http_418 from runs order by id desc limit 1")" "$n418" "418s counted in the run"
[ "$(sql "select value from state where key='ban_until'")" -ge $((ban_until - 1000)) ] ||
	fail "ban end not stored"

# 2. Ban at the start of a run: /fapi/v1/time and exchangeInfo go out together and both
# get the 418. A short ban is waited out, not failed, and waited out once: the second
# answer says the same ban, counted from when it arrived, not from when the run got
# round to reading it after the first wait (that moved the end by a whole ban and made
# the IPBanned alert resolve and fire again).
fakex_ctl 'ban?seconds=6' >"$T/ban.json"
ban_until=$(sed -E 's/.*"ban_until":([0-9]+).*/\1/' "$T/ban.json")
: >"$T/requests.jsonl"
ck_rc --symbols $syms --history-days 60 sync >"$T/out2" 2>&1
[ "$RC" = 0 ] || { cat "$T/out2"; fail "a 6 s ban on /fapi/v1/time with a 30 min deadline failed the run (exit $RC)"; }
assert_eq "$(fakex_requests '"status":418')" 2 "418s to the run's first round trip (/time and exchangeInfo)"
stored=$(sql "select value from state where key='ban_until'")
# Retry-After is whole seconds rounded up, so the client's end is up to 1 s past fakex's,
# plus the answer's time in transit; a second count from the late read is 6 s past.
[ "$stored" -lt $((ban_until + 4000)) ] ||
	fail "ban end stored as $stored, $((stored - ban_until)) ms after the exchange's ($ban_until)"

fakex_ctl 'ban?seconds=0' >/dev/null

# 3. A ban longer than the run's --timeout: the remaining symbols fail at once.
rm -f "$DB" "$DB-wal" "$DB-shm"
: >"$T/requests.jsonl"
ck --symbols $syms --history-days 60 --page-limit 20 --concurrency 2 --timeout 20 sync >"$T/out4" 2>"$T/err4" &
ckpid=$!
wait_klines 3
fakex_ctl 'ban?seconds=60' >"$T/ban.json"
ban_until=$(sed -E 's/.*"ban_until":([0-9]+).*/\1/' "$T/ban.json")
t0=$(date +%s%3N)
RC=0; wait $ckpid || RC=$?
took=$(( $(date +%s%3N) - t0 ))
assert_eq "$RC" 1 "a 60 s ban beyond a 20 s deadline"
# Waiting for the ban would take the run to its 20 s deadline (exit 124); failing at
# once ends it well before that, however loaded the machine.
[ "$took" -lt 15000 ] || fail "the run waited ${took} ms instead of failing at once"
assert_file_match "$T/out4" "failed .*418"
nf=$(grep -c ' failed .*418' "$T/out4")
assert_eq "$(sql "select count(*) from run_symbols where run_id=(select max(id) from runs) and status='failed' and error like '%418%'")" "$nf"
[ "$nf" -ge 1 ] || fail "no symbol failed with the ban's reason"
stored=$(sql "select value from state where key='ban_until'")
[ "$stored" -ge $((ban_until - 2000)) ] || fail "ban end $ban_until not stored (state has '$stored')"
# Everything stored is the recorded data.
for s in ${syms//,/ }; do
	ck export --symbol "$s" 2>/dev/null | cut -d, -f1-9 | sort >"$T/got"
	cut -d, -f1-9 "$DATA/$s-4h.csv" | sort >"$T/all"
	[ -z "$(comm -23 "$T/got" "$T/all" | head -1)" ] || fail "$s: stored rows not in the data"
done

# 4. The next run, started during the ban, sends nothing and says why.
fakex_ctl 'ban?seconds=0' >/dev/null   # the exchange forgets; candlekeep must not
before=$(fakex_requests '"path":"/fapi/')
ck_rc --symbols $syms --timeout 10 sync >"$T/out5" 2>&1
assert_eq "$RC" 1 "run during a stored ban"
assert_eq "$(fakex_requests '"path":"/fapi/')" "$before" "requests sent during a stored ban"
assert_file_match "$T/out5" "418"

# 5. After the ban ends, a run proceeds: shorten the stored end (as if time passed).
sql "update state set value='$(( $(date +%s%3N) - 1000 ))' where key='ban_until'"
ck_rc -q --symbols $syms --history-days 60 sync >"$T/out6" 2>&1
assert_eq "$RC" 0 "run after the ban ended"
[ "$(fakex_requests '"path":"/fapi/')" -gt "$before" ] || fail "no request after the ban"
echo ok
