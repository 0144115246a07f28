//! Runs side by side: the figures table and the row diff of two charts, on
//! the examples (what the page's compare mode and `mobike compare` show).

use mobike_render::compare::{self, Figures};
use mobike_render::metrics::{self, Metrics};
use mobike_render::{Chart, Row};
use mobike_sim::{Scenario, World};

const S: u64 = 1_000_000;

fn scenario(name: &str, set: &[&str]) -> Scenario {
    let path = format!("{}/../../examples/{name}.toml", env!("CARGO_MANIFEST_DIR"));
    let mut s = Scenario::from_toml(&std::fs::read_to_string(path).unwrap()).unwrap();
    for arg in set {
        s.set_from_arg(arg).unwrap();
    }
    s
}

fn run_to(s: &Scenario, t: u64) -> World {
    let mut w = World::new(s);
    w.run_until(t);
    w
}

fn chart(name: &str, set: &[&str]) -> Chart {
    let s = scenario(name, set);
    let w = run_to(&s, s.until.micros());
    Chart::build(&s, w.trace())
}

/// A row as one line, for assertions and failure messages.
fn line(r: &Row) -> String {
    match r {
        Row::Message(m) => format!(
            "{} {}->{:?} {} {}{}",
            mobike_render::fmt_time(m.sent),
            m.from,
            m.to,
            m.title(),
            m.notation(),
            if m.lost.is_some() { " LOST" } else { "" }
        ),
        Row::Note(n) => format!(
            "{} note {:?} {}",
            mobike_render::fmt_time(n.time),
            n.lane,
            n.text
        ),
    }
}

fn marked(c: &Chart, marks: &[bool]) -> Vec<String> {
    c.rows
        .iter()
        .zip(marks)
        .filter(|(_, m)| **m)
        .map(|(r, _)| line(r))
        .collect()
}

#[test]
fn the_same_scenario_twice_marks_nothing() {
    for name in ["wifi-to-lte", "cluster-20-redirect"] {
        let (a, b) = (chart(name, &[]), chart(name, &[]));
        let d = compare::diff(&a, &b);
        assert!(d.is_same(), "{name}: {:?}", marked(&a, &d.only_a));
        assert_eq!(d.pairs.len(), a.rows.len());
        assert_eq!(
            d.pairs,
            (0..a.rows.len()).map(|i| (i, i)).collect::<Vec<_>>()
        );
    }
}

/// Another seed draws other SPIs, nonces and keys, so every octet on the
/// wire differs; with no loss or jitter to draw, the runs are the same to
/// a protocol expert and nothing is marked.
#[test]
fn spis_nonces_and_keys_do_not_count() {
    let s = scenario("responder-moves-client", &[]);
    let mut t = s.clone();
    t.seed = s.seed.wrapping_add(1);
    let (wa, wb) = (run_to(&s, s.until.micros()), run_to(&t, t.until.micros()));
    let (a, b) = (Chart::build(&s, wa.trace()), Chart::build(&t, wb.trace()));
    let spi = |c: &Chart| {
        c.messages()
            .find_map(|m| match &m.what {
                mobike_render::chart::What::Esp { spi, .. } => Some(*spi),
                _ => None,
            })
            .unwrap()
    };
    assert_ne!(spi(&a), spi(&b), "the seed changes the SPIs");
    let d = compare::diff(&a, &b);
    assert!(
        d.is_same(),
        "{:?} / {:?}",
        marked(&a, &d.only_a),
        marked(&b, &d.only_b)
    );
}

/// examples/cluster-20-{mobike,redirect}.toml: the same cluster and
/// clients, moved from node 1 to node 2 at 10 s by responder MOBIKE
/// (an INFORMATIONAL with the new address list, RFC 4555 §3.5) or by
/// Redirect (RFC 5685 §6: N(REDIRECT) in an INFORMATIONAL, then a new
/// IKE SA at node 2 and the old one deleted).
#[test]
fn cluster_mobike_against_redirect_marks_the_move() {
    let a = chart("cluster-20-mobike", &[]);
    let b = chart("cluster-20-redirect", &[]);
    let d = compare::diff(&a, &b);
    let (ma, mb) = (marked(&a, &d.only_a), marked(&b, &d.only_b));
    // Setup and the traffic before the move are the same.
    for (c, marks) in [(&a, &d.only_a), (&b, &d.only_b)] {
        for (r, m) in c.rows.iter().zip(marks) {
            if r.time() < 10 * S {
                assert!(!m, "marked before the move: {}", line(r));
            }
        }
    }
    // Every REDIRECT, and the new IKE SAs, are the redirect run's own.
    let redirects: Vec<&String> = mb.iter().filter(|l| l.contains("N(REDIRECT)")).collect();
    assert_eq!(redirects.len(), 20, "{mb:#?}");
    assert!(redirects.iter().all(|l| l.contains("INFORMATIONAL")));
    assert_eq!(
        b.messages()
            .filter(|m| m.sent > 10 * S && m.title().starts_with("IKE_SA_INIT"))
            .count(),
        mb.iter()
            .filter(|l| !l.contains(" note ") && l.contains("IKE_SA_INIT"))
            .count(),
        "{mb:#?}"
    );
    assert!(mb.iter().any(|l| l.contains("IKE_SA_INIT request #0")));
    // The MOBIKE run's INFORMATIONAL exchanges of the move are its own.
    let informational_a: Vec<&String> = ma.iter().filter(|l| l.contains("INFORMATIONAL")).collect();
    assert!(informational_a.len() >= 20, "{ma:#?}");
    assert!(
        informational_a
            .iter()
            .all(|l| !l.contains("N(REDIRECT)") && !l.contains("IKE_SA_INIT"))
    );
    // An extra exchange marks itself, not everything after it.
    assert!(
        d.pairs.len() > a.rows.len() / 2,
        "{} of {}",
        d.pairs.len(),
        a.rows.len()
    );
    assert!(
        d.pairs.iter().any(|&(i, _)| a.rows[i].time() > 20 * S),
        "rows after the move correspond again"
    );
}

