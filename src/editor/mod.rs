//! The scenario editor's model: a draft scenario that the user changes one
//! field at a time, with every value checked as the file reader checks it.
//! No web types here, so all of it is tested natively; the panels in
//! `components::editor` draw [`form::FormView`]s and send [`Edit`]s.
//!
//! The draft is the scenario as a file writes it (a `count` entry is one
//! host group). A field's text goes through the very serde types the file
//! reader uses: the element is written as a TOML table, the key replaced,
//! and the table read back. Text that does not make a value stays in the
//! field with the reader's message, and the draft keeps its last good
//! value, so the draft is always a scenario. What only the whole scenario
//! can tell (an address used twice, a link nobody defines) comes from
//! [`Scenario::problems`], each at its field.
//!
//! Ids are references: renaming a link, host, NAT or interface renames
//! every mention of it, and removing one removes (and says so) the events
//! that named it, so an edit never leaves a dangling name behind.

pub mod docs;
pub mod form;
mod names;

use crate::session::{EXAMPLES, Shown};
use mobike_protocol::{Role, Time};
use mobike_sim::duration::Dur;
use mobike_sim::scenario::{HostSpec, InterfaceSpec, LinkSpec, NatSpec, PingSpec, TimelineEvent};
use mobike_sim::vocab::settings::{resolve, setting_fields};
use mobike_sim::vocab::shape::{Shape, fields_of};
use mobike_sim::{Element, Intervention, Place, Problem, Scenario, ScenarioError};
use serde::Serialize;
use serde::de::DeserializeOwned;
use std::collections::BTreeMap;
use std::net::IpAddr;
use std::rc::Rc;

/// Where a new draft starts.
#[derive(Clone, Debug, PartialEq)]
pub enum Start {
    /// The scenario on the page, with the user's interventions as its
    /// "by you" events and the nodes where the user put them ("Edit").
    Current,
    /// Nothing at all ("New…", empty page).
    Empty,
    /// A copy of a built-in example (index into [`EXAMPLES`]).
    Example(usize),
}

/// The editor's tabs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Tab {
    Scenario,
    Hosts,
    Links,
    Nats,
    Settings,
    Timeline,
    Source,
}

impl Tab {
    pub const ALL: [Tab; 7] = [
        Tab::Scenario,
        Tab::Hosts,
        Tab::Links,
        Tab::Nats,
        Tab::Settings,
        Tab::Timeline,
        Tab::Source,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Tab::Scenario => "Scenario",
            Tab::Hosts => "Hosts",
            Tab::Links => "Links",
            Tab::Nats => "NATs",
            Tab::Settings => "Settings",
            Tab::Timeline => "Timeline",
            Tab::Source => "Source",
        }
    }

    /// The tab that shows fields of this element.
    pub fn of(element: &Element) -> Tab {
        match element {
            Element::Scenario | Element::Ping => Tab::Scenario,
            Element::Host(_) | Element::Interface(..) => Tab::Hosts,
            Element::Link(_) => Tab::Links,
            Element::Nat(_) => Tab::Nats,
            Element::Event(_) => Tab::Timeline,
            Element::Settings(_) => Tab::Settings,
            Element::Step(_) => Tab::Source,
        }
    }
}

/// Something to add.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Add {
    /// An initiator with one interface on a new link, its peer the first
    /// responder.
    Initiator,
    Responder,
    /// A responder answering on two addresses, one link each (a
    /// load-sharing cluster whose nodes share SA state).
    Cluster,
    /// Many alike initiators from one entry (`count`).
    Group,
    /// Another interface of this host entry, on a new link.
    Interface(usize),
    Link,
    Nat,
    Event,
    Ping,
}

impl Add {
    /// The page id of its button.
    pub fn id(&self) -> String {
        match self {
            Add::Interface(k) => format!("ed-host-{k}-add"),
            other => format!("ed-add-{}", format!("{other:?}").to_lowercase()),
        }
    }
}

