//! The scenario format: TOML, versioned, read with serde. Unknown fields are
//! errors, and every error names the line and column it is about.
//!
//! ```toml
//! version = 1
//! title = "..."
//! seed = 7
//! until = "40s"
//! [internet]
//! pos = [330, 150]
//! [[host]]          # one per host: id, label, pos, role, peer, interfaces
//! [[link]]          # id, label, delay, jitter, loss, duplicate, up
//! [[nat]]           # id, label, public_address, link, pos, preset, mapping, filtering, ...
//! [settings]        # protocol settings for every peer ([host.settings] overrides per host)
//! [[event]]         # at = "15s" and one action: break_link, restore_link, nat_reboot, ...
//! ```
//! The full reference is docs/scenario-format.md.

use crate::vocab::check::{InterventionCheck, InterventionError};
use crate::vocab::intervention::Intervention;
use mobike_protocol::Role;
use std::fmt;
use std::net::IpAddr;

/// The most copies one host entry may make (`count`): a carrier-grade
/// cluster of ten thousand clients runs its hour in seconds natively.
pub const MAX_COUNT: u32 = 10_000;

pub use crate::vocab::settings::{HostSettings, HostSettingsSpec, SettingsError, SettingsLayer};
pub use crate::vocab::spec::{
    Expectation, HostSpec, InterfaceSpec, InternetSpec, LinkSpec, NatSpec, PingSpec, Scenario,
    Step, TimelineEvent, VERSION,
};

/// Where key `key` of `[settings]` (or of the `host`-th `[[host]]` entry's
/// `[host.settings]`) is written in the file.
fn settings_key_offset(text: &str, host: Option<usize>, key: &str) -> Option<usize> {
    use toml::de::{DeTable, DeValue};
    fn get<'a, 'i>(table: &'a DeTable<'i>, name: &str) -> Option<&'a DeValue<'i>> {
        table
            .iter()
            .find(|(k, _)| k.get_ref() == name)
            .map(|(_, v)| v.get_ref())
    }
    let root = DeTable::parse(text).ok()?;
    let root = root.get_ref();
    let settings = match host {
        None => get(root, "settings")?,
        Some(k) => match get(root, "host")? {
            DeValue::Array(hosts) => match hosts.get(k)?.get_ref() {
                DeValue::Table(h) => get(h, "settings")?,
                _ => return None,
            },
            _ => return None,
        },
    };
    match settings {
        DeValue::Table(t) => t
            .iter()
            .find(|(k, _)| k.get_ref() == key)
            .map(|(k, _)| k.span().start),
        _ => None,
    }
}

/// Where the `k`-th `[[event]]` of the file is: the offset of its action
/// key (`break_link = …`; its first key if none is known), and its `at`
/// as written ("24.131s", where the time reads back as 24131ms).
fn event_place(text: &str, k: usize) -> Option<(usize, Option<String>)> {
    use toml::de::{DeTable, DeValue};
    let root = DeTable::parse(text).ok()?;
    let (_, events) = root
        .get_ref()
        .iter()
        .find(|(key, _)| key.get_ref() == "event")?;
    let DeValue::Array(events) = events.get_ref() else {
        return None;
    };
    let DeValue::Table(event) = events.get(k)?.get_ref() else {
        return None;
    };
    let key = event
        .iter()
        .find(|(key, _)| TimelineEvent::ACTIONS.contains(&key.get_ref().as_ref()))
        .or_else(|| event.iter().next())?;
    let at = event.iter().find_map(|(key, v)| match v.get_ref() {
        DeValue::String(w) if key.get_ref() == "at" => Some(w.to_string()),
        _ => None,
    });
    Some((key.0.span().start, at))
}

/// The copies `count` makes of `entry`.
fn copies(entry: &HostSpec, n: u32) -> Result<Vec<HostSpec>, String> {
    (0..n).map(|k| copy(entry, k)).collect()
}

/// The `k`-th copy of a `count` entry (numbered k + 1): its id, label and
/// identity numbered, placed in columns of ten, its addresses counted up.
fn copy(entry: &HostSpec, k: u32) -> Result<HostSpec, String> {
    let mut c = entry.clone();
    c.count = None;
    c.id = format!("{}-{}", entry.id, k + 1);
    c.label = format!("{} {}", label_or(&entry.label, &entry.id), k + 1);
    c.identity = entry.identity.as_ref().map(|i| format!("{}-{}", i, k + 1));
    c.pos = [
        entry.pos[0] + (k / 10) as f64 * 36.0,
        entry.pos[1] + (k % 10) as f64 * 26.0,
    ];
    for f in &mut c.interfaces {
        f.address = offset(f.address, k)
            .ok_or_else(|| format!("host {:?}: {} + {k} is not an address", entry.id, f.address))?;
    }
    Ok(c)
}

/// Runs of hosts that are exactly the copies of one `count` entry, written
/// as that entry again (so a saved file stays as short as it was).
fn compact_counts(hosts: &[HostSpec]) -> Vec<HostSpec> {
    let mut out = Vec::new();
    let mut i = 0;
    while i < hosts.len() {
        let first = &hosts[i];
        let entry = first.id.strip_suffix("-1").map(|prefix| {
            let label = first.label.strip_suffix(" 1").unwrap_or(&first.label);
            HostSpec {
                id: prefix.to_string(),
                label: if label == prefix {
                    String::new()
                } else {
                    label.to_string()
                },
                identity: first
                    .identity
                    .as_ref()
                    .map(|x| x.strip_suffix("-1").unwrap_or(x).to_string()),
                count: None,
                ..first.clone()
            }
        });
        // The longest run the entry makes.
        let mut n = 0;
        if let Some(e) = &entry {
            while i + n < hosts.len() && copy(e, n as u32).is_ok_and(|c| c == hosts[i + n]) {
                n += 1;
            }
        }
        match entry {
            Some(mut e) if n >= 2 => {
                e.count = Some(n as u32);
                out.push(e);
                i += n;
            }
            _ => {
                out.push(first.clone());
                i += 1;
            }
        }
    }
    out
}

fn label_or(label: &str, id: &str) -> String {
    if label.is_empty() { id } else { label }.to_string()
}

