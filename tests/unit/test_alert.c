/* test_alert.c — alert_raise / alert_resolve / alert_flush / alert_health against an
 * HTTP receiver on 127.0.0.1 run by this test in a thread: nothing without channels;
 * Slack and PagerDuty payloads; one delivery per condition until [alert] repeat passes;
 * a severity change sent at once (both ways); resolve once with the same PagerDuty
 * dedup_key; a failing receiver is retried from the outbox after its back-off (not
 * before), counted and recorded as an alert_failed event, and its error names neither
 * the webhook URL nor the routing key; each channel has its own state: a channel whose
 * trigger failed gets no resolve, a failed resolve is retried although another channel
 * took its resolve; a delivery claimed by a process that died is sent after the lease,
 * once; one alert per health check; without a store every raise is sent; alerts with
 * members (symbols): a new member is an update, a recovered one sends nothing; one
 * alert per failure class (alert_groups), an outage neither resolves nor re-sends an
 * earlier class; sync's failure classes; health checks' stale symbols as members. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <jansson.h>

#include "alert.h"
#include "cfg.h"
#include "err.h"
#include "health.h"
#include "run.h"
#include "store.h"
#include "store_alert.h"
#include "utc.h"
#include "banned.h"
#include "test_tmp.h"

#define SECRET_PATH "/services/T1/B2/s3cr3tW3bh00k"
#define ROUTING_KEY "R0UT1NGKEYunitTESTsecret"

/* The receiver: answers every request with `status`, keeps the last path and body. */
struct receiver {
	int fd;
	int port;
	pthread_t thread;
	pthread_mutex_t mu;
	int stop;
	int status;
	int requests;
	int pd_requests; /* requests to /v2/ (PagerDuty) */
	int pd_status;   /* if not 0: the answer to /v2/ requests instead of status */
	char path[256];
	char body[8192];
};

static void *receiver_main(void *arg)
{
	struct receiver *r = arg;
	for (;;) {
		struct pollfd p = {r->fd, POLLIN, 0};
		char buf[16384];
		size_t len = 0;
		char *hdr_end = NULL;
		long clen = 0;
		int c, stop;

		pthread_mutex_lock(&r->mu);
		stop = r->stop;
		pthread_mutex_unlock(&r->mu);
		if (stop)
			return NULL;
		if (poll(&p, 1, 50) <= 0)
			continue;
		if ((c = accept(r->fd, NULL, NULL)) < 0)
			continue;
		/* Headers, then Content-Length bytes of body. */
		for (;;) {
			ssize_t n = read(c, buf + len, sizeof(buf) - 1 - len);
			if (n <= 0)
				break;
			len += (size_t)n;
			buf[len] = 0;
			if (!hdr_end && (hdr_end = strstr(buf, "\r\n\r\n")) != NULL) {
				const char *cl = strcasestr(buf, "Content-Length:");
				clen = cl ? strtol(cl + 15, NULL, 10) : 0;
			}
			if (hdr_end && (long)(len - (size_t)(hdr_end + 4 - buf)) >= clen)
				break;
		}
		pthread_mutex_lock(&r->mu);
		r->requests++;
		if (hdr_end) {
			char *sp = strchr(buf, ' ');
			size_t pl = sp ? strcspn(sp + 1, " ") : 0;
			snprintf(r->path, sizeof(r->path), "%.*s", (int)pl, sp ? sp + 1 : "");
			snprintf(r->body, sizeof(r->body), "%s", hdr_end + 4);
		}
		{
			char resp[128];
			int pd = !strncmp(r->path, "/v2/", 4);
			int n = snprintf(
				resp, sizeof(resp),
				"HTTP/1.1 %d X\r\nContent-Length: 0\r\nConnection: close\r\n\r\n",
				pd && r->pd_status ? r->pd_status : r->status);
			r->pd_requests += pd;
			if (write(c, resp, (size_t)n) != n) {
				/* the client gave up; nothing to do */
			}
		}
		pthread_mutex_unlock(&r->mu);
		close(c);
	}
}

struct fixture {
	char dir[64];
	char path[128];
	struct store *st;
	struct cfg cfg;
	struct ck_err err;
	struct receiver rcv;
};

static int setup(void **state)
{
	struct fixture *fx = calloc(1, sizeof(*fx));
	struct sockaddr_in a;
	socklen_t al = sizeof(a);

	assert_non_null(fx);
	test_tmp_template(fx->dir, sizeof(fx->dir), "ck-test-alert");
	assert_non_null(mkdtemp(fx->dir));
	snprintf(fx->path, sizeof(fx->path), "%s/c.db", fx->dir);
	assert_int_equal(store_open(&fx->st, fx->path, 0, &fx->err), 0);
	assert_int_equal(cfg_init(&fx->cfg, &fx->err), 0);
	assert_int_equal(cfg_set(&fx->cfg, "alert", "timeout_ms", "3000", "test", &fx->err), 0);

	fx->rcv.fd = socket(AF_INET, SOCK_STREAM, 0);
	assert_true(fx->rcv.fd >= 0);
	memset(&a, 0, sizeof(a));
	a.sin_family = AF_INET;
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	assert_int_equal(bind(fx->rcv.fd, (struct sockaddr *)&a, sizeof(a)), 0);
	assert_int_equal(listen(fx->rcv.fd, 16), 0);
	assert_int_equal(getsockname(fx->rcv.fd, (struct sockaddr *)&a, &al), 0);
	fx->rcv.port = ntohs(a.sin_port);
	fx->rcv.status = 200;
	pthread_mutex_init(&fx->rcv.mu, NULL);
	assert_int_equal(pthread_create(&fx->rcv.thread, NULL, receiver_main, &fx->rcv), 0);
	*state = fx;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *fx = *state;
	char cmd[128];
	pthread_mutex_lock(&fx->rcv.mu);
	fx->rcv.stop = 1;
	pthread_mutex_unlock(&fx->rcv.mu);
	pthread_join(fx->rcv.thread, NULL);
	pthread_mutex_destroy(&fx->rcv.mu);
	close(fx->rcv.fd);
	store_close(fx->st);
	cfg_release(&fx->cfg);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", fx->dir);
	if (system(cmd) != 0)
		return -1;
	free(fx);
	return 0;
}

