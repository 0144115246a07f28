//! `mobike`: run MOBIKE playground scenarios from the command line.
#![forbid(unsafe_code)]

mod interop;

use clap::{Args, Parser, Subcommand};
use mobike_protocol::Time;
use mobike_render::ascii::{self, AsciiOptions};
use mobike_render::export::ExportView;
use mobike_render::topology::find_groups;
use mobike_render::{Chart, compare, json, mermaid, metrics, pcap, svg};
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

/// What the charts show (ASCII, SVG and Mermaid alike). The page's
/// downloads name the same view with these flags (see `ExportView::args`).
#[derive(Args, Clone, Default)]
struct ChartArgs {
    /// Leave out NAT-keepalives.
    #[arg(long)]
    no_keepalives: bool,
    /// Leave out protocol notes (decisions and the rules behind them) from
    /// the ASCII and Mermaid charts.
    #[arg(long)]
    no_notes: bool,
    /// Show the ESP packets (the ping traffic) in the chart.
    #[arg(long)]
    esp: bool,
    /// Leave out exchanges or kinds of row, as the page's chart filter
    /// does: ike_sa_init, ike_auth, create_child_sa, informational, keepalive, other,
    /// request, response, lost, note, intervention, narration.
    #[arg(long, value_name = "ID,ID", value_delimiter = ',')]
    hide: Vec<String>,
    /// Only rows that involve this host (or "group:<id>", a host group).
    #[arg(long, value_name = "HOST")]
    host: Option<String>,
    /// Draw each host group (client-1, client-2, …) as one lane in the SVG
    /// chart, as the page does.
    #[arg(long)]
    fold_groups: bool,
    /// With --fold-groups: draw this group a lane per member.
    #[arg(long, value_name = "GROUP")]
    expand_group: Vec<String>,
    /// Fold runs of NAT-keepalives and routine liveness checks into one
    /// row each in the SVG chart.
    #[arg(long)]
    fold_routine: bool,
}

impl ChartArgs {
    fn view(&self, ran: &Ran) -> Result<ExportView, String> {
        if let Some(h) = &self.host {
            let known = ran.scenario.hosts.iter().any(|x| x.id == *h)
                || ran.groups.iter().any(|g| g.key == *h);
            if !known {
                let mut ids: Vec<&str> = ran.scenario.hosts.iter().map(|x| x.id.as_str()).collect();
                ids.extend(ran.groups.iter().map(|g| g.key.as_str()));
                return Err(format!(
                    "--host {h:?}: no such host (hosts: {})",
                    ids.join(", ")
                ));
            }
        }
        let mut v = ExportView {
            show_esp: self.esp,
            fold_groups: self.fold_groups,
            expanded_groups: self.expand_group.iter().cloned().collect(),
            fold_routine: self.fold_routine,
            ..Default::default()
        };
        v.filter.host = self.host.clone();
        if self.no_keepalives {
            v.hide("keepalive")?;
        }
        for id in &self.hide {
            v.hide(id.trim()).map_err(|e| format!("--hide: {e}"))?;
        }
        Ok(v)
    }

    fn ascii(&self, ran: &Ran) -> Result<AsciiOptions, String> {
        let mut opts = self.view(ran)?.ascii(&ran.groups);
        opts.notes = !self.no_notes;
        Ok(opts)
    }

    fn svg(&self, ran: &Ran) -> Result<svg::SvgOptions, String> {
        Ok(self.view(ran)?.svg(&ran.groups))
    }
}

/// Which run, and for how long.
#[derive(Args)]
struct RunArgs {
    /// The scenario file (TOML).
    file: PathBuf,
    /// Override the scenario's seed.
    #[arg(long)]
    seed: Option<u64>,
    /// Run until this time instead of the scenario's `until` (e.g. "30s").
    #[arg(long)]
    until: Option<String>,
    /// Change a setting without editing the file: `key=value` for every
    /// host (`[settings]`), `host.key=value` for one host or group
    /// (`[host.settings]`); e.g. `--set list_policy=follow`,
    /// `--set laptop.liveness_interval=30s`. May be given several times.
    #[arg(long = "set", value_name = "[HOST.]KEY=VALUE")]
    set: Vec<String>,
}

