//! A host group's members in one compact table; a row picks the member
//! whose full panel is shown.

use super::row_window::{RowWindow, use_row_window};
use crate::state::{Action, Dispatch, SessionRef, send};
use mobike_render::panels;
use yew::prelude::*;

#[derive(Properties, PartialEq)]
pub struct GroupTableProps {
    pub table: panels::GroupTable,
    /// The members' views are read from the run (only the rows in view
    /// are made), as of `version`.
    pub session: SessionRef,
    pub version: u64,
    pub dispatch: Dispatch,
}

#[function_component(GroupTable)]
pub fn group_table(p: &GroupTableProps) -> Html {
    let (t, dispatch) = (&p.table, &p.dispatch);
    // The scroll box is 250 px high (style.css); a row is 18 px.
    let w = use_row_window(t.members.len(), 18.0, 250.0);
    let s = p.session.borrow();
    let hosts = s.world.hosts();
    let rows = w.rows.clone().filter_map(|k| t.row(k, hosts)).map(|r| {
        html! {
            <tr id={format!("row-{}", r.host)} class={classes!(r.focused.then_some("focused"))}
                onclick={send(dispatch, Action::FocusHost(r.host.clone()))}
                title="Show this host's full state">
                <td class="name">{r.label.clone()}</td><td>{r.state.clone()}</td><td>{r.path.clone()}</td><td>{r.busy.clone()}</td>
            </tr>
        }
    });
    html! {
        <div class="panel group-table" id={format!("group-{}", t.id)}>
            <h2>{t.title.clone()}<span class="role">{"click a row (or a chip) for its full state"}</span></h2>
            <div class="scroll" onscroll={w.onscroll.clone()}>
                <table>
                    <tr><th>{"host"}</th><th>{"state"}</th><th>{"IKE SA path"}</th><th>{"busy with"}</th></tr>
                    { RowWindow::spacer(w.before, 4) }
                    { for rows }
                    { RowWindow::spacer(w.after, 4) }
                </table>
            </div>
        </div>
    }
}
