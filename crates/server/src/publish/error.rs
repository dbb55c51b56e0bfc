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
    /// The caller's token is scoped to other apps.
    #[error("this token may not publish {app}: that needs the publish:{app} or publish:* scope")]
    OutOfScope { app: AppName },
    /// The app belongs to other accounts.
    #[error(
        "{app} belongs to {}: only its owners and maintainers may push to it or delete it; choose another [app].name, or ask an owner to add you as a collaborator",
        .owners.join(", ")
    )]
    NotACollaborator { app: AppName, owners: Vec<String> },
    /// An account quota would be exceeded.
    #[error("{}", quota_message(.0))]
    OverQuota(lodge_store::QuotaRefusal),
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

/// "over the stored bytes quota of alice: 1.0 MiB of 1.0 MiB used, and this
/// adds 12.0 KiB; ..." — the quota, the account, the use and the way out.
pub fn quota_message(refusal: &lodge_store::QuotaRefusal) -> String {
    use lodge_store::QuotaKind;
    let (name, flag) = refusal.quota.describe();
    let amount = |n: u64| match refusal.quota {
        QuotaKind::StoredBytes | QuotaKind::KvBytes => size(n),
        QuotaKind::Apps | QuotaKind::VersionsPerApp => n.to_string(),
    };
    let remedy = match refusal.quota {
        QuotaKind::Apps => "delete an app",
        QuotaKind::VersionsPerApp => "delete old versions (lodge app rm APP@VERSION)",
        QuotaKind::StoredBytes | QuotaKind::KvBytes => "delete versions or apps",
    };
    format!(
        "over the \"{name}\" quota of account {}: {} used of {}, and this adds {}; {remedy}, or ask the operator to raise it (lodge serve {flag}, or per account)",
        refusal.account,
        amount(refusal.used),
        amount(refusal.limit),
        amount(refusal.adding),
    )
}

/// Bytes for people: `512 B`, `12.0 KiB`, `3.4 MiB`, `1.0 GiB`.
pub fn size(bytes: u64) -> String {
    const UNITS: [&str; 4] = ["KiB", "MiB", "GiB", "TiB"];
    if bytes < 1024 {
        return format!("{bytes} B");
    }
    let mut value = bytes as f64 / 1024.0;
    let mut unit = 0;
    while value >= 1024.0 && unit < UNITS.len() - 1 {
        value /= 1024.0;
        unit += 1;
    }
    format!("{value:.1} {}", UNITS[unit])
}
