//! Seeing what runs: live rooms, app logs and Prometheus metrics.
//!
//! A room's name is what lets people join it, and logs carry member names
//! and whatever the app writes, so: logs are for the app's collaborators
//! (and admins) with the `rooms` scope; the room list shows everyone the
//! rooms an app marks public (`[room].visibility`), and shows them every room.

use crate::AppState;
use crate::accounts::caller::{Caller, MaybeCaller};
use crate::accounts::scopes::Scope;
use crate::api::{app_name, rfc3339};
use crate::error::ApiError;
use axum::Json;
use axum::body::Body;
use axum::extract::{Path, Query, State};
use axum::http::header;
use axum::response::{IntoResponse, Response};
use futures::StreamExt;
use lodge_manifest::{AppName, RoomVisibility};
use lodge_runtime::rooms::RoomInfo;
use lodge_store::AppRole;
use serde::{Deserialize, Serialize};
use std::sync::Arc;

/// A live room in the list: what [`RoomInfo`] says, and when it started.
#[derive(Serialize)]
pub struct RoomJson {
    #[serde(flatten)]
    pub info: RoomInfo,
    pub started: String,
}

#[derive(Serialize)]
pub struct RoomList {
    pub app: String,
    pub rooms: Vec<RoomJson>,
}

/// `GET /api/apps/{app}/rooms`: every live room for the app's
/// collaborators and admins (with the `rooms` scope), the public ones for
/// everyone else. A wrong token is refused rather than treated as none, so
/// a client learns its token is wrong.
pub async fn list_rooms(
    State(state): State<Arc<AppState>>,
    MaybeCaller(caller): MaybeCaller,
    Path(app): Path<String>,
) -> Result<Json<RoomList>, ApiError> {
    let app = app_name(&app)?;
    state.apps.resolve(&app, None, None).await?;
    let everything = match caller {
        Some(caller) => may_watch(&state, &caller, &app).await.is_ok(),
        None => false,
    };
    let rooms = state
        .rooms
        .list(app.as_str())
        .into_iter()
        .filter(|r| everything || r.visibility == RoomVisibility::Public)
        .map(|info| RoomJson {
            started: rfc3339(info.started_ms),
            info,
        })
        .collect();
    Ok(Json(RoomList {
        app: app.to_string(),
        rooms,
    }))
}

#[derive(Deserialize)]
pub struct LogQuery {
    room: Option<String>,
    #[serde(default)]
    follow: bool,
}

/// The app's log as newline-delimited JSON; with `follow=true` the response
/// stays open and streams new lines as they happen. For the app's
/// collaborators and admins, with the `rooms` scope.
pub async fn logs(
    State(state): State<Arc<AppState>>,
    caller: Caller,
    Path(app): Path<String>,
    Query(query): Query<LogQuery>,
) -> Result<Response, ApiError> {
    let app = app_name(&app)?;
    state.apps.resolve(&app, None, None).await?;
    may_watch(&state, &caller, &app).await?;
    let (lines, receiver) = state.logs.read(app.as_str(), query.room.as_deref());
    let encode = |line: &lodge_runtime::LogLine| {
        let mut text = serde_json::to_string(line).expect("log lines serialize");
        text.push('\n');
        Ok::<_, std::convert::Infallible>(text)
    };
    let past: Vec<_> = lines.iter().map(encode).collect();
    let body = if query.follow {
        let room = query.room.clone();
        let live = followed_lines(receiver).filter_map(move |line| {
            let keep = room.is_none() || line.room == room;
            async move { keep.then(|| encode(&line)) }
        });
        Body::from_stream(futures::stream::iter(past).chain(live))
    } else {
        Body::from_stream(futures::stream::iter(past))
    };
    Ok(([(header::CONTENT_TYPE, "application/x-ndjson")], body).into_response())
}

/// Whether `caller` may see all of `app`'s rooms and its logs, and stop rooms.
async fn may_watch(state: &AppState, caller: &Caller, app: &AppName) -> Result<(), ApiError> {
    caller
        .require_app_role(&state.auth, app, AppRole::Maintainer, Scope::Rooms)
        .await
}

/// `DELETE /api/apps/{app}/rooms/{room}`: stops a live room; its members
/// are told why (close 1001).
pub async fn stop_room(
    State(state): State<Arc<AppState>>,
    caller: Caller,
    Path((app, room)): Path<(String, String)>,
) -> Result<Json<serde_json::Value>, ApiError> {
    let app = app_name(&app)?;
    state.apps.resolve(&app, None, None).await?;
    may_watch(&state, &caller, &app).await?;
    let reason = format!("the room was stopped by {}", caller.account.username);
    if !state
        .rooms
        .stop_room(
            app.as_str(),
            &room,
            lodge_runtime::rooms::close::GOING_AWAY,
            &reason,
        )
        .await
    {
        return Err(ApiError::not_found(format!(
            "{app} has no live room \"{room}\""
        )));
    }
    Ok(Json(
        serde_json::json!({ "app": app.to_string(), "room": room, "stopped": true }),
    ))
}

/// `DELETE /api/apps/{app}/rooms/join-or-create`: stops the room named
/// `join-or-create` (a valid room name that the join-or-create route's
/// path would otherwise take).
pub async fn stop_join_or_create(
    state: State<Arc<AppState>>,
    caller: Caller,
    Path(app): Path<String>,
) -> Result<Json<serde_json::Value>, ApiError> {
    stop_room(state, caller, Path((app, "join-or-create".to_owned()))).await
}

/// Lines from a broadcast receiver; a follower that falls behind skips ahead.
fn followed_lines(
    receiver: tokio::sync::broadcast::Receiver<lodge_runtime::LogLine>,
) -> impl futures::Stream<Item = lodge_runtime::LogLine> {
    futures::stream::unfold(receiver, |mut receiver| async move {
        loop {
            match receiver.recv().await {
                Ok(line) => return Some((line, receiver)),
                Err(tokio::sync::broadcast::error::RecvError::Lagged(_)) => continue,
                Err(tokio::sync::broadcast::error::RecvError::Closed) => return None,
            }
        }
    })
}

pub async fn metrics(State(state): State<Arc<AppState>>) -> impl IntoResponse {
    (
        [(
            header::CONTENT_TYPE,
            "application/openmetrics-text; version=1.0.0; charset=utf-8",
        )],
        state.metrics.render(),
    )
}
