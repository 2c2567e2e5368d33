/* store_alert.c — the alerts table and the alert outbox (see store_alert.h). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sqlite3.h>

#include "store.h"
#include "store_alert.h"
#include "store_int.h"
#include "banned.h"

#define ALERT_COLS                                                                                 \
	"key, severity, state, coalesce(summary, ''), first_at, last_sent, sends, "                \
	"failures, coalesce(detail, '')"
#define ALERT_COLS_PLAIN                                                                           \
	"key, severity, state, summary, first_at, last_sent, sends, failures, "                    \
	"detail"
#define OUTBOX_COLS                                                                                \
	"key, channel, state, delivered, last_sent, attempts, next_at, "                           \
	"claimed_until, claimed_by, sends, failures, coalesce(error, '')"
#define OUTBOX_COLS_PLAIN                                                                          \
	"key, channel, state, delivered, last_sent, attempts, next_at, "                           \
	"claimed_until, claimed_by, sends, failures, error"

static void text_col(sqlite3_stmt *s, int i, char *dst, size_t size)
{
	const unsigned char *t = sqlite3_column_text(s, i);
	snprintf(dst, size, "%s", t ? (const char *)t : "");
}

static void row_read(sqlite3_stmt *s, struct store_alert *a)
{
	memset(a, 0, sizeof(*a));
	text_col(s, 0, a->key, sizeof(a->key));
	text_col(s, 1, a->severity, sizeof(a->severity));
	text_col(s, 2, a->state, sizeof(a->state));
	text_col(s, 3, a->summary, sizeof(a->summary));
	a->first_at = sqlite3_column_int64(s, 4);
	a->last_sent = sqlite3_column_int64(s, 5);
	a->sends = sqlite3_column_int64(s, 6);
	a->failures = sqlite3_column_int64(s, 7);
	text_col(s, 8, a->detail, sizeof(a->detail));
}

int sq_alert_get(struct store *st, const char *key, struct store_alert *out, struct ck_err *err)
{
	sqlite3_stmt *s = NULL;
	int rc;

	if (store_prepare(st, &s, "SELECT " ALERT_COLS " FROM alerts WHERE key = ?1", err))
		return err->code;
	sqlite3_bind_text(s, 1, key, -1, SQLITE_STATIC);
	rc = sqlite3_step(s);
	if (rc == SQLITE_ROW)
		row_read(s, out);
	if (rc != SQLITE_ROW && rc != SQLITE_DONE) {
		rc = store_db_fail(st, err, "read alert state from");
		sqlite3_finalize(s);
		return rc;
	}
	sqlite3_finalize(s);
	if (rc == SQLITE_DONE)
		return ck_err_set(err, CK_ENOTFOUND, "alert %s: no such alert", key);
	return 0;
}

int sq_alert_put(struct store *st, const struct store_alert *a, struct ck_err *err)
{
	sqlite3_stmt *s = NULL;

	if (store_prepare(st, &s,
			  "INSERT OR REPLACE INTO alerts (" ALERT_COLS_PLAIN
			  ") VALUES (?1,?2,?3,?4,?5,?6,?7,?8,?9)",
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
	sqlite3_bind_text(s, 9, a->detail, -1, SQLITE_STATIC);
	return store_step_done(st, s, "write alert state to", err);
}

int sq_alert_list(struct store *st, struct store_alert **out, size_t *n, struct ck_err *err)
{
	sqlite3_stmt *s = NULL;
	struct store_alert *v = NULL;
	size_t len = 0, cap = 0;
	int rc;

	*out = NULL;
	*n = 0;
	/* Without detail: metrics reads this list read-only, possibly from a database an
	 * older version wrote (schema 1, no detail column) that nothing has migrated yet. */
	if (store_prepare(st, &s,
			  "SELECT key, severity, state, coalesce(summary, ''), first_at, "
			  "last_sent, sends,"
			  " failures, '' FROM alerts ORDER BY state != 'firing', key",
			  err))
		return err->code;
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		if (store_grow(&v, &cap, len, sizeof(*v), "list alerts", err)) {
			sqlite3_finalize(s);
			free(v);
			return err->code;
		}
		row_read(s, &v[len++]);
	}
	if (rc != SQLITE_DONE) {
		rc = store_db_fail(st, err, "list alerts in");
		sqlite3_finalize(s);
		free(v);
		return rc;
	}
	sqlite3_finalize(s);
	*out = v;
	*n = len;
	return 0;
}

