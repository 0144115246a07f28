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

use crate::duration::Dur;
use crate::link::Direction;
use crate::nat::{Filtering, MappingBehaviour, NatBehaviour, NatPreset};
use mobike_protocol::{ListPolicy, MoveFallback, Retransmit, Role, Settings};
use serde::{Deserialize, Serialize};
use std::fmt;
use std::net::IpAddr;

/// The format version this build reads.
pub const VERSION: u32 = 1;

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
    #[serde(rename = "host")]
    pub hosts: Vec<HostSpec>,
    #[serde(rename = "link")]
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

/// One narration step: its text appears at `at`, or when the first message
/// or note matching `message` / `note` (from `host`, a request or a
/// `response`) happens after the previous step. With neither, right after
/// the previous step.
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
    /// SA state: "established", "deleted", ...
    #[serde(default)]
    pub state: Option<String>,
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

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HostSpec {
    pub id: String,
    #[serde(default)]
    pub label: String,
    pub pos: [f64; 2],
    pub role: Role,
    /// IKE identity (FQDN); defaults to "<id>.example".
    #[serde(default)]
    pub identity: Option<String>,
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
    /// Many alike hosts from one entry: ids "<id>-1" … "<id>-<count>",
    /// each interface address counted up by one per copy, positions in
    /// columns of ten (the clients of a cluster, say).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub count: Option<u32>,
}

impl HostSpec {
    /// The settings this host runs with: its preset (or the global one, or
    /// the defaults), then the global fields, then its own.
    pub fn settings(&self, global: &SettingsLayer) -> SettingsSpec {
        let own = self.settings.as_ref();
        let preset = own
            .and_then(|o| o.preset.as_deref())
            .or(global.preset.as_deref());
        let base = SettingsLayer::base(preset).unwrap_or_default();
        let s = global.over(&base);
        match own {
            Some(o) => o.over(&s),
            None => s,
        }
    }
}

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
}

impl NatSpec {
    /// The preset (or the default) with this NAT's overrides.
    pub fn behaviour(&self) -> NatBehaviour {
        let mut b = self
            .preset
            .map_or_else(NatBehaviour::default, |p| p.behaviour());
        if let Some(m) = self.mapping {
            b.mapping = m;
        }
        if let Some(f) = self.filtering {
            b.filtering = f;
        }
        if let Some(t) = self.mapping_timeout {
            b.timeout = t.micros();
        }
        if let Some(v) = self.inbound_refresh {
            b.inbound_refresh = v;
        }
        if let Some(v) = self.port_preservation {
            b.port_preservation = v;
        }
        if let Some(v) = self.hairpinning {
            b.hairpinning = v;
        }
        if let Some([lo, hi]) = self.port_range {
            b.port_range = (lo, hi);
        }
        b
    }
}

/// The protocol settings one host runs with (resolved from the preset, the
/// global `[settings]` and its own `[host.settings]`), durations as text.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SettingsSpec {
    pub psk: String,
    pub mobike: bool,
    pub retransmit_initial: Dur,
    pub retransmit_factor: f64,
    pub retransmit_tries: u32,
    /// The responder's own requests (RFC 4555 §3.11 asks for minutes).
    pub responder_retransmit_initial: Dur,
    pub responder_retransmit_factor: f64,
    pub responder_retransmit_tries: u32,
    pub probe_after: u32,
    /// Once path testing starts, re-send every `probe_interval`, at most
    /// `probe_tries` times (strongSwan: 2.5 s, 10). Off: the normal schedule.
    pub probe_interval: Option<Dur>,
    pub probe_tries: u32,
    /// "off" is written by leaving it out and setting `liveness = false`.
    pub liveness: bool,
    pub liveness_interval: Dur,
    pub keepalive_interval: Dur,
    pub return_routability: bool,
    pub cookie2_len: usize,
    /// NAT detection in IKE_SA_INIT; without it NO_NATS_ALLOWED is used.
    pub nat_traversal: bool,
    /// Retransmit IKE_SA_INIT from each local address in turn.
    pub multi_source_init: bool,
    /// "strict" or "follow": the initiator's answer to a responder address
    /// list without the address in use.
    pub list_policy: ListPolicy,
    /// Addresses the responder refuses in UPDATE_SA_ADDRESSES.
    pub refuse_addresses: Vec<IpAddr>,
    /// Test every address pair this often while the current one works.
    pub path_test_interval: Option<Dur>,
    /// Inbound ESP on the IPsec SA's addresses counts as liveness.
    pub esp_liveness: bool,
    /// A NAT-change hint sends UPDATE_SA_ADDRESSES at once.
    pub update_on_nat_hint: bool,
    /// NAT detection in every liveness check, or only behind a NAT.
    pub liveness_natd_always: bool,
    /// Our receive window (N(SET_WINDOW_SIZE) above 1).
    pub window_size: u32,
    /// RFC 5685 Redirect support.
    pub redirect: bool,
    /// Responder: redirect new clients in IKE_SA_INIT / IKE_AUTH to here.
    pub redirect_on_init: Option<IpAddr>,
    pub redirect_on_auth: Option<IpAddr>,
    /// Responder: "add_old_back" or "keep_retransmitting" when its own move
    /// goes unanswered, after `move_fallback_after` retransmissions.
    pub move_fallback: MoveFallback,
    pub move_fallback_after: u32,
}

