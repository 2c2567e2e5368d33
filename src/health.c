/* health.c — the eight health checks behind `candlekeep health`, the daemon's /healthz
 * and its scheduled health runs (see health.h).
 *
 * Read-only by contract: nothing here writes to the database or takes the run lock
 * (lock_probe only looks). Clocks: freshness and backup ages are judged by the now_ms
 * the caller passes (the exchange's time in tests); run records and the lock file carry
 * the local wall clock, so the last-run check uses now_ms() for the lock and, for a run,
 * the exchange time it recorded (runs.server_time) when there is one.
 *
 * Speed: the default mode must answer in under a second on a 1 GB database. Freshness
 * and coverage are index seeks per symbol; gaps are looked for in the last
 * HEALTH_GAP_WINDOW only (range scans; --full looks at all history); quick_check gets
 * what is left of HEALTH_BUDGET_MS and reports "not finished" rather than blocking. */
#include <errno.h>
#include <stdarg.h>
#include <inttypes.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statvfs.h>

#include "dur.h"
#include "event.h"
#include "health.h"
#include "interval.h"
#include "kline.h"
#include "listing.h"
#include "lock.h"
#include "log.h"
#include "store_backup.h"
#include "store_health.h"
#include "utc.h"
#include "banned.h"

#define HOUR_MS INT64_C(3600000)
#define DAY_MS (24 * HOUR_MS)
#define HEALTH_BUDGET_MS 800             /* default mode: whole run, wall time */
#define HEALTH_GAP_WINDOW (30 * DAY_MS)  /* default mode looks for gaps this far back */
#define BACKUP_MAX_AGE_MS (26 * HOUR_MS) /* newest verified backup per tier */
#define FAILED_RUNS_CRIT 3               /* this many failed runs in a row: CRITICAL */
#define LIST_MAX 8                       /* names listed in one message */

static const char *const status_names[] = {"OK", "WARNING", "CRITICAL", "UNKNOWN"};

static const char *status_name(enum health_status s)
{
	return (unsigned)s < 4 ? status_names[s] : "UNKNOWN";
}

/* Worse of two statuses: CRITICAL > WARNING > UNKNOWN > OK for the summary (an
 * unchecked item is not reason to hide a known failure). */
static int severity(enum health_status s)
{
	static const int rank[] = {0, 2, 3, 1};
	return (unsigned)s < 4 ? rank[s] : 1;
}

static enum health_status worst(enum health_status a, enum health_status b)
{
	return severity(b) > severity(a) ? b : a;
}

/* Appends printf text to a fixed buffer, truncating (messages are bounded). */
__attribute__((format(printf, 3, 4))) static void cat(char *buf, size_t size, const char *fmt, ...)
{
	size_t len = strlen(buf);
	va_list ap;

	if (len + 1 >= size)
		return;
	va_start(ap, fmt);
	vsnprintf(buf + len, size - len, fmt, ap);
	va_end(ap);
}

static struct health_check *check_add(struct health_report *r, const char *name)
{
	struct health_check *c = &r->checks[r->nchecks++];
	memset(c, 0, sizeof(*c));
	snprintf(c->name, sizeof(c->name), "%s", name);
	c->status = HEALTH_OK;
	return c;
}

__attribute__((format(printf, 3, 4))) static void
check_set(struct health_check *c, enum health_status s, const char *fmt, ...)
{
	va_list ap;
	c->status = s;
	va_start(ap, fmt);
	vsnprintf(c->message, sizeof(c->message), fmt, ap);
	va_end(ap);
}

/* Adds sym to the check's members (the symbols at fault, which the alert of the check
 * lists and compares); a full list ends in "...". */
static void member_add(struct health_check *c, const char *sym)
{
	size_t len = strlen(c->members), k = strlen(sym);
	if (len >= 4 && !strcmp(c->members + len - 3, "..."))
		return;
	if (len + k + 6 > sizeof(c->members))
		snprintf(c->members + len, sizeof(c->members) - len, "%s...", len ? " " : "");
	else
		snprintf(c->members + len, sizeof(c->members) - len, "%s%s", len ? " " : "", sym);
}

/* What the checks share: the configured symbols, and facts gathered on the way for
 * the summary line and performance data. */
struct hctx {
	struct store *st;
	const struct cfg *c;
	int full;
	int64_t now;       /* ms, the clock for freshness and backups */
	int64_t local_now; /* ms, local wall clock */
	int64_t deadline;  /* CLOCK_MONOTONIC ms for the default mode's budget */
	char **syms;       /* configured symbols (owned) */
	size_t nsyms;
	struct store_run_symbol *last; /* the newest sync run's symbols (owned) */
	size_t nlast;
	struct listing listing; /* symbols = all: the stored listing (listing.h) */
	size_t ndelisted;       /* of syms, those the listing says stopped trading */
	int64_t last_run_id;
	/* for the summary */
	size_t present, fresh, checked, missing;
	int64_t stale_max_ms, newest_close, gaps_missing, candles;
	double disk_free_pct;
	int have_disk;
};

static const struct store_run_symbol *last_find(const struct hctx *h, const char *sym)
{
	for (size_t i = 0; i < h->nlast; i++)
		if (!strcmp(h->last[i].symbol, sym))
			return &h->last[i];
	return NULL;
}

/* symbols = all: the listing's entry of sym when it stopped trading (delisted: its
 * candles are kept, not fetched, so not judged stale or missing), else NULL. */
static const struct listing_entry *delisted(const struct hctx *h, const char *sym)
{
	const struct listing_entry *x = listing_find(&h->listing, sym);
	return x && !listing_trading(x) ? x : NULL;
}

