//! The message sequence chart model, derived from the trace: every IKE
//! message is parsed from the bytes that were sent and, when protected,
//! decrypted with the keys the trace recorded (as Wireshark would with a
//! key log). So the chart shows what is on the wire, not what a sender meant.

use mobike_protocol::{Event, IpProtocol, Time};
use mobike_sim::trace::Bytes;
use mobike_sim::trace::PacketId;
use mobike_sim::{Scenario, Trace, TraceKind};
use mobike_wire::crypto::{GcmKey, IkeKeys};
use mobike_wire::esp::EspSa;
use mobike_wire::ip::Ping;
use mobike_wire::message::{Message, decrypt, notation_items};
use mobike_wire::payload::Payload;
use mobike_wire::udp::{UdpPayload, classify};
use rustc_hash::FxHashMap as HashMap;
use serde::Serialize;
use std::borrow::Cow;
use std::hash::{Hash, Hasher};
use std::net::{IpAddr, SocketAddr};
use std::sync::{Arc, OnceLock};

/// A vertical line of the chart: one host.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Lane {
    pub node: String,
    pub label: String,
    pub role: String,
}

/// One datagram in the chart.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct MessageRow {
    pub packet: PacketId,
    pub sent: Time,
    /// When it reached the receiver; `None` if it was lost or is in flight.
    pub arrived: Option<Time>,
    pub from: usize,
    /// The lane it was meant for, if any host owns the destination.
    pub to: Option<usize>,
    /// Addresses as sent.
    pub src: SocketAddr,
    pub dst: SocketAddr,
    /// Addresses as received, when a NAT rewrote them.
    pub received_as: Option<(SocketAddr, SocketAddr)>,
    pub what: What,
    /// Lost, and why.
    pub lost: Option<String>,
    /// The same IKE octets were sent before (RFC 7296 §2.1).
    pub retransmission: bool,
    /// Datagram size in octets (UDP payload).
    pub size: usize,
}

/// What a datagram carried.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum What {
    Ike {
        /// The registry's name ("exchange N" for one it lacks).
        exchange: Cow<'static, str>,
        mid: u32,
        response: bool,
        /// RFC notation, one item per payload; protected payloads appear
        /// inside `SK {...}`. Shared, as `inner`, by the chart's copies (the
        /// page keeps one per checkpoint).
        items: Arc<[String]>,
        /// The payloads inside SK, decrypted.
        #[serde(skip)]
        inner: Option<Arc<[Payload]>>,
        /// Why the message could not be parsed or opened, if so.
        error: Option<String>,
    },
    Keepalive,
    /// An ESP packet: SPI, sequence number, what it carries once decrypted
    /// with the Child SA keys from the trace, and whether it was
    /// UDP-encapsulated.
    Esp {
        spi: u32,
        seq: u32,
        inner: EspInner,
        udp: bool,
    },
    Other,
}

/// What an ESP packet carries, opened with its Child SA's key the first
/// time it is asked for: a chart of a long run holds thousands of pings
/// that nobody looks at (the page hides ESP rows unless shown), and
/// opening each as it arrives cost the page a fifth of its time while
/// playing a large cluster. It compares, prints and serialises as the
/// `Option<String>` it opens to: none without a key.
#[derive(Clone)]
pub struct EspInner(Arc<Sealed>);

struct Sealed {
    opened: OnceLock<Option<String>>,
    /// The ESP packet: the whole datagram (UDP-encapsulated ESP has no
    /// marker before it, RFC 3948 §2.1, U-2.1-1).
    packet: Bytes,
    key: Option<Arc<GcmKey>>,
}

impl EspInner {
    fn sealed(packet: Bytes, key: Option<Arc<GcmKey>>, opened: OnceLock<Option<String>>) -> Self {
        EspInner(Arc::new(Sealed {
            opened,
            packet,
            key,
        }))
    }

    /// Contents known already (or none).
    pub fn opened(inner: Option<String>) -> EspInner {
        EspInner::sealed(Bytes::default(), None, OnceLock::from(inner))
    }

    /// What it carries ("ICMP echo request 10.99.0.2 -> 10.1.0.1 seq 3",
    /// or why it does not open); `None` without the SA's key.
    pub fn get(&self) -> Option<&str> {
        let s = &*self.0;
        s.opened
            .get_or_init(|| {
                let key = s.key.as_ref()?;
                Some(open_esp(&s.packet, key))
            })
            .as_deref()
    }
}

