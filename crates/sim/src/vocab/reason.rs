//! Why a packet was lost: the reasons the trace records with each drop.
//!
//! A reason is typed so that code (tests, views) can ask what happened
//! without reading words; its [`Display`](fmt::Display) is the sentence the
//! charts print, and the serialised trace carries exactly that sentence.

use super::direction::Direction;
use super::duration::Dur;
use mobike_protocol::Time;
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use std::fmt;
use std::net::{IpAddr, SocketAddr};

/// Why a packet was dropped. Names are as the charts show them: links and
/// NATs by label (or id), interfaces as "host.interface".
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum DropReason {
    /// A host sent from an address none of its interfaces has.
    NoInterface { host: String, address: IpAddr },
    /// The interface ("host.interface") the packet left or reached is down.
    InterfaceDown { interface: String },
    /// The address was removed from the interface without the IKE daemon
    /// being told, so it still sends from it (or a peer still sends to it).
    AddressGone { address: IpAddr, interface: String },
    /// The link is down: both directions, or `only` the one the packet took.
    LinkBroken {
        link: String,
        only: Option<Direction>,
    },
    /// The link's random loss took it.
    LinkLoss { link: String },
    /// The link's direction broke while the packet was on its way.
    LinkBrokeInFlight { link: String },
    /// The internet knows no link that owns the destination.
    NoRoute { address: IpAddr },
    /// The internet's route between the link (by label) and the prefix is
    /// withdrawn.
    RouteWithdrawn { link: String, prefix: String },
    /// No host on the link (by id) has the destination address.
    NotOnLink { link: String, address: IpAddr },
    /// A UDP port no IKE daemon listens on.
    PortUnreachable { port: u16 },
    /// A NAT box refused it.
    Nat { nat: String, refusal: NatRefusal },
    /// A reason this build does not know, as text (a trace read back that
    /// another build wrote).
    Other(String),
}

/// Why a NAT box (RFC 4787) did not pass a packet.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum NatRefusal {
    /// A NAPT rewrites ports, and plain ESP has none (which is why NAT
    /// traversal encapsulates ESP in UDP, RFC 3948).
    PlainEsp,
    /// A packet from the inside to the NAT's own outside endpoint `to`, and
    /// the NAT does not hairpin (RFC 4787 §6).
    NoHairpin { to: SocketAddr },
    /// Every outside port of the range is taken.
    NoFreePort { first: u16, last: u16 },
    /// The destination is an inside address; from outside only the public
    /// one is reachable.
    Inside { address: IpAddr, public: IpAddr },
    /// No mapping has this outside port; `gone` tells why the last one on
    /// it went away, if there was one.
    NoMapping {
        port: u16,
        gone: Option<MappingGone>,
    },
    /// Address-dependent filtering (RFC 4787 §5): the inside never sent to
    /// this address.
    NotSentToAddress { from: IpAddr },
    /// Address-and-port-dependent filtering (RFC 4787 §5): the inside never
    /// sent to this endpoint.
    NotSentToEndpoint { from: SocketAddr },
}

/// How a NAT mapping ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MappingGone {
    /// Its timer ran out at `at` (RFC 4787 §4.3).
    Expired { internal: SocketAddr, at: Time },
    /// The NAT rebooted at `at` and lost it.
    Rebooted { internal: SocketAddr, at: Time },
    /// The NAT was configured anew at `at` and flushed it.
    Reconfigured { internal: SocketAddr, at: Time },
}

impl fmt::Display for MappingGone {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            MappingGone::Expired { internal, at } => {
                write!(f, "its mapping for {internal} expired at {}", Dur(*at))
            }
            MappingGone::Rebooted { internal, at } => write!(
                f,
                "its mapping for {internal} was lost when the NAT rebooted at {}",
                Dur(*at)
            ),
            MappingGone::Reconfigured { internal, at } => write!(
                f,
                "its mapping for {internal} was flushed when the NAT was configured anew at {}",
                Dur(*at)
            ),
        }
    }
}

impl NatRefusal {
    /// The sentence continues the NAT's name ("NAT x does not hairpin")
    /// rather than following a colon ("NAT x: no mapping for port 4500").
    fn continues_name(&self) -> bool {
        matches!(self, NatRefusal::PlainEsp | NatRefusal::NoHairpin { .. })
    }
}

