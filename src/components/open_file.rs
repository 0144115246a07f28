//! "Open file…": a button and a hidden file input. One scenario file
//! (TOML) is read as text and handed to the reducer, which keeps the
//! current scenario if it is bad. A capture (pcap or pcapng, told by its
//! first octets) may be chosen together with its key files: it opens as a
//! recorded run (see `state::CaptureFiles`).

use crate::browser::target;
use crate::state::{Action, CaptureFiles, Dispatch, ErrorNote};
use std::cell::RefCell;
use std::rc::Rc;
use web_sys::{HtmlElement, HtmlInputElement};
use yew::prelude::*;

/// The largest scenario or key file the page opens.
const MAX_FILE: u64 = 1 << 20;
/// The largest capture.
const MAX_CAPTURE: u64 = 32 << 20;
/// At most this many files at once (a capture and its key files).
const MAX_FILES: u32 = 8;

/// A file read: its name and octets.
type Named = (String, Vec<u8>);

/// Whether these octets begin a pcap or pcapng file.
pub fn is_capture(bytes: &[u8]) -> bool {
    matches!(
        bytes.get(..4),
        Some(
            [0xa1, 0xb2, 0xc3, 0xd4]
                | [0xd4, 0xc3, 0xb2, 0xa1]
                | [0xa1, 0xb2, 0x3c, 0x4d]
                | [0x4d, 0x3c, 0xb2, 0xa1]
                | [0x0a, 0x0d, 0x0d, 0x0a]
        )
    )
}

/// What the chosen files are: one scenario, or a capture and its keys.
pub fn sort_files(files: Vec<Named>) -> Result<Action, ErrorNote> {
    let fail = |title: String, message: String| ErrorNote {
        title,
        message,
        excerpt: None,
    };
    // A capture by its first octets, or by its name (a damaged capture is
    // then read as one, so its error says what is wrong with it).
    let named = |n: &str| {
        let n = n.to_ascii_lowercase();
        n.ends_with(".pcap") || n.ends_with(".pcapng") || n.ends_with(".cap")
    };
    let mut captures: Vec<usize> = (0..files.len())
        .filter(|&i| is_capture(&files[i].1))
        .collect();
    if captures.is_empty() {
        captures = (0..files.len()).filter(|&i| named(&files[i].0)).collect();
    }
    match captures.as_slice() {
        [] if files.len() == 1 => {
            let (name, bytes) = files.into_iter().next().unwrap_or_default();
            if bytes.len() as u64 > MAX_FILE {
                return Err(fail(
                    format!("Could not open {name}; the current scenario keeps running"),
                    format!(
                        "the file has {} octets; a scenario file has at most {MAX_FILE}",
                        bytes.len()
                    ),
                ));
            }
            match String::from_utf8(bytes) {
                Ok(text) => Ok(Action::OpenFile(name, text)),
                Err(_) => Err(fail(
                    format!("Could not open {name}; the current scenario keeps running"),
                    "it is neither a scenario file (TOML text) nor a capture (pcap or pcapng)"
                        .into(),
                )),
            }
        }
        [] => Err(fail(
            "Could not open these files; the current scenario keeps running".into(),
            "choose one scenario file (.toml), or one capture (.pcap, .pcapng) with its key files"
                .into(),
        )),
        [c] => {
            let c = *c;
            let mut name = String::new();
            let mut bytes = Vec::new();
            let mut keys = Vec::new();
            for (i, (n, b)) in files.into_iter().enumerate() {
                if i == c {
                    name = n;
                    bytes = b;
                } else if b.len() as u64 > MAX_FILE {
                    return Err(fail(
                        format!("Could not open {n}; the current scenario keeps running"),
                        format!(
                            "the key file has {} octets; a key file has at most {MAX_FILE}",
                            b.len()
                        ),
                    ));
                } else {
                    keys.push((n, String::from_utf8_lossy(&b).into_owned()));
                }
            }
            Ok(Action::OpenCapture(CaptureFiles {
                name,
                bytes: Rc::from(bytes),
                keys,
            }))
        }
        _ => Err(fail(
            "Could not open these files; the current scenario keeps running".into(),
            "choose one capture at a time (with its key files)".into(),
        )),
    }
}

#[derive(Properties, PartialEq)]
pub struct OpenFileProps {
    pub dispatch: Dispatch,
}

#[function_component(OpenFile)]
pub fn open_file(OpenFileProps { dispatch }: &OpenFileProps) -> Html {
    let input = use_node_ref();
    // The readers must live until they call back.
    let readers = use_mut_ref(Vec::<gloo_file::callbacks::FileReader>::new);
    let onclick = {
        let input = input.clone();
        Callback::from(move |_| {
            if let Some(i) = input.cast::<HtmlElement>() {
                i.click();
            }
        })
    };
    let onchange = {
        let d = dispatch.clone();
        Callback::from(move |e: Event| {
            let Some(el) = target::<HtmlInputElement>(&e) else {
                return;
            };
            let Some(list) = el.files() else {
                return;
            };
            let chosen: Vec<web_sys::File> = (0..list.length().min(MAX_FILES))
                .filter_map(|i| list.get(i))
                .collect();
            // Choosing the same files again must fire another change.
            el.set_value("");
            if chosen.is_empty() {
                return;
            }
            // Which file is the capture is known once read; none may be
            // larger than a capture (a scenario's own limit is checked then).
            for f in &chosen {
                if f.size() as u64 > MAX_CAPTURE {
                    d.dispatch(Action::ShowError(ErrorNote {
                        title: format!(
                            "Could not open {}; the current scenario keeps running",
                            f.name()
                        ),
                        message: format!(
                            "the file has {} octets; a capture has at most {MAX_CAPTURE}",
                            f.size() as u64
                        ),
                        excerpt: None,
                    }));
                    return;
                }
            }
            let n = chosen.len();
            let got: Rc<RefCell<Vec<Option<Named>>>> = Rc::new(RefCell::new(vec![None; n]));
            let mut tasks = Vec::new();
            for (k, f) in chosen.into_iter().enumerate() {
                let name = f.name();
                let file = gloo_file::File::from(f);
                let got = got.clone();
                let d = d.clone();
                tasks.push(gloo_file::callbacks::read_as_bytes(
                    &file,
                    move |res| match res {
                        Ok(bytes) => {
                            let all = {
                                let mut g = got.borrow_mut();
                                g[k] = Some((name, bytes));
                                g.iter().all(Option::is_some).then(|| {
                                    g.iter_mut().filter_map(Option::take).collect::<Vec<_>>()
                                })
                            };
                            if let Some(files) = all {
                                match sort_files(files) {
                                    Ok(a) => d.dispatch(a),
                                    Err(e) => d.dispatch(Action::ShowError(e)),
                                }
                            }
                        }
                        Err(e) => d.dispatch(Action::ShowError(ErrorNote {
                            title: format!("Could not read {name}"),
                            message: e.to_string(),
                            excerpt: None,
                        })),
                    },
                ));
            }
            *readers.borrow_mut() = tasks;
        })
    };
    html! {
        <>
            <button id="open" onclick={onclick} title="Open a scenario file (.toml), or a capture (.pcap, .pcapng) together with its key files (Wireshark's ikev2_decryption_table or a charon log)">{"Open file…"}</button>
            <input id="open-file" ref={input} type="file" multiple=true hidden=true onchange={onchange} />
        </>
    }
}
