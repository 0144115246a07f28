//! Narration steps that match a protocol note by the checklist id its rule
//! cites (`note_rule`), so rewording a note never moves a lesson's step.

use mobike_render::Chart;
use mobike_render::chart::{NoteKind, Row};
use mobike_sim::{Scenario, World};

fn example(name: &str) -> String {
    let path = format!("{}/../../examples/{name}.toml", env!("CARGO_MANIFEST_DIR"));
    std::fs::read_to_string(path).unwrap()
}

fn chart(text: &str) -> Chart {
    let s = Scenario::from_toml(text).unwrap();
    let mut w = World::new(&s);
    w.run_until(s.until.micros());
    Chart::build(&s, w.trace())
}

/// The rows a narration step came right after: the row before each one.
fn brought_by(chart: &Chart) -> Vec<(String, Option<String>, String)> {
    let rows = &chart.rows;
    rows.iter()
        .enumerate()
        .filter_map(|(i, r)| match r {
            Row::Note(n) if n.kind == NoteKind::Narration => {
                let before = rows
                    .iter()
                    .take(i)
                    .rev()
                    .find(|r| !matches!(r, Row::Note(n) if n.kind == NoteKind::Narration))?;
                Some(match before {
                    Row::Note(b) => (b.text.clone(), b.rule.clone(), n.text.clone()),
                    Row::Message(m) => (m.notation(), None, n.text.clone()),
                })
            }
            _ => None,
        })
        .collect()
}

#[test]
fn a_step_with_note_rule_follows_the_note_that_cites_it() {
    let text = example("nat-rebinding");
    let rebinding = chart(&text);
    let by_rule = brought_by(&rebinding);
    let step = |id: &str| {
        let s = Scenario::from_toml(&text).unwrap();
        s.steps
            .iter()
            .filter(|s| s.note_rule.as_deref() == Some(id))
            .map(|s| s.text.clone())
            .collect::<Vec<_>>()
    };
    for id in ["M-3.8-4", "M-3.7-1"] {
        let texts = step(id);
        assert!(!texts.is_empty(), "the example narrates {id}");
        for t in texts {
            let (_, rule, _) = by_rule
                .iter()
                .find(|(_, _, n)| *n == t)
                .unwrap_or_else(|| panic!("step {t:?} was shown"));
            let rule = rule.as_deref().expect("brought by a protocol note");
            assert!(
                mobike_protocol::reason::checklist_ids(rule).contains(&id),
                "{t:?} follows a note citing {id}, not {rule:?}"
            );
        }
    }
    // The same steps written as text to match land on the same rows: the
    // id finds the note the words did.
    let as_text = text
        .replacen(
            "note_rule = \"M-3.8-4\"",
            "note = \"differs from the IKE_SA_INIT result\"",
            1,
        )
        .replacen(
            "note_rule = \"M-3.8-4\"",
            "note = \"NAT mapping changed\"",
            1,
        )
        .replacen(
            "note_rule = \"M-3.7-1\"",
            "note = \"checking return routability\"",
            1,
        );
    assert_ne!(as_text, text);
    assert_eq!(chart(&as_text), rebinding);
    // Reworded, a text match silently stops matching; the rule does not.
    let reworded = as_text.replace(
        "note = \"checking return routability\"",
        "note = \"verifying return routability\"",
    );
    let shown = |c: &Chart| {
        c.rows
            .iter()
            .filter(|r| matches!(r, Row::Note(n) if n.kind == NoteKind::Narration))
            .count()
    };
    assert!(shown(&chart(&reworded)) < shown(&rebinding));
}

#[test]
fn a_note_rule_that_is_no_checklist_id_is_an_error_naming_its_line() {
    let text =
        example("nat-rebinding").replacen("note_rule = \"M-3.7-1\"", "note_rule = \"RR\"", 1);
    let e = Scenario::from_toml(&text).unwrap_err();
    assert!(e.message.contains("not a checklist id"), "{e}");
    let line = text.lines().position(|l| l.contains("\"RR\"")).unwrap() + 1;
    assert_eq!(e.line, Some(line), "{e}");
}
