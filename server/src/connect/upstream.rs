//! Where the proxy's bytes go. Behind a trait so the same proxy runs in the cluster (to the
//! system's Service), outside it (through the API server's port-forward to a ready pod) and in
//! tests (to a local server the test started).

use futures::future::BoxFuture;
use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use tokio::io::{AsyncRead, AsyncWrite};

/// A byte stream to one port of a system.
pub trait Io: AsyncRead + AsyncWrite + Send + Unpin + 'static {}
impl<T: AsyncRead + AsyncWrite + Send + Unpin + 'static> Io for T {}
pub type BoxedIo = Box<dyn Io>;

/// Which port of which system: the Service's name and port, and the container port behind it.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Endpoint {
    /// The system's object name (`<name>-<guid>`): its Service is called that.
    pub object_name: String,
    pub guid: String,
    /// Port on the Service.
    pub port: u16,
    /// Port the container listens on (what a port-forward reaches).
    pub container_port: u16,
}

/// Opens connections to a system's ports.
pub trait Upstream: Send + Sync + 'static {
    fn open<'a>(&'a self, endpoint: &'a Endpoint) -> BoxFuture<'a, std::io::Result<BoxedIo>>;
    /// For logs and `/readyz`: how traffic travels.
    fn describe(&self) -> String;
}

/// Inside the cluster: the system's Service by its DNS name.
pub struct ServiceUpstream {
    pub namespace: String,
}

impl Upstream for ServiceUpstream {
    fn open<'a>(&'a self, endpoint: &'a Endpoint) -> BoxFuture<'a, std::io::Result<BoxedIo>> {
        Box::pin(async move {
            let host = format!("{}.{}.svc", endpoint.object_name, self.namespace);
            let stream = tokio::net::TcpStream::connect((host.as_str(), endpoint.port)).await?;
            stream.set_nodelay(true)?;
            Ok(Box::new(stream) as BoxedIo)
        })
    }

    fn describe(&self) -> String {
        format!("each system's Service in namespace {}", self.namespace)
    }
}

/// Outside the cluster (a server started with a kubeconfig): the API server's port-forward to
/// a ready pod of the system, as `kubectl port-forward` does.
pub struct PortForwardUpstream {
    pub client: kube::Client,
    pub namespace: String,
}

impl Upstream for PortForwardUpstream {
    fn open<'a>(&'a self, endpoint: &'a Endpoint) -> BoxFuture<'a, std::io::Result<BoxedIo>> {
        Box::pin(async move {
            use k8s_openapi::api::core::v1::Pod;
            use kube::api::{Api, ListParams};
            let pods: Api<Pod> = Api::namespaced(self.client.clone(), &self.namespace);
            let selector = tycho_compiler::labels::system_selector(&endpoint.guid);
            let listed = pods
                .list(&ListParams::default().labels(&selector))
                .await
                .map_err(std::io::Error::other)?;
            let ready = listed
                .items
                .iter()
                .find(|p| p.metadata.deletion_timestamp.is_none() && is_ready(p))
                .and_then(|p| p.metadata.name.clone())
                .ok_or_else(|| {
                    std::io::Error::new(
                        std::io::ErrorKind::ConnectionRefused,
                        "no ready pod of the system to forward to",
                    )
                })?;
            let mut forwarder = pods
                .portforward(&ready, &[endpoint.container_port])
                .await
                .map_err(std::io::Error::other)?;
            let stream = forwarder
                .take_stream(endpoint.container_port)
                .ok_or_else(|| std::io::Error::other("the port-forward opened no stream"))?;
            // The forwarder's task ends with the stream; nothing else to keep.
            tokio::spawn(async move {
                let _ = forwarder.join().await;
            });
            Ok(Box::new(stream) as BoxedIo)
        })
    }

    fn describe(&self) -> String {
        format!(
            "the API server's port-forward to each system's pods in namespace {}",
            self.namespace
        )
    }
}

fn is_ready(pod: &k8s_openapi::api::core::v1::Pod) -> bool {
    pod.status
        .as_ref()
        .and_then(|s| s.conditions.as_ref())
        .is_some_and(|cs| cs.iter().any(|c| c.type_ == "Ready" && c.status == "True"))
}

/// For tests and benchmarks: each system's object name mapped to a local address.
#[derive(Default, Clone)]
pub struct LocalUpstream {
    routes: Arc<Mutex<HashMap<String, SocketAddr>>>,
    /// Where systems without a route of their own go.
    fallback: Option<SocketAddr>,
}

impl LocalUpstream {
    /// Sends every system to `addr`.
    pub fn all_to(addr: SocketAddr) -> Self {
        LocalUpstream {
            fallback: Some(addr),
            ..Default::default()
        }
    }

    /// Sends every port of the system named `object_name` to `addr`.
    pub fn route(&self, object_name: &str, addr: SocketAddr) {
        self.routes
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .insert(object_name.to_string(), addr);
    }
}

impl Upstream for LocalUpstream {
    fn open<'a>(&'a self, endpoint: &'a Endpoint) -> BoxFuture<'a, std::io::Result<BoxedIo>> {
        Box::pin(async move {
            let addr = self
                .routes
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .get(&endpoint.object_name)
                .copied()
                .or(self.fallback)
                .ok_or_else(|| {
                    std::io::Error::new(
                        std::io::ErrorKind::ConnectionRefused,
                        format!("no local route for {}", endpoint.object_name),
                    )
                })?;
            let stream = tokio::net::TcpStream::connect(addr).await?;
            stream.set_nodelay(true)?;
            Ok(Box::new(stream) as BoxedIo)
        })
    }

    fn describe(&self) -> String {
        "local addresses (tests)".into()
    }
}
