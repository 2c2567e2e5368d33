/* store_salvage.c — the damage probe and the salvage of a damaged database
 * (store_salvage.h). Both open the file with their own connection, never checkpoint it
 * on close, and change no data in it. */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sqlite3.h>

#include "interval.h"
#include "kline.h"
#include "store_int.h"
#include "store_salvage.h"
#include "banned.h"

#define SIG_SCAN_BYTES (1 << 20) /* where the schema text of a headerless file is looked for */
#define SALVAGE_PAGE 1000        /* candles per store_put_page */

static void one_line(char *s)
{
	for (; *s; s++)
		if (*s == '\n' || *s == '\r')
			*s = ' ';
}

/* 1 if candlekeep's (or the older design's) schema text is in the first bytes of path. */
static int schema_text_found(const char *path)
{
	static const char *const sig[] = {"TABLE candles", "ohlcv_h4"};
	char *buf = malloc(SIG_SCAN_BYTES);
	int fd = open(path, O_RDONLY | O_CLOEXEC), found = 0;
	ssize_t n;
	size_t i, j;

	if (fd < 0 || !buf) {
		if (fd >= 0)
			close(fd);
		free(buf);
		return 0;
	}
	n = read(fd, buf, SIG_SCAN_BYTES);
	close(fd);
	for (i = 0; n > 0 && !found && i < sizeof(sig) / sizeof(sig[0]); i++) {
		size_t l = strlen(sig[i]);
		for (j = 0; !found && j + l <= (size_t)n; j++)
			found = !strncasecmp(buf + j, sig[i], l);
	}
	free(buf);
	return found;
}

/* The answer of one full check on an open connection. */
static void classify(sqlite3 *db, struct store_probe *out, const char *what)
{
	int rc = sqlite3_extended_errcode(db) & 0xff;

	if (rc == SQLITE_CORRUPT || rc == SQLITE_NOTADB)
		out->state = PROBE_DAMAGED;
	else if (rc == SQLITE_BUSY || rc == SQLITE_LOCKED)
		out->state = PROBE_BUSY;
	else
		out->state = PROBE_ERROR;
	snprintf(out->detail, sizeof(out->detail), "%s: %s", what, sqlite3_errmsg(db));
}

static int count_of(sqlite3 *db, const char *sql, int64_t *n)
{
	sqlite3_stmt *s = NULL;
	int rc;

	if (sqlite3_prepare_v2(db, sql, -1, &s, NULL) != SQLITE_OK)
		return -1;
	rc = sqlite3_step(s);
	if (rc == SQLITE_ROW)
		*n = sqlite3_column_int64(s, 0);
	sqlite3_finalize(s);
	return rc == SQLITE_ROW ? 0 : -1;
}

/* integrity_check, then what the schema says the file is. */
static void check_conn(sqlite3 *db, struct store_probe *out)
{
	sqlite3_stmt *s = NULL;
	int64_t objects = 0, candles = 0, runs = 0, legacy = 0, n = 0;
	int rc;

	if (sqlite3_prepare_v2(db, "PRAGMA integrity_check(20)", -1, &s, NULL) != SQLITE_OK) {
		classify(db, out, "integrity_check");
		return;
	}
	rc = sqlite3_step(s);
	if (rc != SQLITE_ROW) {
		classify(db, out, "integrity_check");
		sqlite3_finalize(s);
		return;
	}
	{
		const char *t = (const char *)sqlite3_column_text(s, 0);
		if (!t || strcmp(t, "ok")) {
			out->state = PROBE_DAMAGED;
			snprintf(out->detail, sizeof(out->detail), "integrity_check: %s",
				 t ? t : "no answer");
			sqlite3_finalize(s);
			return;
		}
	}
	sqlite3_finalize(s);
	if (count_of(db, "SELECT count(*) FROM sqlite_master", &objects) ||
	    count_of(db,
		     "SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = 'candles'",
		     &candles) ||
	    count_of(db,
		     "SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = 'runs'",
		     &runs) ||
	    count_of(
		    db,
		    "SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = 'ohlcv_h4'",
		    &legacy)) {
		classify(db, out, "schema");
		return;
	}
	if (!objects) {
		out->state = PROBE_DAMAGED;
		snprintf(out->detail, sizeof(out->detail), "an empty database (no tables at all)");
		return;
	}
	if (candles && (count_of(db,
				 "SELECT count(*) FROM pragma_table_info('candles') WHERE name IN"
				 " ('symbol', 'interval', 'open_time', 'close_time')",
				 &n) ||
			n != 4))
		candles = 0; /* a table of that name, but not candlekeep's */
	if (candles) {
		if (count_of(db, "SELECT count(*) FROM candles", &n)) {
			classify(db, out, "schema: candles table unreadable");
			return;
		}
		if (runs && count_of(db, "SELECT count(*) FROM runs", &objects)) {
			classify(db, out, "schema: runs table unreadable");
			return;
		}
		out->state = PROBE_OK;
		out->candles = n;
		snprintf(out->detail, sizeof(out->detail), "ok");
		return;
	}
	if (legacy) {
		if (count_of(db, "SELECT count(*) FROM ohlcv_h4", &n)) {
			classify(db, out, "schema: ohlcv_h4 table unreadable");
			return;
		}
		out->state = PROBE_OK;
		out->candles = n;
		snprintf(out->detail, sizeof(out->detail),
			 "ok (a database of the older design: its"
			 " ohlcv_h4 table is migrated by the next sync)");
		return;
	}
	out->state = PROBE_FOREIGN;
	snprintf(out->detail, sizeof(out->detail),
		 "not a candlekeep database: it has %" PRId64
		 " schema objects but no candles table of candlekeep's (another application's"
		 " database?)",
		 objects);
}

