//! The operator's token (`LODGE_TOKEN`, or the data folder's token file):
//! where it comes from. It acts as the first admin, with every scope.

use sha2::{Digest, Sha256};
use std::io::Write;
use std::path::Path;

/// The name of the token file in the data directory.
pub const TOKEN_FILE: &str = "token";

/// The token writes must present, kept only as a digest so comparing it
/// takes the same time whatever the guess.
#[derive(Clone)]
pub struct Token {
    digest: [u8; 32],
}

impl Token {
    pub fn new(token: &str) -> Self {
        Self {
            digest: Sha256::digest(token.as_bytes()).into(),
        }
    }

    /// Whether `given` is this token, compared in constant time.
    pub fn matches(&self, given: &str) -> bool {
        let given: [u8; 32] = Sha256::digest(given.trim().as_bytes()).into();
        given
            .iter()
            .zip(self.digest.iter())
            .fold(0u8, |acc, (a, b)| acc | (a ^ b))
            == 0
    }
}

/// Loads the token from `LODGE_TOKEN` when given, else from the data
/// directory's token file, creating it (readable by the owner only) on first start.
pub fn load_or_create(explicit: Option<&str>, data_dir: &Path) -> anyhow::Result<Token> {
    if let Some(token) = explicit.filter(|t| !t.trim().is_empty()) {
        tracing::info!("API token taken from --token or LODGE_TOKEN");
        return Ok(Token::new(token.trim()));
    }
    let path = data_dir.join(TOKEN_FILE);
    match std::fs::read_to_string(&path) {
        Ok(token) if !token.trim().is_empty() => {
            tracing::info!(path = %path.display(), "API token read from the data directory");
            return Ok(Token::new(token.trim()));
        }
        Ok(_) => {}
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
        Err(e) => return Err(anyhow::anyhow!("reading {}: {e}", path.display())),
    }
    let mut bytes = [0u8; 32];
    getrandom::fill(&mut bytes)
        .map_err(|e| anyhow::anyhow!("no randomness for the API token: {e}"))?;
    let token = hex::encode(bytes);
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    let mut file = options
        .open(&path)
        .map_err(|e| anyhow::anyhow!("creating {}: {e}", path.display()))?;
    #[cfg(unix)]
    {
        // An existing (empty) file keeps its mode through `open`; tighten it.
        use std::os::unix::fs::PermissionsExt;
        file.set_permissions(std::fs::Permissions::from_mode(0o600))?;
    }
    file.write_all(format!("{token}\n").as_bytes())?;
    file.sync_all()?;
    tracing::info!(path = %path.display(), "created an API token; the CLI on this machine finds it there, others need LODGE_TOKEN");
    Ok(Token::new(&token))
}
