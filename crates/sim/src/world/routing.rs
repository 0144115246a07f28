//! Packets across the network: from a host's interface over its link (and
//! the NAT on it) to the internet, routed by destination address, and over
//! the far link (and its NAT) to a host. Every drop is recorded with its
//! reason.

use super::record::{At, Datagram};
use super::{Ev, InFlight, Packet, World};
use crate::link::Crossing;
use crate::trace::{Bytes, Name, PacketId, TraceKind};
use crate::vocab::direction::Direction;
use crate::vocab::reason::{DropReason, NatRefusal};
use mobike_protocol::{IpProtocol, Time};
use mobike_wire::udp::{IKE_PORT, NATT_PORT};
use std::net::{IpAddr, SocketAddr};

fn is_ike_port(p: u16) -> bool {
    p == IKE_PORT || p == NATT_PORT
}

impl World {
    pub(super) fn send_from(
        &mut self,
        h: usize,
        src: SocketAddr,
        dst: SocketAddr,
        payload: Bytes,
        protocol: IpProtocol,
        injected: bool,
    ) {
        self.next_packet += 1;
        let id = self.next_packet;
        let owned = self.owner_of(src.ip()).filter(|(o, _, _)| *o == h);
        let iface = owned.map(|(_, f, _)| f);
        let link = iface.and_then(|f| self.iface_link[h][f]);
        self.record_sent(Datagram {
            packet: id,
            host: h,
            link,
            addrs: (src, dst),
            payload: &payload,
            protocol,
        });
        let (Some((_, f, present)), Some(link)) = (owned, link) else {
            let reason = DropReason::NoInterface {
                host: self.scenario.hosts[h].id.clone(),
                address: src.ip(),
            };
            self.drop_packet(id, self.names.hosts[h].clone(), reason);
            return;
        };
        // An address removed without telling the daemon: it still sends
        // from it.
        if !self.iface_usable(id, h, f, present, src.ip()) {
            return;
        }
        let packet = Packet {
            id,
            src,
            dst,
            payload,
            protocol,
            injected,
        };
        self.enter_link(link, packet, true);
    }

    /// The packet starts across `link`: towards the internet (`outbound`)
    /// or towards the host. The link decides whether it is lost, how long
    /// it takes and whether a second copy follows.
    fn enter_link(&mut self, link: usize, packet: Packet, outbound: bool) {
        let direction = if outbound {
            Direction::Up
        } else {
            Direction::Down
        };
        let (first, copy) = match self.links[link].cross(direction) {
            Crossing::Broken => {
                let one_way = self.links[link].is_up(Direction::Up)
                    || self.links[link].is_up(Direction::Down);
                let reason = DropReason::LinkBroken {
                    link: self.link_label(link),
                    only: one_way.then_some(direction),
                };
                let at = self.names.links[link].clone();
                self.drop_packet(packet.id, at, reason);
                return;
            }
            Crossing::Lost => {
                let reason = DropReason::LinkLoss {
                    link: self.link_label(link),
                };
                let at = self.names.links[link].clone();
                self.drop_packet(packet.id, at, reason);
                return;
            }
            Crossing::Arrives(first, copy) => (first, copy),
        };
        // The packet itself crosses; a copy (cloned only when there is one)
        // follows as a packet of its own in the trace.
        let original = packet.id;
        let second = copy.map(|delay| (delay, packet.clone()));
        self.cross(link, packet, outbound, first);
        if let Some((delay, mut p)) = second {
            self.next_packet += 1;
            p.id = self.next_packet;
            self.record(
                self.now,
                TraceKind::Duplicated {
                    packet: original,
                    copy: p.id,
                    link: self.names.links[link].clone(),
                },
            );
            self.cross(link, p, outbound, delay);
        }
    }

    /// Queues `p`'s arrival at the far end of `link` after `delay`.
    fn cross(&mut self, link: usize, p: Packet, outbound: bool, delay: Time) {
        let packet = self.hold(p);
        let ev = if outbound {
            Ev::AtInternet {
                link: link as u32,
                packet,
            }
        } else {
            Ev::AtHost {
                link: link as u32,
                packet,
            }
        };
        self.schedule(self.now + delay, ev);
    }

    /// Keeps a packet while it crosses a link.
    fn hold(&mut self, p: Packet) -> InFlight {
        match self.free_slots.pop() {
            Some(i) => {
                self.in_flight[i as usize] = Some(p);
                InFlight(i)
            }
            None => {
                self.in_flight.push(Some(p));
                InFlight(
                    u32::try_from(self.in_flight.len() - 1)
                        .expect("fewer than 2^32 packets in flight"),
                )
            }
        }
    }

