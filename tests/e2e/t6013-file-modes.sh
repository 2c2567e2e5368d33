#!/usr/bin/env bash
# Every file candlekeep writes has the mode its configuration says, whatever the umask:
# the database, its lock, the logs ([log] file and [log] dir, both written), hot and
# warm backups and their sidecars, a restored database ([main] file_mode, 0640 or
# 0600); exports, the audit page and the metrics textfile ([main] export_file_mode,
# 0644 by default).
. "$(dirname "$0")/lib.sh"

fakex_start --data "$DATA" --now "$T_2026_03_19_18"
mode() { stat -c %a "$1"; }
expect_mode() { [ -e "$1" ] || fail "$1 missing"; assert_eq "$(mode "$1")" "$2" "mode of $1 (umask $um, $3)"; }

run_case() { # umask, file_mode, export_file_mode, expected private, expected export
	um=$1
	local dir="$T/u$1-$2" fm=$2 em=$3 want=$4 wexp=$5
	mkdir -p "$dir"
	(
		umask "$um"
		export CANDLEKEEP_MAIN_FILE_MODE=$fm CANDLEKEEP_MAIN_EXPORT_FILE_MODE=$em
		c() { "$CK" --db "$dir/candles.db" --base-url "$FAKEX_URL" --symbols BTCUSDT,ETHUSDT "$@"; }
		c --history-days 5 --log-file "$dir/all.log" --log-dir "$dir/logs" sync >/dev/null 2>&1
		c backup --now 2026-03-19T02:00:00Z >/dev/null 2>&1
		c export --symbol BTCUSDT --output "$dir/btc.csv" 2>/dev/null
		c audit --days 2 --now "2026-03-19 18:00" --html "$dir/audit.html" >/dev/null 2>&1 || true
		c metrics --textfile "$dir" >/dev/null 2>&1
		# A restore: the database destroyed, recover brings back the newest backup.
		rm -f "$dir/candles.db" "$dir/candles.db-wal" "$dir/candles.db-shm"
		c recover >"$dir/recover.out" 2>&1 || true
	) || fail "umask $um: a command failed"
	local what="file_mode $fm"
	expect_mode "$dir/candles.db" "$want" "$what, restored"
	expect_mode "$dir/candles.db.lock" "$want" "$what"
	expect_mode "$dir/candles.db.write.lock" "$want" "$what"
	expect_mode "$dir/all.log" "$want" "$what"
	[ -s "$dir/all.log" ] || fail "[log] file is empty while [log] dir is set"
	local runlog
	runlog=$(ls "$dir"/logs/sync_*.log | head -1)
	expect_mode "$runlog" "$want" "$what"
	[ -s "$runlog" ] || fail "[log] dir run log is empty"
	local hot="$dir/backups/hot/candles-20260319T020000.000Z.db"
	local warm="$dir/backups/warm/candles-20260319T020000.000Z.db"
	expect_mode "$hot" "$want" "$what"
	expect_mode "$hot.sha256" "$want" "$what"
	expect_mode "$warm" "$want" "$what"
	expect_mode "$warm.sha256" "$want" "$what"
	expect_mode "$dir/btc.csv" "$wexp" "export_file_mode $em"
	expect_mode "$dir/audit.html" "$wexp" "export_file_mode $em"
	expect_mode "$dir/candlekeep.prom" "$wexp" "export_file_mode $em"
	assert_file_match "$dir/recover.out" "restored|Restored|RESTORED"
}

run_case 022 0640 0644 640 644
run_case 077 0640 0644 640 644
run_case 022 0600 0600 600 600
run_case 077 0600 0640 600 640
echo "ok"