/// One change the user makes in the editor.
#[derive(Clone, Debug, PartialEq)]
pub enum Edit {
    Tab(Tab),
    /// Show the settings of `[settings]` (`None`) or of a host entry (in
    /// the Settings tab).
    Layer(Option<usize>),
    /// A field's text (checkboxes send "true" / "false"; "" unsets an
    /// optional field).
    Set(Place, String),
    Add(Add),
    /// Remove an element and whatever names it.
    Remove(Element),
    /// The text of the Source tab as typed.
    Source(String),
    /// "Cancel" with changes: ask first.
    AskCancel,
    /// "Keep editing" after that question.
    KeepEditing,
    DismissNote,
}

/// A field whose text does not make a value: the text as typed and why.
#[derive(Clone, Debug, PartialEq)]
struct Bad {
    text: String,
    message: String,
}

/// The Source tab's text and whether it reads.
#[derive(Clone, Debug, PartialEq)]
struct SourceText {
    text: String,
    error: Option<ScenarioError>,
}

/// What the draft was made from.
#[derive(Clone, Debug, PartialEq)]
enum Origin {
    /// The page's scenario and the user's interventions when the editor
    /// opened: interventions made while editing are added on Apply.
    Current {
        scenario: Box<Scenario>,
        log: Vec<(Time, Intervention)>,
    },
    Empty,
    Example(usize),
}

/// The editor: a draft and the state of its form.
#[derive(Clone, Debug, PartialEq)]
pub struct Editor {
    draft: Scenario,
    bad: BTreeMap<Place, Bad>,
    /// What the user typed into fields that took it, shown as typed (a
    /// "1.5s" stays "1.5s", not "1500ms", while it is being written).
    typed: BTreeMap<Place, String>,
    problems: Vec<Problem>,
    pub tab: Tab,
    /// The settings layer shown: `None` for `[settings]`, else a host entry.
    pub layer: Option<usize>,
    source: Option<SourceText>,
    /// The draft differs from what the editor opened with.
    pub dirty: bool,
    /// "Cancel" was pressed with changes: the panel asks to confirm.
    pub confirm_cancel: bool,
    /// What the last edit did besides itself ("removed 2 events that named
    /// link wifi").
    pub note: Option<String>,
    origin: Origin,
}

/// The editor as the model holds it: equal when it is the same value, so
/// props compare by pointer and a changed editor is a new one.
#[derive(Clone, Debug)]
pub struct EditorRef(pub Rc<Editor>);

impl PartialEq for EditorRef {
    fn eq(&self, other: &Self) -> bool {
        Rc::ptr_eq(&self.0, &other.0)
    }
}

impl std::ops::Deref for EditorRef {
    type Target = Editor;
    fn deref(&self) -> &Editor {
        &self.0
    }
}

/// What Apply makes: the scenario to run, its text (the page's source,
/// so Share carries it) and what became of interventions made meanwhile.
#[derive(Clone, Debug, PartialEq)]
pub struct Applied {
    pub scenario: Scenario,
    pub text: String,
    /// The "by you" events the scenario holds.
    pub kept: usize,
    /// Interventions made while editing that no longer fit and were left out.
    pub dropped: usize,
}

impl Editor {
    /// An editor on a new draft.
    pub fn open(start: Start, session: &impl Shown) -> Editor {
        let (draft, origin) = match start {
            Start::Current => (
                session.saved_scenario().compacted(),
                Origin::Current {
                    scenario: Box::new(session.scenario.clone()),
                    log: session.log().to_vec(),
                },
            ),
            Start::Empty => (Scenario::empty(), Origin::Empty),
            Start::Example(i) => {
                let read = EXAMPLES
                    .get(i)
                    .and_then(|(_, text)| Scenario::from_toml(text).ok());
                match read {
                    Some(s) => (s.compacted(), Origin::Example(i)),
                    None => (Scenario::empty(), Origin::Empty),
                }
            }
        };
        Editor::with_draft(draft, origin)
    }

