/* synth.c — see synth.h. */
#include <math.h>
#include <stdio.h>

#include "banned.h"
#include "interval.h"
#include "synth.h"

#define OCTAVES 11

static uint64_t mix(uint64_t x)
{
	x += 0x9e3779b97f4a7c15ULL;
	x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
	x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
	return x ^ (x >> 31);
}

/* uniform in [0, 1) from (seed, a, b) */
static double unit3(uint64_t seed, uint64_t a, uint64_t b)
{
	return (double)(mix(seed ^ mix(a ^ mix(b))) >> 11) * 0x1.0p-53;
}

static double base_price(uint64_t seed, int sym)
{
	return pow(10.0, -2.0 + 6.7 * unit3(seed, (uint64_t)sym, 0xba5e));
}

int synth_price_prec(uint64_t seed, int sym)
{
	int p = 6 - (int)floor(log10(base_price(seed, sym)));
	return p < 2 ? 2 : p > 8 ? 8 : p;
}

static double price(uint64_t seed, int sym, int64_t t)
{
	double lp = 0, period = 60000, amp = 0.0005;
	for (int j = 0; j < OCTAVES; j++, period *= 4, amp *= 2) {
		double x = (double)t / period, k = floor(x), fr = x - k;
		double s = fr * fr * (3 - 2 * fr);
		uint64_t key = (uint64_t)sym * 64 + (uint64_t)j;
		double a = unit3(seed, key, (uint64_t)(int64_t)k) * 2 - 1;
		double b = unit3(seed, key, (uint64_t)(int64_t)k + 1) * 2 - 1;
		lp += amp * (a + (b - a) * s);
	}
	return base_price(seed, sym) * exp(lp); /* within base * e^(+-1.02) */
}

static const char *put(struct cand *c, int field, double v, int places)
{
	snprintf(c->scratch[field], CAND_STR, "%.*f", places, v);
	return c->scratch[field];
}

void synth_candle(uint64_t seed, int sym, int iv, int64_t open, int64_t now, struct cand *c)
{
	int64_t end = iv_end(iv, open);
	int64_t upto = now < end ? now : end;
	double frac = (double)(upto - open) / (double)(end - open);
	double hours = (double)(end - open) / 3600000.0;
	int pd = synth_price_prec(seed, sym);
	double base = base_price(seed, sym);
	uint64_t key = ((uint64_t)sym << 8) | (uint64_t)iv;

	double o = price(seed, sym, open), cl = price(seed, sym, upto);
	double width = 0.003 + 0.03 * sqrt(hours / 24.0);
	if (width > 0.3)
		width = 0.3;
	double hi = fmax(o, cl) * (1 + width * frac * unit3(seed, key, (uint64_t)open * 4 + 1));
	double lo = fmin(o, cl) * (1 - width * frac * unit3(seed, key, (uint64_t)open * 4 + 2));
	double vol = 1e6 / base * hours * (0.5 + unit3(seed, key, (uint64_t)open * 4 + 3)) * frac;
	double avg = (o + cl) / 2;
	double tbb = vol * (0.3 + 0.4 * unit3(seed, key, (uint64_t)open * 4 + 4));

	c->open_time = open;
	c->close_time = end - 1;
	c->f[CF_OPEN] = put(c, CF_OPEN, o, pd);
	c->f[CF_HIGH] = put(c, CF_HIGH, hi, pd);
	c->f[CF_LOW] = put(c, CF_LOW, lo, pd);
	c->f[CF_CLOSE] = put(c, CF_CLOSE, cl, pd);
	c->f[CF_VOLUME] = put(c, CF_VOLUME, vol, 3);
	c->f[CF_QVOL] = put(c, CF_QVOL, vol * avg, 5);
	snprintf(c->scratch[CF_TRADES], CAND_STR, "%lld", (long long)(vol * avg / 2000.0));
	c->f[CF_TRADES] = c->scratch[CF_TRADES];
	c->f[CF_TBB] = put(c, CF_TBB, tbb, 3);
	c->f[CF_TBQ] = put(c, CF_TBQ, tbb * avg, 5);
	c->f[CF_IGNORE] = "0";
}
