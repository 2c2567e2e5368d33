/* alert.c — built-in alert delivery (see alert.h): Slack incoming webhook, PagerDuty
 * Events API v2, e-mail over SMTP, each through its own libcurl easy transfer.
 *
 * Invariants:
 * - One condition (key) is delivered once when it starts firing, again only when
 *   [alert] repeat has passed since the last accepted delivery (never, with repeat 0)
 *   or when it escalates from warning to critical, and a resolve is sent once when it
 *   clears. The state lives in the alerts table so cron runs and the daemon agree.
 * - A channel gets at most ALERT_ATTEMPTS attempts, all within [alert] timeout_ms
 *   together; channels are tried one after another, so one alert costs at most
 *   (channels x timeout_ms). A failure is logged, recorded as an alert_failed event and
 *   counted in the alert's row; it is returned but never fatal to the caller.
 * - Secrets: the webhook URL, the routing key and the SMTP password go only into
 *   libcurl. Messages and logs name the channel and the cause (HTTP status or libcurl's
 *   generic error text), never a URL or a key. */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <curl/curl.h>
#include <jansson.h>

#include "alert.h"
#include "log.h"
#include "store.h"
#include "store_alert.h"
#include "utc.h"
#include "banned.h"

#define ALERT_ATTEMPTS 3
#define ALERT_BACKOFF_MS 250   /* first pause between attempts; doubles */
#define ALERT_BODY_MAX 65536   /* response bytes kept (the rest is discarded) */

/* What one delivery says. */
struct alert_msg {
	const char *key;
	const char *severity;  /* "critical", "warning" */
	int resolve;           /* 1 = the condition cleared */
	int repeat;            /* 1 = still firing, sent again after [alert] repeat */
	const char *summary;
	const char *detail;    /* may be NULL */
	int64_t first_at;      /* ms, when it started firing */
	int64_t at;            /* ms, now */
	char host[128];
	char dedup_key[256];
};

struct channel {
	const char *name;      /* as in events and metrics: slack, pagerduty, email */
	int (*configured)(const struct cfg *c);
	int (*send)(const struct cfg *c, const struct alert_msg *m, char *why, size_t size);
};

static int set(const char *s)
{
	return s && *s;
}

/* ---- transport ---- */

struct sink {
	size_t len;
};

static size_t sink_write(char *p, size_t size, size_t n, void *arg)
{
	struct sink *s = arg;
	(void)p;
	s->len += size * n; /* the reply is not needed; only its status */
	return size * n;
}

static void pause_ms(int64_t ms)
{
	struct timespec ts;
	if (ms <= 0)
		return;
	ts.tv_sec = (time_t)(ms / 1000);
	ts.tv_nsec = (long)(ms % 1000) * 1000000L;
	while (nanosleep(&ts, &ts) == -1 && errno == EINTR)
		;
}

/* POSTs body (JSON) to url with retries on network errors, 429 and 5xx, all attempts
 * within c->alert_timeout_ms. Returns 0 on a 2xx; otherwise -1 with why filled (status
 * or libcurl's generic error text; never the URL). */
static int post_json(const struct cfg *c, const char *url, const char *body, char *why,
		     size_t size)
{
	int64_t deadline = mono_ms() + c->alert_timeout_ms, backoff = ALERT_BACKOFF_MS;
	int attempt;

	for (attempt = 1; attempt <= ALERT_ATTEMPTS; attempt++) {
		int64_t left = deadline - mono_ms();
		struct curl_slist *hdr = NULL;
		struct sink sk = {0};
		long status = 0;
		CURLcode cc;
		CURL *e;

		if (left <= 0) {
			if (attempt == 1)
				snprintf(why, size, "timed out");
			break;
		}
		if (!(e = curl_easy_init())) {
			snprintf(why, size, "cannot create a libcurl handle (out of memory)");
			return -1;
		}
		hdr = curl_slist_append(hdr, "Content-Type: application/json");
		curl_easy_setopt(e, CURLOPT_URL, url);
		curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, "http,https");
		curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
		curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, (long)left);
		curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT_MS, (long)left);
		curl_easy_setopt(e, CURLOPT_HTTPHEADER, hdr);
		curl_easy_setopt(e, CURLOPT_POSTFIELDS, body);
		curl_easy_setopt(e, CURLOPT_POSTFIELDSIZE, (long)strlen(body));
		curl_easy_setopt(e, CURLOPT_USERAGENT, c->user_agent ? c->user_agent : "candlekeep");
		curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, sink_write);
		curl_easy_setopt(e, CURLOPT_WRITEDATA, &sk);
		cc = curl_easy_perform(e);
		if (cc == CURLE_OK)
			curl_easy_getinfo(e, CURLINFO_RESPONSE_CODE, &status);
		curl_easy_cleanup(e);
		curl_slist_free_all(hdr);
		if (cc == CURLE_OK && status >= 200 && status < 300)
			return 0;
		if (cc != CURLE_OK)
			snprintf(why, size, "%s (attempt %d)", curl_easy_strerror(cc), attempt);
		else
			snprintf(why, size, "HTTP %ld (attempt %d)", status, attempt);
		if (cc == CURLE_OK && status != 429 && status < 500)
			break; /* the receiver rejected the request itself: retrying will not help */
		if (attempt < ALERT_ATTEMPTS) {
			left = deadline - mono_ms();
			pause_ms(backoff < left ? backoff : left);
			backoff *= 2;
		}
	}
	return -1;
}

