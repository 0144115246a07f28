//! RFC 4555 §2.2's two example exchanges, line by line: the figures (as
//! transcribed in shared/spec/mobike-reference.md §3, E1 and E2) against the
//! messages the simulator puts on the wire for examples/rfc4555-e1-mobility
//! and examples/rfc4555-e2-multihoming. Each line checks direction, source and
//! destination address and port, exchange, message ID, the header flags (read
//! from the octets) and the payloads (decrypted).
//!
//! What may differ from the figures, and why:
//! - CERT and CP are "for illustrative purposes only" (RFC 4555 §1.3): the
//!   playground authenticates with a pre-shared key and requests no inner
//!   address, so they are left out of the expected lines;
//! - address lists may ride along (N(ADDITIONAL_*), N(NO_ADDITIONAL_ADDRESSES),
//!   RFC 4555 §3.4 and M-3.6-1), and an UPDATE_SA_ADDRESSES may carry COOKIE2
//!   (§3.5, §3.7; the shape of reference E4);
//! - an IKE_SA_INIT request sent by a host with two addresses carries one
//!   N(NAT_DETECTION_SOURCE_IP) per address (RFC 7296 §2.23, I-2.23-7, and
//!   RFC 4555 §3.1), so E1's line 1 has two;
//! - where E2 says "...", more retransmissions of the same request to the
//!   old address may come.

use mobike_render::Chart;
use mobike_render::chart::{MessageRow, What};
use mobike_sim::{Scenario, World};
use mobike_wire::header::Header;
use mobike_wire::udp::{UdpPayload, classify};

const I1: &str = "192.0.2.10";
const I2: &str = "198.51.100.10";
const R1: &str = "203.0.113.10";
/// E2's second responder address in examples/rfc4555-e2-multihoming.
const R2: &str = "198.51.100.20";

