use crate::reason::{LocalDelete, Note, Rejection};
use crate::sa::{Action, Ctx, IkeSa, InitOptions, SaSnapshot};
use crate::{EndpointConfig, Event, Role, Spi, Time, Transmit};
use mobike_wire::header::Header;
use mobike_wire::registry::ExchangeType;
use mobike_wire::udp::{self, UdpPayload};
use rand_chacha::ChaCha20Rng;
use rand_core::SeedableRng;
use rustc_hash::FxHashMap;
use smallvec::SmallVec;
use std::collections::{BTreeSet, VecDeque};
use std::net::{IpAddr, SocketAddr};

/// The IPv4 source (offset 12) or destination (16) of an inner packet.
fn inner_addr(packet: &[u8], offset: usize) -> Option<IpAddr> {
    if packet.first()? >> 4 != 4 {
        return None;
    }
    let b: [u8; 4] = packet.get(offset..offset + 4)?.try_into().ok()?;
    Some(IpAddr::from(b))
}

/// Redirect loop protection (RFC 5685; strongSwan's and libreswan's
/// MAX_REDIRECTS and REDIRECT_LOOP_DETECT_PERIOD): at most this many
/// redirects are followed within [`REDIRECT_LOOP_PERIOD`].
pub const MAX_REDIRECTS: usize = 5;
/// See [`MAX_REDIRECTS`]: 300 s.
pub const REDIRECT_LOOP_PERIOD: Time = 300 * crate::SEC;

/// Lower-layer hints an OS or the network may give the IKE daemon. None of
/// them is authenticated, so none moves an SA by itself (RFC 4555 §3.5).
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(tag = "hint", rename_all = "snake_case")]
pub enum Hint {
    /// An ICMP error (e.g. destination unreachable) about packets to `peer`.
    Icmp { peer: IpAddr },
    /// The peer reported INVALID_SPI, or someone reported unwanted traffic
    /// from us (RFC 4555 §5.3).
    InvalidSpi { peer: IpAddr },
    /// The link changed in a way that may have changed our NAT mapping
    /// (e.g. a Wi-Fi re-association).
    NatMappingSuspected,
}

/// What kind of [`Hint`] a lower layer gives, as scenario files and share
/// links write it: "icmp", "invalid_spi" or "nat_changed".
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum HintKind {
    /// An ICMP error about the peer's address (RFC 4555 §3.5: a hint, never
    /// a reason to move by itself).
    Icmp,
    /// An INVALID_SPI report from the peer's address.
    InvalidSpi,
    /// A hint that the NAT mapping may have changed (RFC 4555 §3.8).
    NatChanged,
}

impl Hint {
    /// A hint of `kind`; an ICMP error or INVALID_SPI report is about an
    /// address of the peer (`None` when there is none to name).
    pub fn new(kind: HintKind, peer: Option<IpAddr>) -> Option<Hint> {
        match (kind, peer) {
            (HintKind::Icmp, Some(peer)) => Some(Hint::Icmp { peer }),
            (HintKind::InvalidSpi, Some(peer)) => Some(Hint::InvalidSpi { peer }),
            (HintKind::NatChanged, _) => Some(Hint::NatMappingSuspected),
            (HintKind::Icmp | HintKind::InvalidSpi, None) => None,
        }
    }

    pub fn kind(&self) -> HintKind {
        match self {
            Hint::Icmp { .. } => HintKind::Icmp,
            Hint::InvalidSpi { .. } => HintKind::InvalidSpi,
            Hint::NatMappingSuspected => HintKind::NatChanged,
        }
    }
}

