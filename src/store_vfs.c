/* store_vfs.c — one writer at a time for a database file, across processes.
 *
 * SQLite 3.40.1 (Debian 12) has the WAL-reset race (fixed upstream in 3.51.3): two
 * connections writing or checkpointing one WAL database at the same moment can corrupt
 * it. candlekeep therefore serialises every writer and every checkpoint of a database
 * with flock(2) on "<db>.write.lock", whichever process or connection it is (sync,
 * backfill, import, recover, the alert outbox, backup's catalogue, the daemon's jobs).
 *
 * It is done where no caller can forget it: in a VFS shim every connection of the store
 * opens files through. SQLite takes the WAL write lock (shm slot 0) to write and the
 * checkpoint lock (slot 1) to checkpoint; before either, the shim takes the flock
 * without waiting, and answers SQLITE_BUSY when another connection holds it, so
 * SQLite's busy handler (busy_timeout) waits and retries as for any other lock. The
 * flock is released when the connection releases the last of the two slots. A flock
 * belongs to an open file description, so two connections of one process exclude each
 * other too. Read-only connections never take either slot, and are opened with
 * SQLITE_DBCONFIG_NO_CKPT_ON_CLOSE so that checkpoints are only ever the writer's. */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sqlite3.h>

#include "fault.h"
#include "store_int.h"
#include "banned.h"

#define WRITER_SLOTS 0x3 /* shm lock slots 0 (WAL write) and 1 (checkpoint) */

static struct {
	sqlite3_vfs vfs;
	sqlite3_vfs *base;
	int ok;
	pthread_once_t once;
} V = {.once = PTHREAD_ONCE_INIT};

struct wfile {
	sqlite3_file base;  /* our methods */
	sqlite3_file *real; /* the wrapped file, allocated after this struct */
	char *lock_path;    /* "<db>.write.lock" for a main database, else NULL */
	int lock_fd;        /* open while the flock is held, else -1 */
	unsigned held;      /* WRITER_SLOTS this connection holds exclusively */
};

#define W(f) ((struct wfile *)(f))
#define REAL(f) (W(f)->real)

static int writer_take(struct wfile *w)
{
	int fd;

	if (w->lock_fd >= 0)
		return SQLITE_OK;
	fd = open(w->lock_path, O_RDWR | O_CREAT | O_CLOEXEC, 0640);
	if (fd < 0)
		return errno == EACCES || errno == EROFS ? SQLITE_READONLY : SQLITE_IOERR_LOCK;
	{
		/* The database's own permission bits, explicitly, whatever the umask. */
		struct stat db, sb;
		size_t dl = strlen(w->lock_path) - (sizeof(".write.lock") - 1);
		char dbp[4096];
		if (dl < sizeof(dbp)) {
			memcpy(dbp, w->lock_path, dl);
			dbp[dl] = 0;
			if (stat(dbp, &db) == 0 && fstat(fd, &sb) == 0 && sb.st_uid == geteuid() &&
			    (sb.st_mode & 0777) != (db.st_mode & 0666))
				fchmod(fd, db.st_mode & 0666);
		}
	}
	if (flock(fd, LOCK_EX | LOCK_NB) != 0) {
		int e = errno;
		close(fd);
		return e == EWOULDBLOCK || e == EINTR ? SQLITE_BUSY : SQLITE_IOERR_LOCK;
	}
	w->lock_fd = fd;
	return SQLITE_OK;
}

static void writer_drop(struct wfile *w)
{
	if (w->lock_fd >= 0)
		close(w->lock_fd); /* drops the flock */
	w->lock_fd = -1;
}

