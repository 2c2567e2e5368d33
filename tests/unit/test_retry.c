/* test_retry.c — the retry policy's arithmetic: the defaults of the design it replaces
 * (network 3x 1/2/4 s, 429 2x after Retry-After or 60 s plus 0-30 s jitter, 5xx 2x
 * 2/4 s, never for 418/451/403/other 4xx), per-class counting, jitter bounds, the
 * overflow guard of the doubling, and the xorshift generator's determinism; the
 * generic backoff every retry loop uses (struct retry_backoff): a server's delay
 * honoured only up to its cap, the total time budget, the retry count, the cap and
 * the jitter's bounds. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>

#include "cfg.h"
#include "err.h"
#include "retry.h"
#include "banned.h"

static void defaults(struct retry_policy *p)
{
	struct cfg c;
	struct ck_err err;
	assert_int_equal(cfg_init(&c, &err), 0);
	retry_policy_from_cfg(p, &c);
	cfg_release(&c);
}

static void test_defaults_match_old_design(void **state)
{
	struct retry_policy p;
	(void)state;
	defaults(&p);
	assert_int_equal(p.net_max, 3);
	assert_int_equal(p.net_base_ms, 1000);
	assert_int_equal(p.r429_max, 2);
	assert_int_equal(p.r429_default_s, 60);
	assert_int_equal(p.r429_jitter_s, 30);
	assert_int_equal(p.r5xx_max, 2);
	assert_int_equal(p.r5xx_base_ms, 2000);
}

static void test_net_backoff_1_2_4_then_give_up(void **state)
{
	struct retry_policy p;
	struct retry_state s = {0, 0, 0};
	uint64_t rng = 1;
	(void)state;
	defaults(&p);
	assert_int_equal(retry_next(&p, &s, BN_NET, -1, &rng), 1000);
	assert_int_equal(retry_next(&p, &s, BN_NET, -1, &rng), 2000);
	assert_int_equal(retry_next(&p, &s, BN_NET, -1, &rng), 4000);
	assert_int_equal(retry_next(&p, &s, BN_NET, -1, &rng), -1);
	assert_int_equal(retry_next(&p, &s, BN_NET, -1, &rng), -1);
	assert_int_equal(s.net, 3);
	assert_int_equal(s.r5xx, 0);
	assert_int_equal(s.r429, 0);
}

static void test_5xx_backoff_2_4_then_give_up(void **state)
{
	struct retry_policy p;
	struct retry_state s = {0, 0, 0};
	uint64_t rng = 1;
	(void)state;
	defaults(&p);
	/* Retry-After on a 5xx does not change the back-off. */
	assert_int_equal(retry_next(&p, &s, BN_5XX, 99, &rng), 2000);
	assert_int_equal(retry_next(&p, &s, BN_5XX, -1, &rng), 4000);
	assert_int_equal(retry_next(&p, &s, BN_5XX, -1, &rng), -1);
	assert_int_equal(s.r5xx, 2);
}

static void test_classes_counted_separately(void **state)
{
	struct retry_policy p;
	struct retry_state s = {0, 0, 0};
	uint64_t rng = 1;
	(void)state;
	defaults(&p);
	p.r429_jitter_s = 0;
	/* 2 5xx retries used up do not take network retries away, and vice versa. */
	assert_true(retry_next(&p, &s, BN_5XX, -1, &rng) > 0);
	assert_true(retry_next(&p, &s, BN_5XX, -1, &rng) > 0);
	assert_int_equal(retry_next(&p, &s, BN_5XX, -1, &rng), -1);
	assert_int_equal(retry_next(&p, &s, BN_NET, -1, &rng), 1000);
	assert_int_equal(retry_next(&p, &s, BN_429, 1, &rng), 1000);
	assert_int_equal(retry_next(&p, &s, BN_NET, -1, &rng), 2000);
}

