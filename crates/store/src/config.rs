//! Which storage backends to build: [`StorageConfig`] names one backend for
//! the registry, kv and blobs, and [`StorageConfig::open`] builds them as the
//! traits the rest of Lodge uses. Only the embedded backends exist; others
//! (PostgreSQL, Redis, object storage) are more variants here.

use crate::{
    Accounts, BlobStore, FsBlobStore, Kv, KvLimits, LimitedKv, Registry, SqliteKv, SqliteRegistry,
    StoreError,
};
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// Where the registry lives.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RegistryBackend {
    /// One SQLite file (`lodge.db`).
    Sqlite { path: PathBuf },
}

/// Where apps' key-value data lives.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum KvBackend {
    /// One SQLite file (`kv.db`), apart from the registry so room traffic
    /// never waits behind registry writes.
    Sqlite { path: PathBuf },
}

/// Where blobs live.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BlobBackend {
    /// A folder, with a temp folder on the same filesystem for atomic renames.
    Folder { root: PathBuf, tmp: PathBuf },
}

/// The backends one server uses.
#[derive(Debug, Clone)]
pub struct StorageConfig {
    pub registry: RegistryBackend,
    pub kv: KvBackend,
    pub blobs: BlobBackend,
    /// What apps may keep in kv, enforced whatever the backend.
    pub kv_limits: KvLimits,
}

/// The built backends.
#[derive(Clone)]
pub struct Storage {
    pub registry: Arc<dyn Registry>,
    /// Accounts live with the registry (apps' collaborators refer to both).
    pub accounts: Arc<dyn Accounts>,
    pub kv: Arc<dyn Kv>,
    pub blobs: Arc<dyn BlobStore>,
}

/// A backend that could not be opened, naming the setting and where it points.
#[derive(Debug, thiserror::Error)]
#[error("opening the {setting} at {location}: {source}")]
pub struct OpenError {
    /// `registry`, `kv` or `blob store`.
    pub setting: &'static str,
    /// A path or an address, never a credential.
    pub location: String,
    #[source]
    pub source: StoreError,
}

impl StorageConfig {
    /// Everything in one data folder: `lodge.db`, `kv.db`, `blobs/` (with
    /// `tmp/` for temp files).
    pub fn embedded(data: &Path, kv_limits: KvLimits) -> Self {
        Self {
            registry: RegistryBackend::Sqlite {
                path: data.join("lodge.db"),
            },
            kv: KvBackend::Sqlite {
                path: data.join("kv.db"),
            },
            blobs: BlobBackend::Folder {
                root: data.join("blobs"),
                tmp: data.join("tmp"),
            },
            kv_limits,
        }
    }

    /// Opens (creating and migrating) every backend.
    pub async fn open(&self) -> Result<Storage, OpenError> {
        let (registry, accounts): (Arc<dyn Registry>, Arc<dyn Accounts>) = match &self.registry {
            RegistryBackend::Sqlite { path } => {
                let sqlite = Arc::new(SqliteRegistry::open(path).map_err(|source| OpenError {
                    setting: "registry",
                    location: path.display().to_string(),
                    source,
                })?);
                (sqlite.clone(), sqlite)
            }
        };
        let kv: Arc<dyn Kv> = match &self.kv {
            KvBackend::Sqlite { path } => Arc::new(LimitedKv::new(
                SqliteKv::open(path).map_err(|source| OpenError {
                    setting: "kv",
                    location: path.display().to_string(),
                    source,
                })?,
                self.kv_limits,
            )),
        };
        let blobs: Arc<dyn BlobStore> = match &self.blobs {
            BlobBackend::Folder { root, tmp } => {
                Arc::new(FsBlobStore::open(root, tmp).map_err(|source| OpenError {
                    setting: "blob store",
                    location: root.display().to_string(),
                    source,
                })?)
            }
        };
        Ok(Storage {
            registry,
            accounts,
            kv,
            blobs,
        })
    }
}
