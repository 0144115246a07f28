//! Work is never lost: the page keeps a copy of the scenario as "Save
//! scenario" would write it (with the user's interventions and moved
//! nodes, and the editor's draft when one is open) in the browser's local
//! storage, and offers it back after a reload. Also the download of a
//! saved file. The record is plain data, tested natively; the browser
//! calls fail quietly (a browser without storage just does not autosave).

use crate::editor::Editor;
use crate::session::{Shown, Source};
use mobike_protocol::Time;
use serde::{Deserialize, Serialize};

/// The local storage key of the autosaved work.
const KEY: &str = "mobike-playground/autosave";

/// The format of the record; another one is ignored.
const VERSION: u32 = 1;

/// The largest record kept (local storage holds a few MiB per site).
const MAX_RECORD: usize = 2 << 20;

/// Work as autosave keeps it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Saved {
    pub v: u32,
    /// When it was saved: milliseconds since 1970 (wall clock).
    pub at_ms: f64,
    pub title: String,
    /// The scenario as "Save scenario" writes it.
    pub text: String,
    /// The moment that was shown.
    pub time: Time,
    /// How many interventions of the user it holds.
    pub interventions: usize,
    /// The editor's draft (as TOML), when the editor was open with changes.
    pub draft: Option<String>,
    /// The scenario had been made in the editor.
    pub edited: bool,
}

impl Saved {
    /// The work on the page worth keeping, or `None` when a reload would
    /// lose nothing: a built-in example as it is, untouched, no draft.
    pub fn of(
        session: &impl Shown,
        editor: Option<&Editor>,
        edited: bool,
        at_ms: f64,
    ) -> Option<Saved> {
        let draft = editor.filter(|e| e.dirty).and_then(Editor::draft_toml);
        // A capture is on the user's disk; its parties' scenario is no work.
        if session.is_recorded() && draft.is_none() {
            return None;
        }
        let pristine = session.log().is_empty()
            && session.moved_nodes().is_empty()
            && matches!(session.source, Source::Example(_));
        if pristine && draft.is_none() {
            return None;
        }
        Some(Saved {
            v: VERSION,
            at_ms,
            title: session.scenario.title.clone(),
            text: session.save_toml().ok()?,
            time: session.now(),
            interventions: session.log().len(),
            draft,
            edited,
        })
    }

    /// Whether `other` holds the same work (its time of saving aside).
    pub fn same_work(&self, other: &Saved) -> bool {
        (&self.text, &self.draft, self.time, self.edited)
            == (&other.text, &other.draft, other.time, other.edited)
    }

    pub fn to_json(&self) -> String {
        serde_json::to_string(self).unwrap_or_default()
    }

    /// Reads a record; anything else (another version, garbage) is none.
    pub fn from_json(text: &str) -> Option<Saved> {
        let s: Saved = serde_json::from_str(text).ok()?;
        (s.v == VERSION).then_some(s)
    }

    /// The banner's question: "Restore your unsaved work from 12:04?" and
    /// what it is.
    pub fn describe(&self, clock: &str) -> String {
        let mut what = format!("\u{201c}{}\u{201d}", self.title);
        match self.interventions {
            0 => {}
            1 => what.push_str(", with 1 intervention of yours"),
            n => what.push_str(&format!(", with {n} interventions of yours")),
        }
        if self.draft.is_some() {
            what.push_str(", and the editor's unapplied changes");
        }
        format!("Restore your unsaved work from {clock}? {what}.")
    }
}

fn local_storage() -> Option<web_sys::Storage> {
    web_sys::window()?.local_storage().ok().flatten()
}

/// The autosaved record, if there is one.
pub fn load() -> Option<Saved> {
    let text = local_storage()?.get_item(KEY).ok().flatten()?;
    Saved::from_json(&text)
}

/// Keeps `saved` (a record too large for the storage is not kept).
pub fn store(saved: &Saved) {
    let json = saved.to_json();
    if json.len() > MAX_RECORD {
        return;
    }
    if let Some(s) = local_storage() {
        let _ = s.set_item(KEY, &json);
    }
}

