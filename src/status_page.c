/* status_page.c — the daemon's HTML status page (contract in status_page.h).
 *
 * Each part of the page asks the store one query per question (the gaps of every
 * symbol, the stored ranges of every symbol, the firing alerts, the outbox, ...) and a
 * part whose query fails is shown empty rather than failing the page. All text that
 * comes from the database or the configuration is HTML-escaped. Times are UTC. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dur.h"
#include "event.h"
#include "health.h"
#include "interval.h"
#include "listing.h"
#include "sbuf.h"
#include "status_page.h"
#include "store.h"
#include "store_alert.h"
#include "store_backup.h"
#include "utc.h"
#include "banned.h"

#define STRIP_W 600 /* width of a coverage strip, px (its viewBox units) */
#define STRIP_H 14
#define STRIP_MIN_W 2.0 /* a missing range is drawn at least this wide, px */

/* ---- formatting ----------------------------------------------------------------- */

static const char *iso(int64_t ms, char *buf, size_t n)
{
	if (ms <= 0)
		return snprintf(buf, n, "-"), buf;
	return utc_iso(ms, buf, n);
}

/* Appends a plugin-style summary HTML-escaped without its "| perfdata" tail. */
static void sb_perf(struct sbuf *b, const char *s)
{
	const char *bar = strstr(s, " | ");
	char tmp[1024];
	if (!bar)
		return sbuf_html(b, s);
	snprintf(tmp, sizeof(tmp), "%.*s", (int)(bar - s), s);
	sbuf_html(b, tmp);
}

static const char *status_class(enum health_status s)
{
	return s == HEALTH_OK ? "ok" : s == HEALTH_WARNING ? "warn" : "crit";
}

/* ---- the head and the health line ---------------------------------------------- */

static void page_head(const struct status_view *v, struct sbuf *b)
{
	const struct cfg *c = v->cfg;
	char a[32], t1[32];

	sbuf_printf(b, "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\">"
		       "<meta name=\"viewport\" content=\"width=device-width\">"
		       "<meta http-equiv=\"refresh\" content=\"30\"><title>candlekeep "
		       "status</title><style>"
		       "body{font:14px/1.4 "
		       "system-ui,sans-serif;margin:1.5em;color:#222;background:#fafafa}"
		       "h1{font-size:1.4em;margin:0 0 .2em}h2{font-size:1.1em;margin:1.4em 0 .4em}"
		       ".sub{color:#666}table{border-collapse:collapse;background:#fff}"
		       "td,th{padding:3px 10px;border-bottom:1px solid #e4e4e4;text-align:left;"
		       "vertical-align:top;white-space:nowrap}td.d{white-space:normal;max-width:"
		       "36em}th{background:#f0f0f0;font-weight:600}"
		       "td.n{text-align:right;font-variant-numeric:tabular-nums}"
		       ".ok{color:#1a7f37}.warn{color:#9a6700}.crit{color:#cf222e;font-weight:600}"
		       ".pill{display:inline-block;padding:1px 8px;border-radius:9px;color:#fff}"
		       ".pill.ok{background:#1a7f37}.pill.warn{background:#bf8700}.pill.crit{"
		       "background:#cf222e}"
		       ".grid{display:flex;flex-wrap:wrap;gap:2em}.mono{font-family:ui-monospace,"
		       "monospace}"
		       "svg.cov{display:block;background:#eaeef2}td.cov{vertical-align:middle}"
		       "rect.stored,i.stored{fill:#2da44e;background:#2da44e}"
		       "rect.missing,i.missing{fill:#cf222e;background:#cf222e}"
		       "rect.hole,i.hole{fill:#8250df;background:#8250df}"
		       "rect.behind,i.behind{fill:#d4a72c;background:#d4a72c}"
		       "i.key{display:inline-block;width:.9em;height:.9em;margin:0 .3em 0 1em;"
		       "vertical-align:-1px}"
		       "</style></head><body>");
	sbuf_printf(b, "<h1>candlekeep</h1><div class=\"sub\">");
	sbuf_html(b, c->db);
	/* the market: one database may hold three, each with its own daemon and page */
	sbuf_printf(b,
		    " &middot; %s &middot; %s candles &middot; now %s UTC%s &middot; up %s</div>",
		    store_market(v->st), c->interval, iso(v->now, a, sizeof(a)),
		    v->test_clock ? " (test clock)" : "",
		    dur_format(v->uptime_ms, DUR_SPACED, t1, sizeof(t1)));
}

