//! Dragging boxes in the topology drawing: a box reports that it was
//! grabbed, the pointer's moves become `Drag` actions and its release a
//! `Drop` (where NAT boxes land on links).

use crate::state::{Action, Dispatch};
use mobike_render::topology::{TOPO_H, TOPO_W, clamp_to_drawing};
use std::cell::RefCell;
use std::rc::Rc;
use wasm_bindgen::JsCast;
use web_sys::{Element, PointerEvent};
use yew::prelude::*;

/// A box was grabbed: (its layout key, its centre, the pointer event).
pub type Grab = (String, [f64; 2], PointerEvent);

/// The box being dragged.
struct Dragged {
    id: String,
    /// Offset from the pointer to the node's centre.
    offset: [f64; 2],
}

/// The handlers of a drawing whose boxes can be dragged; all stable
/// across renders, so the boxes' props stay equal.
pub struct DragHandlers {
    /// For each box's pointerdown.
    pub on_grab: Callback<Grab>,
    /// For the drawing's pointermove.
    pub on_move: Callback<PointerEvent>,
    /// For the drawing's pointerup.
    pub on_release: Callback<PointerEvent>,
}

/// The pointer's position in drawing units.
fn svg_point(svg: &NodeRef, e: &PointerEvent) -> Option<[f64; 2]> {
    let el = svg.cast::<Element>()?;
    let r = el.get_bounding_client_rect();
    if r.width() <= 0.0 || r.height() <= 0.0 {
        return None;
    }
    Some([
        (e.client_x() as f64 - r.left()) * TOPO_W / r.width(),
        (e.client_y() as f64 - r.top()) * TOPO_H / r.height(),
    ])
}

/// Where the dragged box's centre goes for this pointer position.
fn target(st: &Dragged, pt: [f64; 2]) -> [f64; 2] {
    clamp_to_drawing([pt[0] + st.offset[0], pt[1] + st.offset[1]])
}

/// Drag handling for the drawing `svg` (the SVG element, whose viewBox is
/// the drawing's size).
#[hook]
pub fn use_drag(svg: NodeRef, dispatch: Dispatch) -> DragHandlers {
    let drag: Rc<RefCell<Option<Dragged>>> = use_mut_ref(|| None);
    let on_grab = {
        let (drag, svg) = (drag.clone(), svg.clone());
        use_callback((), move |(id, centre, e): Grab, _| {
            e.prevent_default();
            if let Some(pt) = svg_point(&svg, &e) {
                if let Some(t) = e.target().and_then(|t| t.dyn_into::<Element>().ok()) {
                    let _ = t.set_pointer_capture(e.pointer_id());
                }
                *drag.borrow_mut() = Some(Dragged {
                    id,
                    offset: [centre[0] - pt[0], centre[1] - pt[1]],
                });
            }
        })
    };
    let on_move = {
        let (drag, svg, d) = (drag.clone(), svg.clone(), dispatch.clone());
        use_callback((), move |e: PointerEvent, _| {
            let moved = drag
                .borrow()
                .as_ref()
                .zip(svg_point(&svg, &e))
                .map(|(st, pt)| (st.id.clone(), target(st, pt)));
            if let Some((id, pos)) = moved {
                d.dispatch(Action::Drag(id, pos));
            }
        })
    };
    let on_release = use_callback((), move |e: PointerEvent, _| {
        let grabbed = drag.borrow_mut().take();
        if let (Some(st), Some(pt)) = (grabbed, svg_point(&svg, &e)) {
            let pos = target(&st, pt);
            dispatch.dispatch(Action::Drop(st.id, pos));
        }
    });
    DragHandlers {
        on_grab,
        on_move,
        on_release,
    }
}
