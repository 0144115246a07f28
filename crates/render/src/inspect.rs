//! The message inspector's view model: what one datagram of the chart is
//! (where it went, what a NAT made of it, its RFC notation, each decrypted
//! payload in one line), why it was sent ([`crate::why`]), and every field
//! of it on the wire and inside the SK payload or ESP packet as a tree over
//! a hex dump that shares its offsets, derived from the bytes the trace
//! recorded and opened with the keys it logged.

use crate::byteview::{ByteRow, Carrier, Content, Keys, datagram_view};
use crate::chart::{Chart, MessageRow, What};
use crate::fmt_time;
use crate::why::{Reason, why_sent};
use mobike_protocol::Event;
use mobike_sim::Trace;
use mobike_wire::Header;
use mobike_wire::crypto::GcmKey;
use mobike_wire::notify::NotifyData;
use mobike_wire::payload::{Delete, Payload, TrafficSelector};
use mobike_wire::registry::ProtocolId;
use mobike_wire::udp::{UdpPayload, classify};

fn hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}

fn short_hex(b: &[u8]) -> String {
    if b.len() > 12 {
        format!("{}… ({} octets)", hex(&b[..12]), b.len())
    } else {
        hex(b)
    }
}

fn ts(v: &[TrafficSelector]) -> String {
    v.iter()
        .map(|t| {
            format!(
                "{}-{} proto {} ports {}-{}",
                t.start, t.end, t.ip_protocol, t.start_port, t.end_port
            )
        })
        .collect::<Vec<_>>()
        .join("; ")
}

/// RFC 7296 §3.8 Auth Method names.
fn auth_method(m: u8) -> &'static str {
    match m {
        1 => "RSA signature",
        2 => "shared key MIC",
        3 => "DSS signature",
        14 => "digital signature",
        _ => "unknown method",
    }
}

/// RFC 7296 §3.11: the IKE SA itself, or the listed Child SA SPIs.
fn delete(d: &Delete) -> String {
    if d.protocol == ProtocolId::IKE {
        return "D: the IKE SA".to_string();
    }
    let spis: Vec<String> = d.spis.iter().map(|s| hex(s)).collect();
    format!("D: {} SPIs {}", d.protocol, spis.join(", "))
}

/// "N [16401]: COOKIE2 = 5f3a1b2c…", "IDi: client.example (ID_FQDN)" and the
/// like. Notifies use [`NotifyData`]'s human form; a notify whose data does
/// not decode says why.
pub fn describe(p: &Payload) -> String {
    match p {
        Payload::Sa(props) => props
            .iter()
            .map(|pr| {
                let t: Vec<String> = pr
                    .transforms
                    .iter()
                    .map(|t| match t.key_length {
                        Some(k) => format!("{} {} ({k} bits)", t.kind, t.id),
                        None => format!("{} {}", t.kind, t.id),
                    })
                    .collect();
                format!(
                    "SA: proposal {} {} {}{}",
                    pr.number,
                    pr.protocol,
                    t.join(", "),
                    if pr.spi.is_empty() {
                        String::new()
                    } else {
                        format!(", SPI {}", hex(&pr.spi))
                    }
                )
            })
            .collect::<Vec<_>>()
            .join(" | "),
        Payload::Ke { group, data } => format!("KE: D-H group {group}, {}", short_hex(data)),
        Payload::IdI(id) | Payload::IdR(id) => {
            let which = if matches!(p, Payload::IdI(_)) {
                "IDi"
            } else {
                "IDr"
            };
            match id.type_name() {
                Some(t) => format!("{which}: {id} ({t})"),
                None => format!("{which}: {id}"),
            }
        }
        Payload::Auth { method, data } => format!(
            "AUTH: method {method} ({}), {}",
            auth_method(*method),
            short_hex(data)
        ),
        Payload::Nonce(n) => format!("Nonce: {}", short_hex(n)),
        Payload::Notify(n) => {
            let data = match NotifyData::parse(n) {
                Ok(d) => d.to_string(),
                Err(e) => format!("{}: {} (invalid: {e})", n.kind, short_hex(&n.data)),
            };
            let spi = if n.spi.is_empty() {
                String::new()
            } else {
                format!(", {} SPI {}", ProtocolId::from(n.protocol_id), hex(&n.spi))
            };
            // "N(COOKIE2) [16401] = 18db59d7…": the RFC notation first, then
            // the number and the decoded data.
            let name = n.kind.to_string();
            let rest = match data.strip_prefix(name.as_str()) {
                Some(r) => r.to_string(),
                None => format!(": {data}"),
            };
            format!("N({name}) [{}]{rest}{spi}", n.kind.value())
        }
        Payload::TsI(v) => format!("TSi: {}", ts(v)),
        Payload::TsR(v) => format!("TSr: {}", ts(v)),
        Payload::Delete(d) => delete(d),
        Payload::Vendor(v) => {
            if !v.is_empty() && v.iter().all(|c| (0x20..0x7f).contains(c)) {
                format!("V: \"{}\"", String::from_utf8_lossy(v))
            } else {
                format!("V: {}", short_hex(v))
            }
        }
        Payload::Cp(cp) => {
            let attrs: Vec<String> = cp.attributes.iter().map(|a| a.to_string()).collect();
            if attrs.is_empty() {
                format!("CP({})", cp.cfg_type)
            } else {
                format!("CP({}): {}", cp.cfg_type, attrs.join(", "))
            }
        }
        Payload::CertReq { encoding, data } => {
            format!(
                "CERTREQ: encoding {encoding}, {} octets of CA key hashes",
                data.len()
            )
        }
        Payload::Sk { body, .. } => format!("SK: {} octets", body.len()),
        Payload::Unknown {
            kind,
            critical,
            body,
        } => format!(
            "payload type {}{}: {} octets",
            kind.value(),
            if *critical { " (critical)" } else { "" },
            body.len()
        ),
    }
}

