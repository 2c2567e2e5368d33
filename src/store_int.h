/* store_int.h — private to the SQLite backend of the store module (store*.c): its state
 * behind a handle, its operations (store_sqlite_ops in store.c lists them) and the
 * helpers every SQLite store file uses. Nothing outside src/store*.c includes this. */
#ifndef CK_STORE_INT_H
#define CK_STORE_INT_H

#include <sqlite3.h>

#include "err.h"
#include "store_backend.h"

/* One of store_prepare_cached's statements. */
struct stmt_slot {
	const char *sql; /* the statement's text (a literal: compared by address) */
	sqlite3_stmt *s;
	int busy; /* handed out, not yet given back (store_stmt_done) */
};

/* st->impl of a store the SQLite backend opened. */
struct store_sqlite {
	sqlite3 *db;
	sqlite3_stmt *put, *get_one, *get_range;    /* cached for store_put_page */
	sqlite3_stmt *cov_find, *cov_del, *cov_ins; /* cached for store_ledger_page */
	int ledger; /* the file has the coverage ledger (schema 4; a read-only open of an
		     * older file has not): gaps, spans and runs are read from it */
	struct stmt_slot cache[24]; /* store_prepare_cached's */
};

static inline struct store_sqlite *sq(const struct store *st)
{
	return st->impl;
}

/* Grows the array whose pointer is at v (the address of a T *: *cap elements of size
 * bytes, len of them in use) so that one more fits: doubles from 16, refuses past STORE_ROWS_MAX
 * elements (CK_ENOMEM,
 * "<what>: out of memory or over ... rows"). For every list a query loads. */
#define STORE_ROWS_MAX 10000000
int store_grow(void *v, size_t *cap, size_t len, size_t size, const char *what, struct ck_err *err);

/* Cutting a gap [a, b] of one symbol around the confirmed holes inside it, for every
 * backend's gaps op (the policy is the store's, not a backend's): start, then each
 * hole overlapping [a, b] in order of first_open, then end. v (len of cap, grown with
 * store_grow) receives the missing pieces, and the holes when include_confirmed. */
struct store_gap_cut {
	struct store_gap *v;
	size_t len, cap;
	int64_t iv;
	int include_confirmed;
	const char *sym; /* set by start */
	int64_t cur, b;  /* the next open time not yet placed; the gap's end */
};
void store_gap_cut_start(struct store_gap_cut *c, const char *sym, int64_t a, int64_t b);
int store_gap_cut_hole(struct store_gap_cut *c, struct store_hole hole, struct ck_err *err);
int store_gap_cut_end(struct store_gap_cut *c, struct ck_err *err);

/* Fills err from SQLite's last error on st (code mapped: corrupt → CK_ECORRUPT, full →
 * CK_EFULL, ...), "<what> <path>: <sqlite message> (<what to do>)"; returns the code. */
int store_db_fail(struct store *st, struct ck_err *err, const char *what);
int store_exec(struct store *st, const char *sql, struct ck_err *err);
/* Steps a write statement once, then finalizes it: 0 on SQLITE_DONE, else the
 * store_db_fail code ("<what> <path>: ..."). */
int store_step_done(struct store *st, sqlite3_stmt *s, const char *what, struct ck_err *err);
int store_prepare(struct store *st, sqlite3_stmt **s, const char *sql, struct ck_err *err);

/* As store_prepare, for the statements a sync runs once a symbol (planning and finishing
 * 60 symbols compiled ~400 statements, 12% of a steady-state run's CPU): the statement of
 * that text (a string literal, recognised by its address) is compiled once a connection
 * and handed out again after store_stmt_done reset it. Taken while already handed out
 * (a nested use), or with the cache full, it is compiled afresh as store_prepare's.
 * store_stmt_done(st, s) gives either kind back: a cached one is reset and its bindings
 * cleared, any other finalized; NULL is ignored. sq_close finalizes the cache. */
int store_prepare_cached(struct store *st, sqlite3_stmt **s, const char *sql, struct ck_err *err);
int store_stmt_cached(struct store *st, sqlite3_stmt **s, const char *sql); /* SQLite's code */
void store_stmt_done(struct store *st, sqlite3_stmt *s);

/* The older design's table, as a view over the 4h candles, so its scripts and queries
 * keep working: timestamp is the candle's open time in ms, prices as REAL. */
