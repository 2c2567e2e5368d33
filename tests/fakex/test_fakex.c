/* test_fakex.c — build/fakex over real HTTP: starts the server on an ephemeral port in
 * a private temp dir, talks to it with libcurl, and checks Binance's klines semantics,
 * exchangeInfo, the fake clock, weight accounting, bans, every injected fault, the
 * control endpoints and the request log. Bounded waits only.
 *
 * Environment: CK_BUILD (build dir holding fakex), CK_TOP (repo root; data is at
 * $CK_TOP/build/testdata/binance, decompressed from testdata/binance by make). */
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>
#include <curl/curl.h>

#include "banned.h"

#define NOW0 1773940000000LL /* inside BTCUSDT's recorded last (forming) 4h candle */
#define H4 14400000LL
#define BTC_FIRST 1709150400000LL

struct proc {
	pid_t pid;
	int port;
	char dir[256];
};

static char g_build[1024], g_data[1024];
static struct proc g_fx; /* the shared instance: futures data + 2 synthetic symbols */

/* --- process helpers ------------------------------------------------------------- */

static void path_in(const struct proc *p, const char *name, char *out, size_t n)
{
	snprintf(out, n, "%s/%s", p->dir, name);
}

/* Starts fakex with args (NULL-terminated) plus --port 0 --port-file --request-log.
 * Returns 0 when the port file appeared, -1 if fakex exited or 10 s passed. */
static int fx_start(struct proc *p, const char *const *args)
{
	snprintf(p->dir, sizeof(p->dir), "%s/fakex-test.XXXXXX",
		 getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
	if (!mkdtemp(p->dir))
		return -1;
	char exe[1100], portf[300], logf[300], outf[300], errf[300];
	snprintf(exe, sizeof(exe), "%s/fakex", g_build);
	path_in(p, "port", portf, sizeof(portf));
	path_in(p, "requests.log", logf, sizeof(logf));
	path_in(p, "stdout", outf, sizeof(outf));
	path_in(p, "stderr", errf, sizeof(errf));
	const char *argv[64];
	int n = 0;
	argv[n++] = exe;
	for (; *args && n < 50; args++)
		argv[n++] = *args;
	const char *tail[] = {"--port", "0", "--port-file", portf, "--request-log", logf};
	for (size_t i = 0; i < sizeof(tail) / sizeof(tail[0]); i++)
		argv[n++] = tail[i];
	argv[n] = NULL;
	p->pid = fork();
	if (p->pid < 0)
		return -1;
	if (p->pid == 0) {
		int o = open(outf, O_WRONLY | O_CREAT | O_TRUNC, 0600);
		int e = open(errf, O_WRONLY | O_CREAT | O_TRUNC, 0600);
		dup2(o, 1);
		dup2(e, 2);
		execv(exe, (char *const *)argv);
		_exit(127);
	}
	for (int i = 0; i < 1000; i++) { /* 10 s */
		FILE *f = fopen(portf, "r");
		if (f) {
			int ok = fscanf(f, "%d", &p->port) == 1;
			fclose(f);
			if (ok)
				return 0;
		}
		int st;
		if (waitpid(p->pid, &st, WNOHANG) == p->pid) {
			p->pid = 0;
			return -1;
		}
		usleep(10000);
	}
	return -1;
}

static void rm_dir(const char *dir)
{
	static const char *const names[] = {"port", "requests.log", "stdout", "stderr"};
	char path[512];
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		snprintf(path, sizeof(path), "%s/%s", dir, names[i]);
		unlink(path);
	}
	rmdir(dir);
}

/* SIGTERM, then waits up to 5 s. Returns the exit status, or -1 (killed). */
static int fx_stop(struct proc *p)
{
	int status = -1, st;
	if (p->pid > 0) {
		kill(p->pid, SIGTERM);
		for (int i = 0; i < 500; i++) {
			if (waitpid(p->pid, &st, WNOHANG) == p->pid) {
				status = WIFEXITED(st) ? WEXITSTATUS(st) : -1;
				break;
			}
			usleep(10000);
		}
		if (status == -1 && waitpid(p->pid, &st, WNOHANG) == 0) {
			kill(p->pid, SIGKILL);
			waitpid(p->pid, &st, 0);
		}
		p->pid = 0;
	}
	rm_dir(p->dir);
	return status;
}

/* Runs fakex expecting it to fail at startup; returns its exit status (-1 if it did
 * not exit within 5 s) and its stderr in err. */
