/* store_identity.c — which file a database is (part of the store module, called by
 * store_open): candlekeep's own (PRAGMA application_id STORE_APPLICATION_ID, or an
 * older candlekeep file with its schema but no id yet), the older design's (a table
 * ohlcv_h4(symbol, timestamp, open, high, low, close, volume) written by a Python script;
 * migrated once), or another application's (refused, never changed). And the guard
 * that no command creates a new database where a recovery is in progress.
 *
 * The older design's rows are imported as: symbol; interval '4h'; open_time =
 * timestamp in ms (a timestamp below 1e11 is read as seconds, since the older script's
 * unit is not recorded: 1e11 ms is 1973, 1e11 s is year 5138; numeric text and
 * ISO-8601 text are accepted too); open, high, low, close, volume as plain decimal text
 * (REAL values written with the fewest digits that read back as the same double);
 * close_time = open_time + 4h - 1 when the candles table requires a value, else NULL;
 * the other columns (quote_volume, trades, taker_buy_base, taker_buy_quote) NULL when
 * the table allows it, else the column's neutral value, since the schema requires one.
 * A copy of the original file is written first (<db>.older-design.<stamp>.bak). */
#include <dirent.h>
#include <errno.h>
#include <inttypes.h>
#include <libgen.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include <sqlite3.h>

#include "store.h"
#include "store_int.h"
#include "banned.h"

#define H4_MS 14400000LL

int store_guard_create(const char *path, struct ck_err *err)
{
	char marker[4200], d[4096], b[1024], q[4200];
	DIR *dir;
	struct dirent *e;
	size_t bl;
	int found = 0;

	snprintf(marker, sizeof(marker), "%s.recover", path);
	if (access(marker, F_OK) == 0)
		return ck_err_set(err, CK_ECORRUPT,
				  "open %s: a recover of this database was"
				  " interrupted (%s exists); no new database is created here: run"
				  " candlekeep recover to finish it",
				  path, marker);
	snprintf(d, sizeof(d), "%s", path);
	snprintf(b, sizeof(b), "%s", path);
	snprintf(q, sizeof(q), "%s/quarantine", dirname(d));
	if (!(dir = opendir(q)))
		return 0;
	snprintf(b, sizeof(b), "%s", basename(b));
	bl = strlen(b);
	while (!found && (e = readdir(dir)))
		found = !strncmp(e->d_name, b, bl) && e->d_name[bl] == '.';
	closedir(dir);
	if (found)
		return ck_err_set(
			err, CK_ECORRUPT,
			"open %s: the database is missing but %s holds a"
			" damaged copy of it; no new, empty database is created in its"
			" place: run candlekeep recover (it restores the newest backup and"
			" salvages the damaged copy)",
			path, q);
	return 0;
}

static int int_of(struct store *st, const char *sql, int64_t *v, struct ck_err *err)
{
	sqlite3_stmt *s = NULL;
	int rc;

	if (store_prepare(st, &s, sql, err))
		return err->code;
	rc = sqlite3_step(s);
	*v = rc == SQLITE_ROW ? sqlite3_column_int64(s, 0) : 0;
	sqlite3_finalize(s);
	if (rc != SQLITE_ROW)
		return store_db_fail(st, err, "read the schema of");
	return 0;
}

/* What the file holds: objects in its schema, a candles table, an ohlcv_h4 table. */
static int schema_of(struct store *st, int64_t *objects, int64_t *candles, int64_t *legacy,
		     struct ck_err *err)
{
	if (int_of(st, "SELECT count(*) FROM sqlite_master", objects, err) ||
	    int_of(st,
		   "SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = 'candles'",
		   candles, err) ||
	    int_of(st,
		   "SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = 'ohlcv_h4'",
		   legacy, err))
		return err->code;
	return 0;
}

