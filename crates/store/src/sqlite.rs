//! The embedded registry: one SQLite file in WAL mode. Its behaviour is
//! tested with every registry backend's, in `tests/registry_conformance.rs`.

use crate::registry::highest;
use crate::{
    AppSummary, AssetRecord, GcLease, NewVersion, PartRecord, PublishOutcome, Registry, Result,
    StoreError, VersionRecord, VersionSummary, blocking, now_ms,
};
use async_trait::async_trait;
use lodge_manifest::{AppName, Manifest, Role};
use rusqlite::{Connection, OptionalExtension, params};
use std::collections::{BTreeMap, HashSet};
use std::path::Path;
use std::sync::{Arc, Mutex};

/// Schema migrations, applied in order; `PRAGMA user_version` counts how many ran.
const MIGRATIONS: &[&str] = &[
    r#"
    CREATE TABLE apps (
        name TEXT PRIMARY KEY,
        created_ms INTEGER NOT NULL
    ) STRICT;
    CREATE TABLE versions (
        app TEXT NOT NULL REFERENCES apps(name) ON DELETE CASCADE,
        version TEXT NOT NULL,
        manifest TEXT NOT NULL,
        digest TEXT NOT NULL,
        size INTEGER NOT NULL,
        created_ms INTEGER NOT NULL,
        PRIMARY KEY (app, version)
    ) STRICT;
    CREATE TABLE parts (
        app TEXT NOT NULL,
        version TEXT NOT NULL,
        role TEXT NOT NULL,
        sha256 TEXT NOT NULL,
        size INTEGER NOT NULL,
        imports TEXT NOT NULL,
        exports TEXT NOT NULL,
        PRIMARY KEY (app, version, role),
        FOREIGN KEY (app, version) REFERENCES versions(app, version) ON DELETE CASCADE
    ) STRICT;
    CREATE INDEX parts_by_blob ON parts(sha256);
"#,
    // The garbage-collection lease: one row, never deleted, so its fence
    // only grows.
    r#"
    CREATE TABLE gc_lease (
        id INTEGER PRIMARY KEY CHECK (id = 1),
        holder TEXT NOT NULL,
        fence INTEGER NOT NULL,
        expires_ms INTEGER NOT NULL
    ) STRICT;
"#,
    // The files of a version's `[client].assets`: blobs like components,
    // named by the path the manifest lists (`ord` keeps its order).
    r#"
    CREATE TABLE version_assets (
        app TEXT NOT NULL,
        version TEXT NOT NULL,
        ord INTEGER NOT NULL,
        name TEXT NOT NULL,
        sha256 TEXT NOT NULL,
        size INTEGER NOT NULL,
        PRIMARY KEY (app, version, ord),
        UNIQUE (app, version, name),
        FOREIGN KEY (app, version) REFERENCES versions(app, version) ON DELETE CASCADE
    ) STRICT;
    CREATE INDEX version_assets_by_blob ON version_assets(sha256);
"#,
    // Accounts (issue 12). Secrets are stored as SHA-256 digests, passwords
    // as Argon2id hashes (empty: none yet). Apps published before this
    // migration get the first admin as their owner on start-up.
    r#"
    CREATE TABLE accounts (
        id INTEGER PRIMARY KEY,
        username TEXT NOT NULL UNIQUE COLLATE NOCASE,
        password_hash TEXT NOT NULL,
        role TEXT NOT NULL CHECK (role IN ('admin', 'user')),
        disabled INTEGER NOT NULL DEFAULT 0,
        quotas TEXT NOT NULL DEFAULT '{}',
        created_ms INTEGER NOT NULL
    ) STRICT;
    CREATE TABLE sessions (
        secret_hash TEXT PRIMARY KEY,
        account INTEGER NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
        csrf TEXT NOT NULL,
        created_ms INTEGER NOT NULL,
        expires_ms INTEGER NOT NULL
    ) STRICT;
    CREATE INDEX sessions_by_account ON sessions(account);
    CREATE TABLE api_tokens (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        account INTEGER NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
        name TEXT NOT NULL,
        secret_hash TEXT NOT NULL UNIQUE,
        scopes TEXT NOT NULL,
        created_ms INTEGER NOT NULL,
        expires_ms INTEGER,
        last_used_ms INTEGER
    ) STRICT;
    CREATE INDEX api_tokens_by_account ON api_tokens(account);
    CREATE TABLE invites (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        code_hash TEXT NOT NULL UNIQUE,
        created_by INTEGER REFERENCES accounts(id) ON DELETE SET NULL,
        created_ms INTEGER NOT NULL,
        expires_ms INTEGER NOT NULL,
        used_by INTEGER REFERENCES accounts(id) ON DELETE SET NULL,
        used_ms INTEGER
    ) STRICT;
    CREATE TABLE app_members (
        app TEXT NOT NULL REFERENCES apps(name) ON DELETE CASCADE,
        account INTEGER NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
        role TEXT NOT NULL CHECK (role IN ('owner', 'maintainer')),
        added_ms INTEGER NOT NULL,
        PRIMARY KEY (app, account)
    ) STRICT;
    CREATE INDEX app_members_by_account ON app_members(account);
"#,
    // Keys the server signs with (issue 13: room invitations), kept with
    // the registry so every server sharing it signs and checks alike.
    r#"
    CREATE TABLE server_keys (
        name TEXT PRIMARY KEY,
        key BLOB NOT NULL,
        created_ms INTEGER NOT NULL
    ) STRICT;
"#,
];

