//! Interventions: the changes to a running network that the timeline of a
//! scenario or the user makes. Share links and the JSON export carry their
//! serde form.

use super::direction::Direction;
use super::duration::Dur;
use super::nat::NatChanges;
use serde::{Deserialize, Serialize};
use std::fmt;
use std::net::{IpAddr, SocketAddr};

/// A change to the network, by the timeline or by the user.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "do", rename_all = "snake_case", deny_unknown_fields)]
pub enum Intervention {
    /// Packets on the link vanish from now on, both ways; nobody is told.
    BreakLink { link: String },
    /// The link works again, both ways.
    RestoreLink { link: String },
    /// The internet's route between a link and a prefix is withdrawn
    /// (`up: false`) or comes back: packets from the link to the prefix, and
    /// from the prefix to the link, vanish in the middle of the network
    /// while both ends' links work.
    SetRoute {
        link: String,
        prefix: mobike_protocol::Subnet,
        up: bool,
    },
    /// One direction of a link fails (`up: false`) or recovers: a one-way
    /// failure. [`Direction::Up`] is from the host towards the internet.
    SetLinkDirection {
        link: String,
        direction: Direction,
        up: bool,
    },
    /// The NAT reboots: every mapping is lost (RFC 4555 §3.8's case).
    RebootNat { nat: String },
    /// The NAT's public address changes; its mappings keep their ports.
    ChangeNatAddress { nat: String, address: IpAddr },
    /// An interface gains an address. `announce`: the OS tells the IKE
    /// daemon at once; otherwise the address works but the daemon does
    /// not know it.
    AddAddress {
        host: String,
        interface: String,
        address: IpAddr,
        announce: bool,
    },
    /// An interface loses an address (`None`: the one the scenario gave
    /// it). Unannounced, the daemon keeps using it and its packets vanish.
    RemoveAddress {
        host: String,
        interface: String,
        address: Option<IpAddr>,
        announce: bool,
    },
    /// The interface goes down or up and the OS tells the IKE daemon.
    SetInterface {
        host: String,
        interface: String,
        up: bool,
    },
    /// Put a NAT box on a link (it then translates that link's traffic), or
    /// take it out of every path with `None`.
    PlaceNat { nat: String, link: Option<String> },
    /// A cluster's balancer moves clients to another of its addresses.
    MoveClients {
        host: String,
        to: IpAddr,
        by: MoveBy,
        count: Option<u32>,
        from: Option<IpAddr>,
    },
    /// An attacker sends a forged or replayed UPDATE_SA_ADDRESSES to the
    /// target's newest IKE SA, from the attacker's own address.
    SpoofUpdate {
        attacker: String,
        target: String,
        replay: bool,
    },
    /// A lower-layer hint to a host's IKE daemon (RFC 4555 §3.5, §3.8).
    Hint { host: String, kind: HintKind },
    /// A host's IKE daemon checks the liveness of its IKE SAs now, as its
    /// timer would (RFC 7296 §1.4, RFC 4555 §3.5): what an operator's
    /// command does on a real system.
    CheckLiveness { host: String },
    /// A host's IKE daemon rekeys the Child SA of each of its IKE SAs now
    /// with CREATE_CHILD_SA, as its lifetime would (RFC 7296 §1.3.3):
    /// `swanctl --rekey --child` on a real system.
    RekeyChild { host: String },
    /// A host's IKE daemon rekeys each of its IKE SAs now (RFC 7296
    /// §1.3.2): `swanctl --rekey --ike` on a real system.
    RekeyIke { host: String },
    /// A link's delay, jitter, loss or duplication changes (the ones
    /// given; packets already on their way keep theirs).
    SetLink {
        link: String,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        delay: Option<Dur>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        jitter: Option<Dur>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        loss: Option<f64>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        duplicate: Option<f64>,
    },
    /// A NAT box is configured anew (RFC 4787 behaviours): its mappings are
    /// flushed, as a reconfigured box does.
    ConfigureNat { nat: String, changes: NatChanges },
}

/// What a lower layer tells an IKE daemon: the protocol's own hint kinds.
pub use mobike_protocol::HintKind;

/// How a balancer moves a client (reference §5.3).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum MoveBy {
    /// Responder MOBIKE: an address list holding only the new address,
    /// sent from it (reference §6.2 S-R1).
    #[default]
    Mobike,
    /// RFC 5685 REDIRECT in an INFORMATIONAL: the client builds a new IKE SA.
    Redirect,
}

