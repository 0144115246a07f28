//! Runs a scenario file to its end and prints the number of events, the
//! trace's size, the wall time and the peak memory (on Linux): `cargo run
//! --release -p mobike-sim --example hour -- FILE.toml`. For profiling the
//! simulator alone (no chart, no metrics), e.g. under `perf record`.
use mobike_sim::{Scenario, World};
use std::process::ExitCode;

/// The allocator of the `mobike` command, so this times what it runs.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> ExitCode {
    let Some(path) = std::env::args().nth(1) else {
        eprintln!("usage: hour FILE.toml");
        return ExitCode::FAILURE;
    };
    let scenario = match std::fs::read_to_string(&path)
        .map_err(|e| e.to_string())
        .and_then(|text| Scenario::from_toml(&text).map_err(|e| e.to_string()))
    {
        Ok(s) => s,
        Err(e) => {
            eprintln!("{path}: {e}");
            return ExitCode::FAILURE;
        }
    };
    let start = std::time::Instant::now();
    let until = scenario.until.micros();
    let mut w = World::new(&scenario);
    let mut events = 0u64;
    // `--slices`: the events and wall time of every 5 virtual minutes.
    let slices = std::env::args().any(|a| a == "--slices");
    let (mut slice_end, mut slice_events, mut slice_start) = (300_000_000, 0u64, start);
    while let Some(t) = w.next_event_time().filter(|&t| t <= until) {
        if slices && t > slice_end {
            let s = slice_start.elapsed().as_secs_f64();
            println!(
                "to {:>3} min: {:>8} events, {s:.2} s, {:.0} events/s",
                slice_end / 60_000_000,
                events - slice_events,
                (events - slice_events) as f64 / s
            );
            (slice_end, slice_events, slice_start) =
                (slice_end + 300_000_000, events, std::time::Instant::now());
        }
        w.step();
        events += 1;
    }
    let secs = start.elapsed().as_secs_f64();
    println!(
        "{events} events, {} trace entries, {secs:.2} s, {:.0} events/s{}",
        w.trace().len(),
        events as f64 / secs,
        peak_memory().map_or(String::new(), |m| format!(", peak memory {m}"))
    );
    ExitCode::SUCCESS
}

/// The process's peak resident memory as Linux reports it (`VmHWM`), if
/// it does: a change that makes the run hold more shows here.
fn peak_memory() -> Option<String> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let kb: u64 = status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))?
        .trim()
        .strip_suffix("kB")?
        .trim()
        .parse()
        .ok()?;
    Some(format!("{} MB", kb / 1000))
}