static void test_429_retry_after_and_default(void **state)
{
	struct retry_policy p;
	struct retry_state s = {0, 0, 0};
	uint64_t rng = 1;
	(void)state;
	defaults(&p);
	p.r429_jitter_s = 0;
	assert_int_equal(retry_next(&p, &s, BN_429, 7, &rng), 7000);
	assert_int_equal(retry_next(&p, &s, BN_429, -1, &rng), 60000); /* no Retry-After */
	assert_int_equal(retry_next(&p, &s, BN_429, 7, &rng), -1);
	assert_int_equal(s.r429, 2);
	/* Retry-After: 0 means "now", not "the default". */
	memset(&s, 0, sizeof(s));
	assert_int_equal(retry_next(&p, &s, BN_429, 0, &rng), 0);
}

static void test_429_jitter_within_bounds(void **state)
{
	struct retry_policy p;
	uint64_t rng = 12345;
	int64_t lo = INT64_MAX, hi = 0;
	int i;
	(void)state;
	defaults(&p); /* jitter 0..30 s */
	for (i = 0; i < 2000; i++) {
		struct retry_state s = {0, 0, 0};
		int64_t w = retry_next(&p, &s, BN_429, 5, &rng);
		assert_true(w >= 5000 && w <= 5000 + 30000);
		if (w < lo)
			lo = w;
		if (w > hi)
			hi = w;
	}
	/* The jitter is spread, not a constant. */
	assert_true(lo < 5000 + 3000);
	assert_true(hi > 5000 + 27000);
}

static void test_never_retried(void **state)
{
	static const enum bn_class never[] = {BN_OK, BN_418, BN_GEO, BN_WAF, BN_BADREQ};
	struct retry_policy p;
	uint64_t rng = 1;
	size_t i;
	(void)state;
	defaults(&p);
	for (i = 0; i < sizeof(never) / sizeof(never[0]); i++) {
		struct retry_state s = {0, 0, 0};
		assert_int_equal(retry_next(&p, &s, never[i], 1, &rng), -1);
		assert_int_equal(s.net + s.r429 + s.r5xx, 0);
	}
}

static void test_zero_max_means_no_retry(void **state)
{
	struct retry_policy p;
	struct retry_state s = {0, 0, 0};
	uint64_t rng = 1;
	(void)state;
	defaults(&p);
	p.net_max = p.r5xx_max = p.r429_max = 0;
	assert_int_equal(retry_next(&p, &s, BN_NET, -1, &rng), -1);
	assert_int_equal(retry_next(&p, &s, BN_5XX, -1, &rng), -1);
	assert_int_equal(retry_next(&p, &s, BN_429, 1, &rng), -1);
}

static void test_doubling_does_not_overflow(void **state)
{
	struct retry_policy p;
	struct retry_state s = {0, 0, 0};
	uint64_t rng = 1;
	int64_t prev = 0, w;
	int i;
	(void)state;
	defaults(&p);
	p.net_max = 200;
	p.net_base_ms = 1000;
	for (i = 0; i < 200; i++) {
		w = retry_next(&p, &s, BN_NET, -1, &rng);
		assert_true(w > 0);
		assert_true(w >= prev); /* never wraps negative, never shrinks */
		prev = w;
	}
}

static void test_rand_deterministic_and_nonzero(void **state)
{
	uint64_t a = 42, b = 42, z = 0;
	int i;
	(void)state;
	for (i = 0; i < 100; i++)
		assert_true(retry_rand(&a) == retry_rand(&b));
	/* A zero state (xorshift's fixed point) is replaced, not stuck at zero. */
	assert_true(retry_rand(&z) != 0);
	assert_true(z != 0);
	assert_true(retry_rand(&z) != retry_rand(&z));
}

/* Retry-After of any size: clamped before multiplying, never an overflow (UBSan). */
static void test_retry_after_bounded(void **state)
{
	(void)state;
	assert_int_equal(retry_after_ms(5, 60, 300), 5000);
	assert_int_equal(retry_after_ms(-1, 60, 300), 60000);
	assert_int_equal(retry_after_ms(1000000000000LL, 60, 300), 300000);
	assert_int_equal(retry_after_ms(INT64_MAX, 60, 300), 300000);
	assert_int_equal(retry_after_ms(9000000000000000000LL, 60, INT64_MAX),
			 RETRY_AFTER_CLAMP_S * 1000);
	assert_int_equal(retry_after_ms(0, 60, 300), 0);
}

