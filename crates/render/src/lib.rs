//! Pure functions from a trace (and its scenario) to view models and text:
//! the message sequence chart ([`chart`]), RFC-style ASCII ([`ascii`]), SVG
//! ([`svg`]) and topology geometry ([`topology`]). Nothing here knows the web.
#![forbid(unsafe_code)]

pub mod ascii;
pub mod chart;
pub mod svg;
pub mod topology;

pub use chart::{Chart, ChartBuilder, Lane, MessageRow, NoteKind, NoteRow, Row};

/// "12.345s" for a time in microseconds.
pub fn fmt_time(t: mobike_protocol::Time) -> String {
    format!("{}.{:03}s", t / 1_000_000, (t / 1_000) % 1_000)
}