/// What a description calls the links, NATs and hosts an intervention
/// names: their ids ([`Ids`]), or a scenario's labels (the trace's words).
pub trait Names {
    /// What to call the link with this id.
    fn link(&self, id: &str) -> String;
    /// What to call the NAT with this id.
    fn nat(&self, id: &str) -> String;
    /// What to call the host with this id.
    fn host(&self, id: &str) -> String;
}

/// Names things by their ids.
#[derive(Clone, Copy, Debug, Default)]
pub struct Ids;

impl Names for Ids {
    fn link(&self, id: &str) -> String {
        id.to_string()
    }
    fn nat(&self, id: &str) -> String {
        id.to_string()
    }
    fn host(&self, id: &str) -> String {
        id.to_string()
    }
}

/// What applying an intervention came to, where its words say so: known
/// only once the world has applied it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Effect {
    /// A NAT reboot lost this many mappings.
    MappingsLost(usize),
    /// `remove_address` without an address removed this one.
    Removed(IpAddr),
    /// The balancer moved this many clients.
    ClientsMoved(usize),
    /// The attacker's update went from this address to this endpoint.
    Spoofed { from: IpAddr, to: SocketAddr },
    /// The attacker had nothing to send: no IKE SA of the target went by
    /// her (a forgery), or no update of it (a replay).
    NothingSeen,
}

/// An intervention in words, by [`Intervention::describe`]: "break link
/// Wi-Fi", "NAT CGN reboots: 2 mappings lost".
pub struct Description<'a> {
    action: &'a Intervention,
    names: &'a dyn Names,
    effect: Option<Effect>,
}

impl Intervention {
    /// This intervention in words, naming things as `names` does. The
    /// trace records it with the scenario's labels and the [`Effect`]; a
    /// share link's timeline marks use it with ids and no effect.
    pub fn describe<'a>(&'a self, names: &'a dyn Names) -> Description<'a> {
        Description {
            action: self,
            names,
            effect: None,
        }
    }
}

impl Description<'_> {
    /// The words with what applying it came to.
    pub fn with(mut self, effect: Effect) -> Self {
        self.effect = Some(effect);
        self
    }
}

/// A probability as a percentage: "10 %", "0.5 %".
fn percent(p: f64) -> String {
    let v = p * 100.0;
    if (v - v.round()).abs() < 1e-9 {
        format!("{} %", v.round())
    } else {
        format!("{v} %")
    }
}

/// "s" for a count other than one.
fn plural(n: usize) -> &'static str {
    if n == 1 { "" } else { "s" }
}

