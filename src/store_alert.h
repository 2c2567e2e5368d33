/* store_alert.h — the alerts table and the alert outbox (part of the store module): one
 * row per alert condition key (its state and text), and one outbox row per (key,
 * channel) with what that channel accepted and the retry state of what it is still
 * owed, so separate processes (cron runs, the daemon) agree on what was already sent.
 * Times are ms since epoch, UTC. */
#ifndef CK_STORE_ALERT_H
#define CK_STORE_ALERT_H

#include <stddef.h>
#include <stdint.h>

#include "err.h"
#include "store.h"

struct store_alert {
	char key[128];
	char severity[16]; /* "warning", "critical" */
	char state[16];    /* "firing", "resolved" */
	char summary[256];
	char detail[2048]; /* more text for the trigger; "" if none */
	int64_t first_at;  /* ms, when the condition started firing */
	int64_t last_sent; /* ms, last delivery that some channel accepted; 0 = never */
	int64_t sends;     /* channel deliveries (trigger, update, repeat, resolve) accepted */
	int64_t failures;  /* channel delivery attempts that failed */
};

/* One (alert, channel) row of the outbox. */
struct store_outbox {
	char key[128];
	char channel[16];      /* "slack", "pagerduty", "email" */
	char state[16];        /* for people reading the table: "pending", "retrying", "sent",
				* "cancelled" (a trigger never delivered, the alert resolved) */
	char delivered[32];    /* severity of the trigger this channel accepted in the alert's
				* current episode, then, for an alert with members, a space and
				* the fingerprint of the members it was told ("warning 1a2b3c4d");
				* "" = none, so no resolve is owed to it */
	int64_t last_sent;     /* ms, last delivery this channel accepted; 0 = never */
	int64_t attempts;      /* failed attempts of the delivery still owed */
	int64_t next_at;       /* ms, no attempt before this (back-off); 0 = at once */
	int64_t claimed_until; /* ms, a process is delivering it until then (lease) */
	int64_t claimed_by;    /* pid of that process */
	int64_t sends, failures;
	char error[256]; /* the last failure; "" if none */
};

/* Reads the row of key into *out; CK_ENOTFOUND if there is none. */
int store_alert_get(struct store *st, const char *key, struct store_alert *out, struct ck_err *err);
/* Inserts or replaces the row of a->key. */
int store_alert_put(struct store *st, const struct store_alert *a, struct ck_err *err);
/* Every row, firing first, then by key, without detail (""); *out malloc'd (caller
 * frees). Works on a schema-1 database too. */
int store_alert_list(struct store *st, struct store_alert **out, size_t *n, struct ck_err *err);

/* Reads the outbox row of (key, channel); CK_ENOTFOUND if there is none. */
int store_outbox_get(struct store *st, const char *key, const char *channel,
		     struct store_outbox *out, struct ck_err *err);
/* Inserts or replaces the row of (o->key, o->channel). */
int store_outbox_put(struct store *st, const struct store_outbox *o, struct ck_err *err);
/* Every outbox row of an alert that is firing, or that still owes some channel a
 * resolve (delivered != ''), by key and channel; *out malloc'd (caller frees). */
int store_outbox_live(struct store *st, struct store_outbox **out, size_t *n, struct ck_err *err);

#endif
