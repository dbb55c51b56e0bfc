//! App data in PostgreSQL: `--kv postgres://…`. One writer task per server
//! commits whatever writes are queued as one transaction, each in its own
//! savepoint (group commit, as `SqliteKv` does), so many rooms writing at
//! once cost one commit. An app's counts row is locked (`FOR UPDATE`) for
//! its writes, so servers writing one app at once keep its quotas exact;
//! a room's fence row is read `FOR SHARE`, so a write either commits
//! before the room's next owner advanced the fence or sees the new fence.
//! Reads take any pooled connection: a write is committed before it is
//! acknowledged, so every later read sees it.

use super::{is_conflict, migrate, pg_error, pool_error};
use crate::StoreError;
use crate::kv::rules::{self, Usage};
use crate::kv::{KvError, KvLimits, KvScope, KvStore, MAX_LIST};
use async_trait::async_trait;
use deadpool_postgres::{GenericClient, Pool};
use std::collections::HashMap;
use tokio::sync::{mpsc, oneshot};

const MIGRATIONS: &[&str] = &[r#"
    CREATE TABLE kv (
        app text COLLATE "C" NOT NULL,
        room text COLLATE "C" NOT NULL,
        key bytea NOT NULL,
        value bytea NOT NULL,
        PRIMARY KEY (app, room, key)
    );
    CREATE TABLE kv_usage (
        app text COLLATE "C" NOT NULL,
        room text COLLATE "C" NOT NULL,
        bytes bigint NOT NULL,
        touched_ms bigint NOT NULL,
        PRIMARY KEY (app, room)
    );
    CREATE INDEX kv_usage_touched ON kv_usage (touched_ms) WHERE room <> '';
    CREATE TABLE kv_apps (
        app text COLLATE "C" PRIMARY KEY,
        bytes bigint NOT NULL,
        room_scopes bigint NOT NULL
    );
    CREATE TABLE kv_fences (
        app text COLLATE "C" NOT NULL,
        room text COLLATE "C" NOT NULL,
        fence bigint NOT NULL,
        touched_ms bigint NOT NULL,
        PRIMARY KEY (app, room)
    );
"#];

/// The most writes committed together.
const MAX_GROUP: usize = 256;
/// Attempts at one write that deadlocked with another server's.
const ATTEMPTS: usize = 5;

/// One queued write.
enum Op {
    Set {
        app: String,
        scope: KvScope,
        key: String,
        value: Vec<u8>,
        limits: KvLimits,
    },
    Delete {
        app: String,
        scope: KvScope,
        key: String,
    },
    Increment {
        app: String,
        scope: KvScope,
        key: String,
        delta: i64,
        limits: KvLimits,
    },
    AdvanceFence {
        app: String,
        room: String,
        fence: i64,
    },
}

/// What a write answers.
enum Done {
    Unit,
    Existed(bool),
    Value(i64),
}

struct Job {
    op: Op,
    reply: oneshot::Sender<Result<Done, KvError>>,
}

/// App data in PostgreSQL.
#[derive(Clone)]
pub struct PgKv {
    pool: Pool,
    jobs: mpsc::UnboundedSender<Job>,
}

impl PgKv {
    /// Connects to the database `url` names, migrates it and starts the
    /// writer.
    pub async fn connect(url: &str) -> Result<Self, StoreError> {
        Self::open(super::connect(url).await?).await
    }

    /// Migrates the schema and starts the writer.
    pub async fn open(pool: Pool) -> Result<Self, StoreError> {
        migrate(&pool, "kv", MIGRATIONS).await?;
        let (jobs, queue) = mpsc::unbounded_channel();
        tokio::spawn(writer(pool.clone(), queue));
        Ok(Self { pool, jobs })
    }

    async fn write(&self, op: Op) -> Result<Done, KvError> {
        let (reply, answer) = oneshot::channel();
        let stopped = || KvError::Store(StoreError::Task("the kv writer stopped".into()));
        self.jobs.send(Job { op, reply }).map_err(|_| stopped())?;
        answer.await.map_err(|_| stopped())?
    }

    async fn client(&self) -> Result<deadpool_postgres::Client, KvError> {
        Ok(self.pool.get().await.map_err(pool_error)?)
    }
}

fn db(e: tokio_postgres::Error) -> KvError {
    KvError::Store(pg_error(e))
}

/// The writer: takes what is queued, runs it in one transaction (each
/// write in a savepoint), commits, then answers every write.
async fn writer(pool: Pool, mut queue: mpsc::UnboundedReceiver<Job>) {
    while let Some(first) = queue.recv().await {
        let mut group = vec![first];
        while group.len() < MAX_GROUP {
            match queue.try_recv() {
                Ok(job) => group.push(job),
                Err(_) => break,
            }
        }
        let mut client = match pool.get().await {
            Ok(client) => client,
            Err(e) => {
                let e = pool_error(e);
                for job in group {
                    let _ = job.reply.send(Err(KvError::Store(same(&e))));
                }
                continue;
            }
        };
        let answers = run_group(&mut client, &group).await;
        match answers {
            Ok(answers) => {
                for (job, answer) in group.into_iter().zip(answers) {
                    let _ = job.reply.send(answer);
                }
            }
            Err(e) => {
                for job in group {
                    let _ = job.reply.send(Err(KvError::Store(same(&e))));
                }
            }
        }
    }
}

/// A copy of a store error, for every write of a failed group.
fn same(e: &StoreError) -> StoreError {
    match e {
        StoreError::Unavailable { backend, reason } => StoreError::Unavailable {
            backend,
            reason: reason.clone(),
        },
        e => StoreError::Backend {
            backend: "postgres",
            message: e.to_string(),
        },
    }
}

async fn run_group(
    client: &mut deadpool_postgres::Client,
    group: &[Job],
) -> Result<Vec<Result<Done, KvError>>, StoreError> {
    let mut tx = client.transaction().await.map_err(pg_error)?;
    let mut answers = Vec::with_capacity(group.len());
    for job in group {
        let mut attempt = 0;
        let answer = loop {
            attempt += 1;
            let mut op = tx.savepoint("op").await.map_err(pg_error)?;
            match run(&mut op, &job.op).await {
                Ok(done) => {
                    op.commit().await.map_err(pg_error)?;
                    break Ok(done);
                }
                Err(Failure::Conflict(_)) if attempt < ATTEMPTS => {
                    op.rollback().await.map_err(pg_error)?;
                }
                Err(failure) => {
                    op.rollback().await.map_err(pg_error)?;
                    break Err(failure.into_kv());
                }
            }
        };
        // A connection lost mid-group fails the whole group.
        if let Err(KvError::Store(e)) = &answer
            && e.is_unavailable()
        {
            return Err(same(e));
        }
        answers.push(answer);
    }
    tx.commit().await.map_err(pg_error)?;
    Ok(answers)
}

/// Why one write failed: a conflict to retry, or an answer.
enum Failure {
    Conflict(tokio_postgres::Error),
    Kv(KvError),
}

impl Failure {
    fn into_kv(self) -> KvError {
        match self {
            Failure::Conflict(e) => db(e),
            Failure::Kv(e) => e,
        }
    }
}

impl From<tokio_postgres::Error> for Failure {
    fn from(e: tokio_postgres::Error) -> Self {
        if is_conflict(&e) {
            Failure::Conflict(e)
        } else {
            Failure::Kv(db(e))
        }
    }
}

impl From<KvError> for Failure {
    fn from(e: KvError) -> Self {
        Failure::Kv(e)
    }
}

async fn run(tx: &mut deadpool_postgres::Transaction<'_>, op: &Op) -> Result<Done, Failure> {
    match op {
        Op::Set {
            app,
            scope,
            key,
            value,
            limits,
        } => {
            put(tx, limits, app, scope, key, value).await?;
            Ok(Done::Unit)
        }
        Op::Increment {
            app,
            scope,
            key,
            delta,
            limits,
        } => {
            lock_app(tx, app).await?;
            let current: Option<Vec<u8>> = tx
                .query_opt(
                    "SELECT value FROM kv WHERE app = $1 AND room = $2 AND key = $3",
                    &[app, &scope.room(), &key.as_bytes()],
                )
                .await?
                .map(|row| row.get(0));
            let next = rules::increment(current.as_deref(), *delta)?;
            put(tx, limits, app, scope, key, next.to_string().as_bytes()).await?;
            Ok(Done::Value(next))
        }
        Op::Delete { app, scope, key } => {
            check_fence(tx, app, scope).await?;
            lock_app(tx, app).await?;
            let room = scope.room();
            let old: Option<i32> = tx
                .query_opt(
                    "DELETE FROM kv WHERE app = $1 AND room = $2 AND key = $3 RETURNING length(value)",
                    &[app, &room, &key.as_bytes()],
                )
                .await?
                .map(|row| row.get(0));
            if let Some(len) = old {
                shrink(tx, app, room, i64::from(len) + key.len() as i64).await?;
            }
            Ok(Done::Existed(old.is_some()))
        }
        Op::AdvanceFence { app, room, fence } => {
            tx.execute(
                "INSERT INTO kv_fences (app, room, fence, touched_ms) VALUES ($1, $2, $3, $4)
                 ON CONFLICT (app, room) DO UPDATE
                 SET fence = greatest(kv_fences.fence, excluded.fence), touched_ms = excluded.touched_ms",
                &[app, room, fence, &crate::now_ms()],
            )
            .await?;
            Ok(Done::Unit)
        }
    }
}

/// Refuses a write whose fence is older than the room's (the row read
/// `FOR SHARE`: an advance waits for this write, or this write sees it).
async fn check_fence(
    tx: &deadpool_postgres::Transaction<'_>,
    app: &str,
    scope: &KvScope,
) -> Result<(), Failure> {
    let Some(held) = scope.fence() else {
        return Ok(());
    };
    let current: Option<i64> = tx
        .query_opt(
            "SELECT fence FROM kv_fences WHERE app = $1 AND room = $2 FOR SHARE",
            &[&app, &scope.room()],
        )
        .await?
        .map(|row| row.get(0));
    match current {
        Some(current) if current > held => Err(KvError::Fenced { held, current }.into()),
        _ => Ok(()),
    }
}

/// Locks the app's counts row (making it when new) for this transaction:
/// writes of one app from every server go one at a time.
async fn lock_app(
    tx: &deadpool_postgres::Transaction<'_>,
    app: &str,
) -> Result<(i64, i64), Failure> {
    tx.execute(
        "INSERT INTO kv_apps (app, bytes, room_scopes) VALUES ($1, 0, 0) ON CONFLICT (app) DO NOTHING",
        &[&app],
    )
    .await?;
    let row = tx
        .query_one(
            "SELECT bytes, room_scopes FROM kv_apps WHERE app = $1 FOR UPDATE",
            &[&app],
        )
        .await?;
    Ok((row.get(0), row.get(1)))
}

/// Writes `value` at `key` if [`rules::check_write`] allows it given the
/// usage read in this transaction, and records the new usage.
async fn put(
    tx: &deadpool_postgres::Transaction<'_>,
    limits: &KvLimits,
    app: &str,
    scope: &KvScope,
    key: &str,
    value: &[u8],
) -> Result<(), Failure> {
    check_fence(tx, app, scope).await?;
    let (app_bytes, room_scopes) = lock_app(tx, app).await?;
    let room = scope.room();
    let old: Option<i32> = tx
        .query_opt(
            "SELECT length(value) FROM kv WHERE app = $1 AND room = $2 AND key = $3",
            &[&app, &room, &key.as_bytes()],
        )
        .await?
        .map(|row| row.get(0));
    let used: Option<i64> = tx
        .query_opt(
            "SELECT bytes FROM kv_usage WHERE app = $1 AND room = $2",
            &[&app, &room],
        )
        .await?
        .map(|row| row.get(0));
    let count = |n: i64| u64::try_from(n).unwrap_or(0);
    let usage = Usage {
        scope_bytes: used.map(count),
        app_bytes: count(app_bytes),
        room_scopes: u32::try_from(room_scopes).unwrap_or(0),
        old_value_bytes: old.map(|n| count(i64::from(n))),
    };
    let accepted =
        rules::check_write(limits, scope, &usage, key.len(), value.len()).map_err(KvError::from)?;
    tx.execute(
        "INSERT INTO kv (app, room, key, value) VALUES ($1, $2, $3, $4)
         ON CONFLICT (app, room, key) DO UPDATE SET value = excluded.value",
        &[&app, &room, &key.as_bytes(), &value],
    )
    .await?;
    tx.execute(
        "INSERT INTO kv_usage (app, room, bytes, touched_ms) VALUES ($1, $2, $3, $4)
         ON CONFLICT (app, room) DO UPDATE SET bytes = excluded.bytes, touched_ms = excluded.touched_ms",
        &[
            &app,
            &room,
            &i64::try_from(accepted.scope_bytes).unwrap_or(i64::MAX),
            &crate::now_ms(),
        ],
    )
    .await?;
    tx.execute(
        "UPDATE kv_apps SET bytes = bytes + $2, room_scopes = room_scopes + $3 WHERE app = $1",
        &[
            &app,
            &accepted.app_growth,
            &i64::from(accepted.new_room_scope),
        ],
    )
    .await?;
    Ok(())
}

/// Takes `bytes` out of a scope's and its app's counts; a scope left empty
/// is forgotten, so it no longer counts as one of the app's room scopes.
async fn shrink(
    tx: &deadpool_postgres::Transaction<'_>,
    app: &str,
    room: &str,
    bytes: i64,
) -> Result<(), Failure> {
    let left: i64 = tx
        .query_one(
            "UPDATE kv_usage SET bytes = greatest(0, bytes - $3) WHERE app = $1 AND room = $2 RETURNING bytes",
            &[&app, &room, &bytes],
        )
        .await?
        .get(0);
    let gone = left == 0
        && tx
            .query_one(
                "SELECT NOT EXISTS (SELECT 1 FROM kv WHERE app = $1 AND room = $2)",
                &[&app, &room],
            )
            .await?
            .get::<_, bool>(0);
    if gone {
        tx.execute(
            "DELETE FROM kv_usage WHERE app = $1 AND room = $2",
            &[&app, &room],
        )
        .await?;
    }
    tx.execute(
        "UPDATE kv_apps SET bytes = greatest(0, bytes - $2), room_scopes = room_scopes - $3 WHERE app = $1",
        &[&app, &bytes, &i64::from(gone && !room.is_empty())],
    )
    .await?;
    Ok(())
}

#[async_trait]
impl KvStore for PgKv {
    async fn get(&self, app: &str, scope: &KvScope, key: &str) -> Result<Option<Vec<u8>>, KvError> {
        let client = self.client().await?;
        let row = client
            .query_opt(
                "SELECT value FROM kv WHERE app = $1 AND room = $2 AND key = $3",
                &[&app, &scope.room(), &key.as_bytes()],
            )
            .await
            .map_err(db)?;
        Ok(row.map(|row| row.get(0)))
    }

    async fn set(
        &self,
        app: &str,
        scope: &KvScope,
        key: &str,
        value: Vec<u8>,
        limits: KvLimits,
    ) -> Result<(), KvError> {
        self.write(Op::Set {
            app: app.to_owned(),
            scope: scope.clone(),
            key: key.to_owned(),
            value,
            limits,
        })
        .await
        .map(|_| ())
    }

    async fn delete(&self, app: &str, scope: &KvScope, key: &str) -> Result<bool, KvError> {
        match self
            .write(Op::Delete {
                app: app.to_owned(),
                scope: scope.clone(),
                key: key.to_owned(),
            })
            .await?
        {
            Done::Existed(existed) => Ok(existed),
            _ => Ok(false),
        }
    }

    async fn list_keys(
        &self,
        app: &str,
        scope: &KvScope,
        prefix: &str,
        limit: u32,
    ) -> Result<Vec<String>, KvError> {
        let client = self.client().await?;
        // Keys >= prefix in byte order, stopping at the first that doesn't
        // start with it: a range scan.
        let rows = client
            .query(
                "SELECT key FROM kv WHERE app = $1 AND room = $2 AND key >= $3 ORDER BY key LIMIT $4",
                &[
                    &app,
                    &scope.room(),
                    &prefix.as_bytes(),
                    &i64::from(limit.min(MAX_LIST)),
                ],
            )
            .await
            .map_err(db)?;
        let mut keys = Vec::new();
        for row in rows {
            let key: Vec<u8> = row.get(0);
            if !key.starts_with(prefix.as_bytes()) {
                break;
            }
            keys.push(String::from_utf8(key).map_err(|_| {
                KvError::Store(StoreError::Corrupt("a kv key is not UTF-8".into()))
            })?);
        }
        Ok(keys)
    }

    async fn increment(
        &self,
        app: &str,
        scope: &KvScope,
        key: &str,
        delta: i64,
        limits: KvLimits,
    ) -> Result<i64, KvError> {
        match self
            .write(Op::Increment {
                app: app.to_owned(),
                scope: scope.clone(),
                key: key.to_owned(),
                delta,
                limits,
            })
            .await?
        {
            Done::Value(value) => Ok(value),
            _ => Err(KvError::Store(StoreError::Task(
                "the kv writer answered an increment with no value".into(),
            ))),
        }
    }

    async fn advance_fence(&self, app: &str, room: &str, fence: i64) -> Result<(), KvError> {
        self.write(Op::AdvanceFence {
            app: app.to_owned(),
            room: room.to_owned(),
            fence,
        })
        .await
        .map(|_| ())
    }

    async fn delete_app(&self, app: &str) -> Result<(), KvError> {
        let mut client = self.client().await?;
        let tx = client.transaction().await.map_err(db)?;
        for sql in [
            "DELETE FROM kv WHERE app = $1",
            "DELETE FROM kv_usage WHERE app = $1",
            "DELETE FROM kv_apps WHERE app = $1",
            "DELETE FROM kv_fences WHERE app = $1",
        ] {
            tx.execute(sql, &[&app]).await.map_err(db)?;
        }
        tx.commit().await.map_err(db)
    }

    async fn expire_room_scopes(&self, before_ms: i64) -> Result<u64, KvError> {
        let mut client = self.client().await?;
        let tx = client.transaction().await.map_err(db)?;
        let stale = tx
            .query(
                "DELETE FROM kv_usage WHERE room <> '' AND touched_ms < $1 RETURNING app, room, bytes",
                &[&before_ms],
            )
            .await
            .map_err(db)?;
        for row in &stale {
            let (app, room, bytes): (String, String, i64) = (row.get(0), row.get(1), row.get(2));
            tx.execute(
                "DELETE FROM kv WHERE app = $1 AND room = $2",
                &[&app, &room],
            )
            .await
            .map_err(db)?;
            tx.execute(
                "UPDATE kv_apps SET bytes = greatest(0, bytes - $2), room_scopes = room_scopes - 1 WHERE app = $1",
                &[&app, &bytes],
            )
            .await
            .map_err(db)?;
        }
        tx.execute("DELETE FROM kv_fences WHERE touched_ms < $1", &[&before_ms])
            .await
            .map_err(db)?;
        tx.commit().await.map_err(db)?;
        Ok(stale.len() as u64)
    }

    async fn app_bytes(&self) -> Result<HashMap<String, u64>, KvError> {
        let client = self.client().await?;
        let rows = client
            .query("SELECT app, bytes FROM kv_apps", &[])
            .await
            .map_err(db)?;
        Ok(rows
            .into_iter()
            .map(|row| (row.get::<_, String>(0), row.get::<_, i64>(1).max(0) as u64))
            .collect())
    }
}
