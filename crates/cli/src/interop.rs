//! `mobike interop`: the engine against a real IKE daemon over real UDP.
//! Its options come from flags or a small TOML file (flags win); what it
//! writes is what `mobike export` writes for a simulated run.

use clap::{Args, ValueEnum};
use mobike_interop::{Config, Outcome};
use mobike_protocol::{Role, Settings};
use mobike_render::ascii::{self, AsciiOptions};
use mobike_render::chart::What;
use mobike_render::{ChartBuilder, Row, json, metrics, pcap, svg};
use mobike_sim::observed::Observed;
use mobike_sim::vocab::settings::{SettingsLayer, resolve};
use serde::Deserialize;
use std::io::Write;
use std::net::IpAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

#[derive(Clone, Copy, ValueEnum, Deserialize, PartialEq, Debug)]
#[serde(rename_all = "lowercase")]
pub enum RoleArg {
    Initiator,
    Responder,
}

/// `mobike interop`'s options (each may also come from `--config`).
#[derive(Args, Default)]
pub struct InteropArgs {
    /// A TOML file with any of: role, local (a list), peer, id, peer_id,
    /// psk, preset, liveness, duration, child, once, and a [settings]
    /// table (as a scenario's). Flags given as well win.
    #[arg(long, value_name = "FILE")]
    config: Option<PathBuf>,
    /// Set up the IKE SA (initiator) or wait for one (responder).
    #[arg(long, value_enum)]
    role: Option<RoleArg>,
    /// A local address to use (sockets on ports 500 and 4500 while the OS
    /// has it); give one per address. The first present starts the IKE SA;
    /// the others are announced as additional addresses.
    #[arg(long = "local", value_name = "ADDR")]
    locals: Vec<IpAddr>,
    /// The peer's address (an initiator's; a responder answers anyone).
    #[arg(long, value_name = "ADDR")]
    peer: Option<IpAddr>,
    /// Our identity (FQDN or e-mail address form).
    #[arg(long)]
    id: Option<String>,
    /// The identity the peer must show (else any whose AUTH verifies).
    #[arg(long)]
    peer_id: Option<String>,
    /// The pre-shared key.
    #[arg(long)]
    psk: Option<String>,
    /// Settings preset: rfc, strongswan, libreswan.
    #[arg(long)]
    preset: Option<String>,
    /// Check liveness every DUR without traffic (e.g. "10s").
    #[arg(long, value_name = "DUR")]
    liveness: Option<String>,
    /// Change a setting (`key=value`, as `mobike run --set`). May be given
    /// several times.
    #[arg(long = "set", value_name = "KEY=VALUE")]
    set: Vec<String>,
    /// Run this long, then delete the IKE SA and stop (default 60s).
    #[arg(long, value_name = "DUR")]
    duration: Option<String>,
    /// Ask for a Child SA in IKE_AUTH (its ESP is not sent: IKE only).
    /// Without it the IKE SA is childless when the peer supports it (RFC
    /// 6023).
    #[arg(long)]
    child: bool,
    /// Stop once an IKE SA was set up and is gone again (a responder would
    /// otherwise wait for `--duration`).
    #[arg(long)]
    once: bool,
    /// Do not watch the host's addresses (use every --local as given).
    #[arg(long)]
    no_watch: bool,
    /// Print only the chart at the end, not each message as it goes.
    #[arg(long)]
    quiet: bool,
    /// Write the RFC-style ASCII chart here.
    #[arg(long, value_name = "OUT")]
    ascii: Option<PathBuf>,
    /// Write the chart as SVG here.
    #[arg(long, value_name = "OUT")]
    svg: Option<PathBuf>,
    /// Write the run as JSON here (docs/json-export.md).
    #[arg(long, value_name = "OUT")]
    json: Option<PathBuf>,
    /// Write what mobike's sockets sent and received as a pcap file here.
    #[arg(long, value_name = "OUT")]
    pcap: Option<PathBuf>,
    /// Write Wireshark's key files (`ikev2_decryption_table`, …) into this
    /// folder.
    #[arg(long, value_name = "DIR")]
    wireshark_dir: Option<PathBuf>,
    /// Write the capture and the key files as one zip here.
    #[arg(long, value_name = "OUT")]
    zip: Option<PathBuf>,
    /// Write the scenario naming the run's parties here (the chart's lanes).
    #[arg(long, value_name = "OUT")]
    scenario: Option<PathBuf>,
}

