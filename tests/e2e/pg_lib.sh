# tests/e2e/pg_lib.sh — sourced after lib.sh by a scenario that needs PostgreSQL: starts
# a private PostgreSQL 15 server in $T/pg on a free loopback port (its socket in
# $T/pgsock), sets PGURL (a postgresql:// URL for candlekeep's --db) and PSQL (psql
# on that server, quiet, stops at the first error), and stops the server on exit.
# initdb refuses to run as root: as root the server runs as the user nobody, owning
# only its own directories (the run stays inside $T).
PG_BIN=${PG_BIN:-/usr/lib/postgresql/15/bin}
[ -x "$PG_BIN/initdb" ] || fail "no PostgreSQL 15 server in $PG_BIN (scripts/deps.sh test installs it)"
PG_USER=
[ "$(id -u)" -eq 0 ] && PG_USER=nobody

pg_as() {
	if [ -n "$PG_USER" ]; then runuser -u "$PG_USER" -- "$@"; else "$@"; fi
}

pg_stop() {
	[ -f "$T/pg/postmaster.pid" ] || return 0
	pg_as "$PG_BIN/pg_ctl" -D "$T/pg" -m immediate -w stop >/dev/null 2>&1 || true
}
trap 'rc=$?; pg_stop; cleanup $rc' EXIT

# A free loopback port: bound by the kernel, then released for the server.
pg_free_port() {
	python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

pg_start() {
	local try
	mkdir -p "$T/pg" "$T/pgsock"
	if [ -n "$PG_USER" ]; then
		chmod 711 "$T"
		chown "$PG_USER" "$T/pg" "$T/pgsock"
	fi
	pg_as "$PG_BIN/initdb" -D "$T/pg" -A trust -U ck -E UTF8 --locale=C.UTF-8 >"$T/initdb.log" 2>&1 ||
		{ cat "$T/initdb.log" >&2; fail "initdb failed"; }
	for try in 1 2 3; do
		PG_PORT=$(pg_free_port)
		if pg_as "$PG_BIN/pg_ctl" -D "$T/pg" -l "$T/pgsock/server.log" -w -t 60 \
			-o "-k $T/pgsock -p $PG_PORT -c listen_addresses=127.0.0.1 -c fsync=off" \
			start >/dev/null 2>&1; then
			PGURL="postgresql://ck@127.0.0.1:$PG_PORT/postgres"
			PSQL=(psql -X -q -A -t -v ON_ERROR_STOP=1 -h 127.0.0.1 -p "$PG_PORT" -U ck -d postgres)
			return 0
		fi
	done
	cat "$T/pgsock/server.log" >&2 || true
	fail "PostgreSQL did not start"
}

# pg_createdb NAME: a fresh database on the server; echoes its URL.
pg_createdb() {
	"${PSQL[@]}" -c "CREATE DATABASE $1" >/dev/null
	echo "postgresql://ck@127.0.0.1:$PG_PORT/$1"
}

# pq DB SQL: one statement on database DB of the test's server (rows as a|b|c lines).
pq() { "${PSQL[@]}" -d "$1" -c "$2"; }
# pg_url DB APP: candlekeep's --db for database DB, its sessions named APP
# (application_name, as pg_stat_activity shows them).
pg_url() { echo "postgresql://ck@127.0.0.1:$PG_PORT/$1?application_name=$2"; }

# The COIN-M fault scenarios (t6037, t6043, t6044, t6046). PG_ROWS: every stored
# candle's columns in order, so that two databases' candles compare as text.
PG_ROWS="select market, symbol, interval, open_time, open, high, low, close, volume,"
PG_ROWS+=" close_time, quote_volume, trades, taker_buy_base, taker_buy_quote from candles"
PG_ROWS+=" order by 1, 2, 3, 4"
# pg_cm_scenario N ARGS...: fakex serving N synthetic COIN-M symbols ($syms) at
# 2026-01-01 00:00 ($now; the local clock too), a PostgreSQL server, and a fault-free
# sync of them (cks with ARGS) into database clean, its candles in $T/clean.rows.
pg_cm_scenario() {
	N=$1
	shift
	CKS_ARGS=("$@")
	now=1767225600000
	syms=$(synthetic_symbols "$N" USD_PERP)
	export CANDLEKEEP_FAULT_NOW=$now
	pg_start
	fakex_start --synthetic "$N" --now "$now"
	pg_createdb clean >/dev/null
	cks clean solo -q sync >"$T/clean.out" 2>&1 || { cat "$T/clean.out"; fail "the fault-free sync"; }
	assert_file_match "$T/clean.out" "sync ok: $N symbols"
	pq clean "$PG_ROWS" >"$T/clean.rows"
}
# cks DB APP ARGS...: candlekeep on database DB (its sessions named APP), market cm,
# the scenario's symbols and ARGS (pg_cm_scenario's, then these).
cks() {
	local db=$1 app=$2
	shift 2
	DB="$(pg_url "$db" "$app")" ck --market cm --symbols "$syms" "${CKS_ARGS[@]}" "$@"
}
# pg_cm_symbols_ok DB: DB's newest sync run ended every symbol ok, each with the newest
# candle the fault-free run stored (what it read back, in run_symbols).
pg_cm_symbols_ok() {
	local db=$1 run s
	run=$(pq "$db" "select max(id) from runs where command = 'sync'")
	for s in ${syms//,/ }; do
		assert_eq "$(pq "$db" "select status || ' ' || coalesce(newest_open, 0) from run_symbols where run_id = $run and symbol = '$s'")" \
			"ok $(pq clean "select max(open_time) from candles where symbol = '$s'")" "$db $s: status and the newest candle the run read"
	done
}
