//! App data in Redis (or Valkey): `--kv redis://…`. Start-up refuses a
//! Redis without append-only persistence, which would lose acknowledged
//! writes in a restart.
//!
//! Layout, every key of one app in one hash slot (`{APP}`):
//! `lodge:{APP}:kv:ROOM` (hash key → value; ROOM empty for the app scope),
//! `lodge:{APP}:keys:ROOM` (the same keys in a sorted set, for ordered
//! prefix listing), `lodge:{APP}:usage` and `lodge:{APP}:touched` (ROOM →
//! bytes, last write), `lodge:{APP}:totals` (`bytes`, `room_scopes`),
//! `lodge:{APP}:fences` and `lodge:{APP}:fence-touched` (ROOM → fence,
//! when advanced), and the set `lodge:apps`.
//!
//! A write reads usage and the room's fence under `WATCH`, decides with
//! [`rules`] (the same code as every backend), and commits with
//! `MULTI`/`EXEC`, retrying when another server changed the app's counts
//! in between. Writes of one app on one server go one at a time (a lock
//! stripe with its own connection), so they don't conflict with each other.

use crate::StoreError;
use crate::kv::rules::{self, Usage};
use crate::kv::{KvError, KvLimits, KvScope, KvStore};
use async_trait::async_trait;
use redis::aio::ConnectionManager;
use redis::{AsyncCommands, ErrorKind, RedisError};
use std::collections::HashMap;
use std::time::Duration;
use tokio::sync::Mutex;

/// Connections (each with its lock) that writes are spread over by app.
const STRIPES: usize = 8;
/// Attempts at a write whose counts other servers keep changing.
const ATTEMPTS: usize = 50;

/// App data in Redis.
pub struct RedisKv {
    /// For reads (multiplexed: reads don't wait on each other).
    reads: ConnectionManager,
    /// For writes: one connection per stripe, held while a write watches.
    stripes: Vec<Mutex<ConnectionManager>>,
}

/// What a Redis failure means to Lodge.
fn redis_error(e: RedisError) -> KvError {
    KvError::Store(store_error(e))
}

fn store_error(e: RedisError) -> StoreError {
    if e.is_io_error()
        || e.is_connection_dropped()
        || e.is_connection_refusal()
        || e.is_timeout()
        || matches!(e.kind(), ErrorKind::Server(_)) && e.to_string().contains("LOADING")
    {
        StoreError::Unavailable {
            backend: "redis",
            reason: e.to_string(),
        }
    } else {
        StoreError::Backend {
            backend: "redis",
            message: e.to_string(),
        }
    }
}

fn kv_key(app: &str, room: &str) -> String {
    format!("lodge:{{{app}}}:kv:{room}")
}
fn keys_key(app: &str, room: &str) -> String {
    format!("lodge:{{{app}}}:keys:{room}")
}
fn app_key(app: &str, what: &str) -> String {
    format!("lodge:{{{app}}}:{what}")
}
const APPS: &str = "lodge:apps";

/// Why Redis can't be used as Lodge's kv.
#[derive(Debug, thiserror::Error)]
pub enum RedisRefused {
    #[error(
        "Redis at this address keeps no append-only file (appendonly is `{0}`): a restart would lose acknowledged writes. Set `appendonly yes` (and `appendfsync everysec` or `always`) in its configuration"
    )]
    NoAppendOnly(String),
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl RedisKv {
    /// Connects, and checks the server persists every write
    /// (`appendonly yes`).
    pub async fn open(url: &str) -> Result<Self, RedisRefused> {
        // `rediss://` signs with ring, as the rest of Lodge does.
        let _ = rustls::crypto::ring::default_provider().install_default();
        let client = redis::Client::open(url).map_err(store_error)?;
        let config = redis::aio::ConnectionManagerConfig::new()
            .set_connection_timeout(Some(Duration::from_secs(5)))
            .set_response_timeout(Some(Duration::from_secs(10)))
            .set_number_of_retries(2)
            .set_max_delay(Duration::from_secs(1));
        let connect =
            || redis::aio::ConnectionManager::new_with_config(client.clone(), config.clone());
        let mut reads = connect().await.map_err(store_error)?;
        let answer: Vec<String> = redis::cmd("CONFIG")
            .arg("GET")
            .arg("appendonly")
            .query_async(&mut reads)
            .await
            .map_err(store_error)?;
        let appendonly = answer.get(1).cloned().unwrap_or_default();
        if appendonly != "yes" {
            return Err(RedisRefused::NoAppendOnly(appendonly));
        }
        let mut stripes = Vec::with_capacity(STRIPES);
        for _ in 0..STRIPES {
            stripes.push(Mutex::new(connect().await.map_err(store_error)?));
        }
        Ok(Self { reads, stripes })
    }

    fn stripe(&self, app: &str) -> &Mutex<ConnectionManager> {
        let index = app
            .bytes()
            .fold(0usize, |h, b| h.wrapping_mul(31).wrapping_add(b as usize));
        &self.stripes[index % STRIPES]
    }

    /// Runs a write: [`plan`] reads what it needs on the watching
    /// connection and returns the transaction to commit (or a refusal);
    /// retried when a watched key changed before `EXEC`.
    async fn write(&self, app: &str, write: Write<'_>) -> Result<Answer, KvError> {
        let watch = write.watched(app);
        let mut conn = self.stripe(app).lock().await;
        for _ in 0..ATTEMPTS {
            redis::cmd("WATCH")
                .arg(&watch)
                .exec_async(&mut *conn)
                .await
                .map_err(redis_error)?;
            let (mut pipe, answer) = match plan(&mut conn, app, &write).await {
                Ok(planned) => planned,
                Err(e) => {
                    let _ = redis::cmd("UNWATCH").exec_async(&mut *conn).await;
                    return Err(e);
                }
            };
            let committed: Option<redis::Value> = pipe
                .atomic()
                .query_async(&mut *conn)
                .await
                .map_err(redis_error)?;
            if committed.is_some() {
                return Ok(answer);
            }
        }
        Err(KvError::Store(StoreError::Unavailable {
            backend: "redis",
            reason: format!("the write conflicted with others {ATTEMPTS} times"),
        }))
    }
}