static void page_health(const struct status_view *v, struct sbuf *b)
{
	struct ck_err err = {0, ""};
	struct store_event *ev = NULL;
	size_t nev = 0;
	char a[32];

	if (store_events(v->st, event_kind_name(EV_HEALTH), NULL, 0, 1, &ev, &nev, &err))
		nev = 0;
	if (nev) {
		int s = (int)ev[0].value;
		sbuf_printf(b, "<p>Health <span class=\"pill %s\">%s</span> at %s: ",
			    status_class((enum health_status)s),
			    s == 0   ? "OK"
			    : s == 1 ? "WARNING"
			    : s == 2 ? "CRITICAL"
				     : "UNKNOWN",
			    iso(ev[0].at, a, sizeof(a)));
		sb_perf(b, ev[0].detail);
		sbuf_printf(b, "</p>");
	} else {
		sbuf_printf(
			b,
			"<p>Health: no check has run yet (see <a href=\"/healthz\">/healthz</a>)."
			"</p>");
	}
	free(ev);
}

/* ---- active alerts -------------------------------------------------------------- */

/* The delivery state of alert key on each channel, from the outbox rows. */
static void alert_channels(struct sbuf *b, const char *key, const struct store_outbox *ob,
			   size_t nob, int64_t now)
{
	char a[32];
	int any = 0;

	for (size_t i = 0; i < nob; i++) {
		const struct store_outbox *o = &ob[i];
		if (strcmp(o->key, key))
			continue;
		sbuf_printf(b, "%s<span class=\"%s\" data-channel=\"", any ? "<br>" : "",
			    !strcmp(o->state, "sent") ? "ok"
			    : o->attempts             ? "crit"
						      : "warn");
		sbuf_html(b, o->channel);
		sbuf_printf(b, "\">");
		sbuf_html(b, o->channel);
		sbuf_printf(b, ": ");
		sbuf_html(b, o->state);
		if (o->last_sent)
			sbuf_printf(b, ", last sent %s ago",
				    dur_format(now - o->last_sent, DUR_SPACED, a, sizeof(a)));
		if (o->attempts) {
			sbuf_printf(b, ", %" PRId64 " failed attempt%s", o->attempts,
				    o->attempts == 1 ? "" : "s");
			if (o->next_at > now)
				sbuf_printf(b, ", next in %s",
					    dur_format(o->next_at - now, DUR_SPACED, a, sizeof(a)));
			if (o->error[0]) {
				sbuf_printf(b, ": ");
				sbuf_html(b, o->error);
			}
		}
		sbuf_printf(b, "</span>");
		any = 1;
	}
	if (!any)
		sbuf_printf(b, "-");
}

static void page_alerts(const struct status_view *v, struct sbuf *b)
{
	struct ck_err err = {0, ""};
	struct store_alert *al = NULL;
	struct store_outbox *ob = NULL;
	size_t nal = 0, nob = 0, firing = 0;
	int64_t wall = now_ms(); /* alerts are stamped with the system clock, not the daemon's */
	char a[32], t1[32];

	if (store_alert_list(v->st, &al, &nal, &err)) {
		sbuf_printf(b, "<h2 id=\"alerts\">Active alerts</h2><p class=\"crit\">unknown: ");
		sbuf_html(b, err.msg);
		sbuf_printf(b, "</p>");
		return;
	}
	if (store_outbox_live(v->st, &ob, &nob, &err))
		nob = 0;
	for (size_t i = 0; i < nal; i++)
		firing += !strcmp(al[i].state, "firing");
	sbuf_printf(b, "<h2 id=\"alerts\">Active alerts: %zu</h2>", firing);
	if (!firing) {
		sbuf_printf(b, "<p class=\"ok\" id=\"no-alerts\">No active alerts.</p>");
		goto done;
	}
	sbuf_printf(b,
		    "<table id=\"active-alerts\"><tr><th>alert</th><th>severity</th><th>since</th>"
		    "<th>for</th><th>summary</th><th>delivery</th></tr>");
	for (size_t i = 0; i < nal; i++) {
		const struct store_alert *x = &al[i];
		if (strcmp(x->state, "firing"))
			continue;
		sbuf_printf(b, "<tr class=\"alert\" data-key=\"");
		sbuf_html(b, x->key);
		sbuf_printf(b, "\"><td class=\"mono\">");
		sbuf_html(b, x->key);
		sbuf_printf(b, "</td><td><span class=\"pill %s\">",
			    !strcmp(x->severity, "critical") ? "crit" : "warn");
		sbuf_html(b, x->severity);
		sbuf_printf(b, "</span></td><td>%s</td><td>%s</td><td class=\"d\">",
			    iso(x->first_at, a, sizeof(a)),
			    x->first_at ? dur_format(wall - x->first_at, DUR_SPACED, t1, sizeof(t1))
					: "-");
		sbuf_html(b, x->summary);
		sbuf_printf(b, "</td><td class=\"d\">");
		alert_channels(b, x->key, ob, nob, wall);
		sbuf_printf(b, "</td></tr>");
	}
	sbuf_printf(b, "</table>");
done:
	free(al);
	free(ob);
}

