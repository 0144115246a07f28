//! A real capture opened as a run (`mobike import`, the page's Open file):
//! the IKE and ESP datagrams of a pcap or pcapng file (Linux cooked v1 and
//! v2 as `tcpdump -i any` writes them, raw IP, Ethernet, BSD loopback),
//! with the IKE SAs' keys from Wireshark's `ikev2_decryption_table` or
//! from strongSwan's charon log, written into an observed run
//! ([`mobike_sim::observed`]) whose chart decrypts every message.
//!
//! The capture is taken at one place, so each datagram is drawn as sent and
//! received at the moment it was captured. Parties are told apart by the
//! IKE header's Initiator flag: the addresses an IKE SA's initiator sends
//! from belong to the initiator, the others to the responder; ESP and
//! NAT-keepalives go to the party that has their address. Nothing here
//! panics on bad input: every failure is an [`ImportError`] naming the
//! file and the place.

use mobike_protocol::{Event, IpProtocol, Role, Time};
use mobike_sim::observed::{Observed, Party, Seen};
use mobike_wire::crypto::{GcmKey, IkeKeys};
use mobike_wire::message::open_sk;
use mobike_wire::udp::{UdpPayload, classify_observed};
use mobike_wire::{ExchangeType, Header, Payload};
use pcap_file::DataLink;
use std::collections::HashMap;
use std::fmt;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};

/// Why a capture or key file could not be read.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ImportError {
    /// The file, as the user named it.
    pub file: String,
    /// Where in it (a frame number, a line), when there is one place.
    pub place: Option<String>,
    pub message: String,
}

impl fmt::Display for ImportError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.place {
            Some(p) => write!(f, "{}: {}: {}", self.file, p, self.message),
            None => write!(f, "{}: {}", self.file, self.message),
        }
    }
}

/// A run read from a capture.
pub struct Imported {
    pub observed: Observed,
    /// How many frames the capture had, and how many were IKE, ESP or
    /// NAT-keepalives on ports 500 and 4500.
    pub frames: usize,
    pub datagrams: usize,
    /// IKE SAs seen, and how many of them have keys.
    pub ike_sas: usize,
    pub keyed: usize,
    /// What was left out, and why (fragments, other link types, …).
    pub skipped: Vec<String>,
}

/// One frame's datagram, before it is given to a party.
struct Frame {
    time: Time,
    src: SocketAddr,
    dst: SocketAddr,
    payload: Vec<u8>,
    protocol: IpProtocol,
}

/// IKE SA keys from a key file: SPIs when the file names them.
#[derive(Clone, Debug)]
pub struct KeyEntry {
    pub spis: Option<(u64, u64)>,
    pub sk_ei: GcmKey,
    pub sk_er: GcmKey,
}

/// Reads key files: Wireshark's `ikev2_decryption_table` (SPIi, SPIr,
/// SK_ei, SK_er, …, one SA per line) and strongSwan's charon log with
/// `ike` logging at level 4 (`Sk_ei secret => 20 bytes` and its hex dump).
pub fn read_keys(file: &str, text: &str) -> Result<Vec<KeyEntry>, ImportError> {
    let err = |line: usize, message: String| ImportError {
        file: file.to_string(),
        place: Some(format!("line {line}")),
        message,
    };
    if text.contains("Sk_ei secret") || text.contains("Sk_er secret") {
        return read_charon_log(file, text);
    }
    let mut keys = Vec::new();
    for (i, line) in text.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let fields: Vec<&str> = line
            .split(',')
            .map(|f| f.trim().trim_matches('"'))
            .collect();
        if fields.len() < 4 {
            return Err(err(
                i + 1,
                format!(
                    "expected SPIi,SPIr,SK_ei,SK_er,… (Wireshark's ikev2_decryption_table), found {} field{}",
                    fields.len(),
                    if fields.len() == 1 { "" } else { "s" }
                ),
            ));
        }
        let spi = |k: usize, what: &str| {
            u64::from_str_radix(fields[k], 16)
                .map_err(|_| {
                    err(
                        i + 1,
                        format!("{what} {:?} is not 16 hex digits", fields[k]),
                    )
                })
                .and_then(|v| {
                    if fields[k].len() == 16 {
                        Ok(v)
                    } else {
                        Err(err(
                            i + 1,
                            format!("{what} {:?} is not 16 hex digits", fields[k]),
                        ))
                    }
                })
        };
        let key = |k: usize, what: &str| {
            let bytes = hex(fields[k]).ok_or_else(|| err(i + 1, format!("{what} is not hex")))?;
            GcmKey::from_keymat(&bytes).map_err(|_| {
                err(
                    i + 1,
                    format!(
                        "{what} has {} octets; AES-GCM needs 20 or 36 (key and 4 octets of salt)",
                        bytes.len()
                    ),
                )
            })
        };
        keys.push(KeyEntry {
            spis: Some((spi(0, "SPIi")?, spi(1, "SPIr")?)),
            sk_ei: key(2, "SK_ei")?,
            sk_er: key(3, "SK_er")?,
        });
    }
    if keys.is_empty() {
        return Err(ImportError {
            file: file.to_string(),
            place: None,
            message: "no keys in it (expected Wireshark's ikev2_decryption_table or a charon log with `Sk_ei secret` lines)".into(),
        });
    }
    Ok(keys)
}