/* Opens path read-write without creating, checkpoint-free on close; exclusive = hold the
 * file alone (locking_mode EXCLUSIVE and an exclusive transaction) before checking. */
static void check_path(const char *path, int64_t wait_ms, int exclusive, struct store_probe *out)
{
	sqlite3 *db = NULL;

	if (sqlite3_open_v2(path, &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX, NULL) !=
	    SQLITE_OK) {
		if (db)
			classify(db, out, "open");
		else
			out->state = PROBE_ERROR;
		sqlite3_close(db);
		return;
	}
	sqlite3_extended_result_codes(db, 1);
	sqlite3_busy_timeout(db, (int)(wait_ms > 0x7fffffff ? 0x7fffffff : wait_ms));
	sqlite3_db_config(db, SQLITE_DBCONFIG_NO_CKPT_ON_CLOSE, 1, NULL);
	if (exclusive) {
		if (sqlite3_exec(db, "PRAGMA locking_mode=EXCLUSIVE", NULL, NULL, NULL) !=
			    SQLITE_OK ||
		    sqlite3_exec(db, "BEGIN EXCLUSIVE", NULL, NULL, NULL) != SQLITE_OK) {
			classify(db, out, "take the file for the check");
			sqlite3_close(db);
			return;
		}
	}
	check_conn(db, out);
	if (exclusive)
		sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
	sqlite3_close(db);
}

int store_probe_file(const char *path, int64_t wait_ms, struct store_probe *out)
{
	unsigned char h[100];
	struct stat sb;
	ssize_t r;
	int fd;

	memset(out, 0, sizeof(*out));
	if (stat(path, &sb) != 0) {
		out->state = errno == ENOENT ? PROBE_MISSING : PROBE_ERROR;
		snprintf(out->detail, sizeof(out->detail), "database file %s: %s", path,
			 strerror(errno));
		return 0;
	}
	if (!S_ISREG(sb.st_mode)) {
		out->state = PROBE_FOREIGN;
		snprintf(out->detail, sizeof(out->detail), "%s is not a regular file", path);
		return 0;
	}
	if (sb.st_size == 0) {
		out->state = PROBE_DAMAGED;
		snprintf(out->detail, sizeof(out->detail), "an empty file (0 bytes)");
		return 0;
	}
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0) {
		out->state = PROBE_ERROR;
		snprintf(out->detail, sizeof(out->detail), "open %s: %s", path, strerror(errno));
		return 0;
	}
	r = read(fd, h, sizeof(h));
	close(fd);
	if (r != (ssize_t)sizeof(h) || memcmp(h, "SQLite format 3", 16)) {
		if (schema_text_found(path)) {
			out->state = PROBE_DAMAGED;
			snprintf(out->detail, sizeof(out->detail),
				 "no valid SQLite header (file is not a"
				 " database), but candlekeep's schema is still in it");
		} else {
			out->state = PROBE_FOREIGN;
			snprintf(out->detail, sizeof(out->detail),
				 "not an SQLite database, and no"
				 " candlekeep schema in it (another application's file?)");
		}
		return 0;
	}
	{
		uint32_t id = (uint32_t)h[68] << 24 | (uint32_t)h[69] << 16 | (uint32_t)h[70] << 8 |
			      h[71];
		if (id && id != STORE_APPLICATION_ID) {
			out->state = PROBE_FOREIGN;
			snprintf(out->detail, sizeof(out->detail),
				 "not a candlekeep database:"
				 " application_id 0x%08" PRIx32 " belongs to another application"
				 " (candlekeep's is 0x%08x)",
				 id, (unsigned)STORE_APPLICATION_ID);
			return 0;
		}
	}
	check_path(path, wait_ms, 0, out);
	if (out->state != PROBE_DAMAGED)
		goto done;
	/* The proof: the same answer while no other connection has the file open. */
	{
		struct store_probe again;
		memset(&again, 0, sizeof(again));
		check_path(path, wait_ms, 1, &again);
		if (again.state == PROBE_BUSY) {
			out->state = PROBE_BUSY;
			snprintf(again.detail, sizeof(again.detail), "%s", out->detail);
			snprintf(out->detail, sizeof(out->detail),
				 "the check found \"%.200s\" but another"
				 " process has the file open, so it is not proof",
				 again.detail);
		} else {
			*out = again;
		}
	}
done:
	one_line(out->detail);
	return 0;
}

/* ---- salvage ---- */

struct pairkey {
	char symbol[64];
	char interval[16];
	int64_t t;
};

