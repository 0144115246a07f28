//! Known-answer tests against a real strongSwan 5.9.8 MOBIKE run
//! (`tests/data/strongswan-mobike-basic/`, a verbatim copy of
//! `shared/spec/strongswan-traces/mobike-basic/`).
//!
//! An independent implementation produced these bytes, keys and hashes, so
//! agreement here checks our parser, the SK payload (RFC 5282), SKEYSEED and
//! prf+ (RFC 7296 §2.13, §2.14), PSK AUTH (§2.15) and the NAT detection hashes
//! (§2.23) against the field rather than against ourselves.
//!
//! Setting: client 192.0.2.10 (c0) and 198.51.100.10 (c1), server
//! 203.0.113.10, no NAT; the capture was taken at the server.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};

use mobike_wire::crypto::{self, GcmKey, IkeKeys};
use mobike_wire::message::{self, Message};
use mobike_wire::payload::{self, Identification, Payload};
use mobike_wire::udp::{self, UdpPayload};
use mobike_wire::{Header, NotifyType, WireError};

const PCAP: &[u8] = include_bytes!("data/strongswan-mobike-basic/trace-server.pcap");
const KEYING_LOG: &str = include_str!("data/strongswan-mobike-basic/client-charon-keying.log");
const KEYS: &str = include_str!("data/strongswan-mobike-basic/keys");
const MSC: &str = include_str!("data/strongswan-mobike-basic/msc.txt");

const PSK: &[u8] = b"oracle-mobike-psk-0123456789abcdef";
const CLIENT_ID: &str = "client.oracle.test";
const SERVER_ID: &str = "server.oracle.test";
/// The run's proposal is aes128gcm16: a 16-octet AES key in each SK_e*.
const AES_KEY_LEN: usize = 16;

// ---------------------------------------------------------------------------
// pcap with Linux cooked capture v2 (LINKTYPE_LINUX_SLL2, 276)
// ---------------------------------------------------------------------------

const LINKTYPE_LINUX_SLL2: u32 = 276;
const SLL2_HEADER_LEN: usize = 20;

/// One UDP datagram of the capture.
struct Datagram {
    /// Frame number as Wireshark counts (from 1).
    frame: usize,
    src: SocketAddr,
    dst: SocketAddr,
    payload: Vec<u8>,
}

fn be16(b: &[u8], at: usize) -> u16 {
    u16::from_be_bytes([b[at], b[at + 1]])
}

/// Reads a classic pcap file whose link type is LINUX_SLL2 and returns every
/// UDP datagram carried over IPv4 or IPv6. Other frames (ARP) are skipped.
fn read_pcap_sll2(file: &[u8]) -> Vec<Datagram> {
    assert!(file.len() >= 24, "pcap global header truncated");
    // Microsecond (a1b2c3d4) or nanosecond (a1b23c4d) magic, either byte order.
    let little_endian = match file[..4] {
        [0xd4, 0xc3, 0xb2, 0xa1] | [0x4d, 0x3c, 0xb2, 0xa1] => true,
        [0xa1, 0xb2, 0xc3, 0xd4] | [0xa1, 0xb2, 0x3c, 0x4d] => false,
        _ => panic!("not a pcap file: magic {:02x?}", &file[..4]),
    };
    let u32_at = |at: usize| {
        let b = [file[at], file[at + 1], file[at + 2], file[at + 3]];
        if little_endian {
            u32::from_le_bytes(b)
        } else {
            u32::from_be_bytes(b)
        }
    };
    assert_eq!(u32_at(20) & 0x0fff_ffff, LINKTYPE_LINUX_SLL2, "link type");
    let mut out = Vec::new();
    let mut off = 24;
    let mut frame = 0;
    while off < file.len() {
        assert!(off + 16 <= file.len(), "pcap record header truncated");
        let incl = u32_at(off + 8) as usize;
        let orig = u32_at(off + 12) as usize;
        frame += 1;
        assert_eq!(incl, orig, "frame {frame} cut by the snap length");
        assert!(off + 16 + incl <= file.len(), "frame {frame} truncated");
        let data = &file[off + 16..off + 16 + incl];
        off += 16 + incl;
        if let Some((src, dst, payload)) = sll2_udp(data) {
            out.push(Datagram {
                frame,
                src,
                dst,
                payload: payload.to_vec(),
            });
        }
    }
    out
}

