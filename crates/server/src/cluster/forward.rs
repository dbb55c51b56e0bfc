//! Members whose room runs on another server: this server joins them to
//! the room's owner over its internal route (`/internal/apps/{app}/rooms/
//! {room}`, authenticated with the cluster's secret) and relays frames both
//! ways. Browsers can't follow a redirected WebSocket, so forwarding is
//! what lets any server take any member. When the owner goes away, the
//! member is closed at once with `MOVED` and reconnects.

use crate::AppState;
use crate::api::app_name;
use crate::error::ApiError;
use axum::extract::ws::{Message, WebSocket, WebSocketUpgrade};
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use futures::{SinkExt, StreamExt};
use lodge_runtime::Joiner;
use lodge_runtime::rooms::{JoinRefused, Located, close, valid_room_name};
use serde::{Deserialize, Serialize};
use std::net::IpAddr;
use std::sync::Arc;
use std::time::Duration;
use tokio_tungstenite::tungstenite::{self, client::IntoClientRequest};

/// The header carrying the cluster's secret on internal joins.
pub(crate) const SECRET_HEADER: &str = "x-lodge-cluster-secret";
/// How long reaching the owner may take before the member is told to retry.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);
const SEND_TIMEOUT: Duration = Duration::from_secs(10);

/// A member joined through another server: who they are, already checked
/// there (their account, invite, name rules).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct InternalJoin {
    pub name: String,
    pub account: Option<String>,
    pub client: IpAddr,
    pub seat: Option<String>,
    #[serde(default)]
    pub spectate: bool,
    pub resume: Option<String>,
    #[serde(default)]
    pub admitted: bool,
    pub version: Option<String>,
}

impl InternalJoin {
    pub(crate) fn new(joiner: &Joiner, version: Option<String>) -> Self {
        Self {
            name: joiner.name.clone(),
            account: joiner.account.clone(),
            client: joiner.client,
            seat: joiner.seat.clone(),
            spectate: joiner.spectate,
            resume: joiner.resume.clone(),
            admitted: joiner.admitted,
            version,
        }
    }
}

/// `GET /internal/apps/{app}/rooms/{room}`: a member forwarded by another
/// server joins a room this server owns (or starts it, holding its lease).
/// Never forwards again: a room owned elsewhere answers `MOVED`.
pub(crate) async fn internal_join(
    State(state): State<Arc<AppState>>,
    Path((app, room)): Path<(String, String)>,
    Query(join): Query<InternalJoin>,
    headers: HeaderMap,
    ws: WebSocketUpgrade,
) -> Result<Response, ApiError> {
    let Some(node) = state.cluster.clone() else {
        return Err(ApiError::not_found("this server is not in a cluster"));
    };
    let given = headers
        .get(SECRET_HEADER)
        .map(|v| v.as_bytes())
        .unwrap_or_default();
    if !node.is_secret(given) {
        return Err(ApiError::new(
            StatusCode::FORBIDDEN,
            "not_a_cluster_member",
            "internal routes are for the cluster's servers",
        ));
    }
    let app = app_name(&app)?;
    if !valid_room_name(&room) {
        return Err(crate::gateway::invalid_room(&room));
    }
    let pinned = join.version.is_some();
    let spec = crate::gateway::room_spec(&state, app, join.version.as_deref()).await?;
    let config = state.rooms.config();
    let max_message_bytes = config.max_message_bytes;
    let ping_interval = state.ping_interval;
    let rooms = state.rooms.clone();
    Ok(
        crate::gateway::limits(ws, max_message_bytes).on_upgrade(move |mut socket| async move {
            let joiner = Joiner {
                name: join.name,
                account: join.account,
                seat: join.seat,
                client: join.client,
                spectate: join.spectate,
                resume: join.resume,
                admitted: join.admitted,
            };
            let joined = match rooms.locate(&spec, &room).await {
                Ok(Located::Here { fence }) => {
                    rooms.join_at(spec, pinned, &room, joiner, fence).await
                }
                Ok(Located::Elsewhere { node, .. }) => Err(JoinRefused {
                    code: close::MOVED,
                    reason: format!("the room runs on server {node}; reconnect"),
                }),
                Err(refused) => Err(refused),
            };
            match joined {
                Ok(membership) => {
                    crate::gateway::relay(socket, membership, max_message_bytes, ping_interval)
                        .await
                }
                Err(refused) => {
                    let _ = tokio::time::timeout(
                        SEND_TIMEOUT,
                        socket.send(crate::gateway::close_frame(refused.code, &refused.reason)),
                    )
                    .await;
                }
            }
        }),
    )
}

