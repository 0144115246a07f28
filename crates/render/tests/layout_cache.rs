//! The page lays the chart out on every tick with a cache of each row's
//! drawing (`msc::layout_with`). Whatever the run and the view, the cached
//! layout must be the one a fresh `msc::layout` gives: rows added, rows
//! changed after they were drawn (a message delivered, lost or answered
//! later), lanes that appear, runs folded and unfolded, a search typed, a
//! group expanded, the filter changed, a jump back to an earlier chart
//! (and to a chart built again from an older one, its rows taking the
//! stamps of the same rows shown), rows laid out ahead
//! (`LayoutCache::warm`) with the view before.

use mobike_render::chart::ChartBuilder;
use mobike_render::msc::{self, Exchange, Geometry, LayoutCache, RowKind, ViewOptions};
use mobike_render::topology::find_groups;
use mobike_sim::{Scenario, World};

fn scenario(name: &str) -> Scenario {
    let path = format!("{}/../../examples/{name}.toml", env!("CARGO_MANIFEST_DIR"));
    Scenario::from_toml(&std::fs::read_to_string(path).unwrap()).unwrap()
}

/// The view at tick `k`: the options change as the run goes, as a user
/// changes them while it plays.
fn view_at(k: usize, groups: &[mobike_render::topology::HostGroup]) -> ViewOptions {
    let mut opts = ViewOptions::default();
    opts.filter.hide_exchanges.insert(Exchange::Esp);
    opts.collapse_routine = k % 40 < 30;
    if k % 50 >= 35 {
        opts.search = "update".into();
    }
    if k % 70 >= 50
        && let Some(g) = groups.first()
    {
        opts.expanded_groups.insert(g.id.clone());
    }
    if k % 90 >= 80 {
        opts.expanded_runs.extend(0..40);
    }
    // The filter changes too (each row's filter verdict is kept).
    if k % 60 >= 45 {
        opts.filter.hide_kinds.insert(RowKind::Note);
    }
    if k % 80 >= 65 {
        opts.filter.host = Some(match groups.first() {
            Some(g) if k.is_multiple_of(2) => g.key.clone(),
            Some(_) => "cluster".into(),
            None => "gateway".into(),
        });
    }
    opts
}

/// Plays `name` in ticks of `tick` µs, laying the chart out after each with
/// one cache, and compares with a fresh layout every time.
fn cached_equals_fresh(name: &str, tick: u64) -> usize {
    let s = scenario(name);
    let groups = find_groups(&s);
    let geo = Geometry::page(900.0);
    let mut w = World::new(&s);
    let mut b = ChartBuilder::new(&s);
    let mut cache = LayoutCache::default();
    let mut kept = None;
    let mut older = None;
    let end = s.until.micros();
    let mut k = 0;
    let mut t = 0;
    while t < end {
        t = (t + tick).min(end);
        w.run_until(t);
        b.update(w.trace());
        // Halfway, jump back to the chart of a quarter of the way (as a
        // jump back with the slider brings a checkpoint's chart back).
        if k == 10 {
            older = Some(b.clone());
        }
        if k == 20 {
            kept = Some(b.clone());
        }
        let chart = if k == 60 {
            kept.as_ref().unwrap().chart.clone()
        } else if k == 90 {
            // A jump back to a moment past the last checkpoint's chart:
            // the rows since are built again like the chart shown, taking
            // the stamps of its same rows (the layout keeps their
            // drawings).
            let cut = kept.as_ref().unwrap().consumed();
            let mut again = older.clone().unwrap();
            again.update_to_like(w.trace(), cut, &b.chart, cut);
            again.chart
        } else {
            b.chart.clone()
        };
        let opts = view_at(k, &groups);
        // Now and then the chart is laid out ahead as the last layout was
        // asked (the page does it while a jump's events come in).
        if k % 3 == 1 {
            cache.warm(&chart);
        }
        let cached = msc::layout_with(&chart, &groups, &opts, &geo, &mut cache);
        let fresh = msc::layout(&chart, &groups, &opts, &geo);
        assert_eq!(cached, fresh, "{name} at tick {k} ({t} µs)");
        k += 1;
    }
    b.chart.rows.len()
}

