//! Codec properties of the wire layer: every payload and notify survives
//! emit → parse; whole plain and encrypted messages survive emit → parse /
//! decrypt; field spans tile every message; malformed input is rejected
//! with a typed error; and no parser panics on arbitrary or mutated bytes
//! (DESIGN.md §2: "Parsing untrusted bytes never panics").
//!
//! Checklist ids from `shared/spec/mobike-reference.md` §2.14 are named where
//! a test checks one of its rules.

use mobike_wire::crypto::GcmKey;
use mobike_wire::header::Flags;
use mobike_wire::message::{self, Message};
use mobike_wire::notify::{GwIdentity, NotifyData};
use mobike_wire::payload::{
    CfgAttribute, CfgType, Configuration, Delete, Identification, Notify, Payload, Proposal,
    TrafficSelector, Transform, emit_chain, parse_chain,
};
use mobike_wire::registry::{ExchangeType, NotifyType, PayloadType, ProtocolId};
use mobike_wire::spans::{
    FieldSpan, chain_spans, decrypt_plaintext, message_spans, plaintext_spans,
};
use mobike_wire::{Header, WireError};
use proptest::collection::vec;
use proptest::prelude::*;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};

// ---------------------------------------------------------------------------
// Strategies: arbitrary *valid* parsed forms
// ---------------------------------------------------------------------------

fn bytes(max: usize) -> impl Strategy<Value = Vec<u8>> {
    vec(any::<u8>(), 0..=max)
}

fn ipv4() -> impl Strategy<Value = Ipv4Addr> {
    any::<[u8; 4]>().prop_map(Ipv4Addr::from)
}

fn ipv6() -> impl Strategy<Value = Ipv6Addr> {
    any::<[u8; 16]>().prop_map(Ipv6Addr::from)
}

fn transform() -> impl Strategy<Value = Transform> {
    (
        any::<u8>(),
        any::<u16>(),
        proptest::option::of(any::<u16>()),
    )
        .prop_map(|(kind, id, key_length)| Transform {
            kind: kind.into(),
            id,
            key_length,
        })
}

fn proposal() -> impl Strategy<Value = Proposal> {
    (any::<u8>(), any::<u8>(), bytes(8), vec(transform(), 0..6)).prop_map(
        |(number, protocol, spi, transforms)| Proposal {
            number,
            protocol: protocol.into(),
            spi,
            transforms,
        },
    )
}

fn identification() -> impl Strategy<Value = Identification> {
    prop_oneof![
        ipv4().prop_map(|a| Identification::ip(IpAddr::V4(a))),
        ipv6().prop_map(|a| Identification::ip(IpAddr::V6(a))),
        "[a-z0-9.-]{1,40}".prop_map(|s| Identification::fqdn(&s)),
        "[a-z]{1,10}@[a-z.]{1,20}".prop_map(|s| Identification::rfc822(&s)),
        bytes(32).prop_map(|b| Identification::key_id(&b)),
        (
            any::<u8>().prop_filter("not an address type", |t| *t != 1 && *t != 5),
            bytes(32)
        )
            .prop_map(|(id_type, data)| Identification { id_type, data }),
    ]
}

fn traffic_selector() -> impl Strategy<Value = TrafficSelector> {
    let v4 = (ipv4(), ipv4()).prop_map(|(a, b)| (IpAddr::V4(a), IpAddr::V4(b)));
    let v6 = (ipv6(), ipv6()).prop_map(|(a, b)| (IpAddr::V6(a), IpAddr::V6(b)));
    (prop_oneof![v4, v6], any::<u8>(), any::<u16>(), any::<u16>()).prop_map(
        |((start, end), ip_protocol, start_port, end_port)| TrafficSelector {
            ip_protocol,
            start_port,
            end_port,
            start,
            end,
        },
    )
}

fn notify() -> impl Strategy<Value = Notify> {
    (any::<u8>(), bytes(8), any::<u16>(), bytes(80)).prop_map(|(protocol_id, spi, kind, data)| {
        Notify {
            protocol_id,
            spi,
            kind: kind.into(),
            data,
        }
    })
}

