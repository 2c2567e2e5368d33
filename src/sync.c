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

#include "binance.h"
#include "event.h"
#include "http.h"
#include "kline.h"
#include "log.h"
#include "retry.h"
#include "sync.h"
#include "banned.h"

#define DAY_MS 86400000LL

struct range {
	int64_t first, last; /* open times, inclusive */
};

struct sym {
	struct sync_symbol *out;
	struct store_symbol state;
	int64_t wanted;          /* wanted oldest open time */
	int failed, skipped;
	int pending;             /* jobs not finished */
	int had_lead;            /* the plan fetched before the oldest stored candle */
	struct range *ok;        /* ranges fetched and answered (for hole confirmation) */
	size_t nok, capok;
};

struct job {
	struct sym *sym;
	int64_t first, last;     /* open times asked for, inclusive */
	int64_t limit;
	int weight;
	int64_t not_before;      /* mono ms */
	int inflight;
	struct retry_state rs;
	struct http_req req;
	struct job *next;          /* in the queue */
	struct job *rnext, *rprev; /* in the running list while in flight */
};

struct planned {
	struct sym *sym;
	int64_t first, last;
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
	int64_t deadline;         /* mono ms, 0 = none */
	int64_t iv;               /* interval ms */
	int64_t server_now;       /* exchange ms at start */
	int64_t local_now;        /* the local clock at start (local_now()) */
	int64_t skew;             /* server_now - local_now, ms */
	int64_t close_limit;      /* a candle is closed when close_time < this: the earlier
				   * of the exchange's time and local time + max_clock_skew */
	int64_t last_closed;      /* open time of the newest closed candle */
	int64_t verify_first, verify_last; /* this run's rolling re-verification slice
					    * (open times); verify_last < verify_first: none */
	struct sym *syms;
	size_t nsyms, syms_done;
	struct job *queue;        /* waiting jobs, in order */
	struct job **qtail;
	struct job *running;      /* jobs in flight */
	size_t njobs_total, njobs_done;
	struct planned *plan;     /* ranges to fetch, before they are cut into pages */
	size_t nplan, capplan;
	int64_t page;             /* candles per request (page_limit, or chosen when 0) */
	/* weight budget */
	int64_t weight_limit, budget;
	int64_t minute;           /* wall minute the counters below belong to */
	int64_t reported;         /* highest used weight the exchange reported this minute */
	int64_t sent;             /* weight we started this minute */
	int64_t inflight_weight;
	int64_t pause_until;      /* mono ms: 429 pause */
	int64_t ban_until;        /* wall ms: 418 ban */
	int fatal;                /* run-wide failure: stop starting requests */
	int refused_wait;         /* a 429's wait was longer than the run will sleep */
	int recheck;              /* re-verify holes and symbol starts (recheck, since) */
	int64_t t0;
	int64_t last_progress;
};

static int64_t mono_now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int64_t wall_now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* The local clock that decides, with the exchange's, which candles are closed and
 * when a hole is old enough to confirm. Test builds let CANDLEKEEP_FAULT_NOW=MS fix
 * it, so tests can move it as they move the fake exchange's clock. */
static int64_t local_now(void)
{
#ifdef CK_FAULT_INJECTION
	const char *v = getenv("CANDLEKEEP_FAULT_NOW");
	if (v && *v)
		return strtoll(v, NULL, 10);
#endif
	return wall_now();
}

static int64_t align_down(int64_t t, int64_t iv)
{
	int64_t r = t % iv;
	return r < 0 ? t - r - iv : t - r;
}

static int64_t align_up(int64_t t, int64_t iv)
{
	int64_t d = align_down(t, iv);
	return d == t ? t : d + iv;
}

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
	int64_t end = mono_now() + ms;
	for (;;) {
		int64_t now = mono_now(), step;
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
		struct timespec ts = {(time_t)(step / 1000), (long)(step % 1000) * 1000000};
		nanosleep(&ts, NULL);
	}
}

