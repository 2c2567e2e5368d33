/* main.c — fakex, the fake Binance USD-M futures exchange: flags, data loading,
 * startup (port file, "listening" line), and the signal loop (SIGTERM/SIGINT stop,
 * SIGUSR1 advances the clock by 4h). Flags are a table: parsing and --help come
 * from it. Exit status: 0 after a clean stop, 2 for bad flags or data, 1 otherwise. */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "banned.h"
#include "server.h"

struct opts {
	const char *dirs[64];
	int ndirs;
	int synthetic;
	int64_t synth_start;
	int64_t now; /* -1: real time */
	const char *listen;
	int port;
	const char *port_file;
	const char *request_log;
	int64_t weight_limit, used_weight, ban_seconds, seed;
	struct faults f;
};

enum ftype { T_DATA, T_INT, T_PROB, T_STR, T_INVALID };

static const struct flag {
	const char *name, *arg, *help;
	enum ftype type;
	size_t off;
	int64_t min, max;
} flags[] = {
#define O(m) offsetof(struct opts, m)
	{"data", "DIR",
	 "load every DIR/SYMBOL-INTERVAL.csv (9 or 12 Binance columns); repeatable, a later DIR "
	 "replaces the same SYMBOL-INTERVAL",
	 T_DATA, 0, 0, 0},
	{"synthetic", "N", "also serve N generated symbols SYN000USDT.. for every interval", T_INT,
	 O(synthetic), 0, 1000},
	{"synthetic-start", "MS",
	 "first synthetic candle opens at or after MS (default 1567296000000, 2019-09-01)", T_INT,
	 O(synth_start), 0, INT64_MAX},
	{"now", "MS",
	 "fix the exchange clock at MS (ms since epoch); without it the clock is real time", T_INT,
	 O(now), 0, INT64_MAX},
	{"listen", "ADDR", "IPv4 address to bind (default 127.0.0.1)", T_STR, O(listen), 0, 0},
	{"port", "N", "TCP port, 0 for an ephemeral one (default 0)", T_INT, O(port), 0, 65535},
	{"port-file", "FILE", "write the bound port to FILE (atomically) once listening", T_STR,
	 O(port_file), 0, 0},
	{"request-log", "FILE", "append one JSON line per request to FILE", T_STR, O(request_log),
	 0, 0},
	{"weight-limit", "N", "request weight allowed per wall-clock minute (default 2400)", T_INT,
	 O(weight_limit), 1, INT64_MAX},
	{"used-weight", "N", "pretend N weight is already used this minute", T_INT, O(used_weight),
	 0, INT64_MAX},
	{"ban-seconds", "S", "length of a 418 ban (default 120)", T_INT, O(ban_seconds), 1,
	 86400 * 365},
	{"retry-after", "S", "Retry-After of an injected 429 (default 1)", T_INT,
	 O(f.retry_after_s), 0, 86400},
	{"seed", "N", "seed of the fault PRNG and of synthetic candles (default 1)", T_INT, O(seed),
	 0, INT64_MAX},
	{"latency-ms", "N", "delay every /fapi request by N ms", T_INT, O(f.latency_ms), 0,
	 3600000},
	{"p5xx", "P", "probability of a 500/502/503/504", T_PROB, O(f.p5xx), 0, 0},
	{"p429", "P", "probability of a 429 with Retry-After --retry-after", T_PROB, O(f.p429), 0,
	 0},
	{"p418", "P", "probability of a 418 that starts a ban", T_PROB, O(f.p418), 0, 0},
	{"phang", "P", "probability of never answering (held until --hang-ms or shutdown)", T_PROB,
	 O(f.phang), 0, 0},
	{"hang-ms", "N", "how long a hung request is held (default 600000)", T_INT, O(f.hang_ms), 0,
	 INT64_MAX},
	{"ptrunc", "P", "probability of a 200 whose body stops halfway (Content-Length not met)",
	 T_PROB, O(f.ptrunc), 0, 0},
	{"pmalformed", "P", "probability of a 200 with syntactically broken JSON", T_PROB,
	 O(f.pmalformed), 0, 0},
	{"invalid-symbol", "SYM",
	 "serve SYM's klines with high < low on one candle per page; repeatable", T_INVALID, 0, 0,
	 0},
	{"help", NULL, "show this help", T_STR, 0, 0, 0},
#undef O
};

