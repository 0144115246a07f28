//! The page's saving effects as hooks: the download "Save scenario" asks
//! for, the offer of work autosaved on an earlier visit, and autosave
//! itself, which writes the work to local storage at most once a second
//! while it changes (and when the page is left).

use crate::editor::EditorRef;
use crate::exports::Body;
use crate::raster;
use crate::state::{Action, Dispatch, Download, SessionRef};
use crate::storage::{self, Saved};
use gloo_events::EventListener;
use gloo_timers::callback::Timeout;
use std::cell::RefCell;
use std::rc::Rc;
use yew::prelude::*;

/// The shortest time between two writes.
const THROTTLE_MS: u32 = 1000;

/// Starts each download the model asks for, once.
#[hook]
pub fn use_download(download: Option<Download>) {
    let done = use_mut_ref(|| None::<u64>);
    use_effect_with(download, move |d| {
        if let Some(d) = d
            && *done.borrow() != Some(d.n)
        {
            *done.borrow_mut() = Some(d.n);
            match &d.body {
                Body::Bytes { data, mime } => storage::download(&d.name, data, mime),
                Body::PngOf(svg) => raster::svg_to_png(svg, &d.name),
                Body::Element { id, png } => match raster::element_svg(id) {
                    Some(svg) if *png => raster::svg_to_png(&svg, &d.name),
                    Some(svg) => storage::download(&d.name, svg.as_bytes(), "image/svg+xml"),
                    None => {}
                },
            }
        }
    });
}

/// On the first render: offer the autosaved work, if there is some.
#[hook]
pub fn use_restore_offer(dispatch: Dispatch) {
    use_effect_with((), move |_| {
        if let Some(saved) = storage::load() {
            dispatch.dispatch(Action::OfferRestore(saved));
        }
    });
}

/// What autosave looks at: the newest state, and what it wrote last.
struct Autosave {
    session: SessionRef,
    editor: Option<EditorRef>,
    edited: bool,
    /// An offer is waiting: its record must not be written over.
    paused: bool,
    last: Option<Saved>,
    /// This page wrote a record (so it may take it away again).
    wrote: bool,
    timer: Option<Timeout>,
}

impl Autosave {
    /// Writes the work if it changed since the last write; takes this
    /// page's record away when nothing is worth keeping any more.
    fn flush(&mut self) {
        self.timer = None;
        if self.paused {
            return;
        }
        let session = self.session.borrow();
        let now = Saved::of(
            &*session,
            self.editor.as_deref(),
            self.edited,
            storage::now_ms(),
        );
        match now {
            Some(saved) => {
                if !self.last.as_ref().is_some_and(|l| l.same_work(&saved)) {
                    storage::store(&saved);
                    self.wrote = true;
                    self.last = Some(saved);
                }
            }
            None => {
                if self.wrote {
                    storage::forget();
                    self.wrote = false;
                }
                self.last = None;
            }
        }
    }
}

/// Autosave: after each change, the work is written within a second.
#[hook]
pub fn use_autosave(
    session: SessionRef,
    version: u64,
    editor: Option<EditorRef>,
    edited: bool,
    paused: bool,
) {
    let state = use_mut_ref(|| None::<Rc<RefCell<Autosave>>>);
    let state = state
        .borrow_mut()
        .get_or_insert_with(|| {
            Rc::new(RefCell::new(Autosave {
                session: session.clone(),
                editor: None,
                edited: false,
                paused,
                last: None,
                wrote: false,
                timer: None,
            }))
        })
        .clone();
    {
        let mut a = state.borrow_mut();
        a.session = session;
        a.editor = editor.clone();
        a.edited = edited;
        a.paused = paused;
    }
    let deps = (version, editor, edited, paused);
    {
        let state = state.clone();
        use_effect_with(deps, move |_| {
            let idle = state.borrow().timer.is_none();
            if idle {
                let weak = Rc::downgrade(&state);
                let timer = Timeout::new(THROTTLE_MS, move || {
                    if let Some(s) = weak.upgrade() {
                        s.borrow_mut().flush();
                    }
                });
                state.borrow_mut().timer = Some(timer);
            }
        });
    }
    // Leaving the page (reload, close) writes what the timer has not yet.
    use_effect_with((), move |_| {
        let listener = web_sys::window()
            .map(|w| EventListener::new(&w, "pagehide", move |_| state.borrow_mut().flush()));
        move || drop(listener)
    });
}
