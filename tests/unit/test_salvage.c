/* test_salvage.c — the store's recover side: the damage probe (healthy, missing,
 * another application's file with and without an application_id, a file that is no
 * database, a zeroed header, a file held by another connection), the salvage of a file
 * with one unreadable page (every other row read, the lost rows estimated exactly from
 * the keys around the page), and store_open's identity rules (application_id set,
 * another application's file refused untouched, no database created beside a recover
 * marker or a quarantined copy). Each test works in a private mkdtemp directory. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sqlite3.h>

#include "err.h"
#include "kline.h"
#include "store.h"
#include "store_salvage.h"
#include "banned.h"
#include "test_tmp.h"

#define H4 14400000LL
#define T0 1700006400000LL /* 2023-11-15 00:00 UTC, aligned to 4h */
#define PER_SYMBOL 300

static const char *const syms[] = {"AAAUSDT", "BBBUSDT", "CCCUSDT"};

struct fixture {
	char dir[64];
	char path[128];
	struct ck_err err;
};

static int setup(void **state)
{
	struct fixture *fx = calloc(1, sizeof(*fx));
	assert_non_null(fx);
	test_tmp_template(fx->dir, sizeof(fx->dir), "ck-test-salvage");
	assert_non_null(mkdtemp(fx->dir));
	snprintf(fx->path, sizeof(fx->path), "%s/c.db", fx->dir);
	*state = fx;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *fx = *state;
	char cmd[128];
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", fx->dir);
	if (system(cmd) != 0)
		return -1;
	free(fx);
	return 0;
}

static void exec_sql(const char *path, const char *sql)
{
	sqlite3 *db = NULL;
	assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
	assert_int_equal(sqlite3_exec(db, sql, NULL, NULL, NULL), SQLITE_OK);
	sqlite3_close(db);
}

static int64_t int_sql(const char *path, const char *sql)
{
	sqlite3 *db = NULL;
	sqlite3_stmt *s = NULL;
	int64_t v = -1;
	assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
	assert_int_equal(sqlite3_prepare_v2(db, sql, -1, &s, NULL), SQLITE_OK);
	if (sqlite3_step(s) == SQLITE_ROW)
		v = sqlite3_column_int64(s, 0);
	sqlite3_finalize(s);
	sqlite3_close(db);
	return v;
}

/* A candlekeep database with PER_SYMBOL dense 4h candles of each of syms. */
static void make_db(struct fixture *fx)
{
	struct store *st = NULL;
	struct kline *k = calloc(PER_SYMBOL, sizeof(*k));
	struct store_page_result r;
	size_t i, j;

	assert_non_null(k);
	assert_int_equal(store_open(&st, fx->path, 0, &fx->err), 0);
	for (i = 0; i < sizeof(syms) / sizeof(syms[0]); i++) {
		for (j = 0; j < PER_SYMBOL; j++) {
			k[j].open_time = T0 + (int64_t)j * H4;
			k[j].close_time = k[j].open_time + H4 - 1;
			snprintf(k[j].open, sizeof(k[j].open), "%zu.5", 100 + j);
			snprintf(k[j].high, sizeof(k[j].high), "%zu.9", 101 + j);
			snprintf(k[j].low, sizeof(k[j].low), "%zu.1", 99 + j);
			snprintf(k[j].close, sizeof(k[j].close), "%zu.7", 100 + j);
			snprintf(k[j].volume, sizeof(k[j].volume), "12.34");
			snprintf(k[j].quote_volume, sizeof(k[j].quote_volume), "1234.5");
			k[j].trades = 42;
			snprintf(k[j].taker_buy_base, sizeof(k[j].taker_buy_base), "6.1");
			snprintf(k[j].taker_buy_quote, sizeof(k[j].taker_buy_quote), "617.2");
		}
		assert_int_equal(store_put_page(st, syms[i], "4h", k, PER_SYMBOL, &r, &fx->err), 0);
	}
	store_close(st);
	free(k);
	/* one self-contained file: the tests below smash its pages */
	exec_sql(fx->path, "PRAGMA journal_mode=DELETE");
}

