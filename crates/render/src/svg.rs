//! The message sequence chart as SVG: one vertical lane per host, sloped
//! arrows from sender to receiver, lost messages ending in a cross,
//! retransmissions dashed, notes across the chart. Each message is a
//! `<g class="msg" data-packet="N">` so a page can make it clickable.

use crate::chart::{Chart, MessageRow, NoteKind, Row, What};
use crate::fmt_time;
use mobike_sim::trace::PacketId;
use std::fmt::Write;

pub const WIDTH: f64 = 860.0;
const TOP: f64 = 48.0;
const MSG_H: f64 = 40.0;
const NOTE_H: f64 = 22.0;
const SLOPE: f64 = 14.0;
const GUTTER: f64 = 78.0;
/// Height of each further line of a wrapped note.
const LINE_H: f64 = 14.0;

/// Extra height of a message row that carries a NAT annotation.
const NAT_H: f64 = 12.0;

/// Escapes text for SVG/XML content and attributes.
pub fn esc(s: &str) -> String {
    let mut o = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => o.push_str("&amp;"),
            '<' => o.push_str("&lt;"),
            '>' => o.push_str("&gt;"),
            '"' => o.push_str("&quot;"),
            '\'' => o.push_str("&#39;"),
            c => o.push(c),
        }
    }
    o
}

/// x coordinate of each lane.
pub fn lane_x(chart: &Chart) -> Vec<f64> {
    let n = chart.lanes.len().max(1);
    let (a, b) = (GUTTER + 90.0, WIDTH - 90.0);
    (0..n)
        .map(|i| {
            if n == 1 {
                (a + b) / 2.0
            } else {
                a + (b - a) * i as f64 / (n - 1) as f64
            }
        })
        .collect()
}

/// Short label of a message for the arrow (the full notation is in the tooltip).
fn short(m: &MessageRow) -> String {
    if let What::Esp {
        inner: Some(inner),
        udp,
        ..
    } = &m.what
    {
        return format!(
            "{}ESP: {inner}",
            if *udp { "UDP-encapsulated " } else { "" }
        );
    }
    let mut s = m.title();
    if let What::Ike { items, .. } = &m.what {
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
        if !text.is_empty() {
            s = format!("{s}: {text}");
        }
    }
    s
}

/// Options: which message is selected, whether keepalives are drawn.
#[derive(Clone, Debug, Default)]
pub struct SvgOptions {
    pub selected: Option<PacketId>,
    pub hide_keepalives: bool,
    /// Draw ESP packets (the ping traffic) too.
    pub show_esp: bool,
    /// Omit the XML declaration and fixed size (for embedding in a page).
    pub inline: bool,
}

