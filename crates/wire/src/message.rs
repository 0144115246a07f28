//! Whole IKE messages: header plus payload chain, with the SK payload sealed
//! and opened with AES-GCM-16 (RFC 7296 §3.14, RFC 5282 §5).

use crate::crypto::{GCM_ICV_LEN, GCM_IV_LEN, GcmKey};
use crate::error::{Result, WireError};
use crate::header::{HEADER_LEN, Header};
use crate::payload::{GENERIC_HEADER_LEN, Payload, emit_chain, notation, parse_chain, walk_chain};
use crate::registry::{ExchangeType, NotifyType, PayloadType};
use core::fmt;

/// A parsed IKE message. For a protected message the last payload is
/// [`Payload::Sk`] and [`decrypt`] gives the inner payloads.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Message {
    pub header: Header,
    pub payloads: Vec<Payload>,
}

impl Message {
    /// Parses an IKE message (no non-ESP marker). Octets after the header's
    /// Length are an error, as are unknown critical payloads.
    pub fn parse(bytes: &[u8]) -> Result<Message> {
        let header = Header::parse(bytes)?;
        if bytes.len() != header.length as usize {
            return Err(WireError::BadLength {
                what: "octets after the IKE message's Length",
                value: bytes.len() - header.length as usize,
            });
        }
        let body = &bytes[HEADER_LEN..];
        let raw = walk_chain(header.next_payload, body)?;
        let mut payloads = Vec::with_capacity(raw.len());
        for r in raw {
            let b = &body[r.range.start + GENERIC_HEADER_LEN..r.range.end];
            if r.kind == PayloadType::SK {
                if b.len() < GCM_IV_LEN + GCM_ICV_LEN + 1 {
                    return Err(WireError::Truncated {
                        what: "SK payload",
                        need: GCM_IV_LEN + GCM_ICV_LEN + 1,
                        have: b.len(),
                    });
                }
                payloads.push(Payload::Sk {
                    first: r.next,
                    body: b.to_vec(),
                });
            } else {
                payloads.push(Payload::parse_body(r.kind, r.critical, b)?);
            }
        }
        Ok(Message { header, payloads })
    }

    /// Emits an unprotected message (IKE_SA_INIT), filling in Next Payload
    /// and Length.
    pub fn emit_plain(mut header: Header, payloads: &[Payload]) -> Vec<u8> {
        let mut body = Vec::new();
        header.next_payload = emit_chain(payloads, &mut body);
        header.length = (HEADER_LEN + body.len()) as u32;
        let mut out = Vec::with_capacity(header.length as usize);
        header.emit(&mut out);
        out.extend_from_slice(&body);
        out
    }

    /// Emits a protected message: `inner` payloads encrypted in one SK
    /// payload with `key` and the explicit 8-octet `iv` (which must never
    /// repeat under one key). AAD is the IKE header and the SK generic header
    /// (RFC 5282 §5.1). No padding is needed for GCM: Pad Length is 0.
    pub fn emit_encrypted(
        mut header: Header,
        inner: &[Payload],
        key: &GcmKey,
        iv: [u8; GCM_IV_LEN],
    ) -> Result<Vec<u8>> {
        // Room for a liveness check or an address update in one go.
        let mut plain = Vec::with_capacity(256);
        let first = emit_chain(inner, &mut plain);
        plain.push(0); // Pad Length
        let sk_len = GENERIC_HEADER_LEN + GCM_IV_LEN + plain.len() + GCM_ICV_LEN;
        header.next_payload = PayloadType::SK;
        header.length = (HEADER_LEN + sk_len) as u32;
        let mut out = Vec::with_capacity(header.length as usize);
        header.emit(&mut out);
        out.push(first.value());
        out.push(0);
        out.extend_from_slice(&(sk_len as u16).to_be_bytes());
        let aad_end = out.len();
        let icv = key.seal(&iv, &out[..aad_end], &mut plain)?;
        out.extend_from_slice(&iv);
        out.extend_from_slice(&plain);
        out.extend_from_slice(&icv);
        Ok(out)
    }

    /// The notifies among the (outer) payloads.
    pub fn notifies(&self) -> impl Iterator<Item = &crate::payload::Notify> {
        self.payloads.iter().filter_map(Payload::as_notify)
    }
}

