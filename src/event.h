/* event.h — the kinds of row in the events table: one enum entry and one name each.
 *
 * The events table (store_event_add, store_events, store_event_count) stores the kind as
 * text; every writer and reader passes event_kind_name(EV_...), never a literal, so
 * `grep -rn EV_<KIND> src` finds the writer and all readers of a kind. Each entry names
 * them; a kind without a writer or without a reader is a bug (a check that never fires,
 * a record nobody looks at).
 *
 * The names are stored in databases: never rename one, never reuse one. */
#ifndef CK_EVENT_H
#define CK_EVENT_H

enum event_kind {
	/* value = candles of the interval after a sync/backfill run, subject = interval,
	 * detail = run id. Writer: run.c (run_sync). Reader: health.c (data-loss guard). */
	EV_CANDLE_COUNT,
	/* value = scheduled syncs skipped, detail = why. Writer: daemon_jobs.c (lock held,
	 * or times passed while a sync ran). Reader: metrics.c (sync_skipped counter). */
	EV_SYNC_SKIPPED,
	/* value = 1 ok / 0 damaged, subject = "quick" or "full". Writer: daemon_jobs.c
	 * (health job's quick check, integrity_check job). Readers: metrics.c (integrity
	 * gauges), health.c (integrity check's newest verdict), daemon.c (catch-up of the
	 * integrity_check job). */
	EV_INTEGRITY_CHECK,
	/* value = 1, subject = database path. Writers: daemon_jobs.c (a check found
	 * damage), recover.c (recover found damage). Readers: metrics.c (corruptions
	 * counter), health.c (integrity check's newest verdict). */
	EV_CORRUPTION_DETECTED,
	/* value = health status (0..3), detail = summary line. Writer: daemon_jobs.c (health
	 * job). Readers: daemon.c (catch-up, last status), status_page.c (health line). */
	EV_HEALTH,
	/* value = seconds the restore drill took, subject = backup location. Writer: audit.c.
	 * Readers: metrics.c (drill gauges), daemon.c (catch-up of the audit job). */
	EV_RESTORE_DRILL,
	/* value = exchange - local clock, s. Writer: sync.c. Reader: metrics.c (skew gauge). */
	EV_CLOCK_SKEW,
	/* value = 1, subject = channel, detail = alert key. Writer: alert.c (delivered).
	 * Reader: metrics.c (alerts sent counter). */
	EV_ALERT_SENT,
	/* value = 1, subject = channel. Writer: alert.c (delivery failed). Reader: metrics.c
	 * (alert failures counter). */
	EV_ALERT_FAILED,
	/* value = seconds recover took, subject = database path. Writer: recover.c. Reader:
	 * health.c (data-loss guard: a recover explains a drop in candle_count). */
	EV_RECOVER,
	EV_NKINDS
};

/* The stored name of kind k ("candle_count", ...); static. Asserts k is a kind. */
const char *event_kind_name(enum event_kind k);

/* The kind named s: returns 0 and sets *k, or CK_EVALIDATE for NULL or a name that is not
 * in the table (case-sensitive, as stored). */
int event_kind_parse(const char *s, enum event_kind *k);

#endif
