/* store_backend.h — the storage interface a backend implements (part of the store
 * module; only src/store*.c include this). Callers use the store_* functions of
 * store.h and the store_*.h headers; each of those is a thin dispatcher
 * (store_ops.c) that calls the operation of the same question in st->ops. How to
 * add a backend: see store.h. */
#ifndef CK_STORE_BACKEND_H
#define CK_STORE_BACKEND_H

#include <stddef.h>
#include <stdint.h>

#include "err.h"
#include "kline.h"
#include "store.h"
#include "store_alert.h"
#include "store_archive.h"
#include "store_backup.h"
#include "store_health.h"
#include "store_metrics.h"
#include "store_salvage.h"

/* The handle every caller holds (opaque to them). */
struct store {
	const struct store_ops *ops;
	char *path;     /* as given to store_open: a file path, or a URL */
	int rdonly;     /* STORE_RDONLY was asked for */
	void *impl;     /* the backend's own state, set by ops->open, freed by ops->close */
	char market[8]; /* the market every candle question is about (store_market_set);
			 * "um" from store_open. SQL reads it as ck_market() */
};

/* One function per question or operation; each has the meaning (and the ownership
 * rules) written at its dispatcher's declaration in store.h or store_*.h, with the
 * handle first. Every member is set unless marked optional: an optional one may be
 * NULL, and then its dispatcher fails with CK_EUSAGE "<what>: not supported by the
 * <name> backend" instead of calling it. */
struct store_ops {
	const char *name; /* "sqlite": named in messages */
	/* Version text of the library or server behind the backend ("3.46.1"). */
	const char *(*version)(void);

	/* st->path and st->rdonly are set; fills st->impl. On failure the dispatcher
	 * calls close, so open leaves what it made for close to free. */
	int (*open)(struct store *st, int flags, struct ck_err *err);
	void (*close)(struct store *st); /* frees st->impl (which may be NULL) */

	/* st->market has changed: the backend's SQL reads it as ck_market() from now on */
	int (*market_set)(struct store *st, struct ck_err *err);

	/* transactions */
	int (*tx_begin)(struct store *st, struct ck_err *err);
	int (*tx_commit)(struct store *st, struct ck_err *err);
	void (*tx_rollback)(struct store *st);

	/* candles */
	int (*put_page)(struct store *st, const char *symbol, const char *interval,
			const struct kline *k, size_t n, struct store_page_result *res,
			struct ck_err *err);
	int (*span)(struct store *st, const char *symbol, const char *interval, int64_t from,
		    int64_t to, int count, struct store_span *span, struct ck_err *err);
	int (*gaps)(struct store *st, const char *symbol, const char *interval, int64_t interval_ms,
		    int64_t from, int64_t to, int include_confirmed, struct store_gap **out,
		    size_t *n, struct ck_err *err);
	int (*covered)(struct store *st, const char *symbol, const char *interval,
		       int64_t interval_ms, struct store_range **out, size_t *n,
		       struct ck_err *err);
	int (*each_candle)(struct store *st, const char *symbol, const char *interval, int64_t from,
			   int64_t to, int (*fn)(const struct kline *k, void *arg), void *arg,
			   struct ck_err *err);
	int (*symbols)(struct store *st, const char *interval, char ***out, size_t *n,
		       struct ck_err *err);
	int (*count)(struct store *st, const char *interval, int64_t budget_ms, int64_t *count,
		     int *finished, struct ck_err *err);
	/* optional: the candles of interval as the coverage ledger counts them (see
	 * store_candle_total); without it, a full count */
	int (*ledger_total)(struct store *st, const char *interval, int64_t *count,
			    struct ck_err *err);
	/* optional: a backend that keeps no coverage ledger answers gaps from the candles
	 * and has nothing to verify; its absence is what store_keeps_ledger reports (gaps
	 * --verify then says there is no ledger) */
	int (*ledger_verify)(struct store *st, const char *interval, int64_t interval_ms,
			     struct store_ledger_diff **out, size_t *n, struct ck_err *err);
	int (*hole_candles)(struct store *st, const char *symbol, const char *interval,
			    int64_t interval_ms, int64_t from, int64_t to, int64_t *count,
			    struct ck_err *err);

	/* the hole ledger */
	int (*hole_get)(struct store *st, const char *symbol, const char *interval, int64_t first,
			int64_t last, struct store_hole *out, struct ck_err *err);
	int (*hole_put)(struct store *st, const char *symbol, const char *interval,
			const struct store_hole *h, struct ck_err *err);
	int (*holes_prune)(struct store *st, const char *symbol, const char *interval,
			   struct ck_err *err);
	int (*holes_recheck)(struct store *st, const char *interval, int64_t *holes,
			     struct ck_err *err);

	/* per-symbol sync state, key/value state */
	int (*symbol_get)(struct store *st, const char *symbol, const char *interval,
			  struct store_symbol *out, struct ck_err *err);
	int (*symbol_put)(struct store *st, const char *symbol, const char *interval,
			  const struct store_symbol *s, struct ck_err *err);
	int (*state_get)(struct store *st, const char *key, char *buf, size_t size,
			 struct ck_err *err);
	int (*state_set)(struct store *st, const char *key, const char *value, struct ck_err *err);
	int (*state_del)(struct store *st, const char *key, struct ck_err *err);

