/* archive.c — see archive.h. */
#include <archive.h>
#include <archive_entry.h>
#include <openssl/evp.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "archive.h"
#include "buf.h"
#include "synth.h"
#include "banned.h"

#define FILE_MAX ((size_t)256 << 20) /* a month of 1m candles is ~4 MB of CSV */
#define HOUR_MS 3600000LL
#define SPOT_MICROS_FROM 1735689600000LL /* 2025-01-01: spot's files in microseconds since */

/* The markets' archive prefixes. */
static const struct {
	const char *prefix;
	enum fx_market mk;
} prefixes[] = {
	{"/data/futures/um/", FX_UM},
	{"/data/futures/cm/", FX_CM},
	{"/data/spot/", FX_SPOT},
};

static const char header[] = "open_time,open,high,low,close,volume,close_time,quote_volume,count,"
			     "taker_buy_volume,taker_buy_quote_volume,ignore\n";

/* One parsed archive path. */
struct apath {
	enum fx_market mk;
	bool daily, checksum;
	char sym[SYMBOL_MAX + 1];
	int iv;
	char name[128];     /* SYM-IV-PERIOD, without .zip */
	char key[144];      /* the market and the name: the cache's key */
	int64_t start, end; /* ms; the period [start, end) */
};

bool archive_is_path(const char *url)
{
	return !strncmp(url, "/data/", 6);
}

/* "YYYY-MM" or "YYYY-MM-DD" to the period's bounds. */
static bool parse_period(const char *p, bool daily, int64_t *start, int64_t *end)
{
	int y, mo, d = 1, n = 0;
	size_t len = strlen(p);
	if (daily ? (len != 10 || sscanf(p, "%4d-%2d-%2d%n", &y, &mo, &d, &n) != 3)
		  : (len != 7 || sscanf(p, "%4d-%2d%n", &y, &mo, &n) != 2))
		return false;
	if ((size_t)n != len || y < 1970 || mo < 1 || mo > 12 || d < 1 || d > 31)
		return false;
	struct tm tm = {.tm_year = y - 1900, .tm_mon = mo - 1, .tm_mday = d};
	time_t t = timegm(&tm);
	if (tm.tm_mday != d) /* 2024-02-31 normalised into March */
		return false;
	if (daily) {
		tm.tm_mday++;
	} else {
		tm.tm_mon++;
	}
	*start = (int64_t)t * 1000;
	*end = (int64_t)timegm(&tm) * 1000;
	return true;
}

/* Splits /data/futures/um/{monthly,daily}/klines/SYM/IV/SYM-IV-PERIOD.zip[.CHECKSUM]. */
static bool parse_path(const char *url, struct apath *a)
{
	char kind[16], sym[SYMBOL_MAX + 2], ivs[8], file[160];
	size_t p = 0;
	memset(a, 0, sizeof(*a));
	while (p < sizeof(prefixes) / sizeof(prefixes[0]) &&
	       strncmp(url, prefixes[p].prefix, strlen(prefixes[p].prefix)))
		p++;
	if (p == sizeof(prefixes) / sizeof(prefixes[0]))
		return false;
	a->mk = prefixes[p].mk;
	url += strlen(prefixes[p].prefix);
	int n = 0;
	if (sscanf(url, "%15[a-z]/klines/%32[A-Z0-9]/%7[0-9a-zA-Z]/%159[^/]%n", kind, sym, ivs,
		   file, &n) != 4 ||
	    url[n])
		return false;
	if (!strcmp(kind, "daily"))
		a->daily = true;
	else if (strcmp(kind, "monthly"))
		return false;
	if (strlen(sym) > SYMBOL_MAX || (a->iv = iv_parse(ivs)) < 0)
		return false;
	snprintf(a->sym, sizeof(a->sym), "%s", sym);
	size_t fl = strlen(file);
	static const char zip[] = ".zip", sum[] = ".zip.CHECKSUM";
	if (fl > strlen(sum) && !strcmp(file + fl - strlen(sum), sum)) {
		a->checksum = true;
		fl -= strlen(sum);
	} else if (fl > strlen(zip) && !strcmp(file + fl - strlen(zip), zip)) {
		fl -= strlen(zip);
	} else {
		return false;
	}
	file[fl] = 0;
	snprintf(a->name, sizeof(a->name), "%s", file);
	snprintf(a->key, sizeof(a->key), "%d/%s", (int)a->mk, file);
	char want[64];
	int wl = snprintf(want, sizeof(want), "%s-%s-", sym, ivs);
	if (wl <= 0 || strncmp(file, want, (size_t)wl))
		return false;
	return parse_period(file + wl, a->daily, &a->start, &a->end);
}

static bool hits(const char *pattern, const char *name)
{
	return pattern[0] && strstr(name, pattern);
}

static void add_time(struct buf *b, int64_t ms, bool micros)
{
	buf_addf(b, "%lld", (long long)(micros ? ms * 1000 : ms));
}

