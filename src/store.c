/* store.c — the SQLite schema and every SQL statement of candlekeep.
 *
 * Invariants: candles hold only validated, closed candles, keyed by (symbol, interval,
 * open_time); a page is written in one transaction; holes hold open-time ranges the
 * exchange confirmed empty; runs/run_symbols hold one row per command run and per
 * symbol outcome. The schema version is PRAGMA user_version; migrations only add. */
#include <errno.h>
#include <inttypes.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sqlite3.h>

#include "fault.h"
#include "interval.h"
#include "log.h"
#include "redact.h"
#include "store.h"
#include "store_archive.h"
#include "store_int.h"
#include "banned.h"

static const char *const schema_v1 =
	"CREATE TABLE IF NOT EXISTS candles ("
	" symbol TEXT NOT NULL, interval TEXT NOT NULL, open_time INTEGER NOT NULL,"
	" open TEXT NOT NULL, high TEXT NOT NULL, low TEXT NOT NULL, close TEXT NOT NULL,"
	" volume TEXT NOT NULL, close_time INTEGER NOT NULL, quote_volume TEXT NOT NULL,"
	" trades INTEGER NOT NULL, taker_buy_base TEXT NOT NULL,"
	" taker_buy_quote TEXT NOT NULL,"
	" PRIMARY KEY (symbol, interval, open_time)) WITHOUT ROWID;"
	"CREATE TABLE IF NOT EXISTS holes ("
	" symbol TEXT NOT NULL, interval TEXT NOT NULL, first_open INTEGER NOT NULL,"
	" last_open INTEGER NOT NULL, confirmed_at INTEGER NOT NULL,"
	" PRIMARY KEY (symbol, interval, first_open)) WITHOUT ROWID;"
	"CREATE TABLE IF NOT EXISTS symbols ("
	" symbol TEXT NOT NULL, interval TEXT NOT NULL, history_start INTEGER NOT NULL,"
	" first_open INTEGER NOT NULL, PRIMARY KEY (symbol, interval)) WITHOUT ROWID;"
	"CREATE TABLE IF NOT EXISTS state (key TEXT PRIMARY KEY, value TEXT NOT NULL);"
	"CREATE TABLE IF NOT EXISTS runs ("
	" id INTEGER PRIMARY KEY, command TEXT NOT NULL, started INTEGER NOT NULL,"
	" ended INTEGER, status TEXT NOT NULL, exit_code INTEGER, pid INTEGER,"
	" candles_written INTEGER DEFAULT 0, candles_revised INTEGER DEFAULT 0,"
	" requests INTEGER DEFAULT 0, retries INTEGER DEFAULT 0,"
	" http_429 INTEGER DEFAULT 0, http_418 INTEGER DEFAULT 0,"
	" http_5xx INTEGER DEFAULT 0, net_errors INTEGER DEFAULT 0,"
	" symbols_ok INTEGER DEFAULT 0, symbols_failed INTEGER DEFAULT 0,"
	" symbols_skipped INTEGER DEFAULT 0, weight_used_max INTEGER DEFAULT 0,"
	" error TEXT, server_time INTEGER);"
	"CREATE INDEX IF NOT EXISTS runs_by_command ON runs(command, started);"
	"CREATE TABLE IF NOT EXISTS run_symbols ("
	" run_id INTEGER NOT NULL REFERENCES runs(id), symbol TEXT NOT NULL,"
	" status TEXT NOT NULL, candles_written INTEGER NOT NULL,"
	" candles_revised INTEGER NOT NULL, newest_open INTEGER, error TEXT,"
	" PRIMARY KEY (run_id, symbol)) WITHOUT ROWID;"
	/* Backups of every tier, as written and verified (backup.c keeps files and rows in step).
	 */
	"CREATE TABLE IF NOT EXISTS backups ("
	" id INTEGER PRIMARY KEY, tier TEXT NOT NULL, location TEXT NOT NULL,"
	" created INTEGER NOT NULL, size INTEGER NOT NULL DEFAULT 0, sha256 TEXT,"
	" candles INTEGER NOT NULL DEFAULT 0, status TEXT NOT NULL, detail TEXT,"
	" verified_at INTEGER, UNIQUE (tier, location));"
	/* Things that happened, for metrics, health and audit: corruption detections,
	 * restore drills, recoveries, integrity checks, alert deliveries. */
	"CREATE TABLE IF NOT EXISTS events ("
	" id INTEGER PRIMARY KEY, at INTEGER NOT NULL, kind TEXT NOT NULL,"
	" subject TEXT NOT NULL DEFAULT '', value REAL NOT NULL DEFAULT 0, detail TEXT);"
	"CREATE INDEX IF NOT EXISTS events_by_kind ON events(kind, at);"
	/* Alert conditions and their delivery state (one row per stable key). */
	"CREATE TABLE IF NOT EXISTS alerts ("
	" key TEXT PRIMARY KEY, severity TEXT NOT NULL, state TEXT NOT NULL,"
	" summary TEXT, first_at INTEGER NOT NULL, last_sent INTEGER NOT NULL DEFAULT 0,"
	" sends INTEGER NOT NULL DEFAULT 0, failures INTEGER NOT NULL DEFAULT 0);"
	/* The older design's table, as a view (store_int.h). */
	STORE_VIEW_OHLCV_H4;

/* Version 2: the alert outbox. One row per (alert key, channel): what that channel has
 * accepted of the alert's current episode (delivered: the severity of the trigger it
 * got, '' = none, so no resolve is owed), when, and the retry state of the delivery it
 * is still owed (attempts, next_at back-off, a claim lease so that two processes never
 * send the same delivery at once). What is owed is derived from this row and the
 * alerts row (see alert.c); alerts.detail keeps the text a retried delivery repeats. */
static const char *const schema_v2 =
	"ALTER TABLE alerts ADD COLUMN detail TEXT;"
	"CREATE TABLE IF NOT EXISTS alert_outbox ("
	" key TEXT NOT NULL, channel TEXT NOT NULL,"
	" state TEXT NOT NULL DEFAULT 'pending',"
	" delivered TEXT NOT NULL DEFAULT '', last_sent INTEGER NOT NULL DEFAULT 0,"
	" attempts INTEGER NOT NULL DEFAULT 0, next_at INTEGER NOT NULL DEFAULT 0,"
	" claimed_until INTEGER NOT NULL DEFAULT 0, claimed_by INTEGER NOT NULL DEFAULT 0,"
	" error TEXT, sends INTEGER NOT NULL DEFAULT 0, failures INTEGER NOT NULL DEFAULT 0,"
	" PRIMARY KEY (key, channel)) WITHOUT ROWID;";

/* Trust evidence (added to a version-1 file, detected by its columns so it composes
 * with other migrations): holes keep how they were observed, and a hole confirmed by
 * the older single-observation rule becomes a suspect again (its first observation is
 * kept); a symbol start taken from an empty page is forgotten (re-probed); candles'
 * quote and taker columns may be NULL (unknown: an import source without them);
 * revisions keep each value the exchange changed. */
static const char *const schema_trust =
	"ALTER TABLE holes ADD COLUMN first_seen INTEGER NOT NULL DEFAULT 0;"
	"ALTER TABLE holes ADD COLUMN first_seen_exchange INTEGER NOT NULL DEFAULT 0;"
	"ALTER TABLE holes ADD COLUMN second_seen INTEGER NOT NULL DEFAULT 0;"
	"ALTER TABLE holes ADD COLUMN runs INTEGER NOT NULL DEFAULT 1;"
	"UPDATE holes SET first_seen = confirmed_at, confirmed_at = 0;"
	"UPDATE symbols SET first_open = 0;"
	"CREATE TABLE candles_trust ("
	" symbol TEXT NOT NULL, interval TEXT NOT NULL, open_time INTEGER NOT NULL,"
	" open TEXT NOT NULL, high TEXT NOT NULL, low TEXT NOT NULL, close TEXT NOT NULL,"
	" volume TEXT NOT NULL, close_time INTEGER NOT NULL, quote_volume TEXT NOT NULL,"
	" trades INTEGER NOT NULL, taker_buy_base TEXT, taker_buy_quote TEXT,"
	" PRIMARY KEY (symbol, interval, open_time)) WITHOUT ROWID;"
	"INSERT INTO candles_trust SELECT symbol, interval, open_time, open, high, low, close,"
	" volume, close_time, quote_volume, trades, taker_buy_base, taker_buy_quote FROM candles;"
	"DROP TABLE candles;"
	"ALTER TABLE candles_trust RENAME TO candles;"
	"CREATE TABLE IF NOT EXISTS revisions ("
	" id INTEGER PRIMARY KEY, symbol TEXT NOT NULL, interval TEXT NOT NULL,"
	" open_time INTEGER NOT NULL, revised_at INTEGER NOT NULL,"
	" old TEXT NOT NULL, new TEXT NOT NULL);"
	"CREATE INDEX IF NOT EXISTS revisions_by_time ON revisions(revised_at);";

/* Version 5: the market (um, cm, spot) in the key of every table keyed by symbol and
 * interval. SQLite cannot change a primary key in place: each table is copied into its
 * new shape, every existing row in market 'um' (the only market before), and the
 * per-interval state keys gain the market. The ledger's trigger and the ohlcv_h4 view
 * name candles, so they go first and come back over the new table (migrate_markets).
 * market is each table's first column: SQLite 3.40's integrity_check reports false NULLs
 * in a WITHOUT ROWID table whose key columns do not lead. */