/// One write, planned under `WATCH` by [`plan`].
enum Write<'a> {
    Set {
        scope: &'a KvScope,
        key: &'a str,
        value: &'a [u8],
        limits: KvLimits,
    },
    Delete {
        scope: &'a KvScope,
        key: &'a str,
    },
    Increment {
        scope: &'a KvScope,
        key: &'a str,
        delta: i64,
        limits: KvLimits,
    },
    AdvanceFence {
        room: &'a str,
        fence: i64,
    },
    /// Removes a room scope if it is still unwritten since `before_ms`.
    Expire {
        room: &'a str,
        before_ms: i64,
    },
}

/// What a write answers.
enum Answer {
    Unit,
    Yes(bool),
    Value(i64),
}

impl Write<'_> {
    /// The keys whose change between reading and `EXEC` retries the write.
    fn watched(&self, app: &str) -> Vec<String> {
        let room = match self {
            Write::Set { scope, .. }
            | Write::Delete { scope, .. }
            | Write::Increment { scope, .. } => scope.room(),
            Write::AdvanceFence { .. } => return vec![app_key(app, "fences")],
            Write::Expire { room, .. } => room,
        };
        vec![
            kv_key(app, room),
            app_key(app, "usage"),
            app_key(app, "touched"),
            app_key(app, "totals"),
            app_key(app, "fences"),
        ]
    }
}

/// Reads what `write` needs and returns the commands that make it.
async fn plan(
    conn: &mut ConnectionManager,
    app: &str,
    write: &Write<'_>,
) -> Result<(redis::Pipeline, Answer), KvError> {
    match *write {
        Write::Set {
            scope,
            key,
            value,
            limits,
        } => Ok((
            plan_put(conn, &limits, app, scope, key, value).await?,
            Answer::Unit,
        )),
        Write::Increment {
            scope,
            key,
            delta,
            limits,
        } => {
            let current: Option<Vec<u8>> = conn
                .hget(kv_key(app, scope.room()), key)
                .await
                .map_err(redis_error)?;
            let next = rules::increment(current.as_deref(), delta)?;
            let pipe =
                plan_put(conn, &limits, app, scope, key, next.to_string().as_bytes()).await?;
            Ok((pipe, Answer::Value(next)))
        }
        Write::Delete { scope, key } => {
            check_fence(conn, app, scope).await?;
            let room = scope.room();
            let (len, exists, used, count): (u64, bool, Option<u64>, u64) = redis::pipe()
                .cmd("HSTRLEN")
                .arg(kv_key(app, room))
                .arg(key)
                .hexists(kv_key(app, room), key)
                .hget(app_key(app, "usage"), room)
                .hlen(kv_key(app, room))
                .query_async(conn)
                .await
                .map_err(redis_error)?;
            let mut pipe = redis::pipe();
            if exists {
                pipe.hdel(kv_key(app, room), key)
                    .zrem(keys_key(app, room), key);
                plan_shrink(
                    &mut pipe,
                    app,
                    room,
                    used.unwrap_or(0),
                    len + key.len() as u64,
                    count.saturating_sub(1),
                );
            }
            Ok((pipe, Answer::Yes(exists)))
        }
        Write::AdvanceFence { room, fence } => {
            let current: Option<i64> = conn
                .hget(app_key(app, "fences"), room)
                .await
                .map_err(redis_error)?;
            let mut pipe = redis::pipe();
            pipe.hset(
                app_key(app, "fences"),
                room,
                current.unwrap_or(fence).max(fence),
            )
            .hset(app_key(app, "fence-touched"), room, crate::now_ms())
            .sadd(APPS, app);
            Ok((pipe, Answer::Unit))
        }
        Write::Expire { room, before_ms } => {
            let (touched, used): (Option<i64>, Option<u64>) = redis::pipe()
                .hget(app_key(app, "touched"), room)
                .hget(app_key(app, "usage"), room)
                .query_async(conn)
                .await
                .map_err(redis_error)?;
            let mut pipe = redis::pipe();
            let stale = touched.is_some_and(|ms| ms < before_ms);
            if stale {
                pipe.del(kv_key(app, room)).del(keys_key(app, room));
                plan_shrink(&mut pipe, app, room, 0, used.unwrap_or(0), 0);
            }
            Ok((pipe, Answer::Yes(stale)))
        }
    }
}

