//! The inspector's byte view: every octet of a datagram as a row of named
//! fields, derived from the real bytes by [`mobike_wire::spans`] (DESIGN.md
//! §2), and, when the key is known, the decrypted inside of the SK payload
//! (RFC 7296 §3.14, RFC 5282 §5) or of an ESP packet (RFC 4303, RFC 4106).
//!
//! Offsets have one origin per dump: the outer rows count from the first
//! octet of the UDP payload (of the IP payload for plain ESP), exactly as
//! the hex dump does, so on port 4500 the four-octet non-ESP marker (RFC
//! 3948 §2.2, U-2.2-1) is row 0000 and the IKE header starts at 0004. The
//! inner rows count from the first octet of the plaintext.

use mobike_wire::WireError;
use mobike_wire::crypto::{GCM_ICV_LEN, GCM_IV_LEN, GcmKey};
use mobike_wire::esp::ESP_HEADER_LEN;
use mobike_wire::header::{HEADER_LEN, Header};
use mobike_wire::payload::walk_chain;
use mobike_wire::registry::PayloadType;
use mobike_wire::spans::{FieldSpan, decrypt_plaintext, message_spans, plaintext_spans};
use mobike_wire::udp::{NATT_PORT, NON_ESP_MARKER};

/// One field: where it is, its octets in hex, and what they mean.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ByteRow {
    /// `"HDR.Flags"`, `"N(COOKIE2).Notification Data"`, `"Non-ESP Marker"`.
    pub path: String,
    /// Offset of the first octet from the start of its dump: the UDP
    /// payload (outer rows) or the plaintext (inner rows).
    pub offset: usize,
    /// Number of octets (never 0).
    pub len: usize,
    /// The octets as lower-case hex pairs separated by spaces.
    pub hex: String,
    pub meaning: String,
}

/// How the datagram travelled, which decides how its first octets read.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Carrier {
    /// UDP with these ports: on 4500 (either end) the RFC 3948 rules apply
    /// (non-ESP marker, keepalive, UDP-encapsulated ESP); otherwise IKE.
    Udp { src_port: u16, dst_port: u16 },
    /// Plain ESP, IP protocol 50: the octets are an ESP packet.
    Esp,
}

/// What the datagram is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Content {
    /// An IKE message (after the non-ESP marker on port 4500).
    Ike,
    /// An ESP packet, UDP-encapsulated or plain.
    Esp,
    /// A NAT-keepalive, the one octet 0xFF (RFC 3948 §2.3).
    Keepalive,
    /// Nothing IKE, ESP or a keepalive can be.
    Other,
}

/// The inside of an encrypted datagram, decrypted.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Plaintext {
    /// The SK plaintext (inner payloads, Padding, Pad Length) or the ESP
    /// plaintext (inner packet, Padding, Pad Length, Next Header).
    pub bytes: Vec<u8>,
    /// Its fields; they cover every octet of `bytes`.
    pub rows: Vec<ByteRow>,
}

/// The byte view of one datagram.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ByteView {
    pub content: Content,
    /// Every octet of the datagram as sent, in order: the non-ESP marker,
    /// the IKE header, payloads, SK as IV / Ciphertext / ICV; or the ESP
    /// header, IV, ciphertext and ICV. Octets that cannot be read are one
    /// row whose meaning says why: the bytes are always shown.
    pub outer: Vec<ByteRow>,
    /// Why the outer rows stop at an unreadable part (the IKE header or
    /// payload chain does not walk, an ESP packet is too short).
    pub outer_error: Option<WireError>,
    /// The decrypted inside, when there is an SK payload or an ESP packet
    /// and it opened with the key.
    pub inner: Option<Plaintext>,
    /// Why `inner` is missing for a datagram that has an encrypted part:
    /// [`WireError::NoKeys`] without a key, [`WireError::IcvMismatch`] for a
    /// wrong key or tampered octets, ...
    pub inner_error: Option<WireError>,
}

/// The keys that may open a datagram: SK_ei or SK_er for an IKE message
/// (RFC 7296 §2.14, by the direction it travels), the ESP SA's key for an
/// ESP packet.
#[derive(Clone, Copy, Debug, Default)]
pub struct Keys<'a> {
    pub sk: Option<&'a GcmKey>,
    pub esp: Option<&'a GcmKey>,
}