/// The `--config` file.
#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct FileConfig {
    role: Option<RoleArg>,
    #[serde(default)]
    local: Vec<IpAddr>,
    peer: Option<IpAddr>,
    id: Option<String>,
    peer_id: Option<String>,
    psk: Option<String>,
    preset: Option<String>,
    liveness: Option<String>,
    duration: Option<String>,
    child: Option<bool>,
    once: Option<bool>,
    settings: Option<toml::Table>,
}

fn duration(what: &str, text: &str) -> Result<Duration, String> {
    mobike_protocol::Dur::parse(text)
        .map(|d| Duration::from_micros(d.0))
        .map_err(|e| format!("{what} {text:?}: {e}"))
}

impl InteropArgs {
    /// The run's configuration: the file's, with the flags laid over it.
    fn config(&self) -> Result<Config, String> {
        let file = match &self.config {
            None => FileConfig::default(),
            Some(p) => {
                let text =
                    std::fs::read_to_string(p).map_err(|e| format!("{}: {e}", p.display()))?;
                toml::from_str(&text).map_err(|e| format!("{}: {e}", p.display()))?
            }
        };
        let role = self
            .role
            .or(file.role)
            .ok_or("--role initiator or --role responder is needed")?;
        let role = match role {
            RoleArg::Initiator => Role::Initiator,
            RoleArg::Responder => Role::Responder,
        };
        let locals = if self.locals.is_empty() {
            file.local
        } else {
            self.locals.clone()
        };
        if locals.is_empty() {
            return Err("--local ADDR is needed (one per address to use)".into());
        }
        let peer = self.peer.or(file.peer);
        if role == Role::Initiator && peer.is_none() {
            return Err("an initiator needs --peer ADDR".into());
        }
        let id = self
            .id
            .clone()
            .or(file.id)
            .ok_or("--id is needed (our IKE identity)")?;
        let psk = self
            .psk
            .clone()
            .or(file.psk)
            .ok_or("--psk is needed (the pre-shared key)")?;
        let mut layer = SettingsLayer::from_table(file.settings.unwrap_or_default());
        if let Some(p) = self.preset.clone().or(file.preset) {
            layer.set("preset", toml::Value::String(p));
        }
        if !(self.child || file.child == Some(true)) {
            layer.set("childless", toml::Value::Boolean(true));
        }
        if let Some(l) = self.liveness.clone().or(file.liveness) {
            duration("--liveness", &l)?;
            layer.set("liveness", toml::Value::Boolean(true));
            layer.set("liveness_interval", toml::Value::String(l));
        }
        for arg in &self.set {
            let (k, v) = arg
                .split_once('=')
                .ok_or_else(|| format!("--set {arg:?}: write key=value"))?;
            let v = v.trim();
            let value = toml::from_str::<toml::Table>(&format!("v = {v}"))
                .ok()
                .and_then(|mut t| t.remove("v"))
                .unwrap_or_else(|| toml::Value::String(v.to_string()));
            layer.set(k.trim(), value);
        }
        // On a real network a responder guards itself by default: COOKIEs
        // from 10 half-open IKE SAs on, none beyond 1,000 (RFC 7296 §2.6).
        for (key, value) in [("cookie_threshold", 10), ("half_open_limit", 1_000)] {
            if !layer.0.contains_key(key) {
                layer.set(key, toml::Value::Integer(value));
            }
        }
        let settings: Settings = resolve(&layer, None)
            .map_err(|e| format!("settings: {e}"))?
            .engine;
        let duration = duration(
            "--duration",
            &self
                .duration
                .clone()
                .or(file.duration)
                .unwrap_or("60s".into()),
        )?;
        Ok(Config {
            role,
            locals,
            peer,
            id,
            peer_id: self.peer_id.clone().or(file.peer_id),
            psk: psk.into_bytes(),
            settings,
            duration,
            once: self.once || file.once == Some(true),
            watch_addresses: !self.no_watch,
            seed: mobike_interop::os_seed().map_err(|e| format!("/dev/urandom: {e}"))?,
        })
    }
}

