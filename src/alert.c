/* alert.c — built-in alert delivery (see alert.h): Slack incoming webhook, PagerDuty
 * Events API v2, e-mail over SMTP, each through its own libcurl easy transfer.
 *
 * Invariants:
 * - Per (condition key, channel), from the alerts and alert_outbox rows (see "the
 *   outbox" below): a trigger once when it starts firing, an update when its severity
 *   changes (either way), a repeat when [alert] repeat has passed since that channel's
 *   last accepted delivery (never, with repeat 0), a resolve once when it clears and
 *   only if that channel accepted the trigger. State is committed before anything is
 *   sent; what is owed is derived from it, so a crash or a concurrent process never
 *   loses or doubles a delivery (beyond one resend after a crash between a receiver's
 *   2xx and our commit).
 * - One outage is one page; a second, different problem is another. A key per symbol
 *   would page once per symbol when the exchange goes down (60 pages for one outage);
 *   one key per run would hide a second problem behind the first. So callers group
 *   per-symbol failures by cause (alert_groups: "sync_failed:<class>", classes coarse
 *   enough that one outage is one class) and the symbols are the alert's members
 *   (alert_raise_members; health: the stale, missing or gappy symbols of a check). A
 *   member the channels were not told of is an update of the same alert (PagerDuty
 *   folds it into the open incident by dedup_key), never a new trigger; members that
 *   recover change the stored detail and send nothing (a recovering outage does not
 *   chatter); the alert resolves once when none is left. Members that a run could not
 *   judge (they failed for a cause that hides others, e.g. the exchange unreachable)
 *   stay in the alerts they were in, so an outage neither resolves an earlier problem
 *   nor pages it again when the outage ends.
 * - One delivery makes at most ALERT_ATTEMPTS attempts, all within [alert] timeout_ms
 *   together; channels are tried one after another. A delivery that still fails is
 *   logged, recorded as an alert_failed event, counted, and stays owed with back-off
 *   ([alert] retry_ms doubling up to retry_max_ms); it is returned but never fatal to
 *   the caller.
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
#include "event.h"
#include "fault.h"
#include "health.h"
#include "log.h"
#include "retry.h"
#include "store.h"
#include "store_alert.h"
#include "utc.h"
#include "banned.h"

#define ALERT_ATTEMPTS 3
#define ALERT_BACKOFF_MS 250 /* first pause between attempts; doubles */
#define ALERT_BODY_MAX 65536 /* response bytes kept (the rest is discarded) */

/* What one delivery says. */
struct alert_msg {
	const char *key;
	const char *severity; /* "critical", "warning" */
	int resolve;          /* 1 = the condition cleared */
	int repeat;           /* 1 = still firing, sent again after [alert] repeat */
	int update;           /* 1 = still firing, its severity changed (from `was`) or,
			       * was "", members were added (see "members" below) */
	const char *was;      /* the severity the channel was last told (update), or "" */
	const char *summary;
	const char *detail; /* may be NULL */
	int64_t first_at;   /* ms, when it started firing */
	int64_t at;         /* ms, now */
	char host[128];
	char dedup_key[256];
};

