//! Each NAT box's mapping table, with the mappings' remaining lifetimes.

use crate::state::SessionRef;
use mobike_render::panels::nat_tables;
use yew::prelude::*;

#[derive(Properties, PartialEq)]
pub struct NatPanelsProps {
    pub session: SessionRef,
    /// Lifetimes count down with time: every version is drawn.
    pub version: u64,
}

#[function_component(NatPanels)]
pub fn nat_panels(p: &NatPanelsProps) -> Html {
    let tables = {
        let session = p.session.clone();
        use_memo(p.version, move |_| {
            nat_tables(&session.borrow().world.nats())
        })
    };
    html! {
        <div class="nat-panels">
        { for tables.iter().map(|n| html! {
            <div class="panel nat-table" id={format!("nat-table-{}", n.id)}>
                <h2>{n.title.clone()}<span class="role">{n.place.clone()}</span></h2>
                <table>
                    <tr><th>{"inside"}</th><th>{"outside"}</th><th>{"allowed from"}</th><th>{"expires"}</th></tr>
                    { for n.mappings.iter().map(|m| html! {
                        <tr><td>{m.inside.clone()}</td><td>{m.outside.clone()}</td>
                            <td>{m.allowed_from.clone()}</td>
                            <td>{m.expires.clone()}</td></tr>
                    }) }
                    { if n.mappings.is_empty() { html!{ <tr><td colspan="4" class="muted">{"no mappings"}</td></tr> } } else { html!{} } }
                </table>
            </div>
        }) }
        </div>
    }
}
