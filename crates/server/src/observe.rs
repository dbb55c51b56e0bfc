//! Seeing what runs: live rooms, app logs and Prometheus metrics.
//!
//! A room's name is what lets people join it, and logs carry member names
//! and whatever the app writes, so: logs need the API token; the room list
//! shows everyone the rooms an app marks public (`[room].visibility`), and
//! shows a caller with the token every room.

use crate::AppState;
use crate::api::{app_name, rfc3339};
use crate::error::ApiError;
use axum::Json;
use axum::body::Body;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, header};
use axum::response::{IntoResponse, Response};
use futures::StreamExt;
use lodge_manifest::RoomVisibility;
use serde::{Deserialize, Serialize};
use std::sync::Arc;

#[derive(Serialize)]
pub struct RoomJson {
    pub name: String,
    pub version: String,
    pub members: usize,
    pub started: String,
    pub visibility: RoomVisibility,
}

#[derive(Serialize)]
pub struct RoomList {
    pub app: String,
    pub rooms: Vec<RoomJson>,
}

/// `GET /api/apps/{app}/rooms`: every live room with the API token, the
/// public ones without. A wrong token is refused rather than treated as
/// none, so a client learns its token is wrong.
pub async fn list_rooms(
    State(state): State<Arc<AppState>>,
    headers: HeaderMap,
    Path(app): Path<String>,
) -> Result<Json<RoomList>, ApiError> {
    let everything = headers.contains_key(header::AUTHORIZATION);
    if everything {
        state.token.check(&headers)?;
    }
    let app = app_name(&app)?;
    state.apps.resolve(&app, None, None).await?;
    let rooms = state
        .rooms
        .list(app.as_str())
        .into_iter()
        .filter(|r| everything || r.visibility == RoomVisibility::Public)
        .map(|r| RoomJson {
            name: r.name,
            version: r.version,
            members: r.members,
            started: rfc3339(r.started_ms),
            visibility: r.visibility,
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
/// stays open and streams new lines as they happen. Needs the API token
/// (the app owner's, once there are accounts).
pub async fn logs(
    State(state): State<Arc<AppState>>,
    headers: HeaderMap,
    Path(app): Path<String>,
    Query(query): Query<LogQuery>,
) -> Result<Response, ApiError> {
    state.token.check(&headers)?;
    let app = app_name(&app)?;
    state.apps.resolve(&app, None, None).await?;
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
