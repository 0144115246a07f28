//! Why a datagram was sent: the decisions the sending host recorded at the
//! moment it sent it (its typed notes, each with the rule it follows), what
//! kind of request or response it is, and what the RFCs say about such a
//! message and the payloads it carries — each rule with its checklist text
//! (see [`crate::rules`]).
//!
//! Everything is read from the trace and the message's own bytes: the
//! simulator records a host's events just before the datagrams it sends in
//! answer to one input (a delivered packet, a timer, an intervention), so
//! the events right before a `Sent` are the ones of that moment, and the
//! packet delivered just before them is what prompted it.

use crate::chart::{Chart, MessageRow, What};
use crate::fmt_time;
use crate::rules::{RuleLine, rule_lines};
use mobike_protocol::{Event, Time};
use mobike_sim::trace::{Name, PacketId};
use mobike_sim::{Trace, TraceKind};
use mobike_wire::Header;
use mobike_wire::message::Message;
use mobike_wire::payload::{Notify, Payload};
use mobike_wire::registry::{ExchangeType, NotifyType};
use mobike_wire::udp::{NATT_PORT, UdpPayload, classify};
use std::net::SocketAddr;
use std::sync::Arc;

/// One reason, in words, with the rule it rests on.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Reason {
    /// The host that recorded it as a decision (a protocol note), or `None`
    /// for what the message and the RFCs say.
    pub noted_by: Option<String>,
    pub text: String,
    /// The citation as written: "RFC 4555 §3.7, §4.2.5 (M-3.7-5)".
    pub cite: String,
    /// Each checklist id of the citation with its text.
    pub rules: Vec<RuleLine>,
}

impl Reason {
    fn derived(text: impl Into<String>, cite: &str) -> Reason {
        Reason {
            noted_by: None,
            text: text.into(),
            cite: cite.to_string(),
            rules: rule_lines(cite),
        }
    }

    fn noted(by: &str, text: impl Into<String>, cite: &str) -> Reason {
        Reason {
            noted_by: Some(by.to_string()),
            ..Reason::derived(text, cite)
        }
    }
}

/// What the sending host did at the moment of a send, read from the trace.
struct Moment {
    node: Name,
    /// The sender as the chart labels it ("Laptop").
    who: String,
    time: Time,
    /// The index of the `Sent` event.
    at: usize,
    /// The host's events of that moment, in order.
    events: Vec<Arc<Event>>,
    trigger: Option<Trigger>,
}

enum Trigger {
    /// A packet delivered to the host, from the address it arrived from.
    Packet { packet: PacketId, src: SocketAddr },
    /// The timeline or the user did something.
    Intervention { text: String, by_user: bool },
}

/// Reads the moment of packet `packet`'s send: walking back from its `Sent`
/// over the other datagrams of the same moment (and what happened to them
/// on the spot), then over the sender's events of that moment, to what
/// prompted them.
fn moment(trace: &Trace, chart: &Chart, packet: PacketId) -> Option<Moment> {
    let at = trace.sent_index(packet)?;
    let sent = trace.get(at)?;
    let (time, node) = match &sent.kind {
        TraceKind::Sent { node, .. } => (sent.time, node.clone()),
        _ => return None,
    };
    let mut events = Vec::new();
    let mut trigger = None;
    for e in trace.iter_to(at).rev() {
        if e.time != time {
            break;
        }
        match &e.kind {
            TraceKind::Protocol { node: n, event } if *n == node => events.push(event.clone()),
            // Sibling datagrams of the same moment, and what befell them.
            TraceKind::Sent { node: n, .. } if *n == node && events.is_empty() => {}
            TraceKind::Dropped { .. }
            | TraceKind::Duplicated { .. }
            | TraceKind::Translated { .. }
            | TraceKind::NatMapping { .. }
                if events.is_empty() => {}
            TraceKind::Delivered {
                packet,
                node: n,
                src,
                ..
            } if *n == node => {
                trigger = Some(Trigger::Packet {
                    packet: *packet,
                    src: src.get(),
                });
                break;
            }
            TraceKind::Intervention { text, by_user } => {
                trigger = Some(Trigger::Intervention {
                    text: text.clone(),
                    by_user: *by_user,
                });
                break;
            }
            _ => break,
        }
    }
    events.reverse();
    Some(Moment {
        who: label(chart, &node),
        node,
        time,
        at,
        events,
        trigger,
    })
}

/// A host as the chart labels it.
fn label(chart: &Chart, node: &str) -> String {
    chart
        .lanes
        .iter()
        .find(|l| l.node == node)
        .map_or_else(|| node.to_string(), |l| l.label.clone())
}

/// Every payload of an IKE message, the decrypted ones in place of SK.
fn payloads(ike: &[u8], m: &MessageRow) -> Vec<Payload> {
    let mut out: Vec<Payload> = Message::parse(ike)
        .map(|msg| {
            msg.payloads
                .into_iter()
                .filter(|p| !matches!(p, Payload::Sk { .. }))
                .collect()
        })
        .unwrap_or_default();
    if let What::Ike {
        inner: Some(inner), ..
    } = &m.what
    {
        out.extend(inner.iter().cloned());
    }
    out
}

fn notifies(ps: &[Payload]) -> impl Iterator<Item = &Notify> {
    ps.iter().filter_map(Payload::as_notify)
}