    /// The packet that arrived at the far end of its link.
    pub(super) fn arrived(&mut self, p: InFlight) -> Packet {
        self.free_slots.push(p.0);
        self.in_flight[p.0 as usize]
            .take()
            .expect("a packet in flight")
    }

    /// Whether interface `f` of host `h` can send or take a packet with
    /// `address` (`present`: the address is still on it); if not, the
    /// packet is dropped there with the reason.
    fn iface_usable(
        &mut self,
        packet: PacketId,
        h: usize,
        f: usize,
        present: bool,
        address: IpAddr,
    ) -> bool {
        let up = self.hosts[h].iface_up[f];
        if up && present {
            return true;
        }
        let spec = &self.scenario.hosts[h];
        let interface = format!("{}.{}", spec.id, spec.interfaces[f].name);
        let at = Name::from(interface.as_str());
        let reason = if up {
            DropReason::AddressGone { address, interface }
        } else {
            DropReason::InterfaceDown { interface }
        };
        self.drop_packet(packet, at, reason);
        false
    }

    pub(super) fn drop_packet(&mut self, packet: PacketId, at: Name, reason: DropReason) {
        self.record(
            self.now,
            TraceKind::Dropped {
                packet,
                at,
                reason: Box::new(reason),
            },
        );
    }

    /// NAT `n` refused the packet.
    fn nat_drop(&mut self, packet: PacketId, n: usize, refusal: NatRefusal) {
        let reason = DropReason::Nat {
            nat: self.nat_label(n),
            refusal,
        };
        let at = self.names.nats[n].clone();
        self.drop_packet(packet, at, reason);
    }

    /// The packet reached the far end of a link in `direction`: drop it if
    /// that direction broke while it was on the way.
    fn survived(&mut self, link: usize, direction: Direction, packet: PacketId) -> bool {
        if self.links[link].is_up(direction) {
            return true;
        }
        let reason = DropReason::LinkBrokeInFlight {
            link: self.link_label(link),
        };
        let at = self.names.links[link].clone();
        self.drop_packet(packet, at, reason);
        false
    }

    pub(super) fn at_internet(&mut self, link: usize, mut packet: Packet) {
        if !self.survived(link, Direction::Up, packet.id) {
            return;
        }
        // Each NAT of the link's chain in turn, the host's first (a home
        // router, then the carrier's NAT).
        let mut next = self.nat_outwards(link, packet.src.ip(), 0);
        while let Some(n) = next {
            next = self.nat_outwards(link, packet.src.ip(), n + 1);
            if packet.protocol == IpProtocol::Esp {
                // A NAPT box rewrites ports; plain ESP has none, so it cannot
                // pass (which is why NAT traversal encapsulates it in UDP).
                self.nat_drop(packet.id, n, NatRefusal::PlainEsp);
                return;
            }
            match self.nat_outbound(n, packet.src, packet.dst) {
                Ok(src) => packet.src = src,
                Err(refusal) => {
                    self.nat_drop(packet.id, n, refusal);
                    return;
                }
            }
            self.record_passed(packet.id, At::Nat(n), (packet.src, packet.dst));
            if packet.dst.ip() == self.nats[n].public && !self.nats[n].behaviour.hairpinning {
                self.nat_drop(packet.id, n, NatRefusal::NoHairpin { to: packet.dst });
                return;
            }
        }
        // The attacker on the path sees it as it is here, translated.
        if packet.protocol == IpProtocol::Udp && !packet.injected {
            self.attacker
                .observe(packet.src, packet.dst, &packet.payload);
        }
        // Route by destination: a host interface or a NAT's public address.
        // (A NAT's own address comes back down its link: hairpinning, with
        // the sender's outside address as the source, REQ-9a.)
        let dst = packet.dst.ip();
        let to = self
            .owner_of(dst)
            .and_then(|(h, f, _)| self.iface_link[h][f])
            .or_else(|| {
                self.nats
                    .iter()
                    .find(|n| n.public == dst)
                    .and_then(|n| n.link)
            });
        // A withdrawn route between the link the packet came from and its
        // destination, or between its source and the link it goes to: it
        // vanishes in the middle of the network.
        let withdrawn = to.and_then(|to| {
            self.routes_down
                .iter()
                .find(|(l, p)| {
                    (*l == link && p.contains(dst)) || (*l == to && p.contains(packet.src.ip()))
                })
                .copied()
        });
        if let Some((l, prefix)) = withdrawn {
            let reason = DropReason::RouteWithdrawn {
                link: self.link_label(l),
                prefix: prefix.to_string(),
            };
            self.drop_packet(packet.id, Name::from("internet"), reason);
            return;
        }
        match to {
            Some(l) => self.enter_link(l, packet, false),
            None => self.drop_packet(
                packet.id,
                Name::from("internet"),
                DropReason::NoRoute { address: dst },
            ),
        }
    }