/// SLL2 header (protocol type, reserved, interface index, ARPHRD type,
/// packet type, address length, 8 address octets), then IPv4/IPv6 and UDP.
fn sll2_udp(frame: &[u8]) -> Option<(SocketAddr, SocketAddr, &[u8])> {
    assert!(frame.len() >= SLL2_HEADER_LEN, "SLL2 header truncated");
    let l3 = &frame[SLL2_HEADER_LEN..];
    let (src, dst, l4) = match be16(frame, 0) {
        0x0800 => {
            assert_eq!(l3[0] >> 4, 4, "IPv4 version");
            let ihl = (l3[0] & 0x0f) as usize * 4;
            let total = be16(l3, 2) as usize;
            assert!(
                ihl >= 20 && total >= ihl && total <= l3.len(),
                "IPv4 lengths"
            );
            assert_eq!(be16(l3, 6) & 0x3fff, 0, "IPv4 fragment");
            if l3[9] != 17 {
                return None;
            }
            let src = Ipv4Addr::new(l3[12], l3[13], l3[14], l3[15]);
            let dst = Ipv4Addr::new(l3[16], l3[17], l3[18], l3[19]);
            (IpAddr::V4(src), IpAddr::V4(dst), &l3[ihl..total])
        }
        0x86dd => {
            // No extension headers in these captures: UDP follows directly.
            if l3[6] != 17 {
                return None;
            }
            let plen = be16(l3, 4) as usize;
            assert!(40 + plen <= l3.len(), "IPv6 payload length");
            let a = |at: usize| {
                let mut o = [0u8; 16];
                o.copy_from_slice(&l3[at..at + 16]);
                IpAddr::V6(Ipv6Addr::from(o))
            };
            (a(8), a(24), &l3[40..40 + plen])
        }
        _ => return None,
    };
    assert!(l4.len() >= 8, "UDP header truncated");
    let ulen = be16(l4, 4) as usize;
    assert!(ulen >= 8 && ulen <= l4.len(), "UDP length");
    Some((
        SocketAddr::new(src, be16(l4, 0)),
        SocketAddr::new(dst, be16(l4, 2)),
        &l4[8..ulen],
    ))
}

/// An IKE message of the capture, the non-ESP marker removed.
struct IkeDatagram {
    frame: usize,
    src: SocketAddr,
    dst: SocketAddr,
    bytes: Vec<u8>,
}

/// Every IKE message in the capture: UDP 500 bare, UDP 4500 behind the
/// non-ESP marker (RFC 3948 §2.2), told apart by `udp::classify`.
fn ike_datagrams() -> Vec<IkeDatagram> {
    let is_ike_port = |p: u16| p == udp::IKE_PORT || p == udp::NATT_PORT;
    read_pcap_sll2(PCAP)
        .into_iter()
        .filter(|d| is_ike_port(d.src.port()) || is_ike_port(d.dst.port()))
        .map(|d| {
            let bytes = match udp::classify_observed(&d.payload, d.src.port(), d.dst.port()) {
                UdpPayload::Ike(b) => b.to_vec(),
                other => panic!("frame {}: not an IKE message: {other:?}", d.frame),
            };
            if d.src.port() == udp::NATT_PORT || d.dst.port() == udp::NATT_PORT {
                assert_eq!(d.payload[..4], udp::NON_ESP_MARKER, "frame {}", d.frame);
            }
            IkeDatagram {
                frame: d.frame,
                src: d.src,
                dst: d.dst,
                bytes,
            }
        })
        .collect()
}

// ---------------------------------------------------------------------------
// keys, msc.txt and charon's log
// ---------------------------------------------------------------------------

fn hex(s: &str) -> Vec<u8> {
    assert!(s.len().is_multiple_of(2), "odd hex string {s:?}");
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&s[i..i + 2], 16).expect("hex digit"))
        .collect()
}

fn to_hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}

/// The Wireshark `ikev2_decryption_table` line:
/// SPIi, SPIr, SK_ei, SK_er, encryption algorithm, SK_ai, SK_ar, integrity.
struct WiresharkKeys {
    spi_i: u64,
    spi_r: u64,
    sk_ei: Vec<u8>,
    sk_er: Vec<u8>,
}

