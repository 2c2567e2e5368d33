/* test_metrics.c — the exposition from a database built through the store API: runs by
 * status as row counts, the duration histogram (cumulative buckets, sum, count), the
 * newest finished run, candles and gaps per symbol, events, alerts and backups; label
 * value escaping; every sample belongs to a family with HELP and TYPE; the metric table
 * lists every family; an empty database renders the always-present families. Each test
 * uses a fresh database in a private mkdtemp directory. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cfg.h"
#include "err.h"
#include "kline.h"
#include "metrics.h"
#include "store.h"
#include "store_alert.h"
#include "store_backup.h"
#include "banned.h"
#include "test_tmp.h"

#define H4 14400000LL
#define T0 1700006400000LL /* 2023-11-15 00:00 UTC, aligned to 4h */

struct fixture {
	char dir[64];
	char path[128];
	struct store *st;
	struct cfg cfg;
	struct ck_err err;
	char *text;
	size_t len;
};

static int setup(void **state)
{
	struct fixture *fx = calloc(1, sizeof(*fx));
	assert_non_null(fx);
	test_tmp_template(fx->dir, sizeof(fx->dir), "ck-test-metrics");
	assert_non_null(mkdtemp(fx->dir));
	snprintf(fx->path, sizeof(fx->path), "%s/c.db", fx->dir);
	assert_int_equal(store_open(&fx->st, fx->path, 0, &fx->err), 0);
	assert_int_equal(cfg_init(&fx->cfg, &fx->err), 0);
	assert_int_equal(
		cfg_set(&fx->cfg, "main", "symbols", "AAAUSDT,BBBUSDT,CCCUSDT", "test", &fx->err),
		0);
	assert_int_equal(cfg_set(&fx->cfg, "main", "db", fx->path, "test", &fx->err), 0);
	assert_int_equal(cfg_finish(&fx->cfg, &fx->err), 0);
	*state = fx;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *fx = *state;
	char cmd[128];
	free(fx->text);
	store_close(fx->st);
	cfg_release(&fx->cfg);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", fx->dir);
	if (system(cmd) != 0)
		return -1;
	free(fx);
	return 0;
}

static void put(struct fixture *fx, const char *sym, int64_t open, int n, int skip)
{
	struct kline k[32];
	struct store_page_result res;
	int i, m = 0;
	assert_true(n <= 32);
	for (i = 0; i < n; i++) {
		struct kline *c = &k[m];
		if (i == skip)
			continue;
		memset(c, 0, sizeof(*c));
		c->open_time = open + i * H4;
		c->close_time = c->open_time + H4 - 1;
		snprintf(c->open, sizeof(c->open), "1");
		snprintf(c->high, sizeof(c->high), "2");
		snprintf(c->low, sizeof(c->low), "0.5");
		snprintf(c->close, sizeof(c->close), "1.5");
		snprintf(c->volume, sizeof(c->volume), "10");
		snprintf(c->quote_volume, sizeof(c->quote_volume), "15");
		snprintf(c->taker_buy_base, sizeof(c->taker_buy_base), "5");
		snprintf(c->taker_buy_quote, sizeof(c->taker_buy_quote), "7");
		m++;
	}
	assert_int_equal(store_put_page(fx->st, sym, "4h", k, (size_t)m, &res, &fx->err), 0);
}

static void run(struct fixture *fx, const char *cmd, enum run_status status, int64_t start,
		int64_t dur_ms, int64_t requests, int64_t h429, int64_t weight)
{
	struct run_counts c;
	int64_t id;
	memset(&c, 0, sizeof(c));
	c.requests = requests;
	c.http_429 = h429;
	c.retries = h429;
	c.weight_used_max = weight;
	c.symbols_ok = status == RUN_OK ? 3 : 2;
	c.symbols_failed = status == RUN_OK ? 0 : 1;
	assert_int_equal(store_run_begin(fx->st, cmd, "4h", start, &id, &fx->err), 0);
	assert_int_equal(store_run_end(fx->st, id, status, status == RUN_OK ? 0 : 1, start + dur_ms,
				       &c, NULL, &fx->err),
			 0);
}

