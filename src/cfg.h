/* cfg.h — candlekeep's configuration: one table of keys, four layers.
 *
 * Every key is one row of the table in cfg.c (section, key, type, default, range,
 * unit, secret, help). Precedence: built-in defaults < INI file (-c FILE) <
 * environment CANDLEKEEP_<SECTION>_<KEY> < command-line flags (cfg_set by the
 * caller). Parsing, validation, `candlekeep config` and the man page section all come
 * from the table. Values are stored in struct cfg; strings are owned by it and freed
 * by cfg_release. Secrets (type flag CFG_SECRET) are never printed: cfg_print masks
 * them. A secret may also be given as "@/path/to/file": the file must have mode 0600
 * (or stricter) and its first line is the value. Under systemd, a secret is also read
 * from $CREDENTIALS_DIRECTORY/<section>_<key> when that file exists (LoadCredential=),
 * between the file and the environment: defaults < file < credentials < environment <
 * flags. */
#ifndef CK_CFG_H
#define CK_CFG_H

#include <stdint.h>
#include <stdio.h>

#include "err.h"

#define CK_INTERVALS_MAX 15 /* every interval 1m .. 1M once */

/* [sync] concurrency's ceiling, and its default: sync sizes its arrays of requests
 * finished in one turn (and of pages stored in one transaction) by it. */
#define CFG_CONCURRENCY_MAX 64

struct cfg {
	/* [main] */
	char *db;               /* path of the SQLite database */
	char *base_url;         /* exchange REST base, no trailing slash */
	char *symbols;          /* "all", "default" or a comma list, validated ^[A-Z0-9]{1,20}$ */
	char *market;           /* "um", "cm", "spot" */
	char *interval_list;    /* [main] intervals (or interval): "4h" or "4h,1h,1d" */
	char **intervals;       /* interval_list parsed: owned names, in order */
	size_t nintervals;      /* at least 1 once a value is set */
	char *interval;         /* the interval being worked on: one of intervals[] (not owned;
				 * intervals[0] until cfg_interval_use picks another) */
	int64_t interval_ms;    /* derived from interval */
	int64_t history_days;   /* first sync of a new symbol starts this many days back */
	char *file_mode;        /* "0640" | "0600": database, backups, sidecars, logs, lock */
	char *export_file_mode; /* "0644" | "0640" | "0600": exports, audit HTML, textfile */
	/* [sync] */
	int64_t concurrency;        /* requests in flight, 1..CFG_CONCURRENCY_MAX */
	int64_t timeout_s;          /* run deadline, seconds (0 = none) */
	int64_t page_limit;         /* candles per request, 1..1500; 0 = automatic */
	int64_t lookback;           /* extra closed candles re-fetched each run */
	int64_t gap_repair;         /* 1 = find and fill gaps (0 only to imitate the old design) */
	int64_t weight_limit;       /* per-minute request weight; 0 = from exchangeInfo */
	int64_t weight_reserve_pct; /* percent of the budget left unused as a margin */
	int64_t max_ban_s;          /* longest HTTP 418 ban honoured, s (Retry-After capped) */
	int64_t max_clock_skew_s;   /* local clock + this bounds which candles are closed, s */
	int64_t verify_recent;      /* newest closed candles re-fetched and compared each run */
	int64_t verify_days;        /* history re-verified on the rolling schedule, days */
	int64_t verify_every_s;     /* that history is re-verified once per this period, s */
	/* [archive] */
	int64_t archive_enabled; /* 1 = history older than a day from the public archive */
	char *archive_base_url;  /* e.g. https://data.binance.vision, no trailing slash */
	/* [http] */
	int64_t connect_timeout_ms;
	int64_t request_timeout_ms;
	int64_t retry_net_max;     /* retries after a timeout or connection failure */
	int64_t retry_net_base_ms; /* first back-off; doubles each retry */
	int64_t retry_429_max;
	int64_t retry_429_default_s;  /* when the 429 carries no Retry-After */
	int64_t retry_429_jitter_s;   /* 0..N seconds added to a 429 wait */
	int64_t retry_429_max_wait_s; /* a 429 asking to wait longer fails the symbol, s */
	int64_t retry_5xx_max;
	int64_t retry_5xx_base_ms;
	char *user_agent;
	/* [log] */
	char *log_format; /* text | json */
	char *log_level;  /* error | warn | info | debug */
	char *log_dir;    /* if set, each run also writes <cmd>_YYYY-mm-dd_HH-MM-SS.log here */
	char *log_file;   /* if set, every line is also appended here */
	/* [backup] */
	char *backup_hot_dir;    /* default: backups/hot beside the database */
	char *backup_warm_dir;   /* default: backups/warm beside the database */
	char *backup_pg_bin_dir; /* pg_dump and pg_restore; "" = PATH */
	int64_t backup_hot_days, backup_warm_days, backup_offsite_days;
	char *s3_endpoint, *s3_bucket, *s3_prefix, *s3_region, *s3_storage_class;
	char *s3_access_key, *s3_secret_key; /* secrets */
	/* [alert] */
	char *slack_webhook;         /* secret */
	char *pagerduty_routing_key; /* secret */
	char *pagerduty_url;         /* Events API v2 endpoint */
	char *smtp_url, *smtp_from, *smtp_to, *smtp_user;
	char *smtp_password; /* secret */
	int64_t alert_repeat_s;
	int64_t alert_timeout_ms;
	char *smtp_tls;                             /* "required" or "none" */
	char *smtp_ca_file;                         /* "" = the system's CA store */
	int64_t alert_retry_ms, alert_retry_max_ms; /* outbox back-off: first, longest */
	/* [metrics] */
	char *metrics_listen;         /* host:port */
	int64_t http_max_connections; /* the daemon's HTTP server: open connections at most */
	int64_t http_max_per_ip;      /* ... from one client address at most */
	int64_t http_timeout_s;       /* ... idle seconds before a connection is closed */
	/* [health] */
	int64_t stale_warn_s, stale_crit_s; /* 0 = derived from interval and schedule */
	int64_t stale_warn_set,
		stale_crit_set; /* as configured (0 = derived), for cfg_interval_use */
	int64_t disk_warn_pct, disk_crit_pct;
	/* [schedule] */
	char *sched_sync, *sched_backup, *sched_health, *sched_audit; /* 5-field cron, UTC */
	char *sched_integrity; /* full PRAGMA integrity_check (cron, UTC) */
	char *deadman_url;     /* secret: pinged at start/success/failure of a sync */
	/* [audit] */
	int64_t sla_rpo_s, sla_rto_s;
	char *sla_availability; /* percent, e.g. "99.5" */

