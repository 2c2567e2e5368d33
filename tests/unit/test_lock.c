/* test_lock.c — the run lock (lock.c): a second holder gets CK_ELOCKED naming the
 * holder's pid, even from a forked process; a dead holder's lock is free at once; probe;
 * an unwritable directory is an error naming the lock file. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "err.h"
#include "lock.h"
#include "banned.h"
#include "test_tmp.h"

struct fixture {
	char dir[64];
	char db[128];
	struct ck_err err;
};

static int setup(void **state)
{
	struct fixture *fx = calloc(1, sizeof(*fx));
	assert_non_null(fx);
	test_tmp_template(fx->dir, sizeof(fx->dir), "ck-test-lock");
	assert_non_null(mkdtemp(fx->dir));
	snprintf(fx->db, sizeof(fx->db), "%s/c.db", fx->dir);
	*state = fx;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *fx = *state;
	char cmd[128];
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", fx->dir);
	if (system(cmd) != 0)
		return -1;
	free(fx);
	return 0;
}

static void test_lock_excludes_and_names_pid(void **state)
{
	struct fixture *fx = *state;
	struct lock *a = NULL, *b = NULL;
	long pid = 0;
	long long since = 0;
	char want[32];

	assert_int_equal(lock_probe(fx->db, &pid, &since, &fx->err), 0);
	assert_int_equal(lock_acquire(&a, fx->db, "sync", 0640, &fx->err), 0);
	assert_int_equal(lock_probe(fx->db, &pid, &since, &fx->err), 1);
	assert_int_equal(pid, (long)getpid());
	assert_true(since > 1600000000LL);
	/* A second acquire in the same process is refused too (flock per open file). */
	assert_int_equal(lock_acquire(&b, fx->db, "sync", 0640, &fx->err), CK_ELOCKED);
	assert_null(b);
	snprintf(want, sizeof(want), "%ld", (long)getpid());
	assert_non_null(strstr(fx->err.msg, want));
	lock_release(a);
	assert_int_equal(lock_probe(fx->db, &pid, &since, &fx->err), 0);
	assert_int_equal(lock_acquire(&b, fx->db, "sync", 0640, &fx->err), 0);
	lock_release(b);
	lock_release(NULL);
}

static void test_lock_dies_with_holder(void **state)
{
	struct fixture *fx = *state;
	struct lock *l = NULL;
	int p[2], st;
	char c, want[32];
	pid_t child;

	assert_int_equal(pipe(p), 0);
	child = fork();
	assert_true(child >= 0);
	if (child == 0) {
		struct lock *cl = NULL;
		struct ck_err e;
		close(p[0]);
		if (lock_acquire(&cl, fx->db, "sync", 0640, &e) != 0)
			_exit(3);
		if (write(p[1], "x", 1) != 1)
			_exit(4);
		pause(); /* killed with SIGKILL, never releases */
		_exit(0);
	}
	close(p[1]);
	assert_int_equal(read(p[0], &c, 1), 1);
	close(p[0]);
	assert_int_equal(lock_acquire(&l, fx->db, "sync", 0640, &fx->err), CK_ELOCKED);
	snprintf(want, sizeof(want), "pid %ld", (long)child);
	assert_non_null(strstr(fx->err.msg, want));
	assert_int_equal(kill(child, SIGKILL), 0);
	assert_int_equal(waitpid(child, &st, 0), child);
	/* The lock file is still there, but the kernel dropped the lock. */
	assert_int_equal(lock_acquire(&l, fx->db, "sync", 0640, &fx->err), 0);
	lock_release(l);
}

static void test_lock_unwritable_dir(void **state)
{
	struct lock *l = NULL;
	struct ck_err err = {0, ""};
	(void)state;
	assert_int_equal(lock_acquire(&l, "/nonexistent-dir-ck/c.db", "sync", 0640, &err), CK_EIO);
	assert_null(l);
	assert_non_null(strstr(err.msg, "/nonexistent-dir-ck/c.db.lock"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_lock_excludes_and_names_pid, setup, teardown),
		cmocka_unit_test_setup_teardown(test_lock_dies_with_holder, setup, teardown),
		cmocka_unit_test(test_lock_unwritable_dir),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
