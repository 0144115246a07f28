//! The scenario's description under the drawing.

use yew::prelude::*;

#[derive(Properties, PartialEq)]
pub struct DescriptionProps {
    /// As the scenario file has it.
    pub text: AttrValue,
}

#[function_component(Description)]
pub fn description(DescriptionProps { text }: &DescriptionProps) -> Html {
    html! {
        <div class="description">
            // Scenario files wrap their text by hand; blank lines part paragraphs.
            { for text.split("\n\n").filter(|p| !p.trim().is_empty()).map(|p| html! {
                <p>{p.split_whitespace().collect::<Vec<_>>().join(" ")}</p>
            }) }
        </div>
    }
}
