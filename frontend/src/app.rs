//! The shell: the signals every component shares ([`State`], through context), the page layout
//! and the hash route (`#/` the workbench, `#/systems` My systems, `#/systems/<guid>` one
//! system).
//!
//! One module per component: [`account`] (sign-in, banners), [`catalog`], [`editor`] (compose
//! text, problems, resources against the policy, launch), [`preview`], [`systems`] (the table),
//! [`system_page`]; [`feed`] keeps the list live and fetches the policy; [`diagnostics`] renders
//! diagnostics and problems for all of them. Server calls go through [`crate::api`].

mod account;
mod catalog;
mod diagnostics;
mod download;
mod drafts;
mod editor;
mod feed;
mod files;
mod logs;
mod preview;
mod system_page;
mod systems;
mod volumes;

use crate::api;
use crate::model::{self, Analysis, CatalogEntry, Variable};
use leptos::prelude::*;
use leptos::task::spawn_local;
use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;
use tycho_api::{Problem, SystemEvent, SystemStatus};
use tycho_compiler::{Files, Policy};
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
    /// Polling every few seconds (only when the browser cannot open an EventSource).
    Polling,
}

#[derive(Debug, Clone, PartialEq)]
enum Launch {
    Idle,
    Sending,
    Started { name: String, guid: String },
    Failed(Problem),
}

/// Whose policy the editor compiles with.
#[derive(Debug, Clone, PartialEq)]
enum PolicySource {
    /// Not asked yet, or the server did not answer: the compiler's defaults.
    Default { why: String },
    /// The policy the server published.
    Server,
}

/// What the page shows, from `location.hash`.
#[derive(Debug, Clone, PartialEq)]
enum Route {
    /// Choose, edit, launch: the three steps (with the user's systems below, to follow a launch).
    Workbench,
    /// My systems (All systems for admins) and My volumes, on their own.
    Systems,
    System(String),
}

impl Route {
    /// The hash of a view (the system page's own is its GUID's).
    fn hash(&self) -> String {
        match self {
            Route::Workbench => "#/".into(),
            Route::Systems => "#/systems".into(),
            Route::System(guid) => format!("#/systems/{guid}"),
        }
    }

    fn current() -> Route {
        let hash = window().location().hash().unwrap_or_default();
        match model::system_route(&hash) {
            Some(guid) => Route::System(guid),
            None if model::is_systems_route(&hash) => Route::Systems,
            None => Route::Workbench,
        }
    }
}

/// Every signal of the app.
#[derive(Clone, Copy)]
struct State {
    catalog: StoredValue<Vec<CatalogEntry>>,
    selected: RwSignal<Option<&'static str>>,
    text: RwSignal<String>,
    name: RwSignal<String>,
    env: RwSignal<BTreeMap<String, String>>,
    /// The files sent with the compose file, by project path.
    files: RwSignal<Files>,
    /// What a folder upload could not take (empty when all went well).
    files_notice: RwSignal<String>,
    policy: RwSignal<Policy>,
    policy_source: RwSignal<PolicySource>,
    analysis: Memo<Analysis>,
    variables: Memo<Vec<Variable>>,
    launch: RwSignal<Launch>,
    /// Cluster: None while unknown; Some((configured, reachable, message)).
    cluster: RwSignal<Option<(bool, bool, String)>>,
    auth_required: RwSignal<bool>,
    user: RwSignal<Option<String>>,
    /// The signed-in user is an admin: the list holds everyone's systems.
    admin: RwSignal<bool>,
    systems: RwSignal<Vec<SystemStatus>>,
    /// Whether `systems` has been filled once (so "not found" is not said while loading).
    systems_known: RwSignal<bool>,
    terminating: RwSignal<BTreeSet<String>>,
    /// The GUID whose delete awaits confirmation.
    confirm: RwSignal<Option<String>>,
    /// The user's quota (`GET /api/v1/quota`), `None` until known or without a cluster.
    quota: RwSignal<Option<tycho_api::QuotaReport>>,
    /// Bumped when volumes may have changed (a delete here): the volumes list asks again.
    volumes_changed: RwSignal<u32>,
    feed: RwSignal<Feed>,
    list_problem: RwSignal<Option<Problem>>,
    now_ms: RwSignal<f64>,
    route: RwSignal<Route>,
    /// The view a system's page goes back to: the one it was opened from (My systems when the
    /// page was opened directly).
    back_to: RwSignal<Route>,
    textarea: NodeRef<leptos::html::Textarea>,
}

