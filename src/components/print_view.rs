//! "Print lesson": a handout of the running lesson (its topology drawing,
//! the whole chart as SVG, every narration step with its time), laid out
//! by the print style sheet, then the browser's print dialog.

use crate::session::Handout;
use crate::state::SessionRef;
use mobike_render::fmt_time;
use yew::prelude::*;

#[derive(Properties, PartialEq)]
pub struct PrintLessonProps {
    pub session: SessionRef,
    /// Changes whenever the session does.
    pub version: u64,
}

/// Copies the drawing on the page (`#topology`) into the handout, without
/// its ids (they stay the page's own).
fn copy_topology(into: &NodeRef) {
    let Some(host) = into.cast::<web_sys::Element>() else {
        return;
    };
    let doc = web_sys::window().and_then(|w| w.document());
    let Some(svg) = doc.and_then(|d| d.get_element_by_id("topology")) else {
        return;
    };
    if let Ok(copy) = svg.clone_node_with_deep(true) {
        host.set_inner_html("");
        if let Some(el) = wasm_bindgen::JsCast::dyn_ref::<web_sys::Element>(&copy) {
            el.remove_attribute("id").ok();
            if let Ok(all) = el.query_selector_all("[id]") {
                for i in 0..all.length() {
                    if let Some(n) = all.get(i)
                        && let Some(e) = wasm_bindgen::JsCast::dyn_ref::<web_sys::Element>(&n)
                    {
                        e.remove_attribute("id").ok();
                    }
                }
            }
            el.set_attribute("class", "print-topology-svg").ok();
        }
        host.append_child(&copy).ok();
    }
}

#[function_component(PrintLesson)]
pub fn print_lesson(p: &PrintLessonProps) -> Html {
    // The handout asked for, and how many times (each asks to print).
    let asked = use_state(|| None::<(u64, u32)>);
    let topo = use_node_ref();
    let onclick = {
        let asked = asked.clone();
        let version = p.version;
        Callback::from(move |_: MouseEvent| {
            let n = asked.map_or(0, |a| a.1) + 1;
            asked.set(Some((version, n)));
        })
    };
    let handout: Option<std::rc::Rc<Handout>> = {
        let session = p.session.clone();
        let at = asked.map(|a| a.0);
        (*use_memo(at, move |at| {
            at.map(|_| std::rc::Rc::new(crate::session::handout(&*session.borrow())))
        }))
        .clone()
    };
    {
        let topo = topo.clone();
        use_effect_with(*asked, move |asked| {
            if asked.is_some() {
                copy_topology(&topo);
                if let Some(w) = web_sys::window() {
                    w.print().ok();
                }
            }
        });
    }
    html! {
        <>
            <button id="print-lesson" onclick={onclick}
                title="A handout of this lesson: the drawing, the whole chart and every narration step, then print">{"Print lesson"}</button>
            if let Some(h) = handout {
                <section id="print-view" class="print-view" aria-hidden="true">
                    <h1>{h.title.clone()}</h1>
                    <p class="print-desc">{h.description.clone()}</p>
                    <h2>{"The network"}</h2>
                    <div id="print-topology" class="print-topology" ref={topo}></div>
                    <h2>{format!("Narration ({} steps)", h.steps.len())}</h2>
                    <ol id="print-steps" class="print-steps">
                        { for h.steps.iter().map(|(t, text)| html! {
                            <li>
                                <span class="print-time">{ t.map_or("not reached".to_string(), fmt_time) }</span>
                                <span class="print-text">{text.clone()}</span>
                            </li>
                        }) }
                    </ol>
                    <h2>{format!("Message sequence chart, 0 to {}", fmt_time(h.until))}</h2>
                    <div id="print-chart" class="print-chart">
                        { Html::from_html_unchecked(AttrValue::from(h.chart_svg.clone())) }
                    </div>
                </section>
            }
        </>
    }
}
