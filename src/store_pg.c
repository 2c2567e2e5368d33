/* store_pg.c — the PostgreSQL backend of the store (libpq): the schema, its version,
 * opening, transactions, candles, the hole ledger, per-symbol and key/value state, the
 * count and check, and the run lock held as a session advisory lock. The run records,
 * events, alerts, catalogues and metrics are in store_pg_rows.c.
 *
 * Same tables, columns, keys and view as the SQLite backend (store.c), so that the
 * same queries work on both: decimals are TEXT exactly as the exchange sent them,
 * INTEGER is BIGINT, REAL is DOUBLE PRECISION, every text column sorts bytewise
 * (COLLATE "C", as SQLite's BINARY) so that lists come out in the same order. The
 * schema version is the one row of ck_schema; a migration runs in one transaction
 * under a transaction advisory lock, so that workers opening at once do not race.
 * Only PQexecParams with parameters: no value is ever spliced into SQL text. */
#include <inttypes.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libpq-fe.h>

#include "fault.h"
#include "interval.h"
#include "kline.h"
#include "log.h"
#include "redact.h"
#include "store.h"
#include "store_int.h" /* store_grow, store_gap_cut */
#include "store_pg_int.h"
#include "banned.h"

/* Advisory lock keys (bigint): the schema migration, the run lock and the cluster
 * leader ("CKDB"...). A work claim's key is the 64-bit hash of its text
 * (hashtextextended), in the same space: a clash with these three is as likely as
 * two claims clashing (about n^2 / 2^65 for n keys), and costs only a skipped claim. */
#define PG_KEY_MIGRATE "4344424201"
#define PG_KEY_RUN "4344424202"
#define PG_KEY_LEADER "4344424203"
#define PG_SCHEMA_VERSION 3

#define T "TEXT COLLATE \"C\""
static const char *const schema_v1 =
	"CREATE TABLE IF NOT EXISTS candles ("
	" symbol " T " NOT NULL, interval " T " NOT NULL, open_time BIGINT NOT NULL,"
	" open " T " NOT NULL, high " T " NOT NULL, low " T " NOT NULL, close " T " NOT NULL,"
	" volume " T " NOT NULL, close_time BIGINT NOT NULL, quote_volume " T " NOT NULL,"
	" trades BIGINT NOT NULL, taker_buy_base " T ", taker_buy_quote " T ","
	" PRIMARY KEY (symbol, interval, open_time));"
	"CREATE TABLE IF NOT EXISTS holes ("
	" symbol " T " NOT NULL, interval " T " NOT NULL, first_open BIGINT NOT NULL,"
	" last_open BIGINT NOT NULL, confirmed_at BIGINT NOT NULL,"
	" first_seen BIGINT NOT NULL DEFAULT 0, first_seen_exchange BIGINT NOT NULL DEFAULT 0,"
	" second_seen BIGINT NOT NULL DEFAULT 0, runs BIGINT NOT NULL DEFAULT 1,"
	" PRIMARY KEY (symbol, interval, first_open));"
	"CREATE TABLE IF NOT EXISTS symbols ("
	" symbol " T " NOT NULL, interval " T " NOT NULL, history_start BIGINT NOT NULL,"
	" first_open BIGINT NOT NULL, PRIMARY KEY (symbol, interval));"
	"CREATE TABLE IF NOT EXISTS state (key " T " PRIMARY KEY, value " T " NOT NULL);"
	"CREATE TABLE IF NOT EXISTS runs ("
	" id BIGSERIAL PRIMARY KEY, command " T " NOT NULL, started BIGINT NOT NULL,"
	" ended BIGINT, status " T " NOT NULL, exit_code BIGINT, pid BIGINT,"
	" candles_written BIGINT DEFAULT 0, candles_revised BIGINT DEFAULT 0,"
	" requests BIGINT DEFAULT 0, retries BIGINT DEFAULT 0,"
	" http_429 BIGINT DEFAULT 0, http_418 BIGINT DEFAULT 0,"
	" http_5xx BIGINT DEFAULT 0, net_errors BIGINT DEFAULT 0,"
	" symbols_ok BIGINT DEFAULT 0, symbols_failed BIGINT DEFAULT 0,"
	" symbols_skipped BIGINT DEFAULT 0, weight_used_max BIGINT DEFAULT 0,"
	" error " T ", server_time BIGINT);"
	"CREATE INDEX IF NOT EXISTS runs_by_command ON runs(command, started);"
	"CREATE TABLE IF NOT EXISTS run_symbols ("
	" run_id BIGINT NOT NULL REFERENCES runs(id), symbol " T " NOT NULL,"
	" status " T " NOT NULL, candles_written BIGINT NOT NULL,"
	" candles_revised BIGINT NOT NULL, newest_open BIGINT, error " T ","
	" PRIMARY KEY (run_id, symbol));"
	"CREATE TABLE IF NOT EXISTS backups ("
	" id BIGSERIAL PRIMARY KEY, tier " T " NOT NULL, location " T " NOT NULL,"
	" created BIGINT NOT NULL, size BIGINT NOT NULL DEFAULT 0, sha256 " T ","
	" candles BIGINT NOT NULL DEFAULT 0, status " T " NOT NULL, detail " T ","
	" verified_at BIGINT, UNIQUE (tier, location));"
	"CREATE TABLE IF NOT EXISTS events ("
	" id BIGSERIAL PRIMARY KEY, at BIGINT NOT NULL, kind " T " NOT NULL,"
	" subject " T " NOT NULL DEFAULT '', value DOUBLE PRECISION NOT NULL DEFAULT 0,"
	" detail " T ");"
	"CREATE INDEX IF NOT EXISTS events_by_kind ON events(kind, at);"
	"CREATE TABLE IF NOT EXISTS alerts ("
	" key " T " PRIMARY KEY, severity " T " NOT NULL, state " T " NOT NULL,"
	" summary " T ", first_at BIGINT NOT NULL, last_sent BIGINT NOT NULL DEFAULT 0,"
	" sends BIGINT NOT NULL DEFAULT 0, failures BIGINT NOT NULL DEFAULT 0, detail " T ");"
	"CREATE TABLE IF NOT EXISTS alert_outbox ("
	" key " T " NOT NULL, channel " T " NOT NULL,"
	" state " T " NOT NULL DEFAULT 'pending',"
	" delivered " T " NOT NULL DEFAULT '', last_sent BIGINT NOT NULL DEFAULT 0,"
	" attempts BIGINT NOT NULL DEFAULT 0, next_at BIGINT NOT NULL DEFAULT 0,"
	" claimed_until BIGINT NOT NULL DEFAULT 0, claimed_by BIGINT NOT NULL DEFAULT 0,"
	" error " T ", sends BIGINT NOT NULL DEFAULT 0, failures BIGINT NOT NULL DEFAULT 0,"
	" PRIMARY KEY (key, channel));"
	"CREATE TABLE IF NOT EXISTS archive_files ("
	" name " T " PRIMARY KEY, sha256 " T " NOT NULL, rows BIGINT NOT NULL,"
	" read_at BIGINT NOT NULL);"
	"CREATE TABLE IF NOT EXISTS revisions ("
	" id BIGSERIAL PRIMARY KEY, symbol " T " NOT NULL, interval " T " NOT NULL,"
	" open_time BIGINT NOT NULL, revised_at BIGINT NOT NULL,"
	" old " T " NOT NULL, new " T " NOT NULL);"
	"CREATE INDEX IF NOT EXISTS revisions_by_time ON revisions(revised_at);"
	/* The older design's table as a view over the 4h candles, as in SQLite. */
	"CREATE OR REPLACE VIEW ohlcv_h4 AS SELECT symbol, open_time AS timestamp,"
	" CAST(open AS DOUBLE PRECISION) AS open, CAST(high AS DOUBLE PRECISION) AS high,"
	" CAST(low AS DOUBLE PRECISION) AS low, CAST(close AS DOUBLE PRECISION) AS close,"
	" CAST(volume AS DOUBLE PRECISION) AS volume FROM candles WHERE interval = '4h';";
#undef T

/* Version 2: the market (um, cm, spot) in the key of every table keyed by symbol and
 * interval, 'um' for the rows before (as SQLite's schema 5, store.c); ck_market() is the
 * market the session works on (store_market_set sets candlekeep.market). */
#define T "TEXT COLLATE \"C\""
static const char *const schema_v2 =
	"CREATE OR REPLACE FUNCTION ck_market() RETURNS text LANGUAGE sql STABLE AS"
	" $$ SELECT coalesce(nullif(current_setting('candlekeep.market', true), ''), 'um') $$;"
	"ALTER TABLE candles ADD COLUMN market " T " NOT NULL DEFAULT 'um';"
	"ALTER TABLE candles DROP CONSTRAINT candles_pkey;"
	"ALTER TABLE candles ADD PRIMARY KEY (market, symbol, interval, open_time);"
	"ALTER TABLE holes ADD COLUMN market " T " NOT NULL DEFAULT 'um';"
	"ALTER TABLE holes DROP CONSTRAINT holes_pkey;"
	"ALTER TABLE holes ADD PRIMARY KEY (market, symbol, interval, first_open);"
	"ALTER TABLE symbols ADD COLUMN market " T " NOT NULL DEFAULT 'um';"
	"ALTER TABLE symbols DROP CONSTRAINT symbols_pkey;"
	"ALTER TABLE symbols ADD PRIMARY KEY (market, symbol, interval);"
	"ALTER TABLE archive_files ADD COLUMN market " T " NOT NULL DEFAULT 'um';"
	"ALTER TABLE archive_files DROP CONSTRAINT archive_files_pkey;"
	"ALTER TABLE archive_files ADD PRIMARY KEY (market, name);"
	"ALTER TABLE revisions ADD COLUMN market " T " NOT NULL DEFAULT 'um';"
	"UPDATE state SET key = 'verify_at:um:' || substr(key, 11)"
	" WHERE key LIKE 'verify\\_at:%' AND key NOT LIKE 'verify\\_at:%:%';"
	"UPDATE state SET key = 'verify_cursor:um:' || substr(key, 15)"
	" WHERE key LIKE 'verify\\_cursor:%' AND key NOT LIKE 'verify\\_cursor:%:%';"
	"CREATE OR REPLACE VIEW ohlcv_h4 AS SELECT symbol, open_time AS timestamp,"
	" CAST(open AS DOUBLE PRECISION) AS open, CAST(high AS DOUBLE PRECISION) AS high,"
	" CAST(low AS DOUBLE PRECISION) AS low, CAST(close AS DOUBLE PRECISION) AS close,"
	" CAST(volume AS DOUBLE PRECISION) AS volume FROM candles"
	" WHERE market = 'um' AND interval = '4h';";