/// examples/responder-moves-client.toml under the two list policies
/// (RFC 4555 §3.5 leaves open what the initiator does when the responder's
/// list drops the current address): strict runs its own UPDATE_SA_ADDRESSES
/// exchange, follow moves without one.
#[test]
fn two_list_policies_mark_the_update_of_the_strict_run() {
    let a = chart("responder-moves-client", &["list_policy=strict"]);
    let b = chart("responder-moves-client", &["list_policy=follow"]);
    let d = compare::diff(&a, &b);
    let (ma, mb) = (marked(&a, &d.only_a), marked(&b, &d.only_b));
    assert!(!d.is_same());
    for (c, marks) in [(&a, &d.only_a), (&b, &d.only_b)] {
        for (r, m) in c.rows.iter().zip(marks) {
            if r.time() < 8 * S {
                assert!(!m, "marked before the move: {}", line(r));
            }
        }
    }
    // The strict laptop's update request and its response, both marked.
    let laptop = a.lanes.iter().position(|l| l.node == "laptop").unwrap();
    let update: Vec<(usize, &Row)> = a
        .rows
        .iter()
        .enumerate()
        .filter(|(_, r)| match r {
            Row::Message(m) => m.from == laptop && m.notation().contains("N(UPDATE_SA_ADDRESSES)"),
            _ => false,
        })
        .collect();
    assert!(!update.is_empty(), "strict sends an update");
    for (i, r) in &update {
        assert!(d.only_a[*i], "unmarked: {}", line(r));
    }
    assert!(
        !b.rows.iter().any(|r| matches!(r, Row::Message(m)
            if m.from == laptop && m.notation().contains("N(UPDATE_SA_ADDRESSES)"))),
        "follow sends none"
    );
    assert!(mb.iter().any(|l| l.contains("following to")), "{mb:#?}");
    assert!(ma.len() < a.rows.len() / 2, "{ma:#?}");
}

/// The figures at a moment do not depend on how far the run went past it:
/// a world run to `t` has the trace of a longer run cut at `t`, and
/// `compute_at` of either is the same.
#[test]
fn figures_at_a_moment_are_those_of_the_run_cut_there() {
    let s = scenario("wifi-to-lte", &[]);
    let full = run_to(&s, s.until.micros());
    for t in [5 * S, 12 * S, 15 * S + 500_000, 20 * S] {
        let cut = run_to(&s, t);
        let prefix: Vec<_> = full.trace().iter().filter(|e| e.time <= t).collect();
        assert_eq!(cut.trace().iter().collect::<Vec<_>>(), prefix, "at {t}");
        assert_eq!(
            metrics::compute_at(cut.trace(), t),
            metrics::compute_at(full.trace(), t),
            "at {t}"
        );
        // `compute` ends at the last event, which may come before `t`.
        let last = cut.trace().last_time().unwrap();
        assert!(last <= t);
        assert_eq!(
            metrics::compute(cut.trace()),
            metrics::compute_at(cut.trace(), last)
        );
    }
    // Cut before the break at 12 s: no trigger yet, nothing lost.
    let early = metrics::compute_at(full.trace(), 11 * S);
    assert!(early.triggers.is_empty());
    assert_eq!(early.pings_lost, 0);
    assert_eq!(early.clients[0].pings_sent, 11, "a ping a second from 1 s");
    assert!(metrics::compute(full.trace()).pings_lost > 0);
    // The outage runs up to the moment: during it, it grows with the clock.
    let (m16, m17) = (
        metrics::compute_at(full.trace(), 16 * S),
        metrics::compute_at(full.trace(), 17 * S),
    );
    assert_eq!(m17.longest_gap, m16.longest_gap + S, "{m16:?}");
}

