/* event.c — the table of event kinds (contract in event.h). */
#include <assert.h>
#include <stddef.h>
#include <string.h>

#include "err.h"
#include "event.h"
#include "banned.h"

static const char *const names[EV_NKINDS] = {
	[EV_CANDLE_COUNT] = "candle_count",
	[EV_SYNC_SKIPPED] = "sync_skipped",
	[EV_INTEGRITY_CHECK] = "integrity_check",
	[EV_CORRUPTION_DETECTED] = "corruption_detected",
	[EV_HEALTH] = "health",
	[EV_RESTORE_DRILL] = "restore_drill",
	[EV_CLOCK_SKEW] = "clock_skew",
	[EV_ALERT_SENT] = "alert_sent",
	[EV_ALERT_FAILED] = "alert_failed",
	[EV_RECOVER] = "recover",
};

const char *event_kind_name(enum event_kind k)
{
	assert((unsigned)k < EV_NKINDS && names[k]);
	return names[k];
}

int event_kind_parse(const char *s, enum event_kind *k)
{
	if (!s)
		return CK_EVALIDATE;
	for (int i = 0; i < EV_NKINDS; i++)
		if (names[i] && !strcmp(names[i], s)) {
			*k = (enum event_kind)i;
			return 0;
		}
	return CK_EVALIDATE;
}
