#!/usr/bin/env bash
# import/export: a recorded 12-column spot file (with and without a header) imported then
# exported reproduces the file byte for byte; a 9-column futures file keeps its 9 columns
# exactly; importing twice writes nothing; a bad line names the file and line, stores
# nothing from its page, and a fixed file then imports completely.
. "$(dirname "$0")/lib.sh"

SPOT="$DATA/spot/DOTUSDT-4h.csv"
rows=$(wc -l <"$SPOT" | tr -d ' ')

# 12 columns, no header.
ck import "$SPOT" >"$T/out" 2>&1 || { cat "$T/out"; fail "import"; }
assert_file_match "$T/out" "$rows written"
ck export --symbol DOTUSDT >"$T/exp.csv" 2>/dev/null
cmp -s "$SPOT" "$T/exp.csv" || { diff "$SPOT" "$T/exp.csv" | head -4; fail "export differs from the imported spot file"; }
# Twice: nothing written, everything unchanged.
ck import "$SPOT" >"$T/out" 2>&1 || fail "second import"
assert_file_match "$T/out" "import: 0 candles written, $rows unchanged"
assert_eq "$(sql "select count(*) from candles")" "$rows"
# --output writes the same file.
ck export --symbol DOTUSDT --output "$T/exp2.csv" 2>/dev/null || fail "export --output"
cmp -s "$SPOT" "$T/exp2.csv" || fail "export --output differs"
# A range.
ck export --symbol DOTUSDT --since 2021-01-01 --until 2021-01-01T23:59:59Z >"$T/day.csv" 2>/dev/null
assert_eq "$(wc -l <"$T/day.csv" | tr -d ' ')" 6 "candles of one day"

# 12 columns with the archive's header line, into a fresh database (the first 6000
# rows of the same file, to keep the test fast).
head -6000 "$SPOT" >"$T/part6000.csv"
SPOT6=$T/part6000.csv
mkdir -p "$T/h"
{ echo "open_time,open,high,low,close,volume,close_time,quote_volume,count,taker_buy_volume,taker_buy_quote_volume,ignore"
  cat "$SPOT6"; } >"$T/h/DOTUSDT-4h.csv"
DB="$T/h.db" ck import "$T/h/DOTUSDT-4h.csv" >"$T/out" 2>&1 || { cat "$T/out"; fail "import with header"; }
DB="$T/h.db" ck export --symbol DOTUSDT 2>/dev/null | cmp -s "$SPOT6" - || fail "export after a header import differs"

# 9 columns (futures), with and without header: the 9 columns come back exactly.
FUT="$DATA/ETHUSDT-4h.csv"
DB="$T/f.db" ck import "$FUT" >"$T/out" 2>&1 || { cat "$T/out"; fail "9-column import"; }
DB="$T/f.db" ck export --symbol ETHUSDT 2>/dev/null | cut -d, -f1-9 | cmp -s "$FUT" - || fail "9-column round trip"
{ echo "open_time,open,high,low,close,volume,close_time,quote_volume,count"; cat "$FUT"; } >"$T/h/ETHUSDT-4h.csv"
DB="$T/f.db" ck import "$T/h/ETHUSDT-4h.csv" >"$T/out" 2>&1 || { cat "$T/out"; fail "9-column import with header"; }
assert_file_match "$T/out" "import: 0 candles written"

# A bad line (high below low) in the middle of a file.
mkdir -p "$T/bad"
bad=5501
awk -F, -v OFS=, -v n=$bad 'NR == n { $3 = "0.00000001" } { print }' "$SPOT6" >"$T/bad/DOTUSDT-4h.csv"
DB="$T/b.db" ck_rc import "$T/bad/DOTUSDT-4h.csv" >"$T/out" 2>"$T/err"
assert_eq "$RC" 1 "import of a file with a bad line"
assert_file_match "$T/err" "$T/bad/DOTUSDT-4h\.csv:$bad: .*high"
bad_open=$(sed -n "${bad}p" "$SPOT6" | cut -d, -f1)
stored=$(sqlite3 "$T/b.db" "select count(*) from candles")
[ "$stored" -lt $((bad - 1)) ] || fail "rows of the bad line's page were stored ($stored)"
assert_eq "$(sqlite3 "$T/b.db" "select count(*) from candles where open_time >= $bad_open - 3 * $H4")" 0 \
	"candles of the bad line's page stored"
# What was stored is exact.
DB="$T/b.db" ck export --symbol DOTUSDT 2>/dev/null >"$T/part.csv"
head -n "$stored" "$SPOT6" | cmp -s - "$T/part.csv" || fail "stored part differs from the file"
# The fixed file completes it.
cp "$SPOT6" "$T/bad/DOTUSDT-4h.csv"
DB="$T/b.db" ck import "$T/bad/DOTUSDT-4h.csv" >/dev/null 2>&1 || fail "import of the fixed file"
DB="$T/b.db" ck export --symbol DOTUSDT 2>/dev/null | cmp -s "$SPOT6" - || fail "after the fix"

# A file name that does not tell the symbol: usage error naming the file.
cp "$SPOT6" "$T/dot.csv"
ck_rc import "$T/dot.csv" >"$T/out" 2>"$T/err"
assert_eq "$RC" 2 "unknown symbol from the file name"
assert_file_match "$T/err" "dot\.csv"
ck_rc import --symbol DOTUSDT "$T/dot.csv" >"$T/out" 2>&1
assert_eq "$RC" 0 "import --symbol"
# A missing file.
ck_rc import "$T/NOPEUSDT-4h.csv" >"$T/out" 2>"$T/err"
assert_eq "$RC" 1 "missing file"
assert_file_match "$T/err" "NOPEUSDT-4h\.csv"
echo ok