/// The IKE daemon of one node: its IKE SAs, its addresses and its seeded
/// random generator. See the crate docs for the poll order.
#[derive(Clone)]
pub struct Endpoint {
    shared: Shared,
    /// Every IKE SA, oldest first; deleted ones stay for the panels.
    sas: Vec<IkeSa>,
    /// Live IKE SAs by initiator SPI (indices into `sas`; more than one
    /// only if two peers chose the same SPI).
    /// (This and the next two are FxHash maps: no seed, and never iterated
    /// in an order that shows.)
    by_spi: FxHashMap<u64, SmallVec<[usize; 1]>>,
    /// Deleted IKE SAs by initiator SPI, to say why their messages are
    /// refused.
    deleted: FxHashMap<u64, usize>,
    /// Per SA, where it is filed and when its next timer runs out (see
    /// [`Book`]): one list, so an input that touches an SA reads one place
    /// beside the SA for all three.
    book: Vec<Book>,
    /// Live Child SAs by our inbound ESP SPI.
    by_esp_spi: FxHashMap<u32, usize>,
    /// When we followed redirects, for loop protection.
    redirects: Vec<Time>,
    /// Inner source address -> IKE SA (by SPIi) it last came through: a
    /// gateway with many clients sends each one's traffic through its own
    /// SA (the route a virtual IP would install).
    routes: std::collections::BTreeMap<IpAddr, u64>,
    /// The SAs' timers of `book` ordered by time, once the endpoint has
    /// more than [`FEW_SAS`]: a gateway with ten thousand SAs asks only
    /// the SAs an input touched, and finds the earliest timer and the SAs
    /// due without looking at the others. An endpoint with a few SAs (a
    /// client's) looks at each, which is faster than keeping them in order.
    timers: Option<BTreeSet<(Time, usize)>>,
    /// SAs an input touched (their timers must be read again).
    dirty: Vec<usize>,
    /// Room for the SAs whose timers ran out (see `handle_timeout`).
    expired: Vec<usize>,
    /// The secret behind our COOKIEs (RFC 7296 §2.6), drawn the first time
    /// one is needed (so a run without load draws the same as before).
    cookie_secret: Option<[u8; 32]>,
}

/// An endpoint keeps its SAs' timers in order once it has more than this
/// many SAs (see `Endpoint::timers`).
const FEW_SAS: usize = 8;

/// Where one SA is filed, and its next timer.
#[derive(Clone, Copy, Debug, Default)]
struct Book {
    /// The SPI it is filed under in `by_spi`.
    filed: Option<u64>,
    /// The inbound ESP SPI that `by_esp_spi` names it under now (kept
    /// beside it so that touching an SA reads a short list, not the map:
    /// with thousands of SAs a map look-up is a cache miss).
    filed_esp: Option<u32>,
    /// Its next timer as of the last input.
    due: Option<Time>,
}

/// What every IKE SA of the endpoint uses while it handles an input.
#[derive(Clone)]
struct Shared {
    config: EndpointConfig,
    local_addrs: Vec<IpAddr>,
    rng: ChaCha20Rng,
    out: VecDeque<Transmit>,
    events: VecDeque<Event>,
    data: VecDeque<Vec<u8>>,
    actions: Vec<Action>,
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
            actions: &mut self.actions,
        }
    }
}

impl Endpoint {
    /// An endpoint with its usable local addresses in order of preference and
    /// the seed of all its randomness: 64 bits, which make a run
    /// repeatable (the simulator's seed) but are far too few to keep the
    /// keys secret on a real network (use [`Endpoint::with_seed`] or
    /// [`Endpoint::from_rng`] there).
    pub fn new(config: EndpointConfig, local_addrs: Vec<IpAddr>, seed: u64) -> Self {
        Endpoint::with_rng(config, local_addrs, ChaCha20Rng::seed_from_u64(seed))
    }

    /// An endpoint whose randomness (SPIs, nonces, key shares, IVs) comes
    /// from a ChaCha20 generator with this 256-bit seed.
    pub fn with_seed(config: EndpointConfig, local_addrs: Vec<IpAddr>, seed: [u8; 32]) -> Self {
        Endpoint::with_rng(config, local_addrs, ChaCha20Rng::from_seed(seed))
    }

