//! Which storage backends to build: [`StorageConfig`] names one backend for
//! the registry, kv and blobs, and [`StorageConfig::open`] builds them as the
//! traits the rest of Lodge uses. [`StorageUrls`] reads them from the URLs
//! an operator gives (`--kv redis://…`, `--blobs s3://bucket/prefix`);
//! what each provider needs stays in its backend.

use crate::object::ObjectBlobs;
use crate::postgres::{PgKv, PgRegistry};
use crate::redis_kv::RedisKv;
use crate::{
    Accounts, BlobStore, FsBlobStore, Kv, KvLimits, LimitedKv, Registry, SqliteKv, SqliteRegistry,
};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// Where the registry lives.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RegistryBackend {
    /// One SQLite file (`lodge.db`).
    Sqlite { path: PathBuf },
    /// A PostgreSQL database (`postgres://…`), which several servers share.
    Postgres { url: String },
}

/// Where apps' key-value data lives.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum KvBackend {
    /// One SQLite file (`kv.db`), apart from the registry so room traffic
    /// never waits behind registry writes.
    Sqlite { path: PathBuf },
    /// A PostgreSQL database (`postgres://…`).
    Postgres { url: String },
    /// A Redis or Valkey server with append-only persistence (`redis://…`,
    /// `rediss://…` for TLS).
    Redis { url: String },
}

/// Where blobs live.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BlobBackend {
    /// A folder, with a temp folder on the same filesystem for atomic renames.
    Folder { root: PathBuf, tmp: PathBuf },
    /// Object storage: `s3://BUCKET/PREFIX`, `gs://…`, `az://…` or
    /// `file:///PATH`, with the provider's settings by name (`endpoint`,
    /// `region`, …) on top of its environment variables.
    Object {
        url: String,
        options: BTreeMap<String, String>,
    },
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

/// A backend that could not be opened, naming the setting and where it
/// points (never a password).
#[derive(Debug, thiserror::Error)]
#[error("opening the {setting} at {location}: {problem}")]
pub struct OpenError {
    /// `registry`, `kv` or `blobs`: the setting (`--kv`, …) to look at.
    pub setting: &'static str,
    /// A path or an address with any password taken out.
    pub location: String,
    /// What went wrong (in the message; not chained, so shown once).
    pub problem: Box<dyn std::error::Error + Send + Sync>,
}

/// A backend URL that can't be used, naming the setting and the fix.
#[derive(Debug, thiserror::Error)]
#[error("--{setting} {value}: {problem}")]
pub struct UrlError {
    pub setting: &'static str,
    /// The value given, with any password taken out.
    pub value: String,
    pub problem: String,
}

/// The backends as an operator names them: `None` is the embedded default
/// in the data folder.
#[derive(Debug, Clone, Default)]
pub struct StorageUrls {
    /// `sqlite` or `postgres://…`.
    pub registry: Option<String>,
    /// `sqlite`, `postgres://…` or `redis://…`.
    pub kv: Option<String>,
    /// `folder`, `s3://…`, `gs://…`, `az://…` or `file:///…`.
    pub blobs: Option<String>,
    /// The object store's settings by name (`endpoint`, `region`, …).
    pub blob_options: BTreeMap<String, String>,
}

