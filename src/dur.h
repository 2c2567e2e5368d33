/* dur.h — durations as text: the one formatter every output uses, and the parser of
 * durations people write (config values, flags). Each kind of output
 * keeps the form its readers (and tests) know, as a row of one table in dur.c, so the
 * arithmetic (units, truncation, padding, negative values) exists once. */
#ifndef CK_DUR_H
#define CK_DUR_H

#include <stddef.h>
#include <stdint.h>

enum dur_style {
	DUR_CLOCK,  /* "3d04h05m", "5h05m", "42m05s", "17s"; negative as "0s" (audit) */
	DUR_COARSE, /* "2d3h", "5h05m", "42m", "17s"; negative as "0s" (health) */
	DUR_SPACED, /* "2d 4h", "3h 05m", "1m 05s", "45s"; negative "-" (status page) */
	DUR_AGE,    /* "42m" under an hour, "47h05m" under two days, then "3d04h";
		     * "future" below -1 s (backup list) */
	DUR_CONFIG, /* as the config reads it back: "0", whole days "2d", else the non-zero
		     * parts "1h5s", "5h5m", "90s" -> "1m30s"; negative with a '-' */
};

/* ms (truncated to whole seconds) as text in the given style into buf (size n; 32
 * bytes hold every value). Returns buf. No overflow for any input. */
const char *dur_format(int64_t ms, enum dur_style style, char *buf, size_t n);

/* Parses a duration as the config and flags take it: a bare number of seconds ("90"),
 * or numbers with units d, h, m, s in that order, each at most once ("1d12h", "5m30s").
 * Returns 0 and *s (seconds), -1 if v is not such a text, -2 if it overflows. */
int dur_parse_s(const char *v, int64_t *s);

#endif
