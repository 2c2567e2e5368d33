/* server.c — see server.h. */
#include <arpa/inet.h>
#include <errno.h>
#include <jansson.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

#include "banned.h"
#include "archive.h"
#include "buf.h"
#include "exinfo.h"
#include "klines.h"
#include "server.h"

#define PAGE_MAX ((size_t)4 << 20) /* 1500 candles are ~300 KB */

/* One request, created when its URI arrives (the raw target, for the log). */
struct req {
	char *uri;
	bool started;
	const char *ctype; /* Content-Type of the reply; NULL: application/json */
};

enum fault { F_NONE, F_HANG, F_418, F_429, F_5XX, F_TRUNC, F_MALFORMED };
static const char *const fault_names[] = {NULL,   "hang",   "p418",      "p429",
					  "p5xx", "ptrunc", "pmalformed"};

/* --- responses ------------------------------------------------------------------- */

static char *json_text(json_t *o, size_t *len)
{
	char *s = o ? json_dumps(o, JSON_COMPACT) : NULL;
	json_decref(o);
	*len = s ? strlen(s) : 0;
	return s;
}

static char *error_body(int code, const char *msg, size_t *len)
{
	return json_text(json_pack("{s:i,s:s}", "code", code, "msg", msg), len);
}

/* A truncated body: the full Content-Length is announced, half of it is sent, then
 * the connection is closed. */
struct trunc {
	char *body;
	size_t len;
};

static ssize_t trunc_read(void *cls, uint64_t pos, char *out, size_t max)
{
	struct trunc *t = cls;
	size_t half = t->len / 2;
	if (pos >= half)
		return MHD_CONTENT_READER_END_WITH_ERROR;
	size_t n = half - (size_t)pos < max ? half - (size_t)pos : max;
	memcpy(out, t->body + pos, n);
	return (ssize_t)n;
}

static void trunc_free(void *cls)
{
	struct trunc *t = cls;
	free(t->body);
	free(t);
}

/* Breaks a complete JSON body for pmalformed: cut in the middle, closed badly. */
static char *malform(char *body, size_t *len)
{
	size_t n = *len / 2;
	char *p = realloc(body, n + 3);
	if (!p)
		return body;
	memcpy(p + n, ",]", 3);
	*len = n + 2;
	return p;
}

static void http_date(int64_t ms, char *out, size_t n)
{
	time_t secs = (time_t)(ms / 1000);
	struct tm tm;
	if (!gmtime_r(&secs, &tm) || !strftime(out, n, "%a, %d %b %Y %H:%M:%S GMT", &tm))
		snprintf(out, n, "Thu, 01 Jan 1970 00:00:00 GMT");
}

/* Sends status with body (taken over; NULL: out of memory → 500), logs the request.
 * retry_after > 0 adds Retry-After. */
static enum MHD_Result reply(struct fakex *fx, struct MHD_Connection *c, struct req *r,
			     const char *method, int status, char *body, size_t len,
			     enum fault fault, int64_t retry_after)
{
	if (!body) {
		status = 500;
		body = error_body(-1001, "Internal error; unable to process your request.", &len);
		if (!body)
			return MHD_NO;
	}
	if (fault == F_MALFORMED)
		body = malform(body, &len);
	int64_t wall = wall_ms();
	pthread_mutex_lock(&fx->st.lock);
	state_roll(&fx->st, wall);
	int64_t now = state_now(&fx->st), used = fx->st.used;
	if (status >= 0 && status < 600)
		fx->st.counts[status]++;
	pthread_mutex_unlock(&fx->st.lock);

	struct MHD_Response *resp;
	if (fault == F_TRUNC) {
		struct trunc *t = malloc(sizeof(*t));
		if (!t) {
			free(body);
			return MHD_NO;
		}
		t->body = body;
		t->len = len;
		resp = MHD_create_response_from_callback(len, 4096, trunc_read, t, trunc_free);
		if (!resp)
			trunc_free(t);
	} else {
		resp = MHD_create_response_from_buffer(len, body, MHD_RESPMEM_MUST_FREE);
		if (!resp)
			free(body);
	}
	if (!resp)
		return MHD_NO;
	char date[64], weight[32], retry[32];
	http_date(now, date, sizeof(date));
	snprintf(weight, sizeof(weight), "%lld", (long long)used);
	MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE,
				r->ctype ? r->ctype : "application/json");
	MHD_add_response_header(resp, "X-MBX-USED-WEIGHT-1M", weight);
	MHD_add_response_header(resp, MHD_HTTP_HEADER_DATE, date);
	pthread_mutex_lock(&fx->st.lock);
	if ((status == 418 || status == 429) && fx->st.f.retry_after_force[0])
		snprintf(retry, sizeof(retry), "%s", fx->st.f.retry_after_force);
	else if (retry_after > 0)
		snprintf(retry, sizeof(retry), "%lld", (long long)retry_after);
	else
		retry[0] = 0;
	pthread_mutex_unlock(&fx->st.lock);
	if (retry[0])
		MHD_add_response_header(resp, MHD_HTTP_HEADER_RETRY_AFTER, retry);
	reqlog_write(fx->log, wall, now, method, r->uri, status, used, fault_names[fault]);
	enum MHD_Result ret = MHD_queue_response(c, (unsigned)status, resp);
	MHD_destroy_response(resp);
	return ret;
}