/// The SK key that opens this message: SK_ei for one from the original
/// initiator, SK_er for one from the original responder (RFC 7296 §2.14),
/// from the keys the trace logged for its IKE SA. `None` for a datagram
/// that is not an IKE message, or before the keys were derived.
pub fn sk_key(trace: &Trace, m: &MessageRow, datagram: &[u8]) -> Option<GcmKey> {
    if !m.is_ike() {
        return None;
    }
    let UdpPayload::Ike(ike) = classify(datagram, m.src.port()) else {
        return None;
    };
    let h = Header::parse(ike).ok()?;
    let keys = trace.ike_keys(h.spi_i)?;
    Some(if h.flags.initiator() {
        keys.sk_ei.clone()
    } else {
        keys.sk_er.clone()
    })
}

/// The ESP key of the SA with inbound SPI `spi`, from the Child SA keys
/// the trace logged (RFC 7296 §2.17).
pub fn esp_key(trace: &Trace, spi: u32) -> Option<GcmKey> {
    trace.iter().find_map(|e| match e.kind.protocol() {
        Some((
            _,
            Event::ChildSa {
                initiator_to_responder: i2r,
                responder_to_initiator: r2i,
                ..
            },
        )) => [&**i2r, &**r2i]
            .into_iter()
            .find(|(s, _)| *s == spi)
            .map(|(_, key)| key.clone()),
        _ => None,
    })
}

/// Octets shown in full in a field row; longer fields are cut with their
/// length.
const SHOWN_OCTETS: usize = 8;
/// Octets kept of a cut field.
const CUT_OCTETS: usize = 6;

/// One row of a byte table: a field, or a group of fields (the header, a
/// payload, a proposal) whose octets are those of its fields.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FieldRow {
    /// Nesting: 0 for the header and the payloads, 1 for their fields or
    /// proposals, ...
    pub depth: usize,
    /// The last part of the path: `"Flags"`, `"N(COOKIE2)"`, `"Transform 2"`.
    pub name: String,
    /// The whole path: `"N(COOKIE2).Notification Data"`.
    pub path: String,
    /// A group of the rows below it, not one field.
    pub group: bool,
    /// First octet, from the start of the dump.
    pub start: usize,
    /// Number of octets.
    pub len: usize,
    /// `start` as four hex digits, as in the hex dump.
    pub offset: String,
    /// A field's octets in hex, cut after [`CUT_OCTETS`] (with "…") when
    /// it has more than [`SHOWN_OCTETS`]; empty for a group.
    pub octets: String,
    /// "32 octets" for a group or a cut field, else empty.
    pub length: String,
    pub meaning: String,
}

