//! One host's box in the topology drawing, with its interfaces. Grabbing
//! the box drags it; a tap, a long press, a right click or Enter/Space
//! opens the host's menu (hints; a cluster's balancer; an attacker's
//! spoofed updates). Each interface is an element of its own, with its own
//! menu: unplug, plug in, add or remove an address.

use super::drag::{Grab, context_menu, menu_keys};
use crate::state::Dispatch;
use mobike_render::drawing::HostBox;
use mobike_render::menu::Target;
use yew::prelude::*;

#[derive(Properties, PartialEq)]
pub struct TopoHostProps {
    pub host: HostBox,
    /// The host's menu is open (`Some("")`), or one interface's (its name).
    pub selected: Option<AttrValue>,
    pub on_grab: Callback<Grab>,
    pub dispatch: Dispatch,
}

#[function_component(TopoHost)]
pub fn topo_host(p: &TopoHostProps) -> Html {
    let h = &p.host;
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
    let target = Target::Host(h.id.clone());
    let c = h.centre;
    let ifaces = h.ifaces.iter().map(|f| {
        let target = Target::Interface {
            host: h.id.clone(),
            interface: f.name.clone(),
        };
        let selected = p.selected.as_deref() == Some(f.name.as_str());
        let [x, y, w, hh] = f.hit;
        html! {
            <g class={classes!("iface", (!f.up).then_some("down"), selected.then_some("selected"))}
               id={format!("iface-{}-{}", h.id, f.name)} data-up={f.up.to_string()}
               tabindex="0" role="button" aria-haspopup="menu"
               aria-label={format!("Interface {} of {}, {}: open its menu", f.text, h.label, if f.up { "plugged in" } else { "unplugged" })}
               onpointerdown={grab(Some(target.clone()), None, f.dot)}
               onkeydown={menu_keys(&p.dispatch, target.clone())}
               oncontextmenu={context_menu(&p.dispatch, target)}>
                <title>{format!("{}: click to unplug it or change its addresses", f.text)}</title>
                <rect class="hit" x={x.to_string()} y={y.to_string()} width={w.to_string()} height={hh.to_string()} rx="4" />
                if let Some(j) = f.joins {
                    <line class="join" x1={f.dot[0].to_string()} y1={f.dot[1].to_string()} x2={j[0].to_string()} y2={j[1].to_string()} />
                }
                <circle cx={f.dot[0].to_string()} cy={f.dot[1].to_string()} r="5" />
                <text x={f.text_at[0].to_string()} y={f.text_at[1].to_string()} text-anchor={f.anchor}>{f.text.clone()}</text>
            </g>
        }
    });
    let selected = p.selected.as_deref() == Some("");
    html! {
        <g class={classes!("host", h.id.clone(), h.role.clone(), selected.then_some("selected"))} id={format!("host-{}", h.id)}>
            <rect class="box" x={(c[0] - h.half_width).to_string()} y={h.top.to_string()}
                width={(2.0 * h.half_width).to_string()} height={h.height.to_string()} rx="10"
                tabindex="0" role="button" aria-haspopup="menu"
                aria-label={format!("{} ({}): open its menu", h.label, h.role)}
                onpointerdown={grab(Some(target.clone()), Some(h.id.clone()), c)}
                onkeydown={menu_keys(&p.dispatch, target.clone())}
                oncontextmenu={context_menu(&p.dispatch, target)}>
                <title>{format!("{} ({}): click for its menu, drag to move it", h.label, h.role)}</title>
            </rect>
            <text class="host-label" x={c[0].to_string()} y={(h.top + 18.0).to_string()}>{h.label.clone()}</text>
            <text class="host-role" x={c[0].to_string()} y={(h.top + 31.0).to_string()}>{h.role.clone()}</text>
            { for ifaces }
        </g>
    }
}
