/* test_archive.c — the archive file checker (archive.h): header or not, ms or us per
 * file, column counts, validation, row counts against the period, the listing and the
 * exchange's holes, the zip reader, feeding in any split. */
#include <archive.h>
#include <archive_entry.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "archive.h"

#define H4 14400000LL
#define D0 1735689600000LL /* 2025-01-01 00:00 UTC */

static const char hdr[] = "open_time,open,high,low,close,volume,close_time,quote_volume,count,"
			  "taker_buy_volume,taker_buy_quote_volume,ignore\n";

/* A day of 4h candles from D0 (6 rows), 12 columns; us: times in microseconds; skip:
 * the row left out (-1: none); ncol9: the 9-column form for row `odd` (-1: none). */
static char *day_csv(int header, int us, int skip, int odd9)
{
	static char buf[4096];
	size_t n = 0;
	if (header)
		n += (size_t)snprintf(buf + n, sizeof(buf) - n, "%s", hdr);
	for (int i = 0; i < 6; i++) {
		if (i == skip)
			continue;
		long long o = D0 + i * H4, c = o + H4 - 1, m = us ? 1000 : 1;
		n += (size_t)snprintf(buf + n, sizeof(buf) - n,
				      "%lld,100.0,110.5,95.25,101.0,12.5,%lld,1250.0,42", o * m,
				      c * m);
		if (i != odd9)
			n += (size_t)snprintf(buf + n, sizeof(buf) - n, ",6.0,600.0,0");
		n += (size_t)snprintf(buf + n, sizeof(buf) - n, "\n");
	}
	return buf;
}

static int parse(const char *csv, int64_t listing, struct kline **k, size_t *n, struct ck_err *err)
{
	return archive_parse_file(csv, strlen(csv), 0, "BTCUSDT-4h-2025-01-01.csv", "BTCUSDT", H4,
				  D0, D0 + 86400000LL, listing, NULL, 0, k, n, err);
}

static void test_header_and_not(void **state)
{
	(void)state;
	struct kline *k = NULL;
	size_t n = 0;
	struct ck_err err = {0};
	for (int h = 0; h < 2; h++) {
		assert_int_equal(parse(day_csv(h, 0, -1, -1), 0, &k, &n, &err), 0);
		assert_int_equal(n, 6);
		assert_int_equal(k[0].open_time, D0);
		assert_int_equal(k[5].close_time, D0 + 6 * H4 - 1);
		assert_string_equal(k[0].taker_buy_base, "6.0");
		free(k);
	}
}

static void test_micros_per_file(void **state)
{
	(void)state;
	struct kline *k = NULL;
	size_t n = 0;
	struct ck_err err = {0};
	assert_int_equal(parse(day_csv(1, 1, -1, -1), 0, &k, &n, &err), 0);
	assert_int_equal(n, 6);
	assert_int_equal(k[0].open_time, D0); /* stored in ms */
	assert_int_equal(k[3].close_time, D0 + 4 * H4 - 1);
	free(k);
	/* A file that switches unit halfway is refused. */
	char mixed[4096];
	snprintf(mixed, sizeof(mixed), "%s", day_csv(0, 1, -1, -1));
	char *third = mixed;
	for (int i = 0; i < 3; i++)
		third = strchr(third, '\n') + 1;
	char tail[2048];
	snprintf(tail, sizeof(tail), "%s", strstr(day_csv(0, 0, -1, -1), "1735732800000"));
	snprintf(third, sizeof(mixed) - (size_t)(third - mixed), "%s", tail);
	assert_int_equal(parse(mixed, 0, &k, &n, &err), CK_EVALIDATE);
	assert_non_null(strstr(err.msg, "timestamps: line 4 mixes microseconds and milliseconds"));
}

static void test_columns(void **state)
{
	(void)state;
	struct kline *k = NULL;
	size_t n = 0;
	struct ck_err err = {0};
	/* One row of 9 columns among 12. */
	assert_int_equal(parse(day_csv(0, 0, -1, 2), 0, &k, &n, &err), CK_EVALIDATE);
	assert_non_null(
		strstr(err.msg, "BTCUSDT-4h-2025-01-01.csv: columns: line 3 has 9 columns"));
	/* A row of 5 columns. */
	assert_int_equal(parse("1735689600000,1,2,0.5,1\n", 0, &k, &n, &err), CK_EVALIDATE);
	assert_non_null(strstr(err.msg, "columns: line 1"));
	/* A header anywhere but the first line. */
	char two[4096];
	snprintf(two, sizeof(two), "%s%s", day_csv(0, 0, -1, -1), hdr);
	assert_int_equal(parse(two, 0, &k, &n, &err), CK_EVALIDATE);
	assert_non_null(strstr(err.msg, "columns: a header row at line 7"));
}

