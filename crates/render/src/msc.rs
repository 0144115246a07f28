//! The message sequence chart as it is drawn, by the page and by the SVG
//! export alike: the lanes once host groups are folded (hosts made with
//! `count` are one lane, every arrow naming its member, until the group is
//! expanded), the rows the filter lets through, runs of routine traffic
//! (NAT-keepalives, liveness checks that went well) folded into one summary
//! row, the search's matches, and each row's geometry.
//!
//! One view model for both drawers, so the page and `--svg` cannot drift
//! apart. Each row carries its own top `y` and coordinates relative to it:
//! a row can be drawn, or skipped when a long chart is virtualised, without
//! looking at the others, and a row whose content did not change stays
//! equal when rows above it grow.

use crate::chart::{Chart, MessageRow, NoteKind, NoteRow, Row, What};
use crate::fmt_time;
use crate::topology::HostGroup;
use mobike_protocol::Time;
use mobike_sim::trace::PacketId;
use mobike_wire::payload::Payload;
use mobike_wire::registry::NotifyType;
use std::collections::{BTreeSet, HashMap};
use std::fmt;
use std::net::SocketAddr;
use std::rc::Rc;

mod view_rows;
pub use view_rows::ViewRows;

/// Height of a message row.
pub const MSG_H: f64 = 40.0;
/// Height of a one-line note row.
pub const NOTE_H: f64 = 22.0;
/// How far an arrow drops from sender to receiver: messages take time.
pub const SLOPE: f64 = 14.0;
/// Height of each further line of a wrapped note.
pub const LINE_H: f64 = 14.0;
/// Extra height of a message row that carries a NAT annotation.
pub const NAT_H: f64 = 12.0;
/// Height of a summary row (a folded run of routine traffic).
pub const RUN_H: f64 = 26.0;
/// Width of one character of the chart's 11 px monospace font, for
/// fitting labels (the browser measures nothing for us here).
pub const CHAR_W: f64 = 6.6;

/// What a message belongs to, for the exchange filter: its IKE exchange
/// (RFC 7296 §1.2–§1.4), or ESP, a NAT-keepalive (RFC 3948 §2.3), or
/// anything else (unknown exchanges, stray UDP).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Exchange {
    IkeSaInit,
    IkeAuth,
    /// Rekeys and other Child SAs (RFC 7296 §1.3).
    CreateChildSa,
    Informational,
    Esp,
    Keepalive,
    Other,
}

impl Exchange {
    pub const ALL: [Exchange; 7] = [
        Exchange::IkeSaInit,
        Exchange::IkeAuth,
        Exchange::CreateChildSa,
        Exchange::Informational,
        Exchange::Esp,
        Exchange::Keepalive,
        Exchange::Other,
    ];

    /// As the filter's switch says it.
    pub fn label(self) -> &'static str {
        match self {
            Exchange::IkeSaInit => "IKE_SA_INIT",
            Exchange::IkeAuth => "IKE_AUTH",
            Exchange::CreateChildSa => "CREATE_CHILD_SA",
            Exchange::Informational => "INFORMATIONAL",
            Exchange::Esp => "ESP",
            Exchange::Keepalive => "NAT-keepalive",
            Exchange::Other => "other",
        }
    }

    /// A name for element ids.
    pub fn id(self) -> &'static str {
        match self {
            Exchange::IkeSaInit => "ike_sa_init",
            Exchange::IkeAuth => "ike_auth",
            Exchange::CreateChildSa => "create_child_sa",
            Exchange::Informational => "informational",
            Exchange::Esp => "esp",
            Exchange::Keepalive => "keepalive",
            Exchange::Other => "other",
        }
    }

    /// The exchange of this [`Exchange::id`].
    pub fn from_id(id: &str) -> Option<Exchange> {
        Exchange::ALL.into_iter().find(|e| e.id() == id)
    }

    pub fn of(m: &MessageRow) -> Exchange {
        match &m.what {
            // The chart names exchanges by the registry's names.
            What::Ike { exchange, .. } => match &**exchange {
                "IKE_SA_INIT" => Exchange::IkeSaInit,
                "IKE_AUTH" => Exchange::IkeAuth,
                "CREATE_CHILD_SA" => Exchange::CreateChildSa,
                "INFORMATIONAL" => Exchange::Informational,
                _ => Exchange::Other,
            },
            What::Esp { .. } => Exchange::Esp,
            What::Keepalive => Exchange::Keepalive,
            What::Other => Exchange::Other,
        }
    }
}

/// What a row is, for the kind filter. Every note has one; an IKE message
/// is a request or a response, and any message that was lost is `Lost`
/// whatever it carried, so that "lost" alone shows every loss. ESP and
/// keepalives that arrived have no kind (the exchange filter has them).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum RowKind {
    Request,
    Response,
    Lost,
    /// Protocol decisions and rejected messages.
    Note,
    /// Something done to the network, by the timeline or the user.
    Intervention,
    /// The scenario's narration steps.
    Narration,
}

impl RowKind {
    pub const ALL: [RowKind; 6] = [
        RowKind::Request,
        RowKind::Response,
        RowKind::Lost,
        RowKind::Note,
        RowKind::Intervention,
        RowKind::Narration,
    ];

    pub fn label(self) -> &'static str {
        match self {
            RowKind::Request => "requests",
            RowKind::Response => "responses",
            RowKind::Lost => "lost",
            RowKind::Note => "notes",
            RowKind::Intervention => "interventions",
            RowKind::Narration => "narration",
        }
    }

    pub fn id(self) -> &'static str {
        match self {
            RowKind::Request => "request",
            RowKind::Response => "response",
            RowKind::Lost => "lost",
            RowKind::Note => "note",
            RowKind::Intervention => "intervention",
            RowKind::Narration => "narration",
        }
    }

    /// The kind of this [`RowKind::id`].
    pub fn from_id(id: &str) -> Option<RowKind> {
        RowKind::ALL.into_iter().find(|k| k.id() == id)
    }

    pub fn of(row: &Row) -> Option<RowKind> {
        match row {
            Row::Message(m) if m.lost.is_some() => Some(RowKind::Lost),
            Row::Message(m) => match m.what {
                What::Ike { response: true, .. } => Some(RowKind::Response),
                What::Ike { .. } => Some(RowKind::Request),
                _ => None,
            },
            Row::Note(n) => Some(match n.kind {
                NoteKind::Protocol | NoteKind::Rejected => RowKind::Note,
                NoteKind::Network => RowKind::Intervention,
                NoteKind::Narration => RowKind::Narration,
            }),
        }
    }
}

/// Which rows the chart shows. The default shows all of them.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Filter {
    pub hide_exchanges: BTreeSet<Exchange>,
    pub hide_kinds: BTreeSet<RowKind>,
    /// Only rows that involve this host (its id) or any host of this
    /// group ("group:<id>", as [`HostGroup::key`]). Notes that belong to no
    /// host (interventions, narration) stay: they say what happens.
    pub host: Option<String>,
}

