#!/usr/bin/env bash
# Make a PostgreSQL server reachable for the API tests and print its URL on stdout.
#
#   export MAPGATE_TEST_PG_URL="$(bash .ci/postgres.sh)"
#   bash .ci/postgres.sh status    # exit 0 when a server answers on the port
#   bash .ci/postgres.sh stop      # stop the cluster in the cluster folder, if it runs
#
# .ci/with-postgres.sh runs a command with a server and stops the one it started.
#
# Idempotent: a server already answering on the port is reused; otherwise PostgreSQL is
# installed from Debian when missing, and a private throw-away cluster (trust auth,
# loopback only) is created and started as the postgres user. Progress goes to stderr.
# Override the port with MAPGATE_PG_PORT and the cluster folder with MAPGATE_PG_DIR.
set -euo pipefail

port="${MAPGATE_PG_PORT:-54329}"
pgdir="${MAPGATE_PG_DIR:-${TMPDIR:-/tmp}/pg-mapgate-$port}"
url="postgresql://postgres@127.0.0.1:$port/postgres"

say() { echo "postgres.sh: $*" >&2; }

pg_bin() {
    local bin
    bin="$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1 || true)"
    [ -n "$bin" ] && [ -x "$bin/initdb" ] && echo "$bin"
}

as_postgres() {
    if [ "$(id -u)" = "0" ]; then
        runuser -u postgres -- "$@"
    else
        "$@"
    fi
}

answers() {
    local bin="$1"
    [ -n "$bin" ] && "$bin/pg_isready" -q -h 127.0.0.1 -p "$port" >/dev/null 2>&1
}

bin="$(pg_bin || true)"
case "${1:-start}" in
    start) ;;
    status)
        answers "$bin"
        exit $?
        ;;
    stop)
        if [ -n "$bin" ] && [ -s "$pgdir/data/PG_VERSION" ] \
            && as_postgres "$bin/pg_ctl" -D "$pgdir/data" status >/dev/null 2>&1; then
            say "stopping the server of $pgdir/data"
            as_postgres "$bin/pg_ctl" -D "$pgdir/data" -m fast -w -t 60 stop >&2
        fi
        exit 0
        ;;
    *)
        say "usage: postgres.sh [start|status|stop]"
        exit 2
        ;;
esac

if answers "$bin"; then
    say "a server already answers on 127.0.0.1:$port"
    echo "$url"
    exit 0
fi

if [ -z "$bin" ]; then
    say "installing PostgreSQL from Debian"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq >&2
    apt-get install -y -qq postgresql >&2
    bin="$(pg_bin)"
fi

mkdir -p "$pgdir"
if [ "$(id -u)" = "0" ]; then
    chown postgres "$pgdir"
fi
chmod 700 "$pgdir"

if [ ! -s "$pgdir/data/PG_VERSION" ]; then
    say "creating a cluster in $pgdir/data"
    rm -rf "$pgdir/data"
    as_postgres "$bin/initdb" -D "$pgdir/data" -A trust -U postgres -E UTF8 --no-sync >&2
fi

# A stale pid file from a killed server would stop pg_ctl from starting a new one.
if [ -f "$pgdir/data/postmaster.pid" ] && ! as_postgres "$bin/pg_ctl" -D "$pgdir/data" status >/dev/null 2>&1; then
    rm -f "$pgdir/data/postmaster.pid"
fi

say "starting the server on 127.0.0.1:$port"
as_postgres "$bin/pg_ctl" -D "$pgdir/data" -l "$pgdir/log.txt" -w -t 60 \
    -o "-c listen_addresses=127.0.0.1 -c port=$port -c unix_socket_directories=$pgdir -c fsync=on -c max_connections=200" \
    start >&2

for _ in $(seq 1 60); do
    if answers "$bin"; then
        echo "$url"
        exit 0
    fi
    sleep 0.5
done
say "the server did not answer; log follows"
tail -n 50 "$pgdir/log.txt" >&2 || true
exit 1
