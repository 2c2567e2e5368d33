#!/usr/bin/env bash
# recover with several intervals ([main] intervals, --interval LIST): the re-sync after
# the restore brings every configured interval up to date, not only the first, and each
# interval's re-sync is recorded as a recover run of that interval.
. "$(dirname "$0")/lib.sh"

now=1767225600000 # 2026-01-01 00:00 UTC
HOUR=3600000
DAY=$((24 * HOUR))
fakex_start --synthetic 2 --now "$now"
syms=SYN000USDT,SYN001USDT
ck -q --symbols $syms --history-days 5 --interval 4h,1h sync >"$T/s" 2>&1 || { cat "$T/s"; fail "sync"; }
ck -q --symbols $syms --interval 4h,1h backup --now "$now" >"$T/b" 2>&1 || { cat "$T/b"; fail "backup"; }
fakex_ctl "clock?advance=$DAY" >/dev/null
# The database is damaged: its header zeroed.
dd if=/dev/zero of="$DB" bs=100 count=1 conv=notrunc 2>/dev/null
ck_rc --symbols $syms --history-days 5 --interval 4h,1h recover >"$T/r" 2>&1
[ "$RC" = 0 ] || { cat "$T/r"; fail "recover exit $RC"; }
assert_file_match "$T/r" "^recover: check .*DAMAGED"
# both intervals re-synced up to the exchange's new now
assert_eq "$(sql "select max(open_time) from candles where interval='4h'")" $((now + DAY - 4 * HOUR)) "newest 4h"
assert_eq "$(sql "select max(open_time) from candles where interval='1h'")" $((now + DAY - HOUR)) "newest 1h"
assert_eq "$(sql "select group_concat(interval, ',') from (select interval from runs where command='recover' order by id)")" \
	"4h,1h" "a recover run per interval"
assert_file_match "$T/r" "^recover: resync/1h .*2 symbols: 2 ok, 0 failed"
echo "ok"
