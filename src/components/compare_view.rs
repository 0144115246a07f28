//! Compare mode's charts: run A (the page's, drawn in the topology) and run
//! B side by side on one clock, the rows one run has and the other has not
//! marked, and the figures table of `mobike compare` between them. The two
//! charts scroll together by time: scrolling one brings the other to the
//! same moment. A click on one of A's messages inspects it.

use super::chart::{Summary, draw_row, host_choices, lane_heads, summary};
use super::chart_toolbar::ChartToolbar;
use crate::compare::Against;
use crate::state::{Action, ChartAction, CompareRef, Dispatch, SessionRef};
use mobike_protocol::Time;
use mobike_render::compare::{FigureRow, Figures};
use mobike_render::export::shell_word;
use mobike_render::msc::{self, MscView, RowKey, ViewOptions};
use mobike_render::{Chart, Row, fmt_time};
use std::rc::Rc;
use web_sys::{Element, HtmlElement};
use yew::prelude::*;

/// The width each chart is laid out for.
const PANE_W: f64 = 520.0;
/// How far beyond the visible part rows are drawn, in pixels.
const OVERSCAN: f64 = 700.0;
/// The height of the lane headers above the rows.
const HEAD_H: f64 = 44.0;

#[derive(Properties, PartialEq)]
pub struct CompareViewProps {
    pub session: SessionRef,
    pub compare: CompareRef,
    pub version: u64,
    pub selected: Option<u64>,
    /// The chart's view as drawn (ESP hidden unless shown).
    pub view: ViewOptions,
    pub show_esp: bool,
    pub dispatch: Dispatch,
}

/// One run's chart laid out, with the marks and each row's time.
struct Pane {
    view: MscView,
    /// By chart row: the other run has no such row.
    only: Vec<bool>,
    /// Each drawn row's (top, time), in order.
    times: Vec<(f64, Time)>,
}

fn row_time(chart: &Chart, key: RowKey) -> Time {
    match chart.rows.get(key.row()) {
        Some(Row::Message(m)) => m.sent,
        Some(Row::Note(n)) => n.time,
        None => 0,
    }
}

fn pane(
    chart: &Chart,
    groups: &[mobike_render::topology::HostGroup],
    view: &ViewOptions,
    only: Vec<bool>,
) -> Pane {
    let view = msc::layout(chart, groups, view, &msc::Geometry::page(PANE_W));
    let times = view
        .rows
        .iter()
        .map(|r| (r.y, row_time(chart, r.key)))
        .collect();
    Pane { view, only, times }
}

/// The top of the first row at or after `t`.
fn y_of(times: &[(f64, Time)], t: Time) -> f64 {
    let i = times.partition_point(|(_, rt)| *rt < t);
    times.get(i).or(times.last()).map_or(0.0, |(y, _)| *y)
}

/// The time of the row at the top `y`.
fn time_at(times: &[(f64, Time)], y: f64) -> Time {
    let i = times.partition_point(|(ry, _)| *ry < y);
    times.get(i).or(times.last()).map_or(0, |(_, t)| *t)
}

fn figures_table(f: &Figures, id: &str, rows: &[FigureRow]) -> Html {
    html! {
        <table id={id.to_string()} class="figures">
            <thead><tr><th></th>
                { for f.columns.iter().enumerate().map(|(i, c)| html! {
                    <th scope="col" title={c.clone()}>{if i == 0 { "A" } else { "B" }}</th>
                }) }
            </tr></thead>
            <tbody>
                { for rows.iter().map(|r| html! {
                    <tr class={classes!(r.differs.then_some("differs"))} data-label={r.label.clone()}>
                        <th scope="row">{r.label.clone()}</th>
                        { for r.values.iter().map(|v| html! { <td>{v.clone()}</td> }) }
                    </tr>
                }) }
            </tbody>
        </table>
    }
}