    fn with_draft(draft: Scenario, origin: Origin) -> Editor {
        let mut e = Editor {
            problems: draft.problems(),
            draft,
            bad: BTreeMap::new(),
            typed: BTreeMap::new(),
            tab: Tab::Hosts,
            layer: None,
            source: None,
            dirty: false,
            confirm_cancel: false,
            note: None,
            origin,
        };
        if e.draft.hosts.is_empty() {
            e.tab = Tab::Scenario;
        }
        e
    }

    /// An editor on a draft saved earlier (autosave), as TOML.
    pub fn restore(text: &str) -> Result<Editor, ScenarioError> {
        let s = Scenario::from_toml(text)?;
        let mut e = Editor::with_draft(s.compacted(), Origin::Empty);
        e.dirty = true;
        Ok(e)
    }

    /// The draft as it stands (always a scenario; maybe one with problems).
    pub fn draft(&self) -> &Scenario {
        &self.draft
    }

    /// The draft as a file (for autosave).
    pub fn draft_toml(&self) -> Option<String> {
        self.draft.to_toml().ok()
    }

    /// How many fields are wrong (bad text, or a problem of the draft).
    pub fn error_count(&self) -> usize {
        let source = self.source.as_ref().is_some_and(|s| s.error.is_some());
        self.bad.len() + self.problems.len() + usize::from(source)
    }

    /// The error shown at a field: its own text's, else the draft's.
    pub fn error_at(&self, place: &Place) -> Option<&str> {
        self.bad.get(place).map(|b| b.message.as_str()).or_else(|| {
            self.problems
                .iter()
                .find(|p| &p.place == place)
                .map(|p| p.message.as_str())
        })
    }

    /// The text a field shows: what the user typed if it does not make a
    /// value, else `value`.
    fn shown(&self, place: &Place, value: String) -> String {
        match (self.bad.get(place), self.typed.get(place)) {
            (Some(b), _) => b.text.clone(),
            (None, Some(t)) => t.clone(),
            (None, None) => value,
        }
    }

    /// Applies one change.
    pub fn edit(&mut self, edit: Edit) {
        self.note = None;
        match edit {
            Edit::Tab(t) => {
                self.tab = t;
                if t != Tab::Source {
                    self.source = None;
                }
                self.confirm_cancel = false;
            }
            Edit::Layer(l) => {
                self.layer = l.filter(|&k| k < self.draft.hosts.len());
                self.tab = Tab::Settings;
                self.source = None;
            }
            Edit::Set(place, text) => {
                let before = self.draft.clone();
                match self.set(&place, &text) {
                    Ok(()) => {
                        self.bad.remove(&place);
                        if place.key == "action" {
                            // Another action has other fields.
                            self.typed.retain(|p, _| p.element != place.element);
                            self.bad.retain(|p, _| p.element != place.element);
                        } else {
                            self.typed.insert(place, text);
                        }
                    }
                    Err(message) => {
                        self.draft = before;
                        self.bad.insert(place, Bad { text, message });
                    }
                }
                self.changed();
            }
            Edit::Add(what) => {
                self.add(what);
                self.changed();
            }
            Edit::Remove(element) => {
                self.remove(&element);
                self.changed();
            }
            Edit::Source(text) => {
                let error = match Scenario::from_toml(&text) {
                    Ok(s) => {
                        self.draft = s.compacted();
                        self.bad.clear();
                        self.typed.clear();
                        self.layer = self.layer.filter(|&k| k < self.draft.hosts.len());
                        None
                    }
                    Err(e) => Some(e),
                };
                self.source = Some(SourceText { text, error });
                self.changed();
            }
            Edit::AskCancel => self.confirm_cancel = true,
            Edit::KeepEditing => self.confirm_cancel = false,
            Edit::DismissNote => {}
        }
    }

    fn changed(&mut self) {
        self.problems = self.draft.problems();
        self.dirty = true;
        self.confirm_cancel = false;
    }

