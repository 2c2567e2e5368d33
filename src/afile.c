/* afile.c — atomic file replacement. */
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <dirent.h>
#include <stdint.h>
#include <sys/file.h>
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
		return ck_err_set(
			err, e == ENOSPC ? CK_EFULL : CK_EIO,
			"create a temp file beside %s: %s (check the directory exists and is"
			" writable)",
			path, strerror(e));
	}
	if (afile_hold(fd) != 0 ||
	    fchmod(fd, (mode_t)mode) != 0) { /* explicit, whatever the umask */
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

/* The error of a write to path that failed with errno e: CK_EFULL for a full disk. */
static int write_error(const char *path, int e, struct ck_err *err)
{
	return ck_err_set(err, e == ENOSPC ? CK_EFULL : CK_EIO, "write %s: %s%s", path, strerror(e),
			  e == ENOSPC ? " (free disk space and retry)" : "");
}

int afile_write(struct afile *a, const void *p, size_t n, struct ck_err *err)
{
	int e;

	if (fwrite(p, 1, n, a->f) == n)
		return 0;
	e = errno ? errno : EIO;
	afile_abort(a);
	return write_error(a->path, e, err);
}

int afile_commit(struct afile *a, struct ck_err *err)
{
	char dir[4096];
	int fd, e = 0;

	if (fflush(a->f) != 0 || ferror(a->f) || fsync(fileno(a->f)) != 0)
		e = errno ? errno : EIO;
	/* Renamed while still open, so its lock (afile_hold) covers it until it has its
	 * final name: a sweep never takes a temp file that is about to be committed. */
	if (!e && rename(a->tmp, a->path) != 0)
		e = errno;
	if (fclose(a->f) != 0 && !e)
		e = errno;
	a->f = NULL;
	if (e) {
		unlink(a->tmp);
		a->tmp[0] = 0;
		return write_error(a->path, e, err);
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

int afile_hold(int fd)
{
	return flock(fd, LOCK_EX); /* a sweep probes for microseconds only */
}

/* 1 if nobody holds path (or it is gone), 0 if a live writer does. */
static int orphaned(const char *path)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK), free_;

	if (fd < 0)
		return errno == ENOENT;
	free_ = flock(fd, LOCK_EX | LOCK_NB) == 0;
	close(fd); /* drops our probe lock */
	return free_;
}

int afile_sweep(const char *dir, afile_temp_fn *is_temp, void *arg, int remove, int64_t *n,
		int64_t *bytes, struct ck_err *err)
{
	DIR *d;
	struct dirent *e;

	if (!(d = opendir(dir))) {
		if (errno == ENOENT)
			return 0;
		return ck_err_set(err, CK_EIO, "read directory %s: %s", dir, strerror(errno));
	}
	while ((e = readdir(d))) {
		char path[4200], main_path[4200];
		struct stat sb;
		size_t nl = strlen(e->d_name);
		const char *probe = path;

		if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, "..") || !is_temp(e->d_name, arg))
			continue;
		snprintf(path, sizeof(path), "%s/%s", dir, e->d_name);
		if (lstat(path, &sb) != 0 || !S_ISREG(sb.st_mode))
			continue;
		if (nl > 8 && !strcmp(e->d_name + nl - 8, "-journal")) {
			/* SQLite's journal of a temp database: orphaned with its main file. */
			snprintf(main_path, sizeof(main_path), "%.*s", (int)(strlen(path) - 8),
				 path);
			probe = main_path;
		}
		if (!orphaned(probe))
			continue;
		if (remove && unlink(path) != 0 && errno != ENOENT) {
			int en = errno;
			closedir(d);
			return ck_err_set(err, CK_EIO, "remove temp file %s: %s", path,
					  strerror(en));
		}
		if (n)
			(*n)++;
		if (bytes)
			*bytes += (int64_t)sb.st_size;
	}
	closedir(d);
	return 0;
}
