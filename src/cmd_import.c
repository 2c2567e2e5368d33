/* cmd_import.c — `candlekeep import FILE...`: Binance public-archive CSVs (12 or 9
 * columns, with or without a header), validated like API data and stored with the
 * same upsert, so importing twice changes nothing. The symbol and interval come from
 * the file name (SYMBOL-INTERVAL[-...].csv) or --symbol / --interval. A file with an
 * invalid line stores nothing from the page that holds it and is reported. */
#include <getopt.h>
#include <inttypes.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "archive.h"
#include "cmd.h"
#include "kline.h"
#include "store.h"
#include "banned.h"

#define IMPORT_PAGE 5000 /* candles per transaction */

static int name_parts(const char *path, char *sym, size_t ssz, char *iv, size_t isz)
{
	char buf[4096], *base, *dash, *rest;
	snprintf(buf, sizeof(buf), "%s", path);
	base = basename(buf);
	if (!(dash = strchr(base, '-')))
		return -1;
	*dash = 0;
	rest = dash + 1;
	rest[strcspn(rest, "-.")] = 0;
	snprintf(sym, ssz, "%s", base);
	snprintf(iv, isz, "%s", rest);
	return cfg_symbol_valid(sym) && kline_interval_ms(iv) ? 0 : -1;
}

static int import_file(struct ctx *ctx, const char *path, const char *symbol_flag,
		       int64_t *total_written, int64_t *total_same)
{
	char sym[32], iv[16], line[1024];
	struct kline *page;
	struct ck_err err = {0, ""};
	struct store_page_result pr;
	size_t n = 0;
	int64_t lineno = 0, iv_ms, now = now_ms(), written = 0, same = 0, revised = 0, skipped = 0;
	FILE *f;
	int rc = 0;
	struct archive_import ai;

	/* A file as the archive publishes it (SYM-IV-YYYY-MM[-DD].zip or .csv): verified whole. */
	if (!symbol_flag && (rc = archive_import(ctx->st, path, now, &ai, &err)) != 1) {
		if (rc)
			fprintf(stderr, "candlekeep import: %s: %s (nothing of it was stored)\n",
				path, err.msg);
		printf("%s: %s %s: %" PRId64 " written, %" PRId64 " unchanged, %" PRId64
		       " revised, %" PRId64 " still forming (skipped)%s%s\n",
		       path, ai.symbol, ai.interval, ai.written, ai.same, ai.revised, ai.forming,
		       ai.checksum ? ", checksum ok" : "", rc ? ", FAILED" : "");
		*total_written += ai.written;
		*total_same += ai.same;
		return rc ? 1 : 0;
	}
	rc = 0;
	if (name_parts(path, sym, sizeof(sym), iv, sizeof(iv))) {
		if (!symbol_flag) {
			fprintf(stderr,
				"candlekeep import: %s: cannot tell the symbol and interval from "
				"the"
				" name (expected SYMBOL-INTERVAL.csv, e.g. BTCUSDT-4h.csv); pass "
				"--symbol\n",
				path);
			return 2;
		}
		snprintf(iv, sizeof(iv), "%s", ctx->cfg.interval);
	}
	if (symbol_flag)
		snprintf(sym, sizeof(sym), "%s", symbol_flag);
	iv_ms = kline_interval_ms(iv);
	if (!(f = fopen(path, "r"))) {
		fprintf(stderr, "candlekeep import: open %s: %m\n", path);
		return 1;
	}
	if (!(page = malloc(IMPORT_PAGE * sizeof(*page)))) {
		fclose(f);
		fprintf(stderr, "candlekeep import: out of memory\n");
		return 1;
	}
	for (;;) {
		int eof = !fgets(line, sizeof(line), f);
		if (!eof) {
			size_t len = strlen(line);
			lineno++;
			if (len == sizeof(line) - 1 && line[len - 1] != '\n') {
				fprintf(stderr,
					"candlekeep import: %s:%" PRId64
					": line longer than %zu bytes;"
					" not a Binance archive CSV\n",
					path, lineno, sizeof(line) - 2);
				rc = 1;
				break;
			}
			while (len && (line[len - 1] == '\n' || line[len - 1] == '\r'))
				line[--len] = 0;
			/* A UTF-8 byte order mark (spreadsheets write one) is not part of the data.
			 */
			if (lineno == 1 && len >= 3 && !memcmp(line, "\xef\xbb\xbf", 3)) {
				memmove(line, line + 3, len - 2);
				len -= 3;
			}
			if (!len)
				continue;
			int r = kline_csv_parse(line, len, &page[n], &err);
			if (r == 1)
				continue; /* header */
			if (r < 0 || kline_validate(&page[n], sym, iv_ms, 0, INT64_MAX, &err)) {
				fprintf(stderr,
					"candlekeep import: %s:%" PRId64
					": %s (nothing from this page"
					" was stored; fix or remove the line and import again)\n",
					path, lineno, err.msg);
				rc = 1;
				break;
			}
			if (page[n].close_time >= now) {
				skipped++; /* still forming: never stored as final */
				continue;
			}
			n++;
		}
		if (n && (n == IMPORT_PAGE || eof)) {
			if (kline_validate_page(page, n, sym, iv_ms, 0, INT64_MAX, &err) ||
			    store_put_page(ctx->st, sym, iv, page, n, &pr, &err)) {
				fprintf(stderr, "candlekeep import: %s near line %" PRId64 ": %s\n",
					path, lineno, err.msg);
				rc = 1;
				break;
			}
			written += pr.written;
			same += pr.same;
			revised += pr.revised;
			n = 0;
		}
		if (eof)
			break;
	}
	if (ferror(f)) {
		fprintf(stderr, "candlekeep import: read %s: %m\n", path);
		rc = 1;
	}
	fclose(f);
	free(page);
	printf("%s: %s %s: %" PRId64 " written, %" PRId64 " unchanged, %" PRId64
	       " revised, %" PRId64 " still forming (skipped)%s\n",
	       path, sym, iv, written, same, revised, skipped, rc ? ", FAILED" : "");
	*total_written += written;
	*total_same += same;
	return rc;
}

