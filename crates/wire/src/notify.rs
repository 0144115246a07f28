//! Typed views of Notification Data (RFC 7296 §3.10.1, RFC 4555 §4,
//! RFC 5685), and constructors that emit each notify with the layout the
//! RFCs give (reference §1.3 and §1.5).
//!
//! [`Notify`] keeps the data as octets, which is what the wire carries and
//! what a peer echoes (COOKIE2 is copied "as is", M-3.7-5). [`NotifyData`] is
//! the decoded form: parsing checks each type's length and never panics;
//! an unknown status type is kept as [`NotifyData::Raw`] and an error type
//! as [`NotifyData::Error`] (RFC 7296 §3.10.1).

use crate::error::{Result, WireError, need};
use crate::payload::{Notify, hex};
use crate::registry::NotifyType;
use core::fmt;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};

/// Length of NAT_DETECTION_*_IP data: a SHA-1 hash (RFC 7296 §2.23).
pub const NAT_DETECTION_LEN: usize = 20;
/// COOKIE2 data is 8 to 64 octets (RFC 4555 §4.2.5, M-4.2.5-1).
pub const COOKIE2_LEN: core::ops::RangeInclusive<usize> = 8..=64;
/// COOKIE data is 1 to 64 octets (RFC 7296 §2.6).
pub const COOKIE_LEN: core::ops::RangeInclusive<usize> = 1..=64;
/// The Nonce Data of a REDIRECT is the initiator's Ni: 16 to 256 octets
/// (RFC 7296 §3.9, RFC 5685).
pub const REDIRECT_NONCE_LEN: core::ops::RangeInclusive<usize> = 16..=256;

/// The new gateway's identity in REDIRECT / REDIRECTED_FROM (RFC 5685):
/// `GW Ident Type(1) | GW Ident Len(1) | GW Identity`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum GwIdentity {
    /// GW Ident Type 1: a four-octet IPv4 address.
    Ipv4(Ipv4Addr),
    /// GW Ident Type 2: a sixteen-octet IPv6 address.
    Ipv6(Ipv6Addr),
    /// GW Ident Type 3: a fully qualified domain name (1 to 255 octets).
    Fqdn(String),
    /// Any other type (0 reserved, 4–240 unassigned, 241–255 private use),
    /// kept as octets (at most 255).
    Other { kind: u8, data: Vec<u8> },
}

impl GwIdentity {
    pub const IPV4: u8 = 1;
    pub const IPV6: u8 = 2;
    pub const FQDN: u8 = 3;

    /// A GW Ident Type 3 identity; the name must be 1 to 255 octets because
    /// GW Ident Len is one octet.
    pub fn fqdn(name: &str) -> Result<GwIdentity> {
        if name.is_empty() || name.len() > 255 {
            return Err(WireError::BadLength {
                what: "GW Identity FQDN",
                value: name.len(),
            });
        }
        Ok(GwIdentity::Fqdn(name.to_string()))
    }

    /// GW Ident Type.
    pub fn kind(&self) -> u8 {
        match self {
            GwIdentity::Ipv4(_) => Self::IPV4,
            GwIdentity::Ipv6(_) => Self::IPV6,
            GwIdentity::Fqdn(_) => Self::FQDN,
            GwIdentity::Other { kind, .. } => *kind,
        }
    }

    /// The GW Identity octets (without type and length).
    pub fn identity(&self) -> Vec<u8> {
        match self {
            GwIdentity::Ipv4(a) => a.octets().to_vec(),
            GwIdentity::Ipv6(a) => a.octets().to_vec(),
            GwIdentity::Fqdn(n) => n.as_bytes().to_vec(),
            GwIdentity::Other { data, .. } => data.clone(),
        }
    }

    /// The address, for Ident Types 1 and 2.
    pub fn address(&self) -> Option<IpAddr> {
        match self {
            GwIdentity::Ipv4(a) => Some(IpAddr::V4(*a)),
            GwIdentity::Ipv6(a) => Some(IpAddr::V6(*a)),
            _ => None,
        }
    }

