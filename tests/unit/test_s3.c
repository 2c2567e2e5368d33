/* test_s3.c — the S3 client's pure parts: key/URL encoding (SigV4's URI encoding rules),
 * ListObjectsV2 parsing (pages, entities), error bodies, timestamps, configuration
 * errors that must not reach the network. Signing itself is libcurl's; the e2e test
 * t4003 checks it against a server that recomputes every signature. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "cfg.h"
#include "s3.h"
#include "banned.h"

static void test_encode(void **state)
{
	char buf[128];
	(void)state;
	assert_int_equal(s3_encode("prod/candles-2026.db.zst", 1, buf, sizeof(buf)), 0);
	assert_string_equal(buf, "prod/candles-2026.db.zst");
	assert_int_equal(s3_encode("a b/c~d+e*", 0, buf, sizeof(buf)), 0);
	assert_string_equal(buf, "a%20b%2Fc~d%2Be%2A");
	assert_int_equal(s3_encode("abcdef", 0, buf, 4), -1);
}

static void test_url(void **state)
{
	struct cfg c;
	struct ck_err err = {0, ""};
	char url[512];
	(void)state;
	assert_int_equal(cfg_init(&c, &err), 0);
	assert_int_equal(s3_url(&c, "k", url, sizeof(url), &err), CK_EUSAGE);
	assert_int_equal(cfg_set(&c, "backup", "s3_bucket", "ck-bucket", "test", &err), 0);
	assert_int_equal(s3_url(&c, "p/x y.zst", url, sizeof(url), &err), 0);
	assert_string_equal(url, "https://s3.us-east-1.amazonaws.com/ck-bucket/p/x%20y.zst");
	assert_int_equal(
		cfg_set(&c, "backup", "s3_endpoint", "http://127.0.0.1:9000/", "test", &err), 0);
	assert_int_equal(s3_url(&c, "k", url, sizeof(url), &err), 0);
	assert_string_equal(url, "http://127.0.0.1:9000/ck-bucket/k");
	/* No credentials: refused before any request, naming the keys to set. */
	assert_int_equal(s3_delete(&c, "k", &err), CK_EUSAGE);
	assert_non_null(strstr(err.msg, "s3_access_key"));
	cfg_release(&c);
}

static void test_list(void **state)
{
	const char *xml =
		"<?xml "
		"version=\"1.0\"?><ListBucketResult><Name>b</Name><IsTruncated>true</IsTruncated>"
		"<Contents><Key>p/a&amp;b.zst</Key><LastModified>2026-03-19T18:00:00.250Z</"
		"LastModified>"
		"<Size>1234</Size></Contents><Contents><Key>p/c.zst</Key><Size>5</Size></Contents>"
		"<NextContinuationToken>tok/+=</NextContinuationToken></ListBucketResult>";
	struct s3_object *v = NULL;
	size_t len = 0, cap = 0;
	int trunc = 0;
	char token[64];
	struct ck_err err = {0, ""};
	(void)state;
	assert_int_equal(s3_parse_list(xml, &v, &len, &cap, &trunc, token, sizeof(token), &err), 0);
	assert_int_equal(len, 2);
	assert_string_equal(v[0].key, "p/a&b.zst");
	assert_int_equal(v[0].size, 1234);
	assert_int_equal(v[0].modified, 1773943200250LL);
	assert_string_equal(v[1].key, "p/c.zst");
	assert_int_equal(trunc, 1);
	assert_string_equal(token, "tok/+=");
	free(v);
	v = NULL;
	len = cap = 0;
	assert_int_equal(
		s3_parse_list("<Error/>", &v, &len, &cap, &trunc, token, sizeof(token), &err),
		CK_EVALIDATE);
	assert_int_equal(s3_parse_list("<ListBucketResult><Contents><Key>x", &v, &len, &cap, &trunc,
				       token, sizeof(token), &err),
			 CK_EVALIDATE);
	free(v);
}

static void test_error_body(void **state)
{
	char buf[128];
	(void)state;
	s3_parse_error(
		"<Error><Code>SignatureDoesNotMatch</Code><Message>a &lt; b</Message></Error>", buf,
		sizeof(buf));
	assert_string_equal(buf, "SignatureDoesNotMatch: a < b");
	s3_parse_error("", buf, sizeof(buf));
	assert_string_equal(buf, "no S3 error body");
	assert_int_equal(s3_parse_time("garbage"), -1);
	assert_int_equal(s3_parse_time("2026-03-19T18:00:00Z"), 1773943200000LL);
}

static void test_multipart_xml(void **state)
{
	char id[64], *xml = NULL;
	char *etags[] = {"\"a1\"", "\"b2\""};
	(void)state;
	assert_int_equal(s3_parse_upload_id("<InitiateMultipartUploadResult><Bucket>b</Bucket>"
					    "<UploadId>x.Y_z&amp;1</UploadId>"
					    "</InitiateMultipartUploadResult>",
					    id, sizeof(id)),
			 0);
	assert_string_equal(id, "x.Y_z&1");
	assert_int_equal(
		s3_parse_upload_id("<Error><Code>AccessDenied</Code></Error>", id, sizeof(id)), -1);
	assert_int_equal(s3_parse_upload_id("<InitiateMultipartUploadResult><UploadId></UploadId>"
					    "</InitiateMultipartUploadResult>",
					    id, sizeof(id)),
			 -1);
	assert_int_equal(s3_complete_xml(etags, 2, &xml), 0);
	assert_non_null(strstr(xml, "<Part><ETag>&quot;a1&quot;</ETag><PartNumber>1</PartNumber>"
				    "</Part><Part><ETag>&quot;b2&quot;</ETag><PartNumber>2"
				    "</PartNumber></Part></CompleteMultipartUpload>"));
	free(xml);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_encode),        cmocka_unit_test(test_url),
		cmocka_unit_test(test_list),          cmocka_unit_test(test_error_body),
		cmocka_unit_test(test_multipart_xml),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
