/* reqlog.h — the request log: one JSON object per line, flushed per line, so a test
 * can read it while fakex runs. Safe to write from many threads. */
#ifndef FAKEX_REQLOG_H
#define FAKEX_REQLOG_H

#include <stddef.h>
#include <stdint.h>

struct reqlog;

/* Opens (appends to) path. 0, or -1 with a message in err. */
int reqlog_open(struct reqlog **out, const char *path, char *err, size_t errlen);
/* One line: {"t":wall,"now":fake,"method":..,"path":..,"query":..,"status":..,
 * "weight":..,"fault":..|null}. uri is the request target as received; status 0
 * means no response was sent (hang). l may be NULL (no log). */
void reqlog_write(struct reqlog *l, int64_t wall, int64_t now, const char *method, const char *uri,
		  int status, int64_t weight, const char *fault);
void reqlog_close(struct reqlog *l);

#endif
