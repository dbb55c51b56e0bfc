//! Accepting connections: caps on open connections in total and per client
//! address, a deadline for request headers (which also closes idle
//! keep-alive connections), the client's address for handlers, and a
//! graceful stop.

use axum::Router;
use axum::body::Body;
use axum::extract::{ConnectInfo, FromRequestParts};
use axum::http::request::Parts;
use hyper::body::Incoming;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::service::TowerToHyperService;
use lodge_runtime::Metrics;
use lodge_runtime::rate::subscriber;
use std::collections::HashMap;
use std::convert::Infallible;
use std::io;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use std::time::Duration;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::{TcpListener, TcpStream};
use tokio_rustls::TlsAcceptor;
use tokio_util::either::Either;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;
use tower::ServiceExt;

/// How many connections the server keeps open, and for how long.
#[derive(Debug, Clone, Copy)]
pub struct ConnectionLimits {
    /// Open connections (HTTP and WebSocket) across all clients.
    pub max_total: usize,
    /// Open connections from one client address (one IPv6 /64).
    pub max_per_address: usize,
    /// How long a client may take to send a request's headers; an idle
    /// keep-alive connection is closed after the same time.
    pub header_timeout: Duration,
}

impl Default for ConnectionLimits {
    fn default() -> Self {
        Self {
            max_total: 10_000,
            max_per_address: 256,
            header_timeout: Duration::from_secs(10),
        }
    }
}

/// The address a request came from (`0.0.0.0` for requests made in-process).
#[derive(Debug, Clone, Copy)]
pub struct ClientAddr(pub IpAddr);

/// The caller of a request another server of the cluster passed on (set
/// only once the cluster's secret checked out): [`ClientAddr`] is theirs.
#[derive(Debug, Clone, Copy)]
pub(crate) struct ForwardedClient(pub IpAddr);

impl<S: Send + Sync> FromRequestParts<S> for ClientAddr {
    type Rejection = Infallible;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        if let Some(ForwardedClient(client)) = parts.extensions.get::<ForwardedClient>() {
            return Ok(ClientAddr(*client));
        }
        Ok(ClientAddr(
            parts
                .extensions
                .get::<ConnectInfo<SocketAddr>>()
                .map_or(IpAddr::V4(Ipv4Addr::UNSPECIFIED), |info| info.0.ip()),
        ))
    }
}

/// Open connections, in total and by client address.
#[derive(Default)]
struct Open {
    counts: Mutex<Counts>,
}

#[derive(Default)]
struct Counts {
    total: usize,
    by_address: HashMap<IpAddr, usize>,
}

/// One admitted connection; counted until dropped, which happens when the
/// connection ends (an upgraded WebSocket carries it along).
struct Admitted {
    open: Arc<Open>,
    address: IpAddr,
}

impl Open {
    /// Admits a connection from `address`, or says which limit refuses it.
    fn admit(
        self: &Arc<Self>,
        address: IpAddr,
        limits: &ConnectionLimits,
    ) -> Result<Admitted, &'static str> {
        let address = subscriber(address);
        let mut counts = self.counts.lock().expect("connections lock");
        if counts.total >= limits.max_total {
            return Err("max_connections");
        }
        let count = counts.by_address.entry(address).or_default();
        if *count >= limits.max_per_address {
            return Err("max_connections_per_address");
        }
        *count += 1;
        counts.total += 1;
        Ok(Admitted {
            open: self.clone(),
            address,
        })
    }
}

impl Drop for Admitted {
    fn drop(&mut self) {
        let mut counts = self.open.counts.lock().expect("connections lock");
        counts.total -= 1;
        if let Some(count) = counts.by_address.get_mut(&self.address) {
            *count -= 1;
            if *count == 0 {
                counts.by_address.remove(&self.address);
            }
        }
    }
}

/// A TCP stream that holds its admission for as long as it lives.
struct Counted {
    stream: TcpStream,
    _admitted: Admitted,
}

impl AsyncRead for Counted {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        Pin::new(&mut self.stream).poll_read(cx, buf)
    }
}

impl AsyncWrite for Counted {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.stream).poll_write(cx, buf)
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.stream).poll_write_vectored(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        self.stream.is_write_vectored()
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.stream).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.stream).poll_shutdown(cx)
    }
}

/// Where connections come from: the bound socket, and TLS when it serves HTTPS.
pub(crate) struct Endpoint {
    pub listener: TcpListener,
    pub tls: Option<TlsAcceptor>,
}

/// Answers a connection over a limit with a 503 naming it, without waiting
/// for the client: a fresh socket's send buffer always takes it.
fn refuse(stream: TcpStream, limit: &'static str, limits: &ConnectionLimits) {
    let message = match limit {
        "max_connections" => format!(
            "this server has its most open connections ({}, --max-connections); try again later",
            limits.max_total
        ),
        _ => format!(
            "too many open connections from your address ({}, --max-connections-per-address); close some and try again",
            limits.max_per_address
        ),
    };
    let body = serde_json::json!({ "error": { "code": limit, "message": message } }).to_string();
    let response = format!(
        "HTTP/1.1 503 Service Unavailable\r\ncontent-type: application/json\r\nretry-after: 5\r\nconnection: close\r\ncontent-length: {}\r\n\r\n{body}",
        body.len()
    );
    let _ = stream.try_write(response.as_bytes());
}

