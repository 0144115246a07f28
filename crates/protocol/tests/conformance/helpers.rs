//! Helpers shared by the conformance modules: message filters, whole-run
//! checks and the set-ups several sections use.

use crate::common::*;
use mobike_protocol::{MS, Role, SEC, Settings, Time};
use mobike_wire::crypto::nat_detection_hash;
use mobike_wire::registry::NotifyType;
use std::net::SocketAddr;

pub fn natd(n: &Net, addr: SocketAddr) -> Vec<u8> {
    let (i, r) = ike_sa_spis(n);
    nat_detection_hash(i, r, addr).to_vec()
}

pub fn updates(msgs: &[Msg]) -> Vec<Msg> {
    msgs.iter()
        .filter(|m| m.is_request() && m.has(NotifyType::UPDATE_SA_ADDRESSES))
        .cloned()
        .collect()
}

/// The response (sent by the other side) to `req`, first copy.
pub fn response_to<'a>(msgs: &'a [Msg], req: &Msg) -> Option<&'a Msg> {
    msgs.iter().find(|m| {
        m.is_response()
            && m.mid() == req.mid()
            && m.exchange() == req.exchange()
            && m.from.is_some()
            && m.from != req.from
    })
}

/// Requests the responder originated (its own message IDs).
pub fn responder_requests(msgs: &[Msg]) -> Vec<Msg> {
    msgs.iter()
        .filter(|m| m.from == Some(Role::Responder) && m.is_request())
        .cloned()
        .collect()
}

/// Every response must go to the address:port the request came from, and
/// leave from the address:port it arrived on (RFC 7296 §2.11): a copy of
/// the request must have arrived at the responding side at that very time
/// with mirrored addresses. Returns the violations.
pub fn response_path_violations(n: &Net) -> Vec<String> {
    let msgs = n.messages();
    let mut bad = Vec::new();
    for resp in msgs.iter().filter(|m| m.is_response() && m.from.is_some()) {
        let me = resp.from.unwrap();
        let ok = msgs
            .iter()
            .filter(|q| q.is_request() && q.mid() == resp.mid() && q.exchange() == resp.exchange())
            .flat_map(|q| q.arrivals.iter())
            .any(|a| a.to == me && a.at == resp.at && a.src == resp.dst && a.dst == resp.src);
        if !ok {
            bad.push(format!(
                "{me:?} response {} mid {} at {} {} -> {} has no matching request arrival",
                resp.exchange(),
                resp.mid(),
                resp.at,
                resp.src,
                resp.dst
            ));
        }
    }
    bad
}

/// The initiator's addresses become `keep`; the network runs `secs` more
/// seconds.
/// Returns the net and the number of messages before the change.
pub fn moved(i_addrs: &[&str], r_addrs: &[&str], keep: &[&str], secs: Time) -> (Net, usize) {
    let mut n = Net::established(i_addrs, r_addrs);
    let before = n.messages().len();
    n.i.handle_local_addresses(n.now, keep.iter().map(|a| ip(a)).collect());
    n.run(n.now + secs * SEC);
    (n, before)
}

/// The initiator behind a NAT box from the start (IPRIV -> NAT_EXT:40000...).
pub fn behind_nat(si: Settings, sr: Settings) -> Net {
    let mut n = Net::with(&[IPRIV], &[R1], si, sr);
    n.nat = Some(Nat::new(&[IPRIV], NAT_EXT, 40000));
    n.connect();
    n.run(SEC);
    n
}

/// The initiator moves I1 -> I2 (at ~5.34 s) while a liveness check is
/// outstanding (its response was lost on the way back).
/// Returns the net right after the move and the time of the move.
pub fn busy_move() -> (Net, Time) {
    let mut n = Net::established(&[I1, I2], &[R1]);
    n.cut.insert((ip(R1), ip(I1)));
    assert!(n.run_until(10 * SEC, |n| {
        n.log
            .iter()
            .any(|s| s.from == Some(Role::Initiator) && s.at > SEC)
    }));
    n.run(n.now + 300 * MS);
    let t = n.now;
    n.i.handle_local_addresses(t, vec![ip(I2)]);
    n.drain();
    (n, t)
}

pub fn initiator_requests_since(n: &Net, before: usize) -> Vec<Msg> {
    n.messages()[before..]
        .iter()
        .filter(|m| m.from == Some(Role::Initiator) && m.is_request())
        .cloned()
        .collect()
}

pub fn windowed() -> Settings {
    Settings {
        window_size: 2,
        ..settings()
    }
}

/// `Net::messages`, asserting that every IKE datagram in the log parsed
/// and, when protected, decrypted.
pub fn all_messages(n: &Net) -> Vec<Msg> {
    let msgs = n.messages();
    let ike = n.log.iter().filter(|s| s.ike_bytes().is_some()).count();
    assert_eq!(
        msgs.len(),
        ike,
        "an IKE datagram did not parse\n{}",
        trace(n)
    );
    assert!(
        msgs.iter().all(|m| m.decrypted),
        "an IKE message did not decrypt\n{}",
        trace(n)
    );
    msgs
}

/// Whether `role` noted a decision under checklist id `id`.
pub fn noted(n: &Net, role: Role, id: &str) -> bool {
    notes(n, role).iter().any(|note| note.rule().cites(id))
}

/// The first path test (an INFORMATIONAL request the initiator sends by
/// itself) and every address pair its octets went over.
pub fn path_test_pairs(n: &Net) -> (Msg, std::collections::BTreeSet<(SocketAddr, SocketAddr)>) {
    let msgs = n.messages();
    let test = msgs
        .iter()
        .find(|m| m.from == Some(Role::Initiator) && m.info() && m.is_request())
        .expect("a path test")
        .clone();
    let pairs = msgs
        .iter()
        .filter(|m| m.ike == test.ike)
        .map(|m| (m.src, m.dst))
        .collect();
    (test, pairs)
}
