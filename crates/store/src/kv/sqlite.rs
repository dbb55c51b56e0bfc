//! The embedded kv backend: one SQLite file owned by one writer thread.

use super::rules::{self, Usage};
use super::{KvError, KvLimits, KvScope, KvStore};
use crate::{Result, StoreError};
use async_trait::async_trait;
use rusqlite::{Connection, OptionalExtension, params};
use std::collections::HashMap;
use std::path::Path;

/// Schema migrations, applied in order (`PRAGMA user_version` counts them).
/// The first ran without a version before there were others, so it must
/// keep `IF NOT EXISTS`.
const MIGRATIONS: &[&str] = &[
    r#"
    CREATE TABLE IF NOT EXISTS kv (
        app TEXT NOT NULL,
        room TEXT NOT NULL,
        key TEXT NOT NULL,
        value BLOB NOT NULL,
        PRIMARY KEY (app, room, key)
    ) STRICT, WITHOUT ROWID;
    CREATE TABLE IF NOT EXISTS kv_usage (
        app TEXT NOT NULL,
        room TEXT NOT NULL,
        bytes INTEGER NOT NULL,
        PRIMARY KEY (app, room)
    ) STRICT, WITHOUT ROWID;
"#,
    // Per-app totals (bytes in all scopes, room scopes holding data) and when
    // each scope was last written, for the app quota and room-scope expiry.
    r#"
    ALTER TABLE kv_usage ADD COLUMN touched_ms INTEGER NOT NULL DEFAULT 0;
    UPDATE kv_usage SET touched_ms = CAST(strftime('%s', 'now') AS INTEGER) * 1000;
    CREATE TABLE kv_apps (
        app TEXT PRIMARY KEY,
        bytes INTEGER NOT NULL,
        room_scopes INTEGER NOT NULL
    ) STRICT, WITHOUT ROWID;
    INSERT INTO kv_apps (app, bytes, room_scopes)
        SELECT app, sum(bytes), sum(room != '') FROM kv_usage GROUP BY app;
"#,
    // Rooms' fences: the ownership number a room's writes must carry at
    // least, once rooms move between servers.
    r#"
    CREATE TABLE kv_fences (
        app TEXT NOT NULL,
        room TEXT NOT NULL,
        fence INTEGER NOT NULL,
        touched_ms INTEGER NOT NULL,
        PRIMARY KEY (app, room)
    ) STRICT, WITHOUT ROWID;
"#,
];

/// One queued operation: runs on the writer thread inside a group
/// transaction, and returns how to answer once that transaction committed.
type Job = Box<dyn FnOnce(&Connection) -> Reply + Send>;
type Reply = Box<dyn FnOnce(Result<(), StoreError>) + Send>;

/// The most operations committed together.
const MAX_GROUP: usize = 256;

/// App data in SQLite, owned by one thread: operations queue to it and
/// whatever is queued commits as one transaction (group commit), so many
/// rooms writing at once cost one commit, not one each.
#[derive(Clone)]
pub struct SqliteKv {
    jobs: std::sync::mpsc::Sender<Job>,
}

impl SqliteKv {
    pub fn open(path: &Path) -> Result<Self> {
        let mut conn = Connection::open(path)?;
        conn.pragma_update(None, "journal_mode", "WAL")?;
        conn.pragma_update(None, "synchronous", "NORMAL")?;
        conn.busy_timeout(std::time::Duration::from_secs(5))?;
        crate::sqlite::migrate(&mut conn, MIGRATIONS)?;
        let (jobs, queue) = std::sync::mpsc::channel::<Job>();
        std::thread::Builder::new()
            .name("lodge-kv".into())
            .spawn(move || writer(conn, queue))
            .map_err(StoreError::io("starting the kv thread"))?;
        Ok(Self { jobs })
    }

    /// Runs `f` on the writer thread; its writes are durable when this returns.
    async fn with<T: Send + 'static>(
        &self,
        f: impl FnOnce(&Connection) -> Result<T, KvError> + Send + 'static,
    ) -> Result<T, KvError> {
        let (answer, answered) = tokio::sync::oneshot::channel();
        let job: Job = Box::new(move |conn| {
            // A savepoint per operation: one that fails leaves no partial write.
            let result = conn
                .execute_batch("SAVEPOINT op")
                .map_err(KvError::from)
                .and_then(|()| f(conn));
            let undo = if result.is_ok() {
                "RELEASE op"
            } else {
                "ROLLBACK TO op; RELEASE op"
            };
            let result = match conn.execute_batch(undo) {
                Ok(()) => result,
                Err(e) => Err(e.into()),
            };
            Box::new(move |committed: Result<(), StoreError>| {
                let _ = answer.send(committed.map_err(KvError::from).and(result));
            })
        });
        self.jobs
            .send(job)
            .map_err(|_| KvError::Store(StoreError::Task("the kv thread stopped".into())))?;
        answered
            .await
            .map_err(|_| KvError::Store(StoreError::Task("the kv thread stopped".into())))?
    }
}

