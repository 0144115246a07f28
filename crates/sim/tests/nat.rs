//! NAT boxes (RFC 4787, reference §7): each mapping and filtering
//! behaviour, timers and refresh, port assignment, hairpinning, reboot,
//! address change and the presets, first on a NAT box alone, then with
//! MOBIKE running through it.

mod common;
use common::*;
use mobike_sim::nat::{Filtering, MappingBehaviour, NatBehaviour, NatBox, NatPreset};
use mobike_sim::{Direction, DropReason, MappingGone, NatRefusal, Permit, Scenario, TraceKind};
use std::net::SocketAddr;

const X: &str = "10.0.0.2:4500";
const Y1: &str = "203.0.113.10:4500";
const Y1_OTHER_PORT: &str = "203.0.113.10:500";
const Y2: &str = "203.0.113.20:4500";

fn nat(mapping: MappingBehaviour, filtering: Filtering) -> NatBox {
    NatBox::new(
        NatBehaviour {
            mapping,
            filtering,
            ..NatBehaviour::default()
        },
        "198.51.100.1".parse().unwrap(),
        Some(0),
    )
}

/// The outside endpoint X gets for each destination.
fn externals(n: &mut NatBox, dsts: &[&str]) -> Vec<u16> {
    dsts.iter()
        .map(|d| n.outbound(0, ep(X), ep(d)).unwrap().src.port())
        .collect()
}

// --- Mapping (RFC 4787 §4.1) ---

#[test]
fn endpoint_independent_mapping_reuses_one_outside_port_for_every_destination() {
    let mut n = nat(
        MappingBehaviour::EndpointIndependent,
        Filtering::AddressDependent,
    );
    assert_eq!(
        externals(&mut n, &[Y1, Y1_OTHER_PORT, Y2]),
        [4500, 4500, 4500]
    );
    assert_eq!(n.mappings().len(), 1);
}

#[test]
fn address_dependent_mapping_is_new_per_address_not_per_port() {
    let mut n = nat(
        MappingBehaviour::AddressDependent,
        Filtering::AddressDependent,
    );
    // Same address, other port: same mapping; other address: a new one,
    // which cannot have the preserved port any more.
    assert_eq!(
        externals(&mut n, &[Y1, Y1_OTHER_PORT, Y2]),
        [4500, 4500, 4501]
    );
    assert_eq!(n.mappings().len(), 2);
}

#[test]
fn address_and_port_dependent_mapping_is_new_per_destination_endpoint() {
    let mut n = nat(
        MappingBehaviour::AddressAndPortDependent,
        Filtering::AddressAndPortDependent,
    );
    assert_eq!(
        externals(&mut n, &[Y1, Y1_OTHER_PORT, Y2, Y1]),
        [4500, 4501, 4502, 4500]
    );
    assert_eq!(n.mappings().len(), 3);
}

// --- Filtering (RFC 4787 §5) ---

/// Whether each of these outside endpoints gets in after X sent to Y1 only.
fn admits(filtering: Filtering) -> [bool; 3] {
    let mut n = nat(MappingBehaviour::EndpointIndependent, filtering);
    let ext = n.outbound(0, ep(X), ep(Y1)).unwrap().src;
    [Y1, Y1_OTHER_PORT, Y2].map(|from| match n.inbound(1, ep(from), ext) {
        Ok(to) => {
            assert_eq!(to, ep(X), "delivered to the inside endpoint");
            true
        }
        Err(reason) => {
            assert!(
                matches!(
                    reason,
                    NatRefusal::NotSentToAddress { .. } | NatRefusal::NotSentToEndpoint { .. }
                ),
                "{reason}"
            );
            false
        }
    })
}

#[test]
fn endpoint_independent_filtering_admits_anyone() {
    assert_eq!(admits(Filtering::EndpointIndependent), [true, true, true]);
}

#[test]
fn address_dependent_filtering_admits_any_port_of_an_address_sent_to() {
    assert_eq!(admits(Filtering::AddressDependent), [true, true, false]);
}

#[test]
fn address_and_port_dependent_filtering_admits_only_the_endpoint_sent_to() {
    assert_eq!(
        admits(Filtering::AddressAndPortDependent),
        [true, false, false]
    );
}

#[test]
fn nothing_gets_in_without_a_mapping() {
    let mut n = nat(
        MappingBehaviour::EndpointIndependent,
        Filtering::EndpointIndependent,
    );
    let e = n.inbound(0, ep(Y1), ep("198.51.100.1:4500")).unwrap_err();
    assert_eq!(
        e,
        NatRefusal::NoMapping {
            port: 4500,
            gone: None
        }
    );
}

#[test]
fn permits_are_shown_by_the_filtering_in_force() {
    for (f, want) in [
        (Filtering::EndpointIndependent, "anyone"),
        (Filtering::AddressDependent, "203.0.113.10"),
        (
            Filtering::AddressAndPortDependent,
            "203.0.113.10:4500, 203.0.113.10:500",
        ),
    ] {
        let mut n = nat(MappingBehaviour::EndpointIndependent, f);
        externals(&mut n, &[Y1, Y1_OTHER_PORT]);
        let shown: Vec<String> = n
            .permits(n.mappings()[0])
            .iter()
            .map(Permit::to_string)
            .collect();
        assert_eq!(shown.join(", "), want, "{f:?}");
    }
}

// --- Timer and refresh (RFC 4787 §4.3, REQ-5, REQ-6, REQ-6a) ---