pub(crate) fn spaced_hex(b: &[u8]) -> String {
    let mut s = String::with_capacity(b.len() * 3);
    for (i, x) in b.iter().enumerate() {
        if i > 0 {
            s.push(' ');
        }
        s.push_str(&format!("{x:02x}"));
    }
    s
}

fn plain_hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}

/// Rows from spans, shifted by `base` (the octets before the spans' input).
fn rows(spans: Vec<FieldSpan>, bytes: &[u8], base: usize) -> Vec<ByteRow> {
    spans
        .into_iter()
        .map(|s| ByteRow {
            hex: bytes
                .get(s.range.clone())
                .map(spaced_hex)
                .unwrap_or_default(),
            offset: base + s.range.start,
            len: s.range.len(),
            path: s.path,
            meaning: s.meaning,
        })
        .collect()
}

/// Builds rows over one buffer in order; empty fields are skipped.
struct Rows<'a> {
    bytes: &'a [u8],
    /// Offset of `bytes[0]` in the dump.
    base: usize,
    pos: usize,
    out: Vec<ByteRow>,
}

impl<'a> Rows<'a> {
    fn new(bytes: &'a [u8], base: usize) -> Rows<'a> {
        Rows {
            bytes,
            base,
            pos: 0,
            out: Vec::new(),
        }
    }

    /// The next `len` octets (or as many as are left) as `path`.
    fn take(&mut self, path: &str, len: usize, meaning: impl FnOnce(&[u8]) -> String) -> &'a [u8] {
        let end = (self.pos + len).min(self.bytes.len());
        let b = &self.bytes[self.pos.min(end)..end];
        if !b.is_empty() {
            self.out.push(ByteRow {
                path: path.to_string(),
                offset: self.base + self.pos,
                len: b.len(),
                hex: spaced_hex(b),
                meaning: meaning(b),
            });
        }
        self.pos = end;
        b
    }

    fn rest(&mut self, path: &str, meaning: impl FnOnce(&[u8]) -> String) -> &'a [u8] {
        let n = self.bytes.len().saturating_sub(self.pos);
        self.take(path, n, meaning)
    }
}

fn n_octets(n: usize) -> String {
    if n == 1 {
        "1 octet".into()
    } else {
        format!("{n} octets")
    }
}

/// True if the message's payload chain has an SK payload.
fn has_sk(bytes: &[u8]) -> bool {
    let Ok(h) = Header::parse(bytes) else {
        return false;
    };
    let body = bytes.get(HEADER_LEN..h.length as usize).unwrap_or(&[]);
    walk_chain(h.next_payload, body).is_ok_and(|raw| raw.iter().any(|r| r.kind == PayloadType::SK))
}

/// The IKE message `ike` (which starts at `base` in the dump): its rows,
/// or one row for all of it with the reason it cannot be read.
fn ike_outer(ike: &[u8], base: usize) -> (Vec<ByteRow>, Option<WireError>) {
    match message_spans(ike) {
        Ok(spans) => (rows(spans, ike, base), None),
        Err(e) => {
            let mut r = Rows::new(ike, base);
            r.rest("IKE message", |b| {
                format!("{}, not readable: {e}", n_octets(b.len()))
            });
            (r.out, Some(e))
        }
    }
}

/// The SK payload of `ike`, opened with `key`, as rows from the start of
/// the plaintext (RFC 7296 §3.14).
fn ike_inner(ike: &[u8], key: Option<&GcmKey>) -> (Option<Plaintext>, Option<WireError>) {
    if !has_sk(ike) {
        return (None, None);
    }
    let Some(key) = key else {
        return (None, Some(WireError::NoKeys));
    };
    let opened = Header::parse(ike).and_then(|h| {
        let (first, plain) = decrypt_plaintext(ike, key)?;
        let spans = plaintext_spans(first, &plain, !h.flags.response())?;
        Ok(Plaintext {
            rows: rows(spans, &plain, 0),
            bytes: plain,
        })
    });
    match opened {
        Ok(p) => (Some(p), None),
        Err(e) => (None, Some(e)),
    }
}

