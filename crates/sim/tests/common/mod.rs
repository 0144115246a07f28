//! Shared scenario text and trace queries for the simulator tests.
#![allow(dead_code)]

use mobike_protocol::SaSnapshot;
use mobike_sim::{DropReason, NatRefusal, Scenario, TraceKind, World};
use std::net::SocketAddr;

pub const SEC: u64 = 1_000_000;

/// A laptop (initiator, 10.0.0.2) on link `lan` behind NAT `home`
/// (198.51.100.1), a gateway with two addresses (203.0.113.10 on uplink1,
/// 203.0.113.20 on uplink2). `nat` is extra lines for the [[nat]] table,
/// `rest` anything appended (settings, events, more hosts).
pub fn behind_nat(nat: &str, rest: &str) -> String {
    format!(
        r#"
version = 1
title = "test"
seed = 11
until = "60s"

[[host]]
id = "laptop"
pos = [100, 100]
role = "initiator"
peer = "203.0.113.10"
start_at = "100ms"
[[host.interface]]
name = "eth0"
address = "10.0.0.2"
link = "lan"

[[host]]
id = "gateway"
pos = [600, 100]
role = "responder"
[[host.interface]]
name = "vip1"
address = "203.0.113.10"
link = "uplink1"
[[host.interface]]
name = "vip2"
address = "203.0.113.20"
link = "uplink2"

[[link]]
id = "lan"
delay = "5ms"
[[link]]
id = "uplink1"
delay = "2ms"
[[link]]
id = "uplink2"
delay = "2ms"

[[nat]]
id = "home"
public_address = "198.51.100.1"
link = "lan"
pos = [300, 200]
{nat}

{rest}
"#
    )
}

pub fn run(text: &str, until: u64) -> World {
    let s = Scenario::from_toml(text).unwrap_or_else(|e| panic!("{e}\n{text}"));
    let mut w = World::new(&s);
    w.run_until(until);
    w
}

/// Drops (time, reason) whose reason is `which`.
pub fn drops(w: &World, which: impl Fn(&DropReason) -> bool) -> Vec<(u64, DropReason)> {
    w.trace()
        .iter()
        .filter_map(|e| match &e.kind {
            TraceKind::Dropped { reason, .. } if which(reason) => {
                Some((e.time, (**reason).clone()))
            }
            _ => None,
        })
        .collect()
}

/// Drops by a NAT (time, refusal) whose refusal is `which`.
pub fn nat_drops(w: &World, which: impl Fn(&NatRefusal) -> bool) -> Vec<(u64, NatRefusal)> {
    drops(
        w,
        |r| matches!(r, DropReason::Nat { refusal, .. } if which(refusal)),
    )
    .into_iter()
    .filter_map(|(t, r)| match r {
        DropReason::Nat { refusal, .. } => Some((t, refusal)),
        _ => None,
    })
    .collect()
}

/// Packets delivered to `node`: (time, src, dst).
pub fn delivered(w: &World, node: &str) -> Vec<(u64, SocketAddr, SocketAddr)> {
    w.trace()
        .iter()
        .filter_map(|e| match &e.kind {
            TraceKind::Delivered {
                node: n, src, dst, ..
            } if n == node => Some((e.time, src.get(), dst.get())),
            _ => None,
        })
        .collect()
}

/// Every mapping the NATs made: (time, internal, external).
pub fn mappings_made(w: &World) -> Vec<(u64, SocketAddr, SocketAddr)> {
    w.trace()
        .iter()
        .filter_map(|e| match &e.kind {
            TraceKind::NatMapping {
                internal, external, ..
            } => Some((e.time, internal.get(), external.get())),
            _ => None,
        })
        .collect()
}

pub fn expired(w: &World) -> Vec<(u64, SocketAddr, SocketAddr)> {
    w.trace()
        .iter()
        .filter_map(|e| match &e.kind {
            TraceKind::NatMappingExpired {
                internal, external, ..
            } => Some((e.time, internal.get(), external.get())),
            _ => None,
        })
        .collect()
}

/// The first IKE SA of host number `h`.
pub fn sa(w: &World, h: usize) -> SaSnapshot {
    w.hosts()[h].sas[0].clone()
}

pub fn ep(s: &str) -> SocketAddr {
    s.parse().unwrap()
}

/// Prints the trace without packet bodies (for failing tests).
pub fn dump(w: &World) {
    for e in w.trace().iter() {
        match &e.kind {
            TraceKind::Sent {
                packet,
                node,
                src,
                dst,
                payload,
                ..
            } => eprintln!(
                "{:>10} Sent #{packet} {node} {src} -> {dst} ({} octets)",
                e.time,
                payload.len()
            ),
            TraceKind::Protocol { node, event } => {
                let text = format!("{event:?}");
                eprintln!("{:>10} {node}: {}", e.time, &text[..text.len().min(160)])
            }
            k => eprintln!("{:>10} {k:?}", e.time),
        }
    }
}
