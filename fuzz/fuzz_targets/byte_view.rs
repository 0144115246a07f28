//! The inspector's byte view (`mobike_render::byteview::byte_view`) of
//! arbitrary bytes, with and without a key, and of SK payloads sealed
//! under the key around arbitrary plaintext (which random ciphertext never
//! reaches).
//!
//! Input: the first octet selects the path.
//! - high bit clear: the rest is an IKE message; bits 0-1 pick the key:
//!   none, SK_ei, SK_er (the strongSwan run's, as in `decrypt_sk`) or a key
//!   that opens nothing.
//! - high bit set: the next octet is the first inner payload type, the rest
//!   the SK plaintext (payload chain, Padding, Pad Length); it is sealed in
//!   an INFORMATIONAL request under SK_ei and viewed with SK_ei and with no
//!   key.
//!
//! Checks: no panic; `byte_view` fails exactly when `message_spans` does;
//! the outer rows tile the message (offsets in order, no gap, no overlap,
//! `hex` the row's octets); a message without SK has neither inner rows nor
//! an inner error; without a key an SK message reports `NoKeys`; inner rows
//! appear exactly when the plaintext decrypts and `plaintext_spans`
//! accepts it, and then tile the plaintext.
#![no_main]

use libfuzzer_sys::fuzz_target;
use mobike_render::byteview::{ByteRow, ByteView, byte_view};
use mobike_wire::crypto::{GCM_ICV_LEN, GCM_IV_LEN, GcmKey};
use mobike_wire::header::HEADER_LEN;
use mobike_wire::payload::{GENERIC_HEADER_LEN, walk_chain};
use mobike_wire::spans::{decrypt_plaintext, message_spans, plaintext_spans};
use mobike_wire::{ExchangeType, Flags, Header, PayloadType, WireError};

/// SK_ei and SK_er of the strongSwan run (see decrypt_sk.rs).
const SK_EI: [u8; 20] = [
    0xe7, 0x13, 0x37, 0x4c, 0xc4, 0x0b, 0x0c, 0x96, 0xa0, 0xec, 0x34, 0xcb, 0xc0, 0x6b, 0xce, 0x8c,
    0x90, 0x4e, 0x60, 0xfb,
];
const SK_ER: [u8; 20] = [
    0xe8, 0x90, 0xba, 0x8d, 0xea, 0xb0, 0xb5, 0xed, 0x4e, 0xc3, 0x4b, 0x86, 0x90, 0x3a, 0x5a, 0xbd,
    0x60, 0x3d, 0xf2, 0x75,
];
const SPI_I: u64 = 0x9732_dff0_5cbe_f893;
const SPI_R: u64 = 0x91d7_0a7f_afbf_4620;

fn spaced_hex(b: &[u8]) -> String {
    b.iter()
        .map(|x| format!("{x:02x}"))
        .collect::<Vec<_>>()
        .join(" ")
}

/// Rows tile `bytes`: offsets in order from 0, non-empty, `hex` their octets.
fn tiles(rows: &[ByteRow], bytes: &[u8], what: &str) {
    let mut at = 0;
    for r in rows {
        assert_eq!(r.offset, at, "{what}: gap or overlap at {r:?}");
        assert!(r.len > 0, "{what}: empty row {r:?}");
        let end = r.offset + r.len;
        assert!(end <= bytes.len(), "{what}: row past the end {r:?}");
        assert_eq!(r.hex, spaced_hex(&bytes[r.offset..end]), "{what}: hex of {r:?}");
        at = end;
    }
    assert_eq!(at, bytes.len(), "{what}: rows stop at {at}");
}

fn has_sk(bytes: &[u8]) -> bool {
    let Ok(h) = Header::parse(bytes) else {
        return false;
    };
    walk_chain(h.next_payload, &bytes[HEADER_LEN..h.length as usize])
        .is_ok_and(|raw| raw.iter().any(|r| r.kind == PayloadType::SK))
}

