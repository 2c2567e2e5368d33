/* test_cfg.c — the configuration table: defaults, the four layers and their order,
 * every type's parse and range errors with their exact messages, secrets (file mode,
 * masking), symbols, derived values, and that the checked-in example has not drifted
 * from the table. Files are written in a private mkdtemp directory. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cfg.h"
#include "err.h"
#include "banned.h"
#include "test_tmp.h"

#define SECRET "xoxb-very-secret-token-4711"

struct fixture {
	char dir[64];
	struct cfg c;
	struct ck_err err;
};

static int setup(void **state)
{
	struct fixture *fx = calloc(1, sizeof(*fx));

	assert_non_null(fx);
	test_tmp_template(fx->dir, sizeof(fx->dir), "ck-test-cfg");
	assert_non_null(mkdtemp(fx->dir));
	assert_int_equal(cfg_init(&fx->c, &fx->err), 0);
	*state = fx;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *fx = *state;
	char cmd[128];

	cfg_release(&fx->c);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", fx->dir);
	assert_int_equal(system(cmd), 0);
	free(fx);
	return 0;
}

/* Writes text to dir/name with mode; returns the path (static buffer per call site). */
static void write_file(const struct fixture *fx, const char *name, const char *text, mode_t mode,
		       char *path, size_t n)
{
	FILE *f;

	snprintf(path, n, "%s/%s", fx->dir, name);
	f = fopen(path, "w");
	assert_non_null(f);
	assert_int_equal(fputs(text, f) >= 0, 1);
	assert_int_equal(fclose(f), 0);
	assert_int_equal(chmod(path, mode), 0);
}

/* Loads text as an INI file named "t.ini" (mode 0644) and returns cfg_load_file's code. */
static int load_text(struct fixture *fx, const char *text)
{
	char path[128];

	write_file(fx, "t.ini", text, 0644, path, sizeof(path));
	return cfg_load_file(&fx->c, path, &fx->err);
}

/* Asserts that loading text fails with CK_EUSAGE and "<dir>/t.ini:" + want. */
static void expect_file_error(struct fixture *fx, const char *text, const char *want)
{
	char full[400];

	memset(&fx->err, 0, sizeof(fx->err));
	assert_int_equal(load_text(fx, text), CK_EUSAGE);
	assert_int_equal(fx->err.code, CK_EUSAGE);
	snprintf(full, sizeof(full), "%s/t.ini:%s", fx->dir, want);
	assert_string_equal(fx->err.msg, full);
}

static char *print_cfg(const struct cfg *c)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	assert_non_null(f);
	assert_int_equal(cfg_print(c, f), 0);
	assert_int_equal(fclose(f), 0);
	return buf;
}

static void test_defaults(void **state)
{
	struct fixture *fx = *state;
	struct cfg *c = &fx->c;

	assert_string_equal(c->db, "candles.db");
	assert_string_equal(c->base_url, "https://fapi.binance.com");
	assert_string_equal(c->symbols, "default");
	assert_string_equal(c->interval, "4h");
	assert_int_equal(c->history_days, 90);
	assert_int_equal(c->concurrency, 64);
	assert_int_equal(c->timeout_s, 1800);
	assert_int_equal(c->page_limit, 0);
	assert_int_equal(c->lookback, 0);
	assert_int_equal(c->gap_repair, 1);
	assert_int_equal(c->weight_limit, 0);
	assert_int_equal(c->weight_reserve_pct, 10);
	assert_int_equal(c->connect_timeout_ms, 10000);
	assert_int_equal(c->request_timeout_ms, 30000);
	assert_int_equal(c->retry_net_max, 3);
	assert_int_equal(c->retry_net_base_ms, 1000);
	assert_int_equal(c->retry_429_max, 2);
	assert_int_equal(c->retry_429_default_s, 60);
	assert_int_equal(c->retry_429_jitter_s, 30);
	assert_int_equal(c->retry_5xx_max, 2);
	assert_int_equal(c->retry_5xx_base_ms, 2000);
	assert_string_equal(c->user_agent, "candlekeep/0.1");
	assert_string_equal(c->log_format, "text");
	assert_string_equal(c->log_level, "info");
	assert_string_equal(c->log_dir, "");
	assert_int_equal(c->backup_hot_days, 14);
	assert_int_equal(c->backup_warm_days, 30);
	assert_int_equal(c->backup_offsite_days, 90);
	assert_string_equal(c->s3_prefix, "candlekeep/");
	assert_string_equal(c->s3_region, "us-east-1");
	assert_string_equal(c->s3_storage_class, "STANDARD_IA");
	assert_string_equal(c->s3_access_key, "");
	assert_string_equal(c->pagerduty_url, "https://events.pagerduty.com/v2/enqueue");
	assert_int_equal(c->alert_repeat_s, 4 * 3600);
	assert_int_equal(c->alert_timeout_ms, 10000);
	assert_string_equal(c->metrics_listen, "127.0.0.1:9464");
	assert_int_equal(c->disk_warn_pct, 10);
	assert_int_equal(c->disk_crit_pct, 5);
	assert_string_equal(c->sched_sync, "5 0,4,8,12,16,20 * * *");
	assert_string_equal(c->sched_backup, "0 2 * * *");
	assert_string_equal(c->sched_health, "0 */6 * * *");
	assert_string_equal(c->sched_audit, "0 3 1 * *");
	assert_int_equal(c->sla_rpo_s, 7200);
	assert_int_equal(c->sla_rto_s, 1800);
	assert_string_equal(c->sla_availability, "99.5");
	for (size_t i = 0; i < sizeof(c->origin); i++)
		assert_int_equal(c->origin[i], 0);

	assert_int_equal(cfg_finish(c, &fx->err), 0);
	assert_int_equal(c->interval_ms, 4 * 3600 * 1000);
	assert_string_equal(c->backup_hot_dir, "backups/hot");
	assert_string_equal(c->backup_warm_dir, "backups/warm");
	/* 4h candles, syncs 5 past every 4th hour: P 4h + lag 5m + 1h; crit + 4h */
	assert_int_equal(c->stale_warn_s, 5 * 3600 + 5 * 60);
	assert_int_equal(c->stale_crit_s, 9 * 3600 + 5 * 60);
}

