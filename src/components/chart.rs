//! The message sequence chart, drawn from render's view model (msc): host
//! groups folded into one lane (its header expands it), the rows the
//! chart's filter lets through, routine runs folded, search matches marked.
//! Lane headers stay above the rows while they scroll; the chart is kept
//! scrolled to the newest messages unless the user scrolled up. A long
//! chart draws only the rows near the visible part.
//!
//! Messages and summary rows are keyboard targets (one tab stop, the
//! arrow keys move between them): Enter or Space selects a message for the
//! inspector, or shows a folded run whole.

use super::chart_toolbar::ChartToolbar;
use super::rule_refs::svg_with_refs;
use crate::session::TraceStamp;
use crate::state::{Action, ChartAction, Dispatch, SessionRef};
use gloo_events::EventListener;
use mobike_render::msc::{
    self, GroupSpan, LINE_H, LaneKind, LaneView, MessageView, MscView, NoteView, RowBody, RowKey,
    RowView, RunView, ViewOptions,
};
use mobike_render::topology::group_index;
use mobike_sim::trace::PacketId;
use std::collections::HashMap;
use std::rc::Rc;
use wasm_bindgen::JsCast;
use web_sys::{Element, HtmlElement};
use yew::prelude::*;

/// Height of the lane headers above the rows.
const HEAD_H: f64 = 44.0;
/// Height of the band naming an expanded group, above its members' headers.
const SPAN_H: f64 = 18.0;
/// Charts with more rows than this draw only the rows near the view.
const VIRTUAL_ROWS: usize = 120;
/// How far beyond the visible part rows are drawn, in pixels.
const OVERSCAN: f64 = 600.0;
/// Pixels drawn above the view while the chart follows its end.
const FOLLOW_OVERSCAN: f64 = 150.0;

#[derive(Properties, PartialEq)]
pub struct ChartProps {
    pub session: SessionRef,
    /// The chart comes from the trace alone: redrawn when it changes.
    pub stamp: TraceStamp,
    pub selected: Option<u64>,
    /// The chart's view as drawn (ESP hidden unless shown).
    pub view: ViewOptions,
    /// Which search match is current (see `ChartUi::current_match`).
    pub search_at: i64,
    pub show_esp: bool,
    pub dispatch: Dispatch,
}

/// The scroll box's state: what part of the drawing is visible.
#[derive(Clone, Copy, PartialEq)]
struct Viewport {
    top: f64,
    height: f64,
    width: f64,
}

fn element_at(e: &Event) -> Option<Element> {
    e.target().and_then(|t| t.dyn_into::<Element>().ok())
}

/// The drawn row an event happened in: its `data-row` key.
fn row_key_at(e: &Event) -> Option<RowKey> {
    element_at(e)?
        .closest("[data-row]")
        .ok()
        .flatten()?
        .get_attribute("data-row")
        .and_then(|k| RowKey::parse(&k))
}

/// A row the chart draws wherever it is: the keyboard's (by its key) or
/// the selected message's (by its packet).
#[derive(Clone, Copy, PartialEq)]
enum Found {
    Key(RowKey),
    Packet(PacketId),
}

/// Where the rows drawn wherever they are were last found: while a run
/// plays they stay where they are, so finding one again is one look, not a
/// search of the whole chart on every tick.
#[derive(Default)]
struct Finder {
    last: Vec<(Found, usize)>,
}

impl Finder {
    fn find(&mut self, view: &MscView, what: Found) -> Option<usize> {
        let is = |r: &RowView| match what {
            Found::Key(k) => r.key == k,
            Found::Packet(pk) => matches!(&r.body, RowBody::Message(m) if m.packet == pk),
        };
        if let Some(&(_, i)) = self.last.iter().find(|(w, _)| *w == what)
            && view.rows.get(i).is_some_and(|r| is(r))
        {
            return Some(i);
        }
        let i = match what {
            Found::Key(k) => view.rows.iter().position(|r| r.key == k),
            Found::Packet(pk) => view.row_of_packet(pk),
        }?;
        self.last
            .retain(|(w, _)| std::mem::discriminant(w) != std::mem::discriminant(&what));
        self.last.push((what, i));
        Some(i)
    }
}