/// One octet of a hex dump, with the field it belongs to.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct HexOctet {
    /// Its offset in the dump.
    pub at: usize,
    /// Two hex digits.
    pub hex: String,
    /// The index of its field in [`Dump::rows`].
    pub row: usize,
}

/// Sixteen octets of a hex dump.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct HexLine {
    /// The first octet's offset, four hex digits.
    pub offset: String,
    pub octets: Vec<HexOctet>,
}

/// A hex dump and its fields, in one coordinate system.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Dump {
    /// "On the wire", "Inside SK, decrypted".
    pub title: String,
    /// What the octets are and where offsets count from.
    pub origin: String,
    /// Why part of it could not be read (it is shown as octets).
    pub error: Option<String>,
    pub rows: Vec<FieldRow>,
    pub lines: Vec<HexLine>,
}

/// The byte views of a datagram: as sent, and its decrypted inside.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Bytes {
    pub wire: Dump,
    pub plain: Option<Dump>,
    /// Why there is no decrypted view, when that needs saying.
    pub plain_note: Option<String>,
}

fn cut_hex(r: &ByteRow) -> (String, String) {
    if r.len > SHOWN_OCTETS {
        let kept: Vec<&str> = r.hex.split(' ').take(CUT_OCTETS).collect();
        (format!("{} …", kept.join(" ")), format!("{} octets", r.len))
    } else {
        (r.hex.clone(), String::new())
    }
}

/// Field rows as a tree: each prefix of a path ("SA", "SA.Proposal 1")
/// becomes a group row above its fields, spanning their octets.
fn tree(rows: &[ByteRow]) -> (Vec<FieldRow>, Vec<usize>) {
    let mut out: Vec<FieldRow> = Vec::new();
    // The open groups: (path prefix, index in `out`).
    let mut open: Vec<(String, usize)> = Vec::new();
    // For each byte row, its leaf's index in `out`.
    let mut leaf_of = Vec::with_capacity(rows.len());
    for r in rows {
        let parts: Vec<&str> = r.path.split('.').collect();
        let (groups, name) = parts.split_at(parts.len().saturating_sub(1));
        // Keep the open groups that are a prefix of this path.
        let mut keep = 0;
        while keep < open.len() && keep < groups.len() && open[keep].0 == groups[..=keep].join(".")
        {
            keep += 1;
        }
        open.truncate(keep);
        for depth in keep..groups.len() {
            open.push((groups[..=depth].join("."), out.len()));
            out.push(FieldRow {
                depth,
                name: groups[depth].to_string(),
                path: groups[..=depth].join("."),
                group: true,
                start: r.offset,
                len: 0,
                offset: format!("{:04x}", r.offset),
                octets: String::new(),
                length: String::new(),
                meaning: String::new(),
            });
        }
        for (_, g) in &open {
            let g = &mut out[*g];
            g.len = r.offset + r.len - g.start;
            g.length = if g.len == 1 {
                "1 octet".into()
            } else {
                format!("{} octets", g.len)
            };
        }
        let (octets, length) = cut_hex(r);
        leaf_of.push(out.len());
        out.push(FieldRow {
            depth: groups.len(),
            name: name.first().copied().unwrap_or_default().to_string(),
            path: r.path.clone(),
            group: false,
            start: r.offset,
            len: r.len,
            offset: format!("{:04x}", r.offset),
            octets,
            length,
            meaning: r.meaning.clone(),
        });
    }
    (out, leaf_of)
}

/// The dump of `bytes` with the field rows that cover it.
fn dump(
    title: &str,
    origin: String,
    error: Option<String>,
    rows: &[ByteRow],
    bytes: &[u8],
) -> Dump {
    let (tree_rows, leaf_of) = tree(rows);
    // Which leaf each octet is in (rows cover every octet, in order).
    let mut owner = vec![0; bytes.len()];
    for (r, leaf) in rows.iter().zip(&leaf_of) {
        for o in owner.iter_mut().skip(r.offset).take(r.len) {
            *o = *leaf;
        }
    }
    let lines = bytes
        .chunks(16)
        .enumerate()
        .map(|(i, c)| HexLine {
            offset: format!("{:04x}", i * 16),
            octets: c
                .iter()
                .enumerate()
                .map(|(j, b)| HexOctet {
                    at: i * 16 + j,
                    hex: format!("{b:02x}"),
                    row: owner.get(i * 16 + j).copied().unwrap_or(0),
                })
                .collect(),
        })
        .collect();
    Dump {
        title: title.to_string(),
        origin,
        error,
        rows: tree_rows,
        lines,
    }
}