static int fx_fail(const char *const *args, char *err, size_t n)
{
	char dir[256], errf[300], exe[1100];
	snprintf(dir, sizeof(dir), "%s/fakex-test.XXXXXX",
		 getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
	if (!mkdtemp(dir))
		return -1;
	snprintf(errf, sizeof(errf), "%s/stderr", dir);
	snprintf(exe, sizeof(exe), "%s/fakex", g_build);
	const char *argv[64];
	int k = 0, status = -1, st;
	argv[k++] = exe;
	for (; *args && k < 60; args++)
		argv[k++] = *args;
	argv[k] = NULL;
	pid_t pid = fork();
	if (pid == 0) {
		int devnull = open("/dev/null", O_WRONLY);
		int e = open(errf, O_WRONLY | O_CREAT | O_TRUNC, 0600);
		dup2(devnull, 1);
		dup2(e, 2);
		execv(exe, (char *const *)argv);
		_exit(127);
	}
	for (int i = 0; pid > 0 && i < 500; i++) {
		if (waitpid(pid, &st, WNOHANG) == pid) {
			status = WIFEXITED(st) ? WEXITSTATUS(st) : -1;
			break;
		}
		usleep(10000);
	}
	if (pid > 0 && status == -1) {
		kill(pid, SIGKILL);
		waitpid(pid, &st, 0);
	}
	err[0] = '\0';
	FILE *f = fopen(errf, "r");
	if (f) {
		size_t got = fread(err, 1, n - 1, f);
		err[got] = '\0';
		fclose(f);
	}
	rm_dir(dir);
	return status;
}

/* --- HTTP ------------------------------------------------------------------------ */

struct resp {
	long status;
	CURLcode cc;
	char *body;
	size_t len;
	char date[80];
	long weight;      /* X-MBX-USED-WEIGHT-1M, -1 if absent */
	long retry_after; /* -1 if absent */
	char ctype[80];
	double secs;
};

static size_t on_body(char *p, size_t sz, size_t n, void *ud)
{
	struct resp *r = ud;
	char *q = realloc(r->body, r->len + sz * n + 1);
	if (!q)
		return 0;
	memcpy(q + r->len, p, sz * n);
	r->body = q;
	r->len += sz * n;
	r->body[r->len] = '\0';
	return sz * n;
}

static void header_value(const char *line, size_t n, char *out, size_t outn)
{
	const char *c = memchr(line, ':', n);
	if (!c)
		return;
	c++;
	while (*c == ' ')
		c++;
	size_t len = (size_t)(line + n - c);
	while (len && (c[len - 1] == '\r' || c[len - 1] == '\n'))
		len--;
	snprintf(out, outn, "%.*s", (int)len, c);
}

static size_t on_header(char *p, size_t sz, size_t n, void *ud)
{
	struct resp *r = ud;
	size_t len = sz * n;
	char v[80] = "";
	if (len > 5 && !strncasecmp(p, "Date:", 5)) {
		header_value(p, len, r->date, sizeof(r->date));
	} else if (len > 21 && !strncasecmp(p, "X-MBX-USED-WEIGHT-1M:", 21)) {
		header_value(p, len, v, sizeof(v));
		r->weight = strtol(v, NULL, 10);
	} else if (len > 12 && !strncasecmp(p, "Retry-After:", 12)) {
		header_value(p, len, v, sizeof(v));
		r->retry_after = strtol(v, NULL, 10);
	} else if (len > 13 && !strncasecmp(p, "Content-Type:", 13)) {
		header_value(p, len, r->ctype, sizeof(r->ctype));
	}
	return len;
}

static void resp_free(struct resp *r)
{
	free(r->body);
	memset(r, 0, sizeof(*r));
}

static void http_on(const struct proc *p, const char *method, long timeout_ms, struct resp *r,
		    const char *fmt, ...) __attribute__((format(printf, 5, 6)));
static void http_on(const struct proc *p, const char *method, long timeout_ms, struct resp *r,
		    const char *fmt, ...)
{
	char path[1024], url[1200];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(path, sizeof(path), fmt, ap);
	va_end(ap);
	snprintf(url, sizeof(url), "http://127.0.0.1:%d%s", p->port, path);
	memset(r, 0, sizeof(*r));
	r->weight = r->retry_after = -1;
	CURL *c = curl_easy_init();
	assert_non_null(c);
	curl_easy_setopt(c, CURLOPT_URL, url);
	curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, method);
	if (!strcmp(method, "POST"))
		curl_easy_setopt(c, CURLOPT_POSTFIELDS, "");
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_body);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, r);
	curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, on_header);
	curl_easy_setopt(c, CURLOPT_HEADERDATA, r);
	curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, timeout_ms);
	curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(c, CURLOPT_PROXY, "");
	r->cc = curl_easy_perform(c);
	curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &r->status);
	curl_easy_getinfo(c, CURLINFO_TOTAL_TIME, &r->secs);
	curl_easy_cleanup(c);
	if (!r->body)
		r->body = calloc(1, 1);
}

#define GET(r, ...) http_on(&g_fx, "GET", 5000, r, __VA_ARGS__)
#define CTL(...)                                                                                   \
	do {                                                                                       \
		struct resp ctl_r_;                                                                \
		http_on(&g_fx, "POST", 5000, &ctl_r_, __VA_ARGS__);                                \
		assert_int_equal(ctl_r_.cc, CURLE_OK);                                             \
		assert_int_equal(ctl_r_.status, 200);                                              \
		resp_free(&ctl_r_);                                                                \
	} while (0)

static json_t *parse(const struct resp *r)
{
	json_error_t e;
	json_t *j = json_loads(r->body, 0, &e);
	if (!j)
		fail_msg("not JSON (%s): %.200s", e.text, r->body);
	return j;
}

static void expect_error(const char *query, int code)
{
	struct resp r;
	GET(&r, "/fapi/v1/klines?%s", query);
	assert_int_equal(r.status, 400);
	json_t *j = parse(&r);
	assert_int_equal(json_integer_value(json_object_get(j, "code")), code);
	assert_true(json_is_string(json_object_get(j, "msg")));
	json_decref(j);
	resp_free(&r);
}

/* Field i of a candle as the text the CSV would hold. */
static void field_text(json_t *row, size_t i, char *out, size_t n)
{
	json_t *v = json_array_get(row, i);
	if (json_is_integer(v))
		snprintf(out, n, "%lld", (long long)json_integer_value(v));
	else if (json_is_string(v))
		snprintf(out, n, "%s", json_string_value(v));
	else
		snprintf(out, n, "?");
}

/* The CSV line opening at open_time in file, as 12 fields ("0" for absent ones). */
static int csv_fields(const char *file, long long open_time, char f[12][48])
{
	FILE *fp = fopen(file, "r");
	if (!fp)
		return -1;
	char line[512], key[32];
	int n = snprintf(key, sizeof(key), "%lld,", open_time), found = -1;
	while (fgets(line, sizeof(line), fp)) {
		if (strncmp(line, key, (size_t)n))
			continue;
		line[strcspn(line, "\r\n")] = '\0';
		int k = 0;
		for (char *s = line, *c; k < 12; s = c + 1) {
			c = strchr(s, ',');
			if (c)
				*c = '\0';
			snprintf(f[k++], 48, "%.47s", s);
			if (!c)
				break;
		}
		for (; k < 12; k++)
			snprintf(f[k], 48, "0");
		found = 0;
		break;
	}
	fclose(fp);
	return found;
}

