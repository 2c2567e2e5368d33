/* backup.c — the backup tiers (hot, warm, offsite), their verification, retention,
 * discovery from files and sidecars, and restore. See backup.h for the file layout; the
 * bytes (SHA-256, hashed copies, zstd) are codec.c's.
 *
 * Invariants: a file named like a backup without a sidecar was never verified; a
 * sidecar is written (atomically) only after its backup verified; nothing here deletes
 * a tier's newest verified backup; a restore installs a file only after the bytes it
 * copied matched the recorded checksum and the copy passed integrity_check. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <libgen.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "afile.h"
#include "alert.h"
#include "backup.h"
#include "codec.h"
#include "fault.h"
#include "log.h"
#include "redact.h"
#include "retry.h"
#include "s3.h"
#include "store_backup.h"
#include "store_pg_backup.h"
#include "utc.h"
#include "banned.h"

#define DAY_MS 86400000LL

static const char *const tier_names[] = {"hot", "warm", "offsite"};

const char *backup_outcome_name(enum backup_outcome o)
{
	switch (o) {
	case BACKUP_OK:
		return "ok";
	case BACKUP_FAILED:
		return "failed";
	case BACKUP_NOT_CONFIGURED:
		return "not configured";
	default:
		return "skipped";
	}
}

/* ---- names ---- */

/* The stem of db_path's file name: "candles" for ".../candles.db"; for a PostgreSQL
 * URL the database's name ("ck" for "postgresql://host/ck?sslmode=require"). */
static void db_stem(const char *db_path, char *buf, size_t size)
{
	const char *b = strrchr(db_path, '/');
	size_t l;
	b = b ? b + 1 : db_path;
	l = strlen(b);
	if (store_url(db_path))
		l = strcspn(b, "?");
	else if (l > 3 && !strcmp(b + l - 3, ".db"))
		l -= 3;
	snprintf(buf, size, "%.*s", (int)l, l ? b : "postgres");
}

/* The extension of a backup of db_path: a SQLite file, or a pg_dump archive. */
static const char *backup_ext(const char *db_path)
{
	return store_url(db_path) ? ".pgdump" : ".db";
}

int backup_name(const char *db_path, int64_t created, char *buf, size_t size)
{
	char stem[256];
	time_t t = (time_t)(created / 1000);
	struct tm tm;
	int n;

	db_stem(db_path, stem, sizeof(stem));
	gmtime_r(&t, &tm);
	n = snprintf(buf, size, "%s-%04d%02d%02dT%02d%02d%02d.%03dZ%s", stem, tm.tm_year + 1900,
		     tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
		     (int)(created % 1000), backup_ext(db_path));
	return n < 0 || (size_t)n >= size ? -1 : 0;
}

int backup_parse_name(const char *db_path, const char *name, int64_t *created)
{
	char stem[256];
	size_t sl;
	const char *p, *rest, *ext = backup_ext(db_path);
	size_t el = strlen(ext);
	int y, mo, d, h, mi, s, ms, n = 0;

	db_stem(db_path, stem, sizeof(stem));
	sl = strlen(stem);
	if (strncmp(name, stem, sl) || name[sl] != '-')
		return -1;
	p = name + sl + 1;
	if (strlen(p) < 23)
		return -1;
	for (n = 0; n < 15; n++)
		if (n != 8 && (p[n] < '0' || p[n] > '9'))
			return -1;
	if (p[8] != 'T' || p[15] != '.' || p[19] != 'Z')
		return -1;
	if (sscanf(p, "%4d%2d%2dT%2d%2d%2d.%3d", &y, &mo, &d, &h, &mi, &s, &ms) != 7)
		return -1;
	rest = p + 20;
	if (strncmp(rest, ext, el) ||
	    (strcmp(rest + el, "") && strcmp(rest + el, ".failed") && strcmp(rest + el, ".zst")))
		return -1;
	*created = utc_from_fields(y, mo, d, h, mi, s) + ms;
	return 0;
}

/* ---- files ---- */

int backup_sha256_file(const char *path, char hex[65], int64_t *size, struct ck_err *err)
{
	return codec_sha256_file(path, hex, size, err);
}

static int fsync_path(const char *path, int dir, struct ck_err *err)
{
	int fd = open(path, (dir ? O_RDONLY | O_DIRECTORY : O_RDWR) | O_CLOEXEC);
	if (fd < 0)
		return ck_err_set(err, CK_EIO, "fsync %s: %s", path, strerror(errno));
	if (fsync(fd) != 0) {
		int e = errno;
		close(fd);
		return ck_err_set(err, e == ENOSPC ? CK_EFULL : CK_EIO, "fsync %s: %s", path,
				  strerror(e));
	}
	close(fd);
	return 0;
}

/* Drops the (fsync'd, so clean) pages of a written backup from the page cache: a backup
 * is read again only by a restore, and its pages would evict the database's. */
static void cache_drop(int fd)
{
	(void)posix_fadvise(fd, 0, 0, POSIX_FADV_DONTNEED);
}

static void cache_drop_path(const char *path)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd >= 0) {
		cache_drop(fd);
		close(fd);
	}
}

/* Sets path's permission bits to mode: explicit, whatever the umask was at creation. */
static int chmod_path(const char *path, unsigned mode, struct ck_err *err)
{
	if (chmod(path, (mode_t)mode) != 0)
		return ck_err_set(err, CK_EIO, "chmod %s: %s", path, strerror(errno));
	return 0;
}

static int fsync_dir_of(const char *path, struct ck_err *err)
{
	char d[4096];
	snprintf(d, sizeof(d), "%s", path);
	return fsync_path(dirname(d), 1, err);
}

/* mkdir -p dir (0750). */
static int mkdirs(const char *dir, struct ck_err *err)
{
	char p[4096];
	size_t i, l;

	if ((l = (size_t)snprintf(p, sizeof(p), "%s", dir)) >= sizeof(p))
		return ck_err_set(err, CK_EUSAGE, "directory name too long: %s", dir);
	for (i = 1; i <= l; i++) {
		if (p[i] != '/' && p[i] != 0)
			continue;
		p[i] = 0;
		if (mkdir(p, 0750) != 0 && errno != EEXIST)
			return ck_err_set(err, CK_EIO,
					  "create directory %s: %s (check the path and"
					  " permissions in [backup])",
					  p, strerror(errno));
		p[i] = i == l ? 0 : '/';
	}
	return 0;
}

/* A new temp file ".<name>.XXXXXX" beside dest_final (its name into tmp) with the
 * permission bits mode, held (afile_hold) while it is open: the fd, or -1 with err set
 * and tmp "". The caller renames or unlinks it. */
static int temp_beside(const char *dest_final, unsigned mode, char *tmp, size_t tmp_size,
		       struct ck_err *err)
{
	char d[4096], b[1024];
	int fd;

	snprintf(d, sizeof(d), "%s", dest_final);
	snprintf(b, sizeof(b), "%s", dest_final);
	snprintf(tmp, tmp_size, "%s/.%s.XXXXXX", dirname(d), basename(b));
	if ((fd = mkstemp(tmp)) < 0) {
		ck_err_set(err, CK_EIO, "copy to %s: %s", tmp, strerror(errno));
		tmp[0] = 0;
		return -1;
	}
	afile_hold(fd);
	if (fchmod(fd, (mode_t)mode) != 0) { /* explicit, whatever the umask */
		ck_err_set(err, CK_EIO, "chmod %s: %s", tmp, strerror(errno));
		close(fd);
		unlink(tmp);
		tmp[0] = 0;
		return -1;
	}
	return fd;
}

/* Copies src into a new temp file beside dest_final (returned in tmp), fsync'd, and the
 * SHA-256 of the bytes read into hex. The caller renames or unlinks tmp. */
static int copy_to_temp(const char *src, const char *dest_final, unsigned mode, char *tmp,
			size_t tmp_size, char hex[65], int64_t *size, struct ck_err *err)
{
	int in = -1, out = -1, ret = 0;

	tmp[0] = 0;
	if ((in = open(src, O_RDONLY | O_CLOEXEC)) < 0)
		return ck_err_set(err, CK_EIO, "copy %s: %s", src, strerror(errno));
	if ((out = temp_beside(dest_final, mode, tmp, tmp_size, err)) < 0) {
		ret = err->code;
		goto out;
	}
	if ((ret = codec_copy(in, src, out, tmp, hex, size, err)))
		goto out;
	if (fsync(out) != 0) {
		ret = ck_err_set(err, errno == ENOSPC ? CK_EFULL : CK_EIO, "copy to %s: fsync: %s",
				 tmp, strerror(errno));
		goto out;
	}
out:
	if (in >= 0)
		close(in);
	if (out >= 0 && close(out) != 0 && !ret)
		ret = ck_err_set(err, CK_EIO, "copy to %s: close: %s", tmp, strerror(errno));
	if (ret && tmp[0]) {
		unlink(tmp);
		tmp[0] = 0;
	}
	return ret;
}

static int write_sidecar(const char *path, const char *hex, unsigned mode, struct ck_err *err)
{
	struct afile a;
	char sc[4200], b[1024];

	memset(&a, 0, sizeof(a));
	snprintf(sc, sizeof(sc), "%s.sha256", path);
	snprintf(b, sizeof(b), "%s", path);
	if (afile_open(&a, sc, (int)mode, err))
		return err->code;
	fprintf(a.f, "%s  %s\n", hex, basename(b));
	if (afile_commit(&a, err)) {
		afile_abort(&a);
		return err->code;
	}
	return 0;
}

/* The hex checksum in path's sidecar: 0, or -1 if there is none, -2 if it cannot be
 * read, -3 if it is not "<64 hex digits>  <name>". */
