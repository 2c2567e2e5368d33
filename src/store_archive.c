/* store_archive.c — the SQLite backend's archive catalogue (see store_archive.h; reached
 * through the dispatchers in store_ops.c). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sqlite3.h>

#include "store_archive.h"
#include "store_int.h"
#include "banned.h"

const char *const store_archive_schema_v3 =
	"CREATE TABLE IF NOT EXISTS archive_files ("
	" name TEXT PRIMARY KEY, sha256 TEXT NOT NULL, rows INTEGER NOT NULL,"
	" read_at INTEGER NOT NULL) WITHOUT ROWID;";

int sq_archive_put(struct store *st, const char *name, const char *sha256, int64_t rows,
		   int64_t at_ms, struct ck_err *err)
{
	sqlite3_stmt *s = NULL;
	if (store_prepare_cached(st, &s,
				 "INSERT OR REPLACE INTO archive_files (market, name, sha256, rows,"
				 " read_at) VALUES (ck_market(), ?1, ?2, ?3, ?4)",
				 err))
		return err->code;
	sqlite3_bind_text(s, 1, name, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 2, sha256, -1, SQLITE_STATIC);
	sqlite3_bind_int64(s, 3, rows);
	sqlite3_bind_int64(s, 4, at_ms);
	return store_step_done(st, s, "catalogue an archive file", err);
}

int sq_archive_get(struct store *st, const char *name, char sha256[65], int *found,
		   struct ck_err *err)
{
	sqlite3_stmt *s = NULL;
	int rc;
	*found = 0;
	sha256[0] = 0;
	if (store_prepare(st, &s,
			  "SELECT sha256 FROM archive_files WHERE market = ck_market() AND"
			  " name = ?1",
			  err))
		return err->code;
	sqlite3_bind_text(s, 1, name, -1, SQLITE_STATIC);
	rc = sqlite3_step(s);
	if (rc == SQLITE_ROW) {
		const unsigned char *t = sqlite3_column_text(s, 0);
		snprintf(sha256, 65, "%s", t ? (const char *)t : "");
		*found = 1;
	}
	sqlite3_finalize(s);
	if (rc != SQLITE_ROW && rc != SQLITE_DONE)
		return store_db_fail(st, err, "read the archive catalogue");
	return 0;
}

int sq_archive_list(struct store *st, const char *symbol, const char *interval,
		    struct store_archive_file **out, size_t *n, struct ck_err *err)
{
	sqlite3_stmt *s = NULL;
	struct store_archive_file *v = NULL;
	size_t cap = 0;
	char prefix[96];
	int rc;

	*out = NULL;
	*n = 0;
	snprintf(prefix, sizeof(prefix), "%s-%s-", symbol, interval);
	if (store_prepare(st, &s,
			  "SELECT name, sha256 FROM archive_files WHERE market = ck_market() AND"
			  " substr(name, 1, length(?1)) = ?1 ORDER BY name",
			  err))
		return err->code;
	sqlite3_bind_text(s, 1, prefix, -1, SQLITE_STATIC);
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		if (*n == cap) {
			size_t nc = cap ? cap * 2 : 64;
			struct store_archive_file *nv = realloc(v, nc * sizeof(*nv));
			if (!nv) {
				sqlite3_finalize(s);
				free(v);
				return ck_err_set(err, CK_ENOMEM,
						  "archive catalogue: out of memory");
			}
			v = nv;
			cap = nc;
		}
		snprintf(v[*n].name, sizeof(v[*n].name), "%s",
			 (const char *)sqlite3_column_text(s, 0));
		snprintf(v[*n].sha256, sizeof(v[*n].sha256), "%s",
			 (const char *)sqlite3_column_text(s, 1));
		(*n)++;
	}
	sqlite3_finalize(s);
	if (rc != SQLITE_DONE) {
		free(v);
		*n = 0;
		return store_db_fail(st, err, "read the archive catalogue");
	}
	*out = v;
	return 0;
}

int sq_archive_holes(struct store *st, const char *symbol, const char *interval, int64_t from,
		     int64_t to, struct store_range **out, size_t *n, struct ck_err *err)
{
	sqlite3_stmt *s = NULL;
	struct store_range *v = NULL;
	size_t cap = 0;
	int rc;

	*out = NULL;
	*n = 0;
	if (store_prepare_cached(
		    st, &s,
		    "SELECT first_open, last_open FROM holes WHERE market = ck_market() AND "
		    "symbol = ?1 AND"
		    " interval = ?2 AND last_open >= ?3 AND first_open <= ?4"
		    " ORDER BY first_open",
		    err))
		return err->code;
	sqlite3_bind_text(s, 1, symbol, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 2, interval, -1, SQLITE_STATIC);
	sqlite3_bind_int64(s, 3, from);
	sqlite3_bind_int64(s, 4, to);
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		if (store_grow(&v, &cap, *n, sizeof(*v), "read the exchange's holes", err)) {
			store_stmt_done(st, s);
			free(v);
			*n = 0;
			return err->code;
		}
		memset(&v[*n], 0, sizeof(v[*n]));
		snprintf(v[*n].symbol, sizeof(v[*n].symbol), "%s", symbol);
		v[*n].first = sqlite3_column_int64(s, 0);
		v[*n].last = sqlite3_column_int64(s, 1);
		(*n)++;
	}
	store_stmt_done(st, s);
	if (rc != SQLITE_DONE) {
		free(v);
		*n = 0;
		return store_db_fail(st, err, "read the exchange's holes from");
	}
	*out = v;
	return 0;
}