/// Prints the chart's rows as they come, one line each; refusals only up
/// to [`Live::MAX_REFUSALS`] (a flood would drown the rest), then counted.
struct Live {
    builder: Option<(usize, ChartBuilder)>,
    printed: usize,
    refusals: usize,
}

impl Live {
    const MAX_REFUSALS: usize = 50;
}

impl Live {
    fn show(&mut self, o: &Observed) {
        let addresses: usize = o.parties().iter().map(|p| p.addresses.len()).sum();
        if self.builder.as_ref().is_none_or(|(n, _)| *n != addresses) {
            // A party was seen with a new address: the lanes' owners change.
            let Ok(s) = o.scenario() else { return };
            self.builder = Some((addresses, ChartBuilder::new(&s)));
        }
        let Some((_, b)) = &mut self.builder else {
            return;
        };
        b.update(o.trace());
        let lanes = &b.chart.lanes;
        let name = |i: usize| lanes.get(i).map_or("?", |l| l.node.as_str());
        let mut out = std::io::stdout().lock();
        for row in b.chart.rows.iter().skip(self.printed) {
            if let Row::Note(n) = row
                && n.kind == mobike_render::chart::NoteKind::Rejected
            {
                self.refusals += 1;
                if self.refusals > Self::MAX_REFUSALS {
                    if self.refusals == Self::MAX_REFUSALS + 1 {
                        let _ = writeln!(
                            out,
                            "          (more refused datagrams: counted, not printed; see the end)"
                        );
                    }
                    continue;
                }
            }
            let _ = match row {
                Row::Message(m) => writeln!(
                    out,
                    "{:>9}  {} {} -> {} {}  {}{}{}",
                    mobike_render::fmt_time(m.sent),
                    name(m.from),
                    m.src,
                    m.to.map_or("?", name),
                    m.dst,
                    match &m.what {
                        What::Ike {
                            exchange,
                            mid,
                            response,
                            ..
                        } => format!(
                            "{exchange} {} {mid}: ",
                            if *response { "response" } else { "request" }
                        ),
                        _ => String::new(),
                    },
                    m.notation(),
                    m.lost
                        .as_ref()
                        .map_or_else(String::new, |why| format!("  (not sent: {why})"))
                ),
                Row::Note(n) => writeln!(
                    out,
                    "{:>9}  {}: {}",
                    mobike_render::fmt_time(n.time),
                    n.lane.map_or("network", name),
                    n.text
                ),
            };
        }
        let _ = out.flush();
        self.printed = b.chart.rows.len();
    }
}

fn write(path: &Path, data: impl AsRef<[u8]>) -> Result<(), String> {
    std::fs::write(path, data).map_err(|e| format!("{}: {e}", path.display()))
}

