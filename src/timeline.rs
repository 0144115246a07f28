//! Checkpoints for time travel: copies of the world at regular moments of
//! virtual time, so showing an earlier moment replays at most one interval.
//! A copy holds the world's state but not its trace: the trace only grows,
//! so the one of the moment is the current run's cut back to the length it
//! had then ([`Checkpoints::restore`]), and a checkpoint costs the state of
//! the hosts and NATs, not the run so far. Up to a size, a checkpoint also
//! keeps the chart of its moment, so a jump back decodes only the messages
//! after it.

use mobike_protocol::{SEC, Time};
use mobike_render::chart::ChartBuilder;
use mobike_sim::World;

/// The first spacing of checkpoints; it doubles whenever more than
/// [`MAX_CHECKPOINTS`] are held, so a long run keeps few, further apart.
pub const CHECKPOINT_EVERY: Time = 5 * SEC;
/// At most this many checkpoints are held.
pub const MAX_CHECKPOINTS: usize = 24;
/// A checkpoint keeps its chart while the chart has at most this many rows
/// (beyond, a jump back builds the chart from the trace again). A copy of
/// the chart shares its rows with the original (`Rows`), so it costs some
/// 24 octets a row (the pointer, the row's stamp and trace place) and the
/// builder's tables: with 20,000 rows, a jump back in the 1,000-client
/// hour to 20 min took 276–300 ms, with 200,000 rows 140–167 ms, and the
/// renderer's peak grew from 886–895 MB to 916–923 MB.
pub const MAX_CHART_ROWS: usize = 200_000;

/// The world at one moment, after `applied` of the user's interventions;
/// `world` has an empty trace, which had `trace_len` events then.
pub struct Checkpoint {
    pub time: Time,
    pub applied: usize,
    world: World,
    trace_len: usize,
    /// The chart of that moment (built from the trace up to `trace_len`).
    chart: Option<ChartBuilder>,
}

impl Checkpoint {
    fn of(world: &mut World, applied: usize, chart: &ChartBuilder) -> Checkpoint {
        let trace = world.take_trace();
        let copy = world.clone();
        let trace_len = trace.len();
        world.set_trace(trace);
        Checkpoint {
            time: world.now(),
            applied,
            world: copy,
            trace_len,
            chart: (chart.chart.rows.len() <= MAX_CHART_ROWS).then(|| chart.clone()),
        }
    }
}

/// The first multiple of `every` after `now` (the end of time at most).
fn boundary_after(now: Time, every: Time) -> Time {
    (now / every).saturating_add(1).saturating_mul(every)
}

/// What stays of `times` (in order) when the spacing doubles to `every`:
/// the first, and those on the new spacing; if more than
/// [`MAX_CHECKPOINTS`] do (irregular times, from before a fork), the
/// first of those and every other one by position.
fn thinned(times: &[Time], every: Time) -> Vec<Time> {
    let kept: Vec<Time> = times
        .iter()
        .enumerate()
        .filter(|&(k, t)| k == 0 || t.is_multiple_of(every))
        .map(|(_, &t)| t)
        .collect();
    if kept.len() <= MAX_CHECKPOINTS {
        return kept;
    }
    kept.iter()
        .enumerate()
        .filter(|&(k, _)| k == 0 || (k + 1).is_multiple_of(2))
        .map(|(_, &t)| t)
        .collect()
}

/// Checkpoints in time order; the first is the world at time 0 and always
/// stays.
pub struct Checkpoints {
    list: Vec<Checkpoint>,
    every: Time,
    /// How many copies of the world were taken, kept or not.
    copies: usize,
}

impl Checkpoints {
    /// Starts with the world at its beginning and its (empty) chart.
    pub fn new(start: &mut World, chart: &ChartBuilder) -> Checkpoints {
        Checkpoints {
            list: vec![Checkpoint::of(start, 0, chart)],
            every: CHECKPOINT_EVERY,
            copies: 1,
        }
    }

    /// Whether a checkpoint is due at `t`.
    pub fn is_boundary(&self, t: Time) -> bool {
        t.is_multiple_of(self.every)
    }

    /// The next moment after `now` at which a checkpoint is due.
    pub fn next_boundary(&self, now: Time) -> Time {
        boundary_after(now, self.every)
    }