static int requests(struct fixture *fx)
{
	int n;
	pthread_mutex_lock(&fx->rcv.mu);
	n = fx->rcv.requests;
	pthread_mutex_unlock(&fx->rcv.mu);
	return n;
}

/* The last body as JSON (caller json_decref's). */
static json_t *last_json(struct fixture *fx)
{
	json_t *j;
	pthread_mutex_lock(&fx->rcv.mu);
	j = json_loads(fx->rcv.body, 0, NULL);
	pthread_mutex_unlock(&fx->rcv.mu);
	assert_non_null(j);
	return j;
}

static void use_slack(struct fixture *fx)
{
	char url[256];
	snprintf(url, sizeof(url), "http://127.0.0.1:%d" SECRET_PATH, fx->rcv.port);
	assert_int_equal(cfg_set(&fx->cfg, "alert", "slack_webhook", url, "test", &fx->err), 0);
}

static void use_pagerduty(struct fixture *fx)
{
	char url[256];
	snprintf(url, sizeof(url), "http://127.0.0.1:%d/v2/enqueue", fx->rcv.port);
	assert_int_equal(cfg_set(&fx->cfg, "alert", "pagerduty_url", url, "test", &fx->err), 0);
	assert_int_equal(
		cfg_set(&fx->cfg, "alert", "pagerduty_routing_key", ROUTING_KEY, "test", &fx->err),
		0);
}

static int pd_requests(struct fixture *fx)
{
	int n;
	pthread_mutex_lock(&fx->rcv.mu);
	n = fx->rcv.pd_requests;
	pthread_mutex_unlock(&fx->rcv.mu);
	return n;
}

static void set_status(struct fixture *fx, int status, int pd_status)
{
	pthread_mutex_lock(&fx->rcv.mu);
	fx->rcv.status = status;
	fx->rcv.pd_status = pd_status;
	pthread_mutex_unlock(&fx->rcv.mu);
}

/* As if the back-off of every failed delivery of key had passed. */
static void back_off_passed(struct fixture *fx, const char *key)
{
	static const char *const chans[] = {"slack", "pagerduty", "email"};
	struct store_outbox ob;
	for (size_t i = 0; i < 3; i++) {
		if (store_outbox_get(fx->st, key, chans[i], &ob, &fx->err))
			continue;
		ob.next_at = 0;
		assert_int_equal(store_outbox_put(fx->st, &ob, &fx->err), 0);
	}
}

static void test_no_channel(void **state)
{
	struct fixture *fx = *state;
	struct alert a = {"sync_failed", ALERT_CRITICAL, "sync failed", NULL};
	struct store_alert row;

	assert_int_equal(alert_raise(fx->st, &fx->cfg, &a, &fx->err), 0);
	assert_int_equal(alert_resolve(fx->st, &fx->cfg, "sync_failed", NULL, &fx->err), 0);
	assert_int_equal(requests(fx), 0);
	assert_int_equal(store_alert_get(fx->st, "sync_failed", &row, &fx->err), CK_ENOTFOUND);
}

