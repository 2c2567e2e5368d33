/* archive.c — see archive.h.
 *
 * Layout: the CSV checker (archive_csv_*), the zip reader (archive_parse_file), the
 * transfers (one struct xfer per file: its .CHECKSUM and its zip at once, two handles on
 * the same multi handle, the zip hashed as it arrives; the file is judged when both
 * ended), and archive_fill, which plans files from the wants, runs them on one
 * curl multi handle and subtracts what was stored from the wants. */
#include <archive.h>
#include <archive_entry.h>
#include <curl/curl.h>
#include <errno.h>
#include <inttypes.h>
#include <openssl/evp.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "archive.h"
#include "binance.h"
#include "cfg.h"
#include "log.h"
#include "store_archive.h"
#include "utc.h"
#include "banned.h"

#define HOUR_MS 3600000LL
#define DAY_MS 86400000LL
#define LINE_MAX_LEN 1024           /* an archive CSV line is ~150 bytes */
#define ZIP_MAX ((size_t)256 << 20) /* a month of 1m candles is a few MB zipped */
#define SUM_MAX 1024
#define ROWS_MAX 10000000 /* a month of 1s candles is 2.7M */

/* ---- the CSV checker ---- */

struct archive_csv {
	char name[128], symbol[32];
	int64_t iv, pstart, pend;
	char line[LINE_MAX_LEN + 1];
	size_t llen;
	size_t lineno;
	int ncol;    /* columns of the first data row */
	int tdigits; /* digits of the first data row's open_time (13 ms, 16 us) */
	struct kline *k;
	size_t n, cap;
};

struct archive_csv *archive_csv_new(const char *name, const char *symbol, int64_t interval_ms,
				    int64_t pstart, int64_t pend)
{
	struct archive_csv *c = calloc(1, sizeof(*c));
	if (!c)
		return NULL;
	snprintf(c->name, sizeof(c->name), "%s", name);
	snprintf(c->symbol, sizeof(c->symbol), "%s", symbol);
	c->iv = interval_ms;
	c->pstart = pstart;
	c->pend = pend;
	return c;
}

void archive_csv_free(struct archive_csv *c)
{
	if (!c)
		return;
	free(c->k);
	free(c);
}

static int count_cols(const char *p, size_t len)
{
	int n = 1;
	for (size_t i = 0; i < len; i++)
		n += p[i] == ',';
	return n;
}

/* Room for one more row. The first line sizes the array for the period's candles (rows
 * are aligned, inside the period and strictly increasing, so no more can come): no
 * regrowth, no copy of a month's rows while they arrive. */
static int csv_room(struct archive_csv *c, struct ck_err *err)
{
	size_t nc;
	struct kline *nk;
	if (c->n < c->cap)
		return 0;
	nc = c->cap ? c->cap * 2 : 256;
	if (!c->cap && c->pend > c->pstart && c->iv > 0) {
		int64_t rows = (c->pend - c->pstart) / c->iv + 1;
		nc = rows < ROWS_MAX ? (size_t)rows : ROWS_MAX;
	}
	if (nc > ROWS_MAX || !(nk = realloc(c->k, nc * sizeof(*nk))))
		return ck_err_set(err, CK_ENOMEM, "%s: too many rows", c->name);
	c->k = nk;
	c->cap = nc;
	return 0;
}

static int csv_line(struct archive_csv *c, const char *p, size_t len, struct ck_err *err)
{
	int rc;

	c->lineno++;
	while (len && (p[len - 1] == '\r' || p[len - 1] == '\n'))
		len--;
	if (!len)
		return 0;
	if ((rc = csv_room(c, err)))
		return rc;
	/* parsed in place: the row counts only once every check passed (c->n++) */
	struct kline *k = &c->k[c->n];
	rc = kline_csv_parse(p, len, k, err);
	if (rc == 1) {
		if (c->n || c->lineno != 1)
			return ck_err_set(err, CK_EVALIDATE,
					  "%s: columns: a header row at line %zu", c->name,
					  c->lineno);
		return 0;
	}
	if (rc)
		return ck_err_set(err, CK_EVALIDATE, "%s: columns: line %zu: %s", c->name,
				  c->lineno, err->msg);
	int ncol = count_cols(p, len);
	int td = (int)strspn(p, "0123456789");
	if (!c->n) {
		c->ncol = ncol;
		c->tdigits = td;
	} else if (ncol != c->ncol) {
		return ck_err_set(err, CK_EVALIDATE,
				  "%s: columns: line %zu has %d columns, the file's first row %d",
				  c->name, c->lineno, ncol, c->ncol);
	} else if ((td >= 16) != (c->tdigits >= 16)) {
		return ck_err_set(err, CK_EVALIDATE,
				  "%s: timestamps: line %zu mixes microseconds and milliseconds",
				  c->name, c->lineno);
	}
	if (kline_validate(k, c->symbol, c->iv, c->pstart, c->pend - 1, err))
		return ck_err_set(err, CK_EVALIDATE, "%s: line %zu: %s", c->name, c->lineno,
				  err->msg);
	if (c->n && k->open_time <= c->k[c->n - 1].open_time)
		return ck_err_set(err, CK_EVALIDATE,
				  "%s: rows: line %zu is out of order or repeated", c->name,
				  c->lineno);
	c->n++;
	return 0;
}

int archive_csv_feed(struct archive_csv *c, const char *p, size_t len, struct ck_err *err)
{
	while (len) {
		const char *nl = memchr(p, '\n', len);
		size_t take = nl ? (size_t)(nl - p) : len;
		if (nl && !c->llen && take <= LINE_MAX_LEN) { /* a whole line: parsed where it is */
			int rc = csv_line(c, p, take, err);
			if (rc)
				return rc;
			p += take + 1;
			len -= take + 1;
			continue;
		}
		if (c->llen + take > LINE_MAX_LEN)
			return ck_err_set(err, CK_EVALIDATE,
					  "%s: columns: line %zu is longer than %d bytes", c->name,
					  c->lineno + 1, LINE_MAX_LEN);
		memcpy(c->line + c->llen, p, take);
		c->llen += take;
		p += take;
		len -= take;
		if (nl) {
			p++;
			len--;
			int rc = csv_line(c, c->line, c->llen, err);
			c->llen = 0;
			if (rc)
				return rc;
		}
	}
	return 0;
}

/* Candles of [from, last] (open times) inside the holes h[0..nh) (sorted by first). */
static int64_t hole_candles(const struct store_range *h, size_t nh, int64_t from, int64_t last,
			    int64_t iv)
{
	int64_t at = from, cnt = 0;
	for (size_t i = 0; i < nh; i++) {
		int64_t a = h[i].first > at ? h[i].first : at;
		int64_t b = h[i].last < last ? h[i].last : last;
		if (a <= b) {
			cnt += (b - a) / iv + 1;
			at = b + iv;
		}
	}
	return cnt;
}