/// `Sk_ei secret => 20 bytes` followed by hex dump lines (`   0: E7 13 …`).
fn read_charon_log(file: &str, text: &str) -> Result<Vec<KeyEntry>, ImportError> {
    let lines: Vec<&str> = text.lines().collect();
    let mut ei: Vec<(usize, Vec<u8>)> = Vec::new();
    let mut er: Vec<(usize, Vec<u8>)> = Vec::new();
    for (i, line) in lines.iter().enumerate() {
        let which = if line.contains("Sk_ei secret =>") {
            &mut ei
        } else if line.contains("Sk_er secret =>") {
            &mut er
        } else {
            continue;
        };
        let want: usize = line
            .rsplit("=>")
            .next()
            .and_then(|s| s.split_whitespace().next())
            .and_then(|n| n.parse().ok())
            .unwrap_or(0);
        let mut bytes = Vec::new();
        for dump in lines.iter().skip(i + 1) {
            // "…>   16: 90 4E 60 FB      .N`." : offset, colon, hex octets.
            let Some((head, rest)) = dump.rsplit_once(": ") else {
                break;
            };
            if !head.trim_end().ends_with(|c: char| c.is_ascii_digit()) {
                break;
            }
            let octets: Vec<u8> = rest
                .split(' ')
                .take_while(|w| w.len() == 2)
                .filter_map(|w| u8::from_str_radix(w, 16).ok())
                .collect();
            if octets.is_empty() {
                break;
            }
            bytes.extend(octets);
            if bytes.len() >= want {
                break;
            }
        }
        bytes.truncate(want);
        which.push((i + 1, bytes));
    }
    let mut keys = Vec::new();
    for ((line, e), (_, r)) in ei.iter().zip(&er) {
        let bad = |what: &str, n: usize| ImportError {
            file: file.to_string(),
            place: Some(format!("line {line}")),
            message: format!("{what} has {n} octets; AES-GCM needs 20 or 36"),
        };
        keys.push(KeyEntry {
            spis: None,
            sk_ei: GcmKey::from_keymat(e).map_err(|_| bad("Sk_ei", e.len()))?,
            sk_er: GcmKey::from_keymat(r).map_err(|_| bad("Sk_er", r.len()))?,
        });
    }
    if keys.is_empty() {
        return Err(ImportError {
            file: file.to_string(),
            place: None,
            message: "no Sk_ei/Sk_er pair with its hex dump in the charon log".into(),
        });
    }
    Ok(keys)
}

fn hex(s: &str) -> Option<Vec<u8>> {
    if !s.len().is_multiple_of(2) || !s.is_ascii() {
        return None;
    }
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&s[i..i + 2], 16).ok())
        .collect()
}