impl fmt::Display for Description<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let n = self.names;
        let verb = |up: bool| if up { "restore" } else { "break" };
        let untold = |announce: bool| {
            if announce {
                ""
            } else {
                " (the IKE daemon is not told)"
            }
        };
        match self.action {
            Intervention::BreakLink { link } => write!(f, "break link {}", n.link(link)),
            Intervention::RestoreLink { link } => write!(f, "restore link {}", n.link(link)),
            Intervention::SetRoute { link, prefix, up } => write!(
                f,
                "the route between link {} and {prefix} is {}",
                n.link(link),
                if *up { "restored" } else { "withdrawn" }
            ),
            Intervention::SetLinkDirection {
                link,
                direction,
                up,
            } => write!(f, "{} link {}, {direction} only", verb(*up), n.link(link)),
            Intervention::RebootNat { nat } => {
                write!(f, "NAT {} reboots", n.nat(nat))?;
                match self.effect {
                    Some(Effect::MappingsLost(k)) => write!(f, ": {k} mapping{} lost", plural(k)),
                    _ => Ok(()),
                }
            }
            Intervention::ChangeNatAddress { nat, address } => {
                write!(f, "NAT {}'s public address becomes {address}", n.nat(nat))
            }
            // Interfaces are written "host.interface", by id, as files do.
            Intervention::AddAddress {
                host,
                interface,
                address,
                announce,
            } => write!(f, "{host}.{interface} gains {address}{}", untold(*announce)),
            Intervention::RemoveAddress {
                host,
                interface,
                address,
                announce,
            } => {
                let removed = match self.effect {
                    Some(Effect::Removed(a)) => Some(a),
                    _ => *address,
                };
                match removed {
                    Some(a) => write!(f, "{host}.{interface} loses {a}")?,
                    None => write!(f, "{host}.{interface} loses its address")?,
                }
                f.write_str(untold(*announce))
            }
            Intervention::SetInterface {
                host,
                interface,
                up,
            } => write!(f, "{host}.{interface} {}", if *up { "up" } else { "down" }),
            Intervention::PlaceNat {
                nat,
                link: Some(link),
            } => write!(f, "put NAT {} on link {}", n.nat(nat), n.link(link)),
            Intervention::PlaceNat { nat, link: None } => {
                write!(f, "take NAT {} out of the path", n.nat(nat))
            }
            Intervention::MoveClients {
                host,
                to,
                by,
                count,
                ..
            } => {
                let how = match by {
                    MoveBy::Mobike => "responder MOBIKE",
                    MoveBy::Redirect => "Redirect",
                };
                write!(f, "{}: the balancer moves ", n.host(host))?;
                match (self.effect, count) {
                    (Some(Effect::ClientsMoved(k)), _) => write!(f, "{k} client{}", plural(k))?,
                    (_, Some(c)) => write!(f, "up to {c} client{}", plural(*c as usize))?,
                    (_, None) => f.write_str("clients")?,
                }
                write!(f, " to {to} by {how}")
            }
            Intervention::SpoofUpdate {
                attacker,
                target,
                replay,
            } => {
                let what = if *replay { "a replayed" } else { "a forged" };
                write!(f, "{} sends {what} UPDATE_SA_ADDRESSES ", n.host(attacker))?;
                match self.effect {
                    Some(Effect::Spoofed { from, to }) => write!(f, "from {from} to {to}"),
                    Some(Effect::NothingSeen) if *replay => write!(
                        f,
                        "to {}: none sent, she has captured no update of its IKE SA",
                        n.host(target)
                    ),
                    Some(Effect::NothingSeen) => write!(
                        f,
                        "to {}: none sent, she has seen no IKE SA of it go by",
                        n.host(target)
                    ),
                    _ => write!(f, "to {}", n.host(target)),
                }
            }
            Intervention::SetLink {
                link,
                delay,
                jitter,
                loss,
                duplicate,
            } => {
                write!(f, "link {}:", n.link(link))?;
                let mut sep = " ";
                let mut item = |f: &mut fmt::Formatter<'_>, text: String| {
                    let r = write!(f, "{sep}{text}");
                    sep = ", ";
                    r
                };
                if let Some(d) = delay {
                    item(f, format!("delay {d}"))?;
                }
                if let Some(j) = jitter {
                    item(f, format!("jitter {j}"))?;
                }
                if let Some(l) = loss {
                    item(f, format!("loss {}", percent(*l)))?;
                }
                if let Some(d) = duplicate {
                    item(f, format!("duplication {}", percent(*d)))?;
                }
                if sep == " " {
                    f.write_str(" unchanged")?;
                }
                Ok(())
            }
            Intervention::ConfigureNat { nat, changes } => {
                write!(f, "NAT {} is configured anew", n.nat(nat))?;
                let c = changes;
                let mut parts = Vec::new();
                if let Some(p) = c.preset {
                    parts.push(format!("preset {}", super::nat::preset_name(p)));
                }
                if let Some(m) = c.mapping {
                    parts.push(m.short().to_string());
                }
                if let Some(x) = c.filtering {
                    parts.push(x.short().to_string());
                }
                if let Some(t) = c.mapping_timeout {
                    parts.push(format!("mappings live {t}"));
                }
                for (on, yes, no) in [
                    (c.inbound_refresh, "inbound refresh", "no inbound refresh"),
                    (
                        c.port_preservation,
                        "port preservation",
                        "no port preservation",
                    ),
                    (c.hairpinning, "hairpinning", "no hairpinning"),
                ] {
                    if let Some(v) = on {
                        parts.push(if v { yes } else { no }.to_string());
                    }
                }
                if let Some([lo, hi]) = c.port_range {
                    parts.push(format!("ports {lo}-{hi}"));
                }
                if !parts.is_empty() {
                    write!(f, " ({})", parts.join(", "))?;
                }
                f.write_str(": its mappings are flushed")
            }
            Intervention::Hint { host, kind } => {
                let what = match kind {
                    HintKind::Icmp => "an ICMP error",
                    HintKind::InvalidSpi => "an INVALID_SPI report",
                    HintKind::NatChanged => "a hint that its NAT mapping may have changed",
                };
                write!(f, "{} gets {what}", n.host(host))
            }
            Intervention::CheckLiveness { host } => {
                write!(f, "{} checks its IKE SA's liveness now", n.host(host))
            }
            Intervention::RekeyChild { host } => {
                write!(f, "{} rekeys its Child SA now", n.host(host))
            }
            Intervention::RekeyIke { host } => {
                write!(f, "{} rekeys its IKE SA now", n.host(host))
            }
        }
    }
}