static void test_slack_repeat_escalate_resolve(void **state)
{
	struct fixture *fx = *state;
	struct alert w = {"sync_failed", ALERT_WARNING, "sync partial: 1 of 2 symbols failed",
			  "ETHUSDT failed: invalid data"};
	struct alert c = {"sync_failed", ALERT_CRITICAL, "sync failed: 2 of 2 symbols failed",
			  NULL};
	struct store_alert row;
	struct store_outbox ob;
	json_t *j;
	const char *text;

	use_slack(fx);
	assert_int_equal(alert_raise(fx->st, &fx->cfg, &w, &fx->err), 0);
	assert_int_equal(requests(fx), 1);
	assert_string_equal(fx->rcv.path, SECRET_PATH);
	j = last_json(fx);
	text = json_string_value(json_object_get(j, "text"));
	assert_non_null(text);
	assert_non_null(strstr(text, "[WARNING]"));
	assert_non_null(strstr(text, "sync partial: 1 of 2 symbols failed"));
	assert_non_null(strstr(text, "ETHUSDT failed: invalid data"));
	json_decref(j);
	assert_int_equal(store_alert_get(fx->st, "sync_failed", &row, &fx->err), 0);
	assert_string_equal(row.state, "firing");
	assert_string_equal(row.severity, "warning");
	assert_int_equal(row.sends, 1);
	assert_true(row.last_sent > 0);

	/* Within [alert] repeat (default 4h): suppressed. */
	assert_int_equal(alert_raise(fx->st, &fx->cfg, &w, &fx->err), 0);
	assert_int_equal(requests(fx), 1);

	/* Escalation: sent at once. */
	assert_int_equal(alert_raise(fx->st, &fx->cfg, &c, &fx->err), 0);
	assert_int_equal(requests(fx), 2);
	j = last_json(fx);
	assert_non_null(strstr(json_string_value(json_object_get(j, "text")), "[CRITICAL]"));
	json_decref(j);
	/* Still critical, repeat not due: suppressed. */
	assert_int_equal(alert_raise(fx->st, &fx->cfg, &c, &fx->err), 0);
	assert_int_equal(requests(fx), 2);

	/* [alert] repeat has passed since the channel's last delivery: sent again as still
	 * firing. */
	assert_int_equal(store_outbox_get(fx->st, "sync_failed", "slack", &ob, &fx->err), 0);
	assert_string_equal(ob.delivered, "critical");
	ob.last_sent -= fx->cfg.alert_repeat_s * 1000 + 1;
	assert_int_equal(store_outbox_put(fx->st, &ob, &fx->err), 0);
	assert_int_equal(alert_raise(fx->st, &fx->cfg, &c, &fx->err), 0);
	assert_int_equal(requests(fx), 3);
	j = last_json(fx);
	assert_non_null(
		strstr(json_string_value(json_object_get(j, "text")), "still firing since"));
	json_decref(j);

	/* Back to warning: also sent at once (a drop in severity is news too). */
	assert_int_equal(alert_raise(fx->st, &fx->cfg, &w, &fx->err), 0);
	assert_int_equal(requests(fx), 4);
	j = last_json(fx);
	text = json_string_value(json_object_get(j, "text"));
	assert_non_null(strstr(text, "[WARNING]"));
	assert_non_null(strstr(text, "was critical"));
	json_decref(j);
	assert_int_equal(alert_raise(fx->st, &fx->cfg, &w, &fx->err), 0);
	assert_int_equal(requests(fx), 4);

	/* Resolve once. */
	assert_int_equal(alert_resolve(fx->st, &fx->cfg, "sync_failed", "sync ok again", &fx->err),
			 0);
	assert_int_equal(requests(fx), 5);
	j = last_json(fx);
	text = json_string_value(json_object_get(j, "text"));
	assert_non_null(strstr(text, "[RESOLVED]"));
	assert_non_null(strstr(text, "sync ok again"));
	json_decref(j);
	assert_int_equal(store_alert_get(fx->st, "sync_failed", &row, &fx->err), 0);
	assert_string_equal(row.state, "resolved");
	assert_int_equal(row.sends, 5);
	assert_int_equal(alert_resolve(fx->st, &fx->cfg, "sync_failed", NULL, &fx->err), 0);
	assert_int_equal(requests(fx), 5);
	/* A new occurrence after the resolve is a new trigger. */
	assert_int_equal(alert_raise(fx->st, &fx->cfg, &w, &fx->err), 0);
	assert_int_equal(requests(fx), 6);
}

static void test_pagerduty_dedup(void **state)
{
	struct fixture *fx = *state;
	struct alert a = {"db_corrupt", ALERT_CRITICAL, "database damaged", "page 7"};
	char dedup[256];
	json_t *j, *p;
	int64_t sent = 0;

	use_pagerduty(fx);
	assert_int_equal(alert_raise(fx->st, &fx->cfg, &a, &fx->err), 0);
	assert_int_equal(requests(fx), 1);
	assert_string_equal(fx->rcv.path, "/v2/enqueue");
	j = last_json(fx);
	assert_string_equal(json_string_value(json_object_get(j, "routing_key")), ROUTING_KEY);
	assert_string_equal(json_string_value(json_object_get(j, "event_action")), "trigger");
	snprintf(dedup, sizeof(dedup), "%s", json_string_value(json_object_get(j, "dedup_key")));
	assert_non_null(strstr(dedup, "db_corrupt"));
	p = json_object_get(j, "payload");
	assert_string_equal(json_string_value(json_object_get(p, "severity")), "critical");
	assert_non_null(
		strstr(json_string_value(json_object_get(p, "summary")), "database damaged"));
	assert_non_null(json_string_value(json_object_get(p, "source")));
	json_decref(j);

	assert_int_equal(alert_resolve(fx->st, &fx->cfg, "db_corrupt", NULL, &fx->err), 0);
	assert_int_equal(requests(fx), 2);
	j = last_json(fx);
	assert_string_equal(json_string_value(json_object_get(j, "event_action")), "resolve");
	assert_string_equal(json_string_value(json_object_get(j, "dedup_key")), dedup);
	assert_string_equal(json_string_value(json_object_get(j, "routing_key")), ROUTING_KEY);
	json_decref(j);
	assert_int_equal(store_event_count(fx->st, "alert_sent", "pagerduty", &sent, &fx->err), 0);
	assert_int_equal(sent, 2);
}