/// Opens an ESP packet and says what is inside.
fn open_esp(packet: &[u8], key: &GcmKey) -> String {
    let sa = EspSa {
        spi: mobike_wire::esp::spi(packet).unwrap_or(0),
        key: key.clone(),
    };
    match sa.open(packet) {
        Ok(p) => match Ping::parse(&p.payload) {
            Ok(ping) => format!(
                "ICMP echo {} {} -> {} seq {}",
                if ping.reply { "reply" } else { "request" },
                ping.src,
                ping.dst,
                ping.seq
            ),
            Err(_) => format!("{} octets", p.payload.len()),
        },
        Err(e) => format!("does not open: {e}"),
    }
}

impl PartialEq for EspInner {
    fn eq(&self, o: &EspInner) -> bool {
        self.get() == o.get()
    }
}

impl std::fmt::Debug for EspInner {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        std::fmt::Debug::fmt(&self.get(), f)
    }
}

impl Serialize for EspInner {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        self.get().serialize(s)
    }
}

impl What {
    /// "IKE_AUTH request #1", "NAT-keepalive", "ESP SPI … seq …": a
    /// message's title.
    pub fn title(&self) -> String {
        match self {
            What::Ike {
                exchange,
                mid,
                response,
                ..
            } => format!(
                "{exchange} {} #{mid}",
                if *response { "response" } else { "request" }
            ),
            What::Keepalive => "NAT-keepalive".into(),
            What::Esp { spi, seq, .. } => format!("ESP SPI {spi:08x} seq {seq}"),
            What::Other => "UDP".into(),
        }
    }

    /// "HDR, SK {N(UPDATE_SA_ADDRESSES), N(COOKIE2)}" etc.
    pub fn notation(&self) -> String {
        match self {
            What::Ike { items, .. } => items.join(", "),
            What::Keepalive => "NAT-keepalive (0xFF)".into(),
            What::Esp { inner, udp, .. } => format!(
                "{}ESP {{{}}}",
                if *udp { "UDP, " } else { "" },
                inner.get().unwrap_or("?")
            ),
            What::Other => "UDP".into(),
        }
    }
}

impl MessageRow {
    /// Its datagram's [`What::notation`].
    pub fn notation(&self) -> String {
        self.what.notation()
    }

    /// "IKE_AUTH request #1".
    pub fn title(&self) -> String {
        self.what.title()
    }

    /// What a NAT changed on the way: the source a request arrived from,
    /// or where a response was delivered.
    pub fn nat_note(&self) -> Option<String> {
        let (s, d) = self.received_as?;
        let (text, addr) = if s != self.src {
            ("NAT: arrives from ", s)
        } else if d != self.dst {
            ("NAT: delivered to ", d)
        } else {
            return None;
        };
        let mut note = String::with_capacity(text.len() + 21);
        note.push_str(text);
        push_addr(&mut note, addr);
        Some(note)
    }