    /// An endpoint seeded from a cryptographically secure generator (the
    /// operating system's, say): 256 bits of it seed the endpoint's own.
    pub fn from_rng(
        config: EndpointConfig,
        local_addrs: Vec<IpAddr>,
        rng: &mut (impl rand_core::CryptoRng + ?Sized),
    ) -> Self {
        let mut seed = [0u8; 32];
        rng.fill_bytes(&mut seed);
        Endpoint::with_seed(config, local_addrs, seed)
    }

    fn with_rng(config: EndpointConfig, local_addrs: Vec<IpAddr>, rng: ChaCha20Rng) -> Self {
        Endpoint {
            shared: Shared {
                config,
                local_addrs,
                rng,
                out: VecDeque::new(),
                events: VecDeque::new(),
                data: VecDeque::new(),
                actions: Vec::new(),
            },
            sas: Vec::new(),
            by_spi: FxHashMap::default(),
            deleted: FxHashMap::default(),
            by_esp_spi: FxHashMap::default(),
            book: Vec::new(),
            redirects: Vec::new(),
            routes: std::collections::BTreeMap::new(),
            timers: None,
            dirty: Vec::new(),
            expired: Vec::new(),
            cookie_secret: None,
        }
    }

    /// Reads the timers of the SAs the last input touched again.
    fn settle(&mut self) {
        if self.book.len() < self.sas.len() {
            self.dirty.extend(self.book.len()..self.sas.len());
            self.book.resize(self.sas.len(), Book::default());
        }
        if self.timers.is_none() && self.sas.len() > FEW_SAS {
            let due = self.book.iter().enumerate();
            self.timers = Some(due.filter_map(|(i, b)| Some((b.due?, i))).collect());
        }
        if self.dirty.is_empty() {
            return;
        }
        let settings = &self.shared.config.settings;
        // Drained in place: the list keeps its room for the next time.
        for i in self.dirty.drain(..) {
            if let Some(sa) = self.sas.get(i) {
                let t = sa.next_timeout(settings);
                let book = &mut self.book[i];
                if book.due != t {
                    if let Some(timers) = &mut self.timers {
                        if let Some(old) = book.due {
                            timers.remove(&(old, i));
                        }
                        if let Some(new) = t {
                            timers.insert((new, i));
                        }
                    }
                    book.due = t;
                }
            }
        }
    }

    /// SA `i` handled an input: its timers are read again and its place in
    /// the lookup maps follows its state (a deleted SA leaves them).
    fn touch(&mut self, i: usize) {
        self.dirty.push(i);
        let Some(sa) = self.sas.get(i) else { return };
        let spi = sa.spi_i();
        if sa.is_deleted() {
            if let Some(v) = self.by_spi.get_mut(&spi) {
                v.retain(|k| *k != i);
                if v.is_empty() {
                    self.by_spi.remove(&spi);
                }
            }
            self.by_esp_spi.retain(|_, k| *k != i);
            if let Some(b) = self.book.get_mut(i) {
                b.filed_esp = None;
                b.filed = None;
            }
            self.deleted.insert(spi, i);
            return;
        }
        if self.book.len() <= i {
            self.book.resize(i + 1, Book::default());
        }
        // Filed under its SPI already (the common case: an SA touched by
        // each of its messages)?
        if self.book[i].filed != Some(spi) {
            let v = self.by_spi.entry(spi).or_default();
            if !v.contains(&i) {
                v.push(i);
            }
            self.book[i].filed = Some(spi);
        }
        // Whenever `book[i].filed_esp == Some(esp)` the map names SA `i` under
        // `esp` (an SA that takes an SPI over clears the other's entry):
        // then there is nothing to write.
        // A new newest Child SA files every one of the SA's Child SAs: an
        // IKE SA made by a rekey took them all over (RFC 7296 §2.18), and
        // several may carry traffic at once (§1.3.1).
        if let Some(esp) = sa.inbound_spi()
            && self.book[i].filed_esp != Some(esp)
        {
            for spi in sa.inbound_spis() {
                if let Some(j) = self.by_esp_spi.insert(spi, i)
                    && j != i
                    && let Some(b) = self.book.get_mut(j)
                    && b.filed_esp == Some(spi)
                {
                    b.filed_esp = None;
                }
            }
            self.book[i].filed_esp = Some(esp);
        }
    }