impl fmt::Display for NatRefusal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            NatRefusal::PlainEsp => f.write_str("cannot translate plain ESP (no ports)"),
            NatRefusal::NoHairpin { to } => write!(
                f,
                "does not hairpin: {to} is its own outside address (RFC 4787 §6)"
            ),
            NatRefusal::NoFreePort { first, last } => {
                write!(f, "no free outside port (range {first}-{last})")
            }
            NatRefusal::Inside { address, public } => write!(
                f,
                "{address} is behind it; from outside only {public} is reachable"
            ),
            NatRefusal::NoMapping { port, gone: None } => write!(f, "no mapping for port {port}"),
            NatRefusal::NoMapping {
                port,
                gone: Some(g),
            } => write!(f, "no mapping for port {port} ({g})"),
            // The wording of the one behaviour the simulator had before
            // presets, kept so existing traces stay the same.
            NatRefusal::NotSentToAddress { from } => {
                write!(f, "filtered, the inside never sent to {from}")
            }
            NatRefusal::NotSentToEndpoint { from } => write!(
                f,
                "filtered (address-and-port-dependent), the inside never sent to {from}"
            ),
        }
    }
}

impl fmt::Display for DropReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            DropReason::NoInterface { host, address } => {
                write!(f, "{host} has no interface with address {address}")
            }
            DropReason::InterfaceDown { interface } => write!(f, "interface {interface} is down"),
            DropReason::AddressGone { address, interface } => {
                write!(f, "address {address} is no longer on {interface}")
            }
            DropReason::LinkBroken {
                link,
                only: Some(d),
            } => write!(f, "link {link} is broken ({d} only)"),
            DropReason::LinkBroken { link, only: None } => write!(f, "link {link} is broken"),
            DropReason::LinkLoss { link } => write!(f, "loss on link {link}"),
            DropReason::LinkBrokeInFlight { link } => {
                write!(f, "link {link} broke while the packet was on it")
            }
            DropReason::NoRoute { address } => write!(f, "no route to {address}"),
            DropReason::RouteWithdrawn { link, prefix } => {
                write!(f, "the route between link {link} and {prefix} is withdrawn")
            }
            DropReason::NotOnLink { link, address } => {
                write!(f, "nobody on link {link} has address {address}")
            }
            DropReason::PortUnreachable { port } => write!(f, "port {port} unreachable"),
            DropReason::Nat { nat, refusal } if refusal.continues_name() => {
                write!(f, "NAT {nat} {refusal}")
            }
            DropReason::Nat { nat, refusal } => write!(f, "NAT {nat}: {refusal}"),
            DropReason::Other(text) => f.write_str(text),
        }
    }
}

/// Reads back what [`MappingGone`]'s `Display` wrote.
fn parse_gone(t: &str) -> Option<MappingGone> {
    let rest = t.strip_prefix("its mapping for ")?;
    if let Some((internal, at)) = rest.split_once(" expired at ") {
        return Some(MappingGone::Expired {
            internal: internal.parse().ok()?,
            at: Dur::parse(at).ok()?.micros(),
        });
    }
    if let Some((internal, at)) =
        rest.split_once(" was flushed when the NAT was configured anew at ")
    {
        return Some(MappingGone::Reconfigured {
            internal: internal.parse().ok()?,
            at: Dur::parse(at).ok()?.micros(),
        });
    }
    let (internal, at) = rest.split_once(" was lost when the NAT rebooted at ")?;
    Some(MappingGone::Rebooted {
        internal: internal.parse().ok()?,
        at: Dur::parse(at).ok()?.micros(),
    })
}

