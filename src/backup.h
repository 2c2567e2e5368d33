/* backup.h — verified 3-2-1 backups of the database: hot (a byte copy of the main file
 * held still by store_backup_pin, or SQLite's online backup when it cannot be, into
 * [backup] hot_dir), warm (a checksummed copy in warm_dir, another disk), offsite
 * (zstd-compressed, uploaded with the S3 API); retention per tier that never deletes
 * the newest verified backup; discovery and restore from the files themselves.
 *
 * Files: a backup of database "<dir>/candles.db" taken at 2026-03-19 18:00:00.123 UTC
 * is "candles-20260319T180000.123Z.db" in each local tier, with a sidecar
 * "<name>.sha256" in sha256sum(1) format written only after the backup verified; a
 * backup that failed verification is renamed "<name>.failed" (kept aside, never used
 * for a restore, removed by retention when old). Offsite objects are
 * "<s3_prefix><name>.zst" with metadata sha256 (of the database), zst-sha256 (of the
 * object), candles and created. The files and sidecars, not the backups table, are the
 * source of truth: recovery works with the database destroyed.
 *
 * Concurrency: backup_run never takes the run lock; it reads one pinned snapshot
 * through its own read-only connection, so a sync keeps writing meanwhile (WAL); the
 * writer lock is taken only for the moment the snapshot is pinned. */
#ifndef CK_BACKUP_H
#define CK_BACKUP_H

#include <stddef.h>
#include <stdint.h>

#include "cfg.h"
#include "err.h"
#include "store.h"
#include "store_backup.h"

enum backup_outcome {
	BACKUP_SKIPPED = 0, /* not attempted (an earlier tier failed) */
	BACKUP_OK,
	BACKUP_FAILED,
	BACKUP_NOT_CONFIGURED, /* offsite without [backup] s3_bucket */
};
const char *backup_outcome_name(enum backup_outcome o);

struct backup_tier_result {
	enum backup_outcome outcome;
	char location[1024];   /* file path or s3://bucket/key */
	int64_t size;          /* bytes as stored in the tier */
	int64_t duration_ms;   /* wall time of this tier's work */
	char sha256[65];       /* of the stored bytes */
	int attempts;          /* upload attempts (offsite) */
	char error[256];       /* why it failed, "" if not */
	int recorded;          /* the catalogue has a row of this attempt */
	int retention_deleted; /* backups removed by retention in this tier */
	int retention_kept;    /* backups left in this tier */
	char retention_error[256];
};

struct backup_result {
	int64_t created;       /* ms, the timestamp in the backup's name */
	int64_t temps_removed; /* temp files of interrupted runs removed by this run */
	int64_t temp_bytes_removed;
	int64_t candles; /* candles in the snapshot (source and backup agree) */
	int64_t db_size; /* bytes of the backup database file */
	struct backup_tier_result hot, warm, offsite;
};

/* One full backup at time now_ms (names and retention use it; tests pass a fake
 * clock): hot snapshot + verification (one integrity_check of the hot file; its candle
 * count meanwhile) + sidecar, warm copy (written in the snapshot's pass and hashed
 * there, or after an online backup made while the hot file is verified, one read of it
 * giving the checksum; installed only if the hot file verified),
 * offsite upload with retries (if configured), retention of every tier, a row per
 * backup via store_backup_* (st may be NULL: files only), alert_raise on a failed tier.
 * Returns 0 when every configured tier succeeded; otherwise the first failure's code
 * with err naming the tier (res says which tiers did what). Blocking; minutes for a
 * large database. */
int backup_run(struct store *st, const struct cfg *c, int64_t now_ms, struct backup_result *res,
	       struct ck_err *err);

/* Asked by backup_run_checked between a backup's phases (after the hot copy, before the
 * offsite upload, before retention) whether to go on; 0 to go on, otherwise a negative
 * code with err saying why (the daemon: it no longer leads the cluster). */
typedef int backup_go_fn(void *arg, struct ck_err *err);

/* backup_run, asking go(arg) between its phases: when go says stop, the phases left are
 * not run (what was done stays: a verified hot copy is recorded), the backup lock is
 * released, and the return is go's code with err "stopped before <phase>: <why>". */
int backup_run_checked(struct store *st, const struct cfg *c, int64_t now_ms, backup_go_fn *go,
		       void *go_arg, struct backup_result *res, struct ck_err *err);