    pub fn is_ike(&self) -> bool {
        matches!(self.what, What::Ike { .. })
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum NoteKind {
    /// Something done to the network (timeline or user).
    Network,
    /// A protocol decision or state change.
    Protocol,
    /// A message that was not accepted.
    Rejected,
    /// A narration step of the scenario (`[[step]]`).
    Narration,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct NoteRow {
    pub time: Time,
    pub lane: Option<usize>,
    pub text: String,
    /// The rule behind it, e.g. "RFC 4555 §3.5".
    pub rule: Option<String>,
    pub kind: NoteKind,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(tag = "row", rename_all = "snake_case")]
#[allow(clippy::large_enum_variant)] // most rows are messages; boxing them buys nothing
pub enum Row {
    Message(MessageRow),
    Note(NoteRow),
}

impl Row {
    pub fn time(&self) -> Time {
        match self {
            Row::Message(m) => m.sent,
            Row::Note(n) => n.time,
        }
    }
}

/// The chart's rows, each held once and shared by the chart's copies: the
/// page keeps a copy of the chart at each checkpoint (up to 24), and a
/// copy took every row's fields (312 octets and their text) where it
/// now takes a pointer (a 200-client cluster: 6% of the page's thread
/// while playing went to those copies). A row changed in one copy is
/// copied first ([`Arc::make_mut`]).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Rows(Vec<Arc<Row>>);

impl Rows {
    pub fn len(&self) -> usize {
        self.0.len()
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    pub fn get(&self, i: usize) -> Option<&Row> {
        self.0.get(i).map(|r| &**r)
    }

    pub fn last(&self) -> Option<&Row> {
        self.0.last().map(|r| &**r)
    }

    pub fn iter(&self) -> impl DoubleEndedIterator<Item = &Row> + ExactSizeIterator + Clone + '_ {
        self.0.iter().map(|r| &**r)
    }

    /// Rows `r.start` to `r.end` (not included).
    pub fn range(
        &self,
        r: std::ops::Range<usize>,
    ) -> impl DoubleEndedIterator<Item = &Row> + ExactSizeIterator + Clone + '_ {
        self.0[r].iter().map(|r| &**r)
    }

    pub fn push(&mut self, row: Row) {
        self.0.push(Arc::new(row));
    }

    /// Row `i` to change: copied first if another copy of the chart
    /// shares it.
    pub fn get_mut(&mut self, i: usize) -> Option<&mut Row> {
        self.0.get_mut(i).map(Arc::make_mut)
    }

    /// How many rows, place by place, are one and the same row in `other`
    /// (a copy's rows until either changes them).
    pub fn shared_with(&self, other: &Rows) -> usize {
        self.0
            .iter()
            .zip(&other.0)
            .filter(|(a, b)| Arc::ptr_eq(a, b))
            .count()
    }

    pub fn reserve(&mut self, more: usize) {
        self.0.reserve(more);
    }
}

impl std::ops::Index<usize> for Rows {
    type Output = Row;
    fn index(&self, i: usize) -> &Row {
        &self.0[i]
    }
}

impl<'a> IntoIterator for &'a Rows {
    type Item = &'a Row;
    type IntoIter = std::iter::Map<std::slice::Iter<'a, Arc<Row>>, fn(&Arc<Row>) -> &Row>;
    fn into_iter(self) -> Self::IntoIter {
        self.0.iter().map(|r| &**r)
    }
}

impl FromIterator<Row> for Rows {
    fn from_iter<I: IntoIterator<Item = Row>>(rows: I) -> Rows {
        Rows(rows.into_iter().map(Arc::new).collect())
    }
}

impl From<Vec<Row>> for Rows {
    fn from(rows: Vec<Row>) -> Rows {
        rows.into_iter().collect()
    }
}

impl Serialize for Rows {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_seq(self.iter())
    }
}

#[derive(Clone, Debug, Default, Serialize)]
pub struct Chart {
    pub lanes: Vec<Lane>,
    pub rows: Rows,
    /// Per row, a number that changes whenever the row does (drawn from one
    /// counter for the whole program, so no two versions of a row, in this
    /// chart or another, share one): the layout keeps a row's drawing while
    /// its number stays (see [`crate::msc::LayoutCache`]).
    #[serde(skip)]
    pub(crate) stamps: Vec<u64>,
    /// Per row, the place in the trace of the event that last changed it
    /// (made it, or marked its arrival, translation or loss): a row is a
    /// function of the trace up to there (see
    /// [`ChartBuilder::update_to_like`]).
    #[serde(skip)]
    pub(crate) changed_at: Vec<usize>,
}

/// Two charts are equal when their lanes and rows are.
impl PartialEq for Chart {
    fn eq(&self, o: &Chart) -> bool {
        self.lanes == o.lanes && self.rows == o.rows
    }
}

/// The next row stamp (see [`Chart`]): never the same twice.
fn next_stamp() -> u64 {
    static NEXT: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(1);
    NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed)
}

impl Chart {
    /// Its rows' stamps: a number per row that changes whenever the row
    /// does (the layout keeps a row's drawing while it stays).
    pub fn stamps(&self) -> &[u64] {
        &self.stamps
    }

    /// The chart of a whole trace.
    pub fn build(scenario: &Scenario, trace: &Trace) -> Chart {
        let mut b = ChartBuilder::new(scenario);
        b.update(trace);
        b.chart
    }

    pub fn messages(&self) -> impl Iterator<Item = &MessageRow> {
        self.rows.iter().filter_map(|r| match r {
            Row::Message(m) => Some(m),
            _ => None,
        })
    }

    pub fn message(&self, packet: PacketId) -> Option<&MessageRow> {
        self.messages().find(|m| m.packet == packet)
    }
}

/// An IKE message's octets: the end of the datagram that carries it (after
/// the non-ESP marker on port 4500), held by the datagram's shared bytes
/// (no copy: the chart builder's copies share them too), compared and hashed
/// as the message alone.
#[derive(Clone)]
struct Octets {
    datagram: Bytes,
    from: usize,
}

impl Octets {
    /// `ike` lies at the end of `datagram`.
    fn of(datagram: &Bytes, ike: &[u8]) -> Octets {
        let from = datagram.len() - ike.len();
        debug_assert_eq!(&datagram[from..], ike);
        Octets {
            datagram: datagram.clone(),
            from,
        }
    }

    fn get(&self) -> &[u8] {
        &self.datagram[self.from..]
    }
}

