/* store_archive.c — see store_archive.h. */
#include <stdio.h>
#include <string.h>

#include <sqlite3.h>

#include "store_archive.h"
#include "store_int.h"
#include "banned.h"

const char *const store_archive_schema_v3 =
	"CREATE TABLE IF NOT EXISTS archive_files ("
	" name TEXT PRIMARY KEY, sha256 TEXT NOT NULL, rows INTEGER NOT NULL,"
	" read_at INTEGER NOT NULL) WITHOUT ROWID;";

int store_archive_put(struct store *st, const char *name, const char *sha256, int64_t rows,
		      int64_t at_ms, struct ck_err *err)
{
	sqlite3_stmt *s = NULL;
	if (store_prepare(st, &s,
			  "INSERT OR REPLACE INTO archive_files (name, sha256, rows, read_at)"
			  " VALUES (?1, ?2, ?3, ?4)",
			  err))
		return err->code;
	sqlite3_bind_text(s, 1, name, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 2, sha256, -1, SQLITE_STATIC);
	sqlite3_bind_int64(s, 3, rows);
	sqlite3_bind_int64(s, 4, at_ms);
	return store_step_done(st, s, "catalogue an archive file", err);
}

int store_archive_get(struct store *st, const char *name, char sha256[65], int *found,
		      struct ck_err *err)
{
	sqlite3_stmt *s = NULL;
	int rc;
	*found = 0;
	sha256[0] = 0;
	if (store_prepare(st, &s, "SELECT sha256 FROM archive_files WHERE name = ?1", err))
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
