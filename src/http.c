/* http.c — libcurl multi wrapper. Each request is one easy handle; handles are not
 * pooled (connections are: the multi handle keeps the connection cache). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <curl/curl.h>

#include "http.h"
#include "utc.h"
#include "banned.h"

struct http {
	CURLM *multi;
	struct http_opts o;
	size_t inflight;
	struct http_req *head; /* requests in flight */
};

int http_new(struct http **out, const struct http_opts *o, struct ck_err *err)
{
	struct http *h = calloc(1, sizeof(*h));

	*out = NULL;
	if (!h || !(h->multi = curl_multi_init())) {
		free(h);
		return ck_err_set(err, CK_ENOMEM, "http: cannot create libcurl multi handle");
	}
	h->o = *o;
	curl_multi_setopt(h->multi, CURLMOPT_PIPELINING, (long)CURLPIPE_MULTIPLEX);
	if (o->max_host_connections > 0)
		curl_multi_setopt(h->multi, CURLMOPT_MAX_HOST_CONNECTIONS, o->max_host_connections);
	*out = h;
	return 0;
}

static void req_cleanup(struct http *h, struct http_req *r)
{
	if (r->easy) {
		if (r->prev)
			r->prev->next = r->next;
		else
			h->head = r->next;
		if (r->next)
			r->next->prev = r->prev;
		r->next = r->prev = NULL;
		curl_multi_remove_handle(h->multi, r->easy);
		curl_easy_cleanup(r->easy);
		r->easy = NULL;
	}
	curl_slist_free_all(r->hdr_list);
	r->hdr_list = NULL;
}

void http_free(struct http *h)
{
	if (!h)
		return;
	/* Abort what is still in flight: the owners learn nothing more. */
	while (h->head)
		req_cleanup(h, h->head);
	curl_multi_cleanup(h->multi);
	free(h);
}

static size_t on_body(char *p, size_t size, size_t nmemb, void *arg)
{
	struct http_req *r = arg;
	size_t n = size * nmemb;

	if (r->len + n + 1 > HTTP_BODY_MAX) {
		r->too_big = 1;
		return 0; /* aborts the transfer with CURLE_WRITE_ERROR */
	}
	char *nb = realloc(r->body, r->len + n + 1);
	if (!nb)
		return 0;
	r->body = nb;
	memcpy(r->body + r->len, p, n);
	r->len += n;
	r->body[r->len] = 0;
	return n;
}

static int64_t parse_int(const char *s, size_t len)
{
	int64_t v = 0;
	size_t i = 0;
	while (i < len && (s[i] == ' ' || s[i] == '\t'))
		i++;
	if (i == len || s[i] < '0' || s[i] > '9')
		return -1;
	for (; i < len && s[i] >= '0' && s[i] <= '9'; i++) {
		if (v > (INT64_MAX - 9) / 10)
			return -1;
		v = v * 10 + (s[i] - '0');
	}
	return v;
}

void http_header_parse(struct http_req *r, const char *p, size_t n)
{
	const char *colon = memchr(p, ':', n);
	size_t nl, vl;

	if (!colon)
		return;
	nl = (size_t)(colon - p);
	vl = n - nl - 1;
	if (nl == 11 && !strncasecmp(p, "retry-after", 11)) {
		r->retry_after_s = parse_int(colon + 1, vl);
	} else if (nl == 21 && !strncasecmp(p, "x-mbx-used-weight-1m", 20)) {
		r->used_weight = parse_int(colon + 1, vl);
	} else if (nl == 20 && !strncasecmp(p, "x-mbx-used-weight-1m", 20)) {
		r->used_weight = parse_int(colon + 1, vl);
	} else if (nl == 4 && !strncasecmp(p, "date", 4)) {
		char v[64];
		size_t k = vl < sizeof(v) - 1 ? vl : sizeof(v) - 1;
		memcpy(v, colon + 1, k);
		v[k] = 0;
		time_t t = curl_getdate(v, NULL);
		/* before year 3000: a larger year would overflow the ms (found by fuzzing) */
		if (t > 0 && t < (time_t)32503680000LL)
			r->date_ms = (int64_t)t * 1000;
	}
}

static size_t on_header(char *p, size_t size, size_t nmemb, void *arg)
{
	size_t n = size * nmemb;
	http_header_parse(arg, p, n);
	return n;
}

int http_start(struct http *h, struct http_req *r, struct ck_err *err)
{
	CURL *e = curl_easy_init();
	const char *const *hd;

	r->curl_code = 0;
	r->curl_msg[0] = 0;
	r->status = 0;
	r->body = NULL;
	r->len = 0;
	r->retry_after_s = -1;
	r->used_weight = -1;
	r->date_ms = 0;
	r->too_big = 0;
	r->hdr_list = NULL;
	if (!e)
		return ck_err_set(err, CK_ENOMEM, "http: cannot create a libcurl handle");
	r->easy = e;
	curl_easy_setopt(e, CURLOPT_URL, r->url);
	curl_easy_setopt(e, CURLOPT_PRIVATE, (char *)r);
	curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, on_body);
	curl_easy_setopt(e, CURLOPT_WRITEDATA, r);
	curl_easy_setopt(e, CURLOPT_HEADERFUNCTION, on_header);
	curl_easy_setopt(e, CURLOPT_HEADERDATA, r);
	curl_easy_setopt(e, CURLOPT_ERRORBUFFER, r->curl_msg);
	curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT_MS, (long)h->o.connect_timeout_ms);
	curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, (long)h->o.request_timeout_ms);
	curl_easy_setopt(e, CURLOPT_USERAGENT, h->o.user_agent ? h->o.user_agent : "candlekeep");
	curl_easy_setopt(e, CURLOPT_ACCEPT_ENCODING, "");
	curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, "http,https");
	/* Over TLS, wait for a connection that may multiplex (HTTP/2) rather than open
	 * another; over plain HTTP (HTTP/1.1) that wait would serialize requests started
	 * together before any connection exists. */
	if (!strncmp(r->url, "https:", 6))
		curl_easy_setopt(e, CURLOPT_PIPEWAIT, 1L);
