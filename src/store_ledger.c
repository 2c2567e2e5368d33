/* store_ledger.c — the coverage ledger (schema version 4): per (symbol, interval) the
 * verified ranges of open times, as few rows as there are runs and holes.
 *
 * Invariants: kind 'stored' rows are the maximal runs of stored candles (consecutive
 * candles at most one interval apart), never overlapping nor adjacent, with their
 * candle count; kind 'hole' rows are the confirmed exchange holes (holes rows with
 * confirmed_at > 0) as they are. Every write of candles or holes keeps them so in its
 * own transaction (sq_put_page, sq_hole_put, sq_holes_recheck, the migrations), so a
 * sync plans from a few rows per symbol instead of a scan of its candles.
 * store_ledger_verify rebuilds the rows from the candles and the holes (the question
 * "what do the candles say") and puts right any that differ. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sqlite3.h>

#include "interval.h"
#include "kline.h"
#include "store.h"
#include "store_int.h"
#include "banned.h"

const char *const store_ledger_schema_v4 =
	"CREATE TABLE IF NOT EXISTS coverage ("
	" symbol TEXT NOT NULL, interval TEXT NOT NULL, first_open INTEGER NOT NULL,"
	" last_open INTEGER NOT NULL, kind TEXT NOT NULL CHECK (kind IN ('stored', 'hole')),"
	" candles INTEGER NOT NULL DEFAULT 0,"
	" PRIMARY KEY (symbol, interval, first_open, kind)) WITHOUT ROWID;"
	/* candlekeep never deletes a candle; a candle deleted by hand (sqlite3) splits the
	 * run that held it: the part after it becomes a run of its own, the part before
	 * stays (or the row goes when nothing is left before it). */
	"CREATE TRIGGER IF NOT EXISTS coverage_candle_deleted AFTER DELETE ON candles BEGIN"
	" INSERT INTO coverage (symbol, interval, first_open, last_open, kind, candles)"
	"  SELECT c.symbol, c.interval, n.t, c.last_open, 'stored', (SELECT count(*) FROM"
	"   candles x WHERE x.symbol = old.symbol AND x.interval = old.interval AND"
	"   x.open_time BETWEEN n.t AND c.last_open)"
	"  FROM coverage c, (SELECT min(open_time) AS t FROM candles WHERE"
	"   symbol = old.symbol AND interval = old.interval AND open_time > old.open_time) n"
	"  WHERE c.symbol = old.symbol AND c.interval = old.interval AND c.kind = 'stored'"
	"  AND c.first_open <= old.open_time AND c.last_open >= old.open_time"
	"  AND n.t <= c.last_open;"
	" UPDATE coverage SET last_open = (SELECT max(open_time) FROM candles WHERE"
	"   symbol = old.symbol AND interval = old.interval AND open_time < old.open_time),"
	"  candles = (SELECT count(*) FROM candles x WHERE x.symbol = old.symbol AND"
	"   x.interval = old.interval AND x.open_time >= coverage.first_open AND"
	"   x.open_time < old.open_time)"
	"  WHERE symbol = old.symbol AND interval = old.interval AND kind = 'stored'"
	"  AND first_open <= old.open_time AND last_open >= old.open_time"
	"  AND (SELECT max(open_time) FROM candles WHERE symbol = old.symbol AND"
	"   interval = old.interval AND open_time < old.open_time) >= first_open;"
	" DELETE FROM coverage WHERE symbol = old.symbol AND interval = old.interval"
	"  AND kind = 'stored' AND first_open <= old.open_time AND last_open >= old.open_time;"
	" END;";