    fn emit(&self, out: &mut Vec<u8>) -> Result<()> {
        let id = self.identity();
        let len = u8::try_from(id.len()).map_err(|_| WireError::BadLength {
            what: "GW Identity",
            value: id.len(),
        })?;
        out.push(self.kind());
        out.push(len);
        out.extend_from_slice(&id);
        Ok(())
    }

    /// Parses `GW Ident Type | GW Ident Len | GW Identity` and returns the
    /// identity and the octets after it.
    pub fn parse(data: &[u8]) -> Result<(GwIdentity, &[u8])> {
        need("GW Identity header", data, 2)?;
        let kind = data[0];
        let len = data[1] as usize;
        need("GW Identity", data, 2 + len)?;
        let id = &data[2..2 + len];
        let bad = || WireError::BadLength {
            what: "GW Identity",
            value: len,
        };
        let gw = match kind {
            Self::IPV4 => {
                let a: [u8; 4] = id.try_into().map_err(|_| bad())?;
                GwIdentity::Ipv4(Ipv4Addr::from(a))
            }
            Self::IPV6 => {
                let a: [u8; 16] = id.try_into().map_err(|_| bad())?;
                GwIdentity::Ipv6(Ipv6Addr::from(a))
            }
            Self::FQDN => {
                if id.is_empty() {
                    return Err(bad());
                }
                let name = core::str::from_utf8(id)
                    .map_err(|_| WireError::Malformed("GW Identity FQDN (not UTF-8)"))?;
                GwIdentity::Fqdn(name.to_string())
            }
            _ => GwIdentity::Other {
                kind,
                data: id.to_vec(),
            },
        };
        Ok((gw, &data[2 + len..]))
    }
}

impl From<IpAddr> for GwIdentity {
    fn from(a: IpAddr) -> Self {
        match a {
            IpAddr::V4(a) => GwIdentity::Ipv4(a),
            IpAddr::V6(a) => GwIdentity::Ipv6(a),
        }
    }
}

impl fmt::Display for GwIdentity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            GwIdentity::Ipv4(a) => write!(f, "{a}"),
            GwIdentity::Ipv6(a) => write!(f, "{a}"),
            GwIdentity::Fqdn(n) => f.write_str(n),
            GwIdentity::Other { kind, data } => {
                write!(f, "GW Ident Type {kind} {}", short_hex(data))
            }
        }
    }
}

/// The decoded Notification Data of one notify, by Notify Message Type.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum NotifyData {
    /// NAT_DETECTION_SOURCE_IP: SHA-1(SPIi | SPIr | src IP | src port)
    /// (RFC 7296 §2.23).
    NatDetectionSourceIp([u8; NAT_DETECTION_LEN]),
    /// NAT_DETECTION_DESTINATION_IP: SHA-1(SPIi | SPIr | dst IP | dst port).
    NatDetectionDestinationIp([u8; NAT_DETECTION_LEN]),
    /// COOKIE (RFC 7296 §2.6): 1 to 64 octets.
    Cookie(Vec<u8>),
    /// COOKIE2 (RFC 4555 §4.2.5): 8 to 64 unpredictable octets (M-4.2.5-1),
    /// copied as is into the response (M-3.7-5).
    Cookie2(Vec<u8>),
    /// SET_WINDOW_SIZE (RFC 7296 §2.3): a four-octet big-endian count.
    SetWindowSize(u32),
    /// ADDITIONAL_IP4_ADDRESS (4 octets) or ADDITIONAL_IP6_ADDRESS (16
    /// octets), RFC 4555 §4.2.2; the type follows the address family.
    AdditionalAddress(IpAddr),
    /// NO_NATS_ALLOWED (RFC 4555 §4.2.6): the addresses and ports the
    /// packet was sent from and to; 12 octets for IPv4, 36 for IPv6. Only
    /// for comparison and logging (M-3.9-2, M-3.9-5).
    NoNatsAllowed { src: SocketAddr, dst: SocketAddr },
    /// REDIRECT (RFC 5685): the new gateway and, in an IKE_SA_INIT
    /// response, the initiator's Nonce Data.
    Redirect {
        gw: GwIdentity,
        nonce: Option<Vec<u8>>,
    },
    /// REDIRECTED_FROM (RFC 5685): the gateway that redirected the client.
    RedirectedFrom(GwIdentity),
    /// A notify that carries no data: MOBIKE_SUPPORTED (contents ignored on
    /// receipt, M-4.2.1-1), UPDATE_SA_ADDRESSES (B-3.5-7),
    /// NO_ADDITIONAL_ADDRESSES, INITIAL_CONTACT, REDIRECT_SUPPORTED,
    /// UNACCEPTABLE_ADDRESSES, UNEXPECTED_NAT_DETECTED.
    Empty(NotifyType),
    /// Any other error type (below 16384), with its data as octets.
    Error { kind: NotifyType, data: Vec<u8> },
    /// Any other status type, known or not, with its data as octets
    /// (RFC 7296 §3.10.1: unrecognized status types are ignored, not
    /// rejected).
    Raw { kind: NotifyType, data: Vec<u8> },
}