static void test_backup_dirs_beside_db(void **state)
{
	struct fixture *fx = *state;

	assert_int_equal(cfg_set(&fx->c, "main", "db", "/var/lib/ck/candles.db", "--db", &fx->err),
			 0);
	assert_int_equal(cfg_set(&fx->c, "backup", "warm_dir", "/mnt/other", "--x", &fx->err), 0);
	assert_int_equal(cfg_finish(&fx->c, &fx->err), 0);
	assert_string_equal(fx->c.backup_hot_dir, "/var/lib/ck/backups/hot");
	assert_string_equal(fx->c.backup_warm_dir, "/mnt/other");
}

static void test_precedence(void **state)
{
	struct fixture *fx = *state;
	char *const env[] = {
		"PATH=/bin",
		"CANDLEKEEP_SYNC_CONCURRENCY=16",
		"CANDLEKEEP_MAIN_DB=env.db",
		"CANDLEKEEP_FAULT_WRITE=3",
		"CANDLEKEEP_TEST_HOOK=1",
		NULL,
	};
	char want[300], *out;

	assert_int_equal(load_text(fx, "; comment\n[main]\ndb = file.db\nhistory_days = 7\n"
				       "[sync]\nconcurrency = 8\npage_limit = 100\n"),
			 0);
	assert_int_equal(fx->c.concurrency, 8);
	assert_int_equal(cfg_load_env(&fx->c, env, &fx->err), 0);
	assert_int_equal(fx->c.concurrency, 16);
	assert_string_equal(fx->c.db, "env.db");
	assert_int_equal(fx->c.history_days, 7);
	assert_int_equal(fx->c.page_limit, 100);
	assert_int_equal(cfg_set(&fx->c, "sync", "concurrency", "24", "--concurrency", &fx->err),
			 0);
	assert_int_equal(fx->c.concurrency, 24);

	out = print_cfg(&fx->c);
	snprintf(want, sizeof(want), "# from: %s/t.ini:4\nhistory_days = 7\n", fx->dir);
	assert_non_null(strstr(out, want));
	assert_non_null(strstr(out, "# from: env CANDLEKEEP_MAIN_DB\ndb = env.db\n"));
	assert_non_null(strstr(out, "# from: flag\nconcurrency = 24\n"));
	assert_non_null(strstr(out, "# from: default\ninterval = 4h\n"));
	assert_non_null(strstr(out, "\n[sync]\n"));
	free(out);
}

static void test_int_errors(void **state)
{
	struct fixture *fx = *state;

	expect_file_error(fx, "[sync]\nconcurrency = 999\n",
			  "2: [sync] concurrency = 999: must be 1..64");
	expect_file_error(fx, "[sync]\n\nconcurrency = 0\n",
			  "3: [sync] concurrency = 0: must be 1..64");
	expect_file_error(fx, "[sync]\nconcurrency = 12abc\n",
			  "2: [sync] concurrency = 12abc: not a whole number");
	expect_file_error(fx, "[sync]\nconcurrency = \n",
			  "2: [sync] concurrency = : not a whole number");
	expect_file_error(fx, "[sync]\npage_limit = 99999999999999999999999\n",
			  "2: [sync] page_limit = 99999999999999999999999: must be 0..1500");
	expect_file_error(fx, "[http]\nretry_net_max = -1\n",
			  "2: [http] retry_net_max = -1: must be 0..20");
	assert_int_equal(fx->c.concurrency, 64); /* failed sets change nothing */
	assert_int_equal(load_text(fx, "[sync]\nconcurrency = 48\n"), 0);
	assert_int_equal(fx->c.concurrency, 48);
}

static void test_duration(void **state)
{
	struct fixture *fx = *state;
	static const struct {
		const char *text;
		int64_t s;
	} ok[] = {
		{"90", 90},      {"90s", 90},        {"15m", 900},     {"4h", 14400},
		{"2d", 172800},  {"0", 0},           {"5h5m", 18300},  {"5h05m", 18300},
		{"1d2h", 93600}, {"1h30m15s", 5415}, {"2d0h", 172800},
	};
	char text[64];

	for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
		snprintf(text, sizeof(text), "[sync]\ntimeout = %s\n", ok[i].text);
		assert_int_equal(load_text(fx, text), 0);
		assert_int_equal(fx->c.timeout_s, ok[i].s);
	}
	expect_file_error(
		fx, "[sync]\ntimeout = 5x\n",
		"2: [sync] timeout = 5x: not a duration (use e.g. 90, 90s, 15m, 4h, 2d or 5h5m)");
	expect_file_error(
		fx, "[sync]\ntimeout = 4hh\n",
		"2: [sync] timeout = 4hh: not a duration (use e.g. 90, 90s, 15m, 4h, 2d or 5h5m)");
	expect_file_error(
		fx, "[sync]\ntimeout = -4h\n",
		"2: [sync] timeout = -4h: not a duration (use e.g. 90, 90s, 15m, 4h, 2d or 5h5m)");
	/* parts: units largest first, each once, every number with its unit */
	static const char *const bad[] = {"1m1h", "5h5",   "5hm",   "1d1d",
					  "h",    "5h 5m", "5h-5m", "1h+5m"};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		char want[200];
		snprintf(text, sizeof(text), "[sync]\ntimeout = %s\n", bad[i]);
		snprintf(want, sizeof(want),
			 "2: [sync] timeout = %s: not a duration (use e.g. "
			 "90, 90s, 15m, 4h, 2d or 5h5m)",
			 bad[i]);
		expect_file_error(fx, text, want);
	}
	expect_file_error(fx, "[sync]\ntimeout = 8d\n", "2: [sync] timeout = 8d: must be 0..7d");
	expect_file_error(fx, "[sync]\ntimeout = 6d24h1s\n",
			  "2: [sync] timeout = 6d24h1s: must be 0..7d");
	expect_file_error(fx, "[health]\nstale_warn = 106751991167300d16h\n",
			  "2: [health] stale_warn = 106751991167300d16h: must be 0..30d");
	expect_file_error(fx, "[audit]\nrpo = 30s\n", "2: [audit] rpo = 30s: must be 1m..30d");
	expect_file_error(fx, "[sync]\ntimeout = 999999999999999999d\n",
			  "2: [sync] timeout = 999999999999999999d: must be 0..7d");
}

