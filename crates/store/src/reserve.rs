//! A file of reserved disk space, given up when the disk is full so that
//! deleting (which writes too: SQLite's WAL grows before space is freed) can
//! still run and free space.

use std::io::Write;
use std::path::{Path, PathBuf};

/// `bytes` of real (not sparse) data in one file.
#[derive(Debug, Clone)]
pub struct DiskReserve {
    path: PathBuf,
    bytes: u64,
}

impl DiskReserve {
    pub fn new(path: &Path, bytes: u64) -> Self {
        Self {
            path: path.to_owned(),
            bytes,
        }
    }

    /// Whether the reserve is in place at its full size.
    pub fn is_held(&self) -> bool {
        std::fs::metadata(&self.path).is_ok_and(|m| m.len() >= self.bytes)
    }

    /// Makes sure the reserve is in place; returns whether it is. Writes real
    /// bytes (a sparse file would hold no space); when the disk has no room
    /// for all of it, what was written is removed again, so taking the
    /// reserve back never fills the disk itself.
    pub fn hold(&self) -> bool {
        if self.bytes == 0 || self.is_held() {
            return true;
        }
        match self.write() {
            Ok(()) => {
                tracing::info!(path = %self.path.display(), mib = self.bytes >> 20, "disk reserve in place");
                true
            }
            Err(e) => {
                let _ = std::fs::remove_file(&self.path);
                tracing::warn!(path = %self.path.display(), error = %e, "could not put the disk reserve in place; will try again after the next delete");
                false
            }
        }
    }

    fn write(&self) -> std::io::Result<()> {
        let mut file = std::fs::File::create(&self.path)?;
        let chunk = vec![0u8; 1 << 20];
        let mut left = self.bytes;
        while left > 0 {
            let n = left.min(chunk.len() as u64) as usize;
            file.write_all(&chunk[..n])?;
            left -= n as u64;
        }
        file.sync_all()
    }

    /// Gives the space back to the filesystem. Returns whether there was a
    /// reserve to give.
    pub fn release(&self) -> bool {
        match std::fs::remove_file(&self.path) {
            Ok(()) => {
                tracing::warn!(path = %self.path.display(), mib = self.bytes >> 20, "the disk is full: released the disk reserve so deletes can run");
                true
            }
            Err(_) => false,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_reserve_holds_real_bytes_and_releases_them() {
        let dir = tempfile::tempdir().unwrap();
        let reserve = DiskReserve::new(&dir.path().join("reserve"), 3 << 20);
        assert!(!reserve.is_held());
        assert!(reserve.hold());
        assert!(reserve.is_held());
        assert_eq!(
            std::fs::metadata(dir.path().join("reserve")).unwrap().len(),
            3 << 20
        );
        assert!(reserve.release());
        assert!(!reserve.is_held());
        assert!(!reserve.release());
    }
}
