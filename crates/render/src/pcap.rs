//! Export for Wireshark: the run as a pcap file captured at one node, and the
//! key files with which Wireshark and tshark decrypt every IKE and ESP
//! packet in it.
//!
//! Capture point: a node's own network interface. The capture holds what
//! that node sent (at the time it sent it, addresses as it sent them) and
//! what reached it (at arrival, addresses as they arrived, so NAT-translated
//! where a NAT is on the way), like `tcpdump` on that host. Lost packets
//! appear only at the node that sent them. The default is the responder,
//! the gateway side, as in the strongSwan reference capture.

use mobike_protocol::{Event, IpProtocol};
use mobike_sim::trace::Bytes;
use mobike_sim::{Trace, TraceKind};
use mobike_wire::crypto::GcmKey;
use mobike_wire::esp::IPPROTO_ESP;
use mobike_wire::ip::{IPPROTO_UDP, ip_packet, udp_datagram};
use mobike_wire::udp::{UdpPayload, classify};
use pcap_file::DataLink;
use pcap_file::pcap::{PcapHeader, PcapPacket, PcapWriter};
use std::collections::HashMap;
use std::fmt::Write;
use std::net::SocketAddr;
use std::time::Duration;

/// One frame: raw IP (link type 101), as seen at the socket on `port`
/// (the sender's source port, or the receiver's destination port).
fn frame(
    src: SocketAddr,
    dst: SocketAddr,
    port: u16,
    payload: &[u8],
    protocol: IpProtocol,
    id: u16,
) -> Vec<u8> {
    match protocol {
        IpProtocol::Esp => ip_packet(src.ip(), dst.ip(), IPPROTO_ESP, id, payload),
        IpProtocol::Udp => {
            // RFC 3948 §2.1: UDP-encapsulated ESP over IPv4 carries a zero
            // checksum; IKE gets a real one (and IPv6 always does).
            let esp = matches!(classify(payload, port), UdpPayload::Esp(_));
            let udp = udp_datagram(src, dst, payload, !esp);
            ip_packet(src.ip(), dst.ip(), IPPROTO_UDP, id, &udp)
        }
    }
}

/// The packets `node` sent or received, as a pcap file.
pub fn capture(trace: &Trace, node: &str) -> Vec<u8> {
    let header = PcapHeader {
        datalink: DataLink::RAW,
        ..Default::default()
    };
    let mut sent: HashMap<u64, (Bytes, IpProtocol)> = HashMap::new();
    let mut frames: Vec<(u64, Vec<u8>)> = Vec::new();
    for e in trace.iter() {
        let e = &e;
        match &e.kind {
            TraceKind::Sent {
                packet,
                node: n,
                src,
                dst,
                payload,
                protocol,
                ..
            } => {
                sent.insert(*packet, (payload.clone(), *protocol));
                if n == node {
                    frames.push((
                        e.time,
                        frame(
                            src.get(),
                            dst.get(),
                            src.port(),
                            payload,
                            *protocol,
                            *packet as u16,
                        ),
                    ));
                }
            }
            TraceKind::Delivered {
                packet,
                node: n,
                src,
                dst,
            } if n == node => {
                if let Some((payload, protocol)) = sent.get(packet) {
                    frames.push((
                        e.time,
                        frame(
                            src.get(),
                            dst.get(),
                            dst.port(),
                            payload,
                            *protocol,
                            *packet as u16,
                        ),
                    ));
                }
            }
            _ => {}
        }
    }
    let mut w = match PcapWriter::with_header(Vec::new(), header) {
        Ok(w) => w,
        Err(_) => return Vec::new(),
    };
    for (t, data) in &frames {
        let p = PcapPacket::new(Duration::from_micros(*t), data.len() as u32, data);
        if w.write_packet(&p).is_err() {
            break;
        }
    }
    w.into_writer()
}

fn hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}

fn ike_cipher_name(k: &GcmKey) -> &'static str {
    if k.key().len() == 32 {
        "AES-GCM-256 with 16 octet ICV [RFC5282]"
    } else {
        "AES-GCM-128 with 16 octet ICV [RFC5282]"
    }
}

/// Wireshark's `ikev2_decryption_table`: one line per IKE SA with SPIi,
/// SPIr, SK_ei and SK_er (each AES key followed by its salt), the cipher,
/// empty integrity keys and integrity "NONE" (AEAD).
pub fn ikev2_decryption_table(trace: &Trace) -> String {
    let mut out = String::new();
    let mut seen = Vec::new();
    for e in trace.iter() {
        let e = &e;
        if let Some((_, Event::KeysDerived { spi_i, spi_r, keys })) = e.kind.protocol() {
            if seen.contains(&(*spi_i, *spi_r)) {
                continue;
            }
            seen.push((*spi_i, *spi_r));
            let _ = writeln!(
                out,
                "{spi_i:016x},{spi_r:016x},{},{},\"{}\",,,\"NONE [RFC4306]\"",
                hex(&keys.sk_ei.keymat()),
                hex(&keys.sk_er.keymat()),
                ike_cipher_name(&keys.sk_ei)
            );
        }
    }
    out
}

