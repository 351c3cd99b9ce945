//! The log pane of a system's page: one container's log, followed live by default (the
//! server's `…/logs?follow=true` read as a stream), or its previous run after a crash, and a
//! download of the longer tail. The rules are in [`crate::logs`].

use crate::api;
use crate::logs::{
    DOWNLOAD_TAIL, KEPT_LINES, LogQuery, TAIL, append_kept, explain, first_container, whole_lines,
};
use leptos::prelude::*;
use leptos::task::spawn_local;
use tycho_api::SystemStatus;

/// What the pane is doing, for the line above the log.
#[derive(Debug, Clone, PartialEq)]
enum Reading {
    Loading,
    /// Following: new lines arrive as they are written.
    Live,
    /// A followed log that ended: the container stopped, or the system was deleted.
    Ended,
    /// A whole answer shown (a previous run).
    Shown,
    /// Refused, in words.
    Refused(String),
}

#[component]
pub(super) fn LogPane(guid: String, system: Memo<Option<SystemStatus>>) -> impl IntoView {
    // Names only: a restart count changing must not restart the stream.
    let names = Memo::new(move |_| {
        system.with(|s| {
            s.as_ref()
                .map(|s| {
                    s.containers
                        .iter()
                        .map(|c| c.name.clone())
                        .collect::<Vec<_>>()
                })
                .unwrap_or_default()
        })
    });
    let chosen = RwSignal::new(String::new());
    let follow = RwSignal::new(true);
    let previous = RwSignal::new(false);
    // Bumped by "Follow again".
    let again = RwSignal::new(0_u32);
    let text = RwSignal::new(String::new());
    let reading = RwSignal::new(Reading::Loading);
    let restarted = Memo::new(move |_| {
        let name = chosen.get();
        system.with(|s| {
            s.as_ref().is_some_and(|s| {
                s.containers
                    .iter()
                    .any(|c| c.name == name && c.restarts > 0)
            })
        })
    });
    // The stream being read, so a new choice (or leaving the page) ends it.
    let current = StoredValue::new_local(None::<web_sys::AbortController>);
    let generation = StoredValue::new(0_u64);
    let pre = NodeRef::<leptos::html::Pre>::new();
    // Whether the reader is at the end of the log: only then do new lines scroll it.
    let at_end = StoredValue::new(true);

    Effect::new(move |_| {
        if chosen.with(String::is_empty)
            && let Some(first) = system.with(|s| s.as_ref().and_then(first_container))
        {
            chosen.set(first);
        }
    });

    let guid_for_reads = guid.clone();
    Effect::new(move |_| {
        names.track();
        again.track();
        let query = LogQuery {
            container: chosen.get(),
            follow: follow.get(),
            previous: previous.get(),
            tail: TAIL,
        };
        if let Some(old) = current.try_get_value().flatten() {
            old.abort();
        }
        if query.container.is_empty() {
            return;
        }
        let Ok(controller) = web_sys::AbortController::new() else {
            return;
        };
        let signal = controller.signal();
        current.set_value(Some(controller));
        let mine = generation.get_value() + 1;
        generation.set_value(mine);
        let still_mine = move || generation.try_get_value() == Some(mine);
        text.set(String::new());
        reading.set(Reading::Loading);
        let path = query.path(&guid_for_reads);
        spawn_local(async move {
            let stream = match api::open_stream(&path, &signal).await {
                Ok(stream) => stream,
                Err(problem) => {
                    if still_mine() {
                        reading.set(Reading::Refused(explain(&problem, query.previous)));
                    }
                    return;
                }
            };
            let live = query.follow && !query.previous;
            if still_mine() && live {
                reading.set(Reading::Live);
            }
            let mut pending = Vec::new();
            loop {
                let chunk = api::next_chunk(&stream).await;
                if !still_mine() {
                    return;
                }
                match chunk {
                    Ok(Some(bytes)) => {
                        pending.extend(bytes);
                        if let Some(lines) = whole_lines(&mut pending) {
                            text.update(|t| append_kept(t, &lines, KEPT_LINES));
                        }
                    }
                    Ok(None) => {
                        let rest = String::from_utf8_lossy(&pending).into_owned();
                        text.update(|t| append_kept(t, &rest, KEPT_LINES));
                        reading.set(if live { Reading::Ended } else { Reading::Shown });
                        return;
                    }
                    Err(problem) => {
                        reading.set(Reading::Refused(explain(&problem, query.previous)));
                        return;
                    }
                }
            }
        });
    });
    on_cleanup(move || {
        if let Some(c) = current.try_get_value().flatten() {
            c.abort();
        }
    });
    // New lines keep the end in view, unless the reader scrolled up to read.
    Effect::new(move |_| {
        text.track();
        if let Some(pre) = pre.get()
            && at_end.get_value()
        {
            pre.set_scroll_top(pre.scroll_height());
        }
    });
    let on_scroll = move |_| {
        if let Some(pre) = pre.get() {
            let end = pre.scroll_top() + pre.client_height() >= pre.scroll_height() - 4;
            at_end.set_value(end);
        }
    };

    let download = {
        let guid = guid.clone();
        move |_| {
            let query = LogQuery {
                container: chosen.get_untracked(),
                follow: false,
                previous: previous.get_untracked(),
                tail: DOWNLOAD_TAIL,
            };
            let name = system
                .with_untracked(|s| s.as_ref().map(|s| s.name.clone()))
                .unwrap_or_else(|| guid.clone());
            let path = query.path(&guid);
            spawn_local(async move {
                match api::text(&path).await {
                    Ok(log) => {
                        let suffix = if query.previous { "-previous" } else { "" };
                        let file = format!("{name}-{}{suffix}.log", query.container);
                        let _ = super::download::save_file(&file, &log, "text/plain");
                    }
                    Err(problem) => {
                        let _ =
                            reading.try_set(Reading::Refused(explain(&problem, query.previous)));
                    }
                }
            });
        }
    };

    let options = move || {
        names
            .get()
            .into_iter()
            .map(|n| {
                let selected = n == chosen.get_untracked();
                view! { <option value=n.clone() selected=selected>{n.clone()}</option> }
            })
            .collect_view()
    };
    let state_line = move || {
        let empty = text.with(String::is_empty);
        match reading.get() {
            Reading::Loading => view! { <span>"Loading the log…"</span> }.into_any(),
            Reading::Live => view! {
                <span class="live">"● Following: new lines appear as they are written."</span>
                {empty.then(|| view! { <span class="muted">" Nothing written yet."</span> })}
            }
            .into_any(),
            Reading::Ended => view! {
                <span>"The log ended: the container stopped, restarted or the system was deleted. "</span>
                <button class="link" id="log-again" on:click=move |_| again.update(|n| *n += 1)>"Follow again"</button>
            }
            .into_any(),
            Reading::Shown if empty => view! { <span>"This run wrote nothing."</span> }.into_any(),
            Reading::Shown => view! { <span>"The log of the run before the last restart."</span> }.into_any(),
            Reading::Refused(words) => view! { <span class="refused">{words}</span> }.into_any(),
        }
    };
    view! {
        <section class="logs" aria-labelledby="logs-h">
            <div class="logs-head">
                <h3 id="logs-h">"Logs"</h3>
                <label>
                    "Container "
                    <select id="log-container" on:change=move |ev| chosen.set(event_target_value(&ev))>
                        {options}
                    </select>
                </label>
                <label title="Keep the log open and show new lines as they are written">
                    <input type="checkbox" id="log-follow" prop:checked=move || follow.get()
                        prop:disabled=move || previous.get()
                        on:change=move |ev| follow.set(event_target_checked(&ev)) />
                    " Follow"
                </label>
                <label title=move || if restarted.get() { "The log of the run that ended at the last restart (after a crash)" } else { "This container has not restarted" }>
                    <input type="checkbox" id="log-previous" prop:checked=move || previous.get()
                        prop:disabled=move || !restarted.get() && !previous.get()
                        on:change=move |ev| previous.set(event_target_checked(&ev)) />
                    " Previous run"
                </label>
                <button id="log-download" on:click=download
                    title=format!("Save the last {DOWNLOAD_TAIL} lines as a file")>"Download"</button>
            </div>
            <p class="log-state" id="log-state" aria-live="polite">{state_line}</p>
            <pre id="log" class="log" tabindex="0" role="region" node_ref=pre on:scroll=on_scroll
                hidden=move || matches!(reading.get(), Reading::Refused(_)) && text.with(String::is_empty)
                aria-label=move || format!("Log of {}", chosen.get())>{move || text.get()}</pre>
        </section>
    }
}
