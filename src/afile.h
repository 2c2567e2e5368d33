/* afile.h — files that change atomically: written to a temp file in the same directory,
 * flushed, fsync'd, renamed over the target, and the directory fsync'd; on any failure
 * the temp file is removed and the target is untouched. (git's lockfile.h) */
#ifndef CK_AFILE_H
#define CK_AFILE_H

#include <stdio.h>

#include "err.h"

struct afile {
	FILE *f;           /* write here */
	char path[4096];   /* the target */
	char tmp[4096];    /* the temp file */
};

int afile_open(struct afile *a, const char *path, int mode, struct ck_err *err);
/* Flushes, fsyncs, renames; closes in every case. */
int afile_commit(struct afile *a, struct ck_err *err);
/* Discards the temp file. Safe after a failed commit and on a never-opened afile
 * that was zeroed. */
void afile_abort(struct afile *a);

#endif
