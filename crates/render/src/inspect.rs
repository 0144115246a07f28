//! The message inspector's view model: what one datagram of the chart is
//! (where it went, what a NAT made of it, its RFC notation, each decrypted
//! payload in one line) and every field of it on the wire and inside the SK
//! payload, derived from the bytes the trace recorded and opened with the
//! keys it logged.

use crate::byteview::{ByteRow, byte_view};
use crate::chart::{MessageRow, What};
use crate::fmt_time;
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

/// One field of the byte table, ready to show.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FieldRow {
    /// Offset as four hex digits.
    pub offset: String,
    /// `"HDR.Flags"`, `"N(COOKIE2).Notification Data"`, ...
    pub path: String,
    /// The octets in hex; a long field is cut after 12 octets with its
    /// length.
    pub value: String,
    pub meaning: String,
}

impl From<&ByteRow> for FieldRow {
    fn from(r: &ByteRow) -> FieldRow {
        FieldRow {
            offset: format!("{:04x}", r.offset),
            path: r.path.clone(),
            value: if r.len > 12 {
                format!(
                    "{}… ({} octets)",
                    r.hex.chars().take(35).collect::<String>(),
                    r.len
                )
            } else {
                r.hex.clone()
            },
            meaning: r.meaning.clone(),
        }
    }
}

/// The byte tables of a datagram.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Fields {
    /// Not an IKE message: no field table.
    None,
    /// An IKE message whose header or payload chain cannot be walked.
    Unreadable(String),
    /// The message's fields as sent, and those inside its SK payload when
    /// it opened (else why not, for a message that has one).
    Ike {
        outer: Vec<FieldRow>,
        inner: Option<Vec<FieldRow>>,
        inner_error: Option<String>,
    },
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
    pub fields: Fields,
    /// The UDP payload as a hex dump.
    pub hex: String,
}

/// The inspector's view of the chart's message `m`, from the bytes the
/// trace recorded for it.
pub fn message_detail(trace: &Trace, m: &MessageRow) -> MessageDetail {
    let bytes = trace.sent_payload(m.packet).unwrap_or_default();
    let key = sk_key(trace, m, bytes);
    let payloads = match &m.what {
        What::Ike {
            inner: Some(inner), ..
        } => inner.iter().map(describe).collect(),
        What::Ike { error: Some(e), .. } => vec![format!("could not open: {e}")],
        _ => Vec::new(),
    };
    let fields = match classify(bytes, m.src.port()) {
        UdpPayload::Ike(ike) => match byte_view(ike, key.as_ref()) {
            Ok(v) => Fields::Ike {
                outer: v.outer.iter().map(FieldRow::from).collect(),
                inner: v
                    .inner
                    .as_ref()
                    .map(|rows| rows.iter().map(FieldRow::from).collect()),
                inner_error: v.inner_error.map(|e| e.to_string()),
            },
            Err(e) => Fields::Unreadable(e.to_string()),
        },
        _ => Fields::None,
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
        fields,
        hex: hex_dump(bytes),
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
            let d = message_detail(trace, m);
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
            let Fields::Ike {
                outer,
                inner,
                inner_error,
            } = &d.fields
            else {
                panic!("an IKE message")
            };
            assert_eq!(outer[0].offset, "0000");
            assert!(outer.iter().all(|r| r.value.len() <= 35 + 20));
            assert!(
                inner.as_ref().is_some_and(|r| !r.is_empty()),
                "{inner_error:?}"
            );
            assert!(d.hex.starts_with("0000  "));
            assert_eq!(d.hex.lines().count(), bytes.len().div_ceil(16));
        }
    }

    #[test]
    fn sa_init_has_no_sk_and_a_lost_message_says_why() {
        let (chart, world) = run(9);
        let trace = world.trace();
        let init = chart
            .messages()
            .find(|m| m.title() == "IKE_SA_INIT request #0")
            .unwrap();
        let d = message_detail(trace, init);
        assert!(matches!(
            &d.fields,
            Fields::Ike {
                inner: None,
                inner_error: None,
                ..
            }
        ));
        assert!(d.payloads.is_empty(), "nothing encrypted to decrypt");
        assert_eq!(d.after_nat, None);
        let lost = chart.messages().find(|m| m.lost.is_some()).unwrap();
        assert!(message_detail(trace, lost).arrived.starts_with("lost: "));
        // After the move the laptop's messages go through the carrier NAT.
        let natted = chart
            .messages()
            .find(|m| m.received_as.is_some_and(|(s, _)| s != m.src))
            .unwrap();
        assert!(
            message_detail(trace, natted)
                .after_nat
                .is_some_and(|a| a.starts_with("198.51.100.1:"))
        );
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
