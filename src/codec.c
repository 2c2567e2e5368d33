/* codec.c — SHA-256 hashing, hashed copies and zstd streams for the backups (codec.h).
 * Buffers are large (CODEC_BUF) so a 1 GiB file is a few hundred system calls, and each
 * pass hashes the bytes it moves, so no file is read twice for its checksum. Every input
 * is read once front to back: POSIX_FADV_SEQUENTIAL asks the kernel for read-ahead. */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/evp.h>
#include <zstd.h>

#include "codec.h"
#include "fault.h"
#include "banned.h"

#define CODEC_BUF (4 << 20)

static void hex_of(const unsigned char *md, size_t n, char *hex)
{
	static const char digits[] = "0123456789abcdef";
	size_t i;
	for (i = 0; i < n; i++) {
		hex[2 * i] = digits[md[i] >> 4];
		hex[2 * i + 1] = digits[md[i] & 15];
	}
	hex[2 * n] = 0;
}

static EVP_MD_CTX *sha_new(void)
{
	EVP_MD_CTX *m = EVP_MD_CTX_new();
	if (m && EVP_DigestInit_ex(m, EVP_sha256(), NULL) != 1) {
		EVP_MD_CTX_free(m);
		return NULL;
	}
	return m;
}

static int sha_final(EVP_MD_CTX *m, char hex[65])
{
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int len = 0;
	if (EVP_DigestFinal_ex(m, md, &len) != 1 || len != 32)
		return -1;
	hex_of(md, len, hex);
	return 0;
}

/* Copies are written with O_DIRECT where the file system takes it: the bytes go from
 * the buffer to the device without a second copy in the page cache, which on a page-cache
 * copy is most of the CPU (1.27 GiB: 0.27 s of system time against 1.25 s buffered), the
 * fsync after it has little left to do, and a later read of the file comes from the
 * device, not from pages this process wrote. DIRECT_ALIGN is the alignment of the
 * buffer, the offsets and the lengths it needs (every logical block size up to 4 KiB). */
#define DIRECT_ALIGN 4096

/* Turns O_DIRECT on for fd: 1 when on, 0 when the file system refuses it (tmpfs before Linux 6.6,
 * some FUSE file systems). */
static int direct_on(int fd)
{
	int fl = fcntl(fd, F_GETFL);
	return fl >= 0 && fcntl(fd, F_SETFL, fl | O_DIRECT) == 0;
}

/* Turns O_DIRECT off for fd: 1 when it was on (and is now off), else 0. */
static int direct_off(int fd)
{
	int fl = fcntl(fd, F_GETFL);
	return fl >= 0 && (fl & O_DIRECT) && fcntl(fd, F_SETFL, fl & ~O_DIRECT) == 0;
}

/* read(2) that retries EINTR: bytes read, 0 at the end, -1 with errno. */
static ssize_t read_some(int fd, void *buf, size_t n)
{
	ssize_t r;
	while ((r = read(fd, buf, n)) < 0 && errno == EINTR)
		;
	return r;
}

/* Reads until buf is full or the end: bytes read, or -1 with errno. A read that O_DIRECT
 * refuses (EINVAL) is made again, and the rest, without it. */
static ssize_t read_full(int fd, unsigned char *buf, size_t n)
{
	size_t got = 0;
	while (got < n) {
		ssize_t r = read_some(fd, buf + got, n - got);
		if (r < 0 && errno == EINVAL && direct_off(fd))
			continue;
		if (r < 0)
			return -1;
		if (r == 0)
			break;
		got += (size_t)r;
	}
	return (ssize_t)got;
}

/* Writes all n bytes: 0, or -1 with errno. A write that O_DIRECT refuses (EINVAL: an
 * alignment the device wants larger) is made again, and the rest, without it. */
static int write_full(int fd, const unsigned char *buf, size_t n)
{
	while (n) {
		ssize_t w = write(fd, buf, n);
		if (w < 0) {
			if (errno == EINTR || (errno == EINVAL && direct_off(fd)))
				continue;
			return -1;
		}
		buf += w;
		n -= (size_t)w;
	}
	return 0;
}

