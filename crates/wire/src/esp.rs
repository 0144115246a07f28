//! ESP (RFC 4303) with AES-GCM-16 (RFC 4106), tunnel mode, 32-bit sequence
//! numbers: `SPI | Sequence Number | IV (8) | ciphertext | ICV (16)`, where
//! the ciphertext covers `inner packet | padding | Pad Length | Next Header`,
//! the AAD is `SPI | Sequence Number` and the nonce `salt | IV` (RFC 4106 §3,
//! §4, §5). Sent plain (IP protocol 50) or UDP-encapsulated on port 4500
//! (RFC 3948): the encapsulated form is the same octets after a UDP header.

use crate::crypto::{GCM_ICV_LEN, GCM_IV_LEN, GcmKey, prf_plus};
use crate::error::{Result, WireError, need};

/// SPI + sequence number.
pub const ESP_HEADER_LEN: usize = 8;
/// IP protocol number of ESP.
pub const IPPROTO_ESP: u8 = 50;
/// Next Header value of an IPv4 packet inside a tunnel-mode SA.
pub const NEXT_HEADER_IPV4: u8 = 4;

/// One direction of an ESP SA.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct EspSa {
    pub spi: u32,
    pub key: GcmKey,
}

/// The keys of a Child SA pair (RFC 7296 §2.17): KEYMAT = prf+(SK_d, Ni | Nr);
/// the SA carrying data from the initiator is keyed first, then the other
/// direction. Each AES-GCM key is followed by its 4-octet salt (RFC 4106 §8.1).
pub fn child_keys(
    sk_d: &[u8],
    ni: &[u8],
    nr: &[u8],
    aes_key_len: usize,
) -> Result<(GcmKey, GcmKey)> {
    let mut seed = ni.to_vec();
    seed.extend_from_slice(nr);
    let n = aes_key_len + 4;
    let km = prf_plus(sk_d, &seed, 2 * n);
    Ok((
        GcmKey::from_keymat(&km[..n])?,
        GcmKey::from_keymat(&km[n..])?,
    ))
}

/// A decrypted ESP packet.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct EspPlain {
    pub spi: u32,
    pub seq: u32,
    pub next_header: u8,
    pub payload: Vec<u8>,
}

/// The SPI of an ESP packet, without decrypting it.
pub fn spi(packet: &[u8]) -> Result<u32> {
    need("ESP header", packet, ESP_HEADER_LEN)?;
    Ok(u32::from_be_bytes([
        packet[0], packet[1], packet[2], packet[3],
    ]))
}

impl EspSa {
    /// Encrypts `payload` as packet number `seq`. The IV is the sequence
    /// number (unique per key, as RFC 4106 §3.1 requires).
    pub fn seal(&self, seq: u32, next_header: u8, payload: &[u8]) -> Result<Vec<u8>> {
        let mut plain = payload.to_vec();
        // RFC 4303 §2.4: Pad Length and Next Header end on a 4-octet boundary.
        let pad = (4 - (plain.len() + 2) % 4) % 4;
        plain.extend((1..=pad as u8).collect::<Vec<u8>>());
        plain.push(pad as u8);
        plain.push(next_header);
        let mut out = Vec::with_capacity(ESP_HEADER_LEN + GCM_IV_LEN + plain.len() + GCM_ICV_LEN);
        out.extend_from_slice(&self.spi.to_be_bytes());
        out.extend_from_slice(&seq.to_be_bytes());
        let iv = (seq as u64).to_be_bytes();
        let icv = self.key.seal(&iv, &out[..ESP_HEADER_LEN], &mut plain)?;
        out.extend_from_slice(&iv);
        out.extend_from_slice(&plain);
        out.extend_from_slice(&icv);
        Ok(out)
    }

    /// Verifies and decrypts an ESP packet of this SA.
    pub fn open(&self, packet: &[u8]) -> Result<EspPlain> {
        need(
            "ESP packet",
            packet,
            ESP_HEADER_LEN + GCM_IV_LEN + 2 + GCM_ICV_LEN,
        )?;
        let spi = spi(packet)?;
        if spi != self.spi {
            return Err(WireError::Malformed("ESP SPI of another SA"));
        }
        let seq = u32::from_be_bytes([packet[4], packet[5], packet[6], packet[7]]);
        let mut iv = [0u8; GCM_IV_LEN];
        iv.copy_from_slice(&packet[ESP_HEADER_LEN..ESP_HEADER_LEN + GCM_IV_LEN]);
        let ct_end = packet.len() - GCM_ICV_LEN;
        let mut icv = [0u8; GCM_ICV_LEN];
        icv.copy_from_slice(&packet[ct_end..]);
        let mut plain = packet[ESP_HEADER_LEN + GCM_IV_LEN..ct_end].to_vec();
        self.key
            .open(&iv, &packet[..ESP_HEADER_LEN], &mut plain, &icv)?;
        let n = plain.len();
        let next_header = plain[n - 1];
        let pad = plain[n - 2] as usize;
        if pad + 2 > n {
            return Err(WireError::BadLength {
                what: "ESP Pad Length",
                value: pad,
            });
        }
        plain.truncate(n - 2 - pad);
        Ok(EspPlain {
            spi,
            seq,
            next_header,
            payload: plain,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sa() -> EspSa {
        EspSa {
            spi: 0xc0ffee01,
            key: GcmKey::from_keymat(&[0x42; 20]).unwrap(),
        }
    }

    #[test]
    fn seal_open_round_trip_with_padding() {
        for len in 0..9 {
            let inner: Vec<u8> = (0..len as u8).collect();
            let p = sa().seal(7, NEXT_HEADER_IPV4, &inner).unwrap();
            // Ciphertext (inner + pad + 2) is a multiple of 4 octets.
            assert_eq!((p.len() - ESP_HEADER_LEN - GCM_IV_LEN - GCM_ICV_LEN) % 4, 0);
            assert_eq!(spi(&p).unwrap(), 0xc0ffee01);
            let o = sa().open(&p).unwrap();
            assert_eq!(
                (o.seq, o.next_header, o.payload),
                (7, NEXT_HEADER_IPV4, inner)
            );
        }
    }

    #[test]
    fn tampered_or_short_packets_are_rejected() {
        let mut p = sa().seal(1, 4, b"ping").unwrap();
        p[5] ^= 1; // sequence number is authenticated (AAD)
        assert_eq!(sa().open(&p), Err(WireError::IcvMismatch));
        assert!(sa().open(&[0; 10]).is_err());
    }

    #[test]
    fn child_keys_are_consecutive_prf_plus_slices() {
        let (i2r, r2i) = child_keys(&[1; 32], &[2; 32], &[3; 32], 16).unwrap();
        let km = prf_plus(&[1; 32], &[[2u8; 32], [3u8; 32]].concat(), 40);
        assert_eq!(i2r.keymat(), km[..20]);
        assert_eq!(r2i.keymat(), km[20..]);
    }
}
