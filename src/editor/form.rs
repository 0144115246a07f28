//! The editor's form as a view model: for the tab shown, cards of fields
//! (label, widget, value as text, the error at it, what applies when it is
//! left empty, the reference's words for it), the settings table, and a
//! list of every error with the tab it is in. The panels draw this and
//! nothing else.

use super::docs::help;
use super::names::{self, ACTIONS, Target};
use super::{Add, Editor, Tab, text_of, to_table};
use mobike_protocol::Role;
use mobike_sim::scenario::TimelineEvent;
use mobike_sim::vocab::settings::{preset_values, setting_fields};
use mobike_sim::vocab::shape::{Shape, choices, fields_of};
use mobike_sim::{Element, Filtering, MappingBehaviour, NatPreset, Place, Scenario, ScenarioError};

/// How a field is edited.
#[derive(Clone, Debug, PartialEq)]
pub enum Widget {
    /// One line of text; `suggestions` are offered (a datalist).
    Text {
        placeholder: String,
        suggestions: Vec<String>,
    },
    /// Several lines.
    Area,
    /// One of these (value, label); "" is "not set".
    Select(Vec<(String, String)>),
    /// On or off.
    Check,
}

/// One field of the form.
#[derive(Clone, Debug, PartialEq)]
pub struct FieldView {
    /// The element id in the page (tests and labels find it by this).
    pub id: String,
    pub place: Place,
    pub label: String,
    pub widget: Widget,
    /// The value as text ("true"/"false" for a checkbox).
    pub value: String,
    pub error: Option<String>,
    /// The reference's words for the field.
    pub help: Option<String>,
    /// What applies when the field is left empty, and where it comes from
    /// ("strongswan: 4s", "all hosts: 5s"), shown greyed.
    pub inherited: Option<String>,
    /// A short value: two such fields share a row.
    pub short: bool,
}

/// One element of a list: a host, an interface, a link, a NAT, an event.
#[derive(Clone, Debug, PartialEq)]
pub struct CardView {
    pub element: Element,
    pub id: String,
    pub title: String,
    /// "initiator", "group of 10", "by you".
    pub badge: Option<String>,
    /// One line about it: a NAT's behaviour, who uses a link.
    pub summary: Option<String>,
    pub fields: Vec<FieldView>,
    /// A host's interfaces.
    pub children: Vec<CardView>,
    /// A button that adds a child (a host's "+ interface").
    pub add_child: Option<(Add, String)>,
    /// A host entry's own settings: how many, to open them.
    pub settings: Option<(usize, usize)>,
}

/// The settings tab: which layer is shown and every setting in it.
#[derive(Clone, Debug, PartialEq)]
pub struct SettingsView {
    /// (layer, name, how many settings it sets itself).
    pub layers: Vec<(Option<usize>, String, usize)>,
    pub layer: Option<usize>,
    pub rows: Vec<FieldView>,
}

/// One error of the draft, wherever it is.
#[derive(Clone, Debug, PartialEq)]
pub struct ErrorItem {
    pub tab: Tab,
    /// "link wifi · loss".
    pub place: String,
    pub message: String,
}

/// The whole form.
#[derive(Clone, Debug, PartialEq)]
pub struct FormView {
    pub tab: Tab,
    /// Every tab with how many errors it holds.
    pub tabs: Vec<(Tab, usize)>,
    /// The add buttons of this tab.
    pub adds: Vec<(Add, &'static str)>,
    pub cards: Vec<CardView>,
    pub settings: Option<SettingsView>,
    /// The Source tab's text and its error.
    pub source: Option<(String, Option<ScenarioError>)>,
    pub errors: Vec<ErrorItem>,
    /// What the form does not show (expectations, narration).
    pub kept: Option<String>,
}

/// The page id of a field.
pub fn dom_id(place: &Place) -> String {
    let key: String = place
        .key
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '_' {
                c
            } else {
                '-'
            }
        })
        .collect();
    let key = key.trim_end_matches('-');
    format!("{}-{key}", element_id(&place.element))
}

