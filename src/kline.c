/* kline.c — one candle: interval names, the storage rules, the Binance REST JSON page
 * and the public-archive CSV line.
 *
 * Invariants: values are never converted to floating point; every decimal string
 * stays the exchange's bytes (at most KLINE_DEC_MAX characters, NUL-terminated in
 * struct kline). Outside input never asserts: shape problems (JSON, CSV) and rule
 * problems (kline_validate) return CK_EVALIDATE with a message that fits the
 * 256-byte ck_err buffer and names the element or column and the rule. The only
 * allocation is the page array kline_parse_page hands to its caller.
 *
 * Interval alignment: every interval is aligned to the Unix epoch except 1w, which
 * Binance opens on Monday 00:00 UTC (the epoch was a Thursday, so a 4-day offset). */
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>

#include "interval.h"
#include "kline.h"
#include "banned.h"

#define MS_MIN INT64_C(60000)
#define MS_HOUR (60 * MS_MIN)
#define MS_DAY (24 * MS_HOUR)

static const struct interval {
	const char *name;
	int64_t ms;
} intervals[] = {
	{"1m", MS_MIN},       {"3m", 3 * MS_MIN},  {"5m", 5 * MS_MIN},        {"15m", 15 * MS_MIN},
	{"30m", 30 * MS_MIN}, {"1h", MS_HOUR},     {"2h", 2 * MS_HOUR},       {"4h", 4 * MS_HOUR},
	{"6h", 6 * MS_HOUR},  {"8h", 8 * MS_HOUR}, {"12h", 12 * MS_HOUR},     {"1d", MS_DAY},
	{"3d", 3 * MS_DAY},   {"1w", 7 * MS_DAY},  {"1M", INTERVAL_MONTH_MS}, /* calendar months
										 (interval.h) */
};

#define WEEK_OFFSET_MS (4 * MS_DAY) /* 1970-01-05 was the first Monday */

/* Times at or above this are microseconds (16 digits; ms reach it in year 33658). */
#define US_THRESHOLD INT64_C(1000000000000000)

int64_t kline_interval_ms(const char *name)
{
	if (!name)
		return 0;
	for (size_t i = 0; i < sizeof(intervals) / sizeof(intervals[0]); i++)
		if (strcmp(intervals[i].name, name) == 0)
			return intervals[i].ms;
	return 0;
}

/* The name for a length in ms, or "<N>ms" in buf for a length with no name. */
static const char *interval_name(int64_t ms, char *buf, size_t size)
{
	for (size_t i = 0; i < sizeof(intervals) / sizeof(intervals[0]); i++)
		if (intervals[i].ms == ms)
			return intervals[i].name;
	snprintf(buf, size, "%" PRId64 "ms", ms);
	return buf;
}

const char *kline_time_str(int64_t ms, char *buf, size_t size)
{
	struct tm tm;
	/* floor division, so times before the epoch name the right minute */
	int64_t sec = ms / 1000 - (ms % 1000 < 0);
	time_t t = (time_t)sec;

	if (!buf || size == 0)
		return buf;
	if (!gmtime_r(&t, &tm)) {
		snprintf(buf, size, "(time out of range)");
		return buf;
	}
	snprintf(buf, size, "%04lld-%02d-%02d %02d:%02d", (long long)tm.tm_year + 1900,
		 tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min);
	return buf;
}

/* ^[0-9]+(\.[0-9]+)?$ of 1..KLINE_DEC_MAX characters. */
static bool dec_plain(const char *s)
{
	size_t i = 0, len = strnlen(s, KLINE_DEC_MAX + 1);

	if (len == 0 || len > KLINE_DEC_MAX)
		return false;
	while (s[i] >= '0' && s[i] <= '9')
		i++;
	if (i == 0)
		return false;
	if (s[i] == '\0')
		return true;
	if (s[i] != '.')
		return false;
	size_t frac = ++i;
	while (s[i] >= '0' && s[i] <= '9')
		i++;
	return i > frac && s[i] == '\0';
}

/* Exact comparison by digits: integer parts without leading zeros by length then
 * lexicographically, then fractions digit by digit with missing digits as '0'.
 * For input that is not a plain decimal it still terminates and stays in bounds. */