    fn touch_all(&mut self) {
        for i in 0..self.sas.len() {
            self.touch(i);
        }
    }

    /// Adds a new IKE SA.
    fn push(&mut self, sa: IkeSa) {
        self.sas.push(sa);
        self.touch(self.sas.len() - 1);
    }

    /// The live IKE SA with this initiator SPI (the newest if two share it).
    fn live(&self, spi_i: u64) -> Option<usize> {
        self.by_spi.get(&spi_i)?.last().copied()
    }

    pub fn config(&self) -> &EndpointConfig {
        &self.shared.config
    }

    pub fn local_addresses(&self) -> &[IpAddr] {
        &self.shared.local_addrs
    }

    /// Initiator: starts an IKE SA with `peer` (IKE_SA_INIT on port 500).
    pub fn connect(&mut self, now: Time, peer: IpAddr) {
        self.connect_any(now, &[peer]);
    }

    /// Initiator: starts an IKE SA with the first of several addresses of
    /// one responder; when IKE_SA_INIT goes unanswered there (after
    /// `probe_after` retransmissions), a new IKE_SA_INIT goes to the next
    /// (RFC 4555 §3.1: one per destination, with NAT detection for it).
    pub fn connect_any(&mut self, now: Time, peers: &[IpAddr]) {
        let Some((&first, rest)) = peers.split_first() else {
            return;
        };
        let mut opts = InitOptions::to(first);
        opts.origin.next_peers = rest.to_vec();
        if let Some(sa) = IkeSa::initiate(&mut self.shared.ctx(now), opts) {
            self.push(sa);
        }
        self.settle();
    }

    /// What the SAs asked of the endpoint while handling an input: new IKE
    /// SAs (after a redirect or a refused IKE_AUTH) and deletions of
    /// replaced ones.
    fn run_actions(&mut self, now: Time) {
        while !self.shared.actions.is_empty() {
            let actions = std::mem::take(&mut self.shared.actions);
            for a in actions {
                match a {
                    Action::Initiate(opts) => {
                        if opts.origin.redirected_from.is_some() {
                            self.redirects
                                .retain(|t| now.saturating_sub(*t) < REDIRECT_LOOP_PERIOD);
                            if self.redirects.len() >= MAX_REDIRECTS {
                                let note = Note::RedirectLoop {
                                    to: opts.peer,
                                    max: MAX_REDIRECTS,
                                    period_s: REDIRECT_LOOP_PERIOD / crate::SEC,
                                };
                                let spi = opts.origin.replaces.unwrap_or(0);
                                self.shared.ctx(now).note(spi, note);
                                continue;
                            }
                            self.redirects.push(now);
                        }
                        if let Some(sa) = IkeSa::initiate(&mut self.shared.ctx(now), opts) {
                            self.push(sa);
                        }
                    }
                    Action::Delete { spi_i, reason } => {
                        if let Some(i) = self.live(spi_i) {
                            self.sas[i].start_delete(&mut self.shared.ctx(now), reason);
                            self.touch(i);
                        }
                    }
                    Action::Adopt(sa) => {
                        self.push(*sa);
                        let i = self.sas.len() - 1;
                        self.sas[i].send_waiting(&mut self.shared.ctx(now));
                        self.touch(i);
                    }
                }
            }
        }
        self.settle();
    }

