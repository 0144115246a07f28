//! The export forms on the examples: the JSON document parses back and
//! holds the run; every example's Mermaid chart keeps to the grammar
//! subset the renderer promises; every example's ASCII chart fits 72
//! columns with every combination of options.

use mobike_render::ascii::{self, AsciiOptions, WIDTH};
use mobike_render::{Chart, json, mermaid, metrics};
use mobike_sim::{Scenario, World};
use serde_json::Value;

fn examples() -> Vec<String> {
    let dir = format!("{}/../../examples", env!("CARGO_MANIFEST_DIR"));
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .filter_map(|e| {
            let p = e.unwrap().path();
            (p.extension()? == "toml").then(|| p.file_stem().unwrap().to_string_lossy().to_string())
        })
        .collect();
    names.sort();
    assert!(names.len() >= 10, "{names:?}");
    names
}

fn run(name: &str) -> (Scenario, World, Chart) {
    let path = format!("{}/../../examples/{name}.toml", env!("CARGO_MANIFEST_DIR"));
    let s = Scenario::from_toml(&std::fs::read_to_string(path).unwrap()).unwrap();
    let mut w = World::new(&s);
    w.run_until(s.until.micros());
    let chart = Chart::build(&s, w.trace());
    (s, w, chart)
}

fn all_options() -> Vec<AsciiOptions> {
    let mut v = Vec::new();
    for bits in 0..8 {
        v.push(AsciiOptions {
            keepalives: bits & 1 != 0,
            esp: bits & 2 != 0,
            notes: bits & 4 != 0,
            ..Default::default()
        });
    }
    v
}

#[test]
fn every_example_fits_72_columns_with_every_option() {
    for name in examples() {
        let (_, _, chart) = run(&name);
        for opts in all_options() {
            let text = ascii::render(&chart, &opts);
            for l in text.lines() {
                assert!(l.chars().count() <= WIDTH, "{name} {opts:?}: {l:?}");
            }
            assert!(text.is_ascii(), "{name} {opts:?}: ASCII only");
        }
    }
}

/// The text after `: ` on a Mermaid line: nothing Mermaid's grammar reads
/// as syntax, only `<br/>` and `#NN;` entity codes.
fn check_text(name: &str, line: &str, text: &str) {
    let text = text.replace("<br/>", "\n");
    let mut rest = text.as_str();
    while let Some(i) = rest.find('#') {
        let after = &rest[i + 1..];
        let digits = after.chars().take_while(char::is_ascii_digit).count();
        assert!(
            digits > 0 && after[digits..].starts_with(';'),
            "{name}: a bare # in {line:?}"
        );
        rest = &after[digits + 1..];
    }
    let bare: String = {
        let mut s = String::new();
        let mut rest = text.as_str();
        while let Some(i) = rest.find('#') {
            s.push_str(&rest[..i]);
            let end = rest[i..].find(';').unwrap();
            rest = &rest[i + end + 1..];
        }
        s.push_str(rest);
        s
    };
    for c in [';', '{', '}', '<', '>', '%'] {
        assert!(!bare.contains(c), "{name}: raw {c:?} in {line:?}");
    }
    assert!(!text.trim().is_empty(), "{name}: empty text in {line:?}");
}

#[test]
fn every_example_is_a_well_formed_mermaid_sequence_diagram() {
    for name in examples() {
        let (s, _, chart) = run(&name);
        for opts in [
            AsciiOptions::default(),
            AsciiOptions {
                esp: true,
                ..Default::default()
            },
        ] {
            let text = mermaid::render(&chart, &s.title, &opts);
            let mut lines = text.lines();
            assert_eq!(lines.next(), Some("---"));
            let title = lines.next().unwrap();
            assert!(title.starts_with("title: \""), "{title}");
            assert_eq!(lines.next(), Some("---"));
            assert_eq!(lines.next(), Some("sequenceDiagram"));
            let mut ids: Vec<String> = Vec::new();
            let (mut arrows, mut lost, mut notes) = (0, 0, 0);
            for line in lines {
                let body = line.strip_prefix("    ").expect("indented statement");
                if let Some(p) = body.strip_prefix("participant ") {
                    let (id, label) = p.split_once(" as ").unwrap();
                    assert!(id.chars().all(|c| c.is_ascii_alphanumeric() || c == '_'));
                    check_text(&name, line, label);
                    ids.push(id.to_string());
                    continue;
                }
                let (head, text) = body.split_once(": ").expect("statement with text");
                check_text(&name, line, text);
                if let Some(over) = head.strip_prefix("Note over ") {
                    notes += 1;
                    for id in over.split(',') {
                        assert!(ids.iter().any(|x| x == id), "{name}: {line}");
                    }
                    continue;
                }
                // from ARROW to, with ids declared above.
                let arrow = ["-->>", "->>", "--x", "-x"]
                    .into_iter()
                    .find_map(|a| head.split_once(a).map(|(f, t)| (a, f, t)));
                let (arrow, from, to) = arrow.unwrap_or_else(|| panic!("{name}: {line}"));
                assert!(ids.iter().any(|x| x == from), "{name}: {line}");
                assert!(ids.iter().any(|x| x == to), "{name}: {line}");
                arrows += 1;
                if arrow.ends_with('x') {
                    lost += 1;
                    assert!(text.contains("lost: "), "{name}: {line}");
                }
            }
            assert_eq!(ids.len(), chart.lanes.len(), "{name}");
            // Every message the options show is an arrow or a note.
            let shown = chart
                .messages()
                .filter(|m| opts.esp || !matches!(m.what, mobike_render::chart::What::Esp { .. }))
                .filter(|m| m.to.is_some())
                .count();
            assert_eq!(arrows, shown, "{name}");
            let lost_shown = chart
                .messages()
                .filter(|m| opts.esp || !matches!(m.what, mobike_render::chart::What::Esp { .. }))
                .filter(|m| m.to.is_some() && m.lost.is_some())
                .count();
            assert_eq!(lost, lost_shown, "{name}");
            assert!(notes > 0, "{name}");
        }
    }
}

