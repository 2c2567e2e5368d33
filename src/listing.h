/* listing.h — the exchange's listing as this database has seen it, per market, for
 * `symbols = all`: every symbol ever seen trading, its status in the newest trusted
 * exchangeInfo, its listing date and when this database first saw it. sync updates it
 * from each exchangeInfo; health, metrics and audit read it, so they work from what is
 * stored plus the newest exchangeInfo rather than from the newest run alone.
 *
 * Kept in the store's state table (key "listing.<market>", one line per symbol), never
 * shrunk: a symbol that stops trading stays, marked by the status it left with (SETTLING,
 * BREAK, ..., or GONE when exchangeInfo no longer names it), and its candles are never
 * deleted; trading again, it is fetched again.
 *
 * Trust: one observation never delists everything. An exchangeInfo that failed, or that
 * lists no symbol of the market trading, changes nothing (listing_observe returns 0).
 * One answer that leaves a trading symbol out (a partial list) does not make it GONE
 * either: the first such answer is noted (missing_since) and the symbol stays trading;
 * a later answer that still leaves it out makes it GONE, one that lists it clears the
 * note. A status the exchange states (SETTLING, BREAK, ...) is taken at its word. */
#ifndef CK_LISTING_H
#define CK_LISTING_H
#include <stddef.h>
#include <stdint.h>

#include "binance.h"
#include "err.h"
#include "store.h"

#define LISTING_GONE "GONE" /* the status of a symbol exchangeInfo no longer names */

struct listing_entry {
	char symbol[24];
	char status[24];       /* TRADING, or the status it stopped trading with */
	int64_t onboard;       /* the listing date exchangeInfo gives (ms), 0 = not given */
	int64_t first_seen;    /* local ms of the sync that first saw it trading */
	int64_t since;         /* local ms of the sync that saw its status first */
	int64_t missing_since; /* trading, but left out of the answer seen at this local ms
				* (0 = listed in the newest answer): GONE at the next answer
				* that leaves it out too */
};

struct listing {
	int64_t started;         /* local ms of the first trusted observation; 0 = none stored */
	struct listing_entry *e; /* malloc'd, sorted by symbol */
	size_t n;
};

/* Reads the listing of st's market; an empty one (started 0) when none is stored.
 * Release with listing_release. 0 or a negative code. */
int listing_load(struct store *st, struct listing *l, struct ck_err *err);
/* Writes l as st's market's listing. 0 or a negative code. */
int listing_save(struct store *st, const struct listing *l, struct ck_err *err);
void listing_release(struct listing *l);

/* Merges one exchangeInfo answer of the current market (binance_market()) seen at local
 * time now: its TRADING symbols (perpetuals on the futures markets) are added or marked
 * trading; a known symbol now listed otherwise takes that status, one no longer listed
 * takes LISTING_GONE at the second answer in a row that leaves it out (see Trust
 * above). Returns 1 when applied (*changed: 1 if anything changed), 0 when
 * the answer is not trusted (NULL, or no symbol of the market trading): l unchanged.
 * -CK_ENOMEM... : a negative code with err filled. */
int listing_observe(struct listing *l, const struct binance_info *info, int64_t now, int *changed,
		    struct ck_err *err);

const struct listing_entry *listing_find(const struct listing *l, const char *symbol);
/* 1 when e is trading. */
int listing_trading(const struct listing_entry *e);
/* 1 when e was listed after the listing was started (a new listing: fetched from its
 * listing date, not history_days back). */
int listing_is_new(const struct listing *l, const struct listing_entry *e);
/* Counts: trading and not trading entries. */
size_t listing_count(const struct listing *l, int trading);

#endif