const char *const store_ledger_trigger_v5 =
	"CREATE TRIGGER IF NOT EXISTS coverage_candle_deleted AFTER DELETE ON candles BEGIN"
	" INSERT INTO coverage (market, symbol, interval, first_open, last_open, kind, candles)"
	"  SELECT c.market, c.symbol, c.interval, n.t, c.last_open, 'stored', (SELECT count(*)"
	"   FROM candles x WHERE x.market = old.market AND x.symbol = old.symbol AND"
	"   x.interval = old.interval AND x.open_time BETWEEN n.t AND c.last_open)"
	"  FROM coverage c, (SELECT min(open_time) AS t FROM candles WHERE market = old.market"
	"   AND symbol = old.symbol AND interval = old.interval AND open_time > old.open_time) n"
	"  WHERE c.market = old.market AND c.symbol = old.symbol AND c.interval = old.interval"
	"  AND c.kind = 'stored' AND c.first_open <= old.open_time AND"
	"  c.last_open >= old.open_time AND n.t <= c.last_open;"
	" UPDATE coverage SET last_open = (SELECT max(open_time) FROM candles WHERE"
	"   market = old.market AND symbol = old.symbol AND interval = old.interval AND"
	"   open_time < old.open_time),"
	"  candles = (SELECT count(*) FROM candles x WHERE x.market = old.market AND"
	"   x.symbol = old.symbol AND x.interval = old.interval AND"
	"   x.open_time >= coverage.first_open AND x.open_time < old.open_time)"
	"  WHERE market = old.market AND symbol = old.symbol AND interval = old.interval"
	"  AND kind = 'stored' AND first_open <= old.open_time AND last_open >= old.open_time"
	"  AND (SELECT max(open_time) FROM candles WHERE market = old.market AND"
	"   symbol = old.symbol AND interval = old.interval AND open_time < old.open_time)"
	"   >= first_open;"
	" DELETE FROM coverage WHERE market = old.market AND symbol = old.symbol AND"
	"  interval = old.interval AND kind = 'stored' AND first_open <= old.open_time AND"
	"  last_open >= old.open_time;"
	" END;";

/* Fills table (coverage or the verify's temp table, empty for interval) from the
 * candles and the confirmed holes of interval: the runs by one window-function scan
 * (a break where consecutive candles lie more than iv apart). */
static int fill(struct store *st, const char *table, const char *interval, int64_t iv,
		struct ck_err *err)
{
	sqlite3_stmt *s = NULL;
	char sql[1024];

	if (iv > 0) {
		snprintf(sql, sizeof(sql),
			 "INSERT INTO %s (market, symbol, interval, first_open, last_open, kind,"
			 " candles) SELECT ck_market(), symbol, ?1, min(open_time), max(open_time),"
			 " 'stored', count(*)"
			 " FROM (SELECT symbol, open_time, sum(brk) OVER (PARTITION BY symbol"
			 "  ORDER BY open_time) AS grp FROM (SELECT symbol, open_time,"
			 "  coalesce(open_time - LAG(open_time) OVER (PARTITION BY symbol"
			 "  ORDER BY open_time) > ?2, 0) AS brk FROM candles WHERE"
			 "  market = ck_market() AND interval = ?1))"
			 " GROUP BY symbol, grp",
			 table);
		if (store_prepare(st, &s, sql, err))
			return err->code;
		sqlite3_bind_text(s, 1, interval, -1, SQLITE_STATIC);
		sqlite3_bind_int64(s, 2, iv);
		if (store_step_done(st, s, "build the coverage ledger of", err))
			return err->code;
	}
	snprintf(sql, sizeof(sql),
		 "INSERT INTO %s (market, symbol, interval, first_open, last_open, kind, candles)"
		 " SELECT market, symbol, interval, first_open, last_open, 'hole', 0 FROM holes"
		 " WHERE market = ck_market() AND interval = ?1 AND confirmed_at > 0",
		 table);
	if (store_prepare(st, &s, sql, err))
		return err->code;
	sqlite3_bind_text(s, 1, interval, -1, SQLITE_STATIC);
	return store_step_done(st, s, "build the coverage ledger of", err);
}

