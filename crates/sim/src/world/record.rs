//! How the world's events reach its trace.
//!
//! Nearly every event of a long run is a datagram sent, translated or
//! delivered, or a host's protocol event. The world files those itself
//! ([`Filer`]): it keeps the row of each of its hosts, links and NATs in the
//! trace's table of names, so a datagram costs no name look-up and no copy
//! of a name. Every other event goes in as a [`TraceKind`].
//!
//! A long run (natively; a page's wasm has one thread) hands the filing to
//! a second thread: the world writes what happened into a batch, and the
//! thread files each batch in order while the world runs on
//! ([`World::run_until`]). The trace that results is the same, entry for
//! entry: only where the work is done changes.

use super::{Names, World};
use crate::trace::{Name, PacketId, Passed, Trace, TraceKind};
use mobike_protocol::{Event, IpProtocol, Time};
use std::net::SocketAddr;
use std::sync::Arc;

/// A row not filed yet.
const NONE: u32 = u32::MAX;

/// Files the world's events into a trace, knowing the rows of the world's
/// names. The rows are those of one trace: the world forgets them when it
/// is given another ([`World::set_trace`]).
#[derive(Clone, Default)]
pub(super) struct Filer {
    names: Names,
    hosts: Vec<u32>,
    links: Vec<u32>,
    nats: Vec<u32>,
    /// Per host: the link it last sent on and that (host, link) pair's row.
    senders: Vec<(u32, u32)>,
}

/// What the world hands the filing thread: an event as [`Filer`] takes it.
/// (The page's wasm has one thread: there, none of this is built.)
#[cfg(not(target_arch = "wasm32"))]
enum Record {
    Sent {
        packet: PacketId,
        host: u32,
        link: Option<u32>,
        addrs: (SocketAddr, SocketAddr),
        /// Where its octets lie in the batch's `bytes`.
        payload: (u32, u32),
        protocol: IpProtocol,
    },
    Passed {
        packet: PacketId,
        at: At,
        addrs: (SocketAddr, SocketAddr),
    },
    Event {
        host: u32,
        event: Event,
    },
    Other(TraceKind),
}

/// A datagram a host sent, by the world's numbers.
#[derive(Clone, Copy)]
pub(super) struct Datagram<'a> {
    pub(super) packet: PacketId,
    pub(super) host: usize,
    /// The link it left on (none: the host has no interface for its source
    /// address).
    pub(super) link: Option<usize>,
    pub(super) addrs: (SocketAddr, SocketAddr),
    pub(super) payload: &'a [u8],
    pub(super) protocol: IpProtocol,
}

/// Where a datagram passed: a NAT or a host, by the world's numbers.
#[derive(Clone, Copy, Debug)]
pub(super) enum At {
    Nat(usize),
    Host(usize),
}

fn row(rows: &mut [u32], i: usize, name: &Name, trace: &mut Trace) -> u32 {
    if rows[i] == NONE {
        rows[i] = trace.name_row(name);
    }
    rows[i]
}

impl Filer {
    pub(super) fn new(names: &Names) -> Filer {
        let mut f = Filer {
            names: names.clone(),
            ..Filer::default()
        };
        f.forget_rows();
        f
    }

    /// The rows belong to another trace now.
    pub(super) fn forget_rows(&mut self) {
        self.hosts = vec![NONE; self.names.hosts.len()];
        self.links = vec![NONE; self.names.links.len()];
        self.nats = vec![NONE; self.names.nats.len()];
        self.senders = vec![(NONE, NONE); self.names.hosts.len()];
    }

    /// A host sent a datagram.
    pub(super) fn sent(&mut self, trace: &mut Trace, time: Time, d: Datagram) {
        let Datagram {
            packet,
            host: h,
            link,
            addrs,
            payload,
            protocol,
        } = d;
        let (Ok(number), Some(l)) = (u32::try_from(packet), link) else {
            // Rare: filed whole, as `Trace::push` files it.
            let kind = TraceKind::Sent {
                packet,
                node: self.names.hosts[h].clone(),
                link: link
                    .map(|l| self.names.links[l].clone())
                    .unwrap_or_default(),
                src: addrs.0.into(),
                dst: addrs.1.into(),
                payload: payload.to_vec().into(),
                protocol,
            };
            trace.push(time, kind);
            return;
        };
        let sender = match self.senders[h] {
            (last, sender) if last == l as u32 => sender,
            _ => {
                let node = row(&mut self.hosts, h, &self.names.hosts[h], trace);
                let link = row(&mut self.links, l, &self.names.links[l], trace);
                let sender = trace.sender_row(node, link);
                self.senders[h] = (l as u32, sender);
                sender
            }
        };
        let addrs = (addrs.0.into(), addrs.1.into());
        trace.push_sent(time, number, sender, addrs, payload, protocol);
    }