impl PartialEq for Octets {
    fn eq(&self, o: &Self) -> bool {
        self.get() == o.get()
    }
}
impl Eq for Octets {}
impl Hash for Octets {
    fn hash<H: Hasher>(&self, h: &mut H) {
        self.get().hash(h);
    }
}

/// Builds a chart incrementally as the trace grows (the page calls
/// [`ChartBuilder::update`] after each simulation step).
#[derive(Clone)]
pub struct ChartBuilder {
    pub chart: Chart,
    /// Rows changed since the last stamping (see [`Chart::stamps`]).
    touched: Vec<usize>,
    done: usize,
    keys: HashMap<u64, IkeKeys>,
    esp_keys: HashMap<u32, Arc<GcmKey>>,
    /// The row of each packet on its way (see [`ChartBuilder::row_last`]).
    row_of: HashMap<PacketId, usize>,
    /// IKE messages sent so far, to tell retransmissions.
    seen: HashMap<Octets, usize>,
    owner: HashMap<IpAddr, usize>,
    nat_lane: HashMap<IpAddr, usize>,
    /// A NAT's lane by its id, for when its public address changes.
    nat_lane_by_id: HashMap<String, usize>,
    /// Each NAT mapping's outside address and the inside host it leads to
    /// (the last one it did), so a datagram lost on its way to a NAT's
    /// address is drawn to the host it was meant for, not to the first
    /// host behind that NAT.
    mapped: HashMap<SocketAddr, usize>,
    /// Each node's lane, so finding it is one probe however many lanes.
    lane_of: HashMap<String, usize>,
    /// Narration steps, the next one to show, and the rows already looked at.
    steps: Vec<mobike_sim::scenario::Step>,
    next_step: usize,
    narrated: usize,
    /// The moment of each step shown, in order.
    step_times: Vec<Time>,
}

impl ChartBuilder {
    pub fn new(scenario: &Scenario) -> ChartBuilder {
        let lanes: Vec<Lane> = scenario
            .hosts
            .iter()
            .map(|h| Lane {
                node: h.id.clone(),
                label: if h.label.is_empty() {
                    h.id.clone()
                } else {
                    h.label.clone()
                },
                role: match h.role {
                    mobike_protocol::Role::Initiator => "initiator".into(),
                    mobike_protocol::Role::Responder => "responder".into(),
                },
            })
            .collect();
        let mut owner = HashMap::default();
        for (i, h) in scenario.hosts.iter().enumerate() {
            for f in &h.interfaces {
                owner.insert(f.address, i);
            }
        }
        // A NAT's public address belongs to the host behind it (on its link).
        let mut nat_lane = HashMap::default();
        let mut nat_lane_by_id = HashMap::default();
        for n in &scenario.nats {
            for (i, h) in scenario.hosts.iter().enumerate() {
                if h.interfaces
                    .iter()
                    .any(|f| Some(&f.link) == n.link.as_ref())
                {
                    nat_lane.insert(n.public_address, i);
                    nat_lane_by_id.insert(n.id.clone(), i);
                }
            }
        }
        let mut lane_of = HashMap::default();
        for (i, l) in lanes.iter().enumerate() {
            lane_of.entry(l.node.clone()).or_insert(i);
        }
        ChartBuilder {
            lane_of,
            chart: Chart {
                lanes,
                rows: Rows::default(),
                stamps: Vec::new(),
                changed_at: Vec::new(),
            },
            touched: Vec::new(),
            done: 0,
            keys: HashMap::default(),
            esp_keys: HashMap::default(),
            row_of: HashMap::default(),
            seen: HashMap::default(),
            owner,
            nat_lane,
            nat_lane_by_id,
            mapped: HashMap::default(),
            steps: scenario.steps.clone(),
            next_step: 0,
            narrated: 0,
            step_times: Vec::new(),
        }
    }

    /// How many narration steps have been shown.
    pub fn steps_shown(&self) -> usize {
        self.next_step
    }

    /// The moment each step shown came (its narration row's): step `k` is
    /// at index `k - 1`. Kept as the steps come, so the page reads it on
    /// every draw without looking at every row.
    pub fn step_times(&self) -> &[Time] {
        &self.step_times
    }

