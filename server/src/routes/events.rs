//! Server-Sent Events: a `snapshot` of every visible system first, then `changed` and
//! `removed` events, with keepalive comments in between; `error` when the cluster cannot be
//! listed (the snapshot then waits for a listing that works: an empty one would read as "no
//! systems"), and a last `shutdown` event when the server stops.

use crate::auth::{Caller, StreamCaller};
use crate::error::ApiError;
use crate::events::{Snapshot, StreamSlot, same};
use crate::ops;
use crate::state::AppState;
use axum::extract::{Path, State};
use axum::http::HeaderMap;
use axum::response::sse::{Event, KeepAlive, Sse};
use futures::Stream;
use std::collections::{BTreeMap, VecDeque};
use std::convert::Infallible;
use std::sync::atomic::Ordering;
use std::time::Duration;
use tokio::sync::watch;
use tycho_api::{SystemEvent, SystemStatus};

/// Every system you may see, as it changes.
///
/// Browsers' `EventSource` cannot send headers, so event streams also accept the bearer token
/// as `?access_token=` (no other route does).
#[utoipa::path(get, path = "/api/v1/events", tag = "events", params(AccessToken),
    responses((status = 200, description = "text/event-stream of SystemEvent (event names: snapshot, changed, removed, error, shutdown)", body = SystemEvent, content_type = "text/event-stream"),
              (status = 429, description = "The caller has the most streams open a user may (`Retry-After`)", body = tycho_api::Problem, content_type = "application/problem+json"),
              (status = 503, description = "No cluster, or the server has the most streams open it serves (`Retry-After`)", body = tycho_api::Problem, content_type = "application/problem+json")))]
pub async fn all(
    State(state): State<AppState>,
    StreamCaller(caller): StreamCaller,
    headers: HeaderMap,
) -> Result<Sse<impl Stream<Item = Result<Event, Infallible>>>, ApiError> {
    ops::executor(&state)?;
    let slot = state
        .events()
        .admit(&caller.username, state.settings().streams)?;
    let base = state.settings().connect.public_base(&headers);
    Ok(sse(state, caller, None, base, slot))
}

/// One system, as it changes.
#[utoipa::path(get, path = "/api/v1/systems/{guid}/events", tag = "events",
    params(("guid" = String, Path, description = "The system's GUID"), AccessToken),
    responses((status = 200, description = "text/event-stream of SystemEvent", body = SystemEvent, content_type = "text/event-stream"),
              (status = 404, body = tycho_api::Problem, content_type = "application/problem+json"),
              (status = 429, description = "The caller has the most streams open a user may (`Retry-After`)", body = tycho_api::Problem, content_type = "application/problem+json"),
              (status = 503, description = "The server has the most streams open it serves (`Retry-After`)", body = tycho_api::Problem, content_type = "application/problem+json")))]
pub async fn one(
    State(state): State<AppState>,
    StreamCaller(caller): StreamCaller,
    Path(guid): Path<String>,
    headers: HeaderMap,
) -> Result<Sse<impl Stream<Item = Result<Event, Infallible>>>, ApiError> {
    let slot = state
        .events()
        .admit(&caller.username, state.settings().streams)?;
    ops::get(&state, &caller, &guid).await?;
    let base = state.settings().connect.public_base(&headers);
    Ok(sse(state, caller, Some(guid), base, slot))
}

/// Documents the query parameter [`StreamCaller`] reads.
#[derive(utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[allow(dead_code)]
pub struct AccessToken {
    /// The bearer token, for clients that cannot send `Authorization` (browsers' EventSource).
    access_token: Option<String>,
}

struct Feed {
    state: AppState,
    caller: Caller,
    guid: Option<String>,
    /// `scheme://host` for the systems' connect URLs.
    base: Option<String>,
    rx: watch::Receiver<Snapshot>,
    /// What the caller was last sent; `None` until a snapshot went out.
    last: Option<BTreeMap<String, SystemStatus>>,
    /// Whether the first listing was asked for (it may have failed: then the next one that
    /// works becomes the snapshot).
    started: bool,
    queue: VecDeque<Event>,
    _slot: StreamSlot,
}

