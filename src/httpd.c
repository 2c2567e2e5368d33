/* httpd.c — the daemon's HTTP server (libmicrohttpd, its own threads, a read-only
 * database connection): /metrics, /healthz (200 for OK/WARNING, 503 for
 * CRITICAL/UNKNOWN, JSON body), / (the status page, status_page.c), /api/status (the
 * scheduler's state as JSON). GET and HEAD only; anything else is 4xx. Rendered answers
 * are cached for a second (/healthz five) so a burst of requests costs one rendering.
 * Limits against slow or many clients are set at start (see httpd_start). Everything
 * shared with the scheduler is read under d->mu (daemon_int.h). */
#include <arpa/inet.h>
#include <netdb.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include <jansson.h>
#include <microhttpd.h>

#include "afile.h"
#include "daemon_int.h"
#include "health.h"
#include "log.h"
#include "metrics.h"
#include "sbuf.h"
#include "status_page.h"
#include "store.h"
#include "utc.h"
#include "banned.h"

/* ---- HTTP: renderings ----------------------------------------------------------- */

/* /api/status: the scheduler's state. Caller holds d->mu. */
static char *render_api(struct daemon *d)
{
	json_t *o = json_object(), *jobs = json_array();
	char a[32], *s;

	json_object_set_new(o, "now", json_integer(d->tick_clock));
	json_object_set_new(o, "now_utc", json_string(daemon_iso(d->tick_clock, a, sizeof(a))));
	json_object_set_new(o, "ticks", json_integer(d->ticks));
	json_object_set_new(o, "clock", json_string(d->o->clock_url ? "test" : "system"));
	json_object_set_new(o, "started", json_integer(d->started));
	json_object_set_new(o, "running",
			    d->running >= 0 ? json_string(d->jobs[d->running].name) : json_null());
	json_object_set_new(o, "sync_skipped", json_integer(d->live.sync_skipped));
	json_object_set_new(o, "http_requests", json_integer(d->live.http_requests));
	for (int i = 0; i < NJOBS; i++) {
		struct job *j = &d->jobs[i];
		json_array_append_new(
			jobs,
			json_pack("{s:s,s:s,s:I,s:I,s:I,s:I,s:s?,s:s,s:I,s:I,s:I}", "name", j->name,
				  "schedule", j->expr, "next", (json_int_t)j->next, "last_ok",
				  (json_int_t)j->last_ok, "last_start", (json_int_t)j->last_start,
				  "last_end", (json_int_t)j->last_end, "last_status",
				  j->last_status, "last_detail", j->last_detail, "runs",
				  (json_int_t)j->runs, "failures", (json_int_t)j->failures,
				  "skipped", (json_int_t)j->skipped));
	}
	json_object_set_new(o, "jobs", jobs);
	s = json_dumps(o, JSON_COMPACT);
	json_decref(o);
	return s;
}

/* Renders (or reuses) cache k. Caller holds d->mu. */
static int cache_fill(struct daemon *d, int k)
{
	struct cache *c = &d->cache[k];
	struct ck_err err = {0, ""};
	int64_t t = mono_ms();
	char *body = NULL;
	size_t len = 0;
	unsigned code = MHD_HTTP_OK;

	if (c->at && t - c->at < (k == C_HEALTHZ ? HEALTHZ_CACHE_MS : CACHE_MS))
		return 0;
	if (k == C_METRICS) {
		struct metrics_live live = d->live;
		struct ck_err problem = {0, ""};
		if (metrics_render(d->ro, &d->ctx->cfg, &live, &body, &len, &problem, &err)) {
			log_error("daemon", "/metrics: %s", err.msg);
			return -1;
		}
		if (problem.code)
			log_warn("daemon", "/metrics: %s (served without it)", problem.msg);
		c->type = "text/plain; version=0.0.4; charset=utf-8";
	} else if (k == C_HEALTHZ) {
		struct health_report r;
		memset(&r, 0, sizeof(r));
		if (health_run(d->ro, &d->ctx->cfg, 0, now_ms() + d->clock_offset, &r, &err) ||
		    health_to_json(&r, &body, &err)) {
			log_error("daemon", "/healthz: %s", err.msg);
			free(body);
			return -1;
		}
		len = strlen(body);
		code = (r.status == HEALTH_OK || r.status == HEALTH_WARNING)
			       ? MHD_HTTP_OK
			       : MHD_HTTP_SERVICE_UNAVAILABLE;
		c->type = "application/json";
	} else {
		struct sbuf b = {NULL, 0, 0, PAGE_MAX, 0};
		struct status_job jobs[NJOBS];
		struct status_view v = {&d->ctx->cfg,
					d->ro,
					now_ms() + d->clock_offset,
					now_ms() - d->started,
					d->o->clock_url != NULL,
					jobs,
					NJOBS};
		for (int i = 0; i < NJOBS; i++) {
			const struct job *j = &d->jobs[i];
			jobs[i] = (struct status_job){
				j->name,        j->expr,        j->next, j->last_start,
				j->last_status, j->last_detail, j->runs, j->failures,
				j->skipped,     d->running == i};
		}
		if (status_page_render(&v, &b)) {
			log_error("daemon", "status page: rendering failed (out of memory)");
			free(b.p);
			return -1;
		}
		body = b.p;
		len = b.len;
		c->type = "text/html; charset=utf-8";
	}
	free(c->body);
	c->body = body;
	c->len = len;
	c->code = code;
	c->at = t;
	return 0;
}
/* ---- HTTP: the server ----------------------------------------------------------- */