int store_ledger_fill(struct store *st, const char *interval, struct ck_err *err)
{
	sqlite3_stmt *s = NULL;
	int rc;

	if (interval) {
		if (store_prepare(
			    st, &s,
			    "DELETE FROM coverage WHERE market = ck_market() AND interval = ?1",
			    err))
			return err->code;
		sqlite3_bind_text(s, 1, interval, -1, SQLITE_STATIC);
		if (store_step_done(st, s, "rebuild the coverage ledger of", err))
			return err->code;
		return fill(st, "coverage", interval, kline_interval_ms(interval), err);
	}
	if (store_exec(st, "DELETE FROM coverage WHERE market = ck_market()", err) ||
	    store_prepare(st, &s,
			  "SELECT DISTINCT interval FROM candles WHERE market = ck_market()"
			  " UNION SELECT interval FROM holes WHERE market = ck_market()",
			  err))
		return err->code;
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		char iv[32];
		snprintf(iv, sizeof(iv), "%s", (const char *)sqlite3_column_text(s, 0));
		if (fill(st, "coverage", iv, kline_interval_ms(iv), err)) {
			sqlite3_finalize(s);
			return err->code;
		}
	}
	if (rc != SQLITE_DONE) {
		store_db_fail(st, err, "rebuild the coverage ledger of");
		sqlite3_finalize(s);
		return err->code;
	}
	sqlite3_finalize(s);
	return 0;
}

int store_ledger_holes(struct store *st, const char *symbol, const char *interval,
		       struct ck_err *err)
{
	sqlite3_stmt *s = NULL;

	if (store_prepare(st, &s,
			  symbol ? "DELETE FROM coverage WHERE market = ck_market() AND"
				   " symbol = ?1 AND interval = ?2 AND kind = 'hole'"
				 : "DELETE FROM coverage WHERE market = ck_market() AND"
				   " interval = ?2 AND kind = 'hole'",
			  err))
		return err->code;
	if (symbol)
		sqlite3_bind_text(s, 1, symbol, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 2, interval, -1, SQLITE_STATIC);
	if (store_step_done(st, s, "update the coverage ledger of", err))
		return err->code;
	if (store_prepare(st, &s,
			  symbol ? "INSERT INTO coverage (market, symbol, interval, first_open,"
				   " last_open, kind, candles) SELECT market, symbol, interval,"
				   " first_open, last_open, 'hole', 0 FROM holes WHERE"
				   " market = ck_market() AND symbol = ?1 AND interval = ?2"
				   " AND confirmed_at > 0"
				 : "INSERT INTO coverage (market, symbol, interval, first_open,"
				   " last_open, kind, candles) SELECT market, symbol, interval,"
				   " first_open, last_open, 'hole', 0 FROM holes WHERE"
				   " market = ck_market() AND interval = ?2 AND confirmed_at > 0",
			  err))
		return err->code;
	if (symbol)
		sqlite3_bind_text(s, 1, symbol, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 2, interval, -1, SQLITE_STATIC);
	return store_step_done(st, s, "update the coverage ledger of", err);
}

/* Merges the run first..last (added: how many of its candles were not stored before)
 * into the stored rows of symbol: the rows it overlaps or touches (within iv; for 1M
 * iv is the longest month, so the next month touches and the one after does not) become
 * one. The rows are disjoint and sorted, so those are the newest ones starting at or
 * before last + iv, walked back until one ends before first - iv. */