fn wireshark_keys() -> WiresharkKeys {
    let line = KEYS
        .lines()
        .find(|l| !l.starts_with('#') && !l.trim().is_empty())
        .expect("a key line");
    let f: Vec<&str> = line.split(',').collect();
    assert_eq!(f.len(), 8, "{line}");
    assert!(f[4].contains("AES-GCM-128 with 16 octet ICV"), "{}", f[4]);
    WiresharkKeys {
        spi_i: u64::from_str_radix(f[0], 16).expect("SPIi"),
        spi_r: u64::from_str_radix(f[1], 16).expect("SPIr"),
        sk_ei: hex(f[2]),
        sk_er: hex(f[3]),
    }
}

/// One line of msc.txt: the client's decrypted view of a message.
#[derive(Debug)]
struct MscLine {
    src: SocketAddr,
    dst: SocketAddr,
    exchange: String,
    response: bool,
    message_id: u32,
    /// `I` or `R`: whether the sender is the original initiator.
    initiator: bool,
    /// Outer payloads, `SK` for the SK payload.
    outer: Vec<String>,
    /// The payloads inside `SK{ ... }`, if the message has one.
    inner: Option<Vec<String>>,
    /// IKE message length.
    len: usize,
}

fn msc_lines() -> Vec<MscLine> {
    MSC.lines()
        .filter(|l| !l.starts_with('#') && !l.trim().is_empty())
        .map(|l| {
            let t: Vec<&str> = l.split_whitespace().collect();
            assert_eq!(t[3], "->", "{l}");
            assert_eq!(t[10], "[", "{l}");
            let close = t.iter().rposition(|x| *x == "]").expect("closing ]");
            let mut outer = Vec::new();
            let mut inner: Option<Vec<String>> = None;
            let mut in_sk = false;
            for tok in &t[11..close] {
                match *tok {
                    "SK{" => {
                        outer.push("SK".to_string());
                        inner = Some(Vec::new());
                        in_sk = true;
                    }
                    "}" => in_sk = false,
                    "(empty)" => assert!(in_sk, "{l}"),
                    x if x.starts_with("icv=") => assert_eq!(x, "icv=ok", "{l}"),
                    x if in_sk => inner.as_mut().expect("inside SK").push(x.to_string()),
                    x => outer.push(x.to_string()),
                }
            }
            let len = t[close + 1]
                .strip_prefix("len=")
                .expect("len=")
                .parse()
                .expect("length");
            MscLine {
                src: t[2].parse().expect("source"),
                dst: t[4].parse().expect("destination"),
                exchange: t[6].to_string(),
                response: match t[7] {
                    "request" => false,
                    "response" => true,
                    x => panic!("{x}"),
                },
                message_id: t[8]
                    .strip_prefix("mid=")
                    .expect("mid=")
                    .parse()
                    .expect("message ID"),
                initiator: match t[9] {
                    "I" => true,
                    "R" => false,
                    x => panic!("{x}"),
                },
                outer,
                inner,
                len,
            }
        })
        .collect()
}

/// The notify number for a name in msc.txt: every name strongSwan shows
/// is in our registry (the capabilities it announces among them: RFC 4739,
/// RFC 5998, RFC 6023, RFC 6311), so the chart names them as it does.
fn notify_number(name: &str) -> u16 {
    (0..=u16::MAX)
        .find(|&v| NotifyType::from(v).name() == Some(name))
        .unwrap_or_else(|| panic!("notify name {name} unknown to the registry"))
}

/// charon's debug log: each `name => N bytes` line followed by hex-dump
/// lines `  off: XX XX ...  ascii`, in order of appearance.
struct KeyingLog(Vec<(String, Vec<u8>)>);

/// The text after the time, thread/group tag and IKE SA tag of a log line.
fn log_content(line: &str) -> &str {
    let rest = line.split_once("] ").map_or(line, |(_, r)| r);
    match rest.strip_prefix('<') {
        Some(r) => r.split_once("> ").map_or(rest, |(_, r)| r),
        None => rest,
    }
}