impl Default for SettingsSpec {
    fn default() -> Self {
        SettingsSpec::from_settings(&Settings::default())
    }
}

impl SettingsSpec {
    /// The spec of engine settings (a preset, or the defaults).
    pub fn from_settings(s: &Settings) -> SettingsSpec {
        SettingsSpec {
            psk: "mobike-playground".into(),
            mobike: s.mobike,
            retransmit_initial: Dur(s.retransmit.initial),
            retransmit_factor: s.retransmit.factor,
            retransmit_tries: s.retransmit.tries,
            responder_retransmit_initial: Dur(s.responder_retransmit.initial),
            responder_retransmit_factor: s.responder_retransmit.factor,
            responder_retransmit_tries: s.responder_retransmit.tries,
            probe_after: s.probe_after,
            probe_interval: s.probe.as_ref().map(|p| Dur(p.initial)),
            probe_tries: s.probe.as_ref().map_or(10, |p| p.tries),
            liveness: s.liveness_interval.is_some(),
            liveness_interval: Dur(s.liveness_interval.unwrap_or(10_000_000)),
            keepalive_interval: Dur(s.keepalive_interval),
            return_routability: s.return_routability,
            cookie2_len: s.cookie2_len,
            nat_traversal: s.nat_traversal,
            multi_source_init: s.multi_source_init,
            list_policy: s.list_policy,
            refuse_addresses: s.refuse_addresses.clone(),
            path_test_interval: s.path_test_interval.map(Dur),
            esp_liveness: s.esp_liveness,
            update_on_nat_hint: s.update_on_nat_hint,
            liveness_natd_always: s.liveness_natd_always,
            window_size: s.window_size,
            redirect: s.redirect,
            redirect_on_init: s.redirect_on_init,
            redirect_on_auth: s.redirect_on_auth,
            move_fallback: s.move_fallback,
            move_fallback_after: s.move_fallback_after,
        }
    }

    pub fn to_settings(&self) -> Settings {
        Settings {
            mobike: self.mobike,
            retransmit: Retransmit {
                initial: self.retransmit_initial.micros(),
                factor: self.retransmit_factor,
                tries: self.retransmit_tries,
            },
            responder_retransmit: Retransmit {
                initial: self.responder_retransmit_initial.micros(),
                factor: self.responder_retransmit_factor,
                tries: self.responder_retransmit_tries,
            },
            probe_after: self.probe_after,
            probe: self.probe_interval.map(|d| Retransmit {
                initial: d.micros(),
                factor: 1.0,
                tries: self.probe_tries,
            }),
            liveness_interval: self.liveness.then_some(self.liveness_interval.micros()),
            keepalive_interval: self.keepalive_interval.micros(),
            return_routability: self.return_routability,
            cookie2_len: self.cookie2_len,
            nat_traversal: self.nat_traversal,
            multi_source_init: self.multi_source_init,
            list_policy: self.list_policy,
            refuse_addresses: self.refuse_addresses.clone(),
            path_test_interval: self.path_test_interval.map(|d| d.micros()),
            esp_liveness: self.esp_liveness,
            update_on_nat_hint: self.update_on_nat_hint,
            liveness_natd_always: self.liveness_natd_always,
            window_size: self.window_size.max(1),
            redirect: self.redirect,
            redirect_on_init: self.redirect_on_init,
            redirect_on_auth: self.redirect_on_auth,
            move_fallback: self.move_fallback,
            move_fallback_after: self.move_fallback_after,
        }
    }
}