/// Opens the SK payload of the protected message `bytes`: checks the length,
/// verifies the ICV with AAD = the octets from the IKE header to the end of
/// the SK generic header (RFC 5282 §5.1) and decrypts. Returns the first
/// inner payload type and the whole plaintext, Padding and Pad Length
/// included (the byte view shows them).
pub fn open_sk(bytes: &[u8], key: &GcmKey) -> Result<(PayloadType, Vec<u8>)> {
    let header = Header::parse(bytes)?;
    if bytes.len() != header.length as usize {
        return Err(WireError::BadLength {
            what: "octets after the IKE message's Length",
            value: bytes.len() - header.length as usize,
        });
    }
    let body = &bytes[HEADER_LEN..];
    let raw = walk_chain(header.next_payload, body)?;
    let sk = raw
        .iter()
        .find(|r| r.kind == PayloadType::SK)
        .ok_or(WireError::Malformed("message without SK payload"))?;
    let aad_end = HEADER_LEN + sk.range.start + GENERIC_HEADER_LEN;
    let sk_body = &bytes[aad_end..HEADER_LEN + sk.range.end];
    if sk_body.len() < GCM_IV_LEN + GCM_ICV_LEN + 1 {
        return Err(WireError::Truncated {
            what: "SK payload",
            need: GCM_IV_LEN + GCM_ICV_LEN + 1,
            have: sk_body.len(),
        });
    }
    let mut iv = [0u8; GCM_IV_LEN];
    iv.copy_from_slice(&sk_body[..GCM_IV_LEN]);
    let ct_end = sk_body.len() - GCM_ICV_LEN;
    let mut icv = [0u8; GCM_ICV_LEN];
    icv.copy_from_slice(&sk_body[ct_end..]);
    let mut plain = sk_body[GCM_IV_LEN..ct_end].to_vec();
    key.open(&iv, &bytes[..aad_end], &mut plain, &icv)?;
    Ok((sk.next, plain))
}

/// Where the inner payloads of an SK plaintext end: before the Padding and
/// the Pad Length octet (RFC 7296 §3.14), which must fit.
pub fn payloads_len(plain: &[u8]) -> Result<usize> {
    let pad_len = *plain
        .last()
        .ok_or(WireError::Malformed("empty SK plaintext"))? as usize;
    if pad_len + 1 > plain.len() {
        return Err(WireError::BadLength {
            what: "SK Pad Length",
            value: pad_len,
        });
    }
    Ok(plain.len() - pad_len - 1)
}

/// Opens the SK payload of the protected message `bytes` ([`open_sk`]),
/// strips the padding and parses the inner payload chain.
pub fn decrypt(bytes: &[u8], key: &GcmKey) -> Result<Vec<Payload>> {
    let (first, mut plain) = open_sk(bytes, key)?;
    plain.truncate(payloads_len(&plain)?);
    parse_chain(first, &plain)
}

/// RFC notation for a message: `HDR, SA, KE, Ni, N(...)` or
/// `HDR, SK {N(UPDATE_SA_ADDRESSES), ...}` when `inner` holds the decrypted
/// payloads of a protected message.
pub struct Notation<'a> {
    pub outer: &'a [Payload],
    pub inner: Option<&'a [Payload]>,
    /// The message is a request (nonces read `Ni`), not a response.
    pub request: bool,
}

impl fmt::Display for Notation<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("HDR")?;
        for p in self.outer {
            if let Payload::Sk { .. } = p {
                match self.inner {
                    Some(inner) => {
                        let items: Vec<String> =
                            inner.iter().map(|p| notation(p, self.request)).collect();
                        write!(f, ", SK {{{}}}", items.join(", "))?;
                    }
                    None => f.write_str(", SK {...}")?,
                }
            } else {
                write!(f, ", {}", notation(p, self.request))?;
            }
        }
        Ok(())
    }
}

/// The payload types of a message in RFC notation, one item per payload
/// (used to fold long lists in charts).
pub fn notation_items(inner: &[Payload], request: bool) -> Vec<String> {
    inner.iter().map(|p| notation(p, request)).collect()
}

/// True if the payload list holds a notify of this type.
pub fn has_notify(payloads: &[Payload], kind: NotifyType) -> bool {
    payloads
        .iter()
        .any(|p| p.as_notify().is_some_and(|n| n.kind == kind))
}

