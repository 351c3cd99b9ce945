//! The files sent with the compose file: reading what the user chose in the browser, and the
//! panel under the editor that lists them, says which named files are still missing, and takes
//! each one where the compose file expects it.

use super::State;
use crate::bundle;
use leptos::prelude::*;
use leptos::task::spawn_local;
use wasm_bindgen::JsCast;
use wasm_bindgen_futures::JsFuture;

/// The files chosen in a file input.
pub(super) fn chosen(input: &web_sys::HtmlInputElement) -> Vec<web_sys::File> {
    let Some(list) = input.files() else {
        return Vec::new();
    };
    (0..list.length()).filter_map(|i| list.get(i)).collect()
}

/// A folder upload's path for a file: `folder/sub/name` (the browser's `webkitRelativePath`).
pub(super) fn relative_path(file: &web_sys::File) -> String {
    js_sys::Reflect::get(file, &"webkitRelativePath".into())
        .ok()
        .and_then(|v| v.as_string())
        .filter(|p| !p.is_empty())
        .unwrap_or_else(|| file.name())
}

/// Each file's bytes with the path `path_of` gives it (files that cannot be read are skipped).
pub(super) async fn read_all(
    files: Vec<web_sys::File>,
    path_of: impl Fn(&web_sys::File) -> String,
) -> Vec<(String, Vec<u8>)> {
    let mut read = Vec::new();
    for file in files {
        if let Ok(buffer) = JsFuture::from(file.array_buffer()).await {
            read.push((path_of(&file), js_sys::Uint8Array::new(&buffer).to_vec()));
        }
    }
    read
}

/// The file input an event came from.
pub(super) fn input_of(ev: &leptos::ev::Event) -> Option<web_sys::HtmlInputElement> {
    ev.target()
        .and_then(|t| t.dyn_into::<web_sys::HtmlInputElement>().ok())
}

/// The files panel: those sent, those still missing (each with a button to choose it), and a
/// way to add more at the top of the project.
#[component]
pub(super) fn FilesPanel() -> impl IntoView {
    let state = expect_context::<State>();
    // One file chosen for a missing path goes to that path; several (a folder's contents) below it.
    let supply = move |path: String, ev: leptos::ev::Event| {
        let Some(input) = input_of(&ev) else {
            return;
        };
        let chosen = chosen(&input);
        input.set_value("");
        spawn_local(async move {
            let single = chosen.len() == 1;
            let entries = read_all(chosen, |f| f.name()).await;
            state.files.update(|files| {
                for (name, bytes) in entries {
                    let at = if single {
                        path.clone()
                    } else {
                        format!("{path}/{name}")
                    };
                    files.insert(at, bytes);
                }
            });
        });
    };
    let add = move |ev: leptos::ev::Event| {
        let Some(input) = input_of(&ev) else {
            return;
        };
        let chosen = chosen(&input);
        input.set_value("");
        spawn_local(async move {
            let entries = read_all(chosen, |f| f.name()).await;
            state.files.update(|files| files.extend(entries));
        });
    };
    let sent = move || {
        state.files.with(|files| {
            files
                .iter()
                .map(|(path, bytes)| {
                    let remove = path.clone();
                    view! {
                        <li data-file=path.clone()>
                            <code>{path.clone()}</code>
                            <span class="muted">" " {bundle::size(bytes.len())}</span>
                            <button class="link" title="Do not send this file"
                                on:click=move |_| state.files.update(|f| { f.remove(&remove); })>
                                "remove"
                            </button>
                        </li>
                    }
                })
                .collect_view()
        })
    };
    let missing = move || {
        state.analysis.with(|a| {
            a.missing
                .iter()
                .map(|m| {
                    let path = m.path.clone();
                    let hint = if m.may_be_folder {
                        " (a file, or a folder's files; if not sent, a folder becomes an empty volume)"
                    } else {
                        ""
                    };
                    view! {
                        <li data-missing=m.path.clone()>
                            <code>{format!("./{}", m.path)}</code>
                            <span class="muted">{format!(" {} at line {}{hint}", m.what, m.line)}</span>
                            <label class="choose">
                                "Choose…"
                                <input type="file" multiple=m.may_be_folder
                                    data-for=m.path.clone()
                                    on:change=move |ev| supply(path.clone(), ev) />
                            </label>
                        </li>
                    }
                })
                .collect_view()
        })
    };
    let any = move || {
        state.files.with(|f| !f.is_empty()) || state.analysis.with(|a| !a.missing.is_empty())
    };
    view! {
        <section class="files" id="files" aria-labelledby="files-h">
            <h3 id="files-h">"Files"</h3>
            <Show when=any fallback=|| view! {
                <p class="muted">"This compose file names no other files."</p>
            }>
                <Show when=move || state.analysis.with(|a| !a.missing.is_empty())>
                    <p class="missing-note">"Named by the compose file but not sent yet:"</p>
                    <ul class="missing" id="missing-files">{missing}</ul>
                </Show>
                <Show when=move || {
                    state.files.with(|f| !f.is_empty()) && state.analysis.with(|a| !a.missing.is_empty())
                }>
                    <p class="missing-note">"Sent with it:"</p>
                </Show>
                <ul class="sent" id="sent-files">{sent}</ul>
            </Show>
            <Show when=move || state.files_notice.with(|n| !n.is_empty())>
                <p class="notice" id="files-notice">{move || state.files_notice.get()}</p>
            </Show>
            <label class="add-files">
                "Add files…"
                <input type="file" id="add-files" multiple on:change=add />
            </label>
        </section>
    }
}