static int read_sidecar(const char *path, char hex[65])
{
	char sc[4200], line[256];
	FILE *f;
	int i;

	snprintf(sc, sizeof(sc), "%s.sha256", path);
	if (!(f = fopen(sc, "r")))
		return errno == ENOENT ? -1 : -2;
	if (!fgets(line, sizeof(line), f)) {
		fclose(f);
		return -3;
	}
	fclose(f);
	for (i = 0; i < 64; i++) {
		char ch = line[i];
		if (!((ch >= '0' && ch <= '9') || (ch >= 'a' && ch <= 'f')))
			return -3;
		hex[i] = ch;
	}
	if (line[64] != ' ' && line[64] != '\n' && line[64] != 0)
		return -3;
	hex[64] = 0;
	return 0;
}

/* Why read_sidecar's answer rc leaves a backup unverified, for lists and errors. */
static const char *sidecar_problem(int rc)
{
	switch (rc) {
	case -1:
		return "no checksum sidecar: the backup was interrupted before it was verified";
	case -2:
		return "checksum sidecar unreadable (check its permissions)";
	default:
		return "checksum sidecar malformed (not a SHA-256 line): remove it and take a new "
		       "backup";
	}
}

/* ---- discovery ---- */

struct blist {
	struct store_backup *v;
	size_t n, cap;
};

static struct store_backup *blist_add(struct blist *l)
{
	if (l->n == l->cap) {
		size_t ncap = l->cap ? l->cap * 2 : 16;
		struct store_backup *nv;
		if (ncap > 1000000 || !(nv = realloc(l->v, ncap * sizeof(*nv))))
			return NULL;
		l->v = nv;
		l->cap = ncap;
	}
	memset(&l->v[l->n], 0, sizeof(l->v[0]));
	return &l->v[l->n++];
}

static int tier_rank(const char *tier)
{
	int i;
	for (i = 0; i < 3; i++)
		if (!strcmp(tier, tier_names[i]))
			return i;
	return 3;
}

static int newest_first(const void *a, const void *b)
{
	const struct store_backup *x = a, *y = b;
	if (x->created != y->created)
		return x->created > y->created ? -1 : 1;
	return tier_rank(x->tier) - tier_rank(y->tier);
}

/* Backups of db_path in dir (a local tier), appended to l. A missing dir is empty. */
static int scan_dir(const char *db_path, const char *dir, const char *tier, struct blist *l,
		    struct ck_err *err)
{
	DIR *d;
	struct dirent *e;

	if (!(d = opendir(dir))) {
		if (errno == ENOENT)
			return 0;
		return ck_err_set(err, CK_EIO, "read backup directory %s: %s", dir,
				  strerror(errno));
	}
	while ((e = readdir(d))) {
		struct store_backup *b;
		struct stat sb;
		int64_t created;
		size_t nl = strlen(e->d_name);
		int failed, src;

		if (e->d_name[0] == '.' || backup_parse_name(db_path, e->d_name, &created))
			continue;
		if (nl > 4 && !strcmp(e->d_name + nl - 4, ".zst"))
			continue;
		failed = nl > 7 && !strcmp(e->d_name + nl - 7, ".failed");
		if (!(b = blist_add(l))) {
			closedir(d);
			return ck_err_set(err, CK_ENOMEM, "read backup directory %s: out of memory",
					  dir);
		}
		snprintf(b->tier, sizeof(b->tier), "%s", tier);
		snprintf(b->location, sizeof(b->location), "%s/%s", dir, e->d_name);
		b->created = created;
		if (stat(b->location, &sb) == 0)
			b->size = (int64_t)sb.st_size;
		if (failed) {
			snprintf(b->status, sizeof(b->status), "failed");
			snprintf(b->detail, sizeof(b->detail), "failed verification when taken");
		} else if ((src = read_sidecar(b->location, b->sha256)) == 0) {
			snprintf(b->status, sizeof(b->status), "verified");
		} else {
			snprintf(b->status, sizeof(b->status), "unverified");
			snprintf(b->detail, sizeof(b->detail), "%s", sidecar_problem(src));
		}
	}
	closedir(d);
	return 0;
}

static void offsite_location(const struct cfg *c, const char *key, char *buf, size_t size)
{
	snprintf(buf, size, "s3://%s/%s", c->s3_bucket, key);
}

/* Offsite objects of db_path, appended to l (sizes from the listing; checksums are in
 * the objects' metadata, read when restoring). */
static int scan_offsite(const struct cfg *c, const char *db_path, struct blist *l,
			struct ck_err *err)
{
	struct s3_object *objs = NULL;
	size_t n = 0, i, pl = strlen(c->s3_prefix);

	if (s3_list(c, c->s3_prefix, &objs, &n, err))
		return err->code;
	for (i = 0; i < n; i++) {
		struct store_backup *b;
		int64_t created;
		const char *name = objs[i].key + (strncmp(objs[i].key, c->s3_prefix, pl) ? 0 : pl);
		size_t nl = strlen(name);
		if (strchr(name, '/') || nl < 5 || strcmp(name + nl - 4, ".zst") ||
		    backup_parse_name(db_path, name, &created))
			continue;
		if (!(b = blist_add(l))) {
			free(objs);
			return ck_err_set(err, CK_ENOMEM, "list offsite backups: out of memory");
		}
		snprintf(b->tier, sizeof(b->tier), "offsite");
		offsite_location(c, objs[i].key, b->location, sizeof(b->location));
		b->created = created;
		b->size = objs[i].size;
		snprintf(b->status, sizeof(b->status), "verified");
	}
	free(objs);
	return 0;
}

/* The S3 key of an offsite location "s3://bucket/key". */
static const char *offsite_key(const struct cfg *c, const char *location)
{
	size_t bl = strlen(c->s3_bucket);
	if (strncmp(location, "s3://", 5) || strncmp(location + 5, c->s3_bucket, bl) ||
	    location[5 + bl] != '/')
		return NULL;
	return location + 5 + bl + 1;
}

/* The newest attempt of each tier, when it failed without leaving a file (a full disk,
 * an upload that did not get through), is listed too, with its error: the files alone
 * would show only the older backups that worked. rows: the catalogue, newest first. */
static void list_failed_attempts(struct blist *l, const struct store_backup *rows, size_t nrows)
{
	static const char *const tiers[] = {"hot", "warm", "offsite"};
	size_t t, i, j;

	for (t = 0; t < sizeof(tiers) / sizeof(tiers[0]); t++) {
		const struct store_backup *r = NULL;
		struct store_backup *b;
		int newer = 1;
		for (j = 0; j < nrows && !r; j++)
			if (!strcmp(rows[j].tier, tiers[t]) && strcmp(rows[j].status, "deleted"))
				r = &rows[j];
		if (!r || strcmp(r->status, "failed"))
			continue;
		for (i = 0; i < l->n && newer; i++)
			if (!strcmp(l->v[i].tier, r->tier) &&
			    (l->v[i].created >= r->created ||
			     !strcmp(l->v[i].location, r->location)))
				newer = 0;
		if (!newer || !(b = blist_add(l)))
			continue;
		*b = *r;
		b->size = 0;
	}
}

int backup_list_all(const struct cfg *c, struct store *st, struct store_backup **out, size_t *n,
		    struct ck_err *err)
{
	struct blist l = {NULL, 0, 0};
	struct store_backup *rows = NULL;
	size_t nrows = 0, i, j;
	struct ck_err e2 = {0, ""};

	*out = NULL;
	*n = 0;
	if (scan_dir(c->db, c->backup_hot_dir, "hot", &l, err) ||
	    scan_dir(c->db, c->backup_warm_dir, "warm", &l, err))
		goto fail;
	if (s3_configured(c) && scan_offsite(c, c->db, &l, &e2))
		log_warn("backup", "offsite tier left out of the list: %s", e2.msg);
	if (st && store_backup_list(st, NULL, &rows, &nrows, &e2) == 0) {
		for (i = 0; i < l.n; i++)
			for (j = 0; j < nrows; j++) {
				if (strcmp(rows[j].tier, l.v[i].tier) ||
				    strcmp(rows[j].location, l.v[i].location))
					continue;
				l.v[i].id = rows[j].id;
				l.v[i].candles = rows[j].candles;
				l.v[i].verified_at = rows[j].verified_at;
				if (!l.v[i].sha256[0])
					snprintf(l.v[i].sha256, sizeof(l.v[i].sha256), "%s",
						 rows[j].sha256);
				if (!strcmp(rows[j].status, "failed") &&
				    strcmp(l.v[i].status, "failed")) {
					snprintf(l.v[i].status, sizeof(l.v[i].status), "failed");
					snprintf(l.v[i].detail, sizeof(l.v[i].detail), "%s",
						 rows[j].detail);
				} else if (!l.v[i].detail[0]) {
					snprintf(l.v[i].detail, sizeof(l.v[i].detail), "%s",
						 rows[j].detail);
				}
				break;
			}
		list_failed_attempts(&l, rows, nrows);
	}
	free(rows);
	if (l.n)
		qsort(l.v, l.n, sizeof(l.v[0]), newest_first);
	*out = l.v;
	*n = l.n;
	return 0;
fail:
	free(l.v);
	return err->code;
}

/* ---- retention ---- */

void backup_retention_plan(const struct store_backup *v, size_t n, int64_t now_ms, int64_t days,
			   int *del)
{
	size_t i, keep = n;
	for (i = 0; i < n; i++) {
		del[i] = 0;
		if (keep == n && !strcmp(v[i].status, "verified"))
			keep = i;
	}
	for (i = 0; i < n; i++)
		if (i != keep && v[i].created < now_ms - days * DAY_MS)
			del[i] = 1;
}

static void mark_deleted(struct store *st, const struct store_backup *b)
{
	struct store_backup *rows = NULL;
	size_t n = 0, i;
	struct ck_err e = {0, ""};

	if (!st || store_backup_list(st, b->tier, &rows, &n, &e))
		return;
	for (i = 0; i < n; i++)
		if (!strcmp(rows[i].location, b->location))
			store_backup_set_status(st, rows[i].id, "deleted", "removed by retention",
						&e);
	free(rows);
}

