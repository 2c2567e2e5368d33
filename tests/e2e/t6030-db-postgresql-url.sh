#!/usr/bin/env bash
# --db postgresql://… or postgres://… selects the PostgreSQL backend: a server that
# cannot be reached is an error naming the (masked) URL and what to check, for every
# command that opens the database (backup and recover too: they work on PostgreSQL
# with pg_dump, t6032), and makes no file; a password in the URL never shows. (t6031 runs the backend against a real server.)
. "$(dirname "$0")/lib.sh"

cd "$T"
for url in 'postgresql://ck:s3cret-pw@127.0.0.1:1/candles' 'postgres://127.0.0.1:1/candles'; do
	for c in sync gaps metrics audit "export --symbol BTCUSDT" health backup recover; do
		RC=0; "$CK" --db "$url" $c >"$T/out" 2>"$T/err" || RC=$?
		[ "$RC" != 0 ] || fail "$c with --db $url (no server) exited 0"
		cat "$T/out" "$T/err" >"$T/all"
		assert_file_match "$T/all" "127.0.0.1:1/candles: connection to server .* failed.*check the URL"
		if grep -q s3cret "$T/all"; then fail "$c shows the URL's password"; fi
	done
done
left=$(find "$T" -mindepth 1 -not -name out -not -name err -not -name all | head -3)
assert_eq "$left" "" "files made for an unreachable --db"
echo "t6030 ok"
