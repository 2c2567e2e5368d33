/* store_backup.c — the backups table and the SQLite side of backups: the online-backup
 * snapshot and the read-only verification of a backup file (part of the store module;
 * backup.c owns the files, tiers and retention). */
#include <errno.h>
#include <pthread.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sqlite3.h>

#include "store_backup.h"
#include "store_int.h"
#include "banned.h"

int sq_backup_put(struct store *st, const struct store_backup *b, int64_t *id, struct ck_err *err)
{
	sqlite3_stmt *s = NULL;
	int rc;

	if (store_prepare(
		    st, &s,
		    "INSERT INTO backups (tier, location, created, size, sha256, candles,"
		    " status, detail, verified_at) VALUES (?1,?2,?3,?4,?5,?6,?7,?8,?9)"
		    " ON CONFLICT (tier, location) DO UPDATE SET created = excluded.created,"
		    " size = excluded.size, sha256 = excluded.sha256, candles = excluded.candles,"
		    " status = excluded.status, detail = excluded.detail,"
		    " verified_at = excluded.verified_at RETURNING id",
		    err))
		return err->code;
	sqlite3_bind_text(s, 1, b->tier, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 2, b->location, -1, SQLITE_STATIC);
	sqlite3_bind_int64(s, 3, b->created);
	sqlite3_bind_int64(s, 4, b->size);
	sqlite3_bind_text(s, 5, b->sha256, -1, SQLITE_STATIC);
	sqlite3_bind_int64(s, 6, b->candles);
	sqlite3_bind_text(s, 7, b->status, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 8, b->detail, -1, SQLITE_STATIC);
	if (b->verified_at)
		sqlite3_bind_int64(s, 9, b->verified_at);
	rc = sqlite3_step(s);
	if (rc == SQLITE_ROW && id)
		*id = sqlite3_column_int64(s, 0);
	if (rc == SQLITE_ROW)
		rc = sqlite3_step(s);
	sqlite3_finalize(s);
	if (rc != SQLITE_DONE)
		return store_db_fail(st, err, "record backup in");
	return 0;
}

int sq_backup_set_status(struct store *st, int64_t id, const char *status, const char *detail,
			 struct ck_err *err)
{
	sqlite3_stmt *s = NULL;
	int rc;

	if (store_prepare(st, &s, "UPDATE backups SET status = ?2, detail = ?3 WHERE id = ?1", err))
		return err->code;
	sqlite3_bind_int64(s, 1, id);
	sqlite3_bind_text(s, 2, status, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 3, detail, -1, SQLITE_STATIC);
	rc = sqlite3_step(s);
	sqlite3_finalize(s);
	if (rc != SQLITE_DONE)
		return store_db_fail(st, err, "update backup in");
	return 0;
}

static void col_text(char *dst, size_t size, sqlite3_stmt *s, int col)
{
	const unsigned char *t = sqlite3_column_text(s, col);
	snprintf(dst, size, "%s", t ? (const char *)t : "");
}

int sq_backup_list(struct store *st, const char *tier, struct store_backup **out, size_t *n,
		   struct ck_err *err)
{
	sqlite3_stmt *s = NULL;
	struct store_backup *v = NULL;
	size_t len = 0, cap = 0;
	int rc;

	*out = NULL;
	*n = 0;
	if (store_prepare(st, &s,
			  "SELECT id, tier, location, created, size, coalesce(sha256, ''), candles,"
			  " status, coalesce(detail, ''), coalesce(verified_at, 0) FROM backups"
			  " WHERE ?1 IS NULL OR tier = ?1 ORDER BY created DESC, id DESC",
			  err))
		return err->code;
	if (tier)
		sqlite3_bind_text(s, 1, tier, -1, SQLITE_STATIC);
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		struct store_backup *b;
		if (store_grow(&v, &cap, len, sizeof(*v), "list backups", err)) {
			sqlite3_finalize(s);
			free(v);
			return err->code;
		}
		b = &v[len++];
		memset(b, 0, sizeof(*b));
		b->id = sqlite3_column_int64(s, 0);
		col_text(b->tier, sizeof(b->tier), s, 1);
		col_text(b->location, sizeof(b->location), s, 2);
		b->created = sqlite3_column_int64(s, 3);
		b->size = sqlite3_column_int64(s, 4);
		col_text(b->sha256, sizeof(b->sha256), s, 5);
		b->candles = sqlite3_column_int64(s, 6);
		col_text(b->status, sizeof(b->status), s, 7);
		col_text(b->detail, sizeof(b->detail), s, 8);
		b->verified_at = sqlite3_column_int64(s, 9);
	}
	sqlite3_finalize(s);
	if (rc != SQLITE_DONE) {
		free(v);
		return store_db_fail(st, err, "read backups from");
	}
	*out = v;
	*n = len;
	return 0;
}

