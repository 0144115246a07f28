//! Share links: the URL hash that replays a run exactly.
//!
//! ```text
//! #v=1&ex=wifi-to-lte&seed=7&t=12500000&run=<base64url(deflate(json))>
//! #v=1&scn=<base64url(deflate(scenario text))>&seed=7&t=…&run=…
//! ```
//!
//! `ex` names a built-in example; `scn` carries the whole text of any other
//! scenario. `t` is the moment shown, in microseconds of virtual time. `run`
//! is `{"log": [[time, intervention], …], "layout": {node: [x, y], …}}`: the
//! user's interventions (serde JSON of [`Intervention`]) and the nodes they
//! moved. Everything in a hash is checked; a bad one gives an error that
//! names what is wrong, never a panic.

use crate::compare::Against;
use crate::session::{EXAMPLES, Session, Shown, Source, TOPO_H, TOPO_W};
use base64::Engine;
use base64::engine::{DecodePaddingMode, GeneralPurpose, GeneralPurposeConfig};
use mobike_protocol::{SEC, Time};
use mobike_sim::{Intervention, InterventionCheck, Scenario};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// The longest moment a link may ask for (a hostile link must not make the
/// page run for minutes).
pub const MAX_TIME: Time = 3600 * SEC;
/// The most interventions a link may carry.
pub const MAX_LOG: usize = 10_000;
/// The most octets a compressed field may inflate to.
const MAX_INFLATED: usize = 1 << 20;

const B64: GeneralPurpose = GeneralPurpose::new(
    &base64::alphabet::URL_SAFE,
    GeneralPurposeConfig::new()
        .with_encode_padding(false)
        .with_decode_padding_mode(DecodePaddingMode::Indifferent),
);

/// A run as a share link carries it.
#[derive(Clone, Debug, PartialEq)]
pub struct Shared {
    pub scenario: Scenario,
    pub source: Source,
    pub time: Time,
    pub log: Vec<(Time, Intervention)>,
    pub layout: BTreeMap<String, [f64; 2]>,
    /// Compare mode's run B (`cmp=`), checked against the scenario when
    /// the page opens it.
    pub compare: Option<Against>,
}

impl Shared {
    /// The session this link describes, at its moment.
    pub fn into_session(self) -> Session {
        let (mut s, at) = self.into_parts();
        s.seek(at);
        s
    }

    /// The session this link describes, not yet run, and its moment.
    pub fn into_parts(self) -> (Session, Time) {
        let mut s = Session::replay(self.scenario, self.source, self.log);
        for (k, p) in self.layout {
            s.move_node(&k, p);
        }
        (s, self.time)
    }
}

#[derive(Serialize, Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct RunData<L> {
    #[serde(default)]
    log: Vec<L>,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    layout: BTreeMap<String, [f64; 2]>,
}

fn pack(bytes: &[u8]) -> String {
    B64.encode(miniz_oxide::deflate::compress_to_vec(bytes, 9))
}

fn unpack(field: &str, text: &str) -> Result<Vec<u8>, String> {
    let raw = B64
        .decode(text)
        .map_err(|e| format!("{field} is not valid base64url ({e})"))?;
    miniz_oxide::inflate::decompress_to_vec_with_limit(&raw, MAX_INFLATED).map_err(|e| {
        match e.status {
            miniz_oxide::inflate::TINFLStatus::HasMoreOutput => {
                format!("{field} is larger than {} KiB", MAX_INFLATED >> 10)
            }
            _ => format!("{field} is not valid compressed data"),
        }
    })
}

/// The hash (without '#') that replays this session at its current moment.
pub fn encode(s: &impl Shown) -> String {
    let mut out = String::from("v=1");
    match &s.source {
        Source::Example(name) => {
            out.push_str("&ex=");
            out.push_str(name);
        }
        Source::File(text) => {
            out.push_str("&scn=");
            out.push_str(&pack(text.as_bytes()));
        }
        // The page never asks (a capture has no link, see
        // `Model::refused_by_recording`); its parties' scenario, should it.
        Source::Capture(_) => {
            let text = s.save_toml().unwrap_or_default();
            out.push_str("&scn=");
            out.push_str(&pack(text.as_bytes()));
        }
    }
    out.push_str(&format!("&seed={}&t={}", s.scenario.seed, s.now()));
    let run = RunData {
        log: s
            .log()
            .iter()
            .map(|(t, a)| serde_json::json!([t, action_to_json(a)]))
            .collect(),
        layout: s.moved_nodes(),
    };
    if !run.log.is_empty() || !run.layout.is_empty() {
        // Serializing plain data into a string cannot fail.
        if let Ok(json) = serde_json::to_string(&run) {
            out.push_str("&run=");
            out.push_str(&pack(json.as_bytes()));
        }
    }
    out
}