/// An ESP packet (starting at `base`): SPI, Sequence Number, IV,
/// ciphertext, ICV (RFC 4303 §2, RFC 4106 §3, 16-octet ICV).
fn esp_outer(esp: &[u8], base: usize) -> (Vec<ByteRow>, Option<WireError>) {
    let min = ESP_HEADER_LEN + GCM_IV_LEN + 2 + GCM_ICV_LEN;
    let mut r = Rows::new(esp, base);
    r.take("ESP.SPI", 4, |b| {
        format!(
            "{}: the receiver's inbound SA (RFC 4303 §2.1)",
            plain_hex(b)
        )
    });
    r.take("ESP.Sequence Number", 4, |b| match <[u8; 4]>::try_from(b) {
        Ok(n) => format!("{} (RFC 4303 §2.2)", u32::from_be_bytes(n)),
        Err(_) => n_octets(b.len()),
    });
    if esp.len() < min {
        let err = WireError::Truncated {
            what: "ESP packet",
            need: min,
            have: esp.len(),
        };
        r.rest("ESP.Rest", |b| {
            format!("{}, not readable: {err}", n_octets(b.len()))
        });
        return (r.out, Some(err));
    }
    r.take("ESP.IV", GCM_IV_LEN, |b| {
        format!(
            "{} (explicit part of the AES-GCM nonce, RFC 4106 §3.1)",
            plain_hex(b)
        )
    });
    let ct = esp.len() - r.pos - GCM_ICV_LEN;
    r.take("ESP.Ciphertext", ct, |b| {
        format!(
            "{}: encrypted inner packet, Padding, Pad Length, Next Header",
            n_octets(b.len())
        )
    });
    r.rest("ESP.ICV", |b| format!("{} (AES-GCM tag)", plain_hex(b)));
    (r.out, None)
}

/// "192.0.2.10" from four octets.
fn ipv4(b: &[u8]) -> String {
    b.iter()
        .map(|x| x.to_string())
        .collect::<Vec<_>>()
        .join(".")
}

/// Opens an ESP packet with `key` and names the plaintext: the inner IPv4
/// packet (header, ICMP echo, data), Padding, Pad Length and Next Header
/// (RFC 4303 §2.4 to §2.6).
fn esp_inner(esp: &[u8], key: Option<&GcmKey>) -> (Option<Plaintext>, Option<WireError>) {
    let Some(key) = key else {
        return (None, Some(WireError::NoKeys));
    };
    let min = ESP_HEADER_LEN + GCM_IV_LEN + 2 + GCM_ICV_LEN;
    if esp.len() < min {
        return (None, None);
    }
    let mut iv = [0u8; GCM_IV_LEN];
    iv.copy_from_slice(&esp[ESP_HEADER_LEN..ESP_HEADER_LEN + GCM_IV_LEN]);
    let ct_end = esp.len() - GCM_ICV_LEN;
    let mut icv = [0u8; GCM_ICV_LEN];
    icv.copy_from_slice(&esp[ct_end..]);
    let mut plain = esp[ESP_HEADER_LEN + GCM_IV_LEN..ct_end].to_vec();
    if let Err(e) = key.open(&iv, &esp[..ESP_HEADER_LEN], &mut plain, &icv) {
        return (None, Some(e));
    }
    let n = plain.len();
    let pad = plain[n - 2] as usize;
    if pad + 2 > n {
        return (
            None,
            Some(WireError::BadLength {
                what: "ESP Pad Length",
                value: pad,
            }),
        );
    }
    let inner_len = n - 2 - pad;
    let mut r = Rows::new(&plain, 0);
    let packet = &plain[..inner_len];
    let ihl = packet.first().map_or(0, |b| (b & 0x0f) as usize * 4);
    if packet.len() >= 20 && packet[0] >> 4 == 4 && ihl >= 20 && ihl <= packet.len() {
        let proto = packet[9];
        r.take("IPv4.Header", ihl, |b| {
            format!(
                "{} → {}, protocol {proto}{}, total length {}",
                ipv4(&b[12..16]),
                ipv4(&b[16..20]),
                if proto == 1 { " (ICMP)" } else { "" },
                u16::from_be_bytes([b[2], b[3]])
            )
        });
        if proto == 1 && packet.len() >= ihl + 8 {
            r.take("ICMP.Echo Header", 8, |b| {
                format!(
                    "{}, identifier {:#06x}, sequence {}",
                    match b[0] {
                        0 => "echo reply".to_string(),
                        8 => "echo request".to_string(),
                        t => format!("type {t}"),
                    },
                    u16::from_be_bytes([b[4], b[5]]),
                    u16::from_be_bytes([b[6], b[7]])
                )
            });
            r.take("ICMP.Data", inner_len - ihl - 8, |b| {
                if b.iter().all(|c| (0x20..0x7f).contains(c)) {
                    format!("\"{}\"", String::from_utf8_lossy(b))
                } else {
                    n_octets(b.len())
                }
            });
        } else {
            r.take("IPv4.Payload", inner_len - ihl, |b| n_octets(b.len()));
        }
    } else {
        r.take("Inner packet", inner_len, |b| n_octets(b.len()));
    }
    r.take("ESP.Padding", pad, |b| n_octets(b.len()));
    r.take("ESP.Pad Length", 1, |b| {
        format!("{} octets of padding", b[0])
    });
    r.take("ESP.Next Header", 1, |b| match b[0] {
        4 => "4 (IPv4: a tunnel-mode inner packet)".into(),
        41 => "41 (IPv6)".into(),
        v => v.to_string(),
    });
    (
        Some(Plaintext {
            rows: r.out,
            bytes: plain,
        }),
        None,
    )
}