/* An error about a connection that is not a struct store. */
static int conn_fail(sqlite3 *db, struct ck_err *err, const char *what, const char *path)
{
	int rc = db ? sqlite3_extended_errcode(db) & 0xff : SQLITE_NOMEM;
	int code = CK_EDB;
	if (rc == SQLITE_CORRUPT || rc == SQLITE_NOTADB)
		code = CK_ECORRUPT;
	else if (rc == SQLITE_FULL)
		code = CK_EFULL;
	else if (rc == SQLITE_IOERR)
		code = CK_EIO;
	return ck_err_set(err, code, "%s %s: %s", what, path,
			  db ? sqlite3_errmsg(db) : "out of memory");
}

static int count_candles(sqlite3 *db, int64_t *candles)
{
	sqlite3_stmt *s = NULL;
	int rc;

	if (sqlite3_prepare_v2(db, "SELECT count(*) FROM candles", -1, &s, NULL) != SQLITE_OK)
		return -1;
	rc = sqlite3_step(s);
	if (rc == SQLITE_ROW)
		*candles = sqlite3_column_int64(s, 0);
	sqlite3_finalize(s);
	return rc == SQLITE_ROW ? 0 : -1;
}

int store_backup_snapshot(const char *src_path, const char *dest_path, int step_pages,
			  int64_t *candles, struct ck_err *err)
{
	sqlite3 *src = NULL, *dst = NULL;
	sqlite3_backup *bk = NULL;
	int rc, ret = 0, in_txn = 0;

	*candles = 0;
	if (step_pages == 0)
		step_pages = -1;
	if (sqlite3_open_v2(src_path, &src, SQLITE_OPEN_READONLY | SQLITE_OPEN_NOMUTEX,
			    store_vfs_name()) != SQLITE_OK) {
		ret = conn_fail(src, err, "open for backup", src_path);
		goto out;
	}
	sqlite3_busy_timeout(src, 10000);
	/* A reader: checkpoints are the writer's alone (store_vfs.c). */
	sqlite3_db_config(src, SQLITE_DBCONFIG_NO_CKPT_ON_CLOSE, 1, NULL);
	/* The read transaction pins one snapshot for both the count and the copy. */
	if (sqlite3_exec(src, "BEGIN", NULL, NULL, NULL) != SQLITE_OK) {
		ret = conn_fail(src, err, "begin backup snapshot of", src_path);
		goto out;
	}
	in_txn = 1;
	if (count_candles(src, candles)) {
		ret = conn_fail(src, err, "count candles of", src_path);
		goto out;
	}
	if (sqlite3_open_v2(dest_path, &dst,
			    SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX,
			    NULL) != SQLITE_OK) {
		ret = conn_fail(dst, err, "create backup", dest_path);
		goto out;
	}
	/* The destination is a new private file, fsync'd once and verified by the caller:
	 * no rollback journal, no syncs of its own. Its page cache stays the default: the
	 * pages are written once either way (spilled to the file, journal off), and a cache
	 * of the whole copy measured slower (a malloc per page). */
	if (sqlite3_exec(dst, "PRAGMA journal_mode=OFF; PRAGMA synchronous=OFF", NULL, NULL,
			 NULL) != SQLITE_OK) {
		ret = conn_fail(dst, err, "prepare backup", dest_path);
		goto out;
	}
	if (!(bk = sqlite3_backup_init(dst, "main", src, "main"))) {
		ret = conn_fail(dst, err, "start backup into", dest_path);
		goto out;
	}
	/* Within the read transaction the snapshot cannot move: a step < 0 copies it in
	 * one pass (step_pages > 0 keeps the old stepping for callers that ask). */
	do {
		rc = sqlite3_backup_step(bk, step_pages);
	} while (rc == SQLITE_OK || rc == SQLITE_BUSY || rc == SQLITE_LOCKED);
	rc = sqlite3_backup_finish(bk);
	bk = NULL;
	if (rc != SQLITE_OK) {
		ret = conn_fail(dst, err, "copy pages into backup", dest_path);
		goto out;
	}
	/* One self-contained file: no -wal beside a backup. */
	if (sqlite3_exec(dst, "PRAGMA journal_mode=DELETE", NULL, NULL, NULL) != SQLITE_OK) {
		ret = conn_fail(dst, err, "finish backup", dest_path);
		goto out;
	}
out:
	if (bk)
		sqlite3_backup_finish(bk);
	if (in_txn)
		sqlite3_exec(src, "COMMIT", NULL, NULL, NULL);
	if (dst && sqlite3_close(dst) != SQLITE_OK && !ret)
		ret = ck_err_set(err, CK_EIO, "close backup %s: %s", dest_path,
				 sqlite3_errmsg(dst));
	sqlite3_close(src);
	return ret;
}

