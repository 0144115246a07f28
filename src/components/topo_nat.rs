//! A NAT box in the topology drawing; dragged onto a link it joins that
//! path, dragged away it leaves every path.

use super::drag::Grab;
use mobike_render::drawing::NatBox;
use yew::prelude::*;

#[derive(Properties, PartialEq)]
pub struct TopoNatProps {
    pub nat: NatBox,
    pub on_grab: Callback<Grab>,
}

#[function_component(TopoNat)]
pub fn topo_nat(TopoNatProps { nat: n, on_grab }: &TopoNatProps) -> Html {
    let onpointerdown = {
        let (on_grab, id, centre) = (on_grab.clone(), n.id.clone(), n.centre);
        Callback::from(move |e| on_grab.emit((id.clone(), centre, e)))
    };
    let p = n.centre;
    html! {
        <g class={classes!("nat", n.link.is_some().then_some("placed"))} id={format!("nat-{}", n.id)}
           data-link={n.link.clone().unwrap_or_default()} onpointerdown={onpointerdown}>
            <title>{"Drag onto a link to put this NAT in its path; drag it away to take it out"}</title>
            <rect x={(p[0] - 52.0).to_string()} y={(p[1] - 20.0).to_string()} width="104" height="40" rx="6" />
            <text class="nat-label" x={p[0].to_string()} y={(p[1] - 4.0).to_string()}>{n.label.clone()}</text>
            <text class="nat-addr" x={p[0].to_string()} y={(p[1] + 11.0).to_string()}>{n.address.clone()}</text>
        </g>
    }
}
