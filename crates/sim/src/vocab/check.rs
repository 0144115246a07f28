//! The one check of an intervention against a scenario, used by the
//! scenario file reader (its `[[event]]`s), by share links (the user's
//! interventions they carry) and by anyone applying interventions to a
//! world: every name must exist, an address may belong to only one
//! interface or NAT, a cluster move must go to one of the cluster's
//! addresses.

use super::intervention::Intervention;
use super::spec::Scenario;
use mobike_protocol::Role;
use std::collections::HashMap;
use std::fmt;
use std::net::IpAddr;

/// Why an intervention does not fit its scenario. Names are given as the
/// intervention wrote them; the `known` lists are what it could have said.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum InterventionError {
    /// No `[[link]]` has this id.
    UnknownLink { link: String, known: Vec<String> },
    /// No `[[nat]]` has this id.
    UnknownNat { nat: String, known: Vec<String> },
    /// No host has this id.
    UnknownHost { host: String },
    /// The host has no interface of this name.
    UnknownInterface {
        host: String,
        interface: String,
        known: Vec<String>,
    },
    /// An address to remove that no interface or NAT has or had.
    UnknownAddress { address: IpAddr },
    /// Clients are moved by a cluster's balancer: a responder.
    NotAResponder { host: String },
    /// A cluster moves its clients only to one of its own addresses.
    NotAnAddressOf { host: String, address: IpAddr },
    /// The address already belongs to another interface or NAT (named
    /// `host.interface`, or by the NAT's id).
    AddressInUse { address: IpAddr, owner: String },
    /// A link's loss or duplication must be a probability (0 to 1).
    NotAProbability { what: &'static str, value: String },
    /// A NAT's port range must be [first, last] with 0 < first <= last.
    BadPortRange { first: u16, last: u16 },
}

/// At most 40 characters of a name an intervention gave (a share link
/// may carry anything).
struct Short<'a>(&'a str);

impl fmt::Display for Short<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let s: String = self.0.chars().take(40).collect();
        write!(f, "{s:?}")
    }
}

/// What there is instead: " (links: wifi, lte)", or that there is none.
fn known(f: &mut fmt::Formatter<'_>, what: &str, names: &[String]) -> fmt::Result {
    if names.is_empty() {
        write!(f, " (the scenario has no {what})")
    } else {
        write!(f, " ({what}: {})", names.join(", "))
    }
}

impl fmt::Display for InterventionError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            InterventionError::UnknownLink { link, known: k } => {
                write!(f, "unknown link {}", Short(link))?;
                known(f, "links", k)
            }
            InterventionError::UnknownNat { nat, known: k } => {
                write!(f, "unknown NAT {}", Short(nat))?;
                known(f, "NATs", k)
            }
            InterventionError::UnknownHost { host } => write!(f, "unknown host {}", Short(host)),
            InterventionError::UnknownInterface {
                host,
                interface,
                known: k,
            } => {
                write!(
                    f,
                    "host {} has no interface {}",
                    Short(host),
                    Short(interface)
                )?;
                known(f, "interfaces", k)
            }
            InterventionError::UnknownAddress { address } => write!(
                f,
                "cannot remove {address}: it is not an address of the scenario"
            ),
            InterventionError::NotAResponder { host } => write!(
                f,
                "{} is not a responder, so it has no clients to move",
                Short(host)
            ),
            InterventionError::NotAnAddressOf { host, address } => write!(
                f,
                "cannot move clients to {address}: it is not an address of {}",
                Short(host)
            ),
            InterventionError::AddressInUse { address, owner } => write!(
                f,
                "address {address} is used twice: {} has it (remove it there first)",
                Short(owner)
            ),
            InterventionError::NotAProbability { what, value } => write!(
                f,
                "{what} = {value} is not a probability (write 0.0 to 1.0, e.g. 0.1 for 10 %)"
            ),
            InterventionError::BadPortRange { first, last } => write!(
                f,
                "port_range [{first}, {last}] must be [first, last] with 0 < first <= last"
            ),
        }
    }
}

impl std::error::Error for InterventionError {}