    /// The Source tab's text: as typed, or the draft written out.
    pub fn source_text(&self) -> String {
        match &self.source {
            Some(s) => s.text.clone(),
            None => self.draft.to_toml().unwrap_or_else(|e| format!("# {e}\n")),
        }
    }

    /// The Source tab's error, if its text does not read.
    pub fn source_error(&self) -> Option<&ScenarioError> {
        self.source.as_ref().and_then(|s| s.error.as_ref())
    }

    /// What Apply runs: the draft, with the interventions the user made on
    /// the page while editing added as "by you" events (those that still
    /// fit it). `Err` says why it cannot run yet.
    pub fn applied(&self, session: &impl Shown) -> Result<Applied, String> {
        match self.error_count() {
            0 => {}
            1 => return Err("1 field is wrong; fix it first".into()),
            n => return Err(format!("{n} fields are wrong; fix them first")),
        }
        let mut scenario = self.draft.clone();
        let mut dropped = 0;
        if let Origin::Current { scenario: was, log } = &self.origin
            && **was == session.scenario
            && session.log().starts_with(log)
        {
            for (t, a) in &session.log()[log.len()..] {
                let mut with = scenario.clone();
                with.timeline.push(TimelineEvent::of(Dur(*t), a, true));
                if with.problems().is_empty() {
                    scenario = with;
                } else {
                    dropped += 1;
                }
            }
        }
        let text = scenario.to_toml()?;
        // The text is what runs (and what a share link carries), so it is
        // read back as any file is.
        let scenario = Scenario::from_toml(&text).map_err(|e| e.to_string())?;
        let kept = scenario
            .timeline
            .iter()
            .filter(|e| e.user == Some(true))
            .count();
        Ok(Applied {
            scenario,
            text,
            kept,
            dropped,
        })
    }

    // --- setting one field ---

    fn set(&mut self, place: &Place, text: &str) -> Result<(), String> {
        let key = place.key.as_str();
        match place.element {
            Element::Scenario => self.set_top(key, text),
            Element::Host(k) => {
                let h = self.draft.hosts.get(k).ok_or("no such host")?;
                let (old, counted) = (h.id.clone(), h.count.is_some());
                let new: HostSpec = set_field(h, key, text)?;
                if key == "id" {
                    self.check_id(&new.id, &old)?;
                    names::rename_host(&mut self.draft, &old, &new.id, counted);
                }
                self.draft.hosts[k] = new;
                Ok(())
            }
            Element::Interface(k, j) => {
                let h = self.draft.hosts.get(k).ok_or("no such host")?;
                let i = h.interfaces.get(j).ok_or("no such interface")?;
                let new: InterfaceSpec = set_field(i, key, text)?;
                if key == "name" {
                    if new.name.is_empty() {
                        return Err("an interface needs a name".into());
                    }
                    if h.interfaces
                        .iter()
                        .any(|o| o.name == new.name && o.name != i.name)
                    {
                        return Err(format!("{} has an interface {:?} already", h.id, new.name));
                    }
                    let (host, old) = (h.id.clone(), i.name.clone());
                    names::rename_interface(&mut self.draft, &host, &old, &new.name);
                }
                self.draft.hosts[k].interfaces[j] = new;
                Ok(())
            }
            Element::Link(k) => {
                let l = self.draft.links.get(k).ok_or("no such link")?;
                let old = l.id.clone();
                let new: LinkSpec = set_field(l, key, text)?;
                if key == "id" {
                    self.check_id(&new.id, &old)?;
                    names::rename_link(&mut self.draft, &old, &new.id);
                }
                self.draft.links[k] = new;
                Ok(())
            }
            Element::Nat(k) => {
                let n = self.draft.nats.get(k).ok_or("no such NAT")?;
                let old = n.id.clone();
                let new: NatSpec = set_field(n, key, text)?;
                if key == "id" {
                    self.check_id(&new.id, &old)?;
                    names::rename_nat(&mut self.draft, &old, &new.id);
                }
                self.draft.nats[k] = new;
                Ok(())
            }
            Element::Event(k) => {
                let e = self.draft.timeline.get(k).ok_or("no such event")?;
                let new = match key {
                    "action" => names::with_action(e, text, &self.draft)?,
                    "subject" => names::with_target(e, text)?,
                    "onto" => names::with_onto(e, text)?,
                    _ => set_field(e, key, text)?,
                };
                self.draft.timeline[k] = new;
                Ok(())
            }
            Element::Ping => {
                let p = self.draft.ping.as_ref().ok_or("no ping traffic")?;
                self.draft.ping = Some(set_field::<PingSpec>(p, key, text)?);
                Ok(())
            }
            Element::Settings(layer) => self.set_setting(layer, key, text),
            Element::Step(_) => Err("narration steps are edited in the Source tab".into()),
        }
    }

