use super::form::{FieldView, FormView, Widget};
use super::names::ACTIONS;
use super::*;
use crate::session::{DEFAULT_SCENARIO, Session};
use mobike_protocol::SEC;
use mobike_render::ChartBuilder;
use mobike_sim::World;

fn session() -> Session {
    Session::from_toml(DEFAULT_SCENARIO).unwrap()
}

fn set(e: &mut Editor, element: Element, key: &str, text: &str) {
    e.edit(Edit::Set(Place::new(element, key), text.to_string()));
}

/// Every field of every card of the form, and the settings rows.
fn fields(form: &FormView) -> Vec<&FieldView> {
    let mut out: Vec<&FieldView> = Vec::new();
    for c in &form.cards {
        out.extend(&c.fields);
        for child in &c.children {
            out.extend(&child.fields);
        }
    }
    if let Some(s) = &form.settings {
        out.extend(&s.rows);
    }
    out
}

fn field<'a>(form: &'a FormView, id: &str) -> &'a FieldView {
    fields(form)
        .into_iter()
        .find(|f| f.id == id)
        .unwrap_or_else(|| panic!("no field {id}"))
}

/// The chart of a scenario run to `t`.
fn chart(s: &Scenario, t: Time) -> mobike_render::Chart {
    let mut w = World::new(s);
    w.run_until(t);
    let mut c = ChartBuilder::new(s);
    c.update(w.trace());
    c.chart
}

/// The wifi-to-lte example built field by field from an empty draft, as
/// the browser test does it.
fn build_wifi_to_lte() -> Editor {
    let mut e = Editor::open(Start::Empty, &session());
    use Element::*;
    set(
        &mut e,
        Scenario,
        "title",
        "Laptop roams from Wi-Fi to LTE behind a carrier NAT",
    );
    set(&mut e, Scenario, "seed", "7");
    set(&mut e, Scenario, "until", "25s");
    set(&mut e, Scenario, "internet[0]", "375");
    set(&mut e, Scenario, "internet[1]", "150");
    e.edit(Edit::Add(Add::Initiator));
    set(&mut e, Host(0), "label", "Laptop");
    set(&mut e, Host(0), "start_at", "100ms");
    set(&mut e, Host(0), "pos[1]", "160");
    set(&mut e, Interface(0, 0), "name", "wlan0");
    set(&mut e, Interface(0, 0), "label", "Wi-Fi");
    set(&mut e, Link(0), "id", "wifi");
    set(&mut e, Link(0), "label", "Wi-Fi");
    set(&mut e, Link(0), "delay", "8ms");
    e.edit(Edit::Add(Add::Interface(0)));
    set(&mut e, Interface(0, 1), "name", "wwan0");
    set(&mut e, Interface(0, 1), "label", "LTE");
    set(&mut e, Interface(0, 1), "address", "10.64.0.2");
    set(&mut e, Link(1), "id", "lte");
    set(&mut e, Link(1), "label", "LTE");
    set(&mut e, Link(1), "delay", "35ms");
    e.edit(Edit::Add(Add::Responder));
    set(&mut e, Host(1), "id", "gateway");
    set(&mut e, Host(1), "label", "VPN gateway");
    set(&mut e, Host(1), "identity", "gw.example");
    set(&mut e, Host(0), "peer_identity", "gw.example");
    set(&mut e, Link(2), "id", "uplink");
    set(&mut e, Link(2), "label", "Uplink");
    set(&mut e, Link(2), "delay", "2ms");
    set(&mut e, Host(0), "peer", "203.0.113.10");
    e.edit(Edit::Add(Add::Nat));
    set(&mut e, Nat(0), "id", "cgn");
    set(&mut e, Nat(0), "label", "Carrier NAT");
    set(&mut e, Nat(0), "link", "lte");
    set(&mut e, Settings(None), "liveness_interval", "5s");
    e.edit(Edit::Add(Add::Event));
    set(&mut e, Event(0), "at", "12s");
    set(&mut e, Event(0), "subject", "wifi");
    e.edit(Edit::Tab(Tab::Scenario));
    e.edit(Edit::Add(Add::Ping));
    e
}