static int write_fail(struct ck_err *err, const char *what, const char *dst, int e)
{
	return ck_err_set(err, e == ENOSPC ? CK_EFULL : CK_EIO, "%s %s: write: %s", what, dst,
			  strerror(e));
}

int codec_sha256_file(const char *path, char hex[65], int64_t *size, struct ck_err *err)
{
	EVP_MD_CTX *m = NULL;
	unsigned char *buf = NULL;
	int fd, ret = 0;
	int64_t total = 0;
	ssize_t r;

	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0)
		return ck_err_set(err, CK_EIO, "checksum %s: %s", path, strerror(errno));
	if (!(buf = malloc(CODEC_BUF)) || !(m = sha_new())) {
		ret = ck_err_set(err, CK_ENOMEM, "checksum %s: out of memory", path);
		goto out;
	}
	posix_fadvise(fd, 0, 0, POSIX_FADV_SEQUENTIAL); /* read once, front to back */
	while ((r = read_some(fd, buf, CODEC_BUF)) > 0) {
		EVP_DigestUpdate(m, buf, (size_t)r);
		total += r;
	}
	if (r < 0)
		ret = ck_err_set(err, CK_EIO, "checksum %s: read: %s", path, strerror(errno));
	else if (sha_final(m, hex))
		ret = ck_err_set(err, CK_EIO, "checksum %s: SHA-256 failed", path);
	else if (size)
		*size = total;
out:
	EVP_MD_CTX_free(m);
	free(buf);
	close(fd);
	return ret;
}

/* One buffer's read (read_full of CODEC_BUF bytes), run beside the write and hash of
 * the previous buffer. */
struct buf_read {
	int fd;
	unsigned char *buf;
	ssize_t got; /* bytes read (0 at the end), or -1 with err */
	int err;
};

static void *buf_read_main(void *arg)
{
	struct buf_read *r = arg;
	r->got = read_full(r->fd, r->buf, CODEC_BUF);
	r->err = r->got < 0 ? errno : 0;
	return NULL;
}

/* One buffer's write, run beside the hashing of the same (read-only) bytes. */
struct copy_write {
	int fd;
	const unsigned char *buf;
	size_t n;
	int err; /* errno of a failed write, else 0 */
};

static void *copy_write_main(void *arg)
{
	struct copy_write *w = arg;
	if (w->n % DIRECT_ALIGN) /* the file's tail: not a whole block, not O_DIRECT */
		direct_off(w->fd);
	w->err = write_full(w->fd, w->buf, w->n) ? errno : 0;
	return NULL;
}

int codec_copy(int in, const char *src, int out, const char *dst, char hex[65], int64_t *size,
	       struct ck_err *err)
{
	EVP_MD_CTX *m = NULL;
	void *mem = NULL;
	struct buf_read rd[2];
	int ret = 0, cur = 0, direct = 0, i;
	int64_t total = 0;

	if (posix_memalign(&mem, DIRECT_ALIGN, 2 * (size_t)CODEC_BUF) || !(m = sha_new())) {
		ret = ck_err_set(err, CK_ENOMEM, "copy %s: out of memory", src);
		goto out;
	}
	/* The source (a backup being restored) is read with O_DIRECT where allowed: not
	 * through the page cache, which the restored file's own pages need; the next buffer
	 * is read while this one is written and hashed. */
	posix_fadvise(in, 0, 0, POSIX_FADV_SEQUENTIAL); /* for when O_DIRECT is refused */
	direct = lseek(in, 0, SEEK_CUR) % DIRECT_ALIGN == 0 && direct_on(in);
	for (i = 0; i < 2; i++)
		rd[i] = (struct buf_read){in, (unsigned char *)mem + (size_t)i * CODEC_BUF, 0, 0};
	buf_read_main(&rd[0]);
	while (rd[cur].got > 0) {
		struct buf_read *next = &rd[!cur];
		struct copy_write w = {out, rd[cur].buf, (size_t)rd[cur].got, 0};
		pthread_t rth, wth;
		int full = rd[cur].got == CODEC_BUF, rstarted, wstarted;

		next->got = 0;
		/* The read of the next buffer, the write and the hash of this one overlap;
		 * without threads, in turn. */
		rstarted = full && pthread_create(&rth, NULL, buf_read_main, next) == 0;
		wstarted = pthread_create(&wth, NULL, copy_write_main, &w) == 0;
		EVP_DigestUpdate(m, rd[cur].buf, (size_t)rd[cur].got);
		if (wstarted)
			pthread_join(wth, NULL);
		else
			copy_write_main(&w);
		if (rstarted)
			pthread_join(rth, NULL);
		else if (full)
			buf_read_main(next);
		if (w.err) {
			ret = write_fail(err, "copy to", dst, w.err);
			goto out;
		}
		total += rd[cur].got;
		cur = !cur;
	}
	if (rd[cur].got < 0)
		ret = ck_err_set(err, CK_EIO, "copy %s: read: %s", src, strerror(rd[cur].err));
	else if (sha_final(m, hex))
		ret = ck_err_set(err, CK_EIO, "copy %s: SHA-256 failed", src);
	else if (size)
		*size = total;
out:
	if (direct)
		direct_off(in);
	EVP_MD_CTX_free(m);
	free(mem);
	return ret;
}