/// Refuses a write whose fence is older than the room's.
async fn check_fence(
    conn: &mut ConnectionManager,
    app: &str,
    scope: &KvScope,
) -> Result<(), KvError> {
    let Some(held) = scope.fence() else {
        return Ok(());
    };
    let current: Option<i64> = conn
        .hget(app_key(app, "fences"), scope.room())
        .await
        .map_err(redis_error)?;
    match current {
        Some(current) if current > held => Err(KvError::Fenced { held, current }),
        _ => Ok(()),
    }
}

/// Plans writing `value` at `key`: reads usage, asks [`rules`], and
/// returns the commands that write it with the new counts.
async fn plan_put(
    conn: &mut ConnectionManager,
    limits: &KvLimits,
    app: &str,
    scope: &KvScope,
    key: &str,
    value: &[u8],
) -> Result<redis::Pipeline, KvError> {
    check_fence(conn, app, scope).await?;
    let room = scope.room();
    let (old, used, totals): (Option<u64>, Option<u64>, HashMap<String, i64>) = redis::pipe()
        .cmd("HSTRLEN")
        .arg(kv_key(app, room))
        .arg(key)
        .hget(app_key(app, "usage"), room)
        .hgetall(app_key(app, "totals"))
        .query_async(conn)
        .await
        .map_err(redis_error)?;
    let exists: bool = conn
        .hexists(kv_key(app, room), key)
        .await
        .map_err(redis_error)?;
    let count = |n: i64| u64::try_from(n).unwrap_or(0);
    let usage = Usage {
        scope_bytes: used,
        app_bytes: count(totals.get("bytes").copied().unwrap_or(0)),
        room_scopes: u32::try_from(totals.get("room_scopes").copied().unwrap_or(0)).unwrap_or(0),
        old_value_bytes: exists.then(|| old.unwrap_or(0)),
    };
    let accepted = rules::check_write(limits, scope, &usage, key.len(), value.len())?;
    let mut pipe = redis::pipe();
    pipe.hset(kv_key(app, room), key, value)
        .zadd(keys_key(app, room), key, 0)
        .hset(app_key(app, "usage"), room, accepted.scope_bytes)
        .hset(app_key(app, "touched"), room, crate::now_ms())
        .hincr(app_key(app, "totals"), "bytes", accepted.app_growth)
        .hincr(
            app_key(app, "totals"),
            "room_scopes",
            i64::from(accepted.new_room_scope),
        )
        .sadd(APPS, app);
    Ok(pipe)
}

/// Adds to `pipe` what takes `bytes` out of a scope's and its app's
/// counts, forgetting the scope when it is left empty.
fn plan_shrink(
    pipe: &mut redis::Pipeline,
    app: &str,
    room: &str,
    used: u64,
    bytes: u64,
    keys_left: u64,
) {
    let left = used.saturating_sub(bytes);
    if left == 0 && keys_left == 0 {
        pipe.hdel(app_key(app, "usage"), room)
            .hdel(app_key(app, "touched"), room);
        if !room.is_empty() {
            pipe.hincr(app_key(app, "totals"), "room_scopes", -1);
        }
    } else {
        pipe.hset(app_key(app, "usage"), room, left);
    }
    pipe.hincr(
        app_key(app, "totals"),
        "bytes",
        -(bytes.min(i64::MAX as u64) as i64),
    );
}

#[async_trait]
impl KvStore for RedisKv {
    async fn get(&self, app: &str, scope: &KvScope, key: &str) -> Result<Option<Vec<u8>>, KvError> {
        let mut conn = self.reads.clone();
        conn.hget(kv_key(app, scope.room()), key)
            .await
            .map_err(redis_error)
    }

