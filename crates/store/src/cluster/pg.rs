//! [`Cluster`] in PostgreSQL: `cluster_nodes` (one row per server, its
//! incarnation and when its lease ends) and `cluster_rooms` (one row per
//! owned room: its owner's incarnation and fence). Expiry compares only
//! with the database's `now()`; fences and incarnations come from one
//! sequence, so a later claim always holds a greater fence.

use super::{
    Claim, Cluster, ClusterError, LeaseTiming, NodeInfo, NodeLease, NodeReport, NodeStatus, Owner,
    RoomLease,
};
use crate::postgres::{migrate, pg_error, pool_error};
use async_trait::async_trait;
use deadpool_postgres::Pool;

const MIGRATIONS: &[&str] = &[r#"
    CREATE SEQUENCE cluster_epoch;
    CREATE TABLE cluster_nodes (
        id text COLLATE "C" PRIMARY KEY,
        incarnation bigint NOT NULL,
        internal_url text NOT NULL,
        started_at timestamptz NOT NULL,
        heartbeat_at timestamptz NOT NULL,
        expires_at timestamptz NOT NULL,
        report jsonb NOT NULL DEFAULT '{}'
    );
    CREATE TABLE cluster_rooms (
        app text COLLATE "C" NOT NULL,
        room text COLLATE "C" NOT NULL,
        node text COLLATE "C" NOT NULL,
        node_incarnation bigint NOT NULL,
        fence bigint NOT NULL,
        claimed_at timestamptz NOT NULL,
        info jsonb,
        PRIMARY KEY (app, room)
    );
    CREATE INDEX cluster_rooms_node ON cluster_rooms (node, node_incarnation);
"#];

/// The cluster's state in PostgreSQL.
#[derive(Clone)]
pub struct PgCluster {
    pool: Pool,
    timing: LeaseTiming,
}

fn store(e: tokio_postgres::Error) -> ClusterError {
    ClusterError::Store(pg_error(e))
}

impl PgCluster {
    pub async fn connect(url: &str, timing: LeaseTiming) -> Result<Self, crate::StoreError> {
        Self::open(crate::postgres::connect(url).await?, timing).await
    }

    /// Migrates the schema.
    pub async fn open(pool: Pool, timing: LeaseTiming) -> Result<Self, crate::StoreError> {
        migrate(&pool, "cluster", MIGRATIONS).await?;
        Ok(Self { pool, timing })
    }

    pub fn timing(&self) -> LeaseTiming {
        self.timing
    }

    async fn client(&self) -> Result<deadpool_postgres::Client, ClusterError> {
        self.pool
            .get()
            .await
            .map_err(|e| ClusterError::Store(pool_error(e)))
    }
}

#[async_trait]
impl Cluster for PgCluster {
    async fn register(&self, node: &NodeInfo) -> Result<NodeLease, ClusterError> {
        let client = self.client().await?;
        let row = client
            .query_one(
                "INSERT INTO cluster_nodes (id, incarnation, internal_url, started_at, heartbeat_at, expires_at)
                 VALUES ($1, nextval('cluster_epoch'), $2, now(), now(), now() + make_interval(secs => $3))
                 ON CONFLICT (id) DO UPDATE SET incarnation = excluded.incarnation,
                     internal_url = excluded.internal_url, started_at = excluded.started_at,
                     heartbeat_at = excluded.heartbeat_at, expires_at = excluded.expires_at,
                     report = '{}'
                 RETURNING incarnation",
                &[&node.id, &node.internal_url, &self.timing.ttl.as_secs_f64()],
            )
            .await
            .map_err(store)?;
        Ok(NodeLease {
            incarnation: row.get(0),
        })
    }

    async fn heartbeat(
        &self,
        node: &str,
        lease: NodeLease,
        report: &NodeReport,
    ) -> Result<(), ClusterError> {
        let client = self.client().await?;
        let report = serde_json::to_value(report).unwrap_or_default();
        let renewed = client
            .execute(
                "UPDATE cluster_nodes SET heartbeat_at = now(),
                     expires_at = now() + make_interval(secs => $3), report = $4
                 WHERE id = $1 AND incarnation = $2 AND expires_at > now()",
                &[
                    &node,
                    &lease.incarnation,
                    &self.timing.ttl.as_secs_f64(),
                    &report,
                ],
            )
            .await
            .map_err(store)?;
        if renewed == 1 {
            Ok(())
        } else {
            Err(ClusterError::LeaseLost)
        }
    }

    async fn claim(
        &self,
        node: &str,
        lease: NodeLease,
        app: &str,
        room: &str,
        max_rooms: u32,
    ) -> Result<Claim, ClusterError> {
        let client = self.client().await?;
        // Takes the room when nobody owns it, or when its owner's
        // incarnation is no longer alive (with a new, greater fence); or
        // keeps it, with its fence, when this very incarnation owns it (a
        // room it stopped and starts again). Only while the claimer lives.
        let claimed = client
            .query_opt(
                "INSERT INTO cluster_rooms (app, room, node, node_incarnation, fence, claimed_at)
                 SELECT $1, $2, $3, $4, nextval('cluster_epoch'), now()
                 WHERE EXISTS (SELECT 1 FROM cluster_nodes
                               WHERE id = $3 AND incarnation = $4 AND expires_at > now())
                   AND (SELECT count(*) FROM cluster_rooms r
                        JOIN cluster_nodes n ON n.id = r.node AND n.incarnation = r.node_incarnation
                        WHERE r.app = $1 AND r.room <> $2 AND n.expires_at > now()) < $5
                 ON CONFLICT (app, room) DO UPDATE
                 SET fence = CASE WHEN cluster_rooms.node = excluded.node
                                       AND cluster_rooms.node_incarnation = excluded.node_incarnation
                                  THEN cluster_rooms.fence ELSE excluded.fence END,
                     node = excluded.node, node_incarnation = excluded.node_incarnation,
                     claimed_at = excluded.claimed_at, info = NULL
                 WHERE (cluster_rooms.node = excluded.node
                        AND cluster_rooms.node_incarnation = excluded.node_incarnation)
                    OR NOT EXISTS (SELECT 1 FROM cluster_nodes n
                                   WHERE n.id = cluster_rooms.node
                                     AND n.incarnation = cluster_rooms.node_incarnation
                                     AND n.expires_at > now())
                 RETURNING fence",
                &[&app, &room, &node, &lease.incarnation, &i64::from(max_rooms)],
            )
            .await
            .map_err(store)?;
        if let Some(row) = claimed {
            return Ok(Claim::Mine { fence: row.get(0) });
        }
        drop(client);
        if let Some(owner) = self.owner(app, room).await? {
            return Ok(Claim::Owner(owner));
        }
        // Nobody live owns it, yet the claim failed: the app has its most
        // rooms, or this server's own lease lapsed.
        let alive = self
            .client()
            .await?
            .query_opt(
                "SELECT 1 FROM cluster_nodes WHERE id = $1 AND incarnation = $2 AND expires_at > now()",
                &[&node, &lease.incarnation],
            )
            .await
            .map_err(store)?
            .is_some();
        if alive {
            Ok(Claim::Full { max: max_rooms })
        } else {
            Err(ClusterError::LeaseLost)
        }
    }

    async fn release(&self, app: &str, room: &str, fence: i64) -> Result<(), ClusterError> {
        let client = self.client().await?;
        client
            .execute(
                "DELETE FROM cluster_rooms WHERE app = $1 AND room = $2 AND fence = $3",
                &[&app, &room, &fence],
            )
            .await
            .map_err(store)?;
        Ok(())
    }

    async fn leave(&self, node: &str, lease: NodeLease) -> Result<(), ClusterError> {
        let mut client = self.client().await?;
        let tx = client.transaction().await.map_err(store)?;
        tx.execute(
            "DELETE FROM cluster_rooms WHERE node = $1 AND node_incarnation = $2",
            &[&node, &lease.incarnation],
        )
        .await
        .map_err(store)?;
        tx.execute(
            "UPDATE cluster_nodes SET expires_at = now() WHERE id = $1 AND incarnation = $2",
            &[&node, &lease.incarnation],
        )
        .await
        .map_err(store)?;
        tx.commit().await.map_err(store)
    }

    async fn owner(&self, app: &str, room: &str) -> Result<Option<Owner>, ClusterError> {
        let client = self.client().await?;
        let row = client
            .query_opt(
                "SELECT r.node, n.internal_url, r.fence FROM cluster_rooms r
                 JOIN cluster_nodes n ON n.id = r.node AND n.incarnation = r.node_incarnation
                 WHERE r.app = $1 AND r.room = $2 AND n.expires_at > now()",
                &[&app, &room],
            )
            .await
            .map_err(store)?;
        Ok(row.map(|row| Owner {
            node: row.get(0),
            internal_url: row.get(1),
            fence: row.get(2),
        }))
    }

    async fn publish_info(
        &self,
        app: &str,
        room: &str,
        fence: i64,
        info: &serde_json::Value,
    ) -> Result<(), ClusterError> {
        let client = self.client().await?;
        client
            .execute(
                "UPDATE cluster_rooms SET info = $4 WHERE app = $1 AND room = $2 AND fence = $3",
                &[&app, &room, &fence, info],
            )
            .await
            .map_err(store)?;
        Ok(())
    }

    async fn nodes(&self) -> Result<Vec<NodeStatus>, ClusterError> {
        let client = self.client().await?;
        let rows = client
            .query(
                "SELECT id, incarnation, internal_url, expires_at > now(),
                        (extract(epoch FROM now() - heartbeat_at) * 1000)::bigint,
                        (extract(epoch FROM now() - started_at) * 1000)::bigint, report
                 FROM cluster_nodes WHERE heartbeat_at > now() - interval '1 hour'
                 ORDER BY id",
                &[],
            )
            .await
            .map_err(store)?;
        Ok(rows
            .into_iter()
            .map(|row| NodeStatus {
                id: row.get(0),
                incarnation: row.get(1),
                internal_url: row.get(2),
                alive: row.get(3),
                heartbeat_age_ms: row.get(4),
                up_ms: row.get(5),
                report: serde_json::from_value(row.get(6)).unwrap_or_default(),
            })
            .collect())
    }

    async fn rooms(&self, app: Option<&str>) -> Result<Vec<RoomLease>, ClusterError> {
        let client = self.client().await?;
        let rows = client
            .query(
                "SELECT r.app, r.room, r.node, r.fence,
                        (extract(epoch FROM now() - r.claimed_at) * 1000)::bigint,
                        coalesce(n.expires_at > now(), false), r.info
                 FROM cluster_rooms r
                 LEFT JOIN cluster_nodes n ON n.id = r.node AND n.incarnation = r.node_incarnation
                 WHERE $1::text IS NULL OR r.app = $1
                 ORDER BY r.app, r.room",
                &[&app],
            )
            .await
            .map_err(store)?;
        Ok(rows
            .into_iter()
            .map(|row| RoomLease {
                app: row.get(0),
                room: row.get(1),
                node: row.get(2),
                fence: row.get(3),
                age_ms: row.get(4),
                owner_alive: row.get(5),
                info: row.get(6),
            })
            .collect())
    }
}