#[test]
fn the_wifi_to_lte_example_built_from_an_empty_page_runs_as_the_example() {
    let e = build_wifi_to_lte();
    assert_eq!(e.error_count(), 0, "{:?}", e.form().errors);
    let applied = e.applied(&session()).unwrap();
    let mut example = Scenario::from_toml(DEFAULT_SCENARIO).unwrap();
    // Narration and expectations are not part of the forms.
    example.steps.clear();
    example.expectations.clear();
    let end = 25 * SEC;
    assert_eq!(chart(&applied.scenario, end), chart(&example, end));
    assert!(chart(&example, end).messages().count() > 20);
    // The text is what a file would hold: it reads back as the same value.
    assert_eq!(
        Scenario::from_toml(&applied.text).unwrap(),
        applied.scenario
    );
    assert_eq!(applied.kept, 0);
}

#[test]
fn a_bad_value_stays_in_its_field_with_the_readers_message_and_the_draft_keeps_the_good_one() {
    let mut e = Editor::open(Start::Current, &session());
    let before = e.draft().clone();
    set(&mut e, Element::Interface(0, 0), "address", "192.0.2.300");
    let form = {
        e.edit(Edit::Tab(Tab::Hosts));
        e.form()
    };
    let f = field(&form, "ed-host-0-if-0-address");
    assert_eq!(f.value, "192.0.2.300");
    assert!(
        f.error
            .as_deref()
            .unwrap()
            .contains("invalid IP address syntax"),
        "{f:?}"
    );
    assert_eq!(e.draft(), &before, "the draft keeps its good value");
    assert_eq!(e.error_count(), 1);
    assert!(e.applied(&session()).is_err());
    assert_eq!(
        form.tabs.iter().find(|t| t.0 == Tab::Hosts).map(|t| t.1),
        Some(1)
    );
    // A duration without unit, a count of 0, a number that is text.
    set(&mut e, Element::Link(0), "delay", "8");
    set(&mut e, Element::Host(0), "count", "0");
    set(&mut e, Element::Scenario, "seed", "seven");
    let msgs: Vec<String> = e.form().errors.iter().map(|x| x.message.clone()).collect();
    assert!(msgs.iter().any(|m| m.contains("has no unit")), "{msgs:?}");
    assert!(
        msgs.iter()
            .any(|m| m.contains("count must be between 1 and 10000")),
        "{msgs:?}"
    );
    assert!(
        msgs.iter()
            .any(|m| m.contains("invalid type: string \"seven\"")),
        "{msgs:?}"
    );
    // Fixed, it goes.
    set(&mut e, Element::Interface(0, 0), "address", "192.0.2.11");
    set(&mut e, Element::Link(0), "delay", "8ms");
    set(&mut e, Element::Host(0), "count", "");
    set(&mut e, Element::Scenario, "seed", "7");
    assert_eq!(e.error_count(), 0, "{:?}", e.form().errors);
    assert_eq!(
        e.draft().hosts[0].interfaces[0].address.to_string(),
        "192.0.2.11"
    );
}

#[test]
fn a_probability_of_two_is_an_error_at_the_links_loss() {
    let mut e = Editor::open(Start::Current, &session());
    set(&mut e, Element::Link(1), "loss", "2");
    e.edit(Edit::Tab(Tab::Links));
    let form = e.form();
    let f = field(&form, "ed-link-1-loss");
    assert!(
        f.error.as_deref().unwrap().contains("is not a probability"),
        "{f:?}"
    );
    assert_eq!(form.errors.len(), 1);
    assert_eq!(form.errors[0].place, "link lte · loss");
    assert!(e.applied(&session()).is_err());
}