static int merge_run(struct store *st, const char *symbol, const char *interval, int64_t iv,
		     int64_t first, int64_t last, int64_t added)
{
	struct store_sqlite *q = sq(st);
	int64_t lo = first, hi = last, candles = added, del_from = 0, del_to = 0;
	int rc, merged = 0, inside = 0;

	sqlite3_bind_text(q->cov_find, 1, symbol, -1, SQLITE_STATIC);
	sqlite3_bind_text(q->cov_find, 2, interval, -1, SQLITE_STATIC);
	sqlite3_bind_int64(q->cov_find, 3, last + iv);
	while ((rc = sqlite3_step(q->cov_find)) == SQLITE_ROW) {
		int64_t f = sqlite3_column_int64(q->cov_find, 0);
		int64_t l = sqlite3_column_int64(q->cov_find, 1);
		if (l < first - iv)
			break;
		if (!merged)
			del_to = f;
		del_from = f;
		merged++;
		inside = f <= first && l >= last;
		candles += sqlite3_column_int64(q->cov_find, 2);
		if (f < lo)
			lo = f;
		if (l > hi)
			hi = l;
	}
	sqlite3_reset(q->cov_find);
	if (rc != SQLITE_ROW && rc != SQLITE_DONE)
		return -1;
	if (merged == 1 && inside && !added)
		return 0; /* already covered: a re-fetch of stored candles */
	if (merged) {
		sqlite3_bind_text(q->cov_del, 1, symbol, -1, SQLITE_STATIC);
		sqlite3_bind_text(q->cov_del, 2, interval, -1, SQLITE_STATIC);
		sqlite3_bind_int64(q->cov_del, 3, del_from);
		sqlite3_bind_int64(q->cov_del, 4, del_to);
		rc = sqlite3_step(q->cov_del);
		sqlite3_reset(q->cov_del);
		if (rc != SQLITE_DONE)
			return -1;
	}
	sqlite3_bind_text(q->cov_ins, 1, symbol, -1, SQLITE_STATIC);
	sqlite3_bind_text(q->cov_ins, 2, interval, -1, SQLITE_STATIC);
	sqlite3_bind_int64(q->cov_ins, 3, lo);
	sqlite3_bind_int64(q->cov_ins, 4, hi);
	sqlite3_bind_int64(q->cov_ins, 5, candles);
	rc = sqlite3_step(q->cov_ins);
	sqlite3_reset(q->cov_ins);
	return rc == SQLITE_DONE ? 0 : -1;
}

static int cmp_mark(const void *a, const void *b)
{
	const struct ledger_mark *x = a, *y = b;
	return x->open_time < y->open_time ? -1 : x->open_time > y->open_time;
}

int store_ledger_page(struct store *st, const char *symbol, const char *interval,
		      struct ledger_mark *m, size_t n)
{
	struct store_sqlite *q = sq(st);
	int64_t iv = kline_interval_ms(interval);
	size_t i, start = 0, w = 0;
	int64_t added = 0;

	if (!n || iv <= 0)
		return 0; /* an interval without a fixed length has no ledger */
	if ((!q->cov_find &&
	     sqlite3_prepare_v2(q->db,
				"SELECT first_open, last_open, candles FROM coverage WHERE"
				" market = ck_market() AND symbol = ?1 AND interval = ?2 AND"
				" kind = 'stored' AND"
				" first_open <= ?3 ORDER BY first_open DESC",
				-1, &q->cov_find, NULL) != SQLITE_OK) ||
	    (!q->cov_del &&
	     sqlite3_prepare_v2(q->db,
				"DELETE FROM coverage WHERE market = ck_market() AND symbol = ?1"
				" AND interval = ?2 AND kind = 'stored' AND"
				" first_open BETWEEN ?3 AND ?4",
				-1, &q->cov_del, NULL) != SQLITE_OK) ||
	    (!q->cov_ins &&
	     sqlite3_prepare_v2(q->db,
				"INSERT INTO coverage (market, symbol, interval, first_open,"
				" last_open, kind, candles)"
				" VALUES (ck_market(), ?1, ?2, ?3, ?4, 'stored', ?5)",
				-1, &q->cov_ins, NULL) != SQLITE_OK))
		return -1;
	for (i = 1; i < n && m[i - 1].open_time < m[i].open_time; i++)
		;
	if (i < n) { /* not strictly ascending: sort, and fold repeats together */
		qsort(m, n, sizeof(*m), cmp_mark);
		for (i = 0; i < n; i++) {
			if (w && m[w - 1].open_time == m[i].open_time)
				m[w - 1].added |= m[i].added;
			else
				m[w++] = m[i];
		}
		n = w;
	}
	for (i = 0; i < n; i++) {
		added += m[i].added != 0;
		if (i + 1 == n || m[i + 1].open_time - m[i].open_time > iv) {
			if (merge_run(st, symbol, interval, iv, m[start].open_time, m[i].open_time,
				      added))
				return -1;
			start = i + 1;
			added = 0;
		}
	}
	return 0;
}