/* The read back of a copy's first output, on a thread of its own one buffer or two
 * behind the copy: each buffer of dst is read (from the device where O_DIRECT is
 * allowed) once the copy wrote it, and compared with the bytes written, still in the
 * copy's ring of FOLLOW_RING buffers: the copy waits before it reuses a buffer the read
 * back has not compared yet. A memcmp, not a second SHA-256: 0.1 CPU-s per GiB, not 0.6. */
#define FOLLOW_RING 3

struct follow {
	pthread_mutex_t mu;
	pthread_cond_t cv;
	int64_t written; /* buffers of dst complete (under mu) */
	int64_t checked; /* buffers read back and compared (under mu) */
	int ended;       /* the copy stopped, done or failed (under mu) */
	int quit;        /* the read back stopped: the copy waits no more (under mu) */
	unsigned char *ring[FOLLOW_RING];
	unsigned char *back; /* the buffer read back into */
	int fd;              /* dst, read-only (O_DIRECT where allowed) */
	const char *dst;
	int64_t len;
	int64_t differs; /* the offset of the first byte read back unlike the one written */
	int rc;          /* 0, or the read back failed: err says why */
	struct ck_err err;
};

/* Test hook: the byte in the middle of dst goes bad on the device between its write and
 * its read back (CANDLEKEEP_FAULT_DAMAGE=backup-copy), as a bad write would. */
static void follow_damage(const struct follow *f)
{
	unsigned char b = 0;
	int fd = open(f->dst, O_RDWR | O_CLOEXEC);

	if (fd < 0)
		return;
	if (pread(fd, &b, 1, f->len / 2) == 1) {
		b ^= 0x01;
		if (pwrite(fd, &b, 1, f->len / 2) != 1 || fdatasync(fd) != 0)
			b = 0;
	}
	close(fd);
}

/* Reads buffer j of dst back and compares it with the copy's: 0 (f->differs set if
 * they differ), or -1 with f->rc set. Once a byte differed the copy has failed: nothing
 * more is read. */
static int follow_step(struct follow *f, int64_t j)
{
	int64_t off = j * CODEC_BUF;
	int64_t n = f->len - off < CODEC_BUF ? f->len - off : CODEC_BUF;
	struct buf_read rd = {f->fd, f->back, 0, 0};
	const unsigned char *w = f->ring[j % FOLLOW_RING];

	if (f->differs >= 0)
		return 0;
	if (off <= f->len / 2 && f->len / 2 < off + n && fault_damage("backup-copy"))
		follow_damage(f);
	buf_read_main(&rd); /* the buffers are read in order: a whole one, or to the end */
	if (rd.got < n) {
		f->rc = ck_err_set(&f->err, CK_EIO, "read back %s: %s", f->dst,
				   rd.got < 0 ? strerror(rd.err) : "shorter than written");
		return -1;
	}
	if (memcmp(f->back, w, (size_t)n)) {
		int64_t i = 0;
		while (f->back[i] == w[i])
			i++;
		f->differs = off + i;
	}
	return 0;
}