#[test]
fn an_unknown_key_in_the_source_is_named_with_its_line() {
    let mut e = Editor::open(Start::Current, &session());
    let text = e
        .source_text()
        .replacen("seed = ", "colour = \"red\"\nseed = ", 1);
    e.edit(Edit::Tab(Tab::Source));
    e.edit(Edit::Source(text.clone()));
    let err = e.source_error().unwrap();
    assert!(err.message.contains("unknown field `colour`"), "{err}");
    assert_eq!(
        err.line,
        Some(text.lines().position(|l| l.starts_with("colour")).unwrap() + 1)
    );
    assert_eq!(e.error_count(), 1);
    // A good text becomes the draft.
    e.edit(Edit::Source(
        text.replace("colour = \"red\"\n", "")
            .replace("seed = 7", "seed = 9"),
    ));
    assert_eq!(e.error_count(), 0);
    assert_eq!(e.draft().seed, 9);
}

#[test]
fn settings_show_every_key_with_what_applies_and_check_values_as_the_reader_does() {
    let mut e = Editor::open(Start::Current, &session());
    e.edit(Edit::Tab(Tab::Settings));
    let form = e.form();
    let rows = &form.settings.as_ref().unwrap().rows;
    assert_eq!(rows.len(), setting_fields().len());
    let row = field(&form, "ed-set-all-liveness_interval");
    assert_eq!(row.value, "5s");
    let row = field(&form, "ed-set-all-probe_interval");
    assert_eq!(
        (row.value.as_str(), row.inherited.as_deref()),
        ("", Some("default: none"))
    );
    // A preset: what it gives shows greyed.
    set(&mut e, Element::Settings(None), "preset", "strongswan");
    let form = e.form();
    let row = field(&form, "ed-set-all-probe_interval");
    assert_eq!(row.inherited.as_deref(), Some("strongswan: 2500ms"));
    // A wrong type is the reader's error at the key, not taken.
    set(&mut e, Element::Settings(None), "retransmit_tries", "many");
    let form = e.form();
    let row = field(&form, "ed-set-all-retransmit_tries");
    assert_eq!(row.value, "many");
    assert!(
        row.error.as_deref().unwrap().contains("retransmit_tries"),
        "{row:?}"
    );
    assert_eq!(
        e.draft()
            .settings
            .0
            .get("retransmit_tries")
            .and_then(|v| v.as_integer()),
        Some(5)
    );
    // A host's own layer: the global value shows as what it inherits.
    e.edit(Edit::Layer(Some(0)));
    let form = e.form();
    let row = field(&form, "ed-set-0-liveness_interval");
    assert_eq!(row.inherited.as_deref(), Some("all hosts: 5s"));
    set(
        &mut e,
        Element::Settings(Some(0)),
        "liveness_interval",
        "30s",
    );
    set(&mut e, Element::Settings(Some(0)), "mobike", "false");
    let own = e.draft().hosts[0].settings.clone().unwrap();
    assert_eq!(
        own.0.get("liveness_interval").and_then(|v| v.as_str()),
        Some("30s")
    );
    assert_eq!(own.0.get("mobike").and_then(|v| v.as_bool()), Some(false));
    let layers = &e.form().settings.unwrap().layers;
    assert_eq!(layers[1], (Some(0), "laptop".to_string(), 2));
    // Unset again: the layer goes when empty.
    set(&mut e, Element::Settings(Some(0)), "liveness_interval", "");
    set(&mut e, Element::Settings(Some(0)), "mobike", "");
    assert_eq!(e.draft().hosts[0].settings, None);
}

#[test]
fn renaming_an_id_renames_every_mention_and_refuses_a_taken_one() {
    let mut e = Editor::open(Start::Current, &session());
    set(&mut e, Element::Link(0), "id", "wlan");
    let s = e.draft();
    assert_eq!(s.hosts[0].interfaces[0].link, "wlan");
    assert_eq!(s.timeline[0].break_link.as_deref(), Some("wlan"));
    set(&mut e, Element::Link(1), "id", "uplink");
    assert!(
        e.error_at(&Place::new(Element::Link(1), "id"))
            .unwrap()
            .contains("used already")
    );
    assert_eq!(e.draft().links[1].id, "lte");
    // The refused text stays in its field until it is put right.
    assert_eq!(e.error_count(), 1);
    set(&mut e, Element::Link(1), "id", "lte");
    set(&mut e, Element::Host(0), "id", "notebook");
    let s = e.draft();
    assert_eq!(s.ping.as_ref().unwrap().from, "notebook");
    assert!(
        s.expectations
            .iter()
            .filter_map(|x| x.host.as_deref())
            .any(|h| h == "notebook")
    );
    set(&mut e, Element::Nat(0), "id", "carrier");
    set(&mut e, Element::Interface(0, 0), "name", "wl0");
    assert_eq!(e.error_count(), 0, "{:?}", e.form().errors);
    assert!(e.applied(&session()).is_ok());
}