/// The registry in a SQLite database.
#[derive(Clone)]
pub struct SqliteRegistry {
    conn: Arc<Mutex<Connection>>,
}

impl SqliteRegistry {
    /// Opens (creating and migrating) the database at `path`.
    pub fn open(path: &Path) -> Result<Self> {
        let conn = Connection::open(path)?;
        conn.pragma_update(None, "journal_mode", "WAL")?;
        // FULL: an answered publish or delete survives a power loss; these
        // writes are rare, so the extra fsync per commit costs nothing.
        conn.pragma_update(None, "synchronous", "FULL")?;
        conn.pragma_update(None, "foreign_keys", "ON")?;
        conn.busy_timeout(std::time::Duration::from_secs(5))?;
        let mut conn = conn;
        migrate(&mut conn, MIGRATIONS)?;
        Ok(Self {
            conn: Arc::new(Mutex::new(conn)),
        })
    }

    pub(crate) async fn with<T: Send + 'static>(
        &self,
        f: impl FnOnce(&mut Connection) -> Result<T> + Send + 'static,
    ) -> Result<T> {
        let conn = self.conn.clone();
        blocking(move || {
            let mut conn = conn
                .lock()
                .map_err(|_| StoreError::Task("registry lock poisoned".into()))?;
            f(&mut conn)
        })
        .await
        .map_err(|e| match e {
            StoreError::Full { .. } => StoreError::Full {
                doing: "writing the registry (lodge.db)".into(),
            },
            e => e,
        })
    }
}

/// Brings a database's schema up to date: runs the `migrations` it hasn't
/// run yet, each in its own transaction, counting them in `user_version`.
pub(crate) fn migrate(conn: &mut Connection, migrations: &[&str]) -> Result<()> {
    let done: i64 = conn.pragma_query_value(None, "user_version", |r| r.get(0))?;
    let done = usize::try_from(done).unwrap_or(usize::MAX);
    if done > migrations.len() {
        return Err(StoreError::Corrupt(format!(
            "the database has schema version {done}, newer than this Lodge knows ({}); use a newer Lodge",
            migrations.len()
        )));
    }
    for (i, sql) in migrations.iter().enumerate().skip(done) {
        let tx = conn.transaction()?;
        tx.execute_batch(sql)?;
        tx.pragma_update(None, "user_version", (i + 1) as i64)?;
        tx.commit()?;
    }
    Ok(())
}

pub(crate) fn corrupt(what: &str, e: impl std::fmt::Display) -> StoreError {
    StoreError::Corrupt(format!("{what}: {e}"))
}

fn load_version(conn: &Connection, app: &str, version: &str) -> Result<Option<VersionRecord>> {
    let row = conn
        .query_row(
            "SELECT manifest, digest, size, created_ms FROM versions WHERE app = ?1 AND version = ?2",
            params![app, version],
            |r| Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?, r.get::<_, i64>(2)?, r.get::<_, i64>(3)?)),
        )
        .optional()?;
    let Some((manifest, digest, size, created_ms)) = row else {
        return Ok(None);
    };
    let manifest: Manifest =
        serde_json::from_str(&manifest).map_err(|e| corrupt("a stored manifest", e))?;
    let mut stmt = conn.prepare_cached(
        "SELECT role, sha256, size, imports, exports FROM parts WHERE app = ?1 AND version = ?2",
    )?;
    let mut parts = stmt
        .query_map(params![app, version], |r| {
            Ok((
                r.get::<_, String>(0)?,
                r.get::<_, String>(1)?,
                r.get::<_, i64>(2)?,
                r.get::<_, String>(3)?,
                r.get::<_, String>(4)?,
            ))
        })?
        .map(|row| {
            let (role, sha256, size, imports, exports) = row?;
            Ok(PartRecord {
                role: Role::from_name(&role).ok_or_else(|| corrupt("a stored part role", &role))?,
                sha256,
                size: size as u64,
                imports: serde_json::from_str(&imports)
                    .map_err(|e| corrupt("stored imports", e))?,
                exports: serde_json::from_str(&exports)
                    .map_err(|e| corrupt("stored exports", e))?,
            })
        })
        .collect::<Result<Vec<_>>>()?;
    parts.sort_by_key(|p| p.role);
    let mut stmt = conn.prepare_cached(
        "SELECT name, sha256, size FROM version_assets WHERE app = ?1 AND version = ?2 ORDER BY ord",
    )?;
    let assets = stmt
        .query_map(params![app, version], |r| {
            Ok(AssetRecord {
                name: r.get(0)?,
                sha256: r.get(1)?,
                size: r.get::<_, i64>(2)? as u64,
            })
        })?
        .collect::<Result<Vec<_>, _>>()?;
    Ok(Some(VersionRecord {
        manifest,
        digest,
        size: size as u64,
        created_ms,
        parts,
        assets,
    }))
}