/// Who an address belongs to.
#[derive(Clone, Debug, PartialEq, Eq)]
enum Owner {
    /// (host, interface) by id.
    Interface(String, String),
    Nat(String),
}

/// Checks interventions one after another against a scenario, remembering
/// the addresses earlier ones added (so a later one may remove them).
#[derive(Clone, Debug)]
pub struct InterventionCheck<'a> {
    scenario: &'a Scenario,
    owners: HashMap<IpAddr, Owner>,
    /// Addresses removed from their owner: free to be added again, to the
    /// same interface or another one, and still known to a later removal.
    released: std::collections::HashSet<IpAddr>,
    /// The scenario's timeline events in time order, for
    /// [`InterventionCheck::check_at`]; `next` is the first not yet seen.
    timeline: Vec<(mobike_protocol::Time, Intervention)>,
    next: usize,
}

impl<'a> InterventionCheck<'a> {
    /// Knows the addresses of the scenario's interfaces and NATs.
    pub fn new(scenario: &'a Scenario) -> InterventionCheck<'a> {
        let mut owners = HashMap::new();
        for h in &scenario.hosts {
            for i in &h.interfaces {
                let owner = Owner::Interface(h.id.clone(), i.name.clone());
                owners.entry(i.address).or_insert(owner);
            }
        }
        for n in &scenario.nats {
            owners
                .entry(n.public_address)
                .or_insert(Owner::Nat(n.id.clone()));
        }
        InterventionCheck {
            scenario,
            owners,
            released: Default::default(),
            timeline: Vec::new(),
            next: 0,
        }
    }

    /// Checks the user's interventions among the scenario's own timeline
    /// events (checked when the file was read), each at its time with
    /// [`InterventionCheck::check_at`]: an address the timeline adds before
    /// then is one they may remove, one it removes before then is free.
    pub fn with_timeline(scenario: &'a Scenario) -> InterventionCheck<'a> {
        let mut check = InterventionCheck::new(scenario);
        let mut timeline: Vec<_> = scenario
            .timeline
            .iter()
            .filter_map(|e| Some((e.at.micros(), e.action().ok()?)))
            .collect();
        // Stable: events of one moment in the file's order.
        timeline.sort_by_key(|(t, _)| *t);
        check.timeline = timeline;
        check
    }

    /// Checks `action` at time `t`, after every timeline event up to and
    /// including `t` (a user's change lands at the end of its instant).
    /// Calls come in time order.
    pub fn check_at(
        &mut self,
        t: mobike_protocol::Time,
        action: &Intervention,
    ) -> Result<(), InterventionError> {
        while let Some((at, e)) = self.timeline.get(self.next).cloned()
            && at <= t
        {
            self.next += 1;
            let _ = self.check(&e);
        }
        self.check(action)
    }

    fn link(&self, id: &str) -> Result<(), InterventionError> {
        if self.scenario.links.iter().any(|l| l.id == id) {
            return Ok(());
        }
        Err(InterventionError::UnknownLink {
            link: id.to_string(),
            known: self.scenario.links.iter().map(|l| l.id.clone()).collect(),
        })
    }

    fn nat(&self, id: &str) -> Result<(), InterventionError> {
        if self.scenario.nats.iter().any(|n| n.id == id) {
            return Ok(());
        }
        Err(InterventionError::UnknownNat {
            nat: id.to_string(),
            known: self.scenario.nats.iter().map(|n| n.id.clone()).collect(),
        })
    }

    fn host(&self, id: &str) -> Result<&'a super::spec::HostSpec, InterventionError> {
        self.scenario
            .hosts
            .iter()
            .find(|h| h.id == id)
            .ok_or_else(|| InterventionError::UnknownHost {
                host: id.to_string(),
            })
    }

    fn interface(
        &self,
        host: &str,
        interface: &str,
    ) -> Result<&'a super::spec::InterfaceSpec, InterventionError> {
        let h = self.host(host)?;
        if let Some(i) = h.interfaces.iter().find(|i| i.name == interface) {
            return Ok(i);
        }
        Err(InterventionError::UnknownInterface {
            host: host.to_string(),
            interface: interface.to_string(),
            known: h.interfaces.iter().map(|i| i.name.clone()).collect(),
        })
    }