fn delete() -> impl Strategy<Value = Delete> {
    prop_oneof![
        (0usize..3).prop_map(|n| Delete {
            protocol: ProtocolId::IKE,
            spi_size: 0,
            spis: vec![Vec::new(); n],
        }),
        (
            prop_oneof![Just(ProtocolId::AH), Just(ProtocolId::ESP)],
            vec(any::<u32>(), 0..6)
        )
            .prop_map(|(protocol, spis)| Delete {
                protocol,
                spi_size: 4,
                spis: spis.iter().map(|s| s.to_be_bytes().to_vec()).collect(),
            }),
        (prop_oneof![Just(0u8), 4u8..=255], 1u8..=8, 0usize..4).prop_flat_map(|(p, size, n)| vec(
            vec(any::<u8>(), size as usize),
            n
        )
        .prop_map(move |spis| Delete {
            protocol: p.into(),
            spi_size: size,
            spis,
        })),
    ]
}

fn cfg_attribute() -> impl Strategy<Value = CfgAttribute> {
    prop_oneof![
        proptest::option::of(ipv4()).prop_map(CfgAttribute::InternalIp4Address),
        proptest::option::of(ipv4()).prop_map(CfgAttribute::InternalIp4Netmask),
        proptest::option::of(ipv4()).prop_map(CfgAttribute::InternalIp4Dns),
        proptest::option::of((ipv6(), any::<u8>())).prop_map(CfgAttribute::InternalIp6Address),
        proptest::option::of(ipv6()).prop_map(CfgAttribute::InternalIp6Dns),
        (
            (0u16..0x8000).prop_filter("decoded types", |k| ![1, 2, 3, 8, 10].contains(k)),
            bytes(24)
        )
            .prop_map(|(kind, value)| CfgAttribute::Raw { kind, value }),
    ]
}

fn configuration() -> impl Strategy<Value = Configuration> {
    (any::<u8>(), vec(cfg_attribute(), 0..6)).prop_map(|(t, attributes)| Configuration {
        cfg_type: CfgType::from(t),
        attributes,
    })
}

/// Payload types the crate decodes into their own variant; an `Unknown`
/// payload must have another type to come back as `Unknown`.
fn decoded_type(t: u8) -> bool {
    matches!(t, 0 | 33..=36 | 38..=47)
}

fn unknown_payload() -> impl Strategy<Value = Payload> {
    (
        any::<u8>().prop_filter("decoded types", |t| !decoded_type(*t)),
        any::<bool>(),
        bytes(40),
    )
        .prop_map(|(t, c, body)| {
            let kind = PayloadType::from(t);
            Payload::Unknown {
                kind,
                // RFC 7296 §2.5: an unknown type with C set rejects the
                // message, so only named-but-undecoded types may be critical.
                critical: c && kind.name().is_some(),
                body,
            }
        })
}

/// Every payload variant but SK (which lives at the message level).
fn payload() -> impl Strategy<Value = Payload> {
    prop_oneof![
        vec(proposal(), 1..4).prop_map(Payload::Sa),
        (any::<u16>(), bytes(64)).prop_map(|(group, data)| Payload::Ke { group, data }),
        identification().prop_map(Payload::IdI),
        identification().prop_map(Payload::IdR),
        (any::<u8>(), bytes(64)).prop_map(|(method, data)| Payload::Auth { method, data }),
        vec(any::<u8>(), 16..=256).prop_map(Payload::Nonce),
        notify().prop_map(Payload::Notify),
        vec(traffic_selector(), 0..4).prop_map(Payload::TsI),
        vec(traffic_selector(), 0..4).prop_map(Payload::TsR),
        delete().prop_map(Payload::Delete),
        bytes(40).prop_map(Payload::Vendor),
        configuration().prop_map(Payload::Cp),
        (any::<u8>(), bytes(60)).prop_map(|(encoding, data)| Payload::CertReq { encoding, data }),
        unknown_payload(),
    ]
}

fn header() -> impl Strategy<Value = Header> {
    (
        any::<u64>(),
        any::<u64>(),
        any::<u8>(),
        any::<bool>(),
        any::<bool>(),
        any::<u32>(),
    )
        .prop_map(|(spi_i, spi_r, exchange, i, r, message_id)| Header {
            spi_i,
            spi_r,
            next_payload: PayloadType::None,
            exchange: ExchangeType::from(exchange),
            flags: Flags::new(i, r),
            message_id,
            length: 0,
        })
}

fn gcm_key() -> impl Strategy<Value = GcmKey> {
    prop_oneof![vec(any::<u8>(), 20), vec(any::<u8>(), 36)]
        .prop_map(|k| GcmKey::from_keymat(&k).expect("20 or 36 octets"))
}

