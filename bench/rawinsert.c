/* rawinsert.c — bench baseline: SQLite's raw insert rate for the rows of a Binance CSV
 * (12 columns, no header), into a table with candlekeep's candles schema, with the same
 * journal settings (WAL, synchronous=FULL), one prepared INSERT, one transaction per
 * PAGE rows (default 5000, candlekeep import's page), no validation, no upsert
 * comparison. Prints "rows=N seconds=S rows_per_s=R".
 * Usage: rawinsert DB CSV SYMBOL INTERVAL [PAGE] */
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "banned.h"

static double mono(void)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

static int exec(sqlite3 *db, const char *sql)
{
	char *msg = NULL;
	if (sqlite3_exec(db, sql, NULL, NULL, &msg) != SQLITE_OK) {
		fprintf(stderr, "rawinsert: %s: %s\n", sql, msg ? msg : "?");
		sqlite3_free(msg);
		return -1;
	}
	return 0;
}

int main(int argc, char **argv)
{
	sqlite3 *db = NULL;
	sqlite3_stmt *ins = NULL;
	FILE *f;
	char line[1024];
	long rows = 0, page = argc > 5 ? strtol(argv[5], NULL, 10) : 5000, inpage = 0;
	double t0, t1;

	if (argc < 5 || page < 1) {
		fprintf(stderr, "usage: rawinsert DB CSV SYMBOL INTERVAL [PAGE]\n");
		return 2;
	}
	if (!(f = fopen(argv[2], "r"))) {
		perror(argv[2]);
		return 1;
	}
	if (sqlite3_open(argv[1], &db) != SQLITE_OK || exec(db, "PRAGMA journal_mode=WAL") ||
	    exec(db, "PRAGMA synchronous=FULL") ||
	    exec(db,
		 "CREATE TABLE IF NOT EXISTS candles (symbol TEXT NOT NULL, interval TEXT NOT NULL,"
		 " open_time INTEGER NOT NULL, open TEXT NOT NULL, high TEXT NOT NULL, low TEXT "
		 "NOT NULL,"
		 " close TEXT NOT NULL, volume TEXT NOT NULL, close_time INTEGER NOT NULL,"
		 " quote_volume TEXT NOT NULL, trades INTEGER NOT NULL, taker_buy_base TEXT NOT "
		 "NULL,"
		 " taker_buy_quote TEXT NOT NULL, PRIMARY KEY (symbol, interval, open_time)) "
		 "WITHOUT ROWID") ||
	    sqlite3_prepare_v2(
		    db, "INSERT INTO candles VALUES (?1,?2,?3,?4,?5,?6,?7,?8,?9,?10,?11,?12,?13)",
		    -1, &ins, NULL) != SQLITE_OK) {
		fprintf(stderr, "rawinsert: %s\n", sqlite3_errmsg(db));
		return 1;
	}
	t0 = mono();
	exec(db, "BEGIN");
	while (fgets(line, sizeof(line), f)) {
		char *fld[12], *p = line;
		int n = 0;
		line[strcspn(line, "\r\n")] = 0;
		while (n < 12) {
			fld[n++] = p;
			p = strchr(p, ',');
			if (!p)
				break;
			*p++ = 0;
		}
		if (n < 11)
			continue;
		sqlite3_bind_text(ins, 1, argv[3], -1, SQLITE_STATIC);
		sqlite3_bind_text(ins, 2, argv[4], -1, SQLITE_STATIC);
		sqlite3_bind_int64(ins, 3, strtoll(fld[0], NULL, 10));
		for (int i = 1; i <= 5; i++)
			sqlite3_bind_text(ins, 3 + i, fld[i], -1, SQLITE_TRANSIENT);
		sqlite3_bind_int64(ins, 9, strtoll(fld[6], NULL, 10));
		sqlite3_bind_text(ins, 10, fld[7], -1, SQLITE_TRANSIENT);
		sqlite3_bind_int64(ins, 11, strtoll(fld[8], NULL, 10));
		sqlite3_bind_text(ins, 12, fld[9], -1, SQLITE_TRANSIENT);
		sqlite3_bind_text(ins, 13, fld[10], -1, SQLITE_TRANSIENT);
		if (sqlite3_step(ins) != SQLITE_DONE) {
			fprintf(stderr, "rawinsert: row %ld: %s\n", rows + 1, sqlite3_errmsg(db));
			return 1;
		}
		sqlite3_reset(ins);
		rows++;
		if (++inpage == page) {
			exec(db, "COMMIT");
			exec(db, "BEGIN");
			inpage = 0;
		}
	}
	exec(db, "COMMIT");
	t1 = mono();
	fclose(f);
	sqlite3_finalize(ins);
	sqlite3_close(db);
	printf("rows=%ld seconds=%.3f rows_per_s=%.0f\n", rows, t1 - t0, (double)rows / (t1 - t0));
	return 0;
}
