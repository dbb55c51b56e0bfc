//! What the other servers did, acted on here: a publish (forget the cached
//! latest version, compile the new one ahead so a room moving here never
//! waits on the compiler, restart rooms if so configured), a delete (stop
//! the rooms that lost their version), a room stopped by an operator. The
//! channel may lose events, so every server also resyncs (on reconnecting,
//! and every [`RESYNC`]): it forgets cached versions and stops rooms whose
//! app is gone.

use crate::AppState;
use lodge_manifest::AppName;
use lodge_runtime::rooms::close;
use lodge_store::cluster::ClusterEvent;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::broadcast::error::RecvError;

/// How often a server resyncs even when no event says to.
pub(crate) const RESYNC: Duration = Duration::from_secs(10);

impl AppState {
    /// Tells every server (this one too) what this server just did; on one
    /// server, nothing to tell.
    pub(crate) async fn announce(&self, event: ClusterEvent) {
        if let Some(node) = &self.cluster
            && let Err(e) = node.bus.send(&event).await
        {
            // The others catch up at their next resync.
            tracing::warn!(error = %e, ?event, "could not tell the cluster");
        }
    }
}

/// Acts on cluster events for as long as the server runs.
pub(crate) async fn follow(state: Arc<AppState>) {
    let Some(node) = state.cluster.clone() else {
        return;
    };
    let mut events = node.bus.subscribe();
    tokio::spawn(super::listing::publish(state.clone(), node.clone()));
    // Every app's latest version compiled here before a room moves here.
    let warm = state.clone();
    tokio::spawn(async move {
        let Ok(apps) = warm.apps.registry.list_apps().await else {
            return;
        };
        for app in apps {
            prepare(warm.clone(), app.name).await;
        }
    });
    let mut resync = tokio::time::interval(RESYNC);
    resync.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        let event = tokio::select! {
            _ = resync.tick() => ClusterEvent::Resync,
            received = events.recv() => match received {
                Ok(event) => event,
                Err(RecvError::Lagged(_)) => ClusterEvent::Resync,
                Err(RecvError::Closed) => return,
            },
        };
        act(&state, event).await;
    }
}

async fn act(state: &Arc<AppState>, event: ClusterEvent) {
    match event {
        ClusterEvent::Published { app, version } => {
            state.apps.forget_latest();
            let Ok(name) = AppName::new(&app) else { return };
            if state.restart_rooms_on_publish {
                state
                    .rooms
                    .stop(
                        &app,
                        None,
                        close::RESTART,
                        &format!("{app}@{version} was published: rejoin to run it"),
                    )
                    .await;
            }
            tokio::spawn(prepare(state.clone(), name));
        }
        ClusterEvent::Deleted { app } => {
            state.apps.forget_latest();
            stop_rooms_without_a_version(state, &app).await;
        }
        ClusterEvent::RoomStop {
            app,
            room,
            code,
            reason,
        } => match room {
            Some(room) => {
                state.rooms.stop_room(&app, &room, code, &reason).await;
            }
            None => state.rooms.stop(&app, None, code, &reason).await,
        },
        ClusterEvent::RoomsChanged { node: from, rooms } => {
            if let Some(node) = &state.cluster {
                super::listing::changed(state, node, &from, &rooms).await;
            }
        }
        ClusterEvent::Resync => {
            state.apps.forget_latest();
            if let Some(node) = &state.cluster {
                super::listing::resync(state, node).await;
            }
            for app in state.rooms.apps() {
                stop_rooms_without_a_version(state, &app).await;
            }
        }
    }
}

/// Stops the rooms here of `app` whose version no longer exists (all of
/// them when the app is gone).
async fn stop_rooms_without_a_version(state: &AppState, app: &str) {
    let Ok(name) = AppName::new(app) else { return };
    let versions = match state.apps.registry.versions(&name).await {
        Ok(versions) => versions,
        Err(e) => {
            tracing::warn!(error = %e, app, "could not read the app's versions");
            return;
        }
    };
    if versions.is_empty() {
        state
            .rooms
            .stop(app, None, close::GOING_AWAY, "the app was deleted")
            .await;
        return;
    }
    for version in state.rooms.versions(app) {
        if !versions.iter().any(|v| v.manifest.app.version == version) {
            state
                .rooms
                .stop(
                    app,
                    Some(&version),
                    close::GOING_AWAY,
                    "this version of the app was deleted",
                )
                .await;
        }
    }
}

/// Compiles the latest version's room and http parts into this server's
/// cache, in the background, so a room that moves here (or a request)
/// never waits on the compiler. Compiled code is never shared between
/// servers: each compiles its own from the blob.
async fn prepare(state: Arc<AppState>, app: AppName) {
    let Ok(record) = state.apps.resolve(&app, None, None).await else {
        return;
    };
    for part in &record.parts {
        if matches!(part.role, lodge_manifest::Role::Client) {
            continue;
        }
        match state.loader.load(&part.sha256).await {
            Ok(_) => tracing::debug!(%app, sha256 = %part.sha256, "compiled ahead"),
            Err(e) => tracing::warn!(%app, error = %e, "compiling ahead failed"),
        }
    }
}
