//! The page's components. They read the session and the render crate's view
//! models and dispatch [`Action`]s; side effects (the animation interval,
//! keyboard shortcuts) live in effects.

use crate::session::{
    CHIP_H, CHIP_W, EXAMPLES, INTERFACE_GAP, Source, TOPO_H, TOPO_W, host_half_width,
};
use crate::{Action, ErrorNote, Model};
use gloo_events::{EventListener, EventListenerOptions};
use gloo_timers::callback::Interval;
use mobike_protocol::{SEC, SaSnapshot, SaState, Time};
use mobike_render::chart::What;
use mobike_render::{fmt_time, svg};
use wasm_bindgen::JsCast;
use web_sys::{Element, HtmlElement, HtmlInputElement, HtmlSelectElement, PointerEvent};
use yew::prelude::*;

type Handle = UseReducerHandle<Model>;

/// Wall-clock milliseconds between animation ticks.
const TICK_MS: u32 = 40;

pub fn page(model: &Handle) -> Html {
    html! { <Page model={model.clone()} /> }
}

#[derive(Properties, PartialEq)]
struct Props {
    model: Handle,
}

#[function_component(Page)]
fn page_component(Props { model }: &Props) -> Html {
    // Animation: while playing, tick the simulation.
    {
        let dispatcher = model.dispatcher();
        use_effect_with(model.ui.playing, move |playing| {
            let interval = playing.then(|| {
                Interval::new(TICK_MS, move || dispatcher.dispatch(Action::Tick(TICK_MS)))
            });
            move || drop(interval)
        });
    }
    // Keyboard: Space plays/pauses, "." steps, "r" resets, ← and → move
    // one second through time.
    {
        let dispatcher = model.dispatcher();
        use_effect_with((), move |_| {
            let listener = web_sys::window().and_then(|w| w.document()).map(|doc| {
                // Not passive: Space must not scroll the page.
                let options = EventListenerOptions::enable_prevent_default();
                EventListener::new_with_options(&doc, "keydown", options, move |e| {
                    let Some(e) = e.dyn_ref::<web_sys::KeyboardEvent>() else {
                        return;
                    };
                    let typing = e
                        .target()
                        .and_then(|t| t.dyn_into::<Element>().ok())
                        .is_some_and(|el| {
                            matches!(el.tag_name().as_str(), "INPUT" | "SELECT" | "TEXTAREA")
                        });
                    if typing || e.ctrl_key() || e.meta_key() || e.alt_key() {
                        return;
                    }
                    let step = crate::SEEK_STEP as i64;
                    match e.key().as_str() {
                        " " => {
                            e.prevent_default();
                            dispatcher.dispatch(Action::TogglePlay);
                        }
                        "." => dispatcher.dispatch(Action::Step),
                        "r" => dispatcher.dispatch(Action::Reset),
                        "ArrowLeft" => {
                            e.prevent_default();
                            dispatcher.dispatch(Action::SeekBy(-step));
                        }
                        "ArrowRight" => {
                            e.prevent_default();
                            dispatcher.dispatch(Action::SeekBy(step));
                        }
                        _ => {}
                    }
                })
            });
            move || drop(listener)
        });
    }
    // The URL hash follows the share link; a hash typed or pasted into
    // this tab opens that run.
    use_effect_with(model.ui.share.clone(), |share| {
        set_hash(share.as_deref());
    });
    {
        let dispatcher = model.dispatcher();
        use_effect_with((), move |_| {
            let listener = web_sys::window().map(|w| {
                EventListener::new(&w, "hashchange", move |_| {
                    let hash = web_sys::window()
                        .and_then(|w| w.location().hash().ok())
                        .unwrap_or_default();
                    dispatcher.dispatch(Action::OpenHash(hash));
                })
            });
            move || drop(listener)
        });
    }
    let title = model.session.borrow().scenario.title.clone();
    let description = model.session.borrow().scenario.description.clone();
    html! {
        <div class="app">
            <header>
                <h1>{"MOBIKE Playground"}</h1>
                <span class="scenario-title">{title}</span>
            </header>
            <Toolbar model={model.clone()} />
            <Timeline model={model.clone()} />
            <Notices model={model.clone()} />
            <Narration model={model.clone()} />
            <main>
                <section class="left">
                    <Topology model={model.clone()} />
                    <p class="hint">{"Click a link to break or restore it · drag the NAT box onto a link · drag the time slider to go back; a change there starts a new timeline · click a message to inspect it"}</p>
                    <div class="description">
                        // Scenario files wrap their text by hand; blank lines part paragraphs.
                        { for description.split("\n\n").filter(|p| !p.trim().is_empty()).map(|p| html! {
                            <p>{p.split_whitespace().collect::<Vec<_>>().join(" ")}</p>
                        }) }
                    </div>
                    <div class="side-by-side">
                        <Traffic model={model.clone()} />
                        <NatPanels model={model.clone()} />
                    </div>
                </section>
                <section class="right">
                    <StatePanels model={model.clone()} />
                </section>
            </main>
            <section class="bottom">
                <ChartView model={model.clone()} />
                <Inspector model={model.clone()} />
            </section>
        </div>
    }
}

/// Puts the share link's hash in the address bar (or takes a stale one
/// out) without a history entry or a hashchange event.
fn set_hash(hash: Option<&str>) {
    let Some(w) = web_sys::window() else { return };
    let current = w.location().hash().unwrap_or_default();
    let want = hash.map(|h| format!("#{h}")).unwrap_or_default();
    if current == want {
        return;
    }
    let path = w.location().pathname().unwrap_or_default();
    let search = w.location().search().unwrap_or_default();
    if let Ok(history) = w.history() {
        let _ = history.replace_state_with_url(
            &wasm_bindgen::JsValue::NULL,
            "",
            Some(&format!("{path}{search}{want}")),
        );
    }
}

/// The page's address with this hash.
fn share_url(hash: &str) -> String {
    let href = web_sys::window()
        .and_then(|w| w.location().href().ok())
        .unwrap_or_default();
    let base = href.split('#').next().unwrap_or_default();
    format!("{base}#{hash}")
}

