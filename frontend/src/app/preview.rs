//! The preview: one tab per Kubernetes object the file becomes, copy and download, and the list
//! of compose keys that were not translated.

use super::State;
use crate::model::Document;
use leptos::prelude::*;
use std::time::Duration;
use wasm_bindgen::JsCast;

#[component]
pub(super) fn PreviewPane() -> impl IntoView {
    let state = expect_context::<State>();
    let tab = RwSignal::new(0_usize);
    let copied = RwSignal::new(false);
    // The last objects of the chosen entry that compiled: while the file has errors they stay,
    // greyed, instead of the preview disappearing at the first typo.
    let last_good = RwSignal::new(None::<(Option<&'static str>, Vec<Document>)>);
    Effect::new(move |_| {
        let slug = state.selected.get();
        let documents = state.analysis.with(|a| a.documents.clone());
        if !documents.is_empty() {
            last_good.set(Some((slug, documents)));
        }
    });
    // What the preview shows, and whether it is that older version.
    let shown = Memo::new(move |_| {
        let documents = state.analysis.with(|a| a.documents.clone());
        if !documents.is_empty() {
            return (documents, false);
        }
        let slug = state.selected.get();
        match last_good.get() {
            Some((of, documents)) if of == slug => (documents, true),
            _ => (Vec::new(), false),
        }
    });
    let stale = move || shown.with(|(_, stale)| *stale);
    let current = move || {
        shown.with(|(documents, _)| {
            let i = tab.get().min(documents.len().saturating_sub(1));
            documents.get(i).map(|d| d.yaml.clone()).unwrap_or_default()
        })
    };
    let copy = move |_| {
        let yaml = state.analysis.with_untracked(|a| a.yaml.clone());
        if let Some(w) = web_sys::window() {
            let _ = w.navigator().clipboard().write_text(&yaml);
            copied.set(true);
            set_timeout(move || copied.set(false), Duration::from_secs(2));
        }
    };
    let download = move |_| {
        let (yaml, name) = state
            .analysis
            .with_untracked(|a| (a.yaml.clone(), a.name.clone()));
        let _ = super::download::save_file(&format!("{name}.yaml"), &yaml, "application/yaml");
    };
    let tabs = move || {
        shown.with(|(documents, _)| {
            let selected = tab.get().min(documents.len().saturating_sub(1));
            documents
                .iter()
                .enumerate()
                .map(|(i, d)| {
                    view! {
                        <button role="tab" class="tab" id=format!("tab-{i}")
                            aria-selected=(i == selected).to_string()
                            aria-controls="yaml"
                            on:click=move |_| tab.set(i)>
                            {d.label.clone()}
                        </button>
                    }
                })
                .collect_view()
        })
    };
    let on_tab_key = move |ev: leptos::ev::KeyboardEvent| {
        let n = shown.with_untracked(|(documents, _)| documents.len());
        if n == 0 {
            return;
        }
        let i = tab.get_untracked().min(n - 1);
        let next = match ev.key().as_str() {
            "ArrowRight" => (i + 1) % n,
            "ArrowLeft" => (i + n - 1) % n,
            _ => return,
        };
        tab.set(next);
        if let Some(el) = document().get_element_by_id(&format!("tab-{next}"))
            && let Ok(el) = el.dyn_into::<web_sys::HtmlElement>()
        {
            let _ = el.focus();
        }
    };
    view! {
        <div class="pane preview-pane">
            <div class="pane-head">
                <h2>"Preview"</h2>
                <div class="actions">
                    <button id="copy" on:click=copy disabled=move || state.analysis.with(|a| a.yaml.is_empty())>
                        {move || if copied.get() { "Copied" } else { "Copy" }}
                    </button>
                    <button id="download" on:click=download disabled=move || state.analysis.with(|a| a.yaml.is_empty())>
                        "Download"
                    </button>
                </div>
            </div>
            <Show
                when=move || shown.with(|(documents, _)| !documents.is_empty())
                fallback=|| view! {
                    <p class="empty" id="no-preview">"Fix the errors to see the Kubernetes objects."</p>
                }>
                {move || stale().then(|| view! {
                    <p class="stale-note" id="stale-preview" role="status">
                        "The file has errors: this is the preview of its last version without them."
                    </p>
                })}
                <div role="tablist" class="tabs" class:stale=stale aria-label="Objects" on:keydown=on_tab_key>{tabs}</div>
                <pre id="yaml" role="tabpanel" tabindex="0" class:stale=stale>{current}</pre>
            </Show>
            {move || {
                let list = state.analysis.with(|a| a.not_translated.clone());
                let count = list.len();
                (count > 0).then(|| view! {
                    <details class="not-translated" id="not-translated">
                        <summary>{format!("Not translated ({count})")}</summary>
                        <ul>
                            {list.into_iter().map(|n| {
                                let (line, column) = (n.line, n.column);
                                view! {
                                    <li>
                                        <button class="link" on:click=move |_| state.go_to(line, column)>
                                            <span class="where">{format!("{line}:{column}")}</span>
                                            <code>{n.key}</code>
                                        </button>
                                        " " {n.reason}
                                    </li>
                                }
                            }).collect_view()}
                        </ul>
                    </details>
                })
            }}
        </div>
    }
}