/// Declares [`SettingsLayer`]: a `preset` and one optional field per field
/// of [`SettingsSpec`], and the code that lays them over resolved settings.
/// The list must name every field (a destructuring below fails to compile
/// otherwise), so a new setting cannot be forgotten.
macro_rules! settings_layer {
    ($($field:ident: $ty:ty),* $(,)?) => {
        /// `[settings]` (every host) or `[host.settings]` (one host): a
        /// timer preset and any fields that differ from it.
        #[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
        #[serde(deny_unknown_fields)]
        pub struct SettingsLayer {
            /// "rfc" (the defaults), "strongswan" or "libreswan"
            /// (mobike_protocol::Settings::preset).
            #[serde(default, skip_serializing_if = "Option::is_none")]
            pub preset: Option<String>,
            $(
                #[serde(default, skip_serializing_if = "Option::is_none")]
                pub $field: Option<$ty>,
            )*
        }

        impl SettingsLayer {
            /// `base` with this layer's fields.
            pub fn over(&self, base: &SettingsSpec) -> SettingsSpec {
                let SettingsSpec { $($field: _),* } = base;
                let mut s = base.clone();
                $(
                    if let Some(v) = &self.$field {
                        s.$field = v.clone();
                    }
                )*
                s
            }
        }
    };
}

settings_layer!(
    psk: String,
    mobike: bool,
    retransmit_initial: Dur,
    retransmit_factor: f64,
    retransmit_tries: u32,
    responder_retransmit_initial: Dur,
    responder_retransmit_factor: f64,
    responder_retransmit_tries: u32,
    probe_after: u32,
    probe_interval: Option<Dur>,
    probe_tries: u32,
    liveness: bool,
    liveness_interval: Dur,
    keepalive_interval: Dur,
    return_routability: bool,
    cookie2_len: usize,
    nat_traversal: bool,
    multi_source_init: bool,
    list_policy: ListPolicy,
    refuse_addresses: Vec<IpAddr>,
    path_test_interval: Option<Dur>,
    esp_liveness: bool,
    update_on_nat_hint: bool,
    liveness_natd_always: bool,
    window_size: u32,
    redirect: bool,
    redirect_on_init: Option<IpAddr>,
    redirect_on_auth: Option<IpAddr>,
    move_fallback: MoveFallback,
    move_fallback_after: u32,
);

/// The HostSettingsSpec of earlier builds is the same layer.
pub type HostSettingsSpec = SettingsLayer;

impl SettingsLayer {
    /// The preset's engine settings, checked.
    fn base(name: Option<&str>) -> Result<SettingsSpec, String> {
        match name {
            None => Ok(SettingsSpec::default()),
            Some(n) => Settings::preset(n)
                .map(|s| SettingsSpec::from_settings(&s))
                .ok_or_else(|| {
                    format!(
                        "unknown settings preset {n:?}; use one of {}",
                        Settings::PRESETS.join(", ")
                    )
                }),
        }
    }
}

