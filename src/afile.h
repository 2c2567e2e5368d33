/* afile.h — files that change atomically: written to a temp file in the same directory,
 * flushed, fsync'd, renamed over the target, and the directory fsync'd; on any failure
 * the temp file is removed and the target is untouched. (git's lockfile.h) */
#ifndef CK_AFILE_H
#define CK_AFILE_H

#include <stdio.h>

#include "err.h"

struct afile {
	FILE *f;         /* write here */
	char path[4096]; /* the target */
	char tmp[4096];  /* the temp file */
};

int afile_open(struct afile *a, const char *path, int mode, struct ck_err *err);
/* Writes n bytes into the temp file; on a failure (a full disk: CK_EFULL) the temp
 * file is discarded (afile_abort) and err says so, as afile_commit's would. */
int afile_write(struct afile *a, const void *p, size_t n, struct ck_err *err);
/* Flushes, fsyncs, renames; closes in every case. */
int afile_commit(struct afile *a, struct ck_err *err);
/* Discards the temp file. Safe after a failed commit and on a never-opened afile
 * that was zeroed. */
void afile_abort(struct afile *a);

/* ---- temp files left by writers that died ----
 * Every temp file candlekeep writes is held with flock(LOCK_EX) by its writer until it
 * is renamed or removed (afile_hold); the kernel drops that lock when the writer dies
 * (kill -9, crash, power loss). So a temp file whose lock can be taken is an orphan. */

/* Marks fd (an open temp file) as being written. 0, or -1 with errno. */
int afile_hold(int fd);

/* Which names of a directory are temp files of ours. */
typedef int afile_temp_fn(const char *name, void *arg);

/* Orphaned temp files in dir (names is_temp accepts whose lock is free; a
 * "<name>-journal" counts as orphaned with its main file), counted into *n and *bytes
 * (either may be NULL) and unlinked when remove is set. A missing dir is empty. */
int afile_sweep(const char *dir, afile_temp_fn *is_temp, void *arg, int remove, int64_t *n,
		int64_t *bytes, struct ck_err *err);

#endif
