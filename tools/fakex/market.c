/* market.c — see market.h. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "banned.h"
#include "market.h"
#include "synth.h"

#define FILE_MAX ((size_t)1 << 30) /* a candle file larger than 1 GiB is a mistake */

static const char zero[] = "0";

void market_init(struct market *m)
{
	memset(m, 0, sizeof(*m));
}

static void series_free(struct series *s)
{
	if (!s)
		return;
	free(s->text);
	free(s->rows);
	free(s);
}

void market_release(struct market *m)
{
	if (!m)
		return;
	for (size_t i = 0; i < m->n; i++)
		for (int iv = 0; iv < IV_COUNT; iv++)
			series_free(m->syms[i].series[iv]);
	free(m->syms);
	market_init(m);
}

static int read_whole(const char *path, char **out, size_t *len, char *err, size_t errlen)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		snprintf(err, errlen, "open %s: %s", path, strerror(errno));
		return -1;
	}
	struct stat st;
	if (fstat(fd, &st) < 0 || (size_t)st.st_size > FILE_MAX) {
		snprintf(err, errlen, "read %s: %s", path,
			 errno ? strerror(errno) : "file larger than 1 GiB");
		close(fd);
		return -1;
	}
	size_t size = (size_t)st.st_size, got = 0;
	char *p = malloc(size + 1);
	if (!p) {
		snprintf(err, errlen, "read %s: out of memory", path);
		close(fd);
		return -1;
	}
	while (got < size) {
		ssize_t r = read(fd, p + got, size - got);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0) {
			snprintf(err, errlen, "read %s: %s", path,
				 r < 0 ? strerror(errno) : "file shrank while reading");
			free(p);
			close(fd);
			return -1;
		}
		got += (size_t)r;
	}
	close(fd);
	p[size] = '\0';
	*out = p;
	*len = size;
	return 0;
}

static bool parse_ms(const char *s, int64_t *v)
{
	if (*s < '0' || *s > '9')
		return false;
	char *end;
	errno = 0;
	long long x = strtoll(s, &end, 10);
	if (errno || *end)
		return false;
	*v = x;
	return true;
}

/* A plain decimal: digits with at most one '.', optional leading '-', <= 32 chars. */
static bool is_decimal(const char *s)
{
	size_t n = strlen(s);
	if (n == 0 || n > 32)
		return false;
	bool dot = false, digit = false;
	for (size_t i = 0; i < n; i++) {
		if (s[i] >= '0' && s[i] <= '9')
			digit = true;
		else if (s[i] == '.' && !dot)
			dot = true;
		else if (!(s[i] == '-' && i == 0))
			return false;
	}
	return digit;
}

static bool is_integer(const char *s)
{
	if (!*s || strlen(s) > 20)
		return false;
	for (; *s; s++)
		if (*s < '0' || *s > '9')
			return false;
	return true;
}

static int row_cmp(const void *a, const void *b)
{
	int64_t x = ((const struct row *)a)->open_time, y = ((const struct row *)b)->open_time;
	return (x > y) - (x < y);
}

