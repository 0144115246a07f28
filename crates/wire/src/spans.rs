//! Field spans: which octets of a message are which field, named as in the
//! RFC figures, for the inspector's byte view (DESIGN.md §2: "parsing also
//! yields field spans so the UI's byte view is derived from real bytes").
//!
//! Spans are leaf fields: in order, non-overlapping, never empty, and
//! together they cover every octet of the input. The header and the
//! payload chain structure (generic headers, Payload Length) must be
//! sound, or [`message_spans`] fails with the same [`WireError`] as
//! [`crate::Message::parse`]; a payload *body* that does not decode is still
//! shown, as the fields read so far and one `malformed` span with the
//! reason, because the inspector must be able to show a rejected message.

use crate::crypto::{GCM_ICV_LEN, GCM_IV_LEN, GcmKey};
use crate::error::{Result, WireError};
use crate::header::{Flags, HEADER_LEN, Header};
use crate::notify::NotifyData;
use crate::payload::{CfgAttribute, CfgType, GENERIC_HEADER_LEN, Identification, cfg_attr, hex};
use crate::registry::{ExchangeType, NotifyType, PayloadType, ProtocolId, TransformType};
use core::ops::Range;
use std::collections::HashMap;

/// One field of a message: `path` names it like the RFC figures
/// (`"N(COOKIE2).Notify Message Type"`), `range` is where its octets are in
/// the input (plus any base offset), `meaning` says what the value means.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FieldSpan {
    pub path: String,
    pub range: Range<usize>,
    pub meaning: String,
}

/// The field spans of a whole IKE message (no non-ESP marker): the IKE
/// header (RFC 7296 §3.1), then each payload's generic header (§3.2) and
/// body fields. The SK payload is shown as IV, Ciphertext and ICV (RFC 5282
/// §5); see [`plaintext_spans`] for its inside. Octets after the header's
/// Length, if any, are one `Trailing data` span.
pub fn message_spans(bytes: &[u8]) -> Result<Vec<FieldSpan>> {
    let header = Header::parse(bytes)?;
    let len = header.length as usize;
    let mut sp = Spanner {
        data: bytes,
        base: 0,
        pos: 0,
        out: Vec::new(),
    };
    header_spans(&mut sp, &header)?;
    chain(
        &mut sp,
        header.next_payload,
        len,
        Some(!header.flags.response()),
    )?;
    if len < bytes.len() {
        sp.rest(bytes.len(), "", "Trailing data", |b| {
            format!(
                "{} octets after the IKE header's Length (not part of the message)",
                b.len()
            )
        })?;
    }
    Ok(sp.out)
}

/// The field spans of a payload chain starting with type `first`, e.g. the
/// decrypted inside of an SK payload. Ranges are offsets into `bytes` plus
/// `base`. Nonce payloads are labelled `Nonce`; use [`chain_spans_from`]
/// to label them `Ni` / `Nr`.
pub fn chain_spans(first: PayloadType, bytes: &[u8], base: usize) -> Result<Vec<FieldSpan>> {
    chain_spans_inner(first, bytes, base, None)
}

/// [`chain_spans`] for a request (`request`) or a response, so nonces read
/// `Ni` or `Nr`: RFC 7296 names them by the exchange's roles (Ni in the
/// request of IKE_SA_INIT and of CREATE_CHILD_SA, Nr in their responses).
pub fn chain_spans_from(
    first: PayloadType,
    bytes: &[u8],
    base: usize,
    request: bool,
) -> Result<Vec<FieldSpan>> {
    chain_spans_inner(first, bytes, base, Some(request))
}

fn chain_spans_inner(
    first: PayloadType,
    bytes: &[u8],
    base: usize,
    request: Option<bool>,
) -> Result<Vec<FieldSpan>> {
    let mut sp = Spanner {
        data: bytes,
        base,
        pos: 0,
        out: Vec::new(),
    };
    chain(&mut sp, first, bytes.len(), request)?;
    Ok(sp.out)
}

/// The field spans of a whole SK plaintext as [`decrypt_plaintext`] returns
/// it: the inner payloads, then Padding (if any) and Pad Length (RFC 7296
/// §3.14). Offsets are relative to the plaintext.
pub fn plaintext_spans(first: PayloadType, plain: &[u8], request: bool) -> Result<Vec<FieldSpan>> {
    let payloads_end = crate::message::payloads_len(plain)?;
    let pad_len = plain.len() - payloads_end - 1;
    let mut sp = Spanner {
        data: plain,
        base: 0,
        pos: 0,
        out: Vec::new(),
    };
    chain(&mut sp, first, payloads_end, Some(request))?;
    sp.field(plain.len(), "SK", "Padding", pad_len, |b| {
        format!("{} octets", b.len())
    })?;
    sp.field(plain.len(), "SK", "Pad Length", 1, |b| {
        format!("{} octets of padding", b[0])
    })?;
    Ok(sp.out)
}

