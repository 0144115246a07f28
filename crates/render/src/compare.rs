//! Two or more runs side by side: the figures table ([`Figures`], what
//! `mobike compare` prints and the page's compare mode shows between its
//! two charts) and a row diff of two charts ([`diff`]) that marks the rows
//! one run has and the other has not.
//!
//! Comparing policies is what the RFC leaves to implementations (RFC 4555
//! §3.5: what the initiator does when the responder's list drops the path
//! in use) and what a working group weighs (responder MOBIKE against
//! Redirect, RFC 5685, for moving a cluster's clients).

use crate::chart::{Chart, MessageRow, NoteKind, Row, What};
use crate::metrics::{Metrics, Recovery};
use mobike_protocol::Time;
use serde::Serialize;
use std::net::IpAddr;

/// Width of the label column of [`Figures::to_text`] (wider when a label
/// needs it).
const LABEL_W: usize = 28;

/// The figures of several runs, a column each.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct Figures {
    /// The runs' names, in the order given.
    pub columns: Vec<String>,
    /// Whole-run figures, then the slowest client's recovery after the
    /// first trigger.
    pub rows: Vec<FigureRow>,
    /// Each client's recovery after the first trigger: when the first
    /// trigger happened, then for each client (in the order of the first
    /// run that has it) "SAs moved after" and "ping ok after"
    /// ([`Recovery`]).
    pub clients: Vec<FigureRow>,
}

/// One figure of every run.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct FigureRow {
    pub label: String,
    /// One value a column, as printed: a count, a time ("1.234s"), "-" for
    /// a recovery that did not happen (within the run), "n/a" for a client
    /// that run does not have.
    pub values: Vec<String>,
    /// Not every column has the same value.
    pub differs: bool,
}

impl FigureRow {
    fn new(label: impl Into<String>, values: Vec<String>) -> FigureRow {
        let differs = values.windows(2).any(|w| w[0] != w[1]);
        FigureRow {
            label: label.into(),
            values,
            differs,
        }
    }
}

/// "1.234s", or "-" for nothing.
fn fmt_opt(t: Option<Time>) -> String {
    t.map_or_else(|| "-".to_string(), crate::fmt_time)
}

/// The slowest client's recovery after the first trigger: `None` when
/// there is no trigger or some client did not recover.
fn slowest(m: &Metrics, f: fn(&Recovery) -> Option<Time>) -> Option<Time> {
    let t = m.triggers.first()?;
    let all: Vec<Option<Time>> = t.recoveries.iter().map(f).collect();
    if all.iter().any(Option::is_none) {
        None
    } else {
        all.into_iter().flatten().max()
    }
}

