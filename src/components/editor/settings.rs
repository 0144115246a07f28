//! The settings tab: which table is shown (every host's `[settings]`, or
//! one host's own), and every setting with its value, what applies when
//! it is left empty (the preset's or the global value, greyed), the
//! reference's words and the error at it.

use super::field::Field;
use crate::browser::target;
use crate::editor::Edit;
use crate::editor::form::SettingsView;
use crate::state::{Action, Dispatch};
use web_sys::HtmlSelectElement;
use yew::prelude::*;

#[derive(Properties, PartialEq)]
pub struct SettingsProps {
    pub view: SettingsView,
    pub dispatch: Dispatch,
}

#[function_component(SettingsTable)]
pub fn settings_table(SettingsProps { view, dispatch }: &SettingsProps) -> Html {
    let pick = {
        let d = dispatch.clone();
        Callback::from(move |e: Event| {
            if let Some(v) = target::<HtmlSelectElement>(&e).map(|s| s.value()) {
                d.dispatch(Action::Edit(Edit::Layer(v.parse().ok())));
            }
        })
    };
    let value = |l: Option<usize>| l.map_or("all".to_string(), |k| k.to_string());
    html! {
        <div class="ed-settings">
            <label class="ed-layer">{"Settings of "}
                <select id="ed-layer" onchange={pick}>
                    { for view.layers.iter().map(|(l, name, own)| {
                        let text = match (l, own) {
                            (None, 0) => format!("{name} ([settings])"),
                            (None, n) => format!("{name} ([settings], {n} set)"),
                            (Some(_), 0) => name.clone(),
                            (Some(_), n) => format!("{name} ({n} of its own)"),
                        };
                        html! { <option value={value(*l)} selected={*l == view.layer}>{text}</option> }
                    }) }
                </select>
            </label>
            <p class="ed-explain">{
                if view.layer.is_some() {
                    "Only this host: a value here overrides the one for all hosts. Empty: the value shown grey applies."
                } else {
                    "Every host, unless its own settings say otherwise. Empty: the preset's (or the default) value shown grey applies."
                }
            }</p>
            <div class="ed-setting-rows">
                { for view.rows.iter().map(|f| html! {
                    <div class="ed-setting" key={f.id.clone()}>
                        <Field field={f.clone()} dispatch={dispatch.clone()} />
                        { for f.help.as_ref().map(|h| html! { <p class="ed-help">{h.clone()}</p> }) }
                    </div>
                }) }
            </div>
        </div>
    }
}
