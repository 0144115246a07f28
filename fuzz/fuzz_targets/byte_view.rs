//! The inspector's byte view (`mobike_render::byteview::datagram_view`) of
//! arbitrary datagrams: UDP on ports 500 and 4500 either way, or plain ESP,
//! with no key, the strongSwan run's SK_ei or SK_er, or a key that opens
//! nothing. It never fails and never panics; its outer rows cover every
//! octet of the datagram in order (the bytes are always shown), and inner
//! rows cover every octet of the plaintext they describe. With the high
//! bit of the first octet set, the rest is an SK plaintext sealed under
//! SK_ei into a message first, so the inner side is reached too.
#![no_main]

use libfuzzer_sys::fuzz_target;
use mobike_render::byteview::{ByteRow, Carrier, Keys, datagram_view};
use mobike_wire::crypto::{GCM_ICV_LEN, GCM_IV_LEN, GcmKey};
use mobike_wire::header::HEADER_LEN;
use mobike_wire::payload::GENERIC_HEADER_LEN;
use mobike_wire::{ExchangeType, Flags, Header, PayloadType};

#[path = "strongswan_keys.rs"]
mod strongswan_keys;
use strongswan_keys::{SK_EI, SK_ER, SPI_I, SPI_R};

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

fn check(payload: &[u8], carrier: Carrier, keys: Keys) {
    let v = datagram_view(payload, carrier, keys);
    tiles(&v.outer, payload, "outer");
    if let Some(inner) = &v.inner {
        tiles(&inner.rows, &inner.bytes, "inner");
        assert!(v.inner_error.is_none(), "both inner rows and an inner error");
    }
}

/// `[first inner payload type, plaintext...]` sealed under SK_ei as the
/// SK payload of an INFORMATIONAL request.
fn sealed(first: u8, plain: &[u8], key: &GcmKey) -> Option<Vec<u8>> {
    let sk_len = GENERIC_HEADER_LEN + GCM_IV_LEN + plain.len() + GCM_ICV_LEN;
    let total = HEADER_LEN + sk_len;
    let length = u32::try_from(total).ok()?;
    let sk_len16 = u16::try_from(sk_len).ok()?;
    let h = Header {
        spi_i: SPI_I,
        spi_r: SPI_R,
        next_payload: PayloadType::SK,
        exchange: ExchangeType::INFORMATIONAL,
        flags: Flags::new(true, false),
        message_id: 7,
        length,
    };
    let mut m = Vec::with_capacity(total);
    h.emit(&mut m);
    m.push(first);
    m.push(0);
    m.extend_from_slice(&sk_len16.to_be_bytes());
    let iv = [9u8; GCM_IV_LEN];
    m.extend_from_slice(&iv);
    let aad_end = m.len() - GCM_IV_LEN;
    let mut ct = plain.to_vec();
    let icv = key.seal(&iv, &m[..aad_end], &mut ct).ok()?;
    m.extend_from_slice(&ct);
    m.extend_from_slice(&icv);
    Some(m)
}

fuzz_target!(|data: &[u8]| {
    let Some((&mode, rest)) = data.split_first() else {
        return;
    };
    let ei = GcmKey::from_keymat(&SK_EI).expect("key");
    let er = GcmKey::from_keymat(&SK_ER).expect("key");
    let other = GcmKey::from_keymat(&[0x42; 20]).expect("key");
    let sk = [None, Some(&ei), Some(&er), Some(&other)][usize::from(mode & 3)];
    let esp = [None, Some(&other)][usize::from(mode >> 2 & 1)];
    let keys = Keys { sk, esp };
    if mode & 0x80 != 0 {
        let Some((&first, plain)) = rest.split_first() else {
            return;
        };
        if let Some(m) = sealed(first, plain, &ei) {
            check(&m, Carrier::Udp { src_port: 500, dst_port: 500 }, Keys { sk: Some(&ei), esp: None });
            let mut marked = vec![0, 0, 0, 0];
            marked.extend_from_slice(&m);
            check(&marked, Carrier::Udp { src_port: 4500, dst_port: 4500 }, Keys { sk: Some(&ei), esp: None });
        }
        return;
    }
    let carrier = match mode >> 3 & 3 {
        0 => Carrier::Udp { src_port: 500, dst_port: 500 },
        1 => Carrier::Udp { src_port: 4500, dst_port: 4500 },
        2 => Carrier::Udp { src_port: 4500, dst_port: 500 },
        _ => Carrier::Esp,
    };
    check(rest, carrier, keys);
});
