//! The chart's view model on real runs: host groups folded into one lane
//! and expanded again, each filter, folding routine traffic, search, and
//! geometry that fits a phone's width.

use mobike_render::Chart;
use mobike_render::chart::{Row, What};
use mobike_render::msc::{
    self, CHAR_W, Exchange, Geometry, LaneKind, MscView, RowBody, RowKey, RowKind, ViewOptions,
};
use mobike_render::svg;
use mobike_render::topology::{HostGroup, find_groups};
use mobike_sim::{Scenario, World};

fn run(name: &str) -> (Chart, Vec<HostGroup>) {
    let path = format!("{}/../../examples/{name}.toml", env!("CARGO_MANIFEST_DIR"));
    let s = Scenario::from_toml(&std::fs::read_to_string(path).unwrap()).unwrap();
    let mut w = World::new(&s);
    w.run_until(s.until.micros());
    (Chart::build(&s, w.trace()), find_groups(&s))
}

/// The page's default: everything but ESP.
fn base() -> ViewOptions {
    let mut opts = ViewOptions::default();
    opts.filter.hide_exchanges.insert(Exchange::Esp);
    opts
}

fn page(chart: &Chart, groups: &[HostGroup], opts: &ViewOptions) -> MscView {
    msc::layout(chart, groups, opts, &Geometry::page(900.0))
}

fn messages(v: &MscView) -> Vec<&msc::MessageView> {
    v.rows
        .iter()
        .filter_map(|r| match &r.body {
            RowBody::Message(m) => Some(m),
            _ => None,
        })
        .collect()
}

fn chart_message(chart: &Chart, packet: u64) -> &mobike_render::MessageRow {
    chart.message(packet).unwrap()
}

#[test]
fn a_host_group_is_one_lane_naming_its_member_on_every_arrow() {
    let (chart, groups) = run("cluster-20-mobike");
    assert_eq!(chart.lanes.len(), 21);
    let v = page(&chart, &groups, &base());
    let labels: Vec<&str> = v.lanes.iter().map(|l| l.label.as_str()).collect();
    assert_eq!(labels, ["Client ×20", "Cluster"]);
    assert_eq!(v.lanes[0].kind, LaneKind::Group { members: 20 });
    let ms = messages(&v);
    assert!(ms.len() > 100);
    for m in &ms {
        let row = chart_message(&chart, m.packet);
        let member = m.member.as_deref().expect("every arrow names its client");
        let client = if row.from < 20 {
            row.from
        } else {
            row.to.unwrap()
        };
        assert_eq!(member, chart.lanes[client].node);
        assert_eq!(m.from.0.min(m.end.0), v.lanes[0].x.min(v.lanes[1].x));
    }
    // Notes on a member's lane say whose they are.
    assert!(v.rows.iter().any(|r| matches!(&r.body, RowBody::Note(n)
        if n.lines[0].starts_with("client-7: IKE SA established"))));
    // Expanded: one lane per member, none closer than the least gap, and
    // wider than the page when that needs it.
    let opts = ViewOptions {
        expanded_groups: ["client".to_string()].into(),
        ..base()
    };
    let v = page(&chart, &groups, &opts);
    assert_eq!(v.lanes.len(), 21);
    assert!(v.lanes.windows(2).all(|w| w[1].x - w[0].x >= 104.0 - 1e-9));
    assert!(v.width > 900.0);
    assert_eq!(v.spans.len(), 1);
    assert_eq!(
        (v.spans[0].from, v.spans[0].to),
        (v.lanes[0].x, v.lanes[19].x)
    );
    assert!(messages(&v).iter().all(|m| m.member.is_none()));
}

#[test]
fn the_host_filter_keeps_what_involves_that_host_or_group() {
    let (chart, groups) = run("cluster-20-mobike");
    let mut opts = base();
    opts.filter.host = Some("client-7".into());
    let v = page(&chart, &groups, &opts);
    let ms = messages(&v);
    assert!(ms.len() >= 6, "{}", ms.len());
    assert!(ms.iter().all(|m| m.member.as_deref() == Some("client-7")));
    assert!(v.hidden > 0);
    for r in &v.rows {
        if let RowBody::Note(n) = &r.body
            && n.anchor != "middle"
        {
            assert!(
                n.lines[0].starts_with("client-7: ") || !n.lines[0].starts_with("client-"),
                "{:?}",
                n.lines
            );
        }
    }
    opts.filter.host = Some("group:client".into());
    let all = page(&chart, &groups, &opts);
    assert_eq!(
        messages(&all).len(),
        chart
            .messages()
            .filter(|m| !matches!(m.what, What::Esp { .. }))
            .count()
    );
}