static const char *const schema_v5 =
	"CREATE TABLE candles_v5 ("
	" market TEXT NOT NULL DEFAULT 'um', symbol TEXT NOT NULL, interval TEXT NOT NULL,"
	" open_time INTEGER NOT NULL, open TEXT NOT NULL, high TEXT NOT NULL,"
	" low TEXT NOT NULL, close TEXT NOT NULL, volume TEXT NOT NULL,"
	" close_time INTEGER NOT NULL, quote_volume TEXT NOT NULL, trades INTEGER NOT NULL,"
	" taker_buy_base TEXT, taker_buy_quote TEXT,"
	" PRIMARY KEY (market, symbol, interval, open_time)) WITHOUT ROWID;"
	"INSERT INTO candles_v5 SELECT 'um', symbol, interval, open_time, open, high, low,"
	" close, volume, close_time, quote_volume, trades, taker_buy_base, taker_buy_quote"
	" FROM candles;"
	"DROP TABLE candles;"
	"ALTER TABLE candles_v5 RENAME TO candles;"
	"CREATE TABLE holes_v5 ("
	" market TEXT NOT NULL DEFAULT 'um', symbol TEXT NOT NULL, interval TEXT NOT NULL,"
	" first_open INTEGER NOT NULL, last_open INTEGER NOT NULL,"
	" confirmed_at INTEGER NOT NULL, first_seen INTEGER NOT NULL DEFAULT 0,"
	" first_seen_exchange INTEGER NOT NULL DEFAULT 0,"
	" second_seen INTEGER NOT NULL DEFAULT 0, runs INTEGER NOT NULL DEFAULT 1,"
	" PRIMARY KEY (market, symbol, interval, first_open)) WITHOUT ROWID;"
	"INSERT INTO holes_v5 SELECT 'um', symbol, interval, first_open, last_open,"
	" confirmed_at, first_seen, first_seen_exchange, second_seen, runs FROM holes;"
	"DROP TABLE holes;"
	"ALTER TABLE holes_v5 RENAME TO holes;"
	"CREATE TABLE symbols_v5 ("
	" market TEXT NOT NULL DEFAULT 'um', symbol TEXT NOT NULL, interval TEXT NOT NULL,"
	" history_start INTEGER NOT NULL, first_open INTEGER NOT NULL,"
	" PRIMARY KEY (market, symbol, interval)) WITHOUT ROWID;"
	"INSERT INTO symbols_v5 SELECT 'um', symbol, interval, history_start, first_open"
	" FROM symbols;"
	"DROP TABLE symbols;"
	"ALTER TABLE symbols_v5 RENAME TO symbols;"
	"CREATE TABLE coverage_v5 ("
	" market TEXT NOT NULL DEFAULT 'um', symbol TEXT NOT NULL, interval TEXT NOT NULL,"
	" first_open INTEGER NOT NULL, last_open INTEGER NOT NULL,"
	" kind TEXT NOT NULL CHECK (kind IN ('stored', 'hole')),"
	" candles INTEGER NOT NULL DEFAULT 0,"
	" PRIMARY KEY (market, symbol, interval, first_open, kind)) WITHOUT ROWID;"
	"INSERT INTO coverage_v5 SELECT 'um', symbol, interval, first_open, last_open, kind,"
	" candles FROM coverage;"
	"DROP TABLE coverage;"
	"ALTER TABLE coverage_v5 RENAME TO coverage;"
	"CREATE TABLE archive_files_v5 ("
	" market TEXT NOT NULL DEFAULT 'um', name TEXT NOT NULL, sha256 TEXT NOT NULL,"
	" rows INTEGER NOT NULL, read_at INTEGER NOT NULL,"
	" PRIMARY KEY (market, name)) WITHOUT ROWID;"
	"INSERT INTO archive_files_v5 SELECT 'um', name, sha256, rows, read_at"
	" FROM archive_files;"
	"DROP TABLE archive_files;"
	"ALTER TABLE archive_files_v5 RENAME TO archive_files;"
	"UPDATE state SET key = 'verify_at:um:' || substr(key, 11)"
	" WHERE key GLOB 'verify_at:*' AND key NOT GLOB 'verify_at:*:*';"
	"UPDATE state SET key = 'verify_cursor:um:' || substr(key, 15)"
	" WHERE key GLOB 'verify_cursor:*' AND key NOT GLOB 'verify_cursor:*:*';";

/* Version 6: every run record and symbol outcome names its market and interval, so that
 * health, metrics and audit judge each (market, interval) by its own runs. A file before
 * it held one market ('um'); its runs synced the interval configured then, which the
 * file does not record: the one interval its symbols table holds when it holds exactly
 * one (a file of a single interval, as every file before [main] intervals), else the
 * default '4h' (a guess: such a file's runs cannot be told apart). */
static const char *const schema_v6 =
	"ALTER TABLE runs ADD COLUMN market TEXT NOT NULL DEFAULT 'um';"
	"ALTER TABLE runs ADD COLUMN interval TEXT NOT NULL DEFAULT '4h';"
	"ALTER TABLE run_symbols ADD COLUMN market TEXT NOT NULL DEFAULT 'um';"
	"ALTER TABLE run_symbols ADD COLUMN interval TEXT NOT NULL DEFAULT '4h';"
	"UPDATE runs SET interval = (SELECT CASE WHEN count(DISTINCT interval) = 1"
	" THEN min(interval) ELSE '4h' END FROM symbols);"
	"UPDATE run_symbols SET interval = (SELECT interval FROM runs"
	" WHERE runs.id = run_symbols.run_id) WHERE run_id IN (SELECT id FROM runs);"
	"CREATE INDEX IF NOT EXISTS runs_by_interval ON runs(market, interval, command, started);";
static const char *const schema_v6_index =
	"CREATE INDEX IF NOT EXISTS runs_by_interval ON runs(market, interval, command, started);";

int store_db_fail(struct store *st, struct ck_err *err, const char *what)
{
	int rc = sqlite3_extended_errcode(sq(st)->db);
	int code = CK_EDB;
	const char *hint = "";

	switch (rc & 0xff) {
	case SQLITE_CORRUPT:
	case SQLITE_NOTADB:
		code = CK_ECORRUPT;
		hint = " (run candlekeep recover)";
		break;
	case SQLITE_FULL:
		code = CK_EFULL;
		hint = " (free disk space; nothing committed was lost)";
		break;
	case SQLITE_READONLY:
	case SQLITE_CANTOPEN:
	case SQLITE_PERM:
		hint = " (check the permissions of the database file and its directory)";
		break;
	case SQLITE_BUSY:
	case SQLITE_LOCKED:
		hint = " (another process holds the database; retry later)";
		break;
	case SQLITE_IOERR:
		code = CK_EIO;
		break;
	}
	return ck_err_set(err, code, "%s %s: %s%s", what, st->path, sqlite3_errmsg(sq(st)->db),
			  hint);
}

int store_exec(struct store *st, const char *sql, struct ck_err *err)
{
	if (sqlite3_exec(sq(st)->db, sql, NULL, NULL, NULL) != SQLITE_OK)
		return store_db_fail(st, err, "database");
	return 0;
}

int store_step_done(struct store *st, sqlite3_stmt *s, const char *what, struct ck_err *err)
{
	int rc = sqlite3_step(s);

	if (rc != SQLITE_DONE) {
		rc = store_db_fail(st, err, what); /* before finalize resets the message */
		store_stmt_done(st, s);
		return rc;
	}
	store_stmt_done(st, s);
	return 0;
}

int store_prepare(struct store *st, sqlite3_stmt **s, const char *sql, struct ck_err *err)
{
	if (sqlite3_prepare_v2(sq(st)->db, sql, -1, s, NULL) != SQLITE_OK)
		return store_db_fail(st, err, "prepare on");
	return 0;
}

int store_stmt_cached(struct store *st, sqlite3_stmt **s, const char *sql)
{
	struct store_sqlite *q = sq(st);
	struct stmt_slot *free_slot = NULL;
	size_t i;
	int rc;

	*s = NULL;
	for (i = 0; i < sizeof(q->cache) / sizeof(q->cache[0]); i++) {
		struct stmt_slot *c = &q->cache[i];
		if (c->sql == sql && !c->busy) {
			c->busy = 1;
			*s = c->s;
			return SQLITE_OK;
		}
		if (!c->sql && !free_slot)
			free_slot = c;
	}
	rc = sqlite3_prepare_v3(q->db, sql, -1, free_slot ? SQLITE_PREPARE_PERSISTENT : 0, s, NULL);
	if (rc == SQLITE_OK && free_slot) {
		free_slot->sql = sql;
		free_slot->s = *s;
		free_slot->busy = 1;
	}
	return rc;
}

int store_prepare_cached(struct store *st, sqlite3_stmt **s, const char *sql, struct ck_err *err)
{
	if (store_stmt_cached(st, s, sql) != SQLITE_OK)
		return store_db_fail(st, err, "prepare on");
	return 0;
}

void store_stmt_done(struct store *st, sqlite3_stmt *s)
{
	struct store_sqlite *q = sq(st);

	if (!s)
		return;
	for (size_t i = 0; i < sizeof(q->cache) / sizeof(q->cache[0]); i++)
		if (q->cache[i].s == s) {
			sqlite3_reset(s);
			sqlite3_clear_bindings(s);
			q->cache[i].busy = 0;
			return;
		}
	sqlite3_finalize(s);
}

void sq_close(struct store *st)
{
	struct store_sqlite *q = sq(st);

	if (!q)
		return;
	sqlite3_finalize(q->put);
	sqlite3_finalize(q->get_one);
	sqlite3_finalize(q->get_range);
	sqlite3_finalize(q->cov_find);
	sqlite3_finalize(q->cov_del);
	sqlite3_finalize(q->cov_ins);
	for (size_t i = 0; i < sizeof(q->cache) / sizeof(q->cache[0]); i++)
		sqlite3_finalize(q->cache[i].s);
	sqlite3_close(q->db);
	free(q);
	st->impl = NULL;
}

const char *sq_version(void)
{
	return sqlite3_libversion();
}

int store_grow(void *v, size_t *cap, size_t len, size_t size, const char *what, struct ck_err *err)
{
	void *old, *p;
	size_t nc;

	if (len < *cap)
		return 0;
	nc = *cap ? *cap * 2 : 16;
	memcpy(&old, v, sizeof(old)); /* v points to the caller's array pointer */
	if (nc > STORE_ROWS_MAX || !(p = realloc(old, nc * size)))
		return ck_err_set(err, CK_ENOMEM, "%s: out of memory or over %d rows", what,
				  STORE_ROWS_MAX);
	memcpy(v, &p, sizeof(p));
	*cap = nc;
	return 0;
}

static int user_version(struct store *st, int *version, struct ck_err *err)
{
	sqlite3_stmt *s = NULL;

	*version = 0;
	if (store_prepare(st, &s, "PRAGMA user_version", err))
		return err->code;
	if (sqlite3_step(s) == SQLITE_ROW)
		*version = sqlite3_column_int(s, 0);
	sqlite3_finalize(s);
	return 0;
}

/* Applies schema_trust once: a holes table without the runs column has not had it. */
static int migrate_trust(struct store *st, struct ck_err *err)
{
	sqlite3_stmt *s = NULL;
	int have, view;

	if (store_prepare(st, &s,
			  "SELECT count(*) FROM pragma_table_info('holes')"
			  " WHERE name = 'runs'",
			  err))
		return err->code;
	have = sqlite3_step(s) == SQLITE_ROW && sqlite3_column_int(s, 0) > 0;
	sqlite3_finalize(s);
	if (have)
		return 0;
	/* ohlcv_h4 is candlekeep's view over candles, rebuilt around the table; in a file of
	 * the older design it is still that design's table here, left for
	 * store_identity_post to import and replace. */
	if (store_prepare(st, &s,
			  "SELECT count(*) FROM sqlite_master WHERE type = 'view'"
			  " AND name = 'ohlcv_h4'",
			  err))
		return err->code;
	view = sqlite3_step(s) == SQLITE_ROW && sqlite3_column_int(s, 0) > 0;
	sqlite3_finalize(s);
	if (store_exec(st, "BEGIN IMMEDIATE", err))
		return err->code;
	if ((view && store_exec(st, "DROP VIEW ohlcv_h4", err)) ||
	    store_exec(st, schema_trust, err) ||
	    (view && store_exec(st, STORE_VIEW_OHLCV_H4, err))) {
		sqlite3_exec(sq(st)->db, "ROLLBACK", NULL, NULL, NULL);
		return ck_err_wrap(err, "add the hole evidence and revision tables");
	}
	return store_exec(st, "COMMIT", err);
}

/* Versions 4 and 5, after the trust tables (which turn the holes of an older file into
 * suspects), in one transaction: 4 the coverage ledger (store_ledger.c), 5 the market in
 * every key (schema_v5). A file older than 4 gets the ledger filled from the candles and
 * the confirmed holes after the copy, so an upgraded file plans from it at once. A failed
 * step (a full disk, a crash) rolls back to the file as it was. */