/// Wireshark's `esp_sa`: one line per ESP SA, keyed by SPI with wildcard
/// addresses so it still matches after MOBIKE moved the SA (and through
/// NATs): protocol, source, destination, SPI, cipher, key+salt,
/// authentication NULL (AEAD). Wireshark matches the IP version too, so a
/// run that sent IPv6 gets a second line per SA for it (an SA moved from
/// IPv4 to IPv6 keeps its SPI and keys).
pub fn esp_sa(trace: &Trace) -> String {
    let mut sas = Vec::new();
    let mut ipv6 = false;
    for e in trace.iter() {
        match &e.kind {
            TraceKind::Sent { src, .. } => ipv6 |= src.get().is_ipv6(),
            kind => {
                if let Some((
                    _,
                    Event::ChildSa {
                        initiator_to_responder,
                        responder_to_initiator,
                        ..
                    },
                )) = kind.protocol()
                {
                    for (spi, key) in [&**initiator_to_responder, &**responder_to_initiator] {
                        if !sas.iter().any(|(s, _)| s == spi) {
                            sas.push((*spi, hex(&key.keymat())));
                        }
                    }
                }
            }
        }
    }
    let mut out = String::new();
    let versions: &[&str] = if ipv6 { &["IPv4", "IPv6"] } else { &["IPv4"] };
    for version in versions {
        for (spi, key) in &sas {
            let _ = writeln!(
                out,
                "\"{version}\",\"*\",\"*\",\"0x{spi:08x}\",\"AES-GCM with 16 octet ICV [RFC4106]\",\"0x{key}\",\"NULL\",\"\""
            );
        }
    }
    out
}

/// Wireshark's `preferences` for the folder: ESP decryption is off by
/// default and must be switched on for `esp_sa` to be used.
pub const WIRESHARK_PREFERENCES: &str =
    "# Written by the MOBIKE playground\nesp.enable_encryption_decode: TRUE\n";

/// Writes `ikev2_decryption_table`, `esp_sa` and `preferences` into `dir`, so
/// that `WIRESHARK_CONFIG_DIR=dir tshark -r capture.pcap` decrypts everything.
pub fn write_wireshark_dir(dir: &std::path::Path, trace: &Trace) -> std::io::Result<()> {
    std::fs::create_dir_all(dir)?;
    std::fs::write(
        dir.join("ikev2_decryption_table"),
        ikev2_decryption_table(trace),
    )?;
    std::fs::write(dir.join("esp_sa"), esp_sa(trace))?;
    std::fs::write(dir.join("preferences"), WIRESHARK_PREFERENCES)
}

/// Where a capture is taken unless the user names a host: at the first
/// responder (the gateway sees every client's traffic), else the first
/// host; empty for a scenario without hosts.
pub fn default_capture_host(scenario: &mobike_sim::Scenario) -> String {
    let hosts = &scenario.hosts;
    hosts
        .iter()
        .find(|h| h.role == mobike_protocol::Role::Responder)
        .or(hosts.first())
        .map(|h| h.id.clone())
        .unwrap_or_default()
}

/// The capture at `node` with the key files, in one zip a user unpacks into
/// a folder: `capture.pcap`, and `ikev2_decryption_table`, `esp_sa` and
/// `preferences` for `WIRESHARK_CONFIG_DIR` (or Wireshark's own
/// configuration folder). The same trace gives the same octets: entries are
/// stored, in this order, dated 1980-01-01.
pub fn wireshark_zip(trace: &Trace, node: &str) -> Vec<u8> {
    use std::io::Write;
    let mut out = std::io::Cursor::new(Vec::new());
    {
        let mut z = zip::ZipWriter::new(&mut out);
        let opts = zip::write::SimpleFileOptions::default()
            .compression_method(zip::CompressionMethod::Stored)
            .last_modified_time(zip::DateTime::default());
        let files: [(&str, Vec<u8>); 4] = [
            ("capture.pcap", capture(trace, node)),
            (
                "ikev2_decryption_table",
                ikev2_decryption_table(trace).into_bytes(),
            ),
            ("esp_sa", esp_sa(trace).into_bytes()),
            ("preferences", WIRESHARK_PREFERENCES.as_bytes().to_vec()),
        ];
        for (name, data) in files {
            // Writing into memory cannot fail for lack of space; a zip
            // error here would be a bug in the zip crate, so the entry is
            // left out rather than the page brought down.
            if z.start_file(name, opts).is_ok() {
                let _ = z.write_all(&data);
            }
        }
        let _ = z.finish();
    }
    out.into_inner()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The UDP checksum field of a raw IP frame.
    fn udp_checksum(f: &[u8]) -> u16 {
        let ip_len = if f[0] >> 4 == 4 {
            usize::from(f[0] & 0xf) * 4
        } else {
            40
        };
        u16::from_be_bytes([f[ip_len + 6], f[ip_len + 7]])
    }

    #[test]
    fn encapsulated_esp_has_a_zero_udp_checksum_over_ipv4_only() {
        // Non-zero first four octets on port 4500: UDP-encapsulated ESP.
        let esp = [0xc0, 0xff, 0xee, 0x01, 0, 0, 0, 1, 1, 2, 3, 4];
        let v4 = frame(
            "192.0.2.10:4500".parse().unwrap(),
            "203.0.113.10:4500".parse().unwrap(),
            4500,
            &esp,
            IpProtocol::Udp,
            1,
        );
        assert_eq!(udp_checksum(&v4), 0, "RFC 3948 §2.1");
        let v6 = frame(
            "[2001:db8:1::10]:4500".parse().unwrap(),
            "[2001:db8:2::10]:4500".parse().unwrap(),
            4500,
            &esp,
            IpProtocol::Udp,
            1,
        );
        assert_eq!(v6[0] >> 4, 6);
        assert_ne!(
            udp_checksum(&v6),
            0,
            "a zero UDP checksum is not allowed over IPv6"
        );
    }
}
