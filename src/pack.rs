//! Packing an app directory into a bundle: lodge.toml plus the components
//! and the `[client].assets` it names.

use anyhow::{Context, bail};
use lodge_manifest::{MANIFEST_FILE, Manifest};
use std::io::Write;
use std::path::Path;

/// A packed bundle, ready to upload.
pub struct Packed {
    pub manifest: Manifest,
    pub bytes: Vec<u8>,
}

/// Reads `dir/lodge.toml` and the components it names, and packs them as a
/// gzip-compressed tar. Components are stored as `room.wasm`, `client.wasm`
/// and `http.wasm`, with the manifest pointing at those names, so a
/// manifest may name components anywhere (like a shared target folder).
/// Assets keep their listed paths (relative to `dir`), which are the names
/// a client reads them by. The same inputs always give the same bytes.
pub fn pack(dir: &Path) -> anyhow::Result<Packed> {
    pack_as(dir, None)
}

/// Like [`pack`], with `[app].version` replaced by `version` when given
/// (`lodge dev` publishes each rebuild as a new pre-release).
pub fn pack_as(dir: &Path, version: Option<semver::Version>) -> anyhow::Result<Packed> {
    pack_with(dir, |manifest| {
        if let Some(version) = version {
            manifest.app.version = version;
        }
    })
}

/// Like [`pack`], with the manifest changed by `edit` first.
pub fn pack_with(dir: &Path, edit: impl FnOnce(&mut Manifest)) -> anyhow::Result<Packed> {
    let manifest_path = dir.join(MANIFEST_FILE);
    let bytes = std::fs::read(&manifest_path).with_context(|| {
        format!(
            "reading {} (an app directory holds a lodge.toml; see docs/manifest.md)",
            manifest_path.display()
        )
    })?;
    let mut manifest = lodge_runtime::capabilities::parse_manifest(&bytes)
        .with_context(|| manifest_path.display().to_string())?;
    edit(&mut manifest);
    let mut packed_manifest = manifest.clone();
    let mut files = Vec::new();
    for part in manifest.parts() {
        let path = dir.join(part.component);
        let bytes = match std::fs::read(&path) {
            Ok(bytes) => bytes,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => bail!(
                "[{}].component = \"{}\": {} does not exist; build it first (for Rust: cargo build --release --target wasm32-wasip2)",
                part.role,
                part.component,
                path.display()
            ),
            Err(e) => return Err(e).with_context(|| format!("reading {}", path.display())),
        };
        let name = format!("{}.wasm", part.role);
        packed_manifest.set_component(part.role, name.clone());
        files.push((name, bytes));
    }
    let assets = manifest.client.as_ref().map_or(&[][..], |c| &c.assets[..]);
    for asset in assets {
        if asset == MANIFEST_FILE || files.iter().any(|(name, _)| name == asset) {
            bail!(
                "[client].assets lists \"{asset}\", which is where the bundle keeps {}; move or rename the asset",
                if asset == MANIFEST_FILE {
                    "the manifest"
                } else {
                    "a component"
                }
            );
        }
        let path = dir.join(asset);
        let bytes = match std::fs::read(&path) {
            Ok(bytes) => bytes,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => bail!(
                "[client].assets lists \"{asset}\", but {} does not exist (asset paths are relative to the app directory)",
                path.display()
            ),
            Err(e) => return Err(e).with_context(|| format!("reading asset {}", path.display())),
        };
        files.push((asset.clone(), bytes));
    }
    let mut builder = tar::Builder::new(flate2::write::GzEncoder::new(
        Vec::new(),
        flate2::Compression::default(),
    ));
    let mut add = |name: &str, bytes: &[u8]| -> std::io::Result<()> {
        let mut header = tar::Header::new_ustar();
        header.set_size(bytes.len() as u64);
        header.set_mode(0o644);
        header.set_mtime(0);
        header.set_entry_type(tar::EntryType::Regular);
        builder.append_data(&mut header, name, bytes)
    };
    add(MANIFEST_FILE, packed_manifest.to_toml().as_bytes())?;
    for (name, bytes) in &files {
        add(name, bytes)?;
    }
    let mut encoder = builder.into_inner()?;
    encoder.flush()?;
    Ok(Packed {
        manifest,
        bytes: encoder.finish()?,
    })
}
