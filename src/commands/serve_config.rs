//! Where `lodge serve` keeps its state: the backend flags (`--kv`,
//! `--blobs`), their environment variables, and the config file
//! (`--config`) that can hold the same settings. A flag or variable wins
//! over the file; the file wins over the defaults.

use anyhow::Context;
use lodge_server::{ClusterConfig, KvLimits, LeaseTiming, StorageConfig, StorageUrls};
use serde::Deserialize;
use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

#[derive(clap::Args, Debug, Default)]
pub struct StorageArgs {
    /// A TOML file with the data folder, the address and the backends
    /// (`data`, `listen`, `[storage] kv, blobs, blobs-options`); flags and
    /// environment variables win over it. See docs/cluster.md.
    #[arg(long, env = "LODGE_CONFIG")]
    pub config: Option<PathBuf>,
    /// Where the registry (apps, versions, accounts) lives: `sqlite`
    /// (lodge.db in the data folder, the default) or
    /// `postgres://USER[:PASSWORD]@HOST[:PORT]/DATABASE`.
    #[arg(long, env = "LODGE_REGISTRY", hide_env_values = true)]
    pub registry: Option<String>,
    /// Where apps' kv data lives: `sqlite` (kv.db in the data folder, the
    /// default), `postgres://USER[:PASSWORD]@HOST[:PORT]/DATABASE`, or
    /// `redis://HOST:PORT` (Redis or Valkey with `appendonly yes`).
    #[arg(long, env = "LODGE_KV", hide_env_values = true)]
    pub kv: Option<String>,
    /// Where blobs (components, assets) live: `folder` (blobs/ in the data
    /// folder, the default), `s3://BUCKET/PREFIX`, `gs://BUCKET/PREFIX`,
    /// `az://CONTAINER/PREFIX` or `file:///PATH`. Credentials and the
    /// endpoint come from the provider's variables (`AWS_ENDPOINT`,
    /// `AWS_ACCESS_KEY_ID`, …) or `--blobs-option`.
    #[arg(long, env = "LODGE_BLOBS", hide_env_values = true)]
    pub blobs: Option<String>,
    /// An object-storage setting, `KEY=VALUE` (repeatable): `endpoint`,
    /// `region`, `allow_http`, `access_key_id`, …
    #[arg(long = "blobs-option", value_name = "KEY=VALUE")]
    pub blob_options: Vec<String>,
    /// Share one Lodge with other servers: the PostgreSQL database that
    /// keeps room leases and carries events between servers (usually the
    /// registry's). Needs shared backends: --registry postgres://…, --kv
    /// postgres://… or redis://…, --blobs s3://… (or gs://, az://).
    #[arg(long, env = "LODGE_CLUSTER", hide_env_values = true)]
    pub cluster: Option<String>,
    /// This server's name in the cluster [default: the host name and port].
    #[arg(long, env = "LODGE_NODE_ID")]
    pub node_id: Option<String>,
    /// The URL the other servers reach this one at (http://10.0.0.5:8080)
    /// [default: the address it listens on].
    #[arg(long, env = "LODGE_ADVERTISE")]
    pub advertise: Option<String>,
    /// How long a server counts as alive after its last heartbeat, in
    /// milliseconds; a dead server's rooms start elsewhere after this.
    #[arg(long, env = "LODGE_LEASE_TTL_MS")]
    pub lease_ttl_ms: Option<u64>,
    /// How often a server renews its lease, in milliseconds.
    #[arg(long, env = "LODGE_HEARTBEAT_MS")]
    pub heartbeat_ms: Option<u64>,
}

