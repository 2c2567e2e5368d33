/* test_kline.c — the kline module: interval names, every storage rule at its
 * boundary, the JSON page and CSV line parsers, the CSV formatter, and a round trip
 * over the recorded Binance data ($CK_TOP/build/testdata/binance, decompressed from
 * testdata/binance by make; its absence is a failure). */
#include <dirent.h>
#include <inttypes.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "kline.h"
#include "banned.h"

#define H4 INT64_C(14400000)
#define T0 INT64_C(1709251200000) /* 2024-03-01 00:00 UTC, 4h-aligned */
#define WIDE_LO INT64_C(0)
#define WIDE_HI INT64_MAX

static void set(char *dst, const char *src)
{
	size_t n = strlen(src);
	assert_true(n <= KLINE_DEC_MAX);
	memcpy(dst, src, n + 1);
}

static struct kline good(void)
{
	struct kline k;
	memset(&k, 0, sizeof(k));
	k.open_time = T0;
	k.close_time = T0 + H4 - 1;
	set(k.open, "12.0");
	set(k.high, "13.0");
	set(k.low, "11.0");
	set(k.close, "12.5");
	set(k.volume, "100");
	set(k.quote_volume, "1200");
	k.trades = 10;
	set(k.taker_buy_base, "50");
	set(k.taker_buy_quote, "600");
	return k;
}

static int val(const struct kline *k, struct ck_err *err)
{
	memset(err, 0, sizeof(*err));
	return kline_validate(k, "BTCUSDT", H4, WIDE_LO, WIDE_HI, err);
}

/* Fails with CK_EVALIDATE and a message that contains want. */
static void expect_fail(const struct kline *k, const char *want)
{
	struct ck_err err;
	int rc = val(k, &err);
	if (rc != CK_EVALIDATE || !strstr(err.msg, want))
		fail_msg("rc %d msg \"%s\", wanted EVALIDATE with \"%s\"", rc, err.msg, want);
	assert_int_equal(err.code, CK_EVALIDATE);
	assert_non_null(strstr(err.msg, "BTCUSDT 4h candle "));
}

static void expect_ok(const struct kline *k)
{
	struct ck_err err;
	int rc = val(k, &err);
	if (rc != 0)
		fail_msg("rc %d msg \"%s\"", rc, err.msg);
}

static void test_interval_ms(void **state)
{
	(void)state;
	static const struct {
		const char *name;
		int64_t ms;
	} t[] = {
		{"1m", 60000},     {"3m", 180000},    {"5m", 300000},     {"15m", 900000},
		{"30m", 1800000},  {"1h", 3600000},   {"2h", 7200000},    {"4h", 14400000},
		{"6h", 21600000},  {"8h", 28800000},  {"12h", 43200000},  {"1d", 86400000},
		{"3d", 259200000}, {"1w", 604800000}, {"1M", 2678400000}, {"", 0},
		{"4H", 0},         {"4h ", 0},        {"1s", 0},          {"2d", 0},
	};
	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++)
		assert_int_equal(kline_interval_ms(t[i].name), t[i].ms);
	assert_int_equal(kline_interval_ms(NULL), 0);
}

static void test_dec_cmp(void **state)
{
	(void)state;
	static const struct {
		const char *a, *b;
		int sign;
	} t[] = {
		{"1.50", "1.5", 0},
		{"007", "7", 0},
		{"0", "0.000", 0},
		{"0", "0", 0},
		{"00.5", "0.50", 0},
		{"10", "9", 1},
		{"9", "10", -1},
		{"0.1", "0.09", 1},
		{"1.01", "1.1", -1},
		{"123", "123.0001", -1},
		{"123.0001", "123", 1},
		{"100", "099.99", 1},
		{"1202496112.66219035", "1202496112.66219036", -1},
		{"99999999999999999999999999999999", "99999999999999999999999999999998", 1},
		{"0.00000000", "0", 0},
		{"4619.43000000", "4619.43", 0},
	};
	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		int c = kline_dec_cmp(t[i].a, t[i].b);
		int r = kline_dec_cmp(t[i].b, t[i].a);
		int s = (c > 0) - (c < 0);
		if (s != t[i].sign || (r > 0) - (r < 0) != -t[i].sign)
			fail_msg("dec_cmp(%s, %s) = %d, reverse %d, want sign %d", t[i].a, t[i].b,
				 c, r, t[i].sign);
	}
}

static void test_time_str(void **state)
{
	(void)state;
	char buf[32];
	assert_string_equal(kline_time_str(0, buf, sizeof(buf)), "1970-01-01 00:00");
	assert_string_equal(kline_time_str(T0, buf, sizeof(buf)), "2024-03-01 00:00");
	assert_string_equal(kline_time_str(T0 + H4 - 1, buf, sizeof(buf)), "2024-03-01 03:59");
	assert_string_equal(kline_time_str(-1, buf, sizeof(buf)), "1969-12-31 23:59");
	assert_string_equal(kline_time_str(1504713600000, buf, sizeof(buf)), "2017-09-06 16:00");
	/* fits in the documented 20 bytes; absurd times do not overflow */
	char small[20];
	assert_int_equal(strlen(kline_time_str(T0, small, sizeof(small))), 16);
	kline_time_str(INT64_MAX, buf, sizeof(buf));
	kline_time_str(INT64_MIN, buf, sizeof(buf));
	assert_true(strlen(buf) < sizeof(buf));
}