/// Gives the top-level groups of `d` (after a non-ESP marker) the
/// meanings in `names`, in order, when there is one for each (the SK
/// plaintext's closing Padding group is not a payload).
fn name_groups(d: &mut Dump, names: &[String]) {
    let groups: Vec<usize> = d
        .rows
        .iter()
        .enumerate()
        .filter(|(_, r)| r.group && r.depth == 0)
        .map(|(i, _)| i)
        .collect();
    let payloads = groups.len() - usize::from(d.rows.iter().any(|r| r.path == "SK.Pad Length"));
    if payloads != names.len() {
        return;
    }
    for (g, name) in groups.iter().zip(names) {
        d.rows[*g].meaning = name.clone();
    }
}

fn n_octets(n: usize) -> String {
    if n == 1 {
        "1 octet".into()
    } else {
        format!("{n} octets")
    }
}

/// The byte views of the chart's message `m`: every octet as sent, and
/// the decrypted inside of its SK payload or ESP packet when the trace
/// logged the key.
pub fn bytes(trace: &Trace, m: &MessageRow) -> Bytes {
    let datagram = trace.sent_payload(m.packet).unwrap_or_default();
    let plain_esp = matches!(m.what, What::Esp { udp: false, .. });
    let carrier = if plain_esp {
        Carrier::Esp
    } else {
        Carrier::Udp {
            src_port: m.src.port(),
            dst_port: m.dst.port(),
        }
    };
    let sk = sk_key(trace, m, datagram);
    let esp = match &m.what {
        What::Esp { spi, .. } => esp_key(trace, *spi),
        _ => None,
    };
    let v = datagram_view(
        datagram,
        carrier,
        Keys {
            sk: sk.as_ref(),
            esp: esp.as_ref(),
        },
    );
    let size = n_octets(datagram.len());
    let marker = v.outer.first().is_some_and(|r| r.path == "Non-ESP Marker");
    let origin = match (v.content, plain_esp) {
        (_, true) => format!(
            "{size} of IP payload (ESP, IP protocol 50); offsets count from its first octet."
        ),
        (Content::Ike, _) if marker => format!(
            "{size} of UDP payload on port 4500; offsets count from its first octet: the 4-octet non-ESP marker, then the IKE message from 0004."
        ),
        (Content::Ike, _) => {
            format!("{size} of UDP payload: the IKE message; offsets count from its first octet.")
        }
        (Content::Esp, _) => format!(
            "{size} of UDP payload: ESP, UDP-encapsulated on port 4500; offsets count from its first octet."
        ),
        _ => format!("{size} of UDP payload; offsets count from its first octet."),
    };
    let wire = dump(
        "On the wire",
        origin,
        v.outer_error.as_ref().map(|e| {
            format!("Not readable past this point: {e}. The octets are shown as they are.")
        }),
        &v.outer,
        datagram,
    );
    let from_initiator = matches!(classify(datagram, m.src.port()), UdpPayload::Ike(ike)
        if Header::parse(ike).is_ok_and(|h| h.flags.initiator()));
    let plain = v.inner.as_ref().map(|p| match v.content {
        Content::Esp => dump(
            "Inside ESP, decrypted",
            format!(
                "{} of ESP plaintext, opened with the SA's key; offsets count from its first octet, not the datagram's.",
                n_octets(p.bytes.len())
            ),
            None,
            &p.rows,
            &p.bytes,
        ),
        _ => dump(
            "Inside SK, decrypted",
            format!(
                "{} of SK plaintext, opened with {}; offsets count from its first octet, not the datagram's.",
                n_octets(p.bytes.len()),
                if from_initiator {
                    "SK_ei (sent by the original initiator)"
                } else {
                    "SK_er (sent by the original responder)"
                }
            ),
            None,
            &p.rows,
            &p.bytes,
        ),
    });
    let mut wire = wire;
    let mut plain = plain;
    if v.content == Content::Ike {
        // The header and each payload group say what they are, as the
        // decrypted payload list does.
        let clear = match classify(datagram, m.src.port()) {
            UdpPayload::Ike(ike) => mobike_wire::Message::parse(ike).ok(),
            _ => None,
        };
        let mut outer = vec![m.title()];
        outer.extend(clear.iter().flat_map(|c| {
            c.payloads.iter().map(|p| match p {
                Payload::Sk { .. } => {
                    "SK: IV, the encrypted payloads, ICV (RFC 7296 §3.14, RFC 5282)".to_string()
                }
                p => describe(p),
            })
        }));
        name_groups(&mut wire, &outer);
        if let (
            Some(p),
            What::Ike {
                inner: Some(inner), ..
            },
        ) = (plain.as_mut(), &m.what)
        {
            let inner: Vec<String> = inner.iter().map(describe).collect();
            name_groups(p, &inner);
            for r in p.rows.iter_mut().filter(|r| r.group && r.path == "SK") {
                r.meaning =
                    "the end of the plaintext: Padding and Pad Length (RFC 7296 §3.14)".into();
            }
        }
    }
    let plain_note = match (&v.inner, &v.inner_error, v.content) {
        (Some(_), _, _) => None,
        (None, Some(e), Content::Esp) => Some(format!("ESP not opened: {e}.")),
        (None, Some(e), _) => Some(format!(
            "SK not opened: {e}. The encrypted octets are shown on the wire."
        )),
        (None, None, Content::Ike) if v.outer_error.is_none() => {
            Some("No SK payload: nothing in this message is encrypted.".to_string())
        }
        _ => None,
    };
    Bytes {
        wire,
        plain,
        plain_note,
    }
}

