//! This server as one of several sharing one Lodge (`lodge serve
//! --cluster postgres://…`): it keeps a lease on life in the cluster
//! (heartbeats), claims rooms before they start here (a room runs on
//! exactly one server), forwards members whose room runs elsewhere
//! (`forward`), hears what the other servers did (`events`), and gives its
//! rooms up at once when it stops.
//!
//! A server that can't renew its lease in time stops its rooms by itself
//! (members reconnect, the room starts on a server that can), before the
//! others may take them over: the database's clock judges the lease, this
//! server's own clock judges only when to give up.

pub(crate) mod events;
pub(crate) mod forward;
pub(crate) mod listing;
pub(crate) mod proxy;
pub(crate) mod status;

use async_trait::async_trait;
use lodge_runtime::rooms::{JoinRefused, Placed, Placement, Rooms, close};
use lodge_store::Kv;
use lodge_store::cluster::{
    Claim, Cluster, ClusterError, LeaseTiming, NodeInfo, NodeLease, NodeReport, PgBus, PgCluster,
};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::time::Instant;

/// How a server joins a cluster.
#[derive(Debug, Clone)]
pub struct ClusterConfig {
    /// The PostgreSQL database that keeps leases and carries events.
    pub url: String,
    /// This server's name among the others (`--node-id`).
    pub node_id: String,
    /// Where the other servers reach this one (`--advertise`); `None`: the
    /// address it listens on.
    pub advertise: Option<String>,
    pub timing: LeaseTiming,
}

/// This server's membership of the cluster.
pub struct ClusterNode {
    cluster: Arc<PgCluster>,
    pub(crate) bus: PgBus,
    info: NodeInfo,
    timing: LeaseTiming,
    kv: Arc<dyn Kv>,
    rooms: Rooms,
    /// The live incarnation, or `None` while this server is out of the
    /// cluster (it lost touch, or its lease lapsed) and runs no rooms.
    lease: Mutex<Option<NodeLease>>,
    /// Past this instant without a renewed lease, this server stops its
    /// rooms: the others may take them soon after.
    deadline: Mutex<Instant>,
    /// Stopping: refuses new rooms, and `/readyz` says so.
    draining: AtomicBool,
    /// The secret servers forward members with (from the registry's
    /// server keys, so every server of the cluster has the same).
    pub(crate) secret: String,
    /// Passes room requests on to the servers running the rooms.
    pub(crate) http: reqwest::Client,
}

/// Why the cluster could not be joined.
#[derive(Debug, thiserror::Error)]
#[error("joining the cluster at {location}: {problem}")]
pub struct JoinError {
    location: String,
    /// What went wrong (in the message; not chained, so shown once).
    problem: Box<dyn std::error::Error + Send + Sync>,
}

impl ClusterNode {
    /// Connects, registers this server and starts its heartbeats.
    pub async fn join(
        config: &ClusterConfig,
        internal_url: String,
        kv: Arc<dyn Kv>,
        rooms: Rooms,
        secret: String,
    ) -> Result<Arc<Self>, JoinError> {
        let failed = |e: Box<dyn std::error::Error + Send + Sync>| JoinError {
            location: lodge_store::redact(&config.url),
            problem: e,
        };
        let pool = lodge_store::postgres_pool(&config.url)
            .await
            .map_err(|e| failed(e.into()))?;
        let cluster = Arc::new(
            PgCluster::open(pool.clone(), config.timing)
                .await
                .map_err(|e| failed(e.into()))?,
        );
        let bus = PgBus::start(&config.url, pool).map_err(|e| failed(e.into()))?;
        let info = NodeInfo {
            id: config.node_id.clone(),
            internal_url,
        };
        let sent = Instant::now();
        let lease = cluster
            .register(&info)
            .await
            .map_err(|e| failed(e.into()))?;
        let node = Arc::new(Self {
            cluster,
            bus,
            info,
            timing: config.timing,
            kv,
            rooms,
            lease: Mutex::new(Some(lease)),
            deadline: Mutex::new(sent + self_deadline(config.timing)),
            draining: AtomicBool::new(false),
            secret,
            http: reqwest::Client::builder()
                .connect_timeout(Duration::from_secs(3))
                .build()
                .map_err(|e| failed(e.into()))?,
        });
        tracing::info!(node = %node.info.id, url = %node.info.internal_url, incarnation = lease.incarnation, "joined the cluster");
        tokio::spawn(heartbeats(Arc::downgrade(&node)));
        Ok(node)
    }

