//! The conformance checklist's text (`rules`) and why a message was sent
//! (`why`), through the crate's public API, on a real run of the default
//! scenario.

use mobike_render::Chart;
use mobike_render::chart::{MessageRow, What};
use mobike_render::inspect::message_detail;
use mobike_render::rules::{all, cited, lookup, rule_lines};
use mobike_render::why::{Reason, why_sent};
use mobike_sim::{Scenario, World};

fn run(name: &str, secs: u64) -> (Chart, World) {
    let path = format!("{}/../../examples/{name}.toml", env!("CARGO_MANIFEST_DIR"));
    let s = Scenario::from_toml(&std::fs::read_to_string(path).unwrap()).unwrap();
    let mut w = World::new(&s);
    w.run_until(secs * mobike_protocol::SEC);
    (Chart::build(&s, w.trace()), w)
}

fn ids(why: &[Reason]) -> Vec<&str> {
    why.iter()
        .flat_map(|r| r.rules.iter().map(|l| l.id.as_str()))
        .collect()
}

#[test]
fn lookups_give_the_reference_text_and_unknown_ids_none() {
    let b = lookup("B-3.5-7").expect("B-3.5-7 is in the checklist");
    assert_eq!(
        b.requirement,
        "UPDATE_SA_ADDRESSES notify carries no data; PID/SPI size 0"
    );
    assert_eq!(
        (b.keyword, b.source().as_str()),
        (None, "RFC 4555 §3.5, §4.2.4")
    );
    let m = lookup("M-3.6-2").unwrap();
    assert_eq!(m.keyword, Some("MUST"));
    assert_eq!(m.rfc(), "RFC 4555");
    assert_eq!(lookup("I-2.23-6").unwrap().rfc(), "RFC 7296");
    // Unknown or malformed ids are absent, not a panic.
    for id in ["M-3.5-99", "X-1-1", "", "B-3.5"] {
        assert_eq!(lookup(id), None, "{id:?}");
    }
    let lines = rule_lines("RFC 4555 §3.5 (B-3.5-1, M-3.5-99)");
    assert_eq!(lines.len(), 2);
    assert!(lines[0].known && lines[0].requirement.starts_with("Initiator updates IKE_SA"));
    assert!(!lines[1].known);
    assert_eq!(lines[1].requirement, "not in the conformance checklist");
    assert!(cited("no ids here").is_empty());
}

/// The table holds the same ids, with the same keywords, as the checklist
/// the conformance tests are indexed by (docs/conformance.md).
#[test]
fn the_table_matches_the_conformance_index() {
    let path = format!("{}/../../docs/conformance.md", env!("CARGO_MANIFEST_DIR"));
    let doc = std::fs::read_to_string(path).unwrap();
    let mut seen = Vec::new();
    for line in doc.lines() {
        let cells: Vec<&str> = line.split('|').map(str::trim).collect();
        let [_, id, keyword, ..] = cells[..] else {
            continue;
        };
        if cited(id).first().map(|c| c.id) != Some(id) {
            continue;
        }
        let rule = lookup(id).unwrap_or_else(|| panic!("{id} missing from the table"));
        let keyword = (keyword != "—" && keyword != "-").then_some(keyword);
        assert_eq!(
            rule.keyword.map(|k| k.replace(' ', "")),
            keyword.map(|k| k.replace(' ', "")),
            "{id}"
        );
        seen.push(id.to_string());
    }
    assert_eq!(seen.len(), all().len(), "every id once, both ways");
}

fn the(chart: &Chart, title: &str, notation: &str) -> MessageRow {
    chart
        .messages()
        .find(|m| m.title() == title && m.notation().contains(notation))
        .unwrap_or_else(|| panic!("{title} with {notation}"))
        .clone()
}

/// RFC 4555 §3.5: the laptop's UPDATE_SA_ADDRESSES after the Wi-Fi link
/// breaks, and the gateway's answer.
#[test]
fn why_the_update_and_its_response_were_sent() {
    let (chart, world) = run("wifi-to-lte", 30);
    let update = the(&chart, "INFORMATIONAL request #5", "UPDATE_SA_ADDRESSES");
    let why = why_sent(world.trace(), &chart, &update);
    let got = ids(&why);
    for id in ["B-3.5-1", "B-3.5-2", "B-3.5-5", "B-3.5-7", "M-3.7-4"] {
        assert!(got.contains(&id), "{id} in {got:?}");
    }
    assert!(why.iter().all(|r| r.rules.iter().all(|l| l.known)));
    assert!(
        why.iter().any(|r| r.noted_by.as_deref() == Some("Laptop")),
        "the laptop's own decision is listed: {why:#?}"
    );
    let response = the(&chart, "INFORMATIONAL response #5", "COOKIE2");
    let got = why_sent(world.trace(), &chart, &response);
    let got = ids(&got);
    for id in ["I-2.11-2", "M-3.7-5", "B-3.5-10"] {
        assert!(got.contains(&id), "{id} in {got:?}");
    }
    // The inspector's view carries the same reasons and a byte view whose
    // first row is the non-ESP marker (RFC 3948 §2.2, U-2.2-1).
    let d = message_detail(world.trace(), &chart, &update);
    assert_eq!(d.why, why);
    assert_eq!(d.bytes.wire.rows[0].path, "Non-ESP Marker");
    assert_eq!(d.bytes.wire.rows[1].offset, "0004");
    assert!(d.bytes.plain.is_some(), "SK opened with SK_ei");
}

#[test]
fn every_message_of_a_run_has_a_reason_with_known_rules() {
    let (chart, world) = run("wifi-to-lte", 30);
    let mut n = 0;
    for m in chart.messages() {
        let why = why_sent(world.trace(), &chart, m);
        if !matches!(m.what, What::Other) {
            assert!(!why.is_empty(), "{}", m.title());
        }
        for l in why.iter().flat_map(|r| &r.rules) {
            assert!(l.known, "{} for {}", l.id, m.title());
            n += 1;
        }
    }
    assert!(n > 50, "{n} rules cited");
}
