/* store_pg_rows.c — the PostgreSQL backend's run records, events, alerts and their
 * outbox, the archive and backup catalogues and the metrics aggregates: the same
 * statements as store.c and store_{health,event,alert,archive,backup,metrics}.c, in
 * PostgreSQL's dialect (see store_pg.c). */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <libpq-fe.h>

#include "redact.h"
#include "store.h"
#include "store_int.h" /* store_grow */
#include "store_pg_int.h"
#include "banned.h"

/* ---- runs ---- */

int pg_run_begin(struct store *st, const char *command, const char *interval, int64_t now_ms,
		 int64_t *id, struct ck_err *err)
{
	char a[24], b[24];
	const char *v[] = {command, pg_i64(a, now_ms), pg_i64(b, (int64_t)getpid()), interval};
	PGresult *r;

	/* A plain INSERT is not sent again after a reconnect (pgq): the first may have
	 * committed just before the connection dropped. The run's record is then looked up
	 * by what this process wrote into it (its start in ms and pid), and inserted only
	 * if it is not there: one record either way. */
	r = pgq(st,
		"INSERT INTO runs (command, started, status, pid, market, interval)"
		" VALUES ($1, $2, 'running', $3, ck_market(), $4) RETURNING id",
		4, v, "record run in", err);
	if (!r && err->code == CK_ELOST)
		r = pgq(st,
			"WITH old AS (SELECT id FROM runs WHERE command = $1 AND started = $2 AND"
			" pid = $3 AND status = 'running' AND market = ck_market() AND"
			" interval = $4), new AS (INSERT INTO runs (command, started, status, pid,"
			" market, interval) SELECT $1, $2, 'running', $3, ck_market(), $4 WHERE"
			" NOT EXISTS (SELECT 1 FROM old) RETURNING id)"
			" SELECT id FROM old UNION ALL SELECT id FROM new",
			4, v, "record run in", err);
	if (!r)
		return err->code;
	if (PQntuples(r) != 1) {
		int nr = PQntuples(r);
		PQclear(r);
		return ck_err_set(err, CK_ECORRUPT,
				  "record run in the database: %d running records of this process",
				  nr);
	}
	*id = pg_int(r, 0, 0);
	PQclear(r);
	return 0;
}

int pg_run_abandon(struct store *st, const char *command, struct ck_err *err)
{
	const char *v[] = {command};

	return pgx(st,
		   "UPDATE runs SET status = 'failed', exit_code = -1, error = 'the process"
		   " ended before finishing this record (killed, crashed or out of disk)'"
		   " WHERE status = 'running' AND command = $1",
		   1, v, "close abandoned runs in", err);
}

int pg_run_symbol(struct store *st, int64_t id, const char *symbol, const char *status,
		  int64_t written, int64_t revised, int64_t newest_open, const char *error,
		  struct ck_err *err)
{
	char b[4][24], masked[1024];
	const char *v[] = {pg_i64(b[0], id),
			   symbol,
			   status,
			   pg_i64(b[1], written),
			   pg_i64(b[2], revised),
			   newest_open ? pg_i64(b[3], newest_open) : NULL,
			   error ? redact_copy(error, masked, sizeof(masked)) : NULL};

	return pgx(st,
		   "INSERT INTO run_symbols (run_id, symbol, status, candles_written,"
		   " candles_revised, newest_open, error, market, interval)"
		   " SELECT $1, $2, $3, $4, $5, $6, $7, market, interval FROM runs WHERE id = $1"
		   " ON CONFLICT (run_id, symbol) DO UPDATE SET status = excluded.status,"
		   " candles_written = excluded.candles_written,"
		   " candles_revised = excluded.candles_revised,"
		   " newest_open = excluded.newest_open, error = excluded.error",
		   7, v, "record symbol outcome in", err);
}