int kline_dec_cmp(const char *a, const char *b)
{
	size_t ia, ib;

	while (*a == '0')
		a++;
	while (*b == '0')
		b++;
	ia = strcspn(a, ".");
	ib = strcspn(b, ".");
	if (ia != ib)
		return ia < ib ? -1 : 1;
	int c = memcmp(a, b, ia);
	if (c)
		return c < 0 ? -1 : 1;
	a += ia;
	b += ib;
	if (*a == '.')
		a++;
	if (*b == '.')
		b++;
	while (*a || *b) {
		char ca = *a ? *a++ : '0';
		char cb = *b ? *b++ : '0';
		if (ca != cb)
			return ca < cb ? -1 : 1;
	}
	return 0;
}

/* Copies s into buf for a message: at most 40 bytes, non-printable bytes as '?'. */
static const char *quote_val(const char *s, size_t len, char *buf, size_t size)
{
	size_t j = 0;

	for (size_t i = 0; i < len && j + 4 < size && i < 40; i++)
		buf[j++] = (s[i] >= 0x20 && s[i] < 0x7f) ? s[i] : '?';
	if (len > 40 && j + 4 < size) {
		buf[j++] = '.';
		buf[j++] = '.';
		buf[j++] = '.';
	}
	buf[j] = '\0';
	return buf;
}

/* "BTCUSDT 4h candle 2024-03-01 00:00 UTC (1709251200000): " + the rule. */
__attribute__((format(printf, 5, 6))) static int
candle_fail(struct ck_err *err, const struct kline *k, const char *symbol, int64_t interval_ms,
	    const char *fmt, ...)
{
	char when[32], ivbuf[32], rule[200], sym[40];
	va_list ap;

	if (!err)
		return CK_EVALIDATE;
	va_start(ap, fmt);
	vsnprintf(rule, sizeof(rule), fmt, ap);
	va_end(ap);
	quote_val(symbol ? symbol : "?", symbol ? strlen(symbol) : 1, sym, sizeof(sym));
	return ck_err_set(err, CK_EVALIDATE, "%s %s candle %s UTC (%" PRId64 "): %s", sym,
			  interval_name(interval_ms, ivbuf, sizeof(ivbuf)),
			  kline_time_str(k->open_time, when, sizeof(when)), k->open_time, rule);
}

static bool aligned(int64_t t, int64_t interval_ms)
{
	int64_t off = interval_ms == 7 * MS_DAY ? WEEK_OFFSET_MS : 0;
	/* t - off cannot overflow for off >= 0 unless t is near INT64_MIN */
	if (t < INT64_MIN + off)
		return false;
	if (interval_is_month(interval_ms))
		return interval_floor(interval_ms, t) == t;
	return (t - off) % interval_ms == 0;
}

