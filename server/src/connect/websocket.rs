//! WebSockets through the proxy, relayed message by message: the browser's side is axum's
//! WebSocket, the app's side tokio-tungstenite over a connection the upstream opened. Working
//! per message (not per byte) lets the proxy end a socket cleanly with a close frame when the
//! system goes away, and close sockets on which nothing, not even a ping, moved for a while.

use axum::extract::ws::{self, WebSocket};
use futures::{SinkExt, StreamExt};
use std::time::Duration;
use tokio_tungstenite::WebSocketStream;
use tokio_tungstenite::tungstenite::{
    self, protocol::CloseFrame, protocol::frame::coding::CloseCode,
};

use super::upstream::BoxedIo;

/// Each side's read buffer. tungstenite's default (128 KiB, allocated per socket) would make
/// 1,000 idle notebooks cost 250 MB; messages larger than this still arrive, in several reads.
pub const READ_BUFFER: usize = 8 * 1024;

/// The app side's settings: a small read buffer, and writes sent at once (a relay adds no
/// batching of its own).
pub fn config() -> tungstenite::protocol::WebSocketConfig {
    tungstenite::protocol::WebSocketConfig::default()
        .read_buffer_size(READ_BUFFER)
        .write_buffer_size(0)
}

/// Close code sent to the browser when the system is deleted under an open socket.
pub const GOING_AWAY: u16 = 1001;

/// Relays until either side closes, `gone` resolves, or nothing moves for `idle`.
pub async fn relay(
    client: WebSocket,
    app: WebSocketStream<BoxedIo>,
    idle: Duration,
    gone: impl std::future::Future<Output = ()>,
) {
    let (mut to_client, mut from_client) = client.split();
    let (mut to_app, mut from_app) = app.split();
    tokio::pin!(gone);
    loop {
        tokio::select! {
            m = from_client.next() => match m {
                Some(Ok(m)) => {
                    let closing = matches!(m, ws::Message::Close(_));
                    if to_app.send(to_app_message(m)).await.is_err() || closing {
                        // The browser's socket has already answered its close (tungstenite
                        // does); let the app finish its side, then flush that answer.
                        let _ = tokio::time::timeout(Duration::from_secs(2), async {
                            while let Some(Ok(_)) = from_app.next().await {}
                        })
                        .await;
                        let _ = to_client.close().await;
                        break;
                    }
                }
                _ => { let _ = to_app.close().await; break; }
            },
            m = from_app.next() => match m {
                Some(Ok(m)) => {
                    let closing = matches!(m, tungstenite::Message::Close(_));
                    if let Some(m) = to_client_message(m)
                        && (to_client.send(m).await.is_err() || closing) {
                            break;
                        }
                }
                _ => {
                    let _ = to_client.send(close(1011, "the app closed the connection")).await;
                    break;
                }
            },
            _ = &mut gone => {
                let _ = to_client.send(close(GOING_AWAY, "the system was deleted")).await;
                let _ = to_app.close().await;
                break;
            }
            _ = tokio::time::sleep(idle) => {
                let _ = to_client.send(close(GOING_AWAY, "idle")).await;
                let _ = to_app.close().await;
                break;
            }
        }
    }
}

fn close(code: u16, reason: &'static str) -> ws::Message {
    ws::Message::Close(Some(ws::CloseFrame {
        code,
        reason: reason.into(),
    }))
}

fn to_app_message(m: ws::Message) -> tungstenite::Message {
    match m {
        ws::Message::Text(t) => tungstenite::Message::Text(t.as_str().into()),
        ws::Message::Binary(b) => tungstenite::Message::Binary(b),
        ws::Message::Ping(b) => tungstenite::Message::Ping(b),
        ws::Message::Pong(b) => tungstenite::Message::Pong(b),
        ws::Message::Close(frame) => tungstenite::Message::Close(frame.map(|f| CloseFrame {
            code: CloseCode::from(f.code),
            reason: f.reason.as_str().into(),
        })),
    }
}

fn to_client_message(m: tungstenite::Message) -> Option<ws::Message> {
    Some(match m {
        tungstenite::Message::Text(t) => ws::Message::Text(t.as_str().into()),
        tungstenite::Message::Binary(b) => ws::Message::Binary(b),
        tungstenite::Message::Ping(b) => ws::Message::Ping(b),
        tungstenite::Message::Pong(b) => ws::Message::Pong(b),
        tungstenite::Message::Close(frame) => ws::Message::Close(frame.map(|f| ws::CloseFrame {
            code: f.code.into(),
            reason: f.reason.as_str().into(),
        })),
        tungstenite::Message::Frame(_) => return None,
    })
}