int archive_csv_finish(struct archive_csv *c, int64_t listing, const struct store_range *holes,
		       size_t nholes, struct kline **out, size_t *n, struct ck_err *err)
{
	if (c->llen) {
		int rc = csv_line(c, c->line, c->llen, err);
		c->llen = 0;
		if (rc)
			return rc;
	}
	int64_t from = c->pstart;
	if (listing > from)
		from = listing;
	/* A symbol listed inside the period with its listing unknown: the file starts it. */
	if (!listing && c->n && c->k[0].open_time > c->pstart)
		from = c->k[0].open_time;
	int64_t period = from < c->pend ? (c->pend - from + c->iv - 1) / c->iv : 0;
	int64_t in_holes = period ? hole_candles(holes, nholes, from, c->pend - 1, c->iv) : 0;
	/* The rows the file must hold: the period's candles but those the exchange has
	 * answered empty (its holes: no row there, or one, is right). Rows are aligned,
	 * inside the period and strictly increasing (csv_line), so counting the rows
	 * outside the holes from `from` on finds a missing row anywhere. */
	int64_t rows = 0, before = 0;
	size_t h = 0;
	for (size_t i = 0; i < c->n; i++) {
		int64_t t = c->k[i].open_time;
		while (h < nholes && holes[h].last < t)
			h++;
		if (t < from)
			before++;
		else if (!(h < nholes && holes[h].first <= t))
			rows++;
	}
	if (before || rows != period - in_holes) {
		if (in_holes)
			return ck_err_set(err, CK_EVALIDATE,
					  "%s: rows: %" PRId64 " rows outside the exchange's holes,"
					  " the period has %" PRId64 " there (%" PRId64
					  " candles, %" PRId64 " in holes)",
					  c->name, rows + before, period - in_holes, period,
					  in_holes);
		return ck_err_set(err, CK_EVALIDATE, "%s: rows: %zu rows, the period has %" PRId64,
				  c->name, c->n, period);
	}
	*out = c->k;
	*n = c->n;
	c->k = NULL;
	c->n = c->cap = 0;
	return 0;
}

/* ---- the zip ---- */

/* libarchive's last error without its trailing newline. */
static const char *ar_msg(struct archive *ar, char *buf, size_t size)
{
	const char *m = ar ? archive_error_string(ar) : NULL;
	size_t n;
	snprintf(buf, size, "%s", m ? m : "out of memory");
	n = strlen(buf);
	while (n && (buf[n - 1] == '\n' || buf[n - 1] == '\r' || buf[n - 1] == ' '))
		buf[--n] = 0;
	return buf;
}

int archive_parse_file(const void *data, size_t len, int is_zip, const char *name,
		       const char *symbol, int64_t interval_ms, int64_t pstart, int64_t pend,
		       int64_t listing, const struct store_range *holes, size_t nholes,
		       struct kline **out, size_t *n, struct ck_err *err)
{
	struct archive_csv *c = archive_csv_new(name, symbol, interval_ms, pstart, pend);
	struct archive *ar = NULL;
	struct archive_entry *e;
	int rc = 0, entries = 0;
	char why[200];

	if (!c)
		return ck_err_set(err, CK_ENOMEM, "%s: out of memory", name);
	if (!is_zip) {
		rc = archive_csv_feed(c, data, len, err);
		goto finish;
	}
	if (!(ar = archive_read_new()) || archive_read_support_format_zip(ar) != ARCHIVE_OK ||
	    archive_read_open_memory(ar, data, len) != ARCHIVE_OK) {
		rc = ck_err_set(err, CK_EVALIDATE, "%s: zip: %s", name,
				ar_msg(ar, why, sizeof(why)));
		goto out;
	}
	for (;;) {
		int r = archive_read_next_header(ar, &e);
		if (r == ARCHIVE_EOF)
			break;
		if (r != ARCHIVE_OK) {
			rc = ck_err_set(err, CK_EVALIDATE, "%s: zip: %s", name,
					ar_msg(ar, why, sizeof(why)));
			goto out;
		}
		if (++entries > 1) {
			rc = ck_err_set(err, CK_EVALIDATE, "%s: zip: more than one file inside",
					name);
			goto out;
		}
		char buf[65536];
		la_ssize_t got;
		while ((got = archive_read_data(ar, buf, sizeof(buf))) > 0)
			if ((rc = archive_csv_feed(c, buf, (size_t)got, err)))
				goto out;
		if (got < 0) {
			rc = ck_err_set(err, CK_EVALIDATE, "%s: zip: %s", name,
					ar_msg(ar, why, sizeof(why)));
			goto out;
		}
	}
	if (!entries) {
		rc = ck_err_set(err, CK_EVALIDATE, "%s: zip: no file inside", name);
		goto out;
	}
finish:
	if (!rc)
		rc = archive_csv_finish(c, listing, holes, nholes, out, n, err);
out:
	if (ar)
		archive_read_free(ar);
	archive_csv_free(c);
	return rc;
}

int archive_period(const char *date, int64_t *start, int64_t *end)
{
	int y, mo, d = 1, used = 0;
	size_t len = strlen(date);
	int daily = len == 10;
	if (daily ? sscanf(date, "%4d-%2d-%2d%n", &y, &mo, &d, &used) != 3
		  : (len != 7 || sscanf(date, "%4d-%2d%n", &y, &mo, &used) != 2))
		return CK_EVALIDATE;
	if ((size_t)used != len || y < 2000 || y > 9999 || mo < 1 || mo > 12 || d < 1 || d > 31)
		return CK_EVALIDATE;
	struct tm tm = {.tm_year = y - 1900, .tm_mon = mo - 1, .tm_mday = d};
	time_t t = timegm(&tm);
	if (tm.tm_mday != d)
		return CK_EVALIDATE;
	if (daily)
		tm.tm_mday++;
	else
		tm.tm_mon++;
	*start = (int64_t)t * 1000;
	*end = (int64_t)timegm(&tm) * 1000;
	return 0;
}

/* ---- transfers ---- */

/* A file waits, is in flight (parts: its transfers not ended yet) or is done. */
enum xstate { X_WAIT, X_RUN, X_DONE };
#define PART_SUM 1
#define PART_ZIP 2

/* How one part's transfer ended. */
struct xpart {
	CURLcode cc;
	long status;
	int overflow;
};

struct xfer {
	size_t want;
	int daily;
	int64_t pstart, pend; /* the period */
	int64_t lo, hi;       /* the open times of the want inside it */
	char name[96];        /* SYM-IV-PERIOD */
	enum xstate state;
	int parts;           /* PART_SUM | PART_ZIP: the transfers in flight */
	CURL *h, *hs;        /* the zip's handle, the .CHECKSUM's */
	struct xpart rs, rz; /* how the .CHECKSUM's and the zip's transfers ended */
	char *sum;           /* SUM_MAX + 1 bytes while the file is in flight (thousands wait) */
	size_t sumlen;
	unsigned char *zip;
	size_t ziplen, zipcap;
	EVP_MD_CTX *md;
	int stored;   /* its candles are in the database */
	char hex[65]; /* its SHA-256, once verified */
	char old[65]; /* archive_recheck: the catalogued SHA-256 */
	int64_t rows;
	int failed; /* reported; its period goes another way */
};

struct fill {
	const struct archive_opts *o;
	struct store *st;
	struct archive_want *w;
	struct archive_stats *stats;
	CURLM *multi;
	size_t nw; /* wants */
	struct xfer **x;
	size_t nx, capx, next; /* next: the first not started */
	int running;           /* files in flight */
	struct pend *pend;     /* per want: verified candles not yet stored */
	size_t pending;        /* candles in all of pend[] */
	struct kline *run;     /* flush: adjacent chunks joined (grows, reused) */
	size_t runcap;
	struct parser *parser; /* run_multi: the files' parsing, on a thread of its own */
};

/* Verified files' candles of one want, stored together (one transaction for many
 * small files instead of one each); their catalogue rows follow in one more. A run
 * killed before the flush downloads those files again. PEND_FLUSH bounds the candles
 * held for all wants together (~15 MB), so memory does not grow with the symbols.
 * Each file's parsed array is kept as it is (a chunk, never copied while files
 * arrive); the flush stores the chunks in time order, each run of adjacent ones as one
 * page (see flush). */
#define PEND_FLUSH 50000 /* candles */
struct chunk {
	struct kline *k; /* the file's parsed array (owned); its candles are k[a..b) */
	size_t a, b;
};
struct pend {
	struct chunk *c;
	size_t nc, capc;
	size_t n; /* candles in all chunks */
	struct xfer **files;
	size_t nfiles, capfiles;
};

/* Room for one more element in the array *(void **)v of len elements of size bytes,
 * capacity *cap (first: the capacity of a new one, doubled after). -1 if out of memory
 * (the array is unchanged). */