/// The data of the first notify of this type.
pub fn notify_data(payloads: &[Payload], kind: NotifyType) -> Option<&[u8]> {
    payloads
        .iter()
        .filter_map(Payload::as_notify)
        .find(|n| n.kind == kind)
        .map(|n| n.data.as_slice())
}

/// Short name of an exchange for charts.
pub fn exchange_name(e: ExchangeType) -> String {
    e.to_string()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::header::Flags;
    use crate::payload::Notify;

    fn hdr(exchange: ExchangeType, mid: u32) -> Header {
        Header {
            spi_i: 0x1111,
            spi_r: 0x2222,
            next_payload: PayloadType::None,
            exchange,
            flags: Flags::new(true, false),
            message_id: mid,
            length: 0,
        }
    }

    #[test]
    fn encrypted_message_round_trip_and_notation() {
        let key = GcmKey::from_keymat(&[5u8; 20]).unwrap();
        let inner = vec![
            Payload::Notify(Notify::empty(NotifyType::UPDATE_SA_ADDRESSES)),
            Payload::Notify(Notify::new(NotifyType::COOKIE2, vec![1; 16])),
        ];
        let bytes = Message::emit_encrypted(
            hdr(ExchangeType::INFORMATIONAL, 2),
            &inner,
            &key,
            [0, 0, 0, 0, 0, 0, 0, 2],
        )
        .unwrap();
        let m = Message::parse(&bytes).unwrap();
        assert_eq!(m.header.message_id, 2);
        assert_eq!(m.header.length as usize, bytes.len());
        let opened = decrypt(&bytes, &key).unwrap();
        assert_eq!(opened, inner);
        let text = Notation {
            outer: &m.payloads,
            inner: Some(&opened),
            request: true,
        }
        .to_string();
        assert_eq!(text, "HDR, SK {N(UPDATE_SA_ADDRESSES), N(COOKIE2)}");
    }

    #[test]
    fn empty_informational_is_57_octets_like_strongswan() {
        // strongSwan's liveness check (msc.txt, frame 11): len=57 with its
        // 8-octet IV, 16-octet ICV and a Pad Length octet.
        let key = GcmKey::from_keymat(&[5u8; 20]).unwrap();
        let bytes = Message::emit_encrypted(hdr(ExchangeType::INFORMATIONAL, 2), &[], &key, [0; 8])
            .unwrap();
        assert_eq!(bytes.len(), 57);
        assert_eq!(decrypt(&bytes, &key).unwrap(), vec![]);
    }

    #[test]
    fn tampering_is_detected() {
        let key = GcmKey::from_keymat(&[5u8; 20]).unwrap();
        let inner = vec![Payload::Notify(Notify::new(
            NotifyType::COOKIE2,
            vec![1; 16],
        ))];
        let bytes =
            Message::emit_encrypted(hdr(ExchangeType::INFORMATIONAL, 3), &inner, &key, [9; 8])
                .unwrap();
        for i in [0usize, 20, 30, 40, bytes.len() - 1] {
            let mut t = bytes.clone();
            t[i] ^= 1;
            assert!(decrypt(&t, &key).is_err(), "flip at {i} accepted");
        }
        let other = GcmKey::from_keymat(&[6u8; 20]).unwrap();
        assert_eq!(decrypt(&bytes, &other), Err(WireError::IcvMismatch));
    }

    #[test]
    fn octets_after_the_length_are_an_error() {
        let key = GcmKey::from_keymat(&[5u8; 20]).unwrap();
        let mut bytes =
            Message::emit_encrypted(hdr(ExchangeType::INFORMATIONAL, 2), &[], &key, [0; 8])
                .unwrap();
        bytes.extend_from_slice(&[1, 2, 3]);
        assert!(matches!(
            Message::parse(&bytes),
            Err(WireError::BadLength { .. })
        ));
        assert!(matches!(
            decrypt(&bytes, &key),
            Err(WireError::BadLength { .. })
        ));
    }

    #[test]
    fn truncations_never_panic() {
        let key = GcmKey::from_keymat(&[5u8; 20]).unwrap();
        let inner = vec![Payload::Notify(Notify::empty(NotifyType::MOBIKE_SUPPORTED))];
        let bytes =
            Message::emit_encrypted(hdr(ExchangeType::IKE_AUTH, 1), &inner, &key, [1; 8]).unwrap();
        for n in 0..bytes.len() {
            let _ = Message::parse(&bytes[..n]);
            let _ = decrypt(&bytes[..n], &key);
        }
    }
}