/* Applies retention to one tier. */
static int retention_tier(struct store *st, const struct cfg *c, const char *tier, int64_t now_ms,
			  struct backup_tier_result *tr, struct ck_err *err)
{
	struct blist l = {NULL, 0, 0};
	int64_t days = !strcmp(tier, "hot")    ? c->backup_hot_days
		       : !strcmp(tier, "warm") ? c->backup_warm_days
					       : c->backup_offsite_days;
	int *del = NULL, ret = 0;
	size_t i;

	if (!strcmp(tier, "offsite"))
		ret = scan_offsite(c, c->db, &l, err);
	else
		ret = scan_dir(c->db, !strcmp(tier, "hot") ? c->backup_hot_dir : c->backup_warm_dir,
			       tier, &l, err);
	if (ret)
		goto out;
	if (!l.n)
		goto out;
	qsort(l.v, l.n, sizeof(l.v[0]), newest_first);
	if (!(del = calloc(l.n, sizeof(*del)))) {
		ret = ck_err_set(err, CK_ENOMEM, "retention of %s: out of memory", tier);
		goto out;
	}
	backup_retention_plan(l.v, l.n, now_ms, days, del);
	for (i = 0; i < l.n; i++) {
		struct ck_err e = {0, ""};
		if (!del[i]) {
			tr->retention_kept++;
			continue;
		}
		if (!strcmp(tier, "offsite")) {
			const char *key = offsite_key(c, l.v[i].location);
			if (!key || s3_delete(c, key, &e)) {
				if (!ret)
					ret = ck_err_set(err, e.code ? e.code : CK_EIO,
							 "retention of offsite: %s", e.msg);
				tr->retention_kept++;
				continue;
			}
		} else {
			char sc[4200];
			snprintf(sc, sizeof(sc), "%s.sha256", l.v[i].location);
			if (unlink(sc) != 0 && errno != ENOENT) {
				if (!ret)
					ret = ck_err_set(err, CK_EIO, "retention: remove %s: %s",
							 sc, strerror(errno));
				tr->retention_kept++;
				continue;
			}
			if (unlink(l.v[i].location) != 0 && errno != ENOENT) {
				if (!ret)
					ret = ck_err_set(err, CK_EIO, "retention: remove %s: %s",
							 l.v[i].location, strerror(errno));
				tr->retention_kept++;
				continue;
			}
		}
		tr->retention_deleted++;
		log_kv(LOG_INFO, "backup",
		       ((const char *[]){"tier", tier, "location", l.v[i].location, "status",
					 l.v[i].status, NULL}),
		       "retention removed a backup older than %" PRId64 " days", days);
		mark_deleted(st, &l.v[i]);
	}
	if (!strcmp(tier, "hot") || !strcmp(tier, "warm"))
		fsync_path(!strcmp(tier, "hot") ? c->backup_hot_dir : c->backup_warm_dir, 1, err);
out:
	if (ret)
		snprintf(tr->retention_error, sizeof(tr->retention_error), "%s", err->msg);
	free(del);
	free(l.v);
	return ret;
}

/* ---- the tiers ---- */

static void record(struct store *st, const char *tier, const char *location, int64_t created,
		   int64_t size, const char *sha, int64_t candles, const char *status,
		   const char *detail, int64_t verified_at)
{
	struct store_backup b;
	struct ck_err e = {0, ""};

	if (!st)
		return;
	memset(&b, 0, sizeof(b));
	snprintf(b.tier, sizeof(b.tier), "%s", tier);
	snprintf(b.location, sizeof(b.location), "%s", location);
	b.created = created;
	b.size = size;
	snprintf(b.sha256, sizeof(b.sha256), "%s", sha ? sha : "");
	b.candles = candles;
	snprintf(b.status, sizeof(b.status), "%s", status);
	snprintf(b.detail, sizeof(b.detail), "%s", detail ? detail : "");
	b.verified_at = verified_at;
	if (store_backup_put(st, &b, NULL, &e))
		log_warn("backup", "record %s backup %s: %s", tier, location, e.msg);
}

static void alert_tier(struct store *st, const struct cfg *c, const char *tier, const char *why)
{
	char key[64], summary[300];
	struct alert a;
	struct ck_err e = {0, ""};

	snprintf(key, sizeof(key), "backup_failed:%s", tier);
	snprintf(summary, sizeof(summary), "candlekeep %s backup failed: %s", tier, why);
	memset(&a, 0, sizeof(a));
	a.key = key;
	a.severity = ALERT_CRITICAL;
	a.summary = summary;
	a.detail = NULL;
	if (alert_raise(st, c, &a, &e))
		log_warn("backup", "alert %s: %s", key, e.msg);
}

static void resolve_tier(struct store *st, const struct cfg *c, const char *tier)
{
	char key[64], summary[128];
	struct ck_err e = {0, ""};
	snprintf(key, sizeof(key), "backup_failed:%s", tier);
	snprintf(summary, sizeof(summary), "candlekeep %s backup succeeded again", tier);
	if (alert_resolve(st, c, key, summary, &e))
		log_warn("backup", "resolve alert %s: %s", key, e.msg);
}

static int tier_fail(struct backup_tier_result *tr, struct ck_err *err, int code, const char *tier,
		     const char *msg)
{
	tr->outcome = BACKUP_FAILED;
	snprintf(tr->error, sizeof(tr->error), "%s", msg);
	return ck_err_set(err, code ? code : CK_EIO, "%s backup: %s", tier, msg);
}

/* The work beside the hot file's verification: the hot temp file's fsync, the warm
 * copy's (its bytes were written in the snapshot's pass) or, after an online-backup
 * snapshot, the warm copy itself, whose one read of the hot file feeds both the SHA-256
 * (the hot file's checksum) and the warm temp file; then, unless the pinned snapshot's
 * check counted them, the candle count of the hot file. */
struct warm_copy {
	const char *src; /* the hot temp file */
	char dest[4096]; /* the warm file's final name */
	unsigned mode;
	int teed;   /* the warm temp file was written in the snapshot's pass */
	int fd;     /* that file, held until it is renamed or removed; else -1 */
	int hot_rc; /* the hot temp file's fsync: 0 or an error in hot_err */
	struct ck_err hot_err;
	char tmp[4300];  /* the written warm temp file, "" if none */
	char sha256[65]; /* of the bytes read and written */
	int64_t size;
	int rc; /* the warm copy: 0 or an error in err */
	struct ck_err err;
	int pg;          /* a pg_dump archive: counted by its verification, not here */
	int copied;      /* a byte copy (hot_copy): its pinned snapshot's check counts the
			    candles, and its hot temp file was read back */
	int64_t differs; /* ... and differs from the bytes written from this offset on;
			    -1: it does not */
	int64_t candles; /* of the hot temp file */
	int count_rc;    /* the count: 0 or an error in count_err */
	struct ck_err count_err;
};

static void *warm_copy_main(void *arg)
{
	struct warm_copy *w = arg;
	if ((w->hot_rc = fsync_path(w->src, 0, &w->hot_err))) {
		w->rc = ck_err_set(&w->err, w->hot_rc, "%s", w->hot_err.msg);
		return NULL;
	}
	if (w->rc == 0 && w->teed && fsync(w->fd) != 0) /* else the warm directory failed */
		w->rc = ck_err_set(&w->err, errno == ENOSPC ? CK_EFULL : CK_EIO,
				   "copy to %s: fsync: %s", w->tmp, strerror(errno));
	else if (w->rc == 0 && !w->teed)
		w->rc = copy_to_temp(w->src, w->dest, w->mode, w->tmp, sizeof(w->tmp), w->sha256,
				     &w->size, &w->err);
	/* The warm copy is not read again by this backup: out of the page cache. */
	if (w->rc == 0 && w->teed)
		cache_drop(w->fd);
	else if (w->rc == 0)
		cache_drop_path(w->tmp);
	if (!w->pg && !w->copied)
		w->count_rc = store_backup_count_file(w->src, &w->candles, &w->count_err);
	return NULL;
}

/* Removes the warm temp file wc holds (a failed backup), and lets go of it. */
static void warm_drop(struct warm_copy *wc)
{
	if (wc->tmp[0])
		unlink(wc->tmp);
	wc->tmp[0] = 0;
	if (wc->fd >= 0)
		close(wc->fd);
	wc->fd = -1;
}

/* The check of the pinned snapshot (store_backup_pin_check), on a thread of its own
 * beside the byte copy of the same bytes and the read back of the copy: integrity_check
 * is CPU, the copy (written with O_DIRECT) is mostly the device's work and SHA-256. The
 * pin is held until the check ended (pin_check_end). */
struct pin_check {
	struct store_pin *pin; /* held from the copy until pin_check_end */
	pthread_t th;
	int started; /* th runs the check */
	int ok;      /* its answer, with candles and detail */
	int64_t candles;
	char detail[256];
};

static void *pin_check_main(void *arg)
{
	struct pin_check *pc = arg;
	int64_t t0 = mono_ms();
	store_backup_pin_check(pc->pin, &pc->ok, &pc->candles, pc->detail, sizeof(pc->detail));
	log_kv(LOG_DEBUG, "backup", NULL, "snapshot checked in %" PRId64 " ms: %s", mono_ms() - t0,
	       pc->detail);
	return NULL;
}

/* Waits for the check (or, when its thread could not start and run is set, runs it
 * now), then lets go of the pin. */
static void pin_check_end(struct pin_check *pc, int run)
{
	if (pc->started)
		pthread_join(pc->th, NULL);
	else if (run && pc->pin)
		pin_check_main(pc);
	pc->started = 0;
	store_backup_unpin(pc->pin);
	pc->pin = NULL;
}

