/* cmd_help.c — the texts generated from the command and flag tables: `candlekeep
 * --help`, `candlekeep COMMAND --help`, and the man page's SYNOPSIS, GLOBAL OPTIONS,
 * command headings and per-command OPTIONS (`candlekeep help --man`; the hand-written
 * rest of docs/candlekeep.1 stays as it is, scripts/gen-man.sh puts the blocks in). */
#include <ctype.h>
#include <stdio.h>
#include <string.h>

#include "cmd.h"
#include "banned.h"

#define WIDTH 88 /* synopsis lines wrap before this column */

/* "--name ARG" or "-x, --name ARG" into buf. */
static const char *opt_spec(const struct cmd_opt *o, int with_short, char *buf, size_t n)
{
	char sh[8] = "";
	if (with_short && o->shortname)
		snprintf(sh, sizeof(sh), "-%c, ", o->shortname);
	snprintf(buf, n, "%s--%s%s%s", sh, o->name, o->arg ? " " : "", o->arg ? o->arg : "");
	return buf;
}

/* The synopsis words of opts: "[--name ARG]", required ones first and bare. */
static void synopsis(FILE *f, const struct cmd_opt *opts, const char *lead, size_t col,
		     size_t indent)
{
	char spec[128], word[160];
	int pass;

	fputs(lead, f);
	for (pass = 0; pass < 2; pass++) {
		const struct cmd_opt *o;
		for (o = opts; o && o->name; o++) {
			int req = (o->flags & OPT_REQUIRED) != 0;
			if (req != (pass == 0))
				continue;
			if (o->shortname) /* -c FILE, -v: the short form */
				snprintf(spec, sizeof(spec), "-%c%s%s", o->shortname,
					 o->arg ? " " : "", o->arg ? o->arg : "");
			else
				opt_spec(o, 0, spec, sizeof(spec));
			snprintf(word, sizeof(word), req ? "%s" : "[%s]", spec);
			if (col + 1 + strlen(word) > WIDTH) {
				fprintf(f, "\n%*s", (int)indent, "");
				col = indent;
			} else {
				fputc(' ', f);
				col++;
			}
			fputs(word, f);
			col += strlen(word);
		}
	}
}

/* text from column col on, wrapped at spaces before WIDTH, continued at column 23. */
static void wrap(FILE *f, const char *text, size_t col)
{
	while (*text) {
		size_t len = strlen(text), cut = len;
		if (col + len > WIDTH) {
			for (cut = WIDTH - col; cut > 0 && text[cut] != ' '; cut--)
				;
			if (!cut)
				cut = len;
		}
		fprintf(f, "%.*s", (int)cut, text);
		text += cut;
		if (*text) {
			text++;
			fprintf(f, "\n%23s", "");
			col = 23;
		}
	}
	fputc('\n', f);
}

static void opt_lines(FILE *f, const struct cmd_opt *o)
{
	char spec[128], text[512];
	for (; o && o->name; o++) {
		opt_spec(o, 1, spec, sizeof(spec));
		if (strlen(spec) > 20)
			fprintf(f, "  %s\n  %-20s ", spec, "");
		else
			fprintf(f, "  %-20s ", spec);
		if (o->key)
			snprintf(text, sizeof(text), "%s ([%s] %s)", o->help, o->section, o->key);
		else
			snprintf(text, sizeof(text), "%s", o->help);
		wrap(f, text, 23);
	}
}

void cmd_help_print(FILE *f, const struct cmd *cmd)
{
	char lead[64];
	int n = snprintf(lead, sizeof(lead), "usage: candlekeep [-c FILE] %s", cmd->name);

	synopsis(f, cmd->opts, lead, (size_t)n, 8);
	if (cmd->operands)
		fprintf(f, " %s", cmd->operands);
	fprintf(f, "\n%s\n\n", cmd->summary);
	opt_lines(f, cmd->opts);
	fprintf(f, "  %-20s %s\n", "-h, --help", "print this help");
	if (cmd->notes)
		fprintf(f, "%s\n", cmd->notes);
	fprintf(f, "Global flags: candlekeep --help (a configuration flag may also follow the"
		   " command).\n");
}

