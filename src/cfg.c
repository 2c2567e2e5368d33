/* cfg.c — the configuration table and everything derived from it.
 *
 * One const row per key (cfg_keys[] below) says where the value lives in struct cfg,
 * its type, default, range, unit, whether it is a secret, and its help. Parsing of the
 * INI file (inih), of CANDLEKEEP_* environment variables and of flags (cfg_set), the
 * validation, `candlekeep config` (cfg_print), --help (cfg_print_help), the man page
 * section (cfg_print_man) and docs/candlekeep.example.ini (cfg_print_example) all walk
 * this one table, so they cannot drift apart.
 *
 * Invariants: every string member named by a row is NULL or malloc'd and owned by the
 * struct; a failed set leaves the old value in place; a secret's value never reaches an
 * error message or printed output (messages show "********"). No mutable globals: the
 * table is const and parse state lives on the stack. */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <ini.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cfg.h"
#include "redact.h"
#include "sched.h"
#include "dur.h"
#include "err.h"
#include "kline.h"
#include "interval.h"
#include "banned.h"

enum cfg_type { CFG_STR, CFG_INT, CFG_DURATION, CFG_BOOL, CFG_PATH, CFG_CRON, CFG_LIST };

enum {
	CFG_SECRET = 1 << 0,   /* never printed; may be "@/path" to a mode-0600 file */
	CFG_REQUIRED = 1 << 1, /* a string that must not be empty */
	CFG_DERIVED = 1 << 2,  /* empty/0 default is filled in by cfg_finish */
};

#define CFG_STR_MAX 4096       /* ceiling of one string value, bytes */
#define CFG_LIST_MAX 65536     /* ceiling of the symbols list, bytes */
#define CFG_SYMBOLS_MAX 2000   /* ceiling of names in the symbols list */
#define CFG_FILE_MAX (1 << 20) /* ceiling of a config file, bytes */
#define CFG_VALUE_SHOWN 48     /* characters of a bad value quoted in a message */
#define CFG_SEE "see candlekeep config --help / docs/candlekeep.example.ini"

#define MIN_S 60
#define HOUR_S 3600
#define DAY_S 86400

struct cfg_key {
	const char *section;
	const char *key;
	enum cfg_type type;
	size_t off;          /* offsetof(struct cfg, member): char * or int64_t */
	const char *def;     /* default, as text a user could write */
	int64_t min, max;    /* INT and DURATION (seconds) */
	const char *unit;    /* for help: "ms", "s", "days", "%" ... */
	unsigned flags;      /* CFG_SECRET, CFG_REQUIRED, CFG_DERIVED */
	const char *choices; /* STR: "a|b|c" allowed values, or NULL */
	/* Extra validation of a string value; may normalise it in place (only ever
	 * shortening it). Returns 0, or -1 with the problem in why. */
	int (*check)(char *v, char *why, size_t whylen);
	const char *help;
};

/* Compile-time check that a row's type matches its member's C type. */
#define IS_STR(m) _Generic(((struct cfg *)0)->m, char * : 1, default : -1)
#define IS_INT(m) _Generic(((struct cfg *)0)->m, int64_t : 1, default : -1)
#define OFF_S(m) (offsetof(struct cfg, m) + 0 * sizeof(char[IS_STR(m)]))
#define OFF_I(m) (offsetof(struct cfg, m) + 0 * sizeof(char[IS_INT(m)]))

#define STR(sec, k, m, def, flags, choices, check, help)                                           \
	{                                                                                          \
		sec, k, CFG_STR, OFF_S(m), def, 0, 0, NULL, flags, choices, check, help            \
	}
#define PATHK(sec, k, m, def, flags, help)                                                         \
	{                                                                                          \
		sec, k, CFG_PATH, OFF_S(m), def, 0, 0, NULL, flags, NULL, NULL, help               \
	}
#define CRON(sec, k, m, def, help)                                                                 \
	{                                                                                          \
		sec, k, CFG_CRON, OFF_S(m), def, 0, 0, NULL, 0, NULL, check_cron, help             \
	}
#define INT(sec, k, m, def, lo, hi, unit, flags, help)                                             \
	{                                                                                          \
		sec, k, CFG_INT, OFF_I(m), def, lo, hi, unit, flags, NULL, NULL, help              \
	}
#define DUR(sec, k, m, def, lo, hi, flags, help)                                                   \
	{                                                                                          \
		sec, k, CFG_DURATION, OFF_I(m), def, lo, hi, NULL, flags, NULL, NULL, help         \
	}
#define BOOLK(sec, k, m, def, help)                                                                \
	{                                                                                          \
		sec, k, CFG_BOOL, OFF_I(m), def, 0, 1, NULL, 0, NULL, NULL, help                   \
	}

static int check_intervals(char *v, char *why, size_t n);
static int check_url(char *v, char *why, size_t n);
static int check_smtp_url(char *v, char *why, size_t n);
static int check_symbols(char *v, char *why, size_t n);
static int check_listen(char *v, char *why, size_t n);
static int check_percent(char *v, char *why, size_t n);
static int check_cron(char *v, char *why, size_t n);