static void assert_row_is_csv(json_t *row, const char *file)
{
	char f[12][48], got[48];
	assert_int_equal(json_array_size(row), 12);
	long long ot = (long long)json_integer_value(json_array_get(row, 0));
	assert_int_equal(csv_fields(file, ot, f), 0);
	for (size_t i = 0; i < 12; i++) {
		field_text(row, i, got, sizeof(got));
		assert_string_equal(got, f[i]);
	}
}

static json_t *klines(const char *query, struct resp *r)
{
	GET(r, "/fapi/v1/klines?%s", query);
	assert_int_equal(r->cc, CURLE_OK);
	assert_int_equal(r->status, 200);
	json_t *j = parse(r);
	assert_true(json_is_array(j));
	return j;
}

static long long ot(json_t *page, size_t i)
{
	return (long long)json_integer_value(json_array_get(json_array_get(page, i), 0));
}

static double num(json_t *row, size_t i)
{
	return strtod(json_string_value(json_array_get(row, i)), NULL);
}

/* --- setup ----------------------------------------------------------------------- */

static int group_setup(void **state)
{
	(void)state;
	const char *b = getenv("CK_BUILD"), *t = getenv("CK_TOP");
	snprintf(g_build, sizeof(g_build), "%s", b ? b : "build");
	snprintf(g_data, sizeof(g_data), "%s/build/testdata/binance", t ? t : ".");
	curl_global_init(CURL_GLOBAL_ALL);
	char now[32];
	snprintf(now, sizeof(now), "%lld", NOW0);
	const char *args[] = {"--data", g_data, "--synthetic", "2", "--now", now, NULL};
	if (fx_start(&g_fx, args)) {
		fprintf(stderr, "cannot start %s/fakex (data %s)\n", g_build, g_data);
		return -1;
	}
	return 0;
}

static int group_teardown(void **state)
{
	(void)state;
	int st = fx_stop(&g_fx);
	curl_global_cleanup();
	if (st != 0)
		fprintf(stderr, "fakex exited with %d after SIGTERM\n", st);
	return st == 0 ? 0 : -1;
}

/* Puts the shared instance back: clock, faults, weight, ban. */
static int reset(void **state)
{
	(void)state;
	struct resp r;
	const char *paths[] = {"/_ctl/faults?reset=1", "/_ctl/ban?seconds=0",
			       "/_ctl/weight?used=0"};
	for (size_t i = 0; i < 3; i++) {
		http_on(&g_fx, "POST", 5000, &r, "%s", paths[i]);
		int bad = r.status != 200;
		resp_free(&r);
		if (bad)
			return -1;
	}
	http_on(&g_fx, "POST", 5000, &r, "/_ctl/clock?set=%lld", NOW0);
	int bad = r.status != 200;
	resp_free(&r);
	return bad ? -1 : 0;
}

/* --- tests ----------------------------------------------------------------------- */

static void test_closed_candle_byte_for_byte(void **state)
{
	(void)state;
	struct resp r;
	json_t *p = klines("symbol=BTCUSDT&interval=4h&startTime=1709150400000&limit=1", &r);
	assert_non_null(strstr(r.body, "[[1709150400000,\"61032.80\",\"62710.00\",\"59840.50\","
				       "\"62487.90\",\"103584.338\",1709164799999,"
				       "\"6326076283.80371\",1337488,\"0\",\"0\",\"0\"]]"));
	char file[1200];
	snprintf(file, sizeof(file), "%s/BTCUSDT-4h.csv", g_data);
	assert_row_is_csv(json_array_get(p, 0), file);
	assert_string_equal(r.ctype, "application/json");
	json_decref(p);
	resp_free(&r);
}

static void test_start_end_limit_semantics(void **state)
{
	(void)state;
	struct resp r;
	json_t *p = klines("symbol=BTCUSDT&interval=4h&startTime=1709150400000&limit=3", &r);
	assert_int_equal(json_array_size(p), 3);
	for (size_t i = 0; i < 3; i++)
		assert_int_equal(ot(p, i), BTC_FIRST + (long long)i * H4);
	json_decref(p);
	resp_free(&r);

	p = klines("symbol=BTCUSDT&interval=4h&startTime=1709150400001&limit=1", &r);
	assert_int_equal(ot(p, 0), BTC_FIRST + H4);
	json_decref(p);
	resp_free(&r);

	/* startTime before the first candle: starts at the first candle */
	p = klines("symbol=BTCUSDT&interval=4h&startTime=1000&limit=2", &r);
	assert_int_equal(ot(p, 0), BTC_FIRST);
	json_decref(p);
	resp_free(&r);

	p = klines("symbol=BTCUSDT&interval=4h&endTime=1709193600000&limit=2", &r);
	assert_int_equal(json_array_size(p), 2);
	assert_int_equal(ot(p, 0), BTC_FIRST + H4 * 2);
	assert_int_equal(ot(p, 1), BTC_FIRST + H4 * 3);
	json_decref(p);
	resp_free(&r);

	p = klines(
		"symbol=BTCUSDT&interval=4h&startTime=1709150400000&endTime=1709179200000&limit=10",
		&r);
	assert_int_equal(json_array_size(p), 3);
	assert_int_equal(ot(p, 2), BTC_FIRST + H4 * 2);
	json_decref(p);
	resp_free(&r);

	/* both, limit smaller than the range: the first `limit` */
	p = klines(
		"symbol=BTCUSDT&interval=4h&startTime=1709150400000&endTime=1719179200000&limit=2",
		&r);
	assert_int_equal(json_array_size(p), 2);
	assert_int_equal(ot(p, 0), BTC_FIRST);
	json_decref(p);
	resp_free(&r);

	/* neither: the newest 500, ending with the forming candle */
	p = klines("symbol=BTCUSDT&interval=4h", &r);
	assert_int_equal(json_array_size(p), 500);
	assert_int_equal(ot(p, 499), 1773936000000LL);
	json_decref(p);
	resp_free(&r);

	p = klines("symbol=BTCUSDT&interval=4h&limit=1500", &r);
	assert_int_equal(json_array_size(p), 1500);
	for (size_t i = 1; i < 1500; i++)
		assert_int_equal(ot(p, i) - ot(p, i - 1), H4);
	json_decref(p);
	resp_free(&r);

	/* a valid interval without data, and a range after the data */
	p = klines("symbol=BTCUSDT&interval=1h", &r);
	assert_int_equal(json_array_size(p), 0);
	json_decref(p);
	resp_free(&r);
	p = klines("symbol=BTCUSDT&interval=4h&startTime=1773950400000", &r);
	assert_int_equal(json_array_size(p), 0);
	json_decref(p);
	resp_free(&r);
}

