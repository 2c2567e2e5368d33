/* store_backup.h — the backups table (part of the store module): one row per backup
 * file of a tier, as written and verified by backup.c; and the SQLite-level pieces of
 * a backup (the online-backup snapshot, the verification of a backup file, the health
 * probe of a database file), so that SQL stays inside src/store*.c. */
#ifndef CK_STORE_BACKUP_H
#define CK_STORE_BACKUP_H

#include <stddef.h>
#include <stdint.h>

#include "err.h"
#include "store.h"

struct store_backup {
	int64_t id;
	char tier[16];       /* "hot", "warm", "offsite" */
	char location[1024]; /* file path, or s3://bucket/key */
	int64_t created;     /* ms, when the backup was taken */
	int64_t size;        /* bytes */
	char sha256[65];     /* hex of the file as stored in the tier */
	int64_t candles;     /* candle count of the backup */
	char status[16];     /* "verified", "failed", "deleted" (and, for files found
			      * without a row or sidecar, "unverified") */
	char detail[256];
	int64_t verified_at; /* ms, 0 if never */
};

int store_backup_put(struct store *st, const struct store_backup *b, int64_t *id,
		     struct ck_err *err); /* insert or replace by (tier, location) */
int store_backup_set_status(struct store *st, int64_t id, const char *status, const char *detail,
			    struct ck_err *err);
/* Backups of tier (NULL = all), newest first; *out malloc'd (caller frees). */
int store_backup_list(struct store *st, const char *tier, struct store_backup **out, size_t *n,
		      struct ck_err *err);

/* Takes a consistent copy of the database at src_path into dest_path (which must not
 * exist) with SQLite's online backup API: one read transaction on a private read-only
 * connection pins the snapshot (WAL: writers go on meanwhile, never blocked), the
 * pages are copied step_pages at a time (<= 0: all in one step, one pass over the
 * file), into a destination written without journal or syncs; the candle count of the
 * same snapshot goes to *candles, and the copy is switched to rollback-journal mode so
 * that it is one self-contained file. The caller fsyncs and renames dest_path. Blocking. */
int store_backup_snapshot(const char *src_path, const char *dest_path, int step_pages,
			  int64_t *candles, struct ck_err *err);

/* A database's main file held still for a byte copy (store_backup_pin). */
struct store_pin;

/* Holds the main file of the database at src_path still, so that its bytes read now
 * are one consistent snapshot: a read transaction on a private read-only connection
 * that, in WAL mode, began while the WAL was wholly checkpointed into the main file
 * (checked under the writer lock: a checkpoint by a writer connection of its own, then
 * BEGIN IMMEDIATE so that no frame can be added meanwhile). Such a reader reads the
 * main file only, and SQLite never checkpoints into the main file while it holds its
 * read transaction (WAL_READ_LOCK(0), sqlite.org/walformat.html); in rollback mode its
 * SHARED lock keeps every writer out. Writers go on meanwhile (into the WAL); the
 * writer lock is held only for the moment the read transaction begins. *size gets the
 * bytes to copy (the database's pages, from the header) and *fd a descriptor of the
 * main file for reading them (owned by the pin). CK_EDB when the WAL could not be
 * checkpointed entirely in a few tries (a reader holds an older snapshot): the caller
 * uses store_backup_snapshot instead. Release with store_backup_unpin (NULL accepted). */
int store_backup_pin(const char *src_path, struct store_pin **out, int *fd, int64_t *size,
		     struct ck_err *err);
void store_backup_unpin(struct store_pin *p);

/* The full integrity_check, the schema check and the candle count of the snapshot p
 * holds, on p's own read connection: the very bytes a byte copy of p's file gets. It
 * may run on another thread while the caller reads p's descriptor (nothing else may
 * use p meanwhile). *ok = 1 when healthy, else detail holds the first problem. */
void store_backup_pin_check(struct store_pin *p, int *ok, int64_t *candles, char *detail,
			    size_t size);

/* Turns the first bytes of a byte copy of a main file (buf, n bytes from offset 0)
 * into those of a self-contained rollback-journal database: the file format bytes 18
 * and 19 become 1 (a WAL-mode file has 2; the copy has no WAL beside it). What
 * "PRAGMA journal_mode=DELETE" writes, without another pass over the file. */
void store_backup_header_fix(unsigned char *buf, size_t n);

/* store_backup_verify_file without the candle count (*candles = -1): the full
 * integrity_check and the schema check only, for a caller that counts elsewhere
 * (store_backup_count_file) at the same time. */
int store_backup_check_file(const char *path, int *ok, int64_t *candles, char *detail, size_t size,
			    struct ck_err *err);

/* The candle count of the database file at path (read-only). CK_EDB / CK_ECORRUPT when
 * it cannot be counted. */
int store_backup_count_file(const char *path, int64_t *candles, struct ck_err *err);

/* Verifies a backup (or any candlekeep database file) at path without changing it:
 * opened read-only, full PRAGMA integrity_check, schema check (candles and runs tables
 * readable), candle count into *candles. *ok = 1 when healthy; otherwise detail holds
 * the first problem. Returns non-zero only when the check itself could not run. */
int store_backup_verify_file(const char *path, int *ok, int64_t *candles, char *detail, size_t size,
			     struct ck_err *err);

/* store_backup_verify_file without the integrity_check and the candle count (each a
 * full pass; *candles = -1): opened read-only, schema check. For a file whose bytes
 * were just proved (by checksum) to be those of a backup that passed integrity_check
 * when it was taken. */
int store_backup_open_check(const char *path, int *ok, int64_t *candles, char *detail, size_t size,
			    struct ck_err *err);

/* store_backup_verify_file for a live database (the one candlekeep uses): opened
 * read-write without creating, so that a WAL left by a crashed writer is recovered as
 * any open would do; no other write. For recover's and health's integrity check. */
int store_backup_check_db(const char *path, int *ok, int64_t *candles, char *detail, size_t size,
			  struct ck_err *err);

#endif