static void test_failing_channel(void **state)
{
	struct fixture *fx = *state;
	struct alert a = {"backup_failed:hot", ALERT_CRITICAL, "backup failed", NULL};
	struct store_alert row;
	struct store_outbox ob;
	struct ck_err err = {0, ""};
	int64_t failed = 0;

	use_slack(fx);
	use_pagerduty(fx);
	fx->rcv.status = 500;
	assert_int_equal(alert_raise(fx->st, &fx->cfg, &a, &err), CK_EIO);
	/* 3 attempts on each of the two channels. */
	assert_int_equal(requests(fx), 6);
	assert_non_null(strstr(err.msg, "HTTP 500"));
	assert_null(strstr(err.msg, "s3cr3tW3bh00k"));
	assert_null(strstr(err.msg, ROUTING_KEY));
	assert_null(strstr(err.msg, "127.0.0.1"));
	assert_int_equal(store_event_count(fx->st, "alert_failed", NULL, &failed, &fx->err), 0);
	assert_int_equal(failed, 2);
	assert_int_equal(store_alert_get(fx->st, "backup_failed:hot", &row, &fx->err), 0);
	assert_string_equal(row.state, "firing");
	assert_int_equal(row.failures, 2);
	assert_null(strstr(err.msg, "s3cr3tW3bh00k"));
	assert_int_equal(row.last_sent, 0);
	assert_int_equal(row.sends, 0);

	/* Nothing was delivered, and both stay owed, but not before their back-off
	 * ([alert] retry_ms, 30 s by default) has passed: raising again sends nothing. */
	assert_int_equal(store_outbox_get(fx->st, "backup_failed:hot", "slack", &ob, &fx->err), 0);
	assert_string_equal(ob.state, "retrying");
	assert_int_equal(ob.attempts, 1);
	assert_true(ob.next_at >= now_ms() + 20000);
	assert_int_equal(alert_raise(fx->st, &fx->cfg, &a, &err), 0);
	assert_int_equal(alert_flush(fx->st, &fx->cfg, NULL, &err), 0);
	assert_int_equal(requests(fx), 6);

	/* Once it has passed, the flush retries; a client error is not retried within
	 * one delivery. */
	back_off_passed(fx, "backup_failed:hot");
	fx->rcv.status = 404;
	assert_int_equal(alert_flush(fx->st, &fx->cfg, NULL, &err), CK_EIO);
	assert_int_equal(requests(fx), 8);
	assert_int_equal(store_outbox_get(fx->st, "backup_failed:hot", "slack", &ob, &fx->err), 0);
	assert_int_equal(ob.attempts, 2);
	assert_true(ob.next_at >= now_ms() + 50000); /* doubled */
	back_off_passed(fx, "backup_failed:hot");
	fx->rcv.status = 200;
	assert_int_equal(alert_flush(fx->st, &fx->cfg, NULL, &fx->err), 0);
	assert_int_equal(requests(fx), 10);
	assert_int_equal(store_alert_get(fx->st, "backup_failed:hot", &row, &fx->err), 0);
	assert_int_equal(row.failures, 4);
	assert_int_equal(row.sends, 2); /* one per channel */
	assert_true(row.last_sent > 0);
	/* Delivered: nothing more. */
	assert_int_equal(alert_flush(fx->st, &fx->cfg, NULL, &fx->err), 0);
	assert_int_equal(requests(fx), 10);
}

static void test_without_store(void **state)
{
	struct fixture *fx = *state;
	struct alert a = {"recover", ALERT_WARNING, "database restored", NULL};

	use_slack(fx);
	assert_int_equal(alert_raise(NULL, &fx->cfg, &a, &fx->err), 0);
	assert_int_equal(alert_raise(NULL, &fx->cfg, &a, &fx->err), 0);
	assert_int_equal(requests(fx), 2);
	/* Without state there is nothing known to resolve. */
	assert_int_equal(alert_resolve(NULL, &fx->cfg, "recover", NULL, &fx->err), 0);
	assert_int_equal(requests(fx), 2);
	/* A key is required. */
	a.key = "";
	assert_int_equal(alert_raise(NULL, &fx->cfg, &a, &fx->err), CK_EUSAGE);
}

/* A channel whose trigger failed is owed nothing once the alert resolves: no RESOLVED
 * for an alert it never got. */
static void test_resolve_only_where_triggered(void **state)
{
	struct fixture *fx = *state;
	struct alert a = {"sync_failed", ALERT_CRITICAL, "sync failed", NULL};
	struct store_outbox ob;
	struct ck_err err = {0, ""};
	json_t *j;

	use_slack(fx);
	use_pagerduty(fx);
	set_status(fx, 200, 500);
	assert_int_equal(alert_raise(fx->st, &fx->cfg, &a, &err), CK_EIO);
	assert_int_equal(pd_requests(fx), 3);
	assert_int_equal(requests(fx), 4);
	set_status(fx, 200, 0);
	back_off_passed(fx, "sync_failed");
	assert_int_equal(alert_resolve(fx->st, &fx->cfg, "sync_failed", "sync ok again", &fx->err),
			 0);
	/* Slack got its resolve; PagerDuty nothing: its trigger is no longer owed either. */
	assert_int_equal(requests(fx), 5);
	assert_int_equal(pd_requests(fx), 3);
	j = last_json(fx);
	assert_non_null(strstr(json_string_value(json_object_get(j, "text")), "[RESOLVED]"));
	json_decref(j);
	assert_int_equal(store_outbox_get(fx->st, "sync_failed", "pagerduty", &ob, &fx->err), 0);
	assert_string_equal(ob.state, "cancelled");
	assert_string_equal(ob.delivered, "");
	assert_int_equal(alert_flush(fx->st, &fx->cfg, NULL, &fx->err), 0);
	assert_int_equal(requests(fx), 5);
}

/* A failed PagerDuty resolve is retried until it succeeds, although Slack took its
 * resolve: the incident does not stay open. */