static const struct cfg_key cfg_keys[] = {
	/* [main] */
	PATHK("main", "db", db, "candles.db", CFG_REQUIRED,
	      "Path of the SQLite database (created on first use)."),
	STR("main", "market", market, "um", CFG_REQUIRED, "um|cm|spot", NULL,
	    "The exchange's market: um (USD-M futures, /fapi/v1), cm (COIN-M futures,"
	    " /dapi/v1, symbols like BTCUSD_PERP) or spot (/api/v3). One database keeps the"
	    " markets side by side."),
	STR("main", "base_url", base_url, "https://fapi.binance.com", CFG_REQUIRED, NULL, check_url,
	    "Exchange REST base URL: scheme and host (a trailing / is removed); the path"
	    " prefix follows [main] market. Left at the default, cm and spot use"
	    " https://dapi.binance.com and https://api.binance.com."),
	{"main", "symbols", CFG_LIST, OFF_S(symbols), "default", 0, 0, NULL, CFG_REQUIRED, NULL,
	 check_symbols,
	 "\"default\" (the built-in 60 liquid USDT perpetuals), \"all\" (every TRADING "
	 "symbol of the market in exchangeInfo, perpetuals on um and cm; new listings fetched "
	 "from their listing date, delisted ones kept and no longer fetched) or a comma list "
	 "of names like BTCUSDT,ETHUSDT "
	 "(upper case; in a file a long list may continue on indented lines)."},
	STR("main", "interval", interval_list, "4h", CFG_REQUIRED, NULL, check_intervals,
	    "Candle interval: 1m 3m 5m 15m 30m 1h 2h 4h 6h 8h 12h 1d 3d 1w 1M (1M:"
	    " calendar months, UTC). The same key as [main] intervals (either name; the later"
	    " setting wins): one interval or a comma list."),
	STR("main", "intervals", interval_list, "4h", CFG_REQUIRED, NULL, check_intervals,
	    "Candle intervals kept side by side in one database, a comma list like"
	    " 4h,1h,1d: sync, backfill and the daemon's sync run each in turn; health and"
	    " metrics cover each; gaps goes over each; export needs one (--interval)."),
	INT("main", "history_days", history_days, "90", 1, 3650, "days", 0,
	    "The first sync of a new symbol starts this many days back."),
	STR("main", "file_mode", file_mode, "0640", CFG_REQUIRED, "0640|0600", NULL,
	    "Permissions of the database, backups, sidecars, restored copies, logs and the"
	    " lock file, whatever the umask: 0640 (group may read, e.g. monitoring) or 0600."),
	STR("main", "export_file_mode", export_file_mode, "0644", CFG_REQUIRED, "0644|0640|0600",
	    NULL,
	    "Permissions of exported CSV files, the audit HTML page and the metrics textfile,"
	    " whatever the umask."),
	/* [sync] */
	INT("sync", "concurrency", concurrency, "64", 1, CFG_CONCURRENCY_MAX, "requests", 0,
	    "Requests in flight at once (within the weight budget; over HTTP/2, streams on one"
	    " connection)."),
	DUR("sync", "timeout", timeout_s, "30m", 0, 7 * DAY_S, 0,
	    "Deadline of one sync run; work done so far is kept (0 = none)."),
	INT("sync", "page_limit", page_limit, "0", 0, 1500, "candles", 0,
	    "Candles per klines request; 0 = automatic: 499 (most candles per unit of"
	    " weight) when the weight budget is the bottleneck, else 1500 (fewest requests)."),
	INT("sync", "lookback", lookback, "0", 0, 1000, "candles", 0,
	    "Extra closed candles re-fetched before the last stored one each run."),
	BOOLK("sync", "gap_repair", gap_repair, "true",
	      "Find and fill gaps in stored history each run (false only to imitate the "
	      "old design)."),
	INT("sync", "weight_limit", weight_limit, "0", 0, 1000000, "weight/min", 0,
	    "Request weight budget per minute; 0 = the limit exchangeInfo reports."),
	INT("sync", "weight_reserve_pct", weight_reserve_pct, "10", 0, 90, "%", 0,
	    "Share of the weight budget left unused as a margin for other clients."),
	DUR("sync", "max_ban", max_ban_s, "3d", 60, 30 * DAY_S, 0,
	    "Longest HTTP 418 ban honoured: a longer Retry-After is capped to this (and"
	    " logged); `candlekeep ban --clear` lifts a stored ban."),
	DUR("sync", "max_clock_skew", max_clock_skew_s, "60s", 0, DAY_S, 0,
	    "A candle is closed only when its close time is before both the exchange's time"
	    " and the local time plus this."),
	INT("sync", "verify_recent", verify_recent, "2", 0, 1000, "candles", 0,
	    "Newest closed candles re-fetched and compared each run (differences are"
	    " stored as counted revisions)."),
	INT("sync", "verify_days", verify_days, "30", 0, 3650, "days", 0,
	    "History re-fetched and compared on a rolling schedule (0 = off)."),
	DUR("sync", "verify_every", verify_every_s, "7d", 3600, 365 * DAY_S, 0,
	    "Each run re-verifies its share of the last verify_days so that all of them"
	    " are re-verified once per this period."),
	/* [archive] */
	BOOLK("archive", "enabled", archive_enabled, "true",
	      "Backfill history older than a day from the exchange's public archive (monthly"
	      " and daily zip files, each checked against its .CHECKSUM); REST only for the"
	      " rest."),
	STR("archive", "base_url", archive_base_url, "https://data.binance.vision", CFG_REQUIRED,
	    NULL, check_url, "Public archive base URL (a trailing / is removed)."),
	/* [http] */
	INT("http", "connect_timeout_ms", connect_timeout_ms, "10000", 1, 300000, "ms", 0,
	    "TCP+TLS connect timeout."),
	INT("http", "request_timeout_ms", request_timeout_ms, "30000", 1, 600000, "ms", 0,
	    "Whole-request timeout (a hung server counts as a network failure)."),
	INT("http", "retry_net_max", retry_net_max, "3", 0, 20, "retries", 0,
	    "Retries after a timeout or connection failure."),
	INT("http", "retry_net_base_ms", retry_net_base_ms, "1000", 0, 600000, "ms", 0,
	    "First network back-off; doubles each retry (1s, 2s, 4s)."),
	INT("http", "retry_429_max", retry_429_max, "2", 0, 20, "retries", 0,
	    "Retries after HTTP 429 (Retry-After is honoured)."),
	INT("http", "retry_429_default_s", retry_429_default_s, "60", 0, 3600, "s", 0,
	    "Wait after a 429 that carries no Retry-After."),
	INT("http", "retry_429_jitter_s", retry_429_jitter_s, "30", 0, 3600, "s", 0,
	    "Random 0..N seconds added to each 429 wait."),
	DUR("http", "retry_429_max_wait", retry_429_max_wait_s, "5m", 1, DAY_S, 0,
	    "A 429 whose wait (Retry-After) is longer than this, or than the run's time"
	    " left, fails the symbol at once instead of sleeping."),
	INT("http", "retry_5xx_max", retry_5xx_max, "2", 0, 20, "retries", 0,
	    "Retries after HTTP 5xx."),
	INT("http", "retry_5xx_base_ms", retry_5xx_base_ms, "2000", 0, 600000, "ms", 0,
	    "First 5xx back-off; doubles each retry (2s, 4s)."),
	STR("http", "user_agent", user_agent, "candlekeep/0.1", CFG_REQUIRED, NULL, NULL,
	    "User-Agent header sent to the exchange."),
	/* [log] */
	STR("log", "format", log_format, "text", CFG_REQUIRED, "text|json", NULL,
	    "Log line format: text or json (one object per line)."),
	STR("log", "level", log_level, "info", CFG_REQUIRED, "error|warn|info|debug", NULL,
	    "Lowest level logged: error, warn, info or debug."),
	PATHK("log", "dir", log_dir, "", 0,
	      "If set, each run also writes <command>_YYYY-mm-dd_HH-MM-SS.log here."),
	PATHK("log", "file", log_file, "", 0,
	      "If set, every log line is also appended to this file."),
	/* [backup] */
	PATHK("backup", "hot_dir", backup_hot_dir, "", CFG_DERIVED,
	      "Hot backups; empty = backups/hot beside the database."),
	PATHK("backup", "warm_dir", backup_warm_dir, "", CFG_DERIVED,
	      "Warm copies (another disk); empty = backups/warm beside the database."),
	PATHK("backup", "pg_bin_dir", backup_pg_bin_dir, "", 0,
	      "Where pg_dump and pg_restore are (PostgreSQL backups); empty = PATH."),
	INT("backup", "hot_days", backup_hot_days, "14", 1, 3650, "days", 0,
	    "Keep hot backups this long (the newest verified one is always kept)."),
	INT("backup", "warm_days", backup_warm_days, "30", 1, 3650, "days", 0,
	    "Keep warm copies this long (the newest verified one is always kept)."),
	INT("backup", "offsite_days", backup_offsite_days, "90", 1, 3650, "days", 0,
	    "Keep offsite (S3) copies this long (the newest one is always kept)."),
	STR("backup", "s3_endpoint", s3_endpoint, "", 0, NULL, check_url,
	    "S3 API endpoint URL; empty = AWS for s3_region."),
	STR("backup", "s3_bucket", s3_bucket, "", 0, NULL, NULL,
	    "S3 bucket for offsite copies; empty = no offsite tier."),
	STR("backup", "s3_prefix", s3_prefix, "candlekeep/", 0, NULL, NULL,
	    "Object key prefix inside the bucket."),
	STR("backup", "s3_region", s3_region, "us-east-1", CFG_REQUIRED, NULL, NULL,
	    "S3 region (SigV4 signing)."),
	STR("backup", "s3_storage_class", s3_storage_class, "STANDARD_IA", CFG_REQUIRED, NULL, NULL,
	    "S3 storage class of uploaded copies."),
	STR("backup", "s3_access_key", s3_access_key, "", CFG_SECRET, NULL, NULL,
	    "S3 access key id (secret)."),
	STR("backup", "s3_secret_key", s3_secret_key, "", CFG_SECRET, NULL, NULL,
	    "S3 secret access key (secret)."),
	/* [alert] */
	STR("alert", "slack_webhook", slack_webhook, "", CFG_SECRET, NULL, check_url,
	    "Slack incoming-webhook URL (secret); empty = no Slack alerts."),
	STR("alert", "pagerduty_routing_key", pagerduty_routing_key, "", CFG_SECRET, NULL, NULL,
	    "PagerDuty Events v2 routing key (secret); empty = no PagerDuty."),
	STR("alert", "pagerduty_url", pagerduty_url, "https://events.pagerduty.com/v2/enqueue",
	    CFG_REQUIRED, NULL, check_url, "PagerDuty Events API v2 endpoint."),
	STR("alert", "smtp_url", smtp_url, "", 0, NULL, check_smtp_url,
	    "Mail server, smtp://host:587 or smtps://host:465; empty = no e-mail."),
	STR("alert", "smtp_from", smtp_from, "", 0, NULL, NULL, "Sender address of alert mail."),
	STR("alert", "smtp_to", smtp_to, "", 0, NULL, NULL,
	    "Recipients of alert mail, comma-separated."),
	STR("alert", "smtp_user", smtp_user, "", 0, NULL, NULL, "SMTP login name."),
	STR("alert", "smtp_password", smtp_password, "", CFG_SECRET, NULL, NULL,
	    "SMTP password (secret)."),
	DUR("alert", "repeat", alert_repeat_s, "4h", 0, 7 * DAY_S, 0,
	    "Re-send a still-firing alert this often (0 = once)."),
	INT("alert", "timeout_ms", alert_timeout_ms, "10000", 1, 300000, "ms", 0,
	    "Timeout of one alert delivery."),
	STR("alert", "smtp_tls", smtp_tls, "required", CFG_REQUIRED, "required|none", NULL,
	    "required: mail goes only over TLS (smtps://, or STARTTLS on smtp://), never the"
	    " login or the alert in clear; none: STARTTLS when offered, else in clear."),
	PATHK("alert", "smtp_ca_file", smtp_ca_file, "", 0,
	      "CA certificates (PEM) to verify the mail server with; empty = the system's."),
	INT("alert", "retry_ms", alert_retry_ms, "30000", 1, 86400000, "ms", 0,
	    "A failed alert delivery is retried after this long, doubling each time up to"
	    " retry_max_ms, until it succeeds or the alert resolves."),
	INT("alert", "retry_max_ms", alert_retry_max_ms, "900000", 1, 86400000, "ms", 0,
	    "Longest pause between retries of a failed alert delivery."),
	/* [metrics] */
	STR("metrics", "listen", metrics_listen, "127.0.0.1:9464", 0, NULL, check_listen,
	    "host:port of the daemon's /metrics, /healthz and status page; empty = off."),
	INT("metrics", "max_connections", http_max_connections, "1000", 16, 100000, "connections",
	    0, "Open HTTP connections the daemon accepts at most; more are refused at once."),
	INT("metrics", "max_connections_per_ip", http_max_per_ip, "256", 1, 100000, "connections",
	    0,
	    "Open HTTP connections from one client address at most, so a few slow clients"
	    " cannot take every slot (/healthz stays reachable for the others)."),
	INT("metrics", "connection_timeout_s", http_timeout_s, "10", 1, 3600, "s", 0,
	    "An HTTP connection idle (nothing received or sent) this long is closed."),
	/* [health] */
	DUR("health", "stale_warn", stale_warn_s, "0", 0, 30 * DAY_S, CFG_DERIVED,
	    "Newest candle (counted from its close) older than this is WARNING; 0 = derived:"
	    " P + lag + 1h, P = the longest gap between scheduled syncs (at least one"
	    " interval), lag = how long after a close the sync runs (default 5h05m, daily"
	    " 01:00 sync: 26h)."),
	DUR("health", "stale_crit", stale_crit_s, "0", 0, 30 * DAY_S, CFG_DERIVED,
	    "Newest candle (counted from its close) older than this is CRITICAL; 0 ="
	    " derived: stale_warn + max(interval, 2h) (default 9h05m, daily 30h)."),
	INT("health", "disk_warn_pct", disk_warn_pct, "10", 0, 100, "% free", 0,
	    "WARNING when the database's file system has less free space than this."),
	INT("health", "disk_crit_pct", disk_crit_pct, "5", 0, 100, "% free", 0,
	    "CRITICAL when the database's file system has less free space than this."),
	/* [schedule] */
	CRON("schedule", "sync", sched_sync, "5 0,4,8,12,16,20 * * *",
	     "Daemon: when to sync (5-field cron, UTC; empty = never). Default: 5 minutes "
	     "after each 4h candle closes."),
	CRON("schedule", "backup", sched_backup, "0 2 * * *",
	     "Daemon: when to back up (cron, UTC; empty = never)."),
	CRON("schedule", "health", sched_health, "0 */6 * * *",
	     "Daemon: when to run the health checks (cron, UTC; empty = never)."),
	CRON("schedule", "audit", sched_audit, "0 3 1 * *",
	     "Daemon: when to run the SLA audit (cron, UTC; empty = never)."),
	CRON("schedule", "integrity_check", sched_integrity, "30 3 * * 0",
	     "Daemon: when to run the full integrity check of the database (cron, UTC; empty"
	     " = never); the health job runs the quick check. Both results are recorded for"
	     " the metrics."),
	STR("schedule", "deadman_url", deadman_url, "", CFG_SECRET, NULL, check_url,
	    "Dead-man's-switch URL pinged at start, success and failure of each sync "
	    "(secret); empty = none."),
	/* [audit] */
	DUR("audit", "rpo", sla_rpo_s, "2h", MIN_S, 30 * DAY_S, 0,
	    "Recovery point objective: most data (time) a restore may lose."),
	DUR("audit", "rto", sla_rto_s, "30m", MIN_S, 7 * DAY_S, 0,
	    "Recovery time objective: longest a restore drill may take."),
	STR("audit", "availability", sla_availability, "99.5", CFG_REQUIRED, NULL, check_percent,
	    "Availability objective, percent of syncs on time."),
};

