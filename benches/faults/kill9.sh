#!/usr/bin/env bash
# kill -9 in the middle of writes: benches/faults/kill9.sh [--quick] [sqlite|postgres|both] [axum|poem]
#
# Runs the release example server on a fresh database (SQLite in a temporary directory,
# PostgreSQL a new database on VAULT_TEST_POSTGRES_URL, default the local server on
# 127.0.0.1:5432) with clients creating notes with tags, uploading files and deleting, kills it
# with SIGKILL at a random moment, and checks with the server down: no partial rows, no
# missing or orphan blobs, resource_counts equal COUNT(*), SQLite's integrity; then restarts
# it on the same files and goes again (5 kills; --quick: 2 kills after 1-2 s of load, for
# CI). Exit status 0 when all held, 2 when one broke, 1 on errors. The driver removes its
# database and directory on exit.
set -euo pipefail
kills=5 clients=8 min_ms=1500 max_ms=4000
if [ "${1:-}" = "--quick" ]; then
    kills=2 clients=4 min_ms=1000 max_ms=2000
    shift
fi
databases="${1:-both}"
adapter="${2:-axum}"
cd "$(dirname "$0")/../.."
. benches/faults/common.sh

case "$databases" in
    both) databases="sqlite postgres" ;;
    sqlite|postgres) ;;
    *) echo "usage: $0 [--quick] [sqlite|postgres|both] [axum|poem]" >&2; exit 1 ;;
esac
export VAULT_TEST_POSTGRES_URL="${VAULT_TEST_POSTGRES_URL:-postgres://postgres@127.0.0.1:5432/postgres}"
build_faults "$adapter"
trap stop_driver EXIT
trap 'exit 130' INT TERM
echo "$(date -u +%FT%TZ), $(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg)"
status=0
for database in $databases; do
    echo
    echo "=== kill -9: vault-${adapter}-server on ${database}, ${kills} kills, ${clients} clients"
    run_driver kill9 "$adapter" "$database" "$kills" "$clients" "$min_ms" "$max_ms" || status=$?
    [ "$status" = 0 ] || break
done
exit "$status"
