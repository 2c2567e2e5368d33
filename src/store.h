/* store.h — the database: candles, confirmed exchange holes, per-symbol state, run
 * records and small key/value state. The store module (store*.c) owns the schema;
 * nothing else in candlekeep writes SQL.
 *
 * A storage interface: a struct store is opaque, and every function here and in the
 * other store_*.h headers dispatches to the operations (struct store_ops,
 * store_backend.h) of the backend store_open chose by the form of the path: a file
 * path is SQLite (store.c and the other store_*.c files); a "postgresql://" or
 * "postgres://" URL (any libpq connection URL) is PostgreSQL (store_pg*.c).
 *
 * How to add a backend (e.g. PostgreSQL):
 *  1. Write src/store_<name>.c with a `const struct store_ops store_<name>_ops`: every
 *     member set except the optional ones (pages, salvage: facts of a SQLite file),
 *     each answering exactly what its dispatcher's comment says, with the same errors
 *     (CK_ENOTFOUND, CK_ECORRUPT, ...) and the same ordering of lists.
 *  2. open creates or migrates the schema (the tables of store.c, same columns and
 *     keys) and keeps its connection in st->impl; close frees it.
 *  3. Declare it in store_backend.h and put its prefix in backends[] in store_ops.c.
 *  4. Add it to the checks of tests/unit/test_store_ops.c (every op set) and run the
 *     store, health, metrics and audit unit tests against it.
 *
 * SQLite in WAL mode with synchronous=FULL: a commit survives a crash or power loss,
 * and a kill at any moment leaves the last committed state. Each fetched page is one
 * transaction (store_put_page). Only prepared statements. A struct store is used by
 * one thread at a time; open one per process (readers and the one writer coexist
 * through WAL). All times are ms since epoch, UTC. */
#ifndef CK_STORE_H
#define CK_STORE_H

#include <stddef.h>
#include <stdint.h>

#include "err.h"
#include "kline.h"

struct store;

#define STORE_RDONLY 1  /* open read-only; never creates, never migrates, never writes */
#define STORE_PRIVATE 2 /* a database created by this open is 0600, not 0640 */

/* PRAGMA application_id of a candlekeep database ("CKDB"): set when the database is
 * created (or first opened by a version that knows it), checked at every open; a file
 * with another application's id is refused, never changed. */
#define STORE_APPLICATION_ID 0x434b4442

/* Opens (creating with flags == 0 if missing) the database at path, sets WAL, busy
 * timeout and pragmas, and brings the schema up to date. *out is freed with
 * store_close. Errors name the path and say what to do (permissions, corruption). */
int store_open(struct store **out, const char *path, int flags, struct ck_err *err);
void store_close(struct store *st);
/* 0 if this build has a backend for path (a file path: SQLite); CK_EUSAGE naming what
 * to do otherwise (a postgresql:// URL), so that a command can refuse it as a usage
 * error before it takes a lock or opens anything. store_open checks the same. */
int store_backend_check(const char *path, struct ck_err *err);
const char *store_path(const struct store *st);

/* The market (um: USD-M futures, cm: COIN-M futures, spot) that every candle question
 * (candles, holes, symbols, the ledger, the archive catalogue, revisions) of st is about
 * from now on; one database keeps the markets side by side, keyed by (market, symbol,
 * interval, open_time). STORE_MARKET_DEFAULT after store_open. CK_EUSAGE for an empty
 * or over-long name (binance.c knows which names exist). STORE_MARKET_DEFAULT, or what
 * store_market_default said, after store_open. */
#define STORE_MARKET_DEFAULT "um"
int store_market_set(struct store *st, const char *market, struct ck_err *err);
/* The market store_open gives every handle it opens from now on (the process's [main]
 * market, set once the configuration is read; STORE_MARKET_DEFAULT until then). */
void store_market_default(const char *market);
const char *store_market(const struct store *st);

/* 1 if path is a database server's URL (postgresql://, postgres://), not a file. */
int store_url(const char *path);
/* The run lock of a database at a URL (lock.c takes it instead of a lock file): a
 * session-level advisory lock on a connection of its own, dropped by the server when
 * that connection ends (exit, kill -9, network loss). CK_ELOCKED naming what to do if
 * another session holds it; CK_EIO if the server cannot be reached. *handle is
 * released with store_run_unlock (NULL accepted). shared: the workers' lock (sync,
 * backfill, the daemon), which any number hold at once and which they share with no
 * exclusive holder (they split the work by store_claim); 0: exclusive. */
