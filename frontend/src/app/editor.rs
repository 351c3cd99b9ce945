//! The compose editor: the text with marked lines, the problems, the variables, what each service
//! asks for against the operator's policy, and the launch bar.

use super::diagnostics::{diagnostic_item, problem_view, severity_class};
use super::{Launch, PolicySource, State};
use crate::{api, model};
use leptos::prelude::*;
use leptos::task::spawn_local;
use tycho_api::{Phase, Severity, StartRequest};

#[component]
pub(super) fn EditorPane() -> impl IntoView {
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
    // Through the CSSOM (`style:`), not a `style` attribute: the dashboard's Content-Security-
    // Policy (`style-src 'self'`) refuses inline style attributes.
    let offset = move || format!("translateY({}px)", -scroll.get());
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
                <h2 id="editor-h" tabindex="-1"><span class="step" aria-hidden="true">"2"</span>"Compose file"</h2>
                {move || state.edited().then(|| view! {
                    <span class="draft" id="draft">
                        "Your edits are kept. "
                        <button class="link" id="revert" on:click=move |_| {
                            if let Some(original) = state.original_text(state.selected.get_untracked()) {
                                state.text.set(original);
                            }
                        }>"Revert to the original"</button>
                    </span>
                })}
                <span class="summary" id="summary" aria-live="polite"
                    class:bad=move || state.analysis.with(|a| a.errors() > 0)
                    class:warn=move || state.analysis.with(|a| a.errors() == 0 && !a.diagnostics.is_empty())>
                    {summary}
                </span>
            </div>
            <div class="editor">
                <div class="gutter" aria-hidden="true"><div style:transform=offset>{gutter}</div></div>
                <div class="code">
                    <div class="highlights" aria-hidden="true" style:transform=offset>{highlights}</div>
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
            <ResourceLimits />
            <super::files::FilesPanel />
            <EnvTable />
            <LaunchBar />
        </div>
    }
}

/// What each service asks for against the operator's per-container maxima, the amounts above a
/// maximum marked and explained, and (discreetly) whose policy that is.
#[component]
fn ResourceLimits() -> impl IntoView {
    let state = expect_context::<State>();
    let rows = move || {
        state.analysis.with(|a| {
            a.resources
                .iter()
                .map(|r| {
                    let gpus = (!r.gpus.asked.is_empty() || r.gpus.over)
                        .then(|| view! { " · " {amount_view(&r.gpus, " GPU")} });
                    view! {
                        <li data-service=r.service.clone() class:over=r.over()>
                            <b>{r.service.clone()}</b> ": "
                            {amount_view(&r.cpu, " CPU")} " · " {amount_view(&r.memory, "")} {gpus}
                        </li>
                    }
                })
                .collect_view()
        })
    };
    let any_over = move || {
        state
            .analysis
            .with(|a| a.resources.iter().any(|r| r.over()))
    };
    let source = move || match state.policy_source.get() {
        PolicySource::Server => "Maximums from the server's policy.".to_string(),
        PolicySource::Default { why } => format!("Default policy ({why})."),
    };
    view! {
        <section class="resources" id="resources" aria-labelledby="resources-h">
            <h3 id="resources-h">"Resources per service"</h3>
            <ul>{rows}</ul>
            <Show when=any_over>
                <p class="over-note" id="over-note">
                    "Marked amounts are above what the operator allows per service, so the server would refuse this file. "
                    "Lower the limits (" <code>"deploy.resources"</code> ", " <code>"cpus"</code> ", "
                    <code>"mem_limit"</code> ") to launch."
                </p>
            </Show>
            <p class="muted policy-source" id="policy-source">{source}</p>
        </section>
    }
}

