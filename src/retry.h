/* retry.h — the one retry policy: how often a failed request is tried again and how
 * long to wait between tries. A struct retry_backoff says it for one kind of failure
 * (exponential backoff, a cap, jitter, a number of retries, a total time budget, and
 * how far a delay the server asks for, such as Retry-After, is trusted); every retry
 * loop (the exchange client, alert delivery, S3 uploads) asks retry_try_next or
 * retry_next instead of counting on its own.
 * The exchange's classes (retry_next) keep the defaults of the design candlekeep
 * replaces (network 3x 1s/2s/4s, 429 2x after Retry-After or 60 s plus 0-30 s jitter,
 * 5xx 2x 2s/4s, other 4xx and invalid data never). Pure: the caller owns the clock
 * (passes mono_ms()) and the random state. */
#ifndef CK_RETRY_H
#define CK_RETRY_H

#include <stdint.h>

#include "binance.h"
#include "cfg.h"

struct retry_backoff {
	int64_t retries;       /* tries after the first one, at most (0: none) */
	int64_t base_ms;       /* the wait before the first retry */
	int64_t factor;        /* each later wait is the previous one times this (1: constant) */
	int64_t max_ms;        /* a computed wait is at most this; 0: no cap */
	int64_t jitter_ms;     /* a uniform 0..jitter_ms is added to every wait */
	int64_t server_cap_ms; /* a delay the server asks for replaces the computed wait, but
				* never above this; 0: the server's delay is ignored */
	int64_t total_ms;      /* every try and wait ends within this many ms of the first
				* try's start; 0: no bound */
};

/* The wait in ms before retry n (0 = the first retry) of b: server_ms (the server's
 * delay in ms, -1 none; taken when b->server_cap_ms > 0, capped there), else
 * base_ms * factor^n capped at max_ms (growth stops past 2^40 ms), plus the jitter drawn from
 * *rng. Never negative; no overflow for any input. */
int64_t retry_backoff_wait(const struct retry_backoff *b, int64_t n, int64_t server_ms,
			   uint64_t *rng);

/* One request's tries under a struct retry_backoff. A retry loop reads:
 *	struct retry_try t;
 *	retry_try_begin(&t, mono_ms(), seed);
 *	for (;;) {
 *		rc = try_once(..., retry_try_left(&b, &t, mono_ms()));   (its timeout)
 *		if (rc == 0 || !retryable(rc) ||
 *		    (w = retry_try_next(&b, &t, retry_after_ms_or_minus_1, mono_ms())) < 0)
 *			break;
 *		ck_sleep_ms(w, stop);
 *	}
 * (alert.c's deliveries; an S3 upload sets server_cap_ms to the longest Retry-After it
 * trusts and total_ms to its budget). */
struct retry_try {
	int64_t retries;  /* retries granted so far */
	int64_t start_ms; /* mono ms the first try began */
	uint64_t rng;     /* jitter state */
};

/* Starts counting at now (mono ms); seed: any value (0 is replaced). */
void retry_try_begin(struct retry_try *t, int64_t now, uint64_t seed);

/* ms left of b's total budget at now (0 when spent); INT64_MAX without a budget. */
int64_t retry_try_left(const struct retry_backoff *b, const struct retry_try *t, int64_t now);

/* After a failed try, at now: the wait in ms before the next try, counting it, or -1
 * when there is to be none: the retries are spent, or the wait would not end before
 * the budget does. server_ms as in retry_backoff_wait. */
int64_t retry_try_next(const struct retry_backoff *b, struct retry_try *t, int64_t server_ms,
		       int64_t now);

struct retry_policy {
	int64_t net_max, net_base_ms;
	int64_t r429_max, r429_default_s, r429_jitter_s;
	int64_t r429_max_wait_s; /* a longer 429 wait is not waited: the request fails */
	int64_t r5xx_max, r5xx_base_ms;
	int64_t max_ban_s; /* an HTTP 418's Retry-After is capped to this */
};

/* Any wait an exchange asks for is clamped to this before it is multiplied, so no
 * Retry-After (up to INT64_MAX seconds) overflows: ten years, far above every cap. */
#define RETRY_AFTER_CLAMP_S (10LL * 365 * 86400)

/* Retries already made of one request, per class. */
struct retry_state {
	int64_t net, r429, r5xx;
};

void retry_policy_from_cfg(struct retry_policy *p, const struct cfg *c);

/* The wait in ms before the next try of a request that just failed with class c (and
 * Retry-After retry_after_s, -1 if absent), counting the try in *s; -1 when the policy
 * allows no more tries (or never retries c). *rng is a xorshift state for jitter. */
int64_t retry_next(const struct retry_policy *p, struct retry_state *s, enum bn_class c,
		   int64_t retry_after_s, uint64_t *rng);

/* Retry-After retry_after_s (-1 absent: default_s) as ms, at most cap_s seconds and
 * never above RETRY_AFTER_CLAMP_S; no overflow for any input. */
int64_t retry_after_ms(int64_t retry_after_s, int64_t default_s, int64_t cap_s);

/* 1 when a 429 wait of wait_ms may be slept: not above the policy's r429_max_wait_s
 * and not past the run's deadline (left_ms: ms left, -1 = no deadline); else 0. */
int retry_wait_fits(const struct retry_policy *p, int64_t wait_ms, int64_t left_ms);

/* The end of an HTTP 418 ban (wall ms) that began at now_ms with Retry-After
 * retry_after_s (-1 absent: 120 s, Binance's shortest), capped at p->max_ban_s. */
int64_t retry_ban_until(const struct retry_policy *p, int64_t now_ms, int64_t retry_after_s);

/* xorshift64*: the next pseudo-random number (state must not be 0). */
uint64_t retry_rand(uint64_t *rng);

#endif
