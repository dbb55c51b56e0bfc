//! Blobs in object storage (S3 and S3-compatible servers, Google Cloud
//! Storage, Azure Blob Storage, or a folder), through `object_store`: one
//! URL picks the provider; everything provider-specific stays here.

use crate::{BlobStore, Result, StoreError, sha256_hex};
use async_trait::async_trait;
use futures::TryStreamExt;
use object_store::path::Path;
use object_store::{ObjectStore, ObjectStoreExt, PutPayload};
use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::{Duration, SystemTime};

/// How long a request may take before the store counts as unavailable,
/// retries included: an upload fails with 503 rather than hanging.
const CONNECT_TIMEOUT: &str = "5s";
const REQUEST_TIMEOUT: &str = "60s";
const RETRIES: usize = 3;
const RETRY_TIMEOUT: Duration = Duration::from_secs(15);

/// Blobs under `<prefix>/sha256/<ab>/<hash>` in an object store.
#[derive(Debug, Clone)]
pub struct ObjectBlobs {
    store: Arc<dyn ObjectStore>,
    prefix: Path,
}

/// A blob URL that can't be used, naming what is wrong with it.
#[derive(Debug, thiserror::Error)]
pub enum BlobUrlError {
    #[error(
        "`{0}` is not an object-storage URL: use s3://BUCKET/PREFIX, gs://BUCKET/PREFIX, az://CONTAINER/PREFIX or file:///PATH"
    )]
    Scheme(String),
    #[error("option `{key}` is not one the {provider} store knows")]
    Option { provider: &'static str, key: String },
    #[error("{0}")]
    Provider(String),
}

impl ObjectBlobs {
    /// The store `url` names. `options` are the provider's settings by
    /// name (`endpoint`, `region`, `access_key_id`, …) on top of what its
    /// environment variables (`AWS_*`, `GOOGLE_*`, `AZURE_*`) say.
    pub fn open(
        url: &url::Url,
        options: &BTreeMap<String, String>,
    ) -> std::result::Result<Self, BlobUrlError> {
        use object_store::ClientConfigKey;
        use object_store::RetryConfig;
        // HTTPS to the store signs with ring, as the rest of Lodge does
        // (a process that chose a provider already keeps its own).
        let _ = rustls::crypto::ring::default_provider().install_default();
        let retry = RetryConfig {
            max_retries: RETRIES,
            retry_timeout: RETRY_TIMEOUT,
            ..RetryConfig::default()
        };
        let provider = |e: object_store::Error| BlobUrlError::Provider(e.to_string());
        // The cloud providers' builders share their shape, not a trait: the
        // same steps for each (the URL, the environment, Lodge's timeouts
        // and retries, then the operator's options by name).
        macro_rules! cloud {
            ($builder:ty, $key:ty, $name:literal) => {{
                type Key = $key;
                let mut builder = <$builder>::from_env()
                    .with_url(url.as_str())
                    .with_retry(retry)
                    .with_config(
                        Key::Client(ClientConfigKey::ConnectTimeout),
                        CONNECT_TIMEOUT,
                    )
                    .with_config(Key::Client(ClientConfigKey::Timeout), REQUEST_TIMEOUT);
                for (key, value) in options {
                    let parsed = key.parse().map_err(|_| BlobUrlError::Option {
                        provider: $name,
                        key: key.clone(),
                    })?;
                    builder = builder.with_config(parsed, value);
                }
                Arc::new(builder.build().map_err(provider)?)
            }};
        }
        let store: Arc<dyn ObjectStore> = match url.scheme() {
            "s3" | "s3a" => cloud!(
                object_store::aws::AmazonS3Builder,
                object_store::aws::AmazonS3ConfigKey,
                "S3"
            ),
            "gs" => cloud!(
                object_store::gcp::GoogleCloudStorageBuilder,
                object_store::gcp::GoogleConfigKey,
                "Google Cloud Storage"
            ),
            "az" | "azure" | "abfs" | "abfss" => cloud!(
                object_store::azure::MicrosoftAzureBuilder,
                object_store::azure::AzureConfigKey,
                "Azure"
            ),
            "file" => {
                let path = url
                    .to_file_path()
                    .map_err(|()| BlobUrlError::Scheme(url.to_string()))?;
                std::fs::create_dir_all(&path).map_err(|e| {
                    BlobUrlError::Provider(format!("creating {}: {e}", path.display()))
                })?;
                let local = object_store::local::LocalFileSystem::new_with_prefix(&path)
                    .map_err(provider)?;
                return Ok(Self {
                    store: Arc::new(local),
                    prefix: Path::from("sha256"),
                });
            }
            _ => return Err(BlobUrlError::Scheme(url.to_string())),
        };
        // The bucket (or container) is the URL's host; the rest is a prefix.
        let prefix = Path::from(url.path().trim_matches('/')).join("sha256");
        Ok(Self { store, prefix })
    }

