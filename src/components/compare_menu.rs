//! "Compare…": start compare mode, against the same scenario with settings
//! changed (as the CLI's `--set`) or against another built-in example.

use crate::browser::target;
use crate::compare::Against;
use crate::session::{EXAMPLES, example_titles};
use crate::state::{Action, Dispatch};
use web_sys::{HtmlInputElement, HtmlSelectElement};
use yew::prelude::*;

/// Settings working groups compare, offered as one click each.
const QUICK: [(&str, &str); 4] = [
    (
        "list_policy=follow",
        "initiator follows the responder's list (vs strict)",
    ),
    ("return_routability=false", "no return routability check"),
    ("preset=strongswan", "strongSwan's timers and choices"),
    ("preset=libreswan", "libreswan's timers and choices"),
];

#[derive(Properties, PartialEq)]
pub struct CompareMenuProps {
    /// Compare mode is on.
    pub active: bool,
    pub error: Option<String>,
    /// The example running (its index), to offer the others first.
    pub example: Option<usize>,
    pub dispatch: Dispatch,
}

#[function_component(CompareMenu)]
pub fn compare_menu(p: &CompareMenuProps) -> Html {
    let open = use_state(|| false);
    let sets = use_state(String::new);
    let pick = use_state(|| None::<usize>);
    let toggle = {
        let open = open.clone();
        Callback::from(move |_: MouseEvent| open.set(!*open))
    };
    let keys = {
        let open = open.clone();
        Callback::from(move |e: KeyboardEvent| {
            if e.key() == "Escape" {
                open.set(false);
            }
        })
    };
    // Close the panel once a comparison starts.
    {
        let open = open.clone();
        use_effect_with(p.active, move |active| {
            if *active {
                open.set(false);
            }
        });
    }
    let button = html! {
        <button id="compare-open" class={classes!(p.active.then_some("on"))} aria-expanded={(*open).to_string()}
            aria-haspopup="true" onclick={toggle.clone()}
            title="Run a second run beside this one, on one clock: other settings or another scenario">{"Compare…"}</button>
    };
    if !*open {
        return html! { <div class="compare-menu">{button}</div> };
    }
    let start = |text: String| {
        let d = p.dispatch.clone();
        move || match Against::settings(&text) {
            Ok(a) => d.dispatch(Action::CompareStart(a)),
            Err(e) => d.dispatch(Action::CompareError(e)),
        }
    };
    let go_set = {
        let sets = sets.clone();
        let d = p.dispatch.clone();
        Callback::from(move |_: MouseEvent| match Against::settings(&sets) {
            Ok(a) => d.dispatch(Action::CompareStart(a)),
            Err(e) => d.dispatch(Action::CompareError(e)),
        })
    };
    let set_keys = {
        let sets = sets.clone();
        let d = p.dispatch.clone();
        Callback::from(move |e: KeyboardEvent| {
            if e.key() == "Enter" {
                e.prevent_default();
                match Against::settings(&sets) {
                    Ok(a) => d.dispatch(Action::CompareStart(a)),
                    Err(err) => d.dispatch(Action::CompareError(err)),
                }
            }
        })
    };
    let typed = {
        let sets = sets.clone();
        Callback::from(move |e: InputEvent| {
            if let Some(i) = target::<HtmlInputElement>(&e) {
                sets.set(i.value());
            }
        })
    };
    let chosen = {
        let pick = pick.clone();
        Callback::from(move |e: Event| {
            if let Some(s) = target::<HtmlSelectElement>(&e) {
                pick.set(s.value().parse().ok());
            }
        })
    };
    let go_example = {
        let d = p.dispatch.clone();
        let pick = pick.clone();
        Callback::from(move |_: MouseEvent| {
            if let Some((name, _)) = (*pick).and_then(|i| EXAMPLES.get(i)) {
                d.dispatch(Action::CompareStart(Against::Example(name.to_string())));
            }
        })
    };
    html! {
        <div class="compare-menu" onkeydown={keys}>
            {button}
            <div class="menu compare-panel" id="compare-panel" role="dialog" aria-label="Compare">
                <p class="export-what">{"Run B beside this run (A), on one clock; the figures table sits between the charts."}</p>
                <div class="compare-choice">
                    <span class="export-head">{"Settings"}</span>
                    <input id="compare-set" type="text" placeholder="list_policy=follow, laptop.liveness_interval=30s"
                        value={(*sets).clone()} oninput={typed} onkeydown={set_keys} aria-label="Settings of run B, key=value" />
                    <button id="compare-set-go" onclick={go_set}>{"Compare"}</button>
                </div>
                <div class="compare-quick">
                    { for QUICK.iter().enumerate().map(|(i, (set, what))| {
                        let go = start(set.to_string());
                        html! {
                            <button id={format!("compare-quick-{i}")} title={*what}
                                onclick={Callback::from(move |_: MouseEvent| go())}>{*set}</button>
                        }
                    }) }
                </div>
                <div class="compare-choice">
                    <span class="export-head">{"Scenario"}</span>
                    <select id="compare-example" onchange={chosen} aria-label="Another scenario as run B">
                        <option value="" selected={pick.is_none()}>{"another example…"}</option>
                        { for example_titles().iter().enumerate().filter(|(i, _)| Some(*i) != p.example).map(|(i, t)| html! {
                            <option value={i.to_string()} selected={*pick == Some(i)}>{t.clone()}</option>
                        }) }
                    </select>
                    <button id="compare-example-go" disabled={pick.is_none()} onclick={go_example}>{"Compare"}</button>
                </div>
                if let Some(e) = &p.error {
                    <p class="menu-error" id="compare-error" role="alert">{e.clone()}</p>
                }
                <button class="close" onclick={toggle} aria-label="Close the compare menu">{"Close"}</button>
            </div>
        </div>
    }
}