/* What `candlekeep config` prints for a duration reads back as the same seconds:
 * whole days as "Nd", else hours, minutes, seconds with the zero parts left out. */
static void test_duration_round_trip(void **state)
{
	struct fixture *fx = *state;
	static const struct {
		int64_t s;
		const char *text;
	} cases[] = {
		{0, "0"},         {59, "59s"},      {90, "1m30s"},   {900, "15m"},  {3600, "1h"},
		{3661, "1h1m1s"}, {18300, "5h5m"},  {32700, "9h5m"}, {86400, "1d"}, {93600, "26h"},
		{108000, "30h"},  {86401, "24h1s"}, {604800, "7d"},  {7200, "2h"},
	};
	char text[96], want[64], *out, *line;

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		/* seconds in, the compact text out */
		snprintf(text, sizeof(text), "[sync]\ntimeout = %lld\n", (long long)cases[i].s);
		assert_int_equal(load_text(fx, text), 0);
		out = print_cfg(&fx->c);
		snprintf(want, sizeof(want), "\ntimeout = %s\n", cases[i].text);
		line = strstr(out, want);
		if (!line)
			fail_msg("%lld s printed as something else than %s", (long long)cases[i].s,
				 cases[i].text);
		free(out);
		/* and that text back in gives the same seconds */
		snprintf(text, sizeof(text), "[sync]\ntimeout = %s\n", cases[i].text);
		assert_int_equal(load_text(fx, text), 0);
		assert_int_equal(fx->c.timeout_s, cases[i].s);
	}
	/* the derived thresholds print in that form too, and load back unchanged */
	assert_int_equal(cfg_finish(&fx->c, &fx->err), 0);
	out = print_cfg(&fx->c);
	assert_non_null(strstr(out, "\nstale_warn = 5h5m\n"));
	assert_non_null(strstr(out, "\nstale_crit = 9h5m\n"));
	free(out);
	assert_int_equal(load_text(fx, "[health]\nstale_warn = 5h5m\nstale_crit = 9h5m\n"), 0);
	assert_int_equal(fx->c.stale_warn_s, 18300);
	assert_int_equal(fx->c.stale_crit_s, 32700);
}

static void test_bool(void **state)
{
	struct fixture *fx = *state;
	static const struct {
		const char *text;
		int64_t v;
	} ok[] = {
		{"0", 0},   {"1", 1},   {"false", 0}, {"true", 1}, {"no", 0},
		{"yes", 1}, {"off", 0}, {"on", 1},    {"TRUE", 1}, {"Off", 0},
	};
	char text[64];

	for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
		snprintf(text, sizeof(text), "[sync]\ngap_repair = %s\n", ok[i].text);
		assert_int_equal(load_text(fx, text), 0);
		assert_int_equal(fx->c.gap_repair, ok[i].v);
	}
	expect_file_error(fx, "[sync]\ngap_repair = maybe\n",
			  "2: [sync] gap_repair = maybe: not a boolean (use true or false)");
}

static void test_strings(void **state)
{
	struct fixture *fx = *state;

	expect_file_error(fx, "[log]\nformat = xml\n",
			  "2: [log] format = xml: must be one of text|json");
	expect_file_error(fx, "[log]\nlevel = trace\n",
			  "2: [log] level = trace: must be one of error|warn|info|debug");
	expect_file_error(fx, "[main]\ndb =\n", "2: [main] db = : must not be empty");
	expect_file_error(fx, "[main]\ninterval = 7h\n",
			  "2: [main] interval = 7h: unknown interval (use 1m 3m 5m 15m 30m 1h 2h "
			  "4h 6h 8h 12h 1d 3d 1w 1M)");
	expect_file_error(fx, "[main]\nbase_url = ftp://x\n",
			  "2: [main] base_url = ftp://x: must be a URL starting with https:// or "
			  "http://");
	expect_file_error(fx, "[metrics]\nlisten = localhost\n",
			  "2: [metrics] listen = localhost: must be host:port, e.g. "
			  "127.0.0.1:9464 (empty = off)");
	expect_file_error(fx, "[audit]\navailability = 101\n",
			  "2: [audit] availability = 101: must be a percentage above 0 and at "
			  "most 100, e.g. 99.5");
	assert_int_equal(load_text(fx, "[main]\nbase_url = http://127.0.0.1:8080/\ninterval = 1h\n"
				       "[log]\nformat = json\nlevel = debug\n[metrics]\nlisten =\n"
				       "[audit]\navailability = 99.95\n"),
			 0);
	assert_string_equal(fx->c.base_url, "http://127.0.0.1:8080");
	assert_string_equal(fx->c.interval, "1h");
	assert_string_equal(fx->c.log_format, "json");
	assert_string_equal(fx->c.metrics_listen, "");
	assert_int_equal(cfg_finish(&fx->c, &fx->err), 0);
	assert_int_equal(fx->c.interval_ms, 3600 * 1000);

	assert_int_equal(cfg_set(&fx->c, "log", "dir",
				 "a\x01"
				 "b",
				 "--log-dir", &fx->err),
			 CK_EUSAGE);
	assert_string_equal(fx->err.msg,
			    "--log-dir: [log] dir = : must not contain control characters");
}