/// Files the chart and the run can be written to.
#[derive(Args)]
struct ChartFiles {
    /// Write the chart as SVG here.
    #[arg(long, value_name = "OUT")]
    svg: Option<PathBuf>,
    /// Write the chart as a Mermaid sequenceDiagram here.
    #[arg(long, value_name = "OUT")]
    mermaid: Option<PathBuf>,
    /// Write the run (rows, figures, final SA state) as JSON here
    /// (docs/json-export.md).
    #[arg(long, value_name = "OUT")]
    json: Option<PathBuf>,
}

/// What `export` (and `import`) write besides the chart files.
#[derive(Args)]
struct ExportFiles {
    /// Write the RFC-style ASCII chart here.
    #[arg(long, value_name = "OUT")]
    ascii: Option<PathBuf>,
    /// Write the packets as a pcap file here.
    #[arg(long, value_name = "OUT")]
    pcap: Option<PathBuf>,
    /// The host whose interface the capture is taken at (default: the
    /// first responder).
    #[arg(long)]
    capture_at: Option<String>,
    /// Write `ikev2_decryption_table`, `esp_sa` and `preferences` into this
    /// folder; run `WIRESHARK_CONFIG_DIR=DIR tshark -r OUT.pcap -V`.
    #[arg(long)]
    wireshark_dir: Option<PathBuf>,
    /// Write the capture (at `--capture-at`) and the three key files as
    /// one zip here (the page's "pcap + keys" download).
    #[arg(long, value_name = "OUT")]
    zip: Option<PathBuf>,
}

#[derive(Subcommand)]
enum Command {
    /// Run a scenario and print its message sequence chart (RFC-style
    /// ASCII) and the run's figures.
    Run {
        #[command(flatten)]
        run: RunArgs,
        #[command(flatten)]
        chart: ChartArgs,
        #[command(flatten)]
        files: ChartFiles,
    },
    /// Run several scenarios and print their figures side by side (e.g.
    /// a cluster moving its clients by responder MOBIKE and by Redirect).
    Compare {
        /// Scenario files (TOML), two or more; `FILE@key=value,key=value`
        /// runs FILE with those settings, so one file can be compared
        /// with itself under two settings.
        #[arg(required = true, num_args = 2..)]
        files: Vec<String>,
        /// Override every scenario's seed.
        #[arg(long)]
        seed: Option<u64>,
        /// Change a setting in every run (see `run --set`).
        #[arg(long = "set", value_name = "[HOST.]KEY=VALUE")]
        set: Vec<String>,
        /// Run every scenario until this time instead of its own `until`
        /// (e.g. "30s"), and take the figures there.
        #[arg(long)]
        until: Option<String>,
    },
    /// Check the expectations ([[expect]]) of scenario files: exit status 1
    /// and a list when one fails.
    Check {
        /// Scenario files (TOML).
        #[arg(required = true)]
        files: Vec<PathBuf>,
        /// Change a setting in every file (see `run --set`).
        #[arg(long = "set", value_name = "[HOST.]KEY=VALUE")]
        set: Vec<String>,
    },
    /// Run a scenario and write it out: chart (ASCII, SVG, Mermaid), the run
    /// as JSON, capture (pcap) and the key files with which Wireshark
    /// decrypts it.
    Export {
        #[command(flatten)]
        run: RunArgs,
        #[command(flatten)]
        chart: ChartArgs,
        #[command(flatten)]
        files: ChartFiles,
        #[command(flatten)]
        out: ExportFiles,
    },
    /// Open a real capture (pcap or pcapng: Linux cooked, raw IP or
    /// Ethernet) as a run: print its chart, decrypted with the IKE SAs'
    /// keys, and write it out as `export` does.
    Import {
        /// The capture file.
        capture: PathBuf,
        /// A key file: Wireshark's `ikev2_decryption_table`, or a strongSwan
        /// charon log with `ike` logging at level 4 (its `Sk_ei secret`
        /// lines). May be given several times.
        #[arg(long, value_name = "FILE")]
        keys: Vec<PathBuf>,
        #[command(flatten)]
        chart: ChartArgs,
        #[command(flatten)]
        files: ChartFiles,
        #[command(flatten)]
        out: ExportFiles,
        /// Write the scenario naming the capture's parties here.
        #[arg(long, value_name = "OUT")]
        scenario: Option<PathBuf>,
    },
    /// Run the engine against a real IKE daemon over real UDP (ports 500
    /// and 4500 of each --local address; needs the right to bind them),
    /// following the host's addresses, and print the chart as `run` does.
    /// Exit status 1 when no IKE SA was set up.
    Interop(Box<interop::InteropArgs>),
}

