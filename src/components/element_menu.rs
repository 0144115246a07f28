//! The menu of one element of the drawing (a link, an interface, a NAT
//! box, a host): its state now and every intervention the simulator has
//! for it, as buttons for what takes one click and forms for what takes
//! values. It draws render's [`Menu`] and dispatches what the user picked;
//! what the user typed is read by render's readers and checked by the
//! simulator (in the session), and an error is shown next to its form.
//! Escape closes it; the keyboard that opened it finds the focus inside.

use crate::state::{Action, Dispatch, send};
use mobike_render::menu::{
    self, FILTERINGS, InterfaceMenu, LinkMenu, LinkTyped, MAPPINGS, Menu, MenuBody, MoveMenu,
    NatMenu, NatTyped, Offer, PRESETS, preset_words,
};
use mobike_sim::{Filtering, Intervention, MappingBehaviour, MoveBy};
use std::rc::Rc;
use wasm_bindgen::JsCast;
use web_sys::{Element, HtmlElement, HtmlInputElement, HtmlSelectElement};
use yew::prelude::*;

#[derive(Properties, PartialEq)]
pub struct ElementMenuProps {
    pub menu: Rc<Menu>,
    /// (form, message): what the last attempt in this menu came to.
    pub error: Option<(String, String)>,
    /// The keyboard opened it: the focus moves in.
    pub keyboard: bool,
    /// The moment shown is in the past: acting forks the timeline.
    pub past: bool,
    /// The element is in the drawing's left half (the menu opens on the right).
    pub right: bool,
    pub dispatch: Dispatch,
}

/// The text of an input.
fn text(r: &NodeRef) -> String {
    r.cast::<HtmlInputElement>()
        .map(|i| i.value())
        .unwrap_or_default()
}

/// The value of a select.
fn picked(r: &NodeRef) -> String {
    r.cast::<HtmlSelectElement>()
        .map(|s| s.value())
        .unwrap_or_default()
}

fn checked(r: &NodeRef) -> bool {
    r.cast::<HtmlInputElement>().is_some_and(|i| i.checked())
}

/// The error of `form`, if the last attempt there failed.
fn error_for(error: &Option<(String, String)>, form: &str) -> Html {
    match error {
        Some((f, message)) if f == form => html! {
            <p class="menu-error" id={format!("menu-error-{form}")} role="alert">{message.clone()}</p>
        },
        _ => Html::default(),
    }
}

/// Dispatches what a form read, or says in place why it did not read.
fn submit(d: &Dispatch, form: &str, read: Result<Intervention, String>) {
    d.dispatch(match read {
        Ok(action) => Action::Intervene(action),
        Err(message) => Action::MenuError(form.to_string(), message),
    });
}

fn offers(list: &[Offer], d: &Dispatch) -> Html {
    html! {
        <div class="offers">
            { for list.iter().map(|o| html! {
                <div class="offer">
                    <button type="button" id={o.id.to_string()} title={o.title.clone()} disabled={o.disabled.is_some()}
                        onclick={send(d, Action::Intervene(o.action.clone()))}>{o.label.clone()}</button>
                    { for o.disabled.as_ref().map(|why| html! { <span class="why">{why.clone()}</span> }) }
                </div>
            }) }
        </div>
    }
}

