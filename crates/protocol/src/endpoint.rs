use crate::sa::{Ctx, IkeSa, SaSnapshot};
use crate::{EndpointConfig, Event, Role, Time, Transmit};
use mobike_wire::header::Header;
use mobike_wire::registry::ExchangeType;
use mobike_wire::udp::{self, UdpPayload};
use rand_chacha::ChaCha20Rng;
use rand_core::SeedableRng;
use std::collections::VecDeque;
use std::net::{IpAddr, SocketAddr};

/// The IKE daemon of one node: its IKE SAs, its addresses and its seeded
/// random generator. See the crate docs for the poll order.
pub struct Endpoint {
    shared: Shared,
    sas: Vec<IkeSa>,
}

/// What every IKE SA of the endpoint uses while it handles an input.
struct Shared {
    config: EndpointConfig,
    local_addrs: Vec<IpAddr>,
    rng: ChaCha20Rng,
    out: VecDeque<Transmit>,
    events: VecDeque<Event>,
    data: VecDeque<Vec<u8>>,
}

impl Shared {
    fn ctx(&mut self, now: Time) -> Ctx<'_> {
        Ctx {
            now,
            config: &self.config,
            local_addrs: &self.local_addrs,
            rng: &mut self.rng,
            out: &mut self.out,
            events: &mut self.events,
        }
    }
}

impl Endpoint {
    /// An endpoint with its usable local addresses in order of preference and
    /// the seed of all its randomness.
    pub fn new(config: EndpointConfig, local_addrs: Vec<IpAddr>, seed: u64) -> Self {
        Endpoint {
            shared: Shared {
                config,
                local_addrs,
                rng: ChaCha20Rng::seed_from_u64(seed),
                out: VecDeque::new(),
                events: VecDeque::new(),
                data: VecDeque::new(),
            },
            sas: Vec::new(),
        }
    }

    pub fn config(&self) -> &EndpointConfig {
        &self.shared.config
    }

    pub fn local_addresses(&self) -> &[IpAddr] {
        &self.shared.local_addrs
    }

    /// Initiator: starts an IKE SA with `peer` (IKE_SA_INIT on port 500).
    pub fn connect(&mut self, now: Time, peer: IpAddr) {
        if let Some(sa) = IkeSa::initiate(&mut self.shared.ctx(now), peer) {
            self.sas.push(sa);
        }
    }

    /// A UDP datagram arrived for one of our addresses on an IKE port.
    pub fn handle_datagram(&mut self, now: Time, src: SocketAddr, dst: SocketAddr, payload: &[u8]) {
        let ike = match udp::classify(payload, src.port(), dst.port()) {
            UdpPayload::Ike(b) => b,
            // RFC 3948 §2.3: keepalives are ignored, and never count as
            // liveness evidence (U-4-1).
            UdpPayload::Keepalive => return,
            UdpPayload::Esp(esp) => {
                self.handle_esp(now, src, dst, esp);
                return;
            }
            UdpPayload::Invalid => {
                self.reject(
                    src,
                    dst,
                    "datagram on port 4500 is neither IKE, ESP nor a keepalive",
                );
                return;
            }
        };
        let header = match Header::parse(ike) {
            Ok(h) => h,
            Err(e) => {
                self.reject(src, dst, &format!("IKE header: {e}"));
                return;
            }
        };
        if ike.len() != header.length as usize {
            self.reject(
                src,
                dst,
                &format!(
                    "datagram holds {} octets, the IKE header says {}",
                    ike.len(),
                    header.length
                ),
            );
            return;
        }
        let is_init_request = header.exchange == ExchangeType::IKE_SA_INIT
            && !header.flags.response()
            && header.spi_r == 0;
        let found = self.sas.iter().position(|s| {
            s.spi_i() == header.spi_i
                && (header.spi_r == 0 || s.spi_r() == 0 || s.spi_r() == header.spi_r)
        });
        let mut ctx = self.shared.ctx(now);
        match found {
            // Includes a retransmitted IKE_SA_INIT, answered from the cache
            // (RFC 7296 §2.1).
            Some(i) => self.sas[i].handle(&mut ctx, src, dst, &header, ike),
            None if is_init_request && ctx.config.role == Role::Responder => {
                if let Some(sa) = IkeSa::accept(&mut ctx, src, dst, &header, ike) {
                    self.sas.push(sa);
                }
            }
            None => ctx.events.push_back(Event::Rejected {
                src,
                dst,
                reason: format!(
                    "no IKE SA with SPIs {:016x}/{:016x}",
                    header.spi_i, header.spi_r
                ),
            }),
        }
    }

    /// An ESP packet arrived (plain, or from a UDP datagram on port 4500).
    pub fn handle_esp(&mut self, now: Time, src: SocketAddr, dst: SocketAddr, packet: &[u8]) {
        let Ok(spi) = mobike_wire::esp::spi(packet) else {
            self.reject(src, dst, "ESP packet shorter than its header");
            return;
        };
        let mut ctx = self.shared.ctx(now);
        match self.sas.iter_mut().find(|s| s.inbound_spi() == Some(spi)) {
            Some(sa) => {
                if let Some(inner) = sa.handle_esp(&mut ctx, src, dst, packet) {
                    self.shared.data.push_back(inner);
                }
            }
            None => ctx.events.push_back(Event::Rejected {
                src,
                dst,
                reason: format!("ESP for unknown SPI {spi:08x}"),
            }),
        }
    }

    /// Sends an inner packet (tunnel mode) through the newest established
    /// IKE SA's Child SA. Returns false when there is none.
    pub fn send_data(&mut self, now: Time, inner: &[u8]) -> bool {
        let mut ctx = self.shared.ctx(now);
        self.sas
            .iter_mut()
            .rev()
            .any(|sa| sa.send_esp(&mut ctx, inner))
    }

    /// Inner packets received through the tunnel, in arrival order.
    pub fn poll_data(&mut self) -> Option<Vec<u8>> {
        self.shared.data.pop_front()
    }

    /// Timers due at or before `now` fire.
    pub fn handle_timeout(&mut self, now: Time) {
        let mut ctx = self.shared.ctx(now);
        for sa in &mut self.sas {
            sa.handle_timeout(&mut ctx);
        }
    }

    /// The node's usable addresses changed (the OS announced it). Order is
    /// preference.
    pub fn handle_local_addresses(&mut self, now: Time, addrs: Vec<IpAddr>) {
        if addrs == self.shared.local_addrs {
            return;
        }
        let old = std::mem::replace(&mut self.shared.local_addrs, addrs);
        let mut ctx = self.shared.ctx(now);
        for sa in &mut self.sas {
            sa.handle_local_addresses(&mut ctx, &old);
        }
    }

    pub fn poll_transmit(&mut self) -> Option<Transmit> {
        self.shared.out.pop_front()
    }

    pub fn poll_event(&mut self) -> Option<Event> {
        self.shared.events.pop_front()
    }

    /// The earliest timer of any IKE SA.
    pub fn poll_timeout(&self) -> Option<Time> {
        self.sas.iter().filter_map(|s| s.next_timeout()).min()
    }

    /// Serializable state of every IKE SA, for the UI.
    pub fn snapshots(&self) -> Vec<SaSnapshot> {
        self.sas
            .iter()
            .map(|s| s.snapshot(&self.shared.local_addrs))
            .collect()
    }

    fn reject(&mut self, src: SocketAddr, dst: SocketAddr, reason: &str) {
        self.shared.events.push_back(Event::Rejected {
            src,
            dst,
            reason: reason.to_string(),
        });
    }
}