static void test_rows(void **state)
{
	(void)state;
	struct kline *k = NULL;
	size_t n = 0;
	struct ck_err err = {0};
	assert_int_equal(parse(day_csv(1, 0, 3, -1), 0, &k, &n, &err), CK_EVALIDATE);
	assert_non_null(strstr(err.msg, "rows: 5 rows, the period has 6"));
	/* The symbol listed at 08:00 that day: 4 rows are the whole period. */
	const char *from8 = strstr(day_csv(0, 0, -1, -1), "1735718400000");
	assert_int_equal(parse(from8, D0 + 2 * H4, &k, &n, &err), 0);
	assert_int_equal(n, 4);
	free(k);
	/* The listing unknown: the file's first row starts the period. */
	assert_int_equal(parse(from8, 0, &k, &n, &err), 0);
	assert_int_equal(n, 4);
	free(k);
	/* A row outside the period, or a candle the REST rules refuse. */
	assert_int_equal(
		parse("1735776000000,1,2,0.5,1,3,1735790399999,3,1,1,1,0\n", 0, &k, &n, &err),
		CK_EVALIDATE);
	assert_int_equal(
		parse("1735689600000,1,0.9,0.5,1,3,1735703999999,3,1,1,1,0\n", 0, &k, &n, &err),
		CK_EVALIDATE);
	assert_non_null(strstr(err.msg, "line 1:"));
	/* Out of order. */
	assert_int_equal(parse("1735704000000,1,2,0.5,1,3,1735718399999,3,1,1,1,0\n"
			       "1735689600000,1,2,0.5,1,3,1735703999999,3,1,1,1,0\n",
			       0, &k, &n, &err),
			 CK_EVALIDATE);
	assert_non_null(strstr(err.msg, "rows: line 2 is out of order"));
}

static void test_split_feed(void **state)
{
	(void)state;
	const char *csv = day_csv(1, 1, -1, -1);
	size_t len = strlen(csv);
	for (size_t step = 1; step < 40; step += 7) {
		struct archive_csv *c =
			archive_csv_new("x.csv", "BTCUSDT", H4, D0, D0 + 86400000LL);
		struct ck_err err = {0};
		struct kline *k = NULL;
		size_t n = 0;
		assert_non_null(c);
		for (size_t at = 0; at < len; at += step)
			assert_int_equal(archive_csv_feed(c, csv + at,
							  at + step < len ? step : len - at, &err),
					 0);
		assert_int_equal(archive_csv_finish(c, 0, NULL, 0, &k, &n, &err), 0);
		assert_int_equal(n, 6);
		free(k);
		archive_csv_free(c);
	}
}

struct sink {
	char *p;
	size_t len, cap;
};

static la_ssize_t to_buf(struct archive *a, void *cls, const void *p, size_t n)
{
	(void)a;
	struct sink *s = cls;
	if (s->len + n > s->cap)
		return -1;
	memcpy(s->p + s->len, p, n);
	s->len += n;
	return (la_ssize_t)n;
}

static size_t make_zip(const char *csv, char *out, size_t cap)
{
	struct sink sink = {out, 0, cap};
	struct archive *a = archive_write_new();
	struct archive_entry *e = archive_entry_new();
	archive_write_set_format_zip(a);
	archive_write_set_bytes_in_last_block(a, 1);
	assert_int_equal(archive_write_open(a, &sink, NULL, to_buf, NULL), ARCHIVE_OK);
	archive_entry_set_pathname(e, "BTCUSDT-4h-2025-01-01.csv");
	archive_entry_set_size(e, (la_int64_t)strlen(csv));
	archive_entry_set_filetype(e, AE_IFREG);
	archive_entry_set_perm(e, 0644);
	assert_int_equal(archive_write_header(a, e), ARCHIVE_OK);
	assert_int_equal(archive_write_data(a, csv, strlen(csv)), (la_ssize_t)strlen(csv));
	archive_write_close(a);
	archive_entry_free(e);
	archive_write_free(a);
	return sink.len;
}

static void test_zip(void **state)
{
	(void)state;
	static char zip[65536];
	size_t len = make_zip(day_csv(1, 0, -1, -1), zip, sizeof(zip));
	struct kline *k = NULL;
	size_t n = 0;
	struct ck_err err = {0};
	assert_int_equal(archive_parse_file(zip, len, 1, "f.zip", "BTCUSDT", H4, D0,
					    D0 + 86400000LL, 0, NULL, 0, &k, &n, &err),
			 0);
	assert_int_equal(n, 6);
	free(k);
	/* Damaged in the middle: the zip reader's error, nothing returned. */
	for (size_t i = len / 2; i < len / 2 + 8; i++)
		zip[i] ^= 0x5a;
	k = NULL;
	assert_int_equal(archive_parse_file(zip, len, 1, "f.zip", "BTCUSDT", H4, D0,
					    D0 + 86400000LL, 0, NULL, 0, &k, &n, &err),
			 CK_EVALIDATE);
	assert_null(k);
	assert_non_null(strstr(err.msg, "f.zip: "));
	/* Not a zip at all. */
	assert_int_equal(archive_parse_file("hello", 5, 1, "g.zip", "BTCUSDT", H4, D0,
					    D0 + 86400000LL, 0, NULL, 0, &k, &n, &err),
			 CK_EVALIDATE);
}

