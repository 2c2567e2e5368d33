/* cmd.h — what a command is, and what the dispatcher (main.c) prepares for it.
 *
 * Each src/cmd_<name>.c exports one `const struct cmd cmd_<name>` and main.c lists them.
 * A command's run() returns the process exit status. Flags that merely set a
 * configuration key are declared in .opts and applied by the dispatcher with the right
 * precedence (after file and environment); the rest reach run() in ctx->argv. */
#ifndef CK_CMD_H
#define CK_CMD_H

#include <signal.h>
#include <stdint.h>

#include "cfg.h"
#include "utc.h"

struct store;
struct lock;

enum {
	CMD_NEEDS_DB = 1 << 0,    /* open (create, migrate) the database read-write */
	CMD_READS_DB = 1 << 1,    /* open the database read-only (must exist) */
	CMD_TAKES_LOCK = 1 << 2,  /* hold the run lock; exit 75 if another run has it */
	CMD_DEADLINE = 1 << 3,    /* set ctx->deadline_ms from [sync] timeout */
};

/* Exit codes shared by the commands (DESIGN.md). */
enum {
	EXIT_OK = 0,
	EXIT_PARTIAL = 1, /* at least one symbol failed; the others are stored */
	EXIT_USAGE = 2,
	EXIT_LOCKED = 75,
	EXIT_TIMEOUT = 124,
};

/* A flag that sets a configuration key: --name VALUE (or --name=VALUE); with
 * value != NULL the flag takes no argument and sets that value. */
struct cmd_opt {
	const char *name;
	const char *section, *key;
	const char *value;
};

struct ctx {
	struct cfg cfg;
	struct store *st;        /* with CMD_NEEDS_DB / CMD_READS_DB */
	struct lock *lock;       /* with CMD_TAKES_LOCK */
	int argc;                /* the command's own arguments, argv[0] = command name */
	char **argv;
	int64_t deadline_ms;     /* CLOCK_MONOTONIC ms; 0 = none */
	volatile sig_atomic_t *stop; /* set by SIGINT/SIGTERM */
	const char *cfg_file;    /* -c FILE, or NULL */
	char **envp;
};

struct cmd {
	const char *name;
	const char *usage;
	const char *summary;
	unsigned flags;
	const struct cmd_opt *opts; /* terminated by {NULL} */
	int usage_exit;             /* exit status for bad usage or configuration; 0 = 2
				     * (health: 3, UNKNOWN, as monitoring plugins expect) */
	int (*run)(struct ctx *ctx);
};




/* cmd_sync.c: a sync or backfill run (run.c's bookkeeping) and its report, shared by
 * sync, backfill and gaps --recheck. Returns the exit code. */
struct sync_opts;
int cmd_sync_common(struct ctx *ctx, const char *command, const struct sync_opts *o);
#endif
