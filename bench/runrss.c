/* runrss.c — bench helper: runs a command, then prints "elapsed_s=S maxrss_kb=K exit=N
 * cpu_s=C" on stderr (wall time from CLOCK_MONOTONIC, peak resident set size and the
 * user + system CPU time from wait4's rusage). Usage: runrss COMMAND [ARGS...]; exits with the
 * command's exit code. */
#include <stdio.h>
#include <stdlib.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "banned.h"

int main(int argc, char **argv)
{
	struct timespec a, b;
	struct rusage ru;
	pid_t pid;
	int st = 0;

	if (argc < 2) {
		fprintf(stderr, "usage: runrss COMMAND [ARGS...]\n");
		return 2;
	}
	clock_gettime(CLOCK_MONOTONIC, &a);
	pid = fork();
	if (pid < 0) {
		perror("runrss: fork");
		return 2;
	}
	if (pid == 0) {
		execvp(argv[1], argv + 1);
		perror("runrss: exec");
		_exit(127);
	}
	if (wait4(pid, &st, 0, &ru) < 0) {
		perror("runrss: wait4");
		return 2;
	}
	clock_gettime(CLOCK_MONOTONIC, &b);
	fprintf(stderr, "elapsed_s=%.3f maxrss_kb=%ld exit=%d cpu_s=%.3f\n",
		(double)(b.tv_sec - a.tv_sec) + (double)(b.tv_nsec - a.tv_nsec) / 1e9, ru.ru_maxrss,
		WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st),
		(double)(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) +
			(double)(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6);
	return WIFEXITED(st) ? WEXITSTATUS(st) : 1;
}
