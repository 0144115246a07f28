//! Runs a scenario file to its end and prints the number of events, the
//! trace's size, the wall time and the peak memory (on Linux): `cargo run
//! --release -p mobike-sim --example hour -- FILE.toml` (`--slices`: each
//! 5 virtual minutes apart). For profiling the simulator alone (no chart,
//! no metrics), e.g. under `perf record`; it runs as `mobike check` does,
//! with `World::run_until`, so a long run files its trace on a second
//! thread.
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
    // `--slices`: the events and wall time of every 5 virtual minutes.
    let events = if std::env::args().any(|a| a == "--slices") {
        let (mut events, mut slice_end) = (0, 0);
        while slice_end < until {
            slice_end = (slice_end + 300_000_000).min(until);
            let slice_start = std::time::Instant::now();
            let n = w.run_until(slice_end);
            let s = slice_start.elapsed().as_secs_f64();
            println!(
                "to {:>3} min: {n:>8} events, {s:.2} s, {:.0} events/s",
                slice_end / 60_000_000,
                n as f64 / s
            );
            events += n;
        }
        events
    } else {
        w.run_until(until)
    };
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