static void test_cron(void **state)
{
	struct fixture *fx = *state;

	expect_file_error(
		fx, "[schedule]\nsync = 0 1 * *\n",
		"2: [schedule] sync = 0 1 * *: cron schedule '0 1 * *': 4 fields, not 5 (5"
		" fields: minute hour day-of-month month day-of-week, UTC)");
	expect_file_error(
		fx, "[schedule]\nbackup = 0 2 * * * *\n",
		"2: [schedule] backup = 0 2 * * * *: cron schedule '0 2 * * * *': more than"
		" 5 fields (5 fields: minute hour day-of-month month day-of-week, UTC)");
	expect_file_error(fx, "[schedule]\nhealth = 0 x * * *\n",
			  "2: [schedule] health = 0 x * * *: cron schedule '0 x * * *': hour field"
			  " 'x': expected a number, *, a range a-b or a step */n");
	/* values out of range are caught here, not first when the daemon starts */
	expect_file_error(
		fx, "[schedule]\nsync = 61 * * * *\n",
		"2: [schedule] sync = 61 * * * *: cron schedule '61 * * * *': minute field"
		" '61': value out of range 0-59");
	assert_int_equal(load_text(fx, "[schedule]\nsync = */15 * * * 1-5\nbackup =\n"), 0);
	assert_string_equal(fx->c.sched_sync, "*/15 * * * 1-5");
	assert_string_equal(fx->c.sched_backup, "");
}

static void test_unknown_and_malformed(void **state)
{
	struct fixture *fx = *state;
	char path[128], want[256];

	expect_file_error(fx, "[sync]\nconcurency = 3\n",
			  "2: unknown key [sync] concurency (see candlekeep config --help / "
			  "docs/candlekeep.example.ini)");
	expect_file_error(fx, "[sink]\nconcurrency = 3\n",
			  "2: unknown section [sink] (see candlekeep config --help / "
			  "docs/candlekeep.example.ini)");
	expect_file_error(fx, "db = x.db\n",
			  "1: key db before any [section] (see candlekeep config --help / "
			  "docs/candlekeep.example.ini)");
	expect_file_error(fx, "[main]\njust some words\n",
			  "2: not a `key = value` line or a [section] header");
	expect_file_error(fx, "[main\ndb = x\n",
			  "1: not a `key = value` line or a [section] header");
	expect_file_error(fx, "[sync]\nconcurrency = 3\n  page_limit = 4\n",
			  "3: indented line continues [sync] concurrency; only symbols may span "
			  "lines (remove the indentation)");
	{
		char text[600];
		memset(text, 0, sizeof(text));
		snprintf(text, sizeof(text), "[main]\nuser_agent = ");
		memset(text + strlen(text), 'a', 300);
		text[strlen(text)] = '\n';
		expect_file_error(fx, text,
				  "2: line longer than 197 characters (a long "
				  "symbols list may continue on indented lines)");
	}

	snprintf(path, sizeof(path), "%s/none.ini", fx->dir);
	assert_int_equal(cfg_load_file(&fx->c, path, &fx->err), CK_EUSAGE);
	snprintf(want, sizeof(want), "open %s: No such file or directory", path);
	assert_string_equal(fx->err.msg, want);

	assert_int_equal(cfg_set(&fx->c, "sync", "nope", "1", "--nope", &fx->err), CK_EUSAGE);
	assert_string_equal(fx->err.msg, "--nope: unknown key [sync] nope (see candlekeep "
					 "config --help / docs/candlekeep.example.ini)");

	/* CRLF line ends, case-insensitive names, inline comments */
	assert_int_equal(load_text(fx, "[SYNC]\r\nConcurrency = 5 ; five\r\n"), 0);
	assert_int_equal(fx->c.concurrency, 5);
}

static void test_env(void **state)
{
	struct fixture *fx = *state;
	char *const bad[] = {"CANDLEKEEP_SYNC_CONCURENCY=3", NULL};
	char *const badval[] = {"CANDLEKEEP_SYNC_CONCURRENCY=999", NULL};
	char *const ok[] = {"CANDLEKEEP_BACKUP_HOT_DIR=/srv/hot",
			    "CANDLEKEEP_HEALTH_STALE_WARN=10h", "CANDLEKEEP_FAULT=1", NULL};

	assert_int_equal(cfg_load_env(&fx->c, bad, &fx->err), CK_EUSAGE);
	assert_string_equal(fx->err.msg,
			    "environment variable CANDLEKEEP_SYNC_CONCURENCY: unknown key (see "
			    "candlekeep config --help / docs/candlekeep.example.ini; "
			    "CANDLEKEEP_FAULT* and CANDLEKEEP_TEST* are reserved for tests)");
	assert_int_equal(cfg_load_env(&fx->c, badval, &fx->err), CK_EUSAGE);
	assert_string_equal(fx->err.msg,
			    "CANDLEKEEP_SYNC_CONCURRENCY: [sync] concurrency = 999: must be 1..64");
	assert_int_equal(cfg_load_env(&fx->c, ok, &fx->err), 0);
	assert_string_equal(fx->c.backup_hot_dir, "/srv/hot");
	assert_int_equal(fx->c.stale_warn_s, 36000);
	assert_int_equal(cfg_load_env(&fx->c, NULL, &fx->err), 0);
}

static void assert_no_secret(const char *s)
{
	assert_null(strstr(s, SECRET));
	assert_null(strstr(s, "hooks.slack.com"));
}