static void *follow_main(void *arg)
{
	struct follow *f = arg;
	int64_t j, nbuf = (f->len + CODEC_BUF - 1) / CODEC_BUF;

	for (j = 0; j < nbuf; j++) {
		int ready;
		pthread_mutex_lock(&f->mu);
		while (f->written <= j && !f->ended)
			pthread_cond_wait(&f->cv, &f->mu);
		ready = f->written > j;
		pthread_mutex_unlock(&f->mu);
		if (!ready || follow_step(f, j)) /* the copy failed (it says why), or this */
			break;
		pthread_mutex_lock(&f->mu);
		f->checked = j + 1;
		pthread_cond_broadcast(&f->cv);
		pthread_mutex_unlock(&f->mu);
	}
	pthread_mutex_lock(&f->mu);
	f->quit = 1;
	pthread_cond_broadcast(&f->cv);
	pthread_mutex_unlock(&f->mu);
	return NULL;
}

/* The copy's side: waits until ring buffer j may be filled (the read back compared
 * what it held), then tells the read back that buffer j - 1 is written (ended: the copy
 * stopped). */
static void follow_wait(struct follow *f, int64_t j)
{
	pthread_mutex_lock(&f->mu);
	while (j - f->checked >= FOLLOW_RING && !f->quit)
		pthread_cond_wait(&f->cv, &f->mu);
	pthread_mutex_unlock(&f->mu);
}

static void follow_tell(struct follow *f, int64_t written, int ended)
{
	pthread_mutex_lock(&f->mu);
	f->written = written;
	f->ended |= ended;
	pthread_cond_broadcast(&f->cv);
	pthread_mutex_unlock(&f->mu);
}

int codec_copy_tee(int in, const char *src, int64_t len, void (*fix)(unsigned char *, size_t),
		   int out, const char *dst, int out2, const char *dst2, char hex[65],
		   int64_t *differs, struct ck_err *err, struct ck_err *err2)
{
	EVP_MD_CTX *m = NULL;
	int ret = 0, following = 0, nring = differs ? FOLLOW_RING : 1, fd2 = out2;
	int64_t done = 0, j = 0;
	void *mem = NULL;
	int direct[2] = {0, 0}, i;
	struct follow f = {.mu = PTHREAD_MUTEX_INITIALIZER,
			   .cv = PTHREAD_COND_INITIALIZER,
			   .fd = -1,
			   .dst = dst,
			   .len = len,
			   .differs = -1};
	pthread_t fth;

	err2->code = 0;
	err2->msg[0] = 0;
	if (posix_memalign(&mem, DIRECT_ALIGN, (size_t)(nring + 1) * CODEC_BUF) ||
	    !(m = sha_new())) {
		ret = ck_err_set(err, CK_ENOMEM, "copy %s: out of memory", src);
		goto out;
	}
	for (i = 0; i < nring; i++)
		f.ring[i] = (unsigned char *)mem + (size_t)i * CODEC_BUF;
	f.back = (unsigned char *)mem + (size_t)nring * CODEC_BUF;
	if (differs && (f.fd = open(dst, O_RDONLY | O_CLOEXEC)) < 0) {
		ret = ck_err_set(err, CK_EIO, "read back %s: %s", dst, strerror(errno));
		goto out;
	}
	if (differs)
		direct_on(f.fd); /* from the device, where the file system allows it */
	/* The read back runs behind the copy; without a thread, each buffer after its write. */
	if (differs)
		following = pthread_create(&fth, NULL, follow_main, &f) == 0;
	posix_fadvise(in, 0, 0, POSIX_FADV_SEQUENTIAL);
	if (out >= 0)
		direct[0] = direct_on(out);
	if (out2 >= 0)
		direct[1] = direct_on(out2);
	for (j = 0; done < len; j++) {
		size_t want = len - done < CODEC_BUF ? (size_t)(len - done) : CODEC_BUF;
		unsigned char *buf = f.ring[j % nring];
		struct copy_write w[2] = {{out, buf, 0, 0}, {fd2, buf, 0, 0}};
		pthread_t th[2];
		int started[2] = {0, 0};
		ssize_t r;

		if (following)
			follow_wait(&f, j);
		r = read_full(in, buf, want);
		if (r < 0 || (size_t)r != want) {
			ret = ck_err_set(err, CK_EIO, "copy %s: read: %s", src,
					 r < 0 ? strerror(errno)
					       : "the file is shorter than its pages");
			goto out;
		}
		if (done == 0 && fix)
			fix(buf, (size_t)r);
		/* Both writes run beside the hash of the same bytes; without threads, in turn. */
		for (i = 0; i < 2; i++) {
			w[i].n = (size_t)r;
			if (w[i].fd >= 0)
				started[i] =
					pthread_create(&th[i], NULL, copy_write_main, &w[i]) == 0;
		}
		EVP_DigestUpdate(m, buf, (size_t)r);
		for (i = 0; i < 2; i++) {
			if (started[i])
				pthread_join(th[i], NULL);
			else if (w[i].fd >= 0)
				copy_write_main(&w[i]);
		}
		if (w[0].err) {
			ret = write_fail(err, "copy to", dst, w[0].err);
			goto out;
		}
		/* The second copy failing (its disk full, say) does not stop the first: it
		 * is written no more, and err2 says why. */
		if (w[1].err) {
			write_fail(err2, "copy to", dst2, w[1].err);
			fd2 = -1;
		}
		done += r;
		if (following)
			follow_tell(&f, j + 1, 0);
		else if (differs && follow_step(&f, j))
			break;
	}
	if (sha_final(m, hex))
		ret = ck_err_set(err, CK_EIO, "copy %s: SHA-256 failed", src);
out:
	if (following) {
		follow_tell(&f, j, 1);
		pthread_join(fth, NULL);
	}
	if (differs && ret == 0 && f.rc)
		ret = f.rc, *err = f.err;
	else if (differs)
		*differs = f.differs;
	/* the callers' descriptors as they were: later reads and writes are buffered */
	if (direct[0])
		direct_off(out);
	if (direct[1])
		direct_off(out2);
	if (f.fd >= 0)
		close(f.fd);
	EVP_MD_CTX_free(m);
	free(mem);
	return ret;
}

