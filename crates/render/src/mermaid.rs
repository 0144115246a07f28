//! The message sequence chart as a Mermaid `sequenceDiagram`, for Markdown
//! that GitHub, GitLab and most documentation tools draw: one participant
//! per lane in order, one arrow per datagram with its time, title, addresses
//! and RFC notation, lost datagrams as `-x` (requests) or `--x` (responses),
//! protocol notes and interventions as `Note over`.
//!
//! Mermaid reads `;` as the end of a statement, `#` as the start of an
//! entity code, `%%` as a comment, and `{`, `}`, `<` and `>` as markup, so
//! every text goes through [`escape`], which writes them as entity codes
//! (`#59;` ...); line breaks are `<br/>`. The options are the ASCII chart's:
//! keepalives, ESP packets and protocol notes shown or not.

use crate::ascii::AsciiOptions;
use crate::chart::{Chart, MessageRow, NoteKind, Row, What};
use crate::fmt_time;

/// The same switches as the ASCII chart.
pub type MermaidOptions = AsciiOptions;

/// How many characters a line of a label may have before it is folded.
const FOLD: usize = 60;

/// Words Mermaid's sequence diagram grammar reserves: a participant id must
/// not be one of them.
const RESERVED: &[&str] = &[
    "end",
    "participant",
    "actor",
    "as",
    "note",
    "over",
    "left",
    "right",
    "of",
    "loop",
    "alt",
    "else",
    "opt",
    "par",
    "and",
    "rect",
    "critical",
    "option",
    "break",
    "box",
    "autonumber",
    "activate",
    "deactivate",
    "title",
    "link",
    "links",
    "properties",
    "details",
    "create",
    "destroy",
    "sequencediagram",
];

/// Text as Mermaid shows it literally: the characters its grammar or its
/// HTML labels would take as syntax become entity codes (`#59;` for `;`),
/// line breaks become `<br/>`.
pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            ';' | '#' | '{' | '}' | '<' | '>' | '%' | '&' | '"' | '`' | '\\' | '|' => {
                out.push_str(&format!("#{};", c as u32))
            }
            '\n' => out.push_str("<br/>"),
            '\r' | '\t' => out.push(' '),
            c => out.push(c),
        }
    }
    out
}

/// A participant id: letters, digits and `_`, starting with a letter, no
/// reserved word, unique.
fn participant_id(node: &str, taken: &[String]) -> String {
    let mut id: String = node
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '_' })
        .collect();
    if !id.starts_with(|c: char| c.is_ascii_alphabetic())
        || RESERVED.contains(&id.to_ascii_lowercase().as_str())
    {
        id = format!("h_{id}");
    }
    let base = id.clone();
    let mut n = 2;
    while taken.contains(&id) {
        id = format!("{base}_{n}");
        n += 1;
    }
    id
}

/// `items` joined by ", " in lines of at most [`FOLD`] characters, each
/// line escaped, joined by `<br/>`.
fn folded(items: &[String]) -> Vec<String> {
    let mut lines: Vec<String> = Vec::new();
    let mut line = String::new();
    for (i, item) in items.iter().enumerate() {
        let piece = if i + 1 < items.len() {
            format!("{item},")
        } else {
            item.clone()
        };
        if !line.is_empty() && line.chars().count() + 1 + piece.chars().count() > FOLD {
            lines.push(std::mem::take(&mut line));
        }
        if !line.is_empty() {
            line.push(' ');
        }
        line.push_str(&piece);
    }
    if !line.is_empty() {
        lines.push(line);
    }
    lines
}

fn label(lines: &[String]) -> String {
    lines
        .iter()
        .map(|l| escape(l))
        .collect::<Vec<_>>()
        .join("<br/>")
}

fn message(m: &MessageRow, ids: &[String], out: &mut Vec<String>) {
    let mut head = format!("{} {}", fmt_time(m.sent), m.title());
    if m.retransmission {
        head.push_str(" (retransmission)");
    }
    let mut lines = vec![head, format!("{} → {}", m.src, m.dst)];
    if let Some(n) = m.nat_note() {
        lines.push(n);
    }
    match &m.what {
        What::Ike { items, .. } => lines.extend(folded(items)),
        What::Keepalive => {}
        _ => lines.push(m.notation()),
    }
    if let Some(reason) = &m.lost {
        lines.extend(crate::wrap_words(&format!("lost: {reason}"), FOLD));
    }
    let from = &ids[m.from.min(ids.len() - 1)];
    let response = matches!(m.what, What::Ike { response: true, .. });
    let arrow = match (m.lost.is_some(), response) {
        (false, false) => "->>",
        (false, true) => "-->>",
        (true, false) => "-x",
        (true, true) => "--x",
    };
    match m.to.and_then(|t| ids.get(t)) {
        Some(to) => out.push(format!("    {from}{arrow}{to}: {}", label(&lines))),
        // Sent to an address no host has: it can only be a note.
        None => out.push(format!("    Note over {from}: {}", label(&lines))),
    }
}