#[function_component(CompareView)]
pub fn compare_view(p: &CompareViewProps) -> Html {
    let refs = [use_node_ref(), use_node_ref()];
    let tops = use_state(|| [0.0f64; 2]);
    let height = use_state(|| 560.0f64);
    // Keep showing the newest rows until the user scrolls up.
    let follow = use_mut_ref(|| true);
    // A scroll the page made (to line the other chart up), not the user.
    let ours = use_mut_ref(|| [false; 2]);

    let panes = {
        let (session, compare) = (p.session.clone(), p.compare.clone());
        use_memo((p.version, p.view.clone()), move |(_, view)| {
            let a = session.borrow();
            let c = compare.borrow();
            let d = c.diff(&*a);
            let pa = pane(a.chart(), &a.groups, view, d.only_a);
            let pb = pane(c.b.chart(), &c.b.groups, view, d.only_b);
            let figures = Rc::new(c.figures(&*a));
            drop((a, c));
            let sum: Rc<Summary> = Rc::new(summary(&pa.view, host_choices(&session)));
            (Rc::new(pa), Rc::new(pb), figures, sum)
        })
    };
    let (pa, pb, figures, sum) = (*panes).clone();

    {
        let refs = refs.clone();
        let follow = follow.clone();
        let ours = ours.clone();
        use_effect_with(p.version, move |_| {
            if *follow.borrow() {
                for (i, r) in refs.iter().enumerate() {
                    if let Some(el) = r.cast::<HtmlElement>() {
                        // Only a scroll that happens sends an event.
                        let before = el.scroll_top();
                        el.set_scroll_top(el.scroll_height());
                        ours.borrow_mut()[i] = el.scroll_top() != before;
                    }
                }
            }
        });
    }

    let onscroll = |side: usize| {
        let refs = refs.clone();
        let tops = tops.clone();
        let height = height.clone();
        let follow = follow.clone();
        let ours = ours.clone();
        let (me, other) = if side == 0 {
            (pa.clone(), pb.clone())
        } else {
            (pb.clone(), pa.clone())
        };
        Callback::from(move |_: Event| {
            let Some(el) = refs[side].cast::<Element>() else {
                return;
            };
            let top = el.scroll_top() as f64;
            let mut now = *tops;
            now[side] = top;
            height.set(el.client_height() as f64);
            let by_us = std::mem::take(&mut ours.borrow_mut()[side]);
            if !by_us {
                *follow.borrow_mut() =
                    top + el.client_height() as f64 >= el.scroll_height() as f64 - 40.0;
                // Line the other chart up at the same moment.
                let t = time_at(&me.times, top);
                let y = if top <= 0.0 {
                    0.0
                } else {
                    y_of(&other.times, t)
                };
                if let Some(o) = refs[1 - side].cast::<Element>() {
                    let before = o.scroll_top();
                    o.set_scroll_top(y as i32);
                    ours.borrow_mut()[1 - side] = o.scroll_top() != before;
                    now[1 - side] = o.scroll_top() as f64;
                }
            }
            tops.set(now);
        })
    };

    // A group's lane header (either chart) folds or unfolds it in both; a
    // message of A's chart is inspected.
    let onclick = |side: usize| {
        let d = p.dispatch.clone();
        Callback::from(move |e: MouseEvent| {
            let el = e
                .target()
                .and_then(|t| wasm_bindgen::JsCast::dyn_into::<Element>(t).ok());
            let Some(el) = el else { return };
            if let Some(group) = el
                .closest("[data-group]")
                .ok()
                .flatten()
                .and_then(|g| g.get_attribute("data-group"))
            {
                d.dispatch(Action::Chart(ChartAction::ToggleGroup(group)));
                return;
            }
            let packet = el
                .closest("g.msg[data-packet]")
                .ok()
                .flatten()
                .and_then(|g| g.get_attribute("data-packet"))
                .and_then(|v| v.parse::<u64>().ok());
            if let (0, Some(id)) = (side, packet) {
                d.dispatch(Action::Select(Some(id)));
            }
        })
    };

    let draw = |side: usize, pn: &Pane| {
        let (lo, hi) = (
            tops[side] - OVERSCAN - HEAD_H,
            tops[side] + *height + OVERSCAN,
        );
        let selected = if side == 0 { p.selected } else { None };
        let (w, h) = (pn.view.width, pn.view.height);
        let drawn: Vec<_> = pn
            .view
            .rows
            .iter()
            .filter(|r| r.y + r.h >= lo && r.y <= hi)
            .collect();
        let differs = |r: &msc::RowView| pn.only.get(r.key.row()).copied().unwrap_or(false);
        // The marks go under the lanes and the rows.
        let bands = drawn.iter().filter(|r| differs(r)).map(|r| {
            html! {
                <>
                    <rect class="diff-band" x="0" y={r.y.to_string()} width={w.to_string()} height={r.h.to_string()} />
                    <text class="diff-mark" x={(w - 6.0).to_string()} y={(r.y + 14.0).to_string()}>{"≠"}</text>
                </>
            }
        });
        let rows = drawn
            .iter()
            .map(|r| draw_row(r, r.key.to_string(), selected, false, false));
        let marked = pn.view.rows.iter().filter(|r| differs(r)).count();
        html! {
            <div id={format!("compare-chart-{}", ["a", "b"][side])} class="chart compare-chart" ref={refs[side].clone()}
                onscroll={onscroll(side)} onclick={onclick(side)}
                data-rows={pn.view.rows.len().to_string()} data-marked={marked.to_string()}>
                { lane_heads(&pn.view.lanes, &pn.view.spans, w) }
                <svg class="msc page" width={w.to_string()} height={h.to_string()}
                    viewBox={format!("0 0 {w} {h}")} role="list"
                    aria-label={format!("Run {}: messages and notes", ["A", "B"][side])}>
                    <g class="diff-marks" aria-hidden="true">{ for bands }</g>
                    { for pn.view.lanes.iter().map(|l| html! {
                        <line class="lane" x1={l.x.to_string()} y1="0" x2={l.x.to_string()} y2={h.to_string()} />
                    }) }
                    { for rows }
                </svg>
            </div>
        }
    };

    let a = p.session.borrow();
    let c = p.compare.borrow();
    let now = a.now();
    let what = match &c.against {
        Against::Set(sets) => format!("the same scenario with {}", sets.join(", ")),
        Against::Example(name) => format!("another scenario, {name}"),
    };
    let command = std::iter::once("mobike".to_string())
        .chain(c.cli_args(&*a).iter().map(|w| shell_word(w)))
        .collect::<Vec<_>>()
        .join(" ");
    let args = serde_json::to_string(&c.cli_args(&*a)).unwrap_or_default();
    let skipped = c.skipped;
    let (name_a, name_b) = (c.name_a.clone(), c.name_b.clone());
    drop(c);
    drop(a);
    let differing = figures.rows.iter().filter(|r| r.differs).count();
    html! {
        <div class="compare-wrap" id="compare">
            <div class="compare-head">
                <h2>{format!("Comparing at t = {}: A against {what}", fmt_time(now))}</h2>
                <button id="compare-close" onclick={{
                    let d = p.dispatch.clone();
                    Callback::from(move |_: MouseEvent| d.dispatch(Action::CompareStop))
                }}>{"Stop comparing"}</button>
            </div>
            <ChartToolbar view={p.view.clone()} show_esp={p.show_esp} summary={sum}
                current={None::<usize>} dispatch={p.dispatch.clone()} />
            if skipped > 0 {
                <p class="compare-skipped">{format!("{skipped} of your interventions name something B's scenario does not have; B runs without them.")}</p>
            }
            <div class="compare-grid">
                <div class="compare-side">
                    <h3 class="run-name"><span class="tag">{"A"}</span>{name_a}<span class="muted">{" (the drawing above)"}</span></h3>
                    { draw(0, &pa) }
                </div>
                <div class="compare-figures">
                    <h3>{"Figures at the clock"}</h3>
                    <p class="muted">{format!("{differing} of {} differ (marked)", figures.rows.len())}</p>
                    { figures_table(&figures, "compare-figures", &figures.rows) }
                    if !figures.clients.is_empty() {
                        <details class="per-client">
                            <summary>{format!("Recovery per client ({})", figures.clients.len().saturating_sub(1) / 2)}</summary>
                            { figures_table(&figures, "compare-clients", &figures.clients) }
                        </details>
                    }
                    <p class="muted">{"The same from the command line:"}</p>
                    <pre id="compare-command" class="export-command" data-args={args}>{command}</pre>
                </div>
                <div class="compare-side">
                    <h3 class="run-name"><span class="tag b">{"B"}</span>{name_b}</h3>
                    { draw(1, &pb) }
                </div>
            </div>
            <p class="hint">{"Rows marked ≠ have no counterpart in the other run (same hosts, exchange, message, payloads and time). The charts scroll together by time; the time slider and the interventions drive both runs."}</p>
        </div>
    }
}
