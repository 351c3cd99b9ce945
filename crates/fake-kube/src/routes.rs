//! HTTP front: parses Kubernetes API paths by hand (one fallback handler covers every group,
//! namespace and subresource form), records and counts each request, applies the
//! "cluster down" and injected-failure switches, and hands the verb to `ops`.

use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::body::Bytes;
use axum::extract::{Request, State};
use axum::http::{Method, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};

use crate::kinds::{self, Kind};
use crate::kubelet::SimConfig;
use crate::ops::{self, ListQuery, PatchRequest};
use crate::selector::{FieldSelector, LabelSelector};
use crate::state::{InjectedAction, Shared};
use crate::status::ApiError;
use crate::store::{Store, str_at};
use crate::util::parse_query;
use crate::watch::{self, WatchParams};

pub(crate) fn router(shared: Arc<Shared>) -> Router {
    Router::new().fallback(handle).with_state(shared)
}

struct Req {
    method: Method,
    query: Vec<(String, String)>,
    content_type: String,
    body: Bytes,
    /// What an injection asked of this request (a POST counted by `take_injection`).
    injected: Option<InjectedAction>,
}

impl Req {
    fn param(&self, key: &str) -> Option<&str> {
        self.query
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
    }
    fn flag(&self, key: &str) -> bool {
        matches!(self.param(key), Some("true" | "1"))
    }
    fn json_body(&self) -> Result<Value, ApiError> {
        if self.body.is_empty() {
            return Ok(Value::Null);
        }
        serde_json::from_slice(&self.body).map_err(|e| {
            ApiError::bad_request(format!("the body of the request was in an unknown format - accepted media types include: application/json ({e})"))
        })
    }
    fn list_query(&self) -> Result<ListQuery, ApiError> {
        let labels = LabelSelector::parse(self.param("labelSelector").unwrap_or(""))
            .map_err(ApiError::bad_request)?;
        let fields = FieldSelector::parse(self.param("fieldSelector").unwrap_or(""))
            .map_err(ApiError::bad_request)?;
        let limit = self.param("limit").and_then(|l| l.parse().ok());
        let offset = match self.param("continue").filter(|c| !c.is_empty()) {
            None => 0,
            Some(c) => c
                .strip_prefix("fake-kube-offset-")
                .and_then(|n| n.parse().ok())
                .ok_or_else(|| ApiError::bad_request(format!("invalid continue token {c:?}")))?,
        };
        Ok(ListQuery {
            labels,
            fields,
            limit,
            offset,
        })
    }
}

async fn handle(State(shared): State<Arc<Shared>>, req: Request) -> Response {
    let (parts, body) = req.into_parts();
    // A WebSocket upgrade, not a verb on a stored object.
    if let ["api", "v1", "namespaces", ns, "pods", pod, "portforward"] = parts
        .uri
        .path()
        .split('/')
        .filter(|s| !s.is_empty())
        .collect::<Vec<_>>()
        .as_slice()
    {
        let (ns, pod) = (ns.to_string(), pod.to_string());
        shared.lock().log.push(format!("GET {}", parts.uri.path()));
        let forwards = shared.forwards.clone();
        return crate::portforward::handle(&shared, &forwards, &ns, &pod, parts).await;
    }
    let body = match axum::body::to_bytes(body, 64 << 20).await {
        Ok(b) => b,
        Err(e) => return ApiError::bad_request(format!("reading body: {e}")).into_response(),
    };
    let query = parse_query(parts.uri.query().unwrap_or(""));
    // Logged decoded, so tests can assert on `labelSelector=app=web` rather than `app%3Dweb`.
    let mut line = format!("{} {}", parts.method, parts.uri.path());
    if !query.is_empty() {
        let q: Vec<String> = query
            .iter()
            .map(|(k, v)| {
                if v.is_empty() {
                    k.clone()
                } else {
                    format!("{k}={v}")
                }
            })
            .collect();
        line = format!("{line}?{}", q.join("&"));
    }
    {
        let mut g = shared.lock();
        g.log.push(line);
        if g.unreachable {
            return ApiError::unavailable().into_response();
        }
    }
    let content_type = parts
        .headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_string();
    let injected = if parts.method == Method::POST {
        take_injection(&shared, parts.uri.path())
    } else {
        None
    };
    if let Some(InjectedAction::Delay(delay)) = injected {
        // A client that gives up meanwhile drops this future: nothing is stored.
        tokio::time::sleep(delay).await;
    }
    let req = Req {
        method: parts.method,
        query,
        content_type,
        body,
        injected,
    };
    dispatch(&shared, parts.uri.path(), &req).unwrap_or_else(IntoResponse::into_response)
}

