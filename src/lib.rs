//! The MOBIKE Playground page (yew). Everything the user does is an
//! [`Action`]; the reducer in [`state`] applies it to the
//! [`session::Session`], which holds the running simulation. Components
//! (one a file, in `components`) take narrow props, draw view models from
//! the render crate and do no protocol arithmetic; side effects (the
//! animation interval, keyboard shortcuts, the URL hash) are hooks in
//! `effects`, and what touches the browser directly is in `browser`.
#![forbid(unsafe_code)]

pub mod bench;
mod browser;
pub mod compare;
mod components;
pub mod course;
pub mod crash;
pub mod editor;
mod effects;
pub mod engine;
pub mod exports;
pub mod live;
mod raster;
mod saving;
pub mod session;
pub mod share;
pub mod state;
pub mod storage;
pub mod timeline;

pub use components::app::App;
pub use state::{Action, ErrorNote, Model, SEEK_STEP};
