//! Where `lodge serve` keeps its state: the backend flags (`--kv`,
//! `--blobs`), their environment variables, and the config file
//! (`--config`) that can hold the same settings. A flag or variable wins
//! over the file; the file wins over the defaults.

use anyhow::Context;
use lodge_server::{KvLimits, StorageConfig, StorageUrls};
use serde::Deserialize;
use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};

#[derive(clap::Args, Debug, Default)]
pub struct StorageArgs {
    /// A TOML file with the data folder, the address and the backends
    /// (`data`, `listen`, `[storage] kv, blobs, blobs-options`); flags and
    /// environment variables win over it. See docs/cluster.md.
    #[arg(long, env = "LODGE_CONFIG")]
    pub config: Option<PathBuf>,
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
}

/// The config file: every field optional, unknown ones refused by name.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct ConfigFile {
    pub data: Option<PathBuf>,
    pub listen: Option<SocketAddr>,
    #[serde(default)]
    pub storage: StorageSection,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct StorageSection {
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
            kv: self.kv.clone().or_else(|| file.storage.kv.clone()),
            blobs: self.blobs.clone().or_else(|| file.storage.blobs.clone()),
            blob_options,
        };
        Ok(StorageConfig::from_urls(data, kv_limits, &urls)?)
    }
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
