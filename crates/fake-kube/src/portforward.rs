//! `pods/{name}/portforward`: the WebSocket form of `kubectl port-forward`
//! (`v4.channel.k8s.io`). Each requested port gets two channels, data (`2i`) and error
//! (`2i+1`); the server first sends each channel's port number (2 bytes, little endian), then
//! data frames are `[channel, bytes…]`. The fake "pod" is whatever local address the test
//! registered for the port ([`crate::FakeKube::set_port_forward`]).

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

use axum::extract::FromRequestParts;
use axum::extract::ws::{Message, WebSocket, WebSocketUpgrade};
use axum::http::request::Parts;
use axum::response::{IntoResponse, Response};
use futures::{SinkExt, StreamExt};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use crate::state::Shared;
use crate::status::ApiError;
use crate::store::str_at;

const PROTOCOL: &str = "v4.channel.k8s.io";

/// Where forwarded ports lead: container port → local address.
pub(crate) type Targets = Arc<Mutex<HashMap<u16, SocketAddr>>>;

pub(crate) async fn handle(
    shared: &Arc<Shared>,
    targets: &Targets,
    namespace: &str,
    pod: &str,
    mut parts: Parts,
) -> Response {
    let ports: Vec<u16> = crate::util::parse_query(parts.uri.query().unwrap_or(""))
        .into_iter()
        .filter(|(k, _)| k == "ports")
        .flat_map(|(_, v)| {
            v.split(',')
                .filter_map(|p| p.trim().parse().ok())
                .collect::<Vec<u16>>()
        })
        .collect();
    if ports.is_empty() {
        return ApiError::bad_request("query parameter \"ports\" is required").into_response();
    }
    let phase = {
        let g = shared.lock();
        match g.store.get(&crate::kinds::PODS, namespace, pod) {
            Some(p) => str_at(p, "/status/phase").to_string(),
            None => return ApiError::not_found(&crate::kinds::PODS, pod).into_response(),
        }
    };
    if phase != "Running" {
        // What the kubelet answers for a pod that is not running yet.
        return ApiError::bad_request(format!(
            "unable to upgrade connection: pod {pod} is not running (phase {phase})"
        ))
        .into_response();
    }
    let upgrade = match WebSocketUpgrade::from_request_parts(&mut parts, &()).await {
        Ok(u) => u,
        Err(e) => return e.into_response(),
    };
    let addrs: Vec<Option<SocketAddr>> = {
        let t = targets.lock().unwrap_or_else(|p| p.into_inner());
        ports.iter().map(|p| t.get(p).copied()).collect()
    };
    upgrade
        .protocols([PROTOCOL])
        .on_upgrade(move |socket| relay(socket, ports, addrs))
}

async fn relay(socket: WebSocket, ports: Vec<u16>, addrs: Vec<Option<SocketAddr>>) {
    let (mut to_client, mut from_client) = socket.split();
    for (i, port) in ports.iter().enumerate() {
        let [lo, hi] = port.to_le_bytes();
        for ch in [2 * i as u8, 2 * i as u8 + 1] {
            if to_client
                .send(Message::Binary(vec![ch, lo, hi].into()))
                .await
                .is_err()
            {
                return;
            }
        }
    }
    // One TCP connection per port; frames from the pod side come back through one channel.
    let (tx, mut rx) = tokio::sync::mpsc::channel::<Message>(16);
    let mut writers = Vec::new();
    for (i, addr) in addrs.iter().enumerate() {
        let stream = match addr {
            Some(a) => tokio::net::TcpStream::connect(a).await.ok(),
            None => None,
        };
        let Some(stream) = stream else {
            let msg = format!(
                "error forwarding port {} to pod: connection refused",
                ports[i]
            );
            let mut frame = vec![2 * i as u8 + 1];
            frame.extend_from_slice(msg.as_bytes());
            let _ = to_client.send(Message::Binary(frame.into())).await;
            writers.push(None);
            continue;
        };
        let (mut read, write) = stream.into_split();
        writers.push(Some(write));
        let tx = tx.clone();
        let ch = 2 * i as u8;
        tokio::spawn(async move {
            let mut buf = vec![0u8; 16 * 1024];
            loop {
                match read.read(&mut buf).await {
                    Ok(0) | Err(_) => break,
                    Ok(n) => {
                        let mut frame = Vec::with_capacity(n + 1);
                        frame.push(ch);
                        frame.extend_from_slice(&buf[..n]);
                        if tx.send(Message::Binary(frame.into())).await.is_err() {
                            return;
                        }
                    }
                }
            }
            let _ = tx.send(Message::Close(None)).await;
        });
    }
    drop(tx);
    loop {
        tokio::select! {
            m = from_client.next() => match m {
                Some(Ok(Message::Binary(data))) if data.len() > 1 => {
                    let i = usize::from(data[0] / 2);
                    if let Some(Some(w)) = writers.get_mut(i)
                        && w.write_all(&data[1..]).await.is_err()
                    {
                        break;
                    }
                }
                Some(Ok(Message::Close(_))) | None | Some(Err(_)) => break,
                _ => {}
            },
            m = rx.recv() => match m {
                Some(Message::Close(_)) | None => {
                    let _ = to_client.send(Message::Close(None)).await;
                    break;
                }
                Some(frame) => {
                    if to_client.send(frame).await.is_err() {
                        break;
                    }
                }
            },
        }
    }
}
