//! Pressing the elements of the topology drawing. A tap (a click, or a
//! touch that neither moves nor lingers) opens the element's menu; a long
//! press opens it too, without waiting for the finger to lift; moving the
//! pointer drags the boxes that can be dragged (the pointer's moves become
//! `Drag` actions and its release a `Drop`, where NAT boxes land on links).
//! So a plain click on a NAT box opens its menu and never takes it out of
//! its path: only a drag does.

use crate::state::{Action, Dispatch, MenuOpen};
use gloo_timers::callback::Timeout;
use mobike_render::menu::Target;
use mobike_render::topology::{TOPO_H, TOPO_W, clamp_to_drawing};
use std::cell::{Cell, RefCell};
use std::rc::Rc;
use wasm_bindgen::JsCast;
use web_sys::{Element, PointerEvent};
use yew::prelude::*;

/// How long a touch must stay put to count as a long press.
const LONG_PRESS_MS: u32 = 550;
/// How far (CSS pixels) the pointer may wander and still be a tap: a
/// finger needs more room than a mouse.
const TAP_SLOP_MOUSE: f64 = 4.0;
const TAP_SLOP_TOUCH: f64 = 10.0;

/// An element was pressed.
pub struct Grab {
    /// Whose menu a tap or a long press opens (a group's box has none).
    pub target: Option<Target>,
    /// The layout key a drag moves, for the boxes that can be dragged.
    pub drag: Option<String>,
    /// The box's centre (a drag keeps the pointer's offset from it).
    pub centre: [f64; 2],
    pub event: PointerEvent,
}

/// The element being pressed.
struct Pressed {
    target: Option<Target>,
    drag: Option<String>,
    /// Offset from the pointer to the node's centre.
    offset: [f64; 2],
    /// Where the press began (client pixels).
    start: (f64, f64),
    slop: f64,
    /// The pointer moved beyond the slop: a drag (or nothing), not a tap.
    moved: bool,
    /// The long-press timer fired: the menu is open already.
    long: Rc<Cell<bool>>,
    /// The long-press timer, for touch and pen; dropped when the press
    /// ends or becomes a drag.
    timer: Option<Timeout>,
}

