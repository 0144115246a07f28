//! The message sequence chart: render's SVG of the chart, kept scrolled
//! to the newest messages; a click on a message selects it for the
//! inspector.

use crate::session::TraceStamp;
use crate::state::{Action, Dispatch, SessionRef, send};
use mobike_render::svg;
use wasm_bindgen::JsCast;
use web_sys::{Element, HtmlElement};
use yew::prelude::*;

#[derive(Properties, PartialEq)]
pub struct ChartProps {
    pub session: SessionRef,
    /// The chart comes from the trace alone: redrawn when it changes.
    pub stamp: TraceStamp,
    pub selected: Option<u64>,
    pub show_esp: bool,
    pub dispatch: Dispatch,
}

/// The chart as drawn: its SVG, its number of rows and of IKE messages.
struct Drawn {
    svg: AttrValue,
    rows: usize,
    ike: usize,
}

#[function_component(ChartView)]
pub fn chart_view(p: &ChartProps) -> Html {
    let div = use_node_ref();
    let drawn = {
        let session = p.session.clone();
        use_memo(
            (p.stamp, p.selected, p.show_esp),
            move |&(_, selected, show_esp)| {
                let s = session.borrow();
                let chart = s.chart();
                let svg = svg::render(
                    chart,
                    &svg::SvgOptions {
                        selected,
                        hide_keepalives: false,
                        show_esp,
                        inline: true,
                    },
                );
                Drawn {
                    svg: AttrValue::from(svg),
                    rows: chart.rows.len(),
                    ike: chart.messages().filter(|m| m.is_ike()).count(),
                }
            },
        )
    };
    // Keep the newest messages in view while the chart grows, unless the
    // user scrolled up to read.
    let stick = use_mut_ref(|| true);
    {
        let div = div.clone();
        let stick = stick.clone();
        use_effect_with(drawn.rows, move |_| {
            if let Some(el) = div.cast::<HtmlElement>()
                && *stick.borrow()
            {
                el.set_scroll_top(el.scroll_height());
            }
        });
    }
    let onscroll = {
        let div = div.clone();
        Callback::from(move |_: Event| {
            if let Some(el) = div.cast::<HtmlElement>() {
                *stick.borrow_mut() =
                    el.scroll_height() - el.scroll_top() - el.client_height() < 40;
            }
        })
    };
    let onclick = {
        let d = p.dispatch.clone();
        Callback::from(move |e: MouseEvent| {
            let packet = e
                .target()
                .and_then(|t| t.dyn_into::<Element>().ok())
                .and_then(|el| el.closest("[data-packet]").ok().flatten())
                .and_then(|g| g.get_attribute("data-packet"))
                .and_then(|v| v.parse::<u64>().ok());
            d.dispatch(Action::Select(packet));
        })
    };
    html! {
        <div class="chart-wrap">
            <div class="chart-head">
                <h2>{format!("Message sequence chart ({} IKE messages)", drawn.ike)}</h2>
                <label><input id="show-esp" type="checkbox" checked={p.show_esp} onchange={send(&p.dispatch, Action::ToggleEsp)} />
                    {" show ESP (ping traffic)"}</label>
            </div>
            <div id="chart" class="chart" ref={div} onclick={onclick} onscroll={onscroll}>
                { Html::from_html_unchecked(drawn.svg.clone()) }
            </div>
        </div>
    }
}
