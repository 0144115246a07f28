//! The topology drawing: links, the internet, hosts, host groups and NAT
//! boxes, as render's view model lays them out, and the menu of the element
//! the user pressed. Each item is a component of its own, so only what
//! changed is drawn again; boxes can be dragged and every element opens
//! its menu by a tap, a long press or the keyboard (see [`super::drag`]).

use super::drag::use_drag;
use super::element_menu::ElementMenu;
use super::topo_group::TopoGroup;
use super::topo_host::TopoHost;
use super::topo_link::TopoLink;
use super::topo_nat::TopoNat;
use crate::state::{Dispatch, MenuOpen, SessionRef};
use mobike_render::drawing::{self, TopologyView};
use mobike_render::menu::{self, Menu, Target};
use mobike_render::topology::{INTERNET_RX, INTERNET_RY, TOPO_H, TOPO_W};
use std::rc::Rc;
use wasm_bindgen::JsCast;
use yew::prelude::*;

#[derive(Properties, PartialEq)]
pub struct TopologyProps {
    pub session: SessionRef,
    pub version: u64,
    /// The host whose full state panel is shown (its chip is marked).
    pub focus: Option<AttrValue>,
    /// The element menu that is open, and what went wrong in it.
    pub menu: Option<MenuOpen>,
    pub menu_error: Option<(String, String)>,
    pub dispatch: Dispatch,
}

/// The drawing, the open menu, and whether the moment shown is the past.
struct Drawn {
    view: TopologyView,
    menu: Option<Rc<Menu>>,
    past: bool,
}

/// Gives the focus to the drawing's element `id` (an SVG node, so by its
/// `focus` method, which SVG elements have as HTML ones do).
fn focus_element(id: &str) {
    let Some(el) = web_sys::window()
        .and_then(|w| w.document())
        .and_then(|d| d.get_element_by_id(id))
    else {
        return;
    };
    if let Ok(f) = web_sys::js_sys::Reflect::get(&el, &"focus".into())
        && let Ok(f) = f.dyn_into::<web_sys::js_sys::Function>()
    {
        let _ = f.call0(&el);
    }
}

/// Where the focus is: nowhere in particular (the page itself), or in
/// the element with this id.
fn focus_is_idle_or_in(id: &str) -> bool {
    let active = web_sys::window()
        .and_then(|w| w.document())
        .and_then(|d| d.active_element());
    match active {
        None => true,
        Some(a) => {
            a.tag_name().eq_ignore_ascii_case("body")
                || a.closest(&format!("#{id}")).ok().flatten().is_some()
        }
    }
}

#[function_component(Topology)]
pub fn topology(p: &TopologyProps) -> Html {
    let svg_ref = use_node_ref();
    let drag = use_drag(svg_ref.clone(), p.dispatch.clone());
    let target = p.menu.as_ref().map(|m| m.target.clone());
    let drawn = {
        let session = p.session.clone();
        use_memo(
            (p.version, p.focus.clone(), target.clone()),
            move |(_, focus, target)| {
                let s = session.borrow();
                let topo = s.topo();
                let view = drawing::topology(&topo, &s.world, focus.as_deref());
                let menu = target
                    .as_ref()
                    .and_then(|t| menu::menu(&topo, &s.world, &view, t))
                    .map(Rc::new);
                Drawn {
                    view,
                    menu,
                    past: s.now() < s.horizon(),
                }
            },
        )
    };
    // When a menu the keyboard opened closes (done, or Escape) and the
    // focus was in it, or was lost with it, the element gets the focus
    // back. (A pointer's menu leaves the focus alone, so Space still plays.)
    {
        let last = use_mut_ref(|| None::<String>);
        let keyboard = p.menu.as_ref().is_some_and(|o| o.keyboard);
        let open = drawn
            .menu
            .as_ref()
            .map(|m| (m.element_id.clone(), keyboard));
        use_effect_with(open, move |open| {
            let before = last.replace(open.as_ref().filter(|o| o.1).map(|o| o.0.clone()));
            if let (Some(id), None) = (before, open)
                && focus_is_idle_or_in("menu")
            {
                focus_element(&id);
            }
        });
    }
    let view = &drawn.view;
    let inet = view.internet;
    let selected = |t: Target| target.as_ref() == Some(&t);
    let host_selected = |id: &str| match &target {
        Some(Target::Host(h)) if h == id => Some(AttrValue::from("")),
        Some(Target::Interface { host, interface }) if host == id => {
            Some(AttrValue::from(interface.clone()))
        }
        _ => None,
    };
    let member_selected = match &target {
        Some(Target::Host(h)) => Some(AttrValue::from(h.clone())),
        _ => None,
    };
    let menu = drawn.menu.as_ref().map(|m| {
        html! {
            <ElementMenu key={m.target.key()} menu={m.clone()} error={p.menu_error.clone()}
                keyboard={p.menu.as_ref().is_some_and(|o| o.keyboard)} past={drawn.past}
                right={m.anchor[0] < TOPO_W / 2.0} dispatch={p.dispatch.clone()} />
        }
    });
    html! {
        <div class="topo-wrap">
            <div class="topo-scroll">
                <svg ref={svg_ref} id="topology" class="topology" viewBox={format!("0 0 {TOPO_W} {TOPO_H}")}
                     onpointermove={drag.on_move} onpointerup={drag.on_release} onpointercancel={drag.on_cancel}>
                    { for view.links.iter().map(|l| html! {
                        <TopoLink key={l.id.clone()} line={l.clone()} selected={selected(Target::Link(l.id.clone()))}
                            on_grab={drag.on_grab.clone()} dispatch={p.dispatch.clone()} />
                    }) }
                    // Drawn over the link ends, so links meet the cloud's edge.
                    <ellipse class="internet" cx={inet[0].to_string()} cy={inet[1].to_string()} rx={INTERNET_RX.to_string()} ry={INTERNET_RY.to_string()} />
                    <text class="internet-label" x={inet[0].to_string()} y={(inet[1] + 5.0).to_string()}>{"Internet"}</text>
                    <g id="routes-down">
                        { for view.routes_down.iter().map(|(text, [x, y])| html! {
                            <text class="link-label route-down" x={x.to_string()} y={y.to_string()}>{text.clone()}</text>
                        }) }
                    </g>
                    { for view.hosts.iter().map(|h| html! {
                        <TopoHost key={h.id.clone()} host={h.clone()} selected={host_selected(&h.id)}
                            on_grab={drag.on_grab.clone()} dispatch={p.dispatch.clone()} />
                    }) }
                    { for view.groups.iter().map(|g| html! {
                        <TopoGroup key={g.key.clone()} group={g.clone()} selected={member_selected.clone()}
                            on_grab={drag.on_grab.clone()} dispatch={p.dispatch.clone()} />
                    }) }
                    { for view.nats.iter().map(|n| html! {
                        <TopoNat key={n.id.clone()} nat={n.clone()} selected={selected(Target::Nat(n.id.clone()))}
                            on_grab={drag.on_grab.clone()} dispatch={p.dispatch.clone()} />
                    }) }
                </svg>
            </div>
            { for menu }
        </div>
    }
}