static void expect_weight(const char *limit, long w)
{
	for (int attempt = 0; attempt < 3; attempt++) { /* a wall-clock minute may roll */
		CTL("/_ctl/weight?used=0");
		struct resp r;
		GET(&r, "/fapi/v1/klines?symbol=ETHUSDT&interval=4h%s%s", *limit ? "&limit=" : "",
		    limit);
		assert_int_equal(r.status, 200);
		long got = r.weight;
		resp_free(&r);
		if (got == w)
			return;
	}
	fail_msg("limit %s: weight header is not %ld", limit, w);
}

static void test_weight_header(void **state)
{
	(void)state;
	expect_weight("1", 1);
	expect_weight("99", 1);
	expect_weight("100", 2);
	expect_weight("499", 2);
	expect_weight("", 5);
	expect_weight("1000", 5);
	expect_weight("1001", 10);
	expect_weight("1500", 10);
	for (int attempt = 0; attempt < 3; attempt++) {
		CTL("/_ctl/weight?used=0");
		struct resp a, b;
		GET(&a, "/fapi/v1/ping");
		GET(&b, "/fapi/v1/klines?symbol=ETHUSDT&interval=4h&limit=100");
		bool ok = a.weight == 1 && b.weight == 3;
		resp_free(&a);
		resp_free(&b);
		if (ok)
			return;
	}
	fail_msg("weights do not add up");
}

static void test_errors(void **state)
{
	(void)state;
	expect_error("symbol=NOPEUSDT&interval=4h", -1121);
	expect_error("symbol=BTCUSDT&interval=4x", -1120);
	expect_error("symbol=BTCUSDT&interval=4h&limit=0", -1130);
	expect_error("symbol=BTCUSDT&interval=4h&limit=1501", -1130);
	expect_error("symbol=BTCUSDT&interval=4h&limit=abc", -1130);
	expect_error("interval=4h", -1102);
	expect_error("symbol=&interval=4h", -1102);
	expect_error("symbol=BTCUSDT", -1102);
	struct resp r;
	GET(&r, "/fapi/v1/nope");
	assert_int_equal(r.status, 404);
	json_t *j = parse(&r);
	assert_true(json_is_integer(json_object_get(j, "code")));
	assert_true(r.weight >= 0);
	json_decref(j);
	resp_free(&r);
}

static void test_forming_candle(void **state)
{
	(void)state;
	struct resp r;
	/* the recorded last row, clock inside it */
	json_t *p = klines("symbol=BTCUSDT&interval=4h&limit=2", &r);
	json_t *last = json_array_get(p, 1);
	assert_int_equal(ot(p, 1), 1773936000000LL);
	assert_string_equal(json_string_value(json_array_get(last, 1)), "69372.80");
	assert_true(json_integer_value(json_array_get(last, 6)) > NOW0);
	assert_int_equal(json_integer_value(json_array_get(last, 6)), 1773936000000LL + H4 - 1);
	assert_string_not_equal(json_string_value(json_array_get(last, 4)), "70349.60");
	assert_true(num(last, 5) < 35933.731);
	assert_true(num(last, 2) >= num(last, 1) && num(last, 2) >= num(last, 4));
	assert_true(num(last, 3) <= num(last, 1) && num(last, 3) <= num(last, 4));
	/* the one before is closed: as in the file */
	char file[1200];
	snprintf(file, sizeof(file), "%s/BTCUSDT-4h.csv", g_data);
	assert_row_is_csv(json_array_get(p, 0), file);
	json_decref(p);
	resp_free(&r);

	/* a mid-history candle half elapsed; later candles do not exist yet */
	CTL("/_ctl/clock?set=%lld", BTC_FIRST + H4 / 2);
	p = klines("symbol=BTCUSDT&interval=4h&startTime=1709150400000&limit=5", &r);
	assert_int_equal(json_array_size(p), 1);
	assert_non_null(strstr(r.body, "[[1709150400000,\"61032.80\",\"61871.40\",\"60436.65\","
				       "\"61760.35\",\"51792.169\",1709164799999,"
				       "\"3163038141.90186\",668744,\"0\",\"0\",\"0\"]]"));
	json_decref(p);
	resp_free(&r);

	/* past the recorded last row's close: served as recorded */
	CTL("/_ctl/clock?set=%lld", 1773950400000LL + 86400000LL);
	p = klines("symbol=BTCUSDT&interval=4h&limit=1", &r);
	assert_row_is_csv(json_array_get(p, 0), file);
	assert_int_equal(json_integer_value(json_array_get(json_array_get(p, 0), 6)),
			 1773950399999LL);
	json_decref(p);
	resp_free(&r);
}