static int migrate_markets(struct store *st, struct ck_err *err)
{
	sqlite3_stmt *s = NULL;
	int version = 0, view = 0, revm = 0;

	if (user_version(st, &version, err))
		return err->code;
	if (version >= 5)
		return 0;
	if (store_exec(st, "BEGIN IMMEDIATE", err))
		return err->code;
	if (user_version(st, &version, err))
		goto fail;
	if (version >= 5)
		return store_exec(st, "COMMIT", err);
	if (store_prepare(st, &s,
			  "SELECT count(*) FROM sqlite_master WHERE type = 'view'"
			  " AND name = 'ohlcv_h4'",
			  err))
		goto fail;
	view = sqlite3_step(s) == SQLITE_ROW && sqlite3_column_int(s, 0) > 0;
	sqlite3_finalize(s);
	/* revisions only gain the column (no key of theirs has it), where it is missing */
	if (store_prepare(
		    st, &s,
		    "SELECT count(*) FROM pragma_table_info('revisions') WHERE name = 'market'",
		    err))
		goto fail;
	revm = sqlite3_step(s) == SQLITE_ROW && sqlite3_column_int(s, 0) > 0;
	sqlite3_finalize(s);
	if ((version < 4 && store_exec(st, store_ledger_schema_v4, err)) ||
	    (!revm &&
	     store_exec(st, "ALTER TABLE revisions ADD COLUMN market TEXT NOT NULL DEFAULT 'um'",
			err)) ||
	    (view && store_exec(st, "DROP VIEW ohlcv_h4", err)) ||
	    store_exec(st, "DROP TRIGGER IF EXISTS coverage_candle_deleted", err) ||
	    store_exec(st, schema_v5, err) || store_exec(st, store_ledger_trigger_v5, err) ||
	    (view && store_exec(st, STORE_VIEW_OHLCV_H4, err)) ||
	    (version < 4 && store_ledger_fill(st, NULL, err)) ||
	    store_exec(st, "PRAGMA user_version = 5", err))
		goto fail;
	return store_exec(st, "COMMIT", err);
fail:
	sqlite3_exec(sq(st)->db, "ROLLBACK", NULL, NULL, NULL);
	return ck_err_wrap(err, version < 4 ? "add the coverage ledger and the market column"
					    : "add the market column (schema 5)");
}

/* 1 when the runs table has a market column. */
static int runs_have_market(struct store *st)
{
	sqlite3_stmt *s = NULL;
	int has = 0;

	if (sqlite3_prepare_v2(sq(st)->db,
			       "SELECT 1 FROM pragma_table_info('runs') WHERE name = 'market'", -1,
			       &s, NULL) == SQLITE_OK)
		has = sqlite3_step(s) == SQLITE_ROW;
	sqlite3_finalize(s);
	return has;
}

/* Version 6 (schema_v6), in one transaction: a failed step leaves the file as it was. */
static int migrate_runs(struct store *st, struct ck_err *err)
{
	int version = 0;

	if (user_version(st, &version, err))
		return err->code;
	if (version >= 6)
		return 0;
	if (store_exec(st, "BEGIN IMMEDIATE", err))
		return err->code;
	if (user_version(st, &version, err))
		goto fail;
	if (version >= 6)
		return store_exec(st, "COMMIT", err);
	/* A file whose runs already have the columns (a newer file whose user_version was
	 * set back by hand, as tests do) only gets the index and the version. */
	if (store_exec(st, runs_have_market(st) ? schema_v6_index : schema_v6, err) ||
	    store_exec(st, "PRAGMA user_version = 6", err))
		goto fail;
	return store_exec(st, "COMMIT", err);
fail:
	sqlite3_exec(sq(st)->db, "ROLLBACK", NULL, NULL, NULL);
	return ck_err_wrap(err, "add the market and interval of runs (schema 6)");
}

/* Versioned steps (PRAGMA user_version: 1 the first schema, 2 the alert outbox, 3 the
 * archive catalogue), then
 * the trust tables, detected by their columns, then 4 the coverage ledger and 5 the
 * market column, 6 the market and interval of runs. Each step is one transaction: a
 * failed one leaves the file as it was. */
static int migrate(struct store *st, struct ck_err *err)
{
	int version = 0;

	if (user_version(st, &version, err))
		return err->code;
	if (version < 3) {
		if (store_exec(st, "BEGIN IMMEDIATE", err))
			return err->code;
		/* again inside the write transaction: another process may have migrated meanwhile
		 */
		if (user_version(st, &version, err) ||
		    (version < 1 && store_exec(st, schema_v1, err)) ||
		    (version < 2 && store_exec(st, schema_v2, err)) ||
		    (version < 3 && store_exec(st, store_archive_schema_v3, err)) ||
		    store_exec(st, "PRAGMA user_version = 3", err)) {
			sqlite3_exec(sq(st)->db, "ROLLBACK", NULL, NULL, NULL);
			return err->code;
		}
		if (store_exec(st, "COMMIT", err))
			return err->code;
	}
	if (migrate_trust(st, err) || migrate_markets(st, err))
		return err->code;
	return migrate_runs(st, err);
}

/* 1 if the read-only handle sees a candlekeep schema, 0 if not; negative (err filled)
 * if it could not read at all. */
static int probe_schema(struct store *st, struct ck_err *err)
{
	sqlite3_stmt *s = NULL;
	int have;

	if (store_prepare(st, &s, "SELECT count(*) FROM sqlite_master WHERE name='candles'", err))
		return err->code;
	if (sqlite3_step(s) != SQLITE_ROW) {
		store_db_fail(st, err, "read schema of");
		sqlite3_finalize(s);
		return err->code;
	}
	have = sqlite3_column_int(s, 0);
	sqlite3_finalize(s);
	return have;
}

/* "file:" URI of path with immutable=1: every byte outside [A-Za-z0-9/._~-] is
 * %-encoded so that '?', '#' and '%' in a path cannot change the query. */
static int immutable_uri(char *buf, size_t size, const char *path)
{
	size_t n = 0;
	const unsigned char *p;

	n += (size_t)snprintf(buf, size, "file:");
	for (p = (const unsigned char *)path; *p && n + 4 < size; p++) {
		if ((*p >= 'A' && *p <= 'Z') || (*p >= 'a' && *p <= 'z') ||
		    (*p >= '0' && *p <= '9') || strchr("/._~-", *p))
			buf[n++] = (char)*p;
		else
			n += (size_t)snprintf(buf + n, size - n, "%%%02X", *p);
	}
	if (*p || n + sizeof("?immutable=1") > size)
		return -1;
	memcpy(buf + n, "?immutable=1", sizeof("?immutable=1"));
	return 0;
}

/* May a read-only open fall back to immutable=1? Only when SQLite cannot set up the
 * WAL index because this user cannot create "<db>-shm" (the directory is not writable
 * for it), and neither "<db>-shm" nor a non-empty "<db>-wal" exists. The -shm file
 * exists while any connection has a WAL database open (SQLite removes it only when the
 * last one closes after a full checkpoint), so its absence means no writer is at work
 * and the main file holds every committed transaction. A writer that starts while we
 * read writes into a new -wal and changes the main file only at a checkpoint, which
 * candlekeep's writers run only at the end of their run (one writer at a time, the
 * writer lock); our read is one short transaction. A -wal with content and no -shm
 * (a writer's crash) holds commits the main file lacks: then no fallback, an error. */
static int may_open_immutable(const char *path)
{
	char side[4096], dir[4096];
	struct stat sb;
	char *slash;

	if (snprintf(dir, sizeof(dir), "%s", path) >= (int)sizeof(dir))
		return 0;
	slash = strrchr(dir, '/');
	if (!slash)
		snprintf(dir, sizeof(dir), ".");
	else if (slash == dir)
		dir[1] = 0;
	else
		*slash = 0;
	if (access(dir, W_OK) == 0)
		return 0;
	snprintf(side, sizeof(side), "%s-shm", path);
	if (stat(side, &sb) == 0)
		return 0;
	snprintf(side, sizeof(side), "%s-wal", path);
	if (stat(side, &sb) == 0 && sb.st_size > 0)
		return 0;
	return 1;
}

/* ck_market(): the market of the handle the connection belongs to (store_market_set),
 * so that every statement says "market = ck_market()" without one more bound value. */
static void sql_ck_market(sqlite3_context *ctx, int argc, sqlite3_value **argv)
{
	const struct store *st = sqlite3_user_data(ctx);

	(void)argc;
	(void)argv;
	sqlite3_result_text(ctx, st->market, -1, SQLITE_TRANSIENT);
}

static int register_functions(struct store *st, struct ck_err *err)
{
	if (sqlite3_create_function(sq(st)->db, "ck_market", 0, SQLITE_UTF8 | SQLITE_INNOCUOUS, st,
				    sql_ck_market, NULL, NULL) != SQLITE_OK)
		return store_db_fail(st, err, "open");
	return 0;
}

/* The runs and run_symbols of a file older than schema 6, shown to a read-only open
 * with the market and interval schema_v6 would give them (a file without those tables,
 * or whose runs already have the column, is left as it is). */
static int readonly_runs(struct store *st, struct ck_err *err)
{
	sqlite3_stmt *s = NULL;
	int n = 0;

	if (store_prepare(st, &s,
			  "SELECT (SELECT count(*) FROM main.sqlite_master WHERE type = 'table'"
			  " AND name IN ('runs', 'run_symbols', 'symbols'))"
			  " + (SELECT count(*) = 0 FROM pragma_table_info('runs')"
			  " WHERE name = 'interval')",
			  err))
		return err->code;
	if (sqlite3_step(s) == SQLITE_ROW)
		n = sqlite3_column_int(s, 0);
	sqlite3_finalize(s);
	if (n != 4)
		return 0;
	if (store_exec(st,
		       "CREATE TEMP VIEW runs AS SELECT *, 'um' AS market,"
		       " (SELECT CASE WHEN count(DISTINCT interval) = 1 THEN min(interval)"
		       " ELSE '4h' END FROM main.symbols) AS interval FROM main.runs;"
		       "CREATE TEMP VIEW run_symbols AS SELECT s.*, 'um' AS market, r.interval"
		       " AS interval FROM main.run_symbols s LEFT JOIN temp.runs r"
		       " ON r.id = s.run_id",
		       err))
		return err->code;
	return 0;
}

/* A read-only open does not migrate: the tables of a file older than schema 5 are shown
 * to it through temporary views (which come before the file's own tables by name) with
 * market 'um', the only market such a file holds. */
