//! One link of the topology drawing. A tap, a long press, a right click
//! or Enter/Space on it (it takes the focus) opens its menu: break both
//! ways or one direction, restore, change its delay, jitter, loss and
//! duplication.

use super::drag::{Grab, context_menu, menu_keys};
use crate::state::Dispatch;
use mobike_render::drawing::LinkLine;
use mobike_render::menu::Target;
use yew::prelude::*;

#[derive(Properties, PartialEq)]
pub struct TopoLinkProps {
    pub line: LinkLine,
    /// Its menu is open.
    pub selected: bool,
    pub on_grab: Callback<Grab>,
    pub dispatch: Dispatch,
}

#[function_component(TopoLink)]
pub fn topo_link(p: &TopoLinkProps) -> Html {
    let l = &p.line;
    let class = classes!(
        "link",
        if l.up { "up" } else { "down" },
        l.active.then_some("active"),
        p.selected.then_some("selected")
    );
    let target = Target::Link(l.id.clone());
    let onpointerdown = {
        let (on_grab, target, at) = (p.on_grab.clone(), target.clone(), l.caption_at);
        Callback::from(move |event| {
            on_grab.emit(Grab {
                target: Some(target.clone()),
                drag: None,
                centre: at,
                event,
            })
        })
    };
    let state = if l.up { "up" } else { "broken" };
    let [x, y] = l.caption_at;
    html! {
        <g class={class} id={format!("link-{}", l.id)} data-up={l.up.to_string()}
           tabindex="0" role="button" aria-haspopup="menu"
           aria-label={format!("Link {}, {state}: open its menu", l.label)}
           onpointerdown={onpointerdown}
           onkeydown={menu_keys(&p.dispatch, target.clone())}
           oncontextmenu={context_menu(&p.dispatch, target)}>
            <title>{ format!("{}: click for what you can do to it (break it, one direction, delay, loss…)", l.caption) }</title>
            <polyline class="wire" points={l.points.clone()} />
            <polyline class="hit" points={l.points.clone()} />
            <text class="link-label" x={x.to_string()} y={y.to_string()}>{l.caption.clone()}</text>
            { for l.cut.as_ref().map(|d| html! { <path class="cut" d={d.clone()} /> }) }

        </g>
    }
}
