/* err.c — filling the caller-owned error buffer. */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "err.h"
#include "redact.h"
#include "banned.h"

int ck_err_set(struct ck_err *err, int code, const char *fmt, ...)
{
	if (err) {
		va_list ap;
		va_start(ap, fmt);
		err->code = code;
		vsnprintf(err->msg, sizeof(err->msg), fmt, ap);
		va_end(ap);
		redact_urls(err->msg, sizeof(err->msg));
	}
	return code;
}

int ck_err_wrap(struct ck_err *err, const char *fmt, ...)
{
	char prefix[128], old[sizeof(err->msg)];
	va_list ap;

	if (!err)
		return CK_EIO;
	va_start(ap, fmt);
	vsnprintf(prefix, sizeof(prefix), fmt, ap);
	va_end(ap);
	memcpy(old, err->msg, sizeof(old));
	snprintf(err->msg, sizeof(err->msg), "%s: %s", prefix, old);
	redact_urls(err->msg, sizeof(err->msg));
	return err->code;
}

const char *ck_err_name(int code)
{
	static const char *const names[] = {
		"OK",       "EIO",    "ECORRUPT", "EHTTP",    "EBANNED",   "EVALIDATE",
		"ETIMEOUT", "ENOMEM", "ELOCKED",  "EUSAGE",   "ENOTFOUND", "ERATELIMIT",
		"ENET",     "EDB",    "EFULL",    "ESTOPPED", "ELOST",
	};
	if (code > 0 || -code >= (int)(sizeof(names) / sizeof(names[0])))
		return "EUNKNOWN";
	return names[-code];
}
