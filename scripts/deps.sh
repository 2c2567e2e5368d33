#!/bin/sh
# scripts/deps.sh [build|test] — checks for the Debian packages candlekeep's build (and,
# with "test", its test suite) need; as root, installs the missing ones with apt-get
# (after apt-get update); otherwise prints the apt-get line and fails.
#   build: compilers, libraries, the tools the demo uses.
#   test:  + promtool/amtool (Prometheus rule tests), Chromium (screenshots of the HTML
#          pages), Node.js/npm (a local S3-compatible server), valgrind, systemd
#          (systemd-analyze verify of the unit files), aiosmtpd (a local SMTP server
#          with STARTTLS), clang-format (the house style, checked by t0002),
#          PostgreSQL 15 (a private server for the PostgreSQL backend's tests).
set -eu
PKGS="make gcc clang pkg-config libcurl4-openssl-dev libsqlite3-dev libjansson-dev
libinih-dev libmicrohttpd-dev libcmocka-dev libzstd-dev libssl-dev libsystemd-dev libarchive-dev
libpq-dev
sqlite3 curl
zstd procps util-linux ca-certificates git"
if [ "${1:-build}" = test ]; then
	PKGS="$PKGS libclang-rt-14-dev valgrind prometheus prometheus-alertmanager chromium
nodejs python3 python3-aiosmtpd systemd clang-format postgresql-15 postgresql-client-15"
	command -v npm >/dev/null 2>&1 || PKGS="$PKGS npm"
fi
missing=""
for p in $PKGS; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" ||
		missing="$missing $p"
done
[ -z "$missing" ] && exit 0
if [ "$(id -u)" -ne 0 ]; then
	echo "candlekeep: missing Debian packages:$missing" >&2
	echo "run as root: apt-get update && apt-get install -y --no-install-recommends$missing" >&2
	exit 1
fi
echo "deps: installing$missing" >&2
export DEBIAN_FRONTEND=noninteractive
apt-get update -q >&2
apt-get install -y -q --no-install-recommends $missing >&2
