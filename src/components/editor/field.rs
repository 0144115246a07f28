//! One field of the editor's form: its label (with the reference's words
//! as a tooltip), the input its widget asks for, what applies when it is
//! left empty (greyed), and its error right under it.

use crate::browser::target;
use crate::editor::Edit;
use crate::editor::form::{FieldView, Widget};
use crate::state::{Action, Dispatch};
use web_sys::{HtmlInputElement, HtmlSelectElement, HtmlTextAreaElement};
use yew::prelude::*;

#[derive(Properties, PartialEq)]
pub struct FieldProps {
    pub field: FieldView,
    pub dispatch: Dispatch,
}

#[function_component(Field)]
pub fn field(FieldProps { field: f, dispatch }: &FieldProps) -> Html {
    let set = |read: fn(&Event) -> Option<String>| {
        let d = dispatch.clone();
        let place = f.place.clone();
        Callback::from(move |e: Event| {
            if let Some(v) = read(&e) {
                d.dispatch(Action::Edit(Edit::Set(place.clone(), v)));
            }
        })
    };
    let typed = {
        let d = dispatch.clone();
        let place = f.place.clone();
        Callback::from(move |e: InputEvent| {
            let v = target::<HtmlInputElement>(&e)
                .map(|i| i.value())
                .or_else(|| target::<HtmlTextAreaElement>(&e).map(|t| t.value()));
            if let Some(v) = v {
                d.dispatch(Action::Edit(Edit::Set(place.clone(), v)));
            }
        })
    };
    let error_id = format!("{}-error", f.id);
    let invalid = f.error.as_ref().map(|_| "true");
    let described = f.error.as_ref().map(|_| error_id.clone());
    let input = match &f.widget {
        Widget::Text {
            placeholder,
            suggestions,
        } => {
            let list_id = format!("{}-list", f.id);
            let list = (!suggestions.is_empty()).then(|| {
                html! {
                    <datalist id={list_id.clone()}>
                        { for suggestions.iter().map(|s| html! { <option value={s.clone()} /> }) }
                    </datalist>
                }
            });
            html! {
                <>
                    <input id={f.id.clone()} type="text" value={f.value.clone()} placeholder={placeholder.clone()}
                        list={list.as_ref().map(|_| list_id.clone())} spellcheck="false"
                        aria-invalid={invalid} aria-describedby={described.clone()} oninput={typed} />
                    { for list }
                </>
            }
        }
        Widget::Area => html! {
            <textarea id={f.id.clone()} value={f.value.clone()} rows="4"
                aria-invalid={invalid} aria-describedby={described.clone()} oninput={typed} />
        },
        Widget::Select(options) => html! {
            <select id={f.id.clone()} aria-invalid={invalid} aria-describedby={described.clone()}
                onchange={set(|e| target::<HtmlSelectElement>(e).map(|s| s.value()))}>
                { for options.iter().map(|(v, label)| html! {
                    <option value={v.clone()} selected={*v == f.value}>{label.clone()}</option>
                }) }
            </select>
        },
        Widget::Check => html! {
            <input id={f.id.clone()} type="checkbox" checked={f.value == "true"}
                aria-invalid={invalid} aria-describedby={described.clone()}
                onchange={set(|e| target::<HtmlInputElement>(e).map(|i| i.checked().to_string()))} />
        },
    };
    let check = matches!(f.widget, Widget::Check);
    let classes = classes!(
        "ed-field",
        f.short.then_some("short"),
        check.then_some("check"),
        matches!(f.widget, Widget::Area).then_some("wide"),
        f.error.is_some().then_some("bad")
    );
    html! {
        <div class={classes}>
            <label for={f.id.clone()} title={f.help.clone()}>{f.label.clone()}</label>
            { input }
            { for f.inherited.as_ref().map(|i| html! { <span class="ed-inherited">{i.clone()}</span> }) }
            { for f.error.as_ref().map(|e| html! { <p class="ed-error" id={error_id.clone()}>{e.clone()}</p> }) }
        </div>
    }
}
