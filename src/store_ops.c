/* store_ops.c — the store's public functions: store_open picks a backend by the form of
 * the path, and every other function dispatches through st->ops (store_backend.h) to
 * the open backend's operation of the same question, so that callers never depend on
 * which database holds the data. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store.h"
#include "store_backend.h"
#include "banned.h"

/* The backends, by the form of the path: the first whose prefix matches. A NULL ops
 * is a backend this build does not have (its why says what to do instead). */
static const struct {
	const char *prefix; /* "" matches every path */
	const struct store_ops *ops;
	const char *why;
} backends[] = {
	{"postgresql://", &store_pg_ops, NULL}, /* the whole URL goes to PQconnectdb */
	{"postgres://", &store_pg_ops, NULL},
	{"", &store_sqlite_ops, NULL},
};

/* The market store_open gives a new handle (store_market_default). */
static char default_market[8] = STORE_MARKET_DEFAULT;

static int store_unsupported(struct store *st, const char *what, struct ck_err *err)
{
	return ck_err_set(err, CK_EUSAGE, "%s %s: not supported by the %s backend", what, st->path,
			  st->ops->name);
}

/* Calls the operation op of st's backend with st and the arguments, or fails with a
 * clear error when the backend lacks that (optional) operation. */
#define DISPATCH(op, ...)                                                                          \
	(st->ops->op ? st->ops->op(st, __VA_ARGS__) : store_unsupported(st, #op, err))

/* The backends[] row of path (the last row matches every path). */
static size_t backend_of(const char *path)
{
	size_t i;

	for (i = 0; strncmp(path, backends[i].prefix, strlen(backends[i].prefix)); i++)
		;
	return i;
}

int store_backend_check(const char *path, struct ck_err *err)
{
	size_t i = backend_of(path);

	if (!backends[i].ops)
		return ck_err_set(err, CK_EUSAGE, "open %s: %s", path, backends[i].why);
	return 0;
}

int store_open(struct store **out, const char *path, int flags, struct ck_err *err)
{
	struct store *st;
	size_t i = backend_of(path);

	*out = NULL;
	if (store_backend_check(path, err))
		return err->code;
	st = calloc(1, sizeof(*st));
	if (!st || !(st->path = strdup(path))) {
		free(st);
		return ck_err_set(err, CK_ENOMEM, "open %s: out of memory", path);
	}
	st->ops = backends[i].ops;
	st->rdonly = flags & STORE_RDONLY;
	snprintf(st->market, sizeof(st->market), "%s", default_market);
	if (st->ops->open(st, flags, err)) {
		store_close(st);
		return err->code;
	}
	*out = st;
	return 0;
}

void store_close(struct store *st)
{
	if (!st)
		return;
	st->ops->close(st);
	free(st->path);
	free(st);
}

void store_market_default(const char *market)
{
	if (market && *market && strlen(market) < sizeof(default_market))
		snprintf(default_market, sizeof(default_market), "%s", market);
}

int store_market_set(struct store *st, const char *market, struct ck_err *err)
{
	if (!market || !*market || strlen(market) >= sizeof(st->market))
		return ck_err_set(err, CK_EUSAGE, "market '%s': not a market (um, cm or spot)",
				  market ? market : "");
	snprintf(st->market, sizeof(st->market), "%s", market);
	return st->ops->market_set(st, err);
}

const char *store_market(const struct store *st)
{
	return st->market;
}

const char *store_path(const struct store *st)
{
	return st->path;
}

const char *store_backend_name(const struct store *st)
{
	return st ? st->ops->name : store_sqlite_ops.name;
}

const char *store_backend_version(const struct store *st)
{
	return st ? st->ops->version() : store_sqlite_ops.version();
}

int store_claim(struct store *st, const char *key, int *got, struct ck_err *err)
{
	*got = 1;
	if (!st->ops->claim)
		return 0; /* one writer at a time: the run lock already excludes the others */
	*got = 0;
	return st->ops->claim(st, key, got, err);
}

void store_claims_release(struct store *st)
{
	if (st && st->ops->claims_release)
		st->ops->claims_release(st);
}

int store_shared(const struct store *st)
{
	return st && st->ops->claim != NULL;
}

int store_keeps_ledger(const struct store *st)
{
	return st && st->ops->ledger_verify != NULL;
}

int store_tx_begin(struct store *st, struct ck_err *err)
{
	return DISPATCH(tx_begin, err);
}

int store_tx_commit(struct store *st, struct ck_err *err)
{
	return DISPATCH(tx_commit, err);
}

void store_tx_rollback(struct store *st)
{
	if (st && st->ops->tx_rollback)
		st->ops->tx_rollback(st);
}

int store_put_page(struct store *st, const char *symbol, const char *interval,
		   const struct kline *k, size_t n, struct store_page_result *res,
		   struct ck_err *err)
{
	return DISPATCH(put_page, symbol, interval, k, n, res, err);
}

int store_span(struct store *st, const char *symbol, const char *interval, int64_t from, int64_t to,
	       int count, struct store_span *span, struct ck_err *err)
{
	return DISPATCH(span, symbol, interval, from, to, count, span, err);
}

int store_gaps(struct store *st, const char *symbol, const char *interval, int64_t interval_ms,
	       int64_t from, int64_t to, int include_confirmed, struct store_gap **out, size_t *n,
	       struct ck_err *err)
{
	return DISPATCH(gaps, symbol, interval, interval_ms, from, to, include_confirmed, out, n,
			err);
}

int store_ledger_verify(struct store *st, const char *interval, int64_t interval_ms,
			struct store_ledger_diff **out, size_t *n, struct ck_err *err)
{
	return DISPATCH(ledger_verify, interval, interval_ms, out, n, err);
}

int store_covered(struct store *st, const char *symbol, const char *interval, int64_t interval_ms,
		  struct store_range **out, size_t *n, struct ck_err *err)
{
	return DISPATCH(covered, symbol, interval, interval_ms, out, n, err);
}

int store_each_candle(struct store *st, const char *symbol, const char *interval, int64_t from,
		      int64_t to, int (*fn)(const struct kline *k, void *arg), void *arg,
		      struct ck_err *err)
{
	return DISPATCH(each_candle, symbol, interval, from, to, fn, arg, err);
}

int store_symbols(struct store *st, const char *interval, char ***out, size_t *n,
		  struct ck_err *err)
{
	return DISPATCH(symbols, interval, out, n, err);
}

int store_count(struct store *st, const char *interval, int64_t budget_ms, int64_t *count,
		int *finished, struct ck_err *err)
{
	return DISPATCH(count, interval, budget_ms, count, finished, err);
}

int store_candle_total(struct store *st, const char *interval, int64_t *count, struct ck_err *err)
{
	if (st->ops->ledger_total)
		return st->ops->ledger_total(st, interval, count, err);
	return DISPATCH(count, interval, 0, count, NULL, err);
}

int store_health_hole_candles(struct store *st, const char *symbol, const char *interval,
			      int64_t interval_ms, int64_t from, int64_t to, int64_t *count,
			      struct ck_err *err)
{
	return DISPATCH(hole_candles, symbol, interval, interval_ms, from, to, count, err);
}

int store_hole_get(struct store *st, const char *symbol, const char *interval, int64_t first,
		   int64_t last, struct store_hole *out, struct ck_err *err)
{
	return DISPATCH(hole_get, symbol, interval, first, last, out, err);
}

int store_hole_put(struct store *st, const char *symbol, const char *interval,
		   const struct store_hole *h, struct ck_err *err)
{
	return DISPATCH(hole_put, symbol, interval, h, err);
}

int store_holes_prune(struct store *st, const char *symbol, const char *interval,
		      struct ck_err *err)
{
	return DISPATCH(holes_prune, symbol, interval, err);
}

int store_holes_recheck(struct store *st, const char *interval, int64_t *holes, struct ck_err *err)
{
	return DISPATCH(holes_recheck, interval, holes, err);
}

int store_symbol_get(struct store *st, const char *symbol, const char *interval,
		     struct store_symbol *out, struct ck_err *err)
{
	return DISPATCH(symbol_get, symbol, interval, out, err);
}

int store_symbol_put(struct store *st, const char *symbol, const char *interval,
		     const struct store_symbol *s, struct ck_err *err)
{
	return DISPATCH(symbol_put, symbol, interval, s, err);
}

int store_state_get(struct store *st, const char *key, char *buf, size_t size, struct ck_err *err)
{
	return DISPATCH(state_get, key, buf, size, err);
}

int store_state_set(struct store *st, const char *key, const char *value, struct ck_err *err)
{
	return DISPATCH(state_set, key, value, err);
}

int store_state_del(struct store *st, const char *key, struct ck_err *err)
{
	return DISPATCH(state_del, key, err);
}

int store_run_begin(struct store *st, const char *command, const char *interval, int64_t now_ms,
		    int64_t *id, struct ck_err *err)
{
	return DISPATCH(run_begin, command, interval, now_ms, id, err);
}

int store_run_abandon(struct store *st, const char *command, struct ck_err *err)
{
	return DISPATCH(run_abandon, command, err);
}

int store_run_symbol(struct store *st, int64_t id, const char *symbol, const char *status,
		     int64_t written, int64_t revised, int64_t newest_open, const char *error,
		     struct ck_err *err)
{
	return DISPATCH(run_symbol, id, symbol, status, written, revised, newest_open, error, err);
}

int store_run_end(struct store *st, int64_t id, enum run_status status, int exit_code,
		  int64_t now_ms, const struct run_counts *c, const char *error, struct ck_err *err)
{
	return DISPATCH(run_end, id, status, exit_code, now_ms, c, error, err);
}

int store_runs(struct store *st, const char *command, int64_t since_ms, size_t max,
	       struct store_run **out, size_t *n, struct ck_err *err)
{
	return DISPATCH(runs, command, NULL, since_ms, max, out, n, err);
}

int store_interval_runs(struct store *st, const char *command, const char *interval, size_t max,
			struct store_run **out, size_t *n, struct ck_err *err)
{
	return DISPATCH(runs, command, interval, 0, max, out, n, err);
}

int store_health_run_symbols(struct store *st, int64_t run_id, struct store_run_symbol **out,
			     size_t *n, struct ck_err *err)
{
	return DISPATCH(run_symbols, run_id, out, n, err);
}

int store_health_all_run_symbols(struct store *st, int64_t min_run_id,
				 struct store_run_symbol **out, size_t *n, struct ck_err *err)
{
	return DISPATCH(all_run_symbols, min_run_id, out, n, err);
}

int store_health_sync_runs(struct store *st, struct store_sync_run **out, size_t *n,
			   struct ck_err *err)
{
	return DISPATCH(sync_runs, out, n, err);
}

int store_event_add(struct store *st, int64_t at_ms, const char *kind, const char *subject,
		    double value, const char *detail, struct ck_err *err)
{
	return DISPATCH(event_add, at_ms, kind, subject, value, detail, err);
}

int store_events(struct store *st, const char *kind, const char *subject, int64_t since_ms,
		 size_t max, struct store_event **out, size_t *n, struct ck_err *err)
{
	return DISPATCH(events, kind, subject, since_ms, max, out, n, err);
}

int store_event_count(struct store *st, const char *kind, const char *subject, int64_t *count,
		      struct ck_err *err)
{
	return DISPATCH(event_count, kind, subject, count, err);
}

int store_alert_get(struct store *st, const char *key, struct store_alert *out, struct ck_err *err)
{
	return DISPATCH(alert_get, key, out, err);
}

int store_alert_put(struct store *st, const struct store_alert *a, struct ck_err *err)
{
	return DISPATCH(alert_put, a, err);
}

int store_alert_list(struct store *st, struct store_alert **out, size_t *n, struct ck_err *err)
{
	return DISPATCH(alert_list, out, n, err);
}

int store_outbox_get(struct store *st, const char *key, const char *channel,
		     struct store_outbox *out, struct ck_err *err)
{
	return DISPATCH(outbox_get, key, channel, out, err);
}

int store_outbox_put(struct store *st, const struct store_outbox *o, struct ck_err *err)
{
	return DISPATCH(outbox_put, o, err);
}

int store_outbox_live(struct store *st, struct store_outbox **out, size_t *n, struct ck_err *err)
{
	return DISPATCH(outbox_live, out, n, err);
}

int store_archive_put(struct store *st, const char *name, const char *sha256, int64_t rows,
		      int64_t at_ms, struct ck_err *err)
{
	return DISPATCH(archive_put, name, sha256, rows, at_ms, err);
}

int store_archive_get(struct store *st, const char *name, char sha256[65], int *found,
		      struct ck_err *err)
{
	return DISPATCH(archive_get, name, sha256, found, err);
}

int store_archive_list(struct store *st, const char *symbol, const char *interval,
		       struct store_archive_file **out, size_t *n, struct ck_err *err)
{
	return DISPATCH(archive_list, symbol, interval, out, n, err);
}

int store_archive_holes(struct store *st, const char *symbol, const char *interval, int64_t from,
			int64_t to, struct store_range **out, size_t *n, struct ck_err *err)
{
	return DISPATCH(archive_holes, symbol, interval, from, to, out, n, err);
}

int store_backup_put(struct store *st, const struct store_backup *b, int64_t *id,
		     struct ck_err *err)
{
	return DISPATCH(backup_put, b, id, err);
}

int store_backup_set_status(struct store *st, int64_t id, const char *status, const char *detail,
			    struct ck_err *err)
{
	return DISPATCH(backup_set_status, id, status, detail, err);
}

int store_backup_list(struct store *st, const char *tier, struct store_backup **out, size_t *n,
		      struct ck_err *err)
{
	return DISPATCH(backup_list, tier, out, n, err);
}

int store_metrics_runs(struct store *st, const char *command, struct store_metrics_runs *out,
		       struct ck_err *err)
{
	return DISPATCH(metrics_runs, command, out, err);
}

int store_metrics_durations(struct store *st, const char *command, int (*fn)(int64_t ms, void *arg),
			    void *arg, struct ck_err *err)
{
	return DISPATCH(metrics_durations, command, fn, arg, err);
}

int store_metrics_series(struct store *st, struct store_metrics_series **out, size_t *n,
			 struct ck_err *err)
{
	return DISPATCH(metrics_series, out, n, err);
}

int store_check(struct store *st, int full, int64_t budget_ms, int *ok, int *finished, char *detail,
		size_t size, struct ck_err *err)
{
	return DISPATCH(check, full, budget_ms, ok, finished, detail, size, err);
}

int store_health_pages(struct store *st, int64_t *page_size, int64_t *page_count, int64_t *freelist,
		       struct ck_err *err)
{
	return DISPATCH(pages, page_size, page_count, freelist, err);
}

int store_salvage(struct store *st, const char *src_path, const char *const *pairs, size_t npairs,
		  struct store_salvage_result *res, struct ck_err *err)
{
	return DISPATCH(salvage, src_path, pairs, npairs, res, err);
}