static int readonly_markets(struct store *st, struct ck_err *err)
{
	static const char *const tables[] = {"candles",  "holes",         "symbols",
					     "coverage", "archive_files", "revisions"};
	sqlite3_stmt *s = NULL;
	char sql[256];
	size_t i;
	int version = 0, have;

	if (user_version(st, &version, err))
		return err->code;
	if (version < 6 && readonly_runs(st, err))
		return err->code;
	if (version >= 5)
		return 0;
	for (i = 0; i < sizeof(tables) / sizeof(tables[0]); i++) {
		if (store_prepare(st, &s,
				  "SELECT count(*) FROM main.sqlite_master WHERE type = 'table'"
				  " AND name = ?1",
				  err))
			return err->code;
		sqlite3_bind_text(s, 1, tables[i], -1, SQLITE_STATIC);
		have = sqlite3_step(s) == SQLITE_ROW && sqlite3_column_int(s, 0) > 0;
		sqlite3_finalize(s);
		if (!have)
			continue;
		snprintf(sql, sizeof(sql),
			 "CREATE TEMP VIEW %s AS SELECT *, 'um' AS market FROM main.%s", tables[i],
			 tables[i]);
		if (store_exec(st, sql, err))
			return err->code;
	}
	return 0;
}

/* Opens st->path read-only (SQLITE_OPEN_READONLY: never creates, never writes) and
 * checks that it is a candlekeep database; see may_open_immutable for the one case
 * that reopens it immutable. */
static int open_readonly(struct store *st, struct ck_err *err)
{
	const int oflags = SQLITE_OPEN_READONLY | SQLITE_OPEN_NOMUTEX | SQLITE_OPEN_URI;
	char uri[8192];
	int have;

	if (access(st->path, F_OK) != 0)
		return ck_err_set(err, CK_ENOTFOUND,
				  "open %s: %s (run candlekeep sync first, or pass --db)", st->path,
				  strerror(errno));
	if (immutable_uri(uri, sizeof(uri), st->path))
		return ck_err_set(err, CK_EUSAGE, "open %s: path too long", st->path);
	/* Through the URI without its query, so a path is never taken for a URI. */
	*strrchr(uri, '?') = 0;
	if (sqlite3_open_v2(uri, &sq(st)->db, oflags, store_vfs_name()) != SQLITE_OK) {
		if (!sq(st)->db)
			return ck_err_set(err, CK_ENOMEM, "open %s: out of memory", st->path);
		return store_db_fail(st, err, "open");
	}
	sqlite3_extended_result_codes(sq(st)->db, 1);
	sqlite3_busy_timeout(sq(st)->db, 10000);
	/* Checkpoints are the writer's alone (store_vfs.c). */
	sqlite3_db_config(sq(st)->db, SQLITE_DBCONFIG_NO_CKPT_ON_CLOSE, 1, NULL);
	have = probe_schema(st, err);
	if (have < 0 &&
	    ((sqlite3_extended_errcode(sq(st)->db) & 0xff) == SQLITE_READONLY ||
	     (sqlite3_extended_errcode(sq(st)->db) & 0xff) == SQLITE_CANTOPEN) &&
	    may_open_immutable(st->path)) {
		sqlite3_close(sq(st)->db);
		sq(st)->db = NULL;
		immutable_uri(uri, sizeof(uri), st->path);
		if (sqlite3_open_v2(uri, &sq(st)->db, oflags, store_vfs_name()) != SQLITE_OK) {
			if (!sq(st)->db)
				return ck_err_set(err, CK_ENOMEM, "open %s: out of memory",
						  st->path);
			return store_db_fail(st, err, "open");
		}
		sqlite3_extended_result_codes(sq(st)->db, 1);
		sqlite3_db_config(sq(st)->db, SQLITE_DBCONFIG_NO_CKPT_ON_CLOSE, 1, NULL);
		have = probe_schema(st, err);
	}
	if (have < 0)
		return err->code;
	if (store_identity_pre(st, err))
		return err->code;
	if (!have)
		return ck_err_set(err, CK_ENOTFOUND,
				  "open %s: not a candlekeep database (no candles table)",
				  st->path);
	if (register_functions(st, err) || readonly_markets(st, err))
		return err->code;
	return 0;
}

/* A new database file is created here with its mode set explicitly (0640, or 0600
 * with STORE_PRIVATE), whatever the umask; SQLite gives its -wal and -shm the same mode. */
static int create_file(const char *path, int flags, struct ck_err *err)
{
	mode_t mode = (flags & STORE_PRIVATE) ? 0600 : 0640;
	int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode);

	if (fd < 0)
		return errno == EEXIST ? 0
				       : ck_err_set(err, CK_EIO,
						    "create %s: %s (check the directory"
						    " exists and is writable)",
						    path, strerror(errno));
	if (fchmod(fd, mode) != 0) {
		int e = errno;
		close(fd);
		unlink(path);
		return ck_err_set(err, CK_EIO, "chmod %s: %s", path, strerror(e));
	}
	close(fd);
	return 0;
}

static int open_readwrite(struct store *st, int flags, struct ck_err *err)
{
	int64_t migrated = -1;

	if (access(st->path, F_OK) != 0 && errno == ENOENT &&
	    (store_guard_create(st->path, err) || create_file(st->path, flags, err)))
		return err->code;
	if (sqlite3_open_v2(st->path, &sq(st)->db,
			    SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX,
			    store_vfs_name()) != SQLITE_OK) {
		if (!sq(st)->db)
			return ck_err_set(err, CK_ENOMEM, "open %s: out of memory", st->path);
		return store_db_fail(st, err, "open");
	}
	sqlite3_busy_timeout(sq(st)->db, 10000);
	sqlite3_extended_result_codes(sq(st)->db, 1);
	/* another application's file is refused before anything writes to it */
	if (register_functions(st, err) || store_identity_pre(st, err))
		return err->code;
	if (store_exec(st, "PRAGMA journal_mode=WAL", err) ||
	    store_exec(st, "PRAGMA synchronous=FULL", err) ||
	    store_exec(st, "PRAGMA foreign_keys=ON", err) || migrate(st, err)) {
		ck_err_wrap(err, "open");
		return err->code;
	}
	if (store_identity_post(st, &migrated, err))
		return err->code;
	if (migrated >= 0)
		log_info("store",
			 "%s: migrated the older design's ohlcv_h4 table: %" PRId64
			 " rows imported into candles (original kept in %s.older-design.bak)",
			 st->path, migrated, st->path);
	return 0;
}

int sq_open(struct store *st, int flags, struct ck_err *err)
{
	struct stat sb;

	if (!(st->impl = calloc(1, sizeof(struct store_sqlite))))
		return ck_err_set(err, CK_ENOMEM, "open %s: out of memory", st->path);
	if (stat(st->path, &sb) == 0 && S_ISDIR(sb.st_mode))
		return ck_err_set(err, CK_EUSAGE,
				  "open %s: is a directory; --db / [main] db names the database"
				  " file (e.g. %s/candles.db)",
				  st->path, st->path);
	if (st->rdonly ? open_readonly(st, err) : open_readwrite(st, flags, err))
		return err->code;
	/* A read-only open does not migrate: a file of schema 3 is read without a ledger. */
	{
		sqlite3_stmt *s = NULL;
		if (store_prepare(st, &s,
				  "SELECT count(*) FROM sqlite_master WHERE type = 'table'"
				  " AND name = 'coverage'",
				  err))
			return err->code;
		sq(st)->ledger = sqlite3_step(s) == SQLITE_ROW && sqlite3_column_int(s, 0) > 0;
		sqlite3_finalize(s);
	}
	return 0;
}

/* ck_market() reads st->market at each call: nothing to tell the connection. */
int sq_market_set(struct store *st, struct ck_err *err)
{
	(void)st;
	(void)err;
	return 0;
}

int sq_tx_begin(struct store *st, struct ck_err *err)
{
	return store_exec(st, "BEGIN IMMEDIATE", err);
}

int sq_tx_commit(struct store *st, struct ck_err *err)
{
	struct ck_err tmp;

	if (!err)
		err = &tmp;
	if (store_exec(st, "COMMIT", err)) {
		sqlite3_exec(sq(st)->db, "ROLLBACK", NULL, NULL, NULL);
		return err->code;
	}
	return 0;
}

void sq_tx_rollback(struct store *st)
{
	if (st && !sqlite3_get_autocommit(sq(st)->db))
		sqlite3_exec(sq(st)->db, "ROLLBACK", NULL, NULL, NULL);
}

/* ---- candles ---- */

static void bind_kline(sqlite3_stmt *s, int first, const struct kline *k)
{
	sqlite3_bind_int64(s, first, k->open_time);
	sqlite3_bind_text(s, first + 1, k->open, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, first + 2, k->high, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, first + 3, k->low, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, first + 4, k->close, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, first + 5, k->volume, -1, SQLITE_STATIC);
	sqlite3_bind_int64(s, first + 6, k->close_time);
	sqlite3_bind_text(s, first + 7, k->quote_volume, -1, SQLITE_STATIC);
	sqlite3_bind_int64(s, first + 8, k->trades);
	/* "" is unknown: NULL, never a made-up value. */
	if (k->taker_buy_base[0])
		sqlite3_bind_text(s, first + 9, k->taker_buy_base, -1, SQLITE_STATIC);
	else
		sqlite3_bind_null(s, first + 9);
	if (k->taker_buy_quote[0])
		sqlite3_bind_text(s, first + 10, k->taker_buy_quote, -1, SQLITE_STATIC);
	else
		sqlite3_bind_null(s, first + 10);
}

static void copy_col(char *dst, sqlite3_stmt *s, int col)
{
	const unsigned char *t = sqlite3_column_text(s, col);
	size_t len = t ? (size_t)sqlite3_column_bytes(s, col) : 0;

	if (len > KLINE_DEC_MAX)
		len = KLINE_DEC_MAX;
	if (len)
		memcpy(dst, t, len);
	dst[len] = '\0';
}