/// The writer thread: takes what is queued, runs it in one transaction,
/// commits, then answers every operation.
fn writer(conn: Connection, queue: std::sync::mpsc::Receiver<Job>) {
    while let Ok(first) = queue.recv() {
        let mut group = vec![first];
        while group.len() < MAX_GROUP {
            match queue.try_recv() {
                Ok(job) => group.push(job),
                Err(_) => break,
            }
        }
        let begun = conn
            .execute_batch("BEGIN IMMEDIATE")
            .map_err(StoreError::from);
        let replies: Vec<Reply> = match &begun {
            Ok(()) => group.into_iter().map(|job| job(&conn)).collect(),
            Err(_) => Vec::new(),
        };
        let committed = begun.and_then(|()| conn.execute_batch("COMMIT").map_err(StoreError::from));
        if committed.is_err() {
            let _ = conn.execute_batch("ROLLBACK");
        }
        for reply in replies {
            let outcome = match &committed {
                Ok(()) => Ok(()),
                Err(e) if e.is_full() => Err(StoreError::Full {
                    doing: "writing app data (kv.db)".into(),
                }),
                Err(e) => Err(StoreError::Task(format!(
                    "committing kv writes failed: {e}"
                ))),
            };
            reply(outcome);
        }
    }
}

/// Refuses a write to `scope` whose fence is older than the room's.
fn check_fence(tx: &Connection, app: &str, scope: &KvScope) -> Result<(), KvError> {
    let Some(held) = scope.fence() else {
        return Ok(());
    };
    let current: Option<i64> = tx
        .prepare_cached("SELECT fence FROM kv_fences WHERE app = ?1 AND room = ?2")?
        .query_row(params![app, scope.room()], |r| r.get(0))
        .optional()?;
    match current {
        Some(current) if current > held => Err(KvError::Fenced { held, current }),
        _ => Ok(()),
    }
}

/// Writes `value` at `key` inside `tx`, if [`rules::check_write`] allows
/// it given the usage read in the same transaction, and records the new
/// usage.
fn put(
    tx: &Connection,
    limits: &KvLimits,
    app: &str,
    scope: &KvScope,
    key: &str,
    value: &[u8],
) -> Result<(), KvError> {
    check_fence(tx, app, scope)?;
    let room = scope.room();
    let old: Option<i64> = tx
        .prepare_cached("SELECT length(value) FROM kv WHERE app = ?1 AND room = ?2 AND key = ?3")?
        .query_row(params![app, room, key], |r| r.get(0))
        .optional()?;
    let used: Option<i64> = tx
        .prepare_cached("SELECT bytes FROM kv_usage WHERE app = ?1 AND room = ?2")?
        .query_row(params![app, room], |r| r.get(0))
        .optional()?;
    let (app_bytes, room_scopes): (i64, i64) = tx
        .prepare_cached("SELECT bytes, room_scopes FROM kv_apps WHERE app = ?1")?
        .query_row(params![app], |r| Ok((r.get(0)?, r.get(1)?)))
        .optional()?
        .unwrap_or((0, 0));
    let count = |n: i64| u64::try_from(n).unwrap_or(0);
    let usage = Usage {
        scope_bytes: used.map(count),
        app_bytes: count(app_bytes),
        room_scopes: u32::try_from(room_scopes).unwrap_or(0),
        old_value_bytes: old.map(count),
    };
    let accepted = rules::check_write(limits, scope, &usage, key.len(), value.len())?;
    tx.prepare_cached(
        "INSERT INTO kv (app, room, key, value) VALUES (?1, ?2, ?3, ?4)
         ON CONFLICT (app, room, key) DO UPDATE SET value = excluded.value",
    )?
    .execute(params![app, room, key, value])?;
    tx.prepare_cached(
        "INSERT INTO kv_usage (app, room, bytes, touched_ms) VALUES (?1, ?2, ?3, ?4)
         ON CONFLICT (app, room) DO UPDATE SET bytes = excluded.bytes, touched_ms = excluded.touched_ms",
    )?
    .execute(params![
        app,
        room,
        i64::try_from(accepted.scope_bytes).unwrap_or(i64::MAX),
        crate::now_ms()
    ])?;
    tx.prepare_cached(
        "INSERT INTO kv_apps (app, bytes, room_scopes) VALUES (?1, ?2, ?3)
         ON CONFLICT (app) DO UPDATE SET bytes = bytes + ?2, room_scopes = room_scopes + ?3",
    )?
    .execute(params![
        app,
        accepted.app_growth,
        i64::from(accepted.new_room_scope)
    ])?;
    Ok(())
}

