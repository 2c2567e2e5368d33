#!/usr/bin/env bash
# The coverage ledger: a synced database's ledger agrees with its candles (gaps --verify
# exit 0); candles deleted by hand split their run (gaps lists them missing); a ledger
# changed by hand (a run said longer than stored, a run gone) is believed by gaps, then
# found by gaps --verify, each disagreement printed with its symbol and range, repaired
# (exit 3); the next sync fetches what is missing, and the ledger agrees again.
. "$(dirname "$0")/lib.sh"

now=1767225600000 # 2026-01-01 00:00 UTC
H4=14400000
fakex_start --synthetic 3 --now "$now"
export CANDLEKEEP_FAULT_NOW=$now
syms=SYN000USDT,SYN001USDT,SYN002USDT
ck -q --symbols "$syms" --history-days 10 sync >"$T/out" 2>&1 || { cat "$T/out"; fail "sync"; }
assert_eq "$(sql 'pragma user_version')" 6 "schema version"
assert_eq "$(sql "select count(*) from coverage where kind = 'stored'")" 3 "one run per symbol"

ck_rc gaps --verify >"$T/v0"
assert_eq "$RC" 0 "verify of a synced database"
assert_file_match "$T/v0" "^coverage ledger of 4h: 0 rows disagreed"
assert_file_match "$T/v0" "^0 candles missing"

# Candles deleted by hand: the ledger's trigger splits the run, gaps sees them missing.
mid=$(sql "select open_time from candles where symbol = 'SYN002USDT' order by open_time limit 1 offset 20")
sql "delete from candles where symbol = 'SYN002USDT' and open_time between $mid and $((mid + 2 * H4))"
ck_rc gaps >"$T/g1"
assert_eq "$RC" 1 "gaps after candles were deleted"
assert_file_match "$T/g1" "^SYN002USDT .* +3 candles +MISSING"

# The ledger changed by hand: SYN001USDT's run is said to start 5 candles before its
# first candle, and SYN000USDT's run is gone.
first=$(sql "select min(open_time) from candles where symbol = 'SYN001USDT'")
sql "update coverage set first_open = first_open - 5 * $H4, candles = candles + 5
     where symbol = 'SYN001USDT' and kind = 'stored'"
sql "delete from coverage where symbol = 'SYN000USDT'"
ck_rc gaps >"$T/g2"
assert_eq "$RC" 1 "gaps believes the ledger"
assert_file_match "$T/g2" "^3 candles missing"

ck_rc gaps --verify >"$T/v1"
assert_eq "$RC" 3 "verify exit when the ledger was wrong"
assert_file_match "$T/v1" "^ledger disagrees: SYN000USDT .* candles say: 60 stored candles in a run; ledger says: not so"
assert_file_match "$T/v1" "^ledger disagrees: SYN001USDT .* ledger says: 65 stored candles in a run; candles say: not so"
assert_file_match "$T/v1" "^ledger disagrees: SYN001USDT .* candles say: 60 stored candles in a run; ledger says: not so"
assert_eq "$(grep -c '^ledger disagrees: SYN002USDT' "$T/v1")" 0 "SYN002USDT: the trigger kept it right"
assert_file_match "$T/v1" "^coverage ledger of 4h: 3 rows disagreed with the candles and holes \(repaired from them\)"
assert_file_match "$T/v1" "^3 candles missing"
assert_eq "$(sql "select min(first_open) from coverage where symbol = 'SYN001USDT'")" "$first" "repaired start"

ck_rc gaps --verify >"$T/v2"
assert_eq "$RC" 1 "second verify: the ledger agrees, 3 candles missing"
assert_file_match "$T/v2" "^coverage ledger of 4h: 0 rows disagreed"
assert_file_match "$T/v2" "^3 candles missing"

# --json keeps stdout a JSON document; the verify report goes to stderr.
ck_rc gaps --verify --json >"$T/j" 2>"$T/jerr"
assert_eq "$RC" 1 "verify --json exit"
python3 -c 'import json,sys; json.load(open(sys.argv[1]))' "$T/j" || fail "gaps --verify --json: not JSON"
assert_file_match "$T/jerr" "^coverage ledger of 4h: 0 rows disagreed"

ck -q --symbols "$syms" sync >"$T/out2" 2>&1 || { cat "$T/out2"; fail "repair sync"; }
ck_rc gaps --verify >"$T/v3"
assert_eq "$RC" 0 "after the repair sync"
assert_file_match "$T/v3" "^coverage ledger of 4h: 0 rows disagreed"
echo ok