/// The page id of an element's card.
pub fn element_id(e: &Element) -> String {
    match e {
        Element::Scenario => "ed-scenario".into(),
        Element::Host(k) => format!("ed-host-{k}"),
        Element::Interface(k, j) => format!("ed-host-{k}-if-{j}"),
        Element::Link(k) => format!("ed-link-{k}"),
        Element::Nat(k) => format!("ed-nat-{k}"),
        Element::Event(k) => format!("ed-event-{k}"),
        Element::Step(k) => format!("ed-step-{k}"),
        Element::Ping => "ed-ping".into(),
        Element::Settings(None) => "ed-set-all".into(),
        Element::Settings(Some(k)) => format!("ed-set-{k}"),
    }
}

fn select(none: Option<&str>, names: &[&str]) -> Widget {
    let mut options: Vec<(String, String)> = Vec::new();
    if let Some(label) = none {
        options.push((String::new(), label.to_string()));
    }
    options.extend(names.iter().map(|n| (n.to_string(), n.replace('_', " "))));
    Widget::Select(options)
}

fn text(placeholder: &str) -> Widget {
    Widget::Text {
        placeholder: placeholder.to_string(),
        suggestions: Vec::new(),
    }
}

/// A yes/no that may be left to the preset.
fn tri(none: &str) -> Widget {
    Widget::Select(vec![
        (String::new(), none.to_string()),
        ("true".into(), "yes".into()),
        ("false".into(), "no".into()),
    ])
}

/// Builds the fields of one element from its table.
struct Fields<'a> {
    editor: &'a Editor,
    element: Element,
    table: toml::Table,
    section: &'static str,
    out: Vec<FieldView>,
}

impl<'a> Fields<'a> {
    fn new<T: serde::Serialize>(
        editor: &'a Editor,
        element: Element,
        item: &T,
        section: &'static str,
    ) -> Fields<'a> {
        Fields {
            editor,
            element,
            table: to_table(item).unwrap_or_default(),
            section,
            out: Vec::new(),
        }
    }

    /// The value of `key` ("name[i]": one of a pair) as text.
    fn value(&self, key: &str) -> String {
        if let Some((name, rest)) = key.split_once('[') {
            let i: usize = rest.trim_end_matches(']').parse().unwrap_or(0);
            return match self.table.get(name) {
                Some(toml::Value::Array(a)) => a.get(i).map(text_of).unwrap_or_default(),
                _ => String::new(),
            };
        }
        self.table.get(key).map(text_of).unwrap_or_default()
    }

    fn add(&mut self, key: &str, label: &str, widget: Widget) -> &mut FieldView {
        let place = Place::new(self.element.clone(), key);
        let value = self.editor.shown(&place, self.value(key));
        let doc_key = key.split('[').next().unwrap_or(key);
        let short = matches!(widget, Widget::Check)
            || key.contains('[')
            || matches!(&widget, Widget::Text { .. } if !["description", "title", "forward"].contains(&key));
        self.out.push(FieldView {
            id: dom_id(&place),
            error: self.editor.error_at(&place).map(str::to_string),
            help: help(self.section, doc_key).map(str::to_string),
            place,
            label: label.to_string(),
            widget,
            value,
            inherited: None,
            short,
        });
        let last = self.out.len() - 1;
        &mut self.out[last]
    }
}

/// The shape of a field of the event type.
fn event_shape(key: &str) -> Shape {
    let shape = fields_of::<TimelineEvent>()
        .into_iter()
        .find(|(k, _)| *k == key)
        .map_or(Shape::Text, |(_, s)| s);
    match shape {
        Shape::Optional(inner) => *inner,
        s => s,
    }
}