/// `url` with its password (if any) replaced by `***`, for messages.
pub fn redact(url: &str) -> String {
    match url::Url::parse(url) {
        Ok(mut parsed) if parsed.password().is_some() => {
            let _ = parsed.set_password(Some("***"));
            parsed.to_string()
        }
        _ => url.to_owned(),
    }
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

    /// The embedded backends in `data`, except those `urls` names.
    pub fn from_urls(
        data: &Path,
        kv_limits: KvLimits,
        urls: &StorageUrls,
    ) -> Result<Self, UrlError> {
        let mut config = Self::embedded(data, kv_limits);
        if let Some(registry) = urls.registry.as_deref().filter(|s| !s.is_empty()) {
            config.registry = match scheme(registry) {
                Some("sqlite") => config.registry,
                Some("postgres" | "postgresql") => RegistryBackend::Postgres {
                    url: registry.to_owned(),
                },
                _ => {
                    return Err(UrlError {
                        setting: "registry",
                        value: redact(registry),
                        problem: "use `sqlite` (the default: lodge.db in the data folder) or postgres://USER@HOST/DATABASE".into(),
                    });
                }
            };
        }
        if let Some(kv) = urls.kv.as_deref().filter(|s| !s.is_empty()) {
            config.kv = match scheme(kv) {
                Some("sqlite") => config.kv,
                Some("postgres" | "postgresql") => KvBackend::Postgres { url: kv.to_owned() },
                Some("redis" | "rediss" | "valkey" | "valkeys") => KvBackend::Redis {
                    url: kv.replacen("valkeys://", "rediss://", 1).replacen(
                        "valkey://",
                        "redis://",
                        1,
                    ),
                },
                _ => {
                    return Err(UrlError {
                        setting: "kv",
                        value: redact(kv),
                        problem: "use `sqlite` (the default: kv.db in the data folder), postgres://USER@HOST/DATABASE or redis://HOST:PORT".into(),
                    });
                }
            };
        }
        if let Some(blobs) = urls.blobs.as_deref().filter(|s| !s.is_empty()) {
            config.blobs = match scheme(blobs) {
                Some("folder") => config.blobs,
                Some("s3" | "s3a" | "gs" | "az" | "azure" | "abfs" | "abfss" | "file") => {
                    url::Url::parse(blobs).map_err(|e| UrlError {
                        setting: "blobs",
                        value: redact(blobs),
                        problem: format!("not a URL: {e}"),
                    })?;
                    BlobBackend::Object {
                        url: blobs.to_owned(),
                        options: urls.blob_options.clone(),
                    }
                }
                _ => {
                    return Err(UrlError {
                        setting: "blobs",
                        value: redact(blobs),
                        problem: "use `folder` (the default: blobs/ in the data folder), s3://BUCKET/PREFIX (with AWS_ENDPOINT for an S3-compatible server), gs://BUCKET/PREFIX, az://CONTAINER/PREFIX or file:///PATH".into(),
                    });
                }
            };
        }
        Ok(config)
    }

    /// Whether several servers can share these backends: nothing in one
    /// server's data folder. `Err` names the setting that isn't shared.
    pub fn shareable(&self) -> Result<(), &'static str> {
        if matches!(self.registry, RegistryBackend::Sqlite { .. }) {
            return Err("registry");
        }
        if matches!(self.kv, KvBackend::Sqlite { .. }) {
            return Err("kv");
        }
        if matches!(self.blobs, BlobBackend::Folder { .. }) {
            return Err("blobs");
        }
        Ok(())
    }

    /// Opens (creating and migrating) every backend, and checks each
    /// answers: a backend that can't be reached stops start-up here.
    pub async fn open(&self) -> Result<Storage, OpenError> {
        let (registry, accounts): (Arc<dyn Registry>, Arc<dyn Accounts>) = match &self.registry {
            RegistryBackend::Sqlite { path } => {
                let sqlite = Arc::new(SqliteRegistry::open(path).map_err(|e| OpenError {
                    setting: "registry",
                    location: path.display().to_string(),
                    problem: e.into(),
                })?);
                (sqlite.clone(), sqlite)
            }
            RegistryBackend::Postgres { url } => {
                let postgres = Arc::new(PgRegistry::connect(url).await.map_err(|e| OpenError {
                    setting: "registry",
                    location: redact(url),
                    problem: e.into(),
                })?);
                (postgres.clone(), postgres)
            }
        };
        let kv: Arc<dyn Kv> = match &self.kv {
            KvBackend::Sqlite { path } => Arc::new(LimitedKv::new(
                SqliteKv::open(path).map_err(|e| OpenError {
                    setting: "kv",
                    location: path.display().to_string(),
                    problem: e.into(),
                })?,
                self.kv_limits,
            )),
            KvBackend::Postgres { url } => {
                let failed = |e: crate::StoreError| OpenError {
                    setting: "kv",
                    location: redact(url),
                    problem: e.into(),
                };
                let pool = crate::postgres::connect(url).await.map_err(failed)?;
                Arc::new(LimitedKv::new(
                    PgKv::open(pool).await.map_err(failed)?,
                    self.kv_limits,
                ))
            }
            KvBackend::Redis { url } => Arc::new(LimitedKv::new(
                RedisKv::open(url).await.map_err(|e| OpenError {
                    setting: "kv",
                    location: redact(url),
                    problem: e.into(),
                })?,
                self.kv_limits,
            )),
        };
        let blobs: Arc<dyn BlobStore> = match &self.blobs {
            BlobBackend::Folder { root, tmp } => {
                Arc::new(FsBlobStore::open(root, tmp).map_err(|e| OpenError {
                    setting: "blobs",
                    location: root.display().to_string(),
                    problem: e.into(),
                })?)
            }
            BlobBackend::Object { url, options } => {
                let failed = |e: Box<dyn std::error::Error + Send + Sync>| OpenError {
                    setting: "blobs",
                    location: redact(url),
                    problem: e,
                };
                let parsed = url::Url::parse(url).map_err(|e| failed(e.into()))?;
                let store = ObjectBlobs::open(&parsed, options).map_err(|e| failed(e.into()))?;
                store.check().await.map_err(|e| failed(e.into()))?;
                Arc::new(store)
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

/// The scheme of `value` (`redis` of `redis://…`), or the whole value when
/// it is one word (`sqlite`, `folder`).
fn scheme(value: &str) -> Option<&str> {
    match value.split_once("://") {
        Some((scheme, _)) => Some(scheme),
        None if value.chars().all(|c| c.is_ascii_alphanumeric()) => Some(value),
        None => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_pick_backends_and_bad_ones_name_the_setting() {
        let data = Path::new("/data");
        let limits = KvLimits::default();
        let config = StorageConfig::from_urls(data, limits, &StorageUrls::default()).unwrap();
        assert_eq!(
            config.kv,
            KvBackend::Sqlite {
                path: data.join("kv.db")
            }
        );
        let urls = StorageUrls {
            kv: Some("valkey://cache:6379".into()),
            blobs: Some("s3://lodge/blobs".into()),
            ..Default::default()
        };
        let config = StorageConfig::from_urls(data, limits, &urls).unwrap();
        assert_eq!(
            config.kv,
            KvBackend::Redis {
                url: "redis://cache:6379".into()
            }
        );
        assert!(
            matches!(config.blobs, BlobBackend::Object { ref url, .. } if url == "s3://lodge/blobs")
        );
        let urls = StorageUrls {
            kv: Some("mysql://root:hunter2@db/lodge".into()),
            ..Default::default()
        };
        let error = StorageConfig::from_urls(data, limits, &urls)
            .unwrap_err()
            .to_string();
        assert!(
            error.starts_with("--kv mysql://root:***@db/lodge: use `sqlite`"),
            "{error}"
        );
        assert!(!error.contains("hunter2"));
        let urls = StorageUrls {
            blobs: Some("ftp://files/lodge".into()),
            ..Default::default()
        };
        let error = StorageConfig::from_urls(data, limits, &urls)
            .unwrap_err()
            .to_string();
        assert!(
            error.contains("--blobs ftp://files/lodge: use `folder`"),
            "{error}"
        );
    }

    #[test]
    fn redact_hides_only_the_password() {
        assert_eq!(
            redact("postgres://lodge:s3cret@db:5432/lodge"),
            "postgres://lodge:***@db:5432/lodge"
        );
        assert_eq!(redact("redis://cache:6379"), "redis://cache:6379");
    }
}
