//! The scenario editor, a panel beside the drawing: tabs of cards of
//! fields, drawn from the editor's form view model; every change is an
//! `Edit` for the reducer. Apply starts the run over from the draft,
//! Cancel drops it (asking first when it has changes).

mod card;
mod field;
mod settings;
mod source;

use crate::editor::{Edit, EditorRef};
use crate::state::{Action, Dispatch, send};
use card::Card;
use settings::SettingsTable;
use source::SourceView;
use yew::prelude::*;

#[derive(Properties, PartialEq)]
pub struct EditorProps {
    pub editor: EditorRef,
    pub dispatch: Dispatch,
}

#[function_component(EditorPanel)]
pub fn editor_panel(
    EditorProps {
        editor,
        dispatch: d,
    }: &EditorProps,
) -> Html {
    let form = {
        let editor = editor.clone();
        use_memo(editor, |e| e.form())
    };
    let errors = form.errors.len();
    let cancel = if editor.dirty {
        send(d, Action::Edit(Edit::AskCancel))
    } else {
        send(d, Action::EditorClose)
    };
    let tabs = form.tabs.iter().map(|&(t, n)| {
        let id = format!("ed-tab-{}", t.name().to_lowercase());
        html! {
            <button {id} role="tab" aria-selected={(t == form.tab).to_string()}
                class={classes!("ed-tab", (t == form.tab).then_some("on"), (n > 0).then_some("has-errors"))}
                onclick={send(d, Action::Edit(Edit::Tab(t)))}>
                {t.name()}
                if n > 0 { <span class="ed-count">{n}</span> }
            </button>
        }
    });
    let summary = (errors > 0).then(|| {
        html! {
            <div id="ed-errors" class="ed-errors" role="status">
                <strong>{match errors { 1 => "1 error keeps this from running:".to_string(), n => format!("{n} errors keep this from running:") }}</strong>
                <ul>
                    { for form.errors.iter().take(8).map(|e| html! {
                        <li><button class="ed-link" onclick={send(d, Action::Edit(Edit::Tab(e.tab)))}>
                            {format!("{} › {}", e.tab.name(), e.place)}</button>{format!(": {}", e.message)}</li>
                    }) }
                    if errors > 8 { <li>{format!("and {} more", errors - 8)}</li> }
                </ul>
            </div>
        }
    });
    let body = match (&form.settings, &form.source) {
        (Some(view), _) => html! { <SettingsTable view={view.clone()} dispatch={d.clone()} /> },
        (None, Some((text, error))) => html! {
            <SourceView text={AttrValue::from(text.clone())} error={error.clone()} dispatch={d.clone()} />
        },
        (None, None) => html! {
            <>
                if form.cards.is_empty() {
                    <p class="ed-empty">{"Nothing here yet."}</p>
                }
                { for form.cards.iter().map(|c| html! { <Card key={c.id.clone()} card={c.clone()} dispatch={d.clone()} /> }) }
            </>
        },
    };
    html! {
        <section id="editor" class="editor" aria-label="Scenario editor">
            <div class="ed-head">
                <h2>{"Edit scenario"}</h2>
                <button id="ed-apply" class="primary" disabled={errors > 0} onclick={send(d, Action::EditorApply)}
                    title="Start the run over from this scenario">{"Apply"}</button>
                <button id="ed-cancel" onclick={cancel} title="Close the editor without applying">{"Cancel"}</button>
            </div>
            <p class="ed-explain" id="ed-apply-explain">
                {"Apply starts the run over at 0 s from this scenario; the run on the left keeps going until then. Your interventions are kept: they are the Timeline's events marked \u{201c}by you\u{201d} (remove those you do not want)."}
            </p>
            if editor.confirm_cancel {
                <div class="ed-confirm" role="alert">
                    <span>{"Discard your changes to this scenario?"}</span>
                    <button id="ed-discard" onclick={send(d, Action::EditorClose)}>{"Discard"}</button>
                    <button id="ed-keep" onclick={send(d, Action::Edit(Edit::KeepEditing))}>{"Keep editing"}</button>
                </div>
            }
            { for editor.note.as_ref().map(|n| html! {
                <div class="ed-note" role="status">
                    <span>{n.clone()}</span>
                    <button class="dismiss" onclick={send(d, Action::Edit(Edit::DismissNote))} aria-label="Dismiss">{"×"}</button>
                </div>
            }) }
            <nav class="ed-tabs" role="tablist">{ for tabs }</nav>
            { for summary }
            if !form.adds.is_empty() {
                <div class="ed-adds">
                    { for form.adds.iter().map(|(add, label)| html! {
                        <button class="ed-add" id={add.id()} onclick={send(d, Action::Edit(Edit::Add(*add)))}>{*label}</button>
                    }) }
                </div>
            }
            { for form.kept.as_ref().map(|k| html! { <p class="ed-explain">{k.clone()}</p> }) }
            <div class="ed-body">{ body }</div>
        </section>
    }
}
