//! Every host's IKE SA state: a full panel per host, and for a host group
//! its compact table with one member's full panel.

use super::group_table::GroupTable;
use super::state_panel::StatePanel;
use crate::state::{Dispatch, SessionRef};
use mobike_render::panels::{Panel, state_panels};
use yew::prelude::*;

#[derive(Properties, PartialEq)]
pub struct StatePanelsProps {
    pub session: SessionRef,
    pub version: u64,
    /// The group member whose full panel is shown.
    pub focus: Option<AttrValue>,
    pub dispatch: Dispatch,
}

#[function_component(StatePanels)]
pub fn state_panels_component(p: &StatePanelsProps) -> Html {
    let panels = {
        let session = p.session.clone();
        use_memo((p.version, p.focus.clone()), move |(_, focus)| {
            let s = session.borrow();
            state_panels(s.world.hosts(), &s.groups, focus.as_deref(), s.now())
        })
    };
    if p.session.borrow().is_recorded() {
        // A capture holds what crossed the wire, not what each peer
        // decided: no IKE SA state to show.
        return html! {
            <div class="panels">
                <p class="recorded-note" id="recorded-note">
                    {"A capture shows what crossed the wire, not each peer's IKE SA state: read the chart, and click a message for its decrypted payloads and bytes."}
                </p>
            </div>
        };
    }
    html! {
        <div class="panels">
            { for panels.iter().map(|panel| match panel {
                Panel::Group(t) => html! { <GroupTable key={format!("group-{}", t.id)} table={t.clone()} session={p.session.clone()} version={p.version} dispatch={p.dispatch.clone()} /> },
                Panel::Host(h) => html! { <StatePanel key={format!("state-{}", h.id)} panel={h.clone()} /> },
            }) }
        </div>
    }
}
