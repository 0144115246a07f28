fn main() {
    // The simulation's worker loads this same wasm (static/engine.js):
    // there is no page to draw there, only `engine_message` to answer.
    if web_sys::window().is_none() {
        return;
    }
    // First: a panic anywhere after this shows what happened and how to
    // get the work back, instead of freezing the page.
    mobike_playground::crash::install();
    yew::Renderer::<mobike_playground::App>::new().render();
}