fn has(ps: &[Payload], kind: NotifyType) -> bool {
    notifies(ps).any(|n| n.kind == kind)
}

fn notify(ps: &[Payload], kind: NotifyType) -> Option<&Notify> {
    notifies(ps).find(|n| n.kind == kind)
}

fn short(b: &[u8]) -> String {
    let h: String = b.iter().take(8).map(|x| format!("{x:02x}")).collect();
    if b.len() > 8 { format!("{h}…") } else { h }
}

/// The request kinds the protocol names in `Event::RequestSent`, inferred
/// from the payloads when the sender did not report one (a forged or
/// replayed message, or one the trace has no event for).
fn kind_of(exchange: ExchangeType, ps: &[Payload]) -> &'static str {
    match exchange {
        ExchangeType::IKE_SA_INIT => "IKE_SA_INIT",
        ExchangeType::IKE_AUTH => "IKE_AUTH",
        ExchangeType::INFORMATIONAL => {
            if has(ps, NotifyType::UPDATE_SA_ADDRESSES) {
                "UPDATE_SA_ADDRESSES"
            } else if ps.iter().any(|p| matches!(p, Payload::Delete(_))) {
                "Delete"
            } else if has(ps, NotifyType::REDIRECT) {
                "REDIRECT"
            } else if has(ps, NotifyType::ADDITIONAL_IP4_ADDRESS)
                || has(ps, NotifyType::ADDITIONAL_IP6_ADDRESS)
                || has(ps, NotifyType::NO_ADDITIONAL_ADDRESSES)
            {
                "address list update"
            } else {
                "liveness check"
            }
        }
        _ => "",
    }
}

/// What a request of this kind is for.
fn request_kind(kind: &str) -> Option<Reason> {
    let (text, cite) = match kind {
        "IKE_SA_INIT" => (
            "The first exchange of an IKE SA: it negotiates the algorithms and exchanges Diffie-Hellman values and nonces, in the clear.",
            "RFC 7296 §1.2",
        ),
        "IKE_AUTH" => (
            "The second exchange: it authenticates both ends (inside SK, keyed from IKE_SA_INIT) and sets up the first Child SA.",
            "RFC 7296 §1.2",
        ),
        "liveness check" => (
            "A liveness check: an INFORMATIONAL request with nothing to change; any authenticated answer shows the peer is alive on this path.",
            "RFC 7296 §1.4, §2.4; RFC 4555 §3.5",
        ),
        "liveness check with COOKIE2" => (
            "A liveness check after a report of unwanted traffic, with a COOKIE2 the answer must echo, so it also checks return routability.",
            "RFC 4555 §5.3 (M-5.3-1), §3.7 (M-3.7-4)",
        ),
        "path test" => (
            "A path test: a request over another address pair, to find one that works.",
            "RFC 4555 §3.10 (M-3.10-1)",
        ),
        "UPDATE_SA_ADDRESSES" => (
            "Asks the peer to move the IKE SA and its IPsec SAs to the addresses this packet travels between. The sender moved its own SAs and set pending_update first, and sends it when the window allows (clearing pending_update).",
            "RFC 4555 §3.5 (B-3.5-1, B-3.5-2, B-3.5-5)",
        ),
        "address list update" => (
            "Tells the peer the complete set of the sender's addresses; it replaces the old set, and the address in the IP header counts too (N(NO_ADDITIONAL_ADDRESSES) when there is no other).",
            "RFC 4555 §3.6 (B-3.6-1)",
        ),
        "return routability check" => (
            "A return routability check: before moving its IPsec SAs to a new address, the sender makes sure that address answers, with a fresh COOKIE2 the answer must echo.",
            "RFC 4555 §3.7 (M-3.7-1, M-3.7-3), §3.5 (B-3.5-12)",
        ),
        "Delete" => ("Deletes the IKE SA and its Child SAs.", "RFC 7296 §1.4.1"),
        "Child SA rekey" => (
            "Rekeys the Child SA: a CREATE_CHILD_SA exchange makes a new Child SA with fresh keys to replace the one N(REKEY_SA) names; the sender then deletes the old one. Its lifetime ran out, or it was asked to.",
            "RFC 7296 §1.3.3, §2.8",
        ),
        "Child SA delete" => (
            "Deletes a Child SA that a rekey replaced (or a redundant one after two rekeys crossed): the Delete payload names the SPI the sender receives on; the answer names the other direction's.",
            "RFC 7296 §1.4.1, §2.8, §2.8.1",
        ),
        "REDIRECT" => ("Sends the client to another gateway.", "RFC 5685"),
        _ => return None,
    };
    Some(Reason::derived(text, cite))
}