fn ok(code: StatusCode, body: &Value) -> Response {
    (
        code,
        [(header::CONTENT_TYPE, "application/json")],
        body.to_string(),
    )
        .into_response()
}

fn dispatch(shared: &Arc<Shared>, path: &str, r: &Req) -> Result<Response, ApiError> {
    let segs: Vec<&str> = path.split('/').filter(|s| !s.is_empty()).collect();
    let read_only = |v: Value| {
        if r.method == Method::GET {
            Ok(ok(StatusCode::OK, &v))
        } else {
            Err(ApiError::method_not_allowed())
        }
    };
    match segs.as_slice() {
        ["version"] => read_only(version()),
        ["healthz" | "readyz" | "livez", ..] => Ok("ok".into_response()),
        ["api"] => read_only(json!({"kind": "APIVersions", "versions": ["v1"],
            "serverAddressByClientCIDRs": [{"clientCIDR": "0.0.0.0/0", "serverAddress": "127.0.0.1"}]})),
        ["apis"] => read_only(api_groups()),
        ["api", "v1", "namespaces", ns, "pods", pod, "log"] => {
            crate::logs::serve(shared, &r.method, ns, pod, &r.query)
        }
        ["api", "v1"] => read_only(resource_list("", "v1")),
        ["apis", g, v] => read_only(resource_list(g, v)),
        ["api", "v1", rest @ ..] => resource(shared, r, target("", "v1", rest)?),
        ["apis", g, v, rest @ ..] => resource(shared, r, target(g, v, rest)?),
        _ => Err(ApiError::no_route()),
    }
}

fn version() -> Value {
    json!({"major": "1", "minor": "33", "emulationMajor": "1", "emulationMinor": "33",
        "minCompatibilityMajor": "1", "minCompatibilityMinor": "32",
        "gitVersion": "v1.33.0-fake-kube", "gitCommit": "0000000000000000000000000000000000000000",
        "gitTreeState": "clean", "buildDate": "2025-04-23T00:00:00Z", "goVersion": "go1.24.2",
        "compiler": "gc", "platform": "linux/amd64"})
}

fn groups() -> Vec<&'static str> {
    let mut gs: Vec<&str> = kinds::ALL
        .iter()
        .map(|k| k.group)
        .filter(|g| !g.is_empty())
        .collect();
    gs.sort_unstable();
    gs.dedup();
    gs
}

fn api_groups() -> Value {
    let groups: Vec<Value> = groups()
        .into_iter()
        .map(|g| {
            let gv = json!({"groupVersion": format!("{g}/v1"), "version": "v1"});
            json!({"name": g, "versions": [gv], "preferredVersion": gv})
        })
        .collect();
    json!({"kind": "APIGroupList", "apiVersion": "v1", "groups": groups})
}

fn resource_list(group: &str, version: &str) -> Value {
    let verbs = json!([
        "create",
        "delete",
        "deletecollection",
        "get",
        "list",
        "patch",
        "update",
        "watch"
    ]);
    let mut resources = Vec::new();
    for k in kinds::ALL
        .iter()
        .filter(|k| k.group == group && k.version == version)
    {
        resources.push(json!({"name": k.plural, "singularName": k.singular, "namespaced": k.namespaced, "kind": k.kind, "verbs": verbs}));
        if k.has_status {
            resources.push(json!({"name": format!("{}/status", k.plural), "singularName": "", "namespaced": k.namespaced, "kind": k.kind, "verbs": ["get", "patch", "update"]}));
        }
    }
    let gv = if group.is_empty() {
        version.to_string()
    } else {
        format!("{group}/{version}")
    };
    json!({"kind": "APIResourceList", "apiVersion": "v1", "groupVersion": gv, "resources": resources})
}

/// What a resource path points at.
struct Target {
    kind: &'static Kind,
    namespace: Option<String>,
    name: Option<String>,
    status: bool,
}