static void read_kline(sqlite3_stmt *s, int first, struct kline *k)
{
	k->open_time = sqlite3_column_int64(s, first);
	copy_col(k->open, s, first + 1);
	copy_col(k->high, s, first + 2);
	copy_col(k->low, s, first + 3);
	copy_col(k->close, s, first + 4);
	copy_col(k->volume, s, first + 5);
	k->close_time = sqlite3_column_int64(s, first + 6);
	copy_col(k->quote_volume, s, first + 7);
	k->trades = sqlite3_column_int64(s, first + 8);
	copy_col(k->taker_buy_base, s, first + 9);
	copy_col(k->taker_buy_quote, s, first + 10);
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

/* Keeps the values a revision replaced: old and new as archive CSV lines. */
static int put_revision(struct store *st, const char *symbol, const char *interval,
			const struct kline *old, const struct kline *nk)
{
	sqlite3_stmt *s = NULL;
	char a[512], b[512];
	int rc;

	if (kline_csv_format(old, a, sizeof(a)) < 0 || kline_csv_format(nk, b, sizeof(b)) < 0)
		return -1;
	if (sqlite3_prepare_v2(
		    sq(st)->db,
		    "INSERT INTO revisions (market, symbol, interval, open_time, revised_at, old,"
		    " new) VALUES (ck_market(), ?1, ?2, ?3, CAST((julianday('now') - 2440587.5)"
		    " * 86400000 AS INTEGER), ?4, ?5)",
		    -1, &s, NULL) != SQLITE_OK)
		return -1;
	sqlite3_bind_text(s, 1, symbol, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 2, interval, -1, SQLITE_STATIC);
	sqlite3_bind_int64(s, 3, old->open_time);
	sqlite3_bind_text(s, 4, a, (int)strcspn(a, "\n"), SQLITE_STATIC);
	sqlite3_bind_text(s, 5, b, (int)strcspn(b, "\n"), SQLITE_STATIC);
	rc = sqlite3_step(s);
	sqlite3_finalize(s);
	return rc == SQLITE_DONE ? 0 : -1;
}

/* The stored candles of a page's span, in one ordered read instead of one lookup per
 * candle: for a page strictly ascending by open time that spans at most twice its
 * candles (every page sync, backfill and import write). Sets *old (malloc'd, NULL when
 * none) and *nold; returns 1 when the page does not qualify (the caller looks candles up
 * one by one), 0, or -1 (SQLite's error). */
static int page_stored(struct store *st, const char *symbol, const char *interval,
		       const struct kline *k, size_t n, struct kline **old, size_t *nold)
{
	sqlite3_stmt *s;
	int64_t iv = kline_interval_ms(interval);
	size_t i, cap = 0;
	int rc;

	*old = NULL;
	*nold = 0;
	if (!n || iv <= 0)
		return 1;
	for (i = 1; i < n; i++)
		if (k[i].open_time <= k[i - 1].open_time)
			return 1;
	if ((k[n - 1].open_time - k[0].open_time) / iv >= 2 * (int64_t)n)
		return 1;
	if (!sq(st)->get_range &&
	    sqlite3_prepare_v2(sq(st)->db,
			       "SELECT open_time, open, high, low, close, volume, close_time,"
			       " quote_volume, trades, taker_buy_base, taker_buy_quote FROM candles"
			       " WHERE market = ck_market() AND symbol = ?1 AND interval = ?2"
			       " AND open_time BETWEEN ?3 AND ?4"
			       " ORDER BY open_time",
			       -1, &sq(st)->get_range, NULL) != SQLITE_OK)
		return -1;
	s = sq(st)->get_range;
	sqlite3_bind_text(s, 1, symbol, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 2, interval, -1, SQLITE_STATIC);
	sqlite3_bind_int64(s, 3, k[0].open_time);
	sqlite3_bind_int64(s, 4, k[n - 1].open_time);
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		if (*nold == cap) {
			size_t nc = cap ? cap * 2 : 64;
			struct kline *no = realloc(*old, nc * sizeof(*no));
			if (!no) {
				rc = SQLITE_NOMEM;
				break;
			}
			*old = no;
			cap = nc;
		}
		read_kline(s, 0, &(*old)[(*nold)++]);
	}
	sqlite3_reset(s);
	if (rc != SQLITE_DONE) {
		free(*old);
		*old = NULL;
		*nold = 0;
		return -1;
	}
	return 0;
}

int sq_put_page(struct store *st, const char *symbol, const char *interval, const struct kline *k,
		size_t n, struct store_page_result *res, struct ck_err *err)
{
	struct store_page_result r = {0, 0, 0};
	struct ledger_mark *m = NULL;
	struct kline *stored = NULL;
	size_t i, nstored = 0, at = 0;
	int nested, bulk = 0;

	if (!sq(st)->put &&
	    store_prepare(
		    st, &sq(st)->put,
		    "INSERT INTO candles (market, symbol, interval, open_time, open, high,"
		    " low, close, volume, close_time, quote_volume, trades, taker_buy_base,"
		    " taker_buy_quote) VALUES (ck_market(),?1,?2,?3,?4,?5,?6,?7,?8,?9,?10,?11,?12,"
		    "?13) ON CONFLICT (market, symbol, interval, open_time) DO UPDATE SET"
		    " open = excluded.open,"
		    " high = excluded.high, low = excluded.low, close = excluded.close,"
		    " volume = excluded.volume, close_time = excluded.close_time,"
		    " quote_volume = excluded.quote_volume, trades = excluded.trades,"
		    " taker_buy_base = COALESCE(excluded.taker_buy_base, taker_buy_base),"
		    " taker_buy_quote = COALESCE(excluded.taker_buy_quote, taker_buy_quote)",
		    err))
		return err->code;
	if (!sq(st)->get_one &&
	    store_prepare(
		    st, &sq(st)->get_one,
		    "SELECT open_time, open, high, low, close, volume, close_time, quote_volume,"
		    " trades, taker_buy_base, taker_buy_quote FROM candles"
		    " WHERE market = ck_market() AND symbol = ?1 AND interval = ?2 AND open_time = "
		    "?3",
		    err))
		return err->code;
	if (n && !(m = malloc(n * sizeof(*m))))
		return ck_err_set(err, CK_ENOMEM, "store %s page: out of memory", symbol);
	/* Inside store_tx_begin's transaction (a group commit) the page is a savepoint:
	 * still all or nothing, made durable by store_tx_commit. */
	nested = !sqlite3_get_autocommit(sq(st)->db);
	if (store_exec(st, nested ? "SAVEPOINT page" : "BEGIN IMMEDIATE", err)) {
		free(m);
		return ck_err_wrap(err, "store %s page", symbol);
	}
	/* Inside the transaction, so that what was read is what the writes replace. */
	if ((bulk = page_stored(st, symbol, interval, k, n, &stored, &nstored)) < 0)
		goto fail;
	bulk = !bulk;
	for (i = 0; i < n; i++) {
		struct kline old, nk;
		int found = 0, rc;

		if (bulk) {
			while (at < nstored && stored[at].open_time < k[i].open_time)
				at++;
			if (at < nstored && stored[at].open_time == k[i].open_time) {
				old = stored[at];
				found = 1;
			}
		} else {
			sqlite3_bind_text(sq(st)->get_one, 1, symbol, -1, SQLITE_STATIC);
			sqlite3_bind_text(sq(st)->get_one, 2, interval, -1, SQLITE_STATIC);
			sqlite3_bind_int64(sq(st)->get_one, 3, k[i].open_time);
			rc = sqlite3_step(sq(st)->get_one);
			if (rc == SQLITE_ROW) {
				read_kline(sq(st)->get_one, 0, &old);
				found = 1;
			}
			sqlite3_reset(sq(st)->get_one);
			if (rc != SQLITE_ROW && rc != SQLITE_DONE)
				goto fail;
		}
		/* A value the source lacks never replaces a known one (the upsert's
		 * COALESCE does the same in SQL); compare what will be stored. */
		nk = k[i];
		if (found && !nk.taker_buy_base[0])
			memcpy(nk.taker_buy_base, old.taker_buy_base, sizeof(nk.taker_buy_base));
		if (found && !nk.taker_buy_quote[0])
			memcpy(nk.taker_buy_quote, old.taker_buy_quote, sizeof(nk.taker_buy_quote));
		m[i].open_time = k[i].open_time;
		m[i].added = !found;
		if (found && kline_same(&old, &nk)) {
			r.same++;
			continue;
		}
		sqlite3_bind_text(sq(st)->put, 1, symbol, -1, SQLITE_STATIC);
		sqlite3_bind_text(sq(st)->put, 2, interval, -1, SQLITE_STATIC);
		bind_kline(sq(st)->put, 3, &k[i]);
		rc = sqlite3_step(sq(st)->put);
		sqlite3_reset(sq(st)->put);
		if (rc != SQLITE_DONE)
			goto fail;
		if (found) {
			r.revised++;
			if (put_revision(st, symbol, interval, &old, &nk))
				goto fail;
		} else {
			r.written++;
		}
	}
	/* the coverage ledger in the same transaction */
	if (store_ledger_page(st, symbol, interval, m, n) ||
	    sqlite3_exec(sq(st)->db, nested ? "RELEASE page" : "COMMIT", NULL, NULL, NULL) !=
		    SQLITE_OK)
		goto fail;
	free(m);
	free(stored);
	if (res)
		*res = r;
	return 0;
fail:
	free(m);
	free(stored);
	store_db_fail(st, err, "write candles to");
	sqlite3_exec(sq(st)->db, nested ? "ROLLBACK TO page; RELEASE page" : "ROLLBACK", NULL, NULL,
		     NULL);
	return ck_err_wrap(err, "store %s page", symbol);
}

int sq_span(struct store *st, const char *symbol, const char *interval, int64_t from, int64_t to,
	    int count, struct store_span *span, struct ck_err *err)
{
	sqlite3_stmt *s = NULL;
	int rc;

	memset(span, 0, sizeof(*span));
	/* All history counted: the ledger's runs of the symbol. Otherwise, with a count:
	 * one pass over the range's keys; without: two separate min()/max() statements,
	 * each a single index seek. */
	if (store_prepare_cached(
		    st, &s,
		    count && sq(st)->ledger && from <= 0 && to == INT64_MAX
			    ? "SELECT min(first_open), max(last_open), sum(candles) FROM coverage"
			      " WHERE market = ck_market() AND symbol = ?1 AND interval = ?2 AND "
			      "kind = 'stored'"
			      " AND ?3 = ?3 AND ?4 = ?4"
		    : count ? "SELECT min(open_time), max(open_time), count(*) FROM candles"
			      " WHERE market = ck_market() AND symbol = ?1 AND interval = ?2 AND "
			      "open_time BETWEEN ?3 AND ?4"
			    : "SELECT (SELECT min(open_time) FROM candles WHERE market = "
			      "ck_market() AND symbol = ?1 AND"
			      "  interval = ?2 AND open_time BETWEEN ?3 AND ?4),"
			      " (SELECT max(open_time) FROM candles WHERE market = ck_market() AND "
			      "symbol = ?1 AND"
			      "  interval = ?2 AND open_time BETWEEN ?3 AND ?4), -1",
		    err))
		return err->code;
	sqlite3_bind_text(s, 1, symbol, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 2, interval, -1, SQLITE_STATIC);
	sqlite3_bind_int64(s, 3, from);
	sqlite3_bind_int64(s, 4, to);
	rc = sqlite3_step(s);
	if (rc == SQLITE_ROW) {
		span->first_open = sqlite3_column_int64(s, 0);
		span->last_open = sqlite3_column_int64(s, 1);
		/* uncounted: -1 says there are candles, 0 that there are none */
		span->count = count || sqlite3_column_type(s, 1) != SQLITE_NULL
				      ? sqlite3_column_int64(s, 2)
				      : 0;
	}
	store_stmt_done(st, s);
	if (rc != SQLITE_ROW)
		return store_db_fail(st, err, "read candles from");
	return 0;
}

/* One piece of a gap: open times first..last, a confirmed hole (with its evidence) or
 * missing candles. */
static int gap_push(struct store_gap_cut *c, int64_t first, int64_t last,
		    const struct store_hole *hole, struct ck_err *err)
{
	struct store_gap *g;

	if (store_grow(&c->v, &c->cap, c->len, sizeof(*c->v), "list gaps", err))
		return err->code;
	g = &c->v[c->len++];
	memset(g, 0, sizeof(*g));
	snprintf(g->symbol, sizeof(g->symbol), "%s", c->sym);
	g->first = first;
	g->last = last;
	g->count = interval_steps(c->iv, first, last) + 1;
	if (hole) {
		g->confirmed = 1;
		g->first_seen = hole->first_seen;
		g->second_seen = hole->second_seen;
		g->runs = hole->runs;
	}
	return 0;
}

