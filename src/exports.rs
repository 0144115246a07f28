//! The page's downloads: the run as shown (up to the moment on the clock,
//! with the chart's filters) as RFC-style ASCII, SVG, PNG, Mermaid, the
//! JSON document, the scenario file and the capture with its Wireshark
//! keys. The texts and bytes come from the same render functions, with the
//! same options, as `mobike export` with the flags of [`cli_args`]; that
//! command, run on the downloaded scenario, writes the same files. No web
//! types here: the browser side (the file save, the PNG's rasterising) is
//! in `storage` and `raster`.

use crate::session::Shown;
use crate::state::file_name;
use mobike_render::export::ExportView;
use mobike_render::{ascii, json, mermaid, metrics, pcap, svg};
use mobike_sim::duration::Dur;
use std::rc::Rc;

/// What can be downloaded.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ExportKind {
    /// The RFC-style ASCII chart (72 columns), `.txt`.
    Ascii,
    ChartSvg,
    ChartPng,
    TopologySvg,
    TopologyPng,
    /// A Mermaid `sequenceDiagram`, `.mmd`.
    Mermaid,
    /// The run as JSON (rows, figures, final SA state).
    Json,
    /// The scenario, with the user's interventions as timeline events.
    Toml,
    /// The capture at one host and the three Wireshark key files, `.zip`.
    Capture,
}

impl ExportKind {
    pub const ALL: [ExportKind; 9] = [
        ExportKind::Ascii,
        ExportKind::ChartSvg,
        ExportKind::ChartPng,
        ExportKind::Mermaid,
        ExportKind::TopologySvg,
        ExportKind::TopologyPng,
        ExportKind::Json,
        ExportKind::Toml,
        ExportKind::Capture,
    ];

    /// For element ids ("export-ascii").
    pub fn id(self) -> &'static str {
        match self {
            ExportKind::Ascii => "ascii",
            ExportKind::ChartSvg => "svg",
            ExportKind::ChartPng => "png",
            ExportKind::TopologySvg => "topology-svg",
            ExportKind::TopologyPng => "topology-png",
            ExportKind::Mermaid => "mermaid",
            ExportKind::Json => "json",
            ExportKind::Toml => "toml",
            ExportKind::Capture => "zip",
        }
    }

    /// What the menu calls it.
    pub fn label(self) -> &'static str {
        match self {
            ExportKind::Ascii => "Chart, RFC-style ASCII (.txt)",
            ExportKind::ChartSvg => "Chart, SVG",
            ExportKind::ChartPng => "Chart, PNG",
            ExportKind::TopologySvg => "Topology, SVG",
            ExportKind::TopologyPng => "Topology, PNG",
            ExportKind::Mermaid => "Chart, Mermaid (.mmd)",
            ExportKind::Json => "Run as JSON",
            ExportKind::Toml => "Scenario file (.toml)",
            ExportKind::Capture => "Capture + Wireshark keys (.zip)",
        }
    }

    /// The file name's end after the scenario's name.
    fn suffix(self) -> &'static str {
        match self {
            ExportKind::Ascii => ".txt",
            ExportKind::ChartSvg => ".svg",
            ExportKind::ChartPng => ".png",
            ExportKind::TopologySvg => " topology.svg",
            ExportKind::TopologyPng => " topology.png",
            ExportKind::Mermaid => ".mmd",
            ExportKind::Json => ".json",
            ExportKind::Toml => ".toml",
            ExportKind::Capture => ".zip",
        }
    }

    /// The flag of `mobike export` that writes this file, if it has one.
    fn flag(self) -> Option<&'static str> {
        match self {
            ExportKind::Ascii => Some("--ascii"),
            ExportKind::ChartSvg => Some("--svg"),
            ExportKind::Mermaid => Some("--mermaid"),
            ExportKind::Json => Some("--json"),
            ExportKind::Capture => Some("--zip"),
            _ => None,
        }
    }
}