int kline_validate(const struct kline *k, const char *symbol, int64_t interval_ms,
		   int64_t range_start, int64_t range_end, struct ck_err *err)
{
	static const struct {
		const char *name;
		size_t off;
		int may_be_unknown; /* "" = unknown (a source without the column) */
	} dec[] = {
		{"open", offsetof(struct kline, open), 0},
		{"high", offsetof(struct kline, high), 0},
		{"low", offsetof(struct kline, low), 0},
		{"close", offsetof(struct kline, close), 0},
		{"volume", offsetof(struct kline, volume), 0},
		{"quote_volume", offsetof(struct kline, quote_volume), 0},
		{"taker_buy_base", offsetof(struct kline, taker_buy_base), 1},
		{"taker_buy_quote", offsetof(struct kline, taker_buy_quote), 1},
	};
	char t1[32], t2[32], q[64];

	/* not the candle's fault: the caller passed a bad interval */
	if (interval_ms <= 0)
		return ck_err_set(err, CK_EUSAGE,
				  "validate %.40s candle: interval %" PRId64
				  " ms is not positive (a bug in the caller)",
				  symbol ? symbol : "?", interval_ms);

	for (size_t i = 0; i < sizeof(dec) / sizeof(dec[0]); i++) {
		const char *v = (const char *)k + dec[i].off;
		size_t len = strnlen(v, KLINE_DEC_MAX + 1);
		if (dec[i].may_be_unknown && !*v)
			continue;
		if (!dec_plain(v))
			return candle_fail(err, k, symbol, interval_ms,
					   "%s \"%s\" is not a plain decimal of 1..%d "
					   "characters (digits with at most one '.')",
					   dec[i].name, quote_val(v, len, q, sizeof(q)),
					   KLINE_DEC_MAX);
	}
	if (!aligned(k->open_time, interval_ms))
		return candle_fail(err, k, symbol, interval_ms,
				   "open_time is not aligned to the %s interval",
				   interval_name(interval_ms, t1, sizeof(t1)));
	if (k->open_time < range_start || k->open_time > range_end)
		return candle_fail(err, k, symbol, interval_ms,
				   "open_time is outside the requested range %s .. %s UTC",
				   kline_time_str(range_start, t1, sizeof(t1)),
				   kline_time_str(range_end, t2, sizeof(t2)));

	bool placeholder =
		kline_dec_cmp(k->volume, "0") == 0 && kline_dec_cmp(k->open, k->high) == 0 &&
		kline_dec_cmp(k->low, k->high) == 0 && kline_dec_cmp(k->close, k->high) == 0;
	if (k->close_time < k->open_time || (k->close_time == k->open_time && !placeholder))
		return candle_fail(err, k, symbol, interval_ms,
				   "close_time %" PRId64 " is %s open_time%s", k->close_time,
				   placeholder ? "before" : "not after",
				   placeholder ? ""
					       : " (only a zero-volume flat placeholder "
						 "may close at its open_time)");
	/* open_time + interval_ms - 1 overflows only when every close_time fits */
	if (k->open_time <= INT64_MAX - (interval_ms - 1) &&
	    k->close_time > k->open_time + (interval_ms - 1))
		return candle_fail(err, k, symbol, interval_ms,
				   "close_time %" PRId64 " is later than open_time + "
				   "interval - 1 (%" PRId64 ")",
				   k->close_time, k->open_time + (interval_ms - 1));
	if (interval_is_month(interval_ms) &&
	    k->close_time > interval_close(interval_ms, k->open_time))
		return candle_fail(err, k, symbol, interval_ms,
				   "close_time %" PRId64
				   " is later than the month's last ms (%" PRId64 ")",
				   k->close_time, interval_close(interval_ms, k->open_time));

	const char *mx = kline_dec_cmp(k->open, k->close) >= 0 ? k->open : k->close;
	const char *mn = kline_dec_cmp(k->open, k->close) <= 0 ? k->open : k->close;
	if (kline_dec_cmp(k->high, mx) < 0)
		return candle_fail(err, k, symbol, interval_ms,
				   "high %s is below max(open, close) %s", k->high, mx);
	if (kline_dec_cmp(k->low, mn) > 0)
		return candle_fail(err, k, symbol, interval_ms,
				   "low %s is above min(open, close) %s", k->low, mn);
	if (kline_dec_cmp(k->low, "0") == 0)
		return candle_fail(err, k, symbol, interval_ms, "low %s is not above 0", k->low);
	/* volume >= 0 holds for every plain decimal: it has no sign */
	if (k->trades < 0)
		return candle_fail(err, k, symbol, interval_ms, "trades %" PRId64 " is negative",
				   k->trades);
	return 0;
}

int kline_validate_page(const struct kline *k, size_t n, const char *symbol, int64_t interval_ms,
			int64_t range_start, int64_t range_end, struct ck_err *err)
{
	char when[32];

	for (size_t i = 0; i < n; i++) {
		int rc = kline_validate(&k[i], symbol, interval_ms, range_start, range_end, err);
		if (rc)
			return rc;
		if (i > 0 && k[i].open_time <= k[i - 1].open_time)
			return candle_fail(err, &k[i], symbol, interval_ms,
					   "page element %zu: open_time is not after the previous "
					   "candle's %s UTC (%" PRId64 "): %s",
					   i,
					   kline_time_str(k[i - 1].open_time, when, sizeof(when)),
					   k[i - 1].open_time,
					   k[i].open_time == k[i - 1].open_time ? "duplicate"
										: "out of order");
	}
	return 0;
}

/* ---- the REST JSON page ---- */

static const char *const field_names[12] = {
	"open_time",       "open",       "high",         "low",    "close",
	"volume",          "close_time", "quote_volume", "trades", "taker_buy_base",
	"taker_buy_quote", "ignore",
};