static int grow(void *v, size_t *cap, size_t len, size_t size, size_t first)
{
	void **pv = v, *nv;
	size_t nc;

	if (len < *cap)
		return 0;
	nc = *cap ? *cap * 2 : first;
	if (!(nv = realloc(*pv, nc * size)))
		return -1;
	*pv = nv;
	*cap = nc;
	return 0;
}

static void pend_free(struct pend *p)
{
	for (size_t j = 0; j < p->nc; j++)
		free(p->c[j].k);
	free(p->c);
	free(p->files);
	p->c = NULL;
	p->nc = p->capc = p->n = 0;
}

static size_t on_sum(char *p, size_t sz, size_t nm, void *cls)
{
	struct xfer *x = cls;
	size_t n = sz * nm;
	if (x->sumlen + n > SUM_MAX) {
		x->rs.overflow = 1;
		return 0;
	}
	memcpy(x->sum + x->sumlen, p, n);
	x->sumlen += n;
	x->sum[x->sumlen] = 0;
	return n;
}

static size_t on_zip(char *p, size_t sz, size_t nm, void *cls)
{
	struct xfer *x = cls;
	size_t n = sz * nm;
	if (x->ziplen + n > ZIP_MAX) {
		x->rz.overflow = 1;
		return 0;
	}
	if (x->ziplen + n > x->zipcap) {
		size_t nc = x->zipcap ? x->zipcap * 2 : 65536;
		while (nc < x->ziplen + n)
			nc *= 2;
		unsigned char *np = realloc(x->zip, nc);
		if (!np) {
			x->rz.overflow = 1;
			return 0;
		}
		x->zip = np;
		x->zipcap = nc;
	}
	memcpy(x->zip + x->ziplen, p, n);
	x->ziplen += n;
	EVP_DigestUpdate(x->md, p, n); /* hashed as it arrives */
	return n;
}

static int add_xfer(struct fill *f, size_t want, int daily, int64_t pstart, int64_t pend)
{
	const struct archive_want *w = &f->w[want];
	struct xfer *x;
	char date[16];
	time_t t = (time_t)(pstart / 1000);
	struct tm tm;

	if (grow(&f->x, &f->capx, f->nx, sizeof(*f->x), 64) || !(x = calloc(1, sizeof(*x))))
		return CK_ENOMEM;
	gmtime_r(&t, &tm);
	strftime(date, sizeof(date), daily ? "%Y-%m-%d" : "%Y-%m", &tm);
	x->want = want;
	x->daily = daily;
	x->pstart = pstart;
	x->pend = pend;
	x->lo = w->first > pstart ? w->first : pstart;
	x->hi = w->last < pend - f->o->interval_ms ? w->last : pend - f->o->interval_ms;
	snprintf(x->name, sizeof(x->name), "%s-%s-%s", w->symbol, f->o->interval, date);
	f->x[f->nx++] = x;
	return 0;
}

/* The day files of [from, to) (day-aligned ms) that are published. */
static int add_days(struct fill *f, size_t want, int64_t from, int64_t to)
{
	const struct archive_want *w = &f->w[want];
	for (int64_t d = from; d < to; d += DAY_MS) {
		if (d + DAY_MS + HOUR_MS > f->o->now || d > w->last || d + DAY_MS <= w->first)
			continue;
		int rc = add_xfer(f, want, 1, d, d + DAY_MS);
		if (rc)
			return rc;
	}
	return 0;
}

static int64_t month_start(int64_t ms, int add)
{
	time_t t = (time_t)(ms / 1000);
	struct tm tm;
	gmtime_r(&t, &tm);
	struct tm m = {.tm_year = tm.tm_year, .tm_mon = tm.tm_mon + add, .tm_mday = 1};
	return (int64_t)timegm(&m) * 1000;
}

/* Monthly files for complete published months inside the want's reach, days else. */
static int plan_want(struct fill *f, size_t i)
{
	const struct archive_want *w = &f->w[i];
	int rc = 0;
	if (w->first > w->last || w->first + DAY_MS + HOUR_MS > f->o->now)
		return 0;
	for (int64_t m = month_start(w->first, 0); !rc && m <= w->last; m = month_start(m, 1)) {
		int64_t end = month_start(m, 1);
		if (end + HOUR_MS <= f->o->now)
			rc = add_xfer(f, i, 0, m, end);
		else
			rc = add_days(f, i, m, end);
	}
	return rc;
}

/* Starts one part of file x: its .CHECKSUM (PART_SUM) or its zip (PART_ZIP). */
static int start_part(struct fill *f, struct xfer *x, int part)
{
	char url[1024];
	int zip = part == PART_ZIP;
	CURL **hp = zip ? &x->h : &x->hs;
	if (!*hp && !(*hp = curl_easy_init()))
		return CK_ENOMEM;
	if (!zip && !x->sum && !(x->sum = calloc(1, SUM_MAX + 1)))
		return CK_ENOMEM;
	CURL *h = *hp;
	curl_easy_reset(h);
	snprintf(url, sizeof(url), "%s/data/%s/%s/klines/%s/%s/%s.zip%s", f->o->base_url,
		 f->o->market, x->daily ? "daily" : "monthly", f->w[x->want].symbol, f->o->interval,
		 x->name, zip ? "" : ".CHECKSUM");
	curl_easy_setopt(h, CURLOPT_URL, url);
	curl_easy_setopt(h, CURLOPT_PRIVATE, x);
	curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, zip ? on_zip : on_sum);
	curl_easy_setopt(h, CURLOPT_WRITEDATA, x);
	curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(h, CURLOPT_ACCEPT_ENCODING, "");
	curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https");
	if (f->o->user_agent)
		curl_easy_setopt(h, CURLOPT_USERAGENT, f->o->user_agent);
	if (f->o->timeout_ms > 0)
		curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, (long)f->o->timeout_ms);
	if (zip) {
		if (!(x->md = EVP_MD_CTX_new()) || !EVP_DigestInit_ex(x->md, EVP_sha256(), NULL))
			return CK_ENOMEM;
	}
	if (curl_multi_add_handle(f->multi, h) != CURLM_OK)
		return CK_ENOMEM;
	x->state = X_RUN;
	x->parts |= part;
	f->running++;
	return 0;
}

/* Starts file x: its .CHECKSUM and its zip at once; archive_recheck's files (a
 * catalogued checksum) their .CHECKSUM alone, the zip only if it changed. Nothing of
 * the zip is used before both ended and the digests match (xfer_step). */
static int start_file(struct fill *f, struct xfer *x)
{
	int rc = start_part(f, x, PART_SUM);
	if (!rc && !x->old[0])
		rc = start_part(f, x, PART_ZIP);
	return rc;
}