#[test]
fn outbound_packets_refresh_the_timer_inbound_ones_only_when_enabled() {
    for inbound_refresh in [false, true] {
        let mut n = NatBox::new(
            NatBehaviour {
                timeout: 30 * SEC,
                inbound_refresh,
                filtering: Filtering::EndpointIndependent,
                ..NatBehaviour::default()
            },
            "198.51.100.1".parse().unwrap(),
            Some(0),
        );
        let ext = n.outbound(0, ep(X), ep(Y1)).unwrap().src;
        // Outbound at 20 s: the mapping now lives until 50 s (REQ-6).
        n.outbound(20 * SEC, ep(X), ep(Y1)).unwrap();
        assert_eq!(n.mappings()[0].expires, 50 * SEC);
        // Inbound at 40 s passes; it refreshes only with REQ-6a on.
        assert_eq!(n.inbound(40 * SEC, ep(Y2), ext), Ok(ep(X)));
        let want = if inbound_refresh { 70 * SEC } else { 50 * SEC };
        assert_eq!(n.mappings()[0].expires, want);
        // At 50 s the refreshed mapping is still there, the other is gone.
        let gone = n.expire(50 * SEC);
        assert_eq!(gone.len(), usize::from(!inbound_refresh));
        let r = n.inbound(55 * SEC, ep(Y1), ext);
        if inbound_refresh {
            assert_eq!(r, Ok(ep(X)));
        } else {
            let gone = MappingGone::Expired {
                internal: ep(X),
                at: 50 * SEC,
            };
            assert_eq!(
                r.unwrap_err(),
                NatRefusal::NoMapping {
                    port: 4500,
                    gone: Some(gone)
                }
            );
        }
    }
}

#[test]
fn a_filtered_packet_refreshes_nothing() {
    let mut n = NatBox::new(
        NatBehaviour {
            timeout: 30 * SEC,
            inbound_refresh: true,
            ..NatBehaviour::default()
        },
        "198.51.100.1".parse().unwrap(),
        Some(0),
    );
    let ext = n.outbound(0, ep(X), ep(Y1)).unwrap().src;
    assert!(n.inbound(20 * SEC, ep(Y2), ext).is_err());
    assert_eq!(n.mappings()[0].expires, 30 * SEC);
}

// --- Port assignment (RFC 4787 §4.2.1, REQ-3) ---

#[test]
fn port_preservation_gives_the_inside_port_and_the_next_free_one_on_collision() {
    let mut n = nat(
        MappingBehaviour::EndpointIndependent,
        Filtering::AddressDependent,
    );
    let a = n.outbound(0, ep("10.0.0.2:4500"), ep(Y1)).unwrap().src;
    let b = n.outbound(0, ep("10.0.0.3:4500"), ep(Y1)).unwrap().src;
    assert_eq!((a.port(), b.port()), (4500, 4501), "no overloading (REQ-3)");
}

#[test]
fn without_port_preservation_ports_come_from_the_range_in_order() {
    let mut n = NatBox::new(
        NatBehaviour {
            port_preservation: false,
            port_range: (20000, 20099),
            ..NatBehaviour::default()
        },
        "198.51.100.1".parse().unwrap(),
        Some(0),
    );
    let got: Vec<u16> = ["10.0.0.2:500", "10.0.0.2:4500", "10.0.0.3:4500"]
        .iter()
        .map(|x| n.outbound(0, ep(x), ep(Y1)).unwrap().src.port())
        .collect();
    assert_eq!(got, [20000, 20001, 20002]);
}

// --- Reboot ---

#[test]
fn after_a_reboot_nothing_gets_in_and_new_mappings_get_new_ports() {
    let mut n = nat(
        MappingBehaviour::EndpointIndependent,
        Filtering::EndpointIndependent,
    );
    let ext = n.outbound(0, ep(X), ep(Y1)).unwrap().src;
    assert_eq!(n.reboot(10 * SEC).len(), 1);
    let gone = MappingGone::Rebooted {
        internal: ep(X),
        at: 10 * SEC,
    };
    assert_eq!(
        n.inbound(11 * SEC, ep(Y1), ext).unwrap_err(),
        NatRefusal::NoMapping {
            port: 4500,
            gone: Some(gone)
        }
    );
    let again = n.outbound(12 * SEC, ep(X), ep(Y1)).unwrap();
    assert!(again.created.is_some());
    assert_ne!(
        again.src, ext,
        "a rebooted NAT does not hand out the old port"
    );
}

// --- Presets (reference §7.3) ---

fn parsed_behaviour(nat_lines: &str) -> Result<NatBehaviour, String> {
    Scenario::from_toml(&behind_nat(nat_lines, ""))
        .map(|s| s.nats[0].behaviour())
        .map_err(|e| e.to_string())
}

