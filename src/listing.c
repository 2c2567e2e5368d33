/* listing.c — see listing.h. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cfg.h"
#include "listing.h"
#include "sbuf.h"
#include "banned.h"

#define LISTING_TEXT_MAX (1024 * 1024) /* the stored text: ~64 bytes a symbol */

static void listing_key(const struct store *st, char *key, size_t size)
{
	snprintf(key, size, "listing.%s", store_market(st));
}

static int entry_cmp(const void *a, const void *b)
{
	return strcmp(((const struct listing_entry *)a)->symbol,
		      ((const struct listing_entry *)b)->symbol);
}

void listing_release(struct listing *l)
{
	if (!l)
		return;
	free(l->e);
	memset(l, 0, sizeof(*l));
}

static struct listing_entry *entry_add(struct listing *l, size_t *cap)
{
	if (l->n == *cap) {
		size_t nc = *cap ? *cap * 2 : 64;
		struct listing_entry *p = realloc(l->e, nc * sizeof(*p));
		if (!p)
			return NULL;
		l->e = p;
		*cap = nc;
	}
	memset(&l->e[l->n], 0, sizeof(l->e[0]));
	return &l->e[l->n++];
}

int listing_load(struct store *st, struct listing *l, struct ck_err *err)
{
	char key[64], *text = NULL, *line, *save = NULL;
	struct ck_err e2 = {0, ""};
	size_t cap = 0;
	int rc;

	memset(l, 0, sizeof(*l));
	listing_key(st, key, sizeof(key));
	if (!(text = malloc(LISTING_TEXT_MAX)))
		return ck_err_set(err, CK_ENOMEM, "state %s: out of memory", key);
	if ((rc = store_state_get(st, key, text, LISTING_TEXT_MAX, &e2)) != 0) {
		free(text);
		if (rc == CK_ENOTFOUND)
			return 0;
		*err = e2;
		return rc;
	}
	if (strlen(text) + 1 >= LISTING_TEXT_MAX) {
		free(text);
		return ck_err_set(err, CK_ECORRUPT, "state %s: longer than %d bytes", key,
				  LISTING_TEXT_MAX);
	}
	for (line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		struct listing_entry x;
		int n;
		memset(&x, 0, sizeof(x));
		if (sscanf(line, "started %" SCNd64, &l->started) == 1)
			continue;
		/* five fields before missing_since was kept: a stored listing stays readable */
		n = sscanf(line, "%23s %23s %" SCNd64 " %" SCNd64 " %" SCNd64 " %" SCNd64, x.symbol,
			   x.status, &x.onboard, &x.first_seen, &x.since, &x.missing_since);
		if ((n != 5 && n != 6) || !cfg_symbol_valid(x.symbol)) {
			ck_err_set(err, CK_ECORRUPT,
				   "state %s (the listing of symbols = all): unreadable line"
				   " '%.60s'; delete the state key %s (the next sync rebuilds"
				   " the listing from exchangeInfo; no candle is lost)",
				   key, line, key);
			free(text);
			listing_release(l);
			return CK_ECORRUPT;
		}
		struct listing_entry *p = entry_add(l, &cap);
		if (!p) {
			free(text);
			listing_release(l);
			return ck_err_set(err, CK_ENOMEM, "state %s: out of memory", key);
		}
		*p = x;
	}
	free(text);
	if (l->n)
		qsort(l->e, l->n, sizeof(l->e[0]), entry_cmp);
	return 0;
}

int listing_save(struct store *st, const struct listing *l, struct ck_err *err)
{
	char key[64];
	struct sbuf b = {.max = LISTING_TEXT_MAX};
	int rc;

	listing_key(st, key, sizeof(key));
	sbuf_printf(&b, "started %" PRId64 "\n", l->started);
	for (size_t i = 0; i < l->n; i++)
		sbuf_printf(&b, "%s %s %" PRId64 " %" PRId64 " %" PRId64 " %" PRId64 "\n",
			    l->e[i].symbol, l->e[i].status, l->e[i].onboard, l->e[i].first_seen,
			    l->e[i].since, l->e[i].missing_since);
	if (b.failed || !b.p) {
		sbuf_release(&b);
		return ck_err_set(err, CK_ENOMEM, "state %s: %zu symbols do not fit in %d bytes",
				  key, l->n, LISTING_TEXT_MAX);
	}
	rc = store_state_set(st, key, b.p, err);
	sbuf_release(&b);
	return rc;
}