    /// Responder: moves one IKE SA to another of our addresses by sending
    /// the peer an address list from `to` that holds only `to` (responder
    /// MOBIKE by plain RFC 4555, reference §6.2 S-R1). Returns false when
    /// there is no such established SA or `to` is not ours.
    pub fn move_peer(&mut self, now: Time, spi_i: Spi, to: IpAddr) -> bool {
        let spi_i = spi_i.0;
        let Some(i) = self.live(spi_i) else {
            return false;
        };
        let done = self.sas[i].move_self(&mut self.shared.ctx(now), to);
        self.touch(i);
        self.run_actions(now);
        done
    }

    /// Responder: tells the client of an established IKE SA to go to
    /// another gateway (RFC 5685, REDIRECT in an INFORMATIONAL request).
    pub fn redirect(&mut self, now: Time, spi_i: Spi, to: IpAddr) -> bool {
        let spi_i = spi_i.0;
        let Some(i) = self.live(spi_i) else {
            return false;
        };
        let done = self.sas[i].redirect(&mut self.shared.ctx(now), to);
        self.touch(i);
        self.run_actions(now);
        done
    }

    /// Starts a liveness check of an established IKE SA now (an
    /// INFORMATIONAL request with nothing to say but, where MOBIKE watches
    /// for NATs, NAT detection; RFC 7296 §1.4, RFC 4555 §3.5), as its
    /// timer would, or queued behind an exchange in flight. Returns false when
    /// there is no such established SA.
    pub fn check_liveness(&mut self, now: Time, spi_i: Spi) -> bool {
        let Some(i) = self.live(spi_i.0) else {
            return false;
        };
        let done = self.sas[i].check_liveness(&mut self.shared.ctx(now));
        self.touch(i);
        self.run_actions(now);
        done
    }

    /// Rekeys the newest Child SA of an established IKE SA now, with a
    /// CREATE_CHILD_SA exchange (RFC 7296 §1.3.3), as its lifetime would,
    /// or queued behind an exchange in flight. Returns false when there is
    /// no such SA, it has no Child SA, or a rekey is under way.
    pub fn rekey_child(&mut self, now: Time, spi_i: Spi) -> bool {
        let Some(i) = self.live(spi_i.0) else {
            return false;
        };
        let done = self.sas[i].rekey_child(&mut self.shared.ctx(now));
        self.touch(i);
        self.run_actions(now);
        done
    }

    /// Rekeys an established IKE SA now with a CREATE_CHILD_SA exchange
    /// (RFC 7296 §1.3.2): a new IKE SA with new SPIs and keys takes over
    /// its MOBIKE state and Child SAs. Returns false when there is no such
    /// SA or a rekey is under way.
    pub fn rekey_ike(&mut self, now: Time, spi_i: Spi) -> bool {
        let Some(i) = self.live(spi_i.0) else {
            return false;
        };
        let done = self.sas[i].rekey_ike(&mut self.shared.ctx(now));
        self.touch(i);
        self.run_actions(now);
        done
    }

    /// Deletes an established IKE SA with an INFORMATIONAL Delete exchange
    /// (RFC 7296 §1.4.1).
    pub fn delete(&mut self, now: Time, spi_i: Spi) {
        let spi_i = spi_i.0;
        self.shared.actions.push(Action::Delete {
            spi_i,
            reason: LocalDelete::ByUser,
        });
        self.run_actions(now);
    }

    /// A lower-layer hint (RFC 4555 §3.5: only a hint; M-3.5-1, M-5.3-1,
    /// M-3.8-5).
    pub fn handle_hint(&mut self, now: Time, hint: Hint) {
        let mut ctx = self.shared.ctx(now);
        for sa in &mut self.sas {
            sa.handle_hint(&mut ctx, hint);
        }
        self.touch_all();
        self.run_actions(now);
    }

