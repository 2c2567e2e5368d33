#!/usr/bin/env bash
# --db postgresql://… or postgres://… (a backend this build does not have yet) is a usage
# error that says what to do, for every command that opens the database, before any
# lock or file is made; a password in the URL never shows.
. "$(dirname "$0")/lib.sh"

cd "$T"
for url in 'postgresql://ck:s3cret-pw@127.0.0.1:1/candles' 'postgres://127.0.0.1:1/candles'; do
	for c in sync gaps metrics audit "export --symbol BTCUSDT" backup recover health; do
		want=2
		[ "$c" = health ] && want=3 # health's usage errors are UNKNOWN
		RC=0; "$CK" --db "$url" $c >"$T/out" 2>"$T/err" || RC=$?
		assert_eq "$RC" "$want" "$c with --db $url: $(cat "$T/out" "$T/err")"
		assert_file_match "$T/err" "this build has no PostgreSQL backend yet; use a file path"
		if grep -q s3cret "$T/out" "$T/err"; then fail "$c shows the URL's password"; fi
	done
done
left=$(find "$T" -mindepth 1 -not -name out -not -name err | head -3)
assert_eq "$left" "" "files made for a refused --db"
echo "t6030 ok"