/* ---- the schedule --------------------------------------------------------------- */

static void page_schedule(const struct status_view *v, struct sbuf *b)
{
	char a[32], t1[32], t2[32];

	sbuf_printf(b, "<h2>Schedule (UTC)</h2><table><tr><th>job</th><th>cron</th><th>next</th>"
		       "<th>in</th><th>last start</th><th>last</th><th>detail</th><th>runs</th>"
		       "<th>failed</th><th>skipped</th></tr>");
	for (size_t i = 0; i < v->njobs; i++) {
		const struct status_job *j = &v->jobs[i];
		const char *cls = !j->last_status                     ? ""
				  : !strcmp(j->last_status, "ok")     ? "ok"
				  : !strcmp(j->last_status, "failed") ? "crit"
								      : "warn";
		sbuf_printf(b, "<tr><td>%s%s</td><td class=\"mono\">", j->name,
			    j->running ? " <b>(running)</b>" : "");
		sbuf_html(b, j->expr[0] ? j->expr : "(off)");
		sbuf_printf(b,
			    "</td><td>%s</td><td>%s</td><td>%s</td><td class=\"%s\">%s</td><td "
			    "class=\"d\">",
			    j->next ? iso(j->next, a, sizeof(a)) : "-",
			    j->next ? dur_format(j->next - v->now, DUR_SPACED, t1, sizeof(t1))
				    : "-",
			    iso(j->last_start, t2, sizeof(t2)), cls,
			    j->last_status ? j->last_status : "-");
		sb_perf(b, j->last_detail);
		sbuf_printf(b,
			    "</td><td class=\"n\">%" PRId64 "</td><td class=\"n\">%" PRId64
			    "</td><td class=\"n\">%" PRId64 "</td></tr>",
			    j->runs, j->failures, j->skipped);
	}
	sbuf_printf(b, "</table>");
}

/* ---- symbols: freshness --------------------------------------------------------- */

/* symbols = all: the listing's entry of sym when it stopped trading, else NULL. */
static const struct listing_entry *delisted(const struct listing *l, const char *sym)
{
	const struct listing_entry *x = listing_find(l, sym);
	return x && !listing_trading(x) ? x : NULL;
}