/// Everything the inspector shows for one datagram.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MessageDetail {
    /// "IKE_AUTH request #1".
    pub title: String,
    /// "1.234s from 192.0.2.10:500 to 203.0.113.10:500".
    pub sent: String,
    /// "198.51.100.1:4500 → 203.0.113.10:4500": the addresses as received,
    /// when a NAT rewrote them.
    pub after_nat: Option<String>,
    /// When it arrived, "lost: why", or "in flight".
    pub arrived: String,
    /// "312 octets", noting a retransmission.
    pub size: String,
    /// RFC notation: "HDR, SK {N(UPDATE_SA_ADDRESSES), …}".
    pub notation: String,
    /// Each decrypted payload in one line (see [`describe`]), or why the
    /// message could not be opened.
    pub payloads: Vec<String>,
    /// Why it was sent, rule by rule (see [`why_sent`]).
    pub why: Vec<Reason>,
    pub bytes: Bytes,
}

/// The inspector's view of the chart's message `m`, from the bytes the
/// trace recorded for it.
pub fn message_detail(trace: &Trace, chart: &Chart, m: &MessageRow) -> MessageDetail {
    let payloads = match &m.what {
        What::Ike {
            inner: Some(inner), ..
        } => inner.iter().map(describe).collect(),
        What::Ike { error: Some(e), .. } => vec![format!("could not open: {e}")],
        _ => Vec::new(),
    };
    MessageDetail {
        title: m.title(),
        sent: format!("{} from {} to {}", fmt_time(m.sent), m.src, m.dst),
        after_nat: m.received_as.map(|(a, b)| format!("{a} → {b}")),
        arrived: match (&m.lost, m.arrived) {
            (Some(r), _) => format!("lost: {r}"),
            (None, Some(t)) => fmt_time(t),
            (None, None) => "in flight".into(),
        },
        size: format!(
            "{} octets{}",
            m.size,
            if m.retransmission {
                ", retransmission (same octets as before)"
            } else {
                ""
            }
        ),
        notation: m.notation(),
        payloads,
        why: why_sent(trace, chart, m),
        bytes: bytes(trace, m),
    }
}

/// Sixteen octets a line, each line led by its offset.
pub fn hex_dump(bytes: &[u8]) -> String {
    bytes
        .chunks(16)
        .enumerate()
        .map(|(i, c)| {
            let hex: Vec<String> = c.iter().map(|b| format!("{b:02x}")).collect();
            format!("{:04x}  {}", i * 16, hex.join(" "))
        })
        .collect::<Vec<_>>()
        .join("\n")
}

#[cfg(test)]
mod tests {
    use super::*;
    use mobike_wire::payload::{CfgAttribute, CfgType, Configuration, Identification, Notify};
    use mobike_wire::registry::NotifyType;

