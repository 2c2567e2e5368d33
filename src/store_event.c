/* store_event.c — the events table (part of the store module). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store.h"
#include "store_int.h"
#include "banned.h"

int sq_event_add(struct store *st, int64_t at_ms, const char *kind, const char *subject,
		 double value, const char *detail, struct ck_err *err)
{
	sqlite3_stmt *s = NULL;

	if (store_prepare(
		    st, &s,
		    "INSERT INTO events (at, kind, subject, value, detail) VALUES (?1,?2,?3,?4,?5)",
		    err))
		return err->code;
	sqlite3_bind_int64(s, 1, at_ms);
	sqlite3_bind_text(s, 2, kind, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 3, subject ? subject : "", -1, SQLITE_STATIC);
	sqlite3_bind_double(s, 4, value);
	if (detail)
		sqlite3_bind_text(s, 5, detail, -1, SQLITE_STATIC);
	return store_step_done(st, s, "record event in", err);
}

int sq_events(struct store *st, const char *kind, const char *subject, int64_t since_ms, size_t max,
	      struct store_event **out, size_t *n, struct ck_err *err)
{
	sqlite3_stmt *s = NULL;
	struct store_event *v;
	size_t len = 0;
	int rc;

	*out = NULL;
	*n = 0;
	if (!max)
		return 0;
	if (!(v = calloc(max, sizeof(*v))))
		return ck_err_set(err, CK_ENOMEM, "list events: out of memory");
	if (store_prepare(st, &s,
			  "SELECT id, at, kind, subject, value, coalesce(detail, '') FROM events"
			  " WHERE kind = ?1 AND (?2 IS NULL OR subject = ?2) AND at >= ?3"
			  " ORDER BY at DESC, id DESC LIMIT ?4",
			  err)) {
		free(v);
		return err->code;
	}
	sqlite3_bind_text(s, 1, kind, -1, SQLITE_STATIC);
	if (subject)
		sqlite3_bind_text(s, 2, subject, -1, SQLITE_STATIC);
	sqlite3_bind_int64(s, 3, since_ms);
	sqlite3_bind_int64(s, 4, (int64_t)max);
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		struct store_event *e = &v[len++];
		e->id = sqlite3_column_int64(s, 0);
		e->at = sqlite3_column_int64(s, 1);
		snprintf(e->kind, sizeof(e->kind), "%s", sqlite3_column_text(s, 2));
		snprintf(e->subject, sizeof(e->subject), "%s", sqlite3_column_text(s, 3));
		e->value = sqlite3_column_double(s, 4);
		snprintf(e->detail, sizeof(e->detail), "%s", sqlite3_column_text(s, 5));
	}
	sqlite3_finalize(s);
	if (rc != SQLITE_DONE) {
		free(v);
		return store_db_fail(st, err, "read events from");
	}
	*out = v;
	*n = len;
	return 0;
}

int sq_event_count(struct store *st, const char *kind, const char *subject, int64_t *count,
		   struct ck_err *err)
{
	sqlite3_stmt *s = NULL;
	int rc;

	if (store_prepare(
		    st, &s,
		    "SELECT count(*) FROM events WHERE kind = ?1 AND (?2 IS NULL OR subject = ?2)",
		    err))
		return err->code;
	sqlite3_bind_text(s, 1, kind, -1, SQLITE_STATIC);
	if (subject)
		sqlite3_bind_text(s, 2, subject, -1, SQLITE_STATIC);
	rc = sqlite3_step(s);
	*count = rc == SQLITE_ROW ? sqlite3_column_int64(s, 0) : 0;
	sqlite3_finalize(s);
	if (rc != SQLITE_ROW)
		return store_db_fail(st, err, "count events in");
	return 0;
}