/* One CSV row: the 12 archive columns; revise serves close = open (an amended value). */
static void add_row(struct buf *b, int64_t open, int64_t close_time, const char *const *f,
		    bool revise, bool micros)
{
	add_time(b, open, micros);
	for (int c = CF_OPEN; c <= CF_VOLUME; c++) {
		buf_add(b, ",", 1);
		buf_adds(b, c == CF_CLOSE && revise ? f[CF_OPEN] : f[c]);
	}
	buf_add(b, ",", 1);
	add_time(b, close_time, micros);
	for (int c = CF_QVOL; c <= CF_IGNORE; c++) {
		buf_add(b, ",", 1);
		buf_adds(b, f[c]);
	}
	buf_add(b, "\n", 1);
}

/* The CSV of the candles in [start, end), recorded or synthetic. Returns the rows written. */
static size_t build_csv(const struct market *m, const struct symbol *sy, const struct apath *a,
			int64_t now, const struct archive_faults *f, struct buf *b)
{
	const struct series *s = sy->series[a->iv];
	size_t rows = 0, i = 0, lo, hi;
	bool revise = hits(f->revise, a->name);
	bool micros = f->micros || (a->mk == FX_SPOT && a->start >= SPOT_MICROS_FROM);
	if (a->daily)
		buf_add(b, header, strlen(header));
	if (s) {
		lo = series_lower(s, a->start);
		hi = series_lower(s, a->end);
	} else {
		lo = (size_t)iv_ceil_index(a->iv,
					   a->start > m->synth_start ? a->start : m->synth_start);
		hi = (size_t)iv_ceil_index(a->iv, a->end);
		if (hi < lo)
			hi = lo;
	}
	size_t drop = hits(f->droprow, a->name) && hi - lo > 2 ? lo + (hi - lo) / 2 : (size_t)-1;
	for (i = lo; i < hi && !b->err; i++) {
		if (i == drop)
			continue;
		if (s) {
			const struct row *r = &s->rows[i];
			add_row(b, r->open_time, r->close_time, r->f, revise && i == lo, micros);
		} else {
			struct cand c;
			synth_candle(m->seed, sy->synth, a->iv, iv_time(a->iv, (int64_t)i), now,
				     &c);
			add_row(b, c.open_time, c.close_time, c.f, revise && i == lo, micros);
		}
		rows++;
	}
	return rows;
}

static la_ssize_t zip_write(struct archive *ar, void *cls, const void *p, size_t n)
{
	(void)ar;
	struct buf *b = cls;
	buf_add(b, p, n);
	return b->err ? -1 : (la_ssize_t)n;
}

/* Wraps csv into a zip holding NAME.csv. 0 or -1. */
static int build_zip(const char *name, const struct buf *csv, int64_t mtime_ms, struct buf *zip)
{
	struct archive *ar = archive_write_new();
	struct archive_entry *e = archive_entry_new();
	char entry[160];
	int rc = -1;
	if (!ar || !e)
		goto out;
	snprintf(entry, sizeof(entry), "%s.csv", name);
	archive_entry_set_pathname(e, entry);
	archive_entry_set_size(e, (la_int64_t)csv->len);
	archive_entry_set_filetype(e, AE_IFREG);
	archive_entry_set_perm(e, 0644);
	archive_entry_set_mtime(e, (time_t)(mtime_ms / 1000), 0);
	if (archive_write_set_format_zip(ar) != ARCHIVE_OK ||
	    archive_write_set_bytes_in_last_block(ar, 1) != ARCHIVE_OK ||
	    archive_write_open(ar, zip, NULL, zip_write, NULL) != ARCHIVE_OK ||
	    archive_write_header(ar, e) != ARCHIVE_OK ||
	    (csv->len && archive_write_data(ar, csv->p, csv->len) != (la_ssize_t)csv->len) ||
	    archive_write_close(ar) != ARCHIVE_OK)
		goto out;
	rc = zip->err ? -1 : 0;
out:
	archive_entry_free(e);
	archive_write_free(ar);
	return rc;
}

static void sha256_hex(const void *p, size_t n, char out[65])
{
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned mdlen = 0;
	if (!EVP_Digest(p, n, md, &mdlen, EVP_sha256(), NULL))
		mdlen = 0;
	for (unsigned i = 0; i < 32; i++)
		snprintf(out + 2 * i, 3, "%02x", i < mdlen ? md[i] : 0);
	out[64] = 0;
}

/* Files built without a fault, kept (like the real archive's static files) so a file
 * and its .CHECKSUM are built once; up to CACHE_MAX bytes. The market never changes while
 * serving and a published period is closed, so a file never changes either. */
#define CACHE_MAX ((size_t)1 << 30)
#define CACHE_BUCKETS 4096
struct cached {
	char name[144];
	char *zip;
	size_t len;
	char hex[65];
	struct cached *next;
};
static pthread_mutex_t cache_lock = PTHREAD_MUTEX_INITIALIZER;
static struct cached *cache[CACHE_BUCKETS];
static size_t cache_bytes;

static unsigned cache_hash(const char *s)
{
	unsigned h = 2166136261u;
	while (*s)
		h = (h ^ (unsigned char)*s++) * 16777619u;
	return h % CACHE_BUCKETS;
}

