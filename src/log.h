/* log.h — the one log module. A line is a UTC timestamp, level, component, message and
 * key=value fields (text), or one JSON object per line (json). Lines go to stderr and,
 * when a run log file is open, to that file too. The level is checked before any
 * formatting. Never log a secret: callers pass only values that are safe to show.
 *
 * The logger is process-wide configuration set once by main (log_setup) before any
 * thread starts; writes are serialised with a mutex so helper threads may log. */
#ifndef CK_LOG_H
#define CK_LOG_H

#include "err.h"

enum log_level { LOG_ERROR, LOG_WARN, LOG_INFO, LOG_DEBUG };

/* format: "text" or "json"; level: "error".."debug". quiet drops below WARN on stderr;
 * verbose raises to DEBUG. Returns CK_EUSAGE for unknown names. */
int log_setup(const char *format, const char *level, int quiet, int verbose, struct ck_err *err);

/* Opens dir/<prefix>_YYYY-mm-dd_HH-MM-SS.log (UTC) as the run log file; every later
 * line is also written there (and to the log_open_path file, if any: both are kept).
 * mode: the file's permission bits, set explicitly whatever the umask. */
int log_open_file(const char *dir, const char *prefix, unsigned mode, struct ck_err *err);
/* Opens path (append) as the log file that every run shares ([log] file). */
int log_open_path(const char *path, unsigned mode, struct ck_err *err);
void log_close_file(void);

int log_enabled(enum log_level level);

/* fields: NULL-terminated list of alternating key, value strings (values are quoted
 * in text when they contain spaces). */
void log_write(enum log_level level, const char *component, const char *const *fields,
	       const char *fmt, ...) __attribute__((format(printf, 4, 5)));

#define LOGF(level, comp, fields, ...)                                                             \
	do {                                                                                       \
		if (log_enabled(level))                                                            \
			log_write(level, comp, fields, __VA_ARGS__);                               \
	} while (0)
#define log_error(comp, ...) LOGF(LOG_ERROR, comp, NULL, __VA_ARGS__)
#define log_warn(comp, ...) LOGF(LOG_WARN, comp, NULL, __VA_ARGS__)
#define log_info(comp, ...) LOGF(LOG_INFO, comp, NULL, __VA_ARGS__)
#define log_debug(comp, ...) LOGF(LOG_DEBUG, comp, NULL, __VA_ARGS__)
/* With fields: log_kv(LOG_INFO, "sync", ((const char *[]){"symbol", s, NULL}), "done"); */
#define log_kv(level, comp, fields, ...) LOGF(level, comp, fields, __VA_ARGS__)

#endif