/// Forgets the record.
pub fn forget() {
    if let Some(s) = local_storage() {
        let _ = s.remove_item(KEY);
    }
}

/// Wall-clock milliseconds since 1970.
pub fn now_ms() -> f64 {
    web_sys::js_sys::Date::now()
}

/// "12:04" for a wall-clock time, in the browser's time zone.
pub fn clock(at_ms: f64) -> String {
    let d = web_sys::js_sys::Date::new(&at_ms.into());
    format!("{:02}:{:02}", d.get_hours(), d.get_minutes())
}

/// Downloads `data` (of media type `mime`) as a file named `name`.
pub fn download(name: &str, data: &[u8], mime: &str) {
    let bytes = web_sys::js_sys::Uint8Array::from(data);
    let parts = web_sys::js_sys::Array::of1(&bytes);
    let options = web_sys::BlobPropertyBag::new();
    options.set_type(mime);
    if let Ok(blob) = web_sys::Blob::new_with_u8_array_sequence_and_options(&parts, &options) {
        download_blob(name, &blob);
    }
}

/// Downloads a Blob as a file named `name`: behind a temporary link with
/// a `download` attribute, clicked and taken away again.
pub fn download_blob(name: &str, blob: &web_sys::Blob) {
    use wasm_bindgen::JsCast;
    let Some(doc) = web_sys::window().and_then(|w| w.document()) else {
        return;
    };
    let Ok(url) = web_sys::Url::create_object_url_with_blob(blob) else {
        return;
    };
    if let Some(a) = doc
        .create_element("a")
        .ok()
        .and_then(|e| e.dyn_into::<web_sys::HtmlAnchorElement>().ok())
    {
        a.set_href(&url);
        a.set_download(name);
        if let Some(body) = doc.body() {
            let _ = body.append_child(&a);
            a.click();
            let _ = body.remove_child(&a);
        }
    }
    // The click has taken its copy; the object URL can go (later, so the
    // download is not cut short).
    let revoke = wasm_bindgen::closure::Closure::once_into_js(move || {
        let _ = web_sys::Url::revoke_object_url(&url);
    });
    if let Some(w) = web_sys::window() {
        let _ =
            w.set_timeout_with_callback_and_timeout_and_arguments_0(revoke.unchecked_ref(), 10_000);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::editor::{Edit, Start};
    use crate::session::DEFAULT_SCENARIO;
    use crate::session::Session;
    use mobike_protocol::SEC;

    #[test]
    fn an_untouched_example_is_nothing_to_keep_and_work_is() {
        let mut s = Session::from_toml(DEFAULT_SCENARIO).unwrap();
        s.advance(3 * SEC);
        assert_eq!(
            Saved::of(&s, None, false, 0.0),
            None,
            "time passing is no work"
        );
        s.toggle_link("wifi");
        let saved = Saved::of(&s, None, false, 1.0).unwrap();
        assert_eq!((saved.interventions, saved.time), (1, 3 * SEC));
        assert!(saved.text.contains("user = true"));
        assert_eq!(Saved::from_json(&saved.to_json()), Some(saved.clone()));
        assert!(
            saved
                .describe("12:04")
                .starts_with("Restore your unsaved work from 12:04? ")
        );
        // An editor with changes is work too, even on an untouched example.
        let s = Session::from_toml(DEFAULT_SCENARIO).unwrap();
        let mut e = Editor::open(Start::Current, &s);
        assert_eq!(Saved::of(&s, Some(&e), false, 0.0), None);
        e.edit(Edit::Set(
            mobike_sim::Place::new(mobike_sim::Element::Scenario, "title"),
            "Mine".into(),
        ));
        let saved = Saved::of(&s, Some(&e), false, 0.0).unwrap();
        assert!(saved.draft.as_deref().unwrap().contains("title = \"Mine\""));
        assert!(saved.describe("9:00").contains("unapplied changes"));
        assert_eq!(Saved::from_json("{\"v\": 2}"), None);
        assert_eq!(Saved::from_json("garbage"), None);
    }
}