static void render(struct fixture *fx)
{
	free(fx->text);
	fx->text = NULL;
	struct ck_err problem = {0, ""};
	assert_int_equal(
		metrics_render(fx->st, &fx->cfg, NULL, &fx->text, &fx->len, &problem, &fx->err), 0);
	assert_int_equal(problem.code, 0);
	assert_non_null(fx->text);
	assert_int_equal(strlen(fx->text), fx->len);
}

/* The value of the sample whose name{labels} is exactly key, as text ("" if absent). */
static const char *value(struct fixture *fx, const char *key, char *buf, size_t size)
{
	size_t kl = strlen(key);
	const char *p = fx->text;
	buf[0] = 0;
	while (p && *p) {
		const char *eol = strchr(p, '\n');
		if (!strncmp(p, key, kl) && p[kl] == ' ') {
			size_t n = (size_t)(eol - (p + kl + 1));
			snprintf(buf, size, "%.*s", (int)n, p + kl + 1);
			return buf;
		}
		p = eol ? eol + 1 : NULL;
	}
	return buf;
}

#define assert_sample(fx, key, want)                                                               \
	do {                                                                                       \
		char b_[64];                                                                       \
		if (strcmp(value(fx, key, b_, sizeof(b_)), want))                                  \
			fail_msg("%s: expected '%s', got '%s'", key, want, b_);                    \
	} while (0)

/* Every sample line belongs to a family declared with HELP and TYPE before it. */
static void assert_well_formed(struct fixture *fx)
{
	char fam[128] = "", type[16] = "";
	const char *p = fx->text;
	while (*p) {
		const char *eol = strchr(p, '\n');
		assert_non_null(eol);
		if (!strncmp(p, "# HELP ", 7)) {
			size_t n = strcspn(p + 7, " ");
			snprintf(fam, sizeof(fam), "%.*s", (int)n, p + 7);
			assert_true(!strncmp(eol + 1, "# TYPE ", 7));
		} else if (!strncmp(p, "# TYPE ", 7)) {
			const char *t = p + 7 + strlen(fam) + 1;
			assert_true(!strncmp(p + 7, fam, strlen(fam)));
			snprintf(type, sizeof(type), "%.*s", (int)(eol - t), t);
			assert_true(!strcmp(type, "gauge") || !strcmp(type, "counter") ||
				    !strcmp(type, "histogram"));
		} else {
			size_t n = strlen(fam);
			assert_true(n > 0);
			if (strncmp(p, fam, n))
				fail_msg("sample outside its family %s: %.*s", fam, (int)(eol - p),
					 p);
			if (!strcmp(type, "histogram"))
				assert_true(!strncmp(p + n, "_bucket{", 8) ||
					    !strncmp(p + n, "_sum", 4) ||
					    !strncmp(p + n, "_count", 6));
			else
				assert_true(p[n] == '{' || p[n] == ' ');
			if (!strcmp(type, "counter"))
				assert_true(strlen(fam) > 6 &&
					    !strcmp(fam + strlen(fam) - 6, "_total"));
		}
		p = eol + 1;
	}
}

static void test_empty_database(void **state)
{
	struct fixture *fx = *state;
	render(fx);
	assert_well_formed(fx);
	/* The families alert rules use with absent() or rates are present with zeros. */
	assert_sample(fx, "candlekeep_sync_runs_total{command=\"sync\",status=\"failed\"}", "0");
	assert_sample(fx, "candlekeep_sync_duration_seconds_count{command=\"sync\"}", "0");
	assert_sample(fx, "candlekeep_exchange_requests_total{code=\"429\"}", "0");
	assert_sample(fx, "candlekeep_database_corruption_detections_total", "0");
	assert_sample(fx, "candlekeep_alert_failures_total{channel=\"email\"}", "0");
	assert_sample(fx, "candlekeep_backup_last_success_timestamp_seconds{tier=\"hot\"}", "0");
	assert_sample(fx,
		      "candlekeep_sync_last_success_timestamp_seconds{command=\"sync\",interval="
		      "\"4h\",market=\"um\"}",
		      "0");
	/* Nothing happened yet: declared, no sample. */
	assert_non_null(
		strstr(fx->text, "# TYPE candlekeep_restore_drill_duration_seconds gauge\n"));
	assert_sample(fx, "candlekeep_restore_drill_duration_seconds", "");
	assert_sample(fx,
		      "candlekeep_sync_last_run_status{command=\"sync\",status=\"ok\",interval="
		      "\"4h\",market=\"um\"}",
		      "");
	assert_sample(
		fx,
		"candlekeep_symbol_configured{symbol=\"BBBUSDT\",interval=\"4h\",market=\"um\"}",
		"1");
	/* The default 4-hourly schedule's derived staleness thresholds, for the age
	 * counted from the newest close: 5h05m and 9h05m. */
	assert_sample(fx, "candlekeep_stale_threshold_seconds{severity=\"warning\"}", "18300");
	assert_sample(fx, "candlekeep_stale_threshold_seconds{severity=\"critical\"}", "32700");
}