static int w_shmlock(sqlite3_file *f, int off, int n, int flags)
{
	struct wfile *w = W(f);
	unsigned slots = 0;
	int rc, i;

	for (i = off; i < off + n && i < 2; i++)
		slots |= 1u << i;
	if (!w->lock_path || !slots || !(flags & SQLITE_SHM_EXCLUSIVE))
		return REAL(f)->pMethods->xShmLock(REAL(f), off, n, flags);
	if (flags & SQLITE_SHM_LOCK) {
		if (!w->held && (rc = writer_take(w)) != SQLITE_OK)
			return rc;
		rc = REAL(f)->pMethods->xShmLock(REAL(f), off, n, flags);
		if (rc == SQLITE_OK)
			w->held |= slots;
		else if (!w->held)
			writer_drop(w);
		return rc;
	}
	rc = REAL(f)->pMethods->xShmLock(REAL(f), off, n, flags);
	w->held &= ~slots;
	if (!w->held)
		writer_drop(w);
	return rc;
}

static int w_close(sqlite3_file *f)
{
	int rc = REAL(f)->pMethods ? REAL(f)->pMethods->xClose(REAL(f)) : SQLITE_OK;
	writer_drop(W(f));
	free(W(f)->lock_path);
	W(f)->lock_path = NULL;
	return rc;
}
static int w_read(sqlite3_file *f, void *b, int n, sqlite3_int64 o)
{
	return REAL(f)->pMethods->xRead(REAL(f), b, n, o);
}
static int w_write(sqlite3_file *f, const void *b, int n, sqlite3_int64 o)
{
	return REAL(f)->pMethods->xWrite(REAL(f), b, n, o);
}
static int w_truncate(sqlite3_file *f, sqlite3_int64 size)
{
	return REAL(f)->pMethods->xTruncate(REAL(f), size);
}
static int w_sync(sqlite3_file *f, int flags)
{
	return REAL(f)->pMethods->xSync(REAL(f), flags);
}
static int w_size(sqlite3_file *f, sqlite3_int64 *s)
{
	return REAL(f)->pMethods->xFileSize(REAL(f), s);
}
static int w_lock(sqlite3_file *f, int l)
{
	return REAL(f)->pMethods->xLock(REAL(f), l);
}
static int w_unlock(sqlite3_file *f, int l)
{
	return REAL(f)->pMethods->xUnlock(REAL(f), l);
}
static int w_check(sqlite3_file *f, int *out)
{
	return REAL(f)->pMethods->xCheckReservedLock(REAL(f), out);
}
static int w_control(sqlite3_file *f, int op, void *arg)
{
	return REAL(f)->pMethods->xFileControl(REAL(f), op, arg);
}
static int w_sector(sqlite3_file *f)
{
	return REAL(f)->pMethods->xSectorSize(REAL(f));
}
static int w_devchar(sqlite3_file *f)
{
	return REAL(f)->pMethods->xDeviceCharacteristics(REAL(f));
}
static int w_shmmap(sqlite3_file *f, int pg, int sz, int ext, void volatile **pp)
{
	return REAL(f)->pMethods->xShmMap(REAL(f), pg, sz, ext, pp);
}
static void w_shmbarrier(sqlite3_file *f)
{
	REAL(f)->pMethods->xShmBarrier(REAL(f));
}
static int w_shmunmap(sqlite3_file *f, int del)
{
	return REAL(f)->pMethods->xShmUnmap(REAL(f), del);
}

/* Memory-mapped reads (version 3), passed through when the file below has them: a
 * connection that sets PRAGMA mmap_size reads pages without a read(2) and copy each
 * (the backup's check of its pinned snapshot, store_backup.c). No other connection sets
 * it. Without them SQLite reads as before: *pp = NULL means "read it instead". */
static int w_fetch(sqlite3_file *f, sqlite3_int64 off, int amt, void **pp)
{
	if (REAL(f)->pMethods->iVersion < 3 || !REAL(f)->pMethods->xFetch) {
		*pp = NULL;
		return SQLITE_OK;
	}
	return REAL(f)->pMethods->xFetch(REAL(f), off, amt, pp);
}
static int w_unfetch(sqlite3_file *f, sqlite3_int64 off, void *p)
{
	if (REAL(f)->pMethods->iVersion < 3 || !REAL(f)->pMethods->xUnfetch)
		return SQLITE_OK;
	return REAL(f)->pMethods->xUnfetch(REAL(f), off, p);
}