/// Relays `socket` (a member here) to the room's owner at `internal_url`.
pub(crate) async fn forward(
    mut socket: WebSocket,
    internal_url: &str,
    secret: &str,
    app: &str,
    room: &str,
    join: &InternalJoin,
    ping_interval: Duration,
) {
    let url = format!(
        "{}/internal/apps/{app}/rooms/{room}?{}",
        internal_url.trim_end_matches('/').replacen("http", "ws", 1),
        serde_urlencoded::to_string(join).unwrap_or_default()
    );
    let upstream = async {
        let mut request = url.as_str().into_client_request()?;
        request.headers_mut().insert(
            SECRET_HEADER,
            secret.parse().map_err(|_| {
                tungstenite::Error::Url(tungstenite::error::UrlError::UnsupportedUrlScheme)
            })?,
        );
        let (stream, _) = tokio_tungstenite::connect_async(request).await?;
        Ok::<_, tungstenite::Error>(stream)
    };
    let upstream = match tokio::time::timeout(CONNECT_TIMEOUT, upstream).await {
        Ok(Ok(upstream)) => upstream,
        outcome => {
            tracing::warn!(internal_url, app, room, failed = ?outcome.map(|r| r.err()), "forwarding a member failed");
            let _ = tokio::time::timeout(
                SEND_TIMEOUT,
                socket.send(crate::gateway::close_frame(
                    close::MOVED,
                    "the room's server can't be reached; reconnect",
                )),
            )
            .await;
            return;
        }
    };
    relay_to_owner(socket, upstream, ping_interval).await;
}

/// Moves frames both ways until either side ends. The owner's close frame
/// reaches the member as it was; the member's reaches the owner; a member
/// gone silent is a drop (1001 to the owner, which may hold their seat);
/// the owner gone without a close frame is `MOVED` to the member.
async fn relay_to_owner<S>(
    mut member: WebSocket,
    mut owner: tokio_tungstenite::WebSocketStream<S>,
    ping_interval: Duration,
) where
    S: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin,
{
    let mut pings =
        tokio::time::interval_at(tokio::time::Instant::now() + ping_interval, ping_interval);
    let mut heard = tokio::time::Instant::now();
    loop {
        tokio::select! {
            _ = pings.tick() => {
                if heard.elapsed() >= ping_interval * 2 {
                    let _ = owner.send(owner_close(close::GOING_AWAY, "no answer to pings")).await;
                    let _ = member.send(crate::gateway::close_frame(close::GOING_AWAY, "no answer to pings")).await;
                    return;
                }
                if member.send(Message::Ping(bytes::Bytes::new())).await.is_err() {
                    let _ = owner.send(owner_close(close::GOING_AWAY, "connection lost")).await;
                    return;
                }
            }
            from_member = member.recv() => {
                heard = tokio::time::Instant::now();
                let message = match from_member {
                    Some(Ok(Message::Text(text))) => tungstenite::Message::Text(text.as_str().into()),
                    Some(Ok(Message::Binary(bytes))) => tungstenite::Message::Binary(bytes),
                    Some(Ok(Message::Ping(_) | Message::Pong(_))) => continue,
                    Some(Ok(Message::Close(frame))) => {
                        let (code, reason) = frame
                            .map(|f| (f.code, f.reason.to_string()))
                            .unwrap_or((close::NORMAL, String::new()));
                        let _ = tokio::time::timeout(SEND_TIMEOUT, owner.send(owner_close(code, &reason))).await;
                        let _ = tokio::time::timeout(SEND_TIMEOUT, member.close()).await;
                        return;
                    }
                    Some(Err(_)) | None => {
                        let _ = tokio::time::timeout(SEND_TIMEOUT, owner.send(owner_close(close::GOING_AWAY, "connection lost"))).await;
                        return;
                    }
                };
                if !matches!(tokio::time::timeout(SEND_TIMEOUT, owner.send(message)).await, Ok(Ok(()))) {
                    moved(&mut member).await;
                    return;
                }
            }
            from_owner = owner.next() => {
                let message = match from_owner {
                    Some(Ok(tungstenite::Message::Text(text))) => Message::Text(text.as_str().into()),
                    Some(Ok(tungstenite::Message::Binary(bytes))) => Message::Binary(bytes),
                    Some(Ok(tungstenite::Message::Close(frame))) => {
                        let (code, reason) = frame
                            .map(|f| (u16::from(f.code), f.reason.to_string()))
                            .unwrap_or((close::NORMAL, String::new()));
                        crate::gateway::close_and_wait(&mut member, code, &reason).await;
                        return;
                    }
                    Some(Ok(_)) => continue,
                    Some(Err(_)) | None => {
                        moved(&mut member).await;
                        return;
                    }
                };
                if !matches!(tokio::time::timeout(SEND_TIMEOUT, member.send(message)).await, Ok(Ok(()))) {
                    let _ = owner.send(owner_close(close::GOING_AWAY, "connection lost")).await;
                    return;
                }
            }
        }
    }
}

/// Tells the member its room's server went away.
async fn moved(member: &mut WebSocket) {
    crate::gateway::close_and_wait(
        member,
        close::MOVED,
        "the room's server went away; reconnect",
    )
    .await;
}

fn owner_close(code: u16, reason: &str) -> tungstenite::Message {
    tungstenite::Message::Close(Some(tungstenite::protocol::CloseFrame {
        code: code.into(),
        reason: reason.into(),
    }))
}
