//! `GET /api/v1/namespaces/{ns}/pods/{name}/log`: what the kubelet would answer, from lines a
//! test sets with [`crate::FakeKube::append_logs`] and [`crate::FakeKube::set_previous_logs`].
//!
//! Lines are kept per container name (the same for every pod that has a container of that
//! name: tests do not know the pods' generated names). `follow=true` keeps the answer open and
//! sends lines appended later, until the pod is gone (deleted, or replaced by one of the same
//! name) or the client goes away.

use std::collections::HashMap;
use std::convert::Infallible;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use axum::body::{Body, Bytes};
use axum::http::{Method, StatusCode, header};
use axum::response::{IntoResponse, Response};
use futures::StreamExt;
use serde_json::Value;

use crate::kinds;
use crate::state::Shared;
use crate::status::ApiError;

/// How often an open `follow=true` answer looks for new lines and for its pod being gone.
const FOLLOW_POLL: Duration = Duration::from_millis(50);

/// Log lines by container name.
#[derive(Default)]
pub(crate) struct Logs {
    /// The running container's lines, each with when it was written (for `sinceSeconds`).
    current: HashMap<String, Vec<(Instant, String)>>,
    /// The previous (terminated) container's lines: what `previous=true` answers.
    previous: HashMap<String, Vec<String>>,
}

#[derive(Clone, Default)]
pub(crate) struct Store(Arc<Mutex<Logs>>);

impl Store {
    fn lock(&self) -> MutexGuard<'_, Logs> {
        self.0.lock().unwrap_or_else(|p| p.into_inner())
    }

    pub(crate) fn append(&self, container: &str, lines: &[&str]) {
        let now = Instant::now();
        self.lock()
            .current
            .entry(container.to_string())
            .or_default()
            .extend(lines.iter().map(|l| (now, l.to_string())));
    }

    pub(crate) fn set_previous(&self, container: &str, lines: &[&str]) {
        self.lock().previous.insert(
            container.to_string(),
            lines.iter().map(|l| l.to_string()).collect(),
        );
    }

    /// The current lines of `container` from index `from` on.
    fn current_from(&self, container: &str, from: usize) -> Vec<(Instant, String)> {
        self.lock()
            .current
            .get(container)
            .map(|lines| lines.iter().skip(from).cloned().collect())
            .unwrap_or_default()
    }
}

/// The query parameters of a log request that the fake honours.
struct LogQuery<'a> {
    container: Option<&'a str>,
    follow: bool,
    previous: bool,
    tail_lines: Option<usize>,
    since: Option<Duration>,
}

impl<'a> LogQuery<'a> {
    fn parse(query: &'a [(String, String)]) -> Result<Self, ApiError> {
        let param = |key: &str| {
            query
                .iter()
                .find(|(k, _)| k == key)
                .map(|(_, v)| v.as_str())
        };
        let flag = |key: &str| matches!(param(key), Some("true" | "1"));
        let number = |key: &str| -> Result<Option<i64>, ApiError> {
            param(key)
                .map(|v| {
                    v.parse::<i64>().map_err(|_| {
                        ApiError::bad_request(format!("{key}: invalid value {v:?}: not a number"))
                    })
                })
                .transpose()
        };
        let tail_lines = number("tailLines")?;
        if tail_lines.is_some_and(|n| n < 0) {
            return Err(ApiError::bad_request(
                "tailLines: Invalid value: must be greater than or equal to 0",
            ));
        }
        let since = number("sinceSeconds")?;
        if since.is_some_and(|s| s < 1) {
            return Err(ApiError::bad_request(
                "sinceSeconds: Invalid value: must be greater than 0",
            ));
        }
        Ok(LogQuery {
            container: param("container").filter(|c| !c.is_empty()),
            follow: flag("follow"),
            previous: flag("previous"),
            tail_lines: tail_lines.and_then(|n| usize::try_from(n).ok()),
            since: since.and_then(|s| u64::try_from(s).ok().map(Duration::from_secs)),
        })
    }
}

/// Names of a pod's containers and init containers, from its stored object.
fn container_names(pod: &Value, field: &str) -> Vec<String> {
    pod["spec"][field]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|c| c["name"].as_str().map(String::from))
        .collect()
}

/// The container the request names, or the pod's only one; the API server's 400 otherwise.
fn chosen_container(pod: &Value, name: &str, asked: Option<&str>) -> Result<String, ApiError> {
    let containers = container_names(pod, "containers");
    let init = container_names(pod, "initContainers");
    match asked {
        Some(c) if containers.iter().chain(&init).any(|n| n == c) => Ok(c.to_string()),
        Some(c) => Err(ApiError::bad_request(format!(
            "container {c} is not valid for pod {name}"
        ))),
        None if containers.len() == 1 && init.is_empty() => Ok(containers[0].clone()),
        None => {
            let mut message = format!(
                "a container name must be specified for pod {name}, choose one of: [{}]",
                containers.join(" ")
            );
            if !init.is_empty() {
                message.push_str(&format!(
                    " or one of the init containers: [{}]",
                    init.join(" ")
                ));
            }
            Err(ApiError::bad_request(message))
        }
    }
}

