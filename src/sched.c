/* sched.c — the cron parser and the next-fire-time search (see sched.h).
 *
 * The parser expands each field into a bit set. The search walks calendar fields from
 * the largest down (month, day, hour, minute), jumping to the start of the next unit
 * when one does not match, so a yearly schedule costs a few dozen steps, not a loop
 * over every minute. Calendar arithmetic is done on days since the epoch (proleptic
 * Gregorian, Howard Hinnant's civil algorithms), never through the C library's time
 * zone machinery. */
#include <ctype.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "sched.h"
#include "banned.h"

#define MIN_MS INT64_C(60000)
#define DAY_MIN 1440

struct field_def {
	const char *name;
	int lo, hi;
	const char *const *names; /* names[i] stands for lo + i, or NULL */
};

static const char *const month_names[] = {"jan", "feb", "mar", "apr", "may", "jun", "jul",
					  "aug", "sep", "oct", "nov", "dec", NULL};
static const char *const wday_names[] = {"sun", "mon", "tue", "wed", "thu", "fri", "sat", NULL};

static const struct field_def fields[5] = {
	{"minute", 0, 59, NULL},           {"hour", 0, 23, NULL},
	{"day of month", 1, 31, NULL},     {"month", 1, 12, month_names},
	{"day of week", 0, 7, wday_names},
};

static const struct {
	const char *name, *expr;
} shorthands[] = {
	{"@yearly", "0 0 1 1 *"}, {"@annually", "0 0 1 1 *"}, {"@monthly", "0 0 1 * *"},
	{"@weekly", "0 0 * * 0"}, {"@daily", "0 0 * * *"},    {"@midnight", "0 0 * * *"},
	{"@hourly", "0 * * * *"},
};

/* ---- calendar ------------------------------------------------------------------ */

static int64_t floor_div(int64_t a, int64_t b)
{
	int64_t q = a / b;
	return (a % b != 0 && (a < 0) != (b < 0)) ? q - 1 : q;
}

static void civil_from_days(int64_t z, int64_t *y, int *m, int *d)
{
	int64_t era, doe, yoe, doy, mp;

	z += 719468;
	era = floor_div(z, 146097);
	doe = z - era * 146097;
	yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	mp = (5 * doy + 2) / 153;
	*d = (int)(doy - (153 * mp + 2) / 5 + 1);
	*m = (int)(mp < 10 ? mp + 3 : mp - 9);
	*y = yoe + era * 400 + (*m <= 2);
}