impl Filter {
    /// Whether it lets every row through.
    pub fn is_open(&self) -> bool {
        self.hide_exchanges.is_empty() && self.hide_kinds.is_empty() && self.host.is_none()
    }

    /// Whether `row` is shown; `wanted` marks the lanes of the host
    /// filter (see [`wanted_lanes`]).
    pub fn admits(&self, row: &Row, wanted: Option<&[bool]>) -> bool {
        if RowKind::of(row).is_some_and(|k| self.hide_kinds.contains(&k)) {
            return false;
        }
        let involves = |lane: usize| wanted.is_none_or(|w| w.get(lane).copied().unwrap_or(false));
        match row {
            Row::Message(m) => {
                !self.hide_exchanges.contains(&Exchange::of(m))
                    && (involves(m.from) || m.to.is_some_and(involves))
            }
            Row::Note(n) => n.lane.is_none_or(involves),
        }
    }
}

/// How the chart is viewed: filter, expanded groups, folding, search.
/// The default is the chart as exports draw it.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ViewOptions {
    pub filter: Filter,
    /// Groups drawn as one lane per member, by [`HostGroup::id`]; the
    /// others are one lane.
    pub expanded_groups: BTreeSet<String>,
    /// Fold runs of NAT-keepalives and routine liveness checks (with their
    /// responses) into one summary row each.
    pub collapse_routine: bool,
    /// Folded runs shown whole anyway, by the chart row that starts them.
    pub expanded_runs: BTreeSet<usize>,
    /// Rows whose text contains this (any case) are matches.
    pub search: String,
}

/// Sizes of the drawing. The export's are fixed; the page's follow the
/// width it has, and grow wider when many lanes need room.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Geometry {
    /// The width to fill (the drawing is wider when its lanes need it).
    pub width: f64,
    /// Room left of the lanes for the time column.
    pub gutter: f64,
    /// Room between the gutter and the first lane, and after the last.
    pub margin: f64,
    /// The least distance between two lanes (0: always fit the width).
    pub min_gap: f64,
    /// Where the lifelines start.
    pub top: f64,
    /// Where the first row starts.
    pub first_row: f64,
    /// Room below the last row.
    pub bottom: f64,
    /// Shorten arrow labels and wrap notes to fit the drawing (the page,
    /// on any screen); the export keeps its fixed rules.
    pub fit: bool,
}

impl Geometry {
    /// The SVG export's sizes (lane headers inside the drawing).
    pub const EXPORT: Geometry = Geometry {
        width: 860.0,
        gutter: 78.0,
        margin: 90.0,
        min_gap: 0.0,
        top: 48.0,
        first_row: 64.0,
        bottom: 20.0,
        fit: false,
    };

    /// The page's sizes for a chart `width` pixels wide; the lane headers
    /// are drawn above it, so the rows start at the top.
    pub fn page(width: f64) -> Geometry {
        Geometry {
            width: width.max(300.0),
            gutter: 62.0,
            margin: 64.0,
            min_gap: 104.0,
            top: 0.0,
            first_row: 6.0,
            bottom: 20.0,
            fit: true,
        }
    }
}

/// One lane of the drawing.
#[derive(Clone, Debug, PartialEq)]
pub struct LaneView {
    pub x: f64,
    /// The host's id, or the group's.
    pub id: String,
    /// "Laptop", or "Client ×20" for a folded group.
    pub label: String,
    /// "initiator", "responder".
    pub role: String,
    pub kind: LaneKind,
}

#[derive(Clone, Debug, PartialEq)]
pub enum LaneKind {
    Host,
    /// A folded group of this many hosts.
    Group {
        members: usize,
    },
    /// A member of an expanded group (by its id).
    Member {
        group: String,
    },
}

/// An expanded group, over its member lanes: its header folds it again.
#[derive(Clone, Debug, PartialEq)]
pub struct GroupSpan {
    pub id: String,
    /// "Client ×20".
    pub label: String,
    /// x of its first and last member lane.
    pub from: f64,
    pub to: f64,
}

/// Identifies a drawn row across redraws: a chart row by its index (rows
/// are only ever appended), a summary by the chart row that starts its run.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum RowKey {
    Row(usize),
    Run(usize),
}

impl RowKey {
    /// The chart row it is, or (a folded run) the run's first row.
    pub fn row(self) -> usize {
        match self {
            RowKey::Row(i) | RowKey::Run(i) => i,
        }
    }
}

impl fmt::Display for RowKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            RowKey::Row(i) => write!(f, "r{i}"),
            RowKey::Run(i) => write!(f, "s{i}"),
        }
    }
}

impl RowKey {
    /// The inverse of `Display` ("r12", "s3").
    pub fn parse(s: &str) -> Option<RowKey> {
        let n = s.get(1..)?.parse().ok()?;
        match s.as_bytes().first()? {
            b'r' => Some(RowKey::Row(n)),
            b's' => Some(RowKey::Run(n)),
            _ => None,
        }
    }
}

/// One drawn row: its place and what it shows.
#[derive(Clone, Debug, PartialEq)]
pub struct RowView {
    pub key: RowKey,
    /// Top of the row; the body's y coordinates are relative to it.
    pub y: f64,
    pub h: f64,
    /// Its text contains the search.
    pub matched: bool,
    pub body: RowBody,
}

#[derive(Clone, Debug, PartialEq)]
#[allow(clippy::large_enum_variant)] // most rows are messages
pub enum RowBody {
    Message(MessageView),
    Note(NoteView),
    Run(RunView),
}

/// A datagram's arrow. x coordinates are absolute, y relative to the row.
#[derive(Clone, Debug, PartialEq)]
pub struct MessageView {
    pub packet: PacketId,
    pub lost: bool,
    pub retransmission: bool,
    pub keepalive: bool,
    pub esp: bool,
    /// "0.100s": the time column.
    pub time: String,
    /// Addresses as sent and what it carried, for [`MessageView::tooltip`]:
    /// written when asked (the page asks for the rows in view), not for
    /// each of a long chart's rows at every layout.
    pub src: SocketAddr,
    pub dst: SocketAddr,
    pub what: What,
    /// Who sent it and to whom, as a screen reader says them (see
    /// [`MessageView::spoken`]).
    pub names: (Rc<str>, Rc<str>),
    /// The row's clickable area: x, width, height (from the row's top).
    pub hit: (f64, f64, f64),
    pub time_at: (f64, f64),
    /// The line from the sender.
    pub from: (f64, f64),
    /// Where the line ends: the receiver, or halfway for a lost message.
    pub end: (f64, f64),
    /// Arrowhead at the receiver: the point and which way the head opens
    /// (-1 pointing right, 1 left); `None` for a lost message (a cross).
    pub head: Option<((f64, f64), f64)>,
    /// The group member at the folded end of the arrow ("client-7").
    pub member: Option<Rc<str>>,
    /// The short label over the arrow (without the member).
    pub label: String,
    pub label_at: (f64, f64),
    /// Why it was lost, beside the cross.
    pub why: Option<(String, (f64, f64))>,
    /// What a NAT did to it, under the arrow.
    pub nat: Option<(String, (f64, f64))>,
}