/* The raw gaps of one symbol (or of all) from the ledger: between consecutive stored
 * rows that reach into from..to. */
int store_ledger_gaps(struct store *st, const char *symbol, const char *interval, int64_t iv,
		      int64_t from, int64_t to,
		      int (*fn)(const char *sym, int64_t first, int64_t last, void *arg), void *arg,
		      struct ck_err *err)
{
	sqlite3_stmt *s = NULL;
	char prev_sym[64] = "";
	int64_t prev_last = 0;
	int rc, have = 0;

	if (store_prepare_cached(
		    st, &s,
		    symbol ? "SELECT symbol, first_open, last_open FROM coverage WHERE"
			     " market = ck_market() AND symbol = ?1 AND interval = ?2 AND"
			     " kind = 'stored' AND last_open >= ?3 AND first_open <= ?4"
			     " ORDER BY first_open"
			   : "SELECT symbol, first_open, last_open FROM coverage WHERE"
			     " market = ck_market() AND interval = ?2 AND kind = 'stored'"
			     " AND last_open >= ?3 AND first_open <= ?4"
			     " ORDER BY symbol, first_open",
		    err))
		return err->code;
	if (symbol)
		sqlite3_bind_text(s, 1, symbol, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 2, interval, -1, SQLITE_STATIC);
	sqlite3_bind_int64(s, 3, from);
	sqlite3_bind_int64(s, 4, to);
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		const char *sym = (const char *)sqlite3_column_text(s, 0);
		int64_t f = sqlite3_column_int64(s, 1), l = sqlite3_column_int64(s, 2);
		if (have && !strcmp(sym, prev_sym) && f - prev_last > iv) {
			int r = fn(sym, interval_add(iv, prev_last, 1), interval_add(iv, f, -1),
				   arg);
			if (r) {
				store_stmt_done(st, s);
				return r;
			}
		}
		snprintf(prev_sym, sizeof(prev_sym), "%s", sym);
		prev_last = l;
		have = 1;
	}
	if (rc != SQLITE_DONE) {
		store_db_fail(st, err, "find gaps in");
		store_stmt_done(st, s);
		return err->code;
	}
	store_stmt_done(st, s);
	return 0;
}

int sq_ledger_total(struct store *st, const char *interval, int64_t *count, struct ck_err *err)
{
	sqlite3_stmt *s = NULL;
	int rc;

	if (!sq(st)->ledger) /* a file opened read-only before its migration */
		return sq_count(st, interval, 0, count, NULL, err);
	*count = 0;
	if (store_prepare_cached(st, &s,
				 "SELECT coalesce(sum(candles), 0) FROM coverage WHERE market = "
				 "ck_market() AND interval = ?1 AND kind = 'stored'",
				 err))
		return err->code;
	sqlite3_bind_text(s, 1, interval, -1, SQLITE_STATIC);
	if ((rc = sqlite3_step(s)) == SQLITE_ROW)
		*count = sqlite3_column_int64(s, 0);
	store_stmt_done(st, s);
	return rc == SQLITE_ROW ? 0 : store_db_fail(st, err, "read the coverage ledger of");
}

int sq_ledger_verify(struct store *st, const char *interval, int64_t interval_ms,
		     struct store_ledger_diff **out, size_t *n, struct ck_err *err)
{
	sqlite3_stmt *s = NULL;
	struct store_ledger_diff *v = NULL;
	size_t len = 0, cap = 0;
	int rc;