/* The byte copy of the pinned main file src into hold (the hot temp file tmp) and, when
 * the warm directory could be made, into a warm temp file of wc, in one pass that
 * hashes the bytes into hex, while pc checks the pinned snapshot (still running on
 * return: pin_check_end) and the hot temp file is read back from the device and
 * compared with the bytes written, a buffer or two behind the copy (wc->differs). A
 * failed write of the warm copy fails that tier alone (wc->rc; its temp file removed at
 * once, as its disk may be full). 0; 1 when src could not be pinned (err says why;
 * nothing was written); or an error code. */
static int hot_copy(const char *src, int hold, const char *tmp, struct warm_copy *wc, char hex[65],
		    int64_t *size, struct pin_check *pc, struct ck_err *err)
{
	struct ck_err e2;
	int in, rc;

	if (store_backup_pin(src, &pc->pin, &in, size, err))
		return 1;
	pc->started = pthread_create(&pc->th, NULL, pin_check_main, pc) == 0;
	if (wc->rc == 0 &&
	    (wc->fd = temp_beside(wc->dest, wc->mode, wc->tmp, sizeof(wc->tmp), &wc->err)) < 0)
		wc->rc = wc->err.code;
	rc = codec_copy_tee(in, src, *size, store_backup_header_fix, hold, tmp, wc->fd, wc->tmp,
			    hex, &wc->differs, err, &e2);
	if (rc) {
		pin_check_end(pc, 0);
		warm_drop(wc);
		return rc;
	}
	if (e2.code) { /* the warm copy failed (its disk full?): the hot one goes on */
		wc->rc = e2.code;
		wc->err = e2;
		warm_drop(wc);
	}
	wc->copied = 1;
	if (wc->fd >= 0) {
		wc->teed = 1;
		snprintf(wc->sha256, sizeof(wc->sha256), "%s", hex);
		wc->size = *size;
	}
	return 0;
}

/* The snapshot of src into tmp (created and held by this process until it is renamed,
 * so a sweep can tell it from the leftover of a killed backup): a byte copy of the
 * pinned main file (with the warm temp file written in the same pass, the SHA-256 into
 * hex and the byte count into *size), or, when it cannot be pinned, SQLite's online
 * backup (hex "", the candle count of the snapshot into *candles; else -1); for a
 * PostgreSQL database, pg_dump -Fc (the row counts of its snapshot into *pgc). Returns
 * the holding fd, or -1 with tmp removed and err set. */
static int hot_snapshot(const struct cfg *c, const char *src, const char *tmp, struct warm_copy *wc,
			char hex[65], int64_t *size, int64_t *candles, struct store_pg_counts *pgc,
			struct pin_check *pc, struct ck_err *err)
{
	struct ck_err pe = {0, ""};
	int hold, rc;

	hex[0] = 0;
	*candles = -1;
	unlink(tmp);
	if ((hold = open(tmp, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600)) < 0 ||
	    afile_hold(hold) != 0) {
		ck_err_set(err, CK_EIO, "create %s: %s", tmp, strerror(errno));
		if (hold >= 0) {
			close(hold);
			unlink(tmp);
		}
		return -1;
	}
	if (store_url(src)) { /* pg_dump -Fc writes it, with the row counts of its snapshot */
		rc = store_pg_dump(src, c->backup_pg_bin_dir, tmp, pgc, err);
		*candles = pgc->candles;
	} else if ((rc = hot_copy(src, hold, tmp, wc, hex, size, pc, &pe)) == 1) {
		/* SQLite writes into the empty file: one backup step, no journal, no syncs. */
		log_kv(LOG_DEBUG, "backup", NULL, "online backup instead of a byte copy: %s",
		       pe.msg);
		hex[0] = 0;
		rc = store_backup_snapshot(src, tmp, -1, candles, err);
	} else if (rc) {
		*err = pe;
	}
	if (rc || (rc = chmod_path(tmp, cfg_file_mode(c), err))) {
		pin_check_end(pc, 0);
		warm_drop(wc);
		unlink(tmp);
		close(hold);
		return -1;
	}
	return hold;
}

/* Verifies the hot temp file while warm_copy_main fsyncs it and makes or fsyncs the
 * warm copy. A byte copy is verified by the check of its pinned snapshot (pc: one
 * integrity_check, the schema and the candle count of the very bytes copied, run during
 * the copy), the read back (the file on the device holds exactly those bytes) and the
 * schema of the copy opened as a file (its rewritten header included). Otherwise, after SQLite's
 * online backup, one integrity_check and the schema of the file, counted by warm_copy_main
 * meanwhile; for PostgreSQL pg_restore --list and a restore into a scratch database, whose row
 * counts go to *got. 0 with *ok, or an error code (the check could not run). */
static int hot_verify(const struct cfg *c, const char *src, const struct store_pg_counts *pgc,
		      const char *tmp, struct pin_check *pc, struct warm_copy *wc, int *ok,
		      int64_t *got, char *detail, size_t dsize, struct ck_err *err)
{
	pthread_t th;
	int64_t unused;
	int started = 0, rc;

	wc->src = tmp;
	if (pthread_create(&th, NULL, warm_copy_main, wc) == 0)
		started = 1;
	if (store_url(src)) {
		rc = store_pg_dump_verify(src, c->backup_pg_bin_dir, tmp, pgc, ok, got, detail,
					  dsize, err);
	} else if (wc->copied) {
		char fdetail[200];
		pin_check_end(pc, 1);
		*got = pc->candles;
		rc = store_backup_open_check(tmp, ok, &unused, fdetail, sizeof(fdetail), err);
		if (rc == 0 && !pc->ok) {
			*ok = 0;
			snprintf(detail, dsize, "%s (the snapshot copied)", pc->detail);
		} else if (rc == 0) {
			snprintf(detail, dsize, "%s%s", *ok ? "" : "the copy as a file: ", fdetail);
		}
	} else {
		rc = store_backup_check_file(tmp, ok, &unused, detail, dsize, err);
	}
	if (started)
		pthread_join(th, NULL);
	else
		warm_copy_main(wc); /* no thread: in turn */
	if (rc == 0 && *ok && wc->copied && wc->differs >= 0) {
		*ok = 0;
		snprintf(detail, dsize,
			 "the copy read back from the disk differs from the bytes copied at"
			 " offset %" PRId64,
			 wc->differs);
	}
	return rc;
}

static int do_hot(struct store *st, const struct cfg *c, const char *src, const char *name,
		  struct backup_result *res, struct warm_copy *wc, struct ck_err *err)
{
	struct backup_tier_result *tr = &res->hot;
	char path[4096], tmp[4200], failed[4200], detail[256], msg[400], hex[65];
	struct ck_err e = {0, ""};
	struct store_pg_counts pgc;
	struct pin_check pc;
	int64_t t0 = mono_ms(), src_candles = -1, got = 0, size = 0;
	int ok = 0, rc, hold;

	snprintf(path, sizeof(path), "%s/%s", c->backup_hot_dir, name);
	snprintf(tmp, sizeof(tmp), "%s/.%s.tmp", c->backup_hot_dir, name);
	snprintf(tr->location, sizeof(tr->location), "%s", path);
	if (mkdirs(c->backup_hot_dir, &e))
		return tier_fail(tr, err, e.code, "hot", e.msg);
	memset(&pgc, 0, sizeof(pgc));
	memset(&pc, 0, sizeof(pc));
	wc->mode = cfg_file_mode(c);
	wc->fd = -1;
	wc->pg = store_url(src);
	snprintf(wc->dest, sizeof(wc->dest), "%s/%s", c->backup_warm_dir, name);
	wc->rc = mkdirs(c->backup_warm_dir, &wc->err);
	if ((hold = hot_snapshot(c, src, tmp, wc, hex, &size, &src_candles, &pgc, &pc, &e)) < 0)
		return tier_fail(tr, err, e.code, "hot", e.msg);
	log_kv(LOG_DEBUG, "backup", NULL, "hot snapshot written in %" PRId64 " ms (%s)",
	       mono_ms() - t0,
	       wc->pg   ? "pg_dump"
	       : hex[0] ? "byte copy"
			: "online backup");
	/* The temp file is verified before it gets its name; its fsync, the warm copy and
	 * the count run meanwhile. The warm temp file is installed only if this one
	 * verifies. */
	rc = hot_verify(c, src, &pgc, tmp, &pc, wc, &ok, &got, detail, sizeof(detail), &e);
	log_kv(LOG_DEBUG, "backup", NULL, "hot verified and warm copied at %" PRId64 " ms",
	       mono_ms() - t0);
	if (!rc && wc->hot_rc)
		e = wc->hot_err, rc = wc->hot_rc;
	if (!rc && hex[0]) {
		snprintf(tr->sha256, sizeof(tr->sha256), "%s", hex);
		tr->size = size;
	} else if (!rc && wc->rc == 0) {
		snprintf(tr->sha256, sizeof(tr->sha256), "%s", wc->sha256);
		tr->size = wc->size;
	} else if (!rc) {
		rc = backup_sha256_file(tmp, tr->sha256, &tr->size, &e);
	}
	if (rc) {
		warm_drop(wc);
		unlink(tmp);
		close(hold);
		return tier_fail(tr, err, rc, "hot", e.msg);
	}
	if (!wc->pg && !wc->copied)
		got = wc->candles;
	if (ok && wc->count_rc) {
		ok = 0;
		snprintf(detail, sizeof(detail), "schema: %s", wc->count_err.msg);
	} else if (ok && src_candles >= 0 && got != src_candles) {
		ok = 0;
		snprintf(detail, sizeof(detail),
			 "candle count %" PRId64 " differs from the source's %" PRId64
			 " at backup time",
			 got, src_candles);
	}
	res->candles = got;
	/* A failed copy is kept aside under <name>.failed, never under the backup's name. */
	snprintf(failed, sizeof(failed), "%s.failed", path);
	if (rename(tmp, ok ? path : failed) != 0) {
		snprintf(msg, sizeof(msg), "rename %s: %s", tmp, strerror(errno));
		warm_drop(wc);
		unlink(tmp);
		close(hold);
		return tier_fail(tr, err, CK_EIO, "hot", msg);
	}
	close(hold);
	if ((rc = fsync_dir_of(path, &e)))
		return tier_fail(tr, err, rc, "hot", e.msg);
	if (!ok) {
		snprintf(tr->location, sizeof(tr->location), "%s", failed);
		record(st, "hot", tr->location, res->created, tr->size, tr->sha256, got, "failed",
		       detail, 0);
		tr->recorded = 1;
		snprintf(msg, sizeof(msg), "%s failed verification: %s (kept aside as %s)", path,
			 detail, tr->location);
		return tier_fail(tr, err, CK_ECORRUPT, "hot", msg);
	}
	if ((rc = write_sidecar(path, tr->sha256, cfg_file_mode(c), &e)))
		return tier_fail(tr, err, rc, "hot", e.msg);
	res->db_size = tr->size;
	record(st, "hot", path, res->created, tr->size, tr->sha256, got, "verified",
	       wc->pg ? detail
	       : src_candles >= 0
		       ? "integrity_check ok, candle count matches the source"
		       : "integrity_check ok of the pinned snapshot during its byte copy;"
			 " the copy read back from the disk matches the bytes copied",
	       now_ms());
	tr->outcome = BACKUP_OK;
	tr->duration_ms = mono_ms() - t0;
	return 0;
}

