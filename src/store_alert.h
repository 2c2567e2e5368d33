/* store_alert.h — the alerts table (part of the store module): one row per alert
 * condition key with its delivery state, so separate processes (cron runs, the daemon)
 * agree on what was already sent. Times are ms since epoch, UTC. */
#ifndef CK_STORE_ALERT_H
#define CK_STORE_ALERT_H

#include <stddef.h>
#include <stdint.h>

#include "err.h"
#include "store.h"

struct store_alert {
	char key[128];
	char severity[16];  /* "warning", "critical" */
	char state[16];     /* "firing", "resolved" */
	char summary[256];
	int64_t first_at;   /* ms, when the condition started firing */
	int64_t last_sent;  /* ms, last delivery that some channel accepted; 0 = never */
	int64_t sends;      /* deliveries (trigger, repeat, resolve) some channel accepted */
	int64_t failures;   /* channel deliveries that failed */
};

/* Reads the row of key into *out; CK_ENOTFOUND if there is none. */
int store_alert_get(struct store *st, const char *key, struct store_alert *out,
		    struct ck_err *err);
/* Inserts or replaces the row of a->key. */
int store_alert_put(struct store *st, const struct store_alert *a, struct ck_err *err);
/* Every row, firing first, then by key; *out malloc'd (caller frees). */
int store_alert_list(struct store *st, struct store_alert **out, size_t *n,
		     struct ck_err *err);

#endif