static void test_validate_good(void **state)
{
	(void)state;
	struct kline k = good();
	expect_ok(&k);
}

static void test_validate_message(void **state)
{
	(void)state;
	struct kline k = good();
	struct ck_err err;
	set(k.open, "12.0");
	set(k.close, "11");
	set(k.high, "10.5");
	set(k.low, "10");
	assert_int_equal(val(&k, &err), CK_EVALIDATE);
	assert_string_equal(err.msg, "BTCUSDT 4h candle 2024-03-01 00:00 UTC "
				     "(1709251200000): high 10.5 is below max(open, close) 12.0");
	/* an interval with no name is given in ms; a long symbol is cut, not overflowed */
	char sym[300];
	memset(sym, 'A', sizeof(sym) - 1);
	sym[sizeof(sym) - 1] = '\0';
	assert_int_equal(kline_validate(&k, sym, 7 * 60000, WIDE_LO, WIDE_HI, &err), CK_EVALIDATE);
	assert_true(strlen(err.msg) < sizeof(err.msg));
	k = good();
	k.open_time = 0;
	k.close_time = 0; /* not after open_time */
	assert_int_equal(kline_validate(&k, "X", 7 * 60000, WIDE_LO, WIDE_HI, &err), CK_EVALIDATE);
	assert_non_null(strstr(err.msg, "X 420000ms candle"));
	/* NULL err is allowed */
	assert_int_equal(kline_validate(&k, "X", 7 * 60000, WIDE_LO, WIDE_HI, NULL), CK_EVALIDATE);
	/* a bad interval is the caller's bug, not the candle's */
	assert_int_equal(kline_validate(&k, "X", 0, WIDE_LO, WIDE_HI, &err), CK_EUSAGE);
}

static void test_validate_high_low(void **state)
{
	(void)state;
	struct kline k = good();
	set(k.high, "12.50"); /* == max(open, close) */
	expect_ok(&k);
	set(k.high, "12.49999999");
	expect_fail(&k, "high 12.49999999 is below max(open, close) 12.5");
	k = good();
	set(k.close, "11.5");
	set(k.high, "12"); /* == open, the max */
	expect_ok(&k);
	set(k.high, "11.9");
	expect_fail(&k, "is below max(open, close) 12.0");

	k = good();
	set(k.low, "12.0"); /* == min(open, close) */
	expect_ok(&k);
	set(k.low, "12.00000001");
	expect_fail(&k, "low 12.00000001 is above min(open, close) 12.0");

	k = good();
	set(k.open, "0.5");
	set(k.close, "0.5");
	set(k.low, "0.00000001");
	expect_ok(&k);
	set(k.low, "0");
	expect_fail(&k, "low 0 is not above 0");
	set(k.low, "0.000");
	expect_fail(&k, "is not above 0");
}

static void test_validate_open_time(void **state)
{
	(void)state;
	struct kline k = good();
	struct ck_err err;

	k.open_time = T0 + 1;
	k.close_time = T0 + 2;
	expect_fail(&k, "open_time is not aligned to the 4h interval");
	k.open_time = T0 + H4 - 1;
	k.close_time = T0 + H4;
	expect_fail(&k, "not aligned");

	k = good();
	memset(&err, 0, sizeof(err));
	assert_int_equal(kline_validate(&k, "BTCUSDT", H4, T0, T0, &err), 0);
	assert_int_equal(kline_validate(&k, "BTCUSDT", H4, T0 + 1, T0 + H4, &err), CK_EVALIDATE);
	assert_non_null(strstr(err.msg, "outside the requested range 2024-03-01 00:00 .. "
					"2024-03-01 04:00 UTC"));
	assert_int_equal(kline_validate(&k, "BTCUSDT", H4, T0 - H4, T0 - 1, &err), CK_EVALIDATE);
	assert_non_null(strstr(err.msg, "outside the requested range"));
	assert_int_equal(kline_validate(&k, "BTCUSDT", H4, 0, T0 - 1, &err), CK_EVALIDATE);

	/* weekly candles open on Monday 00:00 UTC, like Binance's */
	k = good();
	k.open_time = INT64_C(1709510400000); /* Monday 2024-03-04 */
	k.close_time = k.open_time + 604800000 - 1;
	assert_int_equal(kline_validate(&k, "BTCUSDT", 604800000, 0, WIDE_HI, &err), 0);
	k.open_time = INT64_C(1709164800000); /* Thursday 2024-02-29, epoch-aligned */
	k.close_time = k.open_time + 604800000 - 1;
	assert_int_equal(kline_validate(&k, "BTCUSDT", 604800000, 0, WIDE_HI, &err), CK_EVALIDATE);
	assert_non_null(strstr(err.msg, "BTCUSDT 1w candle"));
	assert_non_null(strstr(err.msg, "not aligned to the 1w"));

	/* extreme times do not overflow */
	k = good();
	k.open_time = INT64_MIN;
	k.close_time = INT64_MAX;
	assert_int_equal(kline_validate(&k, "X", 604800000, INT64_MIN, INT64_MAX, &err),
			 CK_EVALIDATE);
	k.open_time = INT64_MAX - INT64_MAX % H4;
	k.close_time = INT64_MAX;
	assert_int_equal(kline_validate(&k, "X", H4, INT64_MIN, INT64_MAX, &err), 0);
}