#define NKEYS (sizeof(cfg_keys) / sizeof(cfg_keys[0]))
_Static_assert(NKEYS <= sizeof(((struct cfg *)0)->origin), "origin[] too small");
_Static_assert(NKEYS <= sizeof(((struct cfg *)0)->origin_line) / sizeof(int),
	       "origin_line[] too small");

enum { ORIGIN_DEFAULT, ORIGIN_FILE, ORIGIN_ENV, ORIGIN_FLAG, ORIGIN_CREDENTIAL };

/* The recorded data's 43 symbols first, then 17 more liquid USDT perpetuals. */
static const char default_symbols[] =
	"BTCUSDT,ETHUSDT,BNBUSDT,SOLUSDT,XRPUSDT,DOGEUSDT,ADAUSDT,AVAXUSDT,LINKUSDT,"
	"DOTUSDT,LTCUSDT,BCHUSDT,TRXUSDT,ETCUSDT,XLMUSDT,ATOMUSDT,NEARUSDT,UNIUSDT,"
	"AAVEUSDT,FILUSDT,APTUSDT,ARBUSDT,OPUSDT,SUIUSDT,INJUSDT,1000PEPEUSDT,"
	"1000SHIBUSDT,1000BONKUSDT,WLDUSDT,TIAUSDT,SEIUSDT,FETUSDT,ENAUSDT,TONUSDT,"
	"HBARUSDT,ALGOUSDT,ICPUSDT,XMRUSDT,0GUSDT,1000000MOGUSDT,1MBABYDOGEUSDT,CFGUSDT,"
	"ASTERUSDT,"
	"ONDOUSDT,RENDERUSDT,TAOUSDT,WIFUSDT,JUPUSDT,PENDLEUSDT,STXUSDT,IMXUSDT,LDOUSDT,"
	"CRVUSDT,MKRUSDT,RUNEUSDT,GALAUSDT,SANDUSDT,AXSUSDT,EGLDUSDT,THETAUSDT";

const char *cfg_default_symbols(void)
{
	return default_symbols;
}

/* ---- small helpers ------------------------------------------------------------ */

static char **str_at(struct cfg *c, const struct cfg_key *k)
{
	return (char **)(void *)((char *)c + k->off);
}

static char *const *cstr_at(const struct cfg *c, const struct cfg_key *k)
{
	return (char *const *)(const void *)((const char *)c + k->off);
}

static int64_t *int_at(struct cfg *c, const struct cfg_key *k)
{
	return (int64_t *)(void *)((char *)c + k->off);
}

static int64_t cint_at(const struct cfg *c, const struct cfg_key *k)
{
	return *(const int64_t *)(const void *)((const char *)c + k->off);
}

static bool is_string_type(enum cfg_type t)
{
	return t == CFG_STR || t == CFG_PATH || t == CFG_CRON || t == CFG_LIST;
}

/* Frees a string, wiping it first if it may hold a secret. */
static void str_free(char *s, bool secret)
{
	if (s && secret)
		explicit_bzero(s, strlen(s));
	free(s);
}

/* CANDLEKEEP_<SECTION>_<KEY>, upper-cased, into buf. */
static void env_name(const struct cfg_key *k, char *buf, size_t n)
{
	size_t i;

	snprintf(buf, n, "CANDLEKEEP_%s_%s", k->section, k->key);
	for (i = 0; buf[i]; i++)
		buf[i] = (char)toupper((unsigned char)buf[i]);
}

static const struct cfg_key *key_find(const char *section, const char *key, size_t *idx)
{
	size_t i;

	for (i = 0; i < NKEYS; i++) {
		if (!strcasecmp(cfg_keys[i].section, section) &&
		    !strcasecmp(cfg_keys[i].key, key)) {
			if (idx)
				*idx = i;
			return &cfg_keys[i];
		}
	}
	return NULL;
}

static bool section_known(const char *section)
{
	size_t i;

	for (i = 0; i < NKEYS; i++)
		if (!strcasecmp(cfg_keys[i].section, section))
			return true;
	return false;
}

/* Seconds as text that dur_parse_s reads back ("90" -> "1m30s", whole days "2d"). */
static const char *dur_fmt(int64_t s, char *buf, size_t n)
{
	return dur_format(s * 1000, DUR_CONFIG, buf, n);
}

/* A decimal integer with nothing around it. Returns 0 or -1 (ERANGE: -2). */
static int parse_int(const char *v, int64_t *out)
{
	char *end;
	long long x;

	if (!(isdigit((unsigned char)v[0]) || (v[0] == '-' && isdigit((unsigned char)v[1]))))
		return -1;
	errno = 0;
	x = strtoll(v, &end, 10);
	if (*end)
		return -1;
	if (errno == ERANGE)
		return -2;
	*out = x;
	return 0;
}

static int parse_bool(const char *v, int64_t *out)
{
	static const char *const yes[] = {"1", "true", "yes", "on"};
	static const char *const no[] = {"0", "false", "no", "off"};
	size_t i;

	for (i = 0; i < 4; i++) {
		if (!strcasecmp(v, yes[i])) {
			*out = 1;
			return 0;
		}
		if (!strcasecmp(v, no[i])) {
			*out = 0;
			return 0;
		}
	}
	return -1;
}

/* ---- per-key checks (may shorten v in place) ---------------------------------- */

#define CFG_INTERVALS_VALID "1m 3m 5m 15m 30m 1h 2h 4h 6h 8h 12h 1d 3d 1w 1M"