impl KeyingLog {
    fn parse(log: &str) -> KeyingLog {
        let mut values: Vec<(String, Vec<u8>)> = Vec::new();
        let mut want = 0usize;
        for line in log.lines() {
            let content = log_content(line);
            if want > 0 {
                let (off, rest) = content
                    .trim_start()
                    .split_once(": ")
                    .unwrap_or_else(|| panic!("hex dump line expected: {line}"));
                let cur = &mut values.last_mut().expect("a value").1;
                assert_eq!(off.parse::<usize>().ok(), Some(cur.len()), "{line}");
                // 16 octets a line, single spaces between them, then the
                // ASCII column after two spaces.
                let take = (want - cur.len()).min(16);
                for tok in rest.split(' ').take(take) {
                    cur.push(u8::from_str_radix(tok, 16).expect("hex octet"));
                }
                if cur.len() == want {
                    want = 0;
                }
                continue;
            }
            if let Some((name, n)) = content.split_once(" => ")
                && let Some(n) = n.strip_suffix(" bytes")
                && let Ok(n) = n.parse::<usize>()
            {
                values.push((name.to_string(), Vec::with_capacity(n)));
                want = n;
            }
        }
        assert_eq!(want, 0, "last hex dump truncated");
        KeyingLog(values)
    }

    fn all(&self, name: &str) -> Vec<&[u8]> {
        self.0
            .iter()
            .filter(|(n, _)| n == name)
            .map(|(_, v)| v.as_slice())
            .collect()
    }

    fn one(&self, name: &str) -> &[u8] {
        let all = self.all(name);
        assert_eq!(all.len(), 1, "{name} printed {} times", all.len());
        all[0]
    }
}

// ---------------------------------------------------------------------------
// helpers over the parsed messages
// ---------------------------------------------------------------------------

/// The SK_e* key that protects messages from this sender (RFC 7296 §2.14:
/// SK_ei for the original initiator, SK_er for the original responder).
fn key_for(header: &Header, keys: &WiresharkKeys) -> GcmKey {
    let km = if header.flags.initiator() {
        &keys.sk_ei
    } else {
        &keys.sk_er
    };
    GcmKey::from_keymat(km).expect("SK_e* of AES-128-GCM")
}

/// The payloads to compare with the chart: the outer ones of an unprotected
/// message, the decrypted ones of a protected one.
fn visible_payloads(d: &IkeDatagram, m: &Message, keys: &WiresharkKeys) -> Vec<Payload> {
    if m.payloads.iter().any(|p| matches!(p, Payload::Sk { .. })) {
        message::decrypt(&d.bytes, &key_for(&m.header, keys))
            .unwrap_or_else(|e| panic!("frame {}: SK payload does not open: {e}", d.frame))
    } else {
        m.payloads.clone()
    }
}

fn nonce_of(m: &Message) -> &[u8] {
    m.payloads
        .iter()
        .find_map(|p| match p {
            Payload::Nonce(n) => Some(n.as_slice()),
            _ => None,
        })
        .expect("Nonce payload")
}