#if LIBCURL_VERSION_NUM >= 0x072f00
	/* HTTP/2 where the host offers it over TLS (ALPN); plain HTTP stays HTTP/1.1. */
	curl_easy_setopt(e, CURLOPT_HTTP_VERSION, (long)CURL_HTTP_VERSION_2TLS);
#endif
	if (r->method)
		curl_easy_setopt(e, CURLOPT_CUSTOMREQUEST, r->method);
	if (r->post) {
		curl_easy_setopt(e, CURLOPT_POSTFIELDSIZE, (long)r->post_len);
		curl_easy_setopt(e, CURLOPT_COPYPOSTFIELDS, r->post);
	}
	if (r->content_type) {
		char line[160];
		snprintf(line, sizeof(line), "Content-Type: %s", r->content_type);
		r->hdr_list = curl_slist_append(r->hdr_list, line);
	}
	for (hd = r->headers; hd && *hd; hd++)
		r->hdr_list = curl_slist_append(r->hdr_list, *hd);
	if (r->hdr_list)
		curl_easy_setopt(e, CURLOPT_HTTPHEADER, (struct curl_slist *)r->hdr_list);
	r->started_ms = mono_ms();
	if (curl_multi_add_handle(h->multi, e) != CURLM_OK) {
		curl_easy_cleanup(e);
		r->easy = NULL;
		curl_slist_free_all(r->hdr_list);
		r->hdr_list = NULL;
		return ck_err_set(err, CK_EIO, "http: cannot start request to %s", r->url);
	}
	r->prev = NULL;
	r->next = h->head;
	if (h->head)
		h->head->prev = r;
	h->head = r;
	h->inflight++;
	return 0;
}

int http_poll(struct http *h, int wait_ms, struct http_req **done, size_t max, size_t *ndone,
	      struct ck_err *err)
{
	int running = 0, left = 0;
	CURLMsg *m;
	CURLMcode mc;

	*ndone = 0;
	mc = curl_multi_perform(h->multi, &running);
	if (mc == CURLM_OK && wait_ms > 0 && running)
		mc = curl_multi_poll(h->multi, NULL, 0, wait_ms, NULL);
	if (mc == CURLM_OK)
		mc = curl_multi_perform(h->multi, &running);
	if (mc != CURLM_OK)
		return ck_err_set(err, CK_EIO, "http: %s", curl_multi_strerror(mc));
	while (*ndone < max && (m = curl_multi_info_read(h->multi, &left))) {
		struct http_req *r = NULL;
		if (m->msg != CURLMSG_DONE)
			continue;
		curl_easy_getinfo(m->easy_handle, CURLINFO_PRIVATE, (char **)&r);
		r->curl_code = (int)m->data.result;
		curl_easy_getinfo(m->easy_handle, CURLINFO_RESPONSE_CODE, &r->status);
		if (r->curl_code && !r->curl_msg[0])
			snprintf(r->curl_msg, sizeof(r->curl_msg), "%s",
				 curl_easy_strerror((CURLcode)r->curl_code));
		if (r->too_big)
			snprintf(r->curl_msg, sizeof(r->curl_msg),
				 "response body larger than %u bytes", HTTP_BODY_MAX);
		r->elapsed_ms = mono_ms() - r->started_ms;
		r->done_ms = now_ms();
		req_cleanup(h, r);
		h->inflight--;
		done[(*ndone)++] = r;
	}
	return 0;
}

void http_kick(struct http *h)
{
	int running = 0;
	curl_multi_perform(h->multi, &running);
}

size_t http_inflight(const struct http *h)
{
	return h->inflight;
}

void http_abort(struct http *h, struct http_req *r)
{
	if (r->easy) {
		req_cleanup(h, r);
		h->inflight--;
	}
}

int http_do(struct http *h, struct http_req *req, struct ck_err *err)
{
	struct http_req *done[1];
	size_t n = 0;

	if (http_start(h, req, err))
		return err->code;
	/* Other requests may be in flight on h; only ours ends this loop. Requests of
	 * others that complete meanwhile cannot be handed back, so http_do is for an idle h. */
	for (;;) {
		if (http_poll(h, 100, done, 1, &n, err))
			return err->code;
		if (n && done[0] == req)
			return 0;
	}
}

void http_req_release(struct http_req *r)
{
	free(r->body);
	r->body = NULL;
	r->len = 0;
}

const char *http_req_describe(const struct http_req *r, char *buf, size_t size)
{
	if (r->curl_code)
		snprintf(buf, size, "%s", r->curl_msg);
	else
		snprintf(buf, size, "HTTP %ld", r->status);
	return buf;
}