/// Copies text to the clipboard where the browser allows it; a refusal is
/// fine (the link is shown in a text field too).
fn copy_to_clipboard(text: &str) {
    use web_sys::js_sys::{Promise, Reflect};
    let Some(w) = web_sys::window() else { return };
    let nav = w.navigator();
    if !Reflect::has(&nav, &"clipboard".into()).unwrap_or(false) {
        return;
    }
    let promise: Promise = nav.clipboard().write_text(text);
    let ignore = wasm_bindgen::closure::Closure::<dyn FnMut(wasm_bindgen::JsValue)>::new(|_| {});
    let _ = promise.catch(&ignore);
    ignore.forget();
}

#[function_component(Toolbar)]
fn toolbar(Props { model }: &Props) -> Html {
    let d = model.dispatcher();
    let play = {
        let d = d.clone();
        Callback::from(move |_| d.dispatch(Action::TogglePlay))
    };
    let step = {
        let d = d.clone();
        Callback::from(move |_| d.dispatch(Action::Step))
    };
    let reset = {
        let d = d.clone();
        Callback::from(move |_| d.dispatch(Action::Reset))
    };
    let speed = {
        let d = d.clone();
        Callback::from(move |e: Event| {
            if let Some(v) = e
                .target()
                .and_then(|t| t.dyn_into::<HtmlSelectElement>().ok())
                .and_then(|sel| sel.value().parse::<u32>().ok())
            {
                d.dispatch(Action::SetSpeed(v));
            }
        })
    };
    let s = model.session.borrow();
    let now = s.now();
    let current = match &s.source {
        Source::Example(name) => EXAMPLES.iter().position(|(n, _)| n == name),
        Source::File(_) => None,
    };
    let from_file = current
        .is_none()
        .then(|| format!("(from file) {}", s.scenario.title));
    let seed = s.scenario.seed;
    drop(s);
    let pick = {
        let d = d.clone();
        Callback::from(move |e: Event| {
            if let Some(i) = e
                .target()
                .and_then(|t| t.dyn_into::<HtmlSelectElement>().ok())
                .and_then(|sel| sel.value().parse::<usize>().ok())
            {
                d.dispatch(Action::LoadExample(i));
            }
        })
    };
    let set_seed = {
        let d = d.clone();
        Callback::from(move |e: Event| {
            if let Some(v) = e
                .target()
                .and_then(|t| t.dyn_into::<HtmlInputElement>().ok())
                .and_then(|i| i.value().trim().parse::<u64>().ok())
            {
                d.dispatch(Action::SetSeed(v));
            }
        })
    };
    let share = {
        let d = d.clone();
        Callback::from(move |_| d.dispatch(Action::Share))
    };
    html! {
        <div class="toolbar">
            <label class="picker">{"Scenario "}
                <select id="scenario" onchange={pick}>
                    { for from_file.map(|t| html! { <option value="file" selected=true>{t}</option> }) }
                    { for crate::session::example_titles().iter().enumerate().map(|(i, title)| html! {
                        <option value={i.to_string()} selected={current == Some(i)}>{title.clone()}</option>
                    }) }
                </select>
            </label>
            <OpenFile model={model.clone()} />
            <button id="play" class={classes!("primary", model.ui.playing.then_some("on"))} onclick={play}
                title="Play or pause (Space)">
                { if model.ui.playing { "❚❚ Pause" } else { "▶ Play" } }
            </button>
            <button id="step" onclick={step} title="Run to the next event (.)">{"Step"}</button>
            <button id="reset" onclick={reset} title="Start the scenario over, without your interventions (r)">{"Reset"}</button>
            <label class="speed">{"Speed "}
                <select id="speed" onchange={speed}>
                    { for [1u32, 4, 16, 64].iter().map(|s| html! {
                        <option value={s.to_string()} selected={model.ui.speed == *s}>{format!("{s}×")}</option>
                    }) }
                </select>
            </label>
            <label class="seed" title="Every random draw (SPIs, nonces, keys, losses) comes from the seed; changing it starts over">{"Seed "}
                <input id="seed" type="number" min="0" value={seed.to_string()} onchange={set_seed} />
            </label>
            <span id="clock" class="clock" data-us={now.to_string()}>{format!("t = {}", fmt_time(now))}</span>
            <button id="share" onclick={share} title="A link that replays this run up to this moment">{"Share"}</button>
        </div>
    }
}