#[function_component(ChartView)]
pub fn chart_view(p: &ChartProps) -> Html {
    let div = use_node_ref();
    let port = use_state(|| Viewport {
        top: 0.0,
        height: 560.0,
        width: 900.0,
    });
    // The row that holds the keyboard's tab stop, and one to focus once
    // it is drawn (after scrolling to it).
    let active = use_state(|| None::<RowKey>);
    let pending = use_mut_ref(|| None::<RowKey>);
    let measure = {
        let div = div.clone();
        let port = port.clone();
        move || {
            if let Some(el) = div.cast::<HtmlElement>() {
                let next = Viewport {
                    top: el.scroll_top() as f64,
                    height: el.client_height() as f64,
                    width: el.client_width() as f64,
                };
                if *port != next {
                    port.set(next);
                }
            }
        }
    };
    {
        let measure = measure.clone();
        use_effect_with((), move |_| {
            measure();
            let listener =
                web_sys::window().map(|w| EventListener::new(&w, "resize", move |_| measure()));
            move || drop(listener)
        });
    }
    let width = (port.width - 2.0).max(300.0).round();
    // Each row's drawing is kept from one layout to the next: a tick lays
    // out only the rows it added or changed (and a long jump's rows are
    // laid out as its events come in, see `Live::chart_layout`).
    let cache = p.session.borrow().chart_layout();
    let slots = use_mut_ref(RowSlots::default);
    let found = use_mut_ref(Finder::default);
    let view = {
        let session = p.session.clone();
        use_memo(
            (p.stamp, p.view.clone(), width as i64),
            move |(_, view, width)| {
                let s = session.borrow();
                Rc::new(msc::layout_with(
                    s.chart(),
                    &s.groups,
                    view,
                    &msc::Geometry::page(*width as f64),
                    &mut cache.borrow_mut(),
                ))
            },
        )
    };
    // The search's current match, as an index into the drawn rows.
    let current = (!p.view.search.trim().is_empty() && !view.matches.is_empty())
        .then(|| view.matches[p.search_at.rem_euclid(view.matches.len() as i64) as usize]);
    // Keep the newest messages in view while the chart grows, unless the
    // user scrolled up to read.
    let stick = use_mut_ref(|| true);
    // Leaving the end: drawn again from the viewport measured, even when
    // it measures as it did before the chart followed the end.
    let force = use_force_update();
    let unstick = {
        let (stick, force) = (stick.clone(), force.clone());
        move || {
            if std::mem::replace(&mut *stick.borrow_mut(), false) {
                force.force_update();
            }
        }
    };
    // Where that scrolling left the chart: the scroll event it fires may
    // come after the chart grew again (replies of the simulation's worker
    // come one after another), and must not read as the user scrolling up.
    let ours = use_mut_ref(|| None::<i32>);
    {
        let div = div.clone();
        let stick = stick.clone();
        let ours = ours.clone();
        let port = port.clone();
        use_effect_with(view.rows.len(), move |_| {
            if let Some(el) = div.cast::<HtmlElement>()
                && *stick.borrow()
            {
                el.set_scroll_top(el.scroll_height());
                *ours.borrow_mut() = Some(el.scroll_top());
                // The box grows with the chart up to its greatest height:
                // the size is measured again (the place is not: while
                // following, the rows drawn are the end's).
                let (height, width) = (el.client_height() as f64, el.client_width() as f64);
                if (port.height, port.width) != (height, width) {
                    port.set(Viewport {
                        top: el.scroll_top() as f64,
                        height,
                        width,
                    });
                }
            }
        });
    }
    // The search's current match is scrolled into view.
    {
        let div = div.clone();
        let unstick = unstick.clone();
        let y = current.map(|i| (view.rows[i].y, view.rows[i].h));
        let measure = measure.clone();
        use_effect_with((p.search_at, p.view.search.clone(), y), move |(_, _, y)| {
            if let (Some(el), Some((y, h))) = (div.cast::<HtmlElement>(), y) {
                let (top, seen) = (el.scroll_top() as f64, el.client_height() as f64 - HEAD_H);
                if *y < top || y + h > top + seen {
                    unstick();
                    el.set_scroll_top((y - seen / 3.0).max(0.0) as i32);
                    measure();
                }
            }
        });
    }
    // Focus a row the keyboard moved to once it is drawn.
    {
        let div = div.clone();
        let pending = pending.clone();
        use_effect(move || {
            let key = *pending.borrow();
            if let (Some(key), Some(el)) = (key, div.cast::<Element>())
                && let Ok(Some(row)) = el.query_selector(&format!("[data-row=\"{key}\"]"))
            {
                pending.borrow_mut().take();
                focus(&row);
            }
        });
    }
    let onscroll = {
        let div = div.clone();
        let stick = stick.clone();
        let ours = ours.clone();
        let measure = measure.clone();
        let unstick = unstick.clone();
        Callback::from(move |_: Event| {
            if let Some(el) = div.cast::<HtmlElement>() {
                let top = el.scroll_top();
                let by_us = ours
                    .borrow_mut()
                    .take()
                    .is_some_and(|t| (top - t).abs() <= 1);
                if by_us {
                    // Following the end: drawn from the chart's height.
                    return;
                }
                if el.scroll_height() - top - el.client_height() < 40 {
                    *stick.borrow_mut() = true;
                } else {
                    unstick();
                }
            }
            measure();
        })
    };
    let activate = {
        let d = p.dispatch.clone();
        let view = view.clone();
        move |key: RowKey| match key {
            RowKey::Run(first) => d.dispatch(Action::Chart(ChartAction::ToggleRun(first))),
            RowKey::Row(_) => {
                let packet = view
                    .rows
                    .iter()
                    .find(|r| r.key == key)
                    .and_then(|r| match &r.body {
                        RowBody::Message(m) => Some(m.packet),
                        _ => None,
                    });
                if packet.is_some() {
                    d.dispatch(Action::Select(packet));
                }
            }
        }
    };
    let onclick = {
        let d = p.dispatch.clone();
        let activate = activate.clone();
        let active = active.clone();
        Callback::from(move |e: MouseEvent| {
            let el = element_at(&e);
            if let Some(group) = el
                .as_ref()
                .and_then(|el| el.closest("[data-group]").ok().flatten())
                .and_then(|g| g.get_attribute("data-group"))
            {
                d.dispatch(Action::Chart(ChartAction::ToggleGroup(group)));
                return;
            }
            match row_key_at(&e) {
                Some(key) => {
                    active.set(Some(key));
                    activate(key);
                }
                None => d.dispatch(Action::Select(None)),
            }
        })
    };
    let onkeydown = {
        let view = view.clone();
        let div = div.clone();
        let pending = pending.clone();
        let active = active.clone();
        let measure = measure.clone();
        Callback::from(move |e: KeyboardEvent| {
            let Some(key) = row_key_at(&e) else { return };
            let nav = view.navigable();
            let here = nav.iter().position(|&i| view.rows[i].key == key);
            let to = match e.key().as_str() {
                "Enter" | " " => {
                    e.prevent_default();
                    activate(key);
                    return;
                }
                "ArrowDown" | "ArrowRight" => here.map_or(Some(0), |k| Some(k + 1)),
                "ArrowUp" | "ArrowLeft" => here.map(|k| k.saturating_sub(1)),
                "Home" => Some(0),
                "End" => nav.len().checked_sub(1),
                _ => return,
            };
            e.prevent_default();
            let Some(&row) = to.and_then(|k| nav.get(k)) else {
                return;
            };
            let target = &view.rows[row];
            active.set(Some(target.key));
            *pending.borrow_mut() = Some(target.key);
            if let Some(el) = div.cast::<HtmlElement>() {
                let (top, seen) = (el.scroll_top() as f64, el.client_height() as f64 - HEAD_H);
                if target.y < top || target.y + target.h > top + seen {
                    unstick();
                    let y = if target.y < top {
                        target.y
                    } else {
                        target.y + target.h - seen
                    };
                    el.set_scroll_top(y.max(0.0) as i32);
                    measure();
                }
            }
        })
    };

    // Which rows to draw: all of a short chart, the ones near the view of
    // a long one (and always the selected and the keyboard's, and the
    // interventions: few, and the landmarks of a run).
    let virtualise = view.rows.len() > VIRTUAL_ROWS;
    // Following the newest messages, the chart is drawn as it will be once
    // scrolled to its end (the effect above scrolls it there): the
    // viewport measured before it grew would draw the rows around the old
    // end, and measuring again after scrolling drew the chart twice per
    // tick.
    let following = *stick.borrow();
    let top = if following {
        (view.height + HEAD_H - port.height).max(0.0)
    } else {
        port.top
    };
    // Following, the rows change with every tick at high speed: fewer
    // are drawn above the view (a scroll up draws the rest at once).
    let above = if following { FOLLOW_OVERSCAN } else { OVERSCAN };
    // The part to draw (the lane headers above the drawing are HEAD_H
    // pixels; the drawing is drawn at its own size, one unit a pixel).
    let (lo, hi) = (top - above - HEAD_H, top + port.height + OVERSCAN);
    // The rows in that part are found by their place (the rows lie top to
    // bottom), the others drawn always by the layout's list of landmarks
    // and by where the keyboard's and the selected row were last found: a
    // tick of a long run looks at the rows it draws, not at all of them.
    let drawn_at: Vec<usize> = if virtualise {
        let (a, b) = (
            view.rows.partition_point(|r| r.y + r.h < lo),
            view.rows.partition_point(|r| r.y <= hi),
        );
        let mut at: Vec<usize> = (a..b).collect();
        let mut also = |i: Option<usize>| {
            if let Some(i) = i.filter(|i| !(a..b).contains(i)) {
                at.push(i);
            }
        };
        for &i in &view.landmarks {
            also(Some(i));
        }
        also(active.and_then(|k| found.borrow_mut().find(&view, Found::Key(k))));
        also(
            p.selected
                .and_then(|pk| found.borrow_mut().find(&view, Found::Packet(pk))),
        );
        at.sort_unstable();
        at.dedup();
        at
    } else {
        (0..view.rows.len()).collect()
    };
    // The tab stop: the keyboard's row if drawn, else the selected
    // message's, else the first drawn message or summary.
    let drawn: Vec<(usize, &Rc<RowView>)> =
        drawn_at.into_iter().map(|i| (i, &view.rows[i])).collect();
    let navigable = |r: &RowView| !matches!(r.body, RowBody::Note(_));
    let stop = active
        .filter(|k| drawn.iter().any(|(_, r)| r.key == *k))
        .or_else(|| {
            drawn.iter().find_map(|(_, r)| match &r.body {
                RowBody::Message(m) if Some(m.packet) == p.selected => Some(r.key),
                _ => None,
            })
        })
        .or_else(|| {
            drawn
                .iter()
                .find(|(_, r)| navigable(r) && r.y + r.h >= top)
                .map(|(_, r)| r.key)
        });
    // Each drawn row's element: a row drawn last time keeps its own, a
    // new one takes over the element of a row of its kind no longer drawn
    // (while the chart follows a fast run, most rows in view are new on
    // every frame: yew patches a few attributes and texts of an element
    // it has instead of making and removing one per row).
    let keys = slots
        .borrow_mut()
        .assign(drawn.iter().map(|(_, r)| (r.key, RowKind::of(&r.body))));
    let rows = drawn.iter().zip(keys).map(|((i, r), key)| {
        draw_row(r, key, p.selected, Some(*i) == current, Some(r.key) == stop)
    });
    let (w, h) = (view.width, view.height);
    let hosts = {
        let session = p.session.clone();
        use_memo(p.stamp.world(), move |_| host_choices(&session))
    };
    let ike = view.ike;
    html! {
        <div class="chart-wrap">
            <div class="chart-head">
                <h2>{format!("Message sequence chart ({ike} IKE messages)")}</h2>
            </div>
            <ChartToolbar view={p.view.clone()} show_esp={p.show_esp}
                summary={Rc::new(summary(&view, (*hosts).clone()))}
                current={current.and_then(|c| view.matches.iter().position(|&m| m == c))}
                dispatch={p.dispatch.clone()} />
            <div id="chart" class="chart" ref={div} onclick={onclick} onscroll={onscroll}
                onkeydown={onkeydown} data-rows={view.rows.len().to_string()}
                data-virtual={virtualise.then_some("1")}>
                { lane_heads(&view.lanes, &view.spans, w) }
                <svg class="msc page" width={w.to_string()} height={h.to_string()}
                    viewBox={format!("0 0 {w} {h}")} role="list" aria-label="Messages and notes">
                    { for view.lanes.iter().map(|l| html! {
                        <line class="lane" x1={l.x.to_string()} y1="0" x2={l.x.to_string()} y2={h.to_string()} />
                    }) }
                    { for rows }
                </svg>
            </div>
        </div>
    }
}

