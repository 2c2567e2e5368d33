/* test_sync.c — the pieces the sync engine decides with: the run lock (a second holder
 * gets CK_ELOCKED naming the holder's pid, even from a forked process; a dead holder's
 * lock is free at once; probe), the kline weight table and page-size arithmetic, the
 * classification of exchange answers into retry classes, and the klines URL. Sync runs
 * against fakex are in tests/e2e/t21*.sh. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "binance.h"
#include "err.h"
#include "http.h"
#include "lock.h"
#include "store.h"
#include "sync.h"
#include "banned.h"

struct fixture {
	char dir[64];
	char db[128];
	struct ck_err err;
};

static int setup(void **state)
{
	struct fixture *fx = calloc(1, sizeof(*fx));
	assert_non_null(fx);
	snprintf(fx->dir, sizeof(fx->dir), "/tmp/ck-test-sync.XXXXXX");
	assert_non_null(mkdtemp(fx->dir));
	snprintf(fx->db, sizeof(fx->db), "%s/c.db", fx->dir);
	*state = fx;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *fx = *state;
	char cmd[128];
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", fx->dir);
	if (system(cmd) != 0)
		return -1;
	free(fx);
	return 0;
}

static void test_lock_excludes_and_names_pid(void **state)
{
	struct fixture *fx = *state;
	struct lock *a = NULL, *b = NULL;
	long pid = 0;
	long long since = 0;
	char want[32];

	assert_int_equal(lock_probe(fx->db, &pid, &since, &fx->err), 0);
	assert_int_equal(lock_acquire(&a, fx->db, "sync", 0640, &fx->err), 0);
	assert_int_equal(lock_probe(fx->db, &pid, &since, &fx->err), 1);
	assert_int_equal(pid, (long)getpid());
	assert_true(since > 1600000000LL);
	/* A second acquire in the same process is refused too (flock per open file). */
	assert_int_equal(lock_acquire(&b, fx->db, "sync", 0640, &fx->err), CK_ELOCKED);
	assert_null(b);
	snprintf(want, sizeof(want), "%ld", (long)getpid());
	assert_non_null(strstr(fx->err.msg, want));
	lock_release(a);
	assert_int_equal(lock_probe(fx->db, &pid, &since, &fx->err), 0);
	assert_int_equal(lock_acquire(&b, fx->db, "sync", 0640, &fx->err), 0);
	lock_release(b);
	lock_release(NULL);
}

static void test_lock_dies_with_holder(void **state)
{
	struct fixture *fx = *state;
	struct lock *l = NULL;
	int p[2], st;
	char c, want[32];
	pid_t child;

	assert_int_equal(pipe(p), 0);
	child = fork();
	assert_true(child >= 0);
	if (child == 0) {
		struct lock *cl = NULL;
		struct ck_err e;
		close(p[0]);
		if (lock_acquire(&cl, fx->db, "sync", 0640, &e) != 0)
			_exit(3);
		if (write(p[1], "x", 1) != 1)
			_exit(4);
		pause(); /* killed with SIGKILL, never releases */
		_exit(0);
	}
	close(p[1]);
	assert_int_equal(read(p[0], &c, 1), 1);
	close(p[0]);
	assert_int_equal(lock_acquire(&l, fx->db, "sync", 0640, &fx->err), CK_ELOCKED);
	snprintf(want, sizeof(want), "pid %ld", (long)child);
	assert_non_null(strstr(fx->err.msg, want));
	assert_int_equal(kill(child, SIGKILL), 0);
	assert_int_equal(waitpid(child, &st, 0), child);
	/* The lock file is still there, but the kernel dropped the lock. */
	assert_int_equal(lock_acquire(&l, fx->db, "sync", 0640, &fx->err), 0);
	lock_release(l);
}

static void test_lock_unwritable_dir(void **state)
{
	struct lock *l = NULL;
	struct ck_err err = {0, ""};
	(void)state;
	assert_int_equal(lock_acquire(&l, "/nonexistent-dir-ck/c.db", "sync", 0640, &err), CK_EIO);
	assert_null(l);
	assert_non_null(strstr(err.msg, "/nonexistent-dir-ck/c.db.lock"));
}

static void test_kline_weight(void **state)
{
	(void)state;
	/* Binance USD-M: limit 1-99: 1, 100-499: 2, 500-1000: 5, above: 10. */
	assert_int_equal(binance_kline_weight(1), 1);
	assert_int_equal(binance_kline_weight(99), 1);
	assert_int_equal(binance_kline_weight(100), 2);
	assert_int_equal(binance_kline_weight(499), 2);
	assert_int_equal(binance_kline_weight(500), 5);
	assert_int_equal(binance_kline_weight(1000), 5);
	assert_int_equal(binance_kline_weight(1001), 10);
	assert_int_equal(binance_kline_weight(1500), 10);
}

static void test_499_is_the_best_page(void **state)
{
	/* Candles per unit of weight: the default page of 499 beats every other size. */
	double best = 0;
	int64_t best_limit = 0, l;
	(void)state;
	for (l = 1; l <= 1500; l++) {
		double per = (double)l / binance_kline_weight(l);
		if (per > best) {
			best = per;
			best_limit = l;
		}
	}
	assert_int_equal(best_limit, 499);
}