/// `a` counted up by `k`.
fn offset(a: IpAddr, k: u32) -> Option<IpAddr> {
    match a {
        IpAddr::V4(v) => u32::from(v)
            .checked_add(k)
            .map(|x| IpAddr::V4(std::net::Ipv4Addr::from(x))),
        IpAddr::V6(v) => u128::from(v)
            .checked_add(k as u128)
            .map(|x| IpAddr::V6(std::net::Ipv6Addr::from(x))),
    }
}

/// A scenario that could not be read, with where and how to fix it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ScenarioError {
    /// 1-based line and column, when the error has a place.
    pub line: Option<usize>,
    pub column: Option<usize>,
    pub message: String,
}

impl fmt::Display for ScenarioError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match (self.line, self.column) {
            (Some(l), Some(c)) => write!(f, "line {l}, column {c}: {}", self.message),
            _ => f.write_str(&self.message),
        }
    }
}

impl std::error::Error for ScenarioError {}

/// Where a top-level `key = …` line starts (before any table header).
fn top_level_key(text: &str, key: &str) -> Option<usize> {
    let mut off = 0;
    for line in text.split_inclusive('\n') {
        let t = line.trim_start();
        if t.starts_with('[') {
            return None;
        }
        if t.strip_prefix(key)
            .is_some_and(|rest| rest.trim_start().starts_with('='))
        {
            return Some(off + (line.len() - t.len()));
        }
        off += line.len();
    }
    None
}

fn line_col(text: &str, offset: usize) -> (usize, usize) {
    let before = &text[..offset.min(text.len())];
    let line = before.matches('\n').count() + 1;
    let col = before.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
    (line, col)
}

impl Scenario {
    /// Reads and checks a scenario file.
    pub fn from_toml(text: &str) -> Result<Scenario, ScenarioError> {
        let mut s: Scenario = toml::from_str(text).map_err(|e| {
            let (line, column) = match e.span() {
                Some(span) => {
                    let (l, c) = line_col(text, span.start);
                    (Some(l), Some(c))
                }
                None => (None, None),
            };
            ScenarioError {
                line,
                column,
                message: e.message().trim().to_string(),
            }
        })?;
        s.check_settings(text)?;
        let count_lines = s.count_lines(text);
        let entry_of = s.expand_counts().map_err(|(k, message)| {
            let (line, column) = count_lines
                .get(k)
                .copied()
                .flatten()
                .map_or((None, None), |(l, c)| (Some(l), Some(c)));
            ScenarioError {
                line,
                column,
                message,
            }
        })?;
        if let Some(Problem {
            message,
            name,
            place,
            second,
        }) = s.validate(&entry_of).into_iter().next()
        {
            // An event's problem points at its action and gives its time
            // as the file writes it; another at the first line that
            // mentions the offending name.
            if let Element::Event(k) = place.element
                && let Some((off, written)) = event_place(text, k)
            {
                let (l, c) = line_col(text, off);
                let normal = format!("event at {}:", s.timeline[k].at);
                let message = match written {
                    Some(w) => message.replacen(&normal, &format!("event at {w}:"), 1),
                    None => message,
                };
                return Err(ScenarioError {
                    line: Some(l),
                    column: Some(c),
                    message,
                });
            }
            let (line, column) = name
                .and_then(|w| {
                    let quoted = format!("\"{w}\"");
                    let first = text.find(&quoted)?;
                    if second {
                        let after = first + quoted.len();
                        text[after..].find(&quoted).map(|o| after + o)
                    } else {
                        Some(first)
                    }
                })
                .or_else(|| {
                    // A top-level key (`version`): the line it starts.
                    (place.element == Element::Scenario)
                        .then(|| top_level_key(text, &place.key))
                        .flatten()
                })
                .map(|off| line_col(text, off))
                .map_or((None, None), |(l, c)| (Some(l), Some(c)));
            return Err(ScenarioError {
                line,
                column,
                message,
            });
        }
        Ok(s)
    }

    /// Every host entry's settings resolve: the global `[settings]` and its
    /// own `[host.settings]` over the preset make the protocol's Settings.
    /// An error points at the offending key (in the host's table if it has
    /// that key, else in `[settings]`).
    fn check_settings(&self, text: &str) -> Result<(), ScenarioError> {
        let hosts: Vec<Option<&SettingsLayer>> = if self.hosts.is_empty() {
            vec![None]
        } else {
            self.hosts.iter().map(|h| h.settings.as_ref()).collect()
        };
        for (k, own) in hosts.into_iter().enumerate() {
            let Err(e) = crate::vocab::settings::resolve(&self.settings, own) else {
                continue;
            };
            let in_host = e
                .key
                .as_deref()
                .is_some_and(|key| own.is_some_and(|o| o.0.contains_key(key)));
            let at = e.key.as_deref().and_then(|key| {
                let host = in_host.then_some(k);
                settings_key_offset(text, host, key)
            });
            let (line, column) = at
                .map(|off| line_col(text, off))
                .map_or((None, None), |(l, c)| (Some(l), Some(c)));
            let place = if in_host {
                format!("[host.settings] of host {:?}", self.hosts[k].id)
            } else {
                "[settings]".to_string()
            };
            return Err(ScenarioError {
                line,
                column,
                message: format!("{place}: {}", e.message),
            });
        }
        Ok(())
    }

    /// The scenario as a file: `Scenario::from_toml` reads it back as this
    /// very value. Hosts that `count` made are written as their one entry
    /// again.
    pub fn to_toml(&self) -> Result<String, String> {
        let s = self.compacted();
        toml::to_string(&s).map_err(|e| format!("the scenario cannot be written as TOML: {e}"))
    }

    /// This scenario with the user's interventions (time, what) as timeline
    /// events marked `user = true`: run, it gives the trace the page showed.
    pub fn with_user_log(&self, log: &[(mobike_protocol::Time, Intervention)]) -> Scenario {
        let mut s = self.clone();
        s.timeline.extend(
            log.iter()
                .map(|(t, a)| TimelineEvent::of(crate::vocab::duration::Dur(*t), a, true)),
        );
        s
    }

