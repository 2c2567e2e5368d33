/* alert.h — built-in alert delivery for operators who run no Alertmanager: Slack
 * incoming webhook, PagerDuty Events API v2 (trigger/resolve with a stable dedup_key),
 * e-mail over SMTP (libcurl, TLS required unless [alert] smtp_tls = none).
 *
 * Every delivery goes through a durable outbox in the database (tables alerts and
 * alert_outbox), shared by cron runs and the daemon:
 * - One alert per distinct problem (a stable key: "sync_failed", "backup_failed:hot",
 *   "health:freshness", ...), raised, repeated and resolved independently.
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
	const char *key;        /* stable condition id, e.g. "sync_failed", "db_corrupt",
				 * "backup_failed:hot"; PagerDuty's dedup_key derives from it */
	enum alert_severity severity;
	const char *summary;    /* one line a person reads first */
	const char *detail;     /* more text, may be NULL */
};

/* 1 if some channel is configured. */
int alert_configured(const struct cfg *c);

/* Raises the condition a->key (firing, with this severity and text) and delivers what
 * is owed. st may be NULL (no database: sent at once on every channel, no memory of
 * earlier deliveries). Returns 0 when every delivery due now succeeded (or none was
 * due); CK_EIO if a channel failed (logged, counted, retried later); another negative
 * code if the outbox could not be written. No channel configured: returns 0 and does
 * nothing. */
int alert_raise(struct store *st, const struct cfg *c, const struct alert *a,
		struct ck_err *err);

/* Clears condition key and delivers what is owed: a resolve (PagerDuty resolve, a
 * Slack/e-mail "resolved" message) to each channel that accepted its trigger; a
 * trigger still owed is dropped. Nothing if it was not firing. */
int alert_resolve(struct store *st, const struct cfg *c, const char *key,
		  const char *summary, struct ck_err *err);

/* Delivers every outbox entry due now (retries whose back-off has passed, repeats,
 * entries left by a process that died). *next_due (may be NULL): when the next one
 * becomes due, ms since epoch, 0 = nothing known. Returns as alert_raise. */
int alert_flush(struct store *st, const struct cfg *c, int64_t *next_due,
		struct ck_err *err);

/* One alert per health check, key "health:<check>": a check that is not OK raises its
 * alert (CRITICAL as critical, WARNING and UNKNOWN as warning), an OK check resolves
 * it; then delivers what is owed. st NULL: the failing checks are sent at once. */
int alert_health(struct store *st, const struct cfg *c, const struct health_report *r,
		 struct ck_err *err);

#endif