static const char *json_kind(const json_t *v)
{
	switch (json_typeof(v)) {
	case JSON_OBJECT:
		return "an object";
	case JSON_ARRAY:
		return "an array";
	case JSON_STRING:
		return "a string";
	case JSON_INTEGER:
		return "an integer";
	case JSON_REAL:
		return "a real number";
	case JSON_TRUE:
	case JSON_FALSE:
		return "a boolean";
	case JSON_NULL:
		return "null";
	}
	return "something else";
}

static int page_int(const json_t *row, size_t idx, size_t f, int64_t *out, struct ck_err *err)
{
	const json_t *v = json_array_get(row, f);

	if (!json_is_integer(v))
		return ck_err_set(err, CK_EVALIDATE,
				  "klines page element %zu field %zu (%s): expected an "
				  "integer, got %s",
				  idx, f, field_names[f], json_kind(v));
	*out = (int64_t)json_integer_value(v);
	return 0;
}

static int page_str(const json_t *row, size_t idx, size_t f, char *out, struct ck_err *err)
{
	const json_t *v = json_array_get(row, f);
	char q[64];

	if (!json_is_string(v))
		return ck_err_set(err, CK_EVALIDATE,
				  "klines page element %zu field %zu (%s): expected a "
				  "decimal string, got %s",
				  idx, f, field_names[f], json_kind(v));
	size_t len = json_string_length(v);
	if (len > KLINE_DEC_MAX)
		return ck_err_set(err, CK_EVALIDATE,
				  "klines page element %zu field %zu (%s): value \"%s\" is "
				  "%zu characters, more than %d",
				  idx, f, field_names[f],
				  quote_val(json_string_value(v), len, q, sizeof(q)), len,
				  KLINE_DEC_MAX);
	if (out) {
		memcpy(out, json_string_value(v), len);
		out[len] = '\0';
	}
	return 0;
}

/* The exchange's error object, {"code":-1121,"msg":"Invalid symbol."}. */
static int page_error_object(const json_t *root, struct ck_err *err)
{
	const json_t *code = json_object_get(root, "code");
	const json_t *msg = json_object_get(root, "msg");
	char q[64];

	if (json_is_integer(code) && json_is_string(msg))
		return ck_err_set(
			err, CK_EVALIDATE,
			"klines page: the exchange answered error %" JSON_INTEGER_FORMAT
			" \"%s\" instead of candles (check the symbol and interval)",
			json_integer_value(code),
			quote_val(json_string_value(msg), json_string_length(msg), q, sizeof(q)));
	return ck_err_set(err, CK_EVALIDATE,
			  "klines page: expected a JSON array of candles, got an object "
			  "without an exchange error code and msg");
}

/* ---- the fast path: the exchange's own form of the page, without a JSON tree ----
 *
 * Exactly the pages Binance sends: an array of 12-element arrays of integers and plain
 * strings (printable ASCII, no escapes, at most KLINE_DEC_MAX characters), JSON white
 * space anywhere between tokens. Anything else (an escape, a real number, an integer of
 * 19 digits or more, a leading zero, a long string, an object, a wrong count, trailing
 * bytes) is not decided here: the page goes to the jansson parser below, which accepts
 * or rejects it with its exact message. So both paths give the same answer for every
 * body; this one only skips building a tree of 12 allocations per candle (measured: the
 * tree was a quarter of a loopback backfill's CPU). */

struct scan {
	const char *p, *end;
};

static void scan_ws(struct scan *sc)
{
	while (sc->p < sc->end &&
	       (*sc->p == ' ' || *sc->p == '\n' || *sc->p == '\r' || *sc->p == '\t'))
		sc->p++;
}

/* Consumes c after white space; 0 if the next byte is something else. */
static int scan_char(struct scan *sc, char c)
{
	scan_ws(sc);
	if (sc->p >= sc->end || *sc->p != c)
		return 0;
	sc->p++;
	return 1;
}

