/* test_backup.c — backup names, SHA-256, retention planning (fake clock: the newest
 * verified backup is never deleted), and a backup + restore round trip on a temp db. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>
#include <sqlite3.h>

#include "backup.h"
#include "cfg.h"
#include "store.h"
#include "banned.h"
#include "test_tmp.h"

#define DAY 86400000LL

static void test_names(void **state)
{
	char name[256];
	int64_t t;
	(void)state;
	assert_int_equal(backup_name("/var/lib/ck/candles.db", 1773943200123LL, name, sizeof(name)),
			 0);
	assert_string_equal(name, "candles-20260319T180000.123Z.db");
	assert_int_equal(backup_parse_name("/x/candles.db", name, &t), 0);
	assert_int_equal(t, 1773943200123LL);
	assert_int_equal(
		backup_parse_name("/x/candles.db", "candles-20260319T180000.123Z.db.failed", &t),
		0);
	assert_int_equal(
		backup_parse_name("/x/candles.db", "candles-20260319T180000.123Z.db.zst", &t), 0);
	assert_int_equal(backup_parse_name("/x/other.db", name, &t), -1);
	assert_int_equal(backup_parse_name("/x/candles.db", "candles-2026031XT180000.123Z.db", &t),
			 -1);
	assert_int_equal(backup_parse_name("/x/candles.db", "candles-20260319T180000.123Z.dbx", &t),
			 -1);
	assert_int_equal(
		backup_parse_name("/x/candles.db", ".candles-20260319T180000.123Z.db.tmp", &t), -1);
}

static void test_sha256(void **state)
{
	char path[512], hex[65];
	struct ck_err err = {0, ""};
	int64_t size = -1;
	int fd;
	(void)state;
	test_tmp_template(path, sizeof(path), "ck-test-sha");
	fd = mkstemp(path);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, "abc", 3), 3);
	close(fd);
	assert_int_equal(backup_sha256_file(path, hex, &size, &err), 0);
	assert_string_equal(hex,
			    "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
	assert_int_equal(size, 3);
	unlink(path);
	assert_int_equal(backup_sha256_file(path, hex, NULL, &err), CK_EIO);
}

static void entry(struct store_backup *b, int64_t created, const char *status)
{
	memset(b, 0, sizeof(*b));
	b->created = created;
	snprintf(b->status, sizeof(b->status), "%s", status);
}

static void test_retention_plan(void **state)
{
	struct store_backup v[5];
	int del[5];
	int64_t now = 100 * DAY;
	(void)state;
	/* newest first: a fresh failed one, then verified ones 1..40 days old */
	entry(&v[0], now - DAY / 2, "failed");
	entry(&v[1], now - 1 * DAY, "verified");
	entry(&v[2], now - 10 * DAY, "verified");
	entry(&v[3], now - 20 * DAY, "failed");
	entry(&v[4], now - 40 * DAY, "verified");
	backup_retention_plan(v, 5, now, 14, del);
	assert_int_equal(del[0], 0);
	assert_int_equal(del[1], 0);
	assert_int_equal(del[2], 0);
	assert_int_equal(del[3], 1);
	assert_int_equal(del[4], 1);
	/* Everything old: the newest *verified* one stays, whatever its age; an older
	 * failed one newer than it goes. */
	backup_retention_plan(v, 5, now + 365 * DAY, 14, del);
	assert_int_equal(del[0], 1);
	assert_int_equal(del[1], 0);
	assert_int_equal(del[2], 1);
	assert_int_equal(del[3], 1);
	assert_int_equal(del[4], 1);
	/* No verified backup at all: age alone decides. */
	entry(&v[0], now - 30 * DAY, "unverified");
	backup_retention_plan(v, 1, now, 14, del);
	assert_int_equal(del[0], 1);
	/* A backup from the future (clock skew) is kept. */
	entry(&v[0], now + DAY, "failed");
	backup_retention_plan(v, 1, now, 14, del);
	assert_int_equal(del[0], 0);
}