static void test_spot_holes(void **state)
{
	(void)state;
	struct proc sp = {0};
	char dir[1100];
	snprintf(dir, sizeof(dir), "%s/spot", g_data);
	const char *args[] = {"--data", dir, "--now", "1777593600000", NULL};
	assert_int_equal(fx_start(&sp, args), 0);
	struct resp r;
	http_on(&sp, "GET", 5000, &r,
		"/fapi/v1/klines?symbol=BTCUSDT&interval=4h&startTime=1518048000000&limit=3");
	assert_int_equal(r.status, 200);
	json_t *p = parse(&r);
	assert_int_equal(json_array_size(p), 3);
	assert_int_equal(ot(p, 0), 1518048000000LL);
	/* 2018-02-08 04:00 .. 2018-02-09 04:00 are missing */
	assert_int_equal(ot(p, 1), 1518163200000LL);
	char file[1200];
	snprintf(file, sizeof(file), "%s/BTCUSDT-4h.csv", dir);
	for (size_t i = 0; i < 3; i++)
		assert_row_is_csv(json_array_get(p, i), file);
	json_decref(p);
	resp_free(&r);
	/* the short 58-second candle of 2021-04-25 04:00, served as recorded */
	http_on(&sp, "GET", 5000, &r,
		"/fapi/v1/klines?symbol=BTCUSDT&interval=4h&startTime=1619323200000&limit=1");
	p = parse(&r);
	assert_int_equal(json_integer_value(json_array_get(json_array_get(p, 0), 6)),
			 1619323200000LL + 58146);
	assert_row_is_csv(json_array_get(p, 0), file);
	json_decref(p);
	resp_free(&r);
	assert_int_equal(fx_stop(&sp), 0);
}

static void test_exchange_info(void **state)
{
	(void)state;
	char file[1200];
	snprintf(file, sizeof(file), "%s/exchangeInfo-fapi.json", g_data);
	json_error_t e;
	json_t *rec = json_load_file(file, 0, &e);
	assert_non_null(rec);
	struct resp r;
	GET(&r, "/fapi/v1/exchangeInfo");
	assert_int_equal(r.status, 200);
	json_t *j = parse(&r);
	const char *k;
	json_t *v;
	json_object_foreach(rec, k, v)
	{
		if (!json_object_get(j, k))
			fail_msg("exchangeInfo lacks top-level key %s", k);
	}
	assert_int_equal(json_integer_value(json_object_get(j, "serverTime")), NOW0);
	assert_int_equal(json_integer_value(json_object_get(
				 json_array_get(json_object_get(j, "rateLimits"), 0), "limit")),
			 2400);
	json_t *recbtc = json_array_get(json_object_get(rec, "symbols"), 0);
	json_t *syms = json_object_get(j, "symbols"), *btc = NULL;
	size_t i;
	json_array_foreach(syms, i, v)
	{
		if (!strcmp(json_string_value(json_object_get(v, "symbol")), "BTCUSDT"))
			btc = v;
		assert_string_equal(json_string_value(json_object_get(v, "contractType")),
				    "PERPETUAL");
	}
	assert_int_equal(json_array_size(syms), 43 + 2);
	assert_non_null(btc);
	json_object_foreach(recbtc, k, v)
	{
		if (!json_object_get(btc, k))
			fail_msg("exchangeInfo symbol lacks key %s", k);
	}
	assert_int_equal(json_integer_value(json_object_get(btc, "onboardDate")), BTC_FIRST);
	assert_string_equal(json_string_value(json_object_get(btc, "status")), "TRADING");
	assert_string_equal(json_string_value(json_object_get(btc, "pair")), "BTCUSDT");
	assert_string_equal(json_string_value(json_object_get(btc, "baseAsset")), "BTC");
	json_decref(j);
	json_decref(rec);
	resp_free(&r);

	/* before CFGUSDT's first candle (2026-03-16 12:00) it is not listed */
	CTL("/_ctl/clock?set=1773000000000");
	GET(&r, "/fapi/v1/exchangeInfo");
	assert_null(strstr(r.body, "\"CFGUSDT\""));
	assert_non_null(strstr(r.body, "\"BTCUSDT\""));
	resp_free(&r);
	expect_error("symbol=CFGUSDT&interval=4h", -1121);
}

static void test_time_ping_date(void **state)
{
	(void)state;
	struct resp r;
	GET(&r, "/fapi/v1/time");
	assert_int_equal(r.status, 200);
	json_t *j = parse(&r);
	assert_int_equal(json_integer_value(json_object_get(j, "serverTime")), NOW0);
	json_decref(j);
	/* Date is the fake clock, not the wall clock */
	char want[80];
	time_t s = (time_t)(NOW0 / 1000);
	struct tm tm;
	gmtime_r(&s, &tm);
	strftime(want, sizeof(want), "%a, %d %b %Y %H:%M:%S GMT", &tm);
	assert_string_equal(r.date, want);
	assert_true(r.weight >= 1);
	resp_free(&r);

	GET(&r, "/fapi/v1/ping");
	assert_int_equal(r.status, 200);
	assert_string_equal(r.body, "{}");
	resp_free(&r);
}

static void test_clock_control(void **state)
{
	(void)state;
	struct resp r;
	http_on(&g_fx, "POST", 5000, &r, "/_ctl/clock?advance=%lld", H4 * 6);
	json_t *j = parse(&r);
	assert_int_equal(json_integer_value(json_object_get(j, "now")), NOW0 + H4 * 6);
	json_decref(j);
	resp_free(&r);
	GET(&r, "/fapi/v1/time");
	j = parse(&r);
	assert_int_equal(json_integer_value(json_object_get(j, "serverTime")), NOW0 + H4 * 6);
	json_decref(j);
	resp_free(&r);
	http_on(&g_fx, "GET", 5000, &r, "/_ctl/state");
	j = parse(&r);
	assert_int_equal(json_integer_value(json_object_get(j, "now")), NOW0 + H4 * 6);
	assert_true(json_is_object(json_object_get(j, "requests")));
	json_decref(j);
	resp_free(&r);
	/* SIGUSR1 advances by 4h */
	kill(g_fx.pid, SIGUSR1);
	long long now = 0;
	for (int i = 0; i < 200 && now != NOW0 + H4 * 7; i++) {
		GET(&r, "/fapi/v1/time");
		j = parse(&r);
		now = (long long)json_integer_value(json_object_get(j, "serverTime"));
		json_decref(j);
		resp_free(&r);
		if (now != NOW0 + H4 * 7)
			usleep(5000);
	}
	assert_int_equal(now, NOW0 + H4 * 7);
}