/* A JSON integer of 1..18 digits (no fraction, no exponent). */
static int scan_int(struct scan *sc, int64_t *v)
{
	const char *q;
	int neg = 0;
	int64_t x = 0;

	scan_ws(sc);
	q = sc->p;
	if (q < sc->end && *q == '-') {
		neg = 1;
		q++;
	}
	if (q >= sc->end || *q < '0' || *q > '9')
		return 0;
	if (*q == '0' && q + 1 < sc->end && q[1] >= '0' && q[1] <= '9')
		return 0; /* a leading zero: not JSON */
	for (const char *d = q; q < sc->end && *q >= '0' && *q <= '9'; q++) {
		if (q - d >= 18)
			return 0;
		x = x * 10 + (*q - '0');
	}
	if (q < sc->end && (*q == '.' || *q == 'e' || *q == 'E'))
		return 0; /* a real number */
	*v = neg ? -x : x;
	sc->p = q;
	return 1;
}

/* A string of printable ASCII without escapes, at most KLINE_DEC_MAX characters, into
 * out (NUL-terminated) when out is not NULL. */
static int scan_str(struct scan *sc, char *out)
{
	const char *q, *v;

	if (!scan_char(sc, '"'))
		return 0;
	for (q = v = sc->p; q < sc->end && *q != '"'; q++)
		if (*q < 0x20 || *q > 0x7e || *q == '\\' || q - v >= KLINE_DEC_MAX)
			return 0;
	if (q >= sc->end)
		return 0;
	if (out) {
		memcpy(out, v, (size_t)(q - v));
		out[q - v] = '\0';
	}
	sc->p = q + 1;
	return 1;
}

static int scan_row(struct scan *sc, struct kline *c)
{
	return scan_char(sc, '[') && scan_int(sc, &c->open_time) && scan_char(sc, ',') &&
	       scan_str(sc, c->open) && scan_char(sc, ',') && scan_str(sc, c->high) &&
	       scan_char(sc, ',') && scan_str(sc, c->low) && scan_char(sc, ',') &&
	       scan_str(sc, c->close) && scan_char(sc, ',') && scan_str(sc, c->volume) &&
	       scan_char(sc, ',') && scan_int(sc, &c->close_time) && scan_char(sc, ',') &&
	       scan_str(sc, c->quote_volume) && scan_char(sc, ',') && scan_int(sc, &c->trades) &&
	       scan_char(sc, ',') && scan_str(sc, c->taker_buy_base) && scan_char(sc, ',') &&
	       scan_str(sc, c->taker_buy_quote) && scan_char(sc, ',') && scan_str(sc, NULL) &&
	       scan_char(sc, ']');
}

/* 0 with *out / *n set, 1 when the page is not in the exchange's own form (nothing
 * set: the jansson path decides), CK_ENOMEM. */
static int parse_fast(const char *body, size_t len, struct kline **out, size_t *n)
{
	struct scan sc = {body, body + len};
	struct kline *k;
	size_t cap = 0, count = 0;
	const char *q;

	/* Every row opens with '[' (a string may hold more): an upper bound on rows. */
	for (q = body; (q = memchr(q, '[', (size_t)(sc.end - q))) != NULL; q++)
		cap++;
	if (!scan_char(&sc, '[') || cap == 0)
		return 1;
	if (scan_char(&sc, ']')) {
		scan_ws(&sc);
		return sc.p == sc.end ? 0 : 1;
	}
	if (!(k = calloc(cap, sizeof(*k))))
		return CK_ENOMEM;
	for (;;) {
		if (count == cap || !scan_row(&sc, &k[count]))
			break;
		count++;
		if (scan_char(&sc, ','))
			continue;
		if (!scan_char(&sc, ']'))
			break;
		scan_ws(&sc);
		if (sc.p != sc.end)
			break;
		*out = k;
		*n = count;
		return 0;
	}
	free(k);
	return 1;
}

int kline_parse_page(const char *body, size_t len, struct kline **out, size_t *n,
		     struct ck_err *err)
{
	json_error_t jerr;
	json_t *root;
	struct kline *k = NULL;
	size_t count, i;
	int rc = CK_EVALIDATE;