/// Why `container` has not started yet, as the kubelet words it in a log request's 400 (a
/// container that never ran has no log to give), `None` once it has run.
fn waiting_reason(pod: &Value, container: &str) -> Option<String> {
    let status = ["containerStatuses", "initContainerStatuses"]
        .iter()
        .filter_map(|k| pod["status"][k].as_array())
        .flatten()
        .find(|c| c["name"] == container)?;
    if status["restartCount"].as_i64().unwrap_or(0) > 0
        || !status["lastState"]["terminated"].is_null()
    {
        return None;
    }
    let reason = status["state"]["waiting"]["reason"].as_str()?;
    Some(match reason {
        "ErrImagePull" | "ImagePullBackOff" => "image can't be pulled".to_string(),
        other => other.to_string(),
    })
}

/// The pod's uid while it is stored, `None` once it is gone.
fn pod_uid(shared: &Arc<Shared>, ns: &str, name: &str) -> Option<String> {
    let kind = kinds::lookup("", "v1", "pods")?;
    let mut g = shared.lock();
    g.refresh();
    shared.settle(&mut g);
    let pod = g.store.get(kind, ns, name)?;
    Some(pod["metadata"]["uid"].as_str().unwrap_or("").to_string())
}

fn text(lines: impl IntoIterator<Item = String>) -> String {
    lines.into_iter().map(|l| l + "\n").collect()
}

/// Answers a log request (the request line is already recorded by the caller).
pub(crate) fn serve(
    shared: &Arc<Shared>,
    method: &Method,
    ns: &str,
    name: &str,
    query: &[(String, String)],
) -> Result<Response, ApiError> {
    if method != Method::GET {
        return Err(ApiError::method_not_allowed());
    }
    let forbidden = shared
        .lock()
        .forbidden
        .iter()
        .any(|(v, p)| v == "get" && p == "pods/log");
    if forbidden {
        return Err(ApiError::new(
            403,
            "Forbidden",
            format!(
                "pods \"{name}\" is forbidden: User \"system:serviceaccount:tycho:tycho\" cannot get resource \"pods/log\" in API group \"\" in the namespace \"{ns}\""
            ),
        ));
    }
    let q = LogQuery::parse(query)?;
    let kind = kinds::lookup("", "v1", "pods").ok_or_else(ApiError::no_route)?;
    let pod = {
        let mut g = shared.lock();
        g.refresh();
        shared.settle(&mut g);
        g.store
            .get(kind, ns, name)
            .cloned()
            .ok_or_else(|| ApiError::not_found(kind, name))?
    };
    let container = chosen_container(&pod, name, q.container)?;
    if !q.previous
        && let Some(reason) = waiting_reason(&pod, &container)
    {
        return Err(ApiError::bad_request(format!(
            "container \"{container}\" in pod \"{name}\" is waiting to start: {reason}"
        )));
    }
    let logs = shared.logs.clone();

    if q.previous {
        let previous = logs.lock().previous.get(&container).cloned();
        let Some(lines) = previous else {
            return Err(ApiError::bad_request(format!(
                "previous terminated container \"{container}\" in pod \"{name}\" not found"
            )));
        };
        let skip = q.tail_lines.map_or(0, |n| lines.len().saturating_sub(n));
        return Ok(plain(Body::from(text(lines.into_iter().skip(skip)))));
    }

    let now = Instant::now();
    let written = logs.current_from(&container, 0);
    let seen = written.len();
    let recent: Vec<String> = written
        .into_iter()
        .filter(|(at, _)| q.since.is_none_or(|s| now.duration_since(*at) <= s))
        .map(|(_, l)| l)
        .collect();
    let skip = q.tail_lines.map_or(0, |n| recent.len().saturating_sub(n));
    let first = text(recent.into_iter().skip(skip));
    if !q.follow {
        return Ok(plain(Body::from(first)));
    }

    // Follow: what exists now, then whatever is appended, until the pod is gone.
    let uid = pod["metadata"]["uid"].as_str().unwrap_or("").to_string();
    let (shared, ns, name) = (shared.clone(), ns.to_string(), name.to_string());
    let later = futures::stream::unfold(seen, move |sent| {
        let (shared, logs, ns, name, uid, container) = (
            shared.clone(),
            logs.clone(),
            ns.clone(),
            name.clone(),
            uid.clone(),
            container.clone(),
        );
        async move {
            loop {
                let new = logs.current_from(&container, sent);
                if !new.is_empty() {
                    let next = sent + new.len();
                    let chunk = text(new.into_iter().map(|(_, l)| l));
                    return Some((Ok::<_, Infallible>(Bytes::from(chunk)), next));
                }
                if pod_uid(&shared, &ns, &name).as_deref() != Some(uid.as_str()) {
                    return None;
                }
                tokio::time::sleep(FOLLOW_POLL).await;
            }
        }
    });
    let body = futures::stream::once(async move { Ok(Bytes::from(first)) }).chain(later);
    Ok(plain(Body::from_stream(body)))
}

fn plain(body: Body) -> Response {
    (StatusCode::OK, [(header::CONTENT_TYPE, "text/plain")], body).into_response()
}