#[function_component(ElementMenu)]
pub fn element_menu(p: &ElementMenuProps) -> Html {
    let aside = use_node_ref();
    let m = &p.menu;
    {
        // Opened by the keyboard: the focus goes to the first thing to do.
        // Either way a menu out of view (below the drawing on a phone) is
        // scrolled into view.
        let (aside, keyboard) = (aside.clone(), p.keyboard);
        use_effect_with(m.target.key(), move |_| {
            if let Some(el) = aside.cast::<Element>() {
                if keyboard
                    && let Ok(Some(first)) = el.query_selector(
                        ".offers button:not([disabled]), .menu-body input, .menu-body select, .menu-body button",
                    )
                    && let Ok(first) = first.dyn_into::<HtmlElement>()
                {
                    let _ = first.focus();
                }
                let r = el.get_bounding_client_rect();
                let h = web_sys::window()
                    .and_then(|w| w.inner_height().ok())
                    .and_then(|v| v.as_f64())
                    .unwrap_or(0.0);
                if h > 0.0 && (r.bottom() > h || r.top() < 0.0) {
                    el.scroll_into_view_with_bool(r.height() > h);
                }
            }
        });
    }
    let onkeydown = {
        let d = p.dispatch.clone();
        Callback::from(move |e: KeyboardEvent| {
            if e.key() == "Escape" {
                e.prevent_default();
                e.stop_propagation();
                d.dispatch(Action::CloseMenu);
            }
        })
    };
    let body = match &m.body {
        MenuBody::Link(l) => {
            html! { <LinkForms link={l.clone()} id={link_id(m)} error={p.error.clone()} dispatch={p.dispatch.clone()} /> }
        }
        MenuBody::Interface(f) => {
            html! { <InterfaceForms iface={f.clone()} error={p.error.clone()} dispatch={p.dispatch.clone()} /> }
        }
        MenuBody::Nat(n) => {
            html! { <NatForms nat={n.clone()} error={p.error.clone()} dispatch={p.dispatch.clone()} /> }
        }
        MenuBody::Host(h) => html! {
            <HostForms host={h.host.clone()} daemon={h.daemon.clone()} hints={h.hints.clone()} moves={h.moves.clone()}
                targets={h.attack.as_ref().map(|a| a.targets.clone())} error={p.error.clone()} dispatch={p.dispatch.clone()} />
        },
    };
    html! {
        <aside ref={aside} id="menu" class={classes!("menu", if p.right { "at-right" } else { "at-left" })}
            data-target={m.target.key()} role="dialog" aria-label={format!("{}: what you can do", m.title)}
            onkeydown={onkeydown}>
            <header class="menu-head">
                <h3 id="menu-title">{m.title.clone()}
                    { for m.role.as_ref().map(|r| html! { <span class={classes!("menu-role", r.clone())}>{r.clone()}</span> }) }
                </h3>
                <button type="button" id="menu-close" class="dismiss" title="Close (Esc)" aria-label="Close the menu"
                    onclick={send(&p.dispatch, Action::CloseMenu)}>{"×"}</button>
            </header>
            <ul class="menu-status">{ for m.status.iter().map(|s| html! { <li>{s.clone()}</li> }) }</ul>
            { if p.past { html! {
                <p class="menu-past">{"You are looking at the past: what you do here starts a new timeline from this moment."}</p>
            } } else { Html::default() } }
            <div class="menu-body">{ body }</div>
            { error_for(&p.error, "actions") }
        </aside>
    }
}

fn link_id(m: &Menu) -> AttrValue {
    match &m.target {
        menu::Target::Link(l) => AttrValue::from(l.clone()),
        _ => AttrValue::default(),
    }
}

#[derive(Properties, PartialEq)]
struct LinkFormsProps {
    link: LinkMenu,
    id: AttrValue,
    error: Option<(String, String)>,
    dispatch: Dispatch,
}

/// Break or restore (both ways, one direction), and the properties.
#[function_component(LinkForms)]
fn link_forms(p: &LinkFormsProps) -> Html {
    let (delay, jitter, loss, duplicate) = (
        use_node_ref(),
        use_node_ref(),
        use_node_ref(),
        use_node_ref(),
    );
    let onsubmit = {
        let (d, id, now) = (p.dispatch.clone(), p.id.to_string(), p.link.now.clone());
        let refs = (
            delay.clone(),
            jitter.clone(),
            loss.clone(),
            duplicate.clone(),
        );
        Callback::from(move |e: SubmitEvent| {
            e.prevent_default();
            let typed = LinkTyped {
                delay: text(&refs.0),
                jitter: text(&refs.1),
                loss: text(&refs.2),
                duplicate: text(&refs.3),
            };
            submit(&d, "link", menu::read_set_link(&id, &now, &typed));
        })
    };
    let t = &p.link.typed;
    let field = |id: &'static str,
                 label: &str,
                 r: &NodeRef,
                 value: &str,
                 hint: &str,
                 mode: &'static str| {
        html! {
            <label class="field" for={id}>{label}
                <input id={id} ref={r.clone()} type="text" value={value.to_string()} inputmode={mode}
                    autocomplete="off" spellcheck="false" title={hint.to_string()} />
            </label>
        }
    };
    html! {
        <>
            { offers(&p.link.offers, &p.dispatch) }
            <form id="menu-form-link" class="menu-form" onsubmit={onsubmit}>
                <h4>{"Change it live"}</h4>
                <div class="fields">
                    { field("menu-delay", "delay", &delay, &t.delay, "one-way delay, e.g. 8ms or 0.2s", "text") }
                    { field("menu-jitter", "jitter", &jitter, &t.jitter, "extra delay from 0 to this, drawn for each packet", "text") }
                    { field("menu-loss", "loss (0–1)", &loss, &t.loss, "probability that a packet is lost, e.g. 0.1 for 10 %", "decimal") }
                    { field("menu-duplicate", "duplication (0–1)", &duplicate, &t.duplicate, "probability that a packet arrives twice", "decimal") }
                </div>
                <button type="submit" id="menu-apply-link">{"Apply"}</button>
                { error_for(&p.error, "link") }
            </form>
        </>
    }
}

