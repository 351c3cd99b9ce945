//! Diagnostics and server problems, rendered the same way wherever they appear: each diagnostic a
//! button that puts the caret at its line in the editor.

use super::State;
use leptos::prelude::*;
use tycho_api::{Diagnostic, Problem, Severity};

pub(super) fn severity_class(s: Severity) -> &'static str {
    match s {
        Severity::Error => "error",
        Severity::Warning => "warning",
    }
}

/// One diagnostic as a button that jumps to its line.
pub(super) fn diagnostic_item(state: State, d: Diagnostic) -> impl IntoView {
    let (line, column) = (d.line, d.column);
    // A YAML syntax error's sentence first; the parser's own words after it, quieter.
    let (sentence, detail) = tycho_compiler::parser_detail(&d.message);
    let (sentence, detail) = (sentence.to_string(), detail.map(str::to_string));
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
                <span class="msg">{sentence}</span>
                {detail.map(|d| view! { <span class="detail">" · YAML parser: " {d}</span> })}
            </button>
        </li>
    }
}

/// A problem from the server, readable: title, detail, the Kubernetes reason and diagnostics.
pub(super) fn problem_view(state: State, p: Problem, id: &'static str) -> impl IntoView {
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
