//! Client parts prepared for the browser: each component is transpiled once
//! (at upload) into an ES module plus its core WebAssembly modules, which the
//! page loads into a Worker. No Node.js or bundler is involved at run time.
//!
//! The files live in `<dir>/<BROWSER_KEY>/<sha256>/`, written to a temporary
//! folder and renamed into place so a reader never sees half a set.

use std::io::Write;
use std::path::{Path, PathBuf};

/// Names what produced the files; part of their URLs, so a Lodge with
/// another transpiler never serves a browser stale cached files.
pub const BROWSER_KEY: &str = "jco-2.11";

/// The ES module the page imports; it exports `instantiate(getCoreModule, imports)`.
pub const BROWSER_ENTRY: &str = "client.js";

/// The files of one prepared client part: (file name, contents).
pub type BrowserFiles = Vec<(String, Vec<u8>)>;

/// Transpiles a client component into the files the page loads. CPU-heavy:
/// call it off the async runtime. The error is the transpiler's reason.
pub fn transpile_client(component: &[u8]) -> Result<BrowserFiles, String> {
    use js_component_bindgen::{InstantiationMode, TranspileOpts, transpile};
    let opts = TranspileOpts {
        name: "client".into(),
        no_typescript: true,
        // `instantiate(getCoreModule, imports)`: the Worker passes the host
        // interfaces as objects, and fetches the core modules itself.
        instantiation_mode: Some(InstantiationMode::Async),
        nodejs_compat_disabled: true,
        no_namespaced_exports: true,
        // Keep core modules as separate files, compiled while they stream in.
        base64_cutoff: 0,
        ..Default::default()
    };
    let transpiled = transpile(component, opts).map_err(|e| format!("{e:#}"))?;
    Ok(transpiled
        .files
        .into_iter()
        .filter(|(name, _)| is_servable(name))
        .collect())
}

/// Whether a file name may be served: plain names of .js or .wasm files.
pub fn is_servable(name: &str) -> bool {
    let plain = !name.is_empty()
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_'))
        && !name.starts_with('.');
    plain && (name.ends_with(".js") || name.ends_with(".wasm"))
}

/// Prepared client parts on disk.
#[derive(Clone)]
pub struct BrowserCache {
    dir: PathBuf,
}

impl BrowserCache {
    pub fn new(root: &Path) -> std::io::Result<Self> {
        let dir = root.join(BROWSER_KEY);
        std::fs::create_dir_all(&dir)?;
        Ok(Self { dir })
    }

    fn folder(&self, sha256: &str) -> PathBuf {
        self.dir.join(sha256)
    }

    /// The path of one prepared file, if the part's files are present and
    /// the name is one of them.
    pub fn file(&self, sha256: &str, name: &str) -> Option<PathBuf> {
        if !is_servable(name) || !sha256.chars().all(|c| c.is_ascii_hexdigit()) {
            return None;
        }
        let path = self.folder(sha256).join(name);
        path.is_file().then_some(path)
    }

    pub fn contains(&self, sha256: &str) -> bool {
        self.folder(sha256).join(BROWSER_ENTRY).is_file()
    }

    /// Writes a part's files durably, replacing any earlier set.
    pub fn write(&self, sha256: &str, files: &BrowserFiles) -> std::io::Result<()> {
        // The folder may have been cleared while the server ran.
        std::fs::create_dir_all(&self.dir)?;
        let tmp = tempfile::Builder::new()
            .prefix(".tmp-")
            .tempdir_in(&self.dir)?;
        for (name, contents) in files {
            let mut file = std::fs::File::create(tmp.path().join(name))?;
            file.write_all(contents)?;
            file.sync_all()?;
        }
        let target = self.folder(sha256);
        if target.exists() {
            std::fs::remove_dir_all(&target)?;
        }
        std::fs::rename(tmp.keep(), &target)?;
        Ok(())
    }

    /// Removes the files of a part that is gone.
    pub fn remove(&self, sha256: &str) -> std::io::Result<()> {
        match std::fs::remove_dir_all(self.folder(sha256)) {
            Err(e) if e.kind() != std::io::ErrorKind::NotFound => Err(e),
            _ => Ok(()),
        }
    }

    /// Hashes of every prepared part present, and leftovers of interrupted writes.
    pub fn list(&self) -> std::io::Result<Vec<String>> {
        let mut out = Vec::new();
        let entries = match std::fs::read_dir(&self.dir) {
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(out),
            entries => entries?,
        };
        for entry in entries {
            if let Some(name) = entry?.file_name().to_str() {
                out.push(name.to_owned());
            }
        }
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_plain_js_and_wasm_names_are_servable() {
        assert!(is_servable("client.js"));
        assert!(is_servable("client.core2.wasm"));
        assert!(!is_servable("../client.js"));
        assert!(!is_servable(".hidden.js"));
        assert!(!is_servable("client.d.ts"));
        assert!(!is_servable("a/b.js"));
        assert!(!is_servable(""));
    }

    #[test]
    fn written_files_are_found_and_removed() {
        let dir = tempfile::tempdir().unwrap();
        let cache = BrowserCache::new(dir.path()).unwrap();
        let sha = "ab".repeat(32);
        assert!(!cache.contains(&sha));
        let files = vec![("client.js".to_owned(), b"export {}".to_vec())];
        cache.write(&sha, &files).unwrap();
        assert!(cache.contains(&sha));
        assert!(cache.file(&sha, "client.js").is_some());
        assert!(cache.file(&sha, "other.js").is_none());
        assert!(cache.file("../x", "client.js").is_none());
        cache.write(&sha, &files).unwrap();
        assert_eq!(cache.list().unwrap(), vec![sha.clone()]);
        cache.remove(&sha).unwrap();
        assert!(!cache.contains(&sha));
        cache.remove(&sha).unwrap();
    }
}