/// What the payloads of a request say, rule by rule.
fn request_payloads(exchange: ExchangeType, ps: &[Payload], from_initiator: bool) -> Vec<Reason> {
    let mut out = Vec::new();
    let update = has(ps, NotifyType::UPDATE_SA_ADDRESSES);
    if let Some(n) = notify(ps, NotifyType::UPDATE_SA_ADDRESSES) {
        out.push(if n.data.is_empty() && n.spi.is_empty() {
            Reason::derived(
                "N(UPDATE_SA_ADDRESSES) carries no data: the new addresses are the packet's own.",
                "RFC 4555 §3.5, §4.2.4 (B-3.5-7)",
            )
        } else {
            Reason::derived(
                format!(
                    "N(UPDATE_SA_ADDRESSES) carries {} octets of data and an SPI of {}, where it should carry none.",
                    n.data.len(),
                    n.spi.len()
                ),
                "RFC 4555 §3.5, §4.2.4 (B-3.5-7)",
            )
        });
    }
    if let Some(n) = notify(ps, NotifyType::COOKIE2) {
        out.push(Reason::derived(
            format!(
                "N(COOKIE2) {}: {} unpredictable octets the answer must copy back, so the peer shows it got this request at this address.",
                short(&n.data),
                n.data.len()
            ),
            "RFC 4555 §3.7 (M-3.7-4), §4.2.5 (M-4.2.5-1)",
        ));
    }
    if has(ps, NotifyType::NAT_DETECTION_SOURCE_IP) {
        let sources = notifies(ps)
            .filter(|n| n.kind == NotifyType::NAT_DETECTION_SOURCE_IP)
            .count();
        let (text, cite) = if exchange == ExchangeType::IKE_SA_INIT && sources > 1 {
            (
                "NAT detection payloads after the nonce: hashes of the addresses and ports this packet was sent with, so the receiver sees whether a NAT changed them; one NAT_DETECTION_SOURCE_IP for each address the sender may use, as it does not know which one the packet leaves from.",
                "RFC 7296 §2.23 (I-2.23-6, I-2.23-7)",
            )
        } else if exchange == ExchangeType::IKE_SA_INIT {
            (
                "NAT detection payloads after the nonce: hashes of the addresses and ports this packet was sent with, so the receiver sees whether a NAT changed them.",
                "RFC 7296 §2.23 (I-2.23-6)",
            )
        } else if update {
            (
                "NAT detection payloads in the update: from them both ends turn UDP encapsulation on or off for the new path.",
                "RFC 4555 §3.5 (B-3.5-13), §3.8 (M-3.8-1)",
            )
        } else if from_initiator {
            (
                "NAT detection payloads: the initiator includes them in its liveness checks and compares the answer with the last result, to notice a changed NAT mapping.",
                "RFC 4555 §3.8 (M-3.8-1, M-3.8-3)",
            )
        } else {
            (
                "NAT detection payloads, which any INFORMATIONAL request may carry.",
                "RFC 4555 §3.8 (M-3.8-1)",
            )
        };
        out.push(Reason::derived(text, cite));
    }
    if has(ps, NotifyType::MOBIKE_SUPPORTED) {
        out.push(Reason::derived(
            "N(MOBIKE_SUPPORTED): the sender supports MOBIKE; both ends must send it for MOBIKE to be used.",
            "RFC 4555 §3.2 (M-3.2-1), §4.2.1 (M-4.2.1-1)",
        ));
    }
    let additional: Vec<String> = notifies(ps)
        .filter(|n| {
            n.kind == NotifyType::ADDITIONAL_IP4_ADDRESS
                || n.kind == NotifyType::ADDITIONAL_IP6_ADDRESS
        })
        .filter_map(|n| n.address().map(|a| a.to_string()))
        .collect();
    if !additional.is_empty() {
        let list = additional.join(", ");
        out.push(if exchange == ExchangeType::IKE_AUTH {
            Reason::derived(
                format!("Announces the sender's other addresses: {list}."),
                "RFC 4555 §3.4 (M-3.4-1)",
            )
        } else if update {
            Reason::derived(
                format!("The address list ({list}) goes with the update in one request."),
                "RFC 4555 §3.6 (M-3.6-1)",
            )
        } else {
            Reason::derived(
                format!("The sender's other addresses: {list}."),
                "RFC 4555 §3.6 (B-3.6-1)",
            )
        });
    }
    if has(ps, NotifyType::NO_NATS_ALLOWED) {
        out.push(Reason::derived(
            "N(NO_NATS_ALLOWED) holds the addresses and ports as sent: NAT traversal is off, so no NAT may change them.",
            "RFC 4555 §3.9 (M-3.9-1)",
        ));
    }
    if exchange == ExchangeType::CREATE_CHILD_SA {
        out.extend(create_child_payloads(ps, true));
    }
    out
}

/// The payloads of a CREATE_CHILD_SA message (RFC 7296 §1.3.3, §2.17).
fn create_child_payloads(ps: &[Payload], request: bool) -> Vec<Reason> {
    let mut out = Vec::new();
    if let Some(n) = notify(ps, NotifyType::REKEY_SA) {
        out.push(Reason::derived(
            format!(
                "N(REKEY_SA) names the Child SA to replace by the SPI {} its sender receives ESP on.",
                short(&n.spi)
            ),
            "RFC 7296 §1.3.3",
        ));
    }
    let spi = ps.iter().find_map(|p| match p {
        Payload::Sa(props) => props.first().map(|pr| short(&pr.spi)),
        _ => None,
    });
    if let Some(spi) = spi {
        out.push(Reason::derived(
            format!(
                "The SA payload {} the new Child SA's algorithms with the SPI {spi} on which the sender will receive its ESP.",
                if request { "offers" } else { "accepts" }
            ),
            "RFC 7296 §1.3.3, §3.3",
        ));
    }
    let pfs = ps.iter().any(|p| matches!(p, Payload::Ke { .. }));
    out.push(Reason::derived(
        if pfs {
            "A fresh nonce and a new Diffie-Hellman value: the new keys are prf+(SK_d, g^ir (new) | Ni | Nr), so they stay secret even if the old ones leak (perfect forward secrecy)."
        } else {
            "A fresh nonce and no KE payload: the new keys are prf+(SK_d, Ni | Nr) from this exchange's nonces, without perfect forward secrecy."
        },
        "RFC 7296 §1.3.1, §2.12, §2.17",
    ));
    out
}

