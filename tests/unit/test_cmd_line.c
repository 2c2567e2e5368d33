/* test_cmd_line.c — the command line parsed with the flag tables (cmd_line.c): where
 * each kind of flag may stand, what reaches the command (its own flags as written, then
 * "--" and the operands), what is refused and with which message, and that cmd_getopt
 * walks the command's flags. A small table stands in for main.c's. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <getopt.h>
#include <string.h>

#include "cmd.h"
#include "err.h"
#include "banned.h"

static const struct cmd_opt global[] = {
	{.name = "config", .id = 'c', .shortname = 'c', .arg = "FILE", .help = "file"},
	{.name = "db", .arg = "PATH", .help = "db", .section = "main", .key = "db"},
	{.name = "verbose", .id = 'v', .shortname = 'v', .help = "v"},
	{.name = "quiet", .id = 'q', .shortname = 'q', .help = "q"},
	{.name = "help", .id = 'h', .shortname = 'h', .help = "h"},
	{.name = NULL},
};

static const struct cmd_opt t_opts[] = {
	{.name = "timeout", .arg = "DUR", .help = "t", .section = "sync", .key = "timeout"},
	{.name = "no-gap-repair",
	 .help = "g",
	 .section = "sync",
	 .key = "gap_repair",
	 .value = "0"},
	{.name = "json", .id = 'j', .help = "j"},
	{.name = "output", .id = 'o', .shortname = 'o', .arg = "FILE", .help = "o"},
	{.name = NULL},
};

static int t_run(struct ctx *ctx)
{
	(void)ctx;
	return 0;
}

static const struct cmd t_cmd = {.name = "t", .summary = "s", .opts = t_opts, .run = t_run};
static const struct cmd *const cmds[] = {&t_cmd};

static int parse(struct cmd_line *cl, struct ck_err *err, int argc, const char *const *argv)
{
	return cmd_line_parse(cl, global, cmds, 1, argc, (char **)argv, err);
}

static void test_flags_sorted_out(void **state)
{
	const char *argv[] = {"ck",  "-c",    "f.ini",           "--timeout", "5",
			      "t",   "x.csv", "--json",          "--db=a.db", "-o",
			      "out", "-v",    "--no-gap-repair", "--",        "-y"};
	struct cmd_line cl;
	struct ck_err err = {0, ""};
	struct ctx ctx;
	(void)state;

	assert_int_equal(parse(&cl, &err, 15, argv), 0);
	assert_ptr_equal(cl.cmd, &t_cmd);
	assert_string_equal(cl.cfg_file, "f.ini");
	assert_int_equal(cl.verbose, 1);
	assert_int_equal(cl.help, 0);
	assert_int_equal(cl.nset, 3);
	assert_string_equal(cl.set[0].opt->key, "timeout");
	assert_string_equal(cl.set[0].val, "5");
	assert_string_equal(cl.set[1].val, "a.db");
	assert_string_equal(cl.set[2].val, "0");
	assert_int_equal(cl.argc, 7);
	assert_string_equal(cl.argv[0], "t");
	assert_string_equal(cl.argv[1], "--json");
	assert_string_equal(cl.argv[2], "-o");
	assert_string_equal(cl.argv[3], "out");
	assert_string_equal(cl.argv[4], "--");
	assert_string_equal(cl.argv[5], "x.csv");
	assert_string_equal(cl.argv[6], "-y");
	assert_null(cl.argv[7]);

	memset(&ctx, 0, sizeof(ctx));
	ctx.cmd = cl.cmd;
	ctx.argc = cl.argc;
	ctx.argv = cl.argv;
	optind = 1;
	assert_int_equal(cmd_getopt(&ctx), 'j');
	assert_int_equal(cmd_getopt(&ctx), 'o');
	assert_string_equal(optarg, "out");
	assert_int_equal(cmd_getopt(&ctx), -1);
	assert_int_equal(optind, 5);
	cmd_line_release(&cl);
}

static void test_refused(void **state)
{
	static const struct {
		int argc;
		const char *argv[4];
		const char *msg;
	} cases[] = {
		{3, {"ck", "t", "--bogus"}, "unknown flag --bogus for t (see candlekeep t --help)"},
		{3, {"ck", "--bogus", "t"}, "unknown global flag --bogus (see candlekeep --help)"},
		{4, {"ck", "t", "-c", "f"}, "unknown flag -c for t (see candlekeep t --help)"},
		{3,
		 {"ck", "t", "--verbose"},
		 "unknown flag --verbose for t (see candlekeep t --help)"},
		{3, {"ck", "t", "--json=1"}, "flag --json takes no value"},
		{3, {"ck", "t", "--no-gap-repair=1"}, "flag --no-gap-repair takes no value"},
		{3, {"ck", "t", "--timeout"}, "flag --timeout needs a value"},
		{3, {"ck", "t", "--js"}, "unknown flag --js for t (see candlekeep t --help)"},
		{2, {"ck", "nope"}, "unknown command 'nope' (run candlekeep --help for the list)"},
	};
	size_t i;
	(void)state;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct cmd_line cl;
		struct ck_err err = {0, ""};
		assert_int_equal(parse(&cl, &err, cases[i].argc, cases[i].argv), CK_EUSAGE);
		assert_string_equal(err.msg, cases[i].msg);
		cmd_line_release(&cl);
	}
}

static void test_help_and_no_command(void **state)
{
	const char *a1[] = {"ck", "t", "--help"}, *a2[] = {"ck", "-q"}, *a3[] = {"ck", "-h"};
	struct cmd_line cl;
	struct ck_err err = {0, ""};
	(void)state;

	assert_int_equal(parse(&cl, &err, 3, a1), 0);
	assert_ptr_equal(cl.cmd, &t_cmd);
	assert_int_equal(cl.help, 1);
	cmd_line_release(&cl);
	assert_int_equal(parse(&cl, &err, 2, a2), 0);
	assert_null(cl.cmd);
	assert_int_equal(cl.quiet, 1);
	assert_int_equal(cl.help, 0);
	cmd_line_release(&cl);
	assert_int_equal(parse(&cl, &err, 2, a3), 0);
	assert_null(cl.cmd);
	assert_int_equal(cl.help, 1);
	cmd_line_release(&cl);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_flags_sorted_out),
		cmocka_unit_test(test_refused),
		cmocka_unit_test(test_help_and_no_command),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