/* 1 if table has every column of want (n of them, at most 16). */
static int has_columns(struct store *st, const char *table, const char *const *want, size_t n)
{
	sqlite3_stmt *s = NULL;
	struct ck_err e = {0, ""};
	unsigned seen = 0;
	size_t i;

	if (store_prepare(st, &s, "SELECT name FROM pragma_table_info(?1)", &e))
		return 0;
	sqlite3_bind_text(s, 1, table, -1, SQLITE_STATIC);
	while (sqlite3_step(s) == SQLITE_ROW) {
		const char *c = (const char *)sqlite3_column_text(s, 0);
		for (i = 0; c && i < n; i++)
			if (!strcasecmp(c, want[i]))
				seen |= 1u << i;
	}
	sqlite3_finalize(s);
	return seen == (1u << n) - 1;
}

/* candlekeep's candles table (any version) has these. */
static int candles_columns_ok(struct store *st)
{
	static const char *const want[] = {"symbol", "interval", "open_time", "open",      "high",
					   "low",    "close",    "volume",    "close_time"};
	return has_columns(st, "candles", want, sizeof(want) / sizeof(want[0]));
}

/* The older design's table must have its columns. */
static int legacy_columns_ok(struct store *st)
{
	static const char *const want[] = {"symbol", "timestamp", "open",  "high",
					   "low",    "close",     "volume"};
	return has_columns(st, "ohlcv_h4", want, sizeof(want) / sizeof(want[0]));
}

/* A copy of the older design's file before anything changes it (online backup API:
 * consistent even while its script writes). Kept if it exists (a migration that was
 * interrupted already made it). */
static int legacy_copy(struct store *st, struct ck_err *err)
{
	char path[4200];
	sqlite3 *dst = NULL;
	sqlite3_backup *bk;
	int rc;

	snprintf(path, sizeof(path), "%s.older-design.bak", st->path);
	if (access(path, F_OK) == 0)
		return 0;
	if (sqlite3_open_v2(path, &dst, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, NULL) !=
	    SQLITE_OK) {
		rc = ck_err_set(err, CK_EIO, "migrate %s: create the copy %s: %s", st->path, path,
				dst ? sqlite3_errmsg(dst) : "out of memory");
		sqlite3_close(dst);
		unlink(path);
		return rc;
	}
	if (!(bk = sqlite3_backup_init(dst, "main", sq(st)->db, "main"))) {
		rc = ck_err_set(err, CK_EIO, "migrate %s: copy to %s: %s", st->path, path,
				sqlite3_errmsg(dst));
		sqlite3_close(dst);
		unlink(path);
		return rc;
	}
	while ((rc = sqlite3_backup_step(bk, 1024)) == SQLITE_OK || rc == SQLITE_BUSY ||
	       rc == SQLITE_LOCKED)
		;
	rc = sqlite3_backup_finish(bk);
	if (rc != SQLITE_OK || sqlite3_close(dst) != SQLITE_OK) {
		rc = ck_err_set(err, CK_EIO, "migrate %s: copy to %s: %s (free disk space?)",
				st->path, path, sqlite3_errstr(rc));
		unlink(path);
		return rc;
	}
	return 0;
}

int store_identity_pre(struct store *st, struct ck_err *err)
{
	int64_t id = 0, objects = 0, candles = 0, legacy = 0;

	if (int_of(st, "PRAGMA application_id", &id, err))
		return err->code;
	if (id == STORE_APPLICATION_ID)
		return 0;
	if (id != 0)
		return ck_err_set(err, CK_EUSAGE,
				  "open %s: not a candlekeep database: its"
				  " application_id 0x%08" PRIx32 " belongs to another application;"
				  " nothing was changed (check --db or [main] db)",
				  st->path, (uint32_t)id);
	if (schema_of(st, &objects, &candles, &legacy, err))
		return err->code;
	if (!objects)
		return 0; /* a new file */
	if (candles && candles_columns_ok(st))
		return 0; /* candlekeep's, without the id yet (set by store_identity_post) */
	if (!candles && legacy && legacy_columns_ok(st)) {
		if (st->rdonly)
			return ck_err_set(
				err, CK_ENOTFOUND,
				"open %s: a database of the older design"
				" (ohlcv_h4 table): run candlekeep sync once to migrate it",
				st->path);
		/* The copy first; then the schema is created from scratch whatever
		 * user_version the older script left. */
		if (legacy_copy(st, err) || store_exec(st, "PRAGMA user_version = 0", err))
			return err->code;
		return 0;
	}
	return ck_err_set(
		err, CK_EUSAGE,
		"open %s: not a candlekeep database: it has %" PRId64
		" schema objects but no candles table of candlekeep's (another"
		" application's database?); nothing was changed (check --db or [main] db)",
		st->path, objects);
}