    /// IKE SPIs (initiator's) of the established IKE SAs, oldest first.
    pub fn established(&self) -> Vec<Spi> {
        self.sas
            .iter()
            // One a rekey replaced only waits for its Delete.
            .filter(|s| s.is_established() && !s.retired())
            .map(|s| Spi(s.spi_i()))
            .collect()
    }

    /// A UDP datagram arrived for one of our addresses on an IKE port.
    pub fn handle_datagram(&mut self, now: Time, src: SocketAddr, dst: SocketAddr, payload: &[u8]) {
        let ike = match udp::classify(payload, dst.port()) {
            UdpPayload::Ike(b) => b,
            // RFC 3948 §2.3: keepalives are ignored, and never count as
            // liveness evidence (U-4-1).
            UdpPayload::Keepalive => return,
            UdpPayload::Esp(esp) => {
                self.handle_esp(now, src, dst, esp);
                return;
            }
            UdpPayload::Invalid => {
                self.reject(src, dst, Rejection::NotIkeOrEsp);
                return;
            }
        };
        let header = match Header::parse(ike) {
            Ok(h) => h,
            Err(e) => {
                self.reject(src, dst, Rejection::Header(e));
                return;
            }
        };
        if ike.len() != header.length as usize {
            let octets = ike.len();
            let header = header.length;
            self.reject(src, dst, Rejection::Length { octets, header });
            return;
        }
        let is_init_request = header.exchange == ExchangeType::IKE_SA_INIT
            && !header.flags.response()
            && header.spi_r == 0;
        // Both SPIs must match, except where one is not known yet.
        let matches = |s: &IkeSa| header.spi_r == 0 || s.spi_r() == 0 || s.spi_r() == header.spi_r;
        let found = self
            .by_spi
            .get(&header.spi_i)
            .and_then(|v| v.iter().copied().find(|&i| matches(&self.sas[i])))
            .or_else(|| {
                self.deleted
                    .get(&header.spi_i)
                    .copied()
                    .filter(|&i| matches(&self.sas[i]))
            });
        if found.is_none()
            && is_init_request
            && self.shared.config.role == Role::Responder
            && !self.admit(src, dst, &header, ike)
        {
            self.run_actions(now);
            return;
        }
        let mut ctx = self.shared.ctx(now);
        match found {
            // Includes a retransmitted IKE_SA_INIT, answered from the cache
            // (RFC 7296 §2.1), and a message for a deleted SA, refused.
            Some(i) => {
                self.sas[i].handle(&mut ctx, src, dst, &header, ike);
                self.touch(i);
            }
            None if is_init_request && ctx.config.role == Role::Responder => {
                if let Some(sa) = IkeSa::accept(&mut ctx, src, dst, &header, ike) {
                    self.push(sa);
                }
            }
            None => {
                let (spi_i, spi_r) = (header.spi_i, header.spi_r);
                ctx.reject(src, dst, Rejection::UnknownSpis { spi_i, spi_r });
            }
        }
        self.run_actions(now);
    }