    /// A new id must be given and not be any other host's, link's or NAT's.
    fn check_id(&self, new: &str, old: &str) -> Result<(), String> {
        if new.trim().is_empty() {
            return Err("an id is required".into());
        }
        if new != old && names::ids(&self.draft).any(|id| id == new) {
            return Err(format!("id {new:?} is used already; ids must be unique"));
        }
        Ok(())
    }

    fn set_top(&mut self, key: &str, text: &str) -> Result<(), String> {
        let s = &mut self.draft;
        match key {
            "title" => s.title = text.to_string(),
            "description" => s.description = text.to_string(),
            "seed" => s.seed = read(literal(text))?,
            "until" => s.until = read(toml::Value::String(text.trim().into()))?,
            "internet[0]" | "internet[1]" => {
                let v: f64 = read(literal(text))?;
                s.internet.pos[usize::from(key == "internet[1]")] = v;
            }
            _ => return Err(format!("unknown field {key:?}")),
        }
        Ok(())
    }

    fn set_setting(&mut self, layer: Option<usize>, key: &str, text: &str) -> Result<(), String> {
        let shape = setting_fields()
            .into_iter()
            .find(|f| f.key == key)
            .map_or(Shape::Text, |f| f.shape);
        let mut table = match layer {
            None => self.draft.settings.clone(),
            Some(k) => {
                let h = self.draft.hosts.get(k).ok_or("no such host")?;
                h.settings.clone().unwrap_or_default()
            }
        };
        match value_of(&shape, text, true) {
            Some(v) => table.set(key, v),
            None => {
                table.0.remove(key);
            }
        }
        // Checked as the reader checks a layer: over the preset, and (for
        // a host) over `[settings]`.
        let checked = match layer {
            None => resolve(&table, None),
            Some(_) => resolve(&self.draft.settings, Some(&table)),
        };
        if let Err(e) = checked
            && (e.key.as_deref() == Some(key) || e.key.is_none())
        {
            return Err(e.message);
        }
        match layer {
            None => self.draft.settings = table,
            Some(k) => {
                self.draft.hosts[k].settings = (!table.0.is_empty()).then_some(table);
            }
        }
        Ok(())
    }

    // --- adding and removing ---

    fn add(&mut self, what: Add) {
        let s = &mut self.draft;
        match what {
            Add::Initiator | Add::Responder | Add::Cluster | Add::Group => {
                let host = names::new_host(s, what);
                let k = s.hosts.len();
                s.hosts.push(host);
                self.tab = Tab::Hosts;
                self.note = Some(format!(
                    "Added {} with a link of its own; rename or re-point them as you like",
                    s.hosts[k].id
                ));
            }
            Add::Interface(k) => {
                if k < s.hosts.len() {
                    let iface = names::new_interface(s, k);
                    s.hosts[k].interfaces.push(iface);
                }
            }
            Add::Link => {
                let id = names::fresh_id(s, "link");
                s.links.push(LinkSpec {
                    id,
                    label: String::new(),
                    delay: Dur(10_000),
                    jitter: Dur(0),
                    loss: 0.0,
                    duplicate: 0.0,
                    up: true,
                });
            }
            Add::Nat => {
                let nat = names::new_nat(s);
                s.nats.push(nat);
            }
            Add::Event => {
                let e = names::new_event(s);
                s.timeline.push(e);
            }
            Add::Ping => {
                if s.ping.is_none() {
                    let from = s.hosts.iter().find(|h| h.role == Role::Initiator);
                    let to = s.hosts.iter().find(|h| h.role == Role::Responder);
                    s.ping = Some(PingSpec {
                        from: from.map_or("*".into(), |h| h.id.clone()),
                        to: to.map_or(String::new(), |h| h.id.clone()),
                        interval: Dur(1_000_000),
                        start: Dur(1_000_000),
                    });
                }
            }
        }
    }

