/* archive.h — history from the exchange's public archive (data.binance.vision):
 * monthly and daily zip files of closed candles, each with a .CHECKSUM (SHA-256).
 *
 * archive_fill takes ranges a sync wants (per symbol, open times), fetches every
 * published monthly file for the complete months and daily files for the days since
 * (and for a month whose file failed or is missing), many at once on one libcurl multi
 * handle, and stores the candles of each file that passes every check:
 *   - the zip's SHA-256 equals its .CHECKSUM;
 *   - the zip holds one CSV; its header row (if any) is skipped; every row has the same
 *     number of columns (12, or the 9 of the older files) and the same time unit (ms or
 *     us, detected from the file's first row: 16 digits = microseconds);
 *   - every row passes kline_validate (the same rules as REST pages) inside the period,
 *     open times strictly increasing;
 *   - the row count equals the period's candles (from the symbol's listing when the
 *     period holds it) less those in the holes the exchange answered empty there
 *     (store_archive_holes: a file may lack them; a row missing anywhere else fails).
 * A file that fails stores nothing and is reported (log warning naming the file and
 * the reason: checksum, columns, rows, ...); its period is then asked from daily files
 * (a monthly file) or left to REST. What no file gave is returned as ranges for REST,
 * with samples of what the files gave (struct archive_rest) for REST to cross-check.
 * Each stored file's checksum goes to the catalogue (store_archive.h).
 *
 * A period is asked only when it closed an hour ago by the exchange's clock (the
 * archive publishes after that); a range whose candles are all younger makes no
 * request. Blocking; single-threaded. */
#ifndef CK_ARCHIVE_H
#define CK_ARCHIVE_H

#include <signal.h>
#include <stddef.h>
#include <stdint.h>

#include "err.h"
#include "kline.h"
#include "store.h"

struct archive_opts {
	const char *base_url; /* e.g. https://data.binance.vision, no trailing slash */
	const char *market;   /* path part: "futures/um" */
	const char *interval; /* "4h" */
	int64_t interval_ms;
	int64_t now;                 /* the exchange's time, ms */
	int concurrency;             /* transfers in flight, >= 1 */
	const char *user_agent;      /* may be NULL */
	int64_t timeout_ms;          /* per transfer; 0: none */
	volatile sig_atomic_t *stop; /* may be NULL; when set, no new transfer starts and
				      * the running ones are dropped (what was verified is
				      * stored; the rest is returned for REST) */
	int64_t deadline_mono;       /* CLOCK_MONOTONIC ms, 0 = none: the same as stop after it */
};

struct cfg;
/* o from cfg's [archive] base_url and [sync] concurrency, user agent and request
 * timeout, for cfg's interval on USD-M futures; now as given, no stop, no deadline. */
void archive_opts_init(struct archive_opts *o, const struct cfg *cfg, int64_t now);

/* A range a caller wants filled: open times [first, last] of symbol; listing is the
 * symbol's first candle on the exchange (0: unknown). */
struct archive_want {
	const char *symbol;
	int64_t first, last;
	int64_t listing;
	void *tag;                /* the caller's, copied to the rest */
	int64_t written, revised; /* out: candles archive_fill stored for this want */
};

/* A range for REST: one the archive did not fill, or (check) a sample of candles it
 * stored, to be fetched again so that REST's values win where they differ (stored as
 * counted revisions): the first and last candle of every stored file (the last of one
 * file and the first of the next in one range) and ARCHIVE_CHECK_RANDOM random ones
 * per want. */
struct archive_rest {
	size_t want; /* index into the wants */
	void *tag;
	int64_t first, last; /* open times, inclusive */
	int check;           /* 1: a cross-check sample of archive candles */
};
#define ARCHIVE_CHECK_RANDOM 2