    /// Shows the narration steps whose moment has come with the rows
    /// added since the last call (a step waits for the one before it).
    fn narrate(&mut self) {
        while self.next_step < self.steps.len() {
            let step = &self.steps[self.next_step];
            let unconditional = step.at.is_none()
                && step.message.is_none()
                && step.note.is_none()
                && step.note_rule.is_none();
            let mut fire = None;
            if unconditional {
                fire = Some(
                    self.narrated
                        .checked_sub(1)
                        .map_or(0, |i| self.chart.rows[i].time()),
                );
            } else {
                while self.narrated < self.chart.rows.len() {
                    let row = &self.chart.rows[self.narrated];
                    self.narrated += 1;
                    if self.step_matches(self.next_step, row) {
                        fire = Some(row.time());
                        break;
                    }
                }
            }
            let Some(time) = fire else { return };
            let text = self.steps[self.next_step].text.clone();
            self.next_step += 1;
            self.step_times.push(time);
            self.chart.rows.push(Row::Note(NoteRow {
                time,
                lane: None,
                text,
                rule: None,
                kind: NoteKind::Narration,
            }));
        }
    }

    fn step_matches(&self, k: usize, row: &Row) -> bool {
        let step = &self.steps[k];
        if let Some(at) = step.at
            && row.time() < at.micros()
        {
            return false;
        }
        let host_lane = step.host.as_deref().map(|h| self.lane(h));
        match row {
            Row::Message(m) => {
                let Some(want) = &step.message else {
                    return step.note.is_none() && step.note_rule.is_none();
                };
                let response = matches!(m.what, What::Ike { response: true, .. });
                m.notation().contains(want.as_str())
                    && host_lane.is_none_or(|l| l == m.from)
                    && step.response.is_none_or(|r| r == response)
            }
            Row::Note(n) => {
                if n.kind == NoteKind::Narration {
                    return false;
                }
                if step.note.is_none() && step.note_rule.is_none() {
                    return step.message.is_none();
                }
                let text = step
                    .note
                    .as_ref()
                    .is_none_or(|want| n.text.contains(want.as_str()));
                let rule = step.note_rule.as_ref().is_none_or(|id| {
                    n.rule.as_deref().is_some_and(|r| {
                        mobike_protocol::reason::checklist_ids(r).contains(&id.as_str())
                    })
                });
                text && rule && host_lane.is_none_or(|l| n.lane == Some(l))
            }
        }
    }

    fn lane(&self, node: &str) -> usize {
        self.lane_of.get(node).copied().unwrap_or(0)
    }

    /// Consumes the trace events added since the last call.
    pub fn update(&mut self, trace: &Trace) {
        self.update_to(trace, trace.len());
    }

    /// How many of the trace's events the chart has consumed.
    pub fn consumed(&self) -> usize {
        self.done
    }

    /// Consumes the trace's events up to `end` (not past its length): the
    /// chart of the trace cut there, as [`ChartBuilder::update`] builds it
    /// (the page keeps the charts of its checkpoints' moments so).
    pub fn update_to(&mut self, trace: &Trace, end: usize) {
        self.update_with(trace, end, None);
    }

    /// As [`ChartBuilder::update_to`], taking what it can from `donor`, a
    /// chart of the same run whose trace is this one's up to `shared`: a
    /// row `donor` has as it is (last changed by the same event, before
    /// `shared`) keeps `donor`'s stamp, so the layout keeps its drawing,
    /// and a message's notation and decrypted payloads come from there
    /// instead of decoding the datagram again. The page builds the chart
    /// so after a jump back, from the chart it showed before (the rows
    /// since the last checkpoint's chart are built again).
    pub fn update_to_like(&mut self, trace: &Trace, end: usize, donor: &Chart, shared: usize) {
        // Room for its rows at once (a checkpoint's copy has none to spare).
        let more = donor.rows.len().saturating_sub(self.chart.rows.len());
        self.chart.rows.reserve(more);
        self.chart.stamps.reserve(more);
        self.chart.changed_at.reserve(more);
        self.update_with(trace, end, Some((donor, shared)));
    }

    fn update_with(&mut self, trace: &Trace, end: usize, donor: Option<(&Chart, usize)>) {
        let end = end.min(trace.len());
        if end <= self.done {
            return;
        }
        for (at, e) in (self.done..).zip(trace.iter_from(self.done).take(end - self.done)) {
            let touched = self.touched.len();
            self.consume(e.time, &e.kind, donor);
            // Narration goes right after the row that brings it.
            if self.next_step < self.steps.len() {
                self.narrate();
            }
            let changed_at = &mut self.chart.changed_at;
            for &i in &self.touched[touched..] {
                if let Some(c) = changed_at.get_mut(i) {
                    *c = at;
                }
            }
            changed_at.resize(self.chart.rows.len(), at);
        }
        self.done = end;
        // New stamps for the rows changed and the rows added, but for
        // those the donor has as they are.
        let chart = &mut self.chart;
        let first_new = chart.stamps.len();
        let changed = self.touched.drain(..).chain(first_new..chart.rows.len());
        chart.stamps.resize(chart.rows.len(), 0);
        for i in changed {
            let at = chart.changed_at[i];
            chart.stamps[i] = match donor {
                Some((d, shared)) if at < shared && d.changed_at.get(i) == Some(&at) => {
                    d.stamps.get(i).copied().unwrap_or_else(next_stamp)
                }
                _ => next_stamp(),
            };
        }
    }