/* The symbols of the newest sync run of the handle's market and h->c's interval (each
 * interval is judged by its own runs), replacing those loaded before. */
static int last_load(struct hctx *h, struct ck_err *err)
{
	struct store_run *runs = NULL;
	size_t nruns = 0;
	int rc;

	free(h->last);
	h->last = NULL;
	h->nlast = 0;
	h->last_run_id = 0;
	if ((rc = store_interval_runs(h->st, "sync", h->c->interval, 1, &runs, &nruns, err)) != 0)
		return rc;
	if (nruns) {
		h->last_run_id = runs[0].id;
		rc = store_health_run_symbols(h->st, runs[0].id, &h->last, &h->nlast, err);
	}
	free(runs);
	return rc;
}

/* Switches h to c's interval i: one gets c switched to it (borrowing c's strings) and
 * becomes h->c, and that interval's newest sync run is loaded (a failure is logged; the
 * checks then judge without it). */
static void interval_use(struct hctx *h, const struct cfg *c, size_t i, struct cfg *one)
{
	struct ck_err e = {0, ""};

	*one = *c;
	cfg_interval_use(one, i);
	h->c = one;
	if (last_load(h, &e))
		log_warn("health", "%s", e.msg);
}

/* The configured symbols; "all" means every symbol of the stored listing (trading or
 * not: a delisted symbol's history is still checked for gaps), or, before sync stored
 * one, those of the newest sync run. */
static int symbols_load(struct hctx *h, struct ck_err *err)
{
	int rc;

	if (h->st && (rc = last_load(h, err)) != 0)
		return rc;
	rc = cfg_symbols_list(h->c, &h->syms, &h->nsyms, err);
	if (rc == CK_ENOTFOUND && h->st) {
		if ((rc = listing_load(h->st, &h->listing, err)) != 0)
			return rc;
		rc = CK_ENOTFOUND;
	}
	if (rc == CK_ENOTFOUND && h->listing.started) {
		h->syms = calloc(h->listing.n ? h->listing.n : 1, sizeof(*h->syms));
		if (!h->syms)
			return ck_err_set(err, CK_ENOMEM, "health: out of memory");
		for (size_t i = 0; i < h->listing.n; i++) {
			if (!(h->syms[i] = strdup(h->listing.e[i].symbol)))
				return ck_err_set(err, CK_ENOMEM, "health: out of memory");
			h->nsyms++;
			h->ndelisted += !listing_trading(&h->listing.e[i]);
		}
		return 0;
	}
	if (rc == CK_ENOTFOUND) { /* "all", no listing stored yet */
		h->syms = calloc(h->nlast ? h->nlast : 1, sizeof(*h->syms));
		if (!h->syms)
			return ck_err_set(err, CK_ENOMEM, "health: out of memory");
		for (size_t i = 0; i < h->nlast; i++) {
			if (!(h->syms[i] = strdup(h->last[i].symbol)))
				return ck_err_set(err, CK_ENOMEM, "health: out of memory");
			h->nsyms++;
		}
		return 0;
	}
	return rc;
}

enum health_status health_freshness(const struct cfg *c, int64_t now_ms, int64_t newest_open,
				    int64_t *age_ms)
{
	int64_t age = newest_open ? now_ms - interval_add(c->interval_ms, newest_open, 1) : -1;

	if (newest_open && age < 0)
		age = 0;
	if (age_ms)
		*age_ms = age;
	if (!newest_open || age > c->stale_crit_s * 1000)
		return HEALTH_CRITICAL;
	return age > c->stale_warn_s * 1000 ? HEALTH_WARNING : HEALTH_OK;
}

/* 1. Freshness: the newest candle's close (open + interval) vs now, per symbol. */
static void check_freshness(struct hctx *h, struct health_check *ck)
{
	const struct cfg *c = h->c;
	int64_t warn = c->stale_warn_s * 1000, crit = c->stale_crit_s * 1000;
	char list[400] = "", a[24], b[24], d[24], t[32], gone[160] = "";
	size_t nwarn = 0, ncrit = 0, listed = 0, skipped = 0, ngone = 0;
	const char *oldest_sym = NULL;
	int64_t oldest_age = -1;
	struct ck_err e = {0, ""};

	for (size_t i = 0; i < h->nsyms; i++) {
		int64_t hi, age;
		enum health_status st;
		const struct store_run_symbol *ls = last_find(h, h->syms[i]);
		struct store_span sp;

		if (store_span(h->st, h->syms[i], c->interval, 0, INT64_MAX, 0, &sp, &e)) {
			check_set(ck, HEALTH_UNKNOWN, "cannot read %s: %s", h->syms[i], e.msg);
			return;
		}
		hi = sp.last_open;
		if (!hi)
			continue; /* missing: the coverage check's business */
		h->present++;
		const struct listing_entry *x = delisted(h, h->syms[i]);
		if (x) {
			if (ngone++ < 3)
				cat(gone, sizeof(gone), "%s%s %s", ngone > 1 ? ", " : "", x->symbol,
				    x->status);
			continue;
		}
		if (ls && !strcmp(ls->status, "skipped")) {
			skipped++; /* delisted or suspended: stale by nature, not by fault */
			continue;
		}
		h->checked++;
		if (interval_add(c->interval_ms, hi, 1) > h->newest_close)
			h->newest_close = interval_add(c->interval_ms, hi, 1);
		st = health_freshness(c, h->now, hi, &age);
		if (age > oldest_age) {
			oldest_age = age;
			oldest_sym = h->syms[i];
		}
		if (st == HEALTH_CRITICAL)
			ncrit++;
		else if (st == HEALTH_WARNING)
			nwarn++;
		else
			h->fresh++;
		if (age > warn)
			member_add(ck, h->syms[i]);
		if (age > warn && listed < LIST_MAX) {
			cat(list, sizeof(list), "%s%s %s", listed ? ", " : "", h->syms[i],
			    dur_format(age, DUR_COARSE, d, sizeof(d)));
			listed++;
		}
	}
	h->stale_max_ms = oldest_age > 0 ? oldest_age : 0;
	dur_format(warn, DUR_COARSE, a, sizeof(a));
	dur_format(crit, DUR_COARSE, b, sizeof(b));
	if (!h->checked) {
		check_set(ck, HEALTH_CRITICAL,
			  "no candles of any configured symbol (%zu configured);"
			  " run candlekeep sync",
			  h->nsyms);
		return;
	}
	if (ncrit || nwarn) {
		check_set(ck, ncrit ? HEALTH_CRITICAL : HEALTH_WARNING,
			  "%zu/%zu symbols stale (newest candle closed more than %s ago: %zu, more"
			  " than %s: %zu): %s%s",
			  ncrit + nwarn, h->checked, a, nwarn + ncrit, b, ncrit, list,
			  ncrit + nwarn > listed ? ", ..." : "");
		return;
	}
	check_set(ck, HEALTH_OK,
		  "%zu/%zu symbols fresh; oldest %s closed %s ago at %s UTC"
		  " (warn %s, crit %s)%s",
		  h->fresh, h->checked, oldest_sym,
		  dur_format(oldest_age, DUR_COARSE, d, sizeof(d)),
		  kline_time_str(h->now - oldest_age, t, sizeof(t)), a, b,
		  skipped ? "; delisted symbols not judged" : "");
	if (ngone)
		cat(ck->message, sizeof(ck->message), "; %zu delisted not judged (%s%s)", ngone,
		    gone, ngone > 3 ? ", ..." : "");
}

