//! The WebSocket gateway: `GET /apps/{app}/rooms/{room}?name=NAME` joins a
//! room and relays frames between the connection and the room. With
//! `resume=TOKEN` a dropped member can come back as themselves; with
//! `invite=…` they get into rooms that need one; with `spectate=true` they
//! watch.

use crate::AppState;
use crate::api::app_name;
use crate::cluster::forward::{InternalJoin, forward};
use crate::error::ApiError;
use crate::listener::ClientAddr;
use crate::publish::ResolveError;
use axum::extract::ws::{CloseFrame, Message, Utf8Bytes, WebSocket, WebSocketUpgrade};
use axum::extract::{Path, Query, State};
use axum::http::HeaderMap;
use axum::response::Response;
use futures::SinkExt;
use lodge_manifest::{AppName, Role};
use lodge_runtime::rooms::Ended;
use lodge_runtime::rooms::JoinRefused;
use lodge_runtime::rooms::{Located, close, valid_room_name};
use lodge_runtime::{Joiner, Membership, Outgoing, Payload, RoomSpec};
use serde::Deserialize;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

/// How long one frame may take to reach a member before they count as gone.
const SEND_TIMEOUT: Duration = Duration::from_secs(10);
/// The most queued messages written with one flush.
const MAX_BATCH: usize = 64;

#[derive(Deserialize)]
pub struct JoinQuery {
    name: Option<String>,
    version: Option<String>,
    /// A seat reservation's token (join-or-create).
    seat: Option<String>,
    /// Join as a spectator.
    #[serde(default)]
    spectate: bool,
    /// The member's resume token (chosen by the client, 128 random bits or more).
    resume: Option<String>,
    /// An invite into this room (or the admission a password gave).
    invite: Option<String>,
}

/// Close-frame reasons are at most 123 bytes of UTF-8.
pub(crate) fn close_frame(code: u16, reason: &str) -> Message {
    let mut reason = reason.to_owned();
    if reason.len() > 123 {
        let mut end = 120;
        while !reason.is_char_boundary(end) {
            end -= 1;
        }
        reason.truncate(end);
        reason.push_str("...");
    }
    Message::Close(Some(CloseFrame {
        code,
        reason: reason.into(),
    }))
}

