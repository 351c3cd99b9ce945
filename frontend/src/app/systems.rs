//! The running systems: one row each, its name linking to its page, Open (through Tycho's
//! proxy) and delete with confirmation. Rows are keyed by GUID and update in place, so what is
//! open in one (a delete confirmation) survives a refresh. The helpers (`system_memo`,
//! `open_memo`, `phase_of`, `age_of`, `resources_of`, `open_control`, `DeleteControl`) serve the
//! page too.

use super::diagnostics::problem_view;
use super::{Feed, State};
use crate::model::{self, PhaseFilter};
use leptos::prelude::*;
use tycho_api::{Phase, SystemStatus};

/// The phase to show (`Terminating` as soon as a delete was asked) and its cause, if any.
pub(super) fn phase_of(state: State, s: &SystemStatus) -> (String, String) {
    let dying = state.terminating.with(|t| t.contains(&s.guid)) || s.phase == Phase::Terminating;
    if dying {
        return ("Terminating".into(), "deleting its objects".into());
    }
    let detail = if !s.message.is_empty() {
        s.message.clone()
    } else {
        s.reason.clone()
    };
    (s.phase.as_str().to_string(), detail)
}

/// What the cluster or the runtime said, as it said it, folded under "Details" (the sentence
/// before it is what people read first).
pub(super) fn raw_detail(detail: &str) -> Option<impl IntoView + use<>> {
    (!detail.is_empty()).then(|| {
        view! {
            <details class="raw"><summary>"Details"</summary><code>{detail.to_string()}</code></details>
        }
    })
}

/// Time since the system was created, kept current by `state.now_ms`.
pub(super) fn age_of(state: State, s: &SystemStatus) -> String {
    if s.created.is_empty() {
        return model::age(s.age_seconds);
    }
    let created = js_sys::Date::parse(&s.created);
    model::age(((state.now_ms.get() - created) / 1000.0).max(0.0) as u64)
}

/// `2 CPU · 4 GiB · 1 GPU` (what the pod asked for, in the editor's units).
pub(super) fn resources_of(s: &SystemStatus) -> String {
    model::system_resources(&s.resources)
}

/// One system of `state.systems`, by GUID: what a keyed row or the system page renders from, so
/// a refresh updates their cells in place instead of rebuilding them (and whatever is open in
/// them, such as a delete confirmation). `None` once the system is gone from the list.
pub(super) fn system_memo(state: State, guid: String) -> Memo<Option<SystemStatus>> {
    Memo::new(move |_| {
        state
            .systems
            .with(|list| list.iter().find(|s| s.guid == guid).cloned())
    })
}

/// Where Open leads for this system (`None` once it is gone); changes only when the target
/// does, so the control is not rebuilt by a refresh that changes something else.
pub(super) fn open_memo(
    state: State,
    system: Memo<Option<SystemStatus>>,
) -> Memo<Option<Result<String, &'static str>>> {
    Memo::new(move |_| {
        system.with(|s| {
            s.as_ref().map(|s| {
                let dying = state.terminating.with(|t| t.contains(&s.guid));
                model::open_target(s, dying)
            })
        })
    })
}

/// Open: the system through Tycho's proxy (`connect_url`) in a new tab, once it runs. Until then
/// a control that stays focusable (`aria-disabled`) and says why in its label and title, and
/// beside it when `explain`.
pub(super) fn open_control(
    name: &str,
    target: Result<String, &'static str>,
    explain: bool,
) -> AnyView {
    match target {
        Ok(url) => view! {
            <a class="button open" href=url target="_blank" rel="noopener"
                title=format!("Open {name} in a new tab")>"Open"</a>
        }
        .into_any(),
        Err(why) => view! {
            <button type="button" class="open" aria-disabled="true" title=why
                aria-label=format!("Open ({why})")>"Open"</button>
            {explain.then(|| view! { <span class="muted open-why">{why}</span> })}
        }
        .into_any(),
    }
}