	/* run records */
	int (*run_begin)(struct store *st, const char *command, const char *interval,
			 int64_t now_ms, int64_t *id, struct ck_err *err);
	int (*run_abandon)(struct store *st, const char *command, struct ck_err *err);
	int (*run_symbol)(struct store *st, int64_t id, const char *symbol, const char *status,
			  int64_t written, int64_t revised, int64_t newest_open, const char *error,
			  struct ck_err *err);
	int (*run_end)(struct store *st, int64_t id, enum run_status status, int exit_code,
		       int64_t now_ms, const struct run_counts *c, const char *error,
		       struct ck_err *err);
	int (*runs)(struct store *st, const char *command, const char *interval, int64_t since_ms,
		    size_t max, struct store_run **out, size_t *n, struct ck_err *err);
	int (*run_symbols)(struct store *st, int64_t run_id, struct store_run_symbol **out,
			   size_t *n, struct ck_err *err);
	int (*all_run_symbols)(struct store *st, int64_t min_run_id, struct store_run_symbol **out,
			       size_t *n, struct ck_err *err);
	int (*sync_runs)(struct store *st, struct store_sync_run **out, size_t *n,
			 struct ck_err *err);

	/* events */
	int (*event_add)(struct store *st, int64_t at_ms, const char *kind, const char *subject,
			 double value, const char *detail, struct ck_err *err);
	int (*events)(struct store *st, const char *kind, const char *subject, int64_t since_ms,
		      size_t max, struct store_event **out, size_t *n, struct ck_err *err);
	int (*event_count)(struct store *st, const char *kind, const char *subject, int64_t *count,
			   struct ck_err *err);

	/* alerts and their outbox */
	int (*alert_get)(struct store *st, const char *key, struct store_alert *out,
			 struct ck_err *err);
	int (*alert_put)(struct store *st, const struct store_alert *a, struct ck_err *err);
	int (*alert_list)(struct store *st, struct store_alert **out, size_t *n,
			  struct ck_err *err);
	int (*outbox_get)(struct store *st, const char *key, const char *channel,
			  struct store_outbox *out, struct ck_err *err);
	int (*outbox_put)(struct store *st, const struct store_outbox *o, struct ck_err *err);
	int (*outbox_live)(struct store *st, struct store_outbox **out, size_t *n,
			   struct ck_err *err);

	/* the public-archive file catalogue */
	int (*archive_put)(struct store *st, const char *name, const char *sha256, int64_t rows,
			   int64_t at_ms, struct ck_err *err);
	int (*archive_get)(struct store *st, const char *name, char sha256[65], int *found,
			   struct ck_err *err);
	int (*archive_list)(struct store *st, const char *symbol, const char *interval,
			    struct store_archive_file **out, size_t *n, struct ck_err *err);
	int (*archive_holes)(struct store *st, const char *symbol, const char *interval,
			     int64_t from, int64_t to, struct store_range **out, size_t *n,
			     struct ck_err *err);

	/* the backup catalogue */
	int (*backup_put)(struct store *st, const struct store_backup *b, int64_t *id,
			  struct ck_err *err);
	int (*backup_set_status)(struct store *st, int64_t id, const char *status,
				 const char *detail, struct ck_err *err);
	int (*backup_list)(struct store *st, const char *tier, struct store_backup **out, size_t *n,
			   struct ck_err *err);

	/* metrics aggregates */
	int (*metrics_runs)(struct store *st, const char *command, struct store_metrics_runs *out,
			    struct ck_err *err);
	int (*metrics_durations)(struct store *st, const char *command,
				 int (*fn)(int64_t ms, void *arg), void *arg, struct ck_err *err);
	int (*metrics_series)(struct store *st, struct store_metrics_series **out, size_t *n,
			      struct ck_err *err);

	/* the integrity check */
	int (*check)(struct store *st, int full, int64_t budget_ms, int *ok, int *finished,
		     char *detail, size_t size, struct ck_err *err);

	/* optional: work claims of workers sharing the database (store.h, store_claim). A
	 * backend without them has one writer at a time (the run lock), so every key is
	 * granted. claims_release drops every claim of this handle. */
	int (*claim)(struct store *st, const char *key, int *got, struct ck_err *err);
	void (*claims_release)(struct store *st);

	/* optional: facts of a database file */
	int (*pages)(struct store *st, int64_t *page_size, int64_t *page_count, int64_t *freelist,
		     struct ck_err *err);
	/* optional: copy what a damaged SQLite file still holds into st (recover) */
	int (*salvage)(struct store *dst, const char *src_path, const char *const *pairs,
		       size_t npairs, struct store_salvage_result *res, struct ck_err *err);
};

/* The backends store_open knows (store_ops.c lists them). */
extern const struct store_ops store_sqlite_ops;
extern const struct store_ops store_pg_ops; /* store_pg.c: postgresql:// and postgres:// */

#endif