    /// A datagram crossed a NAT or reached a host.
    pub(super) fn passed(
        &mut self,
        trace: &mut Trace,
        time: Time,
        packet: PacketId,
        at: At,
        addrs: (SocketAddr, SocketAddr),
    ) {
        let Ok(number) = u32::try_from(packet) else {
            let (src, dst) = (addrs.0.into(), addrs.1.into());
            let kind = match at {
                At::Nat(n) => TraceKind::Translated {
                    packet,
                    nat: self.names.nats[n].clone(),
                    src,
                    dst,
                },
                At::Host(h) => TraceKind::Delivered {
                    packet,
                    node: self.names.hosts[h].clone(),
                    src,
                    dst,
                },
            };
            trace.push(time, kind);
            return;
        };
        let passed = match at {
            At::Nat(n) => Passed::Translated {
                nat: row(&mut self.nats, n, &self.names.nats[n], trace),
            },
            At::Host(h) => Passed::Delivered {
                node: row(&mut self.hosts, h, &self.names.hosts[h], trace),
            },
        };
        let addrs = (addrs.0.into(), addrs.1.into());
        trace.push_passed(time, number, passed, addrs);
    }

    /// Host `h`'s IKE daemon reported `event`.
    pub(super) fn event(&mut self, trace: &mut Trace, time: Time, h: usize, event: Event) {
        let node = row(&mut self.hosts, h, &self.names.hosts[h], trace);
        trace.push_event(time, node, Arc::new(event));
    }

    /// Files a batch in order, emptying it.
    #[cfg(not(target_arch = "wasm32"))]
    fn file(&mut self, trace: &mut Trace, batch: &mut Batch) {
        let Batch { records, bytes } = batch;
        for (time, record) in records.drain(..) {
            match record {
                Record::Sent {
                    packet,
                    host,
                    link,
                    addrs,
                    payload: (start, len),
                    protocol,
                } => {
                    let d = Datagram {
                        packet,
                        host: host as usize,
                        link: link.map(|l| l as usize),
                        addrs,
                        payload: &bytes[start as usize..][..len as usize],
                        protocol,
                    };
                    self.sent(trace, time, d);
                }
                Record::Passed { packet, at, addrs } => self.passed(trace, time, packet, at, addrs),
                Record::Event { host, event } => self.event(trace, time, host as usize, event),
                Record::Other(kind) => trace.push(time, kind),
            }
        }
        bytes.clear();
    }
}

/// Events on their way to the filing thread.
#[cfg(not(target_arch = "wasm32"))]
struct Batch {
    records: Vec<(Time, Record)>,
    /// The octets of the datagrams sent, one after another.
    bytes: Vec<u8>,
}

#[cfg(not(target_arch = "wasm32"))]
impl Batch {
    fn new() -> Batch {
        Batch {
            records: Vec::with_capacity(BATCH),
            bytes: Vec::new(),
        }
    }
}

/// So many events go to the filing thread at a time.
#[cfg(not(target_arch = "wasm32"))]
const BATCH: usize = 4096;

/// The world's end of the filing thread (see [`World::run_until`]).
#[cfg(not(target_arch = "wasm32"))]
pub(super) struct Sink {
    batch: Batch,
    to_filer: std::sync::mpsc::SyncSender<Batch>,
    /// Batches the thread has filed, to be filled again.
    spare: std::sync::mpsc::Receiver<Batch>,
}

#[cfg(not(target_arch = "wasm32"))]
impl Sink {
    fn add(&mut self, time: Time, record: Record) {
        self.batch.records.push((time, record));
        if self.batch.records.len() >= BATCH {
            self.send();
        }
    }

    fn send(&mut self) {
        let next = self.spare.try_recv().unwrap_or_else(|_| Batch::new());
        let full = std::mem::replace(&mut self.batch, next);
        // The thread is gone only if it failed: the run ends with its
        // panic when it is joined.
        let _ = self.to_filer.send(full);
    }

    /// Sends what is left; the thread ends once it has filed it.
    fn finish(mut self) {
        if !self.batch.records.is_empty() {
            self.send();
        }
    }
}