#define STORE_VIEW_OHLCV_H4                                                                        \
	"CREATE VIEW IF NOT EXISTS ohlcv_h4 AS SELECT symbol, open_time AS timestamp,"             \
	" CAST(open AS REAL) AS open, CAST(high AS REAL) AS high,"                                 \
	" CAST(low AS REAL) AS low, CAST(close AS REAL) AS close,"                                 \
	" CAST(volume AS REAL) AS volume FROM candles WHERE market = 'um' AND interval = '4h';"

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

/* store_ledger.c: the coverage ledger (see there). The schema of version 4. */
extern const char *const store_ledger_schema_v4;
/* Schema 5: the ledger's trigger over the candles with their market. */
extern const char *const store_ledger_trigger_v5;
/* Inside the caller's transaction: the ledger rows of interval (NULL: of every
 * interval the candles and holes name) rebuilt from the candles and confirmed holes. */
int store_ledger_fill(struct store *st, const char *interval, struct ck_err *err);
/* Inside the caller's transaction: the hole rows of symbol (NULL: every symbol) of
 * interval set from the confirmed holes. */
int store_ledger_holes(struct store *st, const char *symbol, const char *interval,
		       struct ck_err *err);
/* One candle a page wrote or found: its open time, and whether it was new. */
struct ledger_mark {
	int64_t open_time;
	int added;
};
/* Inside sq_put_page's transaction: merges the runs of the page's n candles (m, which
 * it may reorder) into the ledger. -1 on a SQLite error (the caller reports it). */
int store_ledger_page(struct store *st, const char *symbol, const char *interval,
		      struct ledger_mark *m, size_t n);
/* Calls fn(symbol, first, last, arg) for each gap between the stored runs of symbol
 * (NULL: every symbol) of interval that reach into from..to, by symbol then time;
 * fn returning non-zero stops and is returned. */
int store_ledger_gaps(struct store *st, const char *symbol, const char *interval, int64_t iv,
		      int64_t from, int64_t to,
		      int (*fn)(const char *sym, int64_t first, int64_t last, void *arg), void *arg,
		      struct ck_err *err);
int sq_ledger_verify(struct store *st, const char *interval, int64_t interval_ms,
		     struct store_ledger_diff **out, size_t *n, struct ck_err *err);
/* store_candle_total: the sum of the ledger's stored runs (a full count without one). */
int sq_ledger_total(struct store *st, const char *interval, int64_t *count, struct ck_err *err);

/* The VFS every connection of the store opens files through (store_vfs.c): it holds
 * "<db>.write.lock" while a connection writes or checkpoints, so one writer at a time
 * touches a database, whichever process it is in. */
const char *store_vfs_name(void);

/* The SQLite backend's operations (see struct store_ops). */
const char *sq_version(void);
int sq_open(struct store *st, int flags, struct ck_err *err);
int sq_market_set(struct store *st, struct ck_err *err);
void sq_close(struct store *st);
int sq_tx_begin(struct store *st, struct ck_err *err);
int sq_tx_commit(struct store *st, struct ck_err *err);
void sq_tx_rollback(struct store *st);
int sq_put_page(struct store *st, const char *symbol, const char *interval, const struct kline *k,
		size_t n, struct store_page_result *res, struct ck_err *err);
int sq_span(struct store *st, const char *symbol, const char *interval, int64_t from, int64_t to,
	    int count, struct store_span *span, struct ck_err *err);
int sq_gaps(struct store *st, const char *symbol, const char *interval, int64_t interval_ms,
	    int64_t from, int64_t to, int include_confirmed, struct store_gap **out, size_t *n,
	    struct ck_err *err);
int sq_covered(struct store *st, const char *symbol, const char *interval, int64_t interval_ms,
	       struct store_range **out, size_t *n, struct ck_err *err);
int sq_each_candle(struct store *st, const char *symbol, const char *interval, int64_t from,
		   int64_t to, int (*fn)(const struct kline *k, void *arg), void *arg,
		   struct ck_err *err);
int sq_symbols(struct store *st, const char *interval, char ***out, size_t *n, struct ck_err *err);
int sq_count(struct store *st, const char *interval, int64_t budget_ms, int64_t *count,
	     int *finished, struct ck_err *err);
int sq_hole_candles(struct store *st, const char *symbol, const char *interval, int64_t interval_ms,
		    int64_t from, int64_t to, int64_t *count, struct ck_err *err);
int sq_hole_get(struct store *st, const char *symbol, const char *interval, int64_t first,
		int64_t last, struct store_hole *out, struct ck_err *err);
int sq_hole_put(struct store *st, const char *symbol, const char *interval,
		const struct store_hole *h, struct ck_err *err);