/// The chart as a Mermaid `sequenceDiagram`, `title` in a front-matter
/// block when not empty.
pub fn render(chart: &Chart, title: &str, opts: &MermaidOptions) -> String {
    let mut out: Vec<String> = Vec::new();
    if !title.is_empty() {
        out.push("---".into());
        // Front matter is YAML, not Mermaid's grammar: a double-quoted
        // string needs only `"` and `\` escaped.
        let yaml = title
            .replace('\\', "\\\\")
            .replace('"', "\\\"")
            .replace('\n', " ");
        out.push(format!("title: \"{yaml}\""));
        out.push("---".into());
    }
    out.push("sequenceDiagram".into());
    let mut ids: Vec<String> = Vec::new();
    for lane in &chart.lanes {
        let id = participant_id(&lane.node, &ids);
        out.push(format!(
            "    participant {id} as {}",
            escape(&format!("{} ({})", lane.label, lane.role))
        ));
        ids.push(id);
    }
    if ids.is_empty() {
        // Mermaid needs at least one statement to draw anything.
        ids.push("nobody".into());
        out.push("    participant nobody".into());
    }
    let span = if ids.len() > 1 {
        format!("{},{}", ids[0], ids[ids.len() - 1])
    } else {
        ids[0].clone()
    };
    let admitted = opts.admitted(chart);
    for (row, _) in chart.rows.iter().zip(&admitted).filter(|(_, a)| **a) {
        match row {
            Row::Message(m) => {
                if !opts.shows(&m.what) {
                    continue;
                }
                message(m, &ids, &mut out);
            }
            Row::Note(n) => {
                if n.kind == NoteKind::Protocol && !opts.notes {
                    continue;
                }
                let mut text = match n.kind {
                    NoteKind::Rejected => format!("{} ✗ {}", fmt_time(n.time), n.text),
                    _ => format!("{} {}", fmt_time(n.time), n.text),
                };
                if let Some(rule) = &n.rule {
                    text.push_str(&format!(" [{rule}]"));
                }
                let over = match n.lane.and_then(|l| ids.get(l)) {
                    Some(id) => id.clone(),
                    None => span.clone(),
                };
                out.push(format!(
                    "    Note over {over}: {}",
                    label(&crate::wrap_words(&text, FOLD))
                ));
            }
        }
    }
    let mut s = out.join("\n");
    s.push('\n');
    s
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::chart::{Lane, NoteRow};

    fn lane(node: &str, label: &str, role: &str) -> Lane {
        Lane {
            node: node.into(),
            label: label.into(),
            role: role.into(),
        }
    }

    fn msg(from: usize, to: Option<usize>, response: bool, lost: Option<&str>) -> MessageRow {
        MessageRow {
            packet: 1,
            sent: 18_254_000,
            arrived: None,
            from,
            to,
            src: "10.64.0.2:4500".parse().unwrap(),
            dst: "203.0.113.10:4500".parse().unwrap(),
            received_as: Some((
                "198.51.100.1:4500".parse().unwrap(),
                "203.0.113.10:4500".parse().unwrap(),
            )),
            what: What::Ike {
                exchange: "INFORMATIONAL".into(),
                mid: 5,
                response,
                items: vec![
                    "HDR".into(),
                    "SK {N(UPDATE_SA_ADDRESSES)".into(),
                    "N(NAT_DETECTION_SOURCE_IP)".into(),
                    "N(NAT_DETECTION_DESTINATION_IP)".into(),
                    "N(COOKIE2)}".into(),
                ]
                .into(),
                inner: None,
                error: None,
            },
            lost: lost.map(Into::into),
            retransmission: false,
            size: 200,
        }
    }

    fn chart() -> Chart {
        Chart {
            lanes: vec![
                lane("laptop", "Laptop", "initiator"),
                lane("end", "VPN gateway; #1", "responder"),
            ],
            rows: vec![
                Row::Message(msg(0, Some(1), false, None)),
                Row::Message(msg(1, Some(0), true, Some("link Wi-Fi is broken"))),
                Row::Message(msg(0, None, false, None)),
                Row::Note(NoteRow {
                    time: 12_000_000,
                    lane: None,
                    text: "break link Wi-Fi".into(),
                    rule: None,
                    kind: NoteKind::Network,
                }),
                Row::Note(NoteRow {
                    time: 18_291_000,
                    lane: Some(1),
                    text: "checking return routability of 198.51.100.1:4500".into(),
                    rule: Some("RFC 4555 §3.7 (M-3.7-1)".into()),
                    kind: NoteKind::Protocol,
                }),
            ]
            .into(),
            ..Default::default()
        }
    }

    /// The text without its `#123;` entity codes.
    fn strip_entities(l: &str) -> String {
        let mut out = String::new();
        let mut rest = l;
        while let Some(i) = rest.find('#') {
            out.push_str(&rest[..i]);
            let after = &rest[i + 1..];
            let digits = after.chars().take_while(char::is_ascii_digit).count();
            if digits > 0 && after[digits..].starts_with(';') {
                rest = &after[digits + 1..];
            } else {
                out.push('#');
                rest = after;
            }
        }
        out.push_str(rest);
        out
    }

    #[test]
    fn escape_writes_entity_codes() {
        assert_eq!(escape("a;b#c"), "a#59;b#35;c");
        assert_eq!(escape("SK {N(COOKIE2)}"), "SK #123;N(COOKIE2)#125;");
        assert_eq!(escape("x<y>"), "x#60;y#62;");
        assert_eq!(escape("100%"), "100#37;");
        assert_eq!(escape("one\ntwo"), "one<br/>two");
        assert_eq!(
            escape("plain (text) §3.5 -> ok"),
            "plain (text) §3.5 -#62; ok"
        );
    }

    #[test]
    fn participant_ids_are_safe_and_unique() {
        assert_eq!(participant_id("laptop", &[]), "laptop");
        assert_eq!(participant_id("gw-1.example", &[]), "gw_1_example");
        assert_eq!(participant_id("end", &[]), "h_end");
        assert_eq!(participant_id("1st", &[]), "h_1st");
        assert_eq!(participant_id("a b", &["a_b".into()]), "a_b_2");
    }

    #[test]
    fn chart_becomes_a_sequence_diagram() {
        let text = render(&chart(), "Roam; #1", &MermaidOptions::default());
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines[0], "---");
        assert_eq!(lines[1], "title: \"Roam; #1\"");
        assert_eq!(lines[3], "sequenceDiagram");
        assert_eq!(lines[4], "    participant laptop as Laptop (initiator)");
        assert_eq!(
            lines[5],
            "    participant h_end as VPN gateway#59; #35;1 (responder)"
        );
        // A request: solid arrow, time and title, addresses, NAT, notation
        // folded with <br/>, braces as entity codes.
        assert!(
            lines[6].starts_with(
                "    laptop->>h_end: 18.254s INFORMATIONAL request #35;5<br/>\
                 10.64.0.2:4500 → 203.0.113.10:4500<br/>\
                 NAT: arrives from 198.51.100.1:4500<br/>\
                 HDR, SK #123;N(UPDATE_SA_ADDRESSES), N(NAT_DETECTION_SOURCE_IP),<br/>"
            ),
            "{}",
            lines[6]
        );
        assert!(lines[6].ends_with("N(COOKIE2)#125;"), "{}", lines[6]);
        // A lost response: dotted with a cross, and why.
        assert!(lines[7].starts_with("    h_end--xlaptop: "), "{}", lines[7]);
        assert!(lines[7].ends_with("<br/>lost: link Wi-Fi is broken"));
        // Nobody owns the destination: a note at the sender.
        assert!(lines[8].starts_with("    Note over laptop: 18.254s"));
        // An intervention spans every lane; a protocol note is over its lane.
        assert_eq!(
            lines[9],
            "    Note over laptop,h_end: 12.000s break link Wi-Fi"
        );
        assert!(lines[10].starts_with("    Note over h_end: 18.291s checking"));
        assert!(
            lines[10].ends_with("[RFC 4555 §3.7 (M-3.7-1)]"),
            "{}",
            lines[10]
        );
        // Nothing but the escapes carries a ';' or a brace.
        for l in &lines[3..] {
            assert!(!strip_entities(l).contains([';', '{', '}', '#']), "{l}");
        }
    }

    #[test]
    fn options_leave_out_notes() {
        let opts = MermaidOptions {
            notes: false,
            ..Default::default()
        };
        let text = render(&chart(), "", &opts);
        assert!(text.starts_with("sequenceDiagram\n"));
        assert!(!text.contains("return routability"));
        assert!(text.contains("break link Wi-Fi"), "interventions stay");
    }
}