/* ---- Slack ---- */

static int slack_configured(const struct cfg *c)
{
	return set(c->slack_webhook);
}

static int slack_send(const struct cfg *c, const struct alert_msg *m, char *why, size_t size)
{
	char text[2048], since[32];
	json_t *o;
	char *body;
	int rc;

	utc_iso(m->first_at, since, sizeof(since));
	if (m->resolve)
		snprintf(text, sizeof(text), ":white_check_mark: *[RESOLVED]* candlekeep on %s: %s\n"
			 "alert `%s` (firing since %s)", m->host, m->summary, m->key, since);
	else
		snprintf(text, sizeof(text), "%s *[%s]* candlekeep on %s: %s%s%s%s\nalert `%s`%s%s",
			 strcmp(m->severity, "critical") ? ":warning:" : ":rotating_light:",
			 strcmp(m->severity, "critical") ? "WARNING" : "CRITICAL", m->host, m->summary,
			 m->detail ? "\n```" : "", m->detail ? m->detail : "", m->detail ? "```" : "",
			 m->key, m->repeat ? ", still firing since " : "", m->repeat ? since : "");
	if (!(o = json_pack("{s:s}", "text", text)) || !(body = json_dumps(o, JSON_COMPACT))) {
		json_decref(o);
		snprintf(why, size, "cannot build the message (out of memory)");
		return -1;
	}
	json_decref(o);
	rc = post_json(c, c->slack_webhook, body, why, size);
	free(body);
	return rc;
}

/* ---- PagerDuty Events API v2 ---- */

static int pagerduty_configured(const struct cfg *c)
{
	return set(c->pagerduty_routing_key) && set(c->pagerduty_url);
}

static int pagerduty_send(const struct cfg *c, const struct alert_msg *m, char *why, size_t size)
{
	char ts[32], summary[1024];
	json_t *o;
	char *body;
	int rc;

	if (m->resolve) {
		o = json_pack("{s:s, s:s, s:s}", "routing_key", c->pagerduty_routing_key,
			      "event_action", "resolve", "dedup_key", m->dedup_key);
	} else {
		utc_iso(m->at, ts, sizeof(ts));
		snprintf(summary, sizeof(summary), "candlekeep on %s: %s", m->host, m->summary);
		o = json_pack("{s:s, s:s, s:s, s:s, s:{s:s, s:s, s:s, s:s, s:s, s:s, s:{s:s, s:s, s:s}}}",
			      "routing_key", c->pagerduty_routing_key, "event_action", "trigger",
			      "dedup_key", m->dedup_key, "client", "candlekeep",
			      "payload", "summary", summary, "source", m->host, "severity", m->severity,
			      "timestamp", ts, "component", "candlekeep", "group", m->key,
			      "custom_details", "key", m->key, "detail", m->detail ? m->detail : "",
			      "database", c->db ? c->db : "");
	}
	if (!o || !(body = json_dumps(o, JSON_COMPACT))) {
		json_decref(o);
		snprintf(why, size, "cannot build the event (out of memory)");
		return -1;
	}
	json_decref(o);
	rc = post_json(c, c->pagerduty_url, body, why, size);
	free(body);
	return rc;
}

/* ---- e-mail over SMTP ---- */

static int email_configured(const struct cfg *c)
{
	return set(c->smtp_url) && set(c->smtp_to);
}

struct reader {
	const char *p;
	size_t left;
};

static size_t read_msg(char *buf, size_t size, size_t n, void *arg)
{
	struct reader *r = arg;
	size_t k = size * n < r->left ? size * n : r->left;
	memcpy(buf, r->p, k);
	r->p += k;
	r->left -= k;
	return k;
}

