/* utc.c — UTC time parsing and formatting without the local time zone; the clock and
 * the sleep (see utc.h). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "err.h"
#include "utc.h"
#include "banned.h"

int utc_parse(const char *s, int64_t *ms)
{
	int y, mo, d, h = 0, mi = 0, sec = 0, n = 0;
	char *end;
	long long v;

	if (!s || !*s)
		return -1;
	v = strtoll(s, &end, 10);
	if (*end == 0 && end - s >= 10) { /* ms since epoch */
		*ms = v;
		return 0;
	}
	if (sscanf(s, "%4d-%2d-%2d%n", &y, &mo, &d, &n) != 3)
		return -1;
	s += n;
	if (*s == 'T' || *s == ' ') {
		int m = 0;
		if (sscanf(s + 1, "%2d:%2d%n", &h, &mi, &m) != 2)
			return -1;
		s += 1 + m;
		if (*s == ':') {
			if (sscanf(s + 1, "%2d%n", &sec, &m) != 1)
				return -1;
			s += 1 + m;
		}
		if (*s == 'Z')
			s++;
	}
	if (*s || mo < 1 || mo > 12 || d < 1 || h < 0 || h > 23 || mi < 0 || mi > 59 || sec < 0 ||
	    sec > 59)
		return -1;
	{
		static const int mdays[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
		int leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
		if (d > mdays[mo - 1] + (mo == 2 && leap)) /* 2026-02-30 is no date */
			return -1;
	}
	*ms = utc_from_fields(y, mo, d, h, mi, sec);
	return 0;
}

int64_t utc_from_fields(int year, int month, int day, int hour, int min, int sec)
{
	struct tm tm;

	memset(&tm, 0, sizeof(tm));
	tm.tm_year = year - 1900;
	tm.tm_mon = month - 1;
	tm.tm_mday = day;
	tm.tm_hour = hour;
	tm.tm_min = min;
	tm.tm_sec = sec;
	return (int64_t)timegm(&tm) * 1000;
}

const char *utc_iso(int64_t ms, char *buf, size_t size)
{
	time_t t = (time_t)(ms / 1000);
	struct tm tm;
	gmtime_r(&t, &tm);
	snprintf(buf, size, "%04d-%02d-%02dT%02d:%02d:%02dZ", tm.tm_year + 1900, tm.tm_mon + 1,
		 tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec);
	return buf;
}

const char *utc_date(int64_t ms, char *buf, size_t size)
{
	time_t t = (time_t)(ms / 1000 - (ms % 1000 < 0)); /* floor: before the epoch too */
	struct tm tm;

	if (!gmtime_r(&t, &tm))
		snprintf(buf, size, "(time out of range)");
	else
		snprintf(buf, size, "%04d-%02d-%02d", tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday);
	return buf;
}

static int64_t clock_read(clockid_t id)
{
	struct timespec ts;
	clock_gettime(id, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int64_t now_ms(void)
{
	return clock_read(CLOCK_REALTIME);
}

int64_t mono_ms(void)
{
	return clock_read(CLOCK_MONOTONIC);
}

int64_t now_local_ms(void)
{
#ifdef CK_FAULT_INJECTION
	const char *v = getenv("CANDLEKEEP_FAULT_NOW");
	if (v && *v)
		return strtoll(v, NULL, 10);
#endif
	return now_ms();
}

#define SLEEP_SLICE_MS 200 /* how often a sleep with a stop flag looks at it */

int ck_sleep_ms(int64_t ms, const volatile sig_atomic_t *stop)
{
	int64_t end = mono_ms() + (ms > 0 ? ms : 0);

	for (;;) {
		int64_t left = end - mono_ms();
		struct timespec ts;

		if (stop && *stop)
			return CK_ESTOPPED;
		if (left <= 0)
			return 0;
		if (stop && left > SLEEP_SLICE_MS)
			left = SLEEP_SLICE_MS;
		ts.tv_sec = (time_t)(left / 1000);
		ts.tv_nsec = (long)(left % 1000) * 1000000L;
		if (nanosleep(&ts, NULL) != 0 && errno == EINTR && stop)
			return *stop ? CK_ESTOPPED : 0;
	}
}