/// What the payloads of a response say; `request` is its request's.
fn response_payloads(
    exchange: ExchangeType,
    ps: &[Payload],
    request: Option<&[Payload]>,
) -> Vec<Reason> {
    let mut out = Vec::new();
    if let Some(n) = notify(ps, NotifyType::COOKIE2) {
        let asked = request.and_then(|r| notify(r, NotifyType::COOKIE2));
        out.push(match asked {
            Some(a) if a.data != n.data => Reason::derived(
                format!(
                    "N(COOKIE2) {} is not the request's {}: the requester must close the IKE SA.",
                    short(&n.data),
                    short(&a.data)
                ),
                "RFC 4555 §3.7 (M-3.7-6, M-3.7-7)",
            ),
            Some(_) => Reason::derived(
                format!(
                    "N(COOKIE2) {} is the request's, copied as it was.",
                    short(&n.data)
                ),
                "RFC 4555 §3.7, §4.2.5 (M-3.7-5)",
            ),
            None => Reason::derived(
                format!("N(COOKIE2) {} echoes the request's.", short(&n.data)),
                "RFC 4555 §3.7, §4.2.5 (M-3.7-5)",
            ),
        });
    }
    if has(ps, NotifyType::NAT_DETECTION_SOURCE_IP) {
        out.push(if exchange == ExchangeType::IKE_SA_INIT {
            Reason::derived(
                "NAT detection payloads after the nonce: hashes of this response's own addresses and ports.",
                "RFC 7296 §2.23 (I-2.23-6)",
            )
        } else {
            Reason::derived(
                "NAT detection payloads, because the request had them: hashes of this response's own addresses and ports.",
                "RFC 4555 §3.8 (M-3.8-2), §3.5 (B-3.5-11)",
            )
        });
    }
    if has(ps, NotifyType::MOBIKE_SUPPORTED) {
        out.push(Reason::derived(
            "N(MOBIKE_SUPPORTED): the responder supports MOBIKE too, so MOBIKE is in use.",
            "RFC 4555 §3.2 (M-3.2-1), §4.2.1 (M-4.2.1-1)",
        ));
    }
    if exchange == ExchangeType::IKE_AUTH
        && (has(ps, NotifyType::ADDITIONAL_IP4_ADDRESS)
            || has(ps, NotifyType::ADDITIONAL_IP6_ADDRESS))
    {
        out.push(Reason::derived(
            "Announces the responder's other addresses.",
            "RFC 4555 §3.4 (M-3.4-1)",
        ));
    }
    if has(ps, NotifyType::UNACCEPTABLE_ADDRESSES) {
        out.push(Reason::derived(
            "N(UNACCEPTABLE_ADDRESSES): the responder refuses the new addresses and keeps the SAs where they were.",
            "RFC 4555 §3.5, §4.1.1 (B-3.5-9)",
        ));
    }
    if has(ps, NotifyType::UNEXPECTED_NAT_DETECTED) {
        out.push(Reason::derived(
            "N(UNEXPECTED_NAT_DETECTED): the request's NO_NATS_ALLOWED did not match its IP header, so an address translator is on the way; the answer goes to the translated source.",
            "RFC 4555 §3.9 (M-3.9-2)",
        ));
    }
    if exchange == ExchangeType::CREATE_CHILD_SA {
        if let Some(n) = notifies(ps).find(|n| n.kind.value() < 16384) {
            out.push(Reason::derived(
                format!(
                    "N({}): the responder makes no new Child SA; the old one stays.",
                    n.kind
                ),
                "RFC 7296 §1.3, §3.10.1",
            ));
        } else {
            out.extend(create_child_payloads(ps, false));
        }
    }
    out
}

/// The request a response answers: the packet delivered to the sender
/// just before, if it is that request; else the last request of that
/// exchange and message ID that reached the sender before the response.
fn answered_request<'c>(
    chart: &'c Chart,
    m: &MessageRow,
    trigger: Option<&Trigger>,
) -> Option<&'c MessageRow> {
    let What::Ike { exchange, mid, .. } = &m.what else {
        return None;
    };
    let is_request = |r: &MessageRow| matches!(&r.what, What::Ike { exchange: e, mid: n, response: false, .. } if e == exchange && n == mid);
    if let Some(Trigger::Packet { packet, .. }) = trigger
        && let Some(r) = chart.message(*packet)
        && is_request(r)
    {
        return Some(r);
    }
    chart
        .messages()
        .filter(|r| is_request(r) && r.to == Some(m.from) && r.arrived.is_some_and(|t| t <= m.sent))
        .last()
}

/// The last send of the same IKE octets by the same host before trace
/// index `at` and before time `before`: (time, src, dst).
fn previous_send(
    trace: &Trace,
    at: usize,
    node: &str,
    ike: &[u8],
    before: Time,
) -> Option<(Time, SocketAddr, SocketAddr)> {
    let earlier = trace.iter_to(at).rev().filter(|e| e.time < before);
    earlier.into_iter().find_map(|e| match &e.kind {
        TraceKind::Sent {
            node: n,
            src,
            dst,
            payload,
            ..
        } if n == node => match classify(payload, src.port()) {
            UdpPayload::Ike(b) if b == ike => Some((e.time, src.get(), dst.get())),
            _ => None,
        },
        _ => None,
    })
}

