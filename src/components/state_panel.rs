//! One host's full state panel: its IKE SA as the protocol holds it.

use mobike_render::panels::{HostPanel, PanelRow};
use yew::prelude::*;

#[derive(Properties, PartialEq)]
pub struct StatePanelProps {
    pub panel: HostPanel,
}

/// Rows of a two-column table, each with its `data-key`.
pub fn keyed_rows(rows: &[PanelRow]) -> Html {
    rows.iter()
        .map(|r| {
            html! {
                <tr data-key={r.key.to_string()}><th>{r.label.to_string()}</th><td>{r.value.clone()}</td></tr>
            }
        })
        .collect()
}

#[function_component(StatePanel)]
pub fn state_panel(StatePanelProps { panel: h }: &StatePanelProps) -> Html {
    let body = match &h.rows {
        Some(rows) => keyed_rows(rows),
        None => html! { <tr><td colspan="2" class="muted">{"no IKE SA yet"}</td></tr> },
    };
    html! {
        <div class="panel state" id={format!("state-{}", h.id)}>
            <h2>{h.label.clone()}<span class="role">{h.role.clone()}</span></h2>
            <table>{body}</table>
        </div>
    }
}