int pg_run_end(struct store *st, int64_t id, enum run_status status, int exit_code, int64_t now_ms,
	       const struct run_counts *c, const char *error, struct ck_err *err)
{
	static const struct run_counts zero;
	char b[17][24], masked[1024];

	if (!c)
		c = &zero;
	const char *v[] = {pg_i64(b[0], id), pg_i64(b[1], now_ms), run_status_name(status),
			   pg_i64(b[2], exit_code), pg_i64(b[3], c->candles_written),
			   pg_i64(b[4], c->candles_revised), pg_i64(b[5], c->requests),
			   pg_i64(b[6], c->retries), pg_i64(b[7], c->http_429),
			   pg_i64(b[8], c->http_418), pg_i64(b[9], c->http_5xx),
			   pg_i64(b[10], c->net_errors), pg_i64(b[11], c->symbols_ok),
			   pg_i64(b[12], c->symbols_failed), pg_i64(b[13], c->symbols_skipped),
			   pg_i64(b[14], c->weight_used_max),
			   /* a record is output too: never a URL's password in it */
			   error ? redact_copy(error, masked, sizeof(masked)) : NULL,
			   c->server_time ? pg_i64(b[15], c->server_time) : NULL};
	return pgx(st,
		   "UPDATE runs SET ended = $2, status = $3, exit_code = $4,"
		   " candles_written = $5, candles_revised = $6, requests = $7, retries = $8,"
		   " http_429 = $9, http_418 = $10, http_5xx = $11, net_errors = $12,"
		   " symbols_ok = $13, symbols_failed = $14, symbols_skipped = $15,"
		   " weight_used_max = $16, error = $17, server_time = $18 WHERE id = $1",
		   18, v, "finish run record in", err);
}

int pg_runs(struct store *st, const char *command, const char *interval, int64_t since_ms,
	    size_t max, struct store_run **out, size_t *n, struct ck_err *err)
{
	char a[24], b[24];
	const char *v[] = {command, pg_i64(a, since_ms), pg_i64(b, (int64_t)max), interval};
	struct store_run *runs;
	PGresult *r;
	int i;

	*out = NULL;
	*n = 0;
	if (!max)
		return 0;
	if (!(r = pgq(st,
		      "SELECT id, command, started, coalesce(ended, 0), status,"
		      " coalesce(exit_code, -1), candles_written, candles_revised, requests,"
		      " retries, http_429, http_418, http_5xx, net_errors, symbols_ok,"
		      " symbols_failed, symbols_skipped, weight_used_max, coalesce(error, ''),"
		      " coalesce(server_time, 0), market, interval FROM runs"
		      " WHERE ($1::text IS NULL OR command = $1) AND started >= $2"
		      " AND ($4::text IS NULL OR (market = ck_market() AND interval = $4))"
		      " ORDER BY started DESC, id DESC LIMIT $3",
		      4, v, "read runs from", err)))
		return err->code;
	if (!(runs = calloc(max, sizeof(*runs)))) {
		PQclear(r);
		return ck_err_set(err, CK_ENOMEM, "list runs: out of memory");
	}
	for (i = 0; i < PQntuples(r); i++) {
		struct store_run *x = &runs[i];
		x->id = pg_int(r, i, 0);
		pg_copy(x->command, sizeof(x->command), r, i, 1);
		x->started = pg_int(r, i, 2);
		x->ended = pg_int(r, i, 3);
		x->status = run_status_parse(pg_text(r, i, 4));
		x->exit_code = (int)pg_int(r, i, 5);
		x->counts.candles_written = pg_int(r, i, 6);
		x->counts.candles_revised = pg_int(r, i, 7);
		x->counts.requests = pg_int(r, i, 8);
		x->counts.retries = pg_int(r, i, 9);
		x->counts.http_429 = pg_int(r, i, 10);
		x->counts.http_418 = pg_int(r, i, 11);
		x->counts.http_5xx = pg_int(r, i, 12);
		x->counts.net_errors = pg_int(r, i, 13);
		x->counts.symbols_ok = pg_int(r, i, 14);
		x->counts.symbols_failed = pg_int(r, i, 15);
		x->counts.symbols_skipped = pg_int(r, i, 16);
		x->counts.weight_used_max = pg_int(r, i, 17);
		pg_copy(x->error, sizeof(x->error), r, i, 18);
		x->counts.server_time = pg_int(r, i, 19);
		pg_copy(x->market, sizeof(x->market), r, i, 20);
		pg_copy(x->interval, sizeof(x->interval), r, i, 21);
	}
	*n = (size_t)PQntuples(r);
	PQclear(r);
	*out = runs;
	return 0;
}

static int run_symbols_query(struct store *st, const char *sql, int64_t arg,
			     struct store_run_symbol **out, size_t *n, struct ck_err *err)
{
	char a[24];
	const char *v[] = {pg_i64(a, arg)};
	struct store_run_symbol *rs = NULL;
	size_t len = 0, cap = 0;
	PGresult *r;
	int i;