    /// Keeps a copy of `world` (at a boundary) and of `chart`, which the
    /// caller has brought up to date with the world's trace, unless one of
    /// that moment is held; thins out the older ones when over budget.
    pub fn add(&mut self, world: &mut World, applied: usize, chart: &ChartBuilder) {
        let time = world.now();
        if !time.is_multiple_of(self.every) {
            return;
        }
        let at = match self.list.binary_search_by_key(&time, |c| c.time) {
            Ok(_) => return,
            Err(i) => i,
        };
        self.list.insert(at, Checkpoint::of(world, applied, chart));
        self.copies += 1;
        while self.list.len() > MAX_CHECKPOINTS {
            self.thin();
        }
    }

    /// Drops every other checkpoint (never the first) and doubles the
    /// spacing of new ones.
    fn thin(&mut self) {
        self.every = self.every.saturating_mul(2);
        let kept = thinned(&self.times(), self.every);
        self.list.retain(|c| kept.binary_search(&c.time).is_ok());
    }

    /// Before a run from `now` to `t` in one go, which takes a checkpoint
    /// at each boundary on the way and thins them as it goes: drops now
    /// the checkpoints that would be dropped by `t`, and spaces the
    /// boundaries as they would be spaced then, so that the run copies the
    /// world only at the moments whose checkpoints stay. The list at `t`
    /// is the same either way. `open`: the instant `now` is not run whole
    /// yet (its boundary is still to come).
    ///
    /// A jump to 10 min in a 1,000-client cluster took 51 copies of the
    /// world (16 ms each, natively), of which 16 stayed.
    pub fn plan(&mut self, now: Time, open: bool, t: Time) {
        // The run of the times alone.
        let mut times = self.times();
        let mut every = self.every;
        let mut b = if open && now.is_multiple_of(every) {
            now
        } else {
            boundary_after(now, every)
        };
        let first = b;
        while b <= t {
            if let Err(at) = times.binary_search(&b) {
                times.insert(at, b);
            }
            while times.len() > MAX_CHECKPOINTS {
                every = every.saturating_mul(2);
                times = thinned(&times, every);
            }
            let next = boundary_after(b, every);
            if next <= b {
                // The spacing saturated at the end of time.
                break;
            }
            b = next;
        }
        // The checkpoints taken on the way that stay must be the
        // boundaries at the final spacing (else, after a fork's irregular
        // times, the run thins as it goes).
        let start = first.div_ceil(every).saturating_mul(every);
        let at_spacing =
            std::iter::successors(Some(start), |&x| x.checked_add(every)).take_while(|&x| x <= t);
        if every == self.every
            || !times
                .iter()
                .filter(|&&x| x >= first)
                .copied()
                .eq(at_spacing)
        {
            return;
        }
        self.every = every;
        self.list.retain(|c| times.binary_search(&c.time).is_ok());
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

    /// How many copies of the world were taken (see [`Checkpoints::plan`]).
    pub fn copies(&self) -> usize {
        self.copies
    }

    pub fn times(&self) -> Vec<Time> {
        self.list.iter().map(|c| c.time).collect()
    }

    /// Each checkpoint's moment and the length its trace had then: the
    /// page's mirror of a run keeps the chart of those lengths, so that a
    /// jump back there decodes only the messages after it.
    pub fn marks(&self) -> Vec<(Time, usize)> {
        self.list.iter().map(|c| (c.time, c.trace_len)).collect()
    }
}

impl Checkpoint {
    /// This checkpoint's world, given `trace`, a trace of the same
    /// timeline at least as long as the checkpoint's (the current run's,
    /// or the run a jump back cut off): the checkpoint's state with the
    /// trace cut back to where it stood then (`applied` tells how many of
    /// the user's interventions it has applied), and the chart of that
    /// moment if the checkpoint kept it.
    pub fn restore(&self, mut trace: mobike_sim::Trace) -> (World, Option<ChartBuilder>) {
        debug_assert!(trace.len() >= self.trace_len, "a trace of this timeline");
        trace.truncate(self.trace_len);
        let mut world = self.world.clone();
        world.set_trace(trace);
        (world, self.chart.clone())
    }

    /// How many events the trace had at this checkpoint's moment.
    pub fn trace_len(&self) -> usize {
        self.trace_len
    }
}
