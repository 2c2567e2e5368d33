/* store_pg_int.h — private to the PostgreSQL backend of the store module (store_pg*.c):
 * its state behind a handle and the helpers its files share. Nothing outside
 * src/store_pg*.c includes this. */
#ifndef CK_STORE_PG_INT_H
#define CK_STORE_PG_INT_H

#include <stdint.h>

#include <libpq-fe.h>

#include "err.h"
#include "store_backend.h"

/* st->impl of a store the PostgreSQL backend opened. */
struct store_pg {
	PGconn *conn;
	char shown[1024]; /* st->path with its password masked: the only form in messages */
	char **claims;    /* keys this handle claimed (pg_claim), taken again on a reconnect */
	size_t nclaims, capclaims;
	int tx_lost;   /* the connection was lost inside a transaction: its COMMIT fails */
	int in_tx;     /* a transaction was open when the connection was last seen alive
			* (pg_in_tx: a lost connection no longer says) */
	char txid[24]; /* the id of the transaction pg_begin began ("" = none) */
	int unset;     /* a new connection whose session settings could not be made: made
			* again before the next statement (pg_reconnect) */
#ifdef CK_FAULT_INJECTION
	int setup_faulted; /* CANDLEKEEP_FAULT_DAMAGE=pg-reconnect: this reconnect's new
			    * session was dropped once */
	int idle_dropped;  /* CANDLEKEEP_FAULT_DAMAGE=pg-reconnect: the session was lost
			    * once while idle */
	int span_faulted;  /* CANDLEKEEP_FAULT_DAMAGE=pg-span-in-tx: the session ended
			    * itself once, at a span read inside a transaction */
	int put_faulted;   /* CANDLEKEEP_FAULT_DAMAGE=pg-symbol-put-in-tx: the same at a
			    * symbol state write inside a transaction */
#endif
};

/* A new connection to conninfo (a URL or key=value string), giving up after
 * PG_CONNECT_TIMEOUT_S seconds unless conninfo sets its own connect_timeout: a server
 * that does not answer (a host gone, a firewall dropping packets) must not hang a run
 * or a reconnect for the system's TCP timeout, or for ever on a server that accepts
 * the connection and never answers. PQreset reuses these parameters. */
#define PG_CONNECT_TIMEOUT_S "10"
PGconn *pg_connect(const char *conninfo);

static inline struct store_pg *pg(const struct store *st)
{
	return st->impl;
}

/* Runs sql with the n text parameters v (NULL = SQL NULL) through PQexecParams: the
 * PGresult (tuples or command ok; the caller PQclears it), or NULL with err filled
 * (a connection the server dropped is made again, and the statement sent once more
 * when it was not inside a transaction: see pg_reconnect in store_pg.c)
 * "<what> <masked url>: <server message> (<what to do>)" and its code (CK_EDB;
 * CK_EFULL for a full disk, CK_ECORRUPT for data corruption). */
PGresult *pgq(struct store *st, const char *sql, int n, const char *const *v, const char *what,
	      struct ck_err *err);
/* pgq for a statement without rows: 0 or the error code. */
int pgx(struct store *st, const char *sql, int n, const char *const *v, const char *what,
	struct ck_err *err);

/* Formats v as decimal text into b (24 bytes) and returns b: a parameter. */
const char *pg_i64(char b[24], int64_t v);
/* Column c of row r as int64 (NULL reads 0) and as text (NULL reads ""). */
int64_t pg_int(const PGresult *r, int row, int col);
const char *pg_text(const PGresult *r, int row, int col);
/* Copies column c of row r into dst (size bytes, always NUL-terminated). */
void pg_copy(char *dst, size_t size, const PGresult *r, int row, int col);

/* store_pg_rows.c: the operations store_pg_ops (store_pg.c) lists besides its own. */
int pg_run_begin(struct store *st, const char *command, const char *interval, int64_t now_ms,
		 int64_t *id, struct ck_err *err);
int pg_run_abandon(struct store *st, const char *command, struct ck_err *err);
int pg_run_symbol(struct store *st, int64_t id, const char *symbol, const char *status,
		  int64_t written, int64_t revised, int64_t newest_open, const char *error,
		  struct ck_err *err);
int pg_run_end(struct store *st, int64_t id, enum run_status status, int exit_code, int64_t now_ms,
	       const struct run_counts *c, const char *error, struct ck_err *err);
int pg_runs(struct store *st, const char *command, const char *interval, int64_t since_ms,
	    size_t max, struct store_run **out, size_t *n, struct ck_err *err);
int pg_run_symbols(struct store *st, int64_t run_id, struct store_run_symbol **out, size_t *n,
		   struct ck_err *err);
int pg_all_run_symbols(struct store *st, int64_t min_run_id, struct store_run_symbol **out,
		       size_t *n, struct ck_err *err);
int pg_sync_runs(struct store *st, struct store_sync_run **out, size_t *n, struct ck_err *err);
int pg_event_add(struct store *st, int64_t at_ms, const char *kind, const char *subject,
		 double value, const char *detail, struct ck_err *err);
int pg_events(struct store *st, const char *kind, const char *subject, int64_t since_ms, size_t max,
	      struct store_event **out, size_t *n, struct ck_err *err);
int pg_event_count(struct store *st, const char *kind, const char *subject, int64_t *count,
		   struct ck_err *err);
int pg_alert_get(struct store *st, const char *key, struct store_alert *out, struct ck_err *err);
int pg_alert_put(struct store *st, const struct store_alert *a, struct ck_err *err);
int pg_alert_list(struct store *st, struct store_alert **out, size_t *n, struct ck_err *err);
int pg_outbox_get(struct store *st, const char *key, const char *channel, struct store_outbox *out,
		  struct ck_err *err);
int pg_outbox_put(struct store *st, const struct store_outbox *o, struct ck_err *err);
int pg_outbox_live(struct store *st, struct store_outbox **out, size_t *n, struct ck_err *err);
int pg_archive_put(struct store *st, const char *name, const char *sha256, int64_t rows,
		   int64_t at_ms, struct ck_err *err);
int pg_archive_get(struct store *st, const char *name, char sha256[65], int *found,
		   struct ck_err *err);
int pg_archive_list(struct store *st, const char *symbol, const char *interval,
		    struct store_archive_file **out, size_t *n, struct ck_err *err);
int pg_archive_holes(struct store *st, const char *symbol, const char *interval, int64_t from,
		     int64_t to, struct store_range **out, size_t *n, struct ck_err *err);
int pg_backup_put(struct store *st, const struct store_backup *b, int64_t *id, struct ck_err *err);
int pg_backup_set_status(struct store *st, int64_t id, const char *status, const char *detail,
			 struct ck_err *err);
int pg_backup_list(struct store *st, const char *tier, struct store_backup **out, size_t *n,
		   struct ck_err *err);
int pg_metrics_runs(struct store *st, const char *command, struct store_metrics_runs *out,
		    struct ck_err *err);
int pg_metrics_durations(struct store *st, const char *command, int (*fn)(int64_t ms, void *arg),
			 void *arg, struct ck_err *err);
int pg_metrics_series(struct store *st, struct store_metrics_series **out, size_t *n,
		      struct ck_err *err);

#endif
