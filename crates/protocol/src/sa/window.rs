//! Message IDs, the request window and retransmission (RFC 7296 §2.1,
//! §2.3): our requests are kept until answered and re-sent bit for bit
//! (I-2.1-7) on a growing schedule until the SA is given up (I-2.1-6); the
//! peer's requests are answered once and the answers cached for its
//! retransmissions (I-2.1-1, I-2.3-6).

use super::*;
use mobike_wire::message::notify_data;
use std::collections::BTreeMap;

/// Our side of the IKE SA's exchanges.
#[derive(Clone)]
pub(super) struct Window {
    pub(super) next_mid: u32,
    /// The lowest message ID of the peer's we have not answered yet.
    pub(super) expect_mid: u32,
    /// Our requests waiting for their responses, oldest first: at most the
    /// peer's window (RFC 7296 §2.3, I-2.3-3, I-2.3-5).
    pub(super) outstanding: Vec<Request>,
    /// Requests waiting for the window, in order.
    pub(super) queue: VecDeque<Job>,
    /// Responses we sent, with the request each answers (to recognise
    /// retransmissions): the last `window_size` of them (I-2.3-6).
    pub(super) answered: BTreeMap<u32, (Vec<u8>, Vec<u8>)>,
    /// The request being handled, stored with its response.
    pub(super) current_request: Vec<u8>,
    /// The peer's window (SET_WINDOW_SIZE), 1 until it says otherwise.
    pub(super) peer_window: u32,
}

impl Default for Window {
    fn default() -> Self {
        Window {
            next_mid: 0,
            expect_mid: 0,
            outstanding: Vec::new(),
            queue: VecDeque::new(),
            answered: BTreeMap::new(),
            current_request: Vec::new(),
            peer_window: 1,
        }
    }
}

impl Window {
    /// Nothing outstanding or queued stays (the SA is gone).
    pub(super) fn clear(&mut self) {
        self.outstanding.clear();
        self.queue.clear();
    }

    pub(super) fn find(&self, mid: u32) -> Option<usize> {
        self.outstanding.iter().position(|r| r.mid == mid)
    }
}

/// An INFORMATIONAL request waiting for the window: what it is for.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(super) enum Job {
    /// A liveness check (RFC 7296 §2.4), with NAT-D (RFC 4555 §3.8).
    Liveness,
    /// A liveness check with COOKIE2 after a report of unwanted traffic
    /// (RFC 4555 §5.3, M-5.3-1).
    LivenessRr,
    /// A liveness check over every address pair while the current one
    /// works (RFC 4555 §3.10, M-3.10-1).
    PathTest,
    /// UPDATE_SA_ADDRESSES (RFC 4555 §3.5).
    Update,
    /// The address list only (RFC 4555 §3.6).
    AddressList,
    /// The responder's return routability check of a new initiator address
    /// (RFC 4555 §3.7).
    ReturnRoutability {
        local: SocketAddr,
        remote: SocketAddr,
    },
    /// Delete of the IKE SA (RFC 7296 §1.4.1).
    Delete(LocalDelete),
    /// Responder: N(REDIRECT) (RFC 5685).
    Redirect { to: IpAddr },
    /// An empty INFORMATIONAL over every path from the addresses we have,
    /// before moving (`Settings::path_check_first`).
    PathCheck(AfterCheck),
    /// CREATE_CHILD_SA rekeying the oldest Child SA in use (RFC 7296 §1.3.3).
    RekeyChild,
    /// CREATE_CHILD_SA for another Child SA, for `child_subnets[k]`
    /// (RFC 7296 §1.3.1).
    NewChild(u8),
    /// Delete of the Child SA with our inbound SPI `spi_in` (§1.4.1).
    DeleteChild { spi_in: u32 },
    /// CREATE_CHILD_SA rekeying the IKE SA (RFC 7296 §1.3.2).
    RekeyIke,
}

