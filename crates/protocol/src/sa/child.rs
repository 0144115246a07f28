//! The Child SAs (RFC 7296 §2.17): the one made with IKE_AUTH and those
//! that replace it when it is rekeyed (rekey.rs). ESP with AES-GCM (RFC
//! 4106) on the IPsec SAs' addresses, UDP-encapsulated behind a NAT (RFC
//! 3948), with the 64-packet replay window of RFC 4303 §3.4.3. All of an
//! IKE SA's Child SAs share its IPsec SA addresses, so a MOBIKE move moves
//! them together (RFC 4555 §3.5).

use super::*;
use mobike_wire::esp::{self, EspSa};

/// One Child SA: our outbound and inbound ESP SAs and their counters.
#[derive(Clone)]
pub(super) struct ChildSa {
    pub(super) out: EspSa,
    pub(super) inbound: EspSa,
    seq: u32,
    /// Highest sequence number received and the 64-packet replay window
    /// below it (RFC 4303 §3.4.3).
    highest: u32,
    window: u64,
    /// When it was made: its lifetime runs from here (RFC 7296 §2.8).
    pub(super) born: Time,
    /// The lower of the two nonces of the exchange that made it, to tell
    /// which of two simultaneous rekeys is redundant (RFC 7296 §2.8.1).
    pub(super) lowest_nonce: Vec<u8>,
    /// We started the exchange that made it.
    pub(super) ours: bool,
    /// The inbound SPI of the Child SA it was made to replace (rekey.rs).
    pub(super) replaces: Option<u32>,
    /// Its traffic selectors, ours and the peer's (RFC 7296 §2.9): the
    /// inner packets it carries go from the first to the second.
    pub(super) ts: Selectors,
}

/// An IKE SA's Child SAs, oldest first, with the newest one's inbound SPI
/// beside the list: the endpoint reads that SPI after every input to the
/// SA (to file the SA under it), and here it costs no look at the list.
/// The list changes only through these methods, which keep the two in
/// step; its Child SAs may change, but not their inbound SPIs.
#[derive(Clone, Default)]
pub(super) struct Children {
    list: Vec<ChildSa>,
    newest_in: Option<u32>,
}

impl Children {
    fn sync(&mut self) {
        self.newest_in = self.list.last().map(|c| c.inbound.spi);
    }

    pub(super) fn push(&mut self, c: ChildSa) {
        self.list.push(c);
        self.sync();
    }

    pub(super) fn retain(&mut self, keep: impl FnMut(&ChildSa) -> bool) {
        self.list.retain(keep);
        self.sync();
    }

    pub(super) fn clear(&mut self) {
        self.list.clear();
        self.sync();
    }

    /// The inbound SPI of the newest Child SA.
    pub(super) fn newest_in(&self) -> Option<u32> {
        self.newest_in
    }
}

impl std::ops::Deref for Children {
    type Target = [ChildSa];
    fn deref(&self) -> &[ChildSa] {
        &self.list
    }
}

impl std::ops::DerefMut for Children {
    fn deref_mut(&mut self) -> &mut [ChildSa] {
        &mut self.list
    }
}

impl FromIterator<ChildSa> for Children {
    fn from_iter<I: IntoIterator<Item = ChildSa>>(iter: I) -> Children {
        let mut c = Children {
            list: iter.into_iter().collect(),
            newest_in: None,
        };
        c.sync();
        c
    }
}

/// A Child SA's traffic selectors: (our side, the peer's side).
pub(super) type Selectors = (Vec<TrafficSelector>, Vec<TrafficSelector>);

/// The TSi and TSr payloads of a message.
pub(super) fn selectors_of(inner: &[Payload]) -> Option<Selectors> {
    let tsi = inner.iter().find_map(|p| match p {
        Payload::TsI(t) => Some(t.clone()),
        _ => None,
    })?;
    let tsr = inner.iter().find_map(|p| match p {
        Payload::TsR(t) => Some(t.clone()),
        _ => None,
    })?;
    Some((tsi, tsr))
}

