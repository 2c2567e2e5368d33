/* utc.h — time: reading and writing UTC times given by people ("2024-03-01",
 * "2024-03-01 12:00", "2024-03-01T12:00:00Z", or ms since epoch), the program's one
 * clock (wall, monotonic, and the test-injectable local clock) and its one sleep. */
#ifndef CK_UTC_H
#define CK_UTC_H

#include <stddef.h>
#include <signal.h>
#include <stdint.h>

/* Returns 0 and *ms, or -1 if s is none of the accepted forms. */
int utc_parse(const char *s, int64_t *ms);

/* ms since the epoch of a UTC calendar time (fields as people write them: month 1-12). */
int64_t utc_from_fields(int year, int month, int day, int hour, int min, int sec);

/* "YYYY-MM-DDTHH:MM:SSZ" into buf (>= 21 bytes); returns buf. */
const char *utc_iso(int64_t ms, char *buf, size_t size);

/* "YYYY-MM-DD" (the UTC day of ms) into buf (>= 11 bytes); returns buf. */
const char *utc_date(int64_t ms, char *buf, size_t size);

/* The clock: every reading of the time goes through these (one implementation, one
 * test hook), ms.
 * now_ms: the wall clock, since the epoch, UTC (run records, alerts, backups).
 * mono_ms: CLOCK_MONOTONIC, for elapsed times and deadlines.
 * now_local_ms: the local wall clock that sync judges closed candles and hole evidence
 *   by; test builds (-DCK_FAULT_INJECTION) let CANDLEKEEP_FAULT_NOW=MS fix it so tests
 *   move it with the fake exchange's clock; otherwise it is now_ms. */
int64_t now_ms(void);
int64_t mono_ms(void);
int64_t now_local_ms(void);

/* The one sleep: ms of CLOCK_MONOTONIC time (<= 0: returns at once).
 * stop NULL: sleeps it all, resuming after signals; returns 0.
 * stop given: returns early when *stop is set (looked at least every 200 ms) or a
 *   signal arrives (callers loop on their own condition); CK_ESTOPPED when *stop is
 *   set, else 0. */
int ck_sleep_ms(int64_t ms, const volatile sig_atomic_t *stop);

#endif