/// Focuses an element of the chart (SVG elements take focus as HTML ones).
fn focus(el: &Element) {
    el.unchecked_ref::<HtmlElement>().focus().ok();
}

/// What the chart's toolbar shows: hosts and groups to filter by, the
/// counts per exchange and kind, how many rows are hidden or folded, and
/// the number of search matches.
#[derive(PartialEq)]
pub struct Summary {
    /// (value, label) for the host filter.
    pub hosts: Rc<Vec<(String, String)>>,
    pub exchanges: Vec<(msc::Exchange, usize)>,
    pub kinds: Vec<(msc::RowKind, usize)>,
    pub total: usize,
    pub hidden: usize,
    pub folded: usize,
    pub matches: usize,
}

pub(super) fn summary(view: &MscView, hosts: Rc<Vec<(String, String)>>) -> Summary {
    Summary {
        hosts,
        exchanges: view.exchanges.clone(),
        kinds: view.kinds.clone(),
        total: view.total,
        hidden: view.hidden,
        folded: view.folded,
        matches: view.matches.len(),
    }
}

/// The host filter's choices: each lane, and each host group once, before
/// its first member's lane. One pass over the members (looking each lane
/// up in every group was quadratic in a cluster's size); the page keeps
/// it while the run's world stays (its lanes and groups do).
pub(super) fn host_choices(session: &SessionRef) -> Rc<Vec<(String, String)>> {
    let s = session.borrow();
    let lanes = &s.chart().lanes;
    let group_at = group_index(&s.groups, lanes.len());
    let mut hosts = Vec::with_capacity(lanes.len() + s.groups.len());
    for (i, lane) in lanes.iter().enumerate() {
        if let Some(g) = group_at[i]
            .map(|k| &s.groups[k])
            .filter(|g| g.members.first() == Some(&i))
        {
            hosts.push((
                g.key.clone(),
                format!("{} ×{} (any)", g.label, g.members.len()),
            ));
        }
        hosts.push((lane.node.clone(), lane.label.clone()));
    }
    Rc::new(hosts)
}

