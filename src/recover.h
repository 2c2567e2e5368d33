/* recover.h — disaster recovery of the database: check, quarantine, restore the newest
 * good backup, re-sync the gap; or, with no usable backup, rebuild from the exchange.
 * The caller holds the run lock (no sync may race a restore). Reports each step through
 * a callback (only commands print). */
#ifndef CK_RECOVER_H
#define CK_RECOVER_H

#include <signal.h>
#include <stdint.h>

#include "cfg.h"
#include "err.h"
#include "store_backup.h"

/* The health of the database file at db_path. */
struct recover_check {
	int exists;          /* the main file is there */
	int ok;              /* healthy: opens, integrity_check ok, schema and runs readable */
	int wal_lost;        /* -shm says committed WAL frames exist, but -wal is gone */
	int64_t candles;     /* when ok */
	char detail[300];    /* "ok" or the first problem */
};

/* Checks db_path without changing committed data: a lost -wal (the -shm index names
 * committed frames not yet in the main file, and no -wal exists; read before any open),
 * then open, full PRAGMA integrity_check, schema and runs table, candle count. Returns
 * non-zero only when the check could not run. Blocking: reads the whole file. */
int recover_check_db(const char *db_path, struct recover_check *out, struct ck_err *err);

/* Step report: step name ("check", "quarantine", "skip", "restore", "resync", "verify"),
 * its duration in ms (0 for "skip"), and a line of text. */
typedef void recover_say_fn(void *arg, const char *step, int64_t ms, const char *text);

struct recover_result {
	int was_healthy;        /* nothing was done */
	int restored;           /* a backup was installed */
	int rebuilt;            /* no usable backup: rebuilt from the exchange */
	int healthy_after;      /* the final integrity check passed */
	struct recover_check before;
	struct store_backup used;      /* the backup restored (restored = 1) */
	char quarantine_dir[4096];     /* where the damaged files went */
	int64_t resync_written;        /* candles written by the re-sync */
	int64_t resync_failed;         /* symbols the re-sync could not complete */
	int64_t candles_after;
	int64_t total_ms;
	char error[256];
};

/* Runs the recovery of c->db (see the steps above). now is the wall clock (ms) used for
 * the quarantine names and records. Returns 0 when the database is healthy at the end
 * (possibly with re-sync failures, see res), CK_ECORRUPT or another code when it could
 * not be made healthy. Blocking (a full integrity check, a copy, a sync). */
int recover_run(const struct cfg *c, int64_t now, volatile sig_atomic_t *stop,
		recover_say_fn *say, void *arg, struct recover_result *res, struct ck_err *err);

#endif
