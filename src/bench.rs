//! The simulator inside the page's wasm, for tools and tests: its speed
//! (`tools/bench-sim.mjs` runs a scenario here and natively and sets the
//! two figures side by side) and its trace hash (the browser test of
//! determinism across targets compares it with the native one). The page
//! itself never calls these.
use wasm_bindgen::prelude::*;

/// Runs a scenario (TOML text) to its `until` with no chart and no page
/// around it; returns `"EVENTS MILLISECONDS TRACE_ENTRIES"`, or the
/// scenario's error.
#[wasm_bindgen]
pub fn bench_simulator(toml: &str) -> Result<String, JsError> {
    let scenario =
        mobike_sim::Scenario::from_toml(toml).map_err(|e| JsError::new(&e.to_string()))?;
    let clock = web_sys::window()
        .and_then(|w| w.performance())
        .ok_or_else(|| JsError::new("no performance clock"))?;
    let start = clock.now();
    let until = scenario.until.micros();
    let mut world = mobike_sim::World::new(&scenario);
    let mut events = 0u64;
    while world.next_event_time().is_some_and(|t| t <= until) {
        world.step();
        events += 1;
    }
    let ms = clock.now() - start;
    Ok(format!("{events} {ms:.1} {}", world.trace().len()))
}

/// The SHA-256 (hex) of a run's trace serialised as JSON, the run being
/// `scenario` to its `until`: equal hashes mean byte-identical traces.
pub fn trace_hash(scenario: &mobike_sim::Scenario) -> String {
    use sha2::{Digest, Sha256};
    let mut world = mobike_sim::World::new(scenario);
    world.run_until(scenario.until.micros());
    let bytes = serde_json::to_vec(world.trace()).unwrap_or_default();
    Sha256::digest(&bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// [`trace_hash`] of a scenario file's text, in the page's wasm.
#[wasm_bindgen(js_name = trace_hash)]
pub fn trace_hash_of(toml: &str) -> Result<String, JsError> {
    let scenario =
        mobike_sim::Scenario::from_toml(toml).map_err(|e| JsError::new(&e.to_string()))?;
    Ok(trace_hash(&scenario))
}

#[cfg(test)]
mod tests {
    use crate::session::EXAMPLES;

    /// Every example's trace hash, pinned in `tests/trace-hashes.txt`, which
    /// the browser test checks the page's wasm against. After an intended
    /// change, review the golden charts, then rewrite the file with
    /// `UPDATE_HASHES=1 cargo test -p mobike-playground --lib trace_hashes`.
    #[test]
    fn trace_hashes_are_pinned_for_every_example() {
        let path = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/trace-hashes.txt");
        let mut got = String::from(
            "# SHA-256 of each example's trace (JSON) at its seed and until; see src/bench.rs.\n",
        );
        for (name, text) in EXAMPLES {
            let s = mobike_sim::Scenario::from_toml(text).unwrap();
            got.push_str(&format!("{name} {}\n", super::trace_hash(&s)));
        }
        if std::env::var_os("UPDATE_HASHES").is_some() {
            std::fs::write(path, &got).unwrap();
        }
        let pinned = std::fs::read_to_string(path).unwrap_or_default();
        assert_eq!(
            pinned, got,
            "an example's trace changed; if intended, see this test's doc comment"
        );
    }
}
