//! The publishing service: the upload pipeline from bundle bytes to a
//! committed version, deletes, garbage collection (`gc`), which version
//! answers a request (`resolve`), and the prepared files of client parts.
//! It knows nothing of HTTP: failures are `PublishError`s, which the API
//! turns into answers at its edge.

mod assets;
mod error;
mod gc;
mod resolve;

pub use assets::AssetLimits;
pub use error::{PublishError, ResolveError};
pub use gc::{GcConfig, GcReport};
pub use resolve::LATEST;

use crate::bundle::{self, Bundle, BundleLimits};
use assets::CheckedAsset;
use gc::Candidates;
use lodge_manifest::{AppName, ClientAbi, MANIFEST_FILE, Manifest, Role};
use lodge_runtime::{
    Artifact, BrowserCache, CompiledCache, Compiler, ComponentLimits, PartError, WasmKind,
    check_part, transpile_client, wasm_kind, wasm4,
};
use lodge_store::{
    BlobStore, DiskReserve, NewVersion, PartRecord, PublishOutcome, Registry, StoreError,
    VersionRecord, sha256_hex,
};
use std::collections::HashMap;
use std::sync::Arc;
use std::time::SystemTime;
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
    gc: GcConfig,
    /// Who this server is when it holds the garbage-collection lease.
    holder: String,
    /// Serializes this server's commits and collections, so the compiled
    /// and browser files of an upload are never collected under it (other
    /// servers' uploads are protected by the grace period, see `gc`).
    write_lock: Mutex<()>,
    /// Bounds how many uploads unpack and compile at once (memory and CPU).
    uploads: Semaphore,
    /// Each app's latest version, for http requests (which must not query
    /// the registry each time); emptied whenever a version is published or
    /// deleted.
    latest: std::sync::Mutex<HashMap<AppName, Arc<VersionRecord>>>,
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
    /// How many `[client].assets` a version may list, and how large.
    pub assets: AssetLimits,
}

/// A component of the bundle, checked and compiled, not yet stored.
struct CheckedPart {
    /// The component's path in the bundle, for messages.
    file: String,
    record: PartRecord,
    bytes: Vec<u8>,
    artifact: Arc<Artifact>,
}

/// What `Apps` is built from.
pub struct AppsParts {
    pub registry: Arc<dyn Registry>,
    pub blobs: Arc<dyn BlobStore>,
    pub cache: CompiledCache,
    pub browser: BrowserCache,
    pub compiler: Compiler,
    pub limits: PublishLimits,
    pub reserve: DiskReserve,
    pub gc: GcConfig,
}

impl Apps {
    pub fn new(parts: AppsParts) -> Self {
        let mut id = [0u8; 4];
        let _ = getrandom::fill(&mut id);
        Self {
            registry: parts.registry,
            blobs: parts.blobs,
            cache: parts.cache,
            browser: parts.browser,
            compiler: parts.compiler,
            limits: parts.limits,
            reserve: parts.reserve,
            gc: parts.gc,
            holder: format!("pid {} ({})", std::process::id(), hex::encode(id)),
            write_lock: Mutex::new(()),
            uploads: Semaphore::new(2),
            latest: Default::default(),
        }
    }

    /// How garbage collection runs here.
    pub fn gc_config(&self) -> GcConfig {
        self.gc
    }

    pub fn limits(&self) -> &BundleLimits {
        &self.limits.bundle
    }

