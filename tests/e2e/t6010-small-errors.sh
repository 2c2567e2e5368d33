#!/usr/bin/env bash
# Small operator mistakes and odd states each give a clear message and the right exit
# code: a list of only unknown symbols, --db naming a directory, a CSV with a UTF-8 byte
# order mark, an impossible date, a run that never ended its record, a garbage sidecar.
. "$(dirname "$0")/lib.sh"

fakex_start --data "$DATA" --now "$T_2026_03_19_18"

# --- only unknown symbols: a failed sync (exit 1), not "sync ok" ---
ck_rc --symbols NOPEUSDT,FOOUSDT sync >"$T/out" 2>"$T/err"
assert_eq "$RC" 1 "sync of only unknown symbols: $(cat "$T/out" "$T/err")"
assert_file_match "$T/out" "^sync failed: 2 symbols \(0 ok, 0 failed, 2 skipped\)"
assert_file_match "$T/err" "none of the 2 configured symbols is listed on the exchange"
assert_eq "$(sql "select status from runs order by id desc limit 1")" failed "run record"
# One known symbol among them keeps the run ok.
ck_rc --symbols NOPEUSDT,BTCUSDT --history-days 3 sync >"$T/out" 2>"$T/err"
assert_eq "$RC" 0 "one known symbol: $(cat "$T/out" "$T/err")"

# --- --db naming a directory: "is a directory", not "disk I/O error" ---
mkdir "$T/dbdir"
for c in "gaps" "export --symbol BTCUSDT" "metrics" "sync --symbols BTCUSDT"; do
	RC=0; "$CK" --db "$T/dbdir" --base-url "$FAKEX_URL" $c >"$T/out" 2>"$T/err" || RC=$?
	assert_eq "$RC" 1 "$c with --db DIR"
	assert_file_match "$T/err" "open $T/dbdir: is a directory; --db / \[main\] db names the database file"
done
RC=0; "$CK" --db "$T/dbdir" health >"$T/out" 2>&1 || RC=$?
assert_eq "$RC" 2 "health with --db DIR"
assert_file_match "$T/out" "is a directory"
grep -q "disk I/O error" "$T/out" && fail "health says disk I/O error for a directory"

# --- a UTF-8 byte order mark before the header line is not data ---
{ printf '\357\273\277'
  echo "open_time,open,high,low,close,volume,close_time,quote_volume,count,taker_buy_volume,taker_buy_quote_volume,ignore"
  head -3 "$DATA/SOLUSDT-4h.csv"; } >"$T/SOLUSDT-4h.csv"
ck_rc import "$T/SOLUSDT-4h.csv" >"$T/out" 2>"$T/err"
assert_eq "$RC" 0 "import of a CSV with a BOM: $(cat "$T/out" "$T/err")"
assert_eq "$(sql "select count(*) from candles where symbol='SOLUSDT'")" 3 "rows imported after a BOM"
grep -q '???' "$T/err" && fail "BOM shown as ???"
# A BOM before a data line is stripped too.
{ printf '\357\273\277'; sed -n 4,5p "$DATA/SOLUSDT-4h.csv"; } >"$T/SOLUSDT-4h.csv"
ck_rc import "$T/SOLUSDT-4h.csv" >"$T/out" 2>"$T/err"
assert_eq "$RC" 0 "import of data lines after a BOM: $(cat "$T/err")"
assert_eq "$(sql "select count(*) from candles where symbol='SOLUSDT'")" 5

# --- impossible dates are refused ---
for d in 2026-02-30 2026-04-31 2025-02-29 "2026-03-01 24:00" "2026-03-01T10:60"; do
	ck_rc --symbols BTCUSDT backfill --since "$d" >"$T/out" 2>"$T/err"
	assert_eq "$RC" 2 "backfill --since $d"
	assert_file_match "$T/err" "--since $d: need a date"
done
ck_rc export --symbol BTCUSDT --since 2026-02-30 >"$T/out" 2>"$T/err"
assert_eq "$RC" 2 "export --since 2026-02-30"
ck_rc --symbols BTCUSDT backfill --since 2024-02-29 --timeout 5s >"$T/out" 2>"$T/err"
[ "$RC" != 2 ] || fail "2024-02-29 (a leap day) refused: $(cat "$T/err")"

# --- a run that never wrote its end (the disk filled up) is named as such ---
sqlite3 "$T/fresh.db" "PRAGMA user_version" >/dev/null
rm -f "$T/fresh.db"
"$CK" --db "$T/fresh.db" --base-url "$FAKEX_URL" --symbols NOPEUSDT sync >/dev/null 2>&1 || true
sqlite3 "$T/fresh.db" "delete from runs; insert into runs(command, started, status, pid)
	values ('sync', $(( $(date +%s) * 1000 - 60000 )), 'running', 999999)"
RC=0; "$CK" --db "$T/fresh.db" --symbols BTCUSDT health >"$T/out" 2>&1 || RC=$?
assert_eq "$RC" 2 "health after a run that never ended"
assert_file_match "$T/out" "^last_run +CRITICAL .*run 1\) never ended"
grep -q "ended running:" "$T/out" && fail "health says 'ended running:' with no reason"

# --- a garbage sidecar is called malformed, not "interrupted?" ---
ck_rc --symbols BTCUSDT backup --now 2026-03-10T02:00:00Z >"$T/out" 2>"$T/err"
assert_eq "$RC" 0 "backup: $(cat "$T/out" "$T/err")"
hot="$T/backups/hot/candles-20260310T020000.000Z.db"
echo "garbage" >"$hot.sha256"
ck_rc backup --list >"$T/out" 2>"$T/err"
assert_file_match "$T/out" "candles-20260310T020000.000Z.db.*checksum sidecar malformed"
grep -q "interrupted?" "$T/out" && fail "garbage sidecar called interrupted?"
rm "$hot.sha256"
ck_rc backup --list >"$T/out" 2>"$T/err"
assert_file_match "$T/out" "candles-20260310T020000.000Z.db.*no checksum sidecar: the backup was interrupted"
echo "ok"