int cfg_intervals_check(const char *list, char *why, size_t n)
{
	const char *p = list ? list : "";
	char seen[CK_INTERVALS_MAX][8];
	size_t nseen = 0, count = 1;

	for (const char *q = p; *q; q++)
		count += *q == ',';
	for (;;) {
		size_t len = strcspn(p, ",");
		const char *a = p, *end = p + len;
		char name[16];
		while (a < end && isspace((unsigned char)*a))
			a++;
		while (end > a && isspace((unsigned char)end[-1]))
			end--;
		if (a == end) {
			snprintf(why, n, "an empty name in the list (use names like 4h,1h,1d)");
			return -1;
		}
		snprintf(name, sizeof(name), "%.*s", (int)(end - a), a);
		if ((size_t)(end - a) >= sizeof(name) || kline_interval_ms(name) <= 0) {
			if (count == 1)
				snprintf(why, n, "unknown interval (use " CFG_INTERVALS_VALID ")");
			else
				snprintf(why, n,
					 "unknown interval '%.*s' (use " CFG_INTERVALS_VALID ")",
					 (int)(end - a) > 16 ? 16 : (int)(end - a), a);
			return -1;
		}
		for (size_t i = 0; i < nseen; i++)
			if (!strcmp(seen[i], name)) {
				snprintf(why, n, "%s is listed twice (name each interval once)",
					 name);
				return -1;
			}
		/* valid and distinct names: at most CK_INTERVALS_MAX of them */
		if (nseen < CK_INTERVALS_MAX)
			snprintf(seen[nseen++], sizeof(seen[0]), "%s", name);
		if (!p[len])
			return 0;
		p += len + 1;
	}
}

/* Validates the list and writes it back without white space ("4h, 1h" -> "4h,1h"). */
static int check_intervals(char *v, char *why, size_t n)
{
	char *w = v;

	if (cfg_intervals_check(v, why, n))
		return -1;
	for (const char *r = v; *r; r++)
		if (!isspace((unsigned char)*r))
			*w++ = *r;
	*w = 0;
	return 0;
}

static void intervals_free(struct cfg *c)
{
	for (size_t i = 0; i < c->nintervals; i++)
		free(c->intervals[i]);
	free(c->intervals);
	c->intervals = NULL;
	c->nintervals = 0;
	c->interval = NULL;
}

/* A validated interval list (text) into intervals[]; interval = the first. On failure
 * nothing changes. */
static int intervals_parse(struct cfg *c, const char *text, struct ck_err *err)
{
	const char *p = text;
	size_t count = 1, i = 0;
	char **v;

	for (const char *q = p; *q; q++)
		count += *q == ',';
	if (!(v = calloc(count, sizeof(*v))))
		return ck_err_set(err, CK_ENOMEM, "out of memory");
	for (i = 0; i < count; i++) {
		size_t len = strcspn(p, ",");
		if (!(v[i] = strndup(p, len))) {
			while (i--)
				free(v[i]);
			free(v);
			return ck_err_set(err, CK_ENOMEM, "out of memory");
		}
		p += len + (p[len] == ',');
	}
	intervals_free(c);
	c->intervals = v;
	c->nintervals = count;
	c->interval = v[0];
	c->interval_ms = kline_interval_ms(v[0]);
	return 0;
}

static int check_url_scheme(char *v, char *why, size_t n, const char *a, const char *b)
{
	size_t len;

	if (!*v)
		return 0;
	if ((strncmp(v, a, strlen(a)) || !v[strlen(a)]) &&
	    (strncmp(v, b, strlen(b)) || !v[strlen(b)])) {
		snprintf(why, n, "must be a URL starting with %s or %s", a, b);
		return -1;
	}
	if (strchr(v, ' ')) {
		snprintf(why, n, "must not contain spaces");
		return -1;
	}
	len = strlen(v);
	while (len > 0 && v[len - 1] == '/')
		v[--len] = '\0';
	return 0;
}

static int check_url(char *v, char *why, size_t n)
{
	return check_url_scheme(v, why, n, "https://", "http://");
}

static int check_smtp_url(char *v, char *why, size_t n)
{
	return check_url_scheme(v, why, n, "smtps://", "smtp://");
}

static int check_listen(char *v, char *why, size_t n)
{
	const char *colon = strrchr(v, ':');
	int64_t port;

	if (!*v)
		return 0;
	if (!colon || colon == v || parse_int(colon + 1, &port) || port < 1 || port > 65535) {
		snprintf(why, n, "must be host:port, e.g. 127.0.0.1:9464 (empty = off)");
		return -1;
	}
	return 0;
}

static int check_percent(char *v, char *why, size_t n)
{
	const char *p = v;
	int digits = 0, frac = 0;
	char *end;
	double x;

	while (isdigit((unsigned char)*p)) {
		p++;
		digits++;
	}
	if (*p == '.') {
		for (p++; isdigit((unsigned char)*p); p++)
			frac++;
	}
	x = strtod(v, &end);
	if (!digits || *p || frac > 4 || x <= 0 || x > 100) {
		snprintf(why, n, "must be a percentage above 0 and at most 100, e.g. 99.5");
		return -1;
	}
	return 0;
}

static int check_cron(char *v, char *why, size_t n)
{
	struct sched_cron c;
	struct ck_err e;

	if (!*v)
		return 0; /* not scheduled */
	/* The daemon's own parser, so what `config` accepts is what the daemon runs. */
	if (sched_parse(v, &c, &e)) {
		snprintf(why, n, "%s", e.msg);
		return -1;
	}
	return 0;
}

int cfg_symbol_valid(const char *s)
{
	size_t i;

	if (!s)
		return 0;
	for (i = 0; s[i]; i++) {
		/* '_': COIN-M names like BTCUSD_PERP */
		if (i >= 20 ||
		    !(isdigit((unsigned char)s[i]) || (s[i] >= 'A' && s[i] <= 'Z') || s[i] == '_'))
			return 0;
	}
	return i > 0;
}

/* Normalises a symbols value in place: "default", "all", or names separated by commas
 * and/or white space, written back comma-separated without duplicates. */
static int check_symbols(char *v, char *why, size_t n)
{
	char *r = v, *w = v, tok[24];
	size_t count = 0;

	if (!strcmp(v, "default") || !strcmp(v, "all"))
		return 0;
	while (*r) {
		char *start, *q;
		size_t len, i;
		bool dup = false;

		while (*r == ',' || isspace((unsigned char)*r))
			r++;
		if (!*r)
			break;
		start = r;
		while (*r && *r != ',' && !isspace((unsigned char)*r))
			r++;
		len = (size_t)(r - start);
		snprintf(tok, sizeof(tok), "%.*s%s", (int)(len > 20 ? 20 : len), start,
			 len > 20 ? "..." : "");
		if (len > 20) {
			snprintf(why, n, "symbol %s is longer than 20 characters", tok);
			return -1;
		}
		if (!strcmp(tok, "default") || !strcmp(tok, "all")) {
			snprintf(why, n, "\"%s\" cannot be combined with symbol names", tok);
			return -1;
		}
		if (!cfg_symbol_valid(tok)) {
			for (i = 0; tok[i]; i++)
				tok[i] = (char)toupper((unsigned char)tok[i]);
			if (cfg_symbol_valid(tok))
				snprintf(why, n, "symbol %.*s must be upper case (%s)", (int)len,
					 start, tok);
			else
				snprintf(why, n,
					 "symbol %.*s is not a valid name (A-Z and 0-9, "
					 "at most 20)",
					 (int)len, start);
			return -1;
		}
		/* duplicate of a name already written? */
		for (q = v; q < w;) {
			char *comma = memchr(q, ',', (size_t)(w - q));
			size_t qlen = comma ? (size_t)(comma - q) : (size_t)(w - q);
			if (qlen == len && !memcmp(q, start, len)) {
				dup = true;
				break;
			}
			q += qlen + 1;
		}
		if (dup)
			continue;
		if (++count > CFG_SYMBOLS_MAX) {
			snprintf(why, n, "more than %d symbols", CFG_SYMBOLS_MAX);
			return -1;
		}
		if (w != v)
			*w++ = ',';
		memmove(w, start, len); /* w <= start: output never outruns input */
		w += len;
	}
	*w = '\0';
	if (!count) {
		snprintf(why, n, "no symbols (use default, all, or names like BTCUSDT,ETHUSDT)");
		return -1;
	}
	return 0;
}

/* ---- secrets ------------------------------------------------------------------ */

/* Reads the first line of a secret file (regular, no group/other permission bits)
 * into a malloc'd string. Messages name the file, never its contents. */