/// Opens the SK payload of `bytes`: see [`crate::message::open_sk`].
pub fn decrypt_plaintext(bytes: &[u8], key: &GcmKey) -> Result<(PayloadType, Vec<u8>)> {
    crate::message::open_sk(bytes, key)
}

/// Walks the data and records leaf fields in order.
struct Spanner<'a> {
    data: &'a [u8],
    base: usize,
    pos: usize,
    out: Vec<FieldSpan>,
}

impl<'a> Spanner<'a> {
    /// Records the next `len` octets (which must end by `end`) as
    /// `prefix.name` and returns them. Empty fields are not recorded.
    fn field(
        &mut self,
        end: usize,
        prefix: &str,
        name: &'static str,
        len: usize,
        meaning: impl FnOnce(&'a [u8]) -> String,
    ) -> Result<&'a [u8]> {
        let have = end.saturating_sub(self.pos);
        if len > have {
            return Err(WireError::Truncated {
                what: name,
                need: len,
                have,
            });
        }
        let data = self.data;
        let b = &data[self.pos..self.pos + len];
        if len > 0 {
            let path = if prefix.is_empty() {
                name.to_string()
            } else {
                format!("{prefix}.{name}")
            };
            self.out.push(FieldSpan {
                path,
                range: self.base + self.pos..self.base + self.pos + len,
                meaning: meaning(b),
            });
        }
        self.pos += len;
        Ok(b)
    }

    /// Records everything up to `end` as one field.
    fn rest(
        &mut self,
        end: usize,
        prefix: &str,
        name: &'static str,
        meaning: impl FnOnce(&'a [u8]) -> String,
    ) -> Result<&'a [u8]> {
        let len = end.saturating_sub(self.pos);
        self.field(end, prefix, name, len, meaning)
    }

    fn u8(
        &mut self,
        end: usize,
        prefix: &str,
        name: &'static str,
        m: impl FnOnce(u8) -> String,
    ) -> Result<u8> {
        let b = self.field(end, prefix, name, 1, |b| m(b[0]))?;
        Ok(b[0])
    }

    fn u16(
        &mut self,
        end: usize,
        prefix: &str,
        name: &'static str,
        m: impl FnOnce(u16) -> String,
    ) -> Result<u16> {
        let b = self.field(end, prefix, name, 2, |b| {
            m(u16::from_be_bytes([b[0], b[1]]))
        })?;
        Ok(u16::from_be_bytes([b[0], b[1]]))
    }

    fn reserved(&mut self, end: usize, prefix: &str, len: usize) -> Result<()> {
        self.field(end, prefix, "RESERVED", len, |b| {
            if b.iter().all(|&x| x == 0) {
                "0".to_string()
            } else {
                format!("{} (should be 0, ignored)", hex(b))
            }
        })?;
        Ok(())
    }
}

fn n_octets(n: usize) -> String {
    match n {
        1 => "1 octet".to_string(),
        n => format!("{n} octets"),
    }
}

fn octets(b: &[u8]) -> String {
    n_octets(b.len())
}

fn octets_hex(b: &[u8]) -> String {
    format!("{}: {}", octets(b), crate::notify::short_hex(b))
}

fn payload_type_meaning(t: PayloadType) -> String {
    match t {
        PayloadType::None => "0: no next payload".to_string(),
        t => match t.name() {
            Some(name) => format!("{name} ({})", t.value()),
            None => format!("{} (unknown payload type)", t.value()),
        },
    }
}

fn flags_meaning(f: u8) -> String {
    let mut parts = Vec::new();
    if f & Flags::INITIATOR != 0 {
        parts.push("I (initiator)".to_string());
    }
    if f & Flags::VERSION != 0 {
        parts.push("V (ignored)".to_string());
    }
    parts.push(
        if f & Flags::RESPONSE != 0 {
            "response"
        } else {
            "request"
        }
        .to_string(),
    );
    let x = f & !(Flags::INITIATOR | Flags::VERSION | Flags::RESPONSE);
    if x != 0 {
        parts.push(format!("reserved bits {x:#04x} (ignored)"));
    }
    format!("{f:#04x}: {}", parts.join(", "))
}

