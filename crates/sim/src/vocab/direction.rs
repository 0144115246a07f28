//! The two directions of a link.

use serde::{Deserialize, Serialize};
use std::fmt;

/// One direction of a link. Links join a host interface (or a NAT on it)
/// to the internet, so the directions are named as an access link's are.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Direction {
    /// Uplink: from the host (and its NAT) towards the internet.
    #[serde(alias = "uplink")]
    Up,
    /// Downlink: from the internet towards the host.
    #[serde(alias = "downlink")]
    Down,
}

impl Direction {
    /// Both directions, uplink first.
    pub fn both() -> [Direction; 2] {
        [Direction::Up, Direction::Down]
    }

    /// Its slot in per-direction arrays.
    pub(crate) fn index(self) -> usize {
        match self {
            Direction::Up => 0,
            Direction::Down => 1,
        }
    }
}

impl fmt::Display for Direction {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Direction::Up => "uplink",
            Direction::Down => "downlink",
        })
    }
}