/* 2. Coverage: every configured symbol has candles. A missing symbol the last sync
 * tried and failed is CRITICAL; one it has not tried yet (added since) or that the
 * exchange does not list is WARNING. */
static void check_coverage(struct hctx *h, struct health_check *ck)
{
	char list[400] = "";
	size_t missing = 0, failed = 0, listed = 0;
	struct ck_err e = {0, ""};

	for (size_t i = 0; i < h->nsyms; i++) {
		const struct store_run_symbol *ls;
		struct store_span sp;

		if (store_span(h->st, h->syms[i], h->c->interval, 0, INT64_MAX, 0, &sp, &e)) {
			check_set(ck, HEALTH_UNKNOWN, "cannot read %s: %s", h->syms[i], e.msg);
			return;
		}
		if (sp.last_open || delisted(h, h->syms[i]))
			continue; /* delisted with no candles: nothing to keep */
		missing++;
		ls = last_find(h, h->syms[i]);
		const char *why = !ls                              ? "not synced yet"
				  : !strcmp(ls->status, "skipped") ? "not listed on the exchange"
				  : !strcmp(ls->status, "failed")  ? "sync failed"
								   : "no candles";
		if (ls && strcmp(ls->status, "skipped"))
			failed++;
		member_add(ck, h->syms[i]);
		if (listed < LIST_MAX) {
			cat(list, sizeof(list), "%s%s (%s)", listed ? ", " : "", h->syms[i], why);
			listed++;
		}
	}
	h->missing = missing;
	if (!h->nsyms) {
		check_set(ck, HEALTH_CRITICAL,
			  "no symbols configured and no sync run to take"
			  " them from ([main] symbols = %s)",
			  h->c->symbols);
		return;
	}
	if (!missing) {
		check_set(ck, HEALTH_OK, "%zu/%zu configured symbols present",
			  h->nsyms - h->ndelisted, h->nsyms - h->ndelisted);
		return;
	}
	check_set(ck,
		  failed || missing == h->nsyms - h->ndelisted ? HEALTH_CRITICAL : HEALTH_WARNING,
		  "%zu/%zu configured symbols missing: %s%s", missing, h->nsyms - h->ndelisted,
		  list, missing > listed ? ", ..." : "");
}

/* 3. Integrity: quick_check (integrity_check with full) within the time budget; a
 * problem found is CRITICAL; a recorded corruption not followed by a good check or a
 * recovery is WARNING. */