	*out = NULL;
	*n = 0;
	if (!(r = pgq(st, sql, 1, v, "read run symbols from", err)))
		return err->code;
	for (i = 0; i < PQntuples(r); i++) {
		struct store_run_symbol *x;
		if (store_grow(&rs, &cap, len, sizeof(*rs), "read run symbols", err)) {
			PQclear(r);
			free(rs);
			return err->code;
		}
		x = &rs[len++];
		memset(x, 0, sizeof(*x));
		x->run_id = pg_int(r, i, 0);
		pg_copy(x->symbol, sizeof(x->symbol), r, i, 1);
		pg_copy(x->status, sizeof(x->status), r, i, 2);
		x->newest_open = pg_int(r, i, 3);
		pg_copy(x->error, sizeof(x->error), r, i, 4);
	}
	PQclear(r);
	*out = rs;
	*n = len;
	return 0;
}

int pg_run_symbols(struct store *st, int64_t run_id, struct store_run_symbol **out, size_t *n,
		   struct ck_err *err)
{
	return run_symbols_query(
		st,
		"SELECT run_id, symbol, status, coalesce(newest_open, 0),"
		" coalesce(error, '') FROM run_symbols WHERE run_id = $1 ORDER BY symbol",
		run_id, out, n, err);
}

int pg_all_run_symbols(struct store *st, int64_t min_run_id, struct store_run_symbol **out,
		       size_t *n, struct ck_err *err)
{
	return run_symbols_query(
		st,
		"SELECT s.run_id, s.symbol, s.status, coalesce(s.newest_open, 0),"
		" coalesce(s.error, '') FROM run_symbols s JOIN runs r ON r.id = s.run_id"
		" WHERE s.run_id >= $1 AND r.command IN ('sync', 'backfill')"
		" ORDER BY s.run_id, s.symbol",
		min_run_id, out, n, err);
}

int pg_sync_runs(struct store *st, struct store_sync_run **out, size_t *n, struct ck_err *err)
{
	struct store_sync_run *rs = NULL;
	size_t len = 0, cap = 0;
	PGresult *r;
	int i;

	*out = NULL;
	*n = 0;
	if (!(r = pgq(st,
		      "SELECT r.id, r.command, r.started, coalesce(r.ended, 0), r.status,"
		      " coalesce(r.server_time, 0), coalesce(r.error, ''), r.market, r.interval"
		      " FROM runs r WHERE r.command IN ('sync', 'backfill') ORDER BY r.id",
		      0, NULL, "read runs from", err)))
		return err->code;
	for (i = 0; i < PQntuples(r); i++) {
		struct store_sync_run *x;
		if (store_grow(&rs, &cap, len, sizeof(*rs), "read runs", err)) {
			PQclear(r);
			free(rs);
			return err->code;
		}
		x = &rs[len++];
		memset(x, 0, sizeof(*x));
		x->id = pg_int(r, i, 0);
		pg_copy(x->command, sizeof(x->command), r, i, 1);
		x->started = pg_int(r, i, 2);
		x->ended = pg_int(r, i, 3);
		x->status = run_status_parse(pg_text(r, i, 4));
		x->server_time = pg_int(r, i, 5);
		pg_copy(x->error, sizeof(x->error), r, i, 6);
		pg_copy(x->market, sizeof(x->market), r, i, 7);
		pg_copy(x->interval, sizeof(x->interval), r, i, 8);
	}
	PQclear(r);
	*out = rs;
	*n = len;
	return 0;
}

/* ---- events ---- */

int pg_event_add(struct store *st, int64_t at_ms, const char *kind, const char *subject,
		 double value, const char *detail, struct ck_err *err)
{
	char a[24], d[32];
	const char *v[] = {pg_i64(a, at_ms), kind, subject ? subject : "", d, detail};

	snprintf(d, sizeof(d), "%.17g", value);
	return pgx(st,
		   "INSERT INTO events (at, kind, subject, value, detail) VALUES ($1,$2,$3,$4,$5)",
		   5, v, "record event in", err);
}

int pg_events(struct store *st, const char *kind, const char *subject, int64_t since_ms, size_t max,
	      struct store_event **out, size_t *n, struct ck_err *err)
{
	char a[24], b[24];
	const char *v[] = {kind, subject, pg_i64(a, since_ms), pg_i64(b, (int64_t)max)};
	struct store_event *ev;
	PGresult *r;
	int i;

