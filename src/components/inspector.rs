//! The message inspector: the selected message's addresses, what a NAT
//! made of it, its RFC notation, its decrypted payloads and why it was sent
//! (each rule with its checklist text), beside the chart; and below both,
//! across the page, its bytes on the wire and decrypted (see
//! [`super::byte_view`]). All of it is render's view model.

use super::byte_view::{ByteView, BytesRef};
use super::rule_refs::with_refs;
use crate::session::TraceStamp;
use crate::state::SessionRef;
use mobike_render::inspect::{MessageDetail, message_detail};
use mobike_render::why::Reason;
use std::rc::Rc;
use yew::prelude::*;

#[derive(Properties, PartialEq)]
pub struct InspectorProps {
    pub session: SessionRef,
    /// The detail comes from the trace alone: recomputed when it changes.
    pub stamp: TraceStamp,
    pub selected: Option<u64>,
}

/// One reason: what, who says so, the citation, and each checklist id of
/// it with its requirement.
fn reason(r: &Reason) -> Html {
    html! {
        <li class={classes!("reason", if r.noted_by.is_some() { "noted" } else { "derived" })}>
            <p class="text">
                { for r.noted_by.iter().map(|by| html! { <span class="by">{format!("{by} noted")}</span> }) }
                { with_refs(&r.text) }
            </p>
            { if r.cite.is_empty() { html! {} } else { html! { <p class="cite">{ with_refs(&r.cite) }</p> } } }
            { if r.rules.is_empty() { html! {} } else { html! {
                <ul class="rules">
                    { for r.rules.iter().map(|l| html! {
                        <li class={classes!("rule", (!l.known).then_some("unknown"))} data-rule={l.id.clone()}>
                            <code class="rule-id">{l.id.clone()}</code>
                            { if l.keyword.is_empty() { html! {} } else { html! { <span class="kw">{l.keyword.clone()}</span> } } }
                            <span class="req">{l.requirement.clone()}</span>
                            { if l.source.is_empty() { html! {} } else { html! { <span class="src">{format!("({})", l.source)}</span> } } }
                        </li>
                    }) }
                </ul>
            } } }
        </li>
    }
}

#[function_component(Inspector)]
pub fn inspector(p: &InspectorProps) -> Html {
    let detail = {
        let session = p.session.clone();
        use_memo((p.stamp, p.selected), move |&(_, selected)| {
            let s = session.borrow();
            let m = s.chart().message(selected?)?;
            let d = message_detail(s.world.trace(), s.chart(), m);
            let bytes = BytesRef(Rc::new(d.bytes.clone()));
            Some((d, bytes))
        })
    };
    let Some((
        MessageDetail {
            title,
            sent,
            after_nat,
            arrived,
            size,
            notation,
            payloads,
            why,
            ..
        },
        bytes,
    )) = detail.as_ref()
    else {
        return html! {
            <aside id="inspector" class="inspector empty">
                <h2>{"Message"}</h2>
                <p class="muted">{"Click a message in the chart to see its payloads, why it was sent and its bytes."}</p>
            </aside>
        };
    };
    // Not a link: the URL's hash is the share link.
    let to_bytes = Callback::from(|_: MouseEvent| {
        if let Some(el) = web_sys::window()
            .and_then(|w| w.document())
            .and_then(|d| d.get_element_by_id("bytes"))
        {
            el.scroll_into_view();
        }
    });
    // The byte view is a sibling of the inspector so the page's grid can
    // give it the whole width below the chart; a new selection starts
    // without a highlight (see `ByteViewProps::message`).
    html! {
        <>
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
                { if why.is_empty() { html!{} } else { html! {
                    <section class="why">
                        <h3>{"Why it was sent"}</h3>
                        <ol class="reasons">{ for why.iter().map(reason) }</ol>
                    </section>
                } } }
                <p class="to-bytes"><button type="button" onclick={to_bytes}>{"Bytes on the wire and decrypted ↓"}</button></p>
            </aside>
            <ByteView message={p.selected.unwrap_or_default()} bytes={bytes.clone()} />
        </>
    }
}