fn gw_identity() -> impl Strategy<Value = GwIdentity> {
    prop_oneof![
        ipv4().prop_map(GwIdentity::Ipv4),
        ipv6().prop_map(GwIdentity::Ipv6),
        "[a-z0-9.-]{1,255}".prop_map(GwIdentity::Fqdn),
        (
            any::<u8>().prop_filter("typed identities", |k| !(1..=3).contains(k)),
            bytes(255)
        )
            .prop_map(|(kind, data)| GwIdentity::Other { kind, data }),
    ]
}

fn socket_pair() -> impl Strategy<Value = (SocketAddr, SocketAddr)> {
    let v4 = (ipv4(), ipv4()).prop_map(|(a, b)| (IpAddr::V4(a), IpAddr::V4(b)));
    let v6 = (ipv6(), ipv6()).prop_map(|(a, b)| (IpAddr::V6(a), IpAddr::V6(b)));
    (prop_oneof![v4, v6], any::<u16>(), any::<u16>())
        .prop_map(|((s, d), sp, dp)| (SocketAddr::new(s, sp), SocketAddr::new(d, dp)))
}

const EMPTY_KINDS: [NotifyType; 7] = [
    NotifyType::MOBIKE_SUPPORTED,
    NotifyType::UPDATE_SA_ADDRESSES,
    NotifyType::NO_ADDITIONAL_ADDRESSES,
    NotifyType::INITIAL_CONTACT,
    NotifyType::REDIRECT_SUPPORTED,
    NotifyType::UNACCEPTABLE_ADDRESSES,
    NotifyType::UNEXPECTED_NAT_DETECTED,
];

/// Every valid `NotifyData`.
fn notify_data() -> impl Strategy<Value = NotifyData> {
    prop_oneof![
        any::<[u8; 20]>().prop_map(NotifyData::NatDetectionSourceIp),
        any::<[u8; 20]>().prop_map(NotifyData::NatDetectionDestinationIp),
        vec(any::<u8>(), 1..=64).prop_map(NotifyData::Cookie),
        vec(any::<u8>(), 8..=64).prop_map(NotifyData::Cookie2),
        any::<u32>().prop_map(NotifyData::SetWindowSize),
        prop_oneof![ipv4().prop_map(IpAddr::V4), ipv6().prop_map(IpAddr::V6)]
            .prop_map(NotifyData::AdditionalAddress),
        socket_pair().prop_map(|(src, dst)| NotifyData::NoNatsAllowed { src, dst }),
        (
            gw_identity(),
            proptest::option::of(vec(any::<u8>(), 16..=256))
        )
            .prop_map(|(gw, nonce)| NotifyData::Redirect { gw, nonce }),
        gw_identity().prop_map(NotifyData::RedirectedFrom),
        proptest::sample::select(EMPTY_KINDS.to_vec()).prop_map(NotifyData::Empty),
        (
            (0u16..16384).prop_filter("generic error types", |k| matches!(
                NotifyData::parse_data((*k).into(), &[]),
                Ok(NotifyData::Error { .. })
            )),
            bytes(40)
        )
            .prop_map(|(k, data)| NotifyData::Error {
                kind: k.into(),
                data
            }),
        (
            (16384u16..=65535).prop_filter("status types without a typed view", |k| matches!(
                NotifyData::parse_data((*k).into(), &[]),
                Ok(NotifyData::Raw { .. })
            )),
            bytes(40)
        )
            .prop_map(|(k, data)| NotifyData::Raw {
                kind: k.into(),
                data
            }),
    ]
}

// ---------------------------------------------------------------------------
// Helpers
// ---------------------------------------------------------------------------

/// Leaf spans tile `base..base + len`: in order, non-empty, no gap, no overlap.
fn assert_tiles(spans: &[FieldSpan], base: usize, len: usize) {
    let mut at = base;
    for s in spans {
        assert_eq!(s.range.start, at, "gap or overlap at {s:?}");
        assert!(s.range.end > s.range.start, "empty span {s:?}");
        assert!(!s.path.is_empty() && !s.meaning.is_empty(), "{s:?}");
        at = s.range.end;
    }
    assert_eq!(at, base + len, "spans do not reach the end");
}

fn hdr(exchange: ExchangeType, mid: u32) -> Header {
    Header {
        spi_i: 0x9732_dff0_5cbe_f893,
        spi_r: 0x91d7_0a7f_afbf_4620,
        next_payload: PayloadType::None,
        exchange,
        flags: Flags::new(true, false),
        message_id: mid,
        length: 0,
    }
}

fn key() -> GcmKey {
    GcmKey::from_keymat(&[5u8; 20]).unwrap()
}