#[test]
fn removing_an_element_takes_the_events_that_name_it_and_says_so() {
    let mut e = Editor::open(Start::Current, &session());
    e.edit(Edit::Remove(Element::Link(0)));
    assert!(e.draft().timeline.is_empty());
    assert_eq!(
        e.note.as_deref(),
        Some("Removed 1 event that named it, too")
    );
    // The interface on it now names a link nobody defines: said at its field.
    let p = Place::new(Element::Interface(0, 0), "link");
    assert!(
        e.error_at(&p)
            .unwrap()
            .contains("which no [[link]] defines")
    );
    e.edit(Edit::Remove(Element::Interface(0, 0)));
    assert_eq!(e.error_count(), 0, "{:?}", e.form().errors);
    // The host goes with its ping and expectations.
    e.edit(Edit::Remove(Element::Host(0)));
    assert_eq!(e.draft().ping, None);
    assert!(
        e.draft()
            .expectations
            .iter()
            .all(|x| x.host.as_deref() != Some("laptop"))
    );
    // A NAT on a removed link is in no path.
    let mut e = Editor::open(Start::Current, &session());
    e.edit(Edit::Remove(Element::Link(1)));
    assert_eq!(e.draft().nats[0].link, None);
}

#[test]
fn groups_and_clusters_are_one_entry_with_free_addresses() {
    let mut e = Editor::open(Start::Empty, &session());
    e.edit(Edit::Add(Add::Cluster));
    e.edit(Edit::Add(Add::Group));
    e.edit(Edit::Add(Add::Initiator));
    let s = e.draft();
    assert_eq!(s.hosts[0].interfaces.len(), 2);
    assert_eq!(s.hosts[1].count, Some(10));
    assert_eq!(s.hosts[1].peer, Some(s.hosts[0].interfaces[0].address));
    assert_eq!(s.links.len(), 4);
    assert_eq!(e.error_count(), 0, "{:?}", e.form().errors);
    // A group's range must not overlap another address.
    set(&mut e, Element::Interface(2, 0), "address", "192.0.2.105");
    assert!(e.error_count() > 0);
    let applied = {
        set(&mut e, Element::Interface(2, 0), "address", "192.0.2.10");
        e.applied(&session()).unwrap()
    };
    assert_eq!(
        applied.scenario.hosts.len(),
        12,
        "the group is expanded when it runs"
    );
    // Renaming a group renames references to its copies.
    set(&mut e, Element::Host(1), "id", "user");
    assert_eq!(e.draft().hosts[1].id, "user");
}

#[test]
fn events_switch_actions_with_their_modifiers() {
    let mut e = Editor::open(Start::Current, &session());
    set(&mut e, Element::Event(0), "direction", "down");
    assert_eq!(e.error_count(), 0);
    set(&mut e, Element::Event(0), "action", "set_link");
    let ev = &e.draft().timeline[0];
    assert_eq!((ev.set_link.as_deref(), ev.direction), (Some("wifi"), None));
    set(&mut e, Element::Event(0), "loss", "0.5");
    assert_eq!(e.draft().timeline[0].loss, Some(0.5));
    set(&mut e, Element::Event(0), "action", "move_nat");
    set(&mut e, Element::Event(0), "onto", "wifi");
    assert_eq!(e.draft().timeline[0].move_nat.as_deref(), Some("cgn@wifi"));
    set(&mut e, Element::Event(0), "action", "add_address");
    assert!(
        e.draft().timeline[0].address.is_some(),
        "a required modifier is filled"
    );
    set(&mut e, Element::Event(0), "action", "hint");
    assert_eq!(e.draft().timeline[0].host.as_deref(), Some("laptop"));
    assert_eq!(e.error_count(), 0, "{:?}", e.form().errors);
    set(&mut e, Element::Event(0), "subject", "nat_changed");
    assert_eq!(
        e.draft().timeline[0].hint,
        Some(mobike_sim::HintKind::NatChanged)
    );
}

