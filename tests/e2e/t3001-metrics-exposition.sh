#!/usr/bin/env bash
# `candlekeep metrics` after real syncs against fakex: promtool accepts the exposition,
# and the values are the database's (candles per symbol, newest candle, runs by status,
# request sums, gaps, events, backups); --textfile writes atomically; metrics never
# writes to the database.
. "$(dirname "$0")/lib.sh"
command -v promtool >/dev/null || fail "promtool not installed (scripts/deps.sh test)"

syms=BTCUSDT,ETHUSDT,CFGUSDT,TONUSDT
now=$T_2026_03_19_18
fakex_start --data "$DATA" --now "$now"
ck -q --symbols $syms --history-days 30 sync >"$T/out" 2>&1 || { cat "$T/out"; fail "first sync failed"; }
ck -q --symbols $syms --history-days 30 sync >"$T/out" 2>&1 || { cat "$T/out"; fail "second sync failed"; }
# A partial run: ETHUSDT's next page is invalid.
fakex_ctl 'faults?invalid_symbol=ETHUSDT' >/dev/null
fakex_ctl "clock?advance=$H4" >/dev/null
ck_rc -q --symbols $syms --history-days 30 sync >"$T/out" 2>&1
assert_eq "$RC" 1 "partial sync exit code"

metrics() { ck --symbols $syms,NEWUSDT metrics "$@"; }
metrics >"$T/m.prom" 2>"$T/m.err" || { cat "$T/m.err"; fail "metrics exited non-zero"; }
promtool check metrics <"$T/m.prom" >"$T/promtool.out" 2>&1 || { cat "$T/promtool.out"; fail "promtool check metrics rejected the exposition"; }

# v NAME{LABELS}: the value of one sample ("" if absent).
v() { awk -v k="$1" '$1 == k { print $2 }' "$T/m.prom"; }
want() { assert_eq "$(v "$1")" "$2" "$1"; }

# Every family has HELP and TYPE, and every sample belongs to a declared family.
awk '/^# HELP /{h[$3]=1} /^# TYPE /{t[$3]=1}
     !/^#/ { n=$1; sub(/\{.*/, "", n); b=n; sub(/_(bucket|sum|count)$/, "", b);
             if (!(n in t) && !(b in t)) { print "undeclared " n; bad=1 } }
     END { for (k in t) if (!(k in h)) { print "no HELP " k; bad=1 }; exit bad }' "$T/m.prom" ||
	fail "exposition has undeclared samples or missing HELP"

# Candles stored and the newest candle per symbol equal the database.
for s in BTCUSDT ETHUSDT CFGUSDT TONUSDT; do
	want "candlekeep_candles_stored{symbol=\"$s\",interval=\"4h\",market=\"um\"}" "$(sql "select count(*) from candles where symbol='$s'")"
	want "candlekeep_candle_newest_open_timestamp_seconds{symbol=\"$s\",interval=\"4h\",market=\"um\"}" \
		"$(sql "select max(open_time)/1000 from candles where symbol='$s'")"
	# the close instant (open + 4h), which the staleness alerts count the age from
	want "candlekeep_candle_newest_close_timestamp_seconds{symbol=\"$s\",interval=\"4h\",market=\"um\"}" \
		"$(sql "select max(open_time)/1000 + 14400 from candles where symbol='$s'")"
	want "candlekeep_candles_missing{symbol=\"$s\",interval=\"4h\",market=\"um\"}" 0
	want "candlekeep_symbol_configured{symbol=\"$s\",interval=\"4h\",market=\"um\"}" 1
done
want 'candlekeep_symbol_configured{symbol="NEWUSDT",interval="4h",market="um"}' 1
want 'candlekeep_candles_stored{symbol="NEWUSDT",interval="4h",market="um"}' ""
# BTCUSDT got the new candle (closed 2026-03-19 20:00), ETHUSDT did not.
want 'candlekeep_candle_newest_close_timestamp_seconds{symbol="BTCUSDT",interval="4h",market="um"}' $(( (now - now % H4 + H4) / 1000 ))
# Runs by status are counts of rows; the newest run was partial.
want 'candlekeep_sync_runs_total{command="sync",status="ok"}' 2
want 'candlekeep_sync_runs_total{command="sync",status="partial"}' 1
want 'candlekeep_sync_runs_total{command="sync",status="failed"}' 0
want 'candlekeep_sync_runs_total{command="backfill",status="ok"}' 0
want 'candlekeep_sync_last_run_status{command="sync",status="partial",interval="4h",market="um"}' 1
want 'candlekeep_sync_last_run_status{command="sync",status="ok",interval="4h",market="um"}' 0
want 'candlekeep_sync_last_run_symbols{command="sync",outcome="ok",interval="4h",market="um"}' 3
want 'candlekeep_sync_last_run_symbols{command="sync",outcome="failed",interval="4h",market="um"}' 1
want 'candlekeep_sync_duration_seconds_count{command="sync"}' 3
want 'candlekeep_sync_duration_seconds_bucket{command="sync",le="+Inf"}' 3
want 'candlekeep_sync_last_success_timestamp_seconds{command="sync",interval="4h",market="um"}' \
	"$(sql "select printf('%.15g', max(ended)/1000.0) from runs where status='ok'")"
