//! The banner that offers work autosaved on an earlier visit: "Restore
//! your unsaved work from 12:04?" with Restore and Discard.

use crate::state::{Action, Dispatch, send};
use crate::storage::{self, Saved};
use yew::prelude::*;

#[derive(Properties, PartialEq)]
pub struct RestoreProps {
    pub offer: Option<Saved>,
    pub dispatch: Dispatch,
}

#[function_component(RestoreBanner)]
pub fn restore_banner(RestoreProps { offer, dispatch }: &RestoreProps) -> Html {
    let Some(saved) = offer else {
        return html! {};
    };
    let discard = {
        let d = dispatch.clone();
        Callback::from(move |_| {
            // Discarded for good: a later reload offers nothing.
            storage::forget();
            d.dispatch(Action::DiscardRestore);
        })
    };
    html! {
        <div id="restore-banner" class="notice restore" role="alert">
            <div class="notice-body" id="restore-text">{saved.describe(&storage::clock(saved.at_ms))}</div>
            <button id="restore" class="primary" onclick={send(dispatch, Action::Restore)}>{"Restore"}</button>
            <button id="discard" onclick={discard}>{"Discard"}</button>
        </div>
    }
}
