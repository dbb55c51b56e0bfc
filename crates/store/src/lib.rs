//! Durable state: content-addressed blobs and the app registry, behind traits.
//!
//! The embedded implementations ([`FsBlobStore`], [`SqliteRegistry`]) are the
//! default; a cluster can put PostgreSQL or S3-compatible storage behind the
//! same traits without touching the rest of Lodge.

mod blobs;
mod kv;
mod registry;
mod sqlite;

pub use blobs::{BlobStore, FsBlobStore, sha256_hex};
pub use kv::{Kv, KvError, KvLimits, KvScope, SqliteKv};
pub use registry::{
    AppSummary, NewVersion, PartRecord, PublishOutcome, Registry, VersionRecord, VersionSummary,
};
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
    #[error("database failed: {0}")]
    Database(#[from] rusqlite::Error),
    #[error("stored data is damaged: {0}")]
    Corrupt(String),
    #[error("storage task failed: {0}")]
    Task(String),
}

impl StoreError {
    pub(crate) fn io(doing: impl Into<String>) -> impl FnOnce(std::io::Error) -> Self {
        let doing = doing.into();
        move |source| StoreError::Io { doing, source }
    }
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
