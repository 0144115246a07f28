//! The simulator's speed inside the page's wasm, for `tools/bench-sim.mjs`:
//! it runs a scenario to its end here and natively, and sets the two
//! figures side by side. The page itself never calls it.
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