fn chain_bytes(payloads: &[Payload]) -> (PayloadType, Vec<u8>) {
    let mut out = Vec::new();
    let first = emit_chain(payloads, &mut out);
    (first, out)
}

// ---------------------------------------------------------------------------
// Round trips
// ---------------------------------------------------------------------------

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    /// Every payload variant: emit → parse gives the same parsed form, and
    /// its spans tile the emitted octets.
    #[test]
    fn every_payload_round_trips(p in payload()) {
        let (first, bytes) = chain_bytes(std::slice::from_ref(&p));
        prop_assert_eq!(parse_chain(first, &bytes)?, vec![p]);
        let spans = chain_spans(first, &bytes, 0)?;
        assert_tiles(&spans, 0, bytes.len());
    }

    /// A chain of payloads, each linked to the next by Next Payload.
    #[test]
    fn payload_chains_round_trip(ps in vec(payload(), 0..8)) {
        let (first, bytes) = chain_bytes(&ps);
        prop_assert_eq!(parse_chain(first, &bytes)?, ps);
        assert_tiles(&chain_spans(first, &bytes, 7)?, 7, bytes.len());
    }

    /// An unprotected message (IKE_SA_INIT style): header and payloads.
    #[test]
    fn plain_messages_round_trip(h in header(), ps in vec(payload(), 0..6)) {
        let bytes = Message::emit_plain(h, &ps);
        let m = Message::parse(&bytes)?;
        prop_assert_eq!(m.header.length as usize, bytes.len());
        prop_assert_eq!(m.header.message_id, h.message_id);
        prop_assert_eq!(m.header.flags, h.flags);
        prop_assert_eq!(&m.payloads, &ps);
        assert_tiles(&message_spans(&bytes)?, 0, bytes.len());
    }

    /// A protected message: Message::emit_encrypted then message::decrypt
    /// (RFC 7296 §3.14, RFC 5282 §5), with both AES key sizes.
    #[test]
    fn encrypted_messages_round_trip(
        h in header(),
        inner in vec(payload(), 0..6),
        key in gcm_key(),
        iv in any::<[u8; 8]>(),
    ) {
        let bytes = Message::emit_encrypted(h, &inner, &key, iv)?;
        let m = Message::parse(&bytes)?;
        prop_assert_eq!(m.payloads.len(), 1);
        let is_sk = matches!(m.payloads[0], Payload::Sk { .. });
        prop_assert!(is_sk, "not an SK payload");
        prop_assert_eq!(message::decrypt(&bytes, &key)?, inner);
        assert_tiles(&message_spans(&bytes)?, 0, bytes.len());
        let (first, plain) = decrypt_plaintext(&bytes, &key)?;
        assert_tiles(&plaintext_spans(first, &plain, h.flags.initiator())?, 0, plain.len());
    }

    /// Every typed notify: to_notify → parse gives the same view, and the
    /// emitted notify survives the payload codec.
    #[test]
    fn notify_data_round_trips(d in notify_data()) {
        let n = d.to_notify()?;
        prop_assert_eq!(n.protocol_id, 0);
        prop_assert!(n.spi.is_empty());
        prop_assert_eq!(NotifyData::parse(&n)?, d.clone());
        let (first, bytes) = chain_bytes(&[Payload::Notify(n.clone())]);
        prop_assert_eq!(parse_chain(first, &bytes)?, vec![Payload::Notify(n)]);
        prop_assert!(!d.to_string().is_empty());
    }

    /// M-4.2.5-1: COOKIE2 data is 8 to 64 octets; anything else is a typed
    /// error, never a panic.
    #[test]
    fn cookie2_length_rule(len in 0usize..100) {
        let data = vec![0x5a; len];
        let r = NotifyData::parse_data(NotifyType::COOKIE2, &data);
        if (8..=64).contains(&len) {
            prop_assert_eq!(r, Ok(NotifyData::Cookie2(data.clone())));
            prop_assert!(Notify::cookie2(&data).is_ok());
        } else {
            prop_assert_eq!(r, Err(WireError::BadLength { what: "COOKIE2", value: len }));
            prop_assert!(Notify::cookie2(&data).is_err());
        }
    }

    /// M-4.2.1-1: whatever MOBIKE_SUPPORTED carries, it reads as supported.
    #[test]
    fn mobike_supported_contents_ignored(data in bytes(64)) {
        let n = Notify::new(NotifyType::MOBIKE_SUPPORTED, data);
        prop_assert_eq!(
            NotifyData::parse(&n)?,
            NotifyData::Empty(NotifyType::MOBIKE_SUPPORTED)
        );
    }
}