static int is_leap(int64_t y)
{
	return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

static int month_days(int64_t y, int m)
{
	static const int n[13] = {0, 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
	return m == 2 && is_leap(y) ? 29 : n[m];
}

/* 0 = Sunday. 1970-01-01 was a Thursday. */
static int weekday(int64_t days)
{
	int64_t w = (days + 4) % 7;
	return (int)(w < 0 ? w + 7 : w);
}

/* ---- parsing -------------------------------------------------------------------- */

static int perr(struct ck_err *err, const char *expr, int fi, const char *item, const char *what)
{
	if (fi < 0)
		return ck_err_set(err, CK_EUSAGE,
				  "cron schedule '%.80s': %s (5 fields: minute "
				  "hour day-of-month month day-of-week, UTC)",
				  expr, what);
	return ck_err_set(err, CK_EUSAGE, "cron schedule '%.80s': %s field '%.40s': %s", expr,
			  fields[fi].name, item, what);
}

/* One value: a number or (month, weekday) a three-letter name. Advances *p. */
static int parse_value(const char **p, const struct field_def *f, int *out)
{
	const char *s = *p;
	long v = 0;

	if (isdigit((unsigned char)*s)) {
		int digits = 0;
		while (isdigit((unsigned char)*s)) {
			if (++digits > 3)
				return -1;
			v = v * 10 + (*s++ - '0');
		}
	} else if (f->names && isalpha((unsigned char)*s)) {
		int i;
		for (i = 0; f->names[i]; i++)
			if (!strncasecmp(s, f->names[i], 3) && !isalpha((unsigned char)s[3]))
				break;
		if (!f->names[i])
			return -1;
		v = f->lo + i;
		s += 3;
	} else {
		return -1;
	}
	*p = s;
	*out = (int)v;
	return 0;
}

/* Expands one field (text [f, f+len)) into *set. */
static int parse_field(const char *expr, const char *txt, size_t len, int fi, uint64_t *set,
		       int *star, struct ck_err *err)
{
	const struct field_def *fd = &fields[fi];
	char buf[SCHED_EXPR_MAX], item[SCHED_EXPR_MAX];
	const char *p, *end;

	memcpy(buf, txt, len);
	buf[len] = '\0';
	*set = 0;
	*star = buf[0] == '*';
	p = buf;
	for (;;) {
		int a, b, step = 1, has_range = 0;
		size_t ilen;

		end = strchr(p, ',');
		ilen = end ? (size_t)(end - p) : strlen(p);
		memcpy(item, p, ilen);
		item[ilen] = '\0';
		if (!ilen)
			return perr(err, expr, fi, buf, "empty list item (write 1,2 not 1,,2)");
		if (*p == '*') {
			a = fd->lo;
			b = fd->hi;
			p++;
			has_range = 1;
		} else {
			if (parse_value(&p, fd, &a))
				return perr(err, expr, fi, item,
					    fd->names ? "expected a number or a three-letter name"
						      : "expected a number, *, a range a-b or a "
							"step */n");
			b = a;
			if (*p == '-') {
				p++;
				if (parse_value(&p, fd, &b))
					return perr(err, expr, fi, item,
						    "a range needs an end: a-b");
				has_range = 1;
			}
		}
		if (*p == '/') {
			const char *q = ++p;
			long s = 0;
			while (isdigit((unsigned char)*p) && p - q < 4)
				s = s * 10 + (*p++ - '0');
			if (p == q || isdigit((unsigned char)*p))
				return perr(err, expr, fi, item,
					    "a step needs a number: */n or a-b/n");
			if (s < 1)
				return perr(err, expr, fi, item, "a step of 0 never advances");
			step = (int)s;
			if (!has_range)
				b = fd->hi; /* a/n: from a to the field's end */
		}
		if (*p && *p != ',')
			return perr(err, expr, fi, item, "unexpected characters");
		if (a < fd->lo || a > fd->hi || b < fd->lo || b > fd->hi) {
			char why[80];
			snprintf(why, sizeof(why), "value out of range %d-%d", fd->lo, fd->hi);
			return perr(err, expr, fi, item, why);
		}
		if (a > b)
			return perr(err, expr, fi, item,
				    "a range must go upwards (write 22-23,0-1, not 22-1)");
		for (int x = a; x <= b; x += step)
			*set |= UINT64_C(1) << x;
		if (!*p)
			break;
		p++; /* the comma */
	}
	return 0;
}

int sched_parse(const char *expr, struct sched_cron *c, struct ck_err *err)
{
	const char *p, *f[6];
	size_t fl[6], n = 0, i;
	uint64_t set[5];
	int star[5];

	memset(c, 0, sizeof(*c));
	if (!expr)
		return perr(err, "", -1, NULL, "no schedule given");
	if (strlen(expr) >= SCHED_EXPR_MAX)
		return ck_err_set(err, CK_EUSAGE,
				  "cron schedule '%.40s...': longer than %d "
				  "characters",
				  expr, SCHED_EXPR_MAX - 1);
	while (*expr == ' ' || *expr == '\t')
		expr++;
	if (*expr == '@') {
		size_t len = strcspn(expr, " \t");
		for (p = expr + len; *p == ' ' || *p == '\t'; p++)
			;
		for (i = 0; i < sizeof(shorthands) / sizeof(shorthands[0]); i++)
			if (strlen(shorthands[i].name) == len &&
			    !strncasecmp(expr, shorthands[i].name, len) && !*p)
				return sched_parse(shorthands[i].expr, c, err);
		return perr(err, expr, -1, NULL,
			    "unknown shorthand (known: @yearly @annually "
			    "@monthly @weekly @daily @midnight @hourly)");
	}
	for (p = expr; *p;) {
		while (*p == ' ' || *p == '\t')
			p++;
		if (!*p)
			break;
		if (n == 5)
			return perr(err, expr, -1, NULL, "more than 5 fields");
		f[n] = p;
		while (*p && *p != ' ' && *p != '\t')
			p++;
		fl[n] = (size_t)(p - f[n]);
		n++;
	}
	if (n != 5) {
		char why[64];
		snprintf(why, sizeof(why), "%zu field%s, not 5", n, n == 1 ? "" : "s");
		return perr(err, expr, -1, NULL, why);
	}
	for (i = 0; i < 5; i++)
		if (parse_field(expr, f[i], fl[i], (int)i, &set[i], &star[i], err))
			return err ? err->code : CK_EUSAGE;
	c->minute = set[0];
	c->hour = (uint32_t)set[1];
	c->mday = (uint32_t)set[2];
	c->month = (uint32_t)set[3];
	c->wday = (uint32_t)((set[4] & 0x7f) | ((set[4] >> 7) & 1)); /* 7 = Sunday */
	c->mday_star = star[2];
	c->wday_star = star[4];

	/* A schedule restricted by day of month only must name a day some chosen month
	 * has (Feb 29 counts: it fires in leap years). */
	if (c->wday_star || c->mday_star) {
		int ok = 0;
		for (int m = 1; m <= 12 && !ok; m++) {
			if (!(c->month & (UINT32_C(1) << m)))
				continue;
			for (int d = 1; d <= month_days(2000, m) && !ok; d++)
				ok = (c->mday >> d) & 1;
		}
		if (!ok)
			return perr(err, expr, -1, NULL,
				    "the days of month chosen never occur in "
				    "the months chosen, so it would never run");
	}
	return 0;
}

/* ---- matching and searching ---------------------------------------------------- */

static int day_matches(const struct sched_cron *c, int64_t days, int d)
{
	int dom = (c->mday >> d) & 1;
	int dow = (c->wday >> weekday(days)) & 1;

	if (c->mday_star || c->wday_star)
		return dom && dow;
	return dom || dow;
}

int sched_matches(const struct sched_cron *c, int64_t t_ms)
{
	int64_t mins = floor_div(t_ms, MIN_MS), days = floor_div(mins, DAY_MIN), y;
	int mod = (int)(mins - days * DAY_MIN), m, d;

	civil_from_days(days, &y, &m, &d);
	return ((c->month >> m) & 1) && day_matches(c, days, d) && ((c->hour >> (mod / 60)) & 1) &&
	       ((c->minute >> (mod % 60)) & 1);
}

int sched_next(const struct sched_cron *c, int64_t after_ms, int64_t *next_ms)
{
	int64_t mins = floor_div(after_ms, MIN_MS) + 1; /* strictly after */
	int64_t days = floor_div(mins, DAY_MIN), y, ylimit;
	int mod = (int)(mins - days * DAY_MIN), m, d, h = mod / 60, mi = mod % 60;

	civil_from_days(days, &y, &m, &d);
	ylimit = y + 30;
	while (y <= ylimit) {
		if (!((c->month >> m) & 1)) {
			/* the first day of the next month */
			days += month_days(y, m) - d + 1;
			d = 1, h = 0, mi = 0;
			if (++m > 12)
				m = 1, y++;
			continue;
		}
		if (!day_matches(c, days, d)) {
			days++;
			h = 0, mi = 0;
			if (++d > month_days(y, m)) {
				d = 1;
				if (++m > 12)
					m = 1, y++;
			}
			continue;
		}
		if (!((c->hour >> h) & 1)) {
			mi = 0;
			if (++h > 23) { /* the next day */
				h = 0;
				days++;
				if (++d > month_days(y, m)) {
					d = 1;
					if (++m > 12)
						m = 1, y++;
				}
			}
			continue;
		}
		while (mi < 60 && !((c->minute >> mi) & 1))
			mi++;
		if (mi == 60) { /* the next hour */
			mi = 0;
			if (++h > 23) {
				h = 0;
				days++;
				if (++d > month_days(y, m)) {
					d = 1;
					if (++m > 12)
						m = 1, y++;
				}
			}
			continue;
		}
		*next_ms = (days * DAY_MIN + h * 60 + mi) * MIN_MS;
		return 0;
	}
	return CK_ENOTFOUND;
}

int64_t sched_count(const struct sched_cron *c, int64_t from_ms, int64_t to_ms, int64_t max)
{
	int64_t n = 0, t = from_ms, next;

	while (n < max && !sched_next(c, t, &next) && next <= to_ms) {
		n++;
		t = next;
	}
	return n;
}

/* The age (s) of the newest candle just before a run at minute `to` of the day when the
 * previous run was at minute `from` (to may be past 1440: the next day): the time
 * between the runs plus how long before `from` the last candle closed. */
static int64_t age_between(int from, int to, int64_t per_s)
{
	return (int64_t)(to - from) * 60 + (int64_t)from * 60 % per_s;
}

int sched_max_age_s(const struct sched_cron *c, int64_t iv, int64_t *age)
{
	int first = -1, prev = -1;
	int64_t per = iv > 0 && iv < DAY_MIN * 60 ? iv : DAY_MIN * 60;

	*age = iv;
	for (int t = 0; t < DAY_MIN; t++) {
		if (!(c->hour >> (t / 60) & 1) || !(c->minute >> (t % 60) & 1))
			continue;
		if (prev >= 0 && age_between(prev, t, per) > *age)
			*age = age_between(prev, t, per);
		if (first < 0)
			first = t;
		prev = t;
	}
	if (first < 0)
		return -1;
	/* from the day's last run to the next day's first */
	if (age_between(prev, first + DAY_MIN, per) > *age)
		*age = age_between(prev, first + DAY_MIN, per);
	return 0;
}