fn target(group: &str, version: &str, rest: &[&str]) -> Result<Target, ApiError> {
    let find = |plural: &str| kinds::lookup(group, version, plural).ok_or_else(ApiError::no_route);
    let t = |kind, ns: Option<&str>, name: Option<&str>, status| Target {
        kind,
        namespace: ns.map(String::from),
        name: name.map(String::from),
        status,
    };
    let namespaced = |plural: &str| find(plural).ok().filter(|k| k.namespaced);
    Ok(match rest {
        ["namespaces", ns, plural] if namespaced(plural).is_some() => {
            t(find(plural)?, Some(ns), None, false)
        }
        ["namespaces", ns, plural, name] if namespaced(plural).is_some() => {
            t(find(plural)?, Some(ns), Some(name), false)
        }
        ["namespaces", ns, plural, name, "status"]
            if namespaced(plural).is_some_and(|k| k.has_status) =>
        {
            t(find(plural)?, Some(ns), Some(name), true)
        }
        [plural] => t(find(plural)?, None, None, false),
        [plural, name] if !find(plural)?.namespaced => t(find(plural)?, None, Some(name), false),
        [plural, name, "status"] if find(plural).is_ok_and(|k| !k.namespaced && k.has_status) => {
            t(find(plural)?, None, Some(name), true)
        }
        _ => return Err(ApiError::no_route()),
    })
}

/// Runs a write against the store, or against a scratch copy for `dryRun=All`.
fn write(
    shared: &Arc<Shared>,
    r: &Req,
    op: impl FnOnce(&mut Store, &SimConfig) -> Result<Value, ApiError>,
) -> Result<Value, ApiError> {
    let mut g = shared.lock();
    g.refresh();
    let inner = &mut *g;
    let result = if r.param("dryRun").is_some_and(|d| !d.is_empty()) {
        let mut scratch = inner.store.clone();
        op(&mut scratch, &inner.sim)
    } else {
        op(&mut inner.store, &inner.sim)
    };
    shared.settle(inner);
    result
}

fn read<T>(shared: &Arc<Shared>, op: impl FnOnce(&Store) -> T) -> T {
    let mut g = shared.lock();
    g.refresh();
    shared.settle(&mut g);
    op(&g.store)
}

fn resource(shared: &Arc<Shared>, r: &Req, t: Target) -> Result<Response, ApiError> {
    let kind = t.kind;
    let ns = t.namespace.as_deref();
    let Some(name) = t.name.as_deref() else {
        return collection(shared, r, kind, ns);
    };
    let ns = ns.unwrap_or("");
    let verb = match r.method {
        Method::GET => "get",
        Method::PUT => "update",
        Method::PATCH => "patch",
        _ => "delete",
    };
    check_allowed(shared, verb, kind, ns)?;
    let v = match r.method {
        Method::GET => read(shared, |s| ops::get(s, kind, ns, name))?,
        Method::PUT => {
            let body = r.json_body()?;
            write(shared, r, |s, sim| {
                ops::replace(s, sim, kind, ns, name, body, t.status)
            })?
        }
        Method::PATCH => {
            let req = PatchRequest {
                content_type: &r.content_type,
                body: &r.body,
                field_manager: r.param("fieldManager"),
                status_only: t.status,
            };
            write(shared, r, |s, sim| ops::patch(s, sim, kind, ns, name, req))?
        }
        Method::DELETE if !t.status => {
            let mut opts = r.json_body()?;
            if let Some(p) = r.param("propagationPolicy") {
                opts["propagationPolicy"] = json!(p);
            }
            if let Some(g) = r
                .param("gracePeriodSeconds")
                .and_then(|g| g.parse::<i64>().ok())
            {
                opts["gracePeriodSeconds"] = json!(g);
            }
            write(shared, r, |s, sim| {
                ops::delete(s, sim, kind, ns, name, &opts)
            })?
        }
        _ => return Err(ApiError::method_not_allowed()),
    };
    Ok(ok(StatusCode::OK, &v))
}