/// Reads a share link's hash (with or without the '#'). `Ok(None)`: the
/// hash is not a share link at all (empty).
pub fn decode(hash: &str) -> Result<Option<Shared>, String> {
    decode_inner(hash).map_err(|e| format!("share link: {e}"))
}

fn decode_inner(hash: &str) -> Result<Option<Shared>, String> {
    let hash = hash.strip_prefix('#').unwrap_or(hash);
    if hash.is_empty() {
        return Ok(None);
    }
    let mut fields: BTreeMap<&str, &str> = BTreeMap::new();
    for part in hash.split('&').filter(|p| !p.is_empty()) {
        let (k, v) = part.split_once('=').unwrap_or((part, ""));
        if !matches!(k, "v" | "ex" | "scn" | "seed" | "t" | "run" | "cmp") {
            return Err(format!("unknown field {:?}", short(k)));
        }
        if fields.insert(k, v).is_some() {
            return Err(format!("field {k:?} appears twice"));
        }
    }
    match fields.get("v") {
        Some(&"1") => {}
        Some(v) => {
            return Err(format!(
                "version {:?} is not supported (this page reads 1)",
                short(v)
            ));
        }
        None => return Err("no version (v=1)".into()),
    }
    let (source, text) = match (fields.get("ex"), fields.get("scn")) {
        (Some(name), None) => {
            let Some((name, text)) = EXAMPLES.iter().find(|(n, _)| n == name) else {
                return Err(format!("unknown example {:?}", short(name)));
            };
            (Source::Example(name.to_string()), text.to_string())
        }
        (None, Some(packed)) => {
            let bytes = unpack("the scenario (scn)", packed)?;
            let text = String::from_utf8(bytes)
                .map_err(|_| "the scenario (scn) is not UTF-8 text".to_string())?;
            (Source::File(text.clone()), text)
        }
        (Some(_), Some(_)) => return Err("both ex and scn given; a link has one scenario".into()),
        (None, None) => return Err("no scenario (ex=<example> or scn=<scenario>)".into()),
    };
    let mut scenario = Scenario::from_toml(&text).map_err(|e| format!("scenario: {e}"))?;
    if let Some(seed) = fields.get("seed") {
        scenario.seed = seed
            .parse()
            .map_err(|_| format!("seed {:?} is not a number", short(seed)))?;
    }
    let time = match fields.get("t") {
        Some(t) => t
            .parse::<Time>()
            .map_err(|_| format!("time t={:?} is not a number of microseconds", short(t)))?,
        None => 0,
    };
    if time > MAX_TIME {
        return Err(format!(
            "time {} s is beyond the {} s a link may ask for",
            time / SEC,
            MAX_TIME / SEC
        ));
    }
    let mut log = Vec::new();
    let mut layout = BTreeMap::new();
    // The user's interventions are checked as the scenario's own events
    // are, among them at their times: an address the timeline adds before
    // is one they may remove.
    let mut check = InterventionCheck::with_timeline(&scenario);
    if let Some(packed) = fields.get("run") {
        let bytes = unpack("the run data (run)", packed)?;
        let run: RunData<serde_json::Value> =
            serde_json::from_slice(&bytes).map_err(|e| format!("run data: {e}"))?;
        if run.log.len() > MAX_LOG {
            return Err(format!("more than {MAX_LOG} interventions"));
        }
        let mut last = 0;
        for (i, v) in run.log.into_iter().enumerate() {
            let n = i + 1;
            let (at, action): (Time, serde_json::Value) =
                serde_json::from_value(v).map_err(|e| format!("intervention {n}: {e}"))?;
            let action = action_from_json(action).map_err(|e| format!("intervention {n}: {e}"))?;
            if at < last {
                return Err(format!(
                    "intervention {n}: its time comes before the one before it"
                ));
            }
            if at > MAX_TIME {
                return Err(format!("intervention {n}: time {} s is too late", at / SEC));
            }
            check
                .check_at(at, &action)
                .map_err(|e| format!("intervention {n}: {e}"))?;
            last = at;
            log.push((at, action));
        }
        let known = crate::session::Stage::new(scenario.clone(), source.clone()).layout;
        for (k, p) in run.layout {
            if !known.contains_key(&k) {
                return Err(format!("layout: unknown node {:?}", short(&k)));
            }
            layout.insert(k, [p[0].clamp(0.0, TOPO_W), p[1].clamp(0.0, TOPO_H)]);
        }
    }
    let compare = match fields.get("cmp") {
        Some(c) => Some(Against::parse(c).map_err(|e| format!("compare (cmp): {}", short(&e)))?),
        None => None,
    };
    Ok(Some(Shared {
        scenario,
        source,
        time,
        log,
        layout,
        compare,
    }))
}

