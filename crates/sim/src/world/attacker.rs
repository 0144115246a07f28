//! The attacker of RFC 4555 §5: someone on the path who sees every datagram
//! that crosses the internet core, as it is there (after the NATs have
//! translated it), and can send datagrams of her own, but holds no keys.
//!
//! So she learns only what an IKE header shows in the clear (RFC 7296
//! §3.1): the SPIs, the exchange type, the flags, the message ID and the
//! length, together with the addresses and ports of the datagram. From that
//! she can tell which IKE SAs exist and where their ends are, which message
//! ID the initiator will use next, and which request looked like a move:
//! what she can forge (§5.1) and what she can replay.

use mobike_wire::header::Header;
use mobike_wire::registry::ExchangeType;
use mobike_wire::udp::{UdpPayload, classify_observed};
use rustc_hash::FxHashMap as HashMap;
use std::net::{IpAddr, SocketAddr};

/// One IKE SA as seen on the path.
#[derive(Clone, Debug)]
struct Seen {
    spi_i: u64,
    /// Zero until a message with the responder's SPI went by.
    spi_r: u64,
    /// The responder's end, as the newest message showed it: where the
    /// initiator sends to, where the responder sends from.
    responder: SocketAddr,
    /// The newest message ID of an initiator request and where that
    /// request came from: a request with a higher ID is a new one; one with
    /// this ID or a lower one is a retransmission.
    newest_request: Option<(u32, SocketAddr)>,
    /// The newest request that looked like a move: an INFORMATIONAL with a
    /// new message ID from another source than the new request before it
    /// (RFC 4555 §3.5: a moved initiator's UPDATE_SA_ADDRESSES comes from
    /// its new address). Path-test probes repeat an old ID and do not count.
    last_move: Option<Vec<u8>>,
}

/// What the attacker needs to forge a request of an IKE SA.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) struct Forgery {
    pub spi_i: u64,
    pub spi_r: u64,
    /// The message ID the initiator will use next, as far as she can tell.
    pub message_id: u32,
    /// Where the responder is reached.
    pub to: SocketAddr,
}

/// The on-path observer: every IKE SA she has seen, oldest first.
#[derive(Clone, Debug, Default)]
pub(super) struct Attacker {
    sas: Vec<Seen>,
    /// Initiator SPI -> position in `sas`.
    by_spi: HashMap<u64, usize>,
}

impl Attacker {
    /// A UDP datagram crossed the internet core. Anything but an IKE
    /// message with a well-formed header tells her nothing she uses.
    pub(super) fn observe(&mut self, src: SocketAddr, dst: SocketAddr, payload: &[u8]) {
        let UdpPayload::Ike(ike) = classify_observed(payload, src.port(), dst.port()) else {
            return;
        };
        let Ok(h) = Header::parse(ike) else {
            return;
        };
        // The I flag: sent by the original initiator (RFC 7296 §3.1).
        let responder = if h.flags.initiator() { dst } else { src };
        let i = *self.by_spi.entry(h.spi_i).or_insert_with(|| {
            self.sas.push(Seen {
                spi_i: h.spi_i,
                spi_r: 0,
                responder,
                newest_request: None,
                last_move: None,
            });
            self.sas.len() - 1
        });
        let sa = &mut self.sas[i];
        sa.responder = responder;
        if h.spi_r != 0 {
            sa.spi_r = h.spi_r;
        }
        if !h.flags.initiator() || h.flags.response() {
            return;
        }
        let newer = sa.newest_request.is_none_or(|(mid, _)| h.message_id > mid);
        if !newer {
            return;
        }
        let moved = sa.newest_request.is_some_and(|(_, from)| from != src);
        if moved && h.exchange == ExchangeType::INFORMATIONAL {
            sa.last_move = Some(ike.to_vec());
        }
        sa.newest_request = Some((h.message_id, src));
    }

    /// The newest IKE SA whose responder end is at one of `addresses`.
    fn newest_to(&self, addresses: &[IpAddr]) -> Option<&Seen> {
        self.sas
            .iter()
            .rev()
            .find(|sa| addresses.contains(&sa.responder.ip()))
    }

    /// What she needs to forge a request to the newest IKE SA whose
    /// responder is at one of `addresses`: its SPIs, the next message ID
    /// and where to send it.
    pub(super) fn forgery(&self, addresses: &[IpAddr]) -> Option<Forgery> {
        let sa = self.newest_to(addresses)?;
        Some(Forgery {
            spi_i: sa.spi_i,
            spi_r: sa.spi_r,
            message_id: sa.newest_request.map_or(0, |(mid, _)| mid.wrapping_add(1)),
            to: sa.responder,
        })
    }

    /// The newest request of that IKE SA that looked like a move, as she
    /// captured it (the IKE message, without the non-ESP marker), and where
    /// to send it.
    pub(super) fn replay(&self, addresses: &[IpAddr]) -> Option<(Vec<u8>, SocketAddr)> {
        let sa = self.newest_to(addresses)?;
        Some((sa.last_move.clone()?, sa.responder))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use mobike_wire::header::Flags;
    use mobike_wire::udp::frame_ike;

    const GATEWAY: &str = "203.0.113.10:4500";

    /// A header-only message of IKE SA (1, 2) from `src` to the gateway.
    fn request(exchange: ExchangeType, mid: u32) -> Vec<u8> {
        let h = Header {
            spi_i: 1,
            spi_r: 2,
            next_payload: mobike_wire::PayloadType::None,
            exchange,
            flags: Flags::new(true, false),
            message_id: mid,
            length: 28,
        };
        let mut b = Vec::new();
        h.emit(&mut b);
        b
    }

    fn send(a: &mut Attacker, src: &str, ike: &[u8]) {
        let (src, dst): (SocketAddr, SocketAddr) = (src.parse().unwrap(), GATEWAY.parse().unwrap());
        a.observe(src, dst, &frame_ike(ike, src.port()));
    }

    #[test]
    fn the_replay_is_the_new_request_from_a_new_address_not_a_probe() {
        let mut a = Attacker::default();
        let info = ExchangeType::INFORMATIONAL;
        send(
            &mut a,
            "192.0.2.10:4500",
            &request(ExchangeType::IKE_AUTH, 1),
        );
        send(&mut a, "192.0.2.10:4500", &request(info, 2));
        let gw: Vec<IpAddr> = vec!["203.0.113.10".parse().unwrap()];
        assert_eq!(a.replay(&gw), None, "nothing has moved yet");
        // The move: a new ID from the LTE address.
        let update = request(info, 3);
        send(&mut a, "198.51.100.10:4500", &update);
        // A path-test probe: the same ID again, from elsewhere.
        send(&mut a, "192.0.2.10:4500", &request(info, 3));
        // A liveness check from where it moved.
        send(&mut a, "198.51.100.10:4500", &request(info, 4));
        let (bytes, to) = a.replay(&gw).unwrap();
        assert_eq!(bytes, update);
        assert_eq!(to, GATEWAY.parse::<SocketAddr>().unwrap());
        let f = a.forgery(&gw).unwrap();
        assert_eq!((f.spi_i, f.spi_r, f.message_id), (1, 2, 5));
        assert_eq!(a.forgery(&["192.0.2.99".parse().unwrap()]), None);
    }
}
