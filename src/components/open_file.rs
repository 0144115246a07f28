//! "Open file…": a button and a hidden file input; the text is read and
//! handed to the reducer, which keeps the current scenario if it is bad.

use crate::browser::target;
use crate::state::{Action, Dispatch, ErrorNote};
use web_sys::{HtmlElement, HtmlInputElement};
use yew::prelude::*;

/// The largest scenario file the page opens.
const MAX_FILE: u64 = 1 << 20;

#[derive(Properties, PartialEq)]
pub struct OpenFileProps {
    pub dispatch: Dispatch,
}

#[function_component(OpenFile)]
pub fn open_file(OpenFileProps { dispatch }: &OpenFileProps) -> Html {
    let input = use_node_ref();
    // The reader must live until it calls back.
    let reader = use_mut_ref(|| None::<gloo_file::callbacks::FileReader>);
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
            let Some(file) = el.files().and_then(|f| f.get(0)) else {
                return;
            };
            // Choosing the same file again must fire another change.
            el.set_value("");
            let name = file.name();
            let file = gloo_file::File::from(file);
            if file.size() > MAX_FILE {
                d.dispatch(Action::ShowError(ErrorNote {
                    title: format!("Could not open {name}; the current scenario keeps running"),
                    message: format!(
                        "the file has {} octets; a scenario file has at most {MAX_FILE}",
                        file.size()
                    ),
                    excerpt: None,
                }));
                return;
            }
            let d = d.clone();
            let task = gloo_file::callbacks::read_as_text(&file, move |res| match res {
                Ok(text) => d.dispatch(Action::OpenFile(name, text)),
                Err(e) => d.dispatch(Action::ShowError(ErrorNote {
                    title: format!("Could not read {name}"),
                    message: e.to_string(),
                    excerpt: None,
                })),
            });
            *reader.borrow_mut() = Some(task);
        })
    };
    html! {
        <>
            <button id="open" onclick={onclick} title="Open a scenario file (.toml) from your disk">{"Open file…"}</button>
            <input id="open-file" ref={input} type="file" accept=".toml" hidden=true onchange={onchange} />
        </>
    }
}