impl Editor {
    /// The form for the tab shown.
    pub fn form(&self) -> FormView {
        let s = &self.draft;
        let errors = self.errors();
        let tabs = Tab::ALL
            .iter()
            .map(|&t| (t, errors.iter().filter(|e| e.tab == t).count()))
            .collect();
        let mut view = FormView {
            tab: self.tab,
            tabs,
            adds: Vec::new(),
            cards: Vec::new(),
            settings: None,
            source: None,
            errors,
            kept: None,
        };
        match self.tab {
            Tab::Scenario => {
                view.cards.push(self.scenario_card());
                match &s.ping {
                    Some(_) => view.cards.push(self.ping_card()),
                    None => view.adds.push((Add::Ping, "+ ping traffic")),
                }
                let (x, n) = (s.expectations.len(), s.steps.len());
                if x + n > 0 {
                    view.kept = Some(format!(
                        "This scenario has {x} expectation{} and {n} narration step{}; they are kept as they are (edit them in Source).",
                        if x == 1 { "" } else { "s" },
                        if n == 1 { "" } else { "s" },
                    ));
                }
            }
            Tab::Hosts => {
                view.adds = vec![
                    (Add::Initiator, "+ initiator"),
                    (Add::Responder, "+ responder"),
                    (Add::Cluster, "+ cluster"),
                    (Add::Group, "+ host group"),
                ];
                view.cards = (0..s.hosts.len()).map(|k| self.host_card(k)).collect();
            }
            Tab::Links => {
                view.adds = vec![(Add::Link, "+ link")];
                view.cards = (0..s.links.len()).map(|k| self.link_card(k)).collect();
            }
            Tab::Nats => {
                view.adds = vec![(Add::Nat, "+ NAT box")];
                view.cards = (0..s.nats.len()).map(|k| self.nat_card(k)).collect();
            }
            Tab::Timeline => {
                view.adds = vec![(Add::Event, "+ event")];
                view.cards = (0..s.timeline.len()).map(|k| self.event_card(k)).collect();
            }
            Tab::Settings => view.settings = Some(self.settings_view()),
            Tab::Source => view.source = Some((self.source_text(), self.source_error().cloned())),
        }
        view
    }

    /// What an element is called in the error list.
    fn element_name(&self, e: &Element) -> String {
        let s = &self.draft;
        let host = |k: usize| s.hosts.get(k).map_or("?".into(), |h| h.id.clone());
        match e {
            Element::Scenario => "scenario".into(),
            Element::Host(k) => format!("host {}", host(*k)),
            Element::Interface(k, j) => {
                let name = s
                    .hosts
                    .get(*k)
                    .and_then(|h| h.interfaces.get(*j))
                    .map_or("?".into(), |i| i.name.clone());
                format!("interface {}.{name}", host(*k))
            }
            Element::Link(k) => format!("link {}", s.links.get(*k).map_or("?", |l| l.id.as_str())),
            Element::Nat(k) => format!("NAT {}", s.nats.get(*k).map_or("?", |n| n.id.as_str())),
            Element::Event(k) => format!(
                "event {} at {}",
                k + 1,
                s.timeline
                    .get(*k)
                    .map_or(String::new(), |e| e.at.to_string())
            ),
            Element::Step(k) => format!("step {}", k + 1),
            Element::Ping => "ping".into(),
            Element::Settings(None) => "settings of all hosts".into(),
            Element::Settings(Some(k)) => format!("settings of {}", host(*k)),
        }
    }

    fn errors(&self) -> Vec<ErrorItem> {
        let item = |p: &Place, message: &str| ErrorItem {
            tab: Tab::of(&p.element),
            place: match p.key.as_str() {
                "" => self.element_name(&p.element),
                k => format!("{} · {k}", self.element_name(&p.element)),
            },
            message: message.to_string(),
        };
        let mut out: Vec<ErrorItem> = self.bad.iter().map(|(p, b)| item(p, &b.message)).collect();
        out.extend(
            self.problems
                .iter()
                .filter(|p| !self.bad.contains_key(&p.place))
                .map(|p| item(&p.place, &p.message)),
        );
        if let Some(e) = self.source_error() {
            out.push(ErrorItem {
                tab: Tab::Source,
                place: "source".into(),
                message: e.to_string(),
            });
        }
        out
    }