/* Overwrites page pgno (1-based) of path with bytes that are no b-tree page. */
static void smash_page(const char *path, int64_t pgno, int64_t psize)
{
	FILE *f = fopen(path, "r+b");
	char *junk = malloc((size_t)psize);
	assert_non_null(f);
	assert_non_null(junk);
	memset(junk, 0xA5, (size_t)psize);
	assert_int_equal(fseek(f, (long)((pgno - 1) * psize), SEEK_SET), 0);
	assert_int_equal(fwrite(junk, 1, (size_t)psize, f), (size_t)psize);
	assert_int_equal(fclose(f), 0);
	free(junk);
}

static void test_probe_states(void **state)
{
	struct fixture *fx = *state;
	struct store_probe p;
	char other[160], text[160], zero[160], cmd[512];

	assert_int_equal(store_probe_file(fx->path, 100, &p), 0);
	assert_int_equal(p.state, PROBE_MISSING);

	make_db(fx);
	assert_int_equal(store_probe_file(fx->path, 100, &p), 0);
	assert_int_equal(p.state, PROBE_OK);
	assert_int_equal(p.candles, 3 * PER_SYMBOL);

	/* another application's files: with an id, and without one but with tables */
	snprintf(other, sizeof(other), "%s/other.db", fx->dir);
	exec_sql(other, "PRAGMA application_id = 252006673; CREATE TABLE blob(x)");
	assert_int_equal(store_probe_file(other, 100, &p), 0);
	assert_int_equal(p.state, PROBE_FOREIGN);
	assert_non_null(strstr(p.detail, "application_id"));
	exec_sql(other, "PRAGMA application_id = 0");
	assert_int_equal(store_probe_file(other, 100, &p), 0);
	assert_int_equal(p.state, PROBE_FOREIGN);
	assert_non_null(strstr(p.detail, "no candles table"));

	/* no database and no trace of candlekeep: foreign; a zeroed header of ours: damaged */
	snprintf(text, sizeof(text), "%s/notes.txt", fx->dir);
	snprintf(cmd, sizeof(cmd), "printf 'a,b\\n1,2\\n' > '%s'", text);
	assert_int_equal(system(cmd), 0);
	assert_int_equal(store_probe_file(text, 100, &p), 0);
	assert_int_equal(p.state, PROBE_FOREIGN);
	snprintf(zero, sizeof(zero), "%s/zero.db", fx->dir);
	snprintf(cmd, sizeof(cmd),
		 "cp '%s' '%s' && dd if=/dev/zero of='%s' bs=100 count=1"
		 " conv=notrunc 2>/dev/null",
		 fx->path, zero, zero);
	assert_int_equal(system(cmd), 0);
	assert_int_equal(store_probe_file(zero, 100, &p), 0);
	assert_int_equal(p.state, PROBE_DAMAGED);
}

static void test_probe_busy_is_not_damage(void **state)
{
	struct fixture *fx = *state;
	struct store_probe p;
	sqlite3 *holder = NULL;
	int64_t psize;

	make_db(fx);
	/* healthy, held exclusively by another connection */
	assert_int_equal(sqlite3_open(fx->path, &holder), SQLITE_OK);
	assert_int_equal(sqlite3_exec(holder, "PRAGMA locking_mode=EXCLUSIVE; BEGIN EXCLUSIVE;",
				      NULL, NULL, NULL),
			 SQLITE_OK);
	assert_int_equal(store_probe_file(fx->path, 50, &p), 0);
	assert_int_equal(p.state, PROBE_BUSY);
	sqlite3_close(holder);

	/* damaged, but another connection has it open: not proof */
	psize = int_sql(fx->path, "PRAGMA page_size");
	smash_page(fx->path,
		   int_sql(fx->path, "SELECT pageno FROM dbstat WHERE name = 'candles'"
				     " AND pagetype = 'leaf' ORDER BY pageno LIMIT 1 OFFSET 5"),
		   psize);
	assert_int_equal(sqlite3_open(fx->path, &holder), SQLITE_OK);
	assert_int_equal(sqlite3_exec(holder,
				      "PRAGMA journal_mode=WAL; SELECT count(*) FROM sqlite_master",
				      NULL, NULL, NULL),
			 SQLITE_OK);
	assert_int_equal(store_probe_file(fx->path, 50, &p), 0);
	assert_int_equal(p.state, PROBE_BUSY);
	assert_non_null(strstr(p.detail, "not proof"));
	sqlite3_close(holder);
	assert_int_equal(store_probe_file(fx->path, 50, &p), 0);
	assert_int_equal(p.state, PROBE_DAMAGED);
}

