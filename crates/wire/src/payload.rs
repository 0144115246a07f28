//! IKEv2 payloads (RFC 7296 §3.2–§3.15) in parsed form, and the payload chain.

use crate::error::{Result, WireError, need};
use crate::registry::{NotifyType, PayloadType, ProtocolId, TransformType, transform_id};
use core::fmt;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

/// Length of the generic payload header (RFC 7296 §3.2).
pub const GENERIC_HEADER_LEN: usize = 4;

/// One transform of a proposal (RFC 7296 §3.3.2), with the Key Length
/// attribute when present (§3.3.5).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Transform {
    pub kind: TransformType,
    pub id: u16,
    pub key_length: Option<u16>,
}

/// A proposal substructure (RFC 7296 §3.3.1).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Proposal {
    pub number: u8,
    pub protocol: ProtocolId,
    pub spi: Vec<u8>,
    pub transforms: Vec<Transform>,
}

impl Proposal {
    /// The IKE proposal the playground offers: ENCR_AES_GCM_16 with a 128-bit
    /// key, PRF_HMAC_SHA2_256, D-H group 31 (x25519). No INTEG transform with
    /// an AEAD cipher (RFC 5282 §8).
    pub fn ike_default() -> Proposal {
        Proposal {
            number: 1,
            protocol: ProtocolId::IKE,
            spi: Vec::new(),
            transforms: vec![
                Transform {
                    kind: TransformType::ENCR,
                    id: transform_id::ENCR_AES_GCM_16,
                    key_length: Some(128),
                },
                Transform {
                    kind: TransformType::PRF,
                    id: transform_id::PRF_HMAC_SHA2_256,
                    key_length: None,
                },
                Transform {
                    kind: TransformType::DH,
                    id: transform_id::DH_CURVE25519,
                    key_length: None,
                },
            ],
        }
    }

    /// An ESP proposal with AES-GCM-16/128 and no ESN, for the Child SA.
    pub fn esp_default(spi: u32) -> Proposal {
        Proposal {
            number: 1,
            protocol: ProtocolId::ESP,
            spi: spi.to_be_bytes().to_vec(),
            transforms: vec![
                Transform {
                    kind: TransformType::ENCR,
                    id: transform_id::ENCR_AES_GCM_16,
                    key_length: Some(128),
                },
                Transform {
                    kind: TransformType::ESN,
                    id: transform_id::ESN_NONE,
                    key_length: None,
                },
            ],
        }
    }

    /// The transform ID of the given type, if the proposal has one.
    pub fn transform(&self, kind: TransformType) -> Option<&Transform> {
        self.transforms.iter().find(|t| t.kind == kind)
    }
}

/// Identification payload contents (RFC 7296 §3.5).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Identification {
    /// ID Type: 1 IPv4, 2 FQDN, 3 RFC822, 5 IPv6, 9 DER_ASN1_DN, 11 KEY_ID.
    pub id_type: u8,
    pub data: Vec<u8>,
}

impl Identification {
    /// ID_IPV4_ADDR: a single four-octet IPv4 address (RFC 7296 §3.5).
    pub const IPV4_ADDR: u8 = 1;
    /// ID_FQDN: a fully qualified domain name string, no terminator.
    pub const FQDN: u8 = 2;
    /// ID_RFC822_ADDR: an email address string, no terminator.
    pub const RFC822_ADDR: u8 = 3;
    /// ID_IPV6_ADDR: a single sixteen-octet IPv6 address.
    pub const IPV6_ADDR: u8 = 5;
    /// ID_DER_ASN1_DN: a DER encoded X.500 distinguished name.
    pub const DER_ASN1_DN: u8 = 9;
    /// ID_DER_ASN1_GN: a DER encoded X.509 GeneralName.
    pub const DER_ASN1_GN: u8 = 10;
    /// ID_KEY_ID: an opaque octet stream (vendor-specific information).
    pub const KEY_ID: u8 = 11;

    pub fn fqdn(name: &str) -> Self {
        Identification {
            id_type: Self::FQDN,
            data: name.as_bytes().to_vec(),
        }
    }
    /// ID_RFC822_ADDR, e.g. `user@example.org`.
    pub fn rfc822(addr: &str) -> Self {
        Identification {
            id_type: Self::RFC822_ADDR,
            data: addr.as_bytes().to_vec(),
        }
    }
    /// ID_IPV4_ADDR or ID_IPV6_ADDR for `addr`.
    pub fn ip(addr: IpAddr) -> Self {
        match addr {
            IpAddr::V4(a) => Identification {
                id_type: Self::IPV4_ADDR,
                data: a.octets().to_vec(),
            },
            IpAddr::V6(a) => Identification {
                id_type: Self::IPV6_ADDR,
                data: a.octets().to_vec(),
            },
        }
    }
    /// ID_KEY_ID with opaque `id` octets.
    pub fn key_id(id: &[u8]) -> Self {
        Identification {
            id_type: Self::KEY_ID,
            data: id.to_vec(),
        }
    }
    /// The registry name of the ID Type (RFC 7296 §3.5), if known.
    pub fn type_name(&self) -> Option<&'static str> {
        Some(match self.id_type {
            Self::IPV4_ADDR => "ID_IPV4_ADDR",
            Self::FQDN => "ID_FQDN",
            Self::RFC822_ADDR => "ID_RFC822_ADDR",
            Self::IPV6_ADDR => "ID_IPV6_ADDR",
            Self::DER_ASN1_DN => "ID_DER_ASN1_DN",
            Self::DER_ASN1_GN => "ID_DER_ASN1_GN",
            Self::KEY_ID => "ID_KEY_ID",
            _ => return None,
        })
    }
    /// The address of an ID_IPV4_ADDR / ID_IPV6_ADDR identity.
    pub fn address(&self) -> Option<IpAddr> {
        match self.id_type {
            Self::IPV4_ADDR => {
                let a: [u8; 4] = self.data.as_slice().try_into().ok()?;
                Some(IpAddr::V4(Ipv4Addr::from(a)))
            }
            Self::IPV6_ADDR => {
                let a: [u8; 16] = self.data.as_slice().try_into().ok()?;
                Some(IpAddr::V6(Ipv6Addr::from(a)))
            }
            _ => None,
        }
    }
    /// The ID payload body after the generic header ("RestOfInitIDPayload",
    /// RFC 7296 §2.15): ID Type, three reserved octets, data.
    pub fn body(&self) -> Vec<u8> {
        let mut b = vec![self.id_type, 0, 0, 0];
        b.extend_from_slice(&self.data);
        b
    }
    /// Parses an ID payload body. RFC 7296 §3.5: an ID_IPV4_ADDR is exactly
    /// four octets and an ID_IPV6_ADDR sixteen; other lengths are rejected.
    pub fn parse(body: &[u8]) -> Result<Identification> {
        need("ID payload", body, 4)?;
        let id = Identification {
            id_type: body[0],
            data: body[4..].to_vec(),
        };
        let want = match id.id_type {
            Self::IPV4_ADDR => Some(4),
            Self::IPV6_ADDR => Some(16),
            _ => None,
        };
        match want {
            Some(n) if id.data.len() != n => Err(WireError::BadLength {
                what: "ID address",
                value: id.data.len(),
            }),
            _ => Ok(id),
        }
    }
}