impl MessageView {
    /// What a screen reader says: time, who to whom, what. Written when
    /// asked (the page asks for the rows it draws), as the tooltip.
    pub fn spoken(&self) -> String {
        format!(
            "{} {} to {}: {}{}",
            self.time,
            self.names.0,
            self.names.1,
            self.what.title(),
            if self.lost { ", lost" } else { "" }
        )
    }

    /// Time, addresses and the whole RFC notation.
    pub fn tooltip(&self) -> String {
        format!(
            "{} {} -> {}\n{}",
            self.time,
            self.src,
            self.dst,
            self.what.notation()
        )
    }

    /// The SVG classes: "msg lost retx keepalive esp" as they apply.
    pub fn class(&self) -> String {
        let mut class = String::from("msg");
        for (on, name) in [
            (self.lost, " lost"),
            (self.retransmission, " retx"),
            (self.keepalive, " keepalive"),
            (self.esp, " esp"),
        ] {
            if on {
                class.push_str(name);
            }
        }
        class
    }
}

/// A note across the chart, anchored at its host's lane.
#[derive(Clone, Debug, PartialEq)]
pub struct NoteView {
    pub kind: NoteKind,
    pub time: String,
    pub time_at: (f64, f64),
    /// The text's anchor point and alignment ("start", "middle", "end").
    pub at: (f64, f64),
    pub anchor: &'static str,
    /// The text, wrapped.
    pub lines: Vec<String>,
}

impl NoteView {
    pub fn class(&self) -> &'static str {
        match self.kind {
            NoteKind::Network => "note network",
            NoteKind::Protocol => "note protocol",
            NoteKind::Rejected => "note rejected",
            NoteKind::Narration => "note narration",
        }
    }
}

/// A run of routine traffic folded into one row, or the head of such a
/// run shown whole.
#[derive(Clone, Debug, PartialEq)]
pub struct RunView {
    /// The chart row that starts the run.
    pub first: usize,
    /// Chart rows in the run.
    pub rows: usize,
    /// Shown whole (this row is its head) or folded.
    pub expanded: bool,
    /// "6 liveness checks · 10.14 s – 60.2 s".
    pub text: String,
    pub time: String,
    pub time_at: (f64, f64),
    /// The band over the lanes the run's messages go between.
    pub band: (f64, f64),
    pub text_at: (f64, f64),
}

/// The chart as drawn.
#[derive(Clone, Debug, PartialEq)]
pub struct MscView {
    /// The drawing's size (wider than asked when the lanes need it).
    pub width: f64,
    pub height: f64,
    /// Where the lifelines start.
    pub top: f64,
    pub lanes: Vec<LaneView>,
    pub spans: Vec<GroupSpan>,
    /// Top to bottom: each row's `y` is the one before's `y + h`.
    pub rows: ViewRows,
    /// Indices into `rows` of the search's matches, top to bottom.
    pub matches: Vec<usize>,
    /// Indices into `rows` of the notes of the network's changes (the
    /// landmarks of a run, always drawn), top to bottom.
    pub landmarks: Vec<usize>,
    /// IKE messages in the whole chart.
    pub ike: usize,
    /// Rows of the chart, the ones the filter hides, and the ones folded
    /// into summary rows.
    pub total: usize,
    pub hidden: usize,
    pub folded: usize,
    /// Messages per exchange and rows per kind in the whole chart, for the
    /// filter's switches.
    pub exchanges: Vec<(Exchange, usize)>,
    pub kinds: Vec<(RowKind, usize)>,
}

impl MscView {
    /// Indices into `rows` of what the keyboard moves between: messages
    /// and summary rows, top to bottom.
    pub fn navigable(&self) -> Vec<usize> {
        self.rows
            .iter()
            .enumerate()
            .filter(|(_, r)| !matches!(r.body, RowBody::Note(_)))
            .map(|(i, _)| i)
            .collect()
    }

    /// The row drawing this message, if it is drawn.
    pub fn row_of_packet(&self, packet: PacketId) -> Option<usize> {
        self.rows
            .iter()
            .position(|r| matches!(&r.body, RowBody::Message(m) if m.packet == packet))
    }
}

/// "10.14 s": seconds without trailing zeros, for summary rows and notices.
pub fn short_time(t: Time) -> String {
    let s = fmt_time(t);
    let s = s.trim_end_matches('s');
    let s = s.trim_end_matches('0').trim_end_matches('.');
    format!("{s} s")
}

/// Short label of a message for the arrow (the full notation is in the
/// tooltip), given its [`MessageRow::title`]. The part after the title is
/// written once for each list of payloads (`bodies`): a long chart has
/// tens of thousands of messages and a few dozen such lists.
fn short(m: &MessageRow, title: &str, bodies: &mut Bodies) -> String {
    if let What::Esp { inner, udp, .. } = &m.what
        && let Some(inner) = inner.get()
    {
        return format!(
            "{}ESP: {inner}",
            if *udp { "UDP-encapsulated " } else { "" }
        );
    }
    if let What::Ike { items, .. } = &m.what {
        if bodies.len() >= MAX_BODIES {
            bodies.clear();
        }
        let text = bodies.entry(items.clone()).or_insert_with(|| {
            let body: Vec<&str> = items.iter().skip(1).map(String::as_str).collect();
            let mut text = body.join(", ");
            for (long, abbr) in [
                ("NAT_DETECTION_SOURCE_IP", "NAT_D_SRC"),
                ("NAT_DETECTION_DESTINATION_IP", "NAT_D_DST"),
            ] {
                text = text.replace(long, abbr);
            }
            if text.chars().count() > 70 {
                text = text.chars().take(68).collect::<String>() + "…";
            }
            Rc::from(text)
        });
        if !text.is_empty() {
            return format!("{title}: {text}");
        }
    }
    title.to_string()
}

/// The labels' parts after the title, by list of payloads (see [`short`]).
type Bodies = rustc_hash::FxHashMap<std::sync::Arc<[String]>, Rc<str>>;

/// How many lists of payloads [`Bodies`] keeps at most (a run whose
/// messages differ more starts it afresh).
const MAX_BODIES: usize = 4096;

/// At most `n` characters of `s`, the last an ellipsis when cut.
fn clip(s: &str, n: usize) -> String {
    if s.chars().count() <= n {
        s.to_string()
    } else {
        s.chars().take(n.saturating_sub(1)).collect::<String>() + "…"
    }
}

