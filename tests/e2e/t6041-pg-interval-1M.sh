#!/usr/bin/env bash
# 1M (calendar months) on PostgreSQL: a sync of 1M beside 4h from fakex --synthetic stores
# what the same sync stores into SQLite (export byte for byte); a month deleted by hand is
# found by gaps (PostgreSQL's gap query steps by calendar months) and repaired by the next
# sync; a second sync writes nothing.
. "$(dirname "$0")/lib.sh"
. "$CK_TOP/tests/e2e/pg_lib.sh"

start=1735689600000 # 2025-01-01 00:00 UTC: fakex's first candle
jun=1748736000000   # 2025-06-01
now=1773576000000   # 2026-03-15 12:00 UTC
sym=SYN000USDT
pg_start
fakex_start --synthetic 1 --synthetic-start "$start" --now "$now"
export CANDLEKEEP_FAULT_NOW=$now
U=$(pg_createdb ck1)
pgsql() { "${PSQL[@]}" -d ck1 -c "$1"; }
ckp() { DB="$U" ck -q --symbols $sym --interval "$@"; }

ckp 1M,4h --history-days 500 sync >"$T/p1" 2>&1 || { cat "$T/p1"; fail "sync into PostgreSQL"; }
ck -q --symbols $sym --history-days 500 --interval 1M,4h sync >"$T/s1" 2>&1 || { cat "$T/s1"; fail "sync into SQLite"; }
assert_eq "$(pgsql "select count(*) from candles where interval = '1M'")" 14 "closed months in PostgreSQL"
for iv in 1M 4h; do
	ck --interval $iv export --symbol $sym >"$T/sq.csv" 2>/dev/null
	ckp $iv export --symbol $sym >"$T/pg.csv" 2>"$T/err" || { cat "$T/err"; fail "export $iv from PostgreSQL"; }
	cmp -s "$T/sq.csv" "$T/pg.csv" || fail "$iv: PostgreSQL's export differs from SQLite's"
done
[ "$(wc -l <"$T/pg.csv")" -gt 100 ] || fail "4h export too short"

pgsql "delete from candles where interval = '1M' and open_time = $jun" >/dev/null
DB="$U" ck_rc --symbols $sym --interval 1M gaps >"$T/g1"
assert_eq "$RC" 1 "gaps with a month deleted"
assert_file_match "$T/g1" "^SYN000USDT +2025-06-01 00:00 .* +1 candles +MISSING"
ckp 1M,4h --history-days 500 sync >"$T/p2" 2>&1 || { cat "$T/p2"; fail "repairing sync"; }
assert_eq "$(pgsql "select count(*) from candles where interval = '1M'")" 14 "month repaired"
ck --interval 1M export --symbol $sym >"$T/sq.csv" 2>/dev/null
ckp 1M export --symbol $sym >"$T/pg.csv" 2>/dev/null
cmp -s "$T/sq.csv" "$T/pg.csv" || fail "the repaired month differs"
ckp 1M,4h --history-days 500 sync >"$T/p3" 2>&1 || { cat "$T/p3"; fail "third sync"; }
assert_eq "$(grep -c ' 0 candles written' "$T/p3")" 2 "a second sync writes nothing"
echo "ok"
