//! The page's state: every user action is an [`Action`], and the reducer
//! applies it to the [`Model`]. The model is a cheap handle: the session
//! (far too large to copy on every action) sits behind a shared cell with a
//! `version` that changes whenever the session does, and everything else
//! the page shows is the small [`Ui`] record. No web types here, so the
//! reducer is tested natively.

use crate::compare::{Against, Compare};
use crate::editor::{Edit, Editor, EditorRef, Start};
use crate::engine::{Command, Outcome};
use crate::exports::{self, Body, ExportKind};
use crate::live::{Live, Pending, Settled};
use crate::session::{self, DEFAULT_SCENARIO, Fork, Session, Source};
use crate::share;
use crate::storage::Saved;
use mobike_protocol::{MS, SEC, Time};
use mobike_render::export::ExportView;
use mobike_render::fmt_time;
use mobike_render::menu::{Target, form_of};
use mobike_render::msc::{self, Exchange, RowKind, ViewOptions};
use mobike_sim::Intervention;
use std::cell::{Ref, RefCell, RefMut};
use std::rc::Rc;
use yew::{Callback, Reducible, UseReducerDispatcher};

/// How components send actions: stable across renders, so a component
/// that takes it as a prop is not re-rendered for it.
pub type Dispatch = UseReducerDispatcher<Model>;

/// A callback that sends `action` whatever the event.
pub fn send<E: 'static>(dispatch: &Dispatch, action: Action) -> Callback<E> {
    let dispatch = dispatch.clone();
    Callback::from(move |_| dispatch.dispatch(action.clone()))
}

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
    /// A capture and its key files were read.
    OpenCapture(CaptureFiles),
    /// Test only (a page opened with `?test-panic`): panics in the reducer,
    /// so a browser test sees the crash panel.
    ProvokePanic,
    /// Show an error in the error panel.
    ShowError(ErrorNote),
    DismissError,
    DismissNotice,
    /// Lesson mode: pause whenever a new narration step appears.
    ToggleLesson,
    /// Show narration step k (from 1) of those reached: the narration
    /// panel's back and forward buttons.
    ShowStep(usize),
    /// Show a rule's text (a key of `mobike_render::rules::find_refs`:
    /// "M-3.5-2", "RFC 4555 §3.5"), or close it.
    ShowRule(Option<String>),
    /// Close the share link's panel (the URL keeps the link).
    CloseShare,
    /// Show this host's full state panel (big scenarios).
    FocusHost(String),
    /// Start over with another seed.
    SetSeed(u64),

    // --- Editing, saving and autosave (the reducer's part is
    // `Model::apply_work`; the model is `editor`, the record `storage`).
    /// Open the editor on a new draft ("Edit", "New…").
    EditorOpen(Start),
    /// A change in the editor.
    Edit(Edit),
    /// Start the run over from the draft.
    EditorApply,
    /// Close the editor; the draft is dropped.
    EditorClose,
    /// "Save scenario": download the scenario as it stands.
    Save,
    /// Work autosaved on an earlier visit was found: offer it.
    OfferRestore(Saved),
    /// Open the offered work.
    Restore,
    /// Forget it.
    DiscardRestore,
    /// Close the notice that playback stopped at the scenario's end.
    DismissEnded,
    /// Download the run as shown, in this form; a capture is taken at
    /// this host.
    Export(ExportKind, String),
    /// Compare mode: run B beside this run (see [`Against`]).
    CompareStart(Against),
    /// The compare form's text does not read: why.
    CompareError(String),
    /// Back to one run.
    CompareStop,
    /// Something done to the chart's view (see [`ChartAction`]).
    Chart(ChartAction),

    // The lab: the element menus of the drawing. Kept together here; see
    // `apply_lab`.
    /// Apply this intervention now, if the simulator's check allows it
    /// (an error is shown in the menu, next to its form).
    Intervene(Intervention),
    /// Open the menu of an element of the drawing.
    OpenMenu(MenuOpen),
    CloseMenu,
    /// What the user typed in a menu's form does not read: (the form, why).
    MenuError(String, String),

    /// A reply from the simulation's worker (see [`crate::engine`]).
    Engine(EngineReply),
    /// The simulation's worker stopped (it failed): why. The run goes on
    /// in the page's own thread.
    EngineFailed(String),
}

/// Replies of the simulation's worker, as they came (their bytes), in
/// order: the replies to ticks that came within one frame are taken in
/// together, and the page is drawn once for them. Shown in a crash report
/// by their lengths only.
#[derive(Clone, PartialEq)]
pub struct EngineReply(pub Vec<Rc<[u8]>>);

impl EngineReply {
    pub fn one(bytes: Rc<[u8]>) -> EngineReply {
        EngineReply(vec![bytes])
    }
}

impl std::fmt::Debug for EngineReply {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let lengths: Vec<usize> = self.0.iter().map(|b| b.len()).collect();
        write!(f, "{lengths:?} octets")
    }
}

/// An open element menu: what it is for, and whether the keyboard opened
/// it (then the focus moves into it, and back to the element when it
/// closes; a pointer leaves the focus where it was).
#[derive(Clone, Debug, PartialEq)]
pub struct MenuOpen {
    pub target: Target,
    pub keyboard: bool,
}

/// A real capture the user opened, with the key files chosen with it.
#[derive(Clone, Debug, PartialEq)]
pub struct CaptureFiles {
    pub name: String,
    pub bytes: Rc<[u8]>,
    /// (file name, text) of each key file.
    pub keys: Vec<(String, String)>,
}

/// A capture opened as a recorded session, with the notice that says what
/// it holds; or the error the page shows (the current run goes on).
fn open_capture(c: &CaptureFiles) -> Result<(Session, String), ErrorNote> {
    use mobike_render::import;
    let fail = |message: String| ErrorNote {
        title: format!(
            "Could not open {}; the current scenario keeps running",
            c.name
        ),
        message,
        excerpt: None,
    };
    let mut keys = Vec::new();
    for (name, text) in &c.keys {
        keys.extend(import::read_keys(name, text).map_err(|e| fail(e.to_string()))?);
    }
    let got = import::import(&c.name, &c.bytes, &keys).map_err(|e| fail(e.to_string()))?;
    let session = Session::recorded(&got.observed, &c.name).map_err(|e| fail(e.to_string()))?;
    let plural = |n: usize, one: &str| format!("{n} {one}{}", if n == 1 { "" } else { "s" });
    let mut notice = format!(
        "Opened the capture {}: {} of {}, {} ({} with keys). ",
        c.name,
        plural(got.datagrams, "datagram"),
        plural(got.frames, "frame"),
        plural(got.ike_sas, "IKE SA"),
        got.keyed,
    );
    if got.keyed < got.ike_sas {
        notice.push_str(
            "Without keys an SK payload stays closed: open the capture again with its key file. ",
        );
    }
    notice.push_str(
        "A recorded run is shown as it was: playing, the timeline, interventions and share links are off.",
    );
    Ok((session, notice))
}

/// What a recorded run (a capture) refuses: everything that would run it
/// or change it.
fn refused_by_recording(action: &Action) -> bool {
    matches!(
        action,
        Action::TogglePlay
            | Action::Step
            | Action::Tick(_)
            | Action::ToggleLink(_)
            | Action::Seek(_)
            | Action::SeekBy(_)
            | Action::Share
            | Action::Intervene(_)
            | Action::SetSeed(_)
            | Action::CompareStart(_)
    )
}

/// The notice a refused action gets.
pub const RECORDED_NOTICE: &str = "This is a recorded capture, shown as it was: it cannot be played, changed or shared as a link. Export it (pcap, JSON, SVG) or open a scenario to run one.";

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

    /// A share link that could not be opened.
    fn share_link(title: &str, message: String) -> ErrorNote {
        ErrorNote {
            title: title.into(),
            message,
            excerpt: None,
        }
    }
}

/// Compare mode's run B, shared as the session is (see [`SessionRef`]).
#[derive(Clone)]
pub struct CompareRef(pub Rc<RefCell<Compare>>);

impl PartialEq for CompareRef {
    fn eq(&self, other: &Self) -> bool {
        Rc::ptr_eq(&self.0, &other.0)
    }
}

impl CompareRef {
    pub fn new(c: Compare) -> CompareRef {
        CompareRef(Rc::new(RefCell::new(c)))
    }

    pub fn borrow(&self) -> Ref<'_, Compare> {
        self.0.borrow()
    }
}

/// The shared run (the page's mirror of it, [`Live`]). Equal when it is
/// the same cell: its contents are told apart by [`Model::version`], so
/// components take the handle and a version (or a narrower stamp) as
/// props.
#[derive(Clone)]
pub struct SessionRef(Rc<RefCell<Live>>);

impl PartialEq for SessionRef {
    fn eq(&self, other: &Self) -> bool {
        Rc::ptr_eq(&self.0, &other.0)
    }
}

impl SessionRef {
    pub fn new(live: Live) -> SessionRef {
        SessionRef(Rc::new(RefCell::new(live)))
    }

    /// Reads the run (components, while rendering).
    pub fn borrow(&self) -> Ref<'_, Live> {
        self.0.borrow()
    }

    /// Changes it: only the reducer does, and then bumps the version.
    fn borrow_mut(&self) -> RefMut<'_, Live> {
        self.0.borrow_mut()
    }
}

/// What the page shows besides the session: small, so copied whole on
/// every action.
#[derive(Clone, Debug, PartialEq)]
pub struct Ui {
    pub playing: bool,
    /// Virtual time per wall-clock time.
    pub speed: u32,
    /// The chart message shown in the inspector (its packet id).
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
    /// Playback stopped by itself at the scenario's `until` (this time);
    /// pressing Play goes on past it.
    pub ended: Option<Time>,
    /// How the chart is viewed.
    pub chart: ChartUi,
    /// The element menu that is open.
    pub menu: Option<MenuOpen>,
    /// What went wrong in it: (the form, the message), shown in place.
    pub menu_error: Option<(String, String)>,
    /// The scenario was made in the editor (the picker says "(edited)").
    pub edited: bool,
    /// What the compare form could not read.
    pub compare_error: Option<String>,
    /// The rule reference whose text is shown.
    pub rule: Option<String>,
}

impl Default for Ui {
    fn default() -> Ui {
        Ui {
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
            ended: None,
            chart: ChartUi::default(),
            menu: None,
            menu_error: None,
            edited: false,
            compare_error: None,
            rule: None,
        }
    }
}

impl Ui {
    /// After switching to another scenario: nothing from the old one
    /// stays; the user's preferences (speed, ESP shown, lesson mode) do.
    fn fresh(&mut self) {
        *self = Ui {
            speed: self.speed,
            show_esp: self.show_esp,
            lesson: self.lesson,
            chart: self.chart.fresh(),
            ..Ui::default()
        };
    }

    /// After starting the same scenario over: playback stops, and what
    /// belonged to the old run (selection, notice, link) goes.
    fn restarted(&mut self) {
        self.playing = false;
        self.selected = None;
        self.notice = None;
        self.share = None;
        self.menu = None;
        self.menu_error = None;
        self.ended = None;
    }

    /// The chart's view as the page draws it: the chart's own options,
    /// with ESP hidden unless "ESP" is on.
    pub fn chart_view(&self) -> ViewOptions {
        let mut view = self.chart.view.clone();
        if !self.show_esp {
            view.filter.hide_exchanges.insert(Exchange::Esp);
        }
        view
    }
}

/// Page state.
#[derive(Clone, PartialEq)]
pub struct Model {
    pub session: SessionRef,
    /// Changes whenever the session does (or compare mode's run B).
    pub version: u64,
    /// Compare mode's run B, following the session.
    pub compare: Option<CompareRef>,
    pub ui: Ui,
    /// The scenario editor, while it is open.
    pub editor: Option<EditorRef>,
    /// Saving and restoring.
    pub work: Work,
    /// Wall-clock milliseconds of ticks that came while the one before
    /// was still being simulated: the next tick carries them. Shared by
    /// the model's copies: a tick for the worker keeps the model it came
    /// to (nothing shown changes until the reply).
    owed_ms: Rc<std::cell::Cell<u32>>,
    /// The last action settled only ticks of playing (or nothing).
    ticks_only: bool,
    /// The last action was replies of the worker that answered nothing
    /// yet: slices of a jump forward (taken into the mirror, not drawn).
    slices_only: bool,
    /// Paused while ticks were on their way: the moment shown at the
    /// click, which the page goes back to once they are in.
    paused_at: Option<Time>,
    /// A jump the user asked for while another was on its way to the
    /// worker: it goes when that one is in, and a later one replaces it,
    /// so dragging the slider sends the moments the worker can keep up
    /// with, ending where the thumb was let go (not every moment it
    /// passed, each a jump back to build). Shared by the model's copies:
    /// holding it draws nothing.
    wanted: Rc<std::cell::Cell<Option<Time>>>,
}