/* ---- the pinned main file (store_backup_pin) ---- */

struct store_pin {
	sqlite3 *rd; /* its read transaction holds the main file still */
	int fd;      /* the main file, for the byte copy */
};

#define PIN_TRIES 5

/* Descriptors of the database's own files (main file, -shm) that this process opens
 * beside SQLite are kept open until it exits, never closed: closing any descriptor of
 * a file drops every POSIX lock the process holds on it, SQLite's included (the
 * caller's store, a daemon's connections). Another process then believes it is alone:
 * it truncated the -shm under this one's map (SIGBUS, t6015), and a last connection
 * closing elsewhere checkpointed and deleted the WAL a daemon was still writing to, so
 * every later write of the daemon went to a deleted file (t6001, t6002). A file is
 * matched by device and inode each time: SQLite deletes the -shm (and a restore
 * replaces the main file), and a descriptor of the old file would read stale bytes. The
 * old descriptor stays open too (the process may still hold locks on that file). At
 * most KEPT_MAX files; beyond that, -1 (the caller falls back to SQLite's own copy). */
#define KEPT_MAX 16

static int kept_open(const char *path)
{
	static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
	static struct {
		dev_t dev;
		ino_t ino;
		int fd;
	} kept[KEPT_MAX];
	static int nkept;
	struct stat now;
	int fd = -1, i;

	if (stat(path, &now) != 0)
		return -1;
	pthread_mutex_lock(&lock);
	for (i = 0; i < nkept && fd < 0; i++)
		if (kept[i].dev == now.st_dev && kept[i].ino == now.st_ino)
			fd = kept[i].fd;
	if (fd < 0 && nkept < KEPT_MAX && (fd = open(path, O_RDONLY | O_CLOEXEC)) >= 0) {
		struct stat got;
		if (fstat(fd, &got) != 0) {
			fd = -1; /* kept open all the same, unrecorded (see above) */
		} else {
			kept[nkept].dev = got.st_dev;
			kept[nkept].ino = got.st_ino;
			kept[nkept].fd = fd;
			nkept++;
			if (got.st_dev != now.st_dev || got.st_ino != now.st_ino)
				fd = -1; /* replaced between stat and open: the next call finds it
					  */
		}
	}
	pthread_mutex_unlock(&lock);
	return fd;
}

/* 1 when the wal-index of db_path says every committed WAL frame is in the main file
 * (mxFrame == nBackfill, sqlite.org/walformat.html), 0 when not or unreadable. Only
 * meaningful while the caller holds the writer lock: no writer or checkpointer can
 * change the header meanwhile (nor delete the -shm), so its two copies agree. */
static int wal_backfilled(const char *db_path)
{
	unsigned char h[136];
	char shm[4200];
	uint32_t mx, backfill;
	int fd;

	snprintf(shm, sizeof(shm), "%s-shm", db_path);
	if ((fd = kept_open(shm)) < 0 || pread(fd, h, sizeof(h), 0) != (ssize_t)sizeof(h))
		return 0;
	if (h[12] != 1 || memcmp(h, h + 48, 48))
		return 0;
	memcpy(&mx, h + 16, 4); /* native byte order */
	memcpy(&backfill, h + 96, 4);
	return mx == backfill;
}