/* Splits text in place into rows. */
static int parse_csv(struct series *s, const char *path, size_t len, char *err, size_t errlen)
{
	size_t lines = 1;
	for (size_t i = 0; i < len; i++)
		lines += s->text[i] == '\n';
	s->rows = calloc(lines, sizeof(*s->rows));
	if (!s->rows) {
		snprintf(err, errlen, "load %s: out of memory", path);
		return -1;
	}
	int ncols = 0;
	char *p = s->text, *end = s->text + len;
	for (size_t lineno = 1; p < end; lineno++) {
		char *nl = memchr(p, '\n', (size_t)(end - p));
		char *line = p;
		if (nl) {
			*nl = '\0';
			p = nl + 1;
		} else {
			p = end;
		}
		size_t ll = strlen(line);
		if (ll && line[ll - 1] == '\r')
			line[--ll] = '\0';
		if (ll == 0)
			continue;
		if (lineno == 1 && (line[0] < '0' || line[0] > '9'))
			continue; /* header: open_time,open,... */
		char *field[13];
		int nf = 0;
		for (char *q = line;;) {
			if (nf == 13)
				break;
			field[nf++] = q;
			char *c = strchr(q, ',');
			if (!c)
				break;
			*c = '\0';
			q = c + 1;
		}
		if (nf != 9 && nf != 12) {
			snprintf(err, errlen,
				 "%s:%zu: expected 9 or 12 comma-separated columns, found %s%d",
				 path, lineno, nf == 13 ? "more than " : "", nf == 13 ? 12 : nf);
			return -1;
		}
		if (ncols && nf != ncols) {
			snprintf(err, errlen, "%s:%zu: %d columns after rows of %d", path, lineno,
				 nf, ncols);
			return -1;
		}
		ncols = nf;
		struct row *r = &s->rows[s->n];
		if (!parse_ms(field[0], &r->open_time) || !parse_ms(field[6], &r->close_time)) {
			snprintf(err, errlen,
				 "%s:%zu: open_time or close_time is not an integer of ms", path,
				 lineno);
			return -1;
		}
		static const int map[12] = {-1, CF_OPEN, CF_HIGH,   CF_LOW, CF_CLOSE, CF_VOLUME,
					    -1, CF_QVOL, CF_TRADES, CF_TBB, CF_TBQ,   CF_IGNORE};
		r->f[CF_TBB] = r->f[CF_TBQ] = r->f[CF_IGNORE] = zero;
		for (int i = 1; i < nf; i++) {
			if (map[i] < 0)
				continue;
			bool ok = map[i] == CF_TRADES ? is_integer(field[i]) : is_decimal(field[i]);
			if (!ok) {
				snprintf(err, errlen,
					 "%s:%zu: column %d \"%.40s\" is not a decimal number",
					 path, lineno, i + 1, field[i]);
				return -1;
			}
			r->f[map[i]] = field[i];
		}
		s->n++;
	}
	bool sorted = true;
	for (size_t i = 1; i < s->n; i++)
		if (s->rows[i].open_time <= s->rows[i - 1].open_time)
			sorted = false;
	if (!sorted) {
		qsort(s->rows, s->n, sizeof(*s->rows), row_cmp);
		for (size_t i = 1; i < s->n; i++)
			if (s->rows[i].open_time == s->rows[i - 1].open_time) {
				snprintf(err, errlen, "%s: two rows with open_time %lld", path,
					 (long long)s->rows[i].open_time);
				return -1;
			}
	}
	return 0;
}

static struct symbol *market_add(struct market *m, const char *name)
{
	for (size_t i = 0; i < m->n; i++)
		if (!strcmp(m->syms[i].name, name))
			return &m->syms[i];
	if (m->n == m->cap) {
		size_t cap = m->cap ? m->cap * 2 : 64;
		struct symbol *p = realloc(m->syms, cap * sizeof(*p));
		if (!p)
			return NULL;
		m->syms = p;
		m->cap = cap;
	}
	struct symbol *s = &m->syms[m->n++];
	memset(s, 0, sizeof(*s));
	snprintf(s->name, sizeof(s->name), "%s", name);
	s->synth = -1;
	snprintf(s->status, sizeof(s->status), "TRADING");
	return s;
}

static bool valid_symbol(const char *s, size_t n)
{
	if (n == 0 || n > SYMBOL_MAX)
		return false;
	for (size_t i = 0; i < n; i++)
		if (!((s[i] >= 'A' && s[i] <= 'Z') || (s[i] >= '0' && s[i] <= '9')))
			return false;
	return true;
}

static int load_file(struct market *m, const char *dir, const char *fname, char *err, size_t errlen)
{
	char path[4096];
	if ((size_t)snprintf(path, sizeof(path), "%s/%s", dir, fname) >= sizeof(path)) {
		snprintf(err, errlen, "%s/%s: path too long", dir, fname);
		return -1;
	}
	size_t flen = strlen(fname);
	const char *dash = strrchr(fname, '-');
	char ivname[8];
	size_t ivlen = dash ? (size_t)(fname + flen - 4 - dash - 1) : 0;
	if (!dash || ivlen == 0 || ivlen >= sizeof(ivname) ||
	    !valid_symbol(fname, (size_t)(dash - fname))) {
		snprintf(err, errlen, "%s: name is not SYMBOL-INTERVAL.csv", path);
		return -1;
	}
	memcpy(ivname, dash + 1, ivlen);
	ivname[ivlen] = '\0';
	int iv = iv_parse(ivname);
	if (iv < 0) {
		snprintf(err, errlen, "%s: \"%s\" is not a Binance interval", path, ivname);
		return -1;
	}
	char name[SYMBOL_MAX + 1];
	memcpy(name, fname, (size_t)(dash - fname));
	name[dash - fname] = '\0';

	struct series *s = calloc(1, sizeof(*s));
	size_t len;
	if (!s) {
		snprintf(err, errlen, "load %s: out of memory", path);
		return -1;
	}
	if (read_whole(path, &s->text, &len, err, errlen) || parse_csv(s, path, len, err, errlen))
		goto fail;
	if (s->n == 0) {
		snprintf(err, errlen, "%s: no candles in the file", path);
		goto fail;
	}
	struct symbol *sym = market_add(m, name);
	if (!sym) {
		snprintf(err, errlen, "load %s: out of memory", path);
		goto fail;
	}
	series_free(sym->series[iv]);
	sym->series[iv] = s;
	return 0;
fail:
	series_free(s);
	return -1;
}

