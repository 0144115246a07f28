//! RFC-style ASCII charts, as in RFC 4555 §2.2 and RFC 7296 §1.2: messages
//! from the left lane end in `-->`, messages from the right lane start with
//! `<--`, payload lists are folded, and nothing is wider than 72 columns
//! (RFC artwork).

use crate::chart::{Chart, MessageRow, NoteKind, Row, What};
use crate::fmt_time;
use crate::msc::{Filter, wanted_lanes};
use crate::topology::HostGroup;

/// Maximum line width.
pub const WIDTH: usize = 72;
/// Where right-lane messages start (the `<--`).
const RIGHT: usize = 26;

/// Folds `items` joined by ", " into lines no wider than `width`, the first
/// line starting with `first`, continuation lines with `cont`.
fn fold(items: &[String], first: &str, cont: &str, width: usize, tail: &str) -> Vec<String> {
    let mut lines = Vec::new();
    let mut line = first.to_string();
    let mut empty = true;
    for (i, item) in items.iter().enumerate() {
        let last = i + 1 == items.len();
        let piece = if last {
            format!("{item}{tail}")
        } else {
            format!("{item},")
        };
        let sep = if empty { "" } else { " " };
        if !empty && line.chars().count() + sep.len() + piece.chars().count() > width {
            lines.push(line);
            line = format!("{cont}{piece}");
        } else {
            line.push_str(sep);
            line.push_str(&piece);
        }
        empty = false;
    }
    lines.push(line);
    lines
}

/// Wraps `text` at spaces; the first line starts with `first`, the others
/// with `cont` (both the same width).
fn wrap(text: &str, first: &str, cont: &str, width: usize) -> Vec<String> {
    let room = width.saturating_sub(first.chars().count()).max(10);
    crate::wrap_words(text, room)
        .into_iter()
        .enumerate()
        .map(|(i, l)| format!("{}{l}", if i == 0 { first } else { cont }))
        .collect()
}

/// Options for the ASCII chart.
#[derive(Clone, Debug)]
pub struct AsciiOptions {
    /// Show NAT-keepalives.
    pub keepalives: bool,
    /// Show ESP packets (the ping traffic).
    pub esp: bool,
    /// Show protocol notes (decisions with their rule).
    pub notes: bool,
    /// The chart's filter (host, exchanges, kinds), as the page's chart
    /// toolbar sets it; open by default.
    pub filter: Filter,
    /// Host groups, for a filter that names one ("group:<id>").
    pub groups: Vec<HostGroup>,
}

impl AsciiOptions {
    /// Whether a message of this kind is drawn (keepalives and ESP are
    /// optional).
    pub fn shows(&self, what: &What) -> bool {
        match what {
            What::Keepalive => self.keepalives,
            What::Esp { .. } => self.esp,
            _ => true,
        }
    }

    /// One flag per row of `chart`: whether the filter lets it through
    /// (the keepalive, ESP and notes switches apart).
    pub fn admitted(&self, chart: &Chart) -> Vec<bool> {
        let wanted = wanted_lanes(chart, &self.groups, &self.filter);
        chart
            .rows
            .iter()
            .map(|r| self.filter.admits(r, wanted.as_deref()))
            .collect()
    }
}

impl Default for AsciiOptions {
    fn default() -> Self {
        AsciiOptions {
            keepalives: true,
            esp: false,
            notes: true,
            filter: Filter::default(),
            groups: Vec::new(),
        }
    }
}

fn message(m: &MessageRow, right: bool, who: Option<String>, out: &mut Vec<String>) {
    let mut title = m.title();
    if m.retransmission {
        title.push_str(" (retransmission)");
    }
    if m.lost.is_some() {
        title.push_str(" [lost]");
    }
    let time = format!("{:>8}", fmt_time(m.sent));
    match who {
        Some(w) if time.len() + w.chars().count() + title.len() + 4 > WIDTH => {
            out.push(format!("{time}  {w}:"));
            out.push(format!("          {title}"));
        }
        Some(w) => out.push(format!("{time}  {w}: {title}")),
        None => out.push(format!("{time}  {title}")),
    }
    if let Some(reason) = &m.lost {
        out.extend(wrap(
            // Drop reasons cite RFCs too ("RFC 4787 §6").
            &ascii_text(&format!("lost: {reason}")),
            "          ",
            "          ",
            WIDTH,
        ));
    }
    let addr = format!("({} -> {})", m.src, m.dst);
    let seen = m.nat_note().map(|n| format!("[{n}]")).unwrap_or_default();
    // IKE payload lists fold at item boundaries; anything else (an ESP
    // packet's decrypted ping, IPv6 addresses) wraps at spaces.
    let (first, cont, width, tail, arrow) = if right {
        let pad = " ".repeat(RIGHT);
        (
            format!("{pad}     "),
            format!("{pad}          "),
            WIDTH,
            "",
            format!("{pad}<--  "),
        )
    } else {
        (
            "   ".to_string(),
            "        ".to_string(),
            WIDTH - 5,
            "  -->",
            "   ".to_string(),
        )
    };
    out.extend(wrap(&addr, &arrow, &first, WIDTH));
    if !seen.is_empty() {
        out.extend(wrap(&seen, &first, &first, WIDTH));
    }
    match &m.what {
        What::Ike { items, error, .. } => {
            out.extend(fold(items, &first, &cont, width, tail));
            // Why it could not be read (parsed or decrypted): the reason
            // belongs in the chart, not only in the inspector.
            if let Some(e) = error {
                out.extend(wrap(&format!("[not read: {e}]"), &first, &cont, width));
            }
        }
        other => {
            let text = match other {
                What::Keepalive => "NAT-keepalive".to_string(),
                What::Esp { .. } => m.notation(),
                _ => "UDP".to_string(),
            };
            let mut lines = wrap(&text, &first, &cont, width);
            if let Some(last) = lines.last_mut() {
                last.push_str(tail);
            }
            out.extend(lines);
        }
    }
}

