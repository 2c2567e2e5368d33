#!/usr/bin/env bash
# The SLA audit over a 30-day history played with the fake exchange's clock: a sync at
# every scheduled time (HH:05 after each 4h close) from 2026-02-16 20:05 to 2026-03-18
# 20:05, a daily backup at 02:00, three failed runs (two partial: one symbol's candles
# invalid; one failed: every request answered 5xx), and a 3-day outage (2026-03-09 ..
# 03-11: no sync, no backup). Then one candle deleted (missing) and one turned into a
# confirmed exchange hole. The audit must report exactly what that history implies,
# as text, JSON and HTML (opened in headless Chromium, screenshot taken).
. "$(dirname "$0")/lib.sh"

MIN=60000
D0=$((T_2026_03_01 - 12 * DAY))        # 2026-02-17 00:00 UTC: the period's start
END=$((D0 + 30 * DAY))                 # 2026-03-19 00:00 UTC: --now
OUT1=20; OUT2=22                       # outage days (0-based from D0)
export CANDLEKEEP_MAIN_SYMBOLS=BTCUSDT,ETHUSDT
export CANDLEKEEP_MAIN_HISTORY_DAYS=3
export CANDLEKEEP_HTTP_RETRY_5XX_MAX=0

fakex_start --data "$DATA" --now $((D0 - H4 + 5 * MIN))
ck -q sync >/dev/null 2>&1 || fail "first sync"

# ctl PATH: a fakex control request without starting curl (190 of them: bash's /dev/tcp).
ctl() {
	local port=${FAKEX_URL##*:} status
	exec 7<>"/dev/tcp/127.0.0.1/$port"
	printf 'POST /_ctl/%s HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 0\r\nConnection: close\r\n\r\n' "$1" >&7
	read -r _ status _ <&7 || true
	cat <&7 >/dev/null
	exec 7<&-
	[ "$status" = 200 ] || fail "fakex control $1: HTTP $status"
}
at() { ctl "clock?set=$1"; }
for d in $(seq 0 29); do
	[ "$d" -ge $OUT1 ] && [ "$d" -le $OUT2 ] && continue   # the outage: nothing runs
	for h in 0 4 8 12 16 20; do
		t=$((D0 + d * DAY + h * 3600000 + 5 * MIN))
		at "$t"
		fault=
		case "$d/$h" in
		5/8) fault='invalid_symbol=BTCUSDT' ;;
		12/16) fault='invalid_symbol=ETHUSDT' ;;
		8/12) fault='p5xx=1' ;;
		esac
		[ -z "$fault" ] || ctl "faults?$fault"
		RC=0; ck -q sync >>"$T/sync.out" 2>&1 || RC=$?
		if [ -n "$fault" ]; then
			ctl 'faults?reset=1'
			assert_eq "$RC" 1 "sync with $fault on day $d $h:05"
		else
			assert_eq "$RC" 0 "sync on day $d $h:05"
		fi
		if [ "$h" = 0 ]; then
			ck -q backup --now $((D0 + d * DAY + 2 * 3600000)) >>"$T/backup.out" 2>&1 ||
				{ tail "$T/backup.out"; fail "backup on day $d"; }
		fi
	done
done
assert_eq "$(sql "select count(*) from runs where command='sync'")" 163 "1 + 27 x 6 runs"

# One candle lost (missing), one the exchange confirmed empty (a hole, not missing).
LOST=$((D0 + 10 * DAY + 8 * 3600000))   # BTCUSDT 2026-02-27 08:00
HOLE=$((D0 + 15 * DAY + 12 * 3600000))  # ETHUSDT 2026-03-04 12:00
sql "delete from candles where symbol='BTCUSDT' and open_time=$LOST;
     delete from candles where symbol='ETHUSDT' and open_time=$HOLE;
     insert into holes (symbol, interval, first_open, last_open, confirmed_at) values ('ETHUSDT', '4h', $HOLE, $HOLE, $END)"