/// Checks one view of `bytes` made with `key`.
fn check(bytes: &[u8], key: Option<&GcmKey>) -> Option<ByteView> {
    let got = byte_view(bytes, key);
    let spans = message_spans(bytes);
    let v = match (got, spans) {
        (Ok(v), Ok(_)) => v,
        (Err(e), Err(s)) => {
            assert_eq!(e, s, "byte_view and message_spans fail differently");
            return None;
        }
        (Ok(_), Err(s)) => panic!("byte_view accepts what message_spans rejects ({s})"),
        (Err(e), Ok(_)) => panic!("byte_view rejects what message_spans accepts ({e})"),
    };
    tiles(&v.outer, bytes, "outer");
    assert!(
        !(v.inner.is_some() && v.inner_error.is_some()),
        "both inner rows and an inner error"
    );
    if !has_sk(bytes) {
        assert_eq!((&v.inner, &v.inner_error), (&None, &None), "inner view without SK");
        return Some(v);
    }
    let Some(key) = key else {
        assert_eq!((&v.inner, &v.inner_error), (&None, &Some(WireError::NoKeys)));
        return Some(v);
    };
    let from_initiator = Header::parse(bytes).expect("header").flags.initiator();
    let want = decrypt_plaintext(bytes, key)
        .and_then(|(first, plain)| plaintext_spans(first, &plain, from_initiator).map(|_| plain));
    match (&v.inner, &v.inner_error, want) {
        (Some(rows), None, Ok(plain)) => tiles(rows, &plain, "inner"),
        (None, Some(e), Err(w)) => assert_eq!(e, &w, "inner error"),
        (inner, err, want) => panic!(
            "inner view {:?} / {err:?} but the plaintext gives {want:?}",
            inner.as_ref().map(Vec::len)
        ),
    }
    Some(v)
}

fuzz_target!(|data: &[u8]| {
    let Some((&mode, rest)) = data.split_first() else {
        return;
    };
    let ei = GcmKey::from_keymat(&SK_EI).expect("key");
    if mode & 0x80 == 0 {
        let key = match mode & 3 {
            0 => None,
            1 => Some(ei),
            2 => Some(GcmKey::from_keymat(&SK_ER).expect("key")),
            _ => Some(GcmKey::from_keymat(&[0x5a; 20]).expect("key")),
        };
        check(rest, key.as_ref());
        return;
    }

    // An SK payload sealed under SK_ei around arbitrary plaintext.
    let Some((&first, plain)) = rest.split_first() else {
        return;
    };
    let sk_len = GENERIC_HEADER_LEN + GCM_IV_LEN + plain.len() + GCM_ICV_LEN;
    let Ok(sk_len16) = u16::try_from(sk_len) else {
        return;
    };
    let header = Header {
        spi_i: SPI_I,
        spi_r: SPI_R,
        next_payload: PayloadType::SK,
        exchange: ExchangeType::INFORMATIONAL,
        flags: Flags::new(true, false),
        message_id: 7,
        length: (HEADER_LEN + sk_len) as u32,
    };
    let mut msg = Vec::with_capacity(HEADER_LEN + sk_len);
    header.emit(&mut msg);
    msg.push(first);
    msg.push(0);
    msg.extend_from_slice(&sk_len16.to_be_bytes());
    let iv = [0x5a; GCM_IV_LEN];
    let mut buf = plain.to_vec();
    let icv = ei.seal(&iv, &msg, &mut buf).expect("sealing failed");
    msg.extend_from_slice(&iv);
    msg.extend_from_slice(&buf);
    msg.extend_from_slice(&icv);

    let v = check(&msg, Some(&ei)).expect("a well-formed SK message has no byte view");
    // SK of one octet or more always opens: the inner view is missing only
    // if the plaintext itself is rejected.
    if !plain.is_empty() && v.inner.is_none() {
        let e = v.inner_error.expect("inner error");
        assert!(
            !matches!(e, WireError::IcvMismatch | WireError::NoKeys),
            "SK sealed under the key did not open: {e}"
        );
    }
    check(&msg, None).expect("a well-formed SK message has no byte view");
});