static void test_secret_file_mode(void **state)
{
	struct fixture *fx = *state;
	char sp[128], ini[128], text[256], want[600], *out;

	write_file(fx, "slack", "https://hooks.slack.com/services/" SECRET "\nsecond line\n", 0644,
		   sp, sizeof(sp));
	snprintf(text, sizeof(text), "[alert]\nslack_webhook = @%s\n", sp);

	/* 0644: refused, naming the file and the fix, not the value */
	assert_int_equal(load_text(fx, text), CK_EUSAGE);
	snprintf(want, sizeof(want),
		 "%s/t.ini:2: [alert] slack_webhook: secret file %s is "
		 "readable by others (mode 0644): chmod 600 %s",
		 fx->dir, sp, sp);
	assert_string_equal(fx->err.msg, want);
	assert_no_secret(fx->err.msg);
	assert_string_equal(fx->c.slack_webhook, "");

	/* 0600 and 0400: accepted, first line is the value */
	assert_int_equal(chmod(sp, 0600), 0);
	assert_int_equal(load_text(fx, text), 0);
	assert_string_equal(fx->c.slack_webhook, "https://hooks.slack.com/services/" SECRET);
	assert_int_equal(chmod(sp, 0400), 0);
	assert_int_equal(load_text(fx, text), 0);

	out = print_cfg(&fx->c);
	assert_no_secret(out);
	assert_non_null(strstr(out, "slack_webhook = ********\n"));
	assert_non_null(strstr(out, "pagerduty_routing_key = \n"));
	free(out);

	/* a secret that fails validation is not echoed */
	write_file(fx, "bad", "ftp://" SECRET "\n", 0600, sp, sizeof(sp));
	assert_int_equal(cfg_set(&fx->c, "alert", "slack_webhook", "ftp://hooks.slack.com/" SECRET,
				 "--x", &fx->err),
			 CK_EUSAGE);
	assert_string_equal(fx->err.msg, "--x: [alert] slack_webhook = ********: must be a "
					 "URL starting with https:// or http://");
	snprintf(text, sizeof(text), "@%s", sp);
	assert_int_equal(cfg_set(&fx->c, "alert", "slack_webhook", text, "--x", &fx->err),
			 CK_EUSAGE);
	assert_no_secret(fx->err.msg);

	/* missing, empty, not regular */
	assert_int_equal(
		cfg_set(&fx->c, "backup", "s3_secret_key", "@/nonexistent/k", "--k", &fx->err),
		CK_EUSAGE);
	assert_string_equal(fx->err.msg, "--k: [backup] s3_secret_key: open secret file "
					 "/nonexistent/k: No such file or directory");
	write_file(fx, "empty", "\n", 0600, sp, sizeof(sp));
	snprintf(text, sizeof(text), "@%s", sp);
	assert_int_equal(cfg_set(&fx->c, "backup", "s3_secret_key", text, "--k", &fx->err),
			 CK_EUSAGE);
	assert_non_null(strstr(fx->err.msg, "is empty"));
	snprintf(text, sizeof(text), "@%s", fx->dir);
	assert_int_equal(cfg_set(&fx->c, "backup", "s3_secret_key", text, "--k", &fx->err),
			 CK_EUSAGE);
	assert_non_null(strstr(fx->err.msg, "not a regular file"));

	/* environment: value or @file, replacing the previous secret (no leak) */
	{
		char *const env[] = {"CANDLEKEEP_ALERT_PAGERDUTY_ROUTING_KEY=" SECRET, NULL};
		assert_int_equal(cfg_load_env(&fx->c, env, &fx->err), 0);
		assert_string_equal(fx->c.pagerduty_routing_key, SECRET);
		assert_int_equal(cfg_load_env(&fx->c, env, &fx->err), 0);
	}
	out = print_cfg(&fx->c);
	assert_no_secret(out);
	assert_non_null(strstr(out, "# from: env CANDLEKEEP_ALERT_PAGERDUTY_ROUTING_KEY\n"
				    "pagerduty_routing_key = ********\n"));
	free(out);
	(void)ini;
}

static void test_inline_secret_needs_private_file(void **state)
{
	struct fixture *fx = *state;
	char path[128], want[400];
	const char *text = "[backup]\ns3_access_key = " SECRET "\n";

	write_file(fx, "s.ini", text, 0644, path, sizeof(path));
	assert_int_equal(cfg_load_file(&fx->c, path, &fx->err), CK_EUSAGE);
	snprintf(want, sizeof(want),
		 "%s:2: [backup] s3_access_key: a secret in a file that "
		 "group or others may read (chmod 600 %s, or use s3_access_key = "
		 "@/path/to/secret-file)",
		 path, path);
	assert_string_equal(fx->err.msg, want);
	assert_no_secret(fx->err.msg);
	assert_int_equal(chmod(path, 0600), 0);
	assert_int_equal(cfg_load_file(&fx->c, path, &fx->err), 0);
	assert_string_equal(fx->c.s3_access_key, SECRET);
	/* an empty secret in a shared file is fine */
	assert_int_equal(load_text(fx, "[backup]\ns3_access_key =\n"), 0);
	assert_string_equal(fx->c.s3_access_key, "");
}