static void usage(FILE *out)
{
	fprintf(out, "usage: fakex [--data DIR]... [--synthetic N] [flags]\n"
		     "A fake Binance USD-M futures exchange on 127.0.0.1 for tests and demos.\n\n");
	for (size_t i = 0; i < sizeof(flags) / sizeof(flags[0]); i++) {
		char left[40];
		snprintf(left, sizeof(left), "--%s%s%s", flags[i].name, flags[i].arg ? " " : "",
			 flags[i].arg ? flags[i].arg : "");
		fprintf(out, "  %-24s %s\n", left, flags[i].help);
	}
	fprintf(out,
		"\nControl (not weighted, not faulted): POST /_ctl/clock?set=MS|advance=MS,\n"
		"/_ctl/"
		"faults?p5xx=&p429=&p418=&phang=&ptrunc=&pmalformed=&latency_ms=&retry_after=&"
		"hang_ms=&ban_seconds=&invalid_symbol=SYM|-&reset=1\n"
		"  "
		"&archive_damage=&archive_badsum=&archive_missing=&archive_trunc=&archive_"
		"droprow=&archive_revise=&archive_hang=&archive_hangsum= (a part of the archive "
		"file names "
		"hit) &archive_micros=0|1,\n"
		"  &path=S (faults only on paths containing S) &retry_after_force=DIGITS "
		"(418/429 header) &time_offset_ms=MS (/time only) &empty_from=MS&empty_to=MS "
		"(klines starting there answer []),\n"
		"  &exinfo_empty=N (the next N exchangeInfo answers list no symbol),\n"
		"/_ctl/weight?used=N[&limit=N][&advertise=N], /_ctl/ban?seconds=N (0 lifts),\n"
		"/_ctl/symbol?symbol=S[&status=BREAK|SETTLING|TRADING][&remove=1|0][&omit=1|0]"
		"[&onboard=MS]\n"
		"  (onboard: listed from MS on, no candle before it; omit: left out of\n"
		"  exchangeInfo only, klines still served), GET "
		"/_ctl/state.\n"
		"SIGUSR1 advances the clock by 4h; SIGTERM/SIGINT stop.\n");
}

static int set_flag(struct opts *o, const struct flag *fl, const char *v)
{
	char *p = (char *)o + fl->off;
	switch (fl->type) {
	case T_DATA:
		if (o->ndirs == (int)(sizeof(o->dirs) / sizeof(o->dirs[0])))
			return -1;
		o->dirs[o->ndirs++] = v;
		return 0;
	case T_STR:
		*(const char **)(void *)p = v;
		return 0;
	case T_INVALID:
		if (!*v || strlen(v) > SYMBOL_MAX || o->f.ninvalid == INVALID_MAX)
			return -1;
		snprintf(o->f.invalid[o->f.ninvalid++], SYMBOL_MAX + 1, "%s", v);
		return 0;
	case T_PROB: {
		char *end;
		errno = 0;
		double x = strtod(v, &end);
		if (errno || !*v || *end || !(x >= 0 && x <= 1))
			return -1;
		*(double *)(void *)p = x;
		return 0;
	}
	case T_INT: {
		char *end;
		errno = 0;
		long long x = strtoll(v, &end, 10);
		if (errno || !*v || *end || x < fl->min || x > fl->max)
			return -1;
		if (fl->off == offsetof(struct opts, synthetic) ||
		    fl->off == offsetof(struct opts, port))
			*(int *)(void *)p = (int)x;
		else
			*(int64_t *)(void *)p = x;
		return 0;
	}
	}
	return -1;
}

/* Returns 0, 1 for --help, or 2 after printing the error. */
static int parse_args(struct opts *o, int argc, char **argv)
{
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];
		if (strncmp(a, "--", 2)) {
			fprintf(stderr, "fakex: unexpected argument \"%s\" (see --help)\n", a);
			return 2;
		}
		a += 2;
		const char *eq = strchr(a, '=');
		size_t n = eq ? (size_t)(eq - a) : strlen(a);
		const struct flag *fl = NULL;
		for (size_t k = 0; k < sizeof(flags) / sizeof(flags[0]); k++)
			if (strlen(flags[k].name) == n && !strncmp(flags[k].name, a, n))
				fl = &flags[k];
		if (!fl) {
			fprintf(stderr, "fakex: unknown flag --%.*s (see --help)\n", (int)n, a);
			return 2;
		}
		if (!fl->arg) {
			if (!strcmp(fl->name, "help"))
				return 1;
			continue;
		}
		const char *v = eq ? eq + 1 : (i + 1 < argc ? argv[++i] : NULL);
		if (!v) {
			fprintf(stderr, "fakex: --%s needs a value %s\n", fl->name, fl->arg);
			return 2;
		}
		if (set_flag(o, fl, v)) {
			fprintf(stderr, "fakex: --%s %s: invalid value (%s)\n", fl->name, v,
				fl->help);
			return 2;
		}
	}
	return 0;
}

