#!/usr/bin/env bash
# A password inside [main] base_url or [alert] smtp_url never appears in output: not in
# `candlekeep config`, not in the log (stderr, text and JSON, and the log file), not in
# error messages, not in the run records.
. "$(dirname "$0")/lib.sh"

fakex_start --data "$DATA" --now "$T_2026_03_19_18"
port=${FAKEX_URL##*:}
url="http://alice:Pa55w0rdX@127.0.0.1:$port"
export CANDLEKEEP_ALERT_SMTP_URL="smtp://bob:SmtpS3cretX@127.0.0.1:1"
export CANDLEKEEP_ALERT_SMTP_TO="ops@example.com"
leaks() { grep -l -e Pa55w0rdX -e SmtpS3cretX "$@" 2>/dev/null || true; }

"$CK" --db "$DB" --base-url "$url" config >"$T/config.out"
assert_file_match "$T/config.out" "^base_url = http://alice:\*\*\*\*\*\*\*\*@127.0.0.1:$port$"
assert_file_match "$T/config.out" "^smtp_url = smtp://bob:\*\*\*\*\*\*\*\*@127.0.0.1:1$"

# A sync through the URL (fakex ignores the credentials): the start log names base_url.
"$CK" --db "$DB" --base-url "$url" --symbols BTCUSDT --history-days 3 --log-file "$T/run.log" \
	sync >"$T/sync.out" 2>"$T/sync.err" || { cat "$T/sync.err"; fail "sync through a URL with credentials"; }
assert_file_match "$T/sync.err" "base_url=http://alice:\*\*\*\*\*\*\*\*@127.0.0.1"
# JSON log lines, and a failing run (unreachable) whose error names the URL.
RC=0
"$CK" --db "$DB" --base-url "http://alice:Pa55w0rdX@127.0.0.1:1" --symbols BTCUSDT --log-format json \
	--log-file "$T/run.log" sync >"$T/fail.out" 2>"$T/fail.err" || RC=$?
assert_eq "$RC" 1 "sync against an unreachable URL"
assert_file_match "$T/fail.err" 'cannot reach the exchange at http://alice:\*\*\*\*\*\*\*\*@127.0.0.1:1'
assert_file_match "$T/fail.err" '"base_url":"http://alice:\*\*\*\*\*\*\*\*@127.0.0.1:1"'
sql "select coalesce(error,'') from runs; select coalesce(error,'') from run_symbols;
     select coalesce(detail,'') from events; select coalesce(summary,'') from alerts" >"$T/records"
assert_file_match "$T/records" 'alice:\*\*\*\*\*\*\*\*@'
assert_eq "$(leaks "$T"/config.out "$T"/sync.out "$T"/sync.err "$T"/fail.out "$T"/fail.err "$T"/run.log "$T"/records)" "" "files with a password"
# The alert the failed run raised went to the (unreachable) mail server: its failure
# message, logged and recorded, is masked too.
"$CK" --db "$DB" --base-url "$url" --symbols BTCUSDT health >"$T/health.out" 2>&1 || true
"$CK" --db "$DB" --base-url "$url" metrics >"$T/metrics.out" 2>&1
assert_eq "$(leaks "$T"/health.out "$T"/metrics.out)" "" "health/metrics with a password"
echo "ok"
