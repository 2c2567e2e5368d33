/* fault.h — fault injection for tests (SQLite's N-th I/O fault sweeps, curl's torture
 * mode). Compiled in only with -DCK_FAULT_INJECTION (the Makefile's test builds, not
 * `make install`), and armed only by environment variables, read once:
 *   CANDLEKEEP_FAULT_IO=N    the N-th write/sync/truncate of a database file fails
 *                            (SQLITE_IOERR, or SQLITE_FULL with _FULL=1), and every
 *                            later one too (a disk that stays broken)
 *   CANDLEKEEP_FAULT_FULL=1  report the failure as "disk full"
 *   CANDLEKEEP_FAULT_KILL=N  the process kills itself with SIGKILL at the N-th write,
 *                            sync or truncate (a crash in the middle of a transaction)
 *   CANDLEKEEP_FAULT_POINT=NAME  the process kills itself with SIGKILL when it reaches
 *                            the named point (fault_point(NAME)), e.g. "alert_queued"
 *   CANDLEKEEP_FAULT_HANG=S  fault_hang(S) says 1: the daemon's scheduler hangs in job S
 *   CANDLEKEEP_FAULT_DAMAGE=S  fault_damage(S) says 1: the caller damages what it just
 *                            wrote at site S (backup-copy: one byte of the hot copy, as
 *                            a bad write would), so that its verification is shown to
 *                            catch it; pg-reconnect, pg-span-in-tx: the PostgreSQL
 *                            session ends itself (store_pg.c)
 *   CANDLEKEEP_FAULT_NOW=MS  sync's local clock reads MS (ms since epoch) for its
 *                            decisions (closed candles, hole evidence), so tests move it
 *                            with the fake exchange's clock (src/utc.c now_local_ms)
 * Without the define, fault_vfs_name() returns NULL and nothing else exists. */
#ifndef CK_FAULT_H
#define CK_FAULT_H

/* 1 when CANDLEKEEP_FAULT_HANG names site (e.g. the daemon job "health"): the caller
 * then hangs there, as a scheduler stuck in a job would. Always 0 without the define. */
int fault_hang(const char *site);

/* 1 when CANDLEKEEP_FAULT_DAMAGE names site: the caller then damages the bytes it just
 * wrote there. Always 0 without the define. */
int fault_damage(const char *site);

/* The name of the fault-injecting SQLite VFS to open databases with, registering it on
 * first use, or NULL when no fault is armed (use the default VFS). */
const char *fault_vfs_name(void);

/* A named crash point: with CANDLEKEEP_FAULT_POINT=name the process dies here by
 * SIGKILL (test builds; a no-op otherwise). Points in use: alert_queued (an alert raised
 * in the database, not yet sent), recover-quarantined (the damaged files moved, nothing
 * restored yet), recover-built (the replacement built beside the database, not yet
 * installed), recover-installed (installed, the re-sync not yet run). */
void fault_point(const char *name);

#endif
