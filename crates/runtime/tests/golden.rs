//! Golden tests of the capability table's checks: each `tests/golden/*.toml`
//! beside the exact error a manifest declaring those capabilities gets (or
//! `(accepted)`). The manifest's own golden tests are in `crates/manifest`.
//!
//! Run with `LODGE_BLESS=1` to rewrite the `.err` files after an intended change.

use lodge_runtime::capabilities::parse_manifest;
use std::path::Path;

#[test]
fn every_capability_misuse_produces_its_exact_error() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/golden");
    let bless = std::env::var_os("LODGE_BLESS").is_some();
    let mut entries: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "toml"))
        .collect();
    entries.sort();
    let mut failures = Vec::new();
    for toml_path in &entries {
        let text = std::fs::read(toml_path).unwrap();
        let actual = match parse_manifest(&text) {
            Ok(_) => "(accepted)".to_owned(),
            Err(e) => e.to_string(),
        };
        let err_path = toml_path.with_extension("err");
        if bless {
            std::fs::write(&err_path, format!("{actual}\n")).unwrap();
        }
        let expected = std::fs::read_to_string(&err_path)
            .unwrap_or_else(|_| panic!("{} has no .err file beside it", toml_path.display()));
        if expected.trim_end() != actual {
            failures.push(format!(
                "{}\n  expected: {}\n  actual:   {}",
                toml_path.display(),
                expected.trim_end(),
                actual
            ));
        }
    }
    assert!(entries.len() >= 6, "only {} golden cases", entries.len());
    assert!(
        failures.is_empty(),
        "golden mismatches:\n{}",
        failures.join("\n")
    );
}