/// Shows the identity the way a peer would configure it: an address, a
/// name, or the KEY_ID octets in hex (RFC 7296 §3.5 ID types).
impl fmt::Display for Identification {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if let Some(a) = self.address() {
            return write!(f, "{a}");
        }
        match self.id_type {
            Self::FQDN | Self::RFC822_ADDR => {
                write!(f, "{}", String::from_utf8_lossy(&self.data))
            }
            Self::KEY_ID => write!(f, "KEY_ID {}", hex(&self.data)),
            t => match self.type_name() {
                Some(name) => write!(f, "{name}, {} octets", self.data.len()),
                None => write!(f, "type {t}, {} octets", self.data.len()),
            },
        }
    }
}

/// Lower-case hex of `b`, no separators.
pub(crate) fn hex(b: &[u8]) -> String {
    use fmt::Write;
    let mut s = String::with_capacity(b.len() * 2);
    for x in b {
        let _ = write!(s, "{x:02x}");
    }
    s
}

/// A Notify payload (RFC 7296 §3.10).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Notify {
    pub protocol_id: u8,
    pub spi: Vec<u8>,
    pub kind: NotifyType,
    pub data: Vec<u8>,
}

impl Notify {
    /// A notify about the IKE SA: Protocol ID 0, no SPI (RFC 4555 §4).
    pub fn new(kind: NotifyType, data: Vec<u8>) -> Self {
        Notify {
            protocol_id: 0,
            spi: Vec::new(),
            kind,
            data,
        }
    }
    pub fn empty(kind: NotifyType) -> Self {
        Self::new(kind, Vec::new())
    }
    /// ADDITIONAL_IP4_ADDRESS / ADDITIONAL_IP6_ADDRESS (RFC 4555 §4.2.2).
    pub fn additional_address(addr: IpAddr) -> Self {
        match addr {
            IpAddr::V4(a) => Self::new(NotifyType::ADDITIONAL_IP4_ADDRESS, a.octets().to_vec()),
            IpAddr::V6(a) => Self::new(NotifyType::ADDITIONAL_IP6_ADDRESS, a.octets().to_vec()),
        }
    }
    /// The address carried by an ADDITIONAL_IP4/IP6_ADDRESS notify.
    pub fn address(&self) -> Option<IpAddr> {
        match (self.kind, self.data.len()) {
            (NotifyType::ADDITIONAL_IP4_ADDRESS, 4) => {
                let a: [u8; 4] = self.data[..].try_into().ok()?;
                Some(IpAddr::V4(Ipv4Addr::from(a)))
            }
            (NotifyType::ADDITIONAL_IP6_ADDRESS, 16) => {
                let a: [u8; 16] = self.data[..].try_into().ok()?;
                Some(IpAddr::V6(Ipv6Addr::from(a)))
            }
            _ => None,
        }
    }
}

/// One traffic selector (RFC 7296 §3.13.1).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TrafficSelector {
    pub ip_protocol: u8,
    pub start_port: u16,
    pub end_port: u16,
    pub start: IpAddr,
    pub end: IpAddr,
}

impl TrafficSelector {
    /// Every address, port and protocol of one IPv4 host.
    pub fn host(addr: IpAddr) -> Self {
        TrafficSelector {
            ip_protocol: 0,
            start_port: 0,
            end_port: 65535,
            start: addr,
            end: addr,
        }
    }
    /// A range covering a subnet given as first and last address.
    pub fn range(start: IpAddr, end: IpAddr) -> Self {
        TrafficSelector {
            ip_protocol: 0,
            start_port: 0,
            end_port: 65535,
            start,
            end,
        }
    }

    /// Whether `addr` lies in the selector's address range (of its IP
    /// version; ports and protocol are not looked at).
    pub fn contains(&self, addr: IpAddr) -> bool {
        match (self.start, self.end, addr) {
            (IpAddr::V4(s), IpAddr::V4(e), IpAddr::V4(a)) => s <= a && a <= e,
            (IpAddr::V6(s), IpAddr::V6(e), IpAddr::V6(a)) => s <= a && a <= e,
            _ => false,
        }
    }

