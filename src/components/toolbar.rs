//! The toolbar: scenario picker, the file buttons (New…, Edit, Open file…,
//! Save scenario, Export…, Compare…), Play/Pause, Step, Reset, speed, seed, the clock and
//! Share.

use super::open_file::OpenFile;
use crate::browser::target;
use crate::editor::Start;
use crate::session::example_titles;
use crate::state::{Action, Dispatch, send};
use mobike_protocol::Time;
use mobike_render::fmt_time;
use web_sys::{HtmlInputElement, HtmlSelectElement};
use yew::prelude::*;

/// Why a button is off while a capture is shown.
const RECORDED_TITLE: &str =
    "A recorded capture is shown as it was: it cannot be played, changed or shared";

/// The speeds offered: virtual time per wall-clock time.
const SPEEDS: [u32; 4] = [1, 4, 16, 64];

#[derive(Properties, PartialEq)]
pub struct ToolbarProps {
    pub playing: bool,
    pub speed: u32,
    /// Virtual time shown.
    pub now: Time,
    pub seed: u64,
    /// The built-in example running; `None` for a scenario from a file.
    pub example: Option<usize>,
    /// The scenario's title (the picker names a file's scenario by it).
    pub title: AttrValue,
    /// The editor is open (New… and Edit wait until it is closed).
    pub editing: bool,
    /// The scenario was made in the editor.
    pub edited: bool,
    /// A recorded capture is shown: nothing runs or changes it.
    #[prop_or_default]
    pub recorded: bool,
    /// The Export menu, next to "Save scenario".
    pub export: Html,
    /// The Compare menu, after it.
    pub compare: Html,
    pub dispatch: Dispatch,
}

#[function_component(Toolbar)]
pub fn toolbar(p: &ToolbarProps) -> Html {
    let d = &p.dispatch;
    let speed = {
        let d = d.clone();
        Callback::from(move |e: Event| {
            if let Some(v) =
                target::<HtmlSelectElement>(&e).and_then(|sel| sel.value().parse::<u32>().ok())
            {
                d.dispatch(Action::SetSpeed(v));
            }
        })
    };
    let pick = {
        let d = d.clone();
        Callback::from(move |e: Event| {
            if let Some(i) =
                target::<HtmlSelectElement>(&e).and_then(|sel| sel.value().parse::<usize>().ok())
            {
                d.dispatch(Action::LoadExample(i));
            }
        })
    };
    let set_seed = {
        let d = d.clone();
        Callback::from(move |e: Event| {
            if let Some(v) =
                target::<HtmlInputElement>(&e).and_then(|i| i.value().trim().parse::<u64>().ok())
            {
                d.dispatch(Action::SetSeed(v));
            }
        })
    };
    let current = p.example;
    let from_file = current.is_none().then(|| {
        let origin = if p.recorded {
            "(capture)"
        } else if p.edited {
            "(edited)"
        } else {
            "(from file)"
        };
        format!("{origin} {}", p.title)
    });
    html! {
        <div class="toolbar">
            <label class="picker">{"Scenario "}
                <select id="scenario" onchange={pick}>
                    { for from_file.map(|t| html! { <option value="file" selected=true>{t}</option> }) }
                    { for example_titles().iter().enumerate().map(|(i, title)| html! {
                        <option value={i.to_string()} selected={current == Some(i)}>{title.clone()}</option>
                    }) }
                </select>
            </label>
            <NewMenu editing={p.editing} dispatch={d.clone()} />
            <button id="edit" disabled={p.editing} onclick={send(d, Action::EditorOpen(Start::Current))}
                title="Edit this scenario: hosts, links, NATs, settings, timeline">{"Edit"}</button>
            <OpenFile dispatch={d.clone()} />
            <button id="save" onclick={send(d, Action::Save)}
                title="Download this scenario as a file, with your interventions as timeline events">{"Save scenario"}</button>
            {p.export.clone()}
            {p.compare.clone()}
            <button id="play" class={classes!("primary", p.playing.then_some("on"))} onclick={send(d, Action::TogglePlay)}
                disabled={p.recorded}
                title={if p.recorded { RECORDED_TITLE } else { "Play or pause (Space)" }}>
                { if p.playing { "❚❚ Pause" } else { "▶ Play" } }
            </button>
            <button id="step" onclick={send(d, Action::Step)} disabled={p.recorded}
                title={if p.recorded { RECORDED_TITLE } else { "Run to the next event (.)" }}>{"Step"}</button>
            <button id="reset" onclick={send(d, Action::Reset)} disabled={p.recorded}
                title={if p.recorded { RECORDED_TITLE } else { "Start the scenario over, without your interventions (r)" }}>{"Reset"}</button>
            <label class="speed">{"Speed "}
                <select id="speed" onchange={speed}>
                    { for SPEEDS.iter().map(|s| html! {
                        <option value={s.to_string()} selected={p.speed == *s}>{format!("{s}×")}</option>
                    }) }
                </select>
            </label>
            <label class="seed" title="Every random draw (SPIs, nonces, keys, losses) comes from the seed; changing it starts over">{"Seed "}
                <input id="seed" type="number" min="0" value={p.seed.to_string()} onchange={set_seed} disabled={p.recorded} />
            </label>
            <span id="clock" class="clock" data-us={p.now.to_string()}>{format!("t = {}", fmt_time(p.now))}</span>
            <button id="share" onclick={send(d, Action::Share)} disabled={p.recorded}
                title={if p.recorded { RECORDED_TITLE } else { "A link that replays this run up to this moment" }}>{"Share"}</button>
        </div>
    }
}

#[derive(Properties, PartialEq)]
struct NewMenuProps {
    editing: bool,
    dispatch: Dispatch,
}

/// "New…": a small menu to start a scenario from an empty page or from a
/// copy of any example, in the editor.
#[function_component(NewMenu)]
fn new_menu(p: &NewMenuProps) -> Html {
    let open = use_state(|| false);
    let toggle = {
        let open = open.clone();
        Callback::from(move |_| open.set(!*open))
    };
    let start = |what: Start| {
        let d = p.dispatch.clone();
        let open = open.clone();
        move || {
            open.set(false);
            d.dispatch(Action::EditorOpen(what.clone()));
        }
    };
    let empty = {
        let go = start(Start::Empty);
        Callback::from(move |_: MouseEvent| go())
    };
    let example = {
        let d = p.dispatch.clone();
        let open = open.clone();
        Callback::from(move |e: Event| {
            if let Some(i) =
                target::<HtmlSelectElement>(&e).and_then(|s| s.value().parse::<usize>().ok())
            {
                open.set(false);
                d.dispatch(Action::EditorOpen(Start::Example(i)));
            }
        })
    };
    html! {
        <div class="new-menu">
            <button id="new" disabled={p.editing} aria-expanded={(*open).to_string()} onclick={toggle}
                title="Start a new scenario in the editor">{"New…"}</button>
            if *open && !p.editing {
                <div class="menu" id="new-panel" role="menu">
                    <button id="new-empty" role="menuitem" onclick={empty}>{"Empty page"}</button>
                    <label>{"A copy of "}
                        <select id="new-example" onchange={example}>
                            <option value="" selected=true>{"an example…"}</option>
                            { for example_titles().iter().enumerate().map(|(i, title)| html! {
                                <option value={i.to_string()}>{title.clone()}</option>
                            }) }
                        </select>
                    </label>
                </div>
            }
        </div>
    }
}