#[test]
fn presets_and_overrides_read_from_the_file() {
    use Filtering as F;
    use MappingBehaviour as M;
    for (text, m, f, t) in [
        (
            "preset = \"full_cone\"",
            M::EndpointIndependent,
            F::EndpointIndependent,
            300,
        ),
        (
            "preset = \"restricted_cone\"",
            M::EndpointIndependent,
            F::AddressDependent,
            300,
        ),
        (
            "preset = \"port_restricted\"",
            M::EndpointIndependent,
            F::AddressAndPortDependent,
            300,
        ),
        (
            "preset = \"symmetric\"",
            M::AddressAndPortDependent,
            F::AddressAndPortDependent,
            300,
        ),
        (
            "preset = \"short_timer\"",
            M::EndpointIndependent,
            F::AddressDependent,
            30,
        ),
        // The reference's own spelling.
        (
            "preset = \"port-restricted\"",
            M::EndpointIndependent,
            F::AddressAndPortDependent,
            300,
        ),
        // Nothing said: what every NAT did before presets.
        ("", M::EndpointIndependent, F::AddressDependent, 300),
        (
            "preset = \"symmetric\"\nmapping = \"endpoint_independent\"\ntimeout = \"2min\"",
            M::EndpointIndependent,
            F::AddressAndPortDependent,
            120,
        ),
        (
            "filtering = \"eif\"\nmapping_timeout = \"45s\"",
            M::EndpointIndependent,
            F::EndpointIndependent,
            45,
        ),
    ] {
        let b = parsed_behaviour(text).unwrap();
        assert_eq!(
            (b.mapping, b.filtering, b.timeout),
            (m, f, t * SEC),
            "{text}"
        );
    }
    let b = parsed_behaviour(
        "preset = \"full_cone\"\ninbound_refresh = true\nport_preservation = false\nhairpinning = false\nport_range = [5000, 5100]",
    )
    .unwrap();
    assert!(b.inbound_refresh && !b.port_preservation && !b.hairpinning);
    assert_eq!(b.port_range, (5000, 5100));
    assert_eq!(NatPreset::ShortTimer.behaviour().timeout, 30 * SEC);
    let cgn = NatPreset::CarrierGrade.behaviour();
    assert_eq!(
        (cgn.mapping, cgn.filtering, cgn.timeout),
        (
            MappingBehaviour::EndpointIndependent,
            Filtering::AddressAndPortDependent,
            120 * SEC
        )
    );
    assert!(!cgn.port_preservation && !cgn.hairpinning);
}

#[test]
fn a_bad_preset_names_the_allowed_values_and_where() {
    let e = parsed_behaviour("preset = \"cgnat\"").unwrap_err();
    for name in [
        "full_cone",
        "restricted_cone",
        "port_restricted",
        "symmetric",
        "short_timer",
        "carrier_grade",
    ] {
        assert!(e.contains(name), "{e}");
    }
    let text = behind_nat("preset = \"cgnat\"", "");
    let line = text.lines().position(|l| l.starts_with("preset")).unwrap() + 1;
    assert!(e.starts_with(&format!("line {line}, column")), "{e}");
    let e = parsed_behaviour("filtering = \"strict\"").unwrap_err();
    assert!(e.contains("address_and_port_dependent"), "{e}");
    let e = parsed_behaviour("mapping_tiemout = \"1s\"").unwrap_err();
    assert!(
        e.contains("mapping_tiemout") && e.starts_with("line "),
        "{e}"
    );
    let e = parsed_behaviour("port_range = [9, 1]").unwrap_err();
    assert!(e.contains("port_range"), "{e}");
}

// --- With MOBIKE through the NAT ---

/// RFC 4555 §2.3 / reference S-R2: the gateway loses 203.0.113.10 and sends
/// its new address list from 203.0.113.20, to which the laptop never sent.
/// Only a NAT with endpoint-independent filtering lets it in.
#[test]
fn each_preset_decides_whether_the_responder_can_reach_the_client_from_a_new_address() {
    for (preset, gets_in) in [
        ("full_cone", true),
        ("restricted_cone", false),
        ("port_restricted", false),
        ("symmetric", false),
        ("short_timer", false),
    ] {
        let text = behind_nat(
            &format!("preset = \"{preset}\""),
            "[settings]\nliveness_interval = \"5s\"\n[[event]]\nat = \"8s\"\ninterface_down = \"gateway.vip1\"\n",
        );
        let w = run(&text, 9 * SEC);
        let from_new = delivered(&w, "laptop")
            .into_iter()
            .filter(|(_, src, _)| src.ip().to_string() == "203.0.113.20")
            .count();
        let filtered = nat_drops(&w, |r| match r {
            NatRefusal::NotSentToAddress { from } => from.to_string() == "203.0.113.20",
            NatRefusal::NotSentToEndpoint { from } => from.ip().to_string() == "203.0.113.20",
            _ => false,
        });
        assert_eq!(from_new > 0, gets_in, "{preset}");
        assert_eq!(filtered.is_empty(), gets_in, "{preset}: {filtered:?}");
        // Either way the laptop ends up on the new address: at once with
        // the list (EIF), or when its own path test gets there.
        let w = run(&text, 20 * SEC);
        assert_eq!(sa(&w, 0).remote, ep(Y2), "{preset}");
    }
}

#[test]
fn symmetric_nat_gives_the_laptop_a_new_outside_port_for_the_new_gateway_address() {
    let text = behind_nat(
        "preset = \"symmetric\"",
        "[settings]\nliveness_interval = \"5s\"\n[[event]]\nat = \"8s\"\ninterface_down = \"gateway.vip1\"\n",
    );
    let w = run(&text, 20 * SEC);
    let made = mappings_made(&w);
    let to_new: Vec<_> = made.iter().filter(|(t, ..)| *t > 8 * SEC).collect();
    assert_eq!(to_new.len(), 1, "{made:?}");
    assert_eq!(to_new[0].1, ep(X));
    assert_eq!(to_new[0].2, ep("198.51.100.1:4501"));
    // The gateway learns the new port from the IP header (RFC 4555 §3.5).
    assert_eq!(sa(&w, 1).remote, ep("198.51.100.1:4501"));
}

