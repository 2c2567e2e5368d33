/* cmd_gaps.c — `candlekeep gaps`: missing candles per symbol, and confirmed exchange
 * holes listed as such with their evidence, read from the coverage ledger. Exit 0 when
 * nothing is missing, 1 when something is. `gaps --recheck` first re-verifies every
 * confirmed hole and every symbol's listing start with a sync run (taking the run lock,
 * opening read-write); its exit code is the sync's when that fails. `gaps --verify`
 * first re-reads the public-archive files the exchange amended since they were stored
 * (with [archive] enabled: their .CHECKSUM changed; differences stored as counted
 * revisions, under the run lock), then rebuilds the ledger from the candles (opening
 * read-write), prints each row where they disagreed and repairs it: exit 3 when there
 * was one, or an amended file revised a stored candle. */
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "archive.h"
#include "cmd.h"
#include "interval.h"
#include "kline.h"
#include "lock.h"
#include "store.h"
#include "sync.h"
#include "banned.h"

/* Re-verifies holes and starts: the database read-write under the run lock, then one
 * sync run with recheck set. Returns the sync's exit code (or 1, 75). */
static int recheck(struct ctx *ctx)
{
	struct ck_err err = {0, ""};
	struct sync_opts o;
	int rc;

	if (lock_acquire(&ctx->lock, ctx->cfg.db, "gaps --recheck", cfg_file_mode(&ctx->cfg),
			 &err)) {
		fprintf(stderr, "candlekeep gaps: %s\n", err.msg);
		return err.code == CK_ELOCKED ? EXIT_LOCKED : 1;
	}
	store_close(ctx->st);
	ctx->st = NULL;
	if (store_open(&ctx->st, ctx->cfg.db, 0, &err)) {
		fprintf(stderr, "candlekeep gaps: %s\n", err.msg);
		return 1;
	}
	if (ctx->cfg.timeout_s > 0)
		ctx->deadline_ms = mono_ms() + ctx->cfg.timeout_s * 1000;
	memset(&o, 0, sizeof(o));
	o.recheck = 1;
	rc = cmd_sync_common(ctx, "sync", &o);
	return rc;
}

/* Amended public-archive files (archive_recheck): the catalogued files of the symbols
 * stored in the interval whose .CHECKSUM changed are read again, checked as a backfill
 * checks them, and their differences stored as counted revisions. Under the run lock
 * (it writes candles); skipped with a note when another run holds it. *revised: the
 * candles revised. 0, or 1 on an error. */
static int verify_archive(struct ctx *ctx, FILE *out, int64_t *revised)
{
	struct ck_err err = {0, ""};
	struct archive_opts o;
	struct archive_stats as = {0};
	char **syms = NULL;
	size_t n = 0;
	int rc;

	*revised = 0;
	if (!ctx->cfg.archive_enabled || interval_is_month(ctx->cfg.interval_ms))
		return 0; /* 1M: the archive is not read for calendar months (see sync) */
	if (!ctx->lock && lock_acquire(&ctx->lock, ctx->cfg.db, "gaps --verify",
				       cfg_file_mode(&ctx->cfg), &err)) {
		fprintf(stderr, "candlekeep gaps: %s%s\n", err.msg,
			err.code == CK_ELOCKED ? " (public archive files not re-checked: a later"
						 " backfill or gaps --verify does it)"
					       : "");
		return err.code == CK_ELOCKED ? 0 : 1;
	}
	if (store_symbols(ctx->st, ctx->cfg.interval, &syms, &n, &err)) {
		fprintf(stderr, "candlekeep gaps: %s\n", err.msg);
		return 1;
	}
	archive_opts_init(&o, &ctx->cfg, now_local_ms());
	rc = archive_recheck(&o, ctx->st, (const char *const *)syms, n, &as, &err);
	store_symbols_free(syms, n);
	if (rc) {
		fprintf(stderr, "candlekeep gaps: %s\n", err.msg);
		return 1;
	}
	fprintf(out,
		"public archive of %s: %" PRId64 " amended files read again, %" PRId64
		" stored candles revised%s\n",
		ctx->cfg.interval, as.amended, as.revised,
		as.files_failed ? " (some failed a check: see the warnings)" : "");
	*revised = as.revised;
	return 0;
}

