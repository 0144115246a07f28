//! One-line descriptions of decoded payloads for the message inspector.

use mobike_wire::notify::NotifyData;
use mobike_wire::payload::{Delete, Payload, TrafficSelector};
use mobike_wire::registry::ProtocolId;

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

#[cfg(test)]
mod tests {
    use super::*;
    use mobike_wire::payload::{CfgAttribute, CfgType, Configuration, Identification, Notify};
    use mobike_wire::registry::NotifyType;

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