static void page_symbols(const struct status_view *v, struct sbuf *b, char **syms, size_t nsyms,
			 const struct listing *l, const struct store_gap *gaps, size_t ngaps)
{
	const struct cfg *c = v->cfg;
	struct ck_err err = {0, ""};
	int64_t now = v->now;
	int64_t warn = c->stale_warn_s * 1000, crit = c->stale_crit_s * 1000;
	char a[32], t1[48], t2[32];
	int fresh = 0;
	size_t gone = 0;

	for (size_t i = 0; i < nsyms; i++) {
		struct store_span sp;
		if (delisted(l, syms[i])) {
			gone++; /* not fetched any more: not judged */
			continue;
		}
		if (!store_span(v->st, syms[i], c->interval, 0, INT64_MAX, 1, &sp, &err) &&
		    sp.count && health_freshness(c, now, sp.last_open, NULL) == HEALTH_OK)
			fresh++;
	}
	sbuf_printf(b, "<h2>Symbols");
	if (c->nintervals > 1) /* one table per interval */
		sbuf_printf(b, ", %s", c->interval);
	sbuf_printf(b,
		    ": %d of %zu fresh</h2><table><tr>"
		    "<th>symbol</th><th>newest candle</th><th>age</th><th>candles</th>"
		    "<th>missing</th><th>holes</th></tr>",
		    fresh, nsyms - gone);
	for (size_t i = 0; i < nsyms; i++) {
		const struct listing_entry *x = delisted(l, syms[i]);
		struct store_span sp;
		int64_t missing = 0, holes = 0, age;
		const char *cls;
		memset(&sp, 0, sizeof(sp));
		if (store_span(v->st, syms[i], c->interval, 0, INT64_MAX, 1, &sp, &err))
			sp.count = 0;
		for (size_t g = 0; g < ngaps; g++)
			if (!strcmp(gaps[g].symbol, syms[i])) {
				if (gaps[g].confirmed)
					holes += gaps[g].count;
				else
					missing += gaps[g].count;
			}
		cls = status_class(health_freshness(c, now, sp.count ? sp.last_open : 0, &age));
		if (x) {
			cls = "";
			snprintf(t1, sizeof(t1), "delisted (%s)", x->status);
		} else if (sp.count)
			dur_format(age, DUR_SPACED, t1, sizeof(t1));
		sbuf_printf(b, "<tr><td>");
		sbuf_html(b, syms[i]);
		sbuf_printf(b,
			    "</td><td>%s</td><td class=\"%s\">%s</td><td class=\"n\">%" PRId64
			    "</td><td class=\"n %s\">%" PRId64 "</td><td class=\"n\">%" PRId64
			    "</td></tr>",
			    sp.count ? iso(sp.last_open, a, sizeof(a)) : "none", cls,
			    x || sp.count ? t1 : "no data", sp.count, missing ? "crit" : "",
			    missing, holes);
	}
	sbuf_printf(b,
		    "</table><p class=\"sub\">age = since the newest stored candle closed; "
		    "warning after %s, critical after %s.</p>",
		    dur_format(warn, DUR_SPACED, t1, sizeof(t1)),
		    dur_format(crit, DUR_SPACED, t2, sizeof(t2)));
}

/* ---- symbols: coverage strips --------------------------------------------------- */

/* Kinds of range, in drawing order (later ones on top). */
enum seg_kind { SEG_STORED, SEG_BEHIND, SEG_MISSING, SEG_HOLE, NSEG_KINDS };
static const char *const seg_class[NSEG_KINDS] = {"stored", "behind", "missing", "hole"};
static const char *const seg_label[NSEG_KINDS] = {"stored", "not stored yet", "missing",
						  "exchange hole"};

/* Open times first..last inclusive; count candles; ranges = how many were merged. */
struct seg {
	int64_t first, last, count;
	int64_t ranges;
	enum seg_kind kind;
};

static int seg_cmp(const void *pa, const void *pb)
{
	const struct seg *a = pa, *b = pb;
	return a->first < b->first ? -1 : a->first > b->first;
}

/* Merges ranges of the same kind whose distance (ms between one's end and the next
 * one's start) is below dist, and the first `equal` of those exactly dist apart, into
 * out (room for n); returns how many are left. in is sorted by time within each kind;
 * out is by kind, then time. */
static size_t strip_merge(const struct seg *in, size_t n, int64_t iv, int64_t dist, size_t equal,
			  struct seg *out)
{
	size_t m = 0;
	for (int k = 0; k < NSEG_KINDS; k++) {
		struct seg cur;
		int have = 0;
		for (size_t i = 0; i < n; i++) {
			int64_t d;
			if (in[i].kind != (enum seg_kind)k)
				continue;
			d = have ? in[i].first - interval_add(iv, cur.last, 1) : 0;
			if (have && (d < dist || (d == dist && equal > 0))) {
				equal -= d == dist;
				cur.last = in[i].last;
				cur.count += in[i].count;
				cur.ranges += in[i].ranges;
				continue;
			}
			if (have)
				out[m++] = cur;
			cur = in[i];
			have = 1;
		}
		if (have)
			out[m++] = cur;
	}
	return m;
}