/// Notify types whose data is empty (see [`NotifyData::Empty`]).
pub fn is_empty_kind(kind: NotifyType) -> bool {
    matches!(
        kind,
        NotifyType::MOBIKE_SUPPORTED
            | NotifyType::UPDATE_SA_ADDRESSES
            | NotifyType::NO_ADDITIONAL_ADDRESSES
            | NotifyType::INITIAL_CONTACT
            | NotifyType::REDIRECT_SUPPORTED
            | NotifyType::UNACCEPTABLE_ADDRESSES
            | NotifyType::UNEXPECTED_NAT_DETECTED
    )
}

fn in_range(
    what: &'static str,
    data: &[u8],
    range: core::ops::RangeInclusive<usize>,
) -> Result<()> {
    if range.contains(&data.len()) {
        Ok(())
    } else {
        Err(WireError::BadLength {
            what,
            value: data.len(),
        })
    }
}

fn exact<const N: usize>(what: &'static str, data: &[u8]) -> Result<[u8; N]> {
    data.try_into().map_err(|_| WireError::BadLength {
        what,
        value: data.len(),
    })
}

impl NotifyData {
    /// Decodes the data of `n` by its type.
    pub fn parse(n: &Notify) -> Result<NotifyData> {
        Self::parse_data(n.kind, &n.data)
    }

