#!/usr/bin/env bash
# Installs whatever this machine lacks to build, serve and test the playground.
# Every step is skipped when its tool is already there at the pinned version.
# Nothing is downloaded from outside the package registries (crates.io, Debian, npm):
# Trunk is pinned offline in Trunk.toml and finds wasm-bindgen and wasm-opt on PATH.
#
#   scripts/setup.sh          tools to build and serve (wasm target, Trunk, wasm-bindgen-cli, wasm-opt)
#   scripts/setup.sh --test   also Chromium, chromedriver, tshark and strongSwan for the tests
set -euo pipefail
cd "$(dirname "$0")/.."

TRUNK_VERSION=0.21.14
WASM_BINDGEN_VERSION=0.2.130

log() { printf '[setup] %s\n' "$*" >&2; }

apt_updated=0
apt_install() {
  if [ "$apt_updated" = 0 ]; then
    log "apt-get update"
    apt-get update -qq
    apt_updated=1
  fi
  log "apt-get install $*"
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$@" >/dev/null
}

# A C compiler for the crates that build C (mimalloc, the native allocator
# of `mobike`).
if ! command -v cc >/dev/null; then
  apt_install gcc libc6-dev
fi

if ! rustup target list --installed 2>/dev/null | grep -qx wasm32-unknown-unknown; then
  log "adding the wasm32-unknown-unknown target"
  rustup target add wasm32-unknown-unknown
fi

if [ "$(trunk --version 2>/dev/null)" != "trunk $TRUNK_VERSION" ]; then
  log "installing trunk $TRUNK_VERSION (about 10 minutes on 2 cores)"
  cargo install --locked trunk --version "$TRUNK_VERSION"
fi

if [ "$(wasm-bindgen --version 2>/dev/null)" != "wasm-bindgen $WASM_BINDGEN_VERSION" ]; then
  # --locked fails for this version: its lock file names a webpki-roots release the
  # registry does not serve. The binary version is still exact.
  log "installing wasm-bindgen-cli $WASM_BINDGEN_VERSION (about 3 minutes)"
  cargo install wasm-bindgen-cli --version "$WASM_BINDGEN_VERSION"
fi

if ! command -v node >/dev/null || ! command -v npm >/dev/null; then
  apt_install nodejs npm
fi

# wasm-opt from npm's binaryen (Debian's is too old to parse current wasm), and
# playwright-core for the browser tests; both pinned in tools/package-lock.json.
if [ ! -x tools/node_modules/.bin/wasm-opt ] || [ ! -d tools/node_modules/playwright-core ]; then
  log "npm ci in tools/"
  (cd tools && npm ci --no-audit --no-fund --loglevel=error)
fi

if [ "${1:-}" = "--test" ]; then
  if ! command -v chromium >/dev/null || ! command -v chromedriver >/dev/null; then
    apt_install chromium chromium-driver
  fi
  if ! command -v tshark >/dev/null; then
    apt_install tshark
  fi
  # The interop test (scripts/interop-test.sh): Debian's strongSwan (charon,
  # swanctl, the standard plugins, whose openssl plugin has x25519, and the
  # extra plugins' kernel-libipsec, userspace IPsec for the Child SAs where
  # the kernel has no XFRM), and iproute2 for the network namespaces.
  if [ ! -x /usr/lib/ipsec/charon ] || ! command -v swanctl >/dev/null ||
    [ ! -e /usr/lib/ipsec/plugins/libstrongswan-openssl.so ] ||
    [ ! -e /usr/lib/ipsec/plugins/libstrongswan-kernel-libipsec.so ]; then
    apt_install strongswan-charon strongswan-swanctl libstrongswan-standard-plugins \
      libcharon-extra-plugins
  fi
  if ! command -v ip >/dev/null; then
    apt_install iproute2
  fi
fi
log "ready"
