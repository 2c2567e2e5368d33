/* archive.h — the exchange's public archive as fakex serves it: for each recorded
 * symbol and interval, one zip per calendar month and one per day, each holding one
 * CSV in Binance's archive format (12 columns), and a "<sha256>  <name>\n" .CHECKSUM
 * beside it. Paths follow data.binance.vision:
 *   /data/futures/um/monthly/klines/SYM/IV/SYM-IV-YYYY-MM.zip[.CHECKSUM]
 *   /data/futures/um/daily/klines/SYM/IV/SYM-IV-YYYY-MM-DD.zip[.CHECKSUM]
 * and the same under /data/futures/cm/ (COIN-M's symbols) and /data/spot/ (spot's own
 * series, as /api/v3 serves them; its files of periods from 2025-01-01 on in
 * microseconds, as the exchange's spot files are).
 * A file exists once its period closed an hour ago by fakex's clock and it has at
 * least one candle; otherwise 404. Daily files carry the header row, monthly ones do
 * not (the real archive has both kinds), so clients meet both.
 *
 * Faults (struct archive_faults): each names a substring of the file name (without
 * .zip) it hits; empty: off. This module is pure: it builds bytes, the server sends
 * them. */
#ifndef FAKEX_ARCHIVE_H
#define FAKEX_ARCHIVE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "market.h"

#define ARCHIVE_MATCH_MAX 48

struct archive_faults {
	char damage[ARCHIVE_MATCH_MAX];  /* zip bytes damaged (the .CHECKSUM matches them) */
	char badsum[ARCHIVE_MATCH_MAX];  /* the .CHECKSUM names another digest */
	char missing[ARCHIVE_MATCH_MAX]; /* 404 for the zip and its .CHECKSUM */
	char trunc[ARCHIVE_MATCH_MAX];   /* the zip's transfer stops halfway */
	char droprow[ARCHIVE_MATCH_MAX]; /* the CSV lacks its middle row */
	char revise[ARCHIVE_MATCH_MAX];  /* the file's first candle has another close
					  * (an amended file: another checksum, and REST
					  * disagrees with it) */
	char hang[ARCHIVE_MATCH_MAX];    /* the zip is never answered (held --hang-ms) */
	char hangsum[ARCHIVE_MATCH_MAX]; /* the .CHECKSUM is never answered (held --hang-ms) */
	bool micros;                     /* times in microseconds (spot since 2025) */
};

/* What a request for an archive path gets. */
struct archive_reply {
	int status; /* 200 or 404 */
	char *body; /* malloc'd; the caller frees */
	size_t len;
	bool truncate; /* send only part of the body (the trunc fault) */
};

/* True if url is under the archive's prefix (/data/). */
bool archive_is_path(const char *url);
/* Builds the reply for url as of now (ms). faults is a copy taken under the state
 * lock. Returns 0, or -1 when out of memory. */
int archive_serve(const struct market *m, const char *url, int64_t now,
		  const struct archive_faults *faults, struct archive_reply *out);

/* True if url is a zip the hang fault holds, or a .CHECKSUM the hangsum fault holds. */
bool archive_hangs(const struct archive_faults *f, const char *url);
/* Frees the files kept between requests (at exit). */
void archive_release(void);

#endif