static void test_symbols(void **state)
{
	struct fixture *fx = *state;
	char **list;
	size_t n;

	assert_int_equal(load_text(fx, "[main]\nsymbols = BTCUSDT, ETHUSDT ,BTCUSDT,SOLUSDT,"
				       "ETHUSDT\n"),
			 0);
	assert_string_equal(fx->c.symbols, "BTCUSDT,ETHUSDT,SOLUSDT");
	assert_int_equal(cfg_symbols_list(&fx->c, &list, &n, &fx->err), 0);
	assert_int_equal(n, 3);
	assert_string_equal(list[0], "BTCUSDT");
	assert_string_equal(list[2], "SOLUSDT");
	cfg_symbols_free(list, n);

	expect_file_error(fx, "[main]\nsymbols = BTCUSDT,ethusdt\n",
			  "2: [main] symbols = BTCUSDT,ethusdt: symbol ethusdt must be upper "
			  "case (ETHUSDT)");
	expect_file_error(fx, "[main]\nsymbols = BTCUSDT,BTC-USDT\n",
			  "2: [main] symbols = BTCUSDT,BTC-USDT: symbol BTC-USDT is not a valid "
			  "name (A-Z and 0-9, at most 20)");
	expect_file_error(fx, "[main]\nsymbols = ABCDEFGHIJKLMNOPQRSTUV\n",
			  "2: [main] symbols = ABCDEFGHIJKLMNOPQRSTUV: symbol "
			  "ABCDEFGHIJKLMNOPQRST... is longer than 20 characters");
	expect_file_error(fx, "[main]\nsymbols = , ,\n",
			  "2: [main] symbols = , ,: no symbols (use default, all, or names like "
			  "BTCUSDT,ETHUSDT)");
	expect_file_error(fx, "[main]\nsymbols = default,BTCUSDT\n",
			  "2: [main] symbols = default,BTCUSDT: \"default\" cannot be combined "
			  "with symbol names");

	/* a list over indented continuation lines; the error line is the key's */
	assert_int_equal(load_text(fx, "[main]\nsymbols = BTCUSDT, ETHUSDT,\n"
				       "   SOLUSDT XRPUSDT\n; comment\n   DOGEUSDT\ndb = x.db\n"),
			 0);
	assert_string_equal(fx->c.symbols, "BTCUSDT,ETHUSDT,SOLUSDT,XRPUSDT,DOGEUSDT");
	assert_string_equal(fx->c.db, "x.db");
	expect_file_error(fx, "[main]\nsymbols = BTCUSDT,\n  bad\n",
			  "2: [main] symbols = BTCUSDT, bad: symbol bad must be upper case (BAD)");

	assert_int_equal(cfg_set(&fx->c, "main", "symbols", "all", "--symbols", &fx->err), 0);
	assert_int_equal(cfg_symbols_list(&fx->c, &list, &n, &fx->err), CK_ENOTFOUND);
	assert_null(list);
	assert_int_equal(n, 0);

	assert_int_equal(cfg_symbol_valid("1000PEPEUSDT"), 1);
	assert_int_equal(cfg_symbol_valid("ABCDEFGHIJKLMNOPQRST"), 1);
	assert_int_equal(cfg_symbol_valid("ABCDEFGHIJKLMNOPQRSTU"), 0);
	assert_int_equal(cfg_symbol_valid(""), 0);
	assert_int_equal(cfg_symbol_valid("btcusdt"), 0);
	assert_int_equal(cfg_symbol_valid("BTC USDT"), 0);
	assert_int_equal(cfg_symbol_valid(NULL), 0);
}

static void test_default_symbols(void **state)
{
	struct fixture *fx = *state;
	char **list;
	size_t n, i, j;

	assert_int_equal(cfg_symbols_list(&fx->c, &list, &n, &fx->err), 0);
	assert_int_equal(n, 60);
	for (i = 0; i < n; i++) {
		assert_true(cfg_symbol_valid(list[i]));
		for (j = i + 1; j < n; j++)
			assert_string_not_equal(list[i], list[j]);
	}
	assert_string_equal(list[0], "BTCUSDT");
	assert_string_equal(list[42], "ASTERUSDT");
	assert_string_equal(list[43], "ONDOUSDT");
	assert_string_equal(list[59], "THETAUSDT");
	cfg_symbols_free(list, n);
	/* the list passes the same validation as a configured one, unchanged */
	assert_int_equal(cfg_set(&fx->c, "main", "symbols", cfg_default_symbols(), "--s", &fx->err),
			 0);
	assert_string_equal(fx->c.symbols, cfg_default_symbols());
}

static void test_stale_derived(void **state)
{
	struct fixture *fx = *state;
	struct cfg c2;

	/* daily 01:00 sync of 4h candles: just before a run, the newest candle is the one
	 * that closed at 00:00 the day before: 25h; warn = 25h + 1h = 26h, crit = warn +
	 * max(4h, 2h) = 30h */
	assert_int_equal(load_text(fx, "[schedule]\nsync = 0 1 * * *\n"), 0);
	assert_int_equal(cfg_finish(&fx->c, &fx->err), 0);
	assert_int_equal(fx->c.stale_warn_s, 26 * 3600);
	assert_int_equal(fx->c.stale_crit_s, 30 * 3600);

	/* hourly candles synced every 15 minutes: before the :00 run the newest candle
	 * closed an hour ago (the :45 run came 45m after its close, plus 15m): 1h -> warn
	 * 2h, crit warn + 2h = 4h */
	assert_int_equal(cfg_init(&c2, &fx->err), 0);
	assert_int_equal(cfg_set(&c2, "main", "interval", "1h", NULL, &fx->err), 0);
	assert_int_equal(cfg_set(&c2, "schedule", "sync", "*/15 * * * *", NULL, &fx->err), 0);
	assert_int_equal(cfg_finish(&c2, &fx->err), 0);
	assert_int_equal(c2.stale_warn_s, 2 * 3600);
	assert_int_equal(c2.stale_crit_s, 4 * 3600);
	cfg_release(&c2);

	/* daily candles synced at 00:30: 24h + 30m = 24h30m -> 25h30m / 49h30m (crit adds
	 * one interval, longer than 2h) */
	assert_int_equal(cfg_init(&c2, &fx->err), 0);
	assert_int_equal(cfg_set(&c2, "main", "interval", "1d", NULL, &fx->err), 0);
	assert_int_equal(cfg_set(&c2, "schedule", "sync", "30 0 * * *", NULL, &fx->err), 0);
	assert_int_equal(cfg_finish(&c2, &fx->err), 0);
	assert_int_equal(c2.stale_warn_s, 25 * 3600 + 30 * 60);
	assert_int_equal(c2.stale_crit_s, 49 * 3600 + 30 * 60);
	cfg_release(&c2);

	/* no schedule (cron-driven syncs): one interval -> 5h / 9h */
	assert_int_equal(cfg_init(&c2, &fx->err), 0);
	assert_int_equal(cfg_set(&c2, "schedule", "sync", "", NULL, &fx->err), 0);
	assert_int_equal(cfg_finish(&c2, &fx->err), 0);
	assert_int_equal(c2.stale_warn_s, 5 * 3600);
	assert_int_equal(c2.stale_crit_s, 9 * 3600);
	cfg_release(&c2);

	/* explicit values win; crossing is an error */
	assert_int_equal(cfg_init(&c2, &fx->err), 0);
	assert_int_equal(cfg_set(&c2, "health", "stale_warn", "20h", NULL, &fx->err), 0);
	assert_int_equal(cfg_finish(&c2, &fx->err), 0);
	assert_int_equal(c2.stale_warn_s, 20 * 3600);
	assert_int_equal(c2.stale_crit_s, 24 * 3600);
	assert_int_equal(cfg_set(&c2, "health", "stale_crit", "10h", NULL, &fx->err), 0);
	assert_int_equal(cfg_finish(&c2, &fx->err), CK_EUSAGE);
	assert_string_equal(fx->err.msg, "[health] stale_warn = 20h must be less than "
					 "stale_crit = 10h");
	cfg_release(&c2);
	assert_int_equal(cfg_init(&c2, &fx->err), 0);
	assert_int_equal(cfg_set(&c2, "health", "stale_warn", "5h05m", NULL, &fx->err), 0);
	assert_int_equal(cfg_set(&c2, "health", "stale_crit", "18300", NULL, &fx->err), 0);
	assert_int_equal(cfg_finish(&c2, &fx->err), CK_EUSAGE);
	assert_string_equal(fx->err.msg, "[health] stale_warn = 5h5m must be less than "
					 "stale_crit = 5h5m");
	cfg_release(&c2);

	assert_int_equal(cfg_init(&c2, &fx->err), 0);
	assert_int_equal(cfg_set(&c2, "health", "disk_crit_pct", "20", NULL, &fx->err), 0);
	assert_int_equal(cfg_finish(&c2, &fx->err), CK_EUSAGE);
	assert_string_equal(fx->err.msg, "[health] disk_warn_pct = 10 must be at least "
					 "disk_crit_pct = 20 (both are free space)");
	cfg_release(&c2);
}

