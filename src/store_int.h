/* store_int.h — private to the store module (store*.c): the handle's members and the
 * helpers every store file uses. Nothing outside src/store*.c includes this. */
#ifndef CK_STORE_INT_H
#define CK_STORE_INT_H

#include <sqlite3.h>

#include "err.h"

struct store {
	sqlite3 *db;
	char *path;
	int rdonly;
	sqlite3_stmt *put, *get_one; /* cached for store_put_page */
};

/* Fills err from SQLite's last error on st (code mapped: corrupt → CK_ECORRUPT, full →
 * CK_EFULL, ...), "<what> <path>: <sqlite message> (<what to do>)"; returns the code. */
int store_db_fail(struct store *st, struct ck_err *err, const char *what);
int store_exec(struct store *st, const char *sql, struct ck_err *err);
/* Steps a write statement once, then finalizes it: 0 on SQLITE_DONE, else the
 * store_db_fail code ("<what> <path>: ..."). */
int store_step_done(struct store *st, sqlite3_stmt *s, const char *what, struct ck_err *err);
int store_prepare(struct store *st, sqlite3_stmt **s, const char *sql, struct ck_err *err);

/* The older design's table, as a view over the 4h candles, so its scripts and queries
 * keep working: timestamp is the candle's open time in ms, prices as REAL. */
#define STORE_VIEW_OHLCV_H4                                                              \
	"CREATE VIEW IF NOT EXISTS ohlcv_h4 AS SELECT symbol, open_time AS timestamp,"   \
	" CAST(open AS REAL) AS open, CAST(high AS REAL) AS high,"                      \
	" CAST(low AS REAL) AS low, CAST(close AS REAL) AS close,"                      \
	" CAST(volume AS REAL) AS volume FROM candles WHERE interval = '4h';"

/* store_identity.c, for store_open. Refuses to create a database at path while a
 * recover marker or a quarantined copy says one existed there (CK_ECORRUPT, "run
 * candlekeep recover"). */
int store_guard_create(const char *path, struct ck_err *err);
/* Before anything writes: refuses another application's file (CK_EUSAGE, nothing
 * changed); for a database of the older design, writes the copy of the original. */
int store_identity_pre(struct store *st, struct ck_err *err);
/* After the schema is up to date: imports the older design's table (then replaced by
 * the view; *migrated = rows imported, -1 when there was none) and sets the
 * application_id, in one transaction. */
int store_identity_post(struct store *st, int64_t *migrated, struct ck_err *err);

/* The VFS every connection of the store opens files through (store_vfs.c): it holds
 * "<db>.write.lock" while a connection writes or checkpoints, so one writer at a time
 * touches a database, whichever process it is in. */
const char *store_vfs_name(void);

#endif