int store_run_lock(const char *path, const char *what, int shared, void **handle,
		   struct ck_err *err);
void store_run_unlock(void *handle);
/* 1 when some session holds the run lock of the database at path (shared or not), 0
 * when none does, or a negative code with err (the server cannot be reached). Only
 * looks: health's "is a run in progress" on a server, where no lock file names a pid. */
int store_run_lock_probe(const char *path, struct ck_err *err);
/* Checks at a safe point that the run lock *handle (store_run_lock with the same path,
 * what and shared) is still held: its connection alive (no round trip unless the
 * server sent something, as it does when it ends a session). A lost one is logged and
 * taken again (0); CK_ELOCKED when another run took it meanwhile (the caller stops:
 * an exclusive holder such as recover may be writing), CK_EIO when the server cannot
 * be reached; *handle is NULL then. 0 at once for a NULL *handle. */
int store_run_lock_check(const char *path, const char *what, int shared, void **handle,
			 struct ck_err *err);

/* The cluster leader's lock of a database at a URL: like the run lock, a session
 * advisory lock on a connection of its own, which the server drops when the holder
 * dies. With *handle NULL, tries to take it (*handle set when taken); with *handle
 * set, checks that its connection still holds it (a lost connection frees *handle and
 * tries again). *leader says whether this process leads now. Errors only when the
 * server cannot be reached (CK_EIO; *leader 0). Release with store_run_unlock. */
int store_leader_lock(const char *path, void **handle, int *leader, struct ck_err *err);

/* Work claims: workers sharing one database (several `sync` runs or daemons on a
 * PostgreSQL server) split the work by claiming a text key each ("<interval>/<symbol>";
 * extend the text, never parse it). *got is 1 when this handle holds the claim now
 * (taken, or already held), 0 when another worker does. A claim lasts until
 * store_claims_release or the end of the handle's session (process exit, kill -9, a
 * dropped connection), so a dead worker's claims are free at once. On a backend
 * without claims (SQLite: one writer under the run lock) every key is granted. */
int store_claim(struct store *st, const char *key, int *got, struct ck_err *err);
void store_claims_release(struct store *st);
/* 1 when several workers may write the database at once (the backend has claims). */
int store_shared(const struct store *st);
/* 1 when the backend keeps the coverage ledger (SQLite); 0 when it reads gaps, totals
 * and series from the candles themselves (PostgreSQL) and has no ledger to verify. */
int store_keeps_ledger(const struct store *st);

/* Outcome of writing one page. */
struct store_page_result {
	int64_t written; /* new candles inserted */
	int64_t revised; /* existing candles whose values differed and were replaced */
	int64_t same;    /* existing candles already identical */
};

/* Upserts n validated candles of symbol/interval in one transaction; an existing
 * candle is replaced only when a value differs (counted as revised). Either the whole
 * page is stored or none of it. Inside store_tx_begin (a group commit of several
 * pages) the page is a savepoint of that transaction. */
int store_put_page(struct store *st, const char *symbol, const char *interval,
		   const struct kline *k, size_t n, struct store_page_result *res,
		   struct ck_err *err);

/* A transaction around several small writes or pages (store_put_page nests as a
 * savepoint). store_tx_commit rolls back if the commit fails. */
int store_tx_begin(struct store *st, struct ck_err *err);
int store_tx_commit(struct store *st, struct ck_err *err);
/* Rolls back the transaction store_tx_begin started (a no-op if none is open). */
void store_tx_rollback(struct store *st);

/* Per-symbol span of stored candles. */
struct store_span {
	int64_t count;      /* candles; when not asked for (count = 0 below): -1 if there
			     * are any, 0 if none */
	int64_t first_open; /* oldest stored open_time, 0 if none */
	int64_t last_open;  /* newest stored open_time, 0 if none */
};
/* The span of symbol/interval's candles with from <= open_time <= to (0, INT64_MAX:
 * all history). count = 0: first and last only, two index seeks (count is -1, or 0
 * when there is no candle in the range);
 * count = 1: the candles counted too: for all history from the coverage ledger's runs,
 * otherwise one pass over the range's primary keys. */