    /// Whether every address of `other` lies in this selector's range.
    pub fn covers(&self, other: &TrafficSelector) -> bool {
        self.contains(other.start) && self.contains(other.end)
    }
}

/// A Delete payload (RFC 7296 §3.11): which SAs the sender has deleted.
/// For the IKE SA itself the SPI Size is 0 and no SPIs follow (the SPIs are
/// in the IKE header); for AH and ESP each SPI is four octets.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Delete {
    pub protocol: ProtocolId,
    /// SPI Size; every entry of `spis` has this length.
    pub spi_size: u8,
    pub spis: Vec<Vec<u8>>,
}

impl Delete {
    /// Deletes the IKE SA the message belongs to (RFC 7296 §1.4.1).
    pub fn ike() -> Self {
        Delete {
            protocol: ProtocolId::IKE,
            spi_size: 0,
            spis: Vec::new(),
        }
    }
    /// Deletes ESP SAs by their inbound SPIs (RFC 7296 §1.4.1).
    pub fn esp(spis: &[u32]) -> Self {
        Delete {
            protocol: ProtocolId::ESP,
            spi_size: 4,
            spis: spis.iter().map(|s| s.to_be_bytes().to_vec()).collect(),
        }
    }

    /// The ESP SPIs a Delete names (4-octet entries; none for another
    /// protocol), read back as [`Delete::esp`] wrote them.
    pub fn esp_spis(&self) -> Vec<u32> {
        if self.protocol != ProtocolId::ESP {
            return Vec::new();
        }
        self.spis
            .iter()
            .filter_map(|s| {
                <[u8; 4]>::try_from(s.as_slice())
                    .ok()
                    .map(u32::from_be_bytes)
            })
            .collect()
    }

    fn emit(&self, out: &mut Vec<u8>) {
        out.push(self.protocol.value());
        out.push(self.spi_size);
        out.extend_from_slice(&(self.spis.len() as u16).to_be_bytes());
        for spi in &self.spis {
            out.extend_from_slice(spi);
        }
    }

    /// Parses a Delete body. RFC 7296 §3.11: SPI Size MUST be zero for IKE
    /// and four for AH and ESP; the SPIs fill the rest of the payload exactly.
    pub fn parse(body: &[u8]) -> Result<Delete> {
        need("Delete payload", body, 4)?;
        let protocol = ProtocolId::from(body[0]);
        let spi_size = body[1];
        let num = u16::from_be_bytes([body[2], body[3]]) as usize;
        let ok_size = match protocol {
            ProtocolId::IKE => spi_size == 0,
            ProtocolId::AH | ProtocolId::ESP => spi_size == 4,
            ProtocolId::Unknown(_) => true,
        };
        if !ok_size {
            return Err(WireError::BadLength {
                what: "Delete SPI Size",
                value: spi_size as usize,
            });
        }
        let spis = &body[4..];
        if spis.len() != num * spi_size as usize {
            return Err(WireError::BadLength {
                what: "Delete SPIs",
                value: spis.len(),
            });
        }
        let spis = if spi_size == 0 {
            vec![Vec::new(); num]
        } else {
            spis.chunks(spi_size as usize).map(<[u8]>::to_vec).collect()
        };
        Ok(Delete {
            protocol,
            spi_size,
            spis,
        })
    }
}

/// CFG Type of a Configuration payload (RFC 7296 §3.15).
#[allow(non_camel_case_types)]
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum CfgType {
    CFG_REQUEST,
    CFG_REPLY,
    CFG_SET,
    CFG_ACK,
    /// A code point this implementation does not name.
    Unknown(u8),
}

impl From<u8> for CfgType {
    fn from(v: u8) -> Self {
        match v {
            1 => CfgType::CFG_REQUEST,
            2 => CfgType::CFG_REPLY,
            3 => CfgType::CFG_SET,
            4 => CfgType::CFG_ACK,
            other => CfgType::Unknown(other),
        }
    }
}

impl CfgType {
    /// The numeric code point.
    pub fn value(self) -> u8 {
        match self {
            CfgType::CFG_REQUEST => 1,
            CfgType::CFG_REPLY => 2,
            CfgType::CFG_SET => 3,
            CfgType::CFG_ACK => 4,
            CfgType::Unknown(v) => v,
        }
    }
}

impl fmt::Display for CfgType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            CfgType::CFG_REQUEST => f.write_str("CFG_REQUEST"),
            CfgType::CFG_REPLY => f.write_str("CFG_REPLY"),
            CfgType::CFG_SET => f.write_str("CFG_SET"),
            CfgType::CFG_ACK => f.write_str("CFG_ACK"),
            CfgType::Unknown(v) => write!(f, "{v}"),
        }
    }
}

/// Configuration attribute types the playground decodes (RFC 7296 §3.15.1).
pub mod cfg_attr {
    pub const INTERNAL_IP4_ADDRESS: u16 = 1;
    pub const INTERNAL_IP4_NETMASK: u16 = 2;
    pub const INTERNAL_IP4_DNS: u16 = 3;
    pub const INTERNAL_IP6_ADDRESS: u16 = 8;
    pub const INTERNAL_IP6_DNS: u16 = 10;

    /// The registry name of an attribute type, if known here.
    pub fn name(kind: u16) -> Option<&'static str> {
        Some(match kind {
            INTERNAL_IP4_ADDRESS => "INTERNAL_IP4_ADDRESS",
            INTERNAL_IP4_NETMASK => "INTERNAL_IP4_NETMASK",
            INTERNAL_IP4_DNS => "INTERNAL_IP4_DNS",
            INTERNAL_IP6_ADDRESS => "INTERNAL_IP6_ADDRESS",
            INTERNAL_IP6_DNS => "INTERNAL_IP6_DNS",
            _ => return None,
        })
    }
}