    /// Sets one setting without editing the file (`mobike --set`, a
    /// comparison's variant): `key = value` in `[settings]`, or with
    /// `host` in that host's `[host.settings]` (a group's id, such as
    /// "client" for client-1 … client-20, sets every member). Checked as
    /// the file's settings are; nothing changes on an error.
    pub fn set_setting(
        &mut self,
        host: Option<&str>,
        key: &str,
        value: toml::Value,
    ) -> Result<(), String> {
        let mut next = self.clone();
        match host {
            None => next.settings.set(key, value),
            Some(id) => {
                let member = |h: &HostSpec| {
                    h.id == id
                        || h.id
                            .strip_prefix(id)
                            .and_then(|r| r.strip_prefix('-'))
                            .is_some_and(|n| !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit()))
                };
                let mut any = false;
                for h in next.hosts.iter_mut().filter(|h| member(h)) {
                    h.settings
                        .get_or_insert_with(SettingsLayer::default)
                        .set(key, value.clone());
                    any = true;
                }
                if !any {
                    let ids: Vec<&str> = self.hosts.iter().map(|h| h.id.as_str()).collect();
                    return Err(format!(
                        "no host {id:?} to set {key} for (hosts: {})",
                        ids.join(", ")
                    ));
                }
            }
        }
        next.check().map_err(|e| e.message)?;
        *self = next;
        Ok(())
    }

    /// Applies a `[host.]key=value` setting as a command line writes it:
    /// the value is read as TOML (`3`, `false`, `["192.0.2.1"]`), or else
    /// taken as a string (`30s`, `follow`).
    pub fn set_from_arg(&mut self, arg: &str) -> Result<(), String> {
        let (path, value) = arg
            .split_once('=')
            .ok_or_else(|| format!("{arg:?}: write key=value or host.key=value"))?;
        let (host, key) = match path.rsplit_once('.') {
            Some((h, k)) => (Some(h.trim()), k.trim()),
            None => (None, path.trim()),
        };
        if key.is_empty() {
            return Err(format!("{arg:?}: no setting named before '='"));
        }
        let value = value.trim();
        let parsed = toml::from_str::<toml::Table>(&format!("v = {value}"))
            .ok()
            .and_then(|mut t| t.remove("v"))
            .unwrap_or_else(|| toml::Value::String(value.to_string()));
        self.set_setting(host, key, parsed)
            .map_err(|e| format!("{arg:?}: {e}"))
    }

    /// Checks a scenario built in memory (an editor's) as a file is checked.
    pub fn check(&self) -> Result<(), ScenarioError> {
        let place = |message: String| ScenarioError {
            line: None,
            column: None,
            message,
        };
        for (k, own) in self.hosts.iter().map(|h| h.settings.as_ref()).enumerate() {
            if let Err(e) = crate::vocab::settings::resolve(&self.settings, own) {
                let in_host = e
                    .key
                    .as_deref()
                    .is_some_and(|key| own.is_some_and(|o| o.0.contains_key(key)));
                let where_ = if in_host {
                    format!("[host.settings] of host {:?}", self.hosts[k].id)
                } else {
                    "[settings]".to_string()
                };
                return Err(place(format!("{where_}: {}", e.message)));
            }
        }
        if self.hosts.iter().any(|h| h.count.is_some()) {
            return Err(place(
                "hosts made with `count` must be expanded first".into(),
            ));
        }
        match self.validate(&[]).into_iter().next() {
            Some(p) => Err(place(p.message)),
            None => Ok(()),
        }
    }

    /// Where each host entry's `count` is written (line, column).
    fn count_lines(&self, text: &str) -> Vec<Option<(usize, usize)>> {
        use toml::de::{DeTable, DeValue};
        let Ok(root) = DeTable::parse(text) else {
            return Vec::new();
        };
        let Some((_, hosts)) = root.get_ref().iter().find(|(k, _)| k.get_ref() == "host") else {
            return Vec::new();
        };
        let DeValue::Array(hosts) = hosts.get_ref() else {
            return Vec::new();
        };
        hosts
            .iter()
            .map(|h| match h.get_ref() {
                DeValue::Table(t) => t
                    .iter()
                    .find(|(k, _)| k.get_ref() == "count")
                    .map(|(k, _)| line_col(text, k.span().start)),
                _ => None,
            })
            .collect()
    }

    /// Replaces each host entry with a `count` by its copies (at most
    /// [`MAX_COUNT`] of one entry). Returns the entry each host now comes
    /// from; an error names the entry.
    fn expand_counts(&mut self) -> Result<Vec<usize>, (usize, String)> {
        let mut hosts = Vec::new();
        let mut entry_of = Vec::new();
        for (k, h) in std::mem::take(&mut self.hosts).into_iter().enumerate() {
            let Some(n) = h.count else {
                hosts.push(h);
                entry_of.push(k);
                continue;
            };
            if n == 0 || n > MAX_COUNT {
                return Err((k, count_error(&h.id, n)));
            }
            hosts.extend(copies(&h, n).map_err(|e| (k, e))?);
            entry_of.extend(std::iter::repeat_n(k, n as usize));
        }
        self.hosts = hosts;
        Ok(entry_of)
    }

    /// The scenario as a file writes it: hosts that `count` made (as
    /// [`Scenario::from_toml`] expands them) are their one entry again, so
    /// an editor shows one group where the file has one.
    pub fn compacted(&self) -> Scenario {
        let mut s = self.clone();
        s.hosts = compact_counts(&self.hosts);
        s
    }

    /// Cross-reference checks serde cannot do, on a scenario whose `count`
    /// entries are expanded; `entry_of[k]` is the file entry host `k` came
    /// from. Each problem says how to fix it, where it is, and the name to
    /// look for in the file to find its line.
    fn validate(&self, entry_of: &[usize]) -> Vec<Problem> {
        let mut out = Vec::new();
        let mut put = |element: Element, key: &str, name: Option<String>, message: String| {
            out.push(Problem {
                place: Place::new(element, key),
                message,
                name,
                second: false,
            })
        };
        let mut twice: Vec<Problem> = Vec::new();
        let entry = |k: usize| entry_of.get(k).copied().unwrap_or(k);
        if self.version != VERSION {
            put(
                Element::Scenario,
                "version",
                None,
                format!(
                    "version {} is not supported: this build reads version {VERSION}",
                    self.version
                ),
            );
        }
        for (k, step) in self.steps.iter().enumerate() {
            if let Some(id) = &step.note_rule
                && mobike_protocol::reason::checklist_ids(id) != [id.as_str()]
            {
                put(
                    Element::Step(k),
                    "note_rule",
                    Some(id.clone()),
                    format!(
                        "step {}: note_rule {id:?} is not a checklist id (write e.g. \"M-3.7-5\", \"B-3.5-15\", \"I-2.1-6\")",
                        k + 1
                    ),
                );
            }
        }
        let link_ids: Vec<&str> = self.links.iter().map(|l| l.id.as_str()).collect();
        // Sets, not lists: a cluster of 10,000 clients made a quadratic
        // number of comparisons here (a quarter of a second).
        let mut ids: std::collections::HashSet<&str> = std::collections::HashSet::new();
        let named = self
            .hosts
            .iter()
            .enumerate()
            .map(|(k, h)| (Element::Host(entry(k)), h.id.as_str()))
            .chain(
                self.links
                    .iter()
                    .enumerate()
                    .map(|(k, l)| (Element::Link(k), l.id.as_str())),
            )
            .chain(
                self.nats
                    .iter()
                    .enumerate()
                    .map(|(k, n)| (Element::Nat(k), n.id.as_str())),
            );
        for (element, id) in named {
            if !ids.insert(id) {
                put(
                    element,
                    "id",
                    Some(id.into()),
                    format!("id {id:?} is used twice; ids must be unique"),
                );
            }
        }
        let mut addrs: std::collections::HashSet<IpAddr> = std::collections::HashSet::new();
        for (k, h) in self.hosts.iter().enumerate() {
            let e = entry(k);
            if h.interfaces.is_empty() {
                put(
                    Element::Host(e),
                    "interface",
                    Some(h.id.clone()),
                    format!("host {:?} needs at least one [[host.interface]]", h.id),
                );
            }
            if h.role == Role::Initiator && h.peer.is_none() {
                put(
                    Element::Host(e),
                    "peer",
                    Some(h.id.clone()),
                    format!(
                        "initiator {:?} needs `peer = \"<responder address>\"`",
                        h.id
                    ),
                );
            }
            for (j, i) in h.interfaces.iter().enumerate() {
                if !link_ids.contains(&i.link.as_str()) {
                    put(
                        Element::Interface(e, j),
                        "link",
                        Some(i.link.clone()),
                        format!(
                            "interface {}.{} names link {:?}, which no [[link]] defines (links: {})",
                            h.id,
                            i.name,
                            i.link,
                            link_ids.join(", ")
                        ),
                    );
                }
                if !addrs.insert(i.address) {
                    twice.push(Problem {
                        place: Place::new(Element::Interface(e, j), "address"),
                        message: format!(
                            "address {} is used twice; every interface and NAT needs its own",
                            i.address
                        ),
                        name: Some(i.address.to_string()),
                        second: true,
                    });
                }
            }
        }
        for (k, n) in self.nats.iter().enumerate() {
            if let Some(l) = &n.link
                && !link_ids.contains(&l.as_str())
            {
                put(
                    Element::Nat(k),
                    "link",
                    Some(l.clone()),
                    format!("nat {:?} sits on unknown link {l:?}", n.id),
                );
            }
            if !addrs.insert(n.public_address) {
                twice.push(Problem {
                    place: Place::new(Element::Nat(k), "public_address"),
                    message: format!(
                        "address {} is used twice; every interface and NAT needs its own",
                        n.public_address
                    ),
                    name: Some(n.public_address.to_string()),
                    second: true,
                });
            }
        }
        for (k, l) in self.links.iter().enumerate() {
            for (name, p) in [("loss", l.loss), ("duplicate", l.duplicate)] {
                if !(0.0..=1.0).contains(&p) {
                    put(
                        Element::Link(k),
                        name,
                        Some(l.id.clone()),
                        format!(
                            "link {:?}: {name} = {p} is not a probability (write 0.0 to 1.0, e.g. 0.1 for 10 %)",
                            l.id
                        ),
                    );
                }
            }
        }
        for (k, n) in self.nats.iter().enumerate() {
            if let Some([lo, hi]) = n.port_range
                && (lo == 0 || lo > hi)
            {
                put(
                    Element::Nat(k),
                    "port_range",
                    Some(n.id.clone()),
                    format!(
                        "nat {:?}: port_range [{lo}, {hi}] must be [first, last] with 0 < first <= last",
                        n.id
                    ),
                );
            }
            for (j, f) in n.forward.iter().enumerate() {
                let inside = self.hosts.iter().any(|h| {
                    h.interfaces
                        .iter()
                        .any(|i| i.address == f.to.ip() && n.link.as_ref() == Some(&i.link))
                });
                let problem = if f.port == 0 || f.to.port() == 0 {
                    Some("port 0 cannot be forwarded".to_string())
                } else if n.forward[..j].iter().any(|g| g.port == f.port) {
                    Some(format!("port {} is forwarded twice", f.port))
                } else if !inside {
                    Some(format!(
                        "{} is not an interface on the NAT's link, so nothing there could answer",
                        f.to.ip()
                    ))
                } else {
                    None
                };
                if let Some(m) = problem {
                    put(
                        Element::Nat(k),
                        "forward",
                        Some(n.id.clone()),
                        format!("nat {:?}: forward {} -> {}: {m}", n.id, f.port, f.to),
                    );
                }
            }
        }
        let mut check = InterventionCheck::new(self);
        // In time order (stable: the file's order within a moment), as
        // they happen: an address is free once an earlier event removed it.
        let mut order: Vec<usize> = (0..self.timeline.len()).collect();
        order.sort_by_key(|&k| self.timeline[k].at);
        for (k, e) in order.into_iter().map(|k| (k, &self.timeline[k])) {
            let at = |m: String| format!("event at {}: {m}", e.at);
            if e.user != Some(true) && e.at > self.until {
                // The page's own interventions past the end (saved with
                // `user = true`) are kept: playing may go on past `until`.
                put(
                    Element::Event(k),
                    "at",
                    None,
                    at(format!(
                        "it comes after the scenario's end (until = {}), so a run never reaches it; move it or raise `until`",
                        self.until
                    )),
                );
            }
            match e.action() {
                Err(m) => put(Element::Event(k), "action", None, at(m)),
                Ok(action) => {
                    if let Err(err) = check.check(&action) {
                        put(
                            Element::Event(k),
                            "action",
                            subject(&err),
                            at(err.to_string()),
                        );
                    }
                }
            }
        }
        out.extend(twice);
        out
    }

    /// Every problem of a scenario as an editor holds it: the file's own
    /// entries (a `count` entry is one host), checked as
    /// [`Scenario::from_toml`] checks a file, each problem with the field
    /// it is about. Empty: the scenario is good to run and to write.
    pub fn problems(&self) -> Vec<Problem> {
        let mut out = Vec::new();
        let settings = |layer: Option<usize>, e: SettingsError| Problem {
            place: Place::new(Element::Settings(layer), e.key.as_deref().unwrap_or("")),
            message: e.message,
            name: None,
            second: false,
        };
        let global = crate::vocab::settings::resolve(&self.settings, None);
        if let Err(e) = &global {
            out.push(settings(None, e.clone()));
        }
        for (k, h) in self.hosts.iter().enumerate() {
            if let (Some(own), Ok(_)) = (&h.settings, &global)
                && let Err(e) = crate::vocab::settings::resolve(&self.settings, Some(own))
            {
                // A key of the host's own table, or of `[settings]` (which
                // the host's preset may read otherwise).
                let in_host = e.key.as_deref().is_some_and(|key| own.0.contains_key(key));
                out.push(settings(in_host.then_some(k), e));
            }
        }
        let mut expanded = self.clone();
        expanded.hosts.clear();
        let mut entry_of = Vec::new();
        for (k, h) in self.hosts.iter().enumerate() {
            match h.count {
                None => {
                    expanded.hosts.push(h.clone());
                    entry_of.push(k);
                }
                Some(n) if n == 0 || n > MAX_COUNT => out.push(Problem {
                    place: Place::new(Element::Host(k), "count"),
                    message: count_error(&h.id, n),
                    name: Some(h.id.clone()),
                    second: false,
                }),
                Some(n) => match copies(h, n) {
                    Ok(c) => {
                        entry_of.extend(std::iter::repeat_n(k, c.len()));
                        expanded.hosts.extend(c);
                    }
                    Err(message) => out.push(Problem {
                        place: Place::new(Element::Host(k), "count"),
                        message,
                        name: Some(h.id.clone()),
                        second: false,
                    }),
                },
            }
        }
        out.extend(expanded.validate(&entry_of));
        // The copies of a `count` entry share its fields: one problem each.
        let mut seen: Vec<Place> = Vec::new();
        out.retain(|p| {
            let new = !seen.contains(&p.place);
            if new {
                seen.push(p.place.clone());
            }
            new
        });
        out
    }
}

