/* cmd_line.c — the command line, parsed with the flag tables (struct cmd_opt): the
 * global flags, the command, its configuration flags (collected for the dispatcher) and
 * its own flags (handed to run() in a fixed order that cmd_getopt walks). A flag that is
 * in no table is refused here, before anything is opened. */
#include <getopt.h>
#include <stdlib.h>
#include <string.h>

#include "cmd.h"
#include "err.h"
#include "banned.h"

#define MAX_OPTS 32

/* The row of opts named by arg ("--name", "--name=value" or, with shortname, "-x",
 * "-xVALUE"), or NULL. *eq is set to the inline value ("=value" or "VALUE") or NULL. */
static const struct cmd_opt *opt_find(const struct cmd_opt *opts, const char *arg, const char **inl)
{
	*inl = NULL;
	if (!opts)
		return NULL;
	if (arg[0] == '-' && arg[1] == '-') {
		const char *name = arg + 2, *eq = strchr(name, '=');
		size_t len = eq ? (size_t)(eq - name) : strlen(name);
		for (; opts->name; opts++)
			if (strlen(opts->name) == len && !strncmp(opts->name, name, len)) {
				*inl = eq ? eq + 1 : NULL;
				return opts;
			}
		return NULL;
	}
	for (; opts->name; opts++)
		if (opts->shortname && arg[1] == opts->shortname) {
			*inl = arg[2] ? arg + 2 : NULL;
			return opts;
		}
	return NULL;
}

static int is_flag(const char *a)
{
	return a[0] == '-' && a[1] != '\0';
}

/* The value of flag o at argv[*i] (inline or the next argument), or NULL after filling
 * err. A flag without .arg must not have one. */
static const char *opt_value(const struct cmd_opt *o, const char *inl, int argc, char **argv,
			     int *i, struct ck_err *err)
{
	if (!o->arg) {
		if (inl) {
			ck_err_set(err, CK_EUSAGE, "flag --%s takes no value", o->name);
			return NULL;
		}
		return o->value ? o->value : "";
	}
	if (inl)
		return inl;
	if (*i + 1 >= argc) {
		ck_err_set(err, CK_EUSAGE, "flag --%s needs a value", o->name);
		return NULL;
	}
	return argv[++*i];
}

static const struct cmd *find_cmd(const struct cmd *const *cmds, size_t n, const char *name)
{
	size_t k;
	for (k = 0; k < n; k++)
		if (!strcmp(cmds[k]->name, name))
			return cmds[k];
	return NULL;
}

/* Where the command name is: the first argument that is no flag and no flag's value.
 * A flag before it takes a value if any table's row of that name does. */
static int find_cmd_at(const struct cmd_opt *global, const struct cmd *const *cmds, size_t n,
		       int argc, char **argv)
{
	int i;
	size_t k;

	for (i = 1; i < argc; i++) {
		const struct cmd_opt *o;
		const char *inl;
		if (!strcmp(argv[i], "--"))
			return -1;
		if (!is_flag(argv[i]))
			return i;
		o = opt_find(global, argv[i], &inl);
		for (k = 0; !o && k < n; k++)
			if ((o = opt_find(cmds[k]->opts, argv[i], &inl)) && !o->key)
				o = NULL;
		if (o && o->arg && !inl)
			i++;
	}
	return -1;
}

static int add_set(struct cmd_line *cl, const struct cmd_opt *o, const char *val)
{
	cl->set[cl->nset].opt = o;
	cl->set[cl->nset++].val = val;
	return 0;
}

/* The flags before the command: global ones, and the command's configuration flags. */
static int parse_leading(struct cmd_line *cl, const struct cmd_opt *global, int at, char **argv,
			 struct ck_err *err)
{
	int i;

	for (i = 1; i < at; i++) {
		const char *inl, *val;
		const struct cmd_opt *o = opt_find(global, argv[i], &inl);
		if (!o && cl->cmd && (o = opt_find(cl->cmd->opts, argv[i], &inl)) && !o->key)
			o = NULL;
		if (!o || (!o->key && !o->id))
			return ck_err_set(err, CK_EUSAGE,
					  "unknown global flag %s (see candlekeep --help)",
					  argv[i]);
		if (!(val = opt_value(o, inl, at, argv, &i, err)))
			return err->code;
		if (o->key)
			add_set(cl, o, val);
		else if (o->id == 'c')
			cl->cfg_file = val;
		else if (o->id == 'v')
			cl->verbose = 1;
		else if (o->id == 'q')
			cl->quiet = 1;
		else if (o->id == 'h')
			cl->help = 1;
	}
	return 0;
}