#[test]
fn every_field_of_the_format_has_a_place_in_the_form() {
    let mut e = Editor::open(Start::Current, &session());
    e.edit(Edit::Tab(Tab::Hosts));
    let form = e.form();
    let keys = |id: &str| -> Vec<String> {
        fields(&form)
            .into_iter()
            .filter(|f| f.id.starts_with(id) && !f.id[id.len()..].contains("-if-"))
            .map(|f| f.place.key.split('[').next().unwrap().to_string())
            .collect()
    };
    let host = keys("ed-host-0-");
    for (k, _) in fields_of::<HostSpec>() {
        // Interfaces and settings have their own cards and tab.
        if k != "interface" && k != "settings" {
            assert!(host.contains(&k.to_string()), "host field {k}");
        }
    }
    let iface = keys("ed-host-0-if-0-");
    let iface: Vec<String> = fields(&form)
        .into_iter()
        .filter(|f| f.id.starts_with("ed-host-0-if-0-"))
        .map(|f| f.place.key.clone())
        .chain(iface)
        .collect();
    for (k, _) in fields_of::<InterfaceSpec>() {
        assert!(iface.contains(&k.to_string()), "interface field {k}");
    }
    for (tab, prefix, all) in [
        (Tab::Links, "ed-link-0-", fields_of::<LinkSpec>()),
        (Tab::Nats, "ed-nat-0-", fields_of::<NatSpec>()),
        (Tab::Scenario, "ed-ping-", fields_of::<PingSpec>()),
    ] {
        e.edit(Edit::Tab(tab));
        let form = e.form();
        let shown: Vec<String> = fields(&form)
            .into_iter()
            .filter(|f| f.id.starts_with(prefix))
            .map(|f| f.place.key.split('[').next().unwrap().to_string())
            .collect();
        for (k, _) in all {
            if k == "timeout" {
                continue; // the reader's other name for mapping_timeout
            }
            assert!(shown.contains(&k.to_string()), "{prefix}{k}");
        }
    }
    // Every field of an event is its time, its action, or a modifier of one.
    for (k, _) in fields_of::<TimelineEvent>() {
        let known = k == "at"
            || k == "user"
            || ACTIONS
                .iter()
                .any(|a| a.key == k || a.modifiers.contains(&k));
        assert!(known, "event field {k} is in the timeline form");
    }
    // And every field has the reference's words.
    e.edit(Edit::Tab(Tab::Links));
    assert!(e.form().cards[0].fields.iter().all(|f| f.help.is_some()));
}

#[test]
fn apply_keeps_the_users_interventions_as_events_including_those_made_while_editing() {
    let mut s = session();
    s.advance(2 * SEC);
    s.toggle_link("lte");
    let e = Editor::open(Start::Current, &s);
    assert_eq!(
        e.draft()
            .timeline
            .iter()
            .filter(|x| x.user == Some(true))
            .count(),
        1
    );
    s.advance(SEC);
    s.toggle_link("lte");
    let applied = e.applied(&s).unwrap();
    assert_eq!((applied.kept, applied.dropped), (2, 0));
    // Run, it is the page's run.
    let t = 10 * SEC;
    s.seek(t);
    assert_eq!(&chart(&applied.scenario, t), s.chart());
    // An intervention that no longer fits the draft is left out.
    let mut e = Editor::open(Start::Current, &s);
    e.edit(Edit::Remove(Element::Link(0)));
    e.edit(Edit::Remove(Element::Interface(0, 0)));
    s.toggle_link("wifi");
    let applied = e.applied(&s).unwrap();
    assert_eq!(applied.dropped, 1);
}