/* Every leaf page of candles in turn is smashed (in a fresh copy): the salvage reads
 * every row but that page's, in one unreadable range, and estimates its rows exactly
 * from the keys around it; at the very start or end of a symbol (no keys of the same
 * symbol on one side, and this file records no bounds) it says the extent is unknown. */
static void test_salvage_past_a_bad_page(void **state)
{
	struct fixture *fx = *state;
	const char *pairs[] = {"AAAUSDT/4h", "BBBUSDT/4h", "CCCUSDT/4h"};
	char good[160], dpath[160], cmd[512];
	int64_t psize, leaves[256], cells[256];
	size_t nleaves = 0, i, exact = 0;
	sqlite3 *db = NULL;
	sqlite3_stmt *s = NULL;

	make_db(fx);
	/* The runs' newest candles bound a tail region: the pairs' own (um, 4h), beside later
	 * ones of the same symbols in another market and another interval, which must not
	 * count. */
	exec_sql(fx->path,
		 "WITH s(sym) AS (VALUES ('AAAUSDT'), ('BBBUSDT'), ('CCCUSDT')),"
		 " r(id, market, interval, newest) AS (VALUES (1, 'um', '4h', 299),"
		 " (2, 'spot', '4h', 5000), (3, 'um', '1h', 7000))"
		 " INSERT INTO run_symbols (run_id, symbol, status, candles_written,"
		 " candles_revised, newest_open, market, interval)"
		 " SELECT id, sym, 'ok', 0, 0, 1700006400000 + newest * 14400000, market, interval"
		 " FROM r, s;"
		 " WITH s(sym) AS (VALUES ('AAAUSDT'), ('BBBUSDT'), ('CCCUSDT'))"
		 " INSERT INTO symbols (market, symbol, interval, history_start, first_open)"
		 " SELECT 'um', sym, '4h', 1700006400000, 1700006400000 FROM s;");
	psize = int_sql(fx->path, "PRAGMA page_size");
	snprintf(good, sizeof(good), "%s/good.db", fx->dir);
	snprintf(cmd, sizeof(cmd), "cp '%s' '%s'", fx->path, good);
	assert_int_equal(system(cmd), 0);
	assert_int_equal(sqlite3_open(good, &db), SQLITE_OK);
	assert_int_equal(sqlite3_prepare_v2(db,
					    "SELECT pageno, ncell FROM dbstat WHERE name ="
					    " 'candles' AND pagetype = 'leaf' ORDER BY pageno",
					    -1, &s, NULL),
			 SQLITE_OK);
	while (sqlite3_step(s) == SQLITE_ROW && nleaves < 256) {
		leaves[nleaves] = sqlite3_column_int64(s, 0);
		cells[nleaves++] = sqlite3_column_int64(s, 1);
	}
	sqlite3_finalize(s);
	sqlite3_close(db);
	assert_true(nleaves >= 3);

	for (i = 0; i < nleaves; i++) {
		struct store_salvage_result r;
		struct store *dst = NULL;
		int64_t n = 0;

		snprintf(cmd, sizeof(cmd), "cp '%s' '%s' && rm -f '%s/dest.db'*", good, fx->path,
			 fx->dir);
		assert_int_equal(system(cmd), 0);
		smash_page(fx->path, leaves[i], psize);
		snprintf(dpath, sizeof(dpath), "%s/dest.db", fx->dir);
		assert_int_equal(store_open(&dst, dpath, 0, &fx->err), 0);
		assert_int_equal(store_salvage(dst, fx->path, pairs, 3, &r, &fx->err), 0);
		assert_int_equal(r.read, 3 * PER_SYMBOL - cells[i]);
		assert_int_equal(r.written, r.read);
		assert_int_equal(r.invalid, 0);
		assert_int_equal(r.regions, 1);
		assert_int_equal(r.counted, -1); /* count(*) meets the bad page */
		assert_int_equal(store_count(dst, NULL, 0, &n, NULL, &fx->err), 0);
		assert_int_equal(n, r.read);
		if (!r.lost_unknown) {
			assert_int_equal(r.read + r.lost_est, 3 * PER_SYMBOL);
			exact++;
		}
		store_close(dst);
	}
	/* with every pair's bounds on record, more than the inner leaves are exact: the
	 * ones holding a pair's end too (bounded by its own run records) */
	assert_true(exact >= 3);
}

