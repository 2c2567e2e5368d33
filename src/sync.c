/* sync.c — planning, fetching and storing candles.
 *
 * Invariants: only closed candles are stored (close_time before both the exchange's
 * time and the local time + [sync] max_clock_skew at the start of the run) and only
 * validated pages, one transaction each. Nothing permanent comes from one observation:
 * a range the exchange answers empty is a suspected hole until a later run, an hour or
 * more after by both clocks and a day or more after the range closed, finds it empty
 * again; a symbol's start comes only from the first candle the exchange returns.
 * Recent candles are re-fetched every run and older ones on a rolling schedule.
 * Requests start only while the estimated used weight plus theirs stays inside the
 * budget, never during a 429 pause or a 418 ban (whose end, capped at [sync] max_ban,
 * is kept in the database for the next run); every wait the exchange asks for is
 * bounded. */
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "archive.h"
#include "binance.h"
#include "event.h"
#include "http.h"
#include "interval.h"
#include "kline.h"
#include "listing.h"
#include "lock.h"
#include "log.h"
#include "retry.h"
#include "sync.h"
#include "sync_plan.h"
#include "utc.h"
#include "banned.h"

#define DAY_MS 86400000LL

/* Requests in flight at most ([sync] concurrency's ceiling): the size of the arrays of
 * requests finished in one turn of the loop and of the pages one group commit stores. */
#define INFLIGHT_MAX CFG_CONCURRENCY_MAX

struct range {
	int64_t first, last; /* open times, inclusive */
};

struct sym {
	struct sync_symbol *out;
	struct store_symbol state;
	int failed, skipped;
	int elsewhere;       /* claimed by another worker (store_claim): not this run's */
	int pending;         /* jobs not finished */
	int64_t listed_from; /* symbols = all, a symbol listed since the listing was
			      * started: its listing date (ms; -1 not given), fetched from
			      * there rather than history_days back; 0: not a new listing */
	struct range *ok;    /* ranges fetched and answered (for hole confirmation) */
	size_t nok, capok;
};

struct job {
	struct sym *sym;
	int64_t first, last; /* open times asked for, inclusive */
	int64_t limit;
	int weight;
	int64_t not_before; /* mono ms */
	int inflight;
	struct retry_state rs;
	struct http_req req;
	struct job *next;          /* in the queue */
	struct job *rnext, *rprev; /* in the running list while in flight */
};

struct engine {
	struct store *st;
	const struct cfg *cfg;
	const struct sync_opts *o;
	struct sync_result *res;
	struct http *http;
	struct retry_policy rp;
	uint64_t rng;
	volatile sig_atomic_t *stop;
	int64_t deadline;     /* mono ms, 0 = none */
	int64_t iv;           /* interval ms */
	int64_t server_now;   /* exchange ms at start */
	int64_t local_now;    /* the local clock at start (now_local_ms()) */
	int64_t skew;         /* server_now - local_now, ms */
	int64_t close_limit;  /* a candle is closed when close_time < this: the earlier
			       * of the exchange's time and local time + max_clock_skew */
	struct plan_clock pc; /* the planner's clocks: interval, exchange time, newest
			       * closed candle, since, the re-verification slice */
	struct sym *syms;
	size_t nsyms, syms_done;
	size_t lo, hi;     /* the batch of symbols claimed, planned and fetched: syms[lo, hi) */
	int64_t started;   /* wall ms at the start (claim_batch) */
	struct job *queue; /* waiting jobs, in order */
	struct job **qtail;
	struct job *running; /* jobs in flight */
	size_t njobs_total, njobs_done;
	struct sync_plan plan; /* windows to fetch, before they are cut into pages */
	int64_t page;          /* candles per request (page_limit, or chosen when 0) */
	/* weight budget */
	int64_t weight_limit, budget;
	int64_t minute;   /* wall minute the counters below belong to */
	int64_t reported; /* highest used weight the exchange reported this minute */
	int64_t sent;     /* weight we started this minute */
	int64_t inflight_weight;
	int64_t pause_until; /* mono ms: 429 pause */
	int64_t ban_until;   /* wall ms: 418 ban */
	int fatal;           /* run-wide failure: stop starting requests */
	int refused_wait;    /* a 429's wait was longer than the run will sleep */
	int info_untrusted;  /* exchangeInfo answered but listed nothing trading: the
			      * answer is ignored (symbols = all: the stored listing is used) */
	int from_listing;    /* symbols = all: the stored listing chose the symbols (a
			      * symbol one answer left out is still fetched: listing.h) */
	int recheck;         /* re-verify holes and symbol starts (recheck, since) */
	int64_t t0;
	int64_t last_progress;
};

