/* store_metrics.c — aggregate queries for the metrics exposition (see store_metrics.h).
 * Read-only: every statement is a SELECT. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sqlite3.h>

#include "store.h"
#include "store_int.h"
#include "store_metrics.h"
#include "banned.h"

static const char *const status_names[] = {"running", "ok", "partial", "failed", "timeout"};

static int status_index(const char *s)
{
	size_t i;
	for (i = 0; s && i < sizeof(status_names) / sizeof(status_names[0]); i++)
		if (!strcmp(s, status_names[i]))
			return (int)i;
	return -1;
}

int sq_metrics_runs(struct store *st, const char *command, struct store_metrics_runs *out,
		    struct ck_err *err)
{
	sqlite3_stmt *s = NULL;
	int rc;

	memset(out, 0, sizeof(*out));
	/* Totals by status. requests_other is clamped per row so it never decreases. */
	if (store_prepare(
		    st, &s,
		    "SELECT status, count(*), total(requests), total(retries), total(http_429),"
		    " total(http_418), total(http_5xx), total(net_errors),"
		    " total(max(requests - http_429 - http_418 - http_5xx - net_errors, 0)),"
		    " total(candles_written), total(candles_revised),"
		    " max(CASE WHEN status = 'ok' THEN ended END)"
		    " FROM runs WHERE command = ?1 GROUP BY status",
		    err))
		return err->code;
	sqlite3_bind_text(s, 1, command, -1, SQLITE_STATIC);
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		int i = status_index((const char *)sqlite3_column_text(s, 0));
		if (i >= 0)
			out->by_status[i] += sqlite3_column_int64(s, 1);
		out->requests += sqlite3_column_int64(s, 2);
		out->retries += sqlite3_column_int64(s, 3);
		out->http_429 += sqlite3_column_int64(s, 4);
		out->http_418 += sqlite3_column_int64(s, 5);
		out->http_5xx += sqlite3_column_int64(s, 6);
		out->net_errors += sqlite3_column_int64(s, 7);
		out->requests_other += sqlite3_column_int64(s, 8);
		out->candles_written += sqlite3_column_int64(s, 9);
		out->candles_revised += sqlite3_column_int64(s, 10);
		if (sqlite3_column_type(s, 11) != SQLITE_NULL &&
		    sqlite3_column_int64(s, 11) > out->last_ok_end)
			out->last_ok_end = sqlite3_column_int64(s, 11);
	}
	sqlite3_finalize(s);
	if (rc != SQLITE_DONE)
		return store_db_fail(st, err, "sum runs in");

	/* The newest finished run. */
	if (store_prepare(
		    st, &s,
		    "SELECT id, started, coalesce(ended, 0), status, requests, retries, http_429,"
		    " http_418, http_5xx, net_errors, symbols_ok, symbols_failed, symbols_skipped,"
		    " weight_used_max, candles_written, candles_revised"
		    " FROM runs WHERE command = ?1 AND status != 'running'"
		    " ORDER BY started DESC, id DESC LIMIT 1",
		    err))
		return err->code;
	sqlite3_bind_text(s, 1, command, -1, SQLITE_STATIC);
	rc = sqlite3_step(s);
	if (rc == SQLITE_ROW) {
		int i = status_index((const char *)sqlite3_column_text(s, 3));
		out->has_last = 1;
		out->last_id = sqlite3_column_int64(s, 0);
		out->last_started = sqlite3_column_int64(s, 1);
		out->last_ended = sqlite3_column_int64(s, 2);
		out->last_status = i > 0 ? (enum run_status)i : RUN_FAILED;
		out->last.requests = sqlite3_column_int64(s, 4);
		out->last.retries = sqlite3_column_int64(s, 5);
		out->last.http_429 = sqlite3_column_int64(s, 6);
		out->last.http_418 = sqlite3_column_int64(s, 7);
		out->last.http_5xx = sqlite3_column_int64(s, 8);
		out->last.net_errors = sqlite3_column_int64(s, 9);
		out->last.symbols_ok = sqlite3_column_int64(s, 10);
		out->last.symbols_failed = sqlite3_column_int64(s, 11);
		out->last.symbols_skipped = sqlite3_column_int64(s, 12);
		out->last.weight_used_max = sqlite3_column_int64(s, 13);
		out->last.candles_written = sqlite3_column_int64(s, 14);
		out->last.candles_revised = sqlite3_column_int64(s, 15);
		rc = SQLITE_DONE;
	}
	sqlite3_finalize(s);
	if (rc != SQLITE_DONE)
		return store_db_fail(st, err, "read the newest run from");
	return 0;
}