#[test]
fn a_cached_layout_is_the_fresh_one_for_a_cluster() {
    let rows = cached_equals_fresh("cluster-20-mobike", 250_000);
    assert!(rows > 300, "{rows} rows");
}

#[test]
fn a_cached_layout_is_the_fresh_one_with_losses_and_nats() {
    for name in ["wifi-to-lte", "nat-mapping-timeout", "all-paths-dead"] {
        cached_equals_fresh(name, 100_000);
    }
}

/// With the view left as it is, a layout picks up the last one's walk at
/// its last mark before the first row changed: it walks the newest rows,
/// not the whole chart, and gives the fresh layout every time, also with
/// routine runs folded (a run still open at the end of one layout goes on
/// in the next), a search, and after a jump back to an older chart.
#[test]
fn a_layout_walks_the_rows_since_the_last_one() {
    let s = scenario("cluster-20-mobike");
    let groups = find_groups(&s);
    let geo = Geometry::page(900.0);
    let views = {
        let folded = ViewOptions {
            collapse_routine: true,
            ..ViewOptions::default()
        };
        let mut search = ViewOptions {
            search: "informational".into(),
            ..ViewOptions::default()
        };
        search.filter.hide_exchanges.insert(Exchange::Esp);
        [ViewOptions::default(), folded, search]
    };
    for opts in views {
        let mut w = World::new(&s);
        let mut b = ChartBuilder::new(&s);
        let mut cache = LayoutCache::default();
        let (mut walked, mut rows, mut kept) = (0, 0, None);
        let mut t = 0;
        for k in 0..400 {
            t += 75_000;
            w.run_until(t);
            b.update(w.trace());
            if k == 100 {
                kept = Some(b.chart.clone());
            }
            let chart = match (k, &kept) {
                (250, Some(c)) => c.clone(),
                _ => b.chart.clone(),
            };
            let cached = msc::layout_with(&chart, &groups, &opts, &geo, &mut cache);
            let fresh = msc::layout(&chart, &groups, &opts, &geo);
            assert_eq!(cached, fresh, "at tick {k} ({t} µs), {opts:?}");
            if k > 0 {
                walked += cache.walked();
                rows += chart.rows.len();
            }
        }
        // Over the run, a tick walks a small part of the chart.
        assert!(
            rows > 100_000 && walked * 5 < rows,
            "{walked} of {rows}, {opts:?}"
        );
    }
}

/// A jump back cuts the chart far from its end: the next layout picks up
/// at the walk's mark before the cut (one every 4,096 rows that far back),
/// not at the top, and is the fresh one.
#[test]
fn a_jump_back_walks_from_the_mark_before_it() {
    let s = scenario("cluster-20-mobike");
    let groups = find_groups(&s);
    let (geo, opts) = (Geometry::page(900.0), ViewOptions::default());
    let mut w = World::new(&s);
    let mut b = ChartBuilder::new(&s);
    w.run_until(60_000_000);
    b.update(w.trace());
    let checkpoint = b.clone();
    w.run_until(300_000_000);
    b.update(w.trace());
    let mut cache = LayoutCache::default();
    msc::layout_with(&b.chart, &groups, &opts, &geo, &mut cache);
    assert_eq!(cache.walked(), b.chart.rows.len());
    // Back to 200 s, built from the checkpoint like the chart shown.
    let cut = w
        .trace()
        .iter()
        .take_while(|e| e.time <= 200_000_000)
        .count();
    let mut back = checkpoint.clone();
    back.update_to_like(w.trace(), cut, &b.chart, cut);
    let rows = back.chart.rows.len();
    let cached = msc::layout_with(&back.chart, &groups, &opts, &geo, &mut cache);
    assert_eq!(cached, msc::layout(&back.chart, &groups, &opts, &geo));
    assert!(
        rows > 2 * 4096 && cache.walked() <= 4096,
        "{} of {rows}",
        cache.walked()
    );
    // And forward again to the end: from the mark before the cut.
    let cached = msc::layout_with(&b.chart, &groups, &opts, &geo, &mut cache);
    assert_eq!(cached, msc::layout(&b.chart, &groups, &opts, &geo));
    assert!(cache.walked() < b.chart.rows.len() - rows + 4096);
}
