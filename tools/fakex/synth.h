/* synth.h — deterministic synthetic candles, computed on demand (nothing stored).
 *
 * A symbol's price is a pure function of (seed, symbol number, time): a base price
 * times exp of multi-scale value noise (octaves of 1 minute .. 2 years), so it
 * wanders like a random walk yet any instant costs O(octaves). A candle opens at
 * price(open) and closes at price(end), so consecutive candles join up; high and low
 * widen that range by hashed amounts; volumes come from hashes too. Every candle is
 * valid: high >= max(open, close), low <= min(open, close), low > 0, volume >= 0. */
#ifndef FAKEX_SYNTH_H
#define FAKEX_SYNTH_H

#include <stdint.h>

#include "candle.h"

/* The candle of symbol number sym and interval iv opening at open. If now < its
 * end it is the forming candle as of now (close_time is still end - 1). */
void synth_candle(uint64_t seed, int sym, int iv, int64_t open, int64_t now, struct cand *c);
/* Decimals of the symbol's prices (2..8, more for cheaper coins). */
int synth_price_prec(uint64_t seed, int sym);

#endif