fn header_spans(sp: &mut Spanner<'_>, h: &Header) -> Result<()> {
    let end = HEADER_LEN;
    let p = "HDR";
    sp.field(end, p, "IKE SA Initiator's SPI", 8, hex)?;
    sp.field(end, p, "IKE SA Responder's SPI", 8, |b| {
        if b.iter().all(|&x| x == 0) {
            "0 (not yet known: first IKE_SA_INIT request)".to_string()
        } else {
            hex(b)
        }
    })?;
    sp.u8(end, p, "Next Payload", |v| {
        format!("first payload: {}", payload_type_meaning(v.into()))
    })?;
    sp.u8(end, p, "Version", |v| {
        format!("MjVer {}, MnVer {}", v >> 4, v & 0x0f)
    })?;
    sp.u8(end, p, "Exchange Type", |v| {
        let e = ExchangeType::from(v);
        match e.name() {
            Some(n) => format!("{n} ({v})"),
            None => format!("{v} (unknown exchange type)"),
        }
    })?;
    sp.u8(end, p, "Flags", flags_meaning)?;
    sp.field(end, p, "Message ID", 4, |_| h.message_id.to_string())?;
    sp.field(end, p, "Length", 4, |_| format!("{} octets", h.length))?;
    Ok(())
}

/// Spans a payload chain over `sp.data[sp.pos..end]`. A broken chain
/// (truncated generic header, Payload Length out of range, data after SK or
/// after the last payload) is an error; a body that does not decode ends in
/// a `malformed` span.
fn chain(
    sp: &mut Spanner<'_>,
    first: PayloadType,
    end: usize,
    request: Option<bool>,
) -> Result<()> {
    let mut kind = first;
    let mut seen: HashMap<String, usize> = HashMap::new();
    while kind != PayloadType::None {
        let start = sp.pos;
        let rest = sp.data.get(start..end).unwrap_or(&[]);
        if rest.len() < GENERIC_HEADER_LEN {
            return Err(WireError::Truncated {
                what: "payload header",
                need: GENERIC_HEADER_LEN,
                have: rest.len(),
            });
        }
        let next = PayloadType::from(rest[0]);
        let len = u16::from_be_bytes([rest[2], rest[3]]) as usize;
        if len < GENERIC_HEADER_LEN || len > rest.len() {
            return Err(WireError::BadLength {
                what: "payload length",
                value: len,
            });
        }
        let p_end = start + len;
        let body = &rest[GENERIC_HEADER_LEN..len];
        let label = {
            let l = label(kind, body, request);
            let n = seen.entry(l.clone()).or_insert(0);
            *n += 1;
            if *n == 1 { l } else { format!("{l}#{n}") }
        };
        sp.u8(p_end, &label, "Next Payload", |_| {
            if kind == PayloadType::SK {
                format!("first inner payload: {}", payload_type_meaning(next))
            } else {
                payload_type_meaning(next)
            }
        })?;
        sp.u8(p_end, &label, "Critical", |v| critical_meaning(kind, v))?;
        sp.u16(p_end, &label, "Payload Length", |v| {
            format!("{v} octets, generic header included")
        })?;
        if let Err(e) = body_spans(sp, kind, &label, p_end, rest[1] & 0x80 != 0) {
            if sp.pos < p_end {
                sp.rest(p_end, &label, "malformed", |b| {
                    format!("{}: not decoded ({e})", octets(b))
                })?;
            } else if let Some(last) = sp.out.last_mut() {
                // Nothing left to point at (e.g. a count promising more
                // than the payload holds): say it on the last field.
                last.meaning.push_str(&format!("; malformed payload: {e}"));
            }
        }
        if sp.pos < p_end {
            sp.rest(p_end, &label, "unparsed", octets_hex)?;
        }
        if kind == PayloadType::SK {
            if p_end != end {
                return Err(WireError::Malformed("data after the SK payload"));
            }
            return Ok(());
        }
        kind = next;
    }
    if sp.pos != end {
        return Err(WireError::BadLength {
            what: "data after the last payload",
            value: end.saturating_sub(sp.pos),
        });
    }
    Ok(())
}

fn critical_meaning(kind: PayloadType, v: u8) -> String {
    let known = kind.name().is_some();
    let mut s = match (v & 0x80 != 0, known) {
        (false, _) => "C=0: not critical".to_string(),
        (true, true) => "C=1: critical (ignored: the type is understood)".to_string(),
        (true, false) => {
            "C=1: critical: an unsupported type rejects the message (RFC 7296 §2.5)".to_string()
        }
    };
    if v & 0x7f != 0 {
        s.push_str(&format!(", RESERVED bits {:#04x} (ignored)", v & 0x7f));
    }
    s
}