/// Delete, then "Delete NAME? [Delete] [Cancel]"; Escape cancels and focus follows the buttons.
#[component]
pub(super) fn DeleteControl(guid: String, name: String) -> impl IntoView {
    let state = expect_context::<State>();
    let asking = {
        let guid = guid.clone();
        move || state.confirm.with(|c| c.as_deref() == Some(guid.as_str()))
    };
    let dying = {
        let guid = guid.clone();
        move || state.terminating.with(|t| t.contains(&guid))
    };
    // What deleting the data too would remove: asked when the question opens.
    let data = RwSignal::new(None::<String>);
    let with_data = RwSignal::new(false);
    Effect::new({
        let (asking, guid) = (asking.clone(), guid.clone());
        move |_| {
            if !asking() {
                return;
            }
            with_data.set(false);
            let guid = guid.clone();
            leptos::task::spawn_local(async move {
                let summary = crate::api::volumes(Some(&guid))
                    .await
                    .map(|list| model::volumes_summary(&list.volumes))
                    .unwrap_or_default();
                let _ = data.try_set(Some(summary));
            });
        }
    });
    let confirm_button = NodeRef::<leptos::html::Button>::new();
    // Focus the confirming button as it appears, so Enter or Escape answers at once.
    Effect::new(move |_| {
        if let Some(button) = confirm_button.get() {
            let _ = button.focus();
        }
    });
    move || {
        let (guid, name) = (guid.clone(), name.clone());
        if dying() {
            view! { <span class="muted">"terminating…"</span> }.into_any()
        } else if asking() {
            view! {
                <span class="confirm" role="group" aria-label="Confirm delete"
                    on:keydown=move |ev| if ev.key() == "Escape" { state.confirm.set(None) }>
                    "Delete " {name} "? "
                    {move || data.get().filter(|d| !d.is_empty()).map(|summary| view! {
                        <label class="with-data" title="Without this, its volumes are kept and listed under My volumes">
                            <input type="checkbox" class="delete-data" prop:checked=move || with_data.get()
                                on:change=move |ev| with_data.set(event_target_checked(&ev)) />
                            " Also delete its data: " {summary}
                        </label>
                        " "
                    })}
                    <button class="danger confirm-yes" node_ref=confirm_button
                        on:click=move |_| state.delete_system(guid.clone(), with_data.get_untracked())>"Delete"</button>
                    <button class="confirm-no" on:click=move |_| state.confirm.set(None)>"Cancel"</button>
                </span>
            }
            .into_any()
        } else {
            view! {
                <button class="delete" on:click=move |_| state.confirm.set(Some(guid.clone()))>
                    "Delete"
                </button>
            }
            .into_any()
        }
    }
}

/// One row of the table, created once per GUID; its cells follow the system's status.
#[component]
fn SystemRow(guid: String) -> impl IntoView {
    let state = expect_context::<State>();
    let system = system_memo(state, guid.clone());
    let open = open_memo(state, system);
    let phase = Memo::new(move |_| {
        system.with(|s| s.as_ref().map(|s| phase_of(state, s)).unwrap_or_default())
    });
    let cell = move |text: fn(State, &SystemStatus) -> String| {
        move || system.with(|s| s.as_ref().map(|s| text(state, s)).unwrap_or_default())
    };
    // A system keeps its name for life.
    let name = system.with_untracked(|s| s.as_ref().map(|s| s.name.clone()).unwrap_or_default());
    let phase_class = move || phase.with(|(p, _)| p.to_lowercase());
    // A failed system cannot be opened: its row offers the way to why, not a dead button.
    let failed = Memo::new(move |_| phase.with(|(p, _)| p == "Failed"));
    let connect = {
        let (name, page) = (name.clone(), format!("#/systems/{guid}"));
        move || {
            if failed.get() {
                let page = page.clone();
                return Some(view! { <a class="why" href=page>"See why"</a> }.into_any());
            }
            open.get().map(|target| open_control(&name, target, false))
        }
    };
    let owner =
        system.with_untracked(|s| s.as_ref().map(|s| s.username.clone()).unwrap_or_default());
    view! {
        <tr data-guid=guid.clone() data-phase=phase_class
            class:terminating=move || phase.with(|(p, _)| p == "Terminating")>
            <td data-label="Name">
                <a class="name" href=format!("#/systems/{guid}") title="Status, containers, ports and events">
                    <b>{name.clone()}</b>
                </a>
            </td>
            <Show when=move || state.admin.get()>
                <td data-label="Owner" class="owner">{owner.clone()}</td>
            </Show>
            <td data-label="GUID"><code title=guid.clone()>{guid.chars().take(8).collect::<String>()}</code></td>
            <td data-label="Status">
                <span class=move || format!("phase {}", phase_class())>{move || phase.with(|(p, _)| p.clone())}</span>
                {move || {
                    let detail = phase.with(|(_, d)| d.clone());
                    (!detail.is_empty()).then(|| view! { <span class="muted reason">" " {detail}</span> })
                }}
                {move || system.with(|s| s.as_ref().map(|s| raw_detail(&s.detail)))}
            </td>
            <td data-label="Ready" class="ready">{cell(|_, s| format!("{}/{}", s.ready, s.desired))}</td>
            <td data-label="Connect">{connect}</td>
            <td data-label="Age">{cell(age_of)}</td>
            <td data-label="Resources">{cell(|_, s| resources_of(s))}</td>
            <td class="row-actions"><DeleteControl guid=guid.clone() name /></td>
        </tr>
    }
}

