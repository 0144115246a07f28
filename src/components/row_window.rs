//! Long tables drawn in part: a cluster's member table and a carrier-grade
//! NAT's mappings have a row per client, thousands of them. Past
//! [`WINDOW_FROM`] rows a table draws only the rows in its scroll box's
//! view (and a few around them), between two spacer rows that keep the
//! scroll bar true; the DOM stays small whatever the cluster's size.

use std::ops::Range;
use web_sys::Element;
use yew::prelude::*;

/// Tables with more rows than this are drawn in part.
pub const WINDOW_FROM: usize = 100;
/// Rows drawn above and below the view.
const OVERSCAN: usize = 12;

/// The part of a table to draw, and how tall the rows left out are.
pub struct RowWindow {
    pub rows: Range<usize>,
    /// Spacer heights above and below the drawn rows, in pixels.
    pub before: f64,
    pub after: f64,
    /// For the scroll box: keeps the window where the user scrolled.
    pub onscroll: Callback<Event>,
}

impl RowWindow {
    /// A spacer row of `h` pixels spanning `cols` columns (none for 0).
    pub fn spacer(h: f64, cols: usize) -> Html {
        if h <= 0.0 {
            return html! {};
        }
        html! {
            <tr class="spacer" aria-hidden="true">
                <td colspan={cols.to_string()} style={format!("height:{h}px;padding:0")}></td>
            </tr>
        }
    }
}

/// The rows of a table of `count` rows of `row_h` pixels to draw in a
/// scroll box `view_h` pixels high: all of them up to [`WINDOW_FROM`].
#[hook]
pub fn use_row_window(count: usize, row_h: f64, view_h: f64) -> RowWindow {
    let top = use_state(|| 0.0_f64);
    let onscroll = {
        let top = top.clone();
        Callback::from(move |e: Event| {
            if let Some(el) = e.target_dyn_into::<Element>() {
                top.set(el.scroll_top() as f64);
            }
        })
    };
    if count <= WINDOW_FROM {
        return RowWindow {
            rows: 0..count,
            before: 0.0,
            after: 0.0,
            onscroll,
        };
    }
    let first = ((*top / row_h) as usize)
        .saturating_sub(OVERSCAN)
        .min(count);
    let last = (((*top + view_h) / row_h).ceil() as usize + OVERSCAN).min(count);
    RowWindow {
        rows: first..last,
        before: first as f64 * row_h,
        after: (count - last) as f64 * row_h,
        onscroll,
    }
}
