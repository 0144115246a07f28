//! IKE SAs without a Child SA: childless by agreement (RFC 6023), and a
//! Child SA refused in IKE_AUTH while the IKE SA stands (RFC 7296 §1.2,
//! §2.21.2). Neither side then reports a Child SA or IPsec path that does
//! not exist.

mod common;

use common::*;
use mobike_protocol::{Event, Note, Role, Settings};
use mobike_wire::payload::Payload;
use mobike_wire::registry::transform_id;
use mobike_wire::registry::{ExchangeType, NotifyType};

const I1: &str = "192.0.2.1";
const R1: &str = "203.0.113.1";
const AUTH: ExchangeType = ExchangeType::IKE_AUTH;
const INIT: ExchangeType = ExchangeType::IKE_SA_INIT;

fn childless() -> Settings {
    Settings {
        childless: true,
        ..settings()
    }
}

fn run(mut n: Net) -> Net {
    n.connect();
    n.run(mobike_protocol::SEC);
    n
}

/// The notes of kind NoChildSa each side wrote.
fn no_child_notes(n: &Net, role: Role) -> Vec<Option<NotifyType>> {
    n.events
        .iter()
        .filter(|(_, r, _)| *r == role)
        .filter_map(|(_, _, e)| match e {
            Event::Note { note, .. } => match **note {
                Note::NoChildSa { refused } => Some(refused),
                _ => None,
            },
            _ => None,
        })
        .collect()
}

fn child_events(n: &Net, role: Role) -> usize {
    n.events
        .iter()
        .filter(|(_, r, e)| {
            *r == role && matches!(e, Event::ChildSa { .. } | Event::IpsecPathChanged { .. })
        })
        .count()
}

fn established(n: &Net, role: Role) -> bool {
    n.events
        .iter()
        .any(|(_, r, e)| *r == role && matches!(e, Event::Established { .. }))
}

fn auth(n: &Net, from: Role) -> Msg {
    n.messages()
        .into_iter()
        .find(|m| m.exchange() == AUTH && m.from == Some(from))
        .expect("IKE_AUTH")
}

#[test]
fn childless_when_both_agree_no_sa_payloads_and_no_child_sa() {
    let mut n = run(Net::with(&[I1], &[R1], childless(), childless()));
    let init_resp = n
        .messages()
        .into_iter()
        .find(|m| m.exchange() == INIT && m.is_response())
        .unwrap();
    assert!(init_resp.has(NotifyType::CHILDLESS_IKEV2_SUPPORTED));
    for role in [Role::Initiator, Role::Responder] {
        let m = auth(&n, role);
        assert!(m.decrypted);
        assert!(
            !m.payloads
                .iter()
                .any(|p| matches!(p, Payload::Sa(_) | Payload::TsI(_) | Payload::TsR(_))),
            "{role:?}: {:?}",
            m.payloads
        );
        assert!(established(&n, role), "{role:?}");
        assert_eq!(child_events(&n, role), 0, "{role:?}");
        assert_eq!(no_child_notes(&n, role), vec![None], "{role:?}");
        let snap = &n.ep(role).snapshots()[0];
        assert_eq!((snap.ipsec_local, snap.ipsec_remote), (None, None));
    }
}

#[test]
fn childless_only_where_the_responder_announced_it() {
    // The responder does not say it takes childless IKE SAs: a Child SA
    // is asked for as usual.
    let n = run(Net::with(&[I1], &[R1], childless(), settings()));
    assert!(
        auth(&n, Role::Initiator)
            .payloads
            .iter()
            .any(|p| matches!(p, Payload::Sa(_)))
    );
    assert_eq!(child_events(&n, Role::Initiator), 2, "ChildSa and its path");
    assert!(no_child_notes(&n, Role::Initiator).is_empty());
}

#[test]
fn a_child_sa_the_responder_cannot_make_is_refused_and_the_ike_sa_stands() {
    let mut n = Net::new(&[I1], &[R1]);
    // The initiator's ESP proposal asks for AES-CBC, which the responder
    // does not do.
    n.rewrite(Match::request(AUTH).from(Role::Initiator), |d, keys| {
        d.reseal(keys, [0x11; 8], |inner| {
            for p in inner.iter_mut() {
                if let Payload::Sa(props) = p {
                    for t in &mut props[0].transforms {
                        if t.id == transform_id::ENCR_AES_GCM_16 {
                            t.id = 12; // ENCR_AES_CBC
                        }
                    }
                }
            }
        })
    });
    let n = run(n);
    let answer = auth(&n, Role::Responder);
    assert!(
        answer.has(NotifyType::NO_PROPOSAL_CHOSEN),
        "{:?}",
        answer.notifies()
    );
    assert!(!answer.payloads.iter().any(|p| matches!(p, Payload::Sa(_))));
    for role in [Role::Initiator, Role::Responder] {
        assert!(established(&n, role), "{role:?}");
        assert_eq!(child_events(&n, role), 0, "{role:?}");
        assert_eq!(
            no_child_notes(&n, role),
            vec![Some(NotifyType::NO_PROPOSAL_CHOSEN)],
            "{role:?}"
        );
    }
}

#[test]
fn ts_unacceptable_in_ike_auth_keeps_the_ike_sa_without_a_child_sa() {
    let mut n = Net::new(&[I1], &[R1]);
    n.rewrite(Match::response(AUTH).from(Role::Responder), |d, keys| {
        d.reseal(keys, [0x22; 8], |inner| {
            inner.retain(|p| !matches!(p, Payload::Sa(_) | Payload::TsI(_) | Payload::TsR(_)));
            inner.push(Payload::Notify(mobike_wire::payload::Notify::new(
                NotifyType::TS_UNACCEPTABLE,
                vec![],
            )));
        })
    });
    let n = run(n);
    assert!(established(&n, Role::Initiator));
    assert_eq!(child_events(&n, Role::Initiator), 0);
    assert_eq!(
        no_child_notes(&n, Role::Initiator),
        vec![Some(NotifyType::TS_UNACCEPTABLE)]
    );
}
