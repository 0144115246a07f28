//! `mobike`: run MOBIKE playground scenarios from the command line.
#![forbid(unsafe_code)]

use clap::{Parser, Subcommand};
use mobike_render::ascii::{self, AsciiOptions};
use mobike_render::{Chart, svg};
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

fn run(cli: Cli) -> Result<(), String> {
    match cli.command {
        Command::Run {
            file,
            seed,
            until,
            no_keepalives,
            no_notes,
            svg: svg_out,
        } => {
            let s = load(&file, seed)?;
            let until = match until {
                Some(u) => mobike_sim::duration::Dur::parse(&u)?.micros(),
                None => s.until.micros(),
            };
            let mut world = World::new(&s);
            world.run_until(until);
            let chart = Chart::build(&s, world.trace());
            let opts = AsciiOptions {
                keepalives: !no_keepalives,
                notes: !no_notes,
            };
            print!("{}", ascii::render(&chart, &opts));
            if let Some(path) = svg_out {
                let text = svg::render(&chart, &svg::SvgOptions::default());
                std::fs::write(&path, text).map_err(|e| format!("{}: {e}", path.display()))?;
            }
            Ok(())
        }
    }
}

fn main() -> ExitCode {
    match run(Cli::parse()) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("mobike: {e}");
            ExitCode::from(2)
        }
    }
}
