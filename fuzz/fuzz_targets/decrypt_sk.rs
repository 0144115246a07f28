//! The receive path of a protected message: `udp::classify` on a datagram,
//! then `Message::parse` and `message::decrypt` with fixed keys; and the
//! inside of an SK payload as an authenticated peer could make it (arbitrary
//! plaintext sealed under the key), which random ciphertext never reaches.
//!
//! Input: the first octet selects the path.
//! - high bit clear: a UDP datagram; bits 0-1 pick the source port and bits
//!   2-3 the destination port (500, 4500, 61000, 4501); the rest is the
//!   UDP payload.
//! - high bit set: the next octet is the first inner payload type, the rest
//!   the SK plaintext (payload chain, padding, Pad Length).
//!
//! Checks: no panic; classify's cases agree with RFC 3948; what decrypts is
//! canonical (sealing the payloads again and opening gives them back).
#![no_main]

use libfuzzer_sys::fuzz_target;
use mobike_wire::crypto::{GCM_ICV_LEN, GCM_IV_LEN, GcmKey};
use mobike_wire::header::HEADER_LEN;
use mobike_wire::message::{self, Message};
use mobike_wire::payload::{GENERIC_HEADER_LEN, Payload};
use mobike_wire::udp::{self, UdpPayload};
use mobike_wire::{ExchangeType, Flags, Header, PayloadType};

#[path = "strongswan_keys.rs"]
mod strongswan_keys;
use strongswan_keys::{SK_EI, SK_ER, SPI_I, SPI_R};

fn port(bits: u8) -> u16 {
    match bits & 3 {
        0 => udp::IKE_PORT,
        1 => udp::NATT_PORT,
        2 => 61000,
        _ => 4501,
    }
}

/// Sealing what was opened and opening it again gives the same payloads.
fn round_trip(message: &[u8], inner: &[Payload], key: &GcmKey) {
    let header = Header::parse(message).expect("decrypt accepted a bad header");
    let again =
        Message::emit_encrypted(header, inner, key, [7; GCM_IV_LEN]).expect("sealing failed");
    let opened = message::decrypt(&again, key).expect("our own sealed message does not open");
    assert_eq!(opened, inner, "decrypt(seal(decrypt(x))) != decrypt(x)");
}

fuzz_target!(|data: &[u8]| {
    let Some((&mode, rest)) = data.split_first() else {
        return;
    };
    let keys = [
        GcmKey::from_keymat(&SK_EI).expect("key"),
        GcmKey::from_keymat(&SK_ER).expect("key"),
    ];

    if mode & 0x80 == 0 {
        let (src, dst) = (port(mode), port(mode >> 2));
        // The port that decides (RFC 3948 §2.2): the destination's when it
        // is an IKE port, else the source's.
        let decides = if dst == udp::IKE_PORT || dst == udp::NATT_PORT {
            dst
        } else {
            src
        };
        let natt = decides == udp::NATT_PORT;
        match udp::classify_observed(rest, src, dst) {
            UdpPayload::Ike(ike) => {
                if natt {
                    assert_eq!(rest[..4], udp::NON_ESP_MARKER);
                    assert_eq!(ike, &rest[4..]);
                } else {
                    assert_eq!(ike, rest);
                }
                let _ = Message::parse(ike);
                for key in &keys {
                    if let Ok(inner) = message::decrypt(ike, key) {
                        round_trip(ike, &inner, key);
                    }
                }
            }
            UdpPayload::Esp(esp) => {
                // RFC 3948 §2.1: an ESP SPI is never zero, so never the marker.
                assert!(natt && esp.len() >= 8 && esp[..4] != udp::NON_ESP_MARKER);
            }
            UdpPayload::Keepalive => assert!(natt && rest == udp::KEEPALIVE),
            UdpPayload::Invalid => assert!(natt),
        }
        return;
    }

    let Some((&first, plain)) = rest.split_first() else {
        return;
    };
    let sk_len = GENERIC_HEADER_LEN + GCM_IV_LEN + plain.len() + GCM_ICV_LEN;
    let Ok(sk_len16) = u16::try_from(sk_len) else {
        return;
    };
    let key = &keys[0];
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
    let icv = key.seal(&iv, &msg, &mut buf).expect("sealing failed");
    msg.extend_from_slice(&iv);
    msg.extend_from_slice(&buf);
    msg.extend_from_slice(&icv);

    // The outer message is well formed whenever the SK body is long enough.
    let parsed = Message::parse(&msg);
    if !plain.is_empty() {
        parsed.expect("a well-formed SK message does not parse");
    }
    if let Ok(inner) = message::decrypt(&msg, key) {
        round_trip(&msg, &inner, key);
    }
    // The other direction's key must not open it.
    assert!(message::decrypt(&msg, &keys[1]).is_err());
});