/// What follows a path check that was answered.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum AfterCheck {
    /// Initiator: move there and send UPDATE_SA_ADDRESSES; the address
    /// that went away.
    Update { gone: IpAddr },
    /// Responder: move our side there and announce the address list.
    AddressList,
}

/// An outstanding request's own state (what strongSwan calls a task).
#[derive(Clone, Debug, PartialEq, Eq)]
pub(super) enum Task {
    Init,
    Auth,
    Liveness,
    PathTest,
    LivenessRr {
        cookie2: Vec<u8>,
    },
    Update {
        cookie2: Vec<u8>,
        /// The SA's address generation when it was made (B-3.5-6).
        generation: u32,
    },
    AddressList,
    ReturnRoutability {
        local: SocketAddr,
        remote: SocketAddr,
        cookie2: Vec<u8>,
        /// Moved to a newer address while waiting: its answer proves
        /// nothing about either (B-3.7-1).
        retargeted: bool,
    },
    Delete(LocalDelete),
    Redirect {
        to: IpAddr,
    },
    PathCheck(AfterCheck),
    RekeyChild {
        old_in: u32,
        new_in: u32,
        ni: Vec<u8>,
        /// Our new D-H secret's seed, with PFS.
        dh_seed: Option<[u8; 32]>,
    },
    DeleteChild {
        spi_in: u32,
    },
    NewChild {
        new_in: u32,
        ni: Vec<u8>,
        dh_seed: Option<[u8; 32]>,
    },
    RekeyIke {
        /// Our SPI of the new IKE SA (its SPIi).
        new_spi: u64,
        ni: Vec<u8>,
        dh_seed: [u8; 32],
    },
}

impl Job {
    pub(super) fn label(&self) -> &'static str {
        match self {
            Job::Liveness => "liveness check",
            Job::LivenessRr => "liveness check with COOKIE2",
            Job::PathTest => "path test",
            Job::Update => "UPDATE_SA_ADDRESSES",
            Job::AddressList => "address list update",
            Job::ReturnRoutability { .. } => "return routability check",
            Job::Delete(_) => "Delete",
            Job::Redirect { .. } => "REDIRECT",
            Job::PathCheck(_) => "path check",
            Job::RekeyChild => "Child SA rekey",
            Job::NewChild(_) => "new Child SA",
            Job::DeleteChild { .. } => "Child SA delete",
            Job::RekeyIke => "IKE SA rekey",
        }
    }
}

impl Task {
    pub(super) fn label(&self) -> &'static str {
        match self {
            Task::Init => "IKE_SA_INIT",
            Task::Auth => "IKE_AUTH",
            Task::Liveness => "liveness check",
            Task::LivenessRr { .. } => "liveness check with COOKIE2",
            Task::PathTest => "path test",
            Task::Update { .. } => "UPDATE_SA_ADDRESSES",
            Task::AddressList => "address list update",
            Task::ReturnRoutability { .. } => "return routability check",
            Task::Delete(_) => "Delete",
            Task::Redirect { .. } => "REDIRECT",
            Task::PathCheck(_) => "path check",
            Task::RekeyChild { .. } => "Child SA rekey",
            Task::NewChild { .. } => "new Child SA",
            Task::DeleteChild { .. } => "Child SA delete",
            Task::RekeyIke { .. } => "IKE SA rekey",
        }
    }

    /// The exchange its request is.
    pub(super) fn exchange(&self) -> ExchangeType {
        match self {
            Task::Init => ExchangeType::IKE_SA_INIT,
            Task::Auth => ExchangeType::IKE_AUTH,
            Task::RekeyChild { .. } | Task::NewChild { .. } | Task::RekeyIke { .. } => {
                ExchangeType::CREATE_CHILD_SA
            }
            _ => ExchangeType::INFORMATIONAL,
        }
    }

    /// The COOKIE2 it carries (RFC 4555 §3.7).
    pub(super) fn cookie2(&self) -> Option<&[u8]> {
        match self {
            Task::LivenessRr { cookie2 }
            | Task::Update { cookie2, .. }
            | Task::ReturnRoutability { cookie2, .. } => Some(cookie2),
            _ => None,
        }
    }

    /// A return routability check goes only to the pair it checks.
    pub(super) fn fixed_path(&self) -> Option<(SocketAddr, SocketAddr)> {
        match self {
            Task::ReturnRoutability { local, remote, .. } => Some((*local, *remote)),
            _ => None,
        }
    }
}