/* The shortest plain decimal that reads back as v (no exponent). */
static int decimal_of(double v, char *buf, size_t size)
{
	int p;

	if (!isfinite(v) || v < 0)
		return -1;
	for (p = 0; p <= 17; p++) {
		int n = snprintf(buf, size, "%.*f", p, v);
		if (n < 0 || (size_t)n >= size)
			return -1;
		if (strtod(buf, NULL) == v)
			return 0;
	}
	return 0;
}

/* Value of one older-design price/volume column as decimal text. */
static int legacy_value(sqlite3_stmt *s, int col, char *buf, size_t size)
{
	int t = sqlite3_column_type(s, col);
	if (t == SQLITE_INTEGER || t == SQLITE_FLOAT)
		return decimal_of(sqlite3_column_double(s, col), buf, size);
	if (t == SQLITE_TEXT) {
		const char *v = (const char *)sqlite3_column_text(s, col);
		char *end = NULL;
		double d = strtod(v, &end);
		size_t i, dots = 0;
		for (i = 0; v[i]; i++)
			if (v[i] == '.')
				dots++;
			else if (v[i] < '0' || v[i] > '9')
				break;
		if (!v[i] && i > 0 && dots <= 1 && strlen(v) < size) {
			snprintf(buf, size, "%s", v);
			return 0;
		}
		if (end && !*end && end != v)
			return decimal_of(d, buf, size);
	}
	return -1;
}

/* Which of the candles columns accept NULL (pragma table_info's notnull = 0). */
static int nullable(struct store *st, const char *col)
{
	sqlite3_stmt *s = NULL;
	struct ck_err e = {0, ""};
	int ok = 0;

	if (store_prepare(st, &s,
			  "SELECT \"notnull\" FROM pragma_table_info('candles') WHERE name = ?1",
			  &e))
		return 0;
	sqlite3_bind_text(s, 1, col, -1, SQLITE_STATIC);
	if (sqlite3_step(s) == SQLITE_ROW)
		ok = sqlite3_column_int(s, 0) == 0;
	sqlite3_finalize(s);
	return ok;
}

/* Inside the caller's transaction: the older design's rows into candles, its table
 * replaced by the view. */
