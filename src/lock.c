/* lock.c — flock-based run lock beside the database; for a database at a URL
 * (PostgreSQL), the store's advisory lock on the server instead. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "lock.h"
#include "store.h"
#include "utc.h"
#include "banned.h"

struct lock {
	int fd;
	void *server; /* the store's run lock (store_run_lock) when the database is a URL */
	/* A server's run lock: what lock_check needs to take it again (NULL path else). */
	char *path; /* the database's URL */
	char what[64];
	int shared;
};

/* On a database server, the runs that fetch candles are workers: any number run at
 * once and split the symbols by the store's work claims (store_claim), so they hold
 * the run lock shared; every other run holds it alone, as on a file. */
static int lock_worker(const char *what)
{
	static const char *const workers[] = {"sync", "backfill", "daemon"};

	for (size_t i = 0; i < sizeof(workers) / sizeof(workers[0]); i++)
		if (!strcmp(what, workers[i]))
			return 1;
	return 0;
}

static void lock_path(char *buf, size_t size, const char *db_path)
{
	snprintf(buf, size, "%s.lock", db_path);
}

static void read_holder(int fd, long *pid, long long *since, char *what, size_t wsize)
{
	char buf[256] = "";
	ssize_t n = pread(fd, buf, sizeof(buf) - 1, 0);

	*pid = 0;
	*since = 0;
	if (what && wsize)
		what[0] = 0;
	if (n > 0) {
		buf[n] = 0;
		char w[64] = "";
		if (sscanf(buf, "%ld %lld %63s", pid, since, w) >= 2 && what)
			snprintf(what, wsize, "%s", w);
	}
}

/* The lock file gets the permission bits mode explicitly, whatever the umask; only
 * its owner can change them (another user's lock file is left as it is). */
static void set_mode(int fd, unsigned mode)
{
	struct stat sb;

	if (fstat(fd, &sb) == 0 && sb.st_uid == geteuid() && (sb.st_mode & 07777) != mode)
		fchmod(fd, (mode_t)mode);
}

int lock_acquire(struct lock **out, const char *db_path, const char *what, unsigned mode,
		 struct ck_err *err)
{
	char path[4096], line[128];
	struct lock *l;
	int fd, len;

	*out = NULL;
	if (store_url(db_path)) {
		void *h;
		if (store_run_lock(db_path, what, lock_worker(what), &h, err))
			return err->code;
		if (!(l = calloc(1, sizeof(*l)))) {
			store_run_unlock(h);
			return ck_err_set(err, CK_ENOMEM, "lock: out of memory");
		}
		l->fd = -1;
		l->server = h;
		l->shared = lock_worker(what);
		snprintf(l->what, sizeof(l->what), "%s", what);
		if (!(l->path = strdup(db_path))) {
			lock_release(l);
			return ck_err_set(err, CK_ENOMEM, "lock: out of memory");
		}
		*out = l;
		return 0;
	}
	lock_path(path, sizeof(path), db_path);
	fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0640);
	if (fd < 0)
		return ck_err_set(err, CK_EIO,
				  "open lock file %s: %s (check the directory's permissions)", path,
				  strerror(errno));
	set_mode(fd, mode);
	if (flock(fd, LOCK_EX | LOCK_NB) != 0) {
		int e = errno;
		long pid;
		long long since;
		char holder[64];

		read_holder(fd, &pid, &since, holder, sizeof(holder));
		close(fd);
		if (e == EWOULDBLOCK)
			return ck_err_set(err, CK_ELOCKED,
					  "%s: another run holds the lock %s (pid %ld, %s, started "
					  "%llds ago);"
					  " wait for it to finish",
					  what, path, pid, holder[0] ? holder : "?",
					  since ? (long long)(now_ms() / 1000) - since : 0LL);
		return ck_err_set(err, CK_EIO, "lock %s: %s", path, strerror(e));
	}
	len = snprintf(line, sizeof(line), "%ld %lld %s\n", (long)getpid(),
		       (long long)(now_ms() / 1000), what);
	if (ftruncate(fd, 0) != 0 || pwrite(fd, line, (size_t)len, 0) != len) {
		/* The lock itself is held; the content is only for messages. */
	}
	if (!(l = malloc(sizeof(*l)))) {
		close(fd);
		return ck_err_set(err, CK_ENOMEM, "lock %s: out of memory", path);
	}
	l->fd = fd;
	l->server = NULL;
	l->path = NULL;
	*out = l;
	return 0;
}

void lock_release(struct lock *l)
{
	if (!l)
		return;
	if (l->server)
		store_run_unlock(l->server);
	else if (l->fd >= 0)
		close(l->fd); /* drops the flock */
	free(l->path);
	free(l);
}

int lock_check(struct lock *l, struct ck_err *err)
{
	if (!l || !l->path)
		return 0; /* none, or a file's flock: the kernel keeps it while the process lives */
	return store_run_lock_check(l->path, l->what, l->shared, &l->server, err);
}

int lock_leader(struct lock **l, const char *db_path, int *leader, struct ck_err *err)
{
	void *h = *l ? (*l)->server : NULL;
	int rc;

	*leader = 1;
	if (!store_url(db_path))
		return 0; /* a file: no cluster, this process is the only one to lead */
	rc = store_leader_lock(db_path, &h, leader, err);
	if (!h) {
		free(*l);
		*l = NULL;
		return rc;
	}
	if (!*l) {
		if (!(*l = calloc(1, sizeof(**l)))) {
			store_run_unlock(h);
			*leader = 0;
			return ck_err_set(err, CK_ENOMEM, "lock: out of memory");
		}
		(*l)->fd = -1;
	}
	(*l)->server = h;
	return rc;
}

int lock_probe(const char *db_path, long *pid, long long *since, struct ck_err *err)
{
	char path[4096];
	int fd, held;

	*pid = 0;
	*since = 0;
	if (store_url(db_path))
		return store_run_lock_probe(db_path, err); /* held or not; no pid, no start */
	lock_path(path, sizeof(path), db_path);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		if (errno == ENOENT)
			return 0;
		return ck_err_set(err, CK_EIO, "open lock file %s: %s", path, strerror(errno));
	}
	held = flock(fd, LOCK_SH | LOCK_NB) != 0 && errno == EWOULDBLOCK;
	if (!held)
		flock(fd, LOCK_UN);
	else
		read_holder(fd, pid, since, NULL, 0);
	close(fd);
	return held;
}