/// An intervention as JSON: `{"do": "break_link", "link": "wifi"}`,
/// `{"do": "place_nat", "nat": "cgn", "link": "wifi"}`, … (the serde form
/// of [`Intervention`]).
pub fn action_to_json(a: &Intervention) -> serde_json::Value {
    serde_json::to_value(a).unwrap_or_default()
}

/// Reads what [`action_to_json`] wrote.
pub fn action_from_json(v: serde_json::Value) -> Result<Intervention, String> {
    serde_json::from_value(v).map_err(|e| e.to_string())
}

/// An intervention in words, for the timeline's marks (its `Display`:
/// "break link wifi").
pub fn describe(a: &Intervention) -> String {
    a.to_string()
}

/// At most 40 characters of something a link said, for an error message.
fn short(s: &str) -> String {
    s.chars().take(40).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::session::DEFAULT_SCENARIO;

    fn run() -> Session {
        let mut s = Session::from_toml(DEFAULT_SCENARIO).unwrap();
        s.advance(2 * SEC);
        s.toggle_link("wifi");
        s.advance(SEC);
        s.apply(Intervention::RebootNat { nat: "cgn".into() });
        s.apply(Intervention::PlaceNat {
            nat: "cgn".into(),
            link: Some("wifi".into()),
        });
        s.move_node("laptop", [100.0, 120.0]);
        s.advance(7 * SEC + 250_000);
        s
    }

    /// A hash with one intervention list, as a hostile page might write it.
    fn with_log(json: &str) -> String {
        format!(
            "#v=1&ex=wifi-to-lte&seed=1&t=5000000&run={}",
            pack(format!(r#"{{"log": {json}}}"#).as_bytes())
        )
    }

    #[test]
    fn a_link_replays_the_run_exactly() {
        let a = run();
        let hash = encode(&a);
        assert!(hash.starts_with("v=1&ex=wifi-to-lte&seed="), "{hash}");
        let shared = decode(&format!("#{hash}")).unwrap().unwrap();
        assert_eq!(shared.time, a.now());
        let b = shared.into_session();
        assert_eq!(b.now(), a.now());
        assert!(a.world.trace() == b.world.trace());
        assert_eq!(a.chart(), b.chart());
        assert_eq!(b.layout["laptop"], [100.0, 120.0]);
        assert_eq!(b.log(), a.log());
    }

    #[test]
    fn a_scenario_from_a_file_travels_in_the_link_with_its_seed() {
        let text = DEFAULT_SCENARIO.replace("Wi-Fi", "WLAN");
        let mut a = Session::from_toml(&text).unwrap();
        assert!(matches!(a.source, Source::File(_)));
        a.set_seed(99);
        a.advance(4 * SEC);
        let hash = encode(&a);
        assert!(
            hash.contains("&scn=") && hash.contains("&seed=99&"),
            "{hash}"
        );
        let b = decode(&hash).unwrap().unwrap().into_session();
        assert_eq!(b.source, Source::File(text));
        assert_eq!(b.scenario.seed, 99);
        assert!(a.world.trace() == b.world.trace());
    }

    #[test]
    fn interventions_as_json_round_trip() {
        for a in [
            Intervention::BreakLink {
                link: "wifi".into(),
            },
            Intervention::RestoreLink {
                link: "wifi".into(),
            },
            Intervention::RebootNat { nat: "cgn".into() },
            Intervention::PlaceNat {
                nat: "cgn".into(),
                link: None,
            },
            Intervention::Hint {
                host: "laptop".into(),
                kind: mobike_sim::HintKind::Icmp,
            },
        ] {
            let v = action_to_json(&a);
            assert_eq!(action_from_json(v).unwrap(), a);
        }
        assert_eq!(
            action_to_json(&Intervention::BreakLink {
                link: "wifi".into()
            })
            .to_string(),
            r#"{"do":"break_link","link":"wifi"}"#
        );
    }

    /// The same check and words as a scenario file's events get.
    #[test]
    fn interventions_are_checked_as_scenario_events_are() {
        // The link of the browser test (tests/e2e/share.test.mjs).
        let log = r#"[[1000000, {"do": "break_link", "link": "wifi"}], [2000000, {"do": "break_link", "link": "wlan"}]]"#;
        assert_eq!(
            decode(&with_log(log)).unwrap_err(),
            "share link: intervention 2: unknown link \"wlan\" (links: wifi, lte, uplink)"
        );
        let log = r#"[[1, {"do": "move_clients", "host": "laptop", "to": "192.0.2.1", "by": "mobike", "count": null, "from": null}]]"#;
        assert_eq!(
            decode(&with_log(log)).unwrap_err(),
            "share link: intervention 1: \"laptop\" is not a responder, so it has no clients to move"
        );
        let log = r#"[[1, {"do": "hint", "host": "laptop", "kind": "smoke"}]]"#;
        let e = decode(&with_log(log)).unwrap_err();
        assert!(
            e.starts_with("share link: intervention 1: unknown variant `smoke`"),
            "{e}"
        );
        assert_eq!(
            describe(&Intervention::RebootNat { nat: "cgn".into() }),
            "NAT cgn reboots"
        );
    }

    #[test]
    fn a_bad_link_names_what_is_wrong() {
        let cases = [
            ("#v=1&ex=nope", "share link: unknown example \"nope\""),
            ("#ex=wifi-to-lte", "share link: no version (v=1)"),
            (
                "#v=2&ex=wifi-to-lte",
                "share link: version \"2\" is not supported",
            ),
            ("#v=1", "share link: no scenario"),
            (
                "#v=1&ex=wifi-to-lte&seed=x",
                "share link: seed \"x\" is not a number",
            ),
            ("#v=1&ex=wifi-to-lte&t=-1", "share link: time t=\"-1\""),
            (
                "#v=1&ex=wifi-to-lte&t=99999999999999",
                "share link: time 99999999 s is beyond",
            ),
            (
                "#v=1&ex=wifi-to-lte&zz=1",
                "share link: unknown field \"zz\"",
            ),
            (
                "#v=1&ex=wifi-to-lte&run=!!!",
                "share link: the run data (run) is not valid base64url",
            ),
            (
                "#v=1&ex=wifi-to-lte&run=AAAA",
                "share link: the run data (run) is not valid compressed data",
            ),
            (
                "#v=1&scn=AAAA",
                "share link: the scenario (scn) is not valid compressed data",
            ),
            (
                &format!("#v=1&scn={}", pack(b"version = 1\ntitle = 3\n")),
                "share link: scenario: line 2, column 9",
            ),
            (
                &with_log(
                    r#"[[1, {"do": "break_link", "link": "wifi"}], [2, {"do": "restore_link", "link": "wifi"}], [3, {"do": "break_link", "link": "wlan"}]]"#,
                ),
                "share link: intervention 3: unknown link \"wlan\"",
            ),
            (
                &with_log(r#"[[1, {"do": "explode"}]]"#),
                "share link: intervention 1: unknown variant `explode`",
            ),
            (
                &with_log(
                    r#"[[5, {"do": "reboot_nat", "nat": "cgn"}], [4, {"do": "reboot_nat", "nat": "cgn"}]]"#,
                ),
                "share link: intervention 2: its time comes before",
            ),
            (
                &with_log(r#"[[1, {"do": "reboot_nat", "nat": "x"}]]"#),
                "share link: intervention 1: unknown NAT \"x\"",
            ),
            (
                &with_log(
                    r#"[[1, {"do": "set_interface", "host": "laptop", "interface": "eth9", "up": false}]]"#,
                ),
                "share link: intervention 1: host \"laptop\" has no interface \"eth9\"",
            ),
            (
                &with_log(r#"[["x", 1]]"#),
                "share link: intervention 1: invalid type",
            ),
            (
                &with_log(r#"{"a": 1}"#),
                "share link: run data: invalid type",
            ),
        ];
        for (hash, want) in cases {
            let e = decode(hash).expect_err(hash);
            assert!(e.starts_with(want), "{hash}\n  got:  {e}\n  want: {want}");
        }
        // A bomb: a megabyte of zeros compresses to little.
        let bomb = pack(&vec![b' '; 2 << 20]);
        let e = decode(&format!("#v=1&ex=wifi-to-lte&run={bomb}")).unwrap_err();
        assert!(e.contains("larger than 1024 KiB"), "{e}");
        assert_eq!(decode("").unwrap(), None);
        assert_eq!(decode("#").unwrap(), None);
    }
}
