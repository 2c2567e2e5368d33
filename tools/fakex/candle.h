/* candle.h — one candle on its way into a klines response.
 *
 * A closed recorded candle points at the file's strings (served byte for byte). A
 * forming or synthetic candle is formatted into the candle's own scratch space. */
#ifndef FAKEX_CANDLE_H
#define FAKEX_CANDLE_H

#include <stdint.h>

#include "buf.h"
#include "market.h"

#define CAND_STR 48

struct cand {
	int64_t open_time;       /* ms since epoch, UTC */
	int64_t close_time;      /* ms since epoch, UTC */
	const char *f[CF_COUNT]; /* the strings to serve; may point into scratch */
	char scratch[CF_COUNT][CAND_STR];
};

/* The recorded candle as it is in the file. */
void cand_from_row(struct cand *c, const struct row *r);
/* The recorded candle as it looked at `now`, with open <= now < end (its nominal
 * close + 1): open as recorded, high/low/close interpolated from open towards the
 * recorded values by the elapsed fraction, volumes and trades scaled by it, each
 * with the recorded number of decimals; close_time = end - 1. */
void cand_forming(struct cand *c, const struct row *r, int64_t end, int64_t now);
/* Makes high < low (for --invalid-symbol): swaps them, or if they are equal serves a
 * low one last-decimal unit above the high. */
void cand_corrupt(struct cand *c);
/* Appends the candle as Binance's 12-element JSON array. */
void cand_emit(const struct cand *c, struct buf *b);
/* Number of digits after the '.' of a decimal string. */
int dec_places(const char *s);

#endif
