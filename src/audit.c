/* audit.c — the SLA audit (see audit.h for the definitions it measures). */
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
#include "event.h"
#include "kline.h"
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

static int64_t align_down(int64_t t, int64_t iv)
{
	int64_t r = t % iv;
	return r < 0 ? t - r - iv : t - r;
}

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

/* "3d4h", "5h05m", "42m", "17s" */
static const char *dur_str(int64_t ms, char *buf, size_t size)
{
	int64_t s = ms / 1000;
	if (s < 0)
		s = 0;
	if (s >= 86400)
		snprintf(buf, size, "%" PRId64 "d%02" PRId64 "h%02" PRId64 "m", s / 86400,
			 s % 86400 / 3600, s % 3600 / 60);
	else if (s >= 3600)
		snprintf(buf, size, "%" PRId64 "h%02" PRId64 "m", s / 3600, s % 3600 / 60);
	else if (s >= 60)
		snprintf(buf, size, "%" PRId64 "m%02" PRId64 "s", s / 60, s % 60);
	else
		snprintf(buf, size, "%" PRId64 "s", s);
	return buf;
}

static const char *day_str(int64_t ms, char *buf, size_t size)
{
	char t[32];
	kline_time_str(ms, t, sizeof(t));
	snprintf(buf, size, "%.10s", t);
	return buf;
}

/* ---- runs on the exchange's clock ---------------------------------------------- */

struct xrun {
	const struct store_sync_run *r;
	int64_t at, end;  /* ms, exchange clock */
	int estimated;
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
			x[i].at = v[prev].server_time +
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
		     int64_t *fresh_n, int64_t *known_n, struct ck_err *err)
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
		while (e < nev && ev[e].end <= t) {
			if (ev[e].newest > held)
				held = ev[e].newest;
			e++;
		}
		if (!held)
			continue; /* nothing held yet: unknown */
		age = t - (held + iv);
		lag = t - (held + 2 * iv);
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
	p[s->ngaps].count = (b - a) / iv + 1;
	s->ngaps++;
	return 0;
}

static int completeness(struct store *st, const struct cfg *c, struct audit_symbol *s,
			int64_t from, int64_t cutoff, struct ck_err *err)
{
	int64_t iv = c->interval_ms, lo = (from + iv - 1) / iv * iv, hi, first, last;
	struct store_symbol sy;
	struct store_gap *g = NULL;
	size_t n = 0;

	/* the newest candle closed by the newest successful sync */
	hi = cutoff ? align_down(cutoff, iv) - iv : lo - iv;
	if (store_symbol_get(st, s->symbol, c->interval, &sy, err))
		return err->code;
	if (sy.first_open > lo)
		lo = sy.first_open; /* listed during the period */
	if (hi < lo)
		return 0;
	s->expected = (hi - lo) / iv + 1;
	if (store_health_count_range(st, s->symbol, c->interval, lo, hi, &s->stored, err) ||
	    store_health_hole_candles(st, s->symbol, c->interval, iv, lo, hi, &s->holes, err) ||
	    store_health_bounds_range(st, s->symbol, c->interval, lo, hi, &first, &last, err))
		return err->code;
	s->missing = s->expected - s->stored - s->holes;
	if (s->missing < 0)
		s->missing = 0;
	if (!s->missing)
		return 0;
	if (!first) /* nothing stored in the period */
		return gap_add(s, lo, hi, iv, err);
	if (first > lo && gap_add(s, lo, first - iv, iv, err))
		return err->code;
	if (store_health_gaps(st, s->symbol, c->interval, iv, lo, hi, &g, &n, err))
		return err->code;
	for (size_t i = 0; i < n; i++)
		if (!g[i].confirmed && gap_add(s, g[i].first, g[i].last, iv, err)) {
			free(g);
			return err->code;
		}
	free(g);
	if (last < hi && gap_add(s, last + iv, hi, iv, err))
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
			snprintf(a->note, sizeof(a->note), "no verified backup kept (retention must"
				 " keep the newest verified one)");
		} else if (a->oldest_kept_ms && a->oldest_kept_ms != a->newest_verified_ms &&
			   r->to - a->oldest_kept_ms > (a->retention_days + 1) * DAY_MS) {
			char d[32];
			a->compliant = 0;
			snprintf(a->note, sizeof(a->note), "keeps a backup from %s, older than %" PRId64
				 " days", day_str(a->oldest_kept_ms, d, sizeof(d)), a->retention_days);
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
		snprintf(r->drill_detail, sizeof(r->drill_detail), "cannot create a temp dir in %s:"
			 " %s", base && *base ? base : "/tmp", strerror(errno));
		return;
	}
	snprintf(path, sizeof(path), "%s/restore.db", dir);
	memset(&used, 0, sizeof(used));
	t0 = mono_ms();
	if (backup_restore_to(st, c, path, &used, &err) == 0 &&
	    store_open(&rs, path, STORE_RDONLY, &err) == 0) {
		char detail[256] = "";
		int fin = 0;
		if (store_health_check(rs, 1, 0, &ok, &fin, detail, sizeof(detail), &err) == 0 && ok &&
		    store_count(rs, c->interval, &count, &err) == 0) {
			r->drill_ok = 1;
		} else if (!err.msg[0]) {
			snprintf(err.msg, sizeof(err.msg), "restored copy fails integrity_check: %s", detail);
		}
	}
	store_close(rs);
	r->drill_seconds = (double)(mono_ms() - t0) / 1000.0;
	snprintf(r->drill_location, sizeof(r->drill_location), "%s", used.location);
	if (r->drill_ok)
		snprintf(r->drill_detail, sizeof(r->drill_detail), "restored and verified"
			 " (integrity_check ok, %" PRId64 " candles)", count);
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
			    used.location[0] ? used.location : "",
			    r->drill_seconds, r->drill_detail, &err))
		snprintf(r->drill_detail + strlen(r->drill_detail),
			 sizeof(r->drill_detail) - strlen(r->drill_detail),
			 " (not recorded: %s)", err.msg);
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

