//! One element of the draft as a card: a host (with its interfaces), a
//! link, a NAT, an event, the ping traffic, the scenario itself.

use super::field::Field;
use crate::editor::Edit;
use crate::editor::form::CardView;
use crate::state::{Action, Dispatch, send};
use mobike_sim::Element;
use yew::prelude::*;

#[derive(Properties, PartialEq)]
pub struct CardProps {
    pub card: CardView,
    pub dispatch: Dispatch,
}

#[function_component(Card)]
pub fn card(
    CardProps {
        card: c,
        dispatch: d,
    }: &CardProps,
) -> Html {
    let removable = c.element != Element::Scenario;
    let remove = send(d, Action::Edit(Edit::Remove(c.element.clone())));
    let child = matches!(c.element, Element::Interface(..));
    html! {
        <div id={c.id.clone()} class={classes!("ed-card", child.then_some("child"))}>
            <div class="ed-card-head">
                <strong>{c.title.clone()}</strong>
                { for c.badge.as_ref().map(|b| html! { <span class="ed-badge">{b.clone()}</span> }) }
                { for c.settings.map(|(k, own)| {
                    let label = match own {
                        0 => "own settings…".to_string(),
                        n => format!("own settings ({n})…"),
                    };
                    html! {
                        <button class="ed-link" id={format!("{}-settings", c.id)}
                            onclick={send(d, Action::Edit(Edit::Layer(Some(k))))}>{label}</button>
                    }
                }) }
                if removable {
                    <button class="ed-remove" id={format!("{}-remove", c.id)} onclick={remove}
                        title="Remove it, and the events that name it">{"Remove"}</button>
                }
            </div>
            { for c.summary.as_ref().map(|s| html! { <p class="ed-summary">{s.clone()}</p> }) }
            <div class="ed-fields">
                { for c.fields.iter().map(|f| html! { <Field key={f.id.clone()} field={f.clone()} dispatch={d.clone()} /> }) }
            </div>
            { for c.children.iter().map(|k| html! { <Card key={k.id.clone()} card={k.clone()} dispatch={d.clone()} /> }) }
            { for c.add_child.as_ref().map(|(add, label)| html! {
                <button class="ed-add small" id={add.id()}
                    onclick={send(d, Action::Edit(Edit::Add(*add)))}>{label.clone()}</button>
            }) }
        </div>
    }
}
