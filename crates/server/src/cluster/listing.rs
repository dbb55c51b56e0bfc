//! Room lists across the cluster: this server publishes its rooms'
//! listings (a row per room, `cluster_rooms.info`, written at most every
//! [`FLUSH`] per room, then one event naming the rooms that changed), and
//! records the other servers' (re-read on their events, and all of them at
//! every resync), so the room list, its live feed and `presence` show every
//! server's rooms wherever they are asked.

use super::ClusterNode;
use crate::AppState;
use lodge_runtime::rooms::SharedRoom;
use lodge_store::cluster::{Cluster, ClusterEvent};
use std::collections::{BTreeSet, HashMap};
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::broadcast::error::RecvError;

/// How often changed listings are written and announced.
const FLUSH: Duration = Duration::from_millis(250);
/// Rooms one event names (a notification carries at most 8000 bytes).
const ROOMS_PER_EVENT: usize = 40;

/// Publishes this server's room listings for as long as it runs.
pub(crate) async fn publish(state: Arc<AppState>, node: Arc<ClusterNode>) {
    let mut changes = state.rooms.changed_rooms();
    // The rooms this server published, with their fences: a room that
    // closes here is given up and announced.
    let mut published: HashMap<(String, String), i64> = HashMap::new();
    let mut dirty: BTreeSet<(String, String)> = BTreeSet::new();
    let mut flush = tokio::time::interval(FLUSH);
    loop {
        tokio::select! {
            change = changes.recv() => match change {
                Ok(change) => {
                    dirty.insert((change.app.clone(), change.room.clone()));
                }
                Err(RecvError::Lagged(_)) => {
                    for (app, room, _, _) in state.rooms.owned_rooms() {
                        dirty.insert((app, room));
                    }
                    dirty.extend(published.keys().cloned());
                }
                Err(RecvError::Closed) => return,
            },
            _ = flush.tick() => {
                if dirty.is_empty() {
                    continue;
                }
                let rooms = std::mem::take(&mut dirty);
                let announced = write(&state, &node, &mut published, rooms).await;
                for chunk in announced.chunks(ROOMS_PER_EVENT) {
                    state
                        .announce(ClusterEvent::RoomsChanged {
                            node: node.id().to_owned(),
                            rooms: chunk.to_vec(),
                        })
                        .await;
                }
            }
        }
    }
}

/// Writes the listings of `rooms` that run here (and gives up those that
/// closed); returns the rooms to announce.
async fn write(
    state: &AppState,
    node: &ClusterNode,
    published: &mut HashMap<(String, String), i64>,
    rooms: BTreeSet<(String, String)>,
) -> Vec<(String, String)> {
    let mut announced = Vec::new();
    for (app, room) in rooms {
        match state.rooms.owned_room(&app, &room) {
            Some((fence, info)) => {
                let json = serde_json::to_value(SharedRoom::new(info)).unwrap_or_default();
                if let Err(e) = node.cluster().publish_info(&app, &room, fence, &json).await {
                    tracing::debug!(error = %e, app, room, "could not publish a room's listing");
                    continue;
                }
                published.insert((app.clone(), room.clone()), fence);
                announced.push((app, room));
            }
            None => {
                // Closed here (or a remote room's change, which isn't ours
                // to announce).
                if let Some(fence) = published.remove(&(app.clone(), room.clone())) {
                    let _ = node.cluster().release(&app, &room, fence).await;
                    announced.push((app, room));
                }
            }
        }
    }
    announced
}

/// Re-reads the listings of rooms another server announced.
pub(crate) async fn changed(
    state: &AppState,
    node: &ClusterNode,
    from: &str,
    rooms: &[(String, String)],
) {
    if from == node.id() {
        return;
    }
    tracing::debug!(from, ?rooms, "rooms changed on another server");
    let apps: BTreeSet<&str> = rooms.iter().map(|(app, _)| app.as_str()).collect();
    for app in apps {
        let leases = match node.cluster().rooms(Some(app)).await {
            Ok(leases) => leases,
            Err(e) => {
                tracing::debug!(error = %e, app, "could not read the cluster's rooms");
                continue;
            }
        };
        for (_, room) in rooms.iter().filter(|(a, _)| a == app) {
            let info = leases
                .iter()
                .find(|lease| lease.room == *room && lease.owner_alive && lease.node != node.id())
                .and_then(|lease| lease.info.clone())
                .and_then(|json| serde_json::from_value::<SharedRoom>(json).ok())
                .map(SharedRoom::into_info);
            if !state.rooms.is_live(app, room) {
                tracing::debug!(
                    app,
                    room,
                    listed = info.is_some(),
                    "a room of another server"
                );
                state.rooms.set_remote(app, room, info);
            }
        }
    }
}

/// Re-reads every other server's rooms (a resync).
pub(crate) async fn resync(state: &AppState, node: &ClusterNode) {
    let leases = match node.cluster().rooms(None).await {
        Ok(leases) => leases,
        Err(e) => {
            tracing::debug!(error = %e, "could not read the cluster's rooms");
            return;
        }
    };
    let remote = leases
        .into_iter()
        .filter(|lease| lease.owner_alive && lease.node != node.id())
        .filter_map(|lease| {
            let shared: SharedRoom = serde_json::from_value(lease.info?).ok()?;
            Some((lease.app, lease.room, shared.into_info()))
        })
        .collect();
    state.rooms.replace_remote(remote);
}