static void test_weight_429_then_418(void **state)
{
	(void)state;
	struct resp r;
	for (int attempt = 0;; attempt++) {
		CTL("/_ctl/weight?used=2400");
		GET(&r, "/fapi/v1/ping");
		if (r.status == 429 || attempt == 2)
			break;
		resp_free(&r); /* the wall-clock minute rolled between the two requests */
	}
	assert_int_equal(r.status, 429);
	assert_true(r.retry_after >= 1 && r.retry_after <= 60);
	assert_non_null(strstr(r.body, "\"code\":-1003"));
	assert_non_null(strstr(r.body, "request weight per minute is 2400"));
	resp_free(&r);
	/* ignoring Retry-After: banned */
	GET(&r, "/fapi/v1/klines?symbol=BTCUSDT&interval=4h&limit=1");
	assert_int_equal(r.status, 418);
	assert_int_equal(r.retry_after, 120);
	assert_non_null(strstr(r.body, "Way too many requests"));
	resp_free(&r);
	for (int i = 0; i < 3; i++) {
		GET(&r, i == 0 ? "/fapi/v1/time" : "/fapi/v1/ping");
		assert_int_equal(r.status, 418);
		assert_true(r.retry_after >= 118 && r.retry_after <= 120);
		resp_free(&r);
	}
	/* control still works during a ban and lifts it */
	CTL("/_ctl/ban?seconds=0");
	CTL("/_ctl/weight?used=0");
	GET(&r, "/fapi/v1/ping");
	assert_int_equal(r.status, 200);
	resp_free(&r);
	CTL("/_ctl/ban?seconds=30");
	GET(&r, "/fapi/v1/ping");
	assert_int_equal(r.status, 418);
	assert_true(r.retry_after >= 29 && r.retry_after <= 30);
	resp_free(&r);
}

static void test_fault_5xx(void **state)
{
	(void)state;
	CTL("/_ctl/faults?p5xx=1");
	int seen[4] = {0};
	for (int i = 0; i < 24; i++) {
		struct resp r;
		GET(&r, "/fapi/v1/klines?symbol=BTCUSDT&interval=4h&limit=1");
		assert_true(r.status == 500 || r.status == 502 || r.status == 503 ||
			    r.status == 504);
		seen[r.status == 500 ? 0 : r.status == 502 ? 1 : r.status == 503 ? 2 : 3]++;
		resp_free(&r);
	}
	for (int i = 0; i < 4; i++) /* all four kinds, P(miss) = 4 * 0.75^24 */
		assert_true(seen[i] > 0);
	struct resp r;
	http_on(&g_fx, "GET", 5000, &r, "/_ctl/state"); /* control is never faulted */
	assert_int_equal(r.status, 200);
	resp_free(&r);
}

static void test_fault_429_418(void **state)
{
	(void)state;
	CTL("/_ctl/faults?p429=1&retry_after=3");
	struct resp r;
	GET(&r, "/fapi/v1/ping");
	assert_int_equal(r.status, 429);
	assert_int_equal(r.retry_after, 3);
	resp_free(&r);
	CTL("/_ctl/faults?reset=1&p418=1");
	GET(&r, "/fapi/v1/ping");
	assert_int_equal(r.status, 418);
	assert_int_equal(r.retry_after, 120);
	resp_free(&r);
	CTL("/_ctl/faults?reset=1");
	GET(&r, "/fapi/v1/time"); /* the ban goes on */
	assert_int_equal(r.status, 418);
	resp_free(&r);
}

/* The knobs for the trust tests: a /time clock offset, klines answering [] for a
 * startTime range, faults aimed at one path, and a forced Retry-After header. */
static void test_trust_knobs(void **state)
{
	(void)state;
	struct resp r;
	CTL("/_ctl/faults?time_offset_ms=14400000");
	GET(&r, "/fapi/v1/time");
	json_t *j = parse(&r);
	assert_int_equal(json_integer_value(json_object_get(j, "serverTime")), NOW0 + 14400000);
	json_decref(j);
	resp_free(&r);
	CTL("/_ctl/faults?reset=1&empty_from=1773000000000&empty_to=1773100000000");
	GET(&r, "/fapi/v1/klines?symbol=BTCUSDT&interval=4h&startTime=1773014400000&limit=3");
	assert_int_equal(r.status, 200);
	assert_string_equal(r.body, "[]");
	resp_free(&r);
	GET(&r, "/fapi/v1/klines?symbol=BTCUSDT&interval=4h&startTime=1772985600000&limit=3");
	assert_int_equal(r.status, 200);
	assert_true(strlen(r.body) > 10);
	resp_free(&r);
	CTL("/_ctl/faults?reset=1&path=klines&p429=1&retry_after_force=1000000000000");
	GET(&r, "/fapi/v1/time");
	assert_int_equal(r.status, 200);
	resp_free(&r);
	GET(&r, "/fapi/v1/klines?symbol=BTCUSDT&interval=4h&limit=1");
	assert_int_equal(r.status, 429);
	assert_int_equal(r.retry_after, 1000000000000L);
	resp_free(&r);
	CTL("/_ctl/faults?reset=1&retry_after_force=77");
	CTL("/_ctl/ban?seconds=5");
	GET(&r, "/fapi/v1/ping");
	assert_int_equal(r.status, 418);
	assert_int_equal(r.retry_after, 77);
	resp_free(&r);
}

