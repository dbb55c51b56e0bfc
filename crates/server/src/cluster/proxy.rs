//! Requests about one room (`/api/apps/APP/rooms/ROOM/…`: invites, the
//! password's admission, start, host, whoami, stop; and the room list
//! following one room, `?room=ROOM`) answered by the server that runs the
//! room: the room's settings, seats and host live there. Another server
//! passes such a request on, with the caller's address, and streams the
//! answer back (a followed room's live feed too).

use super::ClusterNode;
use super::forward::SECRET_HEADER;
use crate::AppState;
use crate::error::ApiError;
use crate::listener::{ClientAddr, ForwardedClient};
use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{HeaderName, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use futures::TryStreamExt;
use std::net::IpAddr;
use std::sync::Arc;

/// The header carrying the caller's address on a passed-on request.
const CLIENT_HEADER: &str = "x-lodge-client";
/// The most body a passed-on request carries (room requests are small JSON).
const MAX_BODY: usize = 64 * 1024;
/// Request headers passed on to the room's server.
const PASSED: [&str; 5] = [
    "authorization",
    "cookie",
    "content-type",
    "accept",
    "origin",
];
/// Answer headers passed back.
const RETURNED: [&str; 4] = [
    "content-type",
    "retry-after",
    "cache-control",
    "www-authenticate",
];

/// The room a request is about: `/api/apps/APP/rooms/ROOM[/…]`, or the
/// list of APP's rooms following one (`?room=ROOM`).
fn room_of(request: &Request) -> Option<(String, String)> {
    // Under `/api`, the nested router sees the path without it.
    let path = request.uri().path();
    let rest = path
        .strip_prefix("/api/apps/")
        .or_else(|| path.strip_prefix("/apps/"))?;
    let mut parts = rest.split('/');
    let app = parts.next()?.to_owned();
    if parts.next()? != "rooms" {
        return None;
    }
    match parts.next() {
        Some(room) if !room.is_empty() && room != "join-or-create" => Some((app, room.to_owned())),
        Some(_) => None,
        None => {
            let query = request.uri().query()?;
            let room = url::form_urlencoded::parse(query.as_bytes())
                .find(|(key, _)| key == "room")?
                .1
                .into_owned();
            Some((app, room))
        }
    }
}

/// Middleware over the API: passes requests about a room that runs on
/// another server to it; takes passed-on requests (with the cluster's
/// secret) as the caller's own.
pub(crate) async fn to_owner(
    State(state): State<Arc<AppState>>,
    ClientAddr(client): ClientAddr,
    mut request: Request,
    next: Next,
) -> Response {
    let Some(node) = state.cluster.clone() else {
        return next.run(request).await;
    };
    if let Some(client) = passed_on(&node, &request) {
        request.extensions_mut().insert(ForwardedClient(client));
        return next.run(request).await;
    }
    let Some((app, room)) = room_of(&request) else {
        return next.run(request).await;
    };
    if state.rooms.is_live(&app, &room) {
        return next.run(request).await;
    }
    let owner = match node.cluster_owner(&app, &room).await {
        Some(owner) if owner.node != node.id() => owner,
        _ => return next.run(request).await,
    };
    match pass_on(&node, &owner.internal_url, client, request).await {
        Ok(response) => response,
        Err(e) => {
            tracing::warn!(error = %e, node = %owner.node, app, room, "passing a room request on failed");
            ApiError::new(
                StatusCode::SERVICE_UNAVAILABLE,
                "room_server_unavailable",
                "the server running this room can't be reached; try again in a moment",
            )
            .with_header(
                axum::http::header::RETRY_AFTER,
                axum::http::HeaderValue::from_static("2"),
            )
            .into_response()
        }
    }
}

/// The caller of a request another server passed on, if it carries the
/// cluster's secret.
fn passed_on(node: &ClusterNode, request: &Request) -> Option<IpAddr> {
    let secret = request.headers().get(SECRET_HEADER)?;
    if !node.is_secret(secret.as_bytes()) {
        return None;
    }
    request
        .headers()
        .get(CLIENT_HEADER)?
        .to_str()
        .ok()?
        .parse()
        .ok()
}

/// Sends `request` to the server at `internal_url` and streams its answer.
async fn pass_on(
    node: &ClusterNode,
    internal_url: &str,
    client: IpAddr,
    request: Request,
) -> anyhow::Result<Response> {
    let (parts, body) = request.into_parts();
    // The whole path (the nested router's own lacks `/api`).
    let uri = parts
        .extensions
        .get::<axum::extract::OriginalUri>()
        .map_or(&parts.uri, |original| &original.0);
    let path = uri.path_and_query().map_or(uri.path(), |p| p.as_str());
    let url = format!("{}{path}", internal_url.trim_end_matches('/'));
    let body = axum::body::to_bytes(body, MAX_BODY).await?;
    let mut outgoing = node
        .http
        .request(parts.method.clone(), url)
        .header(SECRET_HEADER, node.secret.as_str())
        .header(CLIENT_HEADER, client.to_string())
        .body(body);
    for name in PASSED {
        if let Some(value) = parts.headers.get(name) {
            outgoing = outgoing.header(name, value);
        }
    }
    let answer = outgoing.send().await?;
    let mut response = Response::builder().status(answer.status().as_u16());
    for name in RETURNED {
        if let Some(value) = answer.headers().get(name) {
            response = response.header(HeaderName::from_static(name), value.as_bytes());
        }
    }
    let stream = answer.bytes_stream().map_err(std::io::Error::other);
    Ok(response.body(Body::from_stream(stream))?)
}

/// POSTs `body` to `path` on the server at `internal_url` on behalf of
/// `client`, and returns its answer as this server's.
pub(crate) async fn post_json(
    node: &ClusterNode,
    internal_url: &str,
    path: &str,
    client: IpAddr,
    body: &serde_json::Value,
) -> anyhow::Result<Response> {
    let answer = node
        .http
        .post(format!("{}{path}", internal_url.trim_end_matches('/')))
        .header(SECRET_HEADER, node.secret.as_str())
        .header(CLIENT_HEADER, client.to_string())
        .json(body)
        .send()
        .await?;
    let status = answer.status().as_u16();
    let content_type = answer.headers().get("content-type").cloned();
    let bytes = answer.bytes().await?;
    let mut response = Response::builder().status(status);
    if let Some(content_type) = content_type {
        response = response.header("content-type", content_type.as_bytes());
    }
    Ok(response.body(Body::from(bytes))?)
}
