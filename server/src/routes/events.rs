//! Server-Sent Events: a `snapshot` of every visible system first, then `changed` and
//! `removed` events, with keepalive comments in between.

use crate::auth::{Caller, StreamCaller};
use crate::error::ApiError;
use crate::events::{Snapshot, same};
use crate::executor::Filter;
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
    responses((status = 200, description = "text/event-stream of SystemEvent (event names: snapshot, changed, removed, error)", body = SystemEvent, content_type = "text/event-stream")))]
pub async fn all(
    State(state): State<AppState>,
    StreamCaller(caller): StreamCaller,
    headers: HeaderMap,
) -> Result<Sse<impl Stream<Item = Result<Event, Infallible>>>, ApiError> {
    ops::executor(&state)?;
    let base = state.settings().connect.public_base(&headers);
    Ok(sse(state, caller, None, base))
}

/// One system, as it changes.
#[utoipa::path(get, path = "/api/v1/systems/{guid}/events", tag = "events",
    params(("guid" = String, Path, description = "The system's GUID"), AccessToken),
    responses((status = 200, description = "text/event-stream of SystemEvent", body = SystemEvent, content_type = "text/event-stream"),
              (status = 404, body = tycho_api::Problem, content_type = "application/problem+json")))]
pub async fn one(
    State(state): State<AppState>,
    StreamCaller(caller): StreamCaller,
    Path(guid): Path<String>,
    headers: HeaderMap,
) -> Result<Sse<impl Stream<Item = Result<Event, Infallible>>>, ApiError> {
    ops::get(&state, &caller, &guid).await?;
    let base = state.settings().connect.public_base(&headers);
    Ok(sse(state, caller, Some(guid), base))
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
    last: Option<BTreeMap<String, SystemStatus>>,
    queue: VecDeque<Event>,
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

    async fn snapshot(&mut self) {
        let filter = match &self.guid {
            Some(g) => Filter::guid(g),
            None if self.caller.admin => Filter::all(),
            None => Filter::user(&self.caller.username),
        };
        let listed = match self.state.executor() {
            Some(e) => e.list(&filter).await.map_err(|e| e.to_string()),
            None => Err("no cluster is configured".into()),
        };
        let systems: Vec<SystemStatus> = match listed {
            Ok(list) => list
                .into_iter()
                .filter(|s| self.visible(s))
                .map(|s| ops::present(&self.state, self.base.as_deref(), s))
                .collect(),
            Err(message) => {
                self.queue
                    .push_back(Event::default().event("error").data(message));
                Vec::new()
            }
        };
        self.last = Some(
            systems
                .iter()
                .map(|s| (s.guid.clone(), s.clone()))
                .collect(),
        );
        self.push(&SystemEvent::Snapshot { systems });
    }

    fn diff(&mut self, snapshot: &Snapshot) {
        let list = match snapshot.as_ref() {
            Ok(list) => list,
            Err(message) => {
                self.queue
                    .push_back(Event::default().event("error").data(message.clone()));
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
) -> Sse<impl Stream<Item = Result<Event, Infallible>>> {
    state.metrics().sse_clients.fetch_add(1, Ordering::Relaxed);
    let rx = state.events().subscribe();
    let feed = Feed {
        state,
        caller,
        guid,
        base,
        rx,
        last: None,
        queue: VecDeque::new(),
    };
    let stream = futures::stream::unfold(feed, |mut feed| async move {
        loop {
            if let Some(event) = feed.queue.pop_front() {
                return Some((Ok(event), feed));
            }
            if feed.last.is_none() {
                feed.snapshot().await;
                continue;
            }
            if feed.rx.changed().await.is_err() {
                return None;
            }
            let snapshot = feed.rx.borrow_and_update().clone();
            feed.diff(&snapshot);
        }
    });
    Sse::new(stream).keep_alive(KeepAlive::new().interval(Duration::from_secs(15)))
}
