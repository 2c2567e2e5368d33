/* test_redact.c — the masking of credentials inside URLs: password and bare token
 * masked, user and host kept, URLs without userinfo and '@' outside an authority
 * untouched, several URLs in one text, idempotence, and a buffer too small to grow. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#include "err.h"
#include "redact.h"
#include "banned.h"

static void check(const char *in, const char *want, size_t nmasked)
{
	char buf[512];
	snprintf(buf, sizeof(buf), "%s", in);
	assert_int_equal(redact_urls(buf, sizeof(buf)), nmasked);
	assert_string_equal(buf, want);
	/* idempotent: a masked text stays as it is */
	assert_int_equal(redact_urls(buf, sizeof(buf)), 0);
	assert_string_equal(buf, want);
}

static void test_masks_password_and_token(void **state)
{
	(void)state;
	check("https://alice:s3cr3t@example.com/x", "https://alice:********@example.com/x", 1);
	check("smtp://bob:p%40ss@mail:25", "smtp://bob:********@mail:25", 1);
	check("https://tok3n@hooks.example/a", "https://********@hooks.example/a", 1);
	check("https://u:@h", "https://u:********@h", 1);
	check("get http://a:b@h1/x then smtps://c:d@h2 failed",
	      "get http://a:********@h1/x then smtps://c:********@h2 failed", 2);
}

static void test_leaves_other_text(void **state)
{
	(void)state;
	check("http://127.0.0.1:8080/fapi?x=a@b", "http://127.0.0.1:8080/fapi?x=a@b", 0);
	check("mail me at ops@example.com", "mail me at ops@example.com", 0);
	check("https://host/path/u:p@x", "https://host/path/u:p@x", 0);
	check("", "", 0);
	check("no url", "no url", 0);
}

static void test_small_buffer_cuts_never_leaks(void **state)
{
	char buf[24];
	(void)state;
	snprintf(buf, sizeof(buf), "%s", "x https://u:pw@h/long");
	redact_urls(buf, sizeof(buf));
	assert_null(strstr(buf, "pw"));
	assert_true(strlen(buf) < sizeof(buf));
	snprintf(buf, sizeof(buf), "%s", "xxxxxxxxxx https://u:p@h");
	redact_urls(buf, sizeof(buf));
	assert_null(strstr(buf, ":p@"));
}

static void test_errors_are_masked(void **state)
{
	struct ck_err err;
	(void)state;
	ck_err_set(&err, CK_ENET, "cannot reach %s", "http://alice:s3cr3t@h:1");
	assert_string_equal(err.msg, "cannot reach http://alice:********@h:1");
	ck_err_wrap(&err, "open %s", "smtp://bob:pw@m");
	assert_null(strstr(err.msg, "pw@"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_masks_password_and_token),
		cmocka_unit_test(test_leaves_other_text),
		cmocka_unit_test(test_small_buffer_cuts_never_leaks),
		cmocka_unit_test(test_errors_are_masked),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