    fn consume(&mut self, time: Time, kind: &TraceKind, donor: Option<(&Chart, usize)>) {
        match kind {
            TraceKind::Sent {
                packet,
                node,
                src,
                dst,
                payload,
                protocol,
                ..
            } => {
                let (src, dst) = (&src.get(), &dst.get());
                let from = self.lane(node);
                let to = self
                    .owner
                    .get(&dst.ip())
                    .or_else(|| self.mapped.get(dst))
                    .or_else(|| self.nat_lane.get(&dst.ip()))
                    .copied();
                let r = self.chart.rows.len();
                let same =
                    donor.and_then(|(d, shared)| match (d.rows.get(r), d.changed_at.get(r)) {
                        (Some(Row::Message(m)), Some(&at))
                            if at < shared && m.packet == *packet =>
                        {
                            Some(m)
                        }
                        _ => None,
                    });
                let (what, retransmission) = match same {
                    // The same datagram, decoded before: counted as sent.
                    Some(m) => {
                        if *protocol != IpProtocol::Esp
                            && let UdpPayload::Ike(ike) = classify(payload.as_slice(), src.port())
                        {
                            self.sent_again(payload, ike);
                        }
                        (m.what.clone(), m.retransmission)
                    }
                    None if *protocol == IpProtocol::Esp => {
                        (self.decode_esp(payload, false), false)
                    }
                    None => self.decode(payload, *src),
                };
                self.row_of.insert(*packet, self.chart.rows.len());
                self.chart.rows.push(Row::Message(MessageRow {
                    packet: *packet,
                    sent: time,
                    arrived: None,
                    from,
                    to,
                    src: *src,
                    dst: *dst,
                    received_as: None,
                    what,
                    lost: None,
                    retransmission,
                    size: payload.len(),
                }));
            }
            TraceKind::Translated {
                packet, src, dst, ..
            } => {
                if let Some(Row::Message(m)) = self.row_mut(*packet) {
                    m.received_as = Some((src.get(), dst.get()));
                }
            }
            TraceKind::Delivered {
                packet,
                node,
                src,
                dst,
            } => {
                let (src, dst) = (&src.get(), &dst.get());
                let lane = self.lane(node);
                if let Some(Row::Message(m)) = self.row_last(*packet) {
                    m.arrived = Some(time);
                    m.to = Some(lane);
                    m.received_as = if (*src, *dst) != (m.src, m.dst) {
                        Some((*src, *dst))
                    } else {
                        None
                    };
                }
            }
            TraceKind::Dropped { packet, reason, .. } => {
                if let Some(Row::Message(m)) = self.row_last(*packet) {
                    m.lost = Some(reason.to_string());
                }
            }
            TraceKind::Protocol { node, event } => {
                let lane = Some(self.lane(node));
                let (text, rule, kind) = match &**event {
                    Event::KeysDerived { spi_i, keys, .. } => {
                        self.keys.entry(*spi_i).or_insert_with(|| (**keys).clone());
                        return;
                    }
                    Event::Established { mobike, .. } => (
                        format!(
                            "IKE SA established, MOBIKE {}",
                            if *mobike { "in use" } else { "not negotiated" }
                        ),
                        Some("RFC 4555 §3.2".to_string()),
                        NoteKind::Protocol,
                    ),
                    Event::ChildSa {
                        initiator_to_responder: i2r,
                        responder_to_initiator: r2i,
                        ..
                    } => {
                        for (spi, key) in [&**i2r, &**r2i] {
                            self.esp_keys.insert(*spi, Arc::new(key.clone()));
                        }
                        return;
                    }
                    Event::IkePathChanged { .. }
                    | Event::PeerAddresses { .. }
                    | Event::PendingUpdate { .. }
                    | Event::RequestSent { .. }
                    | Event::RequestDone { .. }
                    | Event::PeerWindow { .. } => return,
                    Event::Redirected { to, during, .. } => (
                        format!("redirected to {to} (REDIRECT in {during})"),
                        Some("RFC 5685".to_string()),
                        NoteKind::Protocol,
                    ),
                    Event::IpsecPathChanged {
                        local,
                        remote,
                        udp_encap,
                        ..
                    } => (
                        format!(
                            "IPsec SAs: {local} <-> {remote}{}",
                            if *udp_encap { ", UDP-encapsulated" } else { "" }
                        ),
                        Some("RFC 4555 §3.5".to_string()),
                        NoteKind::Protocol,
                    ),
                    Event::NatDetection {
                        local_behind_nat,
                        peer_behind_nat,
                        ..
                    } => (
                        match (local_behind_nat, peer_behind_nat) {
                            (false, false) => "NAT detection: no NAT".to_string(),
                            (true, false) => "NAT detection: I am behind a NAT".to_string(),
                            (false, true) => "NAT detection: peer is behind a NAT".to_string(),
                            (true, true) => "NAT detection: NATs on both sides".to_string(),
                        },
                        Some("RFC 7296 §2.23".to_string()),
                        NoteKind::Protocol,
                    ),
                    Event::Note { note, .. } => (
                        note.to_string(),
                        Some(note.rule().to_string()),
                        NoteKind::Protocol,
                    ),
                    Event::Rejected { reason, src, .. } => (
                        format!("rejected a message from {src}: {reason}"),
                        None,
                        NoteKind::Rejected,
                    ),
                    Event::Deleted { reason, .. } => (
                        format!("IKE SA deleted: {reason}"),
                        None,
                        NoteKind::Protocol,
                    ),
                };
                self.chart.rows.push(Row::Note(NoteRow {
                    time,
                    lane,
                    text,
                    rule,
                    kind,
                }));
            }
            TraceKind::Intervention { text, by_user } => {
                self.chart.rows.push(Row::Note(NoteRow {
                    time,
                    lane: None,
                    text: if *by_user {
                        format!("{text} (by you)")
                    } else {
                        text.clone()
                    },
                    rule: None,
                    kind: NoteKind::Network,
                }));
            }
            TraceKind::NatMapping {
                internal, external, ..
            } => {
                if let Some(&lane) = self.owner.get(&internal.ip()) {
                    self.mapped.insert(external.get(), lane);
                }
            }
            TraceKind::NatAddress { nat, address } => {
                if let Some(&lane) = self.nat_lane_by_id.get(nat.as_str()) {
                    self.nat_lane.insert(*address, lane);
                }
            }
            TraceKind::Link { .. }
            | TraceKind::PingSent { .. }
            | TraceKind::PingReceived { .. }
            | TraceKind::Interface { .. }
            | TraceKind::NatPlaced { .. }
            | TraceKind::NatMappingExpired { .. }
            | TraceKind::NatRebooted { .. }
            | TraceKind::NatConfigured { .. }
            | TraceKind::LinkProperties { .. }
            | TraceKind::Address { .. }
            | TraceKind::Duplicated { .. } => {}
        }
    }

