//! Scenario files (TOML) from arbitrary text: the reader never panics; a
//! file it accepts passes its own check, names its hosts uniquely, and runs
//! (a bounded number of events) without a panic.
#![no_main]
use libfuzzer_sys::fuzz_target;
use mobike_sim::{Scenario, World};

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let Ok(s) = Scenario::from_toml(&text) else {
        return;
    };
    assert!(s.check().is_ok(), "a scenario the reader accepts fails its own check");
    let mut ids: Vec<&str> = s.hosts.iter().map(|h| h.id.as_str()).collect();
    ids.sort_unstable();
    ids.dedup();
    assert_eq!(ids.len(), s.hosts.len(), "host ids are unique");
    // Saved and read back, it is the same scenario.
    if let Ok(saved) = s.to_toml() {
        let back = Scenario::from_toml(&saved).expect("a saved scenario reads back");
        assert_eq!(back.hosts.len(), s.hosts.len());
    }
    if s.hosts.len() <= 20 {
        let mut w = World::new(&s);
        for _ in 0..300 {
            if w.next_event_time().is_none() {
                break;
            }
            w.step();
        }
    }
});
