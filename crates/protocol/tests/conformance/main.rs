//! Conformance tests for the checklist of shared/spec/mobike-reference.md
//! §2.14, one module per RFC section. Every test name starts with the
//! checklist id in snake case (`m_3_7_5_…` is M-3.7-5) and asserts what the
//! checklist's "Obs" column says can be observed: datagrams with their
//! addresses and ports, octets, decrypted payloads (with the keys from
//! `Event::KeysDerived`), snapshots and events. docs/conformance.md maps
//! every id to its tests, or says why there is none yet. `scenarios` holds
//! whole scenarios that touch several ids at once.
//!
//! The harness (tests/common/mod.rs) gives two endpoints on a virtual
//! network with black holes, one-way cuts, a NAT box, per-datagram rules
//! (drop, delay, duplicate, rewrite) and injection; `helpers` holds what
//! several sections share.

#[path = "../common/mod.rs"]
mod common;
mod helpers;

mod ipv6;
mod rfc3948;
mod rfc4555_3_10_to_5;
mod rfc4555_3_1_to_3_4;
mod rfc4555_3_5;
mod rfc4555_3_6_3_7;
mod rfc4555_3_8_3_9;
mod rfc7296_2_11_2_23;
mod rfc7296_2_1_to_2_4;
mod scenarios;
