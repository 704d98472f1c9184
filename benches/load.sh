#!/usr/bin/env bash
# The HTTP load bench: benches/load.sh [axum|poem] [sqlite|postgres]   (default: axum sqlite)
#
# Builds the example server and the `vault-load` driver in release mode, starts the server on a
# fresh database, seeds it through the API, drives it with wrk and prints requests/s, p50, p99
# and peak RSS per scenario, then the targets (see README "Load bench"). Exit status 2 when a
# target is missed. VAULT_LOAD_ONLY (resources, flashcards), VAULT_LOAD_SECONDS, VAULT_LOAD_BIG
# and VAULT_TEST_POSTGRES_URL tune it.
set -euo pipefail
adapter="${1:-axum}"
database="${2:-sqlite}"
cd "$(dirname "$0")/.."

if ! command -v wrk >/dev/null; then
    echo "wrk (the load generator) is not installed; installing it from the distribution" >&2
    if command -v apt-get >/dev/null; then
        ${SUDO:-$( [ "$(id -u)" = 0 ] || echo sudo )} apt-get install -y wrk
    elif command -v brew >/dev/null; then
        brew install wrk
    else
        echo "install wrk with your package manager and run again" >&2
        exit 1
    fi
fi

cargo build --release --locked -p "vault-${adapter}-server" -p vault-benches --bins
target_dir="$(cargo metadata --format-version 1 --no-deps | sed -n 's/.*"target_directory":"\([^"]*\)".*/\1/p')"
exec "${target_dir}/release/vault-load" run "$adapter" "$database"
