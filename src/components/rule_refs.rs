//! Rule references in text (checklist ids such as M-3.5-2, and RFC
//! sections the checklist has rules for) as buttons that show the rule's
//! text: in narration, chart notes and the inspector's reasons. Where the
//! references are is `mobike_render::rules::find_refs`; one listener on
//! the document opens them all, so the views that draw them need no
//! callback, and the popover shows the rule with its section.

use crate::state::{Action, Dispatch, send};
use gloo_events::{EventListener, EventListenerOptions};
use mobike_render::rules::{explain, split_refs};
use wasm_bindgen::JsCast;
use web_sys::{Element, HtmlElement};
use yew::prelude::*;

/// The attribute a rule reference carries: its key.
const ATTR: &str = "data-rule-ref";

/// `text` with its rule references as buttons (HTML).
pub fn with_refs(text: &str) -> Html {
    html! {
        { for split_refs(text).into_iter().map(|(piece, key)| match key {
            Some(key) => html! {
                <button type="button" class="rule-ref" data-rule-ref={key.clone()}
                    title={format!("Show the text of {key}")}>{piece.to_string()}</button>
            },
            None => html! { {piece.to_string()} },
        }) }
    }
}

/// The same inside SVG text: `tspan`s that act as buttons. They take focus
/// (Enter or Space then opens them) but stay out of the Tab order: the
/// chart is one Tab stop, its rows walked with the arrow keys.
pub fn svg_with_refs(text: &str) -> Html {
    html! {
        { for split_refs(text).into_iter().map(|(piece, key)| match key {
            Some(key) => html! {
                <tspan class="rule-ref" data-rule-ref={key.clone()} role="button" tabindex="-1"
                    aria-label={format!("{piece}: show the rule's text")}>{piece.to_string()}</tspan>
            },
            None => html! { {piece.to_string()} },
        }) }
    }
}

/// The rule reference an event happened on.
fn ref_of(e: &web_sys::Event) -> Option<String> {
    let el = e.target()?.dyn_into::<Element>().ok()?;
    el.closest(&format!("[{ATTR}]")).ok()??.get_attribute(ATTR)
}

/// Clicking a rule reference anywhere (or Enter or Space on one) shows its
/// rule.
#[hook]
pub fn use_rule_refs(dispatch: Dispatch) {
    use_effect_with((), move |_| {
        let doc = web_sys::window().and_then(|w| w.document());
        let listeners = doc.map(|doc| {
            let d = dispatch.clone();
            let click = EventListener::new(&doc, "click", move |e| {
                if let Some(key) = ref_of(e) {
                    d.dispatch(Action::ShowRule(Some(key)));
                }
            });
            // A button does this itself; an SVG tspan does not.
            let d = dispatch.clone();
            // Not passive: Space on one must not scroll the page.
            let options = EventListenerOptions::enable_prevent_default();
            let key = EventListener::new_with_options(&doc, "keydown", options, move |e| {
                let Some(k) = e.dyn_ref::<web_sys::KeyboardEvent>() else {
                    return;
                };
                let on_tspan = e
                    .target()
                    .and_then(|t| t.dyn_into::<Element>().ok())
                    .is_some_and(|el| el.tag_name() == "tspan");
                if on_tspan
                    && (k.key() == "Enter" || k.key() == " ")
                    && let Some(key) = ref_of(e)
                {
                    e.prevent_default();
                    d.dispatch(Action::ShowRule(Some(key)));
                }
            });
            (click, key)
        });
        move || drop(listeners)
    });
}

#[derive(Properties, PartialEq)]
pub struct RulePopoverProps {
    /// The reference whose rule is shown.
    pub rule: Option<String>,
    pub dispatch: Dispatch,
}

/// The rule's text, in the reference's words, with its RFC section; a
/// close button (focused when it opens) and Escape close it.
#[function_component(RulePopover)]
pub fn rule_popover(p: &RulePopoverProps) -> Html {
    let close_ref = use_node_ref();
    // What had the focus when it opened gets it back when it closes.
    let opener = use_mut_ref(|| None::<HtmlElement>);
    {
        let close_ref = close_ref.clone();
        use_effect_with(p.rule.clone(), move |rule| {
            if rule.is_some() {
                if opener.borrow().is_none() {
                    *opener.borrow_mut() = web_sys::window()
                        .and_then(|w| w.document())
                        .and_then(|d| d.active_element())
                        .and_then(|e| e.dyn_into::<HtmlElement>().ok());
                }
                if let Some(b) = close_ref.cast::<HtmlElement>() {
                    b.focus().ok();
                }
            } else if let Some(el) = opener.borrow_mut().take() {
                el.focus().ok();
            }
        });
    }
    let Some((title, lines)) = p.rule.as_deref().and_then(explain) else {
        return html! {};
    };
    let onkeydown = {
        let d = p.dispatch.clone();
        Callback::from(move |e: KeyboardEvent| {
            if e.key() == "Escape" {
                d.dispatch(Action::ShowRule(None));
            }
        })
    };
    html! {
        <div id="rule-popover" class="rule-popover" role="dialog" aria-labelledby="rule-popover-title" {onkeydown}>
            <div class="rule-popover-head">
                <h3 id="rule-popover-title">{title}</h3>
                <button id="rule-close" class="dismiss" ref={close_ref} aria-label="Close"
                    onclick={send(&p.dispatch, Action::ShowRule(None))}>{"×"}</button>
            </div>
            <ul class="rules">
                { for lines.iter().map(|l| html! {
                    <li class="rule" data-rule={l.id.clone()}>
                        <code class="rule-id">{l.id.clone()}</code>
                        { if l.keyword.is_empty() { html! {} } else { html! { <span class="kw">{l.keyword.clone()}</span> } } }
                        <span class="req">{l.requirement.clone()}</span>
                        <span class="src">{format!("({})", l.source)}</span>
                    </li>
                }) }
            </ul>
            <p class="muted rule-popover-note">{"The requirement in the words of the conformance checklist, with the RFC section it comes from."}</p>
        </div>
    }
}
