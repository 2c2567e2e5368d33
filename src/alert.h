/* alert.h — built-in alert delivery for operators who run no Alertmanager: Slack
 * incoming webhook, PagerDuty Events API v2 (trigger/resolve with a stable dedup_key),
 * e-mail over SMTP (libcurl, TLS required unless [alert] smtp_tls = none).
 *
 * Every delivery goes through a durable outbox in the database (tables alerts and
 * alert_outbox), shared by cron runs and the daemon:
 * - One alert per distinct problem (a stable key: "sync_failed:http", "backup_failed:hot",
 *   "health:freshness", ...), raised, repeated and resolved independently; per symbol
 *   group where it matters: a sync's failures one alert per failure class, and an
 *   alert about symbols lists them as its members (a new one is an update, not a new
 *   page; see alert.c).
 * - Each (alert, channel) has its own state. A channel is owed a trigger while the
 *   alert fires and it has accepted none, an update when the severity changed since,
 *   a repeat every [alert] repeat, and a resolve only if it accepted a trigger.
 * - Raising or resolving commits the new state first, then delivers what is owed. A
 *   failed delivery stays owed and is retried with back-off ([alert] retry_ms doubling
 *   up to retry_max_ms) by whichever process flushes next, until it succeeds or the
 *   alert resolves. A crash between the commit and the send loses nothing: the next
 *   flush sends it, once. A delivery in progress is claimed (a lease of twice
 *   [alert] timeout_ms), so two processes never send the same one.
 * - Delivery is bounded by [alert] timeout_ms per channel; a failing channel is logged
 *   and counted (events alert_failed) and never fails the caller.
 * Secrets (webhook URL, routing key, SMTP password) never appear in logs, output or
 * errors. */
#ifndef CK_ALERT_H
#define CK_ALERT_H

#include <stdint.h>

#include "cfg.h"
#include "err.h"
#include "health.h"
#include "store.h"

enum alert_severity { ALERT_WARNING, ALERT_CRITICAL };

struct alert {
	const char *key; /* stable condition id, e.g. "sync_failed:http", "db_corrupt",
			  * "backup_failed:hot"; PagerDuty's dedup_key derives from it */
	enum alert_severity severity;
	const char *summary; /* one line a person reads first */
	const char *detail;  /* more text, may be NULL */
};

/* 1 if some channel is configured. */
int alert_configured(const struct cfg *c);

/* Raises the condition a->key (firing, with this severity and text) and delivers what
 * is owed. st may be NULL (no database: sent at once on every channel, no memory of
 * earlier deliveries). Returns 0 when every delivery due now succeeded (or none was
 * due); CK_EIO if a channel failed (logged, counted, retried later); another negative
 * code if the outbox could not be written. No channel configured: returns 0 and does
 * nothing. */
int alert_raise(struct store *st, const struct cfg *c, const struct alert *a, struct ck_err *err);

/* As alert_raise, for an alert about a set of members (symbols): members names them,
 * separated by spaces or commas. They head the alert's detail ("affected: ...", and
 * "recovered: ..." for those that left since the channels were told). A member that
 * the channels have not been told of makes each channel owed an update (PagerDuty: a
 * trigger on the same dedup_key, folded into the open incident; Slack and e-mail: an
 * "updated" message); members that only leave change the stored detail and send
 * nothing until the next repeat or the resolve. */
int alert_raise_members(struct store *st, const struct cfg *c, const struct alert *a,
			const char *members, struct ck_err *err);

/* One member of a grouped condition: name (a symbol; may be NULL for a failure that
 * is no symbol's), the group it falls in (a failure class: "http", "ban", ...) and a
 * note (its error text; may be NULL). */
struct alert_member {
	const char *name;
	const char *group;
	const char *note;
	int unknown; /* 1: this run could not judge the member (it failed for a
		      * reason that hides others, e.g. the exchange unreachable):
		      * it stays in the firing groups it was in */
};

/* One alert per group: raises "<prefix>:<group>" for every group of m[0..n) (summary
 * "<what> (<group>): N symbols: ...", the members its symbols, their notes the
 * detail), resolves every firing "<prefix>:*" alert whose group has no member now
 * (a member that is unknown stays in the groups it was in)
 * (with ok_summary when n is 0) and the single "<prefix>" alert of earlier versions,
 * then delivers what is owed. st NULL: the groups are sent at once. Returns as
 * alert_raise. */
int alert_groups(struct store *st, const struct cfg *c, const char *prefix, enum alert_severity sev,
		 const char *what, const struct alert_member *m, size_t n, const char *ok_summary,
		 struct ck_err *err);

/* Clears condition key and delivers what is owed: a resolve (PagerDuty resolve, a
 * Slack/e-mail "resolved" message) to each channel that accepted its trigger; a
 * trigger still owed is dropped. Nothing if it was not firing. */
int alert_resolve(struct store *st, const struct cfg *c, const char *key, const char *summary,
		  struct ck_err *err);

/* Delivers every outbox entry due now (retries whose back-off has passed, repeats,
 * entries left by a process that died). *next_due (may be NULL): when the next one
 * becomes due, ms since epoch, 0 = nothing known. Returns as alert_raise. */
int alert_flush(struct store *st, const struct cfg *c, int64_t *next_due, struct ck_err *err);

/* One alert per health check, key "health:<check>": a check that is not OK raises its
 * alert (CRITICAL as critical, WARNING and UNKNOWN as warning), with the check's
 * members (the stale or missing symbols) as in alert_raise_members; an OK check
 * resolves it; then delivers what is owed. st NULL: the failing checks are sent at once. */
int alert_health(struct store *st, const struct cfg *c, const struct health_report *r,
		 struct ck_err *err);

#endif
