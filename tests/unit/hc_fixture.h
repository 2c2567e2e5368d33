/* hc_fixture.h — a small candlekeep database for the health and audit unit tests:
 * configuration, candles of a few symbols, sync run records (with the exchange time)
 * and the events a sync writes (candle_count), and backup rows. Header-only (static). */
#ifndef CK_TEST_HC_FIXTURE_H
#define CK_TEST_HC_FIXTURE_H

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cfg.h"
#include "kline.h"
#include "store.h"
#include "store_backup.h"
#include "test_tmp.h"

#define H4 INT64_C(14400000)
#define HOUR INT64_C(3600000)
#define DAYMS INT64_C(86400000)
#define T0 INT64_C(1771286400000) /* 2026-02-17 00:00 UTC */

struct fx {
	char dir[256], db[300];
	struct cfg c;
	struct store *st;
};

static inline void fx_open(struct fx *f, const char *symbols)
{
	struct ck_err e = {0, ""};
	test_tmp_template(f->dir, sizeof(f->dir), "ck-hc");
	assert_non_null(mkdtemp(f->dir));
	snprintf(f->db, sizeof(f->db), "%s/candles.db", f->dir);
	assert_int_equal(cfg_init(&f->c, &e), 0);
	assert_int_equal(cfg_set(&f->c, "main", "db", f->db, "test", &e), 0);
	assert_int_equal(cfg_set(&f->c, "main", "symbols", symbols, "test", &e), 0);
	assert_int_equal(cfg_set(&f->c, "health", "disk_warn_pct", "0", "test", &e), 0);
	assert_int_equal(cfg_set(&f->c, "health", "disk_crit_pct", "0", "test", &e), 0);
	assert_int_equal(cfg_finish(&f->c, &e), 0);
	assert_int_equal(store_open(&f->st, f->db, 0, &e), 0);
}

static inline void fx_close(struct fx *f)
{
	char cmd[400];
	store_close(f->st);
	cfg_release(&f->c);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", f->dir);
	assert_int_equal(system(cmd), 0);
}

/* candles of sym opened from..to (inclusive), every 4h */
static inline void fx_candles(struct fx *f, const char *sym, int64_t from, int64_t to)
{
	struct ck_err e = {0, ""};
	struct store_page_result res;
	for (int64_t t = from; t <= to; t += H4) {
		struct kline k;
		memset(&k, 0, sizeof(k));
		k.open_time = t;
		k.close_time = t + H4 - 1;
		snprintf(k.open, sizeof(k.open), "1");
		snprintf(k.high, sizeof(k.high), "1");
		snprintf(k.low, sizeof(k.low), "1");
		snprintf(k.close, sizeof(k.close), "1");
		snprintf(k.volume, sizeof(k.volume), "0");
		snprintf(k.quote_volume, sizeof(k.quote_volume), "0");
		snprintf(k.taker_buy_base, sizeof(k.taker_buy_base), "0");
		snprintf(k.taker_buy_quote, sizeof(k.taker_buy_quote), "0");
		assert_int_equal(store_put_page(f->st, sym, "4h", &k, 1, &res, &e), 0);
	}
}

/* A sync run at exchange time server (0 = never reached it) that left each symbol's
 * newest candle at newest (0 = failed for it). Returns the run id. */
/* A run record started at local time `now` (ms). */
static inline int64_t fx_run_at(struct fx *f, int64_t now, int64_t server, enum run_status status,
				const char **syms, const int64_t *newest, size_t n)
{
	struct ck_err e = {0, ""};
	struct run_counts rc;
	int64_t id;
	memset(&rc, 0, sizeof(rc));
	rc.server_time = server;
	assert_int_equal(store_run_begin(f->st, "sync", f->c.interval, now, &id, &e), 0);
	for (size_t i = 0; i < n; i++)
		assert_int_equal(store_run_symbol(f->st, id, syms[i], newest[i] ? "ok" : "failed",
						  0, 0, newest[i], newest[i] ? NULL : "boom", &e),
				 0);
	assert_int_equal(
		store_run_end(f->st, id, status, status == RUN_OK ? 0 : 1, now + 5, &rc,
			      status == RUN_OK ? NULL : (server ? NULL : "exchange unreachable"),
			      &e),
		0);
	return id;
}

/* A run record started now, by the local clock. */
static inline int64_t fx_run(struct fx *f, int64_t server, enum run_status status,
			     const char **syms, const int64_t *newest, size_t n)
{
	return fx_run_at(f, now_ms(), server, status, syms, newest, n);
}

static inline void fx_backup(struct fx *f, const char *tier, int64_t created, const char *status)
{
	struct ck_err e = {0, ""};
	struct store_backup b;
	int64_t id;
	memset(&b, 0, sizeof(b));
	snprintf(b.tier, sizeof(b.tier), "%s", tier);
	snprintf(b.location, sizeof(b.location), "%s/%s-%" PRId64 ".db", f->dir, tier, created);
	b.created = created;
	b.size = 1;
	snprintf(b.status, sizeof(b.status), "%s", status);
	b.verified_at = strcmp(status, "failed") ? created : 0;
	assert_int_equal(store_backup_put(f->st, &b, &id, &e), 0);
}

#endif