/// The label of a payload in paths: the RFC notation, with the notify
/// type (`N(COOKIE2)`), the CFG type (`CP(CFG_REQUEST)`) or `Ni`/`Nr`.
fn label(kind: PayloadType, body: &[u8], request: Option<bool>) -> String {
    match kind {
        PayloadType::N if body.len() >= 4 => {
            format!(
                "N({})",
                NotifyType::from(u16::from_be_bytes([body[2], body[3]]))
            )
        }
        PayloadType::CP if !body.is_empty() => format!("CP({})", CfgType::from(body[0])),
        PayloadType::Nonce => match request {
            Some(true) => "Ni".to_string(),
            Some(false) => "Nr".to_string(),
            None => "Nonce".to_string(),
        },
        k => match k.name() {
            Some(n) => n.to_string(),
            None => format!("P({})", k.value()),
        },
    }
}

fn body_spans(
    sp: &mut Spanner<'_>,
    kind: PayloadType,
    p: &str,
    end: usize,
    critical: bool,
) -> Result<()> {
    match kind {
        PayloadType::SA => sa_spans(sp, p, end),
        PayloadType::KE => {
            sp.u16(end, p, "Diffie-Hellman Group Num", |g| named(g, dh_name(g)))?;
            sp.reserved(end, p, 2)?;
            sp.rest(end, p, "Key Exchange Data", octets_hex)?;
            Ok(())
        }
        PayloadType::IDi | PayloadType::IDr => {
            let body = sp.data.get(sp.pos..end).unwrap_or(&[]);
            let id = Identification::parse(body);
            sp.u8(end, p, "ID Type", |t| {
                let i = Identification {
                    id_type: t,
                    data: Vec::new(),
                };
                match i.type_name() {
                    Some(n) => format!("{n} ({t})"),
                    None => format!("{t} (unknown ID type)"),
                }
            })?;
            sp.reserved(end, p, 3)?;
            let id = id?;
            sp.rest(end, p, "Identification Data", |_| id.to_string())?;
            Ok(())
        }
        PayloadType::AUTH => {
            sp.u8(end, p, "Auth Method", |m| {
                let name = match m {
                    1 => Some("RSA Digital Signature"),
                    2 => Some("Shared Key Message Integrity Code"),
                    3 => Some("DSS Digital Signature"),
                    14 => Some("Digital Signature"),
                    _ => None,
                };
                named(m as u16, name)
            })?;
            sp.reserved(end, p, 3)?;
            sp.rest(end, p, "Authentication Data", octets_hex)?;
            Ok(())
        }
        PayloadType::Nonce => {
            sp.rest(end, p, "Nonce Data", |b| {
                if (16..=256).contains(&b.len()) {
                    octets_hex(b)
                } else {
                    format!("{} (must be 16 to 256 octets, RFC 7296 §3.9)", octets(b))
                }
            })?;
            Ok(())
        }
        PayloadType::N => notify_spans(sp, p, end),
        PayloadType::D => {
            sp.u8(end, p, "Protocol ID", protocol_meaning)?;
            let size = sp.u8(end, p, "SPI Size", |s| n_octets(s as usize))?;
            let num = sp.u16(end, p, "Num of SPIs", |n| n.to_string())?;
            if size > 0 {
                for _ in 0..num {
                    sp.field(end, p, "SPI", size as usize, hex)?;
                }
            }
            if sp.pos != end {
                return Err(WireError::BadLength {
                    what: "Delete SPIs",
                    value: end - sp.pos,
                });
            }
            Ok(())
        }
        PayloadType::V => {
            sp.rest(end, p, "Vendor ID", |b| {
                let text = b.iter().all(|c| (0x20..0x7f).contains(c));
                if text && !b.is_empty() {
                    format!("{}: \"{}\"", octets(b), String::from_utf8_lossy(b))
                } else {
                    octets_hex(b)
                }
            })?;
            Ok(())
        }
        PayloadType::TSi | PayloadType::TSr => ts_spans(sp, p, end),
        PayloadType::CP => {
            sp.u8(end, p, "CFG Type", |t| {
                let c = CfgType::from(t);
                match c {
                    CfgType::Unknown(_) => format!("{t} (unknown CFG type)"),
                    c => format!("{c} ({t})"),
                }
            })?;
            sp.reserved(end, p, 3)?;
            let mut k = 0;
            while sp.pos < end {
                k += 1;
                let ap = format!("{p}.Attribute {k}");
                let t = sp.u16(end, &ap, "Attribute Type", |t| {
                    let r = if t & 0x8000 != 0 {
                        ", R bit set (ignored)"
                    } else {
                        ""
                    };
                    let t = t & 0x7fff;
                    match cfg_attr::name(t) {
                        Some(n) => format!("{n} ({t}){r}"),
                        None => format!("{t}{r}"),
                    }
                })?;
                let len = sp.u16(end, &ap, "Length", |l| n_octets(l as usize))?;
                let value = sp
                    .data
                    .get(sp.pos..end)
                    .and_then(|rest| rest.get(..len as usize));
                let attr = match value {
                    Some(v) => CfgAttribute::from_parts(t, v)?,
                    None => {
                        return Err(WireError::Truncated {
                            what: "configuration attribute value",
                            need: len as usize,
                            have: end.saturating_sub(sp.pos),
                        });
                    }
                };
                sp.field(end, &ap, "Value", len as usize, |_| attr.to_string())?;
            }
            Ok(())
        }
        PayloadType::CERTREQ => {
            sp.u8(end, p, "Cert Encoding", |e| {
                let name = match e {
                    4 => Some("X.509 Certificate - Signature"),
                    12 => Some("Hash and URL of X.509 certificate"),
                    _ => None,
                };
                named(e as u16, name)
            })?;
            sp.rest(end, p, "Certification Authority", |b| {
                format!("{} (SHA-1 hashes of trusted CA public keys)", octets(b))
            })?;
            Ok(())
        }
        PayloadType::SK => {
            let len = end.saturating_sub(sp.pos);
            if len < GCM_IV_LEN + GCM_ICV_LEN + 1 {
                return Err(WireError::Truncated {
                    what: "SK payload",
                    need: GCM_IV_LEN + GCM_ICV_LEN + 1,
                    have: len,
                });
            }
            sp.field(end, p, "IV", GCM_IV_LEN, |b| {
                format!("{} (explicit part of the AES-GCM nonce)", hex(b))
            })?;
            sp.field(end, p, "Ciphertext", len - GCM_IV_LEN - GCM_ICV_LEN, |b| {
                format!("{}: encrypted IKE payloads, Padding, Pad Length", octets(b))
            })?;
            sp.field(end, p, "ICV", GCM_ICV_LEN, |b| {
                format!("{} (AES-GCM tag)", hex(b))
            })?;
            Ok(())
        }
        other => {
            sp.rest(end, p, "Payload Data", |b| match (other.name(), critical) {
                (Some(_), _) => format!("{} (not decoded)", octets(b)),
                (None, false) => format!(
                    "{}: unknown payload type, not critical: skipped (RFC 7296 §2.5)",
                    octets(b)
                ),
                (None, true) => format!(
                    "{}: unknown payload type, critical: the message is rejected (RFC 7296 §2.5)",
                    octets(b)
                ),
            })?;
            Ok(())
        }
    }
}

