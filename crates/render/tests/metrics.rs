//! The run's figures on real examples. The expected values are derived
//! from the scenario files' timing (delays, intervals, retransmission
//! schedule), not copied from the output.

use mobike_render::metrics::{self, Metrics};
use mobike_sim::{Scenario, World};

const S: u64 = 1_000_000;
const MS: u64 = 1_000;

fn run(name: &str) -> Metrics {
    let path = format!("{}/../../examples/{name}.toml", env!("CARGO_MANIFEST_DIR"));
    let s = Scenario::from_toml(&std::fs::read_to_string(path).unwrap()).unwrap();
    let mut w = World::new(&s);
    w.run_until(s.until.micros());
    metrics::compute(w.trace())
}

/// examples/wifi-to-lte.toml: a ping every 1 s from 1 s to 25 s; Wi-Fi
/// breaks at 12 s; liveness checks every 5 s, retransmitted after 1 s and
/// 2 s more, probing all pairs after 2 retransmissions; LTE is 35 ms + 2 ms
/// one way.
#[test]
fn wifi_to_lte_outage_and_recovery() {
    let m = run("wifi-to-lte");
    assert_eq!(m.clients.len(), 1, "{:?}", m.clients);
    let c = &m.clients[0];
    assert_eq!(c.node, "laptop");
    // Requests at 1, 2, ..., 25 s.
    assert_eq!(c.pings_sent, 25);
    assert_eq!(c.pings_not_carried, 0, "the SA is up after 0.1 s + 2 RTTs");
    // The last answered request before the break went at 11 or 12 s. The
    // first liveness check after the break goes between 12 s and 17 s; it
    // and its two retransmissions take 3 s more before probing, so the
    // move begins between 15 s and 20 s and takes a few LTE round trips
    // (path test, UPDATE, the gateway's COOKIE2: under 0.5 s). The first
    // answered request is the first one sent after that: 16 s to 21 s.
    assert!(
        (4 * S..=10 * S).contains(&c.longest_gap),
        "outage {} us",
        c.longest_gap
    );
    assert_eq!(c.longest_gap % S, 0, "requests go on whole seconds");
    // Every request sent during the outage is lost once (its ESP packet on
    // the broken Wi-Fi); no reply is lost: the gateway answers only what
    // reached it. The one in flight at the end is neither.
    let outage_requests = (c.longest_gap / S - 1) as u32;
    assert_eq!(c.pings_lost, outage_requests);
    assert_eq!(c.esp_lost, c.pings_lost);
    // The request at 25 s goes at the run's last instant.
    assert_eq!(c.pings_answered + c.pings_lost, c.pings_sent - 1);
    // A request for each ping, a reply for each answered one.
    assert_eq!(c.esp_packets, c.pings_sent + c.pings_answered);

    // One trigger: the break at 12 s.
    assert_eq!(m.triggers.len(), 1);
    let t = &m.triggers[0];
    assert_eq!(t.time, 12 * S);
    assert!(t.text.contains("Wi-Fi"), "{}", t.text);
    let r = &t.recoveries[0];
    assert_eq!(r.client, "laptop");
    let moved = r
        .path_changed_after
        .expect("both ends moved their IPsec SAs");
    assert!((3 * S..=8 * S + 500 * MS).contains(&moved), "{moved} us");
    let ping = r.ping_answered_after.expect("pings flow again");
    // A reply needs the gateway's IPsec SAs moved; the next request goes
    // within 1 s of that and takes an LTE round trip (74 ms).
    assert!(ping > moved, "{ping} <= {moved}");
    assert!(ping <= moved + S + 74 * MS, "{ping} vs {moved}");

    // Per host: the laptop lost its liveness check and the retransmission
    // on Wi-Fi, and the probe on the Wi-Fi pair (probe_after + 1 = 3);
    // the gateway lost nothing (it sent nothing over the broken link).
    let laptop = m.hosts.iter().find(|h| h.node == "laptop").unwrap();
    let gateway = m.hosts.iter().find(|h| h.node == "gateway").unwrap();
    assert_eq!(laptop.ike_lost, 3);
    assert_eq!(gateway.ike_lost, 0);
    assert_eq!(laptop.esp_lost, c.esp_lost);
    assert_eq!(laptop.esp_packets, c.pings_sent);
    assert_eq!(gateway.esp_packets, c.pings_answered);
    assert_eq!(laptop.keepalives + gateway.keepalives, 0, "no NAT at first");
    // Totals are the sums.
    assert_eq!(m.ike_messages, laptop.ike_messages + gateway.ike_messages);
    assert_eq!(m.ike_octets, laptop.ike_octets + gateway.ike_octets);
    assert_eq!(m.ike_lost, 3);
    assert_eq!(m.longest_gap, c.longest_gap);
    // IKE_SA_INIT (2), IKE_AUTH (2) and at least one liveness exchange each
    // way, plus the move: the laptop sends more than it receives.
    assert!(laptop.ike_messages > gateway.ike_messages);
    assert!(m.ike_octets > 1000);

    let report = m.report();
    assert!(report.lines().all(|l| l.len() <= 72), "{report}");
    assert!(report.contains("break link Wi-Fi"), "{report}");
}

/// In examples/nat-keepalives.toml the gateway pings the laptop: the
/// figures still belong to the laptop, the client whose tunnel carries them.
#[test]
fn pings_from_the_gateway_count_for_the_client() {
    let m = run("nat-keepalives");
    let names: Vec<&str> = m.clients.iter().map(|c| c.node.as_str()).collect();
    assert_eq!(names, ["laptop"]);
    // Requests at 33 s and 68 s; the keepalives keep the mapping open.
    assert_eq!(m.clients[0].pings_sent, 2);
    assert_eq!(m.clients[0].pings_answered, 2);
    let laptop = m.hosts.iter().find(|h| h.node == "laptop").unwrap();
    assert!(
        laptop.keepalives > 0,
        "behind a NAT the laptop sends keepalives"
    );
}

/// The page's traffic panel follows a run with a `MetricsBuilder` updated
/// tick by tick: at every tick its figures equal those of the whole trace
/// read afresh, in runs with pings from a client, from a gateway to many
/// clients, NAT changes and an intervention.
#[test]
fn builder_updated_tick_by_tick_equals_the_whole_trace() {
    for name in [
        "wifi-to-lte",
        "cluster-20-mobike",
        "nat-mapping-timeout",
        "attacker-spoofed-update",
        "responder-moves-client-follow",
    ] {
        let path = format!("{}/../../examples/{name}.toml", env!("CARGO_MANIFEST_DIR"));
        let Ok(text) = std::fs::read_to_string(&path) else {
            panic!("{path} is one of the examples");
        };
        let s = Scenario::from_toml(&text).unwrap();
        let mut w = World::new(&s);
        let mut b = metrics::MetricsBuilder::default();
        let mut t = 0;
        let mut checked = 0;
        while t < s.until.micros() {
            t += 700 * MS;
            w.run_until(t);
            b.update(w.trace());
            assert_eq!(b.current(), metrics::compute(w.trace()), "{name} at {t} us");
            checked += 1;
        }
        let m = b.current();
        assert!(m.ike_messages > 0 && checked > 10, "{name}: {m:?}");
    }
}