/// The byte view of a datagram as sent: `payload` is the UDP payload (with
/// the non-ESP marker on port 4500), or the ESP packet for plain ESP. Never
/// fails: whatever cannot be read is shown as octets with the reason.
pub fn datagram_view(payload: &[u8], carrier: Carrier, keys: Keys) -> ByteView {
    // The sender's socket decides (RFC 3948 §2.2): a NAT may have put a
    // port 500 datagram on outside port 4500.
    let encapsulated = matches!(carrier, Carrier::Udp { src_port, .. } if src_port == NATT_PORT);
    let mut view = ByteView {
        content: Content::Other,
        outer: Vec::new(),
        outer_error: None,
        inner: None,
        inner_error: None,
    };
    let esp = |view: &mut ByteView, base: usize| {
        let bytes = &payload[base..];
        view.content = Content::Esp;
        let (rows, err) = esp_outer(bytes, base);
        view.outer.extend(rows);
        view.outer_error = err;
        (view.inner, view.inner_error) = esp_inner(bytes, keys.esp);
    };
    match carrier {
        Carrier::Esp => esp(&mut view, 0),
        Carrier::Udp { .. } if !encapsulated => {
            view.content = Content::Ike;
            (view.outer, view.outer_error) = ike_outer(payload, 0);
            (view.inner, view.inner_error) = ike_inner(payload, keys.sk);
        }
        Carrier::Udp { .. } => match payload {
            [0xFF] => {
                view.content = Content::Keepalive;
                let mut r = Rows::new(payload, 0);
                r.take("NAT-keepalive", 1, |_| {
                    "0xff: one octet that keeps NAT mappings alive; the receiver ignores it (RFC 3948 §2.3)".into()
                });
                view.outer = r.out;
            }
            [0, 0, 0, 0, ike @ ..] => {
                view.content = Content::Ike;
                let mut r = Rows::new(payload, 0);
                r.take("Non-ESP Marker", NON_ESP_MARKER.len(), |_| {
                    "00000000: an IKE message follows, not ESP (RFC 3948 §2.2)".into()
                });
                view.outer = r.out;
                let (rows, err) = ike_outer(ike, NON_ESP_MARKER.len());
                view.outer.extend(rows);
                view.outer_error = err;
                (view.inner, view.inner_error) = ike_inner(ike, keys.sk);
            }
            p if p.len() >= ESP_HEADER_LEN => esp(&mut view, 0),
            _ => {
                let mut r = Rows::new(payload, 0);
                r.rest("Datagram", |b| {
                    format!(
                        "{}: neither IKE, ESP nor a keepalive on port 4500 (RFC 3948 §2)",
                        n_octets(b.len())
                    )
                });
                view.outer = r.out;
            }
        },
    }
    view
}