static void test_validate_close_time(void **state)
{
	(void)state;
	struct kline k = good();

	k.close_time = T0 + H4 - 1;
	expect_ok(&k);
	k.close_time = T0 + H4;
	expect_fail(&k, "close_time 1709265600000 is later than open_time + interval - 1 "
			"(1709265599999)");
	k.close_time = T0 + 58146; /* a 58-second candle at maintenance */
	expect_ok(&k);
	k.close_time = T0 + 1;
	expect_ok(&k);
	k.close_time = T0;
	expect_fail(&k, "close_time 1709251200000 is not after open_time");
	k.close_time = T0 - 1;
	expect_fail(&k, "is not after open_time");

	/* the zero-volume flat placeholder may close at its open_time, not before */
	k = good();
	set(k.open, "4619.43000000");
	set(k.high, "4619.43");
	set(k.low, "4619.430");
	set(k.close, "4619.43000000");
	set(k.volume, "0.00000000");
	k.trades = 0;
	k.close_time = T0;
	expect_ok(&k);
	k.close_time = T0 - 1;
	expect_fail(&k, "is before open_time");
	k.close_time = T0;
	set(k.volume, "0.00000001"); /* not a placeholder once it traded */
	expect_fail(&k, "is not after open_time");
	set(k.volume, "0");
	set(k.high, "4619.44"); /* nor when it is not flat */
	expect_fail(&k, "is not after open_time");
}

static void test_validate_decimals(void **state)
{
	(void)state;
	static const char *const bad[] = {"1e5", "-1",    "1.",   ".5",  "",  " 1",  "1 ",
					  "+1",  "1.2.3", "0x10", "1,5", "١", "NaN", "inf"};
	static const struct {
		const char *name;
		size_t off;
	} f[] = {
		{"open", offsetof(struct kline, open)},
		{"high", offsetof(struct kline, high)},
		{"low", offsetof(struct kline, low)},
		{"close", offsetof(struct kline, close)},
		{"volume", offsetof(struct kline, volume)},
		{"quote_volume", offsetof(struct kline, quote_volume)},
		{"taker_buy_base", offsetof(struct kline, taker_buy_base)},
		{"taker_buy_quote", offsetof(struct kline, taker_buy_quote)},
	};
	char want[64];

	for (size_t j = 0; j < sizeof(f) / sizeof(f[0]); j++) {
		for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
			struct kline k = good();
			if (j >= 6 && !*bad[i])
				continue; /* an empty taker value is unknown, tested below */
			set((char *)&k + f[j].off, bad[i]);
			snprintf(want, sizeof(want), "%s \"", f[j].name);
			expect_fail(&k, want);
			expect_fail(&k, "is not a plain decimal");
		}
		/* 32 characters pass, 33 (no room for the NUL) fail */
		struct kline k = good();
		char *v = (char *)&k + f[j].off;
		memset(v, '9', KLINE_DEC_MAX);
		v[KLINE_DEC_MAX] = '\0';
		if (j < 4) { /* keep the OHLC relations true: all four equal */
			char *ohlc[] = {k.open, k.high, k.low, k.close};
			for (size_t m = 0; m < 4; m++) {
				memset(ohlc[m], '9', KLINE_DEC_MAX);
				ohlc[m][KLINE_DEC_MAX] = '\0';
			}
		}
		expect_ok(&k);
		memset(v, '9', KLINE_DEC_MAX + 1);
		expect_fail(&k, "is not a plain decimal of 1..32 characters");
	}
	struct kline k = good();
	set(k.taker_buy_base, "");
	set(k.taker_buy_quote, "");
	expect_ok(&k); /* unknown taker values (a 9-column source) are valid */
	k = good();
	set(k.volume, "0");
	expect_ok(&k); /* volume >= 0: zero is fine */
	set(k.volume, "0.0");
	expect_ok(&k);
	k.trades = -1;
	expect_fail(&k, "trades -1 is negative");
	k.trades = 0;
	expect_ok(&k);
}