/* Installs the warm copy do_hot made of the verified hot file: the checksum was computed
 * over the very bytes written to the warm temp file (and fsync'd), so the sidecar is the
 * hot one's; the bytes are not read back (a re-read after fsync comes from the page
 * cache and proves nothing more). */
static int do_warm(struct store *st, const struct cfg *c, struct warm_copy *wc,
		   struct backup_result *res, struct ck_err *err)
{
	struct backup_tier_result *tr = &res->warm;
	char path[4096], tmp[4300], detail[300];
	struct ck_err e = {0, ""};
	int64_t t0 = mono_ms();
	int rc;

	snprintf(path, sizeof(path), "%s", wc->dest);
	snprintf(tmp, sizeof(tmp), "%s", wc->tmp);
	snprintf(tr->location, sizeof(tr->location), "%s", path);
	if ((rc = wc->rc)) {
		e = wc->err;
		warm_drop(wc);
		goto fail;
	}
	snprintf(tr->sha256, sizeof(tr->sha256), "%s", wc->sha256);
	tr->size = wc->size;
	if (strcmp(tr->sha256, res->hot.sha256)) {
		rc = CK_ECORRUPT;
		snprintf(e.msg, sizeof(e.msg),
			 "copy %s does not match its source (checksum %s, want"
			 " %s)",
			 tmp, tr->sha256, res->hot.sha256);
		warm_drop(wc);
		goto fail;
	}
	if (rename(tmp, path) != 0) {
		rc = CK_EIO;
		snprintf(e.msg, sizeof(e.msg), "rename %s: %s", tmp, strerror(errno));
		warm_drop(wc);
		goto fail;
	}
	wc->tmp[0] = 0; /* renamed: now the warm file */
	warm_drop(wc);
	if ((rc = fsync_dir_of(path, &e)) ||
	    (rc = write_sidecar(path, tr->sha256, cfg_file_mode(c), &e)))
		goto fail;
	record(st, "warm", path, res->created, tr->size, tr->sha256, res->candles, "verified",
	       "copy of the verified hot backup, checksum computed over the bytes written",
	       now_ms());
	tr->outcome = BACKUP_OK;
	tr->duration_ms = mono_ms() - t0;
	return 0;
fail:
	snprintf(detail, sizeof(detail), "%s", e.msg);
	tier_fail(tr, err, rc, "warm", detail);
	tr->duration_ms = mono_ms() - t0;
	record(st, "warm", path, res->created, 0, "", res->candles, "failed", detail, 0);
	alert_tier(st, c, "warm", detail);
	return err->code;
}

/* The offsite upload of a compressed stream, without a local copy of it: the bytes go
 * into a part buffer; the first full part starts a multipart upload, and each full part
 * is uploaded (with its SHA-256 signed, so the server checks it) by a thread of its own
 * while the stream goes on into the other buffer: compression and upload overlap, at
 * most one part in flight (two buffers). A stream that ends before one part is full is
 * one PUT from the buffer. Every request is retried by the shared policy on its own. */
#define OFFSITE_PART ((size_t)8 << 20) /* at least S3_PART_MIN */

struct offsite_up;

/* The part in flight: its bytes, number and, once its thread ended, its answer. */
struct up_part {
	struct offsite_up *u;
	unsigned char *buf;
	size_t len;
	int number;
	char etag[128];
	int rc;
	struct ck_err err;
	pthread_t th;
	int running; /* th was started and not yet joined */
};

struct offsite_up {
	const struct cfg *c;
	const char *key;
	const struct s3_meta *meta;
	size_t nmeta;
	unsigned char *buf; /* the buffer being filled */
	size_t len;
	unsigned char *spare; /* the other buffer, free when no part is in flight */
	struct up_part flight;
	char upload_id[1024];  /* "" until the multipart upload is created */
	char **etags;          /* etags[i]: part i + 1's */
	int nparts;            /* parts uploaded and answered */
	struct s3_object head; /* UP_HEAD's answer */
	int retries;           /* failed requests retried, all requests together */
	struct retry_policy rp;
	uint64_t rng;
};

/* What one attempt of a request does; 0 or an error code with err set. */
enum up_step { UP_CREATE, UP_PART, UP_COMPLETE, UP_PUT, UP_HEAD };

static int up_try(struct offsite_up *u, enum up_step step, struct up_part *pt, const char *sha,
		  struct ck_err *err)
{
	switch (step) {
	case UP_CREATE:
		return s3_mpu_create(u->c, u->key, u->meta, u->nmeta, u->upload_id,
				     sizeof(u->upload_id), err);
	case UP_PART:
		return s3_mpu_part(u->c, u->key, u->upload_id, pt->number, pt->buf, pt->len, sha,
				   pt->etag, sizeof(pt->etag), err);
	case UP_COMPLETE:
		return s3_mpu_complete(u->c, u->key, u->upload_id, u->etags, u->nparts, err);
	case UP_PUT:
		return s3_put_buf(u->c, u->key, u->buf, u->len, sha, u->meta, u->nmeta, err);
	default:
		return s3_head(u->c, u->key, &u->head, err);
	}
}

/* One request with the shared retry policy: every failure counts as a network failure
 * (its tries and back-off are [http] retry_net_max and retry_net_base_ms); a usage error
 * (bad key or configuration) is never retried. The part thread's requests and the
 * others never run at once (the others wait for the part in flight first), so u's
 * retry count and random state have one user at a time. */
static int up_request(struct offsite_up *u, enum up_step step, struct up_part *pt, const char *sha,
		      struct ck_err *err)
{
	static const char *const what[] = {"upload start", "part upload", "upload completion",
					   "upload", "check of the upload"};
	struct retry_state rs = {0, 0, 0};
	int64_t wait;
	int rc;

	for (;;) {
		char at[16], part[16];
		if (!(rc = up_try(u, step, pt, sha, err)))
			return 0;
		wait = rc == CK_EUSAGE ? -1 : retry_next(&u->rp, &rs, BN_NET, -1, &u->rng);
		snprintf(at, sizeof(at), "%d", u->retries + 1);
		snprintf(part, sizeof(part), "%d", pt ? pt->number : 0);
		log_kv(LOG_WARN, "backup",
		       ((const char *[]){"tier", "offsite", "attempt", at, "part",
					 step == UP_PART ? part : NULL, NULL}),
		       "%s failed: %s%s", what[step], err->msg, wait >= 0 ? "; retrying" : "");
		if (wait < 0)
			return rc;
		u->retries++;
		ck_sleep_ms(wait, NULL);
	}
}

static void *up_part_main(void *arg)
{
	struct up_part *pt = arg;
	char sha[65];

	if (codec_sha256_buf(pt->buf, pt->len, sha))
		pt->rc = ck_err_set(&pt->err, CK_EIO, "upload of %s: SHA-256 failed", pt->u->key);
	else
		pt->rc = up_request(pt->u, UP_PART, pt, sha, &pt->err);
	return NULL;
}

/* Waits for the part in flight, if any, and takes its answer: its ETag recorded, its
 * buffer free again. 0 or its error. */
static int up_join(struct offsite_up *u, struct ck_err *err)
{
	struct up_part *pt = &u->flight;
	char **ne;

	if (!pt->buf)
		return 0;
	if (pt->running)
		pthread_join(pt->th, NULL);
	pt->running = 0;
	u->spare = pt->buf;
	pt->buf = NULL;
	if (pt->rc) {
		*err = pt->err;
		return pt->rc;
	}
	if (!(ne = realloc(u->etags, ((size_t)u->nparts + 1) * sizeof(*ne))) ||
	    !(ne[u->nparts] = strdup(pt->etag))) {
		if (ne)
			u->etags = ne;
		return ck_err_set(err, CK_ENOMEM, "upload of %s: out of memory", u->key);
	}
	u->etags = ne;
	u->nparts++;
	return 0;
}

/* Sends the full buffer as the next part (starting the multipart upload first), on a
 * thread of its own when one can be had, after the part before it was answered; the
 * stream goes on into the other buffer. */
