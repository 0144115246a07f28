//! What the UI shows of the world as of now: hosts with their IKE SAs,
//! links, NATs with their mapping tables.

use super::World;
use crate::nat::{Permit, PortForward};
use crate::vocab::direction::Direction;
use crate::vocab::nat::NatBehaviour;
use mobike_protocol::{Role, SaSnapshot, Time};
use serde::{Deserialize, Serialize};
use std::borrow::Cow;
use std::net::{IpAddr, SocketAddr};

/// A host as the UI shows it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct HostView {
    pub id: String,
    pub label: String,
    pub role: Role,
    pub interfaces: Vec<InterfaceView>,
    /// Every address an interface has had. Added addresses appear here;
    /// removed ones stay, not present.
    pub addresses: Vec<AddressView>,
    pub sas: Vec<SaSnapshot>,
}

/// One interface of a host as the UI shows it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct InterfaceView {
    pub name: String,
    pub label: String,
    /// The address the scenario gave it.
    pub address: IpAddr,
    /// The link it attaches to.
    pub link: String,
    /// Up (the OS says so); down, it sends and receives nothing.
    pub up: bool,
}

/// An address an interface has, or had.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct AddressView {
    pub interface: String,
    pub address: IpAddr,
    /// Still on the interface (a removed one stays listed, not present).
    pub present: bool,
}

/// A link as the UI shows it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct LinkView {
    pub id: String,
    pub label: String,
    /// Both directions work.
    pub up: bool,
    /// From the host towards the internet.
    pub uplink: bool,
    /// From the internet towards the host.
    pub downlink: bool,
    pub delay: Time,
    pub jitter: Time,
    pub loss: f64,
    pub duplicate: f64,
    /// Prefixes the internet's route to from this link is withdrawn for.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub routes_down: Vec<mobike_protocol::Subnet>,
}

/// One row of a NAT's mapping table.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct MappingView {
    pub internal: SocketAddr,
    pub external: SocketAddr,
    /// The destination the mapping is for (address-dependent and
    /// address-and-port-dependent mapping); `None` for every destination.
    pub remote: Option<SocketAddr>,
    /// Who may send in through it (by the NAT's filtering).
    pub permits: Vec<Permit>,
    /// Remaining lifetime.
    pub expires_in: Time,
}

/// A NAT box as the UI shows it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct NatView {
    pub id: String,
    pub label: String,
    /// The current public address.
    pub public_address: IpAddr,
    pub link: Option<String>,
    pub behaviour: NatBehaviour,
    /// Static port forwards (kept through reboots).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub forwards: Vec<PortForward>,
    pub mappings: Vec<MappingView>,
}

/// What the views read of a world as of now: the running [`World`], or a
/// copy of its views kept elsewhere (the page's mirror of a world that runs
/// in a Web Worker). The drawing, the element menus and the JSON export
/// take any. A world makes its views; a kept copy lends them, so a panel
/// reading the page's mirror copies nothing.
pub trait WorldRead {
    fn hosts(&self) -> Cow<'_, [HostView]>;
    fn links(&self) -> Cow<'_, [LinkView]>;
    fn nats(&self) -> Cow<'_, [NatView]>;
}

impl WorldRead for World {
    fn hosts(&self) -> Cow<'_, [HostView]> {
        Cow::Owned(World::hosts(self))
    }
    fn links(&self) -> Cow<'_, [LinkView]> {
        Cow::Owned(World::links(self))
    }
    fn nats(&self) -> Cow<'_, [NatView]> {
        Cow::Owned(World::nats(self))
    }
}

impl World {
    /// Hosts with their interfaces and IKE SA state, for the UI.
    pub fn hosts(&self) -> Vec<HostView> {
        self.hosts_where(|_| true).collect()
    }

    /// The views of the hosts whose id passes `keep`, made one at a time (a
    /// cluster of thousands need not be held in views all at once).
    pub fn hosts_where<'a>(
        &'a self,
        keep: impl Fn(&str) -> bool + 'a,
    ) -> impl Iterator<Item = HostView> + 'a {
        self.scenario
            .hosts
            .iter()
            .zip(&self.hosts)
            .filter(move |(s, _)| keep(&s.id))
            .map(|(s, h)| HostView {
                id: s.id.clone(),
                label: s.name().to_string(),
                role: s.role,
                interfaces: s
                    .interfaces
                    .iter()
                    .zip(&h.iface_up)
                    .map(|(f, up)| InterfaceView {
                        name: f.name.clone(),
                        label: f.label.clone(),
                        address: f.address,
                        link: f.link.clone(),
                        up: *up,
                    })
                    .collect(),
                addresses: s
                    .interfaces
                    .iter()
                    .zip(&h.addrs)
                    .flat_map(|(f, a)| {
                        a.iter().map(|a| AddressView {
                            interface: f.name.clone(),
                            address: a.ip,
                            present: a.present,
                        })
                    })
                    .collect(),
                sas: h.endpoint.snapshots(),
            })
    }

    /// Links with their state as of now, for the UI.
    pub fn links(&self) -> Vec<LinkView> {
        self.scenario
            .links
            .iter()
            .zip(&self.links)
            .enumerate()
            .map(|(i, (l, st))| {
                let (uplink, downlink) = (st.is_up(Direction::Up), st.is_up(Direction::Down));
                LinkView {
                    id: l.id.clone(),
                    label: l.name().to_string(),
                    up: uplink && downlink,
                    uplink,
                    downlink,
                    delay: st.delay,
                    jitter: st.jitter,
                    loss: st.loss,
                    duplicate: st.duplicate,
                    routes_down: self
                        .routes_down
                        .iter()
                        .filter(|(k, _)| *k == i)
                        .map(|(_, p)| *p)
                        .collect(),
                }
            })
            .collect()
    }

    /// Each NAT with its behaviour and mapping table as of now: every live
    /// mapping with who may send in and how long it has left.
    pub fn nats(&self) -> Vec<NatView> {
        self.scenario
            .nats
            .iter()
            .zip(&self.nats)
            .map(|(s, n)| NatView {
                id: s.id.clone(),
                label: s.name().to_string(),
                public_address: n.public,
                link: n.link.map(|l| self.scenario.links[l].id.clone()),
                behaviour: n.behaviour,
                forwards: n.forwards.clone(),
                mappings: n
                    .mappings()
                    .into_iter()
                    .filter(|m| m.expires > self.now)
                    .map(|m| MappingView {
                        internal: m.internal,
                        external: SocketAddr::new(n.public, m.external_port),
                        remote: m.remote,
                        permits: n.permits(m),
                        expires_in: m.expires - self.now,
                    })
                    .collect(),
            })
            .collect()
    }
}
