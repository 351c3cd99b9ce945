//! A static file server for a folder, as a portal would host the wasm package.

use std::net::SocketAddr;
use std::path::PathBuf;

use axum::http::{HeaderName, HeaderValue, header};

/// Serves `dir` on 127.0.0.1:0 with caching off; returns the address and the server task.
pub async fn serve(dir: PathBuf) -> (SocketAddr, tokio::task::JoinHandle<()>) {
    serve_with_headers(dir, Vec::new()).await
}

/// [`serve`], with `headers` on every answer (e.g. a Content-Security-Policy to test a page
/// under).
pub async fn serve_with_headers(
    dir: PathBuf,
    headers: Vec<(HeaderName, HeaderValue)>,
) -> (SocketAddr, tokio::task::JoinHandle<()>) {
    let app = axum::Router::new()
        .fallback_service(tower_http::services::ServeDir::new(dir))
        .layer(axum::middleware::map_response(
            move |mut response: axum::response::Response| {
                let headers = headers.clone();
                async move {
                    let out = response.headers_mut();
                    out.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
                    for (name, value) in headers {
                        out.insert(name, value);
                    }
                    response
                }
            },
        ));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind the static server");
    let addr = listener.local_addr().expect("its address");
    let server = tokio::spawn(async move {
        axum::serve(listener, app).await.expect("static server");
    });
    (addr, server)
}
