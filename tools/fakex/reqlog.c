/* reqlog.c — see reqlog.h. */
#include <errno.h>
#include <jansson.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "banned.h"
#include "reqlog.h"

struct reqlog {
	FILE *f;
	pthread_mutex_t lock;
};

int reqlog_open(struct reqlog **out, const char *path, char *err, size_t errlen)
{
	struct reqlog *l = calloc(1, sizeof(*l));
	if (!l || !(l->f = fopen(path, "ae"))) {
		snprintf(err, errlen, "--request-log %s: %s", path, strerror(l ? errno : ENOMEM));
		free(l);
		return -1;
	}
	pthread_mutex_init(&l->lock, NULL);
	*out = l;
	return 0;
}

void reqlog_write(struct reqlog *l, int64_t wall, int64_t now, const char *method, const char *uri,
		  int status, int64_t weight, const char *fault)
{
	if (!l)
		return;
	const char *q = strchr(uri, '?');
	size_t plen = q ? (size_t)(q - uri) : strlen(uri);
	json_t *o = json_pack("{s:I,s:I,s:s,s:s%,s:s,s:i,s:I,s:s?}", "t", (json_int_t)wall, "now",
			      (json_int_t)now, "method", method, "path", uri, plen, "query",
			      q ? q + 1 : "", "status", status, "weight", (json_int_t)weight,
			      "fault", fault);
	char *line = o ? json_dumps(o, JSON_COMPACT | JSON_ENSURE_ASCII) : NULL;
	json_decref(o);
	if (!line)
		return;
	pthread_mutex_lock(&l->lock);
	fputs(line, l->f);
	fputc('\n', l->f);
	fflush(l->f);
	pthread_mutex_unlock(&l->lock);
	free(line);
}

void reqlog_close(struct reqlog *l)
{
	if (!l)
		return;
	fclose(l->f);
	pthread_mutex_destroy(&l->lock);
	free(l);
}