static enum MHD_Result reply_error(struct fakex *fx, struct MHD_Connection *c, struct req *r,
				   const char *method, int status, int code, const char *msg,
				   enum fault fault)
{
	size_t len;
	char *body = error_body(code, msg, &len);
	return reply(fx, c, r, method, status, body, len, fault, 0);
}

static enum MHD_Result reply_json(struct fakex *fx, struct MHD_Connection *c, struct req *r,
				  const char *method, json_t *o)
{
	size_t len;
	char *body = json_text(o, &len);
	return reply(fx, c, r, method, 200, body, len, F_NONE, 0);
}

/* --- parameters ------------------------------------------------------------------ */

static const char *arg(struct MHD_Connection *c, const char *name)
{
	return MHD_lookup_connection_value(c, MHD_GET_ARGUMENT_KIND, name);
}

/* A whole decimal integer (optional '-'), no spaces. */
static bool parse_int(const char *s, int64_t *v)
{
	if (!s || !*s)
		return false;
	char *end;
	errno = 0;
	long long x = strtoll(s, &end, 10);
	if (errno || *end || end == s)
		return false;
	*v = x;
	return true;
}

static bool parse_prob(const char *s, double *v)
{
	if (!s || !*s)
		return false;
	char *end;
	double x = strtod(s, &end);
	if (*end || !(x >= 0 && x <= 1))
		return false;
	*v = x;
	return true;
}

/* --- /fapi/v1 -------------------------------------------------------------------- */

enum endpoint { EP_NONE, EP_KLINES, EP_EXINFO, EP_TIME, EP_PING };

static const struct route {
	const char *path; /* after the market's prefix */
	enum endpoint ep;
} routes[] = {
	{"/klines", EP_KLINES},
	{"/exchangeInfo", EP_EXINFO},
	{"/time", EP_TIME},
	{"/ping", EP_PING},
};

static const struct {
	const char *prefix;
	enum fx_market mk;
	int64_t limit_max; /* klines limit */
} prefixes[] = {
	{"/fapi/v1", FX_UM, 1500},
	{"/dapi/v1", FX_CM, 1500},
	{"/api/v3", FX_SPOT, 1000},
};

/* Binance's REQUEST_WEIGHT of a klines request by its limit (spot: 2 for any). */
static int64_t klines_weight(enum fx_market mk, int64_t limit)
{
	if (mk == FX_SPOT)
		return 2;
	return limit < 100 ? 1 : limit < 500 ? 2 : limit <= 1000 ? 5 : 10;
}

static bool symbol_invalid(const struct faults *f, const char *sym)
{
	for (int i = 0; i < f->ninvalid; i++)
		if (!strcmp(f->invalid[i], sym))
			return true;
	return false;
}