/// Where a run's trace came from.
enum Source {
    World(Box<World>),
    Observed(Box<mobike_sim::observed::Observed>),
}

/// A finished run.
struct Ran {
    scenario: Scenario,
    source: Source,
    until: Time,
    chart: Chart,
    groups: Vec<mobike_render::topology::HostGroup>,
}

impl Ran {
    fn trace(&self) -> &mobike_sim::Trace {
        match &self.source {
            Source::World(w) => w.trace(),
            Source::Observed(o) => o.trace(),
        }
    }

    /// The hosts' IKE SAs at the end (none known for a capture).
    fn hosts(&self) -> Vec<json::HostState> {
        match &self.source {
            Source::World(w) => json::host_states(w.as_ref()),
            Source::Observed(_) => Vec::new(),
        }
    }
}

fn load(file: &PathBuf, seed: Option<u64>, set: &[String]) -> Result<Scenario, String> {
    let text = std::fs::read_to_string(file).map_err(|e| format!("{}: {e}", file.display()))?;
    let mut s = Scenario::from_toml(&text).map_err(|e| format!("{}: {e}", file.display()))?;
    if let Some(seed) = seed {
        s.seed = seed;
    }
    for arg in set {
        s.set_from_arg(arg)
            .map_err(|e| format!("{}: --set {e}", file.display()))?;
    }
    Ok(s)
}

/// `FILE@key=value,key=value`: a file and the settings of this variant.
fn variant(arg: &str) -> (PathBuf, Vec<String>) {
    match arg.split_once('@') {
        Some((file, sets)) if !sets.is_empty() => (
            PathBuf::from(file),
            sets.split(',').map(|s| s.trim().to_string()).collect(),
        ),
        _ => (PathBuf::from(arg), Vec::new()),
    }
}

fn simulate(args: &RunArgs) -> Result<Ran, String> {
    let scenario = load(&args.file, args.seed, &args.set)?;
    let until = match &args.until {
        Some(u) => mobike_sim::duration::Dur::parse(u)
            .map_err(|e| format!("--until {u:?}: {e}"))?
            .micros(),
        None => scenario.until.micros(),
    };
    let mut world = World::new(&scenario);
    world.run_until(until);
    let chart = Chart::build(&scenario, world.trace());
    Ok(Ran {
        groups: find_groups(&scenario),
        scenario,
        source: Source::World(Box::new(world)),
        until,
        chart,
    })
}

fn write(path: &PathBuf, data: impl AsRef<[u8]>) -> Result<(), String> {
    std::fs::write(path, data).map_err(|e| format!("{}: {e}", path.display()))
}

