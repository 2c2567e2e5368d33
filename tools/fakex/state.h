/* state.h — everything about the fake exchange that changes while it runs: the clock,
 * the weight window, the ban, the fault settings, the fault PRNG and the counters.
 *
 * One mutex guards all of it (and the status/removed members of market symbols);
 * hold it only for short bookkeeping, never while sleeping or doing I/O. The
 * condition variable wakes sleeping requests (latency, hang) when fakex stops. */
#ifndef FAKEX_STATE_H
#define FAKEX_STATE_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include "archive.h"
#include "market.h"

#define INVALID_MAX 16

struct faults {
	double p5xx, p429, p418, phang, ptrunc, pmalformed; /* probabilities 0..1 */
	int64_t latency_ms;                                 /* added to every /fapi request */
	int64_t retry_after_s;                              /* Retry-After of an injected 429 */
	int64_t hang_ms;                                    /* how long a hung request is held */
	/* Retry-After sent on every 418 and 429 instead of the real one (0: the real one);
	 * a decimal string, so tests can send values no int64 arithmetic survives. */
	char retry_after_force[24];
	char path[32];                /* injected faults hit only /fapi paths containing this
				       * ("klines", "time", "exchangeInfo"); empty: every path */
	int64_t time_offset_ms;       /* added to /fapi/v1/time only: an exchange clock that is
				       * off while its candles are not */
	int64_t empty_from, empty_to; /* klines whose startTime lies in [from, to] (ms)
				       * answer [] (a short page, a lagging exchange);
				       * empty_to 0: off */
	int64_t exinfo_empty;         /* the next N exchangeInfo answers list no symbols (an
				       * exchange answering badly once) */
	char invalid[INVALID_MAX][SYMBOL_MAX + 1]; /* symbols served with high < low */
	int ninvalid;
	struct archive_faults archive; /* the public archive's files (archive.h) */
};

struct state {
	pthread_mutex_t lock;
	pthread_cond_t cond; /* on CLOCK_MONOTONIC; broadcast by state_stop */
	bool stopping;

	bool clock_fixed; /* true: now = clock_ms; false: now = wall + clock_ms */
	int64_t clock_ms;

	int64_t weight_limit;   /* per wall-clock minute */
	int64_t advertised;     /* limit exchangeInfo reports when > 0 (a lie), else weight_limit */
	int64_t used;           /* weight used in `minute` */
	int64_t minute;         /* wall ms / 60000 of the current window */
	int64_t throttle_until; /* wall ms: a budget 429 was sent; requests before it are banned */
	int64_t ban_until;      /* wall ms; 0: not banned */
	int64_t ban_seconds;

	struct faults f;
	uint64_t prng;

	uint64_t counts[600]; /* responses by HTTP status */
	uint64_t hangs;       /* requests never answered */
};

/* Sets up the lock and condition variable; the caller fills the settings. 0 or -1. */
int state_init(struct state *st);
void state_release(struct state *st);
/* The real clock, ms since epoch, UTC. */
int64_t wall_ms(void);
/* With the lock held: */
int64_t state_now(const struct state *st);
void state_set_now(struct state *st, int64_t now);
/* Starts a new weight window if the wall-clock minute changed. */
void state_roll(struct state *st, int64_t wall);
/* Uniform in [0, 1) from the seeded PRNG. */
double state_rand(struct state *st);
/* Without the lock: sleeps up to ms or until state_stop. Returns true if stopping. */
bool state_wait(struct state *st, int64_t ms);
/* Wakes every sleeping request; later waits return at once. */
void state_stop(struct state *st);

#endif
