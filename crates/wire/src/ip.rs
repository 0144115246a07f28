//! IPv4, IPv6, UDP and ICMP framing: the inner packets the ESP tunnel carries
//! (pings) and the outer headers a pcap export needs.

use crate::error::{Result, WireError, need};
use std::net::{IpAddr, Ipv4Addr, SocketAddr};

pub const IPPROTO_ICMP: u8 = 1;
pub const IPPROTO_UDP: u8 = 17;
pub const IPPROTO_ICMPV6: u8 = 58;

/// The Internet checksum (RFC 1071) over `data`, starting from `sum`.
fn checksum(mut sum: u32, data: &[u8]) -> u16 {
    let mut chunks = data.chunks_exact(2);
    for c in &mut chunks {
        sum += u16::from_be_bytes([c[0], c[1]]) as u32;
    }
    if let [last] = chunks.remainder() {
        sum += (*last as u32) << 8;
    }
    while sum >> 16 != 0 {
        sum = (sum & 0xffff) + (sum >> 16);
    }
    !(sum as u16)
}

fn pseudo_sum(src: IpAddr, dst: IpAddr, proto: u8, len: usize) -> u32 {
    let mut b = Vec::with_capacity(40);
    for a in [src, dst] {
        match a {
            IpAddr::V4(a) => b.extend_from_slice(&a.octets()),
            IpAddr::V6(a) => b.extend_from_slice(&a.octets()),
        }
    }
    let mut sum = 0u32;
    for c in b.chunks_exact(2) {
        sum += u16::from_be_bytes([c[0], c[1]]) as u32;
    }
    sum + proto as u32 + len as u32
}

/// An IP packet around `payload` (IPv4 with a header checksum, or IPv6),
/// TTL/hop limit 64, identification `id`.
pub fn ip_packet(src: IpAddr, dst: IpAddr, proto: u8, id: u16, payload: &[u8]) -> Vec<u8> {
    match (src, dst) {
        (IpAddr::V4(s), IpAddr::V4(d)) => {
            let total = (20 + payload.len()) as u16;
            let mut h = vec![0x45, 0];
            h.extend_from_slice(&total.to_be_bytes());
            h.extend_from_slice(&id.to_be_bytes());
            h.extend_from_slice(&[0x40, 0]); // don't fragment
            h.push(64);
            h.push(proto);
            h.extend_from_slice(&[0, 0]);
            h.extend_from_slice(&s.octets());
            h.extend_from_slice(&d.octets());
            let c = checksum(0, &h);
            h[10..12].copy_from_slice(&c.to_be_bytes());
            h.extend_from_slice(payload);
            h
        }
        _ => {
            let (s, d) = (v6(src), v6(dst));
            let mut h = vec![0x60, 0, 0, 0];
            h.extend_from_slice(&(payload.len() as u16).to_be_bytes());
            h.push(proto);
            h.push(64);
            h.extend_from_slice(&s);
            h.extend_from_slice(&d);
            h.extend_from_slice(payload);
            h
        }
    }
}

fn v6(a: IpAddr) -> [u8; 16] {
    match a {
        IpAddr::V4(a) => a.to_ipv6_mapped().octets(),
        IpAddr::V6(a) => a.octets(),
    }
}

/// A UDP datagram. `with_checksum = false` leaves the checksum 0, as RFC 3948
/// §2.1 says UDP-encapsulated ESP over IPv4 should (IPv6 always gets one).
pub fn udp_datagram(
    src: SocketAddr,
    dst: SocketAddr,
    payload: &[u8],
    with_checksum: bool,
) -> Vec<u8> {
    let len = 8 + payload.len();
    let mut u = Vec::with_capacity(len);
    u.extend_from_slice(&src.port().to_be_bytes());
    u.extend_from_slice(&dst.port().to_be_bytes());
    u.extend_from_slice(&(len as u16).to_be_bytes());
    u.extend_from_slice(&[0, 0]);
    u.extend_from_slice(payload);
    if with_checksum || src.is_ipv6() {
        let mut c = checksum(pseudo_sum(src.ip(), dst.ip(), IPPROTO_UDP, len), &u);
        if c == 0 {
            c = 0xffff;
        }
        u[6..8].copy_from_slice(&c.to_be_bytes());
    }
    u
}