static int up_flush_part(struct offsite_up *u, struct ck_err *err)
{
	struct up_part *pt = &u->flight;
	unsigned char *b;
	int rc;

	if ((rc = up_join(u, err)))
		return rc;
	if (!u->upload_id[0] && (rc = up_request(u, UP_CREATE, NULL, NULL, err)))
		return rc;
	if (u->nparts >= S3_PARTS_MAX)
		return ck_err_set(err, CK_EUSAGE, "upload of %s: more than %d parts", u->key,
				  S3_PARTS_MAX);
	if (!u->spare && !(u->spare = malloc(OFFSITE_PART)))
		return ck_err_set(err, CK_ENOMEM, "upload of %s: out of memory", u->key);
	memset(pt, 0, sizeof(*pt));
	pt->u = u;
	pt->buf = u->buf;
	pt->len = u->len;
	pt->number = u->nparts + 1;
	b = u->spare;
	u->spare = NULL;
	u->buf = b;
	u->len = 0;
	if (pthread_create(&pt->th, NULL, up_part_main, pt) == 0)
		pt->running = 1;
	else
		up_part_main(pt); /* no thread: in turn */
	return 0;
}

static int up_sink(void *arg, const unsigned char *p, size_t n, struct ck_err *err)
{
	struct offsite_up *u = arg;
	int rc;

	while (n) {
		size_t k = OFFSITE_PART - u->len < n ? OFFSITE_PART - u->len : n;
		memcpy(u->buf + u->len, p, k);
		u->len += k;
		p += k;
		n -= k;
		if (u->len == OFFSITE_PART && (rc = up_flush_part(u, err)))
			return rc;
	}
	return 0;
}

/* Compresses src and uploads it as u->key: the SHA-256 of the compressed bytes into hex,
 * their count into *size; meta[1] (zst-sha256) is filled for a single PUT, whose
 * metadata is sent after the stream ended; a multipart upload's metadata is sent before
 * the first part, so it lacks it (the restore checks the decompressed bytes against
 * sha256). On failure a started multipart upload is aborted (after the part in flight
 * was answered): no object, no parts left. */
static int offsite_stream(struct offsite_up *u, const char *src, struct s3_meta *meta, size_t nmeta,
			  char hex[65], int64_t *size, struct ck_err *err)
{
	struct ck_err ae = {0, ""};
	char sha[65];
	int in, rc, jrc;

	if ((in = open(src, O_RDONLY | O_CLOEXEC)) < 0)
		return ck_err_set(err, CK_EIO, "compress %s: %s", src, strerror(errno));
	u->meta = meta;
	u->nmeta = nmeta - 1; /* zst-sha256 (the last) is not known yet */
	if (!(u->buf = malloc(OFFSITE_PART))) {
		close(in);
		return ck_err_set(err, CK_ENOMEM, "compress %s: out of memory", src);
	}
	rc = codec_compress_stream(in, src, up_sink, u, u->key, hex, size, err);
	close(in);
	/* The part in flight is answered before anything else is sent (or aborted). */
	jrc = up_join(u, rc ? &ae : err);
	if (!rc)
		rc = jrc;
	if (!rc && !u->upload_id[0]) { /* below one part: one PUT, with every checksum */
		snprintf(meta[nmeta - 1].value, sizeof(meta[nmeta - 1].value), "%s", hex);
		u->nmeta = nmeta;
		if (codec_sha256_buf(u->buf, u->len, sha))
			rc = ck_err_set(err, CK_EIO, "upload of %s: SHA-256 failed", u->key);
		else
			rc = up_request(u, UP_PUT, NULL, sha, err);
	} else if (!rc) {
		if (u->len && !(rc = up_flush_part(u, err)))
			rc = up_join(u, err);
		if (!rc)
			rc = up_request(u, UP_COMPLETE, NULL, NULL, err);
	}
	if (rc && u->upload_id[0] && s3_mpu_abort(u->c, u->key, u->upload_id, &ae))
		log_warn("backup", "offsite: abort of the multipart upload of %s: %s", u->key,
			 ae.msg);
	return rc;
}

static int do_offsite(struct store *st, const struct cfg *c, const char *name,
		      struct backup_result *res, struct ck_err *err)
{
	struct backup_tier_result *tr = &res->offsite;
	char key[2048], detail[300];
	struct s3_meta meta[4];
	struct ck_err e = {0, ""};
	struct offsite_up u;
	int64_t t0 = mono_ms();
	int rc = 0, i;

	if (!s3_configured(c)) {
		tr->outcome = BACKUP_NOT_CONFIGURED;
		snprintf(tr->error, sizeof(tr->error),
			 "offsite not configured (set [backup] s3_bucket)");
		return 0;
	}
	snprintf(key, sizeof(key), "%s%s.zst", c->s3_prefix, name);
	offsite_location(c, key, tr->location, sizeof(tr->location));
	memset(meta, 0, sizeof(meta));
	snprintf(meta[0].name, sizeof(meta[0].name), "sha256");
	snprintf(meta[0].value, sizeof(meta[0].value), "%s", res->hot.sha256);
	snprintf(meta[1].name, sizeof(meta[1].name), "candles");
	snprintf(meta[1].value, sizeof(meta[1].value), "%" PRId64, res->candles);
	snprintf(meta[2].name, sizeof(meta[2].name), "created");
	snprintf(meta[2].value, sizeof(meta[2].value), "%" PRId64, res->created);
	snprintf(meta[3].name, sizeof(meta[3].name), "zst-sha256"); /* value: offsite_stream */
	memset(&u, 0, sizeof(u));
	u.c = c;
	u.key = key;
	u.rng = (uint64_t)now_ms() | 1;
	retry_policy_from_cfg(&u.rp, c);
	rc = offsite_stream(&u, res->hot.location, meta, 4, tr->sha256, &tr->size, &e);
	/* Verify what the server kept: its size, and the checksum metadata it has. */
	if (!rc && !(rc = up_request(&u, UP_HEAD, NULL, NULL, &e))) {
		const struct s3_object *head = &u.head;
		const char *sha = s3_meta_get(head, "zst-sha256"),
			   *raw = s3_meta_get(head, "sha256");
		if (head->size != tr->size || !raw || strcmp(raw, res->hot.sha256) ||
		    (sha ? strcmp(sha, tr->sha256) != 0 : !u.upload_id[0])) {
			rc = CK_ECORRUPT;
			snprintf(e.msg, sizeof(e.msg),
				 "uploaded object %s has size %" PRId64
				 " and checksum %s, want %" PRId64 " and %s",
				 key, head->size, sha ? sha : "(none)", tr->size, tr->sha256);
		}
	}
	tr->attempts = 1 + u.retries;
	free(u.buf);
	free(u.spare);
	for (i = 0; i < u.nparts; i++)
		free(u.etags[i]);
	free(u.etags);
	if (rc)
		goto fail;
	snprintf(detail, sizeof(detail), "zstd; uploaded %s and checked (%s)",
		 u.upload_id[0] ? "in parts" : "in one request",
		 u.upload_id[0] ? "each part's SHA-256 signed, size" : "size, checksum metadata");
	record(st, "offsite", tr->location, res->created, tr->size, tr->sha256, res->candles,
	       "verified", detail, now_ms());
	tr->outcome = BACKUP_OK;
	tr->duration_ms = mono_ms() - t0;
	return 0;
fail:
	snprintf(detail, sizeof(detail), "after %d attempt%s, local backups kept: %s", tr->attempts,
		 tr->attempts == 1 ? "" : "s", e.msg);
	tier_fail(tr, err, rc, "offsite", detail);
	tr->duration_ms = mono_ms() - t0;
	record(st, "offsite", tr->location, res->created, 0, "", res->candles, "failed", detail, 0);
	alert_tier(st, c, "offsite", detail);
	return err->code;
}

/* ---- temp files and the backup lock ---- */

/* Temp files of backups: hidden names a backup writes (".<name>.tmp", its "-journal",
 * ".<name>.zst.tmp", ".<name>.XXXXXX" of a copy) and a sidecar's "<x>.sha256.tmp.XXXXXX". */
static int is_backup_temp(const char *name, void *arg)
{
	(void)arg;
	return (name[0] == '.' && (strstr(name, ".db.") || strstr(name, ".pgdump."))) ||
	       !strncmp(name, ".restore", 8) || strstr(name, ".sha256.tmp.") != NULL;
}

/* Temp files of restores beside the database: ".restore.XXXXXX",
 * ".restore-download.XXXXXX" and ".<db name>.XXXXXX" (a copy). */
static int is_restore_temp(const char *name, void *arg)
{
	const char *db = arg;
	size_t dl = strlen(db);
	return !strncmp(name, ".restore.", 9) || !strncmp(name, ".restore-download.", 18) ||
	       (name[0] == '.' && !strncmp(name + 1, db, dl) && name[1 + dl] == '.' &&
		strlen(name + 2 + dl) == 6);
}

static int backup_temp_sweep_dirs(const struct cfg *c, int remove, int64_t *n, int64_t *bytes,
				  struct ck_err *err)
{
	if (afile_sweep(c->backup_hot_dir, is_backup_temp, NULL, remove, n, bytes, err) ||
	    (strcmp(c->backup_warm_dir, c->backup_hot_dir) &&
	     afile_sweep(c->backup_warm_dir, is_backup_temp, NULL, remove, n, bytes, err)))
		return err->code;
	return 0;
}

static int restore_temp_sweep(const char *dest_path, int remove, int64_t *n, int64_t *bytes,
			      struct ck_err *err)
{
	char d[4096], b[4096];
	snprintf(d, sizeof(d), "%s", dest_path);
	snprintf(b, sizeof(b), "%s", dest_path);
	return afile_sweep(dirname(d), is_restore_temp, basename(b), remove, n, bytes, err);
}

int backup_temp_sweep(const struct cfg *c, int remove, int64_t *n, int64_t *bytes,
		      struct ck_err *err)
{
	if (backup_temp_sweep_dirs(c, remove, n, bytes, err) ||
	    restore_temp_sweep(c->db, remove, n, bytes, err))
		return err->code;
	return 0;
}

#define BACKUP_LOCK_WAIT_MS 60000

