//! Publishing, deleting and garbage-collecting app versions: the upload
//! pipeline from bundle bytes to a committed version, and the prepared
//! files of client parts.

use crate::bundle::{self, Bundle, BundleLimits};
use crate::error::ApiError;
use axum::http::StatusCode;
use lodge_manifest::{AppName, MANIFEST_FILE, Manifest, Role};
use lodge_runtime::{
    Artifact, BrowserCache, CompiledCache, Compiler, ComponentLimits, PartError, check_part,
    transpile_client,
};
use lodge_store::{
    BlobStore, DiskReserve, NewVersion, PartRecord, PublishOutcome, Registry, StoreError,
    VersionRecord, sha256_hex,
};
use std::collections::HashMap;
use std::sync::Arc;
use tokio::sync::{Mutex, Semaphore};

/// How long one upload may take to arrive, so slow clients can't hold an
/// upload slot for ever.
const UPLOAD_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(300);

/// The registry, the blobs and the compiled cache, kept in step.
pub struct Apps {
    pub registry: Arc<dyn Registry>,
    pub blobs: Arc<dyn BlobStore>,
    pub cache: CompiledCache,
    /// Client parts prepared for the browser.
    pub browser: BrowserCache,
    compiler: Compiler,
    limits: PublishLimits,
    /// Space given up when the disk is full, so deletes can still run.
    reserve: DiskReserve,
    /// Serializes commits and garbage collection, so a blob that an upload
    /// is about to reference is never collected under it.
    write_lock: Mutex<()>,
    /// Bounds how many uploads unpack and compile at once (memory and CPU).
    uploads: Semaphore,
    /// Each app's latest version, for http requests (which must not query
    /// SQLite each time); emptied whenever a version is published or deleted.
    latest: std::sync::Mutex<HashMap<AppName, Option<Arc<VersionRecord>>>>,
}

/// What an upload may be and ask for.
#[derive(Debug, Clone, Copy)]
pub struct PublishLimits {
    pub bundle: BundleLimits,
    /// The most memory a room part may ask for (`memory-mib`).
    pub max_room_memory_bytes: usize,
    /// The most live rooms a room part may ask for (`max-rooms`).
    pub max_rooms: usize,
    /// The most wall-clock and CPU time an http part may ask for.
    pub max_http_timeout: std::time::Duration,
    pub max_http_cpu: std::time::Duration,
    /// What one component may hold, checked before it is compiled.
    pub component: ComponentLimits,
}

/// A component of the bundle, checked and compiled, not yet stored.
struct CheckedPart {
    /// The component's path in the bundle, for messages.
    file: String,
    record: PartRecord,
    bytes: Vec<u8>,
    artifact: Artifact,
}

impl Apps {
    pub fn new(
        registry: Arc<dyn Registry>,
        blobs: Arc<dyn BlobStore>,
        cache: CompiledCache,
        browser: BrowserCache,
        compiler: Compiler,
        limits: PublishLimits,
        reserve: DiskReserve,
    ) -> Self {
        Self {
            registry,
            blobs,
            cache,
            browser,
            compiler,
            limits,
            reserve,
            write_lock: Mutex::new(()),
            uploads: Semaphore::new(2),
            latest: Default::default(),
        }
    }

    pub fn limits(&self) -> &BundleLimits {
        &self.limits.bundle
    }

    /// The app's latest version (cached until the next publish or delete).
    pub async fn latest(&self, app: &AppName) -> Result<Option<Arc<VersionRecord>>, ApiError> {
        if let Some(latest) = self.latest.lock().expect("latest lock").get(app) {
            return Ok(latest.clone());
        }
        let latest = self
            .registry
            .versions(app)
            .await?
            .into_iter()
            .next()
            .map(Arc::new);
        self.latest
            .lock()
            .expect("latest lock")
            .insert(app.clone(), latest.clone());
        Ok(latest)
    }

    fn forget_latest(&self) {
        self.latest.lock().expect("latest lock").clear();
    }