static void test_classify(void **state)
{
	static const struct {
		int curl;
		long status;
		enum bn_class want;
	} cases[] = {
		{28, 0, BN_NET},  {7, 0, BN_NET},    {18, 200, BN_NET}, /* partial body */
		{0, 0, BN_NET},   {0, 200, BN_OK},   {0, 204, BN_OK},   {0, 429, BN_429},
		{0, 418, BN_418}, {0, 451, BN_GEO},  {0, 403, BN_WAF},  {0, 500, BN_5XX},
		{0, 502, BN_5XX}, {0, 503, BN_5XX},  {0, 504, BN_5XX},  {0, 400, BN_BADREQ},
		{0, 404, BN_BADREQ},
	};
	size_t i;
	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct http_req r;
		memset(&r, 0, sizeof(r));
		r.curl_code = cases[i].curl;
		r.status = cases[i].status;
		assert_int_equal(binance_classify(&r), cases[i].want);
	}
	assert_string_equal(binance_class_name(BN_418), "418");
}

static void test_klines_url(void **state)
{
	char buf[256], tiny[40];
	(void)state;
	assert_int_equal(binance_klines_url(buf, sizeof(buf), "http://127.0.0.1:9", "BTCUSDT", "4h",
					    1700006400000LL, 1700020800000LL, 2), 0);
	assert_string_equal(buf, "http://127.0.0.1:9/fapi/v1/klines?symbol=BTCUSDT&interval=4h"
				 "&startTime=1700006400000&endTime=1700020800000&limit=2");
	/* Too long for the buffer: an error, never a truncated URL. */
	assert_true(binance_klines_url(tiny, sizeof(tiny), "http://127.0.0.1:9", "BTCUSDT", "4h",
				       1700006400000LL, 1700020800000LL, 2) != 0);
}

/* A hole is confirmed only by a second empty answer an hour or more after the first by
 * both clocks, with both clocks a day or more past the gap. */
static void test_hole_corroboration(void **state)
{
	const int64_t H = 3600000, D = 24 * H, iv = 4 * H, gap_last = 1700000000000LL - 1700000000000LL % iv;
	const int64_t t1 = gap_last + iv + 2 * D; /* first observation: two days after */
	struct store_hole h = {gap_last - iv, gap_last, t1, t1, 0, 1, 0};
	(void)state;
	/* The same run, or minutes later: no. */
	assert_false(sync_hole_confirms(&h, gap_last, iv, t1, t1));
	assert_false(sync_hole_confirms(&h, gap_last, iv, t1 + H - 1, t1 + H));
	assert_false(sync_hole_confirms(&h, gap_last, iv, t1 + H, t1 + H - 1));
	/* An hour later by both clocks: yes. */
	assert_true(sync_hole_confirms(&h, gap_last, iv, t1 + H, t1 + H));
	/* Never observed (no first observation): no. */
	h.runs = 0;
	assert_false(sync_hole_confirms(&h, gap_last, iv, t1 + D, t1 + D));
	h.runs = 1;
	/* Observed while the gap was fresh: both clocks must be a day past it. */
	h.first_seen = h.first_seen_exchange = gap_last + iv;
	assert_false(sync_hole_confirms(&h, gap_last, iv, gap_last + iv + 2 * H,
					gap_last + iv + 2 * H));
	assert_false(sync_hole_confirms(&h, gap_last, iv, gap_last + iv + D, gap_last + iv + D - 1));
	assert_false(sync_hole_confirms(&h, gap_last, iv, gap_last + iv + D - 1, gap_last + iv + D));
	assert_true(sync_hole_confirms(&h, gap_last, iv, gap_last + iv + D, gap_last + iv + D));
	/* An exchange clock that lags (behind its own first reading): no. */
	h.first_seen = h.first_seen_exchange = t1;
	assert_false(sync_hole_confirms(&h, gap_last, iv, t1 + D, t1 - D));
}

/* Closed only when both clocks agree (within the allowed skew). */
static void test_close_limit(void **state)
{
	const int64_t t = 1773943200000LL, H = 3600000;
	(void)state;
	assert_int_equal(sync_close_limit(t, t, 60000), t);              /* agree */
	assert_int_equal(sync_close_limit(t + 4 * H, t, 60000), t + 60000); /* exchange ahead */
	assert_int_equal(sync_close_limit(t, t + 4 * H, 60000), t);      /* exchange lags */
	assert_int_equal(sync_close_limit(t + 30000, t, 60000), t + 30000); /* within skew */
	assert_int_equal(sync_close_limit(t + 4 * H, t, 0), t);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_lock_excludes_and_names_pid, setup, teardown),
		cmocka_unit_test_setup_teardown(test_lock_dies_with_holder, setup, teardown),
		cmocka_unit_test(test_lock_unwritable_dir),
		cmocka_unit_test(test_kline_weight),
		cmocka_unit_test(test_499_is_the_best_page),
		cmocka_unit_test(test_classify),
		cmocka_unit_test(test_klines_url),
		cmocka_unit_test(test_hole_corroboration),
		cmocka_unit_test(test_close_limit),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