    /// The default scenario's chart and trace after `secs` seconds, with
    /// the Wi-Fi link broken at 2 s (so the laptop moves).
    fn run(secs: u64) -> (crate::Chart, mobike_sim::World) {
        let scenario = crate::topology::tests::example("wifi-to-lte");
        let mut world = mobike_sim::World::new(&scenario);
        world.run_until(2 * mobike_protocol::SEC);
        world.apply(mobike_sim::Intervention::BreakLink {
            link: "wifi".into(),
        });
        world.run_until(secs * mobike_protocol::SEC);
        (crate::Chart::build(&scenario, world.trace()), world)
    }

    /// The dump's text is the classic hex dump, and every octet names the
    /// field whose range holds it.
    fn consistent(d: &Dump, bytes: &[u8]) {
        let text: Vec<String> = d
            .lines
            .iter()
            .map(|l| {
                let o: Vec<&str> = l.octets.iter().map(|o| o.hex.as_str()).collect();
                format!("{}  {}", l.offset, o.join(" "))
            })
            .collect();
        assert_eq!(text.join("\n"), hex_dump(bytes));
        for o in d.lines.iter().flat_map(|l| &l.octets) {
            let r = &d.rows[o.row];
            assert!(
                !r.group && r.start <= o.at && o.at < r.start + r.len,
                "{o:?} {r:?}"
            );
        }
        for (i, r) in d.rows.iter().enumerate() {
            assert_eq!(r.offset, format!("{:04x}", r.start));
            if r.group {
                // A group spans exactly the fields below it.
                let end = d.rows[i + 1..]
                    .iter()
                    .take_while(|x| x.depth > r.depth)
                    .map(|x| x.start + x.len)
                    .max();
                assert_eq!(end, Some(r.start + r.len), "{r:?}");
            } else {
                assert!(r.octets.split(' ').count() <= SHOWN_OCTETS, "{r:?}");
            }
        }
    }

    #[test]
    fn an_ike_auth_message_is_opened_with_the_key_of_its_direction() {
        let (chart, world) = run(3);
        let trace = world.trace();
        let auth: Vec<&MessageRow> = chart
            .messages()
            .filter(|m| m.title().starts_with("IKE_AUTH"))
            .collect();
        assert_eq!(auth.len(), 2, "request and response");
        for m in auth {
            let bytes = trace.sent_payload(m.packet).unwrap();
            let UdpPayload::Ike(ike) = classify(bytes, m.src.port()) else {
                panic!("an IKE message")
            };
            let keys = trace.ike_keys(Header::parse(ike).unwrap().spi_i).unwrap();
            let response = m.title().contains("response");
            let key = sk_key(trace, m, bytes).unwrap();
            let want = if response { &keys.sk_er } else { &keys.sk_ei };
            assert!(
                key == *want,
                "SK_er for the response, SK_ei for the request"
            );
            let d = message_detail(trace, &chart, m);
            assert_eq!(d.title, m.title());
            assert!(
                d.sent.contains(" from 192.0.2.10:") != response,
                "{}",
                d.sent
            );
            assert!(
                d.payloads
                    .iter()
                    .any(|p| p.starts_with("AUTH: method 2 (shared key MIC)"))
            );
            let wire = &d.bytes.wire;
            consistent(wire, bytes);
            // Port 4500: the non-ESP marker is the first row, the header
            // follows at 0004 in the same coordinates as the dump.
            assert_eq!(
                (wire.rows[0].name.as_str(), wire.rows[0].offset.as_str()),
                ("Non-ESP Marker", "0000")
            );
            assert_eq!((wire.rows[1].name.as_str(), wire.rows[1].start), ("HDR", 4));
            assert_eq!(wire.rows[2].name, "IKE SA Initiator's SPI");
            assert!(wire.origin.contains("non-ESP marker"), "{}", wire.origin);
            assert_eq!(wire.lines.len(), bytes.len().div_ceil(16));
            let plain = d.bytes.plain.as_ref().expect("SK opened");
            assert!(plain.title.contains("decrypted"));
            assert!(
                plain
                    .origin
                    .contains(if response { "SK_er" } else { "SK_ei" })
            );
            assert_eq!(plain.rows[0].start, 0, "the plaintext has its own offsets");
            assert!(
                plain
                    .rows
                    .iter()
                    .any(|r| r.group && r.name == "IDi" || r.name == "IDr")
            );
            assert_eq!(d.bytes.plain_note, None);
            assert!(!d.why.is_empty());
        }
    }

