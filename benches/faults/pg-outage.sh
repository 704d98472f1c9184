#!/usr/bin/env bash
# PostgreSQL outage under load: benches/faults/pg-outage.sh [axum|poem] [outage seconds]
#
# Starts a private PostgreSQL cluster on 127.0.0.1:55432 (VAULT_FAULT_PG_PORT), the release
# example server on a fresh database of it, and four clients writing, reading and polling the
# health checks. Stops PostgreSQL (pg_ctl stop -m fast), keeps the load on for the outage
# (default 10 s), starts it again, and checks: no 5xx but 503, database routes 503
# problem+json within 1 s, /health/ready 503 and /health/live 200 during the outage, and the
# same server process answering writes again afterwards (recovery time printed). Exit status
# 0 when all held, 2 when one broke, 1 on errors. Removes the cluster and its files on exit.
set -euo pipefail
adapter="${1:-axum}"
outage="${2:-10}"
cd "$(dirname "$0")/../.."
. benches/faults/common.sh

build_faults "$adapter"
work="$(mktemp -d "${TMPDIR:-/tmp}/vault-pg-outage.XXXXXX")"
pg_kill=true
cleanup() {
    stop_driver
    sh -c "$pg_kill"
    rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT TERM
private_postgres "$work" "${VAULT_FAULT_PG_PORT:-55432}"
echo "private PostgreSQL at $pg_url ($(date -u +%FT%TZ), $(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg))"
export VAULT_TEST_POSTGRES_URL="$pg_url" VAULT_FAULT_PG_STOP="$pg_stop" VAULT_FAULT_PG_START="$pg_start"
run_driver pg-outage "$adapter" "$outage"