static void test_identity_at_open(void **state)
{
	struct fixture *fx = *state;
	struct store *st = NULL;
	char other[160], marker[160], qdir[160], qfile[200];
	struct stat before, after;

	make_db(fx);
	assert_int_equal(int_sql(fx->path, "PRAGMA application_id"), STORE_APPLICATION_ID);
	/* an older candlekeep file without the id gets it */
	exec_sql(fx->path, "PRAGMA application_id = 0");
	assert_int_equal(store_open(&st, fx->path, 0, &fx->err), 0);
	store_close(st);
	assert_int_equal(int_sql(fx->path, "PRAGMA application_id"), STORE_APPLICATION_ID);

	/* another application's file: refused by name, not changed */
	snprintf(other, sizeof(other), "%s/other.db", fx->dir);
	exec_sql(other, "CREATE TABLE moz_places(id INTEGER PRIMARY KEY, url TEXT)");
	assert_int_equal(stat(other, &before), 0);
	assert_int_equal(store_open(&st, other, 0, &fx->err), CK_EUSAGE);
	assert_null(st);
	assert_non_null(strstr(fx->err.msg, other));
	assert_non_null(strstr(fx->err.msg, "not a candlekeep database"));
	assert_int_equal(stat(other, &after), 0);
	assert_int_equal(before.st_size, after.st_size);
	assert_int_equal(before.st_mtime, after.st_mtime);
	assert_int_equal(int_sql(other, "PRAGMA user_version"), 0);
	assert_int_equal(access("other.db-wal", F_OK) == 0, 0);

	/* no new database beside a recover marker, or a quarantined copy */
	unlink(fx->path);
	snprintf(marker, sizeof(marker), "%s.recover", fx->path);
	exec_sql(marker, "SELECT 1"); /* any file */
	assert_int_equal(store_open(&st, fx->path, 0, &fx->err), CK_ECORRUPT);
	assert_non_null(strstr(fx->err.msg, "run candlekeep recover"));
	assert_int_equal(access(fx->path, F_OK) == 0, 0);
	unlink(marker);
	snprintf(qdir, sizeof(qdir), "%s/quarantine", fx->dir);
	assert_int_equal(mkdir(qdir, 0750), 0);
	snprintf(qfile, sizeof(qfile), "%s/c.db.20260101T000000.000Z", qdir);
	exec_sql(qfile, "SELECT 1");
	assert_int_equal(store_open(&st, fx->path, 0, &fx->err), CK_ECORRUPT);
	assert_int_equal(access(fx->path, F_OK) == 0, 0);
	/* another database's quarantined copy does not count */
	unlink(qfile);
	snprintf(qfile, sizeof(qfile), "%s/c.db2.20260101T000000.000Z", qdir);
	exec_sql(qfile, "SELECT 1");
	assert_int_equal(store_open(&st, fx->path, 0, &fx->err), 0);
	store_close(st);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_probe_states, setup, teardown),
		cmocka_unit_test_setup_teardown(test_probe_busy_is_not_damage, setup, teardown),
		cmocka_unit_test_setup_teardown(test_salvage_past_a_bad_page, setup, teardown),
		cmocka_unit_test_setup_teardown(test_identity_at_open, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