static enum MHD_Result klines(struct fakex *fx, struct MHD_Connection *c, struct req *r,
			      const char *method, enum fault fault, int64_t now, enum fx_market mk,
			      int64_t limit_max)
{
	const char *sym = arg(c, "symbol"), *ivs = arg(c, "interval"), *lim = arg(c, "limit");
	const char *st = arg(c, "startTime"), *et = arg(c, "endTime");
	struct kq q = {.limit = 500};
	int64_t v;

	if (!sym || !*sym)
		return reply_error(
			fx, c, r, method, 400, -1102,
			"Mandatory parameter 'symbol' was not sent, was empty/null, or malformed.",
			fault);
	if (!ivs || !*ivs)
		return reply_error(fx, c, r, method, 400, -1102,
				   "Mandatory parameter 'interval' was not sent, was empty/null, "
				   "or malformed.",
				   fault);
	if (lim) {
		if (!parse_int(lim, &v) || v < 1 || v > limit_max)
			return reply_error(fx, c, r, method, 400, -1130,
					   "Data sent for parameter 'limit' is not valid.", fault);
		q.limit = (int)v;
	}
	if (st && !(q.has_start = parse_int(st, &q.start) && q.start >= 0))
		return reply_error(fx, c, r, method, 400, -1100,
				   "Illegal characters found in parameter 'startTime'; legal range "
				   "is '^[0-9]{1,20}$'.",
				   fault);
	if (et && !(q.has_end = parse_int(et, &q.end) && q.end >= 0))
		return reply_error(fx, c, r, method, 400, -1100,
				   "Illegal characters found in parameter 'endTime'; legal range "
				   "is '^[0-9]{1,20}$'.",
				   fault);
	int iv = iv_parse(ivs);
	if (iv < 0)
		return reply_error(fx, c, r, method, 400, -1120, "Invalid interval.", fault);

	pthread_mutex_lock(&fx->st.lock);
	const struct symbol *s = market_find(&fx->market, sym);
	bool known = s && !s->removed && s->onboard <= now && market_serves(s, mk);
	if (known)
		q.floor = s->onboard; /* /_ctl/symbol?onboard= may move it */
	struct symbol spot;
	if (known && mk == FX_SPOT) { /* spot's own series of the same name */
		spot = *s;
		spot.synth += FX_SPOT_SYNTH;
		s = &spot;
	}
	bool corrupt = symbol_invalid(&fx->st.f, sym);
	bool empty = q.has_start && fx->st.f.empty_to > 0 && q.start >= fx->st.f.empty_from &&
		     q.start <= fx->st.f.empty_to;
	pthread_mutex_unlock(&fx->st.lock);
	if (!known)
		return reply_error(fx, c, r, method, 400, -1121, "Invalid symbol.", fault);
	if (q.has_start && q.has_end && q.start > q.end)
		return reply_error(fx, c, r, method, 400, -1023,
				   "Start time is greater than end time.", fault);

	struct buf b;
	buf_init(&b, PAGE_MAX);
	if (empty) {
		buf_add(&b, "[]", 2);
	} else {
		klines_page(&fx->market, s, iv, &q, now, corrupt, &b);
	}
	size_t len = 0;
	char *body = buf_detach(&b, &len);
	return reply(fx, c, r, method, 200, body, len, fault, 0);
}

/* What the gate decided for one /fapi request. */
struct admission {
	int kind;         /* 0 admitted, 1 banned, 2 ban starts, 3 budget 429 */
	enum fault fault; /* an injected fault of an admitted request */
	int status5;      /* the 5xx of F_5XX */
	int64_t retry;    /* Retry-After, s */
	int64_t now, used, latency, hang_ms;
	char msg[256];
};