int audit_run(struct store *st, const struct cfg *c, const struct audit_opts *o,
	      struct audit_report *r, struct ck_err *err)
{
	struct store_sync_run *runs = NULL;
	struct store_run_symbol *rs = NULL;
	struct xrun *x = NULL;
	size_t nruns = 0, nrs = 0, nsyms = 0;
	char **syms = NULL;
	int64_t *ok_at = NULL, *fresh_n = NULL, *known_n = NULL, nok = 0, last_ok = 0;
	int64_t iv = c->interval_ms;
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
	    !(ok_at = calloc(nruns ? nruns : 1, sizeof(*ok_at)))) {
		rc = ck_err_set(err, CK_ENOMEM, "audit: out of memory");
		goto out;
	}
	runs_place(runs, nruns, x);
	for (size_t i = 0; i < nruns; i++) {
		int d = day_of(r, x[i].at);
		if (runs[i].status == RUN_OK && x[i].at < r->to && x[i].at > last_ok)
			last_ok = x[i].at;
		if (d < 0)
			continue;
		r->runs_total++;
		if (runs[i].status == RUN_OK) {
			r->runs_ok++;
			r->day[d].runs_ok++;
			ok_at[nok++] = x[i].at;
			continue;
		}
		r->day[d].runs_bad++;
		if (r->nbad < BAD_RUNS_MAX) {
			struct audit_run_item *p = realloc(r->bad, (r->nbad + 1) * sizeof(*p));
			if (!p) {
				rc = ck_err_set(err, CK_ENOMEM, "audit: out of memory");
				goto out;
			}
			r->bad = p;
			p += r->nbad++;
			memset(p, 0, sizeof(*p));
			p->id = runs[i].id;
			snprintf(p->command, sizeof(p->command), "%s", runs[i].command);
			p->at = x[i].at;
			p->estimated = x[i].estimated;
			p->status = runs[i].status;
			snprintf(p->error, sizeof(p->error), "%s", runs[i].status == RUN_RUNNING &&
				 !runs[i].ended ? "never ended (killed or crashed)" : runs[i].error);
		}
	}
	for (int64_t d = 0; d < r->days; d++)
		if (r->day[d].runs_ok)
			r->days_synced++;
	/* A partial run has no run-wide error: name the symbols that failed. */
	for (size_t i = 0; i < r->nbad; i++) {
		struct audit_run_item *b = &r->bad[i];
		if (b->error[0])
			continue;
		for (size_t k = 0; k < nrs; k++) {
			size_t len = strlen(b->error);
			if (rs[k].run_id != b->id || strcmp(rs[k].status, "failed"))
				continue;
			snprintf(b->error + len, sizeof(b->error) - len, "%s%s: %s", len ? "; " : "",
				 rs[k].symbol, rs[k].error);
		}
	}

	/* Availability: each scheduled sync met by a successful run before the next. */
	{
		struct sched_cron cron;
		int use_cron = c->sched_sync && *c->sched_sync && !sched_parse(c->sched_sync, &cron, NULL);
		int64_t s, next;
		size_t j = 0;

		snprintf(r->schedule, sizeof(r->schedule), "%s", use_cron ? c->sched_sync
			 : "every interval");
		qsort(ok_at, (size_t)nok, sizeof(*ok_at), cmp_i64);
		if (use_cron) {
			if (sched_next(&cron, r->from - 1, &s))
				s = r->to;
		} else {
			s = (r->from + iv - 1) / iv * iv;
		}
		while (s < r->to) {
			int d = day_of(r, s);
			if (use_cron) {
				if (sched_next(&cron, s, &next))
					next = INT64_MAX;
			} else {
				next = s + iv;
			}
			while (j < (size_t)nok && ok_at[j] < s)
				j++;
			r->slots++;
			r->day[d].slots++;
			if (j < (size_t)nok && ok_at[j] < next && ok_at[j] < r->to) {
				r->slots_met++;
				r->day[d].slots_met++;
			}
			s = next;
		}
	}

	/* Per symbol: staleness over time and completeness. */
	if ((rc = symbols_of(c, x, nruns, rs, nrs, r, &syms, &nsyms, err)) != 0)
		goto out;
	if (nsyms && !(r->sym = calloc(nsyms, sizeof(*r->sym)))) {
		rc = ck_err_set(err, CK_ENOMEM, "audit: out of memory");
		goto out;
	}
	for (size_t i = 0; i < nsyms; i++) {
		struct audit_symbol *s = &r->sym[r->nsym++];
		snprintf(s->symbol, sizeof(s->symbol), "%s", syms[i]);
		if ((rc = staleness(r, c, s, x, nruns, rs, nrs, fresh_n, known_n, err)) != 0 ||
		    (rc = completeness(st, c, s, r->from, last_ok, err)) != 0)
			goto out;
	}
	for (int64_t d = 0; d < r->days; d++)
		r->day[d].fresh_pct = known_n[d] ? 100.0 * (double)fresh_n[d] / (double)known_n[d]
						 : -1.0;

	if ((rc = backups(st, c, r, err)) != 0)
		goto out;
	if (o->drill)
		drill(st, c, o, r);

	/* Verdicts. */
	{
		char a[32], b[32], tgt[64], det[256];
		double want = strtod(c->sla_availability, NULL);
		double have = r->slots ? 100.0 * (double)r->slots_met / (double)r->slots : 0.0;
		const struct audit_symbol *wl = NULL, *wa = NULL;
		int64_t missing = 0, holes = 0;

		snprintf(tgt, sizeof(tgt), ">= %s%%", c->sla_availability);
		snprintf(det, sizeof(det), "%" PRId64 "/%" PRId64 " scheduled syncs (%s) followed by a"
			 " successful sync before the next", r->slots_met, r->slots, r->schedule);
		target_set(r, "availability", r->slots && have >= want, tgt, det, "%.2f%%", have);

		for (size_t i = 0; i < r->nsym; i++) {
			if (!wl || r->sym[i].lag_p99_ms > wl->lag_p99_ms)
				wl = &r->sym[i];
			if (!wa || r->sym[i].age_worst_ms > wa->age_worst_ms)
				wa = &r->sym[i];
			missing += r->sym[i].missing;
			holes += r->sym[i].holes;
		}
		snprintf(tgt, sizeof(tgt), "<= %s", dur_str(c->sla_rpo_s * 1000, a, sizeof(a)));
		snprintf(det, sizeof(det), "p99 staleness (closed candles not yet stored) of the worst"
			 " symbol%s%s; worst %s", wl ? ", " : "", wl ? wl->symbol : "",
			 dur_str(wl ? wl->lag_worst_ms : 0, b, sizeof(b)));
		target_set(r, "rpo", wl && wl->samples && wl->lag_p99_ms <= c->sla_rpo_s * 1000, tgt,
			   det, "%s", dur_str(wl ? wl->lag_p99_ms : 0, a, sizeof(a)));

		snprintf(tgt, sizeof(tgt), "<= %s", dur_str(c->sla_rto_s * 1000, a, sizeof(a)));
		if (r->drill_done)
			snprintf(det, sizeof(det), "restore drill of %s: %s",
				 r->drill_location[0] ? r->drill_location : "(none)", r->drill_detail);
		else
			snprintf(det, sizeof(det), "no restore drill run (--no-drill)");
		target_set(r, "rto", r->drill_done && r->drill_ok &&
			   r->drill_seconds <= (double)c->sla_rto_s, tgt, det, "%.1f s",
			   r->drill_seconds);
		if (!r->drill_done)
			snprintf(r->target[r->ntarget - 1].measured, sizeof(r->target[0].measured),
				 "not measured");
		else if (!r->drill_ok)
			snprintf(r->target[r->ntarget - 1].measured, sizeof(r->target[0].measured),
				 "failed");

		snprintf(tgt, sizeof(tgt), "<= %s", dur_str(c->stale_crit_s * 1000, a, sizeof(a)));
		snprintf(det, sizeof(det), "worst age of the newest stored candle%s%s ([health]"
			 " stale_crit)", wa ? ", " : "", wa ? wa->symbol : "");
		target_set(r, "freshness", wa && wa->samples && wa->age_worst_ms <= c->stale_crit_s * 1000,
			   tgt, det, "%s", dur_str(wa ? wa->age_worst_ms : 0, a, sizeof(a)));

		snprintf(det, sizeof(det), "candles missing in the period (%" PRId64 " in confirmed"
			 " exchange holes not counted)", holes);
		target_set(r, "completeness", missing == 0, "0 missing", det, "%" PRId64 " missing",
			   missing);
		/* no state known in the period: say so rather than "0s" */
		for (size_t i = 0; i < r->ntarget; i++)
			if ((!strcmp(r->target[i].name, "rpo") && !(wl && wl->samples)) ||
			    (!strcmp(r->target[i].name, "freshness") && !(wa && wa->samples)))
				snprintf(r->target[i].measured, sizeof(r->target[i].measured), "no data");
	}