    /// Checks the store answers (start-up refuses a store it can't reach).
    pub async fn check(&self) -> Result<()> {
        self.store
            .list(Some(&self.prefix))
            .try_next()
            .await
            .map(|_| ())
            .map_err(store_error)
    }

    fn path(&self, sha256: &str) -> Path {
        self.prefix.clone().join(&sha256[..2]).join(sha256)
    }
}

/// What an `object_store` failure means to Lodge: a refusal of the
/// credentials or the request is the backend's error; anything else (a
/// connection refused, a timeout, a 5xx after retries) is "unavailable".
fn store_error(e: object_store::Error) -> StoreError {
    use object_store::Error as E;
    match e {
        E::PermissionDenied { .. }
        | E::Unauthenticated { .. }
        | E::InvalidPath { .. }
        | E::NotSupported { .. }
        | E::NotImplemented { .. } => StoreError::Backend {
            backend: "object store",
            message: e.to_string(),
        },
        e => StoreError::Unavailable {
            backend: "object store",
            reason: e.to_string(),
        },
    }
}

fn is_hash(s: &str) -> bool {
    s.len() == 64
        && s.bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
}

#[async_trait]
impl BlobStore for ObjectBlobs {
    /// Writes the object even when it exists: content-addressed, so the
    /// bytes are the same, and the write makes it young again (its
    /// `last_modified`, which garbage collection reads).
    async fn put(&self, bytes: Vec<u8>) -> Result<String> {
        let hash = sha256_hex(&bytes);
        self.store
            .put(&self.path(&hash), PutPayload::from(bytes))
            .await
            .map_err(store_error)?;
        Ok(hash)
    }

    async fn get(&self, sha256: &str) -> Result<Option<Vec<u8>>> {
        if !is_hash(sha256) {
            return Ok(None);
        }
        match self.store.get(&self.path(sha256)).await {
            Ok(found) => Ok(Some(found.bytes().await.map_err(store_error)?.to_vec())),
            Err(object_store::Error::NotFound { .. }) => Ok(None),
            Err(e) => Err(store_error(e)),
        }
    }

    async fn contains(&self, sha256: &str) -> Result<bool> {
        if !is_hash(sha256) {
            return Ok(false);
        }
        match self.store.head(&self.path(sha256)).await {
            Ok(_) => Ok(true),
            Err(object_store::Error::NotFound { .. }) => Ok(false),
            Err(e) => Err(store_error(e)),
        }
    }

    async fn delete(&self, sha256: &str) -> Result<()> {
        if !is_hash(sha256) {
            return Ok(());
        }
        match self.store.delete(&self.path(sha256)).await {
            Ok(()) | Err(object_store::Error::NotFound { .. }) => Ok(()),
            Err(e) => Err(store_error(e)),
        }
    }

    /// Object stores have no conditional delete: this reads the object's
    /// age, then deletes. A `put` of the same bytes between the two can
    /// lose its object; publishing covers that window (it checks after its
    /// commit that the blobs it names are stored, and stores again any
    /// that went).
    async fn delete_if_older(&self, sha256: &str, cutoff: SystemTime) -> Result<bool> {
        if !is_hash(sha256) {
            return Ok(false);
        }
        let path = self.path(sha256);
        let meta = match self.store.head(&path).await {
            Ok(meta) => meta,
            Err(object_store::Error::NotFound { .. }) => return Ok(false),
            Err(e) => return Err(store_error(e)),
        };
        if SystemTime::from(meta.last_modified) >= cutoff {
            return Ok(false);
        }
        match self.store.delete(&path).await {
            Ok(()) => Ok(true),
            Err(object_store::Error::NotFound { .. }) => Ok(false),
            Err(e) => Err(store_error(e)),
        }
    }

    async fn list(&self) -> Result<Vec<String>> {
        let metas: Vec<_> = self
            .store
            .list(Some(&self.prefix))
            .try_collect()
            .await
            .map_err(store_error)?;
        Ok(metas
            .into_iter()
            .filter_map(|m| m.location.filename().map(str::to_owned))
            .filter(|name| is_hash(name))
            .collect())
    }
}