#undef T

/* Version 3: the market and interval of every run record and symbol outcome (as
 * SQLite's schema 6, store.c, which says how the interval of older runs is chosen: the
 * one interval of the symbols table, else the default '4h'). */
#define T "TEXT COLLATE \"C\""
static const char *const schema_v3 =
	"ALTER TABLE runs ADD COLUMN market " T " NOT NULL DEFAULT 'um';"
	"ALTER TABLE runs ADD COLUMN interval " T " NOT NULL DEFAULT '4h';"
	"ALTER TABLE run_symbols ADD COLUMN market " T " NOT NULL DEFAULT 'um';"
	"ALTER TABLE run_symbols ADD COLUMN interval " T " NOT NULL DEFAULT '4h';"
	"UPDATE runs SET interval = (SELECT CASE WHEN count(DISTINCT interval) = 1"
	" THEN min(interval) ELSE '4h' END FROM symbols);"
	"UPDATE run_symbols s SET interval = r.interval FROM runs r WHERE r.id = s.run_id;"
	"CREATE INDEX IF NOT EXISTS runs_by_interval ON runs(market, interval, command, started);";
#undef T

/* The tables check looks for (a schema check: the server keeps its own pages). */
static const char *const pg_tables[] = {"candles", "holes",  "symbols",      "state",
					"runs",    "events", "alert_outbox", "archive_files"};

/* ---- helpers ---- */

const char *pg_i64(char b[24], int64_t v)
{
	snprintf(b, 24, "%" PRId64, v);
	return b;
}

int64_t pg_int(const PGresult *r, int row, int col)
{
	return PQgetisnull(r, row, col) ? 0 : strtoll(PQgetvalue(r, row, col), NULL, 10);
}

const char *pg_text(const PGresult *r, int row, int col)
{
	return PQgetvalue(r, row, col); /* "" for NULL */
}

void pg_copy(char *dst, size_t size, const PGresult *r, int row, int col)
{
	snprintf(dst, size, "%s", pg_text(r, row, col));
}

/* The server's message on one line. */
static void one_line(char *dst, size_t size, const char *msg)
{
	char *p;

	snprintf(dst, size, "%s", msg && *msg ? msg : "no answer from the server");
	for (p = dst; *p; p++)
		if (*p == '\n' || *p == '\t')
			*p = ' ';
	while (p > dst && p[-1] == ' ')
		*--p = 0;
}

/* pg_fail of a statement whose connection was lost (and made again since: lost set). */
static int pg_fail_lost(struct store *st, const PGresult *r, const char *what, int lost,
			struct ck_err *err)
{
	const char *state = r ? PQresultErrorField(r, PG_DIAG_SQLSTATE) : NULL;
	char msg[512];
	int code = CK_EDB;
	const char *hint = "";

	one_line(msg, sizeof(msg),
		 r && *PQresultErrorMessage(r) ? PQresultErrorMessage(r)
					       : PQerrorMessage(pg(st)->conn));
	/* The server ending the session (57P01 administrator command, 57P02 crash; class 08
	 * connection exceptions) answers with an error before libpq sees the connection
	 * close: lost too. The cause first: the server's words are long, and lists cut
	 * them. */
	if (lost || PQstatus(pg(st)->conn) == CONNECTION_BAD ||
	    (state && !strncmp(state, "08", 2)) ||
	    (state && (!strcmp(state, "57P01") || !strcmp(state, "57P02"))))
		return ck_err_set(err, CK_ELOST,
				  "%s %s: the connection to the PostgreSQL server was lost (%s);"
				  " nothing uncommitted was kept, the next run goes on from the"
				  " last committed page",
				  what, pg(st)->shown, msg);
	if (state && !strcmp(state, "53100")) {
		code = CK_EFULL;
		hint = " (free disk space on the database server)";
	} else if (state && (!strcmp(state, "XX001") || !strcmp(state, "XX002"))) {
		code = CK_ECORRUPT;
		hint = " (the server reports corrupted data: restore from a backup)";
	} else if (state && !strcmp(state, "25006"))
		hint = " (this command opened the database read-only)";
	return ck_err_set(err, code, "%s %s: %s%s", what, pg(st)->shown, msg, hint);
}

static int pg_fail(struct store *st, const PGresult *r, const char *what, struct ck_err *err)
{
	return pg_fail_lost(st, r, what, 0, err);
}

/* New connections tried when one is lost (pg_reconnect). */
#define PG_RECONNECT_TRIES 3

static int pg_reconnect(struct store *st, int in_tx);

/* A statement inside a transaction the lost connection took with it (tx_lost): not
 * sent. On the new connection it would run on its own, committed at once, while the
 * rest of its transaction is gone (a page's state without its candles); the
 * transaction's owner ends it (its COMMIT fails, a ROLLBACK clears it). */
static int pg_lost(struct store *st, const char *what, struct ck_err *err)
{
	return ck_err_set(err, CK_ELOST,
			  "%s %s: the connection to the PostgreSQL server was lost inside this"
			  " transaction, which is undone (the next run goes on from the last"
			  " committed page)",
			  what, pg(st)->shown);
}

/* 1 when a transaction is open on the store's connection; when the connection is lost,
 * as it was last seen alive (the server took the transaction with it, and the next
 * statement must not run on its own on a new connection). */
static int pg_in_tx(struct store_pg *p)
{
	PGTransactionStatusType ts = PQtransactionStatus(p->conn);

	if (ts != PQTRANS_UNKNOWN)
		p->in_tx = ts != PQTRANS_IDLE;
	return p->in_tx;
}

#ifdef CK_FAULT_INJECTION
/* Tests: the server ends this session (pg_terminate_backend) when a statement of the
 * faulted site runs inside a transaction: at the first one with CANDLEKEEP_FAULT_DAMAGE
 * = site, at the first two with site-2, once per process (*done counts them). The store
 * finds the connection lost at that statement. */
static void fault_end_session(struct store_pg *p, const char *site, int *done)
{
	char twice[64];
	int times;

	snprintf(twice, sizeof(twice), "%s-2", site);
	times = fault_damage(site) ? 1 : fault_damage(twice) ? 2 : 0;
	if (times && pg_in_tx(p) && *done < times) {
		(*done)++;
		PQclear(PQexec(p->conn, "SELECT pg_terminate_backend(pg_backend_pid())"));
	}
}
#endif

/* The transaction the store's code began itself is over (committed or rolled back,
 * or gone with a lost connection). */
static void pg_tx_ended(struct store_pg *p)
{
	p->tx_lost = 0;
	p->in_tx = 0;
}

/* 1 when r (a statement's result) is a success. */
static int pg_ok(const PGresult *r)
{
	ExecStatusType s = r ? PQresultStatus(r) : PGRES_FATAL_ERROR;
	return s == PGRES_TUPLES_OK || s == PGRES_COMMAND_OK;
}

/* 1 when sql may be sent again after a reconnect although the first one may have
 * committed just before the drop: everything but a plain INSERT (an upsert, ON
 * CONFLICT, writes the same row again; UPDATE and DELETE set what they set). A plain
 * INSERT would add its row twice (a run's record, an event): its caller gets the lost
 * connection (CK_ELOST) and decides. */
static int pg_resendable(const char *sql)
{
	return strncmp(sql, "INSERT", 6) || strstr(sql, "ON CONFLICT");
}

/* 0 when the connection may be used: a new one whose session settings could not be
 * made (unset) is made again first; CK_ELOST when that fails too. */
static int pg_usable(struct store *st, const char *what, struct ck_err *err)
{
	if (!pg(st)->unset || pg_reconnect(st, 0) == 0)
		return 0;
	return ck_err_set(err, CK_ELOST,
			  "%s %s: the connection to the PostgreSQL server was lost and could not"
			  " be made again (%d tries): check that the server is up and reachable",
			  what, pg(st)->shown, PG_RECONNECT_TRIES);
}

PGresult *pgq(struct store *st, const char *sql, int n, const char *const *v, const char *what,
	      struct ck_err *err)
{
	int idle = !pg_in_tx(pg(st)), lost;
	PGresult *r;

	if (pg(st)->tx_lost) {
		pg_lost(st, what, err);
		return NULL;
	}
	if (pg_usable(st, what, err))
		return NULL;
	r = PQexecParams(pg(st)->conn, sql, n, NULL, v, NULL, NULL, 0);
	if (pg_ok(r)) {
		pg_in_tx(pg(st)); /* as the statement left it (a COMMIT ends it) */
		return r;
	}
	lost = PQstatus(pg(st)->conn) == CONNECTION_BAD;
	if (lost && pg_reconnect(st, !idle) == 0 && idle && pg_resendable(sql)) {
		PGresult *again = PQexecParams(pg(st)->conn, sql, n, NULL, v, NULL, NULL, 0);
		if (pg_ok(again)) {
			PQclear(r);
			pg_in_tx(pg(st));
			return again;
		}
		PQclear(again);
	}
	pg_fail_lost(st, r, what, lost, err);
	PQclear(r);
	return NULL;
}

int pgx(struct store *st, const char *sql, int n, const char *const *v, const char *what,
	struct ck_err *err)
{
	PGresult *r = pgq(st, sql, n, v, what, err);

	if (!r)
		return err->code;
	PQclear(r);
	return 0;
}

/* A statement without parameters, possibly several (schema): PQexec. */
/* pg_exec's statements, their (last) result returned (PQclear it), or NULL with err. */
static PGresult *pg_exec_result(struct store *st, const char *sql, const char *what,
				struct ck_err *err)
{
	int idle = !pg_in_tx(pg(st)), lost = 0;
	PGresult *r;