static void test_failed_resolve_retried(void **state)
{
	struct fixture *fx = *state;
	struct alert a = {"db_corrupt", ALERT_CRITICAL, "database damaged", NULL};
	struct store_alert row;
	struct ck_err err = {0, ""};
	json_t *j;

	use_slack(fx);
	use_pagerduty(fx);
	assert_int_equal(alert_raise(fx->st, &fx->cfg, &a, &fx->err), 0);
	assert_int_equal(requests(fx), 2);
	set_status(fx, 200, 503);
	assert_int_equal(alert_resolve(fx->st, &fx->cfg, "db_corrupt", NULL, &err), CK_EIO);
	assert_int_equal(pd_requests(fx), 4); /* trigger + 3 attempts of the resolve */
	assert_int_equal(requests(fx), 6);
	assert_int_equal(store_alert_get(fx->st, "db_corrupt", &row, &fx->err), 0);
	assert_string_equal(row.state, "resolved");
	set_status(fx, 200, 0);
	back_off_passed(fx, "db_corrupt");
	assert_int_equal(alert_flush(fx->st, &fx->cfg, NULL, &fx->err), 0);
	assert_int_equal(pd_requests(fx), 5);
	assert_int_equal(requests(fx), 7); /* Slack's resolve is not sent twice */
	j = last_json(fx);
	assert_string_equal(json_string_value(json_object_get(j, "event_action")), "resolve");
	json_decref(j);
	assert_int_equal(alert_flush(fx->st, &fx->cfg, NULL, &fx->err), 0);
	assert_int_equal(requests(fx), 7);
}

/* A delivery claimed by a process that died (its lease still running) is not sent
 * by another; once the lease has ended it is sent, once. */
static void test_claim_lease(void **state)
{
	struct fixture *fx = *state;
	struct alert a = {"sync_failed", ALERT_WARNING, "sync partial", NULL};
	struct store_alert row;
	struct store_outbox ob;
	int64_t next = 0;

	use_slack(fx);
	/* What a process killed between the commit and the send leaves behind. */
	memset(&row, 0, sizeof(row));
	snprintf(row.key, sizeof(row.key), "%s", a.key);
	snprintf(row.severity, sizeof(row.severity), "warning");
	snprintf(row.state, sizeof(row.state), "firing");
	snprintf(row.summary, sizeof(row.summary), "%s", a.summary);
	row.first_at = now_ms();
	assert_int_equal(store_alert_put(fx->st, &row, &fx->err), 0);
	memset(&ob, 0, sizeof(ob));
	snprintf(ob.key, sizeof(ob.key), "%s", a.key);
	snprintf(ob.channel, sizeof(ob.channel), "slack");
	snprintf(ob.state, sizeof(ob.state), "pending");
	ob.claimed_until = now_ms() + 60000;
	ob.claimed_by = 999999;
	assert_int_equal(store_outbox_put(fx->st, &ob, &fx->err), 0);
	assert_int_equal(alert_flush(fx->st, &fx->cfg, &next, &fx->err), 0);
	assert_int_equal(requests(fx), 0);
	assert_int_equal(next, ob.claimed_until);
	/* A raise meanwhile does not jump the claim either. */
	assert_int_equal(alert_raise(fx->st, &fx->cfg, &a, &fx->err), 0);
	assert_int_equal(requests(fx), 0);
	ob.claimed_until = now_ms() - 1;
	assert_int_equal(store_outbox_put(fx->st, &ob, &fx->err), 0);
	assert_int_equal(alert_flush(fx->st, &fx->cfg, &next, &fx->err), 0);
	assert_int_equal(requests(fx), 1);
	assert_int_equal(alert_flush(fx->st, &fx->cfg, &next, &fx->err), 0);
	assert_int_equal(requests(fx), 1);
	assert_int_equal(store_outbox_get(fx->st, a.key, "slack", &ob, &fx->err), 0);
	assert_int_equal(ob.claimed_until, 0);
	assert_string_equal(ob.delivered, "warning");
}

static void report_set(struct health_report *r, enum health_status fresh,
		       enum health_status backups)
{
	memset(r, 0, sizeof(*r));
	r->nchecks = 2;
	snprintf(r->checks[0].name, sizeof(r->checks[0].name), "freshness");
	r->checks[0].status = fresh;
	snprintf(r->checks[0].message, sizeof(r->checks[0].message), "2 stale symbols");
	snprintf(r->checks[1].name, sizeof(r->checks[1].name), "backups");
	r->checks[1].status = backups;
	snprintf(r->checks[1].message, sizeof(r->checks[1].message), "offsite not configured");
	r->status = fresh > backups ? fresh : backups;
	snprintf(r->summary, sizeof(r->summary), "CANDLEKEEP %d", (int)r->status);
}

/* One alert per health check: a freshness problem while backups is already at WARNING
 * is sent; each resolves on its own; a check's drop from CRITICAL to WARNING is sent. */
