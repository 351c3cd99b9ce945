//! What the server offers (cluster, auth, policy) and the live systems list: Server-Sent Events,
//! with the token in the query when signed in, polling only when EventSource is unavailable.

use super::{Feed, PolicySource, State};
use crate::{api, model};
use leptos::prelude::*;
use leptos::task::spawn_local;
use std::cell::RefCell;
use std::time::Duration;
use tycho_api::{Problem, SystemEvent};
use wasm_bindgen::JsCast;
use wasm_bindgen::prelude::*;

/// How often [`keep_session_fresh`] renews the session cookie.
const SESSION_RENEWAL: Duration = Duration::from_secs(30 * 60);

thread_local! {
    /// The open event stream; closed before another opens (sign-in and sign-out reconnect).
    static EVENTS: RefCell<Option<web_sys::EventSource>> = const { RefCell::new(None) };
    /// The polling timer when EventSource is unavailable; cleared likewise, so a reconnect does
    /// not poll twice.
    static POLLING: RefCell<Option<IntervalHandle>> = const { RefCell::new(None) };
}

/// Finds out what the server offers (cluster, auth, policy) and starts the live list.
/// Runs again after sign-in and sign-out.
pub(super) async fn connect(state: State) {
    close_events(state);
    match api::health().await {
        Ok(h) => state.cluster.set(Some((
            h.cluster.configured,
            h.cluster.reachable,
            h.cluster.message,
        ))),
        Err(p) => {
            state.cluster.set(Some((false, false, p.detail)));
            use_default_policy(state, "the server cannot be reached");
            return;
        }
    }
    // With a token, sign in for the browser too (the answer is the same `WhoAmI`): the
    // session cookie is what lets the systems' own pages through the connect proxy.
    let me = if api::token().is_some() {
        api::open_session().await
    } else {
        api::whoami().await
    };
    match me {
        Ok(me) => {
            state.auth_required.set(false);
            state.user.set(Some(me.username));
            state.admin.set(me.admin);
        }
        Err(p) if p.status == 401 => {
            state.auth_required.set(true);
            state.user.set(None);
            state.admin.set(false);
            use_default_policy(state, "sign in to get the server's");
            return;
        }
        Err(_) => {}
    }
    load_policy(state).await;
    if !state.cluster.get_untracked().is_some_and(|c| c.0) {
        return;
    }
    start_events(state);
}

/// Renews the session cookie now and then while the dashboard is open, so Open keeps working
/// in a tab left open for longer than the cookie lives (the server's TTL; 12 hours by default).
pub(super) fn keep_session_fresh() {
    set_interval(
        || {
            if api::token().is_some() {
                spawn_local(async {
                    let _ = api::open_session().await;
                });
            }
        },
        SESSION_RENEWAL,
    );
}

/// Compiles with the server's policy from now on, so the editor refuses what the server would.
async fn load_policy(state: State) {
    match api::policy().await {
        Ok(answer) => match model::parse_policy(&answer) {
            Ok(policy) => {
                state.policy.set(policy);
                state.policy_source.set(PolicySource::Server);
            }
            Err(why) => use_default_policy(state, &why),
        },
        Err(p) => use_default_policy(
            state,
            &format!(
                "the server did not give its policy: {}",
                p.title.to_lowercase()
            ),
        ),
    }
}

fn use_default_policy(state: State, why: &str) {
    state.policy.set(tycho_compiler::Policy::default());
    state.policy_source.set(PolicySource::Default {
        why: why.to_string(),
    });
}

fn close_events(state: State) {
    EVENTS.with(|e| {
        if let Some(source) = e.borrow_mut().take() {
            source.close();
        }
    });
    POLLING.with(|p| {
        if let Some(timer) = p.borrow_mut().take() {
            timer.clear();
        }
    });
    state.feed.set(Feed::Off);
}

fn start_events(state: State) {
    let Ok(source) = web_sys::EventSource::new(&api::events_url("/api/v1/events")) else {
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
    EVENTS.with(|e| *e.borrow_mut() = Some(source));
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
    if let Ok(timer) = set_interval_with_handle(poll, Duration::from_secs(3)) {
        POLLING.with(|p| *p.borrow_mut() = Some(timer));
    }
}
