//! Rooms other servers of the cluster run, as this server's room lists,
//! live feeds and `presence` show them beside its own. The cluster glue
//! (the server's) keeps them: it publishes this server's rooms
//! ([`Rooms::owned_rooms`], [`Rooms::changed_rooms`]) and records the
//! others' ([`Rooms::set_remote`], [`Rooms::replace_remote`]).

use super::{RoomChange, RoomInfo, Rooms};
use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use std::sync::Arc;
use tokio::sync::broadcast;

/// A room's listing as servers share it: the listing and when the room
/// started (which the listing alone doesn't carry).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SharedRoom {
    pub started_ms: i64,
    #[serde(flatten)]
    pub info: RoomInfo,
}

impl SharedRoom {
    pub fn new(info: RoomInfo) -> Self {
        Self {
            started_ms: info.started_ms,
            info,
        }
    }

    /// The listing, with its start time back in place.
    pub fn into_info(self) -> RoomInfo {
        RoomInfo {
            started_ms: self.started_ms,
            ..self.info
        }
    }
}

/// The other servers' rooms, by (app, room).
pub(crate) type Remote = HashMap<(String, String), RoomInfo>;

/// What changed between two listings of a room, as the feed names it.
fn what_changed(before: Option<&RoomInfo>, after: Option<&RoomInfo>) -> Vec<&'static str> {
    match (before, after) {
        (None, None) => Vec::new(),
        (None, Some(_)) => vec!["opened"],
        (Some(_), None) => vec!["closed"],
        (Some(a), Some(b)) => {
            let mut what = Vec::new();
            if a.members != b.members
                || a.roster != b.roster
                || a.seats_reserved != b.seats_reserved
            {
                what.push("members");
            }
            if a.phase != b.phase {
                what.push("phase");
            }
            if a.host != b.host {
                what.push("host");
            }
            if a.metadata != b.metadata {
                what.push("metadata");
            }
            what
        }
    }
}

impl Rooms {
    /// Records room `room` of `app` as running on another server
    /// (`Some`), or no longer (`None`); the live feed hears what changed.
    pub fn set_remote(&self, app: &str, room: &str, info: Option<RoomInfo>) {
        let key = (app.to_owned(), room.to_owned());
        let before = {
            let mut remote = self.inner.remote.lock().expect("remote rooms lock");
            match &info {
                Some(info) => remote.insert(key, info.clone()),
                None => remote.remove(&key),
            }
        };
        self.emit_remote(app, room, before.as_ref(), info.as_ref());
    }

    /// Replaces every remote room with `rooms` (a resync), telling the feed
    /// of each difference.
    pub fn replace_remote(&self, rooms: Vec<(String, String, RoomInfo)>) {
        let fresh: Remote = rooms
            .into_iter()
            .map(|(app, room, info)| ((app, room), info))
            .collect();
        let before = std::mem::replace(
            &mut *self.inner.remote.lock().expect("remote rooms lock"),
            fresh.clone(),
        );
        for ((app, room), info) in &fresh {
            self.emit_remote(
                app,
                room,
                before.get(&(app.clone(), room.clone())),
                Some(info),
            );
        }
        for ((app, room), info) in &before {
            if !fresh.contains_key(&(app.clone(), room.clone())) {
                self.emit_remote(app, room, Some(info), None);
            }
        }
    }

    fn emit_remote(
        &self,
        app: &str,
        room: &str,
        before: Option<&RoomInfo>,
        after: Option<&RoomInfo>,
    ) {
        let what = what_changed(before, after);
        if what.is_empty() {
            return;
        }
        let visibility = after
            .or(before)
            .map(|info| info.visibility)
            .unwrap_or_default();
        self.inner.changes.emit(app, room, visibility, &what, after);
    }

    /// The fullest public room of `app` on another server that has a free
    /// player seat, no password, takes players now and has every filter (as
    /// its server last published it): where join-or-create should go when
    /// no room here has a seat.
    pub fn open_room_elsewhere(&self, app: &str, filters: &super::Metadata) -> Option<String> {
        let remote = self.inner.remote.lock().expect("remote rooms lock");
        remote
            .iter()
            .filter(|((a, _), info)| {
                a == app
                    && info.visibility == lodge_manifest::RoomVisibility::Public
                    && !info.password
                    && info.takes_players()
                    && info.players + info.seats_reserved < info.max_members as usize
                    && filters
                        .iter()
                        .all(|(key, value)| info.metadata.get(key) == Some(value))
            })
            .min_by_key(|((_, name), info)| {
                (
                    info.max_members as usize - info.players - info.seats_reserved,
                    name.clone(),
                )
            })
            .map(|((_, name), _)| name.clone())
    }

    /// This server's live rooms with the fence each runs under (rooms
    /// without one, on one server, are left out): what it publishes.
    pub fn owned_rooms(&self) -> Vec<(String, String, i64, RoomInfo)> {
        let live = self.inner.live.lock().expect("rooms lock");
        let now = std::time::Instant::now();
        live.iter()
            .filter_map(|((app, name), room)| {
                Some((app.clone(), name.clone(), room.fence?, room.info(name, now)))
            })
            .collect()
    }

    /// One live room's listing and fence, if it runs here.
    pub fn owned_room(&self, app: &str, room: &str) -> Option<(i64, RoomInfo)> {
        let live = self.inner.live.lock().expect("rooms lock");
        let entry = live.get(&(app.to_owned(), room.to_owned()))?;
        Some((entry.fence?, entry.info(room, std::time::Instant::now())))
    }

    /// Every change to a room on this server (and to remote rooms this
    /// server recorded), as it happens.
    pub fn changed_rooms(&self) -> broadcast::Receiver<Arc<RoomChange>> {
        self.inner.changes.subscribe(|| ()).0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_shared_listing_reads_back_as_it_was() {
        let info = RoomInfo {
            name: "den".into(),
            version: "1.0.0".into(),
            members: 1,
            players: 1,
            spectators: 0,
            started_ms: 1_700_000_000_000,
            visibility: Default::default(),
            max_members: 4,
            max_spectators: 0,
            seats_reserved: 0,
            phase: Default::default(),
            start: Default::default(),
            late_join: Default::default(),
            password: false,
            host: Some("ann".into()),
            host_id: Some(1),
            metadata: Default::default(),
            roster: vec![crate::rooms::ListedMember {
                id: 1,
                name: "ann".into(),
                role: crate::rooms::MemberRole::Player,
                connected: true,
            }],
        };
        let json = serde_json::to_value(SharedRoom::new(info.clone())).unwrap();
        let back: SharedRoom =
            serde_json::from_value(json.clone()).unwrap_or_else(|e| panic!("{e}: {json}"));
        assert_eq!(back.into_info(), info);
    }
}