#[derive(Properties, PartialEq)]
struct InterfaceFormsProps {
    iface: InterfaceMenu,
    error: Option<(String, String)>,
    dispatch: Dispatch,
}

/// Unplug or plug in; add or remove an address, announced or silent.
#[function_component(InterfaceForms)]
fn interface_forms(p: &InterfaceFormsProps) -> Html {
    let (address, announce) = (use_node_ref(), use_node_ref());
    let f = &p.iface;
    let onsubmit = {
        let (d, host, iface) = (p.dispatch.clone(), f.host.clone(), f.interface.clone());
        let (address, announce) = (address.clone(), announce.clone());
        Callback::from(move |e: SubmitEvent| {
            e.prevent_default();
            let read = menu::read_address(&text(&address)).map(|a| Intervention::AddAddress {
                host: host.clone(),
                interface: iface.clone(),
                address: a,
                announce: checked(&announce),
            });
            submit(&d, "address", read);
        })
    };
    let remove = |a: std::net::IpAddr| {
        let (d, host, iface, announce) = (
            p.dispatch.clone(),
            f.host.clone(),
            f.interface.clone(),
            announce.clone(),
        );
        Callback::from(move |_: MouseEvent| {
            d.dispatch(Action::Intervene(Intervention::RemoveAddress {
                host: host.clone(),
                interface: iface.clone(),
                address: Some(a),
                announce: checked(&announce),
            }))
        })
    };
    html! {
        <>
            { offers(&f.offers, &p.dispatch) }
            <form id="menu-form-address" class="menu-form" onsubmit={onsubmit}>
                <h4>{"Addresses"}</h4>
                <label class="check" for="menu-announce">
                    <input id="menu-announce" ref={announce.clone()} type="checkbox" checked=true />
                    {" the OS tells the IKE daemon (untick: a silent change it does not know of)"}
                </label>
                <ul class="addresses">
                    { for f.addresses.iter().map(|a| html! {
                        <li><code>{a.to_string()}</code>
                            <button type="button" class="remove-address" data-address={a.to_string()}
                                title="Take this address off the interface" onclick={remove(*a)}>{"Remove"}</button></li>
                    }) }
                </ul>
                <label class="field" for="menu-address">{"new address"}
                    <input id="menu-address" ref={address} type="text" value={f.suggestion.clone()}
                        autocomplete="off" spellcheck="false" />
                </label>
                <button type="submit" id="menu-add-address">{"Add"}</button>
                { error_for(&p.error, "address") }
            </form>
        </>
    }
}

#[derive(Properties, PartialEq)]
struct NatFormsProps {
    nat: NatMenu,
    error: Option<(String, String)>,
    dispatch: Dispatch,
}