/// Takes `bytes` out of a scope's and its app's counts; a scope left empty
/// is forgotten, so it no longer counts as one of the app's room scopes.
fn shrink(tx: &Connection, app: &str, room: &str, bytes: i64) -> Result<(), KvError> {
    let left: i64 = tx
        .prepare_cached(
            "UPDATE kv_usage SET bytes = max(0, bytes - ?3) WHERE app = ?1 AND room = ?2 RETURNING bytes",
        )?
        .query_row(params![app, room, bytes], |r| r.get(0))?;
    let gone = left == 0
        && tx
            .prepare_cached("SELECT NOT EXISTS (SELECT 1 FROM kv WHERE app = ?1 AND room = ?2)")?
            .query_row(params![app, room], |r| r.get::<_, bool>(0))?;
    if gone {
        tx.prepare_cached("DELETE FROM kv_usage WHERE app = ?1 AND room = ?2")?
            .execute(params![app, room])?;
    }
    tx.prepare_cached(
        "UPDATE kv_apps SET bytes = max(0, bytes - ?2), room_scopes = room_scopes - ?3 WHERE app = ?1",
    )?
    .execute(params![app, bytes, i64::from(gone && !room.is_empty())])?;
    Ok(())
}

#[async_trait]
impl KvStore for SqliteKv {
    async fn get(&self, app: &str, scope: &KvScope, key: &str) -> Result<Option<Vec<u8>>, KvError> {
        let (app, room, key) = (app.to_owned(), scope.room().to_owned(), key.to_owned());
        self.with(move |conn| {
            let mut stmt = conn
                .prepare_cached("SELECT value FROM kv WHERE app = ?1 AND room = ?2 AND key = ?3")?;
            Ok(stmt
                .query_row(params![app, room, key], |r| r.get(0))
                .optional()?)
        })
        .await
    }

    async fn set(
        &self,
        app: &str,
        scope: &KvScope,
        key: &str,
        value: Vec<u8>,
        limits: KvLimits,
    ) -> Result<(), KvError> {
        let (app, scope, key) = (app.to_owned(), scope.clone(), key.to_owned());
        self.with(move |conn| put(conn, &limits, &app, &scope, &key, &value))
            .await
    }

    async fn delete(&self, app: &str, scope: &KvScope, key: &str) -> Result<bool, KvError> {
        let (app, scope, key) = (app.to_owned(), scope.clone(), key.to_owned());
        self.with(move |tx| {
            check_fence(tx, &app, &scope)?;
            let room = scope.room();
            let old: Option<i64> = tx
                .query_row(
                    "DELETE FROM kv WHERE app = ?1 AND room = ?2 AND key = ?3 RETURNING length(value)",
                    params![app, room, key],
                    |r| r.get(0),
                )
                .optional()?;
            if let Some(len) = old {
                shrink(tx, &app, room, len + key.len() as i64)?;
            }
            Ok(old.is_some())
        })
        .await
    }

    async fn list_keys(
        &self,
        app: &str,
        scope: &KvScope,
        prefix: &str,
        limit: u32,
    ) -> Result<Vec<String>, KvError> {
        let (app, room, prefix) = (app.to_owned(), scope.room().to_owned(), prefix.to_owned());
        self.with(move |conn| {
            // Keys >= prefix, stopping at the first that doesn't start with it: a range scan.
            let mut stmt = conn.prepare_cached(
                "SELECT key FROM kv WHERE app = ?1 AND room = ?2 AND key >= ?3 ORDER BY key LIMIT ?4",
            )?;
            let mut keys = Vec::new();
            let mut rows = stmt.query(params![app, room, prefix, i64::from(limit.min(super::MAX_LIST))])?;
            while let Some(row) = rows.next()? {
                let key: String = row.get(0)?;
                if !key.starts_with(&prefix) {
                    break;
                }
                keys.push(key);
            }
            Ok(keys)
        })
        .await
    }