/// An INFORMATIONAL exchange holding nothing but NAT detection payloads,
/// or nothing at all: a liveness check (RFC 7296 §2.4; RFC 4555 §3.8 puts
/// the NAT detection payloads in it).
fn liveness_shape(m: &MessageRow) -> bool {
    let What::Ike {
        exchange,
        inner: Some(inner),
        error: None,
        ..
    } = &m.what
    else {
        return false;
    };
    exchange == "INFORMATIONAL"
        && inner.iter().all(|p| {
            matches!(p, Payload::Notify(n) if matches!(
                n.kind,
                NotifyType::NAT_DETECTION_SOURCE_IP | NotifyType::NAT_DETECTION_DESTINATION_IP
            ))
        })
}

/// What routine traffic a row is: a NAT-keepalive that went through, or a
/// liveness check that went well: sent once, not lost, and (for the
/// response) answering such a request. Anything else is news.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Routine {
    Keepalive,
    Check,
    Answer,
}

/// Which rows are routine (see [`Routine`]), row after row: the last
/// request of each (sender, receiver, message ID), with the rows that made
/// each, so a layout that picks up at an earlier row forgets the requests
/// of the rows after it.
#[derive(Clone, Default)]
struct Routines {
    /// By (sender, receiver, message ID): (row, was it routine) of each
    /// request, the last one last.
    requests: HashMap<(usize, usize, u32), Vec<(usize, bool)>>,
    /// The keys of the requests in the order of their rows.
    log: Vec<(usize, (usize, usize, u32))>,
}

impl Routines {
    fn of(&mut self, i: usize, row: &Row) -> Option<Routine> {
        let Row::Message(m) = row else { return None };
        if matches!(m.what, What::Keepalive) {
            return m.lost.is_none().then_some(Routine::Keepalive);
        }
        let What::Ike { mid, response, .. } = m.what else {
            return None;
        };
        let to = m.to.unwrap_or(usize::MAX);
        let fine = liveness_shape(m) && m.lost.is_none() && !m.retransmission;
        if response {
            let asked = self
                .requests
                .get(&(to, m.from, mid))
                .and_then(|v| v.last())
                .is_some_and(|r| r.1);
            (fine && asked).then_some(Routine::Answer)
        } else {
            // A loss or a retransmission spoils the exchange; a new
            // request with the same ID (another IKE SA) starts afresh.
            let key = (m.from, to, mid);
            self.requests.entry(key).or_default().push((i, fine));
            self.log.push((i, key));
            fine.then_some(Routine::Check)
        }
    }

    /// Forgets the requests of rows `at` and after.
    fn rewind(&mut self, at: usize) {
        while let Some(&(i, key)) = self.log.last()
            && i >= at
        {
            self.log.pop();
            if let Some(v) = self.requests.get_mut(&key) {
                v.pop();
                if v.is_empty() {
                    self.requests.remove(&key);
                }
            }
        }
    }
}

/// The lanes after folding the groups: per chart lane its drawn lane,
/// and for lanes of folded groups the member's id.
#[derive(Clone, PartialEq)]
struct Lanes {
    lanes: Vec<LaneView>,
    spans: Vec<GroupSpan>,
    /// x of each drawn lane (at least one, for a chart without lanes).
    xs: Vec<f64>,
    drawn: Vec<usize>,
    member: Vec<Option<Rc<str>>>,
    width: f64,
}

fn lanes(chart: &Chart, groups: &[HostGroup], opts: &ViewOptions, geo: &Geometry) -> Lanes {
    let n = chart.lanes.len();
    let mut group_of: Vec<Option<&HostGroup>> = vec![None; n];
    for g in groups {
        for &m in &g.members {
            if let Some(slot) = group_of.get_mut(m) {
                *slot = Some(g);
            }
        }
    }
    let mut lanes: Vec<LaneView> = Vec::new();
    let mut drawn = Vec::with_capacity(n);
    let mut member = Vec::with_capacity(n);
    // Expanded groups: (id, label, first drawn lane, last drawn lane).
    let mut spans: Vec<(String, String, usize, usize)> = Vec::new();
    for (i, lane) in chart.lanes.iter().enumerate() {
        let Some(g) = group_of[i] else {
            drawn.push(lanes.len());
            member.push(None);
            lanes.push(LaneView {
                x: 0.0,
                id: lane.node.clone(),
                label: lane.label.clone(),
                role: lane.role.clone(),
                kind: LaneKind::Host,
            });
            continue;
        };
        let label = format!("{} ×{}", g.label, g.members.len());
        if opts.expanded_groups.contains(&g.id) {
            match spans.last_mut() {
                Some(s) if s.0 == g.id => s.3 = lanes.len(),
                _ => spans.push((g.id.clone(), label, lanes.len(), lanes.len())),
            }
            drawn.push(lanes.len());
            member.push(None);
            lanes.push(LaneView {
                x: 0.0,
                id: lane.node.clone(),
                label: lane.label.clone(),
                role: lane.role.clone(),
                kind: LaneKind::Member {
                    group: g.id.clone(),
                },
            });
        } else {
            let folded_here = lanes
                .last()
                .is_some_and(|l| l.id == g.id && matches!(l.kind, LaneKind::Group { .. }));
            if !folded_here {
                lanes.push(LaneView {
                    x: 0.0,
                    id: g.id.clone(),
                    label,
                    role: lane.role.clone(),
                    kind: LaneKind::Group {
                        members: g.members.len(),
                    },
                });
            }
            drawn.push(lanes.len() - 1);
            member.push(Some(Rc::from(lane.node.as_str())));
        }
    }
    // Spread the lanes over the width, never closer than `min_gap`.
    let count = lanes.len().max(1);
    let mut width = geo.width;
    let (a, mut b) = (geo.gutter + geo.margin, width - geo.margin);
    if count > 1 && (b - a) / ((count - 1) as f64) < geo.min_gap {
        b = a + geo.min_gap * (count - 1) as f64;
        width = b + geo.margin;
    }
    let xs: Vec<f64> = (0..count)
        .map(|i| {
            if count == 1 {
                (a + b) / 2.0
            } else {
                a + (b - a) * i as f64 / (count - 1) as f64
            }
        })
        .collect();
    for (l, x) in lanes.iter_mut().zip(&xs) {
        l.x = *x;
    }
    let spans = spans
        .into_iter()
        .map(|(id, label, first, last)| GroupSpan {
            id,
            label,
            from: xs[first],
            to: xs[last],
        })
        .collect();
    Lanes {
        lanes,
        spans,
        xs,
        drawn,
        member,
        width,
    }
}

