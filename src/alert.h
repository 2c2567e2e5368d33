/* alert.h — built-in alert delivery for operators who run no Alertmanager: Slack
 * incoming webhook, PagerDuty Events API v2 (trigger/resolve with a stable dedup_key),
 * e-mail over SMTP (libcurl). One condition alerts once, again only after [alert]
 * repeat, and sends a resolve when it clears; state is kept in the store (alerts
 * table) so separate processes (cron runs, the daemon) agree. Delivery is bounded by
 * [alert] timeout_ms per channel with a few retries; a failing channel is logged and
 * counted (events alert_failed) and never fails the caller. Secrets (webhook URL,
 * routing key, SMTP password) never appear in logs, output or errors. */
#ifndef CK_ALERT_H
#define CK_ALERT_H

#include "cfg.h"
#include "err.h"
#include "store.h"

enum alert_severity { ALERT_WARNING, ALERT_CRITICAL };

struct alert {
	const char *key;        /* stable condition id, e.g. "sync_failed", "db_corrupt",
				 * "backup_failed:hot"; PagerDuty's dedup_key derives from it */
	enum alert_severity severity;
	const char *summary;    /* one line a person reads first */
	const char *detail;     /* more text, may be NULL */
};

/* Raises (or repeats, if [alert] repeat has passed) the condition a->key. st may be
 * NULL (no dedup state: always sends). Returns 0 when nothing needed sending or every
 * configured channel accepted it; a negative code if a channel failed (already logged
 * and counted). No channel configured: returns 0 and does nothing. */
int alert_raise(struct store *st, const struct cfg *c, const struct alert *a,
		struct ck_err *err);

/* Clears condition key: sends a resolve (PagerDuty resolve, a Slack/e-mail "resolved"
 * message) if it was firing; nothing otherwise. */
int alert_resolve(struct store *st, const struct cfg *c, const char *key,
		  const char *summary, struct ck_err *err);

#endif
