//! Where `lodge login` keeps its tokens: `credentials.json` in the user's
//! config directory (`LODGE_CONFIG_DIR` overrides it), readable by the user
//! only, one entry per server URL.

use anyhow::Context;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::path::PathBuf;

/// One server's sign-in.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Login {
    pub username: String,
    pub token: String,
    /// The token's id, to revoke it on `lodge logout`.
    pub token_id: i64,
}

#[derive(Debug, Default, Serialize, Deserialize)]
struct File {
    #[serde(default)]
    servers: BTreeMap<String, Login>,
}

/// The folder of Lodge's CLI settings.
pub fn config_dir() -> PathBuf {
    std::env::var_os("LODGE_CONFIG_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            dirs::config_dir()
                .unwrap_or_else(|| PathBuf::from("."))
                .join("lodge")
        })
}

pub fn path() -> PathBuf {
    config_dir().join("credentials.json")
}

fn read() -> anyhow::Result<File> {
    let path = path();
    match std::fs::read(&path) {
        Ok(bytes) => serde_json::from_slice(&bytes).with_context(|| {
            format!(
                "{} is damaged; delete it and sign in again (lodge login)",
                path.display()
            )
        }),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(File::default()),
        Err(e) => Err(e).with_context(|| format!("reading {}", path.display())),
    }
}

/// The sign-in kept for `server`, if any (a damaged file counts as none).
pub fn login_for(server: &str) -> Option<Login> {
    read().ok()?.servers.get(server).cloned()
}

/// Keeps (or, with `None`, forgets) the sign-in for `server`; the file is
/// written whole, readable by the user only, and replaced atomically.
pub fn store(server: &str, login: Option<Login>) -> anyhow::Result<PathBuf> {
    let mut file = read()?;
    match login {
        Some(login) => file.servers.insert(server.to_owned(), login),
        None => file.servers.remove(server),
    };
    let path = path();
    let dir = config_dir();
    std::fs::create_dir_all(&dir).with_context(|| format!("creating {}", dir.display()))?;
    let mut temp = tempfile::NamedTempFile::new_in(&dir)
        .with_context(|| format!("writing in {}", dir.display()))?;
    // NamedTempFile is created with mode 0600 on Unix.
    serde_json::to_writer_pretty(&mut temp, &file)?;
    temp.as_file().sync_all()?;
    temp.persist(&path)
        .with_context(|| format!("writing {}", path.display()))?;
    Ok(path)
}