const struct listing_entry *listing_find(const struct listing *l, const char *symbol)
{
	struct listing_entry k;

	if (!l->n)
		return NULL;
	snprintf(k.symbol, sizeof(k.symbol), "%s", symbol);
	return bsearch(&k, l->e, l->n, sizeof(l->e[0]), entry_cmp);
}

int listing_trading(const struct listing_entry *e)
{
	return e && !strcmp(e->status, "TRADING");
}

int listing_is_new(const struct listing *l, const struct listing_entry *e)
{
	return e && l->started && e->first_seen > l->started;
}

size_t listing_count(const struct listing *l, int trading)
{
	size_t n = 0;
	for (size_t i = 0; i < l->n; i++)
		n += listing_trading(&l->e[i]) == !!trading;
	return n;
}

/* A symbol `all` keeps: of the market's kind (perpetuals on the futures markets) and a
 * name candlekeep accepts. */
static int symbol_kept(const struct binance_symbol *b)
{
	return (binance_market()->spot || !strcmp(b->contract_type, "PERPETUAL")) &&
	       cfg_symbol_valid(b->symbol);
}

static void status_set(struct listing_entry *e, const char *status, int64_t now, int *changed)
{
	if (!strcmp(e->status, status))
		return;
	snprintf(e->status, sizeof(e->status), "%s", status);
	e->since = now;
	*changed = 1;
}

int listing_observe(struct listing *l, const struct binance_info *info, int64_t now, int *changed,
		    struct ck_err *err)
{
	size_t trading = 0, cap = l->n, known = l->n, i;

	*changed = 0;
	if (!info)
		return 0;
	for (i = 0; i < info->nsymbols; i++)
		trading += symbol_kept(&info->symbols[i]) &&
			   !strcmp(info->symbols[i].status, "TRADING");
	if (!trading)
		return 0; /* one empty answer is not every symbol delisted */
	if (!l->started) {
		l->started = now;
		*changed = 1;
	}
	/* Known symbols first (the array is sorted and searched until new ones are added). */
	for (i = 0; i < known; i++) {
		struct listing_entry *e = &l->e[i];
		const struct binance_symbol *b = binance_info_find(info, e->symbol);
		int listed = b && symbol_kept(b);
		if (!listed && listing_trading(e) &&
		    (!e->missing_since || e->missing_since == now)) {
			/* left out once: noted, still trading (a partial answer is no delisting) */
			if (!e->missing_since)
				*changed = 1;
			e->missing_since = now;
			continue;
		}
		if (listed && e->missing_since) {
			e->missing_since = 0;
			*changed = 1;
		}
		if (!listed)
			e->missing_since = 0;
		status_set(e, listed ? b->status : LISTING_GONE, now, changed);
		if (b && b->onboard_date > 0 && b->onboard_date != e->onboard) {
			e->onboard = b->onboard_date;
			*changed = 1;
		}
	}
	for (i = 0; i < info->nsymbols; i++) {
		const struct binance_symbol *b = &info->symbols[i];
		struct listing_entry *e;
		if (!symbol_kept(b) || strcmp(b->status, "TRADING"))
			continue;
		if (listing_find(&(struct listing){.e = l->e, .n = known}, b->symbol))
			continue;
		if (!(e = entry_add(l, &cap)))
			return ck_err_set(err, CK_ENOMEM, "listing: out of memory");
		snprintf(e->symbol, sizeof(e->symbol), "%s", b->symbol);
		snprintf(e->status, sizeof(e->status), "TRADING");
		e->onboard = b->onboard_date > 0 ? b->onboard_date : 0;
		e->first_seen = e->since = now;
		*changed = 1;
	}
	if (l->n > known)
		qsort(l->e, l->n, sizeof(l->e[0]), entry_cmp);
	return 1;
}
