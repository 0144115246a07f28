//! A host group's box in the topology drawing: its address range and a
//! chip per member, or counts for a very large group. Grabbing the box
//! drags it. A chip takes the focus; a tap, a long press, a right click or
//! Enter/Space on it shows that member's full state and opens its menu
//! (the lower-layer hints).

use super::drag::{Grab, context_menu, menu_keys};
use crate::state::Dispatch;
use mobike_render::drawing::GroupView;
use mobike_render::menu::Target;
use mobike_render::topology::{CHIP_H, CHIP_W};
use yew::prelude::*;

#[derive(Properties, PartialEq)]
pub struct TopoGroupProps {
    pub group: GroupView,
    /// The member whose menu is open.
    pub selected: Option<AttrValue>,
    pub on_grab: Callback<Grab>,
    pub dispatch: Dispatch,
}

#[function_component(TopoGroup)]
pub fn topo_group(p: &TopoGroupProps) -> Html {
    let g = &p.group;
    let grab = |target: Option<Target>, drag: Option<String>, centre: [f64; 2]| {
        let on_grab = p.on_grab.clone();
        Callback::from(move |event| {
            on_grab.emit(Grab {
                target: target.clone(),
                drag: drag.clone(),
                centre,
                event,
            })
        })
    };
    let dots = g.dots.iter().map(|a| {
        html! { <circle class="iface-dot" cx={a[0].to_string()} cy={a[1].to_string()} r="5" /> }
    });
    let chips = g.chips.iter().map(|c| {
        let selected = p.selected.as_deref() == Some(c.host.as_str());
        let class = classes!(
            "chip",
            c.state,
            c.moved.then_some("moved"),
            c.focused.then_some("focused"),
            selected.then_some("selected")
        );
        let target = Target::Host(c.host.clone());
        html! {
            <g class={class} id={format!("chip-{}", c.host)}
               tabindex="0" role="button" aria-haspopup="menu" aria-label={c.title.clone()}
               onpointerdown={grab(Some(target.clone()), None, c.at)}
               onkeydown={menu_keys(&p.dispatch, target.clone())}
               oncontextmenu={context_menu(&p.dispatch, target)}>
                <title>{c.title.clone()}</title>
                <rect x={c.at[0].to_string()} y={c.at[1].to_string()} width={CHIP_W.to_string()} height={CHIP_H.to_string()} rx="4" />
                <text x={(c.at[0] + CHIP_W / 2.0).to_string()} y={(c.at[1] + CHIP_H / 2.0 + 4.0).to_string()}>{c.number.to_string()}</text>
            </g>
        }
    });
    let summary = g.summary.as_ref().map(|text| {
        html! {
            <text class="host-role" x={g.centre[0].to_string()} y={(g.top + 58.0).to_string()}>{text.clone()}</text>
        }
    });
    html! {
        <g class="host group" id={format!("group-box-{}", g.id)}>
            <rect class="box" x={g.left.to_string()} y={g.top.to_string()}
                width={g.width.to_string()} height={g.height.to_string()} rx="10"
                onpointerdown={grab(None, Some(g.key.clone()), g.centre)} />
            <text class="host-label" x={g.centre[0].to_string()} y={(g.top + 16.0).to_string()}>{g.title.clone()}</text>
            <text class="host-role group-addrs" x={g.centre[0].to_string()} y={(g.top + 29.0).to_string()}>{g.addresses.clone()}</text>
            { for dots }
            { for chips }
            { for summary }
        </g>
    }
}