// ---------------------------------------------------------------------------
// Never panics
// ---------------------------------------------------------------------------

/// Runs every parser of untrusted input over `b`; panics only if a span
/// property fails.
fn parse_everything(b: &[u8], key: &GcmKey) {
    let parsed = Message::parse(b);
    let _ = message::decrypt(b, key);
    let spans = message_spans(b);
    if parsed.is_ok() {
        // A message the parser accepts can always be shown.
        assert!(spans.is_ok(), "{spans:?}");
    }
    if let Ok(spans) = spans {
        assert_tiles(&spans, 0, b.len());
    }
    if let Ok((first, plain)) = decrypt_plaintext(b, key)
        && let Ok(spans) = plaintext_spans(first, &plain, true)
    {
        assert_tiles(&spans, 0, plain.len());
    }
    for first in [
        PayloadType::N,
        PayloadType::SA,
        PayloadType::CP,
        PayloadType::TSi,
    ] {
        let _ = parse_chain(first, b);
        if let Ok(spans) = chain_spans(first, b, 3) {
            assert_tiles(&spans, 3, b.len());
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(1024))]

    /// Arbitrary octets: no parser panics (Message::parse, decrypt,
    /// message_spans, NotifyData::parse, ...).
    #[test]
    fn arbitrary_bytes_never_panic(b in bytes(600), kind in any::<u16>()) {
        parse_everything(&b, &key());
        let _ = NotifyData::parse_data(kind.into(), &b);
        let _ = NotifyData::parse(&Notify::new(kind.into(), b.clone()));
        let _ = GwIdentity::parse(&b);
    }

    /// Valid messages with a few octets changed or cut: this reaches the
    /// payload parsers that random octets never get past the header to.
    #[test]
    fn mutated_messages_never_panic(
        h in header(),
        ps in vec(payload(), 0..5),
        encrypted in any::<bool>(),
        edits in vec((any::<prop::sample::Index>(), any::<u8>()), 1..4),
        cut in any::<prop::sample::Index>(),
        do_cut in any::<bool>(),
    ) {
        let k = key();
        let mut b = if encrypted {
            Message::emit_encrypted(h, &ps, &k, [3; 8])?
        } else {
            Message::emit_plain(h, &ps)
        };
        for (i, v) in edits {
            let i = i.index(b.len());
            b[i] = v;
        }
        if do_cut {
            b.truncate(cut.index(b.len() + 1));
        }
        parse_everything(&b, &k);
        // Mutate the plaintext too: decrypt checks the ICV first, so this is
        // the only way to feed bad inner payloads to the span walker.
        let (first, mut plain) = {
            let mut out = Vec::new();
            let first = emit_chain(&ps, &mut out);
            out.push(0);
            (first, out)
        };
        if !plain.is_empty() {
            let n = plain.len();
            plain[h.message_id as usize % n] ^= 0x41;
        }
        if let Ok(spans) = plaintext_spans(first, &plain, false) {
            assert_tiles(&spans, 0, plain.len());
        }
        let _ = parse_chain(first, &plain);
    }
}

// ---------------------------------------------------------------------------
// Rejections, each with a typed error
// ---------------------------------------------------------------------------

fn sample_encrypted() -> Vec<u8> {
    Message::emit_encrypted(
        hdr(ExchangeType::INFORMATIONAL, 3),
        &[
            Payload::Notify(Notify::update_sa_addresses()),
            Payload::Notify(Notify::cookie2(&[0x18, 0xdb, 0x59, 0xd7, 1, 2, 3, 4]).unwrap()),
        ],
        &key(),
        [0, 0, 0, 0, 0, 0, 0, 3],
    )
    .unwrap()
}

#[test]
fn truncated_messages_are_rejected() {
    let bytes = sample_encrypted();
    for n in 0..bytes.len() {
        let e = Message::parse(&bytes[..n]).unwrap_err();
        assert!(
            matches!(e, WireError::Truncated { .. } | WireError::BadLength { .. }),
            "{n}: {e:?}"
        );
        assert!(message::decrypt(&bytes[..n], &key()).is_err());
        assert!(message_spans(&bytes[..n]).is_err());
    }
}

