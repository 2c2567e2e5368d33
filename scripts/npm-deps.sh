#!/bin/sh
# scripts/npm-deps.sh [DIR] — installs the npm packages the test suite needs (a local
# S3-compatible server that checks request signatures, for the offsite backup tests)
# into DIR (default build/npm), never into the repository. Idempotent: does nothing
# when the pinned versions are already there.
set -eu
dir=${1:-build/npm}
S3RVER_VERSION=3.7.1
if [ -f "$dir/node_modules/s3rver/package.json" ] &&
	grep -q "\"version\": \"$S3RVER_VERSION\"" "$dir/node_modules/s3rver/package.json"; then
	exit 0
fi
command -v npm >/dev/null 2>&1 || { echo "npm-deps: npm is missing (run scripts/deps.sh test as root)" >&2; exit 1; }
mkdir -p "$dir"
[ -f "$dir/package.json" ] || echo '{"name":"candlekeep-test-deps","private":true}' >"$dir/package.json"
npm install --prefix "$dir" --no-audit --no-fund --loglevel=error "s3rver@$S3RVER_VERSION" >&2