void cmd_help_usage(FILE *f, const struct cmd_opt *global, const struct cmd *const *cmds,
		    size_t ncmds)
{
	size_t i;

	synopsis(f, global, "usage: candlekeep", 17, 18);
	fprintf(f, "\n                  COMMAND [flags]\n\nglobal flags (a configuration flag"
		   " may also come after the command):\n");
	opt_lines(f, global);
	fprintf(f, "\ncommands:\n");
	for (i = 0; i < ncmds; i++)
		fprintf(f, "  %-10s %s\n", cmds[i]->name, cmds[i]->summary);
	fprintf(f, "\nRun 'candlekeep COMMAND --help' for a command's flags; 'candlekeep config'"
		   " prints the effective configuration.\n");
}

/* s with roff's specials escaped: '-' as \-, '\' as \e. */
static void man_puts(FILE *f, const char *s)
{
	for (; *s; s++) {
		if (*s == '-')
			fputs("\\-", f);
		else if (*s == '\\')
			fputs("\\e", f);
		else
			fputc(*s, f);
	}
}

/* lead, then \fB\-\-name\fR \fIARG\fR */
static void man_tag_long(FILE *f, const struct cmd_opt *o, const char *lead)
{
	fputs(lead, f);
	fputs("\\fB\\-\\-", f);
	man_puts(f, o->name);
	fputs("\\fR", f);
	if (o->arg) {
		fputs(" \\fI", f);
		man_puts(f, o->arg);
		fputs("\\fR", f);
	}
}

/* The man page's tag of a flag: \fB\-x\fR, \fB\-\-name\fR \fIARG\fR */
static void man_tag(FILE *f, const struct cmd_opt *o)
{
	char sh[16] = "";
	if (o->shortname)
		snprintf(sh, sizeof(sh), "\\fB\\-%c\\fR, ", o->shortname);
	man_tag_long(f, o, sh);
}

static void man_opts(FILE *f, const struct cmd_opt *o)
{
	for (; o && o->name; o++) {
		fputs(".TP\n", f);
		man_tag(f, o);
		fprintf(f, "\n%c", toupper((unsigned char)o->help[0]));
		man_puts(f, o->help + 1);
		if (o->key)
			fprintf(f, " ([%s] %s)", o->section, o->key);
		fputs(".\n", f);
	}
}

static void man_cmd(FILE *f, const struct cmd *cmd)
{
	const struct cmd_opt *o;
	int pass;

	fprintf(f, ".\\\" BEGIN SS %s\n.SS %s", cmd->name, cmd->name);
	for (pass = 0; pass < 2; pass++)
		for (o = cmd->opts; o && o->name; o++) {
			int req = (o->flags & OPT_REQUIRED) != 0;
			if (req != (pass == 0))
				continue;
			fputs(req ? " \\-\\-" : " [\\-\\-", f);
			man_puts(f, o->name);
			if (o->arg) {
				fputc(' ', f);
				man_puts(f, o->arg);
			}
			if (!req)
				fputc(']', f);
		}
	if (cmd->operands) {
		fputc(' ', f);
		man_puts(f, cmd->operands);
	}
	fprintf(f, "\n.\\\" END SS %s\n", cmd->name);
	fprintf(f, ".\\\" BEGIN OPTIONS %s\n", cmd->name);
	if (cmd->opts && cmd->opts->name) {
		fputs(".RS\n", f);
		man_opts(f, cmd->opts);
		fputs(".RE\n", f);
	}
	fprintf(f, ".\\\" END OPTIONS %s\n", cmd->name);
}

void cmd_help_man(FILE *f, const struct cmd_opt *global, const struct cmd *const *cmds,
		  size_t ncmds)
{
	const struct cmd_opt *o;
	size_t i;

	fputs(".\\\" BEGIN SYNOPSIS\n.B candlekeep\n", f);
	for (o = global; o && o->name; o++) {
		if (o->shortname)
			fprintf(f, "[\\fB\\-%c\\fR%s", o->shortname, o->arg ? " \\fI" : "");
		else
			man_tag_long(f, o, "[");
		if (o->shortname && o->arg) {
			man_puts(f, o->arg);
			fputs("\\fR", f);
		}
		fputs("]\n", f);
	}
	fputs("\\fICOMMAND\\fR [\\fIflags\\fR]\n.\\\" END SYNOPSIS\n", f);
	fputs(".\\\" BEGIN GLOBAL OPTIONS\n", f);
	man_opts(f, global);
	fputs(".\\\" END GLOBAL OPTIONS\n", f);
	for (i = 0; i < ncmds; i++)
		man_cmd(f, cmds[i]);
}
