/* store_pg_backup.h — backups of a PostgreSQL database (part of the store module): a
 * pg_dump -Fc archive taken in one snapshot whose row counts are read at the same time,
 * its verification (pg_restore --list, then a restore into a scratch database created
 * and dropped here, whose row counts must equal the snapshot's), and the restore of
 * such an archive into a database. backup.c puts the archives into its tiers.
 *
 * The tools: pg_dump and pg_restore from [backup] pg_bin_dir, or found on PATH when
 * that is empty. The connection goes to them as a libpq connection string without the
 * password; a password the URL carries reaches them only through their environment
 * (PGPASSWORD), never on a command line and never in a message. */
#ifndef CK_STORE_PG_BACKUP_H
#define CK_STORE_PG_BACKUP_H

#include <stddef.h>
#include <stdint.h>

#include "err.h"

#define STORE_PG_MAX_TABLES 64

/* The row count of every table of the database's schema, in one snapshot. */
struct store_pg_counts {
	size_t n;
	char name[STORE_PG_MAX_TABLES][64];
	int64_t rows[STORE_PG_MAX_TABLES];
	int64_t candles; /* rows of the candles table */
};

/* pg_dump -Fc of the database at url into dest (created by pg_dump; the caller fsyncs
 * and renames it), in a snapshot exported from a transaction that counts every table
 * into *counts first: the counts are those of the archive's data. bindir: where
 * pg_dump is ("" = PATH). Blocking (the whole database is read). */
int store_pg_dump(const char *url, const char *bindir, const char *dest,
		  struct store_pg_counts *counts, struct ck_err *err);

/* Verifies the archive at path taken from url: pg_restore --list reads it and lists
 * the candles table's data; then it is restored (one transaction, stop at the first
 * error) into a scratch database created on url's server for this and dropped after,
 * whose row counts must equal want's, table by table. *ok = 1 when all holds, else
 * detail says what failed; *candles gets the restored candle count. Returns non-zero
 * only when the check could not run (the server refuses the scratch database, a tool
 * is missing). Blocking. */
int store_pg_dump_verify(const char *url, const char *bindir, const char *path,
			 const struct store_pg_counts *want, int *ok, int64_t *candles,
			 char *detail, size_t size, struct ck_err *err);

/* 1 if the database at url holds no table (a fresh database), 0 if it holds some; *tables
 * gets how many. */
int store_pg_empty(const char *url, int *empty, int64_t *tables, struct ck_err *err);

/* Restores the archive at path into the database at url, in one transaction (a failure
 * leaves the database as it was): with replace, the archive's tables, view and
 * sequences are dropped first (pg_restore --clean --if-exists); without it, url must
 * hold no table (CK_EUSAGE otherwise, nothing touched). *counts (may be NULL) gets the
 * row counts of the result. Blocking. */
int store_pg_restore(const char *url, const char *bindir, const char *path, int replace,
		     struct store_pg_counts *counts, struct ck_err *err);

/* 1 if path starts like a pg_dump custom-format archive ("PGDMP"), 0 if not. */
int store_pg_is_dump(const char *path);

#endif