struct channel {
	const char *name; /* as in events and metrics: slack, pagerduty, email */
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

/* One delivery's retries: ALERT_ATTEMPTS tries, ALERT_BACKOFF_MS doubling between them,
 * all within [alert] timeout_ms. */
static struct retry_backoff delivery_backoff(const struct cfg *c)
{
	struct retry_backoff b = {ALERT_ATTEMPTS - 1, ALERT_BACKOFF_MS, 2, 0, 0, 0,
				  c->alert_timeout_ms};
	return b;
}

/* POSTs body (JSON) to url with retries on network errors, 429 and 5xx, all attempts
 * within c->alert_timeout_ms. Returns 0 on a 2xx; otherwise -1 with why filled (status
 * or libcurl's generic error text; never the URL). */
static int post_json(const struct cfg *c, const char *url, const char *body, char *why, size_t size)
{
	struct retry_backoff rb = delivery_backoff(c);
	struct retry_try t;
	int attempt;

	retry_try_begin(&t, mono_ms(), 0);
	for (attempt = 1;; attempt++) {
		int64_t left = retry_try_left(&rb, &t, mono_ms()), w;
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
		curl_easy_setopt(e, CURLOPT_USERAGENT,
				 c->user_agent ? c->user_agent : "candlekeep");
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
			break; /* the receiver rejected the request itself: retrying will not help
				*/
		if ((w = retry_try_next(&rb, &t, -1, mono_ms())) < 0)
			break; /* tries spent, or the next would start past the timeout */
		ck_sleep_ms(w, NULL);
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
		snprintf(text, sizeof(text),
			 ":white_check_mark: *[RESOLVED]* candlekeep on %s: %s\n"
			 "alert `%s` (firing since %s)",
			 m->host, m->summary, m->key, since);
	else
		snprintf(text, sizeof(text), "%s *[%s]* candlekeep on %s: %s%s%s%s\nalert `%s`%s%s",
			 strcmp(m->severity, "critical") ? ":warning:" : ":rotating_light:",
			 strcmp(m->severity, "critical") ? "WARNING" : "CRITICAL", m->host,
			 m->summary, m->detail ? "\n```" : "", m->detail ? m->detail : "",
			 m->detail ? "```" : "", m->key,
			 m->repeat    ? ", still firing since "
			 : !m->update ? ""
			 : *m->was    ? ", was "
				      : ", updated: more affected",
			 m->repeat   ? since
			 : m->update ? m->was
				     : "");
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
		o = json_pack(
			"{s:s, s:s, s:s, s:s, s:{s:s, s:s, s:s, s:s, s:s, s:s, s:{s:s, s:s, s:s}}}",
			"routing_key", c->pagerduty_routing_key, "event_action", "trigger",
			"dedup_key", m->dedup_key, "client", "candlekeep", "payload", "summary",
			summary, "source", m->host, "severity", m->severity, "timestamp", ts,
			"component", "candlekeep", "group", m->key, "custom_details", "key", m->key,
			"detail", m->detail ? m->detail : "", "database", c->db ? c->db : "");
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

static int smtp_tls_required(const struct cfg *c)
{
	return !c->smtp_tls || strcmp(c->smtp_tls, "none");
}

/* A TLS failure, in words that name the server (host:port only: the URL may carry a
 * login) and the setting to change. */
static void smtp_tls_why(const struct cfg *c, CURLcode cc, char *why, size_t size)
{
	char server[300] = "the mail server";
	CURLU *u = curl_url();
	char *host = NULL, *port = NULL;

	if (u && curl_url_set(u, CURLUPART_URL, c->smtp_url, 0) == CURLUE_OK &&
	    curl_url_get(u, CURLUPART_HOST, &host, 0) == CURLUE_OK &&
	    curl_url_get(u, CURLUPART_PORT, &port, CURLU_DEFAULT_PORT) == CURLUE_OK)
		snprintf(server, sizeof(server), "%s:%s", host, port);
	curl_free(host);
	curl_free(port);
	curl_url_cleanup(u);
	if (cc == CURLE_USE_SSL_FAILED)
		snprintf(why, size,
			 "%s offers no STARTTLS: the login and the alert are not sent in "
			 "clear (use smtps:// or a server with STARTTLS, or set [alert] smtp_tls = "
			 "none to allow plain SMTP)",
			 server);
	else
		snprintf(why, size,
			 "%s: its TLS certificate is not trusted (%s; set [alert] "
			 "smtp_ca_file to the CA that signed it)",
			 server, curl_easy_strerror(cc));
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
		 m->resolve                        ? "RESOLVED"
		 : strcmp(m->severity, "critical") ? "WARNING"
						   : "CRITICAL",
		 m->host, line);
	{
		char to[1024];
		header_clean(to, sizeof(to), c->smtp_to);
		snprintf(line, sizeof(line),
			 "Date: %s\nFrom: %s\nTo: %s\nSubject: %s\nMessage-ID: <%s.%" PRId64
			 ".%ld@%s>\n"
			 "X-Candlekeep-Alert: %s\nMIME-Version: 1.0\n"
			 "Content-Type: text/plain; charset=utf-8\nContent-Transfer-Encoding: "
			 "8bit\n\n",
			 date, from, to, subject, m->key, m->at, (long)getpid(), m->host, m->key);
	}
	body_append(msg, sizeof(msg), &len, line);
	snprintf(line, sizeof(line),
		 "%s\n\nalert:    %s\nstatus:   %s\nseverity: %s\nhost:     %s\ndatabase: %s\n"
		 "since:    %s\n",
		 m->summary, m->key,
		 m->resolve  ? "resolved"
		 : m->repeat ? "still firing"
		 : m->update ? (*m->was ? "severity changed" : "updated: more affected")
			     : "firing",
		 m->severity, m->host, c->db ? c->db : "", since);
	body_append(msg, sizeof(msg), &len, line);
	if (m->detail && !m->resolve) {
		body_append(msg, sizeof(msg), &len, "\n");
		body_append(msg, sizeof(msg), &len, m->detail);
		body_append(msg, sizeof(msg), &len, "\n");
	}

	if (!(e = curl_easy_init())) {
		curl_slist_free_all(rcpt);
		snprintf(why, size, "cannot create a libcurl handle (out of memory)");
		return -1;
	}
	{
		struct retry_backoff rb = delivery_backoff(c);
		struct retry_try rt;
		int attempt;
		cc = CURLE_OPERATION_TIMEDOUT;
		retry_try_begin(&rt, mono_ms(), 0);
		for (attempt = 1;; attempt++) {
			int64_t w;
			left = retry_try_left(&rb, &rt, mono_ms());
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
			/* smtps:// is TLS from the start; on smtp:// STARTTLS is required (the
			 * login and the alert never go in clear) unless smtp_tls = none, which
			 * still uses it when offered. */
			curl_easy_setopt(
				e, CURLOPT_USE_SSL,
				(long)(smtp_tls_required(c) ? CURLUSESSL_ALL : CURLUSESSL_TRY));
			if (set(c->smtp_ca_file))
				curl_easy_setopt(e, CURLOPT_CAINFO, c->smtp_ca_file);
			curl_easy_setopt(e, CURLOPT_MAIL_FROM, from);
			curl_easy_setopt(e, CURLOPT_MAIL_RCPT, rcpt);
			if (set(c->smtp_user)) {
				curl_easy_setopt(e, CURLOPT_USERNAME, c->smtp_user);
				curl_easy_setopt(e, CURLOPT_PASSWORD,
						 c->smtp_password ? c->smtp_password : "");
			}
			curl_easy_setopt(e, CURLOPT_READFUNCTION, read_msg);
			curl_easy_setopt(e, CURLOPT_READDATA, &rd);
			curl_easy_setopt(e, CURLOPT_UPLOAD, 1L);
			cc = curl_easy_perform(e);
			if (cc == CURLE_OK)
				break;
			snprintf(why, size, "%s (attempt %d)", curl_easy_strerror(cc), attempt);
			if (cc == CURLE_USE_SSL_FAILED || cc == CURLE_PEER_FAILED_VERIFICATION) {
				smtp_tls_why(c, cc, why, size);
				break; /* the server will not change its mind within this delivery
					*/
			}
			if (cc == CURLE_LOGIN_DENIED || cc == CURLE_SEND_FAIL_REWIND ||
			    cc == CURLE_UNSUPPORTED_PROTOCOL || cc == CURLE_URL_MALFORMAT)
				break;
			if ((w = retry_try_next(&rb, &rt, -1, mono_ms())) < 0)
				break;
			ck_sleep_ms(w, NULL);
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

static const struct channel *channel_find(const struct cfg *c, const char *name)
{
	size_t i;
	for (i = 0; i < NCHANNELS; i++)
		if (!strcmp(channel_table[i].name, name))
			return channel_table[i].configured(c) ? &channel_table[i] : NULL;
	return NULL;
}

int alert_configured(const struct cfg *c)
{
	return any_channel(c);
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

static const char *msg_action(const struct alert_msg *m)
{
	return m->resolve ? "resolve" : m->update ? "update" : m->repeat ? "repeat" : "trigger";
}

/* Sends m on channel ch; logs the outcome and records an alert_sent / alert_failed
 * event (st may be NULL). Returns 0 if the channel accepted it, else -1 with why. */
static int send_one(struct store *st, const struct cfg *c, const struct channel *ch,
		    const struct alert_msg *m, char *why, size_t size)
{
	struct ck_err e2 = {0, ""};
	const char *what = msg_action(m);

	*why = 0;
	if (ch->send(c, m, why, size) == 0) {
		log_kv(LOG_INFO, "alert",
		       ((const char *[]){"key", m->key, "channel", ch->name, "action", what, NULL}),
		       "alert delivered");
		if (st && store_event_add(st, m->at, event_kind_name(EV_ALERT_SENT), ch->name, 1,
					  m->key, &e2))
			log_warn("alert", "cannot record the delivery: %s", e2.msg);
		return 0;
	}
	{
		char detail[256];
		if (!*why)
			snprintf(why, size, "failed");
		log_kv(LOG_ERROR, "alert",
		       ((const char *[]){"key", m->key, "channel", ch->name, "action", what,
					 "error", why, NULL}),
		       "alert delivery failed (check the [alert] settings of this channel)");
		snprintf(detail, sizeof(detail), "%s: %s", m->key, why);
		if (st && store_event_add(st, m->at, event_kind_name(EV_ALERT_FAILED), ch->name, 1,
					  detail, &e2))
			log_warn("alert", "cannot record the failed delivery: %s", e2.msg);
	}
	return -1;
}

static const char *severity_name(enum alert_severity s)
{
	return s == ALERT_CRITICAL ? "critical" : "warning";
}

/* ---- members ----
 * An alert may be about a set of members (the symbols it affects). They are kept at
 * the top of its detail, "affected: A B C" and, for members that recovered since the
 * channels were last told, "recovered: D", so every message and every retry carries
 * them and no column is needed. The announced set (affected + recovered) is what the
 * channels were told; its fingerprint follows the severity in each outbox row's
 * delivered, and a channel is owed an update when it differs. The announced set grows
 * when a member not in it appears (the update then carries the current set), and
 * stays when members only leave (they move to "recovered:" silently): a new symbol in
 * trouble is news, a recovering one is not a reason to message anyone. A list longer
 * than MEMBERS_MAX is cut at a name and ends in " ..."; changes past the cut are not
 * seen. */

#define MEMBERS_MAX 900 /* characters of one members line */
#define MEMBERS_AFFECTED "affected: "
#define MEMBERS_RECOVERED "recovered: "

static int name_cmp(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* out = the names of in (separated by spaces or commas), sorted, each once, joined by
 * one space; cut at a name with " ..." past MEMBERS_MAX. "..." in the input is not a
 * name. */
static void names_norm(const char *in, char *out, size_t size)
{
	char copy[4 * MEMBERS_MAX];
	const char *v[512];
	size_t n = 0, i, len = 0;
	char *p, *save = NULL;

	snprintf(copy, sizeof(copy), "%s", in ? in : "");
	for (p = strtok_r(copy, " ,\n", &save); p && n < sizeof(v) / sizeof(v[0]);
	     p = strtok_r(NULL, " ,\n", &save))
		if (strcmp(p, "..."))
			v[n++] = p;
	qsort(v, n, sizeof(v[0]), name_cmp);
	out[0] = 0;
	for (i = 0; i < n; i++) {
		size_t k = strlen(v[i]);
		if (i && !strcmp(v[i], v[i - 1]))
			continue;
		if (len + k + 5 > MEMBERS_MAX || len + k + 5 > size) {
			snprintf(out + len, size - len, "%s...", len ? " " : "");
			return;
		}
		len += (size_t)snprintf(out + len, size - len, "%s%s", len ? " " : "", v[i]);
	}
}

/* 1 if name (k characters) is one of the names of set. */
static int names_has(const char *set, const char *name, size_t k)
{
	const char *p = set;
	while (*p) {
		size_t m = strcspn(p, " ");
		if (m == k && !strncmp(p, name, k))
			return 1;
		p += m;
		p += strspn(p, " ");
	}
	return 0;
}

/* out = the names of a that are not in b (both normalised). */
static void names_minus(const char *a, const char *b, char *out, size_t size)
{
	const char *p = a;
	size_t len = 0;
	out[0] = 0;
	while (*p) {
		size_t m = strcspn(p, " ");
		if (!names_has(b, p, m) && !(m == 3 && !strncmp(p, "...", 3)) && len + m + 2 < size)
			len += (size_t)snprintf(out + len, size - len, "%s%.*s", len ? " " : "",
						(int)m, p);
		p += m;
		p += strspn(p, " ");
	}
}

/* The members line that starts with label in detail's leading lines, into out. */
static void detail_line(const char *detail, const char *label, char *out, size_t size)
{
	const char *p = detail;
	out[0] = 0;
	while (p && (!strncmp(p, MEMBERS_AFFECTED, strlen(MEMBERS_AFFECTED)) ||
		     !strncmp(p, MEMBERS_RECOVERED, strlen(MEMBERS_RECOVERED)))) {
		size_t m = strcspn(p, "\n");
		if (!strncmp(p, label, strlen(label))) {
			snprintf(out, size, "%.*s", (int)(m - strlen(label)), p + strlen(label));
			return;
		}
		p = p[m] ? p + m + 1 : NULL;
	}
}

/* The announced set of an alert's detail (affected + recovered), normalised; "" if
 * the alert has no members. */
static void detail_announced(const char *detail, char *out, size_t size)
{
	char aff[MEMBERS_MAX + 1], rec[MEMBERS_MAX + 1], both[2 * MEMBERS_MAX + 4];
	detail_line(detail, MEMBERS_AFFECTED, aff, sizeof(aff));
	detail_line(detail, MEMBERS_RECOVERED, rec, sizeof(rec));
	snprintf(both, sizeof(both), "%s %s", aff, rec);
	names_norm(both, out, size);
}

/* The fingerprint of an alert's announced set: 8 hex digits (FNV-1a), "" if it has no
 * members. */
static void members_fp(const char *detail, char *out, size_t size)
{
	char set[MEMBERS_MAX + 1];
	uint32_t h = 2166136261u;
	const char *p;

	detail_announced(detail, set, sizeof(set));
	out[0] = 0;
	if (!strncmp(detail, MEMBERS_AFFECTED, strlen(MEMBERS_AFFECTED)) || set[0]) {
		for (p = set; *p; p++)
			h = (h ^ (uint8_t)*p) * 16777619u;
		snprintf(out, size, "%08" PRIx32, h);
	}
}

/* The detail stored for a raise with members: the affected line (members, normalised),
 * a recovered line if the announced set of the alert's current episode (old_detail,
 * NULL if it is not firing) still holds members that are no longer affected, then
 * text. */
static void members_detail(const char *members, const char *old_detail, const char *text, char *out,
			   size_t size)
{
	char now[MEMBERS_MAX + 1], ann[MEMBERS_MAX + 1], rec[MEMBERS_MAX + 1] = "";
	size_t len;

	names_norm(members, now, sizeof(now));
	if (old_detail) {
		detail_announced(old_detail, ann, sizeof(ann));
		names_minus(now, ann, rec, sizeof(rec));
		if (!rec[0] && !strstr(now, "...")) /* nothing new: the recovered stay announced */
			names_minus(ann, now, rec, sizeof(rec));
		else
			rec[0] = 0;
	}
	len = (size_t)snprintf(out, size, MEMBERS_AFFECTED "%s\n", now);
	if (rec[0] && len < size)
		len += (size_t)snprintf(out + len, size - len, MEMBERS_RECOVERED "%s\n", rec);
	if (text && *text && len < size)
		snprintf(out + len, size - len, "%s", text);
}

/* delivered ("<severity>[ <fingerprint>]") split: the severity into sev, returns the
 * fingerprint ("" if none). */
static const char *delivered_split(const char *delivered, char *sev, size_t size)
{
	size_t k = strcspn(delivered, " ");
	snprintf(sev, size, "%.*s", (int)k, delivered);
	return delivered[k] ? delivered + k + 1 : "";
}

/* ---- the outbox ----
 * What a channel is owed follows from two rows: the alert's (firing or resolved, its
 * severity) and the channel's outbox row (the severity of the trigger it accepted in
 * this episode, when it last accepted one). Deriving it, rather than queueing messages,
 * makes every race and crash come out right: a resolve is owed only where a trigger
 * was accepted; a trigger still owed when the alert resolves is simply no longer owed;
 * a delivery that was claimed by a process that died is owed again once its lease
 * ends. */

/* The delivery channel row o is owed for alert a at now: "trigger", "update" (the
 * severity changed since the channel's trigger, or its announced members did),
 * "repeat", "resolve", or NULL. */
static const char *owed(const struct cfg *c, const struct store_alert *a,
			const struct store_outbox *o, int64_t now)
{
	char sev[16], fp[16];

	if (strcmp(a->state, "firing"))
		return o->delivered[0] ? "resolve" : NULL;
	if (!o->delivered[0])
		return "trigger";
	members_fp(a->detail, fp, sizeof(fp));
	if (strcmp(delivered_split(o->delivered, sev, sizeof(sev)), fp) || strcmp(sev, a->severity))
		return "update";
	if (c->alert_repeat_s > 0 && now - o->last_sent >= c->alert_repeat_s * 1000)
		return "repeat";
	return NULL;
}

/* Pause before attempt attempts+1 of a failed delivery: retry_ms doubling, at most
 * retry_max_ms. */
static int64_t backoff_ms(const struct cfg *c, int64_t attempts)
{
	struct retry_backoff b = {
		0, c->alert_retry_ms > 0 ? c->alert_retry_ms : 1, 2, c->alert_retry_max_ms, 0, 0,
		0};
	return retry_backoff_wait(&b, attempts - 1, -1, NULL);
}

/* How long a claimed delivery belongs to the process that claimed it: one delivery
 * is bounded by [alert] timeout_ms; the margin covers the database writes around it. */
static int64_t lease_ms(const struct cfg *c)
{
	return 2 * c->alert_timeout_ms + 5000;
}

static void outbox_init(struct store_outbox *o, const char *key, const char *channel)
{
	memset(o, 0, sizeof(*o));
	snprintf(o->key, sizeof(o->key), "%s", key);
	snprintf(o->channel, sizeof(o->channel), "%s", channel);
	snprintf(o->state, sizeof(o->state), "pending");
}

static void outbox_state(const struct cfg *c, const struct store_alert *a, struct store_outbox *o,
			 int64_t now)
{
	if (owed(c, a, o, now))
		snprintf(o->state, sizeof(o->state), "%s", o->attempts ? "retrying" : "pending");
	else if (!strcmp(o->state, "pending") || !strcmp(o->state, "retrying"))
		/* a trigger never delivered, and the alert resolved: no longer owed */
		snprintf(o->state, sizeof(o->state), "%s",
			 strcmp(a->state, "firing") && !o->delivered[0] ? "cancelled" : "sent");
}

/* Records alert a as firing and makes each configured channel's outbox row say what it
 * is owed; one transaction. Nothing is sent here. */
static int queue_raise(struct store *st, const struct cfg *c, const struct alert *a,
		       const char *members, int64_t now, struct ck_err *err)
{
	struct store_alert *row = calloc(1, sizeof(*row));
	struct store_outbox o;
	char old_fp[16] = "", new_fp[16];
	int firing, changed, rc;
	size_t i;

	if (!row)
		return ck_err_set(err, CK_ENOMEM, "alert %s: out of memory", a->key);
	if ((rc = store_tx_begin(st, err)))
		goto out;
	rc = store_alert_get(st, a->key, row, err);
	if (rc && rc != CK_ENOTFOUND)
		goto fail;
	firing = !rc && !strcmp(row->state, "firing");
	changed = firing && strcmp(row->severity, severity_name(a->severity));
	if (rc) {
		memset(row, 0, sizeof(*row));
		snprintf(row->key, sizeof(row->key), "%s", a->key);
	}
	if (firing)
		members_fp(row->detail, old_fp, sizeof(old_fp));
	snprintf(row->severity, sizeof(row->severity), "%s", severity_name(a->severity));
	snprintf(row->state, sizeof(row->state), "firing");
	snprintf(row->summary, sizeof(row->summary), "%s", a->summary ? a->summary : a->key);
	if (members) {
		char *text = calloc(1, sizeof(row->detail));
		if (!text) {
			rc = ck_err_set(err, CK_ENOMEM, "alert %s: out of memory", a->key);
			goto fail;
		}
		snprintf(text, sizeof(row->detail), "%s", row->detail);
		members_detail(members, firing ? text : NULL, a->detail, row->detail,
			       sizeof(row->detail));
		free(text);
	} else {
		snprintf(row->detail, sizeof(row->detail), "%s", a->detail ? a->detail : "");
	}
	members_fp(row->detail, new_fp, sizeof(new_fp));
	changed = changed || (firing && strcmp(old_fp, new_fp));
	if (!firing)
		row->first_at = now;
	if ((rc = store_alert_put(st, row, err)))
		goto fail;
	for (i = 0; i < NCHANNELS; i++) {
		const struct channel *ch = &channel_table[i];
		if (!ch->configured(c))
			continue;
		rc = store_outbox_get(st, a->key, ch->name, &o, err);
		if (rc == CK_ENOTFOUND)
			outbox_init(&o, a->key, ch->name);
		else if (rc)
			goto fail;
		if (!firing || changed) {
			/* a new episode or a new severity goes out at once, not after the
			 * back-off of an older delivery */
			o.attempts = 0;
			o.next_at = 0;
		}
		outbox_state(c, row, &o, now);
		if ((rc = store_outbox_put(st, &o, err)))
			goto fail;
	}
	rc = store_tx_commit(st, err);
	goto out;
fail:
	store_tx_rollback(st);
out:
	free(row);
	return rc;
}

/* Records key as resolved (if it was firing); channels that accepted its trigger are
 * now owed a resolve, the others nothing. One transaction; nothing is sent here. */
static int queue_resolve(struct store *st, const struct cfg *c, const char *key,
			 const char *summary, int64_t now, struct ck_err *err)
{
	struct store_alert *row = calloc(1, sizeof(*row));
	struct store_outbox o;
	int rc;
	size_t i;

	if (!row)
		return ck_err_set(err, CK_ENOMEM, "alert %s: out of memory", key);
	if ((rc = store_tx_begin(st, err)))
		goto out;
	rc = store_alert_get(st, key, row, err);
	if (rc == CK_ENOTFOUND || (!rc && strcmp(row->state, "firing"))) {
		rc = store_tx_commit(st, err); /* nothing was firing */
		goto out;
	}
	if (rc)
		goto fail;
	snprintf(row->state, sizeof(row->state), "resolved");
	if (summary && *summary)
		snprintf(row->summary, sizeof(row->summary), "%s", summary);
	if ((rc = store_alert_put(st, row, err)))
		goto fail;
	for (i = 0; i < NCHANNELS; i++) {
		rc = store_outbox_get(st, key, channel_table[i].name, &o, err);
		if (rc == CK_ENOTFOUND)
			continue;
		if (rc)
			goto fail;
		o.attempts = 0;
		o.next_at = 0;
		outbox_state(c, row, &o, now);
		if ((rc = store_outbox_put(st, &o, err)))
			goto fail;
	}
	rc = store_tx_commit(st, err);
	goto out;
fail:
	store_tx_rollback(st);
out:
	free(row);
	return rc;
}

/* A delivery claimed for this process. */
struct job {
	struct store_alert a;
	char channel[16];
	char action[16];
	char was[16]; /* the severity the channel had (update); "" = same severity,
		       * the members grew */
};

/* Claims every due delivery in one transaction: *jobs malloc'd (caller frees).
 * *next_due: the earliest time a delivery not due now becomes due (0 = none known). */
static int claim_due(struct store *st, const struct cfg *c, int64_t now, struct job **jobs,
		     size_t *njobs, int64_t *next_due, struct ck_err *err)
{
	struct store_outbox *rows = NULL;
	struct store_alert *a = calloc(1, sizeof(*a));
	struct job *v = NULL;
	size_t n = 0, i, len = 0;
	int rc;

	*jobs = NULL;
	*njobs = 0;
	if (!a)
		return ck_err_set(err, CK_ENOMEM, "alert outbox: out of memory");
	if ((rc = store_tx_begin(st, err)))
		goto out;
	if ((rc = store_outbox_live(st, &rows, &n, err)))
		goto fail;
	if (n && !(v = calloc(n, sizeof(*v)))) {
		rc = ck_err_set(err, CK_ENOMEM, "alert outbox: out of memory");
		goto fail;
	}
	a->key[0] = 0;
	for (i = 0; i < n; i++) {
		struct store_outbox *o = &rows[i];
		const char *what;
		int64_t at;

		if (!channel_find(c, o->channel))
			continue; /* no longer configured: nothing can be sent to it */
		if (strcmp(a->key, o->key) && (rc = store_alert_get(st, o->key, a, err))) {
			if (rc != CK_ENOTFOUND)
				goto fail;
			a->key[0] = 0;
			continue;
		}
		if (!(what = owed(c, a, o, now))) {
			if (!strcmp(a->state, "firing") && c->alert_repeat_s > 0 && o->last_sent) {
				at = o->last_sent + c->alert_repeat_s * 1000;
				if (!*next_due || at < *next_due)
					*next_due = at;
			}
			continue;
		}
		at = o->next_at > o->claimed_until ? o->next_at : o->claimed_until;
		if (at > now) {
			if (!*next_due || at < *next_due)
				*next_due = at;
			continue;
		}
		o->claimed_until = now + lease_ms(c);
		o->claimed_by = (int64_t)getpid();
		if ((rc = store_outbox_put(st, o, err)))
			goto fail;
		v[len].a = *a;
		snprintf(v[len].channel, sizeof(v[len].channel), "%s", o->channel);
		snprintf(v[len].action, sizeof(v[len].action), "%s", what);
		delivered_split(o->delivered, v[len].was, sizeof(v[len].was));
		if (!strcmp(v[len].was, a->severity))
			v[len].was[0] = 0;
		len++;
	}
	if ((rc = store_tx_commit(st, err)))
		goto out;
	*jobs = v;
	*njobs = len;
	v = NULL;
	goto out;
fail:
	store_tx_rollback(st);
out:
	free(v);
	free(rows);
	free(a);
	return rc;
}

/* Records the outcome of job j (ok, or why it failed) in its outbox and alert rows. */
static int complete(struct store *st, const struct cfg *c, const struct job *j, int ok,
		    const char *why, struct ck_err *err)
{
	struct store_alert *a = calloc(1, sizeof(*a));
	struct store_outbox o;
	int64_t now = now_ms();
	int rc;

	if (!a)
		return ck_err_set(err, CK_ENOMEM, "alert outbox: out of memory");
	if ((rc = store_tx_begin(st, err)))
		goto out;
	if ((rc = store_alert_get(st, j->a.key, a, err)) ||
	    (rc = store_outbox_get(st, j->a.key, j->channel, &o, err)))
		goto fail;
	if (ok) {
		char fp[16];
		members_fp(j->a.detail, fp, sizeof(fp));
		snprintf(o.delivered, sizeof(o.delivered), "%s%s%s",
			 strcmp(j->action, "resolve") ? j->a.severity : "",
			 strcmp(j->action, "resolve") && fp[0] ? " " : "",
			 strcmp(j->action, "resolve") ? fp : "");
		o.last_sent = now;
		o.attempts = 0;
		o.next_at = 0;
		o.sends++;
		o.error[0] = 0;
		a->last_sent = now;
		a->sends++;
		snprintf(o.state, sizeof(o.state), "sent");
	} else {
		o.attempts++;
		o.next_at = now + backoff_ms(c, o.attempts);
		o.failures++;
		snprintf(o.error, sizeof(o.error), "%s", why);
		a->failures++;
		snprintf(o.state, sizeof(o.state), "retrying");
	}
	o.claimed_until = 0;
	o.claimed_by = 0;
	/* the alert may have changed while this was sent: say what is owed now */
	outbox_state(c, a, &o, now);
	if ((rc = store_outbox_put(st, &o, err)) || (rc = store_alert_put(st, a, err)))
		goto fail;
	rc = store_tx_commit(st, err);
	goto out;
fail:
	store_tx_rollback(st);
out:
	free(a);
	return rc;
}

int alert_flush(struct store *st, const struct cfg *c, int64_t *next_due, struct ck_err *err)
{
	struct job *jobs = NULL;
	size_t n = 0, i;
	int64_t due = 0;
	int failed = 0, rc;
	char first_fail[300] = "";

	if (next_due)
		*next_due = 0;
	if (!st || !any_channel(c))
		return 0;
	if ((rc = claim_due(st, c, now_ms(), &jobs, &n, &due, err)))
		return rc;
	for (i = 0; i < n; i++) {
		const struct job *j = &jobs[i];
		const struct channel *ch = channel_find(c, j->channel);
		struct ck_err e2 = {0, ""};
		struct alert_msg m;
		char why[256] = "";
		int ok;

		msg_init(&m, j->a.key);
		m.severity = j->a.severity;
		m.summary = j->a.summary;
		m.detail = j->a.detail[0] ? j->a.detail : NULL;
		m.first_at = j->a.first_at;
		m.resolve = !strcmp(j->action, "resolve");
		m.repeat = !strcmp(j->action, "repeat");
		m.update = !strcmp(j->action, "update");
		m.was = j->was;
		ok = ch && send_one(st, c, ch, &m, why, sizeof(why)) == 0;
		if (!ok) {
			failed++;
			if (!*first_fail)
				snprintf(first_fail, sizeof(first_fail), "%s: %s", j->channel, why);
		}
		if (complete(st, c, j, ok, why, &e2))
			log_warn("alert", "cannot record the outcome of alert %s on %s: %s",
				 j->a.key, j->channel, e2.msg);
		if (!ok) {
			int64_t at = now_ms() + c->alert_retry_ms;
			if (!due || at < due)
				due = at;
		}
	}
	free(jobs);
	if (next_due)
		*next_due = due;
	if (failed)
		return ck_err_set(err, CK_EIO,
				  "alert delivery failed on %d channel(s), first %s "
				  "(logged; retried from the outbox)",
				  failed, first_fail);
	return 0;
}

/* Without a database (it is missing or damaged) there is no outbox: send at once on
 * every channel, with no memory of earlier deliveries. */
static int raise_direct(const struct cfg *c, const struct alert *a, struct ck_err *err)
{
	struct alert_msg m;
	char first_fail[300] = "";
	int failed = 0;
	size_t i;

	msg_init(&m, a->key);
	m.severity = severity_name(a->severity);
	m.summary = a->summary ? a->summary : a->key;
	m.detail = a->detail;
	m.first_at = m.at;
	for (i = 0; i < NCHANNELS; i++) {
		char why[256] = "";
		if (!channel_table[i].configured(c))
			continue;
		if (send_one(NULL, c, &channel_table[i], &m, why, sizeof(why))) {
			failed++;
			if (!*first_fail)
				snprintf(first_fail, sizeof(first_fail), "%s: %s",
					 channel_table[i].name, why);
		}
	}
	if (failed)
		return ck_err_set(err, CK_EIO,
				  "alert %s: delivery failed on %d channel(s), first %s "
				  "(logged; check the [alert] settings)",
				  a->key, failed, first_fail);
	return 0;
}

int alert_raise(struct store *st, const struct cfg *c, const struct alert *a, struct ck_err *err)
{
	int rc;

	if (!a || !a->key || !*a->key)
		return ck_err_set(err, CK_EUSAGE, "alert: no condition key");
	if (!any_channel(c))
		return 0;
	if (!st)
		return raise_direct(c, a, err);
	if ((rc = queue_raise(st, c, a, NULL, now_ms(), err)))
		return rc;
	fault_point("alert_queued");
	return alert_flush(st, c, NULL, err);
}

int alert_raise_members(struct store *st, const struct cfg *c, const struct alert *a,
			const char *members, struct ck_err *err)
{
	int rc;

	if (!a || !a->key || !*a->key)
		return ck_err_set(err, CK_EUSAGE, "alert: no condition key");
	if (!any_channel(c))
		return 0;
	if (!st) {
		char *d = malloc(sizeof(((struct store_alert *)0)->detail));
		struct alert b = *a;
		if (!d)
			return ck_err_set(err, CK_ENOMEM, "alert %s: out of memory", a->key);
		members_detail(members, NULL, a->detail, d,
			       sizeof(((struct store_alert *)0)->detail));
		b.detail = d;
		rc = raise_direct(c, &b, err);
		free(d);
		return rc;
	}
	if ((rc = queue_raise(st, c, a, members ? members : "", now_ms(), err)))
		return rc;
	fault_point("alert_queued");
	return alert_flush(st, c, NULL, err);
}

int alert_resolve(struct store *st, const struct cfg *c, const char *key, const char *summary,
		  struct ck_err *err)
{
	int rc;

	if (!key || !*key)
		return ck_err_set(err, CK_EUSAGE, "alert: no condition key");
	if (!st)
		return 0;
	if ((rc = queue_resolve(st, c, key, summary, now_ms(), err)))
		return rc;
	fault_point("alert_queued");
	return alert_flush(st, c, NULL, err);
}

int alert_health(struct store *st, const struct cfg *c, const struct health_report *r,
		 struct ck_err *err)
{
	static const char *const names[] = {"OK", "WARNING", "CRITICAL", "UNKNOWN"};
	int64_t now = now_ms();
	int rc = 0;
	size_t i;

	if (!any_channel(c))
		return 0;
	for (i = 0; i < r->nchecks; i++) {
		const struct health_check *ck = &r->checks[i];
		char key[64], summary[256];
		struct alert a;

		snprintf(key, sizeof(key), "health:%s", ck->name);
		snprintf(summary, sizeof(summary), "health %s %s: %s", ck->name,
			 names[ck->status & 3], ck->message);
		if (!st) {
			if (ck->status != HEALTH_OK) {
				a.key = key;
				a.severity = ck->status == HEALTH_CRITICAL ? ALERT_CRITICAL
									   : ALERT_WARNING;
				a.summary = summary;
				a.detail = r->summary;
				if (raise_direct(c, &a, err))
					rc = err->code;
			}
			continue;
		}
		if (ck->status == HEALTH_OK) {
			rc = queue_resolve(st, c, key, summary, now, err);
		} else {
			a.key = key;
			/* UNKNOWN: the check could not tell; a person should look, not be paged */
			a.severity = ck->status == HEALTH_CRITICAL ? ALERT_CRITICAL : ALERT_WARNING;
			a.summary = summary;
			a.detail = r->summary;
			rc = queue_raise(st, c, &a, ck->members[0] ? ck->members : NULL, now, err);
		}
		if (rc)
			return rc;
	}
	if (!st)
		return rc;
	/* The single overall "health" alert of earlier versions: closed for good. */
	if ((rc = queue_resolve(st, c, "health", "replaced by one alert per health check", now,
				err)))
		return rc;
	fault_point("alert_queued");
	return alert_flush(st, c, NULL, err);
}

/* The names of the members of group g, space-separated, into out; returns how many. */
static size_t group_names(const struct alert_member *m, size_t n, const char *g, char *out,
			  size_t size)
{
	size_t i, k = 0, len = 0;
	out[0] = 0;
	for (i = 0; i < n; i++)
		if (!strcmp(m[i].group, g) && m[i].name && *m[i].name) {
			if (len + strlen(m[i].name) + 2 < size)
				len += (size_t)snprintf(out + len, size - len, "%s%s",
							len ? " " : "", m[i].name);
			k++;
		}
	return k;
}

/* The note of a member carried into a group it was in (groups_carry). */
static const char carried_note[] = "not judged this run (see its other alert)";

/* Raises (or, st NULL, sends) the alert "<prefix>:<g>" of group g. A group whose
 * members were all carried keeps the severity it had: nothing about it was learnt. */
static int group_raise(struct store *st, const struct cfg *c, const char *prefix,
		       enum alert_severity sev, const char *what, const char *g,
		       const struct alert_member *m, size_t n, int64_t now, struct ck_err *err)
{
	char key[128], summary[256], names[4 * MEMBERS_MAX], detail[2048];
	size_t i, k, len = 0;
	struct alert a;
	int rc;

	snprintf(key, sizeof(key), "%s:%s", prefix, g);
	k = group_names(m, n, g, names, sizeof(names));
	for (i = 0; i < n && (strcmp(m[i].group, g) || m[i].note == carried_note); i++)
		;
	if (i == n && st) {
		struct store_alert *row = calloc(1, sizeof(*row));
		if (!row)
			return ck_err_set(err, CK_ENOMEM, "alert %s: out of memory", key);
		if (store_alert_get(st, key, row, err) == 0)
			sev = strcmp(row->severity, "critical") ? ALERT_WARNING : ALERT_CRITICAL;
		free(row);
	}
	detail[0] = 0;
	for (i = 0; i < n && len < sizeof(detail); i++)
		if (!strcmp(m[i].group, g) && m[i].note && *m[i].note)
			len += (size_t)snprintf(detail + len, sizeof(detail) - len, "%s%s%s\n",
						m[i].name ? m[i].name : "", m[i].name ? ": " : "",
						m[i].note);
	if (k)
		snprintf(summary, sizeof(summary), "%s (%s): %zu symbol%s: %s", what, g, k,
			 k == 1 ? "" : "s", names);
	else
		snprintf(summary, sizeof(summary), "%s (%s)", what, g);
	a.key = key;
	a.severity = sev;
	a.summary = summary;
	a.detail = detail;
	if (!st)
		return alert_raise_members(NULL, c, &a, k ? names : NULL, err);
	rc = queue_raise(st, c, &a, k ? names : NULL, now, err);
	return rc;
}

/* The members of m plus, for every firing "<prefix>:<g>" alert, the members it
 * affects that this run could not judge (unknown: they failed for a reason that masks
 * g, such as the exchange being unreachable): they stay in g, so an outage neither
 * resolves an earlier problem nor pages for it again when it is over. *out malloc'd
 * (caller frees; names and groups point into m and *keys). */
static int groups_carry(struct store *st, const char *prefix, const struct alert_member *m,
			size_t n, struct alert_member **out, size_t *nout, char **keys,
			struct ck_err *err)
{
	struct store_alert *rows = NULL, *row = calloc(1, sizeof(*row));
	struct alert_member *v = NULL;
	size_t nrows = 0, i, j, len = n, plen = strlen(prefix), klen = 0, kcap = 0, nfiring = 0;
	char aff[MEMBERS_MAX + 1];
	int rc;

	*out = NULL;
	*nout = 0;
	*keys = NULL;
	if (!row)
		return ck_err_set(err, CK_ENOMEM, "alerts: out of memory");
	if ((rc = store_alert_list(st, &rows, &nrows, err)))
		goto out;
	for (i = 0; i < nrows; i++)
		if (!strncmp(rows[i].key, prefix, plen) && rows[i].key[plen] == ':' &&
		    !strcmp(rows[i].state, "firing")) {
			kcap += strlen(rows[i].key) + 1;
			nfiring++;
		}
	/* each member can be carried into each firing group at most once */
	if (!(v = calloc(n + n * nfiring + 1, sizeof(*v))) || !(*keys = calloc(kcap + 1, 1))) {
		rc = ck_err_set(err, CK_ENOMEM, "alerts: out of memory");
		goto out;
	}
	if (n)
		memcpy(v, m, n * sizeof(*m));
	for (i = 0; i < nrows; i++) {
		const char *g;
		if (strncmp(rows[i].key, prefix, plen) || rows[i].key[plen] != ':' ||
		    strcmp(rows[i].state, "firing"))
			continue;
		if ((rc = store_alert_get(st, rows[i].key, row, err)))
			goto out;
		detail_line(row->detail, MEMBERS_AFFECTED, aff, sizeof(aff));
		g = *keys + klen;
		klen += (size_t)snprintf(*keys + klen, kcap + 1 - klen, "%s",
					 rows[i].key + plen + 1) +
			1;
		for (j = 0; j < n; j++)
			if (m[j].unknown && m[j].name && strcmp(m[j].group, g) &&
			    names_has(aff, m[j].name, strlen(m[j].name))) {
				v[len] = m[j];
				v[len].group = g;
				v[len].note = carried_note;
				len++;
			}
	}
	*out = v;
	*nout = len;
	v = NULL;
out:
	free(v);
	free(rows);
	free(row);
	return rc;
}

int alert_groups(struct store *st, const struct cfg *c, const char *prefix, enum alert_severity sev,
		 const char *what, const struct alert_member *m0, size_t n0, const char *ok_summary,
		 struct ck_err *err)
{
	struct store_alert *rows = NULL;
	struct alert_member *m = NULL;
	char *keys = NULL;
	size_t nrows = 0, i, j, plen = strlen(prefix), n = 0;
	int64_t now = now_ms();
	int rc = 0, failed = 0;

	/* No channel: nothing is raised, but an ok run still clears what was firing (as
	 * alert_resolve does), so the alerts table does not keep stale problems. */
	if (!any_channel(c) && (n0 || !st))
		return 0;
	if (st && (rc = groups_carry(st, prefix, m0, n0, &m, &n, &keys, err)))
		return rc;
	if (!st) {
		m = (struct alert_member *)m0; /* not written: freed only when st */
		n = n0;
	}
	for (i = 0; i < n; i++) {
		for (j = 0; j < i && strcmp(m[j].group, m[i].group); j++)
			;
		if (j < i)
			continue; /* group already raised */
		if ((rc = group_raise(st, c, prefix, sev, what, m[i].group, m, n, now, err))) {
			if (st && rc != CK_EIO)
				goto out;
			failed = rc; /* without a store: a channel failed; the other groups still go
				      */
			rc = 0;
		}
	}
	if (!st) {
		rc = failed;
		goto out;
	}
	/* Every group of this prefix that has no member now has cleared. */
	if ((rc = store_alert_list(st, &rows, &nrows, err)))
		goto out;
	for (i = 0; i < nrows && !rc; i++) {
		const char *g = rows[i].key + plen + 1;
		char summary[256];
		if (strncmp(rows[i].key, prefix, plen) || rows[i].key[plen] != ':' ||
		    strcmp(rows[i].state, "firing"))
			continue;
		for (j = 0; j < n && strcmp(m[j].group, g); j++)
			;
		if (j < n)
			continue;
		if (n)
			snprintf(summary, sizeof(summary),
				 "%s (%s): no symbol fails for this reason"
				 " any more",
				 what, g);
		else
			snprintf(summary, sizeof(summary), "%s", ok_summary ? ok_summary : "");
		rc = queue_resolve(st, c, rows[i].key, summary, now, err);
	}
	if (rc)
		goto out;
	/* The single "<prefix>" alert of earlier versions: closed for good. */
	if ((rc = queue_resolve(st, c, prefix, "replaced by one alert per failure class", now,
				err)))
		goto out;
	fault_point("alert_queued");
	rc = alert_flush(st, c, NULL, err);
out:
	free(rows);
	free(keys);
	if (st)
		free(m);
	return rc;
}
