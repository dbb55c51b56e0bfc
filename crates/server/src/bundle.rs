//! Reading an uploaded bundle (a gzip-compressed tar) with every limit
//! enforced while the bytes stream in, before anything touches the disk.

use std::collections::BTreeMap;
use std::io::{self, Read};
use std::path::{Component, Path};
use std::sync::Arc;
use std::sync::atomic::{AtomicU8, AtomicU64, Ordering};
use thiserror::Error;

/// How much of a refused upload is still read and discarded, so the client
/// gets the error answer rather than a reset.
pub const DRAIN_BYTES: u64 = 128 << 20;

/// Limits on one upload. The defaults suit apps of a few components.
#[derive(Debug, Clone, Copy)]
pub struct BundleLimits {
    /// Compressed bytes, as uploaded.
    pub max_bundle_bytes: u64,
    /// Uncompressed bytes of all entries together.
    pub max_unpacked_bytes: u64,
    /// Uncompressed bytes of one entry.
    pub max_entry_bytes: u64,
    /// Entries of any kind, directories included. The default leaves room
    /// for the manifest, three components and `[client].assets`' 256 files.
    pub max_entries: usize,
    /// Uncompressed bytes per compressed byte, checked once past 1 MiB.
    pub max_ratio: u64,
}

impl Default for BundleLimits {
    fn default() -> Self {
        Self {
            max_bundle_bytes: 64 << 20,
            max_unpacked_bytes: 256 << 20,
            max_entry_bytes: 64 << 20,
            max_entries: 512,
            max_ratio: 100,
        }
    }
}

/// Why a bundle was refused.
#[derive(Debug, Error)]
pub enum BundleError {
    #[error(
        "the upload is empty: send a bundle (a .tar.gz with lodge.toml at its root) as the request body"
    )]
    Empty,
    #[error(
        "the bundle is not gzip-compressed: send a .tar.gz with lodge.toml at its root (`lodge app push` makes one)"
    )]
    NotGzip,
    #[error("the bundle is truncated or damaged ({0}); upload it again")]
    Damaged(String),
    #[error("the bundle is larger than the limit of {limit} bytes compressed")]
    TooLarge { limit: u64 },
    #[error("the bundle unpacks to more than the limit of {limit} bytes")]
    UnpackedTooLarge { limit: u64 },
    #[error("bundle entry {path} is larger than the limit of {limit} bytes")]
    EntryTooLarge { path: String, limit: u64 },
    #[error("the bundle has more than {limit} entries")]
    TooManyEntries { limit: usize },
    #[error(
        "the bundle expands more than {limit}x (it looks like a zip bomb); components compress far less than that"
    )]
    Ratio { limit: u64 },
    #[error("bundle entry {path:?} is not allowed: entries must be relative paths without `..`")]
    UnsafePath { path: String },
    #[error("bundle entry {path} is a {kind}; bundles may hold only regular files and directories")]
    NotAFile { path: String, kind: &'static str },
    #[error("the bundle has two entries named {path}")]
    Duplicate { path: String },
}

/// The regular files of a bundle, by normalized relative path.
#[derive(Debug, Default)]
pub struct Bundle {
    pub files: BTreeMap<String, Vec<u8>>,
}

/// Which limit a reader tripped, shared between the readers and `classify`.
#[derive(Clone, Default)]
struct Tripped(Arc<AtomicU8>);

const COMPRESSED: u8 = 1;
const UNPACKED: u8 = 2;
const RATIO: u8 = 3;

impl Tripped {
    fn trip(&self, which: u8) -> io::Error {
        self.0.store(which, Ordering::Relaxed);
        io::Error::other("bundle limit reached")
    }
    fn get(&self) -> u8 {
        self.0.load(Ordering::Relaxed)
    }
}

/// Counts bytes read through it and fails past a limit.
struct Counted<R> {
    inner: R,
    count: Arc<AtomicU64>,
    limit: u64,
    tripped: Tripped,
    which: u8,
}

impl<R: Read> Read for Counted<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        let total = self.count.fetch_add(n as u64, Ordering::Relaxed) + n as u64;
        if total > self.limit {
            return Err(self.tripped.trip(self.which));
        }
        Ok(n)
    }
}

/// Fails when the decompressed stream grows too fast for its compressed size.
struct Ratio<R> {
    inner: R,
    compressed: Arc<AtomicU64>,
    unpacked: Arc<AtomicU64>,
    max_ratio: u64,
    tripped: Tripped,
}

impl<R: Read> Read for Ratio<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        let unpacked = self.unpacked.load(Ordering::Relaxed);
        let compressed = self.compressed.load(Ordering::Relaxed).max(1);
        if unpacked > (1 << 20) && unpacked / compressed > self.max_ratio {
            return Err(self.tripped.trip(RATIO));
        }
        Ok(n)
    }
}

