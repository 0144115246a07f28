//! The event queue: events ordered by (time, sequence number), so events
//! due at the same time keep the order they were scheduled in. That order is
//! part of what makes a run replay exactly. A "late" event comes after every
//! other event of its instant: that is when a user's change lands (the page
//! applies it once the simulation stands at that moment).

use mobike_protocol::Time;
use std::cell::Cell;
use std::cmp::Reverse;
use std::collections::BinaryHeap;

#[derive(Clone)]
struct Queued<E> {
    time: Time,
    /// The sequence number, with the top bit set for a late event: late
    /// ones sort after the others of their instant, each kind in the order
    /// scheduled.
    order: u64,
    ev: E,
}

const LATE: u64 = 1 << 63;

/// The events of one block of 2^BLOCK_BITS microseconds (256 µs) share
/// the ordered heap (see [`Queue`]).
const BLOCK_BITS: u32 = 8;

/// The room an emptied bucket keeps (see [`Queue::refill`]).
const KEEP: usize = 1024;

impl<E> Queued<E> {
    fn key(&self) -> (Time, u64) {
        (self.time, self.order)
    }

    fn late(&self) -> bool {
        self.order & LATE != 0
    }
}

impl<E> PartialEq for Queued<E> {
    fn eq(&self, o: &Self) -> bool {
        self.key() == o.key()
    }
}
impl<E> Eq for Queued<E> {}
impl<E> PartialOrd for Queued<E> {
    fn partial_cmp(&self, o: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(o))
    }
}
impl<E> Ord for Queued<E> {
    fn cmp(&self, o: &Self) -> std::cmp::Ordering {
        self.key().cmp(&o.key())
    }
}

/// An event found in the buckets: its (time, order), bucket and place.
type Found = ((Time, u64), u8, u32);

/// Events of type `E`, earliest first; ties in scheduling order.
///
/// A radix heap on the time (Ahuja, Mehlhorn, Orlin and Tarjan): an event
/// lies in the bucket of the highest bit where its time differs from
/// `last`, the earliest time when the buckets were last spread. Only the
/// events of `last`'s block of 256 µs are kept ordered, in a small binary
/// heap. Taking an event touches that heap, or, once it is empty, spreads
/// the lowest bucket over the lower ones in one pass over a contiguous
/// list. An event moves down at most once per bit above the block's (about
/// five times in a 10,000-client hour, nine with blocks of 1 µs), so a run
/// of many hosts, with tens of thousands of timers queued, takes events in
/// far fewer cache misses than a binary heap over all of them (README,
/// "Speed and size").
#[derive(Clone)]
pub(super) struct Queue<E> {
    seq: u64,
    /// The earliest time when the buckets were last spread (or the time
    /// an earlier event was pushed for): no queued event is earlier.
    last: Time,
    /// The events of `last`'s block, by (time, order): each is earlier
    /// than every event in the buckets.
    instant: BinaryHeap<Reverse<Queued<E>>>,
    /// Bucket `i` holds the events whose time, in blocks, first differs
    /// from `last`'s at bit `i`.
    buckets: [Vec<Queued<E>>; 64],
    /// Bit `i` set: bucket `i` holds events.
    filled: u64,
    /// The earliest event in the buckets, once known (not counting
    /// `instant`): its (time, order), bucket and place; `None` when it has
    /// to be looked up.
    earliest: Cell<Option<Found>>,
}

impl<E> Queue<E> {
    pub(super) fn new() -> Queue<E> {
        Queue {
            seq: 0,
            last: 0,
            instant: BinaryHeap::new(),
            buckets: std::array::from_fn(|_| Vec::new()),
            filled: 0,
            earliest: Cell::new(None),
        }
    }

    /// Queues `ev` for `time`, after everything already queued for then.
    pub(super) fn push(&mut self, time: Time, ev: E) {
        self.insert(time, false, ev);
    }

    /// Queues `ev` for the end of instant `time`: after every other event
    /// of that instant, also those scheduled later for it.
    pub(super) fn push_late(&mut self, time: Time, ev: E) {
        self.insert(time, true, ev);
    }

    fn insert(&mut self, time: Time, late: bool, ev: E) {
        self.seq += 1;
        let q = Queued {
            time,
            order: if late { self.seq | LATE } else { self.seq },
            ev,
        };
        if time < self.last {
            // Earlier than `last`, and so than the last event taken (the
            // world never asks for this): the buckets are laid out again
            // around the new time.
            self.rebase(time);
        }
        self.place(q);
    }

    /// Files `q` (not earlier than `last`) where it belongs.
    fn place(&mut self, q: Queued<E>) {
        let diff = (q.time ^ self.last) >> BLOCK_BITS;
        if diff == 0 {
            self.instant.push(Reverse(q));
            return;
        }
        let b = 63 - diff.leading_zeros() as usize;
        if let Some((key, _, _)) = self.earliest.get()
            && q.key() < key
        {
            self.earliest
                .set(Some((q.key(), b as u8, self.buckets[b].len() as u32)));
        }
        self.buckets[b].push(q);
        self.filled |= 1 << b;
    }

    /// Makes `time` (not later than `last`) the reference time: every
    /// queued event is filed again relative to it.
    fn rebase(&mut self, time: Time) {
        let mut all: Vec<Queued<E>> = self.instant.drain().map(|Reverse(q)| q).collect();
        for b in &mut self.buckets {
            all.append(b);
        }
        self.filled = 0;
        self.earliest.set(None);
        self.last = time;
        for q in all {
            self.place(q);
        }
    }