impl Drop for Feed {
    fn drop(&mut self) {
        self.state
            .metrics()
            .sse_clients
            .fetch_sub(1, Ordering::Relaxed);
    }
}

impl Feed {
    fn visible(&self, s: &SystemStatus) -> bool {
        self.guid.as_ref().is_none_or(|g| &s.guid == g) && self.caller.may_access(&s.username)
    }

    fn push(&mut self, event: &SystemEvent) {
        let e = Event::default()
            .event(event.name())
            .json_data(event)
            .unwrap_or_else(|_| Event::default().comment("unserialisable event"));
        self.queue.push_back(e);
    }

    /// The first snapshot, from a listing that worked; an error is sent as `error` alone.
    fn snapshot(&mut self, snapshot: &Snapshot) {
        let list = match snapshot.as_ref() {
            Ok(list) => list,
            Err(message) => {
                self.push_error(message);
                return;
            }
        };
        let systems: Vec<SystemStatus> = list
            .iter()
            .filter(|s| self.visible(s))
            .map(|s| ops::present(&self.state, self.base.as_deref(), s.clone()))
            .collect();
        self.last = Some(
            systems
                .iter()
                .map(|s| (s.guid.clone(), s.clone()))
                .collect(),
        );
        self.push(&SystemEvent::Snapshot { systems });
    }

    fn push_error(&mut self, message: &str) {
        self.queue
            .push_back(Event::default().event("error").data(message));
    }

    /// A snapshot first (once one can be had), changes after.
    fn apply(&mut self, snapshot: &Snapshot) {
        if self.last.is_none() {
            self.snapshot(snapshot);
        } else {
            self.diff(snapshot);
        }
    }

    fn diff(&mut self, snapshot: &Snapshot) {
        let list = match snapshot.as_ref() {
            Ok(list) => list,
            Err(message) => {
                self.push_error(message);
                return;
            }
        };
        let now: BTreeMap<String, SystemStatus> = list
            .iter()
            .filter(|s| self.visible(s))
            .map(|s| (s.guid.clone(), s.clone()))
            .collect();
        let last = self.last.take().unwrap_or_default();
        let mut events = Vec::new();
        for (guid, s) in &now {
            if last.get(guid).is_none_or(|old| !same(old, s)) {
                events.push(SystemEvent::Changed {
                    system: Box::new(ops::present(&self.state, self.base.as_deref(), s.clone())),
                });
            }
        }
        for guid in last.keys() {
            if !now.contains_key(guid) {
                events.push(SystemEvent::Removed { guid: guid.clone() });
            }
        }
        for e in &events {
            self.push(e);
        }
        self.last = Some(now);
    }
}

fn sse(
    state: AppState,
    caller: Caller,
    guid: Option<String>,
    base: Option<String>,
    slot: StreamSlot,
) -> Sse<impl Stream<Item = Result<Event, Infallible>>> {
    state.metrics().sse_clients.fetch_add(1, Ordering::Relaxed);
    let rx = state.events().subscribe();
    let shutdown = Box::pin(state.events().on_shutdown());
    let feed = Feed {
        state,
        caller,
        guid,
        base,
        rx,
        last: None,
        started: false,
        queue: VecDeque::new(),
        _slot: slot,
    };
    let stream = futures::stream::unfold(Some((feed, shutdown)), |step| async move {
        let (mut feed, mut shutdown) = step?;
        loop {
            if let Some(event) = feed.queue.pop_front() {
                return Some((Ok(event), Some((feed, shutdown))));
            }
            let next = async {
                if !feed.started {
                    feed.started = true;
                    return Some(feed.state.events().current().await);
                }
                feed.rx.changed().await.ok()?;
                Some(feed.rx.borrow_and_update().clone())
            };
            let snapshot = tokio::select! {
                // Biased: a server going down says so rather than sending one more change.
                biased;
                () = &mut shutdown => {
                    let last = Event::default().event("shutdown").data("the server is shutting down");
                    return Some((Ok(last), None));
                }
                snapshot = next => snapshot,
            };
            let snapshot = snapshot?;
            feed.apply(&snapshot);
        }
    });
    Sse::new(stream).keep_alive(KeepAlive::new().interval(Duration::from_secs(15)))
}