	if (pg(st)->tx_lost) {
		pg_lost(st, what, err);
		return NULL;
	}
	if (pg_usable(st, what, err))
		return NULL;
	r = PQexec(pg(st)->conn, sql);
	if (!pg_ok(r) && (lost = PQstatus(pg(st)->conn) == CONNECTION_BAD) &&
	    pg_reconnect(st, !idle) == 0 && idle) {
		PQclear(r);
		r = PQexec(pg(st)->conn, sql);
	}
	if (!pg_ok(r)) {
		pg_fail_lost(st, r, what, lost, err);
		PQclear(r);
		return NULL;
	}
	pg_in_tx(pg(st)); /* as the statements left it (a COMMIT ends it) */
	return r;
}

static int pg_exec(struct store *st, const char *sql, const char *what, struct ck_err *err)
{
	PGresult *r = pg_exec_result(st, sql, what, err);

	if (!r)
		return err->code;
	PQclear(r);
	return 0;
}

/* The session settings of a connection (pg_open's, and each new one pg_reconnect
 * makes): notices off, read-only for a read-only open, the market ck_market() reads.
 * 0 when all were made. */
static int pg_session_setup(struct store *st)
{
	struct store_pg *p = pg(st);
	const char *v[] = {st->market};
	PGresult *r;
	int ok;

	r = PQexec(p->conn, "SET client_min_messages = warning");
	ok = pg_ok(r);
	PQclear(r);
	if (ok && st->rdonly) {
		r = PQexec(p->conn, "SET default_transaction_read_only = on");
		ok = pg_ok(r);
		PQclear(r);
	}
	if (ok) {
		r = PQexecParams(p->conn, "SELECT set_config('candlekeep.market', $1, false)", 1,
				 NULL, v, NULL, NULL, 0);
		ok = pg_ok(r);
		PQclear(r);
	}
	return ok ? 0 : -1;
}

/* A connection the server dropped (a restart, a failover, pg_terminate_backend, the
 * network) is made again with the same parameters, its session settings and this
 * handle's claims taken again (a claim another worker took meanwhile is lost: that
 * worker may fetch the symbol too, which only costs weight, as every write is an
 * upsert). A statement sent outside a transaction is then sent once more (pgq,
 * pg_exec); inside one, the transaction is gone with the connection: the statement
 * fails, and so does every later one until the transaction's owner ends it (tx_lost:
 * its COMMIT fails, pg_lost), and the caller fails what it wrote. The session's
 * settings (its market: ck_market(), read-only) are set again, each checked: a new
 * session the server drops before they are made is made again (at most
 * PG_RECONNECT_TRIES times), never used without them (its statements would read and
 * write the default market). 0 when connected again. */
static int pg_reconnect(struct store *st, int in_tx)
{
	struct store_pg *p = pg(st);
	size_t i, k = 0, n = p->nclaims;
	int tries;

	if (in_tx)
		p->tx_lost = 1; /* gone with the old connection, whatever happens here */
	for (tries = 1;; tries++) {
		PQreset(p->conn);
#ifdef CK_FAULT_INJECTION
		/* The server drops the new session before its settings are made (the first
		 * attempt of each reconnect; the test of this path). */
		if (fault_damage("pg-reconnect") && !p->setup_faulted++)
			PQclear(PQexec(p->conn, "SELECT pg_terminate_backend(pg_backend_pid())"));
#endif
		if (PQstatus(p->conn) == CONNECTION_OK && pg_session_setup(st) == 0)
			break;
		if (tries == PG_RECONNECT_TRIES) {
			/* Not used without its settings: the next statement makes it again
			 * (pg_usable). */
			p->unset = 1;
			return -1;
		}
	}
	p->unset = 0;
#ifdef CK_FAULT_INJECTION
	p->setup_faulted = 0;
#endif
	for (i = 0; i < n; i++) {
		const char *v[] = {p->claims[i]};
		PGresult *r = PQexecParams(p->conn,
					   "SELECT pg_try_advisory_lock(hashtextextended($1, 0))",
					   1, NULL, v, NULL, NULL, 0);
		if (pg_ok(r) && !strcmp(PQgetvalue(r, 0, 0), "t"))
			p->claims[k++] = p->claims[i];
		else
			free(p->claims[i]);
		PQclear(r);
	}
	p->nclaims = k;
	log_warn("store",
		 "the connection to %s was lost and is made again%s; %zu of %zu claims kept",
		 p->shown, in_tx ? " (the transaction in progress is undone)" : "", k, n);
	return 0;
}

/* Notices ("relation already exists, skipping") are not for the user. */
static void pg_quiet(void *arg, const char *message)
{
	(void)arg;
	(void)message;
}

/* ---- open, close, schema ---- */

static const char *pg_version(void)
{
	static char v[32];
	int n = PQlibVersion();

	snprintf(v, sizeof(v), "libpq %d.%d", n / 10000, n % 10000);
	return v;
}

static int pg_migrate(struct store *st, struct ck_err *err)
{
	PGresult *r;
	int version;

	if (pg_exec(st, "BEGIN", "migrate", err))
		return err->code;
	if (pgx(st, "SELECT pg_advisory_xact_lock(" PG_KEY_MIGRATE ")", 0, NULL, "migrate", err) ||
	    pg_exec(st, "CREATE TABLE IF NOT EXISTS ck_schema (version INTEGER NOT NULL)",
		    "migrate", err) ||
	    !(r = pgq(st, "SELECT coalesce(max(version), 0) FROM ck_schema", 0, NULL, "migrate",
		      err)))
		goto fail;
	version = (int)pg_int(r, 0, 0);
	PQclear(r);
	if (version > PG_SCHEMA_VERSION) {
		ck_err_set(err, CK_EUSAGE,
			   "open %s: schema version %d is newer than this candlekeep knows (%d);"
			   " upgrade candlekeep",
			   pg(st)->shown, version, PG_SCHEMA_VERSION);
		goto fail;
	}
	if (version < 1 && (pg_exec(st, schema_v1, "create the schema in", err) ||
			    pg_exec(st, "DELETE FROM ck_schema; INSERT INTO ck_schema VALUES (1)",
				    "migrate", err)))
		goto fail;
	if (version < 2 && (pg_exec(st, schema_v2, "add the market column (schema 2) to", err) ||
			    pg_exec(st, "DELETE FROM ck_schema; INSERT INTO ck_schema VALUES (2)",
				    "migrate", err)))
		goto fail;
	if (version < 3 &&
	    (pg_exec(st, schema_v3, "add the market and interval of runs (schema 3) to", err) ||
	     pg_exec(st, "DELETE FROM ck_schema; INSERT INTO ck_schema VALUES (3)", "migrate",
		     err)))
		goto fail;
	if (pg_exec(st, "COMMIT", "migrate", err))
		goto fail;
	return 0;
fail:
	PQclear(PQexec(pg(st)->conn, "ROLLBACK"));
	pg_tx_ended(pg(st));
	return err->code;
}

/* The session's market, read by ck_market() in every statement (a session setting: it
 * outlives transactions, and a read-only user may set it too). */
static int pg_market_set(struct store *st, struct ck_err *err)
{
	const char *v[] = {st->market};

	return pgx(st, "SELECT set_config('candlekeep.market', $1, false)", 1, v, "open", err);
}

PGconn *pg_connect(const char *conninfo)
{
	/* connect_timeout first: a URL's own connect_timeout (processed later) wins */
	const char *const k[] = {"connect_timeout", "dbname", NULL};
	const char *const v[] = {PG_CONNECT_TIMEOUT_S, conninfo, NULL};

	return PQconnectdbParams(k, v, 1);
}

static int pg_open(struct store *st, int flags, struct ck_err *err)
{
	struct store_pg *p = calloc(1, sizeof(*p));
	PGresult *r;
	int version;

	(void)flags; /* STORE_PRIVATE: file modes mean nothing on a server */
	if (!p)
		return ck_err_set(err, CK_ENOMEM, "open: out of memory");
	st->impl = p;
	redact_copy(st->path, p->shown, sizeof(p->shown));
	p->conn = pg_connect(st->path);
	if (!p->conn)
		return ck_err_set(err, CK_ENOMEM, "open %s: out of memory", p->shown);
	if (PQstatus(p->conn) != CONNECTION_OK) {
		char msg[512];
		one_line(msg, sizeof(msg), PQerrorMessage(p->conn));
		return ck_err_set(err, CK_EDB,
				  "open %s: %s (check the URL, that the server runs and that it"
				  " accepts this user and database)",
				  p->shown, msg);
	}
	PQsetNoticeProcessor(p->conn, pg_quiet, NULL);
	if (pg_session_setup(st))
		return pg_fail(st, NULL, "open", err);
	if (!st->rdonly)
		return pg_migrate(st, err);
	if (!(r = pgq(st, "SELECT to_regclass('candles') IS NOT NULL", 0, NULL, "open", err)))
		return err->code;
	if (strcmp(pg_text(r, 0, 0), "t")) {
		PQclear(r);
		return ck_err_set(err, CK_ENOTFOUND,
				  "open %s: not a candlekeep database (no candles table; run"
				  " candlekeep sync first)",
				  p->shown);
	}
	PQclear(r);
	/* A read-only open never migrates: an older schema would answer every query with
	 * a missing column. Say what to do instead. */
	if (!(r = pgq(st, "SELECT coalesce(max(version), 0) FROM ck_schema", 0, NULL, "open", err)))
		return err->code;
	version = (int)pg_int(r, 0, 0);
	PQclear(r);
	if (version < PG_SCHEMA_VERSION)
		return ck_err_set(err, CK_EUSAGE,
				  "open %s: the database has schema version %d and this candlekeep"
				  " reads %d; run one writing command first (candlekeep ban, or the"
				  " next sync) as a user that may alter its tables: it migrates the"
				  " schema and keeps every row",
				  p->shown, version, PG_SCHEMA_VERSION);
	if (version > PG_SCHEMA_VERSION)
		return ck_err_set(err, CK_EUSAGE,
				  "open %s: schema version %d is newer than this candlekeep knows"
				  " (%d); upgrade candlekeep",
				  p->shown, version, PG_SCHEMA_VERSION);
	return 0;
}

static void pg_close(struct store *st)
{
	struct store_pg *p = pg(st);

	if (!p)
		return;
	PQfinish(p->conn);
	for (size_t i = 0; i < p->nclaims; i++)
		free(p->claims[i]);
	free(p->claims);
	free(p);
	st->impl = NULL;
}

