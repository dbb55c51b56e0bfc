//! The feed behind live room lists: every change to a live room (opened,
//! members, phase, host, metadata, closed) as one event, numbered in the
//! order they happened, and serialized once however many watch.

use super::RoomInfo;
use lodge_manifest::RoomVisibility;
use std::sync::{Arc, Mutex};
use tokio::sync::broadcast;

/// Changes kept for watchers that fall behind; past that they get a fresh
/// snapshot instead.
const BACKLOG: usize = 1024;

/// One change to one room, as watchers receive it.
#[derive(Debug)]
pub struct RoomChange {
    pub app: String,
    pub room: String,
    /// Who may see it: the room's visibility.
    pub visibility: RoomVisibility,
    /// The event as JSON: `{"seq", "name", "what", "room"}`, where `what`
    /// lists what changed (`opened`, `members`, `phase`, `host`,
    /// `metadata`, `closed`) and `room` is the room now (absent once closed).
    pub json: Arc<str>,
}

#[derive(serde::Serialize)]
struct ChangeJson<'a> {
    seq: u64,
    name: &'a str,
    what: &'a [&'static str],
    #[serde(skip_serializing_if = "Option::is_none")]
    room: Option<&'a RoomInfo>,
}

/// Where room changes are published, in one order.
pub(crate) struct Changes {
    /// The last change's number; taken with the send, so numbers and
    /// delivery agree.
    seq: Mutex<u64>,
    tx: broadcast::Sender<Arc<RoomChange>>,
}

impl Changes {
    pub(crate) fn new() -> Self {
        Self {
            seq: Mutex::new(0),
            tx: broadcast::channel(BACKLOG).0,
        }
    }

    /// Publishes that `what` changed in `room` of `app` (now `info`, or
    /// closed).
    pub(crate) fn emit(
        &self,
        app: &str,
        room: &str,
        visibility: RoomVisibility,
        what: &[&'static str],
        info: Option<&RoomInfo>,
    ) {
        let mut seq = self.seq.lock().expect("changes lock");
        *seq += 1;
        let json = serde_json::to_string(&ChangeJson {
            seq: *seq,
            name: room,
            what,
            room: info,
        })
        .expect("a change serializes");
        // Nobody watching is fine.
        let _ = self.tx.send(Arc::new(RoomChange {
            app: app.to_owned(),
            room: room.to_owned(),
            visibility,
            json: json.into(),
        }));
    }

    /// A new watcher's feed, and the number of the last change before it
    /// (its snapshot, read by `snapshot` under the same lock, is at least
    /// that recent).
    pub(crate) fn subscribe<T>(
        &self,
        snapshot: impl FnOnce() -> T,
    ) -> (broadcast::Receiver<Arc<RoomChange>>, u64, T) {
        let seq = self.seq.lock().expect("changes lock");
        let rx = self.tx.subscribe();
        (rx, *seq, snapshot())
    }
}