	*out = NULL;
	*n = 0;
	if ((rc = parse_fast(body, len, out, n)) == 0)
		return 0;
	if (rc == CK_ENOMEM)
		return ck_err_set(err, CK_ENOMEM, "klines page: out of memory");
	rc = CK_EVALIDATE;
	/* No JSON_DECODE_ANY: the top level must be an array (or the error object);
	 * no JSON_DISABLE_EOF_CHECK: trailing garbage is an error; integers beyond
	 * int64 fail to decode ("too big integer") rather than wrap. */
	root = json_loadb(body, len, JSON_REJECT_DUPLICATES, &jerr);
	if (!root)
		return ck_err_set(err, CK_EVALIDATE,
				  "klines page: not valid JSON: %.120s at line %d column %d "
				  "(byte %d)",
				  jerr.text, jerr.line, jerr.column, jerr.position);
	if (json_is_object(root)) {
		rc = page_error_object(root, err);
		goto fail;
	}
	if (!json_is_array(root)) {
		rc = ck_err_set(err, CK_EVALIDATE, "klines page: expected a JSON array, got %s",
				json_kind(root));
		goto fail;
	}
	count = json_array_size(root);
	if (count == 0) {
		json_decref(root);
		return 0;
	}
	k = calloc(count, sizeof(*k));
	if (!k) {
		rc = ck_err_set(err, CK_ENOMEM, "klines page: out of memory for %zu candles",
				count);
		goto fail;
	}
	for (i = 0; i < count; i++) {
		const json_t *row = json_array_get(root, i);
		struct kline *c = &k[i];

		if (!json_is_array(row)) {
			rc = ck_err_set(err, CK_EVALIDATE,
					"klines page element %zu: expected an array of 12 "
					"fields, got %s",
					i, json_kind(row));
			goto fail;
		}
		if (json_array_size(row) != 12) {
			rc = ck_err_set(err, CK_EVALIDATE,
					"klines page element %zu: expected 12 fields, got %zu", i,
					json_array_size(row));
			goto fail;
		}
		if ((rc = page_int(row, i, 0, &c->open_time, err)) ||
		    (rc = page_str(row, i, 1, c->open, err)) ||
		    (rc = page_str(row, i, 2, c->high, err)) ||
		    (rc = page_str(row, i, 3, c->low, err)) ||
		    (rc = page_str(row, i, 4, c->close, err)) ||
		    (rc = page_str(row, i, 5, c->volume, err)) ||
		    (rc = page_int(row, i, 6, &c->close_time, err)) ||
		    (rc = page_str(row, i, 7, c->quote_volume, err)) ||
		    (rc = page_int(row, i, 8, &c->trades, err)) ||
		    (rc = page_str(row, i, 9, c->taker_buy_base, err)) ||
		    (rc = page_str(row, i, 10, c->taker_buy_quote, err)) ||
		    (rc = page_str(row, i, 11, NULL, err)))
			goto fail;
	}
	json_decref(root);
	*out = k;
	*n = count;
	return 0;
fail:
	free(k);
	json_decref(root);
	return rc;
}

/* ---- the archive CSV line ---- */

static const char *const csv_names[12] = {
	"open_time",       "open",       "high",         "low",    "close",
	"volume",          "close_time", "quote_volume", "trades", "taker_buy_base",
	"taker_buy_quote", "ignore",
};

/* A non-negative integer of 1..19 digits (no sign, no spaces). */
static int csv_int(const char *s, size_t len, size_t col, int64_t *out, struct ck_err *err)
{
	char tmp[24], q[64], *end;
	long long v;

	if (len == 0 || len > 19)
		goto bad;
	for (size_t i = 0; i < len; i++)
		if (s[i] < '0' || s[i] > '9')
			goto bad;
	memcpy(tmp, s, len);
	tmp[len] = '\0';
	errno = 0;
	v = strtoll(tmp, &end, 10);
	if (errno || *end)
		goto bad;
	*out = v;
	return 0;
bad:
	return ck_err_set(err, CK_EVALIDATE,
			  "CSV column %zu (%s): \"%s\" is not a non-negative integer of at "
			  "most 19 digits",
			  col + 1, csv_names[col], quote_val(s, len, q, sizeof(q)));
}

static int csv_str(const char *s, size_t len, size_t col, char *out, struct ck_err *err)
{
	char q[64];

	if (len > KLINE_DEC_MAX)
		return ck_err_set(err, CK_EVALIDATE,
				  "CSV column %zu (%s): value \"%s\" is %zu characters, "
				  "more than %d",
				  col + 1, csv_names[col], quote_val(s, len, q, sizeof(q)), len,
				  KLINE_DEC_MAX);
	memcpy(out, s, len);
	out[len] = '\0';
	return 0;
}

