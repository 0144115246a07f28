//! Pure functions from a trace (and its scenario) to view models and text:
//! the message sequence chart ([`chart`]), RFC-style ASCII ([`ascii`]), SVG
//! ([`svg`]), Mermaid ([`mermaid`]), a JSON document of the run ([`json`]),
//! the run's figures ([`metrics`]), topology geometry ([`topology`]) and the
//! page's view models: the topology drawing ([`drawing`]), the state, NAT
//! and traffic tables ([`panels`]), the message inspector ([`inspect`]:
//! its byte view, [`byteview`], why a message was sent, [`why`], and the
//! conformance checklist's text, [`rules`]) and the drawing's element
//! menus ([`menu`]); and runs side by side: their figures table and the
//! rows of their charts that differ ([`compare`]).
//! Nothing here knows the web.
#![forbid(unsafe_code)]

pub mod ascii;
pub mod byteview;
pub mod chart;
pub mod check;
pub mod compare;
pub mod drawing;
pub mod export;
pub mod import;
pub mod inspect;
pub mod json;
pub mod menu;
pub mod mermaid;
pub mod metrics;
pub mod msc;
pub mod panels;
pub mod pcap;
pub mod rules;
pub mod svg;
pub mod topology;
pub mod why;

pub use chart::{Chart, ChartBuilder, Lane, MessageRow, NoteKind, NoteRow, Row};

/// "12.345s" for a time in microseconds.
pub fn fmt_time(t: mobike_protocol::Time) -> String {
    format!("{}.{:03}s", t / 1_000_000, (t / 1_000) % 1_000)
}

/// Splits text into lines of at most `width` characters at spaces.
pub(crate) fn wrap_words(text: &str, width: usize) -> Vec<String> {
    let mut lines = Vec::new();
    let mut line = String::new();
    for w in text.split_whitespace() {
        if !line.is_empty() && line.chars().count() + 1 + w.chars().count() > width {
            lines.push(std::mem::take(&mut line));
        }
        if !line.is_empty() {
            line.push(' ');
        }
        line.push_str(w);
    }
    lines.push(line);
    lines
}
