//! The inspector's byte view: every octet of an IKE message as a row of
//! named fields, derived from the real bytes by
//! [`mobike_wire::spans`] (DESIGN.md §2), and, when the key is known, the
//! decrypted inside of the SK payload (RFC 7296 §3.14, RFC 5282 §5).

use mobike_wire::WireError;
use mobike_wire::crypto::GcmKey;
use mobike_wire::header::{HEADER_LEN, Header};
use mobike_wire::payload::walk_chain;
use mobike_wire::registry::PayloadType;
use mobike_wire::spans::{FieldSpan, decrypt_plaintext, message_spans, plaintext_spans};

/// One field: where it is, its octets in hex, and what they mean.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ByteRow {
    /// `"HDR.Flags"`, `"N(COOKIE2).Notification Data"`, ...
    pub path: String,
    /// Offset of the first octet in the IKE message (outer rows) or in the
    /// SK plaintext (inner rows).
    pub offset: usize,
    /// Number of octets.
    pub len: usize,
    /// The octets as lower-case hex pairs separated by spaces.
    pub hex: String,
    pub meaning: String,
}

/// The byte view of one IKE message.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ByteView {
    /// The message as sent: IKE header, payloads, SK as IV / Ciphertext / ICV.
    pub outer: Vec<ByteRow>,
    /// The decrypted SK plaintext (inner payloads, Padding, Pad Length),
    /// when the message has an SK payload and it opened with the key.
    pub inner: Option<Vec<ByteRow>>,
    /// Why `inner` is missing for a message that has an SK payload:
    /// [`WireError::NoKeys`] without a key, [`WireError::IcvMismatch`] for a
    /// wrong key or tampered octets, ... The outer rows are still shown.
    pub inner_error: Option<WireError>,
}

fn spaced_hex(b: &[u8]) -> String {
    let mut s = String::with_capacity(b.len() * 3);
    for (i, x) in b.iter().enumerate() {
        if i > 0 {
            s.push(' ');
        }
        s.push_str(&format!("{x:02x}"));
    }
    s
}

fn rows(spans: Vec<FieldSpan>, bytes: &[u8]) -> Vec<ByteRow> {
    spans
        .into_iter()
        .map(|s| ByteRow {
            hex: bytes
                .get(s.range.clone())
                .map(spaced_hex)
                .unwrap_or_default(),
            offset: s.range.start,
            len: s.range.len(),
            path: s.path,
            meaning: s.meaning,
        })
        .collect()
}

/// True if the message's payload chain has an SK payload.
fn has_sk(bytes: &[u8]) -> bool {
    let Ok(h) = Header::parse(bytes) else {
        return false;
    };
    let body = bytes.get(HEADER_LEN..h.length as usize).unwrap_or(&[]);
    walk_chain(h.next_payload, body).is_ok_and(|raw| raw.iter().any(|r| r.kind == PayloadType::SK))
}

