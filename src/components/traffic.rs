//! The ping traffic through the tunnel: requests, answers, losses, the
//! longest gap, and the IKE traffic beside it.

use super::state_panel::keyed_rows;
use crate::session::TraceStamp;
use crate::state::SessionRef;
use mobike_render::panels;
use yew::prelude::*;

#[derive(Properties, PartialEq)]
pub struct TrafficProps {
    pub session: SessionRef,
    /// The figures come from the trace alone: recomputed when it changes.
    pub stamp: TraceStamp,
}

#[function_component(Traffic)]
pub fn traffic(p: &TrafficProps) -> Html {
    // The page's mirror of the run builds the figures as the trace grows,
    // and keeps them at its checkpoints for jumps (see `Live`).
    let table = {
        let session = p.session.clone();
        use_memo(p.stamp, move |_| {
            let s = session.borrow();
            let ping = s.scenario.ping.as_ref()?;
            let metrics = s.metrics()?;
            // The pinging host's Child SAs: a row for each with its own
            // selectors (several per IKE SA).
            let children: Vec<_> = s
                .world
                .hosts_where(|id| id == ping.from)
                .flat_map(|h| h.sas.into_iter().flat_map(|sa| sa.child_sas))
                .collect();
            Some(panels::traffic(ping, &metrics, &children))
        })
    };
    let Some(t) = table.as_ref() else {
        return html! {};
    };
    html! {
        <div class="panel traffic" id="traffic">
            <h2>{"Ping through the tunnel"}<span class="role">{t.what.clone()}</span></h2>
            <table>{ keyed_rows(&t.rows) }</table>
        </div>
    }
}
