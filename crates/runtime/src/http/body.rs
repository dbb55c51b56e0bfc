//! Bodies in the http runtime: one that counts its bytes and fails past a
//! limit, and one that reports a guest failing after its response head.

use super::HttpFailure;
use bytes::Bytes;
use http_body::{Body, Frame, SizeHint};
use http_body_util::combinators::UnsyncBoxBody;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::task::{Context, Poll};
use tokio::task::JoinHandle;
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

/// The guest's task, aborted when dropped: a request whose client went
/// away, or whose answer was replaced by an error, stops running.
pub(crate) struct AbortOnDrop(pub JoinHandle<Result<(), HttpFailure>>);

impl Drop for AbortOnDrop {
    fn drop(&mut self) {
        self.0.abort();
    }
}

/// Told about a failure that happened after the response head was sent.
pub(crate) type FailureReport = Box<dyn FnOnce(&HttpFailure) + Send>;

/// A response body that, at its end, waits for the guest's task and turns
/// a failure after the head was sent (a trap, a timeout, the CPU deadline)
/// into a body error, so the client sees a broken response rather than a
/// short one that looks whole.
pub(crate) struct Watched {
    inner: HttpBody,
    task: Option<AbortOnDrop>,
    on_failure: Option<FailureReport>,
}

impl Watched {
    pub fn new(inner: HttpBody, task: AbortOnDrop, on_failure: FailureReport) -> Self {
        Self {
            inner,
            task: Some(task),
            on_failure: Some(on_failure),
        }
    }
}

impl Body for Watched {
    type Data = Bytes;
    type Error = Error;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, Error>>> {
        match Pin::new(&mut self.inner).poll_frame(cx) {
            Poll::Ready(None) => {}
            other => return other,
        }
        let Some(task) = self.task.as_mut() else {
            return Poll::Ready(None);
        };
        let outcome = match Pin::new(&mut task.0).poll(cx) {
            Poll::Pending => return Poll::Pending,
            Poll::Ready(Ok(outcome)) => outcome,
            Poll::Ready(Err(e)) => Err(HttpFailure::Internal {
                reason: format!("the request's task failed: {e}"),
            }),
        };
        self.task = None;
        match outcome {
            Ok(()) => Poll::Ready(None),
            Err(failure) => {
                if let Some(report) = self.on_failure.take() {
                    report(&failure);
                }
                Poll::Ready(Some(Err(Error::InternalError(Some(failure.message())))))
            }
        }
    }

    fn is_end_stream(&self) -> bool {
        self.task.is_none() && self.inner.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.inner.size_hint()
    }
}
