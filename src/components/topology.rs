//! The topology drawing: links, the internet, hosts, host groups and NAT
//! boxes, as render's view model lays them out. Each item is a component
//! of its own, so only what changed is drawn again; boxes can be dragged
//! (see [`super::drag`]).

use super::drag::use_drag;
use super::topo_group::TopoGroup;
use super::topo_host::TopoHost;
use super::topo_link::TopoLink;
use super::topo_nat::TopoNat;
use crate::state::{Dispatch, SessionRef};
use mobike_render::drawing;
use mobike_render::topology::{INTERNET_RX, INTERNET_RY, TOPO_H, TOPO_W};
use yew::prelude::*;

#[derive(Properties, PartialEq)]
pub struct TopologyProps {
    pub session: SessionRef,
    pub version: u64,
    /// The host whose full state panel is shown (its chip is marked).
    pub focus: Option<AttrValue>,
    pub dispatch: Dispatch,
}

#[function_component(Topology)]
pub fn topology(p: &TopologyProps) -> Html {
    let svg_ref = use_node_ref();
    let drag = use_drag(svg_ref.clone(), p.dispatch.clone());
    let view = {
        let session = p.session.clone();
        use_memo((p.version, p.focus.clone()), move |(_, focus)| {
            let s = session.borrow();
            drawing::topology(&s.topo(), &s.world, focus.as_deref())
        })
    };
    let inet = view.internet;
    html! {
        <svg ref={svg_ref} id="topology" class="topology" viewBox={format!("0 0 {TOPO_W} {TOPO_H}")}
             onpointermove={drag.on_move} onpointerup={drag.on_release}>
            { for view.links.iter().map(|l| html! {
                <TopoLink key={l.id.clone()} line={l.clone()} dispatch={p.dispatch.clone()} />
            }) }
            // Drawn over the link ends, so links meet the cloud's edge.
            <ellipse class="internet" cx={inet[0].to_string()} cy={inet[1].to_string()} rx={INTERNET_RX.to_string()} ry={INTERNET_RY.to_string()} />
            <text class="internet-label" x={inet[0].to_string()} y={(inet[1] + 5.0).to_string()}>{"Internet"}</text>
            { for view.hosts.iter().map(|h| html! {
                <TopoHost key={h.id.clone()} host={h.clone()} on_grab={drag.on_grab.clone()} />
            }) }
            { for view.groups.iter().map(|g| html! {
                <TopoGroup key={g.key.clone()} group={g.clone()} on_grab={drag.on_grab.clone()} dispatch={p.dispatch.clone()} />
            }) }
            { for view.nats.iter().map(|n| html! {
                <TopoNat key={n.id.clone()} nat={n.clone()} on_grab={drag.on_grab.clone()} />
            }) }
        </svg>
    }
}
