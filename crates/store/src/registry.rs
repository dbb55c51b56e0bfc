//! The app registry: which apps exist, their immutable versions and parts.

use crate::Result;
use crate::accounts::{PublishRefusal, Publisher};
use async_trait::async_trait;
use lodge_manifest::{AppName, Manifest, Role};
use serde::{Deserialize, Serialize};
use std::collections::HashSet;

/// One part of a version, as stored.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PartRecord {
    pub role: Role,
    /// The component's SHA-256, which is also its blob address.
    pub sha256: String,
    /// The component's size in bytes.
    pub size: u64,
    /// The component's import names, sorted.
    pub imports: Vec<String>,
    /// The component's export names, sorted.
    pub exports: Vec<String>,
}

/// One file of a version's `[client].assets`, as stored.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AssetRecord {
    /// The path listed in the manifest, which is the name a client reads.
    pub name: String,
    /// The file's SHA-256, which is also its blob address.
    pub sha256: String,
    /// The file's size in bytes.
    pub size: u64,
}

/// A version to publish: everything already validated, blobs already stored.
#[derive(Debug, Clone)]
pub struct NewVersion {
    pub manifest: Manifest,
    /// Identifies the content: equal digests mean an identical push.
    pub digest: String,
    pub parts: Vec<PartRecord>,
    /// In the manifest's order.
    pub assets: Vec<AssetRecord>,
    /// Who publishes: checked against the app's collaborators and its
    /// owner's quotas, and made the owner of a new app. `None` publishes
    /// without an owner (what tests of the registry alone do).
    pub publisher: Option<Publisher>,
}

/// A published version.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct VersionRecord {
    pub manifest: Manifest,
    pub digest: String,
    /// Total bytes of the version's parts and assets.
    pub size: u64,
    /// Milliseconds since the Unix epoch.
    pub created_ms: i64,
    pub parts: Vec<PartRecord>,
    /// The files of `[client].assets`, in the manifest's order.
    #[serde(default)]
    pub assets: Vec<AssetRecord>,
}

impl VersionRecord {
    pub fn part(&self, role: Role) -> Option<&PartRecord> {
        self.parts.iter().find(|p| p.role == role)
    }

    /// Every blob the version names: its components and its assets.
    pub fn blobs(&self) -> impl Iterator<Item = &str> {
        self.parts
            .iter()
            .map(|p| p.sha256.as_str())
            .chain(self.assets.iter().map(|a| a.sha256.as_str()))
    }
}

/// What `publish` did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PublishOutcome {
    /// A new version was committed.
    Created(VersionRecord),
    /// This exact version with this exact content already existed.
    Unchanged(VersionRecord),
    /// The version exists with different content; versions are immutable.
    Conflict(VersionRecord),
    /// The publisher may not push to the app, or a quota would be exceeded.
    Refused(PublishRefusal),
}

/// One line of the app list.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AppSummary {
    pub name: AppName,
    /// The version with the highest semantic version.
    pub latest: VersionSummary,
    pub versions: usize,
}

/// A version without its manifest: what a listing needs.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct VersionSummary {
    pub version: semver::Version,
    pub description: String,
    pub roles: Vec<Role>,
    pub size: u64,
    pub created_ms: i64,
}

/// The registry-level lock garbage collection holds while it reads which
/// blobs are referenced and removes the others, so that servers sharing one
/// store collect one at a time. It is a lease: it ends when given back, or
/// by itself once `expires_ms` passed (its holder died).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GcLease {
    pub holder: String,
    /// Grows with every grant, so a holder whose lease was taken over can't
    /// give back its successor's.
    pub fence: i64,
    pub expires_ms: i64,
}

/// Where the registry lives.
#[async_trait]
pub trait Registry: Send + Sync + 'static {
    /// Commits a version in one transaction, unless that name@version exists.
    async fn publish(&self, version: NewVersion) -> Result<PublishOutcome>;
    /// Every app with its latest version, by name.
    async fn list_apps(&self) -> Result<Vec<AppSummary>>;
    /// Every version of an app, highest first; empty when there is no such app.
    async fn versions(&self, app: &AppName) -> Result<Vec<VersionRecord>>;
    /// One version.
    async fn version(
        &self,
        app: &AppName,
        version: &semver::Version,
    ) -> Result<Option<VersionRecord>>;
    /// Removes one version (and the app with its last version). Returns
    /// whether it existed.
    async fn delete_version(&self, app: &AppName, version: &semver::Version) -> Result<bool>;
    /// Removes an app and all its versions. Returns whether it existed.
    async fn delete_app(&self, app: &AppName) -> Result<bool>;
    /// The hashes of every blob some version still names (as a part or
    /// an asset).
    async fn referenced_blobs(&self) -> Result<HashSet<String>>;
    /// A name some version lists the blob `sha256` under as an asset, or
    /// `None` when no version lists it as one (it may still be a part's).
    async fn asset_name(&self, sha256: &str) -> Result<Option<String>>;
    /// Whether some version has the blob `sha256` as its client part (only
    /// those are prepared for and served to the browser).
    async fn is_client_part(&self, sha256: &str) -> Result<bool>;
    /// Takes the garbage-collection lease for `ttl`, unless another holder
    /// has it and it has not expired: then `None`. (PostgreSQL can answer
    /// this with an advisory lock.)
    async fn lock_gc(&self, holder: &str, ttl: std::time::Duration) -> Result<Option<GcLease>>;
    /// Gives the lease back; nothing happens if it was already taken over.
    async fn unlock_gc(&self, lease: &GcLease) -> Result<()>;
}

/// The highest version in `versions`, the one `latest` means.
pub(crate) fn highest<'a, T>(
    versions: impl IntoIterator<Item = &'a T>,
    key: impl Fn(&T) -> &semver::Version,
) -> Option<&'a T> {
    versions.into_iter().max_by(|a, b| key(a).cmp(key(b)))
}