fn count_error(id: &str, n: u32) -> String {
    format!("host {id:?}: count must be between 1 and {MAX_COUNT}, not {n}")
}

/// What part of a scenario a [`Problem`] is about. Hosts are numbered as
/// the file's `[[host]]` entries (one for a `count` entry), interfaces
/// within their host.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Element {
    /// The top level: title, seed, until, version.
    Scenario,
    Host(usize),
    /// (host entry, interface).
    Interface(usize, usize),
    Link(usize),
    Nat(usize),
    Event(usize),
    Step(usize),
    Ping,
    /// `[settings]` (`None`) or one host entry's `[host.settings]`.
    Settings(Option<usize>),
}

/// A field of a scenario: the element and the key, as the file writes it.
/// An event's action and its modifiers are all `"action"`; a host without
/// interfaces is `"interface"`.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Place {
    pub element: Element,
    pub key: String,
}

impl Place {
    pub fn new(element: Element, key: &str) -> Place {
        Place {
            element,
            key: key.to_string(),
        }
    }
}

/// Something that keeps a scenario from running, and where it is.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Problem {
    pub place: Place,
    /// What is wrong and how to fix it.
    pub message: String,
    /// The name to look for in a file to find the line (an unknown link's
    /// id, say).
    name: Option<String>,
    /// The name's second occurrence is the place (the later of two equal
    /// addresses).
    second: bool,
}