    fn row_mut(&mut self, packet: PacketId) -> Option<&mut Row> {
        let i = *self.row_of.get(&packet)?;
        self.touched.push(i);
        self.chart.rows.get_mut(i)
    }

    /// The row of `packet` for its last change: it was delivered or lost,
    /// and nothing more happens to it (a copy a link makes is a packet of
    /// its own), so it leaves the index of rows by packet, which holds the
    /// packets on their way only (each copy of the builder copies it).
    fn row_last(&mut self, packet: PacketId) -> Option<&mut Row> {
        let i = self.row_of.remove(&packet)?;
        self.touched.push(i);
        self.chart.rows.get_mut(i)
    }

    /// Opens an ESP packet with the Child SA keys the trace logged.
    /// An ESP packet, to be opened when asked (see [`EspInner`]) with the
    /// key of its SPI as logged so far.
    fn decode_esp(&self, packet: &Bytes, udp: bool) -> What {
        let spi = mobike_wire::esp::spi(packet).unwrap_or(0);
        let seq = packet
            .get(4..8)
            .map_or(0, |b| u32::from_be_bytes([b[0], b[1], b[2], b[3]]));
        What::Esp {
            spi,
            seq,
            inner: EspInner::sealed(
                packet.clone(),
                self.esp_keys.get(&spi).cloned(),
                OnceLock::new(),
            ),
            udp,
        }
    }

    /// Counts an IKE message's octets as sent: whether they were before
    /// (a retransmission, RFC 7296 §2.1).
    fn sent_again(&mut self, datagram: &Bytes, ike: &[u8]) -> bool {
        let count = self.seen.entry(Octets::of(datagram, ike)).or_insert(0);
        *count += 1;
        *count > 1
    }