    pub fn id(&self) -> &str {
        &self.info.id
    }

    pub(crate) fn cluster(&self) -> &PgCluster {
        &self.cluster
    }

    /// Whether `given` is the cluster's forwarding secret (compared as
    /// digests, so the time taken says nothing about it).
    pub(crate) fn is_secret(&self, given: &[u8]) -> bool {
        use sha2::{Digest, Sha256};
        Sha256::digest(given) == Sha256::digest(self.secret.as_bytes())
    }

    /// The live server that owns a room, with where to reach it.
    pub(crate) async fn cluster_owner(
        &self,
        app: &str,
        room: &str,
    ) -> Option<lodge_store::cluster::Owner> {
        self.cluster.owner(app, room).await.ok().flatten()
    }

    /// The live server that owns a room, if one does.
    pub(crate) async fn owner_of(&self, app: &str, room: &str) -> Option<String> {
        match self.cluster.owner(app, room).await {
            Ok(owner) => owner.map(|owner| owner.node),
            Err(e) => {
                tracing::warn!(error = %e, app, room, "could not read the room's owner");
                None
            }
        }
    }

    /// Whether this server takes rooms now (`/readyz`).
    pub fn ready(&self) -> bool {
        !self.draining.load(Ordering::SeqCst) && self.current_lease().is_some()
    }

    fn current_lease(&self) -> Option<NodeLease> {
        let lease = *self.lease.lock().expect("lease lock");
        let in_time = Instant::now() < *self.deadline.lock().expect("deadline lock");
        lease.filter(|_| in_time)
    }

    /// A graceful stop: refuse new rooms, tell members their rooms move
    /// (they reconnect, and another server takes each room at once), and
    /// give every lease up.
    pub async fn drain(&self) {
        self.draining.store(true, Ordering::SeqCst);
        self.rooms
            .stop_all(close::MOVED, "this server is stopping; reconnect")
            .await;
        let lease = self.lease.lock().expect("lease lock").take();
        if let Some(lease) = lease
            && let Err(e) = self.cluster.leave(&self.info.id, lease).await
        {
            tracing::warn!(error = %e, "could not give the rooms' leases up; they lapse by themselves");
        }
    }

    /// Stops every room here: this server is out of the cluster.
    async fn fence_self(&self, why: &str) {
        *self.lease.lock().expect("lease lock") = None;
        tracing::warn!(node = %self.info.id, why, "out of the cluster: stopping this server's rooms");
        self.rooms
            .stop_all(close::MOVED, &format!("{why}; reconnect"))
            .await;
    }

    fn report(&self) -> NodeReport {
        let (rooms, members) = self.rooms.counts();
        NodeReport {
            rooms: rooms as u64,
            members: members as u64,
            draining: self.draining.load(Ordering::SeqCst),
        }
    }

    /// One heartbeat; re-registers when out of the cluster.
    async fn beat(&self) {
        if self.draining.load(Ordering::SeqCst) {
            return;
        }
        let sent = Instant::now();
        let lease = *self.lease.lock().expect("lease lock");
        let result = match lease {
            Some(lease) => self
                .cluster
                .heartbeat(&self.info.id, lease, &self.report())
                .await
                .map(|()| lease),
            None => self.cluster.register(&self.info).await,
        };
        match result {
            Ok(lease) => {
                let rejoined = self
                    .lease
                    .lock()
                    .expect("lease lock")
                    .replace(lease)
                    .is_none();
                *self.deadline.lock().expect("deadline lock") = sent + self_deadline(self.timing);
                if rejoined {
                    tracing::info!(node = %self.info.id, incarnation = lease.incarnation, "back in the cluster");
                }
            }
            Err(ClusterError::LeaseLost) => {
                self.fence_self("this server's lease lapsed").await;
            }
            Err(ClusterError::Store(e)) => {
                tracing::warn!(error = %e, "heartbeat failed");
            }
        }
        let lost = Instant::now() >= *self.deadline.lock().expect("deadline lock");
        if lost && self.lease.lock().expect("lease lock").is_some() {
            self.fence_self("this server lost touch with the cluster")
                .await;
        }
    }
}