/// What an action does to a jump waiting for the one on its way.
#[derive(Clone, Copy, PartialEq, Debug)]
enum Waiting {
    /// Nothing: it waits on (the action changes nothing of the run).
    Stays,
    /// It goes first: the action acts on the run at the moment the user
    /// put the slider at (an intervention, playing, a share link).
    GoesFirst,
    /// It is dropped: the action replaces the run.
    Dropped,
}

fn waiting_jump(action: &Action) -> Waiting {
    match action {
        Action::TogglePlay
        | Action::Step
        | Action::ToggleLink(_)
        | Action::Drop(..)
        | Action::Share
        | Action::ToggleLesson
        | Action::ShowStep(_)
        | Action::CompareStart(_)
        | Action::Intervene(_)
        | Action::Save
        | Action::Export(..) => Waiting::GoesFirst,
        Action::Reset
        | Action::LoadExample(_)
        | Action::OpenHash(_)
        | Action::OpenFile(..)
        | Action::OpenCapture(_)
        | Action::SetSeed(_)
        | Action::EditorApply
        | Action::Restore
        | Action::EngineFailed(_) => Waiting::Dropped,
        _ => Waiting::Stays,
    }
}

/// The longest virtual step one tick may take, so a throttled tab does not
/// jump minutes ahead at once: two 40 ms ticks at the highest speed, 64×
/// (a tick that came late carries the time it waited; at 2 s, the 64×
/// setting played at 50×).
const MAX_TICK: Time = 5_120 * MS;

/// How long one tick may simulate, in wall-clock milliseconds, when the
/// simulation runs in the page's own thread: the rest of the tick is the
/// browser's, to draw and to take input. When the simulation needs more (a
/// cluster of hundreds setting up its SAs at 64×), playing runs slower
/// than asked instead of freezing the page.
const TICK_BUDGET_MS: f64 = 12.0;

/// Ticks of playing sent and not answered yet, at most: the worker runs the
/// next while the page takes in the last.
const MAX_TICKS_IN_FLIGHT: usize = 2;

/// The same in the simulation's worker. There it holds up only the
/// commands queued behind it (a jump, a click in a menu), but what it
/// simulates the page's thread takes in afterwards: at 30 ms the replies of
/// a 200-client cluster made frames of 67 ms at p95 (50 ms in the page's
/// own thread, 33 ms at 12 ms), and playing was no faster. Since the
/// worker runs the first tick ahead while the page is paused, the 200
/// clients' start is mostly computed before Play: pressed 1.5 s after the
/// page opened, 20 ms a tick played at 41.1–41.6 ms per 2.56 s of virtual
/// time against 44.7–45.7 ms at 12 ms, frames 16.8 ms at p95 both; pressed
/// at once, 48.7–51.5 ms against 54.2–60.4 ms, but frames of 33–50 ms at
/// p95 against 16.8–33 ms.
const WORKER_TICK_BUDGET_MS: f64 = 20.0;

/// One second of virtual time, the keyboard's scrubbing step.
pub const SEEK_STEP: Time = SEC;

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

// ---- The chart's view ----------------------------------------------------

/// What the user does to the chart's view: none of it changes the run.
#[derive(Clone, Debug, PartialEq)]
pub enum ChartAction {
    /// Show or hide an exchange's messages (ESP is [`Ui::show_esp`]).
    ToggleExchange(Exchange),
    ToggleKind(RowKind),
    /// Only rows involving this host, or group ("group:<id>"); `None`: all.
    Host(Option<String>),
    /// Draw a host group as one lane per member, or fold it again.
    ToggleGroup(String),
    /// Fold routine keepalives and liveness checks, or show them all.
    ToggleCollapse,
    /// Show a folded run whole (by its first chart row), or fold it again.
    ToggleRun(usize),
    Search(String),
    /// Go to the next match (`true`) or the previous one.
    NextMatch(bool),
    /// Show every row again (folding stays as chosen).
    ClearFilters,
}

/// How the chart is viewed: its filter, groups, folding and search.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct ChartUi {
    pub view: ViewOptions,
    /// Which match the search is at: counted from the first, any integer
    /// (taken modulo the number of matches, which grows as the run does).
    pub search_at: i64,
}

impl ChartUi {
    /// The view for another scenario: what to show and whether to fold
    /// stay (preferences); hosts, groups, runs and the search belonged to
    /// the old one.
    fn fresh(&self) -> ChartUi {
        let mut view = ViewOptions {
            collapse_routine: self.view.collapse_routine,
            ..ViewOptions::default()
        };
        view.filter.hide_exchanges = self.view.filter.hide_exchanges.clone();
        view.filter.hide_kinds = self.view.filter.hide_kinds.clone();
        ChartUi { view, search_at: 0 }
    }

    fn apply(&mut self, a: ChartAction) {
        fn toggle<T: Ord>(set: &mut std::collections::BTreeSet<T>, x: T) {
            if !set.remove(&x) {
                set.insert(x);
            }
        }
        let v = &mut self.view;
        match a {
            ChartAction::ToggleExchange(e) => toggle(&mut v.filter.hide_exchanges, e),
            ChartAction::ToggleKind(k) => toggle(&mut v.filter.hide_kinds, k),
            ChartAction::Host(h) => v.filter.host = h,
            ChartAction::ToggleGroup(g) => toggle(&mut v.expanded_groups, g),
            ChartAction::ToggleCollapse => v.collapse_routine = !v.collapse_routine,
            ChartAction::ToggleRun(first) => toggle(&mut v.expanded_runs, first),
            ChartAction::Search(q) => {
                v.search = q;
                self.search_at = 0;
            }
            ChartAction::NextMatch(forward) => {
                self.search_at = self.search_at.wrapping_add(if forward { 1 } else { -1 });
            }
            ChartAction::ClearFilters => v.filter = Default::default(),
        }
    }

    /// The match the search is at, of `count`: (index, "3 of 12").
    pub fn current_match(&self, count: usize) -> Option<usize> {
        (count > 0).then(|| self.search_at.rem_euclid(count as i64) as usize)
    }
}

/// The notice when playback stopped at the scenario's end.
pub fn ended_notice(end: Time) -> String {
    format!(
        "The scenario ends at {}; press Play to go on.",
        msc::short_time(end)
    )
}

impl Reducible for Model {
    type Action = Action;

    fn reduce(self: Rc<Self>, action: Action) -> Rc<Self> {
        if let Action::Tick(real_ms) = action {
            if !self.ui.playing {
                return self;
            }
            // A tick for the worker shows nothing until its reply: the
            // page is not drawn for it (a 200-client cluster: 2.7 ms a
            // tick, a tenth of the page's thread while playing).
            let mut s = self.session.borrow_mut();
            if !s.link().is_local() {
                let done = pace(&mut s, &self.ui, &self.owed_ms, real_ms);
                debug_assert!(done.is_none(), "a worker answers later");
                drop(s);
                return self;
            }
        }
        // A jump asked for while another is on its way waits for it (and
        // replaces any that waited): nothing is drawn for it. A step by
        // the keys goes on from the moment the last jump asked goes to.
        let on_way = {
            let s = self.session.borrow();
            s.seek_on_way().filter(|_| !s.jump_goes_now())
        };
        if let Action::Seek(_) | Action::SeekBy(_) = action
            && !self.ui.playing
            && let Some(on_way) = on_way
        {
            let t = match action {
                Action::SeekBy(d) => self.wanted.get().unwrap_or(on_way).saturating_add_signed(d),
                Action::Seek(t) => t,
                _ => on_way,
            };
            self.wanted.set(Some(t));
            return self;
        }
        // What a panic in this action would report (crash.rs).
        let mut tick = matches!(action, Action::Tick(_) | Action::Drag(..));
        let reply = matches!(action, Action::Engine(_));
        crate::crash::remember_moment(self.session.borrow().now(), crate::crash::short(&action));
        let mut next = (*self).clone();
        let compare_was = next.compare.clone();
        let mut changed = next.apply(action);
        if next.slices_only {
            // Nothing shown changes until the jump's last reply: the page
            // is not drawn (its layout of a growing chart on every slice
            // cost more than the slices themselves).
            return self;
        }
        // A reply to ticks alone is a tick too.
        tick |= reply && next.ticks_only;
        if let Some(c) = &next.compare {
            let a = next.session.borrow();
            if c.0.borrow().a_source != a.source {
                // Another scenario: compare mode ends with the old one.
                drop(a);
                next.compare = None;
            } else if changed || compare_was.as_ref() != Some(c) {
                c.0.borrow_mut().sync(&*a);
                changed = true;
            }
        }
        if changed || compare_was.is_some() != next.compare.is_some() {
            next.version += 1;
            if !tick {
                // Ticks and drags change no part of the link but its moment.
                let s = next.session.borrow();
                crate::crash::remember_link((!s.is_recorded()).then(|| share::encode(&*s)));
            }
        }
        Rc::new(next)
    }
}

impl Model {
    /// The page showing `session` at the moment `at`, run by an engine in
    /// a Web Worker where the browser has one.
    pub fn new(session: Session, at: Time) -> Model {
        Model::of(Live::start(session, at))
    }

    /// The page showing this run.
    pub fn of(live: Live) -> Model {
        Model {
            session: SessionRef::new(live),
            version: 0,
            compare: None,
            ui: Ui::default(),
            editor: None,
            work: Work::default(),
            owed_ms: Rc::default(),
            ticks_only: true,
            slices_only: false,
            paused_at: None,
            wanted: Rc::default(),
        }
    }