    fn decode(&mut self, datagram: &Bytes, src: SocketAddr) -> (What, bool) {
        let payload = datagram.as_slice();
        let ike = match classify(payload, src.port()) {
            UdpPayload::Ike(b) => b,
            UdpPayload::Keepalive => return (What::Keepalive, false),
            // On port 4500, ESP is the whole datagram: only IKE carries a
            // marker (RFC 3948 §2.1, §2.2; U-2.1-1, U-2.2-1).
            UdpPayload::Esp(_) => return (self.decode_esp(datagram, true), false),
            UdpPayload::Invalid => return (What::Other, false),
        };
        let retransmission = self.sent_again(datagram, ike);
        let msg = match Message::parse(ike) {
            Ok(m) => m,
            Err(e) => {
                return (
                    What::Ike {
                        exchange: "?".into(),
                        mid: 0,
                        response: false,
                        items: vec!["(unparsable)".into()].into(),
                        inner: None,
                        error: Some(e.to_string()),
                    },
                    retransmission,
                );
            }
        };
        let h = msg.header;
        let from_initiator = h.flags.initiator();
        let (inner, error) = if msg.payloads.iter().any(|p| matches!(p, Payload::Sk { .. })) {
            match self.keys.get(&h.spi_i) {
                Some(k) => {
                    let key = if from_initiator { &k.sk_ei } else { &k.sk_er };
                    match decrypt(ike, key) {
                        Ok(p) => (Some(p), None),
                        Err(e) => (None, Some(e.to_string())),
                    }
                }
                None => (None, Some("no keys for this IKE SA".into())),
            }
        } else {
            (None, None)
        };
        let mut items = vec!["HDR".to_string()];
        for p in &msg.payloads {
            if let Payload::Sk { .. } = p {
                match &inner {
                    Some(inner) if inner.is_empty() => items.push("SK {}".into()),
                    Some(inner) => {
                        let mut it = notation_items(inner, !h.flags.response());
                        let last = it.len() - 1;
                        it[0] = format!("SK {{{}", it[0]);
                        it[last].push('}');
                        items.extend(it);
                    }
                    None => items.push("SK {...}".into()),
                }
            } else {
                items.extend(notation_items(std::slice::from_ref(p), !h.flags.response()));
            }
        }
        let exchange = match h.exchange.name() {
            Some(name) => Cow::Borrowed(name),
            None => Cow::Owned(format!("exchange {}", h.exchange.value())),
        };
        (
            What::Ike {
                exchange,
                mid: h.message_id,
                response: h.flags.response(),
                items: items.into(),
                inner: inner.map(Arc::from),
                error,
            },
            retransmission,
        )
    }
}

/// Writes `a` as its `Display` does ("192.0.2.1:4500", "[2001:db8::1]:500"),
/// an IPv4 address without the formatter's machinery: the chart's layout
/// writes one for each message a NAT changed, tens of thousands in a
/// long run.
fn push_addr(out: &mut String, a: SocketAddr) {
    fn push_u16(out: &mut String, n: u16) {
        let mut digits = [0u8; 5];
        let mut i = digits.len();
        let mut n = n;
        loop {
            i -= 1;
            digits[i] = b'0' + (n % 10) as u8;
            n /= 10;
            if n == 0 {
                break;
            }
        }
        for &d in &digits[i..] {
            out.push(char::from(d));
        }
    }
    match a {
        SocketAddr::V4(v4) => {
            for (k, octet) in v4.ip().octets().into_iter().enumerate() {
                if k > 0 {
                    out.push('.');
                }
                push_u16(out, u16::from(octet));
            }
            out.push(':');
            push_u16(out, v4.port());
        }
        SocketAddr::V6(_) => {
            use std::fmt::Write;
            let _ = write!(out, "{a}");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::push_addr;
    use std::net::{Ipv4Addr, SocketAddr};

    /// The chart's address text is the standard library's.
    #[test]
    fn addresses_are_written_as_display_writes_them() {
        let mut seen = 0;
        for a in [0u8, 1, 9, 10, 99, 100, 192, 255] {
            for b in [0u8, 2, 51, 113, 200, 255] {
                for port in [0u16, 1, 9, 10, 99, 500, 4500, 9999, 10000, 65535] {
                    let addr = SocketAddr::from((Ipv4Addr::new(a, b, 255 - a, b / 3), port));
                    let mut text = String::from("x");
                    push_addr(&mut text, addr);
                    assert_eq!(text, format!("x{addr}"));
                    seen += 1;
                }
            }
        }
        assert_eq!(seen, 8 * 6 * 10);
        let v6: SocketAddr = "[2001:db8::1]:4500".parse().unwrap();
        let mut text = String::new();
        push_addr(&mut text, v6);
        assert_eq!(text, "[2001:db8::1]:4500");
    }
}
