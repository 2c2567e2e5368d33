/* market.h — the symbols fakex serves and their candles.
 *
 * Recorded candles come from CSV files named SYMBOL-INTERVAL.csv in Binance's archive
 * column order (9 columns for the futures files, 12 for spot; an optional header
 * line). Each file is read whole into one buffer and split in place, so every value
 * is the file's exact string; rows are sorted by open_time for binary search.
 * Synthetic symbols (SYN000USDT, ...) have no rows: their candles are computed on
 * demand (synth.h).
 *
 * After market_finish() the set of symbols and their candles never change. The
 * `status` and `removed` members of a symbol are changed by control requests and are
 * guarded by the server's state lock (state.h), not by this module. */
#ifndef FAKEX_MARKET_H
#define FAKEX_MARKET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "interval.h"

enum {
	CF_OPEN,
	CF_HIGH,
	CF_LOW,
	CF_CLOSE,
	CF_VOLUME,
	CF_QVOL,
	CF_TRADES,
	CF_TBB,
	CF_TBQ,
	CF_IGNORE,
	CF_COUNT
};

struct row {
	int64_t open_time;       /* ms since epoch, UTC */
	int64_t close_time;      /* ms since epoch, UTC, as recorded */
	const char *f[CF_COUNT]; /* the recorded strings (futures: TBB/TBQ/IGNORE "0") */
};

struct series {
	char *text;       /* the file's bytes, split in place; rows point into it */
	struct row *rows; /* sorted by open_time, no duplicates */
	size_t n;
};

#define SYMBOL_MAX 31

/* The three markets fakex serves, by path prefix: USD-M futures (/fapi/v1: the recorded
 * data and SYNnnnUSDT), COIN-M futures (/dapi/v1: synthetic SYNnnnUSD_PERP) and spot
 * (/api/v3: synthetic SYNnnnUSDT, a series of its own, distinct from USD-M's). */
enum fx_market { FX_UM, FX_CM, FX_SPOT };
#define FX_CM_SYNTH 1000   /* synthetic number of SYN000USD_PERP */
#define FX_SPOT_SYNTH 2000 /* added to SYNnnnUSDT's number for its spot series */

struct symbol {
	char name[SYMBOL_MAX + 1];
	struct series *series[IV_COUNT]; /* NULL: no recorded data for that interval */
	int synth;                       /* synthetic symbol number, -1 for recorded */
	int64_t onboard;                 /* ms; first candle's open_time (listing time) */
	int price_prec;                  /* decimals of prices, for exchangeInfo */
	int qty_prec;                    /* decimals of volumes */
	/* guarded by the state lock: */
	char status[16]; /* exchangeInfo status, "TRADING" */
	bool removed;    /* unknown to klines and exchangeInfo (delisted) */
	bool omitted;    /* left out of exchangeInfo only (a partial answer); klines serve it */
};

struct market {
	struct symbol *syms; /* sorted by name after market_finish */
	size_t n, cap;
	uint64_t seed;       /* synthetic candles */
	int64_t synth_start; /* ms; first synthetic candle opens at or after it */
};

void market_init(struct market *m);
/* Loads every DIR/SYMBOL-INTERVAL.csv (not recursive). A symbol and interval loaded
 * before is replaced (the later --data wins). Returns 0, or -1 with a message naming
 * the file and the cause in err. */
int market_load_dir(struct market *m, const char *dir, char *err, size_t errlen);
/* Adds n synthetic symbols, sorts, fills onboard dates and precisions. 0 or -1. */
/* 1 if market mk lists symbol s (its name and kind). */
bool market_serves(const struct symbol *s, enum fx_market mk);

int market_finish(struct market *m, int nsynth, int64_t synth_start, uint64_t seed, char *err,
		  size_t errlen);
/* The symbol called name, or NULL. Does not look at `removed`. */
struct symbol *market_find(const struct market *m, const char *name);
void market_release(struct market *m);

/* Index of the first row with open_time >= t (n if none). */
size_t series_lower(const struct series *s, int64_t t);
/* Index of the first row with open_time > t (n if none). */
size_t series_upper(const struct series *s, int64_t t);

#endif
