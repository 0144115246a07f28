//! A scenario's expectations, checked against a run: state at a time,
//! messages seen or not, ping bounds (`mobike check` and the test suite).

use crate::chart::{Chart, What};
use crate::fmt_time;
use crate::metrics;
use mobike_sim::scenario::Expectation;
use mobike_sim::{Scenario, World};

/// The outcome of one expectation.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Outcome {
    /// 1-based position in the file.
    pub index: usize,
    pub what: String,
    /// `None` when it held; otherwise what was found instead.
    pub failure: Option<String>,
}

fn describe(e: &Expectation) -> String {
    if !e.what.is_empty() {
        return e.what.clone();
    }
    let mut parts = Vec::new();
    if let Some(h) = &e.host {
        parts.push(h.clone());
    }
    if let Some(m) = &e.message {
        parts.push(format!(
            "{} {m}",
            if e.seen == Some(false) {
                "never sends"
            } else {
                "sends"
            }
        ));
    }
    if let Some(s) = &e.state {
        parts.push(format!("state {}", serde_json_like(s)));
    }
    for (name, v) in [
        ("IKE local", e.ike_local),
        ("IKE remote", e.ike_remote),
        ("IPsec remote", e.ipsec_remote),
    ] {
        if let Some(a) = v {
            parts.push(format!("{name} {a}"));
        }
    }
    if let Some(b) = e.udp_encap {
        parts.push(format!("UDP encapsulation {b}"));
    }
    if let Some(b) = e.behind_nat {
        parts.push(format!("behind a NAT {b}"));
    }
    if let Some(n) = e.pings_lost_at_most {
        parts.push(format!("at most {n} pings lost"));
    }
    if let Some(n) = e.pings_answered_at_least {
        parts.push(format!("at least {n} pings answered"));
    }
    if let Some(t) = e.at {
        parts.push(format!("at {t}"));
    }
    parts.join(", ")
}

/// Whether a host id matches an expectation's `host`: an id, or a prefix
/// ending in `*` ("client-*" for every copy of a host with `count`).
fn host_matches(pattern: &str, id: &str) -> bool {
    match pattern.strip_suffix('*') {
        Some(prefix) => id.starts_with(prefix),
        None => id == pattern,
    }
}

fn check_state(world: &World, e: &Expectation, failures: &mut Vec<String>) {
    let Some(pattern) = &e.host else { return };
    let mut matched = 0usize;
    // For a pattern: each way of failing once, with the first hosts that
    // fail so and how many do (a cluster of thousands fails in one line,
    // not in one line per host).
    let mut groups: Vec<(String, Vec<String>)> = Vec::new();
    for h in world.hosts_where(|id| host_matches(pattern, id)) {
        matched += 1;
        let mut own = Vec::new();
        check_host(&h, e, &mut own);
        if !pattern.ends_with('*') {
            failures.extend(own);
            continue;
        }
        for f in own {
            let f = f
                .strip_prefix(&format!("{} ", h.id))
                .map_or(f.clone(), |rest| rest.to_string());
            match groups.iter_mut().find(|g| g.0 == f) {
                Some(g) => g.1.push(h.id.clone()),
                None => groups.push((f, vec![h.id.clone()])),
            }
        }
    }
    for (why, hosts) in groups {
        const SHOWN: usize = 3;
        let mut names = hosts[..hosts.len().min(SHOWN)].join(", ");
        if hosts.len() > SHOWN {
            names.push_str(&format!(" and {} more", hosts.len() - SHOWN));
        }
        failures.push(format!(
            "{names}: {why} ({} of {matched} hosts)",
            hosts.len()
        ));
    }
    if matched == 0 {
        failures.push(format!("no host {pattern}"));
    }
}

fn check_host(h: &mobike_sim::HostView, e: &Expectation, failures: &mut Vec<String>) {
    let host = &h.id;
    let Some(sa) = h.sas.last() else {
        if e.state.is_some() || e.ike_local.is_some() || e.ike_remote.is_some() {
            failures.push(format!("{host} has no IKE SA"));
        }
        return;
    };
    let mut want = |name: &str, ok: bool, got: String| {
        if !ok {
            failures.push(format!("{name} is {got}"));
        }
    };
    if let Some(s) = e.state {
        want("state", sa.state == s, serde_json_like(&sa.state));
    }
    if let Some(a) = e.ike_local {
        want(
            "IKE SA local address",
            sa.local.ip() == a,
            sa.local.to_string(),
        );
    }
    if let Some(a) = e.ike_remote {
        want(
            "IKE SA remote address",
            sa.remote.ip() == a,
            sa.remote.to_string(),
        );
    }
    if let Some(a) = e.ipsec_remote {
        let got = sa.ipsec_remote.map(|r| r.ip());
        want(
            "IPsec SA remote address",
            got == Some(a),
            sa.ipsec_remote.map_or("none".into(), |r| r.to_string()),
        );
    }
    if let Some(b) = e.udp_encap {
        want(
            "UDP encapsulation",
            sa.udp_encap == b,
            sa.udp_encap.to_string(),
        );
    }
    if let Some(b) = e.behind_nat {
        want(
            "behind a NAT",
            sa.local_behind_nat == b,
            sa.local_behind_nat.to_string(),
        );
    }
}