static void check_integrity(struct hctx *h, struct health_check *ck, struct health_report *r)
{
	char detail[256] = "", when[32];
	int ok = 0, finished = 0;
	int64_t budget = 0, psize = 0, pcount = 0, freel = 0;
	struct ck_err e = {0, ""};
	const char *what = h->full ? "integrity_check" : "quick_check";
	static const enum event_kind kinds[] = {EV_INTEGRITY_CHECK, EV_CORRUPTION_DETECTED,
						EV_RECOVER};
	enum event_kind nk = EV_NKINDS;
	struct store_event newest = {0};

	store_health_pages(h->st, &psize, &pcount, &freel, &e);
	if (!h->full) {
		budget = h->deadline - mono_ms();
		if (budget < 100)
			budget = 100;
	}
	if (store_check(h->st, h->full, budget, &ok, &finished, detail, sizeof(detail), &e)) {
		if (e.code == CK_ECORRUPT) {
			r->integrity_done = 1;
			snprintf(r->integrity_detail, sizeof(r->integrity_detail), "%s", e.msg);
		}
		check_set(ck, HEALTH_CRITICAL, "%s could not run: %s", what, e.msg);
		return;
	}
	if (finished) {
		r->integrity_done = 1;
		r->integrity_ok = ok;
		snprintf(r->integrity_detail, sizeof(r->integrity_detail), "%s", detail);
	}
	if (finished && !ok) {
		check_set(ck, HEALTH_CRITICAL, "%s of %s found: %s (run candlekeep recover)", what,
			  store_path(h->st), detail);
		return;
	}
	/* The newest recorded verdict of recover/backup/audit. */
	for (size_t k = 0; k < sizeof(kinds) / sizeof(kinds[0]); k++) {
		struct store_event *ev = NULL;
		size_t n = 0;
		if (store_events(h->st, event_kind_name(kinds[k]), NULL, 0, 1, &ev, &n, &e) == 0 &&
		    n && ev[0].at > newest.at)
			newest = ev[0];
		free(ev);
	}
	if (newest.at)
		event_kind_parse(newest.kind, &nk);
	if (newest.at &&
	    (nk == EV_CORRUPTION_DETECTED || (nk == EV_INTEGRITY_CHECK && newest.value == 0))) {
		check_set(ck, HEALTH_WARNING,
			  "%s %s; but %s at %s UTC recorded: %s (run candlekeep"
			  " health --full, or candlekeep recover)",
			  what, finished ? "ok" : "not finished", newest.kind,
			  kline_time_str(newest.at, when, sizeof(when)), newest.detail);
		return;
	}
	if (!finished) {
		check_set(ck, HEALTH_OK,
			  "%s not finished within %" PRId64 " ms on a %.0f MB"
			  " database (header and schema readable%s%s); run candlekeep health --full"
			  " for the complete check",
			  what, budget, (double)(psize * pcount) / 1e6,
			  newest.at ? "; last recorded check ok at " : "",
			  newest.at ? kline_time_str(newest.at, when, sizeof(when)) : "");
		return;
	}
	check_set(ck, HEALTH_OK, "%s ok (%.1f MB, %" PRId64 " free pages)", what,
		  (double)(psize * pcount) / 1e6, freel);
}

/* 4. Gaps: missing candles inside stored ranges (confirmed exchange holes excepted).
 * Any is WARNING; a symbol missing at least [health] stale_crit worth is CRITICAL. */
static void check_gaps(struct hctx *h, struct health_check *ck)
{
	struct store_gap *g = NULL;
	size_t n = 0, nsym = 0, listed = 0;
	int64_t from = h->full ? 0 : h->now - HEALTH_GAP_WINDOW, crit_n;
	int crit = 0;
	char list[400] = "", t[32], scope[64];
	const char *prev = "";
	struct ck_err e = {0, ""};

	if (from < 0)
		from = 0;
	/* Per configured symbol (index ranges); --full: one pass over every symbol. */
	for (size_t i = 0; i < (h->full ? 1 : h->nsyms); i++) {
		struct store_gap *one = NULL, *p;
		size_t none = 0;
		if (store_gaps(h->st, h->full ? NULL : h->syms[i], h->c->interval,
			       h->c->interval_ms, from, INT64_MAX, 1, &one, &none, &e)) {
			free(g);
			check_set(ck, HEALTH_UNKNOWN, "cannot look for gaps: %s", e.msg);
			return;
		}
		if (none && !(p = realloc(g, (n + none) * sizeof(*g)))) {
			free(one);
			free(g);
			check_set(ck, HEALTH_UNKNOWN, "cannot look for gaps: out of memory");
			return;
		}
		if (none) {
			g = p;
			memcpy(g + n, one, none * sizeof(*g));
			n += none;
		}
		free(one);
	}
	crit_n = h->c->stale_crit_s * 1000 / h->c->interval_ms;
	if (crit_n < 1)
		crit_n = 1;
	/* per symbol totals (g is sorted by symbol) */
	for (size_t i = 0; i < n;) {
		int64_t total = 0;
		size_t j = i, pieces = 0;
		if (strcmp(g[i].symbol, prev))
			prev = g[i].symbol;
		for (; j < n && !strcmp(g[j].symbol, g[i].symbol); j++)
			if (!g[j].confirmed) {
				total += g[j].count;
				pieces++;
			}
		if (total) {
			nsym++;
			member_add(ck, g[i].symbol);
			h->gaps_missing += total;
			if (total >= crit_n)
				crit = 1;
			if (listed < LIST_MAX) {
				for (size_t k = i; k < j; k++)
					if (!g[k].confirmed) {
						cat(list, sizeof(list),
						    "%s%s %" PRId64 " missing from %s%s",
						    listed ? ", " : "", g[k].symbol, total,
						    kline_time_str(g[k].first, t, sizeof(t)),
						    pieces > 1 ? " (and later)" : "");
						break;
					}
				listed++;
			}
		}
		i = j;
	}
	free(g);
	if (h->full)
		snprintf(scope, sizeof(scope), "in all history");
	else
		snprintf(scope, sizeof(scope), "in the last %" PRId64 " days (--full: all history)",
			 HEALTH_GAP_WINDOW / DAY_MS);
	if (!nsym) {
		check_set(ck, HEALTH_OK, "no missing candles %s", scope);
		return;
	}
	check_set(ck, crit ? HEALTH_CRITICAL : HEALTH_WARNING,
		  "%" PRId64 " candles missing in %zu symbols %s: %s%s", h->gaps_missing, nsym,
		  scope, list, nsym > listed ? ", ..." : "");
}

/* 5. Data-loss guard: today's candle count against the count recorded at the end of
 * the newest sync (event "candle_count"). Fewer is CRITICAL, or WARNING when a
 * recovery (restore from a backup) happened since and a sync will refill it. */
