#!/usr/bin/env bash
# Builds the playground and serves it on http://127.0.0.1:8080 (Trunk,
# release build, rebuilt on change). Installs whatever a fresh machine lacks.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
export PATH="$PWD/tools/node_modules/.bin:$HOME/.cargo/bin:$PATH"
cargo fetch --locked
exec trunk serve --release --skip-version-check --address 127.0.0.1 --port 8080 "$@"