/* The arguments after the command: its flags, global configuration flags, -v, -q, -h
 * and --help; the command's own flags go to cl->argv first, then "--" and the operands. */
static int parse_trailing(struct cmd_line *cl, const struct cmd_opt *global, int at, int argc,
			  char **argv, char **operands, struct ck_err *err)
{
	static char dashdash[] = "--";
	const struct cmd *cmd = cl->cmd;
	int i, nops = 0, k;

	cl->argv[cl->argc++] = argv[at];
	for (i = at + 1; i < argc; i++) {
		const char *a = argv[i], *inl, *val;
		const struct cmd_opt *o;
		int first = i;

		if (!strcmp(a, "--")) {
			while (++i < argc)
				operands[nops++] = argv[i];
			break;
		}
		if (!is_flag(a)) {
			operands[nops++] = argv[i];
			continue;
		}
		o = opt_find(cmd->opts, a, &inl);
		if (!o && (o = opt_find(global, a, &inl)) && !o->key &&
		    !(o->id == 'h' || ((o->id == 'v' || o->id == 'q') && a[1] != '-')))
			o = NULL; /* -c, --verbose and --quiet only before the command */
		if (!o)
			return ck_err_set(err, CK_EUSAGE,
					  "unknown flag %s for %s (see candlekeep %s --help)", a,
					  cmd->name, cmd->name);
		if (!(val = opt_value(o, inl, argc, argv, &i, err)))
			return err->code;
		if (o->key)
			add_set(cl, o, val);
		else if (opt_find(cmd->opts, a, &inl) == o) /* the command's own: as written */
			for (; first <= i; first++)
				cl->argv[cl->argc++] = argv[first];
		else if (o->id == 'h')
			cl->help = 1;
		else if (o->id == 'v')
			cl->verbose = 1;
		else
			cl->quiet = 1;
	}
	if (nops)
		cl->argv[cl->argc++] = dashdash;
	for (k = 0; k < nops; k++)
		cl->argv[cl->argc++] = operands[k];
	cl->argv[cl->argc] = NULL;
	return 0;
}

int cmd_line_parse(struct cmd_line *cl, const struct cmd_opt *global, const struct cmd *const *cmds,
		   size_t ncmds, int argc, char **argv, struct ck_err *err)
{
	char **operands = NULL;
	int at, rc;

	memset(cl, 0, sizeof(*cl));
	at = find_cmd_at(global, cmds, ncmds, argc, argv);
	if (at > 0 && !(cl->cmd = find_cmd(cmds, ncmds, argv[at])))
		return ck_err_set(err, CK_EUSAGE,
				  "unknown command '%s' (run candlekeep --help for the list)",
				  argv[at]);
	if (!(cl->set = calloc((size_t)argc + 1, sizeof(*cl->set))) ||
	    !(cl->argv = calloc((size_t)argc + 2, sizeof(*cl->argv))) ||
	    !(operands = calloc((size_t)argc + 1, sizeof(*operands))))
		rc = ck_err_set(err, CK_ENOMEM, "out of memory");
	else if (!(rc = parse_leading(cl, global, at > 0 ? at : argc, argv, err)) && cl->cmd)
		rc = parse_trailing(cl, global, at, argc, argv, operands, err);
	free(operands);
	return rc;
}

void cmd_line_release(struct cmd_line *cl)
{
	free(cl->set);
	free(cl->argv);
	cl->set = NULL;
	cl->argv = NULL;
}

int cmd_getopt(struct ctx *ctx)
{
	struct option lo[MAX_OPTS + 1];
	char so[2 * MAX_OPTS + 2];
	const struct cmd_opt *o = ctx->cmd ? ctx->cmd->opts : NULL;
	size_t n = 0, s = 0;

	so[s++] = '+'; /* the dispatcher put the flags first: stop at the first operand */
	for (; o && o->name && n < MAX_OPTS; o++) {
		if (o->key)
			continue;
		lo[n].name = o->name;
		lo[n].has_arg = o->arg ? required_argument : no_argument;
		lo[n].flag = NULL;
		lo[n++].val = o->id;
		if (o->shortname) {
			so[s++] = o->shortname;
			if (o->arg)
				so[s++] = ':';
		}
	}
	memset(&lo[n], 0, sizeof(lo[n]));
	so[s] = '\0';
	opterr = 0;
	return getopt_long(ctx->argc, ctx->argv, so, lo, NULL);
}