/* The holes the exchange answered empty: a file may lack their rows (or hold them); a
 * row missing anywhere else still fails, even when the count would balance. */
static void test_rows_holes(void **state)
{
	(void)state;
	struct kline *k = NULL;
	size_t n = 0;
	struct ck_err err = {0};
	const char *name = "BTCUSDT-4h-2025-01-01.csv";
	struct store_range hole = {.first = D0 + 3 * H4, .last = D0 + 3 * H4};
	struct store_range two[] = {{.first = D0 - H4, .last = D0 + H4},
				    {.first = D0 + 5 * H4, .last = D0 + 9 * H4}};
	char *csv = day_csv(1, 0, 3, -1);
	/* Row 3 missing, and a hole there: the file is complete. */
	assert_int_equal(archive_parse_file(csv, strlen(csv), 0, name, "BTCUSDT", H4, D0,
					    D0 + 86400000LL, 0, &hole, 1, &k, &n, &err),
			 0);
	assert_int_equal(n, 5);
	free(k);
	/* Row 3 missing, the hole at row 4 (the count balances only with it there). */
	struct store_range other = {.first = D0 + 4 * H4, .last = D0 + 4 * H4};
	assert_int_equal(archive_parse_file(csv, strlen(csv), 0, name, "BTCUSDT", H4, D0,
					    D0 + 86400000LL, 0, &other, 1, &k, &n, &err),
			 CK_EVALIDATE);
	assert_non_null(strstr(err.msg, "rows: 4 rows outside the exchange's holes, the period "
					"has 5 there (6 candles, 1 in holes)"));
	/* Every row there, a hole at row 3 all the same (the exchange filled it later). */
	csv = day_csv(0, 0, -1, -1);
	assert_int_equal(archive_parse_file(csv, strlen(csv), 0, name, "BTCUSDT", H4, D0,
					    D0 + 86400000LL, 0, &hole, 1, &k, &n, &err),
			 0);
	assert_int_equal(n, 6);
	free(k);
	/* Holes reaching outside the period: rows 0-1 and 5 lacking is right. */
	char part[4096];
	size_t len = 0;
	for (int i = 2; i < 5; i++)
		len += (size_t)snprintf(
			part + len, sizeof(part) - len,
			"%lld,100.0,110.5,95.25,101.0,12.5,%lld,1250.0,42,6.0,600.0,0\n",
			(long long)(D0 + i * H4), (long long)(D0 + (i + 1) * H4 - 1));
	assert_int_equal(archive_parse_file(part, len, 0, name, "BTCUSDT", H4, D0, D0 + 86400000LL,
					    D0, two, 2, &k, &n, &err),
			 0);
	assert_int_equal(n, 3);
	free(k);
	/* Without the holes, the same file is short. */
	assert_int_equal(archive_parse_file(part, len, 0, name, "BTCUSDT", H4, D0, D0 + 86400000LL,
					    D0, NULL, 0, &k, &n, &err),
			 CK_EVALIDATE);
	assert_non_null(strstr(err.msg, "rows: 3 rows, the period has 6"));
}

static void test_period(void **state)
{
	(void)state;
	int64_t a, b;
	assert_int_equal(archive_period("2024-02", &a, &b), 0);
	assert_int_equal(a, 1706745600000LL);
	assert_int_equal(b, 1709251200000LL);
	assert_int_equal(archive_period("2024-02-29", &a, &b), 0);
	assert_int_equal(b - a, 86400000LL);
	assert_int_equal(archive_period("2023-02-29", &a, &b), CK_EVALIDATE);
	assert_int_equal(archive_period("2024-13", &a, &b), CK_EVALIDATE);
	assert_int_equal(archive_period("2024-1-01", &a, &b), CK_EVALIDATE);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_header_and_not), cmocka_unit_test(test_micros_per_file),
		cmocka_unit_test(test_columns),        cmocka_unit_test(test_rows),
		cmocka_unit_test(test_split_feed),     cmocka_unit_test(test_zip),
		cmocka_unit_test(test_period),         cmocka_unit_test(test_rows_holes),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
