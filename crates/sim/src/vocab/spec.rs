//! The scenario vocabulary: what a scenario file holds, as plain data. The
//! file reader (TOML, validation) is [`crate::scenario`]; the world runs it.

use super::direction::Direction;
use super::duration::Dur;
use super::intervention::{HintKind, MoveBy, Names};
use super::nat::{Filtering, MappingBehaviour, NatBehaviour, NatChanges, NatPreset};
use super::settings::{HostSettings, SettingsError, SettingsLayer};
use mobike_protocol::{Role, SaState};
use serde::{Deserialize, Serialize};
use std::net::IpAddr;

/// The format version this build reads.
pub const VERSION: u32 = 1;

/// A scenario file: the topology, the protocol settings, the timeline of
/// interventions, narration and expectations.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Scenario {
    /// Format version; must be 1.
    pub version: u32,
    pub title: String,
    #[serde(default)]
    pub description: String,
    /// Seed of every random draw (SPIs, nonces, keys, COOKIE2).
    #[serde(default)]
    pub seed: u64,
    /// How long the CLI runs it.
    #[serde(default = "default_until")]
    pub until: Dur,
    #[serde(default)]
    pub internet: InternetSpec,
    #[serde(default, rename = "host")]
    pub hosts: Vec<HostSpec>,
    #[serde(default, rename = "link")]
    pub links: Vec<LinkSpec>,
    #[serde(default, rename = "nat")]
    pub nats: Vec<NatSpec>,
    #[serde(default)]
    pub settings: SettingsLayer,
    #[serde(default, rename = "event")]
    pub timeline: Vec<TimelineEvent>,
    /// Ping traffic through the tunnel.
    #[serde(default)]
    pub ping: Option<PingSpec>,
    /// What must be true: checked by `mobike check` and the test suite.
    #[serde(default, rename = "expect")]
    pub expectations: Vec<Expectation>,
    /// Narration: `[[step]]` texts, each shown when its moment comes.
    #[serde(default, rename = "step", skip_serializing_if = "Vec::is_empty")]
    pub steps: Vec<Step>,
}

impl Scenario {
    /// A scenario with nothing in it yet: where the editor starts from an
    /// empty page.
    pub fn empty() -> Scenario {
        Scenario {
            version: VERSION,
            title: "New scenario".into(),
            description: String::new(),
            seed: 1,
            until: default_until(),
            internet: InternetSpec::default(),
            hosts: Vec::new(),
            links: Vec::new(),
            nats: Vec::new(),
            settings: SettingsLayer::default(),
            timeline: Vec::new(),
            ping: None,
            expectations: Vec::new(),
            steps: Vec::new(),
        }
    }
}

/// One narration step: its text appears at `at`, or when the first message
/// or note matching `message` / `note` / `note_rule` (from `host`, a request
/// or a `response`) happens after the previous step. With none of them,
/// right after the previous step.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Step {
    pub text: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub at: Option<Dur>,
    /// Text the message's notation contains, e.g. "N(UPDATE_SA_ADDRESSES)".
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub response: Option<bool>,
    /// Text a protocol note or intervention contains.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
    /// A checklist id (e.g. "M-3.7-5") the rule of a protocol note cites:
    /// unlike `note`, it still matches when the note is reworded.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note_rule: Option<String>,
    /// The sending host (messages) or the host of the note.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub host: Option<String>,
}

/// One thing that must hold. A state check names a `host` and is evaluated
/// `at` a time (default: the end of the run); a message check looks for a
/// message whose RFC notation contains `message`, sent by `host` if given,
/// within `after`..`before`; metric bounds apply to the whole run.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Expectation {
    /// What this checks, in words (shown by `mobike check`).
    #[serde(default)]
    pub what: String,
    #[serde(default)]
    pub at: Option<Dur>,
    #[serde(default)]
    pub host: Option<String>,
    /// SA state, as the protocol names it: "established", "deleted", ...
    #[serde(default)]
    pub state: Option<SaState>,
    /// The IKE SA's local / remote address.
    #[serde(default)]
    pub ike_local: Option<IpAddr>,
    #[serde(default)]
    pub ike_remote: Option<IpAddr>,
    /// The IPsec SAs' remote address.
    #[serde(default)]
    pub ipsec_remote: Option<IpAddr>,
    #[serde(default)]
    pub udp_encap: Option<bool>,
    /// This host found itself behind a NAT.
    #[serde(default)]
    pub behind_nat: Option<bool>,
    /// A message whose notation contains this text, e.g. "N(UPDATE_SA_ADDRESSES)".
    #[serde(default)]
    pub message: Option<String>,
    /// `false`: the message must never be sent (in the window).
    #[serde(default)]
    pub seen: Option<bool>,
    #[serde(default)]
    pub after: Option<Dur>,
    #[serde(default)]
    pub before: Option<Dur>,
    #[serde(default)]
    pub pings_lost_at_most: Option<u32>,
    #[serde(default)]
    pub pings_answered_at_least: Option<u32>,
}

