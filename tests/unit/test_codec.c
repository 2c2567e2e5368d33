/* test_codec.c — the backup codec: a hashed copy gives the source's bytes and their
 * SHA-256 (over several buffers), a zstd round trip gives the bytes back with the same
 * checksum, a copy into two files is read back and compared, and a truncated or damaged
 * stream is CK_ECORRUPT, never success. */
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "codec.h"
#include "banned.h"
#include "test_tmp.h"

/* 9 MiB + 3 bytes: more than two of the codec's 4 MiB buffers, and a partial one. */
#define DATA_LEN ((9 << 20) + 3)

static char dir[256];

static void path_of(char *buf, size_t size, const char *name)
{
	snprintf(buf, size, "%s/%s", dir, name);
}

/* Writes len compressible but not constant bytes to name. */
static void make_file(const char *name, size_t len)
{
	char p[256];
	unsigned char *b = malloc(len);
	FILE *f;
	size_t i;

	assert_non_null(b);
	for (i = 0; i < len; i++)
		b[i] = (unsigned char)((i * 7) ^ (i >> 11));
	path_of(p, sizeof(p), name);
	assert_non_null(f = fopen(p, "wb"));
	assert_int_equal(fwrite(b, 1, len, f), len);
	assert_int_equal(fclose(f), 0);
	free(b);
}

static void make_source(const char *name)
{
	make_file(name, DATA_LEN);
}

static int open_in(const char *name)
{
	char p[256];
	path_of(p, sizeof(p), name);
	return open(p, O_RDONLY);
}

static int open_out(const char *name)
{
	char p[256];
	path_of(p, sizeof(p), name);
	return open(p, O_WRONLY | O_CREAT | O_TRUNC, 0600);
}

static void same_files(const char *a, const char *b)
{
	char pa[256], pb[256], cmd[600];
	path_of(pa, sizeof(pa), a);
	path_of(pb, sizeof(pb), b);
	snprintf(cmd, sizeof(cmd), "cmp -s '%s' '%s'", pa, pb);
	assert_int_equal(system(cmd), 0);
}

static void test_copy_hashes_what_it_copies(void **state)
{
	char want[65], got[65], p[256];
	struct ck_err err = {0, ""};
	int64_t size = 0, wsize = 0;
	int in, out;
	(void)state;

	make_source("src");
	path_of(p, sizeof(p), "src");
	assert_int_equal(codec_sha256_file(p, want, &wsize, &err), 0);
	assert_int_equal(wsize, DATA_LEN);
	assert_true((in = open_in("src")) >= 0);
	assert_true((out = open_out("copy")) >= 0);
	assert_int_equal(codec_copy(in, "src", out, "copy", got, &size, &err), 0);
	close(in);
	close(out);
	assert_int_equal(size, DATA_LEN);
	assert_string_equal(got, want);
	same_files("src", "copy");
}

static void test_zstd_round_trip(void **state)
{
	char want[65], zsha[65], zsha2[65], got[65], p[256];
	struct ck_err err = {0, ""};
	int64_t zsize = 0, zsize2 = 0;
	int in, out;
	(void)state;

	make_source("src");
	path_of(p, sizeof(p), "src");
	assert_int_equal(codec_sha256_file(p, want, NULL, &err), 0);
	assert_true((in = open_in("src")) >= 0);
	assert_true((out = open_out("z")) >= 0);
	assert_int_equal(codec_compress(in, "src", out, "z", zsha, &zsize, &err), 0);
	close(in);
	close(out);
	assert_true(zsize > 0 && zsize < DATA_LEN);
	/* The compressed bytes' checksum is the one of the file as written. */
	path_of(p, sizeof(p), "z");
	assert_int_equal(codec_sha256_file(p, zsha2, &zsize2, &err), 0);
	assert_string_equal(zsha, zsha2);
	assert_int_equal(zsize, zsize2);
	assert_true((in = open_in("z")) >= 0);
	assert_true((out = open_out("back")) >= 0);
	assert_int_equal(codec_decompress(in, "z", out, "back", got, &err), 0);
	close(in);
	close(out);
	assert_string_equal(got, want);
	same_files("src", "back");
}

static void test_damaged_stream_is_corrupt(void **state)
{
	char zsha[65], got[65], p[256];
	struct ck_err err = {0, ""};
	int64_t zsize = 0;
	int in, out;
	(void)state;

	make_source("src");
	assert_true((in = open_in("src")) >= 0);
	assert_true((out = open_out("z")) >= 0);
	assert_int_equal(codec_compress(in, "src", out, "z", zsha, &zsize, &err), 0);
	close(in);
	close(out);
	/* Truncated: the frame never ends. */
	path_of(p, sizeof(p), "z");
	assert_int_equal(truncate(p, zsize / 2), 0);
	assert_true((in = open_in("z")) >= 0);
	assert_true((out = open_out("back")) >= 0);
	assert_int_equal(codec_decompress(in, "z", out, "back", got, &err), CK_ECORRUPT);
	close(in);
	close(out);
	/* Not zstd at all. */
	assert_true((in = open_in("src")) >= 0);
	assert_true((out = open_out("back")) >= 0);
	assert_int_equal(codec_decompress(in, "src", out, "back", got, &err), CK_ECORRUPT);
	assert_non_null(strstr(err.msg, "decompress src"));
	close(in);
	close(out);
}