static void test_fault_hang(void **state)
{
	(void)state;
	CTL("/_ctl/faults?phang=1");
	struct resp r;
	http_on(&g_fx, "GET", 300, &r, "/fapi/v1/ping");
	assert_int_equal(r.cc, CURLE_OPERATION_TIMEDOUT);
	resp_free(&r);
	/* other connections are not blocked */
	CTL("/_ctl/faults?phang=0");
	GET(&r, "/fapi/v1/ping");
	assert_int_equal(r.status, 200);
	resp_free(&r);
	/* hang_ms bounds it: the connection closes without a response */
	CTL("/_ctl/faults?phang=1&hang_ms=100");
	http_on(&g_fx, "GET", 3000, &r, "/fapi/v1/ping");
	assert_int_not_equal(r.cc, CURLE_OK);
	assert_int_not_equal(r.cc, CURLE_OPERATION_TIMEDOUT);
	resp_free(&r);
	CTL("/_ctl/faults?phang=1&hang_ms=600000"); /* leave one hung at shutdown */
	http_on(&g_fx, "GET", 200, &r, "/fapi/v1/time");
	assert_int_equal(r.cc, CURLE_OPERATION_TIMEDOUT);
	resp_free(&r);
}

static void test_fault_trunc_malformed_latency(void **state)
{
	(void)state;
	CTL("/_ctl/faults?ptrunc=1");
	struct resp r;
	GET(&r, "/fapi/v1/klines?symbol=BTCUSDT&interval=4h&limit=100");
	assert_int_equal(r.status, 200);
	assert_int_equal(r.cc, CURLE_PARTIAL_FILE);
	resp_free(&r);
	CTL("/_ctl/faults?reset=1&pmalformed=1");
	GET(&r, "/fapi/v1/klines?symbol=BTCUSDT&interval=4h&limit=100");
	assert_int_equal(r.cc, CURLE_OK);
	assert_int_equal(r.status, 200);
	json_error_t e;
	json_t *j = json_loads(r.body, 0, &e);
	assert_null(j);
	assert_true(r.len > 1000);
	resp_free(&r);
	GET(&r, "/fapi/v1/exchangeInfo");
	assert_null(json_loads(r.body, 0, &e));
	resp_free(&r);
	CTL("/_ctl/faults?reset=1&latency_ms=250");
	GET(&r, "/fapi/v1/ping");
	assert_int_equal(r.status, 200);
	assert_true(r.secs >= 0.25);
	resp_free(&r);
}

static bool page_has_high_below_low(json_t *p)
{
	size_t i;
	json_t *row;
	json_array_foreach(p, i, row)
	{
		if (num(row, 2) < num(row, 3))
			return true;
	}
	return false;
}

static void test_invalid_symbol(void **state)
{
	(void)state;
	CTL("/_ctl/faults?invalid_symbol=BTCUSDT");
	struct resp r;
	json_t *p = klines("symbol=BTCUSDT&interval=4h&limit=10", &r);
	assert_true(page_has_high_below_low(p));
	json_decref(p);
	resp_free(&r);
	p = klines("symbol=ETHUSDT&interval=4h&limit=10", &r);
	assert_false(page_has_high_below_low(p));
	json_decref(p);
	resp_free(&r);
	CTL("/_ctl/faults?invalid_symbol=-");
	p = klines("symbol=BTCUSDT&interval=4h&limit=10", &r);
	assert_false(page_has_high_below_low(p));
	json_decref(p);
	resp_free(&r);
}

static void test_symbol_control(void **state)
{
	(void)state;
	struct resp r;
	CTL("/_ctl/symbol?symbol=ETHUSDT&status=BREAK");
	GET(&r, "/fapi/v1/exchangeInfo");
	json_t *j = parse(&r), *v;
	size_t i;
	bool found = false;
	json_array_foreach(json_object_get(j, "symbols"), i, v)
	{
		if (!strcmp(json_string_value(json_object_get(v, "symbol")), "ETHUSDT")) {
			assert_string_equal(json_string_value(json_object_get(v, "status")),
					    "BREAK");
			found = true;
		}
	}
	assert_true(found);
	json_decref(j);
	resp_free(&r);
	CTL("/_ctl/symbol?symbol=ETHUSDT&remove=1");
	expect_error("symbol=ETHUSDT&interval=4h", -1121);
	GET(&r, "/fapi/v1/exchangeInfo");
	assert_null(strstr(r.body, "\"ETHUSDT\""));
	resp_free(&r);
	CTL("/_ctl/symbol?symbol=ETHUSDT&remove=0&status=TRADING");
	json_decref(klines("symbol=ETHUSDT&interval=4h&limit=1", &r));
	resp_free(&r);
	http_on(&g_fx, "POST", 5000, &r, "/_ctl/symbol?symbol=NOPE&status=BREAK");
	assert_int_equal(r.status, 400);
	resp_free(&r);
}

