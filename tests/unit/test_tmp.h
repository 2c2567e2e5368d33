/* test_tmp.h — where the unit tests make their temporary files: under $TMPDIR when it is
 * set (as mktemp and the e2e scenarios do), else /tmp. Header-only (static). */
#ifndef CK_TEST_TMP_H
#define CK_TEST_TMP_H

#include <stdio.h>
#include <stdlib.h>

/* A mkdtemp/mkstemp template for name into buf: "<tmpdir>/<name>.XXXXXX". */
static inline void test_tmp_template(char *buf, size_t size, const char *name)
{
	const char *t = getenv("TMPDIR");
	snprintf(buf, size, "%s/%s.XXXXXX", t && *t ? t : "/tmp", name);
}

#endif
