//! The message sequence chart as SVG: one vertical lane per host, sloped
//! arrows from sender to receiver, lost messages ending in a cross,
//! retransmissions dashed, notes across the chart. Each message is a
//! `<g class="msg" data-packet="N">` so a page can make it clickable.

use crate::chart::Chart;
use crate::msc::{
    self, Exchange, Geometry, LINE_H, MessageView, NoteView, RowBody, RunView, ViewOptions,
};
use crate::topology::HostGroup;
use mobike_sim::trace::PacketId;
use std::fmt::Write;

/// Width of the exported drawing.
pub const WIDTH: f64 = Geometry::EXPORT.width;

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

/// Options: which message is selected, what is drawn. The default draws
/// every host as its own lane and every row but ESP, as the chart always
/// was; grouping, filters and folding are there when asked for.
#[derive(Clone, Debug, Default)]
pub struct SvgOptions {
    pub selected: Option<PacketId>,
    pub hide_keepalives: bool,
    /// Draw ESP packets (the ping traffic) too.
    pub show_esp: bool,
    /// Omit the XML declaration and fixed size (for embedding in a page).
    pub inline: bool,
    /// Host groups that may be folded into one lane (see
    /// [`ViewOptions::expanded_groups`]); none by default.
    pub groups: Vec<HostGroup>,
    /// Filter, folding and search; `hide_keepalives` and `show_esp` add
    /// to its filter.
    pub view: ViewOptions,
}

impl SvgOptions {
    fn view(&self) -> ViewOptions {
        let mut view = self.view.clone();
        if self.hide_keepalives {
            view.filter.hide_exchanges.insert(Exchange::Keepalive);
        }
        if !self.show_esp {
            view.filter.hide_exchanges.insert(Exchange::Esp);
        }
        view
    }
}

/// The chart as an SVG document.
pub fn render(chart: &Chart, opts: &SvgOptions) -> String {
    let view = msc::layout(chart, &opts.groups, &opts.view(), &Geometry::EXPORT);
    let mut body = String::new();
    for row in &view.rows {
        match &row.body {
            RowBody::Message(m) => message(&mut body, row.y, m, opts.selected == Some(m.packet)),
            RowBody::Note(n) => note(&mut body, row.y, n),
            RowBody::Run(r) => run(&mut body, row.y, r),
        }
    }
    let (width, height, top) = (view.width, view.height, view.top);
    let mut head = String::new();
    for l in &view.lanes {
        let x = l.x;
        let _ = write!(
            head,
            r#"<line class="lane" x1="{x}" y1="{top}" x2="{x}" y2="{height}"/>"#
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
        format!(r#" width="{width}" height="{height}""#)
    };
    let decl = if opts.inline {
        ""
    } else {
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
    };
    let folded = view.rows.iter().any(|r| match &r.body {
        RowBody::Message(m) => m.member.is_some(),
        RowBody::Run(_) => true,
        RowBody::Note(_) => false,
    });
    let extra = if folded { STYLE_VIEW } else { "" };
    format!(
        r#"{decl}<svg xmlns="http://www.w3.org/2000/svg" class="msc" viewBox="0 0 {width} {height}"{size}><style>{STYLE}{extra}</style>{head}{body}</svg>"#
    )
}

/// One message row: `<g class="msg" data-packet="N">` with its arrow.
fn message(body: &mut String, y: f64, m: &MessageView, selected: bool) {
    let mut class = m.class();
    if selected {
        class.push_str(" selected");
    }
    let _ = write!(
        body,
        r#"<g class="{class}" data-packet="{}"><title>{}</title>"#,
        m.packet,
        esc(&m.tooltip())
    );
    let (hx, hw, hh) = m.hit;
    let _ = write!(
        body,
        r#"<rect class="hit" x="{hx}" y="{y}" width="{hw}" height="{hh}"/>"#
    );
    let _ = write!(
        body,
        r#"<text class="t" x="{}" y="{}">{}</text>"#,
        m.time_at.0,
        y + m.time_at.1,
        m.time
    );
    let (x1, y1) = (m.from.0, y + m.from.1);
    let (ex, ey) = (m.end.0, y + m.end.1);
    let _ = write!(body, r#"<line x1="{x1}" y1="{y1}" x2="{ex}" y2="{ey}"/>"#);
    match m.head {
        None => {
            let _ = write!(
                body,
                r#"<path class="x" d="M{} {} l10 10 M{} {} l-10 10"/>"#,
                ex - 5.0,
                ey - 5.0,
                ex + 5.0,
                ey - 5.0
            );
        }
        Some(((x2, y2), dir)) => {
            let _ = write!(
                body,
                r#"<path class="head" d="M{x2} {} l{} -4 l0 8 z"/>"#,
                y + y2,
                dir * 9.0
            );
        }
    }
    let who = m
        .member
        .as_ref()
        .map(|w| format!(r#"<tspan class="who">{}</tspan>: "#, esc(w)))
        .unwrap_or_default();
    let _ = write!(
        body,
        r#"<text class="l" x="{}" y="{}">{who}{}</text>"#,
        m.label_at.0,
        y + m.label_at.1,
        esc(&m.label)
    );
    if let Some((reason, (x, ry))) = &m.why {
        let _ = write!(
            body,
            r#"<text class="why" x="{x}" y="{}">{}</text>"#,
            y + ry,
            esc(reason)
        );
    } else if let Some((note, (x, ny))) = &m.nat {
        let _ = write!(
            body,
            r#"<text class="nat" x="{x}" y="{}">{}</text>"#,
            y + ny,
            esc(note)
        );
    }
    body.push_str("</g>");
}

/// One note row, its text wrapped into lines.
fn note(body: &mut String, y: f64, n: &NoteView) {
    let (tx, ty) = n.at;
    let _ = write!(
        body,
        r#"<g class="{}"><text class="t" x="{}" y="{}">{}</text><text class="n" x="{tx}" y="{}" text-anchor="{}">"#,
        n.class(),
        n.time_at.0,
        y + n.time_at.1,
        n.time,
        y + ty,
        n.anchor,
    );
    for (i, line) in n.lines.iter().enumerate() {
        let dy = if i == 0 { 0.0 } else { LINE_H };
        let _ = write!(body, r#"<tspan x="{tx}" dy="{dy}">{}</tspan>"#, esc(line));
    }
    body.push_str("</text></g>");
}

/// A folded run of routine traffic.
fn run(body: &mut String, y: f64, r: &RunView) {
    let (lo, hi) = r.band;
    let _ = write!(
        body,
        r#"<g class="run"><text class="t" x="{}" y="{}">{}</text><rect class="band" x="{lo}" y="{}" width="{}" height="18" rx="9"/><text class="s" x="{}" y="{}">{}</text></g>"#,
        r.time_at.0,
        y + r.time_at.1,
        r.time,
        y + 4.0,
        hi - lo,
        r.text_at.0,
        y + r.text_at.1,
        esc(&r.text)
    );
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

/// Styles for what only a grouped or folded chart has (left out
/// otherwise, so the default drawing stays as it always was).
const STYLE_VIEW: &str = "\
.msc .who{font-weight:700}\
.msc .run .band{fill:#eef1f5;stroke:#b5bec9}\
.msc .run .s{text-anchor:middle;fill:#5b6675}";

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_markup() {
        assert_eq!(esc("<a & \"b\">"), "&lt;a &amp; &quot;b&quot;&gt;");
    }
}