/// The text to look for in the file to find the line an intervention error
/// is about: the unknown name as the event wrote it, or the host whose
/// addresses a cluster move must use.
fn subject(e: &InterventionError) -> Option<String> {
    match e {
        InterventionError::UnknownLink { link: name, .. }
        | InterventionError::UnknownNat { nat: name, .. }
        | InterventionError::UnknownHost { host: name }
        | InterventionError::NotAnAddressOf { host: name, .. } => Some(name.clone()),
        InterventionError::UnknownInterface {
            host, interface, ..
        } => Some(format!("{host}.{interface}")),
        InterventionError::UnknownAddress { .. }
        | InterventionError::NotAResponder { .. }
        | InterventionError::AddressInUse { .. }
        | InterventionError::NotAProbability { .. }
        | InterventionError::BadPortRange { .. } => None,
    }
}

impl TimelineEvent {
    /// The keys that name an event's action (the others are its time and
    /// parameters).
    pub const ACTIONS: &'static [&'static str] = &[
        "break_link",
        "restore_link",
        "route_down",
        "route_up",
        "interface_down",
        "interface_up",
        "move_nat",
        "nat_reboot",
        "nat_address_change",
        "add_address",
        "remove_address",
        "move_clients",
        "spoof_update",
        "hint",
        "check_liveness",
        "rekey_child",
        "rekey_ike",
        "set_link",
        "configure_nat",
    ];

    /// The one action of this event.
    pub fn action(&self) -> Result<Intervention, String> {
        use Intervention as I;
        let mut found = Vec::new();
        for (v, up) in [(&self.break_link, false), (&self.restore_link, true)] {
            if let Some(l) = v {
                found.push(match (self.direction, up) {
                    (None, false) => I::BreakLink { link: l.clone() },
                    (None, true) => I::RestoreLink { link: l.clone() },
                    (Some(direction), up) => I::SetLinkDirection {
                        link: l.clone(),
                        direction,
                        up,
                    },
                });
            }
        }
        for (v, up) in [(&self.route_down, false), (&self.route_up, true)] {
            if let Some(l) = v {
                let prefix = self.prefix.ok_or(
                    "route_down and route_up need `prefix = \"<the destination, e.g. 203.0.113.0/24>\"`",
                )?;
                found.push(I::SetRoute {
                    link: l.clone(),
                    prefix,
                    up,
                });
            }
        }
        for (v, up) in [(&self.interface_down, false), (&self.interface_up, true)] {
            if let Some(v) = v {
                let (host, iface) = v.split_once('.').ok_or_else(|| {
                    format!("write the interface as \"host.interface\", not {v:?}")
                })?;
                found.push(I::SetInterface {
                    host: host.into(),
                    interface: iface.into(),
                    up,
                });
            }
        }
        if let Some(v) = &self.move_nat {
            let (nat, link) = match v.split_once('@') {
                Some((n, l)) => (n.to_string(), Some(l.to_string())),
                None => (v.clone(), None),
            };
            found.push(I::PlaceNat { nat, link });
        }
        if let Some(n) = &self.nat_reboot {
            found.push(I::RebootNat { nat: n.clone() });
        }
        if let Some(n) = &self.nat_address_change {
            let address = self
                .address
                .ok_or("nat_address_change needs `address = \"<the NAT's new public address>\"`")?;
            found.push(I::ChangeNatAddress {
                nat: n.clone(),
                address,
            });
        }
        for (v, add) in [(&self.add_address, true), (&self.remove_address, false)] {
            if let Some(v) = v {
                let (host, iface) = v.split_once('.').ok_or_else(|| {
                    format!("write the interface as \"host.interface\", not {v:?}")
                })?;
                let announce = self.announce.unwrap_or(true);
                found.push(if add {
                    I::AddAddress {
                        host: host.into(),
                        interface: iface.into(),
                        address: self
                            .address
                            .ok_or("add_address needs `address = \"<the new address>\"`")?,
                        announce,
                    }
                } else {
                    I::RemoveAddress {
                        host: host.into(),
                        interface: iface.into(),
                        address: self.address,
                        announce,
                    }
                });
            }
        }
        if let Some(h) = &self.move_clients {
            found.push(I::MoveClients {
                host: h.clone(),
                to: self
                    .to
                    .ok_or("move_clients needs `to = \"<an address of the cluster>\"`")?,
                by: self.by.unwrap_or_default(),
                count: self.count,
                from: self.from,
            });
        }
        if let Some(a) = &self.spoof_update {
            found.push(I::SpoofUpdate {
                attacker: a.clone(),
                target: self
                    .target
                    .clone()
                    .ok_or("spoof_update needs `target = \"<responder host>\"`")?,
                replay: self.replay.unwrap_or(false),
            });
        }
        if let Some(host) = &self.check_liveness {
            found.push(I::CheckLiveness { host: host.clone() });
        }
        if let Some(host) = &self.rekey_child {
            found.push(I::RekeyChild { host: host.clone() });
        }
        if let Some(host) = &self.rekey_ike {
            found.push(I::RekeyIke { host: host.clone() });
        }
        if let Some(kind) = self.hint {
            let host = self
                .host
                .clone()
                .ok_or("hint needs `host = \"<host id>\"`")?;
            found.push(I::Hint { host, kind });
        }
        if let Some(link) = &self.set_link {
            found.push(I::SetLink {
                link: link.clone(),
                delay: self.delay,
                jitter: self.jitter,
                loss: self.loss,
                duplicate: self.duplicate,
            });
        }
        let nat_changes = self.nat_changes();
        if let Some(nat) = &self.configure_nat {
            if nat_changes.is_empty() {
                return Err("configure_nat needs at least one of preset, mapping, filtering, mapping_timeout, inbound_refresh, port_preservation, hairpinning, port_range".into());
            }
            found.push(I::ConfigureNat {
                nat: nat.clone(),
                changes: nat_changes,
            });
        }
        let link_props = self.delay.is_some()
            || self.jitter.is_some()
            || self.loss.is_some()
            || self.duplicate.is_some();
        if link_props && self.set_link.is_none() {
            return Err("`delay`, `jitter`, `loss` and `duplicate` go only with set_link".into());
        }
        if !nat_changes.is_empty() && self.configure_nat.is_none() {
            return Err("`preset`, `mapping`, `filtering`, `mapping_timeout`, `inbound_refresh`, `port_preservation`, `hairpinning` and `port_range` go only with configure_nat".into());
        }
        let cluster = self.move_clients.is_some();
        if (self.to.is_some() || self.by.is_some() || self.count.is_some() || self.from.is_some())
            && !cluster
        {
            return Err("`to`, `by`, `count` and `from` go only with move_clients".into());
        }
        if (self.target.is_some() || self.replay.is_some()) && self.spoof_update.is_none() {
            return Err("`target` and `replay` go only with spoof_update".into());
        }
        if self.host.is_some() && self.hint.is_none() {
            return Err("`host` goes only with hint".into());
        }
        let one = match found.len() {
            1 => found.remove(0),
            0 => return Err("no action: set one of break_link, restore_link, route_down, route_up, set_link, interface_down, interface_up, move_nat, nat_reboot, nat_address_change, configure_nat, add_address, remove_address, move_clients, spoof_update, hint".into()),
            _ => return Err("more than one action: write one [[event]] per action".into()),
        };
        // The modifiers only go with the actions they modify.
        let links = self.break_link.is_some() || self.restore_link.is_some();
        let addresses = self.add_address.is_some() || self.remove_address.is_some();
        if self.direction.is_some() && !links {
            return Err("`direction` goes only with break_link or restore_link".into());
        }
        if self.prefix.is_some() && self.route_down.is_none() && self.route_up.is_none() {
            return Err("`prefix` goes only with route_down or route_up".into());
        }
        if self.address.is_some() && !addresses && self.nat_address_change.is_none() {
            return Err(
                "`address` goes only with nat_address_change, add_address or remove_address".into(),
            );
        }
        if self.announce.is_some() && !addresses {
            return Err("`announce` goes only with add_address or remove_address".into());
        }
        Ok(one)
    }
}

