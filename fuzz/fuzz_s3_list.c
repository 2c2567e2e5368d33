/* fuzz_s3_list.c — libFuzzer target for s3_parse_list, s3_parse_error and s3_parse_time:
 * an S3 ListObjectsV2 (or error) XML body. Invariants: the list grows only on success
 * and never past its capacity, keys are NUL-terminated, the continuation token fits its
 * buffer, and a failure is CK_EVALIDATE with a NUL-terminated message. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "s3.h"
#include "banned.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct s3_object *v = NULL;
	size_t len = 0, cap = 0, i;
	int truncated = 0, rc;
	char token[1024], ebuf[256], *xml;
	struct ck_err err;

	if (!(xml = malloc(size + 1)))
		return 0;
	memcpy(xml, data, size);
	xml[size] = 0;
	memset(&err, 0, sizeof(err));
	memset(token, 'x', sizeof(token));
	rc = s3_parse_list(xml, &v, &len, &cap, &truncated, token, sizeof(token), &err);
	if (rc == 0) {
		if (len > cap || !memchr(token, 0, sizeof(token)))
			abort();
		for (i = 0; i < len; i++)
			if (!memchr(v[i].key, 0, sizeof(v[i].key)) || v[i].size < 0)
				abort();
	} else if (rc != CK_EVALIDATE || !memchr(err.msg, 0, sizeof(err.msg))) {
		abort();
	}
	s3_parse_error(xml, ebuf, sizeof(ebuf));
	if (!memchr(ebuf, 0, sizeof(ebuf)))
		abort();
	if (s3_parse_time(xml) < -1)
		abort();
	free(v);
	free(xml);
	return 0;
}
