//! Interventions: what the timeline or the user changes in the running
//! network, each recorded in the trace in words before its effects.

use super::attacker::Forgery;
use super::{Addr, World};
use crate::trace::{Name, TraceKind};
use crate::vocab::direction::Direction;
use crate::vocab::intervention::{Effect, Intervention, MoveBy};
use mobike_protocol::{Endpoint, IpProtocol, Role, Spi, Time};
use std::net::{IpAddr, SocketAddr};

impl World {
    /// Applies a user's intervention now.
    pub fn apply(&mut self, action: Intervention) {
        self.apply_inner(action, true);
    }

    pub(super) fn apply_inner(&mut self, action: Intervention, by_user: bool) {
        let now = self.now;
        match &action {
            Intervention::BreakLink { link: l } | Intervention::RestoreLink { link: l } => {
                let up = matches!(action, Intervention::RestoreLink { .. });
                let Some(i) = self.link_index(l) else { return };
                let mut changed = false;
                for d in Direction::both() {
                    changed |= self.links[i].set(d, up);
                }
                if !changed {
                    return;
                }
                self.note(&action, None, by_user);
                self.record(
                    now,
                    TraceKind::Link {
                        link: l.into(),
                        up,
                        direction: None,
                    },
                );
            }
            Intervention::SetRoute { link, prefix, up } => {
                let Some(i) = self.link_index(link) else {
                    return;
                };
                let at = self.routes_down.iter().position(|r| *r == (i, *prefix));
                match (at, up) {
                    (Some(k), true) => {
                        self.routes_down.remove(k);
                    }
                    (None, false) => self.routes_down.push((i, *prefix)),
                    // Already so: nothing changes.
                    _ => return,
                }
                self.note(&action, None, by_user);
            }
            Intervention::SetLinkDirection {
                link,
                direction,
                up,
            } => {
                let Some(i) = self.link_index(link) else {
                    return;
                };
                if !self.links[i].set(*direction, *up) {
                    return;
                }
                self.note(&action, None, by_user);
                self.record(
                    now,
                    TraceKind::Link {
                        link: link.into(),
                        up: *up,
                        direction: Some(*direction),
                    },
                );
            }
            Intervention::RebootNat { nat } => {
                let Some(n) = self.nat_index(nat) else { return };
                let lost = self.nats[n].reboot(now);
                self.note(&action, Some(Effect::MappingsLost(lost.len())), by_user);
                self.record(
                    now,
                    TraceKind::NatRebooted {
                        nat: nat.into(),
                        mappings_lost: lost.len(),
                    },
                );
            }
            Intervention::ConfigureNat { nat, changes } => {
                let Some(n) = self.nat_index(nat) else { return };
                let behaviour = changes.over(self.nats[n].behaviour);
                let lost = self.nats[n].reconfigure(now, behaviour);
                self.note(&action, None, by_user);
                self.record(
                    now,
                    TraceKind::NatConfigured {
                        nat: nat.into(),
                        behaviour,
                        mappings_lost: lost.len(),
                    },
                );
            }
            Intervention::SetLink {
                link,
                delay,
                jitter,
                loss,
                duplicate,
            } => {
                let Some(i) = self.link_index(link) else {
                    return;
                };
                let l = &mut self.links[i];
                if let Some(d) = delay {
                    l.delay = d.micros();
                }
                if let Some(j) = jitter {
                    l.jitter = j.micros();
                }
                if let Some(p) = loss {
                    l.loss = p.clamp(0.0, 1.0);
                }
                if let Some(p) = duplicate {
                    l.duplicate = p.clamp(0.0, 1.0);
                }
                let (delay, jitter, loss, duplicate) = (l.delay, l.jitter, l.loss, l.duplicate);
                self.note(&action, None, by_user);
                self.record(
                    now,
                    TraceKind::LinkProperties {
                        link: link.into(),
                        delay,
                        jitter,
                        loss,
                        duplicate,
                    },
                );
            }
            Intervention::ChangeNatAddress { nat, address } => {
                let Some(n) = self.nat_index(nat) else { return };
                if self.nats[n].public == *address {
                    return;
                }
                self.nats[n].public = *address;
                self.note(&action, None, by_user);
                self.record(
                    now,
                    TraceKind::NatAddress {
                        nat: nat.into(),
                        address: *address,
                    },
                );
            }
            Intervention::AddAddress {
                host,
                interface,
                address,
                announce,
            } => {
                let Some((h, f)) = self.interface_index(host, interface) else {
                    return;
                };
                let addrs = &mut self.hosts[h].addrs[f];
                match addrs.iter_mut().find(|a| a.ip == *address) {
                    Some(a) if a.present => return,
                    Some(a) => a.present = true,
                    None => {
                        addrs.push(Addr {
                            ip: *address,
                            present: true,
                        });
                        let o = self.owners.entry(*address).or_default();
                        o.push((h, f));
                        o.sort_unstable();
                    }
                }
                self.refile_owner(*address);
                self.note(&action, None, by_user);
                self.address_changed(h, f, *address, true, *announce);
            }
            Intervention::RemoveAddress {
                host,
                interface,
                address,
                announce,
            } => {
                let Some((h, f)) = self.interface_index(host, interface) else {
                    return;
                };
                let address = address.unwrap_or(self.scenario.hosts[h].interfaces[f].address);
                let Some(a) = self.hosts[h].addrs[f]
                    .iter_mut()
                    .find(|a| a.ip == address && a.present)
                else {
                    return;
                };
                a.present = false;
                self.refile_owner(address);
                self.note(&action, Some(Effect::Removed(address)), by_user);
                self.address_changed(h, f, address, false, *announce);
            }
            Intervention::SetInterface {
                host,
                interface,
                up,
            } => {
                let Some(h) = self.scenario.hosts.iter().position(|x| &x.id == host) else {
                    return;
                };
                let Some(f) = self.scenario.hosts[h]
                    .interfaces
                    .iter()
                    .position(|x| &x.name == interface)
                else {
                    return;
                };
                if self.hosts[h].iface_up[f] == *up {
                    return;
                }
                self.hosts[h].iface_up[f] = *up;
                self.note(&action, None, by_user);
                self.record(
                    now,
                    TraceKind::Interface {
                        node: host.into(),
                        interface: interface.clone(),
                        up: *up,
                    },
                );
                // The OS announces the change to the IKE daemon at once.
                let addrs = self.usable_addresses(h);
                self.hosts[h].endpoint.handle_local_addresses(now, addrs);
                self.after_host(h);
            }
            Intervention::PlaceNat { nat, link } => {
                let Some(n) = self.scenario.nats.iter().position(|x| &x.id == nat) else {
                    return;
                };
                let li = match link {
                    Some(l) => match self.link_index(l) {
                        Some(i) => Some(i),
                        None => return,
                    },
                    None => None,
                };
                if self.nats[n].link == li {
                    return;
                }
                // A NAT taken out (or moved) forgets its mappings.
                self.nats[n].link = li;
                self.nats[n].clear();
                self.note(&action, None, by_user);
                self.record(
                    now,
                    TraceKind::NatPlaced {
                        nat: nat.into(),
                        link: link.as_ref().map(Name::from),
                    },
                );
            }
            Intervention::MoveClients {
                host,
                to,
                by,
                count,
                from,
            } => {
                let (host, to, by, count, from) = (host.clone(), *to, *by, *count, *from);
                let Some(h) = self.scenario.hosts.iter().position(|x| x.id == host) else {
                    return;
                };
                let chosen: Vec<mobike_protocol::Spi> = self.hosts[h]
                    .endpoint
                    .snapshots()
                    .into_iter()
                    .filter(|s| {
                        s.role == Role::Responder
                            && s.state == mobike_protocol::SaState::Established
                            && s.local.ip() != to
                            && from.is_none_or(|f| s.local.ip() == f)
                    })
                    .map(|s| s.spi_i)
                    .take(count.map_or(usize::MAX, |c| c as usize))
                    .collect();
                self.note(&action, Some(Effect::ClientsMoved(chosen.len())), by_user);
                for spi in chosen {
                    match by {
                        MoveBy::Mobike => self.hosts[h].endpoint.move_peer(now, spi, to),
                        MoveBy::Redirect => self.hosts[h].endpoint.redirect(now, spi, to),
                    };
                }
                self.after_host(h);
            }
            Intervention::SpoofUpdate {
                attacker,
                target,
                replay,
            } => self.spoof_update(&action, attacker, target, *replay, by_user),
            // What an operator asks of a host's IKE daemon, for each of
            // its established IKE SAs.
            Intervention::CheckLiveness { host }
            | Intervention::RekeyChild { host }
            | Intervention::RekeyIke { host } => {
                let Some(h) = self.scenario.hosts.iter().position(|x| &x.id == host) else {
                    return;
                };
                let ask: fn(&mut Endpoint, Time, Spi) -> bool = match &action {
                    Intervention::RekeyChild { .. } => Endpoint::rekey_child,
                    Intervention::RekeyIke { .. } => Endpoint::rekey_ike,
                    _ => Endpoint::check_liveness,
                };
                self.note(&action, None, by_user);
                for spi in self.hosts[h].endpoint.established() {
                    ask(&mut self.hosts[h].endpoint, now, spi);
                }
                self.after_host(h);
            }
            Intervention::Hint { host, kind } => {
                let Some(h) = self.scenario.hosts.iter().position(|x| &x.id == host) else {
                    return;
                };
                let peer = self.hosts[h]
                    .endpoint
                    .snapshots()
                    .last()
                    .map(|s| s.remote.ip());
                let Some(hint) = mobike_protocol::Hint::new(*kind, peer) else {
                    return;
                };
                self.note(&action, None, by_user);
                self.hosts[h].endpoint.handle_hint(now, hint);
                self.after_host(h);
            }
        }
    }