/// One configuration attribute (RFC 7296 §3.15.1). `None` is the empty
/// value a CFG_REQUEST uses to ask for an attribute.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum CfgAttribute {
    /// INTERNAL_IP4_ADDRESS (1): 0 or 4 octets.
    InternalIp4Address(Option<Ipv4Addr>),
    /// INTERNAL_IP4_NETMASK (2): 0 or 4 octets.
    InternalIp4Netmask(Option<Ipv4Addr>),
    /// INTERNAL_IP4_DNS (3): 0 or 4 octets.
    InternalIp4Dns(Option<Ipv4Addr>),
    /// INTERNAL_IP6_ADDRESS (8): 0 or 17 octets (address, prefix length).
    InternalIp6Address(Option<(Ipv6Addr, u8)>),
    /// INTERNAL_IP6_DNS (10): 0 or 16 octets.
    InternalIp6Dns(Option<Ipv6Addr>),
    /// Any other attribute type (15 bits), kept as octets.
    Raw { kind: u16, value: Vec<u8> },
}

impl CfgAttribute {
    /// The Attribute Type (15 bits).
    pub fn kind(&self) -> u16 {
        match self {
            CfgAttribute::InternalIp4Address(_) => cfg_attr::INTERNAL_IP4_ADDRESS,
            CfgAttribute::InternalIp4Netmask(_) => cfg_attr::INTERNAL_IP4_NETMASK,
            CfgAttribute::InternalIp4Dns(_) => cfg_attr::INTERNAL_IP4_DNS,
            CfgAttribute::InternalIp6Address(_) => cfg_attr::INTERNAL_IP6_ADDRESS,
            CfgAttribute::InternalIp6Dns(_) => cfg_attr::INTERNAL_IP6_DNS,
            CfgAttribute::Raw { kind, .. } => *kind & 0x7fff,
        }
    }

    /// The attribute's value octets.
    pub fn value(&self) -> Vec<u8> {
        match self {
            CfgAttribute::InternalIp4Address(a)
            | CfgAttribute::InternalIp4Netmask(a)
            | CfgAttribute::InternalIp4Dns(a) => a.map(|a| a.octets().to_vec()).unwrap_or_default(),
            CfgAttribute::InternalIp6Address(a) => a
                .map(|(a, prefix)| {
                    let mut v = a.octets().to_vec();
                    v.push(prefix);
                    v
                })
                .unwrap_or_default(),
            CfgAttribute::InternalIp6Dns(a) => a.map(|a| a.octets().to_vec()).unwrap_or_default(),
            CfgAttribute::Raw { value, .. } => value.clone(),
        }
    }

    /// Decodes one attribute from its type and value. The decoded types
    /// must have one of the lengths RFC 7296 §3.15.1 allows.
    pub fn from_parts(kind: u16, value: &[u8]) -> Result<CfgAttribute> {
        let v4 = |what| -> Result<Option<Ipv4Addr>> {
            match value.len() {
                0 => Ok(None),
                4 => Ok(Some(Ipv4Addr::new(value[0], value[1], value[2], value[3]))),
                n => Err(WireError::BadLength { what, value: n }),
            }
        };
        let v6 = |what, len: usize| -> Result<Option<Ipv6Addr>> {
            match value.len() {
                0 => Ok(None),
                n if n == len => {
                    let mut a = [0u8; 16];
                    a.copy_from_slice(&value[..16]);
                    Ok(Some(Ipv6Addr::from(a)))
                }
                n => Err(WireError::BadLength { what, value: n }),
            }
        };
        Ok(match kind & 0x7fff {
            cfg_attr::INTERNAL_IP4_ADDRESS => {
                CfgAttribute::InternalIp4Address(v4("INTERNAL_IP4_ADDRESS")?)
            }
            cfg_attr::INTERNAL_IP4_NETMASK => {
                CfgAttribute::InternalIp4Netmask(v4("INTERNAL_IP4_NETMASK")?)
            }
            cfg_attr::INTERNAL_IP4_DNS => CfgAttribute::InternalIp4Dns(v4("INTERNAL_IP4_DNS")?),
            cfg_attr::INTERNAL_IP6_ADDRESS => CfgAttribute::InternalIp6Address(
                v6("INTERNAL_IP6_ADDRESS", 17)?.map(|a| (a, value[16])),
            ),
            cfg_attr::INTERNAL_IP6_DNS => CfgAttribute::InternalIp6Dns(v6("INTERNAL_IP6_DNS", 16)?),
            other => CfgAttribute::Raw {
                kind: other,
                value: value.to_vec(),
            },
        })
    }
}

impl fmt::Display for CfgAttribute {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match cfg_attr::name(self.kind()) {
            Some(name) => f.write_str(name)?,
            None => write!(f, "attribute {}", self.kind())?,
        }
        match self {
            CfgAttribute::InternalIp4Address(Some(a))
            | CfgAttribute::InternalIp4Netmask(Some(a))
            | CfgAttribute::InternalIp4Dns(Some(a)) => write!(f, " = {a}"),
            CfgAttribute::InternalIp6Address(Some((a, p))) => write!(f, " = {a}/{p}"),
            CfgAttribute::InternalIp6Dns(Some(a)) => write!(f, " = {a}"),
            CfgAttribute::Raw { value, .. } if !value.is_empty() => {
                write!(f, " = {}", hex(value))
            }
            _ => Ok(()),
        }
    }
}

/// A Configuration payload (RFC 7296 §3.15): CFG Type and attributes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Configuration {
    pub cfg_type: CfgType,
    pub attributes: Vec<CfgAttribute>,
}