/// The first send of the same IKE octets by another host than `node`:
/// (that host, its packet, when).
fn first_copy(trace: &Trace, at: usize, node: &str, ike: &[u8]) -> Option<(Name, PacketId, Time)> {
    trace.iter_to(at).find_map(|e| match &e.kind {
        TraceKind::Sent {
            node: n,
            packet,
            src,
            dst,
            payload,
            ..
        } if n != node => match classify(payload, src.port()) {
            UdpPayload::Ike(b) if b == ike => Some((n.clone(), *packet, e.time)),
            _ => None,
        },
        _ => None,
    })
}

/// The first send of the same IKE octets by the same host.
fn first_send(
    trace: &Trace,
    at: usize,
    node: &str,
    ike: &[u8],
) -> Option<(SocketAddr, SocketAddr)> {
    trace.iter_to(at).find_map(|e| match &e.kind {
        TraceKind::Sent {
            node: n,
            src,
            dst,
            payload,
            ..
        } if n == node => match classify(payload, src.port()) {
            UdpPayload::Ike(b) if b == ike => Some((src.get(), dst.get())),
            _ => None,
        },
        _ => None,
    })
}

/// The sender's decisions of the moment, as the chart's notes word them.
fn noted(mo: &Moment) -> Vec<Reason> {
    mo.events
        .iter()
        .filter_map(|e| match &**e {
            Event::Note { note, .. } => {
                Some(Reason::noted(&mo.who, note.to_string(), note.rule().cite()))
            }
            Event::NatDetection {
                local_behind_nat,
                peer_behind_nat,
                ..
            } => Some(Reason::noted(
                &mo.who,
                match (local_behind_nat, peer_behind_nat) {
                    (false, false) => "NAT detection: no NAT",
                    (true, false) => "NAT detection: I am behind a NAT",
                    (false, true) => "NAT detection: peer is behind a NAT",
                    (true, true) => "NAT detection: NATs on both sides",
                },
                "RFC 7296 §2.23",
            )),
            Event::IpsecPathChanged {
                local,
                remote,
                udp_encap,
                ..
            } => Some(Reason::noted(
                &mo.who,
                format!(
                    "IPsec SAs: {local} <-> {remote}{}",
                    if *udp_encap { ", UDP-encapsulated" } else { "" }
                ),
                "RFC 4555 §3.5",
            )),
            _ => None,
        })
        .collect()
}

/// Why the chart's message `m` was sent, from the trace and its bytes.
pub fn why_sent(trace: &Trace, chart: &Chart, m: &MessageRow) -> Vec<Reason> {
    let Some(mo) = moment(trace, chart, m.packet) else {
        return Vec::new();
    };
    let mut out = Vec::new();
    if let Some(Trigger::Intervention { text, by_user }) = &mo.trigger {
        out.push(Reason::derived(
            format!(
                "Sent on the spot by {}: {text}.",
                if *by_user {
                    "your intervention"
                } else {
                    "the scenario's timeline"
                }
            ),
            "",
        ));
    }
    match &m.what {
        What::Ike { .. } => ike(trace, chart, m, &mo, &mut out),
        What::Keepalive => {
            let idle = trace.iter_to(mo.at).rev().find_map(|e| match &e.kind {
                TraceKind::Sent { node, dst, .. } if *node == mo.node && *dst == m.dst => {
                    Some(mo.time - e.time)
                }
                _ => None,
            });
            out.push(Reason::derived(
                format!(
                    "A NAT-keepalive: {} is behind a NAT and {}, so this one octet keeps the NAT's mapping open. The receiver ignores it; it is no sign of life.",
                    mo.who,
                    match idle {
                        Some(t) => format!("sent nothing else to {} for {}", m.dst, fmt_time(t)),
                        None => format!("had sent nothing to {} before", m.dst),
                    }
                ),
                "RFC 3948 §2.3 (U-2.3-1), §4 (U-4-2, U-4-1); RFC 7296 §2.23 (I-2.23-8)",
            ));
        }
        What::Esp { inner, udp, .. } => {
            out.push(Reason::derived(
                match inner.get() {
                    Some(i) => format!("Data through the tunnel, encrypted: {i}."),
                    None => "Data through the tunnel, encrypted (no key to open it).".to_string(),
                },
                "RFC 4303 §2",
            ));
            out.push(if *udp {
                Reason::derived(
                    "UDP-encapsulated on port 4500: NAT detection found a NAT on the path, and then both ends encapsulate their ESP.",
                    "RFC 7296 §2.23 (I-2.23-5); RFC 3948 §2.1 (U-2.1-1)",
                )
            } else {
                Reason::derived(
                    "Plain ESP (IP protocol 50): NAT detection found no NAT on this path.",
                    "RFC 7296 §2.23",
                )
            });
        }
        What::Other => out.push(Reason::derived(
            "Neither IKE, ESP nor a keepalive.",
            "RFC 3948 §2",
        )),
    }
    out
}

