/* klines.c — see klines.h. */
#include <stddef.h>

#include "banned.h"
#include "candle.h"
#include "klines.h"
#include "synth.h"

static void recorded_page(const struct series *se, int iv, const struct kq *q, int64_t now,
			  bool corrupt, struct buf *out)
{
	size_t lo = q->has_start ? series_lower(se, q->start) : 0;
	size_t e = series_upper(se, now);
	if (q->has_end) {
		size_t ee = series_upper(se, q->end);
		if (ee < e)
			e = ee;
	}
	if (lo >= e)
		return;
	size_t lim = (size_t)q->limit;
	if (q->has_start)
		e = e - lo > lim ? lo + lim : e;
	else
		lo = e > lim ? e - lim : 0;
	if (lo < series_lower(se, q->floor))
		lo = series_lower(se, q->floor);
	if (lo >= e)
		return;
	size_t bad = lo + (e - lo) / 2;
	for (size_t i = lo; i < e; i++) {
		const struct row *r = &se->rows[i];
		int64_t end = iv_end(iv, r->open_time);
		struct cand c;
		if (r->open_time <= now && now < end)
			cand_forming(&c, r, end, now);
		else
			cand_from_row(&c, r);
		if (corrupt && i == bad)
			cand_corrupt(&c);
		if (i > lo)
			buf_add(out, ",", 1);
		cand_emit(&c, out);
	}
}

static void synthetic_page(const struct market *m, int sym, int iv, const struct kq *q, int64_t now,
			   bool corrupt, struct buf *out)
{
	int64_t first = iv_ceil_index(iv, m->synth_start);
	int64_t klo = first, khi = iv_index(iv, now);
	if (q->has_start) {
		int64_t k = iv_ceil_index(iv, q->start);
		if (k > klo)
			klo = k;
	}
	if (q->has_end) {
		int64_t k = iv_index(iv, q->end);
		if (k < khi)
			khi = k;
	}
	if (klo > khi)
		return;
	if (khi - klo + 1 > q->limit) {
		if (q->has_start)
			khi = klo + q->limit - 1;
		else
			klo = khi - q->limit + 1;
	}
	if (klo < iv_ceil_index(iv, q->floor))
		klo = iv_ceil_index(iv, q->floor);
	if (klo > khi)
		return;
	int64_t bad = klo + (khi - klo + 1) / 2;
	for (int64_t k = klo; k <= khi; k++) {
		struct cand c;
		synth_candle(m->seed, sym, iv, iv_time(iv, k), now, &c);
		if (corrupt && k == bad)
			cand_corrupt(&c);
		if (k > klo)
			buf_add(out, ",", 1);
		cand_emit(&c, out);
	}
}

void klines_page(const struct market *m, const struct symbol *s, int iv, const struct kq *q,
		 int64_t now, bool corrupt, struct buf *out)
{
	struct kq lq = *q;

	/* Nothing before the listing: a startTime before it starts there; without one the
	 * page ends now and is cut at the listing (below). */
	if (lq.has_start && lq.start < lq.floor)
		lq.start = lq.floor;
	q = &lq;
	buf_add(out, "[", 1);
	if (s->synth >= 0)
		synthetic_page(m, s->synth, iv, q, now, corrupt, out);
	else if (s->series[iv])
		recorded_page(s->series[iv], iv, q, now, corrupt, out);
	buf_add(out, "]", 1);
}