/* BEGIN, and the transaction's id kept (txid): a COMMIT whose answer the lost
 * connection took asks the server how it ended (pg_commit). */
static int pg_begin(struct store *st, const char *what, struct ck_err *err)
{
	PGresult *r;

	pg(st)->txid[0] = 0;
	/* one round trip: the answer of a multi-statement string is its last statement's */
	if (!(r = pg_exec_result(st, "BEGIN; SELECT txid_current()", what, err))) {
		if (PQtransactionStatus(pg(st)->conn) == PQTRANS_INERROR)
			PQclear(PQexec(pg(st)->conn, "ROLLBACK")); /* BEGIN ran, the SELECT not */
		pg_tx_ended(pg(st));
		return err->code;
	}
	snprintf(pg(st)->txid, sizeof(pg(st)->txid), "%s", pg_text(r, 0, 0));
	PQclear(r);
	return 0;
}

/* COMMIT of the transaction pg_begin began. When the connection is lost before its
 * answer arrives, the server may have committed it (the answer was lost, not the
 * commit): a new connection asks txid_status, and a committed transaction is kept as
 * committed (0), never reported failed while its rows are stored. Anything else (it
 * was aborted, the server cannot tell, no new connection) fails as before. */
static int pg_commit(struct store *st, const char *what, struct ck_err *err)
{
	struct store_pg *p = pg(st);
	char txid[sizeof(p->txid)];
	PGresult *r;
	int lost, rc;

	snprintf(txid, sizeof(txid), "%s", p->txid);
	p->txid[0] = 0;
	if (p->tx_lost)
		return pg_lost(st, what, err);
	r = PQexec(p->conn, "COMMIT");
#ifdef CK_FAULT_INJECTION
	/* The answer of every COMMIT is lost: the session ends right after the server
	 * committed (the test of the path below). */
	if (pg_ok(r) && fault_damage("pg-commit-reply")) {
		PQclear(r);
		PQclear(PQexec(p->conn, "SELECT pg_terminate_backend(pg_backend_pid())"));
		r = PQexec(p->conn, "COMMIT"); /* fails as the lost answer would have */
	}
#endif
	if (pg_ok(r)) {
		PQclear(r);
		pg_in_tx(p);
#ifdef CK_FAULT_INJECTION
		/* pg-reconnect: the session is lost once while idle, after the first commit
		 * (then the reconnect's first new session is dropped too: pg_session_setup) */
		if (fault_damage("pg-reconnect") && !p->idle_dropped++)
			PQclear(PQexec(p->conn, "SELECT pg_terminate_backend(pg_backend_pid())"));
#endif
		return 0;
	}
	lost = PQstatus(p->conn) == CONNECTION_BAD;
	if (lost && txid[0] && pg_reconnect(st, 0) == 0) {
		const char *v[] = {txid};
		PGresult *q =
			PQexecParams(p->conn, "SELECT txid_status($1)", 1, NULL, v, NULL, NULL, 0);
		int committed = pg_ok(q) && PQntuples(q) == 1 && !PQgetisnull(q, 0, 0) &&
				!strcmp(PQgetvalue(q, 0, 0), "committed");
		PQclear(q);
		if (committed) {
			log_warn("store",
				 "%s %s: the connection was lost before the commit's answer; the"
				 " server says transaction %s committed: it is kept",
				 what, p->shown, txid);
			PQclear(r);
			pg_tx_ended(p);
			return 0;
		}
	}
	rc = pg_fail_lost(st, r, what, lost, err);
	PQclear(r);
	return rc;
}

static int pg_tx_begin(struct store *st, struct ck_err *err)
{
	pg(st)->tx_lost = 0;
	return pg_begin(st, "begin a transaction on", err);
}

static int pg_tx_commit(struct store *st, struct ck_err *err)
{
	struct ck_err tmp;

	if (!err)
		err = &tmp;
	if (pg(st)->tx_lost) {
		PQclear(PQexec(pg(st)->conn, "ROLLBACK"));
		pg_tx_ended(pg(st));
		return ck_err_set(err, CK_ELOST,
				  "commit to %s: the connection to the PostgreSQL server was lost"
				  " inside this transaction, which is undone (the next run goes on"
				  " from the last committed page)",
				  pg(st)->shown);
	}
	if (pg_commit(st, "commit to", err)) {
		PQclear(PQexec(pg(st)->conn, "ROLLBACK"));
		pg_tx_ended(pg(st));
		return err->code;
	}
	return 0;
}

static void pg_tx_rollback(struct store *st)
{
	if (st && pg(st) && PQtransactionStatus(pg(st)->conn) != PQTRANS_IDLE)
		PQclear(PQexec(pg(st)->conn, "ROLLBACK"));
	if (st && pg(st))
		pg_tx_ended(pg(st));
}

/* ---- candles ---- */

#define KLINE_COLS                                                                                 \
	"open_time, open, high, low, close, volume, close_time, quote_volume, trades,"             \
	" taker_buy_base, taker_buy_quote"

static void read_kline(const PGresult *r, int row, int first, struct kline *k)
{
	k->open_time = pg_int(r, row, first);
	pg_copy(k->open, sizeof(k->open), r, row, first + 1);
	pg_copy(k->high, sizeof(k->high), r, row, first + 2);
	pg_copy(k->low, sizeof(k->low), r, row, first + 3);
	pg_copy(k->close, sizeof(k->close), r, row, first + 4);
	pg_copy(k->volume, sizeof(k->volume), r, row, first + 5);
	k->close_time = pg_int(r, row, first + 6);
	pg_copy(k->quote_volume, sizeof(k->quote_volume), r, row, first + 7);
	k->trades = pg_int(r, row, first + 8);
	pg_copy(k->taker_buy_base, sizeof(k->taker_buy_base), r, row, first + 9);
	pg_copy(k->taker_buy_quote, sizeof(k->taker_buy_quote), r, row, first + 10);
}

static int kline_same(const struct kline *a, const struct kline *b)
{
	return a->open_time == b->open_time && a->close_time == b->close_time &&
	       a->trades == b->trades && !strcmp(a->open, b->open) && !strcmp(a->high, b->high) &&
	       !strcmp(a->low, b->low) && !strcmp(a->close, b->close) &&
	       !strcmp(a->volume, b->volume) && !strcmp(a->quote_volume, b->quote_volume) &&
	       !strcmp(a->taker_buy_base, b->taker_buy_base) &&
	       !strcmp(a->taker_buy_quote, b->taker_buy_quote);
}

/* The staging table of put_page: one per session (TEMP), emptied at each commit. It is
 * made inside the page's transaction, so a rolled-back page leaves no half state. */
#define PG_STAGE_SQL                                                                               \
	"CREATE TEMP TABLE IF NOT EXISTS ck_stage (open_time BIGINT NOT NULL,"                     \
	" open TEXT NOT NULL, high TEXT NOT NULL, low TEXT NOT NULL, close TEXT NOT NULL,"         \
	" volume TEXT NOT NULL, close_time BIGINT NOT NULL, quote_volume TEXT NOT NULL,"           \
	" trades BIGINT NOT NULL, taker_buy_base TEXT, taker_buy_quote TEXT)"                      \
	" ON COMMIT DELETE ROWS"

/* COPY's text format: backslash, tab, newline and carriage return escaped; NULL as \N.
 * Exchange decimals hold none of them; the escape keeps any other input a value. At
 * most 2 * strlen(v) + 3 bytes are written at out; returns the byte count. */
static size_t copy_field(char *out, const char *v, int last)
{
	char *o = out;

	if (!v) {
		*o++ = '\\';
		*o++ = 'N';
	} else {
		for (; *v; v++) {
			char e = *v == '\\'   ? '\\'
				 : *v == '\t' ? 't'
				 : *v == '\n' ? 'n'
				 : *v == '\r' ? 'r'
					      : 0;
			if (e) {
				*o++ = '\\';
				*o++ = e;
			} else {
				*o++ = *v;
			}
		}
	}
	*o++ = last ? '\n' : '\t';
	return (size_t)(o - out);
}

/* One COPY ... FROM STDIN (copy_sql) of the candles vals[0..11n) (11 values a row),
 * each row led by the store's market, symbol and interval when key is set. The error's
 * SQLSTATE goes to state ("" if none). */
static int copy_in(struct store *st, const char *copy_sql, const char *symbol, const char *interval,
		   int key, const char **vals, size_t n, char state[6], struct ck_err *err)
{
	PGconn *c = pg(st)->conn;
	char *buf;
	PGresult *r;
	size_t i, j,
		size = 1 +
		       (key ? n * (2 * (strlen(st->market) + strlen(symbol) + strlen(interval)) + 9)
			    : 0),
		len = 0;
	int rc = 0;

	state[0] = 0;
	for (i = 0; i < 11 * n; i++)
		size += 2 * (vals[i] ? strlen(vals[i]) : 0) + 3;
	if (!(buf = malloc(size)))
		return ck_err_set(err, CK_ENOMEM, "store %s page: out of memory", symbol);
	for (i = 0; i < n; i++) {
		if (key) {
			len += copy_field(buf + len, st->market, 0);
			len += copy_field(buf + len, symbol, 0);
			len += copy_field(buf + len, interval, 0);
		}
		for (j = 0; j < 11; j++)
			len += copy_field(buf + len, vals[11 * i + j], j == 10);
	}
	r = PQexec(c, copy_sql);
	if (!r || PQresultStatus(r) != PGRES_COPY_IN) {
		rc = pg_fail(st, r, "write candles to", err);
		PQclear(r);
		free(buf);
		return rc;
	}
	PQclear(r);
	if (PQputCopyData(c, buf, (int)len) != 1 || PQputCopyEnd(c, NULL) != 1)
		rc = pg_fail(st, NULL, "write candles to", err);
	free(buf);
	while ((r = PQgetResult(c))) {
		if (!rc && PQresultStatus(r) != PGRES_COMMAND_OK) {
			const char *sqlstate = PQresultErrorField(r, PG_DIAG_SQLSTATE);
			snprintf(state, 6, "%s", sqlstate ? sqlstate : "");
			rc = pg_fail(st, r, "write candles to", err);
		}
		PQclear(r);
	}
	return rc;
}