/// CREATE_CHILD_SA has a switch of its own (it was counted under
/// "other"): three Child SAs' requests and answers, hidden with it.
#[test]
fn create_child_sa_is_an_exchange_of_its_own_in_the_filter() {
    let (chart, groups) = run("three-child-sas");
    let v = page(&chart, &groups, &base());
    let count = v.exchanges.iter().find(|c| c.0 == Exchange::CreateChildSa);
    // Two for the second and third subnets, one rekey: requests and answers.
    assert_eq!(count, Some(&(Exchange::CreateChildSa, 6)));
    assert!(
        !v.exchanges
            .iter()
            .any(|c| c.0 == Exchange::Other && c.1 > 0)
    );
    let mut opts = base();
    opts.filter.hide_exchanges = [Exchange::CreateChildSa].into();
    let v = page(&chart, &groups, &opts);
    assert!(
        messages(&v)
            .iter()
            .all(|m| !m.label.starts_with("CREATE_CHILD_SA"))
    );
    assert!(messages(&v).iter().any(|m| m.label.starts_with("IKE_AUTH")));
}

#[test]
fn the_exchange_and_kind_filters_hide_what_they_name() {
    let (chart, groups) = run("wifi-to-lte");
    let mut opts = base();
    opts.filter.hide_exchanges = [Exchange::IkeSaInit, Exchange::Esp].into();
    let v = page(&chart, &groups, &opts);
    for m in messages(&v) {
        let row = chart_message(&chart, m.packet);
        assert!(!matches!(
            Exchange::of(row),
            Exchange::IkeSaInit | Exchange::Esp
        ));
    }
    assert!(messages(&v).iter().any(|m| m.label.starts_with("IKE_AUTH")));
    // Counts are of the whole chart, whatever is shown.
    let init = v.exchanges.iter().find(|c| c.0 == Exchange::IkeSaInit);
    assert_eq!(init, Some(&(Exchange::IkeSaInit, 2)));

    // Only the losses: everything else hidden.
    let mut opts = base();
    opts.filter.hide_kinds = RowKind::ALL
        .into_iter()
        .filter(|k| *k != RowKind::Lost)
        .collect();
    opts.filter.hide_exchanges = [Exchange::Keepalive, Exchange::Esp].into();
    let v = page(&chart, &groups, &opts);
    assert!(!v.rows.is_empty());
    for r in &v.rows {
        match &r.body {
            RowBody::Message(m) => assert!(m.lost, "{}", m.label),
            other => panic!("only lost messages, not {other:?}"),
        }
    }
    let lost = chart
        .messages()
        .filter(|m| m.lost.is_some() && m.is_ike())
        .count();
    assert_eq!(v.rows.len(), lost);

    // Interventions and narration stay when notes go.
    let mut opts = base();
    opts.filter.hide_kinds = [RowKind::Note].into();
    let v = page(&chart, &groups, &opts);
    let notes: Vec<_> = v
        .rows
        .iter()
        .filter_map(|r| match &r.body {
            RowBody::Note(n) => Some(n.class()),
            _ => None,
        })
        .collect();
    assert!(notes.contains(&"note network") && notes.contains(&"note narration"));
    assert!(!notes.contains(&"note protocol"));
}

#[test]
fn routine_liveness_checks_fold_into_one_row_each_run() {
    let (chart, groups) = run("wifi-to-lte");
    let plain = page(&chart, &groups, &base());
    let opts = ViewOptions {
        collapse_routine: true,
        ..base()
    };
    let v = page(&chart, &groups, &opts);
    let runs: Vec<&msc::RunView> = v
        .rows
        .iter()
        .filter_map(|r| match &r.body {
            RowBody::Run(run) => Some(run),
            _ => None,
        })
        .collect();
    assert!(!runs.is_empty());
    assert_eq!(
        runs[0].text, "▸ 2 liveness checks · 5.14 s – 10.17 s",
        "{runs:?}"
    );
    assert_eq!(runs[0].rows, 4);
    assert_eq!(v.folded, runs.iter().map(|r| r.rows).sum::<usize>());
    assert_eq!(v.rows.len() + v.folded, plain.rows.len() + runs.len());
    // What went wrong is never folded: the lost check, the retransmissions
    // and the update are all drawn.
    let drawn = messages(&v);
    assert!(drawn.iter().any(|m| m.lost));
    assert!(drawn.iter().any(|m| m.retransmission));
    assert!(
        drawn
            .iter()
            .any(|m| m.label.contains("UPDATE_SA_ADDRESSES"))
    );
    for r in &chart.rows {
        if let Row::Message(m) = r
            && m.is_ike()
            && (m.lost.is_some() || m.retransmission)
        {
            assert!(drawn.iter().any(|d| d.packet == m.packet), "{}", m.title());
        }
    }
    // Expanded, the run is whole again under its head row.
    let first = runs[0].first;
    let opts = ViewOptions {
        collapse_routine: true,
        expanded_runs: [first].into(),
        ..base()
    };
    let open = page(&chart, &groups, &opts);
    assert_eq!(open.rows.len(), v.rows.len() + 4);
    let head = open
        .rows
        .iter()
        .position(|r| r.key == RowKey::Run(first))
        .unwrap();
    assert!(
        matches!(&open.rows[head].body, RowBody::Run(r) if r.expanded && r.text.starts_with("▾"))
    );
    assert_eq!(open.rows[head + 1].key, RowKey::Row(first));
}