void store_gap_cut_start(struct store_gap_cut *c, const char *sym, int64_t a, int64_t b)
{
	c->sym = sym;
	c->cur = a;
	c->b = b;
}

int store_gap_cut_hole(struct store_gap_cut *c, struct store_hole hole, struct ck_err *err)
{
	if (hole.first < c->cur)
		hole.first = c->cur;
	if (hole.last > c->b)
		hole.last = c->b;
	if (hole.first > c->cur &&
	    gap_push(c, c->cur, interval_add(c->iv, hole.first, -1), NULL, err))
		return err->code;
	if (hole.last >= hole.first) {
		if (c->include_confirmed && gap_push(c, hole.first, hole.last, &hole, err))
			return err->code;
		c->cur = interval_add(c->iv, hole.last, 1);
	}
	return 0;
}

int store_gap_cut_end(struct store_gap_cut *c, struct ck_err *err)
{
	if (c->cur <= c->b && gap_push(c, c->cur, c->b, NULL, err))
		return err->code;
	return 0;
}

/* The gaps sq_gaps is building: each raw gap [a, b] is split around the confirmed
 * holes inside it (h, the holes statement). */
struct gap_walk {
	struct store *st;
	const char *interval;
	sqlite3_stmt *h;
	struct store_gap_cut c;
	struct ck_err *err;
};

static int gap_split(const char *sym, int64_t a, int64_t b, void *arg)
{
	struct gap_walk *g = arg;
	int hr;

	sqlite3_reset(g->h);
	sqlite3_bind_text(g->h, 1, sym, -1, SQLITE_TRANSIENT);
	sqlite3_bind_text(g->h, 2, g->interval, -1, SQLITE_STATIC);
	sqlite3_bind_int64(g->h, 3, a);
	sqlite3_bind_int64(g->h, 4, b);
	store_gap_cut_start(&g->c, sym, a, b);
	/* Walk the gap [a, b]: missing pieces and confirmed holes, in order. */
	while ((hr = sqlite3_step(g->h)) == SQLITE_ROW) {
		struct store_hole hole = {
			.first = sqlite3_column_int64(g->h, 0),
			.last = sqlite3_column_int64(g->h, 1),
			.first_seen = sqlite3_column_int64(g->h, 2),
			.second_seen = sqlite3_column_int64(g->h, 3),
			.runs = sqlite3_column_int64(g->h, 4),
		};
		if (store_gap_cut_hole(&g->c, hole, g->err))
			return g->err->code;
	}
	if (hr != SQLITE_DONE)
		return store_db_fail(g->st, g->err, "find gaps in");
	return store_gap_cut_end(&g->c, g->err);
}

/* Gaps: consecutive stored runs of the coverage ledger (a file without one: consecutive
 * stored candles further apart than one interval). Confirmed holes are ranges inside
 * such gaps; a gap is split around them. */
int sq_gaps(struct store *st, const char *symbol, const char *interval, int64_t interval_ms,
	    int64_t from, int64_t to, int include_confirmed, struct store_gap **out, size_t *n,
	    struct ck_err *err)
{
	sqlite3_stmt *s = NULL;
	struct gap_walk g = {st,
			     interval,
			     NULL,
			     {.iv = interval_ms, .include_confirmed = include_confirmed},
			     err};
	int rc;

	*out = NULL;
	*n = 0;
	if (interval_ms <= 0)
		return ck_err_set(err, CK_EUSAGE, "list gaps: interval must be positive");
	if (store_stmt_cached(
		    st, &g.h,
		    "SELECT first_open, last_open, first_seen, second_seen, runs FROM holes"
		    " WHERE market = ck_market() AND symbol = ?1 AND interval = ?2 AND last_open "
		    ">= ?3 AND"
		    " first_open <= ?4 AND confirmed_at > 0 ORDER BY first_open") != SQLITE_OK &&
	    /* A file a read-only open did not migrate: holes without their evidence. */
	    store_prepare_cached(
		    st, &g.h,
		    "SELECT first_open, last_open, confirmed_at, confirmed_at, 1 FROM holes"
		    " WHERE market = ck_market() AND symbol = ?1 AND interval = ?2 AND "
		    "last_open >= ?3 AND"
		    " first_open <= ?4 ORDER BY first_open",
		    err))
		return err->code;
	if (sq(st)->ledger) {
		rc = store_ledger_gaps(st, symbol, interval, interval_ms, from, to, gap_split, &g,
				       err);
		goto done;
	}
	/* Two texts rather than "(?1 IS NULL OR symbol = ?1)", which would scan every
	 * symbol's candles even when one is asked for. */
	if (store_prepare_cached(
		    st, &s,
		    symbol ? "SELECT symbol, prev, open_time FROM ("
			     " SELECT symbol, open_time, LAG(open_time) OVER"
			     "  (ORDER BY open_time) AS prev FROM candles WHERE market = "
			     "ck_market() AND symbol = ?1"
			     " AND interval = ?2 AND open_time BETWEEN ?4 AND ?5)"
			     " WHERE open_time - prev > ?3 ORDER BY open_time"
			   : "SELECT symbol, prev, open_time FROM ("
			     " SELECT symbol, open_time, LAG(open_time) OVER"
			     "  (PARTITION BY symbol ORDER BY open_time) AS prev"
			     " FROM candles WHERE market = ck_market() AND interval = ?2 AND "
			     "open_time BETWEEN ?4 AND ?5)"
			     " WHERE open_time - prev > ?3 ORDER BY symbol, open_time",
		    err)) {
		rc = err->code;
		goto done;
	}
	if (symbol)
		sqlite3_bind_text(s, 1, symbol, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 2, interval, -1, SQLITE_STATIC);
	sqlite3_bind_int64(s, 3, interval_ms);
	sqlite3_bind_int64(s, 4, from);
	sqlite3_bind_int64(s, 5, to);
	while ((rc = sqlite3_step(s)) == SQLITE_ROW)
		if (gap_split((const char *)sqlite3_column_text(s, 0),
			      interval_add(interval_ms, sqlite3_column_int64(s, 1), 1),
			      interval_add(interval_ms, sqlite3_column_int64(s, 2), -1), &g))
			break;
	if (rc == SQLITE_ROW)
		rc = err->code;
	else if (rc != SQLITE_DONE)
		rc = store_db_fail(st, err, "find gaps in");
	else
		rc = 0;
done:
	store_stmt_done(st, s);
	store_stmt_done(st, g.h);
	if (rc) {
		free(g.c.v);
		return rc;
	}
	*out = g.c.v;
	*n = g.c.len;
	return 0;
}

int sq_covered(struct store *st, const char *symbol, const char *interval, int64_t interval_ms,
	       struct store_range **out, size_t *n, struct ck_err *err)
{
	sqlite3_stmt *s = NULL;
	struct store_range *v = NULL;
	size_t len = 0, cap = 0;
	int rc;

	*out = NULL;
	*n = 0;
	/* From the ledger: its stored runs. A file without one: consecutive open times
	 * share open_time - interval * row_number; as in store_gaps, two texts so that one
	 * symbol reads only its own candles. */
	if (store_prepare_cached(
		    st, &s,
		    sq(st)->ledger ? (symbol ? "SELECT symbol, first_open, last_open, candles FROM"
					       " coverage WHERE market = ck_market() AND symbol = "
					       "?1 AND interval = ?2 AND"
					       " kind = 'stored' AND ?3 = ?3 ORDER BY first_open"
					     : "SELECT symbol, first_open, last_open, candles FROM"
					       " coverage WHERE market = ck_market() AND interval "
					       "= ?2 AND kind = 'stored'"
					       " AND ?3 = ?3 ORDER BY symbol, first_open")
		    : symbol ? "SELECT symbol, min(open_time), max(open_time), count(*) FROM ("
			       " SELECT symbol, open_time, open_time - ?3 * ROW_NUMBER() OVER"
			       "  (ORDER BY open_time) AS run"
			       " FROM candles WHERE market = ck_market() AND symbol = ?1 AND "
			       "interval = ?2)"
			       " GROUP BY run ORDER BY 2"
			     : "SELECT symbol, min(open_time), max(open_time), count(*) FROM ("
			       " SELECT symbol, open_time, open_time - ?3 * ROW_NUMBER() OVER"
			       "  (PARTITION BY symbol ORDER BY open_time) AS run"
			       " FROM candles WHERE market = ck_market() AND interval = ?2)"
			       " GROUP BY symbol, run ORDER BY 1, 2",
		    err))
		return err->code;
	if (symbol)
		sqlite3_bind_text(s, 1, symbol, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 2, interval, -1, SQLITE_STATIC);
	sqlite3_bind_int64(s, 3, interval_ms);
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		if (store_grow(&v, &cap, len, sizeof(*v), "list stored ranges", err)) {
			store_stmt_done(st, s);
			free(v);
			return err->code;
		}
		snprintf(v[len].symbol, sizeof(v[len].symbol), "%s",
			 (const char *)sqlite3_column_text(s, 0));
		v[len].first = sqlite3_column_int64(s, 1);
		v[len].last = sqlite3_column_int64(s, 2);
		v[len].count = sqlite3_column_int64(s, 3);
		len++;
	}
	if (rc != SQLITE_DONE) {
		store_db_fail(st, err, "list stored ranges in");
		store_stmt_done(st, s);
		free(v);
		return err->code;
	}
	store_stmt_done(st, s);
	*out = v;
	*n = len;
	return 0;
}

int sq_hole_get(struct store *st, const char *symbol, const char *interval, int64_t first,
		int64_t last, struct store_hole *out, struct ck_err *err)
{
	sqlite3_stmt *s = NULL;
	int rc;

	memset(out, 0, sizeof(*out));
	if (store_prepare(
		    st, &s,
		    "SELECT first_open, last_open, first_seen, first_seen_exchange, second_seen,"
		    " runs, confirmed_at FROM holes WHERE market = ck_market() AND symbol = ?1 AND "
		    "interval = ?2 AND"
		    " first_open = ?3 AND last_open = ?4",
		    err))
		return err->code;
	sqlite3_bind_text(s, 1, symbol, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 2, interval, -1, SQLITE_STATIC);
	sqlite3_bind_int64(s, 3, first);
	sqlite3_bind_int64(s, 4, last);
	rc = sqlite3_step(s);
	if (rc == SQLITE_ROW) {
		out->first = sqlite3_column_int64(s, 0);
		out->last = sqlite3_column_int64(s, 1);
		out->first_seen = sqlite3_column_int64(s, 2);
		out->first_seen_exchange = sqlite3_column_int64(s, 3);
		out->second_seen = sqlite3_column_int64(s, 4);
		out->runs = sqlite3_column_int64(s, 5);
		out->confirmed_at = sqlite3_column_int64(s, 6);
	}
	sqlite3_finalize(s);
	if (rc == SQLITE_DONE)
		return ck_err_set(err, CK_ENOTFOUND, "no hole %s %s %" PRId64 "..%" PRId64, symbol,
				  interval, first, last);
	if (rc != SQLITE_ROW)
		return store_db_fail(st, err, "read hole evidence from");
	return 0;
}