static int secret_read(const char *path, const char *what, char **out, struct ck_err *err)
{
	char buf[CFG_STR_MAX + 1];
	struct stat st;
	ssize_t got;
	size_t len = 0;
	char *nl;
	int fd, e;

	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
	if (fd < 0)
		return ck_err_set(err, CK_EUSAGE, "%s: open secret file %s: %s", what, path,
				  strerror(errno));
	if (fstat(fd, &st) < 0) {
		e = errno;
		close(fd);
		return ck_err_set(err, CK_EUSAGE, "%s: stat %s: %s", what, path, strerror(e));
	}
	if (!S_ISREG(st.st_mode)) {
		close(fd);
		return ck_err_set(err, CK_EUSAGE, "%s: secret file %s is not a regular file", what,
				  path);
	}
	if (st.st_mode & 077) {
		close(fd);
		return ck_err_set(err, CK_EUSAGE,
				  "%s: secret file %s is readable by others "
				  "(mode %04o): chmod 600 %s",
				  what, path, (unsigned)(st.st_mode & 07777), path);
	}
	while (len < sizeof(buf) - 1) {
		got = read(fd, buf + len, sizeof(buf) - 1 - len);
		if (got < 0 && errno == EINTR)
			continue;
		if (got < 0) {
			e = errno;
			close(fd);
			explicit_bzero(buf, sizeof(buf));
			return ck_err_set(err, CK_EUSAGE, "%s: read %s: %s", what, path,
					  strerror(e));
		}
		if (got == 0)
			break;
		len += (size_t)got;
	}
	close(fd);
	buf[len] = '\0';
	nl = memchr(buf, '\n', len);
	if (!nl && len == sizeof(buf) - 1) {
		explicit_bzero(buf, sizeof(buf));
		return ck_err_set(err, CK_EUSAGE,
				  "%s: secret file %s: first line longer than "
				  "%d bytes",
				  what, path, CFG_STR_MAX);
	}
	if (nl)
		*nl = '\0';
	len = strlen(buf);
	while (len > 0 && isspace((unsigned char)buf[len - 1]))
		buf[--len] = '\0';
	if (!len) {
		explicit_bzero(buf, sizeof(buf));
		return ck_err_set(err, CK_EUSAGE,
				  "%s: secret file %s is empty (its first line "
				  "is the value)",
				  what, path);
	}
	*out = strdup(buf);
	explicit_bzero(buf, sizeof(buf));
	if (!*out)
		return ck_err_set(err, CK_ENOMEM, "%s: out of memory", what);
	return 0;
}

/* ---- setting one row ---------------------------------------------------------- */

/* "SOURCE: [sec] key = VALUE: problem"; VALUE masked for secrets, shortened if long. */
static int bad_value(struct ck_err *err, const char *source, const struct cfg_key *k,
		     const char *value, const char *why)
{
	size_t len = strlen(value);
	bool cut = len > CFG_VALUE_SHOWN;

	if (k->flags & CFG_SECRET)
		value = "********", cut = false;
	return ck_err_set(err, CK_EUSAGE, "%s%s[%s] %s = %.*s%s: %s", source ? source : "",
			  source ? ": " : "", k->section, k->key, CFG_VALUE_SHOWN, value,
			  cut ? "..." : "", why);
}

/* Validates value for row idx and stores it; on failure nothing changes. */
static int set_row(struct cfg *c, size_t idx, const char *value, int origin, int line,
		   const char *source, struct ck_err *err)
{
	const struct cfg_key *k = &cfg_keys[idx];
	bool secret = k->flags & CFG_SECRET;
	char why[192], what[96], *v = NULL;
	size_t len, max = k->type == CFG_LIST ? CFG_LIST_MAX : CFG_STR_MAX;
	int64_t x = 0;
	int rc;

	/* trim white space */
	while (isspace((unsigned char)*value))
		value++;
	len = strlen(value);
	while (len > 0 && isspace((unsigned char)value[len - 1]))
		len--;
	if (len > max) {
		snprintf(why, sizeof(why), "longer than %zu bytes", max);
		return bad_value(err, source, k, "", why);
	}
	if (secret && value[0] == '@') {
		char path[CFG_STR_MAX + 1];
		snprintf(path, sizeof(path), "%.*s", (int)(len - 1), value + 1);
		snprintf(what, sizeof(what), "%s%s[%s] %s", source ? source : "",
			 source ? ": " : "", k->section, k->key);
		if (!path[0])
			return ck_err_set(err, CK_EUSAGE,
					  "%s: \"@\" needs a file name "
					  "(@/path/to/secret-file)",
					  what);
		rc = secret_read(path, what, &v, err);
		if (rc)
			return rc;
		len = strlen(v);
	} else {
		v = strndup(value, len);
		if (!v)
			return ck_err_set(err, CK_ENOMEM, "out of memory");
	}
	for (size_t i = 0; i < len; i++) {
		if ((unsigned char)v[i] < 0x20 || v[i] == 0x7f) {
			rc = bad_value(err, source, k, "", "must not contain control characters");
			goto fail;
		}
	}

	switch (k->type) {
	case CFG_INT:
		rc = parse_int(v, &x);
		if (rc == -1) {
			rc = bad_value(err, source, k, v, "not a whole number");
			goto fail;
		}
		if (rc == -2 || x < k->min || x > k->max) {
			snprintf(why, sizeof(why), "must be %" PRId64 "..%" PRId64, k->min, k->max);
			rc = bad_value(err, source, k, v, why);
			goto fail;
		}
		*int_at(c, k) = x;
		break;
	case CFG_DURATION:
		rc = dur_parse_s(v, &x);
		if (rc == -1) {
			rc = bad_value(err, source, k, v,
				       "not a duration (use e.g. 90, 90s, 15m, 4h, 2d or 5h5m)");
			goto fail;
		}
		if (rc == -2 || x < k->min || x > k->max) {
			char lo[24], hi[24];
			snprintf(why, sizeof(why), "must be %s..%s",
				 dur_fmt(k->min, lo, sizeof(lo)), dur_fmt(k->max, hi, sizeof(hi)));
			rc = bad_value(err, source, k, v, why);
			goto fail;
		}
		*int_at(c, k) = x;
		break;
	case CFG_BOOL:
		if (parse_bool(v, &x)) {
			rc = bad_value(err, source, k, v, "not a boolean (use true or false)");
			goto fail;
		}
		*int_at(c, k) = x;
		break;
	case CFG_STR:
	case CFG_PATH:
	case CFG_CRON:
	case CFG_LIST:
		if ((k->flags & CFG_REQUIRED) && !*v) {
			rc = bad_value(err, source, k, v, "must not be empty");
			goto fail;
		}
		if (k->choices) {
			const char *p = k->choices;
			size_t vl = strlen(v);
			bool ok = false;
			while (*p && !ok) {
				size_t pl = strcspn(p, "|");
				ok = pl == vl && !strncmp(p, v, vl);
				p += pl + (p[pl] == '|');
			}
			if (!ok) {
				snprintf(why, sizeof(why), "must be one of %s", k->choices);
				rc = bad_value(err, source, k, v, why);
				goto fail;
			}
		}
		if (k->check && k->check(v, why, sizeof(why))) {
			rc = bad_value(err, source, k, value, why);
			goto fail;
		}
		if (k->off == offsetof(struct cfg, interval_list) &&
		    (rc = intervals_parse(c, v, err)) != 0)
			goto fail;
		str_free(*str_at(c, k), secret);
		*str_at(c, k) = v;
		v = NULL;
		break;
	}
	str_free(v, secret);
	/* [main] interval and intervals are one value under two names */
	for (size_t j = 0; j < NKEYS; j++)
		if (j == idx || (cfg_keys[j].off == k->off && is_string_type(cfg_keys[j].type) &&
				 is_string_type(k->type))) {
			c->origin[j] = (unsigned char)origin;
			c->origin_line[j] = line;
		}
	return 0;
fail:
	str_free(v, secret);
	return rc;
}

/* ---- lifecycle ---------------------------------------------------------------- */

int cfg_init(struct cfg *c, struct ck_err *err)
{
	size_t i;
	int rc;

	memset(c, 0, sizeof(*c));
	for (i = 0; i < NKEYS; i++) {
		rc = set_row(c, i, cfg_keys[i].def, ORIGIN_DEFAULT, 0, "built-in default", err);
		if (rc) {
			cfg_release(c);
			return rc;
		}
	}
	return 0;
}

void cfg_release(struct cfg *c)
{
	size_t i;

	if (!c)
		return;
	for (i = 0; i < NKEYS; i++) {
		const struct cfg_key *k = &cfg_keys[i];
		if (is_string_type(k->type)) {
			str_free(*str_at(c, k), k->flags & CFG_SECRET);
			*str_at(c, k) = NULL;
		}
	}
	intervals_free(c);
	free(c->file);
	c->file = NULL;
}

int cfg_set(struct cfg *c, const char *section, const char *key, const char *value,
	    const char *source, struct ck_err *err)
{
	size_t idx;

	if (!key_find(section, key, &idx))
		return ck_err_set(err, CK_EUSAGE, "%s%sunknown key [%s] %s (%s)",
				  source ? source : "", source ? ": " : "", section, key, CFG_SEE);
	return set_row(c, idx, value ? value : "", ORIGIN_FLAG, 0, source, err);
}

/* ---- INI files ---------------------------------------------------------------- */

/* Parse state: the text, a line reader for inih that counts lines and refuses
 * over-long ones, the first error, and a symbols list being collected over indented
 * continuation lines. */
struct ini_load {
	struct cfg *c;
	const char *name; /* file name for messages */
	struct ck_err *err;
	int rc; /* first error, 0 if none */
	const char *text;
	size_t len, pos;
	int lineno;                 /* lines handed to inih so far */
	bool indented;              /* the current line starts with white space */
	bool section_seen;          /* a [section] line since the last key */
	bool inline_secrets_ok;     /* the file is not readable by group/other */
	const struct cfg_key *prev; /* the last key set, for continuation lines */
	size_t pending_idx;         /* a LIST value being collected */
	char *pending;
	size_t pending_len;
	int pending_line;
};

