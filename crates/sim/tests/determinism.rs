//! Determinism (DESIGN.md §4): the same scenario and seed give a
//! byte-identical trace. Each example runs twice and the SHA-256 of its
//! serialised trace (every event, packet bytes included) must match; with
//! another seed it must differ (SPIs, nonces, D-H secrets and COOKIE2 all
//! come from the seed); and the hash of examples/wifi-to-lte.toml is pinned
//! so that a change of behaviour anywhere below the trace is noticed.
//!
//! When the pinned hash fails after an intended change (the protocol, the
//! simulator, the wire format or the example changed), review the golden
//! charts first (`crates/render/tests/golden/`), then copy the hash the
//! failure prints into `WIFI_TO_LTE` (or run
//! `cargo test -p mobike-sim --test determinism -- --nocapture` to see every
//! example's hash).

use mobike_sim::{Scenario, World};
use sha2::{Digest, Sha256};

/// SHA-256 of the trace of examples/wifi-to-lte.toml at its seed (7) and
/// `until` (25 s), serialised with serde_json.
const WIFI_TO_LTE: &str = "c5a1baa7a036a9e629b440c90bdd9b027558f4cf2f26fd0ab79b2d6d6c0dfd6b";

fn examples() -> Vec<(String, Scenario)> {
    let dir = format!("{}/../../examples", env!("CARGO_MANIFEST_DIR"));
    let mut v: Vec<(String, Scenario)> = std::fs::read_dir(dir)
        .unwrap()
        .filter_map(|e| {
            let p = e.unwrap().path();
            (p.extension()? == "toml").then(|| {
                let name = p.file_stem().unwrap().to_string_lossy().to_string();
                let s = Scenario::from_toml(&std::fs::read_to_string(&p).unwrap())
                    .unwrap_or_else(|e| panic!("{name}: {e}"));
                (name, s)
            })
        })
        .collect();
    v.sort_by(|a, b| a.0.cmp(&b.0));
    assert!(v.len() >= 10, "{} examples", v.len());
    v
}

/// Runs the scenario to its end and hashes the serialised trace.
fn trace_hash(s: &Scenario) -> String {
    let mut w = World::new(s);
    w.run_until(s.until.micros());
    let bytes = serde_json::to_vec(w.trace()).expect("a trace serialises");
    let digest = Sha256::digest(&bytes);
    digest.iter().map(|b| format!("{b:02x}")).collect()
}

#[test]
fn same_seed_same_trace_other_seed_other_trace() {
    for (name, s) in examples() {
        let a = trace_hash(&s);
        let b = trace_hash(&s);
        println!("{name}: {a}");
        assert_eq!(a, b, "{name}: two runs with seed {} differ", s.seed);
        let mut other = s.clone();
        other.seed = s.seed.wrapping_add(1);
        assert_ne!(a, trace_hash(&other), "{name}: the seed changes nothing");
    }
}

#[test]
fn wifi_to_lte_trace_is_pinned() {
    let (_, s) = examples()
        .into_iter()
        .find(|(n, _)| n == "wifi-to-lte")
        .expect("examples/wifi-to-lte.toml");
    let hash = trace_hash(&s);
    assert_eq!(
        hash, WIFI_TO_LTE,
        "the trace of wifi-to-lte changed; if that was intended, review the \
         golden charts and pin the new hash (see the top of this file)"
    );
}

/// A long run files its trace on a second thread (natively): the trace is
/// the same as when the world files every event itself, entry for entry,
/// for every example and for a run cut into several calls.
#[test]
fn filing_in_the_background_gives_the_same_trace() {
    for (name, s) in examples() {
        let end = s.until.micros();
        let run = |after: u64, stops: &[u64]| {
            let mut w = World::new(&s);
            w.file_in_background_after(after);
            let mut events = 0;
            for &t in stops.iter().chain([&end]) {
                events += w.run_until(t.min(end));
            }
            (events, w)
        };
        let (events, alone) = run(u64::MAX, &[]);
        for (after, stops) in [
            (0, &[][..]),
            (1, &[end / 3, end / 2][..]),
            (100, &[end / 4][..]),
        ] {
            let (n, w) = run(after, stops);
            assert_eq!(n, events, "{name}: events run");
            assert_eq!(w.trace().len(), alone.trace().len(), "{name}: trace length");
            for (i, (a, b)) in alone.trace().iter().zip(w.trace().iter()).enumerate() {
                assert_eq!(a, b, "{name}: event {i}, filing after {after} events");
            }
            assert_eq!(
                serde_json::to_vec(w.trace()).unwrap(),
                serde_json::to_vec(alone.trace()).unwrap(),
                "{name}: the serialised trace"
            );
        }
    }
}