const QUIET: &str = "[settings]\nliveness = false\nkeepalive_interval = \"60s\"\n";

#[test]
fn an_idle_mapping_expires_and_the_gateway_then_cannot_reach_the_laptop() {
    let text = behind_nat(
        "mapping_timeout = \"30s\"",
        &format!(
            "{QUIET}[ping]\nfrom = \"gateway\"\nto = \"laptop\"\nstart = \"40s\"\ninterval = \"5s\"\n"
        ),
    );
    let w = run(&text, 50 * SEC);
    // IKE_AUTH at 0.114 s made the 4500 mapping (delivered at 0.119 s);
    // the laptop's IKE_AUTH was its last outbound packet.
    let made = mappings_made(&w);
    let (t4500, ..) = made.iter().find(|(_, i, _)| i.port() == 4500).unwrap();
    let gone = expired(&w);
    assert!(
        gone.iter()
            .any(|(t, i, e)| *t == t4500 + 30 * SEC && *i == ep(X) && e.port() == 4500),
        "{gone:?}"
    );
    let dropped = nat_drops(&w, |r| {
        matches!(r, NatRefusal::NoMapping { port: 4500, .. })
    });
    assert!(!dropped.is_empty());
    assert!(
        matches!(
            dropped[0].1,
            NatRefusal::NoMapping {
                gone: Some(MappingGone::Expired { internal, .. }),
                ..
            } if internal == ep(X)
        ),
        "{dropped:?}"
    );
    assert!(w.nats()[0].mappings.is_empty());
}

#[test]
fn nat_keepalives_keep_the_mapping_alive() {
    // The same, but the laptop (only) sends keepalives every 20 s.
    let text = behind_nat(
        "mapping_timeout = \"30s\"",
        &format!(
            "{QUIET}[ping]\nfrom = \"gateway\"\nto = \"laptop\"\nstart = \"40s\"\ninterval = \"5s\"\n"
        ),
    )
    .replacen(
        "link = \"lan\"\n",
        "link = \"lan\"\n[host.settings]\nkeepalive_interval = \"20s\"\n",
        1,
    );
    let w = run(&text, 50 * SEC);
    assert!(
        !expired(&w).iter().any(|(_, i, _)| *i == ep(X)),
        "{:?}",
        expired(&w)
    );
    assert!(nat_drops(&w, |r| matches!(r, NatRefusal::NoMapping { .. })).is_empty());
    // The view shows the mapping with its remaining lifetime: refreshed by
    // the keepalive at about 40 s.
    let m = &w.nats()[0].mappings[0];
    assert_eq!(m.internal, ep(X));
    assert!(m.expires_in > 15 * SEC && m.expires_in <= 30 * SEC, "{m:?}");
}

/// REQ-6a with a one-way failure: the laptop's uplink is broken, so only
/// the gateway's pings cross the NAT (inbound).
#[test]
fn inbound_refresh_keeps_a_mapping_alive_on_incoming_traffic_alone() {
    for inbound_refresh in [false, true] {
        let text = behind_nat(
            &format!("mapping_timeout = \"30s\"\ninbound_refresh = {inbound_refresh}"),
            &format!(
                "{QUIET}[ping]\nfrom = \"gateway\"\nto = \"laptop\"\nstart = \"2s\"\ninterval = \"5s\"\n[[event]]\nat = \"1s\"\nbreak_link = \"lan\"\ndirection = \"up\"\n"
            ),
        );
        let w = run(&text, 45 * SEC);
        let gone_4500 = expired(&w).iter().any(|(_, i, _)| *i == ep(X));
        assert_eq!(
            gone_4500, !inbound_refresh,
            "inbound_refresh = {inbound_refresh}"
        );
        // The 500 mapping has no traffic either way.
        assert!(expired(&w).iter().any(|(_, i, _)| i.port() == 500));
        let late_pings = delivered(&w, "laptop")
            .into_iter()
            .filter(|(t, ..)| *t > 35 * SEC)
            .count();
        assert_eq!(late_pings > 0, inbound_refresh);
        // The replies die on the broken uplink.
        let broken = drops(&w, |r| {
            *r == DropReason::LinkBroken {
                link: "lan".into(),
                only: Some(Direction::Up),
            }
        });
        assert!(!broken.is_empty());
    }
}

#[test]
fn without_port_preservation_the_gateway_sees_ports_from_the_range() {
    let text = behind_nat("port_preservation = false\nport_range = [20000, 20099]", "");
    let w = run(&text, 5 * SEC);
    let made: Vec<_> = mappings_made(&w)
        .into_iter()
        .map(|(_, i, e)| (i.port(), e.port()))
        .collect();
    assert_eq!(made, [(500, 20000), (4500, 20001)]);
    assert_eq!(sa(&w, 1).remote, ep("198.51.100.1:20001"));
}

/// Two laptops behind one NAT; the second talks to the first through the
/// NAT's outside address (REQ-9).
fn hairpin_text(hairpinning: bool) -> String {
    behind_nat(
        &format!("preset = \"full_cone\"\nhairpinning = {hairpinning}"),
        r#"
[[host]]
id = "laptop2"
pos = [100, 300]
role = "initiator"
peer = "198.51.100.1"
start_at = "2s"
[[host.interface]]
name = "eth0"
address = "10.0.0.3"
link = "lan"
"#,
    )
}