    fn scenario_card(&self) -> CardView {
        let s = &self.draft;
        let mut f = Fields::new(self, Element::Scenario, &(), "Top level");
        f.table = toml::Table::new();
        let put = |t: &mut toml::Table, k: &str, v: toml::Value| {
            t.insert(k.into(), v);
        };
        put(&mut f.table, "title", toml::Value::String(s.title.clone()));
        put(
            &mut f.table,
            "description",
            toml::Value::String(s.description.clone()),
        );
        put(&mut f.table, "seed", toml::Value::Integer(s.seed as i64));
        put(
            &mut f.table,
            "until",
            toml::Value::String(s.until.to_string()),
        );
        put(
            &mut f.table,
            "internet",
            toml::Value::Array(
                s.internet
                    .pos
                    .iter()
                    .map(|&x| toml::Value::Float(x))
                    .collect(),
            ),
        );
        f.add("title", "Title", text(""));
        f.add("description", "Description", Widget::Area);
        f.add("seed", "Seed", text("0"));
        f.add("until", "Runs until", text("60s"));
        f.add("internet[0]", "Internet x", text(""));
        f.add("internet[1]", "Internet y", text(""));
        CardView {
            element: Element::Scenario,
            id: element_id(&Element::Scenario),
            title: "Scenario".into(),
            badge: None,
            summary: None,
            fields: f.out,
            children: Vec::new(),
            add_child: None,
            settings: None,
        }
    }

    fn ping_card(&self) -> CardView {
        let s = &self.draft;
        let mut f = Fields::new(self, Element::Ping, &s.ping, "[ping]");
        let mut from = vec![("*".to_string(), "every initiator".to_string())];
        from.extend(s.hosts.iter().map(|h| (h.id.clone(), h.name().to_string())));
        let to: Vec<(String, String)> = s
            .hosts
            .iter()
            .map(|h| (h.id.clone(), h.name().to_string()))
            .collect();
        f.add("from", "From", Widget::Select(keep(from, &f.value("from"))));
        f.add("to", "To", Widget::Select(keep(to, &f.value("to"))));
        f.add("interval", "Interval", text("1s"));
        f.add("start", "First at", text("1s"));
        card(
            Element::Ping,
            "Ping traffic through the tunnel".into(),
            f.out,
        )
    }

    fn host_card(&self, k: usize) -> CardView {
        let s = &self.draft;
        let h = &s.hosts[k];
        let mut f = Fields::new(self, Element::Host(k), h, "[[host]]");
        f.add("id", "Id", text(""));
        f.add("label", "Label", text(&h.id));
        f.add("role", "Role", select(None, choices::<Role>()));
        if h.role == Role::Initiator {
            let responders: Vec<String> = s
                .hosts
                .iter()
                .filter(|o| o.role == Role::Responder)
                .flat_map(|o| o.interfaces.iter().map(|i| i.address.to_string()))
                .collect();
            f.add(
                "peer",
                "Peer (responder address)",
                Widget::Text {
                    placeholder: "203.0.113.10".into(),
                    suggestions: responders.clone(),
                },
            );
            f.add(
                "fallback_peers",
                "Fallback peers",
                Widget::Text {
                    placeholder: "none".into(),
                    suggestions: responders,
                },
            );
            f.add("start_at", "Starts at", text("0s"));
        }
        f.add(
            "identity",
            "Identity (FQDN)",
            text(&format!("{}.example", h.id)),
        );
        f.add("peer_identity", "The peer must be", text("any identity"));
        let inner = match h.role {
            Role::Initiator => "10.99.0.x",
            Role::Responder => "10.1.0.1",
        };
        f.add("inner_address", "Tunnel address", text(inner));
        f.add("count", "Count (a group)", text("one host"));
        f.add("attacker", "An on-path attacker", Widget::Check);
        f.add("pos[0]", "x", text(""));
        f.add("pos[1]", "y", text(""));
        let children = (0..h.interfaces.len())
            .map(|j| self.interface_card(k, j))
            .collect();
        let own = h.settings.as_ref().map_or(0, |l| l.0.len());
        let badge = match (h.count, h.role) {
            (Some(n), _) => format!("group of {n}"),
            (None, Role::Initiator) => "initiator".into(),
            (None, Role::Responder) if h.interfaces.len() > 1 => "responder, multihomed".into(),
            (None, Role::Responder) => "responder".into(),
        };
        let mut c = card(Element::Host(k), h.name().to_string(), f.out);
        c.badge = Some(badge);
        c.children = children;
        c.add_child = Some((Add::Interface(k), "+ interface".into()));
        c.settings = Some((k, own));
        if let Some(e) = self.error_at(&Place::new(Element::Host(k), "interface")) {
            c.summary = Some(e.to_string());
        }
        c
    }

