/* fault.c — a SQLite VFS shim that fails or crashes at the N-th file write, for the
 * N-th-fault sweeps in tests/e2e (see fault.h). Wraps the default VFS; every method
 * but xWrite, xSync and xTruncate is passed through. */
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sqlite3.h>

#include "fault.h"
#include "banned.h"

#ifndef CK_FAULT_INJECTION

const char *fault_vfs_name(void)
{
	return NULL;
}

void fault_point(const char *name)
{
	(void)name;
}

int fault_hang(const char *site)
{
	(void)site;
	return 0;
}

int fault_damage(const char *site)
{
	(void)site;
	return 0;
}

#else

int fault_hang(const char *site)
{
	const char *v = getenv("CANDLEKEEP_FAULT_HANG");
	return v && site && !strcmp(v, site);
}

int fault_damage(const char *site)
{
	const char *v = getenv("CANDLEKEEP_FAULT_DAMAGE");
	return v && site && !strcmp(v, site);
}

static struct {
	int armed;
	long fail_at, kill_at, count;
	int full;
	sqlite3_vfs vfs;
	sqlite3_vfs *base;
} F;

struct ffile {
	sqlite3_file base;  /* our methods */
	sqlite3_file *real; /* the wrapped file, allocated after this struct */
};

static int tick(void)
{
	F.count++;
	if (F.kill_at && F.count >= F.kill_at)
		kill(getpid(), SIGKILL);
	if (F.fail_at && F.count >= F.fail_at)
		return F.full ? SQLITE_FULL : SQLITE_IOERR_WRITE;
	return SQLITE_OK;
}

#define REAL(f) (((struct ffile *)(f))->real)

static int f_close(sqlite3_file *f)
{
	int rc = REAL(f)->pMethods ? REAL(f)->pMethods->xClose(REAL(f)) : SQLITE_OK;
	return rc;
}
static int f_read(sqlite3_file *f, void *b, int n, sqlite3_int64 o)
{
	return REAL(f)->pMethods->xRead(REAL(f), b, n, o);
}
static int f_write(sqlite3_file *f, const void *b, int n, sqlite3_int64 o)
{
	int rc = tick();
	return rc ? rc : REAL(f)->pMethods->xWrite(REAL(f), b, n, o);
}
static int f_truncate(sqlite3_file *f, sqlite3_int64 size)
{
	int rc = tick();
	return rc ? rc : REAL(f)->pMethods->xTruncate(REAL(f), size);
}
static int f_sync(sqlite3_file *f, int flags)
{
	int rc = tick();
	return rc ? (F.full ? SQLITE_FULL : SQLITE_IOERR_FSYNC)
		  : REAL(f)->pMethods->xSync(REAL(f), flags);
}
static int f_size(sqlite3_file *f, sqlite3_int64 *s)
{
	return REAL(f)->pMethods->xFileSize(REAL(f), s);
}
static int f_lock(sqlite3_file *f, int l)
{
	return REAL(f)->pMethods->xLock(REAL(f), l);
}
static int f_unlock(sqlite3_file *f, int l)
{
	return REAL(f)->pMethods->xUnlock(REAL(f), l);
}
static int f_check(sqlite3_file *f, int *out)
{
	return REAL(f)->pMethods->xCheckReservedLock(REAL(f), out);
}
static int f_control(sqlite3_file *f, int op, void *arg)
{
	return REAL(f)->pMethods->xFileControl(REAL(f), op, arg);
}
static int f_sector(sqlite3_file *f)
{
	return REAL(f)->pMethods->xSectorSize(REAL(f));
}
static int f_devchar(sqlite3_file *f)
{
	return REAL(f)->pMethods->xDeviceCharacteristics(REAL(f));
}
static int f_shmmap(sqlite3_file *f, int pg, int sz, int ext, void volatile **pp)
{
	return REAL(f)->pMethods->xShmMap(REAL(f), pg, sz, ext, pp);
}
static int f_shmlock(sqlite3_file *f, int off, int n, int flags)
{
	return REAL(f)->pMethods->xShmLock(REAL(f), off, n, flags);
}
static void f_shmbarrier(sqlite3_file *f)
{
	REAL(f)->pMethods->xShmBarrier(REAL(f));
}
static int f_shmunmap(sqlite3_file *f, int del)
{
	return REAL(f)->pMethods->xShmUnmap(REAL(f), del);
}