static void check_data_loss(struct hctx *h, struct health_check *ck)
{
	struct store_event *ev = NULL, *rec = NULL;
	size_t n = 0, nrec = 0;
	char t[32];
	struct ck_err e = {0, ""};

	int finished = 0;
	int64_t budget = 0;

	if (!h->full) {
		budget = h->deadline - mono_ms() - 150; /* leave the integrity check its share */
		if (budget < 100)
			budget = 100;
	}
	if (store_count(h->st, h->c->interval, budget, &h->candles, &finished, &e)) {
		check_set(ck, HEALTH_UNKNOWN, "cannot count candles: %s", e.msg);
		return;
	}
	if (!finished) {
		/* Too big to count within the budget: the cheap guard instead — no symbol's
		 * newest candle is older than the last sync left it. */
		char list[300] = "", nt[32];
		size_t lost = 0;
		h->candles = -1;
		for (size_t i = 0; i < h->nlast; i++) {
			struct store_span sp;
			int64_t hi;
			if (!h->last[i].newest_open ||
			    store_span(h->st, h->last[i].symbol, h->c->interval, 0, INT64_MAX, 0,
				       &sp, &e))
				continue;
			hi = sp.last_open;
			if (hi < h->last[i].newest_open) {
				if (lost < LIST_MAX)
					cat(list, sizeof(list), "%s%s newest %s", lost ? ", " : "",
					    h->last[i].symbol,
					    hi ? kline_time_str(hi, nt, sizeof(nt)) : "none");
				lost++;
			}
		}
		if (lost)
			check_set(ck, HEALTH_CRITICAL,
				  "%zu symbols lost candles the last sync stored:"
				  " %s (candlekeep sync refetches them)",
				  lost, list);
		else
			check_set(ck, HEALTH_OK,
				  "every symbol still holds the newest candle the last"
				  " sync stored; the full count did not finish within %" PRId64
				  " ms (--full counts)",
				  budget);
		return;
	}
	if (store_events(h->st, event_kind_name(EV_CANDLE_COUNT), h->c->interval, 0, 1, &ev, &n,
			 &e)) {
		check_set(ck, HEALTH_UNKNOWN, "cannot read the recorded candle count: %s", e.msg);
		return;
	}
	if (!n) {
		check_set(ck, HEALTH_OK,
			  "%" PRId64 " candles; no count recorded by a sync yet to"
			  " compare with",
			  h->candles);
		free(ev);
		return;
	}
	int64_t base = (int64_t)ev[0].value;
	kline_time_str(ev[0].at, t, sizeof(t));
	if (h->candles >= base) {
		check_set(ck, HEALTH_OK,
			  "%" PRId64 " candles, at least the %" PRId64
			  " recorded at the last sync (%s UTC)",
			  h->candles, base, t);
	} else {
		store_events(h->st, event_kind_name(EV_RECOVER), NULL, ev[0].at, 1, &rec, &nrec,
			     &e);
		if (nrec)
			check_set(ck, HEALTH_WARNING,
				  "%" PRId64 " candles, %" PRId64 " fewer than the %" PRId64
				  " recorded at the last sync (%s UTC); restored from a backup"
				  " since: the next sync refills them",
				  h->candles, base - h->candles, base, t);
		else
			check_set(ck, HEALTH_CRITICAL,
				  "%" PRId64 " candles, %" PRId64 " fewer than the %" PRId64
				  " recorded at the last sync (%s UTC): candles were deleted"
				  " (find out what removed them; candlekeep sync refetches them)",
				  h->candles, base - h->candles, base, t);
	}
	free(rec);
	free(ev);
}

/* 6. Backups: the newest verified backup of each tier younger than 26 h; older is
 * WARNING, older than 26 h + a day (two missed) or none is CRITICAL; offsite not
 * configured is WARNING. */
static void check_backups(struct hctx *h, struct health_check *ck)
{
	static const char *const tiers[] = {"hot", "warm", "offsite"};
	char msg[512] = "", d[24];
	enum health_status s = HEALTH_OK;
	struct ck_err e = {0, ""};
	int offsite_on = h->c->s3_bucket && *h->c->s3_bucket;

	for (size_t t = 0; t < 3; t++) {
		struct store_backup *b = NULL;
		size_t n = 0, i;
		enum health_status ts;

		if (t == 2 && !offsite_on) {
			s = worst(s, HEALTH_WARNING);
			cat(msg, sizeof(msg), "%soffsite not configured ([backup] s3_bucket)",
			    msg[0] ? "; " : "");
			continue;
		}
		if (store_backup_list(h->st, tiers[t], &b, &n, &e)) {
			s = worst(s, HEALTH_UNKNOWN);
			cat(msg, sizeof(msg), "%s%s: %s", msg[0] ? "; " : "", tiers[t], e.msg);
			continue;
		}
		for (i = 0; i < n && strcmp(b[i].status, "verified"); i++)
			;
		if (i == n) {
			ts = HEALTH_CRITICAL;
			cat(msg, sizeof(msg), "%s%s: no verified backup%s", msg[0] ? "; " : "",
			    tiers[t], n ? " (only failed ones)" : "");
		} else {
			int64_t age = h->now - b[i].created;
			ts = age > BACKUP_MAX_AGE_MS + DAY_MS ? HEALTH_CRITICAL
			     : age > BACKUP_MAX_AGE_MS        ? HEALTH_WARNING
							      : HEALTH_OK;
			cat(msg, sizeof(msg), "%s%s %s old%s", msg[0] ? "; " : "", tiers[t],
			    dur_format(age, DUR_COARSE, d, sizeof(d)), ts ? " (over 26h)" : "");
		}
		s = worst(s, ts);
		free(b);
	}
	check_set(ck, s, "%s", msg);
}

/* 7. Last run: a lock held longer than the sync timeout is a stuck run (CRITICAL); the
 * newest run failed (WARNING; FAILED_RUNS_CRIT in a row CRITICAL) or never ended; the
 * newest successful run older than stale_warn/stale_crit. */
