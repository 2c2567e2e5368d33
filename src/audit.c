/* audit.c — the SLA audit's computation (see audit.h for the definitions it measures):
 * reads the run records, backups and candles and fills a struct audit_report.
 * audit_render.c turns the report into text, JSON and HTML. */
#include <errno.h>
#include <inttypes.h>
#include <jansson.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "afile.h"
#include "audit.h"
#include "backup.h"
#include "dur.h"
#include "event.h"
#include "interval.h"
#include "kline.h"
#include "listing.h"
#include "sched.h"
#include "store_backup.h"
#include "store_health.h"
#include "utc.h"
#include "banned.h"

#define MIN_MS INT64_C(60000)
#define DAY_MS INT64_C(86400000)
#define AUDIT_DAYS_MAX 3660
#define BAD_RUNS_MAX 100000

static const char *const tier_names[3] = {"hot", "warm", "offsite"};

static int cmp_i64(const void *a, const void *b)
{
	int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
	return (x > y) - (x < y);
}

int64_t audit_percentile(int64_t *v, size_t n, double p)
{
	size_t rank;

	if (!n)
		return 0;
	qsort(v, n, sizeof(*v), cmp_i64);
	/* nearest rank, ceil(p/100 * n), in integers (p to 1/100 %) so that no rounding
	 * of a double moves it: the smallest value with at least p% of samples <= it */
	uint64_t p100 = (uint64_t)(p * 100.0 + 0.5);
	rank = (size_t)((p100 * (uint64_t)n + 9999) / 10000);
	if (rank < 1)
		rank = 1;
	if (rank > n)
		rank = n;
	return v[rank - 1];
}

/* ---- runs on the exchange's clock ---------------------------------------------- */

struct xrun {
	const struct store_sync_run *r;
	int64_t at, end; /* ms, exchange clock */
	int estimated;
};

/* A successful run: its exchange time and its interval (index in cfg intervals). */
struct ok_run {
	int64_t at;
	int k;
};

static void runs_place(const struct store_sync_run *v, size_t n, struct xrun *x)
{
	size_t prev = SIZE_MAX;

	for (size_t i = 0; i < n; i++) {
		x[i].r = &v[i];
		x[i].estimated = !v[i].server_time;
		if (v[i].server_time) {
			x[i].at = v[i].server_time;
			prev = i;
			continue;
		}
		size_t next = i + 1;
		while (next < n && !v[next].server_time)
			next++;
		if (prev != SIZE_MAX && next < n && v[next].started > v[prev].started) {
			/* interpolate between the neighbours' local and exchange times */
			double f = (double)(v[i].started - v[prev].started) /
				   (double)(v[next].started - v[prev].started);
			x[i].at =
				v[prev].server_time +
				(int64_t)(f * (double)(v[next].server_time - v[prev].server_time));
		} else if (prev != SIZE_MAX) {
			x[i].at = v[i].started + (v[prev].server_time - v[prev].started);
		} else if (next < n) {
			x[i].at = v[i].started + (v[next].server_time - v[next].started);
		} else {
			x[i].at = v[i].started;
		}
	}
	for (size_t i = 0; i < n; i++)
		x[i].end = x[i].at + (v[i].ended > v[i].started ? v[i].ended - v[i].started : 0);
}

static int day_of(const struct audit_report *r, int64_t t)
{
	if (t < r->from || t >= r->to)
		return -1;
	return (int)((t - r->from) / DAY_MS);
}

/* ---- staleness per symbol ------------------------------------------------------ */

struct held_ev {
	int64_t end;    /* exchange ms the run ended */
	int64_t newest; /* newest open held from then on */
};

static int cmp_ev(const void *a, const void *b)
{
	const struct held_ev *x = a, *y = b;
	return (x->end > y->end) - (x->end < y->end);
}