#[component]
pub(super) fn Systems() -> impl IntoView {
    let state = expect_context::<State>();
    // Keyed by GUID: a refresh adds and removes rows, and updates the cells of the others.
    let phase = RwSignal::new(PhaseFilter::All);
    // An admin's choice of owner; empty: everyone.
    let owner = RwSignal::new(String::new());
    let order = Memo::new(move |_| {
        let who = owner.get();
        let who = (!who.is_empty()).then_some(who.as_str());
        state
            .systems
            .with(|list| model::filtered_order(list, phase.get(), who))
    });
    let owners = Memo::new(move |_| state.systems.with(|list| model::owners(list)));
    let filters = move || {
        PhaseFilter::EACH
            .into_iter()
            .map(|f| {
                let count = move || {
                    state
                        .systems
                        .with(|list| list.iter().filter(|s| f.admits(s.phase)).count())
                };
                view! {
                    <button type="button" class="filter" data-filter=f.label().to_lowercase()
                        aria-pressed=move || (phase.get() == f).to_string()
                        on:click=move |_| phase.set(f)>
                        {f.label()} " " <span class="count">{count}</span>
                    </button>
                }
            })
            .collect_view()
    };
    let owner_filter = move || {
        state.admin.get().then(|| {
            view! {
                <label class="owner-filter">
                    "Owner "
                    <select id="owner-filter" on:change=move |ev| owner.set(event_target_value(&ev))>
                        <option value="">"everyone"</option>
                        {move || owners.get().into_iter().map(|o| {
                            let selected = owner.get_untracked() == o;
                            view! { <option value=o.clone() selected=selected>{o.clone()}</option> }
                        }).collect_view()}
                    </select>
                </label>
            }
        })
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
                <h2 id="systems-h">{move || if state.admin.get() { "All systems" } else { "My systems" }}</h2>
                <span class="feed muted" id="feed">{feed}</span>
            </div>
            <Show when=move || state.systems.with(|s| !s.is_empty())>
                <div class="filters" role="group" aria-label="Show systems">
                    {filters}
                    {owner_filter}
                </div>
            </Show>
            {move || state.list_problem.get().map(|p| problem_view(state, p, "list-problem"))}
            <Show
                when=move || state.systems.with(|s| !s.is_empty())
                fallback=move || view! {
                    <p class="empty" id="no-systems">
                        {move || if state.cluster.with(|c| c.as_ref().is_some_and(|c| c.0)) {
                            view! { "Nothing is running yet. " <a href="#/">"Launch a system"</a> " to see it here." }.into_any()
                        } else {
                            "Nothing to show without a cluster.".into_any()
                        }}
                    </p>
                }>
                <table class="system-table" id="systems">
                    <thead>
                        <tr>
                            <th scope="col">"Name"</th>
                            <Show when=move || state.admin.get()>
                                <th scope="col">"Owner"</th>
                            </Show>
                            <th scope="col">"GUID"</th>
                            <th scope="col">"Status"</th>
                            <th scope="col">"Ready"</th>
                            <th scope="col">"Connect"</th>
                            <th scope="col">"Age"</th>
                            <th scope="col">"Resources"</th>
                            <th scope="col"><span class="sr-only">"Actions"</span></th>
                        </tr>
                    </thead>
                    <tbody>
                        <For each=move || order.get() key=|guid| guid.clone() let:guid>
                            <SystemRow guid />
                        </For>
                    </tbody>
                </table>
                <Show when=move || order.with(Vec::is_empty)>
                    <p class="empty" id="none-shown">"No system matches this filter. "
                        <button class="link" on:click=move |_| { phase.set(PhaseFilter::All); owner.set(String::new()); }>"Show all"</button>
                    </p>
                </Show>
            </Show>
        </section>
    }
}