    #[test]
    fn long_fields_are_cut_with_their_length() {
        let (chart, world) = run(3);
        let init = chart
            .messages()
            .find(|m| m.title() == "IKE_SA_INIT request #0")
            .unwrap();
        let d = message_detail(world.trace(), &chart, init);
        let ke = d
            .bytes
            .wire
            .rows
            .iter()
            .find(|r| r.path == "KE.Key Exchange Data")
            .unwrap();
        assert_eq!(ke.octets.split(' ').count(), CUT_OCTETS + 1, "{ke:?}");
        assert!(ke.octets.ends_with(" …"));
        assert_eq!(ke.length, "32 octets");
        let flags = d
            .bytes
            .wire
            .rows
            .iter()
            .find(|r| r.path == "HDR.Flags")
            .unwrap();
        assert_eq!((flags.depth, flags.length.as_str()), (1, ""));
        consistent(
            &d.bytes.wire,
            world.trace().sent_payload(init.packet).unwrap(),
        );
    }

    #[test]
    fn sa_init_has_no_sk_and_a_lost_message_says_why() {
        let (chart, world) = run(9);
        let trace = world.trace();
        let init = chart
            .messages()
            .find(|m| m.title() == "IKE_SA_INIT request #0")
            .unwrap();
        let d = message_detail(trace, &chart, init);
        assert_eq!(d.bytes.plain, None);
        assert!(
            d.bytes
                .plain_note
                .as_deref()
                .is_some_and(|n| n.starts_with("No SK payload"))
        );
        assert_eq!(d.bytes.wire.rows[0].name, "HDR", "port 500: no marker");
        assert!(d.payloads.is_empty(), "nothing encrypted to decrypt");
        assert_eq!(d.after_nat, None);
        let lost = chart.messages().find(|m| m.lost.is_some()).unwrap();
        assert!(
            message_detail(trace, &chart, lost)
                .arrived
                .starts_with("lost: ")
        );
        // After the move the laptop's messages go through the carrier NAT.
        let natted = chart
            .messages()
            .find(|m| m.received_as.is_some_and(|(s, _)| s != m.src))
            .unwrap();
        assert!(
            message_detail(trace, &chart, natted)
                .after_nat
                .is_some_and(|a| a.starts_with("198.51.100.1:"))
        );
    }

    #[test]
    fn esp_and_keepalives_have_byte_views_too() {
        let (chart, world) = run(30);
        let trace = world.trace();
        for udp in [false, true] {
            let esp = chart
                .messages()
                .find(|m| matches!(m.what, What::Esp { udp: u, .. } if u == udp))
                .unwrap();
            let d = message_detail(trace, &chart, esp);
            consistent(&d.bytes.wire, trace.sent_payload(esp.packet).unwrap());
            assert_eq!(d.bytes.wire.rows[0].path, "ESP");
            let plain = d.bytes.plain.expect("opened with the Child SA key");
            assert!(plain.rows.iter().any(|r| r.path == "ICMP.Echo Header"));
        }
        let scenario = crate::topology::tests::example("nat-keepalives");
        let mut world = mobike_sim::World::new(&scenario);
        world.run_until(60 * mobike_protocol::SEC);
        let chart = crate::Chart::build(&scenario, world.trace());
        let k = chart
            .messages()
            .find(|m| matches!(m.what, What::Keepalive))
            .unwrap();
        let d = message_detail(world.trace(), &chart, k);
        assert_eq!(d.bytes.wire.rows.len(), 1);
        assert_eq!((d.bytes.plain, d.bytes.plain_note), (None, None));
    }