/// The lanes the filter's host (or host group) stands for, one flag per
/// lane; `None` when the filter names no host.
pub fn wanted_lanes(chart: &Chart, groups: &[HostGroup], filter: &Filter) -> Option<Vec<bool>> {
    filter.host.as_ref().map(|h| {
        let group = h
            .strip_prefix("group:")
            .and_then(|id| groups.iter().find(|g| g.id == id));
        (0..chart.lanes.len())
            .map(|i| match group {
                Some(g) => g.members.contains(&i),
                None => chart.lanes[i].node == *h,
            })
            .collect()
    })
}

/// Lays the chart out: the drawn lanes, the rows the filter lets through
/// (routine runs folded when asked), search matches and every row's place.
pub fn layout(chart: &Chart, groups: &[HostGroup], opts: &ViewOptions, geo: &Geometry) -> MscView {
    layout_with(chart, groups, opts, geo, &mut LayoutCache::default())
}

/// What [`layout_with`] keeps from one layout to the next: each chart row's
/// drawing, with the row's stamp when it was drawn. A chart that grows
/// (the page lays it out on every tick) then costs the drawing of its new
/// and changed rows, not of all of them; the rest is reused (moved when a
/// row above changed height). Drawings depend on the lanes, the geometry
/// and the search: when one of those changes, the cache starts afresh.
#[derive(Default)]
pub struct LayoutCache {
    key: Option<(Vec<crate::chart::Lane>, Lanes, Geometry, String)>,
    /// By chart row: (stamp, drawing).
    rows: Vec<Option<(u64, Rc<RowView>)>>,
    /// The filter and its lanes that `facts` were found with.
    facts_key: Option<(Filter, Option<Vec<bool>>)>,
    /// By chart row: (stamp, what the filter and the counts read of it),
    /// so a layout looks again only at rows new or changed since the last
    /// (a long chart has tens of thousands).
    facts: Vec<Option<(u64, RowFacts)>>,
    bodies: Bodies,
    /// What the last layout was asked for (see [`LayoutCache::warm`]).
    last: Option<(Vec<HostGroup>, ViewOptions, Geometry)>,
    /// The last layout's walk over the rows, to pick up from.
    walk: Option<Walk>,
    /// Chart rows the last layout walked (the others it took as they were).
    walked: usize,
}

/// A layout's walk over the chart's rows, kept for the next layout of the
/// same view: that one picks up at the last mark before the first row
/// that changed, with the drawn rows before it as they are, instead of
/// walking the whole chart again. While a run plays, the rows that change
/// are the newest (a message delivered or lost, new rows), so a tick costs
/// its new rows and not the run's length.
struct Walk {
    opts: ViewOptions,
    /// The stamps of the chart rows walked.
    stamps: Vec<u64>,
    rows: ViewRows,
    matches: Vec<usize>,
    landmarks: Vec<usize>,
    routines: Routines,
    /// The walk's state before some of its rows (those [`marked`]),
    /// oldest first.
    marks: Vec<Mark>,
}

/// A walk's state before chart row `at`: enough to go on from there.
#[derive(Clone)]
struct Mark {
    at: usize,
    rows: usize,
    matches: usize,
    landmarks: usize,
    y: f64,
    folded: usize,
    hidden: usize,
    ike: usize,
    exchange_counts: [usize; Exchange::ALL.len()],
    kind_counts: [usize; RowKind::ALL.len()],
    /// The routine rows not yet folded.
    run: Vec<(usize, Routine)>,
}

/// A walk marks its state every `MARK_EVERY` chart rows over its last
/// `MARK_SPAN` rows (where a playing run's rows change), and every
/// `MARK_FAR` rows before (a jump back cuts the chart anywhere: the next
/// walk picks up at most `MARK_FAR` rows before the cut).
const MARK_EVERY: usize = 256;
const MARK_SPAN: usize = 4096;
const MARK_FAR: usize = 4096;

/// Whether a walk of `n` rows keeps a mark before row `at`.
fn marked(at: usize, n: usize) -> bool {
    at.is_multiple_of(MARK_FAR) || (at.is_multiple_of(MARK_EVERY) && at + MARK_SPAN >= n)
}

impl LayoutCache {
    /// Lays out `chart` as the last layout was asked for, keeping the
    /// drawings of its new rows: the next layout of the chart as it is
    /// then reuses them. The page calls it while a long jump's events come
    /// in, so the layout of tens of thousands of new rows is not done all
    /// at once when the jump is shown. Nothing before the first layout.
    pub fn warm(&mut self, chart: &Chart) {
        if let Some((groups, opts, geo)) = self.last.take() {
            layout_with(chart, &groups, &opts, &geo, self);
        }
    }

    /// How many chart rows the last layout walked: all of them the first
    /// time, then those from the last mark before a change on.
    pub fn walked(&self) -> usize {
        self.walked
    }
}

/// What a layout reads of a row besides its drawing.
#[derive(Clone, Copy)]
struct RowFacts {
    admitted: bool,
    /// Its exchange's place in [`Exchange::ALL`] (messages).
    exchange: Option<u8>,
    /// Its kind's place in [`RowKind::ALL`].
    kind: Option<u8>,
    /// An IKE message.
    ike: bool,
}

impl RowFacts {
    fn of(row: &Row, filter: &Filter, wanted: Option<&[bool]>) -> RowFacts {
        let exchange = match row {
            Row::Message(m) => {
                let e = Exchange::of(m);
                Exchange::ALL.iter().position(|x| *x == e).map(|i| i as u8)
            }
            Row::Note(_) => None,
        };
        let kind = RowKind::of(row)
            .and_then(|k| RowKind::ALL.iter().position(|x| *x == k))
            .map(|i| i as u8);
        RowFacts {
            admitted: filter.admits(row, wanted),
            exchange,
            kind,
            ike: matches!(row, Row::Message(m) if m.is_ike()),
        }
    }
}