    async fn increment(
        &self,
        app: &str,
        scope: &KvScope,
        key: &str,
        delta: i64,
        limits: KvLimits,
    ) -> Result<i64, KvError> {
        let (app, scope, key) = (app.to_owned(), scope.clone(), key.to_owned());
        self.with(move |tx| {
            let current: Option<Vec<u8>> = tx
                .query_row(
                    "SELECT value FROM kv WHERE app = ?1 AND room = ?2 AND key = ?3",
                    params![app, scope.room(), key],
                    |r| r.get(0),
                )
                .optional()?;
            let next = rules::increment(current.as_deref(), delta)?;
            put(tx, &limits, &app, &scope, &key, next.to_string().as_bytes())?;
            Ok(next)
        })
        .await
    }

    async fn advance_fence(&self, app: &str, room: &str, fence: i64) -> Result<(), KvError> {
        let (app, room) = (app.to_owned(), room.to_owned());
        self.with(move |conn| {
            conn.prepare_cached(
                "INSERT INTO kv_fences (app, room, fence, touched_ms) VALUES (?1, ?2, ?3, ?4)
                 ON CONFLICT (app, room) DO UPDATE
                 SET fence = max(fence, excluded.fence), touched_ms = excluded.touched_ms",
            )?
            .execute(params![app, room, fence, crate::now_ms()])?;
            Ok(())
        })
        .await
    }

    async fn delete_app(&self, app: &str) -> Result<(), KvError> {
        let app = app.to_owned();
        self.with(move |conn| {
            conn.execute("DELETE FROM kv_fences WHERE app = ?1", params![app])?;
            conn.execute("DELETE FROM kv WHERE app = ?1", params![app])?;
            conn.execute("DELETE FROM kv_usage WHERE app = ?1", params![app])?;
            conn.execute("DELETE FROM kv_apps WHERE app = ?1", params![app])?;
            Ok(())
        })
        .await
    }

    async fn app_bytes(&self) -> Result<HashMap<String, u64>, KvError> {
        self.with(|conn| {
            let mut stmt = conn.prepare_cached("SELECT app, bytes FROM kv_apps")?;
            let rows = stmt.query_map([], |r| Ok((r.get::<_, String>(0)?, r.get::<_, i64>(1)?)))?;
            let mut bytes = HashMap::new();
            for row in rows {
                let (app, n) = row?;
                bytes.insert(app, n.max(0) as u64);
            }
            Ok(bytes)
        })
        .await
    }

    async fn expire_room_scopes(&self, before_ms: i64) -> Result<u64, KvError> {
        self.with(move |tx| {
            let stale: Vec<(String, String, i64)> = tx
                .prepare(
                    "SELECT app, room, bytes FROM kv_usage WHERE room != '' AND touched_ms < ?1",
                )?
                .query_map(params![before_ms], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))?
                .collect::<Result<_, _>>()?;
            for (app, room, bytes) in &stale {
                tx.execute(
                    "DELETE FROM kv WHERE app = ?1 AND room = ?2",
                    params![app, room],
                )?;
                tx.execute(
                    "DELETE FROM kv_usage WHERE app = ?1 AND room = ?2",
                    params![app, room],
                )?;
                tx.execute(
                    "UPDATE kv_apps SET bytes = max(0, bytes - ?2), room_scopes = room_scopes - 1 WHERE app = ?1",
                    params![app, bytes],
                )?;
            }
            tx.execute(
                "DELETE FROM kv_fences WHERE touched_ms < ?1",
                params![before_ms],
            )?;
            Ok(stale.len() as u64)
        })
        .await
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::kv::{Kv, LimitedKv};

    fn open(path: &Path, limits: KvLimits) -> LimitedKv<SqliteKv> {
        LimitedKv::new(SqliteKv::open(path).unwrap(), limits)
    }