static void test_round_trip(void **state)
{
	char dir[256], db[512], dest[512], cmd[1200];
	struct cfg c;
	struct ck_err err = {0, ""};
	struct store *st = NULL;
	struct backup_result res;
	struct store_backup used, *list = NULL;
	struct kline k;
	struct store_page_result pr;
	size_t n = 0;
	int64_t now = 1773943200000LL;
	(void)state;
	test_tmp_template(dir, sizeof(dir), "ck-test-bk");
	assert_non_null(mkdtemp(dir));
	snprintf(db, sizeof(db), "%s/candles.db", dir);
	snprintf(dest, sizeof(dest), "%s/restored.db", dir);
	assert_int_equal(cfg_init(&c, &err), 0);
	assert_int_equal(cfg_set(&c, "main", "db", db, "test", &err), 0);
	assert_int_equal(cfg_finish(&c, &err), 0);
	assert_int_equal(store_open(&st, db, 0, &err), 0);
	memset(&k, 0, sizeof(k));
	k.open_time = now - 4 * 3600000LL;
	k.close_time = now - 1;
	snprintf(k.open, sizeof(k.open), "1.5");
	snprintf(k.high, sizeof(k.high), "2");
	snprintf(k.low, sizeof(k.low), "1");
	snprintf(k.close, sizeof(k.close), "1.5");
	snprintf(k.volume, sizeof(k.volume), "10");
	snprintf(k.quote_volume, sizeof(k.quote_volume), "15");
	snprintf(k.taker_buy_base, sizeof(k.taker_buy_base), "5");
	snprintf(k.taker_buy_quote, sizeof(k.taker_buy_quote), "7.5");
	assert_int_equal(store_put_page(st, "BTCUSDT", "4h", &k, 1, &pr, &err), 0);

	assert_int_equal(backup_run(st, &c, now, &res, &err), 0);
	assert_int_equal(res.hot.outcome, BACKUP_OK);
	assert_int_equal(res.warm.outcome, BACKUP_OK);
	assert_int_equal(res.offsite.outcome, BACKUP_NOT_CONFIGURED);
	assert_int_equal(res.candles, 1);
	assert_string_equal(res.hot.sha256, res.warm.sha256);
	{
		/* The snapshot is written without a journal: it must still be one
		 * self-contained rollback-journal file (header bytes 18 and 19 are 1, not WAL's
		 * 2), with nothing beside it, and the warm file must hold the same bytes. */
		unsigned char h[20];
		char side[1100], hex[65];
		FILE *f = fopen(res.hot.location, "rb");
		assert_non_null(f);
		assert_int_equal(fread(h, 1, sizeof(h), f), sizeof(h));
		fclose(f);
		assert_int_equal(h[18], 1);
		assert_int_equal(h[19], 1);
		snprintf(side, sizeof(side), "%s-journal", res.hot.location);
		assert_int_not_equal(access(side, F_OK), 0);
		snprintf(side, sizeof(side), "%s-wal", res.hot.location);
		assert_int_not_equal(access(side, F_OK), 0);
		assert_int_equal(backup_sha256_file(res.warm.location, hex, NULL, &err), 0);
		assert_string_equal(hex, res.hot.sha256);
		assert_int_equal(backup_sha256_file(res.hot.location, hex, NULL, &err), 0);
		assert_string_equal(hex, res.hot.sha256);
	}
	assert_int_equal(backup_run(st, &c, now + DAY, &res, &err), 0);
	assert_int_equal(backup_list_all(&c, st, &list, &n, &err), 0);
	assert_int_equal(n, 4);
	assert_string_equal(list[0].tier, "hot");
	assert_int_equal(list[0].created, now + DAY);
	assert_string_equal(list[0].status, "verified");
	assert_int_equal(list[0].candles, 1);
	/* The WAL was checkpointed and the main file held still: a byte copy. */
	assert_non_null(strstr(list[0].detail, "byte copy"));
	free(list);

	store_close(st);

	/* Restore with st NULL (database gone): files and sidecars are the truth. The
	 * newest hot file is damaged, so its warm copy is used. */
	snprintf(cmd, sizeof(cmd), "printf xx | dd of=%s bs=1 seek=3000 conv=notrunc 2>/dev/null",
		 res.hot.location);
	assert_int_equal(system(cmd), 0);
	assert_int_equal(backup_restore_to(NULL, &c, dest, &used, &err), 0);
	assert_string_equal(used.tier, "warm");
	assert_int_equal(used.created, now + DAY);
	assert_int_equal(used.candles, 1);
	assert_int_equal(store_open(&st, dest, STORE_RDONLY, &err), 0);
	store_close(st);
	/* Without the integrity check (recover checks the result itself) the damaged hot
	 * file is still passed over by its checksum, and the copy's schema is read. */
	unlink(dest);
	assert_int_equal(backup_restore_ex(NULL, &c, dest, NULL, NULL, 0, &used, &err), 0);
	assert_string_equal(used.tier, "warm");
	assert_int_equal(used.candles, -1); /* not counted: recover's verify counts */
	assert_string_equal(used.detail, "checksum ok, schema readable");
	assert_int_equal(store_open(&st, dest, STORE_RDONLY, &err), 0);
	store_close(st);

	assert_int_equal(store_open(&st, db, 0, &err), 0);
	{
		/* A reader holding an older snapshot keeps the WAL from being checkpointed
		 * entirely: the main file cannot be held still, so the backup falls back to
		 * SQLite's online backup of the newest snapshot, verified and counted alike. */
		sqlite3 *rd = NULL;
		assert_int_equal(sqlite3_open_v2(db, &rd, SQLITE_OPEN_READONLY, NULL), SQLITE_OK);
		assert_int_equal(
			sqlite3_exec(rd, "BEGIN; SELECT count(*) FROM candles", NULL, NULL, NULL),
			SQLITE_OK);
		k.open_time += 4 * 3600000LL;
		k.close_time += 4 * 3600000LL;
		assert_int_equal(store_put_page(st, "BTCUSDT", "4h", &k, 1, &pr, &err), 0);
		assert_int_equal(backup_run(st, &c, now + 2 * DAY, &res, &err), 0);
		assert_int_equal(res.hot.outcome, BACKUP_OK);
		assert_int_equal(res.warm.outcome, BACKUP_OK);
		assert_int_equal(res.candles, 2);
		assert_string_equal(res.hot.sha256, res.warm.sha256);
		assert_int_equal(backup_list_all(&c, st, &list, &n, &err), 0);
		assert_int_equal(list[0].created, now + 2 * DAY);
		assert_non_null(strstr(list[0].detail, "candle count matches the source"));
		free(list);
		sqlite3_exec(rd, "COMMIT", NULL, NULL, NULL);
		sqlite3_close(rd);
	}
	store_close(st);

	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	assert_int_equal(system(cmd), 0);
	cfg_release(&c);
}

