/* store_health.c — read-only queries for health and audit (see store_health.h). */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "interval.h"
#include "store.h"
#include "store_health.h"
#include "store_int.h"
#include "utc.h"
#include "banned.h"

static const char *col_text(sqlite3_stmt *s, int i)
{
	const unsigned char *t = sqlite3_column_text(s, i);
	return t ? (const char *)t : "";
}

int sq_hole_candles(struct store *st, const char *symbol, const char *interval, int64_t interval_ms,
		    int64_t from, int64_t to, int64_t *count, struct ck_err *err)
{
	sqlite3_stmt *s = NULL;
	int rc;

	*count = 0;
	if (interval_ms <= 0)
		return ck_err_set(err, CK_EUSAGE, "count holes: interval must be positive");
	if (store_prepare(st, &s,
			  "SELECT max(first_open, ?3), min(last_open, ?4) FROM holes"
			  " WHERE market = ck_market() AND symbol = ?1 AND interval = ?2"
			  " AND last_open >= ?3 AND first_open <= ?4"
			  " AND confirmed_at > 0", /* suspected holes are still missing */
			  err))
		return err->code;
	sqlite3_bind_text(s, 1, symbol, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 2, interval, -1, SQLITE_STATIC);
	sqlite3_bind_int64(s, 3, from);
	sqlite3_bind_int64(s, 4, to);
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		int64_t a = sqlite3_column_int64(s, 0), b = sqlite3_column_int64(s, 1);
		/* Hole bounds are candle open times; count the aligned ones in [a, b]. */
		int64_t first = interval_ceil(interval_ms, a);
		if (b >= first)
			*count += interval_steps(interval_ms, first, b) + 1;
	}
	sqlite3_finalize(s);
	if (rc != SQLITE_DONE)
		return store_db_fail(st, err, "read holes from");
	return 0;
}

static int run_symbols_query(struct store *st, const char *sql, int64_t arg,
			     struct store_run_symbol **out, size_t *n, struct ck_err *err)
{
	sqlite3_stmt *s = NULL;
	struct store_run_symbol *v = NULL;
	size_t len = 0, cap = 0;
	int rc;

	*out = NULL;
	*n = 0;
	if (store_prepare(st, &s, sql, err))
		return err->code;
	sqlite3_bind_int64(s, 1, arg);
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		if (store_grow(&v, &cap, len, sizeof(*v), "read run symbols", err))
			goto fail;
		struct store_run_symbol *r = &v[len++];
		r->run_id = sqlite3_column_int64(s, 0);
		snprintf(r->symbol, sizeof(r->symbol), "%s", col_text(s, 1));
		snprintf(r->status, sizeof(r->status), "%s", col_text(s, 2));
		r->newest_open = sqlite3_column_int64(s, 3);
		snprintf(r->error, sizeof(r->error), "%s", col_text(s, 4));
	}
	if (rc != SQLITE_DONE) {
		store_db_fail(st, err, "read run symbols from");
		goto fail;
	}
	sqlite3_finalize(s);
	*out = v;
	*n = len;
	return 0;
fail:
	sqlite3_finalize(s);
	free(v);
	return err->code;
}

int sq_run_symbols(struct store *st, int64_t run_id, struct store_run_symbol **out, size_t *n,
		   struct ck_err *err)
{
	return run_symbols_query(
		st,
		"SELECT run_id, symbol, status, coalesce(newest_open, 0),"
		" coalesce(error, '') FROM run_symbols WHERE run_id = ?1 ORDER BY symbol",
		run_id, out, n, err);
}

int sq_all_run_symbols(struct store *st, int64_t min_run_id, struct store_run_symbol **out,
		       size_t *n, struct ck_err *err)
{
	return run_symbols_query(
		st,
		"SELECT s.run_id, s.symbol, s.status, coalesce(s.newest_open, 0),"
		" coalesce(s.error, '') FROM run_symbols s JOIN runs r ON r.id = s.run_id"
		" WHERE s.run_id >= ?1 AND r.command IN ('sync', 'backfill')"
		" ORDER BY s.run_id, s.symbol",
		min_run_id, out, n, err);
}