    fn interface_card(&self, k: usize, j: usize) -> CardView {
        let s = &self.draft;
        let i = &s.hosts[k].interfaces[j];
        let mut f = Fields::new(self, Element::Interface(k, j), i, "[[host]]");
        let links: Vec<(String, String)> = s
            .links
            .iter()
            .map(|l| (l.id.clone(), l.name().to_string()))
            .collect();
        f.add("name", "Name", text("eth0"));
        f.add("label", "Label", text(&i.name));
        f.add("address", "Address", text("192.0.2.10"));
        f.add("link", "Link", Widget::Select(keep(links, &i.link)));
        f.add("up", "Up", Widget::Check);
        for field in &mut f.out {
            field.help = None;
        }
        let mut c = card(
            Element::Interface(k, j),
            format!("{}.{}", s.hosts[k].id, i.name),
            f.out,
        );
        c.badge = (j == 0).then(|| "preferred".to_string());
        c
    }

    fn link_card(&self, k: usize) -> CardView {
        let s = &self.draft;
        let l = &s.links[k];
        let mut f = Fields::new(self, Element::Link(k), l, "[[link]]");
        f.add("id", "Id", text(""));
        f.add("label", "Label", text(&l.id));
        f.add("delay", "Delay", text("10ms"));
        f.add("jitter", "Jitter", text("0s"));
        f.add("loss", "Loss (0–1)", text("0.0"));
        f.add("duplicate", "Duplicate (0–1)", text("0.0"));
        f.add("up", "Up at the start", Widget::Check);
        let users: Vec<String> = s
            .hosts
            .iter()
            .flat_map(|h| {
                h.interfaces
                    .iter()
                    .filter(|i| i.link == l.id)
                    .map(move |i| format!("{}.{}", h.id, i.name))
            })
            .chain(
                s.nats
                    .iter()
                    .filter(|n| n.link.as_deref() == Some(l.id.as_str()))
                    .map(|n| format!("NAT {}", n.id)),
            )
            .collect();
        let mut c = card(Element::Link(k), l.name().to_string(), f.out);
        c.summary = Some(match users.len() {
            0 => "no interface uses it yet".into(),
            _ => format!("used by {}", users.join(", ")),
        });
        c
    }

    fn nat_card(&self, k: usize) -> CardView {
        let s = &self.draft;
        let n = &s.nats[k];
        let mut f = Fields::new(self, Element::Nat(k), n, "[[nat]]");
        let mut links = vec![(String::new(), "(in no path)".to_string())];
        links.extend(s.links.iter().map(|l| (l.id.clone(), l.name().to_string())));
        let base = mobike_sim::NatBehaviour::default();
        let from_preset = n.preset.map_or(base, |p| {
            mobike_sim::vocab::nat::NatChanges {
                preset: Some(p),
                ..Default::default()
            }
            .over(base)
        });
        let yes = |b: bool| if b { "yes" } else { "no" };
        f.add("id", "Id", text(""));
        f.add("label", "Label", text(&n.id));
        f.add("public_address", "Public address", text("198.51.100.1"));
        let current = n.link.clone().unwrap_or_default();
        f.add("link", "On link", Widget::Select(keep(links, &current)));
        f.add(
            "preset",
            "Preset",
            select(Some("none"), choices::<NatPreset>()),
        );
        f.add(
            "mapping",
            "Mapping",
            select(
                Some(&format!("preset's ({})", from_preset.mapping.short())),
                choices::<MappingBehaviour>(),
            ),
        );
        f.add(
            "filtering",
            "Filtering",
            select(
                Some(&format!("preset's ({})", from_preset.filtering.short())),
                choices::<Filtering>(),
            ),
        );
        f.add(
            "mapping_timeout",
            "Mapping timeout",
            text(&mobike_sim::duration::Dur(from_preset.timeout).to_string()),
        );
        f.add(
            "inbound_refresh",
            "Inbound refresh",
            tri(&format!("preset's ({})", yes(from_preset.inbound_refresh))),
        );
        f.add(
            "port_preservation",
            "Port preservation",
            tri(&format!(
                "preset's ({})",
                yes(from_preset.port_preservation)
            )),
        );
        f.add(
            "hairpinning",
            "Hairpinning",
            tri(&format!("preset's ({})", yes(from_preset.hairpinning))),
        );
        f.add(
            "port_range[0]",
            "Ports from",
            text(&from_preset.port_range.0.to_string()),
        );
        f.add(
            "port_range[1]",
            "Ports to",
            text(&from_preset.port_range.1.to_string()),
        );
        f.add("forward", "Port forwards", text("4500->192.168.1.10:4500"));
        f.add("pos[0]", "x", text(""));
        f.add("pos[1]", "y", text(""));
        let mut c = card(Element::Nat(k), n.name().to_string(), f.out);
        c.summary = Some(format!("RFC 4787: {}", n.behaviour()));
        c
    }

