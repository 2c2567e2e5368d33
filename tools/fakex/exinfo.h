/* exinfo.h — the GET /fapi/v1/exchangeInfo body, shaped like the recorded real one
 * (testdata/binance/exchangeInfo-fapi.json.zst) but listing only the symbols
 * fakex serves that are listed by `now` and not removed. */
#ifndef FAKEX_EXINFO_H
#define FAKEX_EXINFO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "market.h"

/* The symbols of market mk: spot's in spot's shape (no contractType, no onboardDate).
 * Returns the JSON text (caller frees) or NULL when out of memory. Reads symbol
 * status/removed: call with the state lock held. empty: no symbol listed (an exchange
 * answering badly). */
char *exinfo_build(const struct market *m, enum fx_market mk, int64_t now, int64_t weight_limit,
		   bool empty, size_t *len);

#endif