/// What a download holds.
#[derive(Clone, Debug, PartialEq)]
pub enum Body {
    /// These bytes, of this media type.
    Bytes { data: Rc<[u8]>, mime: &'static str },
    /// This SVG document drawn into a PNG (by the browser).
    PngOf(Rc<str>),
    /// The drawing of the page's element of this id (an `<svg>`), with the
    /// page's styles written into it; as SVG, or drawn into a PNG.
    Element { id: &'static str, png: bool },
}

/// The host a capture is taken at unless the user picks another: the
/// CLI's default, the first responder (or the first host).
pub fn default_capture_host(s: &impl Shown) -> String {
    pcap::default_capture_host(&s.scenario)
}

/// The base of every file name: the scenario's title.
pub fn base_name(s: &impl Shown) -> String {
    let toml = file_name(&s.scenario.title);
    toml.strip_suffix(".toml").unwrap_or(&toml).to_string()
}

/// The file name of this download.
pub fn name(s: &impl Shown, kind: ExportKind) -> String {
    format!("{}{}", base_name(s), kind.suffix())
}

/// Makes the download of `kind`: the run up to now, charts with `view`.
pub fn make(
    s: &impl Shown,
    view: &ExportView,
    kind: ExportKind,
    capture_at: &str,
) -> Result<Body, String> {
    let chart = s.chart();
    let bytes = |text: String, mime: &'static str| Body::Bytes {
        data: Rc::from(text.into_bytes()),
        mime,
    };
    Ok(match kind {
        ExportKind::Ascii => bytes(ascii_text(s, view), "text/plain"),
        ExportKind::ChartSvg => bytes(svg::render(chart, &view.svg(&s.groups)), "image/svg+xml"),
        ExportKind::ChartPng => Body::PngOf(Rc::from(svg::render(chart, &view.svg(&s.groups)))),
        ExportKind::TopologySvg => Body::Element {
            id: "topology",
            png: false,
        },
        ExportKind::TopologyPng => Body::Element {
            id: "topology",
            png: true,
        },
        ExportKind::Mermaid => bytes(
            mermaid::render(chart, &s.scenario.title, &view.ascii(&s.groups)),
            "text/plain",
        ),
        ExportKind::Json => {
            let m = metrics::compute(s.trace());
            bytes(
                json::render(
                    &s.saved_scenario(),
                    json::host_states(s.world_read()),
                    chart,
                    &m,
                    s.now(),
                ),
                "application/json",
            )
        }
        ExportKind::Toml => bytes(s.save_toml()?, "application/toml"),
        ExportKind::Capture => {
            if !s.scenario.hosts.iter().any(|h| h.id == capture_at) {
                return Err(format!("no host {capture_at:?} to capture at"));
            }
            Body::Bytes {
                data: Rc::from(pcap::wireshark_zip(s.trace(), capture_at)),
                mime: "application/zip",
            }
        }
    })
}

/// The ASCII chart as shown (also what "Copy" puts on the clipboard).
pub fn ascii_text(s: &impl Shown, view: &ExportView) -> String {
    ascii::render(s.chart(), &view.ascii(&s.groups))
}

/// The arguments of `mobike` that write every file the CLI can from the
/// downloaded scenario file: the same bytes as the page's downloads.
pub fn cli_args(s: &impl Shown, view: &ExportView, capture_at: &str) -> Vec<String> {
    let mut out = vec![
        "export".to_string(),
        name(s, ExportKind::Toml),
        "--until".to_string(),
        Dur(s.now()).to_string(),
    ];
    out.extend(view.args());
    for kind in ExportKind::ALL {
        if let Some(flag) = kind.flag() {
            out.push(flag.to_string());
            out.push(name(s, kind));
        }
    }
    if capture_at != default_capture_host(s) {
        out.push("--capture-at".to_string());
        out.push(capture_at.to_string());
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::session::DEFAULT_SCENARIO;
    use crate::session::Session;
    use mobike_protocol::SEC;

    fn text(b: Body) -> String {
        match b {
            Body::Bytes { data, .. } => String::from_utf8(data.to_vec()).unwrap(),
            other => panic!("not bytes: {other:?}"),
        }
    }

    #[test]
    fn downloads_are_the_run_up_to_now_with_the_view() {
        let mut s = Session::from_toml(DEFAULT_SCENARIO).unwrap();
        s.advance(12 * SEC);
        let mut view = ExportView::default();
        let all = text(make(&s, &view, ExportKind::Ascii, "gateway").unwrap());
        assert!(all.contains("IKE_SA_INIT"));
        assert!(!all.contains("30.000s"), "nothing after now");
        view.hide("ike_sa_init").unwrap();
        let some = text(make(&s, &view, ExportKind::Ascii, "gateway").unwrap());
        assert!(!some.contains("IKE_SA_INIT") && some.contains("IKE_AUTH"));
        assert_eq!(some, ascii_text(&s, &view));
        let toml = text(make(&s, &view, ExportKind::Toml, "gateway").unwrap());
        assert!(toml.contains("[[host]]"));
        let Body::Bytes { data, mime } = make(&s, &view, ExportKind::Capture, "gateway").unwrap()
        else {
            panic!()
        };
        assert_eq!((&data[..2], mime), (&b"PK"[..], "application/zip"));
        let e = make(&s, &view, ExportKind::Capture, "nobody").unwrap_err();
        assert!(e.contains("nobody"));
    }

    #[test]
    fn the_command_names_the_moment_the_view_and_every_file() {
        let mut s = Session::from_toml(DEFAULT_SCENARIO).unwrap();
        s.advance(12 * SEC + 345);
        let mut view = ExportView::default();
        view.hide("keepalive").unwrap();
        let host = default_capture_host(&s);
        let args = cli_args(&s, &view, &host).join(" ");
        let base = base_name(&s);
        assert!(
            args.starts_with(&format!(
                "export {base}.toml --until 12000345us --hide keepalive"
            )),
            "{args}"
        );
        for end in [".txt", ".svg", ".mmd", ".json", ".zip"] {
            assert!(args.contains(&format!("{base}{end}")), "{end}: {args}");
        }
        assert!(!args.contains("--capture-at"));
        let other = cli_args(&s, &view, "laptop").join(" ");
        assert!(other.ends_with("--capture-at laptop"), "{other}");
    }
}
