#!/usr/bin/env bash
# Fails when src/db/schema.rs does not match the migrations: applies every migration to a
# scratch database (diesel then regenerates schema.rs, with src/db/schema.patch applied),
# compares the result with the file as it was, and checks that every migration also rolls
# back and re-applies. The file is left as it was. Needs PostgreSQL and the diesel CLI
# (see scripts/setup.sh).
set -euo pipefail
cd "$(dirname "$0")/.."
server="${TEST_POSTGRES_URL:-postgres://postgres@127.0.0.1:5432}"
scratch="gitomatic_schema_check_$$"
export DATABASE_URL="$server/$scratch"
expected=$(mktemp)
cp src/db/schema.rs "$expected"
psql "$server/postgres" -w -qc "CREATE DATABASE $scratch"
cleanup() {
    cp "$expected" src/db/schema.rs
    rm -f "$expected"
    psql "$server/postgres" -w -qc "DROP DATABASE IF EXISTS $scratch" >/dev/null
}
trap cleanup EXIT
diesel migration run --migration-dir migrations >/dev/null
if ! diff -u "$expected" src/db/schema.rs; then
    echo "src/db/schema.rs does not match the migrations (above: + is what they give); run them with 'diesel migration run'" >&2
    exit 1
fi
diesel migration redo --all --migration-dir migrations >/dev/null
echo "src/db/schema.rs matches the migrations; every migration rolls back and re-applies"