/* Writes the candles vals[0..11n) into ck_stage with one COPY, then merges the stage
 * into candles with one INSERT ... ON CONFLICT: the same upsert as row by row (a value
 * the page lacks, NULL, never replaces a stored one). In the caller's transaction. */
static int copy_merge(struct store *st, const char *symbol, const char *interval, const char **vals,
		      size_t n, struct ck_err *err)
{
	const char *v[] = {symbol, interval};
	char state[6];

	if (pg_exec(st, PG_STAGE_SQL, "write candles to", err) ||
	    copy_in(st, "COPY ck_stage FROM STDIN", symbol, interval, 0, vals, n, state, err))
		return err->code;
	return pgx(st,
		   "INSERT INTO candles (market, symbol, interval, " KLINE_COLS
		   ") SELECT ck_market(), $1, $2, " KLINE_COLS
		   " FROM ck_stage ON CONFLICT (market, symbol, interval, open_time) DO UPDATE SET"
		   " open = excluded.open, high = excluded.high, low = excluded.low,"
		   " close = excluded.close, volume = excluded.volume,"
		   " close_time = excluded.close_time, quote_volume = excluded.quote_volume,"
		   " trades = excluded.trades,"
		   " taker_buy_base = COALESCE(excluded.taker_buy_base, candles.taker_buy_base),"
		   " taker_buy_quote = COALESCE(excluded.taker_buy_quote, candles.taker_buy_quote)",
		   2, v, "write candles to", err);
}

/* The stored row with open time t in r (sorted by open time), or -1. */
static int find_row(const PGresult *r, int64_t t)
{
	int lo = 0, hi = PQntuples(r) - 1;

	while (lo <= hi) {
		int mid = lo + (hi - lo) / 2;
		int64_t v = pg_int(r, mid, 0);
		if (v == t)
			return mid;
		if (v < t)
			lo = mid + 1;
		else
			hi = mid - 1;
	}
	return -1;
}

/* As sq_put_page: one transaction; the stored rows of the page's range are read once,
 * each candle compared in C (a value the source lacks never replaces a known one),
 * revisions recorded, and the new or changed candles written with COPY: when the range
 * held no row (new candles: the usual import and sync), straight into candles when
 * direct is set (COPY inserts in batches, a fraction of the WAL of row-by-row inserts);
 * otherwise into the staging table and merged (copy_merge). A row another writer
 * committed into the range meanwhile fails the direct COPY with a unique violation
 * (state "23505"): the caller runs the page again without direct. */
static int put_page_once(struct store *st, const char *symbol, const char *interval,
			 const struct kline *k, size_t n, int direct, char state[6],
			 struct store_page_result *res, struct ck_err *err)
{
	struct store_page_result r = {0, 0, 0};
	char lo[24], hi[24], (*nums)[3][24] = NULL;
	const char **vals = NULL;
	PGresult *old = NULL;
	int rc = 0;
	int64_t mn = INT64_MAX, mx = INT64_MIN;
	size_t i, m = 0;
	int nested;

	state[0] = 0;
	if (!n) {
		if (res)
			*res = r;
		return 0;
	}
	for (i = 0; i < n; i++) {
		mn = k[i].open_time < mn ? k[i].open_time : mn;
		mx = k[i].open_time > mx ? k[i].open_time : mx;
	}
	nums = malloc(n * sizeof(*nums));
	vals = malloc(n * 11 * sizeof(*vals));
	if (!nums || !vals) {
		free(nums);
		free(vals);
		return ck_err_set(err, CK_ENOMEM, "store %s page: out of memory", symbol);
	}
	/* Inside the caller's transaction (the sync's group commit) the page is a savepoint
	 * of it: the caller's commit or rollback decides, and the page alone is undone on
	 * failure (a caller's transaction the lost connection took is still the caller's:
	 * the page fails, pg_lost). On its own, the page is its own transaction. */
	nested = pg_in_tx(pg(st)) || pg(st)->tx_lost;
	if ((rc = nested ? pg_exec(st, "SAVEPOINT ck_page", "write candles to", err)
			 : pg_begin(st, "write candles to", err)))
		goto out;
	{
		const char *v[] = {symbol, interval, pg_i64(lo, mn), pg_i64(hi, mx)};
		if (!(old = pgq(st,
				"SELECT " KLINE_COLS
				" FROM candles WHERE market = ck_market() AND symbol = $1 AND"
				" interval = $2 AND open_time BETWEEN $3 AND $4 ORDER BY open_time",
				4, v, "read candles from", err)))
			goto fail;
	}
	for (i = 0; i < n; i++) {
		struct kline ok, nk = k[i];
		int row = find_row(old, k[i].open_time);
		const char **w = vals + 11 * m;

		if (row >= 0) {
			read_kline(old, row, 0, &ok);
			if (!nk.taker_buy_base[0])
				memcpy(nk.taker_buy_base, ok.taker_buy_base,
				       sizeof(nk.taker_buy_base));
			if (!nk.taker_buy_quote[0])
				memcpy(nk.taker_buy_quote, ok.taker_buy_quote,
				       sizeof(nk.taker_buy_quote));
			if (kline_same(&ok, &nk)) {
				r.same++;
				continue;
			}
			{
				char a[512], b[512], t[24];
				const char *v[] = {symbol, interval, pg_i64(t, ok.open_time), a, b};
				if (kline_csv_format(&ok, a, sizeof(a)) < 0 ||
				    kline_csv_format(&nk, b, sizeof(b)) < 0) {
					ck_err_set(err, CK_EVALIDATE, "format a revision of %s",
						   symbol);
					goto fail;
				}
				a[strcspn(a, "\n")] = 0;
				b[strcspn(b, "\n")] = 0;
				if (pgx(st,
					"INSERT INTO revisions (market, symbol, interval,"
					" open_time, revised_at, old, new)"
					" VALUES (ck_market(), $1, $2, $3,"
					" (extract(epoch FROM clock_timestamp()) * 1000)::bigint,"
					" $4, $5)",
					5, v, "write candles to", err))
					goto fail;
			}
			r.revised++;
		} else {
			r.written++;
		}
		w[0] = pg_i64(nums[m][0], k[i].open_time);
		w[1] = k[i].open;
		w[2] = k[i].high;
		w[3] = k[i].low;
		w[4] = k[i].close;
		w[5] = k[i].volume;
		w[6] = pg_i64(nums[m][1], k[i].close_time);
		w[7] = k[i].quote_volume;
		w[8] = pg_i64(nums[m][2], k[i].trades);
		w[9] = k[i].taker_buy_base[0] ? k[i].taker_buy_base : NULL; /* unknown: NULL */
		w[10] = k[i].taker_buy_quote[0] ? k[i].taker_buy_quote : NULL;
		m++;
	}
	if (m && direct && !PQntuples(old)) {
		if (copy_in(st,
			    "COPY candles (market, symbol, interval, " KLINE_COLS ") FROM STDIN",
			    symbol, interval, 1, vals, m, state, err))
			goto fail;
	} else if (m && copy_merge(st, symbol, interval, vals, m, err)) {
		goto fail;
	}
	/* ck_stage empties at commit; within a longer transaction the next page must not
	 * merge this page's rows again */
	if (nested && m && !(direct && !PQntuples(old)) &&
	    pg_exec(st, "DELETE FROM ck_stage", "write candles to", err))
		goto fail;
	if (nested ? pg_exec(st, "RELEASE SAVEPOINT ck_page", "write candles to", err)
		   : pg_commit(st, "write candles to", err))
		goto fail;
	if (res)
		*res = r;
	goto out;
fail:
	if (!nested || !pg(st)->tx_lost)
		PQclear(PQexec(pg(st)->conn,
			       nested ? "ROLLBACK TO SAVEPOINT ck_page; RELEASE SAVEPOINT ck_page"
				      : "ROLLBACK"));
	if (!nested)
		pg_tx_ended(pg(st)); /* the page's own transaction */
	rc = ck_err_wrap(err, "store %s page", symbol);
out:
	PQclear(old);
	free(nums);
	free(vals);
	return rc;
}

static int pg_put_page(struct store *st, const char *symbol, const char *interval,
		       const struct kline *k, size_t n, struct store_page_result *res,
		       struct ck_err *err)
{
	char state[6];
	int rc = put_page_once(st, symbol, interval, k, n, 1, state, res, err);

	if (rc && !strcmp(state, "23505"))
		rc = put_page_once(st, symbol, interval, k, n, 0, state, res, err);
	return rc;
}

static int pg_span(struct store *st, const char *symbol, const char *interval, int64_t from,
		   int64_t to, int count, struct store_span *span, struct ck_err *err)
{
	char a[24], b[24];
	const char *v[] = {symbol, interval, pg_i64(a, from), pg_i64(b, to)};
	PGresult *r;

	memset(span, 0, sizeof(*span));
#ifdef CK_FAULT_INJECTION
	/* sync's planning transaction is the one that reads spans (the test of its
	 * re-planning on the new connection, and of a run whose second planning fails too) */
	fault_end_session(pg(st), "pg-span-in-tx", &pg(st)->span_faulted);
#endif
	if (!(r = pgq(st,
		      count ? "SELECT min(open_time), max(open_time), count(*) FROM candles"
			      " WHERE market = ck_market() AND symbol = $1 AND interval = $2 AND "
			      "open_time BETWEEN $3 AND $4"
			    : "SELECT (SELECT min(open_time) FROM candles WHERE market = "
			      "ck_market() AND symbol = $1 AND"
			      "  interval = $2 AND open_time BETWEEN $3 AND $4),"
			      " (SELECT max(open_time) FROM candles WHERE market = ck_market() AND "
			      "symbol = $1 AND"
			      "  interval = $2 AND open_time BETWEEN $3 AND $4), -1",
		      4, v, "read candles from", err)))
		return err->code;
	span->first_open = pg_int(r, 0, 0);
	span->last_open = pg_int(r, 0, 1);
	/* uncounted: -1 says there are candles, 0 that there are none */
	span->count = count || !PQgetisnull(r, 0, 1) ? pg_int(r, 0, 2) : 0;
	PQclear(r);
	return 0;
}