/// The lane headers, above the rows (they stay while the rows scroll): a
/// folded group's header is a button that expands it; an expanded group
/// has a band over its members that folds it again.
pub(super) fn lane_heads(lanes: &[LaneView], spans: &[GroupSpan], width: f64) -> Html {
    // Each header gets the room between its neighbours' midpoints.
    let room = |i: usize| {
        let x = lanes[i].x;
        let left = i.checked_sub(1).map_or(x * 2.0, |j| x - lanes[j].x);
        let right = lanes.get(i + 1).map_or((width - x) * 2.0, |n| n.x - x);
        (left.min(right) - 8.0).clamp(40.0, 220.0)
    };
    let top = if spans.is_empty() { 0.0 } else { SPAN_H };
    html! {
        <div class="lane-heads" style={format!("width:{width}px;height:{}px", HEAD_H + top)}>
            { for spans.iter().map(|s| {
                let (from, to) = (s.from - 40.0, s.to + 40.0);
                html! {
                    <button type="button" class="group-span" data-group={s.id.clone()} aria-expanded="true"
                        title={format!("Fold {} into one lane", s.label)}
                        style={format!("left:{from}px;width:{}px", to - from)}>
                        {format!("▾ {}", s.label)}
                    </button>
                }
            }) }
            { for lanes.iter().enumerate().map(|(i, l)| {
                let w = room(i);
                let style = format!("left:{}px;width:{w}px;top:{top}px", l.x - w / 2.0);
                let body = html! {
                    <>
                        <span class="lh">{l.label.clone()}</span>
                        <span class="lr">{l.role.clone()}</span>
                    </>
                };
                match &l.kind {
                    LaneKind::Group { members } => html! {
                        <button type="button" class="lane-head group" data-group={l.id.clone()} data-lane={l.id.clone()}
                            aria-expanded="false" title={format!("{members} hosts in one lane; show one lane each")} {style}>
                            <span class="lh">{format!("{} ▸", l.label)}</span>
                            <span class="lr">{l.role.clone()}</span>
                        </button>
                    },
                    _ => html! {
                        <div class="lane-head" data-lane={l.id.clone()} title={l.label.clone()} {style}>{body}</div>
                    },
                }
            }) }
        </div>
    }
}

