//! The IKE SA as the UI shows it: every field a state panel draws, read
//! from the state the protocol holds.

use super::*;

/// The IKE SA's state as the UI shows it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SaSnapshot {
    pub role: Role,
    pub state: SaState,
    pub spi_i: crate::Spi,
    pub spi_r: crate::Spi,
    pub mobike: bool,
    /// The IKE SA's address pair.
    pub local: SocketAddr,
    pub remote: SocketAddr,
    /// The IPsec SAs' tunnel header addresses, once IKE_AUTH is done.
    pub ipsec_local: Option<SocketAddr>,
    pub ipsec_remote: Option<SocketAddr>,
    pub udp_encap: bool,
    pub own_addresses: Vec<IpAddr>,
    pub peer_addresses: Vec<IpAddr>,
    pub local_behind_nat: bool,
    pub peer_behind_nat: bool,
    pub pending_update: bool,
    pub cookie2_outstanding: Option<String>,
    /// The peer's window: how many requests we may have outstanding.
    pub window: u32,
    /// How many of our requests are outstanding now.
    pub in_flight: u32,
    /// The oldest outstanding request: what, message ID, retransmissions, next retransmission.
    pub outstanding: Option<OutstandingSnapshot>,
    pub next_liveness: Option<Time>,
    pub next_keepalive: Option<Time>,
    /// Requests waiting for the window, in order.
    pub queued: Vec<String>,
    /// The peer supports Redirect (RFC 5685).
    pub redirect_supported: bool,
    /// A responder's own move in progress: the address it left.
    pub moving_from: Option<SocketAddr>,
    /// The Child SAs, oldest first; the newest carries the traffic, an
    /// older one waits for its Delete after a rekey.
    #[serde(default)]
    pub child_sas: Vec<ChildSnapshot>,
    /// When the newest Child SA's lifetime runs out (`child_lifetime`).
    #[serde(default)]
    pub next_rekey: Option<Time>,
    /// When the IKE SA's lifetime runs out (`ike_lifetime`).
    #[serde(default)]
    pub next_ike_rekey: Option<Time>,
}

/// One Child SA as the UI shows it: its ESP SPIs (ours inbound, the
/// peer's outbound) and when it was made.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ChildSnapshot {
    pub inbound_spi: String,
    pub outbound_spi: String,
    pub since: Time,
    /// Its traffic selectors, "ours ⇄ the peer's" ("any ⇄ 10.2.0.0/24");
    /// empty for all traffic both ways.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub selectors: String,
    /// A newer Child SA with its selectors replaced it (a rekey, or the
    /// other of two crossed rekeys): it waits for its Delete.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub replaced: bool,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct OutstandingSnapshot {
    pub what: String,
    pub mid: u32,
    pub retransmissions: u32,
    pub next_retransmit: Time,
    pub probing: bool,
}

impl IkeSa {
    /// The established state, also of an SA deleted after it was
    /// established (its last state stays for the panels).
    fn last_established(&self) -> Option<&Established> {
        match &self.life {
            Lifecycle::Established(e) => Some(e),
            Lifecycle::Deleted(last) => last.as_deref(),
            _ => None,
        }
    }

    pub fn snapshot(&self, own: &[IpAddr], settings: &crate::Settings) -> SaSnapshot {
        let e = self.last_established();
        let w = &self.window;
        SaSnapshot {
            role: self.role,
            state: self.state(),
            spi_i: crate::Spi(self.spi_i),
            spi_r: crate::Spi(self.spi_r),
            mobike: e.is_some_and(|e| e.mobike),
            local: self.local,
            remote: self.remote,
            // No IPsec SAs to show without a Child SA.
            ipsec_local: e.filter(|e| !e.children.is_empty()).map(|e| e.ipsec.0),
            ipsec_remote: e.filter(|e| !e.children.is_empty()).map(|e| e.ipsec.1),
            udp_encap: e.is_some_and(|e| e.udp_encap),
            own_addresses: own.to_vec(),
            peer_addresses: self.peer_addrs.clone(),
            local_behind_nat: self.nat.local_behind_nat,
            peer_behind_nat: self.nat.peer_behind_nat,
            pending_update: e.is_some_and(|e| e.pending_update),
            cookie2_outstanding: w.outstanding.iter().find_map(|r| r.task.cookie2()).map(hex),
            window: w.peer_window,
            in_flight: w.outstanding.len() as u32,
            outstanding: w.outstanding.first().map(|r| OutstandingSnapshot {
                what: r.task.label().to_string(),
                mid: r.mid,
                retransmissions: r.retransmissions,
                next_retransmit: r.next_at,
                probing: r.probing.is_some(),
            }),
            next_liveness: self.liveness_due(settings),
            next_keepalive: self.keepalive_due(settings),
            queued: w.queue.iter().map(|j| j.label().to_string()).collect(),
            redirect_supported: self.peer_redirect,
            moving_from: e.and_then(|e| e.moved_from),
            child_sas: e
                .map(|e| {
                    e.children
                        .iter()
                        .enumerate()
                        .map(|(k, c)| ChildSnapshot {
                            inbound_spi: format!("{:08x}", c.inbound.spi),
                            outbound_spi: format!("{:08x}", c.out.spi),
                            since: c.born,
                            selectors: super::child::selectors_text(&c.ts),
                            replaced: super::child::superseded(&e.children, k),
                        })
                        .collect()
                })
                .unwrap_or_default(),
            // Both are none unless the SA is established.
            next_rekey: self.child_rekey_due(settings),
            next_ike_rekey: self.ike_rekey_due(settings),
        }
    }
}
