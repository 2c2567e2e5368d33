/* log.c — formatting and writing log lines (text or JSON lines) to stderr and an
 * optional per-run file. */
#include <fcntl.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "log.h"
#include "utc.h"
#include "redact.h"
#include "banned.h"

static struct {
	int json;
	enum log_level level;     /* for the file */
	enum log_level err_level; /* for stderr */
	FILE *file;               /* [log] file: every line of every run */
	FILE *run_file;           /* [log] dir: this run's own file */
	pthread_mutex_t mu;
} L = {0, LOG_INFO, LOG_INFO, NULL, NULL, PTHREAD_MUTEX_INITIALIZER};

/* Opens path for appending with the permission bits mode (set explicitly when this
 * process owns the file, whatever the umask). */
static FILE *open_append(const char *path, unsigned mode)
{
	int fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, (mode_t)mode);
	struct stat sb;
	FILE *f;

	if (fd < 0)
		return NULL;
	if (fstat(fd, &sb) == 0 && sb.st_uid == geteuid() && (sb.st_mode & 07777) != mode)
		fchmod(fd, (mode_t)mode);
	if (!(f = fdopen(fd, "a")))
		close(fd);
	return f;
}

static const char *const level_names[] = {"error", "warn", "info", "debug"};

int log_setup(const char *format, const char *level, int quiet, int verbose, struct ck_err *err)
{
	int i, lv = -1;

	if (format && strcmp(format, "text") && strcmp(format, "json"))
		return ck_err_set(err, CK_EUSAGE, "log format %s: must be text or json", format);
	for (i = 0; level && i < 4; i++)
		if (!strcmp(level, level_names[i]))
			lv = i;
	if (level && lv < 0)
		return ck_err_set(err, CK_EUSAGE,
				  "log level %s: must be error, warn, info or debug", level);
	L.json = format && !strcmp(format, "json");
	L.level = level ? (enum log_level)lv : LOG_INFO;
	if (verbose)
		L.level = LOG_DEBUG;
	L.err_level = quiet ? LOG_WARN : L.level;
	return 0;
}

int log_open_file(const char *dir, const char *prefix, unsigned mode, struct ck_err *err)
{
	char path[4096];
	struct tm tm;
	time_t now = (time_t)(now_ms() / 1000);

	gmtime_r(&now, &tm);
	mkdir(dir, 0750);
	snprintf(path, sizeof(path), "%s/%s_%04d-%02d-%02d_%02d-%02d-%02d.log", dir, prefix,
		 tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec);
	if (L.run_file)
		fclose(L.run_file);
	if (!(L.run_file = open_append(path, mode)))
		return ck_err_set(err, CK_EIO, "open log file %s: %m (check [log] dir)", path);
	return 0;
}

int log_open_path(const char *path, unsigned mode, struct ck_err *err)
{
	if (L.file)
		fclose(L.file);
	if (!(L.file = open_append(path, mode)))
		return ck_err_set(err, CK_EIO, "open log file %s: %m (check [log] file)", path);
	return 0;
}

void log_close_file(void)
{
	if (L.file)
		fclose(L.file);
	if (L.run_file)
		fclose(L.run_file);
	L.file = L.run_file = NULL;
}

int log_enabled(enum log_level level)
{
	return level <= L.level || level <= L.err_level;
}

static void json_str(char *out, size_t size, size_t *pos, const char *s)
{
	size_t p = *pos;
	if (p < size)
		out[p++] = '"';
	for (; *s && p + 7 < size; s++) {
		unsigned char c = (unsigned char)*s;
		if (c == '"' || c == '\\') {
			out[p++] = '\\';
			out[p++] = (char)c;
		} else if (c < 0x20) {
			p += (size_t)snprintf(out + p, size - p, "\\u%04x", c);
		} else {
			out[p++] = (char)c;
		}
	}
	if (p < size)
		out[p++] = '"';
	*pos = p;
}

void log_write(enum log_level level, const char *component, const char *const *fields,
	       const char *fmt, ...)
{
	char msg[2048], line[4096], ts[40];
	int64_t now;
	time_t sec;
	struct tm tm;
	size_t pos = 0;
	va_list ap;
	int i;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	now = now_ms();
	sec = (time_t)(now / 1000);
	gmtime_r(&sec, &tm);
	snprintf(ts, sizeof(ts), "%04d-%02d-%02dT%02d:%02d:%02d.%03ldZ", tm.tm_year + 1900,
		 tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, (long)(now % 1000));
	if (L.json) {
		pos += (size_t)snprintf(line, sizeof(line),
					"{\"ts\":\"%s\",\"level\":\"%s\",\"component\":", ts,
					level_names[level]);
		json_str(line, sizeof(line) - 2, &pos, component);
		pos += (size_t)snprintf(line + pos, sizeof(line) - pos, ",\"msg\":");
		json_str(line, sizeof(line) - 2, &pos, msg);
		for (i = 0; fields && fields[i] && fields[i + 1]; i += 2) {
			if (pos + 4 >= sizeof(line))
				break;
			line[pos++] = ',';
			json_str(line, sizeof(line) - 2, &pos, fields[i]);
			line[pos++] = ':';
			json_str(line, sizeof(line) - 2, &pos, fields[i + 1]);
		}
		if (pos + 2 < sizeof(line)) {
			line[pos++] = '}';
		}
	} else {
		pos += (size_t)snprintf(line, sizeof(line), "%s %-5s %s: %s", ts,
					level_names[level], component, msg);
		for (i = 0; fields && fields[i] && fields[i + 1] && pos < sizeof(line); i += 2) {
			const char *v = fields[i + 1];
			int quote = !*v || strpbrk(v, " \t=\"") != NULL;
			pos += (size_t)snprintf(line + pos, sizeof(line) - pos,
						quote ? " %s=\"%s\"" : " %s=%s", fields[i], v);
		}
	}
	if (pos >= sizeof(line) - 1)
		pos = sizeof(line) - 2;
	line[pos] = 0;
	if (redact_urls(line, sizeof(line) - 1)) /* never a password of a URL in a log */
		pos = strlen(line);
	line[pos++] = '\n';
	line[pos] = 0;
	pthread_mutex_lock(&L.mu);
	if (level <= L.err_level)
		fputs(line, stderr);
	if (L.file && level <= L.level) {
		fputs(line, L.file);
		fflush(L.file);
	}
	if (L.run_file && level <= L.level) {
		fputs(line, L.run_file);
		fflush(L.run_file);
	}
	pthread_mutex_unlock(&L.mu);
}