    /// Reads, checks, compiles and commits one uploaded bundle. Returns
    /// whether a new version was created (false: identical content was
    /// already published) and the version.
    pub async fn publish(
        &self,
        body: axum::body::Body,
        publisher: Option<lodge_store::Publisher>,
        in_scope: &(dyn Fn(&AppName) -> bool + Send + Sync),
    ) -> Result<(bool, VersionRecord), PublishError> {
        let _permit = self
            .uploads
            .acquire()
            .await
            .map_err(|_| PublishError::Internal("the server is shutting down".into()))?;
        let bundle = tokio::time::timeout(UPLOAD_TIMEOUT, self.read(body))
            .await
            .map_err(|_| PublishError::UploadTimeout {
                limit: UPLOAD_TIMEOUT,
            })??;
        let manifest_bytes =
            bundle
                .files
                .get(MANIFEST_FILE)
                .ok_or_else(|| PublishError::ManifestMissing {
                    listing: listing(&bundle),
                })?;
        let manifest = lodge_runtime::capabilities::parse_manifest(manifest_bytes)?;
        if !in_scope(&manifest.app.name) {
            return Err(PublishError::OutOfScope {
                app: manifest.app.name.clone(),
            });
        }
        self.check_manifest_limits(&manifest)?;
        let assets = assets::check_assets(&manifest, &bundle, &self.limits.assets)?;
        let parts = self.check_parts(&manifest, bundle).await?;
        let digest = content_digest(&manifest, &parts, &assets);
        let name = manifest.app.name.clone();
        let version = manifest.app.version.clone();

        let _guard = self.write_lock.lock().await;
        if let Some(existing) = self.registry.version(&name, &version).await? {
            return if existing.digest == digest {
                Ok((false, existing))
            } else {
                Err(PublishError::VersionConflict { name, version })
            };
        }
        let records = parts.iter().map(|p| p.record.clone()).collect();
        // A refused upload takes back the blobs it stored, unless something
        // else names them or stored them again since.
        let refused = || Candidates::Known {
            hashes: parts
                .iter()
                .map(|p| p.record.sha256.clone())
                .chain(assets.iter().map(|a| a.record.sha256.clone()))
                .collect(),
            since: SystemTime::now(),
        };
        let stored = match self.store_parts(&parts).await {
            Ok(()) => self.store_assets(&assets).await,
            Err(e) => Err(e),
        };
        if let Err(e) = stored {
            self.collect_locked(refused()).await;
            return Err(e);
        }
        let outcome = self
            .registry
            .publish(NewVersion {
                manifest,
                digest,
                parts: records,
                assets: assets.iter().map(|a| a.record.clone()).collect(),
                publisher,
            })
            .await;
        match outcome {
            Ok(PublishOutcome::Created(record)) => {
                self.forget_latest();
                self.restore_collected(&parts, &assets).await?;
                tracing::info!(app = %name, %version, "published");
                Ok((true, record))
            }
            Ok(PublishOutcome::Unchanged(record)) => Ok((false, record)),
            Ok(PublishOutcome::Conflict(_)) => {
                self.collect_locked(refused()).await;
                Err(PublishError::VersionConflict { name, version })
            }
            Ok(PublishOutcome::Refused(refusal)) => {
                self.collect_locked(refused()).await;
                Err(match refusal {
                    lodge_store::PublishRefusal::NotACollaborator { owners } => {
                        PublishError::NotACollaborator { app: name, owners }
                    }
                    lodge_store::PublishRefusal::OverQuota(quota) => PublishError::OverQuota(quota),
                })
            }
            Err(e) => {
                self.collect_locked(refused()).await;
                Err(e.into())
            }
        }
    }

    /// After a commit: stores again any blob of the new version that a
    /// collection on another server removed between storing and
    /// committing (it took the blob for a deleted version's).
    async fn restore_collected(
        &self,
        parts: &[CheckedPart],
        assets: &[CheckedAsset],
    ) -> Result<(), PublishError> {
        let blobs = parts
            .iter()
            .map(|p| (&p.record.sha256, &p.bytes))
            .chain(assets.iter().map(|a| (&a.record.sha256, &a.bytes)));
        for (sha256, bytes) in blobs {
            if !self.blobs.contains(sha256).await? {
                tracing::warn!(
                    sha256 = %sha256,
                    "a blob was collected before its version committed; storing it again"
                );
                self.blobs.put(bytes.clone()).await?;
            }
        }
        Ok(())
    }

    async fn read(&self, body: axum::body::Body) -> Result<Bundle, PublishError> {
        use futures::TryStreamExt;
        let stream = body.into_data_stream().map_err(std::io::Error::other);
        let mut reader =
            tokio_util::io::SyncIoBridge::new(tokio_util::io::StreamReader::new(stream));
        let limits = self.limits.bundle;
        Ok(tokio::task::spawn_blocking(move || {
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
        .map_err(PublishError::task("reading the bundle"))??)
    }

    /// What the manifest asks for, within what this server allows.
    fn check_manifest_limits(&self, manifest: &Manifest) -> Result<(), PublishError> {
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
                return Err(PublishError::OverServerLimit {
                    field,
                    asked,
                    allowed,
                    unit,
                });
            }
        }
        Ok(())
    }