static int legacy_import(struct store *st, int64_t *rows, struct ck_err *err)
{
	sqlite3_stmt *r = NULL, *w = NULL;
	int ct_null = nullable(st, "close_time"), qv_null = nullable(st, "quote_volume");
	int tr_null = nullable(st, "trades"), tb_null = nullable(st, "taker_buy_base");
	int tq_null = nullable(st, "taker_buy_quote");
	int rc;

	*rows = 0;
	if (store_prepare(
		    st, &r,
		    "SELECT symbol, timestamp, typeof(timestamp),"
		    " CAST(strftime('%s', timestamp) AS INTEGER), open, high, low, close, volume"
		    " FROM ohlcv_h4 ORDER BY rowid",
		    err) ||
	    store_prepare(
		    st, &w,
		    "INSERT INTO candles (symbol, interval, open_time, open, high, low, close,"
		    " volume, close_time, quote_volume, trades, taker_buy_base, taker_buy_quote)"
		    " VALUES (?1, '4h', ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12)"
		    " ON CONFLICT DO NOTHING",
		    err)) {
		sqlite3_finalize(r);
		return err->code;
	}
	while ((rc = sqlite3_step(r)) == SQLITE_ROW) {
		const char *sym = (const char *)sqlite3_column_text(r, 0);
		const char *type = (const char *)sqlite3_column_text(r, 2);
		char v[5][64];
		int64_t ts;
		int i;

		if (!strcmp(type, "integer") || !strcmp(type, "real")) {
			ts = sqlite3_column_int64(r, 1);
		} else if (!strcmp(type, "text")) {
			const char *t = (const char *)sqlite3_column_text(r, 1);
			char *end = NULL;
			ts = strtoll(t, &end, 10);
			if (!end || *end || end == t) {
				if (sqlite3_column_type(r, 3) == SQLITE_NULL)
					goto bad;
				ts = sqlite3_column_int64(r, 3) * 1000;
			}
		} else {
			goto bad;
		}
		if (ts > 0 && ts < 100000000000LL)
			ts *= 1000; /* seconds */
		if (!sym || !*sym || ts <= 0 || ts % H4_MS)
			goto bad;
		for (i = 0; i < 5; i++)
			if (legacy_value(r, 4 + i, v[i], sizeof(v[i])))
				goto bad;
		sqlite3_reset(w);
		sqlite3_clear_bindings(w);
		sqlite3_bind_text(w, 1, sym, -1, SQLITE_TRANSIENT);
		sqlite3_bind_int64(w, 2, ts);
		for (i = 0; i < 5; i++)
			sqlite3_bind_text(w, 3 + i, v[i], -1, SQLITE_TRANSIENT);
		if (!ct_null)
			sqlite3_bind_int64(w, 8, ts + H4_MS - 1);
		if (!qv_null)
			sqlite3_bind_text(w, 9, "0", -1, SQLITE_STATIC);
		if (!tr_null)
			sqlite3_bind_int64(w, 10, 0);
		if (!tb_null)
			sqlite3_bind_text(w, 11, "0", -1, SQLITE_STATIC);
		if (!tq_null)
			sqlite3_bind_text(w, 12, "0", -1, SQLITE_STATIC);
		if (sqlite3_step(w) != SQLITE_DONE) {
			store_db_fail(st, err, "migrate the older design's rows of");
			goto fail;
		}
		(*rows)++;
		continue;
	bad:
		ck_err_set(err, CK_EVALIDATE,
			   "migrate %s: ohlcv_h4 row %" PRId64 " (symbol %s,"
			   " timestamp %s) is not a 4h candle with decimal prices; nothing was"
			   " changed (the copy %s.older-design.bak is the original): fix or delete"
			   " the row and run again",
			   st->path, *rows + 1, sym ? sym : "NULL",
			   sqlite3_column_text(r, 1) ? (const char *)sqlite3_column_text(r, 1)
						     : "NULL",
			   st->path);
		goto fail;
	}
	if (rc != SQLITE_DONE) {
		store_db_fail(st, err, "read the older design's rows of");
		goto fail;
	}
	sqlite3_finalize(r);
	sqlite3_finalize(w);
	if (store_exec(st, "DROP TABLE ohlcv_h4", err) || store_exec(st, STORE_VIEW_OHLCV_H4, err))
		return err->code;
	return 0;
fail:
	sqlite3_finalize(r);
	sqlite3_finalize(w);
	return err->code;
}

int store_identity_post(struct store *st, int64_t *migrated, struct ck_err *err)
{
	int64_t id = 0, objects = 0, candles = 0, legacy = 0;
	char sql[64];

	*migrated = -1;
	if (int_of(st, "PRAGMA application_id", &id, err))
		return err->code;
	if (id == STORE_APPLICATION_ID)
		return 0;
	if (store_exec(st, "BEGIN IMMEDIATE", err))
		return err->code;
	if (schema_of(st, &objects, &candles, &legacy, err))
		goto fail;
	if (legacy && (legacy_import(st, migrated, err) || store_ledger_fill(st, "4h", err)))
		goto fail;
	snprintf(sql, sizeof(sql), "PRAGMA application_id = %d", (int)STORE_APPLICATION_ID);
	if (store_exec(st, sql, err) || store_exec(st, "COMMIT", err))
		goto fail;
	return 0;
fail:
	sqlite3_exec(sq(st)->db, "ROLLBACK", NULL, NULL, NULL);
	return err->code;
}
