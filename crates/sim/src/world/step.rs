//! Running the world: the queue's events one after another.

use super::{Ev, World};
use mobike_protocol::Time;
use std::net::IpAddr;

impl World {
    pub(super) fn schedule(&mut self, time: Time, ev: Ev) {
        self.queue.push(time, ev);
    }

    /// Time of the next queued event.
    pub fn next_event_time(&self) -> Option<Time> {
        self.queue.next_time()
    }

    /// Processes every event up to and including `until`; time then stands
    /// at `until`. Returns the number of events run.
    ///
    /// Natively, a long run files its trace on a second thread once the
    /// call has run 20,000 events by itself; the trace is the same either
    /// way.
    pub fn run_until(&mut self, until: Time) -> u64 {
        let mut events = 0;
        while self.next_event_time().is_some_and(|t| t <= until) {
            #[cfg(not(target_arch = "wasm32"))]
            if events >= self.background_after {
                events += self.run_filing_in_background(until);
                break;
            }
            self.step();
            events += 1;
        }
        self.now = self.now.max(until);
        events
    }

    /// Natively, how many events a run goes through by itself before it
    /// files its trace on a second thread (see [`World::run_until`]); for
    /// tests that hold the two ways to the same trace.
    #[doc(hidden)]
    #[cfg(not(target_arch = "wasm32"))]
    pub fn file_in_background_after(&mut self, events: u64) {
        self.background_after = events;
    }

    /// Reads the first things the next event will read (a timer's host and
    /// endpoint, see [`mobike_protocol::Endpoint::warm`], or a packet's
    /// slot), so they come from memory together while this event starts:
    /// with thousands of hosts they are rarely in the cache when their
    /// event comes (README, "Speed and size"). Nothing is changed; the
    /// values are only kept from being optimised away.
    #[inline]
    fn prefetch_next(&self) {
        match self.queue.peek() {
            Some(Ev::Timer { host }) => {
                if let Some(h) = self.hosts.get(*host as usize) {
                    std::hint::black_box(h.timer_at);
                    h.endpoint.warm();
                }
            }
            Some(Ev::AtHost { packet, .. } | Ev::AtInternet { packet, .. }) => {
                if let Some(p) = self.in_flight.get(packet.0 as usize) {
                    std::hint::black_box(p.is_some());
                }
            }
            _ => {}
        }
    }

    /// Processes the next event. Returns false when nothing is queued.
    pub fn step(&mut self) -> bool {
        let Some((time, ev)) = self.queue.pop() else {
            return false;
        };
        self.now = time;
        self.prefetch_next();
        match ev {
            Ev::AtInternet { link, packet } => {
                let p = self.arrived(packet);
                self.at_internet(link as usize, p)
            }
            Ev::AtHost { link, packet } => {
                let p = self.arrived(packet);
                self.at_host(link as usize, p)
            }
            Ev::Timer { host } => {
                let host = host as usize;
                if self.hosts[host].timer_at == Some(self.now) {
                    self.hosts[host].timer_at = None;
                    let now = self.now;
                    self.hosts[host].endpoint.handle_timeout(now);
                    self.after_host(host);
                }
            }
            Ev::Start { host } => {
                let host = host as usize;
                let spec = &self.scenario.hosts[host];
                if let Some(peer) = spec.peer {
                    let peers: Vec<IpAddr> = std::iter::once(peer)
                        .chain(spec.fallback_peers.iter().copied())
                        .collect();
                    let now = self.now;
                    self.hosts[host].endpoint.connect_any(now, &peers);
                    self.after_host(host);
                }
            }
            Ev::Scheduled(action) => self.apply_inner(*action, false),
            Ev::User(action) => {
                // The user's changes of one instant all land together, as
                // the page applies them: none sees the events another one
                // causes at that instant until all are made.
                let mut batch = vec![*action];
                while let Some(Ev::User(next)) = self.queue.pop_late_at(time) {
                    batch.push(*next);
                }
                for action in batch {
                    self.apply_inner(action, true);
                }
            }
            Ev::NatExpiry { nat, id } => {
                self.nat_expire(nat as usize);
                // Refreshed meanwhile: look again when the new timer runs out.
                if let Some(t) = self.nats[nat as usize].expiry_of(id) {
                    self.schedule(t, Ev::NatExpiry { nat, id });
                }
            }
            Ev::Ping { host, seq } => {
                self.send_ping(host as usize, seq);
                if let Some(p) = &self.scenario.ping {
                    let next = self.now + p.interval.micros();
                    self.schedule(
                        next,
                        Ev::Ping {
                            host,
                            seq: seq.wrapping_add(1),
                        },
                    );
                }
            }
        }
        true
    }
}