    async fn check_parts(
        &self,
        manifest: &Manifest,
        bundle: Bundle,
    ) -> Result<Vec<CheckedPart>, PublishError> {
        let mut checked = Vec::new();
        for part in manifest.parts() {
            let path = bundle::normalize(part.component);
            let bytes = path
                .as_ref()
                .and_then(|p| bundle.files.get(p).cloned())
                .ok_or_else(|| PublishError::PartMissing {
                    role: part.role,
                    component: part.component.to_owned(),
                    listing: listing(&bundle),
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
            let cartridge = role == Role::Client
                && manifest.client.as_ref().map(|c| c.abi) == Some(ClientAbi::Wasm4);
            let (prepared, artifact) = if cartridge {
                // A WASM-4 cartridge: checked against WASM-4's API and
                // served as it is; there is nothing to compile or transpile.
                let prepared = wasm4::check_cartridge(&file, &input)?;
                (
                    prepared,
                    Artifact::Browser(wasm4::prepare_cartridge(&input)),
                )
            } else {
                let prepared = tokio::task::spawn_blocking(move || {
                    check_part(role, &capabilities, &file, &input, &limits)
                })
                .await
                .map_err(PublishError::task("checking a part"))??;
                if let (Role::Room, Some(room)) = (role, &manifest.room) {
                    prepared.check_room_settings(part.component, room)?;
                }
                let artifact = match role {
                    Role::Client => {
                        let (input, file) = (bytes.clone(), part.component.to_owned());
                        tokio::task::spawn_blocking(move || {
                            transpile_client(&input)
                                .map(Artifact::Browser)
                                .map_err(|reason| PartError::Browser { file, reason })
                        })
                        .await
                        .map_err(PublishError::task("preparing a client part"))??
                    }
                    Role::Room | Role::Http => Artifact::Compiled(
                        self.compiler.compile(part.component, bytes.clone()).await?,
                    ),
                };
                (prepared, artifact)
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
                artifact: Arc::new(artifact),
            });
        }
        Ok(checked)
    }

    async fn store_parts(&self, parts: &[CheckedPart]) -> Result<(), PublishError> {
        for part in parts {
            let file = &part.file;
            let hash = self
                .blobs
                .put(part.bytes.clone())
                .await
                .map_err(|e| match e {
                    StoreError::Full { .. } => PublishError::DiskFull {
                        doing: format!("storing {file}"),
                    },
                    e => e.into(),
                })?;
            debug_assert_eq!(hash, part.record.sha256);
            let cache = self.cache.clone();
            let browser = self.browser.clone();
            let artifact = part.artifact.clone();
            let (written, doing) = tokio::task::spawn_blocking(move || match &*artifact {
                Artifact::Compiled(compiled) => (cache.write(&hash, compiled), "compiled code"),
                Artifact::Browser(files) => (browser.write(&hash, files), "browser files"),
            })
            .await
            .map_err(PublishError::task("caching a prepared part"))?;
            written.map_err(PublishError::io(format!("storing the {doing} of {file}")))?;
        }
        Ok(())
    }

    async fn store_assets(&self, assets: &[CheckedAsset]) -> Result<(), PublishError> {
        for asset in assets {
            let hash = self
                .blobs
                .put(asset.bytes.clone())
                .await
                .map_err(|e| match e {
                    StoreError::Full { .. } => PublishError::DiskFull {
                        doing: format!("storing asset {}", asset.record.name),
                    },
                    e => e.into(),
                })?;
            debug_assert_eq!(hash, asset.record.sha256);
        }
        Ok(())
    }

    /// The bytes of `sha256` and a name it is listed under, when some
    /// version lists it as an asset; `None` for any other blob (a
    /// component is not an asset).
    pub async fn asset(&self, sha256: &str) -> Result<Option<(String, Vec<u8>)>, PublishError> {
        let Some(name) = self.registry.asset_name(sha256).await? else {
            return Ok(None);
        };
        Ok(self.blobs.get(sha256).await?.map(|bytes| (name, bytes)))
    }

    /// The path of a file of a client part prepared for the browser. The
    /// files are made at upload; when they are missing (a cleared cache, a
    /// Lodge upgrade), they are made again from the stored component.
    pub async fn browser_file(
        &self,
        sha256: &str,
        name: &str,
    ) -> Result<Option<std::path::PathBuf>, PublishError> {
        if let Some(path) = self.browser.file(sha256, name) {
            return Ok(Some(path));
        }
        // Only a version's client part is made for the browser: never a
        // room or http part, nor an asset, whatever its bytes.
        if self.browser.contains(sha256) || !self.registry.is_client_part(sha256).await? {
            return Ok(None);
        }
        // Under the write lock, so garbage collection can't take the folder
        // (or the blob) while it is being made.
        let _guard = self.write_lock.lock().await;
        if self.browser.contains(sha256) {
            return Ok(self.browser.file(sha256, name));
        }
        if !self.registry.is_client_part(sha256).await? {
            return Ok(None);
        }
        let Some(bytes) = self.blobs.get(sha256).await? else {
            return Ok(None);
        };
        let browser = self.browser.clone();
        let hash = sha256.to_owned();
        tokio::task::spawn_blocking(move || {
            // A core module can only be a WASM-4 cartridge (components are
            // everything else): its files are the module itself.
            let files = match wasm_kind(&bytes) {
                WasmKind::CoreModule => wasm4::prepare_cartridge(&bytes),
                _ => transpile_client(&bytes).map_err(std::io::Error::other)?,
            };
            browser.write(&hash, &files)
        })
        .await
        .map_err(PublishError::task("preparing a client part"))?
        .map_err(PublishError::io("preparing a client part"))?;
        tracing::info!(sha256, "client part prepared again for the browser");
        Ok(self.browser.file(sha256, name))
    }

    /// Deletes one version; blobs no other version names go with it.
    pub async fn delete_version(
        &self,
        name: &AppName,
        version: &semver::Version,
    ) -> Result<bool, PublishError> {
        let _guard = self.write_lock.lock().await;
        let since = SystemTime::now();
        let Some(record) = self.registry.version(name, version).await? else {
            return Ok(false);
        };
        let deleted = self
            .with_reserve(|| self.registry.delete_version(name, version))
            .await?;
        if deleted {
            self.forget_latest();
            tracing::info!(app = %name, %version, "version deleted");
            self.collect_locked(Candidates::Known {
                hashes: record.blobs().map(str::to_owned).collect(),
                since,
            })
            .await;
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
    pub async fn delete_app(&self, name: &AppName) -> Result<usize, PublishError> {
        let _guard = self.write_lock.lock().await;
        let since = SystemTime::now();
        let versions = self.registry.versions(name).await?;
        if self.with_reserve(|| self.registry.delete_app(name)).await? {
            self.forget_latest();
            tracing::info!(app = %name, versions = versions.len(), "app deleted");
            self.collect_locked(Candidates::Known {
                hashes: versions
                    .iter()
                    .flat_map(|v| v.blobs().map(str::to_owned))
                    .collect(),
                since,
            })
            .await;
        }
        Ok(versions.len())
    }
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
/// other names still counts as the same content, and each asset's hash
/// beside its name. (A version without assets digests as it did before
/// assets existed, so re-pushing it after an upgrade is still "unchanged".)
fn content_digest(manifest: &Manifest, parts: &[CheckedPart], assets: &[CheckedAsset]) -> String {
    let mut normalized = manifest.clone();
    for part in parts {
        normalized.set_component(part.record.role, part.record.sha256.clone());
    }
    let text = if assets.is_empty() {
        serde_json::to_string(&normalized)
    } else {
        let hashes: Vec<[&str; 2]> = assets
            .iter()
            .map(|a| [a.record.name.as_str(), a.record.sha256.as_str()])
            .collect();
        serde_json::to_string(&(&normalized, hashes))
    };
    sha256_hex(text.expect("manifests serialize").as_bytes())
}
