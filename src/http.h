/* http.h — HTTP client over libcurl's multi interface: many requests in flight on
 * reused connections (HTTP/2 multiplexed where the server offers it), each response
 * body held in memory up to a ceiling, and the headers the exchange client needs
 * (Retry-After, X-MBX-USED-WEIGHT-1M, Date) picked out. No retries here: the caller
 * decides (retry.c). Not thread-safe: one struct http per thread. */
#ifndef CK_HTTP_H
#define CK_HTTP_H

#include <stddef.h>
#include <stdint.h>

#include "err.h"

#define HTTP_BODY_MAX (8u << 20) /* a response body larger than this is an error */

struct http_opts {
	int64_t connect_timeout_ms;
	int64_t request_timeout_ms;
	const char *user_agent;
	long max_host_connections; /* 0 = libcurl's default */
};

struct http_req {
	/* set by the caller before http_start; the caller owns the struct */
	char url[1024];
	void *user;
	const char *method;       /* NULL = GET */
	const char *content_type; /* for a body */
	const char *post;         /* request body (copied by libcurl), NULL for none */
	size_t post_len;
	const char *const *headers; /* extra "Name: value" lines, NULL-terminated */
	/* results, valid after completion */
	int curl_code; /* CURLcode; 0 when a response arrived */
	char curl_msg[256];
	long status; /* HTTP status, 0 if none */
	char *body;  /* NUL-terminated; freed by http_req_release */
	size_t len;
	int64_t retry_after_s; /* -1 if absent */
	int64_t used_weight;   /* X-MBX-USED-WEIGHT-1M, -1 if absent */
	int64_t date_ms;       /* Date header, 0 if absent */
	int64_t elapsed_ms;
	int64_t done_ms; /* wall clock (now_ms) when the answer arrived: a Retry-After counts
			  * from here, however late the caller gets round to reading it */
	/* private */
	void *easy;
	void *hdr_list;
	int64_t started_ms;
	int too_big;
	struct http_req *next, *prev; /* in flight on the owning struct http */
};

struct http;

/* Picks Retry-After, X-MBX-USED-WEIGHT-1M and Date out of one raw header line (len
 * bytes, not NUL-terminated) into r. Public for the fuzz target. */
void http_header_parse(struct http_req *r, const char *line, size_t len);

int http_new(struct http **out, const struct http_opts *o, struct ck_err *err);
void http_free(struct http *h); /* aborts requests still in flight */

/* Queues req (which must stay valid until it completes or http_free). */
int http_start(struct http *h, struct http_req *req, struct ck_err *err);

/* Drives transfers for at most wait_ms; completed requests are appended to done (up to
 * max) and counted in *ndone. Returns 0 or CK_EIO if libcurl's multi handle failed. */
int http_poll(struct http *h, int wait_ms, struct http_req **done, size_t max, size_t *ndone,
	      struct ck_err *err);

/* Lets libcurl send what was just started without waiting or reporting completions
 * (they are reported by the next http_poll). */
void http_kick(struct http *h);

/* Requests in flight. */
size_t http_inflight(const struct http *h);

/* Aborts one request in flight (no completion is reported for it). */
void http_abort(struct http *h, struct http_req *req);

/* One blocking request (its own transfer on h), for the few single calls. */
int http_do(struct http *h, struct http_req *req, struct ck_err *err);

/* Frees the body and transient state of a completed request; the struct stays. */
void http_req_release(struct http_req *req);

/* A one-line description of a failed transfer or a non-2xx status, for messages. */
const char *http_req_describe(const struct http_req *req, char *buf, size_t size);

#endif