impl Configuration {
    fn emit(&self, out: &mut Vec<u8>) {
        out.extend_from_slice(&[self.cfg_type.value(), 0, 0, 0]);
        for a in &self.attributes {
            let value = a.value();
            // The first bit is reserved and sent as zero (RFC 7296 §3.15.1).
            out.extend_from_slice(&a.kind().to_be_bytes());
            out.extend_from_slice(&(value.len() as u16).to_be_bytes());
            out.extend_from_slice(&value);
        }
    }

    /// Parses a CP body: CFG Type, three reserved octets, then attributes
    /// (`R | Attribute Type(15) | Length(2) | Value`) filling it exactly.
    pub fn parse(body: &[u8]) -> Result<Configuration> {
        need("CP payload", body, 4)?;
        let cfg_type = CfgType::from(body[0]);
        let mut rest = &body[4..];
        let mut attributes = Vec::new();
        while !rest.is_empty() {
            need("configuration attribute", rest, 4)?;
            let kind = u16::from_be_bytes([rest[0], rest[1]]) & 0x7fff;
            let len = u16::from_be_bytes([rest[2], rest[3]]) as usize;
            need("configuration attribute value", rest, 4 + len)?;
            attributes.push(CfgAttribute::from_parts(kind, &rest[4..4 + len])?);
            rest = &rest[4 + len..];
        }
        Ok(Configuration {
            cfg_type,
            attributes,
        })
    }
}

/// A payload in parsed form. `Sk` holds the encrypted body as sent; its
/// contents are opened with [`crate::message::decrypt`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Payload {
    Sa(Vec<Proposal>),
    Ke {
        group: u16,
        data: Vec<u8>,
    },
    IdI(Identification),
    IdR(Identification),
    Auth {
        method: u8,
        data: Vec<u8>,
    },
    Nonce(Vec<u8>),
    Notify(Notify),
    TsI(Vec<TrafficSelector>),
    TsR(Vec<TrafficSelector>),
    /// Delete payload (RFC 7296 §3.11), notation `D`.
    Delete(Delete),
    /// Vendor ID payload (RFC 7296 §3.12), notation `V`: opaque octets.
    Vendor(Vec<u8>),
    /// Configuration payload (RFC 7296 §3.15), notation `CP(CFG_REQUEST)` etc.
    Cp(Configuration),
    /// Certificate Request payload (RFC 7296 §3.7): Cert Encoding and the
    /// Certification Authority field, kept as octets.
    CertReq {
        encoding: u8,
        data: Vec<u8>,
    },
    /// Encrypted and Authenticated payload: the first inner payload's type and
    /// IV | ciphertext | ICV.
    Sk {
        first: PayloadType,
        body: Vec<u8>,
    },
    /// A payload type we do not parse, kept as bytes (RFC 7296 §2.5: an
    /// unknown payload without the critical bit is skipped, not rejected).
    /// `critical` is only ever true here for a type this crate names but
    /// does not decode (CERT, EAP, SKF).
    Unknown {
        kind: PayloadType,
        critical: bool,
        body: Vec<u8>,
    },
}

impl Payload {
    pub fn kind(&self) -> PayloadType {
        match self {
            Payload::Sa(_) => PayloadType::SA,
            Payload::Ke { .. } => PayloadType::KE,
            Payload::IdI(_) => PayloadType::IDi,
            Payload::IdR(_) => PayloadType::IDr,
            Payload::Auth { .. } => PayloadType::AUTH,
            Payload::Nonce(_) => PayloadType::Nonce,
            Payload::Notify(_) => PayloadType::N,
            Payload::TsI(_) => PayloadType::TSi,
            Payload::TsR(_) => PayloadType::TSr,
            Payload::Delete(_) => PayloadType::D,
            Payload::Vendor(_) => PayloadType::V,
            Payload::Cp(_) => PayloadType::CP,
            Payload::CertReq { .. } => PayloadType::CERTREQ,
            Payload::Sk { .. } => PayloadType::SK,
            Payload::Unknown { kind, .. } => *kind,
        }
    }

    /// The notify, if this is one.
    pub fn as_notify(&self) -> Option<&Notify> {
        match self {
            Payload::Notify(n) => Some(n),
            _ => None,
        }
    }

    /// Emits the body (without the generic header).
    pub fn emit_body(&self, out: &mut Vec<u8>) {
        match self {
            Payload::Sa(proposals) => emit_sa(proposals, out),
            Payload::Ke { group, data } => {
                out.extend_from_slice(&group.to_be_bytes());
                out.extend_from_slice(&[0, 0]);
                out.extend_from_slice(data);
            }
            Payload::IdI(id) | Payload::IdR(id) => out.extend_from_slice(&id.body()),
            Payload::Auth { method, data } => {
                out.extend_from_slice(&[*method, 0, 0, 0]);
                out.extend_from_slice(data);
            }
            Payload::Nonce(n) => out.extend_from_slice(n),
            Payload::Notify(n) => {
                out.push(n.protocol_id);
                out.push(n.spi.len() as u8);
                out.extend_from_slice(&n.kind.value().to_be_bytes());
                out.extend_from_slice(&n.spi);
                out.extend_from_slice(&n.data);
            }
            Payload::TsI(ts) | Payload::TsR(ts) => emit_ts(ts, out),
            Payload::Delete(d) => d.emit(out),
            Payload::Vendor(v) => out.extend_from_slice(v),
            Payload::Cp(cp) => cp.emit(out),
            Payload::CertReq { encoding, data } => {
                out.push(*encoding);
                out.extend_from_slice(data);
            }
            Payload::Sk { body, .. } => out.extend_from_slice(body),
            Payload::Unknown { body, .. } => out.extend_from_slice(body),
        }
    }