/// [`layout`], reusing the drawings of rows unchanged since the last call
/// with the same cache: the result is the same as [`layout`]'s.
pub fn layout_with(
    chart: &Chart,
    groups: &[HostGroup],
    opts: &ViewOptions,
    geo: &Geometry,
    cache: &mut LayoutCache,
) -> MscView {
    if cache
        .last
        .as_ref()
        .is_none_or(|(g, o, e)| (g.as_slice(), o, e) != (groups, opts, geo))
    {
        cache.last = Some((groups.to_vec(), opts.clone(), *geo));
    }
    let l = lanes(chart, groups, opts, geo);
    let geo = Geometry {
        width: l.width,
        ..*geo
    };
    let query = opts.search.trim().to_lowercase();
    let same = cache
        .key
        .as_ref()
        .is_some_and(|(cl, k, g, q)| *cl == chart.lanes && *k == l && *g == geo && *q == query);
    if !same {
        cache.key = Some((chart.lanes.clone(), l.clone(), geo, query.clone()));
        cache.rows.clear();
    }
    cache.rows.resize(chart.rows.len(), None);
    let wanted = wanted_lanes(chart, groups, &opts.filter);
    let facts_key = (opts.filter.clone(), wanted.clone());
    let facts_fresh = cache.facts_key.as_ref() == Some(&facts_key);
    if !facts_fresh {
        cache.facts_key = Some(facts_key);
        cache.facts.clear();
    }
    cache.facts.resize(chart.rows.len(), None);
    let n = chart.rows.len();
    // Pick up the last walk of this view at its last mark before the first
    // row changed since (none: from the top).
    let stamped = chart.stamps.len() == n;
    let walk = cache
        .walk
        .take()
        .filter(|w| same && facts_fresh && stamped && w.opts == *opts);
    let (mut walk, mark) = match walk {
        Some(mut w) => {
            let changed = w
                .stamps
                .iter()
                .zip(&chart.stamps)
                .position(|(a, b)| a != b)
                .unwrap_or(w.stamps.len().min(n));
            match w.marks.iter().rposition(|m| m.at <= changed) {
                Some(k) => {
                    w.marks.truncate(k + 1);
                    let m = w.marks[k].clone();
                    w.stamps.truncate(m.at);
                    w.rows.truncate(m.rows);
                    w.matches.truncate(m.matches);
                    w.landmarks.truncate(m.landmarks);
                    w.routines.rewind(m.at);
                    (w, Some(m))
                }
                None => (Walk::new(opts), None),
            }
        }
        None => (Walk::new(opts), None),
    };
    let start = mark.as_ref().map_or(0, |m| m.at);
    let mut b = Builder {
        chart,
        lanes: &l,
        geo,
        query,
        y: mark.as_ref().map_or(geo.first_row, |m| m.y),
        rows: std::mem::take(&mut walk.rows),
        matches: std::mem::take(&mut walk.matches),
        landmarks: std::mem::take(&mut walk.landmarks),
        folded: mark.as_ref().map_or(0, |m| m.folded),
        cache: &mut *cache,
        names: chart
            .lanes
            .iter()
            .enumerate()
            .map(|(i, lane)| {
                l.member
                    .get(i)
                    .cloned()
                    .flatten()
                    .unwrap_or_else(|| Rc::from(lane.label.as_str()))
            })
            .collect(),
    };
    let mut hidden = mark.as_ref().map_or(0, |m| m.hidden);
    let mut ike = mark.as_ref().map_or(0, |m| m.ike);
    let mut exchange_counts = mark
        .as_ref()
        .map_or([0; Exchange::ALL.len()], |m| m.exchange_counts);
    let mut kind_counts = mark
        .as_ref()
        .map_or([0; RowKind::ALL.len()], |m| m.kind_counts);
    let mut run: Vec<(usize, Routine)> = mark.map_or(Vec::new(), |m| m.run);
    for i in start..n {
        if stamped && marked(i, n) && walk.marks.last().is_none_or(|m| m.at < i) {
            walk.marks.push(Mark {
                at: i,
                rows: b.rows.len(),
                matches: b.matches.len(),
                landmarks: b.landmarks.len(),
                y: b.y,
                folded: b.folded,
                hidden,
                ike,
                exchange_counts,
                kind_counts,
                run: run.clone(),
            });
        }
        let row = &chart.rows[i];
        let stamp = chart.stamps.get(i).copied();
        let facts = match (stamp, b.cache.facts[i]) {
            (Some(s), Some((was, f))) if was == s => f,
            _ => {
                let f = RowFacts::of(row, &opts.filter, wanted.as_deref());
                if let Some(s) = stamp {
                    b.cache.facts[i] = Some((s, f));
                }
                f
            }
        };
        if let Some(e) = facts.exchange {
            exchange_counts[usize::from(e)] += 1;
        }
        if let Some(k) = facts.kind {
            kind_counts[usize::from(k)] += 1;
        }
        ike += usize::from(facts.ike);
        // Every row counts for what is routine, shown or not.
        let routine = if opts.collapse_routine {
            walk.routines.of(i, row)
        } else {
            None
        };
        if !facts.admitted {
            hidden += 1;
            continue;
        }
        if let Some(r) = routine {
            run.push((i, r));
            continue;
        }
        b.flush(&mut run, opts);
        b.row(i);
    }
    // The walk's stamps: the marks stand for the rows before them as they
    // are now.
    walk.stamps
        .extend_from_slice(&chart.stamps[start.min(chart.stamps.len())..]);
    b.flush(&mut run, opts);
    let Builder {
        rows,
        matches,
        landmarks,
        folded,
        y,
        ..
    } = b;
    let exchanges: Vec<(Exchange, usize)> =
        Exchange::ALL.into_iter().zip(exchange_counts).collect();
    let kinds: Vec<(RowKind, usize)> = RowKind::ALL.into_iter().zip(kind_counts).collect();
    let view = MscView {
        width: geo.width,
        height: y + geo.bottom,
        top: geo.top,
        lanes: l.lanes,
        spans: l.spans,
        rows: rows.clone(),
        matches: matches.clone(),
        landmarks: landmarks.clone(),
        ike,
        total: n,
        hidden,
        folded,
        exchanges,
        kinds,
    };
    cache.walked = n - start;
    if stamped {
        // The rows the last flush drew stay: a mark's rows are before
        // them, so the next walk cuts them off where it picks up.
        walk.rows = rows;
        walk.matches = matches;
        walk.landmarks = landmarks;
        // The close marks now too far back go.
        walk.marks.retain(|m| marked(m.at, n));
        cache.walk = Some(walk);
    }
    view
}

impl Walk {
    fn new(opts: &ViewOptions) -> Walk {
        Walk {
            opts: opts.clone(),
            stamps: Vec::new(),
            rows: ViewRows::default(),
            matches: Vec::new(),
            landmarks: Vec::new(),
            routines: Routines::default(),
            marks: Vec::new(),
        }
    }
}

struct Builder<'a> {
    chart: &'a Chart,
    lanes: &'a Lanes,
    geo: Geometry,
    /// The search, lower case; empty for none.
    query: String,
    y: f64,
    rows: ViewRows,
    matches: Vec<usize>,
    landmarks: Vec<usize>,
    folded: usize,
    cache: &'a mut LayoutCache,
    /// Each chart lane's name as a screen reader says it: the member for
    /// a folded group's, else the lane's label.
    names: Vec<Rc<str>>,
}