fn named(v: u16, name: Option<&str>) -> String {
    match name {
        Some(n) => format!("{n} ({v})"),
        None => v.to_string(),
    }
}

fn protocol_meaning(v: u8) -> String {
    match v {
        0 => "0 (none: about the IKE SA)".to_string(),
        v => match ProtocolId::from(v).name() {
            Some(n) => format!("{n} ({v})"),
            None => format!("{v} (unknown protocol)"),
        },
    }
}

fn dh_name(g: u16) -> Option<&'static str> {
    Some(match g {
        14 => "2048-bit MODP Group",
        19 => "256-bit random ECP group",
        20 => "384-bit random ECP group",
        31 => "Curve25519",
        _ => return None,
    })
}

/// Names of the transform IDs the playground meets (RFC 7296 §3.3.2 and
/// the IANA registry; reference §1.8).
fn transform_name(t: TransformType, id: u16) -> Option<&'static str> {
    Some(match (t, id) {
        (TransformType::ENCR, 3) => "ENCR_3DES",
        (TransformType::ENCR, 12) => "ENCR_AES_CBC",
        (TransformType::ENCR, 18) => "ENCR_AES_GCM_8",
        (TransformType::ENCR, 19) => "ENCR_AES_GCM_12",
        (TransformType::ENCR, 20) => "ENCR_AES_GCM_16",
        (TransformType::ENCR, 28) => "ENCR_CHACHA20_POLY1305",
        (TransformType::PRF, 2) => "PRF_HMAC_SHA1",
        (TransformType::PRF, 5) => "PRF_HMAC_SHA2_256",
        (TransformType::PRF, 6) => "PRF_HMAC_SHA2_384",
        (TransformType::PRF, 7) => "PRF_HMAC_SHA2_512",
        (TransformType::INTEG, 0) => "NONE",
        (TransformType::INTEG, 2) => "AUTH_HMAC_SHA1_96",
        (TransformType::INTEG, 12) => "AUTH_HMAC_SHA2_256_128",
        (TransformType::INTEG, 13) => "AUTH_HMAC_SHA2_384_192",
        (TransformType::INTEG, 14) => "AUTH_HMAC_SHA2_512_256",
        (TransformType::DH, g) => return dh_name(g),
        (TransformType::ESN, 0) => "No Extended Sequence Numbers",
        (TransformType::ESN, 1) => "Extended Sequence Numbers",
        _ => return None,
    })
}

