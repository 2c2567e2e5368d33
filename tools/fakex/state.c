/* state.c — see state.h. */
#include <errno.h>
#include <time.h>

#include "banned.h"
#include "state.h"

int state_init(struct state *st)
{
	pthread_condattr_t ca;
	if (pthread_mutex_init(&st->lock, NULL))
		return -1;
	if (pthread_condattr_init(&ca) || pthread_condattr_setclock(&ca, CLOCK_MONOTONIC) ||
	    pthread_cond_init(&st->cond, &ca)) {
		pthread_mutex_destroy(&st->lock);
		return -1;
	}
	pthread_condattr_destroy(&ca);
	return 0;
}

void state_release(struct state *st)
{
	if (!st)
		return;
	pthread_cond_destroy(&st->cond);
	pthread_mutex_destroy(&st->lock);
}

int64_t wall_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int64_t state_now(const struct state *st)
{
	return st->clock_fixed ? st->clock_ms : wall_ms() + st->clock_ms;
}

void state_set_now(struct state *st, int64_t now)
{
	st->clock_ms = st->clock_fixed ? now : now - wall_ms();
}

void state_roll(struct state *st, int64_t wall)
{
	int64_t minute = wall / 60000;
	if (minute != st->minute) {
		st->minute = minute;
		st->used = 0;
	}
}

double state_rand(struct state *st)
{
	/* xorshift64*; the seed is never 0 (see main) */
	uint64_t x = st->prng;
	x ^= x >> 12;
	x ^= x << 25;
	x ^= x >> 27;
	st->prng = x;
	return (double)((x * 0x2545F4914F6CDD1DULL) >> 11) * 0x1.0p-53;
}

bool state_wait(struct state *st, int64_t ms)
{
	struct timespec until;
	clock_gettime(CLOCK_MONOTONIC, &until);
	until.tv_sec += (time_t)(ms / 1000);
	until.tv_nsec += (long)(ms % 1000) * 1000000L;
	if (until.tv_nsec >= 1000000000L) {
		until.tv_sec++;
		until.tv_nsec -= 1000000000L;
	}
	pthread_mutex_lock(&st->lock);
	while (!st->stopping)
		if (pthread_cond_timedwait(&st->cond, &st->lock, &until) == ETIMEDOUT)
			break;
	bool stopping = st->stopping;
	pthread_mutex_unlock(&st->lock);
	return stopping;
}

void state_stop(struct state *st)
{
	pthread_mutex_lock(&st->lock);
	st->stopping = true;
	pthread_cond_broadcast(&st->cond);
	pthread_mutex_unlock(&st->lock);
}
