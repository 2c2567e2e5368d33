/* utc.h — reading and writing UTC times given by people: "2024-03-01",
 * "2024-03-01 12:00", "2024-03-01T12:00:00Z", or ms since epoch. */
#ifndef CK_UTC_H
#define CK_UTC_H

#include <stddef.h>
#include <stdint.h>

/* Returns 0 and *ms, or -1 if s is none of the accepted forms. */
int utc_parse(const char *s, int64_t *ms);

/* ms since the epoch of a UTC calendar time (fields as people write them: month 1-12). */
int64_t utc_from_fields(int year, int month, int day, int hour, int min, int sec);

/* "YYYY-MM-DDTHH:MM:SSZ" into buf (>= 21 bytes); returns buf. */
const char *utc_iso(int64_t ms, char *buf, size_t size);

/* Milliseconds: wall clock (since the epoch, UTC) and CLOCK_MONOTONIC. */
int64_t now_ms(void);
int64_t mono_ms(void);

#endif