#[test]
fn overlong_payload_length_is_rejected() {
    let mut bytes = Message::emit_plain(
        hdr(ExchangeType::IKE_SA_INIT, 0),
        &[Payload::Notify(Notify::redirect_supported())],
    );
    // The notify's Payload Length claims one octet more than the message has.
    bytes[28 + 3] += 1;
    assert_eq!(
        Message::parse(&bytes),
        Err(WireError::BadLength {
            what: "payload length",
            value: 9
        })
    );
    assert!(message_spans(&bytes).is_err());
    // The header's Length claims more octets than the datagram holds.
    let mut bytes = sample_encrypted();
    bytes[27] += 1;
    assert!(matches!(
        Message::parse(&bytes),
        Err(WireError::BadLength {
            what: "IKE header length",
            ..
        })
    ));
    // Octets after the last payload that the header's Length covers.
    let mut bytes = Message::emit_plain(
        hdr(ExchangeType::IKE_SA_INIT, 0),
        &[Payload::Notify(Notify::redirect_supported())],
    );
    bytes.extend_from_slice(&[0, 0]);
    bytes[27] += 2;
    assert_eq!(
        Message::parse(&bytes),
        Err(WireError::BadLength {
            what: "data after the last payload",
            value: 2
        })
    );
}

#[test]
fn wrong_length_notify_data_is_rejected() {
    let bad = |kind: NotifyType, len: usize| {
        NotifyData::parse_data(kind, &vec![1; len]).expect_err("accepted")
    };
    // M-4.2.5-1.
    assert_eq!(
        bad(NotifyType::COOKIE2, 7),
        WireError::BadLength {
            what: "COOKIE2",
            value: 7
        }
    );
    assert_eq!(
        bad(NotifyType::COOKIE2, 65),
        WireError::BadLength {
            what: "COOKIE2",
            value: 65
        }
    );
    // RFC 4555 §4.2.6: 12 or 36 octets.
    assert_eq!(
        bad(NotifyType::NO_NATS_ALLOWED, 13),
        WireError::BadLength {
            what: "NO_NATS_ALLOWED",
            value: 13
        }
    );
    assert!(matches!(
        bad(NotifyType::NAT_DETECTION_DESTINATION_IP, 21),
        WireError::BadLength { .. }
    ));
    assert!(matches!(
        bad(NotifyType::SET_WINDOW_SIZE, 5),
        WireError::BadLength { .. }
    ));
    assert!(matches!(
        bad(NotifyType::ADDITIONAL_IP6_ADDRESS, 15),
        WireError::BadLength { .. }
    ));
    // B-3.5-7: UPDATE_SA_ADDRESSES carries no data.
    assert!(matches!(
        bad(NotifyType::UPDATE_SA_ADDRESSES, 1),
        WireError::BadLength { .. }
    ));
}

#[test]
fn wrong_length_payload_fields_are_rejected() {
    // TS with a Selector Length of 17 for an IPv4 range (RFC 7296 §3.13.1).
    let (first, mut bytes) = chain_bytes(&[Payload::TsI(vec![TrafficSelector::host(
        "10.0.0.1".parse().unwrap(),
    )])]);
    bytes[4 + 4 + 3] = 17;
    assert_eq!(
        parse_chain(first, &bytes),
        Err(WireError::BadLength {
            what: "traffic selector",
            value: 17
        })
    );
    // A Delete whose SPIs do not fill the payload (RFC 7296 §3.11).
    let (first, mut bytes) = chain_bytes(&[Payload::Delete(Delete::esp(&[1, 2]))]);
    bytes[4 + 3] = 3; // Num of SPIs 3, but two SPIs follow
    assert_eq!(
        parse_chain(first, &bytes),
        Err(WireError::BadLength {
            what: "Delete SPIs",
            value: 8
        })
    );
    // Delete of the IKE SA with a non-zero SPI Size.
    let (first, mut bytes) = chain_bytes(&[Payload::Delete(Delete::ike())]);
    bytes[4 + 1] = 4;
    assert!(matches!(
        parse_chain(first, &bytes),
        Err(WireError::BadLength {
            what: "Delete SPI Size",
            ..
        })
    ));
    // INTERNAL_IP4_ADDRESS of 3 octets (RFC 7296 §3.15.1: 0 or 4).
    let cp = Payload::Cp(Configuration {
        cfg_type: CfgType::CFG_REPLY,
        attributes: vec![CfgAttribute::Raw {
            kind: 99,
            value: vec![10, 0, 0],
        }],
    });
    let (first, mut bytes) = chain_bytes(&[cp]);
    bytes[4 + 4 + 1] = 1; // attribute type 99 → INTERNAL_IP4_ADDRESS
    assert_eq!(
        parse_chain(first, &bytes),
        Err(WireError::BadLength {
            what: "INTERNAL_IP4_ADDRESS",
            value: 3
        })
    );
    // ID_IPV4_ADDR of 5 octets (RFC 7296 §3.5).
    let id = Identification {
        id_type: 1,
        data: vec![1, 2, 3, 4, 5],
    };
    let (first, bytes) = chain_bytes(&[Payload::IdI(id)]);
    assert!(matches!(
        parse_chain(first, &bytes),
        Err(WireError::BadLength {
            what: "ID address",
            ..
        })
    ));
    // A 15-octet nonce (RFC 7296 §3.9: 16 to 256).
    let (first, bytes) = chain_bytes(&[Payload::Nonce(vec![0; 15])]);
    assert!(matches!(
        parse_chain(first, &bytes),
        Err(WireError::BadLength { what: "nonce", .. })
    ));
}

