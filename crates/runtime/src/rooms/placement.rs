//! Where a room runs when several servers share one Lodge. On one server
//! every room runs here and no [`Placement`] is set. In a cluster the
//! server sets one: before a room starts here, this server must hold the
//! room's lease, and the room then runs under the lease's fence (its kv
//! writes carry it; a later owner's fence refuses them).

use super::{JoinRefused, RoomSpec, Rooms, close};
use async_trait::async_trait;
use std::sync::Arc;

/// Where a room runs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Placed {
    /// Here, under this fence (already raised in the kv store).
    Here { fence: i64 },
    /// On another server, reached at `internal_url`.
    Elsewhere { node: String, internal_url: String },
}

/// The cluster's say in where rooms run.
#[async_trait]
pub trait Placement: Send + Sync + 'static {
    /// Claims room `room` of `app` for this server, or says who has it. A
    /// refusal (the cluster can't be reached, this server lost its lease)
    /// is answered to the joiner as is.
    async fn claim(&self, app: &str, room: &str, max_rooms: u32) -> Result<Placed, JoinRefused>;
    /// A room that ran here under `fence` stopped.
    fn released(&self, app: &str, room: &str, fence: i64);
}

/// Where a join should go.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Located {
    /// Join here; `fence` is what a room started by the join runs under
    /// (`None` on one server, or when the room already runs here).
    Here {
        fence: Option<i64>,
    },
    Elsewhere {
        node: String,
        internal_url: String,
    },
}

impl Rooms {
    /// Makes rooms ask `placement` before they start (once, at start-up).
    pub fn set_placement(&self, placement: Arc<dyn Placement>) {
        let _ = self.inner.placement.set(placement);
    }

    /// Whether room `room` of `app` runs on this server now.
    pub fn is_live(&self, app: &str, room: &str) -> bool {
        let live = self.inner.live.lock().expect("rooms lock");
        live.contains_key(&(app.to_owned(), room.to_owned()))
    }

    /// The apps with rooms running here.
    pub fn apps(&self) -> Vec<String> {
        let live = self.inner.live.lock().expect("rooms lock");
        let apps: std::collections::BTreeSet<String> =
            live.keys().map(|(app, _)| app.clone()).collect();
        apps.into_iter().collect()
    }

    /// The versions `app`'s rooms here run.
    pub fn versions(&self, app: &str) -> Vec<semver::Version> {
        let live = self.inner.live.lock().expect("rooms lock");
        let versions: std::collections::BTreeSet<semver::Version> = live
            .iter()
            .filter(|((a, _), _)| a == app)
            .map(|(_, room)| room.version.clone())
            .collect();
        versions.into_iter().collect()
    }

    /// How many rooms run here, and how many members they have.
    pub fn counts(&self) -> (usize, usize) {
        let live = self.inner.live.lock().expect("rooms lock");
        let members = live.values().map(|room| room.seats.members()).sum();
        (live.len(), members)
    }

    /// Where a join of room `room` of `app` should go: here when it runs
    /// here (or there is no cluster), else wherever the cluster says.
    pub async fn locate(&self, spec: &RoomSpec, room: &str) -> Result<Located, JoinRefused> {
        let app = spec.app.as_str();
        if self.is_live(app, room) {
            return Ok(Located::Here { fence: None });
        }
        let Some(placement) = self.inner.placement.get() else {
            return Ok(Located::Here { fence: None });
        };
        Ok(match placement.claim(app, room, spec.max_rooms).await? {
            Placed::Here { fence } => Located::Here { fence: Some(fence) },
            Placed::Elsewhere { node, internal_url } => Located::Elsewhere { node, internal_url },
        })
    }

    /// The fence a room this server creates (through the API) runs under:
    /// `Ok(None)` on one server; refused when another server has the name.
    pub(crate) async fn claim_for_create(
        &self,
        spec: &RoomSpec,
        room: &str,
    ) -> Result<Option<i64>, JoinRefused> {
        let Some(placement) = self.inner.placement.get() else {
            return Ok(None);
        };
        match placement.claim(&spec.app, room, spec.max_rooms).await? {
            Placed::Here { fence } => Ok(Some(fence)),
            Placed::Elsewhere { node, .. } => Err(JoinRefused {
                code: close::MOVED,
                reason: format!("room {room} runs on server {node}"),
            }),
        }
    }
}