struct salv {
	sqlite3 *src;
	sqlite3_stmt *scan_gt, *scan_ge, *scan_lt_desc;
	struct store *dst;
	struct store_salvage_result *res;
	struct kline *page;
	size_t npage;
	char psym[64], piv[16];    /* the pair the page holds */
	int skip_pending;          /* an unreadable range began after skip_from */
	int64_t back_read;         /* rows of that range read backwards from its far end */
	struct pairkey fill_floor; /* read backwards down to here already */
	struct pairkey skip_from;
	char **seen; /* "SYMBOL/INTERVAL" of every pair a row was read of */
	size_t nseen, capseen;
	char lastpair[96];
	int has_market;     /* the file has schema 5's market column */
	int runs_keyed;     /* its run_symbols have schema 6's market and interval */
	const char *market; /* the market this pass reads (bound as ?9) */
};

/* Binds the pass's market to ?9 where a statement has it (a number, not a name:
 * a named parameter before ?1 would take number 1). */
static void bind_market(const struct salv *sv, sqlite3_stmt *s)
{
	if (sqlite3_bind_parameter_count(s) >= 9)
		sqlite3_bind_text(s, 9, sv->market, -1, SQLITE_STATIC);
}

static void bound_region(struct salv *sv, const char *sym, const char *iv, int64_t t, int head);
static void note_region(struct salv *sv, const struct pairkey *from);

static void seen_add(struct salv *sv, const char *pair)
{
	char **nv;
	if (sv->nseen == sv->capseen) {
		size_t nc = sv->capseen ? sv->capseen * 2 : 64;
		if (nc > 1000000 || !(nv = realloc(sv->seen, nc * sizeof(*nv))))
			return;
		sv->seen = nv;
		sv->capseen = nc;
	}
	if ((sv->seen[sv->nseen] = strdup(pair)))
		sv->nseen++;
}

static void mark_seen(struct salv *sv, const char *sym, const char *iv)
{
	char pair[96];
	snprintf(pair, sizeof(pair), "%s/%s", sym, iv);
	if (strcmp(pair, sv->lastpair)) {
		snprintf(sv->lastpair, sizeof(sv->lastpair), "%s", pair);
		seen_add(sv, pair);
	}
}

/* A row of pair sym/iv at t was read: closes an unreadable range that ended before it
 * (its candles estimated: between two keys of one pair, one per interval; at the end of
 * one pair and the start of the next, from the bounds the file records). */
static void row_seen(struct salv *sv, const char *sym, const char *iv, int64_t t)
{
	if (sv->skip_pending) {
		const struct pairkey *f = &sv->skip_from;
		int same = !strcmp(sym, f->symbol) && !strcmp(iv, f->interval);
		int64_t ivms = kline_interval_ms(iv), before = sv->res->lost_est;
		if (same && f->t != INT64_MIN && ivms > 0) {
			if ((t - f->t) / ivms - 1 > 0)
				sv->res->lost_est += (t - f->t) / ivms - 1;
		} else {
			if (!same && f->symbol[0] && f->t != INT64_MIN && f->t != INT64_MAX)
				bound_region(sv, f->symbol, f->interval, f->t, 0);
			bound_region(sv, sym, iv, t, 1);
		}
		/* the rows read backwards were inside the range */
		sv->res->lost_est -= sv->back_read < sv->res->lost_est - before
					     ? sv->back_read
					     : sv->res->lost_est - before;
		sv->back_read = 0;
		sv->skip_pending = 0;
	}
	mark_seen(sv, sym, iv);
}

static int flush_page(struct salv *sv, struct ck_err *err)
{
	struct store_page_result pr = {0, 0, 0};
	if (!sv->npage)
		return 0;
	if (store_put_page(sv->dst, sv->psym, sv->piv, sv->page, sv->npage, &pr, err))
		return err->code;
	sv->res->written += pr.written;
	sv->res->revised += pr.revised;
	sv->npage = 0;
	return 0;
}

static int take_row(struct salv *sv, sqlite3_stmt *s, struct ck_err *err)
{
	const char *sym = (const char *)sqlite3_column_text(s, 0);
	const char *iv = (const char *)sqlite3_column_text(s, 1);
	struct kline k;
	struct ck_err verr = {0, ""};
	int64_t ivms;
	int i;

	sv->res->read++;
	if (!sym || !iv || strlen(sym) >= sizeof(sv->psym) || strlen(iv) >= sizeof(sv->piv)) {
		sv->res->invalid++;
		return 0;
	}
	memset(&k, 0, sizeof(k));
	k.open_time = sqlite3_column_int64(s, 2);
	{
		char *dst[] = {k.open, k.high,         k.low, k.close,          k.volume,
			       NULL,   k.quote_volume, NULL,  k.taker_buy_base, k.taker_buy_quote};
		for (i = 0; i < 10; i++) {
			const unsigned char *t;
			if (!dst[i])
				continue;
			t = sqlite3_column_text(s, 3 + i);
			if (t && strlen((const char *)t) > KLINE_DEC_MAX) {
				sv->res->invalid++;
				return 0;
			}
			snprintf(dst[i], KLINE_DEC_MAX + 1, "%s", t ? (const char *)t : "");
		}
	}
	k.close_time = sqlite3_column_int64(s, 8);
	k.trades = sqlite3_column_int64(s, 10);
	ivms = kline_interval_ms(iv);
	if (!ivms || kline_validate(&k, sym, ivms, 0, INT64_MAX, &verr)) {
		sv->res->invalid++;
		return 0;
	}
	if (sv->npage &&
	    (strcmp(sv->psym, sym) || strcmp(sv->piv, iv) || sv->npage == SALVAGE_PAGE))
		if (flush_page(sv, err))
			return err->code;
	if (!sv->npage) {
		snprintf(sv->psym, sizeof(sv->psym), "%s", sym);
		snprintf(sv->piv, sizeof(sv->piv), "%s", iv);
	}
	sv->page[sv->npage++] = k;
	return 0;
}