int kline_csv_parse(const char *line, size_t len, struct kline *k, struct ck_err *err)
{
	const char *col[13];
	size_t clen[13], ncol = 0, start = 0;
	char ignore[KLINE_DEC_MAX + 1];
	int rc;

	if (len > 0 && line[len - 1] == '\n')
		len--;
	if (len > 0 && line[len - 1] == '\r')
		len--;
	if (len >= 9 && memcmp(line, "open_time", 9) == 0)
		return 1;
	if (memchr(line, '\0', len))
		return ck_err_set(err, CK_EVALIDATE,
				  "CSV line: contains a NUL byte at offset %zu (not a text "
				  "archive file?)",
				  (size_t)((const char *)memchr(line, '\0', len) - line));
	for (size_t i = 0; i <= len; i++) {
		if (i < len && line[i] != ',')
			continue;
		if (ncol == 13)
			break;
		col[ncol] = line + start;
		clen[ncol] = i - start;
		ncol++;
		start = i + 1;
	}
	if (ncol != 12 && ncol != 9) {
		if (ncol == 13)
			return ck_err_set(err, CK_EVALIDATE,
					  "CSV line: more than 12 columns; expected 12 "
					  "(archive) or 9 (without the taker columns)");
		return ck_err_set(err, CK_EVALIDATE,
				  "CSV line: %zu column%s; expected 12 (archive) or 9 "
				  "(without the taker columns)",
				  ncol, ncol == 1 ? "" : "s");
	}

	memset(k, 0, sizeof(*k));
	if ((rc = csv_int(col[0], clen[0], 0, &k->open_time, err)) ||
	    (rc = csv_str(col[1], clen[1], 1, k->open, err)) ||
	    (rc = csv_str(col[2], clen[2], 2, k->high, err)) ||
	    (rc = csv_str(col[3], clen[3], 3, k->low, err)) ||
	    (rc = csv_str(col[4], clen[4], 4, k->close, err)) ||
	    (rc = csv_str(col[5], clen[5], 5, k->volume, err)) ||
	    (rc = csv_int(col[6], clen[6], 6, &k->close_time, err)) ||
	    (rc = csv_str(col[7], clen[7], 7, k->quote_volume, err)) ||
	    (rc = csv_int(col[8], clen[8], 8, &k->trades, err)))
		return rc;
	if (ncol == 12) {
		if ((rc = csv_str(col[9], clen[9], 9, k->taker_buy_base, err)) ||
		    (rc = csv_str(col[10], clen[10], 10, k->taker_buy_quote, err)) ||
		    (rc = csv_str(col[11], clen[11], 11, ignore, err)))
			return rc;
	} else {
		/* The 9-column form lacks them: unknown (""), never a made-up "0". */
		k->taker_buy_base[0] = k->taker_buy_quote[0] = '\0';
	}

	/* Microseconds (the archive since 2025), decided by open_time for the whole
	 * line: at or above 1e15 it is microseconds (below 1e18, so the result reads
	 * back as ms). open_time must be a whole millisecond (it identifies the
	 * candle); close_time is floored: 1735703999999999 us -> 1735703999999 ms. */
	if (k->open_time >= US_THRESHOLD) {
		/* so that the ms value stays below the threshold and reads back as ms */
		if (k->open_time >= US_THRESHOLD * 1000)
			return ck_err_set(err, CK_EVALIDATE,
					  "CSV column 1 (open_time): %" PRId64 " is too large "
					  "for milliseconds or microseconds since the epoch",
					  k->open_time);
		if (k->open_time % 1000 != 0)
			return ck_err_set(err, CK_EVALIDATE,
					  "CSV column 1 (open_time): %" PRId64 " microseconds "
					  "is not a whole millisecond",
					  k->open_time);
		k->open_time /= 1000;
		k->close_time /= 1000;
	}
	return 0;
}

int kline_csv_format(const struct kline *k, char *buf, size_t size)
{
	int n = snprintf(buf, size,
			 "%" PRId64 ",%.32s,%.32s,%.32s,%.32s,%.32s,%" PRId64 ",%.32s,%" PRId64
			 ",%.32s,%.32s,0\n",
			 k->open_time, k->open, k->high, k->low, k->close, k->volume, k->close_time,
			 k->quote_volume, k->trades, k->taker_buy_base, k->taker_buy_quote);
	if (n < 0 || (size_t)n >= size)
		return CK_ENOMEM;
	return n;
}