/* A fresh database at db with n candles of BTCUSDT 4h, closed. */
static void make_db(const char *db, int n, int64_t now)
{
	struct ck_err err = {0, ""};
	struct store *st = NULL;
	struct store_page_result pr;
	struct kline *k = calloc((size_t)n, sizeof(*k));
	int i;

	assert_non_null(k);
	assert_int_equal(store_open(&st, db, 0, &err), 0);
	for (i = 0; i < n; i++) {
		k[i].open_time = now - (int64_t)(n - i) * 4 * 3600000LL;
		k[i].close_time = k[i].open_time + 4 * 3600000LL - 1;
		snprintf(k[i].open, sizeof(k[i].open), "%d.5", 1000 + i);
		snprintf(k[i].high, sizeof(k[i].high), "%d", 1001 + i);
		snprintf(k[i].low, sizeof(k[i].low), "%d", 999 + i);
		snprintf(k[i].close, sizeof(k[i].close), "%d.25", 1000 + i);
		snprintf(k[i].volume, sizeof(k[i].volume), "10.123456");
		snprintf(k[i].quote_volume, sizeof(k[i].quote_volume), "15000.5");
		snprintf(k[i].taker_buy_base, sizeof(k[i].taker_buy_base), "5");
		snprintf(k[i].taker_buy_quote, sizeof(k[i].taker_buy_quote), "7.5");
	}
	assert_int_equal(store_put_page(st, "BTCUSDT", "4h", k, (size_t)n, &pr, &err), 0);
	store_close(st);
	free(k);
}

/* What a failed hot backup leaves: no hot file under its name, the copy kept aside as
 * <name>.failed and listed as failed with detail, no warm copy installed. */
static void assert_hot_failed(const struct cfg *c, const struct backup_result *res,
			      const char *detail)
{
	struct ck_err err = {0, ""};
	struct store *st = NULL;
	struct store_backup *list = NULL;
	size_t n = 0, i, failed = 0;

	assert_int_equal(res->hot.outcome, BACKUP_FAILED);
	assert_int_not_equal(res->warm.outcome, BACKUP_OK);
	assert_int_equal(store_open(&st, c->db, 0, &err), 0);
	assert_int_equal(backup_list_all(c, st, &list, &n, &err), 0);
	for (i = 0; i < n; i++) {
		assert_string_not_equal(list[i].status, "verified");
		if (!strcmp(list[i].status, "failed")) {
			failed++;
			assert_non_null(strstr(list[i].location, ".failed"));
		}
	}
	if (!strstr(res->hot.error, detail))
		fail_msg("error \"%s\" does not name \"%s\"", res->hot.error, detail);
	assert_int_equal(failed, 1);
	free(list);
	store_close(st);
}