int store_span(struct store *st, const char *symbol, const char *interval, int64_t from, int64_t to,
	       int count, struct store_span *span, struct ck_err *err);

/* A run of missing candles: open times first..last inclusive, count candles. */
struct store_gap {
	char symbol[24];
	int64_t first;
	int64_t last;
	int64_t count;
	int confirmed; /* 1 = confirmed exchange hole (not re-fetched), 0 = missing */
	/* How a confirmed hole was confirmed (0 for missing pieces): */
	int64_t first_seen, second_seen; /* local ms of the first and the confirming empty answer */
	int64_t runs;                    /* runs that found it empty */
};

/* Gaps between the stored candles of each symbol (symbol NULL = every symbol of the
 * interval) whose open times lie in from..to (0, INT64_MAX: all history, i.e. between
 * its oldest and newest candle), read from the coverage ledger (the rows of the
 * symbol's runs: O(gaps), not O(candles); a read-only open of a file without a ledger
 * runs one window-function query over the candles) and split around confirmed holes.
 * include_confirmed = 0 leaves confirmed holes out (what sync must fetch); 1 lists them
 * too, flagged, with their evidence. *out malloc'd (caller frees), sorted by symbol
 * then time. */
int store_gaps(struct store *st, const char *symbol, const char *interval, int64_t interval_ms,
	       int64_t from, int64_t to, int include_confirmed, struct store_gap **out, size_t *n,
	       struct ck_err *err);

/* The hole ledger: a range of open times the exchange answered empty, with its
 * evidence. A row with confirmed_at 0 is only suspected (seen empty once, or marked
 * for re-verification) and is fetched again by every sync; sync confirms it (rules in
 * sync.c) and only confirmed rows are holes to store_gaps. */
struct store_hole {
	int64_t first, last;         /* open times, inclusive */
	int64_t first_seen;          /* local ms of the first empty answer */
	int64_t first_seen_exchange; /* the exchange's ms then */
	int64_t second_seen;         /* local ms of the confirming empty answer; 0 = none */
	int64_t runs;                /* runs that found it empty */
	int64_t confirmed_at;        /* local ms; 0 = suspected only */
};
/* The ledger row for exactly first..last; CK_ENOTFOUND if there is none. */
int store_hole_get(struct store *st, const char *symbol, const char *interval, int64_t first,
		   int64_t last, struct store_hole *out, struct ck_err *err);
/* Writes h, replacing the row starting where it starts and every suspected (not
 * confirmed) row of the symbol that overlaps its range. */
int store_hole_put(struct store *st, const char *symbol, const char *interval,
		   const struct store_hole *h, struct ck_err *err);
/* Forgets suspected holes of symbol that now hold candles (the exchange served them). */
int store_holes_prune(struct store *st, const char *symbol, const char *interval,
		      struct ck_err *err);
/* `gaps --recheck`, `backfill --since`: every confirmed hole of interval becomes
 * suspected again (re-fetched by the next sync, kept as a hole when still empty) and
 * every symbol's start is forgotten (re-probed). *holes: how many were confirmed. */
int store_holes_recheck(struct store *st, const char *interval, int64_t *holes, struct ck_err *err);

/* A run of consecutive stored candles: open times first..last inclusive, count candles. */
struct store_range {
	char symbol[24];
	int64_t first;
	int64_t last;
	int64_t count;
};

/* The stored candles of each symbol of the interval (symbol NULL = every symbol) as runs
 * of consecutive open times, read from the coverage ledger (a file without one: one
 * window-function query, a scan of the symbol's candles). *out malloc'd (caller frees), sorted by
 * symbol then time. */
int store_covered(struct store *st, const char *symbol, const char *interval, int64_t interval_ms,
		  struct store_range **out, size_t *n, struct ck_err *err);

/* The coverage ledger: per symbol and interval the stored runs and confirmed exchange
 * holes, kept by every write, from which store_gaps, store_covered and store_span (all
 * history, counted) answer in a few rows per symbol. One disagreement of
 * store_ledger_verify: a row the ledger has and the candles do not say (in_ledger 1),
 * or one the candles say and the ledger lacks (in_ledger 0). */
