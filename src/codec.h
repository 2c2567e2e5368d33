/* codec.h — the byte-level work of backups, apart from their tiers and files: SHA-256 of
 * files, copies that hash the bytes they move in the same pass, and zstd streams that
 * hash what they produce. Every function works on descriptors the caller opened (and
 * closes); names are for messages only, but for codec_copy_tee's read back, which opens
 * its output again by name. Nothing here fsyncs, renames or names files: that is
 * backup.c's. */
#ifndef CK_CODEC_H
#define CK_CODEC_H

#include <stddef.h>
#include <stdint.h>

#include "err.h"

/* SHA-256 of the file at path as 64 lower-case hex digits; *size (may be NULL) gets its
 * length. CK_EIO if it cannot be read. */
int codec_sha256_file(const char *path, char hex[65], int64_t *size, struct ck_err *err);

/* Copies fd in (named src) to fd out (named dst) from their current offsets to the end
 * of in, and the SHA-256 of the bytes copied into hex, in one pass: each buffer is
 * written and hashed while the next one is read, in with O_DIRECT where its file system
 * allows it (and its offset is block-aligned). *size (may be NULL) gets the byte count.
 * CK_EIO / CK_EFULL (ENOSPC) on a read or write error; out is not fsync'd. */
int codec_copy(int in, const char *src, int out, const char *dst, char hex[65], int64_t *size,
	       struct ck_err *err);

/* codec_copy of the first len bytes of in (named src) into two descriptors at once,
 * out and out2 (out2 may be -1), the two writes and the hash of each buffer running side
 * by side. A failed write to out2 does not fail the copy: out2 is written no more and
 * err2 says why (err2->code is 0 when out2 got every byte). fix (may be NULL) may change
 * the first buffer (offset 0) before it is hashed and written. The outputs are written
 * with O_DIRECT where their file system allows it (their descriptors' flags are as
 * before on return). With differs (may be NULL), the file dst (out's, a new file of
 * exactly len bytes) is read back from the device, on a thread of its own a buffer or
 * two behind the copy, and compared with the bytes written: *differs gets -1 when every
 * byte matched, else the offset of the first that did not. CK_EIO if in ends before len
 * bytes or the read back fails. Neither output is fsync'd. */
int codec_copy_tee(int in, const char *src, int64_t len, void (*fix)(unsigned char *, size_t),
		   int out, const char *dst, int out2, const char *dst2, char hex[65],
		   int64_t *differs, struct ck_err *err, struct ck_err *err2);

/* zstd-compresses fd in (named src) into fd out (named dst), level 3 with the frame
 * checksum; the SHA-256 of the compressed bytes into hex and their count into *size, in
 * the same pass. out is not fsync'd. */
int codec_compress(int in, const char *src, int out, const char *dst, char hex[65], int64_t *size,
		   struct ck_err *err);

/* The receiver of a stream's bytes, in order: 0, or an error code with err set (the
 * stream stops there). */
typedef int codec_sink_fn(void *arg, const unsigned char *p, size_t n, struct ck_err *err);

/* codec_compress into sink instead of a descriptor (dst names it in messages): the
 * bytes are hashed before they are handed over. */
int codec_compress_stream(int in, const char *src, codec_sink_fn *sink, void *arg, const char *dst,
			  char hex[65], int64_t *size, struct ck_err *err);

/* SHA-256 of n bytes at p as hex: 0, or -1 if the digest failed. */
int codec_sha256_buf(const void *p, size_t n, char hex[65]);

/* zstd-decompresses fd in (named src) into fd out (named dst); the SHA-256 of the
 * decompressed bytes into hex, in the same pass. CK_ECORRUPT for a damaged or truncated
 * stream. out is not fsync'd. */
int codec_decompress(int in, const char *src, int out, const char *dst, char hex[65],
		     struct ck_err *err);

#endif
