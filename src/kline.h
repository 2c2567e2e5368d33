/* kline.h — one candle (kline) as the exchange sends it, its validation, and the two
 * outside formats it arrives in: the REST JSON page and Binance's public-archive CSV.
 *
 * Values are kept as the exact decimal strings the exchange sent (at most
 * KLINE_DEC_MAX characters), never as doubles, so export reproduces the archive byte
 * for byte. This module allocates nothing but the page arrays it documents. */
#ifndef CK_KLINE_H
#define CK_KLINE_H

#include <stddef.h>
#include <stdint.h>

#include "err.h"

#define KLINE_DEC_MAX 32 /* characters in a decimal string, without the NUL */

struct kline {
	int64_t open_time;  /* ms since epoch, UTC; identifies the candle */
	int64_t close_time; /* ms since epoch, UTC; may be early at maintenance */
	char open[KLINE_DEC_MAX + 1];
	char high[KLINE_DEC_MAX + 1];
	char low[KLINE_DEC_MAX + 1];
	char close[KLINE_DEC_MAX + 1];
	char volume[KLINE_DEC_MAX + 1];       /* base asset volume */
	char quote_volume[KLINE_DEC_MAX + 1]; /* quote asset volume */
	int64_t trades;
	char taker_buy_base[KLINE_DEC_MAX + 1];  /* "" = unknown (NULL in the database) */
	char taker_buy_quote[KLINE_DEC_MAX + 1]; /* "" = unknown (NULL in the database) */
};

/* Interval name ("1m" .. "1w", "1M") to milliseconds; 0 for an unknown name. "1M"
 * (calendar months) gives INTERVAL_MONTH_MS, the longest month: step and align with
 * interval.h, never with the length itself. */
int64_t kline_interval_ms(const char *name);

/* Parses one /fapi/v1/klines response body (a JSON array of 12-element arrays;
 * open_time, close_time and trades numbers, the rest decimal strings). On success
 * *out is a malloc'd array the caller frees (NULL when *n == 0). Shape errors
 * (not an array, wrong element count or types, a value over KLINE_DEC_MAX) return
 * CK_EVALIDATE naming the element index; nothing is returned then. */
int kline_parse_page(const char *body, size_t len, struct kline **out, size_t *n,
		     struct ck_err *err);

/* Checks one candle against the storage rules (DESIGN.md "Storage"): open_time a
 * multiple of interval_ms (1M: the 1st of a month, 00:00 UTC) and inside [range_start, range_end]
 * (ms, inclusive); close_time > open_time (== allowed only for a zero-volume placeholder with open
 * = high = low = close) and <= open_time + interval_ms - 1 (1M: the month's last ms); high >=
 * max(open, close); low <= min(open, close); low > 0; volume >= 0; every value a plain decimal
 * (digits with at most one '.', no sign or exponent) of at most KLINE_DEC_MAX chars;
 * trades >= 0; the taker values may be "" (unknown). Fails with CK_EVALIDATE and a message naming
 * symbol, the open time (UTC and ms) and the rule. */
int kline_validate(const struct kline *k, const char *symbol, int64_t interval_ms,
		   int64_t range_start, int64_t range_end, struct ck_err *err);

/* kline_validate on each candle, plus strictly increasing open_time (no duplicates). */
int kline_validate_page(const struct kline *k, size_t n, const char *symbol, int64_t interval_ms,
			int64_t range_start, int64_t range_end, struct ck_err *err);

/* Compares two plain decimal strings exactly (no floating point): <0, 0, >0.
 * "1.50" == "1.5", "007" == "7". Both must be plain decimals. */
int kline_dec_cmp(const char *a, const char *b);

/* Parses one line of a Binance public-archive CSV (no trailing newline needed):
 * 12 columns (open_time,open,high,low,close,volume,close_time,quote_volume,
 * trades,taker_buy_base,taker_buy_quote,ignore), or the 9-column form without the
 * last three (the taker values are then unknown: ""; an empty taker column of a
 * 12-column line is unknown too). Returns 0 and fills *k; 1 if the
 * line is the archive's header line (starts with "open_time"); CK_EVALIDATE with
 * a message naming the column otherwise. Times in microseconds (16 digits, the
 * archive's format since 2025) are converted to ms. Does not call kline_validate. */
int kline_csv_parse(const char *line, size_t len, struct kline *k, struct ck_err *err);

/* Formats k as one 12-column archive CSV line with "\n" into buf (size bytes); an
 * unknown taker value is an empty column (",,"), which kline_csv_parse reads back as
 * unknown.
 * Returns the length written, or CK_ENOMEM if buf is too small (512 is enough). */
int kline_csv_format(const struct kline *k, char *buf, size_t size);

/* Formats ms since epoch as "YYYY-MM-DD HH:MM" UTC into buf (>= 20 bytes). */
const char *kline_time_str(int64_t ms, char *buf, size_t size);

#endif