    /// Applies `action`; returns whether the session changed.
    fn apply(&mut self, action: Action) -> bool {
        match waiting_jump(&action) {
            Waiting::Stays => {}
            Waiting::Dropped => self.wanted.set(None),
            Waiting::GoesFirst => {
                if let Some(t) = self.wanted.take() {
                    let mut s = self.session.borrow_mut();
                    if let Some(done) = s.exec(Command::Seek { t }, Pending::Seek { t }) {
                        settle(&mut s, &mut self.ui, done);
                    }
                }
            }
        }
        let action = match self.apply_work(action) {
            Ok(changed) => return changed,
            Err(other) => other,
        };
        let session = self.session.clone();
        let mut s = session.borrow_mut();
        let ui = &mut self.ui;
        let mut settled = Vec::new();
        let reply = matches!(action, Action::Engine(_));
        if !reply {
            // Anything the user does meanwhile keeps the moment it comes to.
            self.paused_at = None;
        }
        if matches!(
            action,
            Action::TogglePlay
                | Action::Pause
                | Action::Step
                | Action::Reset
                | Action::Seek(_)
                | Action::SeekBy(_)
        ) {
            // Playing starts or stops: no time is owed to it.
            self.owed_ms.set(0);
        }
        if s.is_recorded() && refused_by_recording(&action) {
            ui.playing = false;
            if !matches!(action, Action::Tick(_)) {
                ui.notice = Some(RECORDED_NOTICE.into());
            }
            return false;
        }
        let changed = match action {
            // In lesson mode, a step that came at the same moment as the
            // one shown is shown first: Play moves to it, time stays.
            Action::TogglePlay if ui.lesson && !ui.playing && s.step_waiting() => {
                settled.extend(s.exec(Command::AdvanceToStep { dt: 0 }, Pending::Quiet));
                false
            }
            Action::TogglePlay => {
                ui.playing = !ui.playing;
                ui.ended = None;
                self.paused_at = pause_moment(&s, ui);
                false
            }
            Action::Pause => {
                ui.playing = false;
                self.paused_at = pause_moment(&s, ui);
                false
            }
            Action::Step => {
                ui.playing = false;
                settled.extend(s.exec(Command::Step, Pending::Quiet));
                false
            }
            Action::Reset => {
                ui.restarted();
                let scenario = s.scenario.clone();
                s.restart(scenario);
                true
            }
            Action::SetSpeed(x) => {
                ui.speed = x.clamp(1, 1000);
                false
            }
            Action::Tick(real_ms) => {
                // Two ticks at a time (the worker simulates the next while
                // the page draws the last): the wall time of the ticks that
                // come meanwhile is owed to the next one.
                settled.extend(pace(&mut s, ui, &self.owed_ms, real_ms));
                false
            }
            Action::ToggleLink(l) => {
                settled.extend(s.exec(Command::ToggleLink { link: l }, Pending::Fork));
                false
            }
            Action::Drag(id, pos) => {
                s.move_node(&id, pos);
                true
            }
            Action::Drop(id, pos) => {
                s.move_node(&id, pos);
                if s.scenario.nats.iter().any(|n| n.id == id) {
                    let link = s.topo().link_at(pos);
                    settled.extend(s.exec(Command::PlaceNat { nat: id, link }, Pending::Fork));
                }
                true
            }
            Action::Select(p) => {
                ui.selected = p;
                false
            }
            Action::ToggleEsp => {
                ui.show_esp = !ui.show_esp;
                false
            }
            Action::LoadExample(i) => {
                match session::EXAMPLES.get(i).map(|(_, t)| Session::from_toml(t)) {
                    Some(Ok(new)) => {
                        s.open(new, 0);
                        ui.fresh();
                        true
                    }
                    _ => false,
                }
            }
            Action::Seek(t) => {
                ui.playing = false;
                ui.ended = None;
                // It goes now, in place of any that waited.
                self.wanted.set(None);
                settled.extend(s.exec(Command::Seek { t }, Pending::Seek { t }));
                false
            }
            Action::SeekBy(d) => {
                ui.playing = false;
                ui.ended = None;
                // From the moment the jump on its way goes to, if one is.
                self.wanted.set(None);
                let t = s.seek_on_way().unwrap_or(s.now()).saturating_add_signed(d);
                settled.extend(s.exec(Command::Seek { t }, Pending::Seek { t }));
                false
            }
            Action::CompareStart(against) => match Compare::new(&*s, against) {
                Ok(c) => {
                    self.compare = Some(CompareRef::new(c));
                    ui.compare_error = None;
                    true
                }
                Err(e) => {
                    ui.compare_error = Some(e);
                    false
                }
            },
            Action::CompareError(e) => {
                ui.compare_error = Some(e);
                false
            }
            Action::CompareStop => {
                self.compare = None;
                ui.compare_error = None;
                true
            }
            Action::Share => {
                let mut hash = share::encode(&*s);
                if let Some(c) = &self.compare {
                    hash.push_str("&cmp=");
                    hash.push_str(&c.0.borrow().against.encode());
                }
                ui.share = Some(hash);
                ui.share_open = true;
                false
            }
            Action::CloseShare => {
                ui.share_open = false;
                false
            }
            Action::OpenHash(hash) => match share::decode(&hash) {
                Ok(Some(mut shared)) => {
                    let against = shared.compare.take();
                    let (new, at) = shared.into_parts();
                    s.open(new, at);
                    ui.fresh();
                    self.compare = None;
                    if let Some(against) = against {
                        match compare_of_link(&s, against) {
                            Ok(c) => self.compare = Some(c),
                            Err(e) => ui.error = Some(e),
                        }
                    }
                    ui.share = Some(hash.trim_start_matches('#').to_string());
                    true
                }
                Ok(None) => false,
                Err(e) => {
                    ui.error = Some(ErrorNote::share_link(
                        "This share link could not be opened",
                        e,
                    ));
                    false
                }
            },
            Action::OpenFile(name, text) => match Session::from_toml(&text) {
                Ok(new) => {
                    s.open(new, 0);
                    ui.fresh();
                    true
                }
                Err(e) => {
                    ui.error = Some(ErrorNote::scenario(&name, &text, &e));
                    false
                }
            },
            Action::ProvokePanic => panic!("a panic provoked for a test"),
            Action::OpenCapture(c) => match open_capture(&c) {
                Ok((new, notice)) => {
                    s.open(new, 0);
                    ui.fresh();
                    ui.notice = Some(notice);
                    true
                }
                Err(e) => {
                    ui.error = Some(e);
                    false
                }
            },
            Action::ShowError(e) => {
                ui.error = Some(e);
                false
            }
            Action::DismissError => {
                ui.error = None;
                false
            }
            Action::DismissNotice => {
                ui.notice = None;
                false
            }
            Action::ToggleLesson => {
                ui.lesson = !ui.lesson;
                false
            }
            Action::ShowStep(k) => {
                settled.extend(s.exec(Command::ShowStep { k }, Pending::Quiet));
                false
            }
            Action::ShowRule(key) => {
                ui.rule = key.filter(|k| mobike_render::rules::explain(k).is_some());
                false
            }
            Action::FocusHost(h) => {
                ui.focus = Some(h);
                false
            }
            Action::SetSeed(seed) => {
                let changed = seed != s.scenario.seed;
                if changed {
                    let mut scenario = s.scenario.clone();
                    scenario.seed = seed;
                    s.restart(scenario);
                    ui.restarted();
                }
                changed
            }
            Action::DismissEnded => {
                ui.ended = None;
                false
            }
            Action::Chart(ChartAction::ToggleExchange(Exchange::Esp)) => {
                ui.show_esp = !ui.show_esp;
                false
            }
            Action::Chart(a) => {
                ui.chart.apply(a);
                false
            }
            Action::Intervene(_)
            | Action::OpenMenu(_)
            | Action::CloseMenu
            | Action::MenuError(..) => apply_lab(&mut s, ui, action, &mut settled),
            Action::Engine(replies) => {
                let mut failed = false;
                for bytes in &replies.0 {
                    match s.receive(bytes) {
                        Ok(done) => settled.extend(done),
                        Err(message) => {
                            ui.playing = false;
                            ui.error = Some(ErrorNote {
                                title: "The simulation's reply could not be read".into(),
                                message,
                                excerpt: None,
                            });
                            failed = true;
                        }
                    }
                }
                failed
            }
            Action::EngineFailed(why) => {
                // The run starts again in this thread, at the moment shown.
                ui.playing = false;
                ui.error = Some(ErrorNote {
                    title: "The simulation's worker stopped; the run goes on in the page".into(),
                    message: why,
                    excerpt: None,
                });
                s.lose_worker();
                let again = Session::replay(s.scenario.clone(), s.source.clone(), s.log().to_vec());
                let (at, layout) = (s.now(), s.layout.clone());
                s.open(again, at);
                s.layout = layout;
                true
            }
            // Handled by `apply_work` before this match.
            Action::EditorOpen(_)
            | Action::Edit(_)
            | Action::EditorApply
            | Action::EditorClose
            | Action::Save
            | Action::Export(..)
            | Action::OfferRestore(_)
            | Action::Restore
            | Action::DiscardRestore => false,
        };
        // A command's reply changed the run (at once, when the engine
        // is in this thread; else this is the worker's reply).
        let replied = settled.iter().any(|d| d.changed);
        self.slices_only = reply && settled.is_empty() && !changed;
        self.ticks_only = settled
            .iter()
            .all(|d| matches!(d.pending, Pending::Tick { .. }));
        for done in settled {
            settle(&mut s, ui, done);
        }
        // Paused while ticks were on their way: once they are in, back to
        // the moment shown at the click (a jump back: the page has it). The
        // run past it, which the user never saw, is forgotten: acting
        // there changes no past (no fork notice).
        if let Some(t) = self.paused_at
            && !ui.playing
            && s.in_flight() == 0
        {
            self.paused_at = None;
            if s.now() > t
                && let Some(done) = s.exec(Command::Rewind { t }, Pending::Quiet)
            {
                settle(&mut s, ui, done);
            }
        }
        // The jump the user asked for while the last one was on its way
        // goes now that it is in (or coming in slices, which it ends).
        if reply
            && s.jump_goes_now()
            && let Some(t) = self.wanted.take()
            && let Some(done) = s.exec(Command::Seek { t }, Pending::Seek { t })
        {
            settle(&mut s, ui, done);
        }
        // Paused with nothing on its way: the worker runs the first tick
        // of playing ahead while the user reads the page. Lesson mode's
        // ticks stop at narration steps: not there.
        if !ui.playing && !ui.lesson && s.in_flight() == 0 {
            let to = tick_target(s.now(), s.until(), crate::effects::TICK_MS, ui.speed);
            s.offer_run_ahead(to);
        }
        // Behind while playing (ticks came while the worker simulated, or
        // its budget ran out): the next tick goes now, so the worker never
        // waits for one.
        if reply && ui.playing && s.ticking() < ticks_in_flight(ui) && self.owed_ms.get() > 0 {
            let owed = self.owed_ms.take();
            if let Some(done) = tick(&mut s, ui, owed) {
                settle(&mut s, ui, done);
            }
        }
        changed || replied
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
            Ok(Some(mut shared)) => {
                let against = shared.compare.take();
                let (session, at) = shared.into_parts();
                let mut m = Model::new(session, at);
                m.ui.share = Some(hash.trim_start_matches('#').to_string());
                if let Some(against) = against {
                    let c = compare_of_link(&m.session.borrow(), against);
                    match c {
                        Ok(c) => m.compare = Some(c),
                        Err(e) => m.ui.error = Some(e),
                    }
                }
                m
            }
            Ok(None) => Model::new(default(), 0),
            Err(e) => {
                let mut m = Model::new(default(), 0);
                m.ui.error = Some(ErrorNote::share_link(
                    "This share link could not be opened; showing the default scenario",
                    e,
                ));
                m
            }
        }
    }
}

/// A share link's comparison (`cmp=`) for the session it opened, or the
/// error the page shows.
fn compare_of_link(s: &Live, against: Against) -> Result<CompareRef, ErrorNote> {
    Compare::new(s, against).map(CompareRef::new).map_err(|e| {
        ErrorNote::share_link(
            "This share link's comparison could not be opened",
            format!("share link: compare (cmp): {e}"),
        )
    })
}

/// The moment to come back to after a pause: the one shown, when ticks
/// of playing are still on their way (at 64× two of them move the clock
/// on by up to 5 s).
fn pause_moment(s: &Live, ui: &Ui) -> Option<Time> {
    (!ui.playing && s.ticking() > 0).then(|| s.now())
}

/// A tick of the page's clock while playing: sends the tick of playing
/// when fewer than [`ticks_in_flight`] are on their way, with the time
/// owed by the ticks that came meanwhile; else that time is owed.
fn pace(s: &mut Live, ui: &Ui, owed_ms: &std::cell::Cell<u32>, real_ms: u32) -> Option<Settled> {
    if s.ticking() >= ticks_in_flight(ui) {
        owed_ms.set(owed_ms.get().saturating_add(real_ms));
        return None;
    }
    tick(s, ui, real_ms.saturating_add(owed_ms.take()))
}

/// How many ticks of playing may wait for the worker at once: two (it runs
/// the next while the page takes in the last), but one in lesson mode,
/// which stops at each narration step.
fn ticks_in_flight(ui: &Ui) -> usize {
    if ui.lesson { 1 } else { MAX_TICKS_IN_FLIGHT }
}

/// A tick of playing: `real_ms` of wall time at the chosen speed after the
/// moment the ticks on their way run to, up to the scenario's end (from the
/// end, when the user pressed Play again, it goes on), stopping at a new
/// narration step in lesson mode. A tick whose budget ran out leaves the
/// rest to the next, which runs to a later moment: playing loses no time
/// while the simulation keeps up, and falls at most [`MAX_TICK`] behind.
fn tick(s: &mut Live, ui: &Ui, real_ms: u32) -> Option<Settled> {
    let (now, until) = (s.now(), s.until());
    let ahead = s.ahead();
    if now < until && ahead >= until {
        // The end is on its way.
        return None;
    }
    let before = ahead.min(now.saturating_add(MAX_TICK));
    let target = tick_target(before, until, real_ms, ui.speed);
    let cmd = if ui.lesson {
        Command::AdvanceToStep {
            dt: target.saturating_sub(now),
        }
    } else {
        let budget_ms = if s.link().is_local() {
            TICK_BUDGET_MS
        } else {
            WORKER_TICK_BUDGET_MS
        };
        Command::RunTo {
            to: target,
            budget_ms,
        }
    };
    s.exec(
        cmd,
        Pending::Tick {
            before,
            target,
            until,
        },
    )
}

/// Where a tick of `real_ms` wall-clock milliseconds at `speed` goes from
/// `before`: at most [`MAX_TICK`] on, and not past the scenario's end
/// `until` unless it starts there (from the end, playing goes on).
fn tick_target(before: Time, until: Time, real_ms: u32, speed: u32) -> Time {
    let dt = (Time::from(real_ms) * MS * Time::from(speed)).min(MAX_TICK);
    let target = before.saturating_add(dt);
    if before < until {
        target.min(until)
    } else {
        target
    }
}