impl Figures {
    /// The figures of runs, each given by its name and its metrics
    /// (computed up to one end for all, [`crate::metrics::compute_at`], when
    /// they are to be compared at one moment).
    pub fn build(runs: &[(String, Metrics)]) -> Figures {
        let col = |f: &dyn Fn(&Metrics) -> String| -> Vec<String> {
            runs.iter().map(|(_, m)| f(m)).collect()
        };
        type Figure = (&'static str, fn(&Metrics) -> String);
        let whole: [Figure; 11] = [
            ("clients", |m| m.clients.len().to_string()),
            ("IKE messages", |m| m.ike_messages.to_string()),
            ("IKE octets", |m| m.ike_octets.to_string()),
            ("IKE lost", |m| m.ike_lost.to_string()),
            ("pings sent", |m| m.pings_sent.to_string()),
            ("pings answered", |m| m.pings_answered.to_string()),
            ("pings lost", |m| m.pings_lost.to_string()),
            ("ESP packets", |m| m.esp_packets.to_string()),
            ("ESP lost", |m| m.esp_lost.to_string()),
            ("longest outage", |m| crate::fmt_time(m.longest_gap)),
            ("keepalives", |m| m.keepalives.to_string()),
        ];
        let mut rows: Vec<FigureRow> = whole
            .iter()
            .map(|(label, f)| FigureRow::new(*label, col(f)))
            .collect();
        rows.push(FigureRow::new(
            "slowest: SAs moved after",
            col(&|m| fmt_opt(slowest(m, |r| r.path_changed_after))),
        ));
        rows.push(FigureRow::new(
            "slowest: ping ok after",
            col(&|m| fmt_opt(slowest(m, |r| r.ping_answered_after))),
        ));

        // Clients in the order of the first run that has them.
        let mut names: Vec<&str> = Vec::new();
        for (_, m) in runs {
            for c in &m.clients {
                if !names.contains(&c.node.as_str()) {
                    names.push(&c.node);
                }
            }
        }
        let mut clients = Vec::new();
        if !names.is_empty() {
            clients.push(FigureRow::new(
                "first trigger at",
                col(&|m| fmt_opt(m.triggers.first().map(|t| t.time))),
            ));
        }
        for name in names {
            let recovery = |m: &Metrics, f: fn(&Recovery) -> Option<Time>| -> String {
                if !m.clients.iter().any(|c| c.node == name) {
                    return "n/a".into();
                }
                fmt_opt(
                    m.triggers
                        .first()
                        .and_then(|t| t.recoveries.iter().find(|r| r.client == name))
                        .and_then(f),
                )
            };
            clients.push(FigureRow::new(
                format!("{name}: SAs moved after"),
                col(&|m| recovery(m, |r| r.path_changed_after)),
            ));
            clients.push(FigureRow::new(
                format!("{name}: ping ok after"),
                col(&|m| recovery(m, |r| r.ping_answered_after)),
            ));
        }
        Figures {
            columns: runs.iter().map(|(n, _)| n.clone()).collect(),
            rows,
            clients,
        }
    }

    /// The table as `mobike compare` prints it: a column a run, right
    /// aligned; the per-client recoveries follow the whole-run figures.
    pub fn to_text(&self) -> String {
        let width = self
            .columns
            .iter()
            .map(|n| n.chars().count())
            .max()
            .unwrap_or(0)
            .max(12);
        let label_w = self
            .rows
            .iter()
            .chain(&self.clients)
            .map(|r| r.label.chars().count() + 1)
            .max()
            .unwrap_or(0)
            .max(LABEL_W);
        let mut out = format!("{:<label_w$}", "");
        for n in &self.columns {
            out.push_str(&format!("{n:>width$}  "));
        }
        out.push('\n');
        let print = |out: &mut String, rows: &[FigureRow]| {
            for r in rows {
                out.push_str(&format!("{:<label_w$}", r.label));
                for v in &r.values {
                    out.push_str(&format!("{v:>width$}  "));
                }
                out.push('\n');
            }
        };
        print(&mut out, &self.rows);
        out.push_str("(\"slowest\": the last client to recover after the first timeline event)\n");
        if !self.clients.is_empty() {
            out.push('\n');
            out.push_str("each client after the first timeline event:\n");
            print(&mut out, &self.clients);
            out.push_str("(\"-\": not within the run; \"n/a\": no such client in that run)\n");
        }
        out
    }
}

/// Which rows of two charts have a counterpart in the other.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct ChartDiff {
    /// For each row of the first chart: true when the second run has no
    /// counterpart (the row is marked).
    pub only_a: Vec<bool>,
    /// For each row of the second chart: true when the first has none.
    pub only_b: Vec<bool>,
    /// The rows that correspond, (row of a, row of b), in order.
    pub pairs: Vec<(usize, usize)>,
}

impl ChartDiff {
    /// Nothing is marked.
    pub fn is_same(&self) -> bool {
        !self.only_a.iter().chain(&self.only_b).any(|&m| m)
    }
}

/// What a protocol expert compares in a row. Left out is what differs
/// between any two runs however alike: packet ids, SPIs, nonces, keys, IVs
/// and the encrypted octets (sizes too, as padding may vary), and ESP
/// sequence numbers. Kept: when, the lanes (by host id, so two scenarios
/// with the same hosts compare), the IP addresses of the path (which path
/// is in use is what MOBIKE is about, RFC 4555 §3.5; ports are left out as
/// a NAT may pick them at random), exchange type, request or response,
/// message id, the payload list in RFC notation (RFC 7296 §1.2 style,
/// with the payloads inside SK decrypted), retransmission, lost or not.
#[derive(Clone, Debug, PartialEq, Eq)]
enum Key<'a> {
    Message {
        sent: Time,
        from: &'a str,
        to: Option<&'a str>,
        src: IpAddr,
        dst: IpAddr,
        what: WhatKey<'a>,
        retransmission: bool,
        lost: bool,
    },
    Note {
        time: Time,
        lane: Option<&'a str>,
        kind: NoteKind,
        text: String,
        rule: Option<&'a str>,
    },
}

