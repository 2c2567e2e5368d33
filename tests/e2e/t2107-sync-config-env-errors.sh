#!/usr/bin/env bash
# Configuration errors, unknown symbols, an unreachable host, a read-only database
# directory and a full disk: each a clear error naming the cause, the documented exit
# code (DESIGN.md: 2 usage/configuration, 1 a symbol or the run failed), and the
# database stays intact with nothing committed lost.
. "$(dirname "$0")/lib.sh"

now=$T_2026_03_19_18
fakex_start --data "$DATA" --now "$now"

# --- configuration: exit 2, one line naming file:line and key, nothing touched ---
printf '[main]\nhistory_days = 3\n[sync]\nbogus_key = 1\n' >"$T/bad.ini"
ck_rc -c "$T/bad.ini" sync >"$T/out" 2>"$T/err"
assert_eq "$RC" 2 "unknown INI key"
assert_eq "$(wc -l <"$T/err" | tr -d ' ')" 1 "one line for an unknown key"
assert_file_match "$T/err" "bad\.ini:4:.*bogus_key"
[ ! -e "$DB" ] || fail "a configuration error created the database"
printf '[sync]\nconcurrency = lots\n' >"$T/bad2.ini"
ck_rc -c "$T/bad2.ini" sync >"$T/out" 2>"$T/err"
assert_eq "$RC" 2 "malformed INI value"
assert_file_match "$T/err" "bad2\.ini:2:.*concurrency.*lots"
CANDLEKEEP_SYNC_CONCURRENCY=0 ck_rc sync >"$T/out" 2>"$T/err"
assert_eq "$RC" 2 "out-of-range value from the environment"
assert_file_match "$T/err" "CANDLEKEEP_SYNC_CONCURRENCY.*concurrency"
ck_rc --symbols 'BTCUSDT,btc;drop' sync >"$T/out" 2>"$T/err"
assert_eq "$RC" 2 "invalid symbol name"
assert_file_match "$T/err" "btc;drop"
ck_rc --timeout banana sync >"$T/out" 2>"$T/err"
assert_eq "$RC" 2 "bad --timeout"
ck_rc sync --no-such-flag >"$T/out" 2>"$T/err"
assert_eq "$RC" 2 "unknown flag"

# --- an unknown symbol is skipped by name; the others are fine; exit 0 ---
ck_rc --symbols BTCUSDT,XXXUSDT,ETHUSDT --history-days 3 sync >"$T/out" 2>"$T/err"
assert_eq "$RC" 0 "unknown symbol among known ones"
assert_file_match "$T/out" "^XXXUSDT +skipped +not listed on the exchange"
assert_file_match "$T/out" "\(2 ok, 0 failed, 1 skipped\)"
assert_eq "$(sql "select status from run_symbols where symbol='XXXUSDT'")" skipped
[ "$(sql "select count(*) from candles where symbol='ETHUSDT'")" -gt 0 ] || fail "ETHUSDT not synced"
# asked once (its first-candle probe, answered -1121), never planned or paged
assert_eq "$(fakex_requests 'symbol=XXXUSDT')" 1 "klines asked for an unlisted symbol"

# --- an unreachable host: exit 1, one stderr line naming the URL ---
closed=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()')
before=$(sql 'select count(*) from candles')
SAVED_URL=$FAKEX_URL
FAKEX_URL="http://127.0.0.1:$closed"
ck_rc -q --symbols BTCUSDT sync >"$T/out" 2>"$T/err"
FAKEX_URL=$SAVED_URL
assert_eq "$RC" 1 "unreachable host"
grep '^candlekeep sync:' "$T/err" >"$T/line" || true
assert_eq "$(wc -l <"$T/line" | tr -d ' ')" 1 "one summary error line"
assert_file_match "$T/line" "cannot reach the exchange at http://127\.0\.0\.1:$closed"
assert_eq "$(sql 'select count(*) from candles')" "$before" "candles changed"
assert_eq "$(sql 'select status from runs order by id desc limit 1')" failed