    /// `address` becomes `owner`'s: refused if something else has it.
    fn claim(&mut self, address: IpAddr, owner: Owner) -> Result<(), InterventionError> {
        match self.owners.get(&address) {
            Some(o) if *o != owner => Err(InterventionError::AddressInUse {
                address,
                owner: match o {
                    Owner::Interface(h, i) => format!("{h}.{i}"),
                    Owner::Nat(n) => format!("NAT {n}"),
                },
            }),
            Some(_) => Ok(()),
            None => {
                self.owners.insert(address, owner);
                Ok(())
            }
        }
    }

    /// Checks `action`; if it adds an address, later checks know it.
    pub fn check(&mut self, action: &Intervention) -> Result<(), InterventionError> {
        match action {
            Intervention::BreakLink { link }
            | Intervention::RestoreLink { link }
            | Intervention::SetRoute { link, .. }
            | Intervention::SetLinkDirection { link, .. } => self.link(link),
            Intervention::RebootNat { nat } => self.nat(nat),
            Intervention::ChangeNatAddress { nat, address } => {
                self.nat(nat)?;
                self.claim(*address, Owner::Nat(nat.clone()))
            }
            Intervention::PlaceNat { nat, link } => {
                self.nat(nat)?;
                link.as_deref().map_or(Ok(()), |l| self.link(l))
            }
            Intervention::SetInterface {
                host, interface, ..
            } => self.interface(host, interface).map(|_| ()),
            Intervention::AddAddress {
                host,
                interface,
                address,
                ..
            } => {
                self.interface(host, interface)?;
                self.claim(*address, Owner::Interface(host.clone(), interface.clone()))
            }
            Intervention::RemoveAddress {
                host,
                interface,
                address,
                ..
            } => {
                // Without an address: the one the scenario gave it.
                let a = address.unwrap_or(self.interface(host, interface)?.address);
                let owner = Owner::Interface(host.clone(), interface.clone());
                match self.owners.get(&a) {
                    // Its own address goes: it may be added again later.
                    Some(o) if *o == owner => {
                        self.owners.remove(&a);
                        self.released.insert(a);
                        Ok(())
                    }
                    Some(_) => Ok(()),
                    None if self.released.contains(&a) || address.is_none() => Ok(()),
                    None => Err(InterventionError::UnknownAddress { address: a }),
                }
            }
            Intervention::MoveClients { host, to, .. } => {
                let h = self.host(host)?;
                if h.role != Role::Responder {
                    return Err(InterventionError::NotAResponder { host: host.clone() });
                }
                if !h.interfaces.iter().any(|i| i.address == *to) {
                    return Err(InterventionError::NotAnAddressOf {
                        host: host.clone(),
                        address: *to,
                    });
                }
                Ok(())
            }
            Intervention::SpoofUpdate {
                attacker, target, ..
            } => {
                self.host(attacker)?;
                self.host(target).map(|_| ())
            }
            Intervention::Hint { host, .. }
            | Intervention::CheckLiveness { host }
            | Intervention::RekeyChild { host }
            | Intervention::RekeyIke { host } => self.host(host).map(|_| ()),
            Intervention::SetLink {
                link,
                loss,
                duplicate,
                ..
            } => {
                self.link(link)?;
                for (what, p) in [("loss", loss), ("duplicate", duplicate)] {
                    if let Some(p) = p
                        && !(0.0..=1.0).contains(p)
                    {
                        let value = p.to_string();
                        return Err(InterventionError::NotAProbability { what, value });
                    }
                }
                Ok(())
            }
            Intervention::ConfigureNat { nat, changes } => {
                self.nat(nat)?;
                match changes.port_range {
                    Some([first, last]) if !changes.port_range_ok() => {
                        Err(InterventionError::BadPortRange { first, last })
                    }
                    _ => Ok(()),
                }
            }
        }
    }
}

