/* store_salvage.h — the SQLite side of recover (part of the store module): the probe
 * that decides whether a database file is damaged, and the salvage of what can still be
 * read from a damaged one.
 *
 * A file is called damaged only on proof: SQLite answers SQLITE_CORRUPT or
 * SQLITE_NOTADB, or its integrity_check lists problems, while candlekeep holds the file
 * exclusively (no other connection open). A busy or locked file is never damaged; a file
 * of another application is never candlekeep's to move. */
#ifndef CK_STORE_SALVAGE_H
#define CK_STORE_SALVAGE_H

#include <stddef.h>
#include <stdint.h>

#include "err.h"
#include "store.h"

enum store_probe_state {
	PROBE_OK,      /* healthy candlekeep database (or one of the older design) */
	PROBE_MISSING, /* no file at the path */
	PROBE_DAMAGED, /* proof of damage (see above) */
	PROBE_BUSY,    /* another process holds the file; nothing can be concluded */
	PROBE_FOREIGN, /* another application's file (or no trace of candlekeep's schema) */
	PROBE_ERROR,   /* the check could not run (permissions, I/O error) */
};

struct store_probe {
	enum store_probe_state state;
	int64_t candles;  /* PROBE_OK: stored candles */
	char detail[320]; /* one line: "ok" or what was found */
};

/* Probes the database file at path without changing its data: a shared open and full
 * integrity_check, waiting up to wait_ms for another process's lock; when that finds a
 * problem, the same check again with the file held exclusively (the proof). The file's
 * application_id and schema tell candlekeep's files (and the older design's) from other
 * applications'. A file that SQLite does not recognise at all counts as damaged only
 * when candlekeep's schema text is still found in its first pages. Blocking: reads the
 * whole file. Always returns 0 (the outcome is in out). */
int store_probe_file(const char *path, int64_t wait_ms, struct store_probe *out);

/* Outcome of a salvage. */
struct store_salvage_result {
	int64_t read;     /* candles read from the damaged file */
	int64_t written;  /* of those, new in the destination */
	int64_t revised;  /* of those, replacing a different stored value */
	int64_t invalid;  /* read but failing validation (not stored) */
	int64_t regions;  /* unreadable key ranges skipped */
	int64_t lost_est; /* candles those ranges held, from the open times around them
			   * (one per interval: exact unless the exchange had a hole there) */
	int lost_unknown; /* 1 when some range's extent could not be bounded */
	int64_t counted;  /* count(*) of the damaged file when that query succeeded, else -1 */
	int64_t holes, symbols; /* confirmed holes and symbol states copied */
	char detail[320];       /* the first unreadable range, or why nothing could be read */
};

/* Copies every candle that can still be read from the damaged database at src_path
 * into dst, key range by key range: a scan in key order that meets an unreadable page
 * seeks past it (the first readable key after it, found by probing), so one bad page
 * costs only its own rows. Rows are validated as on a sync and stored with
 * store_put_page (the damaged file is newer than any backup: its values win). The
 * confirmed holes and per-symbol states that can be read are copied too. pairs
 * ("SYMBOL/INTERVAL", n of them) are where to look when the key order itself is
 * unreadable. The damaged file is opened without checkpointing and only read. Returns
 * non-zero only when writing into dst fails. Blocking. Optional: a backend without it
 * fails with CK_EUSAGE "not supported". */
int store_salvage(struct store *dst, const char *src_path, const char *const *pairs, size_t npairs,
		  struct store_salvage_result *res, struct ck_err *err);

#endif