#[test]
fn hairpinning_turns_a_packet_around_with_the_senders_outside_address() {
    let w = run(&hairpin_text(true), 3 * SEC);
    // laptop2's IKE_SA_INIT from 10.0.0.3:500 got mapping :501 (500 is the
    // first laptop's) and reached the first laptop's 500 mapping.
    let got: Vec<_> = delivered(&w, "laptop")
        .into_iter()
        .filter(|(_, src, _)| src.port() == 501)
        .collect();
    assert_eq!(got.len(), 1, "{got:?}");
    let (t, src, dst) = got[0];
    assert_eq!(src, ep("198.51.100.1:501"), "REQ-9a: external source");
    assert_eq!(dst, ep("10.0.0.2:500"));
    assert_eq!(t, 2 * SEC + 10_000, "down and back up the lan link");
}

#[test]
fn without_hairpinning_the_packet_is_dropped_at_the_nat() {
    let w = run(&hairpin_text(false), 3 * SEC);
    assert!(
        delivered(&w, "laptop")
            .iter()
            .all(|(_, src, _)| src.port() != 501)
    );
    let d = nat_drops(&w, |r| matches!(r, NatRefusal::NoHairpin { .. }));
    assert_eq!(d.len(), 1, "{d:?}");
    assert_eq!(d[0].0, 2 * SEC + 5_000);
}

#[test]
fn a_nat_reboot_gives_a_new_port_that_the_laptop_finds_and_moves_to() {
    let text = behind_nat(
        "",
        "[settings]\nliveness_interval = \"5s\"\n[ping]\nfrom = \"laptop\"\nto = \"gateway\"\n[[event]]\nat = \"12s\"\nnat_reboot = \"home\"\n",
    );
    let w = run(&text, 20 * SEC);
    let reboot = w
        .trace()
        .iter()
        .find_map(|e| match &e.kind {
            TraceKind::NatRebooted { mappings_lost, .. } => Some((e.time, *mappings_lost)),
            _ => None,
        })
        .unwrap();
    assert_eq!(reboot, (12 * SEC, 2));
    let after: Vec<_> = mappings_made(&w)
        .into_iter()
        .filter(|(t, ..)| *t > 12 * SEC)
        .collect();
    assert_eq!(after[0].1, ep(X));
    assert_eq!(after[0].2, ep("198.51.100.1:4501"), "not the old port 4500");
    // Until the laptop moves, the gateway's ESP to the old port is lost.
    let lost = nat_drops(&w, |r| {
        matches!(
            r,
            NatRefusal::NoMapping {
                gone: Some(MappingGone::Rebooted { at, .. }),
                ..
            } if *at == 12 * SEC
        )
    });
    assert!(!lost.is_empty());
    // RFC 4555 §3.8 (reference E7): the gateway follows the new port.
    assert_eq!(sa(&w, 1).remote, ep("198.51.100.1:4501"));
    assert_eq!(sa(&w, 1).ipsec_remote, Some(ep("198.51.100.1:4501")));
}

#[test]
fn a_new_nat_address_is_found_and_followed() {
    let text = behind_nat(
        "",
        "[settings]\nliveness_interval = \"5s\"\n[ping]\nfrom = \"laptop\"\nto = \"gateway\"\n[[event]]\nat = \"12s\"\nnat_address_change = \"home\"\naddress = \"198.51.100.77\"\n",
    );
    let w = run(&text, 20 * SEC);
    assert_eq!(w.nats()[0].public_address.to_string(), "198.51.100.77");
    // The mapping keeps its port but shows the new address.
    assert!(
        w.nats()[0]
            .mappings
            .iter()
            .any(|m| m.external == ep("198.51.100.77:4500"))
    );
    // Packets still sent to the old address have nowhere to go.
    let gone = drops(&w, |r| {
        *r == DropReason::NoRoute {
            address: "198.51.100.1".parse().unwrap(),
        }
    });
    assert!(!gone.is_empty());
    assert!(
        delivered(&w, "gateway")
            .iter()
            .any(|(_, src, _)| *src == ep("198.51.100.77:4500"))
    );
    assert_eq!(sa(&w, 1).remote, ep("198.51.100.77:4500"));
    assert_eq!(sa(&w, 1).ipsec_remote, Some(ep("198.51.100.77:4500")));
}

#[test]
fn the_outside_cannot_reach_an_inside_address_directly() {
    // A host outside starts IKE towards the laptop's private address.
    let text = behind_nat(
        "",
        r#"
[[host]]
id = "probe"
pos = [600, 300]
role = "initiator"
peer = "10.0.0.2"
start_at = "1s"
[[host.interface]]
name = "eth0"
address = "203.0.113.99"
link = "uplink3"
[[link]]
id = "uplink3"
delay = "1ms"
"#,
    );
    let w = run(&text, 2 * SEC);
    let d = nat_drops(
        &w,
        |r| matches!(r, NatRefusal::Inside { address, .. } if address.to_string() == "10.0.0.2"),
    );
    assert_eq!(d.len(), 1, "{d:?}");
}