# The exchange's data over the period is complete (what "expected" relies on).
for s in BTCUSDT ETHUSDT; do
	assert_eq "$(awk -F, -v a=$D0 -v b=$((END - 2 * H4)) '$1 >= a && $1 <= b' "$DATA/$s-4h.csv" | wc -l | tr -d ' ')" 179
done

ck_rc audit --days 30 --now $END --json >"$T/audit.json" 2>"$T/audit.err"
assert_eq "$RC" 1 "audit exit (targets breached)"
j() { jq -r "$1" "$T/audit.json"; }
assert_eq "$(j .from)" "2026-02-17T00:00:00Z"
assert_eq "$(j .to)" "2026-03-19T00:00:00Z"
# Sync coverage: 27 of 30 days; 162 runs in the period, 159 ok; 3 listed.
assert_eq "$(j .sync.days_synced)/$(j .sync.days)" "27/30" "days with a successful sync"
assert_eq "$(j .sync.runs) $(j .sync.runs_ok)" "162 159" "runs in the period"
assert_eq "$(j '.failed_runs | length')" 3
assert_eq "$(j '[.failed_runs[] | .status + "@" + .at[0:16]] | del(.[1]) | join(" ")')" \
	"partial@2026-02-22T08:05 partial@2026-03-01T16:05" "failed runs"
# The run that never reached the exchange has no exchange time: placed between its
# neighbours (08:05 and 16:05 that day) from the local clock, and flagged.
assert_eq "$(j '.failed_runs[1] | .status + " " + (.estimated | tostring)')" "failed true"
f_at=$(j '.failed_runs[1].at')
[[ "$f_at" > "2026-02-25T08:05:00Z" && "$f_at" < "2026-02-25T16:05:00Z" ]] ||
	fail "estimated time of the failed run: $f_at"
assert_match "$(j '.failed_runs[0].error')" "BTCUSDT"
# Availability: 180 scheduled syncs, 18 lost to the outage, 3 to failures.
assert_eq "$(j .sync.scheduled) $(j .sync.scheduled_met)" "180 159"
t() { j ".targets[] | select(.name == \"$1\") | $2"; }
assert_eq "$(t availability .measured)" "88.33%"
assert_eq "$(t availability .met)" false
# Staleness: the outage leaves each symbol 3 days 5 minutes behind at its worst (the
# candle closed 03-09 00:00 is stored at 03-12 00:05); p99 of 43200 minutes = the 433rd
# worst minute = 4325 - 432 = 3893 min.
for s in BTCUSDT ETHUSDT; do
	q=".symbols[] | select(.symbol == \"$s\")"
	assert_eq "$(j "$q.samples")" 43200 "$s samples"
	assert_eq "$(j "$q.lag_worst_s")" $((4325 * 60)) "$s worst lag"
	assert_eq "$(j "$q.lag_p99_s")" $((3893 * 60)) "$s p99 lag"
	assert_eq "$(j "$q.age_worst_s")" $(((4325 + 240) * 60)) "$s worst age"
	assert_eq "$(j "$q.expected")" 179 "$s expected (up to the candle closed by 03-18 20:05)"
