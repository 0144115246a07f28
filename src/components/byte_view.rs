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
use std::fmt::Write;
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
    /// Which message (its packet number): a new one starts without a
    /// highlight, a pinned field or a moved tab stop. The panes stay and
    /// are redrawn, rather than made anew for each message.
    pub message: u64,
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
    /// Which message (see [`ByteViewProps::message`]).
    message: u64,
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
    let cursor = use_state(|| (0u64, 0usize));
    let cursor_at = if cursor.0 == p.message { cursor.1 } else { 0 };
    let Some(d) = dump_of(&p.bytes.0, p.pane) else {
        return html! {};
    };
    let range = |i: Option<usize>| {
        i.and_then(|i| d.rows.get(i))
            .map(|r| r.start..r.start + r.len)
    };
    let lit = range(p.active);
    let pin = range(p.pinned);

    // A new message is shown from its first octet and field.
    {
        let (table_box, dump_box) = (table_box.clone(), dump_box.clone());
        use_effect_with(p.message, move |_| {
            for b in [table_box, dump_box] {
                if let Some(el) = b.cast::<Element>() {
                    el.set_scroll_top(0);
                }
            }
        });
    }

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
        let message = p.message;
        Callback::from(move |e: FocusEvent| {
            if let Some(i) = row_of(&e, "tr[data-row]") {
                cursor.set((message, i));
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

    // The hex dump is a few hundred spans, one per octet, made anew for
    // each message: written as one piece of markup, which the browser
    // parses far faster than the page builds node by node. It is made of
    // offsets, hex digits and row numbers only (escaped all the same), and
    // has nothing to focus, so a new highlight may redraw it whole.
    let mut dump = String::with_capacity(d.lines.len() * 600);
    for (k, l) in d.lines.iter().enumerate() {
        if k > 0 {
            dump.push('\n');
        }
        let _ = write!(dump, "<span class=\"off\">{}</span>  ", escape(&l.offset));
        for (j, o) in l.octets.iter().enumerate() {
            if j > 0 {
                dump.push(' ');
            }
            let on = lit.as_ref().is_some_and(|r| r.contains(&o.at));
            let pinned = pin.as_ref().is_some_and(|r| r.contains(&o.at));
            let _ = write!(
                dump,
                "<span class=\"o{}{}\" data-row=\"{}\">{}</span>",
                if on { " on" } else { "" },
                if pinned { " pin" } else { "" },
                o.row,
                escape(&o.hex)
            );
        }
    }
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
                tabindex={if cursor_at == i { "0" } else { "-1" }}>
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
                onmouseleave={leave.clone()} onclick={click(".o[data-row]")}>
                { Html::from_html_unchecked(AttrValue::from(dump)) }</pre>
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
    // Each with the message it was made on: another message's is none.
    let hover = use_state(|| None::<(u64, Spot, Side)>);
    let pinned = use_state(|| None::<(u64, Spot)>);
    let message = p.message;
    let hovered = hover.filter(|h| h.0 == message).map(|(_, s, f)| (s, f));
    let pinned_spot = pinned.filter(|x| x.0 == message).map(|(_, s)| s);
    let b = &p.bytes.0;
    let panes = if b.plain.is_some() { 2 } else { 1 };
    let pane = |k: usize| {
        let on_hover = {
            let hover = hover.clone();
            Callback::from(move |(row, from): (Option<usize>, Side)| {
                hover.set(row.map(|r| (message, (k, r), from)));
            })
        };
        let on_pin = {
            let pinned = pinned.clone();
            Callback::from(move |row: Option<usize>| pinned.set(row.map(|r| (message, (k, r)))))
        };
        let pinned_here = pinned_spot.filter(|(q, _)| *q == k).map(|(_, r)| r);
        let (active, from) = match hovered {
            Some(((q, r), from)) if q == k => (Some(r), Some(from)),
            Some(_) => (None, None),
            None => (pinned_here, None),
        };
        html! {
            <Pane pane={k} bytes={p.bytes.clone()} {message} {active} pinned={pinned_here} {from} {on_hover} {on_pin} />
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

/// Text for markup: `&`, `<`, `>` and `"` as entities.
fn escape(s: &str) -> std::borrow::Cow<'_, str> {
    if !s.contains(['&', '<', '>', '"']) {
        return std::borrow::Cow::Borrowed(s);
    }
    let mut out = String::with_capacity(s.len() + 8);
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            c => out.push(c),
        }
    }
    std::borrow::Cow::Owned(out)
}

#[cfg(test)]
mod tests {
    /// The dump's markup carries text only as text.
    #[test]
    fn markup_text_is_escaped() {
        assert_eq!(super::escape("0a ff"), "0a ff");
        assert_eq!(
            super::escape("<b a=\"1\">&</b>"),
            "&lt;b a=&quot;1&quot;&gt;&amp;&lt;/b&gt;"
        );
    }
}
