/* store_backup.h — the backups table (part of the store module): one row per backup
 * file of a tier, as written and verified by backup.c. */
#ifndef CK_STORE_BACKUP_H
#define CK_STORE_BACKUP_H

#include <stddef.h>
#include <stdint.h>

#include "err.h"
#include "store.h"

struct store_backup {
	int64_t id;
	char tier[16];          /* "hot", "warm", "offsite" */
	char location[1024];    /* file path, or s3://bucket/key */
	int64_t created;        /* ms, when the backup was taken */
	int64_t size;           /* bytes */
	char sha256[65];        /* hex of the file as stored in the tier */
	int64_t candles;        /* candle count of the backup */
	char status[16];        /* "verified", "failed", "deleted" */
	char detail[256];
	int64_t verified_at;    /* ms, 0 if never */
};

int store_backup_put(struct store *st, const struct store_backup *b, int64_t *id,
		     struct ck_err *err); /* insert or replace by (tier, location) */
int store_backup_set_status(struct store *st, int64_t id, const char *status,
			    const char *detail, struct ck_err *err);
/* Backups of tier (NULL = all), newest first; *out malloc'd (caller frees). */
int store_backup_list(struct store *st, const char *tier, struct store_backup **out,
		      size_t *n, struct ck_err *err);

#endif
