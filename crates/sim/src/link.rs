//! Links: each direction up or down on its own, a delay with optional
//! jitter, and seeded random loss and duplication.
//!
//! Every random draw comes from the link's own ChaCha20 stream, derived from
//! the scenario seed and the link's position in the file, and a draw is
//! made only for a property that is switched on. So the same file and seed
//! give the same trace, and a lossless link never draws at all (files
//! without loss behave exactly as before loss existed).

pub use crate::vocab::direction::Direction;
use crate::vocab::spec::LinkSpec;
use mobike_protocol::Time;
use rand_chacha::ChaCha20Rng;
use rand_core::{RngCore, SeedableRng};

/// What happens to a packet that enters a link.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Crossing {
    /// The direction is down.
    Broken,
    /// Random loss.
    Lost,
    /// It arrives after the first delay, and a copy after the second when
    /// the link duplicated it.
    Arrives(Time, Option<Time>),
}

/// A link's state while the world runs.
#[derive(Clone, Debug)]
pub struct LinkState {
    up: [bool; 2],
    pub delay: Time,
    pub jitter: Time,
    pub loss: f64,
    pub duplicate: f64,
    rng: ChaCha20Rng,
}

impl LinkState {
    /// `index` is the link's position in the file; `seed` the scenario's.
    pub fn new(spec: &LinkSpec, index: usize, seed: u64) -> LinkState {
        // A stream apart from the hosts' (the world seeds theirs with the
        // same golden-ratio spread and small offsets).
        let stream = seed
            .wrapping_mul(0xD1B5_4A32_D192_ED03)
            .wrapping_add(0x4C49_4E4B_0000_0000 + index as u64);
        LinkState {
            up: [spec.up, spec.up],
            delay: spec.delay.micros(),
            jitter: spec.jitter.micros(),
            loss: spec.loss,
            duplicate: spec.duplicate,
            rng: ChaCha20Rng::seed_from_u64(stream),
        }
    }

    /// Whether direction `d` carries packets.
    pub fn is_up(&self, d: Direction) -> bool {
        self.up[d.index()]
    }

    /// Sets a direction; returns false when it already was so.
    pub fn set(&mut self, d: Direction, up: bool) -> bool {
        std::mem::replace(&mut self.up[d.index()], up) != up
    }

    /// A uniform draw in [0, 1).
    fn unit(&mut self) -> f64 {
        (self.rng.next_u64() >> 11) as f64 / (1u64 << 53) as f64
    }

    fn one_delay(&mut self) -> Time {
        if self.jitter == 0 {
            return self.delay;
        }
        let extra = (self.unit() * (self.jitter + 1) as f64) as Time;
        self.delay + extra.min(self.jitter)
    }

    /// Decides a packet's fate as it enters in direction `d`: loss is drawn
    /// first, then duplication, then each copy's jitter.
    pub fn cross(&mut self, d: Direction) -> Crossing {
        if !self.is_up(d) {
            return Crossing::Broken;
        }
        if self.loss > 0.0 && self.unit() < self.loss {
            return Crossing::Lost;
        }
        let copy = self.duplicate > 0.0 && self.unit() < self.duplicate;
        let first = self.one_delay();
        Crossing::Arrives(first, copy.then(|| self.one_delay()))
    }
}