int sq_sync_runs(struct store *st, struct store_sync_run **out, size_t *n, struct ck_err *err)
{
	sqlite3_stmt *s = NULL;
	struct store_sync_run *v = NULL;
	size_t len = 0, cap = 0;
	int rc;

	*out = NULL;
	*n = 0;
	if (store_prepare(st, &s,
			  "SELECT r.id, r.command, r.started, coalesce(r.ended, 0), r.status,"
			  " coalesce(r.server_time, 0), coalesce(r.error, ''), r.market, r.interval"
			  " FROM runs r WHERE r.command IN ('sync', 'backfill') ORDER BY r.id",
			  err))
		return err->code;
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		if (store_grow(&v, &cap, len, sizeof(*v), "read runs", err))
			goto fail;
		struct store_sync_run *r = &v[len++];
		memset(r, 0, sizeof(*r));
		r->id = sqlite3_column_int64(s, 0);
		snprintf(r->command, sizeof(r->command), "%s", col_text(s, 1));
		r->started = sqlite3_column_int64(s, 2);
		r->ended = sqlite3_column_int64(s, 3);
		r->status = run_status_parse(col_text(s, 4));
		r->server_time = sqlite3_column_int64(s, 5);
		snprintf(r->error, sizeof(r->error), "%s", col_text(s, 6));
		snprintf(r->market, sizeof(r->market), "%s", col_text(s, 7));
		snprintf(r->interval, sizeof(r->interval), "%s", col_text(s, 8));
	}
	if (rc != SQLITE_DONE) {
		store_db_fail(st, err, "read runs from");
		goto fail;
	}
	sqlite3_finalize(s);
	*out = v;
	*n = len;
	return 0;
fail:
	sqlite3_finalize(s);
	free(v);
	return err->code;
}

/* A watchdog thread that calls sqlite3_interrupt when a budget runs out: the progress
 * handler is not called inside a single long opcode (PRAGMA quick_check, count(*)),
 * sqlite3_interrupt is honoured there. */
struct watchdog {
	sqlite3 *db;
	int64_t budget_ms;
	int done;
	pthread_mutex_t mu;
	pthread_cond_t cv;
	pthread_t thread;
	int started;
};

static void *watchdog_main(void *arg)
{
	struct watchdog *w = arg;
	struct timespec until;

	clock_gettime(CLOCK_REALTIME, &until);
	until.tv_sec += (time_t)(w->budget_ms / 1000);
	until.tv_nsec += (long)(w->budget_ms % 1000) * 1000000L;
	if (until.tv_nsec >= 1000000000L) {
		until.tv_sec++;
		until.tv_nsec -= 1000000000L;
	}
	pthread_mutex_lock(&w->mu);
	while (!w->done)
		if (pthread_cond_timedwait(&w->cv, &w->mu, &until) == ETIMEDOUT)
			break;
	if (!w->done)
		sqlite3_interrupt(w->db);
	pthread_mutex_unlock(&w->mu);
	return NULL;
}

static void watchdog_start(struct watchdog *w, sqlite3 *db, int64_t budget_ms)
{
	memset(w, 0, sizeof(*w));
	w->db = db;
	w->budget_ms = budget_ms;
	if (budget_ms <= 0)
		return;
	pthread_mutex_init(&w->mu, NULL);
	pthread_cond_init(&w->cv, NULL);
	/* Without a thread the statement simply runs unbounded. */
	w->started = pthread_create(&w->thread, NULL, watchdog_main, w) == 0;
	if (!w->started) {
		pthread_cond_destroy(&w->cv);
		pthread_mutex_destroy(&w->mu);
	}
}

static void watchdog_stop(struct watchdog *w)
{
	if (!w->started)
		return;
	pthread_mutex_lock(&w->mu);
	w->done = 1;
	pthread_cond_signal(&w->cv);
	pthread_mutex_unlock(&w->mu);
	pthread_join(w->thread, NULL);
	pthread_cond_destroy(&w->cv);
	pthread_mutex_destroy(&w->mu);
}