fn collection(
    shared: &Arc<Shared>,
    r: &Req,
    kind: &'static Kind,
    ns: Option<&str>,
) -> Result<Response, ApiError> {
    let q = r.list_query()?;
    let verb = match r.method {
        Method::GET if r.flag("watch") => "watch",
        Method::GET => "list",
        Method::POST => "create",
        _ => "deletecollection",
    };
    check_allowed(shared, verb, kind, ns.unwrap_or(""))?;
    match r.method {
        Method::GET if r.flag("watch") => {
            let timeout = r
                .param("timeoutSeconds")
                .and_then(|t| t.parse().ok())
                .unwrap_or(1800);
            let params = WatchParams {
                resource_version: r.param("resourceVersion").map(String::from),
                send_initial_events: r.flag("sendInitialEvents"),
                bookmarks: r.flag("allowWatchBookmarks"),
                timeout: Duration::from_secs(timeout),
            };
            watch::start(shared, kind, ns, q, params)
        }
        Method::GET => Ok((
            StatusCode::OK,
            [(header::CONTENT_TYPE, "application/json")],
            read(shared, |s| ops::list(s, kind, ns, &q)),
        )
            .into_response()),
        // Creating or bulk-deleting a namespaced kind needs a namespace in the path.
        Method::POST | Method::DELETE if kind.namespaced && ns.is_none() => {
            Err(ApiError::method_not_allowed())
        }
        Method::POST => {
            let body = r.json_body()?;
            let name = match str_at(&body, "/metadata/name") {
                "" => str_at(&body, "/metadata/generateName"),
                n => n,
            }
            .to_string();
            if let Some(InjectedAction::Fail(code)) = r.injected {
                return Err(ApiError::injected(kind, &name, code));
            }
            let v = write(shared, r, |s, sim| ops::create(s, sim, kind, ns, body))?;
            if let Some(InjectedAction::StoreThenFail(code)) = r.injected {
                return Err(ApiError::injected(kind, &name, code));
            }
            Ok(ok(StatusCode::CREATED, &v))
        }
        Method::DELETE
            if shared
                .lock()
                .no_delete_collection
                .iter()
                .any(|p| p == kind.plural) =>
        {
            Err(ApiError::method_not_allowed())
        }
        Method::DELETE if !r.body.is_empty() && shared.lock().refuse_delete_collection_body => {
            // Kubernetes 1.25.0–1.25.3 refused these; the wording here is the fake's own.
            Err(ApiError::bad_request(
                "a body (DeleteOptions) on a deletecollection request is refused (as by Kubernetes 1.25.0-1.25.3)",
            ))
        }
        Method::DELETE => Ok(ok(
            StatusCode::OK,
            &write(shared, r, |s, sim| {
                Ok(ops::delete_collection(s, sim, kind, ns, &q))
            })?,
        )),
        _ => Err(ApiError::method_not_allowed()),
    }
}

/// Counts this POST to the collection the path ends in and takes the injection queued for
/// it, if any.
fn take_injection(shared: &Arc<Shared>, path: &str) -> Option<InjectedAction> {
    let plural = path.rsplit('/').find(|s| !s.is_empty())?;
    let mut g = shared.lock();
    let seen = {
        let c = g.creates_seen.entry(plural.to_string()).or_insert(0);
        *c += 1;
        *c
    };
    let i = g
        .injections
        .iter()
        .position(|x| x.plural == plural && x.at == seen)?;
    Some(g.injections.remove(i).action)
}

/// 403 with the RBAC message of the real server when `forbid` denied this verb on this kind.
fn check_allowed(shared: &Arc<Shared>, verb: &str, kind: &Kind, ns: &str) -> Result<(), ApiError> {
    let denied = shared
        .lock()
        .forbidden
        .iter()
        .any(|(v, p)| v == verb && p == kind.plural);
    if !denied {
        return Ok(());
    }
    let resource = if kind.group.is_empty() {
        kind.plural.to_string()
    } else {
        format!("{}.{}", kind.plural, kind.group)
    };
    let scope = if ns.is_empty() {
        "at the cluster scope".to_string()
    } else {
        format!("in the namespace \"{ns}\"")
    };
    Err(ApiError::new(
        403,
        "Forbidden",
        format!(
            "{resource} is forbidden: User \"system:serviceaccount:tycho:tycho\" cannot {verb} resource \"{}\" in API group \"{}\" {scope}",
            kind.plural, kind.group
        ),
    ))
}