int sq_metrics_durations(struct store *st, const char *command, int (*fn)(int64_t ms, void *arg),
			 void *arg, struct ck_err *err)
{
	sqlite3_stmt *s = NULL;
	int rc, stop = 0;

	if (store_prepare(
		    st, &s,
		    "SELECT ended - started FROM runs WHERE command = ?1 AND status != 'running'"
		    " AND ended IS NOT NULL AND ended >= started",
		    err))
		return err->code;
	sqlite3_bind_text(s, 1, command, -1, SQLITE_STATIC);
	while ((rc = sqlite3_step(s)) == SQLITE_ROW)
		if ((stop = fn(sqlite3_column_int64(s, 0), arg)) != 0)
			break;
	sqlite3_finalize(s);
	if (stop)
		return stop;
	if (rc != SQLITE_DONE)
		return store_db_fail(st, err, "read run durations from");
	return 0;
}

int sq_metrics_series(struct store *st, struct store_metrics_series **out, size_t *n,
		      struct ck_err *err)
{
	sqlite3_stmt *s = NULL;
	struct store_metrics_series *v = NULL;
	size_t len = 0, cap = 0;
	int rc;

	*out = NULL;
	*n = 0;
	/* Every scrape: from the coverage ledger, O(series + gaps), plus one seek per
	 * series for the newest candle's close time; a count over every stored candle was
	 * seconds a scrape at scale. Without a ledger (a read-only open of an unmigrated
	 * file) the candles themselves, grouped: SQLite takes the bare column close_time
	 * from the row holding max(open_time). */
	if (store_prepare(
		    st, &s,
		    sq(st)->ledger
			    ? "WITH s AS (SELECT market, symbol, interval, sum(candles) AS n,"
			      " max(last_open) AS last FROM coverage WHERE kind = 'stored'"
			      " GROUP BY market, symbol, interval)"
			      " SELECT s.symbol, s.interval, s.n, s.last, k.close_time, s.market"
			      " FROM s LEFT JOIN candles k ON k.market = s.market AND"
			      " k.symbol = s.symbol AND k.interval = s.interval AND"
			      " k.open_time = s.last ORDER BY s.market, s.symbol, s.interval"
			    : "SELECT symbol, interval, count(*), max(open_time), close_time,"
			      " market FROM candles GROUP BY market, symbol, interval"
			      " ORDER BY market, symbol, interval",
		    err))
		return err->code;
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		struct store_metrics_series *e;
		if (store_grow(&v, &cap, len, sizeof(*v), "count candles", err)) {
			sqlite3_finalize(s);
			free(v);
			return err->code;
		}
		e = &v[len++];
		snprintf(e->symbol, sizeof(e->symbol), "%s", sqlite3_column_text(s, 0));
		snprintf(e->interval, sizeof(e->interval), "%s", sqlite3_column_text(s, 1));
		e->count = sqlite3_column_int64(s, 2);
		e->newest_open = sqlite3_column_int64(s, 3);
		e->newest_close = sqlite3_column_int64(s, 4);
		snprintf(e->market, sizeof(e->market), "%s", sqlite3_column_text(s, 5));
	}
	sqlite3_finalize(s);
	if (rc != SQLITE_DONE) {
		free(v);
		return store_db_fail(st, err, "count candles in");
	}
	*out = v;
	*n = len;
	return 0;
}
