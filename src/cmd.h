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
#include <stdio.h>

#include "cfg.h"
#include "utc.h"

struct store;
struct lock;

enum {
	CMD_NEEDS_DB = 1 << 0,   /* open (create, migrate) the database read-write */
	CMD_READS_DB = 1 << 1,   /* open the database read-only (must exist) */
	CMD_TAKES_LOCK = 1 << 2, /* hold the run lock; exit 75 if another run has it */
	CMD_DEADLINE = 1 << 3,   /* set ctx->deadline_ms from [sync] timeout */
	CMD_NO_CONFIG = 1 << 4,  /* runs before the configuration is read (help) */
	CMD_FILE_DB = 1 << 5,    /* a database file only (SQLite): a URL is a usage error */
};

/* Exit codes shared by the commands (DESIGN.md). */
enum {
	EXIT_OK = 0,
	EXIT_PARTIAL = 1, /* at least one symbol failed; the others are stored */
	EXIT_USAGE = 2,
	EXIT_LOCKED = 75,
	EXIT_TIMEOUT = 124,
};

/* One flag: a row of a command's .opts (or of main.c's global flags). The row is the
 * only place a flag exists: the dispatcher parses the command line with it, and
 * `--help`, `candlekeep --help` and the man page's synopsis and OPTIONS are printed
 * from it (cmd_help.c), so a flag cannot be accepted without being documented.
 *
 * A configuration flag has .section and .key: the dispatcher sets that key (after file
 * and environment) and the command never sees the flag. A flag without .arg then sets
 * .value. Any other flag is the command's own: it reaches run() in ctx->argv, where
 * cmd_getopt() returns its .id. */
struct cmd_opt {
	const char *name;          /* --name */
	int id;                    /* the command's own flag: what cmd_getopt() returns */
	const char *arg;           /* the value's placeholder ("DUR"); NULL: takes no value */
	const char *help;          /* one line for --help and the man page */
	const char *section, *key; /* a configuration flag: the key it sets */
	const char *value;         /* a configuration flag without .arg: the value it sets */
	char shortname;            /* also accepted as -x (x = shortname), or 0 */
	unsigned flags;            /* OPT_* */
};

enum {
	OPT_REQUIRED = 1 << 0, /* shown without brackets in the synopsis; run() checks it */
};

struct ctx {
	struct cfg cfg;
	struct store *st;    /* with CMD_NEEDS_DB / CMD_READS_DB */
	struct lock *lock;   /* with CMD_TAKES_LOCK */
	int argc;            /* the command's own arguments, argv[0] = command name: its */
	char **argv;         /* own flags (exact names), then "--" and the operands if any */
	int64_t deadline_ms; /* CLOCK_MONOTONIC ms; 0 = none */
	volatile sig_atomic_t *stop; /* set by SIGINT/SIGTERM */
	const char *cfg_file;        /* -c FILE, or NULL */
	char **envp;
	const struct cmd *cmd; /* the command being run */
};

struct cmd {
	const char *name;
	const char *summary;  /* one line: the command list and the man page */
	const char *operands; /* the synopsis after the flags ("FILE..."), or NULL */
	const char *notes;    /* lines --help prints after the flags, or NULL */
	unsigned flags;
	const struct cmd_opt *opts; /* terminated by {NULL}; NULL = no flags */
	int usage_exit;             /* exit status for bad usage or configuration; 0 = 2
				     * (health: 3, UNKNOWN, as monitoring plugins expect) */
	int (*run)(struct ctx *ctx);
};

/* cmd_line.c: the command line, parsed with the tables. */
struct cmd_set {
	const struct cmd_opt *opt;
	const char *val;
};

struct cmd_line {
	const struct cmd *cmd; /* NULL: none named */
	const char *cfg_file;  /* -c FILE */
	int verbose, quiet, help;
	struct cmd_set *set; /* configuration flags, in command-line order */
	size_t nset;
	int argc; /* the command's: as ctx->argc / ctx->argv */
	char **argv;
};

/* Parses argv: [global flags] COMMAND [its flags, global configuration flags, -v, -q,
 * operands]. Global flags are the rows of global (with -c/--config, -v/--verbose,
 * -q/--quiet and -h/--help as ids 'c', 'v', 'q', 'h'); before the command, a
 * configuration flag of the command is accepted too. Fills cl (strings borrowed from
 * argv; release with cmd_line_release) and returns 0, or CK_EUSAGE with err naming the
 * flag (cl->cmd is set if the command was found). */
int cmd_line_parse(struct cmd_line *cl, const struct cmd_opt *global, const struct cmd *const *cmds,
		   size_t ncmds, int argc, char **argv, struct ck_err *err);
void cmd_line_release(struct cmd_line *cl);

/* In run(): the next of the command's own flags (its .id; optarg holds its value), or
 * -1 at the end (optind then indexes the first operand). Like getopt_long over the
 * command's table; set optind = 1 before the first call. */
int cmd_getopt(struct ctx *ctx);

/* cmd_help.c: the texts generated from the tables. */
void cmd_help_print(FILE *f, const struct cmd *cmd);
void cmd_help_usage(FILE *f, const struct cmd_opt *global, const struct cmd *const *cmds,
		    size_t ncmds);
/* The man page's generated blocks, each between `.\" BEGIN name` and `.\" END name`
 * lines (scripts/gen-man.sh puts them into docs/candlekeep.1). */
void cmd_help_man(FILE *f, const struct cmd_opt *global, const struct cmd *const *cmds,
		  size_t ncmds);

/* cmd_sync.c: a sync or backfill run (run.c's bookkeeping) and its report, shared by
 * sync, backfill and gaps --recheck. Returns the exit code. */
struct sync_opts;
int cmd_sync_common(struct ctx *ctx, const char *command, const struct sync_opts *o);
#endif