/* Compresses one input buffer (the last one with ZSTD_e_end), writing and hashing the
 * output; 0 or an error code. */
/* The writer of compressed bytes: an fd (codec_compress) or the caller's sink. */
struct zsink {
	int fd;
	const char *dst;
	codec_sink_fn *fn;
	void *arg;
};

static int sink_write(struct zsink *s, const unsigned char *p, size_t n, struct ck_err *err)
{
	if (s->fn)
		return s->fn(s->arg, p, n, err);
	if (write_full(s->fd, p, n))
		return write_fail(err, "compress into", s->dst, errno);
	return 0;
}

static int compress_chunk(ZSTD_CCtx *z, ZSTD_inBuffer *zin, int last, unsigned char *ob,
			  size_t olen, struct zsink *out, EVP_MD_CTX *m, int64_t *total,
			  struct ck_err *err)
{
	int rc;

	for (;;) {
		ZSTD_outBuffer zout = {ob, olen, 0};
		size_t rem =
			ZSTD_compressStream2(z, &zout, zin, last ? ZSTD_e_end : ZSTD_e_continue);
		if (ZSTD_isError(rem))
			return ck_err_set(err, CK_EIO, "compress into %s: %s", out->dst,
					  ZSTD_getErrorName(rem));
		EVP_DigestUpdate(m, ob, zout.pos);
		if (zout.pos && (rc = sink_write(out, ob, zout.pos, err)))
			return rc;
		*total += (int64_t)zout.pos;
		if (last ? rem == 0 : zin->pos == zin->size)
			return 0;
	}
}

static int compress_to(int in, const char *src, struct zsink *out, char hex[65], int64_t *size,
		       struct ck_err *err)
{
	ZSTD_CCtx *z = NULL;
	EVP_MD_CTX *m = NULL;
	size_t ilen = CODEC_BUF, olen = ZSTD_CStreamOutSize();
	unsigned char *ib = NULL, *ob = NULL;
	int ret = 0, last = 0;
	int64_t total = 0;