/* codec_copy_tee with its read back: more buffers than its ring of three (the copy waits
 * for the read back) and a tail that is not a whole block (written without O_DIRECT).
 * Both copies hold the source's bytes, the read back finds no difference, and the
 * descriptors lose O_DIRECT again. A second output that fills up fails alone. With the backup-copy
 * fault, the middle byte goes bad on disk between write and read back, and the read back gives its
 * offset. A source shorter than len is an error, not a hang of the read back. */
static void test_copy_tee_reads_back(void **state)
{
	const size_t len = (21u << 20) + 4096 * 3 + 77;
	char want[65], got[65], p[256], p2[256];
	struct ck_err err = {0, ""}, err2 = {0, ""};
	int64_t differs = 0;
	int in, out, out2;
	(void)state;

	make_file("big", len);
	path_of(p, sizeof(p), "big");
	assert_int_equal(codec_sha256_file(p, want, NULL, &err), 0);
	assert_true((in = open_in("big")) >= 0);
	path_of(p, sizeof(p), "tee1");
	path_of(p2, sizeof(p2), "tee2");
	assert_true((out = open_out("tee1")) >= 0);
	assert_true((out2 = open_out("tee2")) >= 0);
	assert_int_equal(codec_copy_tee(in, "big", (int64_t)len, NULL, out, p, out2, p2, got,
					&differs, &err, &err2),
			 0);
	assert_int_equal(differs, -1);
	assert_int_equal(err2.code, 0);
	assert_string_equal(got, want);
	assert_int_equal(fcntl(out, F_GETFL) & O_DIRECT, 0);
	assert_int_equal(fcntl(out2, F_GETFL) & O_DIRECT, 0);
	close(in);
	close(out);
	close(out2);
	same_files("big", "tee1");
	same_files("big", "tee2");

	/* The second output's disk is full (/dev/full): the first copy goes on, whole. */
	assert_true((in = open_in("big")) >= 0);
	assert_true((out = open_out("tee1")) >= 0);
	assert_true((out2 = open("/dev/full", O_WRONLY | O_CLOEXEC)) >= 0);
	assert_int_equal(codec_copy_tee(in, "big", (int64_t)len, NULL, out, p, out2, "/dev/full",
					got, &differs, &err, &err2),
			 0);
	assert_int_equal(differs, -1);
	assert_string_equal(got, want);
	assert_int_equal(err2.code, CK_EFULL);
	assert_non_null(strstr(err2.msg, "copy to /dev/full: write: No space left on device"));
	close(in);
	close(out);
	close(out2);
	same_files("big", "tee1");

	setenv("CANDLEKEEP_FAULT_DAMAGE", "backup-copy", 1);
	assert_true((in = open_in("big")) >= 0);
	assert_true((out = open_out("tee1")) >= 0);
	assert_int_equal(codec_copy_tee(in, "big", (int64_t)len, NULL, out, p, -1, NULL, got,
					&differs, &err, &err2),
			 0);
	unsetenv("CANDLEKEEP_FAULT_DAMAGE");
	assert_string_equal(got, want); /* the bytes copied were right */
	assert_int_equal(differs, (int64_t)len / 2);
	close(in);
	close(out);

	assert_true((in = open_in("big")) >= 0);
	assert_true((out = open_out("tee1")) >= 0);
	assert_int_equal(codec_copy_tee(in, "big", (int64_t)len + 4096, NULL, out, p, -1, NULL, got,
					&differs, &err, &err2),
			 CK_EIO);
	assert_non_null(strstr(err.msg, "shorter"));
	close(in);
	close(out);
}

static void test_missing_file(void **state)
{
	char hex[65], p[256];
	struct ck_err err = {0, ""};
	(void)state;
	path_of(p, sizeof(p), "nothing-here");
	assert_int_equal(codec_sha256_file(p, hex, NULL, &err), CK_EIO);
	assert_non_null(strstr(err.msg, "nothing-here"));
}

static int setup(void **state)
{
	(void)state;
	test_tmp_template(dir, sizeof(dir), "ck-test-codec");
	return mkdtemp(dir) ? 0 : -1;
}

static int teardown(void **state)
{
	char cmd[300];
	(void)state;
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	return system(cmd) == 0 ? 0 : -1;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_copy_hashes_what_it_copies),
		cmocka_unit_test(test_copy_tee_reads_back),
		cmocka_unit_test(test_zstd_round_trip),
		cmocka_unit_test(test_damaged_stream_is_corrupt),
		cmocka_unit_test(test_missing_file),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
