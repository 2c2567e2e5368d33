/* audit_render.c — the SLA audit's report (struct audit_report, built by audit.c) as
 * plain text, a JSON object and a self-contained HTML page. Rendering only: nothing
 * here reads the database or decides a verdict. */
#include <errno.h>
#include <inttypes.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "afile.h"
#include "audit.h"
#include "dur.h"
#include "kline.h"
#include "store.h"
#include "utc.h"
#include "banned.h"

/* ---- text ---------------------------------------------------------------------------- */

int audit_print_text(const struct audit_report *r, const struct cfg *c, FILE *f)
{
	char a[32], b[32], d[32];

	fprintf(f, "SLA audit %s .. %s UTC (%" PRId64 " days)\n",
		kline_time_str(r->from, a, sizeof(a)), kline_time_str(r->to, b, sizeof(b)),
		r->days);
	fprintf(f, "verdict: %s\n", r->all_met ? "all targets met" : "targets breached");
	for (size_t i = 0; i < r->ntarget; i++)
		fprintf(f, "  %-12s %-8s %-14s target %-10s %s\n", r->target[i].name,
			r->target[i].met ? "MET" : "BREACHED", r->target[i].measured,
			r->target[i].target, r->target[i].detail);

	fprintf(f,
		"\nsync coverage: %" PRId64 "/%" PRId64 " days with a successful sync; %" PRId64
		" runs (%" PRId64 " ok, %zu failed/timed out/partial); scheduled syncs met %" PRId64
		"/%" PRId64 "\n",
		r->days_synced, r->days, r->runs_total, r->runs_ok, r->nbad, r->slots_met,
		r->slots);
	for (int64_t i = 0; i < r->days; i++)
		if (!r->day[i].runs_ok)
			fprintf(f, "  no successful sync on %s\n",
				utc_date(r->day[i].start, d, sizeof(d)));
	for (size_t i = 0; i < r->nbad; i++)
		fprintf(f, "  run %-6" PRId64 " %-8s %s%s UTC  %-8s %s\n", r->bad[i].id,
			r->bad[i].command, r->bad[i].estimated ? "~" : "",
			kline_time_str(r->bad[i].at, a, sizeof(a)),
			run_status_name(r->bad[i].status), r->bad[i].error);

	fprintf(f,
		"\nstaleness per symbol (lag: how long a closed candle waited to be stored;"
		" RPO %s):\n",
		dur_format(c->sla_rpo_s * 1000, DUR_CLOCK, a, sizeof(a)));
	fprintf(f, "  %-16s %12s %12s %12s\n", "symbol", "worst lag", "p99 lag", "worst age");
	for (size_t i = 0; i < r->nsym; i++) {
		char w[32];
		if (!r->sym[i].samples) {
			fprintf(f, "  %-16s %12s\n", r->sym[i].symbol, "no data");
			continue;
		}
		fprintf(f, "  %-16s %12s %12s %12s\n", r->sym[i].symbol,
			dur_format(r->sym[i].lag_worst_ms, DUR_CLOCK, a, sizeof(a)),
			dur_format(r->sym[i].lag_p99_ms, DUR_CLOCK, b, sizeof(b)),
			dur_format(r->sym[i].age_worst_ms, DUR_CLOCK, w, sizeof(w)));
	}

	fprintf(f, "\ncompleteness (candles closed by the newest successful sync):\n");
	fprintf(f, "  %-16s %9s %9s %9s %9s\n", "symbol", "expected", "stored", "holes", "missing");
	for (size_t i = 0; i < r->nsym; i++) {
		const struct audit_symbol *s = &r->sym[i];
		fprintf(f, "  %-16s %9" PRId64 " %9" PRId64 " %9" PRId64 " %9" PRId64 "\n",
			s->symbol, s->expected, s->stored, s->holes, s->missing);
		for (size_t g = 0; g < s->ngaps; g++)
			fprintf(f, "    gap %s .. %s UTC (%" PRId64 " candles)\n",
				kline_time_str(s->gaps[g].first, a, sizeof(a)),
				kline_time_str(s->gaps[g].last, b, sizeof(b)), s->gaps[g].count);
	}

	fprintf(f, "\nbackups:\n");
	for (int t = 0; t < 3; t++) {
		const struct audit_tier *bt = &r->tier[t];
		if (!bt->configured) {
			fprintf(f, "  %-8s not configured\n", bt->tier);
			continue;
		}
		fprintf(f,
			"  %-8s %" PRId64 "/%" PRId64 " days with a verified backup; %" PRId64
			" kept (retention %" PRId64 " days: %s)%s%s\n",
			bt->tier, bt->days_with, r->days, bt->kept, bt->retention_days,
			bt->compliant ? "compliant" : "NOT compliant", bt->note[0] ? "; " : "",
			bt->note);
	}
	fprintf(f, "\nrestore drill: ");
	if (r->drill_done)
		fprintf(f, "%.1f s, %s%s%s\n", r->drill_seconds, r->drill_detail,
			r->drill_location[0] ? ", from " : "", r->drill_location);
	else
		fprintf(f, "not run\n");
	return ferror(f) ? CK_EIO : 0;
}