/// An ICMP echo request or reply (IPv4) with identifier and sequence number.
pub fn icmp_echo(reply: bool, ident: u16, seq: u16, data: &[u8]) -> Vec<u8> {
    let mut m = vec![if reply { 0 } else { 8 }, 0, 0, 0];
    m.extend_from_slice(&ident.to_be_bytes());
    m.extend_from_slice(&seq.to_be_bytes());
    m.extend_from_slice(data);
    let c = checksum(0, &m);
    m[2..4].copy_from_slice(&c.to_be_bytes());
    m
}

/// A ping inside the tunnel: IPv4 + ICMP echo.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Ping {
    pub src: Ipv4Addr,
    pub dst: Ipv4Addr,
    pub reply: bool,
    pub ident: u16,
    pub seq: u16,
}

impl Ping {
    pub fn to_packet(&self) -> Vec<u8> {
        let icmp = icmp_echo(self.reply, self.ident, self.seq, b"mobike-playground");
        ip_packet(
            self.src.into(),
            self.dst.into(),
            IPPROTO_ICMP,
            self.seq,
            &icmp,
        )
    }

    /// Reads an IPv4 ICMP echo packet; anything else is an error.
    pub fn parse(p: &[u8]) -> Result<Ping> {
        need("IPv4 header", p, 20)?;
        if p[0] >> 4 != 4 || p[9] != IPPROTO_ICMP {
            return Err(WireError::Malformed("inner packet is not IPv4 ICMP"));
        }
        let ihl = (p[0] & 0x0f) as usize * 4;
        if ihl < 20 {
            return Err(WireError::BadLength {
                what: "IPv4 header length",
                value: ihl,
            });
        }
        need("ICMP header", p, ihl + 8)?;
        let icmp = &p[ihl..];
        let reply = match icmp[0] {
            0 => true,
            8 => false,
            _ => return Err(WireError::Malformed("ICMP type is not echo")),
        };
        Ok(Ping {
            src: Ipv4Addr::new(p[12], p[13], p[14], p[15]),
            dst: Ipv4Addr::new(p[16], p[17], p[18], p[19]),
            reply,
            ident: u16::from_be_bytes([icmp[4], icmp[5]]),
            seq: u16::from_be_bytes([icmp[6], icmp[7]]),
        })
    }

    /// The answer to this request.
    pub fn reply(&self) -> Ping {
        Ping {
            src: self.dst,
            dst: self.src,
            reply: true,
            ident: self.ident,
            seq: self.seq,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ipv4_header_checksum_verifies() {
        let p = ip_packet(
            "192.0.2.1".parse().unwrap(),
            "203.0.113.1".parse().unwrap(),
            IPPROTO_UDP,
            1,
            &[0; 8],
        );
        assert_eq!(checksum(0, &p[..20]), 0, "a correct header sums to zero");
        assert_eq!(u16::from_be_bytes([p[2], p[3]]), 28);
    }

    #[test]
    fn udp_checksum_verifies_and_can_be_zero() {
        let s: SocketAddr = "192.0.2.1:4500".parse().unwrap();
        let d: SocketAddr = "203.0.113.1:4500".parse().unwrap();
        let u = udp_datagram(s, d, b"abc", true);
        assert_eq!(
            checksum(pseudo_sum(s.ip(), d.ip(), IPPROTO_UDP, u.len()), &u),
            0
        );
        assert_eq!(&udp_datagram(s, d, b"abc", false)[6..8], &[0, 0]);
    }

    #[test]
    fn ping_round_trip() {
        let p = Ping {
            src: "10.99.0.2".parse().unwrap(),
            dst: "10.1.0.1".parse().unwrap(),
            reply: false,
            ident: 7,
            seq: 3,
        };
        assert_eq!(Ping::parse(&p.to_packet()).unwrap(), p);
        assert!(Ping::parse(&p.reply().to_packet()).unwrap().reply);
        assert!(Ping::parse(&[0x45; 10]).is_err());
        // A header length below 5 words is malformed (found by fuzzing).
        let mut short = p.to_packet();
        short[0] = 0x41;
        assert!(matches!(
            Ping::parse(&short),
            Err(WireError::BadLength { .. })
        ));
    }
}
