//! One system (`#/systems/<guid>`): its status in plain words, Open, containers, ports, resources,
//! age, its logs (followed live), its Kubernetes events (refreshed while the page is open) and
//! delete with confirmation.

use super::State;
use super::logs::LogPane;
use super::systems::{
    DeleteControl, age_of, open_control, open_memo, phase_of, resources_of, system_memo,
};
use crate::api;
use leptos::prelude::*;
use leptos::task::spawn_local;
use std::time::Duration;
use tycho_api::{KubeEvent, Phase, Problem, SystemStatus};

/// How often the events are fetched again while the page is open (besides on status changes).
const EVENTS_EVERY: Duration = Duration::from_secs(3);

/// What the phase means for the person who launched it (`dying`: a delete was asked).
fn in_plain_words(s: &SystemStatus, dying: bool) -> String {
    match s.phase {
        _ if dying => "its objects are being removed.".into(),
        Phase::Pending => {
            "waiting for the cluster to place it; no container has started yet.".into()
        }
        Phase::Starting => format!(
            "pulling images and starting containers ({} of {} ready).",
            s.ready, s.desired
        ),
        Phase::Running => "every container is ready.".into(),
        Phase::Failed => {
            "it cannot become ready without a change to the file or the cluster.".into()
        }
        Phase::Terminating => "its objects are being removed.".into(),
    }
}

#[component]
pub(super) fn SystemPage(guid: String) -> impl IntoView {
    let state = expect_context::<State>();
    let system = system_memo(state, guid.clone());
    // Not in a list that has loaded: deleted (here or elsewhere), or never ours.
    let gone = Memo::new(move |_| system.with(Option::is_none) && state.systems_known.get());
    // The name stays in the heading after the system is gone.
    let name = RwSignal::new(guid.clone());
    Effect::new(move |_| {
        if let Some(s) = system.get() {
            name.set(s.name);
        }
    });
    let events = RwSignal::new(None::<Result<Vec<KubeEvent>, Problem>>);
    let fetch = {
        let guid = guid.clone();
        move || {
            if gone.get_untracked() {
                return;
            }
            let guid = guid.clone();
            spawn_local(async move {
                let answer = api::kube_events(&guid).await.map(|list| list.items);
                // The page may be closed by the time the answer arrives.
                let _ = events.try_set(Some(answer));
            });
        }
    };
    // Again whenever the system changes (an SSE update), and every few seconds.
    Effect::new({
        let fetch = fetch.clone();
        move |_| {
            system.track();
            fetch();
        }
    });
    if let Ok(timer) = set_interval_with_handle(fetch, EVENTS_EVERY) {
        on_cleanup(move || timer.clear());
    }
    let heading = NodeRef::<leptos::html::H2>::new();
    Effect::new(move |_| {
        if let Some(h) = heading.get() {
            let _ = h.focus();
        }
    });
    let absent = move || {
        if gone.get() {
            view! {
                <p class="empty" id="system-gone">
                    "This system is not running (any more). " <a href="#/">"Back to the dashboard"</a>
                </p>
            }
            .into_any()
        } else {
            view! { <p class="empty">"Loading…"</p> }.into_any()
        }
    };
    // The status and details follow each refresh; Open and Delete are made once while the
    // system exists, so an open delete confirmation survives a refresh.
    let present = {
        let guid = guid.clone();
        move || {
            view! {
                {move || system.get().map(|s| status_view(state, s))}
                <PageActions guid=guid.clone() system />
                {move || system.get().map(details_view)}
                <LogPane guid=guid.clone() system />
            }
        }
    };
    view! {
        <section class="system-page" aria-labelledby="system-h" data-guid=guid>
            <nav aria-label="Back">
                <a href=move || state.back_to.with(|r| r.hash()) class="back">
                    {move || match (state.back_to.with(|r| *r == super::Route::Workbench), state.admin.get()) {
                        (true, _) => "← Launch",
                        (false, true) => "← All systems",
                        (false, false) => "← My systems",
                    }}
                </a>
            </nav>
            <h2 id="system-h" tabindex="-1" node_ref=heading>{move || name.get()}</h2>
            <Show when=move || system.with(Option::is_some) fallback=absent>
                {present.clone()}
            </Show>
            <Show when=move || !gone.get()>
                <section class="kube-events" aria-labelledby="kube-events-h">
                    <h3 id="kube-events-h">"Kubernetes events"</h3>
                    {move || events_view(events.get())}
                </section>
            </Show>
        </section>
    }
}