/* ---- JSON ------------------------------------------------------------------------------ */

int audit_to_json(const struct audit_report *r, char **out, struct ck_err *err)
{
	json_t *o = json_object(), *t = json_array(), *bad = json_array(), *sy = json_array(),
	       *days = json_array(), *tiers = json_array();
	char a[32];

	*out = NULL;
	if (!o || !t || !bad || !sy || !days || !tiers)
		goto oom;
	json_object_set_new(o, "from", json_string(utc_iso(r->from, a, sizeof(a))));
	json_object_set_new(o, "to", json_string(utc_iso(r->to, a, sizeof(a))));
	json_object_set_new(o, "days", json_integer(r->days));
	json_object_set_new(o, "all_met", json_boolean(r->all_met));
	for (size_t i = 0; i < r->ntarget; i++)
		json_array_append_new(
			t, json_pack("{s:s, s:b, s:s, s:s, s:s}", "name", r->target[i].name, "met",
				     r->target[i].met, "measured", r->target[i].measured, "target",
				     r->target[i].target, "detail", r->target[i].detail));
	json_object_set(o, "targets", t);
	json_object_set_new(o, "sync",
			    json_pack("{s:I, s:I, s:I, s:I, s:I, s:I, s:s}", "days_synced",
				      (json_int_t)r->days_synced, "days", (json_int_t)r->days,
				      "runs", (json_int_t)r->runs_total, "runs_ok",
				      (json_int_t)r->runs_ok, "scheduled", (json_int_t)r->slots,
				      "scheduled_met", (json_int_t)r->slots_met, "schedule",
				      r->schedule));
	for (size_t i = 0; i < r->nbad; i++)
		json_array_append_new(bad, json_pack("{s:I, s:s, s:s, s:b, s:s, s:s}", "id",
						     (json_int_t)r->bad[i].id, "command",
						     r->bad[i].command, "at",
						     utc_iso(r->bad[i].at, a, sizeof(a)),
						     "estimated", r->bad[i].estimated, "status",
						     run_status_name(r->bad[i].status), "error",
						     r->bad[i].error));
	json_object_set(o, "failed_runs", bad);
	for (size_t i = 0; i < r->nsym; i++) {
		const struct audit_symbol *s = &r->sym[i];
		json_t *g = json_array(), *e;
		for (size_t k = 0; g && k < s->ngaps; k++) {
			char b[32];
			json_array_append_new(g, json_pack("{s:s, s:s, s:I}", "first",
							   utc_iso(s->gaps[k].first, a, sizeof(a)),
							   "last",
							   utc_iso(s->gaps[k].last, b, sizeof(b)),
							   "count", (json_int_t)s->gaps[k].count));
		}
		e = json_pack("{s:s, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:o}", "symbol",
			      s->symbol, "samples", (json_int_t)s->samples, "lag_worst_s",
			      (json_int_t)(s->lag_worst_ms / 1000), "lag_p99_s",
			      (json_int_t)(s->lag_p99_ms / 1000), "age_worst_s",
			      (json_int_t)(s->age_worst_ms / 1000), "expected",
			      (json_int_t)s->expected, "stored", (json_int_t)s->stored, "holes",
			      (json_int_t)s->holes, "missing", (json_int_t)s->missing, "gaps",
			      g ? g : json_array());
		json_array_append_new(sy, e);
	}
	json_object_set(o, "symbols", sy);
	for (int64_t i = 0; i < r->days; i++) {
		const struct audit_day *d = &r->day[i];
		json_array_append_new(
			days, json_pack("{s:s, s:I, s:I, s:I, s:I, s:I, s:f, s:b, s:b, s:b}", "day",
					utc_date(d->start, a, sizeof(a)), "scheduled",
					(json_int_t)d->slots, "scheduled_met",
					(json_int_t)d->slots_met, "runs_ok", (json_int_t)d->runs_ok,
					"runs_failed", (json_int_t)d->runs_bad, "lag_worst_s",
					(json_int_t)(d->lag_worst_ms / 1000), "fresh_pct",
					d->fresh_pct, "backup_hot", d->backups[0], "backup_warm",
					d->backups[1], "backup_offsite", d->backups[2]));
	}
	json_object_set(o, "daily", days);
	for (int i = 0; i < 3; i++) {
		const struct audit_tier *bt = &r->tier[i];
		json_array_append_new(
			tiers, json_pack("{s:s, s:b, s:I, s:I, s:I, s:b, s:s}", "tier", bt->tier,
					 "configured", bt->configured, "days_with_verified",
					 (json_int_t)bt->days_with, "kept", (json_int_t)bt->kept,
					 "retention_days", (json_int_t)bt->retention_days,
					 "compliant", bt->compliant, "note", bt->note));
	}
	json_object_set(o, "backups", tiers);
	json_object_set_new(o, "restore_drill",
			    json_pack("{s:b, s:b, s:f, s:s, s:s}", "done", r->drill_done, "ok",
				      r->drill_ok, "seconds", r->drill_seconds, "backup",
				      r->drill_location, "detail", r->drill_detail));
	*out = json_dumps(o, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
	json_decref(t);
	json_decref(bad);
	json_decref(sy);
	json_decref(days);
	json_decref(tiers);
	json_decref(o);
	if (!*out)
		return ck_err_set(err, CK_ENOMEM, "audit: out of memory formatting JSON");
	return 0;
oom:
	json_decref(t);
	json_decref(bad);
	json_decref(sy);
	json_decref(days);
	json_decref(tiers);
	json_decref(o);
	return ck_err_set(err, CK_ENOMEM, "audit: out of memory formatting JSON");
}

/* ---- HTML -------------------------------------------------------------------------------- */

static void html_esc(FILE *f, const char *s)
{
	for (; *s; s++) {
		switch (*s) {
		case '<':
			fputs("&lt;", f);
			break;
		case '>':
			fputs("&gt;", f);
			break;
		case '&':
			fputs("&amp;", f);
			break;
		case '"':
			fputs("&quot;", f);
			break;
		default:
			fputc(*s, f);
		}
	}
}

/* The chart: per day a bar of scheduled syncs met (%) and a line of time fresh (%),
 * days without a successful sync shaded; the worst lag per day as a second panel. */
static void html_chart(FILE *f, const struct audit_report *r, int64_t rpo_ms)
{
	const int W = 1080, H = 300, L = 48, R = 16, T = 20, B = 40, H2 = 120;
	double cw = (double)(W - L - R) / (double)r->days;
	int64_t lag_max = 0;
	char d[32];

	for (int64_t i = 0; i < r->days; i++)
		if (r->day[i].lag_worst_ms > lag_max)
			lag_max = r->day[i].lag_worst_ms;
	if (lag_max < 4 * 3600000)
		lag_max = 4 * 3600000;
	fprintf(f,
		"<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%d\" height=\"%d\" "
		"viewBox=\"0 0 %d %d\" role=\"img\" aria-label=\"daily sync coverage and "
		"freshness\">\n",
		W, H + H2 + 30, W, H + H2 + 30);
	fprintf(f, "<rect x=\"0\" y=\"0\" width=\"%d\" height=\"%d\" fill=\"#fff\"/>\n", W,
		H + H2 + 30);
	/* grid and axis of the top panel: 0..100 % */
	for (int p = 0; p <= 100; p += 25) {
		double y = T + (double)(H - T - B) * (1.0 - p / 100.0);
		fprintf(f,
			"<line x1=\"%d\" x2=\"%d\" y1=\"%.1f\" y2=\"%.1f\" stroke=\"#e3e3e3\"/>"
			"<text x=\"%d\" y=\"%.1f\" font-size=\"11\" text-anchor=\"end\" "
			"fill=\"#555\">%d%%</text>\n",
			L, W - R, y, y, L - 6, y + 4, p);
	}
	for (int64_t i = 0; i < r->days; i++) {
		const struct audit_day *dy = &r->day[i];
		double x = L + cw * (double)i, h = (double)(H - T - B);
		double pct = dy->slots ? 100.0 * (double)dy->slots_met / (double)dy->slots : 0.0;
		if (!dy->runs_ok)
			fprintf(f,
				"<rect x=\"%.1f\" y=\"%d\" width=\"%.1f\" height=\"%d\" "
				"fill=\"#fde2e1\"/>\n",
				x, T, cw, H - T - B);
		fprintf(f,
			"<rect x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%.1f\" fill=\"%s\">"
			"<title>%s: %" PRId64 "/%" PRId64 " scheduled syncs met</title></rect>\n",
			x + cw * 0.15, T + h * (1.0 - pct / 100.0), cw * 0.7, h * pct / 100.0,
			pct >= 99.99 ? "#4c9a5b"
			: pct > 0    ? "#e0a030"
				     : "#d04040",
			utc_date(dy->start, d, sizeof(d)), dy->slots_met, dy->slots);
		if (i % 5 == 0 || i == r->days - 1)
			fprintf(f,
				"<text x=\"%.1f\" y=\"%d\" font-size=\"11\" text-anchor=\"middle\" "
				"fill=\"#555\">%s</text>\n",
				x + cw / 2, H - B + 16, utc_date(dy->start, d, sizeof(d)) + 5);
	}
	/* freshness line */
	fputs("<polyline fill=\"none\" stroke=\"#2b6cb0\" stroke-width=\"2.5\" points=\"", f);
	for (int64_t i = 0; i < r->days; i++) {
		double pct = r->day[i].fresh_pct < 0 ? 0 : r->day[i].fresh_pct;
		fprintf(f, "%.1f,%.1f ", L + cw * ((double)i + 0.5),
			T + (double)(H - T - B) * (1.0 - pct / 100.0));
	}
	fputs("\"/>\n", f);
	for (int64_t i = 0; i < r->days; i++) {
		double pct = r->day[i].fresh_pct < 0 ? 0 : r->day[i].fresh_pct;
		fprintf(f,
			"<circle cx=\"%.1f\" cy=\"%.1f\" r=\"3\" fill=\"#2b6cb0\"><title>%s: fresh"
			" %.1f%% of the time</title></circle>\n",
			L + cw * ((double)i + 0.5), T + (double)(H - T - B) * (1.0 - pct / 100.0),
			utc_date(r->day[i].start, d, sizeof(d)), pct);
	}
	/* legend */
	fprintf(f,
		"<g font-size=\"12\" fill=\"#333\"><rect x=\"%d\" y=\"4\" width=\"12\" "
		"height=\"10\" "
		"fill=\"#4c9a5b\"/><text x=\"%d\" y=\"13\">scheduled syncs met (%% of the "
		"day)</text>"
		"<line x1=\"%d\" x2=\"%d\" y1=\"9\" y2=\"9\" stroke=\"#2b6cb0\" "
		"stroke-width=\"2.5\"/>"
		"<text x=\"%d\" y=\"13\">time fresh (%%, newest candle within stale_warn)</text>"
		"<rect x=\"%d\" y=\"4\" width=\"12\" height=\"10\" fill=\"#fde2e1\"/>"
		"<text x=\"%d\" y=\"13\">no successful sync</text></g>\n",
		L, L + 16, L + 250, L + 270, L + 276, L + 590, L + 606);
	/* bottom panel: worst lag per day */
	{
		int y0 = H + 10, ph = H2 - 20;
		char h[32], hours[32];
		/* the axis label in whole hours, so that it fits left of the axis */
		snprintf(hours, sizeof(hours), "%" PRId64 "h", (lag_max + 3599999) / 3600000);
		fprintf(f,
			"<text x=\"%d\" y=\"%d\" font-size=\"12\" fill=\"#333\">worst staleness "
			"per day"
			" (how long a closed candle waited to be stored; red: over the RPO, "
			"%s)</text>\n",
			L, y0 - 4, dur_format(rpo_ms, DUR_CLOCK, h, sizeof(h)));
		fprintf(f, "<line x1=\"%d\" x2=\"%d\" y1=\"%d\" y2=\"%d\" stroke=\"#bbb\"/>\n", L,
			W - R, y0 + 8 + ph, y0 + 8 + ph);
		fprintf(f,
			"<line x1=\"%d\" x2=\"%d\" y1=\"%d\" y2=\"%d\" stroke=\"#e3e3e3\"/>"
			"<text x=\"%d\" y=\"%d\" font-size=\"11\" text-anchor=\"end\" "
			"fill=\"#555\">%s</text>"
			"<text x=\"%d\" y=\"%d\" font-size=\"11\" text-anchor=\"end\" "
			"fill=\"#555\">0</text>\n",
			L, W - R, y0 + 8, y0 + 8, L - 6, y0 + 12, hours, L - 6, y0 + 12 + ph);
		for (int64_t i = 0; i < r->days; i++) {
			double v = (double)r->day[i].lag_worst_ms / (double)lag_max;
			fprintf(f,
				"<rect x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%.1f\" "
				"fill=\"%s\">"
				"<title>%s: worst %s</title></rect>\n",
				L + cw * (double)i + cw * 0.15, y0 + 8 + ph * (1.0 - v), cw * 0.7,
				ph * v, r->day[i].lag_worst_ms > rpo_ms ? "#d04040" : "#8aa4c8",
				utc_date(r->day[i].start, d, sizeof(d)),
				dur_format(r->day[i].lag_worst_ms, DUR_CLOCK, h, sizeof(h)));
		}
	}
	fputs("</svg>\n", f);
}

int audit_write_html(const struct audit_report *r, const struct cfg *c, const char *path,
		     struct ck_err *err)
{
	struct afile af;
	FILE *f;
	char a[32], b[32];

	if (afile_open(&af, path, (int)cfg_export_mode(c), err))
		return err->code;
	f = af.f;
	fprintf(f,
		"<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\n"
		"<title>candlekeep SLA audit %s .. %s</title>\n<style>\n"
		"body{font-family:system-ui,-apple-system,'Segoe UI',Helvetica,Arial,sans-serif;"
		"margin:24px;color:#222;background:#fafafa}\n"
		"h1{font-size:22px;margin:0 0 4px}h2{font-size:17px;margin:22px 0 8px}\n"
		".sub{color:#666;margin-bottom:14px}\n"
		"table{border-collapse:collapse;background:#fff;font-size:13px}\n"
		"td,th{border:1px solid #ddd;padding:4px "
		"9px;text-align:left}th{background:#f0f0f0}\n"
		"td.n{text-align:right;font-variant-numeric:tabular-nums}\n"
		".met{color:#fff;background:#3f8f4f;font-weight:600}"
		".breached{color:#fff;background:#c53030;font-weight:600}\n"
		".verdict{display:inline-block;padding:6px 12px;border-radius:4px;font-weight:700;"
		"margin:6px 0 10px}\n.card{background:#fff;border:1px solid #ddd;padding:10px;"
		"display:inline-block}\n</style></head><body>\n",
		kline_time_str(r->from, a, sizeof(a)), kline_time_str(r->to, b, sizeof(b)));
	fprintf(f,
		"<h1>candlekeep SLA audit</h1>\n<div class=\"sub\">%s .. %s UTC, %" PRId64
		" days, database ",
		a, b, r->days);
	html_esc(f, c->db);
	fprintf(f, "</div>\n<div class=\"verdict %s\">%s</div>\n", r->all_met ? "met" : "breached",
		r->all_met ? "All SLA targets met" : "SLA targets breached");
	fputs("<table><tr><th>target</th><th>verdict</th><th>measured</th><th>objective</th>"
	      "<th>how</th></tr>\n",
	      f);
	for (size_t i = 0; i < r->ntarget; i++) {
		fprintf(f, "<tr><td>%s</td><td class=\"%s\">%s</td><td class=\"n\">",
			r->target[i].name, r->target[i].met ? "met" : "breached",
			r->target[i].met ? "MET" : "BREACHED");
		html_esc(f, r->target[i].measured);
		fputs("</td><td>", f);
		html_esc(f, r->target[i].target);
		fputs("</td><td>", f);
		html_esc(f, r->target[i].detail);
		fputs("</td></tr>\n", f);
	}
	fputs("</table>\n<h2>Daily sync coverage and freshness</h2>\n<div class=\"card\">\n", f);
	html_chart(f, r, c->sla_rpo_s * 1000);
	fprintf(f,
		"</div>\n<h2>Sync coverage</h2>\n<p>%" PRId64 "/%" PRId64 " days with a successful"
		" sync; %" PRId64 " runs, %" PRId64 " ok; scheduled syncs met %" PRId64 "/%" PRId64
		" (",
		r->days_synced, r->days, r->runs_total, r->runs_ok, r->slots_met, r->slots);
	html_esc(f, r->schedule);
	fputs(").</p>\n", f);
	if (r->nbad) {
		fputs("<table><tr><th>run</th><th>command</th><th>started (UTC)</th><th>status</th>"
		      "<th>error</th></tr>\n",
		      f);
		for (size_t i = 0; i < r->nbad; i++) {
			fprintf(f,
				"<tr><td class=\"n\">%" PRId64
				"</td><td>%s</td><td>%s%s</td><td>%s</td><td>",
				r->bad[i].id, r->bad[i].command, r->bad[i].estimated ? "~" : "",
				kline_time_str(r->bad[i].at, a, sizeof(a)),
				run_status_name(r->bad[i].status));
			html_esc(f, r->bad[i].error);
			fputs("</td></tr>\n", f);
		}
		fputs("</table>\n", f);
	}
	fputs("<h2>Per symbol</h2>\n<table><tr><th>symbol</th><th>worst lag</th><th>p99 lag</th>"
	      "<th>worst age</th><th>expected</th><th>stored</th><th>holes</th><th>missing</th>"
	      "<th>gaps</th></tr>\n",
	      f);
	for (size_t i = 0; i < r->nsym; i++) {
		const struct audit_symbol *s = &r->sym[i];
		char w[32];
		fprintf(f,
			"<tr><td>%s</td><td class=\"n\">%s</td><td class=\"n\">%s</td>"
			"<td class=\"n\">%s</td><td class=\"n\">%" PRId64
			"</td><td class=\"n\">%" PRId64 "</td><td class=\"n\">%" PRId64
			"</td><td class=\"n\">%" PRId64 "</td><td>",
			s->symbol, dur_format(s->lag_worst_ms, DUR_CLOCK, a, sizeof(a)),
			dur_format(s->lag_p99_ms, DUR_CLOCK, b, sizeof(b)),
			dur_format(s->age_worst_ms, DUR_CLOCK, w, sizeof(w)), s->expected,
			s->stored, s->holes, s->missing);
		for (size_t g = 0; g < s->ngaps && g < 10; g++)
			fprintf(f, "%s%s (%" PRId64 ")", g ? "<br>" : "",
				kline_time_str(s->gaps[g].first, a, sizeof(a)), s->gaps[g].count);
		fputs("</td></tr>\n", f);
	}
	fputs("</table>\n<h2>Backups</h2>\n<table><tr><th>tier</th><th>days with a verified backup"
	      "</th><th>kept</th><th>retention</th><th>compliance</th><th>note</th></tr>\n",
	      f);
	for (int t = 0; t < 3; t++) {
		const struct audit_tier *bt = &r->tier[t];
		fprintf(f,
			"<tr><td>%s</td><td class=\"n\">%" PRId64 "/%" PRId64
			"</td><td class=\"n\">%" PRId64 "</td><td class=\"n\">%" PRId64
			" days</td><td class=\"%s\">%s</td><td>",
			bt->tier, bt->days_with, r->days, bt->kept, bt->retention_days,
			!bt->configured ? ""
			: bt->compliant ? "met"
					: "breached",
			!bt->configured ? "not configured"
			: bt->compliant ? "compliant"
					: "not compliant");
		html_esc(f, bt->note);
		fputs("</td></tr>\n", f);
	}
	fputs("</table>\n<h2>Restore drill</h2>\n<p>", f);
	if (r->drill_done) {
		fprintf(f, "%.1f s: ", r->drill_seconds);
		html_esc(f, r->drill_detail);
		if (r->drill_location[0]) {
			fputs(" (", f);
			html_esc(f, r->drill_location);
			fputs(")", f);
		}
	} else {
		fputs("not run", f);
	}
	fputs("</p>\n</body></html>\n", f);
	if (ferror(f)) {
		afile_abort(&af);
		return ck_err_set(err, CK_EIO, "write %s: %s", path, strerror(errno));
	}
	return afile_commit(&af, err);
}