    pub(super) fn at_host(&mut self, link: usize, mut packet: Packet) {
        let now = self.now;
        if !self.survived(link, Direction::Down, packet.id) {
            return;
        }
        // The chain from the internet inwards: the carrier's NAT, then the
        // home router; each takes only what is addressed to its public
        // address.
        let mut next = self.nat_inwards(link, packet.dst.ip(), self.nats.len());
        while let Some(n) = next {
            next = self.nat_inwards(link, packet.dst.ip(), n);
            if packet.dst.ip() != self.nats[n].public {
                // Behind a NAT only its public address is reachable.
                let refusal = NatRefusal::Inside {
                    address: packet.dst.ip(),
                    public: self.nats[n].public,
                };
                self.nat_drop(packet.id, n, refusal);
                return;
            }
            match self.nat_inbound(n, packet.src, packet.dst) {
                Ok(internal) => {
                    packet.dst = internal;
                    self.record_passed(packet.id, At::Nat(n), (packet.src, packet.dst));
                }
                Err(refusal) => {
                    self.nat_drop(packet.id, n, refusal);
                    return;
                }
            }
        }
        let found = self
            .owner_of(packet.dst.ip())
            .filter(|(h, f, _)| self.iface_link[*h][*f] == Some(link));
        let Some((h, f, present)) = found else {
            let at = self.names.links[link].clone();
            self.drop_packet(
                packet.id,
                at.clone(),
                DropReason::NotOnLink {
                    link: at.to_string(),
                    address: packet.dst.ip(),
                },
            );
            return;
        };
        if !self.iface_usable(packet.id, h, f, present, packet.dst.ip()) {
            return;
        }
        if packet.protocol == IpProtocol::Udp && !is_ike_port(packet.dst.port()) {
            self.drop_packet(
                packet.id,
                self.names.hosts[h].clone(),
                DropReason::PortUnreachable {
                    port: packet.dst.port(),
                },
            );
            return;
        }
        self.record_passed(packet.id, At::Host(h), (packet.src, packet.dst));
        let ep = &mut self.hosts[h].endpoint;
        match packet.protocol {
            IpProtocol::Udp => ep.handle_datagram(now, packet.src, packet.dst, &packet.payload),
            IpProtocol::Esp => ep.handle_esp(now, packet.src, packet.dst, &packet.payload),
        }
        self.after_host(h);
    }

    /// Removes the NAT's expired mappings, each an event in the trace.
    pub(super) fn nat_expire(&mut self, n: usize) {
        let now = self.now;
        let public = self.nats[n].public;
        for m in self.nats[n].expire(now) {
            // Each mapping has its check queued at its expiry, so this
            // runs at that very time.
            self.record(
                now,
                TraceKind::NatMappingExpired {
                    nat: self.names.nats[n].clone(),
                    internal: m.internal.into(),
                    external: SocketAddr::new(public, m.external_port).into(),
                },
            );
        }
    }

    /// Translates an outbound packet's source (RFC 4787 §4); a new mapping
    /// goes into the trace and gets its expiry check queued.
    fn nat_outbound(
        &mut self,
        n: usize,
        src: SocketAddr,
        dst: SocketAddr,
    ) -> Result<SocketAddr, NatRefusal> {
        self.nat_expire(n);
        let out = self.nats[n].outbound(self.now, src, dst)?;
        if let Some((id, expires)) = out.created {
            self.record(
                self.now,
                TraceKind::NatMapping {
                    nat: self.names.nats[n].clone(),
                    internal: src.into(),
                    external: out.src.into(),
                },
            );
            self.schedule(expires, Ev::NatExpiry { nat: n as u32, id });
        }
        Ok(out.src)
    }

    /// Finds the inside endpoint for an inbound packet, if the filter lets
    /// it in (RFC 4787 §5).
    fn nat_inbound(
        &mut self,
        n: usize,
        src: SocketAddr,
        dst: SocketAddr,
    ) -> Result<SocketAddr, NatRefusal> {
        self.nat_expire(n);
        self.nats[n].inbound(self.now, src, dst)
    }
}
