#!/usr/bin/env bash
# --db postgresql://… or postgres://… selects the PostgreSQL backend: a server that
# cannot be reached is an error naming the (masked) URL and what to check, for every
# command that opens the database, and makes no file; backup and recover, which work
# on a database file, refuse a URL as a usage error saying what to use instead; a
# password in the URL never shows. (t6031 runs the backend against a real server.)
. "$(dirname "$0")/lib.sh"

cd "$T"
for url in 'postgresql://ck:s3cret-pw@127.0.0.1:1/candles' 'postgres://127.0.0.1:1/candles'; do
	for c in sync gaps metrics audit "export --symbol BTCUSDT" health; do
		RC=0; "$CK" --db "$url" $c >"$T/out" 2>"$T/err" || RC=$?
		[ "$RC" != 0 ] || fail "$c with --db $url (no server) exited 0"
		cat "$T/out" "$T/err" >"$T/all"
		assert_file_match "$T/all" "127.0.0.1:1/candles: connection to server .* failed.*check the URL"
		if grep -q s3cret "$T/all"; then fail "$c shows the URL's password"; fi
	done
	for c in backup recover; do
		RC=0; "$CK" --db "$url" $c >"$T/out" 2>"$T/err" || RC=$?
		assert_eq "$RC" 2 "$c with --db $url: $(cat "$T/out" "$T/err")"
		assert_file_match "$T/err" "$c: works on a database file only.*pg_dump"
		if grep -q s3cret "$T/out" "$T/err"; then fail "$c shows the URL's password"; fi
	done
done
left=$(find "$T" -mindepth 1 -not -name out -not -name err -not -name all | head -3)
assert_eq "$left" "" "files made for an unreachable --db"
echo "t6030 ok"