fn figures(runs: &[(&str, &[&str])], until: Option<u64>) -> (Figures, Vec<Metrics>) {
    let ms: Vec<Metrics> = runs
        .iter()
        .map(|(name, set)| {
            let s = scenario(name, set);
            let end = until.unwrap_or(s.until.micros());
            metrics::compute_at(run_to(&s, end).trace(), end)
        })
        .collect();
    let cols: Vec<(String, Metrics)> = runs
        .iter()
        .zip(&ms)
        .map(|((n, _), m)| (n.to_string(), m.clone()))
        .collect();
    (Figures::build(&cols), ms)
}

fn row<'a>(f: &'a Figures, label: &str) -> &'a compare::FigureRow {
    f.rows
        .iter()
        .chain(&f.clients)
        .find(|r| r.label == label)
        .unwrap_or_else(|| panic!("no row {label:?}: {f:#?}"))
}

#[test]
fn figures_have_each_clients_recovery_after_the_first_trigger() {
    let (f, ms) = figures(
        &[("cluster-20-mobike", &[]), ("cluster-20-redirect", &[])],
        None,
    );
    assert_eq!(f.columns, vec!["cluster-20-mobike", "cluster-20-redirect"]);
    assert_eq!(row(&f, "clients").values, vec!["20", "20"]);
    assert!(!row(&f, "clients").differs);
    assert!(row(&f, "IKE messages").differs);
    assert_eq!(
        row(&f, "first trigger at").values,
        vec!["10.000s", "10.000s"]
    );
    // A "moved" and a "ping ok" row for each of the 20 clients.
    assert_eq!(f.clients.len(), 1 + 2 * 20);
    for (k, m) in ms.iter().enumerate() {
        let first = &m.triggers[0];
        assert_eq!(first.recoveries.len(), 20);
        for r in &first.recoveries {
            let moved = row(&f, &format!("{}: SAs moved after", r.client));
            let ping = row(&f, &format!("{}: ping ok after", r.client));
            assert_eq!(
                moved.values[k],
                mobike_render::fmt_time(r.path_changed_after.unwrap())
            );
            assert_eq!(
                ping.values[k],
                mobike_render::fmt_time(r.ping_answered_after.unwrap())
            );
        }
        // The slowest is the largest of them.
        let slowest = first
            .recoveries
            .iter()
            .map(|r| r.ping_answered_after.unwrap())
            .max()
            .unwrap();
        assert_eq!(
            row(&f, "slowest: ping ok after").values[k],
            mobike_render::fmt_time(slowest)
        );
    }
    // Redirect needs a new IKE SA: its SAs move later than by MOBIKE.
    let moved = row(&f, "client-1: SAs moved after");
    assert!(moved.differs);
}

#[test]
fn figures_say_which_client_did_not_recover_and_which_run_lacks_it() {
    // wifi-to-lte at 14 s: Wi-Fi broke at 12 s and the laptop has not moved
    // yet (the liveness check takes longer); cluster-20-mobike has no
    // "laptop" and wifi-to-lte no "client-1".
    let (f, ms) = figures(
        &[("wifi-to-lte", &[]), ("cluster-20-mobike", &[])],
        Some(14 * S),
    );
    assert_eq!(ms[0].triggers.len(), 1);
    assert_eq!(
        row(&f, "first trigger at").values,
        vec!["12.000s", "10.000s"]
    );
    let laptop = row(&f, "laptop: SAs moved after");
    assert_eq!(laptop.values[0], "-");
    assert_eq!(laptop.values[1], "n/a");
    assert!(laptop.differs);
    assert_eq!(row(&f, "laptop: ping ok after").values[0], "-");
    assert_eq!(row(&f, "client-1: ping ok after").values[0], "n/a");
    assert_eq!(row(&f, "slowest: SAs moved after").values[0], "-");
    let text = f.to_text();
    let line = text
        .lines()
        .find(|l| l.starts_with("laptop: SAs moved after"))
        .unwrap();
    assert_eq!(
        line.split_whitespace().rev().take(2).collect::<Vec<_>>(),
        ["n/a", "-"]
    );
}

/// The text keeps the table `mobike compare` has always printed: a label
/// column of 28, a right-aligned column a run at least 12 wide.
#[test]
fn figures_text_layout() {
    let (f, _) = figures(&[("wifi-to-lte", &[]), ("nat-rebinding", &[])], None);
    let text = f.to_text();
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(
        lines[0],
        format!("{:28}{:>13}  {:>13}  ", "", "wifi-to-lte", "nat-rebinding")
    );
    assert!(lines[1].starts_with(&format!("{:<28}", "clients")));
    assert_eq!(lines[1].len(), lines[0].len());
    assert_eq!(
        lines[14],
        "(\"slowest\": the last client to recover after the first timeline event)"
    );
    assert_eq!(lines[16], "each client after the first timeline event:");
    assert!(lines[17].starts_with("first trigger at"));
    assert!(lines[18].starts_with("laptop: SAs moved after"));
}
