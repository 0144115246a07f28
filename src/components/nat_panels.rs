//! Each NAT box's mapping table, with the mappings' remaining lifetimes. A
//! carrier-grade NAT holds a mapping per client: past a hundred the table
//! scrolls and draws only the rows in view.

use super::row_window::{RowWindow, WINDOW_FROM, use_row_window};
use crate::state::SessionRef;
use mobike_render::panels::{NatTable, nat_tables};
use std::rc::Rc;
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
            nat_tables(session.borrow().world.nats())
                .into_iter()
                .map(Rc::new)
                .collect::<Vec<_>>()
        })
    };
    html! {
        <div class="nat-panels">
        { for tables.iter().map(|n| html! {
            <NatTableView key={n.id.clone()} table={n.clone()} />
        }) }
        </div>
    }
}

#[derive(Properties, PartialEq)]
struct NatTableProps {
    table: Rc<NatTable>,
}

/// The scroll box of a long table (style.css), and a row's height there.
const BOX_H: f64 = 320.0;
const ROW_H: f64 = 18.0;

#[function_component(NatTableView)]
fn nat_table_view(NatTableProps { table: n }: &NatTableProps) -> Html {
    let w = use_row_window(n.mappings.len(), ROW_H, BOX_H);
    let long = n.mappings.len() > WINDOW_FROM;
    html! {
        <div class="panel nat-table" id={format!("nat-table-{}", n.id)}>
            <h2>{n.title.clone()}<span class="role">{n.place.clone()}</span></h2>
            <div class={classes!(long.then_some("scroll"))} onscroll={w.onscroll.clone()}>
                <table>
                    <tr><th>{"inside"}</th><th>{"outside"}</th><th>{"allowed from"}</th><th>{"expires"}</th></tr>
                    { RowWindow::spacer(w.before, 4) }
                    { for n.mappings[w.rows.clone()].iter().map(|m| html! {
                        <tr><td>{endpoint(&m.inside)}</td><td>{endpoint(&m.outside)}</td>
                            <td>{m.allowed_from.clone()}</td>
                            <td>{m.expires.clone()}</td></tr>
                    }) }
                    { RowWindow::spacer(w.after, 4) }
                    { if n.mappings.is_empty() { html!{ <tr><td colspan="4" class="muted">{"no mappings"}</td></tr> } } else { html!{} } }
                </table>
            </div>
        </div>
    }
}

/// "192.168.1.20:4500" that a narrow panel may break after the colon, and
/// nowhere else (never inside a number).
fn endpoint(text: &str) -> Html {
    match text.rsplit_once(':') {
        Some((address, port)) => html! { <>{address}{":"}<wbr />{port}</> },
        None => html! { {text} },
    }
}