	*out = NULL;
	*n = 0;
	if (interval_ms <= 0)
		return ck_err_set(err, CK_EUSAGE, "verify the ledger: interval must be positive");
	if (store_exec(st, "BEGIN IMMEDIATE", err))
		return ck_err_wrap(err, "verify the coverage ledger");
	if (store_exec(st,
		       "DROP TABLE IF EXISTS temp.coverage_rebuild;"
		       "CREATE TEMP TABLE coverage_rebuild (market TEXT NOT NULL, symbol TEXT NOT "
		       "NULL,"
		       " interval TEXT NOT NULL, first_open INTEGER NOT NULL,"
		       " last_open INTEGER NOT NULL, kind TEXT NOT NULL,"
		       " candles INTEGER NOT NULL)",
		       err) ||
	    fill(st, "temp.coverage_rebuild", interval, interval_ms, err) ||
	    store_prepare(
		    st, &s,
		    "SELECT * FROM (SELECT symbol, first_open, last_open, kind, candles, 1"
		    "  FROM main.coverage WHERE market = ck_market() AND interval = ?1"
		    "  EXCEPT SELECT symbol, first_open,"
		    "  last_open, kind, candles, 1 FROM temp.coverage_rebuild)"
		    " UNION ALL SELECT * FROM (SELECT symbol, first_open, last_open, kind,"
		    "  candles, 0 FROM temp.coverage_rebuild EXCEPT SELECT symbol, first_open,"
		    "  last_open, kind, candles, 0 FROM main.coverage WHERE market = ck_market()"
		    "  AND interval = ?1)"
		    " ORDER BY 1, 2, 6 DESC",
		    err))
		goto fail;
	sqlite3_bind_text(s, 1, interval, -1, SQLITE_STATIC);
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		struct store_ledger_diff *d;
		if (store_grow(&v, &cap, len, sizeof(*v), "verify the coverage ledger", err))
			goto fail;
		d = &v[len++];
		memset(d, 0, sizeof(*d));
		snprintf(d->symbol, sizeof(d->symbol), "%s",
			 (const char *)sqlite3_column_text(s, 0));
		d->first = sqlite3_column_int64(s, 1);
		d->last = sqlite3_column_int64(s, 2);
		d->hole = !strcmp((const char *)sqlite3_column_text(s, 3), "hole");
		d->candles = sqlite3_column_int64(s, 4);
		d->in_ledger = sqlite3_column_int(s, 5);
	}
	if (rc != SQLITE_DONE) {
		store_db_fail(st, err, "verify the coverage ledger of");
		goto fail;
	}
	sqlite3_finalize(s);
	s = NULL;
	if (len) {
		if (store_prepare(st, &s,
				  "DELETE FROM main.coverage WHERE market = ck_market() AND"
				  " interval = ?1",
				  err))
			goto fail;
		sqlite3_bind_text(s, 1, interval, -1, SQLITE_STATIC);
		rc = store_step_done(st, s, "repair the coverage ledger of", err);
		s = NULL; /* finalized */
		if (rc ||
		    store_exec(st,
			       "INSERT INTO main.coverage (market, symbol, interval, first_open,"
			       " last_open, kind, candles) SELECT market, symbol, interval,"
			       " first_open, last_open, kind, candles FROM temp.coverage_rebuild",
			       err))
			goto fail;
	}
	if (store_exec(st, "DROP TABLE temp.coverage_rebuild", err) ||
	    store_exec(st, "COMMIT", err))
		goto fail;
	*out = v;
	*n = len;
	return 0;
fail:
	sqlite3_finalize(s);
	sqlite3_exec(sq(st)->db, "ROLLBACK", NULL, NULL, NULL);
	sqlite3_exec(sq(st)->db, "DROP TABLE IF EXISTS temp.coverage_rebuild", NULL, NULL, NULL);
	free(v);
	return err->code;
}
