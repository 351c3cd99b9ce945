//! Every call to the server, in one place: `fetch` with the stored bearer token, answers parsed
//! into `tycho-api` types, errors as [`Problem`]s (never raw bodies).

use serde::de::DeserializeOwned;
use tycho_api::Problem;
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_futures::JsFuture;
use web_sys::{Headers, Request, RequestInit, Response};

const TOKEN_KEY: &str = "tycho.token";

/// The browser's local storage (the token, the editor's drafts).
pub fn storage() -> Option<web_sys::Storage> {
    web_sys::window()?.local_storage().ok().flatten()
}

/// The bearer token saved by the sign-in form.
pub fn token() -> Option<String> {
    storage()?
        .get_item(TOKEN_KEY)
        .ok()
        .flatten()
        .filter(|t| !t.is_empty())
}

pub fn set_token(token: Option<&str>) {
    if let Some(s) = storage() {
        let _ = match token {
            Some(t) => s.set_item(TOKEN_KEY, t),
            None => s.remove_item(TOKEN_KEY),
        };
    }
}

/// Where a sign-in at the OIDC issuer, or a portal, hands the dashboard its token: the URL
/// fragment `#token=<token>` (never sent to any server). Kept as the bearer token like one
/// typed into the form, and taken out of the address bar and the history entry at once.
/// Whether there was one.
pub fn adopt_token_from_location() -> bool {
    let Some(location) = web_sys::window().map(|w| w.location()) else {
        return false;
    };
    let hash = location.hash().unwrap_or_default();
    let Some(token) = hash.strip_prefix("#token=") else {
        return false;
    };
    let token = js_sys::decode_uri_component(token)
        .map(String::from)
        .unwrap_or_else(|_| token.to_string());
    if !token.trim().is_empty() {
        set_token(Some(token.trim()));
    }
    // Same document, another fragment: no reload, and the entry with the token is replaced.
    let _ = location.replace("#/");
    true
}

/// A failed call as a problem: the server's problem+json when it sent one, else a summary.
fn problem(status: u16, body: &str) -> Problem {
    if let Ok(p) = serde_json::from_str::<Problem>(body) {
        return p;
    }
    let title = match status {
        0 => "The server cannot be reached".to_string(),
        401 => "Sign-in required".to_string(),
        404 => "Not found".to_string(),
        503 => "No cluster is available".to_string(),
        s => format!("The server answered {s}"),
    };
    let detail: String = body.chars().take(300).collect();
    Problem::new(status, "client", title).with_detail(detail)
}

fn js_problem(e: JsValue) -> Problem {
    let text = e
        .as_string()
        .or_else(|| {
            e.dyn_ref::<js_sys::Error>()
                .map(|e| String::from(e.message()))
        })
        .unwrap_or_else(|| "network error".into());
    Problem::new(0, "network", "The server cannot be reached").with_detail(text)
}

/// A request to the server with the stored bearer token (and a JSON body, if any).
fn request(method: &str, path: &str, body: Option<&str>) -> Result<Request, Problem> {
    let init = RequestInit::new();
    init.set_method(method);
    let headers = Headers::new().map_err(js_problem)?;
    headers
        .set("Accept", "application/json, application/problem+json")
        .map_err(js_problem)?;
    if let Some(b) = body {
        headers
            .set("Content-Type", "application/json")
            .map_err(js_problem)?;
        init.set_body(&JsValue::from_str(b));
    }
    if let Some(t) = token() {
        headers
            .set("Authorization", &format!("Bearer {t}"))
            .map_err(js_problem)?;
    }
    init.set_headers(&headers);
    Request::new_with_str_and_init(path, &init).map_err(js_problem)
}

async fn send(request: &Request) -> Result<Response, Problem> {
    let window = web_sys::window().ok_or_else(|| js_problem("no window".into()))?;
    JsFuture::from(window.fetch_with_request(request))
        .await
        .map_err(js_problem)?
        .dyn_into()
        .map_err(js_problem)
}

async fn body_text(response: &Response) -> Result<String, Problem> {
    Ok(JsFuture::from(response.text().map_err(js_problem)?)
        .await
        .map_err(js_problem)?
        .as_string()
        .unwrap_or_default())
}

/// One request; the status and body text.
pub async fn call(
    method: &str,
    path: &str,
    body: Option<String>,
) -> Result<(u16, String), Problem> {
    let response = send(&request(method, path, body.as_deref())?).await?;
    Ok((response.status(), body_text(&response).await?))
}

/// A body read as it arrives (a followed log), chunk by chunk with [`next_chunk`].
pub struct Stream(web_sys::ReadableStreamDefaultReader);

/// `GET path` as a stream; `abort` ends it (and the request) early. A failure status is read
/// whole and answered as its problem.
pub async fn open_stream(path: &str, abort: &web_sys::AbortSignal) -> Result<Stream, Problem> {
    let request = request("GET", path, None)?;
    let init = RequestInit::new();
    init.set_signal(Some(abort));
    let request = Request::new_with_request_and_init(&request, &init).map_err(js_problem)?;
    let response = send(&request).await?;
    let status = response.status();
    if !(200..300).contains(&status) {
        return Err(problem(status, &body_text(&response).await?));
    }
    let body = response
        .body()
        .ok_or_else(|| problem(status, "the answer has no body"))?;
    Ok(Stream(body.get_reader().unchecked_into()))
}

/// The next bytes of the stream; `None` at its end.
pub async fn next_chunk(stream: &Stream) -> Result<Option<Vec<u8>>, Problem> {
    let result: web_sys::ReadableStreamReadResult = JsFuture::from(stream.0.read())
        .await
        .map_err(js_problem)?
        .unchecked_into();
    if result.get_done().unwrap_or(false) {
        return Ok(None);
    }
    Ok(Some(
        result
            .get_value()
            .dyn_into::<js_sys::Uint8Array>()
            .map_err(js_problem)?
            .to_vec(),
    ))
}

