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

/* The VFS every connection of the store opens files through (store_vfs.c): it holds
 * "<db>.write.lock" while a connection writes or checkpoints, so one writer at a time
 * touches a database, whichever process it is in. */
const char *store_vfs_name(void);

#endif