/// A row's drawing: its element is keyed by `key` (see [`RowSlots`]) and
/// placed at the row's top by a translation, its parts drawn relative to
/// it (so a row's element taken over by another row of the same shape
/// keeps most of its attributes).
pub(super) fn draw_row(
    r: &RowView,
    key: String,
    selected: Option<u64>,
    current: bool,
    stop: bool,
) -> Html {
    let at = format!("translate(0 {})", r.y);
    let row = r.key.to_string();
    let mut class = match &r.body {
        RowBody::Message(m) => m.class(),
        RowBody::Note(n) => n.class().to_string(),
        RowBody::Run(_) => "run".to_string(),
    };
    if r.matched {
        class.push_str(" match");
    }
    if current {
        class.push_str(" current");
    }
    let tabindex = if stop { "0" } else { "-1" };
    match &r.body {
        RowBody::Message(m) => {
            if selected == Some(m.packet) {
                class.push_str(" selected");
            }
            message(m, Place { key, row, at }, class, tabindex)
        }
        RowBody::Note(n) => note(n, Place { key, row, at }, class),
        RowBody::Run(s) => run(s, r.h, Place { key, row, at }, class, tabindex),
    }
}

/// Where a row's element goes: its key among the drawn rows' elements, its
/// row (`data-row`), its translation.
struct Place {
    key: String,
    row: String,
    at: String,
}

