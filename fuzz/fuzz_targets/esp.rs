//! The tunnel's data path: `EspSa::open` (RFC 4303 with AES-GCM-16, RFC
//! 4106) on arbitrary packets and on arbitrary plaintext sealed under the
//! SA's key (which random ciphertext never reaches), `EspSa::seal` → `open`
//! round trips, and `ip::Ping::parse` on arbitrary inner packets.
//!
//! Input: the low two bits of the first octet select the path, the rest is
//! - 0: an ESP packet (`SPI | Seq | IV | ciphertext | ICV`) for `open`;
//! - 1: `Seq (4) | Next Header (1) | payload`: sealed, then opened;
//! - 2: `Seq (4) | plaintext`: the plaintext (payload, Padding, Pad Length,
//!   Next Header as a peer could send it) encrypted under the SA's key
//!   as-is, then opened;
//! - 3: an inner IPv4 packet for `Ping::parse`.
//!
//! Checks: no panic; what opens has the packet's SPI and sequence number and
//! re-seals and opens to the same; `open(seal(x)) == x`; sealed packets are
//! 4-octet aligned, carry the SPI, and fail to open under another key, with
//! another SPI, or with a flipped ICV bit; `open` of an arbitrary plaintext
//! strips exactly Pad Length + 2 octets or fails when Pad Length does not
//! fit; a parsed ping parses back from `to_packet`.
#![no_main]

use libfuzzer_sys::fuzz_target;
use mobike_wire::WireError;
use mobike_wire::crypto::{GCM_ICV_LEN, GCM_IV_LEN, GcmKey};
use mobike_wire::esp::{self, ESP_HEADER_LEN, EspPlain, EspSa};
use mobike_wire::ip::Ping;

/// The SA the packets are for; seeds/make_seeds.py seals its esp seeds with
/// the same SPI and key material.
const SPI: u32 = 0xc0ff_ee01;
const KEYMAT: [u8; 20] = [0x42; 20];
/// Another direction's key (same SPI): must never open our packets.
const OTHER_KEYMAT: [u8; 20] = [0x43; 20];

fn sa(keymat: &[u8; 20], spi: u32) -> EspSa {
    EspSa {
        spi,
        key: GcmKey::from_keymat(keymat).expect("key"),
    }
}

fn ping(inner: &[u8]) {
    if let Ok(p) = Ping::parse(inner) {
        assert_eq!(Ping::parse(&p.to_packet()), Ok(p.clone()), "ping round trip");
        let r = p.reply();
        assert_eq!(Ping::parse(&r.to_packet()), Ok(r));
    }
}

/// Checks on a packet our SA opened.
fn opened(ours: &EspSa, packet: &[u8], o: &EspPlain) {
    assert_eq!(o.spi, SPI);
    assert_eq!(esp::spi(packet), Ok(SPI));
    assert_eq!(o.seq.to_be_bytes(), packet[4..8]);
    let overhead = ESP_HEADER_LEN + GCM_IV_LEN + 2 + GCM_ICV_LEN;
    assert!(o.payload.len() + overhead <= packet.len());
    // Re-sealing (canonical padding) opens to the same.
    let again = ours.seal(o.seq, o.next_header, &o.payload).expect("seal");
    assert_eq!(ours.open(&again).as_ref(), Ok(o), "open(seal(open(x))) != open(x)");
    assert_eq!(
        sa(&OTHER_KEYMAT, SPI).open(packet),
        Err(WireError::IcvMismatch),
        "another key opened the packet"
    );
    ping(&o.payload);
}

fuzz_target!(|data: &[u8]| {
    let Some((&mode, rest)) = data.split_first() else {
        return;
    };
    let ours = sa(&KEYMAT, SPI);
    match mode & 3 {
        0 => {
            let _ = esp::spi(rest);
            if let Ok(o) = ours.open(rest) {
                opened(&ours, rest, &o);
            }
        }
        1 => {
            let [s0, s1, s2, s3, next_header, payload @ ..] = rest else {
                return;
            };
            let seq = u32::from_be_bytes([*s0, *s1, *s2, *s3]);
            let packet = ours.seal(seq, *next_header, payload).expect("seal");
            let ct = packet.len() - ESP_HEADER_LEN - GCM_IV_LEN - GCM_ICV_LEN;
            assert_eq!(ct % 4, 0, "ESP ciphertext not 4-octet aligned (RFC 4303 §2.4)");
            assert!(ct >= payload.len() + 2 && ct < payload.len() + 6);
            let o = ours.open(&packet).expect("our own sealed packet does not open");
            assert_eq!(
                o,
                EspPlain {
                    spi: SPI,
                    seq,
                    next_header: *next_header,
                    payload: payload.to_vec(),
                },
                "open(seal(x)) != x"
            );
            opened(&ours, &packet, &o);
            assert!(sa(&KEYMAT, SPI ^ 1).open(&packet).is_err(), "wrong SPI opened");
            let mut bad = packet.clone();
            *bad.last_mut().expect("icv") ^= 1;
            assert_eq!(ours.open(&bad), Err(WireError::IcvMismatch));
        }
        2 => {
            let [s0, s1, s2, s3, plain @ ..] = rest else {
                return;
            };
            let seq = u32::from_be_bytes([*s0, *s1, *s2, *s3]);
            let mut packet = SPI.to_be_bytes().to_vec();
            packet.extend_from_slice(&seq.to_be_bytes());
            let iv = (seq as u64).to_be_bytes();
            let mut ct = plain.to_vec();
            let icv = ours.key.seal(&iv, &packet, &mut ct).expect("seal");
            packet.extend_from_slice(&iv);
            packet.extend_from_slice(&ct);
            packet.extend_from_slice(&icv);
            let got = ours.open(&packet);
            match plain {
                [.., pad, next_header] if *pad as usize + 2 <= plain.len() => {
                    let o = got.expect("a well-formed ESP plaintext does not open");
                    assert_eq!(o.next_header, *next_header);
                    assert_eq!(o.payload, plain[..plain.len() - 2 - *pad as usize]);
                    opened(&ours, &packet, &o);
                }
                _ => assert!(got.is_err(), "bad Pad Length or short plaintext accepted"),
            }
        }
        _ => ping(rest),
    }
});
