//! The chart's own toolbar: filter by host, exchange and kind, fold
//! routine keepalives and liveness checks, search with next and previous.
//! None of it changes the run, only what the chart shows.

use super::chart::Summary;
use crate::browser::target;
use crate::state::{Action, ChartAction, Dispatch, send};
use mobike_render::msc::{Exchange, ViewOptions};
use std::rc::Rc;
use web_sys::{HtmlInputElement, HtmlSelectElement};
use yew::prelude::*;

#[derive(Properties, PartialEq)]
pub struct ChartToolbarProps {
    /// The chart's view as the user set it (ESP is `show_esp`).
    pub view: ViewOptions,
    pub show_esp: bool,
    pub summary: Rc<Summary>,
    /// Which match is current, counted from the first.
    pub current: Option<usize>,
    pub dispatch: Dispatch,
}

#[derive(Properties, PartialEq)]
struct HostOptionsProps {
    hosts: Rc<Vec<(String, String)>>,
    selected: Option<String>,
}

/// The host filter's choices: a component of their own, drawn again only
/// when the choices or the one selected change (a cluster of 1,000 has
/// 1,000 of them, which every tick diffed when they were the toolbar's).
#[function_component(HostOptions)]
fn host_options(p: &HostOptionsProps) -> Html {
    html! {
        { for p.hosts.iter().map(|(v, l)| html! {
            <option value={v.clone()} selected={p.selected.as_deref() == Some(v.as_str())}>{l.clone()}</option>
        }) }
    }
}

fn chart(d: &Dispatch, a: ChartAction) -> Callback<Event> {
    send(d, Action::Chart(a))
}

#[function_component(ChartToolbar)]
pub fn chart_toolbar(p: &ChartToolbarProps) -> Html {
    let d = &p.dispatch;
    let s = &p.summary;
    let f = &p.view.filter;
    let host = {
        let d = d.clone();
        Callback::from(move |e: Event| {
            if let Some(sel) = target::<HtmlSelectElement>(&e) {
                let v = sel.value();
                d.dispatch(Action::Chart(ChartAction::Host(
                    (!v.is_empty()).then_some(v),
                )));
            }
        })
    };
    let search = {
        let d = d.clone();
        Callback::from(move |e: InputEvent| {
            if let Some(i) = target::<HtmlInputElement>(&e) {
                d.dispatch(Action::Chart(ChartAction::Search(i.value())));
            }
        })
    };
    let search_keys = {
        let d = d.clone();
        Callback::from(move |e: KeyboardEvent| match e.key().as_str() {
            "Enter" => {
                e.prevent_default();
                d.dispatch(Action::Chart(ChartAction::NextMatch(!e.shift_key())));
            }
            "Escape" => d.dispatch(Action::Chart(ChartAction::Search(String::new()))),
            _ => {}
        })
    };
    let exchanges = s.exchanges.iter().filter(|(_, n)| *n > 0).map(|&(e, n)| {
        let shown = if e == Exchange::Esp {
            p.show_esp
        } else {
            !f.hide_exchanges.contains(&e)
        };
        html! {
            <label class={classes!("chip", (!shown).then_some("off"))}>
                <input type="checkbox" id={format!("chart-ex-{}", e.id())} checked={shown}
                    onchange={chart(d, ChartAction::ToggleExchange(e))} />
                {e.label()}<span class="count">{n}</span>
            </label>
        }
    });
    let kinds = s.kinds.iter().filter(|(_, n)| *n > 0).map(|&(k, n)| {
        let shown = !f.hide_kinds.contains(&k);
        html! {
            <label class={classes!("chip", (!shown).then_some("off"))}>
                <input type="checkbox" id={format!("chart-kind-{}", k.id())} checked={shown}
                    onchange={chart(d, ChartAction::ToggleKind(k))} />
                {k.label()}<span class="count">{n}</span>
            </label>
        }
    });
    let query = p.view.search.trim();
    let found = match (query.is_empty(), s.matches, p.current) {
        (true, _, _) => String::new(),
        (false, 0, _) => "no match".into(),
        (false, n, Some(c)) => format!("{} of {n}", c + 1),
        (false, n, None) => format!("{n} matches"),
    };
    let mut status = format!("{} rows", s.total);
    if s.hidden > 0 {
        status.push_str(&format!(" · {} hidden by the filter", s.hidden));
    }
    if s.folded > 0 {
        status.push_str(&format!(" · {} folded", s.folded));
    }
    // ESP has its own switch (on the page's main settings): "show all
    // rows" is about the chart's filter.
    let filtered = f.host.is_some()
        || !f.hide_kinds.is_empty()
        || f.hide_exchanges.iter().any(|e| *e != Exchange::Esp);
    html! {
        <div class="chart-tools" role="toolbar" aria-label="Chart view">
            <div class="chart-tools-row">
                <label class="field">{"Host "}
                    <select id="chart-host" onchange={host}>
                        <option value="" selected={f.host.is_none()}>{"all"}</option>
                        <HostOptions hosts={s.hosts.clone()} selected={f.host.clone()} />
                    </select>
                </label>
                <label class="field" title="Fold runs of NAT-keepalives and liveness checks that went well into one row each">
                    <input id="chart-collapse" type="checkbox" checked={p.view.collapse_routine}
                        onchange={chart(d, ChartAction::ToggleCollapse)} />
                    {" fold keepalives and liveness checks"}
                </label>
                <span class="search">
                    <input id="chart-search" type="search" placeholder="Search the chart" aria-label="Search the chart"
                        value={p.view.search.clone()} oninput={search} onkeydown={search_keys} />
                    <button type="button" id="chart-prev" title="Previous match (Shift+Enter)" aria-label="Previous match"
                        disabled={s.matches == 0} onclick={send(d, Action::Chart(ChartAction::NextMatch(false)))}>{"↑"}</button>
                    <button type="button" id="chart-next" title="Next match (Enter)" aria-label="Next match"
                        disabled={s.matches == 0} onclick={send(d, Action::Chart(ChartAction::NextMatch(true)))}>{"↓"}</button>
                    <span id="chart-matches" class="matches" aria-live="polite">{found}</span>
                </span>
            </div>
            <div class="chart-tools-row">
                <span class="chips" role="group" aria-label="Exchanges">{ for exchanges }</span>
                <span class="chips" role="group" aria-label="Kinds">{ for kinds }</span>
            </div>
            <div class="chart-tools-row">
                <span id="chart-status" class="status">{status}</span>
                if filtered {
                    <button type="button" id="chart-clear" onclick={send(d, Action::Chart(ChartAction::ClearFilters))}>{"Show all rows"}</button>
                }
            </div>
        </div>
    }
}
