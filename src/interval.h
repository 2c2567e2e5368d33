/* interval.h — the arithmetic of candle open times: the one place that knows a 1M
 * candle is a calendar month.
 *
 * An interval is named by its length in ms (kline_interval_ms). A fixed interval's
 * candles open at multiples of it since the epoch (1w: since Monday 1970-01-05, as
 * Binance's weeks open on Mondays); 1M (INTERVAL_MONTH_MS, the length of
 * the longest month) opens at 00:00 UTC on the 1st of each month and closes one ms
 * before the next month opens, as Binance's 1M klines do. Callers step, align and count
 * through these functions instead of "t / iv * iv" and "t + iv"; for a fixed interval
 * each is exactly that arithmetic. Since no month is longer than INTERVAL_MONTH_MS,
 * "consecutive candles lie more than iv apart" still finds every break between months. */
#ifndef CK_INTERVAL_H
#define CK_INTERVAL_H

#include <stdbool.h>
#include <stdint.h>

#define INTERVAL_MONTH_MS (INT64_C(31) * 86400000)

/* True for the calendar-month interval. */
bool interval_is_month(int64_t iv);

/* The open time of the candle that contains t (the greatest aligned time <= t). */
int64_t interval_floor(int64_t iv, int64_t t);

/* The first aligned open time >= t. */
int64_t interval_ceil(int64_t iv, int64_t t);

/* The open time n candles after the aligned time t (n < 0: before). */
int64_t interval_add(int64_t iv, int64_t t, int64_t n);

/* Candles from the aligned open time a to the aligned b, both counted: 0 if b < a. For
 * a fixed interval (b - a) / iv + 1, as callers computed it before. */
int64_t interval_count(int64_t iv, int64_t a, int64_t b);

/* The number of candles between aligned a and b: b = interval_add(iv, a, steps). For a
 * fixed interval (b - a) / iv (truncated when b is not aligned). */
int64_t interval_steps(int64_t iv, int64_t a, int64_t b);

/* The close time of the candle opening at t: the next open time - 1. */
int64_t interval_close(int64_t iv, int64_t t);

#endif