    /// Parses the body of a payload of type `kind`. `critical` is the C bit.
    pub fn parse_body(kind: PayloadType, critical: bool, body: &[u8]) -> Result<Payload> {
        Ok(match kind {
            PayloadType::SA => Payload::Sa(parse_sa(body)?),
            PayloadType::KE => {
                need("KE payload", body, 4)?;
                Payload::Ke {
                    group: u16::from_be_bytes([body[0], body[1]]),
                    data: body[4..].to_vec(),
                }
            }
            PayloadType::IDi | PayloadType::IDr => {
                let id = Identification::parse(body)?;
                if kind == PayloadType::IDi {
                    Payload::IdI(id)
                } else {
                    Payload::IdR(id)
                }
            }
            PayloadType::AUTH => {
                need("AUTH payload", body, 4)?;
                Payload::Auth {
                    method: body[0],
                    data: body[4..].to_vec(),
                }
            }
            PayloadType::Nonce => {
                // RFC 7296 §3.9: 16 to 256 octets.
                if body.len() < 16 || body.len() > 256 {
                    return Err(WireError::BadLength {
                        what: "nonce",
                        value: body.len(),
                    });
                }
                Payload::Nonce(body.to_vec())
            }
            PayloadType::N => {
                need("Notify payload", body, 4)?;
                let spi_len = body[1] as usize;
                need("Notify SPI", body, 4 + spi_len)?;
                Payload::Notify(Notify {
                    protocol_id: body[0],
                    spi: body[4..4 + spi_len].to_vec(),
                    kind: u16::from_be_bytes([body[2], body[3]]).into(),
                    data: body[4 + spi_len..].to_vec(),
                })
            }
            PayloadType::TSi => Payload::TsI(parse_ts(body)?),
            PayloadType::TSr => Payload::TsR(parse_ts(body)?),
            PayloadType::D => Payload::Delete(Delete::parse(body)?),
            PayloadType::V => Payload::Vendor(body.to_vec()),
            PayloadType::CP => Payload::Cp(Configuration::parse(body)?),
            PayloadType::CERTREQ => {
                need("CERTREQ payload", body, 1)?;
                Payload::CertReq {
                    encoding: body[0],
                    data: body[1..].to_vec(),
                }
            }
            PayloadType::SK => {
                return Err(WireError::Malformed(
                    "SK payload (parsed by the message layer)",
                ));
            }
            other => {
                // RFC 7296 §2.5: an unknown payload with the critical bit set
                // rejects the whole message; without it, it is skipped (kept).
                if critical && !is_known(other) {
                    return Err(WireError::UnsupportedCriticalPayload(other.value()));
                }
                Payload::Unknown {
                    kind: other,
                    critical,
                    body: body.to_vec(),
                }
            }
        })
    }
}

fn is_known(kind: PayloadType) -> bool {
    kind.name().is_some() && kind != PayloadType::None
}

fn emit_sa(proposals: &[Proposal], out: &mut Vec<u8>) {
    for (i, p) in proposals.iter().enumerate() {
        let start = out.len();
        out.push(if i + 1 == proposals.len() { 0 } else { 2 });
        out.push(0);
        out.extend_from_slice(&[0, 0]); // length, patched below
        out.push(p.number);
        out.push(p.protocol.value());
        out.push(p.spi.len() as u8);
        out.push(p.transforms.len() as u8);
        out.extend_from_slice(&p.spi);
        for (j, t) in p.transforms.iter().enumerate() {
            out.push(if j + 1 == p.transforms.len() { 0 } else { 3 });
            out.push(0);
            let len: u16 = if t.key_length.is_some() { 12 } else { 8 };
            out.extend_from_slice(&len.to_be_bytes());
            out.push(t.kind.value());
            out.push(0);
            out.extend_from_slice(&t.id.to_be_bytes());
            if let Some(kl) = t.key_length {
                out.extend_from_slice(&(0x8000 | transform_id::ATTR_KEY_LENGTH).to_be_bytes());
                out.extend_from_slice(&kl.to_be_bytes());
            }
        }
        let len = (out.len() - start) as u16;
        out[start + 2..start + 4].copy_from_slice(&len.to_be_bytes());
    }
}

fn parse_sa(mut body: &[u8]) -> Result<Vec<Proposal>> {
    let mut proposals = Vec::new();
    loop {
        need("proposal", body, 8)?;
        let last = body[0];
        let len = u16::from_be_bytes([body[2], body[3]]) as usize;
        if len < 8 || len > body.len() {
            return Err(WireError::BadLength {
                what: "proposal",
                value: len,
            });
        }
        let p = &body[..len];
        let spi_len = p[6] as usize;
        let n_transforms = p[7] as usize;
        need("proposal SPI", p, 8 + spi_len)?;
        let mut rest = &p[8 + spi_len..];
        let mut transforms = Vec::with_capacity(n_transforms.min(16));
        for _ in 0..n_transforms {
            need("transform", rest, 8)?;
            let tlen = u16::from_be_bytes([rest[2], rest[3]]) as usize;
            if tlen < 8 || tlen > rest.len() {
                return Err(WireError::BadLength {
                    what: "transform",
                    value: tlen,
                });
            }
            let t = &rest[..tlen];
            let mut key_length = None;
            let mut attrs = &t[8..];
            while !attrs.is_empty() {
                need("transform attribute", attrs, 4)?;
                let at = u16::from_be_bytes([attrs[0], attrs[1]]);
                let val = u16::from_be_bytes([attrs[2], attrs[3]]);
                if at & 0x8000 != 0 {
                    if at & 0x7fff == transform_id::ATTR_KEY_LENGTH {
                        key_length = Some(val);
                    }
                    attrs = &attrs[4..];
                } else {
                    let alen = 4 + val as usize;
                    need("transform attribute", attrs, alen)?;
                    attrs = &attrs[alen..];
                }
            }
            transforms.push(Transform {
                kind: t[4].into(),
                id: u16::from_be_bytes([t[6], t[7]]),
                key_length,
            });
            rest = &rest[tlen..];
        }
        if !rest.is_empty() {
            return Err(WireError::BadLength {
                what: "proposal transforms",
                value: rest.len(),
            });
        }
        proposals.push(Proposal {
            number: p[4],
            protocol: p[5].into(),
            spi: p[8..8 + spi_len].to_vec(),
            transforms,
        });
        body = &body[len..];
        match last {
            0 if body.is_empty() => return Ok(proposals),
            0 => {
                return Err(WireError::BadLength {
                    what: "SA payload trailing data",
                    value: body.len(),
                });
            }
            2 => continue,
            _ => return Err(WireError::Malformed("proposal Last Substruc")),
        }
    }
}

