//! `mobike`: run MOBIKE playground scenarios from the command line.
#![forbid(unsafe_code)]

use clap::{Parser, Subcommand};
use mobike_render::ascii::{self, AsciiOptions};
use mobike_render::{Chart, metrics, pcap, svg};
use mobike_sim::{Scenario, World};
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(Parser)]
#[command(
    name = "mobike",
    version,
    about = "Run MOBIKE (RFC 4555) playground scenarios headless"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run a scenario and print its message sequence chart (RFC-style ASCII).
    Run {
        /// The scenario file (TOML).
        file: PathBuf,
        /// Override the scenario's seed.
        #[arg(long)]
        seed: Option<u64>,
        /// Run until this time instead of the scenario's `until` (e.g. "30s").
        #[arg(long)]
        until: Option<String>,
        /// Leave out NAT-keepalives.
        #[arg(long)]
        no_keepalives: bool,
        /// Leave out protocol notes (decisions and the rules behind them).
        #[arg(long)]
        no_notes: bool,
        /// Write the chart as SVG to this file as well.
        #[arg(long)]
        svg: Option<PathBuf>,
        /// Show the ESP packets (the ping traffic) in the chart.
        #[arg(long)]
        esp: bool,
    },
    /// Check the expectations ([[expect]]) of scenario files: exit status 1
    /// and a list when one fails.
    Check {
        /// Scenario files (TOML).
        #[arg(required = true)]
        files: Vec<PathBuf>,
    },
    /// Run a scenario and write it out: chart (ASCII, SVG), capture (pcap)
    /// and the key files with which Wireshark decrypts it.
    Export {
        /// The scenario file (TOML).
        file: PathBuf,
        #[arg(long)]
        seed: Option<u64>,
        #[arg(long)]
        until: Option<String>,
        /// Write the RFC-style ASCII chart here.
        #[arg(long)]
        ascii: Option<PathBuf>,
        /// Write the chart as SVG here.
        #[arg(long)]
        svg: Option<PathBuf>,
        /// Write the packets as a pcap file here.
        #[arg(long)]
        pcap: Option<PathBuf>,
        /// The host whose interface the capture is taken at (default: the
        /// first responder).
        #[arg(long)]
        capture_at: Option<String>,
        /// Write `ikev2_decryption_table`, `esp_sa` and `preferences` into this
        /// folder; run `WIRESHARK_CONFIG_DIR=DIR tshark -r OUT.pcap -V`.
        #[arg(long)]
        wireshark_dir: Option<PathBuf>,
    },
}

fn load(file: &PathBuf, seed: Option<u64>) -> Result<Scenario, String> {
    let text = std::fs::read_to_string(file).map_err(|e| format!("{}: {e}", file.display()))?;
    let mut s = Scenario::from_toml(&text).map_err(|e| format!("{}: {e}", file.display()))?;
    if let Some(seed) = seed {
        s.seed = seed;
    }
    Ok(s)
}

fn simulate(
    file: &PathBuf,
    seed: Option<u64>,
    until: Option<String>,
) -> Result<(Scenario, World), String> {
    let s = load(file, seed)?;
    let until = match until {
        Some(u) => mobike_sim::duration::Dur::parse(&u)?.micros(),
        None => s.until.micros(),
    };
    let mut world = World::new(&s);
    world.run_until(until);
    Ok((s, world))
}

fn write(path: &PathBuf, data: impl AsRef<[u8]>) -> Result<(), String> {
    std::fs::write(path, data).map_err(|e| format!("{}: {e}", path.display()))
}

fn run(cli: Cli) -> Result<bool, String> {
    match cli.command {
        Command::Check { files } => {
            let mut all_ok = true;
            for file in &files {
                let s = load(file, None)?;
                let outcomes = mobike_render::check::check(&s);
                if outcomes.is_empty() {
                    println!("{}: no expectations", file.display());
                    continue;
                }
                let failed = outcomes.iter().filter(|o| o.failure.is_some()).count();
                println!(
                    "{}: {} of {} expectations hold",
                    file.display(),
                    outcomes.len() - failed,
                    outcomes.len()
                );
                for o in &outcomes {
                    match &o.failure {
                        None => println!("  ok    #{} {}", o.index, o.what),
                        Some(why) => println!("  FAIL  #{} {}: {why}", o.index, o.what),
                    }
                }
                all_ok &= failed == 0;
            }
            Ok(all_ok)
        }
        Command::Run {
            file,
            seed,
            until,
            no_keepalives,
            no_notes,
            svg: svg_out,
            esp,
        } => {
            let (s, world) = simulate(&file, seed, until)?;
            let chart = Chart::build(&s, world.trace());
            let opts = AsciiOptions {
                keepalives: !no_keepalives,
                notes: !no_notes,
                esp,
            };
            print!("{}", ascii::render(&chart, &opts));
            println!();
            print!("{}", metrics::compute(world.trace()).report());
            if let Some(path) = svg_out {
                write(&path, svg::render(&chart, &svg::SvgOptions::default()))?;
            }
            Ok(true)
        }
        Command::Export {
            file,
            seed,
            until,
            ascii: ascii_out,
            svg: svg_out,
            pcap: pcap_out,
            capture_at,
            wireshark_dir,
        } => {
            let (s, world) = simulate(&file, seed, until)?;
            let chart = Chart::build(&s, world.trace());
            if let Some(path) = ascii_out {
                write(&path, ascii::render(&chart, &AsciiOptions::default()))?;
            }
            if let Some(path) = svg_out {
                write(&path, svg::render(&chart, &svg::SvgOptions::default()))?;
            }
            if let Some(path) = pcap_out {
                let node = match capture_at {
                    Some(n) => {
                        if !s.hosts.iter().any(|h| h.id == n) {
                            let ids: Vec<&str> = s.hosts.iter().map(|h| h.id.as_str()).collect();
                            return Err(format!(
                                "--capture-at {n:?}: no such host (hosts: {})",
                                ids.join(", ")
                            ));
                        }
                        n
                    }
                    None => s
                        .hosts
                        .iter()
                        .find(|h| h.role == mobike_protocol::Role::Responder)
                        .or(s.hosts.first())
                        .map(|h| h.id.clone())
                        .unwrap_or_default(),
                };
                write(&path, pcap::capture(world.trace(), &node))?;
            }
            if let Some(dir) = wireshark_dir {
                pcap::write_wireshark_dir(&dir, world.trace())
                    .map_err(|e| format!("{}: {e}", dir.display()))?;
            }
            Ok(true)
        }
    }
}

fn main() -> ExitCode {
    match run(Cli::parse()) {
        Ok(true) => ExitCode::SUCCESS,
        Ok(false) => ExitCode::from(1),
        Err(e) => {
            eprintln!("mobike: {e}");
            ExitCode::from(2)
        }
    }
}