    /// Reads, checks, compiles and commits one uploaded bundle. Returns
    /// whether a new version was created (false: identical content was
    /// already published) and the version.
    pub async fn publish(&self, body: axum::body::Body) -> Result<(bool, VersionRecord), ApiError> {
        let _permit = self
            .uploads
            .acquire()
            .await
            .map_err(|_| ApiError::internal("the server is shutting down"))?;
        let bundle = tokio::time::timeout(UPLOAD_TIMEOUT, self.read(body))
            .await
            .map_err(|_| {
                ApiError::new(
                    StatusCode::REQUEST_TIMEOUT,
                    "upload_timeout",
                    format!(
                        "the bundle did not arrive within {} seconds; try again on a faster connection",
                        UPLOAD_TIMEOUT.as_secs()
                    ),
                )
            })??;
        let manifest_bytes = bundle.files.get(MANIFEST_FILE).ok_or_else(|| {
            ApiError::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                "manifest_missing",
                format!(
                    "the bundle has no {MANIFEST_FILE} at its root; it holds: {}",
                    listing(&bundle)
                ),
            )
        })?;
        let manifest = lodge_runtime::capabilities::parse_manifest(manifest_bytes)?;
        self.check_manifest_limits(&manifest)?;
        let parts = self.check_parts(&manifest, bundle).await?;
        let digest = content_digest(&manifest, &parts);
        let name = manifest.app.name.clone();
        let version = manifest.app.version.clone();