int market_load_dir(struct market *m, const char *dir, char *err, size_t errlen)
{
	DIR *d = opendir(dir);
	if (!d) {
		snprintf(err, errlen, "--data %s: %s", dir, strerror(errno));
		return -1;
	}
	int rc = 0, files = 0;
	struct dirent *e;
	while ((e = readdir(d))) {
		size_t n = strlen(e->d_name);
		if (n < 5 || strcmp(e->d_name + n - 4, ".csv"))
			continue;
		if ((rc = load_file(m, dir, e->d_name, err, errlen)))
			break;
		files++;
	}
	closedir(d);
	if (!rc && !files) {
		snprintf(err, errlen, "--data %s: no SYMBOL-INTERVAL.csv files in it", dir);
		rc = -1;
	}
	return rc;
}

static int decimals(const char *s)
{
	const char *dot = strchr(s, '.');
	return dot ? (int)strlen(dot + 1) : 0;
}

static int sym_cmp(const void *a, const void *b)
{
	return strcmp(((const struct symbol *)a)->name, ((const struct symbol *)b)->name);
}

bool market_serves(const struct symbol *s, enum fx_market mk)
{
	size_t n = strlen(s->name);
	bool perp = n > 5 && !strcmp(s->name + n - 5, "_PERP");

	switch (mk) {
	case FX_CM:
		return perp;
	case FX_SPOT:
		return !perp && s->synth >= 0;
	default:
		return !perp;
	}
}

int market_finish(struct market *m, int nsynth, int64_t synth_start, uint64_t seed, char *err,
		  size_t errlen)
{
	m->seed = seed;
	m->synth_start = synth_start;
	for (int i = 0; i < nsynth; i++) {
		char name[SYMBOL_MAX + 1];
		snprintf(name, sizeof(name), "SYN%03dUSDT", i);
		struct symbol *s = market_add(m, name);
		if (!s) {
			snprintf(err, errlen, "--synthetic %d: out of memory", nsynth);
			return -1;
		}
		s->synth = i;
		s->onboard = synth_start;
		s->price_prec = synth_price_prec(seed, i);
		s->qty_prec = 3;
		snprintf(name, sizeof(name), "SYN%03dUSD_PERP", i);
		if (!(s = market_add(m, name))) {
			snprintf(err, errlen, "--synthetic %d: out of memory", nsynth);
			return -1;
		}
		s->synth = FX_CM_SYNTH + i;
		s->onboard = synth_start;
		s->price_prec = synth_price_prec(seed, FX_CM_SYNTH + i);
		s->qty_prec = 0;
	}
	for (size_t i = 0; i < m->n; i++) {
		struct symbol *s = &m->syms[i];
		if (s->synth >= 0)
			continue;
		s->onboard = INT64_MAX;
		const struct series *pick = NULL;
		for (int iv = 0; iv < IV_COUNT; iv++) {
			const struct series *se = s->series[iv];
			if (!se)
				continue;
			if (se->rows[0].open_time < s->onboard)
				s->onboard = se->rows[0].open_time;
			if (!pick || iv == IV_4h)
				pick = se;
		}
		const struct row *last = &pick->rows[pick->n - 1];
		s->price_prec = decimals(last->f[CF_CLOSE]);
		s->qty_prec = decimals(last->f[CF_VOLUME]);
	}
	if (m->n)
		qsort(m->syms, m->n, sizeof(*m->syms), sym_cmp);
	return 0;
}

struct symbol *market_find(const struct market *m, const char *name)
{
	struct symbol key;
	snprintf(key.name, sizeof(key.name), "%s", name);
	if (strlen(name) > SYMBOL_MAX || !m->n)
		return NULL;
	return bsearch(&key, m->syms, m->n, sizeof(*m->syms), sym_cmp);
}

size_t series_lower(const struct series *s, int64_t t)
{
	size_t lo = 0, hi = s->n;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (s->rows[mid].open_time < t)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

size_t series_upper(const struct series *s, int64_t t)
{
	size_t lo = 0, hi = s->n;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (s->rows[mid].open_time <= t)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}