    /// The earliest event in the buckets: its (time, order), bucket and
    /// place.
    fn earliest_in_buckets(&self) -> Option<Found> {
        if self.filled == 0 {
            return None;
        }
        if let Some(e) = self.earliest.get() {
            return Some(e);
        }
        // The lowest filled bucket holds the earliest events; the first
        // of the earliest time is the one scheduled first.
        let b = self.filled.trailing_zeros() as usize;
        let (i, q) = self.buckets[b]
            .iter()
            .enumerate()
            .min_by_key(|(_, q)| q.key())?;
        let e = (q.key(), b as u8, i as u32);
        self.earliest.set(Some(e));
        Some(e)
    }

    /// The event that [`Queue::pop`] takes next, if it is not pushed
    /// before (for the world to fetch what it will touch ahead of time).
    pub(super) fn peek(&self) -> Option<&E> {
        if let Some(q) = self.instant.peek() {
            return Some(&q.0.ev);
        }
        let (_, b, i) = self.earliest_in_buckets()?;
        Some(&self.buckets[b as usize][i as usize].ev)
    }

    /// Brings the earliest events into `instant` if it is empty: `last`
    /// becomes the earliest time and the lowest bucket is spread over the
    /// lower ones (every event in it differs from the new `last` below its
    /// bit).
    fn refill(&mut self) {
        if !self.instant.is_empty() {
            return;
        }
        let Some(((min, _), _, _)) = self.earliest_in_buckets() else {
            return;
        };
        let b = self.filled.trailing_zeros() as usize;
        let mut spread = std::mem::take(&mut self.buckets[b]);
        self.filled &= !(1 << b);
        self.last = min;
        self.earliest.set(None);
        for q in spread.drain(..) {
            self.place(q);
        }
        // Keep the list's room for the next time this bucket fills, but
        // not more than a burst of many hosts needed once.
        spread.shrink_to(KEEP);
        self.buckets[b] = spread;
    }

    /// Takes the next event if it is a late one of instant `time`.
    pub(super) fn pop_late_at(&mut self, time: Time) -> Option<E> {
        if self.next_time()? != time {
            return None;
        }
        self.refill();
        let q = &self.instant.peek()?.0;
        if !q.late() {
            return None;
        }
        self.instant.pop().map(|Reverse(q)| q.ev)
    }

    /// The time of the earliest event.
    pub(super) fn next_time(&self) -> Option<Time> {
        if let Some(q) = self.instant.peek() {
            return Some(q.0.time);
        }
        self.earliest_in_buckets().map(|((t, _), _, _)| t)
    }

    /// Takes the earliest event.
    pub(super) fn pop(&mut self) -> Option<(Time, E)> {
        self.refill();
        self.instant.pop().map(|Reverse(q)| (q.time, q.ev))
    }
}

/// The size of a queued event of type `E`, for the test that holds it.
#[cfg(test)]
pub(super) const fn entry_size<E>() -> usize {
    std::mem::size_of::<Queued<E>>()
}

#[cfg(test)]
mod tests {
    use super::Queue;
    use proptest::prelude::*;
    use std::collections::BTreeMap;

    /// What the queue is asked to do, as the world asks it: times never
    /// before the last event taken, and late events only at or after it.
    #[derive(Clone, Debug)]
    enum Op {
        /// Push at the current time plus this.
        Push(u64),
        /// Push this long before the last event taken (the world never
        /// does; the queue still keeps its order).
        PushBefore(u64),
        PushLate(u64),
        Pop,
        PopLateAt,
    }

    fn op() -> impl Strategy<Value = Op> {
        prop_oneof![
            // Mostly near the clock, some far ahead, many at the instant.
            3 => (0u64..4).prop_map(Op::Push),
            3 => (0u64..5_000_000).prop_map(Op::Push),
            1 => (0u64..1 << 45).prop_map(Op::Push),
            1 => (0u64..3).prop_map(Op::PushLate),
            1 => (1u64..100_000).prop_map(Op::PushBefore),
            4 => Just(Op::Pop),
            1 => Just(Op::PopLateAt),
        ]
    }

    proptest! {
        /// The queue takes events in the order of a sorted map keyed by
        /// (time, late, sequence): the order the world's replays rely on.
        #[test]
        fn takes_events_in_time_then_late_then_scheduling_order(
            ops in proptest::collection::vec(op(), 1..400),
        ) {
            let mut q = Queue::new();
            let mut model: BTreeMap<(u64, bool, u64), u64> = BTreeMap::new();
            let (mut now, mut seq) = (0u64, 0u64);
            for op in ops {
                match op {
                    Op::Push(d) | Op::PushLate(d) => {
                        seq += 1;
                        let late = matches!(op, Op::PushLate(_));
                        if late {
                            q.push_late(now + d, seq);
                        } else {
                            q.push(now + d, seq);
                        }
                        model.insert((now + d, late, seq), seq);
                    }
                    Op::PushBefore(d) => {
                        seq += 1;
                        let t = now.saturating_sub(d);
                        q.push(t, seq);
                        model.insert((t, false, seq), seq);
                    }
                    Op::Pop => {
                        let want = model.pop_first().map(|((t, _, _), v)| (t, v));
                        prop_assert_eq!(q.pop(), want);
                        if let Some((t, _)) = want {
                            now = t;
                        }
                    }
                    Op::PopLateAt => {
                        let want = match model.first_key_value() {
                            Some((&(t, true, _), _)) if t == now => {
                                model.pop_first().map(|(_, v)| v)
                            }
                            _ => None,
                        };
                        prop_assert_eq!(q.pop_late_at(now), want);
                    }
                }
                prop_assert_eq!(q.next_time(), model.first_key_value().map(|(k, _)| k.0));
                prop_assert_eq!(q.peek().copied(), model.first_key_value().map(|(_, v)| *v));
            }
        }
    }
}