/* Writes the port to path via a temp file and rename, so readers never see half. */
static int write_port_file(const char *path, int port)
{
	char tmp[4096];
	if ((size_t)snprintf(tmp, sizeof(tmp), "%s.tmp.%ld", path, (long)getpid()) >= sizeof(tmp))
		return -1;
	FILE *f = fopen(tmp, "we");
	if (!f)
		return -1;
	fprintf(f, "%d\n", port);
	if (fflush(f) || fsync(fileno(f)) || ferror(f)) {
		fclose(f);
		unlink(tmp);
		return -1;
	}
	if (fclose(f) || rename(tmp, path)) {
		unlink(tmp);
		return -1;
	}
	return 0;
}

int main(int argc, char **argv)
{
	struct opts o = {
		.synth_start = 1567296000000LL,
		.now = -1,
		.listen = "127.0.0.1",
		.weight_limit = 2400,
		.ban_seconds = 120,
		.seed = 1,
		.f = {.retry_after_s = 1, .hang_ms = 600000},
	};
	int rc = parse_args(&o, argc, argv);
	if (rc == 1) {
		usage(stdout);
		return fflush(stdout) || ferror(stdout) ? 1 : 0;
	}
	if (rc)
		return rc;
	if (!o.ndirs && !o.synthetic) {
		fprintf(stderr,
			"fakex: nothing to serve: give --data DIR or --synthetic N (see --help)\n");
		return 2;
	}

	static struct fakex fx; /* large (counters); lives for the whole run */
	char err[512];
	int status = 2;
	market_init(&fx.market);
	for (int i = 0; i < o.ndirs; i++)
		if (market_load_dir(&fx.market, o.dirs[i], err, sizeof(err)))
			goto fail_market;
	if (market_finish(&fx.market, o.synthetic, o.synth_start, (uint64_t)o.seed, err,
			  sizeof(err)))
		goto fail_market;
	if (o.request_log && reqlog_open(&fx.log, o.request_log, err, sizeof(err)))
		goto fail_market;
	if (state_init(&fx.st)) {
		snprintf(err, sizeof(err), "cannot create a mutex");
		status = 1;
		goto fail_log;
	}
	fx.st.clock_fixed = o.now >= 0;
	fx.st.clock_ms = o.now >= 0 ? o.now : 0;
	fx.st.weight_limit = o.weight_limit;
	fx.st.used = o.used_weight;
	fx.st.minute = wall_ms() / 60000;
	fx.st.ban_seconds = o.ban_seconds;
	fx.st.f = o.f;
	fx.st.prng = (uint64_t)o.seed * 0x9E3779B97F4A7C15ULL + 0x2545F4914F6CDD1DULL;
	if (!fx.st.prng)
		fx.st.prng = 1;

	/* Block the signals before any thread exists, so only sigwait() sees them. */
	sigset_t set;
	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGUSR1);
	sigaddset(&set, SIGPIPE);
	pthread_sigmask(SIG_BLOCK, &set, NULL);

	int port;
	if (server_start(&fx, o.listen, o.port, &port, err, sizeof(err))) {
		status = 1;
		goto fail_state;
	}
	if (o.port_file && write_port_file(o.port_file, port)) {
		snprintf(err, sizeof(err), "--port-file %s: %s", o.port_file, strerror(errno));
		status = 2;
		goto fail_server;
	}
	printf("fakex: listening on %s:%d\n", o.listen, port);
	if (fflush(stdout))
		fprintf(stderr, "fakex: stdout: %s\n", strerror(errno));

	for (;;) {
		int sig;
		if (sigwait(&set, &sig))
			continue;
		if (sig == SIGUSR1) {
			pthread_mutex_lock(&fx.st.lock);
			state_set_now(&fx.st, state_now(&fx.st) + iv_ms(IV_4h));
			pthread_mutex_unlock(&fx.st.lock);
			continue;
		}
		if (sig == SIGTERM || sig == SIGINT)
			break;
	}
	server_stop(&fx);
	state_release(&fx.st);
	reqlog_close(fx.log);
	market_release(&fx.market);
	archive_release();
	return 0;

fail_server:
	server_stop(&fx);
fail_state:
	state_release(&fx.st);
fail_log:
	reqlog_close(fx.log);
fail_market:
	market_release(&fx.market);
	archive_release();
	fprintf(stderr, "fakex: %s\n", err);
	return status;
}