    /// Responder under load (RFC 7296 §2.6): whether a new IKE_SA_INIT may
    /// make state. Beyond `half_open_limit` half-open SAs it is dropped;
    /// from `cookie_threshold` on it must return our COOKIE as its first
    /// payload, else it is answered with N(COOKIE) and no state is kept.
    fn admit(&mut self, src: SocketAddr, dst: SocketAddr, header: &Header, ike: &[u8]) -> bool {
        let settings = &self.shared.config.settings;
        let (threshold, limit) = (settings.cookie_threshold, settings.half_open_limit);
        if threshold.is_none() && limit.is_none() {
            return true;
        }
        let half_open = self
            .sas
            .iter()
            .filter(|s| s.state() == crate::SaState::InitDone)
            .count();
        if let Some(limit) = limit
            && half_open >= limit as usize
        {
            self.reject(src, dst, Rejection::HalfOpenLimit { limit });
            return false;
        }
        if threshold.is_none_or(|t| half_open < t as usize) {
            return true;
        }
        let Ok(msg) = mobike_wire::Message::parse(ike) else {
            // Malformed: the SA's own checks refuse it.
            return true;
        };
        let ni = msg.payloads.iter().find_map(|p| match p {
            mobike_wire::Payload::Nonce(n) => Some(n.clone()),
            _ => None,
        });
        let secret = match self.cookie_secret {
            Some(s) => s,
            None => {
                let mut s = [0u8; 32];
                rand_core::RngCore::fill_bytes(&mut self.shared.rng, &mut s);
                self.cookie_secret = Some(s);
                s
            }
        };
        let cookie = cookie(
            &secret,
            ni.as_deref().unwrap_or(&[]),
            src.ip(),
            header.spi_i,
        );
        let sent = msg
            .payloads
            .first()
            .and_then(mobike_wire::Payload::as_notify)
            .filter(|n| n.kind == mobike_wire::NotifyType::COOKIE)
            .map(|n| n.data.clone());
        if sent.as_deref() == Some(&cookie[..]) {
            return true;
        }
        // RFC 7296 §2.6: the response carries the initiator's SPI, a zero
        // responder SPI and N(COOKIE) alone; we keep nothing.
        let reply = mobike_wire::Message::emit_plain(
            Header {
                spi_i: header.spi_i,
                spi_r: 0,
                next_payload: mobike_wire::PayloadType::None,
                exchange: ExchangeType::IKE_SA_INIT,
                flags: mobike_wire::Flags::new(false, true),
                message_id: 0,
                length: 0,
            },
            &[mobike_wire::Payload::Notify(mobike_wire::Notify::new(
                mobike_wire::NotifyType::COOKIE,
                cookie.to_vec(),
            ))],
        );
        self.shared.out.push_back(Transmit {
            src: dst,
            dst: src,
            payload: mobike_wire::udp::frame_ike(&reply, dst.port()),
            protocol: crate::IpProtocol::Udp,
        });
        self.reject(
            src,
            dst,
            Rejection::CookieRequired {
                half_open,
                wrong: sent.is_some(),
            },
        );
        false
    }

    /// An ESP packet arrived (plain, or from a UDP datagram on port 4500).
    pub fn handle_esp(&mut self, now: Time, src: SocketAddr, dst: SocketAddr, packet: &[u8]) {
        let Ok(spi) = mobike_wire::esp::spi(packet) else {
            self.reject(src, dst, Rejection::EspTooShort);
            return;
        };
        let Some(&i) = self.by_esp_spi.get(&spi) else {
            self.reject(src, dst, Rejection::UnknownEspSpi { spi });
            return;
        };
        let sa = &mut self.sas[i];
        if let Some(inner) = sa.handle_esp(&mut self.shared.ctx(now), src, dst, packet) {
            if let Some(from) = inner_addr(&inner, 12) {
                self.routes.insert(from, sa.spi_i());
            }
            self.shared.data.push_back(inner);
        }
        self.touch(i);
        self.settle();
    }

    /// Sends an inner packet (tunnel mode) through the Child SA of the IKE
    /// SA its destination was last heard from, or else of the newest
    /// established IKE SA. Returns false when there is none.
    pub fn send_data(&mut self, now: Time, inner: &[u8]) -> bool {
        let routed = inner_addr(inner, 16)
            .and_then(|d| self.routes.get(&d))
            .and_then(|spi| self.by_spi.get(spi))
            .and_then(|v| {
                v.iter()
                    .rev()
                    .copied()
                    .find(|&i| self.sas[i].is_established() && !self.sas[i].retired())
            });
        let mut ctx = self.shared.ctx(now);
        let sent = match routed {
            Some(i) => self.sas[i].send_esp(&mut ctx, inner).then_some(i),
            None => (0..self.sas.len())
                .rev()
                .find(|&i| self.sas[i].send_esp(&mut ctx, inner)),
        };
        if let Some(i) = sent {
            // Sending resets the keepalive timer.
            self.touch(i);
            self.settle();
        }
        sent.is_some()
    }