static void test_validate_page(void **state)
{
	(void)state;
	struct kline k[3] = {good(), good(), good()};
	struct ck_err err;

	for (int i = 0; i < 3; i++) {
		k[i].open_time = T0 + i * H4;
		k[i].close_time = k[i].open_time + H4 - 1;
	}
	assert_int_equal(kline_validate_page(k, 3, "BTCUSDT", H4, T0, T0 + 2 * H4, &err), 0);
	assert_int_equal(kline_validate_page(NULL, 0, "BTCUSDT", H4, T0, T0, &err), 0);
	/* a gap is not this function's business */
	k[2].open_time = T0 + 5 * H4;
	k[2].close_time = k[2].open_time + H4 - 1;
	assert_int_equal(kline_validate_page(k, 3, "BTCUSDT", H4, 0, WIDE_HI, &err), 0);

	k[2] = k[1];
	assert_int_equal(kline_validate_page(k, 3, "BTCUSDT", H4, 0, WIDE_HI, &err), CK_EVALIDATE);
	assert_non_null(strstr(err.msg, "BTCUSDT 4h candle 2024-03-01 04:00 UTC"));
	assert_non_null(strstr(err.msg, "page element 2"));
	assert_non_null(strstr(err.msg, "duplicate"));

	k[2] = k[0];
	assert_int_equal(kline_validate_page(k, 3, "BTCUSDT", H4, 0, WIDE_HI, &err), CK_EVALIDATE);
	assert_non_null(strstr(err.msg, "out of order"));

	/* the first invalid candle is reported */
	k[2] = good();
	k[2].open_time = T0 + 2 * H4;
	k[2].close_time = k[2].open_time + H4 - 1;
	set(k[1].low, "0");
	set(k[1].open, "0");
	assert_int_equal(kline_validate_page(k, 3, "BTCUSDT", H4, 0, WIDE_HI, &err), CK_EVALIDATE);
	assert_non_null(strstr(err.msg, "2024-03-01 04:00 UTC (1709265600000): low"));
}

/* ---- JSON page ---- */

#define ROW(ot, ct)                                                                                \
	"[" #ot ",\"12.0\",\"13.0\",\"11.0\",\"12.5\",\"100\"," #ct                                \
	",\"1200\",10,\"50\",\"600\",\"0\"]"

static int page(const char *body, struct kline **k, size_t *n, struct ck_err *err)
{
	memset(err, 0, sizeof(*err));
	return kline_parse_page(body, strlen(body), k, n, err);
}

static void expect_page_fail(const char *body, const char *want)
{
	struct kline *k = (struct kline *)1;
	size_t n = 99;
	struct ck_err err;
	int rc = page(body, &k, &n, &err);
	if (rc != CK_EVALIDATE || !strstr(err.msg, want))
		fail_msg("body %s: rc %d msg \"%s\", wanted \"%s\"", body, rc, err.msg, want);
	assert_null(k);
	assert_int_equal(n, 0);
}

static void test_page_good(void **state)
{
	(void)state;
	struct kline *k;
	size_t n;
	struct ck_err err;

	assert_int_equal(page("[" ROW(1709251200000, 1709265599999) "," ROW(1709265600000,
									    1709279999999) "]",
			      &k, &n, &err),
			 0);
	assert_int_equal(n, 2);
	assert_non_null(k);
	struct kline g = good();
	assert_memory_equal(&k[0], &g, sizeof(g));
	assert_int_equal(k[1].open_time, T0 + H4);
	assert_int_equal(kline_validate_page(k, n, "BTCUSDT", H4, T0, T0 + H4, &err), 0);
	free(k);

	assert_int_equal(page(" [ ] \n", &k, &n, &err), 0);
	assert_int_equal(n, 0);
	assert_null(k);

	/* the real placeholder, as Binance sends it */
	assert_int_equal(page("[[1504713600000,\"4619.43000000\",\"4619.43000000\","
			      "\"4619.43000000\",\"4619.43000000\",\"0.00000000\","
			      "1504713600000,\"0.00000000\",0,\"0.00000000\","
			      "\"0.00000000\",\"0\"]]",
			      &k, &n, &err),
			 0);
	assert_int_equal(n, 1);
	assert_int_equal(kline_validate_page(k, n, "BTCUSDT", H4, 0, WIDE_HI, &err), 0);
	free(k);

	/* 32-character value passes the parser */
	assert_int_equal(page("[[0,\"99999999999999999999999999999999\",\"1\",\"1\",\"1\","
			      "\"1\",1,\"1\",1,\"1\",\"1\",\"0\"]]",
			      &k, &n, &err),
			 0);
	assert_string_equal(k[0].open, "99999999999999999999999999999999");
	free(k);
}

/* Pages in the exchange's own form take a fast path without a JSON tree; anything else
 * (escapes, odd white space, long strings) the jansson parser: both give the same
 * candles, byte for byte. */
