//! Rooms made on request: `POST /api/apps/{app}/rooms` creates one (named,
//! or with a generated code), `POST /api/apps/{app}/rooms/join-or-create`
//! reserves a seat in an open public room, starting one when none has a
//! seat. Open to anyone, players included: the room limits and the
//! per-address start rate bound what a caller can start.

use crate::AppState;
use crate::api::{app_name, rfc3339};
use crate::error::ApiError;
use crate::gateway::{invalid_room, room_spec};
use crate::json::JsonBody;
use crate::listener::ClientAddr;
use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use lodge_runtime::rooms::{NewRoom, valid_room_name};
use serde::{Deserialize, Serialize};
use std::sync::Arc;

/// `POST /api/apps/{app}/rooms`'s body; every field may be left out (and
/// so may the body).
#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct CreateBody {
    /// The room's name; without it, a generated code like `7KQ2-M9XD`.
    name: Option<String>,
    /// Fewer members than the app's `[room].max-members`.
    max_members: Option<u32>,
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
    let created = state
        .rooms
        .create(
            spec,
            NewRoom {
                name: body.name,
                max_members: body.max_members,
            },
            client,
        )
        .await?;
    let room = created.room;
    Ok((
        StatusCode::CREATED,
        Json(CreatedJson {
            join: format!("/apps/{app}/rooms/{room}"),
            play: format!("/play/{app}/{room}"),
            app: app.to_string(),
            room,
            version,
            max_members: created.max_members,
        }),
    ))
}

/// `POST /api/apps/{app}/rooms/join-or-create`'s body: nothing yet (room
/// filters come later), so `{}` or no body.
#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct JoinOrCreateBody {}

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
    Path(app): Path<String>,
    _body: Option<JsonBody<JoinOrCreateBody>>,
) -> Result<Json<ReservationJson>, ApiError> {
    let app = app_name(&app)?;
    let spec = room_spec(&state, app.clone(), None).await?;
    let reservation = state.rooms.join_or_create(spec, client).await?;
    let (room, seat) = (reservation.room, reservation.token);
    Ok(Json(ReservationJson {
        join: format!("/apps/{app}/rooms/{room}?seat={seat}"),
        expires: rfc3339(reservation.expires_ms),
        room,
        seat,
    }))
}
