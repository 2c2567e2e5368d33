#!/usr/bin/env bash
# recover tells a person, once, and closes what it opened: a damaged database that is
# recovered sends db_corrupt to each channel and then its resolve (PagerDuty: trigger
# and resolve with the same dedup_key), each exactly once; a healthy database sends
# nothing; a recover that cannot restore anything (no backup, exchange down) sends
# recover_failed.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/alert_lib.sh"

rcv_start
rcv_channels
SYMS=BTCUSDT,ETHUSDT
pd() { count "x['path'] == '/v2/enqueue' and t.endswith('/$1') and ' $2 ' in t"; }
slack() { count "x['path'].startswith('/services/') and 'alert \`$1\`' in t"; }

fakex_start --data "$DATA" --now "$T_2026_03_19_18"
ck -q --symbols $SYMS --history-days 10 sync
ck -q --symbols $SYMS backup >/dev/null
n0=$(got)

ck_rc --symbols $SYMS recover >"$T/ok.out" 2>&1
assert_eq "$RC" 0 "recover of a healthy database"
assert_eq "$(got)" "$n0" "a healthy database sends nothing"

pages=$(sqlite3 "$DB" 'pragma page_count')
dd if=/dev/urandom of="$DB" bs=4096 seek=$((pages / 2)) count=1 conv=notrunc 2>/dev/null
ck_rc --symbols $SYMS --history-days 10 recover >"$T/rec.out" 2>&1
[ "$RC" = 0 ] || { cat "$T/rec.out"; fail "recover exit $RC"; }
assert_eq "$(pd db_corrupt trigger)" 1 "PagerDuty trigger for db_corrupt"
assert_eq "$(pd db_corrupt resolve)" 1 "PagerDuty resolve for db_corrupt"
assert_eq "$(slack db_corrupt)" 2 "Slack: the damage and its resolve"
# A later run sends nothing more for it.
ck -q --symbols $SYMS sync
ck_rc --symbols $SYMS recover >/dev/null 2>&1
assert_eq "$(pd db_corrupt trigger)" 1 "db_corrupt not sent again"
assert_eq "$(pd db_corrupt resolve)" 1 "db_corrupt resolve not sent again"

# No backup and the exchange unreachable: recover fails and says so on every channel.
rm -rf "$T/backups"
truncate -s $(( $(stat -c %s "$DB") / 2 )) "$DB"
fakex_stop
ck_rc --symbols $SYMS --history-days 10 recover >"$T/fail.out" 2>&1
[ "$RC" != 0 ] || { cat "$T/fail.out"; fail "recover with nothing to restore exited 0"; }
assert_eq "$(pd recover_failed trigger)" 1 "PagerDuty trigger for recover_failed"
assert_eq "$(slack recover_failed)" 1 "Slack: recover_failed"

# A file recover refuses (its header zeroed: nothing says it is candlekeep's) is left
# alone, and that too reaches a person.
printf 'not a database at all, just text\n' >"$T/other.db"
n1=$(got)
RC=0; "$CK" --db "$T/other.db" --symbols $SYMS recover >"$T/ref.out" 2>&1 || RC=$?
assert_eq "$RC" 2 "recover of another application's file"
assert_eq "$(cat "$T/other.db")" "not a database at all, just text" "the refused file is untouched"
[ "$(got)" -gt "$n1" ] || fail "a refused recover sent nothing"
assert_eq "$(count "'refused' in t or 'could not check' in t")" 2 "refusal on Slack and PagerDuty"
echo ok
