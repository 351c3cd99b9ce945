//! The components. State lives in signals gathered in [`State`] (shared through context);
//! server calls go through [`crate::api`].

use crate::api;
use crate::model::{self, Analysis, CatalogEntry, Variable};
use leptos::prelude::*;
use leptos::task::spawn_local;
use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;
use tycho_api::{Diagnostic, Problem, Severity, StartRequest, SystemEvent, SystemStatus};
use wasm_bindgen::JsCast;
use wasm_bindgen::prelude::*;

const BLANK: &str = "# A compose file: one or more services.\nservices:\n  app:\n    image: \n";

/// Where the live list comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Feed {
    /// Not connected (yet, or no cluster).
    Off,
    /// Server-Sent Events, connected.
    Live,
    /// Server-Sent Events, reconnecting.
    Reconnecting,
    /// Polling every few seconds (EventSource cannot send a bearer token).
    Polling,
}

#[derive(Debug, Clone, PartialEq)]
enum Launch {
    Idle,
    Sending,
    Started { name: String, guid: String },
    Failed(Problem),
}

/// Every signal of the app.
#[derive(Clone, Copy)]
struct State {
    catalog: StoredValue<Vec<CatalogEntry>>,
    selected: RwSignal<Option<&'static str>>,
    text: RwSignal<String>,
    name: RwSignal<String>,
    env: RwSignal<BTreeMap<String, String>>,
    analysis: Memo<Analysis>,
    variables: Memo<Vec<Variable>>,
    launch: RwSignal<Launch>,
    /// Cluster: None while unknown; Some((configured, reachable, message)).
    cluster: RwSignal<Option<(bool, bool, String)>>,
    auth_required: RwSignal<bool>,
    user: RwSignal<Option<String>>,
    systems: RwSignal<Vec<SystemStatus>>,
    terminating: RwSignal<BTreeSet<String>>,
    confirm: RwSignal<Option<String>>,
    feed: RwSignal<Feed>,
    list_problem: RwSignal<Option<Problem>>,
    now_ms: RwSignal<f64>,
    textarea: NodeRef<leptos::html::Textarea>,
}

impl State {
    fn new() -> State {
        // Open on the smallest catalog entry, so the preview shows what Tycho makes at once.
        let catalog = model::catalog();
        let first = catalog.iter().find(|e| e.slug == "nginx");
        let selected = RwSignal::new(first.map(|e| e.slug));
        let text = RwSignal::new(first.map_or(BLANK, |e| e.text).to_string());
        let name = RwSignal::new(String::new());
        let env = RwSignal::new(BTreeMap::new());
        let analysis =
            Memo::new(move |_| text.with(|t| name.with(|n| env.with(|e| model::analyze(t, n, e)))));
        let variables = Memo::new(move |_| text.with(|t| model::variables(t)));
        State {
            catalog: StoredValue::new(catalog),
            selected,
            text,
            name,
            env,
            analysis,
            variables,
            launch: RwSignal::new(Launch::Idle),
            cluster: RwSignal::new(None),
            auth_required: RwSignal::new(false),
            user: RwSignal::new(None),
            systems: RwSignal::new(Vec::new()),
            terminating: RwSignal::new(BTreeSet::new()),
            confirm: RwSignal::new(None),
            feed: RwSignal::new(Feed::Off),
            list_problem: RwSignal::new(None),
            now_ms: RwSignal::new(js_sys::Date::now()),
            textarea: NodeRef::new(),
        }
    }

    fn apply(&self, event: SystemEvent) {
        match event {
            SystemEvent::Snapshot { systems } => {
                let guids: BTreeSet<String> = systems.iter().map(|s| s.guid.clone()).collect();
                self.terminating.update(|t| t.retain(|g| guids.contains(g)));
                self.systems.set(systems);
            }
            SystemEvent::Changed { system } => {
                self.systems.update(
                    |list| match list.iter_mut().find(|s| s.guid == system.guid) {
                        Some(s) => *s = *system,
                        None => list.push(*system),
                    },
                )
            }
            SystemEvent::Removed { guid } => {
                self.systems.update(|list| list.retain(|s| s.guid != guid));
                self.terminating.update(|t| {
                    t.remove(&guid);
                });
            }
        }
        self.now_ms.set(js_sys::Date::now());
    }