out:
	if (syms)
		cfg_symbols_free(syms, nsyms);
	free(fresh_n);
	free(known_n);
	free(ok_at);
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

/* ---- text ---------------------------------------------------------------------------- */

int audit_print_text(const struct audit_report *r, const struct cfg *c, FILE *f)
{
	char a[32], b[32], d[32];

	fprintf(f, "SLA audit %s .. %s UTC (%" PRId64 " days)\n", kline_time_str(r->from, a, sizeof(a)),
		kline_time_str(r->to, b, sizeof(b)), r->days);
	fprintf(f, "verdict: %s\n", r->all_met ? "all targets met" : "targets breached");
	for (size_t i = 0; i < r->ntarget; i++)
		fprintf(f, "  %-12s %-8s %-14s target %-10s %s\n", r->target[i].name,
			r->target[i].met ? "MET" : "BREACHED", r->target[i].measured,
			r->target[i].target, r->target[i].detail);

	fprintf(f, "\nsync coverage: %" PRId64 "/%" PRId64 " days with a successful sync; %" PRId64
		" runs (%" PRId64 " ok, %zu failed/timed out/partial); scheduled syncs met %" PRId64
		"/%" PRId64 "\n", r->days_synced, r->days, r->runs_total, r->runs_ok, r->nbad,
		r->slots_met, r->slots);
	for (int64_t i = 0; i < r->days; i++)
		if (!r->day[i].runs_ok)
			fprintf(f, "  no successful sync on %s\n", day_str(r->day[i].start, d, sizeof(d)));
	for (size_t i = 0; i < r->nbad; i++)
		fprintf(f, "  run %-6" PRId64 " %-8s %s%s UTC  %-8s %s\n", r->bad[i].id, r->bad[i].command,
			r->bad[i].estimated ? "~" : "", kline_time_str(r->bad[i].at, a, sizeof(a)),
			run_status_name(r->bad[i].status), r->bad[i].error);

	fprintf(f, "\nstaleness per symbol (lag: how long a closed candle waited to be stored;"
		" RPO %s):\n", dur_str(c->sla_rpo_s * 1000, a, sizeof(a)));
	fprintf(f, "  %-16s %12s %12s %12s\n", "symbol", "worst lag", "p99 lag", "worst age");
	for (size_t i = 0; i < r->nsym; i++) {
		char w[32];
		if (!r->sym[i].samples) {
			fprintf(f, "  %-16s %12s\n", r->sym[i].symbol, "no data");
			continue;
		}
		fprintf(f, "  %-16s %12s %12s %12s\n", r->sym[i].symbol,
			dur_str(r->sym[i].lag_worst_ms, a, sizeof(a)),
			dur_str(r->sym[i].lag_p99_ms, b, sizeof(b)),
			dur_str(r->sym[i].age_worst_ms, w, sizeof(w)));
	}

	fprintf(f, "\ncompleteness (candles closed by the newest successful sync):\n");
	fprintf(f, "  %-16s %9s %9s %9s %9s\n", "symbol", "expected", "stored", "holes", "missing");
	for (size_t i = 0; i < r->nsym; i++) {
		const struct audit_symbol *s = &r->sym[i];
		fprintf(f, "  %-16s %9" PRId64 " %9" PRId64 " %9" PRId64 " %9" PRId64 "\n", s->symbol,
			s->expected, s->stored, s->holes, s->missing);
		for (size_t g = 0; g < s->ngaps; g++)
			fprintf(f, "    gap %s .. %s UTC (%" PRId64 " candles)\n",
				kline_time_str(s->gaps[g].first, a, sizeof(a)),
				kline_time_str(s->gaps[g].last, b, sizeof(b)), s->gaps[g].count);
	}

	fprintf(f, "\nbackups:\n");
	for (int t = 0; t < 3; t++) {
		const struct audit_tier *bt = &r->tier[t];
		if (!bt->configured) {
			fprintf(f, "  %-8s not configured\n", bt->tier);
			continue;
		}
		fprintf(f, "  %-8s %" PRId64 "/%" PRId64 " days with a verified backup; %" PRId64
			" kept (retention %" PRId64 " days: %s)%s%s\n", bt->tier, bt->days_with, r->days,
			bt->kept, bt->retention_days, bt->compliant ? "compliant" : "NOT compliant",
			bt->note[0] ? "; " : "", bt->note);
	}
	fprintf(f, "\nrestore drill: ");
	if (r->drill_done)
		fprintf(f, "%.1f s, %s%s%s\n", r->drill_seconds, r->drill_detail,
			r->drill_location[0] ? ", from " : "", r->drill_location);
	else
		fprintf(f, "not run\n");
	return ferror(f) ? CK_EIO : 0;
}