/* A 418 ban lasts Retry-After, at most max_ban (3 days by default), even near INT64_MAX. */
static void test_ban_capped(void **state)
{
	struct retry_policy p;
	const int64_t now = 1796000000000LL;
	(void)state;
	defaults(&p);
	assert_int_equal(p.max_ban_s, 3 * 86400);
	assert_int_equal(retry_ban_until(&p, now, 30), now + 30000);
	assert_int_equal(retry_ban_until(&p, now, -1), now + 120000);
	assert_int_equal(retry_ban_until(&p, now, 1000000000000LL), now + 3 * 86400000LL);
	assert_int_equal(retry_ban_until(&p, now, 9000000000000000000LL), now + 3 * 86400000LL);
	assert_int_equal(retry_ban_until(&p, now, INT64_MAX), now + 3 * 86400000LL);
}

/* A 429 wait is slept only when it fits the policy's cap and the run's time left. */
static void test_429_wait_fits(void **state)
{
	struct retry_policy p;
	struct retry_state s = {0, 0, 0};
	uint64_t rng = 1;
	int64_t w;
	(void)state;
	defaults(&p);
	p.r429_jitter_s = 0;
	assert_int_equal(p.r429_max_wait_s, 300);
	assert_true(retry_wait_fits(&p, 60000, -1));
	assert_true(retry_wait_fits(&p, 300000, -1));
	assert_false(retry_wait_fits(&p, 300001, -1));
	assert_false(retry_wait_fits(&p, 60000, 59999));
	assert_true(retry_wait_fits(&p, 60000, 60000));
	/* A huge Retry-After yields a bounded wait that does not fit. */
	w = retry_next(&p, &s, BN_429, INT64_MAX, &rng);
	assert_int_equal(w, RETRY_AFTER_CLAMP_S * 1000);
	assert_false(retry_wait_fits(&p, w, -1));
	/* Jitter on top of the clamp does not overflow either. */
	p.r429_jitter_s = 3600;
	w = retry_next(&p, &s, BN_429, INT64_MAX, &rng);
	assert_true(w >= RETRY_AFTER_CLAMP_S * 1000 && w <= RETRY_AFTER_CLAMP_S * 1000 + 3600000);
}

/* A Retry-After far beyond the cap is waited only up to the cap; below it, as asked;
 * without one, the computed backoff. */
static void test_backoff_server_delay_capped(void **state)
{
	struct retry_backoff b = {5, 1000, 2, 0, 0, 30000, 0};
	uint64_t rng = 1;
	(void)state;
	assert_int_equal(retry_backoff_wait(&b, 0, 7000, &rng), 7000);
	assert_int_equal(retry_backoff_wait(&b, 0, 3600 * 1000, &rng), 30000);
	assert_int_equal(retry_backoff_wait(&b, 0, INT64_MAX, &rng), 30000);
	assert_int_equal(retry_backoff_wait(&b, 2, -1, &rng), 4000);
	/* server_cap_ms 0: the server's delay is not trusted at all */
	b.server_cap_ms = 0;
	assert_int_equal(retry_backoff_wait(&b, 1, 3600 * 1000, &rng), 2000);
}

/* The computed wait doubles up to max_ms and never overflows. */
static void test_backoff_cap_and_overflow(void **state)
{
	struct retry_backoff b = {100, 1000, 2, 10000, 0, 0, 0};
	uint64_t rng = 1;
	(void)state;
	assert_int_equal(retry_backoff_wait(&b, 0, -1, &rng), 1000);
	assert_int_equal(retry_backoff_wait(&b, 3, -1, &rng), 8000);
	assert_int_equal(retry_backoff_wait(&b, 4, -1, &rng), 10000);
	assert_int_equal(retry_backoff_wait(&b, 1000, -1, &rng), 10000);
	b.max_ms = 0;
	b.factor = INT64_MAX;
	assert_true(retry_backoff_wait(&b, 1000, -1, &rng) > 0);
	b.factor = 1;
	assert_int_equal(retry_backoff_wait(&b, 1000, -1, &rng), 1000);
}