/// One side's heading: the lane, or how many lanes of that role there are.
fn side_heading(chart: &Chart, right_side: &[bool], right: bool) -> String {
    let lanes: Vec<_> = chart
        .lanes
        .iter()
        .zip(right_side)
        .filter(|(_, r)| **r == right)
        .map(|(l, _)| l)
        .collect();
    match lanes.as_slice() {
        [] => String::new(),
        [l] => format!("{} ({})", l.label, l.role),
        [l, m] => format!("{}, {} ({}s)", l.label, m.label, l.role),
        more => format!("{} {}s", more.len(), more[0].role),
    }
}

/// The chart as RFC-style text. With two lanes, the first is drawn on the
/// left and the other on the right. With more, initiators are on the left
/// and responders on the right, and each message names its sender and
/// receiver; a message between two lanes of the right side is drawn from
/// the left.
pub fn render(chart: &Chart, opts: &AsciiOptions) -> String {
    let mut out: Vec<String> = Vec::new();
    let many = chart.lanes.len() > 2;
    let right_side: Vec<bool> = chart
        .lanes
        .iter()
        .enumerate()
        .map(|(i, l)| if many { l.role == "responder" } else { i != 0 })
        .collect();
    let left = side_heading(chart, &right_side, false);
    let right = side_heading(chart, &right_side, true);
    let gap = WIDTH
        .saturating_sub(left.chars().count() + right.chars().count() + 3)
        .max(1);
    out.push(format!("   {left}{}{right}", " ".repeat(gap)));
    out.push(format!("   {}", "-".repeat(WIDTH - 3)));
    let admitted = opts.admitted(chart);
    for (row, _) in chart.rows.iter().zip(&admitted).filter(|(_, a)| **a) {
        match row {
            Row::Message(m) => {
                if !opts.shows(&m.what) {
                    continue;
                }
                out.push(String::new());
                let from_right = right_side.get(m.from).copied().unwrap_or(false);
                let to_right = m.to.and_then(|t| right_side.get(t).copied());
                let right = from_right && to_right != Some(true);
                let who = many.then(|| {
                    let name = |i: usize| chart.lanes.get(i).map_or("?", |l| l.label.as_str());
                    match m.to {
                        Some(t) => format!("{} -> {}", name(m.from), name(t)),
                        None => format!("{} ->", name(m.from)),
                    }
                });
                message(m, right, who, &mut out);
            }
            Row::Note(n) => {
                if n.kind == NoteKind::Protocol && !opts.notes {
                    continue;
                }
                out.push(String::new());
                let who = n
                    .lane
                    .and_then(|l| chart.lanes.get(l))
                    .map(|l| format!("{}: ", l.label))
                    .unwrap_or_default();
                let mark = match n.kind {
                    NoteKind::Network => "***",
                    NoteKind::Protocol => "  *",
                    NoteKind::Rejected => "  !",
                    NoteKind::Narration => ">>>",
                };
                let mut text = format!("{who}{}", n.text);
                if let Some(rule) = &n.rule {
                    text.push_str(&format!(" [{rule}]"));
                }
                let text = ascii_text(&text);
                let first = format!("{:>8}  {mark} ", fmt_time(n.time));
                out.extend(wrap(
                    &text,
                    &first,
                    &" ".repeat(first.chars().count()),
                    WIDTH,
                ));
            }
        }
    }
    let mut s = out.join("\n");
    s.push('\n');
    s
}

/// RFC artwork is plain ASCII.
fn ascii_text(s: &str) -> String {
    s.replace('§', "Sec. ")
        .replace('→', "->")
        .replace('⇄', "<->")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fold_respects_width_and_tail() {
        let items: Vec<String> = [
            "HDR",
            "SK {N(UPDATE_SA_ADDRESSES)",
            "N(NAT_DETECTION_SOURCE_IP)",
            "N(NAT_DETECTION_DESTINATION_IP)",
            "N(COOKIE2)}",
        ]
        .iter()
        .map(|s| s.to_string())
        .collect();
        let lines = fold(&items, "   ", "        ", WIDTH - 5, "  -->");
        assert!(lines.len() > 1);
        assert!(
            lines.iter().all(|l| l.chars().count() <= WIDTH),
            "{lines:?}"
        );
        assert!(lines.last().unwrap().ends_with("N(COOKIE2)}  -->"));
        assert!(lines[0].starts_with("   HDR, SK {N(UPDATE_SA_ADDRESSES),"));
    }

    #[test]
    fn wrap_keeps_words() {
        let l = wrap("one two three four five six", "> ", "  ", 12);
        assert_eq!(l, vec!["> one two", "  three four", "  five six"]);
    }
}
