/* afile.c — atomic file replacement. */
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "afile.h"
#include "banned.h"

int afile_open(struct afile *a, const char *path, int mode, struct ck_err *err)
{
	int fd;

	memset(a, 0, sizeof(*a));
	if (snprintf(a->path, sizeof(a->path), "%s", path) >= (int)sizeof(a->path) ||
	    snprintf(a->tmp, sizeof(a->tmp), "%s.tmp.XXXXXX", path) >= (int)sizeof(a->tmp))
		return ck_err_set(err, CK_EUSAGE, "%s: path too long", path);
	fd = mkstemp(a->tmp);
	if (fd < 0) {
		int e = errno;
		a->tmp[0] = 0;
		return ck_err_set(err, e == ENOSPC ? CK_EFULL : CK_EIO,
				  "create a temp file beside %s: %s (check the directory exists and is"
				  " writable)", path, strerror(e));
	}
	if (fchmod(fd, (mode_t)mode) != 0) { /* explicit, whatever the umask */
		int e = errno;
		close(fd);
		unlink(a->tmp);
		a->tmp[0] = 0;
		return ck_err_set(err, CK_EIO, "chmod %s: %s", path, strerror(e));
	}
	if (!(a->f = fdopen(fd, "w"))) {
		close(fd);
		unlink(a->tmp);
		a->tmp[0] = 0;
		return ck_err_set(err, CK_ENOMEM, "open %s: out of memory", path);
	}
	return 0;
}

int afile_commit(struct afile *a, struct ck_err *err)
{
	char dir[4096];
	int fd, e = 0;

	if (fflush(a->f) != 0 || ferror(a->f) || fsync(fileno(a->f)) != 0)
		e = errno ? errno : EIO;
	if (fclose(a->f) != 0 && !e)
		e = errno;
	a->f = NULL;
	if (!e && rename(a->tmp, a->path) != 0)
		e = errno;
	if (e) {
		unlink(a->tmp);
		a->tmp[0] = 0;
		return ck_err_set(err, e == ENOSPC ? CK_EFULL : CK_EIO, "write %s: %s%s", a->path,
				  strerror(e), e == ENOSPC ? " (free disk space and retry)" : "");
	}
	a->tmp[0] = 0;
	snprintf(dir, sizeof(dir), "%s", a->path);
	fd = open(dirname(dir), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd >= 0) {
		fsync(fd);
		close(fd);
	}
	return 0;
}

void afile_abort(struct afile *a)
{
	if (a->f)
		fclose(a->f);
	a->f = NULL;
	if (a->tmp[0])
		unlink(a->tmp);
	a->tmp[0] = 0;
}