static int i64_cmp(const void *pa, const void *pb)
{
	int64_t a = *(const int64_t *)pa, b = *(const int64_t *)pb;
	return a < b ? -1 : a > b;
}

/* Merges segs (n, sorted by time) into out (room for n): ranges less than a pixel apart
 * (px ms), then the closest pairs of the same kind until at most `max` are left.
 * Returns how many; -1 when out of memory. */
static long strip_compact(const struct seg *segs, size_t n, int64_t iv, int64_t px, size_t max,
			  struct seg *out)
{
	struct seg *tmp;
	int64_t *d;
	size_t m = strip_merge(segs, n, iv, px + 1, 0, out), nd = 0, need, below = 0;

	if (m <= max)
		return (long)m;
	tmp = malloc(m * sizeof(*tmp));
	d = malloc(m * sizeof(*d));
	if (!tmp || !d) {
		free(tmp);
		free(d);
		return -1;
	}
	memcpy(tmp, out, m * sizeof(*tmp));
	for (size_t i = 1; i < m; i++)
		if (tmp[i].kind == tmp[i - 1].kind)
			d[nd++] = tmp[i].first - interval_add(iv, tmp[i - 1].last, 1);
	/* m - max merges are needed; at most NSEG_KINDS ranges cannot merge. */
	need = m - max < nd ? m - max : nd;
	if (need) {
		int64_t thr;
		qsort(d, nd, sizeof(*d), i64_cmp);
		thr = d[need - 1];
		while (below < nd && d[below] < thr)
			below++;
		m = strip_merge(tmp, m, iv, thr, need - below, out);
	}
	free(tmp);
	free(d);
	return (long)m;
}

/* Draws one symbol's strip: the segments (sorted by time) over t0..t1 (ms). */
static void strip_draw(struct sbuf *b, const char *sym, struct seg *segs, size_t n, int64_t iv,
		       int64_t t0, int64_t t1)
{
	struct seg *r = malloc((n ? n : 1) * sizeof(*r));
	double span = (double)(t1 - t0);
	long m = -1;
	char a[32], z[32];

	if (r)
		m = strip_compact(segs, n, iv, (t1 - t0) / STRIP_W, STATUS_STRIP_MAX_RECTS, r);
	if (m < 0) {
		free(r);
		b->failed = 1;
		return;
	}
	sbuf_printf(b, "<svg class=\"cov\" data-symbol=\"");
	sbuf_html(b, sym);
	sbuf_printf(
		b,
		"\" data-from=\"%" PRId64 "\" data-to=\"%" PRId64 "\" width=\"%d\" "
		"height=\"%d\" viewBox=\"0 0 %d %d\" preserveAspectRatio=\"none\" role=\"img\">",
		t0, t1, STRIP_W, STRIP_H, STRIP_W, STRIP_H);
	for (long i = 0; i < m; i++) {
		const struct seg *s = &r[i];
		double x = (double)(s->first - t0) * STRIP_W / span;
		double w = (double)(interval_add(iv, s->last, 1) - s->first) * STRIP_W / span;
		if (s->kind != SEG_STORED && w < STRIP_MIN_W) {
			w = STRIP_MIN_W;
			if (x > STRIP_W - w)
				x = STRIP_W - w;
		}
		sbuf_printf(b,
			    "<rect class=\"%s\" x=\"%.1f\" width=\"%.1f\" height=\"%d\" "
			    "data-from=\"%" PRId64 "\" data-to=\"%" PRId64
			    "\" data-count=\"%" PRId64 "\"><title>%s %s .. %s: %" PRId64
			    " candle%s",
			    seg_class[s->kind], x, w, STRIP_H, s->first, s->last, s->count,
			    seg_label[s->kind], iso(s->first, a, sizeof(a)),
			    iso(s->last, z, sizeof(z)), s->count, s->count == 1 ? "" : "s");
		if (s->ranges > 1)
			sbuf_printf(b, " in %" PRId64 " ranges", s->ranges);
		sbuf_printf(b, "</title></rect>");
	}
	sbuf_printf(b, "</svg>");
	free(r);
}