	*out = NULL;
	*n = 0;
	if (!max)
		return 0;
	if (!(r = pgq(st,
		      "SELECT id, at, kind, subject, value, coalesce(detail, '') FROM events"
		      " WHERE kind = $1 AND ($2::text IS NULL OR subject = $2) AND at >= $3"
		      " ORDER BY at DESC, id DESC LIMIT $4",
		      4, v, "read events from", err)))
		return err->code;
	if (!(ev = calloc(max, sizeof(*ev)))) {
		PQclear(r);
		return ck_err_set(err, CK_ENOMEM, "list events: out of memory");
	}
	for (i = 0; i < PQntuples(r); i++) {
		ev[i].id = pg_int(r, i, 0);
		ev[i].at = pg_int(r, i, 1);
		pg_copy(ev[i].kind, sizeof(ev[i].kind), r, i, 2);
		pg_copy(ev[i].subject, sizeof(ev[i].subject), r, i, 3);
		ev[i].value = strtod(pg_text(r, i, 4), NULL);
		pg_copy(ev[i].detail, sizeof(ev[i].detail), r, i, 5);
	}
	*n = (size_t)PQntuples(r);
	PQclear(r);
	*out = ev;
	return 0;
}

int pg_event_count(struct store *st, const char *kind, const char *subject, int64_t *count,
		   struct ck_err *err)
{
	const char *v[] = {kind, subject};
	PGresult *r;

	*count = 0;
	if (!(r = pgq(st,
		      "SELECT count(*) FROM events WHERE kind = $1 AND ($2::text IS NULL OR"
		      " subject = $2)",
		      2, v, "count events in", err)))
		return err->code;
	*count = pg_int(r, 0, 0);
	PQclear(r);
	return 0;
}

/* ---- alerts and the outbox ---- */

#define ALERT_COLS                                                                                 \
	"key, severity, state, coalesce(summary, ''), first_at, last_sent, sends, "                \
	"failures, coalesce(detail, '')"
#define ALERT_COLS_PLAIN                                                                           \
	"key, severity, state, summary, first_at, last_sent, sends, failures, detail"
#define OUTBOX_COLS                                                                                \
	"key, channel, state, delivered, last_sent, attempts, next_at, "                           \
	"claimed_until, claimed_by, sends, failures, coalesce(error, '')"
#define OUTBOX_COLS_PLAIN                                                                          \
	"key, channel, state, delivered, last_sent, attempts, next_at, "                           \
	"claimed_until, claimed_by, sends, failures, error"

static void alert_read(const PGresult *r, int i, struct store_alert *a)
{
	memset(a, 0, sizeof(*a));
	pg_copy(a->key, sizeof(a->key), r, i, 0);
	pg_copy(a->severity, sizeof(a->severity), r, i, 1);
	pg_copy(a->state, sizeof(a->state), r, i, 2);
	pg_copy(a->summary, sizeof(a->summary), r, i, 3);
	a->first_at = pg_int(r, i, 4);
	a->last_sent = pg_int(r, i, 5);
	a->sends = pg_int(r, i, 6);
	a->failures = pg_int(r, i, 7);
	pg_copy(a->detail, sizeof(a->detail), r, i, 8);
}

int pg_alert_get(struct store *st, const char *key, struct store_alert *out, struct ck_err *err)
{
	const char *v[] = {key};
	PGresult *r;

	if (!(r = pgq(st, "SELECT " ALERT_COLS " FROM alerts WHERE key = $1", 1, v,
		      "read alert state from", err)))
		return err->code;
	if (!PQntuples(r)) {
		PQclear(r);
		return ck_err_set(err, CK_ENOTFOUND, "alert %s: no such alert", key);
	}
	alert_read(r, 0, out);
	PQclear(r);
	return 0;
}

int pg_alert_put(struct store *st, const struct store_alert *a, struct ck_err *err)
{
	char b[4][24];
	const char *v[] = {a->key,
			   a->severity,
			   a->state,
			   a->summary,
			   pg_i64(b[0], a->first_at),
			   pg_i64(b[1], a->last_sent),
			   pg_i64(b[2], a->sends),
			   pg_i64(b[3], a->failures),
			   a->detail};

	return pgx(st,
		   "INSERT INTO alerts (" ALERT_COLS_PLAIN ") VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9)"
		   " ON CONFLICT (key) DO UPDATE SET severity = excluded.severity,"
		   " state = excluded.state, summary = excluded.summary,"
		   " first_at = excluded.first_at, last_sent = excluded.last_sent,"
		   " sends = excluded.sends, failures = excluded.failures,"
		   " detail = excluded.detail",
		   9, v, "write alert state to", err);
}