/* Begins rd's read transaction (BEGIN, then a read: SQLite starts it lazily). */
static int begin_read(sqlite3 *rd)
{
	if (sqlite3_exec(rd, "BEGIN", NULL, NULL, NULL) != SQLITE_OK)
		return -1;
	if (sqlite3_exec(rd, "SELECT count(*) FROM sqlite_master", NULL, NULL, NULL) != SQLITE_OK) {
		sqlite3_exec(rd, "ROLLBACK", NULL, NULL, NULL);
		return -1;
	}
	return 0;
}

/* WAL mode: checkpoint (as a writer: the writer lock is taken for it by store_vfs.c),
 * take the writer lock, and begin rd's read transaction if the WAL is then wholly in
 * the main file. 0 when pinned; CK_EDB after PIN_TRIES (frames a reader still needs,
 * or writers adding frames between the checkpoint and the lock). */
static int pin_wal(const char *src_path, sqlite3 *rd, struct ck_err *err)
{
	sqlite3 *wr = NULL;
	int tries, ret = 0, pinned = 0;

	if (sqlite3_open_v2(src_path, &wr, SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX,
			    store_vfs_name()) != SQLITE_OK) {
		ret = conn_fail(wr, err, "open for backup", src_path);
		goto out;
	}
	sqlite3_busy_timeout(wr, 10000);
	sqlite3_db_config(wr, SQLITE_DBCONFIG_NO_CKPT_ON_CLOSE, 1, NULL);
	for (tries = 0; tries < PIN_TRIES && !pinned; tries++) {
		int nlog = 0, nckpt = 0;
		sqlite3_wal_checkpoint_v2(wr, "main", SQLITE_CHECKPOINT_PASSIVE, &nlog, &nckpt);
		if (sqlite3_exec(wr, "BEGIN IMMEDIATE", NULL, NULL, NULL) != SQLITE_OK) {
			ret = conn_fail(wr, err, "take the writer lock of", src_path);
			goto out;
		}
		/* No frame can be added now: a reader that begins while the WAL is all in the
		 * main file reads the main file only, and holds it still. */
		if (wal_backfilled(src_path))
			pinned = begin_read(rd) == 0;
		sqlite3_exec(wr, "ROLLBACK", NULL, NULL, NULL);
	}
	if (!pinned)
		ret = ck_err_set(err, CK_EDB,
				 "backup of %s: the write-ahead log could not be checkpointed"
				 " entirely (%d tries)",
				 src_path, PIN_TRIES);
out:
	sqlite3_close(wr);
	return ret;
}

int store_backup_pin(const char *src_path, struct store_pin **out, int *fd, int64_t *size,
		     struct ck_err *err)
{
	struct store_pin *p;
	sqlite3_stmt *s = NULL;
	unsigned char h[100];
	struct stat sb;
	int wal = 0, ret = 0;