/// The words by ids, without effects: "break link wifi".
impl fmt::Display for Intervention {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.describe(&Ids).fmt(f)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Labels as a scenario gives them.
    struct Labels;

    impl Names for Labels {
        fn link(&self, id: &str) -> String {
            format!("<{id}>")
        }
        fn nat(&self, id: &str) -> String {
            id.to_uppercase()
        }
        fn host(&self, id: &str) -> String {
            format!("{id}!")
        }
    }

    /// The words of each intervention in the trace (labels, effects) and
    /// on a share link's marks (ids): the trace's are those it always had.
    #[test]
    fn words_with_labels_and_effects() {
        let ip: IpAddr = "192.0.2.7".parse().unwrap();
        let to: IpAddr = "203.0.113.2".parse().unwrap();
        let cases = [
            (
                Intervention::BreakLink {
                    link: "wifi".into(),
                },
                None,
                "break link <wifi>",
                "break link wifi",
            ),
            (
                Intervention::SetLinkDirection {
                    link: "wifi".into(),
                    direction: Direction::Down,
                    up: true,
                },
                None,
                "restore link <wifi>, downlink only",
                "restore link wifi, downlink only",
            ),
            (
                Intervention::RebootNat { nat: "cgn".into() },
                Some(Effect::MappingsLost(1)),
                "NAT CGN reboots: 1 mapping lost",
                "NAT cgn reboots",
            ),
            (
                Intervention::ChangeNatAddress {
                    nat: "cgn".into(),
                    address: ip,
                },
                None,
                "NAT CGN's public address becomes 192.0.2.7",
                "NAT cgn's public address becomes 192.0.2.7",
            ),
            (
                Intervention::AddAddress {
                    host: "laptop".into(),
                    interface: "wlan0".into(),
                    address: ip,
                    announce: false,
                },
                None,
                "laptop.wlan0 gains 192.0.2.7 (the IKE daemon is not told)",
                "laptop.wlan0 gains 192.0.2.7 (the IKE daemon is not told)",
            ),
            (
                Intervention::RemoveAddress {
                    host: "laptop".into(),
                    interface: "wlan0".into(),
                    address: None,
                    announce: true,
                },
                Some(Effect::Removed(ip)),
                "laptop.wlan0 loses 192.0.2.7",
                "laptop.wlan0 loses its address",
            ),
            (
                Intervention::SetInterface {
                    host: "laptop".into(),
                    interface: "wlan0".into(),
                    up: false,
                },
                None,
                "laptop.wlan0 down",
                "laptop.wlan0 down",
            ),
            (
                Intervention::PlaceNat {
                    nat: "cgn".into(),
                    link: Some("lte".into()),
                },
                None,
                "put NAT CGN on link <lte>",
                "put NAT cgn on link lte",
            ),
            (
                Intervention::PlaceNat {
                    nat: "cgn".into(),
                    link: None,
                },
                None,
                "take NAT CGN out of the path",
                "take NAT cgn out of the path",
            ),
            (
                Intervention::MoveClients {
                    host: "cluster".into(),
                    to,
                    by: MoveBy::Redirect,
                    count: Some(3),
                    from: None,
                },
                Some(Effect::ClientsMoved(2)),
                "cluster!: the balancer moves 2 clients to 203.0.113.2 by Redirect",
                "cluster: the balancer moves up to 3 clients to 203.0.113.2 by Redirect",
            ),
            (
                Intervention::SpoofUpdate {
                    attacker: "mallory".into(),
                    target: "gateway".into(),
                    replay: true,
                },
                Some(Effect::Spoofed {
                    from: ip,
                    to: "203.0.113.10:4500".parse().unwrap(),
                }),
                "mallory! sends a replayed UPDATE_SA_ADDRESSES from 192.0.2.7 to 203.0.113.10:4500",
                "mallory sends a replayed UPDATE_SA_ADDRESSES to gateway",
            ),
            (
                Intervention::Hint {
                    host: "laptop".into(),
                    kind: HintKind::NatChanged,
                },
                None,
                "laptop! gets a hint that its NAT mapping may have changed",
                "laptop gets a hint that its NAT mapping may have changed",
            ),
        ];
        for (action, effect, traced, marked) in cases {
            let words = action.describe(&Labels);
            let words = match effect {
                Some(e) => words.with(e).to_string(),
                None => words.to_string(),
            };
            assert_eq!(words, traced);
            assert_eq!(action.to_string(), marked);
        }
    }
}