static void note_weight(struct engine *e, const struct http_req *r)
{
	int64_t minute = wall_now() / 60000;
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

static void note_ban(struct engine *e, const struct http_req *r)
{
	int64_t now = wall_now(), until = retry_ban_until(&e->rp, now, r->retry_after_s);
	char v[32];
	struct ck_err err;

	if (until > e->ban_until)
		e->ban_until = until;
	snprintf(v, sizeof(v), "%" PRId64, e->ban_until);
	if (store_state_set(e->st, "ban_until", v, &err))
		log_warn("sync", "could not keep the ban's end in the database: %s", err.msg);
	if (r->retry_after_s > e->rp.max_ban_s)
		log_warn("sync", "HTTP 418 with Retry-After %" PRId64 " s, more than [sync] max_ban"
			 " (%" PRId64 " s): the ban is honoured for max_ban only",
			 r->retry_after_s, e->rp.max_ban_s);
	log_error("sync", "HTTP 418: the exchange banned this IP for %" PRId64
		  " s; no request is sent before then (candlekeep ban shows it)",
		  (until - now) / 1000);
}

/* Time left before the run's deadline, ms; -1 when the run has none. */
static int64_t time_left(const struct engine *e)
{
	int64_t left;
	if (!e->deadline)
		return -1;
	left = e->deadline - mono_now();
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
	e->pause_until = mono_now() + w;
	e->fatal = 1;
	if (!e->res->error[0])
		snprintf(e->res->error, sizeof(e->res->error), "%s", err->msg);
	return err->code;
}

/* GET url with retries; on success r holds the body (caller releases). */
static int call_simple(struct engine *e, struct http_req *r, const char *what,
		       struct ck_err *err)
{
	struct retry_state rs = {0, 0, 0};
	char desc[256];

	for (;;) {
		enum bn_class c;
		int64_t w;

		if (e->ban_until > wall_now()) {
			int64_t left = e->ban_until - wall_now();
			if (e->deadline && mono_now() + left > e->deadline)
				return ck_err_set(err, CK_EBANNED,
						  "%s: the exchange has banned this IP (HTTP 418) for %" PRId64
						  " s more, past the run's deadline; no request sent until"
						  " then (lower [sync] concurrency or weight_limit)",
						  what, (left + 999) / 1000);
			log_warn("sync", "%s: banned (HTTP 418) for %" PRId64 " s more; waiting", what,
				 (left + 999) / 1000);
			if (wait_ms(e, left))
				return ck_err_set(err, *e->stop ? CK_ESTOPPED : CK_ETIMEOUT,
						  "%s: %s while waiting for the ban to end", what,
						  *e->stop ? "stopped" : "run deadline passed");
		}
		if (http_do(e->http, r, err))
			return err->code;
		e->res->counts.requests++;
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
			if (r->body && binance_parse_error(r->body, r->len, &code, msg, sizeof(msg)) == 0)
				ck_err_set(err, c == BN_NET ? CK_ENET : CK_EHTTP, "%s: %s (%d %s)", what,
					   desc, code, msg);
			else
				ck_err_set(err, c == BN_NET ? CK_ENET : CK_EHTTP, "%s: %s", what, desc);
			if (c == BN_GEO)
				ck_err_wrap(err, "restricted location (HTTP 451): run from an allowed"
						 " location or set [main] base_url");
			else if (c == BN_WAF)
				ck_err_wrap(err, "blocked by the exchange's firewall (HTTP 403): check"
						 " the IP and User-Agent, then wait before retrying");
			else if (c == BN_NET)
				ck_err_wrap(err, "cannot reach the exchange at %s (check the network and"
						 " [main] base_url)", e->cfg->base_url);
			http_req_release(r);
			return err->code;
		}
		e->res->counts.retries++;
		log_warn("sync", "%s: %s; retry in %" PRId64 " ms", what, desc, w);
		http_req_release(r);
		if (c == BN_429)
			e->pause_until = mono_now() + w;
		if (wait_ms(e, w))
			return ck_err_set(err, *e->stop ? CK_ESTOPPED : CK_ETIMEOUT,
					  "%s: %s", what, *e->stop ? "stopped" : "run deadline passed");
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

	e->local_now = local_now();
	e->skew = e->server_now - e->local_now;
	e->close_limit = sync_close_limit(e->server_now, e->local_now, max_skew);
	e->last_closed = align_down(e->close_limit - e->iv, e->iv);
	e->res->clock_skew_ms = e->skew;
	v[0] = 0;
	if (e->skew > max_skew || e->skew < -max_skew) {
		snprintf(v, sizeof(v), "clock skew %+.1f s exceeds [sync] max_clock_skew %" PRId64 " s",
			 (double)e->skew / 1000.0, e->cfg->max_clock_skew_s);
		log_warn("sync", "the exchange's clock is %.1f s %s the local clock (more than"
			 " [sync] max_clock_skew %" PRId64 " s): candles count as closed only by the"
			 " earlier clock, up to %s UTC; check NTP on this host",
			 (double)(e->skew < 0 ? -e->skew : e->skew) / 1000.0,
			 e->skew > 0 ? "ahead of" : "behind", e->cfg->max_clock_skew_s,
			 kline_time_str(e->close_limit, t, sizeof(t)));
	}
	if (store_event_add(e->st, e->local_now, event_kind_name(EV_CLOCK_SKEW), "sync",
			    (double)e->skew / 1000.0,
			    v, &err))
		log_warn("sync", "%s", err.msg);
}

/* ---- planning ---- */

/* Cuts [first, last] into pages of at most e->page candles and queues them. */
static int add_job(struct engine *e, struct sym *s, int64_t first, int64_t last)
{
	int64_t page = e->page;

	while (first <= last) {
		int64_t n = (last - first) / e->iv + 1, end;
		struct job *j;

		if (n > page)
			n = page;
		end = first + (n - 1) * e->iv;
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
		first = end + e->iv;
	}
	return 0;
}

/* Notes a range to fetch; pages are cut once every symbol is planned (choose_page). */
static int add_range(struct engine *e, struct sym *s, int64_t first, int64_t last)
{
	if (first > last)
		return 0;
	if (e->nplan == e->capplan) {
		size_t nc = e->capplan ? e->capplan * 2 : 64;
		struct planned *np = realloc(e->plan, nc * sizeof(*np));
		if (!np)
			return CK_ENOMEM;
		e->plan = np;
		e->capplan = nc;
	}
	e->plan[e->nplan].sym = s;
	e->plan[e->nplan].first = first;
	e->plan[e->nplan].last = last;
	e->nplan++;
	s->pending++; /* released when its pages are queued */
	return 0;
}

/* Total request weight of the plan cut into pages of `page` candles. */
static int64_t plan_weight(const struct engine *e, int64_t page)
{
	int64_t w = 0;
	size_t i;
	for (i = 0; i < e->nplan; i++) {
		int64_t n = (e->plan[i].last - e->plan[i].first) / e->iv + 1;
		w += (n / page) * binance_kline_weight(page);
		if (n % page)
			w += binance_kline_weight(n % page);
	}
	return w;
}

/* page_limit 0 (automatic): the fewest requests (1500 a page) while the whole plan fits
 * in one minute's weight budget; otherwise the most candles per unit of weight (499 a
 * page: weight 2, against 5 for 500..1000 and 10 above). Then queues the pages. */
static int choose_page(struct engine *e)
{
	size_t i;

	e->page = e->cfg->page_limit;
	if (!e->page)
		e->page = plan_weight(e, BINANCE_LIMIT_MAX) <= e->budget ? BINANCE_LIMIT_MAX : 499;
	for (i = 0; i < e->nplan; i++) {
		struct sym *s = e->plan[i].sym;
		s->pending--;
		if (add_job(e, s, e->plan[i].first, e->plan[i].last))
			return CK_ENOMEM;
	}
	return 0;
}

/* Where the symbol's history starts on the exchange: the first candle it returns for
 * startTime=0 (never an empty page, which proves nothing), into s->state; left
 * unknown when the probe fails (its error code is returned) or comes back empty. */
static int probe_start(struct engine *e, struct sym *s)
{
	const char *name = s->out->symbol;
	struct http_req r;
	struct kline *k = NULL;
	size_t n = 0;
	struct ck_err err;
	char t[32];

	memset(&r, 0, sizeof(r));
	if (binance_first_kline_url(r.url, sizeof(r.url), e->cfg->base_url, name,
				    e->cfg->interval))
		return 0;
	if (call_simple(e, &r, "GET /fapi/v1/klines (first candle)", &err)) {
		log_warn("sync", "%s: listing start unknown: %s", name, err.msg);
		return err.code;
	}
	if (kline_parse_page(r.body, r.len, &k, &n, &err) == 0 && n >= 1 &&
	    k[0].open_time > 0 && k[0].open_time % e->iv == 0) {
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

/* Before planning (outside its transaction: these are network calls): learns where
 * each symbol starts on the exchange when that is not known yet, or is re-verified. */
static int probe_starts(struct engine *e, const struct binance_info *info, struct ck_err *err)
{
	size_t i;

	for (i = 0; i < e->nsyms && !e->fatal && !*e->stop; i++) {
		struct sym *s = &e->syms[i];
		const char *name = s->out->symbol;
		const struct binance_symbol *b = info ? binance_info_find(info, name) : NULL;
		int64_t before;
		int rc;

		if (info && (!b || strcmp(b->status, "TRADING")))
			continue; /* skipped by planning */
		if (store_symbol_get(e->st, name, e->cfg->interval, &s->state, err))
			return err->code;
		if (s->state.first_open && !e->recheck)
			continue;
		before = s->state.first_open;
		rc = probe_start(e, s);
		if (rc == CK_ENET || rc == CK_ETIMEOUT || rc == CK_ESTOPPED || rc == CK_EBANNED ||
		    e->refused_wait)
			break; /* the exchange is not answering: the rest are probed next run */
		if (s->state.first_open != before &&
		    store_symbol_put(e->st, name, e->cfg->interval, &s->state, err))
			return err->code;
	}
	return 0;
}

/* The rolling re-verification: every run re-fetches a slice of the last verify_days
 * (all symbols alike), sized by the exchange time since the previous slice, so the
 * whole window is re-verified once per verify_every however often sync runs; the
 * cursor is kept in the state table. Sets e->verify_first/last (none: last < first). */
static void plan_verify(struct engine *e)
{
	int64_t win_first, win_last, ncand, at = 0, cursor = 0, n;
	char k1[64], k2[64], v[32];
	struct ck_err err;

	e->verify_first = 1;
	e->verify_last = 0;
	if (!e->cfg->verify_days || !e->cfg->gap_repair)
		return;
	win_last = e->last_closed - e->iv * (e->cfg->verify_recent > 0 ? e->cfg->verify_recent : 0);
	win_first = align_up(e->last_closed - e->cfg->verify_days * DAY_MS + e->iv, e->iv);
	if (win_last < win_first)
		return;
	ncand = (win_last - win_first) / e->iv + 1;
	snprintf(k1, sizeof(k1), "verify_at:%s", e->cfg->interval);
	snprintf(k2, sizeof(k2), "verify_cursor:%s", e->cfg->interval);
	if (store_state_get(e->st, k1, v, sizeof(v), NULL) == 0)
		at = strtoll(v, NULL, 10);
	if (store_state_get(e->st, k2, v, sizeof(v), NULL) == 0)
		cursor = strtoll(v, NULL, 10);
	if (at <= 0 || at > e->server_now) {
		n = 0; /* first run: start the schedule */
	} else {
		int64_t every = e->cfg->verify_every_s * 1000, el = e->server_now - at;
		n = el >= every ? ncand : (ncand * el + every - 1) / every;
	}
	if (at > 0 && at <= e->server_now && n == 0)
		return; /* too soon for even one candle: keep accumulating */
	if (cursor < win_first || cursor > win_last)
		cursor = win_first;
	if (n > 0) {
		e->verify_first = cursor;
		e->verify_last = cursor + (n - 1) * e->iv;
		if (e->verify_last > win_last)
			e->verify_last = win_last;
		cursor = e->verify_last + e->iv;
		log_kv(LOG_DEBUG, "sync", ((const char *[]){NULL}),
		       "re-verifying %" PRId64 " older candles per symbol",
		       (e->verify_last - e->verify_first) / e->iv + 1);
	}
	snprintf(v, sizeof(v), "%" PRId64, e->server_now);
	if (store_state_set(e->st, k1, v, &err) == 0) {
		snprintf(v, sizeof(v), "%" PRId64, cursor);
		if (store_state_set(e->st, k2, v, &err) == 0)
			return;
	}
	log_warn("sync", "%s", err.msg);
}

static int plan_ranges(struct engine *e, struct sym *s, const struct store_span *sp,
		       int64_t wanted, struct ck_err *err);

static int plan_symbol(struct engine *e, struct sym *s, struct ck_err *err)
{
	const char *name = s->out->symbol, *iv = e->cfg->interval;
	struct store_span span;
	int64_t wanted;

	if (store_symbol_get(e->st, name, iv, &s->state, err) ||
	    store_span(e->st, name, iv, &span, err))
		return err->code;
	wanted = s->state.history_start;
	if (!wanted)
		wanted = align_up(e->server_now - e->cfg->history_days * DAY_MS, e->iv);
	if (e->o->since_ms && align_up(e->o->since_ms, e->iv) < wanted)
		wanted = align_up(e->o->since_ms, e->iv);
	if (span.count && span.first_open < wanted)
		wanted = span.first_open;
	s->wanted = wanted;
	if (wanted != s->state.history_start) {
		s->state.history_start = wanted;
		if (store_symbol_put(e->st, name, iv, &s->state, err))
			return err->code;
	}
	return plan_ranges(e, s, &span, wanted, err);
}

/* The ranges to fetch for one symbol (span: its stored candles). */
static int plan_ranges(struct engine *e, struct sym *s, const struct store_span *sp,
		       int64_t wanted, struct ck_err *err)
{
	const char *name = s->out->symbol, *iv = e->cfg->interval;
	struct store_span span = *sp;
	int64_t tail_from;

	s->out->newest_open = span.count ? span.last_open : 0;
	if (!span.count) {
		s->had_lead = 1;
		if (s->state.first_open > wanted)
			wanted = s->state.first_open;
		return add_range(e, s, wanted, e->last_closed);
	}
	if (!e->cfg->gap_repair) {
		/* The older design: only the last `lookback` closed candles, nothing else. */
		if (e->cfg->lookback > 0)
			return add_range(e, s, e->last_closed - (e->cfg->lookback - 1) * e->iv,
				       e->last_closed);
		return add_range(e, s, span.last_open + e->iv, e->last_closed);
	}
	/* Before the oldest stored candle, unless the exchange is known to start there. */
	if (wanted < span.first_open &&
	    (!s->state.first_open || s->state.first_open < span.first_open)) {
		int64_t from = wanted;
		if (s->state.first_open > from)
			from = s->state.first_open;
		s->had_lead = 1;
		if (add_range(e, s, from, span.first_open - e->iv))
			return ck_err_set(err, CK_ENOMEM, "plan %s: out of memory", name);
	}
	/* Gaps between stored candles, except confirmed exchange holes. */
	{
		struct store_gap *g = NULL;
		size_t n = 0, i;
		if (store_gaps(e->st, name, iv, e->iv, 0, &g, &n, err))
			return err->code;
		for (i = 0; i < n; i++) {
			log_kv(LOG_INFO, "sync",
			       ((const char *[]){"symbol", name, NULL}),
			       "repairing a gap of %" PRId64 " candles", g[i].count);
			if (add_range(e, s, g[i].first, g[i].last)) {
				free(g);
				return ck_err_set(err, CK_ENOMEM, "plan %s: out of memory", name);
			}
		}
		free(g);
	}
	/* The tail: after the newest stored closed candle, plus the newest closed
	 * candles re-verified every run (verify_recent, or the larger lookback). */
	tail_from = span.last_open + e->iv;
	{
		int64_t again = e->cfg->lookback > e->cfg->verify_recent ? e->cfg->lookback
									   : e->cfg->verify_recent;
		if (again > 0 && e->last_closed - (again - 1) * e->iv < tail_from)
			tail_from = e->last_closed - (again - 1) * e->iv;
	}
	if (tail_from < wanted)
		tail_from = wanted;
	if (add_range(e, s, tail_from, e->last_closed))
		return ck_err_set(err, CK_ENOMEM, "plan %s: out of memory", name);
	/* This run's slice of the rolling re-verification of older history. */
	if (e->verify_last >= e->verify_first) {
		int64_t a = e->verify_first > span.first_open ? e->verify_first : span.first_open;
		int64_t b = e->verify_last < tail_from - e->iv ? e->verify_last : tail_from - e->iv;
		if (a <= b && add_range(e, s, a, b))
			return ck_err_set(err, CK_ENOMEM, "plan %s: out of memory", name);
	}
	return 0;
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
				cur = s->ok[k].last + iv;
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

int sync_hole_confirms(const struct store_hole *h, int64_t gap_last, int64_t iv,
		       int64_t local, int64_t exchange)
{
	int64_t end = gap_last + iv; /* the gap's last candle closes before this */
	return h->runs >= 1 && h->first_seen > 0 && local - h->first_seen >= HOLE_APART_MS &&
	       exchange - h->first_seen_exchange >= HOLE_APART_MS &&
	       local - end >= HOLE_AGE_MS && exchange - end >= HOLE_AGE_MS;
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
			       "exchange answered no candles %s .. %s UTC: still missing; a hole only"
			       " if empty again on a run an hour or more later", t1, t2);
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
		s->out->holes += (b - a) / e->iv + 1;
		log_kv(LOG_INFO, "sync", ((const char *[]){"symbol", name, NULL}),
		       "exchange has no candles %s .. %s UTC: empty on %" PRId64 " runs, recorded"
		       " as a confirmed hole", t1, t2, h.runs);
	}
}

static int finish_symbol(struct engine *e, struct sym *s)
{
	const char *name = s->out->symbol, *iv = e->cfg->interval;
	struct store_span span;
	struct ck_err err;

	e->syms_done++;
	if (!s->skipped && !s->failed && s->nok && e->cfg->gap_repair) {
		/* Gaps the exchange answered empty this run: evidence for the hole ledger. */
		struct store_gap *g = NULL;
		size_t n = 0, i;
		if (store_gaps(e->st, name, iv, e->iv, 0, &g, &n, &err) == 0) {
			for (i = 0; i < n; i++)
				if (range_answered(s, g[i].first, g[i].last, e->iv))
					observe_hole(e, s, g[i].first, g[i].last);
			free(g);
		}
		if (store_holes_prune(e->st, name, iv, &err))
			log_warn("sync", "%s: %s", name, err.msg);
	}
	if (store_span(e->st, name, iv, &span, &err) == 0)
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
	}
	{
		char written[24], revised[24], newest[32];
		snprintf(written, sizeof(written), "%" PRId64, s->out->written);
		snprintf(revised, sizeof(revised), "%" PRId64, s->out->revised);
		kline_time_str(s->out->newest_open, newest, sizeof(newest));
		log_kv(s->failed ? LOG_ERROR : s->skipped ? LOG_WARN : LOG_INFO, "sync",
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
	int64_t minute = wall_now() / 60000, est;
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
	j->not_before = mono_now() + wait;
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
			log_warn("sync", "%s: bad response body (%s); retry in %" PRId64 " ms", name,
				 err.msg, w);
			http_req_release(&j->req);
			requeue(e, j, w);
			return;
		}
		sym_fail(e, s, "bad response body after %" PRId64 " retries: %s", j->rs.net, err.msg);
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
			       "%" PRId64 " stored candles differed from the exchange and were revised",
			       pr.revised);
	}
	(void)desc;
	range_add(s, j->first, j->last);
	/* A full page that stopped short of the range: ask for the rest. */
	if (keep == (size_t)j->limit && k[keep - 1].open_time < j->last) {
		int64_t next = k[keep - 1].open_time + e->iv;
		free(k);
		s->ok[s->nok - 1].last = next - e->iv;
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
			sym_skip(s, "not listed on the exchange (delisted, renamed or not yet listed):"
				    " %d %s", code, msg);
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
	if (c == BN_429 && mono_now() + w > e->pause_until)
		e->pause_until = mono_now() + w;
	http_req_release(r);
	requeue(e, j, w);
}

static void report_progress(struct engine *e, int force)
{
	struct sync_progress p;
	int64_t now = mono_now();

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
			int64_t next_minute = (wall_now() / 60000 + 1) * 60000;
			int64_t w = now + (next_minute - wall_now());
			log_debug("sync", "weight budget reached (%" PRId64 "/%" PRId64
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

static int fetch_loop(struct engine *e, struct ck_err *err)
{
	struct http_req *done[64];

	while (e->queue || http_inflight(e->http)) {
		int64_t now = mono_now(), wake = now + 200;
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
		if (e->fatal)
			break;
		if (e->ban_until > wall_now()) {
			int64_t left = e->ban_until - wall_now();
			if (e->deadline && now + left > e->deadline) {
				char t[32];
				snprintf(e->res->error, sizeof(e->res->error),
					 "the exchange banned this IP (HTTP 418) until %s UTC, after the"
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
			int64_t w = wake - mono_now();
			if (w < 1)
				w = 1;
			if (w > 200)
				w = 200;
			if (http_poll(e->http, (int)w, done, 64, &nd, err))
				return err->code;
			/* Refill the freed slots before storing the finished pages (each an
			 * fsync'd transaction), unless one of them says to slow down. */
			for (i = 0; i < nd; i++) {
				enum bn_class c = binance_classify(done[i]);
				if (c == BN_429 || c == BN_418)
					break;
			}
			if (nd && i == nd && !*e->stop && e->ban_until <= wall_now() &&
			    mono_now() >= e->pause_until && !e->fatal)
			{
				issue_jobs(e, mono_now(), &wake, err);
				http_kick(e->http); /* send them now, not at the next poll */
			}
			for (i = 0; i < nd; i++)
				handle_done(e, (struct job *)done[i]->user);
		} else if (e->queue) {
			int64_t w = wake - mono_now();
			if (w > 0) {
				if (w > 200)
					w = 200;
				struct timespec ts = {0, (long)w * 1000000};
				nanosleep(&ts, NULL);
			}
		}
		report_progress(e, 0);
	}
	return 0;
}

/* ---- the run ---- */

static int resolve_symbols(struct engine *e, const struct binance_info *info,
			   struct ck_err *err)
{
	char **list = NULL;
	size_t n = 0, i;
	int rc = cfg_symbols_list(e->cfg, &list, &n, err);

	if (rc == CK_ENOTFOUND) {
		/* "all": every TRADING perpetual the exchange lists. */
		if (!info || !info->nsymbols)
			return ck_err_set(err, CK_ENET,
					  "symbols = all needs /fapi/v1/exchangeInfo, which failed");
		e->syms = calloc(info->nsymbols, sizeof(*e->syms));
		e->res->symbols = calloc(info->nsymbols, sizeof(*e->res->symbols));
		if (!e->syms || !e->res->symbols)
			return ck_err_set(err, CK_ENOMEM, "out of memory");
		for (i = 0; i < info->nsymbols; i++) {
			const struct binance_symbol *b = &info->symbols[i];
			if (strcmp(b->status, "TRADING") || strcmp(b->contract_type, "PERPETUAL") ||
			    !cfg_symbol_valid(b->symbol))
				continue;
			snprintf(e->res->symbols[e->nsyms].symbol, sizeof(e->res->symbols[0].symbol),
				 "%s", b->symbol);
			e->syms[e->nsyms].out = &e->res->symbols[e->nsyms];
			e->nsyms++;
		}
		e->res->nsymbols = e->nsyms;
		return 0;
	}
	if (rc)
		return rc;
	e->syms = calloc(n ? n : 1, sizeof(*e->syms));
	e->res->symbols = calloc(n ? n : 1, sizeof(*e->res->symbols));
	if (!e->syms || !e->res->symbols) {
		cfg_symbols_free(list, n);
		return ck_err_set(err, CK_ENOMEM, "out of memory");
	}
	for (i = 0; i < n; i++) {
		snprintf(e->res->symbols[i].symbol, sizeof(e->res->symbols[i].symbol), "%s", list[i]);
		e->syms[i].out = &e->res->symbols[i];
	}
	e->nsyms = e->res->nsymbols = n;
	cfg_symbols_free(list, n);
	return 0;
}

int sync_run(struct store *st, const struct cfg *cfg, const struct sync_opts *o,
	     volatile sig_atomic_t *stop, int64_t deadline_mono, struct sync_result *res,
	     struct ck_err *err)
{
	static const struct sync_opts no_opts;
	struct engine e;
	struct http_opts ho;
	struct binance_info info;
	struct http_req r;
	char buf[64];
	int rc = 0, have_info = 0;
	size_t i;

	memset(res, 0, sizeof(*res));
	memset(&e, 0, sizeof(e));
	memset(&info, 0, sizeof(info));
	e.st = st;
	e.cfg = cfg;
	e.o = o ? o : &no_opts;
	e.res = res;
	e.stop = stop;
	e.deadline = deadline_mono;
	e.iv = cfg->interval_ms;
	e.qtail = &e.queue;
	e.rng = (uint64_t)wall_now() ^ ((uint64_t)getpid() << 32);
	e.t0 = mono_now();
	retry_policy_from_cfg(&e.rp, cfg);
	ho.connect_timeout_ms = cfg->connect_timeout_ms;
	ho.request_timeout_ms = cfg->request_timeout_ms;
	ho.user_agent = cfg->user_agent;
	ho.max_host_connections = 0;
	if (http_new(&e.http, &ho, err))
		return err->code;

	/* A ban from an earlier run still holds: send nothing before it ends. */
	if (store_state_get(st, "ban_until", buf, sizeof(buf), NULL) == 0) {
		e.ban_until = strtoll(buf, NULL, 10);
		/* A ban stored before max_ban existed (or with a larger one) is capped too. */
		if (e.ban_until > wall_now() + e.rp.max_ban_s * 1000) {
			e.ban_until = wall_now() + e.rp.max_ban_s * 1000;
			log_warn("sync", "the stored HTTP 418 ban ends after [sync] max_ban; honoured"
				 " for %" PRId64 " s only", e.rp.max_ban_s);
		}
	}

	/* The exchange's time decides which candles are closed, not the local clock. */
	memset(&r, 0, sizeof(r));
	snprintf(r.url, sizeof(r.url), "%s/fapi/v1/time", cfg->base_url);
	if (e.ban_until > wall_now() && e.deadline &&
	    mono_now() + (e.ban_until - wall_now()) > e.deadline) {
		char t[32];
		rc = ck_err_set(err, CK_EBANNED,
				"the exchange banned this IP (HTTP 418) until %s UTC, after this"
				" run's deadline; no request sent",
				kline_time_str(e.ban_until, t, sizeof(t)));
		goto fail_all;
	}
	if (e.ban_until > wall_now()) {
		log_warn("sync", "an HTTP 418 ban is in force for %" PRId64 " s more; waiting",
			 (e.ban_until - wall_now()) / 1000);
		if ((rc = wait_ms(&e, e.ban_until - wall_now())) != 0) {
			ck_err_set(err, rc, "waiting for the exchange's ban to end: %s",
				   rc == CK_ESTOPPED ? "stopped" : "run deadline passed");
			goto fail_all;
		}
	}
	if ((rc = call_simple(&e, &r, "GET /fapi/v1/time", err)) != 0)
		goto fail_all;
	rc = binance_parse_time(r.body, r.len, &e.server_now, err);
	http_req_release(&r);
	if (rc)
		goto fail_all;
	res->server_time = e.server_now;
	note_clock(&e);

	/* exchangeInfo: the weight limit, and which symbols exist and trade. */
	memset(&r, 0, sizeof(r));
	snprintf(r.url, sizeof(r.url), "%s/fapi/v1/exchangeInfo", cfg->base_url);
	if (call_simple(&e, &r, "GET /fapi/v1/exchangeInfo", err) == 0 &&
	    binance_parse_exchange_info(r.body, r.len, &info, err) == 0) {
		have_info = 1;
	} else if (e.refused_wait) {
		rc = err->code;
		goto fail_all;
	} else
		log_warn("sync", "%s; going on without it (weight limit %d assumed)", err->msg,
			 BINANCE_WEIGHT_DEFAULT);
	http_req_release(&r);
	e.weight_limit = cfg->weight_limit ? cfg->weight_limit
					   : (have_info && info.weight_limit ? info.weight_limit
									     : BINANCE_WEIGHT_DEFAULT);
	if (have_info && info.weight_limit > 0) {
		/* for the metrics: the limit the exchange reports, when none is configured */
		struct ck_err e2 = {0, ""};
		char v[32];
		snprintf(v, sizeof(v), "%" PRId64, (int64_t)info.weight_limit);
		if (store_state_set(e.st, "exchange.weight_limit", v, &e2))
			log_warn("sync", "%s", e2.msg);
	}
	e.budget = e.weight_limit * (100 - cfg->weight_reserve_pct) / 100;
	if (e.budget < 10)
		e.budget = 10;

	if ((rc = resolve_symbols(&e, have_info ? &info : NULL, err)) != 0)
		goto out;
	e.recheck = e.o->recheck || e.o->since_ms;
	if (e.recheck) {
		int64_t nh = 0;
		if ((rc = store_holes_recheck(st, cfg->interval, &nh, err)) != 0)
			goto out;
		log_info("sync", "re-verifying %" PRId64 " confirmed exchange holes and every"
			 " symbol's listing start", nh);
	}
	if ((rc = probe_starts(&e, have_info ? &info : NULL, err)) != 0)
		goto out;
	/* Planning writes each new symbol's state: one transaction, not one fsync each. */
	if ((rc = store_tx_begin(st, err)) != 0)
		goto out;
	plan_verify(&e);
	for (i = 0; i < e.nsyms; i++) {
		struct sym *s = &e.syms[i];
		const struct binance_symbol *b = have_info ? binance_info_find(&info, s->out->symbol)
							   : NULL;
		if (have_info && !b) {
			sym_skip(s, "not listed on the exchange (delisted, renamed or not yet listed)");
		} else if (b && strcmp(b->status, "TRADING")) {
			sym_skip(s, "status %s on the exchange (delisted or suspended)", b->status);
		} else if ((rc = plan_symbol(&e, s, err)) != 0) {
			store_tx_commit(st, NULL);
			goto out;
		}
		if (s->pending == 0)
			finish_symbol(&e, s); /* skipped, or nothing to fetch */
	}
	if ((rc = store_tx_commit(st, err)) != 0)
		goto out;
	if (choose_page(&e)) {
		rc = ck_err_set(err, CK_ENOMEM, "planning the pages: out of memory");
		goto out;
	}
	{
		char n1[24], n2[24], n3[24];
		snprintf(n1, sizeof(n1), "%zu", e.nsyms);
		snprintf(n2, sizeof(n2), "%zu", e.njobs_total);
		char n4[24];
		snprintf(n3, sizeof(n3), "%" PRId64, e.budget);
		snprintf(n4, sizeof(n4), "%" PRId64, e.page);
		log_kv(LOG_INFO, "sync",
		       ((const char *[]){"symbols", n1, "pages", n2, "page_size", n4,
					 "weight_budget", n3,
					 "server_time", kline_time_str(e.server_now, buf, sizeof(buf)),
					 NULL}),
		       "fetching");
	}
	rc = fetch_loop(&e, err);
	if (e.queue || e.running) {
		/* Stopped early: what is still queued or in flight did not finish. */
		char why[256];
		snprintf(why, sizeof(why), "not fetched: %s",
			 res->error[0] ? res->error : "the run stopped");
		while (e.running) {
			struct job *j = e.running;
			unlink_running(&e, j);
			http_abort(e.http, &j->req);
			sym_fail(&e, j->sym, "%s", why);
			job_done(&e, j);
		}
		drain_queue(&e, why);
		for (i = 0; i < e.nsyms; i++)
			if (e.syms[i].pending > 0) {
				sym_fail(&e, &e.syms[i], "%s", why);
				e.syms[i].pending = 0;
				finish_symbol(&e, &e.syms[i]);
			}
	}
	report_progress(&e, 1);
	goto out;

fail_all:
	snprintf(res->error, sizeof(res->error), "%s", err->msg);
	if (resolve_symbols(&e, NULL, err) == 0) {
		for (i = 0; i < e.nsyms; i++) {
			sym_fail(&e, &e.syms[i], "%s", res->error);
			finish_symbol(&e, &e.syms[i]);
		}
	}
	ck_err_set(err, rc ? rc : CK_ENET, "%s", res->error);
	rc = rc ? rc : CK_ENET;
out:
	while (e.running) {
		struct job *j = e.running;
		unlink_running(&e, j);
		http_abort(e.http, &j->req);
		http_req_release(&j->req);
		free(j);
	}
	while (e.queue) {
		struct job *j = e.queue;
		e.queue = j->next;
		free(j);
	}
	if (e.http)
		http_free(e.http);
	for (i = 0; i < e.nsyms; i++)
		free(e.syms[i].ok);
	free(e.syms);
	free(e.plan);
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
