//! The event queue: events ordered by (time, sequence number), so events
//! due at the same time keep the order they were scheduled in. That order is
//! part of what makes a run replay exactly. A "late" event comes after every
//! other event of its instant: that is when a user's change lands (the page
//! applies it once the simulation stands at that moment).

use mobike_protocol::Time;
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

/// Events of type `E`, earliest first; ties in scheduling order.
#[derive(Clone)]
pub(super) struct Queue<E> {
    seq: u64,
    heap: BinaryHeap<Reverse<Queued<E>>>,
}

impl<E> Queue<E> {
    pub(super) fn new() -> Queue<E> {
        Queue {
            seq: 0,
            heap: BinaryHeap::new(),
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
        self.heap.push(Reverse(Queued {
            time,
            order: if late { self.seq | LATE } else { self.seq },
            ev,
        }));
    }

    /// Takes the next event if it is a late one of instant `time`.
    pub(super) fn pop_late_at(&mut self, time: Time) -> Option<E> {
        let q = &self.heap.peek()?.0;
        if q.time != time || !q.late() {
            return None;
        }
        self.heap.pop().map(|Reverse(q)| q.ev)
    }

    /// The time of the earliest event.
    pub(super) fn next_time(&self) -> Option<Time> {
        self.heap.peek().map(|q| q.0.time)
    }

    /// Takes the earliest event.
    pub(super) fn pop(&mut self) -> Option<(Time, E)> {
        self.heap.pop().map(|Reverse(q)| (q.time, q.ev))
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
        PushLate(u64),
        Pop,
        PopLateAt,
    }

    fn op() -> impl Strategy<Value = Op> {
        prop_oneof![
            // Mostly near the clock, some far ahead, many at the instant.
            3 => (0u64..4).prop_map(Op::Push),
            3 => (0u64..5_000_000).prop_map(Op::Push),
            1 => (0u64..3).prop_map(Op::PushLate),
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
            }
        }
    }
}