/// Open and Delete for the page, created once: they change only when their own inputs do.
#[component]
fn PageActions(guid: String, system: Memo<Option<SystemStatus>>) -> impl IntoView {
    let state = expect_context::<State>();
    let open = open_memo(state, system);
    let name = system.with_untracked(|s| s.as_ref().map(|s| s.name.clone()).unwrap_or_default());
    let open_view = {
        let name = name.clone();
        move || open.get().map(|target| open_control(&name, target, true))
    };
    view! {
        <div class="page-actions">
            {open_view}
            <DeleteControl guid name />
        </div>
    }
}

/// Containers and ports.
fn details_view(s: SystemStatus) -> impl IntoView {
    let containers = s
        .containers
        .iter()
        .map(|c| {
            let condition = match (c.ready, c.reason.is_empty()) {
                (true, _) => "ready".to_string(),
                (false, true) => c.state.clone(),
                (false, false) => format!("{} ({})", c.state, c.reason),
            };
            view! {
                <tr data-container=c.name.clone()>
                    <td data-label="Container"><b>{c.name.clone()}</b></td>
                    <td data-label="Image"><code>{c.image.clone()}</code></td>
                    <td data-label="State" class:bad=!c.ready>{condition}</td>
                    <td data-label="Restarts">{c.restarts}</td>
                </tr>
            }
        })
        .collect_view();
    let ports = s
        .ports
        .iter()
        .map(|status| {
            let p = &status.published;
            let node = status.node_port.map(|n| format!(", node port {n}"));
            // Only for other pods of the cluster: text, not a link no browser outside could open.
            let in_cluster = status.url.clone().map(|url| {
                view! { <br /><span class="muted">"in-cluster: "</span><code class="in-cluster">{url}</code> }
            });
            let primary = s.connect.as_ref().is_some_and(|c| c.service == p.service && c.port == p.port);
            view! {
                <li class:primary=primary>
                    {format!("{} {}/{} → container port {}", p.service, p.port, p.protocol, p.container_port)}
                    {node}
                    {primary.then(|| view! { <span class="tag" title="Open shows what this port serves">"Open goes here"</span> })}
                    {in_cluster}
                </li>
            }
        })
        .collect_view();
    let no_ports = s
        .ports
        .is_empty()
        .then(|| view! { <li class="muted">"No published ports."</li> });
    view! {
        <div class="detail-grid">
            <section aria-labelledby="containers-h">
                <h3 id="containers-h">"Containers"</h3>
                <table class="system-table" id="containers">
                    <thead><tr>
                        <th scope="col">"Container"</th><th scope="col">"Image"</th>
                        <th scope="col">"State"</th><th scope="col">"Restarts"</th>
                    </tr></thead>
                    <tbody>{containers}</tbody>
                </table>
            </section>
            <section aria-labelledby="ports-h">
                <h3 id="ports-h">"Ports"</h3>
                <ul id="ports">{ports}{no_ports}</ul>
            </section>
        </div>
    }
}

/// The status in plain words and the facts (GUID, age, resources, addresses).
fn status_view(state: State, s: SystemStatus) -> impl IntoView {
    let (phase, detail) = phase_of(state, &s);
    let age = {
        let s = s.clone();
        move || age_of(state, &s)
    };
    view! {
        <p class="plain-status" id="plain-status">
            <span class=format!("phase {}", phase.to_lowercase())>{phase.clone()}</span>
            ": " {in_plain_words(&s, phase == "Terminating")}
            {(!detail.is_empty()).then(|| view! { <span class="muted">" " {detail}</span> })}
        </p>
        {super::systems::raw_detail(&s.detail)}
        {cull_warning(state, &s)}
        <dl class="facts">
            <div><dt>"GUID"</dt><dd><code>{s.guid.clone()}</code></dd></div>
            <div><dt>"Age"</dt><dd>{age}</dd></div>
            <div><dt>"Resources"</dt><dd>{resources_of(&s)}</dd></div>
            <div><dt>"Ready"</dt><dd>{format!("{} of {}", s.ready, s.desired)}</dd></div>
            {(!s.address.is_empty()).then(|| view! { <div><dt>"Address"</dt><dd><code>{s.address.clone()}</code></dd></div> })}
            {s.connect_url.clone().map(|url| view! { <div><dt>"Opens at"</dt><dd><code id="connect-url">{url}</code></dd></div> })}
            {(!s.last_activity.is_empty()).then(|| {
                let last = s.last_activity.clone();
                view! { <div><dt>"Last used"</dt><dd><time datetime=last.clone()>{local_time(&last)}</time></dd></div> }
            })}
        </dl>
    }
}