pub async fn join(
    State(state): State<Arc<AppState>>,
    ClientAddr(client): ClientAddr,
    Path((app, room)): Path<(String, String)>,
    Query(query): Query<JoinQuery>,
    headers: HeaderMap,
    ws: WebSocketUpgrade,
) -> Result<Response, ApiError> {
    let app = app_name(&app)?;
    if !valid_room_name(&room) {
        return Err(invalid_room(&room));
    }
    // A signed-in member (session cookie, or a token) joins under their
    // username; a guest under a display name no account has.
    let account = state
        .auth
        .identify(&axum::http::Method::GET, &headers)
        .await?
        .map(|caller| caller.account.username);
    let name = match &account {
        Some(username) => username.clone(),
        None => query.name.unwrap_or_default(),
    };
    crate::names::check_display_name(&name)
        .map_err(|problem| ApiError::bad_request("invalid_member_name", problem.to_string()))?;
    let refusal = match &account {
        Some(_) => None,
        None => guest_refusal(&state, &name).await?,
    };
    if let Some(token) = &query.resume
        && !crate::room_access::valid_resume_token(token)
    {
        return Err(ApiError::bad_request(
            "invalid_resume",
            "resume must be 22-128 characters of letters, digits, '-' and '_' (128 random bits or more)",
        ));
    }
    // A bad invite is refused in the close frame, with its own code, like
    // every other refusal a client should show.
    let invite = query
        .invite
        .as_deref()
        .map(|token| state.invites.verify(token, app.as_str(), &room));
    let (admitted, seat, refusal) = match invite {
        None => (false, query.seat, refusal),
        Some(Ok(invite)) => (true, invite.seat.or(query.seat), refusal),
        Some(Err(e)) => (
            false,
            None,
            refusal.or(Some(JoinRefused {
                code: close::INVITE_INVALID,
                reason: e.to_string(),
            })),
        ),
    };
    let pinned = query.version.is_some();
    let spec = room_spec(&state, app, query.version.as_deref()).await?;
    let (spectate, resume) = (query.spectate, query.resume);
    let config = state.rooms.config();
    let max_message_bytes = config.max_message_bytes;
    let ping_interval = state.ping_interval;
    let rooms = state.rooms.clone();
    let connections = state.connections.clone();
    let cluster = state.cluster.clone();
    let version = query.version;
    Ok(
        limits(ws, max_message_bytes).on_upgrade(move |mut socket| async move {
            let _open = OpenConnection::new(connections);
            let refusal = refusal.or_else(|| {
                (spec.require_account && account.is_none()).then(|| JoinRefused {
                    code: close::SIGN_IN_REQUIRED,
                    reason: "this app's rooms are for signed-in members: sign in, then join".into(),
                })
            });
            if let Some(refused) = refusal {
                let _ = tokio::time::timeout(
                    SEND_TIMEOUT,
                    socket.send(close_frame(refused.code, &refused.reason)),
                )
                .await;
                return;
            }
            let joiner = Joiner {
                name,
                account,
                seat,
                client,
                spectate,
                resume,
                admitted,
            };
            let app = spec.app.clone();
            let joined = match rooms.locate(&spec, &room).await {
                Ok(Located::Here { fence }) => {
                    rooms.join_at(spec, pinned, &room, joiner, fence).await
                }
                Ok(Located::Elsewhere { internal_url, .. }) => {
                    let Some(node) = cluster else { return };
                    let join = InternalJoin::new(&joiner, version);
                    forward(
                        socket,
                        &internal_url,
                        &node.secret,
                        &app,
                        &room,
                        &join,
                        ping_interval,
                    )
                    .await;
                    return;
                }
                Err(refused) => Err(refused),
            };
            match joined {
                Ok(membership) => relay(socket, membership, max_message_bytes, ping_interval).await,
                Err(refused) => {
                    let _ = tokio::time::timeout(
                        SEND_TIMEOUT,
                        socket.send(close_frame(refused.code, &refused.reason)),
                    )
                    .await;
                }
            }
        }),
    )
}

/// How long a closed member has to answer the close frame.
const CLOSE_REPLY: Duration = Duration::from_secs(2);

/// Sends a close frame and waits (briefly) for the member's reply: the
/// closing handshake. Dropping the socket at once could reset the
/// connection while the member is still sending, and a reset can make the
/// member's side discard the close frame before reading it.
pub(crate) async fn close_and_wait(socket: &mut WebSocket, code: u16, reason: &str) {
    if !matches!(
        tokio::time::timeout(SEND_TIMEOUT, socket.send(close_frame(code, reason))).await,
        Ok(Ok(()))
    ) {
        return;
    }
    let _ = tokio::time::timeout(CLOSE_REPLY, async {
        while let Some(Ok(message)) = socket.recv().await {
            if matches!(message, Message::Close(_)) {
                break;
            }
        }
    })
    .await;
}

/// The upgrade with the frame limits every room connection has.
pub(crate) fn limits(ws: WebSocketUpgrade, max_message_bytes: usize) -> WebSocketUpgrade {
    ws
        // Frames past the limit get a clean 1009; far past it the socket just drops.
        .max_message_size(max_message_bytes * 2 + 1024)
        .max_frame_size(max_message_bytes * 2 + 1024)
        // tungstenite clears its whole read buffer on every read; most frames are small.
        .read_buffer_size(4096)
}

/// `400 invalid_room`, with the rule.
pub(crate) fn invalid_room(room: &str) -> ApiError {
    ApiError::bad_request(
        "invalid_room",
        format!("\"{room}\" is not a valid room name: use 1-64 letters, digits, '-', '_' or '.'"),
    )
}