static void test_release_partial(void **state)
{
	struct fixture *fx = *state;
	struct cfg c;

	(void)fx;
	cfg_release(NULL);
	memset(&c, 0, sizeof(c));
	c.db = strdup("x.db");
	c.slack_webhook = strdup("secret");
	c.file = strdup("f.ini");
	cfg_release(&c);
	assert_null(c.db);
	assert_null(c.slack_webhook);
	cfg_release(&c); /* twice is harmless */

	/* a load that fails half-way keeps what was set before the error, all owned */
	assert_int_equal(cfg_init(&c, &fx->err), 0);
	{
		const char *text = "[main]\ndb = a.db\n[log]\ndir = /l\n[sync]\nconcurrency = x\n";
		assert_int_equal(cfg_load_string(&c, text, strlen(text), "s.ini", &fx->err),
				 CK_EUSAGE);
	}
	assert_string_equal(fx->err.msg, "s.ini:6: [sync] concurrency = x: not a whole number");
	assert_string_equal(c.db, "a.db");
	cfg_release(&c);
}

static char *capture(void (*fn)(FILE *))
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	assert_non_null(f);
	fn(f);
	assert_int_equal(fclose(f), 0);
	return buf;
}

/* [main] intervals: a comma list (the old single `interval` is the same value under its
 * old name); names checked; the flag replaces the file; cfg_interval_use switches the
 * interval being worked on and the staleness thresholds derived from it. */
static void test_intervals(void **state)
{
	struct fixture *fx = *state;
	struct cfg *c = &fx->c, one;
	char why[192], *out;

	/* the default: one interval */
	assert_int_equal(c->nintervals, 1);
	assert_string_equal(c->intervals[0], "4h");
	assert_string_equal(c->interval, "4h");

	assert_int_equal(load_text(fx, "[main]\nintervals = 4h, 1h ,1d\n"), 0);
	assert_string_equal(c->interval_list, "4h,1h,1d");
	assert_int_equal(c->nintervals, 3);
	assert_string_equal(c->intervals[0], "4h");
	assert_string_equal(c->intervals[1], "1h");
	assert_string_equal(c->intervals[2], "1d");
	assert_string_equal(c->interval, "4h");
	assert_int_equal(cfg_finish(c, &fx->err), 0);
	assert_int_equal(c->interval_ms, 4 * 3600 * 1000);
	assert_int_equal(c->stale_warn_s, 5 * 3600 + 5 * 60);

	/* a copy works on another interval; c is untouched */
	one = *c;
	cfg_interval_use(&one, 2);
	assert_string_equal(one.interval, "1d");
	assert_int_equal(one.interval_ms, 86400 * 1000);
	assert_true(one.stale_warn_s > 24 * 3600);
	assert_true(one.stale_crit_s > one.stale_warn_s);
	cfg_interval_use(&one, 1);
	assert_string_equal(one.interval, "1h");
	assert_int_equal(one.interval_ms, 3600 * 1000);
	cfg_interval_use(&one, 3); /* out of range: nothing changes */
	assert_string_equal(one.interval, "1h");
	assert_string_equal(c->interval, "4h");
	assert_int_equal(c->interval_ms, 4 * 3600 * 1000);

	/* the flag (either name) replaces the file's list; both names show it */
	assert_int_equal(cfg_set(c, "main", "interval", "1w,15m", "--interval", &fx->err), 0);
	assert_int_equal(c->nintervals, 2);
	assert_string_equal(c->intervals[1], "15m");
	out = print_cfg(c);
	assert_non_null(strstr(out, "interval = 1w,15m\n"));
	assert_non_null(strstr(out, "intervals = 1w,15m\n"));
	free(out);

	/* the old single key is a one-element list */
	assert_int_equal(load_text(fx, "[main]\ninterval = 1h\n"), 0);
	assert_int_equal(c->nintervals, 1);
	assert_string_equal(c->interval, "1h");

	/* bad lists: a clear error naming the input and the valid names; nothing changes */
	expect_file_error(fx, "[main]\nintervals = 4h,7h\n",
			  "2: [main] intervals = 4h,7h: unknown interval '7h' (use 1m 3m 5m 15m 30m"
			  " 1h 2h 4h 6h 8h 12h 1d 3d 1w 1M)");
	expect_file_error(fx, "[main]\ninterval = 4h,,1h\n",
			  "2: [main] interval = 4h,,1h: an empty name in the list (use names like"
			  " 4h,1h,1d)");
	expect_file_error(fx, "[main]\nintervals = 4h,1h,4h\n",
			  "2: [main] intervals = 4h,1h,4h: 4h is listed twice (name each interval"
			  " once)");
	expect_file_error(fx, "[main]\nintervals = 4H\n",
			  "2: [main] intervals = 4H: unknown interval (use 1m 3m 5m 15m 30m 1h 2h"
			  " 4h 6h 8h 12h 1d 3d 1w 1M)");
	assert_int_equal(c->nintervals, 1);
	assert_string_equal(c->interval, "1h");
	/* 1M (calendar months) is an interval like the others */
	assert_int_equal(load_text(fx, "[main]\nintervals = 1h,1M\n"), 0);
	assert_int_equal(c->nintervals, 2);
	assert_string_equal(c->intervals[1], "1M");

	assert_int_equal(cfg_intervals_check("1m,3m,5m,15m,30m,1h,2h,4h,6h,8h,12h,1d,3d,1w", why,
					     sizeof(why)),
			 0);
	assert_int_equal(cfg_intervals_check("", why, sizeof(why)), -1);
	assert_int_equal(cfg_intervals_check("4h,", why, sizeof(why)), -1);
	assert_int_equal(cfg_intervals_check("4hours", why, sizeof(why)), -1);
}

