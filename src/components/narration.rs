//! The scenario's narration: the step shown, buttons back and forward
//! through every step reached (none is lost when several come at one
//! moment), lesson mode, and at the last step of a lesson the next one.

use super::rule_refs::with_refs;
use crate::state::{Action, Dispatch, send};
use mobike_protocol::Time;
use mobike_render::fmt_time;
use yew::prelude::*;

/// Where the narration is.
#[derive(Clone, Debug, PartialEq)]
pub struct Step {
    /// The step shown, from 1; 0 before the first.
    pub shown: usize,
    /// How many steps the scenario has.
    pub total: usize,
    /// How many the user has been shown: the ones to go back and forth in.
    pub seen: usize,
    /// A step was reached at the same moment and is not shown yet (lesson
    /// mode shows it on Play).
    pub waiting: bool,
    /// When each step seen came.
    pub times: Vec<Time>,
    /// The shown step's text.
    pub text: AttrValue,
}

#[derive(Properties, PartialEq)]
pub struct NarrationProps {
    /// `None` for a scenario without narration.
    pub step: Option<Step>,
    pub lesson: bool,
    pub playing: bool,
    /// At the last step: the next lesson of the course, (its example, its
    /// title), offered with a button.
    #[prop_or_default]
    pub next_lesson: Option<(usize, AttrValue)>,
    pub dispatch: Dispatch,
}

#[function_component(Narration)]
pub fn narration(p: &NarrationProps) -> Html {
    let Some(step) = &p.step else {
        return html! {};
    };
    let (k, n, seen) = (step.shown, step.total, step.seen);
    let paused_here = p.lesson && !p.playing && k > 0 && (k < n || step.waiting);
    let d = &p.dispatch;
    // Forward goes to the next step seen, or shows the one waiting.
    let can_forward = k < seen || (k == seen && step.waiting);
    let at = step.times.get(k.wrapping_sub(1)).copied();
    let head = if k == 0 {
        format!("{n} steps")
    } else {
        format!("Step {k} of {n}")
    };
    html! {
        <div id="narration" class="panel narration" aria-live="polite">
            <div class="narration-head">
                <span class="step-nav">
                    <button id="step-back" class="step-arrow" disabled={k <= 1}
                        onclick={send(d, Action::ShowStep(k.saturating_sub(1)))}
                        title="The step before" aria-label="Previous step">{"‹"}</button>
                    <span id="narration-step" class="step-count" data-step={k.to_string()}>{head}</span>
                    { for at.filter(|_| k > 0).map(|t| html! { <span class="step-time">{fmt_time(t)}</span> }) }
                    <button id="step-forward" class="step-arrow" disabled={!can_forward}
                        onclick={send(d, Action::ShowStep(k + 1))}
                        title="The next step reached" aria-label="Next step">{"›"}</button>
                </span>
                <span id="step-dots" class="step-dots" aria-label="Steps">
                    { for (1..=n).map(|i| {
                        let reached = i <= seen || (i == seen + 1 && step.waiting);
                        let title = match step.times.get(i - 1) {
                            Some(t) if i <= seen => format!("Step {i}, at {}", fmt_time(*t)),
                            _ if reached => format!("Step {i}, at this moment too"),
                            _ => format!("Step {i}: not reached yet"),
                        };
                        html! {
                            <button class={classes!("dot", (i == k).then_some("current"), (i <= seen).then_some("seen"))}
                                data-step={i.to_string()} disabled={!reached} aria-current={(i == k).then_some("step")}
                                {title} onclick={send(d, Action::ShowStep(i))}>{i}</button>
                        }
                    }) }
                </span>
                <label title="Playback pauses at every step, one at a time even when several come at one moment; Space or Play continues">
                    <input id="lesson" type="checkbox" checked={p.lesson} onchange={send(d, Action::ToggleLesson)} />
                    {" pause at each step"}
                </label>
            </div>
            <p id="narration-text" class={classes!((k == 0).then_some("muted"))}>
                { if k == 0 { html! { "The first step appears when its moment comes: press Play." } } else { with_refs(&step.text) } }
            </p>
            if paused_here {
                <p class="muted continue">{ if step.waiting && k == seen {
                    "Paused at this step; the next one came at the same moment: Space or Play shows it."
                } else {
                    "Paused at this step: Space or Play continues."
                } }</p>
            }
            if let Some((i, title)) = p.next_lesson.clone().filter(|_| k == n && n > 0) {
                <p class="next-lesson-end">
                    <button id="next-lesson-end" class="primary" onclick={send(d, Action::LoadExample(i))}>
                        {format!("Next lesson: {title} ›")}
                    </button>
                </p>
            }
        </div>
    }
}
