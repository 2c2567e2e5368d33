/* retry.h — the retry policy: which failures are retried, how often, and how long to
 * wait. Defaults come from the design candlekeep replaces (network 3x 1s/2s/4s, 429 2x
 * after Retry-After or 60 s plus 0-30 s jitter, 5xx 2x 2s/4s, other 4xx and invalid
 * data never). Pure: the caller owns the clock and the random state. */
#ifndef CK_RETRY_H
#define CK_RETRY_H

#include <stdint.h>

#include "binance.h"
#include "cfg.h"

struct retry_policy {
	int64_t net_max, net_base_ms;
	int64_t r429_max, r429_default_s, r429_jitter_s;
	int64_t r429_max_wait_s; /* a longer 429 wait is not waited: the request fails */
	int64_t r5xx_max, r5xx_base_ms;
	int64_t max_ban_s;       /* an HTTP 418's Retry-After is capped to this */
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