static void test_health_per_check(void **state)
{
	struct fixture *fx = *state;
	struct health_report r;
	struct store_alert row;
	json_t *j;
	const char *text;

	use_slack(fx);
	report_set(&r, HEALTH_OK, HEALTH_WARNING);
	assert_int_equal(alert_health(fx->st, &fx->cfg, &r, &fx->err), 0);
	assert_int_equal(requests(fx), 1);
	j = last_json(fx);
	text = json_string_value(json_object_get(j, "text"));
	assert_non_null(strstr(text, "health:backups"));
	assert_non_null(strstr(text, "offsite not configured"));
	json_decref(j);
	/* Same state again: nothing. */
	assert_int_equal(alert_health(fx->st, &fx->cfg, &r, &fx->err), 0);
	assert_int_equal(requests(fx), 1);
	/* Freshness goes critical while backups stays at warning: sent. */
	report_set(&r, HEALTH_CRITICAL, HEALTH_WARNING);
	assert_int_equal(alert_health(fx->st, &fx->cfg, &r, &fx->err), 0);
	assert_int_equal(requests(fx), 2);
	j = last_json(fx);
	text = json_string_value(json_object_get(j, "text"));
	assert_non_null(strstr(text, "[CRITICAL]"));
	assert_non_null(strstr(text, "health:freshness"));
	json_decref(j);
	/* Freshness drops to warning: sent. */
	report_set(&r, HEALTH_WARNING, HEALTH_WARNING);
	assert_int_equal(alert_health(fx->st, &fx->cfg, &r, &fx->err), 0);
	assert_int_equal(requests(fx), 3);
	j = last_json(fx);
	text = json_string_value(json_object_get(j, "text"));
	assert_non_null(strstr(text, "[WARNING]"));
	assert_non_null(strstr(text, "health:freshness"));
	json_decref(j);
	/* Freshness clears: its resolve only; backups keeps firing. */
	report_set(&r, HEALTH_OK, HEALTH_WARNING);
	assert_int_equal(alert_health(fx->st, &fx->cfg, &r, &fx->err), 0);
	assert_int_equal(requests(fx), 4);
	j = last_json(fx);
	text = json_string_value(json_object_get(j, "text"));
	assert_non_null(strstr(text, "[RESOLVED]"));
	assert_non_null(strstr(text, "health:freshness"));
	json_decref(j);
	assert_int_equal(store_alert_get(fx->st, "health:backups", &row, &fx->err), 0);
	assert_string_equal(row.state, "firing");
	assert_int_equal(store_alert_get(fx->st, "health:freshness", &row, &fx->err), 0);
	assert_string_equal(row.state, "resolved");
}

/* The text of the last Slack message (a copy; caller frees). */
static char *last_text(struct fixture *fx)
{
	json_t *j = last_json(fx);
	const char *t = json_string_value(json_object_get(j, "text"));
	char *copy;
	assert_non_null(t);
	copy = strdup(t);
	json_decref(j);
	assert_non_null(copy);
	return copy;
}

/* An alert about a set of symbols: one trigger for three; a recovery changes the
 * detail and sends nothing, as does the recovered symbol failing again; a symbol the
 * channels were not told of is an update (PagerDuty: a trigger on the same dedup_key,
 * the open incident), not a new alert. */
static void test_members_update_not_page(void **state)
{
	struct fixture *fx = *state;
	struct alert a = {"sync_failed:invalid", ALERT_WARNING, "sync partial (invalid)",
			  "details"};
	struct store_alert row;
	struct store_outbox ob;
	json_t *j;

	use_slack(fx);
	use_pagerduty(fx);
	assert_int_equal(
		alert_raise_members(fx->st, &fx->cfg, &a, "ETHUSDT SOLUSDT,BNBUSDT", &fx->err), 0);
	assert_int_equal(requests(fx), 2);
	assert_int_equal(pd_requests(fx), 1);
	assert_int_equal(store_alert_get(fx->st, a.key, &row, &fx->err), 0);
	assert_string_equal(row.detail, "affected: BNBUSDT ETHUSDT SOLUSDT\ndetails");
	/* The same set again: nothing. */
	assert_int_equal(
		alert_raise_members(fx->st, &fx->cfg, &a, "BNBUSDT ETHUSDT SOLUSDT", &fx->err), 0);
	assert_int_equal(requests(fx), 2);
	/* BNBUSDT recovers: the detail says so, nothing is sent. */
	assert_int_equal(alert_raise_members(fx->st, &fx->cfg, &a, "ETHUSDT SOLUSDT", &fx->err), 0);
	assert_int_equal(requests(fx), 2);
	assert_int_equal(store_alert_get(fx->st, a.key, &row, &fx->err), 0);
	assert_string_equal(row.detail, "affected: ETHUSDT SOLUSDT\nrecovered: BNBUSDT\ndetails");
	/* ... and fails again: the channels were told of it, nothing is sent. */
	assert_int_equal(
		alert_raise_members(fx->st, &fx->cfg, &a, "ETHUSDT SOLUSDT BNBUSDT", &fx->err), 0);
	assert_int_equal(requests(fx), 2);
	/* A new symbol: one update per channel, naming the current set. */
	assert_int_equal(
		alert_raise_members(fx->st, &fx->cfg, &a, "ETHUSDT XRPUSDT SOLUSDT", &fx->err), 0);
	assert_int_equal(requests(fx), 4);
	assert_int_equal(pd_requests(fx), 2);
	j = last_json(fx);
	if (json_object_get(j, "event_action")) {
		assert_string_equal(json_string_value(json_object_get(j, "event_action")),
				    "trigger");
		assert_non_null(strstr(json_string_value(json_object_get(j, "dedup_key")),
				       "/sync_failed:invalid"));
	}
	json_decref(j);
	assert_int_equal(store_outbox_get(fx->st, a.key, "slack", &ob, &fx->err), 0);
	assert_int_equal(strlen(ob.delivered), strlen("warning ") + 8);
	assert_int_equal(strncmp(ob.delivered, "warning ", 8), 0);
	assert_int_equal(store_alert_get(fx->st, a.key, &row, &fx->err), 0);
	assert_string_equal(row.detail, "affected: ETHUSDT SOLUSDT XRPUSDT\ndetails");
	assert_int_equal(
		alert_raise_members(fx->st, &fx->cfg, &a, "ETHUSDT XRPUSDT SOLUSDT", &fx->err), 0);
	assert_int_equal(requests(fx), 4);
	assert_int_equal(alert_resolve(fx->st, &fx->cfg, a.key, "ok", &fx->err), 0);
	assert_int_equal(requests(fx), 6);
	/* A severity change is still an update of its own. */
	a.severity = ALERT_CRITICAL;
	assert_int_equal(alert_raise_members(fx->st, &fx->cfg, &a, "ETHUSDT", &fx->err), 0);
	assert_int_equal(requests(fx), 8);
	a.severity = ALERT_WARNING;
	assert_int_equal(alert_raise_members(fx->st, &fx->cfg, &a, "ETHUSDT", &fx->err), 0);
	assert_int_equal(requests(fx), 10);
}

