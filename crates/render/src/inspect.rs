//! One-line descriptions of decoded payloads for the message inspector.

use mobike_wire::payload::{Payload, TrafficSelector};
use mobike_wire::registry::NotifyType;

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

/// "N(COOKIE2): 16 octets 5f3a…" and the like.
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
        Payload::IdI(id) => format!("IDi: {id}"),
        Payload::IdR(id) => format!("IDr: {id}"),
        Payload::Auth { method, data } => format!(
            "AUTH: method {method} (shared key MIC), {}",
            short_hex(data)
        ),
        Payload::Nonce(n) => format!("Nonce: {}", short_hex(n)),
        Payload::Notify(n) => {
            let data = match n.kind {
                NotifyType::ADDITIONAL_IP4_ADDRESS | NotifyType::ADDITIONAL_IP6_ADDRESS => n
                    .address()
                    .map(|a| a.to_string())
                    .unwrap_or_else(|| short_hex(&n.data)),
                _ if n.data.is_empty() => "no data".into(),
                _ => short_hex(&n.data),
            };
            format!("N({}) [{}]: {data}", n.kind, n.kind.value())
        }
        Payload::TsI(v) => format!("TSi: {}", ts(v)),
        Payload::TsR(v) => format!("TSr: {}", ts(v)),
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