/// Reboot; a new public address; a link to sit on or none; RFC 4787
/// behaviour (a preset and the single properties).
#[function_component(NatForms)]
fn nat_forms(p: &NatFormsProps) -> Html {
    let n = &p.nat;
    let (address, place) = (use_node_ref(), use_node_ref());
    let (preset, mapping, filtering, timeout) = (
        use_node_ref(),
        use_node_ref(),
        use_node_ref(),
        use_node_ref(),
    );
    let (refresh, preserve, hairpin, first, last) = (
        use_node_ref(),
        use_node_ref(),
        use_node_ref(),
        use_node_ref(),
        use_node_ref(),
    );
    let on_address = {
        let (d, nat, address) = (p.dispatch.clone(), n.nat.clone(), address.clone());
        Callback::from(move |e: SubmitEvent| {
            e.prevent_default();
            let read =
                menu::read_address(&text(&address)).map(|a| Intervention::ChangeNatAddress {
                    nat: nat.clone(),
                    address: a,
                });
            submit(&d, "nat-address", read);
        })
    };
    let on_place = {
        let (d, nat, place) = (p.dispatch.clone(), n.nat.clone(), place.clone());
        Callback::from(move |e: SubmitEvent| {
            e.prevent_default();
            d.dispatch(Action::Intervene(Intervention::PlaceNat {
                nat: nat.clone(),
                link: Some(picked(&place)),
            }));
        })
    };
    let fields = (
        mapping.clone(),
        filtering.clone(),
        timeout.clone(),
        refresh.clone(),
        preserve.clone(),
        hairpin.clone(),
        first.clone(),
        last.clone(),
    );
    // A preset fills the form with its behaviour, so what is applied is
    // what the form shows.
    let on_preset = {
        let (preset, f) = (preset.clone(), fields.clone());
        Callback::from(move |_: Event| {
            let Some(p) = PRESETS
                .into_iter()
                .find(|x| preset_words(*x).0 == picked(&preset))
            else {
                return;
            };
            let t = menu::preset_typed(p);
            let set_select = |r: &NodeRef, v: &str| {
                if let Some(s) = r.cast::<HtmlSelectElement>() {
                    s.set_value(v);
                }
            };
            let set_text = |r: &NodeRef, v: &str| {
                if let Some(i) = r.cast::<HtmlInputElement>() {
                    i.set_value(v);
                }
            };
            let set_check = |r: &NodeRef, v: bool| {
                if let Some(i) = r.cast::<HtmlInputElement>() {
                    i.set_checked(v);
                }
            };
            set_select(&f.0, mapping_name(t.mapping));
            set_select(&f.1, filtering_name(t.filtering));
            set_text(&f.2, &t.timeout);
            set_check(&f.3, t.inbound_refresh);
            set_check(&f.4, t.port_preservation);
            set_check(&f.5, t.hairpinning);
            set_text(&f.6, &t.first_port);
            set_text(&f.7, &t.last_port);
        })
    };
    let on_configure = {
        let (d, nat, now, preset, f) = (
            p.dispatch.clone(),
            n.nat.clone(),
            n.now,
            preset.clone(),
            fields,
        );
        Callback::from(move |e: SubmitEvent| {
            e.prevent_default();
            let chosen = PRESETS
                .into_iter()
                .find(|x| preset_words(*x).0 == picked(&preset));
            let typed = NatTyped {
                mapping: MAPPINGS
                    .iter()
                    .find(|m| m.1 == picked(&f.0))
                    .map_or(now.mapping, |m| m.0),
                filtering: FILTERINGS
                    .iter()
                    .find(|x| x.1 == picked(&f.1))
                    .map_or(now.filtering, |x| x.0),
                timeout: text(&f.2),
                inbound_refresh: checked(&f.3),
                port_preservation: checked(&f.4),
                hairpinning: checked(&f.5),
                first_port: text(&f.6),
                last_port: text(&f.7),
            };
            submit(
                &d,
                "nat-behaviour",
                menu::read_configure_nat(&nat, &now, chosen, &typed),
            );
        })
    };
    let t = &n.typed;
    let check = |id: &'static str, r: &NodeRef, on: bool, label: &str, hint: &str| {
        html! {
            <label class="check" for={id} title={hint.to_string()}>
                <input id={id} ref={r.clone()} type="checkbox" checked={on} />{format!(" {label}")}
            </label>
        }
    };
    html! {
        <>
            { offers(&n.offers, &p.dispatch) }
            <form id="menu-form-nat-address" class="menu-form inline" onsubmit={on_address}>
                <label class="field" for="menu-nat-address">{"new public address"}
                    <input id="menu-nat-address" ref={address} type="text" value={n.suggestion.clone()} autocomplete="off" spellcheck="false" />
                </label>
                <button type="submit" id="menu-change-address" title="The NAT's ISP gives it a new address; its mappings keep their ports">{"Change"}</button>
                { error_for(&p.error, "nat-address") }
            </form>
            { if n.links.is_empty() { Html::default() } else { html! {
                <form id="menu-form-place" class="menu-form inline" onsubmit={on_place}>
                    <label class="field" for="menu-place-link">{"put it on link"}
                        <select id="menu-place-link" ref={place}>
                            { for n.links.iter().map(|(id, label)| html! { <option value={id.clone()}>{label.clone()}</option> }) }
                        </select>
                    </label>
                    <button type="submit" id="menu-place" title="The NAT translates that link's traffic from now on (as a drag onto the link does)">{"Put it there"}</button>
                    { error_for(&p.error, "place") }
                </form>
            } } }
            <form id="menu-form-nat-behaviour" class="menu-form" onsubmit={on_configure}>
                <h4>{"Behaviour (RFC 4787)"}</h4>
                <label class="field wide" for="menu-preset">{"preset"}
                    <select id="menu-preset" ref={preset} onchange={on_preset}>
                        <option value="" selected=true>{"— keep, change single properties —"}</option>
                        { for PRESETS.iter().map(|x| {
                            let (name, words) = preset_words(*x);
                            html! { <option value={name}>{words}</option> }
                        }) }
                    </select>
                </label>
                <label class="field wide" for="menu-mapping">{"mapping"}
                    <select id="menu-mapping" ref={mapping}>
                        { for MAPPINGS.iter().map(|(m, name, words)| html! {
                            <option value={*name} selected={*m == t.mapping}>{*words}</option>
                        }) }
                    </select>
                </label>
                <label class="field wide" for="menu-filtering">{"filtering"}
                    <select id="menu-filtering" ref={filtering}>
                        { for FILTERINGS.iter().map(|(x, name, words)| html! {
                            <option value={*name} selected={*x == t.filtering}>{*words}</option>
                        }) }
                    </select>
                </label>
                <div class="fields">
                    <label class="field" for="menu-timeout">{"mapping timeout"}
                        <input id="menu-timeout" ref={timeout} type="text" value={t.timeout.clone()} autocomplete="off" spellcheck="false"
                            title="idle time after which a mapping expires (RFC 4787 REQ-5: at least 2min)" />
                    </label>
                    <label class="field" for="menu-port-first">{"ports from"}
                        <input id="menu-port-first" ref={first} type="text" inputmode="numeric" value={t.first_port.clone()} autocomplete="off" />
                    </label>
                    <label class="field" for="menu-port-last">{"to"}
                        <input id="menu-port-last" ref={last} type="text" inputmode="numeric" value={t.last_port.clone()} autocomplete="off" />
                    </label>
                </div>
                { check("menu-inbound-refresh", &refresh, t.inbound_refresh, "inbound packets refresh a mapping", "REQ-6a (MAY)") }
                { check("menu-port-preservation", &preserve, t.port_preservation, "port preservation", "a new mapping gets the inside port if it is free") }
                { check("menu-hairpinning", &hairpin, t.hairpinning, "hairpinning", "REQ-9: inside to its own public address is turned around") }
                <button type="submit" id="menu-configure" title="The NAT is configured anew: its mappings are flushed">{"Apply (flushes its mappings)"}</button>
                { error_for(&p.error, "nat-behaviour") }
            </form>
        </>
    }
}

