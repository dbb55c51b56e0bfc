//! Content-addressed blobs: the bytes of every component, stored once.

use crate::{Result, StoreError, blocking};
use async_trait::async_trait;
use sha2::{Digest, Sha256};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::SystemTime;

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
///
/// Garbage collection relies on two promises (see `delete_if_older`): a
/// blob's age restarts whenever it is stored, and a conditional delete
/// never removes a blob stored again after its cutoff.
#[async_trait]
pub trait BlobStore: Send + Sync + 'static {
    /// Stores `bytes` durably and returns their SHA-256. Storing bytes that
    /// are already there is cheap, and makes the blob young again: its age,
    /// which garbage collection reads, restarts now.
    async fn put(&self, bytes: Vec<u8>) -> Result<String>;
    /// The bytes stored under `sha256`, if any.
    async fn get(&self, sha256: &str) -> Result<Option<Vec<u8>>>;
    /// Whether a blob is stored under `sha256`.
    async fn contains(&self, sha256: &str) -> Result<bool>;
    /// Removes a blob whatever its age; a missing blob is not an error.
    /// Garbage collection uses `delete_if_older` instead.
    async fn delete(&self, sha256: &str) -> Result<()>;
    /// Removes a blob unless it was stored (or stored again) at or after
    /// `cutoff`; returns whether it went. This is atomic with respect to
    /// `put`: a put of the same bytes racing with it either finds the blob
    /// gone and writes it again, or keeps it.
    async fn delete_if_older(&self, sha256: &str, cutoff: SystemTime) -> Result<bool>;
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
        if refresh(&path).map_err(StoreError::io("refreshing a blob"))? {
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

    /// The blocking half of `delete_if_older`. The blob is first renamed out
    /// of `put`'s sight (into `tmp`, emptied at every start), then its age is
    /// read again: a put that refreshed it before the rename wins, and it goes
    /// back; a put after the rename finds it missing and writes it anew.
    fn delete_if_older_sync(&self, sha256: &str, cutoff: SystemTime) -> Result<bool> {
        let path = self.path(sha256);
        let young = |path: &Path| -> std::io::Result<bool> {
            Ok(std::fs::metadata(path)?.modified()? >= cutoff)
        };
        match young(&path) {
            Ok(true) => return Ok(false),
            Ok(false) => {}
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(false),
            Err(e) => return Err(StoreError::io("reading a blob's age")(e)),
        }
        static ASIDE: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
        let n = ASIDE.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let aside = self
            .tmp
            .join(format!("collected-{sha256}-{}-{n}", std::process::id()));
        match std::fs::rename(&path, &aside) {
            Ok(()) => {}
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(false),
            Err(e) => return Err(StoreError::io("setting a blob aside")(e)),
        }
        if young(&aside).map_err(StoreError::io("reading a blob's age"))? {
            // Stored again meanwhile: it stays (over an identical copy, if a
            // put wrote one after the rename).
            std::fs::rename(&aside, &path).map_err(StoreError::io("putting a blob back"))?;
            return Ok(false);
        }
        std::fs::remove_file(&aside).map_err(StoreError::io("removing a blob"))?;
        Ok(true)
    }
}

/// Restarts the age of the blob at `path`, if there is one: sets its
/// modification time to now, then checks that the file it changed is still
/// the one at `path` (a collection may have set it aside meanwhile).
/// Returns whether the blob is there, now young.
fn refresh(path: &Path) -> std::io::Result<bool> {
    use std::os::unix::fs::MetadataExt;
    let file = match std::fs::File::open(path) {
        Ok(file) => file,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(false),
        Err(e) => return Err(e),
    };
    file.set_modified(SystemTime::now())?;
    let touched = file.metadata()?;
    match std::fs::metadata(path) {
        Ok(now) => Ok(now.ino() == touched.ino() && now.dev() == touched.dev()),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(false),
        Err(e) => Err(e),
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

    async fn contains(&self, sha256: &str) -> Result<bool> {
        if !is_sha256_hex(sha256) {
            return Ok(false);
        }
        tokio::fs::try_exists(self.path(sha256))
            .await
            .map_err(StoreError::io("looking for a blob"))
    }

    async fn delete_if_older(&self, sha256: &str, cutoff: SystemTime) -> Result<bool> {
        if !is_sha256_hex(sha256) {
            return Ok(false);
        }
        let (this, sha256) = (self.clone(), sha256.to_owned());
        blocking(move || this.delete_if_older_sync(&sha256, cutoff)).await
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
    async fn a_conditional_delete_spares_a_blob_stored_after_its_cutoff() {
        let dir = tempfile::tempdir().unwrap();
        let store = FsBlobStore::open(&dir.path().join("blobs"), &dir.path().join("tmp")).unwrap();
        let hash = store.put(b"young".to_vec()).await.unwrap();
        let before = SystemTime::now() - std::time::Duration::from_secs(3600);
        assert!(!store.delete_if_older(&hash, before).await.unwrap());
        assert!(store.contains(&hash).await.unwrap());
        // An hour old, then stored again: young again, so it stays.
        let path = store.path(&hash);
        let old = SystemTime::now() - std::time::Duration::from_secs(7200);
        std::fs::File::open(&path)
            .unwrap()
            .set_modified(old)
            .unwrap();
        store.put(b"young".to_vec()).await.unwrap();
        assert!(!store.delete_if_older(&hash, before).await.unwrap());
        std::fs::File::open(&path)
            .unwrap()
            .set_modified(old)
            .unwrap();
        assert!(store.delete_if_older(&hash, before).await.unwrap());
        assert!(!store.contains(&hash).await.unwrap());
        assert!(!store.delete_if_older(&hash, before).await.unwrap());
        assert_eq!(
            std::fs::read_dir(dir.path().join("tmp")).unwrap().count(),
            0
        );
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