/// What a command's outcome changes on the page once its reply is in.
fn settle(s: &mut Live, ui: &mut Ui, done: Settled) {
    match (done.pending, done.outcome) {
        (Pending::Tick { before, until, .. }, outcome) => {
            if outcome == Outcome::Stopped(true) {
                ui.playing = false;
            }
            if before < until && s.now() >= until {
                ui.playing = false;
                ui.ended = Some(until);
            }
            // A tick whose budget ran out short of its target leaves the
            // rest to the next tick: sending it at once (as many as may
            // wait) played a 200-client cluster's start 15 % faster, but
            // the page, the bottleneck there, then drew a frame in 33 ms
            // at p95 instead of 16.8 ms.
        }
        (Pending::Fork, Outcome::Fork(Some(f))) => ui.notice = Some(fork_notice(&f)),
        (Pending::Intervene { nat_on, .. }, Outcome::Fork(fork)) => {
            ui.menu = None;
            ui.menu_error = None;
            if let Some((nat, link)) = nat_on {
                s.draw_nat_on(&nat, &link);
            }
            if let Some(f) = fork {
                ui.notice = Some(fork_notice(&f));
            }
        }
        (Pending::Intervene { form, .. }, Outcome::Refused(why)) => {
            ui.menu_error = Some((form, why));
        }
        // The worker could not read a command (a run it could not start):
        // said, and the page goes on.
        (_, Outcome::Refused(why)) => {
            ui.playing = false;
            ui.error = Some(ErrorNote {
                title: "The simulation refused a command".into(),
                message: why,
                excerpt: None,
            });
        }
        _ => {}
    }
}

/// The lab's actions: the element menus. Returns whether the run changed;
/// an intervention's outcome is settled when its reply is in.
fn apply_lab(s: &mut Live, ui: &mut Ui, action: Action, settled: &mut Vec<Settled>) -> bool {
    match action {
        Action::Intervene(a) => {
            let form = form_of(&a).to_string();
            let nat_on = match &a {
                Intervention::PlaceNat {
                    nat,
                    link: Some(link),
                } => Some((nat.clone(), link.clone())),
                _ => None,
            };
            settled.extend(s.exec(
                Command::Intervene { action: a },
                Pending::Intervene { form, nat_on },
            ));
            false
        }
        Action::OpenMenu(m) => {
            // A group member's menu shows its full state panel too.
            if let Target::Host(h) = &m.target
                && s.is_group_member(h)
            {
                ui.focus = Some(h.clone());
            }
            ui.menu = Some(m);
            ui.menu_error = None;
            false
        }
        Action::CloseMenu => {
            ui.menu = None;
            ui.menu_error = None;
            false
        }
        Action::MenuError(form, message) => {
            ui.menu_error = Some((form, message));
            false
        }
        _ => false,
    }
}

// --- Editing, saving and autosave ---------------------------------------

/// A file the page is to download ("Save scenario", the Export menu); `n`
/// tells two downloads of the same file apart, so each one happens.
#[derive(Clone, Debug, PartialEq)]
pub struct Download {
    pub name: String,
    pub body: Body,
    pub n: u64,
}

impl Download {
    /// Its text, when it is text the page made (tests).
    pub fn text(&self) -> Option<&str> {
        match &self.body {
            Body::Bytes { data, .. } => std::str::from_utf8(data).ok(),
            _ => None,
        }
    }
}

/// What the page keeps about saving and restoring work.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Work {
    /// The newest download asked for.
    pub download: Option<Download>,
    /// Work autosaved on an earlier visit, offered until answered.
    pub offer: Option<Saved>,
}

impl Work {
    /// Asks for a download (a new one, even of the same file).
    fn download(&mut self, name: String, body: Body) {
        let n = self.download.as_ref().map_or(0, |d| d.n + 1);
        self.download = Some(Download { name, body, n });
    }
}

/// The file name "Save scenario" gives a scenario: its title, without
/// what file systems refuse.
pub fn file_name(title: &str) -> String {
    let name: String = title
        .chars()
        .map(|c| match c {
            '/' | '\\' | ':' | '*' | '?' | '"' | '<' | '>' | '|' => '-',
            c if c.is_control() => ' ',
            c => c,
        })
        .collect();
    let name = name.trim().trim_matches('.');
    let name = if name.is_empty() { "scenario" } else { name };
    format!("{}.toml", name.chars().take(120).collect::<String>())
}

/// What the notice says after Apply.
fn applied_notice(kept: usize, dropped: usize) -> String {
    let mut out = String::from("The run starts over from your edited scenario.");
    match kept {
        0 => {}
        1 => out.push_str(
            " Your intervention is kept as its timeline event marked \u{201c}by you\u{201d}.",
        ),
        n => out.push_str(&format!(
            " Your {n} interventions are kept as its timeline events marked \u{201c}by you\u{201d}."
        )),
    }
    match dropped {
        0 => {}
        1 => out.push_str(" 1 made while editing names something you removed and is left out."),
        n => out.push_str(&format!(
            " {n} made while editing name something you removed and are left out."
        )),
    }
    out
}