static const sqlite3_io_methods methods = {
	3,         w_close,      w_read,     w_write,   w_truncate, w_sync,    w_size,
	w_lock,    w_unlock,     w_check,    w_control, w_sector,   w_devchar, w_shmmap,
	w_shmlock, w_shmbarrier, w_shmunmap, w_fetch,   w_unfetch,
};

static int v_open(sqlite3_vfs *vfs, const char *name, sqlite3_file *f, int flags, int *out)
{
	struct wfile *w = W(f);
	int rc;

	(void)vfs;
	w->real = (sqlite3_file *)(w + 1);
	w->lock_path = NULL;
	w->lock_fd = -1;
	w->held = 0;
	memset(w->real, 0, (size_t)V.base->szOsFile);
	if (name && (flags & SQLITE_OPEN_MAIN_DB) && !(flags & SQLITE_OPEN_READONLY)) {
		size_t len = strlen(name) + sizeof(".write.lock");
		if (!(w->lock_path = malloc(len)))
			return SQLITE_NOMEM;
		snprintf(w->lock_path, len, "%s.write.lock", name);
	}
	rc = V.base->xOpen(V.base, name, w->real, flags, out);
	if (rc != SQLITE_OK || !w->real->pMethods) {
		free(w->lock_path);
		w->lock_path = NULL;
		w->base.pMethods = NULL;
		return rc;
	}
	w->base.pMethods = &methods;
	return rc;
}
static int v_delete(sqlite3_vfs *v, const char *n, int sync)
{
	(void)v;
	return V.base->xDelete(V.base, n, sync);
}
static int v_access(sqlite3_vfs *v, const char *n, int fl, int *out)
{
	(void)v;
	return V.base->xAccess(V.base, n, fl, out);
}
static int v_fullpath(sqlite3_vfs *v, const char *n, int size, char *out)
{
	(void)v;
	return V.base->xFullPathname(V.base, n, size, out);
}
static int v_random(sqlite3_vfs *v, int n, char *out)
{
	(void)v;
	return V.base->xRandomness(V.base, n, out);
}
static int v_sleep(sqlite3_vfs *v, int us)
{
	(void)v;
	return V.base->xSleep(V.base, us);
}
static int v_time(sqlite3_vfs *v, double *out)
{
	(void)v;
	return V.base->xCurrentTime(V.base, out);
}
static int v_lasterr(sqlite3_vfs *v, int n, char *out)
{
	(void)v;
	return V.base->xGetLastError ? V.base->xGetLastError(V.base, n, out) : 0;
}
static int v_time64(sqlite3_vfs *v, sqlite3_int64 *out)
{
	(void)v;
	return V.base->xCurrentTimeInt64(V.base, out);
}

static void vfs_init(void)
{
	if (!(V.base = sqlite3_vfs_find(fault_vfs_name())))
		return;
	V.vfs.iVersion = 2;
	V.vfs.szOsFile = (int)sizeof(struct wfile) + V.base->szOsFile;
	V.vfs.mxPathname = V.base->mxPathname;
	V.vfs.zName = "candlekeep-writer";
	V.vfs.xOpen = v_open;
	V.vfs.xDelete = v_delete;
	V.vfs.xAccess = v_access;
	V.vfs.xFullPathname = v_fullpath;
	V.vfs.xRandomness = v_random;
	V.vfs.xSleep = v_sleep;
	V.vfs.xCurrentTime = v_time;
	V.vfs.xGetLastError = v_lasterr;
	V.vfs.xCurrentTimeInt64 = v_time64;
	V.ok = sqlite3_vfs_register(&V.vfs, 0) == SQLITE_OK;
}

const char *store_vfs_name(void)
{
	pthread_once(&V.once, vfs_init);
	return V.ok ? V.vfs.zName : fault_vfs_name();
}
