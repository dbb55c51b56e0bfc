//! What an operator asks of the cluster: `/readyz` (is this server taking
//! rooms: not while it stops or is out of the cluster) and
//! `GET /api/cluster` (every server with its rooms, members and lease
//! ages; `lodge cluster status` prints it).

use crate::AppState;
use crate::accounts::caller::Caller;
use crate::error::ApiError;
use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use lodge_store::cluster::{Cluster, ClusterError};
use serde_json::json;
use std::sync::Arc;

/// `GET /readyz`: 200 while this server takes new rooms and members; 503
/// while it stops (SIGTERM) or is out of the cluster, so a load balancer
/// sends no one new to it.
pub(crate) async fn readyz(State(state): State<Arc<AppState>>) -> Response {
    let (ready, why) = match &state.cluster {
        None => (true, None),
        Some(node) if node.ready() => (true, None),
        Some(_) => (false, Some("stopping, or out of the cluster")),
    };
    let status = if ready {
        StatusCode::OK
    } else {
        StatusCode::SERVICE_UNAVAILABLE
    };
    let body = json!({
        "status": if ready { "ready" } else { "unready" },
        "why": why,
        "node": state.cluster.as_ref().map(|node| node.id()),
    });
    (status, Json(body)).into_response()
}

/// `GET /api/cluster` (an admin): the servers, their rooms and lease ages.
pub(crate) async fn show(
    State(state): State<Arc<AppState>>,
    caller: Caller,
) -> Result<Json<serde_json::Value>, ApiError> {
    caller.require_admin()?;
    let Some(node) = &state.cluster else {
        let (rooms, members) = state.rooms.counts();
        return Ok(Json(json!({
            "cluster": false,
            "this": null,
            "nodes": [],
            "rooms": [],
            "local": { "rooms": rooms, "members": members },
        })));
    };
    let failed = |e: ClusterError| match e {
        ClusterError::Store(e) => ApiError::from(e),
        e => ApiError::internal(e.to_string()),
    };
    let nodes = node.cluster().nodes().await.map_err(failed)?;
    let rooms = node.cluster().rooms(None).await.map_err(failed)?;
    Ok(Json(json!({
        "cluster": true,
        "this": node.id(),
        "nodes": nodes,
        "rooms": rooms,
    })))
}