/* Called for each backup passed over during a restore, with the reason. */
typedef void backup_skip_fn(void *arg, const struct store_backup *b, const char *why);

/* Restores the newest backup that verifies (checksum against its sidecar or object
 * metadata, then integrity_check and schema) into dest_path atomically (temp in the same
 * directory, fsync, rename, directory fsync). Candidates from every tier newest first,
 * hot before warm before offsite for the same time; offsite ones are downloaded. st may
 * be NULL. Fails with CK_EUSAGE if dest_path-wal exists (a stale WAL would be applied to
 * the restored file: move it away first), CK_ENOTFOUND when no backup verifies. *used
 * gets the backup restored. */
int backup_restore_to(struct store *st, const struct cfg *c, const char *dest_path,
		      struct store_backup *used, struct ck_err *err);
/* The same, reporting every skipped backup and why to skip(arg, ...) (may be NULL).
 * With integrity 0 the copy is not integrity_check'ed here (for a caller that checks
 * the result itself, as recover does after its salvage): its bytes are accepted when
 * they match the checksum in the sidecar or object metadata, which is recorded only
 * after that backup passed integrity_check when it was taken, and the file opens with
 * candlekeep's schema (its candles are not counted: used->candles = -1). One full check
 * of the restored database instead of two. */
int backup_restore_ex(struct store *st, const struct cfg *c, const char *dest_path,
		      backup_skip_fn *skip, void *arg, int integrity, struct store_backup *used,
		      struct ck_err *err);

/* The PostgreSQL counterpart of backup_restore_ex: the newest backup of c->db (a
 * postgresql:// URL) whose bytes match their checksum is restored with pg_restore into
 * the database at target (c->db or another), in one transaction. A target that holds
 * data is refused (CK_EUSAGE, nothing touched) unless replace, which drops the
 * archive's objects first. A backup pg_restore cannot restore is skipped (skip(arg,..))
 * for the next. *candles gets the restored candle count. CK_ENOTFOUND when no backup
 * restores. Blocking. */
int backup_restore_pg(const struct cfg *c, const char *target, int replace, backup_skip_fn *skip,
		      void *arg, struct store_backup *used, int64_t *candles, struct ck_err *err);

/* Every backup of every tier (files found in hot_dir and warm_dir, objects under the
 * offsite prefix if configured), newest first; rows of st (may be NULL) add candle
 * counts and details, and the newest attempt of a tier when it failed without leaving
 * a file (a full disk, say: status "failed", size 0, its error in detail). status:
 * "verified", "failed", "unverified" (no sidecar). An unreachable offsite tier is
 * logged and left out. *out malloc'd (caller frees). */
int backup_list_all(const struct cfg *c, struct store *st, struct store_backup **out, size_t *n,
		    struct ck_err *err);

/* Temp files that interrupted backups (hot and warm dirs) and restores (beside the
 * database) left behind: counted into *n / *bytes, and removed when remove is set.
 * backup_run removes those of the backup dirs itself (under its backup lock); a
 * restore removes its own kind. A temp file a live process is writing is never
 * counted or removed (afile_sweep). */
int backup_temp_sweep(const struct cfg *c, int remove, int64_t *n, int64_t *bytes,
		      struct ck_err *err);

/* ---- helpers, public for tests and the health checks ---- */

/* SHA-256 of a file as 64 lower-case hex digits; *size (may be NULL) gets its length. */
int backup_sha256_file(const char *path, char hex[65], int64_t *size, struct ck_err *err);

/* The backup name of db_path at created ms ("candles-20260319T180000.123Z.db"). */
int backup_name(const char *db_path, int64_t created, char *buf, size_t size);

/* If name is a backup file name of db_path (suffix ".db", or ".db.failed" /
 * ".db.zst" with allow_suffix), returns 0 and *created; -1 otherwise. */
int backup_parse_name(const char *db_path, const char *name, int64_t *created);

/* Retention of one tier: v (n entries, newest first) — marks del[i] = 1 for those older
 * than days at now_ms, except the newest entry whose status is "verified", which is
 * never deleted whatever its age. Entries newer than now are never deleted. */
void backup_retention_plan(const struct store_backup *v, size_t n, int64_t now_ms, int64_t days,
			   int *del);

#endif
