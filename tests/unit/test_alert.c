/* test_alert.c — alert_raise / alert_resolve against an HTTP receiver on 127.0.0.1 run
 * by this test in a thread: nothing without channels; Slack and PagerDuty payloads; one
 * delivery per condition until [alert] repeat passes; escalation sent at once; resolve
 * once with the same PagerDuty dedup_key; a failing receiver is retried, counted in the
 * alerts row and as an alert_failed event, and its error names neither the webhook URL
 * nor the routing key; without a store every raise is sent. */
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
#include "store.h"
#include "store_alert.h"
#include "banned.h"

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
			int n = snprintf(resp, sizeof(resp),
					 "HTTP/1.1 %d X\r\nContent-Length: 0\r\nConnection: close\r\n\r\n",
					 r->status);
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
	snprintf(fx->dir, sizeof(fx->dir), "/tmp/ck-test-alert.XXXXXX");
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
	assert_int_equal(cfg_set(&fx->cfg, "alert", "pagerduty_routing_key", ROUTING_KEY, "test",
				 &fx->err), 0);
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
	struct alert c = {"sync_failed", ALERT_CRITICAL, "sync failed: 2 of 2 symbols failed", NULL};
	struct store_alert row;
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

	/* [alert] repeat has passed: sent again as still firing. */
	assert_int_equal(store_alert_get(fx->st, "sync_failed", &row, &fx->err), 0);
	row.last_sent -= fx->cfg.alert_repeat_s * 1000 + 1;
	assert_int_equal(store_alert_put(fx->st, &row, &fx->err), 0);
	assert_int_equal(alert_raise(fx->st, &fx->cfg, &c, &fx->err), 0);
	assert_int_equal(requests(fx), 3);
	j = last_json(fx);
	assert_non_null(strstr(json_string_value(json_object_get(j, "text")), "still firing since"));
	json_decref(j);

	/* Resolve once. */
	assert_int_equal(alert_resolve(fx->st, &fx->cfg, "sync_failed", "sync ok again", &fx->err), 0);
	assert_int_equal(requests(fx), 4);
	j = last_json(fx);
	text = json_string_value(json_object_get(j, "text"));
	assert_non_null(strstr(text, "[RESOLVED]"));
	assert_non_null(strstr(text, "sync ok again"));
	json_decref(j);
	assert_int_equal(store_alert_get(fx->st, "sync_failed", &row, &fx->err), 0);
	assert_string_equal(row.state, "resolved");
	assert_int_equal(row.sends, 4);
	assert_int_equal(alert_resolve(fx->st, &fx->cfg, "sync_failed", NULL, &fx->err), 0);
	assert_int_equal(requests(fx), 4);
	/* A new occurrence after the resolve is a new trigger. */
	assert_int_equal(alert_raise(fx->st, &fx->cfg, &w, &fx->err), 0);
	assert_int_equal(requests(fx), 5);
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
	assert_non_null(strstr(json_string_value(json_object_get(p, "summary")), "database damaged"));
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
	assert_int_equal(row.last_sent, 0);
	assert_int_equal(row.sends, 0);

	/* Nothing was delivered: the next raise tries again; a client error is not retried. */
	fx->rcv.status = 404;
	assert_int_equal(alert_raise(fx->st, &fx->cfg, &a, &err), CK_EIO);
	assert_int_equal(requests(fx), 8);
	fx->rcv.status = 200;
	assert_int_equal(alert_raise(fx->st, &fx->cfg, &a, &fx->err), 0);
	assert_int_equal(requests(fx), 10);
	assert_int_equal(store_alert_get(fx->st, "backup_failed:hot", &row, &fx->err), 0);
	assert_int_equal(row.failures, 4);
	assert_int_equal(row.sends, 1);
	assert_true(row.last_sent > 0);
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

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_no_channel, setup, teardown),
		cmocka_unit_test_setup_teardown(test_slack_repeat_escalate_resolve, setup, teardown),
		cmocka_unit_test_setup_teardown(test_pagerduty_dedup, setup, teardown),
		cmocka_unit_test_setup_teardown(test_failing_channel, setup, teardown),
		cmocka_unit_test_setup_teardown(test_without_store, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