static void test_page_fast_and_tree_agree(void **state)
{
	(void)state;
	struct kline *a, *b;
	size_t na, nb;
	struct ck_err err;

	/* the first has an escape (the tree path), the second the same values plainly */
	assert_int_equal(page("[[1709251200000,\"12.\\u0030\",\"13.0\",\"11.0\",\"12.5\",\"100\","
			      "1709265599999,\"1200\",10,\"50\",\"600\",\"0\"]]",
			      &a, &na, &err),
			 0);
	assert_int_equal(page("\t[\r\n [ 1709251200000 , \"12.0\",\"13.0\",\"11.0\",\"12.5\","
			      "\"100\",1709265599999,\"1200\",10,\"50\",\"600\",\"0\" ] ] \n",
			      &b, &nb, &err),
			 0);
	assert_int_equal(na, 1);
	assert_int_equal(nb, 1);
	assert_memory_equal(a, b, sizeof(*a));
	struct kline g = good();
	assert_memory_equal(a, &g, sizeof(g));
	free(a);
	free(b);
	/* negative integers and -0 read as jansson reads them */
	assert_int_equal(page("[[-0,\"1\",\"1\",\"1\",\"1\",\"1\",-5,\"1\",0,\"\",\"\",\"0\"]]", &a,
			      &na, &err),
			 0);
	assert_int_equal(a[0].open_time, 0);
	assert_int_equal(a[0].close_time, -5);
	assert_string_equal(a[0].taker_buy_base, "");
	free(a);
	/* what only the tree path decides keeps its exact message */
	expect_page_fail("[[01,\"1\",\"1\",\"1\",\"1\",\"1\",1,\"1\",1,\"1\",\"1\",\"0\"]]",
			 "not valid JSON");
	expect_page_fail("[[1,\"1\",\"1\",\"1\",\"1\",\"1\",1,\"1\",1,\"1\",\"1\","
			 "\"123456789012345678901234567890123\"]]",
			 "field 11 (ignore): value");
	expect_page_fail("[[1,\"1\",\"1\",\"1\",\"1\",\"1\",1,\"1\",1,\"1\",\"1\",\"0\"],]",
			 "not valid JSON");
	expect_page_fail("[[1,\"1\",\"1\",\"1\",\"1\",\"1\",1,\"1\",1,\"1\",\"1\",\"0\"]",
			 "not valid JSON");
}

static void test_page_errors(void **state)
{
	(void)state;
	expect_page_fail("{\"code\":-1121,\"msg\":\"Invalid symbol.\"}",
			 "exchange answered error -1121 \"Invalid symbol.\"");
	expect_page_fail("{\"foo\":1}", "got an object");
	expect_page_fail("\"hello\"", "not valid JSON");
	expect_page_fail("", "not valid JSON");
	expect_page_fail("[", "not valid JSON");
	expect_page_fail("[" ROW(1, 2), "not valid JSON");
	expect_page_fail("[" ROW(1, 2) "]x", "not valid JSON");
	expect_page_fail("[" ROW(1, 2) "] []", "not valid JSON");
	expect_page_fail("[[99999999999999999999,\"1\",\"1\",\"1\",\"1\",\"1\",1,\"1\",1,"
			 "\"1\",\"1\",\"0\"]]",
			 "not valid JSON: too big integer");
	expect_page_fail("[" ROW(1, 2) ",5]",
			 "klines page element 1: expected an array of 12 fields, got an "
			 "integer");
	expect_page_fail("[[1,\"1\",\"1\",\"1\",\"1\",\"1\",1,\"1\",1,\"1\",\"1\"]]",
			 "klines page element 0: expected 12 fields, got 11");
	expect_page_fail("[[1,\"1\",\"1\",\"1\",\"1\",\"1\",1,\"1\",1,\"1\",\"1\",\"0\","
			 "\"0\"]]",
			 "expected 12 fields, got 13");
	expect_page_fail("[[\"1\",\"1\",\"1\",\"1\",\"1\",\"1\",1,\"1\",1,\"1\",\"1\","
			 "\"0\"]]",
			 "element 0 field 0 (open_time): expected an integer, got a string");
	expect_page_fail("[[1,12.5,\"1\",\"1\",\"1\",\"1\",1,\"1\",1,\"1\",\"1\",\"0\"]]",
			 "element 0 field 1 (open): expected a decimal string, got a real");
	expect_page_fail("[[1,\"1\",\"1\",\"1\",\"1\",100,1,\"1\",1,\"1\",\"1\",\"0\"]]",
			 "field 5 (volume): expected a decimal string, got an integer");
	expect_page_fail("[[1,\"1\",\"1\",\"1\",\"1\",\"1\",1.0,\"1\",1,\"1\",\"1\","
			 "\"0\"]]",
			 "field 6 (close_time): expected an integer, got a real");
	expect_page_fail("[[1,\"1\",\"1\",\"1\",\"1\",\"1\",1,\"1\",\"1\",\"1\",\"1\","
			 "\"0\"]]",
			 "field 8 (trades): expected an integer, got a string");
	expect_page_fail("[[1,\"1\",[\"1\"],\"1\",\"1\",\"1\",1,\"1\",1,\"1\",\"1\","
			 "\"0\"]]",
			 "field 2 (high): expected a decimal string, got an array");
	expect_page_fail("[[1,\"1\",\"1\",{\"a\":1},\"1\",\"1\",1,\"1\",1,\"1\",\"1\","
			 "\"0\"]]",
			 "field 3 (low): expected a decimal string, got an object");
	expect_page_fail("[[1,\"1\",\"1\",\"1\",null,\"1\",1,\"1\",1,\"1\",\"1\",\"0\"]]",
			 "field 4 (close): expected a decimal string, got null");
	expect_page_fail("[[1,\"1\",\"1\",\"1\",\"1\",\"1\",1,\"1\",1,\"1\",\"1\",0]]",
			 "field 11 (ignore): expected a decimal string, got an integer");
	expect_page_fail("[[1,\"1\",\"1\",\"1\",\"1\",\"1\",1,"
			 "\"999999999999999999999999999999999\",1,\"1\",\"1\",\"0\"]]",
			 "element 0 field 7 (quote_volume): value "
			 "\"999999999999999999999999999999999\" is 33 characters, more than 32");
	expect_page_fail("[[1,\"1\",\"1\",\"1\",\"1\",\"1\",1,\"1\",1,\"1\",\"1\\u0000\","
			 "\"0\"]]",
			 "not valid JSON");
	expect_page_fail("[[[[[[[[]]]]]]]]", "element 0: expected 12 fields, got 1");

	/* the message fits, and shows only a sanitised head of a long msg */
	char body[2048];
	memset(body, 0, sizeof(body));
	size_t off = (size_t)snprintf(body, sizeof(body), "{\"code\":-1,\"msg\":\"");
	memset(body + off, 'x', 1000);
	memcpy(body + off + 1000, "\\n\"}", 4);
	expect_page_fail(body, "error -1 \"xxxx");
}

