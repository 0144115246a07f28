//! The page's side effects as hooks: the animation interval, the keyboard
//! shortcuts and the URL hash. Each dispatches [`Action`]s; none changes
//! state itself.

use crate::browser::{clock_ms, location_hash, set_hash};
use crate::state::{Action, Dispatch, SEEK_STEP};
use gloo_events::{EventListener, EventListenerOptions};
use gloo_timers::callback::Interval;
use wasm_bindgen::JsCast;
use web_sys::Element;
use yew::prelude::*;

/// Wall-clock milliseconds between animation ticks.
pub const TICK_MS: u32 = 40;

/// While playing, tick the simulation. Each tick carries the wall-clock
/// time since the one before (the browser fires intervals late when a frame
/// runs long), so virtual time follows the wall clock at the chosen speed;
/// at most two ticks' worth, so a tab that slept does not leap ahead. The
/// first tick goes as Play is pressed, for the interval's first 40 ms
/// (which the worker ran ahead while the page was paused), so playing
/// moves at once instead of a tick and a reply later.
#[hook]
pub fn use_ticker(playing: bool, dispatch: Dispatch) {
    use_effect_with(playing, move |playing| {
        let interval = playing.then(|| {
            dispatch.dispatch(Action::Tick(TICK_MS));
            let last = std::cell::Cell::new(clock_ms());
            Interval::new(TICK_MS, move || {
                let now = clock_ms();
                let real = match (last.replace(now), now) {
                    (Some(a), Some(b)) => ((b - a).round() as u32).clamp(1, 2 * TICK_MS),
                    _ => TICK_MS,
                };
                dispatch.dispatch(Action::Tick(real));
            })
        });
        move || drop(interval)
    });
}

/// Replies of the worker waiting for the page's next frame: the replies
/// to ticks that came by then are taken in together, and the page is drawn
/// once a frame however fast the worker answers. (Taking in one a frame
/// instead was measured no smoother and plays slower.)
#[cfg(target_arch = "wasm32")]
struct Inbox {
    waiting: std::cell::RefCell<Vec<std::rc::Rc<[u8]>>>,
    asked: std::cell::Cell<bool>,
    dispatch: Dispatch,
}

#[cfg(target_arch = "wasm32")]
impl Inbox {
    /// Takes in every reply waiting.
    fn take(&self) {
        let replies = std::mem::take(&mut *self.waiting.borrow_mut());
        if !replies.is_empty() {
            self.dispatch
                .dispatch(Action::Engine(crate::state::EngineReply(replies)));
        }
    }

    /// Asks for the next frame, once, to take in the replies waiting.
    fn ask_frame(this: &std::rc::Rc<Inbox>) {
        if this.asked.replace(true) {
            return;
        }
        let me = this.clone();
        let next = wasm_bindgen::closure::Closure::once_into_js(move || {
            me.asked.set(false);
            me.take();
        });
        let asked =
            web_sys::window().map(|w| w.request_animation_frame(next.unchecked_ref()).is_ok());
        if asked != Some(true) {
            this.asked.set(false);
            this.take();
        }
    }
}

/// What the page tells the worker for each reply it has taken in (see
/// `static/engine.js`).
#[cfg(target_arch = "wasm32")]
const TOOK: &str = "took";

/// A long jump forward's progress while its slices come in: the clock
/// says how far the run has come (`data-progress`, which the style sheet
/// writes after "computing…") and the slider's computed part grows to it.
/// Set on the two elements directly: the page is not drawn for a slice
/// (see `Model::reduce`), and the jump's last reply draws the slider with
/// its own style again.
#[cfg(target_arch = "wasm32")]
fn show_jump_progress(s: &crate::live::Live) {
    let Some(doc) = web_sys::window().and_then(|w| w.document()) else {
        return;
    };
    let Some(clock) = doc.get_element_by_id("clock") else {
        return;
    };
    let Some((at, to)) = s.jump_progress() else {
        let _ = clock.remove_attribute("data-progress");
        return;
    };
    let text = format!(
        "{} of {}",
        mobike_render::fmt_time(at),
        mobike_render::fmt_time(to)
    );
    let _ = clock.set_attribute("data-progress", &text);
    if let Some(slider) = doc
        .get_element_by_id("scrubber")
        .and_then(|e| e.dyn_into::<web_sys::HtmlElement>().ok())
    {
        let known = at as f64 / s.end().max(1) as f64 * 100.0;
        let _ = slider
            .style()
            .set_property("--known", &format!("{known:.2}%"));
    }
}

