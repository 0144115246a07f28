//! The MOBIKE Playground page (yew). Everything the user does is an
//! [`Action`]; the reducer applies it to the [`session::Session`], which
//! holds the running simulation. Components only draw view models from the
//! session and the render crate; they do no protocol arithmetic.
#![forbid(unsafe_code)]

pub mod session;
pub mod share;
pub mod timeline;
mod view;

use mobike_protocol::{MS, SEC, Time};
use mobike_render::fmt_time;
use session::{DEFAULT_SCENARIO, Fork, Session};
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
    /// Show the moment `t` of the timeline (the scrubber).
    Seek(Time),
    /// Jump by this much virtual time (negative: back).
    SeekBy(i64),
    /// Put a share link for this run in the URL hash and show it.
    Share,
    /// Open a share link's hash (the page was opened with it, or it changed).
    OpenHash(String),
    /// A scenario file was read: (file name, text).
    OpenFile(String, String),
    /// Show an error in the error panel.
    ShowError(ErrorNote),
    DismissError,
    DismissNotice,
    /// Lesson mode: pause whenever a new narration step appears.
    ToggleLesson,
    /// Close the share link's panel (the URL keeps the link).
    CloseShare,
    /// Show this host's full state panel (big scenarios).
    FocusHost(String),
    /// Start over with another seed.
    SetSeed(u64),
}

/// An error the page shows until dismissed: what failed, why, and for a
/// scenario file the offending line.
#[derive(Clone, Debug, PartialEq)]
pub struct ErrorNote {
    pub title: String,
    pub message: String,
    /// (line number, the line's text, column) when the error has a place.
    pub excerpt: Option<(usize, String, usize)>,
}

impl ErrorNote {
    /// A scenario file that could not be read.
    pub fn scenario(name: &str, text: &str, e: &mobike_sim::ScenarioError) -> ErrorNote {
        let excerpt = e.line.and_then(|l| {
            let line = text.lines().nth(l.checked_sub(1)?)?;
            Some((l, line.to_string(), e.column.unwrap_or(1)))
        });
        ErrorNote {
            title: format!("Could not open {name}; the current scenario keeps running"),
            message: e.to_string(),
            excerpt,
        }
    }
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
    /// Pause at each narration step.
    pub lesson: bool,
    /// A short notice (the timeline forked), dismissible.
    pub notice: Option<String>,
    pub error: Option<ErrorNote>,
    /// The share link's hash, once the user asked for one (or the page
    /// was opened with one); the URL hash follows it.
    pub share: Option<String>,
    /// The share link's panel is open (after the user asked for a link).
    pub share_open: bool,
    /// The host whose full state panel is shown when there are many.
    pub focus: Option<String>,
}

impl PartialEq for Model {
    fn eq(&self, o: &Self) -> bool {
        self.version == o.version
            && self.playing == o.playing
            && self.speed == o.speed
            && self.selected == o.selected
            && self.show_esp == o.show_esp
            && self.lesson == o.lesson
            && self.notice == o.notice
            && self.error == o.error
            && self.share == o.share
            && self.share_open == o.share_open
            && self.focus == o.focus
            && Rc::ptr_eq(&self.session, &o.session)
    }
}

/// The longest virtual step one tick may take, so a throttled tab does not
/// jump minutes ahead at once.
const MAX_TICK: Time = 2_000 * MS;

fn fork_notice(f: &Fork) -> String {
    let dropped = match f.dropped {
        0 => String::new(),
        1 => ", with 1 later intervention of yours".into(),
        n => format!(", with {n} later interventions of yours"),
    };
    format!(
        "You changed the past: a new timeline starts at {}. The old one after it (up to {}{dropped}) is gone.",
        fmt_time(f.at),
        fmt_time(f.dropped_until)
    )
}

impl Reducible for Model {
    type Action = Action;

