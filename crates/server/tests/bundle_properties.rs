//! Property tests for the bundle reader: random bytes and truncated or
//! mutated bundles never panic it; each is read within the limits or
//! refused with a `BundleError` that says what is wrong.

use lodge_server::BundleLimits;
use lodge_server::bundle::{BundleError, read_bundle};
use proptest::prelude::*;

/// Small limits, so random input reaches them too.
fn limits() -> BundleLimits {
    BundleLimits {
        max_bundle_bytes: 64 << 10,
        max_unpacked_bytes: 256 << 10,
        max_entry_bytes: 32 << 10,
        max_entries: 8,
        max_ratio: 50,
    }
}

/// A valid bundle of `files` (path, bytes), as `lodge app push` makes one.
fn bundle(files: &[(String, Vec<u8>)]) -> Vec<u8> {
    let mut builder = tar::Builder::new(flate2::write::GzEncoder::new(
        Vec::new(),
        flate2::Compression::default(),
    ));
    for (name, bytes) in files {
        let mut header = tar::Header::new_gnu();
        header.set_size(bytes.len() as u64);
        header.set_mode(0o644);
        header.set_entry_type(tar::EntryType::Regular);
        builder
            .append_data(&mut header, name, bytes.as_slice())
            .unwrap();
    }
    builder.into_inner().unwrap().finish().unwrap()
}

fn files() -> impl Strategy<Value = Vec<(String, Vec<u8>)>> {
    prop::collection::vec(
        (
            "[a-z]{1,8}(/[a-z]{1,8}){0,2}\\.(toml|wasm|txt)",
            prop_oneof![
                prop::collection::vec(any::<u8>(), 0..2048),
                (0..40_000usize).prop_map(|n| vec![0u8; n]),
            ],
        ),
        0..10,
    )
}

/// Reads `bytes` and checks the answer.
fn check(bytes: &[u8]) -> Result<(), TestCaseError> {
    let limits = limits();
    match read_bundle(bytes, &limits) {
        Ok(bundle) => {
            let total: usize = bundle.files.values().map(Vec::len).sum();
            prop_assert!(total as u64 <= limits.max_unpacked_bytes);
            prop_assert!(bundle.files.len() <= limits.max_entries);
            for (path, file) in &bundle.files {
                prop_assert!(file.len() as u64 <= limits.max_entry_bytes, "{path}");
                prop_assert!(
                    !path.starts_with('/') && !path.split('/').any(|p| p == ".."),
                    "{path}"
                );
            }
        }
        Err(e) => {
            let message = e.to_string();
            prop_assert!(
                message.starts_with("the bundle")
                    || message.starts_with("bundle entry")
                    || message.starts_with("the upload"),
                "{message}"
            );
            if let BundleError::Damaged(reason) = &e {
                prop_assert!(!reason.is_empty());
            }
        }
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 300, failure_persistence: None, ..ProptestConfig::default() })]

    #[test]
    fn random_bytes_are_refused_clearly(bytes in prop::collection::vec(any::<u8>(), 0..4096)) {
        check(&bytes)?;
    }

    #[test]
    fn random_bytes_after_the_gzip_magic_are_refused_clearly(bytes in prop::collection::vec(any::<u8>(), 0..4096)) {
        let mut input = vec![0x1f, 0x8b, 8, 0];
        input.extend(bytes);
        check(&input)?;
    }

    #[test]
    fn valid_bundles_are_read_within_the_limits(files in files()) {
        check(&bundle(&files))?;
    }

    #[test]
    fn truncated_and_mutated_bundles_are_refused_clearly(
        files in files(),
        cut in any::<prop::sample::Index>(),
        flips in prop::collection::vec((any::<prop::sample::Index>(), any::<u8>()), 0..8),
    ) {
        let whole = bundle(&files);
        let mut mutated = whole[..cut.index(whole.len() + 1)].to_vec();
        if !mutated.is_empty() {
            for (at, byte) in &flips {
                let at = at.index(mutated.len());
                mutated[at] ^= byte;
            }
        }
        check(&mutated)?;
    }

    #[test]
    fn mutated_tar_inside_valid_gzip_is_refused_clearly(
        files in files(),
        flips in prop::collection::vec((any::<prop::sample::Index>(), any::<u8>()), 1..8),
    ) {
        // Damage the tar stream itself, then compress it properly, so the
        // gzip layer passes and the tar reader sees the damage.
        let mut tar = {
            let mut builder = tar::Builder::new(Vec::new());
            for (name, bytes) in &files {
                let mut header = tar::Header::new_gnu();
                header.set_size(bytes.len() as u64);
                header.set_mode(0o644);
                header.set_entry_type(tar::EntryType::Regular);
                builder.append_data(&mut header, name, bytes.as_slice()).unwrap();
            }
            builder.into_inner().unwrap()
        };
        if !tar.is_empty() {
            for (at, byte) in &flips {
                let at = at.index(tar.len());
                tar[at] ^= byte;
            }
        }
        let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        std::io::Write::write_all(&mut gz, &tar).unwrap();
        check(&gz.finish().unwrap())?;
    }
}
