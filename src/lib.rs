//! The MOBIKE Playground page (yew). Everything the user does is an
//! [`Action`]; the reducer in [`state`] applies it to the
//! [`session::Session`], which holds the running simulation. Components
//! only draw view models from the session and the render crate; they do no
//! protocol arithmetic.
#![forbid(unsafe_code)]

pub mod session;
pub mod share;
pub mod state;
pub mod timeline;
mod view;

pub use state::{Action, ErrorNote, Model, SEEK_STEP};
use yew::prelude::*;

#[function_component(App)]
pub fn app() -> Html {
    let model = use_reducer(|| {
        let hash = web_sys::window()
            .and_then(|w| w.location().hash().ok())
            .unwrap_or_default();
        Model::from_hash(&hash)
    });
    view::page(&model)
}
