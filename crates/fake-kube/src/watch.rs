//! `?watch=true`: newline-delimited JSON events, starting from the current objects (no or "0"
//! resourceVersion, or sendInitialEvents) or from the recorded history after a given version.

use std::convert::Infallible;
use std::sync::Arc;
use std::time::Duration;

use axum::body::{Body, Bytes};
use axum::http::header;
use axum::response::{IntoResponse, Response};
use futures::StreamExt;
use serde_json::{Value, json};
use tokio::sync::mpsc;

use crate::kinds::Kind;
use crate::ops::{self, ListQuery};
use crate::selector::{FieldSelector, LabelSelector};
use crate::state::Shared;
use crate::status::ApiError;
use crate::store::Change;

pub(crate) struct Watcher {
    pub plural: &'static str,
    pub namespace: Option<String>,
    pub labels: LabelSelector,
    pub fields: FieldSelector,
    pub tx: mpsc::UnboundedSender<String>,
}

impl Watcher {
    pub(crate) fn wants(&self, c: &Change) -> bool {
        c.plural == self.plural
            && self.namespace.as_ref().is_none_or(|n| *n == c.namespace)
            && self.labels.matches_object(&c.object)
            && self.fields.matches(&c.object)
    }
}

pub(crate) fn event_line(type_: &str, object: &Value) -> String {
    let mut s = json!({"type": type_, "object": object}).to_string();
    s.push('\n');
    s
}

pub(crate) struct WatchParams {
    pub resource_version: Option<String>,
    pub send_initial_events: bool,
    pub bookmarks: bool,
    pub timeout: Duration,
}

pub(crate) fn start(
    shared: &Arc<Shared>,
    kind: &'static Kind,
    ns: Option<&str>,
    q: ListQuery,
    p: WatchParams,
) -> Result<Response, ApiError> {
    let (tx, rx) = mpsc::unbounded_channel();
    let mut lines = Vec::new();
    {
        let mut g = shared.lock();
        g.refresh();
        shared.settle(&mut g);
        let rv = p.resource_version.as_deref().unwrap_or("");
        let mut expired = false;
        if rv.is_empty() || rv == "0" || p.send_initial_events {
            for o in ops::matching(&g.store, kind, ns, &q) {
                lines.push(event_line("ADDED", o));
            }
            if p.send_initial_events && p.bookmarks {
                let bookmark = json!({"kind": kind.kind, "apiVersion": kind.api_version(), "metadata": {
                    "resourceVersion": g.store.resource_version().to_string(),
                    "annotations": {"k8s.io/initial-events-end": "true"}}});
                lines.push(event_line("BOOKMARK", &bookmark));
            }
        } else {
            let from: u64 = rv
                .parse()
                .map_err(|_| ApiError::bad_request(format!("invalid resourceVersion {rv:?}")))?;
            if from < g.history_floor {
                let status = ApiError::new(
                    410,
                    "Expired",
                    format!("too old resource version: {from} ({})", g.history_floor + 1),
                );
                lines.push(event_line("ERROR", &status.body()));
                expired = true;
            } else {
                let watcher = Watcher {
                    plural: kind.plural,
                    namespace: ns.map(String::from),
                    labels: q.labels.clone(),
                    fields: q.fields.clone(),
                    tx: tx.clone(),
                };
                lines.extend(
                    g.history
                        .iter()
                        .filter(|c| c.rv > from && watcher.wants(c))
                        .map(|c| event_line(c.kind, &c.object)),
                );
            }
        }
        // An expired watch ends after its ERROR event (dropping `tx` closes the stream).
        if !expired {
            g.watchers.push(Watcher {
                plural: kind.plural,
                namespace: ns.map(String::from),
                labels: q.labels,
                fields: q.fields,
                tx,
            });
        }
    }
    let deadline = tokio::time::Instant::now() + p.timeout;
    let live = futures::stream::unfold(rx, move |mut rx| async move {
        match tokio::time::timeout_at(deadline, rx.recv()).await {
            Ok(Some(line)) => Some((line, rx)),
            _ => None,
        }
    });
    let stream = futures::stream::iter(lines)
        .chain(live)
        .map(|s| Ok::<_, Infallible>(Bytes::from(s)));
    Ok((
        [(header::CONTENT_TYPE, "application/json")],
        Body::from_stream(stream),
    )
        .into_response())
}