fn message(m: &MessageView, p: Place, class: String, tabindex: &str) -> Html {
    let (hx, hw, hh) = m.hit;
    let (x1, y1) = m.from;
    let (ex, ey) = m.end;
    let mark = match m.head {
        None => html! {
            <path class="x" d={format!("M{} {} l10 10 M{} {} l-10 10", ex - 5.0, ey - 5.0, ex + 5.0, ey - 5.0)} />
        },
        Some(((x2, y2), dir)) => html! {
            <path class="head" d={format!("M{x2} {y2} l{} -4 l0 8 z", dir * 9.0)} />
        },
    };
    let extra = match (&m.why, &m.nat) {
        (Some((reason, (x, y))), _) => html! {
            <text class="why" x={x.to_string()} y={y.to_string()}>{reason.clone()}</text>
        },
        (None, Some((note, (x, y)))) => html! {
            <text class="nat" x={x.to_string()} y={y.to_string()}>{note.clone()}</text>
        },
        _ => html! {},
    };
    html! {
        <g key={p.key} class={class} transform={p.at} data-row={p.row} data-packet={m.packet.to_string()}
            tabindex={tabindex.to_string()} role="listitem" aria-label={m.spoken()}>
            <title>{m.tooltip()}</title>
            <rect class="hit" x={hx.to_string()} y="0" width={hw.to_string()} height={hh.to_string()} />
            <text class="t" x={m.time_at.0.to_string()} y={m.time_at.1.to_string()}>{m.time.clone()}</text>
            <line x1={x1.to_string()} y1={y1.to_string()} x2={ex.to_string()} y2={ey.to_string()} />
            { mark }
            <text class="l" x={m.label_at.0.to_string()} y={m.label_at.1.to_string()}>
                { for m.member.as_ref().map(|w| html! { <><tspan class="who">{w.clone()}</tspan>{": "}</> }) }
                {m.label.clone()}
            </text>
            { extra }
        </g>
    }
}