int pg_alert_list(struct store *st, struct store_alert **out, size_t *n, struct ck_err *err)
{
	struct store_alert *al = NULL;
	size_t len = 0, cap = 0;
	PGresult *r;
	int i;

	*out = NULL;
	*n = 0;
	if (!(r = pgq(st,
		      "SELECT key, severity, state, coalesce(summary, ''), first_at, last_sent,"
		      " sends, failures, '' FROM alerts ORDER BY state != 'firing', key",
		      0, NULL, "list alerts in", err)))
		return err->code;
	for (i = 0; i < PQntuples(r); i++) {
		if (store_grow(&al, &cap, len, sizeof(*al), "list alerts", err)) {
			PQclear(r);
			free(al);
			return err->code;
		}
		alert_read(r, i, &al[len++]);
	}
	PQclear(r);
	*out = al;
	*n = len;
	return 0;
}

static void outbox_read(const PGresult *r, int i, struct store_outbox *o)
{
	memset(o, 0, sizeof(*o));
	pg_copy(o->key, sizeof(o->key), r, i, 0);
	pg_copy(o->channel, sizeof(o->channel), r, i, 1);
	pg_copy(o->state, sizeof(o->state), r, i, 2);
	pg_copy(o->delivered, sizeof(o->delivered), r, i, 3);
	o->last_sent = pg_int(r, i, 4);
	o->attempts = pg_int(r, i, 5);
	o->next_at = pg_int(r, i, 6);
	o->claimed_until = pg_int(r, i, 7);
	o->claimed_by = pg_int(r, i, 8);
	o->sends = pg_int(r, i, 9);
	o->failures = pg_int(r, i, 10);
	pg_copy(o->error, sizeof(o->error), r, i, 11);
}

int pg_outbox_get(struct store *st, const char *key, const char *channel, struct store_outbox *out,
		  struct ck_err *err)
{
	const char *v[] = {key, channel};
	PGresult *r;

	if (!(r = pgq(st,
		      "SELECT " OUTBOX_COLS " FROM alert_outbox WHERE key = $1 AND channel = $2", 2,
		      v, "read the alert outbox of", err)))
		return err->code;
	if (!PQntuples(r)) {
		PQclear(r);
		return ck_err_set(err, CK_ENOTFOUND, "alert %s: nothing queued for %s", key,
				  channel);
	}
	outbox_read(r, 0, out);
	PQclear(r);
	return 0;
}

int pg_outbox_put(struct store *st, const struct store_outbox *o, struct ck_err *err)
{
	char b[7][24];
	const char *v[] = {o->key,
			   o->channel,
			   o->state,
			   o->delivered,
			   pg_i64(b[0], o->last_sent),
			   pg_i64(b[1], o->attempts),
			   pg_i64(b[2], o->next_at),
			   pg_i64(b[3], o->claimed_until),
			   pg_i64(b[4], o->claimed_by),
			   pg_i64(b[5], o->sends),
			   pg_i64(b[6], o->failures),
			   o->error[0] ? o->error : NULL};

	return pgx(st,
		   "INSERT INTO alert_outbox (" OUTBOX_COLS_PLAIN ")"
		   " VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10,$11,$12)"
		   " ON CONFLICT (key, channel) DO UPDATE SET state = excluded.state,"
		   " delivered = excluded.delivered, last_sent = excluded.last_sent,"
		   " attempts = excluded.attempts, next_at = excluded.next_at,"
		   " claimed_until = excluded.claimed_until, claimed_by = excluded.claimed_by,"
		   " sends = excluded.sends, failures = excluded.failures,"
		   " error = excluded.error",
		   12, v, "write the alert outbox of", err);
}

int pg_outbox_live(struct store *st, struct store_outbox **out, size_t *n, struct ck_err *err)
{
	struct store_outbox *ob = NULL;
	size_t len = 0, cap = 0;
	PGresult *r;
	int i;

	*out = NULL;
	*n = 0;
	if (!(r = pgq(st,
		      "SELECT " OUTBOX_COLS " FROM alert_outbox WHERE delivered != ''"
		      " OR key IN (SELECT key FROM alerts WHERE state = 'firing')"
		      " ORDER BY key, channel",
		      0, NULL, "read the alert outbox of", err)))
		return err->code;
	for (i = 0; i < PQntuples(r); i++) {
		if (store_grow(&ob, &cap, len, sizeof(*ob), "read the alert outbox", err)) {
			PQclear(r);
			free(ob);
			return err->code;
		}
		outbox_read(r, i, &ob[len++]);
	}
	PQclear(r);
	*out = ob;
	*n = len;
	return 0;
}