#[test]
fn mapping_table_view_counts_down() {
    let text = behind_nat("mapping_timeout = \"2min\"", QUIET);
    let s = Scenario::from_toml(&text).unwrap();
    let mut w = mobike_sim::World::new(&s);
    w.run_until(SEC);
    let at = |w: &mobike_sim::World| {
        w.nats()[0]
            .mappings
            .iter()
            .map(|m| (m.internal.port(), m.external.port(), m.expires_in))
            .collect::<Vec<_>>()
    };
    assert_eq!(
        at(&w),
        [
            (500, 500, 120 * SEC + 105_000 - SEC),
            (4500, 4500, 120 * SEC + 119_000 - SEC)
        ]
    );
    w.run_until(61 * SEC);
    assert_eq!(at(&w)[0].2, 60 * SEC + 105_000 - SEC);
    w.run_until(120 * SEC + 110_000);
    assert_eq!(at(&w).len(), 1, "the 500 mapping is gone");
    assert_eq!(w.nats()[0].behaviour.to_string(), "EIM, ADF, 2min");
}

/// Reference D8 / S-R3 when the mapping changes before the laptop's first
/// liveness check: its keepalive opens a new mapping with a new port (no
/// port preservation), and RFC 4555 §3.8 (M-3.8-4) asks the initiator to
/// compare NAT_DETECTION_DESTINATION_IP with the value from the previous
/// UPDATE_SA_ADDRESSES or IKE_SA_INIT response. The engine instead takes
/// its baseline from the first liveness response when behind a NAT, which
/// here already describes the new port, so the change goes unnoticed and
/// the gateway's ESP keeps going to the dead port.
#[test]
fn a_mapping_that_changes_before_the_first_liveness_check_is_still_found() {
    let text = behind_nat(
        "preset = \"short_timer\"\nport_preservation = false\nport_range = [40000, 40099]",
        "[settings]\nliveness_interval = \"45s\"\nkeepalive_interval = \"40s\"\n",
    );
    let w = run(&text, 60 * SEC);
    let made = mappings_made(&w);
    assert_eq!(made.last().unwrap().2, ep("198.51.100.1:40002"), "{made:?}");
    assert_eq!(sa(&w, 1).ipsec_remote, Some(ep("198.51.100.1:40002")));
}

/// Found at 5,000 clients behind a carrier-grade NAT (one client never
/// got an answer to IKE_SA_INIT): the NAT happened to map that client's
/// port 500 to outside port 4500. The gateway read the datagram by its
/// source port as if it carried a non-ESP marker, took the initiator's SPI
/// for ESP and dropped it. A socket on port 500 never sees a marker (RFC
/// 3948 §2.2, RFC 7296 §2.23): the receiving socket's port decides, and the
/// answer leaves port 500 bare, whatever port it goes to.
#[test]
fn an_outside_port_4500_for_inside_port_500_still_gets_its_sa_up() {
    let text = behind_nat("preset = \"carrier_grade\"\nport_range = [4500, 4599]", "");
    let w = run(&text, 30 * SEC);
    let made = mappings_made(&w);
    assert_eq!(
        (made[0].1, made[0].2),
        (ep("10.0.0.2:500"), ep("198.51.100.1:4500")),
        "the first mapping puts port 500 on outside port 4500: {made:?}"
    );
    let laptop = sa(&w, 0);
    assert_eq!(laptop.state, mobike_protocol::SaState::Established);
    // NAT detected, so the SA went on to port 4500 through a new mapping.
    assert_eq!(laptop.remote, ep("203.0.113.10:4500"));
    assert!(laptop.local_behind_nat, "{laptop:?}");
}

// --- A carrier-grade table (thousands of mappings) ---

#[test]
fn a_table_of_thousands_finds_each_mapping_both_ways_and_expires_in_creation_order() {
    use mobike_protocol::SEC;
    let mut n = NatBox::new(
        NatPreset::CarrierGrade.behaviour(),
        "100.64.0.1".parse().unwrap(),
        Some(0),
    );
    let gw = ep("198.51.100.1:4500");
    let inside = |i: u32| {
        std::net::SocketAddr::new(
            std::net::Ipv4Addr::from(u32::from(std::net::Ipv4Addr::new(10, 64, 0, 10)) + i).into(),
            4500,
        )
    };
    let mut outside = Vec::new();
    for i in 0..3000 {
        outside.push(n.outbound(0, inside(i), gw).unwrap().src);
    }
    assert_eq!(n.len(), 3000);
    // REQ-3: no two inside endpoints share an outside port.
    let ports: std::collections::BTreeSet<u16> = outside.iter().map(|o| o.port()).collect();
    assert_eq!(ports.len(), 3000);
    // Inbound through each mapping reaches its own inside endpoint; a
    // second outbound packet reuses the mapping.
    for (i, o) in outside.iter().enumerate() {
        assert_eq!(n.inbound(SEC, gw, *o), Ok(inside(i as u32)));
        assert_eq!(n.outbound(SEC, inside(i as u32), gw).unwrap().src, *o);
    }
    // Refresh the first mapping late: it now expires after the others, yet
    // the expired ones come back in the order they were made.
    let timeout = n.behaviour.timeout;
    n.outbound(10 * SEC, inside(0), gw).unwrap();
    assert!(n.expire(SEC + timeout - 1).is_empty());
    let gone = n.expire(10 * SEC + timeout);
    assert_eq!(gone.len(), 3000);
    assert_eq!(gone[0].internal, inside(0));
    assert!(gone.windows(2).all(|w| w[0].id < w[1].id));
    assert!(n.is_empty());
    // The next packet makes a new mapping on a port never reused while
    // another inside endpoint holds it.
    let again = n.outbound(20 * SEC + timeout, inside(7), gw).unwrap();
    assert!(again.created.is_some());
}

// --- IP versions: a NAT translates only its own family ---