static char *ini_reader_cb(char *str, int num, void *stream)
{
	struct ini_load *L = stream;
	const char *p, *nl;
	size_t n;

	if (L->rc || L->pos >= L->len || num < 4)
		return NULL;
	p = L->text + L->pos;
	nl = memchr(p, '\n', L->len - L->pos);
	n = nl ? (size_t)(nl - p) + 1 : L->len - L->pos;
	L->lineno++;
	if (n > (size_t)num - 1) {
		L->rc = ck_err_set(L->err, CK_EUSAGE,
				   "%s:%d: line longer than %d characters "
				   "(a long symbols list may continue on indented lines)",
				   L->name, L->lineno, num - 3);
		return NULL;
	}
	if (memchr(p, '\0', n)) {
		L->rc = ck_err_set(L->err, CK_EUSAGE, "%s:%d: NUL byte (not a text file?)", L->name,
				   L->lineno);
		return NULL;
	}
	memcpy(str, p, n);
	str[n] = '\0';
	L->pos += n;
	L->indented = isspace((unsigned char)str[0]) && str[0] != '\n';
	{
		const char *s = str;
		while (isspace((unsigned char)*s))
			s++;
		if (*s == '[')
			L->section_seen = true;
	}
	return str;
}

static int ini_flush_pending(struct ini_load *L)
{
	char src[320];
	int rc;

	if (!L->pending)
		return 0;
	snprintf(src, sizeof(src), "%s:%d", L->name, L->pending_line);
	rc = set_row(L->c, L->pending_idx, L->pending, ORIGIN_FILE, L->pending_line, src, L->err);
	free(L->pending);
	L->pending = NULL;
	return rc;
}

static int ini_handler_cb(void *user, const char *section, const char *name, const char *value)
{
	struct ini_load *L = user;
	const struct cfg_key *k;
	bool cont = L->indented && !L->section_seen && L->prev;
	char src[320];
	size_t idx, vl;

	if (L->rc)
		return 1;
	L->section_seen = false;
	if (cont) {
		if (L->pending && L->prev == &cfg_keys[L->pending_idx]) {
			vl = strlen(value);
			if (L->pending_len + 1 + vl > CFG_LIST_MAX) {
				L->rc = ck_err_set(L->err, CK_EUSAGE,
						   "%s:%d: [%s] %s: longer than "
						   "%d bytes",
						   L->name, L->lineno, L->prev->section,
						   L->prev->key, CFG_LIST_MAX);
				return 1;
			}
			char *np = realloc(L->pending, L->pending_len + 1 + vl + 1);
			if (!np) {
				L->rc = ck_err_set(L->err, CK_ENOMEM, "out of memory");
				return 1;
			}
			L->pending = np;
			np[L->pending_len] = ' ';
			memcpy(np + L->pending_len + 1, value, vl + 1);
			L->pending_len += 1 + vl;
			return 1;
		}
		L->rc = ck_err_set(L->err, CK_EUSAGE,
				   "%s:%d: indented line continues [%s] "
				   "%s; only symbols may span lines (remove the indentation)",
				   L->name, L->lineno, L->prev->section, L->prev->key);
		return 1;
	}
	if ((L->rc = ini_flush_pending(L)))
		return 1;
	k = key_find(section, name, &idx);
	if (!k) {
		if (!*section)
			L->rc = ck_err_set(L->err, CK_EUSAGE,
					   "%s:%d: key %s before any [section] "
					   "(%s)",
					   L->name, L->lineno, name, CFG_SEE);
		else if (!section_known(section))
			L->rc = ck_err_set(L->err, CK_EUSAGE, "%s:%d: unknown section [%s] (%s)",
					   L->name, L->lineno, section, CFG_SEE);
		else
			L->rc = ck_err_set(L->err, CK_EUSAGE, "%s:%d: unknown key [%s] %s (%s)",
					   L->name, L->lineno, section, name, CFG_SEE);
		return 1;
	}
	L->prev = k;
	if ((k->flags & CFG_SECRET) && *value && *value != '@' && !L->inline_secrets_ok) {
		L->rc = ck_err_set(L->err, CK_EUSAGE,
				   "%s:%d: [%s] %s: a secret in a file that "
				   "group or others may read (chmod 600 %s, or use %s = "
				   "@/path/to/secret-file)",
				   L->name, L->lineno, k->section, k->key, L->name, k->key);
		return 1;
	}
	if (k->type == CFG_LIST) {
		L->pending = strdup(value);
		if (!L->pending) {
			L->rc = ck_err_set(L->err, CK_ENOMEM, "out of memory");
			return 1;
		}
		L->pending_idx = idx;
		L->pending_len = strlen(value);
		L->pending_line = L->lineno;
		return 1;
	}
	snprintf(src, sizeof(src), "%s:%d", L->name, L->lineno);
	L->rc = set_row(L->c, idx, value, ORIGIN_FILE, L->lineno, src, L->err);
	return 1;
}

static int ini_load_text(struct cfg *c, const char *text, size_t len, const char *name,
			 bool inline_secrets_ok, struct ck_err *err)
{
	struct ini_load L;
	char *fname;
	int line;

	memset(&L, 0, sizeof(L));
	L.c = c;
	L.name = name;
	L.err = err;
	L.text = text;
	L.len = len;
	L.inline_secrets_ok = inline_secrets_ok;
	line = ini_parse_stream(ini_reader_cb, &L, ini_handler_cb, &L);
	if (!L.rc)
		L.rc = ini_flush_pending(&L);
	free(L.pending);
	/* inih reports a malformed line only at the end; my reader stops at the first
	 * error, so a malformed line it reports came before any error of ours. */
	if (L.rc && line <= 0)
		return L.rc;
	if (line > 0)
		return ck_err_set(err, CK_EUSAGE,
				  "%s:%d: not a `key = value` line or a "
				  "[section] header",
				  name, line);
	if (line < 0)
		return ck_err_set(err, CK_ENOMEM, "%s: out of memory parsing", name);
	fname = strdup(name);
	if (!fname)
		return ck_err_set(err, CK_ENOMEM, "out of memory");
	free(c->file);
	c->file = fname;
	return 0;
}

int cfg_load_string(struct cfg *c, const char *text, size_t len, const char *name,
		    struct ck_err *err)
{
	return ini_load_text(c, text, len, name ? name : "(string)", true, err);
}

int cfg_load_file(struct cfg *c, const char *path, struct ck_err *err)
{
	struct stat st;
	char *buf;
	size_t len = 0, got;
	bool private_file;
	FILE *f;
	int rc, e;

	f = fopen(path, "re");
	if (!f)
		return ck_err_set(err, CK_EUSAGE, "open %s: %s", path, strerror(errno));
	if (fstat(fileno(f), &st) < 0) {
		e = errno;
		fclose(f);
		return ck_err_set(err, CK_EUSAGE, "stat %s: %s", path, strerror(e));
	}
	if (S_ISDIR(st.st_mode)) {
		fclose(f);
		return ck_err_set(err, CK_EUSAGE, "read %s: Is a directory", path);
	}
	/* A pipe (-c <(...)) is private to us; a regular file must not be readable by
	 * group or others to hold a secret inline. */
	private_file = !S_ISREG(st.st_mode) || !(st.st_mode & 077);
	buf = malloc(CFG_FILE_MAX + 1);
	if (!buf) {
		fclose(f);
		return ck_err_set(err, CK_ENOMEM, "out of memory");
	}
	while ((got = fread(buf + len, 1, CFG_FILE_MAX + 1 - len, f)) > 0) {
		len += got;
		if (len > CFG_FILE_MAX)
			break;
	}
	if (ferror(f)) {
		e = errno;
		fclose(f);
		free(buf);
		return ck_err_set(err, CK_EUSAGE, "read %s: %s", path, strerror(e));
	}
	fclose(f);
	if (len > CFG_FILE_MAX) {
		free(buf);
		return ck_err_set(err, CK_EUSAGE,
				  "%s: larger than %d bytes (is it a config "
				  "file?)",
				  path, CFG_FILE_MAX);
	}
	rc = ini_load_text(c, buf, len, path, private_file, err);
	explicit_bzero(buf, len);
	free(buf);
	return rc;
}

/* ---- environment -------------------------------------------------------------- */

#define ENV_PREFIX "CANDLEKEEP_"

/* systemd credentials (LoadCredential=): with $CREDENTIALS_DIRECTORY set, a secret key
 * whose file <section>_<key> (or candlekeep_<section>_<key>) exists there (e.g.
 * alert_slack_webhook) takes its value from it, as "@file" would. systemd makes the directory
 * readable by the service's user only, whatever owns the source file (a root-owned 0600 file works
 * with DynamicUser=). */