/// Compares one chart token with one payload. A notify token may carry an
/// annotation after `=`: `ok` for a verified NAT detection hash, the address
/// of an ADDITIONAL_IP4_ADDRESS, or a hex prefix of COOKIE2 ending in `..`.
fn check_token(frame: usize, token: &str, p: &Payload, d: &IkeDatagram, h: &Header) {
    let from_initiator = h.flags.initiator();
    let Some(body) = token.strip_prefix("N(").and_then(|t| t.strip_suffix(')')) else {
        assert_eq!(
            payload::notation(p, from_initiator),
            token,
            "frame {frame}: payload"
        );
        return;
    };
    let Payload::Notify(n) = p else {
        panic!("frame {frame}: chart has {token}, message has {p:?}");
    };
    let (name, note) = match body.split_once('=') {
        Some((a, b)) => (a, Some(b)),
        None => (body, None),
    };
    let number = notify_number(name);
    assert_eq!(n.kind.value(), number, "frame {frame}: {token}");
    // Our Display names what the registry knows and prints the number otherwise.
    let shown = n.kind.to_string();
    assert!(
        shown == name || shown == number.to_string(),
        "frame {frame}: {token} shown as {shown}"
    );
    match (n.kind, note) {
        (_, None) => {}
        (NotifyType::NAT_DETECTION_SOURCE_IP, Some("ok")) => assert_eq!(
            n.data,
            crypto::nat_detection_hash(h.spi_i, h.spi_r, d.src),
            "frame {frame}: {token}"
        ),
        (NotifyType::NAT_DETECTION_DESTINATION_IP, Some("ok")) => assert_eq!(
            n.data,
            crypto::nat_detection_hash(h.spi_i, h.spi_r, d.dst),
            "frame {frame}: {token}"
        ),
        (NotifyType::ADDITIONAL_IP4_ADDRESS, Some(addr)) => assert_eq!(
            n.address(),
            Some(addr.parse::<IpAddr>().expect("address")),
            "frame {frame}: {token}"
        ),
        (NotifyType::COOKIE2, Some(prefix)) => {
            let prefix = prefix.strip_suffix("..").expect("COOKIE2 prefix");
            assert!(
                to_hex(&n.data).starts_with(prefix),
                "frame {frame}: COOKIE2 {} does not start with {prefix}",
                to_hex(&n.data)
            );
        }
        (_, Some(note)) => panic!("frame {frame}: annotation {note} of {token} not checked"),
    }
}

// ---------------------------------------------------------------------------
// the tests
// ---------------------------------------------------------------------------

/// Every IKE datagram of the capture parses, and its header agrees with the
/// chart line for it (the chart was taken at the client; no NAT lies between,
/// so addresses and ports are the same).
#[test]
fn every_ike_message_parses_and_matches_the_chart() {
    let msgs = ike_datagrams();
    let chart = msc_lines();
    assert_eq!(msgs.len(), 14, "IKE messages in the capture");
    assert_eq!(chart.len(), msgs.len(), "chart lines");
    for (d, l) in msgs.iter().zip(&chart) {
        let f = d.frame;
        let m = Message::parse(&d.bytes).unwrap_or_else(|e| panic!("frame {f}: {e}"));
        let h = &m.header;
        // The payload walk covers the message exactly.
        let raw = payload::walk_chain(h.next_payload, &d.bytes[28..]).expect("payload walk");
        assert_eq!(raw.len(), m.payloads.len(), "frame {f}");
        assert_eq!(
            h.length as usize,
            d.bytes.len(),
            "frame {f}: trailing octets"
        );
        assert_eq!(d.bytes.len(), l.len, "frame {f}: length");
        assert_eq!((d.src, d.dst), (l.src, l.dst), "frame {f}: addresses");
        assert_eq!(h.exchange.to_string(), l.exchange, "frame {f}");
        assert_eq!(h.flags.response(), l.response, "frame {f}");
        assert_eq!(h.flags.initiator(), l.initiator, "frame {f}");
        assert_eq!(h.message_id, l.message_id, "frame {f}");
        // One IKE SA throughout; SPIr is zero only in the first request.
        assert_eq!(h.spi_i, 0x9732_dff0_5cbe_f893, "frame {f}");
        let want_spi_r = if f == msgs[0].frame {
            0
        } else {
            0x91d7_0a7f_afbf_4620
        };
        assert_eq!(h.spi_r, want_spi_r, "frame {f}");
        // Outer payloads: SA KE Nonce N... for IKE_SA_INIT, a lone SK otherwise.
        assert_eq!(m.payloads.len(), l.outer.len(), "frame {f}: {:?}", l.outer);
        if l.inner.is_some() {
            assert_eq!(l.outer, ["SK"], "frame {f}");
            assert!(matches!(m.payloads[..], [Payload::Sk { .. }]), "frame {f}");
        }
    }
}

