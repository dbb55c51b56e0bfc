//! Content-addressed blobs: the bytes of every component, stored once.

use crate::{Result, StoreError, blocking};
use async_trait::async_trait;
use sha2::{Digest, Sha256};
use std::io::Write;
use std::path::{Path, PathBuf};

/// The lower-case hex SHA-256 of `bytes`: a blob's address.
pub fn sha256_hex(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

fn is_sha256_hex(s: &str) -> bool {
    s.len() == 64
        && s.bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
}

/// Where blobs live.
#[async_trait]
pub trait BlobStore: Send + Sync + 'static {
    /// Stores `bytes` durably and returns their SHA-256. Storing bytes that
    /// are already there is a cheap no-op.
    async fn put(&self, bytes: Vec<u8>) -> Result<String>;
    /// The bytes stored under `sha256`, if any.
    async fn get(&self, sha256: &str) -> Result<Option<Vec<u8>>>;
    /// Removes a blob; a missing blob is not an error.
    async fn delete(&self, sha256: &str) -> Result<()>;
    /// Every stored blob's hash.
    async fn list(&self) -> Result<Vec<String>>;
}

/// Blobs as files: `<root>/sha256/<first two hex digits>/<hash>`, written to
/// a temporary file in `<tmp>`, fsynced, then renamed into place.
#[derive(Debug, Clone)]
pub struct FsBlobStore {
    root: PathBuf,
    tmp: PathBuf,
}

impl FsBlobStore {
    /// Opens (creating) the store. `tmp` must be on the same filesystem as
    /// `root` so renames are atomic; leftovers from a crash are removed.
    pub fn open(root: &Path, tmp: &Path) -> Result<Self> {
        std::fs::create_dir_all(root.join("sha256"))
            .map_err(StoreError::io("creating the blob folder"))?;
        std::fs::create_dir_all(tmp).map_err(StoreError::io("creating the temp folder"))?;
        for entry in std::fs::read_dir(tmp).map_err(StoreError::io("reading the temp folder"))? {
            let path = entry
                .map_err(StoreError::io("reading the temp folder"))?
                .path();
            let removed = if path.is_dir() {
                std::fs::remove_dir_all(&path)
            } else {
                std::fs::remove_file(&path)
            };
            match removed {
                Ok(()) => {
                    tracing::info!(path = %path.display(), "removed a leftover temporary file")
                }
                Err(e) => {
                    tracing::warn!(path = %path.display(), error = %e, "could not remove a leftover temporary file")
                }
            }
        }
        Ok(Self {
            root: root.to_owned(),
            tmp: tmp.to_owned(),
        })
    }

    fn path(&self, sha256: &str) -> PathBuf {
        self.root.join("sha256").join(&sha256[..2]).join(sha256)
    }

    fn put_sync(&self, bytes: &[u8]) -> Result<String> {
        let hash = sha256_hex(bytes);
        let path = self.path(&hash);
        if path.exists() {
            return Ok(hash);
        }
        let dir = path.parent().expect("blob paths have a parent");
        let created_shard = !dir.is_dir();
        std::fs::create_dir_all(dir).map_err(StoreError::io("creating a blob folder"))?;
        let mut tmp = tempfile::NamedTempFile::new_in(&self.tmp)
            .map_err(StoreError::io("creating a temp file"))?;
        tmp.write_all(bytes)
            .map_err(StoreError::io("storing the component (a blob)"))?;
        tmp.as_file()
            .sync_all()
            .map_err(StoreError::io("syncing a blob"))?;
        tmp.persist(&path)
            .map_err(|e| StoreError::io("renaming a blob into place")(e.error))?;
        // Make the rename itself durable (an acknowledged upload survives a
        // power loss), and the shard folder's own entry when it is new.
        sync_dir(dir).map_err(StoreError::io("syncing a blob folder"))?;
        if created_shard {
            sync_dir(&self.root.join("sha256"))
                .map_err(StoreError::io("syncing the blob folder"))?;
        }
        Ok(hash)
    }
}

/// Flushes a folder's entries (a rename or a new file in it) to the disk.
fn sync_dir(dir: &Path) -> std::io::Result<()> {
    std::fs::File::open(dir)?.sync_all()
}

#[async_trait]
impl BlobStore for FsBlobStore {
    async fn put(&self, bytes: Vec<u8>) -> Result<String> {
        let this = self.clone();
        blocking(move || this.put_sync(&bytes)).await
    }

    async fn get(&self, sha256: &str) -> Result<Option<Vec<u8>>> {
        if !is_sha256_hex(sha256) {
            return Ok(None);
        }
        match tokio::fs::read(self.path(sha256)).await {
            Ok(bytes) => Ok(Some(bytes)),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(StoreError::io("reading a blob")(e)),
        }
    }

    async fn delete(&self, sha256: &str) -> Result<()> {
        if !is_sha256_hex(sha256) {
            return Ok(());
        }
        match tokio::fs::remove_file(self.path(sha256)).await {
            Err(e) if e.kind() != std::io::ErrorKind::NotFound => {
                Err(StoreError::io("removing a blob")(e))
            }
            _ => Ok(()),
        }
    }

    async fn list(&self) -> Result<Vec<String>> {
        let root = self.root.join("sha256");
        blocking(move || {
            let mut out = Vec::new();
            for shard in std::fs::read_dir(&root).map_err(StoreError::io("listing blobs"))? {
                let shard = shard.map_err(StoreError::io("listing blobs"))?;
                if !shard.path().is_dir() {
                    continue;
                }
                for blob in
                    std::fs::read_dir(shard.path()).map_err(StoreError::io("listing blobs"))?
                {
                    let name = blob.map_err(StoreError::io("listing blobs"))?.file_name();
                    if let Some(name) = name.to_str().filter(|n| is_sha256_hex(n)) {
                        out.push(name.to_owned());
                    }
                }
            }
            out.sort();
            Ok(out)
        })
        .await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn put_is_content_addressed_and_leaves_no_temp_files() {
        let dir = tempfile::tempdir().unwrap();
        let store = FsBlobStore::open(&dir.path().join("blobs"), &dir.path().join("tmp")).unwrap();
        let a = store.put(b"hello".to_vec()).await.unwrap();
        let b = store.put(b"hello".to_vec()).await.unwrap();
        assert_eq!(a, b);
        assert_eq!(a, sha256_hex(b"hello"));
        assert_eq!(store.get(&a).await.unwrap().unwrap(), b"hello");
        assert_eq!(store.list().await.unwrap(), vec![a.clone()]);
        assert_eq!(
            std::fs::read_dir(dir.path().join("tmp")).unwrap().count(),
            0
        );
        store.delete(&a).await.unwrap();
        assert!(store.get(&a).await.unwrap().is_none());
        assert!(store.get("../../etc/passwd").await.unwrap().is_none());
    }

    #[tokio::test]
    async fn leftover_temp_files_are_removed_on_open() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(dir.path().join("tmp")).unwrap();
        std::fs::write(dir.path().join("tmp/.tmpABC"), b"half a blob").unwrap();
        FsBlobStore::open(&dir.path().join("blobs"), &dir.path().join("tmp")).unwrap();
        assert_eq!(
            std::fs::read_dir(dir.path().join("tmp")).unwrap().count(),
            0
        );
    }
}
