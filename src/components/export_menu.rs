//! "Export": the run as shown (up to the moment on the clock, with the
//! chart's filters) as a file in any of the forms a draft, a mail or
//! Wireshark takes, the ASCII chart copied to the clipboard, and the
//! command that writes the same files from the downloaded scenario.

use crate::browser::{copy_to_clipboard, target};
use crate::exports::{self, ExportKind};
use crate::state::{Action, Dispatch, SessionRef};
use mobike_render::export::{ExportView, shell_word};
use mobike_render::fmt_time;
use mobike_render::msc::ViewOptions;
use web_sys::HtmlSelectElement;
use yew::prelude::*;

#[derive(Properties, PartialEq)]
pub struct ExportMenuProps {
    pub session: SessionRef,
    pub version: u64,
    /// The chart's view as the user set it.
    pub view: ViewOptions,
    pub show_esp: bool,
    pub dispatch: Dispatch,
}

#[function_component(ExportMenu)]
pub fn export_menu(p: &ExportMenuProps) -> Html {
    let open = use_state(|| false);
    let capture_at = use_state(|| None::<String>);
    let copied = use_state(|| false);
    let toggle = {
        let (open, copied) = (open.clone(), copied.clone());
        Callback::from(move |_: MouseEvent| {
            copied.set(false);
            open.set(!*open);
        })
    };
    let close_keys = {
        let open = open.clone();
        Callback::from(move |e: KeyboardEvent| {
            if e.key() == "Escape" {
                open.set(false);
            }
        })
    };
    let button = html! {
        <button id="export" aria-expanded={(*open).to_string()} aria-haspopup="true" onclick={toggle.clone()}
            title="Download the chart, the topology, the run, the scenario or the capture, as shown now">{"Export…"}</button>
    };
    if !*open {
        return html! { <div class="export-menu">{button}</div> };
    }
    let s = p.session.borrow();
    let view = ExportView::of_page(&p.view, p.show_esp, &s.groups);
    let default_host = exports::default_capture_host(&*s);
    let host = (*capture_at)
        .clone()
        .filter(|h| s.scenario.hosts.iter().any(|x| x.id == *h))
        .unwrap_or(default_host);
    let args = exports::cli_args(&*s, &view, &host);
    let command = std::iter::once("mobike".to_string())
        .chain(args.iter().map(|a| shell_word(a)))
        .collect::<Vec<_>>()
        .join(" ");
    let args_json = serde_json::to_string(&args).unwrap_or_default();
    let ascii = exports::ascii_text(&*s, &view);
    let what = if !view.filter.is_open() || view.fold_routine {
        ", as the chart's filters show it."
    } else if view.show_esp {
        ", every row."
    } else {
        ", every row but the ESP packets (the chart's ESP switch)."
    };
    let hosts: Vec<(String, String)> = s
        .scenario
        .hosts
        .iter()
        .map(|h| (h.id.clone(), h.label.clone()))
        .collect();
    let now = s.now();
    drop(s);
    let item = |kind: ExportKind| {
        let d = p.dispatch.clone();
        let host = host.clone();
        let onclick =
            Callback::from(move |_: MouseEvent| d.dispatch(Action::Export(kind, host.clone())));
        html! {
            <button id={format!("export-{}", kind.id())} role="menuitem" {onclick}>{kind.label()}</button>
        }
    };
    let copy = {
        let copied = copied.clone();
        Callback::from(move |_: MouseEvent| {
            copy_to_clipboard(&ascii);
            copied.set(true);
        })
    };
    let pick_host = {
        let capture_at = capture_at.clone();
        Callback::from(move |e: Event| {
            if let Some(sel) = target::<HtmlSelectElement>(&e) {
                capture_at.set(Some(sel.value()));
            }
        })
    };
    html! {
        <div class="export-menu" onkeydown={close_keys}>
            {button}
            <div class="menu export-panel" id="export-panel" role="menu" aria-label="Export">
                <p class="export-what">
                    {format!("The run up to t = {}", fmt_time(now))}
                    {what}
                </p>
                <div class="export-group">
                    <span class="export-head">{"Chart"}</span>
                    {item(ExportKind::Ascii)}
                    <button id="export-copy-ascii" onclick={copy}
                        title="Copy the RFC-style ASCII chart (72 columns) to the clipboard">
                        { if *copied { "Copied ✓" } else { "Copy ASCII to clipboard" } }
                    </button>
                    {item(ExportKind::ChartSvg)}
                    {item(ExportKind::ChartPng)}
                    {item(ExportKind::Mermaid)}
                </div>
                <div class="export-group">
                    <span class="export-head">{"Topology"}</span>
                    {item(ExportKind::TopologySvg)}
                    {item(ExportKind::TopologyPng)}
                </div>
                <div class="export-group">
                    <span class="export-head">{"Run"}</span>
                    {item(ExportKind::Json)}
                    {item(ExportKind::Toml)}
                    <label class="capture-at">{"Capture at "}
                        <select id="export-capture-at" onchange={pick_host}>
                            { for hosts.iter().map(|(id, label)| html! {
                                <option value={id.clone()} selected={*id == host}>{format!("{label} ({id})")}</option>
                            }) }
                        </select>
                    </label>
                    {item(ExportKind::Capture)}
                </div>
                <p class="export-cli">{"The same files from the command line, with the scenario file downloaded above (from the repository: "}
                    <code>{"cargo run -p mobike-cli -- export …"}</code>{"):"}</p>
                <pre id="export-command" class="export-command" data-args={args_json}>{command}</pre>
                <p class="export-cli">{"Open the capture in Wireshark with its keys: unzip, then "}
                    <code>{"WIRESHARK_CONFIG_DIR=. wireshark capture.pcap"}</code>{"."}</p>
                <button class="close" onclick={toggle} aria-label="Close the export menu">{"Close"}</button>
            </div>
        </div>
    }
}
