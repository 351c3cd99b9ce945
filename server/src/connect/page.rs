//! What the proxy answers itself: a small page for browsers, problem+json for everyone else.

use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{Html, IntoResponse, Response};

/// Seconds a not-ready page waits before it tries again.
pub const RETRY_SECONDS: u64 = 3;

/// Does the client want a page (a browser navigating) rather than data?
pub fn wants_html(headers: &HeaderMap) -> bool {
    headers
        .get(header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|a| a.contains("text/html"))
}

fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

/// 503 while a system is not ready: a page that retries by itself, or problem+json; both with
/// `Retry-After`.
pub fn not_ready(headers: &HeaderMap, name: &str, message: &str, retry: bool) -> Response {
    let mut response = if wants_html(headers) {
        let refresh = if retry {
            format!("<meta http-equiv=\"refresh\" content=\"{RETRY_SECONDS}\">")
        } else {
            String::new()
        };
        let next = if retry {
            "This page opens the system by itself as soon as it is ready."
        } else {
            "It will not become ready without a change: see its page in the dashboard."
        };
        Html(format!(
            "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\">{refresh}\
             <meta name=\"viewport\" content=\"width=device-width,initial-scale=1\">\
             <title>{name} is not ready yet</title>\
             <style>body{{font:16px/1.5 system-ui,sans-serif;max-width:36rem;margin:15vh auto;padding:0 1rem;color:#1f2933}}\
             h1{{font-size:1.4rem}}p.detail{{color:#52606d}}a{{color:#0b5cad}}</style></head>\
             <body><h1>{name} is not ready yet</h1><p class=\"detail\">{message}</p><p>{next}</p>\
             <p><a href=\"/\">Back to the dashboard</a></p></body></html>",
            name = escape(name),
            message = escape(message),
        ))
        .into_response()
    } else {
        let problem = tycho_api::Problem::new(503, "not-ready", "The system is not ready yet")
            .with_detail(format!("{name}: {message}"));
        (
            [(header::CONTENT_TYPE, tycho_api::PROBLEM_JSON)],
            axum::Json(problem),
        )
            .into_response()
    };
    *response.status_mut() = StatusCode::SERVICE_UNAVAILABLE;
    response
        .headers_mut()
        .insert(header::RETRY_AFTER, HeaderValue::from(RETRY_SECONDS));
    response
        .headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    response
}