#[derive(Clone, Debug, PartialEq, Eq)]
enum WhatKey<'a> {
    Ike {
        exchange: &'a str,
        response: bool,
        mid: u32,
        items: &'a [String],
    },
    Keepalive,
    /// ESP: what it carries ("ICMP echo request 10.0.0.1 -> …", without
    /// its sequence number) and whether it was UDP-encapsulated.
    Esp {
        inner: Option<String>,
        udp: bool,
    },
    Other,
}

impl Key<'_> {
    fn time(&self) -> Time {
        match self {
            Key::Message { sent, .. } => *sent,
            Key::Note { time, .. } => *time,
        }
    }
}

/// Drops what is random from a text: runs of 8 or more hex digits (SPIs,
/// cookies) and the number after "seq".
fn normalize(text: &str) -> String {
    let mut out = Vec::new();
    let mut after_seq = false;
    for w in text.split(' ') {
        let core = w.trim_matches(|c: char| !c.is_ascii_alphanumeric());
        if after_seq && !core.is_empty() && core.bytes().all(|b| b.is_ascii_digit()) {
            out.push("#");
        } else if core.len() >= 8 && core.bytes().all(|b| b.is_ascii_hexdigit()) {
            out.push("*");
        } else {
            out.push(w);
        }
        after_seq = core == "seq";
    }
    out.join(" ")
}

fn key<'a>(chart: &'a Chart, row: &'a Row) -> Key<'a> {
    let lane = |i: usize| chart.lanes.get(i).map(|l| l.node.as_str());
    match row {
        Row::Message(m) => message_key(m, lane(m.from), m.to.and_then(lane)),
        Row::Note(n) => Key::Note {
            time: n.time,
            lane: n.lane.and_then(lane),
            kind: n.kind,
            text: normalize(&n.text),
            rule: n.rule.as_deref(),
        },
    }
}

fn message_key<'a>(m: &'a MessageRow, from: Option<&'a str>, to: Option<&'a str>) -> Key<'a> {
    let what = match &m.what {
        What::Ike {
            exchange,
            mid,
            response,
            items,
            ..
        } => WhatKey::Ike {
            exchange,
            response: *response,
            mid: *mid,
            items,
        },
        What::Keepalive => WhatKey::Keepalive,
        What::Esp { inner, udp, .. } => WhatKey::Esp {
            inner: inner.get().map(normalize),
            udp: *udp,
        },
        What::Other => WhatKey::Other,
    };
    Key::Message {
        sent: m.sent,
        from: from.unwrap_or(""),
        to,
        src: m.src.ip(),
        dst: m.dst.ip(),
        what,
        retransmission: m.retransmission,
        lost: m.lost.is_some(),
    }
}

/// Above this many cells the alignment of the rows of one instant is
/// greedy instead of a longest common subsequence.
const MAX_CELLS: usize = 1 << 22;

/// The rows of two runs that correspond, and those that do not.
///
/// Two rows correspond when their keys are equal (see [`Key`]: the same
/// time, hosts, path, exchange, message id, payloads, lost or not), and
/// the pairs are a longest common subsequence of the two charts' rows in
/// time order, so an extra message marks itself, not every row after it.
/// Time is part of the key: a message sent later in one run than in the
/// other differs (on a page with one clock the two would not be side by
/// side). Because equal keys have equal times, the longest common
/// subsequence of two time-ordered charts is the union of those of each
/// instant, which keeps the diff linear in the rows for all but
/// pathological instants.
pub fn diff(a: &Chart, b: &Chart) -> ChartDiff {
    let ka: Vec<Key> = a.rows.iter().map(|r| key(a, r)).collect();
    let kb: Vec<Key> = b.rows.iter().map(|r| key(b, r)).collect();
    // Time order (rows are pushed in it; a stable sort keeps the chart's
    // order within an instant).
    let order = |k: &[Key]| {
        let mut ix: Vec<usize> = (0..k.len()).collect();
        ix.sort_by_key(|&i| k[i].time());
        ix
    };
    let (oa, ob) = (order(&ka), order(&kb));
    let mut pairs = Vec::new();
    let (mut i, mut j) = (0, 0);
    while i < oa.len() || j < ob.len() {
        let t = match (oa.get(i), ob.get(j)) {
            (Some(&x), Some(&y)) => ka[x].time().min(kb[y].time()),
            (Some(&x), None) => ka[x].time(),
            (None, Some(&y)) => kb[y].time(),
            (None, None) => break,
        };
        let i2 = i + oa[i..].iter().take_while(|&&x| ka[x].time() == t).count();
        let j2 = j + ob[j..].iter().take_while(|&&y| kb[y].time() == t).count();
        for (x, y) in lcs(&oa[i..i2], &ob[j..j2], &ka, &kb, MAX_CELLS) {
            pairs.push((x, y));
        }
        (i, j) = (i2, j2);
    }
    pairs.sort_unstable();
    let mut only_a = vec![true; a.rows.len()];
    let mut only_b = vec![true; b.rows.len()];
    for &(x, y) in &pairs {
        only_a[x] = false;
        only_b[y] = false;
    }
    ChartDiff {
        only_a,
        only_b,
        pairs,
    }
}