fn run(cli: Cli) -> Result<bool, String> {
    match cli.command {
        Command::Interop(args) => interop::run(&args),
        Command::Check { files, set } => {
            let mut all_ok = true;
            for file in &files {
                let s = load(file, None, &set)?;
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
        Command::Compare {
            files,
            seed,
            set,
            until,
        } => {
            let until = until
                .map(|u| {
                    mobike_sim::duration::Dur::parse(&u)
                        .map(|d| d.micros())
                        .map_err(|e| format!("--until {u:?}: {e}"))
                })
                .transpose()?;
            let mut cols = Vec::new();
            for arg in &files {
                let (file, own) = variant(arg);
                let all: Vec<String> = set.iter().chain(&own).cloned().collect();
                let s = load(&file, seed, &all)?;
                let end = until.unwrap_or(s.until.micros());
                let mut w = World::new(&s);
                w.run_until(end);
                let mut name = file.file_stem().map_or_else(
                    || file.display().to_string(),
                    |n| n.to_string_lossy().into(),
                );
                if !own.is_empty() {
                    name = format!("{name} ({})", own.join(", "));
                }
                // Every run's figures at its end, so runs compare at one
                // moment (the page's compare mode takes them at its clock).
                cols.push((name, metrics::compute_at(w.trace(), end)));
            }
            print!("{}", compare::Figures::build(&cols).to_text());
            Ok(true)
        }
        Command::Run { run, chart, files } => {
            let ran = simulate(&run)?;
            print!("{}", ascii::render(&ran.chart, &chart.ascii(&ran)?));
            println!();
            print!("{}", metrics::compute(ran.trace()).report());
            write_files(&ran, &chart, &files)?;
            Ok(true)
        }
        Command::Export {
            run,
            chart,
            files,
            out,
        } => {
            let ran = simulate(&run)?;
            write_files(&ran, &chart, &files)?;
            write_exports(&ran, &chart, &out)?;
            Ok(true)
        }
        Command::Import {
            capture,
            keys,
            chart,
            files,
            out,
            scenario,
        } => {
            let ran = import(&capture, &keys)?;
            print!("{}", ascii::render(&ran.chart, &chart.ascii(&ran)?));
            println!();
            print!("{}", metrics::compute(ran.trace()).report());
            if let (Some(p), Source::Observed(o)) = (&scenario, &ran.source) {
                write(p, o.scenario_toml())?;
            }
            write_files(&ran, &chart, &files)?;
            write_exports(&ran, &chart, &out)?;
            Ok(true)
        }
    }
}

/// Reads a capture and its key files into a run (`mobike import`).
fn import(capture: &PathBuf, keys: &[PathBuf]) -> Result<Ran, String> {
    use mobike_render::import;
    let name = capture.display().to_string();
    let bytes = std::fs::read(capture).map_err(|e| format!("{name}: {e}"))?;
    let mut entries = Vec::new();
    for k in keys {
        let text = std::fs::read_to_string(k).map_err(|e| format!("{}: {e}", k.display()))?;
        entries
            .extend(import::read_keys(&k.display().to_string(), &text).map_err(|e| e.to_string())?);
    }
    let file = capture
        .file_name()
        .map_or_else(|| name.clone(), |n| n.to_string_lossy().into_owned());
    let got = import::import(&file, &bytes, &entries).map_err(|e| e.to_string())?;
    eprintln!(
        "{name}: {} datagrams of {} frames, {} IKE SA{}, {} with keys",
        got.datagrams,
        got.frames,
        got.ike_sas,
        if got.ike_sas == 1 { "" } else { "s" },
        got.keyed
    );
    for s in &got.skipped {
        eprintln!("{name}: skipped {s}");
    }
    let scenario = got
        .observed
        .scenario()
        .map_err(|e| format!("{name}: the parties' scenario: {e}"))?;
    let chart = Chart::build(&scenario, got.observed.trace());
    Ok(Ran {
        groups: find_groups(&scenario),
        until: got.observed.end(),
        scenario,
        source: Source::Observed(Box::new(got.observed)),
        chart,
    })
}

/// Writes the ASCII chart, the capture and Wireshark's key files asked for.
fn write_exports(ran: &Ran, chart: &ChartArgs, out: &ExportFiles) -> Result<(), String> {
    let s = &ran.scenario;
    if let Some(path) = &out.ascii {
        write(path, ascii::render(&ran.chart, &chart.ascii(ran)?))?;
    }
    if out.pcap.is_some() || out.zip.is_some() {
        let node = match &out.capture_at {
            Some(n) => {
                if !s.hosts.iter().any(|h| h.id == *n) {
                    let ids: Vec<&str> = s.hosts.iter().map(|h| h.id.as_str()).collect();
                    return Err(format!(
                        "--capture-at {n:?}: no such host (hosts: {})",
                        ids.join(", ")
                    ));
                }
                n.clone()
            }
            None => pcap::default_capture_host(s),
        };
        if let Some(path) = &out.pcap {
            write(path, pcap::capture(ran.trace(), &node))?;
        }
        if let Some(path) = &out.zip {
            write(path, pcap::wireshark_zip(ran.trace(), &node))?;
        }
    }
    if let Some(dir) = &out.wireshark_dir {
        pcap::write_wireshark_dir(dir, ran.trace())
            .map_err(|e| format!("{}: {e}", dir.display()))?;
    }
    Ok(())
}

/// Writes the SVG, Mermaid and JSON files asked for.
fn write_files(ran: &Ran, chart: &ChartArgs, files: &ChartFiles) -> Result<(), String> {
    if let Some(path) = &files.svg {
        write(path, svg::render(&ran.chart, &chart.svg(ran)?))?;
    }
    if let Some(path) = &files.mermaid {
        write(
            path,
            mermaid::render(&ran.chart, &ran.scenario.title, &chart.ascii(ran)?),
        )?;
    }
    if let Some(path) = &files.json {
        let m = metrics::compute(ran.trace());
        write(
            path,
            json::render(&ran.scenario, ran.hosts(), &ran.chart, &m, ran.until),
        )?;
    }
    Ok(())
}

/// The simulator makes and frees many small buffers per event; mimalloc
/// serves them faster than the system allocator (see the README's "Speed
/// and size").
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

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
