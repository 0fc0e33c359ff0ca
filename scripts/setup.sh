#!/usr/bin/env bash
# Brings a Debian machine to the point where gitomatic builds and runs: installs what is
# missing (PostgreSQL, RabbitMQ, build tools, Rust), starts the services, creates the
# database. Idempotent, and quick when everything is already there.
set -euo pipefail

log() { printf '==> %s\n' "$*" >&2; }

as_root() {
    if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi
}

port_open() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

apt_updated=false
apt_install() {
    local missing=()
    for package in "$@"; do
        dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed" ||
            missing+=("$package")
    done
    [ ${#missing[@]} -eq 0 ] && return 0
    log "installing ${missing[*]}"
    if [ "$apt_updated" = false ]; then
        as_root apt-get update -qq
        apt_updated=true
    fi
    as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}"
}

ensure_rust() {
    if ! command -v cargo >/dev/null 2>&1 && [ -x "$HOME/.cargo/bin/cargo" ]; then
        export PATH="$HOME/.cargo/bin:$PATH"
    fi
    command -v cargo >/dev/null 2>&1 && return 0
    apt_install curl ca-certificates
    log "installing Rust with rustup"
    curl --proto '=https' --tlsv1.2 -sSf https://sh.rustup.rs | sh -s -- -y --profile minimal -c rustfmt,clippy
    export PATH="$HOME/.cargo/bin:$PATH"
}

ensure_postgres() {
    if ! port_open 5432; then
        apt_install postgresql
        log "starting PostgreSQL"
        as_root pg_ctlcluster --skip-systemctl-redirect "$(ls /etc/postgresql | sort -V | tail -1)" main start ||
            true
        for _ in $(seq 1 30); do port_open 5432 && break; sleep 1; done
        port_open 5432 || { log "PostgreSQL does not answer on 127.0.0.1:5432"; exit 1; }
    fi
    # The default DATABASE_URL connects as postgres over TCP without a password: on a
    # development machine where that is refused, trust loopback connections for postgres.
    if command -v psql >/dev/null 2>&1 &&
        ! psql -h 127.0.0.1 -U postgres -d postgres -w -Atc 'SELECT 1' >/dev/null 2>&1 &&
        [ -d /etc/postgresql ]; then
        local hba
        hba=$(ls /etc/postgresql/*/main/pg_hba.conf | sort -V | tail -1)
        log "allowing passwordless loopback connections for postgres in $hba"
        as_root sed -i '1i host all postgres 127.0.0.1/32 trust' "$hba"
        as_root pg_ctlcluster --skip-systemctl-redirect "$(ls /etc/postgresql | sort -V | tail -1)" main reload
    fi
}

ensure_rabbitmq() {
    port_open 5672 && return 0
    apt_install rabbitmq-server
    log "starting RabbitMQ"
    if ! as_root rabbitmqctl -q status >/dev/null 2>&1; then
        as_root rabbitmq-server -detached || true
    fi
    as_root rabbitmqctl await_startup >/dev/null
    for _ in $(seq 1 30); do port_open 5672 && break; sleep 1; done
    port_open 5672 || { log "RabbitMQ does not answer on 127.0.0.1:5672"; exit 1; }
}

ensure_database() {
    local url="${DATABASE_URL:-postgres://postgres@127.0.0.1:5432/gitomatic}"
    local name="${url##*/}"
    name="${name%%\?*}"
    command -v psql >/dev/null 2>&1 || return 0
    local server="${url%/*}"
    if ! psql "$server/postgres" -w -Atc "SELECT 1 FROM pg_database WHERE datname = '$name'" | grep -q 1; then
        log "creating database $name"
        psql "$server/postgres" -w -qc "CREATE DATABASE \"$name\""
    fi
}

# schemathesis (from PyPI) fuzzes the API in the test suite; it lives in its own venv.
ensure_schemathesis() {
    local venv="${GITOMATIC_TOOLS:-$HOME/.cache/gitomatic}/venv"
    if [ ! -x "$venv/bin/st" ]; then
        log "installing schemathesis into $venv"
        python3 -m venv "$venv"
        "$venv/bin/pip" install -q "schemathesis==$SCHEMATHESIS_VERSION"
    fi
    export SCHEMATHESIS="$venv/bin/st"
}
SCHEMATHESIS_VERSION=4.32.5

# GitHub's own descriptions of its APIs, pinned, judge the test fake and the GraphQL
# documents gitomatic builds (tests/api/conformance*.rs). `npm pack` fetches each tarball
# once into the cache; the tests read the unpacked files and never touch the network.
ensure_github_schemas() {
    local dir="${GITOMATIC_TOOLS:-$HOME/.cache/gitomatic}/github-schemas"
    local spec name
    mkdir -p "$dir"
    for spec in "${GITHUB_SCHEMA_PACKAGES[@]}"; do
        name="${spec#@octokit/}"
        name="${name/@/-}"
        [ -f "$dir/$name/package/package.json" ] && continue
        command -v npm >/dev/null 2>&1 || apt_install npm
        log "installing $spec into $dir/$name"
        local tarball
        tarball=$(cd "$dir" && npm pack --silent "$spec" | tail -1)
        mkdir -p "$dir/$name.tmp"
        tar -xzf "$dir/$tarball" -C "$dir/$name.tmp"
        rm -f "$dir/$tarball"
        rm -rf "$dir/$name"
        mv "$dir/$name.tmp" "$dir/$name"
    done
    export GITHUB_SCHEMAS="$dir"
}
GITHUB_SCHEMA_PACKAGES=(
    @octokit/graphql-schema@15.26.1
    @octokit/openapi@23.0.2
    @octokit/openapi-webhooks@12.1.0
)

# diesel's CLI checks in the test suite that src/db/schema.rs matches the migrations; it
# links libpq, which gitomatic itself does not need.
ensure_diesel_cli() {
    if ! command -v diesel >/dev/null 2>&1 && [ -x "$HOME/.cargo/bin/diesel" ]; then
        export PATH="$HOME/.cargo/bin:$PATH"
    fi
    command -v diesel >/dev/null 2>&1 && return 0
    command -v apt-get >/dev/null 2>&1 && apt_install libpq-dev
    log "installing diesel_cli $DIESEL_CLI_VERSION (PostgreSQL only)"
    cargo install --locked --quiet diesel_cli --version "$DIESEL_CLI_VERSION" \
        --no-default-features --features postgres
}
DIESEL_CLI_VERSION=2.3.14

if command -v apt-get >/dev/null 2>&1; then
    apt_install build-essential pkg-config ca-certificates git python3-venv
    # Headless Chromium: the browser tests of the dashboard and the chart pages.
    apt_install chromium
    command -v psql >/dev/null 2>&1 || apt_install postgresql-client
fi
ensure_rust
ensure_postgres
ensure_rabbitmq
ensure_database
ensure_github_schemas
log "PostgreSQL and RabbitMQ are up; GitHub's descriptions are in $GITHUB_SCHEMAS"