static const sqlite3_io_methods methods = {
	2,         f_close,      f_read,     f_write,   f_truncate, f_sync,    f_size,
	f_lock,    f_unlock,     f_check,    f_control, f_sector,   f_devchar, f_shmmap,
	f_shmlock, f_shmbarrier, f_shmunmap, NULL,      NULL,
};

static int v_open(sqlite3_vfs *vfs, const char *name, sqlite3_file *f, int flags, int *out)
{
	struct ffile *ff = (struct ffile *)f;
	int rc;

	(void)vfs;
	ff->real = (sqlite3_file *)(ff + 1);
	memset(ff->real, 0, (size_t)F.base->szOsFile);
	rc = F.base->xOpen(F.base, name, ff->real, flags, out);
	ff->base.pMethods = rc == SQLITE_OK && ff->real->pMethods ? &methods : NULL;
	return rc;
}

static int v_delete(sqlite3_vfs *v, const char *n, int sync)
{
	(void)v;
	return F.base->xDelete(F.base, n, sync);
}
static int v_access(sqlite3_vfs *v, const char *n, int fl, int *out)
{
	(void)v;
	return F.base->xAccess(F.base, n, fl, out);
}
static int v_fullpath(sqlite3_vfs *v, const char *n, int size, char *out)
{
	(void)v;
	return F.base->xFullPathname(F.base, n, size, out);
}
static int v_random(sqlite3_vfs *v, int n, char *out)
{
	(void)v;
	return F.base->xRandomness(F.base, n, out);
}
static int v_sleep(sqlite3_vfs *v, int us)
{
	(void)v;
	return F.base->xSleep(F.base, us);
}
static int v_time(sqlite3_vfs *v, double *out)
{
	(void)v;
	return F.base->xCurrentTime(F.base, out);
}
static int v_lasterr(sqlite3_vfs *v, int n, char *out)
{
	(void)v;
	return F.base->xGetLastError(F.base, n, out);
}
static int v_time64(sqlite3_vfs *v, sqlite3_int64 *out)
{
	(void)v;
	return F.base->xCurrentTimeInt64(F.base, out);
}

static long env_long(const char *name)
{
	const char *v = getenv(name);
	return v && *v ? strtol(v, NULL, 10) : 0;
}

const char *fault_vfs_name(void)
{
	if (!F.armed) {
		F.fail_at = env_long("CANDLEKEEP_FAULT_IO");
		F.kill_at = env_long("CANDLEKEEP_FAULT_KILL");
		F.full = env_long("CANDLEKEEP_FAULT_FULL") != 0;
		if (!F.fail_at && !F.kill_at)
			return NULL;
		F.base = sqlite3_vfs_find(NULL);
		if (!F.base)
			return NULL;
		F.vfs.iVersion = 2;
		F.vfs.szOsFile = (int)sizeof(struct ffile) + F.base->szOsFile;
		F.vfs.mxPathname = F.base->mxPathname;
		F.vfs.zName = "ckfault";
		F.vfs.xOpen = v_open;
		F.vfs.xDelete = v_delete;
		F.vfs.xAccess = v_access;
		F.vfs.xFullPathname = v_fullpath;
		F.vfs.xRandomness = v_random;
		F.vfs.xSleep = v_sleep;
		F.vfs.xCurrentTime = v_time;
		F.vfs.xGetLastError = v_lasterr;
		F.vfs.xCurrentTimeInt64 = v_time64;
		if (sqlite3_vfs_register(&F.vfs, 0) != SQLITE_OK)
			return NULL;
		F.armed = 1;
	}
	return F.vfs.zName;
}

void fault_point(const char *name)
{
	const char *v = getenv("CANDLEKEEP_FAULT_POINT");
	if (v && name && !strcmp(v, name))
		kill(getpid(), SIGKILL);
}

#endif