    /// Puts the caret at a line and column of the editor and focuses it.
    fn go_to(&self, line: usize, column: usize) {
        let Some(area) = self.textarea.get() else {
            return;
        };
        let offset = self.text.with(|t| {
            let mut offset = 0;
            for (i, l) in t.split('\n').enumerate() {
                if i + 1 == line {
                    return offset + l.chars().take(column.saturating_sub(1)).count();
                }
                offset += l.chars().count() + 1;
            }
            offset
        });
        let _ = area.focus();
        let offset = offset as u32;
        let _ = area.set_selection_range(offset, offset);
        // Scroll the line into view: 20px per line, as in the CSS.
        let top = (line.saturating_sub(3) * 20) as i32;
        area.set_scroll_top(top);
    }
}

pub fn mount() {
    console_error_panic_hook::set_once();
    leptos::mount::mount_to_body(App);
}

#[component]
fn App() -> impl IntoView {
    let state = State::new();
    provide_context(state);
    spawn_local(connect(state));
    set_interval(
        move || state.now_ms.set(js_sys::Date::now()),
        Duration::from_secs(5),
    );
    // Tell tests and people measuring: the editor is on screen and answering.
    request_animation_frame(mark_interactive);
    view! {
        <header class="top">
            <div class="brand">
                <img src="logo.svg" alt="" width="28" height="28" />
                <h1>"Tycho"</h1>
            </div>
            <Account />
        </header>
        <Banner />
        <main>
            <Catalog />
            <section class="workbench">
                <EditorPane />
                <PreviewPane />
            </section>
            <Systems />
        </main>
    }
}

fn mark_interactive() {
    let Some(window) = web_sys::window() else {
        return;
    };
    let now = window.performance().map(|p| p.now()).unwrap_or_default();
    let _ = js_sys::Reflect::set(
        &window,
        &"__tychoInteractiveMs".into(),
        &JsValue::from_f64(now),
    );
    if let Some(body) = window.document().and_then(|d| d.body()) {
        let _ = body.set_attribute("data-ready", "true");
    }
}

/// Finds out what the server offers (cluster, auth) and starts the live list.
async fn connect(state: State) {
    match api::health().await {
        Ok(h) => state.cluster.set(Some((
            h.cluster.configured,
            h.cluster.reachable,
            h.cluster.message,
        ))),
        Err(p) => {
            state.cluster.set(Some((false, false, p.detail)));
            return;
        }
    }
    match api::whoami().await {
        Ok(me) => {
            state.auth_required.set(false);
            state.user.set(Some(me.username));
        }
        Err(p) if p.status == 401 => {
            state.auth_required.set(true);
            state.user.set(None);
            return;
        }
        Err(_) => {}
    }
    if !state.cluster.get_untracked().is_some_and(|c| c.0) {
        return;
    }
    if api::token().is_some() {
        start_polling(state);
    } else {
        start_events(state);
    }
}

fn start_events(state: State) {
    let Ok(source) = web_sys::EventSource::new("/api/v1/events") else {
        start_polling(state);
        return;
    };
    let on_message =
        Closure::<dyn FnMut(web_sys::MessageEvent)>::new(move |e: web_sys::MessageEvent| {
            if let Some(data) = e.data().as_string()
                && let Ok(event) = serde_json::from_str::<SystemEvent>(&data)
            {
                state.list_problem.set(None);
                state.apply(event);
            }
        });
    for name in ["snapshot", "changed", "removed"] {
        let _ = source.add_event_listener_with_callback(name, on_message.as_ref().unchecked_ref());
    }
    on_message.forget();
    let on_open = Closure::<dyn FnMut()>::new(move || state.feed.set(Feed::Live));
    source.set_onopen(Some(on_open.as_ref().unchecked_ref()));
    on_open.forget();
    // Both a lost connection and the server's `event: error` (a message) arrive here; the
    // browser reconnects by itself after a lost connection.
    let on_error = Closure::<dyn FnMut(web_sys::Event)>::new(move |e: web_sys::Event| {
        match e
            .dyn_ref::<web_sys::MessageEvent>()
            .and_then(|m| m.data().as_string())
        {
            Some(message) => state.list_problem.set(Some(
                Problem::new(503, "cluster", "The cluster does not answer").with_detail(message),
            )),
            None => state.feed.set(Feed::Reconnecting),
        }
    });
    source.set_onerror(Some(on_error.as_ref().unchecked_ref()));
    on_error.forget();
    std::mem::forget(source);
}