/// The byte view of `ike_bytes` (an IKE message, no non-ESP marker). Fails
/// only if the header or the payload chain cannot be walked (the same
/// errors as [`mobike_wire::Message::parse`]); a payload body that does not
/// decode, or an SK payload that does not open, is still shown.
///
/// `key` opens the SK payload: SK_ei for a message from the original
/// initiator, SK_er for one from the original responder (RFC 7296 §2.14).
pub fn byte_view(ike_bytes: &[u8], key: Option<&GcmKey>) -> Result<ByteView, WireError> {
    let outer = rows(message_spans(ike_bytes)?, ike_bytes);
    let (inner, inner_error) = if !has_sk(ike_bytes) {
        (None, None)
    } else {
        match key {
            None => (None, Some(WireError::NoKeys)),
            Some(key) => {
                let from_initiator = Header::parse(ike_bytes)?.flags.initiator();
                match decrypt_plaintext(ike_bytes, key).and_then(|(first, plain)| {
                    plaintext_spans(first, &plain, from_initiator).map(|s| rows(s, &plain))
                }) {
                    Ok(r) => (Some(r), None),
                    Err(e) => (None, Some(e)),
                }
            }
        }
    };
    Ok(ByteView {
        outer,
        inner,
        inner_error,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use mobike_wire::header::Flags;
    use mobike_wire::message::Message;
    use mobike_wire::payload::{Notify, Payload};
    use mobike_wire::registry::ExchangeType;

    fn key() -> GcmKey {
        GcmKey::from_keymat(&[5u8; 20]).unwrap()
    }

    fn update() -> Vec<u8> {
        Message::emit_encrypted(
            Header {
                spi_i: 0x9732_dff0_5cbe_f893,
                spi_r: 0x91d7_0a7f_afbf_4620,
                next_payload: PayloadType::None,
                exchange: ExchangeType::INFORMATIONAL,
                flags: Flags::new(true, false),
                message_id: 3,
                length: 0,
            },
            &[
                Payload::Notify(Notify::update_sa_addresses()),
                Payload::Notify(
                    Notify::cookie2(&[0x18, 0xdb, 0x59, 0xd7, 1, 2, 3, 4, 5, 6, 7, 8]).unwrap(),
                ),
            ],
            &key(),
            [0, 0, 0, 0, 0, 0, 0, 3],
        )
        .unwrap()
    }

    fn covers(rows: &[ByteRow], bytes: &[u8]) {
        let mut at = 0;
        for r in rows {
            assert_eq!(r.offset, at, "{r:?}");
            assert_eq!(r.hex.split(' ').count(), r.len, "{r:?}");
            at += r.len;
        }
        assert_eq!(at, bytes.len());
        let all: Vec<String> = rows.iter().map(|r| r.hex.clone()).collect();
        assert_eq!(all.join(" "), spaced_hex(bytes));
    }

    #[test]
    fn outer_and_inner_rows_cover_every_octet() {
        let bytes = update();
        let v = byte_view(&bytes, Some(&key())).unwrap();
        covers(&v.outer, &bytes);
        assert_eq!(v.outer[0].path, "HDR.IKE SA Initiator's SPI");
        assert_eq!(v.outer[0].hex, "97 32 df f0 5c be f8 93");
        assert_eq!(v.inner_error, None);
        let inner = v.inner.unwrap();
        let (_, plain) = decrypt_plaintext(&bytes, &key()).unwrap();
        covers(&inner, &plain);
        let cookie = inner
            .iter()
            .find(|r| r.path == "N(COOKIE2).Notification Data")
            .unwrap();
        assert_eq!(cookie.meaning, "COOKIE2 = 18db59d7…");
        assert_eq!(cookie.hex, "18 db 59 d7 01 02 03 04 05 06 07 08");
        assert_eq!(inner.last().unwrap().path, "SK.Pad Length");
    }

    #[test]
    fn without_or_with_a_wrong_key_the_outer_view_remains() {
        let bytes = update();
        let v = byte_view(&bytes, None).unwrap();
        covers(&v.outer, &bytes);
        assert_eq!((v.inner, v.inner_error), (None, Some(WireError::NoKeys)));
        let other = GcmKey::from_keymat(&[6u8; 20]).unwrap();
        let v = byte_view(&bytes, Some(&other)).unwrap();
        assert_eq!(v.inner_error, Some(WireError::IcvMismatch));
        assert!(v.outer.iter().any(|r| r.path == "SK.ICV"));
    }

    #[test]
    fn plain_messages_have_no_inner_view() {
        let bytes = Message::emit_plain(
            Header {
                spi_i: 1,
                spi_r: 0,
                next_payload: PayloadType::None,
                exchange: ExchangeType::IKE_SA_INIT,
                flags: Flags::new(true, false),
                message_id: 0,
                length: 0,
            },
            &[Payload::Nonce(vec![9; 16])],
        );
        let v = byte_view(&bytes, Some(&key())).unwrap();
        covers(&v.outer, &bytes);
        assert_eq!((v.inner, v.inner_error), (None, None));
        assert!(byte_view(&bytes[..20], None).is_err());
    }
}