static int hole_rows(struct store *st, const char *symbol, const char *interval,
		     const struct store_hole *h, struct ck_err *err)
{
	sqlite3_stmt *s = NULL;

	if (store_prepare(st, &s,
			  "DELETE FROM holes WHERE market = ck_market() AND symbol = ?1 AND "
			  "interval = ?2 AND last_open >= ?3"
			  " AND first_open <= ?4 AND confirmed_at = 0",
			  err))
		return err->code;
	sqlite3_bind_text(s, 1, symbol, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 2, interval, -1, SQLITE_STATIC);
	sqlite3_bind_int64(s, 3, h->first);
	sqlite3_bind_int64(s, 4, h->last);
	if (store_step_done(st, s, "record exchange hole in", err))
		return err->code;
	if (store_prepare(st, &s,
			  "INSERT OR REPLACE INTO holes (market, symbol, interval, first_open,"
			  " last_open, confirmed_at, first_seen, first_seen_exchange, second_seen,"
			  " runs) VALUES (ck_market(), ?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
			  err))
		return err->code;
	sqlite3_bind_text(s, 1, symbol, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 2, interval, -1, SQLITE_STATIC);
	sqlite3_bind_int64(s, 3, h->first);
	sqlite3_bind_int64(s, 4, h->last);
	sqlite3_bind_int64(s, 5, h->confirmed_at);
	sqlite3_bind_int64(s, 6, h->first_seen);
	sqlite3_bind_int64(s, 7, h->first_seen_exchange);
	sqlite3_bind_int64(s, 8, h->second_seen);
	sqlite3_bind_int64(s, 9, h->runs);
	return store_step_done(st, s, "record exchange hole in", err);
}

/* Runs write(st, symbol, interval, arg) and then sets the ledger's hole rows of symbol
 * (NULL: every symbol) from the holes, in one transaction (the caller's if one is open). */
static int with_ledger_holes(struct store *st, const char *symbol, const char *interval,
			     int (*write)(struct store *st, const char *symbol,
					  const char *interval, void *arg, struct ck_err *err),
			     void *arg, struct ck_err *err)
{
	int own = sqlite3_get_autocommit(sq(st)->db);

	if (own && store_exec(st, "BEGIN IMMEDIATE", err))
		return err->code;
	if (write(st, symbol, interval, arg, err) ||
	    store_ledger_holes(st, symbol, interval, err) ||
	    (own && store_exec(st, "COMMIT", err))) {
		if (own)
			sqlite3_exec(sq(st)->db, "ROLLBACK", NULL, NULL, NULL);
		return err->code;
	}
	return 0;
}

static int hole_write(struct store *st, const char *symbol, const char *interval, void *arg,
		      struct ck_err *err)
{
	return hole_rows(st, symbol, interval, arg, err);
}

int sq_hole_put(struct store *st, const char *symbol, const char *interval,
		const struct store_hole *h, struct ck_err *err)
{
	struct store_hole copy = *h;

	return with_ledger_holes(st, symbol, interval, hole_write, &copy, err);
}

int sq_holes_prune(struct store *st, const char *symbol, const char *interval, struct ck_err *err)
{
	sqlite3_stmt *s = NULL;

	if (store_prepare_cached(
		    st, &s,
		    "DELETE FROM holes WHERE market = ck_market() AND symbol = ?1 AND "
		    "interval = ?2 AND confirmed_at = 0"
		    " AND EXISTS (SELECT 1 FROM candles c WHERE c.market = ck_market() AND "
		    "c.symbol = ?1 AND c.interval = ?2"
		    " AND c.open_time BETWEEN holes.first_open AND holes.last_open)",
		    err))
		return err->code;
	sqlite3_bind_text(s, 1, symbol, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 2, interval, -1, SQLITE_STATIC);
	return store_step_done(st, s, "prune the hole ledger of", err);
}

static int recheck_rows(struct store *st, const char *interval, int64_t *holes, struct ck_err *err)
{
	sqlite3_stmt *s = NULL;

	if (store_prepare(st, &s,
			  "UPDATE holes SET confirmed_at = 0, second_seen = 0 WHERE market = "
			  "ck_market() AND interval = ?1 AND"
			  " confirmed_at > 0",
			  err))
		return err->code;
	sqlite3_bind_text(s, 1, interval, -1, SQLITE_STATIC);
	if (store_step_done(st, s, "mark holes for re-verification in", err))
		return err->code;
	*holes = sqlite3_changes(sq(st)->db);
	if (store_prepare(st, &s,
			  "UPDATE symbols SET first_open = 0 WHERE market = ck_market() AND "
			  "interval = ?1",
			  err))
		return err->code;
	sqlite3_bind_text(s, 1, interval, -1, SQLITE_STATIC);
	return store_step_done(st, s, "mark symbol starts for re-verification in", err);
}

static int recheck_write(struct store *st, const char *symbol, const char *interval, void *arg,
			 struct ck_err *err)
{
	(void)symbol;
	return recheck_rows(st, interval, arg, err);
}

int sq_holes_recheck(struct store *st, const char *interval, int64_t *holes, struct ck_err *err)
{
	return with_ledger_holes(st, NULL, interval, recheck_write, holes, err);
}

int sq_symbol_get(struct store *st, const char *symbol, const char *interval,
		  struct store_symbol *out, struct ck_err *err)
{
	sqlite3_stmt *s = NULL;
	int rc;

	memset(out, 0, sizeof(*out));
	if (store_prepare_cached(st, &s,
				 "SELECT history_start, first_open FROM symbols WHERE market = "
				 "ck_market() AND symbol = ?1 AND "
				 "interval = ?2",
				 err))
		return err->code;
	sqlite3_bind_text(s, 1, symbol, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 2, interval, -1, SQLITE_STATIC);
	rc = sqlite3_step(s);
	if (rc == SQLITE_ROW) {
		out->history_start = sqlite3_column_int64(s, 0);
		out->first_open = sqlite3_column_int64(s, 1);
	}
	store_stmt_done(st, s);
	if (rc != SQLITE_ROW && rc != SQLITE_DONE)
		return store_db_fail(st, err, "read symbol state from");
	return 0;
}

int sq_symbol_put(struct store *st, const char *symbol, const char *interval,
		  const struct store_symbol *v, struct ck_err *err)
{
	sqlite3_stmt *s = NULL;

	if (store_prepare(st, &s,
			  "INSERT OR REPLACE INTO symbols (market, symbol, interval, history_start,"
			  " first_open) VALUES (ck_market(), ?1, ?2, ?3, ?4)",
			  err))
		return err->code;
	sqlite3_bind_text(s, 1, symbol, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 2, interval, -1, SQLITE_STATIC);
	sqlite3_bind_int64(s, 3, v->history_start);
	sqlite3_bind_int64(s, 4, v->first_open);
	return store_step_done(st, s, "write symbol state to", err);
}

int sq_each_candle(struct store *st, const char *symbol, const char *interval, int64_t from,
		   int64_t to, int (*fn)(const struct kline *k, void *arg), void *arg,
		   struct ck_err *err)
{
	sqlite3_stmt *s = NULL;
	int rc, ret = 0;

	if (store_prepare(
		    st, &s,
		    "SELECT open_time, open, high, low, close, volume, close_time, quote_volume,"
		    " trades, taker_buy_base, taker_buy_quote FROM candles WHERE market = "
		    "ck_market() AND symbol = ?1"
		    " AND interval = ?2 AND open_time BETWEEN ?3 AND ?4 ORDER BY open_time",
		    err))
		return err->code;
	sqlite3_bind_text(s, 1, symbol, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 2, interval, -1, SQLITE_STATIC);
	sqlite3_bind_int64(s, 3, from);
	sqlite3_bind_int64(s, 4, to);
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		struct kline k;
		read_kline(s, 0, &k);
		if ((ret = fn(&k, arg)) != 0)
			break;
	}
	if (!ret && rc != SQLITE_DONE)
		ret = store_db_fail(st, err, "read candles from");
	sqlite3_finalize(s);
	return ret;
}

static int collect_strings(struct store *st, sqlite3_stmt *s, char ***out, size_t *n,
			   struct ck_err *err)
{
	char **v = NULL;
	size_t len = 0, cap = 0;
	int rc;

	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		const char *t = (const char *)sqlite3_column_text(s, 0);
		if (store_grow(&v, &cap, len, sizeof(*v), "list symbols", err))
			goto fail;
		if (!(v[len] = strdup(t ? t : ""))) {
			ck_err_set(err, CK_ENOMEM, "list symbols: out of memory");
			goto fail;
		}
		len++;
	}
	if (rc != SQLITE_DONE) {
		store_db_fail(st, err, "read");
		goto fail;
	}
	*out = v;
	*n = len;
	return 0;
fail:
	store_symbols_free(v, len);
	return err->code;
}

int sq_symbols(struct store *st, const char *interval, char ***out, size_t *n, struct ck_err *err)
{
	sqlite3_stmt *s = NULL;
	int rc;

	*out = NULL;
	*n = 0;
	if (store_prepare(st, &s,
			  "SELECT DISTINCT symbol FROM candles WHERE market = ck_market() AND "
			  "interval = ?1 ORDER BY symbol",
			  err))
		return err->code;
	sqlite3_bind_text(s, 1, interval, -1, SQLITE_STATIC);
	rc = collect_strings(st, s, out, n, err);
	sqlite3_finalize(s);
	return rc;
}

void store_symbols_free(char **list, size_t n)
{
	size_t i;
	for (i = 0; list && i < n; i++)
		free(list[i]);
	free(list);
}

int sq_state_get(struct store *st, const char *key, char *buf, size_t size, struct ck_err *err)
{
	sqlite3_stmt *s = NULL;
	int rc;

	if (store_prepare(st, &s, "SELECT value FROM state WHERE key = ?1", err))
		return err->code;
	sqlite3_bind_text(s, 1, key, -1, SQLITE_STATIC);
	rc = sqlite3_step(s);
	if (rc == SQLITE_ROW)
		snprintf(buf, size, "%s", (const char *)sqlite3_column_text(s, 0));
	sqlite3_finalize(s);
	if (rc == SQLITE_DONE)
		return ck_err_set(err, CK_ENOTFOUND, "state %s: not set", key);
	if (rc != SQLITE_ROW)
		return store_db_fail(st, err, "read state from");
	return 0;
}

int sq_state_set(struct store *st, const char *key, const char *value, struct ck_err *err)
{
	sqlite3_stmt *s = NULL;

	if (store_prepare(st, &s, "INSERT OR REPLACE INTO state (key, value) VALUES (?1, ?2)", err))
		return err->code;
	sqlite3_bind_text(s, 1, key, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 2, value, -1, SQLITE_STATIC);
	return store_step_done(st, s, "write state to", err);
}

int sq_state_del(struct store *st, const char *key, struct ck_err *err)
{
	sqlite3_stmt *s = NULL;

	if (store_prepare(st, &s, "DELETE FROM state WHERE key = ?1", err))
		return err->code;
	sqlite3_bind_text(s, 1, key, -1, SQLITE_STATIC);
	return store_step_done(st, s, "delete state from", err);
}

/* ---- runs ---- */

static const char *const status_names[] = {"running", "ok", "partial", "failed", "timeout"};

