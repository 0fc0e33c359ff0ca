#!/usr/bin/env bash
# One command from a fresh Debian machine to a running gitomatic on http://127.0.0.1:8000/github/:
# set up the machine, build, migrate, then run web, worker and scheduler in one process (`gitomatic dev`).
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/setup.sh
# `cargo run` finds the binary wherever CARGO_TARGET_DIR puts it (and replaces itself
# with gitomatic, so signals reach it).
cargo build --release --locked
cargo run --release --locked --quiet -- migrate
exec cargo run --release --locked --quiet -- dev