static int cfg_load_credentials(struct cfg *c, const char *dir, struct ck_err *err)
{
	char path[CFG_STR_MAX + 2], src[160];
	size_t j;
	int rc;

	for (j = 0; j < NKEYS; j++) {
		const struct cfg_key *k = &cfg_keys[j];
		if (!(k->flags & CFG_SECRET))
			continue;
		/* LoadCredential=NAME:FILE gives NAME; LoadCredential=candlekeep:DIR gives
		 * candlekeep_<file name> for each file of DIR */
		if ((size_t)snprintf(path, sizeof(path), "@%s/%s_%s", dir, k->section, k->key) >=
		    sizeof(path))
			return ck_err_set(err, CK_EUSAGE, "CREDENTIALS_DIRECTORY: path too long");
		if (access(path + 1, F_OK) != 0) {
			snprintf(path, sizeof(path), "@%s/candlekeep_%s_%s", dir, k->section,
				 k->key);
			if (access(path + 1, F_OK) != 0)
				continue;
		}
		snprintf(src, sizeof(src), "credential %s_%s", k->section, k->key);
		if ((rc = set_row(c, j, path, ORIGIN_CREDENTIAL, 0, src, err)))
			return rc;
	}
	return 0;
}

int cfg_load_env(struct cfg *c, char *const *envp, struct ck_err *err)
{
	char name[128];
	size_t i, j;
	int rc;

	if (!envp)
		return 0;
	for (i = 0; envp[i]; i++)
		if (!strncmp(envp[i], "CREDENTIALS_DIRECTORY=", 22) && envp[i][22] &&
		    (rc = cfg_load_credentials(c, envp[i] + 22, err)))
			return rc;
	for (i = 0; envp[i]; i++) {
		const char *e = envp[i], *eq;
		bool found = false;

		if (strncmp(e, ENV_PREFIX, strlen(ENV_PREFIX)))
			continue;
		/* reserved: test hooks, and the config file path for main */
		if (!strncmp(e, "CANDLEKEEP_FAULT", 16) || !strncmp(e, "CANDLEKEEP_TEST", 15) ||
		    !strncmp(e, "CANDLEKEEP_CONFIG=", 18))
			continue;
		eq = strchr(e, '=');
		if (!eq)
			continue;
		for (j = 0; j < NKEYS; j++) {
			env_name(&cfg_keys[j], name, sizeof(name));
			if (strlen(name) == (size_t)(eq - e) &&
			    !strncmp(name, e, (size_t)(eq - e))) {
				found = true;
				break;
			}
		}
		if (!found)
			return ck_err_set(err, CK_EUSAGE,
					  "environment variable %.*s: unknown "
					  "key (%s; CANDLEKEEP_FAULT* and CANDLEKEEP_TEST* are "
					  "reserved for tests)",
					  (int)(eq - e > 64 ? 64 : eq - e), e, CFG_SEE);
		rc = set_row(c, j, eq + 1, ORIGIN_ENV, 0, name, err);
		if (rc)
			return rc;
	}
	return 0;
}

/* ---- derived values ----------------------------------------------------------- */

/* Staleness thresholds (seconds) when not configured, for the age of the newest stored
 * candle counted from its close. In sync that age stays under A = sched_max_age_s (one
 * interval without a schedule). Warn an hour past it (a run was missed): A + 1h;
 * critical some hours later: warn + max(interval, 2h). 4h candles with the default
 * schedule (5 past every 4th hour): A = 4h05m, 5h05m/9h05m; a daily 01:00 sync: A =
 * 25h, 26h/30h; 1h candles synced every 15 minutes: A = 1h, 2h/4h. */
static void stale_derive(const struct cfg *c, int64_t *warn, int64_t *crit)
{
	int64_t iv = c->interval_ms / 1000, age = iv;
	struct sched_cron sc;

	if (interval_is_month(c->interval_ms)) {
		/* 1M: the newest closed month closed at most 31 days ago, plus the
		 * schedule's lag after midnight (a daily candle's age less its day) */
		int64_t day = DAY_S;
		if (!c->sched_sync || !*c->sched_sync || sched_parse(c->sched_sync, &sc, NULL) ||
		    sched_max_age_s(&sc, DAY_S, &day))
			day = DAY_S;
		*warn = iv + (day - DAY_S) + HOUR_S;
		*crit = *warn + DAY_S;
		return;
	}
	if (!c->sched_sync || !*c->sched_sync || sched_parse(c->sched_sync, &sc, NULL) ||
	    sched_max_age_s(&sc, iv, &age))
		age = iv;
	*warn = age + HOUR_S;
	*crit = *warn + (iv > 2 * HOUR_S ? iv : 2 * HOUR_S);
}

static int derive_dir(char **dst, const char *db, const char *sub, struct ck_err *err)
{
	const char *slash = strrchr(db, '/');
	size_t n;
	char *s;

	if (*dst && **dst)
		return 0;
	if (!slash)
		n = (size_t)snprintf(NULL, 0, "%s", sub) + 1;
	else
		n = (size_t)(slash - db) + 1 + strlen(sub) + 1;
	s = malloc(n);
	if (!s)
		return ck_err_set(err, CK_ENOMEM, "out of memory");
	if (!slash)
		snprintf(s, n, "%s", sub);
	else
		snprintf(s, n, "%.*s/%s", (int)(slash - db), db, sub);
	free(*dst);
	*dst = s;
	return 0;
}

int cfg_finish(struct cfg *c, struct ck_err *err)
{
	int64_t warn, crit;
	char a[24], b[24];
	int rc;

	/* the default host is USD-M's; the other markets have their own */
	if (c->market && strcmp(c->market, "um") && c->base_url &&
	    !strcmp(c->base_url, "https://fapi.binance.com")) {
		free(c->base_url);
		if (!(c->base_url = strdup(strcmp(c->market, "cm") ? "https://api.binance.com"
								   : "https://dapi.binance.com")))
			return ck_err_set(err, CK_ENOMEM, "out of memory");
	}
	if (!c->nintervals)
		return ck_err_set(err, CK_EUSAGE, "[main] intervals: not set (e.g. 4h)");
	c->interval = c->intervals[0];
	c->interval_ms = kline_interval_ms(c->interval);
	if (c->interval_ms <= 0)
		return ck_err_set(err, CK_EUSAGE, "[main] interval = %s: unknown interval",
				  c->interval);
	c->stale_warn_set = c->stale_warn_s;
	c->stale_crit_set = c->stale_crit_s;
	if ((rc = derive_dir(&c->backup_hot_dir, c->db ? c->db : "", "backups/hot", err)) ||
	    (rc = derive_dir(&c->backup_warm_dir, c->db ? c->db : "", "backups/warm", err)))
		return rc;
	stale_derive(c, &warn, &crit);
	if (!c->stale_warn_s)
		c->stale_warn_s = warn;
	if (!c->stale_crit_s)
		c->stale_crit_s =
			crit > c->stale_warn_s ? crit : c->stale_warn_s + c->interval_ms / 1000;
	if (c->stale_warn_s >= c->stale_crit_s)
		return ck_err_set(err, CK_EUSAGE,
				  "[health] stale_warn = %s must be less than "
				  "stale_crit = %s",
				  dur_fmt(c->stale_warn_s, a, sizeof(a)),
				  dur_fmt(c->stale_crit_s, b, sizeof(b)));
	if (c->disk_warn_pct < c->disk_crit_pct)
		return ck_err_set(err, CK_EUSAGE,
				  "[health] disk_warn_pct = %" PRId64 " must be "
				  "at least disk_crit_pct = %" PRId64 " (both are free space)",
				  c->disk_warn_pct, c->disk_crit_pct);
	if (!strcmp(c->backup_hot_dir, c->backup_warm_dir))
		return ck_err_set(err, CK_EUSAGE,
				  "[backup] hot_dir and warm_dir are both %s "
				  "(warm copies belong on another disk)",
				  c->backup_hot_dir);
	return 0;
}

void cfg_interval_use(struct cfg *c, size_t i)
{
	int64_t warn, crit;

	if (i >= c->nintervals)
		return;
	c->interval = c->intervals[i];
	c->interval_ms = kline_interval_ms(c->interval);
	stale_derive(c, &warn, &crit);
	c->stale_warn_s = c->stale_warn_set ? c->stale_warn_set : warn;
	c->stale_crit_s = c->stale_crit_set        ? c->stale_crit_set
			  : crit > c->stale_warn_s ? crit
						   : c->stale_warn_s + c->interval_ms / 1000;
}

/* ---- symbols ------------------------------------------------------------------ */

void cfg_symbols_free(char **list, size_t n)
{
	size_t i;

	if (!list)
		return;
	for (i = 0; i < n; i++)
		free(list[i]);
	free(list);
}

int cfg_symbols_list(const struct cfg *c, char ***out, size_t *n, struct ck_err *err)
{
	const char *s = c->symbols ? c->symbols : "";
	char **list = NULL;
	size_t count = 1, i = 0;
	const char *p;

	*out = NULL;
	*n = 0;
	if (!strcmp(s, "all"))
		return ck_err_set(err, CK_ENOTFOUND,
				  "symbols = all: the list comes from the "
				  "exchange's exchangeInfo");
	if (!strcmp(s, "default"))
		s = default_symbols;
	if (!*s)
		return ck_err_set(err, CK_EUSAGE, "[main] symbols is empty");
	for (p = s; *p; p++)
		count += *p == ',';
	list = calloc(count, sizeof(*list));
	if (!list)
		return ck_err_set(err, CK_ENOMEM, "out of memory");
	for (p = s; i < count; i++) {
		size_t len = strcspn(p, ",");
		list[i] = strndup(p, len);
		if (!list[i]) {
			cfg_symbols_free(list, i);
			return ck_err_set(err, CK_ENOMEM, "out of memory");
		}
		p += len + (p[len] == ',');
	}
	*out = list;
	*n = count;
	return 0;
}