static void test_runs_and_histogram(void **state)
{
	struct fixture *fx = *state;
	run(fx, "sync", RUN_OK, T0, 500, 10, 0, 40);                   /* 0.5 s */
	run(fx, "sync", RUN_PARTIAL, T0 + H4, 7000, 12, 2, 90);        /* 7 s */
	run(fx, "sync", RUN_OK, T0 + 2 * H4, 65000, 8, 0, 30);         /* 65 s */
	run(fx, "sync", RUN_TIMEOUT, T0 + 3 * H4, 1800000, 5, 1, 700); /* 30 min */
	run(fx, "backfill", RUN_OK, T0, 4000000, 100, 0, 1000);        /* > 1 h */
	render(fx);
	assert_well_formed(fx);
	assert_sample(fx, "candlekeep_sync_runs_total{command=\"sync\",status=\"ok\"}", "2");
	assert_sample(fx, "candlekeep_sync_runs_total{command=\"sync\",status=\"partial\"}", "1");
	assert_sample(fx, "candlekeep_sync_runs_total{command=\"sync\",status=\"timeout\"}", "1");
	assert_sample(fx, "candlekeep_sync_runs_total{command=\"backfill\",status=\"ok\"}", "1");
	/* Cumulative buckets. */
	assert_sample(fx, "candlekeep_sync_duration_seconds_bucket{command=\"sync\",le=\"1\"}",
		      "1");
	assert_sample(fx, "candlekeep_sync_duration_seconds_bucket{command=\"sync\",le=\"5\"}",
		      "1");
	assert_sample(fx, "candlekeep_sync_duration_seconds_bucket{command=\"sync\",le=\"10\"}",
		      "2");
	assert_sample(fx, "candlekeep_sync_duration_seconds_bucket{command=\"sync\",le=\"60\"}",
		      "2");
	assert_sample(fx, "candlekeep_sync_duration_seconds_bucket{command=\"sync\",le=\"120\"}",
		      "3");
	assert_sample(fx, "candlekeep_sync_duration_seconds_bucket{command=\"sync\",le=\"1800\"}",
		      "4");
	assert_sample(fx, "candlekeep_sync_duration_seconds_bucket{command=\"sync\",le=\"+Inf\"}",
		      "4");
	assert_sample(fx, "candlekeep_sync_duration_seconds_sum{command=\"sync\"}", "1872.5");
	assert_sample(fx, "candlekeep_sync_duration_seconds_count{command=\"sync\"}", "4");
	assert_sample(fx,
		      "candlekeep_sync_duration_seconds_bucket{command=\"backfill\",le=\"3600\"}",
		      "0");
	assert_sample(fx,
		      "candlekeep_sync_duration_seconds_bucket{command=\"backfill\",le=\"+Inf\"}",
		      "1");
	/* The newest finished sync was the timeout. */
	assert_sample(fx,
		      "candlekeep_sync_last_run_status{command=\"sync\",status=\"timeout\","
		      "interval=\"4h\",market=\"um\"}",
		      "1");
	assert_sample(fx,
		      "candlekeep_sync_last_run_status{command=\"sync\",status=\"ok\",interval="
		      "\"4h\",market=\"um\"}",
		      "0");
	assert_sample(fx,
		      "candlekeep_sync_last_run_symbols{command=\"sync\",outcome=\"failed\","
		      "interval=\"4h\",market=\"um\"}",
		      "1");
	assert_sample(fx, "candlekeep_exchange_weight_used{command=\"sync\"}", "700");
	/* Last success: end of the third run, in seconds with ms. */
	assert_sample(fx,
		      "candlekeep_sync_last_success_timestamp_seconds{command=\"sync\",interval="
		      "\"4h\",market=\"um\"}",
		      "1700035265");
	/* Sums over both commands; "other" excludes the 429s. */
	assert_sample(fx, "candlekeep_exchange_requests_total{code=\"429\"}", "3");
	assert_sample(fx, "candlekeep_exchange_requests_total{code=\"other\"}", "132");
	assert_sample(fx, "candlekeep_exchange_retries_total", "3");
	/* A run still in progress is not counted as finished. */
	{
		int64_t id;
		assert_int_equal(store_run_begin(fx->st, "sync", "4h", T0 + 4 * H4, &id, &fx->err),
				 0);
		render(fx);
		assert_sample(fx, "candlekeep_sync_duration_seconds_count{command=\"sync\"}", "4");
		assert_sample(fx,
			      "candlekeep_sync_last_run_status{command=\"sync\",status=\"timeout\","
			      "interval=\"4h\",market=\"um\"}",
			      "1");
	}
}