/// Every SK payload opens with the keys of the Wireshark table and holds the
/// payloads of the chart, in order, with the charted notify data.
#[test]
fn sk_payloads_decrypt_to_the_charted_payloads() {
    let keys = wireshark_keys();
    let msgs = ike_datagrams();
    let chart = msc_lines();
    assert_eq!(chart.len(), msgs.len());
    let mut opened = 0;
    for (d, l) in msgs.iter().zip(&chart) {
        let m = Message::parse(&d.bytes).expect("parses");
        let (tokens, payloads) = match &l.inner {
            Some(inner) => {
                opened += 1;
                // The other direction's key must not open it: the ICV is checked.
                let wrong = if m.header.flags.initiator() {
                    &keys.sk_er
                } else {
                    &keys.sk_ei
                };
                let wrong = GcmKey::from_keymat(wrong).expect("key");
                assert_eq!(
                    message::decrypt(&d.bytes, &wrong),
                    Err(WireError::IcvMismatch),
                    "frame {}",
                    d.frame
                );
                (inner, visible_payloads(d, &m, &keys))
            }
            None => (&l.outer, m.payloads.clone()),
        };
        let got: Vec<String> = payloads
            .iter()
            .map(|p| payload::notation(p, m.header.flags.initiator()))
            .collect();
        assert_eq!(
            payloads.len(),
            tokens.len(),
            "frame {}: chart {tokens:?}, ours {got:?}",
            d.frame
        );
        for (t, p) in tokens.iter().zip(&payloads) {
            check_token(d.frame, t, p, d, &m.header);
        }
    }
    assert_eq!(opened, 12, "protected messages");
}

/// Emitting what we parsed gives strongSwan's bytes back: IKE_SA_INIT with
/// `emit_plain`, the protected messages with `emit_encrypted` under the same
/// key and explicit IV (strongSwan, like us, adds no padding with GCM).
#[test]
fn re_emission_is_byte_exact() {
    let keys = wireshark_keys();
    for d in ike_datagrams() {
        let m = Message::parse(&d.bytes).expect("parses");
        let again = match m.payloads.last() {
            Some(Payload::Sk { body, .. }) => {
                let key = key_for(&m.header, &keys);
                let inner = message::decrypt(&d.bytes, &key).expect("opens");
                let iv: [u8; crypto::GCM_IV_LEN] =
                    body[..crypto::GCM_IV_LEN].try_into().expect("IV");
                Message::emit_encrypted(m.header, &inner, &key, iv).expect("seals")
            }
            _ => Message::emit_plain(m.header, &m.payloads),
        };
        assert_eq!(
            to_hex(&again),
            to_hex(&d.bytes),
            "frame {}: re-emitted bytes differ",
            d.frame
        );
    }
}

/// SKEYSEED and SK_d/ei/er/pi/pr from the nonces of the capture, the SPIs and
/// the shared secret charon printed, against charon's values and the
/// Wireshark table.
///
/// The x25519 private values are not in the log, so g^ir itself cannot be
/// recomputed from the KE payloads; it is taken from the log, and only the KE
/// payloads' group and length are checked.
#[test]
fn key_derivation_matches_charon() {
    let log = KeyingLog::parse(KEYING_LOG);
    let msgs = ike_datagrams();
    let req = Message::parse(&msgs[0].bytes).expect("IKE_SA_INIT request");
    let resp = Message::parse(&msgs[1].bytes).expect("IKE_SA_INIT response");
    for m in [&req, &resp] {
        let ke = m
            .payloads
            .iter()
            .find_map(|p| match p {
                Payload::Ke { group, data } => Some((*group, data.len())),
                _ => None,
            })
            .expect("KE payload");
        assert_eq!(ke, (31, 32), "KE: group 31 (x25519), 32 octets");
    }
    let ni = nonce_of(&req);
    let nr = nonce_of(&resp);
    assert_eq!((ni.len(), nr.len()), (32, 32));
    let shared = log.one("shared Diffie Hellman secret");
    assert_eq!(shared.len(), 32);
    let (spi_i, spi_r) = (resp.header.spi_i, resp.header.spi_r);

    // SKEYSEED = prf(Ni | Nr, g^ir)
    let skeyseed = crypto::prf(&[ni, nr].concat(), shared);
    assert_eq!(to_hex(&skeyseed), to_hex(log.one("SKEYSEED")));

    let k = IkeKeys::derive(ni, nr, shared, spi_i, spi_r, AES_KEY_LEN).expect("derive");
    assert_eq!(to_hex(&k.skeyseed), to_hex(log.one("SKEYSEED")));
    assert_eq!(to_hex(&k.sk_d), to_hex(log.one("Sk_d secret")));
    assert_eq!(to_hex(&k.sk_ei.keymat()), to_hex(log.one("Sk_ei secret")));
    assert_eq!(to_hex(&k.sk_er.keymat()), to_hex(log.one("Sk_er secret")));
    assert_eq!(to_hex(&k.sk_pi), to_hex(log.one("Sk_pi secret")));
    assert_eq!(to_hex(&k.sk_pr), to_hex(log.one("Sk_pr secret")));

    let ws = wireshark_keys();
    assert_eq!((ws.spi_i, ws.spi_r), (spi_i, spi_r));
    assert_eq!(k.sk_ei.keymat(), ws.sk_ei);
    assert_eq!(k.sk_er.keymat(), ws.sk_er);
    // RFC 5282 §7.1: the last four octets are the salt.
    assert_eq!(k.sk_ei.salt[..], ws.sk_ei[16..]);
}