/// Runs it; `Ok(false)` when no IKE SA was set up.
pub fn run(args: &InteropArgs) -> Result<bool, String> {
    let config = args.config()?;
    let mut live = Live {
        builder: None,
        printed: 0,
        refusals: 0,
    };
    let quiet = args.quiet;
    let Outcome {
        observed,
        snapshots,
        established,
        dropped,
    } = mobike_interop::run(&config, &mut |o| {
        if !quiet {
            live.show(o)
        }
    })?;
    let scenario = observed
        .scenario()
        .map_err(|e| format!("the run's scenario: {e}"))?;
    let chart = mobike_render::Chart::build(&scenario, observed.trace());
    let opts = AsciiOptions::default();
    println!();
    print!("{}", ascii::render(&chart, &opts));
    println!();
    let m = metrics::compute(observed.trace());
    print!("{}", m.report());
    println!(
        "{} IKE SA{} set up",
        established,
        if established == 1 { "" } else { "s" }
    );
    if !dropped.is_empty() {
        let list: Vec<String> = dropped.iter().map(|(k, n)| format!("{n} {k}")).collect();
        println!("refused datagrams, by reason: {}", list.join(", "));
    }
    if let Some(p) = &args.ascii {
        write(p, ascii::render(&chart, &opts))?;
    }
    if let Some(p) = &args.svg {
        write(p, svg::render(&chart, &svg::SvgOptions::default()))?;
    }
    if let Some(p) = &args.scenario {
        write(p, observed.scenario_toml())?;
    }
    if let Some(p) = &args.json {
        let party = &observed.parties()[mobike_interop::LOCAL];
        let hosts = vec![json::HostState::new(
            party.id.clone(),
            party.label.clone(),
            party.role,
            snapshots,
        )];
        write(
            p,
            json::render(&scenario, hosts, &chart, &m, observed.end()),
        )?;
    }
    if let Some(p) = &args.pcap {
        write(p, pcap::capture(observed.trace(), "local"))?;
    }
    if let Some(p) = &args.zip {
        write(p, pcap::wireshark_zip(observed.trace(), "local"))?;
    }
    if let Some(dir) = &args.wireshark_dir {
        pcap::write_wireshark_dir(dir, observed.trace())
            .map_err(|e| format!("{}: {e}", dir.display()))?;
    }
    Ok(established > 0)
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::Parser;

    #[derive(Parser)]
    struct Cli {
        #[command(flatten)]
        args: InteropArgs,
    }

    fn parse(args: &[&str]) -> Result<Config, String> {
        let cli = Cli::try_parse_from(std::iter::once("interop").chain(args.iter().copied()))
            .map_err(|e| e.to_string())?;
        cli.args.config()
    }

    /// The TOML file gives every option; flags win over it; its settings
    /// table and the preset are laid as a scenario's are.
    #[test]
    fn options_come_from_the_file_and_flags_win() {
        let dir = std::env::temp_dir().join(format!("mobike-interop-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let file = dir.join("interop.toml");
        std::fs::write(
            &file,
            r#"
role = "initiator"
local = ["192.0.2.10", "198.51.100.10"]
peer = "203.0.113.10"
id = "client.test"
peer_id = "server.test"
psk = "from-the-file"
preset = "strongswan"
liveness = "7s"
duration = "20s"
[settings]
retransmit_tries = 2
"#,
        )
        .unwrap();
        let f = file.to_str().unwrap();
        let c = parse(&["--config", f]).unwrap();
        assert_eq!(c.role, Role::Initiator);
        assert_eq!(c.locals.len(), 2);
        assert_eq!(c.peer_id.as_deref(), Some("server.test"));
        assert_eq!(c.psk, b"from-the-file");
        assert_eq!(c.duration, Duration::from_secs(20));
        assert!(c.settings.liveness);
        assert_eq!(c.settings.liveness_interval.micros(), 7_000_000);
        assert_eq!(c.settings.retransmit_tries, 2);
        assert!(c.settings.path_check_first, "the strongswan preset");
        assert!(c.settings.childless, "IKE only unless --child");
        assert_eq!(c.settings.cookie_threshold, Some(10), "guarded by default");
        assert_eq!(c.settings.half_open_limit, Some(1_000));
        let c = parse(&[
            "--config",
            f,
            "--psk",
            "flag",
            "--role",
            "responder",
            "--child",
        ])
        .unwrap();
        assert_eq!(c.psk, b"flag");
        assert_eq!(c.role, Role::Responder);
        assert!(!c.settings.childless);
        // A bad key names itself; a missing option says which.
        std::fs::write(&file, "role = \"initiator\"\nbogus = 1\n").unwrap();
        let e = parse(&["--config", f]).unwrap_err();
        assert!(e.contains("bogus"), "{e}");
        let e = parse(&["--role", "initiator", "--local", "192.0.2.10"]).unwrap_err();
        assert!(e.contains("--peer"), "{e}");
        let e = parse(&[
            "--role",
            "responder",
            "--local",
            "192.0.2.10",
            "--id",
            "x",
            "--psk",
            "y",
            "--set",
            "nonsense=1",
        ])
        .unwrap_err();
        assert!(e.contains("nonsense"), "{e}");
        std::fs::remove_dir_all(&dir).ok();
    }
}