impl State {
    fn new() -> State {
        // Open on the smallest catalog entry, so the preview shows what Tycho makes at once.
        let catalog = model::catalog();
        let first = catalog.iter().find(|e| e.slug == "nginx");
        let selected = RwSignal::new(first.map(|e| e.slug));
        let slug = first.map(|e| e.slug);
        let original = first.map_or(BLANK, |e| e.text);
        // Edits of the last visit are kept (see `drafts`).
        let text = RwSignal::new(drafts::load(slug).unwrap_or_else(|| original.to_string()));
        let name = RwSignal::new(String::new());
        let env = RwSignal::new(BTreeMap::new());
        let policy = RwSignal::new(Policy::default());
        let files = RwSignal::new(Files::new());
        let analysis = Memo::new(move |_| {
            text.with(|t| {
                name.with(|n| {
                    env.with(|e| policy.with(|p| files.with(|f| model::analyze(t, n, e, p, f))))
                })
            })
        });
        let variables = Memo::new(move |_| text.with(|t| model::variables(t)));
        State {
            catalog: StoredValue::new(catalog),
            selected,
            text,
            name,
            env,
            files,
            files_notice: RwSignal::new(String::new()),
            policy,
            policy_source: RwSignal::new(PolicySource::Default {
                why: "asking the server…".into(),
            }),
            analysis,
            variables,
            launch: RwSignal::new(Launch::Idle),
            cluster: RwSignal::new(None),
            auth_required: RwSignal::new(false),
            user: RwSignal::new(None),
            admin: RwSignal::new(false),
            systems: RwSignal::new(Vec::new()),
            systems_known: RwSignal::new(false),
            terminating: RwSignal::new(BTreeSet::new()),
            confirm: RwSignal::new(None),
            volumes_changed: RwSignal::new(0),
            quota: RwSignal::new(None),
            feed: RwSignal::new(Feed::Off),
            list_problem: RwSignal::new(None),
            now_ms: RwSignal::new(js_sys::Date::now()),
            route: RwSignal::new(Route::current()),
            back_to: RwSignal::new(Route::Systems),
            textarea: NodeRef::new(),
        }
    }

