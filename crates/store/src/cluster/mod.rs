//! Several servers as one Lodge: which servers are alive, which one owns
//! each live room (a lease with a fencing number), and the events every
//! server must hear (an app published or deleted, a room stopped).
//!
//! [`Cluster`] is what the server calls; [`PgCluster`] keeps it in
//! PostgreSQL, judged by the database's clock only (a server's own clock
//! judges only the server itself), after Plane's design. [`PgBus`] carries
//! [`ClusterEvent`]s with `LISTEN`/`NOTIFY`, which may lose an event: every
//! server also resyncs periodically and after reconnecting.

mod bus;
mod pg;

pub use bus::{ClusterEvent, PgBus};
pub use pg::PgCluster;

use crate::StoreError;
use async_trait::async_trait;
use serde::{Deserialize, Serialize};
use std::time::Duration;

/// How one server presents itself to the others.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NodeInfo {
    /// Unique per server (`--node-id`); a restart keeps it, with a new
    /// incarnation.
    pub id: String,
    /// Where the other servers reach this one (`--advertise`).
    pub internal_url: String,
}

/// One incarnation of a server: its lease on life in the cluster. A server
/// whose incarnation lapsed is dead to the others for good: it must stop
/// every room and register again.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct NodeLease {
    pub incarnation: i64,
}

/// What a claim on a room found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Claim {
    /// This server owns the room now, under `fence`: it raises the room's
    /// kv fence to it before the room runs, and every write carries it.
    Mine { fence: i64 },
    /// Another live server owns it.
    Owner(Owner),
    /// Nobody owns it, but the app runs `max` rooms across the cluster
    /// already.
    Full { max: u32 },
}

/// A live room's owner.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Owner {
    pub node: String,
    pub internal_url: String,
    pub fence: i64,
}

/// What a server reports of itself with each heartbeat.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct NodeReport {
    pub rooms: u64,
    pub members: u64,
    /// Refusing new rooms (shutting down).
    pub draining: bool,
}

/// One server, as `lodge cluster status` shows it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct NodeStatus {
    pub id: String,
    pub incarnation: i64,
    pub internal_url: String,
    pub alive: bool,
    /// Milliseconds since its last heartbeat (the database's clock).
    pub heartbeat_age_ms: i64,
    /// Milliseconds since it registered.
    pub up_ms: i64,
    pub report: NodeReport,
}

/// One owned room, as `lodge cluster status` shows it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RoomLease {
    pub app: String,
    pub room: String,
    pub node: String,
    pub fence: i64,
    /// Milliseconds since its owner claimed it.
    pub age_ms: i64,
    /// Whether its owner is alive (a dead owner's rooms wait to be claimed).
    pub owner_alive: bool,
    /// The room's public listing, as its owner last wrote it.
    pub info: Option<serde_json::Value>,
}

/// Timing of the lease protocol.
#[derive(Debug, Clone, Copy)]
pub struct LeaseTiming {
    /// How long a heartbeat keeps a server alive.
    pub ttl: Duration,
    /// How often a server renews it.
    pub heartbeat: Duration,
}

impl Default for LeaseTiming {
    fn default() -> Self {
        Self {
            ttl: Duration::from_secs(3),
            heartbeat: Duration::from_millis(750),
        }
    }
}

/// Why a cluster call failed.
#[derive(Debug, thiserror::Error)]
pub enum ClusterError {
    /// This server's incarnation lapsed: the others count it dead and may
    /// own its rooms already.
    #[error("this server's lease lapsed; it must stop its rooms and register again")]
    LeaseLost,
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// The cluster's shared state, as a server uses it.
#[async_trait]
pub trait Cluster: Send + Sync + 'static {
    /// Registers a new incarnation of `node`, alive for one TTL.
    async fn register(&self, node: &NodeInfo) -> Result<NodeLease, ClusterError>;
    /// Keeps the incarnation alive one more TTL; `LeaseLost` when it lapsed.
    async fn heartbeat(
        &self,
        node: &str,
        lease: NodeLease,
        report: &NodeReport,
    ) -> Result<(), ClusterError>;
    /// Takes room `room` of `app` unless another live server owns it, or
    /// the app has `max_rooms` rooms on live servers already. Atomic: of
    /// any number of servers claiming one room at once, one gets it.
    async fn claim(
        &self,
        node: &str,
        lease: NodeLease,
        app: &str,
        room: &str,
        max_rooms: u32,
    ) -> Result<Claim, ClusterError>;
    /// Gives a room up (it stopped), unless a newer claim took it already.
    async fn release(&self, app: &str, room: &str, fence: i64) -> Result<(), ClusterError>;
    /// Gives every room of this incarnation up and ends it (a graceful
    /// stop): the others may take them at once.
    async fn leave(&self, node: &str, lease: NodeLease) -> Result<(), ClusterError>;
    /// Who owns a room, if a live server does.
    async fn owner(&self, app: &str, room: &str) -> Result<Option<Owner>, ClusterError>;
    /// Records a room's public listing for the other servers' room lists.
    async fn publish_info(
        &self,
        app: &str,
        room: &str,
        fence: i64,
        info: &serde_json::Value,
    ) -> Result<(), ClusterError>;
    /// Every server that registered in the last hour, alive or not.
    async fn nodes(&self) -> Result<Vec<NodeStatus>, ClusterError>;
    /// Every owned room (of `app`, or of all apps).
    async fn rooms(&self, app: Option<&str>) -> Result<Vec<RoomLease>, ClusterError>;
}