int sq_holes_prune(struct store *st, const char *symbol, const char *interval, struct ck_err *err);
int sq_holes_recheck(struct store *st, const char *interval, int64_t *holes, struct ck_err *err);
int sq_symbol_get(struct store *st, const char *symbol, const char *interval,
		  struct store_symbol *out, struct ck_err *err);
int sq_symbol_put(struct store *st, const char *symbol, const char *interval,
		  const struct store_symbol *s, struct ck_err *err);
int sq_state_get(struct store *st, const char *key, char *buf, size_t size, struct ck_err *err);
int sq_state_set(struct store *st, const char *key, const char *value, struct ck_err *err);
int sq_state_del(struct store *st, const char *key, struct ck_err *err);
int sq_run_begin(struct store *st, const char *command, const char *interval, int64_t now_ms,
		 int64_t *id, struct ck_err *err);
int sq_run_abandon(struct store *st, const char *command, struct ck_err *err);
int sq_run_symbol(struct store *st, int64_t id, const char *symbol, const char *status,
		  int64_t written, int64_t revised, int64_t newest_open, const char *error,
		  struct ck_err *err);
int sq_run_end(struct store *st, int64_t id, enum run_status status, int exit_code, int64_t now_ms,
	       const struct run_counts *c, const char *error, struct ck_err *err);
int sq_runs(struct store *st, const char *command, const char *interval, int64_t since_ms,
	    size_t max, struct store_run **out, size_t *n, struct ck_err *err);
int sq_run_symbols(struct store *st, int64_t run_id, struct store_run_symbol **out, size_t *n,
		   struct ck_err *err);
int sq_all_run_symbols(struct store *st, int64_t min_run_id, struct store_run_symbol **out,
		       size_t *n, struct ck_err *err);
int sq_sync_runs(struct store *st, struct store_sync_run **out, size_t *n, struct ck_err *err);
int sq_event_add(struct store *st, int64_t at_ms, const char *kind, const char *subject,
		 double value, const char *detail, struct ck_err *err);
int sq_events(struct store *st, const char *kind, const char *subject, int64_t since_ms, size_t max,
	      struct store_event **out, size_t *n, struct ck_err *err);
int sq_event_count(struct store *st, const char *kind, const char *subject, int64_t *count,
		   struct ck_err *err);
int sq_alert_get(struct store *st, const char *key, struct store_alert *out, struct ck_err *err);
int sq_alert_put(struct store *st, const struct store_alert *a, struct ck_err *err);
int sq_alert_list(struct store *st, struct store_alert **out, size_t *n, struct ck_err *err);
int sq_outbox_get(struct store *st, const char *key, const char *channel, struct store_outbox *out,
		  struct ck_err *err);
int sq_outbox_put(struct store *st, const struct store_outbox *o, struct ck_err *err);
int sq_outbox_live(struct store *st, struct store_outbox **out, size_t *n, struct ck_err *err);
int sq_archive_put(struct store *st, const char *name, const char *sha256, int64_t rows,
		   int64_t at_ms, struct ck_err *err);
int sq_archive_get(struct store *st, const char *name, char sha256[65], int *found,
		   struct ck_err *err);
int sq_archive_list(struct store *st, const char *symbol, const char *interval,
		    struct store_archive_file **out, size_t *n, struct ck_err *err);
int sq_archive_holes(struct store *st, const char *symbol, const char *interval, int64_t from,
		     int64_t to, struct store_range **out, size_t *n, struct ck_err *err);
int sq_backup_put(struct store *st, const struct store_backup *b, int64_t *id, struct ck_err *err);
int sq_backup_set_status(struct store *st, int64_t id, const char *status, const char *detail,
			 struct ck_err *err);
int sq_backup_list(struct store *st, const char *tier, struct store_backup **out, size_t *n,
		   struct ck_err *err);
int sq_metrics_runs(struct store *st, const char *command, struct store_metrics_runs *out,
		    struct ck_err *err);
int sq_metrics_durations(struct store *st, const char *command, int (*fn)(int64_t ms, void *arg),
			 void *arg, struct ck_err *err);
int sq_metrics_series(struct store *st, struct store_metrics_series **out, size_t *n,
		      struct ck_err *err);
int sq_check(struct store *st, int full, int64_t budget_ms, int *ok, int *finished, char *detail,
	     size_t size, struct ck_err *err);
int sq_pages(struct store *st, int64_t *page_size, int64_t *page_count, int64_t *freelist,
	     struct ck_err *err);
int sq_salvage(struct store *dst, const char *src_path, const char *const *pairs, size_t npairs,
	       struct store_salvage_result *res, struct ck_err *err);

#endif