/// The frames of a pcap or pcapng file, with their link types.
fn frames(file: &str, bytes: &[u8]) -> Result<Vec<(Time, DataLink, Vec<u8>)>, ImportError> {
    let err = |place: Option<String>, message: String| ImportError {
        file: file.to_string(),
        place,
        message,
    };
    let magic = bytes.get(..4).unwrap_or(&[]);
    let mut out = Vec::new();
    let micros = |d: std::time::Duration| Time::try_from(d.as_micros()).unwrap_or(Time::MAX);
    if magic == [0x0a, 0x0d, 0x0d, 0x0a] {
        // The slice parsers, not the readers: a reader zeroes a buffer of
        // megabytes for every file, which a capture already in memory
        // does not need.
        let (mut rest, mut r) = pcap_file::pcapng::PcapNgParser::new(bytes)
            .map_err(|e| err(None, format!("not a readable pcapng file: {e}")))?;
        let mut n = 0usize;
        while !rest.is_empty() {
            let (after, block) = r
                .next_block(rest)
                .map_err(|e| err(Some(format!("block {}", n + 1)), damaged(&e)))?;
            rest = after;
            n += 1;
            let packet = match block {
                pcap_file::pcapng::Block::EnhancedPacket(p) => {
                    Some((p.interface_id, p.timestamp, p.data.into_owned()))
                }
                _ => None,
            };
            if let Some((id, ts, data)) = packet {
                let link = r
                    .interfaces()
                    .get(id as usize)
                    .map(|i| i.linktype)
                    .ok_or_else(|| {
                        err(
                            Some(format!("block {n}")),
                            format!("packet of interface {id}, which the file does not describe"),
                        )
                    })?;
                out.push((micros(ts), link, data));
            }
        }
        return Ok(out);
    }
    let known = [
        [0xa1, 0xb2, 0xc3, 0xd4],
        [0xd4, 0xc3, 0xb2, 0xa1],
        [0xa1, 0xb2, 0x3c, 0x4d],
        [0x4d, 0x3c, 0xb2, 0xa1],
    ];
    if !known.iter().any(|k| k == magic) {
        return Err(err(
            None,
            format!(
                "not a pcap or pcapng file (it begins {}; a capture begins a1b2c3d4, d4c3b2a1 or 0a0d0d0a)",
                magic.iter().map(|b| format!("{b:02x}")).collect::<String>()
            ),
        ));
    }
    let (mut rest, r) = pcap_file::pcap::PcapParser::new(bytes)
        .map_err(|e| err(None, format!("not a readable pcap file: {e}")))?;
    let link = r.header().datalink;
    if ip_of(link, &[]).is_err_and(|e| e.contains("is not read")) {
        return Err(err(
            None,
            format!(
                "link type {link:?} is not read: open a capture of Linux cooked frames (tcpdump -i any), raw IP or Ethernet"
            ),
        ));
    }
    let mut n = 0usize;
    while !rest.is_empty() {
        n += 1;
        let (after, p) = r
            .next_packet(rest)
            .map_err(|e| err(Some(format!("frame {n}")), damaged(&e)))?;
        rest = after;
        out.push((micros(p.timestamp), link, p.data.into_owned()));
    }
    Ok(out)
}

/// What a record the capture library could not read means to a user.
fn damaged(e: &pcap_file::PcapError) -> String {
    match e {
        pcap_file::PcapError::IncompleteBuffer | pcap_file::PcapError::IoError(_) => {
            "the file ends inside it: the capture was cut short, or the record claims more octets than there are".into()
        }
        other => format!("it is damaged ({other})"),
    }
}

/// The IP packet inside a frame of link type `link`; `None` for a frame
/// that carries something else (ARP, say).
fn ip_of(link: DataLink, data: &[u8]) -> Result<Option<&[u8]>, String> {
    let ethertype_ok = |t: u16| t == 0x0800 || t == 0x86dd;
    match link {
        DataLink::RAW | DataLink::IPV4 | DataLink::IPV6 => Ok(Some(data)),
        DataLink::LINUX_SLL2 => {
            let t =
                u16::from_be_bytes([*data.first().ok_or("empty")?, *data.get(1).ok_or("short")?]);
            if !ethertype_ok(t) {
                return Ok(None);
            }
            data.get(20..)
                .map(Some)
                .ok_or_else(|| "shorter than its SLL2 header".into())
        }
        DataLink::LINUX_SLL => {
            let t =
                u16::from_be_bytes([*data.get(14).ok_or("short")?, *data.get(15).ok_or("short")?]);
            if !ethertype_ok(t) {
                return Ok(None);
            }
            data.get(16..)
                .map(Some)
                .ok_or_else(|| "shorter than its SLL header".into())
        }
        DataLink::ETHERNET => {
            let mut at = 12;
            loop {
                let t = u16::from_be_bytes([
                    *data.get(at).ok_or("short Ethernet header")?,
                    *data.get(at + 1).ok_or("short Ethernet header")?,
                ]);
                if t == 0x8100 || t == 0x88a8 {
                    at += 4;
                    continue;
                }
                if !ethertype_ok(t) {
                    return Ok(None);
                }
                return data
                    .get(at + 2..)
                    .map(Some)
                    .ok_or_else(|| "short Ethernet frame".into());
            }
        }
        DataLink::NULL | DataLink::LOOP => data
            .get(4..)
            .map(Some)
            .ok_or_else(|| "shorter than its loopback header".into()),
        other => Err(format!(
            "link type {other:?} is not read (use Linux cooked, raw IP or Ethernet)"
        )),
    }
}