/// A range as the panels write it: "10.2.0.0/24" where it is a subnet,
/// else "first–last"; "any" for every IPv4 address.
fn selector_text(t: &TrafficSelector) -> String {
    if *t == any_ts()[0] {
        return "any".into();
    }
    if let (IpAddr::V4(s), IpAddr::V4(e)) = (t.start, t.end) {
        let host = u32::from(s) ^ u32::from(e);
        if host.wrapping_add(1) & host == 0 && u32::from(s) & host == 0 {
            return format!("{s}/{}", 32 - host.count_ones());
        }
    }
    format!("{}–{}", t.start, t.end)
}

/// Whether a newer Child SA than `children[k]` has its selectors: it was
/// replaced by a rekey (or is the redundant one of two crossed rekeys,
/// RFC 7296 §2.8.1) and only waits for its Delete; the newer one carries
/// its traffic.
pub(super) fn superseded(children: &[ChildSa], k: usize) -> bool {
    children[k + 1..].iter().any(|d| d.ts == children[k].ts)
}

/// Selectors as a note writes them: "10.2.0.0/24", "any".
pub(super) fn selector_list(ts: &[TrafficSelector]) -> String {
    ts.iter().map(selector_text).collect::<Vec<_>>().join(", ")
}

/// A Child SA's selectors as the panels write them: "any ⇄ 10.2.0.0/24";
/// empty for all traffic both ways.
pub(super) fn selectors_text(ts: &Selectors) -> String {
    let (ours, theirs) = (selector_list(&ts.0), selector_list(&ts.1));
    if ours == "any" && theirs == "any" {
        return String::new();
    }
    format!("{ours} ⇄ {theirs}")
}

/// The inner packet's source and destination (IPv4 or IPv6 header).
fn inner_ends(inner: &[u8]) -> Option<(IpAddr, IpAddr)> {
    match inner.first()? >> 4 {
        4 if inner.len() >= 20 => {
            let a = <[u8; 4]>::try_from(&inner[12..16]).ok()?;
            let b = <[u8; 4]>::try_from(&inner[16..20]).ok()?;
            Some((IpAddr::from(a), IpAddr::from(b)))
        }
        6 if inner.len() >= 40 => {
            let a = <[u8; 16]>::try_from(&inner[8..24]).ok()?;
            let b = <[u8; 16]>::try_from(&inner[24..40]).ok()?;
            Some((IpAddr::from(a), IpAddr::from(b)))
        }
        _ => None,
    }
}

impl ChildSa {
    /// `made`: whether we started the exchange that made it, and the
    /// inbound SPI of the SA it replaces.
    pub(super) fn new(
        out: EspSa,
        inbound: EspSa,
        born: Time,
        nonces: [&[u8]; 2],
        made: (bool, Option<u32>),
        ts: Selectors,
    ) -> ChildSa {
        ChildSa {
            ts,
            out,
            inbound,
            seq: 0,
            highest: 0,
            window: 0,
            born,
            lowest_nonce: nonces[0].min(nonces[1]).to_vec(),
            ours: made.0,
            replaces: made.1,
        }
    }

    /// Whether an inner packet from `src` to `dst` is its traffic (RFC
    /// 4301's selectors: ours hold the source, the peer's the destination).
    fn carries(&self, src: IpAddr, dst: IpAddr) -> bool {
        self.ts.0.iter().any(|t| t.contains(src)) && self.ts.1.iter().any(|t| t.contains(dst))
    }

    /// RFC 4303 §3.4.3: false for a replay or a packet too old for the
    /// window; else the packet is marked as seen.
    fn accept_seq(&mut self, seq: u32) -> bool {
        if seq > self.highest {
            let shift = seq - self.highest;
            self.window = if shift >= 64 { 0 } else { self.window << shift };
            self.window |= 1;
            self.highest = seq;
            return true;
        }
        let back = self.highest - seq;
        if back >= 64 || self.window & (1 << back) != 0 {
            return false;
        }
        self.window |= 1 << back;
        true
    }
}