/* An HTTP 418 ban still in force (kept by sync; see `candlekeep ban`): no sync can
 * fetch until it ends, so last_run is at least WARNING and says until when. */
static void note_ban(struct hctx *h, struct health_check *ck)
{
	char buf[32], t[32];
	int64_t until;
	size_t len = strlen(ck->message);

	if (!h->st || store_state_get(h->st, "ban_until", buf, sizeof(buf), NULL))
		return;
	until = strtoll(buf, NULL, 10);
	if (until <= h->local_now)
		return;
	if (ck->status == HEALTH_OK)
		ck->status = HEALTH_WARNING;
	snprintf(ck->message + len, sizeof(ck->message) - len,
		 "; the exchange banned this IP (HTTP 418) until %s UTC (candlekeep ban)",
		 kline_time_str(until, t, sizeof(t)));
}

static void check_last_run(struct hctx *h, struct health_check *ck)
{
	struct store_sync_run *v = NULL;
	size_t n = 0, fails = 0;
	long pid = 0;
	long long since = 0;
	int held;
	char d[24], d2[24], t[32];
	struct ck_err e = {0, ""};
	const struct cfg *c = h->c;
	int64_t limit_ms = (c->timeout_s ? c->timeout_s : c->stale_crit_s) * 1000;

	held = lock_probe(c->db, &pid, &since, &e);
	if (held > 0 && since && h->local_now - since * 1000 > limit_ms) {
		check_set(ck, HEALTH_CRITICAL,
			  "run stuck: pid %ld has held the lock %s.lock for %s"
			  " (longer than the %s %s; kill it if it does not progress)",
			  pid, c->db,
			  dur_format(h->local_now - since * 1000, DUR_COARSE, d, sizeof(d)),
			  dur_format(limit_ms, DUR_COARSE, d2, sizeof(d2)),
			  c->timeout_s ? "[sync] timeout" : "[health] stale_crit");
		return;
	}
	if (!h->st) {
		check_set(ck, HEALTH_CRITICAL, "no database");
		return;
	}
	if (store_health_sync_runs(h->st, &v, &n, &e)) {
		check_set(ck, HEALTH_UNKNOWN, "cannot read the runs: %s", e.msg);
		return;
	}
	/* only the runs of this market and interval: another's say nothing of this one */
	size_t kept = 0;
	for (size_t i = 0; i < n; i++)
		if (!strcmp(v[i].market, store_market(h->st)) &&
		    !strcmp(v[i].interval, c->interval))
			v[kept++] = v[i];
	n = kept;
	if (!n) {
		check_set(ck, HEALTH_CRITICAL, "no sync has ever run (run candlekeep sync)");
		free(v);
		return;
	}
	const struct store_sync_run *last = &v[n - 1], *ok = NULL;
	for (size_t i = n; i-- > 0;) {
		if (v[i].status == RUN_OK) {
			ok = &v[i];
			break;
		}
		if (v[i].status != RUN_RUNNING)
			fails++;
	}
	if (!ok && last->status == RUN_RUNNING && held <= 0) {
		check_set(ck, HEALTH_CRITICAL,
			  "no sync has succeeded yet; the last (%s, run %" PRId64
			  ") never ended: it was killed, crashed, or could not write its record"
			  " (disk full?); see its log and run candlekeep sync",
			  last->command, last->id);
		free(v);
		return;
	}
	if (!ok) {
		check_set(ck, HEALTH_CRITICAL,
			  "no sync has succeeded yet; the last (%s, run %" PRId64 ") %s%s: %s",
			  last->command, last->id, last->status == RUN_RUNNING ? "is " : "ended ",
			  run_status_name(last->status),
			  last->error[0] ? last->error : "no error recorded");
		free(v);
		return;
	}
	/* age of the newest successful run, on the exchange's clock when recorded */
	int64_t age = ok->server_time ? h->now - ok->server_time : h->local_now - ok->started;
	int64_t warn = c->stale_warn_s * 1000, crit = c->stale_crit_s * 1000;
	kline_time_str(ok->server_time ? ok->server_time : ok->started, t, sizeof(t));
	if (last->status == RUN_RUNNING && held <= 0 && last->ended == 0) {
		check_set(ck, HEALTH_WARNING,
			  "run %" PRId64 " (%s) never ended (killed or crashed);"
			  " last success %s ago",
			  last->id, last->command, dur_format(age, DUR_COARSE, d, sizeof(d)));
	} else if (fails >= FAILED_RUNS_CRIT || age > crit) {
		check_set(ck, HEALTH_CRITICAL,
			  "%zu runs in a row failed; last success %s ago (%s"
			  " UTC); newest: %s",
			  fails, dur_format(age, DUR_COARSE, d, sizeof(d)), t,
			  last->error[0] ? last->error : run_status_name(last->status));
	} else if (fails || age > warn) {
		check_set(ck, HEALTH_WARNING, "%s; last success %s ago (%s UTC)%s%s",
			  fails ? "the newest run failed" : "no successful run lately",
			  dur_format(age, DUR_COARSE, d, sizeof(d)), t, fails ? ": " : "",
			  fails ? (last->error[0] ? last->error : run_status_name(last->status))
				: "");
	} else {
		check_set(ck, HEALTH_OK, "run %" PRId64 " (%s) ok %s ago (%s UTC)%s", ok->id,
			  ok->command, dur_format(age, DUR_COARSE, d, sizeof(d)), t,
			  held > 0 ? "; a run is in progress" : "");
	}
	free(v);
	note_ban(h, ck);
}

/* The directory holding path (a file) or path itself if it is a directory; the
 * nearest existing ancestor otherwise. */