/// A request waiting for its response (RFC 7296 §2.1: kept until answered).
#[derive(Clone)]
pub(super) struct Request {
    pub(super) mid: u32,
    pub(super) task: Task,
    /// The IKE message as first sent; retransmissions reuse it bit for bit (I-2.1-7).
    pub(super) bytes: Vec<u8>,
    pub(super) retransmissions: u32,
    pub(super) next_at: Time,
    /// Path testing (RFC 4555 §3.10): sent over several address pairs; the
    /// number is the sends since it started (for `Settings::probe`).
    pub(super) probing: Option<u32>,
    /// It went out from more than one of our addresses (M-3.6-2).
    pub(super) multi_source: bool,
    /// The address it first went out from.
    pub(super) first_src: IpAddr,
}

/// The retransmission schedule of our requests: the responder's is long
/// (RFC 4555 §3.11, M-3.11-1).
pub(super) fn schedule(role: Role, settings: &crate::Settings) -> crate::Retransmit {
    match role {
        Role::Initiator => settings.retransmit(),
        Role::Responder => settings.responder_retransmit(),
    }
}

impl IkeSa {
    /// The peer's N(SET_WINDOW_SIZE) (RFC 7296 §2.3, I-2.3-3).
    pub(super) fn take_peer_window(&mut self, ctx: &mut Ctx, inner: &[Payload]) {
        if let Some(d) = notify_data(inner, NotifyType::SET_WINDOW_SIZE)
            && let Ok(b) = <[u8; 4]>::try_from(d)
        {
            let size = u32::from_be_bytes(b).max(1);
            if size != self.window.peer_window {
                self.window.peer_window = size;
                ctx.event(Event::PeerWindow {
                    spi_i: self.spi_i,
                    size,
                });
            }
        }
    }

    /// N(SET_WINDOW_SIZE) when our window is above the default 1 (RFC 7296
    /// §2.3).
    pub(super) fn set_window_size(ctx: &Ctx) -> Option<Payload> {
        let w = ctx.config.settings.window_size;
        (w > 1).then(|| notify(NotifyType::SET_WINDOW_SIZE, w.to_be_bytes().to_vec()))
    }

    /// strongSwan's path check (`Settings::path_check_first`, reference
    /// §8.1 items 4–5): the empty INFORMATIONAL goes from each address we
    /// have to each peer address at once, and is retransmitted so, on the
    /// probing schedule when there is one.
    fn start_path_check(&mut self, ctx: &mut Ctx, task: Task, mid: u32, bytes: Vec<u8>) {
        let paths = self.present_paths(ctx);
        for (src, dst) in &paths {
            self.transmit(ctx, *src, *dst, &bytes);
        }
        let settings = &ctx.config.settings;
        let wait = match settings.probe() {
            Some(p) => p.timeout(0),
            None => schedule(self.role, settings).timeout(0),
        };
        let first_src = paths.first().map_or(self.local.ip(), |p| p.0.ip());
        let req = Request {
            mid,
            task,
            bytes,
            retransmissions: 0,
            next_at: ctx.now + wait,
            probing: Some(0),
            multi_source: paths.iter().any(|(l, _)| l.ip() != first_src),
            first_src,
        };
        self.report_request(ctx, &req);
        self.window.outstanding.push(req);
    }