static enum MHD_Result reply(struct MHD_Connection *conn, unsigned code, const char *type,
			     const char *body, size_t len)
{
	struct MHD_Response *r =
		MHD_create_response_from_buffer(len, (void *)body, MHD_RESPMEM_MUST_COPY);
	enum MHD_Result ret;

	if (!r)
		return MHD_NO;
	MHD_add_response_header(r, "Content-Type", type);
	MHD_add_response_header(r, "Cache-Control", "no-store");
	MHD_add_response_header(r, "X-Content-Type-Options", "nosniff");
	if (!strncmp(type, "text/html", 9))
		MHD_add_response_header(r, "Content-Security-Policy",
					"default-src 'none'; style-src 'unsafe-inline'");
	if (code == MHD_HTTP_METHOD_NOT_ALLOWED)
		MHD_add_response_header(r, "Allow", "GET, HEAD");
	ret = MHD_queue_response(conn, code, r);
	MHD_destroy_response(r);
	return ret;
}

static enum MHD_Result reply_text(struct MHD_Connection *conn, unsigned code, const char *msg)
{
	return reply(conn, code, "text/plain; charset=utf-8", msg, strlen(msg));
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *conn, const char *url,
				  const char *method, const char *version, const char *upload_data,
				  size_t *upload_data_size, void **con_cls)
{
	struct daemon *d = cls;
	enum MHD_Result ret;
	int k = -1;

	(void)version;
	(void)upload_data;
	(void)con_cls;
	pthread_mutex_lock(&d->mu);
	d->live.http_requests++;
	pthread_mutex_unlock(&d->mu);
	if (strcmp(method, MHD_HTTP_METHOD_GET) && strcmp(method, MHD_HTTP_METHOD_HEAD))
		return reply_text(conn, MHD_HTTP_METHOD_NOT_ALLOWED, "only GET and HEAD\n");
	{
		const char *cl = MHD_lookup_connection_value(conn, MHD_HEADER_KIND,
							     MHD_HTTP_HEADER_CONTENT_LENGTH);
		if (*upload_data_size || (cl && strcmp(cl, "0")) ||
		    MHD_lookup_connection_value(conn, MHD_HEADER_KIND,
						MHD_HTTP_HEADER_TRANSFER_ENCODING))
			return reply_text(conn, MHD_HTTP_BAD_REQUEST, "a GET has no body\n");
	}
	if (!strcmp(url, "/metrics"))
		k = C_METRICS;
	else if (!strcmp(url, "/healthz"))
		k = C_HEALTHZ;
	else if (!strcmp(url, "/") || !strcmp(url, "/index.html"))
		k = C_PAGE;
	else if (!strcmp(url, "/api/status")) {
		char *s;
		pthread_mutex_lock(&d->mu);
		s = render_api(d);
		pthread_mutex_unlock(&d->mu);
		if (!s)
			return reply_text(conn, MHD_HTTP_INTERNAL_SERVER_ERROR, "out of memory\n");
		ret = reply(conn, MHD_HTTP_OK, "application/json", s, strlen(s));
		free(s);
		return ret;
	} else {
		return reply_text(conn, MHD_HTTP_NOT_FOUND,
				  "not found; try /, /metrics, /healthz or /api/status\n");
	}
	pthread_mutex_lock(&d->mu);
	if (cache_fill(d, k)) {
		pthread_mutex_unlock(&d->mu);
		return reply_text(conn, MHD_HTTP_INTERNAL_SERVER_ERROR,
				  "rendering failed; see the daemon's log\n");
	}
	ret = reply(conn, d->cache[k].code, d->cache[k].type, d->cache[k].body, d->cache[k].len);
	pthread_mutex_unlock(&d->mu);
	return ret;
}