/* A header value on one line: CR and LF become spaces (no header injection). */
static void header_clean(char *dst, size_t size, const char *src)
{
	size_t i;
	for (i = 0; src[i] && i + 1 < size; i++)
		dst[i] = src[i] == '\r' || src[i] == '\n' ? ' ' : src[i];
	dst[i] = 0;
}

/* Appends text to buf at *len, turning bare LF into CRLF (SMTP lines). */
static void body_append(char *buf, size_t size, size_t *len, const char *text)
{
	for (; *text && *len + 3 < size; text++) {
		if (*text == '\n' && (*len == 0 || buf[*len - 1] != '\r'))
			buf[(*len)++] = '\r';
		buf[(*len)++] = *text;
	}
	buf[*len] = 0;
}

static int email_send(const struct cfg *c, const struct alert_msg *m, char *why, size_t size)
{
	char msg[8192], line[1536], from[256], subject[512], date[64], since[32];
	struct curl_slist *rcpt = NULL;
	struct reader rd;
	struct tm tm;
	time_t t = (time_t)(m->at / 1000);
	size_t len = 0;
	const char *p;
	CURLcode cc;
	CURL *e;
	int64_t left;

	if (set(c->smtp_from))
		header_clean(from, sizeof(from), c->smtp_from);
	else
		snprintf(from, sizeof(from), "candlekeep@%s", m->host);
	for (p = c->smtp_to; *p;) {
		size_t k = strcspn(p, ",");
		char addr[256];
		while (k && (*p == ' ' || *p == '\t')) {
			p++;
			k--;
		}
		snprintf(addr, sizeof(addr), "%.*s", (int)k, p);
		while (*addr && addr[strlen(addr) - 1] == ' ')
			addr[strlen(addr) - 1] = 0;
		if (*addr) {
			struct curl_slist *nl = curl_slist_append(rcpt, addr);
			if (!nl) {
				curl_slist_free_all(rcpt);
				snprintf(why, size, "out of memory");
				return -1;
			}
			rcpt = nl;
		}
		p += k + (p[k] == ',');
	}
	if (!rcpt) {
		snprintf(why, size, "[alert] smtp_to names no recipient");
		return -1;
	}
	gmtime_r(&t, &tm);
	strftime(date, sizeof(date), "%a, %d %b %Y %H:%M:%S +0000", &tm);
	utc_iso(m->first_at, since, sizeof(since));
	header_clean(line, sizeof(line), m->summary);
	snprintf(subject, sizeof(subject), "[candlekeep %s] %s: %s",
		 m->resolve ? "RESOLVED" : strcmp(m->severity, "critical") ? "WARNING" : "CRITICAL",
		 m->host, line);
	{
		char to[1024];
		header_clean(to, sizeof(to), c->smtp_to);
		snprintf(line, sizeof(line),
			 "Date: %s\nFrom: %s\nTo: %s\nSubject: %s\nMessage-ID: <%s.%" PRId64 ".%ld@%s>\n"
			 "X-Candlekeep-Alert: %s\nMIME-Version: 1.0\n"
			 "Content-Type: text/plain; charset=utf-8\nContent-Transfer-Encoding: 8bit\n\n",
			 date, from, to, subject, m->key, m->at, (long)getpid(), m->host, m->key);
	}
	body_append(msg, sizeof(msg), &len, line);
	snprintf(line, sizeof(line),
		 "%s\n\nalert:    %s\nstatus:   %s\nseverity: %s\nhost:     %s\ndatabase: %s\n"
		 "since:    %s\n",
		 m->summary, m->key, m->resolve ? "resolved" : m->repeat ? "still firing" : "firing",
		 m->severity, m->host, c->db ? c->db : "", since);
	body_append(msg, sizeof(msg), &len, line);
	if (m->detail && !m->resolve) {
		body_append(msg, sizeof(msg), &len, "\n");
		body_append(msg, sizeof(msg), &len, m->detail);
		body_append(msg, sizeof(msg), &len, "\n");
	}

	left = c->alert_timeout_ms;
	if (!(e = curl_easy_init())) {
		curl_slist_free_all(rcpt);
		snprintf(why, size, "cannot create a libcurl handle (out of memory)");
		return -1;
	}
	{
		int64_t deadline = mono_ms() + left, backoff = ALERT_BACKOFF_MS;
		int attempt;
		cc = CURLE_OPERATION_TIMEDOUT;
		for (attempt = 1; attempt <= ALERT_ATTEMPTS; attempt++) {
			left = deadline - mono_ms();
			if (left <= 0)
				break;
			rd.p = msg;
			rd.left = len;
			curl_easy_reset(e);
			curl_easy_setopt(e, CURLOPT_URL, c->smtp_url);
			curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, "smtp,smtps");
			curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
			curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, (long)left);
			curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT_MS, (long)left);
			/* STARTTLS when the server offers it; smtps:// is TLS from the start. */
			curl_easy_setopt(e, CURLOPT_USE_SSL, (long)CURLUSESSL_TRY);
			curl_easy_setopt(e, CURLOPT_MAIL_FROM, from);
			curl_easy_setopt(e, CURLOPT_MAIL_RCPT, rcpt);
			if (set(c->smtp_user)) {
				curl_easy_setopt(e, CURLOPT_USERNAME, c->smtp_user);
				curl_easy_setopt(e, CURLOPT_PASSWORD, c->smtp_password ? c->smtp_password : "");
			}
			curl_easy_setopt(e, CURLOPT_READFUNCTION, read_msg);
			curl_easy_setopt(e, CURLOPT_READDATA, &rd);
			curl_easy_setopt(e, CURLOPT_UPLOAD, 1L);
			cc = curl_easy_perform(e);
			if (cc == CURLE_OK)
				break;
			snprintf(why, size, "%s (attempt %d)", curl_easy_strerror(cc), attempt);
			if (cc == CURLE_LOGIN_DENIED || cc == CURLE_SEND_FAIL_REWIND ||
			    cc == CURLE_UNSUPPORTED_PROTOCOL || cc == CURLE_URL_MALFORMAT)
				break;
			if (attempt < ALERT_ATTEMPTS) {
				left = deadline - mono_ms();
				pause_ms(backoff < left ? backoff : left);
				backoff *= 2;
			}
		}
		if (cc != CURLE_OK && !*why)
			snprintf(why, size, "timed out");
	}
	curl_easy_cleanup(e);
	curl_slist_free_all(rcpt);
	return cc == CURLE_OK ? 0 : -1;
}

