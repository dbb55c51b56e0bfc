//! Durable state: content-addressed blobs, the app registry and apps' kv
//! data, behind traits.
//!
//! The embedded implementations ([`FsBlobStore`], [`SqliteRegistry`],
//! [`SqliteKv`]) are the default; [`StorageConfig`] says which to build, and
//! a cluster can put PostgreSQL, Redis or S3-compatible storage behind the
//! same traits without touching the rest of Lodge.

mod accounts;
mod blobs;
pub mod cluster;
mod config;
mod kv;
mod object;
mod postgres;
mod redis_kv;
mod registry;
mod reserve;
mod sqlite;
mod sqlite_accounts;

pub use accounts::{
    Account, AccountId, AccountRole, AccountUsage, Accounts, AppMember, AppRole, CreateRefused,
    InviteRecord, MemberRefused, NewAccount, NewToken, PublishRefusal, Publisher, QuotaKind,
    QuotaOverrides, QuotaRefusal, Quotas, SessionRecord, TokenRecord,
};
pub use blobs::{BlobStore, FsBlobStore, sha256_hex};
pub use config::{
    BlobBackend, KvBackend, OpenError, RegistryBackend, Storage, StorageConfig, StorageUrls,
    UrlError, redact,
};
pub use kv::{Kv, KvError, KvLimits, KvScope, KvStore, LimitedKv, Quota, QuotaExceeded, SqliteKv};
pub use object::ObjectBlobs;
pub use postgres::{PgKv, PgRegistry, connect as postgres_pool};
pub use redis_kv::{RedisKv, RedisRefused};
pub use registry::{
    AppSummary, AssetRecord, GcLease, NewVersion, PartRecord, PublishOutcome, Registry,
    VersionRecord, VersionSummary,
};
pub use reserve::DiskReserve;
pub use sqlite::SqliteRegistry;

use thiserror::Error;

/// A storage failure. Callers show these as server errors: they are never
/// the client's fault.
#[derive(Debug, Error)]
pub enum StoreError {
    #[error("storage I/O failed while {doing}: {source}")]
    Io {
        doing: String,
        #[source]
        source: std::io::Error,
    },
    /// The disk (or the user's quota) is full: nothing was written, and
    /// writes can succeed again once space is freed.
    #[error("the disk is full: {doing} failed")]
    Full { doing: String },
    /// A backend refused or failed an operation in a way retrying won't
    /// fix; the message is the backend's (never a credential).
    #[error("{backend} failed: {message}")]
    Backend {
        /// `sqlite`, `postgres`, `redis` or `object store`.
        backend: &'static str,
        message: String,
    },
    /// The backend can't be reached now (a lost connection, a server
    /// restarting): the API answers 503, a guest gets a kv error it can
    /// retry, and the operation may succeed later.
    #[error("{backend} is unavailable: {reason}")]
    Unavailable {
        backend: &'static str,
        reason: String,
    },
    #[error("stored data is damaged: {0}")]
    Corrupt(String),
    #[error("storage task failed: {0}")]
    Task(String),
}

impl StoreError {
    pub(crate) fn io(doing: impl Into<String>) -> impl FnOnce(std::io::Error) -> Self {
        let doing = doing.into();
        move |source| {
            if is_disk_full(&source) {
                StoreError::Full { doing }
            } else {
                StoreError::Io { doing, source }
            }
        }
    }

    /// Whether the backend could not be reached (retrying may succeed).
    pub fn is_unavailable(&self) -> bool {
        matches!(self, StoreError::Unavailable { .. })
    }

    /// Whether this failure is a full disk.
    pub fn is_full(&self) -> bool {
        matches!(self, StoreError::Full { .. })
    }
}

impl From<rusqlite::Error> for StoreError {
    fn from(e: rusqlite::Error) -> Self {
        if e.sqlite_error_code() == Some(rusqlite::ErrorCode::DiskFull) {
            StoreError::Full {
                doing: "writing a database".into(),
            }
        } else {
            StoreError::Backend {
                backend: "sqlite",
                message: e.to_string(),
            }
        }
    }
}

/// Whether an I/O error means the disk (or the user's quota) is full.
pub fn is_disk_full(e: &std::io::Error) -> bool {
    matches!(
        e.kind(),
        std::io::ErrorKind::StorageFull | std::io::ErrorKind::QuotaExceeded
    )
}

pub type Result<T, E = StoreError> = std::result::Result<T, E>;

/// Runs blocking storage work off the async runtime.
pub(crate) async fn blocking<T: Send + 'static>(
    f: impl FnOnce() -> Result<T> + Send + 'static,
) -> Result<T> {
    tokio::task::spawn_blocking(f)
        .await
        .map_err(|e| StoreError::Task(e.to_string()))?
}

/// Milliseconds since the Unix epoch, now.
pub fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or(0)
}