/* Every `#key = default` line of the example, uncommented, loads cleanly. */
static void test_example_loads(void **state)
{
	struct fixture *fx = *state;
	char *ex = capture(cfg_print_example), *p, *out1, *out2;
	size_t keys = 0;

	for (p = ex; (p = strstr(p, "\n#")); p++) {
		char *eq = strchr(p + 2, '=');
		char *nl = strchr(p + 2, '\n');
		if (eq && nl && eq < nl && p[2] != ' ' && eq[-1] == ' ' && eq[-2] != ' ') {
			p[1] = '\n'; /* drop the '#' without indenting */
			keys++;
		}
	}
	assert_int_equal(keys,
			 82); /* 61 + outbox 4 + integrity_check 1 + sync trust 6 + hardening
				 5 + archive 2 + backup pg_bin_dir 1 + market 1 + intervals 1 */
	out1 = print_cfg(&fx->c);
	assert_int_equal(cfg_load_string(&fx->c, ex, strlen(ex), "example", &fx->err), 0);
	assert_int_equal(cfg_finish(&fx->c, &fx->err), 0);
	out2 = print_cfg(&fx->c);
	assert_non_null(strstr(out2, "# from: example:"));
	free(out1);
	free(out2);
	free(ex);
}

/* docs/candlekeep.example.ini is cfg_print_example's output, byte for byte. */
static void test_example_not_drifted(void **state)
{
	char path[512], *want = capture(cfg_print_example), *got;
	const char *top = getenv("CK_TOP");
	FILE *f;
	long len;

	(void)state;
	snprintf(path, sizeof(path), "%s/docs/candlekeep.example.ini", top ? top : ".");
	f = fopen(path, "r");
	if (!f) {
		free(want);
		skip();
	}
	assert_int_equal(fseek(f, 0, SEEK_END), 0);
	len = ftell(f);
	rewind(f);
	got = calloc(1, (size_t)len + 1);
	assert_non_null(got);
	assert_int_equal(fread(got, 1, (size_t)len, f), (size_t)len);
	fclose(f);
	if (strcmp(got, want))
		fail_msg("%s differs from cfg_print_example(): regenerate it", path);
	free(got);
	free(want);
}

static void test_help_and_man(void **state)
{
	char *man = capture(cfg_print_man), *help = capture(cfg_print_help);

	(void)state;
	assert_non_null(strstr(man, ".TP\n.B concurrency\n"));
	assert_non_null(strstr(man, "\\fBCANDLEKEEP_SYNC_CONCURRENCY\\fR"));
	assert_non_null(strstr(man, ".SS [backup]\n"));
	assert_null(strstr(man, "\n-"));
	assert_non_null(strstr(help, "  concurrency = 64\n"));
	assert_non_null(strstr(help, "env CANDLEKEEP_BACKUP_HOT_DIR"));
	free(man);
	free(help);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_defaults, setup, teardown),
		cmocka_unit_test_setup_teardown(test_backup_dirs_beside_db, setup, teardown),
		cmocka_unit_test_setup_teardown(test_precedence, setup, teardown),
		cmocka_unit_test_setup_teardown(test_int_errors, setup, teardown),
		cmocka_unit_test_setup_teardown(test_duration, setup, teardown),
		cmocka_unit_test_setup_teardown(test_duration_round_trip, setup, teardown),
		cmocka_unit_test_setup_teardown(test_bool, setup, teardown),
		cmocka_unit_test_setup_teardown(test_strings, setup, teardown),
		cmocka_unit_test_setup_teardown(test_cron, setup, teardown),
		cmocka_unit_test_setup_teardown(test_unknown_and_malformed, setup, teardown),
		cmocka_unit_test_setup_teardown(test_env, setup, teardown),
		cmocka_unit_test_setup_teardown(test_secret_file_mode, setup, teardown),
		cmocka_unit_test_setup_teardown(test_inline_secret_needs_private_file, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_symbols, setup, teardown),
		cmocka_unit_test_setup_teardown(test_default_symbols, setup, teardown),
		cmocka_unit_test_setup_teardown(test_stale_derived, setup, teardown),
		cmocka_unit_test_setup_teardown(test_intervals, setup, teardown),
		cmocka_unit_test_setup_teardown(test_release_partial, setup, teardown),
		cmocka_unit_test_setup_teardown(test_example_loads, setup, teardown),
		cmocka_unit_test(test_example_not_drifted),
		cmocka_unit_test(test_help_and_man),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