/* ---- CSV ---- */

static void test_csv_parse(void **state)
{
	(void)state;
	struct kline k;
	struct ck_err err;
	const char *l12 = "1709251200000,12.0,13.0,11.0,12.5,100,1709265599999,1200,10,50,"
			  "600,0";
	struct kline g = good();

	memset(&k, 0xa5, sizeof(k));
	assert_int_equal(kline_csv_parse(l12, strlen(l12), &k, &err), 0);
	assert_memory_equal(&k, &g, sizeof(g));

	char crlf[256];
	snprintf(crlf, sizeof(crlf), "%s\r\n", l12);
	assert_int_equal(kline_csv_parse(crlf, strlen(crlf), &k, &err), 0);
	assert_memory_equal(&k, &g, sizeof(g));
	assert_int_equal(kline_csv_parse(crlf, strlen(crlf) - 1, &k, &err), 0);
	assert_memory_equal(&k, &g, sizeof(g));

	/* not NUL-terminated: only len bytes are read */
	char raw[128];
	memcpy(raw, l12, strlen(l12));
	memcpy(raw + strlen(l12), ",junk", 5);
	assert_int_equal(kline_csv_parse(raw, strlen(l12), &k, &err), 0);

	const char *l9 = "1709150400000,61032.80,62710.00,59840.50,62487.90,103584.338,"
			 "1709164799999,6326076283.80371,1337488";
	assert_int_equal(kline_csv_parse(l9, strlen(l9), &k, &err), 0);
	assert_int_equal(k.open_time, 1709150400000);
	assert_int_equal(k.close_time, 1709164799999);
	assert_int_equal(k.trades, 1337488);
	assert_string_equal(k.quote_volume, "6326076283.80371");
	assert_string_equal(k.taker_buy_base, ""); /* unknown, not a made-up "0" */
	assert_string_equal(k.taker_buy_quote, "");

	const char *hdr = "open_time,open,high,low,close,volume,close_time,quote_volume,"
			  "count,taker_buy_volume,taker_buy_quote_volume,ignore\r\n";
	assert_int_equal(kline_csv_parse(hdr, strlen(hdr), &k, &err), 1);

	/* microseconds (the archive since 2025): open exact, close floored */
	const char *us = "1735689600000000,1,1,1,1,0,1735703999999999,0,0,0,0,0";
	assert_int_equal(kline_csv_parse(us, strlen(us), &k, &err), 0);
	assert_int_equal(k.open_time, 1735689600000);
	assert_int_equal(k.close_time, 1735703999999);
	assert_int_equal(kline_validate(&k, "BTCUSDT", H4, 0, WIDE_HI, &err), 0);
	const char *us_odd = "1735689600000001,1,1,1,1,0,1735703999999999,0,0,0,0,0";
	assert_int_equal(kline_csv_parse(us_odd, strlen(us_odd), &k, &err), CK_EVALIDATE);
	assert_non_null(strstr(err.msg, "column 1 (open_time)"));
	assert_non_null(strstr(err.msg, "not a whole millisecond"));
	const char *us_big = "1000000000000000000,1,1,1,1,0,1000000000000000001,0,0,0,0,0";
	assert_int_equal(kline_csv_parse(us_big, strlen(us_big), &k, &err), CK_EVALIDATE);
	assert_non_null(strstr(err.msg, "column 1 (open_time): 1000000000000000000 is too large"));
	const char *us_max = "999999999999999000,1,1,1,1,0,1000000000000000001,0,0,0,0,0";
	assert_int_equal(kline_csv_parse(us_max, strlen(us_max), &k, &err), 0);
	assert_int_equal(k.open_time, 999999999999999);
	assert_int_equal(k.close_time, 1000000000000000);
	/* just below the threshold stays ms */
	const char *ms_hi = "999999999999999,1,1,1,1,0,999999999999999,0,0,0,0,0";
	assert_int_equal(kline_csv_parse(ms_hi, strlen(ms_hi), &k, &err), 0);
	assert_int_equal(k.open_time, 999999999999999);
}