#[test]
fn keepalives_fold_too() {
    let (chart, groups) = run("nat-keepalives");
    let opts = ViewOptions {
        collapse_routine: true,
        ..base()
    };
    let v = page(&chart, &groups, &opts);
    assert!(v.rows.iter().any(|r| matches!(&r.body, RowBody::Run(run)
        if run.text.contains("NAT-keepalive"))));
    // A keepalive on its own between other rows is shown as itself.
    let drawn = messages(&v).iter().filter(|m| m.keepalive).count();
    let all = chart
        .messages()
        .filter(|m| matches!(m.what, What::Keepalive))
        .count();
    assert!(all >= 2 && drawn < all, "{drawn} of {all} drawn");
}

#[test]
fn search_marks_every_matching_row_in_any_case() {
    let (chart, groups) = run("wifi-to-lte");
    let opts = ViewOptions {
        search: "update_sa_addresses".into(),
        ..base()
    };
    let v = page(&chart, &groups, &opts);
    let want = chart
        .messages()
        .filter(|m| m.notation().contains("UPDATE_SA_ADDRESSES"))
        .count();
    assert!(want >= 1);
    let matched_messages = v
        .matches
        .iter()
        .filter(|&&i| matches!(v.rows[i].body, RowBody::Message(_)))
        .count();
    assert_eq!(matched_messages, want);
    assert!(v.matches.windows(2).all(|w| w[0] < w[1]));
    assert!(v.matches.iter().all(|&i| v.rows[i].matched));
    // Notes are searched too; nothing matches nothing.
    let opts = ViewOptions {
        search: "Break link".into(),
        ..base()
    };
    assert!(!page(&chart, &groups, &opts).matches.is_empty());
    let opts = ViewOptions {
        search: "   ".into(),
        ..base()
    };
    assert!(page(&chart, &groups, &opts).matches.is_empty());
}

#[test]
fn on_a_phone_every_label_stays_inside_the_drawing() {
    for name in [
        "wifi-to-lte",
        "cluster-20-mobike",
        "responder-move-nat-presets",
    ] {
        let (chart, groups) = run(name);
        let geo = Geometry::page(356.0);
        let v = msc::layout(&chart, &groups, &base(), &geo);
        assert!(v.width >= 356.0);
        let mut y = geo.first_row;
        for r in &v.rows {
            assert_eq!(r.y, y, "rows follow each other");
            y += r.h;
            if let RowBody::Message(m) = &r.body {
                let chars = m.label.chars().count()
                    + m.member.as_ref().map_or(0, |w| w.chars().count() + 2);
                let half = chars as f64 * CHAR_W / 2.0;
                assert!(
                    m.label_at.0 - half >= geo.gutter && m.label_at.0 + half <= v.width,
                    "{name}: {} at {}",
                    m.label,
                    m.label_at.0
                );
            }
        }
        assert_eq!(v.height, y + geo.bottom);
    }
}

#[test]
fn exports_draw_no_groups_or_folds_unless_asked() {
    let (chart, groups) = run("cluster-20-mobike");
    let plain = svg::render(&chart, &svg::SvgOptions::default());
    assert_eq!(plain.matches("class=\"lane\"").count(), 21);
    assert!(!plain.contains("class=\"who\"") && !plain.contains("class=\"run\""));
    let grouped = svg::render(
        &chart,
        &svg::SvgOptions {
            groups,
            view: ViewOptions {
                collapse_routine: true,
                ..base()
            },
            ..Default::default()
        },
    );
    assert_eq!(grouped.matches("class=\"lane\"").count(), 2);
    assert!(grouped.contains("<tspan class=\"who\">client-7</tspan>: "));
    assert!(grouped.contains("Client ×20"));
    assert_eq!(
        grouped.matches("<g ").count(),
        grouped.matches("</g>").count()
    );
}

#[test]
fn notes_on_an_expanded_groups_members_read_towards_the_room() {
    let (chart, groups) = run("cluster-20-mobike");
    let opts = ViewOptions {
        expanded_groups: ["client".to_string()].into(),
        ..base()
    };
    let v = page(&chart, &groups, &opts);
    let geo = Geometry::page(900.0);
    // The page wraps a note on a middle lane towards the wider side.
    let half = (v.width + geo.gutter) / 2.0;
    let mut seen = 0;
    for r in &v.rows {
        let RowBody::Note(n) = &r.body else { continue };
        let widest = n.lines.iter().map(|l| l.chars().count()).max().unwrap_or(0) as f64 * CHAR_W;
        match n.anchor {
            "start" => {
                assert!(n.at.0 - 8.0 < half, "{:?}", n.lines);
                assert!(n.at.0 + widest <= v.width, "{:?}", n.lines);
                seen += 1;
            }
            "end" => {
                assert!(n.at.0 + 8.0 >= half, "{:?}", n.lines);
                assert!(n.at.0 - widest >= geo.gutter, "{:?}", n.lines);
                seen += 1;
            }
            _ => {}
        }
    }
    assert!(seen > 40, "{seen} notes on lanes");
}