static void sym_fail(struct engine *e, struct sym *s, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static void sym_fail(struct engine *e, struct sym *s, const char *fmt, ...)
{
	va_list ap;
	(void)e;
	if (s->failed || s->skipped)
		return;
	s->failed = 1;
	va_start(ap, fmt);
	vsnprintf(s->out->error, sizeof(s->out->error), fmt, ap);
	va_end(ap);
}

static void sym_skip(struct sym *s, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void sym_skip(struct sym *s, const char *fmt, ...)
{
	va_list ap;
	if (s->failed || s->skipped)
		return;
	s->skipped = 1;
	va_start(ap, fmt);
	vsnprintf(s->out->error, sizeof(s->out->error), fmt, ap);
	va_end(ap);
}

/* ---- single blocking calls (time, exchangeInfo), with the same retry policy ---- */

static int wait_ms(struct engine *e, int64_t ms)
{
	int64_t end = mono_ms() + ms;
	for (;;) {
		int64_t now = mono_ms(), step;
		if (*e->stop)
			return CK_ESTOPPED;
		if (e->deadline && now >= e->deadline)
			return CK_ETIMEOUT;
		if (now >= end)
			return 0;
		step = end - now;
		if (step > 200)
			step = 200;
		if (e->deadline && now + step > e->deadline)
			step = e->deadline - now;
		ck_sleep_ms(step, e->stop);
	}
}

static void note_weight(struct engine *e, const struct http_req *r)
{
	int64_t minute = now_ms() / 60000;
	if (minute != e->minute) {
		e->minute = minute;
		e->reported = 0;
		e->sent = 0;
	}
	if (r->used_weight >= 0) {
		if (r->used_weight > e->reported)
			e->reported = r->used_weight;
		if (r->used_weight > e->res->counts.weight_used_max)
			e->res->counts.weight_used_max = r->used_weight;
	}
}

/* The ban's end counts from when the 418 arrived (r->done_ms): an answer read late (the
 * other half of a round trip, read after waiting out the first half's ban) names the same
 * ban, not a new one. Retry-After is whole seconds rounded up, so answers to one ban give
 * ends up to a second apart: within that, the ban already known stands (no second log
 * line, no one-millisecond wait); a later end (the exchange lengthened it) is honoured. */
static void note_ban(struct engine *e, const struct http_req *r)
{
	int64_t now = r->done_ms > 0 ? r->done_ms : now_ms();
	int64_t until = retry_ban_until(&e->rp, now, r->retry_after_s);
	char v[32];
	struct ck_err err;

	if (until <= e->ban_until + 1000)
		return;
	e->ban_until = until;
	snprintf(v, sizeof(v), "%" PRId64, e->ban_until);
	if (store_state_set(e->st, "ban_until", v, &err))
		log_warn("sync", "could not keep the ban's end in the database: %s", err.msg);
	if (r->retry_after_s > e->rp.max_ban_s)
		log_warn("sync",
			 "HTTP 418 with Retry-After %" PRId64 " s, more than [sync] max_ban"
			 " (%" PRId64 " s): the ban is honoured for max_ban only",
			 r->retry_after_s, e->rp.max_ban_s);
	log_error("sync",
		  "HTTP 418: the exchange banned this IP for %" PRId64
		  " s; no request is sent before then (candlekeep ban shows it)",
		  (until - now_ms() + 999) / 1000);
}

/* Time left before the run's deadline, ms; -1 when the run has none. */
static int64_t time_left(const struct engine *e)
{
	int64_t left;
	if (!e->deadline)
		return -1;
	left = e->deadline - mono_ms();
	return left > 0 ? left : 0;
}

/* A 429 asked for a wait the run will not sleep: the request's error, in err. */
static int refuse_wait(struct engine *e, const char *what, const char *desc, int64_t w,
		       int64_t asked_s, struct ck_err *err)
{
	e->refused_wait = 1;
	ck_err_set(err, CK_EHTTP,
		   "%s: %s: the exchange asked to wait %" PRId64 " s (Retry-After), more than"
		   " %s; not waited, not retried (run again later)",
		   what, desc, asked_s >= 0 ? asked_s : w / 1000,
		   time_left(e) >= 0 && w > time_left(e) ? "the run's time left"
							 : "[http] retry_429_max_wait");
	/* The wait holds for every request: the run sends nothing more. */
	e->pause_until = mono_ms() + w;
	e->fatal = 1;
	if (!e->res->error[0])
		snprintf(e->res->error, sizeof(e->res->error), "%s", err->msg);
	return err->code;
}

/* An HTTP 418 answered to a request sent after a ban was waited out: the exchange bans
 * on every answer, and waiting ban after ban would last until the run's deadline, or
 * for ever without one. The request fails with the ban (kept in the database). */
static int banned_again(struct engine *e, const char *what, struct ck_err *err)
{
	char t[32];

	e->fatal = 1;
	ck_err_set(err, CK_EBANNED,
		   "%s: the exchange answered HTTP 418 again after its ban was waited out:"
		   " banned until %s UTC (kept in the database: candlekeep ban shows it); no"
		   " request is sent before then: run again after it, with a lower [sync]"
		   " concurrency or weight_limit",
		   what, kline_time_str(e->ban_until, t, sizeof(t)));
	if (!e->res->error[0])
		snprintf(e->res->error, sizeof(e->res->error), "%s", err->msg);
	return err->code;
}

/* GET url with retries; on success r holds the body (caller releases). With done, r's
 * first attempt has already completed (prefetch) and is taken as it is. A ban (HTTP
 * 418) is waited out once (bounded by [sync] max_ban and the run's deadline); a second
 * 418 to a request sent after it fails the call (banned_again). */
static int call_simple_from(struct engine *e, struct http_req *r, int done, const char *what,
			    struct ck_err *err)
{
	struct retry_state rs = {0, 0, 0};
	char desc[256];
	int waited_ban = 0; /* a ban was waited out before the request in flight was sent */

	for (;;) {
		enum bn_class c;
		int64_t w;

		if (done) {
			done = 0;
			goto classify;
		}
		if (e->ban_until > now_ms()) {
			int64_t left = e->ban_until - now_ms();
			if (e->deadline && mono_ms() + left > e->deadline)
				return ck_err_set(
					err, CK_EBANNED,
					"%s: the exchange has banned this IP (HTTP 418) for "
					"%" PRId64
					" s more, past the run's deadline; no request sent until"
					" then (lower [sync] concurrency or weight_limit)",
					what, (left + 999) / 1000);
			log_warn("sync", "%s: banned (HTTP 418) for %" PRId64 " s more; waiting",
				 what, (left + 999) / 1000);
			if (wait_ms(e, left))
				return ck_err_set(err, *e->stop ? CK_ESTOPPED : CK_ETIMEOUT,
						  "%s: %s while waiting for the ban to end", what,
						  *e->stop ? "stopped" : "run deadline passed");
			waited_ban = 1;
		}
		if (http_do(e->http, r, err))
			return err->code;
		e->res->counts.requests++;
	classify:
		note_weight(e, r);
		c = binance_classify(r);
		if (c == BN_OK)
			return 0;
		http_req_describe(r, desc, sizeof(desc));
		if (c == BN_NET)
			e->res->counts.net_errors++;
		else if (c == BN_5XX)
			e->res->counts.http_5xx++;
		else if (c == BN_429)
			e->res->counts.http_429++;
		if (c == BN_418) {
			e->res->counts.http_418++;
			note_ban(e, r);
			http_req_release(r);
			if (waited_ban)
				return banned_again(e, what, err);
			continue; /* the loop's ban check reports it */
		}
		w = retry_next(&e->rp, &rs, c, r->retry_after_s, &e->rng);
		if (w >= 0 && c == BN_429 && !retry_wait_fits(&e->rp, w, time_left(e))) {
			refuse_wait(e, what, desc, w, r->retry_after_s, err);
			http_req_release(r);
			return err->code;
		}
		if (w < 0) {
			int code = 0;
			char msg[128] = "";
			if (r->body &&
			    binance_parse_error(r->body, r->len, &code, msg, sizeof(msg)) == 0)
				ck_err_set(err,
					   c == BN_NET     ? CK_ENET
					   : code == -1121 ? CK_ENOTFOUND /* no such symbol */
							   : CK_EHTTP,
					   "%s: %s (%d %s)", what, desc, code, msg);
			else
				ck_err_set(err, c == BN_NET ? CK_ENET : CK_EHTTP, "%s: %s", what,
					   desc);
			if (c == BN_GEO)
				ck_err_wrap(err,
					    "restricted location (HTTP 451): run from an allowed"
					    " location or set [main] base_url");
			else if (c == BN_WAF)
				ck_err_wrap(err,
					    "blocked by the exchange's firewall (HTTP 403): check"
					    " the IP and User-Agent, then wait before retrying");
			else if (c == BN_NET)
				ck_err_wrap(err,
					    "cannot reach the exchange at %s (check the network and"
					    " [main] base_url)",
					    e->cfg->base_url);
			http_req_release(r);
			return err->code;
		}
		e->res->counts.retries++;
		log_warn("sync", "%s: %s; retry in %" PRId64 " ms", what, desc, w);
		http_req_release(r);
		if (c == BN_429)
			e->pause_until = mono_ms() + w;
		if (wait_ms(e, w))
			return ck_err_set(err, *e->stop ? CK_ESTOPPED : CK_ETIMEOUT, "%s: %s", what,
					  *e->stop ? "stopped" : "run deadline passed");
	}
}

/* The run's first round trip: /time and exchangeInfo at once on the multi handle. Sets
 * *done[i] for each that completed (whatever its answer: call_simple_from classifies it
 * and retries one by one). Nothing is started during a ban (honour_ban waited for one
 * that ends in time; one that does not is reported by call_simple). */
static void prefetch(struct engine *e, struct http_req *r, size_t n, int *done)
{
	struct http_req *fin[INFLIGHT_MAX];
	struct ck_err err;
	size_t i, k, nd;

	for (i = 0; i < n; i++)
		done[i] = 0;
	if (e->ban_until > now_ms() || *e->stop || n > INFLIGHT_MAX)
		return;
	for (i = 0; i < n; i++)
		if (http_start(e->http, &r[i], &err)) {
			while (i-- > 0)
				http_abort(e->http, &r[i]);
			return;
		}
	e->res->counts.requests += (int64_t)n;
	for (k = 0; k < n && !*e->stop;) {
		if (http_poll(e->http, 100, fin, INFLIGHT_MAX, &nd, &err))
			break;
		for (i = 0; i < nd; i++, k++)
			done[(size_t)(fin[i] - r)] = 1;
	}
	for (i = 0; i < n; i++)
		if (!done[i]) {
			http_abort(e->http, &r[i]);
			e->res->counts.requests--; /* sent again by call_simple */
		}
}

int64_t sync_close_limit(int64_t exchange, int64_t local, int64_t max_skew_ms)
{
	int64_t lim = local + max_skew_ms;
	return exchange < lim ? exchange : lim;
}

/* The exchange's time against the local clock: which candles are closed (both clocks
 * must agree), the skew kept as an event for metrics, a warning when it is large. */
static void note_clock(struct engine *e)
{
	int64_t max_skew = e->cfg->max_clock_skew_s * 1000;
	char v[64], t[32];
	struct ck_err err;

	e->local_now = now_local_ms();
	e->skew = e->server_now - e->local_now;
	e->close_limit = sync_close_limit(e->server_now, e->local_now, max_skew);
	e->pc.last_closed = sync_plan_last_closed(e->close_limit, e->iv);
	e->res->clock_skew_ms = e->skew;
	v[0] = 0;
	if (e->skew > max_skew || e->skew < -max_skew) {
		snprintf(v, sizeof(v),
			 "clock skew %+.1f s exceeds [sync] max_clock_skew %" PRId64 " s",
			 (double)e->skew / 1000.0, e->cfg->max_clock_skew_s);
		log_warn("sync",
			 "the exchange's clock is %.1f s %s the local clock (more than"
			 " [sync] max_clock_skew %" PRId64
			 " s): candles count as closed only by the"
			 " earlier clock, up to %s UTC; check NTP on this host",
			 (double)(e->skew < 0 ? -e->skew : e->skew) / 1000.0,
			 e->skew > 0 ? "ahead of" : "behind", e->cfg->max_clock_skew_s,
			 kline_time_str(e->close_limit, t, sizeof(t)));
	}
	if (store_event_add(e->st, e->local_now, event_kind_name(EV_CLOCK_SKEW), "sync",
			    (double)e->skew / 1000.0, v, &err))
		log_warn("sync", "%s", err.msg);
}

/* ---- planning ---- */

/* Cuts [first, last] into pages of at most e->page candles and queues them. */
static int add_job(struct engine *e, struct sym *s, int64_t first, int64_t last)
{
	while (first <= last) {
		int64_t end, n = sync_plan_page(first, last, e->iv, e->page, &end);
		struct job *j;

		if (!(j = calloc(1, sizeof(*j))))
			return CK_ENOMEM;
		j->sym = s;
		j->first = first;
		j->last = end;
		j->limit = n;
		j->weight = binance_kline_weight(n);
		*e->qtail = j;
		e->qtail = &j->next;
		s->pending++;
		e->njobs_total++;
		first = interval_add(e->iv, end, 1);
	}
	return 0;
}

/* Chooses the page size (sync_plan_page_size), then queues the plan's pages. */
static int choose_page(struct engine *e)
{
	size_t i;

	e->page = sync_plan_page_size(&e->plan, e->iv, e->cfg->page_limit, e->budget);
	for (i = 0; i < e->plan.n; i++) {
		struct sym *s = &e->syms[e->plan.w[i].sym];
		s->pending--;
		if (add_job(e, s, e->plan.w[i].first, e->plan.w[i].last))
			return CK_ENOMEM;
	}
	return 0;
}

static int finish_symbol(struct engine *e, struct sym *s);

/* 1 if none of [first, last] is among the stored runs r[0..n). */
static int range_unstored(const struct store_range *r, size_t n, int64_t first, int64_t last)
{
	for (size_t i = 0; i < n; i++)
		if (r[i].first <= last && r[i].last >= first)
			return 0;
	return 1;
}

/* Missing history older than a day from the exchange's public archive (archive.h):
 * each planned range with no stored candle is offered to the archive, and the plan
 * keeps what no archive file gave (and every range that re-verifies stored candles). */
/* Appends window w's symbol and reason with first..last to the plan (the symbol has one
 * more window pending). */
static int plan_keep(struct engine *e, const struct plan_window *w, int64_t first, int64_t last)
{
	struct sync_plan *p = &e->plan;
	if (p->n == p->cap) {
		size_t cap = p->cap ? p->cap * 2 : 64;
		struct plan_window *nw = realloc(p->w, cap * sizeof(*nw));
		if (!nw)
			return CK_ENOMEM;
		p->w = nw;
		p->cap = cap;
	}
	p->w[p->n++] = (struct plan_window){w->sym, first, last, w->reason};
	e->syms[w->sym].pending++;
	return 0;
}

static int plan_archive(struct engine *e, struct ck_err *err)
{
	struct archive_opts ao;
	struct archive_want *w = NULL;
	struct archive_rest *r = NULL;
	struct archive_stats as = {0};
	struct sync_plan old = e->plan;
	size_t nold = old.n, nw = 0, nr = 0, i, k;
	int rc = 0;

	if (!e->cfg->archive_enabled)
		return 0;
	if (interval_is_month(e->iv)) {
		log_info("sync", "1M: the public archive is not read for calendar months (its"
				 " monthly files are not supported); the REST API fetches them");
		return 0;
	}
	archive_opts_init(&ao, e->cfg, e->server_now);
	ao.stop = e->stop;
	ao.deadline_mono = e->deadline;
	if (e->o->since_ms) { /* backfill: files the archive amended since they were read */
		const char **names = calloc(e->nsyms ? e->nsyms : 1, sizeof(*names));
		size_t nn = 0;
		if (!names)
			return ck_err_set(err, CK_ENOMEM, "archive: out of memory");
		for (i = e->lo; i < e->hi; i++)
			if (!e->syms[i].elsewhere)
				names[nn++] = e->syms[i].out->symbol;
		rc = archive_recheck(&ao, e->st, names, nn, &as, err);
		free(names);
		if (rc)
			return rc;
		e->res->counts.candles_revised += as.revised;
		memset(&as, 0, sizeof(as));
	}
	if (!nold)
		return 0;
	if (!(w = calloc(nold, sizeof(*w))))
		return ck_err_set(err, CK_ENOMEM, "archive: out of memory");
	for (i = 0; i < nold && !rc; i++) {
		struct store_range *runs = NULL;
		size_t nruns = 0;
		struct sym *s = &e->syms[old.w[i].sym];
		if ((rc = store_covered(e->st, s->out->symbol, e->cfg->interval, e->iv, &runs,
					&nruns, err)))
			break;
		if (range_unstored(runs, nruns, old.w[i].first, old.w[i].last))
			w[nw++] = (struct archive_want){s->out->symbol,
							old.w[i].first,
							old.w[i].last,
							s->state.first_open,
							&old.w[i],
							0,
							0};
		free(runs);
	}
	if (!rc && nw)
		rc = archive_fill(&ao, e->st, w, nw, &r, &nr, &as, err);
	if (rc || !nw)
		goto out;
	/* The new plan: the ranges not offered, then what the archive left. */
	memset(&e->plan, 0, sizeof(e->plan));
	for (i = 0; i < nold; i++)
		e->syms[old.w[i].sym].pending--;
	for (i = 0, k = 0; i < nold && !rc; i++) {
		struct sym *s = &e->syms[old.w[i].sym];
		if (k < nw && w[k].tag == &old.w[i]) {
			s->out->written += w[k].written;
			s->out->revised += w[k].revised;
			k++;
			continue;
		}
		rc = plan_keep(e, &old.w[i], old.w[i].first, old.w[i].last);
	}
	for (i = 0; i < nr && !rc; i++)
		rc = plan_keep(e, r[i].tag, r[i].first, r[i].last);
	e->res->counts.candles_written += as.written;
	e->res->counts.candles_revised += as.revised;
	for (i = e->lo; i < e->hi; i++) /* a symbol the archive filled entirely */
		if (e->syms[i].pending == 0 && !e->syms[i].out->status && !e->syms[i].elsewhere)
			finish_symbol(e, &e->syms[i]);
	sync_plan_release(&old);
	if (rc)
		rc = ck_err_set(err, CK_ENOMEM, "archive: out of memory");
out:
	free(w);
	free(r);
	return rc;
}

/* A symbol the exchange has no such symbol for (-1121), whichever request said so. */
#define NOT_LISTED "not listed on the exchange (delisted, renamed or not yet listed)"

/* The status exchangeInfo states for a symbol of a list when it is not TRADING
 * (SETTLING, BREAK...), taken at its word: the symbol is skipped without a request.
 * NULL otherwise: trading, or left out of the answer (one answer may be partial: the
 * symbol is fetched, and one that does not exist says so itself, -1121), or no answer,
 * or symbols = all (the stored listing, updated from this answer, decided). */
static const char *stated_not_trading(const struct engine *e, const struct binance_info *info,
				      const char *name)
{
	const struct binance_symbol *b =
		info && !e->from_listing ? binance_info_find(info, name) : NULL;

	return b && strcmp(b->status, "TRADING") ? b->status : NULL;
}

/* Where the symbol's history starts on the exchange: the first candle it returns for
 * startTime=0 (never an empty page, which proves nothing), into s->state; left
 * unknown when the probe fails (its error code is returned) or comes back empty. */
static int probe_start(struct engine *e, struct sym *s, struct http_req *rp, int done)
{
	const char *name = s->out->symbol;
	struct http_req r = *rp;
	struct kline *k = NULL;
	size_t n = 0;
	struct ck_err err;
	char t[32];

	memset(rp, 0, sizeof(*rp)); /* r owns the request (and its answer when done) now */
	if (call_simple_from(e, &r, done, "GET klines (first candle)", &err)) {
		if (err.code == CK_ENOTFOUND) { /* -1121: the exchange has no such symbol */
			sym_skip(s, NOT_LISTED ": %s", err.msg);
			return 0;
		}
		log_warn("sync", "%s: listing start unknown: %s", name, err.msg);
		return err.code;
	}
	if (kline_parse_page(r.body, r.len, &k, &n, &err) == 0 && n >= 1 && k[0].open_time > 0 &&
	    interval_floor(e->iv, k[0].open_time) == k[0].open_time) {
		s->state.first_open = k[0].open_time;
		log_kv(LOG_DEBUG, "sync", ((const char *[]){"symbol", name, NULL}),
		       "the exchange's first candle opens %s UTC",
		       kline_time_str(k[0].open_time, t, sizeof(t)));
	} else if (e->recheck) {
		s->state.first_open = 0;
	}
	free(k);
	http_req_release(&r);
	return 0;
}

/* The first candles the probes learnt (symbols whose state changed from before[]), in
 * one transaction. */
static int probe_write(struct engine *e, const size_t *idx, const int64_t *before, size_t nb,
		       struct ck_err *err)
{
	if (store_tx_begin(e->st, err))
		return err->code;
	for (size_t k = 0; k < nb; k++) {
		struct sym *s = &e->syms[idx[k]];
		if (s->state.first_open != before[k] &&
		    store_symbol_put(e->st, s->out->symbol, e->cfg->interval, &s->state, err)) {
			store_tx_rollback(e->st);
			return err->code;
		}
	}
	return store_tx_commit(e->st, err);
}

/* Probes the batch's symbols: their requests at once (one round trip, as many as
 * [sync] concurrency), each answer then taken (and retried) one by one as before, and
 * what they learnt written in one transaction. Sets *quit when the exchange is not
 * answering. */
static int probe_batch(struct engine *e, const size_t *idx, struct http_req *r, size_t nb,
		       int *quit, struct ck_err *err)
{
	int64_t before[INFLIGHT_MAX];
	int done[INFLIGHT_MAX], rc = 0;
	size_t k;

	prefetch(e, r, nb, done);
	for (k = 0; k < nb; k++) {
		struct sym *s = &e->syms[idx[k]];
		before[k] = s->state.first_open;
		if (*quit) {
			http_req_release(&r[k]);
			continue;
		}
		rc = probe_start(e, s, &r[k], done[k]);
		if (rc == CK_ENET || rc == CK_ETIMEOUT || rc == CK_ESTOPPED || rc == CK_EBANNED ||
		    e->refused_wait || e->fatal || *e->stop)
			*quit = 1; /* the exchange is not answering: the rest are probed next run */
	}
	for (k = 0; k < nb && before[k] == e->syms[idx[k]].state.first_open; k++)
		;
	if (k == nb)
		return 0;
	/* What the probes learnt is in memory: a connection lost in the transaction (the
	 * server undid it; the store makes a new one) is written once more on the new one,
	 * as planning does with its own (plan_batch). */
	rc = probe_write(e, idx, before, nb, err);
	if (rc == CK_ELOST) {
		log_warn("sync",
			 "%s; writing the first candles of %zu probed symbols again on the"
			 " new connection",
			 err->msg, nb);
		rc = probe_write(e, idx, before, nb, err);
		if (rc == CK_ELOST)
			ck_err_wrap(err, "writing the probed first candles failed again after a"
					 " new connection");
	}
	return rc;
}

/* Before planning (outside its transaction: these are network calls): learns where
 * each symbol starts on the exchange when that is not known yet, or is re-verified. */
static int probe_starts(struct engine *e, const struct binance_info *info, struct ck_err *err)
{
	struct http_req r[INFLIGHT_MAX];
	size_t idx[INFLIGHT_MAX], nb = 0, batch, i;
	int quit = 0;

	batch = e->cfg->concurrency < 1 ? 1 : (size_t)e->cfg->concurrency;
	if (batch > INFLIGHT_MAX)
		batch = INFLIGHT_MAX;
	for (i = e->lo; i < e->hi && !quit && !e->fatal && !*e->stop; i++) {
		struct sym *s = &e->syms[i];
		const char *name = s->out->symbol;
		if (s->elsewhere || stated_not_trading(e, info, name))
			continue; /* skipped by planning */
		if (store_symbol_get(e->st, name, e->cfg->interval, &s->state, err))
			goto fail;
		if (s->state.first_open && !e->recheck)
			continue;
		memset(&r[nb], 0, sizeof(r[nb]));
		if (binance_first_kline_url(r[nb].url, sizeof(r[nb].url), e->cfg->base_url, name,
					    e->cfg->interval))
			continue;
		idx[nb++] = i;
		if (nb == batch || i + 1 == e->hi) {
			if (probe_batch(e, idx, r, nb, &quit, err))
				return err->code;
			nb = 0;
		}
	}
	if (nb && !quit && !e->fatal && !*e->stop)
		return probe_batch(e, idx, r, nb, &quit, err);
	while (nb-- > 0)
		http_req_release(&r[nb]);
	return 0;
fail:
	while (nb-- > 0)
		http_req_release(&r[nb]);
	return err->code;
}

/* A new listing under symbols = all is fetched from its listing date, not only
 * history_days back: its history start is set once, before its first plan, to its first
 * candle (the probe's answer) or else the listing date exchangeInfo gives. */
static int plan_listing_start(struct engine *e, struct sym *s, struct ck_err *err)
{
	struct store_symbol ss;
	int64_t from;

	if (store_symbol_get(e->st, s->out->symbol, e->cfg->interval, &ss, err))
		return err->code;
	if (ss.history_start)
		return 0;
	from = ss.first_open ? ss.first_open : s->listed_from;
	if (from <= 0)
		return 0;
	ss.history_start = interval_ceil(e->iv, from);
	return store_symbol_put(e->st, s->out->symbol, e->cfg->interval, &ss, err);
}

/* Plans symbol i (sync_plan.h); each window holds the symbol open until its pages
 * are queued. */
static int plan_symbol(struct engine *e, size_t i, struct ck_err *err)
{
	struct sym *s = &e->syms[i];
	struct plan_symbol_info pi;
	int rc;

	if (s->listed_from && (rc = plan_listing_start(e, s, err)) != 0)
		return rc;
	rc = sync_plan_symbol(e->st, e->cfg, &e->pc, s->out->symbol, i, &s->state, &e->plan, &pi,
			      err);

	s->out->newest_open = pi.newest_open;
	s->pending += (int)pi.nwindows;
	return rc;
}

/* ---- finishing a symbol ---- */

static int range_add(struct sym *s, int64_t first, int64_t last)
{
	if (s->nok == s->capok) {
		size_t nc = s->capok ? s->capok * 2 : 8;
		struct range *nr = realloc(s->ok, nc * sizeof(*nr));
		if (!nr)
			return CK_ENOMEM;
		s->ok = nr;
		s->capok = nc;
	}
	s->ok[s->nok].first = first;
	s->ok[s->nok].last = last;
	s->nok++;
	return 0;
}

/* 1 when the ranges the exchange answered this run cover first..last. */
static int range_answered(const struct sym *s, int64_t first, int64_t last, int64_t iv)
{
	int64_t cur = first;
	size_t k;
	int moved = 1;

	while (cur <= last && moved) {
		moved = 0;
		for (k = 0; k < s->nok; k++)
			if (s->ok[k].first <= cur && cur <= s->ok[k].last) {
				cur = interval_add(iv, s->ok[k].last, 1);
				moved = 1;
			}
	}
	return cur > last;
}

/* One run's empty answer for the gap first..last (stored candles on both sides). A
 * hole is confirmed only on corroboration: empty again on a later run at least
 * HOLE_APART_MS after the first observation by both clocks, and both clocks at least
 * HOLE_AGE_MS past the gap's last candle. Anything less stays missing (re-fetched). */
#define HOLE_APART_MS (3600 * 1000LL)
#define HOLE_AGE_MS DAY_MS

int sync_hole_confirms(const struct store_hole *h, int64_t gap_last, int64_t iv, int64_t local,
		       int64_t exchange)
{
	int64_t end = interval_add(iv, gap_last, 1); /* the gap's last candle closes before this */
	return h->runs >= 1 && h->first_seen > 0 && local - h->first_seen >= HOLE_APART_MS &&
	       exchange - h->first_seen_exchange >= HOLE_APART_MS && local - end >= HOLE_AGE_MS &&
	       exchange - end >= HOLE_AGE_MS;
}

static void observe_hole(struct engine *e, struct sym *s, int64_t a, int64_t b)
{
	const char *name = s->out->symbol, *iv = e->cfg->interval;
	struct store_hole h;
	struct ck_err err;
	char t1[32], t2[32];
	int rc = store_hole_get(e->st, name, iv, a, b, &h, &err);

	if (rc && rc != CK_ENOTFOUND) {
		log_warn("sync", "%s: %s", name, err.msg);
		return;
	}
	kline_time_str(a, t1, sizeof(t1));
	kline_time_str(b, t2, sizeof(t2));
	if (rc == CK_ENOTFOUND) {
		memset(&h, 0, sizeof(h));
		h.first = a;
		h.last = b;
		h.first_seen = e->local_now;
		h.first_seen_exchange = e->server_now;
		h.runs = 1;
		if (store_hole_put(e->st, name, iv, &h, &err) == 0)
			log_kv(LOG_INFO, "sync", ((const char *[]){"symbol", name, NULL}),
			       "exchange answered no candles %s .. %s UTC: still missing; a hole "
			       "only"
			       " if empty again on a run an hour or more later",
			       t1, t2);
		else
			log_warn("sync", "%s: %s", name, err.msg);
		return;
	}
	if (h.confirmed_at)
		return;
	h.runs++;
	if (sync_hole_confirms(&h, b, e->iv, e->local_now, e->server_now)) {
		h.second_seen = e->local_now;
		h.confirmed_at = e->local_now;
	}
	if (store_hole_put(e->st, name, iv, &h, &err)) {
		log_warn("sync", "%s: %s", name, err.msg);
		return;
	}
	if (h.confirmed_at) {
		s->out->holes += interval_count(e->iv, a, b);
		log_kv(LOG_INFO, "sync", ((const char *[]){"symbol", name, NULL}),
		       "exchange has no candles %s .. %s UTC: empty on %" PRId64 " runs, recorded"
		       " as a confirmed hole",
		       t1, t2, h.runs);
	}
}

/* The claim key of symbol s (market/interval/symbol), and the state key that says when a
 * worker last finished it (claim_batch). */
static void claim_key(const struct engine *e, const struct sym *s, char *key, size_t size)
{
	snprintf(key, size, "%s/%s/%s", store_market(e->st), e->cfg->interval, s->out->symbol);
}

static void claim_done_key(const struct engine *e, const struct sym *s, char *key, size_t size)
{
	char k[96];
	claim_key(e, s, k, sizeof(k));
	snprintf(key, size, "claim_done:%s", k);
}

/* On a shared database, records that this sync brought s up to the newest closed
 * candle now ("<open time of that candle> <wall ms>"): a sync that started before now
 * and reaches s later does not fetch it again. A backfill or a re-verification asks
 * for more than that: it neither records nor honours the mark. */
static void claim_done(struct engine *e, const struct sym *s)
{
	char key[128], v[64];
	struct ck_err err;

	if (!store_shared(e->st) || e->recheck)
		return;
	claim_done_key(e, s, key, sizeof(key));
	snprintf(v, sizeof(v), "%" PRId64 " %" PRId64, e->pc.last_closed, now_ms());
	if (store_state_set(e->st, key, v, &err))
		log_warn("sync", "%s", err.msg);
}

static int finish_symbol(struct engine *e, struct sym *s)
{
	const char *name = s->out->symbol, *iv = e->cfg->interval;
	struct store_span span;
	struct ck_err err;

	e->syms_done++;
	if (!s->skipped && !s->failed && s->nok && e->cfg->gap_repair) {
		/* Gaps the exchange answered empty this run: evidence for the hole ledger.
		 * Only a gap inside the ranges answered can be one, and the candles on its
		 * two sides then lie within one interval of them: the gaps of that stretch,
		 * not of all history (on a store without the coverage ledger, PostgreSQL,
		 * that is a scan of the stretch's candles instead of every candle). */
		struct store_gap *g = NULL;
		size_t n = 0, i;
		int64_t lo = s->ok[0].first, hi = s->ok[0].last;
		for (i = 1; i < s->nok; i++) {
			if (s->ok[i].first < lo)
				lo = s->ok[i].first;
			if (s->ok[i].last > hi)
				hi = s->ok[i].last;
		}
		if (store_gaps(e->st, name, iv, e->iv, interval_add(e->iv, lo, -1),
			       interval_add(e->iv, hi, 1), 0, &g, &n, &err) == 0) {
			for (i = 0; i < n; i++)
				if (range_answered(s, g[i].first, g[i].last, e->iv))
					observe_hole(e, s, g[i].first, g[i].last);
			free(g);
		}
		if (store_holes_prune(e->st, name, iv, &err))
			log_warn("sync", "%s: %s", name, err.msg);
	}
	/* The newest candle stored, as the run reads it back: its record, its output and
	 * health's freshness say it. A read that fails is not a symbol "ok" with no candle:
	 * it is read once more (a lost database connection is made again in between), then
	 * the symbol fails with the reason (what it stored stays; the next run reads it). */
	if (store_span(e->st, name, iv, 0, INT64_MAX, 0, &span, &err) != 0 &&
	    (err.code != CK_ELOST ||
	     store_span(e->st, name, iv, 0, INT64_MAX, 0, &span, &err) != 0))
		sym_fail(e, s, "reading back what was stored: %s", err.msg);
	else
		s->out->newest_open = span.count ? span.last_open : 0;
	if (s->skipped) {
		s->out->status = "skipped";
		e->res->counts.symbols_skipped++;
	} else if (s->failed) {
		s->out->status = "failed";
		e->res->counts.symbols_failed++;
	} else {
		s->out->status = "ok";
		e->res->counts.symbols_ok++;
		claim_done(e, s);
	}
	{
		char written[24], revised[24], newest[32];
		snprintf(written, sizeof(written), "%" PRId64, s->out->written);
		snprintf(revised, sizeof(revised), "%" PRId64, s->out->revised);
		kline_time_str(s->out->newest_open, newest, sizeof(newest));
		log_kv(s->failed    ? LOG_ERROR
		       : s->skipped ? LOG_WARN
				    : LOG_INFO,
		       "sync",
		       ((const char *[]){"symbol", name, "status", s->out->status, "written",
					 written, "revised", revised, "newest",
					 s->out->newest_open ? newest : "none", NULL}),
		       "%s%s%s", name, s->out->error[0] ? ": " : "", s->out->error);
	}
	return 0;
}

static void job_done(struct engine *e, struct job *j)
{
	struct sym *s = j->sym;
	http_req_release(&j->req);
	free(j);
	e->njobs_done++;
	if (--s->pending == 0)
		finish_symbol(e, s);
}

/* Fails every job still queued (run-wide reason already in res->error). */
static void drain_queue(struct engine *e, const char *why)
{
	while (e->queue) {
		struct job *j = e->queue;
		e->queue = j->next;
		sym_fail(e, j->sym, "%s", why);
		job_done(e, j);
	}
	e->qtail = &e->queue;
}

/* ---- the fetch loop ---- */

static int64_t weight_estimate(struct engine *e)
{
	int64_t minute = now_ms() / 60000, est;
	if (minute != e->minute) {
		e->minute = minute;
		e->reported = 0;
		e->sent = e->inflight_weight;
	}
	est = e->reported + e->inflight_weight;
	return est > e->sent ? est : e->sent;
}

static int start_job(struct engine *e, struct job *j, struct ck_err *err)
{
	if (binance_klines_url(j->req.url, sizeof(j->req.url), e->cfg->base_url,
			       j->sym->out->symbol, e->cfg->interval, j->first, j->last, j->limit))
		return ck_err_set(err, CK_EUSAGE, "base_url %s is too long", e->cfg->base_url);
	j->req.user = j;
	if (http_start(e->http, &j->req, err))
		return err->code;
	j->inflight = 1;
	j->rprev = NULL;
	j->rnext = e->running;
	if (e->running)
		e->running->rprev = j;
	e->running = j;
	e->inflight_weight += j->weight;
	e->sent += j->weight;
	e->res->counts.requests++;
	return 0;
}

static void requeue(struct engine *e, struct job *j, int64_t wait)
{
	j->not_before = mono_ms() + wait;
	j->inflight = 0;
	/* To the front, so a symbol's retried page does not wait behind everything. */
	j->next = e->queue;
	e->queue = j;
	if (e->qtail == &e->queue)
		e->qtail = &j->next;
}

static void handle_page(struct engine *e, struct job *j)
{
	struct sym *s = j->sym;
	const char *name = s->out->symbol;
	struct kline *k = NULL;
	size_t n = 0, keep;
	struct ck_err err;
	struct store_page_result pr;
	char desc[256];

	if (kline_parse_page(j->req.body, j->req.len, &k, &n, &err)) {
		/* A body that is not a klines array: a damaged transfer, retried as one. */
		int64_t w = retry_next(&e->rp, &j->rs, BN_NET, -1, &e->rng);
		e->res->counts.net_errors++;
		if (w >= 0) {
			e->res->counts.retries++;
			log_warn("sync", "%s: bad response body (%s); retry in %" PRId64 " ms",
				 name, err.msg, w);
			http_req_release(&j->req);
			requeue(e, j, w);
			return;
		}
		sym_fail(e, s, "bad response body after %" PRId64 " retries: %s", j->rs.net,
			 err.msg);
		job_done(e, j);
		return;
	}
	/* Never keep a candle that had not closed by both clocks. */
	for (keep = n; keep > 0 && k[keep - 1].close_time >= e->close_limit; keep--)
		;
	if (kline_validate_page(k, keep, name, e->iv, j->first, j->last, &err)) {
		sym_fail(e, s, "invalid data, page not stored (not retried): %s", err.msg);
		log_kv(LOG_ERROR, "sync", ((const char *[]){"symbol", name, NULL}), "%s", err.msg);
		free(k);
		job_done(e, j);
		return;
	}
	if (keep && store_put_page(e->st, name, e->cfg->interval, k, keep, &pr, &err)) {
		sym_fail(e, s, "%s", err.msg);
		if (err.code == CK_EFULL || err.code == CK_ECORRUPT || err.code == CK_EIO) {
			snprintf(e->res->error, sizeof(e->res->error), "%s", err.msg);
			e->fatal = 1;
		}
		free(k);
		job_done(e, j);
		return;
	}
	if (keep) {
		s->out->written += pr.written;
		s->out->revised += pr.revised;
		e->res->counts.candles_written += pr.written;
		e->res->counts.candles_revised += pr.revised;
		if (pr.revised)
			log_kv(LOG_WARN, "sync", ((const char *[]){"symbol", name, NULL}),
			       "%" PRId64
			       " stored candles differed from the exchange and were revised",
			       pr.revised);
	}
	(void)desc;
	range_add(s, j->first, j->last);
	/* A full page that stopped short of the range: ask for the rest. */
	if (keep == (size_t)j->limit && k[keep - 1].open_time < j->last) {
		int64_t next = interval_add(e->iv, k[keep - 1].open_time, 1);
		s->ok[s->nok - 1].last = k[keep - 1].open_time;
		free(k);
		if (add_job(e, s, next, j->last))
			sym_fail(e, s, "out of memory");
		job_done(e, j);
		return;
	}
	free(k);
	job_done(e, j);
}

static void unlink_running(struct engine *e, struct job *j)
{
	if (j->rprev)
		j->rprev->rnext = j->rnext;
	else
		e->running = j->rnext;
	if (j->rnext)
		j->rnext->rprev = j->rprev;
	j->rnext = j->rprev = NULL;
	j->inflight = 0;
	e->inflight_weight -= j->weight;
}

static void handle_done(struct engine *e, struct job *j)
{
	struct http_req *r = &j->req;
	struct sym *s = j->sym;
	enum bn_class c = binance_classify(r);
	char desc[256];
	int64_t w;

	unlink_running(e, j);
	note_weight(e, r);
	if (c == BN_OK) {
		handle_page(e, j);
		return;
	}
	http_req_describe(r, desc, sizeof(desc));
	switch (c) {
	case BN_NET:
		e->res->counts.net_errors++;
		break;
	case BN_5XX:
		e->res->counts.http_5xx++;
		break;
	case BN_429:
		e->res->counts.http_429++;
		break;
	case BN_418:
		e->res->counts.http_418++;
		note_ban(e, r);
		http_req_release(r);
		requeue(e, j, 0); /* waits for the ban like every other job */
		return;
	case BN_GEO:
	case BN_WAF: {
		snprintf(e->res->error, sizeof(e->res->error),
			 c == BN_GEO ? "HTTP 451 from the exchange: this location is restricted;"
				       " run from an allowed location or set [main] base_url"
				     : "HTTP 403 from the exchange: blocked by its firewall (WAF);"
				       " check the IP and User-Agent and wait before retrying");
		e->fatal = 1;
		sym_fail(e, s, "%s", e->res->error);
		job_done(e, j);
		return;
	}
	case BN_BADREQ: {
		int code = 0;
		char msg[160] = "";
		if (r->body && binance_parse_error(r->body, r->len, &code, msg, sizeof(msg)) == 0 &&
		    code == -1121)
			sym_skip(s, NOT_LISTED ": %d %s", code, msg);
		else if (msg[0])
			sym_fail(e, s, "%s: %d %s (not retried)", desc, code, msg);
		else
			sym_fail(e, s, "%s (not retried)", desc);
		job_done(e, j);
		return;
	}
	default:
		break;
	}
	w = retry_next(&e->rp, &j->rs, c, r->retry_after_s, &e->rng);
	if (w >= 0 && c == BN_429 && !retry_wait_fits(&e->rp, w, time_left(e))) {
		struct ck_err rerr;
		refuse_wait(e, "GET /fapi/v1/klines", desc, w, r->retry_after_s, &rerr);
		sym_fail(e, s, "%s", rerr.msg);
		job_done(e, j);
		return;
	}
	if (w < 0) {
		sym_fail(e, s, "%s; gave up after %" PRId64 " retries", desc,
			 j->rs.net + j->rs.r429 + j->rs.r5xx);
		job_done(e, j);
		return;
	}
	e->res->counts.retries++;
	log_kv(LOG_WARN, "sync", ((const char *[]){"symbol", s->out->symbol, NULL}),
	       "%s; retry in %" PRId64 " ms", desc, w);
	if (c == BN_429 && mono_ms() + w > e->pause_until)
		e->pause_until = mono_ms() + w;
	http_req_release(r);
	requeue(e, j, w);
}

static void report_progress(struct engine *e, int force)
{
	struct sync_progress p;
	int64_t now = mono_ms();

	if (!e->o->progress || (!force && now - e->last_progress < 500))
		return;
	e->last_progress = now;
	p.symbols_done = e->syms_done;
	p.symbols_total = e->nsyms;
	p.candles = e->res->counts.candles_written;
	p.pages_done = (int64_t)e->njobs_done;
	p.pages_total = (int64_t)e->njobs_total;
	p.elapsed_ms = now - e->t0;
	e->o->progress(&p, e->o->progress_arg);
}

/* Starts queued jobs that are due, while slots and the weight budget allow; lowers
 * *wake to the time something next becomes possible. */
static void issue_jobs(struct engine *e, int64_t now, int64_t *wake, struct ck_err *err)
{
	struct job **pp = &e->queue;
	while (*pp && http_inflight(e->http) < (size_t)e->cfg->concurrency) {
		struct job *j = *pp;
		if (j->not_before > now) {
			if (j->not_before < *wake)
				*wake = j->not_before;
			pp = &j->next;
			continue;
		}
		if (weight_estimate(e) + j->weight > e->budget) {
			int64_t next_minute = (now_ms() / 60000 + 1) * 60000;
			int64_t w = now + (next_minute - now_ms());
			log_debug("sync",
				  "weight budget reached (%" PRId64 "/%" PRId64
				  "); waiting for the next minute",
				  weight_estimate(e), e->budget);
			if (w < *wake || !http_inflight(e->http))
				*wake = w;
			break;
		}
		*pp = j->next;
		if (e->qtail == &j->next)
			e->qtail = pp;
		j->next = NULL;
		if (start_job(e, j, err)) {
			sym_fail(e, j->sym, "%s", err->msg);
			job_done(e, j);
			continue;
		}
	}
}

/* Handles the requests that completed in one turn of the loop; their pages are
 * stored in one transaction (group commit: one fsync, each page still all or nothing
 * as a savepoint; a crash loses the group, never part of a page). A failed commit
 * fails the group's symbols (their pages were not stored, the next run fetches them
 * again) and is run-wide, unless the database connection was lost (CK_ELOST): the
 * store connects again and the run goes on with the other symbols. */
static void store_group(struct engine *e, struct http_req **done, size_t nd)
{
	struct ck_err gerr;
	char why[sizeof(e->res->error)];
	struct sym *gs[INFLIGHT_MAX];
	int64_t w0[INFLIGHT_MAX], r0[INFLIGHT_MAX], cw = e->res->counts.candles_written,
						    cr = e->res->counts.candles_revised;
	int group = nd > 1 && nd <= INFLIGHT_MAX && store_tx_begin(e->st, &gerr) == 0;
	size_t i;

	for (i = 0; group && i < nd; i++) {
		gs[i] = ((struct job *)done[i]->user)->sym;
		w0[i] = gs[i]->out->written;
		r0[i] = gs[i]->out->revised;
	}
	for (i = 0; i < nd; i++)
		handle_done(e, (struct job *)done[i]->user);
	if (!group || store_tx_commit(e->st, &gerr) == 0)
		return;
	/* Nothing of the group was stored: its symbols failed, its counts are undone. */
	snprintf(why, sizeof(why), "storing %zu pages (one transaction): %s", nd, gerr.msg);
	log_error("sync", "%s", why);
	if (gerr.code != CK_ELOST) {
		snprintf(e->res->error, sizeof(e->res->error), "%s", why);
		e->fatal = 1;
	}
	e->res->counts.candles_written = cw;
	e->res->counts.candles_revised = cr;
	for (i = nd; i-- > 0;) {
		struct sym *s = gs[i];
		s->out->written = w0[i];
		s->out->revised = r0[i];
		if (s->out->status && !strcmp(s->out->status, "ok")) {
			s->out->status = "failed";
			e->res->counts.symbols_ok--;
			e->res->counts.symbols_failed++;
			s->failed = 1;
			snprintf(s->out->error, sizeof(s->out->error), "%s", why);
		} else {
			sym_fail(e, s, "%s", why);
		}
	}
}

/* 1 when the run lock was lost and could not be taken again: the run stops (fatal). */
static int lock_lost(struct engine *e)
{
	struct ck_err lerr = {0, ""};

	if (!e->o->lock || lock_check(e->o->lock, &lerr) == 0)
		return 0;
	snprintf(e->res->error, sizeof(e->res->error), "%s", lerr.msg);
	log_error("sync", "%s", lerr.msg);
	e->fatal = 1;
	return 1;
}

static int fetch_loop(struct engine *e, struct ck_err *err)
{
	struct http_req *done[INFLIGHT_MAX];

	while (e->queue || http_inflight(e->http)) {
		int64_t now = mono_ms(), wake = now + 200;
		size_t nd = 0, i;

		if (*e->stop) {
			e->res->stopped = 1;
			snprintf(e->res->error, sizeof(e->res->error), "stopped by a signal");
			break;
		}
		if (e->deadline && now >= e->deadline) {
			e->res->timed_out = 1;
			snprintf(e->res->error, sizeof(e->res->error),
				 "the run's deadline ([sync] timeout %" PRId64 " s) passed",
				 e->cfg->timeout_s);
			break;
		}
		if (e->fatal || lock_lost(e))
			break;
		if (e->ban_until > now_ms()) {
			int64_t left = e->ban_until - now_ms();
			if (e->deadline && now + left > e->deadline) {
				char t[32];
				snprintf(e->res->error, sizeof(e->res->error),
					 "the exchange banned this IP (HTTP 418) until %s UTC, "
					 "after the"
					 " run's deadline; no request sent until then",
					 kline_time_str(e->ban_until, t, sizeof(t)));
				e->fatal = 1;
				break;
			}
			if (now + left < wake)
				wake = now + left;
		} else if (now >= e->pause_until) {
			issue_jobs(e, now, &wake, err);
		} else if (e->pause_until < wake) {
			wake = e->pause_until;
		}
		if (http_inflight(e->http)) {
			int64_t w = wake - mono_ms();
			if (w < 1)
				w = 1;
			if (w > 200)
				w = 200;
			if (http_poll(e->http, (int)w, done, INFLIGHT_MAX, &nd, err))
				return err->code;
			/* Refill the freed slots before storing the finished pages (one
			 * fsync'd transaction), unless one of them says to slow down. */
			for (i = 0; i < nd; i++) {
				enum bn_class c = binance_classify(done[i]);
				if (c == BN_429 || c == BN_418)
					break;
			}
			if (nd && i == nd && !*e->stop && e->ban_until <= now_ms() &&
			    mono_ms() >= e->pause_until && !e->fatal) {
				issue_jobs(e, mono_ms(), &wake, err);
				http_kick(e->http); /* send them now, not at the next poll */
			}
			store_group(e, done, nd);
		} else if (e->queue) {
			int64_t w = wake - mono_ms();
			if (w > 0) {
				if (w > 200)
					w = 200;
				ck_sleep_ms(w, e->stop);
			}
		}
		report_progress(e, 0);
	}
	return 0;
}

/* ---- the run ---- */

/* Logs what an exchangeInfo changed in the listing (listing_observe at now). */
static void log_listing(const struct listing *l, int64_t now)
{
	char t[32];

	for (size_t i = 0; i < l->n; i++) {
		const struct listing_entry *x = &l->e[i];
		if (listing_trading(x) && x->missing_since == now)
			log_warn("sync",
				 "%s: left out of exchangeInfo; still fetched, as one answer is"
				 " no delisting (no longer fetched if the next one leaves it out"
				 " too)",
				 x->symbol);
		if (x->since != now || l->started == now)
			continue; /* unchanged, or the first observation */
		if (listing_trading(x) && x->first_seen == now)
			log_info("sync", "%s: newly listed%s%s; fetched from its listing date",
				 x->symbol, x->onboard ? " on " : "",
				 x->onboard ? kline_time_str(x->onboard, t, sizeof(t)) : "");
		else if (listing_trading(x))
			log_info("sync", "%s: trading again; fetched again", x->symbol);
		else
			log_info("sync",
				 "%s: no longer trading (%s); its candles are kept, it is no"
				 " longer fetched",
				 x->symbol, x->status);
	}
}

/* "all": every TRADING symbol of the market, from the stored listing updated with this
 * exchangeInfo (listing.h). An answer that lists nothing trading, or none, leaves the
 * stored listing as it is and the run syncs its trading symbols. */
static int resolve_all(struct engine *e, const struct binance_info *info, struct ck_err *err)
{
	struct listing l;
	size_t i, n;
	int changed = 0, rc;

	if ((rc = listing_load(e->st, &l, err)) != 0)
		return rc;
	if ((rc = listing_observe(&l, info, e->started, &changed, err)) < 0)
		goto out;
	if (rc == 0 && !l.started) {
		rc = ck_err_set(err, CK_ENET,
				"symbols = all needs %s/exchangeInfo, which %s; run sync again"
				" when it answers",
				binance_market()->prefix,
				info ? "lists no symbol of the market trading" : "failed");
		goto out;
	}
	if (rc == 0) {
		e->info_untrusted = info != NULL;
		log_warn("sync",
			 "exchangeInfo %s; syncing the %zu trading symbols of the stored listing,"
			 " nothing delisted on its word",
			 info ? "lists no symbol trading" : "failed", listing_count(&l, 1));
	}
	rc = 0;
	if (changed) {
		log_listing(&l, e->started);
		if ((rc = listing_save(e->st, &l, err)) != 0)
			goto out;
	}
	n = listing_count(&l, 1);
	e->from_listing = 1;
	e->syms = calloc(n ? n : 1, sizeof(*e->syms));
	e->res->symbols = calloc(n ? n : 1, sizeof(*e->res->symbols));
	if (!e->syms || !e->res->symbols) {
		rc = ck_err_set(err, CK_ENOMEM, "out of memory");
		goto out;
	}
	for (i = 0; i < l.n; i++) {
		const struct listing_entry *x = &l.e[i];
		struct sym *s = &e->syms[e->nsyms];
		if (!listing_trading(x))
			continue;
		snprintf(e->res->symbols[e->nsyms].symbol, sizeof(e->res->symbols[0].symbol), "%s",
			 x->symbol);
		s->out = &e->res->symbols[e->nsyms];
		if (listing_is_new(&l, x))
			s->listed_from = x->onboard > 0 ? x->onboard : -1;
		e->nsyms++;
	}
	e->res->nsymbols = e->nsyms;
out:
	listing_release(&l);
	return rc;
}

static int resolve_symbols(struct engine *e, const struct binance_info *info, struct ck_err *err)
{
	char **list = NULL;
	size_t n = 0, i;
	int rc = cfg_symbols_list(e->cfg, &list, &n, err);

	if (rc == CK_ENOTFOUND)
		return resolve_all(e, info, err);
	if (rc)
		return rc;
	e->syms = calloc(n ? n : 1, sizeof(*e->syms));
	e->res->symbols = calloc(n ? n : 1, sizeof(*e->res->symbols));
	if (!e->syms || !e->res->symbols) {
		cfg_symbols_free(list, n);
		return ck_err_set(err, CK_ENOMEM, "out of memory");
	}
	for (i = 0; i < n; i++) {
		snprintf(e->res->symbols[i].symbol, sizeof(e->res->symbols[i].symbol), "%s",
			 list[i]);
		e->syms[i].out = &e->res->symbols[i];
	}
	e->nsyms = e->res->nsymbols = n;
	cfg_symbols_free(list, n);
	return 0;
}

/* Sets up the engine (nothing that needs freeing but e->http). */
static int engine_init(struct engine *e, struct store *st, const struct cfg *cfg,
		       const struct sync_opts *o, volatile sig_atomic_t *stop,
		       int64_t deadline_mono, struct sync_result *res, struct ck_err *err)
{
	static const struct sync_opts no_opts;
	struct http_opts ho;

	memset(res, 0, sizeof(*res));
	memset(e, 0, sizeof(*e));
	e->st = st;
	e->cfg = cfg;
	e->o = o ? o : &no_opts;
	e->res = res;
	e->stop = stop;
	e->deadline = deadline_mono;
	e->iv = cfg->interval_ms;
	e->qtail = &e->queue;
	e->rng = (uint64_t)now_ms() ^ ((uint64_t)getpid() << 32);
	e->t0 = mono_ms();
	e->started = now_ms();
	retry_policy_from_cfg(&e->rp, cfg);
	ho.connect_timeout_ms = cfg->connect_timeout_ms;
	ho.request_timeout_ms = cfg->request_timeout_ms;
	ho.user_agent = cfg->user_agent;
	ho.max_host_connections = 0;
	if (http_new(&e->http, &ho, err))
		return err->code;
	return 0;
}

/* A ban from an earlier run still holds: send nothing before it ends (or fail when it
 * ends after the run's deadline). */
static int honour_ban(struct engine *e, struct ck_err *err)
{
	char buf[64];
	int rc;

	if (store_state_get(e->st, "ban_until", buf, sizeof(buf), NULL) == 0) {
		e->ban_until = strtoll(buf, NULL, 10);
		/* A ban stored before max_ban existed (or with a larger one) is capped too. */
		if (e->ban_until > now_ms() + e->rp.max_ban_s * 1000) {
			e->ban_until = now_ms() + e->rp.max_ban_s * 1000;
			log_warn("sync",
				 "the stored HTTP 418 ban ends after [sync] max_ban; honoured"
				 " for %" PRId64 " s only",
				 e->rp.max_ban_s);
		}
	}
	if (e->ban_until > now_ms() && e->deadline &&
	    mono_ms() + (e->ban_until - now_ms()) > e->deadline) {
		char t[32];
		return ck_err_set(err, CK_EBANNED,
				  "the exchange banned this IP (HTTP 418) until %s UTC, after this"
				  " run's deadline; no request sent",
				  kline_time_str(e->ban_until, t, sizeof(t)));
	}
	if (e->ban_until > now_ms()) {
		log_warn("sync", "an HTTP 418 ban is in force for %" PRId64 " s more; waiting",
			 (e->ban_until - now_ms()) / 1000);
		if ((rc = wait_ms(e, e->ban_until - now_ms())) != 0)
			return ck_err_set(err, rc, "waiting for the exchange's ban to end: %s",
					  rc == CK_ESTOPPED ? "stopped" : "run deadline passed");
	}
	return 0;
}

/* The exchange's time decides which candles are closed, not the local clock. r holds
 * the URL, and the answer when done (prefetch). */
static int fetch_server_time(struct engine *e, struct http_req *r, int done, struct ck_err *err)
{
	int rc;

	if ((rc = call_simple_from(e, r, done, "GET /fapi/v1/time", err)) != 0)
		return rc;
	rc = binance_parse_time(r->body, r->len, &e->server_now, err);
	http_req_release(r);
	if (rc)
		return rc;
	e->res->server_time = e->server_now;
	note_clock(e);
	return 0;
}

/* exchangeInfo: the weight limit and budget, and which symbols exist and trade. Sets
 * *have_info; fails only when the exchange asked for a wait longer than the run's. */
static int fetch_exchange_info(struct engine *e, struct http_req *rp, int done,
			       struct binance_info *info, int *have_info, struct ck_err *err)
{
	const struct cfg *cfg = e->cfg;
	struct http_req *r = rp;

	*have_info = 0;
	if (call_simple_from(e, r, done, "GET /fapi/v1/exchangeInfo", err) == 0 &&
	    binance_parse_exchange_info(r->body, r->len, info, err) == 0) {
		*have_info = 1;
	} else if (e->refused_wait) {
		return err->code;
	} else
		log_warn("sync", "%s; going on without it (weight limit %d assumed)", err->msg,
			 BINANCE_WEIGHT_DEFAULT);
	http_req_release(r);
	{
		/* The real limit per market, never above the configured one (sync.h). */
		const char *why = "";
		int64_t rep = *have_info ? info->weight_limit : 0;
		e->weight_limit = binance_weight_limit(cfg->weight_limit, rep, &why);
		if (why[0])
			log_warn("sync",
				 "exchangeInfo reports a request weight limit of %" PRId64
				 " per minute, %s; working with %" PRId64 " per minute",
				 rep, why, e->weight_limit);
	}
	if (*have_info && info->weight_limit > 0) {
		/* for the metrics: the limit the exchange reports, when none is configured */
		struct ck_err e2 = {0, ""};
		char v[32], was[32] = "";
		snprintf(v, sizeof(v), "%" PRId64, (int64_t)info->weight_limit);
		/* written when it changes: a write is an fsync before the first klines request */
		if ((store_state_get(e->st, "exchange.weight_limit", was, sizeof(was), NULL) ||
		     strcmp(was, v)) &&
		    store_state_set(e->st, "exchange.weight_limit", v, &e2))
			log_warn("sync", "%s", e2.msg);
	}
	e->budget = e->weight_limit * (100 - cfg->weight_reserve_pct) / 100;
	if (e->budget < 10)
		e->budget = 10;
	return 0;
}

/* Resolves the symbols and fixes the planner's clocks (and, for a re-verification,
 * marks the confirmed holes for it). */
static int plan_run(struct engine *e, const struct binance_info *info, struct ck_err *err)
{
	int rc;

	if ((rc = resolve_symbols(e, info, err)) != 0)
		return rc;
	if (info && !e->info_untrusted && e->nsyms && !binance_info_trading(info)) {
		/* An answer with nothing trading is a broken answer, not every configured
		 * symbol delisted at once: one such observation skips nothing. The symbols are
		 * fetched as without exchangeInfo (a symbol that does not exist fails on its
		 * own klines request). */
		e->info_untrusted = 1;
		log_warn("sync",
			 "exchangeInfo lists no symbol trading (%zu listed); not trusted: syncing"
			 " the %zu configured symbols without it",
			 info->nsymbols, e->nsyms);
	}
	if (e->info_untrusted)
		info = NULL;    /* judged on the stored listing, or on the klines answers */
	if (info && e->nsyms) { /* judged on every configured symbol, before the claims */
		size_t listed = 0;
		for (size_t i = 0; i < e->nsyms; i++) {
			const struct binance_symbol *b =
				binance_info_find(info, e->syms[i].out->symbol);
			listed += b && !strcmp(b->status, "TRADING");
		}
		e->res->none_listed = listed == 0;
	}
	e->recheck = e->o->recheck || e->o->since_ms;
	if (e->recheck) {
		int64_t nh = 0;
		if ((rc = store_holes_recheck(e->st, e->cfg->interval, &nh, err)) != 0)
			return rc;
		log_info("sync",
			 "re-verifying %" PRId64 " confirmed exchange holes and every"
			 " symbol's listing start",
			 nh);
	}
	e->pc.iv = e->iv;
	e->pc.server_now = e->server_now;
	e->pc.since_ms = e->o->since_ms;
	sync_plan_verify(e->st, e->cfg, &e->pc);
	return 0;
}

/* Plans every symbol of the batch syms[lo, hi) in one transaction (the state it
 * writes: one fsync, not one a symbol); symbols skipped or with nothing to fetch are
 * finished after its commit. A failure rolls it back and leaves what was planned in
 * memory to the caller (plan_batch undoes it). */
static int plan_batch_once(struct engine *e, const struct binance_info *info, struct ck_err *err)
{
	size_t i;
	int rc;

	if ((rc = store_tx_begin(e->st, err)) != 0)
		return rc;
	for (i = e->lo; i < e->hi; i++) {
		struct sym *s = &e->syms[i];
		if (s->elsewhere)
			continue;
		const char *st = stated_not_trading(e, info, s->out->symbol);
		if (s->skipped) {
			/* its first-candle probe was answered -1121: nothing to plan */
		} else if (st) {
			sym_skip(s, "status %s on the exchange (delisted or suspended)", st);
		} else if ((rc = plan_symbol(e, i, err)) != 0) {
			store_tx_rollback(e->st);
			return rc;
		}
	}
	if ((rc = store_tx_commit(e->st, err)) != 0)
		return rc;
	for (i = e->lo; i < e->hi; i++)
		if (!e->syms[i].elsewhere && e->syms[i].pending == 0)
			finish_symbol(e, &e->syms[i]); /* skipped, or nothing to fetch */
	return 0;
}

/* Probes listing starts and plans the batch (plan_batch_once). A database connection
 * lost inside the planning transaction (CK_ELOST: the server undid it, and the store
 * made a new connection) has the batch planned once more on the new one, after what
 * the first attempt planned in memory is undone (its windows, the symbols' pending
 * counts, states, skips); planning writes only per-symbol state, which the rollback
 * undid, so the second attempt plans the same. A second loss, or any other failure,
 * fails the run. */
static int plan_batch(struct engine *e, const struct binance_info *info, struct ck_err *err)
{
	size_t n = e->hi - e->lo, i, nplan = e->plan.n;
	struct sym *saved_sym = NULL;
	struct sync_symbol *saved_out = NULL;
	int rc;

	if ((rc = probe_starts(e, info, err)) != 0)
		return rc;
	if (n && (!(saved_sym = malloc(n * sizeof(*saved_sym))) ||
		  !(saved_out = malloc(n * sizeof(*saved_out))))) {
		free(saved_sym);
		return ck_err_set(err, CK_ENOMEM, "planning the symbols: out of memory");
	}
	for (i = 0; i < n; i++) {
		saved_sym[i] = e->syms[e->lo + i];
		saved_out[i] = *e->syms[e->lo + i].out;
	}
	rc = plan_batch_once(e, info, err);
	if (rc == CK_ELOST) {
		log_warn("sync",
			 "%s; planning the %zu symbols of this batch again on the new"
			 " connection",
			 err->msg, n);
		e->plan.n = nplan;
		for (i = 0; i < n; i++) {
			e->syms[e->lo + i] = saved_sym[i];
			*e->syms[e->lo + i].out = saved_out[i];
		}
		rc = plan_batch_once(e, info, err);
		if (rc == CK_ELOST)
			ck_err_wrap(err, "planning failed again after a new connection");
	}
	free(saved_sym);
	free(saved_out);
	return rc;
}

/* Cuts the plan into pages and fetches them; when the run stops early, what is still
 * queued or in flight fails its symbols. */
static int fetch_run(struct engine *e, struct ck_err *err)
{
	char buf[64];
	size_t i;
	int rc;

	/* What the public archive holds of the plan is taken from it first; the rest
	 * stays in the plan for REST. */
	if ((rc = plan_archive(e, err)) != 0)
		return rc;
	if (choose_page(e))
		return ck_err_set(err, CK_ENOMEM, "planning the pages: out of memory");
	{
		char n1[24], n2[24], n3[24];
		snprintf(n1, sizeof(n1), "%zu", e->nsyms);
		snprintf(n2, sizeof(n2), "%zu", e->njobs_total);
		char n4[24];
		snprintf(n3, sizeof(n3), "%" PRId64, e->budget);
		snprintf(n4, sizeof(n4), "%" PRId64, e->page);
		log_kv(LOG_INFO, "sync",
		       ((const char *[]){"symbols", n1, "pages", n2, "page_size", n4,
					 "weight_budget", n3, "server_time",
					 kline_time_str(e->server_now, buf, sizeof(buf)), NULL}),
		       "fetching");
	}
	rc = fetch_loop(e, err);
	if (e->queue || e->running) {
		/* Stopped early: what is still queued or in flight did not finish. */
		char why[256];
		snprintf(why, sizeof(why), "not fetched: %s",
			 e->res->error[0] ? e->res->error : "the run stopped");
		while (e->running) {
			struct job *j = e->running;
			unlink_running(e, j);
			http_abort(e->http, &j->req);
			sym_fail(e, j->sym, "%s", why);
			job_done(e, j);
		}
		drain_queue(e, why);
		for (i = 0; i < e->nsyms; i++)
			if (e->syms[i].pending > 0) {
				sym_fail(e, &e->syms[i], "%s", why);
				e->syms[i].pending = 0;
				finish_symbol(e, &e->syms[i]);
			}
	}
	report_progress(e, 1);
	return rc;
}

/* Claims the next batch of symbols, syms[lo, hi): on a database several workers share
 * (store_shared), up to SYNC_CLAIM_BATCH symbols this worker could claim (those another
 * worker holds, or finished since this run started, are passed over and are not this
 * run's); on one a single writer holds, every symbol at once. The claim key names the
 * interval and the symbol. Claims are advisory locks on the server, not rows with a
 * lease: a dead worker's session ends and its claims with it, at once, with no clock
 * and no renewal while a worker waits out a ban. */
#define SYNC_CLAIM_BATCH 16

static int claim_batch(struct engine *e, struct ck_err *err)
{
	size_t got = 0;

	e->lo = e->hi;
	if (!store_shared(e->st)) {
		e->hi = e->nsyms;
		return 0;
	}
	while (e->hi < e->nsyms && got < SYNC_CLAIM_BATCH) {
		struct sym *s = &e->syms[e->hi++];
		char key[128], v[64];
		long long last = 0, at = 0;
		int mine = 0;

		claim_key(e, s, key, sizeof(key));
		if (store_claim(e->st, key, &mine, err))
			return err->code;
		/* Taken, or finished by a worker since this run started (to the same newest
		 * candle): another worker's. */
		claim_done_key(e, s, key, sizeof(key));
		if (mine && !e->recheck && store_state_get(e->st, key, v, sizeof(v), NULL) == 0 &&
		    sscanf(v, "%lld %lld", &last, &at) == 2 && last >= e->pc.last_closed &&
		    at >= e->started)
			mine = 0;
		if (mine)
			got++;
		else
			s->elsewhere = 1;
	}
	return 0;
}

/* Drops the symbols another worker claimed from the run's result: they are its run's. */
static void drop_elsewhere(struct engine *e)
{
	size_t i, k = 0, n = 0;

	for (i = 0; i < e->nsyms; i++) {
		if (e->syms[i].elsewhere) {
			n++;
			continue;
		}
		if (k != i)
			e->res->symbols[k] = e->res->symbols[i];
		k++;
	}
	e->res->nsymbols = k;
	e->res->elsewhere = n;
	if (n)
		log_info("sync", "%zu of %zu symbols were claimed by other workers", n, e->nsyms);
}

/* Claims, plans and fetches the symbols batch by batch (claim_batch); a batch is planned
 * only once claimed, so it sees what other workers stored before. When the run stops
 * early, the symbols not reached fail with the reason. Every claim is released at the
 * end (and by the server if this process dies). */
static int fetch_batches(struct engine *e, const struct binance_info *info, struct ck_err *err)
{
	int rc = 0;
	size_t i;

	while (e->hi < e->nsyms) {
		if (e->hi > 0 && (*e->stop || e->fatal || e->res->timed_out || e->res->stopped ||
				  (e->deadline && mono_ms() >= e->deadline)))
			break;
		if (lock_lost(e))
			break;
		if ((rc = claim_batch(e, err)) != 0 || (rc = plan_batch(e, info, err)) != 0 ||
		    (rc = fetch_run(e, err)) != 0)
			break;
		sync_plan_release(&e->plan);
	}
	if (e->hi < e->nsyms && rc == 0) {
		char why[300];
		snprintf(why, sizeof(why), "not fetched: %s",
			 e->res->error[0] ? e->res->error : "the run stopped");
		for (i = e->hi; i < e->nsyms; i++) {
			sym_fail(e, &e->syms[i], "%s", why);
			finish_symbol(e, &e->syms[i]);
		}
		e->hi = e->nsyms;
	}
	store_claims_release(e->st);
	drop_elsewhere(e);
	return rc;
}

/* A run-wide failure before planning: every configured symbol fails with it. */
static int fail_all(struct engine *e, int rc, struct ck_err *err)
{
	size_t i;

	snprintf(e->res->error, sizeof(e->res->error), "%s", err->msg);
	if (resolve_symbols(e, NULL, err) == 0) {
		for (i = 0; i < e->nsyms; i++) {
			sym_fail(e, &e->syms[i], "%s", e->res->error);
			finish_symbol(e, &e->syms[i]);
		}
	}
	ck_err_set(err, rc ? rc : CK_ENET, "%s", e->res->error);
	return rc ? rc : CK_ENET;
}

/* A run that stopped on an error (planning's database, memory) before every symbol
 * finished: the symbols left without an outcome failed with it, and are counted so
 * (the summary, the run record and the table agree); one already skipped (a status the
 * exchange stated, a -1121) stays skipped with its reason, as finish_symbol has it.
 * Other workers' symbols are not this run's. */
static void fail_unfinished(struct engine *e, const struct ck_err *err)
{
	for (size_t i = 0; i < e->nsyms; i++) {
		struct sym *s = &e->syms[i];
		if (s->elsewhere || s->out->status)
			continue;
		if (s->skipped) {
			s->out->status = "skipped";
			e->res->counts.symbols_skipped++;
			continue;
		}
		sym_fail(e, s, "%s", err->msg);
		s->out->status = "failed";
		e->res->counts.symbols_failed++;
	}
}

static void engine_release(struct engine *e)
{
	size_t i;

	while (e->running) {
		struct job *j = e->running;
		unlink_running(e, j);
		http_abort(e->http, &j->req);
		http_req_release(&j->req);
		free(j);
	}
	while (e->queue) {
		struct job *j = e->queue;
		e->queue = j->next;
		free(j);
	}
	if (e->http)
		http_free(e->http);
	for (i = 0; i < e->nsyms; i++)
		free(e->syms[i].ok);
	free(e->syms);
	sync_plan_release(&e->plan);
}

int sync_run(struct store *st, const struct cfg *cfg, const struct sync_opts *o,
	     volatile sig_atomic_t *stop, int64_t deadline_mono, struct sync_result *res,
	     struct ck_err *err)
{
	struct engine e;
	struct binance_info info;
	struct http_req first[2]; /* /time and exchangeInfo: one round trip */
	int rc, have_info = 0, done[2] = {0, 0};

	memset(&info, 0, sizeof(info));
	memset(first, 0, sizeof(first));
	if ((rc = engine_init(&e, st, cfg, o, stop, deadline_mono, res, err)) != 0)
		return rc;
	binance_url(first[0].url, sizeof(first[0].url), cfg->base_url, "time");
	binance_url(first[1].url, sizeof(first[1].url), cfg->base_url, "exchangeInfo");
	if ((rc = honour_ban(&e, err)) == 0)
		prefetch(&e, first, 2, done);
	if (rc || (rc = fetch_server_time(&e, &first[0], done[0], err)) != 0 ||
	    (rc = fetch_exchange_info(&e, &first[1], done[1], &info, &have_info, err)) != 0)
		rc = fail_all(&e, rc, err);
	else if ((rc = plan_run(&e, have_info ? &info : NULL, err)) == 0)
		rc = fetch_batches(&e, have_info && !e.info_untrusted ? &info : NULL, err);
	if (rc && e.syms)
		fail_unfinished(&e, err);
	http_req_release(&first[0]);
	http_req_release(&first[1]);
	engine_release(&e);
	binance_info_release(&info);
	return rc;
}

void sync_result_release(struct sync_result *res)
{
	if (!res)
		return;
	free(res->symbols);
	res->symbols = NULL;
	res->nsymbols = 0;
}
