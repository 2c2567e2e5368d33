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

static int64_t backoff(int64_t base, int64_t n)
{
	int64_t d = base;
	while (n-- > 0 && d < (int64_t)1 << 40)
		d *= 2;
	return d;
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

int64_t retry_next(const struct retry_policy *p, struct retry_state *s, enum bn_class c,
		   int64_t retry_after_s, uint64_t *rng)
{
	int64_t wait;

	switch (c) {
	case BN_NET:
		if (s->net >= p->net_max)
			return -1;
		return backoff(p->net_base_ms, s->net++);
	case BN_5XX:
		if (s->r5xx >= p->r5xx_max)
			return -1;
		return backoff(p->r5xx_base_ms, s->r5xx++);
	case BN_429:
		if (s->r429 >= p->r429_max)
			return -1;
		s->r429++;
		wait = retry_after_ms(retry_after_s, p->r429_default_s, RETRY_AFTER_CLAMP_S);
		if (p->r429_jitter_s > 0)
			wait += (int64_t)(retry_rand(rng) %
					  (uint64_t)(retry_after_ms(p->r429_jitter_s, 0,
								    RETRY_AFTER_CLAMP_S) + 1));
		return wait;
	default:
		return -1;
	}
}