/* Rebuilds the interval's ledger from the candles: each disagreement on out (stdout,
 * stderr beside --json), the ledger repaired. 0 agreed, 3 disagreed (repaired), 1 error. */
static int verify(struct ctx *ctx, FILE *out)
{
	struct ck_err err = {0, ""};
	struct store_ledger_diff *d = NULL;
	size_t n = 0, i;
	int64_t revised = 0;

	store_close(ctx->st);
	ctx->st = NULL;
	if (store_open(&ctx->st, ctx->cfg.db, 0, &err)) {
		fprintf(stderr, "candlekeep gaps: %s\n", err.msg);
		return 1;
	}
	if (verify_archive(ctx, out, &revised))
		return 1;
	if (!store_keeps_ledger(ctx->st)) {
		fprintf(out,
			"coverage ledger of %s: none on this database (%s): gaps are read from "
			"the candles themselves, nothing to verify\n",
			ctx->cfg.interval, store_backend_name(ctx->st));
		return revised ? 3 : 0;
	}
	if (store_ledger_verify(ctx->st, ctx->cfg.interval, ctx->cfg.interval_ms, &d, &n, &err)) {
		fprintf(stderr, "candlekeep gaps: %s\n", err.msg);
		return 1;
	}
	for (i = 0; i < n; i++) {
		char a[32], b[32], what[64];
		if (d[i].hole)
			snprintf(what, sizeof(what), "a confirmed exchange hole");
		else
			snprintf(what, sizeof(what), "%" PRId64 " stored candles in a run",
				 d[i].candles);
		fprintf(out, "ledger disagrees: %-16s %s .. %s UTC  %s: %s; %s: not so\n",
			d[i].symbol, kline_time_str(d[i].first, a, sizeof(a)),
			kline_time_str(d[i].last, b, sizeof(b)),
			d[i].in_ledger ? "ledger says" : (d[i].hole ? "holes say" : "candles say"),
			what,
			d[i].in_ledger ? (d[i].hole ? "holes say" : "candles say") : "ledger says");
	}
	fprintf(out, "coverage ledger of %s: %zu rows disagreed with the candles and holes%s\n",
		ctx->cfg.interval, n, n ? " (repaired from them)" : "");
	free(d);
	return n || revised ? 3 : 0;
}

static const struct cmd_opt gaps_opts[] = {
	{.name = "json", .id = 'j', .help = "the list as a JSON array"},
	{.name = "missing-only", .id = 'm', .help = "leave out confirmed exchange holes"},
	{.name = "recheck",
	 .id = 'r',
	 .help = "first re-verify every hole and listing start with a sync run (takes the run "
		 "lock)"},
	{.name = "verify",
	 .id = 'v',
	 .help = "first re-read the public-archive files the exchange amended since they were "
		 "stored (a changed .CHECKSUM; with [archive] enabled), then rebuild the coverage "
		 "ledger from the stored candles, print where it disagreed and repair it (exit 3 "
		 "then; PostgreSQL keeps no ledger: the archive part only)"},
	{.name = NULL},
};

/* The gaps of the interval being worked on (ctx->cfg.interval): one line each (or a
 * JSON object, *first 1 before the first of the array), then the interval's summary
 * line, named by the interval when several are listed. *missing: the candles missing. */