    /// The attacker's forged or replayed UPDATE_SA_ADDRESSES (RFC 4555
    /// §5.1), sent from her own address. She has seen the target's newest
    /// IKE SA go by on the path, so she knows its SPIs and message IDs; she
    /// has no keys.
    fn spoof_update(
        &mut self,
        action: &Intervention,
        attacker: &str,
        target: &str,
        replay: bool,
        by_user: bool,
    ) {
        let (Some(a), Some(t)) = (
            self.scenario.hosts.iter().position(|x| x.id == attacker),
            self.scenario.hosts.iter().position(|x| x.id == target),
        ) else {
            return;
        };
        let Some(src_ip) = self.usable_addresses(a).first().copied() else {
            return;
        };
        let target_addresses = self.reachable_addresses(t);
        let (ike, dst) = if replay {
            // The newest request that looked like a move, as she captured it.
            let Some(captured) = self.attacker.replay(&target_addresses) else {
                self.note(action, Some(Effect::NothingSeen), by_user);
                return;
            };
            captured
        } else {
            let Some(f) = self.attacker.forgery(&target_addresses) else {
                self.note(action, Some(Effect::NothingSeen), by_user);
                return;
            };
            match forge_update(f) {
                Some(ike) => (ike, f.to),
                None => return,
            }
        };
        let src = SocketAddr::new(src_ip, dst.port());
        let spoofed = Effect::Spoofed {
            from: src_ip,
            to: dst,
        };
        self.note(action, Some(spoofed), by_user);
        let payload = mobike_wire::udp::frame_ike(&ike, src.port());
        self.send_from(a, src, dst, payload.into(), IpProtocol::Udp, true);
    }