    async fn set(
        &self,
        app: &str,
        scope: &KvScope,
        key: &str,
        value: Vec<u8>,
        limits: KvLimits,
    ) -> Result<(), KvError> {
        let write = Write::Set {
            scope,
            key,
            value: &value,
            limits,
        };
        self.write(app, write).await.map(|_| ())
    }

    async fn delete(&self, app: &str, scope: &KvScope, key: &str) -> Result<bool, KvError> {
        match self.write(app, Write::Delete { scope, key }).await? {
            Answer::Yes(existed) => Ok(existed),
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
        let mut conn = self.reads.clone();
        // Lexicographic range [prefix, prefix + 0xff…): keys starting with it.
        let mut end = prefix.as_bytes().to_vec();
        end.push(0xff);
        let mut start = b"[".to_vec();
        start.extend_from_slice(prefix.as_bytes());
        let mut stop = b"(".to_vec();
        stop.extend_from_slice(&end);
        redis::cmd("ZRANGEBYLEX")
            .arg(keys_key(app, scope.room()))
            .arg(start)
            .arg(stop)
            .arg("LIMIT")
            .arg(0)
            .arg(limit.min(crate::kv::MAX_LIST))
            .query_async(&mut conn)
            .await
            .map_err(redis_error)
    }

    async fn increment(
        &self,
        app: &str,
        scope: &KvScope,
        key: &str,
        delta: i64,
        limits: KvLimits,
    ) -> Result<i64, KvError> {
        let write = Write::Increment {
            scope,
            key,
            delta,
            limits,
        };
        match self.write(app, write).await? {
            Answer::Value(value) => Ok(value),
            _ => Err(KvError::Store(StoreError::Task(
                "an increment answered no value".into(),
            ))),
        }
    }

    async fn advance_fence(&self, app: &str, room: &str, fence: i64) -> Result<(), KvError> {
        self.write(app, Write::AdvanceFence { room, fence })
            .await
            .map(|_| ())
    }

    async fn delete_app(&self, app: &str) -> Result<(), KvError> {
        let _stripe = self.stripe(app).lock().await;
        let mut conn = self.reads.clone();
        let pattern = format!("lodge:{{{app}}}:*");
        let keys: Vec<String> = {
            let mut iter: redis::AsyncIter<String> =
                conn.scan_match(&pattern).await.map_err(redis_error)?;
            let mut keys = Vec::new();
            while let Some(key) = iter.next_item().await {
                keys.push(key.map_err(redis_error)?);
            }
            keys
        };
        let mut pipe = redis::pipe();
        pipe.atomic();
        for chunk in keys.chunks(512) {
            pipe.del(chunk);
        }
        pipe.srem(APPS, app);
        pipe.query_async::<()>(&mut conn).await.map_err(redis_error)
    }

    async fn expire_room_scopes(&self, before_ms: i64) -> Result<u64, KvError> {
        let mut conn = self.reads.clone();
        let apps: Vec<String> = conn.smembers(APPS).await.map_err(redis_error)?;
        let mut expired = 0u64;
        for app in apps {
            let touched: HashMap<String, i64> = conn
                .hgetall(app_key(&app, "touched"))
                .await
                .map_err(redis_error)?;
            for (room, ms) in touched {
                if room.is_empty() || ms >= before_ms {
                    continue;
                }
                let write = Write::Expire {
                    room: &room,
                    before_ms,
                };
                let gone = matches!(self.write(&app, write).await?, Answer::Yes(true));
                expired += u64::from(gone);
            }
            let fences: HashMap<String, i64> = conn
                .hgetall(app_key(&app, "fence-touched"))
                .await
                .map_err(redis_error)?;
            let stale: Vec<&String> = fences
                .iter()
                .filter(|(_, ms)| **ms < before_ms)
                .map(|(room, _)| room)
                .collect();
            if !stale.is_empty() {
                redis::pipe()
                    .atomic()
                    .hdel(app_key(&app, "fences"), &stale)
                    .hdel(app_key(&app, "fence-touched"), &stale)
                    .query_async::<()>(&mut conn)
                    .await
                    .map_err(redis_error)?;
            }
        }
        Ok(expired)
    }

    async fn app_bytes(&self) -> Result<HashMap<String, u64>, KvError> {
        let mut conn = self.reads.clone();
        let apps: Vec<String> = conn.smembers(APPS).await.map_err(redis_error)?;
        let mut bytes = HashMap::new();
        for app in apps {
            let n: Option<i64> = conn
                .hget(app_key(&app, "totals"), "bytes")
                .await
                .map_err(redis_error)?;
            bytes.insert(app, n.unwrap_or(0).max(0) as u64);
        }
        Ok(bytes)
    }
}