/// "Open file…": a button and a hidden file input; the text is read and
/// handed to the reducer, which keeps the current scenario if it is bad.
#[function_component(OpenFile)]
fn open_file(Props { model }: &Props) -> Html {
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
        let d = model.dispatcher();
        Callback::from(move |e: Event| {
            let Some(el) = e
                .target()
                .and_then(|t| t.dyn_into::<HtmlInputElement>().ok())
            else {
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

/// The largest scenario file the page opens.
const MAX_FILE: u64 = 1 << 20;

/// The timeline scrubber: the run so far (and the scenario's length), the
/// moment shown, and the user's interventions as marks.
#[function_component(Timeline)]
fn timeline(Props { model }: &Props) -> Html {
    let s = model.session.borrow();
    let now = s.now();
    let end = s.end().max(1);
    let horizon = s.horizon();
    let ms = |t: Time| t / 1000;
    let pct = |t: Time| (t as f64 / end as f64 * 100.0).clamp(0.0, 100.0);
    let oninput = {
        let d = model.dispatcher();
        Callback::from(move |e: InputEvent| {
            if let Some(v) = e
                .target()
                .and_then(|t| t.dyn_into::<HtmlInputElement>().ok())
                .and_then(|i| i.value().parse::<f64>().ok())
            {
                d.dispatch(Action::Seek((v.max(0.0) * 1000.0) as Time));
            }
        })
    };
    // Keys on the slider: ← → a tenth of a second, PageUp/PageDown five
    // seconds, Home the start, End as far as the run has gone.
    let onkeydown = {
        let d = model.dispatcher();
        Callback::from(move |e: KeyboardEvent| {
            let tenth = (SEC / 10) as i64;
            let action = match e.key().as_str() {
                "ArrowLeft" | "ArrowDown" => Action::SeekBy(-tenth),
                "ArrowRight" | "ArrowUp" => Action::SeekBy(tenth),
                "PageDown" => Action::SeekBy(-50 * tenth),
                "PageUp" => Action::SeekBy(50 * tenth),
                "Home" => Action::Seek(0),
                "End" => Action::Seek(horizon),
                _ => return,
            };
            e.prevent_default();
            d.dispatch(action);
        })
    };
    let marks = s.log().iter().map(|(t, a)| {
        let text = crate::share::describe(a);
        html! {
            <span class={classes!("mark", (*t > now).then_some("future"))}
                style={format!("left: {:.3}%", pct(*t))} title={format!("{}: {text} (by you)", fmt_time(*t))}></span>
        }
    });
    let viewing_past = now < horizon;
    html! {
        <div class="timeline">
            <label for="scrubber" class="tl-label">{"Time"}</label>
            <div class="scrub">
                <input id="scrubber" type="range" min="0" max={ms(end).to_string()} step="any"
                    value={ms(now).to_string()} oninput={oninput} onkeydown={onkeydown}
                    style={format!("--known: {:.2}%", pct(horizon))}
                    aria-valuetext={fmt_time(now)}
                    title="Drag (or use ← → PageUp PageDown Home End) to see any moment; changing something there starts a new timeline" />
                <div class="marks">{ for marks }</div>
            </div>
            <span id="scrub-time" class={classes!("scrub-time", viewing_past.then_some("past"))}>
                { if viewing_past {
                    format!("{} (run to {})", fmt_time(now), fmt_time(horizon))
                } else {
                    format!("{} of {}", fmt_time(now), fmt_time(end))
                } }
            </span>
        </div>
    }
}

/// The error panel, the fork notice and the share link.
#[function_component(Notices)]
fn notices(Props { model }: &Props) -> Html {
    let d = model.dispatcher();
    // A new link goes to the clipboard too.
    {
        let open = model.ui.share.clone().filter(|_| model.ui.share_open);
        use_effect_with(open, |share| {
            if let Some(h) = share {
                copy_to_clipboard(&share_url(h));
            }
        });
    }
    let error = model.ui.error.as_ref().map(|e| {
        let dismiss = {
            let d = d.clone();
            Callback::from(move |_| d.dispatch(Action::DismissError))
        };
        let excerpt = e.excerpt.as_ref().map(|(line, text, col)| {
            let gutter = format!("{line:>4} | ");
            let caret = format!(
                "{}^",
                " ".repeat(gutter.chars().count() + col.saturating_sub(1))
            );
            html! { <pre class="excerpt">{format!("{gutter}{text}\n{caret}")}</pre> }
        });
        html! {
            <div id="error-panel" class="notice error-panel" role="alert">
                <div class="notice-body">
                    <strong>{e.title.clone()}</strong>
                    <p id="error-message">{e.message.clone()}</p>
                    { for excerpt }
                </div>
                <button class="dismiss" onclick={dismiss} title="Dismiss" aria-label="Dismiss">{"×"}</button>
            </div>
        }
    });
    let fork = model.ui.notice.as_ref().map(|n| {
        let dismiss = {
            let d = d.clone();
            Callback::from(move |_| d.dispatch(Action::DismissNotice))
        };
        html! {
            <div id="fork-notice" class="notice fork" role="status">
                <div class="notice-body">{n.clone()}</div>
                <button class="dismiss" onclick={dismiss} title="Dismiss" aria-label="Dismiss">{"×"}</button>
            </div>
        }
    });
    let share = model
        .ui
        .share
        .as_ref()
        .filter(|_| model.ui.share_open)
        .map(|h| {
            let close = {
                let d = d.clone();
                Callback::from(move |_| d.dispatch(Action::CloseShare))
            };
            let select = Callback::from(|e: FocusEvent| {
                if let Some(i) = e
                    .target()
                    .and_then(|t| t.dyn_into::<HtmlInputElement>().ok())
                {
                    i.select();
                }
            });
            html! {
                <div id="share-panel" class="notice share" role="status">
                    <div class="notice-body">
                        <label for="share-link">{"Link to this run (copied to the clipboard where the browser allows it):"}</label>
                        <input id="share-link" type="text" readonly=true value={share_url(h)} onfocus={select} />
                    </div>
                    <button class="dismiss" onclick={close} title="Close" aria-label="Close">{"×"}</button>
                </div>
            }
        });
    html! {
        <div class="notices">
            { for error }
            { for fork }
            { for share }
        </div>
    }
}

/// The scenario's narration: the step shown last, and lesson mode.
#[function_component(Narration)]
fn narration(Props { model }: &Props) -> Html {
    let s = model.session.borrow();
    let Some((k, n, text)) = s.narration() else {
        return html! {};
    };
    let toggle = {
        let d = model.dispatcher();
        Callback::from(move |_: Event| d.dispatch(Action::ToggleLesson))
    };
    let paused_here = model.ui.lesson && !model.ui.playing && k > 0 && k < n;
    html! {
        <div id="narration" class="panel narration" aria-live="polite">
            <div class="narration-head">
                <span id="narration-step" class="step-count">{ if k == 0 { format!("{n} steps") } else { format!("Step {k} of {n}") } }</span>
                <label title="Playback pauses whenever a new step appears; Space or Play continues">
                    <input id="lesson" type="checkbox" checked={model.ui.lesson} onchange={toggle} />
                    {" pause at each step"}
                </label>
            </div>
            <p id="narration-text" class={classes!((k == 0).then_some("muted"))}>
                { if k == 0 { "The first step appears when its moment comes: press Play.".to_string() } else { text.to_string() } }
            </p>
            { if paused_here { html! { <p class="muted continue">{"Paused at this step: Space or Play continues."}</p> } } else { html! {} } }
        </div>
    }
}

#[derive(Clone, PartialEq)]
struct DragState {
    id: String,
    /// Offset from the pointer to the node's centre.
    offset: [f64; 2],
}

fn svg_point(svg: &NodeRef, e: &PointerEvent) -> Option<[f64; 2]> {
    let el = svg.cast::<Element>()?;
    let r = el.get_bounding_client_rect();
    if r.width() <= 0.0 || r.height() <= 0.0 {
        return None;
    }
    Some([
        (e.client_x() as f64 - r.left()) * TOPO_W / r.width(),
        (e.client_y() as f64 - r.top()) * TOPO_H / r.height(),
    ])
}

#[function_component(Topology)]
fn topology(Props { model }: &Props) -> Html {
    let svg_ref = use_node_ref();
    let drag = use_state(|| None::<DragState>);
    let s = model.session.borrow();
    let links = s.world.links();
    let nats = s.world.nats();
    let hosts = s.world.hosts();
    let inet = s.layout.get("internet").copied().unwrap_or([360.0, 170.0]);
    // Links that carry some IKE SA's current path.
    let active: Vec<String> = s
        .scenario
        .hosts
        .iter()
        .zip(&hosts)
        .flat_map(|(spec, h)| {
            h.sas
                .iter()
                .filter(|sa| sa.state != SaState::Deleted)
                .filter_map(move |sa| {
                    spec.interfaces
                        .iter()
                        .find(|f| f.address == sa.local.ip())
                        .map(|f| f.link.clone())
                })
        })
        .collect();

    let start_drag = |id: String, center: [f64; 2]| {
        let drag = drag.clone();
        let svg_ref = svg_ref.clone();
        Callback::from(move |e: PointerEvent| {
            e.prevent_default();
            if let Some(p) = svg_point(&svg_ref, &e) {
                if let Some(t) = e.target().and_then(|t| t.dyn_into::<Element>().ok()) {
                    let _ = t.set_pointer_capture(e.pointer_id());
                }
                drag.set(Some(DragState {
                    id: id.clone(),
                    offset: [center[0] - p[0], center[1] - p[1]],
                }));
            }
        })
    };
    let onpointermove = {
        let drag = drag.clone();
        let svg_ref = svg_ref.clone();
        let d = model.dispatcher();
        Callback::from(move |e: PointerEvent| {
            if let (Some(st), Some(p)) = (&*drag, svg_point(&svg_ref, &e)) {
                d.dispatch(Action::Drag(
                    st.id.clone(),
                    clamp([p[0] + st.offset[0], p[1] + st.offset[1]]),
                ));
            }
        })
    };
    let onpointerup = {
        let drag = drag.clone();
        let svg_ref = svg_ref.clone();
        let d = model.dispatcher();
        Callback::from(move |e: PointerEvent| {
            if let (Some(st), Some(p)) = (&*drag, svg_point(&svg_ref, &e)) {
                d.dispatch(Action::Drop(
                    st.id.clone(),
                    clamp([p[0] + st.offset[0], p[1] + st.offset[1]]),
                ));
            }
            drag.set(None);
        })
    };

    let mut link_svg = Vec::new();
    for l in &links {
        let Some(a) = s.link_anchor(&l.id) else {
            continue;
        };
        let nat = nats
            .iter()
            .find(|n| n.link.as_deref() == Some(l.id.as_str()));
        let via = nat.and_then(|n| s.layout.get(&n.id).copied());
        let points = match via {
            Some(v) => format!(
                "{},{} {},{} {},{}",
                a[0], a[1], v[0], v[1], inet[0], inet[1]
            ),
            None => format!("{},{} {},{}", a[0], a[1], inet[0], inet[1]),
        };
        // The label and the break mark sit on the stretch nearest the
        // internet, clear of the host box and the NAT box.
        // Halfway along the part outside the internet's ellipse (62 by 36).
        let from = via.unwrap_or(a);
        let (dx, dy) = (inet[0] - from[0], inet[1] - from[1]);
        let len = dx.hypot(dy).max(1.0);
        let r = 1.0 / ((dx / len / 62.0).powi(2) + (dy / len / 36.0).powi(2)).sqrt();
        let f = ((len - r).max(0.0) / 2.0 / len).clamp(0.1, 0.5);
        let mid = [from[0] + dx * f, from[1] + dy * f];
        let d = model.dispatcher();
        let id = l.id.clone();
        let onclick = Callback::from(move |_| d.dispatch(Action::ToggleLink(id.clone())));
        let class = classes!(
            "link",
            if l.up { "up" } else { "down" },
            active.contains(&l.id).then_some("active")
        );
        let delay = format!("{} · {} ms", l.label, l.delay / 1000);
        // Labels of a host's links would sit on top of each other near the
        // host: its lowest link gets its label under the line (unless the
        // line is steep: a label under it would sit on it).
        let below = dy.abs() < 0.6 * dx.abs()
            && s.scenario.hosts.iter().any(|h| {
                h.interfaces.len() > 1 && h.interfaces.last().is_some_and(|f| f.link == l.id)
            });
        let label_y = if below { mid[1] + 16.0 } else { mid[1] - 8.0 };
        link_svg.push(html! {
            <g class={class} id={format!("link-{}", l.id)} data-up={l.up.to_string()} onclick={onclick}>
                <title>{ if l.up { format!("{}: click to break it", l.label) } else { format!("{}: broken, click to restore it", l.label) } }</title>
                <polyline class="wire" points={points.clone()} />
                <polyline class="hit" points={points} />
                <text class="link-label" x={mid[0].to_string()} y={label_y.to_string()}>{delay}</text>
                { if l.up { html!{} } else { html! {
                    <path class="cut" d={format!("M{} {} l12 12 M{} {} l-12 12", mid[0]-6.0, mid[1]-6.0, mid[0]+6.0, mid[1]-6.0)} />
                } } }
            </g>
        });
    }

    let mut host_svg = Vec::new();
    for (k, (spec, h)) in s.scenario.hosts.iter().zip(&hosts).enumerate() {
        if s.group_of(k).is_some() {
            continue;
        }
        let p = s.layout.get(&spec.id).copied().unwrap_or(spec.pos);
        let n = spec.interfaces.len().max(1) as f64;
        let hgt = 44.0 + INTERFACE_GAP * n;
        let top = p[1] - hgt / 2.0;
        let onpointerdown = start_drag(spec.id.clone(), p);
        let mut ifaces = Vec::new();
        for (f, (name, label, addr, link, up)) in spec.interfaces.iter().zip(&h.interfaces) {
            let Some(a) = s.link_anchor(link) else {
                continue;
            };
            // The label sits inside the box, against the interface's dot.
            let right = a[0] > p[0];
            let tx = if right { a[0] - 9.0 } else { a[0] + 9.0 };
            let anchor = if right { "end" } else { "start" };
            let text = if label.is_empty() {
                format!("{name} {addr}")
            } else {
                format!("{label} {addr}")
            };
            ifaces.push(html! {
                <g class={classes!("iface", (!*up).then_some("down"))} id={format!("iface-{}-{}", spec.id, f.name)}>
                    <circle cx={a[0].to_string()} cy={a[1].to_string()} r="5" />
                    <text x={tx.to_string()} y={(a[1] + 4.0).to_string()} text-anchor={anchor}>{text}</text>
                </g>
            });
        }
        host_svg.push(html! {
            <g class={classes!("host", spec.id.clone())} id={format!("host-{}", spec.id)}>
                <rect class="box" x={(p[0] - host_half_width(spec)).to_string()} y={top.to_string()}
                    width={(2.0 * host_half_width(spec)).to_string()} height={hgt.to_string()} rx="10"
                    onpointerdown={onpointerdown} />
                <text class="host-label" x={p[0].to_string()} y={(top + 18.0).to_string()}>{h.label.clone()}</text>
                <text class="host-role" x={p[0].to_string()} y={(top + 31.0).to_string()}>{format!("{:?}", h.role).to_lowercase()}</text>
                { for ifaces }
            </g>
        });
    }

    for g in &s.groups {
        let b = s.group_box(g);
        let (left, top) = (b.centre[0] - b.width / 2.0, b.centre[1] - b.height / 2.0);
        let onpointerdown = start_drag(g.key.clone(), b.centre);
        let (Some(first), Some(last)) = (
            g.members.first().and_then(|&m| s.scenario.hosts.get(m)),
            g.members.last().and_then(|&m| s.scenario.hosts.get(m)),
        ) else {
            continue;
        };
        let addrs = first
            .interfaces
            .iter()
            .zip(&last.interfaces)
            .map(|(a, z)| format!("{} {} – {}", a.name, a.address, z.address))
            .collect::<Vec<_>>()
            .join(" · ");
        let dots = first.interfaces.iter().filter_map(|f| {
            let a = s.link_anchor(&f.link)?;
            Some(html! { <circle class="iface-dot" cx={a[0].to_string()} cy={a[1].to_string()} r="5" /> })
        });
        let mut counts = [0usize; 4];
        let chips: Vec<Html> = g
            .members
            .iter()
            .enumerate()
            .filter_map(|(k, &m)| {
                let spec = s.scenario.hosts.get(m)?;
                let h = hosts.get(m)?;
                let sa = h.sas.last();
                let (state, word) = match sa.map(|sa| sa.state) {
                    None => (0, "no IKE SA yet"),
                    Some(SaState::Established) => (1, "established"),
                    Some(SaState::Deleted) => (3, "deleted"),
                    Some(_) => (2, "setting up"),
                };
                counts[state] += 1;
                if b.cols == 0 {
                    return None;
                }
                let moved = sa.is_some_and(|sa| spec.peer.is_some_and(|p| p != sa.remote.ip()));
                let p = s.chip_pos(&b, k);
                let path = sa.map_or(String::new(), |sa| format!(" · {} ⇄ {}", sa.local, sa.remote));
                let d = model.dispatcher();
                let id = spec.id.clone();
                let onclick = Callback::from(move |_| d.dispatch(Action::FocusHost(id.clone())));
                let class = classes!(
                    "chip",
                    ["idle", "up", "setup", "gone"][state],
                    moved.then_some("moved"),
                    (model.ui.focus.as_deref() == Some(spec.id.as_str())).then_some("focused")
                );
                Some(html! {
                    <g class={class} id={format!("chip-{}", spec.id)} onclick={onclick}>
                        <title>{format!("{} ({}){path} · {word}; click for its state", h.label, spec.interfaces.first().map(|f| f.address.to_string()).unwrap_or_default())}</title>
                        <rect x={p[0].to_string()} y={p[1].to_string()} width={CHIP_W.to_string()} height={CHIP_H.to_string()} rx="4" />
                        <text x={(p[0] + CHIP_W / 2.0).to_string()} y={(p[1] + CHIP_H / 2.0 + 4.0).to_string()}>{(k + 1).to_string()}</text>
                    </g>
                })
            })
            .collect();
        let summary = (b.cols == 0).then(|| {
            html! {
                <text class="host-role" x={b.centre[0].to_string()} y={(top + 58.0).to_string()}>
                    {format!("{} established · {} setting up · {} idle", counts[1], counts[2], counts[0])}
                </text>
            }
        });
        host_svg.push(html! {
            <g class="host group" id={format!("group-box-{}", g.id)}>
                <rect class="box" x={left.to_string()} y={top.to_string()}
                    width={b.width.to_string()} height={b.height.to_string()} rx="10"
                    onpointerdown={onpointerdown} />
                <text class="host-label" x={b.centre[0].to_string()} y={(top + 16.0).to_string()}>
                    {format!("{} × {}", g.label, g.members.len())}
                </text>
                <text class="host-role group-addrs" x={b.centre[0].to_string()} y={(top + 29.0).to_string()}>{addrs}</text>
                { for dots }
                { for chips }
                { for summary }
            </g>
        });
    }

    let mut nat_svg = Vec::new();
    for n in &nats {
        let p = s.layout.get(&n.id).copied().unwrap_or([0.0, 0.0]);
        let onpointerdown = start_drag(n.id.clone(), p);
        let placed = n.link.is_some();
        nat_svg.push(html! {
            <g class={classes!("nat", placed.then_some("placed"))} id={format!("nat-{}", n.id)}
               data-link={n.link.clone().unwrap_or_default()} onpointerdown={onpointerdown}>
                <title>{"Drag onto a link to put this NAT in its path; drag it away to take it out"}</title>
                <rect x={(p[0] - 52.0).to_string()} y={(p[1] - 20.0).to_string()} width="104" height="40" rx="6" />
                <text class="nat-label" x={p[0].to_string()} y={(p[1] - 4.0).to_string()}>{n.label.clone()}</text>
                <text class="nat-addr" x={p[0].to_string()} y={(p[1] + 11.0).to_string()}>{n.public_address.to_string()}</text>
            </g>
        });
    }

    html! {
        <svg ref={svg_ref} id="topology" class="topology" viewBox={format!("0 0 {TOPO_W} {TOPO_H}")}
             onpointermove={onpointermove} onpointerup={onpointerup}>
            { for link_svg }
            // Drawn over the link ends, so links meet the cloud's edge.
            <ellipse class="internet" cx={inet[0].to_string()} cy={inet[1].to_string()} rx="62" ry="36" />
            <text class="internet-label" x={inet[0].to_string()} y={(inet[1] + 5.0).to_string()}>{"Internet"}</text>
            { for host_svg }
            { for nat_svg }
        </svg>
    }
}

fn clamp(p: [f64; 2]) -> [f64; 2] {
    [
        p[0].clamp(20.0, TOPO_W - 20.0),
        p[1].clamp(20.0, TOPO_H - 20.0),
    ]
}

fn fmt_in(t: Option<Time>, now: Time) -> String {
    match t {
        Some(t) if t >= now => format!("in {}", fmt_time(t - now)),
        Some(_) => "due".into(),
        None => "—".into(),
    }
}

fn sa_rows(sa: &SaSnapshot, now: Time) -> Html {
    let list = |v: &[std::net::IpAddr]| {
        v.iter()
            .map(|a| a.to_string())
            .collect::<Vec<_>>()
            .join(", ")
    };
    let ipsec = match (sa.ipsec_local, sa.ipsec_remote) {
        (Some(l), Some(r)) => format!(
            "{l} ⇄ {r}{}",
            if sa.udp_encap { " (UDP-encap)" } else { "" }
        ),
        _ => "—".into(),
    };
    let nat = match (sa.local_behind_nat, sa.peer_behind_nat) {
        (false, false) => "none".to_string(),
        (true, false) => "I am behind a NAT".into(),
        (false, true) => "peer is behind a NAT".into(),
        (true, true) => "both behind NATs".into(),
    };
    let outstanding = match &sa.outstanding {
        Some(o) => format!(
            "{} #{}, {} retransmission{}{}, next {}",
            o.what,
            o.mid,
            o.retransmissions,
            if o.retransmissions == 1 { "" } else { "s" },
            if o.probing { ", probing all paths" } else { "" },
            fmt_in(Some(o.next_retransmit), now)
        ),
        None => "none".into(),
    };
    let row = |k: &str, key: &str, v: String| {
        html! {
            <tr data-key={key.to_string()}><th>{k.to_string()}</th><td>{v}</td></tr>
        }
    };
    html! {
        <>
            { row("State", "state", format!("{:?}{}", sa.state, if sa.mobike { ", MOBIKE" } else { "" })) }
            { row("IKE SA path", "path", format!("{} ⇄ {}", sa.local, sa.remote)) }
            { row("IPsec SAs", "ipsec", ipsec) }
            { row("Own addresses", "own", list(&sa.own_addresses)) }
            { row("Peer addresses", "peer", list(&sa.peer_addresses)) }
            { row("NAT detected", "nat", nat) }
            { row("Pending update", "pending", if sa.pending_update { "yes".into() } else { "no".into() }) }
            { row("COOKIE2 outstanding", "cookie2", sa.cookie2_outstanding.clone().unwrap_or_else(|| "—".into())) }
            { row("Window", "window", sa.window.to_string()) }
            { row("Outstanding request", "outstanding", outstanding) }
            { row("Next liveness check", "liveness", fmt_in(sa.next_liveness, now)) }
            { row("Next NAT-keepalive", "keepalive", fmt_in(sa.next_keepalive, now)) }
        </>
    }
}

/// One host's full state panel; `sa` picks which of its IKE SAs.
fn state_panel(
    h: &mobike_sim::HostView,
    sa: Option<&SaSnapshot>,
    note: Option<String>,
    now: Time,
) -> Html {
    let body = match sa {
        Some(sa) => sa_rows(sa, now),
        None => html! { <tr><td colspan="2" class="muted">{"no IKE SA yet"}</td></tr> },
    };
    let role = format!("{:?}", h.role).to_lowercase();
    html! {
        <div class="panel state" id={format!("state-{}", h.id)}>
            <h2>{h.label.clone()}<span class="role">{ match note { Some(n) => format!("{role} · {n}"), None => role } }</span></h2>
            <table>{body}</table>
        </div>
    }
}

#[function_component(StatePanels)]
fn state_panels(Props { model }: &Props) -> Html {
    let s = model.session.borrow();
    let now = s.now();
    let hosts = s.world.hosts();
    // In a big scenario one member of each group gets a full panel: the
    // one the user picked (chip or table row), else the first.
    let focus: Option<usize> = model
        .ui
        .focus
        .as_ref()
        .and_then(|f| hosts.iter().position(|h| &h.id == f))
        .filter(|&i| s.group_of(i).is_some())
        .or_else(|| s.groups.first().and_then(|g| g.members.first().copied()));
    let focused_spi = focus
        .and_then(|i| hosts.get(i))
        .and_then(|h| h.sas.last())
        .map(|sa| sa.spi_i.clone());
    let mut out = Vec::new();
    for (i, h) in hosts.iter().enumerate() {
        if let Some(g) = s.group_of(i) {
            if g.members.first() != Some(&i) {
                continue;
            }
            let shown = focus.filter(|f| g.members.contains(f)).unwrap_or(i);
            out.push(group_table(model, g, &hosts, shown));
            if let Some(m) = hosts.get(shown) {
                out.push(state_panel(m, m.sas.last(), None, now));
            }
            continue;
        }
        // A host with many IKE SAs (a responder with a group of clients)
        // shows the one with the focused client, else its newest.
        let sa = focused_spi
            .as_ref()
            .and_then(|spi| h.sas.iter().find(|sa| &sa.spi_i == spi))
            .or(h.sas.last());
        let note = (h.sas.len() > 1).then(|| {
            let with = sa
                .and_then(|sa| {
                    hosts
                        .iter()
                        .find(|o| o.id != h.id && o.sas.iter().any(|x| x.spi_i == sa.spi_i))
                })
                .map_or(String::new(), |o| format!("IKE SA with {}, ", o.label));
            format!("{with}{} IKE SAs", h.sas.len())
        });
        out.push(state_panel(h, sa, note, now));
    }
    html! { <div class="panels">{ for out }</div> }
}

/// A group's members in one compact table; a row picks the member whose
/// full panel is shown.
fn group_table(
    model: &Handle,
    g: &crate::session::HostGroup,
    hosts: &[mobike_sim::HostView],
    shown: usize,
) -> Html {
    let rows = g.members.iter().filter_map(|&m| {
        let h = hosts.get(m)?;
        let sa = h.sas.last();
        let state = sa.map_or("—".to_string(), |sa| format!("{:?}", sa.state));
        let path = sa.map_or("—".to_string(), |sa| format!("{} ⇄ {}", sa.local, sa.remote));
        let busy = sa.map_or(String::new(), |sa| {
            let mut v = Vec::new();
            if sa.local_behind_nat || sa.peer_behind_nat {
                v.push("NAT".to_string());
            }
            if sa.pending_update {
                v.push("update pending".into());
            }
            if let Some(o) = &sa.outstanding {
                v.push(format!("{} #{}", o.what, o.mid));
            }
            v.join(", ")
        });
        let d = model.dispatcher();
        let id = h.id.clone();
        let onclick = Callback::from(move |_| d.dispatch(Action::FocusHost(id.clone())));
        Some(html! {
            <tr id={format!("row-{}", h.id)} class={classes!((m == shown).then_some("focused"))} onclick={onclick}
                title="Show this host's full state">
                <td class="name">{h.label.clone()}</td><td>{state}</td><td>{path}</td><td>{busy}</td>
            </tr>
        })
    });
    html! {
        <div class="panel group-table" id={format!("group-{}", g.id)}>
            <h2>{format!("{} × {}", g.label, g.members.len())}<span class="role">{"click a row (or a chip) for its full state"}</span></h2>
            <div class="scroll">
                <table>
                    <tr><th>{"host"}</th><th>{"state"}</th><th>{"IKE SA path"}</th><th>{"busy with"}</th></tr>
                    { for rows }
                </table>
            </div>
        </div>
    }
}

#[function_component(Traffic)]
fn traffic(Props { model }: &Props) -> Html {
    let s = model.session.borrow();
    let Some(ping) = &s.scenario.ping else {
        return html! {};
    };
    let m = mobike_render::metrics::compute(s.world.trace());
    let row = |k: &str, key: &str, v: String| {
        html! {
            <tr data-key={key.to_string()}><th>{k.to_string()}</th><td>{v}</td></tr>
        }
    };
    html! {
        <div class="panel traffic" id="traffic">
            <h2>{"Ping through the tunnel"}<span class="role">{format!("{} → {}, every {}", ping.from, ping.to, ping.interval)}</span></h2>
            <table>
                { row("Requests sent", "sent", m.pings_sent.to_string()) }
                { row("Answered", "answered", m.pings_answered.to_string()) }
                { row("Lost", "lost", m.pings_lost.to_string()) }
                { row("Longest gap", "gap", fmt_time(m.longest_gap)) }
                { row("ESP packets lost", "esp-lost", format!("{} of {}", m.esp_lost, m.esp_packets)) }
                { row("IKE messages", "ike", format!("{} ({} octets, {} lost)", m.ike_messages, m.ike_octets, m.ike_lost)) }
            </table>
        </div>
    }
}

#[function_component(NatPanels)]
fn nat_panels(Props { model }: &Props) -> Html {
    let s = model.session.borrow();
    html! {
        <div class="nat-panels">
        { for s.world.nats().into_iter().map(|n| {
            let place = match &n.link {
                Some(l) => format!("on link {l}"),
                None => "not in any path".to_string(),
            };
            html! {
                <div class="panel nat-table" id={format!("nat-table-{}", n.id)}>
                    <h2>{format!("{} ({})", n.label, n.public_address)}<span class="role">{format!("{place}; {}", n.behaviour)}</span></h2>
                    <table>
                        <tr><th>{"inside"}</th><th>{"outside"}</th><th>{"allowed from"}</th><th>{"expires"}</th></tr>
                        { for n.mappings.iter().map(|m| html! {
                            <tr><td>{m.internal.to_string()}</td><td>{m.external.to_string()}</td>
                                <td>{m.permits.iter().map(|a| a.to_string()).collect::<Vec<_>>().join(", ")}</td>
                                <td>{format!("in {}", fmt_time(m.expires_in))}</td></tr>
                        }) }
                        { if n.mappings.is_empty() { html!{ <tr><td colspan="4" class="muted">{"no mappings"}</td></tr> } } else { html!{} } }
                    </table>
                </div>
            }
        }) }
        </div>
    }
}

#[function_component(ChartView)]
fn chart_view(Props { model }: &Props) -> Html {
    let div = use_node_ref();
    let s = model.session.borrow();
    let chart = s.chart();
    let text = svg::render(
        chart,
        &svg::SvgOptions {
            selected: model.ui.selected,
            hide_keepalives: false,
            show_esp: model.ui.show_esp,
            inline: true,
        },
    );
    let rows = chart.rows.len();
    // Keep the newest messages in view while the chart grows, unless the
    // user scrolled up to read.
    let stick = use_mut_ref(|| true);
    {
        let div = div.clone();
        let stick = stick.clone();
        use_effect_with(rows, move |_| {
            if let Some(el) = div.cast::<HtmlElement>()
                && *stick.borrow()
            {
                el.set_scroll_top(el.scroll_height());
            }
        });
    }
    let onscroll = {
        let div = div.clone();
        Callback::from(move |_: Event| {
            if let Some(el) = div.cast::<HtmlElement>() {
                *stick.borrow_mut() =
                    el.scroll_height() - el.scroll_top() - el.client_height() < 40;
            }
        })
    };
    let onclick = {
        let d = model.dispatcher();
        Callback::from(move |e: MouseEvent| {
            let packet = e
                .target()
                .and_then(|t| t.dyn_into::<Element>().ok())
                .and_then(|el| el.closest("[data-packet]").ok().flatten())
                .and_then(|g| g.get_attribute("data-packet"))
                .and_then(|v| v.parse::<u64>().ok());
            d.dispatch(Action::Select(packet));
        })
    };
    let toggle_esp = {
        let d = model.dispatcher();
        Callback::from(move |_: Event| d.dispatch(Action::ToggleEsp))
    };
    let ike = chart.messages().filter(|m| m.is_ike()).count();
    html! {
        <div class="chart-wrap">
            <div class="chart-head">
                <h2>{format!("Message sequence chart ({ike} IKE messages)")}</h2>
                <label><input id="show-esp" type="checkbox" checked={model.ui.show_esp} onchange={toggle_esp} />
                    {" show ESP (ping traffic)"}</label>
            </div>
            <div id="chart" class="chart" ref={div} onclick={onclick} onscroll={onscroll}>
                { Html::from_html_unchecked(AttrValue::from(text)) }
            </div>
        </div>
    }
}

fn hex_dump(bytes: &[u8]) -> String {
    bytes
        .chunks(16)
        .enumerate()
        .map(|(i, c)| {
            let hex: Vec<String> = c.iter().map(|b| format!("{b:02x}")).collect();
            format!("{:04x}  {}", i * 16, hex.join(" "))
        })
        .collect::<Vec<_>>()
        .join("\n")
}

/// Every field of an IKE message, outer and (decrypted) inner, from the
/// real bytes.
fn byte_table(
    src: &std::net::SocketAddr,
    dst: &std::net::SocketAddr,
    datagram: &[u8],
    key: &Option<mobike_wire::crypto::GcmKey>,
) -> Html {
    let mobike_wire::udp::UdpPayload::Ike(ike) =
        mobike_wire::udp::classify(datagram, src.port(), dst.port())
    else {
        return html! {};
    };
    let view = match mobike_render::byteview::byte_view(ike, key.as_ref()) {
        Ok(v) => v,
        Err(e) => return html! { <p class="error">{format!("byte view: {e}")}</p> },
    };
    let table = |rows: &[mobike_render::byteview::ByteRow]| {
        html! {
            <table class="bytes">
                { for rows.iter().map(|r| {
                    let hex = if r.len > 12 {
                        format!("{}… ({} octets)", r.hex.chars().take(35).collect::<String>(), r.len)
                    } else {
                        r.hex.clone()
                    };
                    html! {
                        <tr title={r.meaning.clone()}>
                            <td class="off">{format!("{:04x}", r.offset)}</td>
                            <td class="field">{r.path.clone()}</td>
                            <td class="val">{hex}</td>
                            <td class="meaning">{r.meaning.clone()}</td>
                        </tr>
                    }
                }) }
            </table>
        }
    };
    html! {
        <>
            <h3>{"Fields on the wire"}</h3>
            { table(&view.outer) }
            { match (&view.inner, &view.inner_error) {
                (Some(inner), _) => html! { <><h3>{"Fields inside SK (decrypted)"}</h3>{ table(inner) }</> },
                (None, Some(e)) => html! { <p class="muted">{format!("SK not opened: {e}")}</p> },
                _ => html! {},
            } }
        </>
    }
}

#[function_component(Inspector)]
fn inspector(Props { model }: &Props) -> Html {
    let s = model.session.borrow();
    let Some(m) = model.ui.selected.and_then(|p| s.chart().message(p)) else {
        return html! {
            <aside id="inspector" class="inspector empty">
                <h2>{"Message"}</h2>
                <p class="muted">{"Click a message in the chart to see its payloads and bytes."}</p>
            </aside>
        };
    };
    let bytes = s
        .world
        .trace()
        .sent_payload(m.packet)
        .map(<[u8]>::to_vec)
        .unwrap_or_default();
    // The SK key of the message's direction, from the keys the trace logged.
    let key = match &m.what {
        What::Ike { .. } => {
            let ike = match mobike_wire::udp::classify(&bytes, m.src.port(), m.dst.port()) {
                mobike_wire::udp::UdpPayload::Ike(b) => Some(b),
                _ => None,
            };
            ike.and_then(|b| mobike_wire::Header::parse(b).ok())
                .and_then(|h| {
                    let keys = s.world.trace().ike_keys(h.spi_i)?;
                    Some(if h.flags.initiator() {
                        keys.sk_ei.clone()
                    } else {
                        keys.sk_er.clone()
                    })
                })
        }
        _ => None,
    };
    let payloads: Vec<String> = match &m.what {
        What::Ike {
            inner: Some(inner), ..
        } => inner.iter().map(mobike_render::inspect::describe).collect(),
        What::Ike { error: Some(e), .. } => vec![format!("could not open: {e}")],
        _ => Vec::new(),
    };
    html! {
        <aside id="inspector" class="inspector">
            <h2>{m.title()}</h2>
            <dl>
                <dt>{"sent"}</dt><dd>{format!("{} from {} to {}", fmt_time(m.sent), m.src, m.dst)}</dd>
                { if let Some((a, b)) = m.received_as { html!{ <><dt>{"after NAT"}</dt><dd>{format!("{a} → {b}")}</dd></> } } else { html!{} } }
                <dt>{"arrived"}</dt><dd>{ match (&m.lost, m.arrived) {
                    (Some(r), _) => format!("lost: {r}"),
                    (None, Some(t)) => fmt_time(t),
                    (None, None) => "in flight".into(),
                } }</dd>
                <dt>{"size"}</dt><dd>{format!("{} octets{}", m.size, if m.retransmission { ", retransmission (same octets as before)" } else { "" })}</dd>
            </dl>
            <p class="notation">{m.notation()}</p>
            { if payloads.is_empty() { html!{} } else { html! {
                <>
                <h3>{"Decrypted payloads"}</h3>
                <ul class="payloads">{ for payloads.iter().map(|p| html!{ <li>{p.clone()}</li> }) }</ul>
                </>
            } } }
            { byte_table(&m.src, &m.dst, &bytes, &key) }
            <h3>{"Datagram (UDP payload)"}</h3>
            <pre class="hex">{hex_dump(&bytes)}</pre>
        </aside>
    }
}