/// SA payload (RFC 7296 §3.3): proposals, their transforms and attributes.
fn sa_spans(sp: &mut Spanner<'_>, p: &str, end: usize) -> Result<()> {
    let mut k = 0;
    while sp.pos < end {
        k += 1;
        let pp = format!("{p}.Proposal {k}");
        let start = sp.pos;
        sp.u8(end, &pp, "Last Substruc", |v| match v {
            0 => "0: last proposal".to_string(),
            2 => "2: more proposals follow".to_string(),
            v => format!("{v} (invalid: must be 0 or 2)"),
        })?;
        sp.reserved(end, &pp, 1)?;
        let plen = sp.u16(end, &pp, "Proposal Length", |v| format!("{v} octets"))? as usize;
        if plen < 8 || start + plen > end {
            return Err(WireError::BadLength {
                what: "proposal",
                value: plen,
            });
        }
        let p_end = start + plen;
        sp.u8(p_end, &pp, "Proposal Num", |v| v.to_string())?;
        sp.u8(p_end, &pp, "Protocol ID", protocol_meaning)?;
        let spi_size = sp.u8(p_end, &pp, "SPI Size", |v| n_octets(v as usize))?;
        let n = sp.u8(p_end, &pp, "Num Transforms", |v| v.to_string())?;
        sp.field(p_end, &pp, "SPI", spi_size as usize, hex)?;
        for j in 1..=n {
            let tp = format!("{pp}.Transform {j}");
            let t_start = sp.pos;
            sp.u8(p_end, &tp, "Last Substruc", |v| match v {
                0 => "0: last transform".to_string(),
                3 => "3: more transforms follow".to_string(),
                v => format!("{v} (invalid: must be 0 or 3)"),
            })?;
            sp.reserved(p_end, &tp, 1)?;
            let tlen = sp.u16(p_end, &tp, "Transform Length", |v| format!("{v} octets"))? as usize;
            if tlen < 8 || t_start + tlen > p_end {
                return Err(WireError::BadLength {
                    what: "transform",
                    value: tlen,
                });
            }
            let t_end = t_start + tlen;
            let tt = TransformType::from(sp.u8(t_end, &tp, "Transform Type", |v| {
                let t = TransformType::from(v);
                match t.name() {
                    Some(n) => format!("{n} ({v})"),
                    None => format!("{v} (unknown transform type)"),
                }
            })?);
            sp.reserved(t_end, &tp, 1)?;
            sp.u16(t_end, &tp, "Transform ID", |id| {
                named(id, transform_name(tt, id))
            })?;
            let mut a = 0;
            while sp.pos < t_end {
                a += 1;
                let ap = format!("{tp}.Attribute {a}");
                let at = sp.u16(t_end, &ap, "Attribute Type", |v| {
                    let ty = v & 0x7fff;
                    let name = if ty == crate::registry::transform_id::ATTR_KEY_LENGTH {
                        "Key Length"
                    } else {
                        "attribute"
                    };
                    let format = if v & 0x8000 != 0 { "TV" } else { "TLV" };
                    format!("{name} ({ty}), {format} format")
                })?;
                if at & 0x8000 != 0 {
                    let is_kl = at & 0x7fff == crate::registry::transform_id::ATTR_KEY_LENGTH;
                    sp.u16(t_end, &ap, "Attribute Value", |v| {
                        if is_kl {
                            format!("{v} bits")
                        } else {
                            v.to_string()
                        }
                    })?;
                } else {
                    let len = sp.u16(t_end, &ap, "Attribute Length", |v| format!("{v} octets"))?;
                    sp.field(t_end, &ap, "Attribute Value", len as usize, octets_hex)?;
                }
            }
        }
        if sp.pos != p_end {
            return Err(WireError::BadLength {
                what: "proposal transforms",
                value: p_end - sp.pos,
            });
        }
    }
    Ok(())
}