#[test]
fn bad_icv_is_rejected() {
    let bytes = sample_encrypted();
    let mut t = bytes.clone();
    let last = t.len() - 1;
    t[last] ^= 0x80;
    assert_eq!(message::decrypt(&t, &key()), Err(WireError::IcvMismatch));
    assert_eq!(
        decrypt_plaintext(&t, &key()).map(|_| ()),
        Err(WireError::IcvMismatch)
    );
    // The AAD covers the header: a changed Message ID fails too (RFC 5282 §5.1).
    let mut t = bytes.clone();
    t[23] ^= 1;
    assert_eq!(message::decrypt(&t, &key()), Err(WireError::IcvMismatch));
    // The outer view still shows the message.
    assert_tiles(&message_spans(&t).unwrap(), 0, t.len());
}

#[test]
fn unknown_critical_payload_rejects_the_message() {
    // RFC 7296 §2.5: unknown type 200 with C set, outside and inside SK.
    let critical = Payload::Unknown {
        kind: PayloadType::Unknown(200),
        critical: true,
        body: vec![1, 2, 3],
    };
    let bytes = Message::emit_plain(
        hdr(ExchangeType::IKE_SA_INIT, 0),
        &[Payload::Nonce(vec![1; 16]), critical.clone()],
    );
    assert_eq!(
        Message::parse(&bytes),
        Err(WireError::UnsupportedCriticalPayload(200))
    );
    // The byte view still explains why.
    let spans = message_spans(&bytes).unwrap();
    assert_tiles(&spans, 0, bytes.len());
    assert!(
        spans
            .iter()
            .any(|s| s.path == "P(200).Critical" && s.meaning.contains("rejects the message"))
    );
    let bytes = Message::emit_encrypted(
        hdr(ExchangeType::INFORMATIONAL, 4),
        &[critical],
        &key(),
        [4; 8],
    )
    .unwrap();
    assert!(Message::parse(&bytes).is_ok());
    assert_eq!(
        message::decrypt(&bytes, &key()),
        Err(WireError::UnsupportedCriticalPayload(200))
    );
}

#[test]
fn unknown_non_critical_payload_is_kept() {
    // RFC 7296 §2.5: without C it is skipped, and we keep it to show it.
    let unknown = Payload::Unknown {
        kind: PayloadType::Unknown(200),
        critical: false,
        body: vec![1, 2, 3],
    };
    let bytes = Message::emit_plain(
        hdr(ExchangeType::IKE_SA_INIT, 0),
        &[unknown.clone(), Payload::Nonce(vec![1; 16])],
    );
    assert_eq!(Message::parse(&bytes).unwrap().payloads[0], unknown);
}

// ---------------------------------------------------------------------------
// Shapes and notation
// ---------------------------------------------------------------------------

#[test]
fn notification_lengths_match_reference_1_5() {
    let len = |n: Notify| chain_bytes(&[Payload::Notify(n)]).1.len();
    // B-3.5-7 and the other empty notifies: 8 octets.
    for n in [
        Notify::mobike_supported(),
        Notify::no_additional_addresses(),
        Notify::update_sa_addresses(),
        Notify::unacceptable_addresses(),
        Notify::unexpected_nat_detected(),
        Notify::redirect_supported(),
    ] {
        assert_eq!(len(n), 8);
    }
    assert_eq!(len(Notify::nat_detection_source_ip([0; 20])), 28);
    assert_eq!(len(Notify::cookie2(&[0; 16]).unwrap()), 24);
    // M-3.9-1: NO_NATS_ALLOWED is 20 octets for IPv4, 44 for IPv6.
    let v4 = |s: &str| s.parse::<SocketAddr>().unwrap();
    assert_eq!(
        len(Notify::no_nats_allowed(v4("192.0.2.10:4500"), v4("203.0.113.10:4500")).unwrap()),
        20
    );
    assert_eq!(
        len(Notify::no_nats_allowed(v4("[2001:db8::1]:500"), v4("[2001:db8::2]:500")).unwrap()),
        44
    );
}