    /// Decodes Notification Data of type `kind`. Wrong lengths are typed
    /// errors ([`WireError::BadLength`]); nothing here panics.
    pub fn parse_data(kind: NotifyType, data: &[u8]) -> Result<NotifyData> {
        Ok(match kind {
            NotifyType::NAT_DETECTION_SOURCE_IP => {
                NotifyData::NatDetectionSourceIp(exact("NAT_DETECTION_SOURCE_IP", data)?)
            }
            NotifyType::NAT_DETECTION_DESTINATION_IP => {
                NotifyData::NatDetectionDestinationIp(exact("NAT_DETECTION_DESTINATION_IP", data)?)
            }
            NotifyType::COOKIE => {
                in_range("COOKIE", data, COOKIE_LEN)?;
                NotifyData::Cookie(data.to_vec())
            }
            NotifyType::COOKIE2 => {
                // M-4.2.5-1: 8 to 64 octets.
                in_range("COOKIE2", data, COOKIE2_LEN)?;
                NotifyData::Cookie2(data.to_vec())
            }
            NotifyType::SET_WINDOW_SIZE => {
                NotifyData::SetWindowSize(u32::from_be_bytes(exact("SET_WINDOW_SIZE", data)?))
            }
            NotifyType::ADDITIONAL_IP4_ADDRESS => NotifyData::AdditionalAddress(IpAddr::V4(
                Ipv4Addr::from(exact::<4>("ADDITIONAL_IP4_ADDRESS", data)?),
            )),
            NotifyType::ADDITIONAL_IP6_ADDRESS => NotifyData::AdditionalAddress(IpAddr::V6(
                Ipv6Addr::from(exact::<16>("ADDITIONAL_IP6_ADDRESS", data)?),
            )),
            NotifyType::NO_NATS_ALLOWED => parse_no_nats_allowed(data)?,
            NotifyType::REDIRECT => {
                let (gw, rest) = GwIdentity::parse(data)?;
                let nonce = if rest.is_empty() {
                    None
                } else {
                    in_range("REDIRECT Nonce Data", rest, REDIRECT_NONCE_LEN)?;
                    Some(rest.to_vec())
                };
                NotifyData::Redirect { gw, nonce }
            }
            NotifyType::REDIRECTED_FROM => {
                let (gw, rest) = GwIdentity::parse(data)?;
                if !rest.is_empty() {
                    return Err(WireError::BadLength {
                        what: "REDIRECTED_FROM trailing data",
                        value: rest.len(),
                    });
                }
                NotifyData::RedirectedFrom(gw)
            }
            // M-4.2.1-1: MOBIKE_SUPPORTED contents are ignored on receipt.
            NotifyType::MOBIKE_SUPPORTED => NotifyData::Empty(kind),
            k if is_empty_kind(k) => {
                if !data.is_empty() {
                    return Err(WireError::BadLength {
                        what: "notify without data",
                        value: data.len(),
                    });
                }
                NotifyData::Empty(k)
            }
            k if k.is_error() => NotifyData::Error {
                kind: k,
                data: data.to_vec(),
            },
            k => NotifyData::Raw {
                kind: k,
                data: data.to_vec(),
            },
        })
    }

    /// The Notify Message Type.
    pub fn kind(&self) -> NotifyType {
        match self {
            NotifyData::NatDetectionSourceIp(_) => NotifyType::NAT_DETECTION_SOURCE_IP,
            NotifyData::NatDetectionDestinationIp(_) => NotifyType::NAT_DETECTION_DESTINATION_IP,
            NotifyData::Cookie(_) => NotifyType::COOKIE,
            NotifyData::Cookie2(_) => NotifyType::COOKIE2,
            NotifyData::SetWindowSize(_) => NotifyType::SET_WINDOW_SIZE,
            NotifyData::AdditionalAddress(IpAddr::V4(_)) => NotifyType::ADDITIONAL_IP4_ADDRESS,
            NotifyData::AdditionalAddress(IpAddr::V6(_)) => NotifyType::ADDITIONAL_IP6_ADDRESS,
            NotifyData::NoNatsAllowed { .. } => NotifyType::NO_NATS_ALLOWED,
            NotifyData::Redirect { .. } => NotifyType::REDIRECT,
            NotifyData::RedirectedFrom(_) => NotifyType::REDIRECTED_FROM,
            NotifyData::Empty(k) => *k,
            NotifyData::Error { kind, .. } | NotifyData::Raw { kind, .. } => *kind,
        }
    }

    /// The Notification Data octets. Fails if the value cannot be sent as
    /// it is (a COOKIE2 of the wrong length, NO_NATS_ALLOWED with mixed
    /// address families, a GW identity over 255 octets, ...): the emitted
    /// data is checked by parsing it back.
    pub fn to_data(&self) -> Result<Vec<u8>> {
        let mut out = Vec::new();
        match self {
            NotifyData::NatDetectionSourceIp(h) | NotifyData::NatDetectionDestinationIp(h) => {
                out.extend_from_slice(h)
            }
            NotifyData::Cookie(d) | NotifyData::Cookie2(d) => out.extend_from_slice(d),
            NotifyData::SetWindowSize(n) => out.extend_from_slice(&n.to_be_bytes()),
            NotifyData::AdditionalAddress(a) => push_ip(&mut out, *a),
            NotifyData::NoNatsAllowed { src, dst } => {
                if src.is_ipv4() != dst.is_ipv4() {
                    return Err(WireError::Malformed(
                        "NO_NATS_ALLOWED with mixed address families",
                    ));
                }
                push_ip(&mut out, src.ip());
                push_ip(&mut out, dst.ip());
                out.extend_from_slice(&src.port().to_be_bytes());
                out.extend_from_slice(&dst.port().to_be_bytes());
            }
            NotifyData::Redirect { gw, nonce } => {
                gw.emit(&mut out)?;
                if let Some(n) = nonce {
                    out.extend_from_slice(n);
                }
            }
            NotifyData::RedirectedFrom(gw) => gw.emit(&mut out)?,
            NotifyData::Empty(_) => {}
            NotifyData::Error { data, .. } | NotifyData::Raw { data, .. } => {
                out.extend_from_slice(data)
            }
        }
        Self::parse_data(self.kind(), &out)?;
        Ok(out)
    }