fn start_polling(state: State) {
    state.feed.set(Feed::Polling);
    let poll = move || {
        spawn_local(async move {
            match api::list().await {
                Ok(list) => {
                    state.list_problem.set(None);
                    state.apply(SystemEvent::Snapshot {
                        systems: list.systems,
                    });
                }
                Err(p) => state.list_problem.set(Some(p)),
            }
        })
    };
    poll();
    set_interval(poll, Duration::from_secs(3));
}

#[component]
fn Account() -> impl IntoView {
    let state = expect_context::<State>();
    let token = RwSignal::new(String::new());
    let sign_in = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let t = token.get_untracked();
        api::set_token(Some(t.trim()));
        token.set(String::new());
        spawn_local(connect(state));
    };
    let sign_out = move |_| {
        api::set_token(None);
        state.user.set(None);
        spawn_local(connect(state));
    };
    view! {
        <div class="account">
            <Show when=move || state.auth_required.get()>
                <form class="sign-in" on:submit=sign_in>
                    <label for="token">"Token"</label>
                    <input id="token" type="password" autocomplete="current-password"
                        placeholder="API token" required
                        prop:value=move || token.get()
                        on:input=move |ev| token.set(event_target_value(&ev)) />
                    <button type="submit">"Sign in"</button>
                </form>
            </Show>
            {move || state.user.get().map(|u| view! {
                <span class="user">"Signed in as " <b>{u}</b></span>
                <Show when=move || api::token().is_some()>
                    <button class="link" on:click=sign_out>"Sign out"</button>
                </Show>
            })}
        </div>
    }
}

#[component]
fn Banner() -> impl IntoView {
    let state = expect_context::<State>();
    move || {
        let auth = state.auth_required.get().then(|| view! {
            <div class="banner warn" role="status">
                "This server requires a token: sign in above to launch and see systems. The editor and preview work without it."
            </div>
        });
        let cluster = match state.cluster.get() {
            Some((false, _, message)) => Some(view! {
                <div class="banner" role="status" id="no-cluster">
                    <b>"No cluster configured."</b>
                    " Editing, validation and preview work; launching needs a Kubernetes cluster. "
                    <span class="muted">{message}</span>
                </div>
            }.into_any()),
            Some((true, false, message)) => Some(view! {
                <div class="banner" role="status" id="no-cluster">
                    <b>"The cluster does not answer."</b>
                    " Editing and preview work; launching will fail until it is back. "
                    <span class="muted">{message}</span>
                </div>
            }.into_any()),
            _ => None,
        };
        view! { {auth} {cluster} }
    }
}