/* Grows *v to hold one more segment; 0 or -1 (out of memory). */
static int seg_push(struct seg **v, size_t *n, size_t *cap, int64_t first, int64_t last,
		    int64_t count, enum seg_kind kind)
{
	if (*n == *cap) {
		size_t nc = *cap ? *cap * 2 : 16;
		struct seg *nv = realloc(*v, nc * sizeof(**v));
		if (!nv)
			return -1;
		*v = nv;
		*cap = nc;
	}
	(*v)[(*n)++] = (struct seg){first, last, count, 1, kind};
	return 0;
}

/* One symbol's row: its stored runs and gaps (sorted by symbol, then time), the
 * wanted history start before its oldest candle and the closed candles after its
 * newest, over its time span. */
static void coverage_row(const struct status_view *v, struct sbuf *b, const char *sym,
			 const struct store_range *cov, size_t ncov, const struct store_gap *gaps,
			 size_t ngaps)
{
	const struct cfg *c = v->cfg;
	struct ck_err err = {0, ""};
	int64_t iv = c->interval_ms, t0, t1, newest;
	struct store_span sp;
	struct store_symbol ss;
	struct seg *segs = NULL;
	size_t n = 0, cap = 0;
	char a[32], z[32];
	int bad = 0;

	sbuf_printf(b, "<tr data-symbol=\"");
	sbuf_html(b, sym);
	sbuf_printf(b, "\"><td>");
	sbuf_html(b, sym);
	if (store_span(v->st, sym, c->interval, 0, INT64_MAX, 1, &sp, &err) || !sp.count ||
	    iv <= 0) {
		sbuf_printf(b, "</td><td colspan=\"3\" class=\"crit\">no data</td></tr>");
		return;
	}
	if (store_symbol_get(v->st, sym, c->interval, &ss, &err))
		memset(&ss, 0, sizeof(ss));
	t0 = sp.first_open;
	if (ss.history_start > 0) {
		int64_t hs = ss.history_start > ss.first_open ? ss.history_start : ss.first_open;
		hs = interval_ceil(iv, hs);
		if (hs < t0) {
			bad |= seg_push(&segs, &n, &cap, hs, interval_add(iv, t0, -1),
					interval_steps(iv, hs, t0), SEG_MISSING);
			t0 = hs;
		}
	}
	for (size_t i = 0; i < ncov; i++)
		if (!strcmp(cov[i].symbol, sym))
			bad |= seg_push(&segs, &n, &cap, cov[i].first, cov[i].last, cov[i].count,
					SEG_STORED);
	for (size_t i = 0; i < ngaps; i++)
		if (!strcmp(gaps[i].symbol, sym))
			bad |= seg_push(&segs, &n, &cap, gaps[i].first, gaps[i].last, gaps[i].count,
					gaps[i].confirmed ? SEG_HOLE : SEG_MISSING);
	/* The newest closed candle opened one interval before the current one. */
	newest = interval_add(iv, interval_floor(iv, v->now), -1);
	if (newest > sp.last_open)
		bad |= seg_push(&segs, &n, &cap, interval_add(iv, sp.last_open, 1), newest,
				interval_steps(iv, sp.last_open, newest), SEG_BEHIND);
	t1 = interval_add(iv, newest > sp.last_open ? newest : sp.last_open, 1);
	if (bad) {
		b->failed = 1;
		free(segs);
		return;
	}
	qsort(segs, n, sizeof(*segs), seg_cmp);
	sbuf_printf(b, "</td><td class=\"sub\">%s</td><td class=\"cov\">", iso(t0, a, sizeof(a)));
	strip_draw(b, sym, segs, n, iv, t0, t1);
	sbuf_printf(b, "</td><td class=\"sub\">%s</td></tr>", iso(t1, z, sizeof(z)));
	free(segs);
}