impl Builder<'_> {
    fn x_of(&self, lane: usize) -> Option<f64> {
        self.lanes
            .drawn
            .get(lane)
            .and_then(|&d| self.lanes.xs.get(d))
            .copied()
    }

    /// Whether a row with this text matches the search (the text is
    /// only made when there is one).
    fn matches(&self, text: impl FnOnce() -> String) -> bool {
        !self.query.is_empty() && text().to_lowercase().contains(&self.query)
    }

    fn push(&mut self, key: RowKey, h: f64, matched: bool, body: RowBody) {
        self.put(Rc::new(RowView {
            key,
            y: self.y,
            h,
            matched,
            body,
        }));
    }

    /// Draws `v` next (its `y` is where the drawing stands).
    fn put(&mut self, v: Rc<RowView>) {
        if v.matched {
            self.matches.push(self.rows.len());
        }
        if matches!(&v.body, RowBody::Note(n) if n.kind == NoteKind::Network) {
            self.landmarks.push(self.rows.len());
        }
        self.y += v.h;
        self.rows.push(v);
    }

    fn row(&mut self, i: usize) {
        let stamp = self.chart.stamps.get(i).copied();
        if let Some(stamp) = stamp
            && let Some(Some((s, v))) = self.cache.rows.get(i)
            && *s == stamp
        {
            let v = if v.y == self.y {
                v.clone()
            } else {
                let moved = Rc::new(RowView {
                    y: self.y,
                    ..(**v).clone()
                });
                self.cache.rows[i] = Some((stamp, moved.clone()));
                moved
            };
            self.put(v);
            return;
        }
        let before = self.rows.len();
        match &self.chart.rows[i] {
            Row::Message(m) => self.message(i, m),
            Row::Note(n) => self.note(i, n),
        }
        if let Some(stamp) = stamp
            && self.rows.len() == before + 1
        {
            self.cache.rows[i] = Some((stamp, self.rows[before].clone()));
        }
    }

    /// Ends a run of routine rows: folded into a summary when it has two
    /// rows or more (one row is shown as itself), whole when expanded.
    fn flush(&mut self, run: &mut Vec<(usize, Routine)>, opts: &ViewOptions) {
        if run.is_empty() {
            return;
        }
        let rows = std::mem::take(run);
        if rows.len() < 2 {
            for (i, _) in rows {
                self.row(i);
            }
            return;
        }
        let first = rows[0].0;
        let expanded = opts.expanded_runs.contains(&first);
        let checks = rows.iter().filter(|r| r.1 == Routine::Check).count();
        let answers = rows.iter().filter(|r| r.1 == Routine::Answer).count();
        let keepalives = rows.iter().filter(|r| r.1 == Routine::Keepalive).count();
        let checks = if checks == 0 { answers } else { checks };
        let plural =
            |n: usize, one: &str, many: &str| format!("{n} {}", if n == 1 { one } else { many });
        let mut what = Vec::new();
        if checks > 0 {
            what.push(plural(checks, "liveness check", "liveness checks"));
        }
        if keepalives > 0 {
            what.push(plural(keepalives, "NAT-keepalive", "NAT-keepalives"));
        }
        let time = |i: usize| self.chart.rows[i].time();
        let (t0, t1) = (time(first), time(rows[rows.len() - 1].0));
        let span = if t0 == t1 {
            short_time(t0)
        } else {
            format!("{} – {}", short_time(t0), short_time(t1))
        };
        let text = format!(
            "{} {} · {span}",
            if expanded { "▾" } else { "▸" },
            what.join(", ")
        );
        // The band covers the lanes the run's messages go between.
        let mut xs = rows.iter().flat_map(|(i, _)| match &self.chart.rows[*i] {
            Row::Message(m) => vec![self.x_of(m.from), m.to.and_then(|t| self.x_of(t))],
            Row::Note(_) => vec![],
        });
        let (mut lo, mut hi) = (f64::MAX, f64::MIN);
        for x in xs.by_ref().flatten() {
            lo = lo.min(x);
            hi = hi.max(x);
        }
        if lo > hi {
            lo = self.geo.gutter + self.geo.margin;
            hi = self.geo.width - self.geo.margin;
        }
        let (lo, hi) = (lo - 10.0, hi + 10.0);
        let chars = text.chars().count() as f64;
        let mid = ((lo + hi) / 2.0).clamp(
            self.geo.gutter + 6.0 + chars * CHAR_W / 2.0,
            (self.geo.width - 6.0 - chars * CHAR_W / 2.0).max(self.geo.gutter + 6.0),
        );
        let body = RowBody::Run(RunView {
            first,
            rows: rows.len(),
            expanded,
            time: fmt_time(t0),
            time_at: (self.geo.gutter - 8.0, 17.0),
            band: (lo, hi),
            text_at: (mid, 17.0),
            text: text.clone(),
        });
        let matched = self.matches(|| text);
        self.push(RowKey::Run(first), RUN_H, matched, body);
        if expanded {
            for (i, _) in rows {
                self.row(i);
            }
        } else {
            self.folded += rows.len();
        }
    }

    fn message(&mut self, i: usize, m: &MessageRow) {
        let geo = self.geo;
        let xs = &self.lanes.xs;
        let x1 = self.x_of(m.from).unwrap_or(xs[0]);
        let folded_together = m.to.is_some_and(|t| {
            t != m.from && self.lanes.drawn.get(t) == self.lanes.drawn.get(m.from)
        });
        let x2 = if folded_together {
            // Between two members of one folded group: a short stub.
            if x1 + 40.0 <= geo.width - 10.0 {
                x1 + 40.0
            } else {
                x1 - 40.0
            }
        } else {
            m.to.and_then(|t| self.x_of(t))
                .unwrap_or(if x1 < geo.width / 2.0 {
                    geo.width - 20.0
                } else {
                    20.0
                })
        };
        let member_of = |lane: usize| self.lanes.member.get(lane).cloned().flatten();
        let member = member_of(m.from).or_else(|| m.to.and_then(member_of));
        let (y1, y2) = (18.0, 18.0 + SLOPE);
        let lost = m.lost.is_some();
        let end = if lost {
            ((x1 + x2) / 2.0, (y1 + y2) / 2.0)
        } else {
            (x2, y2)
        };
        let nat_note = m.nat_note();
        let title = m.title();
        let time = fmt_time(m.sent);
        let mut label = short(m, &title, &mut self.cache.bodies);
        let mut lx = (x1 + x2) / 2.0;
        let prefix = member.as_ref().map_or(0, |p| p.chars().count() + 2);
        if geo.fit {
            let room = ((geo.width - geo.gutter - 12.0) / CHAR_W).floor().max(8.0) as usize;
            label = clip(&label, room.saturating_sub(prefix).max(4));
            lx = self.fit_centre(lx, label.chars().count() + prefix);
        }
        let why = m
            .lost
            .as_ref()
            .map(|r| (r.clone(), (end.0 + 10.0, end.1 + 12.0)));
        let nat = if lost {
            None
        } else {
            nat_note.clone().map(|n| {
                let x = if geo.fit {
                    self.fit_centre((x1 + x2) / 2.0, n.chars().count())
                } else {
                    lx
                };
                (n, (x, y2 + 13.0))
            })
        };
        let name = |lane: Option<usize>| {
            lane.and_then(|l| self.names.get(l).cloned())
                .unwrap_or_else(|| Rc::from("nobody"))
        };
        let names = (name(Some(m.from)), name(m.to));
        let view = MessageView {
            packet: m.packet,
            lost,
            retransmission: m.retransmission,
            keepalive: matches!(m.what, What::Keepalive),
            esp: matches!(m.what, What::Esp { .. }),
            time,
            src: m.src,
            dst: m.dst,
            what: m.what.clone(),
            names,
            hit: (
                geo.gutter,
                geo.width - geo.gutter,
                MSG_H + if nat_note.is_some() { NAT_H } else { 0.0 },
            ),
            time_at: (geo.gutter - 8.0, y1 + 4.0),
            from: (x1, y1),
            end,
            head: (!lost).then(|| ((x2, y2), if x2 >= x1 { -1.0 } else { 1.0 })),
            label_at: (lx, y1 - 5.0),
            member,
            label,
            why,
            nat,
        };
        let h = MSG_H + if view.nat.is_some() { NAT_H } else { 0.0 };
        let matched = self.matches(|| {
            format!(
                "{} {} {} {} {} {}",
                view.time,
                view.member.as_deref().unwrap_or(""),
                title,
                m.notation(),
                nat_note.as_deref().unwrap_or(""),
                m.lost.as_deref().unwrap_or("")
            )
        });
        self.push(RowKey::Row(i), h, matched, RowBody::Message(view));
    }

    /// Moves a centred text of `chars` characters so that it stays inside
    /// the drawing, right of the time column.
    fn fit_centre(&self, x: f64, chars: usize) -> f64 {
        let half = chars as f64 * CHAR_W / 2.0;
        let lo = self.geo.gutter + 4.0 + half;
        let hi = self.geo.width - 4.0 - half;
        if lo > hi { lo } else { x.clamp(lo, hi) }
    }

    fn note(&mut self, i: usize, n: &NoteRow) {
        let geo = self.geo;
        let drawn = n.lane.and_then(|l| self.lanes.drawn.get(l).copied());
        // Lane-less notes are centred right of the time gutter.
        let x = drawn
            .and_then(|d| self.lanes.xs.get(d).copied())
            .unwrap_or((geo.gutter + geo.width) / 2.0);
        let anchor = match drawn {
            Some(0) => "start",
            None => "middle",
            // On the page a note on a middle lane (an expanded group's
            // member) reads towards the side with more room.
            Some(_) if geo.fit && x - geo.gutter < geo.width - x => "start",
            Some(_) => "end",
        };
        let tx = match anchor {
            "start" => x + 8.0,
            "end" => x - 8.0,
            _ => x,
        };
        let mut text = match n
            .lane
            .and_then(|l| self.lanes.member.get(l).cloned().flatten())
        {
            Some(member) => format!("{member}: {}", n.text),
            None => n.text.clone(),
        };
        if let Some(rule) = &n.rule {
            text.push_str(&format!(" [{rule}]"));
        }
        // Room for the text between its anchor and the far edge, in
        // characters of the monospace font (about 6.6 units each).
        let room = match anchor {
            "start" => geo.width - tx - 10.0,
            "end" if geo.fit => tx - geo.gutter - 6.0,
            "end" => tx - 10.0,
            _ => geo.width - geo.gutter - 20.0,
        };
        let least = if geo.fit { 12.0 } else { 20.0 };
        let lines = crate::wrap_words(&text, (room / 6.7).max(least) as usize);
        let h = NOTE_H + LINE_H * (lines.len() as f64 - 1.0);
        let view = NoteView {
            kind: n.kind,
            time: fmt_time(n.time),
            time_at: (geo.gutter - 8.0, 15.0),
            at: (tx, 15.0),
            anchor,
            lines,
        };
        let matched = self.matches(|| format!("{} {text}", view.time));
        self.push(RowKey::Row(i), h, matched, RowBody::Note(view));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use mobike_wire::registry::ExchangeType;

    /// Rewound to a row, the routine requests are those of the rows
    /// before it, as if the rows after had never been read: a layout that
    /// picks up there reads them again (or other rows in their place).
    #[test]
    fn routine_requests_rewind_to_a_row() {
        let s = crate::topology::tests::example("nat-keepalives");
        let mut w = mobike_sim::World::new(&s);
        // Twenty minutes: a liveness check a minute.
        w.run_until(1_200_000_000);
        let chart = Chart::build(&s, w.trace());
        let rows: Vec<&Row> = chart.rows.iter().collect();
        let read = |to: usize| {
            let mut r = Routines::default();
            let found: Vec<_> = (0..to).map(|i| r.of(i, rows[i])).collect();
            (r, found)
        };
        let (mut all, found) = read(rows.len());
        let n = found.iter().filter(|f| f.is_some()).count();
        let checks = found.iter().filter(|f| **f == Some(Routine::Check)).count();
        assert!(n > 30 && checks > 3, "{n} routine rows, {checks} checks");
        for at in [rows.len() - 1, rows.len() / 2, rows.len() / 3, 1, 0] {
            all.rewind(at);
            let (before, _) = read(at);
            assert_eq!(all.requests, before.requests, "rewound to {at}");
            assert_eq!(all.log, before.log, "rewound to {at}");
            // Read on from there, it finds what a reading of all finds.
            let mut again = all.clone();
            let more: Vec<_> = (at..rows.len()).map(|i| again.of(i, rows[i])).collect();
            assert_eq!(more, found[at..], "read on from {at}");
        }
    }

    #[test]
    fn exchange_names_are_the_registrys() {
        for (t, e) in [
            (ExchangeType::IKE_SA_INIT, Exchange::IkeSaInit),
            (ExchangeType::IKE_AUTH, Exchange::IkeAuth),
            (ExchangeType::CREATE_CHILD_SA, Exchange::CreateChildSa),
            (ExchangeType::INFORMATIONAL, Exchange::Informational),
        ] {
            assert_eq!(t.to_string(), e.label());
        }
    }

    #[test]
    fn row_keys_read_back() {
        for k in [RowKey::Row(0), RowKey::Row(123), RowKey::Run(7)] {
            assert_eq!(RowKey::parse(&k.to_string()), Some(k));
        }
        for bad in ["", "r", "x1", "r-1", "s1x"] {
            assert_eq!(RowKey::parse(bad), None, "{bad}");
        }
    }

    #[test]
    fn summary_times_drop_trailing_zeros() {
        assert_eq!(short_time(10_000_000), "10 s");
        assert_eq!(short_time(10_140_000), "10.14 s");
        assert_eq!(short_time(60_200_000), "60.2 s");
        assert_eq!(short_time(5_000), "0.005 s");
    }

    #[test]
    fn clipping_keeps_short_text() {
        assert_eq!(clip("abc", 3), "abc");
        assert_eq!(clip("abcdef", 4), "abc…");
    }
}