    #[tokio::test]
    async fn scopes_are_separate_and_quotas_hold() {
        let dir = tempfile::tempdir().unwrap();
        let limits = KvLimits {
            max_key_bytes: 8,
            max_value_bytes: 16,
            max_scope_bytes: 40,
            ..KvLimits::default()
        };
        let kv = open(&dir.path().join("kv.db"), limits);
        let room = KvScope::room_named("lobby");
        kv.set("a", &room, "k", b"room".to_vec()).await.unwrap();
        kv.set("a", &KvScope::App, "k", b"app".to_vec())
            .await
            .unwrap();
        assert_eq!(kv.get("a", &room, "k").await.unwrap().unwrap(), b"room");
        assert_eq!(
            kv.get("a", &KvScope::App, "k").await.unwrap().unwrap(),
            b"app"
        );
        assert_eq!(kv.get("b", &KvScope::App, "k").await.unwrap(), None);
        assert!(matches!(
            kv.set("a", &room, "k", vec![0; 17]).await,
            Err(KvError::ValueTooLarge(16))
        ));
        assert!(matches!(
            kv.get("a", &room, "123456789").await,
            Err(KvError::KeyTooLarge(8))
        ));
        kv.set("a", &room, "k2", vec![1; 16]).await.unwrap();
        kv.set("a", &room, "k3", vec![1; 10]).await.unwrap();
        assert!(matches!(
            kv.set("a", &room, "k4", vec![1; 16]).await,
            Err(KvError::ScopeFull(40))
        ));
        assert!(kv.delete("a", &room, "k2").await.unwrap());
        kv.set("a", &room, "k4", vec![1; 16]).await.unwrap();
        assert_eq!(
            kv.list_keys("a", &room, "k", 10).await.unwrap(),
            ["k", "k3", "k4"]
        );
        assert_eq!(kv.list_keys("a", &room, "k", 2).await.unwrap(), ["k", "k3"]);
        assert_eq!(kv.increment("a", &KvScope::App, "n", 5).await.unwrap(), 5);
        assert_eq!(kv.increment("a", &KvScope::App, "n", -2).await.unwrap(), 3);
        assert!(matches!(
            kv.increment("a", &KvScope::App, "k", 1).await,
            Err(KvError::NotANumber)
        ));
        kv.delete_app("a").await.unwrap();
        assert_eq!(kv.get("a", &KvScope::App, "n").await.unwrap(), None);
    }

    #[tokio::test]
    async fn an_app_is_bounded_in_all_its_scopes_and_old_room_scopes_expire() {
        let dir = tempfile::tempdir().unwrap();
        let limits = KvLimits {
            max_scope_bytes: 100,
            max_app_bytes: 250,
            max_room_scopes: 3,
            ..KvLimits::default()
        };
        let kv = open(&dir.path().join("kv.db"), limits);
        let room = |n: u32| KvScope::room_named(format!("r{n}"));
        for n in 0..3 {
            kv.set("a", &room(n), "k", vec![1; 60]).await.unwrap();
        }
        assert!(matches!(
            kv.set("a", &room(3), "k", vec![1; 1]).await,
            Err(KvError::TooManyRoomScopes(3, _))
        ));
        // Another app has its own quotas.
        kv.set("b", &room(3), "k", vec![1; 60]).await.unwrap();
        assert!(matches!(
            kv.set("a", &KvScope::App, "k", vec![1; 80]).await,
            Err(KvError::AppFull(250))
        ));
        kv.set("a", &KvScope::App, "k", vec![1; 60]).await.unwrap();
        // Emptying a room scope frees it.
        assert!(kv.delete("a", &room(0), "k").await.unwrap());
        kv.set("a", &room(3), "k", vec![1; 10]).await.unwrap();
        // Room scopes unwritten since a moment ago are gone, with their bytes.
        let expired = kv.expire_room_scopes(crate::now_ms() + 1).await.unwrap();
        assert_eq!(expired, 4);
        assert_eq!(kv.get("a", &room(1), "k").await.unwrap(), None);
        assert_eq!(
            kv.get("a", &KvScope::App, "k")
                .await
                .unwrap()
                .unwrap()
                .len(),
            60
        );
        kv.set("a", &KvScope::App, "k2", vec![1; 30]).await.unwrap();
        for n in 4..7 {
            kv.set("a", &room(n), "k", vec![1; 10]).await.unwrap();
        }
    }

    /// A kv.db written by the release before per-app quotas (no schema
    /// version, no per-app table) opens, keeps its data, and counts it.
    #[tokio::test]
    async fn a_kv_database_from_the_previous_release_is_migrated() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("kv.db");
        std::fs::copy(
            concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/kv-0.1.db"),
            &path,
        )
        .unwrap();
        let limits = KvLimits {
            max_app_bytes: 20,
            ..KvLimits::default()
        };
        let kv = open(&path, limits);
        assert_eq!(
            kv.get("chat", &KvScope::room_named("lobby"), "history")
                .await
                .unwrap()
                .unwrap(),
            b"hello"
        );
        assert_eq!(
            kv.increment("counter", &KvScope::App, "count", 1)
                .await
                .unwrap(),
            42
        );
        // chat already holds 12 bytes: 12 more would pass 20.
        assert!(matches!(
            kv.set("chat", &KvScope::App, "twelve-bytes", vec![]).await,
            Err(KvError::AppFull(20))
        ));
    }
}