    fn event_card(&self, k: usize) -> CardView {
        let s = &self.draft;
        let e = &s.timeline[k];
        let mut f = Fields::new(self, Element::Event(k), e, "[[event]]");
        let info = names::action_of(e);
        f.add("at", "At", text("10s"));
        let actions: Vec<(String, String)> = ACTIONS
            .iter()
            .map(|a| (a.key.to_string(), a.label.to_string()))
            .collect();
        let key = info.map_or(String::new(), |a| a.key.to_string());
        let action = f.add("action", "Action", Widget::Select(keep(actions, &key)));
        action.value = key;
        action.help = info
            .and_then(|a| help("[[event]]", a.key))
            .map(str::to_string);
        let subject = names::target_of(e);
        let hosts = |role: Option<Role>| -> Vec<(String, String)> {
            s.hosts
                .iter()
                .filter(|h| role.is_none_or(|r| h.role == r))
                .map(|h| (h.id.clone(), h.name().to_string()))
                .collect()
        };
        if let Some(info) = info {
            let options: Vec<(String, String)> = match info.target {
                Target::Link => s
                    .links
                    .iter()
                    .map(|l| (l.id.clone(), l.name().to_string()))
                    .collect(),
                Target::Interface => names::interface_names(s)
                    .into_iter()
                    .map(|n| (n.clone(), n))
                    .collect(),
                Target::Nat | Target::NatAt => s
                    .nats
                    .iter()
                    .map(|n| (n.id.clone(), n.name().to_string()))
                    .collect(),
                Target::Responder => hosts(Some(Role::Responder)),
                Target::Host => hosts(None),
                Target::Hint => choices::<mobike_sim::HintKind>()
                    .iter()
                    .map(|n| (n.to_string(), n.replace('_', " ")))
                    .collect(),
            };
            let label = match info.target {
                Target::Link => "Link",
                Target::Interface => "Interface",
                Target::Nat | Target::NatAt => "NAT",
                Target::Responder => "Cluster (responder)",
                Target::Host => "Attacker",
                Target::Hint => "Hint",
            };
            let field = f.add("subject", label, Widget::Select(keep(options, &subject)));
            field.value = subject;
            if info.target == Target::NatAt {
                let mut links = vec![(String::new(), "(out of every path)".to_string())];
                links.extend(s.links.iter().map(|l| (l.id.clone(), l.name().to_string())));
                let onto = names::onto_of(e);
                let field = f.add("onto", "Onto link", Widget::Select(keep(links, &onto)));
                field.value = onto;
            }
            for &m in info.modifiers {
                let shape = event_shape(m);
                let (label, widget) = match (m, &shape) {
                    ("direction", Shape::Choice(names)) => {
                        ("Direction", select(Some("both ways"), names))
                    }
                    ("host", _) => (
                        "To host",
                        Widget::Select(keep(hosts(None), &f.value("host"))),
                    ),
                    ("target", _) => (
                        "Target (responder)",
                        Widget::Select(keep(hosts(Some(Role::Responder)), &f.value("target"))),
                    ),
                    ("announce", _) => ("Announced", tri("yes (default)")),
                    ("replay", _) => ("Replay a real update", tri("no (default)")),
                    ("by", Shape::Choice(names)) => ("By", select(Some("mobike (default)"), names)),
                    ("count", _) => ("How many", text("all")),
                    ("from", _) => ("Only those on", text("any address")),
                    ("to", _) => ("To address", text("")),
                    ("address", _) => ("Address", text("")),
                    ("prefix", _) => ("Destinations (prefix)", text("203.0.113.0/24")),
                    (m, Shape::Choice(names)) => (m, select(Some("unchanged"), names)),
                    (m, Shape::Bool) => (m, tri("unchanged")),
                    ("port_range", _) => continue,
                    (m, _) => (m, text("unchanged")),
                };
                f.add(m, &label.replace('_', " "), widget);
            }
            if info.modifiers.contains(&"port_range") {
                f.add("port_range[0]", "ports from", text("unchanged"));
                f.add("port_range[1]", "ports to", text("unchanged"));
            }
        }
        // The event's every error is at its action.
        for field in &mut f.out {
            if field.place.key != "action" && field.place.key != "at" {
                field.error = self.bad.get(&field.place).map(|b| b.message.clone());
            }
        }
        let title = info.map_or("event".to_string(), |a| {
            let subject = names::target_of(e);
            format!("{} {}", a.key.replace('_', " "), subject)
        });
        let mut c = card(Element::Event(k), format!("{} · {title}", e.at), f.out);
        c.badge = (e.user == Some(true)).then(|| "by you".to_string());
        c
    }

