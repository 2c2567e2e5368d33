/* retry.c — back-off arithmetic. */
#include "retry.h"
#include "banned.h"

void retry_policy_from_cfg(struct retry_policy *p, const struct cfg *c)
{
	p->net_max = c->retry_net_max;
	p->net_base_ms = c->retry_net_base_ms;
	p->r429_max = c->retry_429_max;
	p->r429_default_s = c->retry_429_default_s;
	p->r429_jitter_s = c->retry_429_jitter_s;
	p->r429_max_wait_s = c->retry_429_max_wait_s;
	p->max_ban_s = c->max_ban_s;
	p->r5xx_max = c->retry_5xx_max;
	p->r5xx_base_ms = c->retry_5xx_base_ms;
}

uint64_t retry_rand(uint64_t *rng)
{
	uint64_t x = *rng ? *rng : 0x9e3779b97f4a7c15ull;
	x ^= x >> 12;
	x ^= x << 25;
	x ^= x >> 27;
	*rng = x;
	return x * 0x2545f4914f6cdd1dull;
}

#define RETRY_WAIT_CEIL ((int64_t)1 << 40) /* ms, ~35 years: no wait grows once past it */

int64_t retry_backoff_wait(const struct retry_backoff *b, int64_t n, int64_t server_ms,
			   uint64_t *rng)
{
	int64_t d = b->base_ms > 0 ? b->base_ms : 0;

	if (b->server_cap_ms > 0 && server_ms >= 0) {
		d = server_ms < b->server_cap_ms ? server_ms : b->server_cap_ms;
	} else {
		while (n-- > 0 && b->factor > 1 && d < RETRY_WAIT_CEIL)
			d = d > INT64_MAX / b->factor ? INT64_MAX : d * b->factor;
		if (b->max_ms > 0 && d > b->max_ms)
			d = b->max_ms;
	}
	if (b->jitter_ms > 0)
		d += (int64_t)(retry_rand(rng) % (uint64_t)(b->jitter_ms + 1));
	return d;
}

void retry_try_begin(struct retry_try *t, int64_t now, uint64_t seed)
{
	t->retries = 0;
	t->start_ms = now;
	t->rng = seed ? seed : 0x9e3779b97f4a7c15ull;
}

int64_t retry_try_left(const struct retry_backoff *b, const struct retry_try *t, int64_t now)
{
	int64_t left;

	if (b->total_ms <= 0)
		return INT64_MAX;
	left = t->start_ms + b->total_ms - now;
	return left > 0 ? left : 0;
}

int64_t retry_try_next(const struct retry_backoff *b, struct retry_try *t, int64_t server_ms,
		       int64_t now)
{
	int64_t w;

	if (t->retries >= b->retries)
		return -1;
	w = retry_backoff_wait(b, t->retries, server_ms, &t->rng);
	if (w >= retry_try_left(b, t, now))
		return -1;
	t->retries++;
	return w;
}

int64_t retry_after_ms(int64_t retry_after_s, int64_t default_s, int64_t cap_s)
{
	int64_t s = retry_after_s >= 0 ? retry_after_s : default_s;

	if (cap_s > RETRY_AFTER_CLAMP_S)
		cap_s = RETRY_AFTER_CLAMP_S;
	if (s < 0)
		s = 0;
	if (s > cap_s)
		s = cap_s;
	return s * 1000;
}

int retry_wait_fits(const struct retry_policy *p, int64_t wait_ms, int64_t left_ms)
{
	if (wait_ms > retry_after_ms(p->r429_max_wait_s, 0, RETRY_AFTER_CLAMP_S))
		return 0;
	return left_ms < 0 || wait_ms <= left_ms;
}

int64_t retry_ban_until(const struct retry_policy *p, int64_t now_ms, int64_t retry_after_s)
{
	return now_ms + retry_after_ms(retry_after_s > 0 ? retry_after_s : 120, 120, p->max_ban_s);
}

/* The exchange's classes as backoffs (retries counted by the caller's retry_state). */
static struct retry_backoff class_backoff(const struct retry_policy *p, enum bn_class c)
{
	struct retry_backoff b = {0, 0, 2, 0, 0, 0, 0};

	switch (c) {
	case BN_NET:
		b.retries = p->net_max;
		b.base_ms = p->net_base_ms;
		break;
	case BN_5XX:
		b.retries = p->r5xx_max;
		b.base_ms = p->r5xx_base_ms;
		break;
	case BN_429: /* Retry-After (to the clamp), else the default; no doubling */
		b.retries = p->r429_max;
		b.base_ms = retry_after_ms(p->r429_default_s, 0, RETRY_AFTER_CLAMP_S);
		b.factor = 1;
		b.jitter_ms = retry_after_ms(p->r429_jitter_s, 0, RETRY_AFTER_CLAMP_S);
		b.server_cap_ms = RETRY_AFTER_CLAMP_S * 1000;
		break;
	default:
		break;
	}
	return b;
}

int64_t retry_next(const struct retry_policy *p, struct retry_state *s, enum bn_class c,
		   int64_t retry_after_s, uint64_t *rng)
{
	struct retry_backoff b = class_backoff(p, c);
	int64_t *n;

	switch (c) {
	case BN_NET:
		n = &s->net;
		break;
	case BN_5XX:
		n = &s->r5xx;
		break;
	case BN_429:
		n = &s->r429;
		break;
	default:
		return -1;
	}
	if (*n >= b.retries)
		return -1;
	return retry_backoff_wait(
		&b, (*n)++,
		retry_after_s >= 0 ? retry_after_ms(retry_after_s, 0, RETRY_AFTER_CLAMP_S) : -1,
		rng);
}