#[test]
fn wifi_to_lte_as_json() {
    let (s, w, chart) = run("wifi-to-lte");
    let m = metrics::compute(w.trace());
    let text = json::render(&s, json::host_states(&w), &chart, &m, s.until.micros());
    let v: Value = serde_json::from_str(&text).unwrap();
    assert_eq!(v["format"], "mobike-playground-run");
    assert_eq!(v["version"], 1);
    assert_eq!(v["scenario"]["title"], s.title.as_str());
    assert_eq!(v["scenario"]["seed"], 7);
    assert_eq!(v["scenario"]["until"], 25_000_000);
    assert_eq!(v["lanes"][0]["node"], "laptop");
    assert_eq!(v["lanes"][1]["role"], "responder");

    let rows = v["rows"].as_array().unwrap();
    assert_eq!(
        rows.len(),
        chart.rows.len(),
        "every row, whatever the options"
    );
    let times: Vec<u64> = rows
        .iter()
        .map(|r| r["sent"].as_u64().or(r["time"].as_u64()).unwrap())
        .collect();
    assert!(times.windows(2).all(|w| w[0] <= w[1]), "in time order");

    // The move: UPDATE_SA_ADDRESSES from the LTE address, translated by the
    // carrier NAT, decrypted.
    let update = rows
        .iter()
        .find(|r| {
            r["row"] == "message"
                && r["items"]
                    .as_array()
                    .is_some_and(|i| i.iter().any(|x| x.as_str().unwrap().contains("UPDATE_SA")))
        })
        .expect("the UPDATE_SA_ADDRESSES request");
    assert_eq!(update["kind"], "ike");
    assert_eq!(update["exchange"], "INFORMATIONAL");
    assert_eq!(update["response"], false);
    assert_eq!(update["from_node"], "laptop");
    assert_eq!(update["to_node"], "gateway");
    assert_eq!(update["src"], "10.64.0.2:4500");
    assert_eq!(update["received_src"], "198.51.100.1:4500");
    assert!(update["sent"].as_u64().unwrap() > 12_000_000);
    assert!(update["arrived"].as_u64().unwrap() > update["sent"].as_u64().unwrap());
    let decrypted: Vec<&str> = update["decrypted"]
        .as_array()
        .unwrap()
        .iter()
        .map(|x| x.as_str().unwrap())
        .collect();
    assert!(
        decrypted[0].starts_with("N(UPDATE_SA_ADDRESSES)"),
        "{decrypted:?}"
    );
    assert!(decrypted.iter().any(|d| d.starts_with("N(COOKIE2)")));
    assert!(
        update["notation"]
            .as_str()
            .unwrap()
            .starts_with("HDR, SK {")
    );
    assert_eq!(update["lost"], Value::Null);

    // The liveness check on the broken Wi-Fi, lost with its reason.
    let lost: Vec<&Value> = rows
        .iter()
        .filter(|r| r["kind"] == "ike" && !r["lost"].is_null())
        .collect();
    assert_eq!(lost.len(), 3);
    assert!(
        lost.iter()
            .all(|r| r["lost"].as_str().unwrap().contains("Wi-Fi") && r["arrived"].is_null())
    );
    assert!(lost.iter().any(|r| r["retransmission"] == true));

    // ESP rows with the ping inside.
    assert!(rows.iter().any(|r| {
        r["kind"] == "esp"
            && r["esp_inner"]
                .as_str()
                .is_some_and(|s| s.starts_with("ICMP echo request"))
            && r["udp_encapsulated"] == true
    }));

    // The break, and protocol notes with their rule.
    let breaks: Vec<&Value> = rows.iter().filter(|r| r["row"] == "intervention").collect();
    assert_eq!(breaks.len(), 1);
    assert_eq!(breaks[0]["time"], 12_000_000);
    assert_eq!(breaks[0]["text"], "break link Wi-Fi");
    assert!(rows.iter().any(|r| r["row"] == "note"
        && r["node"] == "gateway"
        && r["rule"].as_str().is_some_and(|x| x.contains("3.7"))));

    // The figures and the SAs at the end.
    assert_eq!(v["metrics"]["clients"][0]["node"], "laptop");
    assert_eq!(v["metrics"]["triggers"][0]["time"], 12_000_000);
    assert!(v["metrics"]["clients"][0]["longest_gap"].as_u64().unwrap() >= 4_000_000);
    let laptop = &v["hosts"][0];
    assert_eq!(laptop["id"], "laptop");
    let sa = &laptop["sas"][0];
    assert_eq!(sa["state"], "established");
    assert_eq!(sa["local"], "10.64.0.2:4500");
    assert_eq!(sa["udp_encap"], true);
    assert_eq!(sa["local_behind_nat"], true);
    assert_eq!(v["hosts"][1]["sas"][0]["ipsec_remote"], "198.51.100.1:4500");
}