struct store_ledger_diff {
	char symbol[24];
	int64_t first, last; /* open times, inclusive */
	int hole;            /* 1: a confirmed exchange hole; 0: a run of stored candles */
	int64_t candles;     /* candles of a stored run */
	int in_ledger;
};
/* `gaps --verify`: rebuilds the ledger of interval from the candles and the confirmed
 * holes (a scan of every candle of interval), lists each row that differs and, when
 * one did, replaces the ledger of interval with the rebuild; one write transaction.
 * *out malloc'd (caller frees), by symbol then time. */
int store_ledger_verify(struct store *st, const char *interval, int64_t interval_ms,
			struct store_ledger_diff **out, size_t *n, struct ck_err *err);

/* Per-symbol sync state. */
struct store_symbol {
	int64_t history_start; /* wanted oldest open_time; 0 = not set yet */
	int64_t first_open;    /* the exchange's first candle, once confirmed; 0 = unknown */
};
int store_symbol_get(struct store *st, const char *symbol, const char *interval,
		     struct store_symbol *out, struct ck_err *err); /* zeros if unknown */
int store_symbol_put(struct store *st, const char *symbol, const char *interval,
		     const struct store_symbol *s, struct ck_err *err);

/* Calls fn for each stored candle of symbol/interval with from <= open_time <= to, in
 * time order; fn returning non-zero stops and is returned. */
int store_each_candle(struct store *st, const char *symbol, const char *interval, int64_t from,
		      int64_t to, int (*fn)(const struct kline *k, void *arg), void *arg,
		      struct ck_err *err);

/* Distinct symbols that have candles of interval; *out malloc'd array of malloc'd
 * strings, freed with store_symbols_free. */
int store_symbols(struct store *st, const char *interval, char ***out, size_t *n,
		  struct ck_err *err);
void store_symbols_free(char **list, size_t n);

/* Key/value state that must survive runs (e.g. "ban_until" of the exchange). */
int store_state_get(struct store *st, const char *key, char *buf, size_t size,
		    struct ck_err *err); /* CK_ENOTFOUND if absent */
int store_state_set(struct store *st, const char *key, const char *value, struct ck_err *err);
int store_state_del(struct store *st, const char *key, struct ck_err *err); /* absent: 0 */

/* ---- run records: health, metrics and audit derive from these ---- */

enum run_status { RUN_RUNNING, RUN_OK, RUN_PARTIAL, RUN_FAILED, RUN_TIMEOUT };
const char *run_status_name(enum run_status s);
/* The status named s ("running", "ok", ...); an unknown name reads as RUN_FAILED. */
enum run_status run_status_parse(const char *s);

struct run_counts {
	int64_t candles_written, candles_revised;
	int64_t requests, retries, http_429, http_418, http_5xx, net_errors;
	int64_t symbols_ok, symbols_failed, symbols_skipped;
	int64_t weight_used_max; /* highest X-MBX-USED-WEIGHT-1M seen */
	int64_t server_time;     /* the exchange's time at the start of the run, ms; 0 if
				  * the run never reached it (run records hold local times) */
};

/* Starts a run record of `command` (status running, pid, start time now_ms) of the
 * handle's market (store_market_set) and of interval (the interval the run syncs); its
 * run_symbols rows get the same market and interval. *id out. */
int store_run_begin(struct store *st, const char *command, const char *interval, int64_t now_ms,
		    int64_t *id, struct ck_err *err);
/* Marks runs of command still "running" as failed: their process died (kill -9, crash,
 * disk full) before ending the record. Only for a caller holding the run lock, which
 * proves no such run is alive. */
int store_run_abandon(struct store *st, const char *command, struct ck_err *err);
/* Records one symbol's outcome in run id. status: "ok", "failed", "skipped". */
int store_run_symbol(struct store *st, int64_t id, const char *symbol, const char *status,
		     int64_t written, int64_t revised, int64_t newest_open, const char *error,
		     struct ck_err *err);
