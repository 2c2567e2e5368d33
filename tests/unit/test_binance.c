/* test_binance.c — the exchange's arithmetic and answers (binance.c): the kline weight
 * table and page-size arithmetic, the classification of answers into retry classes,
 * and the klines URL. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>

#include "binance.h"
#include "http.h"
#include "banned.h"

static void test_kline_weight(void **state)
{
	(void)state;
	/* Binance USD-M: limit 1-99: 1, 100-499: 2, 500-1000: 5, above: 10. */
	assert_int_equal(binance_kline_weight(1), 1);
	assert_int_equal(binance_kline_weight(99), 1);
	assert_int_equal(binance_kline_weight(100), 2);
	assert_int_equal(binance_kline_weight(499), 2);
	assert_int_equal(binance_kline_weight(500), 5);
	assert_int_equal(binance_kline_weight(1000), 5);
	assert_int_equal(binance_kline_weight(1001), 10);
	assert_int_equal(binance_kline_weight(1500), 10);
}

static void test_499_is_the_best_page(void **state)
{
	/* Candles per unit of weight: the default page of 499 beats every other size. */
	double best = 0;
	int64_t best_limit = 0, l;
	(void)state;
	for (l = 1; l <= 1500; l++) {
		double per = (double)l / binance_kline_weight(l);
		if (per > best) {
			best = per;
			best_limit = l;
		}
	}
	assert_int_equal(best_limit, 499);
}

static void test_classify(void **state)
{
	static const struct {
		int curl;
		long status;
		enum bn_class want;
	} cases[] = {
		{28, 0, BN_NET},     {7, 0, BN_NET},   {18, 200, BN_NET}, /* partial body */
		{0, 0, BN_NET},      {0, 200, BN_OK},  {0, 204, BN_OK},   {0, 429, BN_429},
		{0, 418, BN_418},    {0, 451, BN_GEO}, {0, 403, BN_WAF},  {0, 500, BN_5XX},
		{0, 502, BN_5XX},    {0, 503, BN_5XX}, {0, 504, BN_5XX},  {0, 400, BN_BADREQ},
		{0, 404, BN_BADREQ},
	};
	size_t i;
	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct http_req r;
		memset(&r, 0, sizeof(r));
		r.curl_code = cases[i].curl;
		r.status = cases[i].status;
		assert_int_equal(binance_classify(&r), cases[i].want);
	}
	assert_string_equal(binance_class_name(BN_418), "418");
}

static void test_klines_url(void **state)
{
	char buf[256], tiny[40];
	(void)state;
	assert_int_equal(binance_klines_url(buf, sizeof(buf), "http://127.0.0.1:9", "BTCUSDT", "4h",
					    1700006400000LL, 1700020800000LL, 2),
			 0);
	assert_string_equal(buf, "http://127.0.0.1:9/fapi/v1/klines?symbol=BTCUSDT&interval=4h"
				 "&startTime=1700006400000&endTime=1700020800000&limit=2");
	/* Too long for the buffer: an error, never a truncated URL. */
	assert_true(binance_klines_url(tiny, sizeof(tiny), "http://127.0.0.1:9", "BTCUSDT", "4h",
				       1700006400000LL, 1700020800000LL, 2) != 0);
}

/* The run's weight limit: the exchange's, never above the configured one, bounded. */
static void test_weight_limit(void **state)
{
	const char *why = NULL;
	(void)state;
	assert_int_equal(binance_weight_limit(0, 2400, &why), 2400);
	assert_string_equal(why, "");
	assert_int_equal(binance_weight_limit(0, 0, &why), BINANCE_WEIGHT_DEFAULT);
	assert_int_equal(binance_weight_limit(1000, 0, &why), 1000);
	assert_int_equal(binance_weight_limit(2400, 1200, &why), 1200); /* the real one */
	assert_int_equal(binance_weight_limit(600, 2400, &why), 600);   /* operator lower */
	assert_string_equal(why, "");
	assert_int_equal(binance_weight_limit(600, 1000000000, &why), 600); /* a lie */
	assert_int_equal(binance_weight_limit(0, 1000000000, &why), BINANCE_WEIGHT_CEILING);
	assert_true(why[0] != 0);
	assert_int_equal(binance_weight_limit(0, 1, &why), BINANCE_WEIGHT_FLOOR);
	assert_true(why[0] != 0);
	assert_int_equal(binance_weight_limit(0, -1, &why), BINANCE_WEIGHT_FLOOR);
	assert_int_equal(binance_weight_limit(10, 1, &why), 10); /* the operator's is lower */
}

/* rateLimits: REQUEST_WEIGHT per 1 MINUTE; 0 when absent, -1 when not positive. */
static void test_info_weight_limit(void **state)
{
	const char *a =
		"{\"rateLimits\":[{\"rateLimitType\":\"ORDERS\",\"interval\":\"MINUTE\","
		"\"intervalNum\":1,\"limit\":1200},{\"rateLimitType\":\"REQUEST_WEIGHT\","
		"\"interval\":\"MINUTE\",\"intervalNum\":1,\"limit\":6000}],\"symbols\":[]}";
	const char *b = "{\"rateLimits\":[{\"rateLimitType\":\"REQUEST_WEIGHT\","
			"\"interval\":\"MINUTE\",\"intervalNum\":1,\"limit\":0}],\"symbols\":[]}";
	const char *c = "{\"symbols\":[]}";
	struct binance_info info;
	struct ck_err err;
	(void)state;
	assert_int_equal(binance_parse_exchange_info(a, strlen(a), &info, &err), 0);
	assert_int_equal(info.weight_limit, 6000);
	binance_info_release(&info);
	assert_int_equal(binance_parse_exchange_info(b, strlen(b), &info, &err), 0);
	assert_int_equal(info.weight_limit, -1);
	binance_info_release(&info);
	assert_int_equal(binance_parse_exchange_info(c, strlen(c), &info, &err), 0);
	assert_int_equal(info.weight_limit, 0);
	binance_info_release(&info);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_kline_weight), cmocka_unit_test(test_499_is_the_best_page),
		cmocka_unit_test(test_classify),     cmocka_unit_test(test_klines_url),
		cmocka_unit_test(test_weight_limit), cmocka_unit_test(test_info_weight_limit),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
