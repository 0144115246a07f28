//! What the page asks of the browser itself: the URL hash, the page's
//! address, the clipboard, and the element an event came from. Everything
//! fails quietly: a browser that refuses leaves the page working.

use wasm_bindgen::JsCast;

/// The URL's hash ("#v=1&…"), or "" when there is none.
pub fn location_hash() -> String {
    web_sys::window()
        .and_then(|w| w.location().hash().ok())
        .unwrap_or_default()
}

/// The page was opened with `?test-panic` (a browser test of the crash
/// panel): it shows a button that provokes a panic.
pub fn test_panic_page() -> bool {
    web_sys::window()
        .and_then(|w| w.location().search().ok())
        .is_some_and(|s| s.contains("test-panic"))
}

/// Puts the share link's hash in the address bar (or takes a stale one
/// out) without a history entry or a hashchange event.
pub fn set_hash(hash: Option<&str>) {
    let Some(w) = web_sys::window() else { return };
    let current = w.location().hash().unwrap_or_default();
    let want = hash.map(|h| format!("#{h}")).unwrap_or_default();
    if current == want {
        return;
    }
    let path = w.location().pathname().unwrap_or_default();
    let search = w.location().search().unwrap_or_default();
    if let Ok(history) = w.history() {
        let _ = history.replace_state_with_url(
            &wasm_bindgen::JsValue::NULL,
            "",
            Some(&format!("{path}{search}{want}")),
        );
    }
}

/// The page's address with this hash.
pub fn share_url(hash: &str) -> String {
    let href = web_sys::window()
        .and_then(|w| w.location().href().ok())
        .unwrap_or_default();
    let base = href.split('#').next().unwrap_or_default();
    format!("{base}#{hash}")
}

/// Copies text to the clipboard where the browser allows it; a refusal is
/// fine (the link is shown in a text field too).
pub fn copy_to_clipboard(text: &str) {
    use web_sys::js_sys::{Promise, Reflect};
    let Some(w) = web_sys::window() else { return };
    let nav = w.navigator();
    if !Reflect::has(&nav, &"clipboard".into()).unwrap_or(false) {
        return;
    }
    let promise: Promise = nav.clipboard().write_text(text);
    let ignore = wasm_bindgen::closure::Closure::<dyn FnMut(wasm_bindgen::JsValue)>::new(|_| {});
    let _ = promise.catch(&ignore);
    ignore.forget();
}

/// The element an event came from, as the kind the handler expects.
pub fn target<T: JsCast>(e: &web_sys::Event) -> Option<T> {
    e.target().and_then(|t| t.dyn_into::<T>().ok())
}

/// The window's clock, or the worker's (its own global scope's).
#[cfg(target_arch = "wasm32")]
fn performance() -> Option<web_sys::Performance> {
    use wasm_bindgen::JsCast;
    match web_sys::window() {
        Some(w) => w.performance(),
        None => web_sys::js_sys::global()
            .dyn_into::<web_sys::WorkerGlobalScope>()
            .ok()
            .and_then(|g| g.performance()),
    }
}

/// The page's monotonic clock in milliseconds, for pacing the animation
/// only: nothing the simulation computes depends on it. `None` outside a
/// browser (the native tests), where nothing is paced.
pub fn clock_ms() -> Option<f64> {
    #[cfg(target_arch = "wasm32")]
    {
        // Found once per thread: a budgeted run reads the clock every few
        // events, and finding it took four calls into JavaScript.
        thread_local! {
            static CLOCK: Option<web_sys::Performance> = performance();
        }
        CLOCK.with(|p| p.as_ref().map(|p| p.now()))
    }
    #[cfg(not(target_arch = "wasm32"))]
    {
        None
    }
}