/* flock on the hot backup directory itself for one backup run: a second backup waits
 * (bounded) instead of racing the first. Returns the fd to close, or -1 with err. */
static int backup_lock(const struct cfg *c, struct ck_err *err)
{
	int64_t until = mono_ms() + BACKUP_LOCK_WAIT_MS;
	int fd = open(c->backup_hot_dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);

	if (fd < 0)
		return ck_err_set(err, CK_EIO, "open %s: %s", c->backup_hot_dir, strerror(errno)),
		       -1;
	while (flock(fd, LOCK_EX | LOCK_NB) != 0) {
		if (errno != EWOULDBLOCK || mono_ms() > until) {
			int e = errno;
			close(fd);
			ck_err_set(err, CK_ELOCKED,
				   "another backup of %s has been running for over"
				   " %d s (it holds %s: %s); try again when it ends",
				   c->db, BACKUP_LOCK_WAIT_MS / 1000, c->backup_hot_dir,
				   strerror(e));
			return -1;
		}
		ck_sleep_ms(100, NULL);
	}
	return fd;
}

/* A PostgreSQL database has no directory beside it: its backup directories must be
 * configured (what cfg derives "beside" a URL is not a place). */
static int pg_dirs_check(const struct cfg *c, struct ck_err *err)
{
	char shown[1024];

	if (!store_url(c->db) ||
	    (!strstr(c->backup_hot_dir, "://") && !strstr(c->backup_warm_dir, "://")))
		return 0;
	redact_copy(c->db, shown, sizeof(shown));
	return ck_err_set(err, CK_EUSAGE,
			  "backup of %s: set [backup] hot_dir and warm_dir (directories on two"
			  " disks of this host; a database server has no directory beside it)",
			  shown);
}

/* 0 when the backup goes on to phase (go absent or saying so); otherwise err says why. */
static int backup_go(backup_go_fn *go, void *arg, const char *phase, struct ck_err *err)
{
	struct ck_err e = {0, ""};
	int rc;

	if (!go || (rc = go(arg, &e)) == 0)
		return 0;
	log_warn("backup", "stopped before %s: %s", phase, e.msg);
	return ck_err_set(err, rc, "stopped before %s: %s", phase, e.msg);
}

int backup_run(struct store *st, const struct cfg *c, int64_t now, struct backup_result *res,
	       struct ck_err *err)
{
	return backup_run_checked(st, c, now, NULL, NULL, res, err);
}

int backup_run_checked(struct store *st, const struct cfg *c, int64_t now, backup_go_fn *go,
		       void *go_arg, struct backup_result *res, struct ck_err *err)
{
	char name[512];
	struct ck_err e = {0, ""};
	const char *src = st ? store_path(st) : c->db;
	struct warm_copy wc;
	int ret = 0, lockfd;

	memset(res, 0, sizeof(*res));
	res->created = now;
	if (pg_dirs_check(c, err))
		return err->code;
	if (backup_name(c->db, now, name, sizeof(name)))
		return ck_err_set(err, CK_EUSAGE, "backup: database name too long: %s", c->db);
	if (mkdirs(c->backup_hot_dir, &e) || (lockfd = backup_lock(c, &e)) < 0) {
		*err = e;
		return e.code;
	}
	/* One backup at a time holds the hot dir: temp files in the backup dirs are now
	 * the leftovers of interrupted runs. */
	if (backup_temp_sweep_dirs(c, 1, &res->temps_removed, &res->temp_bytes_removed, &e))
		log_warn("backup", "%s", e.msg);
	else if (res->temps_removed)
		log_kv(LOG_WARN, "backup", NULL,
		       "removed %" PRId64 " temp files (%" PRId64
		       " bytes) left by interrupted backups",
		       res->temps_removed, res->temp_bytes_removed);
	memset(&wc, 0, sizeof(wc));
	wc.fd = -1;
	if (do_hot(st, c, src, name, res, &wc, &e)) {
		/* Whatever failed (a copy that did not verify, a full disk, a rename), the
		 * catalogue shows the attempt (backup --list, candlekeep_backup_verified) and
		 * a person is told now, not when the last good backup grows old. */
		const char *why = res->hot.error[0] ? res->hot.error : e.msg;
		if (!res->hot.recorded)
			record(st, "hot", res->hot.location, now, 0, "", 0, "failed", why, 0);
		alert_tier(st, c, "hot", why);
		warm_drop(&wc);
		*err = e;
		close(lockfd);
		return e.code;
	}
	resolve_tier(st, c, "hot");
	if (backup_go(go, go_arg, "the warm copy", err)) {
		warm_drop(&wc);
		close(lockfd);
		return err->code;
	}
	if (do_warm(st, c, &wc, res, &e) == 0)
		resolve_tier(st, c, "warm");
	else if (!ret) {
		*err = e;
		ret = e.code;
	}
	if (backup_go(go, go_arg, "the offsite upload", err)) {
		close(lockfd);
		return err->code;
	}
	if (do_offsite(st, c, name, res, &e) == 0) {
		if (res->offsite.outcome == BACKUP_OK)
			resolve_tier(st, c, "offsite");
	} else if (!ret) {
		*err = e;
		ret = e.code;
	}
	/* The hot file was read by its verification, count and the offsite stream, all
	 * done: out of the page cache. */
	if (res->hot.outcome == BACKUP_OK)
		cache_drop_path(res->hot.location);
	/* Retention after the new backup exists, so it is the newest verified one. */
	if (backup_go(go, go_arg, "retention", err)) {
		close(lockfd);
		return err->code;
	}
	if (retention_tier(st, c, "hot", now, &res->hot, &e))
		log_warn("backup", "%s", e.msg);
	if (retention_tier(st, c, "warm", now, &res->warm, &e))
		log_warn("backup", "%s", e.msg);
	if (s3_configured(c) && retention_tier(st, c, "offsite", now, &res->offsite, &e))
		log_warn("backup", "%s", e.msg);
	close(lockfd);
	return ret;
}

/* ---- restore ---- */

/* zstd-decompresses src into dst (existing, truncated; fsync'd), the SHA-256 of the
 * output into hex, in the same pass. */
static int decompress_file(const char *src, const char *dst, char hex[65], struct ck_err *err)
{
	int in, out, ret;

	if ((in = open(src, O_RDONLY | O_CLOEXEC)) < 0)
		return ck_err_set(err, CK_EIO, "decompress %s: %s", src, strerror(errno));
	if ((out = open(dst, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600)) < 0) {
		ret = ck_err_set(err, CK_EIO, "decompress into %s: %s", dst, strerror(errno));
		goto out;
	}
	if ((ret = codec_decompress(in, src, out, dst, hex, err)))
		goto out;
	if (fsync(out) != 0)
		ret = ck_err_set(err, errno == ENOSPC ? CK_EFULL : CK_EIO, "decompress into %s: %s",
				 dst, strerror(errno));
out:
	close(in);
	if (out >= 0 && close(out) != 0 && !ret)
		ret = ck_err_set(err, CK_EIO, "decompress into %s: %s", dst, strerror(errno));
	return ret;
}

/* A restore of b that found the disk of dest full: CK_EFULL, with err's message (the
 * failed write) saying so. Every other candidate would fail the same way, and a rebuild
 * from the exchange would too: the restore stops here. */
static int restore_full(const struct store_backup *b, struct ck_err *err)
{
	char m[sizeof(err->msg)];

	snprintf(m, sizeof(m), "%s", err->msg);
	return ck_err_set(err, CK_EFULL,
			  "%s: the disk is full (the %s backup needs at least %.1f MiB there;"
			  " the backups are untouched): free space and run again",
			  m, b->tier, (double)b->size / 1048576.0);
}

/* Candidate b could not be brought in (err says why): 1 with why set, to try the next
 * one; or, when the disk is full (the copy, the download or its decompression), the
 * restore's end (restore_full). */
static int fetch_failed(const struct store_backup *b, char *why, size_t why_size,
			struct ck_err *err)
{
	if (err->code == CK_EFULL)
		return restore_full(b, err);
	snprintf(why, why_size, "%s", err->msg);
	return 1;
}

/* Brings candidate b into tmp (a file beside dest) with its bytes checked against the
 * recorded checksum. why gets the reason on a mismatch (returns 1), errors < 0 (a full
 * disk among them). */
static int fetch_candidate(const struct cfg *c, const struct store_backup *b, const char *dest,
			   char *tmp, size_t tmp_size, char *why, size_t why_size,
			   struct ck_err *err)
{
	char want[65], got[65], d[4096];
	int fd;