    /// The notify that carries this data: Protocol ID 0 and no SPI, as for
    /// every MOBIKE, NAT-D and Redirect notify (RFC 4555 §4).
    pub fn to_notify(&self) -> Result<Notify> {
        Ok(Notify::new(self.kind(), self.to_data()?))
    }
}

fn push_ip(out: &mut Vec<u8>, a: IpAddr) {
    match a {
        IpAddr::V4(a) => out.extend_from_slice(&a.octets()),
        IpAddr::V6(a) => out.extend_from_slice(&a.octets()),
    }
}

/// RFC 4555 §4.2.6: `src IP | dst IP | src port | dst port`, 12 octets for
/// IPv4 and 36 for IPv6.
fn parse_no_nats_allowed(data: &[u8]) -> Result<NotifyData> {
    let (src, dst, ports) = match data.len() {
        12 => {
            let s: [u8; 4] = exact("NO_NATS_ALLOWED", &data[0..4])?;
            let d: [u8; 4] = exact("NO_NATS_ALLOWED", &data[4..8])?;
            (IpAddr::V4(s.into()), IpAddr::V4(d.into()), &data[8..12])
        }
        36 => {
            let s: [u8; 16] = exact("NO_NATS_ALLOWED", &data[0..16])?;
            let d: [u8; 16] = exact("NO_NATS_ALLOWED", &data[16..32])?;
            (IpAddr::V6(s.into()), IpAddr::V6(d.into()), &data[32..36])
        }
        n => {
            return Err(WireError::BadLength {
                what: "NO_NATS_ALLOWED",
                value: n,
            });
        }
    };
    Ok(NotifyData::NoNatsAllowed {
        src: SocketAddr::new(src, u16::from_be_bytes([ports[0], ports[1]])),
        dst: SocketAddr::new(dst, u16::from_be_bytes([ports[2], ports[3]])),
    })
}

/// Up to four octets in hex, then `…` if there are more: enough to tell
/// two cookies or hashes apart in a chart or a list.
pub(crate) fn short_hex(b: &[u8]) -> String {
    if b.len() > 4 {
        format!("{}…", hex(&b[..4]))
    } else {
        hex(b)
    }
}

/// Human form: `COOKIE2 = 18db59d7…`, `ADDITIONAL_IP4_ADDRESS = 192.0.2.10`,
/// `NO_NATS_ALLOWED = 192.0.2.10:4500 → 203.0.113.10:4500`,
/// `MOBIKE_SUPPORTED`, `UNACCEPTABLE_ADDRESSES (error)`.
impl fmt::Display for NotifyData {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let kind = self.kind();
        match kind.name() {
            Some(name) => f.write_str(name)?,
            None => write!(f, "notify type {}", kind.value())?,
        }
        if kind.is_error() {
            f.write_str(" (error)")?;
        }
        match self {
            NotifyData::NatDetectionSourceIp(h) | NotifyData::NatDetectionDestinationIp(h) => {
                write!(f, " = {}", short_hex(h))
            }
            NotifyData::Cookie(d) | NotifyData::Cookie2(d) => write!(f, " = {}", short_hex(d)),
            NotifyData::SetWindowSize(n) => write!(f, " = {n}"),
            NotifyData::AdditionalAddress(a) => write!(f, " = {a}"),
            NotifyData::NoNatsAllowed { src, dst } => write!(f, " = {src} → {dst}"),
            NotifyData::Redirect { gw, nonce } => {
                write!(f, " = {gw}")?;
                match nonce {
                    Some(n) => write!(f, ", nonce {}", short_hex(n)),
                    None => Ok(()),
                }
            }
            NotifyData::RedirectedFrom(gw) => write!(f, " = {gw}"),
            NotifyData::Empty(_) => Ok(()),
            NotifyData::Error { data, .. } | NotifyData::Raw { data, .. } => {
                if data.is_empty() {
                    Ok(())
                } else {
                    write!(f, " = {}", short_hex(data))
                }
            }
        }
    }
}

