//! The on-disk cache of compiled components, keyed by content hash and engine.
//!
//! Artifacts are written to a temporary file, fsynced and renamed, so a
//! reader never sees half a file. An artifact that fails to load (a new
//! wasmtime, a damaged file) is treated as a miss and rebuilt from the blob.

use std::hash::{DefaultHasher, Hash, Hasher};
use std::io::Write;
use std::path::{Path, PathBuf};
use wasmtime::Engine;
use wasmtime::component::Component;

/// A short key naming what compiled artifacts this engine can load: wasmtime
/// hashes its own version and every setting that affects compiled code.
pub fn engine_key(engine: &Engine) -> String {
    let mut hasher = DefaultHasher::new();
    engine.precompile_compatibility_hash().hash(&mut hasher);
    format!("engine-{:016x}", hasher.finish())
}

/// Compiled components on disk: `<dir>/<engine key>/<sha256>.cwasm`.
#[derive(Clone)]
pub struct CompiledCache {
    engine: Engine,
    dir: PathBuf,
}

impl CompiledCache {
    pub fn new(engine: Engine, root: &Path) -> std::io::Result<Self> {
        let dir = root.join(engine_key(&engine));
        std::fs::create_dir_all(&dir)?;
        Ok(Self { engine, dir })
    }

    pub fn engine(&self) -> &Engine {
        &self.engine
    }

    pub fn path(&self, sha256: &str) -> PathBuf {
        self.dir.join(format!("{sha256}.cwasm"))
    }

    pub fn contains(&self, sha256: &str) -> bool {
        self.path(sha256).exists()
    }

    /// Writes a compiled artifact (from `Component::serialize`) durably.
    pub fn write(&self, sha256: &str, compiled: &[u8]) -> std::io::Result<()> {
        let mut tmp = tempfile::NamedTempFile::new_in(&self.dir)?;
        tmp.write_all(compiled)?;
        tmp.as_file().sync_all()?;
        tmp.persist(self.path(sha256)).map_err(|e| e.error)?;
        Ok(())
    }

    /// Loads a compiled artifact, or `None` when it is missing or unusable.
    pub fn load(&self, sha256: &str) -> Option<Component> {
        let path = self.path(sha256);
        if !path.exists() {
            return None;
        }
        // Safety: the file was written by `write` from `Component::serialize`
        // on an engine with the same key; a file that doesn't match is
        // rejected by wasmtime's header checks and rebuilt.
        #[allow(unsafe_code)]
        let loaded = unsafe { Component::deserialize_file(&self.engine, &path) };
        match loaded {
            Ok(component) => Some(component),
            Err(e) => {
                tracing::warn!(path = %path.display(), error = %e, "compiled artifact unusable; it will be rebuilt");
                None
            }
        }
    }

    /// Removes the artifact for a blob that is gone.
    pub fn remove(&self, sha256: &str) -> std::io::Result<()> {
        match std::fs::remove_file(self.path(sha256)) {
            Err(e) if e.kind() != std::io::ErrorKind::NotFound => Err(e),
            _ => Ok(()),
        }
    }

    /// Hashes of every artifact present for this engine.
    pub fn list(&self) -> std::io::Result<Vec<String>> {
        let mut out = Vec::new();
        for entry in std::fs::read_dir(&self.dir)? {
            let name = entry?.file_name();
            if let Some(hash) = name.to_str().and_then(|n| n.strip_suffix(".cwasm")) {
                out.push(hash.to_owned());
            }
        }
        Ok(out)
    }
}