/// Reads back what [`NatRefusal`]'s `Display` wrote after "NAT x: ".
fn parse_refusal_after_colon(t: &str) -> Option<NatRefusal> {
    if let Some(r) = t.strip_prefix("no free outside port (range ") {
        let (first, last) = r.strip_suffix(')')?.split_once('-')?;
        return Some(NatRefusal::NoFreePort {
            first: first.parse().ok()?,
            last: last.parse().ok()?,
        });
    }
    if let Some(r) = t.strip_prefix("no mapping for port ") {
        return Some(match r.split_once(" (") {
            Some((port, gone)) => NatRefusal::NoMapping {
                port: port.parse().ok()?,
                gone: Some(parse_gone(gone.strip_suffix(')')?)?),
            },
            None => NatRefusal::NoMapping {
                port: r.parse().ok()?,
                gone: None,
            },
        });
    }
    if let Some(from) = t.strip_prefix("filtered, the inside never sent to ") {
        return Some(NatRefusal::NotSentToAddress {
            from: from.parse().ok()?,
        });
    }
    if let Some(from) =
        t.strip_prefix("filtered (address-and-port-dependent), the inside never sent to ")
    {
        return Some(NatRefusal::NotSentToEndpoint {
            from: from.parse().ok()?,
        });
    }
    let (address, public) = t
        .strip_suffix(" is reachable")?
        .split_once(" is behind it; from outside only ")?;
    Some(NatRefusal::Inside {
        address: address.parse().ok()?,
        public: public.parse().ok()?,
    })
}

/// Reads back "NAT x …" (without "NAT ").
fn parse_nat(t: &str) -> Option<DropReason> {
    let nat = |n: &str, refusal| DropReason::Nat {
        nat: n.to_string(),
        refusal,
    };
    if let Some(n) = t.strip_suffix(" cannot translate plain ESP (no ports)") {
        return Some(nat(n, NatRefusal::PlainEsp));
    }
    if let Some((n, to)) = t
        .strip_suffix(" is its own outside address (RFC 4787 §6)")
        .and_then(|r| r.rsplit_once(" does not hairpin: "))
    {
        return Some(nat(
            n,
            NatRefusal::NoHairpin {
                to: to.parse().ok()?,
            },
        ));
    }
    // A label may hold ": " itself: try each place.
    t.match_indices(": ")
        .find_map(|(i, _)| parse_refusal_after_colon(&t[i + 2..]).map(|r| nat(&t[..i], r)))
}

fn parse_link(t: &str) -> Option<DropReason> {
    let link = |l: &str| l.to_string();
    if let Some(l) = t.strip_suffix(" broke while the packet was on it") {
        return Some(DropReason::LinkBrokeInFlight { link: link(l) });
    }
    for d in Direction::both() {
        if let Some(l) = t.strip_suffix(&format!(" is broken ({d} only)")) {
            return Some(DropReason::LinkBroken {
                link: link(l),
                only: Some(d),
            });
        }
    }
    let l = t.strip_suffix(" is broken")?;
    Some(DropReason::LinkBroken {
        link: link(l),
        only: None,
    })
}

fn parse_known(t: &str) -> Option<DropReason> {
    let prefixed = |p: &str, f: fn(&str) -> Option<DropReason>| t.strip_prefix(p).and_then(f);
    prefixed("NAT ", parse_nat)
        .or_else(|| prefixed("link ", parse_link))
        .or_else(|| {
            let i = t.strip_prefix("interface ")?.strip_suffix(" is down")?;
            Some(DropReason::InterfaceDown {
                interface: i.to_string(),
            })
        })
        .or_else(|| {
            let (a, i) = t
                .strip_prefix("address ")?
                .split_once(" is no longer on ")?;
            Some(DropReason::AddressGone {
                address: a.parse().ok()?,
                interface: i.to_string(),
            })
        })
        .or_else(|| {
            Some(DropReason::LinkLoss {
                link: t.strip_prefix("loss on link ")?.to_string(),
            })
        })
        .or_else(|| {
            Some(DropReason::NoRoute {
                address: t.strip_prefix("no route to ")?.parse().ok()?,
            })
        })
        .or_else(|| {
            let (l, p) = t
                .strip_prefix("the route between link ")?
                .strip_suffix(" is withdrawn")?
                .rsplit_once(" and ")?;
            Some(DropReason::RouteWithdrawn {
                link: l.to_string(),
                prefix: p.to_string(),
            })
        })
        .or_else(|| {
            let (l, a) = t
                .strip_prefix("nobody on link ")?
                .rsplit_once(" has address ")?;
            Some(DropReason::NotOnLink {
                link: l.to_string(),
                address: a.parse().ok()?,
            })
        })
        .or_else(|| {
            let p = t.strip_prefix("port ")?.strip_suffix(" unreachable")?;
            Some(DropReason::PortUnreachable {
                port: p.parse().ok()?,
            })
        })
        .or_else(|| {
            let (h, a) = t.rsplit_once(" has no interface with address ")?;
            Some(DropReason::NoInterface {
                host: h.to_string(),
                address: a.parse().ok()?,
            })
        })
}

