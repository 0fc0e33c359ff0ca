#!/usr/bin/env bash
# One command from a fresh Debian machine to the whole test suite: set up the machine,
# check that the schema matches the migrations, formatting and lints, then run every test
# against real PostgreSQL and RabbitMQ.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/setup.sh
ensure_schemathesis
ensure_diesel_cli
./scripts/check-schema.sh
cargo fmt --all -- --check
cargo clippy --locked --all-targets -- -D warnings
cargo test --locked