static void bind_key(sqlite3_stmt *s, const struct pairkey *k)
{
	sqlite3_reset(s);
	sqlite3_bind_text(s, 1, k->symbol, -1, SQLITE_TRANSIENT);
	sqlite3_bind_text(s, 2, k->interval, -1, SQLITE_TRANSIENT);
	sqlite3_bind_int64(s, 3, k->t);
}

/* Steps s from k over the rows the file lets it read: each row goes to visit, which
 * stops the walk by returning non-zero, then to take_row. Returns the last step's code
 * (SQLITE_DONE at the end of the table, SQLITE_ROW when visit stopped, an error code at
 * an unreadable page), or a negative code when writing failed. */
static int walk(struct salv *sv, sqlite3_stmt *s, const struct pairkey *k,
		int (*visit)(struct salv *sv, sqlite3_stmt *s, void *arg), void *arg,
		struct ck_err *err)
{
	int rc, wr;

	bind_key(s, k);
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		if (visit(sv, s, arg))
			break;
		if ((wr = take_row(sv, s, err)) != 0) {
			sqlite3_reset(s);
			return wr;
		}
	}
	sqlite3_reset(s);
	return rc;
}

struct scan_pos {
	struct pairkey *k; /* the last key read */
	int *moved;
};

static int scan_visit(struct salv *sv, sqlite3_stmt *s, void *arg)
{
	struct scan_pos *p = arg;
	const char *sym = (const char *)sqlite3_column_text(s, 0);
	const char *iv = (const char *)sqlite3_column_text(s, 1);

	snprintf(p->k->symbol, sizeof(p->k->symbol), "%s", sym ? sym : "");
	snprintf(p->k->interval, sizeof(p->k->interval), "%s", iv ? iv : "");
	p->k->t = sqlite3_column_int64(s, 2);
	*p->moved = 1;
	row_seen(sv, p->k->symbol, p->k->interval, p->k->t);
	return 0;
}

/* Scans from k (inclusive or not) as far as the file lets it. Returns 1 at the end of
 * the table, 0 when an unreadable page stopped it (k then holds the last key read, and
 * *moved whether any row was read), or a negative code when writing failed. */
static int scan(struct salv *sv, struct pairkey *k, int inclusive, int *moved, struct ck_err *err)
{
	struct scan_pos p = {k, moved};
	int rc;

	*moved = 0;
	rc = walk(sv, inclusive ? sv->scan_ge : sv->scan_gt, k, scan_visit, &p, err);
	if (rc < 0)
		return rc;
	return rc == SQLITE_DONE ? 1 : 0;
}

/* 1 if a scan starting at k (>=) can read its first step. */
static int readable_from(struct salv *sv, const struct pairkey *k)
{
	int rc;
	bind_key(sv->scan_ge, k);
	rc = sqlite3_step(sv->scan_ge);
	sqlite3_reset(sv->scan_ge);
	return rc == SQLITE_ROW || rc == SQLITE_DONE;
}

static int key_after(const char *sym, const char *iv, int64_t t, const struct pairkey *k)
{
	int c = strcmp(sym, k->symbol);
	if (!c)
		c = strcmp(iv, k->interval);
	return c > 0 || (c == 0 && t > k->t);
}

/* fill_backwards: stops at the range's start (fill_floor). */
static int back_visit(struct salv *sv, sqlite3_stmt *s, void *arg)
{
	const char *sym = (const char *)sqlite3_column_text(s, 0);
	const char *iv = (const char *)sqlite3_column_text(s, 1);

	(void)arg;
	if (!sym || !iv || !key_after(sym, iv, sqlite3_column_int64(s, 2), &sv->fill_floor))
		return 1;
	sv->back_read++;
	mark_seen(sv, sym, iv);
	return 0;
}

/* The far end of an unreadable range may still read backwards (an interior page's own
 * keys, the rows before a bad page reached from the other side): reads rows below k,
 * newest first, down to the range's start (skip_from) or the next unreadable page. */
static int fill_backwards(struct salv *sv, const struct pairkey *k, struct ck_err *err)
{
	int rc;

	if (!sv->skip_pending)
		return 0;
	if ((rc = walk(sv, sv->scan_lt_desc, k, back_visit, NULL, err)) < 0)
		return rc;
	if (key_after(k->symbol, k->interval, k->t, &sv->fill_floor))
		sv->fill_floor = *k;
	return 0;
}