/// What runs a room of `app` (at `version`, else the latest): its room
/// part and the manifest's `[room]` settings within the server's limits.
pub(crate) async fn room_spec(
    state: &AppState,
    app: AppName,
    version: Option<&str>,
) -> Result<RoomSpec, ApiError> {
    let record = state.apps.resolve(&app, version, Some(Role::Room)).await?;
    let (Some(part), Some(room_part)) = (record.part(Role::Room), record.manifest.room.as_ref())
    else {
        return Err(ResolveError::NoPart {
            app,
            version: record.manifest.app.version.clone(),
            role: Role::Room,
        }
        .into());
    };
    let config = state.rooms.config();
    Ok(RoomSpec {
        app: app.to_string(),
        version: record.manifest.app.version.clone(),
        sha256: part.sha256.clone(),
        capabilities: room_part.capabilities.clone(),
        max_members: room_part.max_members.unwrap_or(config.default_max_members),
        max_rooms: room_part.max_rooms.unwrap_or(config.rooms_per_app),
        memory_bytes: room_part
            .memory_mib
            .map_or(config.memory_bytes, |mib| (mib as usize) << 20)
            .min(config.max_memory_bytes),
        visibility: room_part.visibility,
        unique_names: room_part.unique_names,
        require_account: room_part.require_account,
        start: room_part.start,
        late_join: room_part.late_join,
        max_spectators: room_part.max_spectators,
        reconnect: Duration::from_secs(room_part.reconnect_seconds().into()),
    })
}

/// Why a guest may not use `name`: it is an account's username (in any case).
async fn guest_refusal(state: &AppState, name: &str) -> Result<Option<JoinRefused>, ApiError> {
    let Ok(username) = crate::accounts::usernames::normalize(name) else {
        return Ok(None);
    };
    Ok(state
        .auth
        .store
        .account_by_name(&username)
        .await?
        .map(|account| JoinRefused {
            code: close::NAME_TAKEN,
            reason: format!(
                "\"{name}\" is the name of an account: sign in as {}, or join under another name",
                account.username
            ),
        }))
}

/// A frame for a payload; text that isn't UTF-8 (never sent by the runtime) is dropped.
fn to_message(payload: Payload) -> Option<Message> {
    Some(match payload {
        Payload::Text(bytes) => Message::Text(Utf8Bytes::try_from(bytes).ok()?),
        Payload::Binary(bytes) => Message::Binary(bytes),
    })
}

/// Counts an open room connection for as long as it lives.
struct OpenConnection(Arc<AtomicUsize>);

impl OpenConnection {
    fn new(count: Arc<AtomicUsize>) -> Self {
        count.fetch_add(1, Ordering::Relaxed);
        Self(count)
    }
}

impl Drop for OpenConnection {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::Relaxed);
    }
}

