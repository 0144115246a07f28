//! The MOBIKE Playground page (yew). Everything the user does is an
//! [`Action`]; the reducer applies it to the [`session::Session`], which
//! holds the running simulation. Components only draw view models from the
//! session and the render crate; they do no protocol arithmetic.
#![forbid(unsafe_code)]

pub mod session;
mod view;

use mobike_protocol::{MS, Time};
use session::{DEFAULT_SCENARIO, Session};
use std::cell::RefCell;
use std::rc::Rc;
use yew::prelude::*;

/// Everything a user can do on the page.
#[derive(Clone, Debug, PartialEq)]
pub enum Action {
    TogglePlay,
    Pause,
    Step,
    Reset,
    SetSpeed(u32),
    /// One animation tick of `real_ms` wall-clock milliseconds.
    Tick(u32),
    ToggleLink(String),
    /// A node is being dragged to a position (drawing units).
    Drag(String, [f64; 2]),
    /// A node was dropped there; NAT boxes land on (or off) links.
    Drop(String, [f64; 2]),
    Select(Option<u64>),
    /// Show or hide ESP packets in the chart.
    ToggleEsp,
    /// Open a built-in example (index into `session::EXAMPLES`).
    LoadExample(usize),
}

/// Page state. The simulation lives behind a shared cell because it is far
/// too large to copy on every action; `version` changes whenever it does, so
/// components re-render.
pub struct Model {
    pub session: Rc<RefCell<Session>>,
    pub version: u64,
    pub playing: bool,
    /// Virtual time per wall-clock time.
    pub speed: u32,
    pub selected: Option<u64>,
    pub show_esp: bool,
}

impl PartialEq for Model {
    fn eq(&self, o: &Self) -> bool {
        self.version == o.version
            && self.playing == o.playing
            && self.speed == o.speed
            && self.selected == o.selected
            && self.show_esp == o.show_esp
            && Rc::ptr_eq(&self.session, &o.session)
    }
}

/// The longest virtual step one tick may take, so a throttled tab does not
/// jump minutes ahead at once.
const MAX_TICK: Time = 2_000 * MS;

impl Reducible for Model {
    type Action = Action;

    fn reduce(self: Rc<Self>, action: Action) -> Rc<Self> {
        let mut playing = self.playing;
        let mut speed = self.speed;
        let mut selected = self.selected;
        let mut show_esp = self.show_esp;
        let session = self.session.clone();
        {
            let mut s = session.borrow_mut();
            match action {
                Action::TogglePlay => playing = !playing,
                Action::Pause => playing = false,
                Action::Step => {
                    playing = false;
                    s.step();
                }
                Action::Reset => {
                    playing = false;
                    selected = None;
                    s.reset();
                }
                Action::SetSpeed(x) => speed = x.clamp(1, 1000),
                Action::Tick(real_ms) => {
                    if !playing {
                        drop(s);
                        return self;
                    }
                    let dt = (real_ms as Time * MS * speed as Time).min(MAX_TICK);
                    s.advance(dt);
                }
                Action::ToggleLink(l) => s.toggle_link(&l),
                Action::Drag(id, pos) => s.move_node(&id, pos),
                Action::Drop(id, pos) => {
                    if s.scenario.nats.iter().any(|n| n.id == id) {
                        s.drop_nat(&id, pos);
                    } else {
                        s.move_node(&id, pos);
                    }
                }
                Action::Select(p) => selected = p,
                Action::ToggleEsp => show_esp = !show_esp,
                Action::LoadExample(i) => {
                    if let Some(Ok(new)) =
                        session::EXAMPLES.get(i).map(|(_, t)| Session::from_toml(t))
                    {
                        *s = new;
                        playing = false;
                        selected = None;
                    }
                }
            }
        }
        Rc::new(Model {
            session,
            version: self.version + 1,
            playing,
            speed,
            selected,
            show_esp,
        })
    }
}

impl Model {
    pub fn new(session: Session) -> Model {
        Model {
            session: Rc::new(RefCell::new(session)),
            version: 0,
            playing: false,
            speed: 1,
            selected: None,
            show_esp: false,
        }
    }
}

#[function_component(App)]
pub fn app() -> Html {
    let model = use_reducer(|| {
        let session = match Session::from_toml(DEFAULT_SCENARIO) {
            Ok(s) => s,
            // The built-in scenario is tested; this cannot happen in a build
            // that passed its tests.
            Err(e) => panic!("built-in scenario: {e}"),
        };
        Model::new(session)
    });
    view::page(&model)
}
