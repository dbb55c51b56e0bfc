//! `GET /api/apps/{app}/rooms`: an app's live rooms, as a list or, asked
//! with `Accept: text/event-stream`, live: a snapshot, then one event per
//! change (opened, members, phase, host, metadata, closed), in order.
//!
//! A room's name is what lets people join it, so everyone sees the public
//! rooms and the app's collaborators (and admins, with the `rooms` scope)
//! see every room. `?room=NAME` narrows the list to one room, which anyone
//! knowing the name of an unlisted room may watch; an invite-only or
//! password room only a member (`resume=`) or invite holder (`invite=`).

use crate::AppState;
use crate::accounts::caller::MaybeCaller;
use crate::api::{app_name, rfc3339};
use crate::error::ApiError;
use crate::observe::may_watch;
use axum::Json;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use lodge_manifest::RoomVisibility;
use lodge_runtime::rooms::{Command, RoomChange, RoomInfo};
use serde::{Deserialize, Serialize};
use std::convert::Infallible;
use std::sync::Arc;
use tokio::sync::broadcast::error::RecvError;

/// A live room in the list: what [`RoomInfo`] says, and when it started.
#[derive(Serialize)]
pub struct RoomJson {
    #[serde(flatten)]
    pub info: RoomInfo,
    pub started: String,
}

impl From<RoomInfo> for RoomJson {
    fn from(info: RoomInfo) -> Self {
        Self {
            started: rfc3339(info.started_ms),
            info,
        }
    }
}

#[derive(Serialize)]
pub struct RoomList {
    pub app: String,
    pub rooms: Vec<RoomJson>,
    /// The number of the last change the list includes (the live form's
    /// events carry the next ones).
    pub seq: u64,
}

#[derive(Deserialize, Default)]
pub struct ListQuery {
    /// Only this room.
    room: Option<String>,
    /// A member's resume token (for an invite-only or password room).
    resume: Option<String>,
    /// An invite into the room.
    invite: Option<String>,
}

/// Which rooms a caller may see in the list.
#[derive(Clone)]
struct Sight {
    /// Every room of the app (a collaborator).
    everything: bool,
    /// Only this room, seen whatever its visibility.
    room: Option<String>,
}

impl Sight {
    fn sees(&self, name: &str, visibility: RoomVisibility) -> bool {
        match &self.room {
            Some(room) => room == name,
            None => self.everything || visibility == RoomVisibility::Public,
        }
    }

    /// The rooms of `app` this caller sees, as of change `seq`.
    fn list(&self, app: &str, rooms: Vec<RoomInfo>, seq: u64) -> RoomList {
        RoomList {
            app: app.to_owned(),
            rooms: rooms
                .into_iter()
                .filter(|r| self.sees(&r.name, r.visibility))
                .map(RoomJson::from)
                .collect(),
            seq,
        }
    }
}

/// Works out what the caller may see: one room they can show they may
/// enter, or the list their role allows.
async fn sight(
    state: &AppState,
    caller: MaybeCaller,
    app: &lodge_manifest::AppName,
    query: &ListQuery,
) -> Result<Sight, ApiError> {
    let everything = match caller.0 {
        Some(caller) => may_watch(state, &caller, app).await.is_ok(),
        None => false,
    };
    let Some(room) = &query.room else {
        return Ok(Sight {
            everything,
            room: None,
        });
    };
    let closed_door = state
        .rooms
        .settings(app.as_str(), room)
        .is_some_and(|s| s.needs_admission());
    if closed_door && !everything {
        let as_member = match &query.resume {
            Some(token) if crate::room_access::valid_resume_token(token) => state
                .rooms
                .command(app.as_str(), room, token, Command::Identify)
                .await
                .is_ok(),
            _ => false,
        };
        let invited = query
            .invite
            .as_deref()
            .is_some_and(|token| state.invites.verify(token, app.as_str(), room).is_ok());
        if !(as_member || invited) {
            return Err(ApiError::new(
                StatusCode::FORBIDDEN,
                "room_not_visible",
                format!(
                    "room {room} is invite-only or has a password: watch it as a member (resume=) or with an invite (invite=)"
                ),
            ));
        }
    }
    Ok(Sight {
        everything,
        room: Some(room.clone()),
    })
}

/// `GET /api/apps/{app}/rooms`, as a list or (`Accept: text/event-stream`)
/// live. A wrong token is refused rather than treated as none, so a client
/// learns its token is wrong.
pub async fn list_rooms(
    State(state): State<Arc<AppState>>,
    caller: MaybeCaller,
    Path(app): Path<String>,
    Query(query): Query<ListQuery>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let app = app_name(&app)?;
    state.apps.resolve(&app, None, None).await?;
    let sight = sight(&state, caller, &app, &query).await?;
    let (feed, seq, rooms) = state.rooms.watch(app.as_str());
    let list = sight.list(app.as_str(), rooms, seq);
    let live = headers
        .get(header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|accept| accept.contains("text/event-stream"));
    if !live {
        return Ok(Json(list).into_response());
    }
    Ok(live_list(state, app.to_string(), sight, list, feed).into_response())
}

/// The snapshot, then the app's changes the caller may see; a watcher that
/// fell behind gets a fresh snapshot instead of the changes it missed.
fn live_list(
    state: Arc<AppState>,
    app: String,
    sight: Sight,
    first: RoomList,
    feed: tokio::sync::broadcast::Receiver<Arc<RoomChange>>,
) -> Sse<impl futures::Stream<Item = Result<Event, Infallible>>> {
    let snapshot = |list: &RoomList| {
        Event::default()
            .event("snapshot")
            .json_data(list)
            .expect("a room list serializes")
    };
    let first = snapshot(&first);
    let changes = futures::stream::unfold(feed, move |mut feed| {
        let (state, app, sight) = (state.clone(), app.clone(), sight.clone());
        async move {
            loop {
                match feed.recv().await {
                    Ok(change)
                        if change.app == app && sight.sees(&change.room, change.visibility) =>
                    {
                        let event = Event::default().event("change").data(&*change.json);
                        return Some((Ok(event), feed));
                    }
                    Ok(_) => {}
                    Err(RecvError::Lagged(_)) => {
                        let (fresh, seq, rooms) = state.rooms.watch(&app);
                        let list = sight.list(&app, rooms, seq);
                        return Some((Ok(snapshot(&list)), fresh));
                    }
                    Err(RecvError::Closed) => return None,
                }
            }
        }
    });
    let stream =
        futures::stream::StreamExt::chain(futures::stream::once(async move { Ok(first) }), changes);
    Sse::new(stream).keep_alive(KeepAlive::default())
}
