//! The catalog: one card per ready-made system in `assets/catalog`, a blank file and an upload.

use super::{BLANK, Launch, State};
use crate::model::CatalogEntry;
use leptos::prelude::*;
use leptos::task::spawn_local;
use std::collections::BTreeMap;

#[component]
pub(super) fn Catalog() -> impl IntoView {
    let state = expect_context::<State>();
    // Switching keeps the edits of the card left (its draft) and brings back the chosen card's.
    let pick = move |entry: Option<&CatalogEntry>| {
        let slug = entry.map(|e| e.slug);
        state.selected.set(slug);
        state.text.set(
            super::drafts::load(slug)
                .unwrap_or_else(|| entry.map_or(BLANK.to_string(), |e| e.text.to_string())),
        );
        state.name.set(String::new());
        state.env.set(BTreeMap::new());
        state.files.set(Default::default());
        state.launch.set(Launch::Idle);
        // The next step in view: the editor at the top of the window, Launch below it.
        if let Some(editor) = document().get_element_by_id("editor-h") {
            let options = web_sys::ScrollIntoViewOptions::new();
            options.set_block(web_sys::ScrollLogicalPosition::Start);
            editor.scroll_into_view_with_scroll_into_view_options(&options);
        }
    };
    let upload = move |ev: leptos::ev::Event| {
        let Some(input) = super::files::input_of(&ev) else {
            return;
        };
        let Some(file) = input.files().and_then(|f| f.get(0)) else {
            return;
        };
        input.set_value("");
        spawn_local(async move {
            if let Ok(text) = wasm_bindgen_futures::JsFuture::from(file.text()).await {
                state.selected.set(Some("upload"));
                state.text.set(text.as_string().unwrap_or_default());
                state.name.set(String::new());
                state.env.set(BTreeMap::new());
                state.files.set(Default::default());
                state.launch.set(Launch::Idle);
            }
        });
    };
    // A project folder: its compose file to the editor, its `.env` to the variables, the rest
    // sent beside the compose file.
    let upload_folder = move |ev: leptos::ev::Event| {
        let Some(input) = super::files::input_of(&ev) else {
            return;
        };
        let chosen = super::files::chosen(&input);
        input.set_value("");
        spawn_local(async move {
            let entries = super::files::read_all(chosen, super::files::relative_path).await;
            let upload = crate::bundle::folder_upload(entries);
            state.selected.set(Some("folder"));
            state
                .text
                .set(upload.compose.map(|(_, text)| text).unwrap_or_default());
            state.name.set(upload.name);
            state.env.set(upload.env);
            state.files.set(upload.files);
            state.files_notice.set(upload.problems.join("; "));
            state.launch.set(Launch::Idle);
        });
    };
    let cards = state.catalog.with_value(|entries| {
        entries
            .iter()
            .map(|entry| {
                let slug = entry.slug;
                let chosen = entry.clone();
                let marked = entry.clone();
                let blocker = move || state.policy.with(|p| crate::model::catalog_blocker(&marked, p));
                view! {
                    <li>
                        <button class="card" data-slug=slug
                            aria-pressed=move || (state.selected.get() == Some(slug)).to_string()
                            on:click=move |_| pick(Some(&chosen))>
                            <span class="title">{entry.title.clone()}</span>
                            {move || blocker().map(|why| view! {
                                <span class="blocker" title=why>"Needs the baseline profile"</span>
                            })}
                            <span class="desc">{entry.description.clone()}</span>
                            <span class="facts">
                                <span title="Images">{entry.images.join(", ")}</span>
                                <span title="Published ports">
                                    {if entry.ports.is_empty() { "no ports".to_string() } else { format!("ports {}", entry.ports.join(", ")) }}
                                </span>
                                <span title="Resource limits">{entry.resources.clone()}</span>
                            </span>
                        </button>
                    </li>
                }
            })
            .collect_view()
    });
    view! {
        <section class="catalog" aria-labelledby="catalog-h">
            <h2 id="catalog-h" tabindex="-1"><span class="step" aria-hidden="true">"1"</span>"Choose a starting point"</h2>
            <ul class="cards">
                {cards}
                <li>
                    <button class="card plain" data-slug="blank"
                        aria-pressed=move || (state.selected.get().is_none()).to_string()
                        on:click=move |_| pick(None)>
                        <span class="title">"Blank"</span>
                        <span class="desc">"An empty compose file."</span>
                    </button>
                </li>
                <li>
                    <label class="card plain upload" class:chosen=move || state.selected.get() == Some("upload")>
                        <span class="title">"Upload…"</span>
                        <span class="desc">"A docker-compose.yaml from your computer."</span>
                        <input type="file" id="upload" accept=".yaml,.yml,.json,text/yaml,application/yaml"
                            on:change=upload />
                    </label>
                </li>
                <li>
                    <label class="card plain upload" class:chosen=move || state.selected.get() == Some("folder")>
                        <span class="title">"Upload folder…"</span>
                        <span class="desc">"A project folder: its compose file, .env and the files it names."</span>
                        <input type="file" id="upload-folder" multiple prop:webkitdirectory=true
                            on:change=upload_folder />
                    </label>
                </li>
            </ul>
        </section>
    }
}