impl TryFrom<&Notify> for NotifyData {
    type Error = WireError;
    fn try_from(n: &Notify) -> Result<NotifyData> {
        NotifyData::parse(n)
    }
}

/// Constructors for every notify the playground sends (reference §1.3).
impl Notify {
    /// The decoded data of this notify ([`NotifyData::parse`]).
    pub fn typed_data(&self) -> Result<NotifyData> {
        NotifyData::parse(self)
    }

    /// NAT_DETECTION_SOURCE_IP with a precomputed hash (RFC 7296 §2.23;
    /// see [`crate::crypto::nat_detection_hash`]).
    pub fn nat_detection_source_ip(hash: [u8; NAT_DETECTION_LEN]) -> Notify {
        Notify::new(NotifyType::NAT_DETECTION_SOURCE_IP, hash.to_vec())
    }
    /// NAT_DETECTION_DESTINATION_IP with a precomputed hash.
    pub fn nat_detection_destination_ip(hash: [u8; NAT_DETECTION_LEN]) -> Notify {
        Notify::new(NotifyType::NAT_DETECTION_DESTINATION_IP, hash.to_vec())
    }
    /// COOKIE (RFC 7296 §2.6): 1 to 64 octets.
    pub fn cookie(data: &[u8]) -> Result<Notify> {
        NotifyData::Cookie(data.to_vec()).to_notify()
    }
    /// COOKIE2 (RFC 4555 §4.2.5): 8 to 64 octets (M-4.2.5-1).
    pub fn cookie2(data: &[u8]) -> Result<Notify> {
        NotifyData::Cookie2(data.to_vec()).to_notify()
    }
    /// SET_WINDOW_SIZE (RFC 7296 §2.3): the number of requests the sender
    /// can keep outstanding (I-2.3-2).
    pub fn set_window_size(n: u32) -> Notify {
        Notify::new(NotifyType::SET_WINDOW_SIZE, n.to_be_bytes().to_vec())
    }
    /// NO_NATS_ALLOWED (RFC 4555 §4.2.6, M-3.9-1): the addresses and ports
    /// this packet is sent from and to. Both must be of one family.
    pub fn no_nats_allowed(src: SocketAddr, dst: SocketAddr) -> Result<Notify> {
        NotifyData::NoNatsAllowed {
            src: SocketAddr::new(src.ip(), src.port()),
            dst: SocketAddr::new(dst.ip(), dst.port()),
        }
        .to_notify()
    }
    /// REDIRECT (RFC 5685): the new gateway, with the initiator's Ni as
    /// Nonce Data when sent in an IKE_SA_INIT response.
    pub fn redirect(gw: GwIdentity, nonce: Option<&[u8]>) -> Result<Notify> {
        NotifyData::Redirect {
            gw,
            nonce: nonce.map(<[u8]>::to_vec),
        }
        .to_notify()
    }
    /// REDIRECTED_FROM (RFC 5685): the gateway that redirected the client.
    pub fn redirected_from(gw: GwIdentity) -> Result<Notify> {
        NotifyData::RedirectedFrom(gw).to_notify()
    }
    /// MOBIKE_SUPPORTED (RFC 4555 §4.2.1): empty when sent (M-4.2.1-1).
    pub fn mobike_supported() -> Notify {
        Notify::empty(NotifyType::MOBIKE_SUPPORTED)
    }
    /// UPDATE_SA_ADDRESSES (RFC 4555 §4.2.4): no data (B-3.5-7).
    pub fn update_sa_addresses() -> Notify {
        Notify::empty(NotifyType::UPDATE_SA_ADDRESSES)
    }
    /// NO_ADDITIONAL_ADDRESSES (RFC 4555 §4.2.3): no data.
    pub fn no_additional_addresses() -> Notify {
        Notify::empty(NotifyType::NO_ADDITIONAL_ADDRESSES)
    }
    /// INITIAL_CONTACT (RFC 7296 §3.10.1): no data.
    pub fn initial_contact() -> Notify {
        Notify::empty(NotifyType::INITIAL_CONTACT)
    }
    /// REDIRECT_SUPPORTED (RFC 5685): no data.
    pub fn redirect_supported() -> Notify {
        Notify::empty(NotifyType::REDIRECT_SUPPORTED)
    }
    /// UNACCEPTABLE_ADDRESSES (RFC 4555 §4.1.1, B-3.5-9): no data.
    pub fn unacceptable_addresses() -> Notify {
        Notify::empty(NotifyType::UNACCEPTABLE_ADDRESSES)
    }
    /// UNEXPECTED_NAT_DETECTED (RFC 4555 §4.1.2, M-3.9-2): no data.
    pub fn unexpected_nat_detected() -> Notify {
        Notify::empty(NotifyType::UNEXPECTED_NAT_DETECTED)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sa(s: &str) -> SocketAddr {
        s.parse().unwrap()
    }

    #[test]
    fn cookie2_length_is_8_to_64_m_4_2_5_1() {
        for n in [8usize, 16, 64] {
            assert!(Notify::cookie2(&vec![1; n]).is_ok(), "{n}");
        }
        for n in [0usize, 7, 65] {
            assert_eq!(
                Notify::cookie2(&vec![1; n]),
                Err(WireError::BadLength {
                    what: "COOKIE2",
                    value: n
                })
            );
            assert!(NotifyData::parse_data(NotifyType::COOKIE2, &vec![1; n]).is_err());
        }
    }

    #[test]
    fn mobike_supported_data_is_ignored_m_4_2_1_1() {
        // M-4.2.1-1: "MOBIKE_SUPPORTED with 4 data octets still enables MOBIKE".
        let n = Notify::new(NotifyType::MOBIKE_SUPPORTED, vec![1, 2, 3, 4]);
        assert_eq!(
            NotifyData::parse(&n),
            Ok(NotifyData::Empty(NotifyType::MOBIKE_SUPPORTED))
        );
        // ...but we send it empty.
        assert!(Notify::mobike_supported().data.is_empty());
    }

    #[test]
    fn update_sa_addresses_with_data_is_rejected() {
        assert!(NotifyData::parse_data(NotifyType::UPDATE_SA_ADDRESSES, &[0]).is_err());
    }

    #[test]
    fn no_nats_allowed_layout_rfc4555_4_2_6() {
        let n = Notify::no_nats_allowed(sa("192.0.2.10:500"), sa("203.0.113.10:4500")).unwrap();
        assert_eq!(
            n.data,
            [192, 0, 2, 10, 203, 0, 113, 10, 0x01, 0xf4, 0x11, 0x94]
        );
        let v6 = Notify::no_nats_allowed(sa("[2001:db8::1]:500"), sa("[2001:db8::2]:500")).unwrap();
        assert_eq!(v6.data.len(), 36);
        assert_eq!(
            NotifyData::parse(&v6).unwrap().to_string(),
            "NO_NATS_ALLOWED = [2001:db8::1]:500 → [2001:db8::2]:500"
        );
        assert!(Notify::no_nats_allowed(sa("192.0.2.1:1"), sa("[2001:db8::2]:500")).is_err());
        assert_eq!(
            NotifyData::parse_data(NotifyType::NO_NATS_ALLOWED, &[0; 13]),
            Err(WireError::BadLength {
                what: "NO_NATS_ALLOWED",
                value: 13
            })
        );
    }

    #[test]
    fn redirect_with_and_without_nonce() {
        let gw = GwIdentity::Ipv4("192.0.2.5".parse().unwrap());
        let n = Notify::redirect(gw.clone(), Some(&[7; 32])).unwrap();
        assert_eq!(&n.data[..6], &[1, 4, 192, 0, 2, 5]);
        assert_eq!(n.data.len(), 6 + 32);
        assert_eq!(
            NotifyData::parse(&n).unwrap(),
            NotifyData::Redirect {
                gw: gw.clone(),
                nonce: Some(vec![7; 32])
            }
        );
        let f = Notify::redirect(GwIdentity::fqdn("gw2.example").unwrap(), None).unwrap();
        assert_eq!(
            NotifyData::parse(&f).unwrap().to_string(),
            "REDIRECT = gw2.example"
        );
        let from = Notify::redirected_from(gw).unwrap();
        assert_eq!(
            NotifyData::parse(&from).unwrap().to_string(),
            "REDIRECTED_FROM = 192.0.2.5"
        );
        // IPv4 identity with a length of 5; identity longer than the data.
        assert!(NotifyData::parse_data(NotifyType::REDIRECT, &[1, 5, 1, 2, 3, 4, 5]).is_err());
        assert!(NotifyData::parse_data(NotifyType::REDIRECT, &[3, 9, b'a']).is_err());
        // REDIRECTED_FROM carries no nonce.
        assert!(
            NotifyData::parse_data(NotifyType::REDIRECTED_FROM, &[1, 4, 1, 2, 3, 4, 0]).is_err()
        );
        assert!(GwIdentity::fqdn(&"a".repeat(256)).is_err());
    }

    #[test]
    fn display_is_human() {
        let c = Notify::cookie2(&[0x18, 0xdb, 0x59, 0xd7, 1, 2, 3, 4]).unwrap();
        assert_eq!(
            NotifyData::parse(&c).unwrap().to_string(),
            "COOKIE2 = 18db59d7…"
        );
        assert_eq!(
            NotifyData::parse(&Notify::set_window_size(4))
                .unwrap()
                .to_string(),
            "SET_WINDOW_SIZE = 4"
        );
        assert_eq!(
            NotifyData::parse(&Notify::unacceptable_addresses())
                .unwrap()
                .to_string(),
            "UNACCEPTABLE_ADDRESSES (error)"
        );
        assert_eq!(
            NotifyData::parse(&Notify::additional_address(
                "198.51.100.10".parse().unwrap()
            ))
            .unwrap()
            .to_string(),
            "ADDITIONAL_IP4_ADDRESS = 198.51.100.10"
        );
        assert_eq!(
            NotifyData::parse_data(NotifyType::INVALID_KE_PAYLOAD, &[0, 31])
                .unwrap()
                .to_string(),
            "INVALID_KE_PAYLOAD (error) = 001f"
        );
        assert_eq!(
            NotifyData::parse_data(NotifyType::Unknown(40000), &[])
                .unwrap()
                .to_string(),
            "notify type 40000"
        );
    }

    #[test]
    fn fixed_lengths() {
        assert!(NotifyData::parse_data(NotifyType::NAT_DETECTION_SOURCE_IP, &[0; 19]).is_err());
        assert!(NotifyData::parse_data(NotifyType::SET_WINDOW_SIZE, &[0; 3]).is_err());
        assert!(NotifyData::parse_data(NotifyType::ADDITIONAL_IP4_ADDRESS, &[0; 16]).is_err());
        assert!(NotifyData::parse_data(NotifyType::ADDITIONAL_IP6_ADDRESS, &[0; 4]).is_err());
        assert!(NotifyData::parse_data(NotifyType::COOKIE, &[]).is_err());
        assert!(NotifyData::parse_data(NotifyType::COOKIE, &[0; 65]).is_err());
    }
}
