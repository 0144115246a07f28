//! The page's heading with the running scenario's title.

use yew::prelude::*;

#[derive(Properties, PartialEq)]
pub struct HeaderProps {
    pub title: AttrValue,
}

#[function_component(Header)]
pub fn header(HeaderProps { title }: &HeaderProps) -> Html {
    html! {
        <header>
            <h1>{"MOBIKE Playground"}</h1>
            <span class="scenario-title">{title.clone()}</span>
        </header>
    }
}
