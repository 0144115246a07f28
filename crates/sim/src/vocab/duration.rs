//! Durations as scenario files write them ("250ms", "1.5s", "2min"): the
//! protocol's own type, since its settings are the file format.

pub use mobike_protocol::duration::Dur;
