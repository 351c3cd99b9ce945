//! The volumes that outlive systems (kept by a delete, reused by the next start, the home):
//! size, age, the system they came from, whether one uses them, when they expire; each can be
//! deleted with its data after a confirmation. Asked again when the systems change.

use super::State;
use super::diagnostics::problem_view;
use crate::{api, model};
use leptos::prelude::*;
use leptos::task::spawn_local;
use tycho_api::{Problem, Volume, VolumeKind};

#[component]
pub(super) fn Volumes() -> impl IntoView {
    let state = expect_context::<State>();
    let volumes = RwSignal::new(None::<Result<Vec<Volume>, Problem>>);
    // The set of systems, not their status: a refresh of a row does not ask again.
    let systems = Memo::new(move |_| {
        state
            .systems
            .with(|list| list.iter().map(|s| s.guid.clone()).collect::<Vec<_>>())
    });
    let confirm = RwSignal::new(None::<String>);
    Effect::new(move |_| {
        systems.track();
        state.volumes_changed.track();
        if state.cluster.with(|c| c.as_ref().is_some_and(|c| !c.0)) {
            return;
        }
        spawn_local(async move {
            let answer = api::volumes(None).await.map(|l| l.volumes);
            let _ = volumes.try_set(Some(answer));
        });
    });
    let remove = move |name: String| {
        confirm.set(None);
        spawn_local(async move {
            if let Err(p) = api::delete_volume(&name).await {
                let _ = volumes.try_set(Some(Err(p)));
            }
            state.volumes_changed.update(|n| *n += 1);
        });
    };
    let rows = move || {
        let list = match volumes.get() {
            None => return view! { <p class="empty">"Loading…"</p> }.into_any(),
            Some(Err(p)) if p.status == 401 || p.status == 503 => return ().into_any(),
            Some(Err(p)) => return problem_view(state, p, "volumes-problem").into_any(),
            Some(Ok(list)) if list.is_empty() => {
                return view! {
                    <p class="empty" id="no-volumes">
                        "No volumes. A system's named volumes are kept here after it is deleted, unless you delete its data too."
                    </p>
                }
                .into_any();
            }
            Some(Ok(list)) => list,
        };
        let rows = list
            .into_iter()
            .map(|v| volume_row(v, confirm, remove))
            .collect_view();
        view! {
            <table class="system-table" id="volumes">
                <thead><tr>
                    <th scope="col">"Volume"</th><th scope="col">"From"</th><th scope="col">"Size"</th>
                    <th scope="col">"Age"</th><th scope="col">"Status"</th>
                    <th scope="col"><span class="sr-only">"Actions"</span></th>
                </tr></thead>
                <tbody>{rows}</tbody>
            </table>
        }
        .into_any()
    };
    view! {
        <Show when=move || state.cluster.with(|c| c.as_ref().is_none_or(|c| c.0))>
            <section class="volumes" aria-labelledby="volumes-h">
                <div class="pane-head"><h2 id="volumes-h">"My volumes"</h2></div>
                {rows}
            </section>
        </Show>
    }
}

/// What a volume is doing, in words.
fn status_of(v: &Volume) -> String {
    if !v.used_by.is_empty() {
        let names: Vec<&str> = v.used_by.iter().map(|u| u.name.as_str()).collect();
        return format!("in use by {}", names.join(", "));
    }
    let kept = match v.kind {
        VolumeKind::Home => "your home: mounted by every system that asks for it".to_string(),
        VolumeKind::Reuse => format!("kept for the next start of {}", v.system),
        VolumeKind::System => "kept after its system was deleted".to_string(),
    };
    match v.expires_at.as_str() {
        "" => kept,
        when => format!(
            "{kept}; removed after {}",
            when.replace('T', " ").trim_end_matches('Z')
        ),
    }
}

fn volume_row(
    v: Volume,
    confirm: RwSignal<Option<String>>,
    remove: impl Fn(String) + Copy + Send + Sync + 'static,
) -> impl IntoView {
    let from = match v.kind {
        VolumeKind::Home => "—".to_string(),
        _ => v.system.clone(),
    };
    let name = v.name.clone();
    let asking = {
        let name = name.clone();
        move || confirm.with(|c| c.as_deref() == Some(name.as_str()))
    };
    let actions = move || {
        let name = name.clone();
        if v.in_use {
            view! { <span class="muted" title="Delete the system that uses it first">"in use"</span> }.into_any()
        } else if asking() {
            view! {
                <span class="confirm" role="group" aria-label="Confirm delete"
                    on:keydown=move |ev| if ev.key() == "Escape" { confirm.set(None) }>
                    "Delete its data? "
                    <button class="danger confirm-yes" on:click=move |_| remove(name.clone())>"Delete"</button>
                    <button class="confirm-no" on:click=move |_| confirm.set(None)>"Cancel"</button>
                </span>
            }
            .into_any()
        } else {
            view! {
                <button class="delete" on:click=move |_| confirm.set(Some(name.clone()))>"Delete"</button>
            }
            .into_any()
        }
    };
    view! {
        <tr data-volume=v.name.clone() data-kind=v.kind.as_str()>
            <td data-label="Volume"><b>{v.volume.clone()}</b><br /><code class="muted">{v.name.clone()}</code></td>
            <td data-label="From">{from}</td>
            <td data-label="Size">{if v.size_bytes > 0 { model::size(v.size_bytes) } else { v.size.clone() }}</td>
            <td data-label="Age">{model::age(v.age_seconds)}</td>
            <td data-label="Status" class:warning=!v.warning.is_empty()>
                {status_of(&v)}
                {(!v.warning.is_empty()).then(|| view! { <br /><span class="warn-text">"⚠ " {v.warning.clone()}</span> })}
            </td>
            <td class="row-actions">{actions}</td>
        </tr>
    }
}