/* ---- the archive catalogue ---- */

int pg_archive_put(struct store *st, const char *name, const char *sha256, int64_t rows,
		   int64_t at_ms, struct ck_err *err)
{
	char a[24], b[24];
	const char *v[] = {name, sha256, pg_i64(a, rows), pg_i64(b, at_ms)};

	return pgx(st,
		   "INSERT INTO archive_files (market, name, sha256, rows, read_at)"
		   " VALUES (ck_market(), $1, $2, $3, $4)"
		   " ON CONFLICT (market, name) DO UPDATE SET sha256 = excluded.sha256,"
		   " rows = excluded.rows, read_at = excluded.read_at",
		   4, v, "catalogue an archive file", err);
}

int pg_archive_get(struct store *st, const char *name, char sha256[65], int *found,
		   struct ck_err *err)
{
	const char *v[] = {name};
	PGresult *r;

	*found = 0;
	sha256[0] = 0;
	if (!(r = pgq(st,
		      "SELECT sha256 FROM archive_files WHERE market = ck_market() AND"
		      " name = $1",
		      1, v, "read the archive catalogue", err)))
		return err->code;
	if (PQntuples(r)) {
		snprintf(sha256, 65, "%s", pg_text(r, 0, 0));
		*found = 1;
	}
	PQclear(r);
	return 0;
}

int pg_archive_list(struct store *st, const char *symbol, const char *interval,
		    struct store_archive_file **out, size_t *n, struct ck_err *err)
{
	char prefix[96];
	const char *v[] = {prefix};
	struct store_archive_file *af = NULL;
	size_t len = 0, cap = 0;
	PGresult *r;
	int i;

	*out = NULL;
	*n = 0;
	snprintf(prefix, sizeof(prefix), "%s-%s-", symbol, interval);
	if (!(r = pgq(st,
		      "SELECT name, sha256 FROM archive_files WHERE market = ck_market() AND"
		      " substr(name, 1, length($1)) = $1 ORDER BY name",
		      1, v, "read the archive catalogue", err)))
		return err->code;
	for (i = 0; i < PQntuples(r); i++) {
		if (store_grow(&af, &cap, len, sizeof(*af), "archive catalogue", err)) {
			PQclear(r);
			free(af);
			return err->code;
		}
		pg_copy(af[len].name, sizeof(af[len].name), r, i, 0);
		pg_copy(af[len].sha256, sizeof(af[len].sha256), r, i, 1);
		len++;
	}
	PQclear(r);
	*out = af;
	*n = len;
	return 0;
}

int pg_archive_holes(struct store *st, const char *symbol, const char *interval, int64_t from,
		     int64_t to, struct store_range **out, size_t *n, struct ck_err *err)
{
	char a[24], b[24];
	const char *v[] = {symbol, interval, pg_i64(a, from), pg_i64(b, to)};
	struct store_range *h = NULL;
	size_t len = 0, cap = 0;
	PGresult *r;
	int i;

	*out = NULL;
	*n = 0;
	if (!(r = pgq(st,
		      "SELECT first_open, last_open FROM holes WHERE market = ck_market() AND "
		      "symbol = $1"
		      " AND interval = $2"
		      " AND last_open >= $3 AND first_open <= $4 ORDER BY first_open",
		      4, v, "read the exchange's holes from", err)))
		return err->code;
	for (i = 0; i < PQntuples(r); i++) {
		if (store_grow(&h, &cap, len, sizeof(*h), "exchange holes", err)) {
			PQclear(r);
			free(h);
			return err->code;
		}
		memset(&h[len], 0, sizeof(h[len]));
		snprintf(h[len].symbol, sizeof(h[len].symbol), "%s", symbol);
		h[len].first = pg_int(r, i, 0);
		h[len].last = pg_int(r, i, 1);
		len++;
	}
	PQclear(r);
	*out = h;
	*n = len;
	return 0;
}

/* ---- the backup catalogue ---- */