static void expect_csv_fail(const char *line, const char *want)
{
	struct kline k;
	struct ck_err err;
	memset(&err, 0, sizeof(err));
	int rc = kline_csv_parse(line, strlen(line), &k, &err);
	if (rc != CK_EVALIDATE || !strstr(err.msg, want))
		fail_msg("line %s: rc %d msg \"%s\", wanted \"%s\"", line, rc, err.msg, want);
}

static void test_csv_errors(void **state)
{
	(void)state;
	expect_csv_fail("", "CSV line: 1 column; expected 12 (archive) or 9");
	expect_csv_fail("1,2,3,4,5,6,7,8,9,10", "10 columns");
	expect_csv_fail("1,2,3,4,5,6,7,8", "8 columns");
	expect_csv_fail("1,2,3,4,5,6,7,8,9,10,11,12,13", "more than 12 columns");
	expect_csv_fail("1,2,3,4,5,6,7,8,9,10,11,12,", "more than 12 columns");
	expect_csv_fail("abc,1,1,1,1,1,1,1,1", "CSV column 1 (open_time): \"abc\" is not a "
					       "non-negative integer");
	expect_csv_fail("-1,1,1,1,1,1,1,1,1", "column 1 (open_time): \"-1\"");
	expect_csv_fail("1.5,1,1,1,1,1,1,1,1", "column 1 (open_time)");
	expect_csv_fail(",1,1,1,1,1,1,1,1", "column 1 (open_time): \"\"");
	expect_csv_fail(" 1,1,1,1,1,1,1,1,1", "column 1 (open_time)");
	expect_csv_fail("1,1,1,1,1,1,1e3,1,1", "column 7 (close_time): \"1e3\"");
	expect_csv_fail("1,1,1,1,1,1,1,1,+1", "column 9 (trades)");
	expect_csv_fail("1,1,1,1,1,1,1,1,99999999999999999999",
			"column 9 (trades): \"99999999999999999999\" is not a non-negative "
			"integer of at most 19 digits");
	expect_csv_fail("1,1,1,1,1,1,1,1,9999999999999999999", "column 9 (trades)");
	expect_csv_fail("1,1,1,1,1,1,1,999999999999999999999999999999999,1",
			"CSV column 8 (quote_volume): value "
			"\"999999999999999999999999999999999\" is 33 characters, more than 32");
	expect_csv_fail("1,1,1,1,1,1,1,1,1,1,1,999999999999999999999999999999999",
			"column 12 (ignore)");
	expect_csv_fail("1,1,1,1,1,1,1,1,1\r\r", "column 9 (trades)");

	struct kline k;
	struct ck_err err;
	static const char nul[] = "1,1,1\0,1,1,1,1,1,1";
	assert_int_equal(kline_csv_parse(nul, sizeof(nul) - 1, &k, &err), CK_EVALIDATE);
	assert_non_null(strstr(err.msg, "NUL byte at offset 5"));

	/* values the parser passes on and the validator rejects */
	static const char *const lines[] = {
		"0,1e5,1,1,1,1,1,1,1", "0,-1,1,1,1,1,1,1,1", "0,1.,1,1,1,1,1,1,1",
		"0,.5,1,1,1,1,1,1,1",  "0,,1,1,1,1,1,1,1",   "0, 1,1,1,1,1,1,1,1",
	};
	for (size_t i = 0; i < sizeof(lines) / sizeof(lines[0]); i++) {
		assert_int_equal(kline_csv_parse(lines[i], strlen(lines[i]), &k, &err), 0);
		assert_int_equal(kline_validate(&k, "BTCUSDT", H4, 0, WIDE_HI, &err), CK_EVALIDATE);
		assert_non_null(strstr(err.msg, "open \""));
	}
}