# Request counters are sums of the run records.
req=$(sql "select sum(requests) from runs")
other=$(v 'candlekeep_exchange_requests_total{code="other"}')
assert_eq "$other" "$(sql "select sum(max(requests-http_429-http_418-http_5xx-net_errors,0)) from runs")" "requests other"
[ "$other" -gt 0 ] && [ "$other" -le "$req" ] || fail "requests other=$other of $req"
want 'candlekeep_exchange_requests_total{code="429"}' "$(sql "select sum(http_429) from runs")"
want 'candlekeep_exchange_retries_total' "$(sql "select sum(retries) from runs")"
want 'candlekeep_exchange_weight_used{command="sync"}' "$(sql "select weight_used_max from runs order by id desc limit 1")"
want 'candlekeep_candles_written_total{command="sync"}' "$(sql "select sum(candles_written) from runs")"
# Thresholds follow the configuration (default 4-hourly schedule, age from the close:
# 5h05m / 9h05m).
want 'candlekeep_stale_threshold_seconds{severity="warning"}' 18300
want 'candlekeep_stale_threshold_seconds{severity="critical"}' 32700
# Never-happened families are declared, without samples; the absent()-sensitive ones have zeros.
assert_file_match "$T/m.prom" '^# TYPE candlekeep_restore_drill_duration_seconds gauge$'
want candlekeep_restore_drill_duration_seconds ""
want candlekeep_database_corruption_detections_total 0
want 'candlekeep_alert_failures_total{channel="slack"}' 0
want 'candlekeep_backup_last_success_timestamp_seconds{tier="hot"}' 0

# A gap, events and backups show up. (sql writes here stand in for sync, recover and
# backup, which have their own tests.)
ts=$(sql "select open_time from candles where symbol='TONUSDT' order by open_time limit 1 offset 10")
sql "delete from candles where symbol='TONUSDT' and open_time in ($ts, $((ts + H4)))"
sql "insert into events(at,kind,subject,value,detail) values
	(1773900000000,'integrity_check','quick',1,'ok'),
	(1773910000000,'integrity_check','quick',0,'page 7: btree corrupt'),
	(1773910000000,'corruption_detected','db',1,'x'),
	(1773920000000,'restore_drill','hot',12.5,'ok'),
	(1773930000000,'alert_sent','slack',1,'sync_failed'),
	(1773930000000,'alert_failed','email',1,'sync_failed: refused')"
sql "insert into backups(tier,location,created,size,sha256,candles,status,detail,verified_at) values
	('hot','/b/1.db',1773800000000,1000,'',5,'verified','',1773800001000),
	('hot','/b/2.db',1773900000000,2000,'',6,'failed','checksum',0)"
metrics >"$T/m.prom" 2>"$T/m.err" || { cat "$T/m.err"; fail "metrics exited non-zero"; }
promtool check metrics <"$T/m.prom" >"$T/promtool.out" 2>&1 || { cat "$T/promtool.out"; fail "promtool rejected the second exposition"; }
want 'candlekeep_candles_missing{symbol="TONUSDT",interval="4h",market="um"}' 2
want 'candlekeep_candles_stored{symbol="TONUSDT",interval="4h",market="um"}' "$(sql "select count(*) from candles where symbol='TONUSDT'")"
assert_match "$(ck --symbols TONUSDT gaps --missing-only 2>&1 || true)" "2 candles missing"
want 'candlekeep_database_integrity_ok{check="quick"}' 0
want 'candlekeep_database_corruption_detections_total' 1
want 'candlekeep_database_last_corruption_timestamp_seconds' 1773910000
want candlekeep_restore_drill_duration_seconds 12.5
want candlekeep_restore_drill_timestamp_seconds 1773920000
want 'candlekeep_alerts_sent_total{channel="slack"}' 1
want 'candlekeep_alert_failures_total{channel="email"}' 1
want 'candlekeep_backup_last_success_timestamp_seconds{tier="hot"}' 1773800000
want 'candlekeep_backup_size_bytes{tier="hot"}' 1000
want 'candlekeep_backup_verified{tier="hot"}' 0
want 'candlekeep_backup_verified{tier="warm"}' ""
want 'candlekeep_database_size_bytes{file="main"}' "$(stat -c %s "$DB")"

# metrics never writes: the database files are byte for byte the same afterwards.
sum_db() { cat "$DB" "$DB-wal" 2>/dev/null | sha256sum; }
before=$(sum_db)
metrics >/dev/null 2>&1
assert_eq "$(sum_db)" "$before" "metrics changed the database"

# --textfile: DIR/candlekeep.prom written atomically (no temp file left), same content.
mkdir "$T/tf"
metrics --textfile "$T/tf" >"$T/tf.out" 2>&1 || { cat "$T/tf.out"; fail "--textfile failed"; }
[ ! -s "$T/tf.out" ] || fail "--textfile printed: $(cat "$T/tf.out")"
assert_eq "$(ls -A "$T/tf")" "candlekeep.prom" "textfile dir contents"
promtool check metrics <"$T/tf/candlekeep.prom" >/dev/null 2>&1 || fail "textfile rejected by promtool"
diff <(grep -v -e generated_timestamp -e _age_seconds "$T/tf/candlekeep.prom") <(grep -v -e generated_timestamp -e _age_seconds "$T/m.prom") >/dev/null ||
	fail "textfile differs from stdout exposition"
# A failing write leaves the previous file in place and exits 1.
cp "$T/tf/candlekeep.prom" "$T/prev.prom"
ck_rc --symbols $syms metrics --textfile "$T/no/such/dir"
assert_eq "$RC" 1 "--textfile into a missing directory"
cmp -s "$T/prev.prom" "$T/tf/candlekeep.prom" || fail "previous textfile changed"
ck_rc metrics --bogus
assert_eq "$RC" 2 "unknown flag"
# The metric table lists every family the exposition declares.
ck metrics --list >"$T/list" 2>&1
for f in $(awk '/^# TYPE /{print $3}' "$T/m.prom"); do
	grep -q "\`$f\`" "$T/list" || fail "metrics --list lacks $f"
done
echo ok