/// A laptop whose LTE link has an IPv4 address behind `nat_public` and an
/// IPv6 address, talking to a gateway with one of each; its Wi-Fi breaks
/// at 2 s, so it path-tests both LTE pairs.
fn dual_stack_lte(nat_public: &str) -> mobike_sim::World {
    let text = format!(
        r#"
version = 1
title = "dual-stack LTE"
seed = 1
until = "20s"
[internet]
pos = [300, 100]
[[host]]
id = "laptop"
pos = [100, 100]
role = "initiator"
peer = "203.0.113.10"
[[host.interface]]
name = "wlan0"
address = "192.0.2.10"
link = "wifi"
[[host.interface]]
name = "wwan0"
address = "10.64.0.2"
link = "lte"
[[host.interface]]
name = "wwan0-6"
address = "2001:db8:64::10"
link = "lte"
[[host]]
id = "gateway"
pos = [500, 100]
role = "responder"
[[host.interface]]
name = "eth0"
address = "203.0.113.10"
link = "uplink"
[[host.interface]]
name = "eth0-6"
address = "2001:db8:ff::10"
link = "uplink"
[[link]]
id = "wifi"
delay = "5ms"
[[link]]
id = "lte"
delay = "30ms"
[[link]]
id = "uplink"
delay = "2ms"
[[nat]]
id = "cgn"
public_address = "{nat_public}"
link = "lte"
pos = [200, 200]
[settings]
liveness_interval = "2s"
[[event]]
at = "2s"
break_link = "wifi"
"#
    );
    run(&text, 20 * SEC)
}

#[test]
fn a_nat44_on_a_dual_stack_link_leaves_ipv6_untouched() {
    let w = dual_stack_lte("198.51.100.1");
    let v6: Vec<_> = delivered(&w, "gateway")
        .into_iter()
        .filter(|(_, src, _)| src.is_ipv6())
        .collect();
    assert!(!v6.is_empty(), "the IPv6 path test reached the gateway");
    assert!(
        v6.iter()
            .all(|(_, src, _)| *src == ep("[2001:db8:64::10]:4500")),
        "IPv6 arrives from the laptop's own address: {v6:?}"
    );
    // Only IPv4 mappings: the NAT never saw an IPv6 packet.
    let made = mappings_made(&w);
    assert!(!made.is_empty());
    assert!(
        made.iter()
            .all(|(_, internal, external)| internal.is_ipv4() && external.is_ipv4())
    );
    assert!(drops(&w, |r| matches!(r, DropReason::Nat { .. })).is_empty());
}

#[test]
fn a_nat66_put_on_the_ipv6_path_translates_ipv6_and_leaves_ipv4_alone() {
    let w = dual_stack_lte("2001:db8:64:ffff::1");
    let v6: Vec<_> = delivered(&w, "gateway")
        .into_iter()
        .filter(|(_, src, _)| src.is_ipv6())
        .collect();
    assert!(!v6.is_empty());
    assert!(
        v6.iter()
            .all(|(_, src, _)| src.ip()
                == "2001:db8:64:ffff::1".parse::<std::net::IpAddr>().unwrap()),
        "IPv6 arrives from the NAT's public address: {v6:?}"
    );
    // IPv4 from the LTE address has no NAT now: it reaches the gateway as sent.
    assert!(
        delivered(&w, "gateway")
            .iter()
            .any(|(_, src, _)| *src == ep("10.64.0.2:4500"))
    );
}

// --- NAT chains: a home router behind a carrier's NAT ---

#[test]
fn two_nats_on_one_link_translate_in_turn_and_a_reboot_of_the_inner_one_changes_both() {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../examples/double-nat-home-behind-carrier.toml"
    );
    let text = std::fs::read_to_string(path).unwrap();
    let w = run(&text, 14 * SEC);
    let nats = w.nats();
    let (router, cgn) = (&nats[0], &nats[1]);
    assert_eq!((router.id.as_str(), cgn.id.as_str()), ("router", "cgn"));
    // The router maps the laptop to its public address; the carrier's NAT
    // maps that to its own.
    let r = router
        .mappings
        .iter()
        .find(|m| m.internal == ep("192.168.1.20:4500"))
        .expect("the router's mapping of the laptop");
    assert_eq!(
        r.external.ip(),
        "100.64.0.5".parse::<std::net::IpAddr>().unwrap()
    );
    let c = cgn
        .mappings
        .iter()
        .find(|m| m.internal == r.external)
        .expect("the carrier NAT's mapping of the router's outside endpoint");
    assert_eq!(
        c.external.ip(),
        "198.51.100.1".parse::<std::net::IpAddr>().unwrap()
    );
    // The gateway only ever sees the carrier's address.
    let seen: Vec<_> = delivered(&w, "gateway")
        .into_iter()
        .map(|(_, src, _)| src)
        .collect();
    assert!(
        !seen.is_empty() && seen.iter().all(|s| s.ip() == c.external.ip()),
        "{seen:?}"
    );
    let before = c.external;
    // After the router's reboot both mappings are new, and the IKE SA
    // followed to the carrier's new outside port.
    let w = run(&text, 30 * SEC);
    let nats = w.nats();
    let r2 = nats[0]
        .mappings
        .iter()
        .find(|m| m.internal == ep("192.168.1.20:4500"))
        .unwrap();
    assert_ne!(r2.external, r.external, "a new port at the router");
    let c2 = nats[1]
        .mappings
        .iter()
        .find(|m| m.internal == r2.external)
        .unwrap();
    assert_ne!(c2.external, before, "so a new mapping at the carrier's NAT");
    let gw = sa(&w, 1);
    assert_eq!(gw.remote, c2.external);
}

