/* redact.h — the one masking of credentials inside URLs: in "scheme://user:password@host"
 * the password, and in "scheme://token@host" the token, is replaced by REDACT_MASK
 * (eight asterisks). Every path that shows text to a person goes through it: error
 * messages (err.c), log lines (log.c), `candlekeep config` (cfg.c) and the run records
 * (store). */
#ifndef CK_REDACT_H
#define CK_REDACT_H

#include <stddef.h>

#define REDACT_MASK "********"

/* Masks the userinfo of every URL inside the NUL-terminated text s (a buffer of size
 * bytes), in place; text that grows past size is cut (always NUL-terminated). Returns
 * how many URLs were masked. */
size_t redact_urls(char *s, size_t size);

/* Copies in to out (size bytes) with redact_urls applied; returns out. */
char *redact_copy(const char *in, char *out, size_t size);

#endif