fn mapping_name(m: MappingBehaviour) -> &'static str {
    MAPPINGS.iter().find(|x| x.0 == m).map_or("", |x| x.1)
}

fn filtering_name(f: Filtering) -> &'static str {
    FILTERINGS.iter().find(|x| x.0 == f).map_or("", |x| x.1)
}

#[derive(Properties, PartialEq)]
struct HostFormsProps {
    host: String,
    daemon: Vec<Offer>,
    hints: Vec<Offer>,
    moves: Option<MoveMenu>,
    /// An attacker's targets: (host id, label).
    targets: Option<Vec<(String, String)>>,
    error: Option<(String, String)>,
    dispatch: Dispatch,
}

/// Hints; a cluster's balancer moving clients; an attacker's updates.
#[function_component(HostForms)]
fn host_forms(p: &HostFormsProps) -> Html {
    let (to, redirect, count, from, target) = (
        use_node_ref(),
        use_node_ref(),
        use_node_ref(),
        use_node_ref(),
        use_node_ref(),
    );
    // A heading and its buttons, or nothing (an attacker has neither).
    let group = |title: &'static str, list: &[Offer]| {
        if list.is_empty() {
            return Html::default();
        }
        html! {
            <>
                <h4>{title}</h4>
                { offers(list, &p.dispatch) }
            </>
        }
    };
    let daemon = group("Its IKE daemon, now", &p.daemon);
    let hints = group("A hint from a lower layer", &p.hints);
    let moves = p.moves.as_ref().map(|m| {
        let onsubmit = {
            let (d, host) = (p.dispatch.clone(), p.host.clone());
            let (to, redirect, count, from) = (to.clone(), redirect.clone(), count.clone(), from.clone());
            Callback::from(move |e: SubmitEvent| {
                e.prevent_default();
                let by = if checked(&redirect) {
                    MoveBy::Redirect
                } else {
                    MoveBy::Mobike
                };
                let read =
                    menu::read_move_clients(&host, &picked(&to), by, &text(&count), &picked(&from));
                submit(&d, "move", read);
            })
        };
        html! {
            <form id="menu-form-move" class="menu-form" onsubmit={onsubmit}>
                <h4>{"The balancer moves clients"}</h4>
                <p class="menu-note">{m.summary.clone()}</p>
                <label class="field wide" for="menu-move-to">{"to"}
                    <select id="menu-move-to" ref={to}>
                        { for m.addresses.iter().map(|a| html! {
                            <option value={a.to_string()} selected={*a == m.suggested}>{a.to_string()}</option>
                        }) }
                    </select>
                </label>
                <fieldset class="by">
                    <legend>{"by"}</legend>
                    <label class="check" for="menu-by-mobike" title="an address list holding only the new address, sent from it (RFC 4555, responder MOBIKE)">
                        <input id="menu-by-mobike" type="radio" name="menu-by" checked=true />{" responder MOBIKE"}</label>
                    <label class="check" for="menu-by-redirect" title="RFC 5685 REDIRECT in an INFORMATIONAL: the client builds a new IKE SA">
                        <input id="menu-by-redirect" ref={redirect} type="radio" name="menu-by" />{" Redirect"}</label>
                </fieldset>
                <div class="fields">
                    <label class="field" for="menu-move-count">{"how many"}
                        <input id="menu-move-count" ref={count} type="text" inputmode="numeric" placeholder="all" autocomplete="off" />
                    </label>
                    <label class="field" for="menu-move-from">{"only those on"}
                        <select id="menu-move-from" ref={from}>
                            <option value="" selected=true>{"any address"}</option>
                            { for m.addresses.iter().map(|a| html! { <option value={a.to_string()}>{a.to_string()}</option> }) }
                        </select>
                    </label>
                </div>
                <button type="submit" id="menu-move">{"Move them"}</button>
                { error_for(&p.error, "move") }
            </form>
        }
    });
    let attack = p.targets.as_ref().map(|targets| {
        let spoof = |replay: bool| {
            let (d, host, target) = (p.dispatch.clone(), p.host.clone(), target.clone());
            Callback::from(move |_: MouseEvent| {
                d.dispatch(Action::Intervene(Intervention::SpoofUpdate {
                    attacker: host.clone(),
                    target: picked(&target),
                    replay,
                }))
            })
        };
        html! {
            <div class="menu-form">
                <h4>{"Spoof an address update (RFC 4555 §5)"}</h4>
                <label class="field wide" for="menu-spoof-target">{"to the IKE SA she saw go to"}
                    <select id="menu-spoof-target" ref={target.clone()}>
                        { for targets.iter().map(|(id, label)| html! { <option value={id.clone()}>{label.clone()}</option> }) }
                    </select>
                </label>
                <div class="offers">
                    <button type="button" id="menu-forge" onclick={spoof(false)}
                        title="An UPDATE_SA_ADDRESSES from her own address with the right SPIs, sealed with a key she made up">
                        {"Send a forged UPDATE_SA_ADDRESSES"}</button>
                    <button type="button" id="menu-replay" onclick={spoof(true)}
                        title="A copy of the newest real request that looked like a move, sent from her address">
                        {"Replay the last real update"}</button>
                </div>
                { error_for(&p.error, "attack") }
            </div>
        }
    });
    html! {
        <>
            { daemon }
            { hints }
            { for moves }
            { for attack }
        </>
    }
}