const char *run_status_name(enum run_status s)
{
	return (unsigned)s < sizeof(status_names) / sizeof(status_names[0]) ? status_names[s]
									    : "unknown";
}

enum run_status run_status_parse(const char *s)
{
	size_t i;
	for (i = 0; s && i < sizeof(status_names) / sizeof(status_names[0]); i++)
		if (!strcmp(s, status_names[i]))
			return (enum run_status)i;
	return RUN_FAILED;
}

int sq_run_begin(struct store *st, const char *command, const char *interval, int64_t now_ms,
		 int64_t *id, struct ck_err *err)
{
	sqlite3_stmt *s = NULL;
	int rc;

	if (store_prepare(st, &s,
			  "INSERT INTO runs (command, started, status, pid, market, interval)"
			  " VALUES (?1, ?2, 'running', ?3, ck_market(), ?4)",
			  err))
		return err->code;
	sqlite3_bind_text(s, 1, command, -1, SQLITE_STATIC);
	sqlite3_bind_int64(s, 2, now_ms);
	sqlite3_bind_int64(s, 3, (int64_t)getpid());
	sqlite3_bind_text(s, 4, interval, -1, SQLITE_STATIC);
	rc = sqlite3_step(s);
	sqlite3_finalize(s);
	if (rc != SQLITE_DONE)
		return store_db_fail(st, err, "record run in");
	*id = sqlite3_last_insert_rowid(sq(st)->db);
	return 0;
}

int sq_run_abandon(struct store *st, const char *command, struct ck_err *err)
{
	sqlite3_stmt *s = NULL;

	if (store_prepare(st, &s,
			  "UPDATE runs SET status = 'failed', exit_code = -1, error = 'the process"
			  " ended before finishing this record (killed, crashed or out of disk)'"
			  " WHERE status = 'running' AND command = ?1",
			  err))
		return err->code;
	sqlite3_bind_text(s, 1, command, -1, SQLITE_STATIC);
	return store_step_done(st, s, "close abandoned runs in", err);
}

int sq_run_symbol(struct store *st, int64_t id, const char *symbol, const char *status,
		  int64_t written, int64_t revised, int64_t newest_open, const char *error,
		  struct ck_err *err)
{
	sqlite3_stmt *s = NULL;
	char masked[1024];

	if (store_prepare_cached(
		    st, &s,
		    "INSERT OR REPLACE INTO run_symbols (run_id, symbol, status, candles_written,"
		    " candles_revised, newest_open, error, market, interval)"
		    " SELECT ?1, ?2, ?3, ?4, ?5, ?6, ?7, market, interval FROM runs WHERE id = ?1",
		    err))
		return err->code;
	sqlite3_bind_int64(s, 1, id);
	sqlite3_bind_text(s, 2, symbol, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 3, status, -1, SQLITE_STATIC);
	sqlite3_bind_int64(s, 4, written);
	sqlite3_bind_int64(s, 5, revised);
	if (newest_open)
		sqlite3_bind_int64(s, 6, newest_open);
	if (error)
		sqlite3_bind_text(s, 7, redact_copy(error, masked, sizeof(masked)), -1,
				  SQLITE_TRANSIENT);
	return store_step_done(st, s, "record symbol outcome in", err);
}

int sq_run_end(struct store *st, int64_t id, enum run_status status, int exit_code, int64_t now_ms,
	       const struct run_counts *c, const char *error, struct ck_err *err)
{
	static const struct run_counts zero;
	sqlite3_stmt *s = NULL;
	char masked[1024];

	if (!c)
		c = &zero;
	if (store_prepare(
		    st, &s,
		    "UPDATE runs SET ended = ?2, status = ?3, exit_code = ?4,"
		    " candles_written = ?5, candles_revised = ?6, requests = ?7, retries = ?8,"
		    " http_429 = ?9, http_418 = ?10, http_5xx = ?11, net_errors = ?12,"
		    " symbols_ok = ?13, symbols_failed = ?14, symbols_skipped = ?15,"
		    " weight_used_max = ?16, error = ?17, server_time = ?18 WHERE id = ?1",
		    err))
		return err->code;
	sqlite3_bind_int64(s, 1, id);
	sqlite3_bind_int64(s, 2, now_ms);
	sqlite3_bind_text(s, 3, run_status_name(status), -1, SQLITE_STATIC);
	sqlite3_bind_int(s, 4, exit_code);
	sqlite3_bind_int64(s, 5, c->candles_written);
	sqlite3_bind_int64(s, 6, c->candles_revised);
	sqlite3_bind_int64(s, 7, c->requests);
	sqlite3_bind_int64(s, 8, c->retries);
	sqlite3_bind_int64(s, 9, c->http_429);
	sqlite3_bind_int64(s, 10, c->http_418);
	sqlite3_bind_int64(s, 11, c->http_5xx);
	sqlite3_bind_int64(s, 12, c->net_errors);
	sqlite3_bind_int64(s, 13, c->symbols_ok);
	sqlite3_bind_int64(s, 14, c->symbols_failed);
	sqlite3_bind_int64(s, 15, c->symbols_skipped);
	sqlite3_bind_int64(s, 16, c->weight_used_max);
	if (error) /* a record is output too: never a URL's password in it */
		sqlite3_bind_text(s, 17, redact_copy(error, masked, sizeof(masked)), -1,
				  SQLITE_TRANSIENT);
	if (c->server_time)
		sqlite3_bind_int64(s, 18, c->server_time);
	return store_step_done(st, s, "finish run record in", err);
}

int sq_runs(struct store *st, const char *command, const char *interval, int64_t since_ms,
	    size_t max, struct store_run **out, size_t *n, struct ck_err *err)
{
	sqlite3_stmt *s = NULL;
	struct store_run *v;
	size_t len = 0;
	int rc;

	*out = NULL;
	*n = 0;
	if (!max)
		return 0;
	if (!(v = calloc(max, sizeof(*v))))
		return ck_err_set(err, CK_ENOMEM, "list runs: out of memory");
	if (store_prepare(
		    st, &s,
		    "SELECT id, command, started, coalesce(ended, 0), status, coalesce(exit_code, "
		    "-1),"
		    " candles_written, candles_revised, requests, retries, http_429, http_418,"
		    " http_5xx, net_errors, symbols_ok, symbols_failed, symbols_skipped,"
		    " weight_used_max, coalesce(error, ''), coalesce(server_time, 0), market,"
		    " interval FROM runs"
		    " WHERE (?1 IS NULL OR command = ?1) AND started >= ?2"
		    " AND (?4 IS NULL OR (market = ck_market() AND interval = ?4))"
		    " ORDER BY started DESC, id DESC LIMIT ?3",
		    err)) {
		free(v);
		return err->code;
	}
	if (command)
		sqlite3_bind_text(s, 1, command, -1, SQLITE_STATIC);
	sqlite3_bind_int64(s, 2, since_ms);
	sqlite3_bind_int64(s, 3, (int64_t)max);
	if (interval)
		sqlite3_bind_text(s, 4, interval, -1, SQLITE_STATIC);
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		struct store_run *r = &v[len++];
		r->id = sqlite3_column_int64(s, 0);
		snprintf(r->command, sizeof(r->command), "%s", sqlite3_column_text(s, 1));
		r->started = sqlite3_column_int64(s, 2);
		r->ended = sqlite3_column_int64(s, 3);
		r->status = run_status_parse((const char *)sqlite3_column_text(s, 4));
		r->exit_code = sqlite3_column_int(s, 5);
		r->counts.candles_written = sqlite3_column_int64(s, 6);
		r->counts.candles_revised = sqlite3_column_int64(s, 7);
		r->counts.requests = sqlite3_column_int64(s, 8);
		r->counts.retries = sqlite3_column_int64(s, 9);
		r->counts.http_429 = sqlite3_column_int64(s, 10);
		r->counts.http_418 = sqlite3_column_int64(s, 11);
		r->counts.http_5xx = sqlite3_column_int64(s, 12);
		r->counts.net_errors = sqlite3_column_int64(s, 13);
		r->counts.symbols_ok = sqlite3_column_int64(s, 14);
		r->counts.symbols_failed = sqlite3_column_int64(s, 15);
		r->counts.symbols_skipped = sqlite3_column_int64(s, 16);
		r->counts.weight_used_max = sqlite3_column_int64(s, 17);
		snprintf(r->error, sizeof(r->error), "%s", sqlite3_column_text(s, 18));
		r->counts.server_time = sqlite3_column_int64(s, 19);
		snprintf(r->market, sizeof(r->market), "%s", sqlite3_column_text(s, 20));
		snprintf(r->interval, sizeof(r->interval), "%s", sqlite3_column_text(s, 21));
	}
	sqlite3_finalize(s);
	if (rc != SQLITE_DONE) {
		free(v);
		return store_db_fail(st, err, "read runs from");
	}
	*out = v;
	*n = len;
	return 0;
}

/* The SQLite backend (store.h says how to add another). */
const struct store_ops store_sqlite_ops = {
	.name = "sqlite",
	.version = sq_version,
	.open = sq_open,
	.close = sq_close,
	.market_set = sq_market_set,
	.tx_begin = sq_tx_begin,
	.tx_commit = sq_tx_commit,
	.tx_rollback = sq_tx_rollback,
	.put_page = sq_put_page,
	.span = sq_span,
	.gaps = sq_gaps,
	.ledger_verify = sq_ledger_verify,
	.covered = sq_covered,
	.each_candle = sq_each_candle,
	.symbols = sq_symbols,
	.count = sq_count,
	.ledger_total = sq_ledger_total,
	.hole_candles = sq_hole_candles,
	.hole_get = sq_hole_get,
	.hole_put = sq_hole_put,
	.holes_prune = sq_holes_prune,
	.holes_recheck = sq_holes_recheck,
	.symbol_get = sq_symbol_get,
	.symbol_put = sq_symbol_put,
	.state_get = sq_state_get,
	.state_set = sq_state_set,
	.state_del = sq_state_del,
	.run_begin = sq_run_begin,
	.run_abandon = sq_run_abandon,
	.run_symbol = sq_run_symbol,
	.run_end = sq_run_end,
	.runs = sq_runs,
	.run_symbols = sq_run_symbols,
	.all_run_symbols = sq_all_run_symbols,
	.sync_runs = sq_sync_runs,
	.event_add = sq_event_add,
	.events = sq_events,
	.event_count = sq_event_count,
	.alert_get = sq_alert_get,
	.alert_put = sq_alert_put,
	.alert_list = sq_alert_list,
	.outbox_get = sq_outbox_get,
	.outbox_put = sq_outbox_put,
	.outbox_live = sq_outbox_live,
	.archive_put = sq_archive_put,
	.archive_get = sq_archive_get,
	.archive_list = sq_archive_list,
	.archive_holes = sq_archive_holes,
	.backup_put = sq_backup_put,
	.backup_set_status = sq_backup_set_status,
	.backup_list = sq_backup_list,
	.metrics_runs = sq_metrics_runs,
	.metrics_durations = sq_metrics_durations,
	.metrics_series = sq_metrics_series,
	.check = sq_check,
	.pages = sq_pages,
	.salvage = sq_salvage,
};