/* ---- printing ----------------------------------------------------------------- */

static const char *type_name(const struct cfg_key *k)
{
	switch (k->type) {
	case CFG_STR:
		return k->choices ? k->choices : "string";
	case CFG_INT:
		return "integer";
	case CFG_DURATION:
		return "duration";
	case CFG_BOOL:
		return "boolean";
	case CFG_PATH:
		return "path";
	case CFG_CRON:
		return "cron";
	case CFG_LIST:
		return "list";
	}
	return "?";
}

/* "integer 1..64 requests" / "duration 0..7d" / "boolean" ... */
static void type_desc(const struct cfg_key *k, char *buf, size_t n)
{
	char lo[24], hi[24];

	if (k->type == CFG_INT)
		snprintf(buf, n, "integer %" PRId64 "..%" PRId64 "%s%s", k->min, k->max,
			 k->unit ? " " : "", k->unit ? k->unit : "");
	else if (k->type == CFG_DURATION)
		snprintf(buf, n, "duration %s..%s", dur_fmt(k->min, lo, sizeof(lo)),
			 dur_fmt(k->max, hi, sizeof(hi)));
	else
		snprintf(buf, n, "%s%s", type_name(k),
			 (k->flags & CFG_SECRET) ? ", secret: value or @/path/to/file (mode 0600)"
						 : "");
}

/* Writes text word-wrapped to width, each line starting with prefix. */
static void wrap(FILE *f, const char *prefix, const char *text, size_t width)
{
	size_t col = 0, plen = strlen(prefix);
	const char *p = text;

	while (*p) {
		size_t w;
		while (*p == ' ')
			p++;
		if (!*p)
			break;
		w = strcspn(p, " ");
		if (col && col + 1 + w > width) {
			fputc('\n', f);
			col = 0;
		}
		if (!col) {
			fputs(prefix, f);
			col = plen;
		} else {
			fputc(' ', f);
			col++;
		}
		fwrite(p, 1, w, f);
		col += w;
		p += w;
	}
	if (col)
		fputc('\n', f);
}

/* The printable value of row k (secrets masked). */
static const char *value_text(const struct cfg *c, const struct cfg_key *k, char *buf, size_t n)
{
	if (is_string_type(k->type)) {
		const char *s = *cstr_at(c, k);
		if (k->flags & CFG_SECRET)
			return s && *s ? "********" : "";
		if (s && strstr(s, "://")) /* a URL's password is a secret too */
			return redact_copy(s, buf, n);
		return s ? s : "";
	}
	if (k->type == CFG_BOOL)
		return cint_at(c, k) ? "true" : "false";
	if (k->type == CFG_DURATION)
		return dur_fmt(cint_at(c, k), buf, n);
	snprintf(buf, n, "%" PRId64, cint_at(c, k));
	return buf;
}

int cfg_print(const struct cfg *c, FILE *f)
{
	const char *sec = NULL;
	char buf[4096], env[128];
	size_t i;

	fprintf(f, "# candlekeep effective configuration (secrets shown as ********)\n");
	for (i = 0; i < NKEYS; i++) {
		const struct cfg_key *k = &cfg_keys[i];
		if (!sec || strcmp(sec, k->section)) {
			sec = k->section;
			fprintf(f, "\n[%s]\n", sec);
		}
		switch (c->origin[i]) {
		case ORIGIN_FILE:
			if (c->origin_line[i])
				fprintf(f, "# from: %s:%d\n", c->file ? c->file : "file",
					c->origin_line[i]);
			else
				fprintf(f, "# from: %s\n", c->file ? c->file : "file");
			break;
		case ORIGIN_ENV:
			env_name(k, env, sizeof(env));
			fprintf(f, "# from: env %s\n", env);
			break;
		case ORIGIN_FLAG:
			fprintf(f, "# from: flag\n");
			break;
		case ORIGIN_CREDENTIAL:
			fprintf(f, "# from: credential %s_%s\n", k->section, k->key);
			break;
		default:
			fprintf(f, "# from: default%s\n",
				(k->flags & CFG_DERIVED) ? " (derived when empty or 0)" : "");
			break;
		}
		fprintf(f, "%s = %s\n", k->key, value_text(c, k, buf, sizeof(buf)));
	}
	fflush(f);
	return ferror(f) ? CK_EIO : 0;
}

void cfg_print_example(FILE *f)
{
	const char *sec = NULL;
	char env[128], desc[160], line[320];
	size_t i;

	fputs("# candlekeep example configuration: every key with its default.\n"
	      "#\n"
	      "# Generated from the key table in src/cfg.c (cfg_print_example); do not edit\n"
	      "# by hand. Uncomment a line to change it. Precedence: built-in defaults <\n"
	      "# this file (-c FILE) < environment CANDLEKEEP_<SECTION>_<KEY> < flags.\n"
	      "# Durations: 90 (seconds), 90s, 15m, 4h, 2d, or parts largest first: 5h5m,\n"
	      "# 1d2h. Booleans: true/false, yes/no, on/off, 1/0. Secrets: the value itself\n"
	      "# (only if this file is mode 0600) or @/path/to/file, a mode-0600 file whose\n"
	      "# first line is the value.\n"
	      "# `candlekeep config` prints the effective values and where each came from.\n",
	      f);
	for (i = 0; i < NKEYS; i++) {
		const struct cfg_key *k = &cfg_keys[i];
		if (!sec || strcmp(sec, k->section)) {
			sec = k->section;
			fprintf(f, "\n[%s]\n", sec);
		}
		env_name(k, env, sizeof(env));
		type_desc(k, desc, sizeof(desc));
		fputc('\n', f);
		wrap(f, "# ", k->help, 78);
		snprintf(line, sizeof(line), "(%s; env %s)", desc, env);
		wrap(f, "# ", line, 78);
		fprintf(f, "#%s =%s%s\n", k->key, *k->def ? " " : "", k->def);
	}
}

void cfg_print_help(FILE *f)
{
	const char *sec = NULL;
	char env[128], desc[160], line[320];
	size_t i;

	fputs("Configuration keys (INI file sections; environment CANDLEKEEP_<SECTION>_<KEY>):\n",
	      f);
	for (i = 0; i < NKEYS; i++) {
		const struct cfg_key *k = &cfg_keys[i];
		if (!sec || strcmp(sec, k->section)) {
			sec = k->section;
			fprintf(f, "\n[%s]\n", sec);
		}
		env_name(k, env, sizeof(env));
		type_desc(k, desc, sizeof(desc));
		fprintf(f, "  %s = %s\n", k->key, k->def);
		wrap(f, "      ", k->help, 78);
		snprintf(line, sizeof(line), "(%s; env %s)", desc, env);
		wrap(f, "      ", line, 78);
	}
}

/* roff-safe text: backslashes and hyphens escaped, no leading control character. */
static void roff_text(FILE *f, const char *s)
{
	if (*s == '.' || *s == '\'')
		fputs("\\&", f);
	for (; *s; s++) {
		if (*s == '\\')
			fputs("\\e", f);
		else if (*s == '-')
			fputs("\\-", f);
		else
			fputc(*s, f);
	}
}

void cfg_print_man(FILE *f)
{
	const char *sec = NULL;
	char env[128], desc[160];
	size_t i;

	for (i = 0; i < NKEYS; i++) {
		const struct cfg_key *k = &cfg_keys[i];
		if (!sec || strcmp(sec, k->section)) {
			sec = k->section;
			fputs(".SS ", f);
			fprintf(f, "[%s]\n", sec);
		}
		env_name(k, env, sizeof(env));
		type_desc(k, desc, sizeof(desc));
		fputs(".TP\n.B ", f);
		roff_text(f, k->key);
		fputs("\n", f);
		roff_text(f, k->help);
		fputs("\n.br\n", f);
		roff_text(f, desc);
		fputs("; default: ", f);
		roff_text(f, *k->def ? k->def : "(empty)");
		fputs("; env ", f);
		fputs("\\fB", f);
		roff_text(f, env);
		fputs("\\fR\n", f);
	}
}

static unsigned octal_mode(const char *s, unsigned fallback)
{
	char *end;
	unsigned long v;

	if (!s || !*s)
		return fallback;
	v = strtoul(s, &end, 8);
	return *end || v > 0777 ? fallback : (unsigned)v;
}

unsigned cfg_file_mode(const struct cfg *c)
{
	return octal_mode(c ? c->file_mode : NULL, 0640);
}

unsigned cfg_export_mode(const struct cfg *c)
{
	return octal_mode(c ? c->export_file_mode : NULL, 0644);
}
