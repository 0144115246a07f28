//! The ping traffic through the tunnel: requests, answers, losses, the
//! longest gap, and the IKE traffic beside it.

use super::state_panel::keyed_rows;
use crate::session::TraceStamp;
use crate::state::SessionRef;
use mobike_render::{metrics, panels};
use yew::prelude::*;

#[derive(Properties, PartialEq)]
pub struct TrafficProps {
    pub session: SessionRef,
    /// The figures come from the trace alone: recomputed when it changes.
    pub stamp: TraceStamp,
}

#[function_component(Traffic)]
pub fn traffic(p: &TrafficProps) -> Html {
    let table = {
        let session = p.session.clone();
        use_memo(p.stamp, move |_| {
            let s = session.borrow();
            let ping = s.scenario.ping.as_ref()?;
            Some(panels::traffic(ping, &metrics::compute(s.world.trace())))
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
