/* run.h — run bookkeeping: what one sync or backfill run leaves behind besides its
 * candles, the same whether the command line or the daemon started it.
 *
 * run_sync() wraps the sync engine (sync.c) in the domain's policy: the start log line,
 * the run record (an earlier run left "running" by a dead process is abandoned first,
 * then begin, one row per symbol, end with the counts and the error), the run's status
 * and exit code, the clock-skew warning of a run that went well, the candle_count event
 * (health's data-loss guard) and the alerts ("<command>_failed:<class>", raised per
 * failure class, resolved when a class has no failing symbol any more). It prints
 * nothing: the caller reports (the CLI prints a summary, the daemon logs), then calls
 * run_sync_log_end() and run_sync_release().
 *
 * Callers: cmd_sync.c (sync, and through it backfill and gaps --recheck) and
 * daemon_jobs.c (the scheduled sync). Each runs one run_sync per configured interval
 * ([main] intervals) through run_intervals(): in order, on a copy of the configuration
 * switched to it (cfg_interval_use); the exit code is the worst of them. A ban seen by
 * one interval's run is kept in the database (state ban_until) and honoured by the
 * next. */
#ifndef CK_RUN_H
#define CK_RUN_H

#include <signal.h>
#include <stdint.h>

#include "cfg.h"
#include "err.h"
#include "store.h"
#include "sync.h"

/* The exit codes a run records (the same numbers as cmd.h's EXIT_*; DESIGN.md). */
enum { RUN_EXIT_OK = 0, RUN_EXIT_FAILED = 1, RUN_EXIT_TIMEOUT = 124 };

struct run_sync {
	const char *command;    /* "sync" or "backfill" (borrowed) */
	const char *interval;   /* the interval synced, cfg->interval (borrowed) */
	struct sync_result res; /* the engine's result, per symbol */
	enum run_status status;
	int exit_code; /* RUN_EXIT_*: as recorded, or 1 when the record failed */
	int64_t run_id;
	int64_t started_ms;     /* wall clock, ms since epoch */
	char error[256];        /* the run-wide error or warning to report; "" = none */
	char record_error[256]; /* why the run record could not be finished; "" = it was */
	char elapsed[32];       /* seconds the run took, "%.1f" */
	char newest[32];        /* newest stored open time of any symbol, or "none" */
};

/* Runs one sync (o as for sync_run; command names the run in records, logs and alert
 * keys) and does the bookkeeping above. Returns 0 when the run was recorded as begun
 * (its outcome, good or bad, is in *r: status, exit_code, error), or a negative code when
 * the run record could not begin (err says why; nothing was fetched; *r needs no
 * release). stop and deadline_mono (CLOCK_MONOTONIC ms, 0 = none) as for sync_run.
 * Blocking. */
int run_sync(struct store *st, const struct cfg *cfg, const char *command,
	     const struct sync_opts *o, volatile sig_atomic_t *stop, int64_t deadline_mono,
	     struct run_sync *r, struct ck_err *err);

/* Logs the run's end line (status, exit, elapsed, written, failed, interval). */
void run_sync_log_end(const struct run_sync *r);

/* Frees what *r holds (accepts a zeroed r). */
void run_sync_release(struct run_sync *r);

/* One interval's run for run_intervals: one is the configuration switched to the
 * interval (it borrows the caller's strings), i its index; returns the exit code. */
typedef int run_interval_fn(void *arg, const struct cfg *one, size_t i);
/* An interval not run: stopped is 1 after a signal, 0 after the deadline passed. */
typedef void run_skip_fn(void *arg, const struct cfg *one, int stopped);

/* Calls run once per configured interval of c, in order. After a signal (*stop) or a
 * run that ended by the deadline (RUN_EXIT_TIMEOUT), the remaining intervals are not run
 * and skip tells the caller of each. Returns the worst exit code. */
int run_intervals(const struct cfg *c, volatile sig_atomic_t *stop, run_interval_fn *run,
		  run_skip_fn *skip, void *arg);

/* The failure class of a sync error text (a symbol's or the run's): "http", "ban",
 * "invalid", "timeout", "rejected", "store", "stopped" or "other" (static string). The
 * alerts of a sync run are one per class ("sync_failed:<class>"). */
const char *sync_failure_class(const char *why);

#endif