/// Keyboard: Space plays/pauses, "." steps, "r" resets, ← and → move one
/// second through time; not while typing in a field, and Space not on a
/// focused button (it presses the button).
#[hook]
pub fn use_keyboard(dispatch: Dispatch) {
    use_effect_with((), move |_| {
        let listener = web_sys::window().and_then(|w| w.document()).map(|doc| {
            // Not passive: Space must not scroll the page.
            let options = EventListenerOptions::enable_prevent_default();
            EventListener::new_with_options(&doc, "keydown", options, move |e| {
                let Some(e) = e.dyn_ref::<web_sys::KeyboardEvent>() else {
                    return;
                };
                let el = e.target().and_then(|t| t.dyn_into::<Element>().ok());
                let typing = el.as_ref().is_some_and(|el| {
                    matches!(el.tag_name().as_str(), "INPUT" | "SELECT" | "TEXTAREA")
                });
                if typing || e.ctrl_key() || e.meta_key() || e.alt_key() {
                    return;
                }
                let within = |sel: &str| {
                    el.as_ref()
                        .is_some_and(|el| el.closest(sel).ok().flatten().is_some())
                };
                // Space on a focused button presses it (and anything in an
                // element menu keeps its keys); the chart's rows take their
                // own keys (Space, Enter, the arrows).
                let key = e.key();
                if key == " "
                    && within("button, a[href], summary, [role=button], [tabindex], #menu")
                    || key.starts_with("Arrow") && within("#chart [data-row]")
                {
                    return;
                }
                let step = SEEK_STEP as i64;
                match key.as_str() {
                    " " => {
                        e.prevent_default();
                        dispatch.dispatch(Action::TogglePlay);
                    }
                    "." => dispatch.dispatch(Action::Step),
                    "r" => dispatch.dispatch(Action::Reset),
                    "ArrowLeft" => {
                        e.prevent_default();
                        dispatch.dispatch(Action::SeekBy(-step));
                    }
                    "ArrowRight" => {
                        e.prevent_default();
                        dispatch.dispatch(Action::SeekBy(step));
                    }
                    _ => {}
                }
            })
        });
        move || drop(listener)
    });
}

/// The URL hash follows the share link; a hash typed or pasted into this
/// tab opens that run.
#[hook]
pub fn use_share_hash(share: Option<String>, dispatch: Dispatch) {
    use_effect_with(share, |share| {
        set_hash(share.as_deref());
    });
    use_effect_with((), move |_| {
        let listener = web_sys::window().map(|w| {
            EventListener::new(&w, "hashchange", move |_| {
                dispatch.dispatch(Action::OpenHash(location_hash()));
            })
        });
        move || drop(listener)
    });
}

/// The simulation's worker (see [`crate::engine`]): each reply it posts
/// becomes an [`Action::Engine`], and a failure (its wasm stopped) an
/// [`Action::EngineFailed`], after which the run goes on in the page.
#[hook]
pub fn use_engine(session: crate::state::SessionRef, dispatch: Dispatch) {
    use_effect_with((), move |_| {
        #[cfg(target_arch = "wasm32")]
        let worker = session.borrow().link().worker();
        #[cfg(target_arch = "wasm32")]
        let listeners = worker.map(|w| {
            let d = dispatch.clone();
            // Replies to ticks wait for the next frame. Any other reply
            // (a click's) is taken in at once, with those waiting before it.
            use std::rc::Rc;
            let inbox = Rc::new(Inbox {
                waiting: Default::default(),
                asked: Default::default(),
                dispatch: d,
            });
            let to_worker = w.clone();
            let replies = EventListener::new(&w, "message", move |e| {
                let Some(e) = e.dyn_ref::<web_sys::MessageEvent>() else {
                    return;
                };
                let bytes = web_sys::js_sys::Uint8Array::new(&e.data()).to_vec();
                let k = inbox.waiting.borrow().len();
                let tick = session.borrow().waits_for_tick(k);
                inbox.waiting.borrow_mut().push(Rc::from(bytes));
                if tick {
                    Inbox::ask_frame(&inbox);
                } else {
                    inbox.take();
                    show_jump_progress(&session.borrow());
                }
                // Taken in (or waiting for the frame): the worker may send
                // the next slice of a jump (engine.js keeps two on their
                // way at most, so the page never falls behind a long jump
                // and another jump it asks for ends that one at once).
                let _ = to_worker.post_message(&wasm_bindgen::JsValue::from_str(TOOK));
            });
            let failures = EventListener::new(&w, "error", move |e| {
                let why = e
                    .dyn_ref::<web_sys::ErrorEvent>()
                    .map(|e| e.message())
                    .filter(|m| !m.is_empty())
                    .unwrap_or_else(|| "the worker could not run".into());
                dispatch.dispatch(Action::EngineFailed(why));
            });
            (replies, failures)
        });
        #[cfg(not(target_arch = "wasm32"))]
        let listeners = (session, dispatch);
        move || drop(listeners)
    });
}