fn emit_ts(ts: &[TrafficSelector], out: &mut Vec<u8>) {
    out.extend_from_slice(&[ts.len() as u8, 0, 0, 0]);
    for t in ts {
        let (kind, len) = match t.start {
            IpAddr::V4(_) => (7u8, 16u16),
            IpAddr::V6(_) => (8u8, 40u16),
        };
        out.push(kind);
        out.push(t.ip_protocol);
        out.extend_from_slice(&len.to_be_bytes());
        out.extend_from_slice(&t.start_port.to_be_bytes());
        out.extend_from_slice(&t.end_port.to_be_bytes());
        for a in [t.start, t.end] {
            match a {
                IpAddr::V4(a) => out.extend_from_slice(&a.octets()),
                IpAddr::V6(a) => out.extend_from_slice(&a.octets()),
            }
        }
    }
}

fn parse_ts(body: &[u8]) -> Result<Vec<TrafficSelector>> {
    need("TS payload", body, 4)?;
    let n = body[0] as usize;
    let mut rest = &body[4..];
    let mut out = Vec::with_capacity(n.min(16));
    for _ in 0..n {
        need("traffic selector", rest, 8)?;
        let len = u16::from_be_bytes([rest[2], rest[3]]) as usize;
        let (addr_len, want) = match rest[0] {
            7 => (4, 16),
            8 => (16, 40),
            _ => return Err(WireError::Malformed("traffic selector type")),
        };
        if len != want {
            return Err(WireError::BadLength {
                what: "traffic selector",
                value: len,
            });
        }
        need("traffic selector", rest, len)?;
        let addr = |b: &[u8]| -> IpAddr {
            if addr_len == 4 {
                IpAddr::V4(Ipv4Addr::new(b[0], b[1], b[2], b[3]))
            } else {
                let mut a = [0u8; 16];
                a.copy_from_slice(&b[..16]);
                IpAddr::V6(Ipv6Addr::from(a))
            }
        };
        out.push(TrafficSelector {
            ip_protocol: rest[1],
            start_port: u16::from_be_bytes([rest[4], rest[5]]),
            end_port: u16::from_be_bytes([rest[6], rest[7]]),
            start: addr(&rest[8..]),
            end: addr(&rest[8 + addr_len..]),
        });
        rest = &rest[len..];
    }
    if !rest.is_empty() {
        return Err(WireError::BadLength {
            what: "TS payload trailing data",
            value: rest.len(),
        });
    }
    Ok(out)
}

/// Emits a chain of payloads, linking each generic header's Next Payload to
/// the following payload's type; returns the type of the first payload.
pub fn emit_chain(payloads: &[Payload], out: &mut Vec<u8>) -> PayloadType {
    for (i, p) in payloads.iter().enumerate() {
        let next = match payloads.get(i + 1) {
            Some(n) => n.kind(),
            None => PayloadType::None,
        };
        // An SK payload's generic header carries the first inner payload type.
        let next = match p {
            Payload::Sk { first, .. } => *first,
            _ => next,
        };
        let start = out.len();
        out.push(next.value());
        let critical = matches!(p, Payload::Unknown { critical: true, .. });
        out.push(if critical { 0x80 } else { 0 });
        out.extend_from_slice(&[0, 0]);
        p.emit_body(out);
        let len = (out.len() - start) as u16;
        out[start + 2..start + 4].copy_from_slice(&len.to_be_bytes());
    }
    payloads.first().map_or(PayloadType::None, |p| p.kind())
}

/// One payload found while walking a chain: its type, C bit, and the byte
/// range of the whole payload (generic header included) within the input.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RawPayload {
    pub kind: PayloadType,
    pub next: PayloadType,
    pub critical: bool,
    pub range: core::ops::Range<usize>,
}

/// Walks a payload chain starting with type `first` over `bytes`. Stops after
/// an SK payload (RFC 7296 §3.14: it must be the last payload).
pub fn walk_chain(first: PayloadType, bytes: &[u8]) -> Result<Vec<RawPayload>> {
    let mut out = Vec::new();
    let mut kind = first;
    let mut off = 0usize;
    while kind != PayloadType::None {
        let rest = &bytes[off..];
        need("payload header", rest, GENERIC_HEADER_LEN)?;
        let next: PayloadType = rest[0].into();
        let critical = rest[1] & 0x80 != 0;
        let len = u16::from_be_bytes([rest[2], rest[3]]) as usize;
        if len < GENERIC_HEADER_LEN || len > rest.len() {
            return Err(WireError::BadLength {
                what: "payload length",
                value: len,
            });
        }
        out.push(RawPayload {
            kind,
            next,
            critical,
            range: off..off + len,
        });
        off += len;
        if kind == PayloadType::SK {
            if off != bytes.len() {
                return Err(WireError::Malformed("data after the SK payload"));
            }
            return Ok(out);
        }
        kind = next;
    }
    if off != bytes.len() {
        return Err(WireError::BadLength {
            what: "data after the last payload",
            value: bytes.len() - off,
        });
    }
    Ok(out)
}

