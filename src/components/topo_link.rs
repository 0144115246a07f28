//! One link of the topology drawing; a click breaks or restores it.

use crate::state::{Action, Dispatch, send};
use mobike_render::drawing::LinkLine;
use yew::prelude::*;

#[derive(Properties, PartialEq)]
pub struct TopoLinkProps {
    pub line: LinkLine,
    pub dispatch: Dispatch,
}

#[function_component(TopoLink)]
pub fn topo_link(TopoLinkProps { line: l, dispatch }: &TopoLinkProps) -> Html {
    let class = classes!(
        "link",
        if l.up { "up" } else { "down" },
        l.active.then_some("active")
    );
    let [x, y] = l.caption_at;
    html! {
        <g class={class} id={format!("link-{}", l.id)} data-up={l.up.to_string()} onclick={send(dispatch, Action::ToggleLink(l.id.clone()))}>
            <title>{ if l.up { format!("{}: click to break it", l.label) } else { format!("{}: broken, click to restore it", l.label) } }</title>
            <polyline class="wire" points={l.points.clone()} />
            <polyline class="hit" points={l.points.clone()} />
            <text class="link-label" x={x.to_string()} y={y.to_string()}>{l.caption.clone()}</text>
            { for l.cut.as_ref().map(|d| html! { <path class="cut" d={d.clone()} /> }) }
        </g>
    }
}