/* ---- JSON ------------------------------------------------------------------------------ */

int audit_to_json(const struct audit_report *r, char **out, struct ck_err *err)
{
	json_t *o = json_object(), *t = json_array(), *bad = json_array(), *sy = json_array(),
	       *days = json_array(), *tiers = json_array();
	char a[32];

	*out = NULL;
	if (!o || !t || !bad || !sy || !days || !tiers)
		goto oom;
	json_object_set_new(o, "from", json_string(utc_iso(r->from, a, sizeof(a))));
	json_object_set_new(o, "to", json_string(utc_iso(r->to, a, sizeof(a))));
	json_object_set_new(o, "days", json_integer(r->days));
	json_object_set_new(o, "all_met", json_boolean(r->all_met));
	for (size_t i = 0; i < r->ntarget; i++)
		json_array_append_new(t, json_pack("{s:s, s:b, s:s, s:s, s:s}", "name", r->target[i].name,
						   "met", r->target[i].met, "measured",
						   r->target[i].measured, "target", r->target[i].target,
						   "detail", r->target[i].detail));
	json_object_set(o, "targets", t);
	json_object_set_new(o, "sync", json_pack("{s:I, s:I, s:I, s:I, s:I, s:I, s:s}",
						 "days_synced", (json_int_t)r->days_synced,
						 "days", (json_int_t)r->days,
						 "runs", (json_int_t)r->runs_total,
						 "runs_ok", (json_int_t)r->runs_ok,
						 "scheduled", (json_int_t)r->slots,
						 "scheduled_met", (json_int_t)r->slots_met,
						 "schedule", r->schedule));
	for (size_t i = 0; i < r->nbad; i++)
		json_array_append_new(bad, json_pack("{s:I, s:s, s:s, s:b, s:s, s:s}", "id",
						     (json_int_t)r->bad[i].id, "command", r->bad[i].command,
						     "at", utc_iso(r->bad[i].at, a, sizeof(a)),
						     "estimated", r->bad[i].estimated, "status",
						     run_status_name(r->bad[i].status), "error",
						     r->bad[i].error));
	json_object_set(o, "failed_runs", bad);
	for (size_t i = 0; i < r->nsym; i++) {
		const struct audit_symbol *s = &r->sym[i];
		json_t *g = json_array(), *e;
		for (size_t k = 0; g && k < s->ngaps; k++) {
			char b[32];
			json_array_append_new(g, json_pack("{s:s, s:s, s:I}", "first",
							   utc_iso(s->gaps[k].first, a, sizeof(a)), "last",
							   utc_iso(s->gaps[k].last, b, sizeof(b)), "count",
							   (json_int_t)s->gaps[k].count));
		}
		e = json_pack("{s:s, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:o}", "symbol", s->symbol,
			      "samples", (json_int_t)s->samples,
			      "lag_worst_s", (json_int_t)(s->lag_worst_ms / 1000),
			      "lag_p99_s", (json_int_t)(s->lag_p99_ms / 1000),
			      "age_worst_s", (json_int_t)(s->age_worst_ms / 1000),
			      "expected", (json_int_t)s->expected, "stored", (json_int_t)s->stored,
			      "holes", (json_int_t)s->holes, "missing", (json_int_t)s->missing,
			      "gaps", g ? g : json_array());
		json_array_append_new(sy, e);
	}
	json_object_set(o, "symbols", sy);
	for (int64_t i = 0; i < r->days; i++) {
		const struct audit_day *d = &r->day[i];
		json_array_append_new(days, json_pack("{s:s, s:I, s:I, s:I, s:I, s:I, s:f, s:b, s:b, s:b}",
						      "day", day_str(d->start, a, sizeof(a)),
						      "scheduled", (json_int_t)d->slots,
						      "scheduled_met", (json_int_t)d->slots_met,
						      "runs_ok", (json_int_t)d->runs_ok,
						      "runs_failed", (json_int_t)d->runs_bad,
						      "lag_worst_s", (json_int_t)(d->lag_worst_ms / 1000),
						      "fresh_pct", d->fresh_pct, "backup_hot",
						      d->backups[0], "backup_warm", d->backups[1],
						      "backup_offsite", d->backups[2]));
	}
	json_object_set(o, "daily", days);
	for (int i = 0; i < 3; i++) {
		const struct audit_tier *bt = &r->tier[i];
		json_array_append_new(tiers, json_pack("{s:s, s:b, s:I, s:I, s:I, s:b, s:s}", "tier",
						       bt->tier, "configured", bt->configured,
						       "days_with_verified", (json_int_t)bt->days_with,
						       "kept", (json_int_t)bt->kept, "retention_days",
						       (json_int_t)bt->retention_days, "compliant",
						       bt->compliant, "note", bt->note));
	}
	json_object_set(o, "backups", tiers);
	json_object_set_new(o, "restore_drill",
			    json_pack("{s:b, s:b, s:f, s:s, s:s}", "done", r->drill_done, "ok",
				      r->drill_ok, "seconds", r->drill_seconds, "backup",
				      r->drill_location, "detail", r->drill_detail));
	*out = json_dumps(o, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
	json_decref(t);
	json_decref(bad);
	json_decref(sy);
	json_decref(days);
	json_decref(tiers);
	json_decref(o);
	if (!*out)
		return ck_err_set(err, CK_ENOMEM, "audit: out of memory formatting JSON");
	return 0;
oom:
	json_decref(t);
	json_decref(bad);
	json_decref(sy);
	json_decref(days);
	json_decref(tiers);
	json_decref(o);
	return ck_err_set(err, CK_ENOMEM, "audit: out of memory formatting JSON");
}

/* ---- HTML -------------------------------------------------------------------------------- */

static void html_esc(FILE *f, const char *s)
{
	for (; *s; s++) {
		switch (*s) {
		case '<': fputs("&lt;", f); break;
		case '>': fputs("&gt;", f); break;
		case '&': fputs("&amp;", f); break;
		case '"': fputs("&quot;", f); break;
		default: fputc(*s, f);
		}
	}
}

/* The chart: per day a bar of scheduled syncs met (%) and a line of time fresh (%),
 * days without a successful sync shaded; the worst lag per day as a second panel. */
static void html_chart(FILE *f, const struct audit_report *r, int64_t rpo_ms)
{
	const int W = 1080, H = 300, L = 48, R = 16, T = 20, B = 40, H2 = 120;
	double cw = (double)(W - L - R) / (double)r->days;
	int64_t lag_max = 0;
	char d[32];

	for (int64_t i = 0; i < r->days; i++)
		if (r->day[i].lag_worst_ms > lag_max)
			lag_max = r->day[i].lag_worst_ms;
	if (lag_max < 4 * 3600000)
		lag_max = 4 * 3600000;
	fprintf(f, "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%d\" height=\"%d\" "
		"viewBox=\"0 0 %d %d\" role=\"img\" aria-label=\"daily sync coverage and freshness\">\n",
		W, H + H2 + 30, W, H + H2 + 30);
	fprintf(f, "<rect x=\"0\" y=\"0\" width=\"%d\" height=\"%d\" fill=\"#fff\"/>\n", W, H + H2 + 30);
	/* grid and axis of the top panel: 0..100 % */
	for (int p = 0; p <= 100; p += 25) {
		double y = T + (double)(H - T - B) * (1.0 - p / 100.0);
		fprintf(f, "<line x1=\"%d\" x2=\"%d\" y1=\"%.1f\" y2=\"%.1f\" stroke=\"#e3e3e3\"/>"
			"<text x=\"%d\" y=\"%.1f\" font-size=\"11\" text-anchor=\"end\" fill=\"#555\">%d%%</text>\n",
			L, W - R, y, y, L - 6, y + 4, p);
	}
	for (int64_t i = 0; i < r->days; i++) {
		const struct audit_day *dy = &r->day[i];
		double x = L + cw * (double)i, h = (double)(H - T - B);
		double pct = dy->slots ? 100.0 * (double)dy->slots_met / (double)dy->slots : 0.0;
		if (!dy->runs_ok)
			fprintf(f, "<rect x=\"%.1f\" y=\"%d\" width=\"%.1f\" height=\"%d\" fill=\"#fde2e1\"/>\n",
				x, T, cw, H - T - B);
		fprintf(f, "<rect x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%.1f\" fill=\"%s\">"
			"<title>%s: %" PRId64 "/%" PRId64 " scheduled syncs met</title></rect>\n",
			x + cw * 0.15, T + h * (1.0 - pct / 100.0), cw * 0.7, h * pct / 100.0,
			pct >= 99.99 ? "#4c9a5b" : pct > 0 ? "#e0a030" : "#d04040",
			day_str(dy->start, d, sizeof(d)), dy->slots_met, dy->slots);
		if (i % 5 == 0 || i == r->days - 1)
			fprintf(f, "<text x=\"%.1f\" y=\"%d\" font-size=\"11\" text-anchor=\"middle\" "
				"fill=\"#555\">%s</text>\n", x + cw / 2, H - B + 16,
				day_str(dy->start, d, sizeof(d)) + 5);
	}
	/* freshness line */
	fputs("<polyline fill=\"none\" stroke=\"#2b6cb0\" stroke-width=\"2.5\" points=\"", f);
	for (int64_t i = 0; i < r->days; i++) {
		double pct = r->day[i].fresh_pct < 0 ? 0 : r->day[i].fresh_pct;
		fprintf(f, "%.1f,%.1f ", L + cw * ((double)i + 0.5),
			T + (double)(H - T - B) * (1.0 - pct / 100.0));
	}
	fputs("\"/>\n", f);
	for (int64_t i = 0; i < r->days; i++) {
		double pct = r->day[i].fresh_pct < 0 ? 0 : r->day[i].fresh_pct;
		fprintf(f, "<circle cx=\"%.1f\" cy=\"%.1f\" r=\"3\" fill=\"#2b6cb0\"><title>%s: fresh"
			" %.1f%% of the time</title></circle>\n", L + cw * ((double)i + 0.5),
			T + (double)(H - T - B) * (1.0 - pct / 100.0),
			day_str(r->day[i].start, d, sizeof(d)), pct);
	}
	/* legend */
	fprintf(f, "<g font-size=\"12\" fill=\"#333\"><rect x=\"%d\" y=\"4\" width=\"12\" height=\"10\" "
		"fill=\"#4c9a5b\"/><text x=\"%d\" y=\"13\">scheduled syncs met (%% of the day)</text>"
		"<line x1=\"%d\" x2=\"%d\" y1=\"9\" y2=\"9\" stroke=\"#2b6cb0\" stroke-width=\"2.5\"/>"
		"<text x=\"%d\" y=\"13\">time fresh (%%, newest candle within stale_warn)</text>"
		"<rect x=\"%d\" y=\"4\" width=\"12\" height=\"10\" fill=\"#fde2e1\"/>"
		"<text x=\"%d\" y=\"13\">no successful sync</text></g>\n",
		L, L + 16, L + 250, L + 270, L + 276, L + 590, L + 606);
	/* bottom panel: worst lag per day */
	{
		int y0 = H + 10, ph = H2 - 20;
		char h[32], hours[32];
		/* the axis label in whole hours, so that it fits left of the axis */
		snprintf(hours, sizeof(hours), "%" PRId64 "h", (lag_max + 3599999) / 3600000);
		fprintf(f, "<text x=\"%d\" y=\"%d\" font-size=\"12\" fill=\"#333\">worst staleness per day"
			" (how long a closed candle waited to be stored; red: over the RPO, %s)</text>\n",
			L, y0 - 4, dur_str(rpo_ms, h, sizeof(h)));
		fprintf(f, "<line x1=\"%d\" x2=\"%d\" y1=\"%d\" y2=\"%d\" stroke=\"#bbb\"/>\n", L, W - R,
			y0 + 8 + ph, y0 + 8 + ph);
		fprintf(f, "<line x1=\"%d\" x2=\"%d\" y1=\"%d\" y2=\"%d\" stroke=\"#e3e3e3\"/>"
			"<text x=\"%d\" y=\"%d\" font-size=\"11\" text-anchor=\"end\" fill=\"#555\">%s</text>"
			"<text x=\"%d\" y=\"%d\" font-size=\"11\" text-anchor=\"end\" fill=\"#555\">0</text>\n",
			L, W - R, y0 + 8, y0 + 8, L - 6, y0 + 12, hours, L - 6, y0 + 12 + ph);
		for (int64_t i = 0; i < r->days; i++) {
			double v = (double)r->day[i].lag_worst_ms / (double)lag_max;
			fprintf(f, "<rect x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%.1f\" fill=\"%s\">"
				"<title>%s: worst %s</title></rect>\n", L + cw * (double)i + cw * 0.15,
				y0 + 8 + ph * (1.0 - v), cw * 0.7, ph * v,
				r->day[i].lag_worst_ms > rpo_ms ? "#d04040" : "#8aa4c8",
				day_str(r->day[i].start, d, sizeof(d)),
				dur_str(r->day[i].lag_worst_ms, h, sizeof(h)));
		}
	}
	fputs("</svg>\n", f);
}

int audit_write_html(const struct audit_report *r, const struct cfg *c, const char *path,
		     struct ck_err *err)
{
	struct afile af;
	FILE *f;
	char a[32], b[32];

	if (afile_open(&af, path, (int)cfg_export_mode(c), err))
		return err->code;
	f = af.f;
	fprintf(f, "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\n"
		"<title>candlekeep SLA audit %s .. %s</title>\n<style>\n"
		"body{font-family:system-ui,-apple-system,'Segoe UI',Helvetica,Arial,sans-serif;"
		"margin:24px;color:#222;background:#fafafa}\n"
		"h1{font-size:22px;margin:0 0 4px}h2{font-size:17px;margin:22px 0 8px}\n"
		".sub{color:#666;margin-bottom:14px}\n"
		"table{border-collapse:collapse;background:#fff;font-size:13px}\n"
		"td,th{border:1px solid #ddd;padding:4px 9px;text-align:left}th{background:#f0f0f0}\n"
		"td.n{text-align:right;font-variant-numeric:tabular-nums}\n"
		".met{color:#fff;background:#3f8f4f;font-weight:600}"
		".breached{color:#fff;background:#c53030;font-weight:600}\n"
		".verdict{display:inline-block;padding:6px 12px;border-radius:4px;font-weight:700;"
		"margin:6px 0 10px}\n.card{background:#fff;border:1px solid #ddd;padding:10px;"
		"display:inline-block}\n</style></head><body>\n",
		kline_time_str(r->from, a, sizeof(a)), kline_time_str(r->to, b, sizeof(b)));
	fprintf(f, "<h1>candlekeep SLA audit</h1>\n<div class=\"sub\">%s .. %s UTC, %" PRId64
		" days, database ", a, b, r->days);
	html_esc(f, c->db);
	fprintf(f, "</div>\n<div class=\"verdict %s\">%s</div>\n",
		r->all_met ? "met" : "breached", r->all_met ? "All SLA targets met" : "SLA targets breached");
	fputs("<table><tr><th>target</th><th>verdict</th><th>measured</th><th>objective</th>"
	      "<th>how</th></tr>\n", f);
	for (size_t i = 0; i < r->ntarget; i++) {
		fprintf(f, "<tr><td>%s</td><td class=\"%s\">%s</td><td class=\"n\">", r->target[i].name,
			r->target[i].met ? "met" : "breached", r->target[i].met ? "MET" : "BREACHED");
		html_esc(f, r->target[i].measured);
		fputs("</td><td>", f);
		html_esc(f, r->target[i].target);
		fputs("</td><td>", f);
		html_esc(f, r->target[i].detail);
		fputs("</td></tr>\n", f);
	}
	fputs("</table>\n<h2>Daily sync coverage and freshness</h2>\n<div class=\"card\">\n", f);
	html_chart(f, r, c->sla_rpo_s * 1000);
	fprintf(f, "</div>\n<h2>Sync coverage</h2>\n<p>%" PRId64 "/%" PRId64 " days with a successful"
		" sync; %" PRId64 " runs, %" PRId64 " ok; scheduled syncs met %" PRId64 "/%" PRId64
		" (", r->days_synced, r->days, r->runs_total, r->runs_ok, r->slots_met, r->slots);
	html_esc(f, r->schedule);
	fputs(").</p>\n", f);
	if (r->nbad) {
		fputs("<table><tr><th>run</th><th>command</th><th>started (UTC)</th><th>status</th>"
		      "<th>error</th></tr>\n", f);
		for (size_t i = 0; i < r->nbad; i++) {
			fprintf(f, "<tr><td class=\"n\">%" PRId64 "</td><td>%s</td><td>%s%s</td><td>%s</td><td>",
				r->bad[i].id, r->bad[i].command, r->bad[i].estimated ? "~" : "",
				kline_time_str(r->bad[i].at, a, sizeof(a)), run_status_name(r->bad[i].status));
			html_esc(f, r->bad[i].error);
			fputs("</td></tr>\n", f);
		}
		fputs("</table>\n", f);
	}
	fputs("<h2>Per symbol</h2>\n<table><tr><th>symbol</th><th>worst lag</th><th>p99 lag</th>"
	      "<th>worst age</th><th>expected</th><th>stored</th><th>holes</th><th>missing</th>"
	      "<th>gaps</th></tr>\n", f);
	for (size_t i = 0; i < r->nsym; i++) {
		const struct audit_symbol *s = &r->sym[i];
		char w[32];
		fprintf(f, "<tr><td>%s</td><td class=\"n\">%s</td><td class=\"n\">%s</td>"
			"<td class=\"n\">%s</td><td class=\"n\">%" PRId64 "</td><td class=\"n\">%" PRId64
			"</td><td class=\"n\">%" PRId64 "</td><td class=\"n\">%" PRId64 "</td><td>",
			s->symbol, dur_str(s->lag_worst_ms, a, sizeof(a)),
			dur_str(s->lag_p99_ms, b, sizeof(b)), dur_str(s->age_worst_ms, w, sizeof(w)),
			s->expected, s->stored, s->holes, s->missing);
		for (size_t g = 0; g < s->ngaps && g < 10; g++)
			fprintf(f, "%s%s (%" PRId64 ")", g ? "<br>" : "",
				kline_time_str(s->gaps[g].first, a, sizeof(a)), s->gaps[g].count);
		fputs("</td></tr>\n", f);
	}
	fputs("</table>\n<h2>Backups</h2>\n<table><tr><th>tier</th><th>days with a verified backup"
	      "</th><th>kept</th><th>retention</th><th>compliance</th><th>note</th></tr>\n", f);
	for (int t = 0; t < 3; t++) {
		const struct audit_tier *bt = &r->tier[t];
		fprintf(f, "<tr><td>%s</td><td class=\"n\">%" PRId64 "/%" PRId64 "</td><td class=\"n\">%"
			PRId64 "</td><td class=\"n\">%" PRId64 " days</td><td class=\"%s\">%s</td><td>",
			bt->tier, bt->days_with, r->days, bt->kept, bt->retention_days,
			!bt->configured ? "" : bt->compliant ? "met" : "breached",
			!bt->configured ? "not configured" : bt->compliant ? "compliant" : "not compliant");
		html_esc(f, bt->note);
		fputs("</td></tr>\n", f);
	}
	fputs("</table>\n<h2>Restore drill</h2>\n<p>", f);
	if (r->drill_done) {
		fprintf(f, "%.1f s: ", r->drill_seconds);
		html_esc(f, r->drill_detail);
		if (r->drill_location[0]) {
			fputs(" (", f);
			html_esc(f, r->drill_location);
			fputs(")", f);
		}
	} else {
		fputs("not run", f);
	}
	fputs("</p>\n</body></html>\n", f);
	if (ferror(f)) {
		afile_abort(&af);
		return ck_err_set(err, CK_EIO, "write %s: %s", path, strerror(errno));
	}
	return afile_commit(&af, err);
}