	/* Where each table row's value came from: 0 default, 1 file, 2 environment, 3 flag.
	 * Indexed by the row's position in cfg.c's table. */
	unsigned char origin[128];
	/* Added for cfg_print's "# from: FILE:LINE": the name of the most recently loaded
	 * file (owned, freed by cfg_release) and the line each file-set key came from. */
	char *file;
	int origin_line[128];
};

/* Sets every key to its built-in default (derived defaults like the backup dirs are
 * filled by cfg_finish). Allocates the strings; pair with cfg_release. */
int cfg_init(struct cfg *c, struct ck_err *err);

/* Frees the strings of c (not c). Accepts NULL. */
void cfg_release(struct cfg *c);

/* cfg_load_file on INI text already in memory (len bytes, need not be NUL-terminated);
 * `name` stands for the file name in messages. Used by tests and the fuzz target.
 * Inline secrets are accepted (there is no file mode to check). */
int cfg_load_string(struct cfg *c, const char *text, size_t len, const char *name,
		    struct ck_err *err);

/* Reads an INI file over the current values. Unknown sections or keys and malformed
 * values fail with CK_EUSAGE and "FILE:LINE: [section] key: problem (what to do)". */
int cfg_load_file(struct cfg *c, const char *path, struct ck_err *err);

/* Applies systemd credentials ($CREDENTIALS_DIRECTORY/<section>_<key> files, secrets
 * only), then CANDLEKEEP_<SECTION>_<KEY> variables from envp (NULL-terminated, like
 * environ). An unknown CANDLEKEEP_* name is an error naming the variable. */
int cfg_load_env(struct cfg *c, char *const *envp, struct ck_err *err);

/* Sets one key from text ("section", "key", "value"), as a flag would; validates it.
 * `source` names where it came from for messages ("--db", "FILE:12", "CANDLEKEEP_MAIN_DB"). */
int cfg_set(struct cfg *c, const char *section, const char *key, const char *value,
	    const char *source, struct ck_err *err);

/* Derives dependent values (interval_ms, default backup dirs beside db) and checks
 * cross-key rules (e.g. stale_warn < stale_crit). Call once after all layers. */
int cfg_finish(struct cfg *c, struct ck_err *err);

/* Makes intervals[i] (i < nintervals) the interval being worked on: sets interval,
 * interval_ms and the staleness thresholds derived from them (those configured stay).
 * Callers that share c with other threads (the daemon) use it on a copy: `struct cfg
 * one = *c;` borrows every string of c, and such a copy is never released. */
void cfg_interval_use(struct cfg *c, size_t i);

/* Checks a comma list of interval names (white space around a name is ignored); 0, or
 * -1 with the problem (naming the bad name and the valid ones) in why. */
int cfg_intervals_check(const char *list, char *why, size_t n);

/* The permission bits of files candlekeep writes, set explicitly (never left to the
 * umask): cfg_file_mode for the database and everything holding its data privately
 * (backups, sidecars, restored copies, logs, the lock file), cfg_export_mode for files
 * meant for others to read (exports, the audit page, the metrics textfile). */
unsigned cfg_file_mode(const struct cfg *c);
unsigned cfg_export_mode(const struct cfg *c);

/* Prints the effective configuration as INI to f, secrets as "********" (or "(unset)"),
 * each key annotated with where its value came from. */
int cfg_print(const struct cfg *c, FILE *f);

/* Prints the key table (section, key, type, default, help) as man page (roff) lines. */
void cfg_print_man(FILE *f);

/* Prints every key as a commented-out `key = default` line under its section, with its
 * help, type, range and environment name as comments: docs/candlekeep.example.ini is
 * this output (tests/unit/test_cfg.c checks that it has not drifted). */
void cfg_print_example(FILE *f);

/* Prints the key table as plain text (for `candlekeep config --help`). */
void cfg_print_help(FILE *f);

/* The built-in default symbol list (60 liquid USDT perpetuals), comma-separated. */
const char *cfg_default_symbols(void);

/* Expands c->symbols into a malloc'd array of malloc'd names (caller frees each and the
 * array with cfg_symbols_free). "all" cannot be expanded here (needs exchangeInfo):
 * returns CK_ENOTFOUND and the caller asks the exchange. */
int cfg_symbols_list(const struct cfg *c, char ***out, size_t *n, struct ck_err *err);
void cfg_symbols_free(char **list, size_t n);

/* 1 if s is a valid symbol name (^[A-Z0-9]{1,20}$). */
int cfg_symbol_valid(const char *s);

#endif