/// Serves `router` on `listener` until `shutdown` resolves; then stops
/// accepting, runs `drain` (rooms say goodbye), and waits up to `grace` for
/// requests in flight.
pub(crate) async fn serve(
    Endpoint { listener, tls }: Endpoint,
    router: Router,
    limits: ConnectionLimits,
    metrics: Metrics,
    shutdown: impl Future<Output = ()> + Send + 'static,
    drain: impl Future<Output = ()> + Send,
    grace: Duration,
) {
    let open = Arc::new(Open::default());
    let stopping = CancellationToken::new();
    let running = TaskTracker::new();
    let mut http = hyper::server::conn::http1::Builder::new();
    http.timer(TokioTimer::new())
        .header_read_timeout(limits.header_timeout);
    let mut shutdown = std::pin::pin!(shutdown);
    loop {
        let (stream, peer) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(accepted) => accepted,
                Err(e) => {
                    // Out of file descriptors (or a connection that died in
                    // the backlog): wait a moment instead of spinning.
                    tracing::warn!(error = %e, "accepting a connection failed");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
            () = &mut shutdown => break,
        };
        let admitted = match open.admit(peer.ip(), &limits) {
            Ok(admitted) => admitted,
            Err(limit) => {
                metrics.limit_reached(limit);
                // Over TLS a plain-text answer would only be a handshake
                // error; the connection is closed instead.
                if tls.is_none() {
                    refuse(stream, limit, &limits);
                }
                continue;
            }
        };
        // Room messages are small and latency matters more than packet count.
        let _ = stream.set_nodelay(true);
        let stream = Counted {
            stream,
            _admitted: admitted,
        };
        let over_tls = tls.is_some();
        let service = router
            .clone()
            .map_request(move |mut request: axum::http::Request<Incoming>| {
                request.extensions_mut().insert(ConnectInfo(peer));
                request.map(Body::new)
            })
            .map_response(move |mut response: axum::response::Response| {
                if over_tls {
                    response.headers_mut().insert(
                        axum::http::header::STRICT_TRANSPORT_SECURITY,
                        axum::http::HeaderValue::from_static(crate::tls::HSTS),
                    );
                }
                response
            });
        let service = TowerToHyperService::new(service);
        let (http, tls, stopping) = (http.clone(), tls.clone(), stopping.clone());
        let handshake_timeout = limits.header_timeout;
        running.spawn(async move {
            let stream = match tls {
                None => Either::Left(stream),
                // The handshake must finish within the header timeout, like
                // a request's headers, so a silent client can't hold a socket.
                Some(tls) => {
                    match tokio::time::timeout(handshake_timeout, tls.accept(stream)).await {
                        Ok(Ok(stream)) => Either::Right(stream),
                        Ok(Err(e)) => {
                            return tracing::debug!(error = %e, %peer, "TLS handshake failed");
                        }
                        Err(_) => return tracing::debug!(%peer, "TLS handshake timed out"),
                    }
                }
            };
            let connection = http
                .serve_connection(TokioIo::new(stream), service)
                .with_upgrades();
            let mut connection = std::pin::pin!(connection);
            // Once stopping, finish the request in flight and close; an
            // upgraded WebSocket has left this future already.
            let ended = tokio::select! {
                ended = connection.as_mut() => ended,
                () = stopping.cancelled() => {
                    connection.as_mut().graceful_shutdown();
                    connection.await
                }
            };
            if let Err(e) = ended {
                tracing::debug!(error = %e, %peer, "connection ended with an error");
            }
        });
    }
    drop(listener);
    drain.await;
    stopping.cancel();
    running.close();
    if tokio::time::timeout(grace, running.wait()).await.is_err() {
        tracing::warn!("requests still running after {grace:?}; stopping anyway");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_per_address_and_in_total_and_frees_on_drop() {
        let open = Arc::new(Open::default());
        let limits = ConnectionLimits {
            max_total: 3,
            max_per_address: 2,
            header_timeout: Duration::from_secs(1),
        };
        let a: IpAddr = "10.0.0.1".parse().unwrap();
        let b: IpAddr = "10.0.0.2".parse().unwrap();
        let first = open.admit(a, &limits).unwrap();
        let _second = open.admit(a, &limits).unwrap();
        assert_eq!(
            open.admit(a, &limits).err(),
            Some("max_connections_per_address")
        );
        let _third = open.admit(b, &limits).unwrap();
        assert_eq!(open.admit(b, &limits).err(), Some("max_connections"));
        drop(first);
        assert!(open.admit(a, &limits).is_ok());
    }
}