/* As sq_gaps: gaps by one window-function query, split around confirmed holes. */
static int pg_gaps(struct store *st, const char *symbol, const char *interval, int64_t interval_ms,
		   int64_t from, int64_t to, int include_confirmed, struct store_gap **out,
		   size_t *n, struct ck_err *err)
{
	char iv[24], a[24], b[24];
	const char *v[] = {symbol ? symbol : "", interval, pg_i64(iv, interval_ms), pg_i64(a, from),
			   pg_i64(b, to)};
	struct store_gap_cut c = {.iv = interval_ms, .include_confirmed = include_confirmed};
	PGresult *r;
	int i, j, bad;

	*out = NULL;
	*n = 0;
	if (interval_ms <= 0)
		return ck_err_set(err, CK_EUSAGE, "list gaps: interval must be positive");
	if (!(r = pgq(st,
		      symbol ? "SELECT symbol, prev, open_time FROM ("
			       " SELECT symbol, open_time, LAG(open_time) OVER"
			       "  (ORDER BY open_time) AS prev FROM candles WHERE market = "
			       "ck_market() AND symbol = $1"
			       " AND interval = $2 AND open_time BETWEEN $4 AND $5) g"
			       " WHERE open_time - prev > $3::bigint ORDER BY open_time"
			     : "SELECT symbol, prev, open_time FROM ("
			       " SELECT symbol, open_time, LAG(open_time) OVER"
			       "  (PARTITION BY symbol ORDER BY open_time) AS prev FROM candles"
			       " WHERE $1::text IS NOT NULL AND market = ck_market() AND interval "
			       "= $2"
			       " AND open_time BETWEEN $4 AND $5) g"
			       " WHERE open_time - prev > $3::bigint ORDER BY symbol, open_time",
		      5, v, "find gaps in", err)))
		return err->code;
	for (i = 0; i < PQntuples(r); i++) {
		const char *sym = pg_text(r, i, 0);
		int64_t ga = interval_add(interval_ms, pg_int(r, i, 1), 1);
		int64_t gb = interval_add(interval_ms, pg_int(r, i, 2), -1);
		char x[24], y[24];
		const char *hv[] = {sym, interval, pg_i64(x, ga), pg_i64(y, gb)};
		PGresult *h = pgq(st,
				  "SELECT first_open, last_open, first_seen, second_seen, runs"
				  " FROM holes WHERE market = ck_market() AND symbol = $1 AND "
				  "interval = $2 AND"
				  " last_open >= $3 AND first_open <= $4 AND confirmed_at > 0"
				  " ORDER BY first_open",
				  4, hv, "find gaps in", err);
		if (!h)
			goto fail;
		store_gap_cut_start(&c, sym, ga, gb);
		for (j = 0; j < PQntuples(h); j++) {
			struct store_hole hole = {
				.first = pg_int(h, j, 0),
				.last = pg_int(h, j, 1),
				.first_seen = pg_int(h, j, 2),
				.second_seen = pg_int(h, j, 3),
				.runs = pg_int(h, j, 4),
			};
			if (store_gap_cut_hole(&c, hole, err))
				break;
		}
		bad = j < PQntuples(h);
		PQclear(h);
		if (bad || store_gap_cut_end(&c, err))
			goto fail;
	}
	PQclear(r);
	*out = c.v;
	*n = c.len;
	return 0;
fail:
	PQclear(r);
	free(c.v);
	return err->code;
}

static int pg_covered(struct store *st, const char *symbol, const char *interval,
		      int64_t interval_ms, struct store_range **out, size_t *n, struct ck_err *err)
{
	char iv[24];
	const char *v[] = {symbol ? symbol : "", interval, pg_i64(iv, interval_ms)};
	struct store_range *g = NULL;
	size_t len = 0, cap = 0;
	PGresult *r;
	int i;

	*out = NULL;
	*n = 0;
	if (!(r = pgq(st,
		      /* a run breaks where consecutive candles lie more than one interval
		       * apart (1M: the longest month, see interval.h) */
		      symbol ? "SELECT symbol, min(open_time), max(open_time), count(*) FROM ("
			       " SELECT symbol, open_time, sum(brk) OVER (ORDER BY open_time) AS "
			       "run"
			       " FROM (SELECT symbol, open_time, coalesce((open_time - "
			       "LAG(open_time)"
			       "  OVER (ORDER BY open_time) > $3::bigint)::int, 0) AS brk"
			       " FROM candles WHERE market = ck_market() AND symbol = $1 AND "
			       "interval = $2) b) g"
			       " GROUP BY symbol, run ORDER BY 2"
			     : "SELECT symbol, min(open_time), max(open_time), count(*) FROM ("
			       " SELECT symbol, open_time, sum(brk) OVER (PARTITION BY symbol"
			       "  ORDER BY open_time) AS run"
			       " FROM (SELECT symbol, open_time, coalesce((open_time - "
			       "LAG(open_time)"
			       "  OVER (PARTITION BY symbol ORDER BY open_time) > "
			       "$3::bigint)::int, 0)"
			       "  AS brk FROM candles WHERE $1::text IS NOT NULL AND"
			       "  market = ck_market() AND interval = $2) b) g"
			       " GROUP BY symbol, run ORDER BY 1, 2",
		      3, v, "list stored ranges in", err)))
		return err->code;
	for (i = 0; i < PQntuples(r); i++) {
		if (store_grow(&g, &cap, len, sizeof(*g), "list stored ranges", err)) {
			PQclear(r);
			free(g);
			return err->code;
		}
		pg_copy(g[len].symbol, sizeof(g[len].symbol), r, i, 0);
		g[len].first = pg_int(r, i, 1);
		g[len].last = pg_int(r, i, 2);
		g[len].count = pg_int(r, i, 3);
		len++;
	}
	PQclear(r);
	*out = g;
	*n = len;
	return 0;
}

/* Rows are fetched in chunks through a cursor, so a long export never holds every
 * candle of a symbol in memory at once. */
static int pg_each_candle(struct store *st, const char *symbol, const char *interval, int64_t from,
			  int64_t to, int (*fn)(const struct kline *k, void *arg), void *arg,
			  struct ck_err *err)
{
	char a[24], b[24];
	const char *v[] = {symbol, interval, pg_i64(a, from), pg_i64(b, to)};
	int own = PQtransactionStatus(pg(st)->conn) == PQTRANS_IDLE, ret = 0, i, rows;

	if (own && pg_exec(st, "BEGIN", "read candles from", err))
		return err->code;
	if (pgx(st,
		"DECLARE ck_each NO SCROLL CURSOR FOR SELECT " KLINE_COLS " FROM candles"
		" WHERE market = ck_market() AND symbol = $1 AND interval = $2 AND open_time "
		"BETWEEN $3 AND $4"
		" ORDER BY open_time",
		4, v, "read candles from", err)) {
		ret = err->code;
		goto out;
	}
	do {
		PGresult *r =
			pgq(st, "FETCH 10000 FROM ck_each", 0, NULL, "read candles from", err);
		if (!r) {
			ret = err->code;
			break;
		}
		rows = PQntuples(r);
		for (i = 0; i < rows && !ret; i++) {
			struct kline k;
			read_kline(r, i, 0, &k);
			ret = fn(&k, arg);
		}
		PQclear(r);
	} while (!ret && rows > 0);
	PQclear(PQexec(pg(st)->conn, "CLOSE ck_each"));
out:
	if (own) {
		PQclear(PQexec(pg(st)->conn, ret ? "ROLLBACK" : "COMMIT"));
		pg_tx_ended(pg(st));
	}
	return ret;
}

static int pg_symbols(struct store *st, const char *interval, char ***out, size_t *n,
		      struct ck_err *err)
{
	const char *v[] = {interval};
	char **list = NULL;
	size_t len = 0, cap = 0;
	PGresult *r;
	int i;

	*out = NULL;
	*n = 0;
	if (!(r = pgq(st,
		      "SELECT DISTINCT symbol FROM candles WHERE market = ck_market() AND interval "
		      "= $1 ORDER BY symbol",
		      1, v, "read", err)))
		return err->code;
	for (i = 0; i < PQntuples(r); i++) {
		if (store_grow(&list, &cap, len, sizeof(*list), "list symbols", err))
			goto fail;
		if (!(list[len] = strdup(pg_text(r, i, 0)))) {
			ck_err_set(err, CK_ENOMEM, "list symbols: out of memory");
			goto fail;
		}
		len++;
	}
	PQclear(r);
	*out = list;
	*n = len;
	return 0;
fail:
	PQclear(r);
	store_symbols_free(list, len);
	return err->code;
}

/* The budget is the server's statement_timeout for this one statement: a count that
 * runs out is cancelled by the server (57014) and reported as unfinished. */
static int pg_count(struct store *st, const char *interval, int64_t budget_ms, int64_t *count,
		    int *finished, struct ck_err *err)
{
	char b[24];
	const char *tv[] = {pg_i64(b, budget_ms > 0 ? budget_ms : 0)};
	const char *v[] = {interval};
	PGresult *r;
	int fin = 0, rc = 0;

	if (!finished)
		finished = &fin;
	*count = 0;
	*finished = 0;
	if (budget_ms > 0 && pgx(st, "SELECT set_config('statement_timeout', $1, false)", 1, tv,
				 "count candles in", err))
		return err->code;
	r = PQexecParams(pg(st)->conn,
			 interval ? "SELECT count(*) FROM candles WHERE market = ck_market() AND "
				    "interval = $1"
				  : "SELECT count(*) FROM candles",
			 interval ? 1 : 0, NULL, v, NULL, NULL, 0);
	if (r && PQresultStatus(r) == PGRES_TUPLES_OK) {
		*count = pg_int(r, 0, 0);
		*finished = 1;
	} else {
		const char *state = r ? PQresultErrorField(r, PG_DIAG_SQLSTATE) : NULL;
		if (!(budget_ms > 0 && state && !strcmp(state, "57014")))
			rc = pg_fail(st, r, "count candles in", err);
	}
	PQclear(r);
	if (budget_ms > 0)
		PQclear(PQexec(pg(st)->conn, "SET statement_timeout = 0"));
	return rc;
}

