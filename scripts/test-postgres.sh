#!/usr/bin/env bash
# A throwaway PostgreSQL cluster for the tests (issue 15).
#
#   scripts/test-postgres.sh start DIR   initdb + start on a free loopback port; prints the URL
#                                        postgres://portcullis@127.0.0.1:PORT/portcullis_test?sslmode=disable
#                                        (also written to DIR/url)
#   scripts/test-postgres.sh stop DIR    stops it (immediate) and removes DIR
#
# Needs root: the server refuses to run as root, so initdb and postgres run as the `postgres`
# user (Debian's `postgresql` package makes it). The cluster lives in DIR (owned by postgres,
# socket in DIR); when the postgres user cannot reach DIR (a checkout under /root) or the socket
# path would be too long, it lives in a temporary directory under /tmp that DIR/cluster names.
# fsync is off: the data is thrown away. `start` on a DIR that exists stops and removes the old
# cluster first, so a run killed half-way leaves nothing that breaks the next one.
set -euo pipefail

me=$(basename "$0")
die() { echo "$me: $*" >&2; exit 1; }

usage() { echo "usage: $me start|stop DIR" >&2; exit 2; }
[ $# -eq 2 ] || usage
command=$1
dir=$2
[ -n "$dir" ] && [ "$dir" != / ] || die "refusing DIR '$dir'"

# The server binaries: pg_config's bindir when it has initdb, else the newest /usr/lib/postgresql/*/bin.
bindir() {
    local candidate
    if command -v pg_config >/dev/null 2>&1; then
        candidate=$(pg_config --bindir 2>/dev/null || true)
        if [ -x "$candidate/initdb" ] && [ -x "$candidate/pg_ctl" ]; then echo "$candidate"; return 0; fi
    fi
    candidate=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)
    if [ -n "$candidate" ] && [ -x "$candidate/initdb" ]; then echo "$candidate"; return 0; fi
    return 1
}

as_postgres() { runuser -u postgres -- "$@"; }

# Where the cluster of DIR lives (DIR itself, or the directory DIR/cluster names).
cluster_of() {
    if [ -f "$1/cluster" ]; then cat "$1/cluster"; else echo "$1"; fi
}

stop() {
    local dir=$1 cluster pid
    [ -e "$dir" ] || return 0
    cluster=$(cluster_of "$dir")
    if [ -f "$cluster/data/postmaster.pid" ]; then
        if [ "$(id -u)" -eq 0 ] && bin=$(bindir); then
            as_postgres "$bin/pg_ctl" -D "$cluster/data" -m immediate -w -t 20 stop >/dev/null 2>&1 || true
        fi
        # pg_ctl could not stop it (binaries gone, not root): end the postmaster by its recorded id.
        pid=$(head -n 1 "$cluster/data/postmaster.pid" 2>/dev/null || true)
        if [ -n "$pid" ] && [ -f "$cluster/data/postmaster.pid" ] && kill -0 "$pid" 2>/dev/null \
            && grep -q postgres "/proc/$pid/comm" 2>/dev/null; then
            kill -QUIT "$pid" 2>/dev/null || true
            for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
        fi
    fi
    if [ "$cluster" != "$dir" ]; then rm -rf "$cluster"; fi
    rm -rf "$dir"
}

free_port() {
    python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])' 2>/dev/null \
        || echo $((20000 + RANDOM % 40000))
}

start() {
    local dir=$1 bin cluster port url attempt
    if [ "$(id -u)" -ne 0 ]; then
        die "starting a throwaway PostgreSQL needs root (initdb and the server run as the postgres user); run as root, or set PORTCULLIS_TEST_POSTGRES to the URL of an existing database, e.g. postgres://USER:PASSWORD@127.0.0.1:5432/portcullis_test?sslmode=disable"
    fi
    bin=$(bindir) || die "PostgreSQL server binaries not found (no initdb in pg_config --bindir nor /usr/lib/postgresql/*/bin): apt-get install postgresql"
    id postgres >/dev/null 2>&1 || die "no 'postgres' user to run the server as: apt-get install postgresql"

    stop "$dir"
    mkdir -p "$dir"
    dir=$(cd "$dir" && pwd)
    # The postgres user must reach DIR, and the socket path DIR/.s.PGSQL.NNNNN must fit in 107 bytes.
    cluster=$dir
    chown postgres:postgres "$dir"
    chmod 700 "$dir"
    if ! as_postgres test -w "$dir" || [ ${#dir} -gt 90 ]; then
        chown root:root "$dir"
        cluster=$(mktemp -d "${TMPDIR:-/tmp}/portcullis-pg.XXXXXX")
        chown postgres:postgres "$cluster"
        echo "$cluster" > "$dir/cluster"
    fi

    as_postgres "$bin/initdb" -D "$cluster/data" -U portcullis -A trust -E UTF8 --locale=C.UTF-8 --no-sync \
        > "$cluster/initdb.log" 2>&1 || { cat "$cluster/initdb.log" >&2; die "initdb failed (log above)"; }

    for attempt in 1 2 3; do
        port=$(free_port)
        if as_postgres "$bin/pg_ctl" -D "$cluster/data" -l "$cluster/pg.log" -w -t 30 \
            -o "-c listen_addresses=127.0.0.1 -p $port -k $cluster -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=200" \
            start >/dev/null 2>&1; then
            break
        fi
        # Another process may have taken the port in between: try another one.
        if [ "$attempt" -eq 3 ]; then
            tail -n 20 "$cluster/pg.log" >&2 2>/dev/null || true
            die "PostgreSQL did not start within 30 s (log above: $cluster/pg.log)"
        fi
        as_postgres "$bin/pg_ctl" -D "$cluster/data" -m immediate stop >/dev/null 2>&1 || true
    done

    "$bin/createdb" -h "$cluster" -p "$port" -U portcullis portcullis_test \
        || die "createdb portcullis_test failed (server log: $cluster/pg.log)"
    url="postgres://portcullis@127.0.0.1:$port/portcullis_test?sslmode=disable"
    echo "$url" > "$dir/url"
    echo "$url"
}

case $command in
    start) start "$dir" ;;
    stop) stop "$dir" ;;
    *) usage ;;
esac
