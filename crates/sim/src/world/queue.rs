//! The event queue: events ordered by (time, sequence number), so events
//! due at the same time keep the order they were scheduled in. That order is
//! part of what makes a run replay exactly.

use mobike_protocol::Time;
use std::cmp::Reverse;
use std::collections::BinaryHeap;

#[derive(Clone)]
struct Queued<E> {
    time: Time,
    seq: u64,
    ev: E,
}

impl<E> PartialEq for Queued<E> {
    fn eq(&self, o: &Self) -> bool {
        (self.time, self.seq) == (o.time, o.seq)
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
        (self.time, self.seq).cmp(&(o.time, o.seq))
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
        self.seq += 1;
        self.heap.push(Reverse(Queued {
            time,
            seq: self.seq,
            ev,
        }));
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
