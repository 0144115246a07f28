//! `NotifyData::parse_data` (the typed view of Notification Data, RFC 7296
//! §3.10.1, RFC 4555 §4, RFC 5685) on arbitrary data.
//!
//! Input: the first two octets are the Notify Message Type (big-endian, as
//! on the wire), the rest is the Notification Data.
//!
//! Checks: no panic; the value names its own type; it prints; what parses
//! can be sent (`to_data` succeeds) and the data it sends parses to the
//! same value and is the received data (except MOBIKE_SUPPORTED, whose
//! contents are ignored on receipt, M-4.2.1-1); `to_notify` and
//! `NotifyData::parse` agree; unknown types are never rejected (kept as
//! `Error` below 16384 and `Raw` above); `GwIdentity::parse` on the same
//! data returns its own octets.
#![no_main]

use libfuzzer_sys::fuzz_target;
use mobike_wire::{GwIdentity, Notify, NotifyData, NotifyType};

fuzz_target!(|input: &[u8]| {
    let [hi, lo, data @ ..] = input else {
        return;
    };
    let kind = NotifyType::from(u16::from_be_bytes([*hi, *lo]));
    let parsed = NotifyData::parse_data(kind, data);
    assert_eq!(
        NotifyData::parse(&Notify::new(kind, data.to_vec())),
        parsed,
        "NotifyData::parse and parse_data disagree"
    );

    if kind.name().is_none() {
        let d = parsed.as_ref().expect("an unknown notify type was rejected");
        let want = if kind.is_error() {
            NotifyData::Error {
                kind,
                data: data.to_vec(),
            }
        } else {
            NotifyData::Raw {
                kind,
                data: data.to_vec(),
            }
        };
        assert_eq!(d, &want);
    }

    if let Ok(d) = &parsed {
        assert_eq!(d.kind(), kind, "parsed value names another type");
        let _ = d.to_string();
        let sent = d.to_data().expect("a parsed value cannot be sent back");
        let again = NotifyData::parse_data(kind, &sent).expect("to_data output does not parse");
        assert_eq!(&again, d, "parse(to_data(parse(x))) != parse(x)");
        if kind == NotifyType::MOBIKE_SUPPORTED {
            assert!(sent.is_empty());
        } else {
            assert_eq!(sent, data, "to_data(parse(x)) != x");
        }
        let n = d.to_notify().expect("to_notify");
        assert_eq!((n.kind, &n.data), (kind, &sent));
        assert_eq!(n.typed_data().as_ref(), Ok(d));
    }

    // The GW Identity layout of REDIRECT / REDIRECTED_FROM on its own.
    if let Ok((gw, rest)) = GwIdentity::parse(data) {
        let len = data[1] as usize;
        assert_eq!(gw.kind(), data[0]);
        assert_eq!(gw.identity(), &data[2..2 + len]);
        assert_eq!(rest, &data[2 + len..]);
        let _ = gw.to_string();
        let _ = gw.address();
    }
});
