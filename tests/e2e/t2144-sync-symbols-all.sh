#!/usr/bin/env bash
# symbols = all on um, cm and spot: every TRADING symbol of the market; a symbol listed
# between two runs is picked up by the next and backfilled from its listing date (not
# only history_days back), with no more kline requests than the pages needed plus one per
# symbol; a symbol that stops trading is no longer fetched, its candles are kept and
# health does not call it stale (it says delisted); an exchangeInfo that lists nothing,
# or fails, once drops nothing.
. "$(dirname "$0")/lib.sh"

now=1767225600000 # 2026-01-01 00:00 UTC
fakex_start --synthetic 4 --synthetic-start $((now - 30 * DAY)) --now "$now"

hnow() { date -u -d "@$(($1 / 1000))" '+%Y-%m-%d %H:%M'; }

for mk in um cm spot; do
	case $mk in
	um) s0=SYN000USDT s1=SYN001USDT s2=SYN002USDT s3=SYN003USDT prefix=/fapi/v1 gone=SETTLING ;;
	cm) s0=SYN000USD_PERP s1=SYN001USD_PERP s2=SYN002USD_PERP s3=SYN003USD_PERP prefix=/dapi/v1 gone=SETTLING ;;
	spot) s0=SYN000USDT s1=SYN001USDT s2=SYN002USDT s3=SYN003USDT prefix=/api/v3 gone=BREAK ;;
	esac
	mq() { sql "select $1 from candles where market='$mk' and symbol='$2'"; }
	fakex_ctl 'clock?set='$now >/dev/null
	fakex_ctl "symbol?symbol=$s2&status=TRADING" >/dev/null
	# s3 is listed one day after the first run
	listed=$((now + DAY))
	fakex_ctl "symbol?symbol=$s3&onboard=$listed" >/dev/null

	# 1. First sync: the three symbols trading, history_days back.
	ck_rc --market $mk --symbols all --history-days 2 sync >"$T/out1" 2>"$T/err1"
	[ "$RC" = 0 ] || { cat "$T/out1" "$T/err1"; fail "$mk: first sync"; }
	assert_file_match "$T/out1" "sync ok: 3 symbols \(3 ok"
	for s in $s0 $s1 $s2; do
		assert_eq "$(mq 'min(open_time)' $s)" $((now - 2 * DAY)) "$mk $s first candle"
	done
	assert_eq "$(mq 'count(*)' $s3)" 0 "$mk: $s3 before its listing"
	# s2's history has a hole before it is delisted (two candles deleted by hand)
	mid=$((now - DAY))
	sql "delete from candles where market='$mk' and symbol='$s2' and open_time between $mid and $((mid + H4))"

	# 2. Five days on: s3 listed four days ago, s2 stopped trading.
	t2=$((now + 5 * DAY))
	fakex_ctl "clock?set=$t2" >/dev/null
	fakex_ctl "symbol?symbol=$s2&status=$gone" >/dev/null
	before2=$(mq 'count(*)' $s2)
	: >"$T/requests.jsonl"
	ck_rc --market $mk --symbols all --history-days 2 sync >"$T/out2" 2>"$T/err2"
	[ "$RC" = 0 ] || { cat "$T/out2" "$T/err2"; fail "$mk: second sync"; }
	assert_eq "$(mq 'min(open_time)' $s3)" $listed "$mk: $s3 backfilled from its listing date"
	assert_eq "$(mq 'max(open_time)' $s3)" $((t2 - H4)) "$mk: $s3 newest"
	assert_eq "$(mq 'max(open_time)' $s0)" $((t2 - H4)) "$mk: $s0 newest"
	assert_eq "$(fakex_requests "\"path\":\"$prefix/klines\".*symbol=$s2[&\"]")" 0 "$mk: klines asked for $s2 ($gone)"
	assert_eq "$(mq 'count(*)' $s2)" "$before2" "$mk: $s2's candles kept"
	# pages needed: s0, s1 one page each (5 days of 4h candles), s3 one page; plus one
	# request per symbol (the listing start)
	k=$(fakex_requests "\"path\":\"$prefix/klines\"")
	[ "$k" -le $((3 + 3)) ] || { grep klines "$T/requests.jsonl" >&2; fail "$mk: $k kline requests > 3 pages + 3 symbols"; }

	# health with all: the delisted symbol is not stale, it is delisted
	# (no backup in this test: the backups check is CRITICAL; the symbol checks are read)
	ck_rc --market $mk --symbols all health --now "$(hnow $t2)" >"$T/h2" 2>&1
	assert_file_match "$T/h2" "^freshness OK .*3/3 symbols fresh.*1 delisted not judged \($s2"
	assert_file_match "$T/h2" "^coverage +OK +3/3 configured symbols present"
	assert_file_match "$T/h2" "^gaps +(WARNING|CRITICAL) .*$s2"
	# gaps and export work from what is stored: the delisted symbol's hole is reported,
	# its candles exported
	ck_rc --market $mk --symbols all gaps >"$T/g2" 2>&1
	assert_eq "$RC" 1 "$mk: gaps exit with the delisted symbol's hole"
	assert_file_match "$T/g2" "^$s2 .* +2 candles +MISSING"
	assert_eq "$(grep -c MISSING "$T/g2")" 1 "$mk: gaps lines ($(cat "$T/g2"))"
	ck --market $mk --symbols all export --symbol $s2 >"$T/x2" 2>&1 || { cat "$T/x2"; fail "$mk: export $s2"; }
	assert_eq "$(grep -c '^[0-9]' "$T/x2")" "$before2" "$mk: $s2 rows exported"
	ck_rc --market $mk --symbols all metrics >"$T/m2" 2>&1
	assert_eq "$RC" 0 "$mk: metrics"
	assert_file_match "$T/m2" "candlekeep_symbol_configured\{symbol=\"$s3\""
	grep -q "candlekeep_symbol_configured{symbol=\"$s2\"" "$T/m2" && fail "$mk: $s2 still configured in the metrics (DataStale would fire)"

	# 3. exchangeInfo lists nothing once, then fails once: nothing dropped.
	for f in 'exinfo_empty=1' 'path=exchangeInfo&pmalformed=1'; do
		t2=$((t2 + H4))
		fakex_ctl "clock?set=$t2" >/dev/null
		fakex_ctl "faults?reset=1&$f" >/dev/null
		ck_rc --market $mk --symbols all --history-days 2 sync >"$T/out3" 2>"$T/err3"
		fakex_ctl 'faults?reset=1' >/dev/null
		[ "$RC" = 0 ] || { cat "$T/out3" "$T/err3"; fail "$mk: sync with $f"; }
		for s in $s0 $s1 $s3; do
			assert_eq "$(mq 'max(open_time)' $s)" $((t2 - H4)) "$mk: $s newest after $f"
		done
		ck_rc --market $mk --symbols all health --now "$(hnow $t2)" >"$T/h3" 2>&1
		assert_file_match "$T/h3" "^freshness OK .*3/3 symbols fresh.*1 delisted not judged"
		assert_file_match "$T/h3" "^coverage +OK +3/3"
	done
	# 4. The next good answer: still the same three trading, s2 still kept.
	t2=$((t2 + H4))
	fakex_ctl "clock?set=$t2" >/dev/null
	ck_rc --market $mk --symbols all --history-days 2 sync >"$T/out4" 2>"$T/err4"
	assert_eq "$RC" 0 "$mk: sync after the faults"
	assert_file_match "$T/out4" "sync ok: 3 symbols \(3 ok"
	assert_eq "$(mq 'count(*)' $s2)" "$before2" "$mk: $s2's candles kept"
	# audit: the delisted symbol is judged up to its delisting: its hole counted, not
	# the candles after it, and no staleness once it is no longer fetched
	ck_rc --market $mk --symbols all audit --days 7 --now "$(hnow $t2)" --json >"$T/a4" 2>"$T/a4err"
	q=".symbols[] | select(.symbol == \"$s2\")"
	assert_eq "$(jq -r "$q.missing" "$T/a4")" 2 "$mk: audit: $s2 missing ($(cat "$T/a4err"))"
	[ "$(jq -r "$q.age_worst_s" "$T/a4")" -lt $((DAY / 1000)) ] || fail "$mk: audit: $s2 judged stale after its delisting"
	q=".symbols[] | select(.symbol == \"$s3\")"
	assert_eq "$(jq -r "$q.missing" "$T/a4")" 0 "$mk: audit: $s3 missing"
done
echo ok