static int xrun_find(const struct xrun *x, size_t n, int64_t id)
{
	size_t lo = 0, hi = n;
	while (lo < hi) {
		size_t mid = (lo + hi) / 2;
		if (x[mid].r->id < id)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo < n && x[lo].r->id == id ? (int)lo : -1;
}

static int staleness(struct audit_report *r, const struct cfg *c, struct audit_symbol *s,
		     const struct xrun *x, size_t nx, const struct store_run_symbol *rs, size_t nrs,
		     int delisted, int64_t *fresh_n, int64_t *known_n, struct ck_err *err)
{
	struct held_ev *ev = NULL;
	int64_t *lags = NULL, iv = c->interval_ms, warn = c->stale_warn_s * 1000;
	size_t nev = 0, nsamp = (size_t)(r->days * 1440), k, e = 0;
	int64_t held = 0;

	for (size_t i = 0; i < nrs; i++)
		if (!strcmp(rs[i].symbol, s->symbol) && rs[i].newest_open)
			nev++;
	if (nev && !(ev = malloc(nev * sizeof(*ev))))
		return ck_err_set(err, CK_ENOMEM, "audit: out of memory");
	nev = 0;
	for (size_t i = 0; i < nrs; i++) {
		int j;
		if (strcmp(rs[i].symbol, s->symbol) || !rs[i].newest_open)
			continue;
		if ((j = xrun_find(x, nx, rs[i].run_id)) < 0)
			continue;
		ev[nev].end = x[j].end;
		ev[nev].newest = rs[i].newest_open;
		nev++;
	}
	if (nev)
		qsort(ev, nev, sizeof(*ev), cmp_ev);
	if (!(lags = malloc((nsamp ? nsamp : 1) * sizeof(*lags)))) {
		free(ev);
		return ck_err_set(err, CK_ENOMEM, "audit: out of memory");
	}
	s->samples = 0;
	for (k = 0; k < nsamp; k++) {
		int64_t t = r->from + (int64_t)k * MIN_MS, lag, age;
		int d = (int)(k / 1440);
		if (delisted && nev && t > ev[nev - 1].end)
			break; /* stopped trading: not fetched after its last run, by design */
		while (e < nev && ev[e].end <= t) {
			if (ev[e].newest > held)
				held = ev[e].newest;
			e++;
		}
		if (!held)
			continue; /* nothing held yet: unknown */
		age = t - interval_add(iv, held, 1);
		lag = t - interval_add(iv, held, 2);
		if (lag < 0)
			lag = 0;
		if (age < 0)
			age = 0;
		lags[s->samples++] = lag;
		if (lag > s->lag_worst_ms)
			s->lag_worst_ms = lag;
		if (age > s->age_worst_ms)
			s->age_worst_ms = age;
		if (lag > r->day[d].lag_worst_ms)
			r->day[d].lag_worst_ms = lag;
		known_n[d]++;
		if (age <= warn)
			fresh_n[d]++;
	}
	s->lag_p99_ms = audit_percentile(lags, (size_t)s->samples, 99.0);
	free(lags);
	free(ev);
	return 0;
}

/* ---- completeness ---------------------------------------------------------------- */

static int gap_add(struct audit_symbol *s, int64_t a, int64_t b, int64_t iv, struct ck_err *err)
{
	struct store_gap *p = realloc(s->gaps, (s->ngaps + 1) * sizeof(*p));
	if (!p)
		return ck_err_set(err, CK_ENOMEM, "audit: out of memory");
	s->gaps = p;
	memset(&p[s->ngaps], 0, sizeof(*p));
	snprintf(p[s->ngaps].symbol, sizeof(p[s->ngaps].symbol), "%s", s->symbol);
	p[s->ngaps].first = a;
	p[s->ngaps].last = b;
	p[s->ngaps].count = interval_steps(iv, a, b) + 1;
	s->ngaps++;
	return 0;
}

static int completeness(struct store *st, const struct cfg *c, struct audit_symbol *s, int64_t from,
			int64_t cutoff, int delisted, struct ck_err *err)
{
	int64_t iv = c->interval_ms, lo = interval_ceil(iv, from), hi, first, last;
	struct store_span sp;
	struct store_symbol sy;
	struct store_gap *g = NULL;
	size_t n = 0;

	/* the newest candle closed by the newest successful sync */
	hi = interval_add(iv, cutoff ? interval_floor(iv, cutoff) : lo, -1);
	if (store_symbol_get(st, s->symbol, c->interval, &sy, err))
		return err->code;
	if (sy.first_open > lo)
		lo = sy.first_open; /* listed during the period */
	if (delisted) {             /* stopped trading: expected up to its newest stored candle */
		if (store_span(st, s->symbol, c->interval, 0, INT64_MAX, 0, &sp, err))
			return err->code;
		if (sp.last_open < hi)
			hi = sp.last_open;
	}
	if (hi < lo)
		return 0;
	s->expected = interval_steps(iv, lo, hi) + 1;
	if (store_span(st, s->symbol, c->interval, lo, hi, 1, &sp, err) ||
	    store_health_hole_candles(st, s->symbol, c->interval, iv, lo, hi, &s->holes, err))
		return err->code;
	s->stored = sp.count;
	first = sp.first_open;
	last = sp.last_open;
	s->missing = s->expected - s->stored - s->holes;
	if (s->missing < 0)
		s->missing = 0;
	if (!s->missing)
		return 0;
	if (!first) /* nothing stored in the period */
		return gap_add(s, lo, hi, iv, err);
	if (first > lo && gap_add(s, lo, interval_add(iv, first, -1), iv, err))
		return err->code;
	if (store_gaps(st, s->symbol, c->interval, iv, lo, hi, 1, &g, &n, err))
		return err->code;
	for (size_t i = 0; i < n; i++)
		if (!g[i].confirmed && gap_add(s, g[i].first, g[i].last, iv, err)) {
			free(g);
			return err->code;
		}
	free(g);
	if (last < hi && gap_add(s, interval_add(iv, last, 1), hi, iv, err))
		return err->code;
	return 0;
}

/* ---- backups ----------------------------------------------------------------------- */

static int backups(struct store *st, const struct cfg *c, struct audit_report *r,
		   struct ck_err *err)
{
	int64_t keep_days[3] = {c->backup_hot_days, c->backup_warm_days, c->backup_offsite_days};

	for (int t = 0; t < 3; t++) {
		struct audit_tier *a = &r->tier[t];
		struct store_backup *b = NULL;
		size_t n = 0;
		int kept_verified = 0, ever_verified = 0;

		snprintf(a->tier, sizeof(a->tier), "%s", tier_names[t]);
		a->configured = t < 2 || (c->s3_bucket && *c->s3_bucket);
		a->retention_days = keep_days[t];
		if (store_backup_list(st, tier_names[t], &b, &n, err))
			return err->code;
		for (size_t i = 0; i < n; i++) {
			int verified = !strcmp(b[i].status, "verified") || b[i].verified_at > 0;
			int deleted = !strcmp(b[i].status, "deleted");
			int d = day_of(r, b[i].created);
			if (verified && d >= 0 && strcmp(b[i].status, "failed")) {
				if (!r->day[d].backups[t])
					a->days_with++;
				r->day[d].backups[t] = 1;
			}
			if (verified && strcmp(b[i].status, "failed"))
				ever_verified = 1;
			if (!deleted && b[i].created <= r->to) {
				a->kept++;
				if (!a->oldest_kept_ms || b[i].created < a->oldest_kept_ms)
					a->oldest_kept_ms = b[i].created;
				if (!strcmp(b[i].status, "verified")) {
					kept_verified = 1;
					if (b[i].created > a->newest_verified_ms)
						a->newest_verified_ms = b[i].created;
				}
			}
		}
		free(b);
		/* Retention runs with each daily backup: one day of grace. The newest verified
		 * backup is kept whatever its age, so age alone never breaks compliance for it. */
		a->compliant = 1;
		if (ever_verified && !kept_verified) {
			a->compliant = 0;
			snprintf(a->note, sizeof(a->note),
				 "no verified backup kept (retention must"
				 " keep the newest verified one)");
		} else if (a->oldest_kept_ms && a->oldest_kept_ms != a->newest_verified_ms &&
			   r->to - a->oldest_kept_ms > (a->retention_days + 1) * DAY_MS) {
			char d[32];
			a->compliant = 0;
			snprintf(a->note, sizeof(a->note),
				 "keeps a backup from %s, older than %" PRId64 " days",
				 utc_date(a->oldest_kept_ms, d, sizeof(d)), a->retention_days);
		} else if (!a->configured) {
			snprintf(a->note, sizeof(a->note), "not configured ([backup] s3_bucket)");
		} else if (!n) {
			snprintf(a->note, sizeof(a->note), "no backups");
		}
	}
	return 0;
}

/* ---- restore drill ---------------------------------------------------------------- */

static void drill(struct store *st, const struct cfg *c, const struct audit_opts *o,
		  struct audit_report *r)
{
	char dir[4096], path[4200], side[4300];
	const char *base = o->tmpdir ? o->tmpdir : getenv("TMPDIR");
	struct store_backup used;
	struct ck_err err = {0, ""};
	struct store *rs = NULL;
	int64_t t0, count = 0;
	int ok = 0;

	r->drill_done = 1;
	snprintf(dir, sizeof(dir), "%s/candlekeep-drill.XXXXXX", base && *base ? base : "/tmp");
	if (!mkdtemp(dir)) {
		snprintf(r->drill_detail, sizeof(r->drill_detail),
			 "cannot create a temp dir in %s:"
			 " %s",
			 base && *base ? base : "/tmp", strerror(errno));
		return;
	}
	snprintf(path, sizeof(path), "%s/restore.db", dir);
	memset(&used, 0, sizeof(used));
	t0 = mono_ms();
	if (backup_restore_to(st, c, path, &used, &err) == 0 &&
	    store_open(&rs, path, STORE_RDONLY, &err) == 0) {
		char detail[256] = "";
		int fin = 0;
		if (store_check(rs, 1, 0, &ok, &fin, detail, sizeof(detail), &err) == 0 && ok &&
		    store_count(rs, c->interval, 0, &count, NULL, &err) == 0) {
			r->drill_ok = 1;
		} else if (!err.msg[0]) {
			snprintf(err.msg, sizeof(err.msg),
				 "restored copy fails integrity_check: %s", detail);
		}
	}
	store_close(rs);
	r->drill_seconds = (double)(mono_ms() - t0) / 1000.0;
	snprintf(r->drill_location, sizeof(r->drill_location), "%s", used.location);
	if (r->drill_ok)
		snprintf(r->drill_detail, sizeof(r->drill_detail),
			 "restored and verified"
			 " (integrity_check ok, %" PRId64 " candles)",
			 count);
	else
		snprintf(r->drill_detail, sizeof(r->drill_detail), "failed: %s", err.msg);
	/* clean up the restored copy */
	unlink(path);
	snprintf(side, sizeof(side), "%s-wal", path);
	unlink(side);
	snprintf(side, sizeof(side), "%s-shm", path);
	unlink(side);
	rmdir(dir);
	if (store_event_add(st, now_ms(), event_kind_name(EV_RESTORE_DRILL),
			    used.location[0] ? used.location : "", r->drill_seconds,
			    r->drill_detail, &err))
		snprintf(r->drill_detail + strlen(r->drill_detail),
			 sizeof(r->drill_detail) - strlen(r->drill_detail), " (not recorded: %s)",
			 err.msg);
}

/* ---- the report -------------------------------------------------------------------- */

static void target_set(struct audit_report *r, const char *name, int met, const char *target,
		       const char *detail, const char *fmt, ...)
	__attribute__((format(printf, 6, 7)));
static void target_set(struct audit_report *r, const char *name, int met, const char *target,
		       const char *detail, const char *fmt, ...)
{
	struct audit_target *t = &r->target[r->ntarget++];
	va_list ap;

	snprintf(t->name, sizeof(t->name), "%s", name);
	t->met = met;
	snprintf(t->target, sizeof(t->target), "%s", target);
	snprintf(t->detail, sizeof(t->detail), "%s", detail);
	va_start(ap, fmt);
	vsnprintf(t->measured, sizeof(t->measured), fmt, ap);
	va_end(ap);
	if (!met)
		r->all_met = 0;
}

static int symbols_of(const struct cfg *c, const struct xrun *x, size_t nx,
		      const struct store_run_symbol *rs, size_t nrs, const struct audit_report *r,
		      char ***out, size_t *n, struct ck_err *err)
{
	int rc = cfg_symbols_list(c, out, n, err);
	char **v = NULL;
	size_t len = 0;

	if (rc != CK_ENOTFOUND)
		return rc;
	/* "all": the symbols the runs of the period handled */
	for (size_t i = 0; i < nrs; i++) {
		int j = xrun_find(x, nx, rs[i].run_id), seen = 0;
		if (j < 0 || x[j].at < r->from || x[j].at >= r->to)
			continue;
		for (size_t k = 0; k < len && !seen; k++)
			seen = !strcmp(v[k], rs[i].symbol);
		if (seen)
			continue;
		char **p = realloc(v, (len + 1) * sizeof(*v));
		if (!p || !(p[len] = strdup(rs[i].symbol))) {
			free(p ? p : v);
			return ck_err_set(err, CK_ENOMEM, "audit: out of memory");
		}
		v = p;
		len++;
	}
	*out = v;
	*n = len;
	return 0;
}

/* ---- the run records of the period ---------------------------------------------- */

static int bad_add(struct audit_report *r, const struct store_sync_run *run, const struct xrun *x,
		   struct ck_err *err)
{
	struct audit_run_item *p;

	if (r->nbad >= BAD_RUNS_MAX)
		return 0;
	if (!(p = realloc(r->bad, (r->nbad + 1) * sizeof(*p))))
		return ck_err_set(err, CK_ENOMEM, "audit: out of memory");
	r->bad = p;
	p += r->nbad++;
	memset(p, 0, sizeof(*p));
	p->id = run->id;
	snprintf(p->command, sizeof(p->command), "%s", run->command);
	p->at = x->at;
	p->estimated = x->estimated;
	p->status = run->status;
	snprintf(p->error, sizeof(p->error), "%s",
		 run->status == RUN_RUNNING && !run->ended ? "never ended (killed or crashed)"
							   : run->error);
	return 0;
}

/* The index of run's interval in c's configured intervals, or -1 when the run is of
 * another interval or another market than the audit's (market). */
static int run_interval(const struct cfg *c, const char *market, const struct store_sync_run *run)
{
	if (strcmp(run->market, market))
		return -1;
	for (size_t k = 0; k < c->nintervals; k++)
		if (!strcmp(run->interval, c->intervals[k]))
			return (int)k;
	return -1;
}

/* Counts the runs of the period per day (those of the audit's market and configured
 * intervals), lists the bad ones, and collects the exchange times of the successful
 * ones into ok[] (*nok of them, with their interval) and the last one before the
 * period's end into *last_ok. */
static int runs_tally(struct audit_report *r, const struct cfg *c, const char *market,
		      const struct store_sync_run *runs, size_t nruns, const struct xrun *x,
		      struct ok_run *ok, int64_t *nok, int64_t *last_ok, struct ck_err *err)
{
	int rc;

	for (size_t i = 0; i < nruns; i++) {
		int d = day_of(r, x[i].at), k = run_interval(c, market, &runs[i]);
		if (k < 0)
			continue;
		if (runs[i].status == RUN_OK && x[i].at < r->to && x[i].at > *last_ok)
			*last_ok = x[i].at;
		if (d < 0)
			continue;
		r->runs_total++;
		if (runs[i].status == RUN_OK) {
			r->runs_ok++;
			r->day[d].runs_ok++;
			ok[*nok].at = x[i].at;
			ok[(*nok)++].k = k;
			continue;
		}
		r->day[d].runs_bad++;
		if ((rc = bad_add(r, &runs[i], &x[i], err)) != 0)
			return rc;
	}
	for (int64_t d = 0; d < r->days; d++)
		if (r->day[d].runs_ok)
			r->days_synced++;
	return 0;
}

/* A partial run has no run-wide error: name the symbols that failed. */
static void partial_errors(struct audit_report *r, const struct store_run_symbol *rs, size_t nrs)
{
	for (size_t i = 0; i < r->nbad; i++) {
		struct audit_run_item *b = &r->bad[i];
		if (b->error[0])
			continue;
		for (size_t k = 0; k < nrs; k++) {
			size_t len = strlen(b->error);
			if (rs[k].run_id != b->id || strcmp(rs[k].status, "failed"))
				continue;
			snprintf(b->error + len, sizeof(b->error) - len, "%s%s: %s",
				 len ? "; " : "", rs[k].symbol, rs[k].error);
		}
	}
}

/* ---- availability -------------------------------------------------------------- */

static int cmp_ok_run(const void *a, const void *b)
{
	const struct ok_run *x = a, *y = b;
	if (x->k != y->k)
		return x->k < y->k ? -1 : 1;
	return x->at < y->at ? -1 : x->at > y->at;
}

/* Each scheduled sync (cron [schedule] sync, else every interval) is met by a successful
 * run of every configured interval (ok, nok of them, sorted here) before the next one:
 * a 4h run does not stand for the 1h one that failed. */
static void availability(struct audit_report *r, const struct cfg *c, struct ok_run *ok,
			 int64_t nok)
{
	int64_t iv = c->interval_ms;
	struct sched_cron cron;
	int use_cron = c->sched_sync && *c->sched_sync && !sched_parse(c->sched_sync, &cron, NULL);
	int64_t s, next;
	size_t first[CK_INTERVALS_MAX + 1], j[CK_INTERVALS_MAX], nk = c->nintervals, k, i;

	snprintf(r->schedule, sizeof(r->schedule), "%s",
		 use_cron ? c->sched_sync : "every interval");
	if (nk > CK_INTERVALS_MAX)
		nk = CK_INTERVALS_MAX;
	/* by interval, then time: interval k's runs are ok[first[k] .. first[k + 1]) */
	qsort(ok, (size_t)nok, sizeof(*ok), cmp_ok_run);
	for (k = 0, i = 0; k <= nk; k++) {
		while (i < (size_t)nok && ok[i].k < (int)k)
			i++;
		first[k] = i;
		if (k < nk)
			j[k] = i;
	}
	first[nk] = (size_t)nok;
	if (use_cron) {
		if (sched_next(&cron, r->from - 1, &s))
			s = r->to;
	} else {
		s = interval_ceil(iv, r->from);
	}
	while (s < r->to) {
		int d = day_of(r, s);
		if (use_cron) {
			if (sched_next(&cron, s, &next))
				next = INT64_MAX;
		} else {
			next = interval_add(iv, s, 1);
		}
		int met = 1;
		for (k = 0; k < nk; k++) {
			while (j[k] < first[k + 1] && ok[j[k]].at < s)
				j[k]++;
			met &= j[k] < first[k + 1] && ok[j[k]].at < next && ok[j[k]].at < r->to;
		}
		r->slots++;
		r->day[d].slots++;
		if (met) {
			r->slots_met++;
			r->day[d].slots_met++;
		}
		s = next;
	}
}

/* ---- verdicts ------------------------------------------------------------------- */

/* One target per row of audit.h's list, met or not, with what was measured. */
static void verdicts(struct audit_report *r, const struct cfg *c)
{
	char a[32], b[32], tgt[64], det[256];
	double want = strtod(c->sla_availability, NULL);
	double have = r->slots ? 100.0 * (double)r->slots_met / (double)r->slots : 0.0;
	const struct audit_symbol *wl = NULL, *wa = NULL;
	int64_t missing = 0, holes = 0;

	snprintf(tgt, sizeof(tgt), ">= %s%%", c->sla_availability);
	snprintf(det, sizeof(det),
		 "%" PRId64 "/%" PRId64 " scheduled syncs (%s) followed by a"
		 " successful sync before the next",
		 r->slots_met, r->slots, r->schedule);
	target_set(r, "availability", r->slots && have >= want, tgt, det, "%.2f%%", have);

	for (size_t i = 0; i < r->nsym; i++) {
		if (!wl || r->sym[i].lag_p99_ms > wl->lag_p99_ms)
			wl = &r->sym[i];
		if (!wa || r->sym[i].age_worst_ms > wa->age_worst_ms)
			wa = &r->sym[i];
		missing += r->sym[i].missing;
		holes += r->sym[i].holes;
	}
	snprintf(tgt, sizeof(tgt), "<= %s",
		 dur_format(c->sla_rpo_s * 1000, DUR_CLOCK, a, sizeof(a)));
	snprintf(det, sizeof(det),
		 "p99 staleness (closed candles not yet stored) of the worst"
		 " symbol%s%s; worst %s",
		 wl ? ", " : "", wl ? wl->symbol : "",
		 dur_format(wl ? wl->lag_worst_ms : 0, DUR_CLOCK, b, sizeof(b)));
	target_set(r, "rpo", wl && wl->samples && wl->lag_p99_ms <= c->sla_rpo_s * 1000, tgt, det,
		   "%s", dur_format(wl ? wl->lag_p99_ms : 0, DUR_CLOCK, a, sizeof(a)));

	snprintf(tgt, sizeof(tgt), "<= %s",
		 dur_format(c->sla_rto_s * 1000, DUR_CLOCK, a, sizeof(a)));
	if (r->drill_done)
		snprintf(det, sizeof(det), "restore drill of %s: %s",
			 r->drill_location[0] ? r->drill_location : "(none)", r->drill_detail);
	else
		snprintf(det, sizeof(det), "no restore drill run (--no-drill)");
	target_set(r, "rto",
		   r->drill_done && r->drill_ok && r->drill_seconds <= (double)c->sla_rto_s, tgt,
		   det, "%.1f s", r->drill_seconds);
	if (!r->drill_done)
		snprintf(r->target[r->ntarget - 1].measured, sizeof(r->target[0].measured),
			 "not measured");
	else if (!r->drill_ok)
		snprintf(r->target[r->ntarget - 1].measured, sizeof(r->target[0].measured),
			 "failed");

	snprintf(tgt, sizeof(tgt), "<= %s",
		 dur_format(c->stale_crit_s * 1000, DUR_CLOCK, a, sizeof(a)));
	snprintf(det, sizeof(det),
		 "worst age of the newest stored candle%s%s ([health]"
		 " stale_crit)",
		 wa ? ", " : "", wa ? wa->symbol : "");
	target_set(r, "freshness", wa && wa->samples && wa->age_worst_ms <= c->stale_crit_s * 1000,
		   tgt, det, "%s", dur_format(wa ? wa->age_worst_ms : 0, DUR_CLOCK, a, sizeof(a)));

	snprintf(det, sizeof(det),
		 "candles missing in the period (%" PRId64 " in confirmed"
		 " exchange holes not counted)",
		 holes);
	target_set(r, "completeness", missing == 0, "0 missing", det, "%" PRId64 " missing",
		   missing);
	/* no state known in the period: say so rather than "0s" */
	for (size_t i = 0; i < r->ntarget; i++)
		if ((!strcmp(r->target[i].name, "rpo") && !(wl && wl->samples)) ||
		    (!strcmp(r->target[i].name, "freshness") && !(wa && wa->samples)))
			snprintf(r->target[i].measured, sizeof(r->target[i].measured), "no data");
}

/* Several intervals ([main] intervals): the per-symbol part once per interval, on a copy
 * of the configuration switched to it, judged by that interval's runs of the configured
 * market only (x filtered; a symbol outcome is found through its run). The entries are
 * named "SYMBOL/INTERVAL", interval by interval in the configured order. */
/* 1 when symbols = all and the stored listing says sym stopped trading: judged only up
 * to its delisting. */
static int symbol_gone(const struct cfg *c, const struct listing *l, const char *sym)
{
	const struct listing_entry *le = listing_find(l, sym);
	return c->symbols && !strcmp(c->symbols, "all") && le && !listing_trading(le);
}

static int per_interval(struct store *st, const struct cfg *c, struct audit_report *r,
			const struct xrun *x, size_t nx, const struct store_run_symbol *rs,
			size_t nrs, const struct listing *l, int64_t *fresh_n, int64_t *known_n,
			struct ck_err *err)
{
	struct xrun *xk = calloc(nx ? nx : 1, sizeof(*xk));
	int rc = 0;

	if (!xk)
		return ck_err_set(err, CK_ENOMEM, "audit: out of memory");
	for (size_t k = 0; k < c->nintervals && !rc; k++) {
		struct cfg one = *c; /* borrows c's strings; never released */
		char **syms = NULL;
		size_t nsyms = 0, nk = 0;
		int64_t last_ok = 0;
		struct audit_symbol *grown;

		cfg_interval_use(&one, k);
		for (size_t j = 0; j < nx; j++)
			if (!strcmp(x[j].r->interval, one.interval) &&
			    !strcmp(x[j].r->market, store_market(st))) {
				xk[nk] = x[j];
				if (x[j].r->status == RUN_OK && x[j].at < r->to &&
				    x[j].at > last_ok)
					last_ok = x[j].at;
				nk++;
			}
		if ((rc = symbols_of(&one, xk, nk, rs, nrs, r, &syms, &nsyms, err)) != 0)
			break;
		if (nsyms && !(grown = realloc(r->sym, (r->nsym + nsyms) * sizeof(*r->sym)))) {
			cfg_symbols_free(syms, nsyms);
			rc = ck_err_set(err, CK_ENOMEM, "audit: out of memory");
			break;
		}
		if (nsyms)
			r->sym = grown;
		for (size_t i = 0; i < nsyms && !rc; i++) {
			struct audit_symbol *s = &r->sym[r->nsym++];
			memset(s, 0, sizeof(*s));
			int gone = symbol_gone(c, l, syms[i]);
			snprintf(s->symbol, sizeof(s->symbol), "%s", syms[i]);
			if ((rc = staleness(r, &one, s, xk, nk, rs, nrs, gone, fresh_n, known_n,
					    err)) == 0)
				rc = completeness(st, &one, s, r->from, last_ok, gone, err);
			/* named with its interval once measured (the store knows it by symbol) */
			snprintf(s->symbol, sizeof(s->symbol), "%s/%s", syms[i], one.interval);
		}
		cfg_symbols_free(syms, nsyms);
	}
	free(xk);
	return rc;
}

int audit_run(struct store *st, const struct cfg *c, const struct audit_opts *o,
	      struct audit_report *r, struct ck_err *err)
{
	struct store_sync_run *runs = NULL;
	struct store_run_symbol *rs = NULL;
	struct xrun *x = NULL;
	size_t nruns = 0, nrs = 0, nsyms = 0;
	char **syms = NULL;
	struct ok_run *ok = NULL;
	int64_t *fresh_n = NULL, *known_n = NULL, nok = 0, last_ok = 0;
	struct listing l = {0, NULL, 0}; /* symbols = all: which stopped trading */
	int rc = 0;

	memset(r, 0, sizeof(*r));
	r->all_met = 1;
	if (o->days < 1 || o->days > AUDIT_DAYS_MAX)
		return ck_err_set(err, CK_EUSAGE, "audit: --days %" PRId64 " out of range 1..%d",
				  o->days, AUDIT_DAYS_MAX);
	r->days = o->days;
	r->to = o->now_ms;
	r->from = r->to - o->days * DAY_MS;
	if (!(r->day = calloc((size_t)r->days, sizeof(*r->day))) ||
	    !(fresh_n = calloc((size_t)r->days, sizeof(*fresh_n))) ||
	    !(known_n = calloc((size_t)r->days, sizeof(*known_n)))) {
		rc = ck_err_set(err, CK_ENOMEM, "audit: out of memory");
		goto out;
	}
	for (int64_t d = 0; d < r->days; d++)
		r->day[d].start = r->from + d * DAY_MS;

	/* Runs, placed on the exchange's clock. */
	if ((rc = store_health_sync_runs(st, &runs, &nruns, err)) != 0 ||
	    (rc = store_health_all_run_symbols(st, 0, &rs, &nrs, err)) != 0)
		goto out;
	if (!(x = calloc(nruns ? nruns : 1, sizeof(*x))) ||
	    !(ok = calloc(nruns ? nruns : 1, sizeof(*ok)))) {
		rc = ck_err_set(err, CK_ENOMEM, "audit: out of memory");
		goto out;
	}
	runs_place(runs, nruns, x);
	if ((rc = runs_tally(r, c, store_market(st), runs, nruns, x, ok, &nok, &last_ok, err)) != 0)
		goto out;
	partial_errors(r, rs, nrs);
	availability(r, c, ok, nok);

	/* Per symbol: staleness over time and completeness. */
	if ((rc = listing_load(st, &l, err)) != 0)
		goto out;
	if (c->nintervals > 1) {
		if ((rc = per_interval(st, c, r, x, nruns, rs, nrs, &l, fresh_n, known_n, err)) !=
		    0)
			goto out;
	} else {
		if ((rc = symbols_of(c, x, nruns, rs, nrs, r, &syms, &nsyms, err)) != 0)
			goto out;
		if (nsyms && !(r->sym = calloc(nsyms, sizeof(*r->sym)))) {
			rc = ck_err_set(err, CK_ENOMEM, "audit: out of memory");
			goto out;
		}
		for (size_t i = 0; i < nsyms; i++) {
			struct audit_symbol *s = &r->sym[r->nsym++];
			int gone = symbol_gone(c, &l, syms[i]);
			snprintf(s->symbol, sizeof(s->symbol), "%s", syms[i]);
			if ((rc = staleness(r, c, s, x, nruns, rs, nrs, gone, fresh_n, known_n,
					    err)) != 0 ||
			    (rc = completeness(st, c, s, r->from, last_ok, gone, err)) != 0)
				goto out;
		}
	}
	for (int64_t d = 0; d < r->days; d++)
		r->day[d].fresh_pct =
			known_n[d] ? 100.0 * (double)fresh_n[d] / (double)known_n[d] : -1.0;

	if ((rc = backups(st, c, r, err)) != 0)
		goto out;
	if (o->drill)
		drill(st, c, o, r);

	verdicts(r, c);
out:
	if (syms)
		cfg_symbols_free(syms, nsyms);
	listing_release(&l);
	free(fresh_n);
	free(known_n);
	free(ok);
	free(x);
	free(rs);
	free(runs);
	if (rc)
		audit_report_release(r);
	return rc;
}

void audit_report_release(struct audit_report *r)
{
	if (!r)
		return;
	for (size_t i = 0; i < r->nsym; i++)
		free(r->sym[i].gaps);
	free(r->sym);
	free(r->day);
	free(r->bad);
	memset(r, 0, sizeof(*r));
}