static void xfer_fail(struct fill *f, struct xfer *x, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static void xfer_fail(struct fill *f, struct xfer *x, const char *fmt, ...)
{
	char why[300];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(why, sizeof(why), fmt, ap);
	va_end(ap);
	x->failed = 1;
	f->stats->files_failed++;
	log_kv(LOG_WARN, "archive", ((const char *[]){"file", x->name, NULL}),
	       "archive file rejected, nothing of it stored: %s; its period is fetched %s", why,
	       x->daily ? "from REST" : "from daily files, then REST");
}

/* The open times of a chunk's first and last candle. */
static int64_t chunk_first(const struct chunk *c)
{
	return c->k[c->a].open_time;
}

static int64_t chunk_last(const struct chunk *c)
{
	return c->k[c->b - 1].open_time;
}

static int cmp_chunk(const void *a, const void *b)
{
	int64_t tx = chunk_first(a), ty = chunk_first(b);
	return tx < ty ? -1 : tx > ty;
}

/* Stores want i's verified candles and catalogues their files, inside flush_all's
 * transaction. Files finish in any order: the chunks are sorted by time, and each run
 * of adjacent ones (the last candle of one an interval before the first of the next)
 * is one page, copied into f->run unless it is a single chunk. A page in time order
 * and without wide gaps is what store_put_page compares with the stored candles in one
 * range read; an unordered one costs a lookup per candle (4h, 60 symbols x 2 years:
 * the files' arrays were also regrown and copied as they arrived, 8.8% of the CPU). */
static int flush(struct fill *f, size_t i, struct ck_err *err)
{
	struct pend *p = &f->pend[i];
	struct archive_want *w = &f->w[i];
	struct store_page_result pr;
	int64_t iv = f->o->interval_ms;
	char fname[128];
	size_t j, e;

	if (!p->nfiles)
		return 0;
	if (p->nc > 1) /* (and never a NULL array to qsort) */
		qsort(p->c, p->nc, sizeof(*p->c), cmp_chunk);
	for (j = 0; j < p->nc; j = e) {
		size_t total = p->c[j].b - p->c[j].a;
		const struct kline *page = p->c[j].k + p->c[j].a;
		for (e = j + 1; e < p->nc && chunk_first(&p->c[e]) == chunk_last(&p->c[e - 1]) + iv;
		     e++)
			total += p->c[e].b - p->c[e].a;
		if (e > j + 1) {
			if (total > f->runcap) {
				struct kline *nk = realloc(f->run, total * sizeof(*nk));
				if (!nk)
					return ck_err_set(err, CK_ENOMEM, "archive: out of memory");
				f->run = nk;
				f->runcap = total;
			}
			size_t at = 0;
			for (size_t q = j; q < e; q++) {
				size_t m = p->c[q].b - p->c[q].a;
				memcpy(f->run + at, p->c[q].k + p->c[q].a, m * sizeof(*f->run));
				at += m;
			}
			page = f->run;
		}
		if (store_put_page(f->st, w->symbol, f->o->interval, page, total, &pr, err))
			return err->code;
		f->stats->written += pr.written;
		f->stats->revised += pr.revised;
		w->written += pr.written;
		w->revised += pr.revised;
	}
	f->stats->candles += (int64_t)p->n;
	f->pending -= p->n;
	for (j = 0; j < p->nc; j++)
		free(p->c[j].k); /* held again only while files arrive */
	p->nc = p->n = 0;
	for (j = 0; j < p->nfiles; j++) {
		struct xfer *x = p->files[j];
		snprintf(fname, sizeof(fname), "%s.zip", x->name);
		if (store_archive_put(f->st, fname, x->hex, x->rows, f->o->now, err))
			return err->code;
		x->stored = 1;
		f->stats->files_ok++;
	}
	p->nfiles = 0;
	return 0;
}

/* Every want's verified candles and catalogue rows in one transaction: one commit
 * (one fsync) a flush, not two per want (60 symbols' files were 120 commits a flush:
 * 4h, 60 symbols x 2 years spent 0.6 s of 5 s in the catalogue's commits alone). A
 * failure undoes the whole flush and fails the run. */
static int flush_all(struct fill *f, size_t n, struct ck_err *err)
{
	size_t i = 0;
	while (i < n && !f->pend[i].nfiles)
		i++;
	if (i == n)
		return 0;
	if (store_tx_begin(f->st, err))
		return err->code;
	for (; i < n; i++)
		if (flush(f, i, err)) {
			store_tx_rollback(f->st);
			return err->code;
		}
	return store_tx_commit(f->st, err) ? err->code : 0;
}

/* ---- parsing on a second thread ----
 *
 * A verified file's unzip, CSV parse and row validation (archive_parse_file: no store,
 * no log, no shared state) run on a thread of their own while the main thread goes on
 * with the transfers and stores the files parsed before: 1m, 5 symbols x 1 year spent
 * a quarter of its CPU parsing, on the same thread as the inserts. Jobs are done in
 * the order given, and at most PARSE_MAX are given and not yet taken back (each holds a
 * file's body and then its parsed rows: the memory stays bounded). Files parse in any
 * order: each want's flush sorts its files' rows by time. */
#define PARSE_MAX 2
/* A smaller body is parsed where it arrives: handing it over costs more than its parse
 * (4h, 60 symbols x 2 years: 3,240 files of at most ~10 KB were 12% slower through the
 * thread; batches of small files were no faster than parsing them in place). */
#define PARSE_INLINE ((size_t)32 << 10)
/* One file to parse. The parser thread reads the job and x's fixed fields (pstart,
 * pend), nothing the main thread changes meanwhile. */
struct parse_job {
	struct xfer *x;
	unsigned char *zip; /* the body, owned (freed once parsed) */
	size_t ziplen;
	char fname[128];
	char hex[65]; /* its SHA-256, verified */
	const char *symbol;
	int64_t iv, listing;
	struct store_range *holes; /* owned */
	size_t nholes;
	struct kline *k; /* the result: rows, or rc and perr */
	size_t n;
	int rc;
	struct ck_err perr;
	struct parse_job *next;
};
/* Jobs in the order they came, linked by next. */
struct job_list {
	struct parse_job *head, *tail;
};

static void jobs_push(struct job_list *l, struct parse_job *j)
{
	j->next = NULL;
	if (l->tail)
		l->tail->next = j;
	else
		l->head = j;
	l->tail = j;
}

static struct parse_job *jobs_pop(struct job_list *l)
{
	struct parse_job *j = l->head;
	if (j && !(l->head = j->next))
		l->tail = NULL;
	return j;
}

struct parser {
	pthread_t th;
	int started;
	pthread_mutex_t mu;
	pthread_cond_t work, done;       /* a job was given (or quit); a job is done */
	struct job_list waiting, parsed; /* given, not started; parsed, not taken back */
	size_t given;                    /* given and not taken back */
	int quit, tried;
	CURLM *multi; /* woken when a job is done */
};

static void job_run(struct parse_job *j)
{
	j->rc = archive_parse_file(j->zip, j->ziplen, 1, j->fname, j->symbol, j->iv, j->x->pstart,
				   j->x->pend, j->listing, j->holes, j->nholes, &j->k, &j->n,
				   &j->perr);
	free(j->zip); /* parsed: the body is not needed while the candles are stored */
	j->zip = NULL;
}

static void job_free(struct parse_job *j)
{
	if (!j)
		return;
	free(j->zip);
	free(j->holes);
	free(j->k);
	free(j);
}

static void *parser_main(void *arg)
{
	struct parser *pr = arg;

	pthread_mutex_lock(&pr->mu);
	for (;;) {
		struct parse_job *j;
		while (!pr->quit && !pr->waiting.head)
			pthread_cond_wait(&pr->work, &pr->mu);
		if (pr->quit)
			break;
		j = jobs_pop(&pr->waiting);
		pthread_mutex_unlock(&pr->mu);
		job_run(j);
		pthread_mutex_lock(&pr->mu);
		jobs_push(&pr->parsed, j);
		pthread_cond_signal(&pr->done);
		curl_multi_wakeup(pr->multi); /* the main thread may be polling its sockets */
	}
	pthread_mutex_unlock(&pr->mu);
	return NULL;
}

/* Starts the thread, at the first file large enough for it (a run of small files never
 * has one); without one (it could not be made) every file is parsed where it arrives. */
static void parser_start(struct parser *pr)
{
	sigset_t all, old;
	int rc;

	if (pr->tried)
		return;
	pr->tried = 1;
	if (pthread_mutex_init(&pr->mu, NULL))
		return;
	if (pthread_cond_init(&pr->work, NULL)) {
		pthread_mutex_destroy(&pr->mu);
		return;
	}
	if (pthread_cond_init(&pr->done, NULL)) {
		pthread_cond_destroy(&pr->work);
		pthread_mutex_destroy(&pr->mu);
		return;
	}
	/* Signals (a stop, the daemon's) stay the main thread's: the parser's thread
	 * starts with every signal blocked. */
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	rc = pthread_create(&pr->th, NULL, parser_main, pr);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (rc) {
		pthread_cond_destroy(&pr->done);
		pthread_cond_destroy(&pr->work);
		pthread_mutex_destroy(&pr->mu);
		log_warn("archive",
			 "no second thread for parsing (%s): files are parsed one "
			 "after the other",
			 strerror(rc));
		return;
	}
	pr->started = 1;
	log_debug("archive", "files of %zu KiB and more are parsed on a second thread",
		  PARSE_INLINE >> 10);
}

/* Ends the thread (after the job it is on) and frees every job not taken back. */
static void parser_stop(struct parser *pr)
{
	struct parse_job *j;

	if (pr->started) {
		pthread_mutex_lock(&pr->mu);
		pr->quit = 1;
		pthread_cond_signal(&pr->work);
		pthread_mutex_unlock(&pr->mu);
		pthread_join(pr->th, NULL);
		pthread_cond_destroy(&pr->done);
		pthread_cond_destroy(&pr->work);
		pthread_mutex_destroy(&pr->mu);
		pr->started = 0;
	}
	while ((j = jobs_pop(&pr->waiting)) || (j = jobs_pop(&pr->parsed)))
		job_free(j);
	pr->given = 0;
}

/* Gives job j to the started thread. */
static void parser_give(struct parser *pr, struct parse_job *j)
{
	pr->given++;
	pthread_mutex_lock(&pr->mu);
	jobs_push(&pr->waiting, j);
	pthread_cond_signal(&pr->work);
	pthread_mutex_unlock(&pr->mu);
}

/* The oldest job done, or NULL; wait: until one is (when any was given). */
static struct parse_job *parser_take(struct parser *pr, int wait)
{
	struct parse_job *j;

	if (!pr->given)
		return NULL;
	pthread_mutex_lock(&pr->mu);
	while (wait && !pr->parsed.head)
		pthread_cond_wait(&pr->done, &pr->mu);
	if ((j = jobs_pop(&pr->parsed)))
		pr->given--;
	pthread_mutex_unlock(&pr->mu);
	return j;
}

static int xfer_parsed(struct fill *f, struct parse_job *j, struct ck_err *err);

/* Takes back the jobs done (wait: at least one, when any is given) and stores them. */
static int parser_drain(struct fill *f, int wait, struct ck_err *err)
{
	struct parse_job *j;
	int rc = 0;

	while (!rc && (j = parser_take(f->parser, wait))) {
		rc = xfer_parsed(f, j, err);
		job_free(j);
		wait = 0;
	}
	return rc;
}

/* The zip arrived and hashed: compare, then parse (on the parser's thread) and store
 * (xfer_parsed, when it is back). */
static int xfer_finish(struct fill *f, struct xfer *x, struct ck_err *err)
{
	struct archive_want *w = &f->w[x->want];
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned mdlen = 0;
	char hex[65];
	struct parse_job *j;
	int rc, inline_;

	f->stats->bytes += (int64_t)x->ziplen;
	if (!EVP_DigestFinal_ex(x->md, md, &mdlen) || mdlen != 32)
		return ck_err_set(err, CK_ENOMEM, "%s: SHA-256 failed", x->name);
	for (unsigned i = 0; i < 32; i++)
		snprintf(hex + 2 * i, 3, "%02x", md[i]);
	/* "<64 hex>  <name>" */
	if (x->sumlen < 64 || strspn(x->sum, "0123456789abcdefABCDEF") != 64) {
		xfer_fail(f, x, "checksum: the .CHECKSUM file is not \"<sha256>  %s.zip\"",
			  x->name);
		return 0;
	}
	if (strncasecmp(x->sum, hex, 64)) {
		xfer_fail(f, x,
			  "checksum: SHA-256 %.64s of the %zu bytes received, the .CHECKSUM says "
			  "%.64s",
			  hex, x->ziplen, x->sum);
		return 0;
	}
	if (x->ziplen >= PARSE_INLINE)
		parser_start(f->parser);
	inline_ = !f->parser->started || x->ziplen < PARSE_INLINE;
	/* room for one more job: the oldest done is stored first */
	if (!inline_ && f->parser->given >= PARSE_MAX && (rc = parser_drain(f, 1, err)))
		return rc;
	if (!(j = calloc(1, sizeof(*j))))
		return ck_err_set(err, CK_ENOMEM, "archive: out of memory");
	if (store_archive_holes(f->st, w->symbol, f->o->interval, x->pstart, x->pend - 1, &j->holes,
				&j->nholes, err)) {
		job_free(j);
		return err->code;
	}
	j->x = x;
	memcpy(j->hex, hex, sizeof(hex));
	j->zip = x->zip; /* the job's now */
	j->ziplen = x->ziplen;
	x->zip = NULL;
	x->ziplen = x->zipcap = 0;
	snprintf(j->fname, sizeof(j->fname), "%s.zip", x->name);
	j->symbol = w->symbol;
	j->iv = f->o->interval_ms;
	j->listing = w->listing;
	if (inline_) {
		job_run(j);
		rc = xfer_parsed(f, j, err);
		job_free(j);
		return rc;
	}
	parser_give(f->parser, j);
	return parser_drain(f, 0, err);
}

/* A file parsed (job j): its rows kept for the flush that stores them. */
static int xfer_parsed(struct fill *f, struct parse_job *j, struct ck_err *err)
{
	struct xfer *x = j->x;
	struct kline *k = j->k;
	size_t n = j->n, a, b;
	const char *fname = j->fname;

	if (j->rc) {
		if (j->perr.code == CK_ENOMEM)
			return ck_err_set(err, CK_ENOMEM, "%s", j->perr.msg);
		xfer_fail(f, x, "%s",
			  j->perr.msg + (strncmp(j->perr.msg, fname, strlen(fname))
						 ? 0
						 : strlen(fname) + 2));
		return 0;
	}
	j->k = NULL; /* the rows are the fill's now */
	for (a = 0; a < n && k[a].open_time < x->lo; a++)
		;
	for (b = a; b < n && k[b].open_time <= x->hi; b++)
		;
	struct pend *p = &f->pend[x->want];
	int rc = f->pending && f->pending + (b - a) > PEND_FLUSH ? flush_all(f, f->nw, err) : 0;
	if (rc) {
		free(k);
		return rc;
	}
	if ((b > a && grow(&p->c, &p->capc, p->nc, sizeof(*p->c), 8)) ||
	    grow(&p->files, &p->capfiles, p->nfiles, sizeof(*p->files), 16)) {
		free(k);
		return ck_err_set(err, CK_ENOMEM, "archive: out of memory");
	}
	if (b > a) { /* kept until the flush stores it */
		/* A file the want only partly covers (its first or last period) keeps just
		 * its part, so that PEND_FLUSH, counted in candles, bounds the memory too: a
		 * month of 1m is 44,640 parsed rows (~14 MB) for maybe a day of them. */
		struct kline *part;
		if (2 * (b - a) < n && (part = malloc((b - a) * sizeof(*part)))) {
			memcpy(part, k + a, (b - a) * sizeof(*part));
			free(k);
			k = part;
			b -= a;
			a = 0;
		}
		p->c[p->nc++] = (struct chunk){k, a, b};
		k = NULL;
	}
	p->n += b - a;
	f->pending += b - a;
	p->files[p->nfiles++] = x;
	memcpy(x->hex, j->hex, sizeof(x->hex));
	x->rows = (int64_t)n;
	free(k);
	return f->pending >= PEND_FLUSH ? flush_all(f, f->nw, err) : 0;
}

/* A file's transfer is over: its handle, digest and body go (a month of 1m candles is
 * megabytes; thousands of files must not stay in memory until the end). */
static void xfer_release(struct xfer *x)
{
	if (x->h)
		curl_easy_cleanup(x->h);
	if (x->hs)
		curl_easy_cleanup(x->hs);
	x->h = x->hs = NULL;
	free(x->sum);
	x->sum = NULL;
	EVP_MD_CTX_free(x->md);
	x->md = NULL;
	free(x->zip);
	x->zip = NULL;
	x->ziplen = x->zipcap = 0;
}

static int not_published(long status)
{
	return status == 404 || status == 403; /* S3 answers 403 or 404 */
}

static int part_failed(const struct xpart *p)
{
	return p->cc != CURLE_OK || p->status != 200 || p->overflow;
}

/* One transfer (handle eh) of file x ended: when it was the file's last in flight,
 * the next step of the file. */
static int xfer_step(struct fill *f, struct xfer *x, CURL *eh, CURLcode cc, struct ck_err *err)
{
	int part = eh == x->hs ? PART_SUM : PART_ZIP;
	struct xpart *p = part == PART_SUM ? &x->rs : &x->rz;
	p->cc = cc;
	curl_easy_getinfo(eh, CURLINFO_RESPONSE_CODE, &p->status);
	curl_multi_remove_handle(f->multi, eh);
	f->running--;
	x->parts &= ~part;
	if (x->parts)
		return 0; /* the other part is still in flight */
	x->state = X_DONE;
	int zip = x->md != NULL; /* the zip was asked (start_part) */
	long missing = not_published(x->rs.status)          ? x->rs.status
		       : zip && not_published(x->rz.status) ? x->rz.status
							    : 0;
	if (missing) {
		f->stats->files_missing++;
		x->failed = 1;
		log_kv(LOG_INFO, "archive", ((const char *[]){"file", x->name, NULL}),
		       "archive file not published (HTTP %ld)", missing);
		return 0;
	}
	if (part_failed(&x->rs)) {
		xfer_fail(f, x, "transfer: .CHECKSUM: %s (HTTP %ld)",
			  x->rs.overflow ? "too large" : curl_easy_strerror(x->rs.cc),
			  x->rs.status);
		return 0;
	}
	if (zip && part_failed(&x->rz)) {
		xfer_fail(f, x, "transfer: %s (HTTP %ld)",
			  x->rz.overflow ? "too large" : curl_easy_strerror(x->rz.cc),
			  x->rz.status);
		return 0;
	}
	if (!zip && x->sumlen >= 64 && !strncasecmp(x->sum, x->old, 64))
		return 0; /* archive_recheck: unchanged */
	if (!zip) {
		f->stats->amended++;
		log_kv(LOG_WARN, "archive", ((const char *[]){"file", x->name, NULL}),
		       "the archive amended a file read before (its .CHECKSUM changed from %.64s):"
		       " reading it again",
		       x->old);
		return start_part(f, x, PART_ZIP)
			       ? ck_err_set(err, CK_ENOMEM, "archive: out of memory")
			       : 0;
	}
	return xfer_finish(f, x, err);
}

static int xfer_done(struct fill *f, struct xfer *x, CURL *eh, CURLcode cc, struct ck_err *err)
{
	int rc = xfer_step(f, x, eh, cc, err);
	if (x->state == X_DONE)
		xfer_release(x);
	return rc;
}

/* Runs the transfers; what was verified is stored at least every FLUSH_MS, so that a
 * killed run keeps the files it finished (progress survives; they are not fetched
 * again). */
#define FLUSH_MS 1000
static int multi_loop(struct fill *f, size_t nw, struct ck_err *err)
{
	int conc = f->o->concurrency > 0 ? f->o->concurrency : 1;
	int64_t flushed = mono_ms();
	for (;;) {
		int rc = parser_drain(f, 0, err);
		if (rc)
			return rc;
		if ((f->o->stop && *f->o->stop) ||
		    (f->o->deadline_mono && mono_ms() >= f->o->deadline_mono)) {
			for (size_t i = 0; i < f->nx; i++) {
				struct xfer *x = f->x[i];
				if (x->state != X_RUN)
					continue;
				if (x->parts & PART_SUM)
					curl_multi_remove_handle(f->multi, x->hs);
				if (x->parts & PART_ZIP)
					curl_multi_remove_handle(f->multi, x->h);
				x->parts = 0;
				x->state = X_DONE;
			}
			f->running = 0;
			f->next = f->nx;
			return 0; /* (run_multi stores the files parsed meanwhile) */
		}
		if (mono_ms() - flushed >= FLUSH_MS) {
			if ((rc = flush_all(f, nw, err)))
				return rc;
			flushed = mono_ms();
		}
		/* conc transfers: a file is two (its .CHECKSUM and its zip) */
		while ((f->running + 2 <= conc || !f->running) && f->next < f->nx)
			if (start_file(f, f->x[f->next++]))
				return ck_err_set(err, CK_ENOMEM, "archive: out of memory");
		if (!f->running) {
			if (!f->parser->given)
				return 0;
			if ((rc = parser_drain(f, 1, err)))
				return rc;
			continue; /* a flush may be due, more files may start */
		}
		int still = 0, q = 0, done = 0;
		if (curl_multi_perform(f->multi, &still) != CURLM_OK)
			return ck_err_set(err, CK_ENET, "archive: curl multi failed");
		CURLMsg *m;
		while ((m = curl_multi_info_read(f->multi, &q))) {
			if (m->msg != CURLMSG_DONE)
				continue;
			struct xfer *x = NULL;
			CURLcode cc = m->data.result;
			curl_easy_getinfo(m->easy_handle, CURLINFO_PRIVATE, (char **)&x);
			if ((rc = xfer_done(f, x, m->easy_handle, cc, err)))
				return rc;
			done++;
		}
		/* Wait for sockets only when nothing ended (ended transfers free slots now);
		 * a parsed file wakes the wait too (curl_multi_wakeup). */
		if (!done && curl_multi_poll(f->multi, NULL, 0, 1000, NULL) != CURLM_OK)
			return ck_err_set(err, CK_ENET, "archive: curl multi failed");
	}
}

/* Runs the transfers (multi_loop) with the parser's thread beside them; every file
 * parsed is stored before it returns, a failure drops the files not stored. */
static int run_multi(struct fill *f, size_t nw, struct ck_err *err)
{
	struct parser pr = {.multi = f->multi};
	int rc;

	f->parser = &pr;
	rc = multi_loop(f, nw, err);
	while (!rc && pr.given)
		rc = parser_drain(f, 1, err);
	parser_stop(&pr);
	f->parser = NULL;
	return rc;
}

static void xfer_free(struct xfer *x)
{
	if (!x)
		return;
	if (x->h)
		curl_easy_cleanup(x->h);
	if (x->hs)
		curl_easy_cleanup(x->hs);
	EVP_MD_CTX_free(x->md);
	free(x->sum);
	free(x->zip);
	free(x);
}

/* Frees the bodies of finished transfers (a 1m month is megabytes). */
static void drop_bodies(struct fill *f)
{
	for (size_t i = 0; i < f->nx; i++) {
		free(f->x[i]->zip);
		f->x[i]->zip = NULL;
		f->x[i]->ziplen = f->x[i]->zipcap = 0;
	}
}

static int add_rest(struct archive_rest **r, size_t *n, size_t *cap, size_t want, void *tag,
		    int64_t a, int64_t b, int check)
{
	if (a > b)
		return 0;
	if (grow(r, cap, *n, sizeof(**r), 16))
		return CK_ENOMEM;
	(*r)[*n] = (struct archive_rest){want, tag, a, b, check};
	(*n)++;
	return 0;
}

static int cmp_lo(const void *a, const void *b)
{
	const struct xfer *x = *(struct xfer *const *)a, *y = *(struct xfer *const *)b;
	if (x->want != y->want)
		return x->want < y->want ? -1 : 1;
	return x->lo < y->lo ? -1 : x->lo > y->lo;
}

/* splitmix64: the random sample's positions. */
static uint64_t mix(uint64_t *x)
{
	uint64_t z = (*x += 0x9e3779b97f4a7c15ULL);
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

static int cmp_first(const void *a, const void *b)
{
	const struct archive_rest *x = a, *y = b;
	return x->first < y->first ? -1 : x->first > y->first;
}

/* Samples near each other in one request: sorted, a window joins the one before while
 * both fit in CHECK_JOIN candles. Up to 99 candles a request weighs 1
 * (binance_kline_weight), so joining never costs more weight and saves round trips
 * (daily files' boundaries: up to 16 days of 4h in one request). Not wider: on loopback
 * the candles between the samples cost more than the round trips saved (joined up to
 * 499, 60 symbols x 2 years of 4h took 8.7 s instead of 5.5 s with 5x fewer requests). */
#define CHECK_JOIN 99
static void join_checks(struct archive_rest *r, size_t *n, size_t from, int64_t iv)
{
	size_t o = from;
	if (*n - from < 2)
		return;
	qsort(r + from, *n - from, sizeof(*r), cmp_first);
	for (size_t j = from + 1; j < *n; j++) {
		if (r[j].last <= r[o].last)
			continue; /* inside the window before */
		if ((r[j].last - r[o].first) / iv + 1 <= CHECK_JOIN)
			r[o].last = r[j].last;
		else
			r[++o] = r[j];
	}
	*n = o + 1;
}

/* The cross-check samples of want i's stored files x[a..b) (sorted by lo). */
static int add_checks(struct fill *f, size_t i, size_t a, size_t b, struct archive_rest **rest,
		      size_t *nrest, size_t *cap)
{
	size_t from = *nrest;
	int64_t iv = f->o->interval_ms, pend = -1;
	int64_t total = 0;
	uint64_t seed = (uint64_t)f->o->now ^ (uint64_t)i * 0x100000001b3ULL;
	for (size_t j = a; j < b; j++) {
		const struct xfer *x = f->x[j];
		if (!x->stored)
			continue;
		total += (x->hi - x->lo) / iv + 1;
		if (pend >= 0 &&
		    pend + iv == x->lo) { /* the last of one file, the first of the next */
			if (add_rest(rest, nrest, cap, i, f->w[i].tag, pend, x->lo, 1))
				return CK_ENOMEM;
		} else {
			if (pend >= 0 && add_rest(rest, nrest, cap, i, f->w[i].tag, pend, pend, 1))
				return CK_ENOMEM;
			if (add_rest(rest, nrest, cap, i, f->w[i].tag, x->lo, x->lo, 1))
				return CK_ENOMEM;
		}
		pend = x->hi;
	}
	if (pend >= 0 && add_rest(rest, nrest, cap, i, f->w[i].tag, pend, pend, 1))
		return CK_ENOMEM;
	for (int r = 0; total > 2 && r < ARCHIVE_CHECK_RANDOM; r++) {
		int64_t k = (int64_t)(mix(&seed) % (uint64_t)total);
		for (size_t j = a; j < b; j++) {
			const struct xfer *x = f->x[j];
			int64_t nx = x->stored ? (x->hi - x->lo) / iv + 1 : 0;
			if (k < nx) {
				int64_t t = x->lo + k * iv;
				if (add_rest(rest, nrest, cap, i, f->w[i].tag, t, t, 1))
					return CK_ENOMEM;
				break;
			}
			k -= nx;
		}
	}
	join_checks(*rest, nrest, from, iv);
	return 0;
}

/* The wants minus the stored files' [lo, hi], then the cross-check samples. */
static int subtract(struct fill *f, size_t nw, struct archive_rest **rest, size_t *nrest)
{
	size_t cap = 0, j = 0;
	qsort(f->x, f->nx, sizeof(*f->x), cmp_lo);
	for (size_t i = 0; i < nw; i++) {
		int64_t at = f->w[i].first;
		size_t j0 = j;
		for (; j < f->nx && f->x[j]->want == i; j++) {
			const struct xfer *x = f->x[j];
			if (!x->stored)
				continue;
			if (add_rest(rest, nrest, &cap, i, f->w[i].tag, at,
				     x->lo - f->o->interval_ms, 0))
				return CK_ENOMEM;
			if (x->hi + f->o->interval_ms > at)
				at = x->hi + f->o->interval_ms;
		}
		if (add_rest(rest, nrest, &cap, i, f->w[i].tag, at, f->w[i].last, 0) ||
		    add_checks(f, i, j0, j, rest, nrest, &cap))
			return CK_ENOMEM;
	}
	return 0;
}

int archive_fill(const struct archive_opts *o, struct store *st, struct archive_want *w, size_t n,
		 struct archive_rest **rest, size_t *nrest, struct archive_stats *stats,
		 struct ck_err *err)
{
	struct fill f = {.o = o, .st = st, .w = w, .nw = n, .stats = stats};
	int rc = 0;
	size_t i, first_daily;

	*rest = NULL;
	*nrest = 0;
	for (i = 0; i < n && !rc; i++)
		rc = plan_want(&f, i);
	if (rc) {
		ck_err_set(err, rc, "archive: out of memory");
		goto out;
	}
	if (f.nx && !(f.pend = calloc(n, sizeof(*f.pend)))) {
		rc = ck_err_set(err, CK_ENOMEM, "archive: out of memory");
		goto out;
	}
	if (f.nx) {
		log_info("archive", "%zu archive files to fetch from %s", f.nx, o->base_url);
		if (!(f.multi = curl_multi_init())) {
			rc = ck_err_set(err, CK_ENOMEM, "archive: curl_multi_init failed");
			goto out;
		}
		curl_multi_setopt(f.multi, CURLMOPT_MAX_HOST_CONNECTIONS, (long)o->concurrency);
		if ((rc = run_multi(&f, n, err)) || (rc = flush_all(&f, n, err)))
			goto out;
		drop_bodies(&f);
		/* A monthly file that failed or is missing: its published days instead. */
		first_daily = f.nx;
		for (i = 0; i < first_daily && !rc; i++)
			if (!f.x[i]->daily && f.x[i]->failed)
				rc = add_days(&f, f.x[i]->want, f.x[i]->pstart, f.x[i]->pend);
		if (rc) {
			ck_err_set(err, rc, "archive: out of memory");
			goto out;
		}
		if ((rc = run_multi(&f, n, err)) || (rc = flush_all(&f, n, err)))
			goto out;
	}
	if ((rc = subtract(&f, n, rest, nrest))) {
		ck_err_set(err, rc, "archive: out of memory");
		goto out;
	}
	if (f.nx)
		log_info("archive",
			 "%" PRId64 " files stored (%" PRId64 " candles), %" PRId64
			 " rejected, %" PRId64 " not published",
			 stats->files_ok, stats->candles, stats->files_failed,
			 stats->files_missing);
out:
	if (rc) {
		free(*rest);
		*rest = NULL;
		*nrest = 0;
	}
	for (i = 0; f.pend && i < n; i++)
		pend_free(&f.pend[i]);
	free(f.pend);
	free(f.run);
	for (i = 0; i < f.nx; i++)
		xfer_free(f.x[i]);
	free(f.x);
	if (f.multi)
		curl_multi_cleanup(f.multi);
	return rc;
}

/* ---- amended files ---- */

void archive_opts_init(struct archive_opts *o, const struct cfg *cfg, int64_t now)
{
	*o = (struct archive_opts){
		.base_url = cfg->archive_base_url,
		.market = binance_market()->archive,
		.interval = cfg->interval,
		.interval_ms = cfg->interval_ms,
		.now = now,
		.concurrency = (int)cfg->concurrency,
		.user_agent = cfg->user_agent,
		.timeout_ms = cfg->request_timeout_ms,
	};
}

int archive_recheck(const struct archive_opts *o, struct store *st, const char *const *symbols,
		    size_t nsymbols, struct archive_stats *stats, struct ck_err *err)
{
	struct archive_want *w = calloc(nsymbols ? nsymbols : 1, sizeof(*w));
	struct fill f = {.o = o, .st = st, .w = w, .nw = nsymbols, .stats = stats};
	int rc = 0;
	size_t i;

	if (!w || !(f.pend = calloc(nsymbols ? nsymbols : 1, sizeof(*f.pend)))) {
		free(w);
		return ck_err_set(err, CK_ENOMEM, "archive: out of memory");
	}
	for (i = 0; i < nsymbols && !rc; i++) {
		struct store_archive_file *cat = NULL;
		size_t ncat = 0, plen = strlen(symbols[i]) + strlen(o->interval) + 2;
		w[i] = (struct archive_want){.symbol = symbols[i], .first = 0, .last = INT64_MAX};
		if ((rc = store_archive_list(st, symbols[i], o->interval, &cat, &ncat, err)))
			break;
		for (size_t j = 0; j < ncat && !rc; j++) {
			char date[16];
			int64_t a, b;
			size_t l = strlen(cat[j].name);
			if (l <= plen + 4 || l - plen - 4 >= sizeof(date))
				continue;
			memcpy(date, cat[j].name + plen, l - plen - 4);
			date[l - plen - 4] = 0;
			if (archive_period(date, &a, &b))
				continue;
			if ((rc = add_xfer(&f, i, strlen(date) == 10, a, b)))
				break;
			snprintf(f.x[f.nx - 1]->old, sizeof(f.x[f.nx - 1]->old), "%s",
				 cat[j].sha256);
		}
		free(cat);
	}
	if (rc) {
		if (rc == CK_ENOMEM)
			ck_err_set(err, rc, "archive: out of memory");
		goto out;
	}
	if (f.nx) {
		if (!(f.multi = curl_multi_init())) {
			rc = ck_err_set(err, CK_ENOMEM, "archive: curl_multi_init failed");
			goto out;
		}
		curl_multi_setopt(f.multi, CURLMOPT_MAX_HOST_CONNECTIONS, (long)o->concurrency);
		rc = run_multi(&f, nsymbols, err);
		if (!rc)
			rc = flush_all(&f, nsymbols, err);
		if (!rc && stats->amended)
			log_info("archive",
				 "%" PRId64 " amended archive files read again, %" PRId64
				 " candles revised",
				 stats->amended, stats->revised);
	}
out:
	for (i = 0; f.pend && i < nsymbols; i++)
		pend_free(&f.pend[i]);
	free(f.pend);
	free(f.run);
	for (i = 0; i < f.nx; i++)
		xfer_free(f.x[i]);
	free(f.x);
	if (f.multi)
		curl_multi_cleanup(f.multi);
	free(w);
	return rc;
}

/* ---- import ---- */

/* Reads a whole file of at most ZIP_MAX bytes. */
static int read_all(const char *path, unsigned char **out, size_t *len, struct ck_err *err)
{
	FILE *f = fopen(path, "rb");
	unsigned char *p = NULL;
	size_t n = 0, cap = 0, got;
	if (!f)
		return ck_err_set(err, errno == ENOENT ? CK_ENOTFOUND : CK_EIO, "open %s: %s", path,
				  strerror(errno));
	do {
		if (n == cap) {
			size_t nc = cap ? cap * 2 : 65536;
			unsigned char *np = nc <= ZIP_MAX ? realloc(p, nc) : NULL;
			if (!np) {
				free(p);
				fclose(f);
				return ck_err_set(err, CK_ENOMEM, "%s: larger than %zu MB", path,
						  ZIP_MAX >> 20);
			}
			p = np;
			cap = nc;
		}
		got = fread(p + n, 1, cap - n, f);
		n += got;
	} while (got);
	if (ferror(f)) {
		int e = errno;
		free(p);
		fclose(f);
		return ck_err_set(err, CK_EIO, "read %s: %s", path, strerror(e));
	}
	fclose(f);
	*out = p;
	*len = n;
	return 0;
}

/* SYM-IV-YYYY-MM[-DD].zip|.csv: fills symbol, interval, the period; 0 or -1. */
static int import_name(const char *path, struct archive_import *res, int *is_zip, int64_t *pstart,
		       int64_t *pend)
{
	const char *base = strrchr(path, '/');
	char name[128], *dot, *d1, *d2;
	base = base ? base + 1 : path;
	snprintf(name, sizeof(name), "%s", base);
	if (!(dot = strrchr(name, '.')))
		return -1;
	if (!strcmp(dot, ".zip"))
		*is_zip = 1;
	else if (!strcmp(dot, ".csv"))
		*is_zip = 0;
	else
		return -1;
	*dot = 0;
	if (!(d1 = strchr(name, '-')) || !(d2 = strchr(d1 + 1, '-')))
		return -1;
	*d1 = *d2 = 0;
	if (strlen(name) >= sizeof(res->symbol) || strlen(d1 + 1) >= sizeof(res->interval))
		return -1;
	snprintf(res->symbol, sizeof(res->symbol), "%s", name);
	snprintf(res->interval, sizeof(res->interval), "%s", d1 + 1);
	if (!kline_interval_ms(res->interval) ||
	    strspn(res->symbol, "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789") != strlen(res->symbol))
		return -1;
	return archive_period(d2 + 1, pstart, pend) ? -1 : 0;
}

int archive_import(struct store *st, const char *path, int64_t now, struct archive_import *res,
		   struct ck_err *err)
{
	unsigned char *data = NULL, *sum = NULL;
	size_t len = 0, sumlen = 0, n = 0, keep;
	int64_t pstart, pend, iv;
	int is_zip = 0, rc;
	struct kline *k = NULL;
	struct store_range *holes = NULL;
	size_t nholes = 0;
	struct store_page_result pr;
	char sumpath[4200], name[128];
	const char *base = strrchr(path, '/');

	memset(res, 0, sizeof(*res));
	if (import_name(path, res, &is_zip, &pstart, &pend))
		return 1;
	snprintf(name, sizeof(name), "%s", base ? base + 1 : path);
	iv = kline_interval_ms(res->interval);
	if ((rc = read_all(path, &data, &len, err)))
		return rc;
	snprintf(sumpath, sizeof(sumpath), "%s.CHECKSUM", path);
	rc = is_zip ? read_all(sumpath, &sum, &sumlen, err) : CK_ENOTFOUND;
	if (rc && rc != CK_ENOTFOUND)
		goto out;
	if (!rc) {
		unsigned char md[EVP_MAX_MD_SIZE];
		unsigned mdlen = 0;
		char hex[65];
		if (!EVP_Digest(data, len, md, &mdlen, EVP_sha256(), NULL) || mdlen != 32) {
			rc = ck_err_set(err, CK_ENOMEM, "%s: SHA-256 failed", name);
			goto out;
		}
		for (unsigned i = 0; i < 32; i++)
			snprintf(hex + 2 * i, 3, "%02x", md[i]);
		if (sumlen < 64 || strncasecmp((const char *)sum, hex, 64)) {
			rc = ck_err_set(
				err, CK_EVALIDATE,
				"%s: checksum: SHA-256 %s, %s says %.64s (a damaged or changed"
				" file: download both again)",
				name, hex, sumpath,
				sumlen >= 64 ? (const char *)sum : "no checksum");
			goto out;
		}
		res->checksum = 1;
	}
	if ((rc = store_archive_holes(st, res->symbol, res->interval, pstart, pend - 1, &holes,
				      &nholes, err)))
		goto out;
	rc = archive_parse_file(data, len, is_zip, name, res->symbol, iv, pstart, pend, 0, holes,
				nholes, &k, &n, err);
	if (rc)
		goto out;
	/* Never keep a candle that had not closed by now (a file of today). */
	for (keep = n; keep > 0 && k[keep - 1].close_time >= now; keep--)
		res->forming++;
	if (keep && (rc = store_put_page(st, res->symbol, res->interval, k, keep, &pr, err)))
		goto out;
	if (keep) {
		res->written = pr.written;
		res->same = pr.same;
		res->revised = pr.revised;
	}
	rc = 0;
out:
	free(holes);
	free(k);
	free(data);
	free(sum);
	return rc;
}