/// `GET path` as text on 2xx, the problem otherwise.
pub async fn text(path: &str) -> Result<String, Problem> {
    let (status, text) = call("GET", path, None).await?;
    if !(200..300).contains(&status) {
        return Err(problem(status, &text));
    }
    Ok(text)
}

/// A JSON answer on 2xx, the problem otherwise.
pub async fn json<T: DeserializeOwned>(
    method: &str,
    path: &str,
    body: Option<String>,
) -> Result<T, Problem> {
    let (status, text) = call(method, path, body).await?;
    if !(200..300).contains(&status) {
        return Err(problem(status, &text));
    }
    serde_json::from_str(&text).map_err(|e| {
        Problem::new(status, "client", "Unexpected answer from the server")
            .with_detail(e.to_string())
    })
}

/// `/readyz`: the cluster's health (its body is a `Health` on 200 and on 503).
pub async fn health() -> Result<tycho_api::Health, Problem> {
    let (status, text) = call("GET", "/readyz", None).await?;
    serde_json::from_str(&text).map_err(|_| problem(status, &text))
}

/// `GET /api/v1/signin`: whether the server offers "Sign in with <issuer>".
pub async fn sign_in_options() -> Result<tycho_api::SignInOptions, Problem> {
    json("GET", "/api/v1/signin", None).await
}

pub async fn whoami() -> Result<tycho_api::WhoAmI, Problem> {
    json("GET", "/api/v1/whoami", None).await
}

/// `POST /api/v1/session` with the bearer token: who you are, and the server sets its HttpOnly
/// session cookie, which the connect proxy (`/connect/<guid>/`) needs because a system's own
/// pages cannot send the token. Same origin, so the browser keeps the cookie.
pub async fn open_session() -> Result<tycho_api::WhoAmI, Problem> {
    json("POST", "/api/v1/session", None).await
}

/// `DELETE /api/v1/session`: the server removes its session cookie (sign-out).
pub async fn close_session() -> Result<(), Problem> {
    let (status, text) = call("DELETE", "/api/v1/session", None).await?;
    if !(200..300).contains(&status) {
        return Err(problem(status, &text));
    }
    Ok(())
}

pub async fn start(request: &tycho_api::StartRequest) -> Result<tycho_api::StartResponse, Problem> {
    let body = serde_json::to_string(request).unwrap_or_default();
    json("POST", "/api/v1/systems", Some(body)).await
}

pub async fn list() -> Result<tycho_api::SystemList, Problem> {
    json("GET", "/api/v1/systems", None).await
}

/// Deletes a system, and its volumes too when `volumes`. Whether anything is left: `true`
/// while terminating (202), `false` when gone (204, or 200 naming the volumes kept or deleted).
pub async fn delete(guid: &str, volumes: bool) -> Result<bool, Problem> {
    let query = if volumes { "?volumes=delete" } else { "" };
    let (status, text) = call("DELETE", &format!("/api/v1/systems/{guid}{query}"), None).await?;
    match status {
        202 => Ok(true),
        200 | 204 => Ok(false),
        s => Err(problem(s, &text)),
    }
}

/// `GET /api/v1/volumes`: the caller's volumes (admins: everyone's); with `guid`, what
/// deleting that system's volumes would remove.
pub async fn volumes(guid: Option<&str>) -> Result<tycho_api::VolumeList, Problem> {
    let path = match guid {
        Some(g) => format!("/api/v1/volumes?guid={g}"),
        None => "/api/v1/volumes".to_string(),
    };
    json("GET", &path, None).await
}

/// `DELETE /api/v1/volumes/{name}`: the volume and its data.
pub async fn delete_volume(name: &str) -> Result<(), Problem> {
    let (status, text) = call("DELETE", &format!("/api/v1/volumes/{name}"), None).await?;
    if !(200..300).contains(&status) {
        return Err(problem(status, &text));
    }
    Ok(())
}

/// `GET /api/v1/quota`: the caller's limits and what their systems hold.
pub async fn quota() -> Result<tycho_api::QuotaReport, Problem> {
    json("GET", "/api/v1/quota", None).await
}

/// `POST /api/v1/systems/{guid}/keepalive`: counts as use now (moves an idle cull); the
/// status after it.
pub async fn keepalive(guid: &str) -> Result<tycho_api::SystemStatus, Problem> {
    json("POST", &format!("/api/v1/systems/{guid}/keepalive"), None).await
}

/// `GET /api/v1/policy` (a `tycho_api::PolicyResponse`) as text, parsed by
/// [`crate::model::parse_policy`] straight into the compiler's type: one typed pass, no
/// intermediate `serde_json::Value` (which costs the dashboard kilobytes of code).
pub async fn policy() -> Result<String, Problem> {
    let (status, text) = call("GET", "/api/v1/policy", None).await?;
    if !(200..300).contains(&status) {
        return Err(problem(status, &text));
    }
    Ok(text)
}

/// `GET /api/v1/systems/{guid}/kube-events`: the Kubernetes events of a system, oldest first.
pub async fn kube_events(guid: &str) -> Result<tycho_api::KubeEventList, Problem> {
    json("GET", &format!("/api/v1/systems/{guid}/kube-events"), None).await
}

/// The URL of a Server-Sent Events route: EventSource cannot send an `Authorization` header, so
/// the token (when signed in) goes in the query, which the server accepts on these routes only.
pub fn events_url(path: &str) -> String {
    match token() {
        Some(t) => format!(
            "{path}?access_token={}",
            String::from(js_sys::encode_uri_component(&t))
        ),
        None => path.to_string(),
    }
}
