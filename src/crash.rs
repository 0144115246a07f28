//! The page survives its own bugs. The release wasm aborts on a panic, and
//! everything running in it stops; before it does, the panic hook puts a
//! panel over the page (plain HTML, no wasm behind it) that says what
//! happened and where, offers a share link that replays the run up to the
//! moment before, and a reload that offers the autosaved work back.
//!
//! The reducer tells this module what it is doing ([`remember_moment`]) and,
//! after each change of the run, the run's share link ([`remember_link`]);
//! the hook reads them, since at a panic the session itself is usually
//! borrowed by the code that failed.

use mobike_protocol::Time;
use std::cell::RefCell;
use std::fmt::Write;

#[derive(Default)]
struct Last {
    /// The run's share link (the hash, without '#') after its last change.
    link: Option<String>,
    /// The clock when the action that failed began.
    now: Time,
    /// That action, in short.
    doing: String,
}

thread_local! {
    static LAST: RefCell<Last> = RefCell::new(Last::default());
}

/// At most this much of an action's description is kept.
const DOING: usize = 120;

/// A writer that keeps the first [`DOING`] characters and then stops the
/// formatting (an action may carry a whole file).
struct Short(String);

impl Write for Short {
    fn write_str(&mut self, s: &str) -> std::fmt::Result {
        for c in s.chars() {
            if self.0.chars().count() >= DOING {
                self.0.push('…');
                return Err(std::fmt::Error);
            }
            self.0.push(c);
        }
        Ok(())
    }
}

/// The first characters of `value`'s debug form.
pub fn short(value: &impl std::fmt::Debug) -> String {
    let mut s = Short(String::new());
    let _ = write!(s, "{value:?}");
    s.0
}

/// The reducer begins `doing` at `now`.
pub fn remember_moment(now: Time, doing: String) {
    LAST.with(|l| {
        if let Ok(mut l) = l.try_borrow_mut() {
            l.now = now;
            l.doing = doing;
        }
    });
}

/// The run's share link after a change (`None`: the run has none, e.g. a
/// recorded capture).
pub fn remember_link(hash: Option<String>) {
    LAST.with(|l| {
        if let Ok(mut l) = l.try_borrow_mut() {
            l.link = hash;
        }
    });
}

/// `hash` with its moment (`t=`) set to `now`: the share link of the run
/// up to the moment the failing action began.
pub fn link_at(hash: &str, now: Time) -> String {
    let mut parts: Vec<String> = hash
        .split('&')
        .filter(|p| !p.starts_with("t="))
        .map(str::to_string)
        .collect();
    let at = parts
        .iter()
        .position(|p| p.starts_with("seed="))
        .map_or(parts.len(), |i| i + 1);
    parts.insert(at, format!("t={now}"));
    parts.join("&")
}

/// What the panel says: the panic's message and place, and what the page
/// was doing.
pub fn describe(message: &str, place: Option<String>, doing: &str) -> String {
    let mut out = message.to_string();
    if let Some(p) = place {
        let _ = write!(out, " (at {p})");
    }
    if !doing.is_empty() {
        let _ = write!(out, ", while doing {doing}");
    }
    out
}

/// Installs the panic hook (the page's `main` does, before anything else;
/// through yew, which would otherwise put its own in when it renders).
pub fn install() {
    yew::set_custom_panic_hook(Box::new(|info| {
        let message = info
            .payload()
            .downcast_ref::<&str>()
            .map(|s| s.to_string())
            .or_else(|| info.payload().downcast_ref::<String>().cloned())
            .unwrap_or_else(|| "a panic".into());
        let place = info
            .location()
            .map(|l| format!("{}:{}", l.file(), l.line()));
        let (link, now, doing) = LAST.with(|l| match l.try_borrow() {
            Ok(l) => (l.link.clone(), l.now, l.doing.clone()),
            Err(_) => (None, 0, String::new()),
        });
        let what = describe(&message, place, &doing);
        web_sys::console::error_1(&format!("MOBIKE Playground stopped: {what}").into());
        show(&what, link.map(|h| link_at(&h, now)).as_deref());
    }));
}

/// The panel, built with the DOM alone: after the abort no wasm runs, so
/// it has no handlers; its buttons are links.
fn show(what: &str, link: Option<&str>) {
    let Some(doc) = web_sys::window().and_then(|w| w.document()) else {
        return;
    };
    let Some(body) = doc.body() else { return };
    if doc.get_element_by_id("crash-panel").is_some() {
        // A later panic (a callback into the stopped wasm): the first one
        // is the cause, and its panel stays.
        return;
    }
    let Ok(panel) = doc.create_element("div") else {
        return;
    };
    panel.set_id("crash-panel");
    let _ = panel.set_attribute("role", "alertdialog");
    let _ = panel.set_attribute("aria-labelledby", "crash-title");
    let add = |parent: &web_sys::Element, tag: &str, id: &str, text: &str| {
        let el = doc.create_element(tag).ok()?;
        if !id.is_empty() {
            el.set_id(id);
        }
        el.set_text_content(Some(text));
        parent.append_child(&el).ok()?;
        Some(el)
    };
    let Ok(card) = doc.create_element("div") else {
        return;
    };
    card.set_class_name("crash-card");
    let _ = panel.append_child(&card);
    add(
        &card,
        "h2",
        "crash-title",
        "The playground hit a bug and stopped",
    );
    add(&card, "p", "crash-message", what);
    let base = web_sys::window()
        .and_then(|w| w.location().pathname().ok())
        .unwrap_or_else(|| "./".into());
    if let Some(link) = link {
        add(
            &card,
            "p",
            "",
            "This link replays your run up to the moment before it went wrong; keep it to report the bug, or open it to go on from there:",
        );
        if let Ok(input) = doc.create_element("input") {
            input.set_id("crash-link");
            let _ = input.set_attribute("type", "text");
            let _ = input.set_attribute("readonly", "");
            let url = web_sys::window()
                .and_then(|w| w.location().origin().ok())
                .unwrap_or_default();
            let _ = input.set_attribute("value", &format!("{url}{base}#{link}"));
            let _ = card.append_child(&input);
        }
    }
    let Ok(actions) = doc.create_element("p") else {
        return;
    };
    actions.set_class_name("crash-actions");
    let _ = card.append_child(&actions);
    if let Some(a) = add(
        &actions,
        "a",
        "crash-reload",
        "Reload with your autosaved work",
    ) {
        // A plain reload: the page offers the autosaved work back.
        let _ = a.set_attribute("href", &base);
    }
    if let Some(link) = link
        && let Some(a) = add(&actions, "a", "crash-replay", "Open the link above")
    {
        let _ = a.set_attribute("href", &format!("{base}#{link}"));
    }
    let _ = body.append_child(&panel);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_link_replays_up_to_the_moment_the_action_began() {
        assert_eq!(
            link_at("v=1&ex=wifi-to-lte&seed=7&t=900&run=abc", 12_000),
            "v=1&ex=wifi-to-lte&seed=7&t=12000&run=abc"
        );
    }

    #[test]
    fn a_long_action_is_cut_short() {
        let long = "x".repeat(10_000);
        let s = short(&long);
        assert!(s.chars().count() <= DOING + 1);
        assert!(s.ends_with('…'));
        assert_eq!(short(&"Tick(40)"), "\"Tick(40)\"");
    }

    #[test]
    fn the_panel_says_what_where_and_while_doing_what() {
        assert_eq!(
            describe("boom", Some("src/state.rs:12".into()), "Step"),
            "boom (at src/state.rs:12), while doing Step"
        );
    }
}
