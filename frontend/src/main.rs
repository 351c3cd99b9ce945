fn main() {
    #[cfg(target_arch = "wasm32")]
    tycho_frontend::app::mount();
}