/// Notify payload (RFC 7296 §3.10) with its data decoded by type.
fn notify_spans(sp: &mut Spanner<'_>, p: &str, end: usize) -> Result<()> {
    sp.u8(end, p, "Protocol ID", protocol_meaning)?;
    let spi_size = sp.u8(end, p, "SPI Size", |v| n_octets(v as usize))?;
    let kind = NotifyType::from(sp.u16(end, p, "Notify Message Type", |v| {
        let t = NotifyType::from(v);
        let class = if t.is_error() { "error" } else { "status" };
        match t.name() {
            Some(n) => format!("{n} ({v}), {class}"),
            None => format!("{v}, unknown {class} type"),
        }
    })?);
    sp.field(end, p, "SPI", spi_size as usize, hex)?;
    sp.rest(
        end,
        p,
        "Notification Data",
        |b| match NotifyData::parse_data(kind, b) {
            Ok(d) => d.to_string(),
            Err(e) => format!("{} ({e})", octets_hex(b)),
        },
    )?;
    Ok(())
}

/// Traffic selector payload (RFC 7296 §3.13).
fn ts_spans(sp: &mut Spanner<'_>, p: &str, end: usize) -> Result<()> {
    let n = sp.u8(end, p, "Number of TSs", |v| v.to_string())?;
    sp.reserved(end, p, 3)?;
    for k in 1..=n {
        let tp = format!("{p}.TS {k}");
        let ty = sp.u8(end, &tp, "TS Type", |v| match v {
            7 => "TS_IPV4_ADDR_RANGE (7)".to_string(),
            8 => "TS_IPV6_ADDR_RANGE (8)".to_string(),
            v => format!("{v} (unknown TS type)"),
        })?;
        let addr_len = match ty {
            7 => 4,
            8 => 16,
            _ => return Err(WireError::Malformed("traffic selector type")),
        };
        sp.u8(end, &tp, "IP Protocol ID", |v| match v {
            0 => "0 (any)".to_string(),
            1 => "ICMP (1)".to_string(),
            6 => "TCP (6)".to_string(),
            17 => "UDP (17)".to_string(),
            58 => "IPv6-ICMP (58)".to_string(),
            v => v.to_string(),
        })?;
        let len = sp.u16(end, &tp, "Selector Length", |v| format!("{v} octets"))?;
        if len as usize != 8 + 2 * addr_len {
            return Err(WireError::BadLength {
                what: "traffic selector",
                value: len as usize,
            });
        }
        sp.u16(end, &tp, "Start Port", |v| v.to_string())?;
        sp.u16(end, &tp, "End Port", |v| v.to_string())?;
        for name in ["Starting Address", "Ending Address"] {
            sp.field(end, &tp, name, addr_len, ip_string)?;
        }
    }
    if sp.pos != end {
        return Err(WireError::BadLength {
            what: "TS payload trailing data",
            value: end - sp.pos,
        });
    }
    Ok(())
}

