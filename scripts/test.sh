#!/usr/bin/env bash
# Runs every test: formatting and lints, the native tests of every crate
# (unit, scenario/golden, CLI), the release wasm build, and the browser tests
# in headless Chromium. Installs whatever a fresh machine lacks first.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh --test
export PATH="$PWD/tools/node_modules/.bin:$HOME/.cargo/bin:$PATH"

step() { printf '\n== %s\n' "$*"; }

step "fetch crates (locked)"
cargo fetch --locked
step "cargo fmt --check"
cargo fmt --all -- --check
step "cargo clippy -D warnings (native and wasm)"
cargo clippy --workspace --all-targets --locked -- -D warnings
cargo clippy -p mobike-playground --target wasm32-unknown-unknown --locked -- -D warnings
step "native tests"
cargo test --workspace --locked
step "interop with a real strongSwan (network namespaces)"
cargo build --locked -p mobike-cli
scripts/interop-test.sh target/debug/mobike
step "wasm build (trunk, release)"
trunk build --release --skip-version-check
step "browser tests (headless Chromium)"
node --test tests/e2e/