	if (strcmp(b->tier, "offsite")) {
		int64_t size = 0, src;
		if ((src = read_sidecar(b->location, want)) != 0) {
			snprintf(why, why_size, "%s", sidecar_problem((int)src));
			return 1;
		}
		if (copy_to_temp(b->location, dest, cfg_file_mode(c), tmp, tmp_size, got, &size,
				 err))
			return fetch_failed(b, why, why_size, err);
		if (strcmp(want, got)) {
			snprintf(why, why_size, "checksum mismatch (file %.12s…, sidecar %.12s…)",
				 got, want);
			unlink(tmp);
			tmp[0] = 0;
			return 1;
		}
		return 0;
	} else {
		char ztmp[4200];
		struct s3_object obj;
		const char *key = offsite_key(c, b->location), *zsha, *sha;
		int rc;

		snprintf(d, sizeof(d), "%s", dest);
		snprintf(ztmp, sizeof(ztmp), "%s/.restore-download.XXXXXX", dirname(d));
		if ((fd = mkstemp(ztmp)) < 0)
			return ck_err_set(err, CK_EIO, "restore: create %s: %s", ztmp,
					  strerror(errno));
		close(fd);
		if (!key || (rc = s3_get_file(c, key, ztmp, &obj, err))) {
			unlink(ztmp);
			if (!key)
				ck_err_set(err, CK_EUSAGE, "download failed: bad location");
			else
				ck_err_wrap(err, "download failed");
			return fetch_failed(b, why, why_size, err);
		}
		zsha = s3_meta_get(&obj, "zst-sha256");
		sha = s3_meta_get(&obj, "sha256");
		if (!sha) {
			snprintf(why, why_size, "object has no sha256 metadata");
			unlink(ztmp);
			return 1;
		}
		if (zsha) {
			if (backup_sha256_file(ztmp, got, NULL, err)) {
				snprintf(why, why_size, "%s", err->msg);
				unlink(ztmp);
				return 1;
			}
			if (strcmp(got, zsha)) {
				snprintf(why, why_size,
					 "downloaded object checksum mismatch (%.12s…, metadata"
					 " %.12s…)",
					 got, zsha);
				unlink(ztmp);
				return 1;
			}
		}
		snprintf(d, sizeof(d), "%s", dest);
		snprintf(tmp, tmp_size, "%s/.restore.XXXXXX", dirname(d));
		if ((fd = mkstemp(tmp)) < 0) {
			unlink(ztmp);
			return ck_err_set(err, CK_EIO, "restore: create %s: %s", tmp,
					  strerror(errno));
		}
		if (fchmod(fd, (mode_t)cfg_file_mode(c)) != 0) {
			int e = errno;
			close(fd);
			unlink(ztmp);
			unlink(tmp);
			tmp[0] = 0;
			return ck_err_set(err, CK_EIO, "restore: chmod %s: %s", tmp, strerror(e));
		}
		close(fd);
		rc = decompress_file(ztmp, tmp, got, err);
		unlink(ztmp);
		if (rc) {
			unlink(tmp);
			tmp[0] = 0;
			return fetch_failed(b, why, why_size, err);
		}
		if (strcmp(got, sha)) {
			snprintf(why, why_size,
				 "checksum mismatch after decompression (%.12s…, metadata"
				 " %.12s…)",
				 got, sha);
			unlink(tmp);
			tmp[0] = 0;
			return 1;
		}
		return 0;
	}
}

/* A restore passes over backup b (why): its temporary copy tmp ("" = none) goes, the
 * caller's skip hears of it, and the log says so. */
static void restore_skip(const struct store_backup *b, const char *tmp, const char *why,
			 backup_skip_fn *skip, void *arg)
{
	if (tmp[0])
		unlink(tmp);
	if (skip)
		skip(arg, b, why);
	log_kv(LOG_WARN, "backup",
	       ((const char *[]){"tier", b->tier, "location", b->location, NULL}),
	       "restore skips a backup: %s", why);
}

/* The candidates of a restore: the hot and warm directories, then the offsite tier
 * when configured (an unreachable one is reported to skip and logged, not fatal).
 * 0, or an error code with nothing in l. */
static int restore_candidates(const struct cfg *c, struct blist *l, backup_skip_fn *skip, void *arg,
			      struct ck_err *err)
{
	struct ck_err e = {0, ""};

	if (scan_dir(c->db, c->backup_hot_dir, "hot", l, err) ||
	    scan_dir(c->db, c->backup_warm_dir, "warm", l, err)) {
		free(l->v);
		l->v = NULL;
		return err->code;
	}
	if (s3_configured(c) && scan_offsite(c, c->db, l, &e)) {
		struct store_backup b;
		memset(&b, 0, sizeof(b));
		snprintf(b.tier, sizeof(b.tier), "offsite");
		snprintf(b.location, sizeof(b.location), "s3://%s/%s", c->s3_bucket, c->s3_prefix);
		if (skip)
			skip(arg, &b, e.msg);
		log_warn("backup", "restore: offsite tier unavailable: %s", e.msg);
	}
	return 0;
}

int backup_restore_ex(struct store *st, const struct cfg *c, const char *dest_path,
		      backup_skip_fn *skip, void *arg, int integrity, struct store_backup *used,
		      struct ck_err *err)
{
	struct blist l = {NULL, 0, 0};
	struct ck_err e = {0, ""};
	char wal[4200];
	size_t i;
	int ret = 0;

	(void)st;
	memset(used, 0, sizeof(*used));
	/* Leftovers of restores that were killed (not this one's: it has not begun). */
	if (restore_temp_sweep(dest_path, 1, NULL, NULL, &e))
		log_warn("backup", "%s", e.msg);
	snprintf(wal, sizeof(wal), "%s-wal", dest_path);
	if (access(wal, F_OK) == 0)
		return ck_err_set(err, CK_EUSAGE,
				  "restore into %s: %s exists and would be applied to"
				  " the restored file (move it away first)",
				  dest_path, wal);
	if (restore_candidates(c, &l, skip, arg, err))
		return err->code;
	if (l.n)
		qsort(l.v, l.n, sizeof(l.v[0]), newest_first);
	for (i = 0; i < l.n; i++) {
		struct store_backup *b = &l.v[i];
		char tmp[4300] = "", why[300] = "", detail[256];
		int64_t candles = 0;
		int ok = 0, rc;

		if (strcmp(b->status, "verified")) {
			snprintf(why, sizeof(why), "%s",
				 b->status[0] == 'f' ? "failed verification when it was taken"
						     : b->detail);
		} else if ((rc = fetch_candidate(c, b, dest_path, tmp, sizeof(tmp), why,
						 sizeof(why), &e)) < 0) {
			ret = ck_err_set(err, rc, "restore: %s", e.msg);
			break;
		} else if (rc == 0) {
			if ((integrity ? store_backup_verify_file(tmp, &ok, &candles, detail,
								  sizeof(detail), &e)
				       : store_backup_open_check(tmp, &ok, &candles, detail,
								 sizeof(detail), &e)) == 0 &&
			    !ok)
				snprintf(why, sizeof(why), "%s", detail);
			else if (!ok)
				snprintf(why, sizeof(why), "%s", e.msg);
		}
		if (!ok) {
			restore_skip(b, tmp, why, skip, arg);
			continue;
		}
		if (rename(tmp, dest_path) != 0) {
			ret = ck_err_set(err, CK_EIO, "restore: rename %s to %s: %s", tmp,
					 dest_path, strerror(errno));
			unlink(tmp);
			break;
		}
		if (fsync_dir_of(dest_path, err)) {
			ret = err->code;
			break;
		}
		*used = *b;
		used->candles = candles;
		used->verified_at = now_ms();
		snprintf(used->detail, sizeof(used->detail), "%s",
			 integrity ? "checksum and integrity_check ok"
				   : "checksum ok, schema readable");
		free(l.v);
		return 0;
	}
	free(l.v);
	if (ret)
		return ret;
	return ck_err_set(err, CK_ENOTFOUND,
			  "restore into %s: no backup verifies (looked in %s,"
			  " %s%s)",
			  dest_path, c->backup_hot_dir, c->backup_warm_dir,
			  s3_configured(c) ? " and offsite" : "");
}

int backup_restore_to(struct store *st, const struct cfg *c, const char *dest_path,
		      struct store_backup *used, struct ck_err *err)
{
	return backup_restore_ex(st, c, dest_path, NULL, NULL, 1, used, err);
}

int backup_restore_pg(const struct cfg *c, const char *target, int replace, backup_skip_fn *skip,
		      void *arg, struct store_backup *used, int64_t *candles, struct ck_err *err)
{
	struct blist l = {NULL, 0, 0};
	struct ck_err e = {0, ""};
	char dest[4200], shown[1024];
	size_t i;
	int ret = 0;

	memset(used, 0, sizeof(*used));
	*candles = 0;
	redact_copy(target, shown, sizeof(shown));
	if (pg_dirs_check(c, err) || mkdirs(c->backup_hot_dir, err))
		return err->code;
	/* Downloads and checked copies are made in the hot directory (hidden names its
	 * sweep knows), never beside a database that is not a file. */
	snprintf(dest, sizeof(dest), "%s/restore.pgdump", c->backup_hot_dir);
	if (restore_candidates(c, &l, skip, arg, err))
		return err->code;
	if (l.n)
		qsort(l.v, l.n, sizeof(l.v[0]), newest_first);
	for (i = 0; i < l.n; i++) {
		struct store_backup *b = &l.v[i];
		struct store_pg_counts n;
		char tmp[4300] = "", why[300] = "";
		int rc;

		if (strcmp(b->status, "verified")) {
			snprintf(why, sizeof(why), "%s",
				 b->status[0] == 'f' ? "failed verification when it was taken"
						     : b->detail);
		} else if ((rc = fetch_candidate(c, b, dest, tmp, sizeof(tmp), why, sizeof(why),
						 &e)) < 0) {
			ret = ck_err_set(err, rc, "restore: %s", e.msg);
			break;
		} else if (rc == 0 && !store_pg_is_dump(tmp)) {
			snprintf(why, sizeof(why), "not a pg_dump archive");
		} else if (rc == 0) {
			rc = store_pg_restore(target, c->backup_pg_bin_dir, tmp, replace, &n, &e);
			unlink(tmp);
			tmp[0] = 0;
			if (rc == CK_EUSAGE || rc == CK_EDB) { /* the target, not the backup */
				ret = ck_err_set(err, rc, "%s", e.msg);
				break;
			}
			if (rc == 0) {
				*used = *b;
				used->candles = *candles = n.candles;
				used->verified_at = now_ms();
				snprintf(used->detail, sizeof(used->detail),
					 "checksum ok, pg_restore into %s ok", shown);
				free(l.v);
				return 0;
			}
			snprintf(why, sizeof(why), "%s", e.msg);
		}
		restore_skip(b, tmp, why, skip, arg);
	}
	free(l.v);
	if (ret)
		return ret;
	return ck_err_set(err, CK_ENOTFOUND,
			  "restore into %s: no backup verifies (looked in %s, %s%s)", shown,
			  c->backup_hot_dir, c->backup_warm_dir,
			  s3_configured(c) ? " and offsite" : "");
}