    /// Inner packets received through the tunnel, in arrival order.
    pub fn poll_data(&mut self) -> Option<Vec<u8>> {
        self.shared.data.pop_front()
    }

    /// Timers due at or before `now` fire.
    pub fn handle_timeout(&mut self, now: Time) {
        self.settle();
        // In the SAs' order, as a scan of them all would find them.
        let mut due = std::mem::take(&mut self.expired);
        match &self.timers {
            Some(timers) => {
                due.extend(timers.range(..=(now, usize::MAX)).map(|&(_, i)| i));
                due.sort_unstable();
            }
            None => due.extend(
                (self.book.iter().enumerate())
                    .filter(|(_, b)| b.due.is_some_and(|t| t <= now))
                    .map(|(i, _)| i),
            ),
        }
        let mut ctx = self.shared.ctx(now);
        for &i in &due {
            self.sas[i].handle_timeout(&mut ctx);
        }
        for &i in &due {
            self.touch(i);
        }
        due.clear();
        self.expired = due;
        self.run_actions(now);
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
        self.touch_all();
        self.run_actions(now);
    }

    pub fn poll_transmit(&mut self) -> Option<Transmit> {
        self.shared.out.pop_front()
    }

    pub fn poll_event(&mut self) -> Option<Event> {
        self.shared.events.pop_front()
    }

    /// Reads the endpoint's own fields that handling an input reads first
    /// (its lists' lengths, the settings a timer checks), so that they
    /// come from memory together.
    pub fn warm(&self) {
        let s = &self.shared.config.settings;
        std::hint::black_box((
            self.book.len(),
            self.sas.len(),
            self.dirty.len(),
            self.expired.len(),
            self.timers.is_some(),
            self.shared.out.len(),
            self.shared.actions.len(),
            self.shared.local_addrs.len(),
        ));
        std::hint::black_box((
            s.liveness_interval,
            s.keepalive_interval,
            s.path_test_interval,
            s.child_lifetime,
            s.ike_lifetime,
            s.retransmit_initial,
            s.reaction_delay,
            s.window_size,
            s.mobike,
        ));
        if let [sa] = &self.sas[..] {
            sa.warm();
        }
    }

    /// The earliest timer of any IKE SA.
    pub fn poll_timeout(&self) -> Option<Time> {
        match &self.timers {
            Some(timers) => timers.first().map(|&(t, _)| t),
            None => self.book.iter().filter_map(|b| b.due).min(),
        }
    }

    /// Serializable state of every IKE SA, for the UI.
    pub fn snapshots(&self) -> Vec<SaSnapshot> {
        let settings = &self.shared.config.settings;
        self.sas
            .iter()
            .map(|s| s.snapshot(&self.shared.local_addrs, settings))
            .collect()
    }

    fn reject(&mut self, src: SocketAddr, dst: SocketAddr, reason: Rejection) {
        self.shared.ctx(0).reject(src, dst, reason);
    }
}

/// Our COOKIE for an IKE_SA_INIT (RFC 7296 §2.6): a version octet, then
/// prf(secret, Ni | IPi | SPIi) cut to 16 octets, so it can be checked
/// again without keeping anything.
fn cookie(secret: &[u8; 32], ni: &[u8], ip: IpAddr, spi_i: u64) -> [u8; 17] {
    let mut data = ni.to_vec();
    match ip {
        IpAddr::V4(a) => data.extend_from_slice(&a.octets()),
        IpAddr::V6(a) => data.extend_from_slice(&a.octets()),
    }
    data.extend_from_slice(&spi_i.to_be_bytes());
    let mac = mobike_wire::crypto::prf(secret, &data);
    let mut out = [0u8; 17];
    out[0] = 1;
    out[1..].copy_from_slice(&mac[..16]);
    out
}
