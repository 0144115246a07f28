//! The timeline scrubber: the run so far (and the scenario's length), the
//! moment shown, and the user's interventions as marks.

use crate::browser::target;
use crate::state::{Action, Dispatch, SessionRef};
use mobike_protocol::{SEC, Time};
use mobike_render::fmt_time;
use web_sys::HtmlInputElement;
use yew::prelude::*;

#[derive(Properties, PartialEq)]
pub struct TimelineProps {
    pub session: SessionRef,
    /// The session's version: the scrubber follows every change of it.
    pub version: u64,
    pub dispatch: Dispatch,
}

#[function_component(Timeline)]
pub fn timeline(p: &TimelineProps) -> Html {
    let s = p.session.borrow();
    let now = s.now();
    let end = s.end().max(1);
    let horizon = s.horizon();
    let ms = |t: Time| t / 1000;
    let pct = |t: Time| (t as f64 / end as f64 * 100.0).clamp(0.0, 100.0);
    let oninput = {
        let d = p.dispatch.clone();
        Callback::from(move |e: InputEvent| {
            if let Some(v) =
                target::<HtmlInputElement>(&e).and_then(|i| i.value().parse::<f64>().ok())
            {
                d.dispatch(Action::Seek((v.max(0.0) * 1000.0) as Time));
            }
        })
    };
    // Keys on the slider: ← → a tenth of a second, PageUp/PageDown five
    // seconds, Home the start, End as far as the run has gone.
    let onkeydown = {
        let d = p.dispatch.clone();
        Callback::from(move |e: KeyboardEvent| {
            let tenth = (SEC / 10) as i64;
            let action = match e.key().as_str() {
                "ArrowLeft" | "ArrowDown" => Action::SeekBy(-tenth),
                "ArrowRight" | "ArrowUp" => Action::SeekBy(tenth),
                "PageDown" => Action::SeekBy(-50 * tenth),
                "PageUp" => Action::SeekBy(50 * tenth),
                "Home" => Action::Seek(0),
                "End" => Action::Seek(horizon),
                _ => return,
            };
            e.prevent_default();
            d.dispatch(action);
        })
    };
    let marks = s.log().iter().map(|(t, a)| {
        let text = crate::share::describe(a);
        html! {
            <span class={classes!("mark", (*t > now).then_some("future"))}
                style={format!("left: {:.3}%", pct(*t))} title={format!("{}: {text} (by you)", fmt_time(*t))}></span>
        }
    });
    let viewing_past = now < horizon;
    html! {
        <div class="timeline">
            <label for="scrubber" class="tl-label">{"Time"}</label>
            <div class="scrub">
                <input id="scrubber" type="range" min="0" max={ms(end).to_string()} step="any"
                    value={ms(now).to_string()} oninput={oninput} onkeydown={onkeydown}
                    style={format!("--known: {:.2}%", pct(horizon))}
                    aria-valuetext={fmt_time(now)}
                    title="Drag (or use ← → PageUp PageDown Home End) to see any moment; changing something there starts a new timeline" />
                <div class="marks">{ for marks }</div>
            </div>
            <span id="scrub-time" class={classes!("scrub-time", viewing_past.then_some("past"))}>
                { if viewing_past {
                    format!("{} (run to {})", fmt_time(now), fmt_time(horizon))
                } else {
                    format!("{} of {}", fmt_time(now), fmt_time(end))
                } }
            </span>
        </div>
    }
}
