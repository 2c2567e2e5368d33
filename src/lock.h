/* lock.h — the run lock: flock(2) on "<db>.lock" beside the database (on a database
 * server, an advisory lock there: shared by the workers, see lock.c). The kernel drops
 * it when the holding process dies (kill -9, crash, power loss), so it never goes
 * stale. The file's content is the holder's pid and start time, for messages only. */
#ifndef CK_LOCK_H
#define CK_LOCK_H

#include "err.h"

struct lock;

/* Takes the lock for db_path without waiting; the lock file gets the permission bits
 * mode (cfg_file_mode). CK_ELOCKED with a message naming the
 * holder's pid if another process holds it; CK_EIO if the lock file cannot be opened.
 * *out is released with lock_release (NULL accepted). */
int lock_acquire(struct lock **out, const char *db_path, const char *what, unsigned mode,
		 struct ck_err *err);
void lock_release(struct lock *l);

/* At a safe point of a long run (between batches, each turn of the sync's loop):
 * checks that the run lock l (NULL accepted) is still held. A server's lock lost with
 * its connection (a dropped or terminated session) is logged and taken again; when it
 * cannot be (CK_ELOCKED: another run holds it now; CK_EIO), the run must stop, err
 * says why. A lock file's flock cannot be lost: 0. */
int lock_check(struct lock *l, struct ck_err *err);

/* The cluster leader's lock (one daemon of those sharing a database runs the
 * cluster-wide jobs): called on every scheduler turn with the same *l (NULL at
 * first), it takes the lock when free and checks that a held one is still held
 * (store_leader_lock); *leader says whether this process leads now. On a file
 * database every caller leads (nothing to share). Release with lock_release. */
int lock_leader(struct lock **l, const char *db_path, int *leader, struct ck_err *err);

/* 1 if some process holds the lock of db_path, 0 if not (never takes it for long);
 * *pid and *since (seconds since epoch) filled from the lock file when held (a server
 * database's advisory lock says neither: they stay 0). */
int lock_probe(const char *db_path, long *pid, long long *since, struct ck_err *err);

#endif
