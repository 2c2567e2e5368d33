#!/usr/bin/env bash
# Import never downgrades data. A 9-column file (no taker columns) imported over stored
# 12-column candles leaves the real taker values alone and revises nothing; imported
# alone, its taker values are unknown (NULL), never a made-up "0", and export writes
# them as empty columns, which import reads back as unknown again.
. "$(dirname "$0")/lib.sh"

SPOT="$DATA/spot/DOTUSDT-4h.csv"
head -n 500 "$SPOT" >"$T/DOTUSDT-4h.csv"
ck import "$T/DOTUSDT-4h.csv" >"$T/out" 2>&1 || { cat "$T/out"; fail "12-column import"; }
mkdir -p "$T/nine"
cut -d, -f1-9 "$T/DOTUSDT-4h.csv" >"$T/nine/DOTUSDT-4h.csv"

# Over the 12-column candles: nothing changes.
ck import "$T/nine/DOTUSDT-4h.csv" >"$T/out" 2>&1 || { cat "$T/out"; fail "9-column import"; }
assert_file_match "$T/out" "import: 0 candles written"
assert_file_match "$T/out" " 0 revised"
ck export --symbol DOTUSDT >"$T/exp.csv" 2>/dev/null
cmp -s "$T/DOTUSDT-4h.csv" "$T/exp.csv" || { diff "$T/DOTUSDT-4h.csv" "$T/exp.csv" | head -4; fail "taker values downgraded"; }
assert_eq "$(sql "select count(*) from candles where taker_buy_base = '0' or taker_buy_base is null")" 0

# Alone: unknown, exported as empty columns, and read back as unknown.
DB="$T/n.db" ck import "$T/nine/DOTUSDT-4h.csv" >"$T/out" 2>&1 || { cat "$T/out"; fail "9-column import alone"; }
assert_eq "$(sqlite3 "$T/n.db" "select count(*) from candles where taker_buy_base is null and taker_buy_quote is null")" 500
DB="$T/n.db" ck export --symbol DOTUSDT >"$T/n.csv" 2>/dev/null
head -1 "$T/n.csv" | grep -Eq '^[0-9]+(,[0-9.]+){8},,,0$' || fail "unknown taker columns not exported empty: $(head -1 "$T/n.csv")"
mkdir -p "$T/rt"
cp "$T/n.csv" "$T/rt/DOTUSDT-4h.csv"
DB="$T/rt.db" ck import "$T/rt/DOTUSDT-4h.csv" >"$T/out" 2>&1 || { cat "$T/out"; fail "import of an export with unknown columns"; }
assert_eq "$(sqlite3 "$T/rt.db" "select count(*) from candles where taker_buy_base is null")" 500
# The 12-column file then fills them in.
DB="$T/n.db" ck import "$T/DOTUSDT-4h.csv" >"$T/out" 2>&1 || { cat "$T/out"; fail "12-column import over unknown"; }
DB="$T/n.db" ck export --symbol DOTUSDT 2>/dev/null | cmp -s "$T/DOTUSDT-4h.csv" - || fail "12-column values not filled in"
echo ok
