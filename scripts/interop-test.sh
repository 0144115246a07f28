#!/usr/bin/env bash
# `mobike interop` against a real strongSwan (Debian's charon) over real UDP,
# in network namespaces made here and torn down at the end, whatever happens:
#
#   client 192.0.2.10 (c0), 198.51.100.10 (c1) -- router -- server 203.0.113.10
#
# 1. our initiator (client) against charon (server): the IKE SA is set up,
#    liveness checks are answered, the client's address 192.0.2.10 goes away
#    and the IKE SA moves to 198.51.100.10 (charon's `swanctl --list-sas`
#    shows it), the IKE SA is deleted at the end; a wrong PSK is refused;
#    with the strongswan preset the move starts with an empty path check;
#    with a Child SA, our lifetimes rekey it (with PFS) and the IKE SA, and
#    charon takes both (its `swanctl --list-sas` numbers them anew).
# 2. charon (client) against our responder (server): the same steps, driven
#    by charon (its liveness checks, its path check and UPDATE_SA_ADDRESSES,
#    its deletion), with IKE SA rekeys both ways: ours every 6 s
#    (ike_lifetime), so charon moves an IKE SA whose original initiator we
#    are, and charon's own (`swanctl --rekey --ike`); a wrong PSK is refused.
#
# Only RFC 5737 addresses, every wait bounded, every process stopped by its
# pid. Needs root and `ip netns`; without them the test says so and is
# skipped (exit 0), never faked. Usage: scripts/interop-test.sh [MOBIKE]
set -euo pipefail
cd "$(dirname "$0")/.."

MOBIKE=${1:-target/debug/mobike}
PSK=interop-test-psk-0123456789abcdef
tag="mi$$"
NS_C="$tag-c" NS_R="$tag-r" NS_S="$tag-s"
work=$(mktemp -d)
pids=()
charon_pid=""

