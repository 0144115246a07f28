//! One host's box in the topology drawing, with its interfaces; grabbing
//! the box drags it.

use super::drag::Grab;
use mobike_render::drawing::HostBox;
use yew::prelude::*;

#[derive(Properties, PartialEq)]
pub struct TopoHostProps {
    pub host: HostBox,
    pub on_grab: Callback<Grab>,
}

#[function_component(TopoHost)]
pub fn topo_host(TopoHostProps { host: h, on_grab }: &TopoHostProps) -> Html {
    let onpointerdown = {
        let (on_grab, id, centre) = (on_grab.clone(), h.id.clone(), h.centre);
        Callback::from(move |e| on_grab.emit((id.clone(), centre, e)))
    };
    let p = h.centre;
    let ifaces = h.ifaces.iter().map(|f| {
        html! {
            <g class={classes!("iface", (!f.up).then_some("down"))} id={format!("iface-{}-{}", h.id, f.name)}>
                <circle cx={f.dot[0].to_string()} cy={f.dot[1].to_string()} r="5" />
                <text x={f.text_at[0].to_string()} y={f.text_at[1].to_string()} text-anchor={f.anchor}>{f.text.clone()}</text>
            </g>
        }
    });
    html! {
        <g class={classes!("host", h.id.clone())} id={format!("host-{}", h.id)}>
            <rect class="box" x={(p[0] - h.half_width).to_string()} y={h.top.to_string()}
                width={(2.0 * h.half_width).to_string()} height={h.height.to_string()} rx="10"
                onpointerdown={onpointerdown} />
            <text class="host-label" x={p[0].to_string()} y={(h.top + 18.0).to_string()}>{h.label.clone()}</text>
            <text class="host-role" x={p[0].to_string()} y={(h.top + 31.0).to_string()}>{h.role.clone()}</text>
            { for ifaces }
        </g>
    }
}
