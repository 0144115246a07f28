//! The Source tab: the draft as the file it makes, editable as text; a
//! text that does not read shows the reader's error with its line, and
//! the draft keeps its last good state.

use crate::browser::target;
use crate::editor::Edit;
use crate::state::{Action, Dispatch};
use mobike_sim::ScenarioError;
use web_sys::HtmlTextAreaElement;
use yew::prelude::*;

#[derive(Properties, PartialEq)]
pub struct SourceProps {
    pub text: AttrValue,
    pub error: Option<ScenarioError>,
    pub dispatch: Dispatch,
}

#[function_component(SourceView)]
pub fn source_view(p: &SourceProps) -> Html {
    let oninput = {
        let d = p.dispatch.clone();
        Callback::from(move |e: InputEvent| {
            if let Some(t) = target::<HtmlTextAreaElement>(&e) {
                d.dispatch(Action::Edit(Edit::Source(t.value())));
            }
        })
    };
    let error = p.error.as_ref().map(|e| {
        let excerpt = e.line.and_then(|l| {
            let line = p.text.lines().nth(l.checked_sub(1)?)?;
            let gutter = format!("{l:>4} | ");
            let caret =
                " ".repeat(gutter.chars().count() + e.column.unwrap_or(1).saturating_sub(1));
            Some(format!("{gutter}{line}\n{caret}^"))
        });
        html! {
            <div class="ed-source-error">
                <p class="ed-error" id="ed-source-error">{e.to_string()}</p>
                { for excerpt.map(|x| html! { <pre class="excerpt">{x}</pre> }) }
            </div>
        }
    });
    html! {
        <div class="ed-source">
            <p class="ed-explain">{"The draft as the file it makes. What you type here is read as a file is; the forms follow once it reads."}</p>
            { for error }
            <textarea id="ed-source" value={p.text.clone()} spellcheck="false" aria-invalid={p.error.as_ref().map(|_| "true")}
                aria-describedby={p.error.as_ref().map(|_| "ed-source-error")} {oninput} />
        </div>
    }
}
