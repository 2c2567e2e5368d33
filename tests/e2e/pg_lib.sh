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