static int pg_hole_candles(struct store *st, const char *symbol, const char *interval,
			   int64_t interval_ms, int64_t from, int64_t to, int64_t *count,
			   struct ck_err *err)
{
	char a[24], b[24];
	const char *v[] = {symbol, interval, pg_i64(a, from), pg_i64(b, to)};
	PGresult *r;
	int i;

	*count = 0;
	if (interval_ms <= 0)
		return ck_err_set(err, CK_EUSAGE, "count holes: interval must be positive");
	if (!(r = pgq(st,
		      "SELECT greatest(first_open, $3::bigint), least(last_open, $4::bigint)"
		      " FROM holes WHERE market = ck_market() AND symbol = $1 AND interval = $2 "
		      "AND last_open >= $3"
		      " AND first_open <= $4 AND confirmed_at > 0",
		      4, v, "read holes from", err)))
		return err->code;
	for (i = 0; i < PQntuples(r); i++) {
		int64_t x = pg_int(r, i, 0), y = pg_int(r, i, 1);
		int64_t first = interval_ceil(interval_ms, x);
		if (y >= first)
			*count += interval_steps(interval_ms, first, y) + 1;
	}
	PQclear(r);
	return 0;
}

/* ---- the hole ledger ---- */

static int pg_hole_get(struct store *st, const char *symbol, const char *interval, int64_t first,
		       int64_t last, struct store_hole *out, struct ck_err *err)
{
	char a[24], b[24];
	const char *v[] = {symbol, interval, pg_i64(a, first), pg_i64(b, last)};
	PGresult *r;

	memset(out, 0, sizeof(*out));
	if (!(r = pgq(st,
		      "SELECT first_open, last_open, first_seen, first_seen_exchange, second_seen,"
		      " runs, confirmed_at FROM holes WHERE market = ck_market() AND symbol = $1 "
		      "AND interval = $2 AND"
		      " first_open = $3 AND last_open = $4",
		      4, v, "read hole evidence from", err)))
		return err->code;
	if (!PQntuples(r)) {
		PQclear(r);
		return ck_err_set(err, CK_ENOTFOUND, "no hole %s %s %" PRId64 "..%" PRId64, symbol,
				  interval, first, last);
	}
	out->first = pg_int(r, 0, 0);
	out->last = pg_int(r, 0, 1);
	out->first_seen = pg_int(r, 0, 2);
	out->first_seen_exchange = pg_int(r, 0, 3);
	out->second_seen = pg_int(r, 0, 4);
	out->runs = pg_int(r, 0, 5);
	out->confirmed_at = pg_int(r, 0, 6);
	PQclear(r);
	return 0;
}

static int pg_hole_put(struct store *st, const char *symbol, const char *interval,
		       const struct store_hole *h, struct ck_err *err)
{
	char b[7][24];
	const char *v[] = {symbol,
			   interval,
			   pg_i64(b[0], h->first),
			   pg_i64(b[1], h->last),
			   pg_i64(b[2], h->confirmed_at),
			   pg_i64(b[3], h->first_seen),
			   pg_i64(b[4], h->first_seen_exchange),
			   pg_i64(b[5], h->second_seen),
			   pg_i64(b[6], h->runs)};

	if (pgx(st,
		"DELETE FROM holes WHERE market = ck_market() AND symbol = $1 AND interval = $2 "
		"AND last_open >= $3"
		" AND first_open <= $4 AND confirmed_at = 0",
		4, v, "record exchange hole in", err))
		return err->code;
	return pgx(st,
		   "INSERT INTO holes (market, symbol, interval, first_open, last_open,"
		   " confirmed_at, first_seen, first_seen_exchange, second_seen, runs)"
		   " VALUES (ck_market(), $1, $2, $3, $4, $5, $6, $7, $8, $9)"
		   " ON CONFLICT (market, symbol, interval, first_open) DO UPDATE SET"
		   " last_open = excluded.last_open, confirmed_at = excluded.confirmed_at,"
		   " first_seen = excluded.first_seen,"
		   " first_seen_exchange = excluded.first_seen_exchange,"
		   " second_seen = excluded.second_seen, runs = excluded.runs",
		   9, v, "record exchange hole in", err);
}

static int pg_holes_prune(struct store *st, const char *symbol, const char *interval,
			  struct ck_err *err)
{
	const char *v[] = {symbol, interval};

	return pgx(st,
		   "DELETE FROM holes WHERE market = ck_market() AND symbol = $1 AND interval = $2 "
		   "AND confirmed_at = 0"
		   " AND EXISTS (SELECT 1 FROM candles c WHERE c.market = ck_market() AND c.symbol "
		   "= $1 AND c.interval = $2"
		   " AND c.open_time BETWEEN holes.first_open AND holes.last_open)",
		   2, v, "prune the hole ledger of", err);
}

static int pg_holes_recheck(struct store *st, const char *interval, int64_t *holes,
			    struct ck_err *err)
{
	const char *v[] = {interval};
	PGresult *r;

	if (!(r = pgq(st,
		      "UPDATE holes SET confirmed_at = 0, second_seen = 0 WHERE market = "
		      "ck_market() AND interval = $1 AND"
		      " confirmed_at > 0",
		      1, v, "mark holes for re-verification in", err)))
		return err->code;
	*holes = strtoll(PQcmdTuples(r), NULL, 10);
	PQclear(r);
	return pgx(st,
		   "UPDATE symbols SET first_open = 0 WHERE market = ck_market() AND interval = $1",
		   1, v, "mark symbol starts for re-verification in", err);
}

/* ---- per-symbol state, key/value state ---- */

static int pg_symbol_get(struct store *st, const char *symbol, const char *interval,
			 struct store_symbol *out, struct ck_err *err)
{
	const char *v[] = {symbol, interval};
	PGresult *r;

	memset(out, 0, sizeof(*out));
	if (!(r = pgq(st,
		      "SELECT history_start, first_open FROM symbols WHERE market = ck_market() "
		      "AND symbol = $1 AND"
		      " interval = $2",
		      2, v, "read symbol state from", err)))
		return err->code;
	if (PQntuples(r)) {
		out->history_start = pg_int(r, 0, 0);
		out->first_open = pg_int(r, 0, 1);
	}
	PQclear(r);
	return 0;
}

static int pg_symbol_put(struct store *st, const char *symbol, const char *interval,
			 const struct store_symbol *s, struct ck_err *err)
{
	char a[24], b[24];
	const char *v[] = {symbol, interval, pg_i64(a, s->history_start), pg_i64(b, s->first_open)};

#ifdef CK_FAULT_INJECTION
	/* on a fresh database the first symbol state write inside a transaction is that of
	 * sync's first-candle probes, before planning */
	fault_end_session(pg(st), "pg-symbol-put-in-tx", &pg(st)->put_faulted);
#endif
	return pgx(st,
		   "INSERT INTO symbols (market, symbol, interval, history_start, first_open)"
		   " VALUES (ck_market(), $1, $2, $3, $4) ON CONFLICT (market, symbol, interval) "
		   "DO UPDATE SET"
		   " history_start = excluded.history_start, first_open = excluded.first_open",
		   4, v, "write symbol state to", err);
}

static int pg_state_get(struct store *st, const char *key, char *buf, size_t size,
			struct ck_err *err)
{
	const char *v[] = {key};
	PGresult *r;

	if (!(r = pgq(st, "SELECT value FROM state WHERE key = $1", 1, v, "read state from", err)))
		return err->code;
	if (!PQntuples(r)) {
		PQclear(r);
		return ck_err_set(err, CK_ENOTFOUND, "state %s: not set", key);
	}
	snprintf(buf, size, "%s", pg_text(r, 0, 0));
	PQclear(r);
	return 0;
}

static int pg_state_set(struct store *st, const char *key, const char *value, struct ck_err *err)
{
	const char *v[] = {key, value};

	return pgx(st,
		   "INSERT INTO state (key, value) VALUES ($1, $2)"
		   " ON CONFLICT (key) DO UPDATE SET value = excluded.value",
		   2, v, "write state to", err);
}

static int pg_state_del(struct store *st, const char *key, struct ck_err *err)
{
	const char *v[] = {key};

	return pgx(st, "DELETE FROM state WHERE key = $1", 1, v, "delete state from", err);
}

/* ---- the check ----
 * The server keeps its own pages (and checksums them when the cluster was initialised
 * with them): there is no quick_check to run from a client. This check is a round trip
 * (SELECT 1) and a schema check: every candlekeep table is there and readable. full
 * changes nothing; budget_ms bounds nothing that could run long. */
static int pg_check(struct store *st, int full, int64_t budget_ms, int *ok, int *finished,
		    char *detail, size_t size, struct ck_err *err)
{
	size_t i;
	int fin;

	(void)full;
	(void)budget_ms;
	if (!finished)
		finished = &fin;
	*ok = 0;
	*finished = 0;
	if (size)
		detail[0] = 0;
	if (pgx(st, "SELECT 1", 0, NULL, "integrity check of", err))
		return err->code;
	for (i = 0; i < sizeof(pg_tables) / sizeof(pg_tables[0]); i++) {
		const char *v[] = {pg_tables[i]};
		PGresult *r = pgq(st, "SELECT to_regclass($1) IS NOT NULL", 1, v,
				  "integrity check of", err);
		if (!r)
			return err->code;
		if (strcmp(pg_text(r, 0, 0), "t")) {
			PQclear(r);
			snprintf(detail, size, "schema: table %s missing", pg_tables[i]);
			*finished = 1;
			return 0;
		}
		PQclear(r);
	}
	snprintf(detail, size, "ok");
	*ok = 1;
	*finished = 1;
	return 0;
}

/* ---- the run lock ---- */

int store_url(const char *path)
{
	return path && (!strncmp(path, "postgresql://", 13) || !strncmp(path, "postgres://", 11));
}

/* A connection of its own holds a session advisory lock: the server drops it when the
 * connection ends (the process exits, is killed, or the network goes). */
/* Connects to path and runs sql, a one-boolean query: *got says its answer, and the
 * connection is returned (NULL and err filled when the server cannot be reached). */
