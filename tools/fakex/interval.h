/* interval.h — Binance kline intervals and their calendar arithmetic.
 *
 * Candles of a fixed interval open at multiples of its length since the epoch (1w at
 * Mondays 00:00 UTC, as Binance does); 1M candles open on the first of each calendar
 * month, UTC. Candles are numbered: iv_index() gives the number of the candle that
 * contains a time, iv_time() the open time of a numbered candle. */
#ifndef FAKEX_INTERVAL_H
#define FAKEX_INTERVAL_H

#include <stdint.h>

enum {
	IV_1m,
	IV_3m,
	IV_5m,
	IV_15m,
	IV_30m,
	IV_1h,
	IV_2h,
	IV_4h,
	IV_6h,
	IV_8h,
	IV_12h,
	IV_1d,
	IV_3d,
	IV_1w,
	IV_1M,
	IV_COUNT
};

/* The interval's number for a Binance name ("4h", "1M"), or -1 if it is not one. */
int iv_parse(const char *name);
const char *iv_name(int iv);
/* Fixed length in ms; 0 for 1M (calendar months). */
int64_t iv_ms(int iv);
/* Number of the candle containing t (ms since epoch, UTC). */
int64_t iv_index(int iv, int64_t t);
/* Open time of candle number k. */
int64_t iv_time(int iv, int64_t k);
/* Number of the first candle opening at or after t. */
int64_t iv_ceil_index(int iv, int64_t t);
/* Open time of the candle after the one containing open (its nominal end). */
int64_t iv_end(int iv, int64_t open);

#endif