done
assert_eq "$(t rpo .measured)/$(t rpo .met)" "2d16h53m/false"
assert_eq "$(t freshness .measured)/$(t freshness .met)" "3d04h05m/false"
# Completeness
assert_eq "$(j '.symbols[0] | "\(.symbol) \(.stored) \(.holes) \(.missing)"')" "BTCUSDT 178 0 1"
assert_eq "$(j '.symbols[1] | "\(.symbol) \(.stored) \(.holes) \(.missing)"')" "ETHUSDT 178 1 0"
assert_eq "$(j '.symbols[0].gaps[0] | "\(.first) \(.count)"')" "2026-02-27T08:00:00Z 1"
assert_eq "$(j '.symbols[1].gaps | length')" 0 "a confirmed hole is not a gap"
assert_eq "$(t completeness .measured)" "1 missing"
# Backups: a verified backup on 27 days (hot and warm), retention kept within its days.
assert_eq "$(j '.backups[0] | "\(.tier) \(.days_with_verified) \(.compliant)"')" "hot 27 true"
assert_eq "$(j '.backups[1] | "\(.tier) \(.days_with_verified) \(.compliant)"')" "warm 27 true"
assert_eq "$(j '.backups[2] | "\(.tier) \(.configured)"')" "offsite false"
# The restore drill restored the newest backup, verified it, and was recorded.
assert_eq "$(j .restore_drill.ok)" true
assert_match "$(j .restore_drill.backup)" "candles-20260318T020000.000Z.db$"
assert_eq "$(t rto .met)" true
assert_eq "$(sql "select count(*) from events where kind='restore_drill'")" 1
# Daily chart data
assert_eq "$(j '[.daily[] | .scheduled_met] | map(tostring) | join(",")')" \
	"6,6,6,6,6,5,6,6,5,6,6,6,5,6,6,6,6,6,6,6,0,0,0,6,6,6,6,6,6,6" "met per day"
assert_eq "$(j '.daily[21].fresh_pct')" 0 "a day in the outage is never fresh"

# The text report says the same.
ck_rc audit --days 30 --now $END --no-drill >"$T/audit.txt" 2>&1
assert_eq "$RC" 1
assert_file_match "$T/audit.txt" "^  availability +BREACHED +88.33% +target >= 99.5%"
assert_file_match "$T/audit.txt" "^sync coverage: 27/30 days with a successful sync; 162 runs \(159 ok, 3 failed"
assert_file_match "$T/audit.txt" "no successful sync on 2026-03-10"
assert_file_match "$T/audit.txt" "^  BTCUSDT +3d00h05m +2d16h53m +3d04h05m"
assert_file_match "$T/audit.txt" "gap 2026-02-27 08:00 .. 2026-02-27 08:00 UTC \(1 candles\)"
assert_file_match "$T/audit.txt" "^  rto +BREACHED +not measured"

# A quiet week inside the period meets every target: exit 0.
ck_rc audit --days 5 --now $((D0 + 19 * DAY)) --json >"$T/week.json" 2>&1
assert_eq "$RC" 0 "a clean week: $(jq -c '[.targets[] | select(.met == false)]' "$T/week.json" 2>/dev/null)"
# in sync, a candle waits at most the 5 minutes to the next scheduled sync: p99 3 min
assert_eq "$(jq -r '.symbols[0].lag_p99_s' "$T/week.json")" 180

# HTML: self-contained, with the chart; Chromium renders it and takes a screenshot.
ck_rc audit --days 30 --now $END --no-drill --html "$T/audit.html" >/dev/null 2>&1
assert_eq "$RC" 1
assert_file_match "$T/audit.html" "<svg "
grep -Eq '(src|href)="?(https?:)?//' "$T/audit.html" && fail "the HTML loads an external resource"
CHROME=$(command -v chromium || command -v chromium-browser || command -v google-chrome || true)
[ -n "$CHROME" ] || fail "chromium not installed (scripts/deps.sh test installs it)"
timeout 60 "$CHROME" --headless --no-sandbox --disable-gpu --disable-quic --no-first-run \
	--disable-background-networking --disable-component-update --disable-sync \
	--user-data-dir="$T/chrome" --screenshot="$T/audit.png" --window-size=1200,900 \
	"file://$T/audit.html" >"$T/chrome.out" 2>&1 || { tail "$T/chrome.out"; fail "chromium failed"; }
[ -s "$T/audit.png" ] || fail "no screenshot"
size=$(stat -c %s "$T/audit.png")
[ "$size" -gt 20000 ] || fail "screenshot only $size bytes"
[ -z "${CK_KEEP_SCREENSHOT:-}" ] || cp "$T/audit.png" "$CK_KEEP_SCREENSHOT"
echo ok
