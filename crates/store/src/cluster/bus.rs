//! Cluster events over PostgreSQL `LISTEN`/`NOTIFY`: what one server did
//! that the others must act on. Delivery is at most once (a server that
//! was disconnected misses what was sent meanwhile), so every
//! (re)connection delivers [`ClusterEvent::Resync`] first, and servers
//! resync periodically as well.

use crate::StoreError;
use crate::postgres::{pg_error, pool_error};
use deadpool_postgres::Pool;
use futures::StreamExt;
use serde::{Deserialize, Serialize};
use std::time::Duration;
use tokio::sync::broadcast;
use tokio_postgres::AsyncMessage;

/// The notification channel.
const CHANNEL: &str = "lodge_cluster";
/// Events buffered for a slow listener before it misses some (and gets a
/// resync instead).
const BUFFER: usize = 1024;
/// The longest wait between reconnection attempts.
const MAX_BACKOFF: Duration = Duration::from_secs(5);

/// Something a server did that every server must act on.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "kebab-case")]
pub enum ClusterEvent {
    /// A version of `app` was published (compile it ahead; forget the
    /// cached latest version; restart rooms if so configured).
    Published { app: String, version: String },
    /// A version, or the whole app, was deleted: stop its rooms that no
    /// longer have a version to run.
    Deleted { app: String },
    /// An operator stopped a room (or all rooms of an app: `room` is None).
    RoomStop {
        app: String,
        room: Option<String>,
        code: u16,
        reason: String,
    },
    /// Rooms of `node` changed (opened, members, phase, host, metadata,
    /// closed): re-read their listings.
    RoomsChanged {
        node: String,
        rooms: Vec<(String, String)>,
    },
    /// Events may have been missed: re-read everything.
    Resync,
}

/// Sends and receives [`ClusterEvent`]s.
#[derive(Clone)]
pub struct PgBus {
    pool: Pool,
    events: broadcast::Sender<ClusterEvent>,
}

impl PgBus {
    /// Starts listening on its own connection to `url` (kept open,
    /// reconnecting with backoff); sends through `pool`.
    pub fn start(url: &str, pool: Pool) -> Result<Self, StoreError> {
        let config: tokio_postgres::Config = url.parse().map_err(|e| StoreError::Backend {
            backend: "postgres",
            message: format!("the URL is not a PostgreSQL connection string: {e}"),
        })?;
        let (events, _) = broadcast::channel(BUFFER);
        tokio::spawn(listen(config, crate::postgres::tls()?, events.clone()));
        Ok(Self { pool, events })
    }

    /// Every event from now on, starting with a `Resync` whenever the
    /// listening connection (re)connects. A receiver that lags gets
    /// `RecvError::Lagged`, which it should treat as a resync.
    pub fn subscribe(&self) -> broadcast::Receiver<ClusterEvent> {
        self.events.subscribe()
    }

    /// Sends `event` to every server (this one included).
    pub async fn send(&self, event: &ClusterEvent) -> Result<(), StoreError> {
        let payload = serde_json::to_string(event).map_err(|e| StoreError::Backend {
            backend: "postgres",
            message: e.to_string(),
        })?;
        let client = self.pool.get().await.map_err(pool_error)?;
        client
            .execute("SELECT pg_notify($1, $2)", &[&CHANNEL, &payload])
            .await
            .map_err(pg_error)?;
        Ok(())
    }
}

/// Keeps a `LISTEN` connection open, forwarding what arrives, for the
/// server's lifetime.
async fn listen(
    config: tokio_postgres::Config,
    tls: tokio_postgres_rustls::MakeRustlsConnect,
    events: broadcast::Sender<ClusterEvent>,
) {
    let mut backoff = Duration::from_millis(100);
    loop {
        match config.connect(tls.clone()).await {
            Ok((client, mut connection)) => {
                let mut messages = futures::stream::poll_fn(move |cx| connection.poll_message(cx));
                // The connection must be driven while LISTEN runs; LISTEN
                // first, then resync, so nothing sent after the resync's
                // reads is missed.
                let statement = format!("LISTEN {CHANNEL}");
                let listened = tokio::select! {
                    done = client.batch_execute(&statement) => done.is_ok(),
                    _ = drive_until_closed(&mut messages, &events) => false,
                };
                if listened {
                    backoff = Duration::from_millis(100);
                    let _ = events.send(ClusterEvent::Resync);
                    drive_until_closed(&mut messages, &events).await;
                    tracing::warn!("lost the cluster event connection; reconnecting");
                } else {
                    tracing::warn!("listening for cluster events failed; retrying");
                }
            }
            Err(e) => tracing::warn!(error = %e, "connecting for cluster events failed"),
        }
        tokio::time::sleep(backoff).await;
        backoff = (backoff * 2).min(MAX_BACKOFF);
    }
}

/// Forwards notifications until the connection closes.
async fn drive_until_closed<S>(messages: &mut S, events: &broadcast::Sender<ClusterEvent>)
where
    S: futures::Stream<Item = Result<AsyncMessage, tokio_postgres::Error>> + Unpin,
{
    while let Some(message) = messages.next().await {
        match message {
            Ok(AsyncMessage::Notification(note)) if note.channel() == CHANNEL => {
                match serde_json::from_str::<ClusterEvent>(note.payload()) {
                    Ok(event) => {
                        let _ = events.send(event);
                    }
                    Err(e) => tracing::warn!(error = %e, "an unreadable cluster event"),
                }
            }
            Ok(_) => {}
            Err(e) => {
                tracing::warn!(error = %e, "the cluster event connection failed");
                return;
            }
        }
    }
}