static PGconn *lock_try(const char *path, const char *sql, int *got, struct ck_err *err)
{
	char shown[1024], msg[512];
	PGconn *c;
	PGresult *r;

	*got = 0;
	redact_copy(path, shown, sizeof(shown));
	c = pg_connect(path);
	if (!c || PQstatus(c) != CONNECTION_OK) {
		one_line(msg, sizeof(msg), c ? PQerrorMessage(c) : "out of memory");
		PQfinish(c);
		ck_err_set(err, CK_EIO,
			   "lock %s: %s (check the URL, that the server runs and that it"
			   " accepts this user and database)",
			   shown, msg);
		return NULL;
	}
	PQsetNoticeProcessor(c, pg_quiet, NULL);
	r = PQexec(c, sql);
	if (!r || PQresultStatus(r) != PGRES_TUPLES_OK) {
		one_line(msg, sizeof(msg), PQerrorMessage(c));
		PQclear(r);
		PQfinish(c);
		ck_err_set(err, CK_EIO, "lock %s: %s", shown, msg);
		return NULL;
	}
	*got = !strcmp(PQgetvalue(r, 0, 0), "t");
	PQclear(r);
	return c;
}

int store_run_lock(const char *path, const char *what, int shared, void **handle,
		   struct ck_err *err)
{
	char shown[1024];
	PGconn *c;
	int got;

	*handle = NULL;
	redact_copy(path, shown, sizeof(shown));
	if (!(c = lock_try(path,
			   shared ? "SELECT pg_try_advisory_lock_shared(" PG_KEY_RUN ")"
				  : "SELECT pg_try_advisory_lock(" PG_KEY_RUN ")",
			   &got, err)))
		return err->code;
	if (!got) {
		PQfinish(c);
		return ck_err_set(err, CK_ELOCKED,
				  "%s: another run holds the lock of %s (a PostgreSQL advisory"
				  " lock); wait for it to finish",
				  what, shown);
	}
	*handle = c;
	return 0;
}

int store_run_lock_probe(const char *path, struct ck_err *err)
{
	/* a bigint advisory key shows in pg_locks as classid (high 32 bits), objid (low)
	 * and objsubid 1 */
	int got;
	PGconn *c = lock_try(path,
			     "SELECT EXISTS (SELECT 1 FROM pg_locks WHERE locktype = 'advisory'"
			     " AND granted AND objsubid = 1 AND database = (SELECT oid FROM"
			     " pg_database WHERE datname = current_database())"
			     " AND classid::bigint = (" PG_KEY_RUN "::bigint >> 32)"
			     " AND objid::bigint = (" PG_KEY_RUN "::bigint & 4294967295))",
			     &got, err);

	if (!c)
		return err->code;
	PQfinish(c);
	return got;
}

void store_run_unlock(void *handle)
{
	PQfinish(handle); /* ends the session: the server drops the lock */
}

/* 1 while the lock connection c is alive. An idle session hears nothing from the
 * server unless it is ended (the server sends the reason, then closes): only then is
 * it asked, by a query that fails on a closed connection. */
static int lock_alive(PGconn *c, char *why, size_t size)
{
	struct pollfd pfd = {PQsocket(c), POLLIN, 0};
	PGresult *r;
	int ok;

	snprintf(why, size, "%s", "the connection is closed");
	if (PQstatus(c) != CONNECTION_OK || pfd.fd < 0)
		return 0;
	if (poll(&pfd, 1, 0) == 0)
		return 1;
	r = PQexec(c, "SELECT 1");
	ok = r && PQresultStatus(r) == PGRES_TUPLES_OK;
	if (!ok)
		one_line(why, size, PQerrorMessage(c));
	PQclear(r);
	return ok;
}

int store_run_lock_check(const char *path, const char *what, int shared, void **handle,
			 struct ck_err *err)
{
	char shown[1024], why[512], cause[512];
	PGconn *c = *handle;
	int got;

	if (!c || lock_alive(c, why, sizeof(why)))
		return 0;
	redact_copy(path, shown, sizeof(shown));
	log_warn("lock",
		 "%s: the connection holding the run lock of %s was lost (%s); taking the"
		 " lock again",
		 what, shown, why);
	PQfinish(c);
	*handle = NULL;
	if (!(c = lock_try(path,
			   shared ? "SELECT pg_try_advisory_lock_shared(" PG_KEY_RUN ")"
				  : "SELECT pg_try_advisory_lock(" PG_KEY_RUN ")",
			   &got, err))) {
		snprintf(cause, sizeof(cause), "%s", err->msg);
		return ck_err_set(err, CK_EIO,
				  "%s: the run lock of %s was lost with its connection and cannot"
				  " be taken again: %s",
				  what, shown, cause);
	}
	if (!got) {
		PQfinish(c);
		return ck_err_set(err, CK_ELOCKED,
				  "%s: the run lock of %s was lost with its connection, and another"
				  " run (one that runs alone, such as recover) holds it now; this"
				  " run stops",
				  what, shown);
	}
	*handle = c;
	log_info("lock", "%s: the run lock of %s is held again", what, shown);
	return 0;
}

int store_leader_lock(const char *path, void **handle, int *leader, struct ck_err *err)
{
	PGconn *c = *handle;
	int got;

	*leader = 0;
	char shown[1024], why[512] = "";
	int lost = 0;

	redact_copy(path, shown, sizeof(shown));
	if (c) {
		/* Still ours while the session lives: only its end drops the lock. */
		PGresult *r = PQexec(c, "SELECT 1");
		int held = r && PQresultStatus(r) == PGRES_TUPLES_OK;
		if (!held)
			one_line(why, sizeof(why), PQerrorMessage(c));
		PQclear(r);
		if (held) {
			*leader = 1;
			return 0;
		}
		/* Lost with its connection: another daemon may lead now. Not a leader
		 * until taken again. */
		log_warn("lock",
			 "the connection holding the cluster leader's lock of %s was lost (%s);"
			 " taking the lock again if it is free",
			 shown, why);
		lost = 1;
		PQfinish(c);
		*handle = NULL;
	}
	if (!(c = lock_try(path, "SELECT pg_try_advisory_lock(" PG_KEY_LEADER ")", &got, err)))
		return err->code;
	if (!got) {
		PQfinish(c);
		return 0;
	}
	if (lost)
		log_info("lock", "the cluster leader's lock of %s is held again", shown);
	*handle = c;
	*leader = 1;
	return 0;
}

/* ---- work claims ---- */

/* Adds key to p's claims unless there already (taken again by a reconnect). */
static int claim_keep(struct store_pg *p, const char *key, struct ck_err *err)
{
	for (size_t i = 0; i < p->nclaims; i++)
		if (!strcmp(p->claims[i], key))
			return 0;
	if (p->nclaims == p->capclaims) {
		size_t cap = p->capclaims ? p->capclaims * 2 : 64;
		char **nc = realloc(p->claims, cap * sizeof(*nc));
		if (!nc)
			return ck_err_set(err, CK_ENOMEM, "claim %s: out of memory", key);
		p->claims = nc;
		p->capclaims = cap;
	}
	if (!(p->claims[p->nclaims] = strdup(key)))
		return ck_err_set(err, CK_ENOMEM, "claim %s: out of memory", key);
	p->nclaims++;
	return 0;
}

static int pg_claim(struct store *st, const char *key, int *got, struct ck_err *err)
{
	const char *v[] = {key};
	PGresult *r = pgq(st, "SELECT pg_try_advisory_lock(hashtextextended($1, 0))", 1, v,
			  "claim work in", err);

	*got = 0;
	if (!r)
		return err->code;
	*got = !strcmp(pg_text(r, 0, 0), "t");
	PQclear(r);
	return *got ? claim_keep(pg(st), key, err) : 0;
}

/* Drops every session advisory lock of the store's connection: only claims are taken
 * there (the run and leader locks have connections of their own). */
static void pg_claims_release(struct store *st)
{
	struct store_pg *p = st ? pg(st) : NULL;

	if (!p)
		return;
	if (PQstatus(p->conn) == CONNECTION_OK)
		PQclear(PQexec(p->conn, "SELECT pg_advisory_unlock_all()"));
	for (size_t i = 0; i < p->nclaims; i++)
		free(p->claims[i]);
	p->nclaims = 0;
}

/* The PostgreSQL backend (store.h says how to add a backend). pages and salvage are
 * facts and repairs of a SQLite file: not set. */
const struct store_ops store_pg_ops = {
	.name = "postgresql",
	.version = pg_version,
	.open = pg_open,
	.close = pg_close,
	.tx_begin = pg_tx_begin,
	.tx_commit = pg_tx_commit,
	.tx_rollback = pg_tx_rollback,
	.put_page = pg_put_page,
	.span = pg_span,
	.gaps = pg_gaps,
	.covered = pg_covered,
	.each_candle = pg_each_candle,
	.symbols = pg_symbols,
	.market_set = pg_market_set,
	.count = pg_count,
	.hole_candles = pg_hole_candles,
	.hole_get = pg_hole_get,
	.hole_put = pg_hole_put,
	.holes_prune = pg_holes_prune,
	.holes_recheck = pg_holes_recheck,
	.symbol_get = pg_symbol_get,
	.symbol_put = pg_symbol_put,
	.state_get = pg_state_get,
	.state_set = pg_state_set,
	.state_del = pg_state_del,
	.run_begin = pg_run_begin,
	.run_abandon = pg_run_abandon,
	.run_symbol = pg_run_symbol,
	.run_end = pg_run_end,
	.runs = pg_runs,
	.run_symbols = pg_run_symbols,
	.all_run_symbols = pg_all_run_symbols,
	.sync_runs = pg_sync_runs,
	.event_add = pg_event_add,
	.events = pg_events,
	.event_count = pg_event_count,
	.alert_get = pg_alert_get,
	.alert_put = pg_alert_put,
	.alert_list = pg_alert_list,
	.outbox_get = pg_outbox_get,
	.outbox_put = pg_outbox_put,
	.outbox_live = pg_outbox_live,
	.archive_put = pg_archive_put,
	.archive_get = pg_archive_get,
	.archive_list = pg_archive_list,
	.archive_holes = pg_archive_holes,
	.backup_put = pg_backup_put,
	.backup_set_status = pg_backup_set_status,
	.backup_list = pg_backup_list,
	.metrics_runs = pg_metrics_runs,
	.metrics_durations = pg_metrics_durations,
	.metrics_series = pg_metrics_series,
	.check = pg_check,
	.claim = pg_claim,
	.claims_release = pg_claims_release,
};
