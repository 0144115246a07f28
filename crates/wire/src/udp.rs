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

/// Classifies a datagram by the port of the socket it left (as its sender
/// framed it) or arrived at (as its receiver reads it): on port 4500 the
/// non-ESP marker rules apply, on any other port the payload is IKE
/// (RFC 3948 §2.2, RFC 7296 §2.23). Both ends agree unless a NAT rewrote a
/// port across 500 and 4500 (a carrier-grade NAT may map an inside port
/// 500 to outside port 4500): then only the socket's own port tells, never
/// the port at the other end.
pub fn classify(payload: &[u8], port: u16) -> UdpPayload<'_> {
    if port != NATT_PORT {
        return UdpPayload::Ike(payload);
    }
    match payload {
        [0xFF] => UdpPayload::Keepalive,
        [0, 0, 0, 0, rest @ ..] => UdpPayload::Ike(rest),
        p if p.len() >= 8 => UdpPayload::Esp(p),
        _ => UdpPayload::Invalid,
    }
}

/// Classifies a datagram seen on the path, where neither socket is known:
/// the destination port decides when it is an IKE port (a packet on its
/// way to a daemon's socket), else the source port (a daemon answering a
/// NAT's outside port). Wrong only when a NAT's outside port for an inside
/// port 4500 is 500.
pub fn classify_observed(payload: &[u8], src_port: u16, dst_port: u16) -> UdpPayload<'_> {
    if dst_port == IKE_PORT || dst_port == NATT_PORT {
        classify(payload, dst_port)
    } else {
        classify(payload, src_port)
    }
}

/// Wraps an IKE message for sending from a socket on `src_port`: the
/// non-ESP marker is added when that port is 4500.
pub fn frame_ike(message: &[u8], src_port: u16) -> Vec<u8> {
    if src_port == NATT_PORT {
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
        let framed = frame_ike(&[1, 2, 3], 4500);
        assert_eq!(framed, vec![0, 0, 0, 0, 1, 2, 3]);
        assert_eq!(classify(&framed, 4500), UdpPayload::Ike(&[1, 2, 3]));
        assert_eq!(frame_ike(&[1, 2, 3], 500), vec![1, 2, 3]);
        assert_eq!(classify(&[1, 2, 3], 500), UdpPayload::Ike(&[1, 2, 3]));
        assert_eq!(classify(&[0xFF], 4500), UdpPayload::Keepalive);
        let esp = [0, 0, 1, 0, 0, 0, 0, 1, 9];
        assert_eq!(classify(&esp, 4500), UdpPayload::Esp(&esp));
        assert_eq!(classify(&[0, 0], 4500), UdpPayload::Invalid);
    }

    /// A NAT mapped the initiator's port 500 to outside port 4500: the
    /// responder's socket 500 reads a bare IKE message, whatever the
    /// source port says, and answers bare from 500.
    #[test]
    fn a_nat_port_4500_in_front_of_socket_500_carries_no_marker() {
        let init = [0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77, 0x88, 9];
        assert_eq!(classify(&init, 500), UdpPayload::Ike(&init));
        assert_eq!(classify_observed(&init, 4500, 500), UdpPayload::Ike(&init));
        assert_eq!(frame_ike(&init, 500), init.to_vec());
        // A daemon's port 4500 answering a NAT's outside port 61000.
        let framed = frame_ike(&init, 4500);
        assert_eq!(
            classify_observed(&framed, 4500, 61000),
            UdpPayload::Ike(&init)
        );
        assert_eq!(
            classify_observed(&[0xFF], 61000, 4500),
            UdpPayload::Keepalive
        );
    }
}