/// The world's slot for its [`Sink`]: empty but while a run files in the
/// background, and then never copied (a copy of the world starts with none).
#[cfg(not(target_arch = "wasm32"))]
#[derive(Default)]
pub(super) struct SinkSlot(Option<Sink>);

#[cfg(not(target_arch = "wasm32"))]
impl Clone for SinkSlot {
    fn clone(&self) -> SinkSlot {
        SinkSlot(None)
    }
}

/// A run files in the background once it has run this many events by
/// itself: a short one never starts a thread.
#[cfg(not(target_arch = "wasm32"))]
pub(super) const BACKGROUND_AFTER: u64 = 20_000;

impl World {
    /// Records an event that is not a datagram sent, translated or
    /// delivered, nor a protocol event.
    pub(super) fn record(&mut self, time: Time, kind: TraceKind) {
        #[cfg(not(target_arch = "wasm32"))]
        if let Some(sink) = &mut self.sink.0 {
            sink.add(time, Record::Other(kind));
            return;
        }
        self.trace.push(time, kind);
    }

    /// Records a datagram a host sent.
    pub(super) fn record_sent(&mut self, d: Datagram) {
        let now = self.now;
        #[cfg(not(target_arch = "wasm32"))]
        if let Some(sink) = &mut self.sink.0 {
            let bytes = &mut sink.batch.bytes;
            let start = u32::try_from(bytes.len()).expect("a batch under 4 GB");
            bytes.extend_from_slice(d.payload);
            let record = Record::Sent {
                packet: d.packet,
                host: d.host as u32,
                link: d.link.map(|l| l as u32),
                addrs: d.addrs,
                payload: (start, d.payload.len() as u32),
                protocol: d.protocol,
            };
            sink.add(now, record);
            return;
        }
        self.filer.sent(&mut self.trace, now, d);
    }

    /// Records a datagram translated by a NAT or delivered to a host.
    pub(super) fn record_passed(
        &mut self,
        packet: PacketId,
        at: At,
        addrs: (SocketAddr, SocketAddr),
    ) {
        let now = self.now;
        #[cfg(not(target_arch = "wasm32"))]
        if let Some(sink) = &mut self.sink.0 {
            sink.add(now, Record::Passed { packet, at, addrs });
            return;
        }
        self.filer.passed(&mut self.trace, now, packet, at, addrs);
    }

    /// Records a protocol event of host `h`.
    pub(super) fn record_event(&mut self, h: usize, event: Event) {
        let now = self.now;
        #[cfg(not(target_arch = "wasm32"))]
        if let Some(sink) = &mut self.sink.0 {
            let host = h as u32;
            sink.add(now, Record::Event { host, event });
            return;
        }
        self.filer.event(&mut self.trace, now, h, event);
    }

    /// Runs every event up to `until` while a second thread files the
    /// trace. The world reads nothing of its trace while it runs, so the
    /// trace can be elsewhere meanwhile; it is back, complete, on return.
    #[cfg(not(target_arch = "wasm32"))]
    pub(super) fn run_filing_in_background(&mut self, until: Time) -> u64 {
        use std::panic::{AssertUnwindSafe, catch_unwind, resume_unwind};
        use std::sync::mpsc;
        let mut trace = std::mem::take(&mut self.trace);
        let mut filer = std::mem::take(&mut self.filer);
        // Two batches in flight at most: the thread keeps pace or the
        // world waits (a batch is a few hundred kilobytes).
        let (to_filer, batches) = mpsc::sync_channel::<Batch>(2);
        let (give_back, spare) = mpsc::channel::<Batch>();
        let (ran, filed) = std::thread::scope(|s| {
            let worker = s.spawn(move || {
                for mut batch in batches {
                    filer.file(&mut trace, &mut batch);
                    let _ = give_back.send(batch);
                }
                (trace, filer)
            });
            self.sink.0 = Some(Sink {
                batch: Batch::new(),
                to_filer,
                spare,
            });
            // A panic here must still end the thread (its channel closes
            // with the sink), or the scope would wait for it for ever.
            let ran = catch_unwind(AssertUnwindSafe(|| {
                let mut events = 0;
                while self.next_event_time().is_some_and(|t| t <= until) {
                    self.step();
                    events += 1;
                }
                events
            }));
            if let Some(sink) = self.sink.0.take() {
                sink.finish();
            }
            (ran, worker.join())
        });
        match (ran, filed) {
            (Ok(events), Ok((trace, filer))) => {
                self.trace = trace;
                self.filer = filer;
                events
            }
            (Err(panic), _) | (_, Err(panic)) => resume_unwind(panic),
        }
    }
}