/// ICMP echo requests from one host's inside address to another's, through
/// the ESP tunnel, answered by the target host.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PingSpec {
    /// Host id that sends the requests; "*" for every initiator; the id of
    /// a host entry with `count` for each of its copies.
    pub from: String,
    /// Host id whose inside address is pinged.
    pub to: String,
    #[serde(default = "one_second")]
    pub interval: Dur,
    #[serde(default = "one_second")]
    pub start: Dur,
}

fn one_second() -> Dur {
    Dur(1_000_000)
}

fn default_until() -> Dur {
    Dur(60_000_000)
}

/// Where the internet cloud is drawn.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct InternetSpec {
    pub pos: [f64; 2],
}

impl Default for InternetSpec {
    fn default() -> Self {
        InternetSpec {
            pos: [350.0, 160.0],
        }
    }
}

/// A host (`[[host]]`): an IKE peer with one or more interfaces.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HostSpec {
    pub id: String,
    #[serde(default)]
    pub label: String,
    pub pos: [f64; 2],
    pub role: Role,
    /// IKE identity (FQDN); defaults to `"<id>.example"`.
    #[serde(default)]
    pub identity: Option<String>,
    /// The identity the peer must show; any whose AUTH verifies if unset.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub peer_identity: Option<String>,
    /// Initiator: the responder address it connects to.
    #[serde(default)]
    pub peer: Option<IpAddr>,
    /// Initiator: more addresses of the same responder, tried in turn with
    /// a new IKE_SA_INIT each when `peer` does not answer (RFC 4555 §3.1).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub fallback_peers: Vec<IpAddr>,
    /// Initiator: when it starts IKE_SA_INIT.
    #[serde(default)]
    pub start_at: Dur,
    /// The address inside the tunnel (pings come from and go to it);
    /// default 10.99.0.x for initiators, 10.1.0.1 for responders.
    #[serde(default)]
    pub inner_address: Option<std::net::Ipv4Addr>,
    #[serde(rename = "interface")]
    pub interfaces: Vec<InterfaceSpec>,
    /// `[host.settings]`: this host's exceptions to the global `[settings]`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub settings: Option<SettingsLayer>,
    /// Many alike hosts from one entry: ids `"<id>-1"` … `"<id>-<count>"`,
    /// each interface address counted up by one per copy, positions in
    /// columns of ten (the clients of a cluster, say).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub count: Option<u32>,
    /// An on-path attacker (RFC 4555 §5), not a peer anyone connects to:
    /// the page calls her an attacker and offers her forged and replayed
    /// updates. Only words and offers change; she runs as her `role` says.
    #[serde(default, skip_serializing_if = "is_false")]
    pub attacker: bool,
}

fn is_false(b: &bool) -> bool {
    !*b
}

impl HostSpec {
    /// What the page calls this host's part: "initiator", "responder", or
    /// "attacker" for an on-path attacker (whatever her role).
    pub fn role_word(&self) -> &'static str {
        match (self.attacker, self.role) {
            (true, _) => "attacker",
            (false, Role::Initiator) => "initiator",
            (false, Role::Responder) => "responder",
        }
    }

    /// The settings this host runs with: its preset (or the global one, or
    /// the defaults), then the global fields, then its own.
    pub fn settings(&self, global: &SettingsLayer) -> Result<HostSettings, SettingsError> {
        super::settings::resolve(global, self.settings.as_ref())
    }
}

/// An interface of a host (`[[host.interface]]`): one address on one link.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct InterfaceSpec {
    pub name: String,
    #[serde(default)]
    pub label: String,
    pub address: IpAddr,
    /// The link this interface attaches to.
    pub link: String,
    #[serde(default = "yes")]
    pub up: bool,
}