#[component]
fn Catalog() -> impl IntoView {
    let state = expect_context::<State>();
    let pick = move |entry: Option<&CatalogEntry>| {
        state.selected.set(entry.map(|e| e.slug));
        state
            .text
            .set(entry.map_or(BLANK.to_string(), |e| e.text.to_string()));
        state.name.set(String::new());
        state.env.set(BTreeMap::new());
        state.launch.set(Launch::Idle);
    };
    let upload = move |ev: leptos::ev::Event| {
        let Some(input) = ev
            .target()
            .and_then(|t| t.dyn_into::<web_sys::HtmlInputElement>().ok())
        else {
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
                state.launch.set(Launch::Idle);
            }
        });
    };
    let cards = state.catalog.with_value(|entries| {
        entries
            .iter()
            .map(|entry| {
                let slug = entry.slug;
                let chosen = entry.clone();
                view! {
                    <li>
                        <button class="card" data-slug=slug
                            aria-pressed=move || (state.selected.get() == Some(slug)).to_string()
                            on:click=move |_| pick(Some(&chosen))>
                            <span class="title">{entry.title.clone()}</span>
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
            <h2 id="catalog-h">"Start from"</h2>
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
            </ul>
        </section>
    }
}

fn severity_class(s: Severity) -> &'static str {
    match s {
        Severity::Error => "error",
        Severity::Warning => "warning",
    }
}

/// One diagnostic as a button that jumps to its line.
fn diagnostic_item(state: State, d: Diagnostic) -> impl IntoView {
    let (line, column) = (d.line, d.column);
    let place = if line > 0 {
        format!("{line}:{column}")
    } else {
        "—".to_string()
    };
    view! {
        <li class=format!("diag {}", severity_class(d.severity)) data-line=line data-code=d.code.clone()>
            <button class="link" on:click=move |_| state.go_to(line, column)
                title="Go to this line">
                <span class="where">{place}</span>
                <span class="sev">{severity_class(d.severity)}</span>
                <code>{d.code.clone()}</code>
                " "
                <span class="msg">{d.message.clone()}</span>
            </button>
        </li>
    }
}

#[component]
fn EditorPane() -> impl IntoView {
    let state = expect_context::<State>();
    let scroll = RwSignal::new(0);
    let lines = Memo::new(move |_| state.text.with(|t| t.split('\n').count()));
    // The browser's findings plus those of the server's last refusal (until the next edit).
    let marks = Memo::new(move |_| {
        let mut marks = state.analysis.with(|a| a.marked_lines());
        state.launch.with(|l| {
            if let Launch::Failed(p) = l {
                for d in p.errors.iter().filter(|d| d.line > 0) {
                    let entry = marks.entry(d.line).or_insert(d.severity);
                    if d.severity == Severity::Error {
                        *entry = Severity::Error;
                    }
                }
            }
        });
        marks
    });
    let gutter = move || {
        let marks = marks.get();
        (1..=lines.get())
            .map(|n| {
                let class = match marks.get(&n) {
                    Some(s) => format!("ln {}", severity_class(*s)),
                    None => "ln".to_string(),
                };
                view! { <div class=class>{n}</div> }
            })
            .collect_view()
    };
    let highlights = move || {
        let marks = marks.get();
        (1..=lines.get())
            .map(|n| {
                let class = match marks.get(&n) {
                    Some(s) => format!("hl {}", severity_class(*s)),
                    None => "hl".to_string(),
                };
                view! { <div class=class data-line=n></div> }
            })
            .collect_view()
    };
    let offset = move || format!("transform: translateY({}px)", -scroll.get());
    let summary = move || {
        state.analysis.with(|a| {
            let errors = a.errors();
            let warnings = a.diagnostics.len() - errors;
            if errors == 0 && warnings == 0 {
                "No problems".to_string()
            } else {
                format!(
                    "{errors} error{}, {warnings} warning{}",
                    if errors == 1 { "" } else { "s" },
                    if warnings == 1 { "" } else { "s" }
                )
            }
        })
    };
    view! {
        <div class="pane editor-pane">
            <div class="pane-head">
                <h2 id="editor-h">"Compose file"</h2>
                <span class="summary" id="summary" aria-live="polite"
                    class:bad=move || state.analysis.with(|a| a.errors() > 0)>
                    {summary}
                </span>
            </div>
            <div class="editor">
                <div class="gutter" aria-hidden="true"><div style=offset>{gutter}</div></div>
                <div class="code">
                    <div class="highlights" aria-hidden="true" style=offset>{highlights}</div>
                    <textarea id="compose" node_ref=state.textarea spellcheck="false" wrap="off"
                        autocapitalize="off" autocomplete="off" aria-labelledby="editor-h"
                        aria-describedby="summary" aria-invalid=move || (state.analysis.with(|a| a.errors() > 0)).to_string()
                        prop:value=move || state.text.get()
                        on:input=move |ev| {
                            state.text.set(event_target_value(&ev));
                            if state.launch.with_untracked(|l| matches!(l, Launch::Failed(_))) {
                                state.launch.set(Launch::Idle);
                            }
                        }
                        on:scroll=move |_| {
                            if let Some(a) = state.textarea.get() {
                                scroll.set(a.scroll_top());
                            }
                        }></textarea>
                </div>
            </div>
            <ul class="diagnostics" id="diagnostics" aria-label="Problems">
                {move || {
                    state.analysis.with(|a| {
                        a.diagnostics
                            .iter()
                            .cloned()
                            .map(|d| diagnostic_item(state, d))
                            .collect_view()
                    })
                }}
            </ul>
            <EnvTable />
            <LaunchBar />
        </div>
    }
}

#[component]
fn EnvTable() -> impl IntoView {
    let state = expect_context::<State>();
    move || {
        let vars = state.variables.get();
        (!vars.is_empty()).then(|| {
            let rows = vars
                .into_iter()
                .map(|v| {
                    let key = v.name.clone();
                    let key2 = v.name.clone();
                    let id = format!("env-{}", v.name);
                    view! {
                        <tr>
                            <th scope="row"><label for=id.clone()><code>{v.name.clone()}</code></label></th>
                            <td>
                                <input id=id type="text" data-var=v.name.clone()
                                    placeholder=v.default.clone().map_or("(empty)".to_string(), |d| format!("default: {d}"))
                                    prop:value=move || state.env.with(|e| e.get(&key).cloned().unwrap_or_default())
                                    on:input=move |ev| {
                                        let value = event_target_value(&ev);
                                        state.env.update(|e| {
                                            if value.is_empty() {
                                                e.remove(&key2);
                                            } else {
                                                e.insert(key2.clone(), value);
                                            }
                                        });
                                    } />
                            </td>
                        </tr>
                    }
                })
                .collect_view();
            view! {
                <table class="env">
                    <caption>"Variables"</caption>
                    <tbody>{rows}</tbody>
                </table>
            }
        })
    }
}

#[component]
fn LaunchBar() -> impl IntoView {
    let state = expect_context::<State>();
    let can_launch = move || {
        state
            .analysis
            .with(|a| a.errors() == 0 && !a.documents.is_empty())
            && state.launch.with(|l| *l != Launch::Sending)
            && state.cluster.with(|c| c.as_ref().is_none_or(|c| c.0))
    };
    let launch = move |_| {
        if !can_launch() {
            return;
        }
        state.launch.set(Launch::Sending);
        let request = StartRequest {
            compose: serde_json::Value::String(state.text.get_untracked()),
            name: state.name.get_untracked().trim().to_string(),
            env: state.env.get_untracked(),
            client_cidrs: Vec::new(),
        };
        spawn_local(async move {
            match api::start(&request).await {
                Ok(started) => state.launch.set(Launch::Started {
                    name: started.name,
                    guid: started.guid,
                }),
                Err(problem) => {
                    if problem.status == 401 {
                        state.auth_required.set(true);
                    }
                    state.launch.set(Launch::Failed(problem));
                }
            }
        });
    };
    let outcome = move || {
        match state.launch.get() {
        Launch::Idle => None,
        Launch::Sending => Some(view! { <p class="outcome" role="status">"Launching…"</p> }.into_any()),
        Launch::Started { name, guid } => Some(
            view! {
                <p class="outcome ok" role="status" id="launched">
                    "Launched " <b>{name}</b> " (" <code>{guid}</code> "). It appears under Running systems."
                </p>
            }
            .into_any(),
        ),
        Launch::Failed(p) => Some(problem_view(state, p, "launch-problem").into_any()),
    }
    };
    view! {
        <div class="launch">
            <label for="system-name">"Name"</label>
            <input id="system-name" type="text" maxlength="30" pattern="[a-z0-9]([-a-z0-9]*[a-z0-9])?"
                placeholder=move || state.analysis.with(|a| if a.name.is_empty() { "from the file".to_string() } else { a.name.clone() })
                prop:value=move || state.name.get()
                on:input=move |ev| state.name.set(event_target_value(&ev)) />
            <button id="launch" class="primary" on:click=launch disabled=move || !can_launch()>
                "Launch"
            </button>
        </div>
        {outcome}
    }
}

/// A problem from the server, readable: title, detail, the Kubernetes reason and diagnostics.
fn problem_view(state: State, p: Problem, id: &'static str) -> impl IntoView {
    let errors = p.errors.clone();
    view! {
        <div class="problem" role="alert" id=id>
            <b>{p.title.clone()}</b>
            {(!p.detail.is_empty()).then(|| view! { <p>{p.detail.clone()}</p> })}
            {(!p.reason.is_empty()).then(|| view! { <p class="muted">"Reason: " {p.reason.clone()}</p> })}
            {(!errors.is_empty()).then(|| view! {
                <ul class="diagnostics">
                    {errors.into_iter().map(|d| diagnostic_item(state, d)).collect_view()}
                </ul>
            })}
        </div>
    }
}

#[component]
fn PreviewPane() -> impl IntoView {
    let state = expect_context::<State>();
    let tab = RwSignal::new(0_usize);
    let copied = RwSignal::new(false);
    let current = move || {
        state.analysis.with(|a| {
            let i = tab.get().min(a.documents.len().saturating_sub(1));
            a.documents
                .get(i)
                .map(|d| d.yaml.clone())
                .unwrap_or_default()
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
        let _ = save_file(&format!("{name}.yaml"), &yaml);
    };
    let tabs = move || {
        state.analysis.with(|a| {
            let selected = tab.get().min(a.documents.len().saturating_sub(1));
            a.documents
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
        let n = state.analysis.with_untracked(|a| a.documents.len());
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
                when=move || state.analysis.with(|a| !a.documents.is_empty())
                fallback=|| view! {
                    <p class="empty" id="no-preview">"Fix the errors to see the Kubernetes objects."</p>
                }>
                <div role="tablist" class="tabs" aria-label="Objects" on:keydown=on_tab_key>{tabs}</div>
                <pre id="yaml" role="tabpanel" tabindex="0">{current}</pre>
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

/// Offers `content` as a download named `name`.
fn save_file(name: &str, content: &str) -> Result<(), JsValue> {
    let parts = js_sys::Array::of1(&JsValue::from_str(content));
    let options = web_sys::BlobPropertyBag::new();
    options.set_type("application/yaml");
    let blob = web_sys::Blob::new_with_str_sequence_and_options(&parts, &options)?;
    let url = web_sys::Url::create_object_url_with_blob(&blob)?;
    let a: web_sys::HtmlAnchorElement = document()
        .create_element("a")?
        .dyn_into()
        .map_err(JsValue::from)?;
    a.set_href(&url);
    a.set_download(name);
    a.click();
    web_sys::Url::revoke_object_url(&url)
}

fn status_text(s: &SystemStatus, terminating: bool) -> (String, String) {
    if terminating {
        return ("Terminating".into(), "deleting its objects".into());
    }
    let detail = if !s.message.is_empty() {
        s.message.clone()
    } else {
        s.reason.clone()
    };
    (s.phase.as_str().to_string(), detail)
}

/// The system's containers (state, reason, restarts) and ports, under its row.
fn details_row(s: SystemStatus) -> impl IntoView {
    let containers = s
        .containers
        .iter()
        .map(|c| {
            let state = if c.reason.is_empty() {
                c.state.clone()
            } else {
                format!("{} ({})", c.state, c.reason)
            };
            view! {
                <li>
                    <b>{c.name.clone()}</b> " " <code>{c.image.clone()}</code> " — "
                    {if c.ready { "ready".to_string() } else { state }}
                    {(c.restarts > 0).then(|| format!(", {} restarts", c.restarts))}
                </li>
            }
        })
        .collect_view();
    let ports = s
        .ports
        .iter()
        .map(|p| {
            let node = p.node_port.map(|n| format!(", node port {n}"));
            let url = p.url.clone().unwrap_or_default();
            view! {
                <li>
                    {format!("{} {}/{} → {}", p.service, p.port, p.protocol, p.container_port)}
                    {node} " " <code>{url}</code>
                </li>
            }
        })
        .collect_view();
    view! {
        <tr class="details" data-details=s.guid.clone()>
            <td colspan="8">
                <div class="detail-grid">
                    <div><h3>"Containers"</h3><ul>{containers}</ul></div>
                    <div><h3>"Ports"</h3><ul>{ports}</ul>
                        {(!s.address.is_empty()).then(|| view! { <p class="muted">"Address " <code>{s.address.clone()}</code></p> })}
                    </div>
                </div>
            </td>
        </tr>
    }
}

#[component]
fn Systems() -> impl IntoView {
    let state = expect_context::<State>();
    let delete = move |guid: String| {
        state.confirm.set(None);
        state.terminating.update(|t| {
            t.insert(guid.clone());
        });
        spawn_local(async move {
            match api::delete(&guid).await {
                Ok(true) => {}
                Ok(false) => state.apply(SystemEvent::Removed { guid }),
                Err(p) => {
                    state.terminating.update(|t| {
                        t.remove(&guid);
                    });
                    state.list_problem.set(Some(p));
                }
            }
        });
    };
    let expanded = RwSignal::new(BTreeSet::<String>::new());
    let rows = move || {
        let open = expanded.get();
        let terminating = state.terminating.get();
        let confirm = state.confirm.get();
        let now = state.now_ms.get();
        let mut systems = state.systems.get();
        systems.sort_by(|a, b| b.created.cmp(&a.created).then(a.name.cmp(&b.name)));
        systems
            .into_iter()
            .map(|s| {
                let dying = terminating.contains(&s.guid) || s.phase == tycho_api::Phase::Terminating;
                let (phase, detail) = status_text(&s, dying);
                let age = if s.created.is_empty() {
                    model::age(s.age_seconds)
                } else {
                    let created = js_sys::Date::parse(&s.created);
                    model::age(((now - created) / 1000.0).max(0.0) as u64)
                };
                let resources = format!(
                    "{} CPU · {}{}",
                    if s.resources.cpu.is_empty() { "–" } else { &s.resources.cpu },
                    if s.resources.memory.is_empty() { "–" } else { &s.resources.memory },
                    if s.resources.gpus > 0 { format!(" · {} GPU", s.resources.gpus) } else { String::new() },
                );
                let guid = s.guid.clone();
                let guid_confirm = s.guid.clone();
                let guid_delete = s.guid.clone();
                let asking = confirm.as_deref() == Some(s.guid.as_str());
                let is_open = open.contains(&s.guid);
                let guid_toggle = s.guid.clone();
                let details = is_open.then(|| details_row(s.clone()));
                let link = s.url.clone().map(|url| view! {
                    <a href=url.clone() target="_blank" rel="noopener">"Open"</a>
                });
                view! {
                    <tr data-guid=guid.clone() data-phase=phase.to_lowercase() class:terminating=dying>
                        <td data-label="Name">
                            <button class="link name" aria-expanded=is_open.to_string()
                                title="Containers and ports"
                                on:click=move |_| expanded.update(|e| {
                                    if !e.remove(&guid_toggle) {
                                        e.insert(guid_toggle.clone());
                                    }
                                })>
                                <span aria-hidden="true">{if is_open { "▾ " } else { "▸ " }}</span>
                                <b>{s.name.clone()}</b>
                            </button>
                        </td>
                        <td data-label="GUID"><code title=guid.clone()>{guid.chars().take(8).collect::<String>()}</code></td>
                        <td data-label="Status">
                            <span class=format!("phase {}", phase.to_lowercase())>{phase.clone()}</span>
                            {(!detail.is_empty()).then(|| view! { <span class="muted reason">" " {detail}</span> })}
                        </td>
                        <td data-label="Ready" class="ready">{format!("{}/{}", s.ready, s.desired)}</td>
                        <td data-label="Connect">{link}</td>
                        <td data-label="Age">{age}</td>
                        <td data-label="Resources">{resources}</td>
                        <td class="row-actions">
                            {if dying {
                                view! { <span class="muted">"terminating…"</span> }.into_any()
                            } else if asking {
                                view! {
                                    <span class="confirm" role="group" aria-label="Confirm delete">
                                        "Delete " {s.name.clone()} "? "
                                        <button class="danger confirm-yes" on:click=move |_| delete(guid_delete.clone())>"Delete"</button>
                                        <button class="confirm-no" on:click=move |_| state.confirm.set(None)>"Cancel"</button>
                                    </span>
                                }.into_any()
                            } else {
                                view! {
                                    <button class="delete" on:click=move |_| state.confirm.set(Some(guid_confirm.clone()))>
                                        "Delete"
                                    </button>
                                }.into_any()
                            }}
                        </td>
                    </tr>
                    {details}
                }
            })
            .collect_view()
    };
    let feed = move || match state.feed.get() {
        Feed::Off => "",
        Feed::Live => "live",
        Feed::Reconnecting => "reconnecting…",
        Feed::Polling => "refreshing every 3 s",
    };
    view! {
        <section class="systems" aria-labelledby="systems-h">
            <div class="pane-head">
                <h2 id="systems-h">"Running systems"</h2>
                <span class="feed muted" id="feed">{feed}</span>
            </div>
            {move || state.list_problem.get().map(|p| problem_view(state, p, "list-problem"))}
            <Show
                when=move || state.systems.with(|s| !s.is_empty())
                fallback=move || view! {
                    <p class="empty" id="no-systems">
                        {move || if state.cluster.with(|c| c.as_ref().is_some_and(|c| c.0)) {
                            "Nothing is running. Launch a system above."
                        } else {
                            "Nothing to show without a cluster."
                        }}
                    </p>
                }>
                <table class="system-table" id="systems">
                    <thead>
                        <tr>
                            <th scope="col">"Name"</th>
                            <th scope="col">"GUID"</th>
                            <th scope="col">"Status"</th>
                            <th scope="col">"Ready"</th>
                            <th scope="col">"Connect"</th>
                            <th scope="col">"Age"</th>
                            <th scope="col">"Resources"</th>
                            <th scope="col"><span class="sr-only">"Actions"</span></th>
                        </tr>
                    </thead>
                    <tbody>{rows}</tbody>
                </table>
            </Show>
        </section>
    }
}