    /// Sends a new request and keeps it until it is answered.
    pub(super) fn start_request(&mut self, ctx: &mut Ctx, task: Task, mid: u32, bytes: Vec<u8>) {
        let (src, dst) = task.fixed_path().unwrap_or((self.local, self.remote));
        self.transmit(ctx, src, dst, &bytes);
        let req = Request {
            mid,
            task,
            bytes,
            retransmissions: 0,
            next_at: ctx.now + schedule(self.role, &ctx.config.settings).timeout(0),
            probing: None,
            multi_source: false,
            first_src: src.ip(),
        };
        self.report_request(ctx, &req);
        self.window.outstanding.push(req);
    }

    pub(super) fn report_request(&self, ctx: &mut Ctx, req: &Request) {
        ctx.event(Event::RequestSent {
            spi_i: self.spi_i,
            what: req.task.label(),
            mid: req.mid,
            retransmission: req.retransmissions,
            next_at: req.next_at,
            probing: req.probing.is_some(),
            cookie2: req.task.cookie2().map(hex),
        });
    }

    /// Answers the request being handled and caches the answer.
    pub(super) fn send_response(
        &mut self,
        ctx: &mut Ctx,
        mid: u32,
        bytes: Vec<u8>,
        src: SocketAddr,
        dst: SocketAddr,
    ) {
        // RFC 7296 §2.11 (I-2.11-2, I-2.11-3): to where the request came
        // from, from where it was received.
        self.transmit(ctx, src, dst, &bytes);
        // I-2.3-6: keep the responses of the last `window` requests.
        let w = &mut self.window;
        let req = std::mem::take(&mut w.current_request);
        w.answered.insert(mid, (req, bytes));
        while w.answered.contains_key(&w.expect_mid) {
            w.expect_mid += 1;
        }
        let keep = ctx.config.settings.window_size.max(1);
        let low = w.expect_mid.saturating_sub(keep);
        w.answered.retain(|m, _| *m >= low);
    }

    /// An encrypted response to the request `mid`.
    pub(super) fn respond(
        &mut self,
        ctx: &mut Ctx,
        exchange: ExchangeType,
        mid: u32,
        payloads: &[Payload],
        src: SocketAddr,
        dst: SocketAddr,
    ) {
        if let Some(resp) = self.encrypt(exchange, mid, true, payloads) {
            self.send_response(ctx, mid, resp, src, dst);
        }
    }

    /// RFC 7296 §2.1 (I-2.1-1, I-2.1-2): a retransmitted request only makes
    /// us send the cached response again, to where it came from. Returns
    /// whether the request was one.
    pub(super) fn answered_before(
        &mut self,
        ctx: &mut Ctx,
        src: SocketAddr,
        dst: SocketAddr,
        header: &Header,
        bytes: &[u8],
    ) -> bool {
        let Some((req, resp)) = self.window.answered.get(&header.message_id) else {
            return false;
        };
        let resp = resp.clone();
        // A copy that is not bit for bit the request we answered must at
        // least pass the integrity check before it may trigger anything
        // (RFC 7296 §2.1).
        if bytes != req.as_slice()
            && (header.exchange != ExchangeType::IKE_SA_INIT || header.message_id != 0)
            && let Err(error) = self.open(bytes)
        {
            ctx.reject(
                src,
                dst,
                Rejection::Request {
                    exchange: header.exchange,
                    error,
                },
            );
            return true;
        }
        self.transmit(ctx, dst, src, &resp);
        true
    }

    /// Our receive window (RFC 7296 §2.3): the lowest unanswered ID and the
    /// window_size - 1 after it; 1 until IKE_AUTH is done.
    pub(super) fn in_receive_window(
        &self,
        ctx: &mut Ctx,
        src: SocketAddr,
        dst: SocketAddr,
        mid: u32,
    ) -> bool {
        let window = if self.is_established() {
            ctx.config.settings.window_size.max(1)
        } else {
            1
        };
        let expected = self.window.expect_mid;
        if mid < expected || mid >= expected.saturating_add(window) {
            ctx.reject(
                src,
                dst,
                Rejection::MessageId {
                    got: mid,
                    expected,
                    window,
                },
            );
            return false;
        }
        true
    }