fn ip_string(b: &[u8]) -> String {
    if let Ok(a) = <[u8; 4]>::try_from(b) {
        std::net::Ipv4Addr::from(a).to_string()
    } else if let Ok(a) = <[u8; 16]>::try_from(b) {
        std::net::Ipv6Addr::from(a).to_string()
    } else {
        hex(b)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::header::Flags;
    use crate::message::Message;
    use crate::payload::{Notify, Payload, Proposal};

    /// Leaf spans tile `0..len`: in order, non-empty, no gaps, no overlap.
    pub(crate) fn assert_tiles(spans: &[FieldSpan], base: usize, len: usize) {
        let mut at = base;
        for s in spans {
            assert_eq!(s.range.start, at, "gap or overlap at {s:?}");
            assert!(s.range.end > s.range.start, "empty span {s:?}");
            at = s.range.end;
        }
        assert_eq!(at, base + len, "spans do not reach the end");
    }

    fn init_request() -> Vec<u8> {
        Message::emit_plain(
            Header {
                spi_i: 0x9732dff05cbef893,
                spi_r: 0,
                next_payload: PayloadType::None,
                exchange: ExchangeType::IKE_SA_INIT,
                flags: Flags::new(true, false),
                message_id: 0,
                length: 0,
            },
            &[
                Payload::Sa(vec![Proposal::ike_default()]),
                Payload::Ke {
                    group: 31,
                    data: vec![1; 32],
                },
                Payload::Nonce(vec![2; 32]),
                Payload::Notify(Notify::nat_detection_source_ip([3; 20])),
                Payload::Notify(Notify::nat_detection_source_ip([4; 20])),
                Payload::Notify(Notify::redirect_supported()),
            ],
        )
    }

    #[test]
    fn header_and_payload_fields_are_named() {
        let bytes = init_request();
        let spans = message_spans(&bytes).unwrap();
        assert_tiles(&spans, 0, bytes.len());
        let get = |path: &str| {
            spans
                .iter()
                .find(|s| s.path == path)
                .unwrap_or_else(|| panic!("no {path}"))
        };
        assert_eq!(get("HDR.IKE SA Initiator's SPI").range, 0..8);
        assert_eq!(get("HDR.Flags").meaning, "0x08: I (initiator), request");
        assert_eq!(get("HDR.Exchange Type").meaning, "IKE_SA_INIT (34)");
        assert_eq!(
            get("SA.Proposal 1.Transform 1.Transform ID").meaning,
            "ENCR_AES_GCM_16 (20)"
        );
        assert_eq!(
            get("SA.Proposal 1.Transform 1.Attribute 1.Attribute Value").meaning,
            "128 bits"
        );
        assert_eq!(
            get("KE.Diffie-Hellman Group Num").meaning,
            "Curve25519 (31)"
        );
        assert!(get("Ni.Nonce Data").meaning.starts_with("32 octets"));
        assert_eq!(
            get("N(NAT_DETECTION_SOURCE_IP)#2.Notification Data").meaning,
            "NAT_DETECTION_SOURCE_IP = 04040404…"
        );
        assert_eq!(
            get("N(REDIRECT_SUPPORTED).Notify Message Type").meaning,
            "REDIRECT_SUPPORTED (16406), status"
        );
    }

    #[test]
    fn malformed_body_is_shown_not_hidden() {
        // COOKIE2 of 7 octets: the message parses (notify data is opaque
        // to Message::parse) and the span says what is wrong.
        let bytes = Message::emit_plain(
            Header {
                spi_i: 1,
                spi_r: 2,
                next_payload: PayloadType::None,
                exchange: ExchangeType::INFORMATIONAL,
                flags: Flags::new(false, true),
                message_id: 7,
                length: 0,
            },
            &[
                Payload::Notify(Notify::new(NotifyType::COOKIE2, vec![1; 7])),
                Payload::TsI(vec![]),
            ],
        );
        let mut bad = bytes.clone();
        // Turn TSi's Number of TSs into 1 with no selector after it.
        let n = bad.len() - 4;
        bad[n] = 1;
        let spans = message_spans(&bad).unwrap();
        assert_tiles(&spans, 0, bad.len());
        let cookie = spans
            .iter()
            .find(|s| s.path == "N(COOKIE2).Notification Data")
            .unwrap();
        assert!(
            cookie.meaning.contains("COOKIE2: bad length 7"),
            "{cookie:?}"
        );
        let last = spans.last().unwrap();
        assert_eq!(last.path, "TSi.RESERVED");
        assert!(last.meaning.contains("malformed payload"), "{last:?}");
        assert_eq!(
            spans
                .iter()
                .find(|s| s.path == "HDR.Flags")
                .unwrap()
                .meaning,
            "0x20: response"
        );
    }

    #[test]
    fn sk_payload_and_plaintext() {
        let key = GcmKey::from_keymat(&[5u8; 20]).unwrap();
        let inner = vec![
            Payload::Notify(Notify::update_sa_addresses()),
            Payload::Notify(Notify::cookie2(&[0x18, 0xdb, 0x59, 0xd7, 9, 9, 9, 9]).unwrap()),
        ];
        let h = Header {
            spi_i: 1,
            spi_r: 2,
            next_payload: PayloadType::None,
            exchange: ExchangeType::INFORMATIONAL,
            flags: Flags::new(true, false),
            message_id: 3,
            length: 0,
        };
        let bytes = Message::emit_encrypted(h, &inner, &key, [1; 8]).unwrap();
        let spans = message_spans(&bytes).unwrap();
        assert_tiles(&spans, 0, bytes.len());
        let paths: Vec<&str> = spans.iter().map(|s| s.path.as_str()).collect();
        assert_eq!(
            &paths[paths.len() - 6..],
            [
                "SK.Next Payload",
                "SK.Critical",
                "SK.Payload Length",
                "SK.IV",
                "SK.Ciphertext",
                "SK.ICV"
            ]
        );
        let (first, plain) = decrypt_plaintext(&bytes, &key).unwrap();
        assert_eq!(first, PayloadType::N);
        let inner_spans = plaintext_spans(first, &plain, true).unwrap();
        assert_tiles(&inner_spans, 0, plain.len());
        assert_eq!(inner_spans.last().unwrap().path, "SK.Pad Length");
        assert!(inner_spans.iter().any(
            |s| s.path == "N(COOKIE2).Notification Data" && s.meaning == "COOKIE2 = 18db59d7…"
        ));
        let chain = chain_spans(first, &plain[..plain.len() - 1], 100).unwrap();
        assert_tiles(&chain, 100, plain.len() - 1);
    }
}
