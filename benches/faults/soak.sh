#!/usr/bin/env bash
# Soak with hostile clients: benches/faults/soak.sh [seconds] [axum|poem]   (default 600 s)
#
# Runs the release example server on SQLite in a temporary directory for the given time under
# a mixed load (lists, reads, searches, creates, changes, deletes, uploads, logins) and hostile
# clients (1 MiB login names from rotating X-Forwarded-For addresses, page numbers and sizes
# past any integer, request heads dribbled a byte a second, uploads that stall), samples the
# server's RSS every 10 s, and checks: no 5xx, the hostile requests refused as documented, and
# RSS after the warm-up (the first fifth): each minute's mean within ±10 % of the first
# minute's. Exit status 0 when all held, 2 when one broke, 1 on errors. The driver removes its
# directory on exit.
set -euo pipefail
seconds="${1:-600}"
adapter="${2:-axum}"
cd "$(dirname "$0")/../.."
. benches/faults/common.sh

build_faults "$adapter"
trap stop_driver EXIT
trap 'exit 130' INT TERM
echo "$(date -u +%FT%TZ), $(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg)"
run_driver soak "$adapter" "$seconds"