/* The Slack wording of a members update. */
static void test_members_update_text(void **state)
{
	struct fixture *fx = *state;
	struct alert a = {"health:freshness", ALERT_WARNING, "2 stale", NULL};
	char *text;

	use_slack(fx);
	assert_int_equal(alert_raise_members(fx->st, &fx->cfg, &a, "BTCUSDT", &fx->err), 0);
	text = last_text(fx);
	assert_non_null(strstr(text, "affected: BTCUSDT"));
	assert_null(strstr(text, "updated"));
	free(text);
	assert_int_equal(alert_raise_members(fx->st, &fx->cfg, &a, "BTCUSDT ETHUSDT", &fx->err), 0);
	assert_int_equal(requests(fx), 2);
	text = last_text(fx);
	assert_non_null(strstr(text, "updated: more affected"));
	assert_non_null(strstr(text, "affected: BTCUSDT ETHUSDT"));
	assert_null(strstr(text, "was "));
	free(text);
}

static int count_firing(struct fixture *fx, const char *key)
{
	struct store_alert row;
	if (store_alert_get(fx->st, key, &row, &fx->err))
		return 0;
	return !strcmp(row.state, "firing");
}

/* alert_groups: one alert per failure class; a new class is a new alert; an outage
 * (members that could not be judged) neither resolves nor re-sends an earlier class;
 * a class with no member resolves, once; the single alert of earlier versions is
 * resolved. */
static void test_groups_one_per_class(void **state)
{
	struct fixture *fx = *state;
	struct alert legacy = {"sync_failed", ALERT_WARNING, "sync partial", NULL};
	struct alert_member three[] = {
		{"ETHUSDT", "invalid", "invalid data", 0},
		{"SOLUSDT", "invalid", "invalid data", 0},
		{"BNBUSDT", "invalid", "invalid data", 0},
		{"XRPUSDT", "http", "HTTP 503; gave up after 2 retries", 1},
	};
	struct alert_member outage[] = {
		{"ETHUSDT", "http", "HTTP 503", 1}, {"SOLUSDT", "http", "HTTP 503", 1},
		{"BNBUSDT", "http", "HTTP 503", 1}, {"XRPUSDT", "http", "HTTP 503", 1},
		{"BTCUSDT", "http", "HTTP 503", 1},
	};
	struct store_alert row;
	char *text;

	use_slack(fx);
	assert_int_equal(alert_raise(fx->st, &fx->cfg, &legacy, &fx->err), 0);
	assert_int_equal(requests(fx), 1);
	/* Three symbols, one reason: one alert; the old single alert resolves. */
	assert_int_equal(alert_groups(fx->st, &fx->cfg, "sync_failed", ALERT_WARNING,
				      "sync partial", three, 3, "sync ok", &fx->err),
			 0);
	assert_int_equal(requests(fx), 3);
	assert_true(count_firing(fx, "sync_failed:invalid"));
	assert_false(count_firing(fx, "sync_failed"));
	assert_int_equal(store_alert_get(fx->st, "sync_failed:invalid", &row, &fx->err), 0);
	assert_non_null(strstr(row.summary, "3 symbols: ETHUSDT SOLUSDT BNBUSDT"));
	assert_non_null(strstr(row.detail, "affected: BNBUSDT ETHUSDT SOLUSDT\n"));
	assert_non_null(strstr(row.detail, "SOLUSDT: invalid data\n"));
	/* The same again: nothing. */
	assert_int_equal(alert_groups(fx->st, &fx->cfg, "sync_failed", ALERT_WARNING,
				      "sync partial", three, 3, "sync ok", &fx->err),
			 0);
	assert_int_equal(requests(fx), 3);
	/* Another symbol, another reason: one new alert. */
	assert_int_equal(alert_groups(fx->st, &fx->cfg, "sync_failed", ALERT_WARNING,
				      "sync partial", three, 4, "sync ok", &fx->err),
			 0);
	assert_int_equal(requests(fx), 4);
	text = last_text(fx);
	assert_non_null(strstr(text, "sync_failed:http"));
	free(text);
	/* The exchange fails for all: the http alert grows and escalates (one update); the
	 * invalid one keeps firing, unchanged and unsent (its symbols were not judged). */
	assert_int_equal(alert_groups(fx->st, &fx->cfg, "sync_failed", ALERT_CRITICAL,
				      "sync failed", outage, 5, "sync ok", &fx->err),
			 0);
	assert_int_equal(requests(fx), 5);
	text = last_text(fx);
	assert_non_null(strstr(text, "sync_failed:http"));
	free(text);
	assert_true(count_firing(fx, "sync_failed:invalid"));
	assert_int_equal(store_alert_get(fx->st, "sync_failed:invalid", &row, &fx->err), 0);
	assert_string_equal(row.severity, "warning");
	/* The exchange is back, the three still invalid: http resolves, once. */
	assert_int_equal(alert_groups(fx->st, &fx->cfg, "sync_failed", ALERT_WARNING,
				      "sync partial", three, 3, "sync ok", &fx->err),
			 0);
	assert_int_equal(requests(fx), 6);
	text = last_text(fx);
	assert_non_null(strstr(text, "[RESOLVED]"));
	assert_non_null(strstr(text, "sync_failed:http"));
	free(text);
	/* One of them recovers: nothing sent. */
	assert_int_equal(alert_groups(fx->st, &fx->cfg, "sync_failed", ALERT_WARNING,
				      "sync partial", three + 1, 2, "sync ok", &fx->err),
			 0);
	assert_int_equal(requests(fx), 6);
	/* All ok: the invalid alert resolves, once. */
	assert_int_equal(alert_groups(fx->st, &fx->cfg, "sync_failed", ALERT_WARNING,
				      "sync partial", NULL, 0, "sync ok again", &fx->err),
			 0);
	assert_int_equal(requests(fx), 7);
	text = last_text(fx);
	assert_non_null(strstr(text, "[RESOLVED]"));
	assert_non_null(strstr(text, "sync ok again"));
	free(text);
	assert_int_equal(alert_groups(fx->st, &fx->cfg, "sync_failed", ALERT_WARNING,
				      "sync partial", NULL, 0, "sync ok again", &fx->err),
			 0);
	assert_int_equal(requests(fx), 7);
}