/// Moves frames both ways until either side ends, then tells the room how:
/// a member who closed normally (1000, or no code) left; any other end
/// (another code like a page's 1001, an error, silence) is a drop, and the
/// room may hold their seat. Pings the member every `ping_interval`; one
/// that sends nothing (not even a pong) for two intervals is gone.
pub(crate) async fn relay(
    mut socket: WebSocket,
    mut membership: Membership,
    max_message_bytes: usize,
    ping_interval: Duration,
) {
    let mut pings =
        tokio::time::interval_at(tokio::time::Instant::now() + ping_interval, ping_interval);
    pings.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let mut heard = tokio::time::Instant::now();
    // A message on its way to the room: while the room's mailbox is full it
    // waits here, the socket isn't read (backpressure), and the member's
    // outbox and pings go on.
    let mut sending: Option<std::pin::Pin<Box<dyn Future<Output = bool> + Send>>> = None;
    let mut ended = Ended::Dropped;
    loop {
        tokio::select! {
            _ = pings.tick() => {
                // Not reading while a send waits is the room's doing, not silence.
                if sending.is_none() && heard.elapsed() >= ping_interval * 2 {
                    let reason = format!("no answer to pings for {} s", heard.elapsed().as_secs());
                    let _ = tokio::time::timeout(SEND_TIMEOUT, socket.send(close_frame(close::GOING_AWAY, &reason))).await;
                    break;
                }
                let ping = async {
                    socket.send(Message::Ping(bytes::Bytes::new())).await
                };
                tokio::select! {
                    sent = tokio::time::timeout(SEND_TIMEOUT, ping) => {
                        if !matches!(sent, Ok(Ok(()))) {
                            break;
                        }
                    }
                    _ = membership.closed() => break,
                }
            }
            out = membership.next() => match out {
                Outgoing::Message(payload) => {
                    // Whatever else is already queued goes out with it, in one flush.
                    let mut batch = vec![payload];
                    while batch.len() < MAX_BATCH {
                        match membership.try_next() {
                            Some(payload) => batch.push(payload),
                            None => break,
                        }
                    }
                    let write = async {
                        for payload in batch {
                            if let Some(message) = to_message(payload) {
                                socket.feed(message).await?;
                            }
                        }
                        socket.flush().await
                    };
                    // A member the room gave up on (too slow) is dropped at once,
                    // even while a write to it is stuck.
                    tokio::select! {
                        sent = tokio::time::timeout(SEND_TIMEOUT, write) => {
                            if !matches!(sent, Ok(Ok(()))) {
                                break;
                            }
                        }
                        _ = membership.closed() => break,
                    }
                }
                Outgoing::Close { code, reason } => {
                    close_and_wait(&mut socket, code, &reason).await;
                    ended = Ended::Left;
                    break;
                }
            },
            sent = async { sending.as_mut().expect("checked").await }, if sending.is_some() => {
                sending = None;
                heard = tokio::time::Instant::now();
                if !sent {
                    break;
                }
            }
            incoming = socket.recv(), if sending.is_none() => {
                heard = tokio::time::Instant::now();
                let payload = match incoming {
                    Some(Ok(Message::Text(text))) => Payload::Text(bytes::Bytes::from(text)),
                    Some(Ok(Message::Binary(bytes))) => Payload::Binary(bytes),
                    Some(Ok(Message::Ping(_) | Message::Pong(_))) => continue,
                    Some(Err(e)) if e.to_string().contains("Space limit exceeded") || e.to_string().contains("too long") => {
                        let reason = format!("message too big; the limit is {max_message_bytes} bytes");
                        let _ = tokio::time::timeout(SEND_TIMEOUT, socket.send(close_frame(close::TOO_BIG, &reason))).await;
                        ended = Ended::Left;
                        break;
                    }
                    Some(Ok(Message::Close(frame))) => {
                        if frame.is_none_or(|f| f.code == close::NORMAL) {
                            ended = Ended::Left;
                        }
                        // Completes the closing handshake (the reply is already queued).
                        let _ = tokio::time::timeout(SEND_TIMEOUT, socket.close()).await;
                        break;
                    }
                    Some(Err(_)) | None => break,
                };
                if payload.len() > max_message_bytes {
                    let reason = format!("message of {} bytes is too big; the limit is {max_message_bytes}", payload.len());
                    let _ = tokio::time::timeout(SEND_TIMEOUT, socket.send(close_frame(close::TOO_BIG, &reason))).await;
                    ended = Ended::Left;
                    break;
                }
                // Usually there is room at once: no need to come round again.
                let mut send = Box::pin(membership.send(payload));
                match futures::FutureExt::now_or_never(&mut send) {
                    Some(true) => {}
                    Some(false) => break,
                    None => sending = Some(send),
                }
            }
        }
    }
    membership.end(ended).await;
}
