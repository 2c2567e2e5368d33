#!/usr/bin/env bash
# A worker whose share of the symbols is only unlisted ones (issue 18; t6033 failed on
# it): the other symbols are claimed by another worker (here a psql session holding
# their advisory locks, as a worker's store does). "None of the configured symbols is
# listed" is about the configured symbols, not about this worker's share: the run is
# ok (its symbol skipped with a warning), while a configuration whose symbols are all
# unlisted still fails however the claims split it.
. "$(dirname "$0")/lib.sh"
. "$CK_TOP/tests/e2e/pg_lib.sh"

pg_start
fakex_start --data "$DATA" --now 1773273600000 # 2026-03-12 00:00 UTC
DB=$(pg_createdb ck)
ck -q --symbols BTCUSDT --history-days 2 sync >"$T/init.out" 2>&1 ||
	{ cat "$T/init.out"; fail "first sync"; }

# hold SYMBOLS...: another session holds the claims of these 4h symbols for 60 s.
hold() {
	local sql="" s
	for s in "$@"; do
		sql+="SELECT pg_advisory_lock(hashtextextended('um/4h/$s', 0));"
	done
	"${PSQL[@]}" -d ck -c "SET application_name = 'holder'; $sql SELECT pg_sleep(60)" \
		>/dev/null 2>&1 &
	HOLDER=$!
	_pids+=("$HOLDER")
	wait_for 30 "the holder's claims" "[ \"\$(\"\${PSQL[@]}\" -d ck -c \"select count(*) from pg_locks l join pg_stat_activity a using (pid) where l.locktype = 'advisory' and l.granted and a.application_name = 'holder'\")\" = $# ]"
}
release() { # (a killed psql leaves its server session sleeping: end that)
	"${PSQL[@]}" -d ck -c "select pg_terminate_backend(pid) from pg_stat_activity where application_name = 'holder'" >/dev/null
	wait "$HOLDER" 2>/dev/null || true
	wait_for 30 "the holder's session to end" \
		"[ \"\$(\"\${PSQL[@]}\" -d ck -c \"select count(*) from pg_stat_activity where application_name = 'holder'\")\" = 0 ]"
}

# 1. Three listed symbols held elsewhere; this worker gets the delisted one.
hold BTCUSDT ETHUSDT TONUSDT
ck_rc --symbols BTCUSDT,ETHUSDT,TONUSDT,CFGUSDT --history-days 2 sync >"$T/1.out" 2>&1
cat "$T/1.out"
assert_eq "$RC" 0 "exit code of a worker whose share is one unlisted symbol"
assert_file_match "$T/1.out" "3 of 4 symbols were claimed by other workers"
! grep -q "none of the" "$T/1.out" || fail "a worker with one unlisted symbol said none is listed"
release

# 2. Every configured symbol is unlisted, one of them held elsewhere: still a failure,
# and it names the configured count.
hold FOOUSDT
ck_rc --symbols FOOUSDT,BARUSDT --history-days 2 sync >"$T/2.out" 2>&1
cat "$T/2.out"
assert_eq "$RC" 1 "exit code when no configured symbol is listed"
assert_file_match "$T/2.out" "none of the 2 configured symbols is listed on the exchange"
release

# 3. The same alone (no claims elsewhere): unchanged.
ck_rc --symbols FOOUSDT,BARUSDT --history-days 2 sync >"$T/3.out" 2>&1
assert_eq "$RC" 1 "exit code when no configured symbol is listed (one worker)"
assert_file_match "$T/3.out" "none of the 2 configured symbols is listed on the exchange"
echo "ok"