fn note(n: &NoteView, p: Place, class: String) -> Html {
    let (tx, ty) = n.at;
    html! {
        <g key={p.key} class={class} transform={p.at} data-row={p.row} role="listitem">
            <text class="t" x={n.time_at.0.to_string()} y={n.time_at.1.to_string()}>{n.time.clone()}</text>
            <text class="n" x={tx.to_string()} y={ty.to_string()} text-anchor={n.anchor}>
                { for n.lines.iter().enumerate().map(|(i, line)| html! {
                    <tspan x={tx.to_string()} dy={if i == 0 { "0".to_string() } else { LINE_H.to_string() }}>{ svg_with_refs(line) }</tspan>
                }) }
            </text>
        </g>
    }
}

fn run(r: &RunView, h: f64, p: Place, class: String, tabindex: &str) -> Html {
    let (lo, hi) = r.band;
    let what = if r.expanded {
        "fold them again"
    } else {
        "show them all"
    };
    html! {
        <g key={p.key} class={class} transform={p.at} data-row={p.row} data-run={r.first.to_string()}
            tabindex={tabindex.to_string()} role="listitem" aria-expanded={r.expanded.to_string()}
            aria-label={format!("{}; Enter to {what}", r.text.trim_start_matches(['▸', '▾', ' ']))}>
            <title>{format!("{} rows; click to {what}", r.rows)}</title>
            <rect class="hit" x="0" y="0" width="100%" height={h.to_string()} />
            <text class="t" x={r.time_at.0.to_string()} y={r.time_at.1.to_string()}>{r.time.clone()}</text>
            <rect class="band" x={lo.to_string()} y="4" width={(hi - lo).to_string()} height="18" rx="9" />
            <text class="s" x={r.text_at.0.to_string()} y={r.text_at.1.to_string()}>{r.text.clone()}</text>
        </g>
    }
}

/// The kinds of row drawing, each with its own elements' shape.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
enum RowKind {
    Message,
    Note,
    Run,
}

impl RowKind {
    fn of(body: &RowBody) -> RowKind {
        match body {
            RowBody::Message(_) => RowKind::Message,
            RowBody::Note(_) => RowKind::Note,
            RowBody::Run(_) => RowKind::Run,
        }
    }