static const struct cmd_opt import_opts[] = {
	{.name = "symbol",
	 .id = 's',
	 .arg = "S",
	 .help = "the files' symbol (default: from each name, SYMBOL-INTERVAL.csv)"},
	{.name = NULL},
};

static int cmd_import_run(struct ctx *ctx)
{
	const char *symbol = NULL;
	int c, i, rc = 0;
	int64_t written = 0, same = 0;

	optind = 1;
	while ((c = cmd_getopt(ctx)) != -1) {
		if (c == 's') {
			symbol = optarg;
		} else {
			fprintf(stderr,
				"candlekeep import: unknown flag (see candlekeep import --help)\n");
			return EXIT_USAGE;
		}
	}
	if (optind >= ctx->argc) {
		fprintf(stderr, "candlekeep import: name at least one CSV file\n");
		return EXIT_USAGE;
	}
	if (symbol && !cfg_symbol_valid(symbol)) {
		fprintf(stderr, "candlekeep import: --symbol %s: not a valid symbol (A-Z, 0-9)\n",
			symbol);
		return EXIT_USAGE;
	}
	for (i = optind; i < ctx->argc; i++) {
		int r = import_file(ctx, ctx->argv[i], symbol, &written, &same);
		if (r > rc)
			rc = r;
		if (*ctx->stop)
			break;
	}
	printf("import: %" PRId64 " candles written, %" PRId64 " unchanged\n", written, same);
	return rc;
}

const struct cmd cmd_import = {
	.name = "import",
	.operands = "FILE...",
	.summary = "load Binance archive CSV files (validated, idempotent)",
	.flags = CMD_NEEDS_DB | CMD_TAKES_LOCK,
	.opts = import_opts,
	.run = cmd_import_run,
};