/// One line of a figure: sender, addresses, exchange, message ID, flags,
/// payloads (SK contents after "SK").
#[derive(Clone)]
struct Line {
    by_initiator: bool,
    src: (&'static str, u16),
    dst: (&'static str, u16),
    exchange: &'static str,
    mid: u32,
    flags: u8,
    payloads: &'static str,
}

const fn l(
    by_initiator: bool,
    src: (&'static str, u16),
    dst: (&'static str, u16),
    exchange: &'static str,
    mid: u32,
    flags: u8,
    payloads: &'static str,
) -> Line {
    Line {
        by_initiator,
        src,
        dst,
        exchange,
        mid,
        flags,
        payloads,
    }
}

const NATD: &str = "N(NAT_DETECTION_SOURCE_IP) N(NAT_DETECTION_DESTINATION_IP)";

fn run(name: &str) -> (Scenario, World, Chart) {
    let path = format!("{}/../../examples/{name}.toml", env!("CARGO_MANIFEST_DIR"));
    let s = Scenario::from_toml(&std::fs::read_to_string(path).unwrap()).unwrap();
    let mut w = World::new(&s);
    w.run_until(s.until.micros());
    let chart = Chart::build(&s, w.trace());
    (s, w, chart)
}

/// Payload tokens of a message row: outer ones, then "SK" and the inner ones.
fn tokens(m: &MessageRow) -> Vec<String> {
    let n = m.notation();
    let n = n.strip_prefix("HDR, ").unwrap_or(&n).to_string();
    let mut out = Vec::new();
    match n.split_once("SK {") {
        Some((outer, inner)) => {
            out.extend(
                outer
                    .split(", ")
                    .filter(|t| !t.is_empty())
                    .map(String::from),
            );
            out.push("SK".into());
            let inner = inner.trim_end_matches('}');
            out.extend(
                inner
                    .split(", ")
                    .filter(|t| !t.is_empty())
                    .map(String::from),
            );
        }
        None => out.extend(n.split(", ").map(String::from)),
    }
    out
}

/// Extra payloads the figures leave out but RFC 4555 allows (see the top).
fn optional(t: &str) -> bool {
    t.starts_with("N(ADDITIONAL_IP") || t == "N(NO_ADDITIONAL_ADDRESSES)" || t == "N(COOKIE2)"
}

fn check(line_no: usize, want: &Line, got: &MessageRow, w: &World, initiator_lane: usize) {
    let what = format!("line {line_no}: {} {}", got.title(), got.notation());
    assert_eq!(
        got.from == initiator_lane,
        want.by_initiator,
        "{what}: sender"
    );
    assert_eq!(
        (got.src.ip().to_string().as_str(), got.src.port()),
        want.src,
        "{what}: source"
    );
    assert_eq!(
        (got.dst.ip().to_string().as_str(), got.dst.port()),
        want.dst,
        "{what}: destination"
    );
    let What::Ike { exchange, mid, .. } = &got.what else {
        panic!("{what}: not IKE")
    };
    assert_eq!(exchange, want.exchange, "{what}: exchange");
    assert_eq!(*mid, want.mid, "{what}: message ID");
    let raw = w.trace().sent_payload(got.packet).unwrap();
    let UdpPayload::Ike(ike) = classify(raw, got.src.port()) else {
        panic!("{what}: not IKE on the wire")
    };
    let h = Header::parse(ike).unwrap();
    assert_eq!(h.flags.0, want.flags, "{what}: flags");
    let expected: Vec<&str> = want.payloads.split_whitespace().collect();
    let mut actual: Vec<String> = tokens(got)
        .into_iter()
        .filter(|t| !optional(t) || expected.contains(&t.as_str()))
        .collect();
    if want.exchange == "IKE_SA_INIT" && want.by_initiator {
        actual.dedup_by(|a, b| a == b && a == "N(NAT_DETECTION_SOURCE_IP)");
    }
    assert_eq!(actual, expected, "{what}: payloads");
}

/// Lines 1-4 of both figures: IKE_SA_INIT and IKE_AUTH between I1 and R1,
/// with the responder's IKE_AUTH payloads given.
fn setup(auth_response: &'static str) -> [Line; 4] {
    [
        l(
            true,
            (I1, 500),
            (R1, 500),
            "IKE_SA_INIT",
            0,
            0x08,
            const_format("SA KE Ni", NATD),
        ),
        l(
            false,
            (R1, 500),
            (I1, 500),
            "IKE_SA_INIT",
            0,
            0x20,
            const_format("SA KE Nr", NATD),
        ),
        l(
            true,
            (I1, 4500),
            (R1, 4500),
            "IKE_AUTH",
            1,
            0x08,
            "SK IDi AUTH SA TSi TSr N(MOBIKE_SUPPORTED)",
        ),
        l(
            false,
            (R1, 4500),
            (I1, 4500),
            "IKE_AUTH",
            1,
            0x20,
            auth_response,
        ),
    ]
}

/// The IKE message rows of the chart, in order.
fn ike_rows(chart: &Chart) -> Vec<&MessageRow> {
    chart.messages().filter(|m| m.is_ike()).collect()
}

#[test]
fn rfc4555_e1_mobility_line_by_line() {
    let (_, w, chart) = run("rfc4555-e1-mobility");
    let mut figure = setup("SK IDr AUTH SA TSi TSr N(MOBIKE_SUPPORTED)").to_vec();
    figure.extend([
        // The initiator's address changes I1 -> I2.
        l(
            true,
            (I2, 4500),
            (R1, 4500),
            "INFORMATIONAL",
            2,
            0x08,
            "SK N(UPDATE_SA_ADDRESSES) N(NAT_DETECTION_SOURCE_IP) N(NAT_DETECTION_DESTINATION_IP)",
        ),
        l(
            false,
            (R1, 4500),
            (I2, 4500),
            "INFORMATIONAL",
            2,
            0x20,
            "SK N(NAT_DETECTION_SOURCE_IP) N(NAT_DETECTION_DESTINATION_IP)",
        ),
        // Return routability.
        l(
            false,
            (R1, 4500),
            (I2, 4500),
            "INFORMATIONAL",
            0,
            0x00,
            "SK N(COOKIE2)",
        ),
        l(
            true,
            (I2, 4500),
            (R1, 4500),
            "INFORMATIONAL",
            0,
            0x28,
            "SK N(COOKIE2)",
        ),
    ]);
    let rows = ike_rows(&chart);
    let lane = 0;
    for (k, want) in figure.iter().enumerate() {
        check(k + 1, want, rows[k], &w, lane);
    }
    // Line 8 echoes line 7's COOKIE2, and the responder's ESP goes to I2
    // only after it (RFC 4555 §2.2 narrative).
    let cookie = |m: &MessageRow| match &m.what {
        What::Ike { inner: Some(p), .. } => p.iter().find_map(|p| {
            p.as_notify()
                .filter(|n| n.kind == mobike_wire::registry::NotifyType::COOKIE2)
                .map(|n| n.data.clone())
        }),
        _ => None,
    };
    assert_eq!(cookie(rows[6]), cookie(rows[7]));
    assert!(cookie(rows[6]).is_some());
    let first_esp_to_i2 = chart
        .messages()
        .find(|m| matches!(m.what, What::Esp { .. }) && m.from == 1 && m.dst.ip().to_string() == I2)
        .expect("responder ESP to the new address");
    assert!(first_esp_to_i2.sent >= rows[7].arrived.unwrap());
}

#[test]
fn rfc4555_e2_multihoming_line_by_line() {
    let (_, w, chart) = run("rfc4555-e2-multihoming");
    let rows = ike_rows(&chart);
    let mut head =
        setup("SK IDr AUTH SA TSi TSr N(MOBIKE_SUPPORTED) N(ADDITIONAL_IP4_ADDRESS)").to_vec();
    head.extend([
        // The current pair is suspected: liveness check, retransmitted, lost.
        l(
            true,
            (I1, 4500),
            (R1, 4500),
            "INFORMATIONAL",
            2,
            0x08,
            "SK N(NAT_DETECTION_SOURCE_IP) N(NAT_DETECTION_DESTINATION_IP)",
        ),
        l(
            true,
            (I1, 4500),
            (R1, 4500),
            "INFORMATIONAL",
            2,
            0x08,
            "SK N(NAT_DETECTION_SOURCE_IP) N(NAT_DETECTION_DESTINATION_IP)",
        ),
    ]);
    for (k, want) in head.iter().enumerate() {
        check(k + 1, want, rows[k], &w, 0);
    }
    assert!(rows[4].lost.is_some() && rows[5].lost.is_some());
    // "...": further copies to R1, all lost.
    let mut k = head.len();
    while rows[k].dst.ip().to_string() == R1 {
        assert!(rows[k].lost.is_some(), "line {}: lost", k + 1);
        assert!(matches!(rows[k].what, What::Ike { mid: 2, .. }));
        k += 1;
    }
    let tail = [
        // The other pair, the same request (reference: "2*", strongSwan's form).
        l(
            true,
            (I1, 4500),
            (R2, 4500),
            "INFORMATIONAL",
            2,
            0x08,
            "SK N(NAT_DETECTION_SOURCE_IP) N(NAT_DETECTION_DESTINATION_IP)",
        ),
        l(
            false,
            (R2, 4500),
            (I1, 4500),
            "INFORMATIONAL",
            2,
            0x20,
            "SK N(NAT_DETECTION_SOURCE_IP) N(NAT_DETECTION_DESTINATION_IP)",
        ),
        // It worked: the initiator asks the peer to switch.
        l(
            true,
            (I1, 4500),
            (R2, 4500),
            "INFORMATIONAL",
            3,
            0x08,
            "SK N(UPDATE_SA_ADDRESSES) N(NAT_DETECTION_SOURCE_IP) N(NAT_DETECTION_DESTINATION_IP) N(COOKIE2)",
        ),
        l(
            false,
            (R2, 4500),
            (I1, 4500),
            "INFORMATIONAL",
            3,
            0x20,
            "SK N(NAT_DETECTION_SOURCE_IP) N(NAT_DETECTION_DESTINATION_IP) N(COOKIE2)",
        ),
    ];
    for (j, want) in tail.iter().enumerate() {
        check(7 + j, want, rows[k + j], &w, 0);
    }
    // Lines 7-8 moved nothing on the responder (M-3.8-6): its first IPsec
    // path change comes with line 9.
    assert!(rows[k + 1].arrived.is_some());
}

fn const_format(a: &str, b: &str) -> &'static str {
    Box::leak(format!("{a} {b}").into_boxed_str())
}