impl IkeSa {
    /// Our inbound ESP SPI of the newest Child SA (older ones stay known to
    /// the endpoint until they are deleted).
    pub fn inbound_spi(&self) -> Option<u32> {
        self.est()?.children.newest_in()
    }

    /// Our inbound ESP SPIs of every Child SA, oldest first.
    pub fn inbound_spis(&self) -> impl Iterator<Item = u32> + '_ {
        self.est()
            .into_iter()
            .flat_map(|e| e.children.iter().map(|c| c.inbound.spi))
    }

    /// Sends an inner packet through the Child SA on the IPsec SAs' current
    /// addresses: UDP-encapsulated on the IKE ports when NAT traversal is on
    /// (RFC 3948 §2.1, U-2.1-1), plain ESP otherwise.
    pub fn send_esp(&mut self, ctx: &mut Ctx, inner: &[u8]) -> bool {
        let Some(e) = self.est_mut() else {
            return false;
        };
        let ((local, remote), udp_encap) = (e.ipsec, e.udp_encap);
        // The newest Child SA whose selectors hold the packet carries it
        // (RFC 7296 §2.8: once a rekey is done, the new SA is used; §2.9:
        // each Child SA its own traffic). A packet no Child SA's selectors
        // hold is not sent.
        let Some((src, dst)) = inner_ends(inner) else {
            return false;
        };
        let Some(child) = e.children.iter_mut().rev().find(|c| c.carries(src, dst)) else {
            return false;
        };
        child.seq = child.seq.wrapping_add(1);
        let Ok(packet) = child.out.seal(child.seq, esp::NEXT_HEADER_IPV4, inner) else {
            return false;
        };
        let t = if udp_encap {
            Transmit {
                src: local,
                dst: remote,
                payload: packet,
                protocol: IpProtocol::Udp,
            }
        } else {
            Transmit {
                src: SocketAddr::new(local.ip(), 0),
                dst: SocketAddr::new(remote.ip(), 0),
                payload: packet,
                protocol: IpProtocol::Esp,
            }
        };
        ctx.out.push_back(t);
        self.last_tx = ctx.now;
        true
    }

    /// An ESP packet for our inbound SPI, plain or UDP-encapsulated (both
    /// are accepted at any time, I-2.23-4, I-2.23-10). Returns the inner
    /// packet. Replays and packets too old for the window are dropped.
    pub fn handle_esp(
        &mut self,
        ctx: &mut Ctx,
        src: SocketAddr,
        dst: SocketAddr,
        packet: &[u8],
    ) -> Option<Vec<u8>> {
        let spi_i = self.spi_i;
        let e = self.est_mut()?;
        let spi = esp::spi(packet).ok()?;
        let Some(k) = e.children.iter().position(|c| c.inbound.spi == spi) else {
            // A Child SA deleted since (or never ours).
            ctx.reject(src, dst, Rejection::UnknownEspSpi { spi });
            return None;
        };
        let plain = match e.children[k].inbound.open(packet) {
            Ok(p) => p,
            Err(err) => {
                ctx.reject(src, dst, Rejection::Esp(err));
                return None;
            }
        };
        // M-3.12-1: compare the packet's addresses with the IPsec SA's. A
        // packet from elsewhere is delivered (both sides may briefly
        // disagree during a move) but is no liveness evidence (M-3.12-2).
        let (l, r) = e.ipsec;
        if l.ip() == dst.ip() && r.ip() == src.ip() {
            e.esp_mismatch = None;
            if ctx.config.settings.esp_liveness {
                self.last_rx = ctx.now;
            }
        } else if e.esp_mismatch != Some((src, dst)) {
            e.esp_mismatch = Some((src, dst));
            let note = Note::EspElsewhere {
                src: src.ip(),
                dst: dst.ip(),
                sa_remote: r.ip(),
                sa_local: l.ip(),
            };
            ctx.note(spi_i, note);
        }
        let seq = plain.seq;
        let e = self.est_mut()?;
        if !e.children.get_mut(k)?.accept_seq(seq) {
            ctx.reject(src, dst, Rejection::EspReplay { seq });
            return None;
        }
        Some(plain.payload)
    }
}