    fn reduce(self: Rc<Self>, action: Action) -> Rc<Self> {
        let mut next = Model {
            session: self.session.clone(),
            version: self.version + 1,
            playing: self.playing,
            speed: self.speed,
            selected: self.selected,
            show_esp: self.show_esp,
            lesson: self.lesson,
            notice: self.notice.clone(),
            error: self.error.clone(),
            share: self.share.clone(),
            share_open: self.share_open,
            focus: self.focus.clone(),
        };
        let session = self.session.clone();
        let mut s = session.borrow_mut();
        let mut fork = None;
        match action {
            Action::TogglePlay => next.playing = !next.playing,
            Action::Pause => next.playing = false,
            Action::Step => {
                next.playing = false;
                s.step();
            }
            Action::Reset => {
                next.playing = false;
                next.selected = None;
                next.notice = None;
                next.share = None;
                s.reset();
            }
            Action::SetSpeed(x) => next.speed = x.clamp(1, 1000),
            Action::Tick(real_ms) => {
                if !self.playing {
                    drop(s);
                    return self;
                }
                let dt = (real_ms as Time * MS * self.speed as Time).min(MAX_TICK);
                if self.lesson {
                    if s.advance_to_step(dt) {
                        next.playing = false;
                    }
                } else {
                    s.advance(dt);
                }
            }
            Action::ToggleLink(l) => fork = s.toggle_link(&l),
            Action::Drag(id, pos) => s.move_node(&id, pos),
            Action::Drop(id, pos) => {
                if s.scenario.nats.iter().any(|n| n.id == id) {
                    fork = s.drop_nat(&id, pos).1;
                } else {
                    s.move_node(&id, pos);
                }
            }
            Action::Select(p) => next.selected = p,
            Action::ToggleEsp => next.show_esp = !next.show_esp,
            Action::LoadExample(i) => {
                if let Some(Ok(new)) = session::EXAMPLES.get(i).map(|(_, t)| Session::from_toml(t))
                {
                    *s = new;
                    next.fresh();
                }
            }
            Action::Seek(t) => {
                next.playing = false;
                s.seek(t);
            }
            Action::SeekBy(d) => {
                next.playing = false;
                let t = s.now().saturating_add_signed(d);
                s.seek(t);
            }
            Action::Share => {
                next.share = Some(share::encode(&s));
                next.share_open = true;
            }
            Action::CloseShare => next.share_open = false,
            Action::OpenHash(hash) => match share::decode(&hash) {
                Ok(Some(shared)) => {
                    *s = shared.into_session();
                    next.fresh();
                    next.share = Some(hash.trim_start_matches('#').to_string());
                }
                Ok(None) => {}
                Err(e) => {
                    next.error = Some(ErrorNote {
                        title: "This share link could not be opened".into(),
                        message: e,
                        excerpt: None,
                    })
                }
            },
            Action::OpenFile(name, text) => match Session::from_toml(&text) {
                Ok(new) => {
                    *s = new;
                    next.fresh();
                }
                Err(e) => next.error = Some(ErrorNote::scenario(&name, &text, &e)),
            },
            Action::ShowError(e) => next.error = Some(e),
            Action::DismissError => next.error = None,
            Action::DismissNotice => next.notice = None,
            Action::ToggleLesson => next.lesson = !next.lesson,
            Action::FocusHost(h) => next.focus = Some(h),
            Action::SetSeed(seed) => {
                if seed != s.scenario.seed {
                    s.set_seed(seed);
                    next.playing = false;
                    next.selected = None;
                    next.notice = None;
                    next.share = None;
                }
            }
        }
        if let Some(f) = fork {
            next.notice = Some(fork_notice(&f));
        }
        drop(s);
        Rc::new(next)
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
            lesson: false,
            notice: None,
            error: None,
            share: None,
            share_open: false,
            focus: None,
        }
    }

    /// After switching to another scenario: nothing from the old one stays.
    fn fresh(&mut self) {
        self.playing = false;
        self.selected = None;
        self.notice = None;
        self.share = None;
        self.share_open = false;
        self.focus = None;
        self.error = None;
    }

    /// The page as a URL hash asks for: a share link's run, or the default
    /// scenario with the link's error shown.
    pub fn from_hash(hash: &str) -> Model {
        let default = || match Session::from_toml(DEFAULT_SCENARIO) {
            Ok(s) => s,
            // The built-in scenario is tested; this cannot happen in a build
            // that passed its tests.
            Err(e) => panic!("built-in scenario: {e}"),
        };
        match share::decode(hash) {
            Ok(Some(shared)) => {
                let mut m = Model::new(shared.into_session());
                m.share = Some(hash.trim_start_matches('#').to_string());
                m
            }
            Ok(None) => Model::new(default()),
            Err(e) => {
                let mut m = Model::new(default());
                m.error = Some(ErrorNote {
                    title: "This share link could not be opened; showing the default scenario"
                        .into(),
                    message: e,
                    excerpt: None,
                });
                m
            }
        }
    }
}

/// One second of virtual time, the keyboard's scrubbing step.
pub const SEEK_STEP: Time = SEC;

#[function_component(App)]
pub fn app() -> Html {
    let model = use_reducer(|| {
        let hash = web_sys::window()
            .and_then(|w| w.location().hash().ok())
            .unwrap_or_default();
        Model::from_hash(&hash)
    });
    view::page(&model)
}
