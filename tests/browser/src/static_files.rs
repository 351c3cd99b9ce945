//! A static file server for a folder, as a portal would host the wasm package.

use std::net::SocketAddr;
use std::path::PathBuf;

/// Serves `dir` on 127.0.0.1:0 with caching off; returns the address and the server task.
pub async fn serve(dir: PathBuf) -> (SocketAddr, tokio::task::JoinHandle<()>) {
    let app = axum::Router::new()
        .fallback_service(tower_http::services::ServeDir::new(dir))
        .layer(axum::middleware::map_response(
            |mut response: axum::response::Response| async move {
                response.headers_mut().insert(
                    axum::http::header::CACHE_CONTROL,
                    axum::http::HeaderValue::from_static("no-store"),
                );
                response
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
