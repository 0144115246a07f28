//! Times what the page does with a long stretch of a run once it has its
//! events (as after a jump far forward): building the chart's rows, one
//! copy of the chart builder (the page keeps one per checkpoint), and the
//! layout of every row, each the least of three times; and the layout
//! after a jump back to nine tenths of the way (the rows since the last
//! checkpoint's chart built again), decoded again or taken from the chart
//! shown (its rows' notation and stamps). `cargo run --release -p mobike-render --example
//! intake -- FILE.toml [SECONDS]` (default: 600, the jump to 10 min that
//! `tools/trace-jump.mjs` times in the page).
use mobike_render::chart::ChartBuilder;
use mobike_render::msc::{self, Geometry, LayoutCache, ViewOptions};
use mobike_render::topology::find_groups;
use mobike_sim::{Scenario, World};
use std::time::Instant;

fn main() -> Result<(), String> {
    let mut args = std::env::args().skip(1);
    let path = args.next().ok_or("usage: intake FILE.toml [SECONDS]")?;
    let seconds: u64 = args.next().and_then(|s| s.parse().ok()).unwrap_or(600);
    let text = std::fs::read_to_string(&path).map_err(|e| format!("{path}: {e}"))?;
    let scenario = Scenario::from_toml(&text).map_err(|e| format!("{path}: {e}"))?;
    let mut w = World::new(&scenario);
    w.run_until(seconds * 1_000_000);
    let trace = w.trace();
    let least = |f: &mut dyn FnMut()| {
        (0..3)
            .map(|_| {
                let t = Instant::now();
                f();
                t.elapsed()
            })
            .min()
            .unwrap_or_default()
    };
    let mut b = ChartBuilder::new(&scenario);
    let build = least(&mut || {
        b = ChartBuilder::new(&scenario);
        b.update(trace);
    });
    let clone = least(&mut || drop(b.clone()));
    // The traffic figures, when the scenario pings: built over the trace,
    // one copy (also kept per checkpoint), and the figures asked for.
    if scenario.ping.is_some() {
        let mut m = mobike_render::metrics::MetricsBuilder::default();
        let built = least(&mut || {
            m = Default::default();
            m.update(trace);
        });
        let copied = least(&mut || drop(m.clone()));
        let asked = least(&mut || drop(m.current()));
        println!(
            "traffic figures built in {:.0} ms, copied in {:.1} ms, asked for in {:.2} ms",
            built.as_secs_f64() * 1e3,
            copied.as_secs_f64() * 1e3,
            asked.as_secs_f64() * 1e3,
        );
    }
    let groups = find_groups(&scenario);
    let mut view = None;
    let layout = least(&mut || {
        view = Some(msc::layout_with(
            &b.chart,
            &groups,
            &ViewOptions::default(),
            &Geometry::page(1100.0),
            &mut LayoutCache::default(),
        ))
    });
    let rows = view.map_or(0, |v| v.rows.len());
    println!(
        "{} trace entries, {} chart rows: rows built in {:.0} ms, the builder copied in {:.1} ms, laid out in {:.0} ms",
        trace.len(),
        rows,
        build.as_secs_f64() * 1e3,
        clone.as_secs_f64() * 1e3,
        layout.as_secs_f64() * 1e3,
    );
    // A jump back to nine tenths of the way, as the page makes it: the
    // chart is built again from the last checkpoint's chart (a third of
    // the way: the page keeps none of more than 20,000 rows) and laid out
    // with the cache of the chart shown, its rows taking the stamps of
    // the same rows there or not. The chart shown and that checkpoint's
    // copy are of one lineage, as in the page (the copy's rows carry the
    // stamps the chart shown still has).
    let mut shown = ChartBuilder::new(&scenario);
    shown.update_to(trace, trace.len() / 3);
    let third = shown.clone();
    shown.update(trace);
    let cut = trace.len() * 9 / 10;
    let back = |like: bool| {
        let (groups, opts, geo) = (&groups, ViewOptions::default(), Geometry::page(1100.0));
        let mut cache = LayoutCache::default();
        msc::layout_with(&shown.chart, groups, &opts, &geo, &mut cache);
        let mut again = third.clone();
        let t = Instant::now();
        if like {
            again.update_to_like(trace, cut, &shown.chart, cut);
        } else {
            again.update_to(trace, cut);
        }
        let built = t.elapsed();
        let t = Instant::now();
        msc::layout_with(&again.chart, groups, &opts, &geo, &mut cache);
        (built, t.elapsed())
    };
    let least = |like: bool| {
        let runs: Vec<_> = (0..3).map(|_| back(like)).collect();
        (
            runs.iter().map(|r| r.0).min().unwrap_or_default(),
            runs.iter().map(|r| r.1).min().unwrap_or_default(),
        )
    };
    for (like, how) in [(false, "decoded again"), (true, "like the chart shown")] {
        let (built, laid) = least(like);
        println!(
            "a jump back to 90% of the way, {how}: rows built in {:.1} ms, laid out in {:.1} ms",
            built.as_secs_f64() * 1e3,
            laid.as_secs_f64() * 1e3,
        );
    }
    Ok(())
}
