fn main() {
    yew::Renderer::<mobike_playground::App>::new().render();
}
