/* store_archive.h — the catalogue of public-archive files (archive.h) whose candles
 * were stored: per file name ("BTCUSDT-4h-2024-01.zip") its SHA-256 as the .CHECKSUM
 * gave it, its row count and when it was read. A later run that sees another
 * checksum for a catalogued name knows the exchange amended the file. */
#ifndef CK_STORE_ARCHIVE_H
#define CK_STORE_ARCHIVE_H

#include <stdint.h>

#include "err.h"
#include "store.h"

/* Schema version 3 (store.c's migration runs it): the archive_files table. */
extern const char *const store_archive_schema_v3;

/* Records (or replaces) a file's checksum (64 hex), rows and read time (ms). */
int store_archive_put(struct store *st, const char *name, const char *sha256, int64_t rows,
		      int64_t at_ms, struct ck_err *err);
/* The catalogued checksum of name into sha256 (65 bytes); *found 0 if not catalogued. */
int store_archive_get(struct store *st, const char *name, char sha256[65], int *found,
		      struct ck_err *err);

/* One catalogued file. */
struct store_archive_file {
	char name[128];
	char sha256[65];
};
/* The catalogued files of symbol and interval (names "SYMBOL-INTERVAL-..."), by name.
 * *out malloc'd (the caller frees; NULL when *n == 0). */
int store_archive_list(struct store *st, const char *symbol, const char *interval,
		       struct store_archive_file **out, size_t *n, struct ck_err *err);

/* The holes the exchange's REST API answered empty (confirmed or only suspected, e.g.
 * marked for re-verification) of symbol and interval that overlap open times
 * [from, to], by time: what an archive file of that period may lack (archive.h).
 * *out malloc'd (the caller frees; NULL when *n == 0); count is 0 in each. */
int store_archive_holes(struct store *st, const char *symbol, const char *interval, int64_t from,
			int64_t to, struct store_range **out, size_t *n, struct ck_err *err);

#endif
