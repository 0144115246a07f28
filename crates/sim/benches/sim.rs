//! Benchmarks of the simulator: simulated events per second (one event is
//! one entry of the discrete-event queue: a packet reaching a link end, a
//! timer, a ping, a timeline event) on
//!
//! - examples/wifi-to-lte.toml, the whole run (25 s of virtual time);
//! - a generated network: 50 clients, each on its own link behind its own
//!   NAT, with one VPN gateway, staggered starts, liveness checks, NAT
//!   keepalives and a reboot of every fifth NAT halfway, for 10 minutes of
//!   virtual time. (The scenario format has one ping generator, so one
//!   client pings; the others carry IKE traffic only.)
//!
//! - a load-sharing cluster with two nodes and 1,000 clients behind a
//!   carrier-grade NAT for one hour of virtual time: NAT keepalives every
//!   20 s, liveness checks every 60 s, and one mass move of every client to
//!   the second node by responder MOBIKE at 30 min (`cluster-1000-1h`),
//!   and the same with 10,000 clients (`cluster-10000-1h`).
//!
//! Only the simulator runs (no chart, no figures); `cargo run --release -p
//! mobike-sim --example hour -- FILE.toml` times one run of any scenario the
//! same way, and `node tools/bench-sim.mjs` sets that figure beside the
//! page's wasm.
//!
//! Run with `cargo bench -p mobike-sim`; criterion's options follow `--`,
//! e.g. `cargo bench -p mobike-sim -- --measurement-time 10`. Each bench
//! prints the number of events per run once; criterion reports the time
//! per run and the throughput in events (elements) per second.

use std::hint::black_box;
use std::time::Duration;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use mobike_sim::{Scenario, World};

/// The allocator of the `mobike` command, so the figures are what it runs.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn wifi_to_lte() -> Scenario {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../examples/wifi-to-lte.toml"
    );
    let text = std::fs::read_to_string(path).expect("examples/wifi-to-lte.toml");
    Scenario::from_toml(&text).expect("the example parses")
}

/// `clients` clients behind their own NATs and one gateway, for `minutes`
/// of virtual time.
fn many_clients(clients: usize, minutes: u32) -> Scenario {
    use std::fmt::Write;
    let mut t = String::new();
    let _ = write!(
        t,
        r#"
version = 1
title = "{clients} clients behind NATs"
seed = 1
until = "{minutes}min"

[[host]]
id = "gateway"
pos = [600, 160]
role = "responder"
[[host.interface]]
name = "eth0"
address = "203.0.113.10"
link = "uplink"

[[link]]
id = "uplink"
delay = "2ms"
"#
    );
    for i in 0..clients {
        let (hi, lo) = (i / 200, i % 200 + 1);
        let _ = write!(
            t,
            r#"
[[host]]
id = "c{i}"
pos = [100, {y}]
role = "initiator"
peer = "203.0.113.10"
start_at = "{start}ms"
[[host.interface]]
name = "wlan0"
address = "10.{hi}.{lo}.2"
link = "l{i}"

[[link]]
id = "l{i}"
delay = "{delay}ms"

[[nat]]
id = "n{i}"
public_address = "198.51.{hi}.{lo}"
link = "l{i}"
pos = [300, {y}]
"#,
            y = 10 + i * 5,
            start = 100 + i * 20,
            delay = 5 + i % 30,
        );
    }
    for i in (0..clients).step_by(5) {
        let _ = write!(
            t,
            r#"
[[event]]
at = "{at}s"
nat_reboot = "n{i}"
"#,
            at = u64::from(minutes) * 30 + i as u64,
        );
    }
    let _ = write!(
        t,
        r#"
[settings]
psk = "bench"
liveness_interval = "10s"
keepalive_interval = "20s"

[ping]
from = "c0"
to = "gateway"
interval = "1s"
start = "2s"
"#
    );
    Scenario::from_toml(&t).expect("the generated scenario parses")
}

/// The cluster of tests/scenarios/cgn-cluster.toml (clients behind one
/// carrier-grade NAT, a mass move by responder MOBIKE halfway) scaled to
/// `clients` clients and `minutes` of virtual time.
fn cluster(clients: u32, minutes: u32) -> Scenario {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../tests/scenarios/cgn-cluster.toml"
    );
    let text = std::fs::read_to_string(path).expect("tests/scenarios/cgn-cluster.toml");
    let mut scaled = text.clone();
    for (from, to) in [
        ("count = 3\n".to_string(), format!("count = {clients}\n")),
        (
            "until = \"40s\"".to_string(),
            format!("until = \"{minutes}min\""),
        ),
        (
            "at = \"20s\"".to_string(),
            format!("at = \"{}s\"", u64::from(minutes) * 30),
        ),
    ] {
        assert!(scaled.contains(&from), "cgn-cluster.toml has {from:?}");
        scaled = scaled.replacen(&from, &to, 1);
    }
    Scenario::from_toml(&scaled).expect("the scaled cluster parses")
}

/// Runs to the scenario's end, one event at a time; returns the number of
/// events processed.
fn run(s: &Scenario) -> u64 {
    let until = s.until.micros();
    let mut w = World::new(s);
    let mut events = 0;
    while w.next_event_time().is_some_and(|t| t <= until) {
        w.step();
        events += 1;
    }
    black_box(w.trace().len());
    events
}

fn bench(c: &mut Criterion, name: &str, s: &Scenario) {
    let events = run(s);
    let mut w = World::new(s);
    w.run_until(s.until.micros());
    // The network does what it is meant to: every host's IKE SAs are up.
    let hosts = w.hosts();
    let up = hosts
        .iter()
        .filter(|h| {
            !h.sas.is_empty()
                && h.sas
                    .iter()
                    .all(|sa| sa.state == mobike_protocol::SaState::Established)
        })
        .count();
    assert_eq!(up, hosts.len(), "{name}: every host has its IKE SAs up");
    println!(
        "{name}: {events} events, {} trace entries, {} IKE SAs at the gateway per run",
        w.trace().len(),
        hosts.iter().map(|h| h.sas.len()).max().unwrap_or(0)
    );
    let mut g = c.benchmark_group("sim");
    g.throughput(Throughput::Elements(events));
    g.bench_function(name, |b| b.iter(|| run(black_box(s))));
    g.finish();
}

fn benches(c: &mut Criterion) {
    bench(c, "wifi-to-lte", &wifi_to_lte());
    bench(c, "50-clients-10min", &many_clients(50, 10));
    bench(c, "cluster-1000-1h", &cluster(1000, 60));
    // About 20 s a run on a 2-core machine: criterion's fewest samples (10).
    bench(c, "cluster-10000-1h", &cluster(10_000, 60));
}

criterion_group! {
    name = sim;
    config = Criterion::default()
        .sample_size(10)
        .measurement_time(Duration::from_secs(10));
    targets = benches
}
criterion_main!(sim);
