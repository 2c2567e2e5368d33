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
	int exists;       /* the main file is there */
	int ok;           /* healthy: opens, integrity_check ok, schema and runs readable */
	int wal_lost;     /* -shm says committed WAL frames exist, but -wal is gone */
	int damaged;      /* proof of damage (or missing): recover may quarantine/restore */
	int busy;         /* another process holds the file: nothing can be concluded */
	int foreign;      /* another application's file: never touched */
	int64_t candles;  /* when ok */
	char detail[320]; /* "ok" or the first problem */
};

/* Checks db_path without changing committed data: a lost -wal (the -shm index names
 * committed frames not yet in the main file, and no -wal exists; read before any open),
 * then store_probe_file (a full integrity_check, confirmed with the file held
 * exclusively; identity and schema), waiting up to wait_ms for another process's lock.
 * Exactly one of ok, damaged, busy, foreign is set, or none when the check could not
 * run (detail says why). Returns non-zero only on a bug-level failure. Blocking. */
int recover_check_db(const char *db_path, int64_t wait_ms, struct recover_check *out,
		     struct ck_err *err);

/* The marker of a recovery in progress ("<db>.recover"): written before the damaged
 * files move, removed when the replacement is installed and checked. While it exists no
 * command may create a database at db_path. 1 if present, 0 if not. */
int recover_marker_exists(const char *db_path);

/* Step report: step name ("check", "quarantine", "skip", "restore", "resync", "verify"),
 * its duration in ms (0 for "skip"), and a line of text. */
typedef void recover_say_fn(void *arg, const char *step, int64_t ms, const char *text);

struct recover_result {
	int was_healthy;   /* nothing was done */
	int resumed;       /* an interrupted recover was taken up again */
	int restored;      /* a backup was installed */
	int rebuilt;       /* no usable backup: rebuilt from the exchange */
	int healthy_after; /* the final integrity check passed */
	struct recover_check before;
	struct store_backup used;  /* the backup restored (restored = 1) */
	char quarantine_dir[4096]; /* where the damaged files went */
	int64_t resync_written;    /* candles written by the re-sync */
	int64_t resync_failed;     /* symbols the re-sync could not complete */
	int64_t candles_after;     /* every interval */
	int64_t salvaged;          /* candles read from the damaged file */
	int64_t damaged_candles;   /* what the damaged file held (counted, or estimated from
				    * the readable keys); -1 when unknown */
	int64_t shortfall;         /* damaged_candles - candles_after when positive */
	int64_t total_ms;
	char error[256];
};

/* Runs the recovery of c->db: check (damage only on proof); quarantine; build the
 * replacement beside the database (the newest backup that verifies, or an empty
 * database) and salvage into it every candle still readable in the damaged file;
 * install it by rename; re-sync; verify; compare with what the damaged file held. Each
 * step is recorded in the marker first, so a recover killed at any point is taken up
 * again by the next one. wait_ms bounds the wait for another process's lock; now is the
 * wall clock (ms) for the quarantine names and records.
 * Returns 0 when the database is healthy at the end and holds at least what the damaged
 * file did (re-sync failures are in res); CK_ELOCKED when another process holds the
 * file (nothing moved); CK_EUSAGE for another application's file (nothing moved);
 * CK_ECORRUPT when it is still damaged, holds fewer candles than the damaged file
 * (res->shortfall; the quarantined file stays), or nothing could be restored, salvaged
 * or fetched. Blocking (a full integrity check, a copy, a sync). */
int recover_run(const struct cfg *c, int64_t now, int64_t wait_ms, volatile sig_atomic_t *stop,
		recover_say_fn *say, void *arg, struct recover_result *res, struct ck_err *err);

#endif