struct archive_stats {
	int64_t files_ok;         /* files verified and stored */
	int64_t files_failed;     /* files that failed a check (reported) */
	int64_t files_missing;    /* 404: not published */
	int64_t candles;          /* candles taken from files */
	int64_t written, revised; /* as store_put_page counted them */
	int64_t bytes;            /* zip bytes downloaded */
	int64_t amended;          /* catalogued files whose .CHECKSUM changed (archive_recheck) */
};

/* Fills what it can of the n wants from the archive (see above). On return *rest
 * (malloc'd, the caller frees; NULL when *nrest == 0) holds what is left, in the
 * order of the wants. Returns 0 (files that failed are not an error), or a negative
 * code for a failure of the run itself (out of memory, the database). */
int archive_fill(const struct archive_opts *o, struct store *st, struct archive_want *w, size_t n,
		 struct archive_rest **rest, size_t *nrest, struct archive_stats *stats,
		 struct ck_err *err);

/* Amended files: for each catalogued file of the symbols (store_archive.h), fetches its
 * .CHECKSUM; where it changed, fetches the file, checks it as archive_fill does and stores
 * it (the values that differ become counted revisions), and catalogues the new checksum.
 * stats->amended counts them. 0, or a negative code as archive_fill. */
int archive_recheck(const struct archive_opts *o, struct store *st, const char *const *symbols,
		    size_t nsymbols, struct archive_stats *stats, struct ck_err *err);

/* Checks and parses one archive file's bytes (a zip holding one CSV, or a CSV when
 * is_zip is 0) as described above: symbol and period [pstart, pend) (ms), listing as in
 * archive_want, holes[0..nholes) the exchange's holes there (sorted; NULL, 0: none). On success
 * *out (malloc'd, the caller frees) holds the *n candles. CK_EVALIDATE with a message naming name
 * and the reason otherwise. Used by archive_fill and by import. */
int archive_parse_file(const void *data, size_t len, int is_zip, const char *name,
		       const char *symbol, int64_t interval_ms, int64_t pstart, int64_t pend,
		       int64_t listing, const struct store_range *holes, size_t nholes,
		       struct kline **out, size_t *n, struct ck_err *err);

/* Parses the CSV lines of one archive file (no zip), with the column, time-unit,
 * validation and row-count checks; the building block of archive_parse_file. */
struct archive_csv;
struct archive_csv *archive_csv_new(const char *name, const char *symbol, int64_t interval_ms,
				    int64_t pstart, int64_t pend);
/* Feeds bytes (any split). 0 or CK_EVALIDATE / CK_ENOMEM (then stop feeding). */
int archive_csv_feed(struct archive_csv *c, const char *p, size_t len, struct ck_err *err);
/* Ends the input and checks the row count against the period from listing (0:
 * unknown) less the holes (as archive_parse_file). On success hands over the candles
 * (*out malloc'd). */
int archive_csv_finish(struct archive_csv *c, int64_t listing, const struct store_range *holes,
		       size_t nholes, struct kline **out, size_t *n, struct ck_err *err);
void archive_csv_free(struct archive_csv *c);

struct archive_import {
	char symbol[32], interval[8];
	int64_t written, same, revised; /* as store_put_page counted them */
	int64_t forming;                /* rows not closed by now: not stored */
	int checksum;                   /* 1: a NAME.zip.CHECKSUM beside it matched */
};

/* `import` of one archive file as downloaded: SYM-IV-YYYY-MM[-DD].zip (or its .csv),
 * checked as archive_fill checks it (a .CHECKSUM beside a zip must match; the period's
 * row count; columns, units, validation) and stored only if it all passes. Returns 1
 * (nothing done) when the name is not an archive period file, 0 when stored, or a
 * negative code with err naming the file and the reason. */
int archive_import(struct store *st, const char *path, int64_t now, struct archive_import *res,
		   struct ck_err *err);

/* The period of a file name's date part: "YYYY-MM" (monthly) or "YYYY-MM-DD" (daily)
 * to [*start, *end) ms. 0 or CK_EVALIDATE. */
int archive_period(const char *date, int64_t *start, int64_t *end);

#endif