fn version_strings(conn: &Connection, app: &str) -> Result<Vec<String>> {
    let mut stmt = conn.prepare_cached("SELECT version FROM versions WHERE app = ?1")?;
    let rows = stmt.query_map(params![app], |r| r.get(0))?;
    Ok(rows.collect::<Result<_, _>>()?)
}

#[async_trait]
impl Registry for SqliteRegistry {
    async fn publish(&self, new: NewVersion) -> Result<PublishOutcome> {
        self.with(move |conn| {
            let tx = conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
            let app = new.manifest.app.name.to_string();
            let version = new.manifest.app.version.to_string();
            if let Some(existing) = load_version(&tx, &app, &version)? {
                return Ok(if existing.digest == new.digest {
                    PublishOutcome::Unchanged(existing)
                } else {
                    PublishOutcome::Conflict(existing)
                });
            }
            let now = now_ms();
            let size: u64 = new.parts.iter().map(|p| p.size).sum::<u64>()
                + new.assets.iter().map(|a| a.size).sum::<u64>();
            if let Some(publisher) = &new.publisher
                && let Some(refusal) = crate::sqlite_accounts::check_publish(&tx, &app, publisher, size)?
            {
                return Ok(PublishOutcome::Refused(refusal));
            }
            let manifest = serde_json::to_string(&new.manifest).expect("manifests serialize");
            tx.execute(
                "INSERT INTO apps (name, created_ms) VALUES (?1, ?2) ON CONFLICT (name) DO NOTHING",
                params![app, now],
            )?;
            tx.execute(
                "INSERT INTO versions (app, version, manifest, digest, size, created_ms) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
                params![app, version, manifest, new.digest, size as i64, now],
            )?;
            if let Some(publisher) = &new.publisher {
                tx.execute(
                    "INSERT INTO app_members (app, account, role, added_ms)
                     SELECT ?1, ?2, 'owner', ?3 WHERE NOT EXISTS (SELECT 1 FROM app_members WHERE app = ?1)",
                    params![app, publisher.account, now],
                )?;
            }
            for part in &new.parts {
                tx.execute(
                    "INSERT INTO parts (app, version, role, sha256, size, imports, exports) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
                    params![
                        app,
                        version,
                        part.role.name(),
                        part.sha256,
                        part.size as i64,
                        serde_json::to_string(&part.imports).expect("strings serialize"),
                        serde_json::to_string(&part.exports).expect("strings serialize"),
                    ],
                )?;
            }
            for (ord, asset) in new.assets.iter().enumerate() {
                tx.execute(
                    "INSERT INTO version_assets (app, version, ord, name, sha256, size) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
                    params![app, version, ord as i64, asset.name, asset.sha256, asset.size as i64],
                )?;
            }
            let record = load_version(&tx, &app, &version)?
                .ok_or_else(|| StoreError::Corrupt("a version vanished inside its own transaction".into()))?;
            tx.commit()?;
            Ok(PublishOutcome::Created(record))
        })
        .await
    }

    async fn list_apps(&self) -> Result<Vec<AppSummary>> {
        self.with(|conn| {
            let mut stmt = conn.prepare_cached(
                "SELECT v.app, v.version, v.manifest, v.size, v.created_ms FROM versions v ORDER BY v.app",
            )?;
            let mut by_app: BTreeMap<String, Vec<VersionSummary>> = BTreeMap::new();
            let rows = stmt.query_map([], |r| {
                Ok((
                    r.get::<_, String>(0)?,
                    r.get::<_, String>(2)?,
                    r.get::<_, i64>(3)?,
                    r.get::<_, i64>(4)?,
                ))
            })?;
            for row in rows {
                let (app, manifest, size, created_ms) = row?;
                let manifest: Manifest =
                    serde_json::from_str(&manifest).map_err(|e| corrupt("a stored manifest", e))?;
                by_app.entry(app).or_default().push(VersionSummary {
                    roles: manifest.parts().iter().map(|p| p.role).collect(),
                    version: manifest.app.version,
                    description: manifest.app.description,
                    size: size as u64,
                    created_ms,
                });
            }
            by_app
                .into_iter()
                .map(|(name, versions)| {
                    let latest = highest(&versions, |v| &v.version).cloned().expect("apps have versions");
                    Ok(AppSummary {
                        name: AppName::new(name).map_err(|e| corrupt("a stored app name", e))?,
                        latest,
                        versions: versions.len(),
                    })
                })
                .collect()
        })
        .await
    }