/* Splits "host:port" ("[v6]:port" too) and resolves it for listening. */
static int listen_resolve(const char *spec, struct sockaddr_storage *ss, socklen_t *sl,
			  struct ck_err *err)
{
	char host[256], port[16];
	const char *colon = strrchr(spec, ':');
	struct addrinfo hints, *res = NULL;
	size_t hl;
	int rc;

	if (!colon || colon == spec || strlen(colon + 1) >= sizeof(port) || !colon[1])
		return ck_err_set(err, CK_EUSAGE,
				  "listen address '%s': must be host:port, e.g. "
				  "127.0.0.1:9464",
				  spec);
	hl = (size_t)(colon - spec);
	if (spec[0] == '[' && hl >= 2 && spec[hl - 1] == ']') {
		spec++;
		hl -= 2;
	}
	if (hl >= sizeof(host))
		return ck_err_set(err, CK_EUSAGE, "listen address '%s': host too long", spec);
	memcpy(host, spec, hl);
	host[hl] = '\0';
	snprintf(port, sizeof(port), "%s", colon + 1);
	memset(&hints, 0, sizeof(hints));
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
	if ((rc = getaddrinfo(host, port, &hints, &res)) || !res)
		return ck_err_set(err, CK_EUSAGE, "listen address '%s': %s", spec,
				  gai_strerror(rc));
	memcpy(ss, res->ai_addr, res->ai_addrlen);
	*sl = res->ai_addrlen;
	freeaddrinfo(res);
	return 0;
}

int httpd_start(struct daemon *d, const char *spec, struct ck_err *err)
{
	struct sockaddr_storage ss;
	socklen_t sl = 0;
	sigset_t block, old;
	const union MHD_DaemonInfo *info;
	unsigned flags = MHD_USE_AUTO_INTERNAL_THREAD; /* epoll on Linux */

	if (listen_resolve(spec, &ss, &sl, err))
		return err->code;
	if (ss.ss_family == AF_INET6)
		flags |= MHD_USE_IPv6;
	if (store_open(&d->ro, d->ctx->cfg.db, STORE_RDONLY, err))
		return err->code;
	/* MHD's threads must not take the signals meant for the scheduler */
	sigemptyset(&block);
	sigaddset(&block, SIGINT);
	sigaddset(&block, SIGTERM);
	sigaddset(&block, SIGHUP);
	pthread_sigmask(SIG_BLOCK, &block, &old);
	/* Bounded against slow clients (slowloris): a total and a per-address connection
	 * limit, refused at once when reached, and an idle timeout; epoll in a pool of
	 * threads, so thousands of idle sockets cost no scanning. */
	d->mhd = MHD_start_daemon(
		flags, 0, NULL, NULL, on_request, d, MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&ss,
		MHD_OPTION_THREAD_POOL_SIZE, (unsigned)4, MHD_OPTION_CONNECTION_LIMIT,
		(unsigned)d->ctx->cfg.http_max_connections, MHD_OPTION_PER_IP_CONNECTION_LIMIT,
		(unsigned)d->ctx->cfg.http_max_per_ip, MHD_OPTION_CONNECTION_TIMEOUT,
		(unsigned)d->ctx->cfg.http_timeout_s, MHD_OPTION_CONNECTION_MEMORY_LIMIT,
		(size_t)65536, MHD_OPTION_LISTEN_BACKLOG_SIZE, (unsigned)1024,
		MHD_OPTION_STRICT_FOR_CLIENT, (int)1, MHD_OPTION_END);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (!d->mhd)
		return ck_err_set(err, CK_EIO,
				  "HTTP server on %s: cannot listen (address in use "
				  "or not local? set [metrics] listen or --listen)",
				  spec);
	info = MHD_get_daemon_info(d->mhd, MHD_DAEMON_INFO_BIND_PORT);
	d->port = info ? info->port : 0;
	log_kv(LOG_INFO, "daemon", ((const char *[]){"listen", spec, NULL}),
	       "HTTP on port %u: /metrics /healthz /api/status and the status page /", d->port);
	if (d->o->port_file) {
		struct afile af;
		memset(&af, 0, sizeof(af));
		if (afile_open(&af, d->o->port_file, 0644, err))
			return err->code;
		fprintf(af.f, "%u\n", d->port);
		if (afile_commit(&af, err))
			return err->code;
	}
	return 0;
}

void httpd_stop(struct daemon *d)
{
	if (d->mhd) {
		MHD_stop_daemon(d->mhd);
		d->mhd = NULL;
	}
	store_close(d->ro);
	d->ro = NULL;
	for (int i = 0; i < NCACHES; i++) {
		free(d->cache[i].body);
		d->cache[i].body = NULL;
		d->cache[i].at = 0;
	}
}

void httpd_cache_reset(struct daemon *d)
{
	for (int i = 0; i < NCACHES; i++)
		d->cache[i].at = 0;
}
