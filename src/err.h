/* err.h — the project's error codes and the caller-owned error buffer.
 *
 * Every function that can fail returns 0 or a negative CK_E* code and, on failure
 * only, fills a struct ck_err that the caller owns, so calls chain:
 *     if (store_open(&st, path, &err) || store_migrate(st, &err)) goto fail;
 * Codes are never renumbered or reused. A message names the object, the operation,
 * the cause and, where there is one, what to do. */
#ifndef CK_ERR_H
#define CK_ERR_H

enum {
	CK_OK = 0,
	CK_EIO = -1,         /* a file or socket operation failed */
	CK_ECORRUPT = -2,    /* the database (or a backup) is damaged */
	CK_EHTTP = -3,       /* an HTTP status the exchange should not send */
	CK_EBANNED = -4,     /* HTTP 418: the IP is banned until a time */
	CK_EVALIDATE = -5,   /* outside input broke a rule (candle, CSV, JSON, INI) */
	CK_ETIMEOUT = -6,    /* a deadline passed */
	CK_ENOMEM = -7,      /* allocation failed or a ceiling was reached */
	CK_ELOCKED = -8,     /* another process holds the run lock */
	CK_EUSAGE = -9,      /* bad flags or configuration */
	CK_ENOTFOUND = -10,  /* the thing asked for does not exist (symbol, backup) */
	CK_ERATELIMIT = -11, /* HTTP 429 retries exhausted */
	CK_ENET = -12,       /* connect/read failure or timeout talking to a server */
	CK_EDB = -13,        /* SQLite said no (busy, full, read-only) */
	CK_EFULL = -14,      /* no space left on a device */
	CK_ESTOPPED = -15,   /* a stop was requested (signal) */
	CK_ELOST = -16,      /* the database server connection was lost (a new one is made) */
};

struct ck_err {
	int code;
	char msg[512]; /* room for two paths and what to do */
};

/* Fills err (if not NULL) with code and a printf-style message; returns code,
 * so `return ck_err_set(err, CK_EIO, "open %s: %s", path, strerror(errno));` works. */
int ck_err_set(struct ck_err *err, int code, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* Prefixes an existing message: "context: old message". Returns err->code. */
int ck_err_wrap(struct ck_err *err, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* A short stable name for a code ("EIO", "EBANNED", ...), for logs and run records. */
const char *ck_err_name(int code);

#endif