    fn remove(&mut self, element: &Element) {
        let removed = names::remove(&mut self.draft, element);
        self.typed.clear();
        // Fields of what is gone go; those after it in its list move up.
        let bad = std::mem::take(&mut self.bad);
        self.bad = bad
            .into_iter()
            .filter_map(|(p, b)| {
                let element = shift(&p.element, element)?;
                Some((Place { element, ..p }, b))
            })
            .collect();
        if let Element::Host(k) = element {
            self.layer = match self.layer {
                Some(l) if l == *k => None,
                Some(l) if l > *k => Some(l - 1),
                l => l,
            };
        }
        if removed > 0 {
            self.note = Some(match removed {
                1 => "Removed 1 event that named it, too".into(),
                n => format!("Removed {n} events that named it, too"),
            });
        }
    }
}

/// Where a field of `e` is once `removed` is gone; `None` if it went too.
fn shift(e: &Element, removed: &Element) -> Option<Element> {
    let down = |i: usize, r: usize| -> Option<usize> {
        match i.cmp(&r) {
            std::cmp::Ordering::Less => Some(i),
            std::cmp::Ordering::Equal => None,
            std::cmp::Ordering::Greater => Some(i - 1),
        }
    };
    Some(match (e, removed) {
        (Element::Host(i), Element::Host(r)) => Element::Host(down(*i, *r)?),
        (Element::Interface(h, i), Element::Host(r)) => Element::Interface(down(*h, *r)?, *i),
        (Element::Settings(Some(h)), Element::Host(r)) => Element::Settings(Some(down(*h, *r)?)),
        (Element::Interface(h, i), Element::Interface(rh, ri)) if h == rh => {
            Element::Interface(*h, down(*i, *ri)?)
        }
        (Element::Link(i), Element::Link(r)) => Element::Link(down(*i, *r)?),
        (Element::Nat(i), Element::Nat(r)) => Element::Nat(down(*i, *r)?),
        // Removing an element can remove events too: their fields go.
        (Element::Event(_), Element::Host(_) | Element::Interface(..))
        | (Element::Event(_), Element::Link(_) | Element::Nat(_)) => return None,
        (Element::Event(i), Element::Event(r)) => Element::Event(down(*i, *r)?),
        (Element::Ping, Element::Ping) => return None,
        (other, _) => other.clone(),
    })
}

// --- values through the reader's own types ---

/// `item` with field `key` set from `text`, read back through `T`'s serde
/// impl as the file reader reads it. `key` may name one number of a pair
/// (`pos[0]`, `port_range[1]`).
pub(crate) fn set_field<T: Serialize + DeserializeOwned>(
    item: &T,
    key: &str,
    text: &str,
) -> Result<T, String> {
    let mut table = to_table(item)?;
    if let Some((name, index)) = split_index(key) {
        if text.trim().is_empty() {
            if name == "pos" {
                return Err("a position needs both numbers".into());
            }
            table.remove(name);
        } else {
            let mut pair = match table.get(name) {
                Some(toml::Value::Array(a)) if a.len() == 2 => a.clone(),
                _ => default_pair(name),
            };
            pair[index] = literal(text);
            table.insert(name.to_string(), toml::Value::Array(pair));
        }
    } else {
        let shape = fields_of::<T>()
            .into_iter()
            .find(|(k, _)| *k == key)
            .map(|(_, s)| s)
            .ok_or_else(|| format!("unknown field {key:?}"))?;
        let optional = matches!(shape, Shape::Optional(_));
        match value_of(&shape, text, optional) {
            Some(v) => {
                table.insert(key.to_string(), v);
            }
            None => {
                table.remove(key);
            }
        }
    }
    read(toml::Value::Table(table))
}