    fn settings_view(&self) -> SettingsView {
        let s = &self.draft;
        let mut layers = vec![(None, "All hosts".to_string(), s.settings.0.len())];
        layers.extend(s.hosts.iter().enumerate().map(|(k, h)| {
            (
                Some(k),
                h.id.clone(),
                h.settings.as_ref().map_or(0, |l| l.0.len()),
            )
        }));
        let own = match self.layer {
            None => Some(&s.settings),
            Some(k) => s.hosts.get(k).and_then(|h| h.settings.as_ref()),
        };
        let global = &s.settings;
        let preset = own
            .and_then(|l| l.preset())
            .or(global.preset())
            .map(str::to_string);
        let base = preset_values(preset.as_deref());
        let source = preset.clone().unwrap_or_else(|| "default".into());
        let rows = setting_fields()
            .into_iter()
            .map(|field| {
                let place = Place::new(Element::Settings(self.layer), field.key);
                let value = own
                    .and_then(|l| l.0.get(field.key))
                    .map(text_of)
                    .unwrap_or_default();
                let from_global = self
                    .layer
                    .and(global.0.get(field.key))
                    .map(|v| format!("all hosts: {}", text_of(v)));
                let inherited = from_global.or_else(|| {
                    Some(match (field.key, base.get(field.key)) {
                        ("preset", _) => "none".to_string(),
                        (_, Some(v)) => format!("{source}: {}", text_of(v)),
                        (_, None) => format!("{source}: none"),
                    })
                });
                let plain = inherited
                    .as_deref()
                    .and_then(|i| i.split_once(": "))
                    .map_or(String::new(), |(_, v)| v.to_string());
                let widget = match &field.shape {
                    Shape::Bool => tri(&format!("— {plain}")),
                    Shape::Choice(names) => select(Some(&format!("— {plain}")), names),
                    _ => text(&plain),
                };
                FieldView {
                    id: dom_id(&place),
                    error: self.error_at(&place).map(str::to_string),
                    value: self.shown(&place, value),
                    help: help("[settings]", field.key).map(str::to_string),
                    label: field.key.to_string(),
                    place,
                    widget,
                    inherited,
                    short: false,
                }
            })
            .collect();
        SettingsView {
            layers,
            layer: self.layer,
            rows,
        }
    }
}

/// The options, with `current` kept as one (marked missing) when none of
/// them is it, so a dangling name shows as what it is.
fn keep(mut options: Vec<(String, String)>, current: &str) -> Vec<(String, String)> {
    if !options.iter().any(|(v, _)| v == current) {
        let label = if current.is_empty() {
            "(choose)".to_string()
        } else {
            format!("{current} (missing)")
        };
        options.insert(0, (current.to_string(), label));
    }
    options
}

fn card(element: Element, title: String, fields: Vec<FieldView>) -> CardView {
    CardView {
        id: element_id(&element),
        element,
        title,
        badge: None,
        summary: None,
        fields,
        children: Vec::new(),
        add_child: None,
        settings: None,
    }
}

/// The draft's hosts in a scenario (for tests and the heading).
pub fn host_ids(s: &Scenario) -> Vec<&str> {
    s.hosts.iter().map(|h| h.id.as_str()).collect()
}
