#!/usr/bin/env bash
# Run a command with MAPGATE_TEST_PG_URL pointing at a PostgreSQL server; a server this
# script had to start is stopped afterwards, whether the command passed, failed or was
# interrupted. A server that already answered is left as it was.
#
#   bash .ci/with-postgres.sh .venv/bin/python -m pytest -q
#
# MAPGATE_PG_PORT and MAPGATE_PG_DIR are passed on to .ci/postgres.sh.
set -uo pipefail

here="$(cd "$(dirname "$0")" && pwd)"
started=""
if ! bash "$here/postgres.sh" status; then
    started=1
fi
stop_started() {
    if [ -n "$started" ]; then
        bash "$here/postgres.sh" stop
    fi
}
trap stop_started EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

url="$(bash "$here/postgres.sh")" || exit 1
MAPGATE_TEST_PG_URL="$url" "$@"
status=$?
exit "$status"