static void test_synthetic(void **state)
{
	(void)state;
	static const struct {
		const char *iv;
		long long ms;
	} ivs[] = {{"1m", 60000}, {"1h", 3600000}, {"4h", H4}, {"1d", 86400000}, {"1w", 604800000}};
	for (size_t k = 0; k < sizeof(ivs) / sizeof(ivs[0]); k++) {
		struct resp r;
		char q[200];
		snprintf(q, sizeof(q), "symbol=SYN001USDT&interval=%s&limit=1500", ivs[k].iv);
		json_t *p = klines(q, &r);
		assert_true(json_array_size(p) > 0);
		size_t i;
		json_t *row;
		json_array_foreach(p, i, row)
		{
			double o = num(row, 1), h = num(row, 2), l = num(row, 3), c = num(row, 4);
			assert_true(h >= o && h >= c && l <= o && l <= c && l > 0);
			assert_true(num(row, 5) >= 0);
			assert_int_equal(json_integer_value(json_array_get(row, 6)),
					 ot(p, i) + ivs[k].ms - 1);
			assert_true(ot(p, i) <= NOW0);
			if (i)
				assert_int_equal(ot(p, i) - ot(p, i - 1), ivs[k].ms);
		}
		json_decref(p);
		resp_free(&r);
	}
	/* deterministic, and 1M is calendar months */
	struct resp a, b;
	json_t *p = klines("symbol=SYN000USDT&interval=1M&startTime=1567296000000&limit=3", &a);
	assert_int_equal(ot(p, 0), 1567296000000LL); /* 2019-09-01 */
	assert_int_equal(ot(p, 1), 1569888000000LL); /* 2019-10-01 */
	assert_int_equal(ot(p, 2), 1572566400000LL); /* 2019-11-01 */
	json_decref(p);
	json_decref(klines("symbol=SYN000USDT&interval=1M&startTime=1567296000000&limit=3", &b));
	assert_string_equal(a.body, b.body);
	resp_free(&a);
	resp_free(&b);
	/* nothing before --synthetic-start */
	p = klines("symbol=SYN000USDT&interval=4h&endTime=1567296000000", &a);
	assert_int_equal(json_array_size(p), 1);
	assert_int_equal(ot(p, 0), 1567296000000LL);
	json_decref(p);
	resp_free(&a);
}

static void test_request_log(void **state)
{
	(void)state;
	struct resp r;
	GET(&r, "/fapi/v1/klines?symbol=BTCUSDT&interval=4h&limit=3&startTime=1709150400000");
	resp_free(&r);
	CTL("/_ctl/weight?used=7");
	char path[300], line[4096];
	path_in(&g_fx, "requests.log", path, sizeof(path));
	FILE *f = fopen(path, "r");
	assert_non_null(f);
	bool kl = false, ctl = false, fault = false;
	int lines = 0;
	while (fgets(line, sizeof(line), f)) {
		json_error_t e;
		json_t *j = json_loads(line, 0, &e);
		assert_non_null(j);
		lines++;
		static const char *const keys[] = {"t",     "now",    "method", "path",
						   "query", "status", "weight", "fault"};
		for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++)
			if (!json_object_get(j, keys[i]))
				fail_msg("log line lacks %s: %s", keys[i], line);
		const char *p = json_string_value(json_object_get(j, "path"));
		const char *q = json_string_value(json_object_get(j, "query"));
		if (!strcmp(p, "/fapi/v1/klines") &&
		    !strcmp(q, "symbol=BTCUSDT&interval=4h&limit=3&startTime=1709150400000")) {
			kl = json_integer_value(json_object_get(j, "status")) == 200 &&
			     !strcmp(json_string_value(json_object_get(j, "method")), "GET") &&
			     json_integer_value(json_object_get(j, "now")) == NOW0 &&
			     json_is_null(json_object_get(j, "fault"));
		}
		if (!strcmp(p, "/_ctl/weight") && !strcmp(q, "used=7"))
			ctl = json_integer_value(json_object_get(j, "weight")) == 7 &&
			      !strcmp(json_string_value(json_object_get(j, "method")), "POST");
		json_t *fv = json_object_get(j, "fault");
		if (json_is_string(fv) && !strcmp(json_string_value(fv), "p5xx"))
			fault = true;
		json_decref(j);
	}
	fclose(f);
	assert_true(lines > 20);
	assert_true(kl);
	assert_true(ctl);
	assert_true(fault);
}

static void test_bad_startup(void **state)
{
	(void)state;
	char err[2048];
	const char *bad_flag[] = {"--data", g_data, "--bogus", NULL};
	assert_int_equal(fx_fail(bad_flag, err, sizeof(err)), 2);
	assert_non_null(strstr(err, "--bogus"));
	const char *bad_dir[] = {"--data", "/nonexistent/fakex-data", NULL};
	assert_int_equal(fx_fail(bad_dir, err, sizeof(err)), 2);
	assert_non_null(strstr(err, "/nonexistent/fakex-data"));
	const char *bad_p[] = {"--synthetic", "1", "--p5xx", "1.5", NULL};
	assert_int_equal(fx_fail(bad_p, err, sizeof(err)), 2);
	assert_non_null(strstr(err, "--p5xx"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup(test_closed_candle_byte_for_byte, reset),
		cmocka_unit_test_setup(test_start_end_limit_semantics, reset),
		cmocka_unit_test_setup(test_weight_header, reset),
		cmocka_unit_test_setup(test_errors, reset),
		cmocka_unit_test_setup(test_forming_candle, reset),
		cmocka_unit_test_setup(test_spot_holes, reset),
		cmocka_unit_test_setup(test_exchange_info, reset),
		cmocka_unit_test_setup(test_time_ping_date, reset),
		cmocka_unit_test_setup(test_clock_control, reset),
		cmocka_unit_test_setup(test_weight_429_then_418, reset),
		cmocka_unit_test_setup(test_fault_5xx, reset),
		cmocka_unit_test_setup(test_fault_429_418, reset),
		cmocka_unit_test_setup(test_fault_trunc_malformed_latency, reset),
		cmocka_unit_test_setup(test_invalid_symbol, reset),
		cmocka_unit_test_setup(test_symbol_control, reset),
		cmocka_unit_test_setup(test_synthetic, reset),
		cmocka_unit_test_setup(test_request_log, reset),
		cmocka_unit_test_setup(test_bad_startup, reset),
		cmocka_unit_test_setup(test_trust_knobs, reset),
		cmocka_unit_test_setup(test_fault_hang, reset), /* last: leaves a hung request */
	};
	return cmocka_run_group_tests_name("fakex", tests, group_setup, group_teardown);
}
