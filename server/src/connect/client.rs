//! The HTTP client toward apps: hyper's pooled client over connections the [`Upstream`] opens.
//! The pool is keyed by the request's authority, so the endpoint is written into it:
//! `c<container port>.<object name>:<service port>` (object names are DNS labels).

use super::upstream::{BoxedIo, Endpoint, Upstream};
use axum::body::Body;
use axum::http::Uri;
use futures::future::BoxFuture;
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::{Connected, Connection};
use hyper_util::rt::{TokioExecutor, TokioIo};
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

pub type HttpClient = Client<Connector, Body>;

/// How long idle pooled connections to an app are kept.
const POOL_IDLE: Duration = Duration::from_secs(60);

pub fn http_client(upstream: Arc<dyn Upstream>, connect_timeout: Duration) -> HttpClient {
    Client::builder(TokioExecutor::new())
        .pool_idle_timeout(POOL_IDLE)
        .pool_max_idle_per_host(32)
        // The proxy writes the browser's Host itself (apps check it against Origin).
        .set_host(false)
        .build(Connector::new(upstream, connect_timeout))
}

/// The URI of a request to `endpoint` with path and query `path`.
pub fn uri(endpoint: &Endpoint, path_and_query: &str) -> Result<Uri, axum::http::Error> {
    Uri::builder()
        .scheme("http")
        .authority(format!(
            "c{}.{}:{}",
            endpoint.container_port, endpoint.object_name, endpoint.port
        ))
        .path_and_query(path_and_query)
        .build()
}

/// The endpoint [`uri`] wrote into an authority.
fn endpoint(uri: &Uri) -> Option<Endpoint> {
    let host = uri.host()?;
    let (container, object_name) = host.split_once('.')?;
    let guid = object_name.rsplit_once('-')?.1.to_string();
    Some(Endpoint {
        object_name: object_name.to_string(),
        guid,
        port: uri.port_u16()?,
        container_port: container.strip_prefix('c')?.parse().ok()?,
    })
}

#[derive(Clone)]
pub struct Connector {
    upstream: Arc<dyn Upstream>,
    connect_timeout: Duration,
}

impl Connector {
    pub fn new(upstream: Arc<dyn Upstream>, connect_timeout: Duration) -> Self {
        Connector {
            upstream,
            connect_timeout,
        }
    }

    /// A new connection to `endpoint`, within the connect timeout.
    pub async fn open(&self, endpoint: &Endpoint) -> std::io::Result<BoxedIo> {
        tokio::time::timeout(self.connect_timeout, self.upstream.open(endpoint))
            .await
            .map_err(|_| {
                std::io::Error::new(
                    std::io::ErrorKind::TimedOut,
                    format!(
                        "no connection within {} s",
                        self.connect_timeout.as_secs_f32()
                    ),
                )
            })?
    }
}

impl tower::Service<Uri> for Connector {
    type Response = Conn;
    type Error = std::io::Error;
    type Future = BoxFuture<'static, std::io::Result<Conn>>;

    fn poll_ready(&mut self, _: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, uri: Uri) -> Self::Future {
        let this = self.clone();
        Box::pin(async move {
            let endpoint = endpoint(&uri).ok_or_else(|| {
                std::io::Error::new(std::io::ErrorKind::InvalidInput, "not a proxy URI")
            })?;
            Ok(Conn(TokioIo::new(this.open(&endpoint).await?)))
        })
    }
}

/// A connection hyper can use: the upstream's stream in hyper's I/O traits.
pub struct Conn(TokioIo<BoxedIo>);

impl Connection for Conn {
    fn connected(&self) -> Connected {
        Connected::new()
    }
}

impl hyper::rt::Read for Conn {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: hyper::rt::ReadBufCursor<'_>,
    ) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.0).poll_read(cx, buf)
    }
}

impl hyper::rt::Write for Conn {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<std::io::Result<usize>> {
        Pin::new(&mut self.0).poll_write(cx, buf)
    }
    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.0).poll_flush(cx)
    }
    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.0).poll_shutdown(cx)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_endpoint_travels_in_the_authority() {
        let e = Endpoint {
            object_name: "jupyter-ds-0a1b2c".into(),
            guid: "0a1b2c".into(),
            port: 80,
            container_port: 8888,
        };
        let u = uri(&e, "/connect/0a1b2c/lab?x=1").unwrap();
        assert_eq!(u.path_and_query().unwrap(), "/connect/0a1b2c/lab?x=1");
        assert_eq!(endpoint(&u), Some(e));
    }
}