/// `2 CPU of max 4 CPU`, the asked amount marked when above the maximum.
fn amount_view(amount: &model::Amount, unit: &'static str) -> impl IntoView + use<> {
    let asked = if amount.asked.is_empty() {
        "–".to_string()
    } else {
        amount.asked.clone()
    };
    let max = (!amount.max.is_empty()).then(|| {
        view! { <span class="muted">" of max " {amount.max.clone()} {unit}</span> }
    });
    let over = amount
        .over
        .then(|| view! { <span class="sr-only">" (above the maximum)"</span> });
    view! {
        <span class="amount" class:over=amount.over>{asked} {over}</span>
        {max}
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
                    if v.set_by_tycho() {
                        return view! {
                            <tr class="set-by-tycho" data-var=v.name.clone()>
                                <th scope="row"><code>{v.name.clone()}</code></th>
                                <td class="muted">
                                    "set by Tycho: " <code>"/connect/<guid>/"</code>
                                    ", where Open serves the system"
                                </td>
                            </tr>
                        }
                        .into_any();
                    }
                    let key = v.name.clone();
                    let key2 = v.name.clone();
                    let id = format!("env-{}", v.name);
                    // `${NAME:?message}` / `${NAME?message}`: the file cannot launch without it,
                    // so it is marked (not "(empty)") and its message is said under the field.
                    let required = v.required.clone();
                    let note_id = format!("env-{}-required", v.name);
                    let placeholder = match (&v.default, &required) {
                        (Some(d), _) => format!("default: {d}"),
                        (None, Some(_)) => "required: set a value".to_string(),
                        (None, None) => "(empty)".to_string(),
                    };
                    let key3 = v.name.clone();
                    let missing = move || {
                        required.is_some() && state.env.with(|e| !e.contains_key(&key3))
                    };
                    let mark = v.required.is_some().then(|| {
                        view! { " " <span class="required-mark">"required"</span> }
                    });
                    let note = v.required.clone().map(|message| {
                        let text = if message.trim().is_empty() {
                            "The file needs this variable to launch.".to_string()
                        } else {
                            format!("The file needs this variable: {}", message.trim())
                        };
                        view! { <p class="required-note" id=note_id.clone()>{text}</p> }
                    });
                    let described = v.required.is_some().then(|| note_id.clone());
                    view! {
                        <tr class:required=v.required.is_some() class:missing=missing data-var-row=v.name.clone()>
                            <th scope="row">
                                <label for=id.clone()><code>{v.name.clone()}</code>{mark}</label>
                            </th>
                            <td>
                                <input id=id type="text" data-var=v.name.clone()
                                    placeholder=placeholder
                                    required=v.required.is_some()
                                    aria-describedby=described
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
                                {note}
                            </td>
                        </tr>
                    }
                    .into_any()
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

/// The required variables (`${NAME:?…}`) the user has not set yet, in order of first use.
fn missing_required(state: State) -> Vec<String> {
    state.variables.with(|vars| {
        state.env.with(|env| {
            vars.iter()
                .filter(|v| v.required.is_some() && !env.contains_key(&v.name))
                .map(|v| v.name.clone())
                .collect()
        })
    })
}

#[component]
fn LaunchBar() -> impl IntoView {
    let state = expect_context::<State>();
    // Why Launch is disabled, said beside it: errors, nothing to launch, no cluster, or a
    // start the quota would refuse (the server's own check, made here before sending).
    let blocked = move || {
        let (errors, empty, asked) = state
            .analysis
            .with(|a| (a.errors(), a.documents.is_empty(), a.asked));
        let unset = missing_required(state);
        if !unset.is_empty() {
            let (s, them) = if unset.len() == 1 {
                ("", "it")
            } else {
                ("s", "them")
            };
            Some(format!(
                "Set the required variable{s} {} under Variables to launch (the file cannot start without {them}).",
                unset.join(", ")
            ))
        } else if errors > 0 {
            let s = if errors == 1 { "" } else { "s" };
            Some(format!("Fix the {errors} error{s} above to launch."))
        } else if empty {
            Some("Nothing to launch yet: the file has no services.".to_string())
        } else if state.cluster.with(|c| c.as_ref().is_some_and(|c| !c.0)) {
            Some("Launching needs a cluster: see the note at the top.".to_string())
        } else {
            let refusal = state.quota.with(|q| q.as_ref()?.refusal(&asked?));
            refusal.map(|r| format!("Over your quota: {r}."))
        }
    };
    let can_launch = move || blocked().is_none() && state.launch.with(|l| *l != Launch::Sending);
    // The quota, asked again when the user's systems change (a start or delete anywhere).
    let systems = Memo::new(move |_| {
        state
            .systems
            .with(|list| list.iter().map(|s| s.guid.clone()).collect::<Vec<_>>())
    });
    Effect::new(move |_| {
        systems.track();
        state.user.track();
        spawn_local(async move {
            let report = api::quota().await.ok();
            let _ = state.quota.try_set(report);
        });
    });
    let quota_line = move || {
        state.quota.with(|q| {
            let limited: Vec<String> = q
                .iter()
                .flat_map(|q| &q.resources)
                .filter(|l| l.limit.is_some())
                .map(|l| l.text.clone())
                .collect();
            (!limited.is_empty()).then(|| {
                view! { <p class="quota muted" id="quota">"Your quota: you use " {limited.join(" · ")} "."</p> }
            })
        })
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
            files: state.files.get_untracked(),
            ..Default::default()
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
    let outcome = move || match state.launch.get() {
        Launch::Idle => None,
        Launch::Sending => {
            Some(view! { <p class="outcome" role="status">"Launching…"</p> }.into_any())
        }
        Launch::Started { name, guid } => Some(launched_view(state, name, guid).into_any()),
        Launch::Failed(p) => Some(problem_view(state, p, "launch-problem").into_any()),
    };
    view! {
        <h3 id="launch-h" class="launch-h" tabindex="-1"><span class="step" aria-hidden="true">"3"</span>"Launch"</h3>
        <div class="launch">
            <label for="system-name">"Name"</label>
            <input id="system-name" type="text" maxlength="30" pattern="[a-z0-9]([-a-z0-9]*[a-z0-9])?"
                placeholder=move || state.analysis.with(|a| if a.name.is_empty() { "from the file".to_string() } else { a.name.clone() })
                prop:value=move || state.name.get()
                on:input=move |ev| state.name.set(event_target_value(&ev)) />
            <button id="launch" class="primary" on:click=launch disabled=move || !can_launch()
                aria-describedby="launch-why">
                "Launch"
            </button>
            <span class="muted launch-why" id="launch-why">{blocked}</span>
        </div>
        {quota_line}
        {outcome}
    }
}

/// A started system as its phase goes: "Starting…" until it is ready (then a link to open it)
/// or has failed (then why, and its page): a created object is not yet a working system.
fn launched_view(state: State, name: String, guid: String) -> impl IntoView {
    let system = super::systems::system_memo(state, guid.clone());
    let page = format!("#/systems/{guid}");
    move || {
        let (name, page) = (name.clone(), page.clone());
        let phase = system.with(|s| {
            s.as_ref()
                .map(|s| (s.phase, super::systems::phase_of(state, s).1))
        });
        match phase {
            Some((Phase::Running, _)) => view! {
                <p class="outcome ok" role="status" id="launched" data-phase="running">
                    <b>{name}</b> " is ready. " <a href=page>"Open it from its page"</a> " or from My systems below."
                </p>
            }
            .into_any(),
            Some((Phase::Failed, why)) => view! {
                <p class="outcome bad" role="status" id="launched" data-phase="failed">
                    <b>{name}</b> " failed: " {why} " " <a href=page>"See its page, with its logs"</a>
                </p>
            }
            .into_any(),
            _ => view! {
                <p class="outcome" role="status" id="launched" data-phase="starting">
                    "Starting " <b>{name}</b> "… It is listed under My systems below; Open becomes available once it is ready. "
                    <a href=page>"Follow it on its page"</a>
                </p>
            }
            .into_any(),
        }
    }
}