int pg_backup_put(struct store *st, const struct store_backup *b, int64_t *id, struct ck_err *err)
{
	char x[4][24];
	const char *v[] = {b->tier,
			   b->location,
			   pg_i64(x[0], b->created),
			   pg_i64(x[1], b->size),
			   b->sha256,
			   pg_i64(x[2], b->candles),
			   b->status,
			   b->detail,
			   b->verified_at ? pg_i64(x[3], b->verified_at) : NULL};
	PGresult *r;

	if (!(r = pgq(st,
		      "INSERT INTO backups (tier, location, created, size, sha256, candles,"
		      " status, detail, verified_at) VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9)"
		      " ON CONFLICT (tier, location) DO UPDATE SET created = excluded.created,"
		      " size = excluded.size, sha256 = excluded.sha256, candles = excluded.candles,"
		      " status = excluded.status, detail = excluded.detail,"
		      " verified_at = excluded.verified_at RETURNING id",
		      9, v, "record backup in", err)))
		return err->code;
	if (id)
		*id = pg_int(r, 0, 0);
	PQclear(r);
	return 0;
}

int pg_backup_set_status(struct store *st, int64_t id, const char *status, const char *detail,
			 struct ck_err *err)
{
	char a[24];
	const char *v[] = {pg_i64(a, id), status, detail};

	return pgx(st, "UPDATE backups SET status = $2, detail = $3 WHERE id = $1", 3, v,
		   "update backup in", err);
}

int pg_backup_list(struct store *st, const char *tier, struct store_backup **out, size_t *n,
		   struct ck_err *err)
{
	const char *v[] = {tier};
	struct store_backup *bs = NULL;
	size_t len = 0, cap = 0;
	PGresult *r;
	int i;

	*out = NULL;
	*n = 0;
	if (!(r = pgq(st,
		      "SELECT id, tier, location, created, size, coalesce(sha256, ''), candles,"
		      " status, coalesce(detail, ''), coalesce(verified_at, 0) FROM backups"
		      " WHERE $1::text IS NULL OR tier = $1 ORDER BY created DESC, id DESC",
		      1, v, "read backups from", err)))
		return err->code;
	for (i = 0; i < PQntuples(r); i++) {
		struct store_backup *b;
		if (store_grow(&bs, &cap, len, sizeof(*bs), "list backups", err)) {
			PQclear(r);
			free(bs);
			return err->code;
		}
		b = &bs[len++];
		memset(b, 0, sizeof(*b));
		b->id = pg_int(r, i, 0);
		pg_copy(b->tier, sizeof(b->tier), r, i, 1);
		pg_copy(b->location, sizeof(b->location), r, i, 2);
		b->created = pg_int(r, i, 3);
		b->size = pg_int(r, i, 4);
		pg_copy(b->sha256, sizeof(b->sha256), r, i, 5);
		b->candles = pg_int(r, i, 6);
		pg_copy(b->status, sizeof(b->status), r, i, 7);
		pg_copy(b->detail, sizeof(b->detail), r, i, 8);
		b->verified_at = pg_int(r, i, 9);
	}
	PQclear(r);
	*out = bs;
	*n = len;
	return 0;
}

/* ---- metrics aggregates ---- */

static int status_index(const char *s)
{
	enum run_status i;

	for (i = RUN_RUNNING; i <= RUN_TIMEOUT; i++)
		if (!strcmp(s, run_status_name(i)))
			return (int)i;
	return -1;
}

int pg_metrics_runs(struct store *st, const char *command, struct store_metrics_runs *out,
		    struct ck_err *err)
{
	const char *v[] = {command};
	PGresult *r;
	int i;

	memset(out, 0, sizeof(*out));
	/* Totals by status. requests_other is clamped per row so it never decreases. */
	if (!(r = pgq(st,
		      "SELECT status, count(*), coalesce(sum(requests), 0),"
		      " coalesce(sum(retries), 0), coalesce(sum(http_429), 0),"
		      " coalesce(sum(http_418), 0), coalesce(sum(http_5xx), 0),"
		      " coalesce(sum(net_errors), 0), coalesce(sum(greatest(requests - http_429"
		      " - http_418 - http_5xx - net_errors, 0)), 0),"
		      " coalesce(sum(candles_written), 0), coalesce(sum(candles_revised), 0),"
		      " max(CASE WHEN status = 'ok' THEN ended END)"
		      " FROM runs WHERE command = $1 GROUP BY status",
		      1, v, "sum runs in", err)))
		return err->code;
	for (i = 0; i < PQntuples(r); i++) {
		int k = status_index(pg_text(r, i, 0));
		if (k >= 0)
			out->by_status[k] += pg_int(r, i, 1);
		out->requests += pg_int(r, i, 2);
		out->retries += pg_int(r, i, 3);
		out->http_429 += pg_int(r, i, 4);
		out->http_418 += pg_int(r, i, 5);
		out->http_5xx += pg_int(r, i, 6);
		out->net_errors += pg_int(r, i, 7);
		out->requests_other += pg_int(r, i, 8);
		out->candles_written += pg_int(r, i, 9);
		out->candles_revised += pg_int(r, i, 10);
		if (!PQgetisnull(r, i, 11) && pg_int(r, i, 11) > out->last_ok_end)
			out->last_ok_end = pg_int(r, i, 11);
	}
	PQclear(r);

