//! A NAT box in the topology drawing. Dragged onto a link it joins that
//! path, dragged away it leaves every path; a tap, a long press, a right
//! click or Enter/Space opens its menu (reboot, a new public address, its
//! RFC 4787 behaviour, a link to sit on). A plain click never moves it.

use super::drag::{Grab, context_menu, menu_keys};
use crate::state::Dispatch;
use mobike_render::drawing::NatBox;
use mobike_render::menu::Target;
use yew::prelude::*;

#[derive(Properties, PartialEq)]
pub struct TopoNatProps {
    pub nat: NatBox,
    /// Its menu is open.
    pub selected: bool,
    pub on_grab: Callback<Grab>,
    pub dispatch: Dispatch,
}

#[function_component(TopoNat)]
pub fn topo_nat(p: &TopoNatProps) -> Html {
    let n = &p.nat;
    let target = Target::Nat(n.id.clone());
    let onpointerdown = {
        let (on_grab, target, id, centre) =
            (p.on_grab.clone(), target.clone(), n.id.clone(), n.centre);
        Callback::from(move |event| {
            on_grab.emit(Grab {
                target: Some(target.clone()),
                drag: Some(id.clone()),
                centre,
                event,
            })
        })
    };
    let c = n.centre;
    let place = n
        .link
        .as_ref()
        .map_or("in no path".to_string(), |l| format!("on link {l}"));
    html! {
        <g class={classes!("nat", n.link.is_some().then_some("placed"), p.selected.then_some("selected"))}
           id={format!("nat-{}", n.id)} data-link={n.link.clone().unwrap_or_default()}
           tabindex="0" role="button" aria-haspopup="menu"
           aria-label={format!("NAT box {} ({}), {place}: open its menu", n.label, n.address)}
           onpointerdown={onpointerdown}
           onkeydown={menu_keys(&p.dispatch, target.clone())}
           oncontextmenu={context_menu(&p.dispatch, target)}>
            <title>{"Click for its menu (reboot, address, behaviour); drag onto a link to put this NAT in its path, away to take it out"}</title>
            <rect x={(c[0] - 52.0).to_string()} y={(c[1] - 20.0).to_string()} width="104" height="40" rx="6" />
            <text class="nat-label" x={c[0].to_string()} y={(c[1] - 4.0).to_string()}>{n.label.clone()}</text>
            <text class="nat-addr" x={c[0].to_string()} y={(c[1] + 12.0).to_string()}>{n.address.clone()}</text>
        </g>
    }
}