/// UDP on ports 500 or 4500, or plain ESP, from an IP packet.
fn datagram_of(time: Time, ip: &[u8]) -> Result<Option<Frame>, String> {
    let version = ip.first().ok_or("empty IP packet")? >> 4;
    let (src, dst, proto, body): (IpAddr, IpAddr, u8, &[u8]) = match version {
        4 => {
            let ihl = usize::from(ip[0] & 0x0f) * 4;
            if ihl < 20 || ip.len() < ihl {
                return Err("IPv4 header shorter than its IHL".into());
            }
            let total = usize::from(u16::from_be_bytes([ip[2], ip[3]]));
            let frag = u16::from_be_bytes([ip[6], ip[7]]);
            if frag & 0x3fff != 0 {
                return Err("an IP fragment (not reassembled)".into());
            }
            let end = total.clamp(ihl, ip.len());
            let a = |k: usize| IpAddr::V4(Ipv4Addr::new(ip[k], ip[k + 1], ip[k + 2], ip[k + 3]));
            (a(12), a(16), ip[9], &ip[ihl..end])
        }
        6 => {
            if ip.len() < 40 {
                return Err("IPv6 header truncated".into());
            }
            let len = usize::from(u16::from_be_bytes([ip[4], ip[5]]));
            let a = |k: usize| {
                let mut o = [0u8; 16];
                o.copy_from_slice(&ip[k..k + 16]);
                IpAddr::V6(Ipv6Addr::from(o))
            };
            (a(8), a(24), ip[6], &ip[40..(40 + len).min(ip.len())])
        }
        v => return Err(format!("IP version {v}")),
    };
    match proto {
        17 => {
            if body.len() < 8 {
                return Err("UDP header truncated".into());
            }
            let sp = u16::from_be_bytes([body[0], body[1]]);
            let dp = u16::from_be_bytes([body[2], body[3]]);
            let ike_port = |p: u16| p == 500 || p == 4500;
            if !ike_port(sp) && !ike_port(dp) {
                return Ok(None);
            }
            let len = usize::from(u16::from_be_bytes([body[4], body[5]]));
            let end = len.clamp(8, body.len());
            Ok(Some(Frame {
                time,
                src: SocketAddr::new(src, sp),
                dst: SocketAddr::new(dst, dp),
                payload: body[8..end].to_vec(),
                protocol: IpProtocol::Udp,
            }))
        }
        50 => Ok(Some(Frame {
            time,
            src: SocketAddr::new(src, 0),
            dst: SocketAddr::new(dst, 0),
            payload: body.to_vec(),
            protocol: IpProtocol::Esp,
        })),
        _ => Ok(None),
    }
}

/// The IKE message in a datagram, if it carries one.
fn ike_of(f: &Frame) -> Option<&[u8]> {
    if f.protocol != IpProtocol::Udp {
        return None;
    }
    match classify_observed(&f.payload, f.src.port(), f.dst.port()) {
        UdpPayload::Ike(m) => Some(m),
        _ => None,
    }
}