    async fn versions(&self, app: &AppName) -> Result<Vec<VersionRecord>> {
        let app = app.to_string();
        self.with(move |conn| {
            let mut records = Vec::new();
            for version in version_strings(conn, &app)? {
                records.extend(load_version(conn, &app, &version)?);
            }
            records.sort_by(|a, b| b.manifest.app.version.cmp(&a.manifest.app.version));
            Ok(records)
        })
        .await
    }

    async fn version(
        &self,
        app: &AppName,
        version: &semver::Version,
    ) -> Result<Option<VersionRecord>> {
        let (app, version) = (app.to_string(), version.to_string());
        self.with(move |conn| load_version(conn, &app, &version))
            .await
    }

    async fn delete_version(&self, app: &AppName, version: &semver::Version) -> Result<bool> {
        let (app, version) = (app.to_string(), version.to_string());
        self.with(move |conn| {
            let tx = conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
            let deleted = tx.execute(
                "DELETE FROM versions WHERE app = ?1 AND version = ?2",
                params![app, version],
            )?;
            tx.execute(
                "DELETE FROM apps WHERE name = ?1 AND NOT EXISTS (SELECT 1 FROM versions WHERE app = ?1)",
                params![app],
            )?;
            tx.commit()?;
            Ok(deleted > 0)
        })
        .await
    }

    async fn delete_app(&self, app: &AppName) -> Result<bool> {
        let app = app.to_string();
        self.with(move |conn| {
            Ok(conn.execute("DELETE FROM apps WHERE name = ?1", params![app])? > 0)
        })
        .await
    }

    async fn referenced_blobs(&self) -> Result<HashSet<String>> {
        self.with(|conn| {
            let mut stmt = conn.prepare_cached(
                "SELECT sha256 FROM parts UNION SELECT sha256 FROM version_assets",
            )?;
            let rows = stmt.query_map([], |r| r.get(0))?;
            Ok(rows.collect::<Result<_, _>>()?)
        })
        .await
    }

    async fn is_client_part(&self, sha256: &str) -> Result<bool> {
        let sha256 = sha256.to_owned();
        self.with(move |conn| {
            Ok(conn
                .query_row(
                    "SELECT 1 FROM parts WHERE sha256 = ?1 AND role = 'client' LIMIT 1",
                    params![sha256],
                    |_| Ok(()),
                )
                .optional()?
                .is_some())
        })
        .await
    }

    async fn asset_name(&self, sha256: &str) -> Result<Option<String>> {
        let sha256 = sha256.to_owned();
        self.with(move |conn| {
            Ok(conn
                .query_row(
                    "SELECT name FROM version_assets WHERE sha256 = ?1 ORDER BY app, version, ord LIMIT 1",
                    params![sha256],
                    |r| r.get(0),
                )
                .optional()?)
        })
        .await
    }

    async fn lock_gc(&self, holder: &str, ttl: std::time::Duration) -> Result<Option<GcLease>> {
        let holder = holder.to_owned();
        let ttl_ms = i64::try_from(ttl.as_millis()).unwrap_or(i64::MAX);
        self.with(move |conn| {
            let tx = conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
            let now = now_ms();
            let current: Option<(String, i64, i64)> = tx
                .query_row(
                    "SELECT holder, fence, expires_ms FROM gc_lease WHERE id = 1",
                    [],
                    |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
                )
                .optional()?;
            let fence = match current {
                Some((_, _, expires_ms)) if expires_ms > now => return Ok(None),
                Some((_, fence, _)) => fence + 1,
                None => 1,
            };
            let lease = GcLease {
                holder,
                fence,
                expires_ms: now.saturating_add(ttl_ms),
            };
            tx.execute(
                "INSERT INTO gc_lease (id, holder, fence, expires_ms) VALUES (1, ?1, ?2, ?3)
                 ON CONFLICT (id) DO UPDATE SET holder = ?1, fence = ?2, expires_ms = ?3",
                params![lease.holder, lease.fence, lease.expires_ms],
            )?;
            tx.commit()?;
            Ok(Some(lease))
        })
        .await
    }

    async fn unlock_gc(&self, lease: &GcLease) -> Result<()> {
        let fence = lease.fence;
        self.with(move |conn| {
            conn.execute(
                "UPDATE gc_lease SET expires_ms = 0 WHERE id = 1 AND fence = ?1",
                params![fence],
            )?;
            Ok(())
        })
        .await
    }
}
