. "$(dirname "$0")/lib.sh"
fakex_start --data "$DATA" --now "$T_2026_03_19_18"
mkdir -p $T/d
mount -t tmpfs -o size=6000k tmpfs $T/d
trap 'umount $T/d; cleanup' EXIT
DB=$T/d/c.db
export CANDLEKEEP_BACKUP_HOT_DIR=$T/backups/hot CANDLEKEEP_BACKUP_WARM_DIR=$T/backups/warm
ck -q --symbols BTCUSDT,ETHUSDT,SOLUSDT,XRPUSDT --history-days 700 sync >/dev/null 2>&1 || fail sync
ck -q --symbols BTCUSDT,ETHUSDT,SOLUSDT,XRPUSDT backup || fail backup
sqlite3 $DB "pragma wal_checkpoint(truncate)" >/dev/null; ls -la $T/d; df -k $T/d
# fill the disk
dd if=/dev/zero of=$T/d/filler bs=1k count=3000 2>/dev/null || true
df -k $T/d
dd if=/dev/urandom of=$DB bs=4096 seek=100 count=1 conv=notrunc 2>/dev/null
ck_rc --symbols BTCUSDT,ETHUSDT,SOLUSDT,XRPUSDT --history-days 700 recover; echo rc=$RC
ls -la $T/d $T/d/* 
rm $T/d/filler
ck_rc --symbols BTCUSDT,ETHUSDT,SOLUSDT,XRPUSDT --history-days 700 recover; echo rc=$RC
ls -la $T/d
sqlite3 $DB "select count(*) from candles; pragma integrity_check"