    /// How many requests we may have outstanding: 1 until IKE_AUTH is done
    /// (I-2.3-1), then the peer's window (I-2.3-3, I-2.3-5).
    fn window_open(&self) -> bool {
        let limit = if self.is_established() {
            self.window.peer_window.max(1)
        } else {
            1
        };
        (self.window.outstanding.len() as u32) < limit
    }

    /// Queues an INFORMATIONAL request; window size 1 (RFC 7296 §2.3, I-2.3-2):
    /// it goes out when nothing is outstanding.
    pub(super) fn queue(&mut self, ctx: &mut Ctx, job: Job) {
        if !self.window.queue.contains(&job) {
            self.window.queue.push_back(job);
        }
        self.send_queued(ctx);
    }

    /// Sends queued requests as far as the window allows.
    pub(super) fn send_queued(&mut self, ctx: &mut Ctx) {
        while self.window_open() && self.is_established() {
            let Some(job) = self.window.queue.pop_front() else {
                return;
            };
            self.send_informational(ctx, job);
        }
    }

    /// The payloads of a request and the task that waits for its answer;
    /// each procedure builds its own.
    fn build(&mut self, ctx: &mut Ctx, job: Job) -> Option<(Vec<Payload>, Task)> {
        Some(match job {
            Job::Liveness => (self.liveness_payloads(ctx), Task::Liveness),
            Job::PathTest => (self.liveness_payloads(ctx), Task::PathTest),
            Job::LivenessRr => self.liveness_rr_request(ctx),
            Job::Delete(reason) => (
                vec![Payload::Delete(mobike_wire::payload::Delete::ike())],
                Task::Delete(reason),
            ),
            Job::Redirect { to } => (self.redirect_payloads(to)?, Task::Redirect { to }),
            Job::Update => self.update_request(ctx),
            Job::AddressList => (self.address_list_payloads(ctx), Task::AddressList),
            Job::ReturnRoutability { local, remote } => {
                self.return_routability_request(ctx, local, remote)
            }
            // strongSwan's path check is an empty INFORMATIONAL.
            Job::PathCheck(then) => (Vec::new(), Task::PathCheck(then)),
            Job::RekeyChild => self.rekey_child_request(ctx)?,
            Job::NewChild(k) => self.new_child_request(ctx, k)?,
            Job::RekeyIke => self.rekey_ike_request(ctx)?,
            Job::DeleteChild { spi_in } => (
                vec![Payload::Delete(mobike_wire::payload::Delete::esp(&[
                    spi_in,
                ]))],
                Task::DeleteChild { spi_in },
            ),
        })
    }

    /// Sends a request now (the caller knows the window is open).
    pub(super) fn send_informational(&mut self, ctx: &mut Ctx, job: Job) {
        let Some((inner, task)) = self.build(ctx, job) else {
            return;
        };
        let mid = self.window.next_mid;
        self.window.next_mid += 1;
        let Some(bytes) = self.encrypt(task.exchange(), mid, false, &inner) else {
            return;
        };
        if let Task::PathCheck(_) = task {
            self.start_path_check(ctx, task, mid, bytes);
            return;
        }
        let path_test = task == Task::PathTest;
        self.start_request(ctx, task, mid, bytes.clone());
        if path_test {
            self.send_path_test_copies(ctx, &bytes);
        }
    }