static void test_candles_gaps_events(void **state)
{
	struct fixture *fx = *state;
	struct store_alert a;
	struct store_backup b;
	int64_t id;

	put(fx, "AAAUSDT", T0, 10, -1);
	put(fx, "BBBUSDT", T0, 10, 4); /* one missing inside the range */
	put(fx, "ZZZUSDT", T0, 3, -1); /* stored but not configured */
	assert_int_equal(store_event_add(fx->st, T0, "integrity_check", "full", 1, "ok", &fx->err),
			 0);
	assert_int_equal(
		store_event_add(fx->st, T0 + 1000, "corruption_detected", "db", 1, "x", &fx->err),
		0);
	assert_int_equal(
		store_event_add(fx->st, T0 + 2000, "corruption_detected", "db", 1, "y", &fx->err),
		0);
	assert_int_equal(store_event_add(fx->st, T0, "restore_drill", "hot", 3.25, "ok", &fx->err),
			 0);
	assert_int_equal(
		store_event_add(fx->st, T0 + H4, "restore_drill", "hot", 42, "ok", &fx->err), 0);
	assert_int_equal(store_event_add(fx->st, T0, "alert_sent", "pagerduty", 1, "k", &fx->err),
			 0);
	memset(&a, 0, sizeof(a));
	snprintf(a.key, sizeof(a.key), "backup_failed:\"hot\"\\\n");
	snprintf(a.severity, sizeof(a.severity), "critical");
	snprintf(a.state, sizeof(a.state), "firing");
	a.first_at = T0;
	assert_int_equal(store_alert_put(fx->st, &a, &fx->err), 0);
	snprintf(a.key, sizeof(a.key), "old");
	snprintf(a.state, sizeof(a.state), "resolved");
	assert_int_equal(store_alert_put(fx->st, &a, &fx->err), 0);
	memset(&b, 0, sizeof(b));
	snprintf(b.tier, sizeof(b.tier), "warm");
	snprintf(b.location, sizeof(b.location), "/w/1.db");
	snprintf(b.status, sizeof(b.status), "verified");
	b.created = T0;
	b.size = 4096;
	assert_int_equal(store_backup_put(fx->st, &b, &id, &fx->err), 0);
	snprintf(b.location, sizeof(b.location), "/w/2.db");
	snprintf(b.status, sizeof(b.status), "deleted");
	b.created = T0 + H4;
	assert_int_equal(store_backup_put(fx->st, &b, &id, &fx->err), 0);

	render(fx);
	assert_well_formed(fx);
	assert_sample(fx,
		      "candlekeep_candles_stored{symbol=\"AAAUSDT\",interval=\"4h\",market=\"um\"}",
		      "10");
	assert_sample(fx,
		      "candlekeep_candles_stored{symbol=\"BBBUSDT\",interval=\"4h\",market=\"um\"}",
		      "9");
	assert_sample(
		fx, "candlekeep_candles_missing{symbol=\"AAAUSDT\",interval=\"4h\",market=\"um\"}",
		"0");
	assert_sample(
		fx, "candlekeep_candles_missing{symbol=\"BBBUSDT\",interval=\"4h\",market=\"um\"}",
		"1");
	assert_sample(fx,
		      "candlekeep_candle_newest_open_timestamp_seconds{symbol=\"AAAUSDT\",interval="
		      "\"4h\",market=\"um\"}",
		      "1700136000");
	assert_sample(fx,
		      "candlekeep_candle_newest_close_timestamp_seconds{symbol=\"AAAUSDT\","
		      "interval=\"4h\",market=\"um\"}",
		      "1700150400");
	assert_sample(
		fx,
		"candlekeep_symbol_configured{symbol=\"CCCUSDT\",interval=\"4h\",market=\"um\"}",
		"1");
	assert_sample(
		fx,
		"candlekeep_symbol_configured{symbol=\"ZZZUSDT\",interval=\"4h\",market=\"um\"}",
		"");
	assert_sample(fx,
		      "candlekeep_candles_stored{symbol=\"ZZZUSDT\",interval=\"4h\",market=\"um\"}",
		      "3");
	assert_sample(fx, "candlekeep_database_integrity_ok{check=\"full\"}", "1");
	assert_sample(fx, "candlekeep_database_corruption_detections_total", "2");
	assert_sample(fx, "candlekeep_database_last_corruption_timestamp_seconds", "1700006402");
	assert_sample(fx, "candlekeep_restore_drill_duration_seconds", "42");
	assert_sample(fx, "candlekeep_alerts_sent_total{channel=\"pagerduty\"}", "1");
	/* Label values are escaped; resolved alerts are not firing. */
	assert_sample(fx,
		      "candlekeep_alert_firing{key=\"backup_failed:\\\"hot\\\"\\\\\\n\",severity="
		      "\"critical\"}",
		      "1");
	assert_null(strstr(fx->text, "key=\"old\""));
	/* A deleted newer backup does not hide the verified one. */
	assert_sample(fx, "candlekeep_backup_last_success_timestamp_seconds{tier=\"warm\"}",
		      "1700006400");
	assert_sample(fx, "candlekeep_backup_size_bytes{tier=\"warm\"}", "4096");
	assert_sample(fx, "candlekeep_backup_verified{tier=\"warm\"}", "1");
	assert_sample(fx, "candlekeep_backup_verified{tier=\"hot\"}", "");
}

