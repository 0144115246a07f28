//! The page keeps a copy of the chart builder at each checkpoint, and takes
//! a long stretch of a run in at once after a jump. So a copy shares each
//! IKE message's notation and decrypted payloads with the original instead
//! of copying them; the builder tells retransmissions (the same octets sent
//! again, RFC 7296 §2.1) by octets it shares with the trace; and the layout
//! writes an arrow's tooltip only when it is asked for.

use mobike_render::chart::{ChartBuilder, Row, What};
use mobike_render::fmt_time;
use mobike_render::msc::{self, Geometry, RowBody, ViewOptions};
use mobike_render::topology::find_groups;
use mobike_sim::{Scenario, World};
use std::sync::Arc;

fn scenario(name: &str) -> Scenario {
    let path = format!("{}/../../examples/{name}.toml", env!("CARGO_MANIFEST_DIR"));
    Scenario::from_toml(&std::fs::read_to_string(path).unwrap()).unwrap()
}

fn whole(s: &Scenario) -> ChartBuilder {
    let mut w = World::new(s);
    w.run_until(s.until.micros());
    let mut b = ChartBuilder::new(s);
    b.update(w.trace());
    b
}

#[test]
fn a_copy_of_the_chart_shares_each_ike_message_notation_and_payloads() {
    let s = scenario("cluster-20-mobike");
    let b = whole(&s);
    let copy = b.clone();
    let mut opened = 0;
    let mut messages = 0;
    for (x, y) in b.chart.rows.iter().zip(&copy.chart.rows) {
        let (Row::Message(x), Row::Message(y)) = (x, y) else {
            continue;
        };
        let (
            What::Ike {
                items: a,
                inner: pa,
                ..
            },
            What::Ike {
                items: c,
                inner: pc,
                ..
            },
        ) = (&x.what, &y.what)
        else {
            continue;
        };
        messages += 1;
        assert!(Arc::ptr_eq(a, c), "packet {}: notation copied", x.packet);
        match (pa, pc) {
            (Some(pa), Some(pc)) => {
                assert!(Arc::ptr_eq(pa, pc), "packet {}: payloads copied", x.packet);
                opened += 1;
            }
            (None, None) => {}
            _ => panic!("packet {}: the copy differs", x.packet),
        }
    }
    assert!(
        messages > 100 && opened > 50,
        "{messages} messages, {opened} opened"
    );
}

/// Built in ticks, each tick going on from a copy of the last (as the page
/// goes on from a checkpoint's chart), the chart marks the same messages as
/// retransmissions as one built at once, and there are some.
/// A copy of the chart (one per checkpoint in the page) shares its rows
/// with the original: built on, the original changes the rows of packets
/// that arrive later (copying them first) and adds its own; the copy stays
/// the chart of the trace as far as it was built.
#[test]
fn a_copy_shares_the_rows_until_the_original_changes_them() {
    let s = scenario("cluster-20-mobike");
    let mut w = World::new(&s);
    w.run_until(s.until.micros());
    let trace = w.trace();
    // Halfway through the trace some packets are on their way.
    let half = trace.len() / 2;
    let mut b = ChartBuilder::new(&s);
    b.update_to(trace, half);
    let copy = b.clone();
    let n = copy.chart.rows.len();
    assert_eq!(copy.chart.rows.shared_with(&b.chart.rows), n);
    b.update(trace);
    let shared = copy.chart.rows.shared_with(&b.chart.rows);
    let in_flight = copy
        .chart
        .rows
        .iter()
        .filter(|r| matches!(r, Row::Message(m) if m.arrived.is_none() && m.lost.is_none()))
        .count();
    assert!(
        in_flight > 0 && shared + in_flight <= n,
        "{shared} + {in_flight} of {n}"
    );
    assert!(shared * 10 >= n * 9, "{shared} of {n} rows shared");
    let mut again = ChartBuilder::new(&s);
    again.update_to(trace, half);
    assert!(copy.chart == again.chart, "the copy is the chart at half");
    assert!(b.chart != again.chart);
}

#[test]
fn retransmissions_are_told_the_same_in_steps_through_copies() {
    let s = scenario("responder-move-keep-retransmitting");
    let at_once = whole(&s);
    let mut w = World::new(&s);
    let mut b = ChartBuilder::new(&s);
    let end = s.until.micros();
    let mut t = 0;
    while t < end {
        t = (t + 250_000).min(end);
        w.run_until(t);
        let mut next = b.clone();
        drop(b);
        next.update(w.trace());
        b = next;
    }
    let flags = |b: &ChartBuilder| -> Vec<(u64, bool)> {
        b.chart
            .rows
            .iter()
            .filter_map(|r| match r {
                Row::Message(m) => Some((m.packet, m.retransmission)),
                Row::Note(_) => None,
            })
            .collect()
    };
    let stepped = flags(&b);
    assert_eq!(stepped, flags(&at_once));
    let retransmitted = stepped.iter().filter(|(_, r)| *r).count();
    assert!(retransmitted >= 2, "{retransmitted} retransmissions");
}

#[test]
fn an_arrow_tooltip_has_the_time_the_addresses_and_the_whole_notation() {
    let s = scenario("wifi-to-lte");
    let b = whole(&s);
    let groups = find_groups(&s);
    let view = msc::layout(
        &b.chart,
        &groups,
        &ViewOptions::default(),
        &Geometry::page(900.0),
    );
    let mut seen = 0;
    for r in &view.rows {
        let RowBody::Message(v) = &r.body else {
            continue;
        };
        let m = b
            .chart
            .rows
            .iter()
            .find_map(|row| match row {
                Row::Message(m) if m.packet == v.packet => Some(m),
                _ => None,
            })
            .expect("the row's message");
        assert_eq!(
            v.tooltip(),
            format!(
                "{} {} -> {}\n{}",
                fmt_time(m.sent),
                m.src,
                m.dst,
                m.notation()
            )
        );
        seen += 1;
    }
    assert!(seen > 10, "{seen} arrows");
    let update = view.rows.iter().find_map(|r| match &r.body {
        RowBody::Message(v) if v.tooltip().contains("N(UPDATE_SA_ADDRESSES)") => Some(v),
        _ => None,
    });
    let update = update.expect("the move's UPDATE_SA_ADDRESSES");
    assert!(
        update.tooltip().starts_with(&update.time),
        "{}",
        update.tooltip()
    );
}