static void test_csv_format(void **state)
{
	(void)state;
	struct kline k = good(), back;
	struct ck_err err;
	char buf[512];

	int n = kline_csv_format(&k, buf, sizeof(buf));
	assert_string_equal(buf, "1709251200000,12.0,13.0,11.0,12.5,100,1709265599999,1200,"
				 "10,50,600,0\n");
	assert_int_equal(n, (int)strlen(buf));
	assert_int_equal(kline_csv_format(&k, buf, (size_t)n), CK_ENOMEM);
	assert_int_equal(kline_csv_format(&k, buf, (size_t)n + 1), n);
	assert_int_equal(kline_csv_parse(buf, (size_t)n, &back, &err), 0);
	assert_memory_equal(&k, &back, sizeof(k));

	/* the longest candle fits in 512 */
	memset(&k, 0, sizeof(k));
	k.open_time = k.close_time = k.trades = INT64_MIN;
	char *f[] = {k.open,           k.high,           k.low, k.close, k.volume, k.quote_volume,
		     k.taker_buy_base, k.taker_buy_quote};
	for (size_t i = 0; i < 8; i++)
		memset(f[i], '9', KLINE_DEC_MAX);
	n = kline_csv_format(&k, buf, sizeof(buf));
	assert_true(n > 0 && n < 512);
}

/* ---- the recorded Binance data ---- */

static int csv_dir(const char *dir, int spot, size_t *files, size_t *lines)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	char path[4096], line[1024], out[512];

	if (!d)
		return -1;
	while ((e = readdir(d))) {
		size_t nl = strlen(e->d_name);
		if (nl < 5 || strcmp(e->d_name + nl - 4, ".csv") != 0)
			continue;
		snprintf(path, sizeof(path), "%s/%s", dir, e->d_name);
		FILE *fp = fopen(path, "r");
		assert_non_null(fp);
		char sym[64];
		snprintf(sym, sizeof(sym), "%.*s", (int)strcspn(e->d_name, "-"), e->d_name);
		int64_t prev = INT64_MIN;
		size_t lineno = 0;
		while (fgets(line, sizeof(line), fp)) {
			struct kline k;
			struct ck_err err;
			size_t len = strlen(line);
			lineno++;
			assert_true(len > 0 && line[len - 1] == '\n');
			int rc = kline_csv_parse(line, len, &k, &err);
			if (rc != 0)
				fail_msg("%s:%zu: rc %d %s", path, lineno, rc, err.msg);
			rc = kline_validate(&k, sym, H4, 0, INT64_C(4102444800000), &err);
			if (rc != 0)
				fail_msg("%s:%zu: %s", path, lineno, err.msg);
			if (k.open_time <= prev)
				fail_msg("%s:%zu: not increasing", path, lineno);
			prev = k.open_time;
			if (spot) {
				int n = kline_csv_format(&k, out, sizeof(out));
				assert_true(n > 0);
				if ((size_t)n != len || memcmp(out, line, len) != 0)
					fail_msg("%s:%zu: formats back as %s", path, lineno, out);
			}
			(*lines)++;
		}
		assert_false(ferror(fp));
		fclose(fp);
		(*files)++;
	}
	closedir(d);
	return 0;
}

static void test_real_data(void **state)
{
	(void)state;
	const char *top = getenv("CK_TOP");
	char dir[4096];
	size_t files = 0, lines = 0;

	if (!top)
		top = ".";
	snprintf(dir, sizeof(dir), "%s/build/testdata/binance", top);
	if (csv_dir(dir, 0, &files, &lines) != 0)
		fail_msg("%s: the recorded data is missing or unreadable (make testdata)", dir);
	size_t ffiles = files, flines = lines;
	snprintf(dir, sizeof(dir), "%s/build/testdata/binance/spot", top);
	assert_int_equal(csv_dir(dir, 1, &files, &lines), 0);
	print_message("recorded data: %zu futures files (%zu lines) parse and validate; "
		      "%zu spot files (%zu lines) round-trip byte for byte\n",
		      ffiles, flines, files - ffiles, lines - flines);
	assert_true(ffiles > 0 && files > ffiles);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_interval_ms),
		cmocka_unit_test(test_dec_cmp),
		cmocka_unit_test(test_time_str),
		cmocka_unit_test(test_validate_good),
		cmocka_unit_test(test_validate_message),
		cmocka_unit_test(test_validate_high_low),
		cmocka_unit_test(test_validate_open_time),
		cmocka_unit_test(test_validate_close_time),
		cmocka_unit_test(test_validate_decimals),
		cmocka_unit_test(test_validate_page),
		cmocka_unit_test(test_page_good),
		cmocka_unit_test(test_page_fast_and_tree_agree),
		cmocka_unit_test(test_page_errors),
		cmocka_unit_test(test_csv_parse),
		cmocka_unit_test(test_csv_errors),
		cmocka_unit_test(test_csv_format),
		cmocka_unit_test(test_real_data),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