static void page_coverage(const struct status_view *v, struct sbuf *b, char **syms, size_t nsyms,
			  const struct store_gap *gaps, size_t ngaps)
{
	const struct cfg *c = v->cfg;
	struct ck_err err = {0, ""};
	struct store_range *cov = NULL;
	size_t ncov = 0;

	if (c->nintervals > 1) /* one section per interval */
		sbuf_printf(b, "<h2>Coverage, %s</h2>", c->interval);
	else
		sbuf_printf(b, "<h2>Coverage</h2>");
	if (store_covered(v->st, NULL, c->interval, c->interval_ms, &cov, &ncov, &err)) {
		sbuf_printf(b, "<p class=\"crit\">unknown: ");
		sbuf_html(b, err.msg);
		sbuf_printf(b, "</p>");
		return;
	}
	sbuf_printf(b, "<p class=\"sub\">Each symbol from its oldest candle (or its wanted history"
		       " start) to now:");
	for (int k = 0; k < NSEG_KINDS; k++)
		sbuf_printf(b, "<i class=\"key %s\"></i>%s", seg_class[k], seg_label[k]);
	sbuf_printf(b, ". Hover a range for its times and candle count.</p><table id=\"coverage");
	if (c->nintervals > 1)
		sbuf_printf(b, "-%s", c->interval);
	sbuf_printf(b, "\"><tr><th>symbol</th><th>from</th><th>coverage</th><th>to</th></tr>");
	for (size_t i = 0; i < nsyms; i++)
		coverage_row(v, b, syms[i], cov, ncov, gaps, ngaps);
	if (!nsyms)
		sbuf_printf(b, "<tr><td colspan=\"4\">no symbols</td></tr>");
	sbuf_printf(b, "</table>");
	free(cov);
}

/* ---- runs and backups ----------------------------------------------------------- */

static void page_runs(const struct status_view *v, struct sbuf *b)
{
	struct ck_err err = {0, ""};
	struct store_run *runs = NULL;
	size_t nruns = 0;
	char a[32], t1[32];

	if (store_runs(v->st, NULL, 0, 12, &runs, &nruns, &err))
		nruns = 0;
	sbuf_printf(
		b,
		"<h2>Last runs</h2><table><tr><th>#</th><th>command</th><th>started</th>"
		"<th>took</th><th>status</th><th>written</th><th>failed</th><th>error</th></tr>");
	for (size_t i = 0; i < nruns; i++) {
		struct store_run *r = &runs[i];
		const char *st = run_status_name(r->status);
		sbuf_printf(b, "<tr><td class=\"n\">%" PRId64 "</td><td>", r->id);
		sbuf_html(b, r->command);
		if (v->cfg->nintervals > 1) { /* which interval's run */
			sbuf_printf(b, " ");
			sbuf_html(b, r->interval);
		}
		if (strcmp(r->market, store_market(v->st))) { /* another market's run */
			sbuf_printf(b, " (");
			sbuf_html(b, r->market);
			sbuf_printf(b, ")");
		}
		sbuf_printf(b,
			    "</td><td>%s</td><td>%s</td><td class=\"%s\">%s</td><td "
			    "class=\"n\">%" PRId64 "</td><td class=\"n\">%" PRId64
			    "</td><td class=\"d\">",
			    iso(r->started, a, sizeof(a)),
			    r->ended ? dur_format(r->ended - r->started, DUR_SPACED, t1, sizeof(t1))
				     : "-",
			    r->status == RUN_OK        ? "ok"
			    : r->status == RUN_RUNNING ? ""
						       : "crit",
			    st, r->counts.candles_written, r->counts.symbols_failed);
		sbuf_html(b, r->error);
		sbuf_printf(b, "</td></tr>");
	}
	if (!nruns)
		sbuf_printf(b, "<tr><td colspan=\"8\">no runs yet</td></tr>");
	sbuf_printf(b, "</table>");
	free(runs);
}

static void page_backups(const struct status_view *v, struct sbuf *b)
{
	struct ck_err err = {0, ""};
	struct store_backup *bk = NULL;
	size_t nbk = 0;
	char a[32];

	if (store_backup_list(v->st, NULL, &bk, &nbk, &err))
		nbk = 0;
	sbuf_printf(b, "<h2>Backups</h2><table><tr><th>tier</th><th>taken</th><th>size</th>"
		       "<th>candles</th><th>status</th><th>file</th></tr>");
	for (size_t i = 0; i < nbk && i < 12; i++) {
		const char *base = strrchr(bk[i].location, '/');
		sbuf_printf(b, "<tr><td>");
		sbuf_html(b, bk[i].tier);
		sbuf_printf(b,
			    "</td><td>%s</td><td class=\"n\">%.1f MB</td><td class=\"n\">%" PRId64
			    "</td><td class=\"%s\">",
			    iso(bk[i].created, a, sizeof(a)), (double)bk[i].size / 1e6,
			    bk[i].candles, !strcmp(bk[i].status, "verified") ? "ok" : "crit");
		sbuf_html(b, bk[i].status);
		sbuf_printf(b, "</td><td class=\"mono\">");
		sbuf_html(b, base ? base + 1 : bk[i].location);
		sbuf_printf(b, "</td></tr>");
	}
	if (!nbk)
		sbuf_printf(b, "<tr><td colspan=\"6\">no backups yet</td></tr>");
	sbuf_printf(b, "</table>");
	free(bk);
}

