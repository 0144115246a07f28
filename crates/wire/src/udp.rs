//! What travels in a UDP datagram on the IKE ports (RFC 3948, RFC 7296 §2.23):
//! on port 4500 an IKE message follows a four-zero-octet non-ESP marker, an
//! ESP packet starts with its (non-zero) SPI, and a NAT-keepalive is the one
//! octet 0xFF. On port 500 the datagram is a bare IKE message.

/// IKE's standard port.
pub const IKE_PORT: u16 = 500;
/// The NAT traversal port (RFC 3948).
pub const NATT_PORT: u16 = 4500;
/// RFC 3948 §2.2: four zero octets in front of IKE messages on port 4500.
pub const NON_ESP_MARKER: [u8; 4] = [0, 0, 0, 0];
/// RFC 3948 §2.3: a NAT-keepalive is one octet, 0xFF.
pub const KEEPALIVE: [u8; 1] = [0xFF];

/// The contents of a UDP datagram on an IKE port.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum UdpPayload<'a> {
    /// An IKE message (marker removed).
    Ike(&'a [u8]),
    /// A UDP-encapsulated ESP packet (RFC 3948 §2.1).
    Esp(&'a [u8]),
    /// A NAT-keepalive (RFC 3948 §2.3).
    Keepalive,
    /// Nothing IKE, ESP or keepalive can be.
    Invalid,
}

/// Classifies a datagram by the ports it used: on 4500 (either side) the
/// non-ESP marker rules apply, otherwise the payload is IKE.
pub fn classify(payload: &[u8], src_port: u16, dst_port: u16) -> UdpPayload<'_> {
    let encapsulated = src_port == NATT_PORT || dst_port == NATT_PORT;
    if !encapsulated {
        return UdpPayload::Ike(payload);
    }
    match payload {
        [0xFF] => UdpPayload::Keepalive,
        [0, 0, 0, 0, rest @ ..] => UdpPayload::Ike(rest),
        p if p.len() >= 8 => UdpPayload::Esp(p),
        _ => UdpPayload::Invalid,
    }
}

/// Wraps an IKE message for sending from/to the given ports: the non-ESP
/// marker is added when either port is 4500.
pub fn frame_ike(message: &[u8], src_port: u16, dst_port: u16) -> Vec<u8> {
    if src_port == NATT_PORT || dst_port == NATT_PORT {
        let mut v = Vec::with_capacity(message.len() + 4);
        v.extend_from_slice(&NON_ESP_MARKER);
        v.extend_from_slice(message);
        v
    } else {
        message.to_vec()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn marker_keepalive_and_esp() {
        let framed = frame_ike(&[1, 2, 3], 4500, 4500);
        assert_eq!(framed, vec![0, 0, 0, 0, 1, 2, 3]);
        assert_eq!(classify(&framed, 4500, 4500), UdpPayload::Ike(&[1, 2, 3]));
        assert_eq!(frame_ike(&[1, 2, 3], 500, 500), vec![1, 2, 3]);
        assert_eq!(classify(&[1, 2, 3], 500, 500), UdpPayload::Ike(&[1, 2, 3]));
        assert_eq!(classify(&[0xFF], 61000, 4500), UdpPayload::Keepalive);
        let esp = [0, 0, 1, 0, 0, 0, 0, 1, 9];
        assert_eq!(classify(&esp, 4500, 4500), UdpPayload::Esp(&esp));
        assert_eq!(classify(&[0, 0], 4500, 4500), UdpPayload::Invalid);
    }
}