/* Ends run id with its status, exit code, counts and error text (NULL if none). */
int store_run_end(struct store *st, int64_t id, enum run_status status, int exit_code,
		  int64_t now_ms, const struct run_counts *c, const char *error,
		  struct ck_err *err);

struct store_run {
	int64_t id;
	char command[16];
	int64_t started, ended; /* ms; ended 0 while running or if killed */
	enum run_status status;
	int exit_code;
	struct run_counts counts;
	char error[256];
	char market[8];   /* the run's market ("um" for runs of files before schema 6) */
	char interval[8]; /* the run's interval */
};
/* The newest runs of command (NULL = any), newest first, at most max. *out malloc'd. */
int store_runs(struct store *st, const char *command, int64_t since_ms, size_t max,
	       struct store_run **out, size_t *n, struct ck_err *err);
/* The newest runs of command (NULL = any) of the handle's market and of interval,
 * newest first, at most max: health judges each (market, interval) by its own newest
 * run. *out malloc'd. */
int store_interval_runs(struct store *st, const char *command, const char *interval, size_t max,
			struct store_run **out, size_t *n, struct ck_err *err);

/* Stored candles of interval (NULL: every interval), a full scan, abandoned when
 * budget_ms (wall time, 0 = no limit) runs out: then *finished = 0 and *count is
 * meaningless. finished may be NULL (with no budget the count always finishes). */
int store_count(struct store *st, const char *interval, int64_t budget_ms, int64_t *count,
		int *finished, struct ck_err *err);

/* The candles of interval (of the handle's market) as the coverage ledger counts them:
 * a sum over the ledger's ranges, O(symbols + gaps) however many candles are stored.
 * The ledger is kept by every write in the write's own transaction (deletions by hand
 * included, by a trigger); gaps --verify checks it against the candles. A backend or
 * a file without a ledger counts the candles (store_count, no budget). */
int store_candle_total(struct store *st, const char *interval, int64_t *count, struct ck_err *err);

/* PRAGMA quick_check (full = 0) or integrity_check (full = 1), abandoned when budget_ms
 * (wall time, 0 = no limit) runs out: then *finished = 0 and *ok is meaningless.
 * Otherwise *finished = 1, *ok = 1 if healthy, and detail holds the first problem on
 * one line. A busy or locked database is an error (no verdict), not a problem found.
 * finished may be NULL. */
int store_check(struct store *st, int full, int64_t budget_ms, int *ok, int *finished, char *detail,
		size_t size, struct ck_err *err);

/* The backend of st (NULL: the default one, for plain file paths): its name ("sqlite")
 * and the version of the library or server behind it. */
const char *store_backend_name(const struct store *st);
const char *store_backend_version(const struct store *st);

/* ---- events: things that happened, for metrics, health and audit ----
 * Kinds in use (subject / value / detail):
 *   corruption_detected  db path / 1 / what the check said
 *   integrity_check      "quick" (the daemon's health job) or "full" (its
 *                        integrity_check job) / 1 ok, 0 bad / first problem
 *   restore_drill        backup location / seconds taken / outcome ("restored and
 *                        verified ..." or "failed: why"; metrics read the prefix)
 *   recover              db path / seconds taken / outcome ("healthy", "restored", ...)
 *   alert_sent           channel ("slack", "pagerduty", "email") / 1 / alert key
 *   alert_failed         channel / 1 / error
 *   health               "" / status 0..3 / summary line
 *   sync_skipped         "" / 1 / why (daemon: a sync was due while one still ran) */
struct store_event {
	int64_t id;
	int64_t at; /* ms */
	char kind[32];
	char subject[64];
	double value;
	char detail[256];
};
int store_event_add(struct store *st, int64_t at_ms, const char *kind, const char *subject,
		    double value, const char *detail, struct ck_err *err);
/* The newest events of kind (subject NULL = any) since since_ms, newest first, at most
 * max; *out malloc'd (caller frees). */
int store_events(struct store *st, const char *kind, const char *subject, int64_t since_ms,
		 size_t max, struct store_event **out, size_t *n, struct ck_err *err);
/* How many events of kind (subject NULL = any) there are. */
int store_event_count(struct store *st, const char *kind, const char *subject, int64_t *count,
		      struct ck_err *err);
#endif