/// "pos[1]" → ("pos", 1).
fn split_index(key: &str) -> Option<(&str, usize)> {
    let (name, rest) = key.split_once('[')?;
    let index = rest.strip_suffix(']')?.parse().ok().filter(|&i| i < 2)?;
    Some((name, index))
}

/// A pair a field of two numbers starts from.
fn default_pair(name: &str) -> Vec<toml::Value> {
    let (a, b) = match name {
        "port_range" => (1024, 65535),
        _ => (0, 0),
    };
    vec![toml::Value::Integer(a), toml::Value::Integer(b)]
}

pub(crate) fn to_table<T: Serialize>(item: &T) -> Result<toml::Table, String> {
    match toml::Value::try_from(item) {
        Ok(toml::Value::Table(t)) => Ok(t),
        Ok(_) => Err("not a table".into()),
        Err(e) => Err(e.to_string()),
    }
}

/// A value read through its serde impl, with the reader's message on one
/// line.
pub(crate) fn read<T: DeserializeOwned>(v: toml::Value) -> Result<T, String> {
    v.try_into().map_err(|e: toml::de::Error| {
        e.to_string()
            .split_whitespace()
            .collect::<Vec<_>>()
            .join(" ")
    })
}

/// What the user typed as a TOML value: a number, a bool, a string… as the
/// file would hold it if typed there; text that is no TOML value is a
/// string (so the reader says "expected u32" rather than nothing).
fn literal(text: &str) -> toml::Value {
    let t = text.trim();
    toml::from_str::<toml::Table>(&format!("v = {t}"))
        .ok()
        .filter(|table| table.len() == 1)
        .and_then(|mut table| table.remove("v"))
        .unwrap_or_else(|| toml::Value::String(t.to_string()))
}

/// The value a field of this shape gets from `text`; `None`: leave it out
/// (an empty optional field, or the field's default).
fn value_of(shape: &Shape, text: &str, optional: bool) -> Option<toml::Value> {
    let t = text.trim();
    if t.is_empty() && (optional || !matches!(shape, Shape::Text)) {
        return None;
    }
    Some(match shape {
        Shape::Optional(inner) => return value_of(inner, text, true),
        Shape::Bool | Shape::Integer | Shape::Float => literal(t),
        // Items are split at commas and spaces; an arrow keeps its two
        // sides together (a NAT's port forward, "4500 -> 10.0.0.9:4500").
        Shape::List(_) => toml::Value::Array(
            t.replace(" ->", "->")
                .replace("-> ", "->")
                .split(|c: char| c == ',' || c.is_whitespace())
                .filter(|x| !x.is_empty())
                .map(|x| toml::Value::String(x.to_string()))
                .collect(),
        ),
        _ => toml::Value::String(t.to_string()),
    })
}

/// A field's value as text for its input.
pub(crate) fn text_of(v: &toml::Value) -> String {
    match v {
        toml::Value::String(s) => s.clone(),
        toml::Value::Array(a) => a.iter().map(text_of).collect::<Vec<_>>().join(", "),
        other => other.to_string(),
    }
}

/// Addresses in the draft, each interface's (with a group's whole range)
/// and each NAT's.
pub(crate) fn used_addresses(s: &Scenario) -> Vec<IpAddr> {
    let mut out = Vec::new();
    for h in &s.hosts {
        for i in &h.interfaces {
            for k in 0..h.count.unwrap_or(1).min(5000) {
                if let Some(a) = names::offset(i.address, k) {
                    out.push(a);
                }
            }
        }
    }
    out.extend(s.nats.iter().map(|n| n.public_address));
    out.extend(s.timeline.iter().filter_map(|e| e.address));
    out
}

#[cfg(test)]
mod tests;
