/* sched.h — cron schedules: the standard 5-field expression (minute hour day-of-month
 * month day-of-week), evaluated in UTC, as the daemon's scheduler uses them.
 *
 * Accepted: numbers, `*`, ranges `a-b`, steps `*\/n`, `a-b/n` and `a/n` (from a to the
 * field's end), comma lists of these; month names jan..dec and weekday names sun..sat
 * (any case); weekday 7 is Sunday like 0; the shorthands @yearly (@annually), @monthly,
 * @weekly, @daily (@midnight) and @hourly. Day-of-month and day-of-week follow Vixie
 * cron's rule: when both are restricted (neither starts with `*`) a day matches if
 * EITHER matches; otherwise both must match (so `*` / `*\/2` in one of them means "the
 * other decides"). A schedule that can never fire (`0 0 30 2 *`) is rejected when parsed.
 *
 * Pure computation: no allocation, no clock reading, no global state; times are ms since
 * the epoch, UTC, and schedules have one-minute resolution. */
#ifndef CK_SCHED_H
#define CK_SCHED_H

#include <stdint.h>

#include "err.h"

struct sched_cron {
	uint64_t minute; /* bit m: minute m, 0..59 */
	uint32_t hour;   /* bit h: hour h, 0..23 */
	uint32_t mday;   /* bit d: day of month d, 1..31 */
	uint32_t month;  /* bit m: month m, 1..12 */
	uint32_t wday;   /* bit w: weekday w, 0..6, Sunday = 0 */
	int mday_star;   /* the day-of-month field started with '*' */
	int wday_star;   /* the day-of-week field started with '*' */
};

#define SCHED_EXPR_MAX 256 /* longest expression accepted, bytes */

/* Parses expr into *c. Returns 0, or CK_EUSAGE with a message naming the expression,
 * the field and what is wrong in it (err may be NULL). An empty expression is an error
 * here: callers treat "" as "not scheduled" before parsing. */
int sched_parse(const char *expr, struct sched_cron *c, struct ck_err *err);

/* The first time the schedule fires strictly after after_ms, into *next_ms (a whole
 * minute). Returns 0, or CK_ENOTFOUND if it does not fire in the next 30 years
 * (impossible for a schedule sched_parse accepted). */
int sched_next(const struct sched_cron *c, int64_t after_ms, int64_t *next_ms);

/* 1 if the schedule fires at the minute containing t_ms, else 0. */
int sched_matches(const struct sched_cron *c, int64_t t_ms);

/* How many times the schedule fires in (from_ms, to_ms], counting at most max. */
int64_t sched_count(const struct sched_cron *c, int64_t from_ms, int64_t to_ms, int64_t max);

/* The oldest (seconds since its close) the newest stored candle of interval iv seconds
 * gets while every run of the sync schedule c succeeds (minute and hour fields; day
 * fields ignored): before the run at s', the newest candle is the one that closed last
 * before the previous run s, so age = (s' - s) + (s mod interval) (closes fall on
 * multiples of the interval; at midnight for intervals of a day or more). At least one
 * interval. Returns 0 and *age, or -1 if the schedule fires at no minute. */
int sched_max_age_s(const struct sched_cron *c, int64_t iv, int64_t *age);

#endif