/* ---- the page ------------------------------------------------------------------- */

/* What the symbol tables and coverage strips of one interval show: its symbols and gaps,
 * on a copy of the configuration switched to it (with several intervals, each one). */
struct iv_part {
	struct cfg one; /* borrows the view's strings; never released */
	struct status_view v;
	char **syms;
	size_t nsyms, ngaps;
	struct store_gap *gaps;
	int from_cfg;
};

static void iv_part_load(const struct status_view *v, size_t k, struct iv_part *p)
{
	struct ck_err err = {0, ""};

	memset(p, 0, sizeof(*p));
	p->one = *v->cfg;
	if (v->cfg->nintervals > 1)
		cfg_interval_use(&p->one, k);
	p->v = *v;
	p->v.cfg = &p->one;
	p->from_cfg = 1;
	if (cfg_symbols_list(&p->one, &p->syms, &p->nsyms, &err)) {
		p->from_cfg = 0;
		if (store_symbols(v->st, p->one.interval, &p->syms, &p->nsyms, &err))
			p->nsyms = 0;
	}
	if (store_gaps(v->st, NULL, p->one.interval, p->one.interval_ms, 0, INT64_MAX, 1, &p->gaps,
		       &p->ngaps, &err))
		p->ngaps = 0;
}

static void iv_part_free(struct iv_part *p)
{
	if (p->from_cfg)
		cfg_symbols_free(p->syms, p->nsyms);
	else
		store_symbols_free(p->syms, p->nsyms);
	free(p->gaps);
}

int status_page_render(const struct status_view *v, struct sbuf *b)
{
	const struct cfg *c = v->cfg;
	struct ck_err err = {0, ""};
	size_t n = c->nintervals > 1 ? c->nintervals : 1;
	struct iv_part *parts;
	struct listing l = {0, NULL, 0}; /* symbols = all: which stopped trading */

	if (n > CK_INTERVALS_MAX)
		n = CK_INTERVALS_MAX;
	if (!(parts = calloc(n, sizeof(*parts)))) {
		b->failed = 1;
		return CK_ENOMEM;
	}
	for (size_t k = 0; k < n; k++)
		iv_part_load(v, k, &parts[k]);
	if (!parts[0].from_cfg && listing_load(v->st, &l, &err))
		memset(&l, 0, sizeof(l)); /* the page shows the symbols without it */

	page_head(v, b);
	page_health(v, b);
	page_alerts(v, b);
	page_schedule(v, b);
	sbuf_printf(b, "<div class=\"grid\"><div>");
	for (size_t k = 0; k < n; k++)
		page_symbols(&parts[k].v, b, parts[k].syms, parts[k].nsyms, &l, parts[k].gaps,
			     parts[k].ngaps);
	sbuf_printf(b, "</div><div>");
	page_runs(v, b);
	page_backups(v, b);
	sbuf_printf(b, "</div></div>");
	for (size_t k = 0; k < n; k++)
		page_coverage(&parts[k].v, b, parts[k].syms, parts[k].nsyms, parts[k].gaps,
			      parts[k].ngaps);
	sbuf_printf(b,
		    "<p class=\"sub\">Also: <a href=\"/metrics\">/metrics</a>"
		    " &middot; <a href=\"/healthz\">/healthz</a> &middot; <a href=\"/api/status\">"
		    "/api/status</a>%s</p></body></html>\n",
		    parts[0].from_cfg ? ""
				      : " &middot; symbols: those stored ([main] symbols = all)");

	for (size_t k = 0; k < n; k++)
		iv_part_free(&parts[k]);
	free(parts);
	listing_release(&l);
	return b->failed ? CK_ENOMEM : 0;
}