	*out = NULL;
	if (!(p = calloc(1, sizeof(*p))))
		return ck_err_set(err, CK_ENOMEM, "backup of %s: out of memory", src_path);
	p->fd = -1;
	if (sqlite3_open_v2(src_path, &p->rd, SQLITE_OPEN_READONLY | SQLITE_OPEN_NOMUTEX,
			    store_vfs_name()) != SQLITE_OK) {
		ret = conn_fail(p->rd, err, "open for backup", src_path);
		goto fail;
	}
	sqlite3_busy_timeout(p->rd, 10000);
	sqlite3_db_config(p->rd, SQLITE_DBCONFIG_NO_CKPT_ON_CLOSE, 1, NULL);
	if (sqlite3_prepare_v2(p->rd, "PRAGMA journal_mode", -1, &s, NULL) != SQLITE_OK ||
	    sqlite3_step(s) != SQLITE_ROW) {
		ret = conn_fail(p->rd, err, "read the journal mode of", src_path);
		goto fail;
	}
	wal = !strcmp((const char *)sqlite3_column_text(s, 0), "wal");
	sqlite3_finalize(s);
	s = NULL;
	if (wal ? (ret = pin_wal(src_path, p->rd, err)) != 0 : begin_read(p->rd) != 0) {
		if (!ret)
			ret = conn_fail(p->rd, err, "begin backup snapshot of", src_path);
		goto fail;
	}
	/* kept_open: never closed (its comment); read from the start (read_full reads on) */
	if ((p->fd = kept_open(src_path)) < 0 || fstat(p->fd, &sb) != 0 ||
	    lseek(p->fd, 0, SEEK_SET) != 0) {
		p->fd = -1;
		ret = ck_err_set(err, CK_EIO, "backup: open %s: %s", src_path, strerror(errno));
		goto fail;
	}
	*size = (int64_t)sb.st_size;
	/* The database's size in pages is in its header when valid (change counter at 24
	 * equal to the version-valid-for number at 92); the file may be longer. */
	if (pread(p->fd, h, sizeof(h), 0) == (ssize_t)sizeof(h) &&
	    !memcmp(h, "SQLite format 3", 16) && !memcmp(h + 24, h + 92, 4)) {
		int64_t psize = h[16] << 8 | h[17], npage;
		if (psize == 1)
			psize = 65536;
		npage = (int64_t)h[28] << 24 | h[29] << 16 | h[30] << 8 | h[31];
		if (npage > 0 && npage * psize <= *size)
			*size = npage * psize;
	}
	*fd = p->fd;
	*out = p;
	return 0;
fail:
	sqlite3_finalize(s);
	store_backup_unpin(p);
	return ret;
}

void store_backup_unpin(struct store_pin *p)
{
	if (!p)
		return;
	/* p->fd is kept_open's: not closed (its comment says why) */
	sqlite3_exec(p->rd, "COMMIT", NULL, NULL, NULL);
	sqlite3_close(p->rd);
	free(p);
}

void store_backup_header_fix(unsigned char *buf, size_t n)
{
	if (n >= 20 && !memcmp(buf, "SQLite format 3", 16) && buf[18] == 2 && buf[19] == 2)
		buf[18] = buf[19] = 1;
}

#define CHECK_INTEGRITY 1 /* the full integrity_check */
#define CHECK_COUNT 2     /* count the candles (a full pass of its own) */

/* A read-only check reads the file through a memory map: no read(2) and copy per page
 * (a full pass is 2 x 300,000 page reads for 1.2 GiB). Measured on a 1.2 GiB backup:
 * integrity_check 4.1 -> 3.0 CPU-s, the candle count 1.2 -> 0.3 CPU-s. SQLite caps the
 * map at its SQLITE_MAX_MMAP_SIZE (2 GB on Debian) and reads the rest. Only for files
 * backup and restore just wrote, and for the pinned snapshot the backup copies (whose
 * bytes the copy reads anyway): an I/O error under a map is a signal, not an error. */
static void map_file(sqlite3 *db)
{
	sqlite3_exec(db, "PRAGMA mmap_size=1099511627776", NULL, NULL, NULL);
}

/* The checks of what on db, an open connection (see check_file). */
static void check_conn(sqlite3 *db, int what, int *ok, int64_t *candles, char *detail, size_t size)
{
	sqlite3_stmt *s = NULL;
	int rc;

	if (!(what & CHECK_INTEGRITY))
		goto schema;
	if (sqlite3_prepare_v2(db, "PRAGMA integrity_check(1)", -1, &s, NULL) != SQLITE_OK) {
		snprintf(detail, size, "integrity_check: %s", sqlite3_errmsg(db));
		goto out;
	}
	rc = sqlite3_step(s);
	if (rc != SQLITE_ROW) {
		snprintf(detail, size, "integrity_check: %s", sqlite3_errmsg(db));
		goto out;
	}
	{
		const char *t = (const char *)sqlite3_column_text(s, 0);
		if (!t || strcmp(t, "ok")) {
			snprintf(detail, size, "integrity_check: %s", t ? t : "no answer");
			goto out;
		}
	}
	sqlite3_finalize(s);
	s = NULL;
schema:
	if (sqlite3_prepare_v2(db, "SELECT count(*) FROM runs", -1, &s, NULL) != SQLITE_OK ||
	    sqlite3_step(s) != SQLITE_ROW) {
		snprintf(detail, size, "schema: runs table unreadable: %s", sqlite3_errmsg(db));
		goto out;
	}
	sqlite3_finalize(s);
	s = NULL;
	if (!(what & CHECK_COUNT)) { /* the table is readable; its count is another pass */
		*candles = -1;
		if (sqlite3_prepare_v2(db, "SELECT 1 FROM candles LIMIT 1", -1, &s, NULL) !=
			    SQLITE_OK ||
		    ((rc = sqlite3_step(s)) != SQLITE_ROW && rc != SQLITE_DONE)) {
			snprintf(detail, size, "schema: candles table unreadable: %s",
				 sqlite3_errmsg(db));
			goto out;
		}
	} else if (count_candles(db, candles)) {
		snprintf(detail, size, "schema: candles table unreadable: %s", sqlite3_errmsg(db));
		goto out;
	}
	*ok = 1;
	snprintf(detail, size, "ok");
out:
	for (char *p = detail; *p; p++) /* one line: integrity_check answers span lines */
		if (*p == '\n' || *p == '\r')
			*p = ' ';
	sqlite3_finalize(s);
}

