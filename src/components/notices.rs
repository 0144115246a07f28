//! The error panel, the fork notice and the share link.

use crate::browser::{copy_to_clipboard, share_url, target};
use crate::state::{Action, Dispatch, ErrorNote, ended_notice, send};
use mobike_protocol::Time;
use web_sys::HtmlInputElement;
use yew::prelude::*;

#[derive(Properties, PartialEq)]
pub struct NoticesProps {
    pub error: Option<ErrorNote>,
    /// The fork notice.
    pub notice: Option<String>,
    /// The share link's hash while its panel is open.
    pub share: Option<String>,
    /// Playback stopped by itself at the scenario's end (this time).
    #[prop_or_default]
    pub ended: Option<Time>,
    pub dispatch: Dispatch,
}

#[function_component(Notices)]
pub fn notices(p: &NoticesProps) -> Html {
    let d = &p.dispatch;
    // A new link goes to the clipboard too.
    use_effect_with(p.share.clone(), |share| {
        if let Some(h) = share {
            copy_to_clipboard(&share_url(h));
        }
    });
    let error = p.error.as_ref().map(|e| {
        let excerpt = e.excerpt.as_ref().map(|(line, text, col)| {
            let gutter = format!("{line:>4} | ");
            let caret = format!(
                "{}^",
                " ".repeat(gutter.chars().count() + col.saturating_sub(1))
            );
            html! { <pre class="excerpt">{format!("{gutter}{text}\n{caret}")}</pre> }
        });
        html! {
            <div id="error-panel" class="notice error-panel" role="alert">
                <div class="notice-body">
                    <strong>{e.title.clone()}</strong>
                    <p id="error-message">{e.message.clone()}</p>
                    { for excerpt }
                </div>
                <button class="dismiss" onclick={send(d, Action::DismissError)} title="Dismiss" aria-label="Dismiss">{"×"}</button>
            </div>
        }
    });
    let fork = p.notice.as_ref().map(|n| {
        html! {
            <div id="fork-notice" class="notice fork" role="status">
                <div class="notice-body">{n.clone()}</div>
                <button class="dismiss" onclick={send(d, Action::DismissNotice)} title="Dismiss" aria-label="Dismiss">{"×"}</button>
            </div>
        }
    });
    let share = p.share.as_ref().map(|h| {
        let select = Callback::from(|e: FocusEvent| {
            if let Some(i) = target::<HtmlInputElement>(&e) {
                i.select();
            }
        });
        html! {
            <div id="share-panel" class="notice share" role="status">
                <div class="notice-body">
                    <label for="share-link">{"Link to this run (copied to the clipboard where the browser allows it):"}</label>
                    <input id="share-link" type="text" readonly=true value={share_url(h)} onfocus={select} />
                </div>
                <button class="dismiss" onclick={send(d, Action::CloseShare)} title="Close" aria-label="Close">{"×"}</button>
            </div>
        }
    });
    let ended = p.ended.map(|t| {
        html! {
            <div id="ended-notice" class="notice ended" role="status">
                <div class="notice-body">{ended_notice(t)}</div>
                <button class="dismiss" onclick={send(d, Action::DismissEnded)} title="Dismiss" aria-label="Dismiss">{"×"}</button>
            </div>
        }
    });
    html! {
        <div class="notices">
            { for error }
            { for ended }
            { for fork }
            { for share }
        </div>
    }
}