    /// The next retransmission of request `mid` is due.
    pub(super) fn retransmit(&mut self, ctx: &mut Ctx, mid: u32) {
        let Some(i) = self.window.find(mid) else {
            return;
        };
        let settings = &ctx.config.settings;
        let schedule = schedule(self.role, settings);
        let req = &self.window.outstanding[i];
        let probe = settings.probe();
        let exhausted = match (&probe, req.probing) {
            (Some(p), Some(probes)) => probes >= p.tries,
            _ => req.retransmissions >= schedule.tries,
        };
        if exhausted {
            // RFC 7296 §2.1 (I-2.1-6): give up, delete the IKE SA.
            let reason = DeleteReason::NoResponse {
                what: req.task.label(),
                mid: req.mid,
                retransmissions: req.retransmissions,
            };
            self.delete(ctx, reason);
            return;
        }
        // A path check always goes over every path; other requests after
        // `probe_after` sends, unless retransmissions stay on the current
        // path (strongSwan).
        let path_check = matches!(req.task, Task::PathCheck(_));
        let start_probing = path_check
            || (self.role == Role::Initiator
                && self.mobike()
                && settings.probe_on_retransmit
                && req.retransmissions + 1 >= settings.probe_after);
        let req = &mut self.window.outstanding[i];
        req.retransmissions += 1;
        req.next_at = ctx.now + schedule.timeout(req.retransmissions);
        let n = req.retransmissions;
        if start_probing && let Some(p) = &probe {
            // strongSwan's probing: a fixed schedule of its own.
            if let Some(probes) = &mut req.probing {
                *probes += 1;
            }
            req.next_at = ctx.now + p.timeout(req.probing.unwrap_or(0));
        }
        if req.task == Task::Init && n > settings.probe_after && self.try_next_destination(ctx) {
            return;
        }
        if self.fall_back_from_move(ctx, i, n) {
            self.window.outstanding[i].multi_source = true;
        }
        let req = &self.window.outstanding[i];
        let bytes = req.bytes.clone();
        let fixed_path = match &req.task {
            // M-3.1-1: IKE_SA_INIT goes out from our addresses in turn, the
            // same octets each time (I-2.1-7).
            Task::Init if ctx.config.settings.multi_source_init => {
                let family: Vec<IpAddr> = ctx
                    .local_addrs
                    .iter()
                    .copied()
                    .filter(|a| same_family(*a, self.remote.ip()))
                    .collect();
                (!family.is_empty()).then(|| {
                    let a = family[n as usize % family.len()];
                    (SocketAddr::new(a, IKE_PORT), self.remote)
                })
            }
            task => task.fixed_path(),
        };
        if start_probing && fixed_path.is_none() {
            self.probe_all_paths(ctx, i, n, &bytes);
        } else {
            // B-3.5-4: retransmissions go to the IKE SA's current addresses.
            let (src, dst) = fixed_path.unwrap_or((self.local, self.remote));
            self.transmit(ctx, src, dst, &bytes);
            let req = &mut self.window.outstanding[i];
            if req.first_src != src.ip() {
                req.multi_source = true;
            }
        }
        let req = &self.window.outstanding[i];
        self.report_request(ctx, req);
    }

    /// RFC 4555 §3.5, §3.10: retransmitted several times, the request goes
    /// over every address pair (the same octets, I-2.1-7).
    fn probe_all_paths(&mut self, ctx: &mut Ctx, i: usize, sends: u32, bytes: &[u8]) {
        let first = self.window.outstanding[i].probing.is_none();
        let paths = if matches!(self.window.outstanding[i].task, Task::PathCheck(_)) {
            self.present_paths(ctx)
        } else {
            self.candidate_paths(ctx)
        };
        let local = self.local.ip();
        let req = &mut self.window.outstanding[i];
        req.probing.get_or_insert(0);
        req.multi_source |= paths.iter().any(|(l, _)| l.ip() != local);
        if first {
            self.note(
                ctx,
                Note::ProbingStarted {
                    sends,
                    pairs: paths.len(),
                },
            );
        }
        for (src, dst) in paths {
            self.transmit(ctx, src, dst, bytes);
        }
    }
}