# --- a read-only database directory (as an unprivileged user: root ignores modes) ---
if command -v setpriv >/dev/null && id nobody >/dev/null 2>&1 && [ "$(id -u)" = 0 ]; then
	asuser() { setpriv --reuid=nobody --regid="$(id -g nobody)" --clear-groups "$@"; }
	RO="$T/ro"
	mkdir -p "$RO"
	chmod 755 "$T"
	# (a) no database yet: it cannot be created.
	chmod 555 "$RO"
	RC=0; asuser "$CK" --db "$RO/c.db" --base-url "$FAKEX_URL" -q --symbols BTCUSDT --history-days 3 sync \
		>"$T/out" 2>"$T/err" || RC=$?
	case $RC in 1|2) ;; *) fail "read-only dir, new database: exit $RC" ;; esac
	assert_eq "$(wc -l <"$T/err" | tr -d ' ')" 1 "one line for a read-only directory"
	assert_file_match "$T/err" "$RO/c\.db.*(ermission|read-?only)"
	# (b) an existing database (owned by the user) in a directory that became read-only.
	chmod 777 "$RO"
	RC=0; asuser env CANDLEKEEP_HTTP_RETRY_NET_BASE_MS=50 "$CK" --db "$RO/c.db" --base-url "$FAKEX_URL" -q \
		--symbols BTCUSDT --history-days 3 sync >/dev/null 2>&1 || RC=$?
	assert_eq "$RC" 0 "sync as nobody in a writable dir"
	rows=$(sqlite3 "$RO/c.db" 'select count(*) from candles')
	sum=$(sqlite3 "$RO/c.db" 'select group_concat(open_time||close, ",") from candles')
	rm -f "$RO"/c.db-wal "$RO"/c.db-shm
	chmod 555 "$RO"
	RC=0; asuser "$CK" --db "$RO/c.db" --base-url "$FAKEX_URL" -q --symbols BTCUSDT,ETHUSDT --history-days 6 sync \
		>"$T/out" 2>"$T/err" || RC=$?
	case $RC in 1|2) ;; *) fail "read-only dir, existing database: exit $RC" ;; esac
	assert_file_match "$T/err" "$RO/c\.db.*(ermission|read-?only)"
	chmod 755 "$RO"
	assert_eq "$(sqlite3 "$RO/c.db" 'PRAGMA integrity_check')" ok
	assert_eq "$(sqlite3 "$RO/c.db" 'select group_concat(open_time||close, ",") from candles')" "$sum" "stored candles changed"
	note "read-only directory: exit $RC: $(head -1 "$T/err")"
else
	note "SKIP read-only directory: needs root and setpriv to run as nobody"
fi

# --- a full disk: a small tmpfs if we may mount, else RLIMIT_FSIZE (SIGXFSZ ignored) ---
FULL="$T/full"
mkdir -p "$FULL"
mounted=0
if [ "$(id -u)" = 0 ] && mount -t tmpfs -o size=400k tmpfs "$FULL" 2>/dev/null; then
	mounted=1
	trap 'umount "$FULL" 2>/dev/null; cleanup' EXIT
fi
FDB="$FULL/c.db"
DB="$FDB" ck -q --symbols BTCUSDT --history-days 30 sync >/dev/null 2>&1 || fail "first sync on the small disk"
DB="$FDB" ck export --symbol BTCUSDT >"$T/btc.before" 2>/dev/null
if [ $mounted = 1 ]; then
	RC=0; DB="$FDB" ck -q --symbols BTCUSDT,ETHUSDT,SOLUSDT,XRPUSDT --history-days 500 sync >"$T/out" 2>"$T/err" || RC=$?
else
	note "no tmpfs mount allowed: RLIMIT_FSIZE instead"
	RC=0; (trap '' XFSZ; ulimit -f 400; DB="$FDB" ck -q --symbols BTCUSDT,ETHUSDT,SOLUSDT,XRPUSDT --history-days 500 \
		sync >"$T/out" 2>"$T/err") || RC=$?
	RC=${RC:-0}
fi
assert_eq "$RC" 1 "full disk"
grep '^candlekeep sync:' "$T/err" >"$T/line" || true
assert_eq "$(wc -l <"$T/line" | tr -d ' ')" 1 "one summary error line"
if [ $mounted = 1 ]; then assert_file_match "$T/line" "$FDB.*(full|space)"; fi
assert_eq "$(sqlite3 "$FDB" 'PRAGMA integrity_check')" ok
DB="$FDB" ck export --symbol BTCUSDT >"$T/btc.after" 2>/dev/null
cmp -s "$T/btc.before" "$T/btc.after" || fail "candles stored before the disk filled changed"
for s in ETHUSDT SOLUSDT XRPUSDT; do
	DB="$FDB" ck export --symbol "$s" 2>/dev/null | cut -d, -f1-9 | sort >"$T/got"
	cut -d, -f1-9 "$DATA/$s-4h.csv" | sort >"$T/all"
	[ -z "$(comm -23 "$T/got" "$T/all" | head -1)" ] || fail "$s: stored rows not in the data"
done
# Freed space: the next run completes.
if [ $mounted = 1 ]; then
	sqlite3 "$FDB" ".backup '$T/c.db'"; umount "$FULL"; mounted=0; trap cleanup EXIT
	FDB="$T/c.db"
fi
DB="$FDB" ck_rc -q --symbols BTCUSDT,ETHUSDT,SOLUSDT,XRPUSDT --history-days 500 sync >"$T/out" 2>&1
[ "$RC" = 0 ] || { cat "$T/out"; fail "sync after space was freed: exit $RC"; }
echo ok
