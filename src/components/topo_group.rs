//! A host group's box in the topology drawing: its address range and a
//! chip per member (a click shows that member's full state), or counts
//! for a very large group. Grabbing the box drags it.

use super::drag::Grab;
use crate::state::{Action, Dispatch, send};
use mobike_render::drawing::GroupView;
use mobike_render::topology::{CHIP_H, CHIP_W};
use yew::prelude::*;

#[derive(Properties, PartialEq)]
pub struct TopoGroupProps {
    pub group: GroupView,
    pub on_grab: Callback<Grab>,
    pub dispatch: Dispatch,
}

#[function_component(TopoGroup)]
pub fn topo_group(p: &TopoGroupProps) -> Html {
    let g = &p.group;
    let onpointerdown = {
        let (on_grab, key, centre) = (p.on_grab.clone(), g.key.clone(), g.centre);
        Callback::from(move |e| on_grab.emit((key.clone(), centre, e)))
    };
    let dots = g.dots.iter().map(|a| {
        html! { <circle class="iface-dot" cx={a[0].to_string()} cy={a[1].to_string()} r="5" /> }
    });
    let chips = g.chips.iter().map(|c| {
        let class = classes!(
            "chip",
            c.state,
            c.moved.then_some("moved"),
            c.focused.then_some("focused")
        );
        html! {
            <g class={class} id={format!("chip-{}", c.host)} onclick={send(&p.dispatch, Action::FocusHost(c.host.clone()))}>
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
                onpointerdown={onpointerdown} />
            <text class="host-label" x={g.centre[0].to_string()} y={(g.top + 16.0).to_string()}>{g.title.clone()}</text>
            <text class="host-role group-addrs" x={g.centre[0].to_string()} y={(g.top + 29.0).to_string()}>{g.addresses.clone()}</text>
            { for dots }
            { for chips }
            { for summary }
        </g>
    }
}
