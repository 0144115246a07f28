//! Checkpoints for time travel: clones of the world at regular moments of
//! virtual time, so showing an earlier moment replays at most one interval.
//! A clone of [`World`] continues exactly like the original, trace and all.

use mobike_protocol::{SEC, Time};
use mobike_sim::World;

/// The first spacing of checkpoints; it doubles whenever the budget below
/// is exceeded, so a long run keeps few, further apart.
pub const CHECKPOINT_EVERY: Time = 5 * SEC;
/// At most this many checkpoints are held.
pub const MAX_CHECKPOINTS: usize = 24;
/// At most this many trace events over all checkpoints (each checkpoint
/// holds its trace): about 40 MB in the cluster example.
pub const MAX_EVENTS: usize = 300_000;

/// The world at one moment, after `applied` of the user's interventions.
pub struct Checkpoint {
    pub time: Time,
    pub applied: usize,
    pub world: World,
}

/// Checkpoints in time order; the first is the world at time 0 and always
/// stays.
pub struct Checkpoints {
    list: Vec<Checkpoint>,
    every: Time,
}

impl Checkpoints {
    pub fn new(start: &World) -> Checkpoints {
        Checkpoints {
            list: vec![Checkpoint {
                time: start.now(),
                applied: 0,
                world: start.clone(),
            }],
            every: CHECKPOINT_EVERY,
        }
    }

    /// The next moment after `now` at which a checkpoint is due.
    pub fn next_boundary(&self, now: Time) -> Time {
        (now / self.every)
            .saturating_add(1)
            .saturating_mul(self.every)
    }

    /// Keeps a copy of `world` (at a boundary) unless one of that moment is
    /// held; thins out the older ones when over budget.
    pub fn add(&mut self, world: &World, applied: usize) {
        let time = world.now();
        if !time.is_multiple_of(self.every) {
            return;
        }
        let at = match self.list.binary_search_by_key(&time, |c| c.time) {
            Ok(_) => return,
            Err(i) => i,
        };
        self.list.insert(
            at,
            Checkpoint {
                time,
                applied,
                world: world.clone(),
            },
        );
        while self.list.len() > 2
            && (self.list.len() > MAX_CHECKPOINTS || self.events() > MAX_EVENTS)
        {
            self.thin();
        }
    }

    fn events(&self) -> usize {
        self.list.iter().map(|c| c.world.trace().len()).sum()
    }

    /// Drops every other checkpoint (never the first) and doubles the
    /// spacing of new ones.
    fn thin(&mut self) {
        self.every = self.every.saturating_mul(2);
        let every = self.every;
        let mut k = 0;
        self.list.retain(|c| {
            k += 1;
            k == 1 || c.time.is_multiple_of(every)
        });
        // Irregular times (from before a fork) may all survive that: then
        // drop every other one by position.
        if self.list.len() > MAX_CHECKPOINTS {
            let mut k: usize = 0;
            self.list.retain(|_| {
                k += 1;
                k == 1 || k.is_multiple_of(2)
            });
        }
    }

    /// The latest checkpoint at or before `t` (the one at time 0 at least).
    pub fn at_or_before(&self, t: Time) -> &Checkpoint {
        let i = self.list.partition_point(|c| c.time <= t);
        &self.list[i.saturating_sub(1)]
    }

    /// Forgets the checkpoints after `t` (they belong to a timeline that
    /// was just forked away).
    pub fn drop_after(&mut self, t: Time) {
        let first = self.list.first().map_or(0, |c| c.time);
        self.list.retain(|c| c.time <= t.max(first));
    }

    pub fn times(&self) -> Vec<Time> {
        self.list.iter().map(|c| c.time).collect()
    }
}
