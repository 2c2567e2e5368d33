/* klines.h — a GET /fapi/v1/klines page, with Binance's selection rules.
 *
 * Only candles with open_time <= now exist. startTime only: the first `limit`
 * candles opening at or after it; endTime only: the last `limit` opening at or before
 * it; both: the first `limit` between them; neither: the newest `limit`. The candle
 * containing now is served as forming (candle.h); closed recorded candles as they
 * are in the file. */
#ifndef FAKEX_KLINES_H
#define FAKEX_KLINES_H

#include <stdbool.h>
#include <stdint.h>

#include "buf.h"
#include "market.h"

struct kq {
	bool has_start, has_end;
	int64_t start, end; /* ms since epoch, UTC */
	int limit;          /* 1..1500 */
	int64_t floor;      /* no candle opening before it is served (the listing) */
};

/* Appends the JSON array of candles of symbol s, interval iv, as of now. If corrupt,
 * the middle candle of a non-empty page is served with high < low. Reads only
 * immutable market data, so it needs no lock. Check out->err afterwards. */
void klines_page(const struct market *m, const struct symbol *s, int iv, const struct kq *q,
		 int64_t now, bool corrupt, struct buf *out);

#endif