    /// Where host `h` can be reached from the internet: the addresses its
    /// interfaces have or had, and the public address of a NAT in front of
    /// one of them. (Who a host is, is no secret; its keys are.)
    fn reachable_addresses(&self, h: usize) -> Vec<IpAddr> {
        let spec = &self.scenario.hosts[h];
        let own = self.hosts[h].addrs.iter().flatten().map(|a| a.ip);
        let nats = spec.interfaces.iter().flat_map(|f| {
            let chain = self.link_index(&f.link).map(|l| self.nats_on(l));
            chain
                .unwrap_or_default()
                .into_iter()
                .map(|n| self.nats[n].public)
        });
        own.chain(nats).collect()
    }

    /// Records the intervention in words: the scenario's labels, and what
    /// applying it came to.
    fn note(&mut self, action: &Intervention, effect: Option<Effect>, by_user: bool) {
        let words = action.describe(&self.scenario);
        let text = match effect {
            Some(e) => words.with(e).to_string(),
            None => words.to_string(),
        };
        self.record(self.now, TraceKind::Intervention { text, by_user });
    }

    /// Records an address added or removed and, when the OS announces it,
    /// tells the IKE daemon the new list (RFC 4555 §3.5's trigger).
    fn address_changed(
        &mut self,
        h: usize,
        f: usize,
        address: IpAddr,
        present: bool,
        announce: bool,
    ) {
        let now = self.now;
        let node = self.scenario.hosts[h].id.clone();
        let interface = self.scenario.hosts[h].interfaces[f].name.clone();
        self.record(
            now,
            TraceKind::Address {
                node: node.into(),
                interface,
                address,
                present,
                announced: announce,
            },
        );
        if announce {
            let addrs = self.usable_addresses(h);
            self.hosts[h].endpoint.handle_local_addresses(now, addrs);
            self.after_host(h);
        }
    }
}

/// An UPDATE_SA_ADDRESSES request with the right SPIs and message ID,
/// sealed with a key of the attacker's own: without SK_ei she cannot make a
/// valid ICV.
fn forge_update(f: Forgery) -> Option<Vec<u8>> {
    use mobike_wire::header::{Flags, Header};
    use mobike_wire::registry::{ExchangeType, NotifyType};
    let header = Header {
        spi_i: f.spi_i,
        spi_r: f.spi_r,
        next_payload: mobike_wire::PayloadType::None,
        exchange: ExchangeType::INFORMATIONAL,
        flags: Flags::new(true, false),
        message_id: f.message_id,
        length: 0,
    };
    let inner = [mobike_wire::Payload::Notify(
        mobike_wire::payload::Notify::new(NotifyType::UPDATE_SA_ADDRESSES, vec![]),
    )];
    let key = mobike_wire::crypto::GcmKey::new(vec![0x66; 16], [0x66; 4]);
    mobike_wire::message::Message::emit_encrypted(header, &inner, &key, [7; 8]).ok()
}