/* The byte copy's verification: the pinned snapshot's integrity_check runs during the
 * copy, and the copy is read back from the disk and compared with the bytes written. A
 * byte that goes bad on disk between its write and its read back (inside a candle's
 * digits, which integrity_check alone cannot see) fails the backup; so does a source
 * whose b-tree is damaged. */
static void test_verify_copy(void **state)
{
	char dir[256], db[512], cmd[1200];
	struct cfg c;
	struct ck_err err = {0, ""};
	struct store *st = NULL;
	struct backup_result res;
	int64_t now = 1773943200000LL;
	(void)state;
	test_tmp_template(dir, sizeof(dir), "ck-test-bkv");
	assert_non_null(mkdtemp(dir));
	snprintf(db, sizeof(db), "%s/candles.db", dir);
	assert_int_equal(cfg_init(&c, &err), 0);
	assert_int_equal(cfg_set(&c, "main", "db", db, "test", &err), 0);
	assert_int_equal(cfg_finish(&c, &err), 0);
	make_db(db, 2000, now);

	setenv("CANDLEKEEP_FAULT_DAMAGE", "backup-copy", 1);
	assert_int_equal(store_open(&st, db, 0, &err), 0);
	assert_int_not_equal(backup_run(st, &c, now, &res, &err), 0);
	store_close(st);
	unsetenv("CANDLEKEEP_FAULT_DAMAGE");
	/* The damaged byte is the middle one of the copy (fault.h), and the error names it. */
	{
		char want[160];
		snprintf(want, sizeof(want),
			 "the copy read back from the disk differs from the bytes copied at"
			 " offset %lld",
			 (long long)(res.hot.size / 2));
		assert_true(res.hot.size > 0);
		assert_hot_failed(&c, &res, want);
	}

	/* The same database backs up fine without the damage. */
	assert_int_equal(store_open(&st, db, 0, &err), 0);
	assert_int_equal(backup_run(st, &c, now + DAY, &res, &err), 0);
	assert_int_equal(res.hot.outcome, BACKUP_OK);
	assert_int_equal(res.warm.outcome, BACKUP_OK);
	assert_int_equal(res.candles, 2000);
	store_close(st);

	/* A source with a damaged b-tree page: the candles table's root (an interior page
	 * with 2,000 rows) gets its cell pointers overwritten. */
	{
		sqlite3 *h = NULL;
		sqlite3_stmt *q = NULL;
		int64_t root = 0, psize = 0;
		assert_int_equal(sqlite3_open(db, &h), SQLITE_OK);
		assert_int_equal(
			sqlite3_exec(h, "PRAGMA wal_checkpoint(TRUNCATE)", NULL, NULL, NULL),
			SQLITE_OK);
		assert_int_equal(sqlite3_prepare_v2(h,
						    "SELECT rootpage, (SELECT page_size FROM"
						    " pragma_page_size) FROM sqlite_schema"
						    " WHERE name = 'candles'",
						    -1, &q, NULL),
				 SQLITE_OK);
		assert_int_equal(sqlite3_step(q), SQLITE_ROW);
		root = sqlite3_column_int64(q, 0);
		psize = sqlite3_column_int64(q, 1);
		sqlite3_finalize(q);
		sqlite3_close(h);
		assert_true(root > 1);
		snprintf(cmd, sizeof(cmd),
			 "printf '\\377\\377\\377\\377\\377\\377' | dd of=%s bs=1 seek=%lld"
			 " conv=notrunc 2>/dev/null",
			 db, (long long)((root - 1) * psize + 12));
		assert_int_equal(system(cmd), 0);
	}
	assert_int_equal(store_open(&st, db, 0, &err), 0);
	assert_int_not_equal(backup_run(st, &c, now + 2 * DAY, &res, &err), 0);
	store_close(st);
	assert_int_equal(res.hot.outcome, BACKUP_FAILED);
	assert_non_null(strstr(res.hot.error, "failed verification"));

	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	assert_int_equal(system(cmd), 0);
	cfg_release(&c);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_names),          cmocka_unit_test(test_sha256),
		cmocka_unit_test(test_retention_plan), cmocka_unit_test(test_round_trip),
		cmocka_unit_test(test_verify_copy),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