impl Intervention {
    /// Checks this intervention alone against `scenario` (for several in a
    /// row, where one may add an address another removes, use an
    /// [`InterventionCheck`]).
    pub fn validate(&self, scenario: &Scenario) -> Result<(), InterventionError> {
        InterventionCheck::new(scenario).check(self)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const TWO_HOSTS: &str = r#"
version = 1
title = "t"
[[host]]
id = "laptop"
pos = [0, 0]
role = "initiator"
peer = "203.0.113.1"
[[host.interface]]
name = "wlan0"
address = "192.0.2.1"
link = "wifi"
[[host]]
id = "gateway"
pos = [1, 1]
role = "responder"
[[host.interface]]
name = "eth0"
address = "203.0.113.1"
link = "uplink"
[[host.interface]]
name = "eth1"
address = "203.0.113.2"
link = "uplink"
[[link]]
id = "wifi"
delay = "5ms"
[[link]]
id = "uplink"
delay = "5ms"
"#;

    fn scenario() -> Scenario {
        toml::from_str(TWO_HOSTS).unwrap()
    }

    #[test]
    fn unknown_names_say_what_there_is() {
        let s = scenario();
        let e = Intervention::BreakLink { link: "lte".into() }.validate(&s);
        assert_eq!(
            e.unwrap_err().to_string(),
            "unknown link \"lte\" (links: wifi, uplink)"
        );
        let e = Intervention::RebootNat { nat: "cgn".into() }.validate(&s);
        assert_eq!(
            e.unwrap_err().to_string(),
            "unknown NAT \"cgn\" (the scenario has no NATs)"
        );
        let e = Intervention::SetInterface {
            host: "laptop".into(),
            interface: "eth9".into(),
            up: false,
        }
        .validate(&s);
        assert_eq!(
            e.unwrap_err().to_string(),
            "host \"laptop\" has no interface \"eth9\" (interfaces: wlan0)"
        );
        let long = "x".repeat(500);
        let e = Intervention::Hint {
            host: long,
            kind: crate::vocab::intervention::HintKind::Icmp,
        }
        .validate(&s);
        assert_eq!(
            e.unwrap_err().to_string(),
            format!("unknown host {:?}", "x".repeat(40))
        );
    }

    #[test]
    fn addresses_belong_to_one_owner_and_may_be_removed_once_added() {
        let s = scenario();
        let mut check = InterventionCheck::new(&s);
        let new: IpAddr = "192.0.2.9".parse().unwrap();
        let remove = Intervention::RemoveAddress {
            host: "laptop".into(),
            interface: "wlan0".into(),
            address: Some(new),
            announce: true,
        };
        assert_eq!(
            check.check(&remove),
            Err(InterventionError::UnknownAddress { address: new })
        );
        let add = |host: &str, interface: &str, address: IpAddr| Intervention::AddAddress {
            host: host.into(),
            interface: interface.into(),
            address,
            announce: true,
        };
        assert_eq!(check.check(&add("laptop", "wlan0", new)), Ok(()));
        assert_eq!(check.check(&remove), Ok(()));
        // Again on the same interface: fine; on another: taken while the
        // first has it, free once it lost it again.
        assert_eq!(check.check(&add("laptop", "wlan0", new)), Ok(()));
        assert_eq!(
            check.check(&add("gateway", "eth0", new)),
            Err(InterventionError::AddressInUse {
                address: new,
                owner: "laptop.wlan0".into()
            })
        );
        assert_eq!(check.check(&remove), Ok(()));
        assert_eq!(check.check(&add("gateway", "eth0", new)), Ok(()));
        assert_eq!(check.check(&remove), Ok(()), "had it: not unknown");
    }

    #[test]
    fn clients_move_only_from_a_responder_to_its_own_address() {
        let s = scenario();
        let go = |host: &str, to: &str| Intervention::MoveClients {
            host: host.into(),
            to: to.parse().unwrap(),
            by: Default::default(),
            count: None,
            from: None,
        };
        assert_eq!(go("gateway", "203.0.113.2").validate(&s), Ok(()));
        assert_eq!(
            go("gateway", "198.51.100.1")
                .validate(&s)
                .unwrap_err()
                .to_string(),
            "cannot move clients to 198.51.100.1: it is not an address of \"gateway\""
        );
        assert_eq!(
            go("laptop", "203.0.113.2").validate(&s),
            Err(InterventionError::NotAResponder {
                host: "laptop".into()
            })
        );
    }
}