#[cfg(test)]
mod tests {
    use super::*;
    use mobike_wire::esp::EspSa;
    use mobike_wire::header::Flags;
    use mobike_wire::ip::Ping;
    use mobike_wire::message::Message;
    use mobike_wire::payload::{Notify, Payload};
    use mobike_wire::registry::ExchangeType;
    use mobike_wire::udp::frame_ike;

    fn key() -> GcmKey {
        GcmKey::from_keymat(&[5u8; 20]).unwrap()
    }

    const NATT: Carrier = Carrier::Udp {
        src_port: 4500,
        dst_port: 4500,
    };

    fn sk(k: &GcmKey) -> Keys<'_> {
        Keys {
            sk: Some(k),
            esp: None,
        }
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

    /// The rows are in order, touch, and spell out every octet of `bytes`.
    fn covers(rows: &[ByteRow], bytes: &[u8]) {
        let mut at = 0;
        for r in rows {
            assert_eq!(r.offset, at, "{r:?}");
            assert!(r.len > 0, "{r:?}");
            assert_eq!(r.hex.split(' ').count(), r.len, "{r:?}");
            at += r.len;
        }
        assert_eq!(at, bytes.len());
        let all: Vec<String> = rows.iter().map(|r| r.hex.clone()).collect();
        assert_eq!(all.join(" "), spaced_hex(bytes));
    }

    #[test]
    fn on_port_4500_the_marker_is_row_0000_and_the_header_starts_at_4() {
        let ike = update();
        let datagram = frame_ike(&ike, 4500);
        let k = key();
        let v = datagram_view(&datagram, NATT, sk(&k));
        assert_eq!(v.content, Content::Ike);
        covers(&v.outer, &datagram);
        assert_eq!(v.outer[0].path, "Non-ESP Marker");
        assert_eq!((v.outer[0].offset, v.outer[0].len), (0, 4));
        assert_eq!(v.outer[1].path, "HDR.IKE SA Initiator's SPI");
        assert_eq!(v.outer[1].offset, 4);
        assert_eq!(v.outer[1].hex, "97 32 df f0 5c be f8 93");
        assert_eq!(v.inner_error, None);
        let inner = v.inner.unwrap();
        let (_, plain) = decrypt_plaintext(&ike, &key()).unwrap();
        assert_eq!(inner.bytes, plain);
        covers(&inner.rows, &plain);
        let cookie = inner
            .rows
            .iter()
            .find(|r| r.path == "N(COOKIE2).Notification Data")
            .unwrap();
        assert_eq!(cookie.meaning, "COOKIE2 = 18db59d7…");
        assert_eq!(cookie.hex, "18 db 59 d7 01 02 03 04 05 06 07 08");
        assert_eq!(inner.rows.last().unwrap().path, "SK.Pad Length");
    }

    #[test]
    fn on_port_500_there_is_no_marker() {
        let ike = update();
        let v = datagram_view(
            &ike,
            Carrier::Udp {
                src_port: 500,
                dst_port: 500,
            },
            Keys::default(),
        );
        covers(&v.outer, &ike);
        assert_eq!(v.outer[0].path, "HDR.IKE SA Initiator's SPI");
    }

    #[test]
    fn without_or_with_a_wrong_key_the_outer_view_remains() {
        let datagram = frame_ike(&update(), 4500);
        let v = datagram_view(&datagram, NATT, Keys::default());
        covers(&v.outer, &datagram);
        assert_eq!((v.inner, v.inner_error), (None, Some(WireError::NoKeys)));
        let other = GcmKey::from_keymat(&[6u8; 20]).unwrap();
        let v = datagram_view(&datagram, NATT, sk(&other));
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
        let port500 = Carrier::Udp {
            src_port: 500,
            dst_port: 500,
        };
        let k = key();
        let v = datagram_view(&bytes, port500, sk(&k));
        covers(&v.outer, &bytes);
        assert_eq!((v.inner, v.inner_error), (None, None));
        assert_eq!(v.outer_error, None);
    }