fn ike(trace: &Trace, chart: &Chart, m: &MessageRow, mo: &Moment, out: &mut Vec<Reason>) {
    let What::Ike {
        exchange: _,
        mid,
        response,
        ..
    } = &m.what
    else {
        return;
    };
    let Some(datagram) = trace.sent_payload(m.packet) else {
        return;
    };
    let UdpPayload::Ike(ike) = classify(datagram, m.src.port()) else {
        return;
    };
    let Ok(h) = Header::parse(ike) else {
        out.push(Reason::derived(
            "The IKE header does not parse, so the receiver drops it.",
            "RFC 7296 §3.1",
        ));
        return;
    };
    let ps = payloads(ike, m);
    if *response {
        let request = answered_request(chart, m, mo.trigger.as_ref());
        let req_ps = request.and_then(|r| {
            let b = trace.sent_payload(r.packet)?;
            match classify(b, r.src.port()) {
                UdpPayload::Ike(ike) => Some(payloads(ike, r)),
                _ => None,
            }
        });
        out.push(match request {
            Some(r) => {
                let (from, at) = r.received_as.unwrap_or((r.src, r.dst));
                let nat = if from != r.src {
                    format!(" (a NAT's address: it was sent from {})", r.src)
                } else {
                    String::new()
                };
                let follows = m.dst == from && m.src == at;
                Reason::derived(
                    format!(
                        "Answers {} that arrived at {} from {from}{nat} at {at}. A response goes back to the address and port its request came from, from the address it arrived at{}.",
                        r.title(),
                        r.arrived.map(fmt_time).unwrap_or_default(),
                        if follows {
                            String::new()
                        } else {
                            format!(" — this one goes from {} to {}", m.src, m.dst)
                        }
                    ),
                    "RFC 7296 §2.11 (I-2.11-2, I-2.11-3)",
                )
            }
            None => Reason::derived(
                "A response goes back to the address and port its request came from, from the address it arrived at.",
                "RFC 7296 §2.11 (I-2.11-2, I-2.11-3)",
            ),
        });
        if m.retransmission {
            out.push(Reason::derived(
                "The request came again, so the response goes again: the very octets sent before, kept for this; a responder never resends on its own.",
                "RFC 7296 §2.1 (I-2.1-1, I-2.1-4)",
            ));
        }
        if let Some(rp) = &req_ps
            && kind_of(h.exchange, rp) == "UPDATE_SA_ADDRESSES"
        {
            for e in &mo.events {
                if let Event::IkePathChanged { local, remote, .. } = &**e {
                    out.push(Reason::derived(
                        format!(
                            "The responder moved the IKE SA to {local} <-> {remote}: the addresses from the update's IP header, not from its payloads."
                        ),
                        "RFC 4555 §3.5 (B-3.5-10)",
                    ));
                }
            }
        }
        out.extend(response_payloads(h.exchange, &ps, req_ps.as_deref()));
        let n = noted(mo);
        if !n.is_empty() {
            out.extend(n);
        }
        return;
    }
    // A request: the kind the sender reported for it, with its send count.
    let reported = mo.events.iter().find_map(|e| match &**e {
        Event::RequestSent {
            spi_i,
            what,
            mid: n,
            retransmission,
            next_at,
            probing,
            ..
        } if *spi_i == h.spi_i && n == mid => Some((*what, *retransmission, *next_at, *probing)),
        _ => None,
    });
    // Not reported by the sender's IKE daemon: a copy of someone else's
    // message (a replay), or one that does not open (a forgery)?
    let unopened = match &m.what {
        What::Ike { error, .. } => error.clone(),
        _ => None,
    };
    let copy_of = match reported {
        Some(_) => None,
        None => first_copy(trace, mo.at, &mo.node, ike),
    };
    match (reported, &copy_of, &unopened) {
        (Some((kind, ..)), _, _) => out.extend(request_kind(kind)),
        (None, Some((node, packet, t)), _) => out.push(Reason::derived(
            format!(
                "No IKE daemon of {} made it: it is a copy of {}'s {}, sent at {}. A replay: the receiver takes it for a retransmission, sends its response again and changes nothing.",
                mo.who,
                label(chart, node),
                chart.message(*packet).map(|p| p.title()).unwrap_or_else(|| "message".into()),
                fmt_time(*t)
            ),
            "RFC 7296 §2.1 (I-2.1-2)",
        )),
        (None, None, Some(e)) => out.push(Reason::derived(
            format!(
                "Its SK payload does not open with the IKE SA's keys ({e}): no end of the IKE SA made it, and the receiver drops it."
            ),
            "RFC 7296 §3.14",
        )),
        (None, None, None) => out.extend(request_kind(kind_of(h.exchange, &ps))),
    }
    if let Some(Trigger::Packet { packet, src, .. }) = &mo.trigger
        && let Some(p) = chart.message(*packet)
    {
        out.push(Reason::derived(
            format!(
                "Sent on receiving {} from {src} at {}.",
                p.title(),
                fmt_time(mo.time)
            ),
            "",
        ));
    }
    out.extend(noted(mo));
    // The previous send at an earlier moment (path testing sends copies
    // over several pairs at once).
    let previous = previous_send(trace, mo.at, &mo.node, ike, mo.time);
    match (reported, previous) {
        (Some((_, n, next_at, probing)), _) if n > 0 || m.retransmission => {
            let gap = previous
                .map(|(t, _, _)| format!(", {} after the previous send", fmt_time(mo.time - t)))
                .unwrap_or_default();
            let next = if next_at > mo.time {
                format!("; the next is due at {} unless it is answered", fmt_time(next_at))
            } else {
                String::new()
            };
            if probing {
                out.push(Reason::derived(
                    format!(
                        "Path testing: send {} of request #{mid}, the same octets over every address pair at once (this copy {} -> {}){gap}; whichever pair answers works{next}.",
                        n + 1,
                        m.src,
                        m.dst
                    ),
                    "RFC 4555 §3.10; RFC 7296 §2.1 (I-2.1-7)",
                ));
            } else {
                out.push(Reason::derived(
                    format!(
                        "Retransmission {n} of request #{mid}: the same octets from the IKE header on, the same message ID{gap}, each wait longer than the last{next}."
                    ),
                    "RFC 7296 §2.1 (I-2.1-7), §2.2 (I-2.2-1), §2.4 (I-2.4-2)",
                ));
            }
            if !probing
                && let Some((src, dst)) = first_send(trace, mo.at, &mo.node, ike)
                && (src, dst) != (m.src, m.dst)
            {
                out.push(if h.exchange == ExchangeType::IKE_SA_INIT {
                    Reason::derived(
                        format!(
                            "It first went {src} -> {dst}; the initiator tries other address pairs when retransmitting IKE_SA_INIT."
                        ),
                        "RFC 4555 §3.1 (M-3.1-1)",
                    )
                } else {
                    Reason::derived(
                        format!(
                            "It first went {src} -> {dst}: an outstanding request is retransmitted to the new addresses after a move."
                        ),
                        "RFC 4555 §3.5 (B-3.5-4)",
                    )
                });
            }
        }
        (Some((_, _, next_at, _)), _) => out.push(Reason::derived(
            format!(
                "First send of request #{mid}. The sender keeps it until it is answered, retransmits it from {} on if it is not, and in the end gives the IKE SA up.",
                fmt_time(next_at)
            ),
            "RFC 7296 §2.1 (I-2.1-3, I-2.1-6)",
        )),
        (None, Some((t, _, _))) => out.push(Reason::derived(
            format!(
                "The same octets as a message sent {} earlier: a retransmission.",
                fmt_time(mo.time - t)
            ),
            "RFC 7296 §2.1 (I-2.1-7)",
        )),
        (None, None) => {}
    }
    if h.exchange == ExchangeType::IKE_AUTH && m.src.port() == NATT_PORT {
        out.push(Reason::derived(
            "On UDP port 4500, after the four-octet non-ESP marker: with MOBIKE and NAT traversal both supported, the initiator moves to port 4500 even when there is no NAT.",
            "RFC 4555 §3.3 (M-3.3-1); RFC 3948 §2.2 (U-2.2-1)",
        ));
    }
    out.extend(request_payloads(h.exchange, &ps, h.flags.initiator()));
}