/* A copy of the cached zip of name into *zip (malloc'd), or false. */
static bool cache_get(const char *name, struct buf *zip, char hex[65])
{
	bool found = false;
	pthread_mutex_lock(&cache_lock);
	for (struct cached *c = cache[cache_hash(name)]; c; c = c->next)
		if (!strcmp(c->name, name)) {
			buf_add(zip, c->zip, c->len);
			memcpy(hex, c->hex, 65);
			found = !zip->err;
			break;
		}
	pthread_mutex_unlock(&cache_lock);
	return found;
}

static void cache_put(const char *name, const struct buf *zip, const char hex[65])
{
	struct cached *c = calloc(1, sizeof(*c));
	if (!c || !(c->zip = malloc(zip->len ? zip->len : 1))) {
		free(c);
		return;
	}
	snprintf(c->name, sizeof(c->name), "%s", name);
	memcpy(c->zip, zip->p, zip->len);
	c->len = zip->len;
	memcpy(c->hex, hex, 65);
	pthread_mutex_lock(&cache_lock);
	unsigned h = cache_hash(name);
	bool dup = false;
	for (struct cached *o = cache[h]; o; o = o->next)
		dup = dup || !strcmp(o->name, name);
	if (!dup && cache_bytes + c->len <= CACHE_MAX) {
		c->next = cache[h];
		cache[h] = c;
		cache_bytes += c->len;
		c = NULL;
	}
	pthread_mutex_unlock(&cache_lock);
	if (c) {
		free(c->zip);
		free(c);
	}
}

bool archive_hangs(const struct archive_faults *f, const char *url)
{
	struct apath a;
	return (f->hang[0] || f->hangsum[0]) && parse_path(url, &a) &&
	       hits(a.checksum ? f->hangsum : f->hang, a.name);
}

void archive_release(void)
{
	pthread_mutex_lock(&cache_lock);
	for (int i = 0; i < CACHE_BUCKETS; i++)
		while (cache[i]) {
			struct cached *c = cache[i];
			cache[i] = c->next;
			free(c->zip);
			free(c);
		}
	cache_bytes = 0;
	pthread_mutex_unlock(&cache_lock);
}

static bool faulted(const struct archive_faults *f, const char *name)
{
	return f->micros || hits(f->damage, name) || hits(f->badsum, name) ||
	       hits(f->trunc, name) || hits(f->droprow, name) || hits(f->revise, name);
}

static int not_found(struct archive_reply *out)
{
	static const char msg[] =
		"<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Error><Code>NoSuchKey</Code>"
		"<Message>The specified key does not exist.</Message></Error>\n";
	out->status = 404;
	out->len = strlen(msg);
	out->body = strdup(msg);
	return out->body ? 0 : -1;
}

int archive_serve(const struct market *m, const char *url, int64_t now,
		  const struct archive_faults *f, struct archive_reply *out)
{
	struct apath a;
	memset(out, 0, sizeof(*out));
	if (!parse_path(url, &a))
		return not_found(out);
	const struct symbol *s = market_find(m, a.sym);
	if (!s || !market_serves(s, a.mk) || (s->synth < 0 && !s->series[a.iv]) ||
	    now < a.end + HOUR_MS || hits(f->missing, a.name))
		return not_found(out);
	struct symbol spot;
	if (a.mk == FX_SPOT) { /* spot's own series of the same name, as /api/v3's */
		spot = *s;
		spot.synth += FX_SPOT_SYNTH;
		s = &spot;
	}

	struct buf csv, zip;
	char hex[65];
	bool fault = faulted(f, a.name);
	buf_init(&csv, FILE_MAX);
	buf_init(&zip, FILE_MAX);
	int rc = -1;
	if (fault || !cache_get(a.key, &zip, hex)) {
		buf_release(&zip);
		buf_init(&zip, FILE_MAX);
		size_t rows = build_csv(m, s, &a, now, f, &csv);
		if (csv.err)
			goto out;
		if (!rows) {
			rc = not_found(out);
			goto out;
		}
		if (build_zip(a.name, &csv, a.end + HOUR_MS, &zip))
			goto out;
		if (hits(f->damage, a.name) && zip.len > 64)
			for (size_t i = zip.len / 2; i < zip.len / 2 + 16; i++)
				zip.p[i] ^=
					0x5a; /* inside the deflated data: CRC or inflate fails */
		sha256_hex(zip.p, zip.len, hex);
		if (!fault)
			cache_put(a.key, &zip, hex);
	}
	if (a.checksum) {
		if (hits(f->badsum, a.name))
			hex[0] = hex[0] == '0' ? '1' : '0';
		buf_release(&zip);
		buf_init(&zip, 4096);
		buf_addf(&zip, "%s  %s.zip\n", hex, a.name);
		if (zip.err)
			goto out;
	} else {
		out->truncate = hits(f->trunc, a.name);
	}
	out->status = 200;
	out->body = buf_detach(&zip, &out->len);
	rc = out->body ? 0 : -1;
out:
	buf_release(&csv);
	buf_release(&zip);
	return rc;
}