/// A longest common subsequence of two short runs of rows (indices into
/// the keys), as pairs of row indices; a greedy common subsequence when
/// the table would have more than `max_cells` cells.
fn lcs(
    xs: &[usize],
    ys: &[usize],
    ka: &[Key],
    kb: &[Key],
    max_cells: usize,
) -> Vec<(usize, usize)> {
    let (n, m) = (xs.len(), ys.len());
    if n == 0 || m == 0 {
        return Vec::new();
    }
    let eq = |i: usize, j: usize| ka[xs[i]] == kb[ys[j]];
    if n * m > max_cells {
        // Greedy: each row of a takes the next equal row of b.
        let mut out = Vec::new();
        let mut j = 0;
        for (i, &x) in xs.iter().enumerate() {
            if let Some(k) = (j..m).find(|&k| eq(i, k)) {
                out.push((x, ys[k]));
                j = k + 1;
            }
        }
        return out;
    }
    // len[i][j]: the LCS of xs[i..] and ys[j..].
    let w = m + 1;
    let mut len = vec![0u32; (n + 1) * w];
    for i in (0..n).rev() {
        for j in (0..m).rev() {
            len[i * w + j] = if eq(i, j) {
                len[(i + 1) * w + j + 1] + 1
            } else {
                len[(i + 1) * w + j].max(len[i * w + j + 1])
            };
        }
    }
    let (mut i, mut j) = (0, 0);
    let mut out = Vec::new();
    while i < n && j < m {
        if eq(i, j) {
            out.push((xs[i], ys[j]));
            i += 1;
            j += 1;
        } else if len[(i + 1) * w + j] >= len[i * w + j + 1] {
            i += 1;
        } else {
            j += 1;
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn normalize_drops_spis_and_sequence_numbers() {
        assert_eq!(
            normalize("ICMP echo request 10.0.0.1 -> 10.1.0.1 seq 12"),
            "ICMP echo request 10.0.0.1 -> 10.1.0.1 seq #"
        );
        assert_eq!(normalize("SPI c0ffee12 gone"), "SPI * gone");
        assert_eq!(normalize("IKE SA deleted: done"), "IKE SA deleted: done");
    }

    #[test]
    fn lcs_marks_only_the_extra_row() {
        let row = |k: u32| Key::Note {
            time: 0,
            lane: None,
            kind: NoteKind::Protocol,
            text: k.to_string(),
            rule: None,
        };
        let ka: Vec<Key> = [1, 2, 3, 4].map(row).to_vec();
        let kb: Vec<Key> = [1, 9, 2, 3, 4].map(row).to_vec();
        let got = lcs(&[0, 1, 2, 3], &[0, 1, 2, 3, 4], &ka, &kb, MAX_CELLS);
        assert_eq!(got, vec![(0, 0), (1, 2), (2, 3), (3, 4)]);
        // Greedy: as good here, and never pairs unequal rows.
        let greedy = lcs(&[0, 1, 2, 3], &[0, 1, 2, 3, 4], &ka, &kb, 0);
        assert_eq!(greedy, got);
        let kc: Vec<Key> = [4, 3, 2, 1].map(row).to_vec();
        let got = lcs(&[0, 1, 2, 3], &[0, 1, 2, 3], &ka, &kc, MAX_CELLS);
        assert_eq!(got.len(), 1, "reversed: one row in common");
        let greedy = lcs(&[0, 1, 2, 3], &[0, 1, 2, 3], &ka, &kc, 0);
        assert!(greedy.iter().all(|&(x, y)| ka[x] == kc[y]));
        assert_eq!(greedy, vec![(0, 3)]);
    }
}