/// The state's name as written in scenario files ("established").
fn serde_json_like(state: &mobike_protocol::SaState) -> String {
    format!("{state:?}")
        .chars()
        .enumerate()
        .flat_map(|(i, c)| {
            let lower = c.to_ascii_lowercase();
            if c.is_ascii_uppercase() && i > 0 {
                vec!['_', lower]
            } else {
                vec![lower]
            }
        })
        .collect()
}

fn check_message(scenario: &Scenario, chart: &Chart, e: &Expectation, failures: &mut Vec<String>) {
    let Some(text) = &e.message else { return };
    let lanes: Option<Vec<usize>> = e.host.as_ref().map(|h| {
        scenario
            .hosts
            .iter()
            .enumerate()
            .filter(|(_, x)| host_matches(h, &x.id))
            .map(|(i, _)| i)
            .collect()
    });
    let after = e.after.map_or(0, |d| d.micros());
    let before = e.before.map_or(u64::MAX, |d| d.micros());
    let found = chart.messages().find(|m| {
        matches!(m.what, What::Ike { .. })
            && lanes.as_ref().is_none_or(|l| l.contains(&m.from))
            && m.sent >= after
            && m.sent <= before
            && m.notation().contains(text.as_str())
    });
    match (found, e.seen != Some(false)) {
        (None, true) => failures.push(format!("no message with {text} was sent in that window")),
        (Some(m), false) => {
            failures.push(format!("{} was sent at {}", m.title(), fmt_time(m.sent)))
        }
        _ => {}
    }
}

/// Runs the scenario and checks every expectation.
pub fn check(scenario: &Scenario) -> Vec<Outcome> {
    let end = scenario.until.micros();
    let mut order: Vec<usize> = (0..scenario.expectations.len()).collect();
    order.sort_by_key(|&i| scenario.expectations[i].at.map_or(end, |d| d.micros()));
    let mut world = World::new(scenario);
    let mut failures: Vec<Vec<String>> = vec![Vec::new(); scenario.expectations.len()];
    for &i in &order {
        let e = &scenario.expectations[i];
        let at = e.at.map_or(end, |d| d.micros());
        world.run_until(at.max(world.now()));
        check_state(&world, e, &mut failures[i]);
    }
    world.run_until(end.max(world.now()));
    // The chart (every message decrypted) and the figures are built only
    // when an expectation or a narration step asks for them: a large
    // cluster's state checks then cost the run alone.
    let chart = (!scenario.steps.is_empty()
        || scenario.expectations.iter().any(|e| e.message.is_some()))
    .then(|| Chart::build(scenario, world.trace()));
    let m = scenario
        .expectations
        .iter()
        .any(|e| e.pings_lost_at_most.is_some() || e.pings_answered_at_least.is_some())
        .then(|| metrics::compute(world.trace()));
    for (i, e) in scenario.expectations.iter().enumerate() {
        if let Some(chart) = &chart {
            check_message(scenario, chart, e, &mut failures[i]);
        }
        if let (Some(max), Some(m)) = (e.pings_lost_at_most, &m)
            && m.pings_lost > max
        {
            failures[i].push(format!("{} pings lost (at most {max})", m.pings_lost));
        }
        if let (Some(min), Some(m)) = (e.pings_answered_at_least, &m)
            && m.pings_answered < min
        {
            failures[i].push(format!(
                "{} pings answered (at least {min})",
                m.pings_answered
            ));
        }
    }
    let mut out: Vec<Outcome> = scenario
        .expectations
        .iter()
        .enumerate()
        .map(|(i, e)| Outcome {
            index: i + 1,
            what: describe(e),
            failure: (!failures[i].is_empty()).then(|| failures[i].join("; ")),
        })
        .collect();
    // Every narration step must be reached, or the lesson stops halfway.
    let shown = chart.as_ref().map_or(0, |chart| {
        chart
            .rows
            .iter()
            .filter(|r| matches!(r, crate::chart::Row::Note(n) if n.kind == crate::chart::NoteKind::Narration))
            .count()
    });
    for (k, step) in scenario.steps.iter().enumerate() {
        out.push(Outcome {
            index: scenario.expectations.len() + k + 1,
            what: format!("narration step {}: {}", k + 1, step.text),
            failure: (k >= shown).then(|| "never shown: its moment never came".to_string()),
        });
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A pattern's failure is one line however many hosts fail: the first
    /// three, how many more, and of how many (issue: a line of 1,000 hosts).
    #[test]
    fn a_pattern_fails_in_one_line_with_a_count() {
        let text = include_str!("../../../tests/scenarios/cgn-cluster.toml")
            .replacen("count = 3\n", "count = 7\n", 1)
            .replacen("until = \"40s\"", "until = \"20s\"", 1);
        let mut s = Scenario::from_toml(&text).unwrap();
        s.expectations = vec![Expectation {
            host: Some("client-*".into()),
            state: Some(mobike_protocol::SaState::Deleted),
            ..Expectation::default()
        }];
        let out = check(&s);
        assert_eq!(
            out[0].failure.as_deref(),
            Some("client-1, client-2, client-3 and 4 more: state is established (7 of 7 hosts)")
        );
        s.expectations[0].state = Some(mobike_protocol::SaState::Established);
        assert_eq!(check(&s)[0].failure, None);
    }

    #[test]
    fn state_names_match_the_scenario_spelling() {
        assert_eq!(
            serde_json_like(&mobike_protocol::SaState::Established),
            "established"
        );
        assert_eq!(
            serde_json_like(&mobike_protocol::SaState::InitSent),
            "init_sent"
        );
    }
}