fn yes() -> bool {
    true
}

/// A link between a host interface and the internet.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LinkSpec {
    pub id: String,
    #[serde(default)]
    pub label: String,
    /// One-way delay.
    pub delay: Dur,
    /// Extra delay drawn uniformly from 0..=jitter for each packet (so
    /// packets may overtake each other).
    #[serde(default)]
    pub jitter: Dur,
    /// Probability (0..=1) that a packet entering the link is lost.
    #[serde(default)]
    pub loss: f64,
    /// Probability (0..=1) that a packet arrives twice.
    #[serde(default)]
    pub duplicate: f64,
    /// Both directions start up (`false`: both broken).
    #[serde(default = "yes")]
    pub up: bool,
}

/// A NAT box (RFC 4787 behaviours, reference §7), placed on a link or kept
/// aside. Without a preset or overrides it is endpoint-independent mapping,
/// address-dependent filtering ("restricted cone"), 5 min, port
/// preservation, hairpinning.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NatSpec {
    pub id: String,
    #[serde(default)]
    pub label: String,
    pub public_address: IpAddr,
    /// The link it sits on (between the host and the internet); none = not in any path.
    #[serde(default)]
    pub link: Option<String>,
    pub pos: [f64; 2],
    /// A row of the reference's §7.3 table; the fields below override it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub preset: Option<NatPreset>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mapping: Option<MappingBehaviour>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub filtering: Option<Filtering>,
    /// Idle time after which a mapping expires (RFC 4787 REQ-5: at least
    /// 2 min, 5 min RECOMMENDED; shorter is allowed here, for demos).
    #[serde(default, alias = "timeout", skip_serializing_if = "Option::is_none")]
    pub mapping_timeout: Option<Dur>,
    /// Inbound packets refresh the mapping timer too (REQ-6a).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub inbound_refresh: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub port_preservation: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hairpinning: Option<bool>,
    /// `[first, last]`: where ports come from without port preservation.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub port_range: Option<[u16; 2]>,
    /// Port forwards: `["4500->192.168.1.10:4500"]`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub forward: Vec<crate::nat::PortForward>,
}

impl NatSpec {
    /// The preset (or the default) with this NAT's overrides.
    pub fn behaviour(&self) -> NatBehaviour {
        self.changes().over(NatBehaviour::default())
    }