static int check_file(const char *path, int oflags, int what, int *ok, int64_t *candles,
		      char *detail, size_t size)
{
	sqlite3 *db = NULL;

	*ok = 0;
	*candles = 0;
	snprintf(detail, size, "not checked");
	if (sqlite3_open_v2(path, &db, oflags | SQLITE_OPEN_NOMUTEX, NULL) != SQLITE_OK) {
		snprintf(detail, size, "cannot open: %s",
			 db ? sqlite3_errmsg(db) : "out of memory");
		sqlite3_close(db);
		return 0;
	}
	sqlite3_busy_timeout(db, 10000);
	if (oflags == SQLITE_OPEN_READONLY)
		map_file(db);
	check_conn(db, what, ok, candles, detail, size);
	sqlite3_close(db);
	return 0;
}

void store_backup_pin_check(struct store_pin *p, int *ok, int64_t *candles, char *detail,
			    size_t size)
{
	*ok = 0;
	*candles = 0;
	snprintf(detail, size, "not checked");
	/* Mapped as a backup file is: the pin holds the main file still (no checkpoint
	 * writes or truncates it while the read transaction lasts). */
	map_file(p->rd);
	check_conn(p->rd, CHECK_INTEGRITY | CHECK_COUNT, ok, candles, detail, size);
}

int store_backup_verify_file(const char *path, int *ok, int64_t *candles, char *detail, size_t size,
			     struct ck_err *err)
{
	(void)err;
	/* Read-only: a verification never writes; the file must exist. */
	return check_file(path, SQLITE_OPEN_READONLY, CHECK_INTEGRITY | CHECK_COUNT, ok, candles,
			  detail, size);
}

int store_backup_check_file(const char *path, int *ok, int64_t *candles, char *detail, size_t size,
			    struct ck_err *err)
{
	(void)err;
	return check_file(path, SQLITE_OPEN_READONLY, CHECK_INTEGRITY, ok, candles, detail, size);
}

int store_backup_count_file(const char *path, int64_t *candles, struct ck_err *err)
{
	sqlite3 *db = NULL;
	int ret = 0;

	if (sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY | SQLITE_OPEN_NOMUTEX, NULL) !=
		    SQLITE_OK ||
	    (map_file(db), count_candles(db, candles)))
		ret = conn_fail(db, err, "count candles of", path);
	sqlite3_close(db);
	return ret;
}

int store_backup_open_check(const char *path, int *ok, int64_t *candles, char *detail, size_t size,
			    struct ck_err *err)
{
	(void)err;
	return check_file(path, SQLITE_OPEN_READONLY, 0, ok, candles, detail, size);
}

int store_backup_check_db(const char *path, int *ok, int64_t *candles, char *detail, size_t size,
			  struct ck_err *err)
{
	(void)err;
	/* Read-write without create: a live database's WAL is recovered as any open would. */
	return check_file(path, SQLITE_OPEN_READWRITE, CHECK_INTEGRITY | CHECK_COUNT, ok, candles,
			  detail, size);
}