	/* The newest finished run. */
	if (!(r = pgq(st,
		      "SELECT id, started, coalesce(ended, 0), status, requests, retries, http_429,"
		      " http_418, http_5xx, net_errors, symbols_ok, symbols_failed, "
		      "symbols_skipped,"
		      " weight_used_max, candles_written, candles_revised"
		      " FROM runs WHERE command = $1 AND status != 'running'"
		      " ORDER BY started DESC, id DESC LIMIT 1",
		      1, v, "read the newest run from", err)))
		return err->code;
	if (PQntuples(r)) {
		int k = status_index(pg_text(r, 0, 3));
		out->has_last = 1;
		out->last_id = pg_int(r, 0, 0);
		out->last_started = pg_int(r, 0, 1);
		out->last_ended = pg_int(r, 0, 2);
		out->last_status = k > 0 ? (enum run_status)k : RUN_FAILED;
		out->last.requests = pg_int(r, 0, 4);
		out->last.retries = pg_int(r, 0, 5);
		out->last.http_429 = pg_int(r, 0, 6);
		out->last.http_418 = pg_int(r, 0, 7);
		out->last.http_5xx = pg_int(r, 0, 8);
		out->last.net_errors = pg_int(r, 0, 9);
		out->last.symbols_ok = pg_int(r, 0, 10);
		out->last.symbols_failed = pg_int(r, 0, 11);
		out->last.symbols_skipped = pg_int(r, 0, 12);
		out->last.weight_used_max = pg_int(r, 0, 13);
		out->last.candles_written = pg_int(r, 0, 14);
		out->last.candles_revised = pg_int(r, 0, 15);
	}
	PQclear(r);
	return 0;
}

int pg_metrics_durations(struct store *st, const char *command, int (*fn)(int64_t ms, void *arg),
			 void *arg, struct ck_err *err)
{
	const char *v[] = {command};
	PGresult *r;
	int i, stop = 0;

	if (!(r = pgq(st,
		      "SELECT ended - started FROM runs WHERE command = $1 AND status != 'running'"
		      " AND ended IS NOT NULL AND ended >= started",
		      1, v, "read run durations from", err)))
		return err->code;
	for (i = 0; i < PQntuples(r) && !stop; i++)
		stop = fn(pg_int(r, i, 0), arg);
	PQclear(r);
	return stop;
}

int pg_metrics_series(struct store *st, struct store_metrics_series **out, size_t *n,
		      struct ck_err *err)
{
	struct store_metrics_series *ms = NULL;
	size_t len = 0, cap = 0;
	PGresult *r;
	int i;

	*out = NULL;
	*n = 0;
	/* The close_time of the row holding max(open_time), as SQLite's bare column. */
	if (!(r = pgq(st,
		      "SELECT g.symbol, g.interval, g.n, g.newest, c.close_time, g.market FROM"
		      " (SELECT market, symbol, interval, count(*) AS n,"
		      " max(open_time) AS newest FROM candles GROUP BY market, symbol, interval) g"
		      " JOIN candles c ON c.market = g.market AND c.symbol = g.symbol AND"
		      " c.interval = g.interval AND c.open_time = g.newest"
		      " ORDER BY g.market, g.symbol, g.interval",
		      0, NULL, "count candles in", err)))
		return err->code;
	for (i = 0; i < PQntuples(r); i++) {
		struct store_metrics_series *e;
		if (store_grow(&ms, &cap, len, sizeof(*ms), "count candles", err)) {
			PQclear(r);
			free(ms);
			return err->code;
		}
		e = &ms[len++];
		memset(e, 0, sizeof(*e));
		pg_copy(e->symbol, sizeof(e->symbol), r, i, 0);
		pg_copy(e->interval, sizeof(e->interval), r, i, 1);
		e->count = pg_int(r, i, 2);
		e->newest_open = pg_int(r, i, 3);
		e->newest_close = pg_int(r, i, 4);
		pg_copy(e->market, sizeof(e->market), r, i, 5);
	}
	PQclear(r);
	*out = ms;
	*n = len;
	return 0;
}
