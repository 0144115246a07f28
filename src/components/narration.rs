//! The scenario's narration: the step shown last, and lesson mode.

use crate::state::{Action, Dispatch, send};
use yew::prelude::*;

/// Where the narration is.
#[derive(Clone, Debug, PartialEq)]
pub struct Step {
    /// The step shown last, from 1; 0 before the first.
    pub shown: usize,
    /// How many steps the scenario has.
    pub total: usize,
    /// The shown step's text.
    pub text: AttrValue,
}

#[derive(Properties, PartialEq)]
pub struct NarrationProps {
    /// `None` for a scenario without narration.
    pub step: Option<Step>,
    pub lesson: bool,
    pub playing: bool,
    pub dispatch: Dispatch,
}

#[function_component(Narration)]
pub fn narration(p: &NarrationProps) -> Html {
    let Some(Step {
        shown: k,
        total: n,
        text,
    }) = &p.step
    else {
        return html! {};
    };
    let (k, n) = (*k, *n);
    let paused_here = p.lesson && !p.playing && k > 0 && k < n;
    html! {
        <div id="narration" class="panel narration" aria-live="polite">
            <div class="narration-head">
                <span id="narration-step" class="step-count">{ if k == 0 { format!("{n} steps") } else { format!("Step {k} of {n}") } }</span>
                <label title="Playback pauses whenever a new step appears; Space or Play continues">
                    <input id="lesson" type="checkbox" checked={p.lesson} onchange={send(&p.dispatch, Action::ToggleLesson)} />
                    {" pause at each step"}
                </label>
            </div>
            <p id="narration-text" class={classes!((k == 0).then_some("muted"))}>
                { if k == 0 { "The first step appears when its moment comes: press Play.".to_string() } else { text.to_string() } }
            </p>
            { if paused_here { html! { <p class="muted continue">{"Paused at this step: Space or Play continues."}</p> } } else { html! {} } }
        </div>
    }
}
