//! The files of `[client].assets` in an upload: each listed file must be in
//! the bundle, and the list within this server's limits on count, size per
//! file and size per version. Checked before any component is compiled.

use super::error::PublishError;
use crate::bundle::{self, Bundle};
use lodge_manifest::Manifest;
use lodge_store::{AssetRecord, sha256_hex};

/// What one version's assets may be.
#[derive(Debug, Clone, Copy)]
pub struct AssetLimits {
    /// Files listed (the manifest allows at most `lodge_manifest::MAX_ASSETS`).
    pub max_count: usize,
    /// Bytes of one file.
    pub max_file_bytes: u64,
    /// Bytes of all of a version's files together.
    pub max_total_bytes: u64,
}

impl Default for AssetLimits {
    fn default() -> Self {
        Self {
            max_count: lodge_manifest::MAX_ASSETS,
            max_file_bytes: 8 << 20,
            max_total_bytes: 32 << 20,
        }
    }
}

/// An asset of the bundle, checked, not yet stored.
pub(super) struct CheckedAsset {
    pub record: AssetRecord,
    pub bytes: Vec<u8>,
}

/// The listed assets of `bundle`, in the manifest's order.
pub(super) fn check_assets(
    manifest: &Manifest,
    bundle: &Bundle,
    limits: &AssetLimits,
) -> Result<Vec<CheckedAsset>, PublishError> {
    let Some(client) = &manifest.client else {
        return Ok(Vec::new());
    };
    let listed = &client.assets;
    if listed.len() > limits.max_count {
        return Err(PublishError::TooManyAssets {
            count: listed.len(),
            limit: limits.max_count,
        });
    }
    let mut checked = Vec::with_capacity(listed.len());
    let mut total = 0u64;
    for name in listed {
        let bytes = bundle::normalize(name)
            .and_then(|path| bundle.files.get(&path))
            .ok_or_else(|| PublishError::AssetMissing {
                name: name.clone(),
                listing: super::listing(bundle),
            })?;
        let size = bytes.len() as u64;
        if size > limits.max_file_bytes {
            return Err(PublishError::AssetTooLarge {
                name: name.clone(),
                size,
                limit: limits.max_file_bytes,
            });
        }
        total += size;
        if total > limits.max_total_bytes {
            return Err(PublishError::AssetsTooLarge {
                name: name.clone(),
                total,
                limit: limits.max_total_bytes,
            });
        }
        checked.push(CheckedAsset {
            record: AssetRecord {
                name: name.clone(),
                sha256: sha256_hex(bytes),
                size,
            },
            bytes: bytes.clone(),
        });
    }
    Ok(checked)
}