/// Parses a chain of non-SK payloads (e.g. the inside of an SK payload).
pub fn parse_chain(first: PayloadType, bytes: &[u8]) -> Result<Vec<Payload>> {
    let raw = walk_chain(first, bytes)?;
    raw.iter()
        .map(|r| {
            if r.kind == PayloadType::SK {
                return Err(WireError::Malformed("SK payload inside SK payload"));
            }
            Payload::parse_body(
                r.kind,
                r.critical,
                &bytes[r.range.start + GENERIC_HEADER_LEN..r.range.end],
            )
        })
        .collect()
}

/// RFC notation for one payload, as in RFC 7296 and RFC 4555 figures:
/// `SA`, `KE`, `Ni`, `N(COOKIE2)`, `IDi`, `TSr`, `D`, `V`, `CP(CFG_REQUEST)`,
/// `CERTREQ`, `SK {...}`. A nonce is `Ni` in a request and `Nr` in a
/// response (`request`): RFC 7296 names it by the exchange's roles, also
/// when the original responder starts a CREATE_CHILD_SA.
pub fn notation(p: &Payload, request: bool) -> String {
    match p {
        Payload::Notify(n) => format!("N({})", n.kind),
        Payload::Cp(cp) => format!("CP({})", cp.cfg_type),
        Payload::Nonce(_) => (if request { "Ni" } else { "Nr" }).to_string(),
        Payload::Sk { .. } => "SK".to_string(),
        Payload::Unknown { kind, .. } => match kind.name() {
            Some(name) => name.to_string(),
            None => format!("P({})", kind.value()),
        },
        other => other.kind().to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn round_trip(payloads: Vec<Payload>) {
        let mut out = Vec::new();
        let first = emit_chain(&payloads, &mut out);
        let back = parse_chain(first, &out).unwrap();
        assert_eq!(back, payloads);
    }

    #[test]
    fn an_esp_delete_reads_back_its_spis() {
        let d = Delete::esp(&[0xc0ffee01, 7]);
        round_trip(vec![Payload::Delete(d.clone())]);
        assert_eq!(d.esp_spis(), [0xc0ffee01, 7]);
        assert!(Delete::ike().esp_spis().is_empty());
    }

    #[test]
    fn sa_ke_nonce_notify_ts_round_trip() {
        round_trip(vec![
            Payload::Sa(vec![Proposal::ike_default()]),
            Payload::Ke {
                group: 31,
                data: vec![7; 32],
            },
            Payload::Nonce(vec![1; 32]),
            Payload::Notify(Notify::new(NotifyType::COOKIE2, vec![9; 16])),
            Payload::Notify(Notify::additional_address("198.51.100.7".parse().unwrap())),
            Payload::IdI(Identification::fqdn("laptop.example")),
            Payload::Auth {
                method: 2,
                data: vec![3; 32],
            },
            Payload::Sa(vec![Proposal::esp_default(0x1234_5678)]),
            Payload::TsI(vec![TrafficSelector::host("10.0.0.1".parse().unwrap())]),
            Payload::TsR(vec![TrafficSelector::range(
                "2001:db8::".parse().unwrap(),
                "2001:db8::ffff".parse().unwrap(),
            )]),
        ]);
    }

    #[test]
    fn mobike_notify_lengths_match_rfc4555() {
        // Reference §1.5: UPDATE_SA_ADDRESSES is 8 octets, ADDITIONAL_IP4 12, NAT-D 28.
        let len = |p: Payload| {
            let mut out = Vec::new();
            emit_chain(&[p], &mut out);
            out.len()
        };
        assert_eq!(
            len(Payload::Notify(Notify::empty(
                NotifyType::UPDATE_SA_ADDRESSES
            ))),
            8
        );
        assert_eq!(
            len(Payload::Notify(Notify::additional_address(
                "192.0.2.1".parse().unwrap()
            ))),
            12
        );
        assert_eq!(
            len(Payload::Notify(Notify::additional_address(
                "2001:db8::1".parse().unwrap()
            ))),
            24
        );
        assert_eq!(
            len(Payload::Notify(Notify::new(
                NotifyType::NAT_DETECTION_SOURCE_IP,
                vec![0; 20]
            ))),
            28
        );
    }

    #[test]
    fn unknown_payloads_kept_or_rejected_by_critical_bit() {
        // Type 200, not critical: kept.
        let bytes = [0u8, 0x00, 0, 6, 0xaa, 0xbb];
        let p = parse_chain(PayloadType::Unknown(200), &bytes).unwrap();
        assert_eq!(
            p,
            vec![Payload::Unknown {
                kind: PayloadType::Unknown(200),
                critical: false,
                body: vec![0xaa, 0xbb]
            }]
        );
        // Critical: the message is rejected (RFC 7296 §2.5).
        let bytes = [0u8, 0x80, 0, 6, 0xaa, 0xbb];
        assert_eq!(
            parse_chain(PayloadType::Unknown(200), &bytes),
            Err(WireError::UnsupportedCriticalPayload(200))
        );
    }

    #[test]
    fn bad_lengths_are_errors_not_panics() {
        assert!(parse_chain(PayloadType::N, &[0, 0, 0, 2]).is_err());
        assert!(parse_chain(PayloadType::N, &[0, 0, 0, 99, 0, 0, 0, 0]).is_err());
        assert!(parse_chain(PayloadType::N, &[0, 0, 0, 8, 0, 200, 0x40, 0x10]).is_err());
        assert!(parse_chain(PayloadType::SA, &[0, 0, 0, 12, 0, 0, 0, 1, 1, 1, 0, 9]).is_err());
        assert!(parse_chain(PayloadType::Nonce, &[0, 0, 0, 6, 1, 2]).is_err());
    }
}
