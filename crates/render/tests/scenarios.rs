//! Scenario tests: run a file from examples/, compare its ASCII chart with a
//! reviewed golden file, and check that every message on the wire parses and
//! decrypts. Set UPDATE_GOLDEN=1 to rewrite the golden files after a
//! reviewed change.

use mobike_render::ascii::{self, AsciiOptions, WIDTH};
use mobike_render::chart::What;
use mobike_render::{Chart, svg};
use mobike_sim::{Scenario, World};
use mobike_wire::message::{Message, decrypt};
use mobike_wire::payload::Payload;

fn run(name: &str) -> (Scenario, World) {
    let path = format!("{}/../../examples/{name}.toml", env!("CARGO_MANIFEST_DIR"));
    let s = Scenario::from_toml(&std::fs::read_to_string(path).unwrap()).unwrap();
    let mut w = World::new(&s);
    w.run_until(s.until.micros());
    (s, w)
}

fn golden(name: &str, actual: &str) {
    let path = format!("{}/tests/golden/{name}.txt", env!("CARGO_MANIFEST_DIR"));
    if std::env::var_os("UPDATE_GOLDEN").is_some() {
        std::fs::write(&path, actual).unwrap();
    }
    let expected = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(
        expected == actual,
        "chart differs from {path}; review and rerun with UPDATE_GOLDEN=1\n--- actual ---\n{actual}"
    );
}

#[test]
fn every_example_chart_matches_its_golden_file() {
    let dir = format!("{}/../../examples", env!("CARGO_MANIFEST_DIR"));
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .filter_map(|e| {
            let p = e.unwrap().path();
            (p.extension()? == "toml").then(|| p.file_stem().unwrap().to_string_lossy().to_string())
        })
        .collect();
    names.sort();
    assert!(names.len() >= 6, "{names:?}");
    for name in names {
        let (s, w) = run(&name);
        let chart = Chart::build(&s, w.trace());
        let text = ascii::render(&chart, &AsciiOptions::default());
        assert!(
            text.lines().all(|l| l.chars().count() <= WIDTH),
            "{name}: RFC artwork width"
        );
        assert!(text.is_ascii(), "{name}: ASCII only");
        golden(&name, &text);
    }
}

#[test]
fn every_message_parses_decrypts_and_re_emits_identically() {
    let (s, w) = run("wifi-to-lte");
    let chart = Chart::build(&s, w.trace());
    let keys = w
        .trace()
        .iter()
        .find_map(|e| match e.kind.protocol() {
            Some((_, mobike_protocol::Event::KeysDerived { keys, .. })) => Some(keys.clone()),
            _ => None,
        })
        .unwrap();
    let mut protected = 0;
    for m in chart.messages() {
        let What::Ike { error, inner, .. } = &m.what else {
            continue;
        };
        assert_eq!(error, &None, "packet {} did not open", m.packet);
        let bytes = w.trace().sent_payload(m.packet).unwrap().to_vec();
        let ike = strip_marker(&bytes, m.src.port());
        let msg = Message::parse(ike).unwrap();
        if let Some(inner) = inner {
            // Re-encrypt the parsed inner payloads with the same key and IV:
            // the result must be the very octets that were sent.
            protected += 1;
            let key = if msg.header.flags.initiator() {
                &keys.sk_ei
            } else {
                &keys.sk_er
            };
            assert_eq!(decrypt(ike, key).unwrap()[..], inner[..]);
            let Payload::Sk { body, .. } = msg.payloads.last().unwrap() else {
                panic!()
            };
            let iv: [u8; 8] = body[..8].try_into().unwrap();
            let again = Message::emit_encrypted(msg.header, inner, key, iv).unwrap();
            assert_eq!(again, ike, "packet {}", m.packet);
        } else {
            let again = Message::emit_plain(msg.header, &msg.payloads);
            assert_eq!(again, ike, "packet {}", m.packet);
        }
    }
    assert!(protected >= 10, "only {protected} protected messages");
}

#[test]
fn svg_chart_is_well_formed_enough() {
    let (s, w) = run("wifi-to-lte");
    let chart = Chart::build(&s, w.trace());
    let text = svg::render(&chart, &svg::SvgOptions::default());
    assert!(text.starts_with("<?xml"));
    let drawn = chart
        .messages()
        .filter(|m| !matches!(m.what, What::Esp { .. }))
        .count();
    assert_eq!(
        text.matches("<g class=\"msg").count(),
        drawn,
        "ESP is hidden by default"
    );
    let with_esp = svg::render(
        &chart,
        &svg::SvgOptions {
            show_esp: true,
            ..Default::default()
        },
    );
    assert_eq!(
        with_esp.matches("<g class=\"msg").count(),
        chart.messages().count()
    );
    assert!(
        with_esp.contains("ESP: ICMP echo request 10.99.0.2 -&gt; 10.1.0.1"),
        "ESP opened with the trace's Child SA keys"
    );
    assert_eq!(text.matches("<g ").count(), text.matches("</g>").count());
    assert!(text.contains("UPDATE_SA_ADDRESSES"));
    assert!(text.contains("class=\"msg lost"));
}

fn strip_marker(bytes: &[u8], sport: u16) -> &[u8] {
    match mobike_wire::udp::classify(bytes, sport) {
        mobike_wire::udp::UdpPayload::Ike(b) => b,
        other => panic!("not IKE: {other:?}"),
    }
}

#[test]
fn every_example_meets_its_expectations() {
    let dir = format!("{}/../../examples", env!("CARGO_MANIFEST_DIR"));
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_none_or(|x| x != "toml") {
            continue;
        }
        let s = Scenario::from_toml(&std::fs::read_to_string(&path).unwrap()).unwrap();
        assert!(
            s.expectations.len() >= 3,
            "{}: too few expectations",
            path.display()
        );
        for o in mobike_render::check::check(&s) {
            assert_eq!(
                o.failure,
                None,
                "{} #{} {}",
                path.display(),
                o.index,
                o.what
            );
        }
    }
}

#[test]
fn a_wrong_expectation_fails_and_says_what_was_found() {
    let path = format!(
        "{}/../../examples/wifi-to-lte.toml",
        env!("CARGO_MANIFEST_DIR")
    );
    let text = std::fs::read_to_string(path).unwrap()
        + "\n[[expect]]\nhost = \"laptop\"\nike_local = \"192.0.2.10\"\n\n[[expect]]\nmessage = \"N(REDIRECT)\"\n\n[[expect]]\nhost = \"laptop\"\nmessage = \"N(COOKIE2)\"\nseen = false\n";
    let s = Scenario::from_toml(&text).unwrap();
    let outcomes = mobike_render::check::check(&s);
    // Expectations first, then one outcome per narration step.
    let n = s.expectations.len();
    assert_eq!(
        outcomes[n - 3].failure.as_deref(),
        Some("IKE SA local address is 10.64.0.2:4500")
    );
    assert!(
        outcomes[n - 2]
            .failure
            .as_deref()
            .unwrap()
            .contains("no message with N(REDIRECT)")
    );
    assert!(
        outcomes[n - 1]
            .failure
            .as_deref()
            .unwrap()
            .contains("was sent at 18.254s")
    );
    assert!(outcomes[..n - 3].iter().all(|o| o.failure.is_none()));
    assert!(
        outcomes[n..].iter().all(|o| o.failure.is_none()),
        "narration shown"
    );
}