/* Jitter adds 0..jitter_ms, both ends reachable in many draws, never outside. */
static void test_backoff_jitter_bounds(void **state)
{
	struct retry_backoff b = {3, 500, 2, 0, 100, 0, 0};
	uint64_t rng = 42;
	int lo = 0, hi = 0;
	(void)state;
	for (int i = 0; i < 20000; i++) {
		int64_t w = retry_backoff_wait(&b, 1, -1, &rng);
		assert_true(w >= 1000 && w <= 1100);
		lo |= w == 1000;
		hi |= w == 1100;
	}
	assert_true(lo && hi);
}

/* retry_try_next grants the retries, then -1; a wait that would not end within the
 * total budget is refused, so tries and waits together stay inside it. */
static void test_try_retries_and_total_budget(void **state)
{
	struct retry_backoff b = {2, 250, 2, 0, 0, 0, 0};
	struct retry_try t;
	int64_t now = 1000000, w, waited = 0;
	(void)state;

	retry_try_begin(&t, now, 0);
	assert_int_equal(retry_try_left(&b, &t, now), INT64_MAX);
	assert_int_equal(retry_try_next(&b, &t, -1, now), 250);
	assert_int_equal(retry_try_next(&b, &t, -1, now), 500);
	assert_int_equal(retry_try_next(&b, &t, -1, now), -1);

	/* budget 1 s, tries of 100 ms each: 100 + 250 + 100 + 500 + 100 = 1050 > 1000, so
	 * the third wait (1 s) is refused; the second (500 ms, 550 left) is not */
	b.retries = 10;
	b.total_ms = 1000;
	retry_try_begin(&t, now, 0);
	now += 100;
	assert_int_equal(w = retry_try_next(&b, &t, -1, now), 250);
	now += w + 100;
	assert_int_equal(retry_try_left(&b, &t, now), 550);
	assert_int_equal(w = retry_try_next(&b, &t, -1, now), 500);
	now += w + 100;
	assert_int_equal(retry_try_left(&b, &t, now), 0);
	assert_int_equal(retry_try_next(&b, &t, -1, now), -1);
	/* a wait equal to what is left is refused too: it would end at the budget's end */
	retry_try_begin(&t, 0, 0);
	b.base_ms = 1000;
	assert_int_equal(retry_try_next(&b, &t, -1, 0), -1);
	b.base_ms = 250;

	/* with jitter and a server delay, the sum of all waits stays under the budget */
	b = (struct retry_backoff){50, 10, 2, 400, 50, 300, 5000};
	retry_try_begin(&t, 0, 7);
	now = 0;
	while ((w = retry_try_next(&b, &t, waited % 2 ? 10000 : -1, now)) >= 0) {
		assert_true(w < retry_try_left(&b, &t, now));
		waited += w;
		now += w + 20; /* each try takes 20 ms */
	}
	assert_true(now <= 5000 + 20);
	assert_true(waited < 5000);
	assert_int_equal(retry_try_left(&b, &t, 6000), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_defaults_match_old_design),
		cmocka_unit_test(test_net_backoff_1_2_4_then_give_up),
		cmocka_unit_test(test_5xx_backoff_2_4_then_give_up),
		cmocka_unit_test(test_classes_counted_separately),
		cmocka_unit_test(test_429_retry_after_and_default),
		cmocka_unit_test(test_429_jitter_within_bounds),
		cmocka_unit_test(test_never_retried),
		cmocka_unit_test(test_zero_max_means_no_retry),
		cmocka_unit_test(test_doubling_does_not_overflow),
		cmocka_unit_test(test_rand_deterministic_and_nonzero),
		cmocka_unit_test(test_retry_after_bounded),
		cmocka_unit_test(test_ban_capped),
		cmocka_unit_test(test_429_wait_fits),
		cmocka_unit_test(test_backoff_server_delay_capped),
		cmocka_unit_test(test_backoff_cap_and_overflow),
		cmocka_unit_test(test_backoff_jitter_bounds),
		cmocka_unit_test(test_try_retries_and_total_budget),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