/// Normalizes an entry path to `a/b/c`, refusing anything that could escape.
fn entry_path(path: &Path) -> Result<String, BundleError> {
    let unsafe_path = || BundleError::UnsafePath {
        path: path.to_string_lossy().into_owned(),
    };
    let mut parts = Vec::new();
    for component in path.components() {
        match component {
            Component::Normal(part) => parts.push(part.to_str().ok_or_else(unsafe_path)?),
            Component::CurDir => {}
            Component::ParentDir | Component::RootDir | Component::Prefix(_) => {
                return Err(unsafe_path());
            }
        }
    }
    Ok(parts.join("/"))
}

/// Normalizes a path named in a manifest the way entry paths are, or `None`
/// when it could never name an entry.
pub fn normalize(path: &str) -> Option<String> {
    entry_path(Path::new(path)).ok().filter(|p| !p.is_empty())
}

/// Reads a whole bundle from `input` (the compressed bytes as they arrive).
/// Blocking: run it on a blocking thread.
pub fn read_bundle(input: impl Read, limits: &BundleLimits) -> Result<Bundle, BundleError> {
    let tripped = Tripped::default();
    let compressed = Arc::new(AtomicU64::new(0));
    let unpacked = Arc::new(AtomicU64::new(0));
    let mut input = Counted {
        inner: input,
        count: compressed.clone(),
        limit: limits.max_bundle_bytes,
        tripped: tripped.clone(),
        which: COMPRESSED,
    };
    // Check the gzip magic ourselves, so "not gzip" isn't reported as damage.
    let mut magic = [0u8; 2];
    let mut got = 0;
    while got < 2 {
        match input.read(&mut magic[got..]) {
            Ok(0) => break,
            Ok(n) => got += n,
            Err(e) => return Err(classify(e, &tripped, limits)),
        }
    }
    match (got, magic) {
        (0, _) => return Err(BundleError::Empty),
        (2, [0x1f, 0x8b]) => {}
        _ => return Err(BundleError::NotGzip),
    }
    let decoder = flate2::read::GzDecoder::new(io::Cursor::new(magic).chain(input));
    let decoded = Ratio {
        inner: Counted {
            inner: decoder,
            count: unpacked.clone(),
            limit: limits.max_unpacked_bytes,
            tripped: tripped.clone(),
            which: UNPACKED,
        },
        compressed,
        unpacked,
        max_ratio: limits.max_ratio,
        tripped: tripped.clone(),
    };
    let fail = |e: io::Error| classify(e, &tripped, limits);
    let mut archive = tar::Archive::new(decoded);
    let mut bundle = Bundle::default();
    let mut entries = 0usize;
    for entry in archive.entries().map_err(fail)? {
        let mut entry = entry.map_err(fail)?;
        entries += 1;
        if entries > limits.max_entries {
            return Err(BundleError::TooManyEntries {
                limit: limits.max_entries,
            });
        }
        let raw_path = entry.path().map_err(fail)?.into_owned();
        let path = entry_path(&raw_path)?;
        let kind = match entry.header().entry_type() {
            tar::EntryType::Regular | tar::EntryType::Continuous => None,
            // Directories, and the pax global header `git archive` writes, carry no file.
            tar::EntryType::Directory | tar::EntryType::XGlobalHeader => continue,
            tar::EntryType::Symlink => Some("symbolic link"),
            tar::EntryType::Link => Some("hard link"),
            tar::EntryType::Char => Some("character device"),
            tar::EntryType::Block => Some("block device"),
            tar::EntryType::Fifo => Some("named pipe"),
            _ => Some("special entry"),
        };
        if let Some(kind) = kind {
            return Err(BundleError::NotAFile { path, kind });
        }
        let declared = entry.header().size().map_err(fail)?;
        if declared > limits.max_entry_bytes {
            return Err(BundleError::EntryTooLarge {
                path,
                limit: limits.max_entry_bytes,
            });
        }
        let mut bytes = Vec::with_capacity(declared as usize);
        entry.read_to_end(&mut bytes).map_err(fail)?;
        if bundle.files.contains_key(&path) {
            return Err(BundleError::Duplicate { path });
        }
        bundle.files.insert(path, bytes);
    }
    // Read to the end of the gzip stream so its checksum is verified.
    io::copy(&mut archive.into_inner(), &mut io::sink()).map_err(fail)?;
    Ok(bundle)
}

/// Turns a read failure into the limit it hit, or into "damaged".
fn classify(e: io::Error, tripped: &Tripped, limits: &BundleLimits) -> BundleError {
    match tripped.get() {
        COMPRESSED => BundleError::TooLarge {
            limit: limits.max_bundle_bytes,
        },
        UNPACKED => BundleError::UnpackedTooLarge {
            limit: limits.max_unpacked_bytes,
        },
        RATIO => BundleError::Ratio {
            limit: limits.max_ratio,
        },
        _ => BundleError::Damaged(e.to_string()),
    }
}