log() { printf '[interop] %s\n' "$*" >&2; }
fail() {
  log "FAIL: $*"
  [ -n "${INTEROP_KEEP:-}" ] && cp -r "$work" "$INTEROP_KEEP"
  for f in "$work"/*.log; do
    [ -e "$f" ] || continue
    log "---- $(basename "$f") (last 40 lines)"
    grep -v "vici client" "$f" | tail -n 40 >&2 || true
  done
  exit 1
}

cleanup() {
  set +e
  for p in "${pids[@]}" $charon_pid; do
    kill "$p" 2>/dev/null && wait "$p" 2>/dev/null
  done
  for ns in "$NS_C" "$NS_R" "$NS_S"; do
    ip netns del "$ns" 2>/dev/null
  done
  rm -rf "$work"
}
trap cleanup EXIT

skip() {
  log "SKIPPED: $*"
  exit 0
}

[ "$(id -u)" = 0 ] || skip "needs root to create network namespaces"
command -v ip >/dev/null || skip "iproute2's ip is not installed"
CHARON=/usr/lib/ipsec/charon
[ -x "$CHARON" ] && command -v swanctl >/dev/null ||
  fail "strongSwan is not installed (scripts/setup.sh --test installs it)"
[ -x "$MOBIKE" ] || fail "$MOBIKE is not built (cargo build -p mobike-cli)"
if ! err=$(ip netns add "$NS_C" 2>&1); then
  skip "cannot create network namespaces: $err"
fi
ip netns add "$NS_R"
ip netns add "$NS_S"

in_c() { ip netns exec "$NS_C" "$@"; }
in_r() { ip netns exec "$NS_R" "$@"; }
in_s() { ip netns exec "$NS_S" "$@"; }

# The topology of the recorded strongSwan trace (docs: its topology.txt).
ip link add c0 netns "$NS_C" type veth peer name rc0 netns "$NS_R"
ip link add c1 netns "$NS_C" type veth peer name rc1 netns "$NS_R"
ip link add s0 netns "$NS_S" type veth peer name rs0 netns "$NS_R"
for ns in "$NS_C" "$NS_R" "$NS_S"; do ip -n "$ns" link set lo up; done
in_c ip addr add 192.0.2.10/24 dev c0
in_c ip addr add 198.51.100.10/24 dev c1
in_r ip addr add 192.0.2.1/24 dev rc0
in_r ip addr add 198.51.100.1/24 dev rc1
in_r ip addr add 203.0.113.1/25 dev rs0
in_s ip addr add 203.0.113.10/25 dev s0
for l in c0 c1; do in_c ip link set "$l" up; done
for l in rc0 rc1 rs0; do in_r ip link set "$l" up; done
in_s ip link set s0 up
in_r sh -c 'echo 1 > /proc/sys/net/ipv4/ip_forward'  # per namespace; needs no procps
in_c ip route add default via 192.0.2.1 dev c0 metric 100
in_c ip route add default via 198.51.100.1 dev c1 metric 200
in_s ip route add default via 203.0.113.1 dev s0
# The server's side of the tunnel (the Child SA's local_ts), so charon's
# userspace IPsec (kernel-libipsec: this kernel has no XFRM) finds a source
# for the tunnel's route.
in_s ip addr add 10.1.0.1/32 dev lo

# charon, its configuration in $work/<side>: strongswan.conf (plugins, its
# vici socket, its log) and swanctl.conf (one IKE-only connection).
charon_conf() { # side local_addrs remote_addrs local_id remote_id psk
  local d="$work/$1"
  mkdir -p "$d"
  cat >"$d/strongswan.conf" <<EOF
charon {
  load = random nonce openssl sha1 sha2 hmac kdf gcm aes kernel-libipsec kernel-netlink socket-default vici
  install_routes = no
  install_virtual_ip = no
  filelog {
    charon {
      path = $work/charon-$1.log
      time_format = %T
      flush_line = yes
      default = 1
      ike = 2
      cfg = 2
      net = 2
    }
  }
  plugins {
    vici {
      socket = unix://$d/charon.vici
    }
  }
}
EOF
  cat >"$d/swanctl.conf" <<EOF
connections {
  mobike {
    version = 2
    proposals = aes128gcm16-prfsha256-x25519
    mobike = yes
    dpd_delay = 3s
    local_addrs = $2
    remote_addrs = $3
    local {
      auth = psk
      id = $4
    }
    remote {
      auth = psk
      id = $5
    }
    children {
      net {
        esp_proposals = aes128gcm16-x25519, aes128gcm16
        local_ts = 10.1.0.0/24
        remote_ts = 10.99.0.0/24
        start_action = none
      }
    }
  }
}
secrets {
  ike-1 {
    id-1 = $4
    id-2 = $5
    secret = "$6"
  }
}
EOF
}

# Starts charon in namespace $1 with the configuration of side $2.
start_charon() {
  local d="$work/$2"
  STRONGSWAN_CONF="$d/strongswan.conf" ip netns exec "$1" "$CHARON" >"$work/charon-$2.stdout.log" 2>&1 &
  charon_pid=$!
  for _ in $(seq 50); do
    [ -S "$d/charon.vici" ] && break
    sleep 0.1
  done
  [ -S "$d/charon.vici" ] || fail "charon did not open its vici socket"
  ip netns exec "$1" swanctl --load-all --file "$d/swanctl.conf" --uri "unix://$d/charon.vici" >"$work/swanctl-load-$2.log" 2>&1 ||
    fail "swanctl could not load the configuration"
}

stop_charon() {
  kill "$charon_pid" 2>/dev/null || true
  wait "$charon_pid" 2>/dev/null || true
  charon_pid=""
}

# swanctl --list-sas of side $2, in namespace $1.
sas() { ip netns exec "$1" swanctl --list-sas --uri "unix://$work/$2/charon.vici" 2>/dev/null; }

# Waits up to $1 seconds for `$2...` to succeed.
wait_for() {
  local n=$(($1 * 10))
  shift
  for _ in $(seq "$n"); do
    "$@" && return 0
    sleep 0.1
  done
  return 1
}

sas_show() { sas "$1" "$2" | grep -q -- "$3"; }

# Waits (bounded) for background mobike $1 (a pid) and returns its status.
wait_mobike() {
  local pid=$1 limit=$2
  for _ in $(seq $((limit * 10))); do
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.1
  done
  if kill -0 "$pid" 2>/dev/null; then
    kill "$pid"
    fail "mobike (pid $pid) did not stop within ${limit}s"
  fi
  local rc=0
  wait "$pid" || rc=$?
  return "$rc"
}

# ---------------------------------------------------------------------------
log "1. mobike initiator against charon responder"
charon_conf server 203.0.113.10 %any server.test client.test "$PSK"
start_charon "$NS_S" server

in_c "$MOBIKE" interop --role initiator --local 192.0.2.10 --local 198.51.100.10 \
  --peer 203.0.113.10 --id client.test --peer-id server.test --psk "$PSK" \
  --liveness 2s --duration 14s --json "$work/init.json" --pcap "$work/init.pcap" \
  --wireshark-dir "$work/init-keys" >"$work/mobike-init.log" 2>&1 &
mob=$!
pids+=("$mob")
wait_for 10 sas_show "$NS_S" server "ESTABLISHED" || fail "charon shows no IKE SA"
sas_show "$NS_S" server "192.0.2.10\[500\]\|192.0.2.10\[4500\]" || fail "charon's IKE SA is not with 192.0.2.10"
log "   established with 192.0.2.10"
wait_for 8 grep -q "INFORMATIONAL response" "$work/mobike-init.log" ||
  fail "no liveness check was answered"
log "   a liveness check was answered"
in_c ip addr del 192.0.2.10/24 dev c0
wait_for 15 sas_show "$NS_S" server "198.51.100.10\[4500\]" ||
  fail "charon's IKE SA did not move to 198.51.100.10"
grep -q "UPDATE_SA_ADDRESSES" "$work/mobike-init.log" || fail "no UPDATE_SA_ADDRESSES in mobike's chart"
log "   moved to 198.51.100.10 (swanctl --list-sas shows it)"
rc=0
wait_mobike "$mob" 30 || rc=$?
[ "$rc" = 0 ] || fail "mobike exited with status $rc"
wait_for 5 bash -c "! ip netns exec $NS_S swanctl --list-sas --uri unix://$work/server/charon.vici 2>/dev/null | grep -q ESTABLISHED" ||
  fail "charon still has the IKE SA after mobike deleted it"
grep -q "SK {D}" "$work/mobike-init.log" || fail "mobike's chart shows no Delete payload"
log "   deleted"
python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); assert d["format"] and d["rows"], "empty"' \
  "$work/init.json" || fail "the JSON document does not read"
if command -v tshark >/dev/null; then
  WIRESHARK_CONFIG_DIR="$work/init-keys" tshark -r "$work/init.pcap" -Y isakmp -T fields \
    -e isakmp.notify.msgtype >"$work/tshark.log" 2>&1 || fail "tshark could not read the capture"
  grep -q "16400" "$work/tshark.log" || fail "tshark did not decrypt UPDATE_SA_ADDRESSES (16400) with the key files"
  log "   tshark decrypts the capture with the key files"
fi
in_c ip addr add 192.0.2.10/24 dev c0
in_c ip route replace default via 192.0.2.1 dev c0 metric 100

log "   a wrong PSK"
rc=0
in_c "$MOBIKE" interop --role initiator --local 192.0.2.10 --peer 203.0.113.10 \
  --id client.test --psk wrong-psk --duration 10s >"$work/mobike-wrong.log" 2>&1 &
mob=$!
pids+=("$mob")
wait_mobike "$mob" 20 || rc=$?
[ "$rc" = 1 ] || fail "mobike with a wrong PSK exited with status $rc, not 1"
grep -q "AUTHENTICATION_FAILED" "$work/mobike-wrong.log" || fail "no AUTHENTICATION_FAILED in mobike's chart"
log "   refused with AUTHENTICATION_FAILED"

log "   the strongswan preset: a path check, then the update"
in_c "$MOBIKE" interop --role initiator --local 192.0.2.10 --local 198.51.100.10 \
  --peer 203.0.113.10 --id client.test --peer-id server.test --psk "$PSK" \
  --preset strongswan --duration 10s >"$work/mobike-preset.log" 2>&1 &
mob=$!
pids+=("$mob")
wait_for 10 sas_show "$NS_S" server "192.0.2.10\[4500\]" || fail "no IKE SA with the strongswan preset"
in_c ip addr del 192.0.2.10/24 dev c0
wait_for 15 sas_show "$NS_S" server "198.51.100.10\[4500\]" ||
  fail "the strongswan preset did not move the IKE SA to 198.51.100.10"
rc=0
wait_mobike "$mob" 30 || rc=$?
[ "$rc" = 0 ] || fail "mobike with the strongswan preset exited with status $rc"
# The empty check comes before the update, as charon itself does it.
check=$(grep -n "INFORMATIONAL request [0-9]*: HDR, SK {}" "$work/mobike-preset.log" | head -1 | cut -d: -f1)
update=$(grep -n "N(UPDATE_SA_ADDRESSES)" "$work/mobike-preset.log" | head -1 | cut -d: -f1)
[ -n "$check" ] && [ -n "$update" ] && [ "$check" -lt "$update" ] ||
  fail "no empty path check before UPDATE_SA_ADDRESSES with the strongswan preset"
log "   moved after its path check (swanctl --list-sas shows 198.51.100.10)"
in_c ip addr add 192.0.2.10/24 dev c0
in_c ip route replace default via 192.0.2.1 dev c0 metric 100

log "   a Child SA, rekeyed by mobike every 4 s with PFS, then the IKE SA"
if ! grep -q "created TUN device" "$work/charon-server.log"; then
  # kernel-libipsec needs /dev/net/tun: without it (and without XFRM)
  # charon can install no Child SA, so this part says so and is skipped.
  log "   skipped: charon has no userspace IPsec here (no TUN device)"
else
in_c "$MOBIKE" interop --role initiator --local 192.0.2.10 --peer 203.0.113.10 \
  --id client.test --peer-id server.test --psk "$PSK" --child \
  --set child_lifetime=4s --set rekey_pfs=true --set ike_lifetime=7s \
  --duration 12s --pcap "$work/rekey.pcap" --wireshark-dir "$work/rekey-keys" \
  >"$work/mobike-rekey.log" 2>&1 &
mob=$!
pids+=("$mob")
wait_for 10 sas_show "$NS_S" server "INSTALLED" || fail "charon installed no Child SA"
# charon numbers Child SAs as it does IKE SAs: a rekeyed one is #2 or later.
child_rekeyed() { sas "$NS_S" server | grep -Eq "net: #([2-9]|[1-9][0-9]+), .*INSTALLED"; }
wait_for 8 child_rekeyed || fail "charon shows no Child SA rekeyed by mobike"
wait_for 6 bash -c "ip netns exec $NS_S swanctl --list-sas --uri unix://$work/server/charon.vici 2>/dev/null | grep -Eq 'mobike: #([2-9]|[1-9][0-9]+), ESTABLISHED'" ||
  fail "charon shows no IKE SA rekeyed by mobike"
rc=0
wait_mobike "$mob" 30 || rc=$?
[ "$rc" = 0 ] || fail "mobike with rekeying exited with status $rc"
grep -q "new Child SA" "$work/mobike-rekey.log" || fail "mobike's chart shows no new Child SA"
grep -q "IKE SA rekeyed" "$work/mobike-rekey.log" || fail "mobike's chart shows no IKE SA rekey"
if grep -q "refused" "$work/mobike-rekey.log"; then fail "charon refused a rekey: $(grep refused "$work/mobike-rekey.log" | head -3)"; fi
if command -v tshark >/dev/null; then
  # Every protected IKE message decrypts with the key files, those of the
  # rekeyed IKE SAs too: one ICV checked [correct] per message.
  WIRESHARK_CONFIG_DIR="$work/rekey-keys" tshark -r "$work/rekey.pcap" -Y isakmp -V >"$work/tshark-rekey.log" 2>&1 ||
    fail "tshark could not read the rekey capture"
  grep -q "Exchange type: CREATE_CHILD_SA (36)" "$work/tshark-rekey.log" || fail "no CREATE_CHILD_SA in the rekey capture"
  protected=$(WIRESHARK_CONFIG_DIR="$work/rekey-keys" tshark -r "$work/rekey.pcap" -Y "isakmp.exchangetype != 34" 2>/dev/null | wc -l)
  correct=$(grep -c "Integrity Checksum Data: .*\[correct\]" "$work/tshark-rekey.log" || true)
  [ "$protected" -gt 0 ] && [ "$correct" = "$protected" ] ||
    fail "tshark checked $correct of $protected protected messages [correct]"
fi
log "   charon took the rekeyed Child SAs and IKE SA; tshark decrypts them all"
fi
stop_charon

# ---------------------------------------------------------------------------
log "2. charon initiator against mobike responder"
charon_conf client "192.0.2.10,198.51.100.10" 203.0.113.10 client.test server.test "$PSK"
# ike_lifetime: mobike, the MOBIKE responder, rekeys the IKE SA every 6 s,
# and so becomes the new IKE SA's original initiator (RFC 7296 §2.18)
# while charon keeps deciding where it goes (RFC 4555 §1.3).
in_s "$MOBIKE" interop --role responder --local 203.0.113.10 --id server.test \
  --peer-id client.test --psk "$PSK" --duration 40s --once --json "$work/resp.json" \
  --set ike_lifetime=6s >"$work/mobike-resp.log" 2>&1 &
mob=$!
pids+=("$mob")
start_charon "$NS_C" client
in_c swanctl --initiate --ike mobike --timeout 10 --uri "unix://$work/client/charon.vici" \
  >"$work/initiate.log" 2>&1 || fail "charon could not set up the IKE SA with mobike"
sas_show "$NS_C" client "192.0.2.10\[4500\]" || fail "charon's IKE SA is not from 192.0.2.10"
log "   established from 192.0.2.10"
wait_for 8 grep -q "INFORMATIONAL response" "$work/mobike-resp.log" ||
  fail "mobike answered no liveness check"
log "   charon's liveness check was answered"
# charon numbers its IKE SAs: #1 is the first, a rekeyed one is #2 or later.
rekeyed() { sas "$NS_C" client | grep -Eq "mobike: #([2-9]|[1-9][0-9]+), ESTABLISHED"; }
wait_for 12 rekeyed || fail "charon shows no IKE SA rekeyed by mobike"
log "   mobike rekeyed the IKE SA; charon took the new one"
in_c ip addr del 192.0.2.10/24 dev c0
wait_for 15 sas_show "$NS_C" client "198.51.100.10\[4500\]" ||
  fail "charon's IKE SA did not move to 198.51.100.10"
sas_show "$NS_C" client "ESTABLISHED" || fail "charon's IKE SA is not established after the move"
wait_for 5 grep -q "UPDATE_SA_ADDRESSES" "$work/mobike-resp.log" ||
  fail "no UPDATE_SA_ADDRESSES in mobike's chart"
log "   moved to 198.51.100.10 and mobike answered"
before=$(sas "$NS_C" client | grep -Eo "mobike: #[0-9]+" | head -1)
in_c swanctl --rekey --ike mobike --uri "unix://$work/client/charon.vici" >"$work/rekey.log" 2>&1 ||
  fail "charon could not ask for an IKE SA rekey"
newer() { now=$(sas "$NS_C" client | grep -Eo "mobike: #[0-9]+" | head -1); [ -n "$now" ] && [ "$now" != "$before" ] && sas_show "$NS_C" client ESTABLISHED; }
wait_for 10 newer || fail "charon's own IKE SA rekey did not go through"
sas_show "$NS_C" client "198.51.100.10\[4500\]" || fail "the rekeyed IKE SA is not on 198.51.100.10"
log "   charon rekeyed it too, on the new path"
in_c swanctl --terminate --ike mobike --timeout 10 --uri "unix://$work/client/charon.vici" \
  >"$work/terminate.log" 2>&1 || fail "charon could not delete the IKE SA"
rc=0
wait_mobike "$mob" 15 || rc=$?
[ "$rc" = 0 ] || fail "mobike responder exited with status $rc"
grep -q "IKE SA rekeyed" "$work/mobike-resp.log" || fail "mobike's chart shows no IKE SA rekey"
log "   deleted by charon; mobike stopped"
in_c ip addr add 192.0.2.10/24 dev c0
in_c ip route replace default via 192.0.2.1 dev c0 metric 100

log "   a wrong PSK"
in_s "$MOBIKE" interop --role responder --local 203.0.113.10 --id server.test \
  --psk wrong-psk --duration 12s >"$work/mobike-resp-wrong.log" 2>&1 &
mob=$!
pids+=("$mob")
sleep 0.3
if in_c swanctl --initiate --ike mobike --timeout 8 --uri "unix://$work/client/charon.vici" \
  >"$work/initiate-wrong.log" 2>&1; then
  fail "charon set up an IKE SA with a wrong PSK"
fi
rc=0
wait_mobike "$mob" 20 || rc=$?
[ "$rc" = 1 ] || fail "mobike responder with a wrong PSK exited with status $rc, not 1"
grep -q "AUTHENTICATION_FAILED" "$work/mobike-resp-wrong.log" || fail "mobike's chart shows no AUTHENTICATION_FAILED"
log "   refused with AUTHENTICATION_FAILED"
stop_charon
log "passed"
