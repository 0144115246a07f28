//! Traffic of the hosts: what each IKE daemon sends and reports, and the
//! ping generator whose echoes go through the tunnel.

use super::{Ev, World};
use crate::trace::TraceKind;
use mobike_protocol::Role;
use mobike_wire::ip::Ping;
use std::net::{IpAddr, Ipv4Addr};

impl World {
    /// The ping generator: one echo request through the tunnel.
    pub(super) fn send_ping(&mut self, h: usize, seq: u16) {
        let now = self.now;
        let Some(p) = self.scenario.ping.clone() else {
            return;
        };
        let to = self.scenario.hosts.iter().position(|x| x.id == p.to);
        let (Some(src), Some(mut dst)) = (
            self.inner_address(h),
            to.and_then(|t| self.inner_address(t)),
        ) else {
            return;
        };
        // With a Child SA per subnet behind the gateway, the pings go to
        // each subnet in turn (its first host), so each Child SA carries
        // some of them.
        let subnets = &self.hosts[h].endpoint.config().settings.child_subnets;
        if !subnets.is_empty()
            && let IpAddr::V4(a) = subnets[usize::from(seq) % subnets.len()].first_host()
        {
            dst = a;
        }
        let ping = Ping {
            src,
            dst,
            reply: false,
            ident: 0x4d42,
            seq,
        };
        let carried = self.hosts[h].endpoint.send_data(now, &ping.to_packet());
        self.record(
            now,
            TraceKind::PingSent {
                node: self.names.hosts[h].clone(),
                seq,
                reply: false,
                carried,
            },
        );
        self.after_host(h);
    }

    /// Collects what a host's endpoint produced and re-arms its timer.
    pub(super) fn after_host(&mut self, h: usize) {
        let now = self.now;
        // The endpoint's transmits are taken first (its documented poll
        // order) but its events are recorded before the packets: an event
        // such as KeysDerived explains the packets sent with it.
        // A buffer kept from call to call (none of these calls nests).
        let mut sends = std::mem::take(&mut self.sends);
        while let Some(t) = self.hosts[h].endpoint.poll_transmit() {
            sends.push(t);
        }
        while let Some(e) = self.hosts[h].endpoint.poll_event() {
            self.record_event(h, e);
        }
        for t in sends.drain(..) {
            let payload = if t.payload == mobike_wire::udp::KEEPALIVE {
                self.keepalive.clone()
            } else {
                t.payload.into()
            };
            self.send_from(h, t.src, t.dst, payload, t.protocol, false);
        }
        self.sends = sends;
        // Inner packets out of the tunnel: pings to us are answered.
        while let Some(inner) = self.hosts[h].endpoint.poll_data() {
            let Ok(ping) = Ping::parse(&inner) else {
                continue;
            };
            let node = self.names.hosts[h].clone();
            self.record(
                now,
                TraceKind::PingReceived {
                    node: node.clone(),
                    seq: ping.seq,
                    reply: ping.reply,
                },
            );
            if !ping.reply && self.answers_pings_to(h, ping.dst) {
                let answer = ping.reply().to_packet();
                let carried = self.hosts[h].endpoint.send_data(now, &answer);
                self.record(
                    now,
                    TraceKind::PingSent {
                        node: node.clone(),
                        seq: ping.seq,
                        reply: true,
                        carried,
                    },
                );
                self.after_host(h);
            }
        }
        if let Some(t) = self.hosts[h].endpoint.poll_timeout() {
            let t = t.max(now);
            if self.hosts[h].timer_at != Some(t) {
                self.hosts[h].timer_at = Some(t);
                self.schedule(t, Ev::Timer { host: h as u32 });
            }
        }
    }

    /// Whether host `h` answers a ping to `dst`: its inside address, or
    /// the first host of a subnet behind it (`child_subnets`).
    fn answers_pings_to(&self, h: usize, dst: Ipv4Addr) -> bool {
        Some(dst) == self.inner_address(h)
            || self.hosts[h]
                .endpoint
                .config()
                .settings
                .child_subnets
                .iter()
                .any(|s| s.first_host() == IpAddr::V4(dst))
    }

    /// The host's address inside the tunnel (what its pings come from).
    fn inner_address(&self, h: usize) -> Option<Ipv4Addr> {
        let spec = &self.scenario.hosts[h];
        spec.inner_address.or(match spec.role {
            // 10.99.0.2, 10.99.0.3, ... (10.99.4.0 for the 1023rd host).
            Role::Initiator => Some(Ipv4Addr::from(
                u32::from(Ipv4Addr::new(10, 99, 0, 2)) + h as u32,
            )),
            Role::Responder => Some(Ipv4Addr::new(10, 1, 0, 1)),
        })
    }
}