/// Both AUTH values (RFC 7296 §2.15, shared key MIC) from the captured
/// IKE_SA_INIT messages, nonces, SK_pi/SK_pr and ID payloads, against charon's
/// signed octets and results and the AUTH payloads in the capture.
#[test]
fn psk_auth_matches_charon_and_the_auth_payloads() {
    let log = KeyingLog::parse(KEYING_LOG);
    let keys = wireshark_keys();
    let msgs = ike_datagrams();
    let init_req = &msgs[0].bytes;
    let init_resp = &msgs[1].bytes;
    let ni = nonce_of(&Message::parse(init_req).expect("parses")).to_vec();
    let nr = nonce_of(&Message::parse(init_resp).expect("parses")).to_vec();
    let sk_pi = log.one("Sk_pi secret");
    let sk_pr = log.one("Sk_pr secret");

    let psk_logged = log.all("secret");
    let keypad_logged = log.all("prf(secret, keypad)");
    let ids = log.all("IDx'");
    let sk_ps = log.all("SK_p");
    let octets = log.all("octets = message + nonce + prf(Sk_px, IDx')");
    let auths = log.all("AUTH = prf(prf(secret, keypad), octets)");
    assert_eq!(
        [
            psk_logged.len(),
            keypad_logged.len(),
            ids.len(),
            sk_ps.len(),
            octets.len(),
            auths.len()
        ],
        [2; 6],
        "the client signs its AUTH and verifies the server's"
    );
    for i in 0..2 {
        assert_eq!(psk_logged[i], PSK);
        assert_eq!(
            to_hex(keypad_logged[i]),
            to_hex(&crypto::prf(PSK, crypto::KEY_PAD))
        );
    }

    // The IKE_AUTH exchange, decrypted.
    let (auth_req, auth_resp) = (&msgs[2], &msgs[3]);
    let open = |d: &IkeDatagram| {
        let m = Message::parse(&d.bytes).expect("parses");
        visible_payloads(d, &m, &keys)
    };
    let id_and_auth = |payloads: &[Payload], initiator: bool| {
        let id = payloads
            .iter()
            .find_map(|p| match p {
                Payload::IdI(id) if initiator => Some(id.clone()),
                Payload::IdR(id) if !initiator => Some(id.clone()),
                _ => None,
            })
            .expect("ID payload");
        let auth = payloads
            .iter()
            .find_map(|p| match p {
                Payload::Auth { method, data } => Some((*method, data.clone())),
                _ => None,
            })
            .expect("AUTH payload");
        (id, auth)
    };

    // (initiator) AUTH = prf(prf(PSK, pad), IKE_SA_INIT request | Nr | prf(SK_pi, IDi'))
    // (responder) AUTH = prf(prf(PSK, pad), IKE_SA_INIT response | Ni | prf(SK_pr, IDr'))
    let cases = [
        ("initiator", open(auth_req), init_req, &nr, sk_pi, CLIENT_ID),
        (
            "responder",
            open(auth_resp),
            init_resp,
            &ni,
            sk_pr,
            SERVER_ID,
        ),
    ];
    for (i, (who, payloads, real_message, peer_nonce, sk_p, name)) in cases.iter().enumerate() {
        let (id, (method, auth_data)) = id_and_auth(payloads, i == 0);
        assert_eq!(id, Identification::fqdn(name), "{who}: ID");
        assert_eq!(to_hex(&id.body()), to_hex(ids[i]), "{who}: IDx'");
        assert_eq!(to_hex(sk_p), to_hex(sk_ps[i]), "{who}: SK_p");
        let mut signed = real_message.to_vec();
        signed.extend_from_slice(peer_nonce);
        signed.extend_from_slice(&crypto::prf(sk_p, &id.body()));
        assert_eq!(to_hex(&signed), to_hex(octets[i]), "{who}: signed octets");
        let auth = crypto::psk_auth(PSK, real_message, peer_nonce, sk_p, &id.body());
        assert_eq!(to_hex(&auth), to_hex(auths[i]), "{who}: AUTH vs log");
        assert_eq!(method, crypto::AUTH_SHARED_KEY_MIC, "{who}: auth method");
        assert_eq!(to_hex(&auth), to_hex(&auth_data), "{who}: AUTH vs payload");
    }
}