    /// Its preset and overrides, as a `configure_nat` event writes them.
    pub fn changes(&self) -> NatChanges {
        NatChanges {
            preset: self.preset,
            mapping: self.mapping,
            filtering: self.filtering,
            mapping_timeout: self.mapping_timeout,
            inbound_refresh: self.inbound_refresh,
            port_preservation: self.port_preservation,
            hairpinning: self.hairpinning,
            port_range: self.port_range,
        }
    }
}
/// One thing that happens at a time: exactly one action field is set.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TimelineEvent {
    pub at: Dur,
    /// Made by the user on the page and saved with the scenario: it lands
    /// after everything else that happens at `at` (as it did on the page)
    /// and the chart marks it "(by you)".
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user: Option<bool>,
    /// Break a link silently (packets vanish; nobody is told).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub break_link: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub restore_link: Option<String>,
    /// The internet's route between this link and `prefix` is withdrawn:
    /// packets between them vanish in the middle of the network.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub route_down: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub route_up: Option<String>,
    /// With route_down / route_up: "203.0.113.0/24".
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub prefix: Option<mobike_protocol::Subnet>,
    /// "host.interface": the interface goes down and the OS tells the IKE daemon.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub interface_down: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub interface_up: Option<String>,
    /// "nat" or "nat@link": take a NAT box out of its path, or put it on a link.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub move_nat: Option<String>,
    /// A NAT reboots: every mapping is lost; new ones get new ports.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub nat_reboot: Option<String>,
    /// A NAT gets a new public `address` (its mappings keep their ports).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub nat_address_change: Option<String>,
    /// "host.interface" gains `address`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub add_address: Option<String>,
    /// "host.interface" loses `address` (default: its configured one).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub remove_address: Option<String>,
    /// With break_link / restore_link: only this direction ("up" = from the
    /// host towards the internet, "down" = towards the host).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub direction: Option<Direction>,
    /// With nat_address_change, add_address and remove_address.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub address: Option<IpAddr>,
    /// With add_address / remove_address: the OS tells the IKE daemon at
    /// once (default), or (`false`) the change goes unannounced.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub announce: Option<bool>,
    /// The balancer of a cluster (a responder host) moves clients `to` one
    /// of its addresses, `by` "mobike" (responder MOBIKE, an address list
    /// from there) or "redirect" (RFC 5685); `count` of them (default all),
    /// only those now on `from` if given.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub move_clients: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub to: Option<IpAddr>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub by: Option<MoveBy>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub count: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub from: Option<IpAddr>,
    /// An attacker host, on the path, sends `target` (a responder host) an
    /// UPDATE_SA_ADDRESSES for the newest IKE SA she saw go to it, from her
    /// own address: sealed with a key she made up, or (`replay = true`) a
    /// copy of the newest request that looked like a move (a new message ID
    /// from a new address).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub spoof_update: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub target: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub replay: Option<bool>,
    /// A host's IKE daemon checks its IKE SAs' liveness now.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub check_liveness: Option<String>,
    /// A host's IKE daemon rekeys its Child SAs now (CREATE_CHILD_SA).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rekey_child: Option<String>,
    /// A host's IKE daemon rekeys its IKE SAs now (CREATE_CHILD_SA).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rekey_ike: Option<String>,
    /// A lower-layer hint to a host's IKE daemon: "icmp", "invalid_spi" or
    /// "nat_changed" (RFC 4555 §3.5, §3.8, §5.3).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hint: Option<HintKind>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub host: Option<String>,
    /// A link's properties change: any of `delay`, `jitter`, `loss` and
    /// `duplicate` (the others stay).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub set_link: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub delay: Option<Dur>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub jitter: Option<Dur>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub loss: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub duplicate: Option<f64>,
    /// A NAT box's behaviour changes (RFC 4787): `preset` and any of
    /// `mapping`, `filtering`, `mapping_timeout`, `inbound_refresh`,
    /// `port_preservation`, `hairpinning`, `port_range`, as a `[[nat]]`
    /// writes them. Its mappings are flushed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub configure_nat: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub preset: Option<NatPreset>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mapping: Option<MappingBehaviour>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub filtering: Option<Filtering>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mapping_timeout: Option<Dur>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub inbound_refresh: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub port_preservation: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hairpinning: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub port_range: Option<[u16; 2]>,
}

impl TimelineEvent {
    /// The NAT properties a `configure_nat` event names.
    pub fn nat_changes(&self) -> NatChanges {
        NatChanges {
            preset: self.preset,
            mapping: self.mapping,
            filtering: self.filtering,
            mapping_timeout: self.mapping_timeout,
            inbound_refresh: self.inbound_refresh,
            port_preservation: self.port_preservation,
            hairpinning: self.hairpinning,
            port_range: self.port_range,
        }
    }
}

/// A node's label, or its id when it has none.
fn label_or_id<'a>(label: &'a str, id: &'a str) -> &'a str {
    if label.is_empty() { id } else { label }
}

impl HostSpec {
    /// What views and the trace call it: its label, or its id.
    pub fn name(&self) -> &str {
        label_or_id(&self.label, &self.id)
    }
}

impl LinkSpec {
    /// What views and the trace call it: its label, or its id.
    pub fn name(&self) -> &str {
        label_or_id(&self.label, &self.id)
    }
}

impl NatSpec {
    /// What views and the trace call it: its label, or its id.
    pub fn name(&self) -> &str {
        label_or_id(&self.label, &self.id)
    }
}

/// The scenario's labels (ids where it has none, or for unknown ids).
impl Names for Scenario {
    fn link(&self, id: &str) -> String {
        let found = self.links.iter().find(|l| l.id == id);
        found.map_or(id, LinkSpec::name).to_string()
    }
    fn nat(&self, id: &str) -> String {
        let found = self.nats.iter().find(|n| n.id == id);
        found.map_or(id, NatSpec::name).to_string()
    }
    fn host(&self, id: &str) -> String {
        let found = self.hosts.iter().find(|h| h.id == id);
        found.map_or(id, HostSpec::name).to_string()
    }
}