/* ---- the outbox ---- */

static void outbox_read(sqlite3_stmt *s, struct store_outbox *o)
{
	memset(o, 0, sizeof(*o));
	text_col(s, 0, o->key, sizeof(o->key));
	text_col(s, 1, o->channel, sizeof(o->channel));
	text_col(s, 2, o->state, sizeof(o->state));
	text_col(s, 3, o->delivered, sizeof(o->delivered));
	o->last_sent = sqlite3_column_int64(s, 4);
	o->attempts = sqlite3_column_int64(s, 5);
	o->next_at = sqlite3_column_int64(s, 6);
	o->claimed_until = sqlite3_column_int64(s, 7);
	o->claimed_by = sqlite3_column_int64(s, 8);
	o->sends = sqlite3_column_int64(s, 9);
	o->failures = sqlite3_column_int64(s, 10);
	text_col(s, 11, o->error, sizeof(o->error));
}

int sq_outbox_get(struct store *st, const char *key, const char *channel, struct store_outbox *out,
		  struct ck_err *err)
{
	sqlite3_stmt *s = NULL;
	int rc;

	if (store_prepare(st, &s,
			  "SELECT " OUTBOX_COLS " FROM alert_outbox WHERE key = ?1 AND "
			  "channel = ?2",
			  err))
		return err->code;
	sqlite3_bind_text(s, 1, key, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 2, channel, -1, SQLITE_STATIC);
	rc = sqlite3_step(s);
	if (rc == SQLITE_ROW)
		outbox_read(s, out);
	if (rc != SQLITE_ROW && rc != SQLITE_DONE) {
		rc = store_db_fail(st, err, "read the alert outbox of");
		sqlite3_finalize(s);
		return rc;
	}
	sqlite3_finalize(s);
	if (rc == SQLITE_DONE)
		return ck_err_set(err, CK_ENOTFOUND, "alert %s: nothing queued for %s", key,
				  channel);
	return 0;
}

int sq_outbox_put(struct store *st, const struct store_outbox *o, struct ck_err *err)
{
	sqlite3_stmt *s = NULL;

	if (store_prepare(st, &s,
			  "INSERT OR REPLACE INTO alert_outbox (" OUTBOX_COLS_PLAIN ") "
			  "VALUES (?1,?2,?3,?4,?5,?6,?7,?8,?9,?10,?11,?12)",
			  err))
		return err->code;
	sqlite3_bind_text(s, 1, o->key, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 2, o->channel, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 3, o->state, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 4, o->delivered, -1, SQLITE_STATIC);
	sqlite3_bind_int64(s, 5, o->last_sent);
	sqlite3_bind_int64(s, 6, o->attempts);
	sqlite3_bind_int64(s, 7, o->next_at);
	sqlite3_bind_int64(s, 8, o->claimed_until);
	sqlite3_bind_int64(s, 9, o->claimed_by);
	sqlite3_bind_int64(s, 10, o->sends);
	sqlite3_bind_int64(s, 11, o->failures);
	if (o->error[0])
		sqlite3_bind_text(s, 12, o->error, -1, SQLITE_STATIC);
	else
		sqlite3_bind_null(s, 12);
	return store_step_done(st, s, "write the alert outbox of", err);
}

int sq_outbox_live(struct store *st, struct store_outbox **out, size_t *n, struct ck_err *err)
{
	sqlite3_stmt *s = NULL;
	struct store_outbox *v = NULL;
	size_t len = 0, cap = 0;
	int rc;

	*out = NULL;
	*n = 0;
	if (store_prepare(st, &s,
			  "SELECT " OUTBOX_COLS " FROM alert_outbox WHERE delivered != ''"
			  " OR key IN (SELECT key FROM alerts WHERE state = 'firing')"
			  " ORDER BY key, channel",
			  err))
		return err->code;
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		if (store_grow(&v, &cap, len, sizeof(*v), "read the alert outbox", err)) {
			sqlite3_finalize(s);
			free(v);
			return err->code;
		}
		outbox_read(s, &v[len++]);
	}
	if (rc != SQLITE_DONE) {
		rc = store_db_fail(st, err, "read the alert outbox of");
		sqlite3_finalize(s);
		free(v);
		return rc;
	}
	sqlite3_finalize(s);
	*out = v;
	*n = len;
	return 0;
}