    fn prefix(self) -> char {
        match self {
            RowKind::Message => 'm',
            RowKind::Note => 'n',
            RowKind::Run => 'r',
        }
    }
}

/// The keys of the drawn rows' elements, from one draw to the next: a row
/// drawn last time keeps its key (and so its element: its focus, its
/// hover), a new row takes the key of a row of the same kind no longer
/// drawn, or a new one. The keys in use stay few (about as many as rows
/// are drawn at once) however long the chart.
#[derive(Default)]
struct RowSlots {
    held: HashMap<(RowKey, RowKind), u32>,
    free: HashMap<RowKind, Vec<u32>>,
    next: HashMap<RowKind, u32>,
}

impl RowSlots {
    /// The keys of `rows` (each a row's key and kind), in their order.
    fn assign(&mut self, rows: impl Iterator<Item = (RowKey, RowKind)>) -> Vec<String> {
        let rows: Vec<(RowKey, RowKind)> = rows.collect();
        let now: std::collections::HashSet<_> = rows.iter().copied().collect();
        let mut gone: Vec<((RowKey, RowKind), u32)> = Vec::new();
        self.held.retain(|k, slot| {
            let keep = now.contains(k);
            if !keep {
                gone.push((*k, *slot));
            }
            keep
        });
        for ((_, kind), slot) in gone {
            self.free.entry(kind).or_default().push(slot);
        }
        // Freed keys are taken smallest first (popped from the end),
        // whatever the map's order.
        for free in self.free.values_mut() {
            free.sort_unstable_by(|a, b| b.cmp(a));
        }
        rows.into_iter()
            .map(|(row, kind)| {
                let slot = match self.held.get(&(row, kind)) {
                    Some(&slot) => slot,
                    None => {
                        let slot =
                            self.free
                                .get_mut(&kind)
                                .and_then(Vec::pop)
                                .unwrap_or_else(|| {
                                    let next = self.next.entry(kind).or_default();
                                    *next += 1;
                                    *next - 1
                                });
                        self.held.insert((row, kind), slot);
                        slot
                    }
                };
                format!("{}{slot}", kind.prefix())
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn keys(slots: &mut RowSlots, rows: &[(usize, RowKind)]) -> Vec<String> {
        slots.assign(rows.iter().map(|&(i, k)| (RowKey::Row(i), k)))
    }

    #[test]
    fn a_row_keeps_its_key_and_a_new_one_takes_a_freed_key_of_its_kind() {
        use RowKind::*;
        let mut s = RowSlots::default();
        assert_eq!(
            keys(&mut s, &[(0, Message), (1, Note), (2, Message)]),
            ["m0", "n0", "m1"]
        );
        // Row 0 scrolled away, rows 3 and 4 came: row 3 (a message) takes
        // row 0's element, row 4 (a note) a new one.
        assert_eq!(
            keys(&mut s, &[(1, Note), (2, Message), (3, Message), (4, Note)]),
            ["n0", "m1", "m0", "n1"]
        );
        // The chart jumped far: every row new, the keys stay few.
        assert_eq!(
            keys(
                &mut s,
                &[(90, Message), (91, Message), (92, Note), (93, Message)]
            ),
            ["m0", "m1", "n0", "m2"]
        );
    }

    #[test]
    fn keys_are_unique_among_the_drawn_rows() {
        let mut s = RowSlots::default();
        for start in [0, 5, 40, 41, 3, 200] {
            let rows: Vec<_> = (start..start + 30)
                .map(|i| {
                    (
                        i,
                        if i % 3 == 0 {
                            RowKind::Note
                        } else {
                            RowKind::Message
                        },
                    )
                })
                .collect();
            let k = keys(&mut s, &rows);
            let unique: std::collections::HashSet<_> = k.iter().collect();
            assert_eq!(unique.len(), k.len(), "from row {start}: {k:?}");
            assert_eq!(s.held.len(), 30);
        }
    }
}
