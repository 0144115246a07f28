//! The byte view of the selected message: for the datagram on the wire and,
//! beside it, its decrypted inside, a hex dump over a tree of its fields in
//! the same offsets. Pointing at (or focusing) a field lights its octets in
//! the dump; pointing at an octet lights its field and scrolls it into
//! view. Rows take the keyboard: ↑ ↓ Home End move, Enter or Space pins a
//! field (the highlight stays when the pointer leaves), Escape unpins.
//!
//! What the rows and octets are comes from render's view model; this file
//! only keeps which one is lit.

use mobike_render::inspect::{Bytes, Dump};
use std::rc::Rc;
use wasm_bindgen::JsCast;
use web_sys::{Element, HtmlElement};
use yew::prelude::*;

/// The dumps, compared by identity (render rebuilds them only when the
/// trace or the selection changes).
#[derive(Clone)]
pub struct BytesRef(pub Rc<Bytes>);

impl PartialEq for BytesRef {
    fn eq(&self, other: &Self) -> bool {
        Rc::ptr_eq(&self.0, &other.0)
    }
}

#[derive(Properties, PartialEq)]
pub struct ByteViewProps {
    pub bytes: BytesRef,
}

/// A row of one of the two dumps: (dump, row index).
type Spot = (usize, usize);

/// Where a highlight came from, to know which side to scroll.
#[derive(Clone, Copy, PartialEq)]
enum Side {
    Row,
    Octet,
}

/// The `data-row` of the element an event happened on or in.
fn row_of(e: &Event, selector: &str) -> Option<usize> {
    e.target()
        .and_then(|t| t.dyn_into::<Element>().ok())
        .and_then(|el| el.closest(selector).ok().flatten())
        .and_then(|el| el.get_attribute("data-row"))
        .and_then(|v| v.parse().ok())
}

/// Scrolls `inner` into view inside the scrolling box `outer`, moving only
/// that box (never the page).
fn reveal(outer: &Element, inner: &Element) {
    let (o, i) = (
        outer.get_bounding_client_rect(),
        inner.get_bounding_client_rect(),
    );
    if i.top() < o.top() {
        outer.set_scroll_top(outer.scroll_top() - (o.top() - i.top()).ceil() as i32);
    } else if i.bottom() > o.bottom() {
        outer.set_scroll_top(outer.scroll_top() + (i.bottom() - o.bottom()).ceil() as i32);
    }
}

#[derive(Properties, PartialEq)]
struct PaneProps {
    /// 0 on the wire, 1 decrypted.
    pane: usize,
    bytes: BytesRef,
    /// The lit row: pointed at or focused, else pinned.
    active: Option<usize>,
    pinned: Option<usize>,
    from: Option<Side>,
    on_hover: Callback<(Option<usize>, Side)>,
    on_pin: Callback<Option<usize>>,
}

fn dump_of(b: &Bytes, pane: usize) -> Option<&Dump> {
    if pane == 0 {
        Some(&b.wire)
    } else {
        b.plain.as_ref()
    }
}