    fn apply(&self, event: SystemEvent) {
        match event {
            SystemEvent::Snapshot { systems } => {
                let guids: BTreeSet<String> = systems.iter().map(|s| s.guid.clone()).collect();
                self.terminating.update(|t| t.retain(|g| guids.contains(g)));
                self.systems.set(systems);
                self.systems_known.set(true);
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

    /// Deletes a system (after its confirmation), and its volumes when `volumes`: terminating at
    /// once, removed when gone. The volumes list follows.
    fn delete_system(&self, guid: String, volumes: bool) {
        let state = *self;
        state.confirm.set(None);
        state.terminating.update(|t| {
            t.insert(guid.clone());
        });
        spawn_local(async move {
            let answer = api::delete(&guid, volumes).await;
            state.volumes_changed.update(|n| *n += 1);
            match answer {
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
    }

    /// The catalog's own text of an entry (`None`: the blank file; an upload: none).
    fn original_text(&self, slug: Option<&str>) -> Option<String> {
        match slug {
            None => Some(BLANK.to_string()),
            Some(slug) => self.catalog.with_value(|entries| {
                entries
                    .iter()
                    .find(|e| e.slug == slug)
                    .map(|e| e.text.to_string())
            }),
        }
    }

    /// Whether the editor holds edits of the chosen entry (kept as its draft).
    fn edited(&self) -> bool {
        let slug = self.selected.get();
        drafts::kept(slug)
            && self
                .original_text(slug)
                .is_some_and(|original| self.text.with(|t| *t != original))
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
    spawn_local(feed::connect(state));
    feed::keep_session_fresh();
    set_interval(
        move || state.now_ms.set(js_sys::Date::now()),
        Duration::from_secs(5),
    );
    let _ = window_event_listener(leptos::ev::hashchange, move |_| follow_hash(state));
    // Every edit of a catalog entry (or the blank file) is kept as its draft.
    Effect::new(move |_| {
        let slug = state.selected.get_untracked();
        if let Some(original) = state.original_text(slug) {
            state.text.with(|t| drafts::save(slug, t, &original));
        }
    });
    // Tell tests and people measuring: the editor is on screen and answering.
    request_animation_frame(mark_interactive);
    let on_workbench = move || state.route.with(|r| *r == Route::Workbench);
    let on_systems = move || state.route.with(|r| *r == Route::Systems);
    view! {
        <header class="top">
            <div class="brand">
                <img src="logo.svg" alt="" width="28" height="28" />
                <h1><a href="#/" class="home">"Tycho"</a></h1>
            </div>
            <Views />
            <account::Account />
        </header>
        <account::Banner />
        // The workbench and My systems stay mounted while a system page is open, so the text,
        // the preview tab and the scroll position are where they were after Back; they are one
        // <main>, so the list of systems is one list under both views.
        <main hidden=move || !on_workbench() && !on_systems() class:systems-view=on_systems>
            <Show when=on_workbench>
                <Intro />
            </Show>
            <catalog::Catalog />
            <section class="workbench" hidden=on_systems>
                <editor::EditorPane />
                <preview::PreviewPane />
            </section>
            <systems::Systems />
            <Show when=on_systems>
                <volumes::Volumes />
            </Show>
        </main>
        {move || match state.route.get() {
            Route::System(guid) => Some(view! { <main><system_page::SystemPage guid /></main> }),
            Route::Workbench | Route::Systems => None,
        }}
    }
}

/// The views, as links in the header: where a person is, and the other one a click away.
#[component]
fn Views() -> impl IntoView {
    let state = expect_context::<State>();
    let current = move |view: Route| {
        let here = state
            .route
            .with(|r| *r == view || (view == Route::Systems && matches!(r, Route::System(_))));
        here.then_some("page")
    };
    let count = move || state.systems.with(Vec::len);
    let systems_label = move || {
        if state.admin.get() {
            "All systems"
        } else {
            "My systems"
        }
    };
    view! {
        <nav class="views" aria-label="Views">
            <a href="#/" id="nav-launch" aria-current=move || current(Route::Workbench)>"Launch"</a>
            <a href="#/systems" id="nav-systems" aria-current=move || current(Route::Systems)>
                {systems_label} " " <span class="count">{count}</span>
            </a>
        </nav>
    }
}

/// The first screen's few words: what Tycho is for, and the three steps (which are also the
/// numbered headings below).
#[component]
fn Intro() -> impl IntoView {
    view! {
        <section class="intro" aria-labelledby="intro-h">
            <h2 id="intro-h" class="intro-title">
                "Run a docker-compose file as your own system on Kubernetes"
            </h2>
            <ol class="steps">
                <li><a href="#catalog-h" class="step-link" on:click=move |ev| scroll_to_step(ev, "catalog-h")>"Choose a starting point"</a></li>
                <li><a href="#editor-h" class="step-link" on:click=move |ev| scroll_to_step(ev, "editor-h")>"Check the compose file"</a></li>
                <li><a href="#launch-h" class="step-link" on:click=move |ev| scroll_to_step(ev, "launch-h")>"Launch it, then open it from My systems"</a></li>
            </ol>
        </section>
    }
}

/// A step's link: scrolls its heading into view without changing the hash (which is the route).
fn scroll_to_step(ev: leptos::ev::MouseEvent, id: &str) {
    ev.prevent_default();
    if let Some(heading) = document().get_element_by_id(id) {
        heading.scroll_into_view();
        if let Ok(heading) = heading.dyn_into::<web_sys::HtmlElement>() {
            let _ = heading.focus();
        }
    }
}

/// Follows a new `location.hash`; back on the workbench, focus returns to the system's link.
fn follow_hash(state: State) {
    let previous = state.route.get_untracked();
    let next = Route::current();
    if previous == next {
        return;
    }
    if matches!(next, Route::System(_)) && matches!(previous, Route::Workbench | Route::Systems) {
        state.back_to.set(previous.clone());
    }
    state.route.set(next.clone());
    if let (Route::System(guid), Route::Workbench | Route::Systems) = (previous, next) {
        request_animation_frame(move || {
            // The row's link: the launch outcome may link to the same page.
            let selector = format!("tr[data-guid='{guid}'] a[href='#/systems/{guid}']");
            if let Ok(Some(link)) = document().query_selector(&selector)
                && let Ok(link) = link.dyn_into::<web_sys::HtmlElement>()
            {
                let _ = link.focus();
            }
        });
    } else {
        window().scroll_to_with_x_and_y(0.0, 0.0);
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