static void existing_dir(const char *path, char *buf, size_t size)
{
	struct stat sb;
	char *slash;

	snprintf(buf, size, "%s", path && *path ? path : ".");
	while (stat(buf, &sb) != 0 || !S_ISDIR(sb.st_mode)) {
		if (!(slash = strrchr(buf, '/'))) {
			snprintf(buf, size, ".");
			return;
		}
		if (slash == buf) {
			buf[1] = 0;
			return;
		}
		*slash = 0;
	}
}

/* 8. Disk: free space (for unprivileged users) on the database's and the backup
 * directories' file systems against [health] disk_warn_pct / disk_crit_pct. */
static void check_disk(struct hctx *h, struct health_check *ck)
{
	const char *paths[3] = {h->c->db, h->c->backup_hot_dir, h->c->backup_warm_dir};
	static const char *const what[3] = {"db", "hot", "warm"};
	unsigned long fsids[3];
	size_t nfs = 0;
	char msg[512] = "", dir[4096];
	enum health_status s = HEALTH_OK;
	double low = 100.0;

	for (size_t i = 0; i < 3; i++) {
		struct statvfs v;
		size_t j;
		if (i == 0) {
			existing_dir(paths[0], dir, sizeof(dir));
			/* the db is a file: take its directory */
			char *slash = strrchr(paths[0], '/');
			if (slash) {
				char tmp[4096];
				snprintf(tmp, sizeof(tmp), "%.*s", (int)(slash - paths[0]),
					 paths[0]);
				existing_dir(slash == paths[0] ? "/" : tmp, dir, sizeof(dir));
			} else {
				snprintf(dir, sizeof(dir), ".");
			}
		} else {
			existing_dir(paths[i], dir, sizeof(dir));
		}
		if (statvfs(dir, &v) != 0) {
			s = worst(s, HEALTH_UNKNOWN);
			cat(msg, sizeof(msg), "%s%s %s: %s", msg[0] ? "; " : "", what[i], dir,
			    strerror(errno));
			continue;
		}
		for (j = 0; j < nfs && fsids[j] != v.f_fsid; j++)
			;
		if (j < nfs)
			continue; /* same file system as an earlier one */
		fsids[nfs++] = v.f_fsid;
		double pct = v.f_blocks ? 100.0 * (double)v.f_bavail / (double)v.f_blocks : 0.0;
		double gb = (double)v.f_bavail * (double)v.f_frsize / 1e9;
		enum health_status fs = pct < (double)h->c->disk_crit_pct   ? HEALTH_CRITICAL
					: pct < (double)h->c->disk_warn_pct ? HEALTH_WARNING
									    : HEALTH_OK;
		if (pct < low)
			low = pct;
		s = worst(s, fs);
		cat(msg, sizeof(msg), "%s%s %s %.1f%% free (%.2f GB)", msg[0] ? "; " : "", what[i],
		    dir, pct, gb);
	}
	h->disk_free_pct = low;
	h->have_disk = 1;
	check_set(ck, s, "%s (warn below %" PRId64 "%%, crit below %" PRId64 "%%)", msg,
		  h->c->disk_warn_pct, h->c->disk_crit_pct);
}

static void no_db(struct health_report *r, const char *name)
{
	struct health_check *ck = check_add(r, name);
	check_set(ck, HEALTH_CRITICAL, "database not available");
}

/* Several intervals: freshness and coverage of each, the integrity check, gaps and
 * data_loss of each (the documented order, interval by interval), each on a copy of the
 * configuration switched to its interval; the summary's counts are summed over them
 * (stale_max the worst). */
static void per_interval(struct hctx *h, struct health_report *r)
{
	const struct cfg *c = h->c;
	size_t fresh = 0, present = 0, checked = 0, missing = 0, n = c->nintervals;
	int64_t stale_max = 0, gaps = 0, candles = 0, newest = 0;
	struct health_check *ci;
	char name[32];

	for (size_t i = 0; i < n; i++) {
		struct cfg one;
		interval_use(h, c, i, &one);
		h->fresh = h->present = h->checked = h->missing = 0;
		h->stale_max_ms = 0;
		snprintf(name, sizeof(name), "freshness/%s", one.interval);
		check_freshness(h, check_add(r, name));
		snprintf(name, sizeof(name), "coverage/%s", one.interval);
		check_coverage(h, check_add(r, name));
		fresh += h->fresh;
		present += h->present;
		checked += h->checked;
		missing += h->missing;
		if (h->stale_max_ms > stale_max)
			stale_max = h->stale_max_ms;
		if (h->newest_close > newest)
			newest = h->newest_close;
	}
	ci = check_add(r, "integrity");
	for (size_t i = 0; i < n; i++) {
		struct cfg one;
		interval_use(h, c, i, &one);
		h->gaps_missing = 0;
		h->candles = 0;
		snprintf(name, sizeof(name), "gaps/%s", one.interval);
		check_gaps(h, check_add(r, name));
		snprintf(name, sizeof(name), "data_loss/%s", one.interval);
		check_data_loss(h, check_add(r, name));
		gaps += h->gaps_missing;
		if (h->candles > 0)
			candles += h->candles;
	}
	h->c = c;
	h->fresh = fresh;
	h->present = present;
	h->checked = checked;
	h->missing = missing;
	h->stale_max_ms = stale_max;
	h->newest_close = newest;
	h->gaps_missing = gaps;
	h->candles = candles;
	check_integrity(h, ci, r);
	check_backups(h, check_add(r, "backups"));
}

int health_run(struct store *st, const struct cfg *c, int full, int64_t now,
	       struct health_report *r, struct ck_err *err)
{
	struct hctx h;
	int rc = 0;
	const struct health_check *worst_ck = NULL;
	char d[24];