/// Reads `capture` (named `file`) with these keys into a run.
pub fn import(file: &str, capture: &[u8], keys: &[KeyEntry]) -> Result<Imported, ImportError> {
    let raw = frames(file, capture)?;
    let total = raw.len();
    let mut skipped: Vec<String> = Vec::new();
    let mut seen: Vec<Frame> = Vec::new();
    for (n, (time, link, data)) in raw.iter().enumerate() {
        let got = ip_of(*link, data).and_then(|ip| match ip {
            Some(ip) => datagram_of(*time, ip),
            None => Ok(None),
        });
        match got {
            Ok(Some(f)) => seen.push(f),
            Ok(None) => {}
            Err(why) => {
                if skipped.len() < 20 {
                    skipped.push(format!("frame {}: {why}", n + 1));
                }
            }
        }
    }
    if !seen.iter().any(|f| ike_of(f).is_some()) {
        return Err(ImportError {
            file: file.to_string(),
            place: None,
            message: format!(
                "no IKE message on UDP ports 500 or 4500 among its {total} frame{}{}",
                if total == 1 { "" } else { "s" },
                skipped
                    .first()
                    .map_or_else(String::new, |s| format!(" ({s})"))
            ),
        });
    }
    let start = seen.iter().map(|f| f.time).min().unwrap_or(0);
    // Damaged timestamps may put frames years apart: they are drawn a
    // year after the first at most.
    const MAX_SPAN: Time = 365 * 24 * 3600 * 1_000_000;
    if seen.iter().any(|f| f.time - start > MAX_SPAN) {
        skipped.push(
            "timestamps more than a year after the first frame's (damaged?) are drawn a year after it"
                .into(),
        );
    }
    // Parties: one initiator and one responder per distinct pair of
    // first-seen addresses; an IKE SA's later addresses join its parties.
    let mut parties: Vec<Party> = Vec::new();
    let mut sa_parties: HashMap<u64, (usize, usize)> = HashMap::new();
    let mut owner: HashMap<IpAddr, usize> = HashMap::new();
    let mut first_sk: HashMap<u64, (usize, u64)> = HashMap::new();
    let mut assign: Vec<Option<(usize, Option<usize>)>> = Vec::with_capacity(seen.len());
    let new_party = |parties: &mut Vec<Party>, role: Role| {
        let base = match role {
            Role::Initiator => "initiator",
            Role::Responder => "responder",
        };
        let same = parties.iter().filter(|p| p.role == role).count();
        let id = if same == 0 {
            base.to_string()
        } else {
            format!("{base}-{}", same + 1)
        };
        parties.push(Party {
            label: id.clone(),
            id,
            role,
            identity: None,
            addresses: Vec::new(),
        });
        parties.len() - 1
    };
    for (k, f) in seen.iter().enumerate() {
        let Some(h) = ike_of(f).and_then(|m| Header::parse(m).ok()) else {
            assign.push(None);
            continue;
        };
        let (ini, res) = match sa_parties.get(&h.spi_i) {
            Some(p) => *p,
            None => {
                let (ia, ra) = if h.flags.initiator() {
                    (f.src.ip(), f.dst.ip())
                } else {
                    (f.dst.ip(), f.src.ip())
                };
                // An IKE SA first seen past IKE_SA_INIT was made by a rekey
                // (RFC 7296 §2.18): whoever rekeyed holds its I flag, the
                // responder too. Between two parties already seen, it
                // keeps them as they were.
                let rekeyed = h.exchange != ExchangeType::IKE_SA_INIT;
                let known = (owner.get(&ia).copied(), owner.get(&ra).copied());
                let (ini, res) = match known {
                    (Some(a), Some(b)) if rekeyed && a != b => (a, b),
                    _ => {
                        let ini = match known.0 {
                            Some(p) if parties[p].role == Role::Initiator => p,
                            _ => new_party(&mut parties, Role::Initiator),
                        };
                        let res = match known.1 {
                            Some(p) if parties[p].role == Role::Responder => p,
                            _ => new_party(&mut parties, Role::Responder),
                        };
                        (ini, res)
                    }
                };
                sa_parties.insert(h.spi_i, (ini, res));
                (ini, res)
            }
        };
        let (from, to) = if h.flags.initiator() {
            (ini, res)
        } else {
            (res, ini)
        };
        // An address belongs to the first party seen with it: two parties
        // never share one (a capture of both ends on one host, or damaged
        // flags, would otherwise make a scenario with an address twice).
        for (a, p) in [(f.src.ip(), from), (f.dst.ip(), to)] {
            if *owner.entry(a).or_insert(p) == p && !parties[p].addresses.contains(&a) {
                parties[p].addresses.push(a);
            }
        }
        if h.exchange != ExchangeType::IKE_SA_INIT && h.spi_r != 0 {
            first_sk.entry(h.spi_i).or_insert((k, h.spi_r));
        }
        assign.push(Some((from, Some(to))));
    }
    // ESP and keepalives: by the owner of an address.
    for (k, f) in seen.iter().enumerate() {
        if assign[k].is_some() {
            continue;
        }
        let from = owner.get(&f.src.ip()).copied();
        let to = owner.get(&f.dst.ip()).copied();
        assign[k] = match (from, to) {
            (Some(a), b) => Some((a, b)),
            (None, Some(b)) => {
                // The sender is the other party of the receiver's IKE SA.
                let other = sa_parties
                    .values()
                    .find_map(|&(i, r)| (i == b).then_some(r).or((r == b).then_some(i)));
                other.map(|a| (a, Some(b)))
            }
            (None, None) => None,
        };
        if assign[k].is_none() && skipped.len() < 20 {
            skipped.push(format!(
                "a datagram {} -> {} of no IKE SA's addresses",
                f.src, f.dst
            ));
        }
    }
    // Keys: by SPIs where the file names them, else the pair that opens
    // the IKE SA's first protected message.
    let mut sa_keys: HashMap<u64, (u64, IkeKeys)> = HashMap::new();
    let mut used = vec![false; keys.len()];
    for (&spi_i, &(k, spi_r)) in &first_sk {
        let Some(msg) = ike_of(&seen[k]) else {
            continue;
        };
        let from_initiator = Header::parse(msg).is_ok_and(|h| h.flags.initiator());
        let named = keys.iter().position(|e| e.spis == Some((spi_i, spi_r)));
        let found = named.or_else(|| {
            keys.iter().enumerate().position(|(j, e)| {
                !used[j] && e.spis.is_none() && {
                    let key = if from_initiator { &e.sk_ei } else { &e.sk_er };
                    open_sk(msg, key).is_ok()
                }
            })
        });
        if let Some(j) = found {
            used[j] = true;
            let e = &keys[j];
            sa_keys.insert(
                spi_i,
                (
                    spi_r,
                    IkeKeys {
                        skeyseed: Vec::new(),
                        sk_d: Vec::new(),
                        sk_ei: e.sk_ei.clone(),
                        sk_er: e.sk_er.clone(),
                        sk_pi: Vec::new(),
                        sk_pr: Vec::new(),
                    },
                ),
            );
        }
    }
    // Each party is labelled with the identity it showed in IKE_AUTH.
    for f in &seen {
        let Some(msg) = ike_of(f) else { continue };
        let Ok(h) = Header::parse(msg) else { continue };
        if h.exchange != ExchangeType::IKE_AUTH {
            continue;
        }
        let (Some((_, k)), Some(&(ini, res))) = (sa_keys.get(&h.spi_i), sa_parties.get(&h.spi_i))
        else {
            continue;
        };
        let from_initiator = h.flags.initiator();
        let key = if from_initiator { &k.sk_ei } else { &k.sk_er };
        let Ok(inner) = mobike_wire::decrypt(msg, key) else {
            continue;
        };
        for p in &inner {
            let (who, id) = match p {
                Payload::IdI(id) if from_initiator => (ini, id),
                Payload::IdR(id) if !from_initiator => (res, id),
                _ => continue,
            };
            let party = &mut parties[who];
            if party.identity.is_none() {
                party.identity = Some(id.to_string());
                party.label = id.to_string();
            }
        }
    }
    let ike_sas = sa_parties.len();
    let keyed = sa_keys.len();
    let mut observed = Observed::new(&format!("Capture {file}"), parties);
    observed.description = format!(
        "Read from the capture {file}: {} datagram{} of {total} frame{}, {ike_sas} IKE SA{} ({keyed} with keys). \
         Each datagram is drawn at the moment it was captured.",
        seen.len(),
        if seen.len() == 1 { "" } else { "s" },
        if total == 1 { "" } else { "s" },
        if ike_sas == 1 { "" } else { "s" },
    );
    let mut datagrams = 0;
    for (k, f) in seen.iter().enumerate() {
        let Some((from, to)) = assign[k] else {
            continue;
        };
        let t = (f.time - start).min(MAX_SPAN);
        if let Some(h) = ike_of(f).and_then(|m| Header::parse(m).ok())
            && first_sk.get(&h.spi_i).is_some_and(|&(at, _)| at == k)
            && let Some((spi_r, keys)) = sa_keys.remove(&h.spi_i)
        {
            let (ini, _) = sa_parties[&h.spi_i];
            observed.event(
                t,
                ini,
                Event::KeysDerived {
                    spi_i: h.spi_i,
                    spi_r,
                    keys: Box::new(keys),
                },
            );
        }
        observed.datagram(
            t,
            from,
            to,
            Seen {
                src: f.src,
                dst: f.dst,
                payload: &f.payload,
                protocol: f.protocol,
            },
        );
        datagrams += 1;
    }
    Ok(Imported {
        observed,
        frames: total,
        datagrams,
        ike_sas,
        keyed,
        skipped,
    })
}