static int list_gaps(struct ctx *ctx, int json, int missing_only, int several, int *first,
		     int64_t *missing)
{
	struct ck_err err = {0, ""};
	struct store_gap *g = NULL;
	size_t n = 0, i;
	int64_t holes = 0;

	*missing = 0;
	if (store_gaps(ctx->st, NULL, ctx->cfg.interval, ctx->cfg.interval_ms, 0, INT64_MAX,
		       !missing_only, &g, &n, &err)) {
		fprintf(stderr, "candlekeep gaps: %s\n", err.msg);
		return 1;
	}
	for (i = 0; i < n; i++) {
		char a[32], b[32];
		const char *sep = *first ? "" : ",";
		if (json)
			*first = 0;
		if (g[i].confirmed)
			holes += g[i].count;
		else
			*missing += g[i].count;
		kline_time_str(g[i].first, a, sizeof(a));
		kline_time_str(g[i].last, b, sizeof(b));
		if (json && g[i].confirmed)
			printf("%s{\"symbol\":\"%s\",\"interval\":\"%s\",\"first_open\":%" PRId64
			       ",\"last_open\":%" PRId64 ",\"candles\":%" PRId64 ",\"kind\":\"%s\","
			       "\"first_seen\":%" PRId64 ",\"second_seen\":%" PRId64
			       ",\"runs\":%" PRId64 "}",
			       sep, g[i].symbol, ctx->cfg.interval, g[i].first, g[i].last,
			       g[i].count, "exchange_hole", g[i].first_seen, g[i].second_seen,
			       g[i].runs);
		else if (json)
			printf("%s{\"symbol\":\"%s\",\"interval\":\"%s\",\"first_open\":%" PRId64
			       ",\"last_open\":%" PRId64 ",\"candles\":%" PRId64
			       ",\"kind\":\"%s\"}",
			       sep, g[i].symbol, ctx->cfg.interval, g[i].first, g[i].last,
			       g[i].count, "missing");
		else if (g[i].confirmed) {
			char s1[32], s2[32];
			printf("%-16s %s .. %s UTC  %5" PRId64 " candles  exchange hole (confirmed:"
			       " empty on %" PRId64 " runs, %s and %s UTC; not re-fetched)\n",
			       g[i].symbol, a, b, g[i].count, g[i].runs,
			       kline_time_str(g[i].first_seen, s1, sizeof(s1)),
			       kline_time_str(g[i].second_seen, s2, sizeof(s2)));
		} else
			printf("%-16s %s .. %s UTC  %5" PRId64 " candles  %s\n", g[i].symbol, a, b,
			       g[i].count, "MISSING (the next sync repairs it)");
	}
	if (!json)
		printf("%s%s%" PRId64 " candles missing, %" PRId64 " in confirmed exchange holes\n",
		       several ? ctx->cfg.interval : "", several ? ": " : "", *missing, holes);
	free(g);
	return 0;
}

static int cmd_gaps_run(struct ctx *ctx)
{
	size_t k, nk = ctx->cfg.nintervals ? ctx->cfg.nintervals : 1;
	int c, json = 0, missing_only = 0, re = 0, ve = 0, rc = 0, vrc = 0, first = 1;
	int64_t missing = 0;

	optind = 1;
	while ((c = cmd_getopt(ctx)) != -1) {
		if (c == 'j')
			json = 1;
		else if (c == 'm')
			missing_only = 1;
		else if (c == 'r')
			re = 1;
		else if (c == 'v')
			ve = 1;
		else {
			fprintf(stderr,
				"candlekeep gaps: unknown flag (see candlekeep gaps --help)\n");
			return EXIT_USAGE;
		}
	}
	if (re && (rc = recheck(ctx)) != 0 && rc != 1)
		return rc;
	/* each configured interval in turn (one unless [main] intervals lists several) */
	for (k = 0; k < nk; k++) {
		cfg_interval_use(&ctx->cfg, k);
		if (ve) {
			int v = verify(ctx, json ? stderr : stdout);
			if (v == 1)
				return 1;
			if (v > vrc)
				vrc = v;
		}
	}
	if (json)
		printf("[");
	for (k = 0; k < nk; k++) {
		int64_t m = 0;
		cfg_interval_use(&ctx->cfg, k);
		if (list_gaps(ctx, json, missing_only, nk > 1, &first, &m))
			return 1;
		missing += m;
	}
	cfg_interval_use(&ctx->cfg, 0);
	if (json)
		printf("]\n");
	if (vrc)
		return vrc;
	return missing ? 1 : 0;
}

const struct cmd cmd_gaps = {
	.name = "gaps",
	.summary = "list missing candles per symbol (and confirmed exchange holes)",
	.flags = CMD_READS_DB,
	.notes = "exit: 0 nothing missing, 1 something is, 3 --verify found the coverage ledger "
		 "wrong (and repaired it) or an amended archive file revised stored candles",
	.opts = gaps_opts,
	.run = cmd_gaps_run,
};