static const struct channel channel_table[] = {
	{"slack", slack_configured, slack_send},
	{"pagerduty", pagerduty_configured, pagerduty_send},
	{"email", email_configured, email_send},
};
#define NCHANNELS (sizeof(channel_table) / sizeof(channel_table[0]))

static int any_channel(const struct cfg *c)
{
	size_t i;
	for (i = 0; i < NCHANNELS; i++)
		if (channel_table[i].configured(c))
			return 1;
	return 0;
}

static void msg_init(struct alert_msg *m, const char *key)
{
	memset(m, 0, sizeof(*m));
	m->key = key;
	m->at = now_ms();
	if (gethostname(m->host, sizeof(m->host)) != 0 || !m->host[0])
		snprintf(m->host, sizeof(m->host), "localhost");
	m->host[sizeof(m->host) - 1] = 0;
	/* Stable per host and condition, so PagerDuty folds repeats into one incident and a
	 * resolve closes it. */
	snprintf(m->dedup_key, sizeof(m->dedup_key), "candlekeep/%s/%s", m->host, key);
}

/* Delivers m on every configured channel; records an event per channel. Returns the
 * number of channels that failed; *ok counts the ones that accepted. */
static int deliver(struct store *st, const struct cfg *c, const struct alert_msg *m, int *ok,
		   char *first_fail, size_t size)
{
	size_t i;
	int failed = 0;

	*ok = 0;
	for (i = 0; i < NCHANNELS; i++) {
		const struct channel *ch = &channel_table[i];
		char why[256] = "";
		struct ck_err e2 = {0, ""};
		const char *what = m->resolve ? "resolve" : m->repeat ? "repeat" : "trigger";

		if (!ch->configured(c))
			continue;
		if (ch->send(c, m, why, sizeof(why)) == 0) {
			(*ok)++;
			log_kv(LOG_INFO, "alert",
			       ((const char *[]){"key", m->key, "channel", ch->name, "action", what, NULL}),
			       "alert delivered");
			if (st && store_event_add(st, m->at, "alert_sent", ch->name, 1, m->key, &e2))
				log_warn("alert", "cannot record the delivery: %s", e2.msg);
		} else {
			char detail[256];
			failed++;
			log_kv(LOG_ERROR, "alert",
			       ((const char *[]){"key", m->key, "channel", ch->name, "action", what,
						 "error", why, NULL}),
			       "alert delivery failed (check the [alert] settings of this channel)");
			if (!*first_fail)
				snprintf(first_fail, size, "%s: %s", ch->name, why);
			snprintf(detail, sizeof(detail), "%s: %s", m->key, why);
			if (st && store_event_add(st, m->at, "alert_failed", ch->name, 1, detail, &e2))
				log_warn("alert", "cannot record the failed delivery: %s", e2.msg);
		}
	}
	return failed;
}