/// The operator's lifetime rules are about to end the system: when and why, and (for an idle
/// cull) a button that counts as use now. The maximum lifetime cannot be extended.
fn cull_warning(state: State, s: &SystemStatus) -> Option<impl IntoView + use<>> {
    if s.cull_at.is_empty() {
        return None;
    }
    let idle = s.cull_reason == "idle";
    let guid = s.guid.clone();
    let keep = move |_| {
        let guid = guid.clone();
        spawn_local(async move {
            match api::keepalive(&guid).await {
                Ok(system) => state.apply(tycho_api::SystemEvent::Changed {
                    system: Box::new(system),
                }),
                Err(p) => state.list_problem.set(Some(p)),
            }
        });
    };
    let words = if s.warning.is_empty() {
        format!(
            "It will be stopped at {} (its data is kept).",
            local_time(&s.cull_at)
        )
    } else {
        s.warning.clone()
    };
    Some(view! {
        <p class="cull-warning" id="cull-warning" role="status">
            <span aria-hidden="true">"⚠ "</span>{words} " "
            {idle.then(|| view! { <button id="keepalive" on:click=keep>"Keep it running"</button> })}
        </p>
    })
}

/// `3:04:05 PM` in the reader's time zone, from RFC 3339.
fn local_time(rfc3339: &str) -> String {
    let date = js_sys::Date::new(&rfc3339.into());
    if date.get_time().is_nan() {
        return rfc3339.to_string();
    }
    String::from(date.to_locale_time_string("default"))
}

fn events_view(events: Option<Result<Vec<KubeEvent>, Problem>>) -> impl IntoView {
    match events {
        None => view! { <p class="empty">"Loading…"</p> }.into_any(),
        Some(Err(p)) => view! {
            <p class="empty" id="kube-events-problem">{p.title} ": " <span class="muted">{p.detail}</span></p>
        }
        .into_any(),
        Some(Ok(items)) if items.is_empty() => {
            view! { <p class="empty" id="no-kube-events">"No events yet."</p> }.into_any()
        }
        Some(Ok(items)) => {
            let rows = items
                .into_iter()
                .map(|e| {
                    let when = e.last_seen.clone().or(e.first_seen.clone()).unwrap_or_default();
                    let warning = e.is_warning();
                    let repeats = (e.count > 1).then(|| view! { <span class="muted">" (×" {e.count} ")"</span> });
                    view! {
                        <tr class:warning=warning data-type=e.kind.clone()>
                            <td data-label="Time"><time datetime=when.clone()>{local_time(&when)}</time></td>
                            <td data-label="Type">
                                {warning.then(|| view! { <span aria-hidden="true">"⚠ "</span> })}
                                {e.kind.clone()}
                            </td>
                            <td data-label="Reason"><b>{e.reason.clone()}</b></td>
                            <td data-label="Object"><code>{e.object.clone()}</code></td>
                            <td data-label="Message">{e.message.clone()} {repeats}</td>
                        </tr>
                    }
                })
                .collect_view();
            view! {
                <table class="system-table events" id="kube-events">
                    <thead><tr>
                        <th scope="col">"Time"</th><th scope="col">"Type"</th><th scope="col">"Reason"</th>
                        <th scope="col">"Object"</th><th scope="col">"Message"</th>
                    </tr></thead>
                    <tbody>{rows}</tbody>
                </table>
            }
            .into_any()
        }
    }
}
