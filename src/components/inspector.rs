//! The message inspector: the selected message's addresses, what a NAT
//! made of it, its RFC notation, its decrypted payloads and every field on
//! the wire and inside SK, as render's view model has them.

use crate::session::TraceStamp;
use crate::state::SessionRef;
use mobike_render::inspect::{FieldRow, Fields, MessageDetail, message_detail};
use yew::prelude::*;

#[derive(Properties, PartialEq)]
pub struct InspectorProps {
    pub session: SessionRef,
    /// The detail comes from the trace alone: recomputed when it changes.
    pub stamp: TraceStamp,
    pub selected: Option<u64>,
}

fn field_table(rows: &[FieldRow]) -> Html {
    html! {
        <table class="bytes">
            { for rows.iter().map(|r| html! {
                <tr title={r.meaning.clone()}>
                    <td class="off">{r.offset.clone()}</td>
                    <td class="field">{r.path.clone()}</td>
                    <td class="val">{r.value.clone()}</td>
                    <td class="meaning">{r.meaning.clone()}</td>
                </tr>
            }) }
        </table>
    }
}

/// Every field of an IKE message, outer and (decrypted) inner.
fn fields(f: &Fields) -> Html {
    match f {
        Fields::None => html! {},
        Fields::Unreadable(e) => html! { <p class="error">{format!("byte view: {e}")}</p> },
        Fields::Ike {
            outer,
            inner,
            inner_error,
        } => html! {
            <>
                <h3>{"Fields on the wire"}</h3>
                { field_table(outer) }
                { match (inner, inner_error) {
                    (Some(inner), _) => html! { <><h3>{"Fields inside SK (decrypted)"}</h3>{ field_table(inner) }</> },
                    (None, Some(e)) => html! { <p class="muted">{format!("SK not opened: {e}")}</p> },
                    _ => html! {},
                } }
            </>
        },
    }
}

#[function_component(Inspector)]
pub fn inspector(p: &InspectorProps) -> Html {
    let detail = {
        let session = p.session.clone();
        use_memo((p.stamp, p.selected), move |&(_, selected)| {
            let s = session.borrow();
            let m = s.chart().message(selected?)?;
            Some(message_detail(s.world.trace(), m))
        })
    };
    let Some(MessageDetail {
        title,
        sent,
        after_nat,
        arrived,
        size,
        notation,
        payloads,
        fields: f,
        hex,
    }) = detail.as_ref()
    else {
        return html! {
            <aside id="inspector" class="inspector empty">
                <h2>{"Message"}</h2>
                <p class="muted">{"Click a message in the chart to see its payloads and bytes."}</p>
            </aside>
        };
    };
    html! {
        <aside id="inspector" class="inspector">
            <h2>{title.clone()}</h2>
            <dl>
                <dt>{"sent"}</dt><dd>{sent.clone()}</dd>
                { if let Some(n) = after_nat { html!{ <><dt>{"after NAT"}</dt><dd>{n.clone()}</dd></> } } else { html!{} } }
                <dt>{"arrived"}</dt><dd>{arrived.clone()}</dd>
                <dt>{"size"}</dt><dd>{size.clone()}</dd>
            </dl>
            <p class="notation">{notation.clone()}</p>
            { if payloads.is_empty() { html!{} } else { html! {
                <>
                <h3>{"Decrypted payloads"}</h3>
                <ul class="payloads">{ for payloads.iter().map(|p| html!{ <li>{p.clone()}</li> }) }</ul>
                </>
            } } }
            { fields(f) }
            <h3>{"Datagram (UDP payload)"}</h3>
            <pre class="hex">{hex.clone()}</pre>
        </aside>
    }
}