/// The chart as an SVG document.
pub fn render(chart: &Chart, opts: &SvgOptions) -> String {
    let xs = lane_x(chart);
    let mut body = String::new();
    let mut y = TOP + 16.0;
    for row in &chart.rows {
        match row {
            Row::Message(m) => {
                if (opts.hide_keepalives && matches!(m.what, What::Keepalive))
                    || (!opts.show_esp && matches!(m.what, What::Esp { .. }))
                {
                    continue;
                }
                let mut extra = 0.0;
                let x1 = xs.get(m.from).copied().unwrap_or(xs[0]);
                let x2 =
                    m.to.and_then(|t| xs.get(t).copied())
                        .unwrap_or(if x1 < WIDTH / 2.0 { WIDTH - 20.0 } else { 20.0 });
                let y1 = y + 18.0;
                let y2 = y1 + SLOPE;
                let mut class = String::from("msg");
                if m.lost.is_some() {
                    class.push_str(" lost");
                }
                if m.retransmission {
                    class.push_str(" retx");
                }
                if matches!(m.what, What::Keepalive) {
                    class.push_str(" keepalive");
                }
                if matches!(m.what, What::Esp { .. }) {
                    class.push_str(" esp");
                }
                if opts.selected == Some(m.packet) {
                    class.push_str(" selected");
                }
                let tooltip = format!(
                    "{} {} -> {}\n{}",
                    fmt_time(m.sent),
                    m.src,
                    m.dst,
                    m.notation()
                );
                let _ = write!(
                    body,
                    r#"<g class="{class}" data-packet="{}"><title>{}</title>"#,
                    m.packet,
                    esc(&tooltip)
                );
                let _ = write!(
                    body,
                    r#"<rect class="hit" x="{GUTTER}" y="{y}" width="{}" height="{}"/>"#,
                    WIDTH - GUTTER,
                    MSG_H + if m.nat_note().is_some() { NAT_H } else { 0.0 }
                );
                let _ = write!(
                    body,
                    r#"<text class="t" x="{}" y="{}">{}</text>"#,
                    GUTTER - 8.0,
                    y1 + 4.0,
                    fmt_time(m.sent)
                );
                let (ex, ey) = if m.lost.is_some() {
                    ((x1 + x2) / 2.0, (y1 + y2) / 2.0)
                } else {
                    (x2, y2)
                };
                let _ = write!(body, r#"<line x1="{x1}" y1="{y1}" x2="{ex}" y2="{ey}"/>"#);
                if m.lost.is_some() {
                    let _ = write!(
                        body,
                        r#"<path class="x" d="M{} {} l10 10 M{} {} l-10 10"/>"#,
                        ex - 5.0,
                        ey - 5.0,
                        ex + 5.0,
                        ey - 5.0
                    );
                } else {
                    let dir = if x2 >= x1 { -1.0 } else { 1.0 };
                    let _ = write!(
                        body,
                        r#"<path class="head" d="M{x2} {y2} l{} -4 l0 8 z"/>"#,
                        dir * 9.0
                    );
                }
                let lx = (x1 + x2) / 2.0;
                let _ = write!(
                    body,
                    r#"<text class="l" x="{lx}" y="{}">{}</text>"#,
                    y1 - 5.0,
                    esc(&short(m))
                );
                if let Some(reason) = &m.lost {
                    let _ = write!(
                        body,
                        r#"<text class="why" x="{}" y="{}">{}</text>"#,
                        ex + 10.0,
                        ey + 12.0,
                        esc(reason)
                    );
                } else if let Some(note) = m.nat_note() {
                    let _ = write!(
                        body,
                        r#"<text class="nat" x="{lx}" y="{}">{}</text>"#,
                        y2 + 13.0,
                        esc(&note)
                    );
                    extra = NAT_H;
                }
                body.push_str("</g>");
                y += MSG_H + extra;
            }
            Row::Note(n) => {
                let class = match n.kind {
                    NoteKind::Network => "note network",
                    NoteKind::Protocol => "note protocol",
                    NoteKind::Rejected => "note rejected",
                    NoteKind::Narration => "note narration",
                };
                // Lane-less notes are centred right of the time gutter.
                let x = n
                    .lane
                    .and_then(|l| xs.get(l).copied())
                    .unwrap_or((GUTTER + WIDTH) / 2.0);
                let anchor = match n.lane {
                    Some(0) => "start",
                    None => "middle",
                    Some(_) => "end",
                };
                let tx = match anchor {
                    "start" => x + 8.0,
                    "end" => x - 8.0,
                    _ => x,
                };
                let mut text = n.text.clone();
                if let Some(rule) = &n.rule {
                    text.push_str(&format!(" [{rule}]"));
                }
                // Room for the text between its anchor and the far edge, in
                // characters of the monospace font (about 6.6 units each).
                let room = match anchor {
                    "start" => WIDTH - tx - 10.0,
                    "end" => tx - 10.0,
                    _ => WIDTH - GUTTER - 20.0,
                };
                let lines = crate::wrap_words(&text, (room / 6.7).max(20.0) as usize);
                let _ = write!(
                    body,
                    r#"<g class="{class}"><text class="t" x="{}" y="{}">{}</text><text class="n" x="{tx}" y="{}" text-anchor="{anchor}">"#,
                    GUTTER - 8.0,
                    y + 15.0,
                    fmt_time(n.time),
                    y + 15.0,
                );
                for (i, line) in lines.iter().enumerate() {
                    let dy = if i == 0 { 0.0 } else { LINE_H };
                    let _ = write!(body, r#"<tspan x="{tx}" dy="{dy}">{}</tspan>"#, esc(line));
                }
                body.push_str("</text></g>");
                y += NOTE_H + LINE_H * (lines.len() as f64 - 1.0);
            }
        }
    }
    let height = y + 20.0;
    let mut head = String::new();
    for (i, l) in chart.lanes.iter().enumerate() {
        let x = xs[i];
        let _ = write!(
            head,
            r#"<line class="lane" x1="{x}" y1="{TOP}" x2="{x}" y2="{height}"/>"#
        );
        let _ = write!(
            head,
            r#"<text class="lh" x="{x}" y="20">{}</text><text class="lr" x="{x}" y="36">{}</text>"#,
            esc(&l.label),
            esc(&l.role)
        );
    }
    let size = if opts.inline {
        String::new()
    } else {
        format!(r#" width="{WIDTH}" height="{height}""#)
    };
    let decl = if opts.inline {
        ""
    } else {
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
    };
    format!(
        r#"{decl}<svg xmlns="http://www.w3.org/2000/svg" class="msc" viewBox="0 0 {WIDTH} {height}"{size}><style>{STYLE}</style>{head}{body}</svg>"#
    )
}

const STYLE: &str = "\
.msc{font-family:ui-monospace,Menlo,Consolas,monospace;font-size:11px}\
.msc .lane{stroke:#9aa4b1;stroke-width:1.5}\
.msc .lh{font-weight:700;font-size:13px;text-anchor:middle;fill:#1d2733}\
.msc .lr{text-anchor:middle;fill:#5b6675}\
.msc .t{text-anchor:end;fill:#7a8491}\
.msc .msg line{stroke:#1f5fae;stroke-width:1.6}\
.msc .msg .head{fill:#1f5fae}\
.msc .msg .l{text-anchor:middle;fill:#1d2733}\
.msc .msg .hit{fill:transparent;cursor:pointer}\
.msc .msg:hover .hit{fill:#eef4fb}\
.msc .msg.selected .hit{fill:#dceafb}\
.msc .msg.retx line{stroke-dasharray:5 3}\
.msc .msg.lost line{stroke:#c2362f}\
.msc .msg .x{stroke:#c2362f;stroke-width:2.2}\
.msc .msg .why{fill:#c2362f}\
.msc .msg .nat{text-anchor:middle;fill:#8a5a00}\
.msc .msg.keepalive line{stroke:#8b95a3;stroke-dasharray:2 3}\
.msc .msg.esp line{stroke:#2e8540;stroke-width:1}\
.msc .msg.esp .head{fill:#2e8540}\
.msc .msg.esp .l{fill:#2e8540}\
.msc .msg.keepalive .head{fill:#8b95a3}\
.msc .msg.keepalive .l{fill:#8b95a3}\
.msc .note .n{fill:#3d6b35}\
.msc .note.network .n{fill:#8a2be2;font-weight:700}\
.msc .note.rejected .n{fill:#c2362f}";

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_markup() {
        assert_eq!(esc("<a & \"b\">"), "&lt;a &amp; &quot;b&quot;&gt;");
    }
}