impl DropReason {
    /// Reads a reason back from its text. Whatever the text, the reason
    /// displays as exactly that text again; one this build cannot tell
    /// apart becomes [`DropReason::Other`].
    pub fn parse(text: &str) -> DropReason {
        parse_known(text)
            .filter(|r| r.to_string() == text)
            .unwrap_or_else(|| DropReason::Other(text.to_string()))
    }
}

/// As its sentence, so a serialised trace reads as before reasons had types.
impl Serialize for DropReason {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.to_string())
    }
}

impl<'de> Deserialize<'de> for DropReason {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<DropReason, D::Error> {
        Ok(DropReason::parse(&String::deserialize(d)?))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_reason_reads_back_from_its_text() {
        let ep: SocketAddr = "10.0.0.2:4500".parse().unwrap();
        let ip: IpAddr = "198.51.100.1".parse().unwrap();
        let nat = |refusal| DropReason::Nat {
            nat: "CGN: carrier".into(),
            refusal,
        };
        let all = [
            DropReason::NoInterface {
                host: "laptop".into(),
                address: ip,
            },
            DropReason::InterfaceDown {
                interface: "laptop.wlan0".into(),
            },
            DropReason::AddressGone {
                address: ip,
                interface: "laptop.wlan0".into(),
            },
            DropReason::LinkBroken {
                link: "Wi-Fi".into(),
                only: None,
            },
            DropReason::LinkBroken {
                link: "Wi-Fi".into(),
                only: Some(Direction::Down),
            },
            DropReason::LinkLoss {
                link: "Wi-Fi".into(),
            },
            DropReason::LinkBrokeInFlight { link: "LTE".into() },
            DropReason::NoRoute { address: ip },
            DropReason::RouteWithdrawn {
                link: "Home and office".into(),
                prefix: "203.0.113.0/24".into(),
            },
            DropReason::NotOnLink {
                link: "lte".into(),
                address: ip,
            },
            DropReason::PortUnreachable { port: 9 },
            nat(NatRefusal::PlainEsp),
            nat(NatRefusal::NoHairpin { to: ep }),
            nat(NatRefusal::NoFreePort {
                first: 5000,
                last: 5002,
            }),
            nat(NatRefusal::Inside {
                address: ep.ip(),
                public: ip,
            }),
            nat(NatRefusal::NoMapping {
                port: 4500,
                gone: None,
            }),
            nat(NatRefusal::NoMapping {
                port: 4500,
                gone: Some(MappingGone::Expired {
                    internal: ep,
                    at: 90_500_000,
                }),
            }),
            nat(NatRefusal::NoMapping {
                port: 4500,
                gone: Some(MappingGone::Rebooted {
                    internal: ep,
                    at: 12_000_000,
                }),
            }),
            nat(NatRefusal::NotSentToAddress { from: ip }),
            nat(NatRefusal::NotSentToEndpoint { from: ep }),
            DropReason::Other("a reason from elsewhere".into()),
        ];
        for r in all {
            let text = r.to_string();
            assert_eq!(DropReason::parse(&text), r, "{text}");
            let json = serde_json::to_string(&r).unwrap();
            assert_eq!(json, serde_json::to_string(&text).unwrap());
            assert_eq!(serde_json::from_str::<DropReason>(&json).unwrap(), r);
        }
    }

    #[test]
    fn texts_are_the_ones_traces_always_had() {
        let r = DropReason::Nat {
            nat: "home".into(),
            refusal: NatRefusal::NoMapping {
                port: 4500,
                gone: Some(MappingGone::Rebooted {
                    internal: "10.0.0.2:4500".parse().unwrap(),
                    at: 12_000_000,
                }),
            },
        };
        assert_eq!(
            r.to_string(),
            "NAT home: no mapping for port 4500 (its mapping for 10.0.0.2:4500 was lost when the NAT rebooted at 12s)"
        );
        let r = DropReason::LinkBroken {
            link: "wifi".into(),
            only: Some(Direction::Up),
        };
        assert_eq!(r.to_string(), "link wifi is broken (uplink only)");
    }
}
