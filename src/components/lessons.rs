//! The course bar: "Lessons" opens the list of lessons (the current one
//! marked), "Lesson k of n" says where the running example is in the
//! course, and "Next lesson" opens the one after it.

use super::print_view::PrintLesson;
use crate::course::{lesson_of, lessons, next_lesson};
use crate::state::{Action, Dispatch, SessionRef};
use yew::prelude::*;

#[derive(Properties, PartialEq)]
pub struct LessonBarProps {
    /// The built-in example running; `None` for a scenario from a file.
    pub example: Option<usize>,
    /// For the handout "Print lesson" makes.
    pub session: SessionRef,
    pub version: u64,
    pub dispatch: Dispatch,
}

#[function_component(LessonBar)]
pub fn lesson_bar(p: &LessonBarProps) -> Html {
    let open = use_state(|| false);
    let all = lessons();
    let current = lesson_of(p.example);
    let next = next_lesson(p.example);
    let toggle = {
        let open = open.clone();
        Callback::from(move |_: MouseEvent| open.set(!*open))
    };
    let go = |example: usize| {
        let (d, open) = (p.dispatch.clone(), open.clone());
        Callback::from(move |_: MouseEvent| {
            open.set(false);
            d.dispatch(Action::LoadExample(example));
        })
    };
    let onkeydown = {
        let open = open.clone();
        Callback::from(move |e: KeyboardEvent| {
            if e.key() == "Escape" {
                open.set(false);
            }
        })
    };
    let n = all.len();
    html! {
        <div class="lessons-bar" {onkeydown}>
            <div class="lessons-menu">
                <button id="lessons" aria-expanded={(*open).to_string()} aria-controls="lessons-panel" onclick={toggle}
                    title="A guided path through the built-in examples">{"Lessons ▾"}</button>
                if *open {
                    <div id="lessons-panel" class="lessons-panel">
                        <p class="lessons-intro">{format!("A course in {n} lessons, each a scenario with narration. Tick “pause at each step” to stop at every step.")}</p>
                        <ol>
                            { for all.iter().map(|l| {
                                let here = current.as_ref().is_some_and(|c| c.index == l.index);
                                html! {
                                    <li class={classes!(here.then_some("current"))}>
                                        <button class="lesson" data-lesson={(l.index + 1).to_string()}
                                            aria-current={here.then_some("page")} onclick={go(l.example)}>
                                            <span class="lesson-n">{l.index + 1}</span>
                                            <span class="lesson-title">{l.title.clone()}</span>
                                            { if here { html! { <span class="here">{"you are here"}</span> } } else { html! {} } }
                                        </button>
                                    </li>
                                }
                            }) }
                        </ol>
                    </div>
                }
            </div>
            { match &current {
                Some(l) => html! {
                    <span id="lesson-count" class="lesson-count">{format!("Lesson {} of {n}", l.index + 1)}</span>
                },
                None => html! {
                    <span id="lesson-count" class="lesson-count muted">{"Not a lesson of the course"}</span>
                },
            } }
            { match &next {
                Some(l) => html! {
                    <button id="next-lesson" class="primary" onclick={go(l.example)}
                        title={format!("Open lesson {}: {}", l.index + 1, l.title)}>{"Next lesson ›"}</button>
                },
                None if current.is_none() => html! {
                    <button id="next-lesson" class="primary" onclick={go(all.first().map_or(0, |l| l.example))}
                        title="Open the first lesson of the course">{"Start the course ›"}</button>
                },
                None => html! { <span class="muted">{"The last lesson"}</span> },
            } }
            <span class="lessons-spacer"></span>
            <PrintLesson session={p.session.clone()} version={p.version} />
        </div>
    }
}