#[function_component(Pane)]
fn pane(p: &PaneProps) -> Html {
    let table_box = use_node_ref();
    let dump_box = use_node_ref();
    // The row that takes Tab (roving tabindex).
    let cursor = use_state(|| 0usize);
    let Some(d) = dump_of(&p.bytes.0, p.pane) else {
        return html! {};
    };
    let range = |i: Option<usize>| {
        i.and_then(|i| d.rows.get(i))
            .map(|r| r.start..r.start + r.len)
    };
    let lit = range(p.active);
    let pin = range(p.pinned);

    // Keep the other side of a highlight in view.
    {
        let (table_box, dump_box) = (table_box.clone(), dump_box.clone());
        use_effect_with((p.active, p.from), move |&(active, from)| {
            let Some(i) = active else { return };
            let (outer, sel) = match from {
                Some(Side::Octet) => (table_box.cast::<Element>(), format!("tr[data-row=\"{i}\"]")),
                Some(Side::Row) => (dump_box.cast::<Element>(), format!(".o[data-row=\"{i}\"]")),
                None => return,
            };
            if let Some(outer) = outer
                && let Ok(Some(inner)) = outer.query_selector(&sel)
            {
                reveal(&outer, &inner);
            }
        });
    }

    let hover = |from: Side, selector: &'static str| {
        let cb = p.on_hover.clone();
        Callback::from(move |e: MouseEvent| cb.emit((row_of(&e, selector), from)))
    };
    let leave = {
        let cb = p.on_hover.clone();
        Callback::from(move |_: MouseEvent| cb.emit((None, Side::Row)))
    };
    let click = |selector: &'static str| {
        let cb = p.on_pin.clone();
        let pinned = p.pinned;
        Callback::from(move |e: MouseEvent| {
            let row = row_of(&e, selector);
            cb.emit(if row == pinned { None } else { row });
        })
    };
    let onfocusin = {
        let cb = p.on_hover.clone();
        let cursor = cursor.clone();
        Callback::from(move |e: FocusEvent| {
            if let Some(i) = row_of(&e, "tr[data-row]") {
                cursor.set(i);
                cb.emit((Some(i), Side::Row));
            }
        })
    };
    let onfocusout = {
        let cb = p.on_hover.clone();
        Callback::from(move |_: FocusEvent| cb.emit((None, Side::Row)))
    };
    let onkeydown = {
        let cb = p.on_pin.clone();
        let pinned = p.pinned;
        let last = d.rows.len().saturating_sub(1);
        let table_box = table_box.clone();
        Callback::from(move |e: KeyboardEvent| {
            let Some(i) = row_of(&e, "tr[data-row]") else {
                return;
            };
            let go = match e.key().as_str() {
                "ArrowDown" => Some((i + 1).min(last)),
                "ArrowUp" => Some(i.saturating_sub(1)),
                "Home" => Some(0),
                "End" => Some(last),
                "Enter" | " " => {
                    cb.emit(if pinned == Some(i) { None } else { Some(i) });
                    None
                }
                "Escape" => {
                    cb.emit(None);
                    None
                }
                _ => return,
            };
            // The page's own keys (Space plays, arrows seek) stay out of it.
            e.prevent_default();
            e.stop_propagation();
            if let Some(j) = go
                && let Some(t) = table_box.cast::<Element>()
                && let Ok(Some(row)) = t.query_selector(&format!("tr[data-row=\"{j}\"]"))
                && let Ok(row) = row.dyn_into::<HtmlElement>()
            {
                let _ = row.focus();
            }
        })
    };

    let lines = d.lines.iter().enumerate().map(|(k, l)| {
        html! {
            <>
                { if k > 0 { "\n" } else { "" } }
                <span class="off">{l.offset.clone()}</span>{"  "}
                { for l.octets.iter().enumerate().map(|(j, o)| {
                    let mut class = classes!("o");
                    if lit.as_ref().is_some_and(|r| r.contains(&o.at)) { class.push("on"); }
                    if pin.as_ref().is_some_and(|r| r.contains(&o.at)) { class.push("pin"); }
                    html! {
                        <>
                            { if j > 0 { " " } else { "" } }
                            <span class={class} data-row={o.row.to_string()}>{o.hex.clone()}</span>
                        </>
                    }
                }) }
            </>
        }
    });
    let rows = d.rows.iter().enumerate().map(|(i, r)| {
        let mut class = classes!();
        if r.group {
            class.push("group");
        }
        if p.active == Some(i) {
            class.push("on");
        } else if lit.as_ref().is_some_and(|l| l.start <= r.start && r.start + r.len <= l.end) {
            class.push("in");
        }
        if p.pinned == Some(i) {
            class.push("pin");
        }
        let indent = format!("padding-left: {}em", 0.3 + 1.1 * r.depth as f64);
        html! {
            <tr data-row={i.to_string()} class={class} title={r.path.clone()}
                tabindex={if *cursor == i { "0" } else { "-1" }}>
                <td class="off">{r.offset.clone()}</td>
                <td class="field" style={indent}>{r.name.clone()}</td>
                <td class="val">
                    <span class="oct">{r.octets.clone()}</span>
                    { if r.length.is_empty() { html!{} } else { html!{ <span class="len">{r.length.clone()}</span> } } }
                </td>
                <td class="meaning">{r.meaning.clone()}</td>
            </tr>
        }
    });
    let id = if p.pane == 0 {
        "bytes-wire"
    } else {
        "bytes-plain"
    };
    html! {
        <section id={id} class={classes!("pane", if p.pane == 0 { "wire" } else { "plain" })}>
            <h3>{d.title.clone()}</h3>
            <p class="origin">{d.origin.clone()}</p>
            { for d.error.iter().map(|e| html! { <p class="error">{e.clone()}</p> }) }
            <pre class="hex" ref={dump_box} onmouseover={hover(Side::Octet, ".o[data-row]")}
                onmouseleave={leave.clone()} onclick={click(".o[data-row]")}>{ for lines }</pre>
            <div class="fields" ref={table_box}>
                <table class="bytes" aria-label={format!("fields, {}", d.title)}>
                    <colgroup>
                        <col class="c-off" /><col class="c-field" /><col class="c-val" /><col class="c-meaning" />
                    </colgroup>
                    <thead><tr><th>{"offset"}</th><th>{"field"}</th><th>{"octets"}</th><th>{"meaning"}</th></tr></thead>
                    <tbody
                        onmouseover={hover(Side::Row, "tr[data-row]")} onmouseleave={leave}
                        onclick={click("tr[data-row]")} {onfocusin} {onfocusout} {onkeydown}>
                        { for rows }
                    </tbody>
                </table>
            </div>
        </section>
    }
}

#[function_component(ByteView)]
pub fn byte_view(p: &ByteViewProps) -> Html {
    let hover = use_state(|| None::<(Spot, Side)>);
    let pinned = use_state(|| None::<Spot>);
    let b = &p.bytes.0;
    let panes = if b.plain.is_some() { 2 } else { 1 };
    let pane = |k: usize| {
        let on_hover = {
            let hover = hover.clone();
            Callback::from(move |(row, from): (Option<usize>, Side)| {
                hover.set(row.map(|r| ((k, r), from)));
            })
        };
        let on_pin = {
            let pinned = pinned.clone();
            Callback::from(move |row: Option<usize>| pinned.set(row.map(|r| (k, r))))
        };
        let pinned_here = pinned.filter(|(q, _)| *q == k).map(|(_, r)| r);
        let (active, from) = match *hover {
            Some(((q, r), from)) if q == k => (Some(r), Some(from)),
            Some(_) => (None, None),
            None => (pinned_here, None),
        };
        html! {
            <Pane pane={k} bytes={p.bytes.clone()} {active} pinned={pinned_here} {from} {on_hover} {on_pin} />
        }
    };
    html! {
        <section id="bytes" class={classes!("byteview", if panes == 2 { "two" } else { "one" })}>
            <h2>{"Bytes"}</h2>
            <div class="panes">
                { pane(0) }
                { if panes == 2 { pane(1) } else { html! {} } }
                { for b.plain_note.iter().map(|n| html! { <p class="plain-note muted">{n.clone()}</p> }) }
            </div>
        </section>
    }
}