#[test]
fn a_new_draft_starts_empty_or_from_an_example_and_restores_from_its_text() {
    let s = session();
    let e = Editor::open(Start::Empty, &s);
    assert!(e.draft().hosts.is_empty());
    assert_eq!(e.tab, Tab::Scenario);
    assert!(!e.dirty);
    let i = EXAMPLES
        .iter()
        .position(|(n, _)| *n == "cluster-20-mobike")
        .unwrap();
    let e = Editor::open(Start::Example(i), &s);
    assert_eq!(e.draft().hosts.len(), 2, "the group is one entry");
    assert_eq!(e.draft().hosts[0].count, Some(20));
    let back = Editor::restore(&e.draft_toml().unwrap()).unwrap();
    assert_eq!(back.draft(), e.draft());
    assert!(back.dirty);
    // Views of every tab build.
    let mut e = e;
    for t in Tab::ALL {
        e.edit(Edit::Tab(t));
        let f = e.form();
        assert_eq!(f.tab, t);
    }
}

#[test]
fn fields_render_as_their_kind() {
    let mut e = Editor::open(Start::Current, &session());
    e.edit(Edit::Tab(Tab::Nats));
    let form = e.form();
    let preset = field(&form, "ed-nat-0-preset");
    assert!(matches!(&preset.widget, Widget::Select(o) if o.iter().any(|(v, _)| v == "symmetric")));
    assert!(
        form.cards[0]
            .summary
            .as_deref()
            .unwrap()
            .starts_with("RFC 4787: EIM, ADF")
    );
    set(&mut e, Element::Nat(0), "preset", "symmetric");
    set(&mut e, Element::Nat(0), "port_range[0]", "40000");
    let n = &e.draft().nats[0];
    assert_eq!(n.port_range, Some([40000, 65535]));
    set(&mut e, Element::Nat(0), "port_range[1]", "30000");
    assert!(
        e.error_at(&Place::new(Element::Nat(0), "port_range"))
            .is_some()
    );
    e.edit(Edit::Tab(Tab::Links));
    let form = e.form();
    assert_eq!(field(&form, "ed-link-0-up").widget, Widget::Check);
    assert_eq!(
        form.cards[0].summary.as_deref(),
        Some("used by laptop.wlan0")
    );
}

/// A NAT's port forwards are one text field: "PORT -> ADDRESS:PORT" items
/// (spaces around the arrow allowed), checked as the file reader checks
/// them, with the reader's words at the field.
#[test]
fn a_nats_port_forwards_are_typed_in_its_card_and_checked_there() {
    let mut e = Editor::open(Start::Current, &session());
    set(
        &mut e,
        Element::Nat(0),
        "forward",
        "500 -> 10.64.0.2:500, 4500->10.64.0.2:4500",
    );
    assert_eq!(e.error_count(), 0, "{:?}", e.form().errors);
    let f: Vec<String> = e.draft().nats[0]
        .forward
        .iter()
        .map(|f| String::from(*f))
        .collect();
    assert_eq!(f, ["500->10.64.0.2:500", "4500->10.64.0.2:4500"]);
    // Opened again on the result, the field shows the forwards as written.
    let s = Session::new(
        e.draft().clone(),
        crate::session::Source::File("edited".into()),
    );
    let mut again = Editor::open(Start::Current, &s);
    again.edit(Edit::Tab(Tab::Nats));
    assert_eq!(
        field(&again.form(), "ed-nat-0-forward").value,
        "500->10.64.0.2:500, 4500->10.64.0.2:4500"
    );
    // Not a forward at all; then one to an address not behind this NAT.
    e.edit(Edit::Tab(Tab::Nats));
    set(&mut e, Element::Nat(0), "forward", "4500 to the laptop");
    let form = e.form();
    let err = field(&form, "ed-nat-0-forward").error.clone().unwrap();
    assert!(err.contains("write PORT->ADDRESS:PORT"), "{err}");
    set(&mut e, Element::Nat(0), "forward", "4500->192.0.2.10:4500");
    let msgs: Vec<String> = e.form().errors.iter().map(|x| x.message.clone()).collect();
    assert!(
        msgs.iter()
            .any(|m| m.contains("not an interface on the NAT's link")),
        "{msgs:?}"
    );
}
