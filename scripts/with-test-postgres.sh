#!/usr/bin/env bash
# Runs CMD… with PORTCULLIS_TEST_POSTGRES set to the URL of a throwaway PostgreSQL database
# (scripts/test-postgres.sh), and stops and removes that cluster when CMD ends — also when it
# fails or is interrupted. Exits with CMD's status.
#
#   scripts/with-test-postgres.sh make swift-test interop
#
# - PORTCULLIS_TEST_POSTGRES already set: used as it is; no cluster is started.
# - The cluster cannot start (not root, PostgreSQL not installed…): with CI=true the run fails;
#   otherwise a loud warning, and CMD runs without the variable (PostgreSQL tests skip).
# - PORTCULLIS_TEST_POSTGRES_DIR: where the cluster lives (default .build-postgres).
set -uo pipefail

me=$(basename "$0")
[ $# -ge 1 ] || { echo "usage: $me CMD [ARG…]" >&2; exit 2; }
here=$(cd "$(dirname "$0")" && pwd)

if [ -n "${PORTCULLIS_TEST_POSTGRES:-}" ]; then
    echo "$me: using the caller's PORTCULLIS_TEST_POSTGRES; no throwaway cluster" >&2
    exec "$@"
fi

dir=${PORTCULLIS_TEST_POSTGRES_DIR:-.build-postgres}
# portcullis refuses unknown PORTCULLIS_* variables: pass CMD only the one it needs.
unset PORTCULLIS_TEST_POSTGRES_DIR
# Set before starting, so an interrupt during the start still stops what it started.
trap '"$here/test-postgres.sh" stop "$dir"' EXIT
trap 'exit 130' INT
trap 'exit 143' TERM
started=$(date +%s.%N)
if url=$("$here/test-postgres.sh" start "$dir"); then
    export PORTCULLIS_TEST_POSTGRES=$url
    echo "$me: PostgreSQL for the tests at $url (started in $(awk "BEGIN { printf \"%.1f\", $(date +%s.%N) - $started }") s)" >&2
else
    if [ "${CI:-}" = true ]; then
        echo "$me: error: CI=true and the throwaway PostgreSQL did not start (reason above); the PostgreSQL tests must not be skipped on CI" >&2
        exit 1
    fi
    {
        echo
        echo "################################################################################"
        echo "## WARNING: no PostgreSQL for the tests (reason above)."
        echo "## The PostgreSQL half of the test suite will be SKIPPED."
        echo "## Run as root, or set PORTCULLIS_TEST_POSTGRES=postgres://USER@HOST:PORT/DB."
        echo "################################################################################"
        echo
    } >&2
fi

"$@"
