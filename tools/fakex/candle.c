/* candle.c — see candle.h. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "banned.h"
#include "candle.h"

int dec_places(const char *s)
{
	const char *dot = strchr(s, '.');
	return dot ? (int)strlen(dot + 1) : 0;
}

void cand_from_row(struct cand *c, const struct row *r)
{
	c->open_time = r->open_time;
	c->close_time = r->close_time;
	memcpy(c->f, r->f, sizeof(c->f));
}

static const char *fmt_dec(struct cand *c, int field, long double v, int places)
{
	if (v < 0)
		v = 0;
	snprintf(c->scratch[field], CAND_STR, "%.*Lf", places, v);
	return c->scratch[field];
}

void cand_forming(struct cand *c, const struct row *r, int64_t end, int64_t now)
{
	long double frac = (long double)(now - r->open_time) / (long double)(end - r->open_time);
	long double open = strtold(r->f[CF_OPEN], NULL);

	c->open_time = r->open_time;
	c->close_time = end - 1;
	c->f[CF_OPEN] = r->f[CF_OPEN];
	c->f[CF_IGNORE] = r->f[CF_IGNORE];
	static const int prices[] = {CF_HIGH, CF_LOW, CF_CLOSE};
	for (size_t i = 0; i < sizeof(prices) / sizeof(prices[0]); i++) {
		const char *s = r->f[prices[i]];
		long double v = open + (strtold(s, NULL) - open) * frac;
		c->f[prices[i]] = fmt_dec(c, prices[i], v, dec_places(s));
	}
	static const int volumes[] = {CF_VOLUME, CF_QVOL, CF_TBB, CF_TBQ};
	for (size_t i = 0; i < sizeof(volumes) / sizeof(volumes[0]); i++) {
		const char *s = r->f[volumes[i]];
		c->f[volumes[i]] = fmt_dec(c, volumes[i], strtold(s, NULL) * frac, dec_places(s));
	}
	long long trades = (long long)floorl(strtold(r->f[CF_TRADES], NULL) * frac);
	snprintf(c->scratch[CF_TRADES], CAND_STR, "%lld", trades);
	c->f[CF_TRADES] = c->scratch[CF_TRADES];
}

void cand_corrupt(struct cand *c)
{
	const char *h = c->f[CF_HIGH], *l = c->f[CF_LOW];
	if (strtold(h, NULL) > strtold(l, NULL)) {
		c->f[CF_HIGH] = l;
		c->f[CF_LOW] = h;
		return;
	}
	/* equal (a flat candle): low = high plus one unit past its last decimal */
	char tmp[CAND_STR];
	snprintf(tmp, sizeof(tmp), "%s%s1", h, strchr(h, '.') ? "" : ".");
	memcpy(c->scratch[CF_LOW], tmp, sizeof(tmp));
	c->f[CF_LOW] = c->scratch[CF_LOW];
}

void cand_emit(const struct cand *c, struct buf *b)
{
	buf_addf(b, "[%lld,\"%s\",\"%s\",\"%s\",\"%s\",\"%s\",%lld,\"%s\",%s,\"%s\",\"%s\",\"%s\"]",
		 (long long)c->open_time, c->f[CF_OPEN], c->f[CF_HIGH], c->f[CF_LOW],
		 c->f[CF_CLOSE], c->f[CF_VOLUME], (long long)c->close_time, c->f[CF_QVOL],
		 c->f[CF_TRADES], c->f[CF_TBB], c->f[CF_TBQ], c->f[CF_IGNORE]);
}
