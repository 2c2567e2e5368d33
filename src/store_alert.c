/* store_alert.c — the alerts table (see store_alert.h). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sqlite3.h>

#include "store.h"
#include "store_alert.h"
#include "store_int.h"
#include "banned.h"

#define ALERT_COLS "key, severity, state, coalesce(summary, ''), first_at, last_sent, sends, failures"
#define ALERT_COLS_PLAIN "key, severity, state, summary, first_at, last_sent, sends, failures"

static void row_read(sqlite3_stmt *s, struct store_alert *a)
{
	memset(a, 0, sizeof(*a));
	snprintf(a->key, sizeof(a->key), "%s", sqlite3_column_text(s, 0));
	snprintf(a->severity, sizeof(a->severity), "%s", sqlite3_column_text(s, 1));
	snprintf(a->state, sizeof(a->state), "%s", sqlite3_column_text(s, 2));
	snprintf(a->summary, sizeof(a->summary), "%s", sqlite3_column_text(s, 3));
	a->first_at = sqlite3_column_int64(s, 4);
	a->last_sent = sqlite3_column_int64(s, 5);
	a->sends = sqlite3_column_int64(s, 6);
	a->failures = sqlite3_column_int64(s, 7);
}

int store_alert_get(struct store *st, const char *key, struct store_alert *out,
		    struct ck_err *err)
{
	sqlite3_stmt *s = NULL;
	int rc;

	if (store_prepare(st, &s, "SELECT " ALERT_COLS " FROM alerts WHERE key = ?1", err))
		return err->code;
	sqlite3_bind_text(s, 1, key, -1, SQLITE_STATIC);
	rc = sqlite3_step(s);
	if (rc == SQLITE_ROW)
		row_read(s, out);
	sqlite3_finalize(s);
	if (rc == SQLITE_DONE)
		return ck_err_set(err, CK_ENOTFOUND, "alert %s: no such alert", key);
	if (rc != SQLITE_ROW)
		return store_db_fail(st, err, "read alert state from");
	return 0;
}

int store_alert_put(struct store *st, const struct store_alert *a, struct ck_err *err)
{
	sqlite3_stmt *s = NULL;
	int rc;

	if (store_prepare(st, &s,
		    "INSERT OR REPLACE INTO alerts (" ALERT_COLS_PLAIN ") VALUES (?1,?2,?3,?4,?5,?6,?7,?8)",
		    err))
		return err->code;
	sqlite3_bind_text(s, 1, a->key, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 2, a->severity, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 3, a->state, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 4, a->summary, -1, SQLITE_STATIC);
	sqlite3_bind_int64(s, 5, a->first_at);
	sqlite3_bind_int64(s, 6, a->last_sent);
	sqlite3_bind_int64(s, 7, a->sends);
	sqlite3_bind_int64(s, 8, a->failures);
	rc = sqlite3_step(s);
	sqlite3_finalize(s);
	if (rc != SQLITE_DONE)
		return store_db_fail(st, err, "write alert state to");
	return 0;
}

int store_alert_list(struct store *st, struct store_alert **out, size_t *n, struct ck_err *err)
{
	sqlite3_stmt *s = NULL;
	struct store_alert *v = NULL;
	size_t len = 0, cap = 0;
	int rc;

	*out = NULL;
	*n = 0;
	if (store_prepare(st, &s,
		    "SELECT " ALERT_COLS " FROM alerts ORDER BY state != 'firing', key", err))
		return err->code;
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		if (len == cap) {
			size_t nc = cap ? cap * 2 : 16;
			struct store_alert *nv = realloc(v, nc * sizeof(*v));
			if (!nv) {
				sqlite3_finalize(s);
				free(v);
				return ck_err_set(err, CK_ENOMEM, "list alerts: out of memory");
			}
			v = nv;
			cap = nc;
		}
		row_read(s, &v[len++]);
	}
	sqlite3_finalize(s);
	if (rc != SQLITE_DONE) {
		free(v);
		return store_db_fail(st, err, "list alerts in");
	}
	*out = v;
	*n = len;
	return 0;
}