	memset(r, 0, sizeof(*r));
	memset(&h, 0, sizeof(h));
	h.st = st;
	h.c = c;
	h.full = full;
	h.now = now;
	h.local_now = now_ms();
	h.deadline = mono_ms() + HEALTH_BUDGET_MS;
	r->at_ms = now;

	if (st && (rc = symbols_load(&h, err)) != 0)
		goto out;
	if (st && c->nintervals > 1) {
		per_interval(&h, r);
	} else if (st) {
		check_freshness(&h, check_add(r, "freshness"));
		check_coverage(&h, check_add(r, "coverage"));
		/* The integrity check runs last among the database checks: it gets what is
		 * left of the time budget. The report keeps the documented order. */
		struct health_check *ci = check_add(r, "integrity");
		check_gaps(&h, check_add(r, "gaps"));
		check_data_loss(&h, check_add(r, "data_loss"));
		check_integrity(&h, ci, r);
		check_backups(&h, check_add(r, "backups"));
	} else {
		static const char *const names[] = {"freshness", "coverage",  "integrity",
						    "gaps",      "data_loss", "backups"};
		for (size_t i = 0; i < 6; i++)
			no_db(r, names[i]);
	}
	if (st && c->nintervals > 1) { /* each interval by its own runs */
		for (size_t i = 0; i < c->nintervals; i++) {
			struct cfg one = *c;
			char name[32];
			cfg_interval_use(&one, i);
			h.c = &one;
			snprintf(name, sizeof(name), "last_run/%s", one.interval);
			check_last_run(&h, check_add(r, name));
		}
		h.c = c;
	} else {
		check_last_run(&h, check_add(r, "last_run"));
	}
	check_disk(&h, check_add(r, "disk"));

	r->status = HEALTH_OK;
	for (size_t i = 0; i < r->nchecks; i++) {
		if (severity(r->checks[i].status) > severity(r->status)) {
			worst_ck = &r->checks[i];
			r->status = r->checks[i].status;
		}
	}
	/* The summary: status, the headline, the worst problem, then perfdata. */
	if (!st) {
		snprintf(r->summary, sizeof(r->summary),
			 "CANDLEKEEP %s - database %s not available", status_name(r->status),
			 c->db);
	} else {
		snprintf(r->summary, sizeof(r->summary), "CANDLEKEEP %s - %zu/%zu symbols fresh",
			 status_name(r->status), h.fresh,
			 (h.nsyms - h.ndelisted) * (c->nintervals > 1 ? c->nintervals : 1));
		if (h.checked)
			cat(r->summary, sizeof(r->summary), ", oldest %s",
			    dur_format(h.stale_max_ms, DUR_COARSE, d, sizeof(d)));
		if (worst_ck && r->status != HEALTH_OK)
			cat(r->summary, sizeof(r->summary), "; %s %s", worst_ck->name,
			    status_name(worst_ck->status));
	}
	/* perfdata: 'label'=value[UOM];[warn];[crit];[min];[max] */
	cat(r->summary, sizeof(r->summary),
	    " | fresh=%zu;;;0;%zu missing=%zu stale_max=%" PRId64 "s;%" PRId64 ";%" PRId64
	    ";0 gaps=%" PRId64 " candles=%" PRId64,
	    h.fresh, (h.nsyms - h.ndelisted) * (c->nintervals > 1 ? c->nintervals : 1), h.missing,
	    h.stale_max_ms / 1000, c->stale_warn_s, c->stale_crit_s, h.gaps_missing,
	    h.candles > 0 ? h.candles : 0);
	if (h.have_disk)
		cat(r->summary, sizeof(r->summary),
		    " disk_free=%.1f%%;%" PRId64 ";%" PRId64 ";0;100", h.disk_free_pct,
		    c->disk_warn_pct, c->disk_crit_pct);
out:
	if (h.syms)
		cfg_symbols_free(h.syms, h.nsyms);
	free(h.last);
	listing_release(&h.listing);
	return rc;
}

int health_print_text(const struct health_report *r, FILE *f)
{
	fprintf(f, "%s\n", r->summary);
	for (size_t i = 0; i < r->nchecks; i++)
		fprintf(f, "%-9s %-8s %s\n", r->checks[i].name, status_name(r->checks[i].status),
			r->checks[i].message);
	return ferror(f) ? CK_EIO : 0;
}

int health_to_json(const struct health_report *r, char **out, struct ck_err *err)
{
	json_t *o = json_object(), *a = json_array();
	char iso[32];

	*out = NULL;
	if (!o || !a)
		goto oom;
	json_object_set_new(o, "status", json_string(status_name(r->status)));
	json_object_set_new(o, "exit_code", json_integer(r->status));
	json_object_set_new(o, "summary", json_string(r->summary));
	json_object_set_new(o, "at", json_string(utc_iso(r->at_ms, iso, sizeof(iso))));
	for (size_t i = 0; i < r->nchecks; i++) {
		json_t *c = json_pack("{s:s, s:s, s:s}", "name", r->checks[i].name, "status",
				      status_name(r->checks[i].status), "message",
				      r->checks[i].message);
		if (!c || json_array_append_new(a, c))
			goto oom;
	}
	json_object_set(o, "checks", a);
	*out = json_dumps(o, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
	json_decref(a);
	json_decref(o);
	if (!*out)
		return ck_err_set(err, CK_ENOMEM, "health: out of memory formatting JSON");
	return 0;
oom:
	json_decref(a);
	json_decref(o);
	return ck_err_set(err, CK_ENOMEM, "health: out of memory formatting JSON");
}