impl Model {
    /// The editing, saving and restoring actions; any other comes back as
    /// `Err` for [`Model::apply`]. `Ok`: whether the session changed.
    fn apply_work(&mut self, action: Action) -> Result<bool, Action> {
        let session = self.session.clone();
        match action {
            Action::EditorOpen(start) => {
                if self.editor.is_none() {
                    let e = Editor::open(start, &*session.borrow());
                    self.editor = Some(EditorRef(Rc::new(e)));
                }
                Ok(false)
            }
            Action::Edit(edit) => {
                if let Some(e) = &self.editor {
                    let mut e = (*e.0).clone();
                    e.edit(edit);
                    self.editor = Some(EditorRef(Rc::new(e)));
                }
                Ok(false)
            }
            Action::EditorApply => {
                let Some(e) = self.editor.clone() else {
                    return Ok(false);
                };
                let applied = e.applied(&*session.borrow());
                match applied {
                    Ok(a) => {
                        session
                            .borrow_mut()
                            .open(Session::new(a.scenario, Source::File(a.text)), 0);
                        self.ui.fresh();
                        self.ui.edited = true;
                        self.ui.notice = Some(applied_notice(a.kept, a.dropped));
                        self.editor = None;
                        Ok(true)
                    }
                    Err(m) => {
                        let mut e = (*e.0).clone();
                        e.note = Some(m);
                        self.editor = Some(EditorRef(Rc::new(e)));
                        Ok(false)
                    }
                }
            }
            Action::EditorClose => {
                self.editor = None;
                Ok(false)
            }
            Action::Save => {
                let s = session.borrow();
                match s.save_toml() {
                    Ok(text) => self.work.download(
                        file_name(&s.scenario.title),
                        Body::Bytes {
                            data: Rc::from(text.into_bytes()),
                            mime: "application/toml",
                        },
                    ),
                    Err(message) => {
                        self.ui.error = Some(ErrorNote {
                            title: "The scenario could not be saved".into(),
                            message,
                            excerpt: None,
                        });
                    }
                }
                Ok(false)
            }
            Action::Export(kind, capture_at) => {
                let s = session.borrow();
                let view = ExportView::of_page(&self.ui.chart.view, self.ui.show_esp, &s.groups);
                match exports::make(&*s, &view, kind, &capture_at) {
                    Ok(body) => self.work.download(exports::name(&*s, kind), body),
                    Err(message) => {
                        self.ui.error = Some(ErrorNote {
                            title: format!("Could not export {}", kind.label()),
                            message,
                            excerpt: None,
                        });
                    }
                }
                Ok(false)
            }
            Action::OfferRestore(saved) => {
                self.work.offer = Some(saved);
                Ok(false)
            }
            Action::Restore => {
                let Some(saved) = self.work.offer.take() else {
                    return Ok(false);
                };
                match Session::from_toml(&saved.text) {
                    Ok(new) => {
                        session
                            .borrow_mut()
                            .open(new, saved.time.min(share::MAX_TIME));
                        self.ui.fresh();
                        self.ui.edited = saved.edited;
                        self.editor = saved
                            .draft
                            .as_deref()
                            .and_then(|d| Editor::restore(d).ok())
                            .map(|e| EditorRef(Rc::new(e)));
                        Ok(true)
                    }
                    Err(e) => {
                        self.ui.error =
                            Some(ErrorNote::scenario("your saved work", &saved.text, &e));
                        Ok(false)
                    }
                }
            }
            Action::DiscardRestore => {
                self.work.offer = None;
                Ok(false)
            }
            other => Err(other),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::session::EXAMPLES;
    use mobike_sim::TraceEvent;

    fn start() -> Rc<Model> {
        Rc::new(Model::from_hash(""))
    }

    fn run(m: Rc<Model>, actions: impl IntoIterator<Item = Action>) -> Rc<Model> {
        actions.into_iter().fold(m, |m, a| m.reduce(a))
    }

    const CAPTURE: &[u8] =
        include_bytes!("../crates/wire/tests/data/strongswan-mobike-basic/trace-server.pcap");
    const KEYS: &str = include_str!("../crates/wire/tests/data/strongswan-mobike-basic/keys");

    fn capture(keys: &[(&str, &str)]) -> Action {
        Action::OpenCapture(CaptureFiles {
            name: "trace-server.pcap".into(),
            bytes: Rc::from(CAPTURE),
            keys: keys
                .iter()
                .map(|(n, t)| (n.to_string(), t.to_string()))
                .collect(),
        })
    }

    /// The page on `example`, its run in a stand-in for the worker whose
    /// clock moves `step_ms` each time it is read, once the run is loaded.
    fn on_worker(example: &str, step_ms: f64) -> Rc<Model> {
        let session = example_session(example);
        deliver(Rc::new(Model::of(Live::with_fake_worker(
            session, 0, step_ms,
        ))))
    }

    /// The built-in example `name`, as a session not yet run.
    fn example_session(name: &str) -> Session {
        let text = EXAMPLES
            .iter()
            .find(|(n, _)| *n == name)
            .expect("an example")
            .1;
        Session::from_toml(text).expect("the example reads")
    }

    /// Hands the worker's replies so far to the page, together, as the
    /// page takes in the replies that came within one frame.
    fn deliver(m: Rc<Model>) -> Rc<Model> {
        let replies: Vec<Rc<[u8]>> = m
            .session
            .borrow_mut()
            .outbox()
            .into_iter()
            .map(Rc::from)
            .collect();
        if replies.is_empty() {
            return m;
        }
        m.reduce(Action::Engine(EngineReply(replies)))
    }

    /// While playing on a worker: a tick of the page's clock sends a tick
    /// of playing and draws nothing (the model stays the same); its reply
    /// is drawn. A reply whose budget ran out short of its target leaves
    /// the rest to the next tick, which goes on from there.
    #[test]
    fn a_tick_for_the_worker_draws_only_its_reply() {
        // 4 ms a clock reading: the 12 ms budget runs out within a few
        // events of the cluster setting up its SAs.
        let m = on_worker("cluster-20-mobike", 4.0);
        let m = run(m, [Action::SetSpeed(64), Action::TogglePlay]);
        assert!(m.ui.playing);
        let ticked = m.clone().reduce(Action::Tick(40));
        assert!(
            Rc::ptr_eq(&m, &ticked),
            "a tick for the worker redrew the page"
        );
        let target = 40 * 64 * MS;
        {
            let s = ticked.session.borrow();
            assert_eq!((s.ticking(), s.ahead(), s.now()), (1, target, 0));
        }
        let version = ticked.version;
        let m = deliver(ticked);
        assert!(m.version > version, "the reply is drawn");
        let short = m.session.borrow().now();
        assert!(short > 0 && short < target, "now {short}");
        assert_eq!(m.session.borrow().ticking(), 0);
        // The next tick runs from where the last stopped.
        let m = m.reduce(Action::Tick(40));
        let s = m.session.borrow();
        assert_eq!((s.ticking(), s.ahead()), (1, short + target));
    }

    /// The page on `example` with a stand-in worker that runs ahead while
    /// the page is paused, at `speed`, every reply delivered and the
    /// worker's idle time run out.
    fn paused_running_ahead(example: &str, step_ms: f64, speed: u32) -> Rc<Model> {
        let mut live = Live::with_fake_worker(example_session(example), 0, step_ms);
        live.fake_worker().runs_ahead = true;
        let mut m = deliver(Rc::new(Model::of(live)));
        m = deliver(m.reduce(Action::SetSpeed(speed)));
        while m.session.borrow().in_flight() > 0 {
            m = deliver(m);
        }
        m.session.borrow_mut().fake_worker().idle();
        m
    }

    /// Whether the page's mirror holds exactly the trace of `straight`, a
    /// session run here without any running ahead; and how many events.
    fn same_trace(m: &Model, straight: &Session) -> (bool, usize) {
        let shown: Vec<TraceEvent> = m.session.borrow().world.trace().iter().collect();
        let same = shown == straight.world.trace().iter().collect::<Vec<_>>();
        (same, shown.len())
    }

    /// `example` run straight to `to`.
    fn straight_run(example: &str, to: Time) -> Session {
        let mut s = example_session(example);
        s.advance(to);
        s
    }

    /// Paused on a worker: the page asks it to run its first tick of
    /// playing ahead, once for the moment shown and the speed. The tick
    /// then takes that run: at a budget far too small to compute it (20
    /// clients' key exchanges), its reply reaches where it goes, and the
    /// page holds exactly the trace of a straight run.
    #[test]
    fn the_first_tick_takes_the_run_made_ahead_while_paused() {
        let m = paused_running_ahead("cluster-20-mobike", 2.0, 64);
        let first = 40 * 64 * MS;
        let engine = m
            .session
            .borrow_mut()
            .fake_worker()
            .engine()
            .session()
            .map(Session::now);
        assert_eq!(engine, Some(0), "nothing is run before Play");
        let m = deliver(run(m, [Action::TogglePlay, Action::Tick(40)]));
        assert_eq!(m.session.borrow().now(), first);
        let (same, events) = same_trace(&m, &straight_run("cluster-20-mobike", first));
        assert!(events > 500, "{events} events");
        assert!(same, "the run made ahead is the straight run");
        // Without it the same budget stops far short.
        let m = on_worker("cluster-20-mobike", 2.0);
        let m = deliver(run(
            m,
            [Action::SetSpeed(64), Action::TogglePlay, Action::Tick(40)],
        ));
        let short = m.session.borrow().now();
        assert!(short < first / 2, "now {short}");
    }

    /// Paused on a worker, the page is also sent the events of the run
    /// made ahead (a preview): it keeps them aside with their chart and
    /// figures, built while the user reads the page, and nothing of them
    /// shows. The first tick's reply resumes that trace instead of
    /// carrying its events, the chart made aside is shown, and the chart
    /// and the figures are those of the run.
    #[test]
    fn the_first_tick_shows_the_chart_made_aside_while_paused() {
        let m = paused_running_ahead("cluster-20-mobike", 2.0, 64);
        let before = m.session.borrow().world.trace().len();
        let m = deliver(m);
        let (kept, charts) = m.session.borrow().kept_ahead();
        assert_eq!(
            m.session.borrow().world.trace().len(),
            before,
            "nothing shows"
        );
        assert!(kept > before + 500 && charts == [kept], "{kept} {charts:?}");
        let taken = m.session.borrow().taken_back();
        let m = run(m, [Action::TogglePlay, Action::Tick(40)]);
        let replies = m.session.borrow_mut().outbox();
        let tick: crate::engine::Reply = crate::engine::codec::from_bytes(
            replies.last().unwrap(),
            &mut crate::engine::codec::Names::default(),
        )
        .unwrap();
        assert_eq!(
            tick.resume,
            Some(kept),
            "the tick resumes the trace kept aside"
        );
        assert!(
            tick.events.is_empty(),
            "{} events sent again",
            tick.events.len()
        );
        let replies = replies.into_iter().map(Rc::from).collect();
        let m = m.reduce(Action::Engine(EngineReply(replies)));
        let s = m.session.borrow();
        assert_eq!(s.taken_back(), taken + 1, "the chart made aside is shown");
        let first = 40 * 64 * MS;
        assert!(same_trace(&m, &straight_run("cluster-20-mobike", first)).0);
        let trace = s.world.trace();
        assert!(s.chart() == &mobike_render::Chart::build(&s.scenario, trace));
        assert_eq!(s.metrics(), Some(mobike_render::metrics::compute(trace)));
    }

    /// What was run ahead never shows before its time, nor stands for
    /// another run: at a lower speed the first tick stops where it goes
    /// (the copy, past it, is made again), and after an intervention the
    /// run is the one with it.
    #[test]
    fn a_run_made_ahead_is_left_when_it_is_not_the_ticks() {
        let m = paused_running_ahead("cluster-20-mobike", 0.0, 64);
        let m = deliver(m.reduce(Action::SetSpeed(1)));
        m.session.borrow_mut().fake_worker().idle();
        let m = deliver(run(m, [Action::TogglePlay, Action::Tick(40)]));
        assert_eq!(m.session.borrow().now(), 40 * MS);
        assert!(same_trace(&m, &straight_run("cluster-20-mobike", 40 * MS)).0);

        let m = paused_running_ahead("wifi-to-lte", 0.0, 64);
        let m = deliver(m.reduce(Action::ToggleLink("wifi".into())));
        assert_eq!(m.session.borrow().log().len(), 1);
        let m = deliver(run(m, [Action::TogglePlay, Action::Tick(40)]));
        let first = 40 * 64 * MS;
        assert_eq!(m.session.borrow().now(), first);
        let mut straight = example_session("wifi-to-lte");
        straight.toggle_link("wifi");
        straight.advance(first);
        assert!(same_trace(&m, &straight).0);
    }

    /// The worker runs ahead at once after a scenario is loaded, but
    /// waits 50 ms after a jump (the user may be dragging the time slider,
    /// and the next jump should find it free), then runs.
    #[test]
    fn running_ahead_waits_after_a_jump_not_after_a_load() {
        let (clock, step) = (std::cell::Cell::new(0.0), std::cell::Cell::new(0.0));
        let read = || {
            clock.set(clock.get() + step.get());
            Some(clock.get())
        };
        let mut e = crate::engine::Engine::default();
        let scenario = example_session("cluster-20-mobike")
            .scenario
            .to_toml()
            .unwrap();
        e.handle(
            Command::Load {
                scenario,
                source: Source::of_text(""),
                log: Vec::new(),
            },
            &read,
        );
        e.handle(Command::RunAhead { to: 2560 * MS }, &read);
        assert_eq!(e.run_ahead(&read), None, "run to the tick's end at once");
        let to = SEC + 2560 * MS;
        e.handle(Command::Seek { t: SEC }, &read);
        e.handle(Command::RunAhead { to }, &read);
        clock.set(20.0);
        assert_eq!(e.run_ahead(&read), Some(30.0), "30 ms more to wait");
        clock.set(50.0);
        assert_eq!(e.run_ahead(&read), None, "then run");
        assert_eq!(e.session().map(Session::now), Some(SEC), "nothing shows");
        // The tick takes it: its budget alone (2 ms, the clock moving 1 ms
        // each time it is read, every 16 events) would stop far short.
        step.set(1.0);
        e.handle(Command::RunTo { to, budget_ms: 2.0 }, &read);
        assert_eq!(e.session().map(Session::now), Some(to));
    }

    /// A preview asked for before the run made ahead is done waits for
    /// it; a command that comes first is answered after the preview, which
    /// then holds what the run made ahead got to (the page reads the
    /// replies in the order it asked). The tick that takes the run resumes
    /// the last preview's trace, and only that tick.
    #[test]
    fn a_preview_waits_for_the_run_made_ahead_or_goes_before_the_next_reply() {
        use crate::engine::{Outcome, Reply, codec};
        let clock = std::cell::Cell::new(0.0);
        let read = || {
            clock.set(clock.get() + 1.0);
            Some(clock.get())
        };
        let reply =
            |b: Vec<u8>| -> Reply { codec::from_bytes(&b, &mut codec::Names::default()).unwrap() };
        let mut e = crate::engine::Engine::default().in_slices();
        let send =
            |e: &mut crate::engine::Engine, c: Command| e.take_message(&codec::to_bytes(&c), &read);
        let load = || Command::Load {
            scenario: example_session("cluster-20-mobike")
                .scenario
                .to_toml()
                .unwrap(),
            source: Source::of_text(""),
            log: Vec::new(),
        };
        let loaded = reply(send(&mut e, load()).unwrap()).events.len();
        let to = 2560 * MS;
        assert!(send(&mut e, Command::RunAhead { to }).is_some());
        assert!(send(&mut e, Command::Preview).is_none(), "it waits");
        assert_eq!(e.run_ahead(&read), Some(0.0), "one slice, not done");
        assert!(!e.more());
        let first = reply(send(&mut e, Command::Sync).expect("the preview first"));
        assert_eq!(first.outcome, Outcome::Ahead);
        assert!(!first.events.is_empty(), "what was run so far");
        assert!(e.more());
        let sync = reply(e.next_message(&read));
        assert_eq!((sync.outcome, sync.events.len()), (Outcome::Done, 0));
        // Asked again, it comes once the run made ahead is done.
        assert!(send(&mut e, Command::Preview).is_none());
        while e.run_ahead(&read).is_some() {}
        let preview = reply(e.next_message(&read));
        assert!(preview.events.len() > first.events.len());
        let tick = reply(send(&mut e, Command::RunTo { to, budget_ms: 0.0 }).unwrap());
        let n = loaded + preview.events.len();
        assert_eq!((tick.resume, tick.events.len()), (Some(n), 0));
        assert_eq!(tick.now, to);
        // The next tick sends its events as ever.
        let next = reply(
            send(
                &mut e,
                Command::RunTo {
                    to: 2 * to,
                    budget_ms: 0.0,
                },
            )
            .unwrap(),
        );
        assert!(next.resume.is_none() && !next.events.is_empty());
        // A run made ahead larger than a preview carries is not previewed:
        // its tick brings its events.
        let mut e = crate::engine::Engine::default()
            .in_slices()
            .with_preview_max(preview.events.len() - 1);
        assert!(send(&mut e, load()).is_some());
        assert!(send(&mut e, Command::RunAhead { to }).is_some());
        assert!(send(&mut e, Command::Preview).is_none());
        while e.run_ahead(&read).is_some() {}
        let none = reply(e.next_message(&read));
        assert_eq!((none.outcome, none.events.len()), (Outcome::Ahead, 0));
        let tick = reply(send(&mut e, Command::RunTo { to, budget_ms: 0.0 }).unwrap());
        assert_eq!(
            (tick.resume, tick.events.len()),
            (None, preview.events.len())
        );
    }

    /// Paused while ticks are on their way: they come in, and the page
    /// goes back to the moment it showed at the click (the clock does not
    /// run on by the ticks' 5 s at 64×). Anything done meanwhile keeps
    /// the moment it comes to.
    #[test]
    fn a_pause_keeps_the_moment_shown_at_the_click() {
        let m = on_worker("cluster-20-mobike", 0.0);
        let m = deliver(run(
            m,
            [Action::SetSpeed(64), Action::TogglePlay, Action::Tick(40)],
        ));
        let shown = m.session.borrow().now();
        assert_eq!(shown, 40 * 64 * MS);
        let m = run(m, [Action::Tick(40), Action::Tick(40), Action::TogglePlay]);
        assert!(!m.ui.playing);
        assert_eq!(m.session.borrow().ticking(), 2);
        // The ticks land, and the page asks to go back.
        let m = deliver(m);
        assert_eq!(m.session.borrow().in_flight(), 1, "a jump back is asked");
        let m = deliver(m);
        let s = m.session.borrow();
        assert_eq!((s.now(), s.in_flight()), (shown, 0));
        assert_eq!(s.horizon(), shown, "the ticks' part, never shown, is gone");
        drop(s);
        // Acting at the moment shown changes no past the user saw.
        let acted = deliver(m.clone().reduce(Action::ToggleLink("node1".into())));
        assert_eq!(acted.ui.notice, None);
        assert_eq!(acted.session.borrow().log().len(), 1);
        // A step meanwhile: where the step goes, with no jump back.
        let m = run(
            m,
            [
                Action::TogglePlay,
                Action::Tick(40),
                Action::TogglePlay,
                Action::Step,
            ],
        );
        let m = deliver(m);
        assert_eq!(m.session.borrow().in_flight(), 0);
        assert!(m.session.borrow().now() > shown);
    }

    /// What the page shows of its run: the moment, the trace's length, the
    /// chart's rows, the checkpoints and the hosts' views.
    type Seen = (Time, usize, mobike_render::chart::Rows, Vec<Time>, String);

    fn seen(m: &Rc<Model>) -> Seen {
        let s = m.session.borrow();
        let hosts = format!(
            "{:?}",
            mobike_render::json::host_states(crate::session::Shown::world_read(&*s))
        );
        (
            s.now(),
            crate::session::Shown::trace(&*s).len(),
            s.chart().rows.clone(),
            s.checkpoint_times(),
            hosts,
        )
    }

    /// A jump forward into a stretch never run comes from the worker in
    /// slices: the page takes each one's events in as it comes (building
    /// the chart on) without moving the moment shown or drawing, stays
    /// busy until the last reply, and then shows what the same jump in
    /// the page's own thread shows: moment, trace, chart, checkpoints and
    /// the hosts' views.
    #[test]
    fn a_long_jump_forward_comes_in_slices_and_ends_as_one_jump() {
        use crate::engine::{Reply, codec};
        let t = 90 * SEC;
        let m = run(on_worker("cluster-20-mobike", 1.0), [Action::Seek(t)]);
        let replies = m.session.borrow_mut().outbox();
        let partial: Vec<bool> = replies
            .iter()
            .map(|r| {
                codec::from_bytes::<Reply>(r, &mut codec::Names::default())
                    .expect("a reply")
                    .partial
            })
            .collect();
        assert!(replies.len() > 3, "{} replies", replies.len());
        assert!(partial[..replies.len() - 1].iter().all(|&p| p));
        assert_eq!(partial.last(), Some(&false));
        let mut m = m;
        let mut rows = 0;
        let mut reached = 0;
        for r in &replies[..replies.len() - 1] {
            m = m.reduce(Action::Engine(EngineReply::one(Rc::from(r.clone()))));
            let s = m.session.borrow();
            assert_eq!(s.now(), 0, "the moment shown stays until the jump is in");
            assert!(s.busy());
            assert!(s.chart().rows.len() >= rows);
            rows = s.chart().rows.len();
            // The progress the page shows: the moment each slice reached.
            let (at, to) = s.jump_progress().expect("a jump under way");
            assert_eq!(to, t);
            assert!(at >= reached && at < t, "{at} after {reached}");
            reached = at;
        }
        assert!(reached > t / 2, "the slices went on to {reached}");
        assert!(
            rows > 100,
            "the chart was built on as the slices came: {rows} rows"
        );
        let last = replies.last().expect("the last reply").clone();
        m = m.reduce(Action::Engine(EngineReply::one(Rc::from(last))));
        assert!(!m.session.borrow().busy());
        assert_eq!(m.session.borrow().jump_progress(), None);
        let here = run(here("cluster-20-mobike"), [Action::Seek(t)]);
        assert_eq!(seen(&m), seen(&here));
        assert_eq!(m.session.borrow().now(), t);
        // And a jump back from there, through the checkpoints' charts.
        let m = deliver(run(m, [Action::Seek(t / 3)]));
        let here = run(here, [Action::Seek(t / 3)]);
        assert_eq!(seen(&m), seen(&here));
    }

    /// The page on `example` in this thread (its engine answers at once).
    fn here(example: &str) -> Rc<Model> {
        Rc::new(Model::of(Live::here(example_session(example), 0)))
    }

    /// Dragging the slider while a jump is on its way: the moments it
    /// passes wait (each replacing the last, nothing drawn), and the last
    /// goes once the jump on its way is in; a step by the keys meanwhile
    /// goes on from the moment asked last. The page ends where a single
    /// jump there ends.
    #[test]
    fn jumps_asked_while_one_is_on_its_way_go_as_the_last() {
        let m = run(
            on_worker("cluster-20-mobike", 1.0),
            [Action::Seek(20 * SEC)],
        );
        assert_eq!(m.session.borrow().in_flight(), 1);
        let before = m.clone();
        let m = run(
            m,
            [
                Action::Seek(5 * SEC),
                Action::Seek(12 * SEC),
                Action::SeekBy(SEC as i64),
            ],
        );
        assert!(
            Rc::ptr_eq(&m, &before),
            "nothing is drawn for a jump that waits"
        );
        assert_eq!(
            m.session.borrow().in_flight(),
            1,
            "only the first is on its way"
        );
        let m = deliver(m);
        {
            let s = m.session.borrow();
            assert_eq!(s.now(), 20 * SEC, "the first jump is shown");
            assert_eq!(s.seek_on_way(), Some(13 * SEC), "and the last asked goes");
            assert!(s.busy());
        }
        let m = deliver(m);
        assert_eq!(m.session.borrow().in_flight(), 0);
        let direct = run(
            here("cluster-20-mobike"),
            [Action::Seek(20 * SEC), Action::Seek(13 * SEC)],
        );
        assert!(seen(&m) == seen(&direct), "as the two jumps end");
        // With nothing on its way a jump goes at once, from the moment shown.
        let m = run(m, [Action::SeekBy(-(SEC as i64))]);
        assert_eq!(m.session.borrow().seek_on_way(), Some(12 * SEC));
    }

    /// A jump asked for while a long jump forward comes in slices ends
    /// that one where it has come: the worker reads it between two slices,
    /// answers the first jump with the moment its slices reached, and goes
    /// on to the new one. Anything else the user does meanwhile waits for
    /// the jump. The page ends as the same jumps end in its own thread.
    #[test]
    fn a_jump_during_a_long_one_ends_it_where_it_has_come() {
        let m = on_worker("cluster-20-mobike", 1.0);
        m.session.borrow_mut().fake_worker().held = true;
        let t = 90 * SEC;
        let m = deliver(run(m, [Action::Seek(t)]));
        let m = (0..3).fold(m, |m, _| {
            assert!(m.session.borrow_mut().fake_worker().next());
            deliver(m)
        });
        let (reached, to) = m.session.borrow().jump_progress().expect("slices in");
        assert!(reached > 0 && reached < t && to == t, "{reached}");
        // Another jump goes at once, and the first one's reply comes
        // straight back: it stopped where its slices reached.
        let m = run(m, [Action::Seek(10 * SEC)]);
        assert_eq!(m.session.borrow().in_flight(), 2);
        let replies = m.session.borrow_mut().outbox();
        assert_eq!(replies.len(), 1, "the first jump's reply, at once");
        let m = m.reduce(Action::Engine(EngineReply::one(Rc::from(
            replies[0].clone(),
        ))));
        let stopped = m.session.borrow().now();
        assert!(stopped >= reached && stopped < t, "stopped at {stopped}");
        // A click meanwhile waits for the second jump, which comes next.
        let m = run(m, [Action::ToggleLink("node1".into())]);
        let mut m = m;
        while m.session.borrow_mut().fake_worker().next() {}
        m = deliver(m);
        let s = m.session.borrow();
        assert_eq!((s.now(), s.in_flight()), (10 * SEC, 0));
        drop(s);
        let direct = run(
            here("cluster-20-mobike"),
            [
                Action::Seek(stopped),
                Action::Seek(10 * SEC),
                Action::ToggleLink("node1".into()),
            ],
        );
        assert_eq!(m.session.borrow().log(), direct.session.borrow().log());
        assert!(seen(&m) == seen(&direct), "as the same jumps end");
    }

    /// What the user does while a jump waits: an intervention acts at the
    /// moment the slider was put at (the jump goes first); opening another
    /// run drops it.
    #[test]
    fn an_intervention_sends_the_waiting_jump_first_and_another_run_drops_it() {
        let m = run(
            on_worker("wifi-to-lte", 1.0),
            [
                Action::Seek(20 * SEC),
                Action::Seek(6 * SEC),
                Action::ToggleLink("wifi".into()),
            ],
        );
        assert_eq!(m.session.borrow().in_flight(), 3);
        let m = deliver(m);
        let direct = run(
            here("wifi-to-lte"),
            [
                Action::Seek(20 * SEC),
                Action::Seek(6 * SEC),
                Action::ToggleLink("wifi".into()),
            ],
        );
        assert_eq!(m.session.borrow().now(), 6 * SEC);
        assert_eq!(m.session.borrow().log(), direct.session.borrow().log());
        assert!(seen(&m) == seen(&direct), "as the jump and the click end");
        let m = run(
            m,
            [Action::Seek(2 * SEC), Action::Seek(9 * SEC), Action::Reset],
        );
        let m = deliver(deliver(m));
        let s = m.session.borrow();
        assert_eq!(
            (s.now(), s.in_flight()),
            (0, 0),
            "the waiting jump was dropped"
        );
    }

    /// Replies taken in together leave the page's run as replies taken in
    /// one by one: the same moment, trace, chart and hosts.
    #[test]
    fn replies_taken_in_together_read_as_one_by_one() {
        // Two ticks on their way, as playing at 64× sends them.
        let ticks = || [Action::Tick(40), Action::Tick(40)];
        for rounds in 0..4 {
            let mut a = on_worker("cluster-20-mobike", 4.0);
            a = run(a, [Action::SetSpeed(64), Action::TogglePlay]);
            for _ in 0..rounds {
                a = deliver(run(a, ticks()));
            }
            // The same page twice (the run is deterministic).
            let mut b = on_worker("cluster-20-mobike", 4.0);
            b = run(b, [Action::SetSpeed(64), Action::TogglePlay]);
            for _ in 0..rounds {
                b = deliver(run(b, ticks()));
            }
            assert_eq!(seen(&a), seen(&b));
            a = deliver(run(a, ticks()));
            b = run(b, ticks());
            let replies = b.session.borrow_mut().outbox();
            assert!(replies.len() >= 2, "{} replies", replies.len());
            for r in replies {
                b = b.reduce(Action::Engine(EngineReply::one(Rc::from(r))));
            }
            assert_eq!(seen(&a), seen(&b));
            assert!(seen(&a).0 > 0);
        }
    }

    /// A command the simulation's worker refuses (it could not read the
    /// scenario it was to start) shows its reason; the page goes on.
    #[test]
    fn a_command_the_worker_refuses_is_shown_and_the_page_goes_on() {
        let m = start();
        let mut engine = crate::engine::Engine::default();
        let load = Command::Load {
            scenario: "title = [".into(),
            source: Source::File(String::new()),
            log: Vec::new(),
        };
        let reply = engine.handle(load, &|| None);
        assert!(matches!(reply.outcome, Outcome::Refused(_)));
        // As if it had gone to a worker.
        m.session.borrow_mut().push_waiting();
        let bytes = crate::engine::codec::to_bytes(&reply);
        let m = m.reduce(Action::Engine(EngineReply::one(Rc::from(bytes))));
        let e = m.ui.error.clone().expect("an error");
        assert_eq!(e.title, "The simulation refused a command");
        assert!(
            e.message.starts_with("the scenario could not be read"),
            "{}",
            e.message
        );
        assert!(!m.ui.playing);
        let m = m.reduce(Action::DismissError);
        assert_eq!(m.ui.error, None);
    }

    /// A real strongSwan capture opens as a recorded run: every message
    /// decrypted in the chart, and nothing that would run or change it is
    /// done (a notice says why); another scenario opens as usual after it.
    #[test]
    fn a_capture_opens_as_a_recorded_run() {
        let m = run(start(), [capture(&[("keys", KEYS)])]);
        assert_eq!(m.ui.error, None);
        {
            let s = m.session.borrow();
            assert!(s.is_recorded());
            let messages: Vec<_> = s
                .chart()
                .rows
                .iter()
                .filter_map(|r| match r {
                    mobike_render::Row::Message(m) => Some(m.notation()),
                    _ => None,
                })
                .collect();
            assert_eq!(messages.len(), 14);
            assert!(messages.iter().all(|n| !n.contains("SK {...}")));
            assert!(
                messages
                    .iter()
                    .any(|n| n.contains("N(UPDATE_SA_ADDRESSES)"))
            );
            assert_eq!(s.chart().lanes[0].label, "client.oracle.test");
            assert!(crate::storage::Saved::of(&*s, None, false, 0.0).is_none());
        }
        assert!(
            m.ui.notice
                .as_deref()
                .unwrap()
                .contains("14 datagrams of 20 frames")
        );
        let stamp = m.session.borrow().stamp();
        for a in [
            Action::TogglePlay,
            Action::Step,
            Action::Seek(0),
            Action::Share,
            Action::SetSeed(9),
            Action::ToggleLink("net".into()),
        ] {
            let after = m.clone().reduce(a.clone());
            assert!(!after.ui.playing, "{a:?}");
            assert_eq!(after.ui.notice.as_deref(), Some(RECORDED_NOTICE), "{a:?}");
            assert_eq!(
                after.session.borrow().stamp(),
                stamp,
                "{a:?} changed the run"
            );
        }
        let back = m.reduce(Action::LoadExample(0));
        assert!(!back.session.borrow().is_recorded());
    }

    #[test]
    fn a_bad_capture_or_key_file_keeps_the_current_run() {
        let m = start();
        let title = m.session.borrow().scenario.title.clone();
        let m = run(m, [capture(&[("keys.txt", "0011,0022\n")])]);
        let e = m.ui.error.clone().expect("an error");
        assert!(e.message.contains("keys.txt: line 1"), "{}", e.message);
        assert_eq!(m.session.borrow().scenario.title, title);
        let bad = Action::OpenCapture(CaptureFiles {
            name: "cut.pcap".into(),
            bytes: Rc::from(&CAPTURE[..100]),
            keys: vec![],
        });
        let m = run(m, [Action::DismissError, bad]);
        let e = m.ui.error.clone().expect("an error");
        assert!(e.message.starts_with("cut.pcap: frame"), "{}", e.message);
        assert_eq!(m.session.borrow().scenario.title, title);
    }

    /// The catalogue of bad inputs (`tests/bad-inputs/`) through the page's
    /// own readers: a scenario file, a share link, a capture and a key file
    /// each shows its error (the text beside it, `NAME.expected`) and the
    /// current run goes on; an IKE message that cannot be read inside a
    /// good capture shows its reason in the chart. `UPDATE_EXPECTED=1`
    /// writes the share links' texts (only the page reads links).
    #[test]
    fn every_bad_input_shows_its_error_and_the_run_goes_on() {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/bad-inputs");
        let read = |n: &str| std::fs::read(dir.join(n)).unwrap();
        let keys = String::from_utf8(read("ike.keys")).unwrap();
        let mut names: Vec<String> = std::fs::read_dir(&dir)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .filter(|n| !n.ends_with(".expected") && n != "ike.keys" && !n.ends_with(".md"))
            .collect();
        names.sort();
        assert!(names.len() >= 30);
        for f in &names {
            // A model of its own: models share their session.
            let before = start();
            let title = before.session.borrow().scenario.title.clone();
            let (stem, ext) = f.rsplit_once('.').unwrap();
            let expected_path = dir.join(format!("{stem}.expected"));
            let capture = |name: &str, bytes: Vec<u8>, keys: Vec<(String, String)>| {
                Action::OpenCapture(CaptureFiles {
                    name: name.into(),
                    bytes: Rc::from(bytes),
                    keys,
                })
            };
            let m = match ext {
                "toml" => before.clone().reduce(Action::OpenFile(
                    f.clone(),
                    String::from_utf8_lossy(&read(f)).into_owned(),
                )),
                "link" => Rc::new(Model::from_hash(
                    String::from_utf8(read(f)).unwrap().trim_end(),
                )),
                "pcap" => before.clone().reduce(capture(
                    f,
                    read(f),
                    vec![("ike.keys".into(), keys.clone())],
                )),
                "keys" => before.clone().reduce(capture(
                    "ike-bad-icv.pcap",
                    read("ike-bad-icv.pcap"),
                    vec![(f.clone(), String::from_utf8_lossy(&read(f)).into_owned())],
                )),
                other => panic!("{f}: no rule for .{other}"),
            };
            if stem.starts_with("ike-") {
                assert_eq!(m.ui.error, None, "{f}");
                let s = m.session.borrow();
                let shown: Vec<String> = s
                    .chart()
                    .rows
                    .iter()
                    .filter_map(|r| match r {
                        mobike_render::Row::Message(m) => match &m.what {
                            mobike_render::chart::What::Ike { error: Some(e), .. } => {
                                Some(format!("[not read: {e}]"))
                            }
                            _ => None,
                        },
                        _ => None,
                    })
                    .collect();
                let want = std::fs::read_to_string(&expected_path).unwrap();
                assert!(
                    shown.contains(&want.trim_end().to_string()),
                    "{f}: {shown:?}"
                );
                continue;
            }
            let error =
                m.ui.error
                    .clone()
                    .unwrap_or_else(|| panic!("{f}: no error shown"));
            if ext == "link" && std::env::var_os("UPDATE_EXPECTED").is_some() {
                std::fs::write(&expected_path, format!("{}\n", error.message)).unwrap();
            }
            let want = std::fs::read_to_string(&expected_path)
                .unwrap_or_else(|e| panic!("{}: {e}", expected_path.display()));
            assert!(
                error.message.starts_with(want.trim_end()),
                "{f}: {:?} does not begin {want:?}",
                error.message
            );
            // The run goes on: the scenario is the one before.
            assert_eq!(m.session.borrow().scenario.title, title, "{f}");
        }
    }

    /// Files are told apart by their first octets: a capture among them
    /// takes the others as its key files.
    #[test]
    fn chosen_files_are_sorted_by_their_content() {
        use crate::components::open_file::sort_files;
        let a = sort_files(vec![
            ("keys".into(), KEYS.as_bytes().to_vec()),
            ("x.pcap".into(), CAPTURE.to_vec()),
        ])
        .unwrap();
        assert!(matches!(&a, Action::OpenCapture(c) if c.name == "x.pcap" && c.keys.len() == 1));
        let a = sort_files(vec![("a.toml".into(), b"version = 1".to_vec())]).unwrap();
        assert!(matches!(a, Action::OpenFile(..)));
        let e = sort_files(vec![
            ("a.toml".into(), b"x".to_vec()),
            ("b.toml".into(), b"y".to_vec()),
        ])
        .unwrap_err();
        assert!(e.message.contains("one scenario file"), "{}", e.message);
        // A damaged capture is read as one by its name, so its error says
        // what is wrong with it.
        let a = sort_files(vec![
            ("keys".into(), KEYS.as_bytes().to_vec()),
            ("cut.pcap".into(), b"%PDF".to_vec()),
        ])
        .unwrap();
        assert!(matches!(&a, Action::OpenCapture(c) if c.name == "cut.pcap"));
        let e = sort_files(vec![("blob".into(), vec![0xff, 0xfe, 0x00])]).unwrap_err();
        assert!(
            e.message.contains("neither a scenario file"),
            "{}",
            e.message
        );
    }

    #[test]
    fn a_tick_while_paused_changes_nothing() {
        let m = start();
        let after = m.clone().reduce(Action::Tick(40));
        assert!(Rc::ptr_eq(&m, &after));
    }

    #[test]
    fn the_version_changes_with_the_session_and_only_then() {
        let m = start();
        let seed = m.session.borrow().scenario.seed;
        let ui_only = run(
            m.clone(),
            [
                Action::Select(Some(3)),
                Action::ToggleEsp,
                Action::SetSpeed(16),
                Action::FocusHost("laptop".into()),
                Action::DismissNotice,
                Action::Share,
                Action::CloseShare,
                Action::SetSeed(seed),
            ],
        );
        assert_eq!(ui_only.version, m.version);
        assert_eq!(ui_only.ui.selected, Some(3));
        assert!(ui_only.ui.show_esp);
        assert_eq!(ui_only.ui.speed, 16);
        assert!(ui_only.ui.share.is_some() && !ui_only.ui.share_open);
        assert!(ui_only.session == m.session, "one session all along");
        let stepped = ui_only.reduce(Action::Step);
        assert_eq!(stepped.version, m.version + 1);
        assert!(stepped.session.borrow().now() > 0);
    }

    #[test]
    fn playing_ticks_time_forward_at_the_speed() {
        let m = run(start(), [Action::SetSpeed(4), Action::TogglePlay]);
        let m = m.reduce(Action::Tick(40));
        assert_eq!(m.session.borrow().now(), 160 * MS);
        assert_eq!(m.version, 1);
        // At most two seconds a tick, however long the tab slept.
        let m = m.reduce(Action::Tick(60_000));
        assert_eq!(m.session.borrow().now(), 160 * MS + MAX_TICK);
    }

    /// A tick simulates event by event (so the page can stop when its
    /// budget is spent; never outside a browser): the run then stands
    /// exactly where one step would leave it. (Ticks that do stop early:
    /// see the session's tests.)
    #[test]
    fn a_paced_tick_leaves_the_run_where_one_step_would() {
        let m = run(start(), [Action::SetSpeed(64), Action::TogglePlay]);
        let other = run(start(), [Action::SetSpeed(64), Action::TogglePlay]);
        let m = m.reduce(Action::Tick(80));
        other.session.borrow_mut().exec(
            Command::Advance {
                dt: 64 * 80 * MS,
                budget_ms: 0.0,
            },
            Pending::Quiet,
        );
        let whole = other.session.borrow();
        let sliced = m.session.borrow();
        assert_eq!(sliced.now(), whole.now());
        assert!(
            sliced.world.trace().len() > 10,
            "{}",
            sliced.world.trace().len()
        );
        assert_eq!(sliced.world.trace(), whole.world.trace());
        assert_eq!(sliced.chart(), whole.chart());
    }

    #[test]
    fn the_highest_speed_plays_at_that_speed() {
        let m = run(start(), [Action::SetSpeed(64), Action::TogglePlay]);
        let m = m.reduce(Action::Tick(40));
        assert_eq!(
            m.session.borrow().now(),
            64 * 40 * MS,
            "a 40 ms tick at 64x"
        );
    }

    #[test]
    fn another_scenario_starts_fresh_and_keeps_preferences() {
        let m = run(
            start(),
            [
                Action::ToggleEsp,
                Action::ToggleLesson,
                Action::Select(Some(1)),
                Action::FocusHost("laptop".into()),
                Action::Share,
                Action::TogglePlay,
            ],
        );
        let i = EXAMPLES
            .iter()
            .position(|(n, _)| *n == "cluster-20-mobike")
            .unwrap();
        let m = m.reduce(Action::LoadExample(i));
        assert_eq!(m.session.borrow().groups.len(), 1);
        assert_eq!(
            m.ui,
            Ui {
                show_esp: true,
                lesson: true,
                ..Ui::default()
            }
        );
        // An index past the library changes nothing.
        let same = m.clone().reduce(Action::LoadExample(EXAMPLES.len()));
        assert_eq!(same.version, m.version);
    }

    #[test]
    fn in_lesson_mode_play_shows_a_step_of_the_same_moment_without_moving_time() {
        let text = include_str!("../tests/scenarios/same-moment-steps.toml");
        let m = run(
            start(),
            [
                Action::OpenFile("same.toml".into(), text.into()),
                Action::ToggleLesson,
                Action::SetSpeed(64),
            ],
        );
        let mut m = m;
        let mut stops = Vec::new();
        for _ in 0..200 {
            if !m.ui.playing {
                let s = m.session.borrow();
                if let Some((k, _, _)) = s.narration()
                    && k > stops.last().map_or(0, |x: &(usize, Time)| x.0)
                {
                    stops.push((k, s.now()));
                }
                if k_is_last(&s) {
                    break;
                }
                drop(s);
                m = m.reduce(Action::TogglePlay);
            } else {
                m = m.reduce(Action::Tick(40));
            }
        }
        fn k_is_last(s: &Live) -> bool {
            s.narration().is_some_and(|(k, n, _)| k == n)
        }
        assert_eq!(stops.iter().map(|x| x.0).collect::<Vec<_>>(), [1, 2, 3, 4]);
        assert_eq!(
            stops[1].1, stops[3].1,
            "Play at step 2 showed steps 3 and 4 at once"
        );
        // The panel's buttons go back and forth among the steps reached.
        let m = m.reduce(Action::ShowStep(2));
        assert_eq!(m.session.borrow().narration().unwrap().0, 2);
        let v = m.version;
        let m = m.reduce(Action::ShowStep(2));
        assert_eq!(m.version, v, "the same step again changes nothing");
    }

    #[test]
    fn a_rule_reference_opens_its_text_and_closes() {
        let m = run(start(), [Action::ShowRule(Some("M-3.7-5".into()))]);
        assert_eq!(m.ui.rule.as_deref(), Some("M-3.7-5"));
        assert_eq!(m.version, 0, "the run is untouched");
        let m = m.reduce(Action::ShowRule(Some("RFC 4555 §99".into())));
        assert_eq!(m.ui.rule, None, "a reference to nothing shows nothing");
        let m = run(
            m,
            [
                Action::ShowRule(Some("RFC 4555 §3.7".into())),
                Action::ShowRule(None),
            ],
        );
        assert_eq!(m.ui.rule, None);
    }

    #[test]
    fn a_bad_file_keeps_the_run_and_shows_the_line() {
        let m = start();
        let m = m.reduce(Action::OpenFile(
            "mine.toml".into(),
            "version = 1\ntitle = 3\n".into(),
        ));
        assert_eq!(m.version, 0);
        let e = m.ui.error.clone().unwrap();
        assert!(e.title.starts_with("Could not open mine.toml"));
        assert_eq!(e.excerpt.as_ref().map(|x| x.0), Some(2));
        let m = m.reduce(Action::DismissError);
        assert_eq!(m.ui.error, None);
    }

    #[test]
    fn changing_the_past_shows_the_fork_notice() {
        let m = run(
            start(),
            [
                Action::Seek(5 * SEC),
                Action::ToggleLink("wifi".into()),
                Action::Seek(8 * SEC),
                Action::Seek(2 * SEC),
            ],
        );
        assert_eq!(m.ui.notice, None);
        let m = m.reduce(Action::ToggleLink("lte".into()));
        let notice = m.ui.notice.clone().unwrap();
        assert!(
            notice.starts_with("You changed the past: a new timeline starts at 2.000s."),
            "{notice}"
        );
        assert!(
            notice.contains("with 1 later intervention of yours"),
            "{notice}"
        );
        let m = m.reduce(Action::Reset);
        assert_eq!((m.ui.notice.as_ref(), m.session.borrow().now()), (None, 0));
    }

    #[test]
    fn a_menu_applies_what_the_simulator_allows_and_shows_the_rest_in_place() {
        let link = |id: &str| MenuOpen {
            target: Target::Link(id.into()),
            keyboard: true,
        };
        let m = run(start(), [Action::Step, Action::OpenMenu(link("wifi"))]);
        assert_eq!(m.ui.menu, Some(link("wifi")));
        let v = m.version;
        // A loss that is no probability: refused, the menu stays, the run too.
        let m = m.reduce(Action::Intervene(Intervention::SetLink {
            link: "wifi".into(),
            delay: None,
            jitter: None,
            loss: Some(1.5),
            duplicate: None,
        }));
        assert_eq!(m.version, v);
        let (form, message) = m.ui.menu_error.clone().unwrap();
        assert_eq!(form, "link");
        assert!(
            message.starts_with("loss = 1.5 is not a probability"),
            "{message}"
        );
        assert!(m.ui.menu.is_some());
        assert!(m.session.borrow().log().is_empty());
        // A good one is applied and logged; the menu closes.
        let m = m.reduce(Action::Intervene(Intervention::BreakLink {
            link: "wifi".into(),
        }));
        assert_eq!(m.version, v + 1);
        assert_eq!((m.ui.menu.as_ref(), m.ui.menu_error.as_ref()), (None, None));
        assert_eq!(m.session.borrow().log().len(), 1);
        // What the form could not read is shown the same way.
        let m = run(
            m,
            [
                Action::OpenMenu(link("lte")),
                Action::MenuError("link".into(), "delay: no unit".into()),
            ],
        );
        assert_eq!(
            m.ui.menu_error.as_ref().map(|e| e.1.as_str()),
            Some("delay: no unit")
        );
        let m = m.reduce(Action::CloseMenu);
        assert_eq!((m.ui.menu.as_ref(), m.ui.menu_error.as_ref()), (None, None));
    }

    #[test]
    fn an_address_added_by_the_user_may_be_removed_and_then_added_elsewhere() {
        let add = |iface: &str| {
            Action::Intervene(Intervention::AddAddress {
                host: "laptop".into(),
                interface: iface.into(),
                address: "192.0.2.99".parse().unwrap(),
                announce: true,
            })
        };
        let m = run(start(), [Action::Step, add("wlan0")]);
        assert_eq!(m.ui.menu_error, None);
        // Taken while wlan0 has it: the menu says who has it.
        let m = m.reduce(add("wwan0"));
        let e = m.ui.menu_error.clone().unwrap();
        assert_eq!(
            e,
            (
                "address".into(),
                "address 192.0.2.99 is used twice: \"laptop.wlan0\" has it (remove it there first)"
                    .into()
            )
        );
        let m = m.reduce(Action::Intervene(Intervention::RemoveAddress {
            host: "laptop".into(),
            interface: "wlan0".into(),
            address: Some("192.0.2.99".parse().unwrap()),
            announce: false,
        }));
        assert_eq!(m.ui.menu_error, None);
        assert_eq!(m.session.borrow().log().len(), 2);
        // Free once wlan0 lost it.
        let m = m.reduce(add("wwan0"));
        assert_eq!(m.ui.menu_error, None);
        assert_eq!(m.session.borrow().log().len(), 3);
    }

    #[test]
    fn a_members_menu_shows_its_full_state() {
        let i = EXAMPLES
            .iter()
            .position(|(n, _)| *n == "cluster-20-mobike")
            .unwrap();
        let m = run(
            start(),
            [
                Action::LoadExample(i),
                Action::OpenMenu(MenuOpen {
                    target: Target::Host("client-4".into()),
                    keyboard: false,
                }),
            ],
        );
        assert_eq!(m.ui.focus.as_deref(), Some("client-4"));
    }

    #[test]
    fn a_broken_share_link_opens_the_default_scenario_with_its_error() {
        let m = Model::from_hash("#v=1&ex=no-such-example");
        let e = m.ui.error.unwrap();
        assert!(e.title.ends_with("showing the default scenario"));
        assert_eq!(
            m.session.borrow().source,
            session::Source::of_text(DEFAULT_SCENARIO)
        );
        // A good one opens its run, and its hash stays the share link.
        let link = share::encode(&Session::from_toml(DEFAULT_SCENARIO).unwrap());
        let m = Model::from_hash(&format!("#{link}"));
        assert_eq!(m.ui.share.as_deref(), Some(link.as_str()));
        assert_eq!(m.ui.error, None);
    }

    // ---- The chart's view and the scenario's end ----

    #[test]
    fn playback_stops_at_the_scenarios_end_and_goes_on_when_asked() {
        let m = run(start(), [Action::SetSpeed(64), Action::TogglePlay]);
        let end = m.session.borrow().until();
        assert_eq!(end, 25 * SEC);
        let mut m = m;
        for _ in 0..100 {
            m = m.reduce(Action::Tick(40));
        }
        assert!(!m.ui.playing, "stopped by itself");
        assert_eq!(m.session.borrow().now(), end, "exactly at the end");
        assert_eq!(m.ui.ended, Some(end));
        assert_eq!(
            ended_notice(end),
            "The scenario ends at 25 s; press Play to go on."
        );
        // A tick that comes late changes nothing.
        let same = m.clone().reduce(Action::Tick(40));
        assert_eq!(same.session.borrow().now(), end);
        // Play again: on past the end, and no second stop.
        let mut m = m.reduce(Action::TogglePlay);
        assert!(m.ui.playing && m.ui.ended.is_none());
        for _ in 0..20 {
            m = m.reduce(Action::Tick(40));
        }
        assert!(m.ui.playing);
        assert!(m.session.borrow().now() > end + 10 * SEC);
        // Step and the slider go past the end too.
        let m = run(start(), [Action::Seek(end + 3 * SEC)]);
        assert_eq!(m.session.borrow().now(), end + 3 * SEC);
        let before = m.session.borrow().now();
        let m = m.reduce(Action::Step);
        assert!(m.session.borrow().now() > before);
        assert_eq!(m.ui.ended, None);
    }

    #[test]
    fn chart_actions_change_the_view_not_the_run() {
        let m = start();
        let m2 = run(
            m.clone(),
            [
                Action::Chart(ChartAction::ToggleExchange(Exchange::IkeSaInit)),
                Action::Chart(ChartAction::ToggleKind(RowKind::Note)),
                Action::Chart(ChartAction::Host(Some("laptop".into()))),
                Action::Chart(ChartAction::ToggleGroup("client".into())),
                Action::Chart(ChartAction::ToggleCollapse),
                Action::Chart(ChartAction::ToggleRun(21)),
                Action::Chart(ChartAction::ToggleExchange(Exchange::Esp)),
                Action::Chart(ChartAction::Search("update".into())),
                Action::Chart(ChartAction::NextMatch(false)),
            ],
        );
        assert_eq!(m2.version, m.version);
        let c = &m2.ui.chart;
        assert!(c.view.filter.hide_exchanges.contains(&Exchange::IkeSaInit));
        assert!(c.view.filter.hide_kinds.contains(&RowKind::Note));
        assert_eq!(c.view.filter.host.as_deref(), Some("laptop"));
        assert!(c.view.expanded_groups.contains("client"));
        assert!(c.view.collapse_routine);
        assert!(c.view.expanded_runs.contains(&21));
        // ESP is the "show ESP" switch, not a second copy of it.
        assert!(m2.ui.show_esp);
        assert!(!c.view.filter.hide_exchanges.contains(&Exchange::Esp));
        assert!(
            !m2.ui
                .chart_view()
                .filter
                .hide_exchanges
                .contains(&Exchange::Esp)
        );
        assert!(
            m.ui.chart_view()
                .filter
                .hide_exchanges
                .contains(&Exchange::Esp)
        );
        // Search wraps around its matches both ways.
        assert_eq!(c.search_at, -1);
        assert_eq!(c.current_match(12), Some(11));
        assert_eq!(c.current_match(0), None);
        let m3 = run(
            m2.clone(),
            [
                Action::Chart(ChartAction::NextMatch(true)),
                Action::Chart(ChartAction::NextMatch(true)),
            ],
        );
        assert_eq!(m3.ui.chart.current_match(12), Some(1));
        let m3 = m3.reduce(Action::Chart(ChartAction::Search("cookie2".into())));
        assert_eq!(
            m3.ui.chart.current_match(5),
            Some(0),
            "a new search starts at the top"
        );
        // Toggling again undoes; clearing shows every row, folding stays.
        let m4 = run(
            m2.clone(),
            [
                Action::Chart(ChartAction::ToggleRun(21)),
                Action::Chart(ChartAction::ClearFilters),
            ],
        );
        assert!(m4.ui.chart.view.expanded_runs.is_empty());
        assert!(m4.ui.chart.view.filter.is_open());
        assert!(m4.ui.chart.view.collapse_routine);
        // Another scenario keeps what to show and the folding, not hosts,
        // groups, runs or the search.
        let m5 = m2.reduce(Action::LoadExample(1));
        let c = &m5.ui.chart.view;
        assert!(c.filter.hide_exchanges.contains(&Exchange::IkeSaInit));
        assert!(c.filter.hide_kinds.contains(&RowKind::Note));
        assert!(c.collapse_routine);
        assert_eq!(c.filter.host, None);
        assert!(c.expanded_groups.is_empty() && c.expanded_runs.is_empty());
        assert_eq!(c.search, "");
    }

    #[test]
    fn save_downloads_a_file_that_opens_as_the_same_run() {
        let m = run(
            start(),
            [
                Action::Seek(3 * SEC),
                Action::ToggleLink("wifi".into()),
                Action::Seek(20 * SEC),
                Action::Save,
            ],
        );
        let d = m.work.download.clone().unwrap();
        assert_eq!(
            d.name,
            "Laptop roams from Wi-Fi to LTE behind a carrier NAT.toml"
        );
        assert!(d.text().unwrap().contains("user = true"));
        let again = run(
            start(),
            [
                Action::OpenFile(d.name.clone(), d.text().unwrap().to_string()),
                Action::Seek(20 * SEC),
            ],
        );
        assert_eq!(again.ui.error, None);
        assert_eq!(again.session.borrow().chart(), m.session.borrow().chart());
        // Each save is a download of its own, even of the same text.
        let m = m.reduce(Action::Save);
        assert_eq!(m.work.download.as_ref().map(|x| x.n), Some(d.n + 1));
        assert_eq!(file_name(" a/b: c? "), "a-b- c-.toml");
        assert_eq!(file_name("..."), "scenario.toml");
    }

    #[test]
    fn the_editor_opens_edits_and_applies_and_a_wrong_draft_waits() {
        use crate::editor::{Add, Edit, Start};
        use mobike_sim::{Element, Place};
        let m = run(start(), [Action::EditorOpen(Start::Empty)]);
        assert!(m.editor.as_ref().unwrap().draft().hosts.is_empty());
        let m = run(
            m,
            [
                Action::Edit(Edit::Add(Add::Responder)),
                Action::Edit(Edit::Add(Add::Initiator)),
                Action::Edit(Edit::Set(
                    Place::new(Element::Link(0), "delay"),
                    "soon".into(),
                )),
                Action::EditorApply,
            ],
        );
        let e = m
            .editor
            .as_ref()
            .expect("a wrong draft keeps the editor open");
        assert_eq!(e.note.as_deref(), Some("1 field is wrong; fix it first"));
        assert_eq!(
            m.session.borrow().scenario.title,
            start().session.borrow().scenario.title
        );
        let m = run(
            m,
            [
                Action::Edit(Edit::Set(
                    Place::new(Element::Link(0), "delay"),
                    "3ms".into(),
                )),
                Action::EditorApply,
            ],
        );
        assert!(m.editor.is_none());
        assert!(m.ui.edited);
        let s = m.session.borrow();
        assert_eq!(s.scenario.hosts.len(), 2);
        assert!(matches!(s.source, Source::File(_)));
    }

    #[test]
    fn restore_opens_the_saved_work_at_its_moment() {
        let worked = run(
            start(),
            [Action::Seek(3 * SEC), Action::ToggleLink("wifi".into())],
        );
        let saved = Saved::of(&*worked.session.borrow(), None, false, 0.0).unwrap();
        let m = run(start(), [Action::OfferRestore(saved.clone())]);
        assert_eq!(m.work.offer.as_ref(), Some(&saved));
        let m = m.reduce(Action::Restore);
        assert_eq!(m.work.offer, None);
        let s = m.session.borrow();
        assert_eq!(s.now(), 3 * SEC);
        assert_eq!(s.chart(), worked.session.borrow().chart());
        let m = run(
            start(),
            [Action::OfferRestore(saved), Action::DiscardRestore],
        );
        assert_eq!((m.work.offer.as_ref(), m.session.borrow().now()), (None, 0));
    }
}
