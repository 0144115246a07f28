//! The whole page: the model, the effects, and the panels in their places.

use super::chart::ChartView;
use super::compare_menu::CompareMenu;
use super::compare_view::CompareView;
use super::description::Description;
use super::editor::EditorPanel;
use super::export_menu::ExportMenu;
use super::header::Header;
use super::inspector::Inspector;
use super::lessons::LessonBar;
use super::narration::{Narration, Step};
use super::nat_panels::NatPanels;
use super::notices::Notices;
use super::restore::RestoreBanner;
use super::rule_refs::{RulePopover, use_rule_refs};
use super::state_panels::StatePanels;
use super::timeline::Timeline;
use super::toolbar::Toolbar;
use super::topology::Topology;
use super::traffic::Traffic;
use crate::browser::location_hash;
use crate::effects::{use_engine, use_keyboard, use_share_hash, use_ticker};
use crate::saving::{use_autosave, use_download, use_restore_offer};
use crate::state::Model;
use yew::prelude::*;

#[function_component(App)]
pub fn app() -> Html {
    let model = use_reducer(|| Model::from_hash(&location_hash()));
    let dispatch = model.dispatcher();
    use_engine(model.session.clone(), dispatch.clone());
    use_ticker(model.ui.playing, dispatch.clone());
    use_keyboard(dispatch.clone());
    use_rule_refs(dispatch.clone());
    use_share_hash(model.ui.share.clone(), dispatch.clone());
    use_restore_offer(dispatch.clone());
    use_download(model.work.download.clone());
    use_autosave(
        model.session.clone(),
        model.version,
        model.editor.clone(),
        model.ui.edited,
        model.work.offer.is_some(),
    );

    let session = model.session.clone();
    let version = model.version;
    let ui = &model.ui;
    let s = session.borrow();
    let title = AttrValue::from(s.scenario.title.clone());
    let description = AttrValue::from(s.scenario.description.clone());
    let narration = s.narration().map(|(k, n, text)| Step {
        shown: k,
        total: n,
        seen: s.steps_seen(),
        waiting: s.step_waiting(),
        times: s.step_times(),
        text: AttrValue::from(text.to_string()),
    });
    let (now, seed, example, stamp) = (s.now(), s.scenario.seed, s.example_index(), s.stamp());
    let recorded = s.is_recorded();
    // Waiting for the worker: a command other than a tick, or, once
    // paused, the ticks still on their way (the clock moves until they are
    // in).
    let busy = (s.busy() || (!ui.playing && s.ticking() > 0)).then_some("true");
    drop(s);
    let next_lesson =
        crate::course::next_lesson(example).map(|l| (l.example, AttrValue::from(l.title)));
    let focus = ui.focus.clone().map(AttrValue::from);
    let export = html! {
        <ExportMenu session={session.clone()} {version} view={ui.chart.view.clone()}
            show_esp={ui.show_esp} dispatch={dispatch.clone()} />
    };
    let compare = html! {
        <CompareMenu active={model.compare.is_some()} error={ui.compare_error.clone()} {example}
            dispatch={dispatch.clone()} />
    };
    html! {
        <div class="app" data-busy={busy}>
            <Header title={title.clone()} />
            <Toolbar playing={ui.playing} speed={ui.speed} {now} {seed} {example} {title}
                editing={model.editor.is_some()} edited={ui.edited} {recorded} {export} {compare} dispatch={dispatch.clone()} />
            { if crate::browser::test_panic_page() {
                let d = dispatch.clone();
                html! { <button id="provoke-panic" onclick={Callback::from(move |_| d.dispatch(crate::state::Action::ProvokePanic))}>{"Provoke a panic (test)"}</button> }
            } else { html! {} } }
            <RestoreBanner offer={model.work.offer.clone()} dispatch={dispatch.clone()} />
            <Timeline session={session.clone()} {version} dispatch={dispatch.clone()} />
            <Notices error={ui.error.clone()} notice={ui.notice.clone()}
                share={ui.share.clone().filter(|_| ui.share_open)} ended={ui.ended} dispatch={dispatch.clone()} />
            <LessonBar {example} session={session.clone()} {version} dispatch={dispatch.clone()} />
            <RulePopover rule={ui.rule.clone()} dispatch={dispatch.clone()} />
            <Narration step={narration} lesson={ui.lesson} playing={ui.playing} {next_lesson} dispatch={dispatch.clone()} />
            <main>
                <section class="left">
                    <Topology session={session.clone()} {version} focus={focus.clone()} menu={ui.menu.clone()}
                        menu_error={ui.menu_error.clone()} dispatch={dispatch.clone()} />
                    <p class="hint">{"Click, long-press or Tab+Enter on a link, an interface, a NAT box or a host for what you can do to it · drag a NAT box onto a link · drag the time slider to go back; a change there starts a new timeline · click a message to inspect it"}</p>
                    <Description text={description} />
                    <div class="side-by-side">
                        <Traffic session={session.clone()} {stamp} />
                        <NatPanels session={session.clone()} {version} />
                    </div>
                </section>
                <section class="right">
                    if let Some(editor) = model.editor.clone() {
                        <EditorPanel {editor} dispatch={dispatch.clone()} />
                    } else {
                        <StatePanels session={session.clone()} {version} {focus} dispatch={dispatch.clone()} />
                    }
                </section>
            </main>
            <section class="bottom">
                if let Some(c) = model.compare.clone() {
                    <CompareView session={session.clone()} compare={c} {version} selected={ui.selected}
                        view={ui.chart_view()} show_esp={ui.show_esp} dispatch={dispatch.clone()} />
                } else {
                    <ChartView session={session.clone()} {stamp} selected={ui.selected} show_esp={ui.show_esp}
                        view={ui.chart_view()} search_at={ui.chart.search_at} dispatch={dispatch.clone()} />
                }
                <Inspector {session} {stamp} selected={ui.selected} />
            </section>
        </div>
    }
}