/* The failure classes of sync's error texts. */
static void test_sync_failure_class(void **state)
{
	(void)state;
	assert_string_equal(sync_failure_class("invalid data, page not stored (not retried): "
					       "ETHUSDT 4h candle ..."),
			    "invalid");
	assert_string_equal(sync_failure_class("HTTP 503; gave up after 4 retries"), "http");
	assert_string_equal(sync_failure_class("Couldn't connect to server; gave up after 4 "
					       "retries"),
			    "http");
	assert_string_equal(sync_failure_class("bad response body after 3 retries: x"), "http");
	assert_string_equal(sync_failure_class("not fetched: the exchange banned this IP (HTTP "
					       "418) until 2026-03-19 20:00 UTC"),
			    "ban");
	assert_string_equal(sync_failure_class("HTTP 429; gave up after 2 retries"), "ban");
	assert_string_equal(sync_failure_class("not fetched: the run's deadline ([sync] timeout "
					       "60 s) passed"),
			    "timeout");
	assert_string_equal(sync_failure_class("HTTP 400: -1100 Illegal (not retried)"),
			    "rejected");
	assert_string_equal(sync_failure_class("not fetched: stopped by a signal"), "stopped");
	assert_string_equal(sync_failure_class("something new"), "other");
	assert_string_equal(sync_failure_class(NULL), "other");
}

/* health:freshness carries its stale symbols: a new one is an update, one becoming
 * fresh changes nothing sent, all fresh resolves. */
static void test_health_members(void **state)
{
	struct fixture *fx = *state;
	struct health_report r;
	struct store_alert row;
	char *text;

	use_slack(fx);
	report_set(&r, HEALTH_WARNING, HEALTH_OK);
	snprintf(r.checks[0].members, sizeof(r.checks[0].members), "BTCUSDT");
	assert_int_equal(alert_health(fx->st, &fx->cfg, &r, &fx->err), 0);
	assert_int_equal(requests(fx), 1);
	text = last_text(fx);
	assert_non_null(strstr(text, "affected: BTCUSDT"));
	free(text);
	snprintf(r.checks[0].members, sizeof(r.checks[0].members), "BTCUSDT ETHUSDT");
	assert_int_equal(alert_health(fx->st, &fx->cfg, &r, &fx->err), 0);
	assert_int_equal(requests(fx), 2);
	text = last_text(fx);
	assert_non_null(strstr(text, "updated: more affected"));
	free(text);
	snprintf(r.checks[0].members, sizeof(r.checks[0].members), "ETHUSDT");
	assert_int_equal(alert_health(fx->st, &fx->cfg, &r, &fx->err), 0);
	assert_int_equal(requests(fx), 2);
	assert_int_equal(store_alert_get(fx->st, "health:freshness", &row, &fx->err), 0);
	assert_int_equal(strncmp(row.detail, "affected: ETHUSDT\nrecovered: BTCUSDT\n", 36), 0);
	report_set(&r, HEALTH_OK, HEALTH_OK);
	assert_int_equal(alert_health(fx->st, &fx->cfg, &r, &fx->err), 0);
	assert_int_equal(requests(fx), 3);
	text = last_text(fx);
	assert_non_null(strstr(text, "[RESOLVED]"));
	free(text);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_no_channel, setup, teardown),
		cmocka_unit_test_setup_teardown(test_slack_repeat_escalate_resolve, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_pagerduty_dedup, setup, teardown),
		cmocka_unit_test_setup_teardown(test_failing_channel, setup, teardown),
		cmocka_unit_test_setup_teardown(test_without_store, setup, teardown),
		cmocka_unit_test_setup_teardown(test_resolve_only_where_triggered, setup, teardown),
		cmocka_unit_test_setup_teardown(test_failed_resolve_retried, setup, teardown),
		cmocka_unit_test_setup_teardown(test_claim_lease, setup, teardown),
		cmocka_unit_test_setup_teardown(test_health_per_check, setup, teardown),
		cmocka_unit_test_setup_teardown(test_members_update_not_page, setup, teardown),
		cmocka_unit_test_setup_teardown(test_members_update_text, setup, teardown),
		cmocka_unit_test_setup_teardown(test_groups_one_per_class, setup, teardown),
		cmocka_unit_test_setup_teardown(test_sync_failure_class, NULL, NULL),
		cmocka_unit_test_setup_teardown(test_health_members, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