/// The secret servers forward members with: made by the first server and
/// kept in the shared registry, so every server of the cluster reads the
/// same one.
pub(crate) async fn secret(accounts: &dyn lodge_store::Accounts) -> lodge_store::Result<String> {
    let mut candidate = [0u8; 32];
    getrandom::fill(&mut candidate).map_err(|e| lodge_store::StoreError::Task(e.to_string()))?;
    let key = accounts
        .server_key("cluster-forwarding", candidate.to_vec())
        .await?;
    Ok(hex::encode(key))
}

/// How long after a heartbeat was sent this server still counts itself
/// alive: the TTL less a margin, so it stops its rooms before the others
/// may take them.
fn self_deadline(timing: LeaseTiming) -> Duration {
    let margin = (timing.ttl / 4).max(Duration::from_millis(250));
    timing.ttl.saturating_sub(margin)
}

/// Renews the lease every heartbeat interval, for as long as the server
/// lives. Runs on its own timer, whatever the rooms do.
async fn heartbeats(node: std::sync::Weak<ClusterNode>) {
    let interval = match node.upgrade() {
        Some(node) => node.timing.heartbeat,
        None => return,
    };
    let mut ticks = tokio::time::interval(interval);
    ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Skip);
    loop {
        ticks.tick().await;
        let Some(node) = node.upgrade() else { return };
        // A heartbeat that hangs (PostgreSQL paused) must not stop the
        // deadline check: bound it by the interval.
        let _ = tokio::time::timeout(node.timing.ttl, node.beat()).await;
        if Instant::now() >= *node.deadline.lock().expect("deadline lock")
            && node.lease.lock().expect("lease lock").is_some()
        {
            node.fence_self("this server lost touch with the cluster")
                .await;
        }
    }
}

#[async_trait]
impl Placement for ClusterNode {
    async fn claim(&self, app: &str, room: &str, max_rooms: u32) -> Result<Placed, JoinRefused> {
        if self.draining.load(Ordering::SeqCst) {
            return Err(JoinRefused {
                code: close::MOVED,
                reason: "this server is stopping; reconnect".into(),
            });
        }
        let Some(lease) = self.current_lease() else {
            return Err(JoinRefused {
                code: close::TRY_AGAIN,
                reason: "this server is rejoining the cluster; try again in a moment".into(),
            });
        };
        let unavailable = |e: &dyn std::fmt::Display| {
            tracing::warn!(error = %e, app, room, "claiming a room failed");
            JoinRefused {
                code: close::TRY_AGAIN,
                reason: "the cluster's database can't be reached; try again in a moment".into(),
            }
        };
        match self
            .cluster
            .claim(&self.info.id, lease, app, room, max_rooms)
            .await
        {
            Ok(Claim::Mine { fence }) => {
                // Older owners' writes are refused from here on.
                self.kv
                    .advance_fence(app, room, fence)
                    .await
                    .map_err(|e| unavailable(&e))?;
                Ok(Placed::Here { fence })
            }
            Ok(Claim::Owner(owner)) if owner.node == self.info.id => Err(JoinRefused {
                code: close::TRY_AGAIN,
                reason: "the room is restarting here; try again in a moment".into(),
            }),
            Ok(Claim::Full { max }) => Err(JoinRefused {
                code: close::TRY_AGAIN,
                reason: lodge_runtime::rooms::StartRefused::AppRooms {
                    app: app.to_owned(),
                    max: max as usize,
                }
                .to_string(),
            }),
            Ok(Claim::Owner(owner)) => Ok(Placed::Elsewhere {
                node: owner.node,
                internal_url: owner.internal_url,
            }),
            Err(ClusterError::LeaseLost) => {
                // The others may own this server's rooms already: stop them.
                self.fence_self("this server's lease lapsed").await;
                Err(JoinRefused {
                    code: close::TRY_AGAIN,
                    reason: "this server is rejoining the cluster; try again in a moment".into(),
                })
            }
            Err(ClusterError::Store(e)) => Err(unavailable(&e)),
        }
    }

    fn released(&self, app: &str, room: &str, fence: i64) {
        let (cluster, app, room) = (self.cluster.clone(), app.to_owned(), room.to_owned());
        tokio::spawn(async move {
            if let Err(e) = cluster.release(&app, &room, fence).await {
                tracing::debug!(error = %e, app, room, "releasing a room failed; its lease lapses with this server's");
            }
        });
    }
}