/// The config file: every field optional, unknown ones refused by name.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct ConfigFile {
    pub data: Option<PathBuf>,
    pub listen: Option<SocketAddr>,
    #[serde(default)]
    pub storage: StorageSection,
    #[serde(default)]
    pub cluster: ClusterSection,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct ClusterSection {
    pub url: Option<String>,
    pub node_id: Option<String>,
    pub advertise: Option<String>,
    pub lease_ttl_ms: Option<u64>,
    pub heartbeat_ms: Option<u64>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct StorageSection {
    pub registry: Option<String>,
    pub kv: Option<String>,
    pub blobs: Option<String>,
    #[serde(default)]
    pub blobs_options: BTreeMap<String, String>,
}

impl StorageArgs {
    /// The config file, or an empty one when none was given.
    pub fn file(&self) -> anyhow::Result<ConfigFile> {
        let Some(path) = &self.config else {
            return Ok(ConfigFile::default());
        };
        let text = std::fs::read_to_string(path)
            .with_context(|| format!("--config: reading {}", path.display()))?;
        toml::from_str(&text).map_err(|e| anyhow::anyhow!("--config {}: {e}", path.display()))
    }

    /// The backends: each flag, else the file's, else the embedded one.
    pub fn storage(
        &self,
        file: &ConfigFile,
        data: &Path,
        kv_limits: KvLimits,
    ) -> anyhow::Result<StorageConfig> {
        let mut blob_options = file.storage.blobs_options.clone();
        for option in &self.blob_options {
            let (key, value) = option.split_once('=').with_context(|| {
                format!("--blobs-option {option}: write it as KEY=VALUE (endpoint=http://…)")
            })?;
            blob_options.insert(key.trim().to_owned(), value.trim().to_owned());
        }
        let urls = StorageUrls {
            registry: self
                .registry
                .clone()
                .or_else(|| file.storage.registry.clone()),
            kv: self.kv.clone().or_else(|| file.storage.kv.clone()),
            blobs: self.blobs.clone().or_else(|| file.storage.blobs.clone()),
            blob_options,
        };
        Ok(StorageConfig::from_urls(data, kv_limits, &urls)?)
    }

    /// The cluster to join, if any; refused when a backend is one server's
    /// own (several servers can't share a data folder).
    pub fn cluster(
        &self,
        file: &ConfigFile,
        storage: &StorageConfig,
        listen: SocketAddr,
    ) -> anyhow::Result<Option<ClusterConfig>> {
        let Some(url) = self.cluster.clone().or_else(|| file.cluster.url.clone()) else {
            return Ok(None);
        };
        if let Err(setting) = storage.shareable() {
            anyhow::bail!(
                "--cluster: the {setting} is in this server's data folder, which other servers can't share: give --{setting} {}",
                match setting {
                    "registry" => "postgres://USER@HOST/DATABASE",
                    "kv" => "postgres://USER@HOST/DATABASE (or redis://HOST:PORT)",
                    _ => "s3://BUCKET/PREFIX (or gs://, az://)",
                }
            );
        }
        let defaults = LeaseTiming::default();
        let ms = |given: Option<u64>, file: Option<u64>, default: Duration| {
            given.or(file).map_or(default, Duration::from_millis)
        };
        let timing = LeaseTiming {
            ttl: ms(self.lease_ttl_ms, file.cluster.lease_ttl_ms, defaults.ttl),
            heartbeat: ms(
                self.heartbeat_ms,
                file.cluster.heartbeat_ms,
                defaults.heartbeat,
            ),
        };
        if timing.heartbeat * 2 > timing.ttl || timing.heartbeat.is_zero() {
            anyhow::bail!(
                "--heartbeat-ms {} and --lease-ttl-ms {}: a lease must last at least two heartbeats",
                timing.heartbeat.as_millis(),
                timing.ttl.as_millis()
            );
        }
        let node_id = self
            .node_id
            .clone()
            .or_else(|| file.cluster.node_id.clone())
            .unwrap_or_else(|| format!("{}-{}", host_name(), listen.port()));
        Ok(Some(ClusterConfig {
            url,
            node_id,
            advertise: self
                .advertise
                .clone()
                .or_else(|| file.cluster.advertise.clone()),
            timing,
        }))
    }
}

/// This machine's name, for the default node id.
fn host_name() -> String {
    std::fs::read_to_string("/proc/sys/kernel/hostname")
        .ok()
        .map(|name| name.trim().to_owned())
        .filter(|name| !name.is_empty())
        .or_else(|| std::env::var("HOSTNAME").ok())
        .unwrap_or_else(|| "lodge".into())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_file_names_an_unknown_field_and_flags_win_over_it() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("lodge.toml");
        std::fs::write(
            &path,
            "[storage]\nkv = \"redis://a:1\"\nblob = \"s3://x\"\n",
        )
        .unwrap();
        let args = StorageArgs {
            config: Some(path.clone()),
            ..Default::default()
        };
        let error = args.file().unwrap_err().to_string();
        assert!(error.contains("unknown field `blob`"), "{error}");
        std::fs::write(
            &path,
            "listen = \"127.0.0.1:9000\"\n[storage]\nkv = \"redis://a:1\"\nblobs = \"s3://x/y\"\n[storage.blobs-options]\nregion = \"eu\"\n",
        )
        .unwrap();
        let args = StorageArgs {
            config: Some(path),
            kv: Some("sqlite".into()),
            blob_options: vec!["endpoint=http://s3:9000".into()],
            ..Default::default()
        };
        let file = args.file().unwrap();
        assert_eq!(file.listen, Some("127.0.0.1:9000".parse().unwrap()));
        let storage = args
            .storage(&file, dir.path(), KvLimits::default())
            .unwrap();
        assert!(matches!(storage.kv, lodge_server::KvBackend::Sqlite { .. }));
        let lodge_server::BlobBackend::Object { url, options } = storage.blobs else {
            panic!("object storage expected");
        };
        assert_eq!(url, "s3://x/y");
        assert_eq!(options["region"], "eu");
        assert_eq!(options["endpoint"], "http://s3:9000");
    }
}