/// One thing that happens at a time: exactly one action field is set.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TimelineEvent {
    pub at: Dur,
    /// Break a link silently (packets vanish; nobody is told).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub break_link: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub restore_link: Option<String>,
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
    pub by: Option<crate::world::MoveBy>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub count: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub from: Option<IpAddr>,
    /// An attacker host sends `target` (a responder host) a forged
    /// UPDATE_SA_ADDRESSES for its newest IKE SA from the attacker's own
    /// address: sealed with a key it guesses, or (`replay = true`) the last
    /// real one it saw, replayed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub spoof_update: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub target: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub replay: Option<bool>,
    /// A lower-layer hint to a host's IKE daemon: "icmp", "invalid_spi" or
    /// "nat_changed" (RFC 4555 §3.5, §3.8, §5.3).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hint: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub host: Option<String>,
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
        s.expand_counts().map_err(|message| ScenarioError {
            line: None,
            column: None,
            message,
        })?;
        s.validate().map_err(|(what, message)| {
            // Point at the first line that mentions the offending name.
            let (line, column) = what
                .and_then(|w| text.find(&format!("\"{w}\"")))
                .map(|off| line_col(text, off))
                .map_or((None, None), |(l, c)| (Some(l), Some(c)));
            ScenarioError {
                line,
                column,
                message,
            }
        })?;
        Ok(s)
    }

    /// Replaces each host entry with a `count` by its copies.
    fn expand_counts(&mut self) -> Result<(), String> {
        let mut hosts = Vec::new();
        for h in std::mem::take(&mut self.hosts) {
            let Some(n) = h.count else {
                hosts.push(h);
                continue;
            };
            if n == 0 || n > 5000 {
                return Err(format!(
                    "host {:?}: count must be between 1 and 5000, not {n}",
                    h.id
                ));
            }
            for k in 0..n {
                let mut c = h.clone();
                c.count = None;
                c.id = format!("{}-{}", h.id, k + 1);
                c.label = format!("{} {}", label_or(&h.label, &h.id), k + 1);
                c.identity = h.identity.as_ref().map(|i| format!("{}-{}", i, k + 1));
                c.pos = [
                    h.pos[0] + (k / 10) as f64 * 36.0,
                    h.pos[1] + (k % 10) as f64 * 26.0,
                ];
                for f in &mut c.interfaces {
                    f.address = offset(f.address, k).ok_or_else(|| {
                        format!("host {:?}: {} + {k} is not an address", h.id, f.address)
                    })?;
                }
                hosts.push(c);
            }
        }
        self.hosts = hosts;
        Ok(())
    }

    /// Cross-reference checks serde cannot do. Returns the offending name
    /// (to locate it) and a message that says how to fix it.
    fn validate(&self) -> Result<(), (Option<String>, String)> {
        if self.version != VERSION {
            return Err((
                None,
                format!(
                    "version {} is not supported: this build reads version {VERSION}",
                    self.version
                ),
            ));
        }
        for layer in std::iter::once(&self.settings)
            .chain(self.hosts.iter().filter_map(|h| h.settings.as_ref()))
        {
            SettingsLayer::base(layer.preset.as_deref()).map_err(|e| (layer.preset.clone(), e))?;
        }
        let link_ids: Vec<&str> = self.links.iter().map(|l| l.id.as_str()).collect();
        let mut ids: Vec<&str> = Vec::new();
        for id in self
            .hosts
            .iter()
            .map(|h| h.id.as_str())
            .chain(link_ids.iter().copied())
            .chain(self.nats.iter().map(|n| n.id.as_str()))
        {
            if ids.contains(&id) {
                return Err((
                    Some(id.into()),
                    format!("id {id:?} is used twice; ids must be unique"),
                ));
            }
            ids.push(id);
        }
        let mut addrs: Vec<IpAddr> = Vec::new();
        for h in &self.hosts {
            if h.interfaces.is_empty() {
                return Err((
                    Some(h.id.clone()),
                    format!("host {:?} needs at least one [[host.interface]]", h.id),
                ));
            }
            if h.role == Role::Initiator && h.peer.is_none() {
                return Err((
                    Some(h.id.clone()),
                    format!(
                        "initiator {:?} needs `peer = \"<responder address>\"`",
                        h.id
                    ),
                ));
            }
            for i in &h.interfaces {
                if !link_ids.contains(&i.link.as_str()) {
                    return Err((
                        Some(i.link.clone()),
                        format!(
                            "interface {}.{} names link {:?}, which no [[link]] defines (links: {})",
                            h.id,
                            i.name,
                            i.link,
                            link_ids.join(", ")
                        ),
                    ));
                }
                if addrs.contains(&i.address) {
                    return Err((None, format!("address {} is used twice", i.address)));
                }
                addrs.push(i.address);
            }
        }
        for n in &self.nats {
            if let Some(l) = &n.link
                && !link_ids.contains(&l.as_str())
            {
                return Err((
                    Some(l.clone()),
                    format!("nat {:?} sits on unknown link {l:?}", n.id),
                ));
            }
            if addrs.contains(&n.public_address) {
                return Err((None, format!("address {} is used twice", n.public_address)));
            }
            addrs.push(n.public_address);
        }
        for l in &self.links {
            for (name, p) in [("loss", l.loss), ("duplicate", l.duplicate)] {
                if !(0.0..=1.0).contains(&p) {
                    return Err((
                        Some(l.id.clone()),
                        format!(
                            "link {:?}: {name} = {p} is not a probability (write 0.0 to 1.0, e.g. 0.1 for 10 %)",
                            l.id
                        ),
                    ));
                }
            }
        }
        for n in &self.nats {
            if let Some([lo, hi]) = n.port_range
                && (lo == 0 || lo > hi)
            {
                return Err((
                    Some(n.id.clone()),
                    format!(
                        "nat {:?}: port_range [{lo}, {hi}] must be [first, last] with 0 < first <= last",
                        n.id
                    ),
                ));
            }
        }
        let nat_ids: Vec<&str> = self.nats.iter().map(|n| n.id.as_str()).collect();
        for e in &self.timeline {
            let at = |m: String| (None, format!("event at {}: {m}", e.at));
            let action = e.action().map_err(at)?;
            self.check_names(&action, &link_ids, &nat_ids, &addrs)
                .map_err(|(what, m)| (what, format!("event at {}: {m}", e.at)))?;
            if let crate::world::Intervention::ChangeNatAddress { address, .. }
            | crate::world::Intervention::AddAddress { address, .. } = action
            {
                if addrs.contains(&address) {
                    return Err(at(format!("address {address} is used twice")));
                }
                addrs.push(address);
            }
        }
        Ok(())
    }

    /// The names an event refers to must exist.
    fn check_names(
        &self,
        action: &crate::world::Intervention,
        links: &[&str],
        nats: &[&str],
        addrs: &[IpAddr],
    ) -> Result<(), (Option<String>, String)> {
        use crate::world::Intervention as I;
        let link = |l: &String| {
            if links.contains(&l.as_str()) {
                Ok(())
            } else {
                Err((
                    Some(l.clone()),
                    format!("no [[link]] has id {l:?} (links: {})", links.join(", ")),
                ))
            }
        };
        let nat = |n: &String| {
            if nats.contains(&n.as_str()) {
                Ok(())
            } else {
                Err((
                    Some(n.clone()),
                    format!("no [[nat]] has id {n:?} (NATs: {})", nats.join(", ")),
                ))
            }
        };
        let iface = |h: &String, f: &String| {
            let host = self.hosts.iter().find(|x| &x.id == h);
            match host.map(|x| x.interfaces.iter().any(|i| &i.name == f)) {
                Some(true) => Ok(()),
                _ => Err((
                    None,
                    format!("no host {h:?} with an interface {f:?} (write \"host.interface\")"),
                )),
            }
        };
        match action {
            I::BreakLink { link: l }
            | I::RestoreLink { link: l }
            | I::SetLinkDirection { link: l, .. } => link(l),
            I::RebootNat { nat: n } | I::ChangeNatAddress { nat: n, .. } => nat(n),
            I::PlaceNat { nat: n, link: l } => {
                nat(n)?;
                l.as_ref().map_or(Ok(()), link)
            }
            I::SetInterface {
                host, interface, ..
            } => iface(host, interface),
            I::AddAddress {
                host, interface, ..
            } => iface(host, interface),
            I::RemoveAddress {
                host,
                interface,
                address,
                ..
            } => {
                iface(host, interface)?;
                match address {
                    Some(a) if !addrs.contains(a) => Err((
                        None,
                        format!("remove_address: {a} is not an address of the scenario"),
                    )),
                    _ => Ok(()),
                }
            }
            I::MoveClients { host, to, .. } => {
                let h = self.hosts.iter().find(|x| &x.id == host);
                match h {
                    Some(h) if h.role == Role::Responder => {
                        if h.interfaces.iter().any(|f| f.address == *to) {
                            Ok(())
                        } else {
                            Err((
                                Some(host.clone()),
                                format!("move_clients: {to} is not an address of {host:?}"),
                            ))
                        }
                    }
                    _ => Err((None, format!("move_clients: no responder host {host:?}"))),
                }
            }
            I::SpoofUpdate {
                attacker, target, ..
            } => {
                for h in [attacker, target] {
                    if !self.hosts.iter().any(|x| &x.id == h) {
                        return Err((None, format!("spoof_update: no host {h:?}")));
                    }
                }
                Ok(())
            }
            I::Hint { host, .. } => {
                if self.hosts.iter().any(|x| &x.id == host) {
                    Ok(())
                } else {
                    Err((None, format!("hint: no host {host:?}")))
                }
            }
        }
    }
}

impl TimelineEvent {
    /// The one action of this event.
    pub fn action(&self) -> Result<crate::world::Intervention, String> {
        use crate::world::Intervention as I;
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
        if let Some(h) = &self.hint {
            let host = self
                .host
                .clone()
                .ok_or("hint needs `host = \"<host id>\"`")?;
            let kind = match h.as_str() {
                "icmp" | "invalid_spi" | "nat_changed" => h.clone(),
                other => {
                    return Err(format!(
                        "unknown hint {other:?}; use \"icmp\", \"invalid_spi\" or \"nat_changed\""
                    ));
                }
            };
            found.push(I::Hint { host, kind });
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
            0 => return Err("no action: set one of break_link, restore_link, interface_down, interface_up, move_nat, nat_reboot, nat_address_change, add_address, remove_address, move_clients, spoof_update, hint".into()),
            _ => return Err("more than one action: write one [[event]] per action".into()),
        };
        // The modifiers only go with the actions they modify.
        let links = self.break_link.is_some() || self.restore_link.is_some();
        let addresses = self.add_address.is_some() || self.remove_address.is_some();
        if self.direction.is_some() && !links {
            return Err("`direction` goes only with break_link or restore_link".into());
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

#[cfg(test)]
mod tests {
    use super::*;

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