/* After an unreadable page at key k (the last key read, or the start of a pair), finds
 * the first readable open time of the same pair beyond it: probes at growing distances,
 * then narrows down by bisection. Returns 1 and sets *t when found. */
static int skip_in_pair(struct salv *sv, const struct pairkey *k, int64_t *t)
{
	int64_t step = kline_interval_ms(k->interval), lo = k->t, hi = 0, base = k->t;
	struct pairkey p = *k;
	int found = 0, i;

	if (step <= 0)
		step = 60000;
	if (base == INT64_MIN)
		lo = base = 0; /* open times are after 1970 */
	for (i = 0; i < 62; i++) {
		int64_t d;
		if (step > INT64_MAX >> i)
			break;
		d = step << i;
		if (base > INT64_MAX - d)
			break;
		p.t = base + d;
		if (readable_from(sv, &p)) {
			hi = p.t;
			found = 1;
			break;
		}
		lo = p.t;
	}
	if (!found)
		return 0;
	while (hi - lo > 1) {
		p.t = lo + (hi - lo) / 2;
		if (readable_from(sv, &p))
			hi = p.t;
		else
			lo = p.t;
	}
	*t = hi;
	return 1;
}

static int pair_cmp(const char *sym, const char *iv, const struct pairkey *k)
{
	int c = strcmp(sym, k->symbol);
	return c ? c : strcmp(iv, k->interval);
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* The next candidate pair after k's, from the list given, or 0 if none is left. */
static int next_candidate(const char *const *pairs, size_t n, const struct pairkey *k,
			  struct pairkey *out)
{
	size_t i;
	int found = 0;

	for (i = 0; i < n; i++) {
		char sym[64], *slash;
		snprintf(sym, sizeof(sym), "%s", pairs[i]);
		if (!(slash = strchr(sym, '/')))
			continue;
		*slash = 0;
		if (pair_cmp(sym, slash + 1, k) <= 0)
			continue;
		if (found && pair_cmp(sym, slash + 1, out) >= 0)
			continue;
		snprintf(out->symbol, sizeof(out->symbol), "%s", sym);
		snprintf(out->interval, sizeof(out->interval), "%s", slash + 1);
		out->t = INT64_MIN;
		found = 1;
	}
	return found;
}

/* An unreadable range begins after from (the last key read, or a pair's start). */
static void note_region(struct salv *sv, const struct pairkey *from)
{
	if (sv->skip_pending)
		return;
	sv->skip_pending = 1;
	sv->skip_from = *from;
	sv->fill_floor = *from;
	sv->back_read = 0;
	if (!sv->res->regions++)
		snprintf(sv->res->detail, sizeof(sv->res->detail),
			 "first unreadable range: %s %s"
			 " after open time %" PRId64,
			 from->symbol[0] ? from->symbol : "(start)", from->interval, from->t);
}

/* A range at the start (head: before t) or the end (tail: after t) of a pair, bounded
 * by what the damaged file's own records say of that pair: its wanted history start
 * and the exchange's first candle (symbols), the newest candle its runs stored
 * (run_symbols). Adds to lost_est, or sets lost_unknown. */
static void bound_region(struct salv *sv, const char *sym, const char *iv, int64_t t, int head)
{
	sqlite3_stmt *s = NULL;
	int64_t ivms = kline_interval_ms(iv), b = 0;
	int have = 0;

	if (ivms <= 0)
		goto unknown;
	/* the pair's own market and interval where the file keeps them (an older file's
	 * run records cannot tell markets and intervals apart: its newest for the symbol) */
	if (sqlite3_prepare_v2(
		    sv->src,
		    head ? (sv->has_market ? "SELECT max(history_start, first_open) FROM symbols"
					     " WHERE market = ?9 AND symbol = ?1 AND interval = ?2"
					   : "SELECT max(history_start, first_open) FROM symbols"
					     " WHERE symbol = ?1 AND interval = ?2")
		    : sv->runs_keyed ? "SELECT max(newest_open) FROM run_symbols WHERE market = ?9"
				       " AND symbol = ?1 AND interval = ?2"
				     : "SELECT max(newest_open) FROM run_symbols WHERE symbol = ?1"
				       " AND ?2 = ?2",
		    -1, &s, NULL) != SQLITE_OK)
		goto unknown;
	sqlite3_bind_text(s, 1, sym, -1, SQLITE_TRANSIENT);
	sqlite3_bind_text(s, 2, iv, -1, SQLITE_TRANSIENT);
	bind_market(sv, s);
	if (sqlite3_step(s) == SQLITE_ROW && sqlite3_column_type(s, 0) != SQLITE_NULL) {
		b = sqlite3_column_int64(s, 0);
		have = b > 0;
	}
	sqlite3_finalize(s);
	if (!have)
		goto unknown;
	if (head && b < t) {
		b = interval_ceil(ivms, b); /* the first open time at or after it */
		sv->res->lost_est += (t - b) / ivms;
	} else if (!head && b > t) {
		sv->res->lost_est += (b - t) / ivms;
	}
	return;
unknown:
	sv->res->lost_unknown = 1;
}

static int salvage_candles(struct salv *sv, const char *const *pairs, size_t npairs,
			   struct ck_err *err)
{
	struct pairkey k;
	int inclusive = 1, rc, moved;

	memset(&k, 0, sizeof(k));
	k.t = INT64_MIN;
	for (;;) {
		int64_t t;
		struct pairkey c;

		if (sv->skip_pending && (rc = fill_backwards(sv, &k, err)) != 0)
			return rc;
		if ((rc = scan(sv, &k, inclusive, &moved, err)) < 0)
			return rc;
		if (rc == 1)
			break;
		/* An unreadable page after k: the same pair further on, the next pair, then
		 * the candidates we were told of. */
		note_region(sv, &k);
		if (k.symbol[0] && skip_in_pair(sv, &k, &t)) {
			k.t = t;
			inclusive = 1;
			continue;
		}
		c = k;
		c.t = INT64_MAX;
		if (k.symbol[0] && k.t != INT64_MAX && readable_from(sv, &c)) {
			k = c;
			inclusive = 0;
			continue;
		}
		if (!next_candidate(pairs, npairs, &k, &c)) {
			sv->res->lost_unknown = 1; /* pairs after k may be lost without a trace */
			break;
		}
		k = c;
		if (readable_from(sv, &k)) {
			inclusive = 1;
			continue;
		}
		/* The candidate's first keys are unreadable too: look inside it. */
		if (skip_in_pair(sv, &k, &t)) {
			k.t = t;
			inclusive = 1;
			continue;
		}
		k.t = INT64_MAX; /* give the pair up; the loop goes on after it */
		inclusive = 0;
	}
	/* An unreadable range up to the end of the table. */
	if (sv->skip_pending && sv->skip_from.symbol[0] && sv->skip_from.t != INT64_MIN &&
	    sv->skip_from.t != INT64_MAX)
		bound_region(sv, sv->skip_from.symbol, sv->skip_from.interval, sv->skip_from.t, 0);
	sv->skip_pending = 0;
	return flush_page(sv, err);
}

/* Pairs the file records (symbols table) or we were told of, of which no row could be
 * read: all of their candles are lost when the file ever held any. */
static void unseen_pairs(struct salv *sv, const char *const *pairs, size_t npairs)
{
	sqlite3_stmt *s = NULL;
	size_t i, j;

	if (!sv->res->regions)
		return; /* everything read: a pair without rows never had any */
	for (i = 0; i < npairs; i++) {
		char sym[64], *slash;
		for (j = 0; j < sv->nseen && strcmp(sv->seen[j], pairs[i]); j++)
			;
		if (j < sv->nseen)
			continue;
		snprintf(sym, sizeof(sym), "%s", pairs[i]);
		if (!(slash = strchr(sym, '/')))
			continue;
		*slash = 0;
		/* newest - start + 1 interval: the tail from (start - 1 interval) */
		if (sqlite3_prepare_v2(
			    sv->src,
			    sv->has_market ? "SELECT max(history_start, first_open) FROM symbols"
					     " WHERE market = ?9 AND symbol = ?1 AND interval = ?2"
					   : "SELECT max(history_start, first_open) FROM symbols"
					     " WHERE symbol = ?1 AND interval = ?2",
			    -1, &s, NULL) != SQLITE_OK)
			continue;
		bind_market(sv, s);
		sqlite3_bind_text(s, 1, sym, -1, SQLITE_TRANSIENT);
		sqlite3_bind_text(s, 2, slash + 1, -1, SQLITE_TRANSIENT);
		if (sqlite3_step(s) == SQLITE_ROW && sqlite3_column_int64(s, 0) > 0) {
			int64_t ivms = kline_interval_ms(slash + 1);
			int64_t start = sqlite3_column_int64(s, 0);
			if (ivms > 0) {
				start = interval_ceil(ivms, start);
				bound_region(sv, sym, slash + 1, start - ivms, 0);
			}
		}
		sqlite3_finalize(s);
		s = NULL;
	}
}

/* Best effort: confirmed holes and per-symbol states, as far as they read. */
static void salvage_small(struct salv *sv)
{
	sqlite3_stmt *s = NULL;
	struct ck_err e = {0, ""};

	/* The hole ledger with its evidence; a file from before the evidence columns has
	 * holes confirmed by one observation, which come back as suspects only. */
	int evidence = 1;
	if (sqlite3_prepare_v2(sv->src,
			       sv->has_market ? "SELECT symbol, interval, first_open, last_open,"
						" confirmed_at, first_seen, first_seen_exchange,"
						" second_seen, runs FROM holes WHERE market = ?9"
					      : "SELECT symbol, interval, first_open, last_open,"
						" confirmed_at, first_seen, first_seen_exchange,"
						" second_seen, runs FROM holes",
			       -1, &s, NULL) != SQLITE_OK) {
		sqlite3_finalize(s);
		s = NULL;
		evidence = 0;
		if (sqlite3_prepare_v2(sv->src,
				       "SELECT symbol, interval, first_open, last_open FROM holes",
				       -1, &s, NULL) != SQLITE_OK) {
			sqlite3_finalize(s);
			s = NULL;
		}
	}
	if (s)
		bind_market(sv, s);
	while (s && sqlite3_step(s) == SQLITE_ROW) {
		const char *sym = (const char *)sqlite3_column_text(s, 0);
		const char *iv = (const char *)sqlite3_column_text(s, 1);
		struct store_hole h;
		memset(&h, 0, sizeof(h));
		h.first = sqlite3_column_int64(s, 2);
		h.last = sqlite3_column_int64(s, 3);
		h.runs = 1;
		if (evidence) {
			h.confirmed_at = sqlite3_column_int64(s, 4);
			h.first_seen = sqlite3_column_int64(s, 5);
			h.first_seen_exchange = sqlite3_column_int64(s, 6);
			h.second_seen = sqlite3_column_int64(s, 7);
			h.runs = sqlite3_column_int64(s, 8);
		}
		if (sym && iv && !store_hole_put(sv->dst, sym, iv, &h, &e))
			sv->res->holes++;
	}
	sqlite3_finalize(s);
	s = NULL;
	if (sqlite3_prepare_v2(sv->src,
			       sv->has_market ? "SELECT symbol, interval, history_start, first_open"
						" FROM symbols WHERE market = ?9"
					      : "SELECT symbol, interval, history_start, first_open"
						" FROM symbols",
			       -1, &s, NULL) == SQLITE_OK) {
		bind_market(sv, s);
		while (sqlite3_step(s) == SQLITE_ROW) {
			const char *sym = (const char *)sqlite3_column_text(s, 0);
			const char *iv = (const char *)sqlite3_column_text(s, 1);
			struct store_symbol ss = {sqlite3_column_int64(s, 2),
						  sqlite3_column_int64(s, 3)};
			if (sym && iv && !store_symbol_put(sv->dst, sym, iv, &ss, &e))
				sv->res->symbols++;
		}
	}
	sqlite3_finalize(s);
}

/* One market's pass of sq_salvage (the whole file when it has no market column): the
 * candles of the pairs given and of those its symbols table names, then its holes and
 * symbol states, into dst (whose market is set to the pass's). */
static int salvage_pass(struct salv *sv, const char *src_path, const char *const *pairs,
			size_t npairs, struct ck_err *err)
{
	/* forwards from a key (exclusive, inclusive) and backwards below one */
	static const char cols[] =
		"SELECT symbol, interval, open_time, open, high, low, close, volume, close_time,"
		" quote_volume, trades, taker_buy_base, taker_buy_quote FROM candles";
	const struct {
		const char *where;
		sqlite3_stmt **s;
	} scans[] = {
		{"(symbol, interval, open_time) > (?1, ?2, ?3)"
		 " ORDER BY symbol, interval, open_time",
		 &sv->scan_gt},
		{"(symbol, interval, open_time) < (?1, ?2, ?3)"
		 " ORDER BY symbol DESC, interval DESC, open_time DESC",
		 &sv->scan_lt_desc},
		{"(symbol, interval, open_time) >= (?1, ?2, ?3)"
		 " ORDER BY symbol, interval, open_time",
		 &sv->scan_ge},
	};
	sqlite3_stmt *st = NULL;
	char sql[512], **known = NULL;
	const char **sorted = NULL;
	size_t ncand = 0, nknown = 0;
	int ret = 0;

	for (size_t i = 0; i < sizeof(scans) / sizeof(scans[0]); i++) {
		snprintf(sql, sizeof(sql), "%s WHERE %s%s", cols,
			 sv->has_market ? "market = ?9 AND " : "", scans[i].where);
		if (sqlite3_prepare_v2(sv->src, sql, -1, scans[i].s, NULL) != SQLITE_OK) {
			snprintf(sv->res->detail, sizeof(sv->res->detail),
				 "read the candles of %s: %s", src_path, sqlite3_errmsg(sv->src));
			goto out;
		}
		bind_market(sv, *scans[i].s);
	}
	/* Where to look: the pairs given and those the file's symbols table names. */
	if (sqlite3_prepare_v2(sv->src,
			       sv->has_market ? "SELECT symbol || '/' || interval FROM symbols"
						" WHERE market = ?9"
					      : "SELECT symbol || '/' || interval FROM symbols",
			       -1, &st, NULL) == SQLITE_OK) {
		bind_market(sv, st);
		while (sqlite3_step(st) == SQLITE_ROW && sqlite3_column_text(st, 0))
			seen_add(sv, (const char *)sqlite3_column_text(st, 0));
	}
	sqlite3_finalize(st);
	if (!(sorted = malloc((npairs + sv->nseen + 1) * sizeof(*sorted)))) {
		ret = ck_err_set(err, CK_ENOMEM, "salvage %s: out of memory", src_path);
		goto out;
	}
	ncand = 0;
	for (size_t i = 0; i < npairs; i++)
		sorted[ncand++] = pairs[i];
	for (size_t i = 0; i < sv->nseen; i++)
		sorted[ncand++] = sv->seen[i];
	qsort(sorted, ncand, sizeof(*sorted), cmp_str);
	{
		size_t w = 0;
		for (size_t i = 0; i < ncand; i++)
			if (!w || strcmp(sorted[w - 1], sorted[i]))
				sorted[w++] = sorted[i];
		ncand = w;
	}
	known = sv->seen; /* kept until the end: sorted points into it */
	nknown = sv->nseen;
	sv->seen = NULL;
	sv->nseen = sv->capseen = 0;
	if ((ret = salvage_candles(sv, (const char *const *)sorted, ncand, err)) != 0)
		goto out;
	unseen_pairs(sv, (const char *const *)sorted, ncand);
	salvage_small(sv);
out:
	for (size_t i = 0; i < sv->nseen; i++)
		free(sv->seen[i]);
	free(sv->seen);
	sv->seen = NULL;
	sv->nseen = sv->capseen = 0;
	for (size_t i = 0; i < nknown; i++)
		free(known[i]);
	free(known);
	free(sorted);
	sqlite3_finalize(sv->scan_gt);
	sqlite3_finalize(sv->scan_ge);
	sqlite3_finalize(sv->scan_lt_desc);
	sv->scan_gt = sv->scan_ge = sv->scan_lt_desc = NULL;
	return ret;
}

/* 1 if the symbols table of db (schema 5) names market. */
static int market_named(sqlite3 *db, const char *market)
{
	sqlite3_stmt *s = NULL;
	int found = 0;

	if (sqlite3_prepare_v2(db, "SELECT 1 FROM symbols WHERE market = ?1 LIMIT 1", -1, &s,
			       NULL) == SQLITE_OK) {
		sqlite3_bind_text(s, 1, market, -1, SQLITE_STATIC);
		found = sqlite3_step(s) == SQLITE_ROW;
	}
	sqlite3_finalize(s);
	return found;
}

/* A file of schema 5 is read one market at a time (each market's keys are in order
 * under it): dst's own market, and each other one its symbols table names; the pairs
 * given are looked for in dst's own market. */
int sq_salvage(struct store *dst, const char *src_path, const char *const *pairs, size_t npairs,
	       struct store_salvage_result *res, struct ck_err *err)
{
	static const char *const markets[] = {"um", "cm", "spot"};
	struct salv sv;
	char own[sizeof(dst->market)];
	int64_t n = 0;
	int ret = 0;

	memset(res, 0, sizeof(*res));
	memset(&sv, 0, sizeof(sv));
	res->counted = -1;
	sv.dst = dst;
	sv.res = res;
	snprintf(own, sizeof(own), "%s", dst->market);
	if (sqlite3_open_v2(src_path, &sv.src, SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX, NULL) !=
	    SQLITE_OK) {
		snprintf(res->detail, sizeof(res->detail), "open %s: %s", src_path,
			 sv.src ? sqlite3_errmsg(sv.src) : "out of memory");
		goto out;
	}
	sqlite3_extended_result_codes(sv.src, 1);
	sqlite3_busy_timeout(sv.src, 10000);
	sqlite3_db_config(sv.src, SQLITE_DBCONFIG_NO_CKPT_ON_CLOSE, 1, NULL);
	sqlite3_exec(sv.src, "PRAGMA query_only=1", NULL, NULL, NULL);
	sv.has_market = !count_of(sv.src,
				  "SELECT count(*) FROM pragma_table_info('candles')"
				  " WHERE name = 'market'",
				  &n) &&
			n > 0;
	sv.runs_keyed = sv.has_market &&
			!count_of(sv.src,
				  "SELECT count(*) FROM pragma_table_info('run_symbols')"
				  " WHERE name IN ('market', 'interval')",
				  &n) &&
			n == 2;
	if (!(sv.page = malloc(SALVAGE_PAGE * sizeof(*sv.page)))) {
		ret = ck_err_set(err, CK_ENOMEM, "salvage %s: out of memory", src_path);
		goto out;
	}
	count_of(sv.src, "SELECT count(*) FROM candles", &res->counted);
	for (size_t m = 0; m < (sv.has_market ? sizeof(markets) / sizeof(markets[0]) : 1); m++) {
		sv.market = sv.has_market ? markets[m] : own;
		if (sv.has_market && strcmp(sv.market, own) && !market_named(sv.src, sv.market))
			continue; /* a market the file never synced: its key range is not read */
		memset(&sv.fill_floor, 0, sizeof(sv.fill_floor));
		memset(&sv.skip_from, 0, sizeof(sv.skip_from));
		sv.skip_pending = 0;
		sv.back_read = 0;
		sv.npage = 0;
		sv.lastpair[0] = 0;
		if ((ret = store_market_set(dst, sv.market, err)) != 0 ||
		    (ret = salvage_pass(&sv, src_path, strcmp(sv.market, own) ? NULL : pairs,
					strcmp(sv.market, own) ? 0 : npairs, err)) != 0)
			break;
	}
	store_market_set(dst, own, NULL);
out:
	free(sv.page);
	sqlite3_close(sv.src);
	one_line(res->detail);
	return ret;
}
