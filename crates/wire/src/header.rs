//! The IKE header (RFC 7296 §3.1): a checked view over bytes and its parsed form.

use crate::error::{Result, WireError, need};
use crate::registry::{ExchangeType, PayloadType};
use core::ops::Range;

/// Length of the IKE header in octets.
pub const HEADER_LEN: usize = 28;

/// Byte ranges of the header fields (RFC 7296 §3.1 figure).
pub mod field {
    use core::ops::Range;
    pub const SPI_I: Range<usize> = 0..8;
    pub const SPI_R: Range<usize> = 8..16;
    pub const NEXT_PAYLOAD: usize = 16;
    pub const VERSION: usize = 17;
    pub const EXCHANGE: usize = 18;
    pub const FLAGS: usize = 19;
    pub const MESSAGE_ID: Range<usize> = 20..24;
    pub const LENGTH: Range<usize> = 24..28;
}

/// Header flags (RFC 7296 §3.1): `|X|X|R|V|I|X|X|X|`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default, Hash)]
pub struct Flags(pub u8);

impl Flags {
    /// Set by the original initiator of the IKE SA.
    pub const INITIATOR: u8 = 0x08;
    /// Must be clear when sending.
    pub const VERSION: u8 = 0x10;
    /// Set in responses.
    pub const RESPONSE: u8 = 0x20;

    pub fn new(initiator: bool, response: bool) -> Self {
        let mut v = 0;
        if initiator {
            v |= Self::INITIATOR;
        }
        if response {
            v |= Self::RESPONSE;
        }
        Flags(v)
    }
    pub fn initiator(self) -> bool {
        self.0 & Self::INITIATOR != 0
    }
    pub fn response(self) -> bool {
        self.0 & Self::RESPONSE != 0
    }
}

/// A checked view of an IKE header over any byte buffer (smoltcp style).
#[derive(Debug, Clone)]
pub struct HeaderPacket<T: AsRef<[u8]>> {
    buffer: T,
}

impl<T: AsRef<[u8]>> HeaderPacket<T> {
    /// Wraps `buffer` after checking it can hold a header.
    pub fn new_checked(buffer: T) -> Result<Self> {
        need("IKE header", buffer.as_ref(), HEADER_LEN)?;
        Ok(HeaderPacket { buffer })
    }
    fn b(&self) -> &[u8] {
        self.buffer.as_ref()
    }
    fn be(&self, r: Range<usize>) -> u64 {
        self.b()[r]
            .iter()
            .fold(0u64, |acc, &x| (acc << 8) | x as u64)
    }
    pub fn spi_i(&self) -> u64 {
        self.be(field::SPI_I)
    }
    pub fn spi_r(&self) -> u64 {
        self.be(field::SPI_R)
    }
    pub fn next_payload(&self) -> PayloadType {
        self.b()[field::NEXT_PAYLOAD].into()
    }
    pub fn version(&self) -> u8 {
        self.b()[field::VERSION]
    }
    pub fn exchange(&self) -> ExchangeType {
        self.b()[field::EXCHANGE].into()
    }
    pub fn flags(&self) -> Flags {
        Flags(self.b()[field::FLAGS])
    }
    pub fn message_id(&self) -> u32 {
        self.be(field::MESSAGE_ID) as u32
    }
    pub fn length(&self) -> u32 {
        self.be(field::LENGTH) as u32
    }
}

/// The parsed IKE header.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Header {
    pub spi_i: u64,
    pub spi_r: u64,
    pub next_payload: PayloadType,
    pub exchange: ExchangeType,
    pub flags: Flags,
    pub message_id: u32,
    /// Length of the whole message in octets (filled in by `emit`).
    pub length: u32,
}

impl Header {
    /// Parses and checks a header: major version 2 (RFC 7296 §3.1), a length
    /// that covers the header and does not exceed the buffer.
    pub fn parse(bytes: &[u8]) -> Result<Header> {
        let p = HeaderPacket::new_checked(bytes)?;
        if p.version() >> 4 != 2 {
            return Err(WireError::UnsupportedVersion(p.version()));
        }
        let length = p.length();
        if (length as usize) < HEADER_LEN || length as usize > bytes.len() {
            return Err(WireError::BadLength {
                what: "IKE header length",
                value: length as usize,
            });
        }
        Ok(Header {
            spi_i: p.spi_i(),
            spi_r: p.spi_r(),
            next_payload: p.next_payload(),
            exchange: p.exchange(),
            flags: p.flags(),
            message_id: p.message_id(),
            length,
        })
    }

    /// Writes the header; version 2.0, the V flag and reserved bits cleared.
    pub fn emit(&self, out: &mut Vec<u8>) {
        out.extend_from_slice(&self.spi_i.to_be_bytes());
        out.extend_from_slice(&self.spi_r.to_be_bytes());
        out.push(self.next_payload.value());
        out.push(0x20);
        out.push(self.exchange.value());
        out.push(self.flags.0 & (Flags::INITIATOR | Flags::RESPONSE));
        out.extend_from_slice(&self.message_id.to_be_bytes());
        out.extend_from_slice(&self.length.to_be_bytes());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn header_round_trip() {
        let h = Header {
            spi_i: 0x9732dff05cbef893,
            spi_r: 0,
            next_payload: PayloadType::SA,
            exchange: ExchangeType::IKE_SA_INIT,
            flags: Flags::new(true, false),
            message_id: 0,
            length: 28,
        };
        let mut out = Vec::new();
        h.emit(&mut out);
        assert_eq!(out.len(), HEADER_LEN);
        assert_eq!(out[17], 0x20);
        assert_eq!(out[19], 0x08);
        assert_eq!(Header::parse(&out).unwrap(), h);
    }

    #[test]
    fn rejects_short_wrong_version_and_bad_length() {
        assert!(matches!(
            Header::parse(&[0u8; 10]),
            Err(WireError::Truncated { .. })
        ));
        let mut b = vec![0u8; 28];
        b[17] = 0x30;
        b[27] = 28;
        assert_eq!(Header::parse(&b), Err(WireError::UnsupportedVersion(0x30)));
        b[17] = 0x20;
        b[27] = 200;
        assert!(matches!(
            Header::parse(&b),
            Err(WireError::BadLength { .. })
        ));
    }
}