static const char *client_ip(struct MHD_Connection *c, char *buf, size_t n)
{
	const union MHD_ConnectionInfo *ci =
		MHD_get_connection_info(c, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
	if (ci && ci->client_addr && ci->client_addr->sa_family == AF_INET &&
	    inet_ntop(AF_INET,
		      &((const struct sockaddr_in *)(const void *)ci->client_addr)->sin_addr, buf,
		      (socklen_t)n))
		return buf;
	return "127.0.0.1";
}

static void ban_msg(struct admission *a, const char *ip, int64_t until)
{
	snprintf(a->msg, sizeof(a->msg),
		 "Way too many requests; IP(%s) banned until %lld. Please use WebSocket Streams "
		 "for live updates to avoid bans.",
		 ip, (long long)until);
}

static void budget_msg(struct admission *a, const char *ip, int64_t limit)
{
	snprintf(a->msg, sizeof(a->msg),
		 "Too many requests; current limit of IP(%s) request weight per minute is %lld. "
		 "Please use WebSocket Streams for live updates to avoid polling the API.",
		 ip, (long long)limit);
}

/* With the state lock held: draws the injected fault of an admitted request. */
static void draw_fault(struct state *st, const char *url, struct admission *a, const char *ip,
		       int64_t wall)
{
	const struct faults *f = &st->f;
	if (f->path[0] && !strstr(url, f->path))
		return; /* faults aimed at another endpoint */
	if (f->phang > 0 && state_rand(st) < f->phang)
		a->fault = F_HANG;
	else if (f->p418 > 0 && state_rand(st) < f->p418)
		a->fault = F_418;
	else if (f->p429 > 0 && state_rand(st) < f->p429)
		a->fault = F_429;
	else if (f->p5xx > 0 && state_rand(st) < f->p5xx)
		a->fault = F_5XX;
	else if (f->ptrunc > 0 && state_rand(st) < f->ptrunc)
		a->fault = F_TRUNC;
	else if (f->pmalformed > 0 && state_rand(st) < f->pmalformed)
		a->fault = F_MALFORMED;
	if (a->fault == F_5XX) {
		static const int codes[] = {500, 502, 503, 504};
		a->status5 = codes[(int)(state_rand(st) * 4) & 3];
	} else if (a->fault == F_418) {
		st->ban_until = wall + st->ban_seconds * 1000;
		a->retry = st->ban_seconds;
		ban_msg(a, ip, st->ban_until);
	} else if (a->fault == F_429) {
		a->retry = f->retry_after_s;
		budget_msg(a, ip, st->weight_limit);
	} else if (a->fault == F_HANG) {
		st->hangs++;
	}
}

/* The gate every /fapi request passes: ban, throttle, weight budget, then faults. */
static void admit(struct fakex *fx, struct MHD_Connection *c, const char *url, int64_t weight,
		  struct admission *a)
{
	char ipbuf[INET6_ADDRSTRLEN];
	const char *ip = client_ip(c, ipbuf, sizeof(ipbuf));
	struct state *st = &fx->st;
	int64_t wall = wall_ms();

	memset(a, 0, sizeof(*a));
	pthread_mutex_lock(&st->lock);
	state_roll(st, wall);
	a->now = state_now(st);
	a->latency = st->f.latency_ms;
	a->hang_ms = st->f.hang_ms;
	if (st->ban_until > wall) {
		a->kind = 1;
		a->retry = (st->ban_until - wall + 999) / 1000;
		ban_msg(a, ip, st->ban_until);
	} else if (st->throttle_until > wall) {
		a->kind = 2;
		st->ban_until = wall + st->ban_seconds * 1000;
		st->throttle_until = 0;
		a->retry = st->ban_seconds;
		ban_msg(a, ip, st->ban_until);
	} else if (st->used + weight > st->weight_limit) {
		a->kind = 3;
		st->throttle_until = (st->minute + 1) * 60000;
		a->retry = (st->throttle_until - wall + 999) / 1000;
		if (a->retry < 1)
			a->retry = 1;
		budget_msg(a, ip, st->weight_limit);
	} else {
		st->used += weight;
		draw_fault(st, url, a, ip, wall);
	}
	a->used = st->used;
	pthread_mutex_unlock(&st->lock);
}

/* The reply of an injected fault (not F_TRUNC/F_MALFORMED, which shape a normal reply). */
static enum MHD_Result reply_fault(struct fakex *fx, struct MHD_Connection *c, struct req *r,
				   const char *method, const struct admission *a)
{
	size_t len;
	char *body;
	switch (a->fault) {
	case F_HANG:
		reqlog_write(fx->log, wall_ms(), a->now, method, r->uri, 0, a->used, "hang");
		state_wait(&fx->st, a->hang_ms);
		return MHD_NO;
	case F_418:
	case F_429:
		body = error_body(-1003, a->msg, &len);
		return reply(fx, c, r, method, a->fault == F_418 ? 418 : 429, body, len, a->fault,
			     a->retry);
	default:
		break;
	}
	switch (a->status5) {
	case 503:
		return reply_error(fx, c, r, method, 503, -1008,
				   "Server is currently overloaded with other requests. Please try "
				   "again in a few minutes.",
				   a->fault);
	case 500:
		return reply_error(
			fx, c, r, method, 500, -1001,
			"Internal error; unable to process your request. Please try again.",
			a->fault);
	default:
		return reply_error(fx, c, r, method, a->status5, -1007,
				   "Timeout waiting for response from backend server. Send status "
				   "unknown; execution status unknown.",
				   a->fault);
	}
}

static enum MHD_Result fapi(struct fakex *fx, struct MHD_Connection *c, struct req *r,
			    const char *url, const char *method)
{
	enum endpoint ep = EP_NONE;
	enum fx_market mk = FX_UM;
	int64_t limit_max = 1500;
	for (size_t p = 0; p < sizeof(prefixes) / sizeof(prefixes[0]); p++) {
		size_t n = strlen(prefixes[p].prefix);
		if (strncmp(url, prefixes[p].prefix, n))
			continue;
		mk = prefixes[p].mk;
		limit_max = prefixes[p].limit_max;
		if (!strcmp(method, "GET"))
			for (size_t i = 0; i < sizeof(routes) / sizeof(routes[0]); i++)
				if (!strcmp(url + n, routes[i].path))
					ep = routes[i].ep;
	}
	int64_t weight = 1, v;
	if (ep == EP_KLINES) {
		const char *lim = arg(c, "limit");
		weight = klines_weight(
			mk, lim && parse_int(lim, &v) && v >= 1 && v <= limit_max ? v : 500);
	} else if (ep == EP_EXINFO && mk == FX_SPOT) {
		weight = 20;
	}
	struct admission a;
	admit(fx, c, url, weight, &a);
	struct state *st = &fx->st;
	if (a.latency > 0 && state_wait(st, a.latency))
		return MHD_NO;
	if (a.kind) {
		size_t len;
		char *body = error_body(-1003, a.msg, &len);
		return reply(fx, c, r, method, a.kind == 3 ? 429 : 418, body, len, F_NONE, a.retry);
	}
	if (a.fault != F_NONE && a.fault != F_TRUNC && a.fault != F_MALFORMED)
		return reply_fault(fx, c, r, method, &a);

	size_t len = 0;
	char *body = NULL, msg[256];
	switch (ep) {
	case EP_KLINES:
		return klines(fx, c, r, method, a.fault, a.now, mk, limit_max);
	case EP_EXINFO:
		pthread_mutex_lock(&st->lock);
		body = exinfo_build(&fx->market, mk, a.now,
				    st->advertised > 0 ? st->advertised : st->weight_limit,
				    st->f.exinfo_empty > 0, &len);
		if (st->f.exinfo_empty > 0)
			st->f.exinfo_empty--;
		pthread_mutex_unlock(&st->lock);
		break;
	case EP_TIME:
		pthread_mutex_lock(&st->lock);
		v = a.now + st->f.time_offset_ms;
		pthread_mutex_unlock(&st->lock);
		body = json_text(json_pack("{s:I}", "serverTime", (json_int_t)v), &len);
		break;
	case EP_PING:
		body = json_text(json_object(), &len);
		break;
	case EP_NONE:
		snprintf(msg, sizeof(msg), "Path %s, Method %s is invalid", url, method);
		body = error_body(-5000, msg, &len);
		return reply(fx, c, r, method, 404, body, len, a.fault, 0);
	}
	return reply(fx, c, r, method, 200, body, len, a.fault, 0);
}

/* --- /data/ (the public archive) -------------------------------------------------- */

/* Archive files: no weight, no /fapi faults; their own faults (archive.h). */
static enum MHD_Result archive(struct fakex *fx, struct MHD_Connection *c, struct req *r,
			       const char *url, const char *method)
{
	struct archive_faults f;
	pthread_mutex_lock(&fx->st.lock);
	int64_t now = state_now(&fx->st), hang_ms = fx->st.f.hang_ms;
	f = fx->st.f.archive;
	if (archive_hangs(&f, url))
		fx->st.hangs++;
	pthread_mutex_unlock(&fx->st.lock);
	if (archive_hangs(&f, url)) {
		reqlog_write(fx->log, wall_ms(), now, method, r->uri, 0, 0, "archive_hang");
		state_wait(&fx->st, hang_ms);
		return MHD_NO;
	}
	struct archive_reply ar;
	if (strcmp(method, "GET") || archive_serve(&fx->market, url, now, &f, &ar))
		return reply_error(fx, c, r, method, strcmp(method, "GET") ? 405 : 500, -1,
				   "archive: GET only", F_NONE);
	r->ctype = ar.status != 200           ? "application/xml"
		   : strstr(url, ".CHECKSUM") ? "text/plain"
					      : "application/zip";
	return reply(fx, c, r, method, ar.status, ar.body, ar.len, ar.truncate ? F_TRUNC : F_NONE,
		     0);
}

/* --- /_ctl/ ---------------------------------------------------------------------- */

static json_t *faults_json(const struct state *st)
{
	json_t *inv = json_array();
	for (int i = 0; i < st->f.ninvalid; i++)
		json_array_append_new(inv, json_string(st->f.invalid[i]));
	return json_pack("{s:f,s:f,s:f,s:f,s:f,s:f,s:I,s:I,s:I,s:I,s:o}", "p5xx", st->f.p5xx,
			 "p429", st->f.p429, "p418", st->f.p418, "phang", st->f.phang, "ptrunc",
			 st->f.ptrunc, "pmalformed", st->f.pmalformed, "latency_ms",
			 (json_int_t)st->f.latency_ms, "retry_after",
			 (json_int_t)st->f.retry_after_s, "hang_ms", (json_int_t)st->f.hang_ms,
			 "ban_seconds", (json_int_t)st->ban_seconds, "invalid_symbol", inv);
}

/* The knobs added after the first set: the header override, the /time offset and the
 * empty range. */
static void faults_json_more(const struct state *st, json_t *o)
{
	json_object_set_new(o, "retry_after_force", json_string(st->f.retry_after_force));
	json_object_set_new(o, "path", json_string(st->f.path));
	json_object_set_new(o, "time_offset_ms", json_integer((json_int_t)st->f.time_offset_ms));
	json_object_set_new(o, "empty_from", json_integer((json_int_t)st->f.empty_from));
	json_object_set_new(o, "empty_to", json_integer((json_int_t)st->f.empty_to));
	json_object_set_new(o, "exinfo_empty", json_integer((json_int_t)st->f.exinfo_empty));
	const struct archive_faults *af = &st->f.archive;
	json_object_set_new(o, "archive",
			    json_pack("{s:s,s:s,s:s,s:s,s:s,s:s,s:s,s:s,s:b}", "damage", af->damage,
				      "badsum", af->badsum, "missing", af->missing, "trunc",
				      af->trunc, "droprow", af->droprow, "revise", af->revise,
				      "hang", af->hang, "hangsum", af->hangsum, "micros",
				      af->micros));
}

/* archive_damage= archive_badsum= archive_missing= archive_trunc= archive_droprow=
 * archive_revise= archive_hang= archive_hangsum= (a substring of the file names hit; empty: off),
 * archive_micros=0|1. */
static const char *ctl_archive_faults(struct archive_faults *af, struct MHD_Connection *c)
{
	static const struct {
		const char *name;
		size_t off;
	} subs[] = {
		{"archive_damage", offsetof(struct archive_faults, damage)},
		{"archive_badsum", offsetof(struct archive_faults, badsum)},
		{"archive_missing", offsetof(struct archive_faults, missing)},
		{"archive_trunc", offsetof(struct archive_faults, trunc)},
		{"archive_droprow", offsetof(struct archive_faults, droprow)},
		{"archive_revise", offsetof(struct archive_faults, revise)},
		{"archive_hang", offsetof(struct archive_faults, hang)},
		{"archive_hangsum", offsetof(struct archive_faults, hangsum)},
	};
	const char *v;
	for (size_t i = 0; i < sizeof(subs) / sizeof(subs[0]); i++) {
		if (!(v = arg(c, subs[i].name)))
			continue;
		if (strlen(v) >= ARCHIVE_MATCH_MAX)
			return "archive_*: a file name part of at most 47 characters (empty: off)";
		snprintf((char *)af + subs[i].off, ARCHIVE_MATCH_MAX, "%s", v);
	}
	if ((v = arg(c, "archive_micros")))
		af->micros = !strcmp(v, "1");
	return NULL;
}

static const char *ctl_faults(struct state *st, struct MHD_Connection *c)
{
	static const struct {
		const char *name;
		size_t off;
	} probs[] = {
		{"p5xx", offsetof(struct faults, p5xx)},
		{"p429", offsetof(struct faults, p429)},
		{"p418", offsetof(struct faults, p418)},
		{"phang", offsetof(struct faults, phang)},
		{"ptrunc", offsetof(struct faults, ptrunc)},
		{"pmalformed", offsetof(struct faults, pmalformed)},
	};
	static const struct {
		const char *name;
		size_t off;
	} ints[] = {
		{"latency_ms", offsetof(struct faults, latency_ms)},
		{"retry_after", offsetof(struct faults, retry_after_s)},
		{"hang_ms", offsetof(struct faults, hang_ms)},
		{"exinfo_empty", offsetof(struct faults, exinfo_empty)},
	};
	struct faults f = st->f;
	int64_t ban_s = st->ban_seconds;
	const char *v = arg(c, "reset");
	if (v && !strcmp(v, "1")) {
		int64_t keep_retry = f.retry_after_s, keep_hang = f.hang_ms;
		memset(&f, 0, sizeof(f));
		f.retry_after_s = keep_retry;
		f.hang_ms = keep_hang;
	}
	for (size_t i = 0; i < sizeof(probs) / sizeof(probs[0]); i++)
		if ((v = arg(c, probs[i].name)) &&
		    !parse_prob(v, (double *)(void *)((char *)&f + probs[i].off)))
			return "a probability must be a number from 0 to 1";
	for (size_t i = 0; i < sizeof(ints) / sizeof(ints[0]); i++) {
		int64_t *p = (int64_t *)(void *)((char *)&f + ints[i].off);
		if ((v = arg(c, ints[i].name)) && (!parse_int(v, p) || *p < 0))
			return "latency_ms, retry_after, hang_ms and exinfo_empty must be integers "
			       ">= 0";
	}
	if ((v = arg(c, "retry_after_force"))) {
		if (strlen(v) >= sizeof(f.retry_after_force) ||
		    strspn(v, "0123456789") != strlen(v))
			return "retry_after_force: expected up to 23 decimal digits (empty: off)";
		snprintf(f.retry_after_force, sizeof(f.retry_after_force), "%s", v);
	}
	if ((v = arg(c, "path"))) {
		if (strlen(v) >= sizeof(f.path))
			return "path: at most 31 characters (empty: every path)";
		snprintf(f.path, sizeof(f.path), "%s", v);
	}
	if ((v = arg(c, "time_offset_ms")) && !parse_int(v, &f.time_offset_ms))
		return "time_offset_ms: expected an integer (ms, may be negative)";
	if ((v = arg(c, "empty_from")) && (!parse_int(v, &f.empty_from) || f.empty_from < 0))
		return "empty_from: expected ms since epoch";
	if ((v = arg(c, "empty_to")) && (!parse_int(v, &f.empty_to) || f.empty_to < 0))
		return "empty_to: expected ms since epoch (0: off)";
	if ((v = ctl_archive_faults(&f.archive, c)))
		return v;
	if ((v = arg(c, "ban_seconds")) && (!parse_int(v, &ban_s) || ban_s < 1))
		return "ban_seconds must be an integer >= 1";
	if ((v = arg(c, "invalid_symbol"))) {
		if (!strcmp(v, "-"))
			f.ninvalid = 0;
		else if (strlen(v) > SYMBOL_MAX || !*v)
			return "invalid_symbol: not a symbol";
		else if (!symbol_invalid(&f, v)) {
			if (f.ninvalid == INVALID_MAX)
				return "invalid_symbol: too many symbols (at most 16)";
			snprintf(f.invalid[f.ninvalid++], SYMBOL_MAX + 1, "%s", v);
		}
	}
	st->f = f;
	st->ban_seconds = ban_s;
	return NULL;
}

static json_t *state_json(const struct state *st, int64_t wall)
{
	json_t *counts = json_object();
	for (int i = 0; i < 600; i++)
		if (st->counts[i]) {
			char k[16];
			snprintf(k, sizeof(k), "%d", i);
			json_object_set_new(counts, k, json_integer((json_int_t)st->counts[i]));
		}
	if (st->hangs)
		json_object_set_new(counts, "hang", json_integer((json_int_t)st->hangs));
	return json_pack("{s:I,s:I,s:s,s:I,s:I,s:I,s:o,s:o}", "now", (json_int_t)state_now(st),
			 "wall", (json_int_t)wall, "clock", st->clock_fixed ? "fixed" : "real",
			 "used_weight", (json_int_t)st->used, "weight_limit",
			 (json_int_t)st->weight_limit, "ban_until",
			 (json_int_t)(st->ban_until > wall ? st->ban_until : 0), "requests", counts,
			 "faults", faults_json(st));
}

static enum MHD_Result ctl(struct fakex *fx, struct MHD_Connection *c, struct req *r,
			   const char *url, const char *method)
{
	struct state *st = &fx->st;
	const char *name = url + strlen("/_ctl/"), *v, *bad = NULL;
	int64_t n, wall = wall_ms();
	json_t *out = NULL;
	int status = 200;

	pthread_mutex_lock(&st->lock);
	state_roll(st, wall);
	if (!strcmp(name, "clock")) {
		if ((v = arg(c, "set"))) {
			if (parse_int(v, &n) && n >= 0)
				state_set_now(st, n);
			else
				bad = "set: expected ms since epoch";
		} else if ((v = arg(c, "advance"))) {
			if (parse_int(v, &n))
				state_set_now(st, state_now(st) + n);
			else
				bad = "advance: expected ms";
		}
		out = json_pack("{s:I}", "now", (json_int_t)state_now(st));
	} else if (!strcmp(name, "faults")) {
		bad = ctl_faults(st, c);
		out = faults_json(st);
		faults_json_more(st, out);
	} else if (!strcmp(name, "weight")) {
		if ((v = arg(c, "used")) && !(parse_int(v, &n) && n >= 0))
			bad = "used: expected an integer >= 0";
		else if (v)
			st->used = n;
		if ((v = arg(c, "limit")) && !(parse_int(v, &n) && n >= 1))
			bad = "limit: expected an integer >= 1";
		else if (v)
			st->weight_limit = n;
		/* advertise=N: exchangeInfo reports N (0 = the real limit) while the
		 * server keeps enforcing its own: a lying or odd exchange. */
		if ((v = arg(c, "advertise")) && !(parse_int(v, &n) && n >= 0))
			bad = "advertise: expected an integer >= 0";
		else if (v)
			st->advertised = n;
		out = json_pack("{s:I,s:I,s:I}", "used", (json_int_t)st->used, "limit",
				(json_int_t)st->weight_limit, "advertised",
				(json_int_t)st->advertised);
	} else if (!strcmp(name, "ban")) {
		if (!(v = arg(c, "seconds")) || !parse_int(v, &n) || n < 0) {
			bad = "seconds: expected an integer >= 0";
		} else if (n == 0) {
			st->ban_until = st->throttle_until = 0;
		} else {
			st->ban_until = wall + n * 1000;
		}
		out = json_pack("{s:I}", "ban_until", (json_int_t)st->ban_until);
	} else if (!strcmp(name, "symbol")) {
		struct symbol *s = (v = arg(c, "symbol")) ? market_find(&fx->market, v) : NULL;
		const char *stv = arg(c, "status"), *rm = arg(c, "remove"), *ob = arg(c, "onboard"),
			   *om = arg(c, "omit");
		if (!s) {
			bad = "symbol: not a symbol fakex serves";
		} else if (ob && (!parse_int(ob, &n) || n < 0)) {
			bad = "onboard: expected ms since epoch (the listing date)";
		} else if (stv && (!*stv || strlen(stv) >= sizeof(s->status) ||
				   strspn(stv, "ABCDEFGHIJKLMNOPQRSTUVWXYZ_") != strlen(stv))) {
			bad = "status: expected an upper-case status such as TRADING, BREAK, "
			      "SETTLING";
		} else {
			if (stv)
				snprintf(s->status, sizeof(s->status), "%s", stv);
			if (rm)
				s->removed = !strcmp(rm, "1");
			if (om)
				s->omitted = !strcmp(om, "1");
			if (ob)
				s->onboard = n;
			out = json_pack("{s:s,s:s,s:b,s:b,s:I}", "symbol", s->name, "status",
					s->status, "removed", s->removed, "omitted", s->omitted,
					"onboard", (json_int_t)s->onboard);
		}
	} else if (!strcmp(name, "state")) {
		out = state_json(st, wall);
	} else {
		status = 404;
	}
	pthread_mutex_unlock(&st->lock);

	if (status == 404) {
		json_decref(out);
		char msg[256];
		snprintf(msg, sizeof(msg), "Path %s, Method %s is invalid", url, method);
		return reply_error(fx, c, r, method, 404, -5000, msg, F_NONE);
	}
	if (bad) {
		json_decref(out);
		return reply_error(fx, c, r, method, 400, -1, bad, F_NONE);
	}
	return reply_json(fx, c, r, method, out);
}

/* --- libmicrohttpd glue ---------------------------------------------------------- */

static void *on_uri(void *cls, const char *uri, struct MHD_Connection *c)
{
	(void)cls;
	(void)c;
	struct req *r = calloc(1, sizeof(*r));
	if (r && !(r->uri = strdup(uri))) {
		free(r);
		r = NULL;
	}
	return r;
}

static void on_done(void *cls, struct MHD_Connection *c, void **req_cls,
		    enum MHD_RequestTerminationCode toe)
{
	(void)cls;
	(void)c;
	(void)toe;
	struct req *r = *req_cls;
	if (r) {
		free(r->uri);
		free(r);
	}
	*req_cls = NULL;
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *c, const char *url,
				  const char *method, const char *version, const char *upload,
				  size_t *upload_size, void **req_cls)
{
	struct fakex *fx = cls;
	struct req *r = *req_cls;
	(void)version;
	(void)upload;
	if (!r)
		return MHD_NO;
	if (!r->started) {
		r->started = true;
		return MHD_YES;
	}
	if (*upload_size) {
		*upload_size = 0; /* control parameters are in the query; ignore any body */
		return MHD_YES;
	}
	if (!strncmp(url, "/_ctl/", 6))
		return ctl(fx, c, r, url, method);
	if (archive_is_path(url))
		return archive(fx, c, r, url, method);
	return fapi(fx, c, r, url, method);
}

int server_start(struct fakex *fx, const char *addr, int port, int *bound, char *err, size_t errlen)
{
	struct sockaddr_in sa;
	memset(&sa, 0, sizeof(sa));
	sa.sin_family = AF_INET;
	sa.sin_port = htons((uint16_t)port);
	if (inet_pton(AF_INET, addr, &sa.sin_addr) != 1) {
		snprintf(err, errlen, "--listen %s: not an IPv4 address", addr);
		return -1;
	}
	unsigned flags = MHD_USE_THREAD_PER_CONNECTION | MHD_USE_INTERNAL_POLLING_THREAD |
			 MHD_USE_POLL | MHD_USE_SUPPRESS_DATE_NO_CLOCK | MHD_USE_ERROR_LOG;
	fx->daemon = MHD_start_daemon(flags, (uint16_t)port, NULL, NULL, on_request, fx,
				      MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&sa,
				      MHD_OPTION_URI_LOG_CALLBACK, on_uri, fx,
				      MHD_OPTION_NOTIFY_COMPLETED, on_done, fx,
				      MHD_OPTION_CONNECTION_LIMIT, 4000u, MHD_OPTION_END);
	if (!fx->daemon) {
		snprintf(err, errlen,
			 "listen on %s:%d: cannot start the HTTP server (port in use?)", addr,
			 port);
		return -1;
	}
	const union MHD_DaemonInfo *di = MHD_get_daemon_info(fx->daemon, MHD_DAEMON_INFO_BIND_PORT);
	*bound = di ? di->port : port;
	return 0;
}

void server_stop(struct fakex *fx)
{
	state_stop(&fx->st);
	if (fx->daemon)
		MHD_stop_daemon(fx->daemon);
	fx->daemon = NULL;
}