int sq_check(struct store *st, int full, int64_t budget_ms, int *ok, int *finished, char *detail,
	     size_t size, struct ck_err *err)
{
	sqlite3_stmt *s = NULL;
	struct watchdog w;
	int rc, fin = 0;

	if (!finished)
		finished = &fin;
	*ok = 0;
	*finished = 0;
	if (size)
		detail[0] = 0;
	if (store_prepare(st, &s, full ? "PRAGMA integrity_check(1)" : "PRAGMA quick_check(1)",
			  err))
		return err->code;
	watchdog_start(&w, sq(st)->db, budget_ms);
	rc = sqlite3_step(s);
	watchdog_stop(&w);
	if (rc == SQLITE_ROW) {
		const char *t = col_text(s, 0);
		*finished = 1;
		*ok = !strcmp(t, "ok");
		/* One line: drop the "*** in database main ***" banner, join the rest. */
		if (!strncmp(t, "*** in database main ***", 24))
			t += 24;
		while (*t == '\n' || *t == ' ')
			t++;
		snprintf(detail, size, "%s", t);
		for (char *p = detail; *p; p++)
			if (*p == '\n' || *p == '\r')
				*p = ' ';
	} else if ((rc & 0xff) == SQLITE_INTERRUPT) {
		*finished = 0;
	} else if ((rc & 0xff) == SQLITE_CORRUPT || (rc & 0xff) == SQLITE_NOTADB) {
		/* The check itself could not read the file: that is its answer. */
		*finished = 1;
		snprintf(detail, size, "%s", sqlite3_errmsg(sq(st)->db));
	} else {
		/* busy, locked, I/O: no verdict about the file (damage needs proof) */
		rc = store_db_fail(st, err, "integrity check of");
		sqlite3_finalize(s);
		return rc;
	}
	sqlite3_finalize(s);
	return 0;
}

int sq_count(struct store *st, const char *interval, int64_t budget_ms, int64_t *count,
	     int *finished, struct ck_err *err)
{
	sqlite3_stmt *s = NULL;
	struct watchdog w;
	int rc, fin = 0;

	if (!finished)
		finished = &fin;
	*count = 0;
	*finished = 0;
	if (store_prepare(st, &s,
			  interval ? "SELECT count(*) FROM candles WHERE market = ck_market()"
				     " AND interval = ?1"
				   : "SELECT count(*) FROM candles",
			  err))
		return err->code;
	if (interval)
		sqlite3_bind_text(s, 1, interval, -1, SQLITE_STATIC);
	watchdog_start(&w, sq(st)->db, budget_ms);
	rc = sqlite3_step(s);
	watchdog_stop(&w);
	if (rc == SQLITE_ROW) {
		*count = sqlite3_column_int64(s, 0);
		*finished = 1;
	}
	sqlite3_finalize(s);
	if (rc == SQLITE_ROW || (rc & 0xff) == SQLITE_INTERRUPT)
		return 0;
	return store_db_fail(st, err, "count candles in");
}

static int pragma_int(struct store *st, const char *sql, int64_t *v, struct ck_err *err)
{
	sqlite3_stmt *s = NULL;
	int rc;

	*v = 0;
	if (store_prepare(st, &s, sql, err))
		return err->code;
	rc = sqlite3_step(s);
	if (rc == SQLITE_ROW)
		*v = sqlite3_column_int64(s, 0);
	sqlite3_finalize(s);
	if (rc != SQLITE_ROW)
		return store_db_fail(st, err, "read page counts of");
	return 0;
}

int sq_pages(struct store *st, int64_t *page_size, int64_t *page_count, int64_t *freelist,
	     struct ck_err *err)
{
	if (pragma_int(st, "PRAGMA page_size", page_size, err) ||
	    pragma_int(st, "PRAGMA page_count", page_count, err) ||
	    pragma_int(st, "PRAGMA freelist_count", freelist, err))
		return err->code;
	return 0;
}
