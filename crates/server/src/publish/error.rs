//! `PublishError` and `ResolveError`: what the publishing service refuses or
//! fails at, as facts. Status codes are the HTTP edge's business (`error.rs`).

use crate::bundle::BundleError;
use lodge_manifest::{AppName, MANIFEST_FILE, ManifestError, Role};
use lodge_runtime::PartError;
use lodge_store::StoreError;
use std::time::Duration;

/// Why an upload, a delete or a collection didn't happen.
#[derive(Debug, thiserror::Error)]
pub enum PublishError {
    #[error(
        "the bundle did not arrive within {} seconds; try again on a faster connection",
        .limit.as_secs()
    )]
    UploadTimeout { limit: Duration },
    /// The bundle itself: too large, not gzip, damaged, unsafe paths.
    #[error(transparent)]
    Bundle(#[from] BundleError),
    #[error("the bundle has no {MANIFEST_FILE} at its root; it holds: {listing}")]
    ManifestMissing { listing: String },
    #[error(transparent)]
    Manifest(#[from] ManifestError),
    /// The manifest asks for more than this server allows.
    #[error("{field} = {asked} is more than this server allows ({allowed} {unit})")]
    OverServerLimit {
        field: &'static str,
        asked: u64,
        allowed: u64,
        /// How the allowance reads, with the flag that sets it.
        unit: &'static str,
    },
    #[error("[{role}].component = \"{component}\" is not in the bundle; it holds: {listing}")]
    PartMissing {
        role: Role,
        component: String,
        listing: String,
    },
    #[error("[client].assets lists \"{name}\", which is not in the bundle; it holds: {listing}")]
    AssetMissing { name: String, listing: String },
    #[error(
        "[client].assets lists {count} files; this server allows at most {limit} (lodge serve --assets-max-count)"
    )]
    TooManyAssets { count: usize, limit: usize },
    #[error(
        "asset \"{name}\" is {size} bytes; this server allows at most {limit} bytes per asset (lodge serve --asset-max-bytes)"
    )]
    AssetTooLarge { name: String, size: u64, limit: u64 },
    #[error(
        "the assets up to \"{name}\" come to {total} bytes; this server allows at most {limit} bytes of assets per version (lodge serve --assets-max-total-bytes)"
    )]
    AssetsTooLarge {
        name: String,
        total: u64,
        limit: u64,
    },
    /// A part was refused (imports, exports, limits) or didn't compile.
    #[error(transparent)]
    Part(#[from] PartError),
    #[error(
        "{name}@{version} is already published with different content, and published versions never change: bump [app].version in lodge.toml"
    )]
    VersionConflict {
        name: AppName,
        version: semver::Version,
    },
    /// A write found no space; `doing` names what it was.
    #[error("the server's disk is full: {doing} failed")]
    DiskFull { doing: String },
    /// Local files (the compiled cache, prepared client files).
    #[error("{doing} failed: {source}")]
    Io {
        doing: String,
        #[source]
        source: std::io::Error,
    },
    #[error(transparent)]
    Store(StoreError),
    /// The server's own trouble: a task that died, a shutdown.
    #[error("{0}")]
    Internal(String),
}

impl From<StoreError> for PublishError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::Full { doing } => PublishError::DiskFull { doing },
            e => PublishError::Store(e),
        }
    }
}

impl PublishError {
    /// A local file operation that failed while `doing`.
    pub fn io(doing: impl Into<String>) -> impl FnOnce(std::io::Error) -> Self {
        let doing = doing.into();
        move |source| {
            if lodge_store::is_disk_full(&source) {
                PublishError::DiskFull { doing }
            } else {
                PublishError::Io { doing, source }
            }
        }
    }

    /// A blocking task that panicked or was cancelled while `doing`.
    pub fn task(doing: &str) -> impl FnOnce(tokio::task::JoinError) -> Self {
        move |e| PublishError::Internal(format!("{doing}: {e}"))
    }
}

/// Why no version answers a request.
#[derive(Debug, thiserror::Error)]
pub enum ResolveError {
    #[error("\"{given}\" is not a version of {app}: {reason}")]
    InvalidVersion {
        app: AppName,
        given: String,
        reason: semver::Error,
    },
    #[error("there is no app named {0}")]
    NoApp(AppName),
    #[error("{app} has no version {version}")]
    NoVersion { app: AppName, version: String },
    #[error("{app}@{version} has no {role} part (add [{role}] to its lodge.toml)")]
    NoPart {
        app: AppName,
        version: semver::Version,
        role: Role,
    },
    #[error(transparent)]
    Store(#[from] StoreError),
}
