# Shared by the fault scripts (sourced, not run): building the release binaries, and a private
# PostgreSQL cluster on a loopback port for the runs that stop it.

# Builds both example servers and the benches' binaries (the vault-faults driver) in release
# mode, the same set for every script so that no run rebuilds for another feature set; sets
# $faults to the driver's path. "$1" (the adapter) is checked here.
build_faults() {
    case "$1" in
        axum|poem) ;;
        *) echo "unknown adapter ${1}: axum or poem" >&2; return 1 ;;
    esac
    # Without VAULT_TEST_POSTGRES_URL: vault-core's build script turns it into a cfg, and a
    # build with it set is a different build (minutes of recompiling between scripts).
    env -u VAULT_TEST_POSTGRES_URL \
        cargo build --release --locked -p vault-axum-server -p vault-poem-server -p vault-benches --bins
    local target_dir
    target_dir="$(cargo metadata --format-version 1 --no-deps | sed -n 's/.*"target_directory":"\([^"]*\)".*/\1/p')"
    faults="${target_dir}/release/vault-faults"
}

# A private PostgreSQL cluster in "$1" (an empty directory, removed by the caller's trap) on
# 127.0.0.1:"$2", so that stopping it touches nobody else's database. initdb refuses root:
# as root, the cluster belongs to the postgres user. Sets $pg_stop and $pg_start (shell
# commands that return once it is down / accepting) and $pg_url.
private_postgres() {
    local dir="$1" port="$2" bin
    bin="${PG_BIN:-$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)}"
    if [ ! -x "$bin/initdb" ]; then
        echo "no PostgreSQL server binaries (initdb) found; set PG_BIN" >&2
        return 1
    fi
    local as=""
    if [ "$(id -u)" = 0 ]; then
        chown postgres "$dir"
        as="runuser -u postgres --"
    fi
    # From inside the cluster's directory: the postgres user may not enter the caller's.
    (cd "$dir" && $as "$bin/initdb" -D "$dir/data" -U postgres --auth=trust -E UTF8 >"$dir/initdb.log" 2>&1)
    local ctl="cd $dir && $as $bin/pg_ctl -D $dir/data"
    pg_start="$ctl -l $dir/postgres.log -o '-p $port -k $dir -c listen_addresses=127.0.0.1' -w -t 60 start >/dev/null"
    pg_stop="$ctl -m fast -w -t 60 stop >/dev/null"
    pg_kill="$ctl -m immediate stop >/dev/null 2>&1 || true"
    pg_url="postgres://postgres@127.0.0.1:${port}/postgres"
    sh -c "$pg_start"
}

# Runs the driver with "$@" in a process group of its own and returns its exit status, so that
# stop_driver (from the caller's EXIT trap) can end it together with the servers it started
# when the script is interrupted.
run_driver() {
    setsid "$faults" "$@" &
    driver=$!
    local status=0
    wait "$driver" || status=$?
    driver=""
    return "$status"
}

# Ends the driver's process group if it is still running (an interrupted script).
stop_driver() {
    if [ -n "${driver:-}" ]; then
        kill -KILL -- "-$driver" 2>/dev/null || true
    fi
}