#[cfg(test)]
mod tests {
    use super::*;
    use mobike_sim::World;

    /// The default scenario (its timeline breaks the Wi-Fi link at 12 s).
    fn run(until: u64) -> (Chart, World) {
        let scenario = crate::topology::tests::example("wifi-to-lte");
        let mut world = World::new(&scenario);
        world.run_until(until * mobike_protocol::SEC);
        (Chart::build(&scenario, world.trace()), world)
    }

    fn ids(r: &[Reason]) -> Vec<String> {
        r.iter()
            .flat_map(|r| r.rules.iter().map(|l| l.id.clone()))
            .collect()
    }

    fn find<'c>(chart: &'c Chart, title: &str, notation: &str) -> Vec<&'c MessageRow> {
        chart
            .messages()
            .filter(|m| m.title() == title && m.notation().contains(notation))
            .collect()
    }

    #[test]
    fn every_rule_of_every_reason_has_its_text() {
        let (chart, world) = run(30);
        let mut n = 0;
        for m in chart.messages() {
            for r in why_sent(world.trace(), &chart, m) {
                assert!(!r.text.is_empty());
                for l in &r.rules {
                    assert!(l.known, "{} in {}", l.id, r.cite);
                    n += 1;
                }
            }
        }
        assert!(n > 50, "{n} rules cited");
    }

    #[test]
    fn the_update_says_what_the_laptop_decided_and_what_the_rfc_says() {
        let (chart, world) = run(30);
        let update = find(&chart, "INFORMATIONAL request #5", "UPDATE_SA_ADDRESSES");
        let why = why_sent(world.trace(), &chart, update[0]);
        let noted: Vec<&Reason> = why.iter().filter(|r| r.noted_by.is_some()).collect();
        assert!(
            noted.iter().any(|r| r.noted_by.as_deref() == Some("Laptop")
                && r.text
                    .starts_with("path test answered on another address pair")
                && r.cite.contains("B-3.7-1")),
            "{why:#?}"
        );
        let ids = ids(&why);
        for id in ["B-3.5-1", "B-3.5-7", "M-3.7-4", "B-3.5-13", "I-2.1-3"] {
            assert!(ids.iter().any(|i| i == id), "{id} in {ids:?}");
        }
        assert!(why.iter().any(|r| {
            r.text
                .starts_with("Sent on receiving INFORMATIONAL response #4")
        }));
    }

    #[test]
    fn the_update_response_goes_where_the_request_came_from_and_echoes_cookie2() {
        let (chart, world) = run(30);
        let resp = find(&chart, "INFORMATIONAL response #5", "COOKIE2");
        let why = why_sent(world.trace(), &chart, resp[0]);
        let first = &why[0];
        assert!(
            first.text.starts_with("Answers INFORMATIONAL request #5 that arrived at 18.291s from 198.51.100.1:4500 (a NAT's address: it was sent from 10.64.0.2:4500)"),
            "{}",
            first.text
        );
        assert!(!first.text.contains("this one goes"));
        let ids = ids(&why);
        for id in ["I-2.11-2", "I-2.11-3", "M-3.7-5", "M-3.8-2", "B-3.5-10"] {
            assert!(ids.iter().any(|i| i == id), "{id} in {ids:?}");
        }
        assert!(
            why.iter()
                .any(|r| r.text.contains("is the request's, copied as it was"))
        );
    }

    #[test]
    fn retransmissions_and_path_tests_cite_same_octets_and_backoff() {
        let (chart, world) = run(30);
        let checks = find(&chart, "INFORMATIONAL request #4", "");
        assert!(
            checks.len() >= 4,
            "first send, one retransmission, two probes"
        );
        let second = why_sent(world.trace(), &chart, checks[1]);
        assert!(
            second
                .iter()
                .any(|r| r.text.starts_with("Retransmission 1 of request #4")
                    && r.text.contains("1.000s after the previous send")),
            "{second:#?}"
        );
        assert!(ids(&second).contains(&"I-2.4-2".to_string()));
        let probe = why_sent(world.trace(), &chart, checks[3]);
        assert!(
            probe
                .iter()
                .any(|r| r.noted_by.is_some() && r.cite.contains("I-2.1-7")),
            "the laptop noted that path testing starts"
        );
        assert!(
            probe
                .iter()
                .any(|r| r.text.starts_with("Path testing: send 3"))
        );
        assert!(
            ids(&probe).contains(&"M-3.8-3".to_string()),
            "NAT-D in a liveness check"
        );
    }

    #[test]
    fn the_gateway_checks_return_routability_and_ike_auth_moves_to_4500() {
        let (chart, world) = run(30);
        let rr = find(&chart, "INFORMATIONAL request #0", "COOKIE2");
        let why = why_sent(world.trace(), &chart, rr[0]);
        assert!(
            why.iter()
                .any(|r| r.noted_by.as_deref() == Some("VPN gateway")
                    && r.text.starts_with("checking return routability"))
        );
        assert!(ids(&why).contains(&"M-3.7-1".to_string()));
        let auth = find(&chart, "IKE_AUTH request #1", "");
        let ids = ids(&why_sent(world.trace(), &chart, auth[0]));
        for id in ["M-3.3-1", "U-2.2-1", "M-3.2-1", "M-3.4-1"] {
            assert!(ids.iter().any(|i| i == id), "{id} in {ids:?}");
        }
        let init = find(&chart, "IKE_SA_INIT request #0", "");
        let ids = self::ids(&why_sent(world.trace(), &chart, init[0]));
        assert!(ids.contains(&"I-2.23-6".to_string()), "{ids:?}");
    }

    #[test]
    fn a_replay_and_a_forgery_are_named_as_such() {
        let scenario = crate::topology::tests::example("attacker-spoofed-update");
        let mut world = World::new(&scenario);
        world.run_until(20 * mobike_protocol::SEC);
        let chart = Chart::build(&scenario, world.trace());
        let mallory: Vec<&MessageRow> = chart
            .messages()
            .filter(|m| m.src.ip().to_string() == "192.0.2.66")
            .collect();
        assert_eq!(mallory.len(), 2, "a forgery and a replay");
        let forged = why_sent(world.trace(), &chart, mallory[0]);
        assert!(
            forged[0]
                .text
                .starts_with("Sent on the spot by the scenario's timeline: Mallory sends a forged")
        );
        assert!(
            forged
                .iter()
                .any(|r| r.text.starts_with("Its SK payload does not open")),
            "{forged:#?}"
        );
        assert!(
            !forged
                .iter()
                .any(|r| r.text.starts_with("A liveness check"))
        );
        let replayed = why_sent(world.trace(), &chart, mallory[1]);
        assert!(
            replayed.iter().any(|r| r
                .text
                .contains("it is a copy of Laptop's INFORMATIONAL request #3")
                && r.cite.contains("I-2.1-2")),
            "{replayed:#?}"
        );
        assert!(
            !replayed
                .iter()
                .any(|r| r.text.starts_with("Asks the peer to move"))
        );
    }

    #[test]
    fn keepalives_and_esp_say_why_too() {
        let scenario = crate::topology::tests::example("nat-keepalives");
        let mut world = World::new(&scenario);
        world.run_until(60 * mobike_protocol::SEC);
        let chart = Chart::build(&scenario, world.trace());
        let k = chart
            .messages()
            .find(|m| matches!(m.what, What::Keepalive))
            .expect("a keepalive");
        let why = why_sent(world.trace(), &chart, k);
        assert!(why[0].text.starts_with("A NAT-keepalive"), "{why:#?}");
        assert!(ids(&why).contains(&"U-4-2".to_string()));
        let (chart, world) = run(30);
        let esp = chart
            .messages()
            .find(|m| matches!(m.what, What::Esp { udp: true, .. }))
            .unwrap();
        let why = why_sent(world.trace(), &chart, esp);
        assert!(why[0].text.contains("ICMP echo"), "{why:#?}");
        assert!(ids(&why).contains(&"I-2.23-5".to_string()));
    }
}