    /// Bytes that do not parse still get a byte view, with the reason, and
    /// nothing panics on the way.
    #[test]
    fn a_broken_datagram_still_shows_its_bytes_and_why_not() {
        let src: std::net::SocketAddr = "192.0.2.66:4500".parse().unwrap();
        let dst: std::net::SocketAddr = "203.0.113.10:4500".parse().unwrap();
        let cases: [(&[u8], What); 3] = [
            (
                &[0, 0, 0, 0, 0x97, 0x32, 0xdf, 0xf0, 1, 2, 3],
                What::Ike {
                    exchange: "?".into(),
                    mid: 0,
                    response: false,
                    items: vec!["(unparsable)".into()].into(),
                    inner: None,
                    error: Some("IKE header truncated".into()),
                },
            ),
            (&[0, 0, 7], What::Other),
            (
                &[1, 2, 3, 4, 5, 6, 7, 8, 9, 10],
                What::Esp {
                    spi: 0x01020304,
                    seq: 0x05060708,
                    inner: crate::chart::EspInner::opened(None),
                    udp: true,
                },
            ),
        ];
        for (payload, what) in cases {
            let mut trace = Trace::default();
            trace.push(
                5,
                mobike_sim::TraceKind::Sent {
                    packet: 1,
                    node: "attacker".into(),
                    link: Default::default(),
                    src: src.into(),
                    dst: dst.into(),
                    payload: payload.into(),
                    protocol: mobike_protocol::IpProtocol::Udp,
                },
            );
            let m = MessageRow {
                packet: 1,
                sent: 5,
                arrived: None,
                from: 0,
                to: None,
                src,
                dst,
                received_as: None,
                what,
                lost: None,
                retransmission: false,
                size: payload.len(),
            };
            let d = message_detail(&trace, &crate::Chart::default(), &m);
            consistent(&d.bytes.wire, payload);
            assert!(!d.bytes.wire.rows.is_empty());
            assert!(!d.why.is_empty() || matches!(m.what, What::Ike { .. }));
            if matches!(m.what, What::Ike { .. } | What::Esp { .. }) {
                assert!(d.bytes.wire.error.is_some(), "{:?}", d.bytes.wire);
                assert!(
                    d.bytes
                        .wire
                        .rows
                        .iter()
                        .any(|r| r.meaning.contains("not readable"))
                );
            }
        }
    }

    #[test]
    fn hex_dumps_have_sixteen_octets_a_line() {
        let d = hex_dump(&(0u8..20).collect::<Vec<_>>());
        assert_eq!(
            d,
            "0000  00 01 02 03 04 05 06 07 08 09 0a 0b 0c 0d 0e 0f\n0010  10 11 12 13"
        );
        assert_eq!(hex_dump(&[]), "");
    }

    #[test]
    fn notifies_use_the_typed_view() {
        let c = Notify::cookie2(&[0x18, 0xdb, 0x59, 0xd7, 0, 0, 0, 0]).unwrap();
        assert_eq!(
            describe(&Payload::Notify(c)),
            "N(COOKIE2) [16401] = 18db59d7…"
        );
        let a = Notify::additional_address("198.51.100.10".parse().unwrap());
        assert_eq!(
            describe(&Payload::Notify(a)),
            "N(ADDITIONAL_IP4_ADDRESS) [16397] = 198.51.100.10"
        );
        let bad = Notify::new(NotifyType::COOKIE2, vec![1, 2, 3]);
        assert_eq!(
            describe(&Payload::Notify(bad)),
            "N(COOKIE2) [16401]: 010203 (invalid: COOKIE2: bad length 3)"
        );
    }

    #[test]
    fn new_payloads_are_described() {
        assert_eq!(describe(&Payload::Delete(Delete::ike())), "D: the IKE SA");
        assert_eq!(
            describe(&Payload::Delete(Delete::esp(&[0xc0ffee01]))),
            "D: ESP SPIs c0ffee01"
        );
        assert_eq!(
            describe(&Payload::Vendor(b"strongSwan".to_vec())),
            "V: \"strongSwan\""
        );
        assert_eq!(
            describe(&Payload::Cp(Configuration {
                cfg_type: CfgType::CFG_REQUEST,
                attributes: vec![
                    CfgAttribute::InternalIp4Address(None),
                    CfgAttribute::InternalIp4Dns(None)
                ],
            })),
            "CP(CFG_REQUEST): INTERNAL_IP4_ADDRESS, INTERNAL_IP4_DNS"
        );
        assert_eq!(
            describe(&Payload::CertReq {
                encoding: 4,
                data: vec![0; 20]
            }),
            "CERTREQ: encoding 4, 20 octets of CA key hashes"
        );
        assert_eq!(
            describe(&Payload::IdI(Identification::fqdn("client.example"))),
            "IDi: client.example (ID_FQDN)"
        );
    }
}
