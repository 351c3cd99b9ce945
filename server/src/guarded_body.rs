//! A response body that keeps a guard alive until the body is done (sent to the end, or
//! dropped when the client leaves): how the server counts open responses (the HTTP server's
//! requests in flight, the connect proxy's open slots) without buffering them.

use axum::body::{Body, Bytes};
use std::pin::Pin;
use std::task::{Context, Poll};

pub struct Guarded<G> {
    body: Body,
    _guard: G,
}

impl<G: Send + Unpin + 'static> Guarded<G> {
    /// `body` as a response body, with `guard` dropped after its last frame.
    pub fn body(body: Body, guard: G) -> Body {
        Body::new(Guarded {
            body,
            _guard: guard,
        })
    }
}

impl<G: Unpin> http_body::Body for Guarded<G> {
    type Data = Bytes;
    type Error = axum::Error;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<http_body::Frame<Bytes>, axum::Error>>> {
        Pin::new(&mut self.body).poll_frame(cx)
    }

    fn is_end_stream(&self) -> bool {
        self.body.is_end_stream()
    }

    fn size_hint(&self) -> http_body::SizeHint {
        self.body.size_hint()
    }
}