    /// A message that does not parse still shows every octet, with why.
    #[test]
    fn unreadable_messages_show_their_bytes_and_the_reason() {
        let ike = update();
        for cut in [3, 20, 40, ike.len() - 1] {
            let datagram = frame_ike(&ike[..cut], 4500);
            let v = datagram_view(&datagram, NATT, Keys::default());
            covers(&v.outer, &datagram);
            if cut < HEADER_LEN {
                assert!(v.outer_error.is_some());
                assert!(
                    v.outer[1].meaning.contains("not readable"),
                    "{:?}",
                    v.outer[1]
                );
            }
        }
        let mut tampered = ike.clone();
        let n = tampered.len();
        tampered[n - 20] ^= 1;
        let k = key();
        let v = datagram_view(&frame_ike(&tampered, 4500), NATT, sk(&k));
        assert_eq!(v.inner_error, Some(WireError::IcvMismatch));
        let v = datagram_view(&[0, 0, 7], NATT, Keys::default());
        assert_eq!(v.content, Content::Other);
        covers(&v.outer, &[0, 0, 7]);
        assert!(datagram_view(&[], NATT, Keys::default()).outer.is_empty());
    }

    #[test]
    fn a_keepalive_is_one_named_octet() {
        let v = datagram_view(
            &[0xff],
            Carrier::Udp {
                src_port: 4500,
                dst_port: 4500,
            },
            Keys::default(),
        );
        assert_eq!(v.content, Content::Keepalive);
        assert_eq!(v.outer.len(), 1);
        assert!(v.outer[0].meaning.contains("RFC 3948 §2.3"));
    }

    #[test]
    fn esp_opens_to_the_ping_inside() {
        let k = GcmKey::from_keymat(&[0x42; 20]).unwrap();
        let sa = EspSa {
            spi: 0xc0ffee01,
            key: k.clone(),
        };
        let ping = Ping {
            src: "10.0.0.1".parse().unwrap(),
            dst: "10.0.0.2".parse().unwrap(),
            reply: false,
            ident: 0x4d42,
            seq: 7,
        };
        let packet = sa.seal(7, 4, &ping.to_packet()).unwrap();
        let keys = Keys {
            sk: None,
            esp: Some(&k),
        };
        for (carrier, datagram) in [(Carrier::Esp, packet.clone()), (NATT, packet.clone())] {
            let v = datagram_view(&datagram, carrier, keys);
            assert_eq!(v.content, Content::Esp);
            covers(&v.outer, &datagram);
            assert_eq!(
                v.outer[0].meaning,
                "c0ffee01: the receiver's inbound SA (RFC 4303 §2.1)"
            );
            assert_eq!(v.outer[1].meaning, "7 (RFC 4303 §2.2)");
            let inner = v.inner.unwrap();
            covers(&inner.rows, &inner.bytes);
            let paths: Vec<&str> = inner.rows.iter().map(|r| r.path.as_str()).collect();
            assert_eq!(
                paths,
                [
                    "IPv4.Header",
                    "ICMP.Echo Header",
                    "ICMP.Data",
                    "ESP.Padding",
                    "ESP.Pad Length",
                    "ESP.Next Header"
                ]
            );
            assert!(
                inner.rows[0]
                    .meaning
                    .starts_with("10.0.0.1 → 10.0.0.2, protocol 1 (ICMP)")
            );
            assert_eq!(
                inner.rows[1].meaning,
                "echo request, identifier 0x4d42, sequence 7"
            );
            assert_eq!(inner.rows[2].meaning, "\"mobike-playground\"");
        }
        let v = datagram_view(&packet, Carrier::Esp, Keys::default());
        assert_eq!(v.inner_error, Some(WireError::NoKeys));
        let v = datagram_view(&packet[..20], Carrier::Esp, keys);
        covers(&v.outer, &packet[..20]);
        assert!(v.outer_error.is_some());
    }
}
