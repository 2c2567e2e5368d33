#!/usr/bin/env bash
# 1m archive files (a month is ~2 MB zipped) are parsed on a second thread while the
# main thread goes on with the transfers and the stores. What that thread finds wrong is
# reported as before and the period comes another way: a damaged zip (the month and its
# days, hit by the same fault: then REST) and a month with a missing row (likewise). The
# result equals a REST-only backfill of the same market, candle for candle.
. "$(dirname "$0")/lib.sh"
export CANDLEKEEP_ARCHIVE_ENABLED=true

start=1735689600000 # 2025-01-01
now=1744243200000   # 2025-04-10 00:00 UTC: Jan-Mar monthly, Apr 1-8 daily, Apr 9 REST
fakex_start --synthetic 2 --synthetic-start "$start" --now "$now" --weight-limit 100000000
syms=SYN000USDT,SYN001USDT
fakex_ctl 'faults?archive_damage=SYN000USDT-1m-2025-02&archive_droprow=SYN001USDT-1m-2025-03' >/dev/null
ck -v --archive-url "$FAKEX_URL" --interval 1m --symbols "$syms" backfill --since 2025-01-01 \
	>"$T/out" 2>"$T/err" || { tail -20 "$T/err"; fail "1m backfill from the archive"; }
assert_file_match "$T/err" "files of 32 KiB and more are parsed on a second thread"
rej() { assert_file_match "$T/err" "archive file rejected, nothing of it stored: $2.* file=$1"; }
rej SYN000USDT-1m-2025-02 "zip: "
rej SYN000USDT-1m-2025-02-14 "zip: "
rej SYN001USDT-1m-2025-03 "rows: 44639 rows, the period has 44640"
rej SYN001USDT-1m-2025-03-09 "rows: 1439 rows, the period has 1440"
# The months that passed are catalogued, the rejected ones and their days are not.
assert_eq "$(sql "select count(*) from archive_files where name like 'SYN00_USDT-1m-2025-0_.zip'")" 4 "months catalogued"
assert_eq "$(sql "select count(*) from archive_files where name like 'SYN000USDT-1m-2025-02-%'")" 0 "damaged February's days catalogued"
assert_eq "$(sql "select count(*) from archive_files where name like 'SYN001USDT-1m-2025-03-%'")" 0 "March's short days catalogued"
want=$(( (now - start) / 60000 ))
for s in SYN000USDT SYN001USDT; do
	assert_eq "$(sql "select count(*) from candles where symbol='$s' and interval='1m'")" "$want" "$s candles"
done
ck --interval 1m --symbols "$syms" gaps >"$T/gaps" 2>&1 || { cat "$T/gaps"; fail "gaps after the archive backfill"; }

# The same from REST alone: the stored candles are the same, digit for digit.
CANDLEKEEP_ARCHIVE_ENABLED=false "$CK" --db "$T/rest.db" --base-url "$FAKEX_URL" -q --interval 1m \
	--symbols "$syms" backfill --since 2025-01-01 >"$T/rest.out" 2>&1 || { cat "$T/rest.out"; fail "REST backfill"; }
for s in SYN000USDT SYN001USDT; do
	ck --interval 1m export --symbol "$s" --output "$T/a.$s.csv" >/dev/null 2>&1 || fail "export $s"
	"$CK" --db "$T/rest.db" --interval 1m export --symbol "$s" --output "$T/r.$s.csv" >/dev/null 2>&1 ||
		fail "export $s from the REST database"
	cmp -s "$T/a.$s.csv" "$T/r.$s.csv" || fail "$s from the archive differs from REST: $(diff "$T/a.$s.csv" "$T/r.$s.csv" | head -5)"
done
echo ok