static void test_live_and_table(void **state)
{
	struct fixture *fx = *state;
	struct metrics_live live = {7, 2, T0};
	struct ck_err problem = {0, ""};
	char *list = NULL;
	size_t listlen = 0;
	FILE *f;
	const char *p;

	assert_int_equal(
		store_event_add(fx->st, T0, "sync_skipped", "", 1, "still running", &fx->err), 0);
	free(fx->text);
	assert_int_equal(
		metrics_render(fx->st, &fx->cfg, &live, &fx->text, &fx->len, &problem, &fx->err),
		0);
	assert_sample(fx, "candlekeep_http_server_requests_total", "7");
	assert_sample(fx, "candlekeep_process_start_time_seconds", "1700006400");
	assert_sample(fx, "candlekeep_sync_skipped_total", "2");

	/* The table names every family the exposition declares, and no other. */
	f = open_memstream(&list, &listlen);
	assert_non_null(f);
	metrics_print_table(f);
	fclose(f);
	for (p = fx->text; (p = strstr(p, "# TYPE ")) != NULL; p++) {
		char name[128], want[140];
		size_t n = strcspn(p + 7, " ");
		snprintf(name, sizeof(name), "%.*s", (int)n, p + 7);
		snprintf(want, sizeof(want), "`%s`", name);
		if (!strstr(list, want))
			fail_msg("metrics_print_table lacks %s", name);
	}
	free(list);
}

/* The families added for alerting: build info, the parts read, integrity from the jobs'
 * records, the weight limit from config, exchange or default, the offsite upload and
 * the restore drill's outcome. */
