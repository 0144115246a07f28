fn main() {
    // First: a panic anywhere after this shows what happened and how to
    // get the work back, instead of freezing the page.
    mobike_playground::crash::install();
    yew::Renderer::<mobike_playground::App>::new().render();
}