        let _guard = self.write_lock.lock().await;
        if let Some(existing) = self.registry.version(&name, &version).await? {
            return if existing.digest == digest {
                Ok((false, existing))
            } else {
                Err(conflict(&name, &version))
            };
        }
        let records = parts.iter().map(|p| p.record.clone()).collect();
        if let Err(e) = self.store_parts(parts).await {
            self.collect_garbage_locked().await;
            return Err(e);
        }
        let outcome = self
            .registry
            .publish(NewVersion {
                manifest,
                digest,
                parts: records,
            })
            .await;
        match outcome {
            Ok(PublishOutcome::Created(record)) => {
                self.forget_latest();
                tracing::info!(app = %name, %version, "published");
                Ok((true, record))
            }
            Ok(PublishOutcome::Unchanged(record)) => Ok((false, record)),
            Ok(PublishOutcome::Conflict(_)) => Err(conflict(&name, &version)),
            Err(e) => {
                self.collect_garbage_locked().await;
                Err(e.into())
            }
        }
    }

    async fn read(&self, body: axum::body::Body) -> Result<Bundle, ApiError> {
        use futures::TryStreamExt;
        let stream = body.into_data_stream().map_err(std::io::Error::other);
        let mut reader =
            tokio_util::io::SyncIoBridge::new(tokio_util::io::StreamReader::new(stream));
        let limits = self.limits.bundle;
        tokio::task::spawn_blocking(move || {
            let result = bundle::read_bundle(&mut reader, &limits);
            if result.is_err() {
                // Read what the client is still sending (up to a bound), so it
                // sees the error instead of a connection reset mid-upload.
                let _ = std::io::copy(
                    &mut std::io::Read::take(&mut reader, bundle::DRAIN_BYTES),
                    &mut std::io::sink(),
                );
            }
            result
        })
        .await
        .map_err(|e| ApiError::internal(format!("reading the bundle: {e}")))?
        .map_err(ApiError::from)
    }

    /// What the manifest asks for, within what this server allows.
    fn check_manifest_limits(&self, manifest: &Manifest) -> Result<(), ApiError> {
        let limits = &self.limits;
        let room = manifest.room.as_ref();
        let http = manifest.http.as_ref();
        let ms = |d: std::time::Duration| u64::try_from(d.as_millis()).unwrap_or(u64::MAX);
        // (field, asked, allowed, how the allowance reads)
        let checks = [
            (
                "[room].memory-mib",
                room.and_then(|r| r.memory_mib).map(u64::from),
                (limits.max_room_memory_bytes >> 20) as u64,
                "MiB, --room-max-memory-mib",
            ),
            (
                "[room].max-rooms",
                room.and_then(|r| r.max_rooms).map(u64::from),
                limits.max_rooms as u64,
                "rooms, --rooms-max",
            ),
            (
                "[http].timeout-ms",
                http.and_then(|h| h.timeout_ms).map(u64::from),
                ms(limits.max_http_timeout),
                "ms, --http-max-timeout-ms",
            ),
            (
                "[http].cpu-ms",
                http.and_then(|h| h.cpu_ms).map(u64::from),
                ms(limits.max_http_cpu),
                "ms, --http-max-cpu-ms",
            ),
        ];
        for (field, asked, allowed, unit) in checks {
            if let Some(asked) = asked
                && asked > allowed
            {
                return Err(ApiError::new(
                    StatusCode::UNPROCESSABLE_ENTITY,
                    "manifest_over_limit",
                    format!("{field} = {asked} is more than this server allows ({allowed} {unit})"),
                ));
            }
        }
        Ok(())
    }

    async fn check_parts(
        &self,
        manifest: &Manifest,
        bundle: Bundle,
    ) -> Result<Vec<CheckedPart>, ApiError> {
        let mut checked = Vec::new();
        for part in manifest.parts() {
            let path = bundle::normalize(part.component);
            let bytes = path
                .as_ref()
                .and_then(|p| bundle.files.get(p).cloned())
                .ok_or_else(|| {
                    ApiError::new(
                        StatusCode::UNPROCESSABLE_ENTITY,
                        "part_missing",
                        format!(
                            "[{}].component = \"{}\" is not in the bundle; it holds: {}",
                            part.role,
                            part.component,
                            listing(&bundle)
                        ),
                    )
                })?;
            let role = part.role;
            let file = part.component.to_owned();
            let capabilities = part.capabilities.to_vec();
            let limits = self.limits.component;
            let bytes = bytes::Bytes::from(bytes);
            // Cheap checks first (sizes, imports, exports), then the costly
            // step: compiling, in a child process with bounded time and
            // memory, or transpiling a client part for the browser.
            let input = bytes.clone();
            let prepared = tokio::task::spawn_blocking(move || {
                check_part(role, &capabilities, &file, &input, &limits)
            })
            .await
            .map_err(|e| ApiError::internal(format!("checking a part: {e}")))??;
            let artifact = match role {
                Role::Client => {
                    let (input, file) = (bytes.clone(), part.component.to_owned());
                    tokio::task::spawn_blocking(move || {
                        transpile_client(&input)
                            .map(Artifact::Browser)
                            .map_err(|reason| PartError::Browser { file, reason })
                    })
                    .await
                    .map_err(|e| ApiError::internal(format!("preparing a client part: {e}")))??
                }
                Role::Room | Role::Http => {
                    Artifact::Compiled(self.compiler.compile(part.component, bytes.clone()).await?)
                }
            };
            let bytes = Vec::from(bytes);
            checked.push(CheckedPart {
                file: part.component.to_owned(),
                record: PartRecord {
                    role,
                    sha256: sha256_hex(&bytes),
                    size: bytes.len() as u64,
                    imports: prepared.imports,
                    exports: prepared.exports,
                },
                bytes,
                artifact,
            });
        }
        Ok(checked)
    }

    async fn store_parts(&self, parts: Vec<CheckedPart>) -> Result<(), ApiError> {
        for part in parts {
            let file = part.file;
            let hash = self.blobs.put(part.bytes).await.map_err(|e| match e {
                StoreError::Full { .. } => ApiError::disk_full(&format!("storing {file}")),
                e => e.into(),
            })?;
            debug_assert_eq!(hash, part.record.sha256);
            let cache = self.cache.clone();
            let browser = self.browser.clone();
            let (written, doing) = tokio::task::spawn_blocking(move || match &part.artifact {
                Artifact::Compiled(compiled) => (cache.write(&hash, compiled), "compiled code"),
                Artifact::Browser(files) => (browser.write(&hash, files), "browser files"),
            })
            .await
            .map_err(|e| ApiError::internal(format!("caching a prepared part: {e}")))?;
            written.map_err(|e| ApiError::io(&format!("storing the {doing} of {file}"), &e))?;
        }
        Ok(())
    }

    /// The path of a file of a client part prepared for the browser. The
    /// files are made at upload; when they are missing (a cleared cache, a
    /// Lodge upgrade), they are made again from the stored component.
    pub async fn browser_file(
        &self,
        sha256: &str,
        name: &str,
    ) -> Result<Option<std::path::PathBuf>, ApiError> {
        if let Some(path) = self.browser.file(sha256, name) {
            return Ok(Some(path));
        }
        if self.browser.contains(sha256) {
            return Ok(None);
        }
        // Under the write lock, so garbage collection can't take the folder
        // (or the blob) while it is being made.
        let _guard = self.write_lock.lock().await;
        if self.browser.contains(sha256) {
            return Ok(self.browser.file(sha256, name));
        }
        let referenced = self.registry.referenced_blobs().await?;
        if !referenced.contains(sha256) {
            return Ok(None);
        }
        let Some(bytes) = self.blobs.get(sha256).await? else {
            return Ok(None);
        };
        let browser = self.browser.clone();
        let hash = sha256.to_owned();
        tokio::task::spawn_blocking(move || {
            let files = transpile_client(&bytes).map_err(std::io::Error::other)?;
            browser.write(&hash, &files)
        })
        .await
        .map_err(|e| ApiError::internal(format!("preparing a client part: {e}")))?
        .map_err(|e| crate::error::storage_io("preparing a client part", &e))?;
        tracing::info!(sha256, "client part prepared again for the browser");
        Ok(self.browser.file(sha256, name))
    }

    /// Deletes one version; blobs no other version names go with it.
    pub async fn delete_version(
        &self,
        name: &AppName,
        version: &semver::Version,
    ) -> Result<bool, ApiError> {
        let _guard = self.write_lock.lock().await;
        let deleted = self
            .with_reserve(|| self.registry.delete_version(name, version))
            .await?;
        if deleted {
            self.forget_latest();
            tracing::info!(app = %name, %version, "version deleted");
            self.collect_garbage_locked().await;
        }
        Ok(deleted)
    }

    /// Runs a registry write that frees space (a delete); when the disk is
    /// too full even for that, releases the reserve and tries once more.
    async fn with_reserve<T, F: Future<Output = Result<T, StoreError>>>(
        &self,
        write: impl Fn() -> F,
    ) -> Result<T, StoreError> {
        match write().await {
            Err(e) if e.is_full() => {
                let reserve = self.reserve.clone();
                let released = tokio::task::spawn_blocking(move || reserve.release())
                    .await
                    .unwrap_or(false);
                if !released {
                    return Err(e);
                }
                write().await
            }
            result => result,
        }
    }

    /// Deletes an app with all its versions. Returns how many versions went.
    pub async fn delete_app(&self, name: &AppName) -> Result<usize, ApiError> {
        let _guard = self.write_lock.lock().await;
        let versions = self.registry.versions(name).await?.len();
        if self.with_reserve(|| self.registry.delete_app(name)).await? {
            self.forget_latest();
            tracing::info!(app = %name, versions, "app deleted");
            self.collect_garbage_locked().await;
        }
        Ok(versions)
    }

    /// Removes blobs and compiled artifacts no version names (left by a
    /// delete, or by a crash between storing blobs and committing).
    pub async fn collect_garbage(&self) {
        let _guard = self.write_lock.lock().await;
        self.collect_garbage_locked().await;
    }

    async fn collect_garbage_locked(&self) {
        if let Err(e) = self.try_collect_garbage().await {
            tracing::warn!(error = %e, "garbage collection failed; it will run again after the next delete or restart");
        }
        // Space may have been freed: take the reserve back if it was given up.
        let reserve = self.reserve.clone();
        let _ = tokio::task::spawn_blocking(move || reserve.hold()).await;
    }

    async fn try_collect_garbage(&self) -> anyhow::Result<()> {
        let referenced = self.registry.referenced_blobs().await?;
        let mut removed = 0;
        for hash in self.blobs.list().await? {
            if !referenced.contains(&hash) {
                self.blobs.delete(&hash).await?;
                self.cache.remove(&hash)?;
                removed += 1;
            }
        }
        for hash in self.cache.list()? {
            if !referenced.contains(&hash) {
                self.cache.remove(&hash)?;
            }
        }
        for hash in self.browser.list()? {
            if !referenced.contains(&hash) {
                self.browser.remove(&hash)?;
            }
        }
        if removed > 0 {
            tracing::info!(removed, "removed blobs no version names");
        }
        Ok(())
    }
}

fn conflict(name: &AppName, version: &semver::Version) -> ApiError {
    ApiError::new(
        StatusCode::CONFLICT,
        "version_exists",
        format!(
            "{name}@{version} is already published with different content, and published versions never change: bump [app].version in lodge.toml"
        ),
    )
}

fn listing(bundle: &Bundle) -> String {
    if bundle.files.is_empty() {
        return "no files".into();
    }
    let names: Vec<&str> = bundle.files.keys().map(String::as_str).take(20).collect();
    let more = bundle.files.len().saturating_sub(names.len());
    let mut s = names.join(", ");
    if more > 0 {
        s.push_str(&format!(" and {more} more"));
    }
    s
}

/// Identifies a version's content: the manifest with each component path
/// replaced by the component's hash, so re-packing the same files under
/// other names still counts as the same content.
fn content_digest(manifest: &Manifest, parts: &[CheckedPart]) -> String {
    let mut normalized = manifest.clone();
    for part in parts {
        normalized.set_component(part.record.role, part.record.sha256.clone());
    }
    sha256_hex(
        serde_json::to_string(&normalized)
            .expect("manifests serialize")
            .as_bytes(),
    )
}