impl TimelineEvent {
    /// The `[[event]]` that does `action` at `at`, as [`TimelineEvent::action`]
    /// reads it back; `user`: made on the page (it lands after everything
    /// else of its instant and is marked "(by you)").
    pub fn of(at: crate::vocab::duration::Dur, action: &Intervention, user: bool) -> TimelineEvent {
        use Intervention as I;
        let mut e = TimelineEvent {
            at,
            user: user.then_some(true),
            ..TimelineEvent::default()
        };
        let iface = |h: &str, i: &str| Some(format!("{h}.{i}"));
        match action.clone() {
            I::BreakLink { link } => e.break_link = Some(link),
            I::RestoreLink { link } => e.restore_link = Some(link),
            I::SetRoute { link, prefix, up } => {
                if up {
                    e.route_up = Some(link);
                } else {
                    e.route_down = Some(link);
                }
                e.prefix = Some(prefix);
            }
            I::SetLinkDirection {
                link,
                direction,
                up,
            } => {
                if up {
                    e.restore_link = Some(link);
                } else {
                    e.break_link = Some(link);
                }
                e.direction = Some(direction);
            }
            I::RebootNat { nat } => e.nat_reboot = Some(nat),
            I::ChangeNatAddress { nat, address } => {
                e.nat_address_change = Some(nat);
                e.address = Some(address);
            }
            I::AddAddress {
                host,
                interface,
                address,
                announce,
            } => {
                e.add_address = iface(&host, &interface);
                e.address = Some(address);
                e.announce = (!announce).then_some(false);
            }
            I::RemoveAddress {
                host,
                interface,
                address,
                announce,
            } => {
                e.remove_address = iface(&host, &interface);
                e.address = address;
                e.announce = (!announce).then_some(false);
            }
            I::SetInterface {
                host,
                interface,
                up,
            } => {
                if up {
                    e.interface_up = iface(&host, &interface);
                } else {
                    e.interface_down = iface(&host, &interface);
                }
            }
            I::PlaceNat { nat, link } => {
                e.move_nat = Some(match link {
                    Some(l) => format!("{nat}@{l}"),
                    None => nat,
                })
            }
            I::MoveClients {
                host,
                to,
                by,
                count,
                from,
            } => {
                e.move_clients = Some(host);
                e.to = Some(to);
                e.by = Some(by);
                e.count = count;
                e.from = from;
            }
            I::SpoofUpdate {
                attacker,
                target,
                replay,
            } => {
                e.spoof_update = Some(attacker);
                e.target = Some(target);
                e.replay = replay.then_some(true);
            }
            I::Hint { host, kind } => {
                e.hint = Some(kind);
                e.host = Some(host);
            }
            I::CheckLiveness { host } => e.check_liveness = Some(host),
            I::RekeyChild { host } => e.rekey_child = Some(host),
            I::RekeyIke { host } => e.rekey_ike = Some(host),
            I::SetLink {
                link,
                delay,
                jitter,
                loss,
                duplicate,
            } => {
                e.set_link = Some(link);
                e.delay = delay;
                e.jitter = jitter;
                e.loss = loss;
                e.duplicate = duplicate;
            }
            I::ConfigureNat { nat, changes } => {
                e.configure_nat = Some(nat);
                e.preset = changes.preset;
                e.mapping = changes.mapping;
                e.filtering = changes.filtering;
                e.mapping_timeout = changes.mapping_timeout;
                e.inbound_refresh = changes.inbound_refresh;
                e.port_preservation = changes.port_preservation;
                e.hairpinning = changes.hairpinning;
                e.port_range = changes.port_range;
            }
        }
        e
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::vocab::duration::Dur;

    const MINIMAL: &str = r#"
version = 1
title = "t"
[[host]]
id = "a"
pos = [0, 0]
role = "initiator"
peer = "203.0.113.1"
[[host.interface]]
name = "eth0"
address = "192.0.2.1"
link = "l1"
[[host]]
id = "b"
pos = [1, 1]
role = "responder"
[[host.interface]]
name = "eth0"
address = "203.0.113.1"
link = "l2"
[[link]]
id = "l1"
delay = "5ms"
[[link]]
id = "l2"
delay = "5ms"
"#;

    #[test]
    fn minimal_scenario_reads() {
        let s = Scenario::from_toml(MINIMAL).unwrap();
        assert_eq!(s.hosts.len(), 2);
        assert_eq!(s.links[0].delay, Dur(5000));
        assert_eq!(s.until, Dur(60_000_000));
    }

    #[test]
    fn an_attacker_is_called_one_and_saved_as_one() {
        let s = Scenario::from_toml(MINIMAL).unwrap();
        assert!(!s.hosts[1].attacker, "off unless a file says so");
        assert_eq!(s.hosts[1].role_word(), "responder");
        assert!(
            !s.to_toml().unwrap().contains("attacker"),
            "not written when off"
        );
        let text = MINIMAL.replacen(
            "role = \"responder\"",
            "role = \"responder\"\nattacker = true",
            1,
        );
        let s = Scenario::from_toml(&text).unwrap();
        assert!(s.hosts[1].attacker);
        assert_eq!(s.hosts[1].role_word(), "attacker");
        assert_eq!(s.hosts[0].role_word(), "initiator");
        let again = Scenario::from_toml(&s.to_toml().unwrap()).unwrap();
        assert!(again.hosts[1].attacker);
    }

    #[test]
    fn unknown_field_is_an_error_with_line_and_column() {
        let text = MINIMAL.replace(
            "delay = \"5ms\"\n[[link]]",
            "delay = \"5ms\"\ncolour = \"red\"\n[[link]]",
        );
        let e = Scenario::from_toml(&text).unwrap_err();
        assert!(e.message.contains("colour"), "{e}");
        assert_eq!(
            e.line,
            Some(text.lines().position(|l| l.starts_with("colour")).unwrap() + 1)
        );
        assert!(e.column.is_some());
    }

    #[test]
    fn bad_duration_and_dangling_link_are_explained() {
        let e = Scenario::from_toml(&MINIMAL.replacen("\"5ms\"", "\"5 parsecs\"", 1)).unwrap_err();
        assert!(e.message.contains("unit"), "{e}");
        assert!(e.line.is_some());
        let e = Scenario::from_toml(&MINIMAL.replacen("link = \"l1\"", "link = \"wifi\"", 1))
            .unwrap_err();
        assert!(e.message.contains("no [[link]] defines"), "{e}");
        assert!(e.line.is_some(), "{e}");
    }

    #[test]
    fn timeline_event_needs_exactly_one_action() {
        let text = format!("{MINIMAL}\n[[event]]\nat = \"1s\"\n");
        let e = Scenario::from_toml(&text).unwrap_err();
        assert!(e.message.contains("no action"), "{e}");
        let text = format!(
            "{MINIMAL}\n[[event]]\nat = \"1s\"\nbreak_link = \"l1\"\nrestore_link = \"l1\"\n"
        );
        assert!(
            Scenario::from_toml(&text)
                .unwrap_err()
                .message
                .contains("more than one")
        );
    }

    /// An address removed from one interface may come back later, there
    /// or on another interface; while another interface has it, adding it
    /// is refused, and the error names the event's line, its time as the
    /// file writes it, and who has the address.
    #[test]
    fn an_address_removed_may_be_added_again_and_event_errors_have_a_place() {
        let base = MINIMAL.replacen(
            "[[host]]\nid = \"b\"",
            "[[host.interface]]\nname = \"lte\"\naddress = \"198.51.100.7\"\nlink = \"l1\"\n[[host]]\nid = \"b\"",
            1,
        );
        let ev = |at: &str, body: &str| format!("[[event]]\nat = \"{at}\"\n{body}\n");
        let remove = ev("10s", "remove_address = \"a.eth0\"");
        let to_lte = ev("15.5s", "add_address = \"a.lte\"\naddress = \"192.0.2.1\"");
        let off_lte = ev("20s", "remove_address = \"a.lte\"\naddress = \"192.0.2.1\"");
        let back = ev(
            "24.131s",
            "add_address = \"a.eth0\"\naddress = \"192.0.2.1\"",
        );
        let text = format!("{base}{remove}{to_lte}{off_lte}{back}");
        let s = Scenario::from_toml(&text).unwrap();
        assert_eq!(s.timeline.len(), 4);
        // Removed twice: known (it was the scenario's), so not an error.
        let twice = format!("{base}{remove}{remove}");
        assert!(Scenario::from_toml(&twice).is_ok());
        // Without the removal, the second interface may not take it.
        let text = format!("{base}{to_lte}");
        let e = Scenario::from_toml(&text).unwrap_err();
        let line = text
            .lines()
            .position(|l| l.starts_with("add_address"))
            .unwrap()
            + 1;
        assert_eq!((e.line, e.column), (Some(line), Some(1)), "{e}");
        assert!(
            e.message
                .starts_with("event at 15.5s: address 192.0.2.1 is used twice"),
            "{e}"
        );
        assert!(e.message.contains("\"a.eth0\" has it"), "{e}");
        // Events are checked in time order, not the file's: the removal at
        // 10 s written first does not free the address for 5 s.
        let late = ev("10s", "remove_address = \"a.eth0\"");
        let early = ev("5s", "add_address = \"a.lte\"\naddress = \"192.0.2.1\"");
        let e = Scenario::from_toml(&format!("{base}{late}{early}")).unwrap_err();
        assert!(
            e.message
                .starts_with("event at 5s: address 192.0.2.1 is used twice"),
            "{e}"
        );
        // The user's changes are checked at their times among the
        // timeline's events, as share links and the page check them.
        let s = Scenario::from_toml(&format!("{base}{late}")).unwrap();
        let add = Intervention::AddAddress {
            host: "a".into(),
            interface: "lte".into(),
            address: "192.0.2.1".parse().unwrap(),
            announce: true,
        };
        let before = InterventionCheck::with_timeline(&s).check_at(5_000_000, &add);
        assert!(before.is_err(), "eth0 still has it at 5 s");
        let after = InterventionCheck::with_timeline(&s).check_at(10_000_000, &add);
        assert_eq!(after, Ok(()), "free from 10 s");
    }

    #[test]
    fn problems_name_the_field_of_the_entry_they_are_about() {
        let s = Scenario::from_toml(MINIMAL).unwrap();
        assert_eq!(s.problems(), vec![]);
        let places =
            |s: &Scenario| -> Vec<Place> { s.problems().into_iter().map(|p| p.place).collect() };
        // A group entry, then a bad link on the host after it: the place is
        // the second entry, whatever the number of copies; the group's own
        // dangling link (l1 renamed) is one problem, not one per copy.
        let mut t = s.clone();
        t.hosts[0].count = Some(3);
        t.hosts[1].interfaces[0].link = "nowhere".into();
        t.links[1].loss = 2.0;
        t.links[0].id = "l2".into();
        t.settings.set("liveliness", toml::Value::Boolean(true));
        let mut own = SettingsLayer::default();
        own.set("retransmit_tries", toml::Value::String("many".into()));
        t.hosts[1].settings = Some(own);
        t.timeline.push(TimelineEvent {
            at: Dur(1),
            break_link: Some("wlan".into()),
            ..TimelineEvent::default()
        });
        assert_eq!(
            places(&t),
            vec![
                Place::new(Element::Settings(None), "liveliness"),
                Place::new(Element::Link(1), "id"),
                Place::new(Element::Interface(0, 0), "link"),
                Place::new(Element::Interface(1, 0), "link"),
                Place::new(Element::Link(1), "loss"),
                Place::new(Element::Event(0), "action"),
            ]
        );
        // Host settings are checked once the global ones are good.
        t.settings = SettingsLayer::default();
        assert!(places(&t).contains(&Place::new(Element::Settings(Some(1)), "retransmit_tries")));
        t.hosts[0].count = Some(0);
        assert_eq!(places(&t)[1], Place::new(Element::Host(0), "count"));
        let p = &t.problems()[1];
        assert!(p.message.contains("between 1 and 10000"), "{p:?}");
    }

    #[test]
    fn a_scenario_compacted_is_what_its_file_wrote() {
        let text = MINIMAL.replacen("role = \"initiator\"", "role = \"initiator\"\ncount = 4", 1);
        let s = Scenario::from_toml(&text).unwrap();
        assert_eq!(s.hosts.len(), 5);
        let c = s.compacted();
        assert_eq!(c.hosts.len(), 2);
        assert_eq!((c.hosts[0].id.as_str(), c.hosts[0].count), ("a", Some(4)));
        assert_eq!(c.problems(), vec![]);
    }

    #[test]
    fn garbage_is_an_error_not_a_panic() {
        for text in [
            "",
            "version = ",
            "[[host]]\nid = 3",
            "\u{0}\u{1}",
            "version = 2\ntitle=\"x\"\nhost=[]\nlink=[]",
        ] {
            assert!(Scenario::from_toml(text).is_err());
        }
    }
}
