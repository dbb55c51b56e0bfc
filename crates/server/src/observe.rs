//! Seeing what runs: app logs, Prometheus metrics, stopping rooms. (The
//! room list is `room_list`.)
//!
//! Logs carry member names and whatever the app writes, so they are for
//! the app's collaborators (and admins) with the `rooms` scope.

use crate::AppState;
use crate::accounts::caller::Caller;
use crate::accounts::scopes::Scope;
use crate::api::app_name;
use crate::error::ApiError;
use axum::Json;
use axum::body::Body;
use axum::extract::{Path, Query, State};
use axum::http::header;
use axum::response::{IntoResponse, Response};
use futures::StreamExt;
use lodge_manifest::AppName;
use lodge_store::AppRole;
use serde::Deserialize;
use std::sync::Arc;

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
pub(crate) async fn may_watch(
    state: &AppState,
    caller: &Caller,
    app: &AppName,
) -> Result<(), ApiError> {
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
    let code = lodge_runtime::rooms::close::GOING_AWAY;
    let stopped_here = state
        .rooms
        .stop_room(app.as_str(), &room, code, &reason)
        .await;
    // In a cluster the room may run on another server: stop it there.
    let elsewhere = match (&state.cluster, stopped_here) {
        (Some(node), false) => node.owner_of(app.as_str(), &room).await.is_some(),
        _ => false,
    };
    if elsewhere {
        state
            .announce(lodge_store::cluster::ClusterEvent::RoomStop {
                app: app.to_string(),
                room: Some(room.clone()),
                code,
                reason,
            })
            .await;
    } else if !stopped_here {
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
