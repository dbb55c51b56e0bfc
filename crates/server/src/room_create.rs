//! Rooms made on request: `POST /api/apps/{app}/rooms` creates one (named,
//! or with a generated code, with settings narrowing the app's),
//! `POST /api/apps/{app}/rooms/join-or-create` reserves a seat in an open
//! public room matching the caller's metadata filters, starting one when
//! none has a seat. Open to anyone, players included: the room limits and the
//! per-address start rate bound what a caller can start.

use crate::AppState;
use crate::api::{app_name, rfc3339};
use crate::error::ApiError;
use crate::gateway::{invalid_room, room_spec};
use crate::json::JsonBody;
use crate::listener::ClientAddr;
use crate::room_access::Invite;
use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::IntoResponse;
use lodge_manifest::{LateJoin, RoomStart, RoomVisibility};
use lodge_runtime::rooms::{Metadata, NewRoom, RoomInfo, valid_room_name};
use serde::{Deserialize, Serialize};
use std::sync::Arc;

/// `POST /api/apps/{app}/rooms`'s body; every field may be left out (and
/// so may the body). The settings narrow the app's `[room]` ones.
#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct CreateBody {
    /// The room's name; without it, a generated code like `7KQ2-M9XD`.
    name: Option<String>,
    /// Fewer players than the app's `[room].max-members`.
    max_members: Option<u32>,
    start: Option<RoomStart>,
    late_join: Option<LateJoin>,
    /// `false` turns the app's spectators off for this room.
    spectators: Option<bool>,
    visibility: Option<RoomVisibility>,
    /// Joining takes this password (1-128 characters; stored hashed).
    password: Option<String>,
    /// The room's first metadata (the room part may change it).
    #[serde(default)]
    metadata: Metadata,
}

#[derive(Serialize)]
pub struct CreatedJson {
    app: String,
    room: String,
    version: String,
    max_members: u32,
    /// The WebSocket join.
    join: String,
    /// The page that plays it.
    play: String,
    /// The room as the list shows it (settings, phase).
    info: Option<RoomInfo>,
    /// For a room that needs an invite or a password: an invite for its
    /// creator to join with and pass on.
    #[serde(skip_serializing_if = "Option::is_none")]
    invite: Option<String>,
}

/// `POST /api/apps/{app}/rooms`: starts a room now with the app's latest
/// version, so a broken room part is answered now, not at the first join.
pub async fn create(
    State(state): State<Arc<AppState>>,
    ClientAddr(client): ClientAddr,
    Path(app): Path<String>,
    body: Option<JsonBody<CreateBody>>,
) -> Result<(StatusCode, Json<CreatedJson>), ApiError> {
    let app = app_name(&app)?;
    let body = body.map(|JsonBody(body)| body).unwrap_or_default();
    if let Some(name) = &body.name
        && !valid_room_name(name)
    {
        return Err(invalid_room(name));
    }
    let spec = room_spec(&state, app.clone(), None).await?;
    let version = spec.version.to_string();
    let password = match &body.password {
        Some(password) => Some(crate::room_access::hash_room_password(password).await?),
        None => None,
    };
    let created = state
        .rooms
        .create(
            spec,
            NewRoom {
                name: body.name,
                max_members: body.max_members,
                start: body.start,
                late_join: body.late_join,
                spectators: body.spectators,
                visibility: body.visibility,
                password,
                metadata: body.metadata,
            },
            client,
        )
        .await?;
    let room = created.room;
    let info = state.rooms.info(app.as_str(), &room);
    let invite = info
        .as_ref()
        .filter(|info| info.password || info.visibility == RoomVisibility::Invite)
        .map(|_| {
            state.invites.sign(&Invite {
                app: app.to_string(),
                room: room.clone(),
                expires_ms: lodge_store::now_ms()
                    + crate::room_access::DEFAULT_INVITE_SECS as i64 * 1000,
                seat: None,
            })
        });
    let (join, play) = match &invite {
        Some(token) => (
            format!("/apps/{app}/rooms/{room}?invite={token}"),
            format!("/play/{app}/{room}#invite={token}"),
        ),
        None => (
            format!("/apps/{app}/rooms/{room}"),
            format!("/play/{app}/{room}"),
        ),
    };
    Ok((
        StatusCode::CREATED,
        Json(CreatedJson {
            join,
            play,
            app: app.to_string(),
            room,
            version,
            max_members: created.max_members,
            info,
            invite,
        }),
    ))
}

/// `POST /api/apps/{app}/rooms/join-or-create`'s body (or none): metadata
/// the room must have, like `{"filters": {"mode": "ranked"}}`; a room made
/// for the call starts with them.
#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct JoinOrCreateBody {
    #[serde(default)]
    filters: Metadata,
}

#[derive(Serialize)]
pub struct ReservationJson {
    room: String,
    /// The seat token the join presents (`?seat=`).
    seat: String,
    /// When the seat is given up if nobody joined with it.
    expires: String,
    /// The WebSocket join, with the seat.
    join: String,
}

/// `POST /api/apps/{app}/rooms/join-or-create`: a seat held for the caller
/// in a public room of the app with one free, or in a new room.
pub async fn join_or_create(
    State(state): State<Arc<AppState>>,
    ClientAddr(client): ClientAddr,
    passed_on: Option<axum::Extension<crate::listener::ForwardedClient>>,
    Path(app): Path<String>,
    body: Option<JsonBody<JoinOrCreateBody>>,
) -> Result<axum::response::Response, ApiError> {
    let app = app_name(&app)?;
    let filters = body.map(|JsonBody(b)| b.filters).unwrap_or_default();
    let spec = room_spec(&state, app.clone(), None).await?;
    // In a cluster, a seat in another server's room beats a new room here
    // (never passed on twice: the other server's rooms are its own).
    if let Some(node) = &state.cluster
        && passed_on.is_none()
        && !state.rooms.has_open_room(&spec, &filters)
        && let Some(room) = state.rooms.open_room_elsewhere(app.as_str(), &filters)
        && let Some(owner) = node.cluster_owner(app.as_str(), &room).await
        && owner.node != node.id()
    {
        let path = format!("/api/apps/{app}/rooms/join-or-create");
        let body = serde_json::json!({ "filters": filters });
        match crate::cluster::proxy::post_json(node, &owner.internal_url, &path, client, &body)
            .await
        {
            Ok(answer) => return Ok(answer),
            Err(e) => {
                tracing::warn!(error = %e, node = %owner.node, "join-or-create on another server failed; making a room here")
            }
        }
    }
    let reservation = state.rooms.join_or_create(spec, filters, client).await?;
    let (room, seat) = (reservation.room, reservation.token);
    Ok(Json(ReservationJson {
        join: format!("/apps/{app}/rooms/{room}?seat={seat}"),
        expires: rfc3339(reservation.expires_ms),
        room,
        seat,
    })
    .into_response())
}