/// A chart built again after a jump back like the chart shown takes the
/// stamps of the rows that chart has as they are (so the layout keeps their
/// drawings): every row whose stamp it takes is the same row, it takes
/// nearly all of those built before the cut (not those a later event
/// changed, a message then on its way), and the others get stamps of their
/// own.
#[test]
fn a_chart_built_again_takes_the_stamps_of_the_same_rows() {
    let s = scenario("cluster-20-mobike");
    let mut w = World::new(&s);
    let mut shown = ChartBuilder::new(&s);
    let mut t = 0;
    while t < s.until.micros() {
        t += 250_000;
        w.run_until(t);
        shown.update(w.trace());
    }
    let cut = w.trace().len() / 2;
    let mut again = ChartBuilder::new(&s);
    again.update_to_like(w.trace(), cut, &shown.chart, cut);
    let theirs: std::collections::HashSet<u64> = shown.chart.stamps().iter().copied().collect();
    let rows = again.chart.rows.len();
    let mut taken = 0;
    for (i, stamp) in again.chart.stamps().iter().enumerate() {
        if *stamp == shown.chart.stamps()[i] {
            taken += 1;
            assert_eq!(again.chart.rows[i], shown.chart.rows[i], "row {i}");
        } else {
            assert!(!theirs.contains(stamp), "row {i} has a stamp of its own");
        }
    }
    assert!(taken * 10 > rows * 9, "{taken} of {rows} rows took a stamp");
    assert!(taken < rows, "a row on its way at the cut is not the same");
    // Of another run, nothing is taken past what the two share.
    let mut other = ChartBuilder::new(&s);
    other.update_to_like(w.trace(), cut, &shown.chart, 0);
    assert!(other.chart.stamps().iter().all(|s| !theirs.contains(s)));
}

/// After a jump back the page builds the chart again from an older copy,
/// taking each message's notation and payloads from the chart it showed
/// (`update_to_like`) instead of decoding the datagrams again: the chart is
/// the one built at once, to the cut and on past it (retransmissions told
/// the same), and the rows before the cut share the shown chart's notation.
#[test]
fn a_chart_built_again_like_the_one_shown_is_the_same_chart() {
    for name in [
        "responder-move-keep-retransmitting",
        "cluster-20-mobike",
        "wifi-to-lte",
    ] {
        let s = scenario(name);
        let at_once = whole(&s);
        let mut w = World::new(&s);
        w.run_until(s.until.micros());
        let trace = w.trace();
        let mut shown = ChartBuilder::new(&s);
        let mut older = None;
        for k in 1..=10 {
            shown.update_to(trace, trace.len() * k / 10);
            if k == 2 {
                older = Some(shown.clone());
            }
        }
        let cut = trace.len() * 6 / 10;
        let mut again = older.unwrap();
        let from = again.chart.rows.len();
        again.update_to_like(trace, cut, &shown.chart, cut);
        let to = again.chart.rows.len();
        let mut shared = 0;
        for (x, y) in again
            .chart
            .rows
            .range(from..to)
            .zip(shown.chart.rows.range(from..to))
        {
            if let (Row::Message(x), Row::Message(y)) = (x, y)
                && let (What::Ike { items: a, .. }, What::Ike { items: b, .. }) = (&x.what, &y.what)
                && Arc::ptr_eq(a, b)
            {
                shared += 1;
            }
        }
        let ike = again
            .chart
            .rows
            .range(from..to)
            .filter(|r| matches!(r, Row::Message(m) if matches!(m.what, What::Ike { .. })))
            .count();
        assert!(
            shared * 4 >= ike * 3 && shared > 0,
            "{name}: {shared} of {ike} IKE rows taken"
        );
        again.update(trace);
        assert_eq!(again.chart, at_once.chart, "{name}");
    }
}

/// The chart builder forgets a packet's row once the packet is delivered
/// or lost (its index holds the packets on their way only): in every
/// example, no event names a packet after its delivery or loss.
#[test]
fn nothing_happens_to_a_packet_after_its_delivery_or_loss() {
    use mobike_sim::TraceKind;
    use std::collections::HashSet;
    let dir = format!("{}/../../examples", env!("CARGO_MANIFEST_DIR"));
    let mut examples = 0;
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_none_or(|e| e != "toml") {
            continue;
        }
        let s = Scenario::from_toml(&std::fs::read_to_string(&path).unwrap()).unwrap();
        let mut w = World::new(&s);
        w.run_until(s.until.micros());
        let mut ended = HashSet::new();
        for e in w.trace().iter() {
            let (packet, last) = match e.kind {
                TraceKind::Translated { packet, .. } | TraceKind::Duplicated { packet, .. } => {
                    (packet, false)
                }
                TraceKind::Delivered { packet, .. } | TraceKind::Dropped { packet, .. } => {
                    (packet, true)
                }
                _ => continue,
            };
            assert!(
                !ended.contains(&packet),
                "{}: packet {packet} after its end",
                path.display()
            );
            if last {
                ended.insert(packet);
            }
        }
        examples += 1;
    }
    assert!(examples > 20, "{examples} examples");
}