static void test_alerting_families(void **state)
{
	struct fixture *fx = *state;
	struct store_backup b;
	int64_t id;

	render(fx);
	assert_non_null(strstr(fx->text, "\ncandlekeep_build_info{version=\""));
	assert_sample(fx, "candlekeep_metrics_collect_ok{part=\"candles\"}", "1");
	assert_sample(fx, "candlekeep_metrics_collect_ok{part=\"open\"}", "1");
	assert_sample(fx, "candlekeep_database_integrity_ok{check=\"quick\"}", "");
	assert_sample(fx, "candlekeep_exchange_weight_limit{source=\"default\"}", "2400");
	assert_sample(fx, "candlekeep_restore_drill_ok", "");
	assert_sample(fx, "candlekeep_backup_upload_ok{tier=\"offsite\"}", "");

	assert_int_equal(store_event_add(fx->st, T0, "integrity_check", "quick", 1, "ok", &fx->err),
			 0);
	assert_int_equal(store_event_add(fx->st, T0, "integrity_check", "full", 1, "ok", &fx->err),
			 0);
	assert_int_equal(store_event_add(fx->st, T0 + 1000, "integrity_check", "full", 0,
					 "Page 2: btreeInitPage() returns error code 11", &fx->err),
			 0);
	assert_int_equal(store_state_set(fx->st, "exchange.weight_limit", "6000", &fx->err), 0);
	assert_int_equal(store_event_add(fx->st, T0, "restore_drill", "hot", 3,
					 "restored and "
					 "verified (integrity_check ok, 10 candles)",
					 &fx->err),
			 0);
	assert_int_equal(store_event_add(fx->st, T0 + 1000, "restore_drill", "hot", 1,
					 "failed: no verified backup", &fx->err),
			 0);
	memset(&b, 0, sizeof(b));
	snprintf(b.tier, sizeof(b.tier), "offsite");
	snprintf(b.location, sizeof(b.location), "s3://bucket/a.zst");
	b.created = T0;
	snprintf(b.status, sizeof(b.status), "verified");
	assert_int_equal(store_backup_put(fx->st, &b, &id, &fx->err), 0);
	snprintf(b.location, sizeof(b.location), "s3://bucket/b.zst");
	b.created = T0 + H4;
	snprintf(b.status, sizeof(b.status), "failed");
	assert_int_equal(store_backup_put(fx->st, &b, &id, &fx->err), 0);
	render(fx);
	assert_well_formed(fx);
	assert_sample(fx, "candlekeep_database_integrity_ok{check=\"quick\"}", "1");
	assert_sample(fx, "candlekeep_database_integrity_ok{check=\"full\"}", "0");
	assert_sample(fx, "candlekeep_database_integrity_check_timestamp_seconds{check=\"full\"}",
		      "1700006401");
	assert_sample(fx, "candlekeep_exchange_weight_limit{source=\"exchange\"}", "6000");
	assert_sample(fx, "candlekeep_restore_drill_ok", "0");
	assert_sample(fx, "candlekeep_backup_upload_ok{tier=\"offsite\"}", "0");
	assert_sample(fx, "candlekeep_backup_upload_failures_total{tier=\"offsite\"}", "1");
	/* a failed upload is not a failed verification */
	assert_sample(fx, "candlekeep_backup_verified{tier=\"offsite\"}", "");

	/* the configured limit wins */
	assert_int_equal(cfg_set(&fx->cfg, "sync", "weight_limit", "1200", "test", &fx->err), 0);
	render(fx);
	assert_sample(fx, "candlekeep_exchange_weight_limit{source=\"config\"}", "1200");
	assert_sample(fx, "candlekeep_exchange_weight_limit{source=\"exchange\"}", "");
}

/* The database could not be opened because it is damaged: every part is reported
 * unreadable and the quick integrity check reads 0, with no other sample lost. */
static void test_unopenable(void **state)
{
	struct fixture *fx = *state;
	struct ck_err problem = {CK_ECORRUPT, "file is not a database"};
	free(fx->text);
	fx->text = NULL;
	assert_int_equal(
		metrics_render(NULL, &fx->cfg, NULL, &fx->text, &fx->len, &problem, &fx->err), 0);
	assert_sample(fx, "candlekeep_metrics_collect_ok{part=\"open\"}", "0");
	assert_sample(fx, "candlekeep_metrics_collect_ok{part=\"runs\"}", "0");
	assert_sample(fx, "candlekeep_database_integrity_ok{check=\"quick\"}", "0");
	assert_sample(fx, "candlekeep_sync_runs_total{command=\"sync\",status=\"ok\"}", "");
	assert_sample(fx, "candlekeep_database_size_bytes{file=\"main\"}", "");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_empty_database, setup, teardown),
		cmocka_unit_test_setup_teardown(test_runs_and_histogram, setup, teardown),
		cmocka_unit_test_setup_teardown(test_candles_gaps_events, setup, teardown),
		cmocka_unit_test_setup_teardown(test_live_and_table, setup, teardown),
		cmocka_unit_test_setup_teardown(test_alerting_families, setup, teardown),
		cmocka_unit_test_setup_teardown(test_unopenable, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