/// The NAT detection hashes (RFC 7296 §2.23): charon's inputs and outputs,
/// and every NAT_DETECTION_*_IP notify of the capture against the addresses
/// it travelled with (no NAT, so they all match).
#[test]
fn nat_detection_hashes_match_charon_and_the_addresses() {
    let log = KeyingLog::parse(KEYING_LOG);
    let chunks = log.all("natd_chunk");
    let hashes = log.all("natd_hash");
    assert_eq!((chunks.len(), hashes.len()), (4, 4));
    for (chunk, want) in chunks.iter().zip(&hashes) {
        // SPIi | SPIr | IPv4 address | port
        assert_eq!(chunk.len(), 8 + 8 + 4 + 2);
        let spi_i = u64::from_be_bytes(chunk[0..8].try_into().expect("8"));
        let spi_r = u64::from_be_bytes(chunk[8..16].try_into().expect("8"));
        let ip = Ipv4Addr::new(chunk[16], chunk[17], chunk[18], chunk[19]);
        let addr = SocketAddr::new(IpAddr::V4(ip), be16(chunk, 20));
        let got = crypto::nat_detection_hash(spi_i, spi_r, addr);
        assert_eq!(to_hex(&got), to_hex(want), "{addr}");
    }

    let keys = wireshark_keys();
    let msgs = ike_datagrams();
    let mut checked = 0;
    for d in &msgs {
        let m = Message::parse(&d.bytes).expect("parses");
        let h = &m.header;
        for p in visible_payloads(d, &m, &keys) {
            let Payload::Notify(n) = p else { continue };
            let addr = match n.kind {
                NotifyType::NAT_DETECTION_SOURCE_IP => d.src,
                NotifyType::NAT_DETECTION_DESTINATION_IP => d.dst,
                _ => continue,
            };
            let want = crypto::nat_detection_hash(h.spi_i, h.spi_r, addr);
            assert_eq!(
                to_hex(&n.data),
                to_hex(&want),
                "frame {}: {}",
                d.frame,
                n.kind
            );
            checked += 1;
        }
    }
    // IKE_SA_INIT request and response, and both UPDATE_SA_ADDRESSES exchanges.
    assert_eq!(checked, 12);

    // The IKE_SA_INIT request carries what charon computed first; the
    // response what it received and precalculated.
    let notify = |bytes: &[u8], kind: NotifyType| {
        let m = Message::parse(bytes).expect("parses");
        message::notify_data(&m.payloads, kind)
            .expect("NAT-D notify")
            .to_vec()
    };
    let src = NotifyType::NAT_DETECTION_SOURCE_IP;
    let dst = NotifyType::NAT_DETECTION_DESTINATION_IP;
    assert_eq!(notify(&msgs[0].bytes, src), hashes[0]);
    assert_eq!(notify(&msgs[0].bytes, dst), hashes[1]);
    assert_eq!(notify(&msgs[1].bytes, src), log.one("received src_hash"));
    assert_eq!(notify(&msgs[1].bytes, dst), log.one("received dst_hash"));
    assert_eq!(
        log.one("precalculated src_hash"),
        log.one("received src_hash")
    );
    assert_eq!(
        log.one("precalculated dst_hash"),
        log.one("received dst_hash")
    );
}