/// The handlers of a drawing whose elements can be pressed; all stable
/// across renders, so the elements' props stay equal.
pub struct DragHandlers {
    /// For each element's pointerdown.
    pub on_grab: Callback<Grab>,
    /// For the drawing's pointermove.
    pub on_move: Callback<PointerEvent>,
    /// For the drawing's pointerup.
    pub on_release: Callback<PointerEvent>,
    /// For the drawing's pointercancel (the browser took the touch over).
    pub on_cancel: Callback<PointerEvent>,
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
fn target(st: &Pressed, pt: [f64; 2]) -> [f64; 2] {
    clamp_to_drawing([pt[0] + st.offset[0], pt[1] + st.offset[1]])
}

fn open(dispatch: &Dispatch, target: Option<Target>) {
    if let Some(target) = target {
        dispatch.dispatch(Action::OpenMenu(MenuOpen {
            target,
            keyboard: false,
        }));
    }
}

/// Press handling for the drawing `svg` (the SVG element, whose viewBox is
/// the drawing's size).
#[hook]
pub fn use_drag(svg: NodeRef, dispatch: Dispatch) -> DragHandlers {
    let pressed: Rc<RefCell<Option<Pressed>>> = use_mut_ref(|| None);
    let on_grab = {
        let (pressed, svg, d) = (pressed.clone(), svg.clone(), dispatch.clone());
        use_callback((), move |g: Grab, _| {
            let e = &g.event;
            // The other buttons open the menu by their contextmenu event.
            if e.button() != 0 {
                return;
            }
            // No text selection, no emulated mouse events.
            e.prevent_default();
            let Some(pt) = svg_point(&svg, e) else {
                return;
            };
            if let Some(t) = e.target().and_then(|t| t.dyn_into::<Element>().ok()) {
                let _ = t.set_pointer_capture(e.pointer_id());
            }
            let mouse = e.pointer_type() == "mouse";
            let long = Rc::new(Cell::new(false));
            // A mouse held still is a slow click; a finger held still asks
            // for the menu.
            let timer = (!mouse && g.target.is_some()).then(|| {
                let (long, d, target) = (long.clone(), d.clone(), g.target.clone());
                Timeout::new(LONG_PRESS_MS, move || {
                    long.set(true);
                    open(&d, target);
                    swallow_release_click();
                })
            });
            *pressed.borrow_mut() = Some(Pressed {
                target: g.target,
                drag: g.drag,
                offset: [g.centre[0] - pt[0], g.centre[1] - pt[1]],
                start: (e.client_x() as f64, e.client_y() as f64),
                slop: if mouse {
                    TAP_SLOP_MOUSE
                } else {
                    TAP_SLOP_TOUCH
                },
                moved: false,
                long,
                timer,
            });
        })
    };
    let on_move = {
        let (pressed, svg, d) = (pressed.clone(), svg.clone(), dispatch.clone());
        use_callback((), move |e: PointerEvent, _| {
            let mut guard = pressed.borrow_mut();
            let Some(st) = guard.as_mut() else {
                return;
            };
            if !st.moved {
                let (dx, dy) = (
                    e.client_x() as f64 - st.start.0,
                    e.client_y() as f64 - st.start.1,
                );
                if dx.hypot(dy) <= st.slop || st.long.get() {
                    return;
                }
                st.moved = true;
                st.timer = None;
            }
            let moved = st
                .drag
                .clone()
                .zip(svg_point(&svg, &e))
                .map(|(id, pt)| (id, target(st, pt)));
            drop(guard);
            if let Some((id, pos)) = moved {
                d.dispatch(Action::Drag(id, pos));
            }
        })
    };
    let on_release = {
        let (pressed, d) = (pressed.clone(), dispatch.clone());
        use_callback((), move |e: PointerEvent, _| {
            let Some(st) = pressed.borrow_mut().take() else {
                return;
            };
            if st.long.get() {
                return;
            }
            match (&st.drag, st.moved) {
                (_, false) => open(&d, st.target.clone()),
                (Some(id), true) => {
                    if let Some(pt) = svg_point(&svg, &e) {
                        d.dispatch(Action::Drop(id.clone(), target(&st, pt)));
                    }
                }
                (None, true) => {}
            }
        })
    };
    let on_cancel = use_callback((), move |_: PointerEvent, _| {
        pressed.borrow_mut().take();
    });
    DragHandlers {
        on_grab,
        on_move,
        on_release,
        on_cancel,
    }
}

/// After a long press opened a menu: the finger's release, wherever it
/// lands (the menu may now be under it), must not press what is there.
fn swallow_release_click() {
    use gloo_events::{EventListener, EventListenerOptions, EventListenerPhase};
    let Some(doc) = web_sys::window().and_then(|w| w.document()) else {
        return;
    };
    let slot: Rc<RefCell<Option<EventListener>>> = Rc::new(RefCell::new(None));
    let options = EventListenerOptions {
        phase: EventListenerPhase::Capture,
        passive: true,
    };
    let inner = slot.clone();
    let listener = EventListener::new_with_options(&doc, "pointerup", options, move |e| {
        if let Some(p) = e.dyn_ref::<PointerEvent>() {
            swallow_next_click(p.client_x(), p.client_y());
        }
        let taken = inner.borrow_mut().take();
        Timeout::new(0, move || drop(taken)).forget();
    });
    *slot.borrow_mut() = Some(listener);
    // A press that never ends (the pointer was cancelled) stops waiting.
    Timeout::new(10_000, move || drop(slot.borrow_mut().take())).forget();
}

/// Swallows the click the browser makes of a long press's release (at
/// the finger's place, within a moment of it), in the capture phase before
/// anything sees it; a tap elsewhere goes through.
fn swallow_next_click(x: i32, y: i32) {
    use gloo_events::{EventListener, EventListenerOptions, EventListenerPhase};
    let Some(doc) = web_sys::window().and_then(|w| w.document()) else {
        return;
    };
    let slot: Rc<RefCell<Option<EventListener>>> = Rc::new(RefCell::new(None));
    let options = EventListenerOptions {
        phase: EventListenerPhase::Capture,
        passive: false,
    };
    let inner = slot.clone();
    let listener = EventListener::new_with_options(&doc, "click", options, move |e| {
        let here = e
            .dyn_ref::<web_sys::MouseEvent>()
            .is_some_and(|m| (m.client_x() - x).abs() <= 12 && (m.client_y() - y).abs() <= 12);
        if !here {
            return;
        }
        e.prevent_default();
        e.stop_immediate_propagation();
        // Once only: dropped after this click (outside the borrow).
        let taken = inner.borrow_mut().take();
        Timeout::new(0, move || drop(taken)).forget();
    });
    *slot.borrow_mut() = Some(listener);
    Timeout::new(600, move || drop(slot.borrow_mut().take())).forget();
}

/// Keys on a focused element of the drawing: Enter, Space, the menu key
/// or Shift+F10 open its menu (with the focus in it). Handled here, so
/// Space presses the element instead of playing or pausing.
pub fn menu_keys(dispatch: &Dispatch, target: Target) -> Callback<KeyboardEvent> {
    let dispatch = dispatch.clone();
    Callback::from(move |e: KeyboardEvent| {
        let open = match e.key().as_str() {
            "Enter" | " " | "ContextMenu" => true,
            "F10" => e.shift_key(),
            _ => false,
        };
        if open && !e.ctrl_key() && !e.alt_key() && !e.meta_key() {
            e.prevent_default();
            e.stop_propagation();
            dispatch.dispatch(Action::OpenMenu(MenuOpen {
                target: target.clone(),
                keyboard: true,
            }));
        }
    })
}

/// The context menu (a right click, or a long press where the browser
/// reports one) opens the element's menu instead of the browser's.
pub fn context_menu(dispatch: &Dispatch, target: Target) -> Callback<MouseEvent> {
    let dispatch = dispatch.clone();
    Callback::from(move |e: MouseEvent| {
        e.prevent_default();
        open(&dispatch, Some(target.clone()));
    })
}