// --- Port forwards (a home router's static mappings) ---

fn forwarding(filtering: Filtering) -> NatBox {
    let mut n = nat(MappingBehaviour::EndpointIndependent, filtering);
    n.forwards = vec![mobike_sim::nat::PortForward {
        port: 4500,
        to: ep("10.0.0.9:4500"),
    }];
    n
}

#[test]
fn a_forwarded_port_lets_anyone_in_whatever_the_filtering() {
    let mut n = forwarding(Filtering::AddressAndPortDependent);
    // Nobody inside sent anything: a mapping would refuse, the forward takes it.
    assert_eq!(
        n.inbound(0, ep(Y1), ep("198.51.100.1:4500")),
        Ok(ep("10.0.0.9:4500"))
    );
    assert_eq!(
        n.inbound(0, ep(Y2), ep("198.51.100.1:4500")),
        Ok(ep("10.0.0.9:4500"))
    );
    // Another port is still filtered by the mapping table.
    assert!(n.inbound(0, ep(Y1), ep("198.51.100.1:4501")).is_err());
}

#[test]
fn the_forwarded_host_answers_from_its_port_and_no_mapping_takes_that_port() {
    let mut n = forwarding(Filtering::AddressDependent);
    let out = n.outbound(0, ep("10.0.0.9:4500"), ep(Y1)).unwrap();
    assert_eq!(out.src, ep("198.51.100.1:4500"));
    assert_eq!(out.created, None, "a forward is no mapping");
    assert!(n.is_empty());
    // Another inside host's 4500 cannot have the forwarded port (port
    // preservation moves it to the next free one).
    let other = n.outbound(0, ep(X), ep(Y1)).unwrap();
    assert_eq!(other.src, ep("198.51.100.1:4501"));
}

#[test]
fn a_reboot_keeps_the_forwards() {
    let mut n = forwarding(Filtering::AddressDependent);
    n.outbound(0, ep(X), ep(Y1)).unwrap();
    n.reboot(SEC);
    assert!(n.is_empty());
    assert_eq!(
        n.inbound(2 * SEC, ep(Y2), ep("198.51.100.1:4500")),
        Ok(ep("10.0.0.9:4500"))
    );
}

#[test]
fn a_forward_must_reach_an_interface_on_the_nats_link() {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../examples/hairpin-home-gateway.toml"
    );
    let text = std::fs::read_to_string(path).unwrap();
    let bad = text.replace("4500->192.168.1.10:4500", "4500 -> 192.168.1.77:4500");
    let err = Scenario::from_toml(&bad).unwrap_err().to_string();
    assert!(
        err.contains("forward 4500 -> 192.168.1.77:4500")
            && err.contains("not an interface on the NAT's link"),
        "{err}"
    );
    let twice = text.replace("4500->192.168.1.10:4500", "500->192.168.1.10:4500");
    let err = Scenario::from_toml(&twice).unwrap_err().to_string();
    assert!(err.contains("port 500 is forwarded twice"), "{err}");
    let garbled = text.replace("4500->192.168.1.10:4500", "4500 to the gateway");
    let err = Scenario::from_toml(&garbled).unwrap_err().to_string();
    assert!(err.contains("write PORT->ADDRESS:PORT"), "{err}");
}

/// RFC 4787 §6 through a forward: the laptop at home reaches the gateway
/// behind the same router at the router's public address; the router turns
/// its packets around with the laptop's outside endpoint as their source
/// (REQ-9a). Without hairpinning they are dropped there, and the laptop
/// moves to LTE, which reaches the gateway through the forward from outside.
#[test]
fn hairpinning_through_a_port_forward_and_the_move_when_it_stops() {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../examples/hairpin-home-gateway.toml"
    );
    let text = std::fs::read_to_string(path).unwrap();
    let w = run(&text, 14 * SEC);
    // The gateway saw the laptop only at the router's address, at the
    // ports the router gave it beside the forwarded ones.
    let seen: Vec<SocketAddr> = delivered(&w, "gateway")
        .into_iter()
        .map(|(_, src, _)| src)
        .collect();
    assert!(seen.contains(&ep("198.51.100.1:501")), "{seen:?}");
    assert!(seen.contains(&ep("198.51.100.1:4501")), "{seen:?}");
    assert!(seen.iter().all(|s| s.ip() == ep("198.51.100.1:1").ip()));
    assert!(nat_drops(&w, |r| matches!(r, NatRefusal::NoHairpin { .. })).is_empty());
    // The NAT panel's view lists the forwards.
    assert_eq!(w.nats()[0].forwards.len(), 2);
    let w = run(&text, 40 * SEC);
    let dropped = nat_drops(&w, |r| matches!(r, NatRefusal::NoHairpin { .. }));
    assert!(!dropped.is_empty() && dropped.iter().all(|(t, _)| *t >= 15 * SEC));
    let laptop = sa(&w, 0);
    assert_eq!(laptop.local.ip(), ep("192.0.2.50:1").ip());
    let from_lte = delivered(&w, "gateway")
        .into_iter()
        .filter(|(t, src, _)| *t > 15 * SEC && *src == ep("192.0.2.50:4500"))
        .count();
    assert!(from_lte > 5, "{from_lte} packets from LTE");
}