#[test]
fn rfc_notation_for_new_payloads() {
    let inner = vec![
        Payload::Delete(Delete::ike()),
        Payload::Vendor(b"strongSwan".to_vec()),
        Payload::Cp(Configuration {
            cfg_type: CfgType::CFG_REQUEST,
            attributes: vec![CfgAttribute::InternalIp4Address(None)],
        }),
        Payload::CertReq {
            encoding: 4,
            data: vec![],
        },
        Payload::Sa(vec![Proposal::esp_default(1)]),
        Payload::Ke {
            group: 31,
            data: vec![],
        },
        Payload::Nonce(vec![0; 16]),
    ];
    assert_eq!(
        message::notation_items(&inner, false),
        ["D", "V", "CP(CFG_REQUEST)", "CERTREQ", "SA", "KE", "Nr"]
    );
}

#[test]
fn identification_display() {
    assert_eq!(
        Identification::ip("192.0.2.10".parse().unwrap()).to_string(),
        "192.0.2.10"
    );
    assert_eq!(
        Identification::ip("2001:db8::1".parse().unwrap()).to_string(),
        "2001:db8::1"
    );
    assert_eq!(
        Identification::fqdn("client.oracle.test").to_string(),
        "client.oracle.test"
    );
    assert_eq!(
        Identification::rfc822("alice@example.org").to_string(),
        "alice@example.org"
    );
    assert_eq!(
        Identification::key_id(&[0xde, 0xad, 0xbe, 0xef]).to_string(),
        "KEY_ID deadbeef"
    );
    assert_eq!(
        Identification {
            id_type: 9,
            data: vec![0; 3]
        }
        .to_string(),
        "ID_DER_ASN1_DN, 3 octets"
    );
}

#[test]
fn cp_attributes_decode() {
    let cp = Configuration {
        cfg_type: CfgType::CFG_REPLY,
        attributes: vec![
            CfgAttribute::InternalIp4Address(Some("10.1.0.2".parse().unwrap())),
            CfgAttribute::InternalIp4Netmask(Some("255.255.255.0".parse().unwrap())),
            CfgAttribute::InternalIp4Dns(Some("10.1.0.1".parse().unwrap())),
            CfgAttribute::InternalIp6Address(Some(("2001:db8::2".parse().unwrap(), 64))),
            CfgAttribute::InternalIp6Dns(Some("2001:db8::1".parse().unwrap())),
            CfgAttribute::Raw {
                kind: 25,
                value: vec![1],
            },
        ],
    };
    let (first, bytes) = chain_bytes(&[Payload::Cp(cp.clone())]);
    // INTERNAL_IP6_ADDRESS is 16 octets of address and a prefix length.
    assert_eq!(
        bytes.len(),
        4 + 4 + 3 * (4 + 4) + (4 + 17) + (4 + 16) + (4 + 1)
    );
    assert_eq!(
        parse_chain(first, &bytes).unwrap(),
        vec![Payload::Cp(cp.clone())]
    );
    let shown: Vec<String> = cp.attributes.iter().map(|a| a.to_string()).collect();
    assert_eq!(
        shown,
        [
            "INTERNAL_IP4_ADDRESS = 10.1.0.2",
            "INTERNAL_IP4_NETMASK = 255.255.255.0",
            "INTERNAL_IP4_DNS = 10.1.0.1",
            "INTERNAL_IP6_ADDRESS = 2001:db8::2/64",
            "INTERNAL_IP6_DNS = 2001:db8::1",
            "attribute 25 = 01",
        ]
    );
}

#[test]
fn decoded_type_matches_the_parser() {
    // Guard for the strategies above: decoded_type() matches parse_body.
    for t in 0u8..=255 {
        let (first, bytes) = chain_bytes(&[Payload::Unknown {
            kind: t.into(),
            critical: false,
            body: vec![0; 40],
        }]);
        let parsed = parse_chain(first, &bytes);
        let kept = matches!(parsed.as_deref(), Ok([Payload::Unknown { .. }]));
        assert_eq!(kept, !decoded_type(t), "type {t}: {parsed:?}");
    }
}