	if (!(z = ZSTD_createCCtx()) || !(ib = malloc(ilen)) || !(ob = malloc(olen)) ||
	    !(m = sha_new())) {
		ret = ck_err_set(err, CK_ENOMEM, "compress %s: out of memory", src);
		goto out;
	}
	/* A file read once, front to back: ask for read-ahead. */
	posix_fadvise(in, 0, 0, POSIX_FADV_SEQUENTIAL);
	ZSTD_CCtx_setParameter(z, ZSTD_c_compressionLevel, 3);
	ZSTD_CCtx_setParameter(z, ZSTD_c_checksumFlag, 1);
	ZSTD_CCtx_setParameter(z, ZSTD_c_nbWorkers, 2); /* ignored without multithread support */
	while (!last) {
		ssize_t r = read_full(in, ib, ilen);
		ZSTD_inBuffer zin = {ib, r > 0 ? (size_t)r : 0, 0};
		if (r < 0) {
			ret = ck_err_set(err, CK_EIO, "compress %s: read: %s", src,
					 strerror(errno));
			goto out;
		}
		last = (size_t)r < ilen;
		if ((ret = compress_chunk(z, &zin, last, ob, olen, out, m, &total, err)))
			goto out;
	}
	if (sha_final(m, hex))
		ret = ck_err_set(err, CK_EIO, "compress %s: SHA-256 failed", src);
	else
		*size = total;
out:
	ZSTD_freeCCtx(z);
	EVP_MD_CTX_free(m);
	free(ib);
	free(ob);
	return ret;
}

int codec_compress(int in, const char *src, int out, const char *dst, char hex[65], int64_t *size,
		   struct ck_err *err)
{
	struct zsink s = {out, dst, NULL, NULL};
	return compress_to(in, src, &s, hex, size, err);
}

int codec_compress_stream(int in, const char *src, codec_sink_fn *sink, void *arg, const char *dst,
			  char hex[65], int64_t *size, struct ck_err *err)
{
	struct zsink s = {-1, dst, sink, arg};
	return compress_to(in, src, &s, hex, size, err);
}

int codec_sha256_buf(const void *p, size_t n, char hex[65])
{
	EVP_MD_CTX *m = sha_new();
	int rc;

	if (!m)
		return -1;
	EVP_DigestUpdate(m, p, n);
	rc = sha_final(m, hex);
	EVP_MD_CTX_free(m);
	return rc;
}

int codec_decompress(int in, const char *src, int out, const char *dst, char hex[65],
		     struct ck_err *err)
{
	ZSTD_DCtx *z = NULL;
	EVP_MD_CTX *m = NULL;
	size_t ilen = ZSTD_DStreamInSize(), olen = ZSTD_DStreamOutSize(), last = 1;
	unsigned char *ib = NULL, *ob = NULL;
	ssize_t r;
	int ret = 0;

	if (!(z = ZSTD_createDCtx()) || !(ib = malloc(ilen)) || !(ob = malloc(olen)) ||
	    !(m = sha_new())) {
		ret = ck_err_set(err, CK_ENOMEM, "decompress %s: out of memory", src);
		goto out;
	}
	posix_fadvise(in, 0, 0, POSIX_FADV_SEQUENTIAL);
	while ((r = read_some(in, ib, ilen)) > 0) {
		ZSTD_inBuffer zin = {ib, (size_t)r, 0};
		while (zin.pos < zin.size) {
			ZSTD_outBuffer zout = {ob, olen, 0};
			last = ZSTD_decompressStream(z, &zout, &zin);
			if (ZSTD_isError(last)) {
				ret = ck_err_set(err, CK_ECORRUPT, "decompress %s: %s", src,
						 ZSTD_getErrorName(last));
				goto out;
			}
			if (zout.pos && write_full(out, ob, zout.pos)) {
				ret = write_fail(err, "decompress into", dst, errno);
				goto out;
			}
			EVP_DigestUpdate(m, ob, zout.pos);
		}
	}
	if (r < 0)
		ret = ck_err_set(err, CK_EIO, "decompress %s: read: %s", src, strerror(errno));
	else if (last != 0)
		ret = ck_err_set(err, CK_ECORRUPT, "decompress %s: truncated zstd stream", src);
	else if (sha_final(m, hex))
		ret = ck_err_set(err, CK_EIO, "decompress %s: SHA-256 failed", src);
out:
	ZSTD_freeDCtx(z);
	EVP_MD_CTX_free(m);
	free(ib);
	free(ob);
	return ret;
}
