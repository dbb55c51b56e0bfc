//! A body that counts its bytes and fails past a limit, flagging that it did.

use bytes::Bytes;
use http_body::{Body, Frame, SizeHint};
use http_body_util::combinators::UnsyncBoxBody;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::task::{Context, Poll};
use wasmtime_wasi_http::Error;

/// The body type requests and responses have inside the http runtime.
pub type HttpBody = UnsyncBoxBody<Bytes, Error>;

/// Passes frames through until more than `limit` bytes went by, then fails
/// with `overflow` and sets `exceeded`.
pub(crate) struct Limited {
    inner: HttpBody,
    seen: u64,
    limit: u64,
    overflow: fn(u64) -> Error,
    exceeded: Arc<AtomicBool>,
}

impl Limited {
    pub fn new(
        inner: HttpBody,
        limit: u64,
        overflow: fn(u64) -> Error,
        exceeded: Arc<AtomicBool>,
    ) -> Self {
        Self {
            inner,
            seen: 0,
            limit,
            overflow,
            exceeded,
        }
    }
}

impl Body for Limited {
    type Data = Bytes;
    type Error = Error;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, Error>>> {
        let frame = match Pin::new(&mut self.inner).poll_frame(cx) {
            Poll::Ready(Some(Ok(frame))) => frame,
            other => return other,
        };
        if let Some(data) = frame.data_ref() {
            self.seen += data.len() as u64;
            if self.seen > self.limit {
                self.exceeded.store(true, Ordering::Relaxed);
                return Poll::Ready(Some(Err((self.overflow)(self.limit))));
            }
        }
        Poll::Ready(Some(Ok(frame)))
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.inner.size_hint()
    }
}