static const char *severity_name(enum alert_severity s)
{
	return s == ALERT_CRITICAL ? "critical" : "warning";
}

int alert_raise(struct store *st, const struct cfg *c, const struct alert *a, struct ck_err *err)
{
	struct store_alert row, prev;
	struct alert_msg m;
	struct ck_err e2 = {0, ""};
	char first_fail[300] = "";
	int have = 0, firing, failed, ok;

	if (!a || !a->key || !*a->key)
		return ck_err_set(err, CK_EUSAGE, "alert: no condition key");
	if (!any_channel(c))
		return 0;
	msg_init(&m, a->key);
	m.severity = severity_name(a->severity);
	m.summary = a->summary ? a->summary : a->key;
	m.detail = a->detail;
	m.first_at = m.at;

	memset(&prev, 0, sizeof(prev));
	if (st) {
		if (store_alert_get(st, a->key, &prev, &e2) == 0)
			have = 1;
		else if (e2.code != CK_ENOTFOUND)
			log_warn("alert", "%s (sending without repeat suppression)", e2.msg);
	}
	firing = have && !strcmp(prev.state, "firing");
	if (firing) {
		int escalated = !strcmp(m.severity, "critical") && strcmp(prev.severity, "critical");
		m.first_at = prev.first_at;
		if (prev.last_sent && !escalated &&
		    (c->alert_repeat_s == 0 || m.at - prev.last_sent < c->alert_repeat_s * 1000)) {
			log_kv(LOG_DEBUG, "alert", ((const char *[]){"key", a->key, NULL}),
			       "still firing; repeat not due");
			return 0;
		}
		m.repeat = prev.last_sent != 0 && !escalated;
	}

	failed = deliver(st, c, &m, &ok, first_fail, sizeof(first_fail));

	if (st) {
		memset(&row, 0, sizeof(row));
		snprintf(row.key, sizeof(row.key), "%s", a->key);
		snprintf(row.severity, sizeof(row.severity), "%s", m.severity);
		snprintf(row.state, sizeof(row.state), "firing");
		snprintf(row.summary, sizeof(row.summary), "%s", m.summary);
		row.first_at = m.first_at;
		row.last_sent = ok ? m.at : (firing ? prev.last_sent : 0);
		row.sends = (have ? prev.sends : 0) + (ok ? 1 : 0);
		row.failures = (have ? prev.failures : 0) + failed;
		if (store_alert_put(st, &row, &e2))
			log_warn("alert", "cannot record alert %s: %s", a->key, e2.msg);
	}
	if (failed)
		return ck_err_set(err, CK_EIO, "alert %s: delivery failed on %d channel(s), first %s "
				  "(logged; check the [alert] settings)", a->key, failed, first_fail);
	return 0;
}

int alert_resolve(struct store *st, const struct cfg *c, const char *key, const char *summary,
		  struct ck_err *err)
{
	struct store_alert row;
	struct alert_msg m;
	struct ck_err e2 = {0, ""};
	char first_fail[300] = "", text[300];
	int failed = 0, ok = 0;

	if (!key || !*key)
		return ck_err_set(err, CK_EUSAGE, "alert: no condition key");
	if (!st)
		return 0;
	if (store_alert_get(st, key, &row, &e2)) {
		if (e2.code == CK_ENOTFOUND)
			return 0;
		log_warn("alert", "%s (cannot tell whether %s was firing)", e2.msg, key);
		return 0;
	}
	if (strcmp(row.state, "firing"))
		return 0;
	if (any_channel(c) && row.last_sent) {
		msg_init(&m, key);
		m.resolve = 1;
		m.severity = row.severity;
		snprintf(text, sizeof(text), "%s", summary && *summary ? summary : row.summary);
		m.summary = text;
		m.first_at = row.first_at;
		failed = deliver(st, c, &m, &ok, first_fail, sizeof(first_fail));
	}
	/* Every channel failed: stay firing, so the next call tries the resolve again. */
	if (!(failed && !ok))
		snprintf(row.state, sizeof(row.state), "resolved");
	if (ok) {
		row.last_sent = now_ms();
		row.sends++;
	}
	row.failures += failed;
	if (store_alert_put(st, &row, &e2))
		log_warn("alert", "cannot record alert %s: %s", key, e2.msg);
	if (failed)
		return ck_err_set(err, CK_EIO, "alert %s: resolve failed on %d channel(s), first %s "
				  "(logged; check the [alert] settings)", key, failed, first_fail);
	return 0;
}
